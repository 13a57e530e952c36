"""solar_radiation through processing.run: geographic and projected grids, methods, masks."""

import bad_input
import declared
import numpy as np
import pytest
from osgeo import osr
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

from mine_eco_plugin.core import solar


def test_geographic_grid_equals_daily_sums(run, tmp_path):
    # 3 × 4 cells of 0.5° around 20°S (centres at −19.25 … −20.25).
    reference = write_raster(
        tmp_path / "ref.tif", np.ones((3, 4)), epsg=4326, origin=(30.0, -19.0), pixel=0.5
    )
    results = run("solar_radiation", {"REFERENCE": reference, "METHOD": 2,
                                      "OUTPUT": str(tmp_path / "ra.tif")})  # fmt: skip
    ra, dataset = read_raster(results["OUTPUT"])
    assert ra.shape == (12, 3, 4)
    latitude = np.array([-19.25, -19.75, -20.25])
    # September of a 365-day year: days 244–273.
    september = [solar.extraterrestrial_daily(lat, np.arange(244, 274)).sum() for lat in latitude]
    np.testing.assert_allclose(ra[8, :, 0], september, rtol=1e-5)
    assert dataset.GetMetadata()["DERIVED"].startswith("yes")
    assert dataset.GetRasterBand(9).GetDescription() == "September"


def test_projected_grid_many_blocks_and_methods(run, tmp_path, monkeypatch):
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")  # many small blocks
    values = np.ones((60, 70), np.float32)
    values[0, 0] = -9999
    reference = write_raster(tmp_path / "ref.tif", values, nodata=-9999, pixel=1000.0)
    dem = write_raster(tmp_path / "dem.tif", np.full((60, 70), 500.0, np.float32), pixel=1000.0)
    clear = run("solar_radiation", {"REFERENCE": reference, "ELEVATION": dem,
                                    "OUTPUT": str(tmp_path / "c.tif")})  # fmt: skip
    angstrom = run(
        "solar_radiation",
        {
            "REFERENCE": reference,
            "METHOD": 1,
            "SUNSHINE": "0.4",
            "YEAR": 2000,
            "OUTPUT": str(tmp_path / "a.tif"),
        },
    )
    # Exact latitude of every pixel centre (UTM 32N → WGS 84).
    utm, wgs = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(32632)
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x = 500000.0 + (np.arange(70) + 0.5) * 1000
    y = 5600000.0 - (np.arange(60) + 0.5) * 1000
    gx, gy = np.meshgrid(x, y)
    transform = osr.CoordinateTransformation(utm, wgs)
    latitude = np.asarray(transform.TransformPoints(np.column_stack([gx.ravel(), gy.ravel()])))
    latitude = latitude[:, 1].reshape(60, 70)
    exact = solar.extraterrestrial_monthly(latitude, step=None)
    # Clear sky at 500 m: (0.75 + 0.01)·Ra; NoData where the reference is NoData.
    got = read_raster(clear["OUTPUT"])[0]
    assert np.isnan(got[:, 0, 0]).all()
    # Latitude is exact every 16th pixel and interpolated between: at 1 km pixels the
    # interpolation error stays below 10⁻⁴° (2·10⁻⁵ of Ra); it shrinks with the pixel size².
    np.testing.assert_allclose(got[:, 1:, :], 0.76 * exact[:, 1:, :], rtol=2e-5)
    # Ångström–Prescott (0.25 + 0.5·0.4)·Ra = 0.45·Ra; 2000 is a leap year.
    leap = solar.extraterrestrial_monthly(latitude, year=2000, step=None)
    got = read_raster(angstrom["OUTPUT"])[0]
    np.testing.assert_allclose(got[:, 1:, :], 0.45 * leap[:, 1:, :], rtol=2e-5)


def test_interpolated_latitudes():
    from mine_eco_plugin.algorithms.solar import latitudes
    from mine_eco_plugin.engine import Grid

    utm, wgs = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(32632)
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(utm, wgs)
    for pixel, tolerance in ((1000.0, 1e-4), (30.0, 1e-7)):
        grid = Grid(100, 80, (300000.0, pixel, 0.0, 5600000.0, 0.0, -pixel), utm.ExportToWkt())
        x = 300000.0 + (np.arange(100) + 0.5) * pixel
        y = 5600000.0 - (np.arange(80) + 0.5) * pixel
        gx, gy = np.meshgrid(x, y)
        exact = np.asarray(transform.TransformPoints(np.column_stack([gx.ravel(), gy.ravel()])))
        np.testing.assert_allclose(
            latitudes(grid, x, y), exact[:, 1].reshape(80, 100), atol=tolerance
        )


def test_sunshine_must_be_one_or_twelve_fractions(run, tmp_path):
    reference = write_raster(tmp_path / "ref.tif", np.ones((2, 2)))
    with pytest.raises(QgsProcessingException, match="SUNSHINE"):
        run("solar_radiation", {"REFERENCE": reference, "METHOD": 1, "SUNSHINE": "0.5,0.6",
                                "OUTPUT": str(tmp_path / "o.tif")})  # fmt: skip
    with pytest.raises(QgsProcessingException, match="SUNSHINE"):
        run("solar_radiation", {"REFERENCE": reference, "METHOD": 1, "SUNSHINE": "1.5",
                                "OUTPUT": str(tmp_path / "o.tif")})  # fmt: skip


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("solar_radiation", lambda d: {"REFERENCE": d.field()})
INPUTS.desktop("solar_radiation", lambda s: {"REFERENCE": s.dem})
INPUTS.case(
    "solar_radiation",
    "sunshine-text",
    lambda d: {"REFERENCE": d.field(), "METHOD": 1, "SUNSHINE": "x"},
    "SUNSHINE",
)
INPUTS.case(
    "solar_radiation",
    "sunshine-above-one",
    lambda d: {"REFERENCE": d.field(), "METHOD": 1, "SUNSHINE": "1.5"},
    "SUNSHINE",
)
INPUTS.case("solar_radiation", "no-crs", lambda d: {"REFERENCE": d.field(epsg=None)}, "REFERENCE")
INPUTS.case(
    "solar_radiation",
    "far-elevation",
    lambda d: {"REFERENCE": d.field(), "ELEVATION": d.field(0, 500, origin=bad_input.FAR)},
    "ELEVATION",
)
INPUTS.case(
    "solar_radiation",
    "positive",
    lambda d: {"REFERENCE": d.field()},
    check=bad_input.within(0, 2000),
)

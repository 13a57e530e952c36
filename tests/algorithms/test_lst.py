"""Land surface temperature through processing.run, including inputs on other grids."""

import math

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal
from rasters import read_raster, wgs84_field, write_raster

K1, K2 = 774.8853, 1321.0789  # Landsat 8 band 10 (USGS Landsat 8 handbook)


def planck(kelvin):
    """Radiance of a black body at ``kelvin`` for band 10: K1 / (exp(K2 / T) − 1)."""
    return K1 / (math.exp(K2 / kelvin) - 1)


def test_lst_radiative_transfer_by_hand(run, tmp_path):
    # Build the at-sensor radiance of a surface at 300 K with ε = 0.99 (NDVI 0.6 > 0.5) through
    # an atmosphere τ = 0.9, L↑ = 0.8, L↓ = 1.3:  L = τ[εB(300) + (1 − ε)L↓] + L↑.
    tau, up, down = 0.9, 0.8, 1.3
    b300 = planck(300.0)  # 9.4921… W·m⁻²·sr⁻¹·µm⁻¹
    radiance_veg = tau * (0.99 * b300 + 0.01 * down) + up
    # A bare pixel (NDVI 0.1, no RED → ε = 0.97) at 310 K.
    radiance_soil = tau * (0.97 * planck(310.0) + 0.03 * down) + up
    thermal = write_raster(
        tmp_path / "l.tif", np.array([[radiance_veg, radiance_soil, -9999]]), nodata=-9999
    )
    ndvi = write_raster(tmp_path / "ndvi.tif", np.array([[0.6, 0.1, 0.3]]))
    out, emis, bt = (tmp_path / n for n in ("lst.tif", "emis.tif", "bt.tif"))
    run(
        "lst",
        {
            "THERMAL": thermal,
            "NDVI": ndvi,
            "SENSOR": 0,
            "TAU": tau,
            "L_UP": up,
            "L_DOWN": down,
            "OUTPUT": str(out),
            "OUTPUT_EMISSIVITY": str(emis),
            "OUTPUT_BRIGHTNESS": str(bt),
        },
    )
    lst = read_raster(out)[0][0, 0]
    assert lst[0] == pytest.approx(300.0 - 273.15, abs=2e-3)
    assert lst[1] == pytest.approx(310.0 - 273.15, abs=2e-3)
    assert np.isnan(lst[2])
    emissivity = read_raster(emis)[0][0, 0]
    # NDVI 0.3: Pv = ((0.3 − 0.2)/0.3)² = 0.111111; ε = 0.004·0.111111 + 0.986 = 0.986444 — but
    # the radiance is NoData there, so the emissivity output is NoData too.
    np.testing.assert_allclose(emissivity[:2], [0.99, 0.97], atol=1e-6)
    assert np.isnan(emissivity[2])
    brightness = read_raster(bt)[0][0, 0]
    assert brightness[0] == pytest.approx(K2 / math.log(K1 / radiance_veg + 1) - 273.15, abs=2e-3)


def test_lst_red_band_from_stack_sets_soil_emissivity(run, tmp_path):
    thermal = write_raster(tmp_path / "l.tif", np.array([[9.0]]))
    ndvi = write_raster(tmp_path / "ndvi.tif", np.array([[0.05]]))
    stack = write_raster(
        tmp_path / "stack.tif", np.full((6, 1, 1), 0.2) * np.arange(1, 7)[:, None, None]
    )
    emis = tmp_path / "emis.tif"
    run(
        "lst",
        {
            "THERMAL": thermal,
            "NDVI": ndvi,
            "SENSOR": 0,
            "RED": stack,
            "OUTPUT": str(tmp_path / "lst.tif"),
            "OUTPUT_EMISSIVITY": str(emis),
        },
    )
    # Band 3 of the stack is red: 0.2·3 = 0.6; OLI rule ε = 0.973 − 0.047·0.6 = 0.9448.
    assert read_raster(emis)[0][0, 0, 0] == pytest.approx(0.9448, abs=1e-6)


def test_ndvi_on_another_crs_and_resolution_is_aligned(run, tmp_path):
    """THERMAL on UTM 32N at 30 m; NDVI on WGS 84 at a coarser step. The output lies on the
    THERMAL grid and equals the result computed from GDAL's own warp of NDVI onto that grid."""
    rows, cols = 40, 50
    thermal_values = np.linspace(8.0, 11.0, rows * cols, dtype=np.float32).reshape(rows, cols)
    thermal = write_raster(tmp_path / "l.tif", thermal_values, origin=(500000.0, 5600000.0))
    # NDVI on a geographic grid covering the UTM tile with margin: 0.0004° ≈ 28–44 m.
    ndvi = wgs84_field(tmp_path / "ndvi_wgs84.tif")
    out = tmp_path / "lst.tif"
    emis = tmp_path / "emis.tif"
    run(
        "lst",
        {
            "THERMAL": thermal,
            "NDVI": ndvi,
            "SENSOR": 0,
            "OUTPUT": str(out),
            "OUTPUT_EMISSIVITY": str(emis),
        },
    )
    result, dataset = read_raster(emis)
    reference = gdal.Open(thermal)
    assert (dataset.RasterXSize, dataset.RasterYSize) == (cols, rows)
    assert dataset.GetGeoTransform() == reference.GetGeoTransform()
    assert dataset.GetSpatialRef().IsSame(reference.GetSpatialRef())
    # Peer: GDAL's warp of the NDVI onto the thermal grid, then the emissivity rule by hand.
    warped = gdal.Warp(
        "",
        ndvi,
        format="MEM",
        outputBounds=(500000.0, 5600000.0 - 30 * rows, 500000.0 + 30 * cols, 5600000.0),
        width=cols,
        height=rows,
        dstSRS=reference.GetProjection(),
        resampleAlg="bilinear",
    ).ReadAsArray()
    pv = ((warped - 0.2) / 0.3) ** 2
    expected = np.where(warped > 0.5, 0.99, np.where(warped >= 0.2, 0.004 * pv + 0.986, 0.97))
    np.testing.assert_allclose(result[0], expected, atol=1e-6)
    assert np.isfinite(read_raster(out)[0]).all()


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("lst", lambda d: bad_input.lst(d))
INPUTS.desktop("lst", lambda s: {"THERMAL": s.thermal, "NDVI": s.ndvi})
INPUTS.case("lst", "ndvi-x10000", lambda d: bad_input.lst(d, NDVI=d.field(-1000, 8000)), "NDVI")
INPUTS.case(
    "lst",
    "no-crs-thermal",
    lambda d: bad_input.lst(d, THERMAL=d.field(8, 11, epsg=None)),
    "THERMAL",
)
INPUTS.case(
    "lst", "far-ndvi", lambda d: bad_input.lst(d, NDVI=d.field(origin=bad_input.FAR)), "NDVI"
)
INPUTS.case(
    "lst",
    "negative-radiance",
    lambda d: bad_input.lst(d, THERMAL=d.field(-5, -1)),
    "THERMAL",
    bad_input.all_nodata(),
)
INPUTS.case("lst", "red-one-band", lambda d: bad_input.lst(d, RED=d.field(bands=2)), "RED")
INPUTS.case(
    "lst",
    "ndvi-coarser",
    lambda d: (lambda t: bad_input.lst(d, THERMAL=t, NDVI=d.coarser(d.field(-0.1, 0.8))))(
        d.field(8, 11)
    ),
    check=bad_input.same_grid_as("THERMAL"),
)

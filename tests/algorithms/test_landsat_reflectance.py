"""Landsat reflectance through processing.run, on real MTL files (fixtures from USGS scenes)."""

import math
import re
import shutil
from pathlib import Path

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

MTL_DIR = Path(__file__).resolve().parents[1] / "core" / "data"
L8_MTL = "LC08_L1TP_195025_20130707_20170503_01_T1_MTL.txt"


def mtl_number(text, key):
    """A value read straight from the MTL text (independent of the plugin's parser)."""
    return float(re.search(rf"^\s*{key} = (\S+)", text, re.M).group(1))


@pytest.fixture
def synthetic_scene(tmp_path):
    """The real Landsat 8 MTL next to small made-up band files with the names it lists."""
    text = (MTL_DIR / L8_MTL).read_text()
    dn = np.array([[0, 5000, 10000], [20000, 30000, 65535]], dtype=np.uint16)
    for band in range(1, 12):
        name = re.search(rf'FILE_NAME_BAND_{band} = "([^"]+)"', text).group(1)
        write_raster(tmp_path / name, dn + band, dtype=2)  # GDT_UInt16
    (tmp_path / L8_MTL).write_text(text)
    return tmp_path, text, dn


def test_toa_reflectance_and_thermal_radiance_by_hand(run, synthetic_scene):
    folder, text, dn = synthetic_scene
    out, thermal = folder / "refl.tif", folder / "l10.tif"
    results = run(
        "landsat_reflectance",
        {"MTL": str(folder / L8_MTL), "OUTPUT": str(out), "OUTPUT_THERMAL": str(thermal)},
    )
    values, dataset = read_raster(out)
    assert dataset.RasterCount == 6
    assert dataset.GetRasterBand(4).GetDescription() == "nir"
    sin_elevation = math.sin(math.radians(mtl_number(text, "SUN_ELEVATION")))  # 58.9968°
    for canonical, oli_band in enumerate(range(2, 8)):
        mult = mtl_number(text, f"REFLECTANCE_MULT_BAND_{oli_band}")  # 2.0e-5
        add = mtl_number(text, f"REFLECTANCE_ADD_BAND_{oli_band}")  # −0.1
        expected = (mult * (dn + oli_band) + add) / sin_elevation
        # e.g. NIR (band 5), DN 10005: (2e-5·10005 − 0.1)/sin(58.99675°)
        #   = 0.1001/0.857115 = 0.116787
        np.testing.assert_allclose(values[canonical].ravel()[1:], expected.ravel()[1:], rtol=2e-6)
    # DN 0 is the Level-1 fill value; here every band file holds DN + band ≥ 1 at (0, 0):
    assert np.isfinite(values[:, 0, 0]).all()
    radiance = read_raster(thermal)[0][0]
    # Band 10: 3.342e-4·(30000 + 10) + 0.1 = 10.12934 W·m⁻²·sr⁻¹·µm⁻¹
    assert radiance[1, 1] == pytest.approx(3.342e-4 * 30010 + 0.1, rel=1e-6)
    assert results["SENSOR"] == "landsat8_b10"


def test_fill_value_in_one_band_is_nodata_in_all(run, synthetic_scene):
    folder, text, dn = synthetic_scene
    red = re.search(r'FILE_NAME_BAND_4 = "([^"]+)"', text).group(1)
    data = (dn + 4).astype(np.uint16)
    data[0, 2] = 0
    # Remove first: GDAL's GTiff Create() on an existing Landsat band deletes the dataset with
    # its side files — and GDAL counts the scene's _MTL.txt among them.
    (folder / red).unlink()
    write_raster(folder / red, data, dtype=2)
    out = folder / "refl.tif"
    run("landsat_reflectance", {"MTL": str(folder / L8_MTL), "OUTPUT": str(out)})
    values = read_raster(out)[0]
    assert np.isnan(values[:, 0, 2]).all()
    assert np.isfinite(values[:, 0, 1]).all()


def test_mtl_missing_a_field_names_it(run, synthetic_scene):
    folder, text, _ = synthetic_scene
    (folder / L8_MTL).write_text(re.sub(r".*REFLECTANCE_MULT_BAND_4 = .*\n", "", text))
    with pytest.raises(QgsProcessingException, match="MTL.*REFLECTANCE_MULT_BAND_4"):
        run("landsat_reflectance", {"MTL": str(folder / L8_MTL), "OUTPUT": str(folder / "r.tif")})


def test_mtl_without_band_files_names_the_file(run, tmp_path):
    shutil.copy(MTL_DIR / L8_MTL, tmp_path / L8_MTL)
    with pytest.raises(QgsProcessingException, match=r"MTL.*B2\.TIF"):
        run(
            "landsat_reflectance",
            {"MTL": str(tmp_path / L8_MTL), "OUTPUT": str(tmp_path / "r.tif")},
        )


def test_stack_with_scale_and_offset(run, tmp_path):
    # Collection-2 Level-2: 2.75e-5·DN − 0.2; DN 10000 → 0.075, DN 30000 → 0.625, DN 0 → fill.
    data = np.array([[[0, 10000, 30000]]] * 6, dtype=np.uint16)
    stack = write_raster(tmp_path / "sr.tif", data, dtype=2)
    out = tmp_path / "refl.tif"
    run("landsat_reflectance", {"INPUT": stack, "OUTPUT": str(out)})
    values = read_raster(out)[0]
    np.testing.assert_allclose(values[:, 0, 1:], [[0.075, 0.625]] * 6, rtol=1e-6)
    assert np.isnan(values[:, 0, 0]).all()


def test_neither_mtl_nor_stack_is_an_error(run, tmp_path):
    with pytest.raises(QgsProcessingException, match="MTL"):
        run("landsat_reflectance", {"OUTPUT": str(tmp_path / "r.tif")})


@pytest.mark.data
def test_real_landsat8_scene_marburg(run, marburg_dir, tmp_path):
    """MARBURG (r-cran-satellite): the real L8 2013-07-07 scene, 41×41 px, Int16 band files.
    Expected values: the USGS formula applied by hand to the band files with the coefficients
    read from the MTL text."""
    out = tmp_path / "refl.tif"
    run("landsat_reflectance", {"MTL": str(marburg_dir / L8_MTL), "OUTPUT": str(out)})
    values, dataset = read_raster(out)
    b2 = read_raster(marburg_dir / L8_MTL.replace("MTL.txt", "B2.TIF"))[1]
    assert dataset.GetGeoTransform() == b2.GetGeoTransform()
    assert (dataset.RasterXSize, dataset.RasterYSize) == (41, 41)
    text = (marburg_dir / L8_MTL).read_text()
    sin_elevation = math.sin(math.radians(mtl_number(text, "SUN_ELEVATION")))
    for canonical, oli_band in enumerate(range(2, 8)):
        dn = read_raster(marburg_dir / L8_MTL.replace("MTL.txt", f"B{oli_band}.TIF"))[0][0]
        mult = mtl_number(text, f"REFLECTANCE_MULT_BAND_{oli_band}")
        add = mtl_number(text, f"REFLECTANCE_ADD_BAND_{oli_band}")
        np.testing.assert_allclose(values[canonical], (mult * dn + add) / sin_elevation, rtol=2e-6)
    assert np.isfinite(values).all()
    assert values.min() > 0 and values.max() < 1
    # Fields and woods around Marburg in July: the greenest tenth has NDVI above 0.7.
    ndvi = (values[3] - values[2]) / (values[3] + values[2])
    assert np.percentile(ndvi, 90) > 0.7


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------


def landsat_scene(d):
    """The real Landsat 8 MTL beside small made-up band files with the names it lists."""
    text = (MTL_DIR / L8_MTL).read_text()
    shape = (bad_input.ROWS, bad_input.COLS)
    dn = np.random.default_rng(3).integers(5000, 30000, shape).astype(np.uint16)
    for band in range(1, 12):
        name = re.search(rf'FILE_NAME_BAND_{band} = "([^"]+)"', text).group(1)
        write_raster(d.folder / name, dn + band, dtype=gdal.GDT_UInt16)
    (d.folder / L8_MTL).write_text(text)
    return {"MTL": str(d.folder / L8_MTL)}


INPUTS = declared.Inputs()
INPUTS.valid("landsat_reflectance", lambda d: landsat_scene(d))
INPUTS.desktop("landsat_reflectance", lambda s: {"INPUT": s.dn})
INPUTS.case("landsat_reflectance", "neither", lambda d: {}, ("MTL", "INPUT"))
INPUTS.case(
    "landsat_reflectance", "three-bands", lambda d: {"INPUT": d.field(0, 30000, bands=3)}, "INPUT"
)
INPUTS.case(
    "landsat_reflectance",
    "malformed-mtl",
    lambda d: {"MTL": d.text("GROUP = L1\nnonsense\n", ".txt")},
    "MTL",
)
INPUTS.case(
    "landsat_reflectance",
    "no-crs",
    lambda d: {"INPUT": d.field(7000, 20000, bands=6, epsg=None)},
    "INPUT",
)
INPUTS.case(
    "landsat_reflectance",
    "all-fill",
    lambda d: {"INPUT": d.constant(0, bands=6)},
    "INPUT",
    bad_input.all_nodata(),
)

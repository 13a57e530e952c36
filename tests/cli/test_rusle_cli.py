"""The RUSLE chain headless through qgis_process on real layers: JACKSBORO (DEM) and CLIMATE
(monthly precipitation), with constant stand-ins for the soil and cover factors."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from rasters import read_raster, write_raster

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def samples():
    spec = importlib.util.spec_from_file_location("rusle_samples", SCRIPTS / "rusle_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def layers(sample_data, tmp_path_factory):
    helpers = samples()
    folder = tmp_path_factory.mktemp("rusle-cli")
    npz = sample_data("jacksboro") / "jacksboro_fault_dem.npz"
    return {
        "folder": folder,
        "dem": helpers.jacksboro_utm(npz, folder),
        "dem_wgs84": helpers.jacksboro_geographic(npz, folder),
        "rain": helpers.climate_precipitation(sample_data("climate") / "bcsd_obs_1999.nc", folder),
    }


def test_help_lists_the_chain(qgis_process):
    listing = qgis_process.call("list").stdout
    for algorithm in ("rusle_r", "rusle_k", "rusle_ls", "rusle_c", "rusle_p", "rusle"):
        assert f"mineeco:{algorithm}" in listing
    assert "17.02" in qgis_process.call("help", "mineeco:rusle_r").stdout


def test_jacksboro_ls_and_soil_loss(qgis_process, layers):
    out = layers["folder"]
    ls = qgis_process.run(
        "rusle_ls",
        DEM=layers["dem"],
        OUTPUT=out / "ls.tif",
        OUTPUT_SLOPE=out / "slope.tif",
        OUTPUT_ACCUMULATION=out / "acc.tif",
    )["results"]
    values = read_raster(ls["OUTPUT"])[0][0]
    accumulation = read_raster(ls["OUTPUT_ACCUMULATION"])[0][0]
    dem = read_raster(layers["dem"])[0][0]
    assert np.isnan(values).sum() == np.isnan(dem).sum()
    # Every cell drains somewhere: the outlets' accumulations add up to the valid cells.
    assert np.nanmax(accumulation) > 1000
    assert 0 < np.nanmedian(values) < 20 and np.nanmax(values) > 10
    slope = read_raster(ls["OUTPUT_SLOPE"])[0][0]
    assert 0 < np.nanmedian(slope) < 45

    r = qgis_process.run(
        "rusle_r", PRECIPITATION=layers["rain"], REFERENCE=layers["dem"], OUTPUT=out / "r.tif"
    )["results"]
    rain_r = read_raster(r["OUTPUT"])[0][0]
    # 1999 rainfall of ~1200 mm in Tennessee/Kentucky: R of the order of 10³ SI units.
    assert 300 < np.nanmedian(rain_r) < 5000
    shape = values.shape
    stand_ins = {
        name: write_raster(out / f"{name}.tif", np.full(shape, value), epsg=32616)
        for name, value in (("K", 0.03), ("C", 0.1), ("P", 1.0))
    }
    reference = gdal.Open(layers["dem"])
    for path in stand_ins.values():
        target = gdal.Open(path, gdal.GA_Update)
        target.SetGeoTransform(reference.GetGeoTransform())
        target = None
    result = qgis_process.run(
        "rusle",
        R=r["OUTPUT"],
        K=stand_ins["K"],
        LS=ls["OUTPUT"],
        C=stand_ins["C"],
        P=stand_ins["P"],
        REFERENCE=layers["dem"],
        OUTPUT=out / "a.tif",
        OUTPUT_CLASSES=out / "classes.tif",
        OUTPUT_TABLE=out / "classes.csv",
    )["results"]
    classes = gdal.Open(result["OUTPUT_CLASSES"]).ReadAsArray()
    assert set(np.unique(classes)) <= set(range(7)) and (classes > 0).any()
    assert (out / "classes.qml").exists()
    assert result["MEAN"] > 0


def test_geographic_dem_is_refused(qgis_process, layers):
    done = qgis_process.run(
        "rusle_ls", check=False, DEM=layers["dem_wgs84"], OUTPUT=layers["folder"] / "no.tif"
    )
    assert done["returncode"] != 0
    assert "geographic CRS" in done["output"] and "eproject" in done["output"]

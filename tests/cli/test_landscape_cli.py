"""Landscape, VHI and DDI through qgis_process.bin on real data (NC-LC, L8-FL, MARBURG)."""

import numpy as np
import pytest
from osgeo import gdal
from rasters import read_raster

from mine_eco_plugin.core import landscape, vhi

ALGORITHMS = (
    "landscape_metrics",
    "biological_abundance",
    "human_activity_index",
    "ecological_elasticity",
    "vhi",
    "desertification_index",
)


def test_listed_with_help(qgis_process):
    listing = qgis_process.call("list").stdout
    for algorithm in ALGORITHMS:
        assert f"mineeco:{algorithm}" in listing
    assert "SHDI = −Σᵢ pᵢ·ln pᵢ" in qgis_process.call("help", "mineeco:landscape_metrics").stdout
    assert "VHI = α·VCI + (1 − α)·TCI" in qgis_process.call("help", "mineeco:vhi").stdout


def test_nc_lc_window_metrics_equal_the_kernel(qgis_process, sample_data, tmp_path):
    strata = sample_data("nc-lc") / "strata.tif"
    names = ("SHDI", "FN", "NP")
    results = qgis_process.run(
        "landscape_metrics",
        INPUT=strata,
        WINDOW=33,
        **{f"OUTPUT_{n}": tmp_path / f"{n}.tif" for n in names},
    )["results"]
    cover = read_raster(strata)[0][0]
    expected = landscape.window_metrics(cover, list(range(1, 8)), 33)
    for name, field in zip(names, ("shdi", "fn", "n_patches"), strict=True):
        written = read_raster(results[f"OUTPUT_{name}"])[0][0]
        np.testing.assert_allclose(written, getattr(expected, field), rtol=1e-6, err_msg=name)
    # Plausible ranges: SHDI within [0, ln 7], NP ≥ 1 wherever there is land cover.
    shdi = read_raster(results["OUTPUT_SHDI"])[0][0]
    assert 0 <= np.nanmin(shdi) and np.nanmax(shdi) <= np.log(7)


def test_l8_fl_ddi_fit_equals_numpy(qgis_process, l8_fl_dir, tmp_path):
    qgis_process.run(
        "landsat_reflectance",
        MTL=l8_fl_dir / "LC80200392015216LGN00_MTL.txt",
        OUTPUT=tmp_path / "refl.tif",
    )
    qgis_process.run("ndvi", INPUT=tmp_path / "refl.tif", OUTPUT=tmp_path / "ndvi.tif")
    qgis_process.run("albedo", INPUT=tmp_path / "refl.tif", OUTPUT=tmp_path / "albedo.tif")
    results = qgis_process.run(
        "desertification_index",
        NDVI=tmp_path / "ndvi.tif",
        ALBEDO=tmp_path / "albedo.tif",
        OUTPUT=tmp_path / "ddi.tif",
    )["results"]
    # The same normalisation and least squares with numpy on the whole arrays.
    ndvi = read_raster(tmp_path / "ndvi.tif")[0][0]
    albedo = read_raster(tmp_path / "albedo.tif")[0][0]
    keep = ~(np.isnan(ndvi) | np.isnan(albedo))
    n = (ndvi[keep] - ndvi[keep].min()) / np.ptp(ndvi[keep])
    a = (albedo[keep] - albedo[keep].min()) / np.ptp(albedo[keep])
    slope, intercept = np.polyfit(n, a, 1)
    assert slope < 0
    assert results["SLOPE"] == pytest.approx(slope, rel=1e-6)
    assert results["INTERCEPT"] == pytest.approx(intercept, rel=1e-6)
    assert results["K"] == pytest.approx(-1 / slope, rel=1e-6)
    assert results["R2"] == pytest.approx(np.corrcoef(n, a)[0, 1] ** 2, rel=1e-6)
    ddi = read_raster(results["OUTPUT"])[0][0]
    np.testing.assert_allclose(ddi[keep], -n / slope - a, atol=1e-5)
    assert float(gdal.Open(results["OUTPUT"]).GetMetadataItem("K")) == pytest.approx(-1 / slope)


def test_marburg_two_dates_vhi(qgis_process, marburg_dir, tmp_path):
    dates = {
        "2001": ("LE07_L1TP_195025_20010730_20170204_01_T1_MTL.txt", 3),
        "2013": ("LC08_L1TP_195025_20130707_20170503_01_T1_MTL.txt", 0),
    }
    for year, (mtl, sensor) in dates.items():
        qgis_process.run(
            "landsat_reflectance",
            MTL=marburg_dir / mtl,
            OUTPUT=tmp_path / f"refl{year}.tif",
            OUTPUT_THERMAL=tmp_path / f"rad{year}.tif",
        )
        qgis_process.run(
            "ndvi", INPUT=tmp_path / f"refl{year}.tif", OUTPUT=tmp_path / f"n{year}.tif"
        )
        qgis_process.run(
            "lst",
            THERMAL=tmp_path / f"rad{year}.tif",
            NDVI=tmp_path / f"n{year}.tif",
            SENSOR=sensor,
            OUTPUT=tmp_path / f"t{year}.tif",
        )
    # Two dates: repeat the multiple-layer parameters.
    args = ["--json", "run", "mineeco:vhi", "--"]
    args += [f"NDVI={tmp_path / f'n{y}.tif'}" for y in dates]
    args += [f"LST={tmp_path / f't{y}.tif'}" for y in dates]
    args += [f"OUTPUT_{n}={tmp_path / f'{n}2.tif'}" for n in ("VCI", "TCI", "VHI")]
    qgis_process.call(*args)
    ndvi = np.stack([read_raster(tmp_path / f"n{y}.tif")[0][0] for y in dates])
    kelvin = np.stack([read_raster(tmp_path / f"t{y}.tif")[0][0] for y in dates])
    expected = vhi.condition_indices(ndvi, kelvin)[2]
    written = read_raster(tmp_path / "VHI2.tif")[0]
    assert written.shape == (2, 41, 41)
    np.testing.assert_allclose(written, expected, atol=1e-6)

"""The driver algorithms as users run them headless: qgis_process.bin with QGIS's own (system)
Python, which must find scikit-learn (Debian: python3-sklearn) for rf_driver_contribution."""

import csv
import json

import numpy as np
import pytest
from osgeo import gdal
from rasters import read_raster, write_raster

from mine_eco_plugin.core import drivers

MARBURG_L8 = "LC08_L1TP_195025_20130707_20170503_01_T1"


def run_with_layers(qgis_process, algorithm, **parameters):
    """Like qgis_process.run, with list values given once per item (multiple layers)."""
    args = ["--json", "run", f"mineeco:{algorithm}", "--"]
    for key, value in parameters.items():
        for item in value if isinstance(value, list) else [value]:
            args.append(f"{key}={item}")
    done = qgis_process.call(*args)
    return json.loads(done.stdout[done.stdout.index("{") :])


def test_help_states_formulas_and_installation(qgis_process):
    rf_help = qgis_process.call("help", "mineeco:rf_driver_contribution").stdout
    assert "ActCon_c = ŷ_all − ŷ_¬c" in rf_help
    assert "python3-sklearn" in rf_help
    local_help = qgis_process.call("help", "mineeco:local_correlation").stdout
    assert "r = Cxy / √(Cxx·Cyy)" in local_help


def test_local_correlation_on_marburg_red_and_nir(qgis_process, marburg_dir, tmp_path):
    """Real data: Landsat 8 red (B4) and NIR (B5) DN of the MARBURG scene, 41×41 pixels."""
    red = marburg_dir / f"{MARBURG_L8}_B4.TIF"
    nir = marburg_dir / f"{MARBURG_L8}_B5.TIF"
    result = qgis_process.run(
        "local_correlation",
        INPUT_X=red,
        INPUT_Y=nir,
        WINDOW=7,
        OUTPUT_R=tmp_path / "r.tif",
        OUTPUT_P=tmp_path / "p.tif",
        OUTPUT_CLASS=tmp_path / "class.tif",
    )["results"]
    x = gdal.Open(str(red)).ReadAsArray().astype(np.float64)
    y = gdal.Open(str(nir)).ReadAsArray().astype(np.float64)
    expected = drivers.local_correlation(x, y, 7)
    r = read_raster(tmp_path / "r.tif")[0][0]
    np.testing.assert_allclose(r, expected.r, atol=1e-6)
    classes = gdal.Open(str(tmp_path / "class.tif")).ReadAsArray()
    counts = np.bincount(classes.ravel(), minlength=4)
    # The numeric outputs reach the JSON as numbers and match the class raster.
    assert isinstance(result["SHARE_NEGATIVE"], float)
    assert result["SHARE_NEGATIVE"] == pytest.approx(100 * counts[2] / counts[1:].sum())
    assert result["PIXELS"] == 41 * 41
    # Red and NIR DN: negative over vegetation (NIR up, red down), positive where brightness
    # varies (fields, roads): both classes occur on the scene.
    assert counts[1] > 50 and counts[2] > 50


def test_rf_and_pearson_through_qgis_process(qgis_process, tmp_path):
    rng = np.random.default_rng(12)
    shape = (40, 60)
    a, b, c = (rng.uniform(-1, 1, shape) for _ in range(3))
    target = 100 + 8 * a + 4 * b + rng.normal(0, 0.2, shape)
    paths = [
        write_raster(tmp_path / f"{name}.tif", values.astype(np.float32))
        for name, values in (("npp", target), ("mat", a), ("soc", b), ("ld", c))
    ]
    result = run_with_layers(
        qgis_process,
        "rf_driver_contribution",
        TARGET=paths[0],
        DRIVERS=paths[1:],
        CATEGORIES="climate,soil,mining",
        POINTS=300,
        TREES=30,
        SEED=3,
        OUTPUT_IMPORTANCE=tmp_path / "importance.csv",
        OUTPUT_SCORES=tmp_path / "scores.csv",
        OUTPUT_RELATIVE=tmp_path / "relative.tif",
        OUTPUT_RGB=tmp_path / "rgb.tif",
        OUTPUT_DOMINANT=tmp_path / "dominant.tif",
        OUTPUT_AREAS=tmp_path / "areas.csv",
    )["results"]
    assert result["OOB_R2"] > 0.8
    with open(tmp_path / "importance.csv", newline="") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    # Variance of 8·a is 4× that of 4·b, c plays no part: climate > soil > mining.
    assert float(rows["climate"]["percent"]) > float(rows["soil"]["percent"]) > 5
    assert float(rows["mining"]["percent"]) < 5
    relative = read_raster(tmp_path / "relative.tif")[0]
    np.testing.assert_allclose(relative.sum(axis=0), 100, atol=1e-3)
    assert (tmp_path / "dominant.qml").exists()

    pearson = run_with_layers(
        qgis_process,
        "pearson_correlation",
        TARGET=paths[0],
        DRIVERS=paths[1:],
        POINTS=500,
        SEED=3,
        OUTPUT=tmp_path / "pearson.csv",
    )["results"]
    with open(pearson["OUTPUT"], newline="") as handle:
        table = {row["driver"]: row for row in csv.DictReader(handle)}
    assert table["mat"]["significance"] == "**" and float(table["mat"]["r"]) > 0.8
    assert int(table["ld"]["n"]) == 500

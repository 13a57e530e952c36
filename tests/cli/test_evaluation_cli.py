"""The evaluation chain as users run it headless: qgis_process.bin with typed-in parameters."""

import csv
import json

import numpy as np
import pytest
from rasters import read_raster, write_raster


def test_ahp_matrix_typed_on_the_command_line(qgis_process, tmp_path):
    # MATRIX=1,3,0.333,1 as in the issue: w = (√3, √0.333)/(1.732051 + 0.577062)
    # = 0.750094, 0.249906; a 2×2 matrix has CR 0.
    out = tmp_path / "ahp.csv"
    result = qgis_process.run("ahp_weights", MATRIX="1,3,0.333,1", OUTPUT=out)["results"]
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], [0.750094, 0.249906], atol=1e-6
    )
    assert result["CR"] == 0
    with open(out, encoding="utf-8") as handle:
        assert [row["name"] for row in csv.DictReader(handle)] == ["C1", "C2"]
    failed = qgis_process.run("ahp_weights", check=False, MATRIX="1,9,0.111,1,9,1", OUTPUT=out)
    assert (
        failed["returncode"] != 0 and "MATRIX: 6 value(s) do not form a square" in failed["output"]
    )
    inconsistent = "1,9,0.1111111,0.1111111,1,9,9,0.1111111,1"
    failed = qgis_process.run("ahp_weights", check=False, MATRIX=inconsistent, OUTPUT=out)
    assert "CR = 6.1303 > 0.1" in failed["output"]


def test_weights_index_classes_chain(qgis_process, tmp_path):
    rng = np.random.default_rng(12)
    layers = []
    for j in range(3):
        data = rng.random((40, 50)).astype(np.float32)
        data[j, :] = -1  # a different NoData row in each layer
        layers.append(write_raster(tmp_path / f"i{j}.tif", data, nodata=-1))
    ahp = qgis_process.run(
        "ahp_weights", MATRIX="1,2,4,0.5,1,2,0.25,0.5,1", OUTPUT=tmp_path / "ahp.csv"
    )["results"]
    # A consistent matrix (a_ij = v_i/v_j, v = 4, 2, 1): w = 4/7, 2/7, 1/7.
    np.testing.assert_allclose(
        [float(w) for w in ahp["WEIGHTS"].split(",")], [4 / 7, 2 / 7, 1 / 7], atol=1e-9
    )
    # A multiple-layer parameter is given by repeating it: INPUTS=a INPUTS=b INPUTS=c.
    args = ["--json", "run", "mineeco:composite_index", "--"]
    args += [f"INPUTS={p}" for p in layers]
    args += [
        "TRENDS=+,-,+",
        "WEIGHT_SOURCE=1",
        f"SUBJECTIVE_WEIGHTS={ahp['WEIGHTS']}",
        f"OUTPUT={tmp_path / 'p.tif'}",
        f"OUTPUT_WEIGHTS={tmp_path / 'w.csv'}",
    ]
    done = qgis_process.call(*args)
    result = json.loads(done.stdout[done.stdout.index("{") :])["results"]
    weights = [float(w) for w in result["WEIGHTS"].split(",")]
    assert sum(weights) == pytest.approx(1.0)
    p = read_raster(tmp_path / "p.tif")[0][0]
    # NoData rows 0, 1, 2 of the layers → NoData in P; 37 × 50 valid pixels.
    assert np.isnan(p[:3]).all() and result["PIXELS"] == 37 * 50
    classes = qgis_process.run(
        "classify_index",
        INPUT=tmp_path / "p.tif",
        OUTPUT=tmp_path / "c.tif",
        OUTPUT_TABLE=tmp_path / "c.csv",
    )["results"]
    assert classes["VALID_AREA_KM2"] == pytest.approx(37 * 50 * 0.0009)
    assert classes["MEAN"] == pytest.approx(float(np.nanmean(p.astype(np.float64))), abs=1e-6)

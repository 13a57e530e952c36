"""normalize and composite_index through processing.run."""

import csv

import bad_input
import declared
import numpy as np
import pytest
from feedback import Recorder
from qgis.core import QgsProcessingException
from rasters import leftovers, read_raster, write_raster

from mine_eco_plugin.core.evaluation_weights import load_preset


def read_table(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def weights_of(text):
    return [float(w) for w in text.split(",")]


# --- normalize --------------------------------------------------------------------------------


@pytest.fixture
def ramp(tmp_path):
    data = np.array([[2, 4, 6], [8, -1, 12]], dtype=np.float32)
    return write_raster(tmp_path / "ramp.tif", data, nodata=-1)


def test_normalize_positive_and_negative(run, ramp, tmp_path):
    out = tmp_path / "n.tif"
    result = run("normalize", {"INPUT": ramp, "OUTPUT": str(out)})
    assert (result["MIN"], result["MAX"]) == (2, 12)
    # (x − 2)/10: 0, 0.2, 0.4, 0.6, NoData, 1 (Eq. 18).
    values, dataset = read_raster(out)
    np.testing.assert_allclose(values[0], [[0, 0.2, 0.4], [0.6, np.nan, 1]], atol=1e-7)
    assert dataset.GetMetadataItem("MIN") == "2.0"
    out = tmp_path / "neg.tif"
    run("normalize", {"INPUT": ramp, "TREND": 1, "OUTPUT": str(out)})
    # Eq. 19: 1 − that.
    np.testing.assert_allclose(read_raster(out)[0][0], [[1, 0.8, 0.6], [0.4, np.nan, 0]], atol=1e-7)


def test_normalize_joint_range_over_years(run, ramp, tmp_path):
    other = write_raster(tmp_path / "y2.tif", np.array([[0, 20]], dtype=np.float32))
    out = tmp_path / "n.tif"
    result = run("normalize", {"INPUT": ramp, "JOINT": [other], "OUTPUT": str(out)})
    # Range over both rasters 0…20: 2 → 0.1, 12 → 0.6.
    assert (result["MIN"], result["MAX"]) == (0, 20)
    np.testing.assert_allclose(read_raster(out)[0][0, 1], [0.4, np.nan, 0.6], atol=1e-7)


def test_normalize_fixed_range_and_clip(run, ramp, tmp_path):
    out = tmp_path / "n.tif"
    run("normalize", {"INPUT": ramp, "MIN": 4, "MAX": 8, "OUTPUT": str(out)})
    # (x − 4)/4 clipped: 2 → 0, 6 → 0.5, 12 → 1.
    np.testing.assert_allclose(read_raster(out)[0][0, 0], [0, 0, 0.5], atol=1e-7)
    run("normalize", {"INPUT": ramp, "MIN": 4, "MAX": 8, "CLIP": False, "OUTPUT": str(out)})
    np.testing.assert_allclose(read_raster(out)[0][0, 1], [1, np.nan, 2], atol=1e-7)


def test_normalize_constant_raster_is_an_error(run, tmp_path):
    flat = write_raster(tmp_path / "flat.tif", np.full((2, 2), 3, dtype=np.float32))
    with pytest.raises(QgsProcessingException, match="INPUT: .*constant"):
        run("normalize", {"INPUT": flat, "OUTPUT": str(tmp_path / "n.tif")})
    assert not (tmp_path / "n.tif").exists()


# --- composite_index --------------------------------------------------------------------------


@pytest.fixture
def three(tmp_path):
    """The hand example of tests/core/test_evaluation_index.py as rasters."""
    a = np.array([[0, 5], [10, -1]], dtype=np.float32)  # positive; NoData at (1, 1)
    b = np.array([[100, 150], [200, 120]], dtype=np.float32)  # negative
    c = np.array([[1, 1], [3, 2]], dtype=np.float32)  # positive
    return [
        write_raster(tmp_path / f"{n}.tif", d, nodata=-1)
        for n, d in zip("abc", (a, b, c), strict=True)
    ]


def given_weights(run, three, tmp_path, **changes):
    """composite_index of ``three`` with the trends +, −, + and the given weights 0.5, 0.3, 0.2
    (and ``changes``), to p.tif and w.csv: (results, index path, weights table path)."""
    out, table = tmp_path / "p.tif", tmp_path / "w.csv"
    parameters = {"INPUTS": three, "TRENDS": "+,-,+", "WEIGHTS": "0.5,0.3,0.2", **changes}
    result = run(
        "composite_index", {**parameters, "OUTPUT": str(out), "OUTPUT_WEIGHTS": str(table)}
    )
    return result, out, table


def test_composite_with_given_weights_by_hand(run, three, tmp_path):
    result, out, table = given_weights(run, three, tmp_path)
    # Ranges over the pixels valid in all three — (0,0), (0,1), (1,0): a 0…10, b 100…200,
    # c 1…3 — give P = 0.3, 0.4, 0.7 (worked in tests/core/test_evaluation_index.py).
    values, dataset = read_raster(out)
    np.testing.assert_allclose(values[0], [[0.3, 0.4], [0.7, np.nan]], atol=1e-6)
    assert result["MEAN"] == pytest.approx((0.3 + 0.4 + 0.7) / 3, abs=1e-6)
    assert result["PIXELS"] == 3
    assert dataset.GetMetadataItem("WEIGHTS") == "0.5,0.3,0.2"
    rows = read_table(table)
    assert [r["trend"] for r in rows] == ["+", "-", "+"]
    assert [float(r["combined"]) for r in rows] == [0.5, 0.3, 0.2]
    assert rows[0]["objective"] == "" and rows[0]["subjective"] == ""
    assert float(rows[1]["minimum"]) == 100 and float(rows[1]["maximum"]) == 200


def test_composite_given_weights_record_the_subjective_weights_given(run, three, tmp_path):
    """Given weights with SUBJECTIVE_WEIGHTS (the AHP half behind them): the index uses the
    given weights; the weights table shows the subjective ones, rescaled to sum 1, beside
    them. No objective weights are computed, so that column stays empty."""
    result, out, table = given_weights(run, three, tmp_path, SUBJECTIVE_WEIGHTS="2,1,1")
    # As test_composite_with_given_weights_by_hand: P = 0.3, 0.4, 0.7 with W = 0.5, 0.3, 0.2.
    np.testing.assert_allclose(read_raster(out)[0][0], [[0.3, 0.4], [0.7, np.nan]], atol=1e-6)
    assert result["WEIGHTS"] == "0.5,0.3,0.2"
    rows = read_table(table)
    # 2, 1, 1 over their sum 4.
    assert [float(r["subjective"]) for r in rows] == [0.5, 0.25, 0.25]
    assert [float(r["combined"]) for r in rows] == [0.5, 0.3, 0.2]
    assert [r["objective"] for r in rows] == ["", "", ""]


def test_composite_weights_not_summing_to_one_are_rescaled_with_a_warning(run, three, tmp_path):
    feedback = Recorder()
    out = tmp_path / "p.tif"
    result = run(
        "composite_index",
        {"INPUTS": three, "TRENDS": "+,-,+", "WEIGHTS": "5,3,2", "OUTPUT": str(out)},
        feedback,
    )
    assert result["WEIGHTS"] == "0.5,0.3,0.2"
    assert any("sum to 10" in w for w in feedback.warnings)
    np.testing.assert_allclose(read_raster(out)[0][0, 0], [0.3, 0.4], atol=1e-6)


def test_composite_combined_weights_follow_eq17(run, three, tmp_path):
    table = tmp_path / "w.csv"
    result = run(
        "composite_index",
        {
            "INPUTS": three,
            "TRENDS": "+,-,+",
            "WEIGHT_SOURCE": 1,
            "SUBJECTIVE_WEIGHTS": "0.6,0.3,0.1",
            "OUTPUT": str(tmp_path / "p.tif"),
            "OUTPUT_WEIGHTS": str(table),
        },
    )
    objective = run(
        "objective_weights",
        {"INPUTS": three, "TRENDS": "+,-,+", "OUTPUT": str(tmp_path / "o.csv")},
    )
    # Same MSE weights as objective_weights on the same layers; combined = (wa + wb)/2.
    wb = np.array(weights_of(objective["WEIGHTS"]))
    np.testing.assert_allclose(weights_of(result["WEIGHTS"]), (np.array([0.6, 0.3, 0.1]) + wb) / 2)
    rows = read_table(table)
    for row, a, b in zip(rows, [0.6, 0.3, 0.1], wb, strict=True):
        assert float(row["subjective"]) == pytest.approx(a)
        assert float(row["objective"]) == pytest.approx(b)
        assert float(row["combined"]) == pytest.approx((a + b) / 2)


def test_composite_objective_only_and_fixed_ranges(run, three, tmp_path):
    out = tmp_path / "p.tif"
    result = run(
        "composite_index",
        {
            "INPUTS": three,
            "TRENDS": "+,-,+",
            "WEIGHTS": "1,1,2",
            "MINIMA": "0,0,0",
            "MAXIMA": "20,400,4",
            "OUTPUT": str(out),
        },
    )
    # W = 0.25, 0.25, 0.5; pixel (0,1): 0.25·5/20 + 0.25·(1 − 150/400) + 0.5·1/4
    # = 0.0625 + 0.15625 + 0.125 = 0.34375.
    assert result["WEIGHTS"] == "0.25,0.25,0.5"
    assert read_raster(out)[0][0, 0, 1] == pytest.approx(0.34375, abs=1e-6)
    result = run(
        "composite_index",
        {"INPUTS": three, "TRENDS": "+,-,+", "WEIGHT_SOURCE": 2, "OUTPUT": str(out)},
    )
    assert sum(weights_of(result["WEIGHTS"])) == pytest.approx(1.0)


def test_composite_errors_name_the_parameter(run, three, tmp_path):
    out = str(tmp_path / "p.tif")
    with pytest.raises(QgsProcessingException, match="WEIGHTS: 2 value"):
        run(
            "composite_index", {"INPUTS": three, "TRENDS": "+,-,+", "WEIGHTS": "1,2", "OUTPUT": out}
        )
    with pytest.raises(QgsProcessingException, match="TRENDS: give one"):
        run("composite_index", {"INPUTS": three, "WEIGHTS": "1,2,3", "OUTPUT": out})
    with pytest.raises(QgsProcessingException, match="WEIGHTS: no weights"):
        run("composite_index", {"INPUTS": three, "TRENDS": "+,-,+", "OUTPUT": out})
    with pytest.raises(QgsProcessingException, match="SUBJECTIVE_WEIGHTS: needed"):
        run(
            "composite_index",
            {"INPUTS": three, "TRENDS": "+,-,+", "WEIGHT_SOURCE": 1, "OUTPUT": out},
        )
    with pytest.raises(QgsProcessingException, match="INPUTS: the preset .* needs 17 layers"):
        run("composite_index", {"INPUTS": three, "PRESET": 1, "OUTPUT": out})
    assert not (tmp_path / "p.tif").exists()


def test_table2_preset(run, tmp_path):
    preset = load_preset("lingbei_2000_2020")
    rng = np.random.default_rng(2)
    layers = [
        write_raster(tmp_path / f"c{j + 1}.tif", rng.random((4, 5)).astype(np.float32))
        for j in range(17)
    ]
    out, table = tmp_path / "p.tif", tmp_path / "w.csv"
    result = run(
        "composite_index",
        {"INPUTS": layers, "PRESET": 1, "OUTPUT": str(out), "OUTPUT_WEIGHTS": str(table)},
    )
    rows = read_table(table)
    assert [r["code"] for r in rows] == [f"C{j}" for j in range(1, 18)]
    assert [r["indicator"] for r in rows] == list(preset.names)
    # Table 2's trend column, C1 … C17, but C1: DDI grows with vegetation, so it enters with
    # + (desertification lowers resilience), not the printed − (see the Table 2 CSV).
    assert "".join(r["trend"] for r in rows) == "+-++--+----+-++--"
    # The combined column is Table 2's (they sum to 1.0000); objective and subjective too.
    assert [float(r["combined"]) for r in rows] == pytest.approx(list(preset.combined))
    assert [float(r["objective"]) for r in rows] == pytest.approx(list(preset.objective))
    assert [float(r["subjective"]) for r in rows] == pytest.approx(list(preset.subjective))
    # P by definition with those weights and trends, ranges over the data.
    data = np.stack([read_raster(p)[0][0] for p in layers])
    low = data.min(axis=(1, 2), keepdims=True)
    high = data.max(axis=(1, 2), keepdims=True)
    t = (data - low) / (high - low)
    t = np.where(np.array(preset.trends)[:, None, None] > 0, t, 1 - t)
    expected = np.tensordot(np.array(preset.combined), t, axes=1)
    np.testing.assert_allclose(read_raster(out)[0][0], expected, atol=1e-5)
    assert result["PIXELS"] == 20


def test_composite_cancel_leaves_nothing(run, tmp_path, cancel_after, monkeypatch):
    rng = np.random.default_rng(1)
    layers = [
        write_raster(tmp_path / f"i{j}.tif", rng.random((700, 700)).astype(np.float32))
        for j in range(3)
    ]
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(
            "composite_index",
            {
                "INPUTS": layers,
                "TRENDS": "+,+,-",
                "WEIGHTS": "1,1,1",
                "OUTPUT": str(tmp_path / "p.tif"),
            },
            cancel_after(3),
        )
    assert not (tmp_path / "p.tif").exists()
    assert leftovers(tmp_path) == []


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid(
    "composite_index", lambda d: {"INPUTS": bad_input.indicators(d), **bad_input.COMPOSITE}
)
INPUTS.desktop(
    "composite_index",
    lambda s: {"INPUTS": list(s.indicators), "TRENDS": s.trends, "WEIGHTS": s.weights},
)
INPUTS.valid("normalize", lambda d: {"INPUT": d.field(-3, 8)})
INPUTS.desktop("normalize", lambda s: {"INPUT": s.index})
INPUTS.case(
    "composite_index",
    "weights-count",
    lambda d: {"INPUTS": bad_input.indicators(d), "TRENDS": "+,-,+", "WEIGHTS": "1,2"},
    "WEIGHTS",
)
INPUTS.case(
    "composite_index",
    "negative-weight",
    lambda d: {"INPUTS": bad_input.indicators(d), "TRENDS": "+,-,+", "WEIGHTS": "1,-2,1"},
    "WEIGHTS",
)
INPUTS.case(
    "composite_index",
    "constant-layer",
    lambda d: {"INPUTS": [*bad_input.indicators(d, 2), d.constant(1.0)], **bad_input.COMPOSITE},
    "INPUTS",
)
INPUTS.case(
    "composite_index",
    "no-crs-layer",
    lambda d: {"INPUTS": [*bad_input.indicators(d, 2), d.field(epsg=None)], **bad_input.COMPOSITE},
    "INPUTS",
)
INPUTS.case(
    "composite_index",
    "other-resolution",
    lambda d: {
        "INPUTS": (lambda x: [x[0], x[1], d.coarser(x[2])])(bad_input.indicators(d)),
        **bad_input.COMPOSITE,
    },
    check=bad_input.same_grid_as("INPUTS"),
)
INPUTS.case(
    "composite_index",
    "range",
    lambda d: {"INPUTS": bad_input.indicators(d), **bad_input.COMPOSITE},
    check=bad_input.within(0, 1),
)
INPUTS.case(
    "composite_index",
    "minima-above-maxima",
    lambda d: {
        "INPUTS": bad_input.indicators(d),
        **bad_input.COMPOSITE,
        "MINIMA": "5,5,5",
        "MAXIMA": "1,1,1",
    },
    ("MINIMA", "MAXIMA"),
)

INPUTS.case("normalize", "constant", lambda d: {"INPUT": d.constant(2.0)}, "INPUT")
INPUTS.case("normalize", "all-nodata", lambda d: {"INPUT": d.nodata()}, "INPUT")
INPUTS.case(
    "normalize", "band-missing", lambda d: {"INPUT": d.field(), "BAND": 2}, ("BAND", "INPUT")
)
INPUTS.case(
    "normalize",
    "min-above-max",
    lambda d: {"INPUT": d.field(), "MIN": 5, "MAX": 1},
    ("MIN", "MAX"),
)
INPUTS.case("normalize", "no-crs", lambda d: {"INPUT": d.field(epsg=None)}, "INPUT")
INPUTS.case("normalize", "range", lambda d: {"INPUT": d.field(-3, 8)}, check=bad_input.within(0, 1))
INPUTS.case(
    "normalize",
    "joint-other-crs",
    lambda d: (lambda x: {"INPUT": x, "JOINT": [d.reprojected(x)]})(d.field(-3, 8)),
    check=bad_input.same_grid_as("INPUT"),
)

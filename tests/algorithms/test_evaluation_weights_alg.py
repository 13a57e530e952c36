"""ahp_weights and objective_weights through processing.run."""

import csv

import bad_input
import declared
import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import write_raster


def read_table(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- ahp_weights ------------------------------------------------------------------------------


def test_ahp_matrix_parameter_by_hand(run, tmp_path):
    out = tmp_path / "ahp.csv"
    result = run(
        "ahp_weights",
        {"MATRIX": [1, 3, 5, 1 / 3, 1, 3, 1 / 5, 1 / 3, 1], "NAMES": "a,b,c", "OUTPUT": str(out)},
    )
    # Hand computation in tests/core/test_evaluation_weights.py: w = 0.636986, 0.258285,
    # 0.104729; λmax = 3.038511, CI = 0.019256, CR = 0.033199.
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], [0.636986, 0.258285, 0.104729], atol=1e-6
    )
    assert result["LAMBDA_MAX"] == pytest.approx(3.038511, abs=1e-6)
    assert result["CI"] == pytest.approx(0.019256, abs=1e-6)
    assert result["CR"] == pytest.approx(0.033199, abs=1e-6)
    rows = read_table(out)
    assert [r["name"] for r in rows] == ["a", "b", "c"]
    assert float(rows[0]["weight"]) == pytest.approx(0.636986, abs=1e-6)
    # Row geometric mean of row 1: 15^(1/3) = 2.466212.
    assert float(rows[0]["geometric_mean"]) == pytest.approx(2.466212, abs=1e-6)


def test_ahp_matrix_as_the_dialog_table(run, provider, tmp_path):
    """The dialog edits MATRIX as a table with one column per criterion (C1 … C17): the same
    3 × 3 matrix in its top-left corner (other cells blank) gives the same weights."""
    definition = provider.algorithm("ahp_weights").parameterDefinition("MATRIX")
    assert definition.headers() == [f"C{j}" for j in range(1, 18)]
    rows = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]
    cells = [value for row in rows for value in row + [""] * 14]
    result = run("ahp_weights", {"MATRIX": cells, "OUTPUT": str(tmp_path / "t.csv")})
    # The weights of test_ahp_matrix_parameter_by_hand.
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], [0.636986, 0.258285, 0.104729], atol=1e-6
    )
    assert result["CR"] == pytest.approx(0.033199, abs=1e-6)
    cells[17 + 1] = ""  # a gap in row 2
    with pytest.raises(QgsProcessingException, match="MATRIX: row 2 has a blank cell"):
        run("ahp_weights", {"MATRIX": cells, "OUTPUT": str(tmp_path / "u.csv")})


def test_ahp_from_csv_with_names(run, tmp_path):
    matrix = tmp_path / "pairs.csv"
    matrix.write_text(",FVC,LST\nFVC,1,4\nLST,0.25,1\n", encoding="utf-8")
    out = tmp_path / "ahp.csv"
    result = run("ahp_weights", {"MATRIX_FILE": str(matrix), "OUTPUT": str(out)})
    # 2×2: w = (√4, √0.25)/(2 + 0.5) = 0.8, 0.2.
    assert result["WEIGHTS"] == "0.8,0.2"
    assert [r["name"] for r in read_table(out)] == ["FVC", "LST"]


@pytest.mark.parametrize(
    "matrix, message",
    [
        ([1, 2, 3], "MATRIX: 3 value"),
        ([1, 3, -1, 1], "MATRIX: entry \\(2, 1\\)"),
        ([1, 3, 0.5, 1], "MATRIX: not reciprocal"),
    ],
)
def test_ahp_bad_matrices_name_the_parameter(run, tmp_path, matrix, message):
    with pytest.raises(QgsProcessingException, match=message):
        run("ahp_weights", {"MATRIX": matrix, "OUTPUT": str(tmp_path / "x.csv")})


# Inconsistent: a13 should be about a12·a23 = 9·9 but is 1/9.
INCONSISTENT = [1, 9, 1 / 9, 1 / 9, 1, 9, 9, 1 / 9, 1]


def test_ahp_inconsistent_matrix_is_an_error_showing_cr(run, tmp_path):
    # λmax = 1 + (a13/(a12·a23))^(1/3) + (a12·a23/a13)^(1/3) = 1 + (1/729)^(1/3) + 729^(1/3)
    # = 1 + 1/9 + 9 = 10.111111; CI = 3.555556; CR = 3.555556/0.58 = 6.1303.
    with pytest.raises(QgsProcessingException, match="CR = 6.1303 > 0.1"):
        run("ahp_weights", {"MATRIX": INCONSISTENT, "OUTPUT": str(tmp_path / "x.csv")})
    result = run(
        "ahp_weights",
        {"MATRIX": INCONSISTENT, "ACCEPT_INCONSISTENT": True, "OUTPUT": str(tmp_path / "y.csv")},
    )
    assert result["CR"] == pytest.approx(6.1303, abs=1e-4)
    # Geometric means are all (9·1/9)^(1/3) = 1: equal weights.
    assert result["WEIGHTS"] == "0.3333333333,0.3333333333,0.3333333333"


def test_ahp_random_index_choices(run, tmp_path):
    v = np.arange(1, 12, dtype=float)
    consistent = list(np.outer(v, 1 / v).ravel())
    with pytest.raises(QgsProcessingException, match="RI_TABLE: .* stops at n = 10"):
        run("ahp_weights", {"MATRIX": consistent, "OUTPUT": str(tmp_path / "a.csv")})
    result = run(
        "ahp_weights", {"MATRIX": consistent, "RI_TABLE": 1, "OUTPUT": str(tmp_path / "b.csv")}
    )
    assert result["RI"] == 1.51
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], v / v.sum(), atol=1e-9
    )
    result = run(
        "ahp_weights",
        {
            "MATRIX": consistent,
            "RI_TABLE": 3,
            "RI_VALUES": ",".join(["1"] * 11),
            "OUTPUT": str(tmp_path / "c.csv"),
        },
    )
    assert result["RI"] == 1.0


# --- objective_weights ------------------------------------------------------------------------


@pytest.fixture
def indicators(tmp_path):
    """Three 3×4 indicators with NoData (−9999) at different pixels; pixels valid in all:
    every pixel but (0, 0), (1, 2) and (2, 3)."""
    nd = -9999.0
    a = np.array([[nd, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], dtype=np.float32)
    b = np.array([[1, 4, 9, 16], [25, 36, nd, 64], [81, 100, 121, 144]], dtype=np.float32)
    c = np.array([[5, 3, 8, 1], [9, 2, 7, 4], [6, 6, 3, nd]], dtype=np.float32)
    paths = [
        write_raster(tmp_path / f"{n}.tif", d, nodata=nd)
        for n, d in zip("abc", (a, b, c), strict=True)
    ]
    common = np.ones((3, 4), bool)
    common[0, 0] = common[1, 2] = common[2, 3] = False
    return paths, np.stack([a[common], b[common], c[common]]).astype(np.float64)


def _by_definition(values, trends, method):
    """Objective weights straight from their definitions on the common valid pixels (numpy)."""
    low = values.min(axis=1, keepdims=True)
    high = values.max(axis=1, keepdims=True)
    x = (values - low) / (high - low)
    x = np.where(np.array(trends)[:, None] > 0, x, 1 - x)
    sigma = x.std(axis=1)
    if method == "mse":
        return sigma / sigma.sum()
    if method == "critic":
        c = sigma * (1 - np.corrcoef(x)).sum(axis=1)
        return c / c.sum()
    p = x / x.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    d = 1 + plogp.sum(axis=1) / np.log(x.shape[1])
    return d / d.sum()


@pytest.mark.parametrize("method_index, method", [(0, "mse"), (1, "entropy"), (2, "critic")])
def test_objective_weights_match_their_definitions(run, indicators, tmp_path, method_index, method):
    paths, values = indicators
    out = tmp_path / f"{method}.csv"
    result = run(
        "objective_weights",
        {"INPUTS": paths, "TRENDS": "+,-,+", "METHOD": method_index, "OUTPUT": str(out)},
    )
    expected = _by_definition(values, [1, -1, 1], method)
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], expected, atol=1e-6
    )
    assert result["PIXELS"] == 9
    rows = read_table(out)
    # Ranges over the pixels valid in all three only: (0, 0) and (2, 3) drop out, so a spans
    # 2…11 (not …12) and b 4…121 (its 1 and 144 lie at those pixels).
    assert float(rows[0]["minimum"]) == 2 and float(rows[0]["maximum"]) == 11
    assert float(rows[1]["minimum"]) == 4 and float(rows[1]["maximum"]) == 121
    assert [r["trend"] for r in rows] == ["+", "-", "+"]


def test_mse_weights_by_hand_on_rasters(run, tmp_path):
    # A = 1, 2, 3, 4 and B = 10, 10, 20, 40 (by hand in tests/core/test_evaluation_weights.py):
    # σ′ = 0.372678, 0.408248 → w = 0.477226, 0.522774.
    a = write_raster(tmp_path / "a.tif", np.array([[1, 2], [3, 4]], dtype=np.float32))
    b = write_raster(tmp_path / "b.tif", np.array([[10, 10], [20, 40]], dtype=np.float32))
    result = run("objective_weights", {"INPUTS": [a, b], "OUTPUT": str(tmp_path / "w.csv")})
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], [0.477226, 0.522774], atol=1e-6
    )


def test_objective_weights_do_not_depend_on_the_block_size(run, tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    data = rng.gamma(2.0, 1.0, size=(3, 600, 700)).astype(np.float32)
    data[0, :50, :50] = -1
    paths = [write_raster(tmp_path / f"i{i}.tif", data[i], nodata=-1) for i in range(3)]
    parameters = {"INPUTS": paths, "TRENDS": "+,+,-", "METHOD": 2}
    whole = run("objective_weights", {**parameters, "OUTPUT": str(tmp_path / "a.csv")})
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")  # many blocks
    blocks = run("objective_weights", {**parameters, "OUTPUT": str(tmp_path / "b.csv")})
    np.testing.assert_allclose(
        [float(w) for w in whole["WEIGHTS"].split(",")],
        [float(w) for w in blocks["WEIGHTS"].split(",")],
        atol=1e-9,
    )
    assert whole["PIXELS"] == blocks["PIXELS"] == 600 * 700 - 2500


def test_objective_weights_with_fixed_ranges_are_clipped(run, tmp_path):
    # Fixed range 0…2 for A = 1, 2, 3, 4 clips to 0.5, 1, 1, 1: σ = √(mean of (−0.375, 0.125,
    # 0.125, 0.125)²) = √(0.1875/4) = 0.216506. B from the data as before: σ = 0.408248.
    # w = 0.216506/0.624754 = 0.346547, 0.653453.
    a = write_raster(tmp_path / "a.tif", np.array([[1, 2], [3, 4]], dtype=np.float32))
    b = write_raster(tmp_path / "b.tif", np.array([[10, 10], [20, 40]], dtype=np.float32))
    result = run(
        "objective_weights",
        {"INPUTS": [a, b], "MINIMA": "0,", "MAXIMA": "2,", "OUTPUT": str(tmp_path / "w.csv")},
    )
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], [0.346547, 0.653453], atol=1e-6
    )


def test_objective_weights_errors(run, indicators, tmp_path):
    paths, _ = indicators
    with pytest.raises(QgsProcessingException, match="TRENDS: 2 trend"):
        run(
            "objective_weights",
            {"INPUTS": paths, "TRENDS": "+,-", "OUTPUT": str(tmp_path / "x.csv")},
        )
    with pytest.raises(QgsProcessingException, match="TRENDS: the entropy"):
        run("objective_weights", {"INPUTS": paths, "METHOD": 1, "OUTPUT": str(tmp_path / "x.csv")})
    constant = write_raster(tmp_path / "k.tif", np.full((3, 4), 7, dtype=np.float32))
    with pytest.raises(QgsProcessingException, match="INPUTS \\(layer 2\\).*constant"):
        run(
            "objective_weights", {"INPUTS": [paths[0], constant], "OUTPUT": str(tmp_path / "x.csv")}
        )
    with pytest.raises(QgsProcessingException, match="MINIMA: 1 entr"):
        run(
            "objective_weights",
            {"INPUTS": paths, "MINIMA": "0", "OUTPUT": str(tmp_path / "x.csv")},
        )


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("ahp_weights", lambda d: {"MATRIX": bad_input.MATRIX3})
# A consistent matrix (CR < 0.1).
INPUTS.desktop("ahp_weights", lambda s: {"MATRIX": [1, 3, 5, 1 / 3, 1, 2, 1 / 5, 1 / 2, 1]})
INPUTS.valid("objective_weights", lambda d: {"INPUTS": bad_input.indicators(d)})
INPUTS.desktop("objective_weights", lambda s: {"INPUTS": list(s.indicators)})
INPUTS.case("ahp_weights", "no-matrix", lambda d: {}, ("MATRIX", "MATRIX_FILE"))
INPUTS.case("ahp_weights", "not-square", lambda d: {"MATRIX": bad_input.MATRIX3[:8]}, "MATRIX")
INPUTS.case(
    "ahp_weights",
    "not-reciprocal",
    lambda d: {"MATRIX": [1, 3, 5, 3, 1, 3, 1 / 5, 1 / 3, 1]},
    "MATRIX",
)
INPUTS.case(
    "ahp_weights", "zero-entry", lambda d: {"MATRIX": [1, 0, 5, 0, 1, 3, 0.2, 1 / 3, 1]}, "MATRIX"
)
INPUTS.case(
    "ahp_weights",
    "inconsistent",
    lambda d: {"MATRIX": [1, 9, 1 / 9, 1 / 9, 1, 9, 9, 1 / 9, 1]},
    ("MATRIX", "CR_THRESHOLD", "ACCEPT_INCONSISTENT"),
)
INPUTS.case(
    "ahp_weights", "csv-malformed", lambda d: {"MATRIX_FILE": d.text("1,3\nx,1\n")}, "MATRIX_FILE"
)
INPUTS.case("ahp_weights", "csv-empty", lambda d: {"MATRIX_FILE": d.text("")}, "MATRIX_FILE")
INPUTS.case(
    "ahp_weights",
    "names-count",
    lambda d: {"MATRIX": bad_input.MATRIX3, "NAMES": "a,b"},
    "NAMES",
)


INPUTS.case(
    "ahp_weights",
    "valid",
    lambda d: {"MATRIX": bad_input.MATRIX3},
    check=bad_input.weights_sum_to_one,
)


INPUTS.case(
    "objective_weights",
    "constant-layer",
    lambda d: {"INPUTS": [*bad_input.indicators(d, 2), d.constant(3.0)]},
    "INPUTS",
)
INPUTS.case(
    "objective_weights",
    "trends-count",
    lambda d: {"INPUTS": bad_input.indicators(d), "TRENDS": "+,-"},
    "TRENDS",
)
INPUTS.case(
    "objective_weights",
    "trends-symbol",
    lambda d: {"INPUTS": bad_input.indicators(d), "TRENDS": "+,?,-"},
    "TRENDS",
)
INPUTS.case(
    "objective_weights", "one-layer", lambda d: {"INPUTS": bad_input.indicators(d, 1)}, "INPUTS"
)
INPUTS.case(
    "objective_weights",
    "far-layer",
    lambda d: {"INPUTS": [*bad_input.indicators(d, 2), d.field(origin=bad_input.FAR)]},
    "INPUTS",
)
INPUTS.case(
    "objective_weights",
    "all-nodata-layer",
    lambda d: {"INPUTS": [*bad_input.indicators(d, 2), d.nodata()]},
    "INPUTS",
)

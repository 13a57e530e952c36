"""weight_sensitivity through processing.run: zero spread reproduces composite_index and
classify_index, stability falls at a class break, seeds reproduce, influence signs, errors."""

import csv
import xml.etree.ElementTree as ElementTree

import bad_input
import declared
import numpy as np
import pytest
from feedback import Recorder
from osgeo import gdal
from qgis.core import QgsProcessingException
from rasters import leftovers, read_raster, write_raster
from scipy import stats

from mine_eco_plugin.core.evaluation_classes import TABLE3_BREAKS, classify
from mine_eco_plugin.core.evaluation_weights import ahp_weights

OUTPUTS = ("OUTPUT_MEAN", "OUTPUT_LOW", "OUTPUT_HIGH", "OUTPUT_CLASS", "OUTPUT_STABILITY")
MATRIX = [1, 3, 5, 1 / 3, 1, 3, 1 / 5, 1 / 3, 1]  # CR = 0.0332 (tests/core)


def read_table(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def outputs(folder, tag=""):
    return {name: str(folder / f"{name.lower()}{tag}.tif") for name in OUTPUTS} | {
        "OUTPUT_INFLUENCE": str(folder / f"influence{tag}.csv")
    }


@pytest.fixture
def indicators(tmp_path):
    """Three 24 × 30 indicators at different scales, NoData (−1) in a corner of the second."""
    rng = np.random.default_rng(12)
    rows, cols = np.mgrid[0:24, 0:30]
    a = (np.sin(cols / 5.0) + rng.random((24, 30)) * 0.3).astype(np.float32) * 10
    b = (rows * 40.0 + rng.random((24, 30)) * 300).astype(np.float32)
    c = (np.cos((rows + cols) / 7.0) * 0.5 + rng.random((24, 30)) * 0.2).astype(np.float32)
    b[:3, :4] = -1
    return [
        write_raster(tmp_path / f"{n}.tif", d, nodata=-1)
        for n, d in zip("abc", (a, b, c), strict=True)
    ]


def test_zero_spread_reproduces_composite_and_classify(run, indicators, tmp_path):
    result = run(
        "weight_sensitivity",
        {
            "INPUTS": indicators,
            "TRENDS": "+,-,+",
            "WEIGHTS": "0.5,0.3,0.2",
            "CONCENTRATION": 1e24,  # Var[W] = w(1 − w)/(κ + 1): zero spread in double
            "DRAWS": 50,
            **outputs(tmp_path),
        },
    )
    composite = run(
        "composite_index",
        {
            "INPUTS": indicators,
            "TRENDS": "+,-,+",
            "WEIGHTS": "0.5,0.3,0.2",
            "OUTPUT": str(tmp_path / "p.tif"),
        },
    )
    classified = run(
        "classify_index", {"INPUT": composite["OUTPUT"], "OUTPUT": str(tmp_path / "c.tif")}
    )
    p = read_raster(composite["OUTPUT"])[0][0]
    mean, low, high = (read_raster(result[name])[0][0] for name in OUTPUTS[:3])
    # Bit for bit: the mean index is composite_index's own arithmetic with the same weights,
    # and every draw equals the mean.
    np.testing.assert_array_equal(mean, p)
    np.testing.assert_array_equal(low, p)
    np.testing.assert_array_equal(high, p)
    codes = gdal.Open(result["OUTPUT_CLASS"]).ReadAsArray()
    np.testing.assert_array_equal(codes, gdal.Open(classified["OUTPUT"]).ReadAsArray())
    stability = read_raster(result["OUTPUT_STABILITY"])[0][0]
    assert np.all(stability[~np.isnan(p)] == 1) and np.all(np.isnan(stability[:3, :4]))
    assert result["STABLE_SHARE"] == 100.0 and result["MEAN_STABILITY"] == 1.0
    assert result["PIXELS"] == 24 * 30 - 12 == composite["PIXELS"]
    assert result["AREA_MEAN"] == pytest.approx(composite["MEAN"], abs=1e-6)
    assert result["AREA_MEAN_LOW"] == pytest.approx(result["AREA_MEAN_HIGH"], abs=1e-12)


def test_unperturbed_matrix_combined_with_objective_weights_is_eq17(run, indicators, tmp_path):
    result = run(
        "weight_sensitivity",
        {
            "INPUTS": indicators,
            "TRENDS": "+,-,+",
            "MATRIX": MATRIX,
            "STEP_PROBABILITY": 0,
            "OBJECTIVE_METHOD": 1,  # mean square error, combined by Eq. 17
            "DRAWS": 20,
            **outputs(tmp_path),
        },
    )
    subjective = ",".join(f"{w:.17g}" for w in ahp_weights(np.reshape(MATRIX, (3, 3))).weights)
    composite = run(
        "composite_index",
        {
            "INPUTS": indicators,
            "TRENDS": "+,-,+",
            "WEIGHT_SOURCE": 1,
            "SUBJECTIVE_WEIGHTS": subjective,
            "OUTPUT": str(tmp_path / "p.tif"),
        },
    )
    assert [float(w) for w in result["WEIGHTS"].split(",")] == pytest.approx(
        [float(w) for w in composite["WEIGHTS"].split(",")], abs=1e-12
    )
    p = read_raster(composite["OUTPUT"])[0][0]
    mean, low, high = (read_raster(result[name])[0][0] for name in OUTPUTS[:3])
    np.testing.assert_allclose(mean, p, atol=1e-7)
    np.testing.assert_array_equal(low, mean)
    np.testing.assert_array_equal(high, mean)
    assert result["INCONSISTENT"] == 0


@pytest.fixture
def at_a_break(tmp_path):
    """Two indicators already on 0–1 (ranges fixed 0…1). Pixel (0, 0): T = (0.82, 0), index
    0.41 with equal weights — the poor/moderate break; (0, 1): T = (0.62, 0.42), index 0.52, far
    inside moderate; (0, 2): NoData."""
    first = np.array([[0.82, 0.62, -1]], dtype=np.float32)
    second = np.array([[0.0, 0.42, 0.3]], dtype=np.float32)
    return [
        write_raster(tmp_path / "t1.tif", first, nodata=-1),
        write_raster(tmp_path / "t2.tif", second, nodata=-1),
    ]


def test_stability_falls_at_a_class_break(run, at_a_break, tmp_path):
    draws_table = tmp_path / "draws.csv"
    result = run(
        "weight_sensitivity",
        {
            "INPUTS": at_a_break,
            "TRENDS": "+,+",
            "WEIGHTS": "0.5,0.5",
            "CONCENTRATION": 200,
            "DRAWS": 2000,
            "SEED": 3,
            "MINIMA": "0,0",
            "MAXIMA": "1,1",
            "OUTPUT_DRAWS": str(draws_table),
            **outputs(tmp_path),
        },
    )
    stability = read_raster(result["OUTPUT_STABILITY"])[0][0, 0]  # band 1, the only row
    codes = gdal.Open(result["OUTPUT_CLASS"]).ReadAsArray()[0]
    low, high = (read_raster(result[name])[0][0, 0] for name in ("OUTPUT_LOW", "OUTPUT_HIGH"))
    # The draws of pixel (0, 0) are I_d = 0.82·w_d1 (sd 0.82·√(0.25/201) = 0.029): about half
    # reach moderate (≥ 0.41), the rest are poor or even severe (< 0.38). The stability is the
    # largest class share.
    w1 = np.array([float(row["w1"]) for row in read_table(draws_table)])
    index = np.float64(np.float32(0.82)) * w1
    shares = np.bincount(classify(index.astype(np.float32), TABLE3_BREAKS), minlength=6) / 2000
    assert 0.4 < stability[0] < 0.6
    assert stability[0] == pytest.approx(shares.max(), abs=2 / 2000)
    assert codes[0] == np.argmax(shares)
    # The 90 % interval straddles the break: np.percentile of the draws, to float32 rounding.
    assert low[0] == pytest.approx(np.percentile(index, 5), abs=2e-7)
    assert high[0] == pytest.approx(np.percentile(index, 95), abs=2e-7)
    assert low[0] < 0.41 < high[0]
    # Far from the breaks: the same class (moderate) in every draw.
    assert stability[1] == 1.0 and codes[1] == 3
    assert np.isnan(stability[2]) and codes[2] == 0
    # Styled: a discrete ramp whose last class is "every draw" (≤ 1, above 1 − 0.5/D).
    style = ElementTree.parse(tmp_path / "output_stability.qml").getroot()
    items = style.findall(".//colorrampshader/item")
    assert style.find(".//rasterrenderer").get("type") == "singlebandpseudocolor"
    assert [float(i.get("value")) for i in items] == [0.5, 0.75, 0.9, 1 - 0.5 / 2000, 1.0]
    assert (tmp_path / "output_class.qml").exists()


def test_same_seed_same_rasters(run, indicators, tmp_path):
    parameters = {
        "INPUTS": indicators,
        "TRENDS": "+,-,+",
        "MATRIX": MATRIX,
        "DRAWS": 200,
        "SEED": 5,
    }
    first = run("weight_sensitivity", {**parameters, **outputs(tmp_path, "1")})
    # Small blocks and chunks, one thread: the cut of the raster does not matter either.
    again = run("weight_sensitivity", {**parameters, "THREADS": 1, **outputs(tmp_path, "2")})
    other = run("weight_sensitivity", {**parameters, "SEED": 6, **outputs(tmp_path, "3")})
    for name in OUTPUTS:
        np.testing.assert_array_equal(
            gdal.Open(first[name]).ReadAsArray(), gdal.Open(again[name]).ReadAsArray()
        )
    assert first["MEAN_WEIGHTS"] == again["MEAN_WEIGHTS"] != other["MEAN_WEIGHTS"]
    assert not np.array_equal(
        gdal.Open(first["OUTPUT_LOW"]).ReadAsArray(), gdal.Open(other["OUTPUT_LOW"]).ReadAsArray()
    )


def test_blocks_do_not_change_the_result(run, indicators, tmp_path, monkeypatch):
    parameters = {"INPUTS": indicators, "TRENDS": "+,-,+", "WEIGHTS": "2,1,1", "DRAWS": 300}
    whole = run("weight_sensitivity", {**parameters, **outputs(tmp_path, "w")})
    # 0.05 MB: the 24 × 30 raster is still one block, cut into chunks of 16 pixels (the floor).
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "0.05")
    small = run("weight_sensitivity", {**parameters, **outputs(tmp_path, "s")})
    for name in OUTPUTS:
        np.testing.assert_array_equal(
            gdal.Open(whole[name]).ReadAsArray(), gdal.Open(small[name]).ReadAsArray()
        )


def test_influence_sign_on_a_constructed_case(run, tmp_path):
    # Normalised means (ranges fixed 0…1): 'high' 0.9, 'low' 0.1, 'middle' 0.5. The study-area
    # mean of a draw is 0.9·w_high + 0.1·w_low + 0.5·w_middle: more weight on 'high' raises it.
    rng = np.random.default_rng(1)
    layers = {
        "high": 0.9 + rng.uniform(-0.05, 0.05, (10, 10)),
        "low": 0.1 + rng.uniform(-0.05, 0.05, (10, 10)),
        "middle": 0.5 + rng.uniform(-0.05, 0.05, (10, 10)),
    }
    paths = [
        write_raster(tmp_path / f"{name}.tif", values.astype(np.float32))
        for name, values in layers.items()
    ]
    table, draws = tmp_path / "influence.csv", tmp_path / "draws.csv"
    result = run(
        "weight_sensitivity",
        {
            "INPUTS": paths,
            "NAMES": "high,low,middle",
            "TRENDS": "+,+,+",
            "WEIGHTS": "1,1,1",
            "CONCENTRATION": 30,
            "DRAWS": 500,
            "MINIMA": "0,0,0",
            "MAXIMA": "1,1,1",
            **outputs(tmp_path),
            "OUTPUT_INFLUENCE": str(table),
            "OUTPUT_DRAWS": str(draws),
        },
    )
    rows = {row["indicator"]: row for row in read_table(table)}
    assert float(rows["high"]["spearman_rho"]) > 0.5
    assert float(rows["low"]["spearman_rho"]) < -0.5
    assert {rows["high"]["rank"], rows["low"]["rank"]} == {"1", "2"}
    # Spearman's ρ of the weight draws with the draws' area means, as scipy computes it.
    drawn = read_table(draws)
    weights = np.array([[float(r[f"w{j}"]) for j in (1, 2, 3)] for r in drawn])
    area = np.array([float(r["area_mean"]) for r in drawn])
    for j, name in enumerate(("high", "low", "middle")):
        rho = stats.spearmanr(weights[:, j], area).correlation
        assert float(rows[name]["spearman_rho"]) == pytest.approx(rho, abs=1e-9)
    # The area means are the means of the per-draw index maps: here w · T̄ exactly.
    means = np.array([np.mean(v.astype(np.float32), dtype=np.float64) for v in layers.values()])
    np.testing.assert_allclose(area, weights @ means, rtol=1e-6)
    mean_map = read_raster(result["OUTPUT_MEAN"])[0][0]
    assert result["AREA_MEAN"] == pytest.approx(mean_map.mean(), abs=1e-6)
    assert result["AREA_MEAN_LOW"] == pytest.approx(np.percentile(area, 5), abs=1e-6)
    assert float(rows["high"]["mean_normalised"]) == pytest.approx(means[0], abs=1e-6)


def test_inconsistent_perturbations_are_redrawn(run, indicators, tmp_path):
    draws = tmp_path / "draws.csv"
    result = run(
        "weight_sensitivity",
        {
            "INPUTS": indicators,
            "TRENDS": "+,-,+",
            "MATRIX": MATRIX,
            "CR_THRESHOLD": 0.05,
            "DRAWS": 200,
            "OUTPUT_DRAWS": str(draws),
            **outputs(tmp_path),
        },
    )
    cr = np.array([float(row["cr"]) for row in read_table(draws)])
    assert cr.size == 200 and cr.max() <= 0.05
    assert result["INCONSISTENT"] > 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"MATRIX": MATRIX}, "WEIGHTS: .*not both"),
        ({"WEIGHTS": ""}, "WEIGHTS: give either"),
        ({"WEIGHTS": "", "MATRIX": [1, 2, 0.5, 1]}, "MATRIX: a 2 × 2 matrix for 3"),
        (
            {"WEIGHTS": "", "MATRIX": [1, 9, 1 / 9, 1 / 9, 1, 9, 9, 1 / 9, 1]},
            "MATRIX: the judgements are inconsistent: CR = 6.1303",
        ),
        ({"WEIGHTS": "1,2"}, "WEIGHTS: 2 value"),
        ({"BREAKS": "0.5,0.4"}, "BREAKS: breaks must increase"),
        ({"TRENDS": ""}, "TRENDS: give one"),
        ({"CONCENTRATION": 0}, "CONCENTRATION"),
    ],
)
def test_bad_input_names_the_parameter(run, indicators, tmp_path, change, message):
    parameters = {"INPUTS": indicators, "TRENDS": "+,-,+", "WEIGHTS": "1,1,1", "DRAWS": 20}
    with pytest.raises(QgsProcessingException, match=message):
        run("weight_sensitivity", {**parameters, **change, **outputs(tmp_path)})
    assert not list(tmp_path.glob("output_*.tif")) and not leftovers(tmp_path)


def test_one_layer_is_an_error(run, indicators, tmp_path):
    with pytest.raises(QgsProcessingException, match="INPUTS: 1 indicator"):
        run(
            "weight_sensitivity",
            {"INPUTS": indicators[:1], "TRENDS": "+", "WEIGHTS": "1", **outputs(tmp_path)},
        )


def test_cancelled_run_leaves_nothing(run, indicators, tmp_path, cancel_after):
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(
            "weight_sensitivity",
            {
                "INPUTS": indicators,
                "TRENDS": "+,-,+",
                "WEIGHTS": "1,1,1",
                "DRAWS": 50,
                **outputs(tmp_path),
            },
            cancel_after(1),
        )
    assert not list(tmp_path.glob("output_*")) and not leftovers(tmp_path)


def test_no_common_valid_pixel_with_fixed_ranges_gives_nodata_and_a_warning(run, tmp_path):
    # With fixed ranges no statistics pass runs first; the rasters come out all NoData.
    first = write_raster(tmp_path / "f.tif", np.array([[1, -1]], np.float32), nodata=-1)
    second = write_raster(tmp_path / "s.tif", np.array([[-1, 1]], np.float32), nodata=-1)
    feedback = Recorder()
    result = run(
        "weight_sensitivity",
        {
            "INPUTS": [first, second],
            "TRENDS": "+,+",
            "WEIGHTS": "1,1",
            "DRAWS": 20,
            "MINIMA": "0,0",
            "MAXIMA": "2,2",
            **outputs(tmp_path),
        },
        feedback,
    )
    assert any("no pixel is valid in every indicator" in w for w in feedback.warnings)
    assert result["PIXELS"] == 0 and result["AREA_MEAN"] is None
    assert np.all(np.isnan(read_raster(result["OUTPUT_MEAN"])[0]))
    assert not gdal.Open(result["OUTPUT_CLASS"]).ReadAsArray().any()
    rows = read_table(result["OUTPUT_INFLUENCE"])
    assert [row["spearman_rho"] for row in rows] == ["", ""]


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("weight_sensitivity", lambda d: bad_input.sensitivity(d))
INPUTS.desktop(
    "weight_sensitivity",
    lambda s: {"INPUTS": list(s.indicators), "TRENDS": s.trends, "WEIGHTS": s.weights},
)
INPUTS.case(
    "weight_sensitivity",
    "weights-count",
    lambda d: bad_input.sensitivity(d, WEIGHTS="1,2"),
    "WEIGHTS",
)
INPUTS.case(
    "weight_sensitivity",
    "matrix-not-square",
    lambda d: bad_input.sensitivity(d, WEIGHTS="", MATRIX=bad_input.MATRIX3[:5]),
    "MATRIX",
)
INPUTS.case(
    "weight_sensitivity",
    "constant-layer",
    lambda d: bad_input.sensitivity(d, INPUTS=[*bad_input.indicators(d, 2), d.constant(4.0)]),
    "INPUTS",
)
INPUTS.case(
    "weight_sensitivity",
    "breaks-unsorted",
    lambda d: bad_input.sensitivity(d, BREAKS="0.6,0.2"),
    "BREAKS",
)
INPUTS.case(
    "weight_sensitivity", "draws-zero", lambda d: bad_input.sensitivity(d, DRAWS=0), "DRAWS"
)
INPUTS.case(
    "weight_sensitivity",
    "mean-in-range",
    lambda d: bad_input.sensitivity(d),
    check=bad_input.within(0, 1, "OUTPUT_MEAN"),
)

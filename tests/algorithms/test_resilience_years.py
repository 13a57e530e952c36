"""resilience_years: five years on one scale, against an independent numpy computation of the
resilience study's Eq. 18–20 with Table 2's weights and joint ranges."""

import csv

import bad_input
import declared
import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

YEARS = [2000, 2005, 2010, 2016, 2020]
# Table 2 combined weights of C1 DDI, C3 FVC and C9 LST, renormalised over the three.
COMBINED = np.array([0.1185, 0.1554, 0.0473])
WEIGHTS = COMBINED / COMBINED.sum()
# Trends: DDI + (the default reading: desertification lowers resilience), FVC +, LST −.
TRENDS = np.array([1, 1, -1])


def stack(tmp_path):
    """Per year DDI, FVC and LST on 3×4 pixels: vegetation recovering over the years, one
    NoData pixel in 2010's LST."""
    rng = np.random.default_rng(7)
    layers = {"DDI": [], "FVC": [], "LST": []}
    truth = []
    for y, year in enumerate(YEARS):
        ddi = rng.uniform(-0.2, 0.6, (3, 4)) + 0.05 * y
        fvc = np.clip(rng.uniform(0.1, 0.7, (3, 4)) + 0.04 * y, 0, 1)
        lst = rng.uniform(290, 310, (3, 4)) - 0.5 * y
        if year == 2010:
            lst[1, 2] = -9999
        truth.append((ddi, fvc, np.where(lst == -9999, np.nan, lst)))
        for name, values in (("DDI", ddi), ("FVC", fvc), ("LST", lst)):
            layers[name].append(
                write_raster(tmp_path / f"{name.lower()}_{year}.tif", values, nodata=-9999)
            )
    return layers, truth


def expected_index(truth):
    """Eq. 18–20 by numpy on ranges over all years (each indicator's own min and max)."""
    per_indicator = [np.stack([year[i] for year in truth]) for i in range(3)]
    lows = [np.nanmin(v) for v in per_indicator]
    highs = [np.nanmax(v) for v in per_indicator]
    out = []
    for year in truth:
        total = np.zeros((3, 4))
        for i in range(3):
            t = (year[i] - lows[i]) / (highs[i] - lows[i])
            total += WEIGHTS[i] * (t if TRENDS[i] > 0 else 1 - t)
        out.append(total)
    return np.stack(out)


def test_five_years_on_the_joint_scale(run, tmp_path):
    layers, truth = stack(tmp_path)
    expected = expected_index(truth)
    folder = tmp_path / "years"
    results = run(
        "resilience_years",
        {
            "YEARS": ",".join(map(str, YEARS)),
            **layers,
            "OUTPUT_FOLDER": str(folder),
            "OUTPUT_TREND": str(tmp_path / "trend.tif"),
            "OUTPUT_YEARS": str(tmp_path / "years.csv"),
            "OUTPUT_TRANSITIONS": str(tmp_path / "transitions.csv"),
            "OUTPUT_WEIGHTS": str(tmp_path / "weights.csv"),
        },
    )
    for y, year in enumerate(YEARS):
        index = read_raster(folder / f"index_{year}.tif")[0][0]
        np.testing.assert_allclose(index, expected[y], atol=2e-6, equal_nan=True)
        codes = read_raster(folder / f"classes_{year}.tif")[0][0]
        # Table 3 breaks, lower bound inclusive.
        truth_codes = 1 + np.searchsorted([0.38, 0.41, 0.63, 0.73], expected[y], side="right")
        valid = np.isfinite(expected[y])
        assert (codes[valid] == truth_codes[valid]).all()
    assert np.isnan(read_raster(folder / "index_2010.tif")[0][0][1, 2])
    # Yearly means: the mean of the valid pixels of each year.
    means = [float(m) for m in results["MEANS"].split(",")]
    np.testing.assert_allclose(means, np.nanmean(expected, axis=(1, 2)), atol=2e-6)
    with open(tmp_path / "years.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["year"]) for r in rows] == YEARS
    assert int(rows[2]["pixels"]) == 11
    shares = [float(rows[0][f"pct_{label}"]) for label in ("severe", "poor", "moderate")]
    assert sum(shares) <= 100.0 + 1e-9
    # Transitions 2005 → 2010 count the 11 pixels valid in both years.
    with open(tmp_path / "transitions.csv", encoding="utf-8") as handle:
        moves = [r for r in csv.DictReader(handle) if r["from_year"] == "2005"]
    assert sum(int(r["pixels"]) for r in moves) == 11
    # Trend: Sen's slope of one pixel by hand from the expected series.
    slope = read_raster(tmp_path / "trend.tif")[0][0]
    series = expected[:, 0, 0]
    pairs = [
        (series[j] - series[i]) / (YEARS[j] - YEARS[i]) for i in range(5) for j in range(i + 1, 5)
    ]
    assert slope[0, 0] == pytest.approx(np.median(pairs), abs=1e-6)
    np.testing.assert_allclose(
        [float(w) for w in results["WEIGHTS"].split(",")], WEIGHTS, atol=1e-9
    )


def test_per_year_ranges_hide_the_change(run, tmp_path):
    # Normalising each year on its own range puts every year onto 0–1: the joint scale shows
    # the recovery that per-year scaling hides (the yearly means stay near each other).
    layers, truth = stack(tmp_path)
    common = {"YEARS": ",".join(map(str, YEARS)), **layers}
    joint_run = run("resilience_years", {**common, "OUTPUT_FOLDER": str(tmp_path / "j")})
    own = run("resilience_years", {**common, "RANGES": 1, "OUTPUT_FOLDER": str(tmp_path / "o")})
    joint_means = [float(m) for m in joint_run["MEANS"].split(",")]
    own_means = [float(m) for m in own["MEANS"].split(",")]
    # Measured here: joint 0.440 → 0.627 (+0.187); per year 0.540 → 0.520 (−0.019).
    assert joint_means[-1] - joint_means[0] > 0.15
    assert abs(own_means[-1] - own_means[0]) < 0.25 * (joint_means[-1] - joint_means[0])
    # Year 2000 on its own range: numpy by hand.
    year = truth[0]
    expected = sum(
        WEIGHTS[i]
        * (
            (year[i] - np.nanmin(year[i])) / (np.nanmax(year[i]) - np.nanmin(year[i]))
            if TRENDS[i] > 0
            else 1 - (year[i] - np.nanmin(year[i])) / (np.nanmax(year[i]) - np.nanmin(year[i]))
        )
        for i in range(3)
    )
    index = read_raster(tmp_path / "o" / "index_2000.tif")[0][0]
    np.testing.assert_allclose(index, expected, atol=2e-6)


def test_as_printed_ddi_direction_lowers_the_index_of_vegetated_land(run, tmp_path):
    layers, _ = stack(tmp_path)
    common = {"YEARS": ",".join(map(str, YEARS)), **layers}
    default = run("resilience_years", {**common, "OUTPUT_FOLDER": str(tmp_path / "d")})
    printed = run(
        "resilience_years", {**common, "DDI_TREND": 1, "OUTPUT_FOLDER": str(tmp_path / "p")}
    )
    # DDI rises over the years: with the printed "−" it pulls the later years down.
    gain = [float(m) for m in default["MEANS"].split(",")]
    gain_printed = [float(m) for m in printed["MEANS"].split(",")]
    assert gain[-1] - gain[0] > gain_printed[-1] - gain_printed[0]


def test_layers_must_match_the_years(run, tmp_path):
    layers, _ = stack(tmp_path)
    with pytest.raises(QgsProcessingException, match="FVC: 4 layer"):
        run(
            "resilience_years",
            {
                "YEARS": ",".join(map(str, YEARS)),
                "DDI": layers["DDI"],
                "FVC": layers["FVC"][:4],
                "OUTPUT_FOLDER": str(tmp_path / "x"),
            },
        )
    swapped = [layers["FVC"][1], layers["FVC"][0], *layers["FVC"][2:]]
    with pytest.raises(QgsProcessingException, match="in the place of 2000"):
        run(
            "resilience_years",
            {
                "YEARS": ",".join(map(str, YEARS)),
                "DDI": layers["DDI"],
                "FVC": swapped,
                "OUTPUT_FOLDER": str(tmp_path / "x"),
            },
        )


def test_study_weighting_pools_the_years(run, tmp_path):
    # Eq. 16–17: MSE weights from the standard deviation of each normalised indicator over the
    # pixels valid in all three, pooled over the five years; combined with Table 2's
    # subjective weights (C1 0.1815, C3 0.2534, C9 0.0369, renormalised) by their mean.
    layers, truth = stack(tmp_path)
    result = run(
        "resilience_years",
        {
            "YEARS": ",".join(map(str, YEARS)),
            **layers,
            "WEIGHT_SOURCE": 1,
            "OUTPUT_FOLDER": str(tmp_path / "w"),
        },
    )
    per_indicator = [np.stack([year[i] for year in truth]) for i in range(3)]
    lows = [np.nanmin(v) for v in per_indicator]
    highs = [np.nanmax(v) for v in per_indicator]
    normalised = []
    for i in range(3):
        t = (per_indicator[i] - lows[i]) / (highs[i] - lows[i])
        normalised.append(t if TRENDS[i] > 0 else 1 - t)
    valid = np.all([np.isfinite(t) for t in normalised], axis=0)
    std = np.array([t[valid].std() for t in normalised])
    subjective = np.array([0.1815, 0.2534, 0.0369])
    expected = (subjective / subjective.sum() + std / std.sum()) / 2
    # The rasters hold float32: the standard deviations agree to about 1e-7.
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], expected, atol=1e-6
    )


# Two criteria judged 3 : 1 (weights 0.75, 0.25); within the first, C1 twice as important as
# C3 (2/3, 1/3); the second holds C9 alone. Global weights by hand: C1 0.75·2/3 = 0.5,
# C3 0.75·1/3 = 0.25, C9 0.25. Indicators named by code, by code and name, and by slot.
HIERARCHY = (
    "[criteria]\nB1,B2\n1,3\n0.333333,1\n"
    "[B1]\nC1 desertification index,FVC\n1,2\n0.5,1\n"
    "[B2]\nC9\n1\n"
)


def test_your_hierarchy_replaces_table2_subjective_weights(run, tmp_path):
    layers, truth = stack(tmp_path)
    hierarchy = tmp_path / "hierarchy.csv"
    hierarchy.write_text(HIERARCHY, encoding="utf-8")
    result = run(
        "resilience_years",
        {
            "YEARS": ",".join(map(str, YEARS)),
            **layers,
            "WEIGHT_SOURCE": 1,
            "HIERARCHY": str(hierarchy),
            "OUTPUT_FOLDER": str(tmp_path / "w"),
        },
    )
    per_indicator = [np.stack([year[i] for year in truth]) for i in range(3)]
    normalised = []
    for i in range(3):
        low, high = np.nanmin(per_indicator[i]), np.nanmax(per_indicator[i])
        t = (per_indicator[i] - low) / (high - low)
        normalised.append(t if TRENDS[i] > 0 else 1 - t)
    valid = np.all([np.isfinite(t) for t in normalised], axis=0)
    std = np.array([t[valid].std() for t in normalised])
    # Eq. 17: the mean of the hierarchy's subjective weights and the MSE weights.
    expected = (np.array([0.5, 0.25, 0.25]) + std / std.sum()) / 2
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")], expected, atol=1e-6
    )


@pytest.mark.parametrize(
    ("text", "source", "message"),
    [
        (HIERARCHY, 0, "choose WEIGHT_SOURCE"),
        (HIERARCHY.replace("C9", "C10"), 1, "gives no weight to C9"),
        (HIERARCHY.replace("C9", "LSTX"), 1, "'LSTX' are not Table 2 indicators"),
        (HIERARCHY.replace("FVC", "C1"), 1, "C1 appear"),
        (HIERARCHY.replace("[B2]\nC9\n", "[B2]\n"), 1, r"\[B2\] need a header row"),
    ],
    ids=["not-the-study-weighting", "indicator-missing", "unknown-name", "twice", "unnamed"],
)
def test_hierarchy_errors_name_the_problem(run, tmp_path, text, source, message):
    layers, _ = stack(tmp_path)
    hierarchy = tmp_path / "hierarchy.csv"
    hierarchy.write_text(text, encoding="utf-8")
    with pytest.raises(QgsProcessingException, match=message):
        run(
            "resilience_years",
            {
                "YEARS": ",".join(map(str, YEARS)),
                **layers,
                "WEIGHT_SOURCE": source,
                "HIERARCHY": str(hierarchy),
                "OUTPUT_FOLDER": str(tmp_path / "w"),
            },
        )


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------


def two_years(d, **changes):
    """FVC and LST fields of 2000 and 2010 (and ``changes``)."""
    return {
        "YEARS": "2000,2010",
        "FVC": [d.field(), d.field(seed=1)],
        "LST": [d.field(290, 310), d.field(290, 310, seed=3)],
        **changes,
    }


INPUTS = declared.Inputs()
INPUTS.valid(
    "resilience_years",
    lambda d: {
        "YEARS": "2000,2010",
        "FVC": [d.field(), d.field(seed=1)],
        "LST": [d.field(290, 310, seed=2), d.field(290, 310, seed=3)],
    },
)
INPUTS.desktop(
    "resilience_years",
    lambda s: {
        "YEARS": "2000,2020",
        "FVC": [s.series[0], s.series[-1]],
        "LST": [s.lst_series[0], s.lst_series[-1]],
    },
)
# resilience_years: one layer per year in each slot.
INPUTS.case(
    "resilience_years",
    "one-year",
    lambda d: {"YEARS": "2000", "FVC": [d.field()], "LST": [d.field(290, 310)]},
    "YEARS",
)
INPUTS.case(
    "resilience_years",
    "layers-per-year",
    lambda d: {"YEARS": "2000,2010", "FVC": [d.field()], "LST": [d.field(), d.field()]},
    "FVC",
)
INPUTS.case(
    "resilience_years",
    "years-not-increasing",
    lambda d: {"YEARS": "2010,2000", "FVC": [d.field(), d.field()], "LST": [d.field()] * 2},
    "YEARS",
)
INPUTS.case(
    "resilience_years",
    "constant-indicator",
    lambda d: {
        "YEARS": "2000,2010",
        "FVC": [d.constant(0.4), d.constant(0.4)],
        "LST": [d.field(290, 310), d.field(290, 310, seed=3)],
    },
    "FVC",
)
INPUTS.case(
    "resilience_years",
    "given-ranges-count",
    lambda d: two_years(d, RANGES=2, MINIMA="0", MAXIMA="1"),
    "MINIMA",
)
INPUTS.case(
    "resilience_years",
    "index-range",
    two_years,
    check=lambda results, data, parameters: [
        bad_input.within(0, 1)({"OUTPUT": path}, data, parameters)
        for path in results["LAYERS"]
        if "index_" in path
    ],
)

"""AHP, objective weights and their combination (core.evaluation_weights), by hand."""

import re

import numpy as np
import pytest

from mine_eco_plugin.core import evaluation_weights as weighting

# Saaty-style 3×3 matrix with exact reciprocals.
SAATY_3 = np.array([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])


def test_ahp_3x3_by_hand():
    result = weighting.ahp_weights(SAATY_3)
    # Row geometric means: 15^(1/3) = 2.466212, 1, (1/15)^(1/3) = 0.405480; sum 3.871692
    # → w = 0.636986, 0.258285, 0.104729 (Eq. 15).
    np.testing.assert_allclose(result.weights, [0.636986, 0.258285, 0.104729], atol=1e-6)
    # A·w, row 1: 0.636986 + 3·0.258285 + 5·0.104729 = 1.935486; /0.636986 = 3.038511. For a
    # 3×3 reciprocal matrix λmax = 1 + (a13/(a12·a23))^(1/3) + (a12·a23/a13)^(1/3)
    # = 1 + (5/9)^(1/3) + (9/5)^(1/3) = 1 + 0.822071 + 1.216440 = 3.038511.
    assert result.lambda_max == pytest.approx(3.038511, abs=1e-6)
    np.testing.assert_allclose(result.ratios, 3.038511, atol=1e-6)
    # CI = (3.038511 − 3)/2 = 0.019256; CR = 0.019256/0.58 = 0.033199.
    assert result.ci == pytest.approx(0.019256, abs=1e-6)
    assert result.ri == 0.58
    assert result.cr == pytest.approx(0.033199, abs=1e-6)
    # For n = 3 the eigenvector equals the geometric-mean weights.
    eigen = weighting.ahp_weights(SAATY_3, method="eigenvector", lambda_rule="weighted_ratio")
    np.testing.assert_allclose(eigen.weights, result.weights, atol=1e-12)
    assert eigen.lambda_max == pytest.approx(result.lambda_max, abs=1e-12)


def test_ahp_consistent_matrix_has_zero_ci():
    # a_ij = v_i / v_j with v = (4, 2, 1, 1) is perfectly consistent: w = v/8, λmax = n = 4.
    v = np.array([4.0, 2.0, 1.0, 1.0])
    result = weighting.ahp_weights(np.outer(v, 1 / v))
    np.testing.assert_allclose(result.weights, [0.5, 0.25, 0.125, 0.125], atol=1e-12)
    assert result.lambda_max == pytest.approx(4.0, abs=1e-9)
    assert result.cr == pytest.approx(0.0, abs=1e-9)


def test_ahp_4x4_eigenvalue_versus_weighted_ratio():
    # An inconsistent 4×4 matrix: the principal eigenvalue is the Perron root (numpy.linalg.eig),
    # the weighted ratio the mean of (A·w)_i/w_i with geometric-mean weights; both lie between
    # min and max of the ratios (Collatz–Wielandt), and CR uses RI(4) = 0.90.
    a = np.array([[1, 3, 7, 9], [1 / 3, 1, 5, 7], [1 / 7, 1 / 5, 1, 3], [1 / 9, 1 / 7, 1 / 3, 1]])
    eigen = weighting.ahp_weights(a)
    ratio = weighting.ahp_weights(a, lambda_rule="weighted_ratio")
    assert eigen.lambda_max == pytest.approx(max(np.linalg.eigvals(a).real), abs=1e-12)
    assert ratio.lambda_max == pytest.approx(ratio.ratios.mean(), abs=1e-12)
    assert ratio.ratios.min() <= eigen.lambda_max <= ratio.ratios.max()
    assert eigen.cr == pytest.approx((eigen.lambda_max - 4) / 3 / 0.90, abs=1e-12)


@pytest.mark.parametrize(
    "values, message",
    [
        ([1, 2, 3], "square"),
        ([1, 3, 0, 1], "not positive"),
        ([1, 3, 0.5, 1], "not reciprocal"),
        ([2, 1, 1, 1], "diagonal"),
    ],
)
def test_pairwise_matrix_errors(values, message):
    with pytest.raises(ValueError, match=message):
        weighting.check_pairwise(weighting.square_matrix(values))


def test_rounded_reciprocals_are_accepted_within_the_tolerance():
    # 0.333·3 = 0.999, 0.14·7 = 0.98, 0.13·8 = 1.04: all within 0.05.
    assert weighting.check_pairwise(weighting.square_matrix([1, 3, 0.333, 1])) == pytest.approx(
        0.001
    )
    matrix = weighting.square_matrix([1, 7, 8, 0.14, 1, 1, 0.13, 1, 1])
    assert weighting.check_pairwise(matrix) == pytest.approx(0.04)
    with pytest.raises(ValueError, match="reciprocal"):
        weighting.check_pairwise(matrix, tolerance=0.01)


def test_random_index_tables():
    assert weighting.random_index(3) == 0.58
    assert weighting.random_index(10) == 1.49
    assert weighting.random_index(2) == 0.0
    with pytest.raises(ValueError, match="stops at n = 10"):
        weighting.random_index(11)
    assert weighting.random_index(11, "saaty_extended") == 1.51
    # Alonso & Lamata (2006): RI = (1.7699·17 − 4.3513)/16 = (30.0883 − 4.3513)/16 = 1.608563.
    assert weighting.random_index(17, "alonso_lamata_2006") == pytest.approx(1.608563, abs=1e-6)
    assert weighting.random_index(4, "custom", [0, 0, 0.52, 0.89]) == 0.89


# Two indicators over four pixels: A = 1, 2, 3, 4 (positive), B = 10, 10, 20, 40 (negative).
A = [1.0, 2.0, 3.0, 4.0]
B = [10.0, 10.0, 20.0, 40.0]


def _normalised_moments(cross=True):
    raw = weighting.JointMoments.of(np.array([A, B]), cross=cross)
    return weighting.normalised_moments(raw, [1, 10], [4, 40], [1, -1])


def test_mse_weights_by_hand():
    # A′ = 0, 1/3, 2/3, 1: mean 0.5, Σ(dev²) = 0.25 + 0.027778·2 + 0.25 = 0.555556,
    # σ = √(0.555556/4) = 0.372678. B′ = 1 − (B − 10)/30 = 1, 1, 2/3, 0: mean 2/3,
    # Σ(dev²) = 1/9 + 1/9 + 0 + 4/9 = 2/3, σ = √(1/6) = 0.408248.
    # Eq. 16: w = 0.372678/0.780926 = 0.477226, 0.408248/0.780926 = 0.522774.
    moments = _normalised_moments(cross=False)
    np.testing.assert_allclose(moments.std, [0.372678, 0.408248], atol=1e-6)
    result = weighting.objective_weights("mse", moments)
    np.testing.assert_allclose(result.weights, [0.477226, 0.522774], atol=1e-6)
    # Normalised ranges are exactly [0, 1] for both.
    np.testing.assert_allclose(moments.minimum, [0, 0], atol=1e-12)
    np.testing.assert_allclose(moments.maximum, [1, 1], atol=1e-12)


def test_entropy_weights_by_hand():
    # A′: S = 2, p = 0, 1/6, 1/3, 1/2; Σ p ln p = −0.298627 − 0.366204 − 0.346574 = −1.011404;
    # e = 1.011404/ln 4 = 1.011404/1.386294 = 0.729574.
    # B′: S = 8/3, p = 3/8, 3/8, 1/4, 0; Σ p ln p = 0.75·ln 0.375 + 0.25·ln 0.25
    # = −0.735622 − 0.346574 = −1.082196; e = 0.780639.
    # d = 0.270426, 0.219361 → w = 0.552130, 0.447870.
    sums = weighting.EntropySums.of(np.array([[0, 1 / 3, 2 / 3, 1], [1, 1, 2 / 3, 0]]))
    weights, entropy = weighting.entropy_weights(sums)
    np.testing.assert_allclose(entropy, [0.729574, 0.780639], atol=1e-6)
    np.testing.assert_allclose(weights, [0.552130, 0.447870], atol=1e-6)


def test_critic_weights_by_hand():
    # cov(A′, B′) = mean of (−0.5·1/3, −1/6·1/3, 0, 0.5·−2/3) = −(10/18)/4 = −0.138889;
    # r = −0.138889/(0.372678·0.408248) = −0.912871.
    # C_A = 0.372678·[(1 − 1) + (1 + 0.912871)] = 0.712885; C_B = 0.408248·1.912871 = 0.780926.
    moments = _normalised_moments()
    assert moments.correlation[0, 1] == pytest.approx(-0.912871, abs=1e-6)
    result = weighting.objective_weights("critic", moments)
    np.testing.assert_allclose(result.criterion, [0.712885, 0.780926], atol=1e-6)
    np.testing.assert_allclose(
        result.weights, [0.712885, 0.780926] / np.float64(1.493811), atol=1e-6
    )


def test_streamed_moments_equal_one_block():
    # Chan et al.'s merge: three uneven blocks give the moments of the whole, cross terms too.
    rng = np.random.default_rng(7)
    data = rng.normal(size=(3, 1000)) * [[1], [10], [100]] + [[0], [5], [1e4]]
    whole = weighting.JointMoments.of(data, cross=True)
    merged = weighting.JointMoments(3, cross=True)
    for part in np.split(data, [17, 400], axis=1):
        merged = merged.merge(weighting.JointMoments.of(part, cross=True))
    assert merged.count == 1000
    np.testing.assert_allclose(merged.m2, whole.m2, rtol=1e-10)
    np.testing.assert_allclose(merged.correlation, np.corrcoef(data), atol=1e-12)
    np.testing.assert_allclose(merged.std, data.std(axis=1), rtol=1e-10)


def test_combinations():
    a, b = [0.6, 0.3, 0.1], [0.2, 0.3, 0.5]
    np.testing.assert_allclose(weighting.combine_weights(a, b), [0.4, 0.3, 0.3])  # Eq. 17
    np.testing.assert_allclose(weighting.combine_weights(a, b, "alpha", 0.75), [0.5, 0.3, 0.2])
    # 0.12, 0.09, 0.05 over 0.26.
    np.testing.assert_allclose(
        weighting.combine_weights(a, b, "multiplicative"), [0.461538, 0.346154, 0.192308], atol=1e-6
    )


def test_trends_and_weights_parsing():
    assert weighting.parse_trends("+, -, positive,NEGATIVE, cost, benefit") == [1, -1, 1, -1, -1, 1]
    with pytest.raises(ValueError, match="trend 2"):
        weighting.parse_trends("+,up")
    with pytest.raises(ValueError, match="3 trend"):
        weighting.parse_trends("+,+,-", 2)
    weights, total = weighting.normalised_weights([2, 1, 1])
    np.testing.assert_allclose(weights, [0.5, 0.25, 0.25])
    assert total == 4
    with pytest.raises(ValueError, match="negative"):
        weighting.normalised_weights([0.5, -0.1])


def test_table2_preset_transcription():
    preset = weighting.load_preset("lingbei_2000_2020")
    assert len(preset.names) == 17
    assert preset.codes[0] == "C1" and preset.names[0] == "Desertification index"
    assert preset.names[-1] == "CO2 emissions"
    # Trends as printed: C3, C4, C7, C12, C14, C15 positive, the others negative.
    positive = {c for c, t in zip(preset.codes, preset.printed_trends, strict=True) if t > 0}
    assert positive == {"C3", "C4", "C7", "C12", "C14", "C15"}
    # Trends used: the same but C1, the desertification index, which grows with vegetation
    # (DDI = k·N − A, k = −1/a > 0): desertification lowers resilience, C1 enters with +.
    used = {c for c, t in zip(preset.codes, preset.trends, strict=True) if t > 0}
    assert used == positive | {"C1"}
    # C11, printed "TCI", is the tasseled-cap brightness (§3.1.3, Eq. 9–10).
    assert preset.names[10] == "Tasseled-cap brightness"
    # Spot values (Table 2): FVC 0.0573 / 0.2534 / 0.1554; TCI 0.0555 / 0.0175 / 0.0365.
    assert (preset.objective[2], preset.subjective[2], preset.combined[2]) == (
        0.0573,
        0.2534,
        0.1554,
    )
    assert (preset.objective[10], preset.subjective[10], preset.combined[10]) == (
        0.0555,
        0.0175,
        0.0365,
    )
    # Column sums as printed: objective 1.0001, subjective 1.0000, combined 1.0000.
    assert sum(preset.objective) == pytest.approx(1.0001, abs=1e-9)
    assert sum(preset.subjective) == pytest.approx(1.0, abs=1e-9)
    assert sum(preset.combined) == pytest.approx(1.0, abs=1e-9)


def test_table2_combined_is_the_mean_of_objective_and_subjective():
    # Eq. 17 within the table's rounding (4 decimals: |mean − printed| ≤ 0.00005) for every row
    # but C16, where the printed 0.0391 differs from (0.0567 + 0.0223)/2 = 0.0395 — a
    # discrepancy in the published table, kept as printed (and reported in the help).
    preset = weighting.load_preset("lingbei_2000_2020")
    off = {
        code: round((o + s) / 2 - c, 6)
        for code, o, s, c in zip(
            preset.codes, preset.objective, preset.subjective, preset.combined, strict=True
        )
        if abs((o + s) / 2 - c) > 0.00005 + 1e-12
    }
    assert off == {"C16": 0.0004}


def test_row_wise_statistics_equal_the_stacked_ones():
    # of_rows works on float32 rows one at a time (cross products in chunks); same figures.
    rng = np.random.default_rng(9)
    data = (rng.normal(size=(4, 5000)) * [[1], [50], [0.01], [3]] + [[0], [1e3], [0], [9]]).astype(
        np.float32
    )
    rows = list(data)
    stacked = weighting.JointMoments.of(data.astype(np.float64), cross=True)
    for cross in (False, True):
        by_rows = weighting.JointMoments.of_rows(rows, cross=cross, chunk=777)
        assert by_rows.count == 5000
        np.testing.assert_allclose(by_rows.std, stacked.std, rtol=1e-9)
        np.testing.assert_allclose(by_rows.mean, stacked.mean, rtol=1e-12)
        np.testing.assert_array_equal(by_rows.minimum, stacked.minimum)
    np.testing.assert_allclose(
        weighting.JointMoments.of_rows(rows, cross=True, chunk=777).correlation,
        stacked.correlation,
        atol=1e-12,
    )
    unit = np.abs(data[:2]) / np.abs(data[:2]).max()
    a = weighting.EntropySums.of(unit.astype(np.float64))
    b = weighting.EntropySums.of_rows(list(unit))
    np.testing.assert_allclose(b.total, a.total, rtol=1e-12)
    np.testing.assert_allclose(b.total_xlogx, a.total_xlogx, rtol=1e-12)


# --- the MATRIX parameter: a square table in the dialog, or the flat form -----------------------


def test_table_values_reads_the_square_table_of_the_dialog():
    """A 3 × 3 matrix typed in a 17-column table: three rows of C1-C3 filled, the rest blank
    (None from blank QVariants, '' from cleared cells); rows of blanks are ignored."""
    from mine_eco_plugin.core.evaluation_weights import square_matrix, table_values

    columns = 17
    rows = [[1, 3, 5], [1 / 3, 1, 2], ["0.2", "0.5", "1"]]
    cells = []
    for row in rows:
        cells += row + [None] * (columns - 3)
    cells += [""] * columns  # an empty row added and left blank
    values = table_values(cells, columns)
    assert values == [1, 3, 5, 1 / 3, 1, 2, "0.2", "0.5", "1"]
    np.testing.assert_allclose(
        square_matrix(values), [[1, 3, 5], [1 / 3, 1, 2], [0.2, 0.5, 1]], rtol=0, atol=0
    )


def test_table_values_keeps_the_flat_form_of_the_command_line():
    """qgis_process MATRIX=1,3,0.333,1 and models saved before the table: n² values in one
    sequence, row by row, also when n² is a multiple of the column count."""
    from mine_eco_plugin.core.evaluation_weights import table_values

    assert table_values(["1", "3", "0.333", "1"], 17) == ["1", "3", "0.333", "1"]
    flat = [float(v) for v in range(1, 35)] * 34  # 34 × 34 = 1156 values = 68 rows of 17
    assert table_values(flat, 17) == flat
    assert table_values([1, 2, 3, 4], 1) == [1, 2, 3, 4]  # the old one-column parameter


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[1, None, 5], [1, 1, 2], [1, 1, 1]], "row 1 has a blank cell before a value"),
        ([[1, 3], [1 / 3, 1], [1, 1]], "3 row(s) of 2, 2, 2 value(s)"),
        ([[1, 3, 5], [1, 1]], "2 row(s) of 3, 2 value(s)"),
    ],
)
def test_table_values_names_a_table_that_is_not_square(rows, message):
    from mine_eco_plugin.core.evaluation_weights import table_values

    cells = []
    for row in rows:
        cells += row + [None] * (5 - len(row))
    with pytest.raises(ValueError, match=re.escape(message)):
        table_values(cells, 5)


def test_resolve_weights_by_source():
    given = np.array([0.5, 0.3, 0.2])
    subjective = np.array([0.2, 0.2, 0.6])
    objective = np.array([0.4, 0.4, 0.2])
    assert weighting.resolve_weights("given", given=given).tolist() == [0.5, 0.3, 0.2]
    assert weighting.resolve_weights("objective", objective=objective).tolist() == [0.4, 0.4, 0.2]
    # Eq. 17: (0.2 + 0.4)/2, (0.2 + 0.4)/2, (0.6 + 0.2)/2 = 0.3, 0.3, 0.4.
    np.testing.assert_allclose(
        weighting.resolve_weights("combined", subjective=subjective, objective=objective),
        [0.3, 0.3, 0.4],
    )
    # Multiplicative: 0.08, 0.08, 0.12 over 0.28.
    np.testing.assert_allclose(
        weighting.resolve_weights(
            "combined", subjective=subjective, objective=objective, rule="multiplicative"
        ),
        [0.08 / 0.28, 0.08 / 0.28, 0.12 / 0.28],
    )
    with pytest.raises(ValueError, match="need objective weights"):
        weighting.resolve_weights("combined", subjective=subjective)
    with pytest.raises(ValueError, match="need subjective weights"):
        weighting.resolve_weights("combined", objective=objective)
    with pytest.raises(ValueError, match="no weights given"):
        weighting.resolve_weights("given")


def test_weighting_text():
    assert weighting.weighting_text("given", None) == "given"
    assert weighting.weighting_text("objective", "critic") == "objective critic"
    assert weighting.weighting_text("combined", "mse", "alpha", 0.3) == (
        "α·subjective + (1 − α)·objective (α = 0.3), objective mse"
    )


def test_read_matrix_csv_with_names():
    # A header row and a name column; semicolons; a comment line.
    values, names = weighting.read_matrix_csv("# judgements\n;B1;B2\nB1;1;3\nB2;0.333;1\n")
    assert values == [1.0, 3.0, 0.333, 1.0]
    assert names == ["B1", "B2"]
    with pytest.raises(ValueError, match="row 2 has 1 value"):
        weighting.read_matrix_csv("1,3\n1\n")

"""Weight sensitivity kernels: perturbed AHP judgements, Dirichlet draws, per-pixel summaries
of the draws against a naive computation, study-area means and rank influence."""

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from mine_eco_plugin.core.evaluation_classes import TABLE3_BREAKS, classify
from mine_eco_plugin.core.evaluation_index import composite_index, normalise
from mine_eco_plugin.core.evaluation_weights import ahp_weights
from mine_eco_plugin.core.sensitivity import (
    SAATY_SCALE,
    SensitivityKernel,
    ahp_batch,
    chunk_pixels,
    count_below,
    draw_ahp_weights,
    draw_dirichlet_weights,
    mean_weights,
    off_scale_judgements,
    percentile_of_sorted,
    perturb_judgements,
    saaty_positions,
    spearman,
    summarise_draws,
    weight_influence,
)

# The hand-worked matrix of tests/core/test_evaluation_weights.py (CR = 0.0332).
MATRIX = np.array([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])


# --- Saaty's scale ---------------------------------------------------------------------------


def test_scale_positions_and_off_scale_judgements():
    assert SAATY_SCALE.size == 17 and SAATY_SCALE[8] == 1
    positions, distance = saaty_positions([1 / 9, 1 / 3, 0.333, 1, 2, 9, 12, 2.5])
    # 1/9 → 0, 1/3 → 6 (0.333 too), 1 → 8, 2 → 9, 9 → 16, 12 beyond the scale → 16, 2.5 → 3
    # (ln(3/2.5) = 0.182 < ln(2.5/2) = 0.223).
    assert positions.tolist() == [0, 6, 6, 8, 9, 16, 16, 10]
    assert distance[1] == pytest.approx(0, abs=1e-12)
    assert distance[-1] == pytest.approx(math.log(3 / 2.5))
    matrix = np.array([[1, 2.5, 0.333], [0.4, 1, 1], [3, 1, 1]])
    # 0.333 is 1/3 within 0.1 %; 2.5 is 17 % from 3.
    assert off_scale_judgements(matrix) == [(1, 2, 2.5, 3.0)]


def test_zero_step_probability_reproduces_the_typed_matrix():
    typed = np.array([[1, 3, 0.2], [0.333, 1, 2.5], [5, 0.4, 1]])
    matrices, moved = perturb_judgements(typed, 5, np.random.default_rng(1), 0.0)
    assert not moved.any()
    for matrix in matrices:
        np.testing.assert_array_equal(matrix, typed)


def test_judgements_move_one_scale_step_and_stay_reciprocal():
    rng = np.random.default_rng(7)
    matrices, moved = perturb_judgements(MATRIX, 4000, rng, 2 / 3)
    rows, cols = np.triu_indices(3, 1)
    before, _ = saaty_positions(MATRIX[rows, cols])
    after, distance = saaty_positions(matrices[:, rows, cols])
    assert np.all(distance < 1e-12)  # every moved value is on the scale
    assert set(np.unique(after - before)) == {-1, 0, 1}
    np.testing.assert_array_equal(moved, after != before)
    np.testing.assert_allclose(matrices * np.transpose(matrices, (0, 2, 1)), 1.0, rtol=1e-15)
    # Each step has probability 1/3: 4000 × 3 judgements, σ of a share = √(2/9/12000) = 0.0043.
    steps = (after - before).ravel()
    for value in (-1, 0, 1):
        assert np.mean(steps == value) == pytest.approx(1 / 3, abs=0.02)


def test_at_the_end_of_the_scale_the_missing_step_stays():
    nine = np.array([[1, 9], [1 / 9, 1]])
    matrices, moved = perturb_judgements(nine, 6000, np.random.default_rng(3), 0.5)
    values = matrices[:, 0, 1]
    assert set(np.unique(values)) == {8.0, 9.0}
    # Down with p/2 = 0.25; the upward quarter stays: 9 with probability 0.75 (σ 0.0056).
    assert np.mean(values == 9) == pytest.approx(0.75, abs=0.025)
    assert np.mean(moved) == pytest.approx(0.25, abs=0.025)


@pytest.mark.parametrize("method", ["geometric_mean", "eigenvector"])
def test_batch_weights_equal_ahp_weights_matrix_by_matrix(method):
    matrices, _ = perturb_judgements(np.ones((4, 4)), 50, np.random.default_rng(5), 1.0)
    weights, cr = ahp_batch(matrices, method=method, ri=0.90)
    for matrix, w, c in zip(matrices, weights, cr, strict=True):
        single = ahp_weights(matrix, method=method)
        np.testing.assert_allclose(w, single.weights, rtol=1e-12, atol=1e-15)
        assert c == pytest.approx(single.cr, abs=1e-10)


def test_inconsistent_draws_are_redrawn_or_kept():
    # A 5 × 5 matrix near the consistency limit: many one-step perturbations exceed CR 0.1.
    base = np.array(
        [
            [1, 3, 5, 7, 9],
            [1 / 3, 1, 3, 5, 7],
            [1 / 5, 1 / 3, 1, 3, 5],
            [1 / 7, 1 / 5, 1 / 3, 1, 3],
            [1 / 9, 1 / 7, 1 / 5, 1 / 3, 1],
        ]
    )
    assert ahp_weights(base).cr < 0.1
    redrawn = draw_ahp_weights(base, 300, 11, rule="redraw", cr_threshold=0.05)
    assert redrawn.weights.shape == (300, 5)
    assert np.all(redrawn.cr <= 0.05)
    assert redrawn.inconsistent > 0 and redrawn.generated > 300
    kept = draw_ahp_weights(base, 300, 11, rule="keep", cr_threshold=0.05)
    assert kept.generated == 300 and np.any(kept.cr > 0.05)
    assert kept.inconsistent == int(np.sum(kept.cr > 0.05))
    # The first batch is the same generator stream: the consistent ones lead both.
    first = np.flatnonzero(kept.cr <= 0.05)
    np.testing.assert_array_equal(redrawn.weights[: first.size], kept.weights[first])
    with pytest.raises(ValueError, match="CR ≤ 0.0001"):
        draw_ahp_weights(base, 20, 11, cr_threshold=1e-4, step_probability=1.0)


def test_ahp_draws_are_reproducible_and_zero_spread_is_the_given_weights():
    a = draw_ahp_weights(MATRIX, 200, 42)
    b = draw_ahp_weights(MATRIX, 200, 42)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(a.weights, draw_ahp_weights(MATRIX, 200, 43).weights)
    still = draw_ahp_weights(MATRIX, 10, 42, step_probability=0.0)
    for row in still.weights:
        np.testing.assert_allclose(row, ahp_weights(MATRIX).weights, rtol=1e-15)
    assert still.moved_share == 0.0


def test_dirichlet_moments():
    centre = np.array([0.5, 0.3, 0.2, 0.0])
    draws = draw_dirichlet_weights(centre, 50.0, 20000, 1)
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(draws[:, 3] == 0)
    # E[W] = w₀; Var[W] = w₀(1 − w₀)/(κ + 1): 0.25/51, 0.21/51, 0.16/51.
    np.testing.assert_allclose(draws.mean(axis=0), centre, atol=0.002)
    np.testing.assert_allclose(
        draws[:, :3].var(axis=0), centre[:3] * (1 - centre[:3]) / 51, rtol=0.05
    )
    np.testing.assert_array_equal(draws, draw_dirichlet_weights(centre, 50.0, 20000, 1))
    with pytest.raises(ValueError, match="concentration"):
        draw_dirichlet_weights(centre, 0.0, 10, 1)


def test_mean_weights_of_identical_draws_is_the_centre_exactly():
    centre = np.array([0.1, 0.7, 0.2])
    assert np.array_equal(mean_weights(np.tile(centre, (1000, 1)), centre), centre)


# --- per-pixel summaries ---------------------------------------------------------------------


@pytest.mark.parametrize("draws", [1, 2, 20, 999, 1000])
def test_percentiles_of_sorted_rows_equal_numpy(draws):
    rows = np.sort(np.random.default_rng(draws).random((64, draws), dtype=np.float32), axis=1)
    for q in (0, 5, 50, 95, 100):
        got = percentile_of_sorted(rows, q)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, np.percentile(rows.astype(np.float64), q, axis=1))


def test_percentile_interpolates_float32_rows_in_float64():
    """Same result under numpy 1.x and 2.x (numpy 2 interpolates float32 input in float32)."""
    rows = np.array([[0.1, 0.7]], dtype=np.float32)
    a, b = float(np.float32(0.1)), float(np.float32(0.7))  # the stored values, as Python floats
    # D = 2: h = 0.05 takes the lower neighbour, h = 0.95 the upper one (numpy's rule).
    assert percentile_of_sorted(rows, 5)[0] == a + (b - a) * 0.05
    assert percentile_of_sorted(rows, 95)[0] == b - (b - a) * (1 - 0.95)
    # The float32 evaluation (numpy 2's for float32 rows) rounds to another value.
    assert float(np.float32(a + (b - a) * 0.05)) != a + (b - a) * 0.05


def test_count_below_by_binary_search():
    rows = np.sort(np.random.default_rng(0).integers(0, 10, (200, 37)).astype(np.float32), 1)
    for threshold in (-1, 0, 3, 3.5, 9, 10):
        np.testing.assert_array_equal(
            count_below(rows, np.float32(threshold)), np.sum(rows < threshold, axis=1)
        )


def _naive(normalised, mean_index, weights, mean_w, breaks):
    """Every draw's index stored (P̄ + Σⱼ Tⱼ·(W_dj − W̄ⱼ) summed in float64 in the order of j,
    rounded to float32), np.percentile, classify and bincount."""
    deviations = (weights - mean_w).T.astype(np.float32).astype(np.float64)
    draws = np.repeat(mean_index.astype(np.float64)[:, None], deviations.shape[1], axis=1)
    for j in range(deviations.shape[0]):
        draws += normalised[:, j, None].astype(np.float64) * deviations[j]
    draws = draws.astype(np.float32)
    codes = classify(draws, breaks)
    counts = np.stack([np.sum(codes == c, axis=1) for c in range(1, len(breaks) + 2)])
    return (
        np.percentile(draws.astype(np.float64), 5, axis=1),
        np.percentile(draws.astype(np.float64), 95, axis=1),
        np.argmax(counts, axis=0) + 1,
        counts.max(axis=0) / draws.shape[1],
    )


def test_summaries_equal_the_naive_computation():
    rng = np.random.default_rng(2)
    k, m = 5, 300
    weights = draw_dirichlet_weights(np.full(k, 0.2), 30.0, 777, 3)
    mean_w = mean_weights(weights, np.full(k, 0.2))
    normalised = rng.random((m, k), dtype=np.float32)
    mean_index = (normalised @ mean_w).astype(np.float32)
    result = summarise_draws(
        normalised, mean_index, (weights - mean_w).T.astype(np.float32), TABLE3_BREAKS
    )
    low, high, modal, share = _naive(normalised, mean_index, weights, mean_w, TABLE3_BREAKS)
    np.testing.assert_array_equal(result.low, low)
    np.testing.assert_array_equal(result.high, high)
    np.testing.assert_array_equal(result.modal, modal)
    np.testing.assert_allclose(result.stability, share, rtol=1e-7)
    assert np.all(result.low <= result.high)


def test_draws_are_the_float32_nearest_to_the_exact_index():
    # 21 draws: the 5 % and 95 % percentiles are the 2nd and 20th sorted draws exactly
    # (h = 20·0.05 = 1, 20·0.95 = 19). Expected: each draw P̄ + Σⱼ Tⱼ·(W_dj − W̄ⱼ) in rational
    # arithmetic (fractions.Fraction) from the float32 inputs, sorted; the percentile must be
    # within half a float32 step of it (+1e-6 of the step for the float64 rounding near a tie).
    # A float32 matrix product missed by a whole step at some pixels, at different pixels with
    # the BLAS builds of Debian 12 (numpy 1.24) and Debian 13 (numpy 2.2).
    rng = np.random.default_rng(5)
    k, m, count = 6, 200, 21
    deviations = (rng.dirichlet(np.full(k, 20.0), count) - 1 / k).T.astype(np.float32)
    normalised = rng.random((m, k), dtype=np.float32)
    mean_index = rng.uniform(0.2, 0.8, m).astype(np.float32)
    result = summarise_draws(normalised, mean_index, deviations, TABLE3_BREAKS)
    columns = [[Fraction(float(v)) for v in row] for row in deviations.T]
    for pixel in range(m):
        t = [Fraction(float(v)) for v in normalised[pixel]]
        exact = sorted(
            float(
                Fraction(float(mean_index[pixel])) + sum(a * b for a, b in zip(t, d, strict=True))
            )
            for d in columns
        )
        for got, want in ((result.low[pixel], exact[1]), (result.high[pixel], exact[19])):
            half_step = float(np.spacing(np.float32(abs(want)))) / 2
            assert abs(float(got) - want) <= half_step * (1 + 1e-6), (pixel, got, want)


def test_stability_falls_where_a_break_meets_the_index():
    # Two indicators, w ~ Dirichlet(200·(0.5, 0.5)). Pixel 0: T = (0.82, 0) → mean 0.41, the
    # poor/moderate break, and I_d − 0.41 = 0.82·(w₁ − w̄₁): about half the draws fall on each
    # side. Pixel 1: T = (0.62, 0.42) → 0.52, spread 0.2·σ(w₁) = 0.007, far inside moderate
    # (0.41–0.63): stability 1. Pixel 2: T = (0.5, 0.5): no spread at all.
    weights = draw_dirichlet_weights([0.5, 0.5], 200.0, 2000, 9)
    mean_w = mean_weights(weights, [0.5, 0.5])
    table = np.array([[0.82, 0.0], [0.62, 0.42], [0.5, 0.5]], dtype=np.float32)
    mean_index = composite_index([table[:, 0], table[:, 1]], mean_w, [0, 0], [1, 1], [1, 1]).astype(
        np.float32
    )
    result = summarise_draws(
        table, mean_index, (weights - mean_w).T.astype(np.float32), TABLE3_BREAKS
    )
    # Pixel 0's draws are I_d = 0.82·w_d1 (T₂ = 0, sd 0.029): moderate where w_d1 ≥ 0.5, else
    # poor, or severe below 0.38. The stability is the largest share.
    index = (np.float64(np.float32(0.82)) * weights[:, 0]).astype(np.float32)
    expected_share = np.bincount(classify(index, TABLE3_BREAKS)).max() / 2000
    assert 0.4 < result.stability[0] < 0.6
    assert result.stability[0] == pytest.approx(expected_share, abs=2 / 2000)
    assert result.stability[1] == 1.0 and result.modal[1] == 3
    assert result.stability[2] == 1.0
    assert result.low[0] < 0.41 < result.high[0]


def test_kernel_blocks_and_chunks_do_not_change_the_result():
    rng = np.random.default_rng(4)
    k = 4
    bands = [rng.random((30, 41), dtype=np.float32) * (j + 1) for j in range(k)]
    bands[2][5, 7] = np.nan
    minima = [float(np.nanmin(b)) for b in bands]
    maxima = [float(np.nanmax(b)) for b in bands]
    trends = [1, -1, 1, -1]
    centre = [0.4, 0.3, 0.2, 0.1]
    weights = draw_dirichlet_weights(centre, 40.0, 101, 5)
    settings = dict(weights=weights, centre=centre, minima=minima, maxima=maxima, trends=trends)
    with SensitivityKernel(**settings, breaks=TABLE3_BREAKS, chunk=10_000) as whole:
        reference = whole(*[b[None] for b in bands])
    with SensitivityKernel(**settings, breaks=TABLE3_BREAKS, chunk=7, threads=2) as parts:
        top = parts(*[b[None, :13] for b in bands])
        bottom = parts(*[b[None, 13:] for b in bands])
    for ref, a, b in zip(reference, top, bottom, strict=True):
        np.testing.assert_array_equal(ref, np.concatenate([a, b]))
    mean_index, low, high, modal, stability = reference
    # NoData in one indicator: NoData everywhere.
    assert np.isnan(mean_index[5, 7]) and np.isnan(low[5, 7]) and np.isnan(stability[5, 7])
    assert modal[5, 7] == 0 and np.count_nonzero(modal == 0) == 1
    # The mean index is the composite index with the mean weights.
    np.testing.assert_array_equal(
        mean_index, composite_index(bands, whole.mean, minima, maxima, trends)
    )
    # Area means: the pixel mean of every draw's index, computed directly.
    valid = ~np.isnan(mean_index)
    columns = zip(bands, minima, maxima, trends, strict=True)
    table = np.stack([normalise(b[valid], *rest) for b, *rest in columns], axis=1)
    table = table.astype(np.float64)
    np.testing.assert_allclose(whole.area_means(), (table @ weights.T).mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(parts.area_means(), whole.area_means(), rtol=1e-12)
    assert whole.count == parts.count == valid.sum()


def test_zero_spread_reproduces_the_composite_index_bit_for_bit():
    rng = np.random.default_rng(8)
    bands = [rng.random((20, 20), dtype=np.float32) for _ in range(3)]
    centre = [0.5, 0.3, 0.2]
    weights = np.tile(centre, (50, 1))
    args = ([0, 0, 0], [1, 1, 1], [1, -1, 1])
    with SensitivityKernel(weights, centre, *args, TABLE3_BREAKS) as kernel:
        mean_index, low, high, modal, stability = kernel(*[b[None] for b in bands])
    reference = composite_index(bands, centre, *args)
    np.testing.assert_array_equal(mean_index, reference)
    np.testing.assert_array_equal(low, reference)
    np.testing.assert_array_equal(high, reference)
    np.testing.assert_array_equal(modal, classify(reference, TABLE3_BREAKS))
    assert np.all(stability == 1)


def test_chunks_bound_the_draws_memory():
    # 64 MiB for two threads' chunks of 1000 draws: 8388 pixels each; 10× the draws, 10× fewer.
    assert chunk_pixels(1000, 64 * 2**20, threads=2) == 8388
    assert chunk_pixels(10_000, 64 * 2**20, threads=2) == 838


# --- influence -------------------------------------------------------------------------------


def test_spearman_equals_scipy_and_handles_constants():
    rng = np.random.default_rng(6)
    x, y = rng.random(200), rng.random(200)
    y[:50] = x[:50]
    x[10:20] = 0.5  # ties
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).correlation, abs=1e-12)
    assert math.isnan(spearman(np.ones(5), np.arange(5.0)))


def test_influence_sign_follows_the_normalised_means():
    # Area mean A_d = Σ W_dj·T̄ⱼ with T̄ = (0.9, 0.1, 0.5): raising the first weight raises A,
    # raising the second lowers it. With only two indicators A is monotonic in w₁: ρ = ±1.
    weights = draw_dirichlet_weights([0.3, 0.3, 0.4], 30.0, 500, 2)
    rho = weight_influence(weights, weights @ np.array([0.9, 0.1, 0.5]))
    assert rho[0] > 0.5 and rho[1] < -0.5
    pair = draw_dirichlet_weights([0.5, 0.5], 30.0, 100, 2)
    np.testing.assert_allclose(
        weight_influence(pair, pair @ np.array([0.9, 0.1])), [1, -1], atol=1e-12
    )

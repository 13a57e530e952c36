"""Driver statistics: Pearson and its t test, moving-window correlation, pixel sampling,
relative contributions, RGB and dominant-driver classes, and the random forests."""

import numpy as np
import pytest
from scipy import stats

from mine_eco_plugin.core import drivers

# --- Pearson ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 4, 10, 121, 1000])
def test_p_value_is_the_two_sided_student_t(n):
    r = np.array([-0.999, -0.5, -0.1, 0.0, 0.05, 0.3, 0.8])
    t = r * np.sqrt((n - 2) / (1 - r**2))
    expected = 2 * stats.t.sf(np.abs(t), n - 2)
    np.testing.assert_allclose(drivers.correlation_p_value(r, n), expected, rtol=1e-10)


def test_p_value_edges():
    # |r| = 1: p = 0; n < 3 (no degree of freedom): NaN; r = 0: p = 1.
    assert drivers.correlation_p_value(1.0, 10) == 0.0
    assert np.isnan(drivers.correlation_p_value(0.5, 2))
    assert drivers.correlation_p_value(0.0, 50) == pytest.approx(1.0)
    # r = 0.5 from 10 pairs: t = 0.5·√(8/0.75) = 1.63299, 8 df: two-sided p = 0.1411133
    # (= 289/2048: for even df the t tail is a finite sum, here 1 − √0.25·(1 + ½·0.75 +
    # ⅜·0.75² + 5/16·0.75³)).
    assert drivers.correlation_p_value(0.5, 10) == pytest.approx(289 / 2048, rel=1e-12)


def test_pearson_equals_scipy_with_nan_pairs_dropped():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    y = 0.3 * x + rng.normal(size=200)
    x[[3, 50]] = np.nan
    y[[7]] = np.nan
    r, p, n = drivers.pearson(x, y)
    keep = np.isfinite(x) & np.isfinite(y)
    expected = stats.pearsonr(x[keep], y[keep])
    assert n == 197
    assert r == pytest.approx(expected[0], abs=1e-12)
    assert p == pytest.approx(expected[1], rel=1e-9)


def test_pearson_undefined_cases():
    assert np.isnan(drivers.pearson([1, 2], [3, 4])[0])
    assert np.isnan(drivers.pearson([1, 1, 1, 1], [1, 2, 3, 4])[0])
    assert drivers.pearson([1, 2, 3], [2, 4, 6])[:2] == (1.0, 0.0)


@pytest.mark.parametrize(
    ("p", "stars"), [(0.0099, "**"), (0.01, "*"), (0.0499, "*"), (0.05, ""), (float("nan"), "")]
)
def test_significance_stars(p, stars):
    assert drivers.significance_stars(p) == stars


# --- Local correlation --------------------------------------------------------------------------


def loop_local_r(x, y, size, min_pairs=3):
    half = size // 2
    out = np.full(x.shape, np.nan)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if np.isnan(x[i, j]) or np.isnan(y[i, j]):
                continue
            a = x[max(i - half, 0) : i + half + 1, max(j - half, 0) : j + half + 1].ravel()
            b = y[max(i - half, 0) : i + half + 1, max(j - half, 0) : j + half + 1].ravel()
            keep = np.isfinite(a) & np.isfinite(b)
            if keep.sum() >= min_pairs and np.ptp(a[keep]) > 0 and np.ptp(b[keep]) > 0:
                out[i, j] = np.corrcoef(a[keep], b[keep])[0, 1]
    return out


@pytest.mark.parametrize(("size", "min_pairs"), [(3, 3), (5, 3), (7, 20)])
def test_local_correlation_equals_a_loop(size, min_pairs):
    rng = np.random.default_rng(size)
    x = rng.normal(size=(19, 23))
    y = np.sin(x) + rng.normal(scale=0.5, size=x.shape)
    x[rng.random(x.shape) < 0.15] = np.nan
    result = drivers.local_correlation(x, y, size, min_pairs=min_pairs, threads=2)
    expected = loop_local_r(x, y, size, min_pairs)
    np.testing.assert_array_equal(np.isnan(result.r), np.isnan(expected))
    np.testing.assert_allclose(result.r, expected, atol=1e-12)
    n = np.where(np.isnan(expected), np.nan, result.pairs)
    p_expected = drivers.correlation_p_value(expected, n)
    np.testing.assert_allclose(result.p, p_expected, rtol=1e-9)


def test_local_correlation_keeps_its_digits_on_large_offsets():
    # NPP-like values near 10⁶ with unit noise: window sums of x² reach 10¹⁴, so uncentred
    # sums would lose about 12 of float64's 16 digits; centred sums keep r to 1e-9.
    rng = np.random.default_rng(4)
    x = 1e6 + rng.normal(size=(30, 30))
    y = -5e5 + 0.5 * (x - 1e6) + rng.normal(size=x.shape)
    result = drivers.local_correlation(x, y, 9)
    np.testing.assert_allclose(result.r, loop_local_r(x, y, 9), atol=1e-9)


def test_constant_windows_and_classes():
    x = np.tile(np.arange(6, dtype=float), (6, 1))
    x[:, :3] = 2.0  # constant in columns 0–2
    y = x.copy()
    y[:, 3:] = -x[:, 3:]
    result = drivers.local_correlation(x, y, 3)
    # Windows centred on columns 0 and 1 see only constant x: undefined.
    assert np.isnan(result.r[:, :2]).all() and (result.classes[:, :2] == 0).all()
    # Columns 4 and 5: windows see y = −x exactly: r = −1, p = 0, class 2 (negative).
    np.testing.assert_allclose(result.r[:, 4:], -1.0)
    assert (result.classes[:, 4:] == drivers.SIGNIFICANT_NEGATIVE).all()


def test_correlation_classes_by_hand():
    r = np.array([0.9, -0.9, 0.2, -0.2, np.nan, 0.5])
    p = np.array([0.001, 0.001, 0.3, 0.3, np.nan, 0.05])
    # p = 0.05 is not below α = 0.05: insignificant.
    np.testing.assert_array_equal(drivers.correlation_classes(r, p, 0.05), [1, 2, 3, 3, 0, 3])


def test_local_correlation_rejects_bad_arguments():
    with pytest.raises(ValueError, match="positive odd"):
        drivers.local_correlation(np.ones((3, 3)), np.ones((3, 3)), 4)
    with pytest.raises(ValueError, match="at least 3"):
        drivers.local_correlation(np.ones((3, 3)), np.ones((3, 3)), 3, min_pairs=2)


# --- Sampling -----------------------------------------------------------------------------------


def test_pixel_keys_are_deterministic_and_seed_dependent():
    index = np.arange(10_000)
    keys = drivers.pixel_keys(42, index)
    np.testing.assert_array_equal(keys, drivers.pixel_keys(42, index))
    assert len(np.unique(keys)) == 10_000
    assert (keys != drivers.pixel_keys(43, index)).mean() > 0.999
    # SplitMix64 of 0 with increment γ = 0x9E3779B97F4A7C15 (seed 0): the generator's published
    # first output for state 0, 0xE220A8397B1DCDAF.
    assert int(drivers.pixel_keys(0, np.array([0]))[0]) == 0xE220A8397B1DCDAF


def test_bottom_k_is_independent_of_how_candidates_arrive():
    rng = np.random.default_rng(0)
    index = np.arange(5000)
    keys = drivers.pixel_keys(7, index)
    values = rng.normal(size=(5000, 2))
    whole = drivers.BottomK(300, 2)
    whole.offer(keys, index, values)
    pieces = drivers.BottomK(300, 2)
    for chunk in np.array_split(rng.permutation(5000), 17):
        pieces.offer(keys[chunk], index[chunk], values[chunk])
    np.testing.assert_array_equal(whole.result()[0], pieces.result()[0])
    np.testing.assert_array_equal(whole.result()[1], pieces.result()[1])
    expected = np.sort(index[np.argsort(keys)[:300]])
    np.testing.assert_array_equal(whole.result()[0], expected)


def test_bottom_k_sample_is_uniform():
    # 2000 of 40 000 pixels: each of the 4 quarters expects 500 (binomial sd ≈ 21).
    keys = drivers.pixel_keys(11, np.arange(40_000))
    chosen = np.argsort(keys)[:2000]
    counts = np.bincount(chosen // 10_000, minlength=4)
    assert np.all(np.abs(counts - 500) < 90), counts


# --- Contributions, RGB, dominant driver --------------------------------------------------------


def test_relative_contributions_by_hand():
    predicted_all = np.array([10.0, 5.0])
    without = np.array([[8.0, 5.0], [11.0, 5.0], [10.0, 5.0]])
    actual, relative = drivers.relative_contributions(predicted_all, without)
    np.testing.assert_allclose(actual[:, 0], [2.0, -1.0, 0.0])
    # |2| / (|2| + |−1| + 0) = 66.67 %, 33.33 %, 0 %.
    np.testing.assert_allclose(relative[:, 0], [200 / 3, 100 / 3, 0.0])
    assert np.isnan(relative[:, 1]).all()  # every model agrees: undefined


@pytest.mark.parametrize(
    ("relcon", "code", "letters"),
    [
        ([70, 20, 10], 1, "C"),
        ([10, 30, 60.0001], 3, "M"),
        ([60, 30, 10], 4, "CS"),  # exactly 60 % is not above the threshold
        ([50, 40, 10], 4, "CS"),
        ([40, 50, 10], 6, "SC"),
        ([40, 10, 50], 8, "MC"),
        ([10, 40, 50], 9, "MS"),
        ([45, 45, 10], 4, "CS"),  # ties keep category order
        ([np.nan, np.nan, np.nan], 0, None),
    ],
)
def test_dominant_driver_codes(relcon, code, letters):
    relative = np.array(relcon, dtype=float)[:, None]
    assert drivers.dominant_driver(relative, 0.6)[0] == code
    classes = {c.code: c.letters for c in drivers.dominant_classes(3, ["C", "S", "M"])}
    assert classes.get(code) == letters


def test_dominant_classes_for_any_number_of_categories():
    classes = drivers.dominant_classes(4, list("ABCD"))
    assert len(classes) == 4 + 12
    relative = np.zeros((4, 12))
    for k, item in enumerate(c for c in classes if len(c.categories) == 2):
        i, j = item.categories
        relative[i, k], relative[j, k] = 50, 30
        relative[[m for m in range(4) if m not in (i, j)], k] = 10
        assert drivers.dominant_driver(relative[:, k : k + 1], 0.6)[0] == item.code


def test_rgb_composite():
    relative = np.array([[100.0, 20.0, np.nan], [0.0, 30.0, np.nan], [0.0, 50.0, np.nan]])
    rgb = drivers.rgb_composite(relative, [1, 2, 0])
    # red = category 1, green = 2, blue = 0; 30 % → round(76.5) = 76 and 50 % → round(127.5) =
    # 128 (half to even).
    np.testing.assert_array_equal(rgb[:, 0], [0, 0, 255, 255])
    np.testing.assert_array_equal(rgb[:, 1], [76, 128, 51, 255])
    np.testing.assert_array_equal(rgb[:, 2], [0, 0, 0, 0])


def test_category_letters():
    assert drivers.category_letters(["climate", "soil", "mining"]) == ["C", "S", "M"]
    assert drivers.category_letters(["soil", "slope", "mining"]) == ["SO", "SL", "MI"]


# --- Forests ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def forest_data():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (250, 3))
    y = 8 * x[:, 0] + rng.normal(0, 0.3, 250)  # only x0 matters
    return x, y


def test_resampling_bookkeeping():
    pytest.importorskip("sklearn")
    from mine_eco_plugin.core.drivers_forest import Resampling, default_mtry

    resampling = Resampling.draw(50, 8, seed=3)
    for rows, in_bag in zip(resampling.rows, resampling.in_bag, strict=True):
        np.testing.assert_array_equal(np.flatnonzero(in_bag), np.unique(rows))
    # About 36.8 % (e⁻¹) of the points are out of bag for each tree.
    assert 0.25 < (~resampling.in_bag).mean() < 0.5
    assert [default_mtry(p) for p in (1, 2, 3, 12)] == [1, 1, 1, 4]


def test_oob_scores_and_importance(forest_data):
    from mine_eco_plugin.core.drivers_forest import (
        ForestSettings,
        Resampling,
        fit_forest,
        oob_permutation_importance,
    )

    x, y = forest_data
    settings = ForestSettings(trees=80, seed=2)
    resampling = Resampling.draw(len(y), 80, 2)
    forest = fit_forest(x, y, [0, 1, 2], resampling, settings)
    # OOB R² and RMSE from the OOB predictions by their definitions.
    residual = y - forest.oob_prediction
    assert forest.oob_r2 == pytest.approx(1 - residual @ residual / np.sum((y - y.mean()) ** 2))
    assert forest.oob_rmse == pytest.approx(np.sqrt(np.mean(residual**2)))
    assert forest.oob_r2 > 0.9
    # OOB prediction of point 0: the mean of the trees that left it out.
    trees = [t for t, b in zip(forest.trees, resampling.in_bag, strict=True) if not b[0]]
    by_hand = np.mean([t.predict(x[:1].astype(np.float32))[0] for t in trees])
    assert forest.oob_prediction[0] == pytest.approx(by_hand)
    importance = oob_permutation_importance(forest, x, y, resampling, threads=2)
    # Permuting x0 destroys the fit: its increase of the MSE is about 2·var(8·x0) ≈ 10.7.
    assert importance.increase[0] > 5
    assert importance.percent()[0] > 90
    assert importance.percent().sum() == pytest.approx(100)
    assert np.all(importance.scaled[1:] < importance.scaled[0])


def test_forest_prediction_does_not_depend_on_threads(forest_data):
    from mine_eco_plugin.core.drivers_forest import ForestSettings, Resampling, fit_forest

    x, y = forest_data
    settings = ForestSettings(trees=30, seed=1, threads=3)
    forest = fit_forest(x, y, [0, 2], Resampling.draw(len(y), 30, 1), settings)
    grid = np.random.default_rng(0).uniform(0, 1, (1000, 3)).astype(np.float32)
    one = forest.predict(grid, threads=1)
    np.testing.assert_array_equal(one, forest.predict(grid, threads=2))
    np.testing.assert_array_equal(one, forest.predict(grid, threads=3))
    by_hand = np.mean([t.predict(grid[:, [0, 2]]) for t in forest.trees], axis=0)
    np.testing.assert_allclose(one, by_hand, rtol=1e-12)


def test_factorial_experiments_need_two_filled_categories(forest_data):
    from mine_eco_plugin.core.drivers_forest import ForestSettings, factorial_experiments

    x, y = forest_data
    with pytest.raises(ValueError, match="two driver categories"):
        factorial_experiments(x, y, [0, 0, 0], ["a"], ForestSettings(trees=2))
    with pytest.raises(ValueError, match="at least one driver"):
        factorial_experiments(x, y, [0, 0, 0], ["a", "b"], ForestSettings(trees=2))


def test_classes_by_critical_r_equal_classes_by_p():
    # |r| > r_c(n, α) is the t test p < α: the classes need no p values.
    rng = np.random.default_rng(6)
    x = rng.normal(size=(60, 60))
    y = 0.25 * x + rng.normal(size=x.shape)
    x[rng.random(x.shape) < 0.3] = np.nan  # varying n
    with_p = drivers.local_correlation(x, y, 5, alpha=0.1)
    without_p = drivers.local_correlation(x, y, 5, alpha=0.1, p_values=False)
    assert without_p.p is None
    np.testing.assert_array_equal(with_p.r, without_p.r)
    np.testing.assert_array_equal(
        with_p.classes, drivers.correlation_classes(with_p.r, with_p.p, 0.1)
    )
    np.testing.assert_array_equal(with_p.classes, without_p.classes)
    # Critical r of the textbook tables (two-sided 5 %): 8 df 0.632, 28 df 0.361.
    np.testing.assert_allclose(drivers.critical_r([10, 30], 0.05), [0.6319, 0.3610], atol=1e-4)


def test_constant_and_near_constant_drivers():
    from mine_eco_plugin.core import drivers as D

    x = np.column_stack(
        [
            np.arange(100.0),  # varies
            np.full(100, 7.5),  # constant
            np.full(100, 1000.0) + np.r_[np.zeros(99), 1e-4],  # spread 1e-4 ≤ 1e-6·1000
            np.r_[np.zeros(97), np.ones(3)],  # 97 zeros, 3 ones
            np.full(100, np.nan),  # no valid value
        ]
    )
    assert D.constant_drivers(x) == [1, 2, 4]
    # 97 zeros vs 3 ones: ratio 97/3 = 32.3 > 19 and 2 distinct values = 2 % < 10 %: flagged.
    flagged, ratio, unique = D.near_zero_variance(x[:, 3])
    assert flagged and ratio == pytest.approx(97 / 3) and unique == pytest.approx(2.0)
    # 90 zeros vs 10 ones: ratio 9 ≤ 19: not flagged.
    flagged, ratio, _ = D.near_zero_variance(np.r_[np.zeros(90), np.ones(10)])
    assert not flagged and ratio == pytest.approx(9.0)
    assert D.near_zero_variance(x[:, 0]) == (False, 1.0, 100.0)

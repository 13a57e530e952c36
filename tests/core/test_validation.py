"""Agreement statistics of simulated against reference values (core.validation)."""

import math

import numpy as np
import pytest

from mine_eco_plugin.core import validation


def test_agreement_by_hand():
    # s = 2, 4, 6, 8; r = 1, 4, 5, 10. Differences 1, 0, 1, −2: bias = 0/4 = 0,
    # RMSE = √((1 + 0 + 1 + 4)/4) = √1.5 = 1.224745. Means 5 and 5.
    # r: ds = −3, −1, 1, 3; dr = −4, −1, 0, 5; Σds·dr = 12 + 1 + 0 + 15 = 28;
    # Σds² = 20, Σdr² = 16 + 1 + 0 + 25 = 42 → r = 28/√(20·42) = 0.966092.
    sums = validation.PairSums()
    sums.add(np.array([2.0, 4.0]), np.array([1.0, 4.0]))
    sums.add(np.array([6.0, 8.0]), np.array([5.0, 10.0]))
    result = validation.Agreement.of(sums)
    assert result.n == 4
    assert result.mean_simulated == pytest.approx(5.0)
    assert result.mean_reference == pytest.approx(5.0)
    assert result.bias == pytest.approx(0.0, abs=1e-12)
    assert result.rmse == pytest.approx(math.sqrt(1.5))
    assert result.r == pytest.approx(28 / math.sqrt(20 * 42))


def test_agreement_matches_numpy_on_large_offsets():
    # NPP-like values far from 0: the shifted sums keep r and RMSE to numpy's precision.
    rng = np.random.default_rng(3)
    r = 1e6 + rng.normal(600, 150, 5000)
    s = r + rng.normal(20, 40, 5000)
    sums = validation.PairSums()
    for part in np.array_split(np.arange(5000), 7):
        sums.add(s[part], r[part])
    result = validation.Agreement.of(sums)
    assert result.bias == pytest.approx(np.mean(s - r), rel=1e-9)
    assert result.rmse == pytest.approx(np.sqrt(np.mean((s - r) ** 2)), rel=1e-9)
    assert result.r == pytest.approx(np.corrcoef(s, r)[0, 1], rel=1e-9)


def test_grouped_pairs_per_class_and_undefined_r():
    grouped = validation.GroupedPairs()
    grouped.add([1.0, 2.0, 3.0, np.nan], [1.0, 2.0, 5.0, 1.0], classes=[1, 1, 2, 2])
    (key_all, total), (key1, one), (key2, two) = grouped.results()
    assert (key_all, key1, key2) == ("all", 1, 2)
    assert total.n == 3 and one.n == 2 and two.n == 1
    assert one.r == pytest.approx(1.0)
    # One pair: bias and RMSE defined (3 − 5 = −2), r undefined.
    assert two.bias == -2.0 and two.rmse == 2.0 and math.isnan(two.r)
    assert two.relative_bias == pytest.approx(-0.4)


def test_points_in_one_pixel_are_one_observation():
    pixels, means, counts = validation.pixel_means([5, 3, 5, 5], [1.0, 7.0, 2.0, 6.0])
    assert pixels.tolist() == [3, 5]
    assert means.tolist() == [7.0, 3.0]
    assert counts.tolist() == [1, 3]

"""Albedo–NDVI fit and DDI: hand-computed line, streamed fit against numpy's on one array."""

import numpy as np
import pytest

from mine_eco_plugin.core import desertification


def test_fit_and_index_by_hand():
    # N = 0, 1/4, 1/2, 3/4, 1; A = 1, 5/6, 1/2, 1/3, 0.
    n = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    a = np.array([1.0, 5 / 6, 0.5, 1 / 3, 0.0])
    fit = desertification.LinearFit.of(n, a)
    # N̄ = 0.5, Ā = 16/30 = 8/15; Sxx = 0.625; Sxy = −7/30 − 0.075 + 0 − 0.05 − 4/15 = −0.625
    # a = Sxy/Sxx = −1; b = 8/15 + 0.5 = 31/30; Syy = 0.633333; r² = 0.625²/(0.625·0.633333)
    # = 0.986842
    assert fit.slope == pytest.approx(-1.0)
    assert fit.intercept == pytest.approx(31 / 30)
    assert fit.r_squared == pytest.approx(0.986842, abs=1e-6)
    k = desertification.ddi_k(fit.slope)
    assert k == pytest.approx(1.0)
    # DDI = k·N − A = −1, −7/12, 0, 5/12, 1
    np.testing.assert_allclose(
        desertification.desertification_index(n, a, k), [-1, -7 / 12, 0, 5 / 12, 1]
    )


def test_streamed_fit_equals_numpy_on_the_whole_array():
    rng = np.random.default_rng(4)
    x = rng.random(10_000)
    y = 0.8 - 0.6 * x + 0.05 * rng.standard_normal(x.size)
    x[::97] = np.nan
    fit = desertification.LinearFit()
    for part in np.array_split(np.arange(x.size), 13):
        fit.update(x[part], y[part])
    valid = ~np.isnan(x)
    slope, intercept = np.polyfit(x[valid], y[valid], 1)
    assert fit.count == valid.sum()
    assert fit.slope == pytest.approx(slope, rel=1e-10)
    assert fit.intercept == pytest.approx(intercept, rel=1e-10)
    assert fit.r_squared == pytest.approx(np.corrcoef(x[valid], y[valid])[0, 1] ** 2, rel=1e-10)


def test_positive_slope_and_empty_range_are_errors():
    with pytest.raises(ValueError, match="negative slope"):
        desertification.ddi_k(0.3)
    with pytest.raises(ValueError, match="empty"):
        desertification.normalise(np.array([1.0]), 2.0, 2.0)
    # Percentile normalisation clips to [0, 1].
    np.testing.assert_allclose(
        desertification.normalise(np.array([-1.0, 0.5, 3.0]), 0.0, 1.0), [0, 0.5, 1]
    )

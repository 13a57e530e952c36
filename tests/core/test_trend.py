"""Sen's slope and Mann–Kendall by hand and against scipy."""

import numpy as np
import pytest
from scipy import stats

from mine_eco_plugin.core import trend

YEARS = [2000, 2005, 2010, 2016, 2020]


def column(values):
    return np.asarray(values, dtype=np.float64)[:, None]


def test_hand_worked_series():
    # x = 0.50, 0.48, 0.49, 0.45, 0.44 over 2000, 2005, 2010, 2016, 2020.
    # Signs of x_j − x_i for the 10 pairs: (0,1) −, (0,2) −, (0,3) −, (0,4) −, (1,2) +,
    # (1,3) −, (1,4) −, (2,3) −, (2,4) −, (3,4) −  → S = 1 − 9 = −8.
    # No ties: Var = 5·4·15/18 = 16.6667; Z = (−8 + 1)/4.08248 = −1.71464;
    # p = 2(1 − Φ(1.71464)) = 0.086411.
    # Pairwise slopes (per year): −0.004, −0.001, −0.003125, −0.003, +0.0002, −0.0027273,
    # −0.0026667, −0.0066667, −0.005, −0.0025 → sorted middle two −0.0027273, −0.003
    # → median −0.00286364.
    x = column([0.50, 0.48, 0.49, 0.45, 0.44])
    s, variance, n = trend.mann_kendall(x, YEARS)
    assert (s[0], n[0]) == (-8, 5)
    assert variance[0] == pytest.approx(16.666667)
    slope, z, p, classes = trend.index_trend(x, YEARS, alpha=0.1)
    assert z[0] == pytest.approx(-1.71464, abs=1e-5)
    assert p[0] == pytest.approx(0.086411, abs=1e-5)
    assert slope[0] == pytest.approx(-0.00286364, abs=1e-7)
    assert classes[0] == trend.DECLINE  # p 0.086 ≤ α 0.1
    assert trend.index_trend(x, YEARS, alpha=0.05)[3][0] == trend.NO_CHANGE


def test_ties_reduce_the_variance():
    # x = 1, 2, 2, 3 (one tie group of 2): Var = [4·3·13 − 2·1·9]/18 = (156 − 18)/18 = 7.6667
    s, variance, _ = trend.mann_kendall(column([1, 2, 2, 3]), [1, 2, 3, 4])
    assert s[0] == 5 and variance[0] == pytest.approx(7.666667)


def test_against_scipy_kendalltau_and_theilslopes():
    rng = np.random.default_rng(4)
    years = np.array([2000, 2003, 2005, 2010, 2011, 2016, 2020], dtype=float)
    series = np.round(rng.normal(size=(7, 200)) + 0.05 * (years[:, None] - 2000), 1)  # ties
    s, variance, _ = trend.mann_kendall(series, years)
    slope = trend.sens_slope(series, years)
    for k in range(series.shape[1]):
        x = series[:, k]
        tau = stats.kendalltau(years, x, method="asymptotic")
        # Distinct years: tau-b = S / √(n0 (n0 − n2)), n0 = n(n−1)/2, n2 = Σ t(t−1)/2 over ties
        # of x; scipy's asymptotic z (no continuity correction) is S/√Var(S).
        _, counts = np.unique(x, return_counts=True)
        n0, n2 = 21, (counts * (counts - 1) / 2).sum()
        assert s[k] == pytest.approx(tau.statistic * np.sqrt(n0 * (n0 - n2)), abs=1e-9)
        if variance[k] > 0 and s[k] != 0:
            z = s[k] / np.sqrt(variance[k])
            assert 2 * stats.norm.sf(abs(z)) == pytest.approx(tau.pvalue, rel=1e-9)
        assert slope[k] == pytest.approx(stats.theilslopes(x, years).slope, abs=1e-12)


def test_missing_years_and_minimum():
    series = column([0.1, np.nan, 0.3, 0.4, np.nan])
    slope, z, p, classes = trend.index_trend(series, YEARS, min_years=3)
    # Valid: 2000 0.1, 2010 0.3, 2016 0.4 → S = 3, Var = 3·2·11/18 = 3.6667, Z = 2/1.91485.
    assert z[0] == pytest.approx(2 / np.sqrt(11 / 3))
    assert slope[0] == pytest.approx(np.median([0.02, 0.3 / 16, 0.1 / 6]))
    assert np.isnan(trend.index_trend(series, YEARS, min_years=4)[0][0])


def test_all_tied_is_no_change():
    slope, z, p, classes = trend.index_trend(column([0.5] * 5), YEARS)
    assert (slope[0], z[0], p[0], classes[0]) == (0, 0, 1, trend.NO_CHANGE)

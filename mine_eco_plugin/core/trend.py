"""Monotonic trend of a short series per pixel: Sen's slope and the Mann–Kendall test.

Series are stacks (years, rows, cols) with NaN for missing years; years may be unevenly spaced
(e.g. 2000, 2005, 2010, 2016, 2020). Everything is vectorised over pixels and loops only over
the n(n−1)/2 pairs of years, so a block of any size costs O(pairs × pixels).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

#: Trend classes of ``trend_class``.
DECLINE, NO_CHANGE, IMPROVEMENT = 1, 2, 3


def _pairs(n: int):
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def sens_slope(series: np.ndarray, years) -> np.ndarray:
    """Sen's (1968) slope: the median of (x_j − x_i)/(t_j − t_i) over all pairs of valid years,
    in units of x per year. NaN where fewer than two years are valid.

    Sen, P.K. (1968) Estimates of the regression coefficient based on Kendall's tau. JASA 63,
    1379–1389.
    """
    series = np.asarray(series, dtype=np.float64)
    years = np.asarray(years, dtype=np.float64)
    if series.shape[0] != years.size:
        raise ValueError(f"{series.shape[0]} layers for {years.size} years")
    slopes = np.stack(
        [(series[j] - series[i]) / (years[j] - years[i]) for i, j in _pairs(years.size)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels → NaN, silently
        return np.nanmedian(slopes, axis=0)


def mann_kendall(series: np.ndarray, years) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann–Kendall statistic S, its variance with the tie correction, and the count of valid
    years n, per pixel. Years are taken in increasing order (they are sorted here).

    S = Σ_{i<j} sign(x_j − x_i)
    Var(S) = [n(n − 1)(2n + 5) − Σ_g t_g(t_g − 1)(2t_g + 5)] / 18, t_g the size of tie group g
    (Mann 1945; Kendall 1975; the tie term as in Hirsch, Slack & Smith 1982). Missing years
    are left out of both sums, so n varies by pixel.
    """
    series = np.asarray(series, dtype=np.float64)
    order = np.argsort(np.asarray(years, dtype=np.float64))
    series = series[order]
    valid = ~np.isnan(series)
    n = valid.sum(axis=0)
    s = np.zeros(series.shape[1:])
    for i, j in _pairs(series.shape[0]):
        s += np.nan_to_num(np.sign(series[j] - series[i]))
    # Σ over tie groups of t(t−1)(2t+5) = Σ over values of (m − 1)(2m + 5), m the number of
    # valid values equal to that value (its group's size t, counted once per member).
    ties = np.zeros(series.shape[1:])
    for i in range(series.shape[0]):
        m = (series == series[i]).sum(axis=0)  # NaN equals nothing: m = 0 for missing values
        ties += np.where(valid[i], (m - 1) * (2 * m + 5), 0)
    variance = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    return s, variance, n


def mann_kendall_z(s: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Z with the continuity correction: (S − 1)/√Var for S > 0, (S + 1)/√Var for S < 0, 0 for
    S = 0 (which includes series whose values are all tied)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(variance)
        return np.where(s > 0, (s - 1) / root, np.where(s < 0, (s + 1) / root, 0.0))


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """p = 2·(1 − Φ(|Z|)) = erfc(|Z|/√2) under the normal approximation."""
    from scipy.special import erfc

    return erfc(np.abs(z) / math.sqrt(2.0))


def trend_class(z: np.ndarray, p: np.ndarray, alpha: float) -> np.ndarray:
    """1 significant decline (Z < 0, p ≤ α), 2 no significant change, 3 significant
    improvement (Z > 0, p ≤ α)."""
    classes = np.where(
        p <= alpha, np.where(z > 0, IMPROVEMENT, np.where(z < 0, DECLINE, NO_CHANGE)), NO_CHANGE
    )
    return classes.astype(np.float32)


def index_trend(series: np.ndarray, years, alpha: float = 0.05, min_years: int = 3):
    """Sen's slope, Mann–Kendall Z and p, and the trend class, per pixel (float32 each).

    Pixels with fewer than ``min_years`` valid years are NaN in every output.
    """
    slope = sens_slope(series, years)
    s, variance, n = mann_kendall(series, years)
    z = mann_kendall_z(s, variance)
    p = two_sided_p(z)
    classes = trend_class(z, p, alpha)
    few = n < max(int(min_years), 2)
    outputs = []
    for values in (slope, z, p, classes):
        outputs.append(np.where(few, np.nan, values).astype(np.float32))
    return tuple(outputs)

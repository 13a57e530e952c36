"""Driver analysis statistics of the NPP-drivers study (Tian et al. 2022, §2.4.1 and §2.4.2).

Pure numpy/scipy, no QGIS: Pearson correlation with its Student-t test, the location-specific
(moving-window) correlation coefficient, reproducible random sampling of raster pixels, and the
per-pixel relative contributions, RGB composite and dominant-driver classes of the random-forest
factorial experiments (Eq. 6–7). The forests themselves are in ``drivers_forest.py`` (it needs
scikit-learn).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .windows import box_count, box_sum, check_window

#: Significance marks of the study's Figure 3: ** p < 0.01, * p < 0.05.
STAR_LEVELS = ((0.01, "**"), (0.05, "*"))

#: Class codes of the local correlation class raster (SPEC.md).
SIGNIFICANT_POSITIVE, SIGNIFICANT_NEGATIVE, INSIGNIFICANT = 1, 2, 3

_EPS = np.finfo(np.float64).eps


# --- Pearson correlation and its t test ---------------------------------------------------------


def correlation_p_value(r, n):
    """Two-sided p of Pearson's r from n pairs: Student's t with n − 2 degrees of freedom.

    t = r·√((n − 2)/(1 − r²)),  p = 2·P(T_{n−2} > |t|)  — the test SPSS and scipy.stats.pearsonr
    report. Computed with ``scipy.special.stdtr`` (the Student-t CDF behind
    ``scipy.stats.t.sf``). NaN where n < 3 or r is NaN; p = 0 where |r| = 1.

    >>> round(float(correlation_p_value(0.5, 10)), 6)
    0.141113
    """
    from scipy import special

    r = np.asarray(r, dtype=np.float64)
    df = np.asarray(n, dtype=np.float64) - 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(r) * np.sqrt(df / (1.0 - r * r))
        p = 2.0 * special.stdtr(df, -t)
    return np.where(df >= 1, p, np.nan)


def pearson(x, y) -> tuple[float, float, int]:
    """Pearson's r, its two-sided p (t test, n − 2 df) and n over the pairs where both are valid.

    r = Σ(x − x̄)(y − ȳ) / √[Σ(x − x̄)² Σ(y − ȳ)²]  (Pearson 1896). NaN r and p when fewer than
    three pairs or when either variable is constant.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    valid = np.isfinite(x) & np.isfinite(y)
    n = int(valid.sum())
    if n < 3:
        return float("nan"), float("nan"), n
    dx = x[valid] - x[valid].mean()
    dy = y[valid] - y[valid].mean()
    sxx, syy = float(dx @ dx), float(dy @ dy)
    if sxx == 0.0 or syy == 0.0:
        return float("nan"), float("nan"), n
    r = float(np.clip((dx @ dy) / np.sqrt(sxx * syy), -1.0, 1.0))
    return r, float(correlation_p_value(r, n)), n


def significance_stars(p: float) -> str:
    """'**' for p < 0.01, '*' for p < 0.05, '' otherwise (the study's Figure 3)."""
    if p is None or not np.isfinite(p):
        return ""
    for level, stars in STAR_LEVELS:
        if p < level:
            return stars
    return ""


# --- Location-specific correlation (moving window) ----------------------------------------------


@dataclass
class LocalCorrelation:
    """Per-pixel results of ``local_correlation`` (all the block's shape)."""

    r: np.ndarray  # float64, NaN where undefined
    p: np.ndarray | None  # float64, NaN where undefined; None when not asked for
    pairs: np.ndarray  # float64 whole numbers: valid pairs in the window
    classes: np.ndarray  # uint8: 1 significant +, 2 significant −, 3 insignificant, 0 NoData


def _parallel(functions, threads: int):
    """Results of the zero-argument ``functions``, in order (numpy releases the GIL)."""
    if threads <= 1 or len(functions) <= 1:
        return [f() for f in functions]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mineeco-drivers") as pool:
        return list(pool.map(lambda f: f(), functions))


def _rows_in_parallel(function, arrays: Sequence[np.ndarray], threads: int) -> np.ndarray:
    """``function(*arrays)`` evaluated on row slices in ``threads`` threads, reassembled."""
    rows = arrays[0].shape[0]
    if threads <= 1 or rows < 2 * threads:
        return function(*arrays)
    edges = np.linspace(0, rows, threads + 1).astype(int)
    parts = _parallel(
        [
            (lambda a=a, b=b: function(*(array[a:b] for array in arrays)))
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ],
        threads,
    )
    return np.concatenate(parts, axis=0)


def critical_r(n, alpha: float):
    """The smallest |r| significant at ``alpha`` (two-sided) with n pairs: r_c = t_c / √(n − 2 +
    t_c²), t_c the 1 − α/2 quantile of Student's t with n − 2 df. |r| > r_c ⇔ p < α (the t
    statistic grows monotonically with |r|). NaN where n < 3.

    >>> round(float(critical_r(10, 0.05)), 4)  # tables of r: 0.6319 for 8 df at 5 %
    0.6319
    """
    from scipy import special

    df = np.asarray(n, dtype=np.float64) - 2.0
    with np.errstate(invalid="ignore"):
        t = special.stdtrit(np.maximum(df, 1.0), 1.0 - alpha / 2.0)
        return np.where(df >= 1, t / np.sqrt(df + t * t), np.nan)


def local_correlation(
    x: np.ndarray,
    y: np.ndarray,
    window: int,
    *,
    min_pairs: int = 3,
    alpha: float = 0.05,
    p_values: bool = True,
    threads: int = 1,
) -> LocalCorrelation:
    """Pearson r between ``x`` and ``y`` in a ``window`` × ``window`` moving window at every pixel
    (the location-specific correlation coefficient, LCC, of Tian et al. 2022 §2.4.1, after Zhu et
    al. 2020 and Zhou et al. 2021), with its t-test p and significance class.

    From window sums over the n valid pairs (NaN in either raster drops the pair):
    Cxy = Σxy − ΣxΣy/n,  Cxx = Σx² − (Σx)²/n,  Cyy = Σy² − (Σy)²/n,  r = Cxy / √(Cxx·Cyy);
    p from Student's t with n − 2 df (``correlation_p_value``). The sums come from summed-area
    tables (``windows.box_sum``): O(1) per pixel whatever the window. x and y are centred on
    their mean over the block's valid pairs first, so the sums do not lose the digits that
    separate a window's variance from its mean.

    NoData (NaN r, p; class 0): the centre pixel is NoData in x or y; the window holds fewer than
    ``min_pairs`` (≥ 3) valid pairs; x or y is constant in the window (variance below 1e-9 of
    the block's variance per pair, or below the summed-area tables' rounding). Classes:
    1 p < α and r > 0, 2 p < α and r < 0, 3 otherwise — decided as |r| > ``critical_r(n, α)``,
    which is the same test and lets ``p_values=False`` skip the costlier p (then ``p`` is None).

    Windows reaching past the array edge use the pixels inside; pass blocks with a halo of
    ``window // 2`` pixels (NaN beyond the raster) and crop it to get whole-raster results.
    """
    window = check_window(window)
    if int(min_pairs) < 3:
        raise ValueError(
            f"min_pairs must be at least 3 (n − 2 ≥ 1 degree of freedom), got {min_pairs}"
        )
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"x and y must be 2-D arrays of one shape, got {x.shape} and {y.shape}")
    valid = np.isfinite(x) & np.isfinite(y)
    shape = x.shape
    if not valid.any():
        nan = np.full(shape, np.nan)
        return LocalCorrelation(
            nan, nan.copy() if p_values else None, np.zeros(shape), np.zeros(shape, np.uint8)
        )
    count = int(valid.sum())
    # Zeros (not NaN) at invalid pairs: they add nothing to the sums, as NaN would in box_sum.
    xc = np.where(valid, x - x[valid].mean(), 0.0)
    yc = np.where(valid, y - y[valid].mean(), 0.0)
    n, sx, sy, sxx, syy, sxy = _parallel(
        [
            lambda: box_count(valid, window),
            lambda: box_sum(xc, window),
            lambda: box_sum(yc, window),
            lambda: box_sum(xc * xc, window),
            lambda: box_sum(yc * yc, window),
            lambda: box_sum(xc * yc, window),
        ],
        threads,
    )
    total_xx = float(np.vdot(xc, xc))
    total_yy = float(np.vdot(yc, yc))
    with np.errstate(divide="ignore", invalid="ignore"):
        # A constant window has Cxx = 0 exactly in exact arithmetic; in floating point it is a
        # rounding residue of the window sums (≈ ε·|summed-area table|) or of the subtraction
        # (≈ ε·Σx²). Such windows, and windows whose variance is below 1e-9 of the block's,
        # are treated as constant: r is undefined there, as in R's cor().
        tol_x = n * (1e-9 * total_xx / count) + 64 * _EPS * total_xx + (64 * _EPS) * sxx
        tol_y = n * (1e-9 * total_yy / count) + 64 * _EPS * total_yy + (64 * _EPS) * syy
        mean_y = sy / n
        sxy -= sx * mean_y  # Cxy
        syy -= sy * mean_y  # Cyy
        sx *= sx
        sx /= n
        sxx -= sx  # Cxx
        defined = valid & (n >= int(min_pairs)) & (sxx > tol_x) & (syy > tol_y)
        del tol_x, tol_y, mean_y, sx, sy
        # In place: r = Cxy / √(Cxx·Cyy), clipped to [−1, 1] against rounding.
        sxx *= syy
        np.sqrt(sxx, out=sxx)
        r = np.divide(sxy, sxx, out=sxy)
        np.clip(r, -1.0, 1.0, out=r)
        r[~defined] = np.nan
    del sxx, syy
    # Critical |r| per number of pairs (whole numbers 0 … window²): one lookup per pixel.
    table = critical_r(np.arange(window * window + 1), alpha)
    r_critical = table[n.astype(np.intp)]
    classes = np.zeros(shape, dtype=np.uint8)
    classes[defined] = INSIGNIFICANT
    significant = defined & (np.abs(r) > r_critical)
    classes[significant & (r > 0)] = SIGNIFICANT_POSITIVE
    classes[significant & (r < 0)] = SIGNIFICANT_NEGATIVE
    p = None
    if p_values:
        p = _rows_in_parallel(correlation_p_value, (r, n), threads)
        p[~defined] = np.nan
    return LocalCorrelation(r, p, n, classes)


def correlation_classes(r: np.ndarray, p: np.ndarray, alpha: float) -> np.ndarray:
    """1 significant positive (p < α, r > 0), 2 significant negative (p < α, r < 0),
    3 insignificant; 0 where r or p is NaN (NoData)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    classes = np.zeros(np.shape(r), dtype=np.uint8)
    defined = np.isfinite(r) & np.isfinite(p)
    significant = defined & (p < alpha)
    classes[defined] = INSIGNIFICANT
    classes[significant & (r > 0)] = SIGNIFICANT_POSITIVE
    classes[significant & (r < 0)] = SIGNIFICANT_NEGATIVE
    return classes


# --- Reproducible random sampling of pixels -----------------------------------------------------

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def pixel_keys(seed: int, index: np.ndarray) -> np.ndarray:
    """A pseudo-random 64-bit key per pixel: SplitMix64 (Steele et al. 2014) of the pixel's
    linear index on the output grid, mixed with ``seed``.

    The key of a pixel depends only on the seed and the pixel, not on the order or size of
    the blocks it is read in, so a sample drawn from the keys is the same whatever the memory
    budget. Keeping the k valid pixels with the smallest keys is a uniform random sample of k
    pixels without replacement (bottom-k or priority sampling, equivalent to a reservoir).
    """
    golden = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = np.asarray(index, dtype=np.uint64) + np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF) * golden
        z = z + golden
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z & _MASK64


class BottomK:
    """The ``k`` smallest keys offered so far, with their pixel indices and values (streaming)."""

    def __init__(self, k: int, width: int):
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = int(k)
        self.keys = np.empty(0, dtype=np.uint64)
        self.index = np.empty(0, dtype=np.int64)
        self.values = np.empty((0, width), dtype=np.float64)
        self.offered = 0

    def offer(self, keys: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
        """Add candidates (``values``: one row per candidate)."""
        self.offered += len(keys)
        keys = np.concatenate([self.keys, np.asarray(keys, dtype=np.uint64)])
        index = np.concatenate([self.index, np.asarray(index, dtype=np.int64)])
        values = np.concatenate([self.values, np.asarray(values, dtype=np.float64)])
        if len(keys) > self.k:
            # Ties in the key (probability ~k²/2⁶⁴) go to the smaller pixel index.
            keep = np.lexsort((index, keys))[: self.k]
            keys, index, values = keys[keep], index[keep], values[keep]
        self.keys, self.index, self.values = keys, index, values

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(pixel indices, values) of the sample, in raster order (row by row)."""
        order = np.argsort(self.index, kind="stable")
        return self.index[order], self.values[order]


# --- Drivers a forest cannot learn from ---------------------------------------------------------

#: A driver whose sample spread (max − min) is at most this fraction of its largest magnitude
#: is constant up to float32 rounding (the drivers are read as float32).
CONSTANT_TOLERANCE = 1e-6
#: Near-zero variance (Kuhn & Johnson 2013, §3.5; caret's nearZeroVar defaults): the most
#: common value at least 19 times (95/5) as frequent as the second, and fewer than 10 % of the
#: sample values distinct.
NEAR_ZERO_FREQUENCY_RATIO = 95 / 5
NEAR_ZERO_UNIQUE_PERCENT = 10.0


def constant_drivers(x: np.ndarray) -> list[int]:
    """Columns of the sample ``x`` (points, drivers) that are constant: spread ≤
    ``CONSTANT_TOLERANCE`` × max |value| (NaN ignored; an all-NaN column counts as constant)."""
    x = np.asarray(x, dtype=np.float64)
    found = []
    for column in range(x.shape[1]):
        values = x[:, column][np.isfinite(x[:, column])]
        if values.size == 0:
            found.append(column)
            continue
        spread = float(values.max() - values.min())
        if spread <= CONSTANT_TOLERANCE * float(np.abs(values).max()):
            found.append(column)
    return found


def near_zero_variance(values: np.ndarray) -> tuple[bool, float, float]:
    """(flagged, frequency ratio of the most common to the second most common value, % of
    distinct values) of one driver's sample, by caret's nearZeroVar rule."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return True, math.inf, 0.0
    _, counts = np.unique(values, return_counts=True)
    unique_percent = 100.0 * counts.size / values.size
    if counts.size == 1:
        return True, math.inf, unique_percent
    top = np.sort(counts)[::-1]
    ratio = float(top[0] / top[1])
    flagged = ratio > NEAR_ZERO_FREQUENCY_RATIO and unique_percent < NEAR_ZERO_UNIQUE_PERCENT
    return flagged, ratio, unique_percent


# --- Relative contributions, RGB and dominant drivers (Eq. 6–7) ---------------------------------


def relative_contributions(
    predicted_all: np.ndarray, predicted_without: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ActCon and RelCon of each category from the factorial experiments (Tian et al. 2022,
    Eq. 6–7, after Li et al. 2022).

    ``predicted_all``: (pixels,) predictions of RF_all; ``predicted_without``: (categories,
    pixels) predictions of RF without each category. ActCon_c = ŷ_all − ŷ_¬c (target units);
    RelCon_c = |ActCon_c| / Σ_c |ActCon_c| × 100 (%). RelCon is NaN where every ActCon is 0.
    """
    actual = np.asarray(predicted_all)[np.newaxis] - np.asarray(predicted_without)
    magnitude = np.abs(actual)
    total = magnitude.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(total > 0, magnitude / total * 100.0, np.nan)
    return actual, relative


def rgb_composite(relative: np.ndarray, channels: Sequence[int]) -> np.ndarray:
    """8-bit RGBA of the relative contributions: band b = round(RelCon of category
    ``channels[b]`` × 255 / 100) (half to even), alpha 255 where RelCon is defined, 0
    (transparent) elsewhere.

    ``relative``: (categories, …) in %; ``channels``: the category index shown in red, green and
    blue (−1 leaves a channel at 0, for two categories).
    """
    relative = np.asarray(relative, dtype=np.float64)
    shape = relative.shape[1:]
    defined = np.all(np.isfinite(relative), axis=0)
    out = np.zeros((4, *shape), dtype=np.uint8)
    for band, category in enumerate(channels):
        if category >= 0:
            values = np.where(defined, relative[category], 0.0)
            out[band] = np.clip(np.rint(values * 255.0 / 100.0), 0, 255).astype(np.uint8)
    out[3] = np.where(defined, 255, 0).astype(np.uint8)
    return out


@dataclass(frozen=True)
class DominantClass:
    """A class of the dominant-driver raster: one category, or an ordered pair (larger first)."""

    code: int
    categories: tuple[int, ...]
    letters: str


def dominant_classes(n_categories: int, letters: Sequence[str]) -> list[DominantClass]:
    """Codes 1…C for single categories (in category order), then C + 1… for the ordered pairs
    (i, j), i ≠ j, i-major: for C, S, M → 1 C, 2 S, 3 M, 4 CS, 5 CM, 6 SC, 7 SM, 8 MC, 9 MS."""
    classes = [DominantClass(i + 1, (i,), letters[i]) for i in range(n_categories)]
    pairs = [(i, j) for i in range(n_categories) for j in range(n_categories) if i != j]
    for offset, (i, j) in enumerate(pairs):
        classes.append(DominantClass(n_categories + 1 + offset, (i, j), letters[i] + letters[j]))
    return classes


def dominant_driver(relative: np.ndarray, threshold: float) -> np.ndarray:
    """Dominant-driver class per pixel (Tian et al. 2022 §2.4.2 and Figure 5b).

    A category whose RelCon exceeds ``threshold`` (a fraction: 0.6 = 60 %) dominates alone
    (code = category index + 1; with a threshold below 0.5 the largest such category);
    otherwise the ordered pair of the two largest contributions, larger first (codes of
    ``dominant_classes``). Ties keep category order. 0 (NoData) where RelCon is undefined.
    """
    relative = np.asarray(relative, dtype=np.float64)
    n_categories = relative.shape[0]
    if n_categories < 2:
        raise ValueError("at least two categories are needed")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"the threshold must lie in (0, 1), got {threshold}")
    defined = np.all(np.isfinite(relative), axis=0)
    filled = np.where(defined, relative, -1.0)
    # Stable descending order: argsort of the negated values keeps category order on ties.
    order = np.argsort(-filled, axis=0, kind="stable")
    first, second = order[0], order[1]
    largest = np.take_along_axis(filled, order[:1], axis=0)[0]
    # Pair (i, j) with i ≠ j has code C + 1 + i·(C − 1) + (j if j < i else j − 1).
    pair_code = (
        n_categories + 1 + first * (n_categories - 1) + np.where(second < first, second, second - 1)
    )
    codes = np.where(largest > threshold * 100.0, first + 1, pair_code)
    return np.where(defined, codes, 0).astype(np.uint8)


def category_letters(names: Sequence[str]) -> list[str]:
    """Short unique labels for the dominant-driver legend: the upper-case first letter of each
    name (climate, soil, mining → C, S, M); more letters where first letters clash, the
    category's number where even the whole names clash."""
    names = [str(name) for name in names]
    for length in range(1, max((len(n) for n in names), default=1) + 1):
        letters = [name[:length].upper() for name in names]
        if len(set(letters)) == len(letters):
            return letters
    return [str(i + 1) for i in range(len(names))]

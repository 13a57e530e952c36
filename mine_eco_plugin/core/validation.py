"""Agreement of a simulated raster (NPP) with reference values: bias, RMSE and r per class.

Pairs (simulated s, reference r) are accumulated block by block in float64 sums, shifted by
the first pair seen to keep the second moments accurate, so a whole scene is compared in one
pass without holding the pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Key of the statistics over every pair (whatever the class).
ALL = "all"


@dataclass
class PairSums:
    """Running sums of (s − s₀, r − r₀) pairs for one group."""

    n: int = 0
    shift: tuple[float, float] | None = None
    sum_s: float = 0.0
    sum_r: float = 0.0
    sum_ss: float = 0.0
    sum_rr: float = 0.0
    sum_sr: float = 0.0

    def add(self, s: np.ndarray, r: np.ndarray) -> None:
        s = np.asarray(s, dtype=np.float64).ravel()
        r = np.asarray(r, dtype=np.float64).ravel()
        if s.size == 0:
            return
        if self.shift is None:
            self.shift = (float(s[0]), float(r[0]))
        ds, dr = s - self.shift[0], r - self.shift[1]
        self.n += s.size
        self.sum_s += float(ds.sum())
        self.sum_r += float(dr.sum())
        self.sum_ss += float(ds @ ds)
        self.sum_rr += float(dr @ dr)
        self.sum_sr += float(ds @ dr)


@dataclass(frozen=True)
class Agreement:
    """n, the two means, bias = mean(s − r), its share of the reference mean, RMSE and
    Pearson's r (NaN when undefined: n < 2 or a constant side)."""

    n: int
    mean_simulated: float
    mean_reference: float
    bias: float
    relative_bias: float
    rmse: float
    r: float

    @classmethod
    def of(cls, sums: PairSums) -> Agreement:
        n = sums.n
        if n == 0:
            nan = math.nan
            return cls(0, nan, nan, nan, nan, nan, nan)
        s0, r0 = sums.shift
        mean_ds, mean_dr = sums.sum_s / n, sums.sum_r / n
        mean_s, mean_r = s0 + mean_ds, r0 + mean_dr
        bias = mean_s - mean_r
        # Σ(s − r)² = Σ(ds − dr + s0 − r0)², expanded on the shifted sums.
        c = s0 - r0
        squared = (
            sums.sum_ss
            + sums.sum_rr
            - 2 * sums.sum_sr
            + 2 * c * (sums.sum_s - sums.sum_r)
            + n * c * c
        )
        rmse = math.sqrt(max(squared, 0.0) / n)
        var_s = sums.sum_ss - n * mean_ds**2
        var_r = sums.sum_rr - n * mean_dr**2
        cov = sums.sum_sr - n * mean_ds * mean_dr
        r = cov / math.sqrt(var_s * var_r) if n > 1 and var_s > 0 and var_r > 0 else math.nan
        relative = bias / mean_r if mean_r != 0 else math.nan
        if not math.isnan(r):
            r = max(-1.0, min(1.0, r))  # rounding can step just outside [−1, 1]
        return cls(n, mean_s, mean_r, bias, relative, rmse, r)


@dataclass
class GroupedPairs:
    """Pair sums over every pair (``ALL``) and per class code."""

    groups: dict = field(default_factory=dict)

    def add(self, s, r, classes=None) -> None:
        s = np.asarray(s, dtype=np.float64).ravel()
        r = np.asarray(r, dtype=np.float64).ravel()
        valid = np.isfinite(s) & np.isfinite(r)
        if classes is not None:
            classes = np.asarray(classes, dtype=np.float64).ravel()
            valid &= np.isfinite(classes)
        s, r = s[valid], r[valid]
        self.groups.setdefault(ALL, PairSums()).add(s, r)
        if classes is None:
            return
        classes = classes[valid]
        for code in np.unique(classes):
            inside = classes == code
            self.groups.setdefault(int(code), PairSums()).add(s[inside], r[inside])

    def results(self) -> list[tuple[object, Agreement]]:
        """(ALL, …) first, then the classes in ascending order."""
        keys = [ALL] * (ALL in self.groups) + sorted(k for k in self.groups if k != ALL)
        return [(key, Agreement.of(self.groups[key])) for key in keys]


def pixel_means(index: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference values of points grouped by pixel: (unique pixel indices, the mean of the
    points in each pixel, the number of points averaged). Several points in one pixel are one
    observation of that pixel, not independent pairs."""
    index = np.asarray(index, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    pixels, inverse, counts = np.unique(index, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=values, minlength=pixels.size) / counts
    return pixels, means, counts

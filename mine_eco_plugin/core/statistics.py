"""Streaming statistics over blocks of values: nothing is held but the running totals.

These serve the two-pass algorithms (a statistics pass, then a compute pass): scene minima for
NDMVI, percentiles for FVC, ranges for normalisation. NaN marks NoData and is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class RunningSummary:
    """Count, minimum, maximum, mean and variance of a stream of blocks (NaN ignored).

    Block means and squared deviations are merged with Chan et al.'s (1979) pairwise update,
    in float64, so the variance stays accurate for long streams of large values.
    """

    count: int = 0
    minimum: float = np.inf
    maximum: float = -np.inf
    mean: float = 0.0
    m2: float = 0.0

    def update(self, values: np.ndarray) -> None:
        values = np.asarray(values)
        values = values[~np.isnan(values)] if values.dtype.kind == "f" else values.ravel()
        n = values.size
        if n == 0:
            return
        values = values.astype(np.float64, copy=False)
        block_mean = float(values.mean())
        block_m2 = float(np.square(values - block_mean).sum())
        self.minimum = min(self.minimum, float(values.min()))
        self.maximum = max(self.maximum, float(values.max()))
        total = self.count + n
        delta = block_mean - self.mean
        self.mean += delta * n / total
        self.m2 += block_m2 + delta * delta * self.count * n / total
        self.count = total

    @property
    def variance(self) -> float:
        """Population variance (ddof = 0); NaN when empty."""
        return self.m2 / self.count if self.count else float("nan")

    @property
    def std(self) -> float:
        return float(np.sqrt(self.variance))


def summarize(blocks: Iterable[np.ndarray]) -> RunningSummary:
    summary = RunningSummary()
    for values in blocks:
        summary.update(values)
    return summary


def exact_percentiles(
    passes: Callable[[], Iterator[np.ndarray]],
    percentiles: Sequence[float],
    *,
    bins: int = 65536,
    max_gathered: int = 4_000_000,
) -> list[float]:
    """Percentiles of a stream, exactly as ``numpy.percentile`` (linear interpolation) would give
    them on all values at once, without holding the values.

    ``passes()`` must return a fresh iterator over the same blocks of valid values each time it
    is called. Pass 1 counts and finds the range; pass 2 builds a histogram; pass 3 gathers only
    the values in the bins that hold the needed order statistics and sorts them. When such a bin
    holds more than ``max_gathered`` values the range narrows to it and the histogram repeats.
    Raises ValueError when the stream holds no values.
    """
    summary = summarize(passes())
    if summary.count == 0:
        raise ValueError("no valid values")
    n = summary.count
    wanted: dict[int, float] = {}
    positions = []
    for p in percentiles:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile {p} outside [0, 100]")
        rank = p / 100 * (n - 1)
        low = int(np.floor(rank))
        high = min(low + 1, n - 1)
        positions.append((rank, low, high))
        wanted[low] = wanted[high] = np.nan
    _order_statistics(
        passes, wanted, lambda v: v, summary.minimum, summary.maximum, 0, bins, max_gathered
    )
    return [
        float(wanted[low] + (rank - low) * (wanted[high] - wanted[low]))
        for rank, low, high in positions
    ]


def _bin_index(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Monotone bin numbers: x <= y implies bin(x) <= bin(y), so bins keep the value order."""
    return np.clip(((values - lo) * (bins / (hi - lo))).astype(np.int64), 0, bins - 1)


def _order_statistics(passes, wanted, select, lo, hi, below, bins, max_gathered) -> None:
    """Fill ``wanted[k]`` (0-based order statistics of the whole stream) for the values that
    ``select`` keeps, which lie in [lo, hi]; ``below`` values of the stream precede them."""
    ranks = sorted(wanted)
    if lo is None:
        chosen = summarize(select(values) for values in passes())
        lo, hi = chosen.minimum, chosen.maximum
    if lo == hi:
        for k in ranks:
            wanted[k] = float(lo)
        return
    counts = np.zeros(bins, dtype=np.int64)
    for values in passes():
        counts += np.bincount(_bin_index(select(values), lo, hi, bins), minlength=bins)
    starts = below + np.concatenate(([0], np.cumsum(counts)[:-1]))
    needed = sorted({int(np.searchsorted(starts, k, side="right")) - 1 for k in ranks})
    small = [b for b in needed if counts[b] <= max_gathered]
    gathered: dict[int, list[np.ndarray]] = {b: [] for b in small}
    if small:
        for values in passes():
            chosen = select(values)
            index = _bin_index(chosen, lo, hi, bins)
            for b in small:
                gathered[b].append(chosen[index == b])
    for b in needed:
        inside = [k for k in ranks if starts[b] <= k < starts[b] + counts[b]]
        if b in gathered:
            ordered = np.sort(np.concatenate(gathered[b]))
            for k in inside:
                wanted[k] = float(ordered[k - starts[b]])
        else:

            def in_bin(values, parent=select, b=b):
                chosen = parent(values)
                return chosen[_bin_index(chosen, lo, hi, bins) == b]

            sub = dict.fromkeys(inside, np.nan)
            # The bin's own range comes from one more pass; it shrinks by about ``bins`` at
            # every level and collapses to a point when the bin holds one repeated value.
            _order_statistics(passes, sub, in_bin, None, None, int(starts[b]), bins, max_gathered)
            wanted.update(sub)

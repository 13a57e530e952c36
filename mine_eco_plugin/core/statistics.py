"""Streaming statistics over blocks of values: nothing is held but the running totals.

These serve the two-pass algorithms (a statistics pass, then a compute pass): scene minima for
NDMVI, percentiles for FVC, ranges for normalisation. NaN marks NoData and is ignored.

Every statistic here is a map over blocks followed by an associative combine, expressed through
a ``Reduce`` callable: ``reduce(map_block, combine)`` applies ``map_block`` to every block of
valid values and folds the partial results with ``combine``. ``stream_reduce`` does that over
local block iterators (the raster engine); a Dask cluster does it with a tree of tasks
(``mine_eco_plugin.distributed``). The statistics code is the same in both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class RunningSummary:
    """Count, minimum, maximum, mean and variance of a stream of blocks (NaN and ±Inf
    ignored).

    Block means and squared deviations are merged with Chan et al.'s (1979) pairwise update,
    in float64, so the variance stays accurate for long streams of large values.
    """

    count: int = 0
    minimum: float = np.inf
    maximum: float = -np.inf
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def of(cls, values: np.ndarray) -> RunningSummary:
        """The summary of one block."""
        values = np.asarray(values)
        values = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
        if values.size == 0:
            return cls()
        values = values.astype(np.float64, copy=False)
        mean = float(values.mean())
        return cls(
            values.size,
            float(values.min()),
            float(values.max()),
            mean,
            float(np.square(values - mean).sum()),
        )

    def merge(self, other: RunningSummary) -> RunningSummary:
        """The summary of both streams (Chan et al. 1979); neither operand changes."""
        if other.count == 0:
            return RunningSummary(self.count, self.minimum, self.maximum, self.mean, self.m2)
        if self.count == 0:
            return RunningSummary(other.count, other.minimum, other.maximum, other.mean, other.m2)
        total = self.count + other.count
        delta = other.mean - self.mean
        return RunningSummary(
            total,
            min(self.minimum, other.minimum),
            max(self.maximum, other.maximum),
            self.mean + delta * other.count / total,
            self.m2 + other.m2 + delta * delta * self.count * other.count / total,
        )

    def update(self, values: np.ndarray) -> None:
        """Add one block to this summary in place."""
        merged = self.merge(RunningSummary.of(values))
        self.count, self.minimum, self.maximum = merged.count, merged.minimum, merged.maximum
        self.mean, self.m2 = merged.mean, merged.m2

    @property
    def variance(self) -> float:
        """Population variance (ddof = 0); NaN when empty."""
        return self.m2 / self.count if self.count else float("nan")

    @property
    def std(self) -> float:
        return float(np.sqrt(self.variance))


Reduce = Callable[[Callable[[np.ndarray], Any], Callable[[Any, Any], Any]], Any]


def stream_reduce(passes: Callable[[], Iterator[np.ndarray]]) -> Reduce:
    """A ``Reduce`` over local passes: ``passes()`` returns a fresh iterator over the same
    blocks of valid values each time (one call per statistics pass)."""

    def reduce(map_block, combine):
        result = None
        for values in passes():
            partial = map_block(values)
            result = partial if result is None else combine(result, partial)
        return result

    return reduce


def summarize(reduce: Reduce) -> RunningSummary:
    """Count, min, max, mean and variance of all blocks."""
    return reduce(RunningSummary.of, RunningSummary.merge) or RunningSummary()


def _add(a, b):
    return a + b


def _concatenate(a, b):
    return {key: np.concatenate((a[key], b[key])) for key in a}


def exact_percentiles(
    reduce: Reduce,
    percentiles: Sequence[float],
    *,
    bins: int = 65536,
    max_gathered: int = 4_000_000,
) -> list[float]:
    """Percentiles of a stream, exactly as ``numpy.percentile`` (linear interpolation) would give
    them on all values at once, without holding the values.

    Pass 1 counts and finds the range; pass 2 builds a histogram; pass 3 gathers only the values
    in the bins that hold the needed order statistics and sorts them. When such a bin holds
    more than ``max_gathered`` values, its own range is found and the histogram repeats inside
    it. Raises ValueError when the stream holds no values.
    """
    summary = summarize(reduce)
    if summary.count == 0:
        raise ValueError("no valid values")
    n = summary.count
    wanted: dict[int, float] = {}
    positions = []
    for p in percentiles:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile {p} outside [0, 100]")
        # numpy's "linear" method, operation for operation, so the results match it bit for
        # bit: virtual index (n − 1)·q, then _lerp with its t ≥ 0.5 rule.
        virtual = (n - 1) * np.true_divide(p, 100)
        low = int(min(max(np.floor(virtual), 0), n - 1))
        high = int(min(max(np.floor(virtual) + 1, 0), n - 1))
        positions.append((virtual - np.floor(virtual), low, high))
        wanted[low] = wanted[high] = np.nan
    _order_statistics(reduce, wanted, (), summary.minimum, summary.maximum, 0, bins, max_gathered)
    results = []
    for gamma, low, high in positions:
        a, b = np.float64(wanted[low]), np.float64(wanted[high])
        difference = b - a
        value = b - difference * (1 - gamma) if gamma >= 0.5 else a + difference * gamma
        results.append(float(value))
    return results


def _bin_index(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Monotone bin numbers: x <= y implies bin(x) <= bin(y), so bins keep the value order.

    The offset is divided by the span before scaling: bins / (hi − lo) overflows to infinity
    when the span is subnormal (values 5e-324 apart), and 0 · inf is NaN."""
    span = hi - lo
    if not span > 0:
        return np.zeros(np.shape(values), dtype=np.int64)
    return np.clip((((values - lo) / span) * bins).astype(np.int64), 0, bins - 1)


def _select(values: np.ndarray, path: tuple) -> np.ndarray:
    """The values inside the nested bins ``path`` = ((lo, hi, bins, bin), …)."""
    for lo, hi, bins, chosen in path:
        values = values[_bin_index(values, lo, hi, bins) == chosen]
    return values


def _order_statistics(reduce, wanted, path, lo, hi, below, bins, max_gathered) -> None:
    """Fill ``wanted[k]`` (0-based order statistics of the whole stream) for the values inside
    the nested bins ``path``, which lie in [lo, hi]; ``below`` values of the stream precede
    them. The per-block functions are partials of module-level functions, so they can be sent
    to other processes."""
    ranks = sorted(wanted)
    if lo is None:
        chosen = reduce(functools.partial(_summary_in, path=path), RunningSummary.merge)
        lo, hi = chosen.minimum, chosen.maximum
    if lo == hi:
        for k in ranks:
            wanted[k] = float(lo)
        return
    counts = reduce(functools.partial(_histogram_in, path=path, lo=lo, hi=hi, bins=bins), _add)
    starts = below + np.concatenate(([0], np.cumsum(counts)[:-1]))
    needed = sorted({int(np.searchsorted(starts, k, side="right")) - 1 for k in ranks})
    small = tuple(b for b in needed if counts[b] <= max_gathered)
    gathered = {}
    if small:
        gathered = reduce(
            functools.partial(_gather_in, path=path, lo=lo, hi=hi, bins=bins, chosen=small),
            _concatenate,
        )
    for b in needed:
        inside = [k for k in ranks if starts[b] <= k < starts[b] + counts[b]]
        if b in small:
            ordered = np.sort(gathered[b])
            for k in inside:
                wanted[k] = float(ordered[k - starts[b]])
        else:
            sub = dict.fromkeys(inside, np.nan)
            # The bin's own range comes from one more pass; it shrinks by about ``bins`` at
            # every level and collapses to a point when the bin holds one repeated value.
            _order_statistics(
                reduce,
                sub,
                (*path, (lo, hi, bins, b)),
                None,
                None,
                int(starts[b]),
                bins,
                max_gathered,
            )
            wanted.update(sub)


def _summary_in(values, path):
    return RunningSummary.of(_select(values, path))


def _histogram_in(values, path, lo, hi, bins):
    return np.bincount(_bin_index(_select(values, path), lo, hi, bins), minlength=bins)


def _gather_in(values, path, lo, hi, bins, chosen):
    values = _select(values, path)
    index = _bin_index(values, lo, hi, bins)
    return {b: values[index == b] for b in chosen}

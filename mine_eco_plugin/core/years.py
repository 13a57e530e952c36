"""Several years of the resilience index on one scale (the resilience study's 2000–2020 series).

Comparing years needs every year's indicators normalised on the same range: each year's own
min/max (Eq. 18–19 applied year by year) would map every year onto [0, 1] and hide the change
the study reports. Ranges here are joint — the minimum and maximum of an indicator over every
year — per year (for comparison with single-year runs), or given by the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

RANGE_MODES = ("joint", "per_year", "given")


@dataclass
class IndicatorExtremes:
    """Minimum and maximum of each indicator (rows) in each year (columns), NaN-aware."""

    indicators: int
    years: int
    minima: np.ndarray = field(default=None)
    maxima: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.minima is None:
            self.minima = np.full((self.indicators, self.years), np.inf)
            self.maxima = np.full((self.indicators, self.years), -np.inf)

    def add(self, indicator: int, year: int, values: np.ndarray) -> None:
        finite = np.asarray(values)[np.isfinite(values)]
        if finite.size:
            self.minima[indicator, year] = min(self.minima[indicator, year], float(finite.min()))
            self.maxima[indicator, year] = max(self.maxima[indicator, year], float(finite.max()))

    def ranges(self, mode: str) -> tuple[np.ndarray, np.ndarray]:
        """(minima, maxima) as (indicators, years) arrays: ``joint`` repeats each indicator's
        range over all years, ``per_year`` keeps each year's own. Years without valid pixels
        of an indicator have inf/−inf (an error where they are used)."""
        if mode == "joint":
            low = self.minima.min(axis=1, keepdims=True)
            high = self.maxima.max(axis=1, keepdims=True)
            return np.repeat(low, self.years, axis=1), np.repeat(high, self.years, axis=1)
        if mode == "per_year":
            return self.minima.copy(), self.maxima.copy()
        raise ValueError(f"no extremes for the range mode '{mode}'")


@dataclass
class PooledMoments:
    """Sums of each normalised indicator and of its square over the pixels of every year where
    all indicators are valid: the pooled standard deviation for mean-square-error weights."""

    indicators: int
    count: int = 0
    sums: np.ndarray = field(default=None)
    squares: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.sums is None:
            self.sums = np.zeros(self.indicators)
            self.squares = np.zeros(self.indicators)

    def add(self, normalised: Sequence[np.ndarray]) -> None:
        stack = np.stack([np.asarray(v, dtype=np.float64).ravel() for v in normalised])
        valid = np.isfinite(stack).all(axis=0)
        values = stack[:, valid]
        self.count += int(valid.sum())
        self.sums += values.sum(axis=1)
        self.squares += (values * values).sum(axis=1)

    def std(self) -> np.ndarray:
        """Population standard deviation of each normalised indicator."""
        if self.count == 0:
            raise ValueError("no pixel is valid in every indicator in any year")
        mean = self.sums / self.count
        return np.sqrt(np.maximum(self.squares / self.count - mean * mean, 0.0))

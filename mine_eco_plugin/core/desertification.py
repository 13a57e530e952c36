"""Desertification difference index DDI from the albedo–NDVI feature space.

The resilience study's Eq. 1–2 (indicator C1), after Verstraete & Pinty (1996) and Zeng et al.
(2006): NDVI and albedo are normalised to N, A ∈ [0, 1]; the least-squares line A = a·N + b
is fitted over the valid pixels; k = −1/a; DDI = k·N − A. The desertification gradient runs
perpendicular to the albedo–NDVI line, so a is expected to be negative (more vegetation, darker
surface); a non-negative slope means the scene does not show that relation.

The fit is streamed: ``LinearFit`` holds count, means and centred co-moments of each block and
merges them with Chan et al.'s (1979) pairwise update (as ``statistics.RunningSummary``), so
the regression over a whole scene needs one pass and no stored pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LinearFit:
    """Least-squares line y = slope·x + intercept of a stream of (x, y) blocks (NaN ignored).

    Count, means, Σ(x − x̄)², Σ(y − ȳ)² and Σ(x − x̄)(y − ȳ), merged pairwise in float64
    (Chan, Golub & LeVeque 1979).
    """

    count: int = 0
    mean_x: float = 0.0
    mean_y: float = 0.0
    sxx: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> LinearFit:
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        valid = ~(np.isnan(x) | np.isnan(y))
        x, y = x[valid], y[valid]
        if x.size == 0:
            return cls()
        mx, my = float(x.mean()), float(y.mean())
        dx, dy = x - mx, y - my
        return cls(x.size, mx, my, float(dx @ dx), float(dy @ dy), float(dx @ dy))

    def merge(self, other: LinearFit) -> LinearFit:
        if other.count == 0:
            return LinearFit(**vars(self))
        if self.count == 0:
            return LinearFit(**vars(other))
        n = self.count + other.count
        dx, dy = other.mean_x - self.mean_x, other.mean_y - self.mean_y
        weight = self.count * other.count / n
        return LinearFit(
            n,
            self.mean_x + dx * other.count / n,
            self.mean_y + dy * other.count / n,
            self.sxx + other.sxx + dx * dx * weight,
            self.syy + other.syy + dy * dy * weight,
            self.sxy + other.sxy + dx * dy * weight,
        )

    def update(self, x: np.ndarray, y: np.ndarray) -> None:
        merged = self.merge(LinearFit.of(x, y))
        for name, value in vars(merged).items():
            setattr(self, name, value)

    @property
    def slope(self) -> float:
        return self.sxy / self.sxx if self.sxx > 0 else float("nan")

    @property
    def intercept(self) -> float:
        return self.mean_y - self.slope * self.mean_x

    @property
    def r_squared(self) -> float:
        """Coefficient of determination of the line (squared Pearson correlation)."""
        if self.sxx > 0 and self.syy > 0:
            return self.sxy * self.sxy / (self.sxx * self.syy)
        return float("nan")


def normalise(values: np.ndarray, low: float, high: float, *, clip: bool = True) -> np.ndarray:
    """(x − low)/(high − low), clipped to [0, 1] when ``clip`` (percentile normalisation puts
    some pixels outside). NaN stays NaN."""
    if not high > low:
        raise ValueError(f"the range [{low}, {high}] is empty")
    scaled = (np.asarray(values, dtype=np.float64) - low) / (high - low)
    return np.clip(scaled, 0.0, 1.0) if clip else scaled


def ddi_k(slope: float) -> float:
    """k = −1/a (Eq. 1): the slope of the perpendicular to the albedo–NDVI line."""
    if not slope < 0:
        raise ValueError(
            f"the albedo–NDVI slope is {slope:.6g}; a negative slope is needed (more vegetation, "
            "lower albedo)"
        )
    return -1.0 / slope


def desertification_index(n: np.ndarray, a: np.ndarray, k: float) -> np.ndarray:
    """DDI = k·N − A (Eq. 1) with N, A the normalised NDVI and albedo.

    >>> desertification_index(np.array([0.5]), np.array([0.2]), 2.0).tolist()   # 2·0.5 − 0.2
    [0.8]
    """
    return k * np.asarray(n, dtype=np.float64) - np.asarray(a, dtype=np.float64)

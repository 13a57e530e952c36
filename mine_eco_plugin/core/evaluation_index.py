"""Normalisation of indicators and the comprehensive index — the resilience study's Eq. 18–20.

Pure numpy functions of blocks (NaN = NoData), so the engine can run them block by block.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_range(minimum: float, maximum: float, what: str = "indicator") -> float:
    """max − min; ValueError when the range is empty (a constant indicator cannot be
    normalised: Eq. 18 would divide by zero)."""
    if not (np.isfinite(minimum) and np.isfinite(maximum)):
        if minimum == np.inf and maximum == -np.inf:  # the empty summary's start values
            raise ValueError(f"{what}: no valid pixels to take a minimum and maximum from")
        raise ValueError(
            f"{what}: the values are not finite (minimum {minimum:.6g}, maximum {maximum:.6g}); "
            "mask infinite values as NoData"
        )
    span = float(maximum) - float(minimum)
    if not span > 0:
        raise ValueError(
            f"{what}: maximum ({maximum:.6g}) is not above minimum ({minimum:.6g}); a constant "
            "indicator cannot be normalised"
        )
    return span


def normalise(
    values: np.ndarray,
    minimum: float,
    maximum: float,
    trend: int = 1,
    *,
    clip: bool = True,
    dtype=np.float32,
) -> np.ndarray:
    """Min–max normalisation, the resilience study's Eq. 18 (positive) and 19 (negative):

    positive: x′ = (x − min)/(max − min); negative: x′ = 1 − (x − min)/(max − min).

    ``clip`` limits x′ to [0, 1] (values outside a given range, e.g. a range shared by several
    years, would otherwise fall outside). NaN stays NaN. Computed in float64 and returned as
    ``dtype`` (float32 for a raster; float64 for statistics of the normalised values): in
    float32, x − min overflows to ±Inf for ranges wider than 3.4·10³⁸ (e.g. ±3·10³⁸), and
    1/(max − min) falls into the subnormals, losing digits.
    """
    span = check_range(minimum, maximum)
    out = np.subtract(values, float(minimum), dtype=np.float64)
    out /= span
    if clip:
        np.clip(out, 0.0, 1.0, out=out)
    if trend < 0:
        np.subtract(1.0, out, out=out)
    return out.astype(dtype, copy=False)


def composite_index(
    blocks: Sequence[np.ndarray],
    weights: Sequence[float],
    minima: Sequence[float],
    maxima: Sequence[float],
    trends: Sequence[int],
    *,
    clip: bool = True,
) -> np.ndarray:
    """P = Σⱼ Wⱼ·Tⱼ (the resilience study's Eq. 20), Tⱼ the normalised indicator j (Eq. 18–19).

    ``blocks`` are same-shaped float arrays with NaN for NoData; P is NaN wherever any
    indicator is. Works in place on one float64 temporary and one float64 accumulator (float32
    would overflow for indicators spanning more than 3.4·10³⁸, see :func:`normalise`), so the
    memory is four float32 blocks whatever the number of indicators. A negative indicator
    contributes Wⱼ·(1 − tⱼ) = Wⱼ − Wⱼ·tⱼ: the constants are added once at the end. float32
    out.
    """
    if not blocks:
        raise ValueError("no indicators")
    shape = np.shape(blocks[0])
    total = np.zeros(shape, dtype=np.float64)
    scratch = np.empty(shape, dtype=np.float64)
    constant = 0.0
    for values, weight, low, high, trend in zip(
        blocks, weights, minima, maxima, trends, strict=True
    ):
        span = check_range(low, high)
        np.subtract(values, float(low), out=scratch, dtype=np.float64)
        if clip:
            scratch /= span
            np.clip(scratch, 0.0, 1.0, out=scratch)
            scratch *= weight if trend > 0 else -weight
        else:
            scratch *= (weight if trend > 0 else -weight) / span
        if trend < 0:
            constant += weight
        total += scratch
    if constant:
        total += constant
    return total.astype(np.float32)

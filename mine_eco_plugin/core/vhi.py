"""Vegetation health index from NDVI and land-surface (or brightness) temperature series.

Kogan (1995, 2001); the resilience study's Eq. 4 (indicator C4):

    VCI = (NDVI − NDVI_min) / (NDVI_max − NDVI_min)
    TCI = (T_max − T) / (T_max − T_min)
    VHI = α·VCI + (1 − α)·TCI,   α = 0.5 (the resilience study, after Kogan)

The extremes are, per pixel, the minimum and maximum over the dates given (Kogan's multi-year
extremes of the same period), or scene-wide values (the only choice with one date). Pure numpy:
the algorithm hands blocks of (dates, rows, cols).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_ALPHA = 0.5


@dataclass(frozen=True)
class SceneExtremes:
    """Scene-wide extremes used instead of per-pixel ones."""

    ndvi_min: float
    ndvi_max: float
    t_min: float
    t_max: float


def _scaled_ratio(numerator: np.ndarray, span: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / span
    return np.where(span > 0, ratio, np.nan)


def condition_indices(
    ndvi: np.ndarray,
    temperature: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    scene: SceneExtremes | None = None,
    scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """VCI, TCI and VHI for every date: arrays shaped like ``ndvi`` (dates, rows, cols).

    ``temperature`` in any unit (K or °C, the same for every date). Without ``scene`` the
    extremes are each pixel's minimum and maximum over the dates, NoData dates ignored; a pixel
    whose NDVI (or temperature) does not vary over its valid dates has no VCI (TCI) and no VHI.
    ``scale`` = 100 gives 0–100 instead of 0–1.

    >>> ndvi, kelvin = np.array([[[0.2]], [[0.6]]]), np.array([[[303.0]], [[293.0]]])
    >>> vci, tci, vhi = condition_indices(ndvi, kelvin)
    >>> vci.ravel().tolist(), tci.ravel().tolist(), vhi.ravel().tolist()
    ([0.0, 1.0], [0.0, 1.0], [0.0, 1.0])
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    ndvi = np.asarray(ndvi, dtype=np.float64)
    temperature = np.asarray(temperature, dtype=np.float64)
    if ndvi.shape != temperature.shape:
        raise ValueError(f"NDVI {ndvi.shape} and temperature {temperature.shape} differ in shape")
    if scene is None:
        # fmin/fmax ignore NaN and give NaN only where every date is NaN (no warning).
        ndvi_min, ndvi_max = np.fmin.reduce(ndvi, axis=0), np.fmax.reduce(ndvi, axis=0)
        t_min, t_max = np.fmin.reduce(temperature, axis=0), np.fmax.reduce(temperature, axis=0)
    else:
        ndvi_min, ndvi_max = scene.ndvi_min, scene.ndvi_max
        t_min, t_max = scene.t_min, scene.t_max
    vci = scale * _scaled_ratio(ndvi - ndvi_min, np.asarray(ndvi_max - ndvi_min))
    tci = scale * _scaled_ratio(t_max - temperature, np.asarray(t_max - t_min))
    vhi = alpha * vci + (1.0 - alpha) * tci
    return vci, tci, vhi

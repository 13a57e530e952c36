"""ESTARFM, the enhanced spatial and temporal adaptive reflectance fusion model (Zhu et al. 2010).

Two pairs of fine (e.g. Landsat) and coarse (e.g. MODIS resampled onto the fine grid) images at
base dates t_m and t_n, and the coarse image at the prediction date t_p, give the fine image at
t_p. For each central pixel x_c of a (2w+1)² window and each band B (equation numbers of Zhu,
Chen, Gao, Chen & Masek 2010, Remote Sens. Environ. 114, 2610–2623):

* similar pixels (Eq. 13): valid pixels x_i of the window with
  |F(x_i, t_k, B) − F(x_c, t_k, B)| ≤ σ(B, t_k)·2/m for both base dates and every band; σ is the
  standard deviation of the fine band, m the number of classes; the central pixel is one of them;
* spectral similarity (Eq. 14): R_i, the Pearson correlation between the fine and the coarse
  spectral vectors (F(x_i, t_m, B_1…B_n), F(x_i, t_n, B_1…B_n)) and (C(…)…) of the similar pixel;
* relative distance (Eq. 15): d_i = 1 + ‖x_i − x_c‖ / w;
* weights (Eqs. 16–17): D_i = (1 − R_i)·d_i, W_i = (1/D_i) / Σ(1/D_i);
* conversion coefficient (§3.4, Eqs. 10–11): V = least-squares slope of the fine on the coarse
  values of the similar pixels at both base dates (2N samples);
* prediction from each base date (Eq. 12): F_k = F(x_c, t_k) + Σ W_i·V·(C(x_i, t_p) − C(x_i, t_k));
* temporal weights (Eq. 18): T_k ∝ 1 / |Σ C(t_k) − Σ C(t_p)| over the window; result (Eq. 19)
  F = T_m·F_m + T_n·F_n.

Choices the paper leaves open follow the authors' released IDL code (ESTARFM 1.1, 2018), and are
parameters of ``FusionSettings``:

* The window is truncated at the raster's edge and NoData pixels take no part in it.
* V is fitted over all similar pixels of the window (the code's reading of §3.4; the paper's
  per-coarse-pixel grouping needs coarse footprints that resampling has erased). It is kept when
  the coarse change |mean C(t_m) − mean C(t_n)| over the similar pixels is at least
  ``min_change``, the slope is significant (p ≤ ``alpha`` from the F distribution's CDF with
  (1, 2N − 2) degrees of freedom — not its density) and 0 < V ≤ ``v_max``; otherwise V = 1
  (§3.4: "V has to be set as 1"). A fit with no spread in the coarse or fine values has no test
  and gives V = 1; an exact fit (no residual) is significant.
* R_i of a constant vector (undefined) is 0.5, as in the code. For one band Eq. 14 degenerates
  (two-element vectors), and the code's R_i = 1 − ½(|F₁ − C₁|/(F₁ + C₁) + |F₂ − C₂|/(F₂ + C₂)) is
  used, clipped at −1 (the range of R the paper states).
* 10⁻⁷ is added to D_i, which realises the paper's rule for pure pixels (R_i = 1: those share
  the weight equally); 10⁻¹⁰ is added to the temporal differences.
* Fewer than ``min_similar`` similar pixels (code: more than 5 needed): the window-mean coarse
  changes are added to the fine values, F = Σ_k T_k·(F(x_c, t_k) + Δ_k), Δ_k = mean C(t_p) −
  mean C(t_k) over the window's valid pixels (the code's fall-back).
* A prediction outside the open valid range (≤ ``valid_min`` or ≥ ``valid_max``) is replaced by
  Σ_k T_k·Σ_i W_i·F(x_i, t_k), the weighted mean of the similar pixels (the code's revision).

How the sums over the similar pixels are computed for all the centres of a block at once
(exactly, no approximation) is ``core/estarfm_sums.py``: this module states the equations and
predicts each pixel from those sums. ``reference_estarfm`` in
``tests/core/test_estarfm_reference.py`` is the same algorithm written one pixel and one window
at a time, the way the paper and the authors' code state it, sharing no code with these
modules: the tests hold the two equal on scenes that take every branch, and equal to the
authors' test scene (``tests/core/test_estarfm_zhu.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import estarfm_sums
from .estarfm_sums import CHUNK, DEFER_SHARE, DENSE_SHARE
from .windows import box_sum

#: The authors' defaults (Zhu et al. 2010, §4.2.1; ESTARFM code 1.1).
DEFAULT_HALF_WINDOW = 25
DEFAULT_CLASSES = 4
DEFAULT_VALID_MIN = 0.0
DEFAULT_VALID_MAX = 10000.0
#: The code predicts from the similar pixels only when there are more than five.
DEFAULT_MIN_SIMILAR = 6
DEFAULT_ALPHA = 0.05
DEFAULT_V_MAX = 5.0
#: The regression is tried when the coarse change reaches 2 % of the valid range (code 1.1:
#: ``DN_max·0.02`` with ``DN_min = 0``).
DEFAULT_MIN_CHANGE_FRACTION = 0.02
#: Added to the combined distance D_i (code: 0.0000001) and to temporal differences (0.01^5).
WEIGHT_EPSILON = 1e-7
TEMPORAL_EPSILON = 1e-10
#: R_i where Eq. 14 is undefined (a constant spectral vector), as in the code.
UNDEFINED_CORRELATION = 0.5
#: Regression sums this small relative to the sum of squares mean "no spread" (no test).
NO_SPREAD = 1e-12


@dataclass(frozen=True)
class FusionSettings:
    """Parameters of one ESTARFM run (data units are those of the images).

    ``thresholds`` are the similarity thresholds σ(B, t_k)·2/m, shape (2, bands) for the fine
    images at t_m and t_n; None computes σ in every block from its valid pixels. ``threads``,
    ``chunk``, ``dense_share`` and ``defer_share`` tune how the window sums are computed
    (``estarfm_sums``); they do not change the result.
    """

    half_window: int = DEFAULT_HALF_WINDOW
    classes: float = DEFAULT_CLASSES
    valid_min: float = DEFAULT_VALID_MIN
    valid_max: float = DEFAULT_VALID_MAX
    min_similar: int = DEFAULT_MIN_SIMILAR
    min_change: float = DEFAULT_MIN_CHANGE_FRACTION * (DEFAULT_VALID_MAX - DEFAULT_VALID_MIN)
    alpha: float = DEFAULT_ALPHA
    v_max: float = DEFAULT_V_MAX
    thresholds: np.ndarray | None = None
    threads: int = 2
    chunk: int = CHUNK
    dense_share: float = DENSE_SHARE
    defer_share: float = DEFER_SHARE

    def __post_init__(self):
        if int(self.half_window) != self.half_window or self.half_window < 0:
            raise ValueError(f"half_window must be a whole number ≥ 0, got {self.half_window}")
        if not self.classes > 0:
            raise ValueError(f"classes must be positive, got {self.classes}")
        if not self.valid_min < self.valid_max:
            raise ValueError(
                f"valid_min ({self.valid_min}) must be smaller than valid_max ({self.valid_max})"
            )
        if self.min_similar < 1:
            raise ValueError(f"min_similar must be at least 1, got {self.min_similar}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")
        if not self.v_max > 0:
            raise ValueError(f"v_max must be positive, got {self.v_max}")
        if self.min_change < 0:
            raise ValueError(f"min_change must not be negative, got {self.min_change}")


@dataclass
class FusionStats:
    """What happened, summed over blocks: how many pixels took each branch of the algorithm."""

    predicted: int = 0
    few_similar: int = 0
    regression_tried: list[int] = field(default_factory=list)
    regression_used: list[int] = field(default_factory=list)
    revised: list[int] = field(default_factory=list)
    similar_sum: float = 0.0

    def add(self, other: FusionStats) -> None:
        self.predicted += other.predicted
        self.few_similar += other.few_similar
        self.similar_sum += other.similar_sum
        for name in ("regression_tried", "regression_used", "revised"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if len(mine) < len(theirs):
                mine.extend([0] * (len(theirs) - len(mine)))
            for band, value in enumerate(theirs):
                mine[band] += value

    @property
    def mean_similar(self) -> float:
        """Mean number of similar pixels of the pixels predicted from their similar pixels."""
        fused = self.predicted - self.few_similar
        return self.similar_sum / fused if fused else float("nan")


def similarity_thresholds(sigma: np.ndarray, classes: float) -> np.ndarray:
    """Eq. 13's threshold σ(B)·2/m for each fine image (rows) and band (columns)."""
    return np.asarray(sigma, dtype=np.float64) * 2.0 / float(classes)


def in_range(values: np.ndarray, valid_min: float, valid_max: float) -> np.ndarray:
    """True where a value is valid: finite and strictly inside (valid_min, valid_max).

    The range is open as in the authors' code, which treats a prediction ≤ DN_min or ≥ DN_max
    as abnormal; NaN (NoData) is never valid.
    """
    with np.errstate(invalid="ignore"):
        return (values > valid_min) & (values < valid_max)


def sample_sigma(values: np.ndarray, valid_min: float, valid_max: float) -> np.ndarray:
    """Sample standard deviation (n − 1, as IDL's STDDEV) of each band's valid values.

    ``values`` is (bands, …); a band with fewer than two valid values gives NaN.
    """
    sigma = np.full(values.shape[0], np.nan)
    for band, plane in enumerate(values):
        kept = plane[in_range(plane, valid_min, valid_max)].astype(np.float64)
        if kept.size > 1:
            sigma[band] = kept.std(ddof=1)
    return sigma


def spectral_correlation(fine1, coarse1, fine2, coarse2) -> np.ndarray:
    """R of Eq. 14 for every pixel: Pearson's r between the fine and coarse spectral vectors
    over both base dates and all bands. Inputs (bands, …), float; output (…), float64.

    One band: R = 1 − ½(|F₁ − C₁|/(F₁ + C₁) + |F₂ − C₂|/(F₂ + C₂)) (authors' code), clipped at
    −1. Undefined values (a constant vector, 0/0) are 0.5, as in the code.
    """
    fine = np.concatenate([fine1, fine2]).astype(np.float64)
    coarse = np.concatenate([coarse1, coarse2]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if fine1.shape[0] == 1:
            r = 1.0 - 0.5 * (
                np.abs((fine[0] - coarse[0]) / (fine[0] + coarse[0]))
                + np.abs((fine[1] - coarse[1]) / (fine[1] + coarse[1]))
            )
        else:
            fine -= fine.mean(axis=0)
            coarse -= coarse.mean(axis=0)
            sxx = np.einsum("k...,k...->...", fine, fine)
            syy = np.einsum("k...,k...->...", coarse, coarse)
            r = np.einsum("k...,k...->...", fine, coarse) / np.sqrt(sxx * syy)
            # A constant vector (all deviations exactly 0) has no correlation.
            r[(sxx == 0) | (syy == 0)] = np.nan
    r = np.where(np.isnan(r), UNDEFINED_CORRELATION, r)
    return np.clip(r, -1.0, 1.0)


def conversion_coefficient(samples, sxx, sxy, syy, *, alpha, v_max, scale_xx=None, scale_yy=None):
    """V of §3.4 from the centred sums of squares and products of the regression of fine (y)
    on coarse (x) values over ``samples`` points (2N: the N similar pixels at both dates).

    Returns (V, used): V is the least-squares slope sxy/sxx where it is significant (p ≤ alpha,
    p = 1 − CDF of the F distribution with 1 and samples − 2 degrees of freedom, at
    F = SSR/(SSE/(samples − 2))) and 0 < slope ≤ v_max; 1 elsewhere: no spread in x or y
    (sxx or syy ≤ 10⁻¹² of ``scale_xx``/``scale_yy``, sums of squares bounding them; exact zero
    by default), fewer than 3 samples, not significant, or out of bounds. An exact fit (no
    residual) is significant.
    """
    from scipy.special import fdtrc

    samples = np.asarray(samples, dtype=np.float64)
    sxx, sxy, syy = (np.asarray(a, dtype=np.float64) for a in (sxx, sxy, syy))
    scale_xx = np.abs(sxx) if scale_xx is None else scale_xx
    scale_yy = np.abs(syy) if scale_yy is None else scale_yy
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (sxx > NO_SPREAD * scale_xx) & (syy > NO_SPREAD * scale_yy)
        slope = sxy / sxx
        explained = sxy * sxy / sxx
        residual = np.maximum(syy - explained, 0.0)
        dof = samples - 2.0
        f_value = np.where(residual > 0, explained * dof / residual, np.inf)
        p_value = fdtrc(1.0, np.maximum(dof, 1.0), f_value)
    used = spread & (dof >= 1) & (p_value <= alpha) & (slope > 0) & (slope <= v_max)
    return np.where(used, slope, 1.0), used


def temporal_weights(c0, c1, c2, valid, half_window):
    """Eq. 18 per band: T_m, T_n ∝ 1/|Δ| with Δ_k the window-mean change of the coarse image
    from t_k to t_p over valid pixels (the sums of Eq. 18 over the same pixels, divided by their
    count). Returns (T_m, T_n, Δ_m, Δ_n), each (bands, rows, cols) like the inputs."""
    size = 2 * half_window + 1
    count = box_sum(valid.astype(np.float64), size)
    t_m, t_n, delta_m, delta_n = (np.empty(c0.shape) for _ in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        for band in range(c0.shape[0]):
            for delta, base in ((delta_m, c1), (delta_n, c2)):
                change = np.where(valid, c0[band].astype(np.float64) - base[band], np.nan)
                delta[band] = box_sum(change, size) / count
            inverse_m = 1.0 / (np.abs(delta_m[band]) + TEMPORAL_EPSILON)
            inverse_n = 1.0 / (np.abs(delta_n[band]) + TEMPORAL_EPSILON)
            t_m[band] = inverse_m / (inverse_m + inverse_n)
            t_n[band] = inverse_n / (inverse_m + inverse_n)
    return t_m, t_n, delta_m, delta_n


class _Block:
    """ESTARFM over one block of the five images with a halo of ``half_window``: the paper's
    quantities of every pixel, then the predictions from the window sums of ``estarfm_sums``.
    """

    def __init__(self, images: Sequence[np.ndarray], settings: FusionSettings):
        self.settings = s = settings
        self.h = h = int(s.half_window)
        stack = np.stack([np.asarray(image, dtype=np.float32) for image in images])
        self.bands = stack.shape[1]
        # Pixels valid in every band of every image take part; the others are NoData.
        valid2d = in_range(stack, s.valid_min, s.valid_max).all(axis=(0, 1))
        self.grid, stack, valid2d = estarfm_sums.BlockGrid.of(stack, valid2d, h)
        fine1, coarse1, fine2, coarse2, coarse0 = stack
        # Eq. 13: the similarity thresholds σ(B, t_k)·2/m (of this block when not given).
        thresholds = s.thresholds
        if thresholds is None:
            thresholds = similarity_thresholds(
                [sample_sigma(f, s.valid_min, s.valid_max) for f in (fine1, fine2)], s.classes
            )
        self.thresholds = np.asarray(thresholds, dtype=np.float64).reshape(2, self.bands)
        # Eq. 14: 1 − R_i of every pixel (the spectral part of D_i, Eq. 16).
        r = spectral_correlation(fine1, coarse1, fine2, coarse2)
        spectral = np.where(valid2d, 1.0 - r, 1.0).astype(np.float32).ravel()
        # The base dates' values, 0 where not valid (no similar pixel is ever there).
        zero = ~valid2d
        fine_rows = estarfm_sums.flat_rows((fine1, fine2), zero)
        coarse_rows = estarfm_sums.flat_rows((coarse1, coarse2), zero)
        self.fine = [fine_rows[0::2], fine_rows[1::2]]  # (bands, pixels) views, per date
        self.coarse = [coarse_rows[0::2], coarse_rows[1::2]]
        # Eq. 12: the coarse changes C(t_p) − C(t_m) and C(t_p) − C(t_n) of every band.
        self.changes = estarfm_sums.flat_rows((coarse0 - coarse1, coarse0 - coarse2), zero)
        # §3.4: only centres whose window holds a coarse change |C(t_m) − C(t_n)| ≥
        # MIN_CHANGE can try the regression.
        size = 2 * h + 1
        candidates = [
            (
                box_sum((valid2d & (np.abs(coarse1[b] - coarse2[b]) >= s.min_change)) * 1.0, size)
                > 0
            ).ravel()
            for b in range(self.bands)
        ]
        # Eq. 18: the temporal weights, and the window-mean changes of the fall-back.
        (self.t_m, self.t_n, self.delta_m, self.delta_n) = (
            a.reshape(self.bands, -1)
            for a in temporal_weights(coarse0, coarse1, coarse2, valid2d, h)
        )
        self.sums = estarfm_sums.WindowSums(
            self.grid,
            (fine1, fine2),
            valid2d,
            fine_rows,
            coarse_rows,
            self.thresholds,
            spectral,
            candidates,
            s,
            WEIGHT_EPSILON,
        )

    def predict(self, check=None, report=None) -> tuple[np.ndarray, FusionStats]:
        """The predicted fine image of the block without its halo, and the branch counts."""
        grid = self.grid
        # Over the similar pixels of every centre: n, Σ(1/D_i)·(C(x_i, t_p) − C(x_i, t_k)),
        # Σ1/D_i, and the regression sums where the regression is tried.
        sums = self.sums.of_changes(self.changes, check=check, report=report)
        stats = FusionStats(
            regression_tried=[0] * self.bands,
            regression_used=[0] * self.bands,
            revised=[0] * self.bands,
        )
        out = np.full((self.bands, grid.centre.size), np.nan, dtype=np.float32)
        revise = np.zeros((self.bands, grid.centre.size), bool)
        for start in range(grid.first, grid.stop, estarfm_sums.FINISH_SLICE):
            stop = min(start + estarfm_sums.FINISH_SLICE, grid.stop)
            self._predict(start, stop, sums, out, revise, stats)
        del sums
        if revise.any():
            self._revise(revise, out, stats, check)
        h = self.h
        out = out.reshape(self.bands, grid.height, grid.width)
        return out[:, h : h + grid.rows, h : h + grid.cols], stats

    def _predict(self, start, stop, sums, out, revise, stats):
        """Predictions of the centres start … stop − 1 from the window sums: Eqs. 12 and 19,
        V (§3.4) from the regression where tried, the fall-back for few similar pixels. Writes
        ``out`` and marks ``revise`` (abnormal predictions) for those pixels."""
        count, sums_w = sums[0], sums[1]
        s = self.settings
        chunk = slice(start, stop)
        centre = self.grid.centre[chunk]
        count = count[chunk]
        few = centre & (count < s.min_similar)
        fused = centre & ~few
        stats.predicted += int(centre.sum())
        stats.few_similar += int(few.sum())
        stats.similar_sum += float(count[fused].sum(dtype=np.float64))
        # §3.4: V, 1 where the regression is not tried or not kept.
        v = np.ones((self.bands, stop - start))
        for band, tried, _n, (samples, sxx, sxy, syy, scale_xx, scale_yy) in self.sums.regressions(
            start, stop, sums, fused
        ):
            coefficient, used = conversion_coefficient(
                samples,
                sxx,
                sxy,
                syy,
                alpha=s.alpha,
                v_max=s.v_max,
                scale_xx=scale_xx,
                scale_yy=scale_yy,
            )
            v[band][tried] = coefficient
            stats.regression_tried[band] += int(tried.sum())
            stats.regression_used[band] += int(used.sum())
        weights = sums_w[-1, chunk]  # Σ1/D_i: W_i = (1/D_i)/Σ(1/D_i), Eq. 17
        with np.errstate(invalid="ignore", divide="ignore"):
            for band in range(self.bands):
                t_m, t_n = self.t_m[band, chunk], self.t_n[band, chunk]
                f_m = self.fine[0][band, chunk].astype(np.float64)
                f_n = self.fine[1][band, chunk].astype(np.float64)
                # Σ W_i·(C(x_i, t_p) − C(x_i, t_k)), Eq. 12.
                mean_m = sums_w[2 * band, chunk].astype(np.float64) / weights
                mean_n = sums_w[2 * band + 1, chunk].astype(np.float64) / weights
                # Eqs. 12 and 19.
                value = t_m * (f_m + v[band] * mean_m) + t_n * (f_n + v[band] * mean_n)
                # Fall-back for too few similar pixels (signed changes, as in the code).
                d_m = self.delta_m[band, chunk] + TEMPORAL_EPSILON
                d_n = self.delta_n[band, chunk] + TEMPORAL_EPSILON
                inv_m, inv_n = 1.0 / np.abs(d_m), 1.0 / np.abs(d_n)
                fallback = (inv_m * (f_m + d_m) + inv_n * (f_n + d_n)) / (inv_m + inv_n)
                prediction = np.where(few, fallback, value)
                prediction[~centre] = np.nan
                out[band, chunk] = prediction
                revise[band, chunk] = fused & ~in_range(value, s.valid_min, s.valid_max)

    def _revise(self, revise, out, stats, check):
        """The code's revision: Σ_k T_k·Σ_i W_i·F(x_i, t_k) where the prediction is abnormal."""
        bands = [band for band in range(self.bands) if revise[band].any()]
        positions = np.flatnonzero(revise[bands].any(axis=0))
        # The fine values of those bands at both dates (the sums add Σ1/D_i as a last row).
        quantities = np.empty((2 * len(bands), self.grid.centre.size), np.float32)
        for index, band in enumerate(bands):
            quantities[2 * index : 2 * index + 2] = self.fine[0][band], self.fine[1][band]
        sums = self.sums.weighted_sums_at(positions, quantities, check=check)
        weights = sums[-1]
        for index, band in enumerate(bands):
            rows = revise[band][positions]
            mean_m = sums[2 * index][rows] / weights[rows]
            mean_n = sums[2 * index + 1][rows] / weights[rows]
            pixels = positions[rows]
            out[band, pixels] = self.t_m[band, pixels] * mean_m + self.t_n[band, pixels] * mean_n
            stats.revised[band] += int(rows.sum())


def fuse_block(
    fine1: np.ndarray,
    coarse1: np.ndarray,
    fine2: np.ndarray,
    coarse2: np.ndarray,
    coarse_pred: np.ndarray,
    settings: FusionSettings,
    *,
    check: Callable[[], None] | None = None,
    report: Callable[[float], None] | None = None,
    stats: FusionStats | None = None,
) -> np.ndarray:
    """ESTARFM over one block: five (bands, rows + 2w, cols + 2w) arrays (NaN = NoData, the halo
    of w = ``settings.half_window`` pixels NaN beyond the raster) → the predicted fine image of
    the block without its halo, (bands, rows, cols) float32. Pixels not valid in every band of
    every input are NaN.

    ``check`` is called between runs of pairs (it may raise to cancel), ``report(fraction)``
    gives the progress through the block, ``stats`` (if given) receives the branch counts.
    """
    block = _Block([fine1, coarse1, fine2, coarse2, coarse_pred], settings)
    prediction, block_stats = block.predict(check=check, report=report)
    if stats is not None:
        stats.add(block_stats)
    return prediction


def fuse(fine1, coarse1, fine2, coarse2, coarse_pred, settings: FusionSettings, **options):
    """ESTARFM over whole in-memory images (bands, rows, cols): pads them with a NaN halo and
    calls ``fuse_block``. Thresholds default to σ of each whole fine image (Eq. 13)."""
    h = int(settings.half_window)
    images = [
        np.asarray(a, dtype=np.float32) for a in (fine1, coarse1, fine2, coarse2, coarse_pred)
    ]
    images = [a[np.newaxis] if a.ndim == 2 else a for a in images]
    if settings.thresholds is None:
        sigma = [sample_sigma(f, settings.valid_min, settings.valid_max) for f in images[0:3:2]]
        thresholds = similarity_thresholds(sigma, settings.classes)
        settings = dataclasses.replace(settings, thresholds=thresholds)
    padded = [np.pad(a, ((0, 0), (h, h), (h, h)), constant_values=np.nan) for a in images]
    return fuse_block(*padded, settings, **options)

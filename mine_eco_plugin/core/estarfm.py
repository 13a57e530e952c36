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

The computation is exact (no approximation), vectorised over all centres at once: for every
window offset o the similarity masks of all pairs (p, p + o) are one array operation over all
bands and dates (stacked planes), and the per-centre sums (count, Σ1/D_i, Σ(1/D_i)·ΔC, and the
regression sums) accumulate over the (2w + 1)² offsets. As |a − b| = |b − a|, the mask of offset
o serves the centres p (neighbour p + o) and p + o (neighbour p), so each pair is tested once.
The pairs are split into runs of consecutive p on ``threads`` threads (numpy releases the GIL in
array operations); a run adds into arrays of its own, reaching past its end by the window's
reach, which are added into the block's sums as runs finish. The regression sums are taken
relative to the centre (C(x_i) − C(x_c), F(x_i) − F(x_c)): their products are the same for both
roles of a pair and their float32 sums keep the precision of the local spread; they are only
accumulated for the pairs that reach centres whose window holds a coarse change of at least
``min_change``, as no other centre can try the regression. In a band where few centres try it
(under ``defer_share`` of a sample of them) the pass sums the coarse changes C(t_m) − C(t_n)
instead, which tells exactly which pixels try the regression, and their sums come from their
gathered windows (strided views of the block, so a window is copied as runs of contiguous rows;
a window's similarity serves every band). The revision's weighted means are
computed afterwards for the abnormal pixels only (by another pass over the pairs when many, from
their gathered windows when few).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import as_strided

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
#: Pairs per run (per offset): small enough for a run's working set to stay in the caches of
#: two cores, large enough for numpy's per-call overhead not to matter (the pass over the
#: authors' scene on two threads, measured on the development machines: 1.3 s with 65536,
#: 1.5 s with 32768 and with 131072, 3.9 s with 8192).
CHUNK = 65536
#: Centres whose predictions are computed from the sums at once.
FINISH_SLICE = 65536
#: The revision runs as another pass over the pairs when at least this share of the block's
#: centres need it, otherwise over the gathered windows of those pixels only.
DENSE_SHARE = 0.2
#: A band where fewer than this share of the centres try the regression (estimated on a sample
#: of TRIED_SAMPLE centres) gets its regression sums from the gathered windows of the pixels
#: that try it (known exactly after the pass over the pairs), not from the pass itself. A
#: gathered window costs a few times a centre's share of the pass's regression sums per band
#: (measured on two threads: the authors' scene, 0.1 %, 11 % and 22 % of the pixels trying,
#: 2.45 s all gathered vs 3.0 s all from the pass; a synthetic 500² NDVI scene where all try,
#: 3.6 s vs 2.5 s).
DEFER_SHARE = 0.4
#: Pixels whose windows are gathered at once (bounds the memory of the gathered path: about
#: 2·bands·(2w + 1)²·8 bytes a pixel, 4 MB a batch for 3 bands and w = 25).
GATHER_BATCH = 32
#: A centre's gathered regression costs about this many times its share of the pass over the
#: pairs (measured on the authors' scene: 18 µs vs 9 µs; used for the progress only).
GATHER_COST = 2.0
#: Centres sampled to estimate the share that tries the regression (see DEFER_SHARE).
TRIED_SAMPLE = 512
#: Regression sums this small relative to the sum of squares mean "no spread" (no test).
NO_SPREAD = 1e-12


@dataclass(frozen=True)
class FusionSettings:
    """Parameters of one ESTARFM run (data units are those of the images).

    ``thresholds`` are the similarity thresholds σ(B, t_k)·2/m, shape (2, bands) for the fine
    images at t_m and t_n; None computes σ in every block from its valid pixels.
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


class _Stopped(Exception):
    """Raised inside a worker when the run was cancelled."""


#: Stands for an invalid pixel in the similarity channels: no valid value is within any
#: threshold of it, and unlike NaN it keeps masked products finite (0·1e30 = 0).
_FAR = np.float32(1e30)


def _band_groups(ranges: dict[int, tuple[int, int]], waste: float = 0.15) -> list[dict]:
    """Bands whose regression sums are taken together: runs of consecutive bands whose centre
    ranges (band → (lo, hi)) overlap so much that summing over the union of the ranges costs at
    most ``waste`` more than summing each band over its own range."""
    groups: list[dict] = []
    for band in sorted(ranges):
        group = groups[-1] if groups else None
        if group is not None and band == max(group) + 1:
            merged = {**group, band: ranges[band]}
            union = max(b[1] for b in merged.values()) - min(b[0] for b in merged.values())
            own = sum(b[1] - b[0] for b in merged.values())
            if union * len(merged) <= (1 + waste) * own:
                group[band] = ranges[band]
                continue
        groups.append({band: ranges[band]})
    return groups


def _in_threads(task, items, threads, check=None, report=None, merge=None, stop=None):
    """``task(item)`` for every item on ``threads`` threads, at most two items per thread in
    flight (bounded memory). In the calling thread, in the items' order: ``merge(result)``,
    ``report(fraction done)`` and ``check()``, which may raise to cancel; then ``stop`` (an
    Event, if given) is set so that running tasks can end early, and waiting ones are
    dropped."""
    items = list(items)

    def finish(result, done):
        if merge is not None:
            merge(result)
        if report is not None:
            report(done / len(items))
        if check is not None:
            check()

    if threads <= 1:
        for done, item in enumerate(items, 1):
            finish(task(item), done)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="mineeco-estarfm") as pool:
        queue = iter(items)
        pending = [pool.submit(task, item) for item in itertools.islice(queue, 2 * threads)]
        done = 0
        try:
            while pending:
                result = pending.pop(0).result()
                following = next(queue, None)
                if following is not None:
                    pending.append(pool.submit(task, following))
                done += 1
                finish(result, done)
        except BaseException:
            if stop is not None:
                stop.set()
            for future in pending:
                future.cancel()
            raise


class _Block:
    """One block of the five images with a halo of ``half_window``, flattened row by row.

    Centres are the flat indices of the inner pixels; a neighbour at (dy, dx) is the index
    + dy·width + dx. Chunks of consecutive flat indices include the halo columns between inner
    rows: they are computed and dropped, which keeps every array operation contiguous.
    """

    def __init__(self, images: Sequence[np.ndarray], settings: FusionSettings):
        self.settings = s = settings
        self.h = h = int(s.half_window)
        stack = np.stack([np.asarray(image, dtype=np.float32) for image in images])
        _, self.bands, self.height, self.width = stack.shape
        self.rows, self.cols = self.height - 2 * h, self.width - 2 * h
        if self.rows < 1 or self.cols < 1:
            raise ValueError(
                f"a block of {self.height}×{self.width} pixels has no centre for a half window "
                f"of {h}"
            )
        valid2d = in_range(stack, s.valid_min, s.valid_max).all(axis=(0, 1))
        if h and not valid2d[:, :h].any() and not valid2d[:, -h:].any():
            # A strip as wide as the raster: rows are cut after their centres, so that a
            # neighbour past the right edge falls in the next row's (invalid) left halo; an
            # invalid row below gives the last centres their reach. Fewer pixels per row.
            width = h + self.cols
            below = np.full((*stack.shape[:2], 1, width), np.nan, np.float32)
            stack = np.concatenate([stack[..., :width], below], axis=2)
            valid2d = np.concatenate([valid2d[:, :width], np.zeros((1, width), bool)])
            self.height, self.width = stack.shape[2:]
        self.valid = valid2d.ravel()
        fine1, coarse1, fine2, coarse2, coarse0 = stack
        thresholds = s.thresholds
        if thresholds is None:
            thresholds = similarity_thresholds(
                [sample_sigma(f, s.valid_min, s.valid_max) for f in (fine1, fine2)], s.classes
            )
        self.thresholds = np.asarray(thresholds, dtype=np.float64).reshape(2, self.bands)
        zero = ~valid2d
        # Per-pixel planes stacked band by band, date by date (row 2·band + date), so that one
        # array operation serves every band and date. Similarity planes: invalid pixels far away.
        self.planes = np.stack(
            [np.where(valid2d, f[band], _FAR) for band in range(self.bands) for f in (fine1, fine2)]
        ).reshape(2 * self.bands, -1)
        self.plane_thresholds = self.thresholds.T.reshape(2 * self.bands, 1).astype(np.float32)
        r = spectral_correlation(fine1, coarse1, fine2, coarse2)
        self.spectral = np.where(valid2d, 1.0 - r, 1.0).astype(np.float32).ravel()
        # Neighbour quantities, 0 where not valid (the masks exclude those pixels anyway).
        fine_rows = self._rows((fine1, fine2), zero)
        coarse_rows = self._rows((coarse1, coarse2), zero)
        self.coarse_rows = coarse_rows
        self.fine = [fine_rows[0::2], fine_rows[1::2]]  # (bands, pixels) views, per date
        self.coarse = [coarse_rows[0::2], coarse_rows[1::2]]
        # The changes C(t_p) − C(t_m) and C(t_p) − C(t_n) of every band.
        self.changes = self._rows((coarse0 - coarse1, coarse0 - coarse2), zero)
        # Centres whose window holds a coarse change |C(t_m) − C(t_n)| ≥ MIN_CHANGE.
        size = 2 * h + 1
        self.candidates = [
            (
                box_sum((valid2d & (np.abs(coarse1[b] - coarse2[b]) >= s.min_change)) * 1.0, size)
                > 0
            ).ravel()
            for b in range(self.bands)
        ]
        (self.t_m, self.t_n, self.delta_m, self.delta_n) = (
            a.reshape(self.bands, -1)
            for a in temporal_weights(coarse0, coarse1, coarse2, valid2d, h)
        )
        offsets = [
            (dy, dx) for dy in range(0, h + 1) for dx in range(-h, h + 1) if (dy, dx) > (0, 0)
        ]
        self.shifts = [dy * self.width + dx for dy, dx in offsets]
        self.distances = [np.float32(1.0 + math.hypot(dy, dx) / h) for dy, dx in offsets]
        self.reach = self.shifts[-1] if self.shifts else 0
        window = np.arange(-h, h + 1)
        dy, dx = np.meshgrid(window, window, indexing="ij")
        self.window_distances = (1.0 + np.hypot(dy, dx) / max(h, 1)).ravel().astype(np.float32)
        self.first = h * self.width + h
        self.stop = (h + self.rows - 1) * self.width + h + self.cols
        index = np.arange(self.height * self.width)
        columns = index % self.width
        self.centre = (
            self.valid
            & (columns >= h)
            & (columns < h + self.cols)
            & (index >= self.first)
            & (index < self.stop)
        )
        # Bands whose regression sums come from the pass over the pairs, and bands whose
        # pixels that try the regression are few (see DEFER_SHARE), whose sums come from the
        # gathered windows of those pixels. The pass sums the coarse changes C(t_m) − C(t_n)
        # of the latter over the similar pixels, which says exactly which pixels try it.
        centres = np.flatnonzero(self.centre)
        shares = [int((c & self.centre).sum()) / max(centres.size, 1) for c in self.candidates]
        defer = s.defer_share
        estimated = self._tried_shares(
            centres, [b for b, share in enumerate(shares) if 0 < defer <= share]
        )
        self.deferred = [
            b for b, share in enumerate(shares) if 0 < share and estimated.get(b, share) < defer
        ]
        self.deferred_shares = {b: estimated.get(b, shares[b]) for b in self.deferred}
        self.dense_bands = [b for b, share in enumerate(shares) if share > 0]
        self.dense_bands = [b for b in self.dense_bands if b not in self.deferred]
        self.changes_mn = None
        if self.deferred:
            self.changes_mn = np.stack(
                [self.coarse[0][b] - self.coarse[1][b] for b in self.deferred]
            )
        self.gathered = {}

    def _tried_shares(self, centres, bands) -> dict[int, float]:
        """The share of the centres that try the regression in each of ``bands``, estimated
        from the gathered windows of ``TRIED_SAMPLE`` evenly spaced centres (all when fewer)."""
        if not bands or not centres.size:
            return {}
        sample = centres
        if centres.size > TRIED_SAMPLE:
            sample = centres[np.linspace(0, centres.size - 1, TRIED_SAMPLE).round().astype(int)]
        planes_view = self._window_view(self.planes)
        coarse_views = {
            band: self._window_view(self.coarse_rows[2 * band : 2 * band + 2]) for band in bands
        }
        tries = {band: 0 for band in bands}
        s = self.settings
        for begin in range(0, sample.size, GATHER_BATCH):
            batch = sample[begin : begin + GATHER_BATCH]
            _, similar = self._gathered_similarity(batch, planes_view)
            n = similar.sum(axis=1)
            for band in bands:
                windows = self._windows(coarse_views[band], batch)
                change = np.where(similar, windows[0] - windows[1], 0).sum(axis=1)
                tried = (
                    self.candidates[band][batch]
                    & (n >= s.min_similar)
                    & (np.abs(change) >= s.min_change * n)
                )
                tries[band] += int(tried.sum())
        return {band: tries[band] / sample.size for band in bands}

    @staticmethod
    def _rows(images, zero) -> np.ndarray:
        """(bands, rows, cols) images of each date → (2·bands, pixels) float32, row
        2·band + date, 0 where ``zero``."""
        bands = images[0].shape[0]
        out = np.empty((2 * bands, zero.size), np.float32)
        for band in range(bands):
            for date, image in enumerate(images):
                out[2 * band + date] = np.where(zero, np.float32(0), image[band]).ravel()
        return out

    # --- window sums ---------------------------------------------------------------------
    def pair_sums(
        self, weighted=None, regression=False, check=None, report=None, plain=None, plain_bands=None
    ):
        """Sums over the similar pixels x_i of every centre x_c of the block, as flat float32
        arrays over the block's pixels (meaningful at the centres): the count n; if ``weighted``
        (a (K, pixels) stack of quantities q) is given, Σu_i·q(x_i) for each of its rows and Σu_i
        as row K, with u_i = 1/D_i (Eqs. 15–17); with ``regression``, for every
        band, the regression sums relative to the centre (a_k = C(x_i, t_k) − C(x_c, t_k), b_k
        the same for F) where a centre can try the regression: Σa (2 rows per band, t_m and
        t_n), Σb (the same); Σ(a_m² + a_n²), Σ(b_m² + b_n²), Σ(a_m·b_m + a_n·b_n).

        Returns (count, sums or None, linear (2, 2·bands, pixels) or None, quadratic
        (3, bands, pixels) or None, plain sums or None): ``plain``, a (D, pixels) stack, gives
        the unweighted sums Σq(x_i) of its rows, complete at every centre, or with
        ``plain_bands`` (the band each row stands for) at the band's candidates. The centre
        itself counts as similar at distance 1.

        Pairs of pixels (p, p + o) for the offsets o of half the window are split into runs of
        consecutive p, run on ``threads`` threads; each pair is tested once and serves the
        centre p (neighbour p + o) and the centre p + o (neighbour p). A run adds into arrays of
        its own, which reach ``reach`` pixels past its end, and those are added into the
        block's arrays as runs finish. ``check`` is called between runs (it may raise to
        cancel), ``report(fraction)`` gives the progress.
        """
        pixels = self.planes.shape[1]
        count = np.zeros(pixels, np.float32)
        sums = None
        if weighted is not None:
            sums = np.zeros((weighted.shape[0] + 1, pixels), np.float32)
        linear = quadratic = None
        if regression:
            linear = np.zeros((2, 2 * self.bands, pixels), np.float32)
            quadratic = np.zeros((3, self.bands, pixels), np.float32)
        plain_sums = None if plain is None else np.zeros(plain.shape, np.float32)
        # The centre itself: similar to itself when valid, at distance d = 1.
        own = self.valid.astype(np.float32)
        np.add(count, own, out=count)
        if weighted is not None:
            with np.errstate(divide="ignore"):
                u = own / (self.spectral + np.float32(WEIGHT_EPSILON))
            np.add(sums[:-1], weighted * u, out=sums[:-1])
            np.add(sums[-1], u, out=sums[-1])
        if plain is not None:
            np.add(plain_sums, plain * own, out=plain_sums)
        if not self.shifts:
            return count, sums, linear, quadratic, plain_sums

        # Pairs whose first pixel p is invalid are never similar: start at the first valid
        # pixel (a block at the raster's top edge has a halo of invalid rows).
        first_valid = int(np.argmax(self.valid)) if self.valid.any() else self.stop
        begin = max(self.first - self.reach, 0, first_valid)
        if begin >= self.stop:
            return count, sums, linear, quadratic, plain_sums
        threads = max(1, int(self.settings.threads))
        total = self.stop - begin
        runs = math.ceil(total / max(int(self.settings.chunk), 1024))
        runs = math.ceil(runs / threads) * threads
        size = math.ceil(total / runs)
        bounds = [(a, min(a + size, self.stop)) for a in range(begin, self.stop, size)]
        stop_flag = threading.Event()

        def merge(result):
            base, run_count, run_sums, groups, run_plain = result
            part = slice(base, base + run_count.size)
            np.add(count[part], run_count, out=count[part])
            if sums is not None:
                np.add(sums[:, part], run_sums, out=sums[:, part])
            if plain_sums is not None:
                np.add(plain_sums[:, part], run_plain, out=plain_sums[:, part])
            for rows, (run_linear, run_quadratic) in groups:
                np.add(
                    linear[:, 2 * rows.start : 2 * rows.stop, part],
                    run_linear,
                    out=linear[:, 2 * rows.start : 2 * rows.stop, part],
                )
                np.add(quadratic[:, rows, part], run_quadratic, out=quadratic[:, rows, part])

        def task(run):
            return self._run_pairs(
                run[0], run[1], weighted, regression, stop_flag, plain, plain_bands
            )

        _in_threads(task, bounds, self.settings.threads, check, report, merge, stop_flag)
        return count, sums, linear, quadratic, plain_sums

    def _run_pairs(
        self, start, stop, weighted, regression, stop_flag, plain=None, plain_bands=None
    ):
        """The pairs (p, p + o) with p in start … stop − 1 (and p + o a centre's possible
        neighbour), every offset o: their contributions to the sums of ``pair_sums``, in
        arrays over the pixels start … stop + reach − 1. Returns (start, count, sums,
        [(band range, (linear, quadratic)), …], plain sums)."""
        length = stop - start
        extent = length + self.reach
        base = start
        rows = self.planes.shape[0]
        count = np.zeros(extent, np.float32)
        diff = np.empty((rows, length), np.float32)
        test = np.empty((rows, length), bool)
        similar = np.empty(length, bool)
        mask = np.empty(length, np.float32)
        sums = None
        if weighted is not None:
            sums = np.zeros((weighted.shape[0] + 1, extent), np.float32)
            u = np.empty(length, np.float32)
            product = np.empty((weighted.shape[0], length), np.float32)
            denominators = np.empty(length + self.reach, np.float32)
        epsilon = np.float32(WEIGHT_EPSILON)
        plain_sums = None
        if plain is not None:
            plain_sums = np.zeros((plain.shape[0], extent), np.float32)
            plain_product = np.empty((plain.shape[0], length), np.float32)
            # Rows of ``plain`` with the range of p whose pairs they need: all, or (rows
            # standing for bands, ``plain_bands``) the pairs reaching the band's candidates.
            plain_groups = [(slice(0, plain.shape[0]), start, stop)]
            if plain_bands is not None:
                ranges = self._candidate_ranges(start, stop, plain_bands)
                by_row = {
                    row: ranges[band] for row, band in enumerate(plain_bands) if band in ranges
                }
                plain_groups = [
                    (
                        slice(min(group), max(group) + 1),
                        min(lo for lo, _ in group.values()),
                        max(hi for _, hi in group.values()),
                    )
                    for group in _band_groups(by_row)
                ]
        accumulators = []
        if regression:
            accumulators = [
                self._regression_accumulator(group, base, extent, length)
                for group in _band_groups(self._candidate_ranges(start, stop, self.dense_bands))
            ]

        # Locals for the loop, which runs once per offset.
        planes, spectral, thresholds = self.planes, self.spectral, self.plane_thresholds
        first = self.first
        # The regression sums need the signed fine differences after the test; otherwise the
        # absolute values overwrite them.
        absolute = np.empty((rows, length), np.float32) if accumulators else diff
        add, multiply, divide = np.add, np.multiply, np.divide

        with np.errstate(invalid="ignore", over="ignore"):
            for shift, distance in zip(self.shifts, self.distances, strict=True):
                if stop_flag.is_set():
                    raise _Stopped()
                # p + shift must be a centre or p one: p ≥ first − shift.
                lo = max(start, first - shift)
                if lo >= stop:
                    continue
                n = stop - lo
                np.subtract(
                    planes[:, lo + shift : stop + shift], planes[:, lo:stop], out=diff[:, :n]
                )
                np.abs(diff[:, :n], out=absolute[:, :n])
                np.less_equal(absolute[:, :n], thresholds, out=test[:, :n])
                np.logical_and.reduce(test[:, :n], axis=0, out=similar[:n])
                pair_mask = mask[:n]
                np.copyto(pair_mask, similar[:n])
                # Centres p with neighbour p + shift (forward), centres p + shift with
                # neighbour p (backward).
                forward = slice(lo - base, stop - base)
                backward = slice(lo + shift - base, stop + shift - base)
                add(count[forward], pair_mask, out=count[forward])
                add(count[backward], pair_mask, out=count[backward])
                if plain is not None:
                    for rows, group_lo, group_hi in plain_groups:
                        a, b = max(lo, group_lo), min(stop, group_hi)
                        if a >= b:
                            continue
                        part = pair_mask[a - lo : b - lo]
                        products = plain_product[: rows.stop - rows.start, : b - a]
                        for centre, neighbour in ((a, a + shift), (a + shift, a)):
                            into = plain_sums[rows, centre - base : centre - base + b - a]
                            multiply(plain[rows, neighbour : neighbour + b - a], part, out=products)
                            add(into, products, out=into)
                if weighted is not None:
                    # D_i = (1 − R_i)·d + ε of the neighbours, computed once where the
                    # forward and backward ranges overlap.
                    if shift < n:
                        span = denominators[: n + shift]
                        multiply(spectral[lo : stop + shift], distance, out=span)
                        add(span, epsilon, out=span)
                        forward_d, backward_d = span[shift:], span[:n]
                    else:
                        forward_d, backward_d = denominators[:n], denominators[n : 2 * n]
                        multiply(spectral[lo + shift : stop + shift], distance, out=forward_d)
                        multiply(spectral[lo:stop], distance, out=backward_d)
                        add(denominators[: 2 * n], epsilon, out=denominators[: 2 * n])
                    weights, products = u[:n], product[:, :n]
                    for centres, neighbour, denominator in (
                        (forward, lo + shift, forward_d),
                        (backward, lo, backward_d),
                    ):
                        divide(pair_mask, denominator, out=weights)  # 1/D_i where similar
                        multiply(weighted[:, neighbour : neighbour + n], weights, out=products)
                        add(sums[:-1, centres], products, out=sums[:-1, centres])
                        add(sums[-1, centres], weights, out=sums[-1, centres])
                for accumulate in accumulators:
                    accumulate(lo, stop, shift, diff, mask)
        groups = [(a.rows, a.totals) for a in accumulators]
        return base, count, sums, groups, plain_sums

    def _candidate_ranges(self, start, stop, bands):
        """For each of ``bands`` with centres that may try the regression (``candidates``)
        among those the pairs p = start … stop − 1 serve (start … stop + reach − 1): the range
        of p whose pairs reach such a centre, band → (lo, hi)."""
        ranges = {}
        served = slice(start, min(stop + self.reach, self.centre.size))
        for band in bands:
            found = np.flatnonzero(self.candidates[band][served] & self.centre[served])
            if found.size:
                low, high = start + int(found[0]), start + int(found[-1]) + 1
                lo, hi = max(start, low - self.reach), min(stop, high)
                if lo < hi:
                    ranges[band] = (lo, hi)
        return ranges

    def _regression_accumulator(self, group, base, extent, length):
        """A function adding one offset's pairs to the centre-relative regression sums of a
        group of consecutive bands (band → (lo, hi), the range of p whose pairs are needed);
        the arrays cover the pixels base … base + extent − 1. Its ``rows`` are the band range,
        ``totals`` the (linear (2, 2·bands, extent), quadratic (3, bands, extent)) sums."""
        first_band, last_band = min(group), max(group) + 1
        lo = min(bounds[0] for bounds in group.values())
        hi = max(bounds[1] for bounds in group.values())
        pair_rows = slice(2 * first_band, 2 * last_band)
        n_bands = last_band - first_band
        # Σa (rows 2j + date), Σb; Σ(a_m² + a_n²), Σ(b_m² + b_n²), Σ(a_m·b_m + a_n·b_n).
        linear = np.zeros((2, 2 * n_bands, extent), np.float32)
        quadratic = np.zeros((3, n_bands, extent), np.float32)
        pair_linear = np.empty((2, 2 * n_bands, length), np.float32)
        pair_square = np.empty((2, 2 * n_bands, length), np.float32)
        pair_quadratic = np.empty((3, n_bands, length), np.float32)
        coarse = self.coarse_rows[pair_rows]

        def accumulate(start, stop, shift, diff, mask):
            """Pairs p = max(start, lo) … min(stop, hi) − 1 of ``shift``; ``diff`` and
            ``mask`` hold the pairs from ``start`` on."""
            a, b = max(start, lo), min(stop, hi)
            if a >= b:
                return
            size, at = b - a, a - start
            a_b = pair_linear[:, :, :size]
            np.subtract(coarse[:, a + shift : b + shift], coarse[:, a:b], out=a_b[0])
            np.multiply(a_b[0], mask[at : at + size], out=a_b[0])
            np.multiply(diff[pair_rows, at : at + size], mask[at : at + size], out=a_b[1])
            square = pair_square[:, :, :size]
            products = pair_quadratic[:, :, :size]
            np.multiply(a_b, a_b, out=square)
            np.add(square[:, 0::2], square[:, 1::2], out=products[0:2])
            np.multiply(a_b[0], a_b[1], out=square[0])
            np.add(square[0, 0::2], square[0, 1::2], out=products[2])
            # Centre p (neighbour p + shift) adds the differences, centre p + shift subtracts
            # them (the roles change their sign); the products are added to both.
            forward = slice(a - base, b - base)
            backward = slice(a + shift - base, b + shift - base)
            np.add(linear[:, :, forward], a_b, out=linear[:, :, forward])
            np.subtract(linear[:, :, backward], a_b, out=linear[:, :, backward])
            np.add(quadratic[:, :, forward], products, out=quadratic[:, :, forward])
            np.add(quadratic[:, :, backward], products, out=quadratic[:, :, backward])

        accumulate.rows = slice(first_band, last_band)
        accumulate.totals = (linear, quadratic)
        return accumulate

    def gathered_sums(self, centres, weighted):
        """Count, Σu·q and Σu of ``pair_sums`` (``weighted`` a (K, pixels) stack) for scattered
        centres (flat indices), from their gathered windows, in batches; float64."""
        centres = np.asarray(centres, dtype=np.int64)
        count = np.zeros(centres.size)
        sums = np.zeros((weighted.shape[0] + 1, centres.size))
        planes_view = self._window_view(self.planes)
        spectral_view = self._window_view(self.spectral[np.newaxis])
        quantities_view = self._window_view(weighted)
        for begin in range(0, centres.size, GATHER_BATCH):
            part = slice(begin, begin + GATHER_BATCH)
            batch = centres[part]
            _, similar = self._gathered_similarity(batch, planes_view)
            count[part] = similar.sum(axis=1)
            spectral = self._windows(spectral_view, batch)[0]
            u = np.float32(1) / (spectral * self.window_distances + np.float32(WEIGHT_EPSILON))
            u = np.where(similar, u, np.float32(0))
            quantities = self._windows(quantities_view, batch)
            sums[:-1, part] = (u * quantities).sum(axis=2, dtype=np.float64)
            sums[-1, part] = u.sum(axis=1, dtype=np.float64)
        return count, sums

    def _window_view(self, rows: np.ndarray) -> np.ndarray:
        """A strided view (K, positions, 2w + 1, 2w + 1) of a (K, pixels) stack of rows whose
        [:, c − reach] is the window of centre c (no copy; indexing it gathers windows as runs
        of contiguous rows; see ``_windows``). The window reaches ``reach`` = w·width + w pixels
        either side of its centre."""
        h, step = self.h, rows.strides[1]
        return as_strided(
            rows,
            (rows.shape[0], rows.shape[1] - 2 * self.reach, 2 * h + 1, 2 * h + 1),
            (rows.strides[0], step, self.width * step, step),
            writeable=False,
        )

    def _windows(self, view, centres):
        """The windows of ``centres`` (flat indices) from a ``_window_view``: a (K, k,
        (2w + 1)²) copy, window pixels row by row."""
        return view[:, centres - self.reach].reshape(view.shape[0], centres.size, -1)

    def _gathered_similarity(self, batch, planes_view):
        """For centres ``batch`` (flat indices): the signed differences F(x_i) − F(x_c) of
        every fine plane over their windows, (2·bands, k, (2w + 1)²) float32, and the
        similarity of Eq. 13, (k, (2w + 1)²) bool."""
        diff = self._windows(planes_view, batch)
        np.subtract(diff, self.planes[:, batch][:, :, None], out=diff)
        within = np.abs(diff) <= self.plane_thresholds[:, :, None]
        return diff, np.logical_and.reduce(within, axis=0)

    def gathered_regression(self, tried, check=None, report=None):
        """The seven centre-relative regression sums of ``pair_sums`` (Σa_m, Σa_n, Σb_m, Σb_n,
        Σ(a_m² + a_n²), Σ(b_m² + b_n²), Σ(a_m·b_m + a_n·b_n)) at scattered centres, from
        their gathered windows: ``tried`` maps a band to its sorted flat indices; returns
        band → (7, k) float64. A centre listed for several bands has its window's similarity
        computed once. Batches run on ``threads`` threads; ``check`` and ``report`` are called
        between batches in the calling thread. The window sums are float32 sums of the
        centre-relative values, like those of the pass."""
        tried = {band: np.asarray(pixels, np.int64) for band, pixels in tried.items()}
        totals = {band: np.zeros((7, pixels.size)) for band, pixels in tried.items()}
        if not any(pixels.size for pixels in tried.values()):
            return totals
        union = np.unique(np.concatenate(list(tried.values())))
        planes_view = self._window_view(self.planes)
        coarse_views = {
            band: self._window_view(self.coarse_rows[2 * band : 2 * band + 2]) for band in tried
        }

        def run(begin):
            batch = union[begin : begin + GATHER_BATCH]
            diff, similar = self._gathered_similarity(batch, planes_view)
            weight = similar.astype(np.float32)
            for band, pixels in tried.items():
                lo = int(np.searchsorted(pixels, batch[0]))
                hi = int(np.searchsorted(pixels, batch[-1], side="right"))
                if lo == hi:
                    continue
                centres = pixels[lo:hi]
                rows = np.searchsorted(batch, centres)
                mask = weight[rows]
                coarse = self.coarse_rows[2 * band : 2 * band + 2]
                a = self._windows(coarse_views[band], centres)
                np.subtract(a, coarse[:, centres][:, :, None], out=a)
                b = diff[2 * band : 2 * band + 2, rows]
                np.multiply(a, mask, out=a)
                np.multiply(b, mask, out=b)
                out = totals[band][:, lo:hi]
                out[0:2] = np.einsum("dkw->dk", a)
                out[2:4] = np.einsum("dkw->dk", b)
                out[4] = np.einsum("dkw,dkw->k", a, a)
                out[5] = np.einsum("dkw,dkw->k", b, b)
                out[6] = np.einsum("dkw,dkw->k", a, b)

        starts = range(0, union.size, GATHER_BATCH)
        _in_threads(run, starts, self.settings.threads, check, report)
        return totals

    # --- predictions from the sums -------------------------------------------------------
    def _finish(self, start, stop, sums, out, revise, stats):
        """Predictions of the centres start … stop − 1 from the window sums: Eqs. 12 and 19,
        V from the regression where tried, the fall-back for few similar pixels. Writes
        ``out`` and marks ``revise`` (abnormal predictions) for those pixels. ``sums`` are
        those of ``pair_sums``."""
        count, sums_w, linear, quadratic, plain = sums
        s = self.settings
        chunk = slice(start, stop)
        centre = self.centre[chunk]
        count = count[chunk]
        few = centre & (count < s.min_similar)
        fused = centre & ~few
        stats.predicted += int(centre.sum())
        stats.few_similar += int(few.sum())
        stats.similar_sum += float(count[fused].sum(dtype=np.float64))
        v = np.ones((self.bands, stop - start))
        n = count.astype(np.float64)
        for band in self.dense_bands:
            # Only candidates can try the regression (a mean of coarse changes below
            # MIN_CHANGE stays below it), and only their sums are complete.
            candidates = fused & self.candidates[band][chunk]
            if not candidates.any():
                continue
            totals = [
                *(linear[k, 2 * band + date, chunk] for k in (0, 1) for date in (0, 1)),
                *(quadratic[k, band, chunk] for k in (0, 1, 2)),
            ]
            a_m, a_n = (t.astype(np.float64) for t in totals[:2])
            c_m, c_n = (c[band, chunk].astype(np.float64) for c in self.coarse)
            change = a_m - a_n + n * (c_m - c_n)  # Σ_i C(x_i, t_m) − C(x_i, t_n)
            tried = candidates & (np.abs(change) >= s.min_change * n)
            if not tried.any():
                continue
            pixels = start + np.flatnonzero(tried)
            totals = [t[tried].astype(np.float64) for t in totals]
            self._regression(band, pixels, n[tried], totals, v[band], tried, stats)
        for index, band in enumerate(self.deferred):
            tried = self._deferred_tries(index, band, count, plain[index, chunk], chunk)
            if not tried.any():
                continue
            pixels = start + np.flatnonzero(tried)
            listed, gathered = self.gathered[band]
            totals = list(gathered[:, np.searchsorted(listed, pixels)])
            self._regression(band, pixels, n[tried], totals, v[band], tried, stats)
        weights = sums_w[-1, chunk]
        with np.errstate(invalid="ignore", divide="ignore"):
            for band in range(self.bands):
                t_m, t_n = self.t_m[band, chunk], self.t_n[band, chunk]
                f_m = self.fine[0][band, chunk].astype(np.float64)
                f_n = self.fine[1][band, chunk].astype(np.float64)
                mean_m = sums_w[2 * band, chunk].astype(np.float64) / weights
                mean_n = sums_w[2 * band + 1, chunk].astype(np.float64) / weights
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

    def _deferred_tries(self, index, band, count, change, chunk):
        """Which centres of ``chunk`` try the regression in the deferred band ``band``
        (``index`` in ``deferred``): candidates with enough similar pixels (``count``, of the
        chunk) whose similar pixels' coarse changes (``change``, the pass's plain sums) have a
        mean of at least MIN_CHANGE."""
        s = self.settings
        fused = self.centre[chunk] & (count >= s.min_similar)
        n = count.astype(np.float64)
        change = change.astype(np.float64)
        return fused & self.candidates[band][chunk] & (np.abs(change) >= s.min_change * n)

    def _regression(self, band, pixels, n, totals, v, tried, stats):
        """V at the pixels that try the regression (``tried``, of the chunk; flat ``pixels``)
        into ``v`` (the band's row of the chunk), and the counts into ``stats``."""
        coefficient, used = self._conversion(band, pixels, n, totals)
        v[tried] = coefficient
        stats.regression_tried[band] += int(tried.sum())
        stats.regression_used[band] += int(used.sum())

    def _conversion(self, band, pixels, n, totals):
        """V (§3.4) at the pixels (flat indices) that try the regression, from their numbers of
        similar pixels n and their centre-relative sums (float64; see ``pair_sums``): those
        become centred sums of squares and products over the 2n samples (fine y on coarse x).
        Returns (V, used)."""
        c_m, c_n = (c[band, pixels].astype(np.float64) for c in self.coarse)
        f_m, f_n = (f[band, pixels].astype(np.float64) for f in self.fine)
        a_m, a_n, b_m, b_n, q_aa, q_bb, q_ab = totals
        samples = 2.0 * n
        x_m = c_m - (n * (c_m + c_n) + a_m + a_n) / samples  # centre minus mean, per date
        x_n = c_n - (n * (c_m + c_n) + a_m + a_n) / samples
        y_m = f_m - (n * (f_m + f_n) + b_m + b_n) / samples
        y_n = f_n - (n * (f_m + f_n) + b_m + b_n) / samples
        scale_xx = n * (x_m * x_m + x_n * x_n) + q_aa
        scale_yy = n * (y_m * y_m + y_n * y_n) + q_bb
        sxx = scale_xx + 2 * (x_m * a_m + x_n * a_n)
        syy = scale_yy + 2 * (y_m * b_m + y_n * b_n)
        sxy = n * (x_m * y_m + x_n * y_n) + x_m * b_m + x_n * b_n + y_m * a_m + y_n * a_n + q_ab
        coefficient, used = conversion_coefficient(
            samples,
            sxx,
            sxy,
            syy,
            alpha=self.settings.alpha,
            v_max=self.settings.v_max,
            scale_xx=scale_xx,
            scale_yy=scale_yy,
        )
        return coefficient, used

    def _revise(self, revise, out, stats, check):
        """The code's revision: Σ_k T_k·Σ_i W_i·F(x_i, t_k) where the prediction is abnormal,
        from a pass over all pairs when many pixels need it, from their gathered windows when
        few."""
        bands = [band for band in range(self.bands) if revise[band].any()]
        positions = np.flatnonzero(revise[bands].any(axis=0))
        # The fine values of those bands at both dates (the sums add Σ1/D_i as a last row).
        quantities = np.empty((2 * len(bands), self.planes.shape[1]), np.float32)
        for index, band in enumerate(bands):
            quantities[2 * index : 2 * index + 2] = self.fine[0][band], self.fine[1][band]
        if positions.size >= self.settings.dense_share * max(int(self.centre.sum()), 1):
            _, sums, _, _, _ = self.pair_sums(quantities, check=check)
            sums = sums[:, positions].astype(np.float64)
        else:
            _, sums = self.gathered_sums(positions, quantities)
        weights = sums[-1]
        for index, band in enumerate(bands):
            rows = revise[band][positions]
            mean_m = sums[2 * index][rows] / weights[rows]
            mean_n = sums[2 * index + 1][rows] / weights[rows]
            pixels = positions[rows]
            out[band, pixels] = self.t_m[band, pixels] * mean_m + self.t_n[band, pixels] * mean_n
            stats.revised[band] += int(rows.sum())

    # --- the block -----------------------------------------------------------------------
    def predict(self, check=None, report=None) -> tuple[np.ndarray, FusionStats]:
        pixels = self.planes.shape[1]
        # Progress: the pass over the pairs, then the gathered windows (which cost about
        # GATHER_COST of the pass per centre each).
        pairs_part = 1.0 / (1.0 + GATHER_COST * sum(self.deferred_shares.values()))
        sums = self.pair_sums(
            self.changes,
            regression=bool(self.dense_bands),
            check=check,
            report=None if report is None else (lambda f: report(pairs_part * f)),
            plain=self.changes_mn,
            plain_bands=self.deferred,
        )
        if self.deferred:
            count, plain = sums[0], sums[4]
            tried = {
                band: np.flatnonzero(
                    self._deferred_tries(index, band, count, plain[index], slice(None))
                )
                for index, band in enumerate(self.deferred)
            }
            totals = self.gathered_regression(
                tried,
                check=check,
                report=None
                if report is None
                else (lambda f: report(pairs_part + (1 - pairs_part) * f)),
            )
            self.gathered = {band: (tried[band], totals[band]) for band in self.deferred}
        stats = FusionStats(
            regression_tried=[0] * self.bands,
            regression_used=[0] * self.bands,
            revised=[0] * self.bands,
        )
        out = np.full((self.bands, pixels), np.nan, dtype=np.float32)
        revise = np.zeros((self.bands, pixels), bool)
        for start in range(self.first, self.stop, FINISH_SLICE):
            stop = min(start + FINISH_SLICE, self.stop)
            self._finish(start, stop, sums, out, revise, stats)
        del sums
        if revise.any():
            self._revise(revise, out, stats, check)
        h = self.h
        out = out.reshape(self.bands, self.height, self.width)
        return out[:, h : h + self.rows, h : h + self.cols], stats


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

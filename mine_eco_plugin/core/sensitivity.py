"""Weight sensitivity of the comprehensive index (the resilience study's Eq. 20): Monte Carlo over
plausible weights, summarised per pixel and for the study area.

Pure numpy/scipy. The weight vectors are drawn once (draws × k, small); the rasters then stream
block by block and, within a block, chunk by chunk, so that the per-pixel draws (a chunk of
pixels × draws) never outgrow a fixed memory budget whatever the number of draws.

Two ways to draw plausible weights
----------------------------------
* **AHP judgements one step along Saaty's scale.** Saaty's (1980) 1–9 scale and its reciprocals
  form 17 ordered values 1/9, 1/8, …, 1/2, 1, 2, …, 9. Each judgement aᵢⱼ above the diagonal
  moves independently to the next lower scale value with probability p/2, to the next higher one
  with probability p/2, and stays with probability 1 − p (p = STEP_PROBABILITY, default 2/3:
  the judgement and its two neighbours equally likely). At the ends of the scale (9 or 1/9) the
  missing neighbour's share stays put. aⱼᵢ = 1/aᵢⱼ is kept. A judgement that does not move keeps
  the value typed (so p = 0 reproduces the given matrix exactly); one typed off the scale (e.g.
  2.5) moves to the neighbours of the nearest scale value in log ratio. Perturbed matrices whose
  consistency ratio exceeds the threshold are, by default, redrawn (rejection sampling: the
  draws are then the perturbed matrices conditioned on CR ≤ threshold); or kept. This is the
  discrete-scale variant of the judgement perturbations of Hauser & Tadikamalla (1996) and of
  the probabilistic AHP of Paulson & Zahir (1995).
* **Dirichlet around given weights.** W ~ Dirichlet(κ·w₀): E[Wⱼ] = w₀ⱼ and
  Var[Wⱼ] = w₀ⱼ(1 − w₀ⱼ)/(κ + 1), so the coefficient of variation of weight j is
  √((1 − w₀ⱼ)/(w₀ⱼ(κ + 1))) (Kotz, Balakrishnan & Johnson 2000, ch. 49). A zero weight stays 0.

Per pixel
---------
With T the normalised indicators (Eq. 18–19) and W̄ the mean of the weight draws, the index of
draw d is I_d = Σⱼ W_dj·Tⱼ = P̄ + Σⱼ (W_dj − W̄ⱼ)·Tⱼ, P̄ = Σⱼ W̄ⱼ·Tⱼ the mean over the draws
(exact, the index being linear in the weights). P̄ is computed by ``composite_index`` itself, so
weights of zero spread reproduce it bit for bit; the deviations come from one matrix product
per chunk. The draws of each pixel are sorted: the 5 % and 95 % percentiles follow numpy's
linear rule (Hyndman & Fan 1996, definition 7) exactly, the number of draws in each class by a
binary search per class break (a class includes its lower break, as ``classify``). The modal
class (ties: the lower class) and the share of draws giving it (class stability) complete it.

Study area
----------
The mean index over the valid pixels for draw d is A_d = Σⱼ W_dj·T̄ⱼ with T̄ⱼ the mean of Tⱼ
over those pixels: the column sums of T, accumulated block by block, give every draw's area
mean exactly. An indicator's influence is Spearman's rank correlation between its weight and
A_d over the draws (Saltelli et al. 2008, §1.2.3, rank-based sensitivity measures).

References: Saaty, T.L. (1980) The Analytic Hierarchy Process, McGraw-Hill. Hauser, D. &
Tadikamalla, P. (1996) The Analytic Hierarchy Process in an uncertain environment: a simulation
approach. Eur. J. Oper. Res. 91, 27–37. Paulson, D. & Zahir, S. (1995) Consequences of
uncertainty in the analytic hierarchy process: a simulation approach. Eur. J. Oper. Res. 87,
45–56. Hyndman, R.J. & Fan, Y. (1996) Sample quantiles in statistical packages. Am. Stat. 50,
361–365. Saltelli, A. et al. (2008) Global Sensitivity Analysis: The Primer, Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .evaluation_index import composite_index, normalise
from .evaluation_weights import check_pairwise, random_index

#: Saaty's (1980) scale and its reciprocals, in increasing order (position 8 is 1).
SAATY_SCALE = np.array([1.0 / v for v in range(9, 1, -1)] + [float(v) for v in range(1, 10)])
_SCALE_LOG = np.log(SAATY_SCALE)
#: Default probability that a judgement moves one step (the three values equally likely).
DEFAULT_STEP_PROBABILITY = 2.0 / 3.0
#: Default Dirichlet concentration κ (CV of a weight of 0.1: √(0.9/(0.1·101)) ≈ 0.30).
DEFAULT_CONCENTRATION = 100.0
#: Perturbed matrices generated per requested draw before redrawing gives up.
MAX_TRIES_PER_DRAW = 50
#: Most matrices generated in one batch (n = 17: 10 000 × 17 × 17 × 8 B ≈ 23 MB).
BATCH = 10_000
#: Bytes per pixel and draw alive while a chunk is summarised (its float32 index draws).
BYTES_PER_DRAW = 4
#: Draws computed in float64 at a time before their rounding to float32 (``summarise_draws``):
#: 2^16 values, 512 KiB, besides the float32 draws that ``BYTES_PER_DRAW`` budgets.
FLOAT64_ROWS = 2**16


# --------------------------------------------------------------------------------------------
# AHP judgements perturbed along Saaty's scale
# --------------------------------------------------------------------------------------------


def saaty_positions(values) -> tuple[np.ndarray, np.ndarray]:
    """Position (0…16) in ``SAATY_SCALE`` of the scale value nearest to each judgement in log
    ratio, and that distance |ln(a/scale value)| (0 on the scale; 2.5 goes to 3, ln(3/2.5) <
    ln(2.5/2)). An exact tie (the geometric mean of two neighbours) goes to the larger one.
    Judgements beyond 9 or 1/9 go to the end of the scale."""
    logs = np.log(np.asarray(values, dtype=np.float64))
    distance = np.abs(logs[..., None] - _SCALE_LOG)
    positions = np.argmin(distance[..., ::-1], axis=-1)
    positions = len(SAATY_SCALE) - 1 - positions  # ties → the larger value
    return positions, np.take_along_axis(distance, positions[..., None], axis=-1)[..., 0]


def off_scale_judgements(matrix: np.ndarray, tolerance: float = 0.05) -> list[tuple]:
    """(row, column, value, nearest scale value) of upper-triangle judgements further than
    ``tolerance`` (relative) from Saaty's scale, 1-based."""
    rows, cols = np.triu_indices(matrix.shape[0], 1)
    values = matrix[rows, cols]
    positions, distance = saaty_positions(values)
    far = distance > math.log1p(tolerance)
    return [
        (int(i) + 1, int(j) + 1, float(v), float(SAATY_SCALE[p]))
        for i, j, v, p in zip(rows[far], cols[far], values[far], positions[far], strict=True)
    ]


def perturb_judgements(
    matrix: np.ndarray,
    draws: int,
    rng: np.random.Generator,
    step_probability: float = DEFAULT_STEP_PROBABILITY,
) -> tuple[np.ndarray, np.ndarray]:
    """``draws`` pairwise matrices, each upper-triangle judgement moved at most one step along
    Saaty's scale (down and up with probability p/2 each, staying with 1 − p; at the ends of
    the scale the missing step stays), reciprocals kept. Returns (draws × n × n matrices, the
    draws × m boolean array of which of the m upper-triangle judgements moved).

    One uniform number per judgement and draw, row by row: the same generator state gives the
    same matrices."""
    if not 0.0 <= step_probability <= 1.0:
        raise ValueError(f"the step probability must lie in [0, 1], got {step_probability:g}")
    a = np.asarray(matrix, dtype=np.float64)
    n = a.shape[0]
    rows, cols = np.triu_indices(n, 1)
    positions, _ = saaty_positions(a[rows, cols])
    u = rng.random((draws, rows.size))
    step = np.where(u < step_probability / 2, -1, np.where(u < step_probability, 1, 0))
    target = positions + step
    step[(target < 0) | (target >= len(SAATY_SCALE))] = 0
    moved = step != 0
    upper = np.where(moved, SAATY_SCALE[np.clip(target, 0, len(SAATY_SCALE) - 1)], a[rows, cols])
    lower = np.where(moved, 1.0 / upper, a[cols, rows])
    matrices = np.broadcast_to(a, (draws, n, n)).copy()
    matrices[:, rows, cols] = upper
    matrices[:, cols, rows] = lower
    return matrices, moved


def ahp_batch(
    matrices: np.ndarray,
    *,
    method: str = "geometric_mean",
    ri: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (B × n) and consistency ratios (B) of a stack of B pairwise matrices, as
    ``evaluation_weights.ahp_weights`` computes them one by one: geometric-mean weights
    (Eq. 15) or the principal eigenvector; λmax the principal eigenvalue (Saaty 1980);
    CI = (λmax − n)/(n − 1), CR = CI/RI (0 when RI = 0)."""
    a = np.asarray(matrices, dtype=np.float64)
    n = a.shape[-1]
    if method == "geometric_mean":
        geometric = np.exp(np.log(a).mean(axis=2))
        weights = geometric / geometric.sum(axis=1, keepdims=True)
        lambda_max = np.linalg.eigvals(a).real.max(axis=1)
    elif method == "eigenvector":
        values, vectors = np.linalg.eig(a)
        principal = np.argmax(values.real, axis=1)
        lambda_max = values.real[np.arange(len(a)), principal]
        vector = np.abs(vectors[np.arange(len(a)), :, principal].real)
        weights = vector / vector.sum(axis=1, keepdims=True)
    else:
        raise ValueError(f"unknown AHP weighting method '{method}'")
    ci = (lambda_max - n) / (n - 1) if n > 1 else np.zeros(len(a))
    cr = ci / ri if ri > 0 else np.zeros(len(a))
    return weights, cr


INCONSISTENT_RULES = ("redraw", "keep")


@dataclass(frozen=True)
class AhpDraws:
    """Weight vectors drawn from perturbed judgements, and how they were obtained."""

    weights: np.ndarray  # draws × n
    cr: np.ndarray  # draws
    #: Matrices generated in all (more than the draws when inconsistent ones were redrawn).
    generated: int
    #: Of those, how many had CR above the threshold.
    inconsistent: int
    #: Share of the judgements that moved, over the draws kept.
    moved_share: float


def draw_ahp_weights(
    matrix: np.ndarray,
    draws: int,
    seed: int,
    *,
    step_probability: float = DEFAULT_STEP_PROBABILITY,
    method: str = "geometric_mean",
    ri_table: str = "saaty_1980",
    custom_ri: Sequence[float] = (),
    cr_threshold: float = 0.1,
    rule: str = "redraw",
) -> AhpDraws:
    """``draws`` AHP weight vectors from perturbed judgements (see :func:`perturb_judgements`).

    ``rule="redraw"``: a matrix with CR > ``cr_threshold`` is discarded and replaced by a new
    draw, batch after batch, until ``draws`` are consistent; after ``MAX_TRIES_PER_DRAW`` ×
    ``draws`` matrices a ValueError says how many were. ``rule="keep"``: every matrix counts.
    Reproducible: numpy's PCG64 generator seeded with ``seed``, batches of a size that depends
    on ``draws`` only."""
    a = np.asarray(matrix, dtype=np.float64)
    check_pairwise(a)
    if rule not in INCONSISTENT_RULES:
        raise ValueError(f"unknown rule for inconsistent draws '{rule}'")
    if draws < 1:
        raise ValueError("at least one draw is needed")
    n = a.shape[0]
    ri = random_index(n, ri_table, custom_ri)
    rng = np.random.default_rng(seed)
    batch = min(draws, BATCH)
    kept_w, kept_cr, kept_moved = [], [], []
    have = generated = inconsistent = 0
    while have < draws:
        if generated >= MAX_TRIES_PER_DRAW * draws:
            raise ValueError(
                f"only {have} of {generated} perturbed matrices have CR ≤ {cr_threshold:g}; "
                f"{draws} were needed. Lower the step probability, keep inconsistent draws, "
                "or revise the matrix"
            )
        matrices, moved = perturb_judgements(a, batch, rng, step_probability)
        weights, cr = ahp_batch(matrices, method=method, ri=ri)
        generated += batch
        bad = cr > cr_threshold
        inconsistent += int(bad.sum())
        keep = np.ones(batch, dtype=bool) if rule == "keep" else ~bad
        index = np.flatnonzero(keep)[: draws - have]
        kept_w.append(weights[index])
        kept_cr.append(cr[index])
        kept_moved.append(moved[index])
        have += index.size
    moved_all = np.concatenate(kept_moved)
    return AhpDraws(
        np.concatenate(kept_w),
        np.concatenate(kept_cr),
        generated,
        inconsistent,
        float(moved_all.mean()) if moved_all.size else 0.0,
    )


# --------------------------------------------------------------------------------------------
# Dirichlet around given weights
# --------------------------------------------------------------------------------------------


def draw_dirichlet_weights(
    centre: Sequence[float], concentration: float, draws: int, seed: int
) -> np.ndarray:
    """``draws`` × k weights from Dirichlet(κ·w₀) (κ = ``concentration`` > 0), by normalised
    gamma variates Gⱼ ~ Γ(κ·w₀ⱼ, 1), W = G/ΣG; E[W] = w₀, Var[Wⱼ] = w₀ⱼ(1 − w₀ⱼ)/(κ + 1).
    Zero weights stay 0. numpy's PCG64 generator seeded with ``seed``."""
    w0 = np.asarray(centre, dtype=np.float64)
    if not (np.isfinite(concentration) and concentration > 0):
        raise ValueError(f"the concentration must be a positive number, got {concentration:g}")
    if np.any(w0 < 0) or not w0.sum() > 0:
        raise ValueError("the centre weights must be non-negative and not all zero")
    w0 = w0 / w0.sum()
    rng = np.random.default_rng(seed)
    positive = w0 > 0
    gamma = np.zeros((draws, w0.size))
    gamma[:, positive] = rng.gamma(concentration * w0[positive], size=(draws, positive.sum()))
    return gamma / gamma.sum(axis=1, keepdims=True)


def mean_weights(draws: np.ndarray, centre: Sequence[float]) -> np.ndarray:
    """The mean of the weight draws, as centre + mean(draws − centre): exactly the centre when
    every draw equals it (zero spread), so the mean index then equals the deterministic one."""
    centre = np.asarray(centre, dtype=np.float64)
    return centre + (np.asarray(draws, dtype=np.float64) - centre).mean(axis=0)


# --------------------------------------------------------------------------------------------
# Per-pixel statistics of the draws
# --------------------------------------------------------------------------------------------


def percentile_of_sorted(rows: np.ndarray, percentile: float) -> np.ndarray:
    """The ``percentile`` of each row of ``rows`` (sorted along axis 1) by numpy's default
    'linear' rule (Hyndman & Fan's definition 7): h = (D − 1)·q, x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] −
    x[⌊h⌋]), evaluated as numpy does (from the upper neighbour when the fraction is ≥ 0.5), in
    float64 whatever the rows' type: the result (float64) equals
    ``np.percentile(rows.astype(np.float64), percentile, axis=1)``. (numpy itself interpolates
    float32 input in float64 before 2.0 and in float32 since, so its float32 results differ by
    one float32 rounding between versions; ours do not.)"""
    count = rows.shape[1]
    virtual = (count - 1) * (np.float64(percentile) / 100.0)
    below = int(math.floor(virtual))
    above = min(below + 1, count - 1)
    gamma = virtual - below
    a = rows[:, below].astype(np.float64)
    b = rows[:, above].astype(np.float64)
    difference = b - a
    if gamma >= 0.5:
        return b - difference * (1.0 - gamma)
    return a + difference * gamma


def count_below(rows: np.ndarray, threshold) -> np.ndarray:
    """Per row of ``rows`` (sorted along axis 1), the number of values < ``threshold``: a
    binary search on all rows at once, ⌈log₂(D + 1)⌉ gathers of one value per row."""
    m, count = rows.shape
    low = np.zeros(m, dtype=np.int64)
    high = np.full(m, count, dtype=np.int64)
    index = np.arange(m)
    for _ in range(max(1, math.ceil(math.log2(count + 1)))):
        middle = (low + high) >> 1
        active = low < high
        below = rows[index, np.minimum(middle, count - 1)] < threshold
        right = active & below
        low = np.where(right, middle + 1, low)
        high = np.where(active & ~below, middle, high)
    return low


@dataclass
class PixelDraws:
    """Per-pixel summaries of the draws of one chunk of valid pixels."""

    low: np.ndarray  # float64
    high: np.ndarray  # float64
    modal: np.ndarray  # uint8, class codes 1…len(breaks)+1
    stability: np.ndarray  # float32, share of draws in the modal class


def summarise_draws(
    normalised: np.ndarray,
    mean_index: np.ndarray,
    deviations: np.ndarray,
    breaks: Sequence[float],
    *,
    low_percentile: float = 5.0,
    high_percentile: float = 95.0,
) -> PixelDraws:
    """The draws of m pixels summarised: ``normalised`` is m × k (float32, the Tⱼ),
    ``mean_index`` the m mean indices P̄, ``deviations`` the k × D matrix (W_d − W̄)ᵀ. The
    m × D index draws I = P̄ + T·(W − W̄)ᵀ are formed, sorted per pixel and reduced; they are
    the only array that grows with D (``BYTES_PER_DRAW`` bytes per pixel and draw).

    Each draw is computed in float64, P̄ + T₁·(W_d1 − W̄₁) + … + T_k·(W_dk − W̄k) in that order
    (a few rows at a time, ``FLOAT64_ROWS``), and rounded once to float32: the same bits on
    every numpy and BLAS. (A float32 matrix product put the 5 % and 95 % percentiles one
    float32 step apart at some pixels between the BLAS builds of Debian 12, numpy 1.24, and
    Debian 13, numpy 2.2.)"""
    normalised = np.asarray(normalised, dtype=np.float64)
    deviations = np.asarray(deviations, dtype=np.float64)
    centre = np.asarray(mean_index, dtype=np.float64)
    count = deviations.shape[1]
    draws = np.empty((normalised.shape[0], count), dtype=np.float32)
    rows = max(1, FLOAT64_ROWS // max(count, 1))
    part = np.empty((min(rows, draws.shape[0]), count))
    term = np.empty_like(part)
    for start in range(0, draws.shape[0], rows):
        stop = min(start + rows, draws.shape[0])
        total, product = part[: stop - start], term[: stop - start]
        total[...] = centre[start:stop, None]
        for j in range(deviations.shape[0]):
            np.multiply(normalised[start:stop, j, None], deviations[j], out=product)
            total += product
        draws[start:stop] = total  # rounded once to float32
    draws.sort(axis=1)
    edges = np.asarray(breaks, dtype=draws.dtype)  # compared at the draws' precision
    below = np.empty((edges.size + 2, draws.shape[0]), dtype=np.int64)
    below[0] = 0
    for position, edge in enumerate(edges, start=1):
        below[position] = count_below(draws, edge)
    below[-1] = count
    per_class = np.diff(below, axis=0)  # classes × m
    modal = np.argmax(per_class, axis=0)  # first maximum: ties go to the lower class
    share = per_class[modal, np.arange(per_class.shape[1])] / np.float32(count)
    return PixelDraws(
        percentile_of_sorted(draws, low_percentile),
        percentile_of_sorted(draws, high_percentile),
        (modal + 1).astype(np.uint8),
        share.astype(np.float32),
    )


def chunk_pixels(draws: int, budget_bytes: float, threads: int = 1) -> int:
    """Pixels per chunk so that ``threads`` chunks of draws (``BYTES_PER_DRAW`` bytes per pixel
    and draw) fit in ``budget_bytes``: the memory for the draws is the budget, whatever D."""
    per_chunk = budget_bytes / max(threads, 1)
    return max(16, int(per_chunk // (BYTES_PER_DRAW * max(draws, 1))))


class SensitivityKernel:
    """The block kernel of ``weight_sensitivity``: one block of k indicators (NaN = NoData) →
    mean index, 5 % and 95 % percentiles, modal class (uint8, 0 = NoData) and class
    stability. It accumulates the column sums of the normalised indicators over the valid
    pixels for the study-area means of the draws. Chunks of ``chunk`` pixels run on
    ``threads`` threads (numpy releases the GIL while multiplying and sorting).

    Use as a context manager (it owns the thread pool); blocks may come in any order and any
    size: the per-pixel results do not depend on how the raster was cut.
    """

    def __init__(
        self,
        weights: np.ndarray,
        centre: Sequence[float],
        minima: Sequence[float],
        maxima: Sequence[float],
        trends: Sequence[int],
        breaks: Sequence[float],
        *,
        clip: bool = True,
        chunk: int = 4096,
        threads: int = 1,
        low_percentile: float = 5.0,
        high_percentile: float = 95.0,
    ):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.mean = mean_weights(self.weights, centre)
        self.deviations = np.ascontiguousarray((self.weights - self.mean).T)
        self.minima, self.maxima, self.trends = list(minima), list(maxima), list(trends)
        self.breaks = tuple(breaks)
        self.clip = clip
        self.chunk = max(1, int(chunk))
        self.threads = max(1, int(threads))
        self.percentiles = (low_percentile, high_percentile)
        k = self.weights.shape[1]
        self.column_sums = np.zeros(k)
        self.count = 0
        self._pool = None

    def __enter__(self) -> SensitivityKernel:
        if self.threads > 1:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="mineeco-sens")
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def normalised(self, bands: Sequence[np.ndarray], valid: np.ndarray) -> np.ndarray:
        """The m × k float32 matrix of Tⱼ (Eq. 18–19) at the valid pixels."""
        table = np.empty((int(valid.sum()), len(bands)), dtype=np.float32)
        for j, values in enumerate(bands):
            table[:, j] = normalise(
                values[valid], self.minima[j], self.maxima[j], self.trends[j], clip=self.clip
            )
        return table

    def __call__(self, *blocks: np.ndarray) -> tuple[np.ndarray, ...]:
        bands = [block[0] for block in blocks]
        shape = bands[0].shape
        mean_index = composite_index(
            bands, self.mean, self.minima, self.maxima, self.trends, clip=self.clip
        )
        valid = np.isfinite(mean_index)
        low = np.full(shape, np.nan, dtype=np.float32)
        high = np.full(shape, np.nan, dtype=np.float32)
        modal = np.zeros(shape, dtype=np.uint8)
        stability = np.full(shape, np.nan, dtype=np.float32)
        if valid.any():
            table = self.normalised(bands, valid)
            self.column_sums += table.sum(axis=0, dtype=np.float64)
            self.count += table.shape[0]
            centre = mean_index[valid]
            m = table.shape[0]
            out = [np.empty(m, np.float32), np.empty(m, np.float32), np.empty(m, np.uint8)]
            out.append(np.empty(m, np.float32))

            def work(start: int) -> None:
                stop = start + self.chunk
                result = summarise_draws(
                    table[start:stop],
                    centre[start:stop],
                    self.deviations,
                    self.breaks,
                    low_percentile=self.percentiles[0],
                    high_percentile=self.percentiles[1],
                )
                out[0][start:stop] = result.low
                out[1][start:stop] = result.high
                out[2][start:stop] = result.modal
                out[3][start:stop] = result.stability

            starts = range(0, m, self.chunk)
            if self._pool is None or len(starts) == 1:
                for start in starts:
                    work(start)
            else:
                list(self._pool.map(work, starts))
            low[valid], high[valid], modal[valid], stability[valid] = out
        return mean_index, low, high, modal, stability

    def area_means(self) -> np.ndarray:
        """The study-area mean index of every draw: A_d = Σⱼ W_dj·T̄ⱼ over the valid pixels
        seen so far (NaN when none was valid)."""
        if self.count == 0:
            return np.full(self.weights.shape[0], np.nan)
        return self.weights @ (self.column_sums / self.count)


# --------------------------------------------------------------------------------------------
# Influence of each weight on the study-area mean
# --------------------------------------------------------------------------------------------


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation: Pearson's r of the average ranks (ties share their mean
    rank); NaN when either series is constant."""
    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)
    rx -= rx.mean()
    ry -= ry.mean()
    scale = math.sqrt(float(np.dot(rx, rx)) * float(np.dot(ry, ry)))
    return float(np.dot(rx, ry) / scale) if scale > 0 else float("nan")


def weight_influence(weights: np.ndarray, area_means: np.ndarray) -> np.ndarray:
    """Spearman's ρ between each indicator's weight and the study-area mean index over the
    draws (k values): ρ > 0 where a larger weight raises the area's index (the indicator's
    normalised mean is above the weighted mean of the others), ρ < 0 where it lowers it."""
    weights = np.asarray(weights, dtype=np.float64)
    return np.array([spearman(weights[:, j], area_means) for j in range(weights.shape[1])])

"""Ordinary and universal kriging: variogram models, the binned empirical semivariogram,
weighted least-squares fits, prediction with variance in a nearest-n neighbourhood, and
leave-one-out cross-validation. Pure numpy/scipy.

Conventions (as gstat; Pebesma 2004):

* γ(0) = 0; for h > 0 a bounded model is γ(h) = c0 + c·f(h/a) with nugget c0, partial sill c
  and range parameter a; the sill is c0 + c. The linear model is γ(h) = c0 + s·h (no sill).
* f: spherical 1.5·r − 0.5·r³ (r ≤ 1), 1 beyond; exponential 1 − e^(−r); gaussian 1 − e^(−r²).
* The *practical* (effective) range, where a bounded model reaches 95 % of its partial sill:
  a for the spherical model (it reaches the sill exactly there), ≈ 3a for the exponential
  (1 − e⁻³ = 0.950) and ≈ √3·a for the gaussian (1 − e⁻³ again). gstat's "range" is a.
* Ordinary kriging at x0 with neighbours x_i: [Γ 1; 1ᵀ 0]·[λ; μ] = [γ0; 1]; prediction
  ẑ = Σλ_i z_i; variance σ² = Σλ_i γ0_i + μ. The data points are reproduced exactly (γ(0) = 0),
  with zero variance there.
* Universal kriging with a linear drift (``drift="linear"``; Webster & Burgess 1980): the mean
  is a + b·x + c·y with unknown coefficients, F = [1 x y] the drift at the neighbours and
  f0 = [1 x0 y0] at x0: [Γ F; Fᵀ 0]·[λ; μ] = [γ0; f0]; ẑ = Σλ_i z_i; σ² = Σλ_i γ0_i + μᵀf0.
  The weights reproduce any plane exactly (Fᵀλ = f0), and the drift is re-estimated within each
  neighbourhood (gstat's local universal kriging). x and y enter F centred on the neighbours'
  mean and divided by their largest deviation from it (so within [−1, 1]): the same estimates
  as raw coordinates (F spans the same functions), without columns of 10⁵–10⁶ next to
  semivariances of order 1. Its variogram is the variogram of the residuals (``drift_residuals``:
  ordinary least squares on x and y, as gstat's ``variogram(z ~ x + y)``).

References: Cressie, N. (1985) Fitting variogram models by weighted least squares. Math. Geol.
17(5), 563–586. Pebesma, E.J. (2004) Multivariable geostatistics in S: the gstat package.
Comput. Geosci. 30, 683–691. Webster, R. & Oliver, M.A. (2007) Geostatistics for Environmental
Scientists, 2nd ed., Wiley. Dubrule, O. (1983) Cross validation of kriging in a unique
neighborhood. Math. Geol. 15(6), 687–699. Webster, R. & Burgess, T.M. (1980) Optimal
interpolation and isarithmic mapping of soil properties III: changing drift and universal
kriging. J. Soil Sci. 31, 505–524.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

__all__ = [
    "DRIFTS",
    "MODELS",
    "PRACTICAL_RANGE_FACTOR",
    "WEIGHTS",
    "CrossValidation",
    "EmpiricalVariogram",
    "Variogram",
    "average_duplicates",
    "cross_validate",
    "drift_residuals",
    "merge_close_points",
    "with_nugget_floor",
    "unique_system_mb",
    "empirical_variogram",
    "fit_variogram",
    "predict",
]

MODELS = ("spherical", "exponential", "gaussian", "linear")
#: The mean of the field: an unknown constant (ordinary kriging) or an unknown plane a + b·x +
#: c·y (universal kriging with a linear drift), and the number of drift terms of each.
DRIFTS = ("constant", "linear")
DRIFT_TERMS = {"constant": 1, "linear": 3}
#: Smallest ratio of the two principal variances of a neighbourhood's coordinates for a linear
#: drift: below it the points lie (nearly) on one line and b, c are not determined by them.
COLLINEAR_RATIO = 1e-10
#: practical range / range parameter a.
PRACTICAL_RANGE_FACTOR = {"spherical": 1.0, "exponential": 3.0, "gaussian": math.sqrt(3.0)}
#: WLS weights of the fit, as gstat's fit.method: 7 N_h/h² (gstat's default), 2 Cressie (1985)
#: N_h/γ(h)², 1 N_h, 6 ordinary least squares.
WEIGHTS = ("npairs_over_h2", "cressie", "npairs", "ols")
#: Nearest points per estimate by default: memory O(k²) per shared system and O(k³) time per
#: system, whatever the number of points. Data sets of at most this many points are kriged
#: with every point (a unique neighbourhood), exactly as gstat's default.
DEFAULT_NEIGHBOURS = 64
#: Smallest nugget of the gaussian model, as a fraction of its sill. Without a nugget its
#: kriging matrix is nearly singular for smooth data: 60 points on 1 km² with a 456 m range
#: give a condition number of 10¹³ and estimates from −476 to 128 for data between 8.3 and
#: 15.5; 10⁻⁶ of the sill still gives −13 to 15, 10⁻⁴ gives 8.0 to 14.5 (condition 4·10⁵).
#: Adding a small nugget to a gaussian model is the usual remedy (Wackernagel 2003; Webster &
#: Oliver 2007); 10⁻⁴ of the sill is far below the measurement error of field samples.
GAUSSIAN_NUGGET_FLOOR = 1e-4
#: float64 (n+1)² arrays alive at the peak of a unique-neighbourhood solve (the distance
#: components, distances, model terms, the system and its inverse; measured with tracemalloc).
UNIQUE_SYSTEM_ARRAYS = 7


def _shape(model: str, r):
    """f(r) of a bounded model, r = h/a ≥ 0."""
    if model == "spherical":
        return np.where(r < 1, 1.5 * r - 0.5 * r**3, 1.0)
    if model == "exponential":
        return -np.expm1(-r)
    if model == "gaussian":
        return -np.expm1(-(r * r))
    raise ValueError(f"unknown variogram model {model!r}")


@dataclass(frozen=True)
class Variogram:
    """A variogram model (see the module docstring for the conventions)."""

    model: str
    nugget: float
    partial_sill: float = 0.0
    range: float = 0.0  # the range parameter a (bounded models)
    slope: float = 0.0  # linear model

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"unknown variogram model {self.model!r}; one of {MODELS}")
        if self.nugget < 0 or self.partial_sill < 0 or self.slope < 0:
            raise ValueError("nugget, partial sill and slope must not be negative")
        if self.model != "linear" and not self.range > 0:
            raise ValueError("the range must be positive")
        if self.nugget + self.partial_sill + self.slope <= 0:
            raise ValueError("the variogram is zero everywhere (no sill, no nugget, no slope)")

    @property
    def sill(self) -> float:
        """Total sill c0 + c (nan for the linear model)."""
        return math.nan if self.model == "linear" else self.nugget + self.partial_sill

    @property
    def practical_range(self) -> float:
        return (
            math.nan if self.model == "linear" else PRACTICAL_RANGE_FACTOR[self.model] * self.range
        )

    def __call__(self, h):
        h = np.asarray(h, dtype=np.float64)
        if self.model == "linear":
            gamma = self.nugget + self.slope * h
        else:
            gamma = self.nugget + self.partial_sill * _shape(self.model, h / self.range)
        return np.where(h > 0, gamma, 0.0)

    def describe(self) -> str:
        if self.model == "linear":
            return f"linear: nugget {self.nugget:.6g}, slope {self.slope:.6g}"
        return (
            f"{self.model}: nugget {self.nugget:.6g}, partial sill {self.partial_sill:.6g} "
            f"(sill {self.sill:.6g}), range parameter a {self.range:.6g} (practical range "
            f"{self.practical_range:.6g})"
        )


# --- data preparation ---------------------------------------------------------------------


def average_duplicates(xy, z, decimals: int = 6):
    """Average the values of points at the same location (coordinates rounded to ``decimals``).
    Returns (xy, z, number of points merged away)."""
    xy = np.asarray(xy, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    keys = np.round(xy, decimals)
    unique, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if len(unique) == len(xy):
        return xy, z, 0
    sums = np.bincount(inverse, weights=z, minlength=len(unique))
    first = np.full(len(unique), len(xy))
    np.minimum.at(first, inverse, np.arange(len(xy)))
    return xy[first], sums / counts, len(xy) - len(unique)


def merge_close_points(xy, z, distance: float):
    """Merge points closer than ``distance`` to another (single linkage: a chain of such
    points is one group) into one point at the group's centroid with the group's mean value.

    Points closer than the data can resolve make the kriging system nearly singular: with a
    smooth model (gaussian) and no nugget their weights grow large and of opposite signs, and
    the estimate between them runs far outside the data (two points 0.05 m apart with values
    differing by 2 gave estimates from −56 to 66 for data between 8 and 15). Returns (xy, z,
    number of points merged away, number of groups of more than one point); ``distance`` ≤ 0
    changes nothing.
    """
    xy = np.asarray(xy, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    if not distance > 0 or len(z) < 2:
        return xy, z, 0, 0
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    pairs = cKDTree(xy).query_pairs(float(distance), output_type="ndarray")
    if len(pairs) == 0:
        return xy, z, 0, 0
    n = len(z)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    sizes = np.bincount(label, minlength=count)
    # Groups in the order of their first point, so that unmerged points keep their order.
    first = np.full(count, n)
    np.minimum.at(first, label, np.arange(n))
    order = np.argsort(first, kind="stable")
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count)
    label = rank[label]
    sizes = sizes[order]
    centre = np.column_stack(
        [np.bincount(label, weights=xy[:, axis], minlength=count) / sizes for axis in (0, 1)]
    )
    mean = np.bincount(label, weights=z, minlength=count) / sizes
    return centre, mean, n - count, int(np.sum(sizes > 1))


def with_nugget_floor(variogram: Variogram) -> tuple[Variogram, bool]:
    """The gaussian model with at least ``GAUSSIAN_NUGGET_FLOOR`` × sill of nugget (the partial
    sill kept), and whether it was raised; other models unchanged."""
    if variogram.model != "gaussian":
        return variogram, False
    floor = GAUSSIAN_NUGGET_FLOOR * (variogram.nugget + variogram.partial_sill)
    if variogram.nugget >= floor:
        return variogram, False
    return Variogram("gaussian", floor, variogram.partial_sill, variogram.range), True


def unique_system_mb(n: int, drift: str = "constant") -> float:
    """Peak memory (MB) of kriging with every one of ``n`` points as neighbours: the
    (n + drift terms)² system, its inverse and the temporaries that build them."""
    return UNIQUE_SYSTEM_ARRAYS * 8.0 * (n + _terms(drift)) ** 2 / 2**20


def _terms(drift: str) -> int:
    try:
        return DRIFT_TERMS[drift]
    except KeyError:
        raise ValueError(f"unknown drift {drift!r}; one of {DRIFTS}") from None


def drift_residuals(xy, z, drift: str = "linear"):
    """Residuals of ``z`` from its drift fitted by ordinary least squares, and the drift's
    coefficients: for ``linear``, z ≈ a + b·x + c·y → (residuals, (a, b, c)); for ``constant``
    z − mean → (residuals, (mean,)). These are the residuals gstat's ``variogram(z ~ x + y)``
    bins (its variogram of a formula with coordinates is that of the OLS residuals); the fit
    uses centred and scaled coordinates and returns the coefficients in the original units."""
    xy = np.asarray(xy, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    if _terms(drift) == 1:
        mean = float(np.mean(z))
        return z - mean, (mean,)
    centre, scale = _frame(xy)
    u = (xy - centre) / scale
    design = np.column_stack([np.ones(len(z)), u])
    _check_spread(u[None], "the points")
    coef, *_ = np.linalg.lstsq(design, z, rcond=None)
    b, c = coef[1] / scale, coef[2] / scale
    a = coef[0] - b * centre[0] - c * centre[1]
    return z - design @ coef, (float(a), float(b), float(c))


# --- empirical variogram ------------------------------------------------------------------


@dataclass(frozen=True)
class EmpiricalVariogram:
    """Binned semivariances: mean pair distance, γ̂ and number of pairs per non-empty bin."""

    distance: np.ndarray
    gamma: np.ndarray
    pairs: np.ndarray
    cutoff: float
    width: float


def default_cutoff(xy) -> float:
    """One third of the diagonal of the points' bounding box (gstat's default)."""
    xy = np.asarray(xy)
    return float(np.hypot(*(xy.max(axis=0) - xy.min(axis=0)))) / 3.0


def empirical_variogram(
    xy, z, cutoff=None, lags=15, chunk=None, memory_mb: float = 64.0
) -> EmpiricalVariogram:
    """γ̂(h_k) = Σ (z_i − z_j)² / (2·N_k) over the N_k pairs whose distance falls in bin k
    (width = cutoff / lags; bins [k·w, (k+1)·w), pairs beyond the cutoff ignored), with h_k the
    mean distance of those pairs (gstat's ``variogram``: cutoff = diagonal/3, 15 bins). Pairs
    are visited in row chunks: memory O(chunk·n), the chunk (rows) sized to ``memory_mb`` unless
    given."""
    xy = np.asarray(xy, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    cutoff = default_cutoff(xy) if cutoff is None else float(cutoff)
    width = cutoff / lags
    count = np.zeros(lags + 1)
    dist_sum = np.zeros(lags + 1)
    sq_sum = np.zeros(lags + 1)
    n = len(z)
    if chunk is None:
        # About eight chunk × n arrays of 8 bytes are alive at once.
        chunk = max(int(memory_mb * 2**20 / (64.0 * max(n, 1))), 16)
    for start in range(0, n - 1, chunk):
        stop = min(start + chunk, n - 1)
        rows = np.arange(start, stop)
        # Pairs (i, j) with j > i, for the rows of this chunk.
        d = np.hypot(xy[rows, 0, None] - xy[None, :, 0], xy[rows, 1, None] - xy[None, :, 1])
        upper = np.arange(n)[None, :] > rows[:, None]
        keep = upper & (d <= cutoff)
        dk = d[keep]
        sq = ((z[rows, None] - z[None, :]) ** 2)[keep]
        index = np.minimum((dk / width).astype(np.int64), lags - 1)
        count += np.bincount(index, minlength=lags + 1)
        dist_sum += np.bincount(index, weights=dk, minlength=lags + 1)
        sq_sum += np.bincount(index, weights=sq, minlength=lags + 1)
    count, dist_sum, sq_sum = count[:lags], dist_sum[:lags], sq_sum[:lags]
    filled = count > 0
    return EmpiricalVariogram(
        distance=dist_sum[filled] / count[filled],
        gamma=sq_sum[filled] / (2 * count[filled]),
        pairs=count[filled].astype(np.int64),
        cutoff=cutoff,
        width=width,
    )


# --- fitting ------------------------------------------------------------------------------


def _weights(method: str, empirical: EmpiricalVariogram, model_gamma=None):
    n, h = empirical.pairs.astype(np.float64), empirical.distance
    if method == "npairs_over_h2":
        return n / np.maximum(h, 1e-300) ** 2
    if method == "npairs":
        return n
    if method == "ols":
        return np.ones_like(h)
    if method == "cressie":
        return n / np.maximum(model_gamma, 1e-300) ** 2
    raise ValueError(f"unknown fit weights {method!r}; one of {WEIGHTS}")


def _linear_fit(basis, gamma, weights, fixed_nugget, fixed_scale, fixed_sill):
    """Non-negative WLS of γ̂ ≈ c0 + c·basis with optional fixed c0, c or c0 + c.
    Returns (c0, c, weighted SSE)."""
    w = weights

    def sse(c0, c):
        r = gamma - c0 - c * basis
        return float(np.sum(w * r * r))

    candidates = []
    if fixed_sill is not None:
        # c = S − c0: γ̂ − S·basis ≈ c0·(1 − basis), 0 ≤ c0 ≤ S
        one = 1 - basis
        if fixed_nugget is not None:
            candidates.append((fixed_nugget, fixed_sill - fixed_nugget))
        else:
            den = np.sum(w * one * one)
            c0 = np.sum(w * one * (gamma - fixed_sill * basis)) / den if den > 0 else 0.0
            c0 = min(max(c0, 0.0), fixed_sill)
            candidates.append((c0, fixed_sill - c0))
    elif fixed_nugget is not None and fixed_scale is not None:
        candidates.append((fixed_nugget, fixed_scale))
    elif fixed_nugget is not None:
        den = np.sum(w * basis * basis)
        c = np.sum(w * basis * (gamma - fixed_nugget)) / den if den > 0 else 0.0
        candidates.append((fixed_nugget, max(c, 0.0)))
    elif fixed_scale is not None:
        c0 = np.sum(w * (gamma - fixed_scale * basis)) / np.sum(w)
        candidates.append((max(c0, 0.0), fixed_scale))
    else:
        a = np.array([[np.sum(w), np.sum(w * basis)], [np.sum(w * basis), np.sum(w * basis**2)]])
        b = np.array([np.sum(w * gamma), np.sum(w * basis * gamma)])
        try:
            c0, c = np.linalg.solve(a, b)
            if c0 >= 0 and c >= 0:
                candidates.append((c0, c))
        except np.linalg.LinAlgError:
            pass
        # Active sets on the boundary: c0 = 0, or c = 0.
        den = np.sum(w * basis * basis)
        if den > 0:
            candidates.append((0.0, max(np.sum(w * basis * gamma) / den, 0.0)))
        candidates.append((max(np.sum(w * gamma) / np.sum(w), 0.0), 0.0))
    best = min(candidates, key=lambda pair: sse(*pair))
    return float(best[0]), float(best[1]), sse(*best)


def fit_variogram(
    empirical: EmpiricalVariogram,
    model: str,
    *,
    weights: str = "npairs_over_h2",
    nugget: float | None = None,
    sill: float | None = None,
    range_parameter: float | None = None,
    slope: float | None = None,
) -> Variogram:
    """Weighted least-squares fit of ``model`` to the binned semivariances.

    Minimises Σ_k w_k·(γ̂_k − γ(h_k))² with w_k = N_k/h_k² (``npairs_over_h2``, gstat's default
    fit.method 7), N_k (``npairs``) or 1 (``ols``); for ``cressie``, Cressie's (1985) criterion
    Σ_k N_k·(γ̂_k/γ(h_k) − 1)², i.e. weights N_k/γ(h_k)² of the model being fitted. Given
    ``nugget``, ``sill`` (total), ``range_parameter`` (a) or ``slope`` are held fixed.

    For a bounded model the sills are linear given a: for each trial a they are solved by
    non-negative WLS, and a is found by a log-spaced search over (0, 3·cutoff] refined with
    Brent's method. The Cressie criterion is then minimised by ``scipy.optimize.least_squares``
    from that start.
    """
    if len(empirical.gamma) < 2:
        raise ValueError("fewer than two lag bins with pairs: too few points to fit a variogram")
    gamma, h = empirical.gamma, empirical.distance
    base = "npairs_over_h2" if weights == "cressie" else weights
    w = _weights(base, empirical)
    if model == "linear":
        c0, s, _ = _linear_fit(h, gamma, w, nugget, slope, None)
        fitted = Variogram("linear", c0, slope=s)
    else:
        if range_parameter is not None:
            c0, c, _ = _linear_fit(_shape(model, h / range_parameter), gamma, w, nugget, None, sill)
            fitted = Variogram(model, c0, c, range_parameter)
        else:

            def objective(log_a):
                basis = _shape(model, h / math.exp(log_a))
                return _linear_fit(basis, gamma, w, nugget, None, sill)[2]

            low, high = math.log(max(h.min(), 1e-12) / 10), math.log(3 * empirical.cutoff)
            grid = np.linspace(low, high, 121)
            values = [objective(x) for x in grid]
            best = int(np.argmin(values))
            lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
            from scipy import optimize

            result = optimize.minimize_scalar(objective, bounds=(lo, hi), method="bounded",
                                              options={"xatol": 1e-10})  # fmt: skip
            log_a = result.x if result.fun <= values[best] else grid[best]
            a = math.exp(log_a)
            c0, c, _ = _linear_fit(_shape(model, h / a), gamma, w, nugget, None, sill)
            fitted = Variogram(model, c0, c, a)
    if weights == "cressie":
        fitted = _fit_cressie(empirical, fitted, nugget, sill, range_parameter, slope)
    return fitted


def _cressie_cost(empirical: EmpiricalVariogram, variogram: Variogram) -> float:
    gamma = np.maximum(variogram(empirical.distance), 1e-300)
    return float(np.sum(empirical.pairs * (empirical.gamma / gamma - 1) ** 2))


def _fit_cressie(empirical, start: Variogram, nugget, sill, range_parameter, slope) -> Variogram:
    """Minimise Σ N_k·(γ̂_k/γ(h_k) − 1)² over the free parameters (log-transformed, so they
    stay positive), starting from ``start``; keeps ``start`` if nothing better is found."""
    if start.model == "linear":
        names, fixed = ["nugget", "slope"], {"nugget": nugget, "slope": slope}
    else:
        names = ["nugget", "partial_sill", "range"]
        fixed = {"nugget": nugget, "range": range_parameter}
    free = [
        name
        for name in names
        if fixed.get(name) is None and not (name == "partial_sill" and sill is not None)
    ]
    if not free:
        return start
    floor = 1e-9 * max(float(np.max(empirical.gamma)), 1e-300)
    n = np.sqrt(empirical.pairs.astype(np.float64))

    def build(values) -> dict:
        params = {name: getattr(start, name) for name in names}
        params.update({name: float(np.exp(v)) for name, v in zip(free, values, strict=True)})
        if sill is not None and start.model != "linear":
            params["partial_sill"] = sill - params["nugget"]
        return params

    def residuals(values):
        params = build(values)
        if params.get("partial_sill", 0.0) < 0:
            return np.full(len(n), 1e6)
        gamma = np.maximum(Variogram(start.model, **params)(empirical.distance), 1e-300)
        return n * (empirical.gamma / gamma - 1)

    x0 = np.log(np.maximum([getattr(start, name) for name in free], floor))
    from scipy import optimize

    try:
        result = optimize.least_squares(residuals, x0, method="trf")
        candidate = Variogram(start.model, **build(result.x))
    except ValueError:
        return start
    if _cressie_cost(empirical, candidate) <= _cressie_cost(empirical, start):
        return candidate
    return start


def weighted_sse(empirical: EmpiricalVariogram, variogram: Variogram, weights: str) -> float:
    """The fit criterion of ``weights`` at ``variogram``."""
    gamma = variogram(empirical.distance)
    w = _weights(weights, empirical, gamma)
    return float(np.sum(w * (empirical.gamma - gamma) ** 2))


# --- kriging ------------------------------------------------------------------------------


def _frame(points: np.ndarray):
    """Centre (..., 2) and scale (...) of point sets (..., k, 2) for the drift's coordinates:
    the mean point and the largest absolute deviation from it (1 where it is 0)."""
    centre = points.mean(axis=-2)
    scale = np.abs(points - centre[..., None, :]).max(axis=(-2, -1))
    return centre, np.where(scale > 0, scale, 1.0)


def _check_spread(u: np.ndarray, what: str) -> None:
    """Refuse point sets (g, k, 2) of scaled coordinates that lie on one line: their linear
    drift is not determined (the kriging system is singular)."""
    d = u - u.mean(axis=-2, keepdims=True)
    sxx = np.einsum("gk,gk->g", d[..., 0], d[..., 0])
    syy = np.einsum("gk,gk->g", d[..., 1], d[..., 1])
    sxy = np.einsum("gk,gk->g", d[..., 0], d[..., 1])
    # Eigenvalues of the 2 × 2 scatter matrix: (tr ± √((sxx − syy)² + 4sxy²)) / 2.
    root = np.hypot(sxx - syy, 2 * sxy)
    large = (sxx + syy + root) / 2
    small = (sxx + syy - root) / 2
    if np.any(small <= COLLINEAR_RATIO * large):
        raise ValueError(
            f"{what} lie on one line (or nearly): a linear drift in x and y cannot be "
            "estimated from them"
        )


def _system(points: np.ndarray, variogram: Variogram, drift: str = "constant") -> np.ndarray:
    """Kriging matrices for point sets (..., k, 2) → (..., k+p, k+p): [Γ 1; 1ᵀ 0] (ordinary,
    p = 1) or [Γ F; Fᵀ 0] with F = [1 u v] the scaled coordinates (``_frame``) of a linear
    drift (p = 3)."""
    diff = points[..., :, None, :] - points[..., None, :, :]
    gamma = variogram(np.hypot(diff[..., 0], diff[..., 1]))
    k, p = points.shape[-2], _terms(drift)
    a = np.ones(points.shape[:-2] + (k + p, k + p))
    a[..., :k, :k] = gamma
    a[..., k:, k:] = 0.0
    if p > 1:
        centre, scale = _frame(points)
        u = (points - centre[..., None, :]) / scale[..., None, None]
        a[..., :k, k + 1 :] = u
        a[..., k + 1 :, :k] = np.swapaxes(u, -1, -2)
    return a


def _single_threaded_blas():
    """Limit BLAS to one thread while many small systems are solved: multithreaded OpenBLAS
    makes a batch of 33 × 33 inversions 8–25× slower on a busy 2-core machine (threadpoolctl,
    a scikit-learn dependency, when installed; otherwise no change)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _inverse(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


def _group_rows(rows: np.ndarray):
    """(unique rows, inverse index) of an int array (m, k), via a hash with a check."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    rng = np.random.default_rng(12345)
    mix = rng.integers(1, 2**62, size=rows.shape[1], dtype=np.int64) | 1
    with np.errstate(over="ignore"):
        keys = (rows * mix).sum(axis=1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    unique = rows[first]
    if not np.array_equal(unique[inverse], rows):  # a hash collision: exact grouping instead
        unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


def _block_budget_points(k: int, memory_mb: float, p: int = 1) -> int:
    """Target points per chunk so that (k+p)² float64 temporaries stay within the budget."""
    per_point = 8.0 * ((k + p) ** 2 + 6 * (k + p))
    return max(int(memory_mb * 2**20 / per_point / 3), 256)


def predict(
    xy,
    z,
    variogram: Variogram,
    targets,
    *,
    neighbours: int | None = None,
    tree: cKDTree | None = None,
    variance: bool = True,
    memory_mb: float = 64.0,
    check: Callable[[], None] | None = None,
    drift: str = "constant",
):
    """Ordinary (``drift="constant"``) or universal (``drift="linear"``) kriging prediction
    (and variance) at ``targets`` (m, 2).

    ``neighbours`` None (or ≥ n) uses every point (a unique neighbourhood: the system is solved
    once); otherwise the nearest ``neighbours`` points of each target (scipy cKDTree), the
    linear drift then being re-estimated in each neighbourhood. Targets sharing the same
    neighbour set share one system: it is inverted once (batched ``np.linalg.inv``), and each
    target costs O(k) for the prediction (dual form ẑ = bᵀ·A⁻¹·[z; 0]) and O(k²) for the
    variance σ² = bᵀ·A⁻¹·b, b = [γ0; f0]. The same result as solving each target's system, in
    bounded memory (``memory_mb`` for the temporaries). ``check`` is called between chunks
    (cancellation). A linear drift needs at least 4 neighbours not all on one line
    (ValueError otherwise).
    """
    p = _terms(drift)
    n = len(np.asarray(z))
    k = n if neighbours is None or neighbours >= n else int(neighbours)
    if p > 1 and k <= p:
        raise ValueError(
            f"universal kriging with a linear drift needs at least {p + 1} points per estimate "
            f"({k} given): {p} drift coefficients are estimated from them"
        )
    with _single_threaded_blas():
        return _predict(xy, z, variogram, targets, neighbours, tree, variance, memory_mb, check,
                        drift)  # fmt: skip


def _predict(xy, z, variogram, targets, neighbours, tree, variance, memory_mb, check, drift):
    xy = np.asarray(xy, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64).reshape(-1, 2)
    n, m, p = len(z), len(targets), _terms(drift)
    estimate = np.empty(m)
    var = np.empty(m) if variance else None
    if m == 0:
        return estimate, var
    k = n if neighbours is None or neighbours >= n else int(neighbours)
    if k == n:
        if p > 1:
            centre, scale = _frame(xy)
            _check_spread(((xy - centre) / scale)[None], "the points")
        inverse = _inverse(_system(xy, variogram, drift))
        dual = inverse @ np.concatenate([z, np.zeros(p)])
        step = max(_block_budget_points(k, memory_mb, p) // 4, 64)
        for start in range(0, m, step):
            if check:
                check()
            part = targets[start : start + step]
            b = np.ones((len(part), n + p))
            b[:, :n] = variogram(np.hypot(part[:, None, 0] - xy[None, :, 0],
                                          part[:, None, 1] - xy[None, :, 1]))  # fmt: skip
            if p > 1:
                b[:, n + 1 :] = (part - centre) / scale
            estimate[start : start + step] = b @ dual
            if variance:
                var[start : start + step] = np.einsum("pi,pi->p", b @ inverse, b)
        return estimate, var
    from scipy.spatial import cKDTree

    tree = tree or cKDTree(xy)
    step = _block_budget_points(k, memory_mb, p) * 8
    for start in range(0, m, step):
        if check:
            check()
        part = targets[start : start + step]
        _, index = tree.query(part, k)
        _krige_sets(xy, z, variogram, part, np.sort(index, axis=1), estimate, var, start,
                    memory_mb, check, drift)  # fmt: skip
    return estimate, var


def _krige_sets(xy, z, variogram, targets, sets, estimate, var, offset, memory_mb, check,
                drift="constant"):  # fmt: skip
    """Krige ``targets`` whose sorted neighbour indices are the rows of ``sets``."""
    unique, group = _group_rows(sets)
    k, p = unique.shape[1], _terms(drift)
    order = np.argsort(group, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=len(unique)))])
    batch = max(_block_budget_points(k, memory_mb, p), 16)
    for first in range(0, len(unique), batch):
        if check:
            check()
        chosen = unique[first : first + batch]
        points = xy[chosen]
        if p > 1:
            centre, scale = _frame(points)
            _check_spread(
                (points - centre[:, None, :]) / scale[:, None, None],
                f"the {k} nearest points of some estimates",
            )
        inverse = _inverse(_system(points, variogram, drift))
        dual = np.einsum("gij,gj->gi", inverse, np.concatenate(
            [z[chosen], np.zeros((len(chosen), p))], axis=1))  # fmt: skip
        # The targets of these systems, `batch` at a time (all groups at once: no Python loop
        # over the systems, which are mostly shared by a few targets only).
        span = order[bounds[first] : bounds[first + len(chosen)]]
        for start in range(0, len(span), batch):
            members = span[start : start + batch]
            local = group[members] - first
            pts = points[local]
            here = targets[members]
            b = np.ones((len(members), k + p))
            b[:, :k] = variogram(np.hypot(here[:, None, 0] - pts[..., 0],
                                          here[:, None, 1] - pts[..., 1]))  # fmt: skip
            if p > 1:
                b[:, k + 1 :] = (here - centre[local]) / scale[local, None]
            estimate[offset + members] = np.einsum("pi,pi->p", b, dual[local])
            if var is not None:
                weights = np.einsum("pi,pij->pj", b, inverse[local])
                var[offset + members] = np.einsum("pi,pi->p", weights, b)


# --- cross-validation ---------------------------------------------------------------------


@dataclass(frozen=True)
class CrossValidation:
    """Leave-one-out results per point and their summary."""

    observed: np.ndarray
    predicted: np.ndarray
    variance: np.ndarray

    @property
    def residual(self) -> np.ndarray:
        return self.observed - self.predicted

    @property
    def mean_error(self) -> float:
        return float(np.mean(self.residual))

    @property
    def rmse(self) -> float:
        return float(np.sqrt(np.mean(self.residual**2)))

    @property
    def correlation(self) -> float:
        if np.std(self.predicted) == 0 or np.std(self.observed) == 0:
            return math.nan
        return float(np.corrcoef(self.observed, self.predicted)[0, 1])

    @property
    def msdr(self) -> float:
        """Mean squared deviation ratio: mean of residual²/σ² (≈ 1 for a good model)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.residual**2 / self.variance
        return float(np.mean(ratio[np.isfinite(ratio)])) if np.isfinite(ratio).any() else math.nan


def cross_validate(
    xy,
    z,
    variogram: Variogram,
    *,
    neighbours: int | None = None,
    memory_mb: float = 64.0,
    check=None,
    drift: str = "constant",
) -> CrossValidation:
    """Leave-one-out cross-validation: each point predicted from the others with the same
    neighbourhood rule and drift as ``predict`` (its nearest ``neighbours`` other points, or
    all).

    With all points, Dubrule's (1983) closed form from one inverse A⁻¹ of the full system
    (ordinary or universal): z_i − ẑ_(−i) = (A⁻¹·[z; 0])_i / (A⁻¹)_ii and
    σ²_(−i) = −1/(A⁻¹)_ii.
    """
    p = _terms(drift)
    n = len(np.asarray(z))
    k = n - 1 if neighbours is None or neighbours >= n - 1 else int(neighbours)
    if p > 1 and k <= p:
        raise ValueError(
            f"universal kriging with a linear drift needs at least {p + 1} other points for "
            f"each leave-one-out prediction ({k} given)"
        )
    with _single_threaded_blas():
        return _cross_validate(xy, z, variogram, neighbours, memory_mb, check, drift)


def _cross_validate(xy, z, variogram, neighbours, memory_mb, check, drift) -> CrossValidation:
    xy = np.asarray(xy, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    n, p = len(z), _terms(drift)
    if neighbours is None or neighbours >= n - 1:
        if p > 1:
            centre, scale = _frame(xy)
            _check_spread(((xy - centre) / scale)[None], "the points")
        inverse = _inverse(_system(xy, variogram, drift))
        diagonal = np.diag(inverse)[:n]
        residual = (inverse @ np.concatenate([z, np.zeros(p)]))[:n] / diagonal
        return CrossValidation(z, z - residual, -1.0 / diagonal)
    k = int(neighbours)
    from scipy.spatial import cKDTree

    _, index = cKDTree(xy).query(xy, k + 1)
    # Drop each point itself (distance 0: duplicates were averaged beforehand).
    own = index == np.arange(n)[:, None]
    keep = ~own
    keep[~own.any(axis=1), -1] = False  # self not among the k + 1 (ties): drop the farthest
    others = index[keep].reshape(n, k)
    estimate, var = np.empty(n), np.empty(n)
    _krige_sets(xy, z, variogram, xy, np.sort(others, axis=1), estimate, var, 0, memory_mb, check,
                drift)  # fmt: skip
    return CrossValidation(z, estimate, var)

"""Indicator weights of a comprehensive index: AHP (subjective), mean-square-error, entropy and
CRITIC (objective) and their combination — the resilience study's Eq. 15–17.

Pure numpy. Statistics of the indicator rasters arrive as streaming accumulators
(``JointMoments``, ``EntropySums``) that are built block by block and merged, so no raster is
ever held whole; the weight formulas then work on the merged totals.

Conventions
-----------
* A *trend* is +1 for a positive indicator (higher is better for the target, Eq. 18) and −1 for
  a negative one (Eq. 19).
* Objective weights are statistics of the *normalised* indicators over the pixels valid in every
  indicator (the pixels the composite index is computed for).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..provider_info import resource

# --------------------------------------------------------------------------------------------
# Parsing user text (comma-separated lists typed in the Toolbox, the Modeler or qgis_process)
# --------------------------------------------------------------------------------------------

_SPLIT = re.compile(r"[,;\s]+")

POSITIVE_WORDS = {"+", "+1", "1", "positive", "pos", "p", "benefit", "higher-is-better"}
NEGATIVE_WORDS = {"-", "−", "-1", "−1", "negative", "neg", "n", "cost", "lower-is-better"}


def parse_numbers(text, what: str = "value") -> list[float]:
    """Finite numbers from a comma-, semicolon- or space-separated text (or a sequence)."""
    if text is None:
        return []
    items = (
        [str(t) for t in text]
        if isinstance(text, list | tuple)
        else [t for t in _SPLIT.split(str(text).strip()) if t]
    )
    numbers = []
    for position, item in enumerate(items, start=1):
        try:
            value = float(item.strip())
        except ValueError:
            raise ValueError(f"{what} {position} ('{item}') is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{what} {position} ('{item}') is not a finite number")
        numbers.append(value)
    return numbers


def parse_trends(text, count: int | None = None) -> list[int]:
    """+1/−1 per indicator from '+,-,+' or 'positive,negative,…' (also benefit/cost, 1/−1)."""
    items = [t for t in re.split(r"[,;\s]+", str(text or "").strip()) if t]
    trends = []
    for position, item in enumerate(items, start=1):
        word = item.strip().lower()
        if word in POSITIVE_WORDS:
            trends.append(1)
        elif word in NEGATIVE_WORDS:
            trends.append(-1)
        else:
            raise ValueError(
                f"trend {position} ('{item}') is neither positive ('+', 'positive') nor "
                "negative ('-', 'negative')"
            )
    if count is not None and len(trends) != count:
        raise ValueError(f"{len(trends)} trend(s) given for {count} indicator(s)")
    return trends


def trend_symbol(trend: int) -> str:
    return "+" if trend > 0 else "-"


def normalised_weights(weights: Sequence[float]) -> tuple[np.ndarray, float]:
    """Weights rescaled to sum to 1, and the sum they had. ValueError for negative, non-finite
    or all-zero weights."""
    values = np.asarray(weights, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no weights given")
    if not np.all(np.isfinite(values)):
        raise ValueError("weights must be finite numbers")
    if np.any(values < 0):
        first = int(np.flatnonzero(values < 0)[0])
        raise ValueError(f"weight {first + 1} is negative ({values[first]:g})")
    total = float(values.sum())
    if total <= 0:
        raise ValueError("the weights sum to zero")
    return values / total, total


# --------------------------------------------------------------------------------------------
# AHP (Eq. 15)
# --------------------------------------------------------------------------------------------

#: AHP weighting methods (``ahp_weights(method=…)``), in the order the dialogs list them.
AHP_METHODS = ("geometric_mean", "eigenvector")
#: λmax rules (``ahp_weights(lambda_rule=…)``).
LAMBDA_RULES = ("eigenvalue", "weighted_ratio")
#: Random-index tables (``random_index(table=…)``); "custom" takes the values given.
RI_TABLES = ("saaty_1980", "saaty_extended", "alonso_lamata_2006", "custom")

#: Random consistency indices RI by matrix order n (index n − 1).
RANDOM_INDEX_TABLES = {
    # Saaty (1980), The Analytic Hierarchy Process, Table 1.7 (n = 1…10), as METHODS.md.
    "saaty_1980": (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49),
    # The same table continued to n = 15 as quoted from Saaty's later books (e.g. Saaty 1994,
    # Fundamentals of Decision Making): 1.51, 1.48, 1.56, 1.57, 1.59. Other continuations
    # circulate (1.52, 1.54, 1.56, 1.58, 1.59): choose "custom" to use one of them.
    "saaty_extended": (
        0.0,
        0.0,
        0.58,
        0.90,
        1.12,
        1.24,
        1.32,
        1.41,
        1.45,
        1.49,
        1.51,
        1.48,
        1.56,
        1.57,
        1.59,
    ),
}
RANDOM_INDEX_LABELS = {
    "saaty_1980": "Saaty (1980), n ≤ 10",
    "saaty_extended": "Saaty, continued to n = 15",
    "alonso_lamata_2006": "Alonso & Lamata (2006) fit, any n",
    "custom": "Custom (RI_VALUES)",
}


def random_index(n: int, table: str = "saaty_1980", custom: Sequence[float] = ()) -> float:
    """Saaty's random consistency index RI for a matrix of order ``n``.

    ``alonso_lamata_2006``: RI = (1.7699·n − 4.3513)/(n − 1), from the linear fit of the mean
    λmax of random reciprocal matrices, λ̄max = 2.7699·n − 4.3513 (Alonso & Lamata 2006), for
    any n ≥ 3. ``custom``: ``custom[n − 1]``. ValueError when the table does not cover n.
    """
    if n <= 2:
        return 0.0
    if table == "alonso_lamata_2006":
        return (1.7699 * n - 4.3513) / (n - 1)
    values = tuple(custom) if table == "custom" else RANDOM_INDEX_TABLES.get(table)
    if values is None:
        raise ValueError(f"unknown random-index table '{table}'")
    if n > len(values):
        raise ValueError(
            f"the random-index table '{RANDOM_INDEX_LABELS.get(table, table)}' stops at "
            f"n = {len(values)}; the matrix has n = {n}"
        )
    value = float(values[n - 1])
    if not value > 0:
        raise ValueError(f"the random index for n = {n} must be positive, got {value:g}")
    return value


def table_values(cells: Sequence, columns: int) -> list:
    """The judgements of a Processing matrix parameter with ``columns`` columns, row by row.

    Two forms are accepted. The table form, as the dialog edits it: rows of ``columns``
    cells, each filled from its first column (n cells, the rest blank) with n such rows, so
    an n × n matrix in the top-left corner. The flat form (qgis_process ``MATRIX=1,3,0.333,1``
    and models made before the table): all n² values in one sequence, row by row. Blank cells
    are None, '' or 'NULL'. Returns the n² values (row-major) for ``square_matrix``; a table
    with a gap (a blank before a value, rows of different lengths) raises ValueError.
    """

    def blank(value) -> bool:
        return value is None or str(value).strip() in ("", "NULL")

    cells = list(cells)
    if columns > 1 and cells and len(cells) % columns == 0:
        rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
        rows = [row for row in rows if not all(blank(v) for v in row)]
        lengths = []
        for number, row in enumerate(rows, 1):
            filled = [not blank(v) for v in row]
            length = sum(filled)
            if filled[:length] != [True] * length:
                raise ValueError(
                    f"row {number} has a blank cell before a value (fill each row from the "
                    "first column)"
                )
            lengths.append(length)
        if rows and len(set(lengths)) == 1 and lengths[0] == len(rows):
            return [v for row in rows for v in row[: lengths[0]]]
        if rows and max(lengths) < columns:  # a table, but not a square one
            raise ValueError(
                f"the table has {len(rows)} row(s) of {', '.join(map(str, lengths))} value(s); "
                "an n × n matrix needs n rows of n values"
            )
    return [v for v in cells if not blank(v)]


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_matrix_csv(text: str) -> tuple[list[float], list[str]]:
    """A square pairwise matrix from CSV text: numbers row by row, with an optional header row
    and an optional first column of criterion names. Returns (row-major values, names)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise ValueError("the file is empty")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    rows = [
        [cell.strip() for cell in row]
        for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    ]
    names: list[str] = []
    if not all(is_number(cell) for cell in rows[0] if cell):
        header = rows.pop(0)
        names = [cell for cell in header if cell]
    if rows and not is_number(rows[0][0]):
        names = [row[0] for row in rows]
        rows = [row[1:] for row in rows]
    values = []
    for number, row in enumerate(rows, start=1):
        cells = [cell for cell in row if cell != ""]
        if len(cells) != len(rows):
            raise ValueError(f"row {number} has {len(cells)} value(s); {len(rows)} expected")
        for cell in cells:
            if not is_number(cell):
                raise ValueError(f"row {number}: '{cell}' is not a number")
            values.append(float(cell))
    return values, names[: len(rows)] if len(names) >= len(rows) else []


def square_matrix(values: Sequence) -> np.ndarray:
    """A flat row-major list of n² numbers (a Processing matrix) as an n × n array."""
    numbers = np.asarray(parse_numbers(list(values), "entry"), dtype=np.float64)
    n = math.isqrt(numbers.size)
    if numbers.size == 0 or n * n != numbers.size:
        raise ValueError(
            f"{numbers.size} value(s) do not form a square matrix (n × n values, row by row)"
        )
    return numbers.reshape(n, n)


def check_pairwise(matrix: np.ndarray, tolerance: float = 0.05) -> float:
    """Check that ``matrix`` is a positive reciprocal matrix: a_ij > 0, a_ii = 1 and
    a_ij·a_ji = 1 within the relative ``tolerance`` (0.05 admits entries typed with two
    decimals, such as 0.33 or 0.14 for 1/3 and 1/7). Returns the largest |a_ij·a_ji − 1|;
    raises ValueError naming the first offending entry (1-based row, column)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"the matrix is {matrix.shape}, not square")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("the matrix holds non-finite values")
    bad = np.argwhere(matrix <= 0)
    if bad.size:
        i, j = bad[0]
        raise ValueError(
            f"entry ({i + 1}, {j + 1}) = {matrix[i, j]:g} is not positive; pairwise "
            "judgements are ratios > 0"
        )
    diagonal = np.abs(np.diag(matrix) - 1.0)
    if np.any(diagonal > tolerance):
        i = int(np.argmax(diagonal))
        raise ValueError(f"diagonal entry ({i + 1}, {i + 1}) = {matrix[i, i]:g}; it must be 1")
    deviation = np.abs(matrix * matrix.T - 1.0)
    if np.any(deviation > tolerance):
        i, j = np.argwhere(deviation > tolerance)[0]
        i, j = min(i, j), max(i, j)
        raise ValueError(
            f"not reciprocal: entry ({i + 1}, {j + 1}) = {matrix[i, j]:g} and entry "
            f"({j + 1}, {i + 1}) = {matrix[j, i]:g} (product {matrix[i, j] * matrix[j, i]:.4g}, "
            f"must be 1 within {tolerance:g})"
        )
    return float(deviation.max())


@dataclass(frozen=True)
class AhpResult:
    """Weights and consistency of a pairwise comparison matrix."""

    weights: np.ndarray
    lambda_max: float
    ci: float
    ri: float
    cr: float
    #: (A·w)ᵢ / wᵢ for each criterion (all equal to λmax for a consistent matrix).
    ratios: np.ndarray
    #: Row geometric means w̄ᵢ (Eq. 15 before normalisation).
    geometric_means: np.ndarray


def principal_eigen(matrix: np.ndarray) -> tuple[float, np.ndarray]:
    """The Perron root of a positive matrix and its eigenvector (positive, summing to 1)."""
    values, vectors = np.linalg.eig(np.asarray(matrix, dtype=np.float64))
    k = int(np.argmax(values.real))
    vector = np.abs(vectors[:, k].real)
    return float(values[k].real), vector / vector.sum()


def ahp_weights(
    matrix: np.ndarray,
    *,
    method: str = "geometric_mean",
    lambda_rule: str = "eigenvalue",
    ri_table: str = "saaty_1980",
    custom_ri: Sequence[float] = (),
) -> AhpResult:
    """AHP weights of a positive reciprocal matrix A (n × n) and its consistency.

    * ``method="geometric_mean"`` (the resilience study's Eq. 15): w̄ᵢ = (Πⱼ aᵢⱼ)^(1/n),
      wᵢ = w̄ᵢ / Σ w̄; ``"eigenvector"``: the principal right eigenvector of A (Saaty 1980).
    * λmax: ``lambda_rule="eigenvalue"`` the principal eigenvalue of A (Saaty's definition, on
      which the RI tables rest); ``"weighted_ratio"`` the mean of (A·w)ᵢ/wᵢ with the weights
      of ``method`` (the usual hand computation; identical for the eigenvector method).
    * CI = (λmax − n)/(n − 1), CR = CI/RI (Saaty 1980); CR = 0 for n ≤ 2 (always consistent).

    For n = 3 the geometric-mean weights are the principal eigenvector, so every rule agrees.
    """
    a = np.asarray(matrix, dtype=np.float64)
    n = a.shape[0]
    geometric = np.exp(np.log(a).mean(axis=1))
    eigenvalue, eigenvector = principal_eigen(a)
    if method == "geometric_mean":
        weights = geometric / geometric.sum()
    elif method == "eigenvector":
        weights = eigenvector
    else:
        raise ValueError(f"unknown AHP weighting method '{method}'")
    ratios = (a @ weights) / weights
    if lambda_rule == "eigenvalue":
        lambda_max = eigenvalue
    elif lambda_rule == "weighted_ratio":
        lambda_max = float(ratios.mean())
    else:
        raise ValueError(f"unknown λmax rule '{lambda_rule}'")
    ci = (lambda_max - n) / (n - 1) if n > 1 else 0.0
    ri = random_index(n, ri_table, custom_ri)
    cr = ci / ri if ri > 0 else 0.0
    return AhpResult(weights, lambda_max, ci, ri, cr, ratios, geometric)


@dataclass(frozen=True)
class AhpHierarchy:
    """A two-level AHP: criteria, then the indicators of each criterion.

    ``criteria`` is the AHP of the criteria matrix; ``groups[k]`` that of criterion k's
    indicators. ``global_weights`` are the indicators' weights in the order of the groups
    (criterion weight × local weight), summing to 1.
    """

    criteria: AhpResult
    groups: tuple[AhpResult, ...]
    global_weights: np.ndarray
    #: Index of each indicator's criterion, in the order of ``global_weights``.
    criterion_of: np.ndarray
    #: Consistency of the indicator level as a whole: Σₖ wₖ·CIₖ / Σₖ wₖ·RIₖ (0 when every
    #: group has at most two indicators).
    level_cr: float
    #: Consistency of the whole hierarchy (Saaty 1980, CRH):
    #: (CI_B + Σₖ wₖ·CIₖ) / (RI_B + Σₖ wₖ·RIₖ).
    overall_cr: float


def ahp_hierarchy(criteria: np.ndarray, groups: Sequence[np.ndarray], **options) -> AhpHierarchy:
    """Global weights of a two-level AHP hierarchy and its consistency.

    ``criteria`` is the m × m matrix of the criteria; ``groups`` holds m matrices, one per
    criterion in the same order, comparing that criterion's indicators. Each matrix is
    weighted by ``ahp_weights`` (``options``: method, lambda_rule, ri_table, custom_ri).
    The global weight of indicator j of criterion k is wₖ·vₖⱼ (Saaty 1980, hierarchic
    composition). A criterion with a single indicator takes the 1 × 1 matrix [1].
    """
    top = ahp_weights(criteria, **options)
    if len(groups) != top.weights.size:
        raise ValueError(
            f"{len(groups)} indicator matrices for {top.weights.size} criteria: one per "
            "criterion is needed"
        )
    results = tuple(ahp_weights(group, **options) for group in groups)
    global_weights = np.concatenate(
        [w * result.weights for w, result in zip(top.weights, results, strict=True)]
    )
    criterion_of = np.concatenate(
        [np.full(result.weights.size, k) for k, result in enumerate(results)]
    )
    level_ci = sum(w * r.ci for w, r in zip(top.weights, results, strict=True))
    level_ri = sum(w * r.ri for w, r in zip(top.weights, results, strict=True))
    level_cr = level_ci / level_ri if level_ri > 0 else 0.0
    total_ri = top.ri + level_ri
    overall_cr = (top.ci + level_ci) / total_ri if total_ri > 0 else 0.0
    return AhpHierarchy(
        top, results, global_weights, criterion_of, float(level_cr), float(overall_cr)
    )


# --------------------------------------------------------------------------------------------
# Streaming statistics of several indicators over the pixels valid in all of them
# --------------------------------------------------------------------------------------------


@dataclass
class JointMoments:
    """Count, per-indicator min/max/mean and co-moments of k indicators, streamed.

    ``m2`` is the k × k matrix Σ (x − x̄)(x − x̄)ᵀ when ``cross`` is set (for correlations),
    else the k vector of Σ (x − x̄)². Blocks merge by Chan et al.'s (1979) pairwise update,
    in float64; the result does not depend on how the pixels were split into blocks.
    """

    k: int
    cross: bool = False
    count: int = 0
    minimum: np.ndarray = field(default=None)
    maximum: np.ndarray = field(default=None)
    mean: np.ndarray = field(default=None)
    m2: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.minimum is None:
            self.minimum = np.full(self.k, np.inf)
            self.maximum = np.full(self.k, -np.inf)
            self.mean = np.zeros(self.k)
            self.m2 = np.zeros((self.k, self.k) if self.cross else self.k)

    @classmethod
    def of(cls, values: np.ndarray, cross: bool = False) -> JointMoments:
        """Moments of one block: ``values`` is (k, m), every column valid (no NaN)."""
        values = np.asarray(values, dtype=np.float64)
        k, m = values.shape
        if m == 0:
            return cls(k, cross)
        mean = values.mean(axis=1)
        centred = values - mean[:, None]
        m2 = centred @ centred.T if cross else np.einsum("ij,ij->i", centred, centred)
        return cls(k, cross, m, values.min(axis=1), values.max(axis=1), mean, m2)

    @classmethod
    def of_rows(
        cls, rows: Sequence[np.ndarray], cross: bool = False, chunk: int = 1 << 16
    ) -> JointMoments:
        """Moments of k equally long 1-D arrays (one per indicator, the same pixels, no NaN),
        e.g. float32 views of a block. Without ``cross`` each row is reduced on its own (one
        float64 temporary of one row at a time); with it, columns are stacked ``chunk`` pixels
        at a time for the cross products."""
        k = len(rows)
        m = int(rows[0].size) if k else 0
        if m == 0:
            return cls(k, cross)
        if cross:
            result = cls(k, cross)
            for start in range(0, m, chunk):
                stacked = np.empty((k, min(chunk, m - start)))
                for j, row in enumerate(rows):
                    stacked[j] = row[start : start + chunk]
                result = result.merge(cls.of(stacked, cross=True))
            return result
        minimum, maximum, mean, m2 = (np.empty(k) for _ in range(4))
        for j, row in enumerate(rows):
            minimum[j], maximum[j] = row.min(), row.max()
            mean[j] = row.mean(dtype=np.float64)
            centred = row.astype(np.float64)
            centred -= mean[j]
            m2[j] = np.dot(centred, centred)
        return cls(k, cross, m, minimum, maximum, mean, m2)

    def merge(self, other: JointMoments) -> JointMoments:
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        total = self.count + other.count
        delta = other.mean - self.mean
        factor = self.count * other.count / total
        extra = np.outer(delta, delta) * factor if self.cross else delta * delta * factor
        return JointMoments(
            self.k,
            self.cross,
            total,
            np.minimum(self.minimum, other.minimum),
            np.maximum(self.maximum, other.maximum),
            self.mean + delta * other.count / total,
            self.m2 + other.m2 + extra,
        )

    @property
    def variance(self) -> np.ndarray:
        """Population variances (ddof = 0)."""
        diagonal = np.diag(self.m2) if self.cross else self.m2
        return diagonal / self.count if self.count else np.full(self.k, np.nan)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.variance, 0.0))

    @property
    def correlation(self) -> np.ndarray:
        """Pearson correlation matrix (needs ``cross``); 0 where a variance is 0."""
        if not self.cross:
            raise ValueError("correlations need the cross moments (cross=True)")
        scale = np.sqrt(np.maximum(np.diag(self.m2), 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            r = self.m2 / np.outer(scale, scale)
        r = np.where(np.isfinite(r), r, 0.0)
        np.fill_diagonal(r, 1.0)
        return np.clip(r, -1.0, 1.0)


@dataclass
class EntropySums:
    """S = Σ x and T = Σ x·ln x per indicator over normalised values x ∈ [0, 1] (0·ln 0 = 0)."""

    k: int
    count: int = 0
    total: np.ndarray = field(default=None)
    total_xlogx: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.total is None:
            self.total = np.zeros(self.k)
            self.total_xlogx = np.zeros(self.k)

    @classmethod
    def of(cls, values: np.ndarray) -> EntropySums:
        values = np.asarray(values, dtype=np.float64)
        k, m = values.shape
        with np.errstate(divide="ignore", invalid="ignore"):
            xlogx = np.where(values > 0, values * np.log(values), 0.0)
        return cls(k, m, values.sum(axis=1), xlogx.sum(axis=1))

    @classmethod
    def of_rows(cls, rows: Sequence[np.ndarray]) -> EntropySums:
        """The sums of k equally long 1-D arrays (one per indicator), one row at a time."""
        k = len(rows)
        total, total_xlogx = np.zeros(k), np.zeros(k)
        for j, row in enumerate(rows):
            x = np.asarray(row, dtype=np.float64)
            total[j] = x.sum()
            positive = x[x > 0]
            total_xlogx[j] = np.dot(positive, np.log(positive))
        return cls(k, int(rows[0].size) if k else 0, total, total_xlogx)

    def merge(self, other: EntropySums) -> EntropySums:
        return EntropySums(
            self.k,
            self.count + other.count,
            self.total + other.total,
            self.total_xlogx + other.total_xlogx,
        )


# --------------------------------------------------------------------------------------------
# Objective weights (Eq. 16 and the usual alternatives)
# --------------------------------------------------------------------------------------------

OBJECTIVE_METHODS = ("mse", "entropy", "critic")
OBJECTIVE_LABELS = {
    "mse": "Mean square error (standard deviation, Eq. 16)",
    "entropy": "Entropy",
    "critic": "CRITIC",
}


@dataclass(frozen=True)
class ObjectiveWeights:
    """Weights and the per-indicator quantity they are proportional to."""

    method: str
    weights: np.ndarray
    #: σⱼ (MSE), 1 − eⱼ (entropy) or Cⱼ = σⱼ·Σₖ(1 − rⱼₖ) (CRITIC).
    criterion: np.ndarray
    #: σ of each normalised indicator.
    std: np.ndarray
    #: eⱼ (entropy only).
    entropy: np.ndarray | None = None


def _proportional(values: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    total = values.sum()
    if not np.all(np.isfinite(values)) or not total > 0:
        raise ValueError(f"the {what} of every indicator is zero: no objective weights")
    return values / total


def mse_weights(std: Sequence[float]) -> np.ndarray:
    """Mean-square-error (standard-deviation) weights, Eq. 16: wⱼ = σⱼ / Σσ, with σⱼ the
    standard deviation ("mean square error") of the normalised indicator j over the pixels
    (the resilience study's ref. [43]: indicators that vary more discriminate more)."""
    return _proportional(std, "standard deviation")


def entropy_weights(sums: EntropySums) -> tuple[np.ndarray, np.ndarray]:
    """Entropy weights (Shannon 1948; e.g. Zou et al. 2006) over m pixels:
    pᵢⱼ = xᵢⱼ/Σᵢxᵢⱼ, eⱼ = −(1/ln m)·Σᵢ pᵢⱼ ln pᵢⱼ = (ln Sⱼ − Tⱼ/Sⱼ)/ln m with Sⱼ = Σ x,
    Tⱼ = Σ x ln x; dⱼ = 1 − eⱼ, wⱼ = dⱼ/Σd. Returns (weights, e)."""
    if sums.count < 2:
        raise ValueError("entropy weights need at least two valid pixels")
    if np.any(sums.total <= 0):
        j = int(np.flatnonzero(sums.total <= 0)[0])
        raise ValueError(f"indicator {j + 1} is 0 at every pixel after normalisation")
    entropy = (np.log(sums.total) - sums.total_xlogx / sums.total) / math.log(sums.count)
    return _proportional(1.0 - entropy, "divergence 1 − e"), entropy


def critic_weights(std: Sequence[float], correlation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CRITIC weights (Diakoulaki, Mavrotas & Papayannakis 1995): Cⱼ = σⱼ·Σₖ(1 − rⱼₖ),
    wⱼ = Cⱼ/ΣC, with σ and r of the normalised indicators. Returns (weights, C)."""
    std = np.asarray(std, dtype=np.float64)
    information = std * (1.0 - np.asarray(correlation)).sum(axis=1)
    return _proportional(information, "information content C"), information


def normalised_moments(moments: JointMoments, minima, maxima, trends) -> JointMoments:
    """The moments of (x − min)/(max − min) (sign-flipped for negative trends, as 1 − that),
    derived exactly from the raw moments: an affine map scales σ by 1/range and flips the sign
    of correlations between indicators of opposite trend. Valid only without clipping, i.e.
    when [min, max] covers the data (ranges from the same pixels)."""
    minima = np.asarray(minima, dtype=np.float64)
    span = np.asarray(maxima, dtype=np.float64) - minima
    scale = np.asarray(trends, dtype=np.float64) / span
    offset = np.where(np.asarray(trends) > 0, 0.0, 1.0)
    m2 = moments.m2 * (np.outer(scale, scale) if moments.cross else scale * scale)
    low = np.where(scale > 0, moments.minimum, moments.maximum)
    high = np.where(scale > 0, moments.maximum, moments.minimum)
    return JointMoments(
        moments.k,
        moments.cross,
        moments.count,
        offset + (low - minima) * scale,
        offset + (high - minima) * scale,
        offset + (moments.mean - minima) * scale,
        m2,
    )


def objective_weights(
    method: str, moments: JointMoments, entropy: EntropySums | None = None
) -> ObjectiveWeights:
    """Objective weights from the moments of the *normalised* indicators (and, for the
    entropy method, their entropy sums)."""
    std = moments.std
    if method == "mse":
        weights = mse_weights(std)
        return ObjectiveWeights(method, weights, std, std)
    if method == "entropy":
        if entropy is None:
            raise ValueError("the entropy method needs the entropy sums")
        weights, e = entropy_weights(entropy)
        return ObjectiveWeights(method, weights, 1.0 - e, std, e)
    if method == "critic":
        weights, information = critic_weights(std, moments.correlation)
        return ObjectiveWeights(method, weights, information, std)
    raise ValueError(f"unknown objective method '{method}'")


# --------------------------------------------------------------------------------------------
# Combination (Eq. 17 and alternatives)
# --------------------------------------------------------------------------------------------

COMBINATIONS = ("mean", "alpha", "multiplicative")
COMBINATION_LABELS = {
    "mean": "Mean of subjective and objective (Eq. 17)",
    "alpha": "α·subjective + (1 − α)·objective",
    "multiplicative": "Multiplicative: wa·wb / Σ(wa·wb)",
}


def combine_weights(subjective, objective, rule: str = "mean", alpha: float = 0.5) -> np.ndarray:
    """Combined weights of subjective wa and objective wb (each summing to 1):
    ``mean`` wᵢ = (waᵢ + wbᵢ)/2 (the resilience study's Eq. 17); ``alpha`` wᵢ = α·waᵢ + (1 − α)·wbᵢ
    (Eq. 17 is α = 0.5); ``multiplicative`` wᵢ = waᵢ·wbᵢ / Σⱼ waⱼ·wbⱼ."""
    a = np.asarray(subjective, dtype=np.float64)
    b = np.asarray(objective, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{a.size} subjective and {b.size} objective weights")
    if rule == "mean":
        return (a + b) / 2.0
    if rule == "alpha":
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"α must lie in [0, 1], got {alpha:g}")
        return alpha * a + (1.0 - alpha) * b
    if rule == "multiplicative":
        return _proportional(a * b, "product of the weights")
    raise ValueError(f"unknown combination rule '{rule}'")


#: Where the weights of an index come from: typed (or published), subjective combined with
#: objective, or objective only.
WEIGHT_SOURCES = ("given", "combined", "objective")


def resolve_weights(
    source: str,
    *,
    given=None,
    subjective=None,
    objective=None,
    rule: str = "mean",
    alpha: float = 0.5,
) -> np.ndarray:
    """The weights an index uses, by ``source`` (one of ``WEIGHT_SOURCES``):

    * ``given``: ``given`` as they are (the caller has rescaled them to sum 1);
    * ``objective``: ``objective`` (from ``objective_weights``, summing to 1);
    * ``combined``: ``combine_weights(subjective, objective, rule, alpha)`` rescaled to sum 1
      (Eq. 17 by default).

    ValueError when a weight vector the source needs is missing or the rule fails.
    """
    if source == "given":
        if given is None:
            raise ValueError("no weights given")
        return np.asarray(given, dtype=np.float64)
    if source not in ("combined", "objective"):
        raise ValueError(f"unknown weight source '{source}'")
    if objective is None:
        raise ValueError(f"{source} weights need objective weights")
    if source == "objective":
        return np.asarray(objective, dtype=np.float64)
    if subjective is None:
        raise ValueError("combined weights need subjective weights")
    return normalised_weights(combine_weights(subjective, objective, rule, alpha))[0]


def weighting_text(source: str, method: str | None, rule: str = "mean", alpha: float = 0.5) -> str:
    """How the weights were made, for logs and metadata: 'given', 'objective mse', or the
    combination rule's label with the objective method."""
    if source == "given":
        return "given"
    if source == "objective":
        return f"objective {method}"
    text = COMBINATION_LABELS[rule]
    if rule == "alpha":
        text += f" (α = {alpha:g})"
    return text + f", objective {method}"


# --------------------------------------------------------------------------------------------
# Presets: published weight tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightPreset:
    """A published indicator system: names, trends and weights, one entry per indicator."""

    key: str
    label: str
    codes: tuple[str, ...]
    criteria: tuple[str, ...]
    names: tuple[str, ...]
    trends: tuple[int, ...]
    objective: tuple[float, ...]
    subjective: tuple[float, ...]
    combined: tuple[float, ...]
    source: str
    #: The trends as printed, where a table's own text contradicts one (Table 2's C1: see its
    #: CSV); ``trends`` are the directions used.
    printed_trends: tuple[int, ...] = ()


PRESET_FILES = {
    "lingbei_2000_2020": (
        "Lingbei 2000–2020 (Table 2)",
        "evaluation_table2_lingbei.csv",
        "The resilience study, Table 2: 17 indicators, 5 criteria; weights as printed.",
    ),
}


def load_preset(key: str) -> WeightPreset:
    """A preset from its CSV in resources/tables (the single source of the numbers)."""
    from .tables import parse_csv_table

    label, filename, source = PRESET_FILES[key]
    text = resource("tables", filename).read_text(encoding="utf-8")
    rows = parse_csv_table(
        text,
        ["code", "criterion", "indicator", "trend", "printed_trend"]
        + ["objective", "subjective", "combined"],
        ["objective", "subjective", "combined"],
    )
    return WeightPreset(
        key,
        label,
        tuple(r["code"] for r in rows),
        tuple(r["criterion"] for r in rows),
        tuple(r["indicator"] for r in rows),
        tuple(parse_trends(",".join(r["trend"] for r in rows))),
        tuple(r["objective"] for r in rows),
        tuple(r["subjective"] for r in rows),
        tuple(r["combined"] for r in rows),
        source,
        tuple(parse_trends(",".join(r["printed_trend"] for r in rows))),
    )

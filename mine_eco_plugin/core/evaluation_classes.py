"""Classes of an index and changes between dates: class breaks (the resilience study's Table 3,
Fisher–Jenks natural breaks, quantiles, equal intervals), class codes, area tallies per class
and transition matrices between two class maps.

Pure numpy. The boundary rule everywhere: a class includes its lower bound and excludes its
upper bound, "severe < 0.38 ≤ poor < 0.41 ≤ moderate < 0.63 ≤ good < 0.73 ≤ excellent".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: The resilience study's Table 3 (ecological resilience classes).
TABLE3_BREAKS = (0.38, 0.41, 0.63, 0.73)
RESILIENCE_LABELS = ("severe", "poor", "moderate", "good", "excellent")

CLASS_METHODS = ("fixed", "natural", "quantile", "equal")


# --------------------------------------------------------------------------------------------
# Breaks and codes
# --------------------------------------------------------------------------------------------


def check_breaks(breaks: Sequence[float]) -> tuple[float, ...]:
    """Breaks as a tuple of floats; ValueError unless finite and strictly increasing."""
    values = tuple(float(b) for b in breaks)
    if not values:
        raise ValueError("at least one break is needed (two classes)")
    if not all(math.isfinite(b) for b in values):
        raise ValueError("breaks must be finite numbers")
    for low, high in zip(values, values[1:], strict=False):
        if not high > low:
            raise ValueError(f"breaks must increase strictly: {low:g} is followed by {high:g}")
    if len(values) > 254:
        raise ValueError("at most 255 classes")
    return values


def classify(values: np.ndarray, breaks: Sequence[float]) -> np.ndarray:
    """Class codes 1…len(breaks)+1 (uint8) of ``values``; 0 where NaN (NoData).

    Lower bound inclusive: code = 1 + number of breaks ≤ x, so with the Table 3 breaks
    0.3799 → 1 (severe), 0.38 → 2 (poor), 0.41 → 3, 0.63 → 4, 0.73 → 5 (excellent).
    The breaks are compared at the precision of the values: a float32 pixel holding 0.38
    (stored as 0.37999999523) is "poor", as the decimal it stands for.
    """
    values = np.asarray(values)
    precision = values.dtype if values.dtype.kind == "f" else np.float64
    edges = np.asarray(breaks, dtype=precision)
    codes = np.searchsorted(edges, values, side="right").astype(np.uint8)
    codes += 1
    codes[np.isnan(values)] = 0
    return codes


def equal_interval_breaks(minimum: float, maximum: float, classes: int) -> tuple[float, ...]:
    """min + c·(max − min)/k for c = 1…k−1."""
    if not maximum > minimum:
        raise ValueError(f"the index is constant ({minimum:g}): no intervals")
    step = (maximum - minimum) / classes
    return tuple(minimum + c * step for c in range(1, classes))


def quantile_percentages(classes: int) -> list[float]:
    """The percentiles 100·c/k, c = 1…k−1, whose values are the quantile breaks."""
    return [100.0 * c / classes for c in range(1, classes)]


def _segment_cost(weights_sum, sums, squares, start, end):
    """Within-class sum of squared deviations of sorted values start…end (inclusive), from
    prefix sums (broadcasting over arrays of starts and ends)."""
    w = weights_sum[end + 1] - weights_sum[start]
    s = sums[end + 1] - sums[start]
    q = squares[end + 1] - squares[start]
    with np.errstate(invalid="ignore", divide="ignore"):  # empty segments (start > end)
        return np.maximum(q - s * s / w, 0.0)


def fisher_jenks(
    values: np.ndarray, classes: int, *, chunk_elements: int = 2_000_000
) -> tuple[tuple[float, ...], float]:
    """Natural breaks by Fisher's (1958) exact optimal partition (the "Jenks" natural breaks
    of Jenks 1977): the k contiguous groups of the sorted values that minimise the total
    within-group sum of squared deviations, found by dynamic programming in O(k·u²) for u
    distinct values (ties are kept together and weighted by their count).

    Returns the breaks — the smallest value of each class 2…k, so that the lower-bound-
    inclusive rule of :func:`classify` reproduces the optimal partition exactly — and the
    goodness of variance fit GVF = 1 − SDCM/SDAM.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    unique, counts = np.unique(values, return_counts=True)
    u = unique.size
    if classes < 2:
        raise ValueError("natural breaks need at least two classes")
    if u < classes:
        raise ValueError(f"{u} distinct value(s) cannot form {classes} classes")
    weights = counts.astype(np.float64)
    centred = unique - np.average(unique, weights=weights)
    weights_sum = np.concatenate(([0.0], np.cumsum(weights)))
    sums = np.concatenate(([0.0], np.cumsum(weights * centred)))
    squares = np.concatenate(([0.0], np.cumsum(weights * centred * centred)))
    ends = np.arange(u)
    # cost[j]: least total cost of the values 0…j in c classes; starts[c][j]: first index
    # of the last class in that optimum.
    cost = _segment_cost(weights_sum, sums, squares, np.zeros(u, dtype=np.int64), ends)
    starts = []
    for c in range(2, classes + 1):
        # Only ends that leave room for the classes still to come matter; the last class
        # must end at u − 1.
        first_end = c - 1
        last_end = u - 1 if c == classes else u - 1 - (classes - c)
        new_cost = np.full(u, np.inf)
        new_start = np.zeros(u, dtype=np.int64)
        candidates = np.arange(c - 1, last_end + 1)  # first index of the last class
        previous = cost[candidates - 1]
        step = max(1, chunk_elements // max(candidates.size, 1))
        for low in range(first_end, last_end + 1, step):
            block_ends = np.arange(low, min(low + step, last_end + 1))
            top = block_ends[-1] - (c - 1) + 1  # candidates that can start before these ends
            cand = candidates[:top]
            total = previous[None, :top] + _segment_cost(
                weights_sum, sums, squares, cand[None, :], block_ends[:, None]
            )
            total[cand[None, :] > block_ends[:, None]] = np.inf
            best = np.argmin(total, axis=1)
            new_cost[block_ends] = total[np.arange(block_ends.size), best]
            new_start[block_ends] = cand[best]
        cost = new_cost
        starts.append(new_start)
    breaks = []
    end = u - 1
    for start_of in reversed(starts):
        first = int(start_of[end])
        breaks.append(float(unique[first]))
        end = first - 1
    breaks.reverse()
    total_ss = float(_segment_cost(weights_sum, sums, squares, np.array(0), np.array(u - 1)))
    gvf = 1.0 - float(cost[u - 1]) / total_ss if total_ss > 0 else 1.0
    return tuple(breaks), gvf


def interval_text(lower: float | None, upper: float | None) -> str:
    """'< 0.38', '0.38 – 0.41', '≥ 0.73' for a class [lower, upper)."""
    if lower is None:
        return f"< {upper:g}"
    if upper is None:
        return f"≥ {lower:g}"
    return f"{lower:g} – {upper:g}"


# --------------------------------------------------------------------------------------------
# Reproducible sampling (for natural breaks on large rasters)
# --------------------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def _splitmix64_int(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def pixel_keys(indices: np.ndarray, seed: int) -> np.ndarray:
    """A pseudo-random uint64 key per global pixel index (SplitMix64 of index + a seeded
    offset; Steele, Lea & Flood 2014). A function of (pixel, seed) only, so a sample taken by
    smallest keys does not depend on how the raster was cut into blocks."""
    z = np.asarray(indices, dtype=np.uint64) + np.uint64(_splitmix64_int(int(seed)))
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass
class KeySample:
    """A uniform sample without replacement of at most ``size`` values: the values with the
    smallest keys (bottom-k sampling), kept while the blocks stream past."""

    size: int
    keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    values: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    seen: int = 0

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        self.seen += int(values.size)
        keys = np.concatenate((self.keys, keys))
        values = np.concatenate((self.values, np.asarray(values, dtype=np.float64)))
        if keys.size > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keys, values = keys[keep], values[keep]
        self.keys, self.values = keys, values


# --------------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------------


def _authalic_term(latitude_rad: np.ndarray, eccentricity: float) -> np.ndarray:
    """sinφ/(1 − e² sin²φ) + (1/2e)·ln[(1 + e sinφ)/(1 − e sinφ)] (2·sinφ on a sphere)."""
    s = np.sin(latitude_rad)
    if eccentricity == 0:
        return 2.0 * s
    es = eccentricity * s
    return s / (1.0 - es * es) + np.log((1.0 + es) / (1.0 - es)) / (2.0 * eccentricity)


def geographic_row_areas(
    north_deg: float,
    pixel_height_deg: float,
    pixel_width_deg: float,
    rows: int,
    *,
    semi_major: float = 6378137.0,
    inverse_flattening: float = 298.257223563,
) -> np.ndarray:
    """Area (m²) of one pixel in each of ``rows`` rows of a latitude/longitude grid whose top
    edge is at ``north_deg``, on the ellipsoid: a cell between φ₁ and φ₂ spanning Δλ radians
    has area (b²·Δλ/2)·[f(φ₂) − f(φ₁)], f the authalic term above (exact for the ellipsoid;
    WGS 84 defaults)."""
    flattening = 1.0 / inverse_flattening if inverse_flattening else 0.0
    b = semi_major * (1.0 - flattening)
    e = math.sqrt(max(flattening * (2.0 - flattening), 0.0))
    edges = np.radians(north_deg - pixel_height_deg * np.arange(rows + 1))
    edges = np.clip(edges, -np.pi / 2, np.pi / 2)
    f = _authalic_term(edges, e)
    return np.abs(f[:-1] - f[1:]) * b * b * math.radians(abs(pixel_width_deg)) / 2.0


# --------------------------------------------------------------------------------------------
# Tallies
# --------------------------------------------------------------------------------------------


def _area_weights(shape: tuple[int, int], row_area) -> np.ndarray | float:
    if np.ndim(row_area) == 0:
        return float(row_area)
    return np.broadcast_to(np.asarray(row_area, dtype=np.float64)[:, None], shape).ravel()


@dataclass
class ClassTally:
    """Pixels, area (m²) and the sum of the index per class code 1…``classes``."""

    classes: int
    pixels: np.ndarray = field(default=None)
    area: np.ndarray = field(default=None)
    index_sum: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.pixels is None:
            self.pixels = np.zeros(self.classes + 1, dtype=np.int64)
            self.area = np.zeros(self.classes + 1)
            self.index_sum = np.zeros(self.classes + 1)

    def add(self, codes: np.ndarray, values: np.ndarray, row_area) -> None:
        """Add a block: ``codes`` (rows, cols; 0 = NoData), the index values, and the pixel
        area in m² (a number, or one value per row)."""
        flat = codes.ravel()
        size = self.classes + 1
        counts = np.bincount(flat, minlength=size)[:size]
        self.pixels += counts
        weights = _area_weights(codes.shape, row_area)
        if np.ndim(weights) == 0:
            self.area += counts * weights
        else:
            self.area += np.bincount(flat, weights=weights, minlength=size)[:size]
        finite = np.where(flat > 0, np.asarray(values, dtype=np.float64).ravel(), 0.0)
        self.index_sum += np.bincount(flat, weights=finite, minlength=size)[:size]

    def rows(self):
        """(code, pixels, area m², share %, mean index) for codes 1…classes."""
        total = self.area[1:].sum()
        for code in range(1, self.classes + 1):
            n = int(self.pixels[code])
            yield (
                code,
                n,
                float(self.area[code]),
                100.0 * self.area[code] / total if total else 0.0,
                self.index_sum[code] / n if n else float("nan"),
            )


def integer_codes(values: np.ndarray) -> np.ndarray:
    """Class codes as int64 with −1 for NoData; ValueError for fractional or negative codes."""
    values = np.asarray(values)
    valid = ~np.isnan(values)
    v = values[valid]
    if v.size and (np.any(v != np.round(v)) or np.any(v < 0) or np.any(v >= 2**31)):
        bad = v[(v != np.round(v)) | (v < 0) | (v >= 2**31)][0]
        raise ValueError(
            f"value {bad:g} is not a class code (whole numbers 0 … 2³¹ − 1 expected); "
            "choose the index-difference mode for continuous rasters"
        )
    codes = np.full(values.shape, -1, dtype=np.int64)
    codes[valid] = v.astype(np.int64)
    return codes


@dataclass
class TransitionTally:
    """Pixels and area (m²) per (before, after) pair of class codes; −1 stands for NoData, so
    the rows and columns balance against each date's full class areas."""

    pixels: dict = field(default_factory=dict)
    area: dict = field(default_factory=dict)

    def add(self, before: np.ndarray, after: np.ndarray, row_area) -> None:
        """``before``/``after``: int64 codes with −1 for NoData (see :func:`integer_codes`)."""
        keep = (before >= 0) | (after >= 0)
        keys = ((before + 1) << 32) | (after + 1)
        weights = _area_weights(before.shape, row_area)
        flat = keys.ravel()[keep.ravel()]
        unique, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
        if np.ndim(weights) == 0:
            areas = counts * weights
        else:
            areas = np.bincount(inverse, weights=weights[keep.ravel()], minlength=unique.size)
        for key, n, a in zip(
            unique.tolist(), counts.tolist(), np.asarray(areas).tolist(), strict=True
        ):
            pair = ((key >> 32) - 1, (key & 0xFFFFFFFF) - 1)
            self.pixels[pair] = self.pixels.get(pair, 0) + n
            self.area[pair] = self.area.get(pair, 0.0) + a

    def codes(self, side: int) -> list[int]:
        """The codes present before (side 0) or after (side 1), NoData (−1) first if present."""
        return sorted({pair[side] for pair in self.pixels})


def transition_factor(max_code: int) -> int:
    """10^d with d the digits of the largest code: transition = before·factor + after, read
    as "before digits, then after digits" (10 for codes 0–9, as 'before·10 + after')."""
    return 10 ** max(1, len(str(int(max_code))))


#: The largest transition code a raster can hold: uint32, whose top value 2³² − 1 is NoData.
MAX_TRANSITION_CODE = 2**32 - 2
#: The largest class code whose transitions fit: 42,949 · 100,001 = 4,294,942,949 ≤
#: MAX_TRANSITION_CODE, while 42,950 · 100,001 is above it (five-digit codes, factor 10⁵).
MAX_TRANSITION_CLASS = 42_949


def transition_type(max_code: int) -> tuple[str, int]:
    """(output type, NoData) for the transition codes of classes 0 … ``max_code``: uint16 with
    NoData 65535 while before·F + after stays below it, else uint32 with NoData 2³² − 1.
    ValueError when a code exceeds MAX_TRANSITION_CLASS (its transitions would not fit)."""
    factor = transition_factor(max_code)
    largest = int(max_code) * factor + int(max_code)
    if largest < 65535:
        return "uint16", 65535
    if largest <= MAX_TRANSITION_CODE:
        return "uint32", 2**32 - 1
    raise ValueError(
        f"class code {int(max_code):,} gives transition codes up to {largest:,} "
        f"(code·{factor:,} + code), beyond {MAX_TRANSITION_CODE:,}, the largest a uint32 "
        f"raster holds: class codes up to {MAX_TRANSITION_CLASS:,} are supported; recode the "
        "classes first (e.g. Reclassify by table)"
    )


def transition_codes(before: np.ndarray, after: np.ndarray, factor: int) -> np.ndarray:
    """before·factor + after where both are valid (int64 codes, −1 = NoData); −1 elsewhere."""
    out = before * factor + after
    out[(before < 0) | (after < 0)] = -1
    return out

"""Landscape metrics of a categorical land-cover map, in moving windows and in zones.

Two families, both with NoData (NaN) excluded from every area:

* **Class-weighted area shares** (HAI, BAI, ECO of the resilience study, Eq. 7 and 12):
  V = scale · Σᵢ Aᵢ·wᵢ / TA, the area-weighted mean of a per-class weight. In a window the class
  areas Aᵢ are exact integer window counts from separable running sums, so the cost per pixel
  does not depend on the window (``weighted_share``); per zone it is a weighted ``bincount``.
* **Composition and configuration**: Shannon diversity and evenness (SHDI, SHEI; FRAGSTATS
  definitions, McGarigal & Marks 1995), number of patches NP, patch density PD, fragmentation
  FN (Chen & Fu 1996; the resilience study's Eq. 13) and, per zone, the largest patch index LPI.

Counting patches inside moving windows
--------------------------------------
A patch is a connected set of equal-class pixels (8-neighbour rule by default, 4 as an
option) *of the map clipped to the window*: a patch cut by the window edge counts, and a patch
that leaves the window and comes back counts once per piece inside (FRAGSTATS' moving-window
rule). Labelling every window would cost O(window area) per pixel; instead

    NP(window) = Σᵢ χᵢ(window) + Σᵢ Hᵢ(window)                                 (exact)

where χᵢ is the Euler characteristic of class i's pixels in the window and Hᵢ the number of
its holes (components of the complement, in the dual connectivity, that do not reach the
window's border): χ = C − H for any binary image (Gray 1971). χ is additive over local
configurations of the union of closed pixel squares (8-neighbour rule):

    χ₈ = F − Pᵥ − Pₕ − P_d + T − Q,      χ₄ = F − Pᵥ − Pₕ + Q

F pixels, Pᵥ/Pₕ vertical/horizontal equal-class pairs, P_d diagonal equal-class pairs of a 2×2
block, T equal-class triples and Q all-equal 2×2 blocks, each counted when it lies wholly in
the window: summed over classes these are window sums of four local pattern counts
(summed-area tables, O(1) per pixel). A hole of the window is exactly a connected component of
the whole map's complement of class i whose bounding box lies strictly inside the window (one
pixel in from every edge): each component is labelled once per block (scipy.ndimage.label) and
adds 1 to the rectangle of window centres that enclose it (a 2-D difference array). So the
count is exact for every configuration, also for patches with holes and for patches that touch
only at corners, at a cost linear in the block size and independent of the window size.

Counting patches in zones
-------------------------
Zones are rasterised polygons; patches are connected components of equal (zone, class) keys,
so a patch never crosses a zone boundary. ``ZonePatches`` labels the map strip by strip (graph
connected components, scipy.sparse.csgraph), carrying the components that touch the strip's
last row into the next strip and merging them there, so memory stays bounded by the strip
size while counts and patch areas are exact.

References: McGarigal, K. & Marks, B.J. (1995) FRAGSTATS. USDA For. Serv. Gen. Tech. Rep.
PNW-351. Gray, S.B. (1971) Local properties of binary images in two dimensions. IEEE Trans.
Comput. C-20(5), 551–561. Chen, L. & Fu, B. (1996) Analysis of impact of human activity on
landscape structure in Yellow River Delta. Acta Ecologica Sinica 16(4), 337–344.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .windows import check_window

CONNECTIVITIES = (8, 4)
#: FN forms: "eq13" MPS·(Nf − 1)/Nc (the resilience study's Eq. 13), "landscape" (Np − 1)/Nc.
FN_FORMS = ("eq13", "landscape")
#: Patch density unit: patches per 100 ha (FRAGSTATS), from areas in m².
SQUARE_METRES_PER_100_HA = 1.0e6


class UnknownCodes(ValueError):
    """Land-cover values that cannot be classes (``codes`` holds them, sorted): not finite,
    not whole numbers, or (``table`` True) whole codes that the class table does not list."""

    def __init__(self, codes: Sequence[float], table: bool = True):
        self.codes = sorted(codes)
        kinds = (
            (
                [c for c in self.codes if not math.isfinite(c)],
                "value(s)",
                "are not finite (mask them as NoData)",
            ),
            (
                [c for c in self.codes if math.isfinite(c) and not float(c).is_integer()],
                "value(s)",
                "are not whole-number class codes",
            ),
            (
                [c for c in self.codes if table and math.isfinite(c) and float(c).is_integer()],
                "code(s)",
                "are not in the class table",
            ),
        )
        parts = []
        for values, noun, reason in kinds:
            if values:
                shown = ", ".join(_format_code(c) for c in values[:20])
                more = f" and {len(values) - 20} more" if len(values) > 20 else ""
                parts.append(f"land-cover {noun} {shown}{more} {reason}")
        super().__init__("; ".join(parts))


def _format_code(code: float) -> str:
    return str(int(code)) if float(code).is_integer() else str(float(code))


def check_connectivity(connectivity: int) -> int:
    if connectivity not in CONNECTIVITIES:
        raise ValueError(f"connectivity must be 8 or 4, got {connectivity}")
    return int(connectivity)


def distinct_codes(values: np.ndarray) -> np.ndarray:
    """The distinct valid (non-NaN) values of a block, sorted."""
    values = np.asarray(values)
    return np.unique(values[~np.isnan(values)])


def check_codes(present: Sequence[float], known: Sequence[float] | None = None) -> list[int]:
    """``present`` as sorted whole-number codes; UnknownCodes lists the codes that are not whole
    numbers or (when ``known`` is given) not in ``known``."""
    present = sorted({float(c) for c in present})
    known_set = None if known is None else {float(c) for c in known}
    bad = [
        c for c in present if not c.is_integer() or (known_set is not None and c not in known_set)
    ]
    if bad:
        raise UnknownCodes(bad, table=known is not None)
    return [int(c) for c in present]


def class_index(values: np.ndarray, codes: Sequence[int]) -> np.ndarray:
    """Position of each pixel's code in the sorted ``codes`` (int32), −1 for NaN (NoData).

    >>> class_index(np.array([[3.0, np.nan, 7.0]]), [3, 7]).tolist()
    [[0, -1, 1]]
    """
    codes = np.asarray(sorted(codes), dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    valid = ~np.isnan(values)
    if codes.size == 0:
        if valid.any():
            raise UnknownCodes(np.unique(values[valid]).tolist())
        return np.full(values.shape, -1, dtype=np.int32)
    position = np.clip(np.searchsorted(codes, np.where(valid, values, codes[0])), 0, codes.size - 1)
    unknown = valid & (codes[position] != values)
    if unknown.any():
        raise UnknownCodes(np.unique(values[unknown]).tolist())
    return np.where(valid, position, -1).astype(np.int32)


# --- class-weighted area share (HAI, BAI, ECO) --------------------------------------------------


def weight_map(values: np.ndarray, weights: Mapping[int, float]) -> np.ndarray:
    """Each pixel's class weight (float64), NaN for NoData; UnknownCodes for unlisted codes."""
    codes = sorted(weights)
    index = class_index(values, codes)
    table = np.append(np.array([weights[c] for c in codes], dtype=np.float64), np.nan)
    return table[index]  # index −1 picks the trailing NaN


def weighted_share(
    values: np.ndarray,
    weights: Mapping[int, float],
    window: int,
    *,
    scale: float = 1.0,
    crop: int = 0,
) -> np.ndarray:
    """scale · Σᵢ Aᵢ·wᵢ / TA in the ``window`` × ``window`` window around each pixel.

    Aᵢ is the area of class i in the window, wᵢ its weight and TA the valid area (NoData is no
    class and no area). Equal pixel areas cancel, so this is the mean weight of the window's
    valid pixels times ``scale``. NaN where the centre pixel is NoData. ``crop`` removes that
    many rows and columns on every side of the result (a halo). The resilience study's HAI (Eq. 7),
    BAI (Eq. 12, scale = A_bio) and ECO are this with their tables.

    The per-class areas are exact integer window counts (``window_counts``, O(1) per pixel
    whatever the window), so a window of one class gives exactly that class's weight.

    >>> weighted_share(np.array([[1.0, 2.0, np.nan]]), {1: 1.0, 2: 0.2}, 3).round(3).tolist()
    [[0.6, 0.6, nan]]
    """
    window = check_window(window)
    codes = sorted(weights)
    index = class_index(values, codes)
    valid = index >= 0
    total = window_counts(valid, window, crop).astype(np.float64)
    weighted = np.zeros(total.shape)
    present = np.flatnonzero(np.bincount(index.ravel() + 1, minlength=len(codes) + 1)[1:])
    for position in present:
        weight = float(weights[codes[position]])
        if weight != 0.0:
            weighted += weight * window_counts(index == position, window, crop)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = scale * weighted / total
    share[~_crop(valid, crop)] = np.nan
    return share


def zone_weighted_share(
    values: np.ndarray, zones: np.ndarray, weights: Mapping[int, float], n_zones: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-zone sums for a weighted share: (Σ weight, valid pixel count), each of length
    ``n_zones``; ``zones`` holds 0-based zone indices, negative outside every zone."""
    weighted = weight_map(values, weights)
    inside = (zones >= 0) & ~np.isnan(weighted)
    zone = zones[inside].astype(np.int64)
    sums = np.bincount(zone, weights=weighted[inside], minlength=n_zones)
    counts = np.bincount(zone, minlength=n_zones).astype(np.float64)
    return sums, counts


# --- composition: SHDI, SHEI -------------------------------------------------------------------


def shannon_diversity(counts: Sequence[np.ndarray] | np.ndarray, total: np.ndarray) -> np.ndarray:
    """SHDI = −Σᵢ pᵢ ln pᵢ with pᵢ = nᵢ/N over the classes present (FRAGSTATS; the first
    study's Eq. 14). ``counts``: per-class pixel counts (first axis = class); ``total`` = N.

    Computed as ln N − Σ nᵢ ln nᵢ / N. NaN where N = 0.

    >>> float(shannon_diversity(np.array([[2.0], [2.0]]), np.array([4.0]))[0])  # ln 2
    0.6931471805599453
    """
    total = np.asarray(total, dtype=np.float64)
    entropy_sum = np.zeros_like(total)
    for count in counts:
        count = np.asarray(count)
        if count.dtype.kind in "iu" and count.size and 0 <= count.min() and count.max() < 2**22:
            # Whole counts: n ln n from a table (one gather instead of a logarithm per pixel).
            span = np.arange(int(count.max()) + 1, dtype=np.float64)
            table = span * np.log(np.maximum(span, 1.0))
            entropy_sum += table[count]
        else:
            count = count.astype(np.float64)
            entropy_sum += count * np.log(np.where(count > 0, count, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        shdi = np.log(total) - entropy_sum / total
    shdi = np.where(total > 0, np.maximum(shdi, 0.0), np.nan)
    return shdi


def shannon_evenness(shdi: np.ndarray, richness: np.ndarray) -> np.ndarray:
    """SHEI = SHDI / ln m, m the number of classes present; 0 when m = 1 (FRAGSTATS)."""
    richness = np.asarray(richness, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        shei = shdi / np.log(richness)
    return np.where(richness > 1, shei, np.where(richness == 1, 0.0, np.nan))


# --- configuration: NP, PD, FN, LPI ------------------------------------------------------------


def fragmentation(
    n_patches: np.ndarray,
    total_pixels: np.ndarray,
    *,
    min_patch_pixels: float = 1.0,
    form: str = "eq13",
) -> np.ndarray:
    """Landscape fragmentation FN (Chen & Fu 1996; the resilience study's Eq. 13).

    ``eq13``: FN = MPS·(Nf − 1)/Nc with MPS the mean patch area in units of the minimum patch
    area a_min, Nf the number of patches and Nc = total area / a_min. With Nf counting every
    patch this equals (Nf − 1)/Nf whatever a_min is (MPS = TA/(Nf·a_min)).
    ``landscape``: FN = (Np − 1)/Nc (Chen & Fu's landscape-level form), which depends on a_min.
    Areas in pixels; NaN where there is no patch.

    >>> fragmentation(np.array([4.0]), np.array([100.0])).tolist()   # (4 − 1)/4
    [0.75]
    >>> fragmentation(np.array([4.0]), np.array([100.0]), form="landscape").tolist()  # 3/100
    [0.03]
    """
    if form not in FN_FORMS:
        raise ValueError(f"FN form must be one of {', '.join(FN_FORMS)}, got {form!r}")
    if not min_patch_pixels > 0:
        raise ValueError(f"the minimum patch area must be positive, got {min_patch_pixels}")
    n_patches = np.asarray(n_patches, dtype=np.float64)
    total = np.asarray(total_pixels, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        nc = total / min_patch_pixels
        if form == "eq13":
            mps = total / n_patches / min_patch_pixels
            fn = mps * (n_patches - 1.0) / nc
        else:
            fn = (n_patches - 1.0) / nc
    return np.where(n_patches > 0, fn, np.nan)


def patch_density(n_patches: np.ndarray, total_pixels: np.ndarray, pixel_area_m2: float):
    """PD = NP / A · 10⁶ patches per 100 ha, A = valid pixels × pixel area in m² (FRAGSTATS)."""
    area = np.asarray(total_pixels, dtype=np.float64) * pixel_area_m2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area > 0, n_patches / area * SQUARE_METRES_PER_100_HA, np.nan)


# --- window sums with asymmetric extents --------------------------------------------------------


def _crop(values: np.ndarray, crop: int) -> np.ndarray:
    return values[crop:-crop, crop:-crop] if crop else values


def _anchor_sums(anchors: np.ndarray, shape, half: int, crop: int, spans) -> np.ndarray:
    """Σ of ``anchors`` over rows [y − half, y + half − span_rows] and columns
    [x − half, x + half − span_cols] for every centre (y, x) of ``shape`` not cropped away.

    ``anchors[r, c]`` is a count for the local pattern whose top-left pixel is (r, c) and that
    extends ``span_rows`` rows down and ``span_cols`` columns right: it lies wholly in the
    window exactly when its anchor is in that range. Separable running sums in int32 (exact:
    counts, whatever the window), first down the columns, then along the rows; ranges beyond
    the array are clipped (nothing lies there). Returns int32."""
    span_rows, span_cols = spans
    rows, cols = shape
    limit_r, limit_c = anchors.shape
    centre_rows = np.arange(crop, rows - crop)
    centre_cols = np.arange(crop, cols - crop)
    top = np.clip(centre_rows - half, 0, limit_r)
    bottom = np.maximum(np.clip(centre_rows + half - span_rows + 1, 0, limit_r), top)
    left = np.clip(centre_cols - half, 0, limit_c)
    right = np.maximum(np.clip(centre_cols + half - span_cols + 1, 0, limit_c), left)
    down = np.zeros((limit_r + 1, limit_c), dtype=np.int32)
    np.cumsum(anchors, axis=0, dtype=np.int32, out=down[1:])
    band = down[bottom] - down[top]
    del down
    across = np.zeros((band.shape[0], limit_c + 1), dtype=np.int32)
    np.cumsum(band, axis=1, out=across[:, 1:])
    del band
    return across[:, right] - across[:, left]


def window_counts(mask: np.ndarray, window: int, crop: int = 0) -> np.ndarray:
    """Number of True pixels of ``mask`` in the window around each pixel (int32), like
    ``core.windows.box_count`` but in integers with separable sums (about three times faster
    for the many per-class counts of SHDI)."""
    window = check_window(window)
    mask = np.asarray(mask, dtype=bool)
    return _anchor_sums(mask.view(np.uint8), mask.shape, window // 2, crop, (0, 0))


def euler_characteristic(index: np.ndarray, window: int, connectivity: int = 8, crop: int = 0):
    """Σᵢ χᵢ: the Euler characteristics (patches − holes) of every class in the window around
    each pixel, summed over classes (float64). ``index``: class indices, −1 for NoData."""
    window = check_window(window)
    connectivity = check_connectivity(connectivity)
    half = window // 2
    valid = index >= 0
    shape = index.shape
    total = _anchor_sums(valid.view(np.uint8), shape, half, crop, (0, 0)).astype(np.float64)
    top, bottom = index[:-1, :], index[1:, :]
    vertical = (top == bottom) & (top >= 0)
    total -= _anchor_sums(vertical.astype(np.uint8), shape, half, crop, (1, 0))
    left, right = index[:, :-1], index[:, 1:]
    horizontal = (left == right) & (left >= 0)
    total -= _anchor_sums(horizontal.astype(np.uint8), shape, half, crop, (0, 1))
    if shape[0] < 2 or shape[1] < 2:
        return total
    # 2×2 blocks: a b / c d
    a, b = index[:-1, :-1], index[:-1, 1:]
    c, d = index[1:, :-1], index[1:, 1:]
    ab = (a == b) & (a >= 0)
    cd = (c == d) & (c >= 0)
    ac = (a == c) & (a >= 0)
    quad = ab & cd & ac
    if connectivity == 4:
        blocks = quad.astype(np.int8)
    else:
        ad = (a == d) & (a >= 0)
        bc = (b == c) & (b >= 0)
        bd = (b == d) & (b >= 0)
        # Triples abc, abd, acd, bcd of equal class.
        triples = (ab & ac).astype(np.int8) + (ab & ad) + (ac & ad) + (bc & bd)
        blocks = triples - ad - bc - quad
    total += _anchor_sums(blocks, shape, half, crop, (1, 1))
    return total


def hole_counts(
    index: np.ndarray,
    window: int,
    connectivity: int = 8,
    crop: int = 0,
    classes: Sequence[int] | None = None,
) -> np.ndarray:
    """Σᵢ Hᵢ: holes of every class in the window around each pixel (float64).

    A hole of class i in a window is a component of the complement of i (4-connected for the
    8-neighbour rule, 8-connected for the 4-neighbour rule; NoData and pixels beyond the array
    belong to the complement) that does not touch the window's border. Such a component is a
    component of the whole array's complement whose bounding box lies one pixel inside the
    window, and it is a hole of every window whose interior contains its box: it adds 1 to
    that rectangle of window centres. Components touching the array's edge are never holes
    (the array is surrounded by complement)."""
    window = check_window(window)
    connectivity = check_connectivity(connectivity)
    half = window // 2
    rows, cols = index.shape
    holes = np.zeros((rows + 1, cols + 1), dtype=np.int64)
    if window < 3:
        return np.zeros((rows - 2 * crop, cols - 2 * crop))
    from scipy import ndimage

    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 8 else 2)
    if classes is None:
        classes = np.unique(index[index >= 0]).tolist()
    corners_r, corners_c, signs = [], [], []
    for value in classes:
        labels, count = ndimage.label(index != value, structure)
        if count == 0:
            continue
        boxes = ndimage.find_objects(labels)
        del labels
        bbox = np.array(
            [(s[0].start, s[0].stop - 1, s[1].start, s[1].stop - 1) for s in boxes],
            dtype=np.int64,
        )
        r0, r1, c0, c1 = bbox.T
        keep = (
            (r0 > 0)
            & (c0 > 0)
            & (r1 < rows - 1)
            & (c1 < cols - 1)
            & (r1 - r0 <= window - 3)
            & (c1 - c0 <= window - 3)
        )
        r0, r1, c0, c1 = r0[keep], r1[keep], c0[keep], c1[keep]
        # Centres y with y − half + 1 ≤ r0 and r1 ≤ y + half − 1 (likewise for columns).
        y0, y1 = r1 - half + 1, r0 + half - 1
        x0, x1 = c1 - half + 1, c0 + half - 1
        y0, x0 = np.maximum(y0, 0), np.maximum(x0, 0)
        y1, x1 = np.minimum(y1, rows - 1), np.minimum(x1, cols - 1)
        ok = (y0 <= y1) & (x0 <= x1)
        y0, y1, x0, x1 = y0[ok], y1[ok] + 1, x0[ok], x1[ok] + 1
        corners_r += [y0, y0, y1, y1]
        corners_c += [x0, x1, x0, x1]
        ones = np.ones(y0.size, dtype=np.int64)
        signs += [ones, -ones, -ones, ones]
    if signs:
        flat = np.concatenate(corners_r) * (cols + 1) + np.concatenate(corners_c)
        holes = np.bincount(
            flat, weights=np.concatenate(signs), minlength=(rows + 1) * (cols + 1)
        ).reshape(rows + 1, cols + 1)
    holes = np.cumsum(np.cumsum(holes, axis=0), axis=1)[:rows, :cols]
    return _crop(holes.astype(np.float64), crop)


def window_patch_count(
    index: np.ndarray, window: int, connectivity: int = 8, crop: int = 0
) -> np.ndarray:
    """Number of patches of the map clipped to the window around each pixel (exact; see the
    module docstring): Σᵢ χᵢ + Σᵢ Hᵢ."""
    return euler_characteristic(index, window, connectivity, crop) + hole_counts(
        index, window, connectivity, crop
    )


@dataclass(frozen=True)
class WindowMetrics:
    """Per-pixel window metrics (float64 arrays, NaN where the centre is NoData)."""

    shdi: np.ndarray
    shei: np.ndarray
    n_patches: np.ndarray
    patch_density: np.ndarray
    fn: np.ndarray
    total: np.ndarray


def window_metrics(
    values: np.ndarray,
    codes: Sequence[int],
    window: int,
    *,
    connectivity: int = 8,
    pixel_area_m2: float = 1.0,
    min_patch_pixels: float = 1.0,
    fn_form: str = "eq13",
    crop: int = 0,
    want_patches: bool = True,
) -> WindowMetrics:
    """SHDI, SHEI, NP, PD and FN in the ``window`` around each pixel of a land-cover block.

    ``values``: class codes as floats, NaN for NoData; ``codes``: every code that may occur.
    Windows reaching beyond the array see NoData there. ``crop``: rows/columns removed on each
    side of the results (the block's halo). ``want_patches=False`` skips NP, PD and FN."""
    window = check_window(window)
    index = class_index(values, codes)
    centre_valid = _crop(index >= 0, crop)
    total = window_counts(index >= 0, window, crop).astype(np.float64)
    present = np.flatnonzero(np.bincount(index.ravel() + 1)[1:])
    counts = []
    richness = np.zeros_like(total)
    for value in present:
        count = window_counts(index == value, window, crop)
        richness += count > 0
        counts.append(count)
    shdi = shannon_diversity(counts, total)
    shei = shannon_evenness(shdi, richness)
    nan = np.full(total.shape, np.nan)
    if want_patches:
        n_patches = euler_characteristic(index, window, connectivity, crop) + hole_counts(
            index, window, connectivity, crop, classes=present.tolist()
        )
        density = patch_density(n_patches, total, pixel_area_m2)
        fn = fragmentation(n_patches, total, min_patch_pixels=min_patch_pixels, form=fn_form)
    else:
        n_patches = density = fn = nan
    results = [shdi, shei, n_patches, density, fn]
    for result in results:
        result[~centre_valid] = np.nan
    return WindowMetrics(*results, total)


# --- zones: exact patch labelling, strip by strip ------------------------------------------------


def _equal_neighbour_edges(keys: np.ndarray, connectivity: int):
    """(source, target) flat indices of neighbouring pixels with equal, valid keys."""
    rows, cols = keys.shape
    flat = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    offsets = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if connectivity == 8 else [])
    sources, targets = [], []
    for dr, dc in offsets:
        if dc >= 0:
            here = keys[: rows - dr, : cols - dc]
            there = keys[dr:, dc:]
            here_flat, there_flat = flat[: rows - dr, : cols - dc], flat[dr:, dc:]
        else:
            here = keys[: rows - dr, -dc:]
            there = keys[dr:, : cols + dc]
            here_flat, there_flat = flat[: rows - dr, -dc:], flat[dr:, : cols + dc]
        same = (here == there) & (here >= 0)
        sources.append(here_flat[same])
        targets.append(there_flat[same])
    return np.concatenate(sources), np.concatenate(targets)


class ZonePatches:
    """Exact patch counts and largest patch areas per zone, fed strip by strip.

    ``add(keys)`` takes consecutive full-width strips of keys: ``zone * n_classes + class``
    (0-based) for counted pixels, −1 for NoData or pixels outside every zone. Patches are
    connected components of equal keys (8- or 4-neighbour rule). Components still touching a
    strip's last row stay open and are merged with the next strip's pixels; a component that
    stops is closed and counted in its zone. Call ``finish()`` after the last strip.
    """

    def __init__(self, n_zones: int, n_classes: int, connectivity: int = 8):
        self.n_zones = int(n_zones)
        self.n_classes = int(n_classes)
        self.connectivity = check_connectivity(connectivity)
        self.patches = np.zeros(self.n_zones, dtype=np.int64)
        self.largest = np.zeros(self.n_zones, dtype=np.int64)
        self._last_keys: np.ndarray | None = None
        self._last_open: np.ndarray | None = None  # open component of each last-row pixel
        self._open_area = np.zeros(0, dtype=np.int64)

    def _close(self, zones: np.ndarray, areas: np.ndarray) -> None:
        if zones.size:
            self.patches += np.bincount(zones, minlength=self.n_zones)
            np.maximum.at(self.largest, zones, areas)

    def add(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        if keys.ndim != 2 or keys.shape[0] == 0:
            return
        carried = self._last_keys is not None
        if carried and keys.shape[1] != self._last_keys.shape[0]:
            raise ValueError("strips must all have the same width")
        stack = np.vstack([self._last_keys[None, :], keys]) if carried else keys
        sources, targets = _equal_neighbour_edges(stack, self.connectivity)
        if carried:
            # Pixels of the carried row that belong to one open component are one patch even
            # when they are not connected inside this strip (a U-shape open at the top).
            opened = np.flatnonzero(self._last_open >= 0)
            order = opened[np.argsort(self._last_open[opened], kind="stable")]
            same = self._last_open[order[1:]] == self._last_open[order[:-1]]
            sources = np.concatenate([sources, order[:-1][same]])
            targets = np.concatenate([targets, order[1:][same]])
        nodes = stack.size
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        graph = coo_matrix(
            (np.ones(sources.size, dtype=np.int8), (sources, targets)), shape=(nodes, nodes)
        )
        _, labels = connected_components(graph, directed=False)
        labels = labels.reshape(stack.shape)
        counted = stack >= 0
        # Renumber the components of counted pixels 0..n−1.
        used, inverse = np.unique(labels[counted], return_inverse=True)
        group = np.full(stack.shape, -1, dtype=np.int64)
        group[counted] = inverse
        n_groups = used.size
        first_new = 1 if carried else 0
        new_pixels = group[first_new:][counted[first_new:]]
        area = np.bincount(new_pixels, minlength=n_groups).astype(np.int64)
        zone = np.zeros(n_groups, dtype=np.int64)
        zone[group[counted]] = stack[counted] // self.n_classes
        if carried and self._open_area.size:
            opened = np.flatnonzero(self._last_open >= 0)
            owner = np.full(self._open_area.size, -1, dtype=np.int64)
            owner[self._last_open[opened]] = group[0, opened]
            area += np.bincount(owner, weights=self._open_area, minlength=n_groups).astype(np.int64)
        last = group[-1]
        still_open = np.zeros(n_groups, dtype=bool)
        still_open[last[last >= 0]] = True
        closed = ~still_open
        self._close(zone[closed], area[closed])
        renumber = np.full(n_groups, -1, dtype=np.int64)
        renumber[still_open] = np.arange(int(still_open.sum()))
        self._last_keys = stack[-1].copy()
        self._last_open = np.full(last.shape, -1, dtype=np.int64)
        self._last_open[last >= 0] = renumber[last[last >= 0]]
        self._open_area = area[still_open]

    def finish(self) -> None:
        """Close the components still open after the last strip."""
        if self._last_keys is not None and self._open_area.size:
            opened = np.flatnonzero(self._last_open >= 0)
            zone = np.zeros(self._open_area.size, dtype=np.int64)
            zone[self._last_open[opened]] = self._last_keys[opened] // self.n_classes
            self._close(zone, self._open_area)
        self._last_keys = None
        self._last_open = None
        self._open_area = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class ZoneMetrics:
    """Per-zone landscape metrics (arrays over zones; NaN for zones without valid pixels)."""

    pixels: np.ndarray
    shdi: np.ndarray
    shei: np.ndarray
    n_patches: np.ndarray
    patch_density: np.ndarray
    largest_patch_index: np.ndarray
    fn: np.ndarray
    class_pixels: np.ndarray  # (zones, classes)


def zone_metrics(
    class_pixels: np.ndarray,
    n_patches: np.ndarray,
    largest: np.ndarray,
    *,
    pixel_area_m2: float = 1.0,
    min_patch_pixels: float = 1.0,
    fn_form: str = "eq13",
) -> ZoneMetrics:
    """SHDI, SHEI, NP, PD, LPI (= largest patch / total area · 100, FRAGSTATS) and FN per zone
    from its class pixel counts (zones × classes), patch counts and largest patch areas."""
    class_pixels = np.asarray(class_pixels, dtype=np.float64)
    total = class_pixels.sum(axis=1)
    shdi = shannon_diversity(class_pixels.T, total)
    shei = shannon_evenness(shdi, (class_pixels > 0).sum(axis=1))
    n_patches = np.asarray(n_patches, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lpi = np.where(total > 0, np.asarray(largest) / total * 100.0, np.nan)
    return ZoneMetrics(
        pixels=total,
        shdi=shdi,
        shei=shei,
        n_patches=np.where(total > 0, n_patches, np.nan),
        patch_density=patch_density(n_patches, total, pixel_area_m2),
        largest_patch_index=lpi,
        fn=fragmentation(n_patches, total, min_patch_pixels=min_patch_pixels, form=fn_form),
        class_pixels=class_pixels,
    )


def zone_keys(index: np.ndarray, zones: np.ndarray, n_classes: int) -> np.ndarray:
    """zone · n_classes + class for pixels with a class and a zone (0-based), else −1."""
    zones = np.asarray(zones)
    inside = (index >= 0) & (zones >= 0)
    return np.where(inside, zones.astype(np.int64) * n_classes + index, -1)

"""Restoration scenarios on the resilience study's resilience index: what the index would be if the
land cover of candidate sites became a target class, everything else as observed.

A scenario edits the land cover inside one or more site polygons and recomputes the index
locally, with the baseline run's weights, trends and normalisation ranges (Eq. 18–20):

* **Class-weighted shares** HAI, BAI, ECO (Eq. 7, 12, C13) and the window metrics SHDI, FN
  (Eq. 13–14) are recomputed on the edited land cover with the same kernels as the indicator
  algorithms (``core.landscape.weighted_share`` and ``window_metrics``), at every pixel whose
  window holds a changed pixel; elsewhere they keep their baseline values.
* **Spectral and thermal** indicators (DDI, FVC, VHI, wetness, dryness, LST, albedo,
  brightness) at a changed pixel take the median of the target class's pixels near the site
  (``class_median``): the value typical of that land cover in that area.
* **Soil erosion** at a changed pixel is A = R·K·LS·C·P with the target class's P (table) and
  the median C of the target class near the site (C is a function of vegetation cover).
* Population, PM2.5 and CO2 are not land-cover indicators of the index: unchanged.

Pixels whose land cover does not change keep every observed value, so a site whose target
class is its current land cover changes nothing (Δ = 0 exactly).

Pure numpy; the algorithm (algorithms/planner.py) reads the local windows and writes outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import landscape
from .evaluation_classes import classify
from .evaluation_index import composite_index, normalise

#: How the planner models each Table 2 slot (parameter ids of ``resilience_index``).
SPECTRAL = ("DDI", "FVC", "VHI", "WETNESS", "DRYNESS", "LST", "ALBEDO", "TCI")
SHARES = ("HAI", "BAI", "ECO")
METRICS = ("SHDI", "FN")
EROSION = "EROSION"
UNCHANGED = ("POPULATION", "PM25", "CO2")


def slot_model(slot: str) -> str:
    """'spectral', 'share', 'metrics', 'erosion' or 'unchanged'."""
    if slot in SPECTRAL:
        return "spectral"
    if slot in SHARES:
        return "share"
    if slot in METRICS:
        return "metrics"
    if slot == EROSION:
        return "erosion"
    if slot in UNCHANGED:
        return "unchanged"
    raise ValueError(f"unknown indicator slot {slot!r}")


@dataclass(frozen=True)
class LandscapeModel:
    """The settings the landscape indicators are recomputed with (as in the indicator
    algorithms): class tables of HAI, BAI and ECO, their window, BAI's A_bio, and the window,
    neighbour rule, FN form and minimum patch of SHDI and FN."""

    tables: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    share_window: int = 33
    metrics_window: int = 33
    bai_scale: float = 511.2642131067
    connectivity: int = 8
    fn_form: str = "eq13"
    min_patch_pixels: float = 1.0

    def window(self, slot: str) -> int:
        return self.share_window if slot in SHARES else self.metrics_window

    def reach(self, slots: Sequence[str]) -> int:
        """Pixels a land-cover change reaches in the indicators ``slots``: the largest half
        window among them (0 without landscape indicators)."""
        halves = [self.window(s) // 2 for s in slots if s in SHARES or s in METRICS]
        return max(halves, default=0)


def landscape_indicator(
    slot: str, cover: np.ndarray, model: LandscapeModel, crop: int = 0
) -> np.ndarray:
    """HAI, BAI, ECO, SHDI or FN of the land-cover block ``cover`` (NaN NoData), with ``crop``
    rows and columns removed on each side: exactly what ``human_activity_index``,
    ``biological_abundance``, ``ecological_elasticity`` and ``landscape_metrics`` compute."""
    if slot in SHARES:
        scale = model.bai_scale if slot == "BAI" else 1.0
        return landscape.weighted_share(
            cover, model.tables[slot], model.share_window, scale=scale, crop=crop
        )
    if slot in METRICS:
        codes = landscape.check_codes(landscape.distinct_codes(cover))
        metrics = landscape.window_metrics(
            cover,
            codes,
            model.metrics_window,
            connectivity=model.connectivity,
            min_patch_pixels=model.min_patch_pixels,
            fn_form=model.fn_form,
            crop=crop,
            want_patches=slot == "FN",
        )
        return metrics.shdi if slot == "SHDI" else metrics.fn
    raise ValueError(f"{slot} is not a land-cover indicator")


def edit_cover(cover: np.ndarray, sites: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """A copy of ``cover`` with each (mask, target code) applied in order (a later site wins
    where sites overlap); NoData pixels stay NoData."""
    edited = np.array(cover, dtype=np.float64, copy=True)
    valid = ~np.isnan(edited)
    for mask, target in sites:
        edited[mask & valid] = float(target)
    return edited


def changed_pixels(cover: np.ndarray, edited: np.ndarray) -> np.ndarray:
    """Pixels whose (valid) land cover differs between ``cover`` and ``edited``."""
    return ~np.isnan(cover) & (cover != edited)


def class_median(
    values: np.ndarray, cover: np.ndarray, target: int, near: np.ndarray
) -> tuple[float, int]:
    """Median of ``values`` over the valid pixels of class ``target`` inside ``near``, and
    their count (NaN, 0 when there is none)."""
    chosen = near & (cover == float(target)) & np.isfinite(values)
    count = int(chosen.sum())
    if count == 0:
        return float("nan"), 0
    return float(np.median(values[chosen].astype(np.float64))), count


def _crop(values: np.ndarray, crop: int) -> np.ndarray:
    return values[crop:-crop, crop:-crop] if crop else values


def scenario_indicators(
    baseline: Mapping[str, np.ndarray],
    cover: np.ndarray,
    edited: np.ndarray,
    fills: Mapping[str, np.ndarray],
    model: LandscapeModel,
    halo: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The indicators of a scenario over a region, and the landscape indicators recomputed on
    the unedited land cover there (to check that they match the baseline layers).

    ``baseline``: slot → baseline values over the region (rows, cols). ``cover``/``edited``:
    the land cover before and after, over the region grown by ``halo`` on every side (``halo``
    at least ``model.reach`` of the slots). ``fills``: slot → the value a changed pixel takes
    (spectral slots and EROSION), over the region.

    Landscape slots take the recomputed value wherever their window holds a changed pixel;
    spectral slots and EROSION take ``fills`` on changed pixels; everything else (and every
    pixel no change reaches) keeps its baseline value, bit for bit.
    """
    changed = changed_pixels(cover, edited)
    centre = _crop(changed, halo)
    scenario: dict[str, np.ndarray] = {}
    recomputed: dict[str, np.ndarray] = {}
    for slot, values in baseline.items():
        kind = slot_model(slot)
        values = np.asarray(values, dtype=np.float32)
        if kind in ("spectral", "erosion"):
            scenario[slot] = np.where(centre, fills[slot], values).astype(np.float32)
        elif kind in ("share", "metrics"):
            window = model.window(slot)
            reached = landscape.window_counts(changed, window, halo) > 0
            if not reached.any():
                scenario[slot] = values
                continue
            new = landscape_indicator(slot, edited, model, crop=halo).astype(np.float32)
            scenario[slot] = np.where(reached, new, values)
            recomputed[slot] = landscape_indicator(slot, cover, model, crop=halo)
        else:
            scenario[slot] = values
    return scenario, recomputed


@dataclass(frozen=True)
class IndexSystem:
    """The baseline run's indicators (slots), weights, trends and normalisation ranges."""

    slots: tuple[str, ...]
    weights: tuple[float, ...]
    trends: tuple[int, ...]
    minima: tuple[float, ...]
    maxima: tuple[float, ...]
    clip: bool = True

    def index(self, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
        """P = Σ Wⱼ·Tⱼ (Eq. 20) with the baseline ranges: the same kernel as
        ``composite_index``, so the baseline is reproduced bit for bit."""
        return composite_index(
            [indicators[s] for s in self.slots],
            self.weights,
            self.minima,
            self.maxima,
            self.trends,
            clip=self.clip,
        )

    def terms(self, indicators: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Wⱼ·Tⱼ per slot (float64): each indicator's share of P."""
        return {
            slot: weight * normalise(indicators[slot], low, high, trend, clip=self.clip)
            for slot, weight, trend, low, high in zip(
                self.slots, self.weights, self.trends, self.minima, self.maxima, strict=True
            )
        }


@dataclass(frozen=True)
class ScenarioResult:
    """What a scenario changes over its region (Δ NaN where the index is NoData)."""

    delta: np.ndarray
    changed: np.ndarray
    total_gain: float  # Σ Δ · pixel area (index · ha)
    mean_gain: float  # mean Δ over the sites' pixels
    pixels_up: int
    pixels_down: int
    contributions: dict[str, float]  # slot → Σ Wⱼ·ΔTⱼ · pixel area (index · ha)
    #: The scenario's index P over the region (empty for a combined result).
    index: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


def evaluate(
    system: IndexSystem,
    baseline: Mapping[str, np.ndarray],
    scenario: Mapping[str, np.ndarray],
    sites: np.ndarray,
    changed: np.ndarray,
    pixel_ha: float,
    breaks: Sequence[float],
) -> ScenarioResult:
    """Δ = P(scenario) − P(baseline) and its summaries over a region. ``sites``: the pixels
    inside the scenario's sites; ``changed``: those whose land cover changes."""
    before = system.index(baseline)
    after = system.index(scenario)
    delta = after - before
    valid = np.isfinite(delta)
    total = float(delta[valid].sum(dtype=np.float64)) * pixel_ha
    inside = valid & sites
    mean = float(delta[inside].mean(dtype=np.float64)) if inside.any() else float("nan")
    class_before = classify(before, breaks)
    class_after = classify(after, breaks)
    both = (class_before > 0) & (class_after > 0)
    up = int((both & (class_after > class_before)).sum())
    down = int((both & (class_after < class_before)).sum())
    terms_before = system.terms(baseline)
    terms_after = system.terms(scenario)
    contributions = {
        slot: float((terms_after[slot] - terms_before[slot])[valid].sum()) * pixel_ha
        for slot in system.slots
    }
    return ScenarioResult(delta, changed, total, mean, up, down, contributions, after)


def driver_text(contributions: Mapping[str, float], names: Mapping[str, str], top: int = 3) -> str:
    """The indicators that move the index most, largest |contribution| first, with their share
    of Σ|contribution|: 'C3 FVC +1.23 (61 %); C6 HAI +0.41 (20 %); …' (index · ha)."""
    items = [(slot, value) for slot, value in contributions.items() if value != 0.0]
    magnitude = sum(abs(v) for _, v in items)
    if not magnitude:
        return ""
    items.sort(key=lambda item: -abs(item[1]))
    return "; ".join(
        f"{names.get(slot, slot)} {value:+.4g} ({100 * abs(value) / magnitude:.0f} %)"
        for slot, value in items[:top]
    )


# --- the NPP-drivers study's dominant NPP driver --------------------------------------------------

#: What a site limited by each driver category calls for (the NPP-drivers study's "management
#: priorities ... according to the main constraints"), matched on the category's name.
ACTIONS = (
    ("soil", "soil reconstruction"),
    ("min", "subsidence repair"),
    ("climate", "climate-limited: no site works change it (choose drought-tolerant cover)"),
)


def driver_categories(label: str) -> list[str]:
    """Category names of a dominant-driver legend label, larger first: 'S: soil' → ['soil'],
    'SM: soil > mining (coupled)' → ['soil', 'mining']."""
    text = label.split(":", 1)[1] if ":" in label else label
    text = text.replace("(coupled)", "")
    return [part.strip() for part in text.split(">") if part.strip()]


def driver_action(label: str) -> str:
    """The restoration measure a dominant-driver class calls for, larger category first
    ('' for categories the table does not know)."""
    actions = []
    for category in driver_categories(label):
        lower = category.lower()
        for key, action in ACTIONS:
            if key in lower and action not in actions:
                actions.append(action)
                break
    return "; then ".join(actions)


def majority(codes: np.ndarray, mask: np.ndarray) -> tuple[int | None, float]:
    """The most frequent valid (non-NaN, non-zero) code inside ``mask`` and its share (%)."""
    values = codes[mask & np.isfinite(codes) & (codes != 0)]
    if values.size == 0:
        return None, float("nan")
    found, counts = np.unique(values.astype(np.int64), return_counts=True)
    best = int(np.argmax(counts))
    return int(found[best]), 100.0 * float(counts[best]) / float(values.size)


# --- grouping and ranking ----------------------------------------------------------------------


def clusters(boxes: Sequence[tuple[int, int, int, int]]) -> list[list[int]]:
    """Groups of boxes (row0, col0, row1, col1; ends exclusive) connected by overlaps, each
    sorted, in the order of their first member: sites whose regions overlap must be computed
    together when they are restored together."""
    parent = list(range(len(boxes)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda group: group[0])


def ranks(values: Sequence[float | None]) -> list[int | None]:
    """1 for the largest value, 2 for the next…; None for missing values; ties keep the
    input order."""
    order = sorted(
        (i for i, v in enumerate(values) if v is not None and np.isfinite(v)),
        key=lambda i: (-values[i], i),
    )
    result: list[int | None] = [None] * len(values)
    for rank, i in enumerate(order, start=1):
        result[i] = rank
    return result

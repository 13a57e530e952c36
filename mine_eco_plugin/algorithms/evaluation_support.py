"""Shared pieces of the weighting & evaluation algorithms (no algorithm is defined here).

* ``row_areas``: pixel areas (m²) of a grid, exact on the ellipsoid for geographic CRSs.
* ``indicator_statistics``: the streaming passes behind objective weights and the composite
  index, over the pixels valid in every indicator.
* Parsing of comma-separated per-indicator lists with errors naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from osgeo import osr
from qgis.core import QgsProcessingException

from .. import engine
from ..core import evaluation_weights as weighting
from ..core.evaluation_classes import geographic_row_areas
from ..core.evaluation_index import check_range, normalise

# --------------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------------


def row_areas(grid: engine.Grid) -> Callable[[engine.Window], float | np.ndarray]:
    """A function of a window giving the pixel area in m²: one number for projected grids
    (|Δx·Δy| × the CRS's linear unit²), one value per row for geographic grids (exact cell
    area on the CRS's ellipsoid)."""
    srs = osr.SpatialReference()
    srs.ImportFromWkt(grid.crs_wkt)
    x0, dx, _, y0, _, dy = grid.geotransform
    if srs.IsGeographic():
        to_degrees = srs.GetAngularUnits() * 180.0 / np.pi
        semi_major, inverse_flattening = srs.GetSemiMajor(), srs.GetInvFlattening()

        def geographic(window):
            north = (y0 + dy * window.row) * to_degrees
            return geographic_row_areas(
                north,
                -dy * to_degrees,
                dx * to_degrees,
                window.height,
                semi_major=semi_major,
                inverse_flattening=inverse_flattening,
            )

        return geographic
    unit = srs.GetLinearUnits() or 1.0
    area = abs(dx * dy) * unit * unit
    return lambda window: area


# --------------------------------------------------------------------------------------------
# Parsing per-indicator lists
# --------------------------------------------------------------------------------------------


def parameter_text(algorithm, parameters, name, context) -> str:
    """A string parameter's text (its default when not given), stripped; "" when unset."""
    value = algorithm.parameterAsString(parameters, name, context)
    return "" if value is None or str(value) == "NULL" else str(value).strip()


def numbers_for(text: str, name: str, count: int) -> list[float]:
    """Exactly ``count`` numbers from ``text``; QgsProcessingException naming ``name``."""
    try:
        values = weighting.parse_numbers(text, "value")
    except ValueError as error:
        raise QgsProcessingException(f"{name}: {error}") from None
    if len(values) != count:
        raise QgsProcessingException(
            f"{name}: {len(values)} value(s) given for {count} indicator layer(s)"
        )
    return values


def optional_numbers_for(text: str, name: str, count: int) -> list[float | None]:
    """Per-indicator numbers with blanks for "from the data": '0,,1' → [0, None, 1]; an
    empty text gives all None."""
    if not text:
        return [None] * count
    items = [item.strip() for item in text.replace(";", ",").split(",")]
    if len(items) != count:
        raise QgsProcessingException(
            f"{name}: {len(items)} entr(ies) given for {count} indicator layer(s) (leave an "
            "entry empty to take that indicator's value from the data)"
        )
    values = []
    for position, item in enumerate(items, start=1):
        if not item:
            values.append(None)
            continue
        try:
            value = float(item)
        except ValueError:
            raise QgsProcessingException(
                f"{name}: entry {position} ('{item}') is not a number"
            ) from None
        if not np.isfinite(value):
            raise QgsProcessingException(f"{name}: entry {position} is not finite")
        values.append(value)
    return values


def trends_for(text: str, name: str, count: int) -> list[int]:
    try:
        return weighting.parse_trends(text, count)
    except ValueError as error:
        raise QgsProcessingException(f"{name}: {error}") from None


def weights_for(text_or_values, name: str, count: int, feedback=None) -> np.ndarray:
    """Weights rescaled to sum 1 (a warning when the given sum differs from 1 by > 0.1 %)."""
    values = (
        numbers_for(text_or_values, name, count)
        if isinstance(text_or_values, str)
        else list(text_or_values)
    )
    if len(values) != count:
        raise QgsProcessingException(
            f"{name}: {len(values)} weight(s) given for {count} indicator layer(s)"
        )
    try:
        weights, total = weighting.normalised_weights(values)
    except ValueError as error:
        raise QgsProcessingException(f"{name}: {error}") from None
    if feedback is not None and abs(total - 1.0) > 1e-3:
        feedback.pushWarning(
            f"{name}: the weights sum to {total:.6g}, not 1; they were divided by that sum."
        )
    return weights


def format_weights(weights: Sequence[float]) -> str:
    """Comma-separated weights with enough digits to chain them (e.g. in the Modeler)."""
    return ",".join(f"{w:.10g}" for w in weights)


# --------------------------------------------------------------------------------------------
# Statistics of several indicators over the pixels valid in all of them
# --------------------------------------------------------------------------------------------


@dataclass
class IndicatorStatistics:
    """Ranges and statistics of k indicators over their common valid pixels."""

    minima: list[float]
    maxima: list[float]
    #: Raw moments (None when every range was given and no pass over raw values was needed).
    raw: weighting.JointMoments | None
    #: Moments of the normalised indicators (None when no objective method was asked for).
    normalised: weighting.JointMoments | None
    entropy: weighting.EntropySums | None
    objective: weighting.ObjectiveWeights | None
    passes: int

    @property
    def count(self) -> int:
        moments = self.normalised or self.raw
        return moments.count if moments is not None else 0


def _common_valid_pass(sources, grid, memory_mb, monitor, consume):
    """Calls ``consume(rows)`` per block with one 1-D float32 array per indicator holding
    the pixels valid in all of them (views of the block when every pixel is valid)."""

    def visit(window, *blocks):
        arrays = [block[0] for block in blocks]
        valid = np.isfinite(arrays[0])
        for values in arrays[1:]:
            valid &= np.isfinite(values)
        if valid.all():
            consume([values.ravel() for values in arrays])
        elif valid.any():
            consume([values[valid] for values in arrays])

    engine.scan(visit, sources, grid=grid, memory_mb=memory_mb, monitor=monitor)


def indicator_statistics(
    sources: Sequence[engine.RasterSource],
    trends: Sequence[int],
    minima: Sequence[float | None],
    maxima: Sequence[float | None],
    *,
    method: str | None,
    clip: bool,
    grid: engine.Grid,
    memory_mb: float,
    monitor: engine.Monitor,
    names: Sequence[str],
    parameter: str = "INPUTS",
) -> IndicatorStatistics:
    """Ranges (given or from the data) and, when ``method`` is set, objective weights.

    Pass 1 (when a range is missing): raw min/max and moments over the common valid pixels.
    The normalised moments follow exactly from the raw ones when no value is clipped (the
    ranges cover the data); otherwise, and always for entropy, pass 2 reads the normalised
    (and clipped) values.
    """
    k = len(sources)
    cross = method == "critic"
    minima, maxima = list(minima), list(maxima)
    need_raw = any(v is None for v in minima + maxima)
    raw = None
    passes = 0
    first, second = (0.0, 0.5) if method and need_raw else (0.0, 1.0)
    if need_raw:
        state = {"moments": weighting.JointMoments(k, cross)}

        def consume(rows):
            state["moments"] = state["moments"].merge(weighting.JointMoments.of_rows(rows, cross))

        _common_valid_pass(sources, grid, memory_mb, monitor.span(first, second), consume)
        passes += 1
        raw = state["moments"]
        if raw.count == 0:
            raise QgsProcessingException(
                f"{parameter}: no pixel is valid in every indicator (check NoData and overlap)"
            )
        for j in range(k):
            if minima[j] is None:
                minima[j] = float(raw.minimum[j])
            if maxima[j] is None:
                maxima[j] = float(raw.maximum[j])
    for j in range(k):
        try:
            check_range(minima[j], maxima[j], f"'{names[j]}'")
        except ValueError as error:
            raise QgsProcessingException(f"{parameter} (layer {j + 1}): {error}") from None
    if method is None:
        return IndicatorStatistics(minima, maxima, raw, None, None, None, passes)
    covered = raw is not None and all(
        raw.minimum[j] >= minima[j] and raw.maximum[j] <= maxima[j] for j in range(k)
    )
    entropy = None
    if method != "entropy" and raw is not None and (covered or not clip):
        normalised = weighting.normalised_moments(raw, minima, maxima, trends)
    else:
        state = {
            "moments": weighting.JointMoments(k, cross),
            "entropy": weighting.EntropySums(k),
        }

        def consume_normalised(rows):
            rows = [
                normalise(rows[j], minima[j], maxima[j], trends[j], clip=clip) for j in range(k)
            ]
            state["moments"] = state["moments"].merge(weighting.JointMoments.of_rows(rows, cross))
            if method == "entropy":
                state["entropy"] = state["entropy"].merge(weighting.EntropySums.of_rows(rows))

        span = monitor.span(second if need_raw else first, 1.0)
        _common_valid_pass(sources, grid, memory_mb, span, consume_normalised)
        passes += 1
        normalised = state["moments"]
        entropy = state["entropy"] if method == "entropy" else None
    if normalised.count < 2:
        raise QgsProcessingException(
            f"{parameter}: {normalised.count} pixel(s) valid in every indicator; objective "
            "weights need at least two"
        )
    try:
        objective = weighting.objective_weights(method, normalised, entropy)
    except ValueError as error:
        raise QgsProcessingException(f"{parameter}: {error}") from None
    return IndicatorStatistics(minima, maxima, raw, normalised, entropy, objective, passes)


def layer_names(algorithm, parameters, name, context) -> list[str]:
    return [layer.name() for layer in algorithm.parameterAsLayerList(parameters, name, context)]


def indicator_ranges(
    algorithm, parameters, context, sources, trends, names, method, monitor, share: float = 0.5
):
    """The MINIMA, MAXIMA and CLIP parameters of an indicator algorithm and the statistics pass
    they (or objective weights ``method``) need. Returns (statistics, clip, grid, the monitor
    for the work after the pass); the pass gets ``share`` of ``monitor`` when it runs."""
    k = len(sources)
    minima = optional_numbers_for(
        parameter_text(algorithm, parameters, "MINIMA", context), "MINIMA", k
    )
    maxima = optional_numbers_for(
        parameter_text(algorithm, parameters, "MAXIMA", context), "MAXIMA", k
    )
    for position, (low, high) in enumerate(zip(minima, maxima, strict=True), start=1):
        if low is not None and high is not None and not high > low:
            raise QgsProcessingException(
                f"MINIMA/MAXIMA: entry {position} ({names[position - 1]}): the maximum "
                f"({high:.6g}) must be above the minimum ({low:.6g})"
            )
    clip = algorithm.parameterAsBool(parameters, "CLIP", context)
    grid = engine.resolve_grid(sources)
    needs_pass = method is not None or any(v is None for v in minima + maxima)
    pass_monitor, rest = (
        (monitor.span(0, share), monitor.span(share, 1)) if needs_pass else (monitor, monitor)
    )
    stats = indicator_statistics(
        sources,
        trends,
        minima,
        maxima,
        method=method,
        clip=clip,
        grid=grid,
        memory_mb=algorithm.memory_mb(),
        monitor=pass_monitor,
        names=names,
    )
    return stats, clip, grid, rest

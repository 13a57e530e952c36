"""The base of the weighting & evaluation algorithms and the pieces they share (no algorithm
with an id is defined here).

* ``EvaluationAlgorithm``: the parameters the evaluation algorithms have in common (indicator
  layers, names, trends, ranges, AHP matrices and options, objective methods, combination,
  class breaks and labels), declared and read in one place, and the comprehensive index P
  (Eq. 18–20) that 'Composite index' and 'Resilience index' write.
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
from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterMatrix,
    QgsProcessingParameterString,
)

from .. import engine
from ..core import evaluation_classes as classes
from ..core import evaluation_weights as weighting
from ..core.evaluation_classes import geographic_row_areas
from ..core.evaluation_index import check_range, composite_index, normalise
from .base import MineEcoAlgorithm, is_unset

#: Columns of the MATRIX table in the dialog, C1 … C17: up to the 17 indicators of the first
#: study's Table 2 (a larger matrix: MATRIX_FILE, or all values row by row on the command line).
MATRIX_COLUMNS = 17
AHP_METHOD_LABELS = ("Row geometric mean (Eq. 15)", "Principal eigenvector (Saaty 1980)")
#: The leading columns of every weights table (OUTPUT_WEIGHTS): one row per indicator.
INDICATOR_COLUMNS = [("code", str), ("indicator", str), ("trend", str)]

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
    return "" if is_unset(value) else str(value).strip()


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


@dataclass
class IndexResult:
    """What ``EvaluationAlgorithm.write_index`` wrote and measured."""

    outputs: dict
    weights: np.ndarray
    summary: engine.RunningSummary


# --------------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------------


class EvaluationAlgorithm(MineEcoAlgorithm):
    """A weighting or evaluation algorithm: the parameters of indicators, weights and classes
    are declared and read here, once, with the same ids, labels, defaults and messages in
    every algorithm that has them."""

    # --- indicators -------------------------------------------------------------------------
    def add_indicator_parameters(self, trends_optional=False):
        """INPUTS, NAMES and TRENDS."""
        self.add_rasters(
            "INPUTS",
            "Indicator layers",
            "One single-band raster per indicator (band 1 is read); the first layer's grid is "
            "the grid of the statistics and of the output.",
        )
        self.add(
            QgsProcessingParameterString(
                "NAMES", self.tr("Indicator names (comma-separated)"), "", optional=True
            ),
            "Default: the layer names.",
        )
        self.add(
            QgsProcessingParameterString(
                "TRENDS",
                self.tr("Trends, one per layer ('+' positive, '-' negative)"),
                "",
                optional=True,
            ),
            "Comma-separated, in layer order: '+'/'positive' where a higher value means a better "
            "state (Eq. 18), '-'/'negative' where it means a worse one (Eq. 19)"
            + (
                " (blank: all positive; needed for entropy and CRITIC)." if trends_optional else "."
            ),
        )

    def add_range_parameters(self):
        """MINIMA, MAXIMA and CLIP (advanced)."""
        self.add(
            QgsProcessingParameterString(
                "MINIMA",
                self.tr("Fixed minima (comma-separated, blank = from the data)"),
                "",
                optional=True,
            ),
            "One entry per layer; an empty entry (e.g. '0,,,1') takes that indicator's minimum "
            "over the pixels valid in every indicator. Fix ranges (e.g. over all years) to make "
            "indices of different dates comparable.",
            advanced=True,
        )
        self.add(
            QgsProcessingParameterString(
                "MAXIMA",
                self.tr("Fixed maxima (comma-separated, blank = from the data)"),
                "",
                optional=True,
            ),
            "As MINIMA, for the maxima.",
            advanced=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "CLIP", self.tr("Clip normalised values to [0, 1]"), True
            ),
            "Values outside a fixed range are set to 0 or 1 (no effect with ranges from the data).",
            advanced=True,
        )

    def text(self, parameters, name, context) -> str:
        return parameter_text(self, parameters, name, context)

    def indicator_names(self, parameters, context, count, defaults=None) -> list[str]:
        """NAMES (one per layer), else ``defaults``, else the layer names of INPUTS."""
        text = self.text(parameters, "NAMES", context)
        if text:
            names = [t.strip() for t in text.split(",")]
            if len(names) != count:
                raise QgsProcessingException(
                    f"NAMES: {len(names)} name(s) given for {count} indicator layer(s)"
                )
            return names
        return list(defaults) if defaults else layer_names(self, parameters, "INPUTS", context)

    def indicator_trends(self, parameters, context, count, default=None) -> list[int]:
        """TRENDS (one per layer), else ``default``; an error when neither is there."""
        text = self.text(parameters, "TRENDS", context)
        if text:
            return trends_for(text, "TRENDS", count)
        if default is None:
            raise QgsProcessingException("TRENDS: give one '+' or '-' per indicator layer")
        return list(default)

    def indicator_ranges(
        self, parameters, context, sources, trends, names, method, monitor, share: float = 0.5
    ):
        """The MINIMA, MAXIMA and CLIP parameters and the statistics pass they (or objective
        weights ``method``) need. Returns (statistics, clip, grid, the monitor for the work
        after the pass); the pass gets ``share`` of ``monitor`` when it runs."""
        k = len(sources)
        minima = optional_numbers_for(self.text(parameters, "MINIMA", context), "MINIMA", k)
        maxima = optional_numbers_for(self.text(parameters, "MAXIMA", context), "MAXIMA", k)
        for position, (low, high) in enumerate(zip(minima, maxima, strict=True), start=1):
            if low is not None and high is not None and not high > low:
                raise QgsProcessingException(
                    f"MINIMA/MAXIMA: entry {position} ({names[position - 1]}): the maximum "
                    f"({high:.6g}) must be above the minimum ({low:.6g})"
                )
        clip = self.parameterAsBool(parameters, "CLIP", context)
        return self.statistics_pass(
            sources, trends, names, minima, maxima, clip, method, monitor, share
        )

    def statistics_pass(
        self, sources, trends, names, minima, maxima, clip, method, monitor, share: float = 0.5
    ):
        """``indicator_statistics`` over ``sources`` on the first one's grid, given ``share``
        of ``monitor`` when a pass is needed. Returns (statistics, clip, grid, the monitor for
        the rest)."""
        grid = engine.resolve_grid(sources)
        needs_pass = method is not None or any(v is None for v in [*minima, *maxima])
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
            memory_mb=self.memory_mb(),
            monitor=pass_monitor,
            names=names,
        )
        return stats, clip, grid, rest

    # --- weights ----------------------------------------------------------------------------
    def add_objective_method(
        self,
        name="OBJECTIVE_METHOD",
        description="Objective method",
        none=None,
        help_text="Mean square error is the resilience study's Eq. 16.",
    ):
        """An objective-method choice (OBJECTIVE_METHODS order), after an option ``none`` for
        'no objective weights' when given."""
        options = [weighting.OBJECTIVE_LABELS[m] for m in weighting.OBJECTIVE_METHODS]
        return self.add_enum(name, description, [none, *options] if none else options, 0, help_text)

    def objective_method(self, parameters, context, name="OBJECTIVE_METHOD", none=False):
        """The objective method chosen; None for the 'none' option (``none``)."""
        index = self.parameterAsEnum(parameters, name, context)
        if none:
            return None if index == 0 else weighting.OBJECTIVE_METHODS[index - 1]
        return weighting.OBJECTIVE_METHODS[index]

    def add_combination_parameters(self, advanced=False):
        """COMBINATION and ALPHA (advanced)."""
        self.add_enum(
            "COMBINATION",
            "Combination rule",
            [weighting.COMBINATION_LABELS[c] for c in weighting.COMBINATIONS],
            0,
            "Eq. 17 (the mean) is the resilience study's rule.",
            advanced=advanced,
        )
        self.add_number(
            "ALPHA",
            "α (share of the subjective weights)",
            0.5,
            "For the α rule; 0.5 equals Eq. 17.",
            minimum=0,
            maximum=1,
            advanced=True,
        )

    def combination(self, parameters, context) -> tuple[str, float]:
        """(rule, α) of COMBINATION and ALPHA."""
        rule = weighting.COMBINATIONS[self.parameterAsEnum(parameters, "COMBINATION", context)]
        return rule, self.parameterAsDouble(parameters, "ALPHA", context)

    @staticmethod
    def resolve_weights(
        source, *, given=None, subjective=None, objective=None, rule="mean", alpha=0.5
    ):
        """``core.evaluation_weights.resolve_weights`` with its errors naming COMBINATION."""
        try:
            return weighting.resolve_weights(
                source,
                given=given,
                subjective=subjective,
                objective=objective,
                rule=rule,
                alpha=alpha,
            )
        except ValueError as error:
            raise QgsProcessingException(f"COMBINATION: {error}") from None

    # --- AHP --------------------------------------------------------------------------------
    def add_matrix_parameters(self, description, matrix_help, file_help):
        """MATRIX (a table of C1 … C17, or n² values row by row) and MATRIX_FILE (CSV)."""
        self.add(
            QgsProcessingParameterMatrix(
                "MATRIX",
                self.tr(description),
                0,
                False,
                [f"C{j}" for j in range(1, MATRIX_COLUMNS + 1)],
                None,
                optional=True,
            ),
            matrix_help,
        )
        self.add(
            QgsProcessingParameterFile(
                "MATRIX_FILE",
                self.tr("Pairwise comparison matrix (CSV file)"),
                QgsProcessingParameterFile.Behavior.File,
                "csv",
                None,
                optional=True,
            ),
            file_help,
        )

    def matrix_given(self, parameters, context) -> bool:
        typed = [
            v for v in self.parameterAsMatrix(parameters, "MATRIX", context) if not is_unset(v)
        ]
        return bool(typed) or bool(self.parameterAsFile(parameters, "MATRIX_FILE", context))

    def ahp_matrix(self, parameters, context):
        """(n × n array, names from the file, parameter id the matrix came from)."""
        cells = [
            v if not is_unset(v) else None
            for v in self.parameterAsMatrix(parameters, "MATRIX", context)
        ]
        if any(v is not None for v in cells):
            try:
                typed = weighting.table_values(cells, MATRIX_COLUMNS)
                return weighting.square_matrix(typed), [], "MATRIX"
            except ValueError as error:
                raise QgsProcessingException(f"MATRIX: {error}") from None
        path = self.parameterAsFile(parameters, "MATRIX_FILE", context)
        if not path:
            raise QgsProcessingException(
                "MATRIX: no matrix given (type it in MATRIX or give a CSV in MATRIX_FILE)"
            )
        try:
            with open(path, encoding="utf-8-sig") as handle:
                values, names = weighting.read_matrix_csv(handle.read())
            return weighting.square_matrix(values), names, "MATRIX_FILE"
        except OSError as error:
            raise QgsProcessingException(f"MATRIX_FILE: cannot be read ({error})") from None
        except ValueError as error:
            raise QgsProcessingException(f"MATRIX_FILE: {error}") from None

    def add_ahp_method(self, name, description, help_text, advanced=False):
        return self.add_enum(name, description, list(AHP_METHOD_LABELS), 0, help_text, advanced)

    def add_lambda_rule(self, help_text):
        return self.add_enum(
            "LAMBDA_MAX_RULE",
            "λmax",
            ["Principal eigenvalue of A (Saaty 1980)", "Mean of (A·w)ᵢ / wᵢ"],
            0,
            help_text,
            advanced=True,
        )

    def add_ri_table(self, tables, help_text, advanced=False):
        return self.add_enum(
            "RI_TABLE",
            "Random index table",
            [weighting.RANDOM_INDEX_LABELS[key] for key in tables],
            0,
            help_text,
            advanced,
        )

    def add_ri_values(self, help_text):
        return self.add(
            QgsProcessingParameterString(
                "RI_VALUES",
                self.tr("Custom RI values for n = 1, 2, … (comma-separated)"),
                "",
                optional=True,
            ),
            help_text,
            advanced=True,
        )

    def random_index_table(self, parameters, context, tables=weighting.RI_TABLES):
        """(RI_TABLE key, the RI_VALUES numbers for the custom table, else ())."""
        table = tables[self.parameterAsEnum(parameters, "RI_TABLE", context)]
        if table != "custom":
            return table, ()
        try:
            return table, weighting.parse_numbers(
                self.text(parameters, "RI_VALUES", context), "RI value"
            )
        except ValueError as error:
            raise QgsProcessingException(f"RI_VALUES: {error}") from None

    def ahp(self, matrix, table, custom, **options) -> weighting.AhpResult:
        """``ahp_weights`` with a random-index error naming RI_VALUES or RI_TABLE."""
        try:
            return weighting.ahp_weights(matrix, ri_table=table, custom_ri=custom, **options)
        except ValueError as error:
            parameter = "RI_VALUES" if table == "custom" else "RI_TABLE"
            raise QgsProcessingException(f"{parameter}: {error}") from None

    def add_cr_threshold(self, help_text):
        return self.add_number(
            "CR_THRESHOLD",
            "Largest acceptable consistency ratio",
            0.1,
            help_text,
            minimum=0,
            advanced=True,
        )

    def add_accept_inconsistent(self, description, help_text, advanced=False):
        return self.add(
            QgsProcessingParameterBoolean("ACCEPT_INCONSISTENT", self.tr(description), False),
            help_text,
            advanced=advanced,
        )

    def accept_inconsistent(self, parameters, context, feedback, message):
        """An inconsistency: an error, or with ACCEPT_INCONSISTENT checked a warning."""
        if not self.parameterAsBool(parameters, "ACCEPT_INCONSISTENT", context):
            raise QgsProcessingException(message)
        feedback.pushWarning(message + " Accepted as requested.")

    def add_tolerance(self):
        return self.add_number(
            "TOLERANCE",
            "Reciprocity tolerance",
            0.05,
            "Largest accepted |aᵢⱼ·aⱼᵢ − 1| (0.05 admits reciprocals typed with two decimals).",
            minimum=0,
            maximum=0.5,
            advanced=True,
        )

    # --- classes ----------------------------------------------------------------------------
    def add_breaks(self, description, help_text, advanced=False):
        """BREAKS, by default the resilience study's Table 3."""
        return self.add(
            QgsProcessingParameterString(
                "BREAKS",
                self.tr(description),
                ",".join(f"{b:g}" for b in classes.TABLE3_BREAKS),
            ),
            help_text,
            advanced=advanced,
        )

    def class_breaks(self, parameters, context) -> tuple[float, ...]:
        try:
            return classes.check_breaks(
                weighting.parse_numbers(self.text(parameters, "BREAKS", context), "break")
            )
        except ValueError as error:
            raise QgsProcessingException(f"BREAKS: {error}") from None

    def add_class_labels(self, help_text):
        """LABELS, by default the study's five resilience levels."""
        return self.add(
            QgsProcessingParameterString(
                "LABELS",
                self.tr("Class labels (comma-separated, lowest class first)"),
                ",".join(classes.RESILIENCE_LABELS),
                optional=True,
            ),
            help_text,
        )

    def class_labels(self, parameters, context, count, feedback) -> list[str]:
        """``count`` labels from LABELS; when LABELS is blank or the default and the count
        differs, generic labels (with a warning for the default); otherwise a mismatch is an
        error."""
        text = self.text(parameters, "LABELS", context)
        default = classes.RESILIENCE_LABELS
        labels = [t.strip() for t in text.split(",")] if text else []
        if len(labels) == count:
            return labels
        if not text or tuple(labels) == default:
            if text:
                feedback.pushWarning(
                    f"LABELS: the default labels are for {len(default)} classes; {count} "
                    "classes are labelled 'class 1' …"
                )
            return [f"class {c}" for c in range(1, count + 1)]
        raise QgsProcessingException(f"LABELS: {len(labels)} label(s) given for {count} classes")

    # --- the comprehensive index (Eq. 18–20) -------------------------------------------------
    def write_index(
        self,
        parameters,
        context,
        feedback,
        sources,
        *,
        names,
        trends,
        codes,
        weight_source,
        given=None,
        subjective=None,
        published_objective=None,
        method=None,
        rule="mean",
        alpha=0.5,
        ranges=None,
        preset="none",
    ) -> IndexResult:
        """P = Σⱼ Wⱼ·Tⱼ over ``sources`` into OUTPUT and the weights table (Table 2's form) into
        OUTPUT_WEIGHTS. ``ranges`` are (minima, maxima, clip) with None for "from the data";
        without them MINIMA, MAXIMA and CLIP are read. ``published_objective`` fills the
        objective column when no objective weights are computed (given weights)."""
        monitor = self.monitor(feedback)
        if ranges is None:
            stats, clip, grid, write_monitor = self.indicator_ranges(
                parameters, context, sources, trends, names, method, monitor
            )
        else:
            stats, clip, grid, write_monitor = self.statistics_pass(
                sources, trends, names, *ranges, method, monitor
            )
        objective = stats.objective.weights if stats.objective is not None else None
        used = self.resolve_weights(
            weight_source,
            given=given,
            subjective=subjective,
            objective=objective,
            rule=rule,
            alpha=alpha,
        )
        description = weighting.weighting_text(weight_source, method, rule, alpha)
        if objective is None and published_objective is not None:
            objective = np.asarray(published_objective, dtype=np.float64)
        k = len(sources)
        feedback.pushInfo(f"Weights ({description}):")
        for j in range(k):
            feedback.pushInfo(
                f"  {names[j]} ({weighting.trend_symbol(trends[j])}): W = {used[j]:.6f}, range "
                f"[{stats.minima[j]:.6g}, {stats.maxima[j]:.6g}]"
            )
        summary = engine.RunningSummary()
        minima, maxima = stats.minima, stats.maxima

        def kernel(*blocks):
            index = composite_index([b[0] for b in blocks], used, minima, maxima, trends, clip=clip)
            summary.update(index)
            return index

        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            metadata={
                "INDICATORS": ",".join(names),
                "TRENDS": ",".join(weighting.trend_symbol(t) for t in trends),
                "WEIGHTS": format_weights(used),
                "WEIGHTING": description,
                "MINIMA": format_weights(minima),
                "MAXIMA": format_weights(maxima),
                "CLIP": clip,
                "PRESET": preset,
            },
        )
        self.run_blocks(kernel, sources, [target], grid=grid, monitor=write_monitor)
        if summary.count:
            feedback.pushInfo(
                f"P over {summary.count} valid pixels: mean {summary.mean:.4f}, min "
                f"{summary.minimum:.4f}, max {summary.maximum:.4f}"
            )

        def value(array, j):
            return None if array is None else float(array[j])

        destination = self.write_table(
            parameters,
            "OUTPUT_WEIGHTS",
            context,
            [
                *INDICATOR_COLUMNS,
                ("minimum", float),
                ("maximum", float),
                ("objective", float),
                ("subjective", float),
                ("combined", float),
            ],
            [
                (
                    codes[j],
                    names[j],
                    weighting.trend_symbol(trends[j]),
                    minima[j],
                    maxima[j],
                    value(objective, j),
                    value(subjective, j),
                    float(used[j]),
                )
                for j in range(k)
            ],
        )
        outputs = {
            **self.outputs({"OUTPUT": target}),
            "OUTPUT_WEIGHTS": destination,
            "WEIGHTS": format_weights(used),
            "MEAN": summary.mean if summary.count else None,
        }
        return IndexResult(outputs, used, summary)

"""Normalisation (the resilience study's Eq. 18–19) and the comprehensive index P (Eq. 20) with
given, combined or objective weights, and the study's Table 2 as a preset."""

from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterString,
)

from .. import engine
from ..core import evaluation_weights as weighting
from ..core.evaluation_index import check_range, composite_index, normalise
from .base import MineEcoAlgorithm
from .evaluation_support import (
    format_weights,
    indicator_ranges,
    parameter_text,
    trends_for,
    weights_for,
)
from .evaluation_weights import add_indicator_parameters, add_range_parameters, indicator_names

PRESETS = ("none", "lingbei_2000_2020")
WEIGHT_SOURCES = ("given", "combined", "objective")


class Normalize(MineEcoAlgorithm):
    algorithm_id = "normalize"
    display_name = "Normalise indicator (min–max, positive/negative)"
    group_key = "evaluation"
    summary = (
        "Min–max normalisation of an indicator raster to 0–1, for a positive indicator "
        "(Eq. 18) or a negative one (Eq. 19, reversed so that 1 is always the better state). "
        "The minimum and maximum are the raster's own over its valid pixels, fixed values, or "
        "taken jointly over several rasters (JOINT, e.g. the same indicator in every year) so "
        "that normalised values of different dates are comparable. The values used are "
        "returned as MIN and MAX."
    )
    formula = (
        "positive (Eq. 18): x′ = (x − min)/(max − min)\n"
        "negative (Eq. 19): x′ = 1 − (x − min)/(max − min)\n"
        "x′ clipped to [0, 1] when CLIP is checked (matters only for fixed ranges).\n"
        "Computed in double precision: values up to the float32 limit (±3.4·10³⁸) do not "
        "overflow."
    )
    nodata_rule = (
        "NoData stays NoData; min/max ignore NoData. A raster whose valid pixels are all equal "
        "(max = min) is an error, not a raster of NaN."
    )
    references = ("The resilience study, Eq. 18–19 and its ref. [44].",)

    def initAlgorithm(self, config=None):
        self.add_raster("INPUT", "Indicator", "Single-band indicator raster (see BAND).")
        self.add_number(
            "BAND",
            "Band",
            1,
            "Band of INPUT to normalise.",
            minimum=1,
            integer=True,
            advanced=True,
        )
        self.add_enum(
            "TREND",
            "Trend",
            ["Positive (higher is better, Eq. 18)", "Negative (higher is worse, Eq. 19)"],
            0,
            "Negative indicators are reversed so that 1 is always the better state.",
        )
        self.add_number(
            "MIN",
            "Fixed minimum (blank: from the data)",
            None,
            "Blank: the minimum of the valid pixels of INPUT (and JOINT).",
            optional=True,
        )
        self.add_number(
            "MAX",
            "Fixed maximum (blank: from the data)",
            None,
            "Blank: the maximum of the valid pixels of INPUT (and JOINT).",
            optional=True,
        )
        self.add_rasters(
            "JOINT",
            "Other rasters sharing the range (optional)",
            "The blank MIN/MAX are taken over INPUT and all these rasters together (each on "
            "its own grid, band BAND), e.g. the same indicator of every study year.",
            optional=True,
        )
        self.add(
            QgsProcessingParameterBoolean("CLIP", self.tr("Clip to [0, 1]"), True),
            "Values outside a fixed range become 0 or 1.",
        )
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "Normalised indicator", "0–1, float32.")
        self.addOutput(QgsProcessingOutputNumber("MIN", self.tr("Minimum used")))
        self.addOutput(QgsProcessingOutputNumber("MAX", self.tr("Maximum used")))

    def process(self, parameters, context, feedback):
        band = self.parameterAsInt(parameters, "BAND", context)
        source = self.raster_source(parameters, "INPUT", context, bands=(band,))
        trend = 1 if self.parameterAsEnum(parameters, "TREND", context) == 0 else -1
        given = {
            name: self.parameterAsDouble(parameters, name, context)
            if parameters.get(name) not in (None, "")
            else None
            for name in ("MIN", "MAX")
        }
        monitor = self.monitor(feedback)
        if None in given.values():
            joint = self.raster_sources(parameters, "JOINT", context, bands=(band,))
            everything = [source, *joint]
            summary = engine.RunningSummary()
            for index, each in enumerate(everything):
                part = monitor.span(
                    0.5 * index / len(everything), 0.5 * (index + 1) / len(everything)
                )
                summary = summary.merge(
                    engine.band_summary(each, memory_mb=self.memory_mb(), monitor=part)
                )
            if summary.count == 0:
                raise QgsProcessingException("INPUT: no valid pixels to take a range from")
            if given["MIN"] is None:
                given["MIN"] = summary.minimum
            if given["MAX"] is None:
                given["MAX"] = summary.maximum
            feedback.pushInfo(
                f"Range over {summary.count} valid pixels of {len(everything)} raster(s)"
            )
            monitor = monitor.span(0.5, 1.0)
        low, high = given["MIN"], given["MAX"]
        # The message names the parameters the range came from.
        chosen = [name for name in ("MIN", "MAX") if parameters.get(name) not in (None, "")]
        if len(chosen) == 2:
            what = "MIN/MAX"
        elif chosen:
            other = "maximum" if chosen[0] == "MIN" else "minimum"
            what = f"{chosen[0]} with the {other} of the data"
        else:
            what = "INPUT"
        try:
            check_range(low, high, what)
        except ValueError as error:
            raise QgsProcessingException(str(error)) from None
        clip = self.parameterAsBool(parameters, "CLIP", context)
        feedback.pushInfo(f"min = {low:.6g}, max = {high:.6g}, trend {'+' if trend > 0 else '-'}")
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            metadata={"MIN": low, "MAX": high, "TREND": "+" if trend > 0 else "-", "CLIP": clip},
        )
        engine.run_blocks(
            lambda values: normalise(values[0], low, high, trend, clip=clip),
            [source],
            [target],
            memory_mb=self.memory_mb(),
            monitor=monitor,
        )
        return {**self.outputs({"OUTPUT": target}), "MIN": low, "MAX": high}


class CompositeIndex(MineEcoAlgorithm):
    algorithm_id = "composite_index"
    display_name = "Composite index (weighted sum of normalised indicators)"
    group_key = "evaluation"
    summary = (
        "The comprehensive index P of the resilience study (its ecological resilience, Eq. 20): "
        "each indicator is normalised (Eq. 18–19, min/max over the pixels valid in every "
        "indicator, or fixed) and the weighted sum is taken. Weights are given (WEIGHTS), or "
        "combine subjective weights (e.g. from 'AHP weights') with objective weights computed "
        "from the layers (mean square error Eq. 16, entropy or CRITIC) by Eq. 17 or another "
        "rule, or are objective only. The preset 'Lingbei 2000–2020 (Table 2)' supplies the "
        "study's 17 indicator names, trends and weights (objective, subjective, combined); "
        "give the 17 layers in Table 2's order (C1 desertification … C17 CO2 emissions). "
        "The preset's trends are Table 2's except C1: the desertification index DDI grows "
        "with vegetation, so it enters with + (desertification lowers resilience), not the "
        "printed − (type the trends in TRENDS to use the printed sign). C11, printed 'TCI', "
        "is the tasseled-cap brightness (§3.1.3, Eq. 9–10). OUTPUT_WEIGHTS is a table like "
        "Table 2."
    )
    formula = (
        "Tⱼ = (xⱼ − minⱼ)/(maxⱼ − minⱼ) (positive), 1 − that (negative) (Eq. 18–19)\n"
        "P = Σⱼ Wⱼ·Tⱼ (Eq. 20), with Σ W = 1 (weights are divided by their sum; a warning "
        "says so when they did not sum to 1 within 0.1 %).\n"
        "Combined weights: W = (wa + wb)/2 (Eq. 17, default), α·wa + (1 − α)·wb, or "
        "wa·wb/Σ(wa·wb); wa subjective, wb objective."
    )
    nodata_rule = (
        "P is NoData wherever any indicator is NoData; min/max and objective weights use "
        "exactly the pixels where P exists (valid in every indicator). Layers are resampled "
        "onto the first layer's grid (bilinear)."
    )
    references = (
        "The resilience study, Eq. 16–20 and Table 2 (preset; for C16 the printed "
        "combined weight 0.0391 differs from Eq. 17's 0.0395 and is kept as printed).",
        "Diakoulaki, D. et al. (1995) CRITIC, Comput. Oper. Res. 22(7), 763–770; Shannon "
        "(1948) entropy.",
    )

    def initAlgorithm(self, config=None):
        add_indicator_parameters(self)
        self.add_enum(
            "PRESET",
            "Preset indicator system",
            ["None", weighting.PRESET_FILES["lingbei_2000_2020"][0]],
            0,
            "Fills NAMES, TRENDS, WEIGHTS (combined) and SUBJECTIVE_WEIGHTS that are left "
            "blank from the study's Table 2; INPUTS must then hold its 17 layers in order.",
        )
        self.add_enum(
            "WEIGHT_SOURCE",
            "Weights",
            [
                "Given: WEIGHTS (or the preset's combined weights)",
                "Combined: SUBJECTIVE_WEIGHTS (or the preset's) with objective weights from "
                "the layers",
                "Objective weights from the layers only",
            ],
            0,
            "Given weights are used as typed (rescaled to sum 1); 'Combined' is the resilience "
            "study's method (AHP subjective + mean-square-error objective, Eq. 17).",
        )
        self.add(
            QgsProcessingParameterString(
                "WEIGHTS", self.tr("Weights (comma-separated, one per layer)"), "", optional=True
            ),
            "Used with WEIGHT_SOURCE 'Given'.",
        )
        self.add(
            QgsProcessingParameterString(
                "SUBJECTIVE_WEIGHTS",
                self.tr("Subjective weights (comma-separated, e.g. from AHP)"),
                "",
                optional=True,
            ),
            "Used with WEIGHT_SOURCE 'Combined' (the WEIGHTS output of 'AHP weights' fits).",
        )
        self.add_enum(
            "OBJECTIVE_METHOD",
            "Objective method",
            [weighting.OBJECTIVE_LABELS[m] for m in weighting.OBJECTIVE_METHODS],
            0,
            "Mean square error is the resilience study's Eq. 16.",
        )
        self.add_enum(
            "COMBINATION",
            "Combination rule",
            [weighting.COMBINATION_LABELS[c] for c in weighting.COMBINATIONS],
            0,
            "Eq. 17 (the mean) is the resilience study's rule.",
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
        add_range_parameters(self)
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "Composite index P", "0–1 (with Σ W = 1), float32.")
        self.add_output_table(
            "OUTPUT_WEIGHTS",
            "Indicator weights",
            "Like the resilience study's Table 2: indicator, trend, range, objective, subjective "
            "and combined (used) weight.",
            optional=True,
        )
        self.addOutput(QgsProcessingOutputString("WEIGHTS", self.tr("Weights used")))
        self.addOutput(QgsProcessingOutputNumber("MEAN", self.tr("Mean of P")))
        self.addOutput(QgsProcessingOutputNumber("PIXELS", self.tr("Valid pixels")))

    def process(self, parameters, context, feedback):
        sources = self.raster_sources(parameters, "INPUTS", context)
        k = len(sources)
        if k < 1:
            raise QgsProcessingException("INPUTS: no indicator layer given")
        preset = PRESETS[self.parameterAsEnum(parameters, "PRESET", context)]
        table = weighting.load_preset(preset) if preset != "none" else None
        if table is not None and len(table.names) != k:
            listing = ", ".join(f"{c} {n}" for c, n in zip(table.codes, table.names, strict=True))
            raise QgsProcessingException(
                f"INPUTS: the preset '{table.label}' needs {len(table.names)} layers in this "
                f"order ({listing}); {k} given"
            )
        names = indicator_names(self, parameters, context, k, table.names if table else None)
        trends_text = parameter_text(self, parameters, "TRENDS", context)
        if trends_text:
            trends = trends_for(trends_text, "TRENDS", k)
        elif table is not None:
            trends = list(table.trends)
        else:
            raise QgsProcessingException("TRENDS: give one '+' or '-' per indicator layer")
        source_kind = WEIGHT_SOURCES[self.parameterAsEnum(parameters, "WEIGHT_SOURCE", context)]
        method = None
        subjective = objective_published = None
        if source_kind != "given":
            method = weighting.OBJECTIVE_METHODS[
                self.parameterAsEnum(parameters, "OBJECTIVE_METHOD", context)
            ]
        if source_kind == "combined":
            text = parameter_text(self, parameters, "SUBJECTIVE_WEIGHTS", context)
            if text:
                subjective = weights_for(text, "SUBJECTIVE_WEIGHTS", k, feedback)
            elif table is not None:
                subjective = weights_for(table.subjective, "SUBJECTIVE_WEIGHTS", k, feedback)
            else:
                raise QgsProcessingException(
                    "SUBJECTIVE_WEIGHTS: needed to combine with objective weights (e.g. the "
                    "WEIGHTS output of 'AHP weights')"
                )
        given = None
        if source_kind == "given":
            text = parameter_text(self, parameters, "WEIGHTS", context)
            if text:
                given = weights_for(text, "WEIGHTS", k, feedback)
            elif table is not None:
                given = weights_for(table.combined, "WEIGHTS", k, feedback)
                subjective = np.asarray(table.subjective)
                objective_published = np.asarray(table.objective)
                feedback.pushInfo(f"Weights: combined weights of {table.label}")
            else:
                raise QgsProcessingException(
                    "WEIGHTS: no weights given (type them, choose a preset, or set "
                    "WEIGHT_SOURCE to combined or objective weights)"
                )
        stats, clip, grid, write_monitor = indicator_ranges(
            self, parameters, context, sources, trends, names, method, self.monitor(feedback)
        )
        objective = stats.objective.weights if stats.objective is not None else None
        if source_kind == "combined":
            rule = weighting.COMBINATIONS[self.parameterAsEnum(parameters, "COMBINATION", context)]
            alpha = self.parameterAsDouble(parameters, "ALPHA", context)
            try:
                used = weighting.combine_weights(subjective, objective, rule, alpha)
            except ValueError as error:
                raise QgsProcessingException(f"COMBINATION: {error}") from None
            used, _ = weighting.normalised_weights(used)
            description = weighting.COMBINATION_LABELS[rule]
            if rule == "alpha":
                description += f" (α = {alpha:g})"
            description += f", objective {method}"
        elif source_kind == "objective":
            used = objective
            description = f"objective {method}"
        else:
            used = given
            description = "given"
        if objective is None:
            objective = objective_published
        feedback.pushInfo(f"Weights ({description}):")
        for j in range(k):
            feedback.pushInfo(
                f"  {names[j]} ({weighting.trend_symbol(trends[j])}): W = {used[j]:.6f}, range "
                f"[{stats.minima[j]:.6g}, {stats.maxima[j]:.6g}]"
            )
        summary = {"index": engine.RunningSummary()}
        minima_used, maxima_used = stats.minima, stats.maxima

        def kernel(*blocks):
            index = composite_index(
                [b[0] for b in blocks], used, minima_used, maxima_used, trends, clip=clip
            )
            summary["index"].update(index)
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
                "MINIMA": format_weights(minima_used),
                "MAXIMA": format_weights(maxima_used),
                "CLIP": clip,
                "PRESET": preset,
            },
        )
        engine.run_blocks(
            kernel, sources, [target], grid=grid, memory_mb=self.memory_mb(), monitor=write_monitor
        )
        result = summary["index"]
        if result.count:
            feedback.pushInfo(
                f"P over {result.count} valid pixels: mean {result.mean:.4f}, min "
                f"{result.minimum:.4f}, max {result.maximum:.4f}"
            )
        codes = table.codes if table is not None else tuple(str(j + 1) for j in range(k))

        def value(array, j):
            return None if array is None else float(array[j])

        destination = self.write_table(
            parameters,
            "OUTPUT_WEIGHTS",
            context,
            [
                ("code", str),
                ("indicator", str),
                ("trend", str),
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
                    minima_used[j],
                    maxima_used[j],
                    value(objective, j),
                    value(subjective, j),
                    float(used[j]),
                )
                for j in range(k)
            ],
        )
        return {
            **self.outputs({"OUTPUT": target}),
            "OUTPUT_WEIGHTS": destination,
            "WEIGHTS": format_weights(used),
            "MEAN": result.mean if result.count else None,
            "PIXELS": result.count,
        }

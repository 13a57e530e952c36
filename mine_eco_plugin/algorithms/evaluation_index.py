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
from ..core.evaluation_index import check_range, normalise
from .base import MineEcoAlgorithm
from .evaluation_support import EvaluationAlgorithm, weights_for

PRESETS = ("none", "lingbei_2000_2020")


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
        given = {name: self.optional_double(parameters, name, context) for name in ("MIN", "MAX")}
        monitor = self.monitor(feedback)
        if None in given.values():
            joint = self.raster_sources(parameters, "JOINT", context, bands=(band,))
            everything = [source, *joint]
            summary = engine.RunningSummary()
            for index, each in enumerate(everything):
                part = monitor.span(
                    0.5 * index / len(everything), 0.5 * (index + 1) / len(everything)
                )
                summary = summary.merge(self.band_summary(each, monitor=part))
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
        chosen = [name for name in ("MIN", "MAX") if self.given(parameters, name)]
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
        self.run_blocks(
            lambda values: normalise(values[0], low, high, trend, clip=clip),
            [source],
            [target],
            monitor=monitor,
        )
        return {**self.outputs({"OUTPUT": target}), "MIN": low, "MAX": high}


class CompositeIndex(EvaluationAlgorithm):
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
        self.add_indicator_parameters()
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
            "Used with WEIGHT_SOURCE 'Combined' (the WEIGHTS output of 'AHP weights' fits). "
            "With 'Given', the subjective weights behind WEIGHTS, if any: shown (rescaled to "
            "sum 1) in the subjective column of OUTPUT_WEIGHTS, not used for the index.",
        )
        self.add_objective_method()
        self.add_combination_parameters()
        self.add_range_parameters()
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
        names = self.indicator_names(parameters, context, k, table.names if table else None)
        trends = self.indicator_trends(
            parameters, context, k, default=table.trends if table is not None else None
        )
        source_kind = weighting.WEIGHT_SOURCES[
            self.parameterAsEnum(parameters, "WEIGHT_SOURCE", context)
        ]
        method = None
        given = subjective = objective_published = None
        if source_kind != "given":
            method = self.objective_method(parameters, context)
        # The subjective weights behind the index: combined with the objective ones, or (given
        # weights) shown beside them in OUTPUT_WEIGHTS.
        text = self.text(parameters, "SUBJECTIVE_WEIGHTS", context)
        if source_kind != "objective" and text:
            subjective = weights_for(text, "SUBJECTIVE_WEIGHTS", k, feedback)
        if source_kind == "combined" and subjective is None:
            if table is None:
                raise QgsProcessingException(
                    "SUBJECTIVE_WEIGHTS: needed to combine with objective weights (e.g. the "
                    "WEIGHTS output of 'AHP weights')"
                )
            subjective = weights_for(table.subjective, "SUBJECTIVE_WEIGHTS", k, feedback)
        if source_kind == "given":
            text = self.text(parameters, "WEIGHTS", context)
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
        rule, alpha = self.combination(parameters, context)
        result = self.write_index(
            parameters,
            context,
            feedback,
            sources,
            names=names,
            trends=trends,
            codes=table.codes if table is not None else tuple(str(j + 1) for j in range(k)),
            weight_source=source_kind,
            given=given,
            subjective=subjective,
            published_objective=objective_published,
            method=method,
            rule=rule,
            alpha=alpha,
            preset=preset,
        )
        return {**result.outputs, "PIXELS": result.summary.count}

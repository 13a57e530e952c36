"""The resilience study's resilience index from named indicator slots (Table 2), any of them
optional: the weights of the indicators given are renormalised and the omissions reported."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
)

from ..core import evaluation_weights as weighting
from .base import file_band_count
from .evaluation_hierarchy import missing_subjective, preset_subjective_weights
from .evaluation_support import EvaluationAlgorithm, format_weights, weights_for

#: Parameter id of each Table 2 indicator, in the table's order (C1 … C17).
SLOTS = (
    "DDI",
    "EROSION",
    "FVC",
    "VHI",
    "POPULATION",
    "HAI",
    "WETNESS",
    "DRYNESS",
    "LST",
    "ALBEDO",
    "TCI",
    "BAI",
    "ECO",
    "SHDI",
    "FN",
    "PM25",
    "CO2",
)
#: Slots that also take the 3-band 'Tasseled cap' output, and the band they use: C7 wetness
#: (band 3) and C11 brightness (band 1, Table 2's "TCI", the study's Eq. 9–10).
TASSELED_CAP_BAND = {"WETNESS": 3, "TCI": 1}


def slot_band(slot: str, layer) -> int:
    """The band an indicator slot reads from ``layer``: 1 of a single-band raster, the
    tasseled-cap band of a 3-band 'Tasseled cap' output in the slots that take one; any other
    band count is an error naming the slot."""
    count = file_band_count(layer)
    if slot in TASSELED_CAP_BAND and count == 3:
        return TASSELED_CAP_BAND[slot]
    if count != 1:
        raise QgsProcessingException(
            f"{slot}: '{layer.name()}' has {count} bands; one is expected"
            + (" (or the 3-band tasseled cap)" if slot in TASSELED_CAP_BAND else "")
        )
    return 1


class PresetHierarchy:
    """The HIERARCHY parameter of the algorithms that weigh Table 2's indicators: a two-level
    AHP file whose global weights replace Table 2's subjective weights in the study's
    weighting (subjective combined with mean-square-error weights, Eq. 17)."""

    def add_hierarchy(self):
        self.add(
            QgsProcessingParameterFile(
                "HIERARCHY",
                self.tr("Your AHP hierarchy for the subjective weights (text/CSV file)"),
                QgsProcessingParameterFile.Behavior.File,
                "csv",
                optional=True,
            ),
            "With the study's weighting (subjective combined with mean-square-error weights): "
            "a file for 'AHP weights (two-level hierarchy)' — criteria B1–B5, then each "
            "criterion's indicators named by their Table 2 codes (C1…C17) — whose global "
            "weights replace Table 2's subjective weights, checked for consistency. Blank: "
            "Table 2's subjective weights (resources/tables/ahp_hierarchy_table2_lingbei.csv "
            "gives them back and is a template for your own judgements).",
            advanced=True,
        )

    def hierarchy_preset(self, parameters, context, feedback, table, source, index):
        """``table`` with the subjective weights of HIERARCHY when given (``source`` must then
        be the combined weighting); ``index`` are the Table 2 positions used by this run."""
        if not self.parameterAsFile(parameters, "HIERARCHY", context):
            return table
        if source != "combined":
            raise QgsProcessingException(
                "HIERARCHY: your hierarchy gives the subjective weights of the study's "
                "weighting; choose WEIGHT_SOURCE 'Table 2 subjective (AHP) weights combined "
                "with mean-square-error weights' or leave HIERARCHY blank"
            )
        subjective = preset_subjective_weights(
            self, parameters, "HIERARCHY", context, feedback, table, SLOTS
        )
        missing_subjective("HIERARCHY", table, index, subjective)
        return dataclasses.replace(table, subjective=tuple(subjective))


def single_band(path: str, band: int, folder: Path) -> str:
    """A one-band VRT of ``band`` of ``path`` (e.g. wetness, band 3 of a tasseled cap)."""
    target = folder / f"{Path(path).stem}_band{band}.vrt"
    gdal.Translate(str(target), path, format="VRT", bandList=[band])
    return str(target)


class ResilienceIndex(PresetHierarchy, EvaluationAlgorithm):
    algorithm_id = "resilience_index"
    display_name = "Resilience index (Table 2 indicators)"
    group_key = "evaluation"
    summary = (
        "The resilience study's ecological resilience index from its 17 indicators, each in a "
        "named "
        "slot (C1 desertification index … C17 CO2 emissions), every slot optional. The Table 2 "
        "trends and weights of the indicators given are used and renormalised to sum 1; the "
        "indicators left out are listed in the log and in the OMITTED output, so a site without "
        "population, PM2.5 or CO2 layers still gets an index from what it has. Weighting: "
        "Table 2's combined weights, or the study's own method on your data (Table 2's "
        "subjective AHP weights combined by Eq. 17 with mean-square-error weights of your "
        "layers), or objective weights only. Computes the index as 'Composite index' does, with "
        "the same code, so normalisation, NoData and the weights table are that algorithm's; "
        "the weights table holds Table 2's objective, subjective and combined weights of the "
        "indicators given (renormalised), objective weights computed from the layers where "
        "the weighting computes them. C7 wetness "
        "and C11 tasseled-cap brightness may both be the 3-band 'Tasseled cap' output (band 3 "
        "is used for wetness, band 1 for brightness). C11, printed 'TCI' in Table 2, is the "
        "tasseled-cap brightness of the study's §3.1.3 (Eq. 9–10), not the temperature "
        "condition index of VHI.\n\n"
        "Direction of C1: DDI = k·N − A with k = −1/a (Eq. 1–2) is largest for dense "
        "vegetation and smallest for bright bare land, so desertified land has a low DDI. "
        "Table 2 prints C1 with trend −, which would make desertified pixels score as the "
        "most resilient on the second-heaviest indicator; the paper contradicts itself there. "
        "By default C1 enters with trend + (desertification lowers resilience); the printed "
        "sign is kept as an option (DDI_TREND) to reproduce the table as printed."
    )
    formula = (
        "P = Σⱼ Wⱼ·Tⱼ over the indicators given (Eq. 20); Tⱼ normalised by Eq. 18–19 with the "
        "Table 2 trend (C1: + by default, see DDI_TREND); Wⱼ = wⱼ / Σ wᵢ over the indicators "
        "given, wⱼ from the chosen weighting."
    )
    nodata_rule = (
        "As 'Composite index': P is NoData where any indicator given is NoData; an empty slot "
        "is an omitted indicator, not NoData."
    )
    references = ("The resilience study, Table 2 and Eq. 16–20.",)

    def initAlgorithm(self, config=None):
        table = weighting.load_preset("lingbei_2000_2020")
        for slot, code, name, trend in zip(
            SLOTS, table.codes, table.names, table.trends, strict=True
        ):
            sign = weighting.trend_symbol(trend)
            self.add_raster(
                slot,
                f"{code} {name} ({sign})",
                f"Indicator {code} of Table 2, trend {sign}; optional.",
                optional=True,
            )
        self.add_enum(
            "WEIGHT_SOURCE",
            "Weights",
            [
                "Table 2 combined weights",
                "Table 2 subjective (AHP) weights combined with "
                "mean-square-error weights of these layers (the study's method)",
                "Mean-square-error weights of these layers only",
            ],
            0,
            "The first two reproduce the study; the second recomputes its objective half.",
        )
        self.add_enum(
            "DDI_TREND",
            "Direction of C1 desertification index",
            [
                "+ : desertification lowers resilience (DDI grows with vegetation; default)",
                "− : as printed in Table 2",
            ],
            0,
            "DDI = k·N − A is high for vegetated and low for desertified land, so it enters "
            "with trend +. Table 2 prints −, which contradicts the index's meaning; choose it "
            "only to reproduce the table as printed.",
        )
        self.add_hierarchy()
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "Resilience index P", "0–1, float32.")
        self.add_output_table(
            "OUTPUT_WEIGHTS",
            "Indicator weights",
            "Table 2 form for the indicators given.",
            side=True,
        )
        self.addOutput(QgsProcessingOutputString("OMITTED", self.tr("Indicators left out")))
        self.addOutput(QgsProcessingOutputString("WEIGHTS", self.tr("Weights used")))
        self.addOutput(QgsProcessingOutputNumber("MEAN", self.tr("Mean of P")))
        # What the index was made of, in Table 2 order, for steps that redo it (e.g.
        # weight_sensitivity in the resilience study's model): layers, names, trends.
        self.addOutput(
            QgsProcessingOutputMultipleLayers("INDICATORS", self.tr("Indicator layers used"))
        )
        self.addOutput(QgsProcessingOutputString("NAMES", self.tr("Indicators used")))
        self.addOutput(QgsProcessingOutputString("TRENDS", self.tr("Trends of the indicators")))

    def process(self, parameters, context, feedback):
        table = weighting.load_preset("lingbei_2000_2020")
        given, omitted = [], []
        folder = None
        for j, slot in enumerate(SLOTS):
            layer = self.parameterAsRasterLayer(parameters, slot, context)
            if layer is None:
                omitted.append(f"{table.codes[j]} {table.names[j]}")
                continue
            band = slot_band(slot, layer)
            source = self.raster_source(parameters, slot, context, bands=(band,))
            path = layer.source()
            if file_band_count(layer) != 1:
                # Steps that redo the index (INDICATORS) read band 1: give them that band.
                folder = folder or Path(tempfile.mkdtemp(prefix="mineeco-resilience-"))
                path = single_band(path, band, folder)
            given.append((j, path, source))
        if len(given) < 2:
            raise QgsProcessingException(
                f"{SLOTS[0]}…{SLOTS[-1]}: at least two indicators are needed; {len(given)} given"
            )
        if omitted:
            feedback.pushWarning(
                f"Left out ({len(omitted)}): {', '.join(omitted)}; the weights of the "
                f"{len(given)} indicators given are renormalised to sum 1."
            )
        index = [j for j, _, _ in given]
        k = len(index)
        trends = list(table.trends)
        if self.parameterAsEnum(parameters, "DDI_TREND", context) == 1:
            trends[0] = table.printed_trends[0]
            feedback.pushInfo("C1 desertification index with the trend printed in Table 2 (−).")
        source = weighting.WEIGHT_SOURCES[
            self.parameterAsEnum(parameters, "WEIGHT_SOURCE", context)
        ]
        table = self.hierarchy_preset(parameters, context, feedback, table, source, index)

        def renormalised(column, name):
            # Table 2's weights of the indicators given, rescaled to sum 1 and written with ten
            # digits, exactly as a model passes them on as text.
            values = np.asarray(column)[index]
            return weights_for(format_weights(values / values.sum()), name, k, feedback)

        used = {
            "INDICATORS": [path for _, path, _ in given],
            "NAMES": ",".join(f"{table.codes[j]} {table.names[j]}" for j in index),
            "TRENDS": ",".join(weighting.trend_symbol(trends[j]) for j in index),
        }
        parameters = dict(parameters)
        parameters.setdefault("OUTPUT_WEIGHTS", QgsProcessing.TEMPORARY_OUTPUT)
        try:
            result = self.write_index(
                parameters,
                context,
                feedback,
                [source for _, _, source in given],
                names=used["NAMES"].split(","),
                trends=[trends[j] for j in index],
                codes=tuple(str(i + 1) for i in range(k)),
                weight_source=source,
                given=renormalised(table.combined, "WEIGHTS") if source == "given" else None,
                subjective=(
                    renormalised(table.subjective, "SUBJECTIVE_WEIGHTS")
                    if source != "objective"
                    else None
                ),
                published_objective=(
                    renormalised(table.objective, "OBJECTIVE") if source == "given" else None
                ),
                method=None if source == "given" else "mse",
                ranges=([None] * k, [None] * k, True),
            )
        except QgsProcessingException as error:
            # The shared statistics name the indicators as INPUTS (layer k): name the slot.
            slots = [SLOTS[j] for j in index]
            message = re.sub(
                r"INPUTS \(layer (\d+)[^)]*\)",
                lambda match: slots[int(match.group(1)) - 1],
                str(error),
            )
            raise QgsProcessingException(message) from None
        outputs = result.outputs
        return {
            "OUTPUT": outputs.get("OUTPUT"),
            "OUTPUT_WEIGHTS": outputs["OUTPUT_WEIGHTS"],
            "OMITTED": "; ".join(omitted),
            "WEIGHTS": outputs["WEIGHTS"],
            "MEAN": outputs["MEAN"],
            **used,
        }

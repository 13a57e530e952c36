"""The resilience study's resilience index from named indicator slots (Table 2), any of them
optional: the weights of the indicators given are renormalised and the omissions reported."""

from __future__ import annotations

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
)

from ..core import evaluation_weights as weighting
from .base import MineEcoAlgorithm, file_band_count

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
WEIGHTINGS = ("given", "combined", "objective")
#: Slots that also take the 3-band 'Tasseled cap' output, and the band they use: C7 wetness
#: (band 3) and C11 brightness (band 1, Table 2's "TCI", the study's Eq. 9–10).
TASSELED_CAP_BAND = {"WETNESS": 3, "TCI": 1}


def single_band(path: str, band: int, folder: Path) -> str:
    """A one-band VRT of ``band`` of ``path`` (e.g. wetness, band 3 of a tasseled cap)."""
    target = folder / f"{Path(path).stem}_band{band}.vrt"
    gdal.Translate(str(target), path, format="VRT", bandList=[band])
    return str(target)


class ResilienceIndex(MineEcoAlgorithm):
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
        "layers), or objective weights only. Runs 'Composite index' on the layers given, so "
        "normalisation, NoData and the weights table are exactly that algorithm's. C7 wetness "
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
        import processing

        table = weighting.load_preset("lingbei_2000_2020")
        given, omitted = [], []
        folder = Path(tempfile.mkdtemp(prefix="mineeco-resilience-"))
        for j, slot in enumerate(SLOTS):
            layer = self.parameterAsRasterLayer(parameters, slot, context)
            if layer is None:
                omitted.append(f"{table.codes[j]} {table.names[j]}")
                continue
            path = layer.source()
            if slot in TASSELED_CAP_BAND and file_band_count(layer) == 3:
                path = single_band(path, TASSELED_CAP_BAND[slot], folder)
            elif file_band_count(layer) != 1:
                raise QgsProcessingException(
                    f"{slot}: '{layer.name()}' has {file_band_count(layer)} bands; one is expected"
                    + (" (or the 3-band tasseled cap)" if slot in TASSELED_CAP_BAND else "")
                )
            given.append((j, path))
        if len(given) < 2:
            raise QgsProcessingException(
                f"{SLOTS[0]}…{SLOTS[-1]}: at least two indicators are needed; {len(given)} given"
            )
        if omitted:
            feedback.pushWarning(
                f"Left out ({len(omitted)}): {', '.join(omitted)}; the weights of the "
                f"{len(given)} indicators given are renormalised to sum 1."
            )
        index = [j for j, _ in given]
        trends = list(table.trends)
        if self.parameterAsEnum(parameters, "DDI_TREND", context) == 1:
            trends[0] = table.printed_trends[0]
            feedback.pushInfo("C1 desertification index with the trend printed in Table 2 (−).")
        source = WEIGHTINGS[self.parameterAsEnum(parameters, "WEIGHT_SOURCE", context)]
        weights = np.asarray(table.combined)[index]
        subjective = np.asarray(table.subjective)[index]
        used = {
            "INDICATORS": [path for _, path in given],
            "NAMES": ",".join(f"{table.codes[j]} {table.names[j]}" for j in index),
            "TRENDS": ",".join(weighting.trend_symbol(trends[j]) for j in index),
        }
        child = {
            "INPUTS": used["INDICATORS"],
            "NAMES": used["NAMES"],
            "TRENDS": used["TRENDS"],
            "WEIGHT_SOURCE": WEIGHTINGS.index(source),
            "WEIGHTS": ",".join(f"{w:.10g}" for w in weights / weights.sum()),
            "SUBJECTIVE_WEIGHTS": ",".join(f"{w:.10g}" for w in subjective / subjective.sum()),
            "OUTPUT_NODATA_VALUE": self.parameterAsDouble(
                parameters, "OUTPUT_NODATA_VALUE", context
            ),
            "OUTPUT": self.destination(parameters, "OUTPUT", context),
            "OUTPUT_WEIGHTS": parameters.get("OUTPUT_WEIGHTS", QgsProcessing.TEMPORARY_OUTPUT),
        }
        try:
            results = processing.run(
                "mineeco:composite_index",
                child,
                context=context,
                feedback=feedback,
                is_child_algorithm=True,
            )
        except QgsProcessingException as error:
            # The child names its own INPUTS (layer k): name this algorithm's slot instead.
            slots = [SLOTS[j] for j, _ in given]
            message = re.sub(
                r"INPUTS \(layer (\d+)[^)]*\)",
                lambda match: slots[int(match.group(1)) - 1],
                str(error),
            )
            raise QgsProcessingException(message) from None
        return {
            "OUTPUT": results["OUTPUT"],
            "OUTPUT_WEIGHTS": results["OUTPUT_WEIGHTS"],
            "OMITTED": "; ".join(omitted),
            "WEIGHTS": results.get("WEIGHTS", ""),
            "MEAN": results.get("MEAN"),
            **used,
        }

"""ESTARFM over a time series: one fused fine image per coarse date, pairs chosen per date."""

from __future__ import annotations

import os

from qgis.core import (
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
)

from ..core.pairs import bracketing_pairs
from .base import MineEcoAlgorithm
from .composite import layer_dates
from .estarfm import add_coarse_resampling, add_shared_number


class EstarfmSeries(MineEcoAlgorithm):
    algorithm_id = "estarfm_series"
    display_name = "ESTARFM fusion over a time series"
    group_key = "productivity"
    summary = (
        "Runs 'ESTARFM fusion' for every date of a coarse series (e.g. MODIS 16-day NDVI), as "
        "the NPP-drivers study does to build a 30 m, 16-day NDVI series: for each date the two "
        "base pairs (fine and coarse images of the same day, e.g. Landsat and MODIS) are the "
        "latest on or before it and the earliest on or after it; a date outside the base "
        "pairs' span takes the two nearest, with a warning (an extrapolation). Each prediction "
        "is written as fused_<date>.tif in the output folder, so 'Monthly composite of a dated "
        "series' reads its date from the name and builds CASA's monthly NDVI."
    )
    formula = "For each coarse date t_p: F(t_p) = ESTARFM(F(t_m), C(t_m), F(t_n), C(t_n), C(t_p))."
    nodata_rule = "As 'ESTARFM fusion', for each date."
    references = (
        "Zhu, X., Chen, J., Gao, F., Chen, X. & Masek, J.G. (2010) An enhanced spatial and "
        "temporal adaptive reflectance fusion model for complex heterogeneous regions. Remote "
        "Sens. Environ. 114, 2610–2623.",
        "The NPP-drivers study: §2.2.1 (16-day 30 m NDVI, 2010–2015).",
    )

    def initAlgorithm(self, config=None):
        self.add_rasters(
            "FINE",
            "Fine images of the base pairs (e.g. Landsat)",
            "At least two; the first one's grid is the output grid. Same bands as every other "
            "input.",
        )
        self.add_rasters(
            "COARSE",
            "Coarse images of the base pairs (same dates, same order)",
            "The coarse image (e.g. MODIS) taken on the day of each fine image.",
        )
        self.add(
            QgsProcessingParameterString(
                "BASE_DATES",
                self.tr("Dates of the base pairs (YYYY-MM-DD, comma-separated)"),
                "",
                optional=True,
            ),
            "One per pair, in order. Blank: read from the fine images' names.",
        )
        self.add_rasters(
            "SERIES",
            "Coarse series to predict (one layer per date)",
            "The coarse images of the prediction dates.",
        )
        self.add(
            QgsProcessingParameterString(
                "SERIES_DATES",
                self.tr("Dates of the series (YYYY-MM-DD, comma-separated)"),
                "",
                optional=True,
            ),
            "One per series layer, in order. Blank: read from the layer names (2013-05-17, "
            "20130517 or A2013137).",
        )
        add_shared_number(
            self, "WINDOW", "As in 'ESTARFM fusion' (25: 51×51, the paper's setting)."
        )
        add_shared_number(self, "CLASSES", "As in 'ESTARFM fusion' (4 in the paper).")
        add_shared_number(self, "VALID_MIN", "As in 'ESTARFM fusion'; −1 for NDVI.")
        add_shared_number(self, "VALID_MAX", "As in 'ESTARFM fusion'; 1 for NDVI.")
        add_coarse_resampling(self, "As in 'ESTARFM fusion'.")
        self.add_run_switch()
        self.add(
            QgsProcessingParameterFolderDestination(
                "OUTPUT_FOLDER", self.tr("Folder of the fused series")
            ),
            "fused_<YYYY-MM-DD>.tif per date.",
        )
        self.add_output_table(
            "OUTPUT_PAIRS",
            "Pairs used per date",
            "date, base_date_1, base_date_2, inside (false: extrapolated), file.",
            optional=True,
        )
        self.addOutput(QgsProcessingOutputMultipleLayers("LAYERS", self.tr("Fused series")))

    def folder_files(self, name, folder, parameters, context) -> list[str]:
        _, dates = layer_dates(self, parameters, context, "SERIES", "SERIES_DATES")
        return [os.path.join(folder, f"fused_{date.isoformat()}.tif") for date in dates]

    def process(self, parameters, context, feedback):
        import processing

        fine, base_dates = layer_dates(self, parameters, context, "FINE", "BASE_DATES")
        coarse = self.parameterAsLayerList(parameters, "COARSE", context)
        if len(coarse) != len(fine):
            raise QgsProcessingException(
                f"COARSE: {len(coarse)} layer(s) for {len(fine)} fine images; one per pair"
            )
        series, series_dates = layer_dates(self, parameters, context, "SERIES", "SERIES_DATES")
        if not series:
            raise QgsProcessingException("SERIES: at least one coarse image to predict")
        if len(set(series_dates)) != len(series_dates):
            raise QgsProcessingException("SERIES: two layers share a date")
        folder = self.destination(parameters, "OUTPUT_FOLDER", context)
        os.makedirs(folder, exist_ok=True)
        plan = []
        for layer, date in sorted(zip(series, series_dates, strict=True), key=lambda p: p[1]):
            try:
                first, second, inside = bracketing_pairs(base_dates, date)
            except ValueError as error:
                raise QgsProcessingException(f"FINE: {error}") from None
            if not inside:
                feedback.pushWarning(
                    f"{date}: outside the base pairs' dates; predicted from the two nearest "
                    f"({base_dates[first]}, {base_dates[second]})"
                )
            plan.append((layer, date, first, second, inside))
        steps = QgsProcessingMultiStepFeedback(len(plan), feedback)
        shared = {
            name: self.parameterAsDouble(parameters, name, context)
            for name in ("VALID_MIN", "VALID_MAX")
        }
        shared.update(
            {
                "WINDOW": self.parameterAsInt(parameters, "WINDOW", context),
                "CLASSES": self.parameterAsInt(parameters, "CLASSES", context),
                "COARSE_RESAMPLING": self.parameterAsEnum(parameters, "COARSE_RESAMPLING", context),
            }
        )
        written, rows = [], []
        for step, (layer, date, first, second, inside) in enumerate(plan):
            steps.setCurrentStep(step)
            if feedback.isCanceled():
                raise QgsProcessingException("Cancelled: the dates fused so far are kept.")
            path = os.path.join(folder, f"fused_{date.isoformat()}.tif")
            feedback.pushInfo(
                f"{date}: pairs {base_dates[first]} and {base_dates[second]} → {path}"
            )
            processing.run(
                "mineeco:estarfm",
                {
                    **shared,
                    "FINE1": fine[first].source(),
                    "COARSE1": coarse[first].source(),
                    "FINE2": fine[second].source(),
                    "COARSE2": coarse[second].source(),
                    "COARSE_PRED": layer.source(),
                    "OUTPUT": path,
                },
                context=context,
                feedback=steps,
                is_child_algorithm=True,
            )
            written.append(path)
            rows.append(
                (
                    date.isoformat(),
                    base_dates[first].isoformat(),
                    base_dates[second].isoformat(),
                    int(inside),
                    os.path.basename(path),
                )
            )
        results = {"OUTPUT_FOLDER": folder, "LAYERS": written}
        table = self.write_table(
            parameters,
            "OUTPUT_PAIRS",
            context,
            [
                ("date", str),
                ("base_date_1", str),
                ("base_date_2", str),
                ("inside", int),
                ("file", str),
            ],
            rows,
        )
        if table is not None:
            results["OUTPUT_PAIRS"] = table
        return results

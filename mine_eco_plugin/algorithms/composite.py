"""Monthly composites of a dated raster series (e.g. a fused 16-day NDVI series for CASA)."""

from __future__ import annotations

import os
from collections import Counter

from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterString,
)

from .. import engine
from ..core import composite
from .base import MineEcoAlgorithm

METHOD_LABELS = (
    "Maximum value (Holben 1986; the usual choice for NDVI)",
    "Mean",
    "Median",
)


def layer_dates(algorithm, parameters, context, layers_name, dates_name):
    """(layers, their dates) of the multiple-raster parameter ``layers_name``: the dates typed
    in ``dates_name`` (one per layer, in order) or, when it is blank, read from each layer's
    name or file name. Errors name the parameter."""
    layers = algorithm.parameterAsLayerList(parameters, layers_name, context)
    typed = algorithm.parameterAsString(parameters, dates_name, context) or ""
    if typed.strip():
        try:
            dates = composite.parse_dates(typed)
        except ValueError as error:
            raise QgsProcessingException(f"{dates_name}: {error}") from None
        if len(dates) != len(layers):
            raise QgsProcessingException(
                f"{dates_name}: {len(dates)} date(s) for {len(layers)} layer(s) of {layers_name}"
            )
        return layers, dates
    dates = []
    for index, layer in enumerate(layers, 1):
        date = composite.parse_date(layer.name()) or composite.parse_date(
            os.path.basename(layer.source())
        )
        if date is None:
            raise QgsProcessingException(
                f"{layers_name} (layer {index}, '{layer.name()}'): no date in its name; name "
                f"the layers with their dates (e.g. ndvi_2013-05-17) or type them in {dates_name}"
            )
        dates.append(date)
    return layers, dates


class TemporalComposite(MineEcoAlgorithm):
    algorithm_id = "temporal_composite"
    display_name = "Monthly composite of a dated series"
    group_key = "preparation"
    summary = (
        "Turns a dated series of single-band rasters — such as the 16-day 30 m NDVI series "
        "that 'ESTARFM fusion' predicts from Landsat and MODIS — into 12 monthly layers (one "
        "12-band raster, January to December), the monthly NDVI 'CASA NPP' takes. Each month "
        "is composited from the layers dated in it: by default the maximum value per pixel "
        "(maximum-value composite, the usual choice for NDVI because it keeps the observation "
        "least affected by cloud and atmosphere), or the mean or the median. Dates come from "
        "the layer names (2013-05-17, 20130517, or year and day of year as in A2013137) or "
        "are typed in. With a year given, only that year's layers are used, so one run per "
        "year gives the monthly input of one CASA year."
    )
    formula = "month m: V_m = max (or mean, median) of the layers dated in m, per pixel."
    nodata_rule = (
        "NoData in a layer is ignored for that layer; a pixel is NoData in a month when no "
        "layer of that month is valid there. A month with no layer at all is an error naming "
        "it, unless months may stay empty (then it is NoData)."
    )
    references = (
        "Holben, B.N. (1986) Characteristics of maximum-value composite images from temporal "
        "AVHRR data. Int. J. Remote Sens. 7(11), 1417–1434.",
        "The NPP-drivers study: §2.2.1 (16-day fused NDVI, monthly NDVI for CASA).",
    )

    def initAlgorithm(self, config=None):
        self.add_rasters(
            "INPUT",
            "Dated series (one layer per date)",
            "Band 1 of each layer. The first layer's grid is the output grid.",
        )
        self.add(
            QgsProcessingParameterString(
                "DATES",
                self.tr("Dates of the layers (YYYY-MM-DD, comma-separated)"),
                "",
                optional=True,
            ),
            "One date per layer, in the order of the layers. Blank: each date is read from "
            "the layer's name.",
        )
        self.add_enum("METHOD", "Composite", METHOD_LABELS, 0, "How each month is composited.")
        self.add_number(
            "YEAR",
            "Year (0: every date)",
            0,
            "Only the layers of this year are composited; 0 composites every layer by its "
            "calendar month, whatever its year.",
            minimum=0,
            maximum=9999,
            integer=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "ALLOW_EMPTY_MONTHS",
                self.tr("Months without a layer may stay empty (NoData)"),
                False,
            ),
            "Unchecked (default), a month without any layer is an error naming it: CASA needs "
            "all twelve months.",
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT", "Monthly composite", "12 bands, January to December, float32."
        )

    def process(self, parameters, context, feedback):
        layers = self.parameterAsLayerList(parameters, "INPUT", context)
        if not layers:
            raise QgsProcessingException("INPUT: at least one dated layer is needed")
        _, dates = layer_dates(self, parameters, context, "INPUT", "DATES")
        sources = self.raster_sources(parameters, "INPUT", context)
        grid = engine.resolve_grid([sources[0]])  # the first layer's, whatever the year
        year = self.parameterAsInt(parameters, "YEAR", context)
        if year:
            chosen = [i for i, date in enumerate(dates) if date.year == year]
            if not chosen:
                found = ", ".join(str(y) for y in sorted({d.year for d in dates}))
                raise QgsProcessingException(f"YEAR: no layer of {year} (years present: {found})")
            sources = [sources[i] for i in chosen]
            dates = [dates[i] for i in chosen]
        counts = Counter(date.month for date in dates)
        empty = [composite.MONTH_NAMES[m - 1] for m in range(1, 13) if not counts[m]]
        if empty and not self.parameterAsBool(parameters, "ALLOW_EMPTY_MONTHS", context):
            raise QgsProcessingException(
                f"INPUT: no layer dated in {', '.join(empty)}"
                + (f" {year}" if year else "")
                + "; CASA needs all twelve months (check ALLOW_EMPTY_MONTHS to leave them NoData)"
            )
        if empty:
            feedback.pushWarning(f"Months without a layer, left NoData: {', '.join(empty)}")
        method = composite.METHODS[self.parameterAsEnum(parameters, "METHOD", context)]
        feedback.pushInfo(
            f"{len(dates)} layers, {method} composite; layers per month: "
            + ", ".join(f"{composite.MONTH_NAMES[m - 1]} {counts[m]}" for m in range(1, 13))
        )
        months = [date.month for date in dates]
        by_month = {
            composite.MONTH_NAMES[m - 1]: ";".join(
                date.isoformat() for date in sorted(d for d in dates if d.month == m)
            )
            for m in range(1, 13)
        }
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            bands=12,
            band_names=composite.MONTH_NAMES,
            metadata={"COMPOSITE": method, "YEAR": year or "all", **by_month},
        )
        self.run_blocks(
            lambda *blocks: composite.monthly_composite(
                [block[0] for block in blocks], months, method
            ),
            sources,
            [target],
            grid=grid,
            monitor=self.monitor(feedback),
        )
        return self.outputs({"OUTPUT": target})

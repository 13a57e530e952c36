"""html_report: one HTML page with the maps, charts and tables of both workflows' outputs, the
PNGs in a folder beside it (``<name>_files/``), linked relatively so the two move together.

The Processing face of the report: its parameters, read into ``ReportInputs`` and handed to
``write_report`` of ``report.document`` (the QGIS-free ``report`` package draws and writes
everything).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputFolder,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QVariant

from ..provider_info import plugin_version
from ..report.document import (
    RASTER_INPUTS,
    TABLE_INPUTS,
    ReportInputs,
    figures_folder,
    typed_table,
    write_report,
)
from ..report.rasters import PREVIEW_SIZE, ReportInputError
from .base import MineEcoAlgorithm
from .evaluation_support import parameter_text

#: The index over weight_sensitivity's draws: (parameter, description, help).
INTERVAL_INPUTS = (
    (
        "SENSITIVITY_MEAN",
        "Index, mean over the weight draws",
        "weight_sensitivity OUTPUT_MEAN: its mean, minimum and maximum over the valid pixels.",
    ),
    (
        "SENSITIVITY_LOW",
        "Index, 5 % percentile of the weight draws",
        "weight_sensitivity OUTPUT_LOW; with SENSITIVITY_HIGH the width of the 90 % interval "
        "(HIGH − LOW) is mapped and summarised.",
    ),
    (
        "SENSITIVITY_HIGH",
        "Index, 95 % percentile of the weight draws",
        "weight_sensitivity OUTPUT_HIGH.",
    ),
)


def _plain(value):
    """A Python value from a feature attribute (NULL → None, numeric text stays text)."""
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _labels(text: str, layers: list, parameter: str, what: str, input_name: str) -> list[str]:
    """One label per layer of ``input_name`` from the comma-separated ``text`` of
    ``parameter`` (none: the report takes the layer names)."""
    given = [part.strip() for part in text.split(",") if part.strip()]
    if given and len(given) != len(layers):
        raise QgsProcessingException(
            f"{parameter}: {len(given)} {what}(s) for {len(layers)} {input_name} layer(s)"
        )
    return given


class HtmlReport(MineEcoAlgorithm):
    algorithm_id = "html_report"
    display_name = "HTML report"
    group_key = "workflows"
    summary = (
        "One HTML page (shown in the Results Viewer) with what the two workflows produce: maps "
        "of the resilience index and classes per year, the class-area shares per year (the "
        "resilience study's Figure 3), several years from resilience_years (the mean index per "
        "year as a line, its Figure 2; the class shares per year; a class transition matrix "
        "per pair of consecutive years), the weights table (its Table 2), the classes' "
        "robustness to the weights (class stability, the index's 90 % interval over the "
        "weight draws, indicator influence), the index trend, the restoration planner's site "
        "ranking (gain against cost, ranked sites, all sites together), NPP, the mean NPP "
        "per year of casa_npp_years (a line over the years and the table of the years), the "
        "NPP validation of "
        "npp_validation (simulated against reference NPP with the 1:1 line, coloured by "
        "land-cover class, and the statistics overall and per class, the NPP-drivers study's Table "
        "2 comparison), the location-specific correlation shares (its Figure 3 inset), the "
        "driver importance ranking (its Figure 4), the relative-contribution RGB and "
        "dominant-driver maps with their area shares (its Figure 5), further maps, the "
        "parameters used (a table per step) and the data sources (file names; the full path "
        "shows on hover). Every input is optional: a section appears only when its input is "
        "given, and the page lists the sections left out. Every figure is numbered, with a "
        "caption saying what it shows and from which input (parameter and file). "
        "The page works offline as one folder: the PNGs are written to a folder beside it "
        "(<name>_files/) and linked relatively, so move or zip the page with its folder. It "
        "prints on A4 (print stylesheet; no map or table row cut across pages) and is laid "
        "out for screens from about 1000 px wide; images are never shown wider than drawn. "
        "Maps are drawn from reduced-resolution reads (MAP_SIZE pixels on the long side), with "
        "a legend (class rasters: their colour table and category names or the QML beside "
        "them; continuous rasters: a colour bar), a scale bar and a north arrow outside the "
        "map; shares and statistics are exact, from all pixels read block by block. On the "
        "dominant-driver map, coupled classes whose colours are too alike to tell apart are "
        "drawn in distinct colours (named in the caption)."
    )
    formula = (
        "Class share (%) = pixels of the class / valid pixels × 100, rounded to 0.01 so that "
        "each raster's shares sum to exactly 100 (largest remainder).\n"
        "Scale bar: the largest 1, 2 or 5 × 10ⁿ m not longer than a quarter of the map width; "
        "in a geographic CRS ground lengths at the map's central latitude on the CRS ellipsoid "
        "(m per degree of longitude = π/180 · N · cos φ)."
    )
    nodata_rule = (
        "NoData pixels are transparent on the maps and left out of every share, mean and "
        "colour range; shares are of the valid pixels (pixel counts, not ellipsoidal areas)."
    )
    references = (
        "The resilience study: Table 2 (weights) and Figure 3 (class shares and mean "
        "index per year).",
        "The NPP-drivers study: Figure 3 inset (correlation area shares), Figure 4 "
        "(importance ranking), Figure 5 (RGB contributions, dominant drivers with area shares).",
    )

    def initAlgorithm(self, config=None):
        self.add_rasters(
            "INDEX",
            "Resilience index, one layer per year",
            "Index rasters (e.g. composite_index OUTPUT), one per year in YEARS order; drawn "
            "with one RdYlGn colour range for all years.",
            optional=True,
        )
        self.add_rasters(
            "CLASSES",
            "Resilience classes, one layer per year",
            "Class rasters (e.g. classify_index OUTPUT), one per year in YEARS order; gives the "
            "class maps and the class-share chart.",
            optional=True,
        )
        self.add(
            QgsProcessingParameterString(
                "YEARS", self.tr("Year labels (comma-separated)"), "", optional=True
            ),
            "One label per INDEX layer and per CLASSES layer, e.g. 2000,2005,2010,2016,2020; "
            "blank: the layer names.",
        )
        self.add_table_input(
            "YEARLY",
            "Yearly means and class shares table",
            "resilience_years OUTPUT_YEARS (year, pixels, mean_index, pct_<class>): the mean "
            "index per year as a line (the resilience study's Figure 2) and the class shares per "
            "year as 100 % stacked bars (its Figure 3), with the table.",
        )
        self.add_table_input(
            "TRANSITIONS",
            "Class transitions table",
            "resilience_years OUTPUT_TRANSITIONS (from_year, to_year, from_class, to_class, "
            "pixels, area_km2): one transition matrix per pair of consecutive years.",
        )
        self.add_table_input(
            "WEIGHTS",
            "Indicator weights table",
            "composite_index OUTPUT_WEIGHTS (or any table/CSV with indicator and weight "
            "columns): shown in the form of the resilience study's Table 2.",
        )
        self.add_raster(
            "STABILITY",
            "Class stability under the weights",
            "weight_sensitivity OUTPUT_STABILITY (share of the draws giving the modal class): "
            "map and the share of the area in each stability class.",
            optional=True,
        )
        self.add_table_input(
            "INFLUENCE",
            "Indicator influence table",
            "weight_sensitivity OUTPUT_INFLUENCE: each indicator's weight, the range of its "
            "drawn weights and Spearman's ρ with the study-area mean index, by rank.",
        )
        for name, description, help_text in INTERVAL_INPUTS:
            self.add_raster(name, description, help_text, optional=True)
        self.add_raster(
            "TREND",
            "Index trend classes",
            "index_trend OUTPUT_CLASS: map and area shares.",
            optional=True,
        )
        self.add_table_input(
            "PLANNER",
            "Restoration site ranking",
            "restoration_planner OUTPUT: the gain-against-cost chart of the sites, the ranked "
            "site table (scenario 'single', by rank) and the row of all sites together.",
        )
        self.add(
            QgsProcessingParameterString(
                "PLANNER_SUMMARY", self.tr("Restoration ranking in words"), "", optional=True
            ),
            "restoration_planner SUMMARY: shown above the site table.",
        )
        self.add_raster("NPP", "NPP", "casa_npp OUTPUT (gC·m⁻²·yr⁻¹).", optional=True)
        self.add_table_input(
            "NPP_YEARS_TABLE",
            "NPP per year table",
            "casa_npp_years OUTPUT_TABLE (year, ndvi_layers, mean_npp, valid_pixels, and the row "
            "'mean' of the per-pixel mean over the years): the mean NPP per year as a line "
            "(gC·m⁻²·yr⁻¹) and the table of the years.",
        )
        self.add_table_input(
            "NPP_VALIDATION",
            "NPP validation statistics table",
            "npp_validation OUTPUT (class, n, mean_simulated, mean_reference, bias, "
            "relative_bias, rmse, r): overall and per land-cover class, like the NPP-drivers "
            "study's Table 2.",
        )
        self.add_table_input(
            "NPP_PAIRS",
            "NPP validation pairs table",
            "npp_validation OUTPUT_PAIRS (x, y, class, simulated, reference): a scatter chart "
            "of simulated against reference NPP with the 1:1 line, coloured by class.",
        )
        self.add_rasters(
            "CORRELATION",
            "Correlation classes, one layer per driver",
            "local_correlation OUTPUT_CLASS for one or more drivers: maps and area shares of "
            "significant positive, significant negative and insignificant correlation.",
            optional=True,
        )
        self.add(
            QgsProcessingParameterString(
                "CORRELATION_NAMES",
                self.tr("Driver names of the correlation layers (comma-separated)"),
                "",
                optional=True,
            ),
            "One name per CORRELATION layer, e.g. MAT,MAP,SOC; blank: the layer names.",
        )
        self.add_table_input(
            "IMPORTANCE",
            "Driver importance table",
            "rf_driver_contribution OUTPUT_IMPORTANCE (its 'driver' rows: name, category, "
            "percent), or any table with a name and a numeric column.",
        )
        self.add_raster(
            "RGB",
            "Relative-contribution RGB",
            "rf_driver_contribution OUTPUT_RGB (8-bit RGB or RGBA); the band descriptions name "
            "the category of each channel.",
            optional=True,
        )
        self.add_raster(
            "DOMINANT",
            "Dominant driver classes",
            "rf_driver_contribution OUTPUT_DOMINANT: map and area shares.",
            optional=True,
        )
        self.add_rasters(
            "OTHER_RASTERS",
            "Other maps",
            "More maps (NDVI, LST, erosion classes …): class rasters with their legend, others "
            "with a colour bar stretched between the 2nd and 98th percentiles.",
            optional=True,
        )
        parameters_text = QgsProcessingParameterString(
            "PARAMETERS",
            self.tr("Parameters and data sources (text or JSON)"),
            "",
            multiLine=True,
            optional=True,
        )
        self.add(
            parameters_text,
            "Shown in its own section: a JSON object as one table per step (each key whose "
            'value is an object, e.g. {"npp_drivers": {"SEED": 42}}), other text as given.',
        )
        self.add(
            QgsProcessingParameterString("TITLE", self.tr("Title"), "Mine Eco report"),
            "Heading of the page.",
        )
        self.add_number(
            "MAP_SIZE",
            "Map resolution (pixels on the long side)",
            PREVIEW_SIZE,
            "Rasters are read decimated to this size for the maps (statistics use all pixels).",
            minimum=100,
            maximum=4000,
            integer=True,
            advanced=True,
        )
        self.add(
            QgsProcessingParameterFileDestination(
                "OUTPUT", self.tr("HTML report"), self.tr("HTML files (*.html *.htm)")
            ),
            "The page; its PNGs go to the folder <name>_files beside it.",
        )
        self.addOutput(QgsProcessingOutputFolder("FOLDER", self.tr("Folder of the figures")))
        self.addOutput(QgsProcessingOutputString("SECTIONS", self.tr("Sections included")))
        self.addOutput(QgsProcessingOutputString("OMITTED", self.tr("Sections omitted")))

    def add_table_input(self, name, description, help_text):
        """An optional table input: any vector layer or CSV file."""
        self.add(
            QgsProcessingParameterFeatureSource(
                name, self.tr(description), [QgsProcessing.SourceType.TypeVector], optional=True
            ),
            help_text,
        )

    # --- inputs -----------------------------------------------------------------------------
    def _rasters(self, parameters, name, context) -> list[tuple]:
        """(engine source, layer name) of every layer of a raster or multiple-raster input."""
        if self.parameterDefinition(name).type() == "raster":
            layer = self.parameterAsRasterLayer(parameters, name, context)
            if layer is None:
                return []
            return [(self.raster_source(parameters, name, context), layer.name())]
        layers = self.parameterAsLayerList(parameters, name, context)
        if not layers:
            return []
        sources = self.raster_sources(parameters, name, context, bands=None)
        return [(s, layer.name()) for s, layer in zip(sources, layers, strict=True)]

    def _table(self, parameters, name, context):
        """Field names and rows of a table input (None when not given); text columns that hold
        only numbers (CSV) become numbers."""
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            return None
        fields = [field.name() for field in source.fields()]
        rows = [
            dict(zip(fields, (_plain(v) for v in feature.attributes()), strict=True))
            for feature in source.getFeatures()
        ]
        return typed_table(fields, rows)

    def read_inputs(self, parameters, context) -> ReportInputs:
        rasters = {name: self._rasters(parameters, name, context) for name in RASTER_INPUTS}
        tables = {name: self._table(parameters, name, context) for name in TABLE_INPUTS}
        table_sources = {}
        for name in TABLE_INPUTS:
            layer = self.parameterAsVectorLayer(parameters, name, context)
            if layer is not None and tables[name] is not None:
                path = "memory layer" if layer.providerType() == "memory" else layer.source()
                table_sources[name] = (layer.name(), path)
        years = parameter_text(self, parameters, "YEARS", context)
        names = parameter_text(self, parameters, "CORRELATION_NAMES", context)
        labels = {
            name: _labels(text, rasters[name], parameter, what, name)
            for name, text, parameter, what in (
                ("INDEX", years, "YEARS", "label"),
                ("CLASSES", years, "YEARS", "label"),
                ("CORRELATION", names, "CORRELATION_NAMES", "name"),
            )
            if rasters[name] and text
        }
        return ReportInputs(
            rasters=rasters,
            tables=tables,
            table_sources=table_sources,
            labels=labels,
            parameters_text=parameter_text(self, parameters, "PARAMETERS", context),
            planner_summary=parameter_text(self, parameters, "PLANNER_SUMMARY", context),
        )

    def side_paths(self, name, path):
        """The page's figures go to the folder ``<name>_files`` beside it."""
        if name != "OUTPUT":
            return []
        return [str(figures_folder(Path(path)))]

    # --- the run ----------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        try:
            import matplotlib  # noqa: F401 (the report draws on its Agg canvas)
        except ImportError:
            raise QgsProcessingException(
                "matplotlib is needed for the report's maps and charts and is not installed for "
                "the Python that QGIS runs (Debian/Ubuntu: sudo apt install python3-matplotlib; "
                "elsewhere: python -m pip install matplotlib)"
            ) from None
        output = self.destination(parameters, "OUTPUT", context)
        if not output:
            raise QgsProcessingException("OUTPUT: no HTML file given")
        html_path = Path(output)
        inputs = self.read_inputs(parameters, context)
        title = parameter_text(self, parameters, "TITLE", context) or "Mine Eco report"
        subtitle = (
            f"Generated {datetime.datetime.now():%Y-%m-%d %H:%M} by Mine Eco "
            f"{plugin_version()} (mineeco:{self.algorithm_id})."
        )
        try:
            report = write_report(
                html_path,
                inputs,
                title=title,
                subtitle=subtitle,
                map_size=self.parameterAsInt(parameters, "MAP_SIZE", context),
                memory_mb=self.memory_mb(),
                monitor=self.monitor(feedback),
                info=feedback.pushInfo,
                warn=feedback.pushWarning,
            )
        except ReportInputError as error:
            raise QgsProcessingException(str(error)) from None
        for _, heading, reason in report.omitted:
            feedback.pushInfo(f"Omitted: {heading} ({reason})")
        feedback.pushInfo(
            f"Report: {html_path} with {len(report.files)} figure(s) in {report.folder}"
        )
        return {
            "OUTPUT": str(html_path),
            "FOLDER": str(report.folder),
            "SECTIONS": ",".join(section.key for section in report.sections),
            "OMITTED": ",".join(key for key, _, _ in report.omitted),
        }

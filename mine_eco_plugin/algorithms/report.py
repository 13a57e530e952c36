"""html_report: one HTML page with the maps, charts and tables of both workflows' outputs, the
PNGs in a folder beside it (``<name>_files/``), linked relatively so the two move together."""

from __future__ import annotations

import datetime
import re
import shutil
import uuid
from html import escape as html_escape
from pathlib import Path
from urllib.parse import quote

import numpy as np
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

from ..core import report
from ..core.report import ColourScale, LegendEntry, ReportFigure, Section
from ..engine import Monitor
from ..engine.writer import Replacement, hand_over
from ..provider_info import plugin_version, resource
from . import report_rasters as rasters
from .base import MineEcoAlgorithm
from .drivers_forest import CATEGORY_COLOURS
from .evaluation_support import parameter_text
from .sensitivity import STABILITY_STYLE

#: (section id, heading, parameter it needs, what that parameter is) in page order.
SECTIONS = (
    ("index-maps", "Resilience index", "INDEX", "index rasters, one per year"),
    ("class-maps", "Resilience classes", "CLASSES", "class rasters, one per year"),
    ("class-shares", "Class-area shares per year", "CLASSES", "class rasters, one per year"),
    (
        "several-years",
        "Several years",
        "YEARLY",
        "yearly table and transitions table of resilience_years",
    ),
    ("weights", "Indicator weights", "WEIGHTS", "weights table of composite_index"),
    (
        "sensitivity",
        "Robustness to the weights",
        "STABILITY",
        "class stability, index interval rasters or influence table of weight_sensitivity",
    ),
    ("trend", "Trend of the index", "TREND", "trend class raster of index_trend"),
    ("planner", "Where to restore first", "PLANNER", "site ranking table of restoration_planner"),
    ("npp", "Net primary productivity", "NPP", "NPP raster"),
    (
        "npp-validation",
        "NPP validation",
        "NPP_VALIDATION",
        "statistics table and pairs table of npp_validation",
    ),
    ("correlation", "Location-specific correlation", "CORRELATION", "correlation class rasters"),
    ("importance", "Driver importance", "IMPORTANCE", "importance table"),
    ("rgb", "Relative contributions (RGB)", "RGB", "RGB composite"),
    ("dominant", "Dominant drivers", "DOMINANT", "dominant-driver raster"),
    ("other-maps", "Other maps", "OTHER_RASTERS", "further rasters"),
    ("parameters", "Parameters", "PARAMETERS", "parameter text"),
    ("data-sources", "Data sources", None, "input layers"),
)

#: Colour maps of further rasters, chosen by the layer name.
NAMED_COLOUR_MAPS = (
    (r"ndvi|fvc|evi|savi|npp|veg|green", "YlGn"),
    (r"lst|temp|heat|thermal", "RdYlBu_r"),
    (r"erosion|soil.?loss|rusle", "YlOrBr"),
    (r"dem|elev|height|slope", "terrain"),
    (r"index|resilien|rsei|eco", "RdYlGn"),
)

#: Table 2 column order of the weights table and the headings shown.
WEIGHT_COLUMNS = {
    "code": "Code",
    "criterion": "Criterion",
    "criteria": "Criterion",
    "indicator": "Indicator",
    "name": "Indicator",
    "objective": "Objective weight",
    "subjective": "Subjective weight",
    "combined": "Combined weight",
    "weight": "Weight",
    "trend": "Trend",
    "minimum": "Range minimum",
    "maximum": "Range maximum",
}
WEIGHT_SUMS = ("objective", "subjective", "combined", "weight")
#: The index over weight_sensitivity's draws: (parameter, description, help, row label in the
#: section's interval table).
INTERVAL_INPUTS = (
    (
        "SENSITIVITY_MEAN",
        "Index, mean over the weight draws",
        "weight_sensitivity OUTPUT_MEAN: its mean, minimum and maximum over the valid pixels.",
        "Mean over the draws",
    ),
    (
        "SENSITIVITY_LOW",
        "Index, 5 % percentile of the weight draws",
        "weight_sensitivity OUTPUT_LOW; with SENSITIVITY_HIGH the width of the 90 % interval "
        "(HIGH − LOW) is mapped and summarised.",
        "5 % percentile of the draws",
    ),
    (
        "SENSITIVITY_HIGH",
        "Index, 95 % percentile of the weight draws",
        "weight_sensitivity OUTPUT_HIGH.",
        "95 % percentile of the draws",
    ),
)
TEXT_COLUMNS = (
    "code",
    "trend",
    "name",
    "indicator",
    "criterion",
    "criteria",
    "category",
    "level",
    "class",
    "from_class",
    "to_class",
    "site_id",
    "scenario",
    "drivers",
    "npp_driver",
    "action",
)
#: Table inputs, in the order of the data-sources table.
TABLE_INPUTS = ("YEARLY", "TRANSITIONS", "WEIGHTS", "INFLUENCE", "PLANNER", "NPP_VALIDATION",
                "NPP_PAIRS", "IMPORTANCE")  # fmt: skip
#: restoration_planner OUTPUT columns of the ranked site table, with the headings shown.
PLANNER_COLUMNS = (
    ("rank", "Rank"),
    ("site_id", "Site"),
    ("target", "Target class"),
    ("area_ha", "Area (ha)"),
    ("total_gain", "Total gain (index · ha)"),
    ("gain_per_ha", "Gain per ha"),
    ("gain_per_cost", "Gain per unit cost"),
    ("pixels_up", "Pixels up a class"),
    ("drivers", "Indicators behind the gain"),
    ("npp_driver", "Dominant NPP driver"),
    ("action", "Measure"),
)
PLANNER_INTEGERS = ("rank", "target", "pixels_up")
#: npp_validation OUTPUT columns and the headings shown (relative_bias is shown in %).
VALIDATION_COLUMNS = (
    ("class", "Land cover"),
    ("n", "Pairs"),
    ("mean_simulated", "Mean simulated"),
    ("mean_reference", "Mean reference"),
    ("bias", "Bias"),
    ("relative_bias", "Relative bias (%)"),
    ("rmse", "RMSE"),
    ("r", "r"),
)
NPP_UNIT = "gC·m⁻²·yr⁻¹"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "figure"


def _plain(value):
    """A Python value from a feature attribute (NULL → None, numeric text stays text)."""
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def colour_map_for(name: str) -> str:
    for pattern, cmap in NAMED_COLOUR_MAPS:
        if re.search(pattern, name, flags=re.IGNORECASE):
            return cmap
    return "viridis"


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
        "ranking (gain against cost, ranked sites, all sites together), NPP, the NPP "
        "validation of "
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
        self.add(
            QgsProcessingParameterFeatureSource(
                "YEARLY",
                self.tr("Yearly means and class shares table"),
                [QgsProcessing.SourceType.TypeVector],
                optional=True,
            ),
            "resilience_years OUTPUT_YEARS (year, pixels, mean_index, pct_<class>): the mean "
            "index per year as a line (the resilience study's Figure 2) and the class shares per "
            "year as 100 % stacked bars (its Figure 3), with the table.",
        )
        self.add(
            QgsProcessingParameterFeatureSource(
                "TRANSITIONS",
                self.tr("Class transitions table"),
                [QgsProcessing.SourceType.TypeVector],
                optional=True,
            ),
            "resilience_years OUTPUT_TRANSITIONS (from_year, to_year, from_class, to_class, "
            "pixels, area_km2): one transition matrix per pair of consecutive years.",
        )
        self.add(
            QgsProcessingParameterFeatureSource(
                "WEIGHTS",
                self.tr("Indicator weights table"),
                [QgsProcessing.SourceType.TypeVector],
                optional=True,
            ),
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
        self.add(
            QgsProcessingParameterFeatureSource(
                "INFLUENCE",
                self.tr("Indicator influence table"),
                [QgsProcessing.SourceType.TypeVector],
                optional=True,
            ),
            "weight_sensitivity OUTPUT_INFLUENCE: each indicator's weight, the range of its "
            "drawn weights and Spearman's ρ with the study-area mean index, by rank.",
        )
        for name, description, help_text, _ in INTERVAL_INPUTS:
            self.add_raster(name, description, help_text, optional=True)
        self.add_raster(
            "TREND",
            "Index trend classes",
            "index_trend OUTPUT_CLASS: map and area shares.",
            optional=True,
        )
        self.add(
            QgsProcessingParameterFeatureSource(
                "PLANNER",
                self.tr("Restoration site ranking"),
                [QgsProcessing.SourceType.TypeVector],
                optional=True,
            ),
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
        self.add(
            QgsProcessingParameterFeatureSource(
                "NPP_VALIDATION",
                self.tr("NPP validation statistics table"),
                [QgsProcessing.SourceType.TypeVector],
                optional=True,
            ),
            "npp_validation OUTPUT (class, n, mean_simulated, mean_reference, bias, "
            "relative_bias, rmse, r): overall and per land-cover class, like the NPP-drivers "
            "study's Table 2.",
        )
        self.add(
            QgsProcessingParameterFeatureSource(
                "NPP_PAIRS",
                self.tr("NPP validation pairs table"),
                [QgsProcessing.SourceType.TypeVector],
                optional=True,
            ),
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
        self.add(
            QgsProcessingParameterFeatureSource(
                "IMPORTANCE",
                self.tr("Driver importance table"),
                [QgsProcessing.SourceType.TypeVector],
                optional=True,
            ),
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
            rasters.PREVIEW_SIZE,
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

    def _table(self, parameters, name, context) -> tuple[list[str], list[dict]] | None:
        """Field names and rows of a table input; text columns that hold only numbers (CSV)
        become numbers."""
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            return None
        fields = [field.name() for field in source.fields()]
        rows = [
            dict(zip(fields, (_plain(v) for v in feature.attributes()), strict=True))
            for feature in source.getFeatures()
        ]
        for field in fields:
            if field.lower() in TEXT_COLUMNS:
                continue
            values = [row[field] for row in rows if row[field] not in (None, "")]
            if values and all(_number(v) is not None for v in values):
                for row in rows:
                    row[field] = _number(row[field])
        return fields, rows

    @staticmethod
    def _labels(text: str, count: int, name: str, fallback: list[str]) -> list[str]:
        labels = [part.strip() for part in text.split(",") if part.strip()] if text else []
        if not labels:
            return fallback
        if len(labels) != count:
            raise QgsProcessingException(
                f"YEARS: {len(labels)} label(s) for {count} {name} layer(s)"
            )
        return labels

    def side_paths(self, name, path):
        """The page's figures go to the folder ``<name>_files`` beside it."""
        if name != "OUTPUT":
            return []
        return [str(Path(path).with_name(f"{Path(path).stem}_files"))]

    # --- the run ----------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        try:
            import matplotlib  # noqa: F401 (drawn on its Agg canvas in core.report)
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
        folder = html_path.with_name(f"{html_path.stem}_files")
        if folder.exists() and any(
            not (p.is_file() and p.suffix.lower() == ".png") for p in folder.iterdir()
        ):
            raise QgsProcessingException(
                f"OUTPUT: the folder {folder} exists and holds more than a report's PNGs; "
                "choose another file name or remove that folder"
            )
        inputs = {
            "INDEX": self._rasters(parameters, "INDEX", context),
            "CLASSES": self._rasters(parameters, "CLASSES", context),
            "STABILITY": self._rasters(parameters, "STABILITY", context),
            **{name: self._rasters(parameters, name, context) for name, *_ in INTERVAL_INPUTS},
            "TREND": self._rasters(parameters, "TREND", context),
            "NPP": self._rasters(parameters, "NPP", context),
            "CORRELATION": self._rasters(parameters, "CORRELATION", context),
            "RGB": self._rasters(parameters, "RGB", context),
            "DOMINANT": self._rasters(parameters, "DOMINANT", context),
            "OTHER_RASTERS": self._rasters(parameters, "OTHER_RASTERS", context),
        }
        table_names = TABLE_INPUTS
        tables = {name: self._table(parameters, name, context) for name in table_names}
        table_sources = {}
        for name in table_names:
            layer = self.parameterAsVectorLayer(parameters, name, context)
            if layer is not None and tables[name] is not None:
                path = "memory layer" if layer.providerType() == "memory" else layer.source()
                table_sources[name] = (layer.name(), path)
        years_text = parameter_text(self, parameters, "YEARS", context)
        years = {
            name: self._labels(
                years_text, len(inputs[name]), name, [label for _, label in inputs[name]]
            )
            for name in ("INDEX", "CLASSES")
            if inputs[name]
        }
        names_text = parameter_text(self, parameters, "CORRELATION_NAMES", context)
        correlation_names = [label for _, label in inputs["CORRELATION"]]
        if names_text and inputs["CORRELATION"]:
            given = [part.strip() for part in names_text.split(",") if part.strip()]
            if len(given) != len(correlation_names):
                raise QgsProcessingException(
                    f"CORRELATION_NAMES: {len(given)} name(s) for {len(correlation_names)} "
                    "CORRELATION layer(s)"
                )
            correlation_names = given
        parameters_given = parameter_text(self, parameters, "PARAMETERS", context)
        planner_summary = parameter_text(self, parameters, "PLANNER_SUMMARY", context)
        title = parameter_text(self, parameters, "TITLE", context) or "Mine Eco report"

        staging = html_path.parent / f".{html_path.stem}_files.{uuid.uuid4().hex[:12]}.partial"
        partial_html = html_path.parent / f".{html_path.name}.{uuid.uuid4().hex[:12]}.partial"
        try:
            html_path.parent.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
        except OSError as error:
            raise QgsProcessingException(
                f"OUTPUT: cannot write beside {html_path}: {error}"
            ) from None
        builder = ReportBuilder(
            staging,
            quote(folder.name),
            self.parameterAsInt(parameters, "MAP_SIZE", context),
            self.memory_mb(),
            self.monitor(feedback),
            units=sum(2 * len(v) for v in inputs.values()) + 1,
        )
        builder.table_sources = table_sources
        builder.planner_summary = planner_summary
        committed = False
        try:
            sections = builder.build(
                inputs, tables, years, correlation_names, parameters_given, feedback
            )
            present = {section.key for section in sections}
            omitted = [
                (key, heading, f"no {parameter} given ({what})" if parameter else f"no {what}")
                for key, heading, parameter, what in SECTIONS
                if key not in present
            ]
            css_file = resource("styles", "report.css")
            css = css_file.read_text(encoding="utf-8") if css_file.is_file() else ""
            subtitle = (
                f"Generated {datetime.datetime.now():%Y-%m-%d %H:%M} by Mine Eco "
                f"{plugin_version()} (mineeco:{self.algorithm_id})."
            )
            page = report.render_page(title, sections, omitted, css=css, subtitle=subtitle)
            partial_html.write_text(page, encoding="utf-8")
            builder.monitor.check()
            # The figures' folder and the page together, or neither (an earlier report's
            # files are put back when either cannot be moved in).
            replacement = Replacement()
            try:
                replacement.put(staging, folder, "OUTPUT", folder=True)
                replacement.put(partial_html, html_path, "OUTPUT")
            except BaseException:
                replacement.rollback()
                raise
            hand_over(replacement)
            committed = True
        except rasters.ReportInputError as error:
            raise QgsProcessingException(str(error)) from None
        finally:
            if not committed:
                shutil.rmtree(staging, ignore_errors=True)
                partial_html.unlink(missing_ok=True)
        for _, heading, reason in omitted:
            feedback.pushInfo(f"Omitted: {heading} ({reason})")
        feedback.pushInfo(f"Report: {html_path} with {len(builder.files)} figure(s) in {folder}")
        return {
            "OUTPUT": str(html_path),
            "FOLDER": str(folder),
            "SECTIONS": ",".join(section.key for section in sections),
            "OMITTED": ",".join(key for key, _, _ in omitted),
        }


def _summary_rows(labels, summaries) -> list[tuple]:
    """Table rows (label, valid pixels, mean, std. dev., minimum, maximum) of band summaries;
    the statistics are empty where a summary has no valid pixel."""
    return [
        (label, s.count, *((s.mean, s.std, s.minimum, s.maximum) if s.count else (None,) * 4))
        for label, s in zip(labels, summaries, strict=True)
    ]


class ReportBuilder:
    """Draws the figures into ``folder`` and assembles the sections, in page order."""

    def __init__(self, folder: Path, link: str, map_size: int, memory_mb, monitor, units: int):
        self.folder = folder
        self.link = link
        self.map_size = map_size
        self.memory_mb = memory_mb
        self.monitor: Monitor = monitor
        self.units = max(units, 1)
        self.done = 0
        self.files: list[str] = []
        self.index_means: list[float | None] | None = None
        self.index_layers: list = []
        self.facts: list[tuple[str, str, str, dict]] = []
        self.table_sources: dict[str, tuple[str, str]] = {}
        self.recoloured: list[str] = []
        self.feedback = None

    # --- plumbing ---------------------------------------------------------------------------
    def span(self) -> Monitor:
        """The monitor of the next unit of work (a preview or a pass over a raster)."""
        self.monitor.check()
        part = self.monitor.span(
            min(self.done / self.units, 1.0), min((self.done + 1) / self.units, 1.0)
        )
        self.done += 1
        return part

    def png(self, stem: str, figure) -> str:
        """Save ``figure`` as the next PNG; the relative link to it."""
        self.span().report(1.0)
        name = f"{len(self.files) + 1:02d}_{_slug(stem)}.png"
        report.save(figure, self.folder / name)
        self.files.append(name)
        return f"{self.link}/{quote(name)}"

    def preview(self, source, bands=None) -> rasters.Preview:
        return rasters.read_preview(
            source.path,
            source.parameter,
            bands=bands,
            max_size=self.map_size,
            crs_wkt=source.crs_wkt,
        )

    def counts(self, source) -> dict[int, int]:
        return rasters.class_counts(source, memory_mb=self.memory_mb, monitor=self.span())

    def note(self, parameter, source, label) -> None:
        self.facts.append((parameter, label, source.path, rasters.raster_facts(source.path, label)))

    @staticmethod
    def file_name(path: str) -> str:
        """The file name of a layer source (without the folder and any '|layername=…')."""
        text = str(path or "").split("|", 1)[0].replace("\\", "/").rstrip("/")
        return text.rsplit("/", 1)[-1] or str(path)

    def from_inputs(self, *given) -> str:
        """Caption tail naming the inputs: (parameter, raster source) or (parameter, None) for
        a table input, e.g. 'Input: CLASSES (classes_2001.tif).'"""
        parts = []
        for parameter, source in given:
            if source is None:
                path = self.table_sources.get(parameter, ("", ""))[1]
            elif isinstance(source, list | tuple):
                path = ", ".join(self.file_name(s.path) for s in source)
            else:
                path = source.path
            name = path if isinstance(source, list | tuple) else self.file_name(path)
            parts.append(f"{parameter} ({name})" if name else parameter)
        return f" Input{'s' if len(parts) > 1 else ''}: {'; '.join(parts)}."

    def class_map(
        self, source, label, title, counts, distinct=False
    ) -> tuple[str, list[LegendEntry]]:
        """The class map and its legend; ``distinct``: classes whose colours are too close to
        tell apart are recoloured (the names of those classes in ``self.recoloured``)."""
        legend = rasters.class_legend(source.path, source.parameter, tuple(counts))
        self.recoloured = []
        if distinct:  # the leading single categories keep their colours
            singles = next(
                (i for i, e in enumerate(legend) if ">" in e.label or "coupled" in e.label),
                len(legend),
            )
            legend, self.recoloured = report.distinct_legend(legend, keep=singles)
        shown = self.preview(source, bands=(1,))
        image = report.class_image(shown.values[0].astype(np.int64), shown.valid, legend)
        figure = report.map_figure(image, shown.frame, title=title, legend=legend)
        return self.png(title, figure), legend

    def continuous_map(self, source, title, scale: ColourScale) -> str:
        shown = self.preview(source, bands=(1,))
        image = report.continuous_image(shown.values[0], shown.valid)
        return self.png(
            title, report.map_figure(image, shown.frame, title=title, colour_scale=scale)
        )

    # --- sections ---------------------------------------------------------------------------
    def build(self, inputs, tables, years, correlation_names, parameters_text, feedback):
        sections: list[Section] = []
        self.feedback = feedback
        legends = self._driver_legends(inputs)

        def add(section: Section | None):
            if section is not None:
                sections.append(section)
                feedback.pushInfo(f"Section: {section.title}")

        if inputs["INDEX"]:
            add(self.index_section(inputs["INDEX"], years["INDEX"]))
        if inputs["CLASSES"]:
            add(self.class_sections(inputs["CLASSES"], years["CLASSES"], sections))
        if tables["YEARLY"] is not None or tables["TRANSITIONS"] is not None:
            add(self.years_section(tables["YEARLY"], tables["TRANSITIONS"]))
        if tables["WEIGHTS"] is not None:
            add(self.weights_section(*tables["WEIGHTS"]))
        interval = [(name, inputs[name][0]) for name, *_ in INTERVAL_INPUTS if inputs[name]]
        if inputs["STABILITY"] or interval or tables["INFLUENCE"] is not None:
            add(self.sensitivity_section(inputs["STABILITY"], interval, tables["INFLUENCE"]))
        if inputs["TREND"]:
            add(self.share_map_section("trend", "TREND", inputs["TREND"][0]))
        if tables["PLANNER"] is not None:
            add(self.planner_section(*tables["PLANNER"]))
        if inputs["NPP"]:
            add(self.npp_section(inputs["NPP"][0]))
        if tables["NPP_VALIDATION"] is not None or tables["NPP_PAIRS"] is not None:
            add(self.validation_section(tables["NPP_VALIDATION"], tables["NPP_PAIRS"]))
        if inputs["CORRELATION"]:
            add(self.correlation_section(inputs["CORRELATION"], correlation_names))
        if tables["IMPORTANCE"] is not None:
            add(self.importance_section(*tables["IMPORTANCE"], legends))
        if inputs["RGB"]:
            add(self.rgb_section(inputs["RGB"][0]))
        if inputs["DOMINANT"]:
            add(self.share_map_section("dominant", "DOMINANT", inputs["DOMINANT"][0]))
        if inputs["OTHER_RASTERS"]:
            add(self.other_section(inputs["OTHER_RASTERS"]))
        if parameters_text:
            add(
                Section(
                    "parameters",
                    "Parameters",
                    "Every parameter and default used and the data sources, as given in "
                    "PARAMETERS (one table per step).",
                    blocks=[report.parameters_block(parameters_text)],
                )
            )
        if self.facts or any(t is not None for t in tables.values()):
            add(self.sources_section(tables))
        return sections

    def index_section(self, layers, years) -> Section:
        summaries = []
        for source, label in layers:
            summaries.append(
                rasters.value_summary(source, memory_mb=self.memory_mb, monitor=self.span())
            )
            self.note("INDEX", source, label)
        valid = [s for s in summaries if s.count]
        vmin = min((s.minimum for s in valid), default=0.0)
        vmax = max((s.maximum for s in valid), default=1.0)
        if vmax <= vmin:
            vmax = vmin + 1e-6
        self.index_means = [s.mean if s.count else None for s in summaries]
        self.index_layers = list(layers)
        scale = ColourScale("RdYlGn", vmin, vmax, "Index")
        figures = [
            ReportFigure(
                self.continuous_map(source, f"Index {year}", scale),
                f"Resilience index {year}, on the colour scale shared by all years "
                f"({vmin:.3f}–{vmax:.3f})." + self.from_inputs(("INDEX", source)),
            )
            for (source, _), year in zip(layers, years, strict=True)
        ]
        rows = _summary_rows(years, summaries)
        table = report.html_table(
            ["Year", "Valid pixels", "Mean", "Std. dev.", "Minimum", "Maximum"],
            rows,
            table_id="index-statistics",
        )
        return Section(
            "index-maps",
            "Resilience index",
            f"The index per year on one colour scale ({vmin:.3f} red to {vmax:.3f} green, the "
            "range over all years), with its statistics over all valid pixels.",
            figures,
            [table],
        )

    def class_sections(self, layers, years, sections) -> Section:
        """The class maps (returned after the maps section is appended) and the shares."""
        counts = [self.counts(source) for source, _ in layers]
        legend: dict[int, LegendEntry] = {}
        figures = []
        for (source, label), year, tally in zip(layers, years, counts, strict=True):
            src, own = self.class_map(source, label, f"Classes {year}", tally)
            for entry in own:
                legend.setdefault(entry.code, entry)
            figures.append(
                ReportFigure(
                    src,
                    f"Resilience classes {year}, with the raster's own legend."
                    + self.from_inputs(("CLASSES", source)),
                )
            )
            self.note("CLASSES", source, label)
        sections.append(
            Section(
                "class-maps",
                "Resilience classes",
                "The class raster of each year with its legend (the raster's colour table and "
                "category names, or its QML style).",
                figures,
            )
        )
        entries = [legend[code] for code in sorted(legend)]
        totals = [sum(tally.values()) for tally in counts]
        shares = np.array(
            [
                report.percentages([tally.get(e.code, 0) for e in entries])
                if sum(tally.values())
                else [0.0] * len(entries)
                for tally in counts
            ]
        ).T.reshape(len(entries), len(counts))
        means = (
            self.index_means if self.index_means and len(self.index_means) == len(counts) else None
        )
        chart = report.stacked_shares_figure(
            years,
            entries,
            shares,
            title="Class-area shares per year",
            group_label="Year",
            means=means,
        )
        rows = [[entry.label, *(float(v) for v in shares[i])] for i, entry in enumerate(entries)]
        attributes = [
            [{"data-code": entry.code}]
            + [{"data-pixels": tally.get(entry.code, 0)} for tally in counts]
            for entry in entries
        ]
        footer = [
            ["Total", *(100.0 if total else 0.0 for total in totals)],
            ["Valid pixels", *totals],
        ]
        if means is not None:
            footer.append(["Mean index", *("–" if m is None else f"{m:.4f}" for m in means)])
        table = report.html_table(
            ["Class", *years],
            rows,
            table_id="class-shares-table",
            decimals=2,
            footer=footer,
            cell_attributes=attributes,
        )
        caption = (
            "Share of each class in the valid pixels of each year (like the resilience study's "
            "Figure 3); shares in %, rounded to 0.01 and summing to 100 per year"
        )
        return Section(
            "class-shares",
            "Class-area shares per year",
            caption + ("; the line is the mean index per year." if means is not None else "."),
            [
                ReportFigure(
                    self.png("class_shares", chart),
                    "Share of each class in the valid pixels of each year (100 % stacked bars)"
                    + ("; the line is the mean index per year." if means is not None else ".")
                    + self.from_inputs(
                        ("CLASSES", [s for s, _ in layers]),
                        *([("INDEX", [s for s, _ in self.index_layers])] if means else []),
                    ),
                    kind="chart",
                )
            ],
            [table],
        )

    def weights_section(self, fields, rows) -> Section:
        lower = {field.lower(): field for field in fields}
        ordered = [lower[key] for key in WEIGHT_COLUMNS if key in lower]
        ordered += [field for field in fields if field not in ordered]
        # Columns without a single value (objective and subjective weights of a preset or of
        # given weights) are left out and named in the caption.
        empty = [f for f in ordered if all(row[f] in (None, "") for row in rows)]
        ordered = [f for f in ordered if f not in empty]
        headings = [WEIGHT_COLUMNS.get(field.lower(), field) for field in ordered]
        body = [[row[field] for field in ordered] for row in rows]
        sums = []
        for field in ordered:
            numbers = [_number(row[field]) for row in rows]
            if field.lower() in WEIGHT_SUMS and any(n is not None for n in numbers):
                sums.append(float(sum(n for n in numbers if n is not None)))
            else:
                sums.append(None)
        footer = (
            [["Sum", *("" if s is None else s for s in sums[1:])]]
            if any(s is not None for s in sums[1:])
            else []
        )
        table = report.html_table(
            headings, body, table_id="weights-table", decimals=4, footer=footer
        )
        kinds = [
            name
            for name in ("objective", "subjective", "combined")
            if name in lower and lower[name] in ordered
        ]
        caption = (
            f"{len(rows)} indicator(s) with their trend"
            + (
                f" and {', '.join(kinds[:-1]) + ' and ' if len(kinds) > 1 else ''}{kinds[-1]} "
                "weights"
                if kinds
                else ""
            )
            + " (the resilience study's Table 2 form)."
        )
        if {"minimum", "maximum"} & {f.lower() for f in ordered}:
            caption += (
                " Range minimum and maximum: the values each indicator was normalised between "
                "(0 and 1 at these ends, by its trend)."
            )
        if empty:
            missing = [WEIGHT_COLUMNS.get(f.lower(), f).lower() for f in empty]
            caption += (
                f" No {' or '.join(missing)} in the table (the weights were given or taken "
                "from a preset, not computed here): left out."
            )
        return Section(
            "weights",
            "Indicator weights",
            caption + self.from_inputs(("WEIGHTS", None)),
            blocks=[table],
        )

    # --- several years (resilience_years) ---------------------------------------------------
    def years_section(self, yearly, transitions) -> Section:
        """The mean index per year (line, the resilience study's Figure 2), the class shares per
        year (100 % stacked bars, its Figure 3) and the class transitions between consecutive
        years (one matrix per pair), from resilience_years' tables."""
        from ..core.evaluation_classes import class_colours

        figures, blocks, facts = [], [], []
        labels: list[str] = []
        if yearly is not None:
            fields, rows = yearly
            lower = {field.lower(): field for field in fields}
            share_fields = [f for f in fields if f.lower().startswith("pct_")]
            if "year" not in lower or ("mean_index" not in lower and not share_fields):
                raise rasters.ReportInputError(
                    "YEARLY: expected resilience_years OUTPUT_YEARS (columns year, pixels, "
                    f"mean_index, pct_<class>), got {', '.join(fields)}"
                )
            rows = sorted(rows, key=lambda row: _number(row[lower["year"]]) or 0)
            years = [
                str(int(y)) if (y := _number(row[lower["year"]])) is not None else "?"
                for row in rows
            ]
            labels = [f[4:].replace("_", " ") for f in share_fields]
            means = (
                [_number(row[lower["mean_index"]]) for row in rows]
                if "mean_index" in lower
                else None
            )
            if means is not None:
                chart = report.line_figure(
                    years,
                    means,
                    ylabel="Mean resilience index",
                    xlabel="Year",
                    title="Mean resilience index per year",
                )
                figures.append(
                    ReportFigure(
                        self.png("yearly_mean_index", chart),
                        "Mean resilience index over the valid pixels of each year (like the "
                        "resilience study's Figure 2)." + self.from_inputs(("YEARLY", None)),
                        kind="chart",
                    )
                )
                shown = [f"{y} {m:.3f}" for y, m in zip(years, means, strict=True) if m is not None]
                facts.append("mean index " + ", ".join(shown))
            if share_fields:
                colours = class_colours(len(share_fields))
                entries = [
                    LegendEntry(i + 1, label, (*colours[i], 255)) for i, label in enumerate(labels)
                ]
                shares = np.array([[_number(row[f]) or 0.0 for row in rows] for f in share_fields])
                chart = report.stacked_shares_figure(
                    years,
                    entries,
                    shares,
                    title="Class shares per year",
                    group_label="Year",
                    means=means,
                )
                figures.append(
                    ReportFigure(
                        self.png("yearly_class_shares", chart),
                        "Share of each resilience class in the valid pixels of each year "
                        "(100 % stacked bars, like the resilience study's Figure 3)"
                        + ("; the line is the mean index." if means is not None else ".")
                        + self.from_inputs(("YEARLY", None)),
                        kind="chart",
                    )
                )
            pixels = lower.get("pixels")
            blocks.append(
                report.html_table(
                    ["Year", *(["Valid pixels"] if pixels else []),
                     *(["Mean index"] if means is not None else []),
                     *(f"{label} (%)" for label in labels)],
                    [
                        [year, *([int(_number(row[pixels]) or 0)] if pixels else []),
                         *([m] if means is not None else []),
                         *(_number(row[f]) for f in share_fields)]
                        for year, row, m in zip(years, rows, means or [None] * len(rows),
                                                strict=True)
                    ],
                    table_id="yearly-table",
                    decimals=4,
                )
            )  # fmt: skip
        if transitions is not None:
            blocks += self.transition_tables(*transitions, labels, facts)
        caption = "The index and its classes over several years on one scale (resilience_years)" + (
            ": " + "; ".join(facts) + "." if facts else "."
        )
        return Section("several-years", "Several years", caption, figures, blocks)

    def transition_tables(self, fields, rows, labels, facts) -> list[str]:
        """One matrix per pair of consecutive years: pixels from each class (rows) to each
        class (columns); the diagonal stays, right of it improves when the classes run from
        worst to best."""
        lower = {field.lower(): field for field in fields}
        needed = ("from_year", "to_year", "from_class", "to_class", "pixels")
        if any(key not in lower for key in needed):
            raise rasters.ReportInputError(
                "TRANSITIONS: expected resilience_years OUTPUT_TRANSITIONS (columns "
                f"{', '.join(needed)}, area_km2), got {', '.join(fields)}"
            )
        area = lower.get("area_km2")
        pairs: dict[tuple[str, str], dict[tuple[str, str], tuple[int, float | None]]] = {}
        seen: list[str] = list(labels)
        for row in rows:
            years = tuple(
                str(int(v)) if (v := _number(row[lower[k]])) is not None else str(row[lower[k]])
                for k in ("from_year", "to_year")
            )
            before, after = str(row[lower["from_class"]]), str(row[lower["to_class"]])
            for name in (before, after):
                if name not in seen:
                    seen.append(name)
            count = int(_number(row[lower["pixels"]]) or 0)
            km2 = _number(row[area]) if area else None
            cell = pairs.setdefault(years, {}).get((before, after), (0, None))
            pairs[years][(before, after)] = (
                cell[0] + count,
                None if km2 is None else (cell[1] or 0.0) + km2,
            )
        ordered = labels == seen  # the classes of the yearly table, worst to best
        blocks = []
        changes = []
        for (first, second), cells in sorted(pairs.items()):
            classes = [c for c in seen if any(c in key for key in cells)]
            body, attributes = [], []
            for before in classes:
                counts = [cells.get((before, after), (0, None))[0] for after in classes]
                body.append([before, *counts, sum(counts)])
                attributes.append(
                    [{}]
                    + [{"class": "num diagonal"} if after == before else {} for after in classes]
                    + [{}]
                )
            totals = [sum(cells.get((b, a), (0, None))[0] for b in classes) for a in classes]
            total = sum(totals)
            stay = sum(cells.get((c, c), (0, None))[0] for c in classes)
            blocks.append(
                report.html_table(
                    [f"{first} → {second}", *classes, "Total"],
                    body,
                    table_id=f"transitions-{first}-{second}",
                    decimals=0,
                    footer=[["Total", *totals, total]],
                    cell_attributes=attributes,
                    caption=f"Class transitions {first} → {second} (pixels; rows: class in "
                    f"{first}, columns: class in {second})",
                ).replace('class="data"', 'class="data matrix"', 1)
            )
            if total:
                text = f"{first}→{second} {100 * stay / total:.1f} % kept their class"
                if ordered:
                    rank = {c: i for i, c in enumerate(classes)}
                    up = sum(n for (b, a), (n, _) in cells.items() if rank[a] > rank[b])
                    text += f", {100 * up / total:.1f} % improved, "
                    text += f"{100 * (total - stay - up) / total:.1f} % declined"
                changes.append(text)
        if changes:
            facts.append("; ".join(changes))
        return blocks

    def sensitivity_section(self, stability, interval, influence) -> Section:
        """Class stability (map, share of the area per stability class), the index's mean and
        90 % interval over the draws (table; the interval's width mapped) and the indicators'
        influence (weight_sensitivity)."""
        figures, blocks, facts = [], [], []
        if stability:
            source, label = stability[0]
            self.note("STABILITY", source, label)
            bounds = tuple(bound for bound, _, _ in STABILITY_STYLE[:3]) + (
                float(np.nextafter(1.0, 0.0)),
            )
            counts, mean = rasters.interval_counts(
                source, bounds, memory_mb=self.memory_mb, monitor=self.span()
            )
            scale = ColourScale("RdYlGn", 0.0, 1.0, "Share of draws in the modal class")
            figures.append(
                ReportFigure(
                    self.continuous_map(source, "Class stability", scale),
                    "Class stability: the share of the weight draws that give each pixel its "
                    "most frequent class." + self.from_inputs(("STABILITY", source)),
                )
            )
            shares = report.percentages(counts)
            total = sum(counts)
            blocks.append(
                report.html_table(
                    ["Class stability", "Pixels", "Share (%)"],
                    [
                        (text, number, share)
                        for (_, _, text), number, share in zip(
                            STABILITY_STYLE, counts, shares, strict=True
                        )
                    ],
                    table_id="stability-table",
                    decimals=2,
                    footer=[["Total", total, 100.0 if total else 0.0]],
                )
            )
            if total:
                robust = 100.0 * (counts[-2] + counts[-1]) / total
                facts.append(
                    f"the mean class stability is {mean:.3f} and {robust:.1f} % of the "
                    "valid pixels keep their class in more than 90 % of the draws"
                )
        if interval:
            figure, table, fact = self.index_interval(interval)
            figures += [figure] if figure is not None else []
            blocks.append(table)
            facts += [fact] if fact else []
        if influence is not None:
            fields, rows = influence
            lower = {field.lower(): field for field in fields}
            wanted = (
                ("rank", "Rank"),
                ("indicator", "Indicator"),
                ("trend", "Trend"),
                ("weight", "Weight"),
                ("weight_p05", "Weight, 5 % of draws"),
                ("weight_p95", "Weight, 95 % of draws"),
                ("spearman_rho", "Spearman ρ with the mean index"),
            )
            columns = [(lower[key], heading) for key, heading in wanted if key in lower]
            if len(columns) < 2:  # not weight_sensitivity's table: show it as it is
                columns = [(field, field) for field in fields]
            if "rank" in lower:
                field = lower["rank"]
                rows = sorted(rows, key=lambda row: _number(row[field]) or 0)
                rows = [
                    {**row, field: int(_number(row[field]))}
                    if _number(row[field]) is not None
                    else row
                    for row in rows
                ]
            blocks.append(
                report.html_table(
                    [heading for _, heading in columns],
                    [[row[field] for field, _ in columns] for row in rows],
                    table_id="influence-table",
                    decimals=4,
                )
            )
            if {"spearman_rho", "indicator", "rank"} <= set(lower) and rows:
                first = rows[0]
                facts.append(
                    f"the study-area mean index depends most on {first[lower['indicator']]} "
                    f"(ρ = {_number(first[lower['spearman_rho']]) or 0:+.3f})"
                )
        caption = (
            "How much the resilience map rests on the subjective weights: many plausible "
            "weight vectors were drawn (weight_sensitivity) and the index and its class "
            "recomputed for each."
        )
        if facts:
            caption += " Here " + "; ".join(facts) + "."
        return Section("sensitivity", "Robustness to the weights", caption, figures, blocks)

    def index_interval(self, layers) -> tuple[ReportFigure | None, str, str]:
        """The index over the weight draws: mean, 5 % and 95 % percentile rasters summarised
        over the pixels valid in all of them, and, with both percentiles, the width of the
        90 % interval (summarised and mapped). Returns (map or None, table, caption fact)."""
        names = [name for name, _ in layers]
        for name, (source, label) in layers:
            self.note(name, source, label)
        width = ()
        if {"SENSITIVITY_LOW", "SENSITIVITY_HIGH"} <= set(names):
            width = ((names.index("SENSITIVITY_HIGH"), names.index("SENSITIVITY_LOW")),)
        summaries = rasters.joint_summaries(
            [source for _, (source, _) in layers],
            width,
            memory_mb=self.memory_mb,
            monitor=self.span(),
        )
        row_labels = {name: row for name, *_, row in INTERVAL_INPUTS}
        labels = [row_labels[name] for name in names]
        labels += ["Width of the 90 % interval (95 % − 5 %)"] if width else []
        rows = _summary_rows(labels, summaries)
        table = report.html_table(
            ["Index over the draws", "Valid pixels", "Mean", "Std. dev.", "Minimum", "Maximum"],
            rows,
            table_id="interval-table",
            decimals=4,
        )
        parts = []
        if "SENSITIVITY_MEAN" in names and summaries[0].count:
            parts.append(f"the index averages {summaries[0].mean:.3f} over the draws")
        figure = None
        if width and summaries[-1].count:
            spread = summaries[-1]
            parts.append(
                f"its 90 % interval is {spread.mean:.3f} wide on average (at most "
                f"{spread.maximum:.3f})"
            )
            low = self.preview(dict(layers)["SENSITIVITY_LOW"][0], bands=(1,))
            high = self.preview(dict(layers)["SENSITIVITY_HIGH"][0], bands=(1,))
            if low.values.shape == high.values.shape:  # one grid (weight_sensitivity's)
                values = high.values[0] - low.values[0]
                valid = low.valid & high.valid
                bottom, top = rasters.stretch(values, valid)  # 2nd–98th percentile
                scale = ColourScale("YlOrRd", bottom, top, "Width of the 90 % interval")
                image = report.continuous_image(values, valid)
                title = "Width of the index's 90 % interval"
                src = self.png(
                    title, report.map_figure(image, low.frame, title=title, colour_scale=scale)
                )
                figure = ReportFigure(
                    src,
                    "Width of the index's 90 % interval over the weight draws (95 % − 5 % "
                    "percentile, colours stretched between its 2nd and 98th percentiles): "
                    "where the index depends most on the weights."
                    + self.from_inputs(
                        ("SENSITIVITY_LOW", dict(layers)["SENSITIVITY_LOW"][0]),
                        ("SENSITIVITY_HIGH", dict(layers)["SENSITIVITY_HIGH"][0]),
                    ),
                )
        return figure, table, " and ".join(parts)

    def share_map_section(self, key, parameter, layer) -> Section:
        """A class raster whose shares matter: map, share bars and table (trend, dominant)."""
        source, label = layer
        heading = {"trend": "Trend of the index", "dominant": "Dominant drivers"}[key]
        tally = self.counts(source)
        src, legend = self.class_map(source, label, heading, tally, distinct=key == "dominant")
        recoloured = list(self.recoloured)
        self.note(parameter, source, label)
        shares = report.percentages([tally.get(e.code, 0) for e in legend])
        chart = report.share_bars_figure(legend, shares, title=f"{heading}: area shares")
        rows = [
            (entry.code, entry.label, tally.get(entry.code, 0), share)
            for entry, share in zip(legend, shares, strict=True)
        ]
        table = report.html_table(
            ["Code", "Class", "Pixels", "Share (%)"],
            rows,
            table_id=f"{key}-shares-table",
            decimals=2,
            footer=[["", "Total", sum(tally.values()), 100.0 if tally else 0.0]],
        )
        caption = {
            "trend": "Trend class of every pixel (Sen's slope and Mann–Kendall test) and the "
            "share of each class in the valid pixels.",
            "dominant": "The category (or ordered pair of categories) dominating each pixel's "
            "relative contribution, and the share of each class (like the NPP-drivers study's "
            "Figure 5b and its inset).",
        }[key]
        what = {
            "trend": "Trend class of every pixel",
            "dominant": "Dominant driver (category or coupled pair) of every pixel",
        }[key]
        note = (
            f" Shown in colours other than the raster's own, which are too alike to tell "
            f"apart: {', '.join(recoloured)}."
            if recoloured
            else ""
        )
        return Section(
            key,
            heading,
            caption,
            [
                ReportFigure(src, f"{what}.{note}" + self.from_inputs((parameter, source))),
                ReportFigure(
                    self.png(f"{key}_shares", chart),
                    f"{heading}: share of each class in the valid pixels."
                    + self.from_inputs((parameter, source)),
                    kind="chart",
                ),
            ],
            [table],
        )

    def npp_section(self, layer) -> Section:
        source, label = layer
        summary = rasters.value_summary(source, memory_mb=self.memory_mb, monitor=self.span())
        self.note("NPP", source, label)
        vmin, vmax = (summary.minimum, summary.maximum) if summary.count else (0.0, 1.0)
        if vmax <= vmin:
            vmax = vmin + 1e-6
        unit = "gC·m⁻²·yr⁻¹"
        src = self.continuous_map(source, "NPP", ColourScale("YlGn", vmin, vmax, f"NPP ({unit})"))
        stats = (
            f"mean {summary.mean:.2f}, standard deviation {summary.std:.2f}, range "
            f"{summary.minimum:.2f}–{summary.maximum:.2f} {unit} over {summary.count} pixels"
            if summary.count
            else "no valid pixels"
        )
        return Section(
            "npp",
            "Net primary productivity",
            f"Annual NPP from the CASA model: {stats}.",
            [
                ReportFigure(
                    src,
                    f"Annual NPP ({unit}), colours from the smallest to the largest value."
                    + self.from_inputs(("NPP", source)),
                )
            ],
        )

    def planner_section(self, fields, rows) -> Section:
        """restoration_planner's ranking: its SUMMARY, total gain against cost (or area), the
        sites ranked (scenario 'single', by rank) and all sites together ('ALL')."""
        from .planner import gain_cost_figure

        missing = [
            key for key in ("site_id", "scenario", "rank", "total_gain") if key not in fields
        ]
        if missing:
            raise rasters.ReportInputError(
                f"PLANNER: expected restoration_planner OUTPUT (columns site_id, scenario, rank, "
                f"area_ha, total_gain, …); {', '.join(missing)} missing"
            )

        def value(row, key):
            cell = row.get(key)
            if cell in (None, ""):
                return None  # shown as '–'
            if key in PLANNER_INTEGERS and _number(cell) is not None:
                return int(_number(cell))
            if key in ("site_id", "target"):
                return cell
            number = _number(cell)
            return cell if number is None and isinstance(cell, str) else number

        singles = sorted(
            (r for r in rows if str(r["scenario"]) == "single"),
            key=lambda r: (_number(r["rank"]) is None, _number(r["rank"]) or 0),
        )
        together = [r for r in rows if str(r["scenario"]) == "all"]
        columns = [(key, heading) for key, heading in PLANNER_COLUMNS if key in fields]
        blocks = []
        summary = getattr(self, "planner_summary", "")
        if summary:
            blocks.append(f'<p class="planner-summary">{html_escape(summary)}</p>')
        blocks.append(
            report.html_table(
                [heading for _, heading in columns],
                [[value(row, key) for key, _ in columns] for row in singles],
                table_id="planner-table",
                decimals=4,
                caption="Candidate sites, each restored alone, by rank (1 = best).",
            )
        )
        if together:
            shown = [
                (k, h) for k, h in columns if k not in ("rank", "target", "npp_driver", "action")
            ]
            blocks.append(
                report.html_table(
                    [heading for _, heading in shown],
                    [[value(row, key) for key, _ in shown] for row in together],
                    table_id="planner-all-table",
                    decimals=4,
                    caption="All sites restored together (not ranked).",
                )
            )
        figures = []
        cost_given = "cost" in fields and any(_number(r.get("cost")) is not None for r in singles)
        chart_rows = [
            {
                "site_id": r["site_id"],
                "rank": value(r, "rank"),
                "total_gain": _number(r["total_gain"]),
                "cost": _number(r.get("cost")),
                "area_ha": _number(r.get("area_ha")),
            }
            for r in singles
        ]
        if chart_rows:
            figure = gain_cost_figure(
                chart_rows,
                cost_given,
                "Total index gain against "
                + ("cost" if cost_given else "site area")
                + " per candidate site",
                dpi=130,
            )
            figures.append(
                ReportFigure(
                    self.png("planner_gain_cost", figure),
                    "Total gain of the resilience index (index · ha) of each candidate site "
                    "restored alone, against its cost (cost per ha × area)"
                    if cost_given
                    else "Total gain of the resilience index (index · ha) of each candidate "
                    "site restored alone, against its area (no costs given)",
                    kind="chart",
                )
            )
            figures[-1].caption += ", labelled with site and rank." + self.from_inputs(
                ("PLANNER", None)
            )
        best = singles[0]["site_id"] if singles else None
        caption = (
            f"{len(singles)} candidate site(s) ranked by the index gain they would bring"
            + (f"; best: {best}" if best is not None else "")
            + ". A ranking under the index's own assumptions, not a forecast of recovery."
        )
        return Section("planner", "Where to restore first", caption, figures, blocks)

    def validation_section(self, statistics, pairs) -> Section:
        """Simulated NPP against reference values (npp_validation): the scatter chart with the
        1:1 line coloured by land-cover class, and the statistics overall and per class (the
        NPP-drivers study's Table 2 comparison)."""
        figures, blocks, facts = [], [], []
        if pairs is not None:
            fields, rows = pairs
            lower = {field.lower(): field for field in fields}
            if not {"simulated", "reference"} <= set(lower):
                raise rasters.ReportInputError(
                    "NPP_PAIRS: expected npp_validation OUTPUT_PAIRS (columns x, y, class, "
                    f"simulated, reference), got {', '.join(fields)}"
                )
            kept = [
                row
                for row in rows
                if _number(row[lower["simulated"]]) is not None
                and _number(row[lower["reference"]]) is not None
            ]
            groups = [str(row[lower["class"]]) if "class" in lower else "all" for row in kept]
            names = list(dict.fromkeys(groups))
            colours = dict(zip(names, report.distinct_colours(len(names)), strict=True))
            chart = report.scatter_figure(
                [_number(row[lower["reference"]]) for row in kept],
                [_number(row[lower["simulated"]]) for row in kept],
                groups,
                colours,
                unit=NPP_UNIT,
                title="Simulated against reference NPP",
            )
            figures.append(
                ReportFigure(
                    self.png("npp_validation", chart),
                    f"Simulated against reference NPP at {len(kept)} compared pairs, coloured "
                    "by land-cover class; the dashed line is 1:1 (points above it: simulated "
                    "higher than the reference)." + self.from_inputs(("NPP_PAIRS", None)),
                    kind="chart",
                )
            )
        if statistics is not None:
            fields, rows = statistics
            lower = {field.lower(): field for field in fields}
            columns = [(lower[key], heading) for key, heading in VALIDATION_COLUMNS if key in lower]
            if len(columns) < 3:
                raise rasters.ReportInputError(
                    "NPP_VALIDATION: expected npp_validation OUTPUT (columns class, n, "
                    f"mean_simulated, mean_reference, bias, relative_bias, rmse, r), got "
                    f"{', '.join(fields)}"
                )

            def cell(row, field):
                value = row[field]
                if field.lower() == "relative_bias" and _number(value) is not None:
                    return 100.0 * _number(value)
                if field.lower() == "n" and _number(value) is not None:
                    return int(_number(value))
                return value

            blocks.append(
                report.html_table(
                    [heading for _, heading in columns],
                    [[cell(row, field) for field, _ in columns] for row in rows],
                    table_id="npp-validation-table",
                    decimals=3,
                )
            )
            overall = next(
                (r for r in rows if "class" in lower and str(r[lower["class"]]) == "all"), None
            )
            if overall is not None and {"bias", "rmse", "r"} <= set(lower):
                facts.append(
                    f"overall bias {_number(overall[lower['bias']]) or 0:+.2f} {NPP_UNIT}, "
                    f"RMSE {_number(overall[lower['rmse']]) or 0:.2f} {NPP_UNIT}, "
                    f"r = {_number(overall[lower['r']]) or 0:.3f}"
                )
        caption = (
            "Simulated NPP compared with reference values, overall ('all') and per land-cover "
            "class: pairs, means, bias (simulated − reference), relative bias, RMSE and "
            "Pearson's r (like the NPP-drivers study's Table 2)"
            + (": " + "; ".join(facts) + "." if facts else ".")
        )
        return Section("npp-validation", "NPP validation", caption, figures, blocks)

    def correlation_section(self, layers, names) -> Section:
        counts = [self.counts(source) for source, _ in layers]
        legend: dict[int, LegendEntry] = {}
        figures = []
        for (source, label), name, tally in zip(layers, names, counts, strict=True):
            src, own = self.class_map(source, label, f"Correlation with {name}", tally)
            for entry in own:
                legend.setdefault(entry.code, entry)
            figures.append(
                ReportFigure(
                    src,
                    f"Local correlation classes with {name}."
                    + self.from_inputs(("CORRELATION", source)),
                )
            )
            self.note("CORRELATION", source, label)
        entries = [legend[code] for code in sorted(legend)]
        shares = np.array(
            [report.percentages([tally.get(e.code, 0) for e in entries]) for tally in counts]
        ).T.reshape(len(entries), len(counts))
        chart = report.stacked_shares_figure(
            names,
            entries,
            shares,
            horizontal=True,
            title="Area shares of the correlation classes",
            group_label="Driver",
        )
        figures.append(
            ReportFigure(
                self.png("correlation_shares", chart),
                "Share of significant positive, significant negative and insignificant "
                "correlation in the valid pixels, per driver."
                + self.from_inputs(("CORRELATION", [s for s, _ in layers])),
                kind="chart",
            )
        )
        rows = [
            [name, *(float(v) for v in shares[:, j]), sum(counts[j].values())]
            for j, name in enumerate(names)
        ]
        table = report.html_table(
            ["Driver", *(f"{e.label} (%)" for e in entries), "Valid pixels"],
            rows,
            table_id="correlation-shares-table",
            decimals=2,
        )
        return Section(
            "correlation",
            "Location-specific correlation",
            "Moving-window correlation classes and the area shares of significant positive, "
            "significant negative and insignificant correlation (like the inset of the NPP-drivers "
            "study's Figure 3).",
            figures,
            [table],
        )

    def _driver_legends(self, inputs) -> dict[str, tuple[int, int, int, int]]:
        """Category colours shared by the importance chart, the RGB note and the dominant map:
        the dominant raster's single-category classes, else the RGB channels."""
        colours: dict[str, tuple[int, int, int, int]] = {}
        if inputs["DOMINANT"]:
            source, _ = inputs["DOMINANT"][0]
            colours.update(
                rasters.category_colours(rasters.class_legend(source.path, source.parameter))
            )
        if inputs["RGB"]:
            source, _ = inputs["RGB"][0]
            dataset = rasters.open_raster(source.path, source.parameter)
            channels = rasters.rgb_channels(
                [
                    dataset.GetRasterBand(b).GetDescription()
                    for b in range(1, dataset.RasterCount + 1)
                ],
                dict(dataset.GetMetadata() or {}),
            )
            for band, name in enumerate(channels or []):
                if name != "-":
                    colours.setdefault(name, (*CATEGORY_COLOURS[band], 255))
        return colours

    def importance_section(self, fields, rows, colours) -> Section:
        lower = {field.lower(): field for field in fields}
        if "level" in lower:
            drivers_only = [r for r in rows if str(r[lower["level"]]).lower() == "driver"]
            rows = drivers_only or rows
        name_field = next(
            (lower[k] for k in ("name", "driver", "variable", "factor", "indicator") if k in lower),
            None,
        )
        numeric = [
            f
            for f in fields
            if rows and all(_number(r[f]) is not None for r in rows) and f != name_field
        ]
        value_field = next(
            (lower[k] for k in ("percent", "importance") if k in lower and lower[k] in numeric),
            next((f for f in numeric if not f.lower().endswith("_sd")), None),
        )
        if value_field is None:
            raise rasters.ReportInputError(
                "IMPORTANCE: no numeric column with a value for every row (e.g. percent or "
                "importance)"
            )
        if name_field is None:
            name_field = next((f for f in fields if f not in numeric), None)
        if name_field is None:
            raise rasters.ReportInputError(
                "IMPORTANCE: no column naming the drivers (e.g. name or driver) beside the "
                f"numbers ({', '.join(fields)})"
            )
        names = [str(r[name_field]) for r in rows]
        values = [float(_number(r[value_field])) for r in rows]
        category_field = lower.get("category")
        categories = [str(r[category_field]) for r in rows] if category_field else None
        errors = None
        if "importance_sd" in lower:
            sd = [_number(r[lower["importance_sd"]]) for r in rows]
            if value_field.lower() == "importance":
                errors = sd
            elif "importance" in lower:
                raw = [_number(r[lower["importance"]]) for r in rows]
                errors = [
                    s * v / i if s is not None and i else None
                    for s, v, i in zip(sd, values, raw, strict=True)
                ]
        palette = dict(colours)
        if categories:
            spare = (c for c in CATEGORY_COLOURS if (*c, 255) not in palette.values())
            for category in dict.fromkeys(categories):
                if category not in palette:
                    palette[category] = (*next(spare, (120, 120, 120)), 255)
        percent = value_field.lower() == "percent"
        chart = report.importance_figure(
            names,
            values,
            categories=categories,
            colours=palette,
            errors=errors,
            xlabel="Relative importance (%)" if percent else f"Importance ({value_field})",
            title="Driver importance",
        )
        order = sorted(range(len(names)), key=lambda i: (-values[i], i))
        heading = "Importance (%)" if percent else value_field
        columns = ["Rank", "Driver", *(["Category"] if categories else []), heading]
        if errors is not None:
            columns.append("± SD")
        body = []
        for rank, i in enumerate(order, start=1):
            row = [rank, names[i], *([categories[i]] if categories else []), values[i]]
            if errors is not None:
                row.append(errors[i])
            body.append(row)
        blocks = [report.html_table(columns, body, table_id="importance-table", decimals=2)]
        if categories:
            totals: dict[str, float] = {}
            for category, value in zip(categories, values, strict=True):
                totals[category] = totals.get(category, 0.0) + value
            blocks.append(
                report.html_table(
                    ["Category", f"Total {heading.lower()}"],
                    sorted(totals.items(), key=lambda item: -item[1]),
                    table_id="importance-categories-table",
                    decimals=2,
                )
            )
        return Section(
            "importance",
            "Driver importance",
            "Importance of each driver in the forest on all drivers, largest first (like the "
            "NPP-drivers study's Figure 4)"
            + (", coloured by category with the category totals." if categories else "."),
            [
                ReportFigure(
                    self.png("importance", chart),
                    "Driver importance, largest first"
                    + (", coloured by category." if categories else ".")
                    + self.from_inputs(("IMPORTANCE", None)),
                    kind="chart",
                )
            ],
            blocks,
        )

    def rgb_section(self, layer) -> Section:
        source, label = layer
        dataset = rasters.open_raster(source.path, source.parameter)
        if dataset.RasterCount < 3:
            raise rasters.ReportInputError(
                f"{source.parameter}: has {dataset.RasterCount} band(s); 3 (RGB) or 4 (RGBA) "
                "are needed"
            )
        shown = self.preview(source, bands=(1, 2, 3))
        self.note("RGB", source, label)
        values = shown.values
        stretched = values.min(initial=0) < 0 or values.max(initial=0) > 255
        if stretched:  # not 8-bit: each band stretched on its own
            channels_out = []
            for band in values:
                low, high = rasters.stretch(band, shown.valid)
                channels_out.append(np.clip((band - low) / (high - low) * 255, 0, 255))
            values = np.stack(channels_out)
        image = np.zeros((*shown.valid.shape, 4), dtype=np.uint8)
        image[..., :3] = np.moveaxis(np.nan_to_num(values), 0, -1).astype(np.uint8)
        image[..., 3] = np.where(shown.valid, 255, 0)
        channels = rasters.rgb_channels(shown.descriptions, shown.metadata)
        pure = ((255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255))
        if channels:
            legend = [
                LegendEntry(i, f"{colour}: {name}", pure[i])
                for i, (colour, name) in enumerate(
                    zip(("Red", "Green", "Blue"), channels, strict=True)
                )
            ]
            order = ", ".join(f"band {i + 1} → {e.label}" for i, e in enumerate(legend))
        else:
            legend = [
                LegendEntry(i, f"{colour}: band {i + 1}", pure[i])
                for i, colour in enumerate(("Red", "Green", "Blue"))
            ]
            order = "bands 1, 2, 3 → red, green, blue (the raster names no categories)"
        figure = report.map_figure(
            image,
            shown.frame,
            title="Relative contributions",
            legend=legend,
            legend_title="Channel",
        )
        meaning = (
            "each channel's brightness is the category's relative contribution (255 = 100 %)"
            if shown.metadata.get("MINEECO_ALGORITHM") == "rf_driver_contribution"
            else "each channel as stored"
        ) + ("; bands stretched (2–98 %) as they are not 8-bit" if stretched else "")
        return Section(
            "rgb",
            "Relative contributions (RGB)",
            f"RGB composite of the relative contributions (like the NPP-drivers study's Figure "
            f"5a): "
            f"{order}; {meaning}; mixed colours mark shared control.",
            [
                ReportFigure(
                    self.png("rgb", figure),
                    f"Relative contributions as colours: {order}."
                    + self.from_inputs(("RGB", source)),
                )
            ],
        )

    def other_section(self, layers) -> Section:
        figures = []
        blocks = []
        for source, label in layers:
            self.note("OTHER_RASTERS", source, label)
            tally = None
            if rasters.is_class_raster(source.path, source.parameter):
                try:
                    tally = self.counts(source)
                except rasters.ReportInputError as error:  # styled, but not a class raster
                    self.feedback.pushWarning(f"{error}: drawn with a colour bar instead")
            if tally is not None:
                src, legend = self.class_map(source, label, label, tally)
                shares = report.percentages([tally.get(e.code, 0) for e in legend])
                blocks.append(
                    report.html_table(
                        ["Class", f"{label}: share (%)", "Pixels"],
                        [
                            (e.label, share, tally.get(e.code, 0))
                            for e, share in zip(legend, shares, strict=True)
                        ],
                        table_id=f"other-{_slug(label)}-shares",
                        decimals=2,
                    )
                )
                figures.append(
                    ReportFigure(
                        src,
                        f"{label}: classes with the raster's legend."
                        + self.from_inputs(("OTHER_RASTERS", source)),
                    )
                )
                continue
            shown = self.preview(source, bands=(1,))
            vmin, vmax = rasters.stretch(shown.values[0], shown.valid)
            description = shown.descriptions[0] if shown.descriptions else ""
            scale = ColourScale(colour_map_for(label), vmin, vmax, description or label)
            image = report.continuous_image(shown.values[0], shown.valid)
            figure = report.map_figure(image, shown.frame, title=label, colour_scale=scale)
            figures.append(
                ReportFigure(
                    self.png(label, figure),
                    f"{label}, band 1; colours from {vmin:.4g} to {vmax:.4g} (2nd–98th "
                    "percentile)." + self.from_inputs(("OTHER_RASTERS", source)),
                )
            )
        return Section(
            "other-maps",
            "Other maps",
            "Further layers: class rasters with their legend and shares, others stretched "
            "between their 2nd and 98th percentiles.",
            figures,
            blocks,
        )

    def sources_section(self, tables) -> Section:
        rows = [
            (
                parameter,
                label,
                report.file_cell(path),
                facts["size"],
                facts["pixel"],
                facts["crs"],
                facts["producer"],
                report.settings_cell(facts.get("settings_items", ())),
            )
            for parameter, label, path, facts in self.facts
        ]
        for name, table in tables.items():
            if table is not None:
                fields, records = table
                label, path = self.table_sources.get(name, ("table", ""))
                columns = report.settings_cell([(field, "") for field in fields], what="column")
                rows.append(
                    (name, label, report.file_cell(path), f"{len(records)} rows", "", "", "",
                     columns)
                )  # fmt: skip
        table_html = report.html_table(
            [
                "Input",
                "Layer",
                "File",
                "Size (cols × rows × bands)",
                "Pixel",
                "CRS",
                "Produced by",
                "Settings recorded in the file",
            ],
            rows,
            table_id="sources-table",
        )
        return Section(
            "data-sources",
            "Data sources",
            "Every input layer of this report: file (the full path shows on hover), grid, CRS "
            "and, for Mine Eco outputs, the algorithm and the settings it recorded in the file "
            "(click to open).",
            blocks=[table_html],
        )

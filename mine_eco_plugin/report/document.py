"""The report as a whole: its sections in page order, each drawn when its input is given, and
the page written with its figures' folder beside it, both or neither.

``write_report`` is all a caller needs: the ``html_report`` algorithm reads its parameters into
``ReportInputs`` and hands them over; a script can do the same without QGIS.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..engine import Monitor, Replacement, hand_over
from ..provider_info import resource
from . import drivers, general, npp, planner, resilience
from .builder import Layer, ReportBuilder
from .page import Section, number, render_page
from .rasters import ReportInputError

#: (section id, heading, parameter it needs, what that parameter is) in page order.
SECTIONS = (
    ("index-maps", "Resilience index", "INDEX", "index rasters, one per year"),
    ("class-maps", "Resilience classes", "CLASSES", "class rasters, one per year"),
    ("class-shares", "Class-area shares per year", "CLASSES", "class rasters, one per year"),
    ("several-years", "Several years", "YEARLY",
     "yearly table and transitions table of resilience_years"),
    ("weights", "Indicator weights", "WEIGHTS", "weights table of composite_index"),
    ("sensitivity", "Robustness to the weights", "STABILITY",
     "class stability, index interval rasters or influence table of weight_sensitivity"),
    ("trend", "Trend of the index", "TREND", "trend class raster of index_trend"),
    ("planner", "Where to restore first", "PLANNER", "site ranking table of restoration_planner"),
    ("npp", "Net primary productivity", "NPP", "NPP raster"),
    ("npp-years", "NPP per year", "NPP_YEARS_TABLE", "per-year table of casa_npp_years"),
    ("npp-validation", "NPP validation", "NPP_VALIDATION",
     "statistics table and pairs table of npp_validation"),
    ("correlation", "Location-specific correlation", "CORRELATION", "correlation class rasters"),
    ("importance", "Driver importance", "IMPORTANCE", "importance table"),
    ("rgb", "Relative contributions (RGB)", "RGB", "RGB composite"),
    ("dominant", "Dominant drivers", "DOMINANT", "dominant-driver raster"),
    ("other-maps", "Other maps", "OTHER_RASTERS", "further rasters"),
    ("parameters", "Parameters", "PARAMETERS", "parameter text"),
    ("data-sources", "Data sources", None, "input layers"),
)  # fmt: skip

#: Raster inputs of the report.
RASTER_INPUTS = ("INDEX", "CLASSES", "STABILITY", *resilience.INTERVAL_ROWS, "TREND", "NPP",
                 "CORRELATION", "RGB", "DOMINANT", "OTHER_RASTERS")  # fmt: skip
#: Table inputs, in the order of the data-sources table.
TABLE_INPUTS = ("YEARLY", "TRANSITIONS", "WEIGHTS", "INFLUENCE", "PLANNER", "NPP_YEARS_TABLE",
                "NPP_VALIDATION", "NPP_PAIRS", "IMPORTANCE")  # fmt: skip
#: Columns that hold text even when every value reads as a number (e.g. codes).
TEXT_COLUMNS = ("code", "trend", "name", "indicator", "criterion", "criteria", "category",
                "level", "class", "from_class", "to_class", "site_id", "scenario", "drivers",
                "npp_driver", "action")  # fmt: skip

#: A table input: its field names and rows (field → value).
Table = tuple[list[str], list[dict]]


def typed_table(fields: list[str], rows: list[dict]) -> Table:
    """The table with every column that holds only numbers (as text, from a CSV) in numbers,
    except the ``TEXT_COLUMNS``."""
    for name in fields:
        if name.lower() in TEXT_COLUMNS:
            continue
        values = [row[name] for row in rows if row[name] not in (None, "")]
        if values and all(number(v) is not None for v in values):
            for row in rows:
                row[name] = number(row[name])
    return fields, rows


@dataclass
class ReportInputs:
    """What a report is made of: every layer of each raster input (``RASTER_INPUTS``), each
    table input given (``TABLE_INPUTS``; ``table_sources`` its layer name and path), the labels
    of the layers of an input (years of INDEX and CLASSES, driver names of CORRELATION), and
    the texts."""

    rasters: dict[str, list[Layer]] = field(default_factory=dict)
    tables: dict[str, Table | None] = field(default_factory=dict)
    table_sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)
    parameters_text: str = ""
    planner_summary: str = ""

    def layers(self, name: str) -> list[Layer]:
        return self.rasters.get(name) or []

    def labels_of(self, name: str) -> list[str]:
        """The label of each layer of ``name``: as given, else the layer names."""
        return self.labels.get(name) or [label for _, label in self.layers(name)]

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)


@dataclass
class ReportResult:
    """The page written: its sections (in page order), the sections left out as (id, heading,
    reason), the figures' folder and the PNGs in it."""

    sections: list[Section]
    omitted: list[tuple[str, str, str]]
    folder: Path
    files: list[str]


def figures_folder(html_path: Path) -> Path:
    """The folder of a page's figures: ``<name>_files`` beside it."""
    return html_path.with_name(f"{html_path.stem}_files")


def build_sections(builder: ReportBuilder, inputs: ReportInputs) -> list[Section]:
    """Every section whose input is given, in page order (``SECTIONS``)."""
    sections: list[Section] = []

    def add(*new: Section) -> None:
        for section in new:
            sections.append(section)
            builder.info(f"Section: {section.title}")

    layers, table = inputs.layers, inputs.table
    colours = drivers.driver_colours(layers("DOMINANT"), layers("RGB"))
    index_means = None
    if layers("INDEX"):
        section, index_means = resilience.index_section(
            builder, layers("INDEX"), inputs.labels_of("INDEX")
        )
        add(section)
    if layers("CLASSES"):
        add(
            *resilience.class_sections(
                builder,
                layers("CLASSES"),
                inputs.labels_of("CLASSES"),
                layers("INDEX"),
                index_means,
            )
        )
    if table("YEARLY") is not None or table("TRANSITIONS") is not None:
        add(resilience.years_section(builder, table("YEARLY"), table("TRANSITIONS")))
    if table("WEIGHTS") is not None:
        add(resilience.weights_section(builder, *table("WEIGHTS")))
    interval = [(name, layers(name)[0]) for name in resilience.INTERVAL_ROWS if layers(name)]
    if layers("STABILITY") or interval or table("INFLUENCE") is not None:
        add(
            resilience.sensitivity_section(
                builder, layers("STABILITY"), interval, table("INFLUENCE")
            )
        )
    if layers("TREND"):
        add(resilience.trend_section(builder, layers("TREND")[0]))
    if table("PLANNER") is not None:
        add(planner.planner_section(builder, *table("PLANNER"), inputs.planner_summary))
    if layers("NPP"):
        add(npp.npp_section(builder, layers("NPP")[0]))
    if table("NPP_YEARS_TABLE") is not None:
        add(npp.years_section(builder, *table("NPP_YEARS_TABLE")))
    if table("NPP_VALIDATION") is not None or table("NPP_PAIRS") is not None:
        add(npp.validation_section(builder, table("NPP_VALIDATION"), table("NPP_PAIRS")))
    if layers("CORRELATION"):
        add(
            drivers.correlation_section(
                builder, layers("CORRELATION"), inputs.labels_of("CORRELATION")
            )
        )
    if table("IMPORTANCE") is not None:
        add(drivers.importance_section(builder, *table("IMPORTANCE"), colours))
    if layers("RGB"):
        add(drivers.rgb_section(builder, layers("RGB")[0]))
    if layers("DOMINANT"):
        add(drivers.dominant_section(builder, layers("DOMINANT")[0]))
    if layers("OTHER_RASTERS"):
        add(general.other_section(builder, layers("OTHER_RASTERS")))
    if inputs.parameters_text:
        add(general.parameters_section(inputs.parameters_text))
    tables = {name: table(name) for name in TABLE_INPUTS}
    if builder.facts or any(t is not None for t in tables.values()):
        add(general.sources_section(builder, tables))
    return sections


def omitted_sections(sections: list[Section]) -> list[tuple[str, str, str]]:
    """(id, heading, reason) of every section of ``SECTIONS`` not among ``sections``."""
    present = {section.key for section in sections}
    return [
        (key, heading, f"no {parameter} given ({what})" if parameter else f"no {what}")
        for key, heading, parameter, what in SECTIONS
        if key not in present
    ]


def write_report(
    html_path: Path,
    inputs: ReportInputs,
    *,
    title: str,
    subtitle: str = "",
    map_size: int,
    memory_mb: float,
    monitor: Monitor,
    info: Callable[[str], None] = lambda message: None,
    warn: Callable[[str], None] = lambda message: None,
) -> ReportResult:
    """Draw every section whose input is given and write the page to ``html_path`` with its
    PNGs in ``figures_folder(html_path)``: both are written in hidden staging places and
    moved into place together, or neither (an earlier report's files are put back). A folder
    there that holds more than a report's PNGs is an error, not replaced."""
    folder = figures_folder(html_path)
    if folder.exists() and any(
        not (p.is_file() and p.suffix.lower() == ".png") for p in folder.iterdir()
    ):
        raise ReportInputError(
            f"OUTPUT: the folder {folder} exists and holds more than a report's PNGs; "
            "choose another file name or remove that folder"
        )
    staging = html_path.parent / f".{html_path.stem}_files.{uuid.uuid4().hex[:12]}.partial"
    partial_html = html_path.parent / f".{html_path.name}.{uuid.uuid4().hex[:12]}.partial"
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as error:
        raise ReportInputError(f"OUTPUT: cannot write beside {html_path}: {error}") from None
    builder = ReportBuilder(
        staging,
        quote(folder.name),
        map_size,
        memory_mb,
        monitor,
        units=sum(2 * len(layers) for layers in inputs.rasters.values()) + 1,
        table_sources=inputs.table_sources,
        info=info,
        warn=warn,
    )
    committed = False
    try:
        sections = build_sections(builder, inputs)
        omitted = omitted_sections(sections)
        css_file = resource("styles", "report.css")
        css = css_file.read_text(encoding="utf-8") if css_file.is_file() else ""
        page = render_page(title, sections, omitted, css=css, subtitle=subtitle)
        partial_html.write_text(page, encoding="utf-8")
        monitor.check()
        replacement = Replacement()
        try:
            replacement.put(staging, folder, "OUTPUT", folder=True)
            replacement.put(partial_html, html_path, "OUTPUT")
        except BaseException:
            replacement.rollback()
            raise
        hand_over(replacement)
        committed = True
    finally:
        if not committed:
            shutil.rmtree(staging, ignore_errors=True)
            partial_html.unlink(missing_ok=True)
    return ReportResult(sections, omitted, folder, list(builder.files))

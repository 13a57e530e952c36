"""Sections of any run: further maps (class rasters with their legend and shares, others with a
colour bar), the parameters used, and the data sources of every input."""

from __future__ import annotations

import re

from . import charts, rasters
from .builder import Layer, ReportBuilder, slug
from .maps import ColourScale, continuous_image, map_figure
from .page import ReportFigure, Section, file_cell, html_table, parameters_block, settings_cell

#: Colour maps of further rasters, chosen by the layer name.
NAMED_COLOUR_MAPS = (
    (r"ndvi|fvc|evi|savi|npp|veg|green", "YlGn"),
    (r"lst|temp|heat|thermal", "RdYlBu_r"),
    (r"erosion|soil.?loss|rusle", "YlOrBr"),
    (r"dem|elev|height|slope", "terrain"),
    (r"index|resilien|rsei|eco", "RdYlGn"),
)


def colour_map_for(name: str) -> str:
    """The matplotlib colour map of a further raster named ``name`` (viridis by default)."""
    for pattern, cmap in NAMED_COLOUR_MAPS:
        if re.search(pattern, name, flags=re.IGNORECASE):
            return cmap
    return "viridis"


def other_section(builder: ReportBuilder, layers: list[Layer]) -> Section:
    """Further maps: class rasters with their legend and shares, others stretched between
    their 2nd and 98th percentiles."""
    figures = []
    blocks = []
    for source, label in layers:
        builder.note("OTHER_RASTERS", source, label)
        tally = None
        if rasters.is_class_raster(source.path, source.parameter):
            try:
                tally = builder.counts(source)
            except rasters.ReportInputError as error:  # styled, but not a class raster
                builder.warn(f"{error}: drawn with a colour bar instead")
        if tally is not None:
            src, legend, _ = builder.class_map(source, label, tally)
            shares = charts.percentages([tally.get(e.code, 0) for e in legend])
            blocks.append(
                html_table(
                    ["Class", f"{label}: share (%)", "Pixels"],
                    [
                        (e.label, share, tally.get(e.code, 0))
                        for e, share in zip(legend, shares, strict=True)
                    ],
                    table_id=f"other-{slug(label)}-shares",
                    decimals=2,
                )
            )
            figures.append(
                ReportFigure(
                    src,
                    f"{label}: classes with the raster's legend."
                    + builder.from_inputs(("OTHER_RASTERS", source)),
                )
            )
            continue
        shown = builder.preview(source, bands=(1,))
        vmin, vmax = rasters.stretch(shown.values[0], shown.valid)
        description = shown.descriptions[0] if shown.descriptions else ""
        scale = ColourScale(colour_map_for(label), vmin, vmax, description or label)
        image = continuous_image(shown.values[0], shown.valid)
        figure = map_figure(image, shown.frame, title=label, colour_scale=scale)
        figures.append(
            ReportFigure(
                builder.png(label, figure),
                f"{label}, band 1; colours from {vmin:.4g} to {vmax:.4g} (2nd–98th "
                "percentile)." + builder.from_inputs(("OTHER_RASTERS", source)),
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


def parameters_section(text: str) -> Section:
    """The parameters as given in PARAMETERS (a JSON object: one table per step)."""
    return Section(
        "parameters",
        "Parameters",
        "Every parameter and default used and the data sources, as given in "
        "PARAMETERS (one table per step).",
        blocks=[parameters_block(text)],
    )


def sources_section(builder: ReportBuilder, tables: dict) -> Section:
    """Every raster shown (``builder.facts``) and every table given: file, grid, CRS, the
    producing algorithm and the settings it recorded."""
    rows = [
        (
            parameter,
            label,
            file_cell(path),
            facts["size"],
            facts["pixel"],
            facts["crs"],
            facts["producer"],
            settings_cell(facts.get("settings_items", ())),
        )
        for parameter, label, path, facts in builder.facts
    ]
    for name, table in tables.items():
        if table is not None:
            fields, records = table
            label, path = builder.table_sources.get(name, ("table", ""))
            columns = settings_cell([(field, "") for field in fields], what="column")
            rows.append((name, label, file_cell(path), f"{len(records)} rows", "", "", "", columns))
    table_html = html_table(
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

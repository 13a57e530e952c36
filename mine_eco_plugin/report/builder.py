"""What the sections of the report share: the figures' folder (PNGs numbered in page order),
progress and cancellation, map previews and class counts, captions that name their inputs, the
record of every raster shown (for the data-sources table), and the two shapes that several
sections take (class maps with one legend; a class map with its area shares).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ..engine import Monitor, RasterClass, RasterSource
from . import charts, maps, rasters
from .page import ReportFigure, Section, file_name, html_table, number

#: A raster input: an engine source and the layer's name.
Layer = tuple[RasterSource, str]


def slug(text: str) -> str:
    """A file-name and id fragment of ``text``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "figure"


def by_year(
    parameter: str, expected: str, fields: list[str], rows: list[dict], *, enough: bool = True
) -> tuple[dict[str, str], list[dict], list[str]]:
    """A table with a year column (resilience_years', casa_npp_years'): its fields by
    lower-case name, its rows in year order and each row's year label (the year as an integer;
    '?' where it is not a number, such rows first). Without a year column, or not ``enough``
    of the other columns: an error naming ``parameter`` and the table ``expected``."""
    lower = {field.lower(): field for field in fields}
    if "year" not in lower or not enough:
        raise rasters.ReportInputError(f"{parameter}: expected {expected}, got {', '.join(fields)}")
    ordered = sorted(rows, key=lambda row: number(row[lower["year"]]) or 0)
    labels = [
        str(int(year)) if (year := number(row[lower["year"]])) is not None else "?"
        for row in ordered
    ]
    return lower, ordered, labels


class ReportBuilder:
    """Draws the figures into ``folder`` (linked as ``link``/<name>.png from the page) and keeps
    what the sections share; ``units`` is the number of previews and passes the run will make
    (for progress). ``table_sources`` maps a table input to its (layer name, path); ``info``
    and ``warn`` receive messages for the user."""

    def __init__(
        self,
        folder: Path,
        link: str,
        map_size: int,
        memory_mb: float,
        monitor: Monitor,
        units: int,
        *,
        table_sources: dict[str, tuple[str, str]] | None = None,
        info: Callable[[str], None] = lambda message: None,
        warn: Callable[[str], None] = lambda message: None,
    ):
        self.folder = folder
        self.link = link
        self.map_size = map_size
        self.memory_mb = memory_mb
        self.monitor = monitor
        self.units = max(units, 1)
        self.done = 0
        self.table_sources = dict(table_sources or {})
        self.info = info
        self.warn = warn
        #: The PNGs written, in page order.
        self.files: list[str] = []
        #: (parameter, layer name, path, raster facts) of every raster shown.
        self.facts: list[tuple[str, str, str, dict]] = []

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
        name = f"{len(self.files) + 1:02d}_{slug(stem)}.png"
        charts.save(figure, self.folder / name)
        self.files.append(name)
        return f"{self.link}/{quote(name)}"

    def chart(self, stem: str, figure, caption: str) -> ReportFigure:
        """A chart of the page (laid out one per row): ``figure`` saved as the next PNG."""
        return ReportFigure(self.png(stem, figure), caption, kind="chart")

    def preview(self, source: RasterSource, bands=None) -> rasters.Preview:
        return rasters.read_preview(
            source.path,
            source.parameter,
            bands=bands,
            max_size=self.map_size,
            crs_wkt=source.crs_wkt,
        )

    def counts(self, source: RasterSource) -> dict[int, int]:
        return rasters.class_counts(source, memory_mb=self.memory_mb, monitor=self.span())

    def summary(self, source: RasterSource):
        """Count, mean, standard deviation, minimum and maximum of band 1 (one pass)."""
        return rasters.value_summary(source, memory_mb=self.memory_mb, monitor=self.span())

    def note(self, parameter: str, source: RasterSource, label: str) -> None:
        """Record a raster shown, for the data-sources table."""
        self.facts.append((parameter, label, source.path, rasters.raster_facts(source.path, label)))

    def from_inputs(self, *given) -> str:
        """Caption tail naming the inputs: (parameter, raster source) or (parameter, None) for
        a table input, e.g. 'Input: CLASSES (classes_2001.tif).'"""
        parts = []
        for parameter, source in given:
            if source is None:
                path = self.table_sources.get(parameter, ("", ""))[1]
            elif isinstance(source, list | tuple):
                path = ", ".join(file_name(s.path) for s in source)
            else:
                path = source.path
            name = path if isinstance(source, list | tuple) else file_name(path)
            parts.append(f"{parameter} ({name})" if name else parameter)
        return f" Input{'s' if len(parts) > 1 else ''}: {'; '.join(parts)}."

    def yearly_line(
        self,
        stem: str,
        parameter: str,
        years: list[str],
        values: list[float | None],
        *,
        ylabel: str,
        title: str,
        caption: str,
        what: str,
        decimals: int = 3,
    ) -> tuple[ReportFigure, None, str]:
        """One value per year of the table input ``parameter`` as a line (the resilience
        study's Figure 2 form), as a part of a section: (the chart, no block, the caption fact
        '``what`` <year> <value>, …')."""
        chart = charts.line_figure(
            years, values, ylabel=ylabel, xlabel="Year", title=title, decimals=decimals
        )
        figure = self.chart(stem, chart, caption + self.from_inputs((parameter, None)))
        shown = [
            f"{y} {v:.{decimals}f}" for y, v in zip(years, values, strict=True) if v is not None
        ]
        return figure, None, f"{what} {', '.join(shown)}"

    # --- maps -------------------------------------------------------------------------------
    def class_map(
        self, source: RasterSource, title: str, counts, distinct: bool = False
    ) -> tuple[str, list[RasterClass], list[str]]:
        """The class map, its legend and the labels of the classes recoloured: with
        ``distinct``, classes whose colours are too close to tell apart get other colours
        (the leading single categories keep theirs)."""
        legend = rasters.class_legend(source.path, source.parameter, tuple(counts))
        recoloured: list[str] = []
        if distinct:
            singles = next(
                (i for i, e in enumerate(legend) if ">" in e.label or "coupled" in e.label),
                len(legend),
            )
            legend, recoloured = maps.distinct_legend(legend, keep=singles)
        shown = self.preview(source, bands=(1,))
        image = maps.class_image(shown.values[0].astype(np.int64), shown.valid, legend)
        figure = maps.map_figure(image, shown.frame, title=title, legend=legend)
        return self.png(title, figure), legend, recoloured

    def continuous_map(self, source: RasterSource, title: str, scale: maps.ColourScale) -> str:
        shown = self.preview(source, bands=(1,))
        image = maps.continuous_image(shown.values[0], shown.valid)
        return self.png(title, maps.map_figure(image, shown.frame, title=title, colour_scale=scale))

    # --- shapes several sections take -------------------------------------------------------
    def class_maps(
        self, parameter: str, layers: list[Layer], titles: list[str], captions: list[str]
    ) -> tuple[list[ReportFigure], list[RasterClass], list[dict[int, int]]]:
        """One class map per layer (figure captions ``captions`` naming the input), the legend
        of all of them (classes by code) and each layer's pixel counts per class."""
        counts = [self.counts(source) for source, _ in layers]
        legend: dict[int, RasterClass] = {}
        figures = []
        for (source, label), title, caption, tally in zip(
            layers, titles, captions, counts, strict=True
        ):
            src, own, _ = self.class_map(source, title, tally)
            for entry in own:
                legend.setdefault(entry.code, entry)
            figures.append(ReportFigure(src, caption + self.from_inputs((parameter, source))))
            self.note(parameter, source, label)
        return figures, [legend[code] for code in sorted(legend)], counts

    def share_map_section(
        self,
        key: str,
        heading: str,
        parameter: str,
        layer: Layer,
        caption: str,
        what: str,
        distinct: bool = False,
    ) -> Section:
        """A class raster whose shares matter: its map (``what`` it shows), the share of each
        class as bars and as a table."""
        source, label = layer
        tally = self.counts(source)
        src, legend, recoloured = self.class_map(source, heading, tally, distinct=distinct)
        self.note(parameter, source, label)
        shares = charts.percentages([tally.get(e.code, 0) for e in legend])
        chart = charts.share_bars_figure(legend, shares, title=f"{heading}: area shares")
        rows = [
            (entry.code, entry.label, tally.get(entry.code, 0), share)
            for entry, share in zip(legend, shares, strict=True)
        ]
        table = html_table(
            ["Code", "Class", "Pixels", "Share (%)"],
            rows,
            table_id=f"{key}-shares-table",
            decimals=2,
            footer=[["", "Total", sum(tally.values()), 100.0 if tally else 0.0]],
        )
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
                self.chart(
                    f"{key}_shares",
                    chart,
                    f"{heading}: share of each class in the valid pixels."
                    + self.from_inputs((parameter, source)),
                ),
            ],
            [table],
        )

"""Sections of the NPP-drivers study's outputs: the location-specific correlation classes and
their area shares (its Figure 3 inset), the driver importance ranking (its Figure 4), the
relative-contribution RGB composite and the dominant drivers with their area shares (its
Figure 5)."""

from __future__ import annotations

import numpy as np

from ..engine import RasterClass, styles
from . import charts, rasters
from .builder import Layer, ReportBuilder
from .maps import map_figure
from .page import ReportFigure, Section, html_table, number

#: Columns that may name the drivers of an importance table, in order of preference.
NAME_COLUMNS = ("name", "driver", "variable", "factor", "indicator")
#: Pure red, green and blue: the legend of an RGB composite's channels.
CHANNEL_COLOURS = ((255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255))


def driver_colours(dominant: list[Layer], rgb: list[Layer]) -> dict[str, tuple[int, ...]]:
    """Category colours shared by the importance chart and the dominant map: the dominant
    raster's single-category classes, else the RGB channels' categories."""
    colours: dict[str, tuple[int, ...]] = {}
    if dominant:
        source, _ = dominant[0]
        colours.update(
            rasters.legend_categories(rasters.class_legend(source.path, source.parameter))
        )
    if rgb:
        source, _ = rgb[0]
        for band, name in enumerate(rasters.rgb_categories(source.path, source.parameter) or []):
            if name != "-":
                colours.setdefault(name, (*styles.CATEGORY_COLOURS[band], 255))
    return colours


def correlation_section(builder: ReportBuilder, layers: list[Layer], names: list[str]) -> Section:
    """A class map per driver and the area shares of significant positive, significant
    negative and insignificant correlation."""
    figures, entries, counts = builder.class_maps(
        "CORRELATION",
        layers,
        [f"Correlation with {name}" for name in names],
        [f"Local correlation classes with {name}." for name in names],
    )
    shares = charts.class_shares(entries, counts)
    chart = charts.stacked_shares_figure(
        names,
        entries,
        shares,
        horizontal=True,
        title="Area shares of the correlation classes",
        group_label="Driver",
    )
    figures.append(
        builder.chart(
            "correlation_shares",
            chart,
            "Share of significant positive, significant negative and insignificant "
            "correlation in the valid pixels, per driver."
            + builder.from_inputs(("CORRELATION", [s for s, _ in layers])),
        )
    )
    rows = [
        [name, *(float(v) for v in shares[:, j]), sum(counts[j].values())]
        for j, name in enumerate(names)
    ]
    table = html_table(
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


def importance_columns(fields, rows) -> tuple[str, str, str | None]:
    """The (name, value, category) columns of an importance table: rf_driver_contribution's
    (name, percent, category), or any column naming the drivers beside a numeric column."""
    lower = {field.lower(): field for field in fields}
    name_field = next((lower[k] for k in NAME_COLUMNS if k in lower), None)
    numeric = [
        f
        for f in fields
        if rows and all(number(r[f]) is not None for r in rows) and f != name_field
    ]
    value_field = next(
        (lower[k] for k in ("percent", "importance") if k in lower and lower[k] in numeric),
        next((f for f in numeric if not f.lower().endswith("_sd")), None),
    )
    if value_field is None:
        raise rasters.ReportInputError(
            "IMPORTANCE: no numeric column with a value for every row (e.g. percent or importance)"
        )
    if name_field is None:
        name_field = next((f for f in fields if f not in numeric), None)
    if name_field is None:
        raise rasters.ReportInputError(
            "IMPORTANCE: no column naming the drivers (e.g. name or driver) beside the "
            f"numbers ({', '.join(fields)})"
        )
    return name_field, value_field, lower.get("category")


def importance_section(
    builder: ReportBuilder, fields, rows, colours: dict[str, tuple[int, ...]]
) -> Section:
    """The drivers' importance, largest first, coloured by category (``colours``, others
    from ``styles.CATEGORY_COLOURS``), with the category totals."""
    lower = {field.lower(): field for field in fields}
    if "level" in lower:
        drivers_only = [r for r in rows if str(r[lower["level"]]).lower() == "driver"]
        rows = drivers_only or rows
    name_field, value_field, category_field = importance_columns(fields, rows)
    names = [str(r[name_field]) for r in rows]
    values = [float(number(r[value_field])) for r in rows]
    categories = [str(r[category_field]) for r in rows] if category_field else None
    errors = None
    if "importance_sd" in lower:
        sd = [number(r[lower["importance_sd"]]) for r in rows]
        if value_field.lower() == "importance":
            errors = sd
        elif "importance" in lower:
            raw = [number(r[lower["importance"]]) for r in rows]
            errors = [
                s * v / i if s is not None and i else None
                for s, v, i in zip(sd, values, raw, strict=True)
            ]
    palette = styles.category_colours(dict.fromkeys(categories), colours) if categories else colours
    percent = value_field.lower() == "percent"
    chart = charts.importance_figure(
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
    blocks = [html_table(columns, body, table_id="importance-table", decimals=2)]
    if categories:
        totals: dict[str, float] = {}
        for category, value in zip(categories, values, strict=True):
            totals[category] = totals.get(category, 0.0) + value
        blocks.append(
            html_table(
                ["Category", f"Total {heading.lower()}"],
                sorted(totals.items(), key=lambda item: -item[1]),
                table_id="importance-categories-table",
                decimals=2,
            )
        )
    by_category = ", coloured by category" if categories else ""
    return Section(
        "importance",
        "Driver importance",
        "Importance of each driver in the forest on all drivers, largest first (like the "
        "NPP-drivers study's Figure 4)"
        + (f"{by_category} with the category totals." if categories else "."),
        [
            builder.chart(
                "importance",
                chart,
                f"Driver importance, largest first{by_category}."
                + builder.from_inputs(("IMPORTANCE", None)),
            )
        ],
        blocks,
    )


def rgb_section(builder: ReportBuilder, layer: Layer) -> Section:
    """The relative-contribution RGB composite, its channels named from the band
    descriptions (each band stretched when it is not 8-bit)."""
    source, label = layer
    dataset = rasters.open_raster(source.path, source.parameter)
    if dataset.RasterCount < 3:
        raise rasters.ReportInputError(
            f"{source.parameter}: has {dataset.RasterCount} band(s); 3 (RGB) or 4 (RGBA) are needed"
        )
    shown = builder.preview(source, bands=(1, 2, 3))
    builder.note("RGB", source, label)
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
    colours = ("Red", "Green", "Blue")
    if channels:
        legend = [
            RasterClass(i, f"{colour}: {name}", CHANNEL_COLOURS[i])
            for i, (colour, name) in enumerate(zip(colours, channels, strict=True))
        ]
        order = ", ".join(f"band {i + 1} → {e.label}" for i, e in enumerate(legend))
    else:
        legend = [
            RasterClass(i, f"{colour}: band {i + 1}", CHANNEL_COLOURS[i])
            for i, colour in enumerate(colours)
        ]
        order = "bands 1, 2, 3 → red, green, blue (the raster names no categories)"
    figure = map_figure(
        image, shown.frame, title="Relative contributions", legend=legend, legend_title="Channel"
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
        f"5a): {order}; {meaning}; mixed colours mark shared control.",
        [
            ReportFigure(
                builder.png("rgb", figure),
                f"Relative contributions as colours: {order}."
                + builder.from_inputs(("RGB", source)),
            )
        ],
    )


def dominant_section(builder: ReportBuilder, layer: Layer) -> Section:
    """rf_driver_contribution's dominant drivers: map (coupled classes too alike recoloured)
    and area shares."""
    return builder.share_map_section(
        "dominant",
        "Dominant drivers",
        "DOMINANT",
        layer,
        "The category (or ordered pair of categories) dominating each pixel's relative "
        "contribution, and the share of each class (like the NPP-drivers study's Figure 5b and "
        "its inset).",
        "Dominant driver (category or coupled pair) of every pixel",
        distinct=True,
    )

"""Sections of the resilience study's outputs: the index maps, the class maps and their shares
per year (its Figure 3), several years from resilience_years (its Figures 2 and 3, class
transitions), the weights (its Table 2), the robustness to the weights (weight_sensitivity) and
the index trend."""

from __future__ import annotations

import numpy as np

from ..engine import styles
from . import charts, rasters
from .builder import Layer, ReportBuilder, by_year
from .maps import ColourScale, continuous_image, map_figure
from .page import ReportFigure, Section, html_table, number, parts_section

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
#: weight_sensitivity's index over the draws: input → row label of the interval table.
INTERVAL_ROWS = {
    "SENSITIVITY_MEAN": "Mean over the draws",
    "SENSITIVITY_LOW": "5 % percentile of the draws",
    "SENSITIVITY_HIGH": "95 % percentile of the draws",
}
#: weight_sensitivity OUTPUT_INFLUENCE columns and the headings shown.
INFLUENCE_COLUMNS = (
    ("rank", "Rank"),
    ("indicator", "Indicator"),
    ("trend", "Trend"),
    ("weight", "Weight"),
    ("weight_p05", "Weight, 5 % of draws"),
    ("weight_p95", "Weight, 95 % of draws"),
    ("spearman_rho", "Spearman ρ with the mean index"),
)
SUMMARY_COLUMNS = ["Valid pixels", "Mean", "Std. dev.", "Minimum", "Maximum"]


def summary_rows(labels, summaries) -> list[tuple]:
    """Table rows (label, valid pixels, mean, std. dev., minimum, maximum) of band summaries;
    the statistics are empty where a summary has no valid pixel."""
    return [
        (label, s.count, *((s.mean, s.std, s.minimum, s.maximum) if s.count else (None,) * 4))
        for label, s in zip(labels, summaries, strict=True)
    ]


def index_section(
    builder: ReportBuilder, layers: list[Layer], years: list[str]
) -> tuple[Section, list[float | None]]:
    """The index maps on one colour scale and their statistics; also the mean per year."""
    summaries = []
    for source, label in layers:
        summaries.append(builder.summary(source))
        builder.note("INDEX", source, label)
    valid = [s for s in summaries if s.count]
    vmin = min((s.minimum for s in valid), default=0.0)
    vmax = max((s.maximum for s in valid), default=1.0)
    if vmax <= vmin:
        vmax = vmin + 1e-6
    scale = ColourScale("RdYlGn", vmin, vmax, "Index")
    figures = [
        ReportFigure(
            builder.continuous_map(source, f"Index {year}", scale),
            f"Resilience index {year}, on the colour scale shared by all years "
            f"({vmin:.3f}–{vmax:.3f})." + builder.from_inputs(("INDEX", source)),
        )
        for (source, _), year in zip(layers, years, strict=True)
    ]
    table = html_table(
        ["Year", *SUMMARY_COLUMNS], summary_rows(years, summaries), table_id="index-statistics"
    )
    section = Section(
        "index-maps",
        "Resilience index",
        f"The index per year on one colour scale ({vmin:.3f} red to {vmax:.3f} green, the "
        "range over all years), with its statistics over all valid pixels.",
        figures,
        [table],
    )
    return section, [s.mean if s.count else None for s in summaries]


def class_sections(
    builder: ReportBuilder,
    layers: list[Layer],
    years: list[str],
    index: list[Layer],
    index_means: list[float | None] | None,
) -> list[Section]:
    """The class maps, and the class shares per year (with the mean index of ``index`` per
    year as a line when there is one per class raster)."""
    figures, entries, counts = builder.class_maps(
        "CLASSES",
        layers,
        [f"Classes {year}" for year in years],
        [f"Resilience classes {year}, with the raster's own legend." for year in years],
    )
    maps_section = Section(
        "class-maps",
        "Resilience classes",
        "The class raster of each year with its legend (the raster's colour table and "
        "category names, or its QML style).",
        figures,
    )
    totals = [sum(tally.values()) for tally in counts]
    shares = charts.class_shares(entries, counts)
    means = index_means if index_means and len(index_means) == len(counts) else None
    chart = charts.stacked_shares_figure(
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
    table = html_table(
        ["Class", *years],
        rows,
        table_id="class-shares-table",
        decimals=2,
        footer=footer,
        cell_attributes=attributes,
    )
    line = "; the line is the mean index per year." if means is not None else "."
    shares_section = Section(
        "class-shares",
        "Class-area shares per year",
        "Share of each class in the valid pixels of each year (like the resilience study's "
        "Figure 3); shares in %, rounded to 0.01 and summing to 100 per year" + line,
        [
            builder.chart(
                "class_shares",
                chart,
                "Share of each class in the valid pixels of each year (100 % stacked bars)"
                + line
                + builder.from_inputs(
                    ("CLASSES", [s for s, _ in layers]),
                    *([("INDEX", [s for s, _ in index])] if means else []),
                ),
            )
        ],
        [table],
    )
    return [maps_section, shares_section]


def weights_section(builder: ReportBuilder, fields, rows) -> Section:
    """The weights table in the form of the resilience study's Table 2."""
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
        numbers = [number(row[field]) for row in rows]
        if field.lower() in WEIGHT_SUMS and any(n is not None for n in numbers):
            sums.append(float(sum(n for n in numbers if n is not None)))
        else:
            sums.append(None)
    footer = (
        [["Sum", *("" if s is None else s for s in sums[1:])]]
        if any(s is not None for s in sums[1:])
        else []
    )
    table = html_table(headings, body, table_id="weights-table", decimals=4, footer=footer)
    kinds = [
        name
        for name in ("objective", "subjective", "combined")
        if name in lower and lower[name] in ordered
    ]
    caption = (
        f"{len(rows)} indicator(s) with their trend"
        + (
            f" and {', '.join(kinds[:-1]) + ' and ' if len(kinds) > 1 else ''}{kinds[-1]} weights"
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
        caption + builder.from_inputs(("WEIGHTS", None)),
        blocks=[table],
    )


# --- several years (resilience_years) -------------------------------------------------------
def years_section(builder: ReportBuilder, yearly, transitions) -> Section:
    """The mean index per year (line, the resilience study's Figure 2), the class shares per
    year (100 % stacked bars, its Figure 3) and the class transitions between consecutive
    years (one matrix per pair), from resilience_years' tables."""
    parts, labels = yearly_parts(builder, *yearly) if yearly is not None else ([], [])
    if transitions is not None:
        parts += transition_parts(*transitions, labels)
    return parts_section(
        "several-years",
        "Several years",
        "The index and its classes over several years on one scale (resilience_years)",
        parts,
    )


def yearly_parts(builder: ReportBuilder, fields, rows) -> tuple[list, list[str]]:
    """resilience_years' yearly table: the mean index as a line, the class shares as stacked
    bars and the table; also the class labels (of the pct_<class> columns, worst to best)."""
    parts = []
    share_fields = [f for f in fields if f.lower().startswith("pct_")]
    lower, rows, years = by_year(
        "YEARLY",
        "resilience_years OUTPUT_YEARS (columns year, pixels, mean_index, pct_<class>)",
        fields,
        rows,
        enough=bool(share_fields) or "mean_index" in (f.lower() for f in fields),
    )
    labels = [f[4:].replace("_", " ") for f in share_fields]
    means = [number(row[lower["mean_index"]]) for row in rows] if "mean_index" in lower else None
    if means is not None:
        parts.append(
            builder.yearly_line(
                "yearly_mean_index",
                "YEARLY",
                years,
                means,
                ylabel="Mean resilience index",
                title="Mean resilience index per year",
                caption="Mean resilience index over the valid pixels of each year (like the "
                "resilience study's Figure 2).",
                what="mean index",
            )
        )
    if share_fields:
        shares = np.array([[number(row[f]) or 0.0 for row in rows] for f in share_fields])
        chart = charts.stacked_shares_figure(
            years,
            styles.red_to_green_classes(labels),
            shares,
            title="Class shares per year",
            group_label="Year",
            means=means,
        )
        figure = builder.chart(
            "yearly_class_shares",
            chart,
            "Share of each resilience class in the valid pixels of each year "
            "(100 % stacked bars, like the resilience study's Figure 3)"
            + ("; the line is the mean index." if means is not None else ".")
            + builder.from_inputs(("YEARLY", None)),
        )
        parts.append((figure, None, ""))
    pixels = lower.get("pixels")
    columns = (
        ["Year"]
        + (["Valid pixels"] if pixels else [])
        + (["Mean index"] if means is not None else [])
        + [f"{label} (%)" for label in labels]
    )
    body = [
        [year]
        + ([int(number(row[pixels]) or 0)] if pixels else [])
        + ([mean] if means is not None else [])
        + [number(row[f]) for f in share_fields]
        for year, row, mean in zip(years, rows, means or [None] * len(rows), strict=True)
    ]
    parts.append((None, html_table(columns, body, table_id="yearly-table", decimals=4), ""))
    return parts, labels


def transition_parts(fields, rows, labels) -> list:
    """One matrix per pair of consecutive years: pixels from each class (rows) to each class
    (columns); the diagonal stays, right of it improves when the classes run from worst to
    best (``labels``). The caption fact: the share kept, improved and declined per pair."""
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
            str(int(v)) if (v := number(row[lower[k]])) is not None else str(row[lower[k]])
            for k in ("from_year", "to_year")
        )
        before, after = str(row[lower["from_class"]]), str(row[lower["to_class"]])
        for name in (before, after):
            if name not in seen:
                seen.append(name)
        count = int(number(row[lower["pixels"]]) or 0)
        km2 = number(row[area]) if area else None
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
            html_table(
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
    return [(None, block, "") for block in blocks] + [(None, None, "; ".join(changes))]


# --- robustness to the weights (weight_sensitivity) -----------------------------------------
def sensitivity_section(
    builder: ReportBuilder, stability: list[Layer], interval: list[tuple[str, Layer]], influence
) -> Section:
    """Class stability (map, share of the area per stability class), the index's mean and 90 %
    interval over the draws (table; the interval's width mapped) and the indicators' influence
    (weight_sensitivity)."""
    parts = []
    if stability:
        parts.append(stability_part(builder, stability[0]))
    if interval:
        parts.append(index_interval(builder, interval))
    if influence is not None:
        parts.append((None, *influence_table(*influence)))
    return parts_section(
        "sensitivity",
        "Robustness to the weights",
        "How much the resilience map rests on the subjective weights: many plausible "
        "weight vectors were drawn (weight_sensitivity) and the index and its class "
        "recomputed for each",
        parts,
        lead=". Here ",
    )


def stability_part(builder: ReportBuilder, layer: Layer) -> tuple[ReportFigure, str, str]:
    """The class stability map, the share of the area in each stability class, and the
    caption fact (mean stability, share stable in more than 90 % of the draws)."""
    source, label = layer
    builder.note("STABILITY", source, label)
    bounds = tuple(bound for bound, _, _ in styles.STABILITY_STYLE[:3]) + (
        float(np.nextafter(1.0, 0.0)),
    )
    counts, mean = rasters.interval_counts(
        source, bounds, memory_mb=builder.memory_mb, monitor=builder.span()
    )
    scale = ColourScale("RdYlGn", 0.0, 1.0, "Share of draws in the modal class")
    figure = ReportFigure(
        builder.continuous_map(source, "Class stability", scale),
        "Class stability: the share of the weight draws that give each pixel its "
        "most frequent class." + builder.from_inputs(("STABILITY", source)),
    )
    shares = charts.percentages(counts)
    total = sum(counts)
    table = html_table(
        ["Class stability", "Pixels", "Share (%)"],
        [
            (text, count, share)
            for (_, _, text), count, share in zip(
                styles.STABILITY_STYLE, counts, shares, strict=True
            )
        ],
        table_id="stability-table",
        decimals=2,
        footer=[["Total", total, 100.0 if total else 0.0]],
    )
    fact = ""
    if total:
        robust = 100.0 * (counts[-2] + counts[-1]) / total
        fact = (
            f"the mean class stability is {mean:.3f} and {robust:.1f} % of the "
            "valid pixels keep their class in more than 90 % of the draws"
        )
    return figure, table, fact


def influence_table(fields, rows) -> tuple[str, str]:
    """weight_sensitivity's influence table by rank, and the caption fact (the indicator the
    study-area mean index depends most on)."""
    lower = {field.lower(): field for field in fields}
    columns = [(lower[key], heading) for key, heading in INFLUENCE_COLUMNS if key in lower]
    if len(columns) < 2:  # not weight_sensitivity's table: show it as it is
        columns = [(field, field) for field in fields]
    if "rank" in lower:
        field = lower["rank"]
        rows = sorted(rows, key=lambda row: number(row[field]) or 0)
        rows = [
            {**row, field: int(number(row[field]))} if number(row[field]) is not None else row
            for row in rows
        ]
    table = html_table(
        [heading for _, heading in columns],
        [[row[field] for field, _ in columns] for row in rows],
        table_id="influence-table",
        decimals=4,
    )
    fact = ""
    if {"spearman_rho", "indicator", "rank"} <= set(lower) and rows:
        first = rows[0]
        fact = (
            f"the study-area mean index depends most on {first[lower['indicator']]} "
            f"(ρ = {number(first[lower['spearman_rho']]) or 0:+.3f})"
        )
    return table, fact


def index_interval(
    builder: ReportBuilder, layers: list[tuple[str, Layer]]
) -> tuple[ReportFigure | None, str, str]:
    """The index over the weight draws: mean, 5 % and 95 % percentile rasters summarised over
    the pixels valid in all of them, and, with both percentiles, the width of the 90 % interval
    (summarised and mapped). Returns (map or None, table, caption fact)."""
    names = [name for name, _ in layers]
    for name, (source, label) in layers:
        builder.note(name, source, label)
    width = ()
    if {"SENSITIVITY_LOW", "SENSITIVITY_HIGH"} <= set(names):
        width = ((names.index("SENSITIVITY_HIGH"), names.index("SENSITIVITY_LOW")),)
    summaries = rasters.joint_summaries(
        [source for _, (source, _) in layers],
        width,
        memory_mb=builder.memory_mb,
        monitor=builder.span(),
    )
    labels = [INTERVAL_ROWS[name] for name in names]
    labels += ["Width of the 90 % interval (95 % − 5 %)"] if width else []
    table = html_table(
        ["Index over the draws", *SUMMARY_COLUMNS],
        summary_rows(labels, summaries),
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
            f"its 90 % interval is {spread.mean:.3f} wide on average (at most {spread.maximum:.3f})"
        )
        figure = interval_width_map(builder, dict(layers))
    return figure, table, " and ".join(parts)


def interval_width_map(builder: ReportBuilder, layers: dict[str, Layer]) -> ReportFigure | None:
    """The width of the 90 % interval (95 % − 5 % percentile rasters) mapped, colours
    stretched; None when the two rasters do not share a grid."""
    low_source, high_source = layers["SENSITIVITY_LOW"][0], layers["SENSITIVITY_HIGH"][0]
    low = builder.preview(low_source, bands=(1,))
    high = builder.preview(high_source, bands=(1,))
    if low.values.shape != high.values.shape:  # not one grid (weight_sensitivity's)
        return None
    values = high.values[0] - low.values[0]
    valid = low.valid & high.valid
    bottom, top = rasters.stretch(values, valid)  # 2nd–98th percentile
    scale = ColourScale("YlOrRd", bottom, top, "Width of the 90 % interval")
    title = "Width of the index's 90 % interval"
    src = builder.png(
        title,
        map_figure(continuous_image(values, valid), low.frame, title=title, colour_scale=scale),
    )
    return ReportFigure(
        src,
        "Width of the index's 90 % interval over the weight draws (95 % − 5 % "
        "percentile, colours stretched between its 2nd and 98th percentiles): "
        "where the index depends most on the weights."
        + builder.from_inputs(("SENSITIVITY_LOW", low_source), ("SENSITIVITY_HIGH", high_source)),
    )


def trend_section(builder: ReportBuilder, layer: Layer) -> Section:
    """index_trend's classes: map and area shares."""
    return builder.share_map_section(
        "trend",
        "Trend of the index",
        "TREND",
        layer,
        "Trend class of every pixel (Sen's slope and Mann–Kendall test) and the share of each "
        "class in the valid pixels.",
        "Trend class of every pixel",
    )

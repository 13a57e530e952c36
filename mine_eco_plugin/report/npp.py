"""Sections of net primary productivity: the CASA NPP map and its statistics, the mean NPP of
each year of casa_npp_years, and the NPP validation of npp_validation (simulated against
reference NPP, the NPP-drivers study's Table 2 comparison)."""

from __future__ import annotations

from ..engine import styles
from . import charts, rasters
from .builder import Layer, ReportBuilder, by_year
from .maps import ColourScale
from .page import ReportFigure, Section, html_table, number, parts_section

NPP_UNIT = "gC·m⁻²·yr⁻¹"
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

#: casa_npp_years OUTPUT_TABLE columns (after the year) and the headings shown; other columns
#: follow as they are.
YEARS_COLUMNS = (
    ("ndvi_layers", "NDVI layers"),
    ("mean_npp", f"Mean NPP ({NPP_UNIT})"),
    ("valid_pixels", "Valid pixels"),
)
#: Columns of counts, shown as integers (a CSV gives them as decimal numbers).
YEARS_COUNTS = ("ndvi_layers", "valid_pixels")


def npp_section(builder: ReportBuilder, layer: Layer) -> Section:
    """Annual NPP from the smallest to the largest value, with its statistics."""
    source, label = layer
    summary = builder.summary(source)
    builder.note("NPP", source, label)
    vmin, vmax = (summary.minimum, summary.maximum) if summary.count else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1e-6
    src = builder.continuous_map(
        source, "NPP", ColourScale("YlGn", vmin, vmax, f"NPP ({NPP_UNIT})")
    )
    stats = (
        f"mean {summary.mean:.2f}, standard deviation {summary.std:.2f}, range "
        f"{summary.minimum:.2f}–{summary.maximum:.2f} {NPP_UNIT} over {summary.count} pixels"
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
                f"Annual NPP ({NPP_UNIT}), colours from the smallest to the largest value."
                + builder.from_inputs(("NPP", source)),
            )
        ],
    )


def years_section(builder: ReportBuilder, fields, rows) -> Section:
    """casa_npp_years' table: the mean NPP of each year as a line and the table of the years
    (year order), its row of the per-pixel mean over the years ('mean') as the footer."""
    lower, rows, labels = by_year(
        "NPP_YEARS_TABLE",
        "casa_npp_years OUTPUT_TABLE (columns year, ndvi_layers, mean_npp, valid_pixels)",
        fields,
        rows,
        enough="mean_npp" in (f.lower() for f in fields),
    )
    year = lower["year"]
    yearly = [(label, row) for label, row in zip(labels, rows, strict=True) if label != "?"]
    overall = [row for label, row in zip(labels, rows, strict=True) if label == "?"]
    if not yearly:
        raise rasters.ReportInputError(
            f"NPP_YEARS_TABLE: no row with a year (column {year}) in the table"
        )
    columns = [lower[key] for key, _ in YEARS_COLUMNS if key in lower]
    columns += [f for f in fields if f not in columns and f != year]
    headings = {lower[key]: heading for key, heading in YEARS_COLUMNS if key in lower}

    def cell(row, field):
        value = row[field]
        if field.lower() in YEARS_COUNTS and number(value) is not None:
            return int(number(value))
        return value

    def footer(row):
        # casa_npp_years writes 0 NDVI layers on its 'mean' row: not a count of layers.
        text = "" if row[year] is None else str(row[year]).strip()
        label = "Per-pixel mean over the years" if text.lower() == "mean" else text
        return [label] + [
            None if f.lower() == "ndvi_layers" and not number(row[f]) else cell(row, f)
            for f in columns
        ]

    table = html_table(
        ["Year", *(headings.get(f, f) for f in columns)],
        [[label, *(cell(row, f) for f in columns)] for label, row in yearly],
        table_id="npp-years-table",
        decimals=2,
        footer=[footer(row) for row in overall],
    )
    means = [number(row[lower["mean_npp"]]) for _, row in yearly]
    line = builder.yearly_line(
        "npp_years",
        "NPP_YEARS_TABLE",
        [label for label, _ in yearly],
        means,
        ylabel=f"Mean NPP ({NPP_UNIT})",
        title="Mean NPP per year",
        caption=f"Mean annual NPP ({NPP_UNIT}) over the valid pixels of each year, from the "
        "CASA model run year by year.",
        what=f"mean NPP ({NPP_UNIT})",
        decimals=1,
    )
    return parts_section(
        "npp-years",
        "NPP per year",
        "Annual NPP of each year from the CASA model (casa_npp_years), its mean over the "
        "valid pixels of the year"
        + ("; the last row is the per-pixel mean over the years" if overall else ""),
        [line, (None, table, "")],
    )


def validation_section(builder: ReportBuilder, statistics, pairs) -> Section:
    """Simulated NPP against reference values (npp_validation): the scatter chart with the
    1:1 line coloured by land-cover class, and the statistics overall and per class (the
    NPP-drivers study's Table 2 comparison)."""
    parts = []
    if pairs is not None:
        parts.append((validation_chart(builder, *pairs), None, ""))
    if statistics is not None:
        parts.append((None, *validation_table(*statistics)))
    return parts_section(
        "npp-validation",
        "NPP validation",
        "Simulated NPP compared with reference values, overall ('all') and per land-cover "
        "class: pairs, means, bias (simulated − reference), relative bias, RMSE and "
        "Pearson's r (like the NPP-drivers study's Table 2)",
        parts,
    )


def validation_chart(builder: ReportBuilder, fields, rows) -> ReportFigure:
    """Simulated against reference NPP of npp_validation's pairs, one colour per class."""
    lower = {field.lower(): field for field in fields}
    if not {"simulated", "reference"} <= set(lower):
        raise rasters.ReportInputError(
            "NPP_PAIRS: expected npp_validation OUTPUT_PAIRS (columns x, y, class, "
            f"simulated, reference), got {', '.join(fields)}"
        )
    kept = [
        row
        for row in rows
        if number(row[lower["simulated"]]) is not None
        and number(row[lower["reference"]]) is not None
    ]
    groups = [str(row[lower["class"]]) if "class" in lower else "all" for row in kept]
    names = list(dict.fromkeys(groups))
    chart = charts.scatter_figure(
        [number(row[lower["reference"]]) for row in kept],
        [number(row[lower["simulated"]]) for row in kept],
        groups,
        dict(zip(names, styles.cycled(styles.GROUP_COLOURS, len(names)), strict=True)),
        unit=NPP_UNIT,
        title="Simulated against reference NPP",
    )
    return builder.chart(
        "npp_validation",
        chart,
        f"Simulated against reference NPP at {len(kept)} compared pairs, coloured "
        "by land-cover class; the dashed line is 1:1 (points above it: simulated "
        "higher than the reference)." + builder.from_inputs(("NPP_PAIRS", None)),
    )


def validation_table(fields, rows) -> tuple[str, str]:
    """npp_validation's statistics (relative bias in %), and the caption fact (the overall
    bias, RMSE and r)."""
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
        if field.lower() == "relative_bias" and number(value) is not None:
            return 100.0 * number(value)
        if field.lower() == "n" and number(value) is not None:
            return int(number(value))
        return value

    table = html_table(
        [heading for _, heading in columns],
        [[cell(row, field) for field, _ in columns] for row in rows],
        table_id="npp-validation-table",
        decimals=3,
    )
    overall = next((r for r in rows if "class" in lower and str(r[lower["class"]]) == "all"), None)
    fact = ""
    if overall is not None and {"bias", "rmse", "r"} <= set(lower):
        fact = (
            f"overall bias {number(overall[lower['bias']]) or 0:+.2f} {NPP_UNIT}, "
            f"RMSE {number(overall[lower['rmse']]) or 0:.2f} {NPP_UNIT}, "
            f"r = {number(overall[lower['r']]) or 0:.3f}"
        )
    return table, fact

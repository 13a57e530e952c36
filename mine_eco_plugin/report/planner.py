"""The section of restoration_planner's ranking: its summary in words, the gain against cost of
each candidate site, the sites ranked (scenario 'single', by rank) and all sites together."""

from __future__ import annotations

from html import escape

from . import rasters
from .builder import ReportBuilder
from .charts import gain_cost_figure
from .page import ReportFigure, Section, html_table, number

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
#: Columns of a ranked site that the row of all sites together leaves out.
SINGLE_SITE_COLUMNS = ("rank", "target", "npp_driver", "action")


def planner_value(row: dict, key: str):
    """A cell of the site tables: None for '–', whole numbers for ranks, targets and pixel
    counts, site ids and targets as given, other numbers as numbers."""
    cell = row.get(key)
    if cell in (None, ""):
        return None
    if key in PLANNER_INTEGERS and number(cell) is not None:
        return int(number(cell))
    if key in ("site_id", "target"):
        return cell
    value = number(cell)
    return cell if value is None and isinstance(cell, str) else value


def planner_section(builder: ReportBuilder, fields, rows, summary: str = "") -> Section:
    """restoration_planner's ranking: its SUMMARY, total gain against cost (or area), the
    sites ranked (scenario 'single', by rank) and all sites together ('all')."""
    missing = [key for key in ("site_id", "scenario", "rank", "total_gain") if key not in fields]
    if missing:
        raise rasters.ReportInputError(
            f"PLANNER: expected restoration_planner OUTPUT (columns site_id, scenario, rank, "
            f"area_ha, total_gain, …); {', '.join(missing)} missing"
        )
    singles = sorted(
        (r for r in rows if str(r["scenario"]) == "single"),
        key=lambda r: (number(r["rank"]) is None, number(r["rank"]) or 0),
    )
    together = [r for r in rows if str(r["scenario"]) == "all"]
    columns = [(key, heading) for key, heading in PLANNER_COLUMNS if key in fields]
    blocks = [f'<p class="planner-summary">{escape(summary)}</p>'] if summary else []
    alone = "Candidate sites, each restored alone, by rank (1 = best)."
    blocks.append(site_table("planner-table", columns, singles, alone))
    if together:
        shown = [(key, heading) for key, heading in columns if key not in SINGLE_SITE_COLUMNS]
        all_sites = "All sites restored together (not ranked)."
        blocks.append(site_table("planner-all-table", shown, together, all_sites))
    figures = []
    if singles:
        figures.append(gain_cost_chart(builder, singles, fields))
    best = singles[0]["site_id"] if singles else None
    caption = (
        f"{len(singles)} candidate site(s) ranked by the index gain they would bring"
        + (f"; best: {best}" if best is not None else "")
        + ". A ranking under the index's own assumptions, not a forecast of recovery."
    )
    return Section("planner", "Where to restore first", caption, figures, blocks)


def site_table(table_id: str, columns, rows, caption: str) -> str:
    """A table of sites: ``columns`` (key, heading) of each row."""
    return html_table(
        [heading for _, heading in columns],
        [[planner_value(row, key) for key, _ in columns] for row in rows],
        table_id=table_id,
        decimals=4,
        caption=caption,
    )


def gain_cost_chart(builder: ReportBuilder, singles: list[dict], fields) -> ReportFigure:
    """Total gain of each site restored alone against its cost (or area without costs)."""
    cost_given = "cost" in fields and any(number(r.get("cost")) is not None for r in singles)
    chart_rows = [
        {
            "site_id": r["site_id"],
            "rank": planner_value(r, "rank"),
            "total_gain": number(r["total_gain"]),
            "cost": number(r.get("cost")),
            "area_ha": number(r.get("area_ha")),
        }
        for r in singles
    ]
    figure = gain_cost_figure(
        chart_rows,
        cost_given,
        f"Total index gain against {'cost' if cost_given else 'site area'} per candidate site",
        dpi=130,
    )
    against = (
        "against its cost (cost per ha × area)"
        if cost_given
        else "against its area (no costs given)"
    )
    return builder.chart(
        "planner_gain_cost",
        figure,
        "Total gain of the resilience index (index · ha) of each candidate site restored "
        f"alone, {against}, labelled with site and rank." + builder.from_inputs(("PLANNER", None)),
    )

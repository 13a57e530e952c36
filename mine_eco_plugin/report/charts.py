"""Charts of the HTML report, after the studies' figures: class-area shares per year as 100 %
stacked bars (the resilience study's Figure 3) and the mean index per year as a line (its
Figure 2), driver importance as horizontal bars sorted largest on top and coloured by category
(the NPP-drivers study's Figure 4), area shares of correlation and dominant-driver classes (the
insets of its Figures 3 and 5b), simulated against reference NPP, and the restoration planner's
gain against cost.

matplotlib is imported inside the drawing functions and draws on its Agg canvas only
(``Figure`` + ``FigureCanvasAgg``), so the global backend of a running QGIS desktop is never
touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..engine import RasterClass, styles


def new_figure(width_in: float, height_in: float, dpi: int = 130):
    """An empty matplotlib Figure on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def finished(figure, axes, title: str = ""):
    """``figure`` with ``title`` over ``axes`` (when given), laid out tight."""
    if title:
        axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure


def colour_fractions(color: Sequence[int]) -> tuple[float, ...]:
    """An (r, g, b[, a]) colour of 0–255 as matplotlib's fractions of 1."""
    return tuple(c / 255.0 for c in color)


def save(figure, path) -> None:
    """Write a figure as PNG, cropped to what is drawn (legends outside the axes included)."""
    figure.savefig(str(path), format="png", bbox_inches="tight", pad_inches=0.1)


# --------------------------------------------------------------------------------------------
# Shares
# --------------------------------------------------------------------------------------------


def percentages(counts: Sequence[int], decimals: int = 2) -> list[float]:
    """Shares (%) of integer ``counts``, rounded to ``decimals`` so that they sum to exactly
    100 (largest-remainder rounding, exact integer arithmetic). All zero when the total is 0.

    >>> percentages([1, 1, 1])
    [33.34, 33.33, 33.33]
    """
    counts = [int(c) for c in counts]
    if any(c < 0 for c in counts):
        raise ValueError("counts must not be negative")
    total = sum(counts)
    if total == 0:
        return [0.0] * len(counts)
    unit = 10**decimals
    scaled = [c * 100 * unit for c in counts]
    floors = [s // total for s in scaled]
    missing = 100 * unit - sum(floors)
    # Ties go to the earlier entry (stable sort on the negated remainder).
    order = sorted(range(len(counts)), key=lambda i: -(scaled[i] % total))
    for i in order[:missing]:
        floors[i] += 1
    return [f / unit for f in floors]


def class_shares(classes: Sequence[RasterClass], counts: Sequence[dict[int, int]]) -> np.ndarray:
    """Shares (%, ``percentages``) of each class (rows) in each group's pixel counts per class
    code (columns: a year, a driver)."""
    return np.array(
        [percentages([tally.get(entry.code, 0) for entry in classes]) for tally in counts]
    ).T.reshape(len(classes), len(counts))


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def stacked_shares_figure(
    groups: Sequence[str],
    classes: Sequence[RasterClass],
    shares: np.ndarray,
    *,
    horizontal: bool = False,
    title: str = "",
    group_label: str = "",
    means: Sequence[float | None] | None = None,
    mean_label: str = "Mean index",
    dpi: int = 130,
):
    """100 % stacked bars, one per group (a year, a driver) split by class; ``shares`` is
    (classes, groups) in %. Segments of at least 4 % carry their value. ``means`` (one per
    group) are drawn as a line on a second axis, as the resilience study's Figure 3 does."""
    shares = np.asarray(shares, dtype=float).reshape(len(classes), len(groups))
    n = len(groups)
    if horizontal:
        figure = new_figure(7.0, 0.45 * n + 1.8, dpi)
    else:
        figure = new_figure(max(4.5, 1.0 * n + 3.2), 4.6, dpi)
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(n)
    start = np.zeros(n)
    for entry, row in zip(classes, shares, strict=True):
        colour = colour_fractions(entry.rgba)
        if horizontal:
            bars = axes.barh(positions, row, left=start, color=colour, edgecolor="white")
        else:
            bars = axes.bar(positions, row, bottom=start, color=colour, edgecolor="white")
        text_colour = "black" if sum(entry.color[:3]) > 380 else "white"
        for bar_patch, value in zip(bars, row, strict=True):
            if value >= 4:
                x = bar_patch.get_x() + bar_patch.get_width() / 2
                y = bar_patch.get_y() + bar_patch.get_height() / 2
                axes.text(
                    x, y, f"{value:.1f}", ha="center", va="center", fontsize=9, color=text_colour
                )
        bars.set_label(entry.label)
        start = start + row
    if horizontal:
        axes.set_yticks(positions, list(groups))
        axes.invert_yaxis()
        axes.set_xlim(0, 100)
        axes.set_xlabel("Share of valid pixels (%)")
        if group_label:
            axes.set_ylabel(group_label)
    else:
        axes.set_xticks(positions, list(groups))
        axes.set_ylim(0, 100)
        axes.set_ylabel("Share of valid pixels (%)")
        if group_label:
            axes.set_xlabel(group_label)
    handles, labels = axes.get_legend_handles_labels()
    if horizontal:  # below the bars: the chart keeps its width and its text its size
        axes.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            borderaxespad=3.8,  # below the tick labels and the axis label
            ncol=min(len(labels), 3),
            frameon=False,
            fontsize=9,
        )
        return finished(figure, axes, title)
    handles, labels = handles[::-1], labels[::-1]  # the legend reads top-down like the stack
    if means is not None and any(m is not None for m in means):
        twin = axes.twinx()
        xs = [p for p, m in zip(positions, means, strict=True) if m is not None]
        ys = [m for m in means if m is not None]
        (line,) = twin.plot(xs, ys, color="black", marker="o", linewidth=1.5, label=mean_label)
        for x, y in zip(xs, ys, strict=True):
            twin.annotate(
                f"{y:.3f}",
                (x, y),
                textcoords="offset points",
                xytext=(0, 6),
                fontsize=8,
                ha="center",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.8, "lw": 0},
            )
        twin.set_ylabel(mean_label)
        low, high = min(ys), max(ys)
        pad = max((high - low) * 0.5, abs(high) * 0.05, 1e-3)
        twin.set_ylim(low - pad, high + pad)
        handles.append(line)
        labels.append(mean_label)
    if means is not None:  # under the chart: the second axis takes the right side
        placement = {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "borderaxespad": 3.8}
        placement["ncol"] = min(len(labels), 3)
    else:
        placement = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
    axes.legend(handles, labels, frameon=False, fontsize=9, **placement)
    return finished(figure, axes, title)


def share_bars_figure(
    classes: Sequence[RasterClass], shares: Sequence[float], *, title: str = "", dpi: int = 130
):
    """Horizontal bars of the classes' area shares (%), in class order, each in its colour and
    labelled with its value (the dominant-driver inset of the NPP-drivers study's Figure 5b)."""
    n = len(classes)
    figure = new_figure(6.4, 0.38 * n + 1.4, dpi)
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(n)
    axes.barh(
        positions,
        shares,
        color=[colour_fractions(e.rgba) for e in classes],
        edgecolor="#555555",
        linewidth=0.5,
    )
    for y, value in zip(positions, shares, strict=True):
        axes.text(value, y, f" {value:.2f} %", va="center", fontsize=10)
    axes.set_yticks(positions, [e.label for e in classes])
    axes.invert_yaxis()
    axes.set_xlim(0, max(max(shares, default=0) * 1.2, 1))
    axes.set_xlabel("Share of valid pixels (%)")
    return finished(figure, axes, title)


def importance_figure(
    names: Sequence[str],
    values: Sequence[float],
    *,
    categories: Sequence[str] | None = None,
    colours: dict[str, tuple[int, ...]] | None = None,
    errors: Sequence[float | None] | None = None,
    xlabel: str = "Relative importance (%)",
    title: str = "",
    decimals: int = 2,
    total_unit: str = "",
    legend_title: str | None = "Category total",
    size: tuple[float, float, float] = (6.8, 0.34, 1.5),
    headroom: tuple[float, float] = (1.18, 1e-9),
    dpi: int = 130,
):
    """Horizontal importance bars sorted largest on top (the NPP-drivers study's Figure 4), coloured
    by category with the category totals in the legend when ``categories`` are given, with
    whiskers of ``errors`` when given. The report's chart and rf_driver_contribution's
    OUTPUT_CHART: bars labelled with ``decimals``, totals followed by ``total_unit``; ``size``
    is the width, the height per bar and the height besides the bars (inches); the value axis
    ends at the longest bar × ``headroom[0]``, at least at ``headroom[1]``."""
    from matplotlib.patches import Patch

    order = sorted(range(len(names)), key=lambda i: (-values[i], i))
    width, per_bar, base = size
    figure = new_figure(width, per_bar * len(names) + base, dpi)
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(len(order))
    default = (*styles.OTHER_COLOUR, 255)
    bar_colours = [
        colour_fractions(
            (colours or {}).get(categories[i], default) if categories else (70, 130, 180, 255)
        )
        for i in order
    ]
    whiskers = None
    if errors is not None and any(e is not None for e in errors):
        whiskers = [errors[i] if errors[i] is not None else 0.0 for i in order]
    axes.barh(
        positions,
        [values[i] for i in order],
        xerr=whiskers,
        color=bar_colours,
        error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"},
    )
    for y, i in zip(positions, order, strict=True):
        reach = values[i] + (whiskers[y] if whiskers else 0.0)
        axes.text(reach, y, f" {values[i]:.{decimals}f}", va="center", fontsize=8)
    axes.set_yticks(positions, [names[i] for i in order])
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    top = max(
        (values[i] + (whiskers[y] if whiskers else 0.0) for y, i in enumerate(order)), default=0
    )
    axes.set_xlim(min(0.0, min(values, default=0.0)), max(top * headroom[0], headroom[1]))
    if categories:
        totals: dict[str, float] = {}
        for category, value in zip(categories, values, strict=True):
            totals[category] = totals.get(category, 0.0) + value
        axes.legend(
            handles=[
                Patch(
                    color=colour_fractions((colours or {}).get(name, default)),
                    label=f"{name}: {total:.2f}{total_unit}",
                )
                for name, total in totals.items()
            ],
            loc="lower right",
            fontsize=8,
            title=legend_title,
            title_fontsize=8,
        )
    return finished(figure, axes, title)


def scatter_figure(
    reference: Sequence[float],
    simulated: Sequence[float],
    groups: Sequence[str],
    colours: dict[str, tuple[int, ...]],
    *,
    unit: str = "",
    title: str = "",
    dpi: int = 130,
):
    """Simulated against reference values, one colour per group (land-cover class), with the
    1:1 line over the common range of both axes (the NPP-drivers study's Table 2 comparison)."""
    reference = np.asarray(reference, dtype=float)
    simulated = np.asarray(simulated, dtype=float)
    figure = new_figure(6.4, 5.4, dpi)
    axes = figure.add_subplot(1, 1, 1)
    groups = list(groups)
    size = 12 if len(reference) > 500 else 22
    for name in dict.fromkeys(groups):
        chosen = np.array([g == name for g in groups], dtype=bool)
        axes.scatter(
            reference[chosen],
            simulated[chosen],
            s=size,
            color=colour_fractions(colours.get(name, (*styles.OTHER_COLOUR, 255))),
            alpha=0.75,
            edgecolors="none",
            label=f"{name} (n = {int(chosen.sum())})",
        )
    both = np.concatenate([reference, simulated])
    both = both[np.isfinite(both)]
    low, high = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    pad = (high - low) * 0.05 or 1.0
    low, high = low - pad, high + pad
    axes.plot([low, high], [low, high], color="black", linewidth=1, linestyle="--", label="1:1")
    axes.set_xlim(low, high)
    axes.set_ylim(low, high)
    axes.set_aspect("equal")
    suffix = f" ({unit})" if unit else ""
    axes.set_xlabel(f"Reference{suffix}")
    axes.set_ylabel(f"Simulated{suffix}")
    axes.grid(True, color="#dddddd", linewidth=0.6)
    axes.legend(loc="upper left", fontsize=9, frameon=True, framealpha=0.85)
    return finished(figure, axes, title)


def line_figure(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    ylabel: str = "",
    xlabel: str = "",
    title: str = "",
    decimals: int = 3,
    dpi: int = 130,
):
    """One value per label (e.g. the mean index per year) as a line with its values written
    above the points (the resilience study's Figure 2); missing values leave a gap."""
    figure = new_figure(6.4, 3.8, dpi)
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(len(labels))
    ys = np.array([np.nan if v is None else float(v) for v in values])
    axes.plot(positions, ys, color="#1b5e20", marker="o", linewidth=1.8)
    for x, y in zip(positions, ys, strict=True):
        if np.isfinite(y):
            axes.annotate(
                f"{y:.{decimals}f}",
                (x, y),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=9,
            )
    finite = ys[np.isfinite(ys)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        pad = max((high - low) * 0.35, abs(high) * 0.02, 1e-3)
        axes.set_ylim(low - pad, high + pad)
    axes.set_xticks(positions, list(labels))
    axes.set_xlim(-0.5, len(labels) - 0.5)
    axes.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    if ylabel:
        axes.set_ylabel(ylabel)
    if xlabel:
        axes.set_xlabel(xlabel)
    return finished(figure, axes, title)


def gain_cost_figure(rows: list[dict], cost_given: bool, title: str, dpi: int = 150):
    """Total gain (index · ha) of each candidate site against its cost (or its area without
    costs), labelled with the site id and rank, gains green and losses red (restoration_planner
    OUTPUT_CHART and the report's planner section): rows with site_id, rank, total_gain and
    cost or area_ha."""
    figure = new_figure(6.4, 4.4, dpi)
    axes = figure.add_subplot(1, 1, 1)
    key = "cost" if cost_given else "area_ha"
    shown = [r for r in rows if r[key] is not None and r["total_gain"] is not None]
    x = [r[key] for r in shown]
    y = [r["total_gain"] for r in shown]
    gain, loss = (
        styles.hex_colour(styles.RED_TO_GREEN[-1]),
        styles.hex_colour(styles.RED_TO_GREEN[0]),
    )
    axes.scatter(x, y, c=[gain if value >= 0 else loss for value in y], s=36, zorder=3)
    for row in shown:
        rank = f" #{row['rank']}" if row["rank"] is not None else ""
        axes.annotate(
            f"{row['site_id']}{rank}",
            (row[key], row["total_gain"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    axes.axhline(0.0, color="0.6", linewidth=0.8)
    axes.set_xlabel("Cost of the site (cost per ha × area)" if cost_given else "Site area (ha)")
    axes.set_ylabel("Total index gain (index · ha)")
    axes.set_title(title, fontsize=9)
    axes.grid(True, linewidth=0.4, alpha=0.5)
    figure.tight_layout()
    return figure

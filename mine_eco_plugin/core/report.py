"""The HTML report: maps, charts and tables drawn from numpy arrays and lists, and the page
that holds them.

Pure: no QGIS and no GDAL here (the ``html_report`` algorithm reads the rasters and hands over
arrays, extents and legends). matplotlib is imported inside the drawing functions and draws on
its Agg canvas only (``Figure`` + ``FigureCanvasAgg``), so the global backend of a running QGIS
desktop is never touched.

Charts follow the studies' figures: class-area shares per year as 100 % stacked bars (the first
study's Figure 3), driver importance as horizontal bars sorted largest on top and coloured by
category (the NPP-drivers study's Figure 4), area shares of correlation and dominant-driver classes
(the insets of its Figures 3 and 5b).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: WGS 84 ellipsoid, the default for geographic scale bars when the CRS gives none.
WGS84_SEMI_MAJOR = 6378137.0
WGS84_INVERSE_FLATTENING = 298.257223563

#: Colour of pixels whose class code has no legend entry.
UNLISTED_COLOUR = (160, 160, 160, 255)

#: Longest legend label (characters) still drawn beside a map; longer ones go under it.
LEGEND_BESIDE_CHARACTERS = 18

#: Share of the map width that a scale bar may take at most.
SCALE_BAR_FRACTION = 0.25

RGBA = tuple[int, int, int, int]


# --------------------------------------------------------------------------------------------
# Scale bars
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar: its ground length (m), its length in map (CRS) units and its label."""

    metres: float
    map_units: float
    label: str


def nice_length(limit: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ that does not exceed ``limit`` (> 0).

    >>> nice_length(750.0), nice_length(1000.0), nice_length(0.3)
    (500.0, 1000.0, 0.2)
    """
    if not (limit > 0 and math.isfinite(limit)):
        raise ValueError(f"a scale bar needs a positive finite length, got {limit}")
    exponent = math.floor(math.log10(limit))
    if 10.0 ** (exponent + 1) <= limit:  # log10 rounded down a hair below an exact power
        exponent += 1
    for step in (5.0, 2.0, 1.0):
        value = step * 10.0**exponent
        if value <= limit * (1 + 1e-12):
            return float(f"{value:.12g}")
    return float(f"{10.0 ** (exponent - 1) * 5:.12g}")  # pragma: no cover (rounding guard)


def format_distance(metres: float) -> str:
    """'500 m', '2 km', '1.5 km', '20 cm'."""
    if metres >= 1000:
        return f"{metres / 1000:g} km"
    if metres >= 1:
        return f"{metres:g} m"
    return f"{metres * 100:g} cm"


def metres_per_degree(
    latitude: float,
    semi_major: float = WGS84_SEMI_MAJOR,
    inverse_flattening: float = WGS84_INVERSE_FLATTENING,
) -> tuple[float, float]:
    """Ground length (m) of one degree of longitude and of latitude at ``latitude`` (degrees)
    on an ellipsoid: (π/180)·N·cos φ and (π/180)·M, with N = a/W the prime-vertical and
    M = a(1 − e²)/W³ the meridional radius of curvature, W = √(1 − e² sin² φ).

    At the equator on WGS 84: 111 319.49 m and 110 574.28 m.
    """
    flattening = 1.0 / inverse_flattening if inverse_flattening else 0.0
    e2 = flattening * (2.0 - flattening)
    phi = math.radians(latitude)
    w = math.sqrt(1.0 - e2 * math.sin(phi) ** 2)
    prime_vertical = semi_major / w
    meridional = semi_major * (1.0 - e2) / w**3
    per_radian = math.pi / 180.0
    return per_radian * prime_vertical * math.cos(phi), per_radian * meridional


def scale_bar(
    map_width: float, metres_per_unit: float, fraction: float = SCALE_BAR_FRACTION
) -> ScaleBar:
    """The scale bar of a map ``map_width`` CRS units wide: the nicest round ground length
    (1, 2 or 5 × 10ⁿ m) not longer than ``fraction`` of the width.

    A 100-pixel-wide raster of 30 m pixels is 3000 m wide: a quarter is 750 m, so the bar is
    500 m long, 500 map units in a metre CRS.
    """
    width_m = abs(map_width) * metres_per_unit
    metres = nice_length(width_m * fraction)
    return ScaleBar(metres, metres / metres_per_unit, format_distance(metres))


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


# --------------------------------------------------------------------------------------------
# Map images
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegendEntry:
    """One legend item of a class map: class code, label and colour (r, g, b, a; 0–255)."""

    code: int
    label: str
    color: RGBA


@dataclass(frozen=True)
class ColourScale:
    """A continuous colour scale: matplotlib colour map name, value range and axis label."""

    cmap: str
    vmin: float
    vmax: float
    label: str = ""


@dataclass(frozen=True)
class MapFrame:
    """Where a raster lies: extent (left, right, bottom, top) in CRS units, the display ratio
    of a y unit to an x unit (1 in projected CRSs, about 1/cos φ in degrees), the scale bar
    (None without a usable CRS), whether a north arrow makes sense, and a note."""

    extent: tuple[float, float, float, float]
    aspect: float = 1.0
    scale: ScaleBar | None = None
    north_up: bool = True
    note: str = ""


def fallback_colours(count: int) -> list[RGBA]:
    """Distinct colours for classes that bring none (ColorBrewer Set3/Paired-like cycle)."""
    palette = (
        (141, 211, 199),
        (255, 255, 179),
        (190, 186, 218),
        (251, 128, 114),
        (128, 177, 211),
        (253, 180, 98),
        (179, 222, 105),
        (252, 205, 229),
        (217, 217, 217),
        (188, 128, 189),
        (204, 235, 197),
        (255, 237, 111),
    )
    return [(*palette[i % len(palette)], 255) for i in range(count)]


def class_image(codes: np.ndarray, valid: np.ndarray, legend: Sequence[LegendEntry]) -> np.ndarray:
    """An RGBA image (rows, cols, 4; uint8) of a class raster: each code in its legend colour,
    codes without an entry grey, invalid pixels transparent."""
    codes = np.asarray(codes)
    valid = np.asarray(valid, dtype=bool)
    image = np.zeros((*codes.shape, 4), dtype=np.uint8)
    if valid.any():
        image[valid] = UNLISTED_COLOUR
    for entry in legend:
        image[valid & (codes == entry.code)] = entry.color
    return image


#: Colours given to classes when a legend's colours are too alike (ColorBrewer Paired and Set1,
#: Brewer 2002): each class takes the first one far enough from all colours already used.
DISTINCT_COLOURS = (
    (255, 127, 0),
    (106, 61, 154),
    (166, 206, 227),
    (178, 223, 138),
    (251, 154, 153),
    (177, 89, 40),
    (255, 255, 153),
    (231, 41, 138),
    (202, 178, 214),
    (253, 191, 111),
    (0, 0, 0),
    (153, 153, 153),
)


def distinct_colours(count: int) -> list[RGBA]:
    """``count`` colours that are easy to tell apart (land-cover classes of a chart)."""
    palette = (
        (31, 120, 180),
        (255, 127, 0),
        (51, 160, 44),
        (227, 26, 28),
        (106, 61, 154),
        (177, 89, 40),
        (231, 41, 138),
        (102, 102, 102),
        (166, 206, 227),
        (230, 171, 2),
    )
    return [(*palette[i % len(palette)], 255) for i in range(count)]


#: Smallest colour difference (a weighted RGB distance, see ``colour_distance``) that a
#: class map keeps between two classes.
MIN_COLOUR_DISTANCE = 120.0


def colour_distance(a: Sequence[int], b: Sequence[int]) -> float:
    """Perceptual distance of two RGB colours (0-255), the "redmean" weighted Euclidean
    distance (0 for identical colours, about 765 for black against white)."""
    mean_red = (a[0] + b[0]) / 2.0
    dr, dg, db = (float(a[i]) - float(b[i]) for i in range(3))
    return math.sqrt(
        (2 + mean_red / 256) * dr * dr + 4 * dg * dg + (2 + (255 - mean_red) / 256) * db * db
    )


def distinct_legend(
    legend: Sequence[LegendEntry], keep: int = 0, minimum: float = MIN_COLOUR_DISTANCE
) -> tuple[list[LegendEntry], list[str]]:
    """The legend as it is when every two colours are at least ``minimum`` apart; else the
    first ``keep`` classes keep their colours and every other class takes the first colour of
    ``DISTINCT_COLOURS`` that is ``minimum`` away from all colours used before it (the
    farthest one when none is). Returns the legend and the labels of the recoloured classes.

    The dominant-driver map keeps its single categories (red, green, blue) and recolours the
    coupled pairs, whose 2:1 mixes come out as muddy tones too alike to tell apart."""
    colours = [e.color[:3] for e in legend]
    crowded = any(
        colour_distance(a, b) < minimum for i, a in enumerate(colours) for b in colours[i + 1 :]
    )
    if not crowded:
        return list(legend), []
    kept = list(legend[:keep])
    changed: list[str] = []
    for entry in legend[keep:]:
        taken = [e.color[:3] for e in kept]
        spare = [c for c in DISTINCT_COLOURS if c not in taken] or list(DISTINCT_COLOURS)
        best = next(
            (c for c in spare if all(colour_distance(c, t) >= minimum for t in taken)),
            max(spare, key=lambda c: min((colour_distance(c, t) for t in taken), default=0.0)),
        )
        kept.append(LegendEntry(entry.code, entry.label, (*best, entry.color[3])))
        changed.append(entry.label)
    return kept, changed


def continuous_image(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Float values with NaN wherever ``valid`` is False (for a masked colour map)."""
    image = np.asarray(values, dtype=np.float64).copy()
    image[~np.asarray(valid, dtype=bool)] = np.nan
    return image


def _figure(width_in: float, height_in: float, dpi: int = 130):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def _rgb(color: Sequence[int]) -> tuple[float, ...]:
    return tuple(c / 255.0 for c in color)


def _draw_scale_bar(axes, extent, bar: ScaleBar) -> None:
    """Two black-and-white halves at the lower left, in map units, with the label above."""
    from matplotlib.patches import Rectangle

    left, right, bottom, top = extent
    width, height = right - left, top - bottom
    x0 = left + 0.04 * width
    y0 = bottom + 0.04 * height
    thickness = 0.018 * height
    half = bar.map_units / 2
    axes.add_patch(
        Rectangle(
            (x0 - 0.015 * width, y0 - 0.02 * height),
            bar.map_units + 0.015 * width + 0.012 * width * len(bar.label),
            thickness + 0.1 * height,
            facecolor="white",
            edgecolor="none",
            alpha=0.75,
            zorder=4,
            gid="scale-bar-background",
        )
    )
    for i, colour in enumerate(("black", "white")):
        axes.add_patch(
            Rectangle(
                (x0 + i * half, y0),
                half,
                thickness,
                facecolor=colour,
                edgecolor="black",
                linewidth=0.8,
                zorder=5,
                gid="scale-bar-segment",
            )
        )
    axes.text(x0, y0 + thickness * 1.6, "0", fontsize=8, ha="center", va="bottom", zorder=6)
    axes.text(
        x0 + bar.map_units,
        y0 + thickness * 1.6,
        bar.label,
        fontsize=8,
        ha="center",
        va="bottom",
        zorder=6,
    )


def _draw_north_arrow(axes) -> None:
    """A north arrow above the map's top right corner, outside the data."""
    axes.annotate(
        "",
        xy=(1.0, 1.13),
        xytext=(1.0, 1.01),
        xycoords="axes fraction",
        textcoords="axes fraction",
        arrowprops={"facecolor": "black", "width": 2.0, "headwidth": 7, "headlength": 6},
        annotation_clip=False,
        zorder=6,
        gid="north-arrow",
    )
    axes.text(
        0.965,
        1.06,
        "N",
        transform=axes.transAxes,
        ha="right",
        va="center",
        fontsize=10,
        fontweight="bold",
        clip_on=False,
    )


def map_figure(
    image: np.ndarray,
    frame: MapFrame,
    *,
    title: str = "",
    legend: Sequence[LegendEntry] | None = None,
    colour_scale: ColourScale | None = None,
    legend_title: str = "",
    north_arrow: bool = True,
    dpi: int = 150,
):
    """A matplotlib Figure of one map: a class image (RGBA, with ``legend``), an RGB(A) image,
    or a 2-D float array drawn with ``colour_scale`` and a colour bar; scale bar and north
    arrow when ``frame`` allows. Axes are in CRS units, without ticks."""
    left, right, bottom, top = frame.extent
    span_x = abs(right - left) or 1.0
    span_y = abs(top - bottom) or 1.0
    ratio = span_y * frame.aspect / span_x
    # Inches set the size of the text relative to the map (shown about 540 px wide), dpi the
    # sharpness: 5.8 in at 150 dpi is 870 px, crisp on high-density screens.
    map_width = 4.0
    map_height = float(np.clip(map_width * ratio, 1.5, 6.0))
    # A legend of long labels (coupled drivers, erosion classes) goes under the map: beside it,
    # it would widen the image, which the page then shrinks with the map and the text.
    longest = max((len(e.label) for e in legend), default=0) if legend else 0
    legend_below = longest > LEGEND_BESIDE_CHARACTERS
    extra = 1.8 if ((legend and not legend_below) or colour_scale) else 0.2
    figure = _figure(map_width + extra, map_height + 0.6, dpi)
    axes = figure.add_subplot(1, 1, 1)
    kwargs = {"extent": frame.extent, "interpolation": "nearest", "origin": "upper"}
    if image.ndim == 2:
        if colour_scale is None:
            raise ValueError("a single-band image needs a colour scale")
        from matplotlib import colormaps

        cmap = colormaps[colour_scale.cmap].copy()
        cmap.set_bad((0, 0, 0, 0))
        shown = axes.imshow(
            np.ma.masked_invalid(image),
            cmap=cmap,
            vmin=colour_scale.vmin,
            vmax=colour_scale.vmax,
            **kwargs,
        )
        bar = figure.colorbar(shown, ax=axes, shrink=0.8, pad=0.03)
        bar.set_label(colour_scale.label, fontsize=10)
        bar.ax.tick_params(labelsize=9)
    else:
        axes.imshow(image, **kwargs)
    axes.set_aspect(frame.aspect)
    axes.set_xlim(left, right)
    axes.set_ylim(bottom, top)
    axes.set_xticks([])
    axes.set_yticks([])
    if title:  # left-aligned: the north arrow stands above the right corner
        axes.set_title(title, fontsize=11, loc="left")
    if legend:
        from matplotlib.patches import Patch

        axes.legend(
            handles=[
                Patch(facecolor=_rgb(e.color), edgecolor="#555555", label=e.label) for e in legend
            ],
            title=legend_title or None,
            frameon=False,
            fontsize=10,
            title_fontsize=10,
            **(
                {
                    "loc": "upper left",
                    "bbox_to_anchor": (0.0, -0.06 if frame.note else -0.01),
                    "ncol": 2 if longest <= 2 * LEGEND_BESIDE_CHARACTERS - 8 else 1,
                }
                if legend_below
                else {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
            ),
        )
    if frame.scale is not None:
        _draw_scale_bar(axes, frame.extent, frame.scale)
    if north_arrow and frame.north_up and frame.scale is not None:
        _draw_north_arrow(axes)
    if frame.note:
        axes.text(
            0.0,
            -0.02,
            frame.note,
            transform=axes.transAxes,
            fontsize=7.5,
            ha="left",
            va="top",
            color="#444444",
        )
    return figure


def save(figure, path) -> None:
    """Write a figure as PNG, cropped to what is drawn (legends outside the axes included)."""
    figure.savefig(str(path), format="png", bbox_inches="tight", pad_inches=0.1)


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def stacked_shares_figure(
    groups: Sequence[str],
    classes: Sequence[LegendEntry],
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
        figure = _figure(7.0, 0.45 * n + 1.8, dpi)
    else:
        figure = _figure(max(4.5, 1.0 * n + 3.2), 4.6, dpi)
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(n)
    start = np.zeros(n)
    for entry, row in zip(classes, shares, strict=True):
        colour = _rgb(entry.color)
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
        if title:
            axes.set_title(title, fontsize=11)
        figure.tight_layout()
        return figure
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
    if title:
        axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure


def share_bars_figure(
    classes: Sequence[LegendEntry], shares: Sequence[float], *, title: str = "", dpi: int = 130
):
    """Horizontal bars of the classes' area shares (%), in class order, each in its colour and
    labelled with its value (the dominant-driver inset of the NPP-drivers study's Figure 5b)."""
    n = len(classes)
    figure = _figure(6.4, 0.38 * n + 1.4, dpi)
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(n)
    axes.barh(
        positions,
        shares,
        color=[_rgb(e.color) for e in classes],
        edgecolor="#555555",
        linewidth=0.5,
    )
    for y, value in zip(positions, shares, strict=True):
        axes.text(value, y, f" {value:.2f} %", va="center", fontsize=10)
    axes.set_yticks(positions, [e.label for e in classes])
    axes.invert_yaxis()
    axes.set_xlim(0, max(max(shares, default=0) * 1.2, 1))
    axes.set_xlabel("Share of valid pixels (%)")
    if title:
        axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure


def importance_figure(
    names: Sequence[str],
    values: Sequence[float],
    *,
    categories: Sequence[str] | None = None,
    colours: dict[str, RGBA] | None = None,
    errors: Sequence[float | None] | None = None,
    xlabel: str = "Relative importance (%)",
    title: str = "",
    dpi: int = 130,
):
    """Horizontal importance bars sorted largest on top (the NPP-drivers study's Figure 4), coloured
    by category with the category totals in the legend when ``categories`` are given, with
    whiskers of ``errors`` when given."""
    from matplotlib.patches import Patch

    order = sorted(range(len(names)), key=lambda i: (-values[i], i))
    figure = _figure(6.8, 0.34 * len(names) + 1.5, dpi)
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(len(order))
    default = (120, 120, 120, 255)
    bar_colours = [
        _rgb((colours or {}).get(categories[i], default) if categories else (70, 130, 180, 255))
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
        axes.text(reach, y, f" {values[i]:.2f}", va="center", fontsize=8)
    axes.set_yticks(positions, [names[i] for i in order])
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    top = max(
        (values[i] + (whiskers[y] if whiskers else 0.0) for y, i in enumerate(order)), default=0
    )
    axes.set_xlim(min(0.0, min(values, default=0.0)), max(top * 1.18, 1e-9))
    if categories:
        totals: dict[str, float] = {}
        for category, value in zip(categories, values, strict=True):
            totals[category] = totals.get(category, 0.0) + value
        axes.legend(
            handles=[
                Patch(
                    color=_rgb((colours or {}).get(name, default)),
                    label=f"{name}: {total:.2f}",
                )
                for name, total in totals.items()
            ],
            loc="lower right",
            fontsize=8,
            title="Category total",
            title_fontsize=8,
        )
    if title:
        axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure


def scatter_figure(
    reference: Sequence[float],
    simulated: Sequence[float],
    groups: Sequence[str],
    colours: dict[str, RGBA],
    *,
    unit: str = "",
    title: str = "",
    dpi: int = 130,
):
    """Simulated against reference values, one colour per group (land-cover class), with the
    1:1 line over the common range of both axes (the NPP-drivers study's Table 2 comparison)."""
    reference = np.asarray(reference, dtype=float)
    simulated = np.asarray(simulated, dtype=float)
    figure = _figure(6.4, 5.4, dpi)
    axes = figure.add_subplot(1, 1, 1)
    groups = list(groups)
    size = 12 if len(reference) > 500 else 22
    for name in dict.fromkeys(groups):
        chosen = np.array([g == name for g in groups], dtype=bool)
        axes.scatter(
            reference[chosen],
            simulated[chosen],
            s=size,
            color=_rgb(colours.get(name, (120, 120, 120, 255))),
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
    if title:
        axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure


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
    figure = _figure(6.4, 3.8, dpi)
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
    if title:
        axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


@dataclass
class ReportFigure:
    """An image of the report: its path relative to the HTML file, caption (what it shows and
    from which inputs), alt text and kind ("map": laid out two by two; "chart": one per row,
    never wider than drawn)."""

    src: str
    caption: str
    alt: str = ""
    kind: str = "map"


@dataclass
class Section:
    """One section: id, heading, one-line caption, figures, and HTML blocks (tables, notes)."""

    key: str
    title: str
    caption: str
    figures: list[ReportFigure] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)


class Markup(str):
    """Table cell text that is already HTML (inserted as it is, not escaped)."""


def format_value(value, decimals: int = 4) -> str:
    """Table cell text: '–' for missing, numbers with ``decimals`` (integers as they are)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def html_table(
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    table_id: str = "",
    decimals: int = 4,
    footer: Sequence[Sequence] = (),
    cell_attributes: Sequence[Sequence[dict]] | None = None,
    caption: str = "",
) -> str:
    """An HTML table; numbers right-aligned with ``decimals``; ``footer`` rows in <tfoot>.
    ``cell_attributes`` (per row, per cell) add data-* attributes (machine-readable values);
    ``Markup`` cells are inserted as HTML. The table sits in a box that scrolls sideways
    rather than widen the page."""

    def cells(row, tag, attributes=None):
        out = []
        for j, value in enumerate(row):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            given = {"class": "num" if numeric else None}
            given.update((attributes[j] if attributes else None) or {})
            extra = "".join(
                f' {key}="{html.escape(str(item), quote=True)}"'
                for key, item in given.items()
                if item is not None
            )
            text = (
                value if isinstance(value, Markup) else html.escape(format_value(value, decimals))
            )
            out.append(f"<{tag}{extra}>{text}</{tag}>")
        return "".join(out)

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        f"<tr>{cells(row, 'td', cell_attributes[i] if cell_attributes else None)}</tr>"
        for i, row in enumerate(rows)
    )
    foot = "".join(f"<tr>{cells(row, 'th')}</tr>" for row in footer)
    identity = f' id="{html.escape(table_id, quote=True)}"' if table_id else ""
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table class="data"{identity}>{title}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        + (f"<tfoot>{foot}</tfoot>" if foot else "")
        + "</table></div>"
    )


def file_cell(path: str) -> Markup:
    """A file as its name, the full path shown on hover (title) rather than in the page."""
    path = str(path or "")
    if not path or path == "memory layer":
        return Markup(html.escape(path or "–"))
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].split("|", 1)[0]
    return Markup(
        f'<span class="file" title="{html.escape(path, quote=True)}">{html.escape(name)}</span>'
    )


def settings_cell(items: Sequence[tuple[str, str]], what: str = "setting") -> Markup:
    """Settings recorded in a file (or a table's columns, ``what="column"`` with empty
    values): a folded list (<details>) that opens on a click."""
    if not items:
        return Markup("–")
    entries = "".join(
        f"<li><code>{html.escape(str(key))}</code>"
        + (f" = {html.escape(str(value))}" if value != "" else "")
        + "</li>"
        for key, value in items
    )
    count = len(items)
    return Markup(
        f"<details><summary>{count} {what}{'s' if count != 1 else ''}</summary>"
        f'<ul class="settings">{entries}</ul></details>'
    )


def _rich_text(text: str) -> Markup:
    """Plain text with its line breaks kept and **bold** spans bolded (the markup of
    docstrings and notes users paste into PARAMETERS)."""
    escaped = html.escape(text)
    parts = escaped.split("**")
    if len(parts) % 2 == 1:  # balanced pairs only
        escaped = "".join(
            f"<strong>{part}</strong>" if i % 2 else part for i, part in enumerate(parts)
        )
    return Markup(escaped.strip().replace("\n", "<br>"))


def _parameter_value(value) -> Markup | float | int | str:
    if isinstance(value, str):
        return _rich_text(value)
    if isinstance(value, bool) or value is None:
        return format_value(value)
    if isinstance(value, int | float):
        return str(value)  # as given (0.6, not 0.600000)
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(format_value(v, 6) for v in value)
    return Markup(f"<code>{html.escape(json.dumps(value, ensure_ascii=False))}</code>")


def parameters_block(text: str) -> str:
    """The user's parameter text: JSON objects as one table per step (a top-level key whose
    value is an object), the other top-level entries in a first table "General"; any other
    text in a <pre> as given."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        shown = (
            json.dumps(parsed, indent=2, ensure_ascii=False) if isinstance(parsed, list) else text
        )
        return f'<pre class="parameters">{html.escape(shown)}</pre>'
    general = [(k, v) for k, v in parsed.items() if not isinstance(v, dict)]
    steps = [(k, v) for k, v in parsed.items() if isinstance(v, dict)]
    blocks = []
    for number, (name, items) in enumerate(
        ([("General", dict(general))] if general else []) + steps, start=1
    ):
        blocks.append(
            f'<h3 class="step">{html.escape(str(name))}</h3>'
            + html_table(
                ["Parameter", "Value"],
                [(str(key), _parameter_value(value)) for key, value in items.items()],
                table_id=f"parameters-{number}",
                decimals=6,
            )
        )
    return "".join(blocks)


def render_page(
    title: str,
    sections: Sequence[Section],
    omitted: Sequence[tuple[str, str, str]],
    *,
    css: str = "",
    subtitle: str = "",
) -> str:
    """The whole report page. ``omitted`` holds (section id, heading, reason) of each section
    left out; they are listed after the contents."""
    esc = html.escape
    contents = "".join(
        f'<li><a href="#{esc(s.key, quote=True)}">{esc(s.title)}</a></li>' for s in sections
    )
    if omitted:
        missing = "".join(
            f'<li data-section="{esc(key, quote=True)}"><b>{esc(heading)}</b>: {esc(reason)}</li>'
            for key, heading, reason in omitted
        )
        omitted_html = (
            '<section id="omitted"><h2>Sections omitted</h2>'
            '<p class="caption">Sections whose inputs were not given.</p>'
            f'<ul class="omitted">{missing}</ul></section>'
        )
    else:
        omitted_html = (
            '<section id="omitted"><h2>Sections omitted</h2>'
            '<p class="caption">None: every section had its input.</p></section>'
        )
    body = []
    number = 0
    for section in sections:
        parts = [
            f'<section id="{esc(section.key, quote=True)}">',
            f"<h2>{esc(section.title)}</h2>",
            f'<p class="caption">{esc(section.caption)}</p>',
        ]
        if section.figures:
            parts.append('<div class="figures">')
            for figure in section.figures:
                number += 1
                parts.append(
                    f'<figure class="{esc(figure.kind, quote=True)}" id="figure-{number}">'
                    f'<img src="{esc(figure.src, quote=True)}" '
                    f'alt="{esc(figure.alt or figure.caption, quote=True)}">'
                    f"<figcaption><b>Figure {number}.</b> {esc(figure.caption)}</figcaption>"
                    "</figure>"
                )
            parts.append("</div>")
        parts.extend(section.blocks)
        parts.append("</section>")
        body.append("".join(parts))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{css}</style></head><body>"
        f"<header><h1>{esc(title)}</h1>"
        + (f'<p class="subtitle">{esc(subtitle)}</p>' if subtitle else "")
        + '</header><nav id="contents"><h2>Contents</h2>'
        f"<ol>{contents}</ol></nav>" + omitted_html + "\n".join(body) + "</body></html>\n"
    )

"""Maps of the HTML report: a raster's frame (extent, display aspect, scale bar), its image
(class colours or a continuous colour scale) and the matplotlib figure that shows it with a
legend or colour bar, a scale bar and a north arrow outside the data.

Arrays in, figures out: the rasters are read in ``report.rasters`` and the figures saved by
``report.charts.save``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine import RasterClass, styles
from .charts import colour_fractions, new_figure

#: WGS 84 ellipsoid, the default for geographic scale bars when the CRS gives none.
WGS84_SEMI_MAJOR = 6378137.0
WGS84_INVERSE_FLATTENING = 298.257223563

#: Longest legend label (characters) still drawn beside a map; longer ones go under it.
LEGEND_BESIDE_CHARACTERS = 18

#: Share of the map width that a scale bar may take at most.
SCALE_BAR_FRACTION = 0.25


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
# Map images
# --------------------------------------------------------------------------------------------


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


def class_image(codes: np.ndarray, valid: np.ndarray, legend: Sequence[RasterClass]) -> np.ndarray:
    """An RGBA image (rows, cols, 4; uint8) of a class raster: each code in its legend colour,
    codes without an entry grey, invalid pixels transparent."""
    codes = np.asarray(codes)
    valid = np.asarray(valid, dtype=bool)
    image = np.zeros((*codes.shape, 4), dtype=np.uint8)
    if valid.any():
        image[valid] = styles.UNLISTED_COLOUR
    for entry in legend:
        image[valid & (codes == entry.code)] = entry.rgba
    return image


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
    legend: Sequence[RasterClass], keep: int = 0, minimum: float = MIN_COLOUR_DISTANCE
) -> tuple[list[RasterClass], list[str]]:
    """The legend as it is when every two colours are at least ``minimum`` apart; else the
    first ``keep`` classes keep their colours and every other class takes the first colour of
    ``styles.DISTINCT_COLOURS`` that is ``minimum`` away from all colours used before it (the
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
        spare = [c for c in styles.DISTINCT_COLOURS if c not in taken] or list(
            styles.DISTINCT_COLOURS
        )
        best = next(
            (c for c in spare if all(colour_distance(c, t) >= minimum for t in taken)),
            max(spare, key=lambda c: min((colour_distance(c, t) for t in taken), default=0.0)),
        )
        kept.append(RasterClass(entry.code, entry.label, (*best, entry.rgba[3])))
        changed.append(entry.label)
    return kept, changed


def continuous_image(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Float values with NaN wherever ``valid`` is False (for a masked colour map)."""
    image = np.asarray(values, dtype=np.float64).copy()
    image[~np.asarray(valid, dtype=bool)] = np.nan
    return image


# --------------------------------------------------------------------------------------------
# Map figures
# --------------------------------------------------------------------------------------------


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
    legend: Sequence[RasterClass] | None = None,
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
    figure = new_figure(map_width + extra, map_height + 0.6, dpi)
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
                Patch(facecolor=colour_fractions(e.rgba), edgecolor="#555555", label=e.label)
                for e in legend
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

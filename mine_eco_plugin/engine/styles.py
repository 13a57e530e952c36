"""Styles of the rasters Mine Eco writes and shows: every class colour table, the display
stretch of continuous rasters, and the QGIS styles (QML) written beside outputs.

One place for colours, read by three users: the writer puts a raster's classes into its GeoTIFF
colour table and a paletted QML beside it (``engine.writer``); the post-processor gives a layer
that Processing loads the same classes and stretch (``layer_styles``); the HTML report draws its
legends, charts and fallback colours from here (``report``). No QGIS here.

Class codes are those of the kernels (``core.trend``, ``core.drivers``: 1, 2, 3), written here
as numbers so that importing the styles does not import the kernels;
tests/engine/test_styles.py holds the two together.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]

#: The display stretch of continuous rasters: colours run between these percentiles of the
#: valid values (QGIS's cumulative cut, in % of the pixel count).
STRETCH_PERCENTILES = (2.0, 98.0)


@dataclass(frozen=True)
class RasterClass:
    """One class of a class raster: its code, legend label and colour (r, g, b[, a])."""

    code: int
    label: str
    color: tuple[int, ...]

    @property
    def rgba(self) -> tuple[int, int, int, int]:
        r, g, b, *a = self.color
        return int(r), int(g), int(b), int(a[0]) if a else 255

    @property
    def hex(self) -> str:
        return hex_colour(self.color)


def _document(renderer: str) -> str:
    """A QML document around one raster renderer element."""
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22" styleCategories="AllStyleCategories">
  <pipe>
{renderer}
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" grayscaleMode="0" colorizeOn="0"/>
    <rasterresampler maxOversampling="2"/>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""


_LIMITS = f"""      <rasterTransparency/>
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>{STRETCH_PERCENTILES[0] / 100:g}</cumulativeCutLower>
        <cumulativeCutUpper>{STRETCH_PERCENTILES[1] / 100:g}</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>"""


def paletted_qml(classes: tuple[RasterClass, ...], band: int = 1) -> str:
    """A QML document styling ``band`` with one colour and label per class code."""
    from xml.sax.saxutils import quoteattr  # imports urllib and http: only when a style is written

    entries = "\n".join(
        f"        <paletteEntry value={quoteattr(str(c.code))} color={quoteattr(c.hex)} "
        f"alpha={quoteattr(str(c.rgba[3]))} label={quoteattr(c.label)}/>"
        for c in classes
    )
    return _document(
        f"""    <rasterrenderer type="paletted" band="{band}" opacity="1" alphaBand="-1"
        nodataColor="">
{_LIMITS}
      <colorPalette>
{entries}
      </colorPalette>
    </rasterrenderer>"""
    )


def discrete_ramp_qml(steps, minimum: float, maximum: float, band: int = 1) -> str:
    """A QML document styling a continuous ``band`` by steps: ``steps`` are (upper bound,
    (r, g, b), legend label); a value up to a bound takes its colour."""
    from xml.sax.saxutils import quoteattr

    entries = "\n".join(
        f"          <item value={quoteattr(repr(float(bound)))} "
        f'color={quoteattr(hex_colour(colour))} alpha="255" label={quoteattr(label)}/>'
        for bound, colour, label in steps
    )
    return _document(
        f"""    <rasterrenderer type="singlebandpseudocolor" band="{band}" opacity="1"
        alphaBand="-1" classificationMin="{minimum}" classificationMax="{maximum}" nodataColor="">
{_LIMITS}
      <rastershader>
        <colorrampshader colorRampType="DISCRETE" classificationMode="1" clip="0"
            minimumValue="{minimum}" maximumValue="{maximum}" labelPrecision="2">
{entries}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>"""
    )


def hex_colour(color: Sequence[int]) -> str:
    """'#rrggbb' of an (r, g, b[, a]) colour."""
    r, g, b = (int(c) for c in color[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def numbered_classes(labels: Sequence[str], colours: Sequence[Sequence[int]]):
    """Classes 1, 2, … with their legend labels and colours."""
    return tuple(
        RasterClass(code, label, tuple(colour))
        for code, (label, colour) in enumerate(zip(labels, colours, strict=True), start=1)
    )


# --------------------------------------------------------------------------------------------
# Class colour tables
# --------------------------------------------------------------------------------------------

#: ColorBrewer RdYlGn, 5 classes (Brewer 2002): red (worst) → green (best).
RED_TO_GREEN = ((215, 25, 28), (253, 174, 97), (255, 255, 191), (166, 217, 106), (26, 150, 65))


def class_colours(count: int) -> list[RGB]:
    """``count`` colours from red (class 1) through yellow to green (class ``count``),
    interpolated along ColorBrewer's RdYlGn; exactly RdYlGn-5 for five classes."""
    anchors = np.asarray(RED_TO_GREEN, dtype=np.float64)
    if count == 1:
        return [tuple(int(v) for v in anchors[-1])]
    positions = np.linspace(0, len(anchors) - 1, count)
    colours = []
    for p in positions:
        low = int(np.floor(p))
        high = min(low + 1, len(anchors) - 1)
        mix = anchors[low] + (anchors[high] - anchors[low]) * (p - low)
        colours.append(tuple(int(round(v)) for v in mix))
    return colours


def red_to_green_classes(labels: Sequence[str]) -> tuple[RasterClass, ...]:
    """Classes 1 … k of an index, worst to best, red through yellow to green (classify_index,
    resilience_years, weight_sensitivity, the report's class shares)."""
    return numbered_classes(labels, class_colours(len(labels)))


#: Direction of a change (change_analysis): decrease, stable, increase.
DIRECTION_COLOURS = (RED_TO_GREEN[0], RED_TO_GREEN[2], RED_TO_GREEN[-1])
#: A class that stays the same between two dates.
UNCHANGED_COLOUR = (200, 200, 200)


def transition_colour(before: int, after: int, steps: int) -> RGB:
    """The colour of a class transition (change_analysis): grey when the class stays, green for a
    move up and red for a move down, stronger the more of ``steps`` classes it moves."""
    if before == after:
        return UNCHANGED_COLOUR
    strength = min(abs(after - before) / steps, 1.0)
    end = RED_TO_GREEN[-1] if after > before else RED_TO_GREEN[0]
    return tuple(int(round(230 + (e - 230) * (0.4 + 0.6 * strength))) for e in end)


#: index_trend OUTPUT_CLASS (core.trend: DECLINE, NO_CHANGE, IMPROVEMENT).
TREND_CLASSES = (
    RasterClass(1, "Significant decline", (215, 48, 39)),
    RasterClass(2, "No significant change", (255, 255, 191)),
    RasterClass(3, "Significant improvement", (26, 152, 80)),
)

#: local_correlation OUTPUT_CLASS (core.drivers: SIGNIFICANT_POSITIVE, SIGNIFICANT_NEGATIVE,
#: INSIGNIFICANT).
CORRELATION_CLASSES = (
    RasterClass(1, "Significant positive", (202, 0, 32)),
    RasterClass(2, "Significant negative", (5, 113, 176)),
    RasterClass(3, "Insignificant", (220, 220, 220)),
)

#: weight_sensitivity OUTPUT_STABILITY, a stepped ramp: (upper bound, colour, legend label); the
#: last class but one gets its bound from the number of draws (1 − 0.5/D, ``stability_qml``).
STABILITY_STYLE = (
    (0.5, (215, 25, 28), "≤ 0.50: no class in a majority of draws"),
    (0.75, (253, 174, 97), "0.50 – 0.75"),
    (0.9, (255, 255, 191), "0.75 – 0.90"),
    (None, (166, 217, 106), "0.90 – < 1"),
    (1.0, (26, 150, 65), "1: the same class in every draw"),
)


def stability_qml(draws: int) -> str:
    """The style of weight_sensitivity's class stability raster: a discrete ramp (value ≤
    bound → colour) with a legend; the last class holds exactly the pixels stable in all
    ``draws``."""
    steps = [
        (1.0 - 0.5 / draws if bound is None else bound, colour, label)
        for bound, colour, label in STABILITY_STYLE
    ]
    return discrete_ramp_qml(steps, 0, 1)


#: Soil erosion intensity classes of SL 190-2007, slight to severe (rusle OUTPUT_CLASSES).
EROSION_CLASS_COLOURS = (
    (26, 150, 65),
    (166, 217, 106),
    (255, 255, 191),
    (253, 174, 97),
    (215, 25, 28),
    (128, 0, 38),
)


def erosion_colours(count: int) -> list[RGB]:
    """Colours of ``count`` erosion classes: SL 190-2007's six, else evenly picked from them."""
    if count == len(EROSION_CLASS_COLOURS):
        return list(EROSION_CLASS_COLOURS)
    ramp = np.linspace(0, len(EROSION_CLASS_COLOURS) - 1, count)
    return [EROSION_CLASS_COLOURS[int(round(x))] for x in ramp]


#: Driver categories (rf_driver_contribution, the report): the categories of the red, green and
#: blue channels of the RGB composite take the first three; the other categories the rest.
CATEGORY_COLOURS = (
    (215, 25, 28),
    (26, 150, 65),
    (44, 123, 182),
    (253, 174, 97),
    (152, 78, 163),
    (166, 97, 26),
    (102, 194, 165),
    (231, 41, 138),
    (102, 102, 102),
    (230, 171, 2),
)
#: A category or group that has no colour of its own.
OTHER_COLOUR = (120, 120, 120)


def category_colours(categories: Iterable[Hashable], given: dict | None = None) -> dict:
    """Colour of every category: those ``given`` keep theirs (the RGB channels' categories:
    ``CATEGORY_COLOURS[band]``), each other takes the next colour after the channels' three
    that is not taken, grey (``OTHER_COLOUR``) when none is left."""
    colours = dict(given or {})
    taken = {tuple(colour[:3]) for colour in colours.values()}
    spare = (c for c in CATEGORY_COLOURS[3:] if c not in taken)
    for category in categories:
        if category not in colours:
            colours[category] = next(spare, OTHER_COLOUR)
    return colours


def coupled_colour(first: Sequence[int], second: Sequence[int]) -> RGB:
    """The colour of a coupled dominant-driver class: the two categories' colours mixed 2:1
    towards the first (larger) one, lightened by a fifth towards white."""
    return tuple(
        int(round((2 * a + b) / 3 * 0.8 + 255 * 0.2)) for a, b in zip(first, second, strict=True)
    )


# --- colours the report gives where a raster brings none ------------------------------------

#: Pixels whose class code has no legend entry.
UNLISTED_COLOUR = (160, 160, 160, 255)

#: Classes of a raster without colours (ColorBrewer Set3-like cycle).
FALLBACK_COLOURS = (
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

#: Groups of a chart that are easy to tell apart (land-cover classes of the NPP validation).
GROUP_COLOURS = (
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


def cycled(palette: Sequence[RGB], count: int) -> list[tuple[int, int, int, int]]:
    """``count`` opaque colours (r, g, b, a) from ``palette``, starting again when it ends."""
    return [(*palette[i % len(palette)], 255) for i in range(count)]

"""Styles for class rasters: a QGIS paletted-renderer QML written beside the output, so the
classes appear with their colours and legend labels wherever the raster is opened in QGIS."""

from __future__ import annotations

from dataclasses import dataclass


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
        r, g, b, _ = self.rgba
        return f"#{r:02x}{g:02x}{b:02x}"


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


_LIMITS = """      <rasterTransparency/>
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
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
        f'color={quoteattr(f"#{r:02x}{g:02x}{b:02x}")} alpha="255" label={quoteattr(label)}/>'
        for bound, (r, g, b), label in steps
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

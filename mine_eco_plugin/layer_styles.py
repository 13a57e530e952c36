"""Styles for the rasters Processing loads into the project when a run ends.

Processing does not apply a layer's default style (the ``.qml`` the engine writes beside a class
raster): a class raster loaded by Processing would show the GeoTIFF's colour table, which TIFF
pads to 256 entries ("0", the classes, then "6 … 255" in black). QGIS's own answer is the
post-processing hook: an algorithm attaches a ``QgsProcessingLayerPostProcessorInterface`` to
each output it writes (``context.layerToLoadOnCompletionDetails(path).setPostProcessor``), and
Processing calls it with the loaded layer. ``OutputStyle`` is that hook:

* class rasters get a paletted renderer with exactly their classes, colours and labels;
* outputs with their own style (QML text, e.g. a stepped ramp) get that style;
* 3- or 4-band byte rasters (RGB composites) a multiband colour renderer, band 4 as alpha;
* multiband rasters that name their (red, green, blue) bands (``rgb``, e.g. a reflectance stack
  in natural colour) a multiband colour renderer, each band stretched;
* other rasters (continuous single-band ones, and time series such as monthly bands) a grey
  stretch of band 1 between the 2 % and 98 % cumulative counts.

Processing keeps only a C++ pointer to the post-processor: the Python object must stay alive
until the layer is loaded, so every hook is kept in ``_KEEP`` until Processing has called it
(once: Processing loads each output once; a run that fails leaves a few bytes behind).
"""

from __future__ import annotations

from qgis.core import (
    QgsContrastEnhancement,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
    QgsRectangle,
    QgsSingleBandGrayRenderer,
)
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtXml import QDomDocument

#: Hooks alive until Processing has called them (it holds raw pointers to them).
_KEEP: set = set()

#: Pixels sampled for a stretch (QGIS's own default sample size).
SAMPLE_SIZE = 250_000


class OutputStyle(QgsProcessingLayerPostProcessorInterface):
    """Styles one raster output once Processing has loaded it (see the module help)."""

    def __init__(self, *, classes=None, qml=None, rgb=None, dtype="float32"):
        super().__init__()
        self.classes = tuple(classes) if classes else None
        self.qml = qml
        self.rgb = tuple(rgb) if rgb else None
        self.dtype = dtype

    def postProcessLayer(self, layer, context, feedback):
        try:
            if isinstance(layer, QgsRasterLayer) and layer.isValid():
                apply_style(
                    layer, classes=self.classes, qml=self.qml, rgb=self.rgb, dtype=self.dtype
                )
        except Exception as error:  # noqa: BLE001 (a style must never fail a finished run)
            if feedback is not None:
                feedback.pushInfo(f"{layer.name()}: default style kept ({error})")
        finally:
            _KEEP.discard(self)  # done: Processing calls it once


def attach(context, path, **style) -> OutputStyle | None:
    """Style the output ``path`` when Processing loads it at the end of the run; None when
    it will not be loaded (qgis_process, processing.run, an output not opened)."""
    if context is None or not path or not context.willLoadLayerOnCompletion(path):
        return None
    hook = OutputStyle(**style)
    _KEEP.add(hook)
    context.layerToLoadOnCompletionDetails(path).setPostProcessor(hook)
    return hook


def apply_style(
    layer: QgsRasterLayer, *, classes=None, qml=None, rgb=None, dtype="float32"
) -> None:
    """Give ``layer`` the renderer described in the module help."""
    provider = layer.dataProvider()
    if classes:
        renderer = QgsPalettedRasterRenderer(
            provider,
            1,
            [
                QgsPalettedRasterRenderer.Class(int(c.code), QColor(*c.rgba), c.label)
                for c in classes
            ],
        )
        layer.setRenderer(renderer)
    elif qml:
        document = QDomDocument()
        document.setContent(qml)
        ok, message = layer.importNamedStyle(document)
        if not ok:
            raise ValueError(message)
    elif dtype == "uint8" and layer.bandCount() in (3, 4):
        # An RGB(A) composite: its values are display values already.
        renderer = QgsMultiBandColorRenderer(provider, 1, 2, 3)
        if layer.bandCount() == 4:
            renderer.setAlphaBand(4)
        layer.setRenderer(renderer)
    elif rgb and layer.bandCount() >= max(rgb):
        layer.setRenderer(QgsMultiBandColorRenderer(provider, *rgb))
        _stretch(layer)
    else:
        layer.setRenderer(QgsSingleBandGrayRenderer(provider, 1))
        _stretch(layer)
    layer.triggerRepaint()
    layer.emitStyleChanged()


def _stretch(layer: QgsRasterLayer) -> None:
    """Stretch every band of the renderer between the 2 % and 98 % cumulative counts (the
    defaults of QgsRasterMinMaxOrigin)."""
    layer.setContrastEnhancement(
        QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum,
        QgsRasterMinMaxOrigin.Limits.CumulativeCut,
        QgsRectangle(),
        SAMPLE_SIZE,
    )

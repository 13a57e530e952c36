"""Rasters that Processing loads at the end of a run get their style (layer_styles): the class
raster its exact classes, continuous rasters a stretch, RGB composites an RGB renderer.

`processing.runAndLoadResults` takes the path of the dialogs (Postprocessing loads the outputs
into the project and calls the post-processors); processing.run loads nothing.
"""

import numpy as np
import pytest
from qgis.core import (
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsSettings,
    QgsSingleBandGrayRenderer,
    QgsSingleBandPseudoColorRenderer,
)
from rasters import write_raster

from mine_eco_plugin import layer_styles
from mine_eco_plugin.engine import RasterClass

# Resilience index values of each class of Table 3 (breaks 0.38, 0.41, 0.63, 0.73); −1 NoData.
INDEX = np.array([[0.10, 0.39, 0.50], [0.70, 0.90, -1]], dtype=np.float32)


@pytest.fixture
def project(provider, result_loading):
    project = QgsProject.instance()
    project.removeAllMapLayers()
    yield project
    project.removeAllMapLayers()


def loaded(project, path):
    """The layer of ``path`` that Processing added to the project."""
    layers = [
        layer for layer in project.mapLayers().values() if layer.source().split("|")[0] == path
    ]
    assert len(layers) == 1, [layer.source() for layer in project.mapLayers().values()]
    return layers[0]


def legend(layer):
    """(label, value) pairs of the legend, as the Layers panel lists them."""
    return [label for label, _ in layer.renderer().legendSymbologyItems()]


def test_class_raster_loads_with_exactly_its_classes(project, tmp_path):
    import processing

    index = write_raster(tmp_path / "index.tif", INDEX, nodata=-1)
    out = str(tmp_path / "classes.tif")
    processing.runAndLoadResults(
        "mineeco:classify_index",
        {"INPUT": index, "OUTPUT": out},
        feedback=QgsProcessingFeedback(),
    )
    layer = loaded(project, out)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    # Table 3's five classes and colours (evaluation_classes): nothing for 0 or 6 … 255, which
    # the GeoTIFF's colour table (padded to 256 entries by TIFF) would otherwise list.
    assert [c.value for c in renderer.classes()] == [1, 2, 3, 4, 5]
    assert legend(layer) == ["severe", "poor", "moderate", "good", "excellent"]
    assert renderer.classes()[0].color.name() == "#d7191c"
    assert renderer.classes()[4].color.name() == "#1a9641"


def test_continuous_raster_loads_stretched(project, tmp_path):
    import processing

    index = write_raster(tmp_path / "index.tif", INDEX, nodata=-1)
    out = str(tmp_path / "normalized.tif")
    processing.runAndLoadResults(
        "mineeco:normalize", {"INPUT": index, "OUTPUT": out}, feedback=QgsProcessingFeedback()
    )
    renderer = loaded(project, out).renderer()
    assert isinstance(renderer, QgsSingleBandGrayRenderer)
    enhancement = renderer.contrastEnhancement()
    # Normalised to 0 … 1: the 2 %–98 % cumulative cut of the 5 valid values lies inside it
    # and is a real stretch (not the Float32 range).
    assert 0.0 <= enhancement.minimumValue() < enhancement.maximumValue() <= 1.0


def test_stretch_is_the_styles_percentiles_whatever_the_user_setting(tmp_path):
    """The grey stretch cuts at engine.styles.STRETCH_PERCENTILES (2 % and 98 %), the cut of
    the QML styles and of the report's maps, not at the user's QGIS setting."""
    settings = QgsSettings()
    saved = {
        key: settings.value(f"Raster/{key}") for key in ("cumulativeCutLower", "cumulativeCutUpper")
    }
    settings.setValue("Raster/cumulativeCutLower", 0.1)  # fractions, as QGIS keeps them
    settings.setValue("Raster/cumulativeCutUpper", 0.9)
    try:
        values = np.tile(np.arange(100, dtype=np.float32), (10, 1))
        layer = QgsRasterLayer(write_raster(tmp_path / "ramp.tif", values), "ramp")
        layer_styles.apply_style(layer)
    finally:
        for key, value in saved.items():
            if value is None:
                settings.remove(f"Raster/{key}")
            else:
                settings.setValue(f"Raster/{key}", value)
    renderer = layer.renderer()
    origin = renderer.minMaxOrigin()
    assert (origin.cumulativeCutLower(), origin.cumulativeCutUpper()) == (0.02, 0.98)
    # 0 … 99, ten times: the 2nd and 98th percentiles are 1.98 and 97.02 (numpy's rule; QGIS
    # reads them from a histogram, within a bin), far from the 10 % cut (about 10 and 89).
    enhancement = renderer.contrastEnhancement()
    assert enhancement.minimumValue() == pytest.approx(1.98, abs=0.5)
    assert enhancement.maximumValue() == pytest.approx(97.02, abs=0.5)


def test_styles_of_a_stepped_qml_and_of_rgb_and_multiband_layers(tmp_path):
    """apply_style on layers opened directly (the same call the post-processor makes)."""
    rgba = write_raster(
        tmp_path / "rgba.tif",
        np.full((4, 2, 2), 200, dtype=np.uint8),
        dtype=1,  # gdal.GDT_Byte
    )
    layer = QgsRasterLayer(rgba, "rgba")
    layer_styles.apply_style(layer, dtype="uint8")
    renderer = layer.renderer()
    assert isinstance(renderer, QgsMultiBandColorRenderer)
    assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (1, 2, 3)
    assert renderer.alphaBand() == 4 and renderer.redContrastEnhancement() is None

    shares = np.array([[[10, 90]], [[60, 5]], [[30, 5]]], dtype=np.float32)
    layer = QgsRasterLayer(write_raster(tmp_path / "shares.tif", shares), "shares")
    layer_styles.apply_style(layer, rgb=(3, 2, 1))
    renderer = layer.renderer()
    assert isinstance(renderer, QgsMultiBandColorRenderer) and renderer.alphaBand() == -1
    assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (3, 2, 1)
    assert renderer.redContrastEnhancement() is not None
    # Without named colour bands (a time series, monthly bands): band 1 in grey.
    layer_styles.apply_style(layer)
    assert isinstance(layer.renderer(), QgsSingleBandGrayRenderer)
    renderer = layer.renderer()
    # inputBand() where QGIS has it (grayBand() is deprecated on 3.40).
    band = renderer.inputBand() if hasattr(renderer, "inputBand") else renderer.grayBand()
    assert band == 1

    from mine_eco_plugin.engine.styles import discrete_ramp_qml, paletted_qml

    layer = QgsRasterLayer(write_raster(tmp_path / "ramp.tif", INDEX), "ramp")
    steps = [(0.5, (255, 0, 0), "low"), (1.0, (0, 0, 255), "high")]
    layer_styles.apply_style(layer, qml=discrete_ramp_qml(steps, 0, 1))
    assert isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer)
    assert legend(layer) == ["low", "high"]

    # Classes win over the file's colour table, and only the given codes are listed.
    codes = write_raster(tmp_path / "codes.tif", np.array([[1, 2]], dtype=np.uint8), dtype=1)
    layer = QgsRasterLayer(codes, "codes")
    classes = (RasterClass(1, "one", (1, 2, 3)), RasterClass(2, "two", (4, 5, 6, 128)))
    layer_styles.apply_style(layer, classes=classes)
    assert legend(layer) == ["one", "two"]
    assert layer.renderer().classes()[1].color.alpha() == 128
    assert "paletteEntry" in paletted_qml(classes)


def test_attach_registers_only_outputs_that_will_be_loaded(provider, tmp_path):
    context = QgsProcessingContext()
    assert layer_styles.attach(context, str(tmp_path / "a.tif")) is None
    path = str(tmp_path / "b.tif")
    context.addLayerToLoadOnCompletion(
        path, QgsProcessingContext.LayerDetails("b", QgsProject.instance(), "OUTPUT")
    )
    hook = layer_styles.attach(context, path, classes=None)
    assert hook is not None and hook in layer_styles._KEEP
    assert context.layerToLoadOnCompletionDetails(path).postProcessor() is hook
    # Kept until Processing has called it with the loaded layer, then released.
    hook.postProcessLayer(QgsRasterLayer(write_raster(tmp_path / "b.tif", INDEX)), context, None)
    assert hook not in layer_styles._KEEP


def test_a_model_output_keeps_the_style_of_its_step(project, tmp_path):
    """A graphical model whose output is a class raster of one of its steps: QGIS moves the
    step's layer details, post-processor included, into the model's context, so the model
    output loads with exactly its classes too (what the workflow models rely on)."""
    from processing.gui.Postprocessing import handleAlgorithmResults
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingOutputLayerDefinition,
        QgsProcessingParameterRasterLayer,
    )

    model = QgsProcessingModelAlgorithm("classes", "tests")
    model.addModelParameter(
        QgsProcessingParameterRasterLayer("index", "Index"), QgsProcessingModelParameter("index")
    )
    step = QgsProcessingModelChildAlgorithm("mineeco:classify_index")
    step.setChildId("classify")
    step.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("index")]
    )
    output = QgsProcessingModelOutput("classes", "Classes")
    output.setChildId("classify")
    output.setChildOutputName("OUTPUT")
    step.setModelOutputs({"classes": output})
    model.addChildAlgorithm(step)
    model.updateDestinationParameters()

    out = str(tmp_path / "model_classes.tif")
    parameters = {
        "index": write_raster(tmp_path / "index.tif", INDEX, nodata=-1),
        "classify:classes": QgsProcessingOutputLayerDefinition(out, project),
    }
    context = QgsProcessingContext()
    context.setProject(project)
    feedback = QgsProcessingFeedback()
    _, ok = model.run(parameters, context, feedback)
    assert ok
    # Keyword: QGIS 3.22 has a showResults argument before parameters, 3.40 does not.
    assert handleAlgorithmResults(model, context, feedback, parameters=parameters)
    layer = loaded(project, out)
    assert layer.renderer().type() == "paletted"
    assert legend(layer) == ["severe", "poor", "moderate", "good", "excellent"]

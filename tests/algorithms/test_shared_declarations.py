"""Declarations and steps several algorithms share, each written once: what every user gets
from the one place (class rasters, numeric outputs, MASK_BY_REFERENCE, the ESTARFM settings,
RUSLE's option tables, polygons onto the land-cover grid, the thermal sensors' soil rules)."""

from __future__ import annotations

import numpy as np
import pytest
from feedback import Recorder
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProject,
    QgsVectorLayer,
)
from rasters import write_raster

from mine_eco_plugin.algorithms.desertification import DesertificationIndex
from mine_eco_plugin.algorithms.estarfm import Estarfm
from mine_eco_plugin.algorithms.estarfm_series import EstarfmSeries
from mine_eco_plugin.algorithms.kriging import Kriging
from mine_eco_plugin.algorithms.landscape import ogr_geometry, transform_to_grid
from mine_eco_plugin.algorithms.rusle import SlopeLengthSteepness
from mine_eco_plugin.algorithms.solar import SolarRadiation
from mine_eco_plugin.algorithms.trend import IndexTrend
from mine_eco_plugin.core.thermal import THERMAL_SENSORS, TIRS_SOIL_RULE, TM_SOIL_RULE
from mine_eco_plugin.engine import Grid, styles


def initialised(cls):
    algorithm = cls()
    algorithm.initAlgorithm()
    return algorithm


def test_class_target_is_a_uint8_raster_with_nodata_0_and_the_classes(provider, tmp_path):
    algorithm = initialised(IndexTrend)
    context = QgsProcessingContext()
    parameters = {"OUTPUT_CLASS": str(tmp_path / "classes.tif")}
    target = algorithm.class_target(
        parameters, "OUTPUT_CLASS", context, styles.TREND_CLASSES, metadata={"ALPHA": 0.05}
    )
    assert target.path == str(tmp_path / "classes.tif")
    assert target.parameter == "OUTPUT_CLASS"
    assert (target.dtype, target.nodata) == ("uint8", 0)
    assert target.classes == styles.TREND_CLASSES
    assert target.metadata["ALPHA"] == "0.05"
    assert target.metadata["MINEECO_ALGORITHM"] == "index_trend"
    # The same target as the explicit call it stands for.
    assert target == algorithm.raster_target(
        parameters,
        "OUTPUT_CLASS",
        context,
        dtype="uint8",
        nodata=0,
        classes=styles.TREND_CLASSES,
        metadata={"ALPHA": 0.05},
    )
    # Not requested: no target.
    assert algorithm.class_target({}, "OUTPUT_CLASS", context, styles.TREND_CLASSES) is None


def test_number_outputs_keep_their_names_descriptions_and_order(provider):
    algorithm = initialised(DesertificationIndex)
    numbers = [o for o in algorithm.outputDefinitions() if o.type() == "outputNumber"]
    assert [(o.name(), o.description()) for o in numbers] == [
        ("SLOPE", "Slope a of A = a·N + b"),
        ("INTERCEPT", "Intercept b"),
        ("K", "k = −1/a"),
        ("R2", "r² of the fit"),
        ("PIXELS", "Pixels in the fit"),
        ("NDVI_LOW", "NDVI normalisation low"),
        ("NDVI_HIGH", "NDVI normalisation high"),
        ("ALBEDO_LOW", "Albedo normalisation low"),
        ("ALBEDO_HIGH", "Albedo normalisation high"),
    ]


@pytest.mark.parametrize(
    ("cls", "help_text"),
    [
        (Kriging, "Unchecked: every cell of the grid is estimated."),
        (SolarRadiation, "Unchecked: every cell of the grid gets a value."),
    ],
)
def test_mask_by_reference_is_one_declaration_with_each_algorithms_help(provider, cls, help_text):
    algorithm = initialised(cls)  # kept: it owns its parameters
    parameter = algorithm.parameterDefinition("MASK_BY_REFERENCE")
    assert parameter.type() == "boolean"
    assert parameter.description() == "Leave cells NoData where the reference is NoData"
    assert parameter.defaultValue() is True
    assert parameter.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional
    assert parameter.help() == help_text


def test_estarfm_and_its_series_declare_the_shared_settings_alike(provider):
    single, series = initialised(Estarfm), initialised(EstarfmSeries)
    for name, label, default, minimum in [
        ("WINDOW", "Window half-width w (fine pixels)", 25, 1),
        ("CLASSES", "Number of classes m", 4, 1),
        ("VALID_MIN", "Valid range: minimum (exclusive)", 0, None),
        ("VALID_MAX", "Valid range: maximum (exclusive)", 10000, None),
    ]:
        for algorithm in (single, series):
            parameter = algorithm.parameterDefinition(name)
            assert parameter.description() == label
            assert parameter.defaultValue() == default
            if minimum is not None:
                assert parameter.minimum() == minimum
    # Each keeps its own help text.
    assert series.parameterDefinition("VALID_MAX").help() == "As in 'ESTARFM fusion'; 1 for NDVI."
    assert single.parameterDefinition("VALID_MAX").help().startswith("Values ≥ this are invalid")
    for algorithm in (single, series):
        resampling = algorithm.parameterDefinition("COARSE_RESAMPLING")
        assert resampling.options() == ["bilinear", "nearest", "cubic"]
        assert resampling.flags() & QgsProcessingParameterDefinition.Flag.FlagAdvanced


def test_rusle_choices_show_the_labels_and_give_the_keys(provider):
    algorithm = initialised(SlopeLengthSteepness)
    context = QgsProcessingContext()
    assert algorithm.parameterDefinition("DEPRESSIONS").options() == [
        label for _, label in algorithm.depressions
    ]
    assert algorithm.choice({"DEPRESSIONS": 1}, "DEPRESSIONS", context, algorithm.depressions) == (
        "fill"
    )
    assert algorithm.choice({}, "S_METHOD", context, algorithm.s_methods) == "china"  # default 0


def utm50n_grid() -> Grid:
    wkt = QgsCoordinateReferenceSystem("EPSG:32650").toWkt()
    return Grid(10, 10, (500000.0, 30.0, 0.0, 300.0, 0.0, -30.0), wkt)


def polygon_layer(crs: str) -> QgsVectorLayer:
    layer = QgsVectorLayer("Polygon", "zones", "memory")
    assert layer.isValid()
    layer.setCrs(QgsCoordinateReferenceSystem(crs))  # "": no CRS
    return layer


def test_transform_to_grid_warns_without_a_crs_and_transforms_another(provider):
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    grid = utm50n_grid()
    feedback = Recorder()
    assert transform_to_grid(polygon_layer(""), grid, context, "ZONES", feedback) is None
    assert feedback.warnings == ["ZONES has no CRS: taken to be the land cover's"]
    assert transform_to_grid(polygon_layer("EPSG:32650"), grid, context, "SITES", feedback) is None
    transform = transform_to_grid(polygon_layer("EPSG:4326"), grid, context, "SITES", feedback)
    assert isinstance(transform, QgsCoordinateTransform)
    assert len(feedback.warnings) == 1
    # On UTM zone 50's central meridian, 117° E, at the equator: x = the false easting
    # 500,000 m, y = 0 (the projection's definition).
    shape = ogr_geometry(QgsGeometry.fromPointXY(QgsPointXY(117.0, 0.0)), transform, "SITES: x")
    assert shape.GetX() == pytest.approx(500000.0, abs=1e-6)
    assert shape.GetY() == pytest.approx(0.0, abs=1e-6)
    # Without a transform the geometry is taken as it is.
    same = ogr_geometry(QgsGeometry.fromPointXY(QgsPointXY(5.0, 6.0)), None, "ZONES: feature 1")
    assert (same.GetX(), same.GetY()) == (5.0, 6.0)


def test_a_geometry_that_cannot_be_transformed_names_its_feature():
    class Unprojectable:
        def transform(self, transform):
            raise QgsCsException("latitude out of range")

    with pytest.raises(QgsProcessingException) as raised:
        ogr_geometry(Unprojectable(), object(), "SITES: site 'north pit'")
    assert str(raised.value) == (
        "SITES: site 'north pit' cannot be transformed to the land cover's CRS "
        "(latitude out of range)"
    )


def test_thermal_sensors_take_the_soil_rule_of_their_band_design():
    # Sobrino et al. (2004) for TM and ETM+; Yu, Guo and Wu (2014) for TIRS band 10.
    assert TM_SOIL_RULE == (0.979, 0.035)
    assert TIRS_SOIL_RULE == (0.973, 0.047)
    for key, rule in [
        ("landsat8_b10", TIRS_SOIL_RULE),
        ("landsat9_b10", TIRS_SOIL_RULE),
        ("tm5_b6", TM_SOIL_RULE),
        ("etm7_b6", TM_SOIL_RULE),
        ("tm4_b6", TM_SOIL_RULE),
    ]:
        sensor = THERMAL_SENSORS[key]
        assert sensor.key == key
        assert (sensor.soil_intercept, sensor.soil_slope) == rule


def test_folder_files_unknown_while_the_inputs_are_wrong_are_left_to_the_run(provider, tmp_path):
    """One rule for every folder output: when the inputs that name its files are wrong, the
    output check checks no files (the run then reports those inputs itself)."""
    algorithm = initialised(EstarfmSeries)
    context = QgsProcessingContext()
    parameters = {"SERIES_DATES": "not a date", "OUTPUT_FOLDER": str(tmp_path / "fused")}
    with pytest.raises(QgsProcessingException, match="SERIES_DATES"):
        algorithm.folder_files("OUTPUT_FOLDER", str(tmp_path / "fused"), parameters, context)
    assert (
        algorithm.check_folder_output(
            "OUTPUT_FOLDER", str(tmp_path / "fused"), parameters, context, inputs=[]
        )
        is None
    )
    assert not (tmp_path / "fused").exists()
    # With dates it can read, the files are known: one per date, named by it.
    layer = tmp_path / "ndvi_2013-05-17.tif"
    write_raster(layer, np.ones((2, 2), np.float32))
    parameters = {"SERIES": [str(layer)], "OUTPUT_FOLDER": str(tmp_path / "fused")}
    assert algorithm.folder_files(
        "OUTPUT_FOLDER", str(tmp_path / "fused"), parameters, context
    ) == [str(tmp_path / "fused" / "fused_2013-05-17.tif")]

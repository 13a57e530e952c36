"""The two workflow models, end to end through processing.run, on a crop of the real L8-FL
scene with documented stand-ins where the sample data have no layer."""

from pathlib import Path

import numpy as np
import pytest
from florida import earlier_indices, expected_trend_classes, florida_crop, mtl_name
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsVectorLayer,
)
from rasters import read_raster, write_raster
from report_page import read_page


def test_models_are_shipped_in_the_workflows_group(provider):
    models = {a.name(): a for a in provider.algorithms() if a.group() == "Workflows"}
    assert {"resilience_evaluation", "npp_drivers"} <= set(models)
    registry = QgsApplication.processingRegistry()
    assert registry.algorithmById("mineeco:resilience_evaluation") is not None
    assert "17 indicators" in models["resilience_evaluation"].shortHelpString()


@pytest.fixture(scope="module")
def florida_inputs(l8_fl_dir, tmp_path_factory):
    """The first study's model inputs on a 200 × 200 crop of the real L8-FL scene, with
    documented stand-ins for the layers the sample data lack (tests/florida.py)."""
    return florida_crop(l8_fl_dir, tmp_path_factory.mktemp("florida"))


def model_outputs(model_id, folder):
    """A file for every output of the model: '<child>:<NAME>' → folder/<NAME>.tif|.csv."""
    model = QgsApplication.processingRegistry().createAlgorithmById(f"mineeco:{model_id}")
    outputs = {}
    for definition in model.destinationParameterDefinitions():
        name = definition.name().split(":")[-1]
        suffix = {"rasterDestination": ".tif", "fileDestination": ".html"}.get(
            definition.type(), ".csv"
        )
        outputs[definition.name()] = str(folder / f"{name}{suffix}")
    return outputs


def by_name(results):
    """Model results keyed by output name ('<child>:<NAME>' → NAME)."""
    return {key.split(":")[-1]: value for key, value in results.items()}


#: Outputs of the optional steps (children "sensitivity" and "trend" of the model).
OPTIONAL_OUTPUTS = (
    "STABILITY",
    "INFLUENCE_TABLE",
    "INDEX_MEAN",
    "INDEX_LOW",
    "INDEX_HIGH",
    "TREND_SLOPE",
    "TREND_CLASSES",
)


@pytest.fixture(scope="module")
def resilience_defaults(provider, florida_inputs, tmp_path_factory):
    """The first study's model with nothing but its inputs and outputs: the optional steps
    stay off."""
    import processing

    folder = tmp_path_factory.mktemp("defaults")
    parameters = {**florida_inputs, **model_outputs("resilience_evaluation", folder)}
    return by_name(processing.run("mineeco:resilience_evaluation", parameters))


@pytest.mark.data
def test_resilience_evaluation_end_to_end(resilience_defaults):
    results = resilience_defaults
    index, dataset = read_raster(results["INDEX"])
    assert (dataset.RasterXSize, dataset.RasterYSize) == (200, 200)
    valid = index[~np.isnan(index)]
    assert valid.size > 30000 and valid.min() >= 0 and valid.max() <= 1
    classes = gdal.Open(results["CLASSES"]).ReadAsArray()
    assert set(np.unique(classes)) <= {0, 1, 2, 3, 4, 5}
    table = QgsVectorLayer(results["CLASS_TABLE"], "classes", "ogr")
    rows = [f.attributes() for f in table.getFeatures()]
    shares = [float(row[7]) for row in rows[:-1]]  # the percent column; the last row is total
    assert sum(shares) == pytest.approx(100, abs=0.01)
    assert float(rows[-1][4]) == valid.size  # pixels classified = valid index pixels
    weights = QgsVectorLayer(results["WEIGHTS_TABLE"], "weights", "ogr")
    # 14 indicators computed; population, PM2.5 and CO2 left out and the rest renormalised.
    assert weights.featureCount() == 14
    page = Path(results["REPORT"]).read_text()
    assert "Resilience classes" in page and "Indicator weights" in page
    # The optional steps are off unless switched on: nothing written, no sections (the
    # report still runs).
    assert all(results[name] is None for name in OPTIONAL_OUTPUTS)
    assert not list(Path(results["INDEX"]).parent.glob("STABILITY*"))
    for table_id in ("stability-table", "interval-table", "influence-table", "trend-shares"):
        assert f'id="{table_id}' not in page, table_id


@pytest.fixture(scope="module")
def npp_inputs(florida_inputs, tmp_path_factory):
    """NPP drivers on the L8-FL crop: NDVI from the real scene, made monthly by a seasonal
    curve (derived); climate, solar radiation, soil samples and degradation indicators are
    smooth stand-ins with noise (documented: the sample data have none for this place)."""
    folder = tmp_path_factory.mktemp("npp")
    band = gdal.Open(florida_inputs["SAND"])
    x0, pixel, _, y0, _, _ = band.GetGeoTransform()
    mtl = Path(florida_inputs["MTL"])
    text = mtl.read_text()
    red = gdal.Open(str(mtl.parent / mtl_name(text, 4))).ReadAsArray().astype(float)
    nir = gdal.Open(str(mtl.parent / mtl_name(text, 5))).ReadAsArray().astype(float)
    ndvi = (nir - red) / (nir + red)
    rows, cols = np.mgrid[0:200, 0:200]
    season = 0.6 + 0.4 * np.sin((np.arange(12) - 3) / 12 * 2 * np.pi)

    def grid(name, values):
        return write_raster(
            folder / f"{name}.tif", values, epsg=32616, origin=(x0, y0), pixel=pixel
        )

    rng = np.random.default_rng(3)
    temperature = np.stack(
        [12 + 10 * np.sin((m - 3) / 12 * 2 * np.pi) + 0.01 * cols for m in range(12)]
    )
    precipitation = np.stack([100 + 40 * season[m] + 0.1 * rows for m in range(12)])
    solar = np.stack([350 + 250 * np.sin((m - 2) / 12 * np.pi) + 0 * rows for m in range(12)])
    points = QgsVectorLayer(
        "Point?crs=EPSG:32616&field=om:double&field=tn:double&field=ph:double", "soil", "memory"
    )
    features = []
    for _ in range(60):
        r, c = rng.uniform(0, 200, 2)
        feature = QgsFeature(points.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x0 + c * pixel, y0 - r * pixel)))
        # Plain floats: a memory layer refuses numpy scalars (addFeatures fails silently).
        values = (2 + 0.01 * c + rng.normal(0, 0.1), 0.1 + 0.001 * r, 6 + 0.005 * (r + c))
        feature.setAttributes([float(v) for v in values])
        features.append(feature)
    assert points.dataProvider().addFeatures(features)[0]
    QgsProject.instance().addMapLayer(points)
    return {
        "NDVI": [grid("ndvi_monthly", np.clip(ndvi[None] * season[:, None, None], -1, 1))],
        "TEMPERATURE": [grid("temperature", temperature)],
        "PRECIPITATION": [grid("precipitation", precipitation)],
        "SOLAR": [grid("solar", solar)],
        "SOIL_POINTS": points.id(),
        "SOIL_FIELD_1": "om",
        "SOIL_FIELD_2": "tn",
        "SOIL_FIELD_3": "ph",
        "CLIMATE_DRIVERS": [
            grid("annual_t", temperature.mean(axis=0)),
            grid("annual_p", precipitation.sum(axis=0)),
        ],
        "DEGRADATION_INDICATORS": [
            grid("bare", 1 - np.clip(ndvi, 0, 1)),
            grid("slope", 0.3 * rows / 200 + rng.normal(0, 0.01, (200, 200))),
        ],
        "DEGRADATION_TRENDS": "+,+",
        "DEGRADATION_WEIGHTS": "0.6,0.4",
        "CATEGORIES": "climate,climate,soil,soil,soil,mining",
        "POINTS": 300,
        "TREES": 40,
        "WINDOW": 11,
    }


@pytest.mark.data
def test_npp_drivers_end_to_end(run, npp_inputs, tmp_path):
    results = by_name(run("npp_drivers", {**npp_inputs, **model_outputs("npp_drivers", tmp_path)}))
    npp = read_raster(results["NPP"])[0][0]
    valid = npp[~np.isnan(npp)]
    assert valid.size > 30000 and valid.min() >= 0
    assert 100 < valid.mean() < 3000  # gC/m²/yr: a vegetated subtropical scene
    rgb = gdal.Open(results["RGB"])
    # Red, green, blue (one category each) and an alpha band for NoData.
    assert rgb.RasterCount == 4 and rgb.GetRasterBand(1).DataType == gdal.GDT_Byte
    dominant = gdal.Open(results["DOMINANT"]).ReadAsArray()
    assert dominant.max() > 0
    importance = QgsVectorLayer(results["IMPORTANCE"], "importance", "ogr")
    assert importance.featureCount() >= 6  # two climate drivers, three soils, LD (+ totals)
    page = Path(results["REPORT"]).read_text()
    assert "Driver importance" in page and "Dominant drivers" in page


@pytest.mark.data
def test_resilience_evaluation_with_its_optional_steps(
    run, florida_inputs, resilience_defaults, tmp_path
):
    outputs = tmp_path / "out"
    outputs.mkdir()
    results = by_name(
        run(
            "resilience_evaluation",
            {
                **florida_inputs,
                "RUN_SENSITIVITY": True,
                "SENSITIVITY_DRAWS": 40,
                "SEED": 7,
                "RUN_TREND": True,
                "EARLIER_INDICES": earlier_indices(florida_inputs, tmp_path),
                "YEARS": "2000,2005,2010,2015,2020",
                **model_outputs("resilience_evaluation", outputs),
            },
        )
    )
    # The optional steps change none of the other outputs: the same index, classes and
    # indicators, bit for bit, as with the steps off.
    for name in ("INDEX", "CLASSES", "C1_DDI", "C2_EROSION", "C9_LST", "C14_SHDI"):
        np.testing.assert_array_equal(
            read_raster(results[name])[0], read_raster(resilience_defaults[name])[0], name
        )
    for name in ("CLASS_TABLE", "WEIGHTS_TABLE"):
        assert Path(results[name]).read_text() == Path(resilience_defaults[name]).read_text()
    index = read_raster(results["INDEX"])[0][0]
    valid = ~np.isnan(index)
    # Trend over 0.1, 0.2, 0.3, 0.4 (2000–2015) and this run's index (2020), by hand
    # (tests/florida.py): improvement where the index is above 0.4, no change below.
    trend = gdal.Open(results["TREND_CLASSES"]).ReadAsArray()
    np.testing.assert_array_equal(trend[valid], expected_trend_classes(index)[valid])
    improving = 100.0 * np.count_nonzero(valid & (index > 0.4)) / np.count_nonzero(valid)
    assert 0 < improving < 100  # the crop has pixels on both sides of 0.4
    stability = read_raster(results["STABILITY"])[0][0]
    assert np.isfinite(stability[valid]).all()
    assert stability[valid].min() >= 0.2 and stability[valid].max() == 1.0  # 40 draws: k/40
    np.testing.assert_allclose(stability[valid] * 40, np.round(stability[valid] * 40), atol=1e-4)
    low, high = (read_raster(results[name])[0][0] for name in ("INDEX_LOW", "INDEX_HIGH"))
    mean = read_raster(results["INDEX_MEAN"])[0][0]
    assert (low[valid] <= mean[valid] + 1e-6).all() and (mean[valid] <= high[valid] + 1e-6).all()
    influence = QgsVectorLayer(results["INFLUENCE_TABLE"], "influence", "ogr")
    assert influence.featureCount() == 14  # the indicators the index used
    page = read_page(results["REPORT"])
    for table in ("stability-table", "interval-table", "influence-table", "trend-shares-table"):
        assert table in page.tables, table
    # The report's trend table gives the improving share computed here, to 2 decimals.
    shares = {row[1][0]: row[3][0] for row in page.tables["trend-shares-table"][1:-1]}
    assert shares["Significant improvement"] == f"{improving:.2f}"
    # Its interval table: the mean over the draws of the INDEX_MEAN raster's valid pixels, and
    # the mean width HIGH − LOW (float64 means of the float32 rasters, to 4 decimals).
    interval = {row[0][0]: row[1:] for row in page.tables["interval-table"][1:]}
    assert interval["Mean over the draws"][1][0] == f"{mean[valid].mean():.4f}"
    width = interval["Width of the 90 % interval (95 % − 5 %)"]
    assert width[1][0] == f"{(high[valid] - low[valid]).mean():.4f}"

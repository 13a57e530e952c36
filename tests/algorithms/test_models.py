"""The two workflow models, end to end through processing.run, on a crop of the real L8-FL
scene with documented stand-ins where the sample data have no layer."""

import re
from pathlib import Path

import numpy as np
import pytest
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

L8_FL_MTL = "LC80200392015216LGN00_MTL.txt"
# Stand-in land cover codes (CNLUCC, as the shipped HAI, BAI, ECO and P tables use them), from
# NDVI thresholds: water 41, built-up 51, dry land 12, grassland 31, forest 21.


def test_models_are_shipped_in_the_workflows_group(provider):
    models = {a.name(): a for a in provider.algorithms() if a.group() == "Workflows"}
    assert {"resilience_evaluation", "npp_drivers"} <= set(models)
    registry = QgsApplication.processingRegistry()
    assert registry.algorithmById("mineeco:resilience_evaluation") is not None
    assert "17 indicators" in models["resilience_evaluation"].shortHelpString()


@pytest.fixture(scope="module")
def florida_inputs(l8_fl_dir, tmp_path_factory):
    """A 200 × 200 crop of the real L8-FL scene (band files and MTL); stand-ins, derived and
    documented, for the layers the sample data lack: land cover from NDVI thresholds, a DEM
    (a smooth tilted surface), monthly rainfall (a seasonal curve) and soil fractions."""
    folder = tmp_path_factory.mktemp("florida")
    mtl = (l8_fl_dir / L8_FL_MTL).read_text()
    for name in re.findall(r'FILE_NAME_BAND_\w+ = "([^"]+)"', mtl):
        if (l8_fl_dir / name).exists():
            gdal.Translate(str(folder / name), str(l8_fl_dir / name), srcWin=[200, 200, 200, 200])
    (folder / L8_FL_MTL).write_text(mtl)
    band = gdal.Open(str(folder / mtl_name(mtl, 4)))
    x0, pixel, _, y0, _, _ = band.GetGeoTransform()
    red = band.ReadAsArray().astype(float)
    nir = gdal.Open(str(folder / mtl_name(mtl, 5))).ReadAsArray().astype(float)
    ndvi = (nir - red) / (nir + red)
    cover = np.select([ndvi < 0, ndvi < 0.25, ndvi < 0.45, ndvi < 0.6], [41, 51, 12, 31], 21)

    def grid(name, values, dtype=gdal.GDT_Float32):
        return write_raster(
            folder / f"{name}.tif", values, epsg=32616, origin=(x0, y0), pixel=pixel, dtype=dtype
        )

    rows, cols = np.mgrid[0:200, 0:200]
    dem = 50 + 0.3 * rows + 5 * np.sin(cols / 15.0)
    rng = np.random.default_rng(1)
    months = [
        150 + 60 * np.sin(m / 12 * 2 * np.pi) + rng.normal(0, 2, (200, 200)) for m in range(12)
    ]
    return {
        "MTL": str(folder / L8_FL_MTL),
        "DEM": grid("dem", dem),
        "LANDCOVER": grid("landcover", cover, gdal.GDT_Int16),
        "PRECIPITATION": [grid("rain", np.stack(months))],
        "SAND": grid("sand", np.full((200, 200), 40.0)),
        "SILT": grid("silt", np.full((200, 200), 40.0)),
        "CLAY": grid("clay", np.full((200, 200), 20.0)),
        "ORGANIC_CARBON": grid("oc", np.full((200, 200), 1.5)),
        "WINDOW": 7,
    }


def mtl_name(mtl, band):
    return re.search(rf'FILE_NAME_BAND_{band} = "([^"]+)"', mtl).group(1)


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


@pytest.mark.data
def test_resilience_evaluation_end_to_end(run, florida_inputs, tmp_path):
    results = by_name(
        run(
            "resilience_evaluation",
            {**florida_inputs, **model_outputs("resilience_evaluation", tmp_path)},
        )
    )
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
    # The optional steps are off unless switched on: empty outputs, no sections.
    assert results["STABILITY"] is None and results["TREND_CLASSES"] is None
    assert 'id="stability-table"' not in page and 'id="trend-shares-table"' not in page


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
def test_resilience_evaluation_with_its_optional_steps(run, florida_inputs, tmp_path):
    # Earlier indices: constant 0.1, 0.2, 0.3, 0.4 (2000–2015) on the crop's grid, then this
    # run's index (2020). Mann–Kendall by hand for n = 5: a pixel whose index is above 0.4
    # rises in every pair, S = 10, Var S = 5·4·15/18 = 16.67, Z = (10 − 1)/4.08 = 2.20,
    # p = 0.028 ≤ 0.05: significant improvement (class 3); between 0.3 and 0.4, S = 8,
    # Z = 1.71, p = 0.087; lower, S ≤ 4: no significant change (class 2). Never a decline.
    x0, pixel, _, y0, _, _ = gdal.Open(florida_inputs["SAND"]).GetGeoTransform()
    earlier = [
        write_raster(
            tmp_path / f"index_{year}.tif",
            np.full((200, 200), value),
            epsg=32616,
            origin=(x0, y0),
            pixel=pixel,
        )
        for year, value in ((2000, 0.1), (2005, 0.2), (2010, 0.3), (2015, 0.4))
    ]
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
                "EARLIER_INDICES": earlier,
                "YEARS": "2000,2005,2010,2015,2020",
                **model_outputs("resilience_evaluation", outputs),
            },
        )
    )
    index = read_raster(results["INDEX"])[0][0]
    valid = ~np.isnan(index)
    trend = gdal.Open(results["TREND_CLASSES"]).ReadAsArray()
    np.testing.assert_array_equal(trend[valid & (index > 0.4)], 3)
    np.testing.assert_array_equal(trend[valid & (index < 0.4)], 2)
    improving = 100.0 * np.count_nonzero(valid & (index > 0.4)) / np.count_nonzero(valid)
    assert 0 < improving < 100  # the crop has pixels on both sides of 0.4
    stability = read_raster(results["STABILITY"])[0][0]
    assert np.isfinite(stability[valid]).all()
    assert stability[valid].min() >= 0.2 and stability[valid].max() == 1.0  # 40 draws: k/40
    np.testing.assert_allclose(stability[valid] * 40, np.round(stability[valid] * 40), atol=1e-4)
    influence = QgsVectorLayer(results["INFLUENCE_TABLE"], "influence", "ogr")
    assert influence.featureCount() == 14  # the indicators the index used
    page = Path(results["REPORT"]).read_text()
    for table in ("stability-table", "influence-table", "trend-shares-table"):
        assert f'id="{table}"' in page, table
    # The report's trend table gives the improving share computed here, to 2 decimals.
    assert f"{improving:.2f}" in page

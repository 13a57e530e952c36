"""The two workflow models, end to end through processing.run, on a crop of the real L8-FL
scene with documented stand-ins where the sample data have no layer."""

import re
from pathlib import Path

import declared
import numpy as np
import pytest
from florida import (
    earlier_indices,
    expected_trend_classes,
    florida_crop,
    npp_crop_inputs,
)
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsFeatureRequest,
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
    # One "Workflows" group in the Toolbox: the models share html_report's group id.
    assert {a.groupId() for a in models.values()} == {"workflows"}
    assert registry.algorithmById("mineeco:html_report").groupId() == "workflows"
    # Human titles, ids unchanged.
    assert models["resilience_evaluation"].displayName() == "Ecological resilience evaluation"
    assert models["npp_drivers"].displayName() == "NPP drivers"


def visible(definition) -> bool:
    return not int(definition.flags()) & int(definition.FlagHidden)


def test_model_dialogs_show_the_results_and_inputs_top_down(provider):
    from mine_eco_plugin.workflows import RESULTS

    registry = QgsApplication.processingRegistry()
    model = registry.createAlgorithmById("mineeco:resilience_evaluation")
    inputs = [d.name() for d in model.parameterDefinitions() if not d.isDestination()]
    # Scene, DEM, land cover, climate, soil, optional layers, tables, switches.
    assert inputs[:11] == [
        "MTL",
        "DEM",
        "LANDCOVER",
        "PRECIPITATION",
        "SAND",
        "SILT",
        "CLAY",
        "ORGANIC_CARBON",
        "POPULATION",
        "PM25",
        "CO2",
    ]
    assert inputs.index("P_TABLE") < inputs.index("WEIGHT_SOURCE") < inputs.index("RUN_TREND")
    for model_id in ("resilience_evaluation", "npp_drivers"):
        model = registry.createAlgorithmById(f"mineeco:{model_id}")
        shown = [d for d in model.destinationParameterDefinitions() if visible(d)]
        # The results, in reading order, with human descriptions; created by default.
        assert [d.name() for d in shown] == list(RESULTS[model_id])
        assert [d.description() for d in shown] == list(RESULTS[model_id].values())
        assert all(d.createByDefault() for d in shown)
        # The intermediate ones are hidden and optional (nobody has to name or skip them).
        hidden = [d for d in model.destinationParameterDefinitions() if not visible(d)]
        assert hidden and all(d.flags() & d.FlagOptional for d in hidden)
    npp = registry.createAlgorithmById("mineeco:npp_drivers")
    assert {"soil:SOIL_FOLDER", "lcc:LCC_FOLDER"} <= {
        d.name() for d in npp.destinationParameterDefinitions() if not visible(d)
    }


def test_resilience_model_wiring(provider):
    """LST gets the thermal radiance from a step output no user can skip; C11 is the
    tasseled-cap brightness (band 1 of the tasseled cap), not VHI's TCI; C1's direction is a
    model input."""
    model = QgsApplication.processingRegistry().createAlgorithmById("mineeco:resilience_evaluation")
    names = {d.name() for d in model.destinationParameterDefinitions()}
    assert "reflectance:THERMAL_RADIANCE" not in names and "vhi:C11_TCI" not in names
    resilience = model.childAlgorithm("resilience")
    tci = resilience.parameterSources()["TCI"][0]
    assert (tci.outputChildId(), tci.outputName()) == ("tasseled_cap", "OUTPUT")
    ddi_trend = resilience.parameterSources()["DDI_TREND"][0]
    assert ddi_trend.parameterName() == "DDI_TREND"
    assert model.parameterDefinition("DDI_TREND").defaultValue() == 0
    assert "tasseled-cap brightness" in model.shortHelpString()
    assert "trend +" in model.shortHelpString()


def test_land_cover_classification_reaches_every_land_cover_step(provider):
    """LANDCOVER_CLASSIFICATION (0 CNLUCC, the default; 1 CLCD, the study's land cover) is the
    CLASSIFICATION of HAI, BAI, ECO and RUSLE P: one choice for the four shipped tables."""
    from mine_eco_plugin.algorithms.landcover_tables import CLASSIFICATION_OPTIONS

    model = QgsApplication.processingRegistry().createAlgorithmById("mineeco:resilience_evaluation")
    definition = model.parameterDefinition("LANDCOVER_CLASSIFICATION")
    assert definition.options() == list(CLASSIFICATION_OPTIONS)
    assert definition.defaultValue() == 0  # command lines of earlier versions run as before
    for child_id in ("hai", "bai", "eco", "rusle_p"):
        sources = model.childAlgorithm(child_id).parameterSources()["CLASSIFICATION"]
        assert [s.parameterName() for s in sources] == ["LANDCOVER_CLASSIFICATION"], child_id
    assert "LANDCOVER_CLASSIFICATION" in model.shortHelpString()


def test_optional_step_inputs_are_checked_before_any_step(provider, tmp_path):
    """A trend step without enough earlier indices or with the wrong number of years fails
    before any step runs, naming the model's own inputs, and nothing is written."""
    import processing
    from qgis.core import QgsProcessingException

    earlier = [
        write_raster(tmp_path / f"i{k}.tif", np.full((4, 4), 0.1 * k, np.float32)) for k in (1, 2)
    ]
    out = tmp_path / "out"
    out.mkdir()
    base = {
        # Mandatory inputs that are never read: the check comes before any step.
        "MTL": str(tmp_path / "missing_MTL.txt"),
        **{name: earlier[0] for name in ("DEM", "LANDCOVER", "SAND", "SILT", "CLAY")},
        "ORGANIC_CARBON": earlier[0],
        "PRECIPITATION": [earlier[0]],
        "RUN_TREND": True,
        **model_outputs("resilience_evaluation", out),
    }
    model = QgsApplication.processingRegistry().createAlgorithmById("mineeco:resilience_evaluation")
    from qgis.core import QgsProcessingContext

    context = QgsProcessingContext()
    for extra, message in (
        ({"EARLIER_INDICES": earlier[:1], "YEARS": "2000,2020"}, "EARLIER_INDICES: .* 1 given"),
        ({"EARLIER_INDICES": earlier, "YEARS": "2000,2020"}, "YEARS: 2 year.* needs 3"),
        ({"EARLIER_INDICES": earlier, "YEARS": "2000,2000,2020"}, "YEARS: every year must"),
    ):
        ok, text = model.checkParameterValues({**base, **extra}, context)
        assert not ok
        assert re.search(message, text), text
        with pytest.raises(QgsProcessingException, match=message):
            processing.run(model, {**base, **extra})
    assert list(out.iterdir()) == []
    # Off, the trend step's inputs are not checked.
    from mine_eco_plugin.workflows import check_resilience_evaluation

    off = {**base, "EARLIER_INDICES": earlier[:1], "YEARS": "2000", "RUN_TREND": False}
    assert check_resilience_evaluation(model, off, context) == ""


def test_shipped_models_are_what_the_code_builds():
    """The .model3 files are written by scripts/build_models.py: a change to an algorithm's
    parameters (an output made optional, say) must be followed by a rebuild, or the shipped
    model says something else than the code. The script builds both into a temporary folder
    and compares byte for byte (a fresh process: Qt's hash seed orders the XML)."""
    import os
    import subprocess
    import sys

    from qgis.core import Qgis

    if Qgis.QGIS_VERSION_INT // 100 != 322:
        pytest.skip(
            f"the shipped models are written by QGIS 3.22, the oldest supported (they must "
            f"load there); QGIS {Qgis.QGIS_VERSION} writes the same model as other XML"
        )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(repo / "scripts" / "build_models.py"), "--check"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_inputs_left_out_take_the_models_defaults(provider):
    """qgis_process hands a model only the inputs its command line names: the model fills in
    its defaults (here the study's twelve driver categories and the resilience model's class
    breaks, window and switches) before any step reads them; given values stay."""
    registry = QgsApplication.processingRegistry()
    npp = registry.createAlgorithmById("mineeco:npp_drivers")
    filled = npp.with_defaults({"POINTS": 200})
    assert filled["CATEGORIES"] == ",".join(["climate"] * 4 + ["soil"] * 7 + ["mining"])
    assert filled["POINTS"] == 200 and filled["SEED"] == 42 and filled["WINDOW"] == 11
    assert "NDVI" not in filled  # optional, without a default: left out
    resilience = registry.createAlgorithmById("mineeco:resilience_evaluation")
    filled = resilience.with_defaults({"WINDOW": 7})
    assert filled["BREAKS"] == "0.38,0.41,0.63,0.73" and filled["WINDOW"] == 7
    assert filled["RUN_PLANNER"] is False and filled["WEIGHT_SOURCE"] == 0
    assert not any(":" in name for name in filled)  # no output is invented


def test_npp_model_checks_its_counts_first(provider, tmp_path):
    from qgis.core import QgsProcessingContext

    layer = write_raster(tmp_path / "x.tif", np.ones((4, 4), np.float32))
    model = QgsApplication.processingRegistry().createAlgorithmById("mineeco:npp_drivers")
    from mine_eco_plugin.workflows import check_npp_drivers

    context = QgsProcessingContext()
    parameters = {
        "NDVI": [layer],
        "CLIMATE_DRIVERS": [layer, layer],
        "DEGRADATION_INDICATORS": [layer, layer],
        "DEGRADATION_TRENDS": "+,+",
        "DEGRADATION_WEIGHTS": "0.6,0.4",
        "SOIL_POINTS": points_layer(tmp_path),
        "SOIL_FIELDS": ["om", "tn", "ph"],
        "CATEGORIES": "climate,climate,soil,soil,soil,mining",
    }
    assert check_npp_drivers(model, parameters, context) == ""
    # NDVI, or the fusion step with its base pairs and coarse series.
    no_ndvi = {k: v for k, v in parameters.items() if k != "NDVI"}
    assert check_npp_drivers(model, no_ndvi, context).startswith(
        "NDVI: give monthly NDVI or a dated NDVI series, or switch on the fusion step"
    )
    fusion = {
        **no_ndvi,
        "RUN_FUSION": True,
        "FUSION_FINE": [layer, layer],
        "FUSION_COARSE": [layer, layer],
        "FUSION_SERIES": [layer],
    }
    assert check_npp_drivers(model, fusion, context) == ""
    for changes, message in (
        ({"FUSION_FINE": [layer]}, "FUSION_FINE: the fusion step (RUN_FUSION) needs at least two"),
        ({"FUSION_COARSE": [layer]}, "FUSION_COARSE: 1 layer(s) for 2 FUSION_FINE images"),
        ({"FUSION_SERIES": []}, "FUSION_SERIES: the fusion step (RUN_FUSION) needs"),
    ):
        assert check_npp_drivers(model, {**fusion, **changes}, context).startswith(message)
    assert check_npp_drivers(model, parameters, context) == ""
    assert check_npp_drivers(model, {**parameters, "DEGRADATION_TRENDS": "+"}, context).startswith(
        "DEGRADATION_TRENDS: 1 value(s) for 2"
    )
    # Two climate drivers, three soils, LD: six categories, not five.
    assert check_npp_drivers(
        model, {**parameters, "CATEGORIES": "climate,soil,soil,soil,mining"}, context
    ).startswith("CATEGORIES: 5 categories for 6 drivers")
    # Any number of soil properties: seven (the study's) and four climate drivers make twelve.
    seven = ["om", "tn", "ph", "cf", "ap", "ak", "bd"]
    twelve = {
        **parameters,
        "CLIMATE_DRIVERS": [layer] * 4,
        "SOIL_FIELDS": seven,
        "CATEGORIES": model.parameterDefinition("CATEGORIES").defaultValue(),
    }
    assert check_npp_drivers(model, twelve, context) == ""
    assert check_npp_drivers(model, {**twelve, "SOIL_FIELDS": seven[:6]}, context) == (
        "CATEGORIES: 12 categories for 11 drivers (the 4 CLIMATE_DRIVERS layer(s), the 6 "
        "SOIL_FIELDS properties and LD)"
    )


def points_layer(folder):
    """A point layer with the numeric fields om, tn, ph, cf, ap, ak, bd (no features)."""
    from osgeo import ogr, osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    path = folder / "soil.gpkg"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("soil", srs, ogr.wkbPoint)
    for name in ("om", "tn", "ph", "cf", "ap", "ak", "bd"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTReal))
    source = None
    return str(path)


@pytest.fixture(scope="module")
def florida_inputs(l8_fl_dir, tmp_path_factory):
    """The resilience study's model inputs on a 200 × 200 crop of the real L8-FL scene, with
    documented stand-ins for the layers the sample data lack (tests/florida.py)."""
    return florida_crop(l8_fl_dir, tmp_path_factory.mktemp("florida"))


def model_outputs(model_id, folder):
    """A file for every output of the model: '<child>:<NAME>' → folder/<NAME>.tif|.csv, the
    report .html, a chart .png, a folder without suffix."""
    model = QgsApplication.processingRegistry().createAlgorithmById(f"mineeco:{model_id}")
    outputs = {}
    for definition in model.destinationParameterDefinitions():
        name = definition.name().split(":")[-1]
        suffix = {
            "rasterDestination": ".tif",
            "fileDestination": f".{definition.defaultFileExtension()}",
            "folderDestination": "",
        }.get(definition.type(), ".csv")
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
    """The resilience study's model with nothing but its inputs and outputs: the optional steps
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
    """NPP drivers on the L8-FL crop (florida.npp_crop_inputs: NDVI from the real scene made
    monthly by a seasonal curve, smooth stand-ins for the rest), with the soil samples as a
    memory layer of the project, as a user's digitised points would be."""
    inputs = npp_crop_inputs(florida_inputs, tmp_path_factory.mktemp("npp"))
    samples = QgsVectorLayer(inputs["SOIL_POINTS"], "soil samples", "ogr")
    points = samples.materialize(QgsFeatureRequest())
    assert points.featureCount() == 60 and points.dataProvider().name() == "memory"
    QgsProject.instance().addMapLayer(points)
    return {**inputs, "SOIL_POINTS": points.id(), "POINTS": 300, "TREES": 40, "WINDOW": 11}


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
    # Every driver (two climate layers, the three soil fields by name, LD) in the Pearson
    # table, the importance table and the location-specific correlation: one class map and
    # one row of shares each.
    drivers = ["annual_t", "annual_p", "om", "tn", "ph", "LD"]
    pearson = QgsVectorLayer(results["PEARSON"], "pearson", "ogr")
    assert [f.attributes()[0] for f in pearson.getFeatures()][: len(drivers)] == drivers
    named = {str(f.attributes()[1]) for f in importance.getFeatures()}
    assert set(drivers) <= named | {str(f.attributes()[0]) for f in importance.getFeatures()}
    shares = [
        f.attributes() for f in QgsVectorLayer(results["LCC_SHARES"], "s", "ogr").getFeatures()
    ]
    assert [row[0] for row in shares] == drivers
    for row in shares:
        # The three shares of the classified pixels add up to 100 %; the class map counts them.
        assert sum(float(v) for v in row[1:4]) == pytest.approx(100, abs=1e-6)
        classes = gdal.Open(str(Path(results["LCC_FOLDER"]) / row[5]))
        values = classes.ReadAsArray()
        assert int(row[4]) == np.count_nonzero(values)
        assert float(row[1]) == pytest.approx(100 * np.count_nonzero(values == 1) / int(row[4]))
    # The kriged soil maps carry their fields' names.
    assert sorted(p.name for p in Path(results["SOIL_FOLDER"]).glob("*.tif")) == [
        "om.tif",
        "ph.tif",
        "tn.tif",
    ]
    page = Path(results["REPORT"]).read_text()
    assert "Driver importance" in page and "Dominant drivers" in page


@pytest.mark.data
def test_npp_drivers_monthly_ndvi_gives_casa_as_before(run, npp_inputs, tmp_path):
    """Monthly NDVI (one 12-band raster, no dates): one CASA year, NPP exactly as 'casa_npp'
    alone gives it, as the model did before it took a dated series."""
    results = by_name(run("npp_drivers", {**npp_inputs, **model_outputs("npp_drivers", tmp_path)}))
    alone = tmp_path / "casa_alone.tif"
    run(
        "casa_npp",
        {name: npp_inputs[name] for name in ("NDVI", "TEMPERATURE", "PRECIPITATION", "SOLAR")}
        | {"OUTPUT": str(alone)},
    )
    np.testing.assert_array_equal(read_raster(results["NPP"])[0], read_raster(alone)[0])
    rows = [
        f.attributes() for f in QgsVectorLayer(results["NPP_YEARS_TABLE"], "t", "ogr").getFeatures()
    ]
    assert [str(r[0]) for r in rows] == ["1", "mean"]
    assert results["FUSED_FOLDER"] is None  # the fusion step is off


@pytest.mark.data
def test_npp_drivers_fuses_a_series_and_averages_the_years(run, npp_inputs, tmp_path):
    """RUN_FUSION: ESTARFM predicts a monthly 'MODIS' series of two years from four base
    pairs; the model composites it per month, runs CASA per year and analyses the mean NPP.
    The model's NPP equals 'casa_npp_years' run on the fused series it wrote, and the mean of
    its two yearly rasters."""
    ndvi = read_raster(npp_inputs["NDVI"][0])[0]  # 12 months, derived (npp_inputs)
    like = gdal.Open(npp_inputs["NDVI"][0])
    x0, pixel, _, y0, _, _ = like.GetGeoTransform()
    folder = tmp_path / "inputs"
    folder.mkdir()

    def layer(name, values):
        return write_raster(
            folder / f"{name}.tif", values, epsg=32616, origin=(x0, y0), pixel=pixel
        )

    def coarse(values):  # 8 × 8 block means on the fine grid: a coarse image
        blocks = np.nan_to_num(values).reshape(25, 8, 25, 8).mean(axis=(1, 3))
        return np.kron(blocks, np.ones((8, 8))).astype(np.float32)

    years = (2014, 2015)
    fine, coarse_pairs, series = [], [], []
    for year in years:
        shift = 0.02 * (year - years[0])
        for month in (1, 7):
            values = np.clip(ndvi[month - 1] + shift, -1, 1)
            fine.append(layer(f"landsat_{year}-{month:02d}-15", values))
            coarse_pairs.append(layer(f"modis_{year}-{month:02d}-15", coarse(values)))
        for month in range(1, 13):
            values = np.clip(ndvi[month - 1] + shift, -1, 1)
            series.append(layer(f"modis_{year}-{month:02d}-15", coarse(values)))
    outputs = tmp_path / "out"
    outputs.mkdir()
    parameters = {
        **npp_inputs,
        "NDVI": [],
        "RUN_FUSION": True,
        "FUSION_FINE": fine,
        "FUSION_COARSE": coarse_pairs,
        "FUSION_SERIES": series,
        "FUSION_WINDOW": 3,
        **model_outputs("npp_drivers", outputs),
    }
    results = by_name(run("npp_drivers", parameters))
    fused = sorted(Path(results["FUSED_FOLDER"]).glob("fused_*.tif"))
    assert [p.name for p in fused][:2] == ["fused_2014-01-15.tif", "fused_2014-02-15.tif"]
    assert len(fused) == 24
    yearly = [Path(results["NPP_FOLDER"]) / f"npp_{year}.tif" for year in years]
    stack = np.stack([read_raster(p)[0][0] for p in yearly]).astype(np.float64)
    npp = read_raster(results["NPP"])[0][0]
    np.testing.assert_allclose(npp, stack.mean(axis=0), rtol=1e-6)
    assert not np.allclose(stack[0], stack[1], equal_nan=True)  # two different years
    alone = tmp_path / "alone"
    run(
        "casa_npp_years",
        {
            "NDVI": [str(p) for p in fused],
            **{n: npp_inputs[n] for n in ("TEMPERATURE", "PRECIPITATION", "SOLAR")},
            "OUTPUT": str(alone / "mean.tif"),
            "OUTPUT_FOLDER": str(alone / "years"),
        },
    )
    np.testing.assert_array_equal(npp, read_raster(alone / "mean.tif")[0][0])
    rows = [
        f.attributes() for f in QgsVectorLayer(results["NPP_YEARS_TABLE"], "t", "ogr").getFeatures()
    ]
    assert [str(r[0]) for r in rows] == ["2014", "2015", "mean"]
    # The drivers were analysed against that mean NPP.
    assert QgsVectorLayer(results["PEARSON"], "p", "ogr").featureCount() >= 6


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


#: Table 2 (combined weights and the trends used) of the 14 indicators the model computes on
#: the crop: C5, C16, C17 are left out. C1 enters with + (see the Table 2 CSV).
TABLE2 = (
    ("C1_DDI", 1, 0.1185, +1),
    ("C2_EROSION", 1, 0.0736, -1),
    ("C3_FVC", 1, 0.1554, +1),
    ("C4_VHI", 1, 0.0941, +1),
    ("C6_HAI", 1, 0.0329, -1),
    ("C7_TASSELED_CAP", 3, 0.0629, +1),  # wetness
    ("C8_DRYNESS", 1, 0.0450, -1),
    ("C9_LST", 1, 0.0473, -1),
    ("C10_ALBEDO", 1, 0.0389, -1),
    ("C7_TASSELED_CAP", 1, 0.0365, -1),  # C11: brightness
    ("C12_BAI", 1, 0.0377, +1),
    ("C13_ECO", 1, 0.0395, -1),
    ("C14_SHDI", 1, 0.0416, +1),
    ("C15_FN", 1, 0.0512, +1),
)


def independent_index(results, table=TABLE2):
    """Eq. 18–20 in numpy on the model's own indicator rasters: min–max over the pixels valid
    in every indicator, 1 − T for negative trends, Table 2's weights renormalised."""
    layers = np.stack([read_raster(results[name])[0][band - 1] for name, band, _, _ in table])
    valid = np.isfinite(layers).all(axis=0)
    weights = np.array([w for _, _, w, _ in table])
    weights = weights / weights.sum()
    index = np.zeros(layers.shape[1:])
    for layer, weight, (_, _, _, trend) in zip(layers, weights, table, strict=True):
        low, high = layer[valid].min(), layer[valid].max()
        t = (layer - low) / (high - low)
        index += weight * (t if trend > 0 else 1 - t)
    index[~valid] = np.nan
    return index


@pytest.mark.data
def test_resilience_index_of_the_model_by_hand(resilience_defaults):
    """The model's index, pixel by pixel, from its own indicator rasters: C11 is band 1 of the
    tasseled cap (brightness). With VHI's temperature condition index in the C11 slot (what
    the model used to do), or C1 with the printed −, the same computation does not match."""
    results = resilience_defaults
    index = read_raster(results["INDEX"])[0][0]
    expected = independent_index(results)
    np.testing.assert_array_equal(np.isnan(index), np.isnan(expected))
    valid = ~np.isnan(index)
    np.testing.assert_allclose(index[valid], expected[valid], atol=1e-5)
    printed = [row if row[0] != "C1_DDI" else ("C1_DDI", 1, 0.1185, -1) for row in TABLE2]
    assert np.nanmax(np.abs(independent_index(results, printed) - index)) > 0.05


@pytest.mark.parametrize("model_id", ["resilience_evaluation", "npp_drivers"])
def test_model_canvas_boxes_do_not_overlap(provider, model_id):
    """The .model3 layout, without the Modeler: every box (a step with its In/Out labels spans
    ±53 px around its centre in QGIS 3.22, an input or output box ±17 px; measured in the
    Modeler by tests/desktop/test_models_desktop.py) is apart from every other."""
    model = QgsApplication.processingRegistry().createAlgorithmById(f"mineeco:{model_id}")
    boxes = []

    def box(component, half_height):
        x, y = component.position().x(), component.position().y()
        half_width = component.size().width() / 2
        boxes.append((component.description() or "", x - half_width, y - half_height,
                      x + half_width, y + half_height))  # fmt: skip

    for component in model.parameterComponents().values():
        box(component, 17)
    for child in model.childAlgorithms().values():
        assert child.size().width() >= 260  # titles up to ~36 characters fit
        box(child, 53)
        for output in child.modelOutputs().values():
            box(output, 17)
    assert len(boxes) > 30  # inputs, steps and outputs of either model
    clashes = [
        (a[0], b[0])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]
    assert clashes == []


def candidate_sites(inputs, folder):
    """Two square candidate sites on the crop (EPSG:32616), restored to dry land (CNLUCC 12,
    the crop's main class; the stand-in land cover has 12 and built-up 51 around them):
    'north' 10 × 10 pixels at rows/cols 20–30, 'built' 8 × 8 pixels at rows 80–88, cols 16–24
    (all built-up), with costs per ha 2000 and 500."""
    from osgeo import ogr, osr

    x0, pixel, _, y0, _, _ = gdal.Open(inputs["SAND"]).GetGeoTransform()
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32616)
    path = folder / "sites.gpkg"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("sites", srs, ogr.wkbPolygon)
    for name, kind in (("name", ogr.OFTString), ("target", ogr.OFTInteger), ("cost", ogr.OFTReal)):
        layer.CreateField(ogr.FieldDefn(name, kind))
    for name, row, col, size, cost in (
        ("north", 20, 20, 10, 2000.0),
        ("built", 80, 16, 8, 500.0),
    ):
        left, top = x0 + col * pixel, y0 - row * pixel
        right, bottom = left + size * pixel, top - size * pixel
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("name", name)
        feature.SetField("target", 12)
        feature.SetField("cost", cost)
        feature.SetGeometry(
            ogr.CreateGeometryFromWkt(
                f"POLYGON(({left} {top},{right} {top},{right} {bottom},{left} {bottom},"
                f"{left} {top}))"
            )
        )
        layer.CreateFeature(feature)
    source = None
    return str(path)


PLANNER_STEP = {"SITE_FIELD": "name", "TARGET_FIELD": "target", "COST_FIELD": "cost"}


def test_planner_inputs_are_checked_before_any_step(provider, tmp_path):
    from qgis.core import QgsProcessingContext

    from mine_eco_plugin.workflows import check_resilience_evaluation

    model = QgsApplication.processingRegistry().createAlgorithmById("mineeco:resilience_evaluation")
    assert model.parameterDefinition("RUN_PLANNER").defaultValue() is False
    context = QgsProcessingContext()
    sites = candidate_sites({"SAND": write_raster(tmp_path / "g.tif", np.ones((4, 4)))}, tmp_path)
    for parameters, message in (
        ({"RUN_PLANNER": True}, "SITES: the planner step"),
        ({"RUN_PLANNER": True, "SITES": sites}, "TARGET_FIELD: the planner step"),
        (
            {"RUN_PLANNER": True, "SITES": sites, "TARGET_FIELD": "target", "COST_FIELD": "x"},
            "COST_FIELD: 'x' is not a field of SITES",
        ),
    ):
        assert check_resilience_evaluation(model, parameters, context).startswith(message)
    assert check_resilience_evaluation(model, {"RUN_PLANNER": False}, context) == ""
    on = {"RUN_PLANNER": True, "SITES": sites, **PLANNER_STEP}
    assert check_resilience_evaluation(model, on, context) == ""
    # The planner step takes this run's own layers: indicators, weights, RUSLE factors.
    sources = model.childAlgorithm("planner").parameterSources()
    for name, child, output in (
        ("WEIGHTS_TABLE", "resilience", "OUTPUT_WEIGHTS"),
        ("TCI", "tasseled_cap", "OUTPUT"),
        ("R_FACTOR", "rusle_r", "OUTPUT"),
        ("C_FACTOR", "rusle_c", "OUTPUT"),
        ("SHDI", "landscape", "OUTPUT_SHDI"),
    ):
        source = sources[name][0]
        assert (source.outputChildId(), source.outputName()) == (child, output), name
    assert sources["CLASSIFICATION"][0].parameterName() == "LANDCOVER_CLASSIFICATION"


def test_your_hierarchy_is_wired_into_the_index_and_checked_before_any_step(provider, tmp_path):
    from qgis.core import QgsProcessingContext

    from mine_eco_plugin.workflows import check_resilience_evaluation

    model = QgsApplication.processingRegistry().createAlgorithmById("mineeco:resilience_evaluation")
    source = model.childAlgorithm("resilience").parameterSources()["HIERARCHY"][0]
    assert source.parameterName() == "AHP_HIERARCHY"
    hierarchy = tmp_path / "h.csv"
    hierarchy.write_text("[criteria]\nB1\n1\n[B1]\nC1,C3\n1,1\n1,1\n", encoding="utf-8")
    context = QgsProcessingContext()
    given = {"AHP_HIERARCHY": str(hierarchy)}
    # Table 2's combined weights (WEIGHT_SOURCE 0, the default) have no subjective half.
    assert check_resilience_evaluation(model, given, context).startswith("AHP_HIERARCHY:")
    assert check_resilience_evaluation(model, {**given, "WEIGHT_SOURCE": 0}, context)
    assert check_resilience_evaluation(model, {**given, "WEIGHT_SOURCE": 1}, context) == ""
    assert check_resilience_evaluation(model, {"WEIGHT_SOURCE": 0}, context) == ""


@pytest.mark.data
def test_resilience_evaluation_with_the_planner_step(
    run, florida_inputs, resilience_defaults, tmp_path
):
    """The planner step on two sites: the model's index unchanged; the report's planner
    section shows the planner's SUMMARY, the gain-against-cost chart, the ranked sites and the
    ALL row with the numbers of the planner's own table."""
    outputs = tmp_path / "out"
    outputs.mkdir()
    results = by_name(
        run(
            "resilience_evaluation",
            {
                **florida_inputs,
                "RUN_PLANNER": True,
                "SITES": candidate_sites(florida_inputs, tmp_path),
                **PLANNER_STEP,
                **model_outputs("resilience_evaluation", outputs),
            },
        )
    )
    np.testing.assert_array_equal(
        read_raster(results["INDEX"])[0], read_raster(resilience_defaults["INDEX"])[0]
    )
    table = QgsVectorLayer(results["PLANNER_TABLE"], "planner", "ogr")
    rows = [
        dict(zip(table.fields().names(), f.attributes(), strict=True)) for f in table.getFeatures()
    ]
    singles = sorted((r for r in rows if r["scenario"] == "single"), key=lambda r: int(r["rank"]))
    assert {r["site_id"] for r in singles} == {"north", "built"}
    (together,) = [r for r in rows if r["site_id"] == "ALL"]
    # 10 × 10 and 8 × 8 pixels of 30 m: 9 ha and 5.76 ha.
    assert {r["site_id"]: float(r["area_ha"]) for r in singles} == pytest.approx(
        {"north": 9.0, "built": 5.76}
    )
    # Pixels whose land cover changes (0.09 ha each), counted on the stand-in land cover: 31
    # built-up pixels in 'north', all 64 of 'built'; together 95.
    assert {r["site_id"]: float(r["changed_ha"]) for r in singles} == pytest.approx(
        {"north": 2.79, "built": 5.76}
    )
    assert float(together["changed_ha"]) == pytest.approx(8.55)
    assert all(float(r["total_gain"]) != 0 for r in singles)
    assert Path(results["PLANNER_CHART"]).stat().st_size > 1000
    page = read_page(results["REPORT"])
    assert "planner" in page.sections
    section = page.sections["planner"]
    assert len(section["images"]) == 1 and "against its cost" in section["figcaptions"][0]
    ranked = page.tables["planner-table"]
    assert [cell[0] for cell in ranked[0]][:5] == [
        "Rank",
        "Site",
        "Target class",
        "Area (ha)",
        "Total gain (index · ha)",
    ]
    headings = [cell[0] for cell in ranked[0]]
    for shown, row in zip(ranked[1:], singles, strict=True):
        cells = dict(zip(headings, (cell[0] for cell in shown), strict=True))
        assert cells["Rank"] == str(int(row["rank"]))
        assert cells["Site"] == row["site_id"]
        assert cells["Target class"] == "12"
        assert cells["Area (ha)"] == f"{float(row['area_ha']):.4f}"
        assert cells["Total gain (index · ha)"] == f"{float(row['total_gain']):.4f}"
        assert cells["Gain per ha"] == f"{float(row['gain_per_ha']):.4f}"
        assert cells["Gain per unit cost"] == f"{float(row['gain_per_cost']):.4f}"
        assert cells["Pixels up a class"] == str(int(row["pixels_up"]))
        # gain per unit cost = total gain / (cost per ha × area), by hand from the table.
        cost = {"north": 2000.0, "built": 500.0}[row["site_id"]] * float(row["area_ha"])
        assert float(row["gain_per_cost"]) == pytest.approx(float(row["total_gain"]) / cost)
    (all_row,) = page.tables["planner-all-table"][1:]
    all_cells = dict(
        zip(
            (c[0] for c in page.tables["planner-all-table"][0]),
            (c[0] for c in all_row),
            strict=True,
        )
    )
    assert all_cells["Site"] == "ALL"
    assert all_cells["Total gain (index · ha)"] == f"{float(together['total_gain']):.4f}"
    assert all_cells["Area (ha)"] == f"{14.76:.4f}"
    # The summary paragraph is the planner's SUMMARY: it names both sites and their gains.
    text = Path(results["REPORT"]).read_text(encoding="utf-8")
    assert 'class="planner-summary"' in text
    for row in singles:
        gain = float(row["total_gain"])
        assert f"{int(row['rank'])}. {row['site_id']} (→ class 12): gain {gain:+.4g}" in text


@pytest.mark.data
def test_npp_drivers_with_only_its_results_named(run, npp_inputs, tmp_path):
    """The folders of kriged soils and correlation maps are intermediate: left out, they are
    temporary folders, and the report still shows one correlation map per driver (two climate
    layers, three soil properties, LD) and the chart of their shares."""
    from mine_eco_plugin.workflows import RESULTS

    outputs = {
        key: path
        for key, path in model_outputs("npp_drivers", tmp_path).items()
        if key in RESULTS["npp_drivers"]
    }
    results = by_name(run("npp_drivers", {**npp_inputs, **outputs}))
    assert sorted(p.name for p in Path(results["LCC_FOLDER"]).glob("*.tif")) == sorted(
        f"{name}{suffix}.tif"
        for name in ("annual_t", "annual_p", "om", "tn", "ph", "LD")
        for suffix in ("", "_r")
    )
    assert not Path(results["LCC_FOLDER"]).is_relative_to(tmp_path)
    page = read_page(results["REPORT"])
    assert len(page.sections["correlation"]["images"]) == 6 + 1


# --- bad input (run by test_reliability_bad_input.py; see declared.py) ----------------------------

INPUTS = declared.Inputs()
INPUTS.case(
    "npp_drivers",
    "missing-inputs",
    lambda d: {},
    ("NDVI", "CLIMATE_DRIVERS", "TEMPERATURE", "SOIL_POINTS"),
)
INPUTS.case(
    "resilience_evaluation", "missing-inputs", lambda d: {}, ("MTL", "DEM", "LANDCOVER", "CLAY")
)

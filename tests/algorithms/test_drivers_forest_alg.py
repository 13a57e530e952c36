"""rf_driver_contribution through processing.run on a synthetic scene with known controls."""

import importlib.util
import sys

import bad_input
import declared
import numpy as np
import pytest
from feedback import Recorder
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsVectorLayer
from rasters import leftovers, read_raster, write_raster

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="scikit-learn is not installed"
)

ROWS, COLS = 45, 90
CATEGORIES = "climate,climate,soil,mining"


def table(path):
    """Rows of a GeoPackage table as dicts (without GeoPackage's fid)."""
    layer = QgsVectorLayer(str(path), "t", "ogr")
    assert layer.isValid()
    names = [f.name() for f in layer.fields()]
    return [
        {n: v for n, v in zip(names, f.attributes(), strict=True) if n != "fid"}
        for f in layer.getFeatures()
    ]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """NPP-like target = 5·temp + 5·prec + 10·soc + 10·ld on three 30-column zones.

    In zone 0 (columns 0–29) the climate drivers take large values (|v| 0.6–1) and soil and
    mining small ones (|v| < 0.1; temp and prec share their sign); zone 1 the same for soil,
    zone 2 for mining. Each driver's
    effect on the target is linear and centred on 0, so where a category's drivers are large
    its removal changes the prediction most: zone 0 is controlled by climate (C), zone 1 by
    soil (S), zone 2 by mining (M). Row 0 of the mining driver is NoData.
    """
    folder = tmp_path_factory.mktemp("rf_scene")
    rng = np.random.default_rng(3)
    zone = np.repeat(np.arange(3), COLS // 3)[None, :].repeat(ROWS, axis=0)

    def driver(strong, sign=None):
        if sign is None:
            sign = rng.choice([-1.0, 1.0], size=(ROWS, COLS))
        return np.where(
            strong,
            sign * rng.uniform(0.6, 1.0, (ROWS, COLS)),
            rng.uniform(-0.1, 0.1, (ROWS, COLS)),
        )

    temp = driver(zone == 0)
    prec = driver(zone == 0, sign=np.sign(temp))  # warm and wet together: effects add up
    soc, ld = driver(zone == 1), driver(zone == 2)
    target = 300 + 5 * temp + 5 * prec + 10 * soc + 10 * ld
    ld[0, :] = -9999
    paths = {
        name: write_raster(folder / f"{name}.tif", values.astype(np.float32), nodata=-9999)
        for name, values in (
            ("npp", target),
            ("temp", temp),
            ("prec", prec),
            ("soc", soc),
            ("ld", ld),
        )
    }
    return folder, paths, zone


def parameters(paths, out, **extra):
    base = {
        "TARGET": paths["npp"],
        "DRIVERS": [paths["temp"], paths["prec"], paths["soc"], paths["ld"]],
        "CATEGORIES": CATEGORIES,
        "POINTS": 400,
        "SEED": 1,
        "TREES": 60,
        "OUTPUT_IMPORTANCE": str(out / "importance.gpkg"),
        "OUTPUT_SCORES": str(out / "scores.gpkg"),
        "OUTPUT_RELATIVE": str(out / "relative.tif"),
        "OUTPUT_RGB": str(out / "rgb.tif"),
        "OUTPUT_DOMINANT": str(out / "dominant.tif"),
        "OUTPUT_AREAS": str(out / "areas.gpkg"),
    }
    base.update(extra)
    return base


@pytest.fixture(scope="module")
def fitted(scene, provider, tmp_path_factory):
    import processing

    _, paths, _ = scene
    out = tmp_path_factory.mktemp("rf_out")
    result = processing.run(
        "mineeco:rf_driver_contribution",
        parameters(
            paths,
            out,
            OUTPUT_ACTUAL=str(out / "actual.tif"),
            OUTPUT_CHART=str(out / "chart.png"),
            OUTPUT_SAMPLES=str(out / "samples.gpkg"),
        ),
        feedback=QgsProcessingFeedback(),
    )
    return out, result


def test_forest_recovers_the_category_that_controls_each_zone(scene, fitted):
    _, _, zone = scene
    out, _ = fitted
    dominant = gdal.Open(str(out / "dominant.tif")).ReadAsArray()
    valid = np.ones((ROWS, COLS), bool)
    valid[0] = False  # NoData in the mining driver
    assert (dominant[0] == 0).all()
    for code, name in ((1, "climate"), (2, "soil"), (3, "mining")):
        zone_pixels = dominant[(zone == code - 1) & valid]
        share = (zone_pixels == code).mean()
        assert share > 0.8, f"{name} dominates only {share:.0%} of its zone"
    relative = read_raster(out / "relative.tif")[0]
    assert np.isnan(relative[:, 0]).all()
    np.testing.assert_allclose(relative[:, valid].sum(axis=0), 100.0, atol=1e-3)
    # Mean RelCon of the controlling category in its zone is high.
    assert np.nanmean(relative[0][zone == 0]) > 60
    assert np.nanmean(relative[2][zone == 2]) > 70


def test_importance_scores_and_area_tables(scene, fitted):
    out, result = fitted
    rows = table(out / "importance.gpkg")
    drivers_rows = [r for r in rows if r["level"] == "driver"]
    category_rows = {r["name"]: r for r in rows if r["level"] == "category"}
    assert [r["name"] for r in drivers_rows] == ["temp", "prec", "soc", "ld"]
    assert sum(r["percent"] for r in drivers_rows) == pytest.approx(100.0)
    # Category % = sum of its drivers' %; the target's variance splits about equally between
    # the categories by construction (5·temp + 5·prec, one sign, ≈ 10·soc ≈ 10·ld in their
    # zones), so each holds 20–50 %.
    assert category_rows["climate"]["percent"] == pytest.approx(
        drivers_rows[0]["percent"] + drivers_rows[1]["percent"]
    )
    for name in ("climate", "soil", "mining"):
        assert 20 < category_rows[name]["percent"] < 50
    assert result["CATEGORY_IMPORTANCE"].startswith("climate=")
    scores = {r["model"]: r for r in table(out / "scores.gpkg")}
    assert set(scores) == {"RF_all", "RF_without_climate", "RF_without_soil", "RF_without_mining"}
    assert scores["RF_all"]["oob_r2"] > 0.9
    assert scores["RF_all"]["mtry"] == 1 and scores["RF_without_mining"]["drivers"] == 3
    for name in ("climate", "soil", "mining"):
        assert scores[f"RF_without_{name}"]["oob_r2"] < scores["RF_all"]["oob_r2"] - 0.2
    assert result["OOB_R2"] == pytest.approx(scores["RF_all"]["oob_r2"])
    assert result["SAMPLE_SIZE"] == 400
    # Area table: the counts of the dominant raster, % of the classified pixels, 900 m²/pixel.
    dominant = gdal.Open(str(out / "dominant.tif")).ReadAsArray()
    areas = {r["class"]: r for r in table(out / "areas.gpkg")}
    assert list(areas)[:4] == ["C", "S", "M", "CS"]
    classified = (dominant > 0).sum()
    for code, letters in enumerate(["C", "S", "M", "CS", "CM", "SC", "SM", "MC", "MS"], 1):
        count = (dominant == code).sum()
        assert areas[letters]["pixels"] == count
        assert areas[letters]["area"] == pytest.approx(count * 900.0)
        assert areas[letters]["percent"] == pytest.approx(100 * count / classified)


def test_rgb_actual_chart_samples_and_styles(scene, fitted):
    out, _ = fitted
    relative = read_raster(out / "relative.tif")[0]
    dataset = gdal.Open(str(out / "rgb.tif"))
    rgb = dataset.ReadAsArray()
    # Default channel order, the study's Figure 5a: red soil, green mining, blue climate
    # (relative bands: climate 0, soil 1, mining 2); alpha 0 on NoData.
    valid = np.isfinite(relative[0])
    for band, category in enumerate((1, 2, 0)):
        expected = np.rint(relative[category][valid] * 2.55)
        assert np.abs(rgb[band][valid] - expected).max() <= 1  # float32 RelCon rounding
    assert (rgb[3][valid] == 255).all() and (rgb[3][~valid] == 0).all()
    interpretation = [dataset.GetRasterBand(b).GetColorInterpretation() for b in (1, 2, 3, 4)]
    assert interpretation == [
        gdal.GCI_RedBand,
        gdal.GCI_GreenBand,
        gdal.GCI_BlueBand,
        gdal.GCI_AlphaBand,
    ]
    assert dataset.GetRasterBand(1).GetDescription() == "red: soil"
    # ActCon: RelCon = |ActCon| / Σ|ActCon| · 100.
    actual = read_raster(out / "actual.tif")[0]
    magnitude = np.abs(actual[:, valid])
    np.testing.assert_allclose(
        magnitude / magnitude.sum(axis=0) * 100, relative[:, valid], rtol=1e-4, atol=1e-4
    )
    qml = (out / "dominant.qml").read_text()
    assert 'label="CS: climate &gt; soil (coupled)"' in qml
    assert 'label="M: mining"' in qml
    metadata = gdal.Open(str(out / "dominant.tif")).GetMetadata()
    assert metadata["TREES"] == "60" and metadata["THRESHOLD"] == "0.6"
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    samples = QgsVectorLayer(str(out / "samples.gpkg"), "s", "ogr")
    assert samples.featureCount() == 400


def test_same_seed_identical_rasters_whatever_the_threads(scene, tmp_path, run):
    _, paths, _ = scene
    arrays = []
    for index, (seed, threads) in enumerate(((7, 2), (7, 1), (8, 2))):
        out = tmp_path / str(index)
        out.mkdir()
        run(
            "rf_driver_contribution",
            parameters(paths, out, SEED=seed, THREADS=threads, TREES=20, POINTS=150),
        )
        arrays.append(
            (
                gdal.Open(str(out / "relative.tif")).ReadAsArray(),
                gdal.Open(str(out / "dominant.tif")).ReadAsArray(),
                gdal.Open(str(out / "rgb.tif")).ReadAsArray(),
            )
        )
    for same in zip(arrays[0], arrays[1], strict=True):
        np.testing.assert_array_equal(same[0], same[1])
    assert not np.array_equal(arrays[0][0], arrays[2][0], equal_nan=True)


def test_rgb_categories_and_threshold(scene, tmp_path, run):
    _, paths, zone = scene
    run(
        "rf_driver_contribution",
        parameters(
            paths,
            tmp_path,
            TREES=20,
            POINTS=200,
            THRESHOLD=0.95,
            RGB_CATEGORIES="soil,mining,climate",
        ),
    )
    rgb = gdal.Open(str(tmp_path / "rgb.tif")).ReadAsArray()
    relative = read_raster(tmp_path / "relative.tif")[0]
    valid = np.isfinite(relative[0])
    # red = soil (category 2), blue = climate (category 1): the study's Figure 5a colours.
    assert np.abs(rgb[0][valid] - np.rint(relative[1][valid] * 2.55)).max() <= 1
    assert np.abs(rgb[2][valid] - np.rint(relative[0][valid] * 2.55)).max() <= 1
    dominant = gdal.Open(str(tmp_path / "dominant.tif")).ReadAsArray()
    largest = np.where(valid, np.max(np.nan_to_num(relative, nan=-1.0), axis=0), np.nan)
    assert (dominant[~valid] == 0).all()
    single = (dominant >= 1) & (dominant <= 3)
    # A single letter only where one RelCon exceeds 95 %; pairs elsewhere.
    assert (largest[single] > 95).all()
    assert (largest[(dominant > 3)] <= 95).all()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"CATEGORIES": "climate,soil,mining"}, "CATEGORIES: one category name per driver"),
        ({"CATEGORIES": "a,a,a,a"}, "CATEGORIES: at least two categories"),
        ({"RGB_CATEGORIES": "soil,water"}, "RGB_CATEGORIES"),
        ({"MTRY": 9}, "MTRY"),
    ],
)
def test_bad_parameters_name_themselves(scene, tmp_path, run, extra, message):
    _, paths, _ = scene
    with pytest.raises(QgsProcessingException, match=message):
        run("rf_driver_contribution", parameters(paths, tmp_path, **extra))


def test_missing_scikit_learn_says_how_to_install(scene, tmp_path, run, monkeypatch):
    import mine_eco_plugin.core

    _, paths, _ = scene
    monkeypatch.setitem(sys.modules, "mine_eco_plugin.core.drivers_forest", None)
    monkeypatch.delattr(mine_eco_plugin.core, "drivers_forest", raising=False)
    with pytest.raises(QgsProcessingException, match="python3-sklearn"):
        run("rf_driver_contribution", parameters(paths, tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_cancel_during_prediction_leaves_no_output(scene, tmp_path, run, cancel_after):
    _, paths, _ = scene
    # Cancel at the first progress report after the fit (progress > 25 %).
    feedback = cancel_after(10_000)
    feedback.progressChanged.connect(lambda value: value > 26 and feedback.cancel())
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run("rf_driver_contribution", parameters(paths, tmp_path, TREES=10), feedback=feedback)
    assert not (tmp_path / "relative.tif").exists()
    assert leftovers(tmp_path) == []


def test_constant_driver_is_refused_with_its_value(scene, tmp_path, run):
    # A fifth driver, 7.5 everywhere, alone in category "water": before, its category got a
    # relative contribution from the forests' noise alone — up to 46 % on this scene (checked
    # by skipping the check), and 87 % in the reported case.
    folder, paths, _ = scene
    constant = write_raster(tmp_path / "dist.tif", np.full((ROWS, COLS), 7.5, np.float32))
    extra = {
        "DRIVERS": [paths["temp"], paths["prec"], paths["soc"], paths["ld"], constant],
        "CATEGORIES": CATEGORIES + ",water",
    }
    with pytest.raises(
        QgsProcessingException,
        match=r"DRIVERS: 1 driver\(s\) constant at the 400 sample points — dist \(water\): "
        r"7\.5 at every point",
    ):
        run("rf_driver_contribution", parameters(paths, tmp_path, **extra))
    assert not (tmp_path / "relative.tif").exists() and leftovers(tmp_path) == []


def test_low_oob_r2_is_reported_and_tagged(scene, tmp_path, run):
    # A target of pure noise, unrelated to the drivers: RF_all's OOB R² is below 0 (worse
    # than the mean), far under MIN_OOB_R2 = 0.1; the run ends but says the maps are not
    # meaningful, with the figure, and tags the rasters.
    _, paths, _ = scene
    rng = np.random.default_rng(8)
    noise = write_raster(tmp_path / "noise.tif", rng.normal(300, 5, (ROWS, COLS)).astype("f4"))
    feedback = Recorder()
    results = run(
        "rf_driver_contribution",
        parameters(paths, tmp_path, TARGET=noise),
        feedback=feedback,
    )
    r2 = results["OOB_R2"]
    assert r2 < 0.0
    assert len(feedback.errors) == 1
    assert f"OOB R² of RF_all is {r2:.4f}, below MIN_OOB_R2 = 0.1" in feedback.errors[0]
    assert "NOT meaningful" in feedback.errors[0]
    tags = gdal.Open(results["OUTPUT_RELATIVE"]).GetMetadata()
    assert tags["RELIABILITY"].startswith(f"OOB R2 {r2:.4f} below MIN_OOB_R2 0.1")
    # A threshold below the R² silences the error (the category warnings may remain).
    feedback = Recorder()
    out = tmp_path / "again"
    out.mkdir()
    run(
        "rf_driver_contribution",
        parameters(paths, out, TARGET=noise, MIN_OOB_R2=-10),
        feedback=feedback,
    )
    assert feedback.errors == []


def test_well_fitted_scene_has_no_reliability_warning(fitted):
    out, result = fitted
    assert result["OOB_R2"] > 0.5
    assert gdal.Open(result["OUTPUT_DOMINANT"]).GetMetadata()["RELIABILITY"] == "ok"


def test_default_rgb_is_figure_5a_when_the_categories_allow():
    from mine_eco_plugin.algorithms.drivers_forest import parse_rgb

    # Figure 5a of the NPP-drivers study: soil red, mining green, climate blue.
    assert parse_rgb("", ["climate", "soil", "mining"]) == [1, 2, 0]
    assert parse_rgb("", ["Climate", "Mining", "Soil"]) == [2, 1, 0]
    # Other names: the first three in order; fewer than three leave a channel empty.
    assert parse_rgb("", ["a", "b", "c", "d"]) == [0, 1, 2]
    assert parse_rgb("", ["a", "b"]) == [0, 1, -1]
    assert parse_rgb("climate", ["climate", "soil", "mining"]) == [0, -1, -1]


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("rf_driver_contribution", lambda d: bad_input.forest(d))
INPUTS.desktop(
    "rf_driver_contribution",
    lambda s: {
        "TARGET": s.target,
        "DRIVERS": list(s.drivers),
        "CATEGORIES": "climate,climate,soil,mining",
    },
)
INPUTS.case(
    "rf_driver_contribution",
    "categories-count",
    lambda d: bad_input.forest(d, CATEGORIES="a,b"),
    "CATEGORIES",
)
INPUTS.case(
    "rf_driver_contribution",
    "all-nodata-target",
    lambda d: bad_input.forest(d, TARGET=d.nodata()),
    ("TARGET", "POINTS"),
)
INPUTS.case(
    "rf_driver_contribution",
    "far-driver",
    lambda d: bad_input.forest(
        d, DRIVERS=[*bad_input.indicators(d, 2), d.field(origin=bad_input.FAR)]
    ),
    "DRIVERS",
)
INPUTS.case(
    "rf_driver_contribution", "mtry-too-large", lambda d: bad_input.forest(d, MTRY=7), "MTRY"
)

"""kriging through processing.run: grid coordinates, reprojection, duplicates, points outside,
too few points, fixed and fitted variograms, tables, plot, and Meuse zinc against gstat."""

import math

import bad_input
import declared
import numpy as np
import pytest
from feedback import Recorder
from osgeo import gdal, ogr, osr
from qgis.core import QgsProcessingException, QgsVectorLayer
from rasters import leftovers, read_raster, write_raster

from mine_eco_plugin.core import kriging as K

ORIGIN = (500000.0, 5600000.0)
PIXEL = 30.0


def write_points(path, xy, values, epsg=32632, field="value"):
    """A GeoPackage point layer; ``xy`` in ``epsg``; None values are NULL."""
    driver = ogr.GetDriverByName("GPKG")
    source = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    layer = source.CreateLayer("points", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn(field, ogr.OFTReal))
    for (x, y), value in zip(xy, values, strict=True):
        feature = ogr.Feature(layer.GetLayerDefn())
        if value is not None:
            feature.SetField(field, float(value))
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(float(x), float(y))
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None
    return str(path)


def centres(rows, cols, origin=ORIGIN, pixel=PIXEL):
    x = origin[0] + (np.arange(cols) + 0.5) * pixel
    y = origin[1] - (np.arange(rows) + 0.5) * pixel
    gx, gy = np.meshgrid(x, y)
    return np.column_stack([gx.ravel(), gy.ravel()])


@pytest.fixture
def field_points():
    """25 points at pixel centres of a 40 × 50 grid, values from a smooth trend + noise."""
    rng = np.random.default_rng(21)
    rows, cols = rng.choice(40, 25), rng.choice(50, 25)
    keep = np.unique(rows * 50 + cols, return_index=True)[1]
    rows, cols = rows[keep], cols[keep]
    xy = np.column_stack([ORIGIN[0] + (cols + 0.5) * PIXEL, ORIGIN[1] - (rows + 0.5) * PIXEL])
    z = 10 + 0.002 * (xy[:, 0] - ORIGIN[0]) + rng.normal(0, 0.5, len(rows))
    return xy, z, rows, cols


def runs_by_label(run, tmp_path, field_points, variogram, changes):
    """Kriging of ``field_points`` on their 40 × 50 grid with the ``variogram`` model, once per
    label of ``changes`` with that label's parameters (its own files k_<label>.tif and
    v_<label>.tif): the results by label."""
    xy, z, _, _ = field_points
    points = write_points(tmp_path / "p.gpkg", xy, z)
    reference = write_raster(tmp_path / "ref.tif", np.zeros((40, 50), np.float32))
    return {
        label: run(
            "kriging",
            {
                "INPUT": points,
                "FIELD": "value",
                "REFERENCE": reference,
                "VARIOGRAM": variogram,
                "OUTPUT": str(tmp_path / f"k_{label}.tif"),
                "OUTPUT_VARIANCE": str(tmp_path / f"v_{label}.tif"),
                "OUTPUT_CV": "TEMPORARY_OUTPUT",
                **extra,
            },
        )
        for label, extra in changes.items()
    }


def test_fixed_linear_variogram_grid_and_exactness(run, tmp_path, field_points, monkeypatch):
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")  # many blocks: the block coordinates matter
    xy, z, rows, cols = field_points
    points = write_points(tmp_path / "p.gpkg", xy, z)
    reference = write_raster(tmp_path / "ref.tif", np.zeros((40, 50), np.float32))
    results = run(
        "kriging",
        {
            "INPUT": points,
            "FIELD": "value",
            "REFERENCE": reference,
            "VARIOGRAM": 4,  # linear
            "NUGGET": 0.0,
            "SLOPE": 0.01,
            "NEIGHBOURS": 6,
            "OUTPUT": str(tmp_path / "k.tif"),
            "OUTPUT_VARIANCE": str(tmp_path / "v.tif"),
            "OUTPUT_CV": "TEMPORARY_OUTPUT",
        },
    )
    estimate = read_raster(results["OUTPUT"])[0][0]
    variance = read_raster(results["OUTPUT_VARIANCE"])[0][0]
    model = K.Variogram("linear", 0.0, slope=0.01)
    expected, expected_var = K.predict(xy, z, model, centres(40, 50), neighbours=6)
    np.testing.assert_allclose(estimate.ravel(), expected, rtol=1e-6)
    np.testing.assert_allclose(variance.ravel(), expected_var, rtol=1e-5, atol=1e-6)
    # Exact at the data points, with zero variance (no nugget).
    np.testing.assert_allclose(estimate[rows, cols], z, rtol=1e-6)
    np.testing.assert_allclose(variance[rows, cols], 0.0, atol=1e-5)
    assert results["MODEL"] == "linear"
    assert results["SLOPE"] == 0.01
    assert results["POINTS_USED"] == len(z)
    assert not leftovers(tmp_path)


def test_two_points_by_hand_through_the_algorithm(run, tmp_path):
    # γ(h) = h (slope 1, CRS metres). Points at the centres of pixels (0, 0) and (0, 10):
    # 300 m apart. At pixel (0, 4), 120 m from the first: λ1 = 0.6, λ2 = 0.4 (see the core
    # test: the same system scaled by 30), ẑ = 0.6·1 + 0.4·3 = 1.8, σ² = 0.6·120 + 0.4·180 = 144.
    xy = np.array([[ORIGIN[0] + 15, ORIGIN[1] - 15], [ORIGIN[0] + 315, ORIGIN[1] - 15]])
    points = write_points(tmp_path / "p.gpkg", xy, [1.0, 3.0])
    reference = write_raster(tmp_path / "ref.tif", np.zeros((1, 11), np.float32))
    results = run(
        "kriging",
        {
            "INPUT": points,
            "FIELD": "value",
            "REFERENCE": reference,
            "VARIOGRAM": 4,
            "NUGGET": 0.0,
            "SLOPE": 1.0,
            "MIN_POINTS": 2,
            "OUTPUT": str(tmp_path / "k.tif"),
            "OUTPUT_VARIANCE": str(tmp_path / "v.tif"),
            "OUTPUT_CV": "TEMPORARY_OUTPUT",
        },
    )
    assert read_raster(results["OUTPUT"])[0][0, 0, 4] == pytest.approx(1.8, abs=1e-5)
    assert read_raster(results["OUTPUT_VARIANCE"])[0][0, 0, 4] == pytest.approx(144.0, rel=1e-5)


def test_too_few_points(run, tmp_path):
    with pytest.raises(QgsProcessingException, match=r"INPUT: 2 valid point"):
        run(
            "kriging",
            {
                "INPUT": write_points(tmp_path / "p.gpkg", [[0, 0], [10, 10]], [1, 2]),
                "FIELD": "value",
                "REFERENCE": write_raster(tmp_path / "r.tif", np.zeros((2, 2))),
                "OUTPUT": str(tmp_path / "k.tif"),
                "OUTPUT_CV": "TEMPORARY_OUTPUT",
            },
        )


def test_reprojection_duplicates_nulls_and_points_outside(run, tmp_path, field_points):
    xy, z, _, _ = field_points
    # The same points in geographic coordinates (EPSG:4326), plus a duplicate of the first
    # (value 2 more: the two average to z0 + 1), a NULL value and a point outside the grid.
    utm, wgs = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(32632)
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs = osr.CoordinateTransformation(utm, wgs)
    outside = [ORIGIN[0] - 500, ORIGIN[1] + 500]
    all_xy = np.vstack([xy, xy[:1], xy[1:2], [outside]])
    lonlat = np.asarray(to_wgs.TransformPoints(all_xy))[:, :2]
    values = [*z, z[0] + 2, None, 11.0]
    points = write_points(tmp_path / "p.gpkg", lonlat, values, epsg=4326)
    feedback = Recorder()
    results = run(
        "kriging",
        {
            "INPUT": points,
            "FIELD": "value",
            "REFERENCE": write_raster(tmp_path / "ref.tif", np.zeros((40, 50), np.float32)),
            "VARIOGRAM": 1,
            "NUGGET": 0.0,
            "SILL": 1.0,
            "RANGE": 600.0,
            "OUTPUT": str(tmp_path / "k.tif"),
            "OUTPUT_CV": "TEMPORARY_OUTPUT",
        },
        feedback=feedback,
    )
    assert results["DUPLICATES_MERGED"] == 1
    assert results["POINTS_OUTSIDE"] == 1
    assert results["POINTS_USED"] == len(z) + 1
    text = "\n".join(feedback.warnings)
    assert "averaged" in text and "outside the REFERENCE grid" in text and "skipped" in text
    # Fixed spherical model: no nugget (the reprojected points lie a few mm from the pixel
    # centres: a nugget's discontinuity would show there), sill 1.0, range 600 (practical = a).
    assert results["RANGE_PARAMETER"] == 600.0 and results["PARTIAL_SILL"] == pytest.approx(1.0)
    merged_xy = np.vstack([xy, [outside]])
    merged_z = np.array([z[0] + 1, *z[1:], 11.0])
    model = K.Variogram("spherical", 0.0, 1.0, 600.0)
    expected, _ = K.predict(merged_xy, merged_z, model, centres(40, 50))
    # Reprojection round trip through degrees: positions agree to millimetres.
    np.testing.assert_allclose(read_raster(results["OUTPUT"])[0][0].ravel(), expected, atol=1e-4)


def test_auto_model_tables_and_plot(run, tmp_path):
    xy, z = simulated(seed=4, n=150)
    points = write_points(tmp_path / "p.gpkg", xy, z)
    reference = write_raster(tmp_path / "ref.tif", np.zeros((20, 25), np.float32), pixel=40.0)
    results = run(
        "kriging",
        {
            "INPUT": points,
            "FIELD": "value",
            "REFERENCE": reference,
            "NEIGHBOURS": 16,
            # Two pairs of the 150 random points lie 2.7 m and 3.9 m apart, within the default
            # MERGE_DISTANCE (4 m, a tenth of a 40 m cell): keep every point, as the core below.
            "MERGE_DISTANCE": 0,
            "OUTPUT": str(tmp_path / "k.tif"),
            "OUTPUT_CV": str(tmp_path / "cv.gpkg"),
            "OUTPUT_CV_POINTS": str(tmp_path / "cvp.gpkg"),
            "OUTPUT_PLOT": str(tmp_path / "v.html"),
        },
    )
    table = QgsVectorLayer(results["OUTPUT_CV"], "cv", "ogr")
    rows = [f.attributes() for f in table.getFeatures()]
    names = [f.name() for f in table.fields()]
    assert len(rows) == 4
    used = [r for r in rows if r[names.index("used")] == 1]
    assert len(used) == 1
    best = min(rows, key=lambda r: r[names.index("rmse")])
    assert used[0][names.index("model")] == best[names.index("model")] == results["MODEL"]
    assert results["CV_RMSE"] == pytest.approx(best[names.index("rmse")])
    # The summary equals the core's leave-one-out with the same fitted model.
    ev = K.empirical_variogram(xy, z)
    # (the algorithm's gaussian model has a nugget of at least 10⁻⁴ of its sill)
    fitted = K.with_nugget_floor(K.fit_variogram(ev, results["MODEL"]))[0]
    cv = K.cross_validate(xy, z, fitted, neighbours=16)
    assert results["CV_RMSE"] == pytest.approx(cv.rmse, rel=1e-9)
    assert results["CV_ME"] == pytest.approx(cv.mean_error, rel=1e-6, abs=1e-12)
    points_table = QgsVectorLayer(results["OUTPUT_CV_POINTS"], "cvp", "ogr")
    assert points_table.featureCount() == 150
    page = (tmp_path / "v.html").read_text()
    assert "data:image/png;base64," in page and "rmse" in page


def simulated(seed, n):
    """Points with an exponential-covariance field (a = 150 m) in a 1000 m square."""
    rng = np.random.default_rng(seed)
    xy = ORIGIN + rng.uniform(0, 1000, (n, 2)) * [1, -1]
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    z = np.linalg.cholesky(np.exp(-d / 150.0) + 0.1 * np.eye(n)) @ rng.normal(size=n)
    return xy, z + 5


def test_png_plot_and_practical_range_convention(run, tmp_path):
    xy, z = simulated(seed=5, n=80)
    points = write_points(tmp_path / "p.gpkg", xy, z)
    reference = write_raster(tmp_path / "ref.tif", np.zeros((5, 5), np.float32), pixel=200.0)
    common = {"INPUT": points, "FIELD": "value", "REFERENCE": reference, "VARIOGRAM": 2,
              "OUTPUT_CV": "TEMPORARY_OUTPUT"}  # fmt: skip
    practical = run("kriging", {**common, "RANGE": 450.0, "OUTPUT": str(tmp_path / "a.tif"),
                                "OUTPUT_PLOT": str(tmp_path / "v.png")})  # fmt: skip
    parameter = run("kriging", {**common, "RANGE": 150.0, "RANGE_MEANING": 1,
                                "OUTPUT": str(tmp_path / "b.tif")})  # fmt: skip
    # Exponential: practical range 450 = 3·a with a = 150; both runs use the same model.
    assert practical["RANGE_PARAMETER"] == pytest.approx(150.0)
    assert practical["RANGE"] == pytest.approx(450.0)
    assert parameter["RANGE"] == pytest.approx(150.0)
    np.testing.assert_allclose(
        read_raster(practical["OUTPUT"])[0], read_raster(parameter["OUTPUT"])[0], rtol=1e-6
    )
    assert (tmp_path / "v.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mask_by_reference(run, tmp_path, field_points):
    xy, z, _, _ = field_points
    values = np.zeros((40, 50), np.float32)
    values[:5, :] = -9999
    reference = write_raster(tmp_path / "ref.tif", values, nodata=-9999)
    common = {"INPUT": write_points(tmp_path / "p.gpkg", xy, z), "FIELD": "value",
              "REFERENCE": reference, "VARIOGRAM": 1, "OUTPUT_CV": "TEMPORARY_OUTPUT"}  # fmt: skip
    masked = read_raster(run("kriging", {**common, "OUTPUT": str(tmp_path / "a.tif")})["OUTPUT"])
    full = read_raster(run("kriging", {**common, "MASK_BY_REFERENCE": False,
                                       "OUTPUT": str(tmp_path / "b.tif")})["OUTPUT"])  # fmt: skip
    assert np.isnan(masked[0][0, :5]).all() and np.isfinite(masked[0][0, 5:]).all()
    assert np.isfinite(full[0]).all()


def meuse_log_zinc(folder, tmp_path):
    """The Meuse samples as a GeoPackage of log(zinc) in their own CRS, and the Meuse grid
    (40 m, shipped beside them) with that CRS assigned: (points, reference, xy, z)."""
    source = ogr.Open(str(folder / "meuse.shp"))
    xy, z = [], []
    for feature in source.GetLayer():
        geometry = feature.GetGeometryRef()
        xy.append((geometry.GetX(), geometry.GetY()))
        z.append(math.log(feature.GetField("zinc")))
    source = None
    xy, z = np.array(xy), np.array(z)
    prj = (folder / "meuse.prj").read_text()
    srs = osr.SpatialReference()
    srs.ImportFromWkt(prj)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    points = str(tmp_path / "meuse.gpkg")
    out = ogr.GetDriverByName("GPKG").CreateDataSource(points)
    target = out.CreateLayer("meuse", srs, ogr.wkbPoint)
    target.CreateField(ogr.FieldDefn("logzinc", ogr.OFTReal))
    for (x, y), value in zip(xy, z, strict=True):
        feature = ogr.Feature(target.GetLayerDefn())
        feature.SetField("logzinc", value)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT({x} {y})"))
        target.CreateFeature(feature)
    out = None
    reference = str(tmp_path / "meuse_grid.tif")
    gdal.Translate(reference, str(folder / "dem.tif"), outputSRS=prj)
    return points, reference, xy, z


@pytest.mark.data
def test_meuse_log_zinc_like_gstat(run, tmp_path, sample_data):
    folder = sample_data("nc-lc")
    points, reference, xy, z = meuse_log_zinc(folder, tmp_path)
    results = run(
        "kriging",
        {
            "INPUT": points,
            "FIELD": "logzinc",
            "REFERENCE": reference,
            "VARIOGRAM": 1,
            "NEIGHBOURS": 0,  # every point, as gstat's krige.cv below
            "OUTPUT": str(tmp_path / "k.tif"),
            "OUTPUT_VARIANCE": str(tmp_path / "v.tif"),
            "OUTPUT_CV": "TEMPORARY_OUTPUT",
        },
    )
    # gstat vignette: nugget 0.0507, partial sill 0.5906, range 897 m; krige.cv RMSE 0.3918.
    assert results["NUGGET"] == pytest.approx(0.0507, abs=0.002)
    assert results["PARTIAL_SILL"] == pytest.approx(0.5906, abs=0.005)
    assert results["RANGE"] == pytest.approx(897.0, abs=5.0)
    assert results["CV_RMSE"] == pytest.approx(0.3918, abs=2e-4)
    estimate, dataset = read_raster(results["OUTPUT"])
    valid = estimate[0][np.isfinite(estimate[0])]
    # Inside the observed range of log(zinc) (4.73–7.52), NoData outside the Meuse mask.
    assert valid.size == 3103 and 4.7 < valid.min() and valid.max() < 7.6
    # Exact at a data point with zero nugget: a 5 × 5 grid of 1 m cells centred on sample 0.
    x0, y0 = xy[0]
    small = str(tmp_path / "small.tif")
    ds = gdal.GetDriverByName("GTiff").Create(small, 5, 5, 1, gdal.GDT_Float32)
    ds.SetGeoTransform((x0 - 2.5, 1.0, 0.0, y0 + 2.5, 0.0, -1.0))
    ds.SetProjection((folder / "meuse.prj").read_text())
    ds.GetRasterBand(1).Fill(1.0)
    ds = None
    exact = run(
        "kriging",
        {
            "INPUT": points,
            "FIELD": "logzinc",
            "REFERENCE": small,
            "VARIOGRAM": 1,
            "NUGGET": 0.0,
            "OUTPUT": str(tmp_path / "e.tif"),
            "OUTPUT_VARIANCE": str(tmp_path / "ev.tif"),
            "OUTPUT_CV": "TEMPORARY_OUTPUT",
        },
    )
    assert read_raster(exact["OUTPUT"])[0][0, 2, 2] == pytest.approx(z[0], abs=1e-5)
    assert read_raster(exact["OUTPUT_VARIANCE"])[0][0, 2, 2] == pytest.approx(0.0, abs=1e-6)
    assert exact["NUGGET"] == 0.0


def test_default_neighbourhood_keeps_small_data_unchanged(run, tmp_path, field_points):
    # 25 points, fewer than the default 64 neighbours: the default run is the unique
    # neighbourhood (NEIGHBOURS = 0), bit for bit, prediction, variance and cross-validation.
    outputs = runs_by_label(
        run, tmp_path, field_points, 1, {"default": {}, "all": {"NEIGHBOURS": 0}}
    )
    for key in ("OUTPUT", "OUTPUT_VARIANCE"):
        np.testing.assert_array_equal(
            read_raster(outputs["default"][key])[0], read_raster(outputs["all"][key])[0]
        )
    for key in ("CV_RMSE", "CV_ME", "NUGGET", "RANGE"):
        assert outputs["default"][key] == outputs["all"][key]


def test_unique_neighbourhood_beyond_the_memory_budget_is_refused(
    run, tmp_path, monkeypatch, field_points
):
    # 25 points with every point: 7·8·26² B = 0.036 MB; a 0.01 MB budget refuses it, naming
    # NEIGHBOURS, before any output is written.
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "0.01")
    xy, z, _, _ = field_points
    with pytest.raises(QgsProcessingException, match=r"NEIGHBOURS: kriging with all 25 points"):
        run(
            "kriging",
            {
                "INPUT": write_points(tmp_path / "p.gpkg", xy, z),
                "FIELD": "value",
                "REFERENCE": write_raster(tmp_path / "ref.tif", np.zeros((40, 50), np.float32)),
                "NEIGHBOURS": 0,
                "OUTPUT": str(tmp_path / "k.tif"),
                "OUTPUT_CV": "TEMPORARY_OUTPUT",
            },
        )
    assert not (tmp_path / "k.tif").exists() and leftovers(tmp_path) == []


def test_polygon_layer_is_refused_clearly(run, tmp_path):
    driver = ogr.GetDriverByName("GPKG")
    source = driver.CreateDataSource(str(tmp_path / "poly.gpkg"))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    layer = source.CreateLayer("plots", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTReal))
    for i in range(12):
        x, y = ORIGIN[0] + 30 * i, ORIGIN[1] - 30 * i
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("value", float(i))
        feature.SetGeometry(
            ogr.CreateGeometryFromWkt(f"POLYGON(({x} {y},{x + 20} {y},{x + 20} {y - 20},{x} {y}))")
        )
        layer.CreateFeature(feature)
    source = None
    with pytest.raises(QgsProcessingException, match=r"INPUT: kriging needs a point layer; "
                       r"this layer holds polygons.*Centroids"):  # fmt: skip
        run(
            "kriging",
            {
                "INPUT": str(tmp_path / "poly.gpkg"),
                "FIELD": "value",
                "REFERENCE": write_raster(tmp_path / "ref.tif", np.zeros((20, 20), np.float32)),
                "OUTPUT": str(tmp_path / "k.tif"),
                "OUTPUT_CV": "TEMPORARY_OUTPUT",
            },
        )
    assert not (tmp_path / "k.tif").exists()


def test_near_duplicates_are_merged_and_estimates_stay_in_range(run, tmp_path):
    # The core test's case: 60 points of a smooth field (8.3–15.5) on 1 km², five doubled 5 cm
    # away with values up to 2 apart; gaussian model without nugget. 30 m cells: the default
    # MERGE_DISTANCE is 3 m, which merges the five pairs (and one pair of the random points
    # 1–3 m apart: 6 merged).
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
    from test_kriging import near_duplicate_case

    xy, z = near_duplicate_case()
    xy = xy + [ORIGIN[0], ORIGIN[1] - 1000]
    points = write_points(tmp_path / "p.gpkg", xy, z)
    reference = write_raster(tmp_path / "ref.tif", np.zeros((34, 34), np.float32))
    base = {
        "INPUT": points,
        "FIELD": "value",
        "REFERENCE": reference,
        "VARIOGRAM": 3,
        "NUGGET": 0.0,
        "OUTPUT_CV": "TEMPORARY_OUTPUT",
    }
    feedback = Recorder()
    results = run("kriging", {**base, "OUTPUT": str(tmp_path / "k.tif")}, feedback=feedback)
    assert results["DUPLICATES_MERGED"] == 6 and results["POINTS_USED"] == 59
    assert any("MERGE_DISTANCE: 12 point(s) lay within 3 CRS units" in w for w in feedback.warnings)
    # The floor: NUGGET 0 given, raised to 10⁻⁴ of the (fitted) sill, the partial sill kept.
    assert results["NUGGET"] == pytest.approx(1e-4 * results["PARTIAL_SILL"], rel=1e-9)
    estimate = read_raster(results["OUTPUT"])[0][0]
    span = z.max() - z.min()
    assert z.min() - 0.1 * span < estimate.min() and estimate.max() < z.max() + 0.1 * span
    assert feedback.errors == []
    # MERGE_DISTANCE 0 (only coincident points merged): the five near-duplicate pairs stay,
    # and the estimates overshoot the data (6.89 to 17.91 for data between 8.34 and 15.46),
    # though by less than the data's span, so without an error in the log.
    feedback = Recorder()
    results = run(
        "kriging",
        {**base, "MERGE_DISTANCE": 0, "OUTPUT": str(tmp_path / "k0.tif")},
        feedback=feedback,
    )
    assert results["DUPLICATES_MERGED"] == 0 and results["POINTS_USED"] == 65
    unmerged = read_raster(results["OUTPUT"])[0][0]
    assert unmerged.min() == pytest.approx(6.890, abs=1e-3)
    assert unmerged.max() == pytest.approx(17.907, abs=1e-3)
    assert feedback.errors == []


def test_estimates_far_outside_the_data_are_reported():
    # Data 8.3–15.5 (span 7.2): estimates from −56 to 66 leave [1.1, 22.7] and are reported
    # with the figures; 6.9 to 17.9 stay inside and are not.
    from mine_eco_plugin.algorithms.kriging import Kriging

    z = np.array([8.3, 12.0, 15.5])
    model = K.Variogram("gaussian", 0.0, 0.62, 5.8)
    feedback = Recorder()
    Kriging.check_estimates([-56.2, 65.9], z, model, feedback)
    assert len(feedback.errors) == 1
    assert "from -56.2 to 65.9 for data between 8.3 and 15.5" in feedback.errors[0]
    assert "gaussian model without a nugget" in feedback.errors[0]
    Kriging.check_estimates([6.9, 17.9], z, model, feedback)
    assert len(feedback.errors) == 1


# --- universal kriging (METHOD) -------------------------------------------------------------


def plane_points(tmp_path):
    """30 points at pixel centres of the top-left quarter (rows 0–19, columns 0–24) of a 40 × 50
    grid, values exactly on the plane z = 10 + 0.002·(x − x₀) + 0.001·(y − y₀) (metres from the
    grid's top-left corner)."""
    rng = np.random.default_rng(8)
    cells = rng.choice(20 * 25, 30, replace=False)
    rows, cols = cells // 25, cells % 25
    xy = np.column_stack([ORIGIN[0] + (cols + 0.5) * PIXEL, ORIGIN[1] - (rows + 0.5) * PIXEL])
    return xy, plane(xy)


def plane(xy):
    return 10 + 0.002 * (xy[:, 0] - ORIGIN[0]) + 0.001 * (xy[:, 1] - ORIGIN[1])


@pytest.mark.parametrize("neighbours", [64, 8])
def test_universal_kriging_reproduces_a_plane_on_the_whole_grid(run, tmp_path, neighbours):
    # A spherical variogram without nugget (sill 1, range 300 m) given, nothing fitted. The
    # universal weights reproduce any plane (Σλ = 1, Σλx = x0, Σλy = y0): every cell of the
    # grid gets the plane, also the bottom-right corner 600–750 m from the nearest sample
    # (plane there 10 + 0.002·1485 − 0.001·1185 = 11.785). Ordinary kriging does not: beyond
    # the range it tends to the data's mean (about 10.2). The leave-one-out errors are 0.
    xy, z = plane_points(tmp_path)
    points = write_points(tmp_path / "p.gpkg", xy, z)
    reference = write_raster(tmp_path / "ref.tif", np.zeros((40, 50), np.float32))
    base = {
        "INPUT": points,
        "FIELD": "value",
        "REFERENCE": reference,
        "VARIOGRAM": 1,
        "NUGGET": 0.0,
        "SILL": 1.0,
        "RANGE": 300.0,
        "NEIGHBOURS": neighbours,
        "OUTPUT_CV": "TEMPORARY_OUTPUT",
    }
    feedback = Recorder()
    results = run(
        "kriging",
        {**base, "METHOD": 1, "OUTPUT": str(tmp_path / "u.tif"),
         "OUTPUT_VARIANCE": str(tmp_path / "uv.tif")},
        feedback=feedback,
    )  # fmt: skip
    expected = plane(centres(40, 50)).reshape(40, 50)
    universal = read_raster(results["OUTPUT"])[0][0]
    np.testing.assert_allclose(universal, expected, rtol=1e-6)
    assert universal[-1, -1] == pytest.approx(11.785, abs=1e-5)
    assert results["CV_RMSE"] == pytest.approx(0.0, abs=1e-9)
    variance = read_raster(results["OUTPUT_VARIANCE"])[0][0]
    assert variance[-1, -1] > 1.0  # beyond the range: more than the sill (the drift's share)
    # The log names the method and the least-squares plane of the residual variogram.
    assert any("universal kriging with a linear drift" in line for line in feedback.infos)
    drift = [line for line in feedback.infos if line.startswith("Linear drift")]
    assert len(drift) == 1 and "+ 0.002·x + 0.001·y (R² 1.0000)" in drift[0]
    ordinary = run("kriging", {**base, "OUTPUT": str(tmp_path / "o.tif")})
    corner = read_raster(ordinary["OUTPUT"])[0][0][-1, -1]
    assert abs(corner - 11.785) > 1.0 and corner == pytest.approx(np.mean(z), abs=0.3)
    assert ordinary["CV_RMSE"] > 0.01
    assert not leftovers(tmp_path)


def test_method_ordinary_is_the_default_bit_for_bit(run, tmp_path, field_points):
    outputs = runs_by_label(
        run,
        tmp_path,
        field_points,
        2,
        {"default": {}, "ordinary": {"METHOD": 0}, "universal": {"METHOD": 1}},
    )
    for key in ("OUTPUT", "OUTPUT_VARIANCE"):
        default = read_raster(outputs["default"][key])[0]
        np.testing.assert_array_equal(default, read_raster(outputs["ordinary"][key])[0])
        assert not np.array_equal(default, read_raster(outputs["universal"][key])[0])
    for key in ("CV_RMSE", "CV_ME", "NUGGET", "PARTIAL_SILL", "RANGE"):
        assert outputs["default"][key] == outputs["ordinary"][key]
    # The values trend in x (0.002 per m): the residual variogram has a smaller sill.
    assert outputs["universal"]["SILL"] < outputs["default"]["SILL"]


def test_universal_kriging_refusals_name_the_parameter(run, tmp_path):
    reference = write_raster(tmp_path / "ref.tif", np.zeros((40, 50), np.float32))
    t = np.arange(12.0)
    base = {
        "FIELD": "value",
        "REFERENCE": reference,
        "METHOD": 1,
        "OUTPUT": str(tmp_path / "k.tif"),
        "OUTPUT_CV": "TEMPORARY_OUTPUT",
    }
    # Samples along one line (a diagonal transect): the drift's b and c are not determined.
    line = np.column_stack([ORIGIN[0] + 15 + 60 * t, ORIGIN[1] - 15 - 60 * t])
    with pytest.raises(QgsProcessingException, match=r"METHOD: the points lie on one line"):
        run("kriging", {**base, "INPUT": write_points(tmp_path / "l.gpkg", line, t**2)})
    # Fewer than 4 points per estimate.
    rng = np.random.default_rng(2)
    xy = ORIGIN + rng.uniform([0, -1200], [1500, 0], (20, 2))
    with pytest.raises(QgsProcessingException, match=r"NEIGHBOURS: universal kriging .* at "
                       r"least 4 points per estimate \(NEIGHBOURS = 3\)"):  # fmt: skip
        run(
            "kriging",
            {**base, "INPUT": write_points(tmp_path / "p.gpkg", xy, rng.normal(size=20)),
             "NEIGHBOURS": 3},
        )  # fmt: skip
    # A square cluster and a transect: the 5 nearest points of the leave-one-out of the
    # transect's points lie on one line.
    square = ORIGIN + np.array([[100.0, -100], [160, -100], [100, -160], [160, -160], [130, -130]])
    mixed = np.vstack([square, line + [600, 0]])
    with pytest.raises(QgsProcessingException, match=r"NEIGHBOURS: the 5 nearest points of "
                       r"some estimates lie on one line"):  # fmt: skip
        run(
            "kriging",
            {**base, "INPUT": write_points(tmp_path / "m.gpkg", mixed, np.arange(17.0) % 5),
             "NEIGHBOURS": 5},
        )  # fmt: skip
    assert not (tmp_path / "k.tif").exists() and leftovers(tmp_path) == []


@pytest.mark.data
def test_meuse_universal_kriging_like_gstat(run, tmp_path, sample_data):
    # gstat 2.1-0: v = variogram(log(zinc) ~ x + y, meuse); fit.variogram(v, vgm(1, "Sph", 900,
    # 1)) → nugget 0.08232946, partial sill 0.3886366, range 1098.335; krige.cv(log(zinc) ~ x +
    # y, meuse, that model) → ME 0.004676687, RMSE 0.3897995, r 0.8412531 (ordinary kriging:
    # RMSE 0.3918 with its own variogram). lm(log(zinc) ~ x + y): −42.87025 − 9.450170e−4·x
    # + 6.599529e−4·y, R² 0.2673.
    folder = sample_data("nc-lc")
    points, reference, xy, z = meuse_log_zinc(folder, tmp_path)
    feedback = Recorder()
    results = run(
        "kriging",
        {
            "INPUT": str(tmp_path / "meuse.gpkg"),
            "FIELD": "logzinc",
            "REFERENCE": reference,
            "METHOD": 1,
            "VARIOGRAM": 1,
            "NEIGHBOURS": 0,  # every point, as gstat's krige.cv above
            "OUTPUT": str(tmp_path / "k.tif"),
            "OUTPUT_CV": "TEMPORARY_OUTPUT",
            "OUTPUT_PLOT": str(tmp_path / "v.html"),
        },
        feedback=feedback,
    )
    assert results["NUGGET"] == pytest.approx(0.08232946, abs=1e-4)
    assert results["PARTIAL_SILL"] == pytest.approx(0.3886366, rel=1e-3)
    assert results["RANGE"] == pytest.approx(1098.335, rel=1e-3)
    assert results["CV_ME"] == pytest.approx(0.004676687, abs=1e-4)
    assert results["CV_RMSE"] == pytest.approx(0.3897995, abs=1e-4)
    assert results["CV_R"] == pytest.approx(0.8412531, abs=1e-4)
    drift = next(line for line in feedback.infos if line.startswith("Linear drift"))
    assert "z ≈ -42.8702 + -0.000945017·x + 0.000659953·y (R² 0.2673)" in drift
    # The map is the core's universal kriging with the fitted model.
    estimate, dataset = read_raster(results["OUTPUT"])
    geotransform = dataset.GetGeoTransform()
    rows, cols = np.nonzero(np.isfinite(estimate[0]))
    pick = np.linspace(0, len(rows) - 1, 40).astype(int)
    cells = np.column_stack(
        [
            geotransform[0] + (cols[pick] + 0.5) * geotransform[1],
            geotransform[3] + (rows[pick] + 0.5) * geotransform[5],
        ]
    )
    model = K.Variogram("spherical", results["NUGGET"], results["PARTIAL_SILL"],
                        results["RANGE_PARAMETER"])  # fmt: skip
    expected, _ = K.predict(xy, z, model, cells, drift="linear")
    np.testing.assert_allclose(estimate[0][rows[pick], cols[pick]], expected, atol=1e-5)
    assert "Variogram of the residuals of logzinc from a linear drift" in (
        tmp_path / "v.html"
    ).read_text(encoding="utf-8")


def test_universal_estimates_far_outside_the_data_name_the_drift():
    # The same figures as above with METHOD universal: the message names the drift extended
    # beyond the samples and the remedies (METHOD, NEIGHBOURS, a masked REFERENCE).
    from mine_eco_plugin.algorithms.kriging import Kriging

    z = np.array([8.3, 12.0, 15.5])
    feedback = Recorder()
    Kriging.check_estimates([-56.2, 65.9], z, K.Variogram("spherical", 0.1, 1, 5), feedback, True)
    assert len(feedback.errors) == 1
    assert "from -56.2 to 65.9 for data between 8.3 and 15.5" in feedback.errors[0]
    assert "extends the linear drift" in feedback.errors[0] and "METHOD" in feedback.errors[0]
    Kriging.check_estimates([6.9, 17.9], z, K.Variogram("spherical", 0.1, 1, 5), feedback, True)
    assert len(feedback.errors) == 1


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("kriging", lambda d: bad_input.kriging(d))
INPUTS.desktop("kriging", lambda s: {"INPUT": s.samples, "FIELD": "value", "REFERENCE": s.dem})
INPUTS.case(
    "kriging",
    "too-few-points",
    lambda d: bad_input.kriging(d, INPUT=d.points(3)),
    ("INPUT", "MIN_POINTS"),
)
INPUTS.case(
    "kriging",
    "text-field",
    lambda d: bad_input.kriging(d, FIELD="name"),
    "FIELD",
)
INPUTS.case(
    "kriging",
    "no-crs-reference",
    lambda d: bad_input.kriging(d, REFERENCE=d.field(epsg=None)),
    "REFERENCE",
)
INPUTS.case(
    "kriging",
    "points-far-away",
    lambda d: bad_input.kriging(d, INPUT=d.points(far=True)),
    "INPUT",
    bad_input.finite_everywhere,
)
INPUTS.case(
    "kriging",
    "constant-field",
    lambda d: bad_input.kriging(d, INPUT=d.points(field_values=np.full(30, 5.0))),
    ("INPUT", "FIELD"),
    bad_input.equals(5.0, tolerance=1e-4),
)
INPUTS.case(
    "kriging",
    "universal-three-neighbours",
    lambda d: bad_input.kriging(d, METHOD=1, NEIGHBOURS=3),
    "NEIGHBOURS",
)
INPUTS.case(
    "kriging",
    "universal-points-far-away",
    lambda d: bad_input.kriging(d, INPUT=d.points(far=True), METHOD=1),
    "INPUT",
    bad_input.finite_everywhere,
)

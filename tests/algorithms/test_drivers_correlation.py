"""pearson_correlation and local_correlation through processing.run."""

import bad_input
import declared
import numpy as np
import pytest
from feedback import Recorder
from osgeo import gdal
from qgis.core import QgsVectorLayer
from rasters import leftovers, read_raster, write_raster
from scipy import stats

from mine_eco_plugin.core.windows import box_sum


def brute_force_local_r(x, y, size):
    """Pearson r in every window by scipy.stats.pearsonr over the valid pairs (the slow way)."""
    half = size // 2
    rows, cols = x.shape
    r = np.full(x.shape, np.nan)
    p = np.full(x.shape, np.nan)
    for i in range(rows):
        for j in range(cols):
            if np.isnan(x[i, j]) or np.isnan(y[i, j]):
                continue
            a = x[max(i - half, 0) : i + half + 1, max(j - half, 0) : j + half + 1].ravel()
            b = y[max(i - half, 0) : i + half + 1, max(j - half, 0) : j + half + 1].ravel()
            valid = ~np.isnan(a) & ~np.isnan(b)
            if valid.sum() >= 3 and a[valid].std() > 0 and b[valid].std() > 0:
                r[i, j], p[i, j] = stats.pearsonr(a[valid], b[valid])
    return r, p


@pytest.fixture
def pair(tmp_path):
    """A 40×33 pair with a correlation that changes sign across the scene, and NoData."""
    rng = np.random.default_rng(8)
    x = rng.normal(300.0, 40.0, size=(40, 33))
    sign = np.where(np.arange(33) < 16, 1.0, -1.0)[None, :]
    y = 500.0 + sign * 0.8 * (x - 300.0) + rng.normal(0.0, 25.0, size=x.shape)
    x[rng.random(x.shape) < 0.08] = -9999.0
    y[5, 7] = -9999.0
    return (
        write_raster(tmp_path / "x.tif", x.astype(np.float32), nodata=-9999.0),
        write_raster(tmp_path / "y.tif", y.astype(np.float32), nodata=-9999.0),
    )


def test_local_correlation_equals_pearsonr_in_every_window(run, tmp_path, pair):
    out = {n: str(tmp_path / f"{n}.tif") for n in ("r", "p", "class", "pairs")}
    result = run(
        "local_correlation",
        {
            "INPUT_X": pair[0],
            "INPUT_Y": pair[1],
            "WINDOW": 5,
            "ALPHA": 0.05,
            "OUTPUT_R": out["r"],
            "OUTPUT_P": out["p"],
            "OUTPUT_CLASS": out["class"],
            "OUTPUT_PAIRS": out["pairs"],
        },
    )
    x = read_raster(pair[0])[0][0]
    y = read_raster(pair[1])[0][0]
    expected_r, expected_p = brute_force_local_r(x, y, 5)
    r = read_raster(out["r"])[0][0]
    p = read_raster(out["p"])[0][0]
    np.testing.assert_array_equal(np.isnan(r), np.isnan(expected_r))
    # float32 outputs: r to 1e-6, p to 1e-6 relative.
    np.testing.assert_allclose(r, expected_r, atol=1e-6)
    np.testing.assert_allclose(p, expected_p, rtol=1e-5, atol=1e-12)
    classes, dataset = read_raster(out["class"])
    classes = dataset.ReadAsArray()
    expected_class = np.where(
        np.isnan(expected_r),
        0,
        np.where(expected_p < 0.05, np.where(expected_r > 0, 1, 2), 3),
    )
    np.testing.assert_array_equal(classes, expected_class)
    # The shares are those of the class raster.
    counted = np.bincount(expected_class.ravel(), minlength=4)[1:]
    assert result["PIXELS"] == counted.sum()
    assert result["SHARE_POSITIVE"] == pytest.approx(100 * counted[0] / counted.sum())
    assert result["SHARE_NEGATIVE"] == pytest.approx(100 * counted[1] / counted.sum())
    assert result["SHARE_INSIGNIFICANT"] == pytest.approx(100 * counted[2] / counted.sum())
    # Left half positive, right half negative by construction: both classes are present.
    assert counted[0] > 200 and counted[1] > 200
    # Colour table and QML legend for the class raster.
    band = dataset.GetRasterBand(1)
    assert band.GetNoDataValue() == 0
    assert band.GetColorTable().GetColorEntry(1)[:3] == (202, 0, 32)
    qml = (tmp_path / "class.qml").read_text()
    assert 'label="Significant negative"' in qml
    valid = (~np.isnan(x) & ~np.isnan(y)).astype(float)
    pairs = read_raster(out["pairs"])[0][0]
    centre = ~np.isnan(x) & ~np.isnan(y)
    np.testing.assert_array_equal(pairs[centre], box_sum(valid, 5)[centre])
    assert leftovers(tmp_path) == []


def test_local_correlation_block_wise_with_halo_equals_one_block(run, tmp_path, monkeypatch):
    # 600 × 200 pixels: with the smallest memory budget the engine reads 256-row strips (64 Ki
    # pixels per block at least), so rows 250–270 straddle a block edge and need the halo.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 200)).astype(np.float32)
    y = (x + rng.normal(size=x.shape)).astype(np.float32)
    xs, ys = write_raster(tmp_path / "tx.tif", x), write_raster(tmp_path / "ty.tif", y)
    outs = []
    for memory in ("1024", "0.001"):
        monkeypatch.setenv("MINE_ECO_MEMORY_MB", memory)
        path = str(tmp_path / f"r_{memory}.tif")
        run(
            "local_correlation",
            {
                "INPUT_X": xs,
                "INPUT_Y": ys,
                "WINDOW": 7,
                "OUTPUT_R": path,
                "OUTPUT_P": "TEMPORARY_OUTPUT",
                "OUTPUT_CLASS": "TEMPORARY_OUTPUT",
            },
        )
        outs.append(read_raster(path)[0][0])
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-6)
    expected, _ = brute_force_local_r(x.astype(float)[250:270], y.astype(float)[250:270], 7)
    # Rows 253–266 have whole windows inside the 20-row excerpt.
    np.testing.assert_allclose(outs[1][253:267], expected[3:17], atol=1e-6)


def test_local_correlation_without_p_writes_the_same_classes(run, tmp_path, pair):
    classes = []
    for name, p_output in (("with", str(tmp_path / "p.tif")), ("without", None)):
        parameters = {
            "INPUT_X": pair[0],
            "INPUT_Y": pair[1],
            "WINDOW": 3,
            "OUTPUT_R": str(tmp_path / f"r_{name}.tif"),
            "OUTPUT_CLASS": str(tmp_path / f"class_{name}.tif"),
        }
        if p_output:
            parameters["OUTPUT_P"] = p_output
        result = run("local_correlation", parameters)
        classes.append(gdal.Open(str(tmp_path / f"class_{name}.tif")).ReadAsArray())
    assert "OUTPUT_P" not in result or not result["OUTPUT_P"]
    assert sorted(p.name for p in tmp_path.glob("*.tif")).count("p.tif") == 1
    np.testing.assert_array_equal(classes[0], classes[1])
    p = read_raster(tmp_path / "p.tif")[0][0]
    np.testing.assert_array_equal(classes[0] == 3, np.isfinite(p) & (p >= 0.05))


def test_local_correlation_min_pairs_and_constant_windows(run, tmp_path):
    x = np.arange(25, dtype=np.float32).reshape(5, 5)
    x[:, :2] = 7.0  # constant in the left columns
    y = (x * 2 + np.sin(np.arange(25)).reshape(5, 5)).astype(np.float32)
    xs, ys = write_raster(tmp_path / "x.tif", x), write_raster(tmp_path / "y.tif", y)
    out = str(tmp_path / "r.tif")
    run(
        "local_correlation",
        {
            "INPUT_X": xs,
            "INPUT_Y": ys,
            "WINDOW": 3,
            "MIN_PAIRS": 5,
            "OUTPUT_R": out,
            "OUTPUT_P": "TEMPORARY_OUTPUT",
            "OUTPUT_CLASS": "TEMPORARY_OUTPUT",
        },
    )
    r = read_raster(out)[0][0]
    # Corners hold 4 pairs (< 5): NoData. Column 0's windows (columns 0–1) are constant in x.
    assert np.isnan(r[0, 0]) and np.isnan(r[4, 4]) and np.isnan(r[2, 0])
    expected, _ = brute_force_local_r(x.astype(float), y.astype(float), 3)
    assert r[2, 2] == pytest.approx(expected[2, 2], abs=1e-6)


@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [("WINDOW", 4, "WINDOW"), ("MIN_PAIRS", 50, "MIN_PAIRS"), ("ALPHA", 0.7, "ALPHA")],
)
def test_local_correlation_bad_parameters_name_themselves(
    run, tmp_path, pair, parameter, value, message
):
    from qgis.core import QgsProcessingException

    parameters = {
        "INPUT_X": pair[0],
        "INPUT_Y": pair[1],
        "WINDOW": 5,
        "OUTPUT_R": str(tmp_path / "r.tif"),
        "OUTPUT_P": str(tmp_path / "p.tif"),
        "OUTPUT_CLASS": str(tmp_path / "c.tif"),
        parameter: value,
    }
    with pytest.raises(QgsProcessingException, match=message):
        run("local_correlation", parameters)


def test_local_correlation_cancel_leaves_nothing(run, tmp_path, cancel_after):
    from qgis.core import QgsProcessingException

    rng = np.random.default_rng(1)
    x = rng.normal(size=(700, 300)).astype(np.float32)
    xs = write_raster(tmp_path / "x.tif", x)
    ys = write_raster(tmp_path / "y.tif", x + 1)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(
            "local_correlation",
            {
                "INPUT_X": xs,
                "INPUT_Y": ys,
                "WINDOW": 3,
                "OUTPUT_R": str(out / "r.tif"),
                "OUTPUT_P": str(out / "p.tif"),
                "OUTPUT_CLASS": str(out / "c.tif"),
            },
            feedback=cancel_after(1),
        )
    assert list(out.iterdir()) == []


# --- pearson_correlation -----------------------------------------------------------------------


@pytest.fixture
def scene(tmp_path):
    """Target = 2·a − 0.5·b + noise on 50×60 pixels; c is unrelated; NoData in b."""
    rng = np.random.default_rng(21)
    a = rng.normal(10, 2, size=(50, 60))
    b = rng.normal(0, 1, size=a.shape)
    c = rng.normal(0, 1, size=a.shape)
    target = 2 * a - 0.5 * b + rng.normal(0, 1, size=a.shape)
    b[:10, :] = -9999
    paths = {
        "target": write_raster(tmp_path / "npp.tif", target.astype(np.float32)),
        "a": write_raster(tmp_path / "mat.tif", a.astype(np.float32)),
        "b": write_raster(tmp_path / "soc.tif", b.astype(np.float32), nodata=-9999),
        "c": write_raster(tmp_path / "ld.tif", c.astype(np.float32)),
    }
    return paths, {"target": target, "a": a, "b": b, "c": c}


def table_rows(path):
    layer = QgsVectorLayer(str(path), "t", "ogr")
    assert layer.isValid()
    names = [f.name() for f in layer.fields()]
    keep = [i for i, name in enumerate(names) if name != "fid"]  # GeoPackage's own key
    rows = [[f.attributes()[i] for i in keep] for f in layer.getFeatures()]
    return rows, [names[i] for i in keep]


def test_pearson_matches_scipy_at_the_sampled_points(run, tmp_path, scene):
    paths, arrays = scene
    table = tmp_path / "pearson.gpkg"
    points = tmp_path / "points.gpkg"
    run(
        "pearson_correlation",
        {
            "TARGET": paths["target"],
            "DRIVERS": [paths["a"], paths["b"], paths["c"]],
            "POINTS": 400,
            "SEED": 5,
            "OUTPUT": str(table),
            "OUTPUT_SAMPLES": str(points),
        },
    )
    rows, fields = table_rows(table)
    assert fields[:5] == ["driver", "r", "p", "n", "significance"]
    layer = QgsVectorLayer(str(points), "p", "ogr")
    features = list(layer.getFeatures())
    assert len(features) == 400
    values = np.array([f.attributes()[1:] for f in features], dtype=float)  # after fid
    # Every point lies at a pixel centre where all rasters are valid; its values are the
    # rasters' values there.
    for feature, row in zip(features[:20], values[:20], strict=True):
        point = feature.geometry().asPoint()
        col, line = int((point.x() - 500000) / 30), int((5600000 - point.y()) / 30)
        assert (point.x() - 500000) / 30 % 1 == pytest.approx(0.5)
        assert row[0] == pytest.approx(arrays["target"][line, col], rel=1e-6)
        assert row[2] == pytest.approx(arrays["b"][line, col], rel=1e-6)
        assert line >= 10  # rows 0–9 are NoData in b
    for (_name, r, p, n, stars), column in zip(rows, (1, 2, 3), strict=True):
        expected = stats.pearsonr(values[:, column], values[:, 0])
        assert n == 400
        assert r == pytest.approx(expected[0], abs=1e-9)
        assert p == pytest.approx(expected[1], rel=1e-6, abs=1e-300)
        assert stars == ("**" if expected[1] < 0.01 else "*" if expected[1] < 0.05 else "")
    assert [row[0] for row in rows] == ["mat", "soc", "ld"]
    assert rows[0][4] == "**"  # target = 2·a + …: r ≈ 0.97


def test_pearson_same_seed_same_sample_whatever_the_block_size(run, tmp_path, scene, monkeypatch):
    paths, _ = scene
    tables = []
    for index, memory in enumerate(("1024", "0.001")):
        monkeypatch.setenv("MINE_ECO_MEMORY_MB", memory)
        table = tmp_path / f"t{index}.gpkg"
        run(
            "pearson_correlation",
            {
                "TARGET": paths["target"],
                "DRIVERS": [paths["a"]],
                "POINTS": 100,
                "SEED": 9,
                "OUTPUT": str(table),
            },
        )
        tables.append(table_rows(table)[0])
    assert tables[0] == tables[1]
    other = tmp_path / "other.gpkg"
    run(
        "pearson_correlation",
        {
            "TARGET": paths["target"],
            "DRIVERS": [paths["a"]],
            "POINTS": 100,
            "SEED": 10,
            "OUTPUT": str(other),
        },
    )
    assert table_rows(other)[0] != tables[0]


def test_pearson_at_a_point_layer_with_pairwise_deletion(run, tmp_path, scene):
    paths, arrays = scene
    # Points at pixel centres (row, col): three in rows 0–9 where b is NoData.
    cells = [(0, 0), (5, 5), (9, 59), (12, 3), (20, 20), (30, 7), (49, 59), (33, 33), (40, 1)]
    layer = QgsVectorLayer("Point?crs=EPSG:32632", "pts", "memory")
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY

    features = []
    for row, col in cells:
        feature = QgsFeature()
        feature.setGeometry(
            QgsGeometry.fromPointXY(QgsPointXY(500000 + 30 * col + 10, 5600000 - 30 * row - 20))
        )
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    table = tmp_path / "t.gpkg"
    run(
        "pearson_correlation",
        {
            "TARGET": paths["target"],
            "DRIVERS": [paths["a"], paths["b"]],
            "SAMPLES": layer,
            "OUTPUT": str(table),
        },
    )
    rows, _ = table_rows(table)
    target = np.array([arrays["target"][r, c] for r, c in cells], dtype=np.float32)
    a = np.array([arrays["a"][r, c] for r, c in cells], dtype=np.float32)
    b = np.array([arrays["b"][r, c] for r, c in cells[3:]], dtype=np.float32)
    assert rows[0][3] == 9 and rows[1][3] == 6
    assert rows[0][1] == pytest.approx(stats.pearsonr(a, target)[0], abs=1e-6)
    assert rows[1][1] == pytest.approx(stats.pearsonr(b, target[3:])[0], abs=1e-6)


def test_pearson_too_few_valid_pixels_names_points(run, tmp_path):
    from qgis.core import QgsProcessingException

    target = write_raster(tmp_path / "t.tif", np.array([[1.0, 2.0], [3.0, -1.0]]), nodata=-1)
    driver = write_raster(tmp_path / "d.tif", np.array([[1.0, -1.0], [2.0, 5.0]]), nodata=-1)
    with pytest.raises(QgsProcessingException, match="POINTS: only 2 pixel"):
        run(
            "pearson_correlation",
            {
                "TARGET": target,
                "DRIVERS": [driver],
                "POINTS": 10,
                "OUTPUT": str(tmp_path / "t.csv"),
            },
        )


def point_layer(points, geometry="Point"):
    from qgis.core import QgsFeature, QgsGeometry

    layer = QgsVectorLayer(f"{geometry}?crs=EPSG:32632", "pts", "memory")
    features = []
    for wkt in points:
        feature = QgsFeature()
        feature.setGeometry(QgsGeometry.fromWkt(wkt))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def pixel_point(row, col, dx=10, dy=20):
    return f"POINT({500000 + 30 * col + dx} {5600000 - 30 * row - dy})"


def test_pearson_counts_each_pixel_once(run, tmp_path, scene):
    paths, arrays = scene
    # Six distinct pixels below row 10 (b valid). Pixel (12, 3) holds three points and (20, 20)
    # two (different spots in the pixel), one point lies outside the grid: 6 pixels, 3 points
    # merged, 1 outside, 10 read.
    cells = [(12, 3), (20, 20), (30, 7), (49, 59), (33, 33), (40, 1)]
    points = [pixel_point(r, c) for r, c in cells]
    points += [pixel_point(12, 3, 2, 2), pixel_point(12, 3, 28, 28), pixel_point(20, 20, 25, 5)]
    points += ["POINT(400000 5600000)"]
    table = tmp_path / "t.gpkg"
    feedback = Recorder()
    results = run(
        "pearson_correlation",
        {
            "TARGET": paths["target"],
            "DRIVERS": [paths["a"], paths["b"]],
            "SAMPLES": point_layer(points),
            "OUTPUT": str(table),
        },
        feedback=feedback,
    )
    assert (
        results["POINTS_READ"],
        results["POINTS_OUTSIDE"],
        results["POINTS_SAME_PIXEL"],
        results["PIXELS_SAMPLED"],
    ) == (10, 1, 3, 6)
    assert any("3 point(s) fell in a pixel already sampled" in w for w in feedback.warnings)
    rows, _ = table_rows(table)
    target = np.array([arrays["target"][r, c] for r, c in cells], dtype=np.float32)
    a = np.array([arrays["a"][r, c] for r, c in cells], dtype=np.float32)
    b = np.array([arrays["b"][r, c] for r, c in cells], dtype=np.float32)
    # n = 6 pixels (not 9 points), r and p those of the six pixels (scipy).
    assert rows[0][3] == 6 and rows[1][3] == 6
    r, p = stats.pearsonr(a, target)
    assert rows[0][1] == pytest.approx(r, abs=1e-6)
    assert rows[0][2] == pytest.approx(p, rel=1e-5)
    assert rows[1][1] == pytest.approx(stats.pearsonr(b, target)[0], abs=1e-6)


def test_pearson_refuses_polygon_samples(run, tmp_path, scene):
    from qgis.core import QgsProcessingException

    paths, _ = scene
    # A 3 × 3-pixel square whose four corners would have been four "samples".
    square = (
        "POLYGON((500300 5599400, 500390 5599400, 500390 5599310, 500300 5599310, 500300 5599400))"
    )
    with pytest.raises(QgsProcessingException, match=r"SAMPLES: a point layer is needed "
                       r"\(vertices of lines or polygons are not samples\); "
                       r"this layer holds polygons"):  # fmt: skip
        run(
            "pearson_correlation",
            {
                "TARGET": paths["target"],
                "DRIVERS": [paths["a"]],
                "SAMPLES": point_layer([square] * 3, "Polygon"),
                "OUTPUT": str(tmp_path / "t.gpkg"),
            },
        )
    assert not (tmp_path / "t.gpkg").exists()


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid(
    "local_correlation",
    lambda d: {"INPUT_X": d.field(seed=1), "INPUT_Y": d.field(seed=2), "WINDOW": 3},
)
INPUTS.desktop("local_correlation", lambda s: {"INPUT_X": s.ndvi, "INPUT_Y": s.lst})
INPUTS.valid(
    "pearson_correlation",
    lambda d: {"TARGET": d.field(), "DRIVERS": bad_input.indicators(d, 2), "POINTS": 60},
)
INPUTS.desktop("pearson_correlation", lambda s: {"TARGET": s.target, "DRIVERS": list(s.drivers)})
INPUTS.case("local_correlation", "even-window", lambda d: bad_input.pair(d, WINDOW=4), "WINDOW")
INPUTS.case("local_correlation", "zero-window", lambda d: bad_input.pair(d, WINDOW=0), "WINDOW")
INPUTS.case(
    "local_correlation",
    "far-y",
    lambda d: bad_input.pair(d, INPUT_Y=d.field(origin=bad_input.FAR)),
    "INPUT_Y",
)
INPUTS.case(
    "local_correlation",
    "no-crs-x",
    lambda d: bad_input.pair(d, INPUT_X=d.field(epsg=None)),
    "INPUT_X",
)
INPUTS.case(
    "local_correlation",
    "y-other-crs",
    lambda d: (lambda x: bad_input.pair(d, INPUT_X=x, INPUT_Y=d.reprojected(d.field(seed=5))))(
        d.field()
    ),
    check=bad_input.same_grid_as("INPUT_X", "OUTPUT_R"),
)
INPUTS.case(
    "local_correlation",
    "constant-x",
    lambda d: bad_input.pair(d, INPUT_X=d.constant(1.0)),
    "INPUT_X",
    bad_input.all_nodata("OUTPUT_R"),
)
INPUTS.case(
    "local_correlation",
    "r-bounded",
    lambda d: bad_input.pair(d, WINDOW=5),
    check=bad_input.within(-1, 1, "OUTPUT_R"),
)

INPUTS.case(
    "pearson_correlation",
    "all-nodata-target",
    lambda d: {"TARGET": d.nodata(), "DRIVERS": bad_input.indicators(d, 2), "POINTS": 50},
    ("TARGET", "POINTS"),
)
INPUTS.case(
    "pearson_correlation",
    "far-driver",
    lambda d: {"TARGET": d.field(), "DRIVERS": [d.field(origin=bad_input.FAR)], "POINTS": 50},
    "DRIVERS",
)
INPUTS.case(
    "pearson_correlation",
    "no-drivers",
    lambda d: {"TARGET": d.field(), "DRIVERS": [], "POINTS": 50},
    "DRIVERS",
)
INPUTS.case(
    "pearson_correlation",
    "zero-points",
    lambda d: {"TARGET": d.field(), "DRIVERS": bad_input.indicators(d, 2), "POINTS": 0},
    "POINTS",
)


INPUTS.case(
    "pearson_correlation",
    "r-bounded",
    lambda d: {"TARGET": d.field(), "DRIVERS": bad_input.indicators(d, 2), "POINTS": 60},
    check=bad_input.r_bounded,
)

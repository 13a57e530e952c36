"""The kernels on a real dask.distributed LocalCluster of worker processes give the QGIS
algorithms' results, with chunks small enough that moving windows cross chunk edges."""

import os
from pathlib import Path

import numpy as np
import pytest
from rasters import leftovers, read_raster, write_raster

distributed = pytest.importorskip("distributed", reason="optional extra: pip install distributed")

from mine_eco_plugin import engine  # noqa: E402
from mine_eco_plugin.core.windows import box_count, box_sum  # noqa: E402
from mine_eco_plugin.distributed import ChunkFailed, recipes, run_kernel  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CHUNK = 128  # 300×350 rasters → 3×3 chunks


@pytest.fixture(scope="module")
def client():
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
    )
    with (
        distributed.LocalCluster(
            n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    rng = np.random.default_rng(11)
    data = rng.uniform(0.01, 0.5, size=(6, 300, 350)).astype(np.float32)
    data[:, 40:60, 100:130] = -1  # a NoData hole across a chunk edge
    return write_raster(tmp_path_factory.mktemp("stack") / "stack.tif", data, nodata=-1)


def test_ndvi_equals_the_qgis_algorithm(run, client, stack, tmp_path):
    run("ndvi", {"INPUT": stack, "OUTPUT": str(tmp_path / "qgis.tif")})
    recipes.ndvi(stack, tmp_path / "dask.tif", client=client, chunk=CHUNK)
    qgis, dask_result = read_raster(tmp_path / "qgis.tif")[0], read_raster(tmp_path / "dask.tif")[0]
    np.testing.assert_array_equal(qgis, dask_result)
    assert np.isnan(dask_result[0, 50, 110])


def test_tasseled_cap_equals_the_qgis_algorithm(run, client, stack, tmp_path):
    run("tasseled_cap", {"INPUT": stack, "COEFFICIENTS": 0, "OUTPUT": str(tmp_path / "q.tif")})
    recipes.tasseled_cap(
        stack, tmp_path / "d.tif", coefficients="tm_crist_1985", client=client, chunk=CHUNK
    )
    np.testing.assert_array_equal(
        read_raster(tmp_path / "q.tif")[0], read_raster(tmp_path / "d.tif")[0]
    )


def test_fvc_two_pass_statistics_as_dask_reductions(run, client, tmp_path, stack):
    run("ndvi", {"INPUT": stack, "OUTPUT": str(tmp_path / "ndvi.tif")})
    qgis = run("fvc", {"INPUT": str(tmp_path / "ndvi.tif"), "OUTPUT": str(tmp_path / "q.tif")})
    values = recipes.fvc(tmp_path / "ndvi.tif", tmp_path / "d.tif", client=client, chunk=CHUNK)
    assert values["SOIL_VALUE"] == qgis["SOIL_VALUE"]
    assert values["VEG_VALUE"] == qgis["VEG_VALUE"]
    np.testing.assert_array_equal(
        read_raster(tmp_path / "q.tif")[0], read_raster(tmp_path / "d.tif")[0]
    )


def moving_mean(block):
    """A 7×7 NaN-aware moving mean: a moving-window kernel with a halo of 3."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (box_sum(block[0], 7) / box_count(~np.isnan(block[0]), 7)).astype(np.float32)


def test_moving_window_across_chunk_edges_equals_the_engine(client, stack, tmp_path):
    source = engine.RasterSource(stack, bands=(4,))
    engine.run_blocks(
        moving_mean,
        [source],
        [engine.RasterTarget(str(tmp_path / "e.tif"))],
        halo=3,
        memory_mb=0.5,
    )
    run_kernel(
        moving_mean,
        [source],
        [engine.RasterTarget(str(tmp_path / "d.tif"))],
        halo=3,
        chunk=CHUNK,
        client=client,
    )
    expected, got = read_raster(tmp_path / "e.tif")[0], read_raster(tmp_path / "d.tif")[0]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # The window reaches 3 pixels across the chunk edge at row 128: compare with the whole.
    whole = read_raster(stack)[0][3]
    rows = whole[125:132, 200:207]
    assert got[0, 128, 203] == pytest.approx(np.nanmean(rows), rel=1e-5)


def fails_on_a_marked_pixel(block):
    if np.nanmax(block) > 100:
        raise ValueError("bad block")
    return block[0]


def test_a_failing_chunk_is_reported_and_nothing_is_written(client, tmp_path):
    data = np.ones((300, 350), np.float32)
    data[200, 300] = 1000  # inside the chunk of rows 128–255, cols 256–349
    path = write_raster(tmp_path / "in.tif", data)
    out_dir = tmp_path / "out"
    with pytest.raises(
        ChunkFailed, match=r"(?s)1 chunk\(s\) failed.*rows 128–255, cols 256–349.*bad"
    ):
        run_kernel(
            fails_on_a_marked_pixel,
            [engine.RasterSource(path)],
            [engine.RasterTarget(str(out_dir / "r.tif"))],
            chunk=CHUNK,
            client=client,
        )
    assert not (out_dir / "r.tif").exists() and leftovers(out_dir) == []


def test_local_correlation_equals_the_qgis_algorithm(run, client, stack, tmp_path):
    x = write_raster(tmp_path / "x.tif", read_raster(stack)[0][3], nodata=-1)
    y = write_raster(tmp_path / "y.tif", read_raster(stack)[0][4], nodata=-1)
    run(
        "local_correlation",
        {
            "INPUT_X": x,
            "INPUT_Y": y,
            "WINDOW": 11,
            "OUTPUT_R": str(tmp_path / "qr.tif"),
            "OUTPUT_P": "TEMPORARY_OUTPUT",
            "OUTPUT_CLASS": str(tmp_path / "qc.tif"),
        },
    )
    recipes.local_correlation(
        x, y, tmp_path / "dr.tif", tmp_path / "dc.tif", window=11, client=client, chunk=CHUNK
    )
    qgis_r, dask_r = read_raster(tmp_path / "qr.tif")[0], read_raster(tmp_path / "dr.tif")[0]
    # Each block (engine) or chunk (Dask) centres x and y on its own mean: same r to rounding.
    np.testing.assert_allclose(dask_r, qgis_r, atol=1e-5, equal_nan=True)
    assert np.isfinite(dask_r).sum() > 90_000
    qgis_c, dask_c = read_raster(tmp_path / "qc.tif")[0], read_raster(tmp_path / "dc.tif")[0]
    np.testing.assert_array_equal(np.isnan(dask_c), np.isnan(qgis_c))
    valid = ~np.isnan(qgis_c)
    assert (qgis_c[valid] == dask_c[valid]).mean() > 0.9999
    # One legend for both: engine.styles.CORRELATION_CLASSES, in the QML beside each.
    assert (tmp_path / "dc.qml").read_text() == (tmp_path / "qc.qml").read_text()
    assert 'label="Insignificant"' in (tmp_path / "dc.qml").read_text()


def test_landscape_metrics_equal_the_qgis_algorithm(run, client, tmp_path):
    rng = np.random.default_rng(2)
    # A patchy 5-class map: smooth fields thresholded, so patches cross the chunk edges.
    field = np.cumsum(np.cumsum(rng.normal(size=(300, 350)), 0), 1)
    cover = np.digitize(field, np.percentile(field, [20, 40, 60, 80])).astype(np.float32) + 1
    cover[100:110, 120:140] = 0
    path = write_raster(tmp_path / "cover.tif", cover, nodata=0)
    run(
        "landscape_metrics",
        {
            "INPUT": path,
            "WINDOW": 9,
            "OUTPUT_SHDI": str(tmp_path / "qs.tif"),
            "OUTPUT_FN": str(tmp_path / "qf.tif"),
        },
    )
    recipes.landscape_metrics(
        path, tmp_path / "ds.tif", tmp_path / "df.tif", window=9, client=client, chunk=CHUNK
    )
    for name in ("s", "f"):
        np.testing.assert_allclose(
            read_raster(tmp_path / f"d{name}.tif")[0],
            read_raster(tmp_path / f"q{name}.tif")[0],
            atol=1e-6,
            equal_nan=True,
        )


def test_composite_index_equals_the_qgis_algorithm(run, client, stack, tmp_path):
    layers = []
    for band in range(3):
        layers.append(
            write_raster(tmp_path / f"i{band}.tif", read_raster(stack)[0][band], nodata=-1)
        )
    run(
        "composite_index",
        {
            "INPUTS": layers,
            "TRENDS": "+,-,+",
            "WEIGHTS": "0.5,0.3,0.2",
            "OUTPUT": str(tmp_path / "q.tif"),
            "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT",
        },
    )
    recipes.composite_index(
        layers,
        tmp_path / "d.tif",
        weights=[0.5, 0.3, 0.2],
        trends=[1, -1, 1],
        client=client,
        chunk=CHUNK,
    )
    np.testing.assert_allclose(
        read_raster(tmp_path / "d.tif")[0],
        read_raster(tmp_path / "q.tif")[0],
        atol=1e-6,
        equal_nan=True,
    )

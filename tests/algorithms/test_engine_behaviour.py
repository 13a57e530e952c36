"""What every algorithm owes its users, checked through processing.run: cancellation leaves
nothing behind, bad input names the parameter, misaligned inputs are aligned."""

import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import STACK, leftovers, read_raster, write_raster


@pytest.fixture
def small_blocks(monkeypatch):
    """A 1 MB block budget, so a 600×600 stack takes several blocks."""
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")


def big_stack(tmp_path, size=600):
    rng = np.random.default_rng(3)
    data = rng.uniform(0.01, 0.5, size=(6, size, size)).astype(np.float32)
    return write_raster(tmp_path / "big.tif", data)


@pytest.mark.parametrize("algorithm", ["ndvi", "tasseled_cap", "fvc"])
def test_cancel_leaves_no_output_and_no_temporary_files(
    run, tmp_path, small_blocks, cancel_after, algorithm
):
    stack = big_stack(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "result.tif"
    out.write_bytes(b"an earlier result")  # must survive a cancelled run
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(algorithm, {"INPUT": stack, "OUTPUT": str(out)}, feedback=cancel_after(2))
    assert out.read_bytes() == b"an earlier result"
    assert leftovers(out_dir) == []


def test_many_blocks_give_the_same_result_as_one(run, tmp_path, monkeypatch):
    stack = big_stack(tmp_path, 700)
    whole = tmp_path / "whole.tif"
    run("tasseled_cap", {"INPUT": stack, "OUTPUT": str(whole)})
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")
    pieces = tmp_path / "pieces.tif"
    run("tasseled_cap", {"INPUT": stack, "OUTPUT": str(pieces)})
    np.testing.assert_array_equal(read_raster(whole)[0], read_raster(pieces)[0])


def test_output_is_tiled_and_compressed(run, tmp_path):
    out = tmp_path / "ndvi.tif"
    run("ndvi", {"INPUT": big_stack(tmp_path, 300), "OUTPUT": str(out)})
    dataset = read_raster(out)[1]
    assert dataset.GetRasterBand(1).GetBlockSize() == [256, 256]
    assert dataset.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE"


def test_raster_without_crs_is_an_error_naming_the_parameter(run, tmp_path):
    path = write_raster(tmp_path / "nocrs.tif", STACK, epsg=None)
    with pytest.raises(QgsProcessingException, match="INPUT.*coordinate reference system"):
        run("ndvi", {"INPUT": path, "OUTPUT": str(tmp_path / "ndvi.tif")})


def test_non_overlapping_inputs_are_an_error_naming_the_parameter(run, tmp_path):
    thermal = write_raster(tmp_path / "l.tif", np.full((5, 5), 9.0))
    far_away = write_raster(tmp_path / "ndvi.tif", np.full((5, 5), 0.5), origin=(700000, 5000000))
    with pytest.raises(QgsProcessingException, match="NDVI.*does not overlap"):
        run("lst", {"THERMAL": thermal, "NDVI": far_away, "OUTPUT": str(tmp_path / "lst.tif")})


def test_unreadable_output_folder_fails_before_work(run, tmp_path):
    stack = write_raster(tmp_path / "stack.tif", STACK)
    target = tmp_path / "a-file" / "ndvi.tif"
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(QgsProcessingException, match="OUTPUT"):
        run("ndvi", {"INPUT": stack, "OUTPUT": str(target)})


def test_partially_covering_input_gives_nodata_outside(run, tmp_path):
    """NDVI covering only the left half of the thermal grid: the right half is NoData."""
    thermal = write_raster(tmp_path / "l.tif", np.full((10, 20), 9.5))
    ndvi = write_raster(tmp_path / "ndvi.tif", np.full((10, 10), 0.6))
    out = tmp_path / "lst.tif"
    run("lst", {"THERMAL": thermal, "NDVI": ndvi, "OUTPUT": str(out)})
    values = read_raster(out)[0][0]
    assert np.isfinite(values[:, :10]).all()
    assert np.isnan(values[:, 10:]).all()

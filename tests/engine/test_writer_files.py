"""The engine's outputs as files: all or none for real (a failed move puts back what was
replaced), run transactions that undo outputs committed before a later error, only regular
files replaced, the formats written, and valid values that collide with NoData counted."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from rasters import read_raster, write_raster

from mine_eco_plugin import engine
from mine_eco_plugin.engine import EngineError, RasterSource, RasterTarget
from mine_eco_plugin.engine import writer as writer_module
from mine_eco_plugin.engine.styles import RasterClass
from mine_eco_plugin.engine.writer import (
    FORMATS,
    check_format,
    check_replaceable,
    run_transaction,
)

EARLIER = b"an earlier output"
EARLIER_STATS = b"<PAMDataset>stale statistics</PAMDataset>"
EARLIER_STYLE = b"<qgis>an earlier style</qgis>"
CLASSES = (RasterClass(1, "low", (0, 0, 255, 255)), RasterClass(2, "high", (255, 0, 0, 255)))


def everything(folder: Path) -> dict[str, bytes | str]:
    """Every entry of ``folder``: files by bytes, others by kind."""
    found = {}
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file():
            found[path.name] = "folder" if path.is_dir() else "other"
        else:
            found[path.name] = path.read_bytes()
    return found


@pytest.fixture
def scene(tmp_path):
    """An input (3×4) and two earlier outputs, each with a statistics side file and the second
    with a style, in one folder."""
    source = write_raster(tmp_path / "in.tif", np.arange(12, dtype=np.float32).reshape(3, 4))
    out = tmp_path / "out"
    out.mkdir()
    for name in ("a.tif", "b.tif"):
        (out / name).write_bytes(EARLIER)
        (out / f"{name}.aux.xml").write_bytes(EARLIER_STATS)
    (out / "b.qml").write_bytes(EARLIER_STYLE)
    return RasterSource(source), out


def targets(out):
    return [
        RasterTarget(str(out / "a.tif"), parameter="OUTPUT_A"),
        RasterTarget(str(out / "b.tif"), parameter="OUTPUT_B", dtype="uint8", nodata=0,
                     classes=CLASSES),
    ]  # fmt: skip


def two_outputs(values):
    return values + 1, np.where(values[0] > 5, 2, 1)


def test_a_later_output_that_cannot_be_moved_in_puts_the_earlier_ones_back(scene):
    """The second output's path turns into a folder during the run: the commit fails naming
    OUTPUT_B, and OUTPUT_A, already moved in, is replaced by its earlier file again."""
    source, out = scene
    before = everything(out)

    def kernel(values):
        if not (out / "b.tif").is_dir():
            (out / "b.tif").unlink()
            (out / "b.tif").mkdir()
        return two_outputs(values)

    before["b.tif"] = "folder"
    with pytest.raises(EngineError, match="OUTPUT_B: .*b.tif is a folder"):
        engine.run_blocks(kernel, [source], targets(out))
    assert everything(out) == before


def test_a_failing_move_puts_every_replaced_file_back(scene, monkeypatch):
    """os.replace fails when the style of the second output is moved in (after the first
    output and the second's statistics file were): everything is as before."""
    source, out = scene
    before = everything(out)
    real_replace = os.replace

    def replace(staged, final):
        if Path(final).name == "b.qml" and ".partial" in str(staged):
            raise OSError(28, "No space left on device")
        return real_replace(staged, final)

    monkeypatch.setattr(writer_module.os, "replace", replace)
    with pytest.raises(OSError, match="No space"):
        engine.run_blocks(two_outputs, [source], targets(out))
    assert everything(out) == before


def test_success_replaces_outputs_and_side_files_and_leaves_nothing_else(scene):
    source, out = scene
    engine.run_blocks(two_outputs, [source], targets(out))
    # a.tif: values + 1 (0…11 → 1…12); the stale statistics file is gone.
    np.testing.assert_array_equal(read_raster(out / "a.tif")[0][0], np.arange(1, 13).reshape(3, 4))
    assert sorted(os.listdir(out)) == ["a.tif", "b.qml", "b.tif", "b.tif.aux.xml"]
    assert b"low" in (out / "b.qml").read_bytes()  # the new style
    # b.tif: 2 where the input > 5 (pixels 6…11), else 1.
    assert read_raster(out / "b.tif")[0][0].tolist() == [[1, 1, 1, 1], [1, 1, 2, 2], [2, 2, 2, 2]]


def test_an_error_after_the_commit_inside_a_run_undoes_it(scene):
    """As an algorithm that computes statistics over its written output and then fails."""
    source, out = scene
    before = everything(out)
    with pytest.raises(RuntimeError, match="after the outputs"), run_transaction():
        engine.run_blocks(two_outputs, [source], targets(out))
        assert (out / "b.qml").read_bytes() != EARLIER_STYLE  # committed by now
        raise RuntimeError("after the outputs")
    assert everything(out) == before


def test_a_nested_run_is_undone_by_the_outer_one(scene):
    source, out = scene
    before = everything(out)
    with pytest.raises(KeyboardInterrupt), run_transaction():
        with run_transaction():
            engine.run_blocks(two_outputs, [source], targets(out))
        raise KeyboardInterrupt
    assert everything(out) == before


def test_a_successful_run_deletes_what_it_replaced(scene):
    source, out = scene
    with run_transaction():
        engine.run_blocks(two_outputs, [source], targets(out))
        assert any(name.endswith(".backup") for name in os.listdir(out))
    assert sorted(os.listdir(out)) == ["a.tif", "b.qml", "b.tif", "b.tif.aux.xml"]


def test_two_targets_on_one_file_are_an_error_before_anything_is_written(scene):
    source, out = scene
    before = everything(out)
    same = [RasterTarget(str(out / "a.tif"), parameter="OUTPUT_A"),
            RasterTarget(str(out / ".." / "out" / "a.tif"), parameter="OUTPUT_B")]  # fmt: skip
    with pytest.raises(EngineError, match="OUTPUT_B: is the same file as OUTPUT_A"):
        engine.run_blocks(lambda v: (v, v), [source], same)
    assert everything(out) == before


@pytest.mark.parametrize("kind", ["symlink", "fifo", "read-only", "folder", "device"])
def test_only_a_regular_file_may_be_replaced(tmp_path, kind):
    path = tmp_path / "out.tif"
    expected = {"symlink": "symbolic link", "fifo": "FIFO", "read-only": "read-only file",
                "folder": "folder", "device": "device"}[kind]  # fmt: skip
    if kind == "symlink":
        (tmp_path / "target").write_bytes(EARLIER)
        path.symlink_to(tmp_path / "target")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "read-only":
        path.write_bytes(EARLIER)
        path.chmod(0o444)
    elif kind == "folder":
        path.mkdir()
    else:
        path = Path("/dev/null")
    with pytest.raises(EngineError, match=f"OUTPUT_X: {path} is a {expected}"):
        check_replaceable(path, "OUTPUT_X")
    check_replaceable(tmp_path / "missing.tif", "OUTPUT_X")  # nothing there: fine


def test_a_link_at_the_output_path_is_refused_and_its_target_kept(tmp_path):
    source = RasterSource(write_raster(tmp_path / "in.tif", np.ones((2, 2), dtype=np.float32)))
    (tmp_path / "target.bin").write_bytes(EARLIER)
    (tmp_path / "out.tif").symlink_to(tmp_path / "target.bin")
    with pytest.raises(EngineError, match="OUTPUT: .*symbolic link"):
        engine.run_blocks(lambda v: v, [source], [RasterTarget(str(tmp_path / "out.tif"))])
    assert (tmp_path / "out.tif").is_symlink()
    assert (tmp_path / "target.bin").read_bytes() == EARLIER
    assert sorted(os.listdir(tmp_path)) == ["in.tif", "out.tif", "target.bin"]


@pytest.mark.parametrize("suffix", ["vrt", "png", "jpg", "pdf", "xyz"])
def test_formats_that_cannot_hold_the_values_are_refused(suffix):
    with pytest.raises(EngineError, match=rf"OUTPUT_X: the \.{suffix} format .*choose"):
        check_format(f"out.{suffix}", "OUTPUT_X", 1, "float32")


def test_single_band_formats_refuse_several_bands():
    assert check_format("out.sdat", "OUTPUT", 1, "float32") == "SAGA"
    with pytest.raises(EngineError, match=r"OUTPUT: the \.sdat format \(SAGA\) holds only 1-band"):
        check_format("out.sdat", "OUTPUT", 3, "float32")
    with pytest.raises(EngineError, match=r"\.gtx format .* 1 band\(s\) of uint8"):
        check_format("out.gtx", "OUTPUT", 1, "uint8")


@pytest.mark.parametrize("suffix", sorted(FORMATS))
@pytest.mark.parametrize(("bands", "dtype"), [(1, "float32"), (3, "float32"), (1, "uint8")])
def test_every_format_written_gives_the_values_back(tmp_path, suffix, bands, dtype):
    try:
        check_format(f"x.{suffix}", "OUTPUT", bands, dtype)
    except EngineError:
        return  # refused before anything is written (checked above for a few)
    rng = np.random.default_rng(0)
    values = (rng.uniform(-1, 1, (bands, 5, 7)) if dtype == "float32"
              else rng.integers(1, 4, (bands, 5, 7))).astype(np.float32)  # fmt: skip
    values[:, 0, 0] = np.nan
    source = RasterSource(write_raster(tmp_path / "in.tif", values))
    out = tmp_path / "out"
    nodata = -9999.0 if dtype == "float32" else 0
    target = RasterTarget(str(out / f"x.{suffix}"), bands=bands, dtype=dtype, nodata=nodata)
    engine.run_blocks(lambda v: v, [source], [target])
    back, dataset = read_raster(out / f"x.{suffix}")
    np.testing.assert_array_equal(back, values)  # NaN where NoData, the values elsewhere
    np.testing.assert_allclose(dataset.GetGeoTransform(), gdal.Open(source.path).GetGeoTransform())
    assert not [name for name in os.listdir(out) if ".partial" in name or name.startswith(".")]


def test_valid_values_equal_to_nodata_are_counted(tmp_path):
    values = np.array([[0.0, 0.5, 0.0], [np.nan, 1.0, 0.0]], dtype=np.float32)
    source = RasterSource(write_raster(tmp_path / "in.tif", values))
    target = RasterTarget(str(tmp_path / "out.tif"), nodata=0.0)
    with run_transaction() as journal:
        engine.run_blocks(lambda v: v, [source], [target])
    # Three pixels hold 0.0, a valid value, and now read as NoData (the NaN one is NoData).
    assert len(journal.warnings) == 1
    assert journal.warnings[0].startswith("OUTPUT: 3 valid pixel value(s) equal the NoData")


def test_nodata_outside_float32_is_an_error(tmp_path):
    source = RasterSource(write_raster(tmp_path / "in.tif", np.ones((2, 2), dtype=np.float32)))
    target = RasterTarget(str(tmp_path / "out.tif"), nodata=1e39)
    with pytest.raises(EngineError, match="OUTPUT: the NoData value 1e\\+39 is outside"):
        engine.run_blocks(lambda v: v, [source], [target])
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]

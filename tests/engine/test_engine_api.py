"""The engine's API beyond block runs: a source opened on a grid, one whole raster read,
results in memory written with the atomic commit, full-width strips and the block budget."""

import numpy as np
import pytest
from rasters import leftovers, read_raster, write_raster

from mine_eco_plugin import engine
from mine_eco_plugin.engine import Cancelled, Monitor, RasterSource, RasterTarget, Window


def ramp(rows, cols):
    return np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)


class TestOpen:
    def test_a_source_opens_on_a_grid_with_its_bands_and_nodata(self, tmp_path):
        data = np.stack([ramp(3, 4), ramp(3, 4) + 100])
        path = write_raster(tmp_path / "in.tif", data)
        # Band 2 only, with 105 declared NoData by the source (the file declares none).
        source = RasterSource(path, parameter="B", bands=(2,), nodata=105.0)
        grid = engine.resolve_grid([source])
        raster = source.open(grid)
        try:
            block = raster.read(Window(1, 1, 2, 2))
        finally:
            raster.close()
        # Rows 1–2, columns 1–2 of band 2: 100 + (5, 6; 9, 10); 105 is NoData.
        np.testing.assert_array_equal(block, [[[np.nan, 106.0], [109.0, 110.0]]])
        assert raster.parameter == "B" and block.dtype == np.float32

    def test_a_source_reports_infinite_values_through_warn(self, tmp_path):
        data = ramp(2, 2)
        data[0, 1] = np.inf
        path = write_raster(tmp_path / "in.tif", data)
        source = RasterSource(path, parameter="DEM")
        warnings = []
        raster = source.open(engine.resolve_grid([source]), warn=warnings.append)
        values = raster.read(Window(0, 0, 2, 2))
        raster.close()
        assert np.isnan(values[0, 0, 1])
        assert warnings == [
            "DEM: 1 value of ±Inf (infinite, e.g. from a division by zero) was read as NoData"
        ]


class TestReadRaster:
    def test_the_whole_raster_in_one_array_with_nan_nodata(self, tmp_path):
        data = ramp(5, 7)
        data[2, 3] = -1
        path = write_raster(tmp_path / "in.tif", data, nodata=-1)
        whole = engine.read_raster(RasterSource(path))
        expected = ramp(5, 7)[np.newaxis]
        expected[0, 2, 3] = np.nan
        np.testing.assert_array_equal(whole, expected)

    def test_read_onto_another_grid_is_aligned_like_blocks(self, tmp_path):
        """The same values as a block run reading the source onto that grid."""
        coarse = write_raster(tmp_path / "ref.tif", np.zeros((3, 3), np.float32), pixel=60.0)
        fine = write_raster(tmp_path / "in.tif", ramp(6, 6))
        grid = engine.resolve_grid([RasterSource(coarse)])
        whole = engine.read_raster(RasterSource(fine), grid)
        out = tmp_path / "copy.tif"
        engine.run_blocks(lambda b: b[0], [RasterSource(fine)], [RasterTarget(str(out))], grid=grid)
        np.testing.assert_array_equal(whole, read_raster(out)[0].astype(np.float32))
        assert whole.shape == (1, 3, 3)


class TestWriteArrays:
    def test_arrays_in_memory_are_written_block_by_block(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.zeros((600, 500), np.float32))
        grid = engine.resolve_grid([RasterSource(path)])
        first, second = ramp(600, 500), 2 * ramp(600, 500) + 1
        windows = []

        def produce(window):
            windows.append(window)
            rows = slice(window.row, window.row + window.height)
            cols = slice(window.col, window.col + window.width)
            return first[rows, cols], second[rows, cols], first[rows, cols]

        a, b = tmp_path / "a.tif", tmp_path / "b.tif"
        engine.write_arrays(
            produce, [RasterTarget(str(a)), RasterTarget(str(b)), None], grid, memory_mb=0.5
        )
        assert len(windows) > 1  # 0.5 MB cannot hold 600 × 500 pixels at once
        np.testing.assert_array_equal(read_raster(a)[0][0], first)
        np.testing.assert_array_equal(read_raster(b)[0][0], second)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif", "b.tif", "in.tif"]

    def test_a_failure_leaves_no_output_and_keeps_the_earlier_file(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.zeros((600, 500), np.float32))
        grid = engine.resolve_grid([RasterSource(path)])
        a, b = tmp_path / "a.tif", tmp_path / "b.tif"
        engine.write_arrays(
            lambda w: (np.ones((w.height, w.width)),) * 2,
            [RasterTarget(str(a)), RasterTarget(str(b))],
            grid,
        )
        calls = []

        def failing(window):
            calls.append(window)
            if len(calls) == 2:
                raise RuntimeError("boom")
            return (np.full((window.height, window.width), 7.0),) * 2

        with pytest.raises(RuntimeError, match="boom"):
            engine.write_arrays(
                failing, [RasterTarget(str(a)), RasterTarget(str(b))], grid, memory_mb=0.5
            )
        assert np.all(read_raster(a)[0] == 1) and np.all(read_raster(b)[0] == 1)
        assert leftovers(tmp_path) == []


class TestStrips:
    def test_full_width_strips_in_order_within_the_budget(self, tmp_path):
        data = ramp(50, 40)
        path = write_raster(tmp_path / "in.tif", data)
        source = RasterSource(path)
        grid = engine.resolve_grid([source])
        # 0.01 MB = 10485.76 bytes; 40 columns × 16 bytes = 640 bytes a row → 16 rows a strip.
        strips = list(engine.strips([source, source], grid, bytes_per_pixel=16, memory_mb=0.01))
        assert [w.height for w, _ in strips] == [16, 16, 16, 2]
        assert all(w.col == 0 and w.width == 40 for w, _ in strips)
        assert [w.row for w, _ in strips] == [0, 16, 32, 48]
        joined = np.concatenate([blocks[1][0] for _, blocks in strips])
        np.testing.assert_array_equal(joined, data)

    def test_cancel_stops_before_the_next_strip(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", ramp(50, 40))
        source = RasterSource(path)
        grid = engine.resolve_grid([source])
        seen = []
        monitor = Monitor(canceled=lambda: len(seen) >= 2)
        with pytest.raises(Cancelled):
            for window, _ in engine.strips(
                [source], grid, bytes_per_pixel=16, memory_mb=0.01, monitor=monitor
            ):
                seen.append(window)
        assert len(seen) == 2


def test_block_budget_is_the_budget_less_the_cache_over_the_blocks_in_flight():
    # 256 MB less GDAL's quarter (64 MB) over 3 blocks in flight = 64 MB a block.
    assert engine.block_budget_mb(256) == 64.0
    assert engine.block_budget_mb(12) == 3.0

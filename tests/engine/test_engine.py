"""The raster engine on its own (GDAL and numpy, no QGIS): blocks, halos, alignment, atomic
outputs and statistics passes."""

import numpy as np
import pytest
from osgeo import gdal
from rasters import leftovers, read_raster, write_raster

from mine_eco_plugin import engine
from mine_eco_plugin.engine import (
    Cancelled,
    EngineError,
    Grid,
    Monitor,
    RasterSource,
    RasterTarget,
    Window,
)


def grid(width, height):
    return Grid(width, height, (0.0, 30.0, 0.0, 0.0, 0.0, -30.0), "")


class TestPlanWindows:
    def test_full_width_strips_are_tile_aligned_and_cover_the_grid(self):
        windows = engine.plan_windows(grid(1000, 2000), bytes_per_pixel=48, memory_mb=16)
        # 16 MiB / 48 B = 349525 pixels → 349 rows of 1000 → 256 (a multiple of the tile).
        assert {w.height for w in windows[:-1]} == {256}
        assert all(w.col == 0 and w.width == 1000 for w in windows)
        assert sum(w.height for w in windows) == 2000

    def test_wide_rasters_split_into_columns(self):
        windows = engine.plan_windows(grid(100_000, 600), bytes_per_pixel=48, memory_mb=16)
        covered = np.zeros((600, 100_000), dtype=np.uint8)
        for w in windows:
            assert w.size * 48 <= 16 * 2**20
            covered[w.row : w.row + w.height, w.col : w.col + w.width] += 1
        assert (covered == 1).all()

    def test_block_memory_does_not_grow_with_the_raster(self):
        small = engine.plan_windows(grid(2000, 2000), 48, 64)
        large = engine.plan_windows(grid(8000, 8000), 48, 64)
        assert max(w.size for w in large) <= 64 * 2**20 / 48
        assert max(w.size for w in small) <= 64 * 2**20 / 48


class TestRunBlocks:
    def test_halo_reaches_across_blocks(self, tmp_path):
        """A 3×3 moving sum computed in small blocks equals the one computed at once."""
        rng = np.random.default_rng(0)
        data = rng.random((300, 290)).astype(np.float32)
        path = write_raster(tmp_path / "in.tif", data)
        out = tmp_path / "sum.tif"

        def moving_sum(block):
            padded = np.nan_to_num(block[0])
            total = np.zeros_like(padded)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    total += np.roll(np.roll(padded, dy, 0), dx, 1)
            return total  # with the halo: the engine crops it

        engine.run_blocks(
            moving_sum, [RasterSource(path)], [RasterTarget(str(out))], halo=1, memory_mb=0.1
        )
        padded = np.pad(data, 1)
        expected = sum(
            padded[1 + dy : 301 + dy, 1 + dx : 291 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
        )
        np.testing.assert_allclose(read_raster(out)[0][0], expected, rtol=1e-5)

    def test_a_raster_that_fits_the_budget_is_one_block(self, tmp_path):
        """One block is read, computed and written in turn, so it may take the whole budget
        less the cache; only when it does not fit are blocks cut to a third of that."""
        path = write_raster(tmp_path / "in.tif", np.ones((1000, 1000), dtype=np.float32))
        # (1 input + 1 output band) · 4 B · work factor 4 = 32 B per pixel; with a halo of 10
        # the one block holds 1020² pixels = 31.75 MiB.
        whole = 1020 * 1020 * 32 / 2**20
        for memory_mb, one_block in ((whole / 0.75 + 0.01, True), (whole / 0.75 - 0.01, False)):
            shapes = []

            def kernel(block, shapes=shapes):
                shapes.append(block.shape[1:])
                return block[0]

            engine.run_blocks(
                kernel,
                [RasterSource(path)],
                [RasterTarget(str(tmp_path / f"out{one_block}.tif"))],
                halo=10,
                memory_mb=memory_mb,
                work_factor=4,
            )
            if one_block:
                assert shapes == [(1020, 1020)]
            else:
                # Blocks of at most a third of the budget less the cache (0.75 / 3 of it).
                assert len(shapes) > 1
                limit = memory_mb * 0.25 * 2**20 / 32
                assert all(rows * cols <= limit for rows, cols in shapes)

    def test_exception_in_a_block_leaves_nothing(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.ones((600, 600), dtype=np.float32))
        out = tmp_path / "out" / "result.tif"
        calls = []

        def failing(block):
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("boom")
            return block[0]

        with pytest.raises(RuntimeError, match="boom"):
            engine.run_blocks(
                failing, [RasterSource(path)], [RasterTarget(str(out))], memory_mb=0.1
            )
        assert not out.exists()
        assert leftovers(out.parent) == []

    def test_cancel_is_checked_on_every_block(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.ones((600, 600), dtype=np.float32))
        out = tmp_path / "result.tif"
        progress = []
        monitor = Monitor(progress.append, lambda: len(progress) >= 2)
        with pytest.raises(Cancelled):
            engine.run_blocks(
                lambda b: b[0],
                [RasterSource(path)],
                [RasterTarget(str(out))],
                memory_mb=0.1,
                monitor=monitor,
            )
        assert len(progress) == 2  # stopped at the block after the second report
        assert not out.exists() and leftovers(tmp_path) == []

    def test_existing_output_replaced_only_on_success(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.full((20, 20), 2.0, dtype=np.float32))
        out = tmp_path / "result.tif"
        engine.run_blocks(lambda b: b[0] * 3, [RasterSource(path)], [RasterTarget(str(out))])
        assert np.all(read_raster(out)[0] == 6)
        engine.run_blocks(lambda b: b[0] * 4, [RasterSource(path)], [RasterTarget(str(out))])
        assert np.all(read_raster(out)[0] == 8)

    def test_nodata_in_becomes_nodata_out_and_nan_results_too(self, tmp_path):
        data = np.array([[1.0, -5.0, 3.0]], dtype=np.float32)
        path = write_raster(tmp_path / "in.tif", data, nodata=-5.0)
        out = tmp_path / "out.tif"

        def log_minus_one(block):
            with np.errstate(divide="ignore"):
                return np.log(block[0] - 1)

        engine.run_blocks(
            log_minus_one, [RasterSource(path)], [RasterTarget(str(out), nodata=-9999.0)]
        )
        raw = gdal.Open(str(out)).ReadAsArray()
        # log(0) = −inf (not finite) and the NoData input both become −9999; log(2) = 0.693147.
        np.testing.assert_allclose(raw, [[-9999.0, -9999.0, np.log(2.0)]], rtol=1e-6)

    def test_optional_targets_may_be_skipped(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.ones((4, 4), dtype=np.float32))
        out = tmp_path / "b.tif"
        engine.run_blocks(
            lambda b: (b[0], b[0] * 2), [RasterSource(path)], [None, RasterTarget(str(out))]
        )
        assert np.all(read_raster(out)[0] == 2)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tif", "in.tif"]

    def test_other_formats_are_converted_after_the_run(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.ones((4, 4), dtype=np.float32))
        out = tmp_path / "result.img"
        engine.run_blocks(lambda b: b[0], [RasterSource(path)], [RasterTarget(str(out))])
        assert gdal.Open(str(out)).GetDriver().ShortName == "HFA"
        assert leftovers(tmp_path) == []


class TestAlignment:
    def test_reprojected_input_equals_gdal_warp(self, tmp_path):
        """Peer check: reading through the engine equals gdalwarp onto the same grid."""
        rng = np.random.default_rng(1)
        data = rng.random((50, 60)).astype(np.float32)
        src = write_raster(tmp_path / "src.tif", data, epsg=32632, origin=(500000, 5600000))
        ref = write_raster(
            tmp_path / "ref.tif",
            np.zeros((30, 40), np.float32),
            epsg=3035,
            origin=(4_250_300, 3_049_200),
            pixel=25,
        )
        target = engine.resolve_grid([RasterSource(ref)])
        raster = engine.AlignedRaster(src, target, parameter="X", resampling="bilinear")
        values = raster.read(Window(0, 0, 40, 30))[0]
        xmin, ymin, xmax, ymax = target.bounds
        peer = gdal.Warp(
            "",
            src,
            format="MEM",
            outputBounds=(xmin, ymin, xmax, ymax),
            width=40,
            height=30,
            dstSRS=target.crs_wkt,
            resampleAlg="bilinear",
            dstNodata=np.nan,
            outputType=gdal.GDT_Float32,
        ).ReadAsArray()
        assert raster.warped
        assert np.isfinite(values).sum() > 100  # the grids do overlap
        np.testing.assert_allclose(values, peer, rtol=1e-6, equal_nan=True)

    def test_halo_outside_the_raster_reads_as_nan(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.ones((5, 5), np.float32))
        target = engine.resolve_grid([RasterSource(path)])
        block = engine.AlignedRaster(path, target, parameter="X").read(Window(0, 0, 5, 5), 2)
        assert block.shape == (1, 9, 9)
        assert np.isnan(block[0, :2]).all() and np.isnan(block[0, :, :2]).all()
        assert (block[0, 2:7, 2:7] == 1).all()

    def test_missing_band_names_the_parameter(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.ones((5, 5), np.float32))
        target = engine.resolve_grid([RasterSource(path)])
        with pytest.raises(EngineError, match="NIR: has 1 band"):
            engine.AlignedRaster(path, target, parameter="NIR", bands=(4,))

    def test_crs_override_is_used_only_when_the_file_has_none(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.ones((5, 5), np.float32), epsg=None)
        with pytest.raises(EngineError, match="IN: has no coordinate reference system"):
            engine.resolve_grid([RasterSource(path, parameter="IN")])
        from osgeo import osr

        srs = osr.SpatialReference()
        srs.ImportFromEPSG(3358)
        found = engine.resolve_grid([RasterSource(path, crs_wkt=srs.ExportToWkt())])
        assert found.srs().IsSame(srs)


class TestStatisticsPasses:
    def test_percentiles_and_summary_over_blocks_match_numpy(self, tmp_path):
        rng = np.random.default_rng(2)
        data = rng.normal(0.3, 0.2, (700, 500)).astype(np.float32)
        data[::7, ::3] = -9999
        path = write_raster(tmp_path / "in.tif", data, nodata=-9999)
        source = RasterSource(path)
        valid = data[data != -9999].astype(np.float64)
        got = engine.band_percentiles(source, [5, 50, 95], memory_mb=0.1)
        np.testing.assert_array_equal(got, np.percentile(valid, [5, 50, 95]))
        summary = engine.band_summary(source, memory_mb=0.1)
        assert summary.count == valid.size
        assert summary.minimum == valid.min() and summary.maximum == valid.max()
        assert summary.mean == pytest.approx(valid.mean(), rel=1e-12)
        assert summary.std == pytest.approx(valid.std(), rel=1e-9)

    def test_all_nodata_is_an_error_naming_the_parameter(self, tmp_path):
        path = write_raster(tmp_path / "in.tif", np.full((5, 5), -1, np.float32), nodata=-1)
        with pytest.raises(EngineError, match="VEG: has no valid pixels"):
            engine.band_percentiles(RasterSource(path, parameter="VEG"), [5])


class TestClassStyles:
    def test_class_raster_gets_colour_table_names_and_a_qml_legend(self, tmp_path):
        from xml.etree import ElementTree

        from mine_eco_plugin.engine import RasterClass

        path = write_raster(tmp_path / "in.tif", np.array([[1.0, 2.0, np.nan]], np.float32))
        out = tmp_path / "classes.tif"
        classes = (RasterClass(1, "low", (255, 0, 0)), RasterClass(2, "high & dry", (0, 0, 255)))
        engine.run_blocks(
            lambda b: b[0],
            [RasterSource(path)],
            [RasterTarget(str(out), dtype="uint8", nodata=0, classes=classes)],
        )
        dataset = gdal.Open(str(out))  # keep it referenced while its band is used
        band = dataset.GetRasterBand(1)
        assert band.ReadAsArray().tolist() == [[1, 2, 0]]
        assert band.GetColorTable().GetColorEntry(2) == (0, 0, 255, 255)
        assert band.GetCategoryNames()[1:3] == ["low", "high & dry"]
        entries = ElementTree.parse(tmp_path / "classes.qml").getroot().iter("paletteEntry")
        assert [(e.get("value"), e.get("color"), e.get("label")) for e in entries] == [
            ("1", "#ff0000", "low"),
            ("2", "#0000ff", "high & dry"),
        ]

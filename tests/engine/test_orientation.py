"""Input geometry in the engine: grids stored south-up, east-to-west, mirrored both ways or
rotated, and the values the reader changes (±Inf, the int16 void). Every check compares
values at the same map coordinates with those of the north-up layout."""

import itertools

import numpy as np
import pytest
from osgeo import gdal
from rasters import ORIENTATIONS, north_up, read_raster, write_raster

from mine_eco_plugin import engine
from mine_eco_plugin.engine import (
    AlignedRaster,
    EngineError,
    Grid,
    Monitor,
    RasterSource,
    RasterTarget,
    Window,
)

AXIS_ALIGNED = [o for o in ORIENTATIONS if o != "rotated"]
ROWS, COLS = 37, 29


def field(seed, shape=(ROWS, COLS)):
    return np.random.default_rng(seed).uniform(0, 100, shape).astype(np.float32)


def run(kernel, sources, path, **options):
    engine.run_blocks(kernel, sources, [RasterTarget(str(path))], **options)
    values, dataset = read_raster(path)
    return values, dataset


class TestGrid:
    def test_north_up_twin_has_the_same_bounds_and_pixels(self, tmp_path):
        for orientation in AXIS_ALIGNED:
            path = write_raster(tmp_path / "a.tif", field(0), orientation=orientation)
            grid = Grid.of(gdal.Open(path))
            twin = grid.north_up()
            # The north-up file written by the same helper: origin (500000, 5600000), 30 m.
            assert twin.geotransform == (500000.0, 30.0, 0.0, 5600000.0, 0.0, -30.0)
            assert twin.bounds == pytest.approx(grid.bounds)
            assert grid.is_north_up == (orientation == "north-up")
            assert grid.pixel_area() == 900.0

    def test_pixel_centres_follow_the_stored_order(self, tmp_path):
        path = write_raster(tmp_path / "s.tif", field(0), orientation="south-up")
        grid = Grid.of(gdal.Open(path))
        x, y = grid.pixel_centres(Window(2, 3, 4, 2))
        # South-up: row 0 is the southern row, centre 5600000 − 37·30 + 15; row 3 is 90 m north.
        np.testing.assert_allclose(y, [5600000 - 37 * 30 + 15 + 90, 5600000 - 37 * 30 + 15 + 120])
        np.testing.assert_allclose(x, 500000 + 15 + 30 * np.arange(2, 6))
        x0, _, _, y0, _, _ = grid.window_geotransform(Window(2, 3, 4, 2))
        assert (x0, y0) == (500060.0, 5600000 - 37 * 30 + 90)

    def test_bounds_of_a_rotated_grid_cover_its_corners(self, tmp_path):
        path = write_raster(tmp_path / "r.tif", field(0), orientation="rotated")
        grid = Grid.of(gdal.Open(path))
        assert grid.is_rotated and not grid.is_north_up
        assert grid.bounds == pytest.approx(
            (500000, 5600000 - ROWS * 30, 500000 + COLS * 30, 5600000)
        )


class TestMixedOrientations:
    @pytest.mark.parametrize("first, second", list(itertools.product(AXIS_ALIGNED, AXIS_ALIGNED)))
    def test_same_map_same_values_whatever_the_layout(self, tmp_path, first, second):
        """second − first of one map written twice is 0 everywhere; the output keeps the first
        input's grid as stored; read back in north-up order it is second's map."""
        a, b = field(1), field(2)
        pa = write_raster(tmp_path / "a.tif", a, orientation=first)
        pb = write_raster(tmp_path / "b.tif", b, orientation=second)
        sources = [RasterSource(pa, "A"), RasterSource(pb, "B")]
        # Small blocks with a halo: reads near block edges and beyond the raster are mirrored
        # too.
        values, dataset = run(
            lambda x, y: y[0] - x[0],
            sources,
            tmp_path / "diff.tif",
            halo=2,
            memory_mb=0.02,
        )
        np.testing.assert_allclose(north_up(values, dataset)[0], b - a, atol=1e-4)
        assert dataset.GetGeoTransform() == gdal.Open(pa).GetGeoTransform()

    @pytest.mark.parametrize("first", AXIS_ALIGNED)
    def test_halo_of_a_mirrored_input_reaches_the_right_neighbours(self, tmp_path, first):
        """A 3×3 moving sum of the second input (north-up) over the first's grid equals the one
        computed on the north-up array, whatever the first input's layout."""
        a, b = field(3), field(4)
        pa = write_raster(tmp_path / "a.tif", a, orientation=first)
        pb = write_raster(tmp_path / "b.tif", b)

        def moving_sum(x, y):
            padded = np.nan_to_num(y[0])
            total = np.zeros_like(padded)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    total += np.roll(np.roll(padded, dy, 0), dx, 1)
            return total

        values, dataset = run(
            moving_sum,
            [RasterSource(pa, "A"), RasterSource(pb, "B")],
            tmp_path / "sum.tif",
            halo=1,
            memory_mb=0.02,
        )
        padded = np.pad(b, 1)
        expected = sum(
            padded[1 + dy : ROWS + 1 + dy, 1 + dx : COLS + 1 + dx]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        )
        np.testing.assert_allclose(north_up(values, dataset)[0], expected, rtol=1e-5)

    @pytest.mark.parametrize("first", AXIS_ALIGNED)
    def test_resampled_input_lands_on_the_same_map_cells(self, tmp_path, first):
        """A second input on a coarser, shifted grid (warped, nearest) gives the same values at
        the same map coordinates whatever the layout of the first input."""
        a = field(5)
        coarse = np.arange(20 * 16, dtype=np.float32).reshape(20, 16)
        pa = write_raster(tmp_path / "a.tif", a, orientation=first)
        # 60 m pixels from (499970, 5600030): every 30 m cell lies inside one coarse pixel.
        pb = write_raster(tmp_path / "b.tif", coarse, origin=(499970.0, 5600030.0), pixel=60.0)
        values, dataset = run(
            lambda x, y: y[0],
            [RasterSource(pa, "A"), RasterSource(pb, "B", resampling="nearest")],
            tmp_path / "b_on_a.tif",
            memory_mb=0.02,
        )
        # Fine cell (i, j) centre: x = 500015 + 30 j, y = 5599985 − 30 i; coarse index
        # ((5600030 − y) // 60, (x − 499970) // 60).
        i, j = np.mgrid[0:ROWS, 0:COLS]
        expected = coarse[(45 + 30 * i) // 60, (45 + 30 * j) // 60]
        np.testing.assert_array_equal(north_up(values, dataset)[0], expected)

    def test_reprojected_input_on_a_south_up_grid(self, tmp_path):
        """A second input in another CRS gives the same values on the south-up grid as on the
        north-up one, cell for cell at the same map coordinates."""
        a, b = field(6), field(7)
        pb = write_raster(tmp_path / "b.tif", b)
        geographic = str(tmp_path / "b4326.tif")
        gdal.Warp(geographic, pb, dstSRS="EPSG:4326", xRes=0.0002, yRes=0.0002, dstNodata=-9999)
        results = {}
        for orientation in ("north-up", "south-up"):
            pa = write_raster(tmp_path / f"a_{orientation}.tif", a, orientation=orientation)
            values, dataset = run(
                lambda x, y: y[0],
                [RasterSource(pa, "A"), RasterSource(geographic, "B")],
                tmp_path / f"out_{orientation}.tif",
            )
            results[orientation] = north_up(values, dataset)[0]
        assert np.isfinite(results["north-up"]).sum() > 0.9 * ROWS * COLS
        np.testing.assert_allclose(results["south-up"], results["north-up"], equal_nan=True)

    def test_rotated_first_input_is_refused_naming_it(self, tmp_path):
        pa = write_raster(tmp_path / "a.tif", field(8), orientation="rotated")
        pb = write_raster(tmp_path / "b.tif", field(9))
        with pytest.raises(EngineError, match=r"^A: is rotated"):
            run(
                lambda x, y: y[0],
                [RasterSource(pa, "A"), RasterSource(pb, "B")],
                tmp_path / "o.tif",
            )
        assert not (tmp_path / "o.tif").exists()

    @pytest.mark.parametrize(
        "first, resampling",
        list(itertools.product(["north-up", "south-up"], ["nearest", "bilinear", "cubic"])),
    )
    def test_rotated_second_input_is_resampled_correctly(self, tmp_path, first, resampling):
        """A 90°-rotated file (stored transposed, rotation terms in its geotransform) on the
        first input's grid gives back the map: every target pixel centre falls on a source
        pixel centre, where nearest, bilinear and cubic all return the source value (GDAL's
        own scale estimate would blur bilinear and cubic here by up to 0.2 of the range)."""
        a, b = field(10), field(11)
        pa = write_raster(tmp_path / "a.tif", a, orientation=first)
        pb = write_raster(tmp_path / "b.tif", b, orientation="rotated")
        values, dataset = run(
            lambda x, y: y[0],
            [RasterSource(pa, "A"), RasterSource(pb, "B", resampling=resampling)],
            tmp_path / "o.tif",
        )
        np.testing.assert_allclose(north_up(values, dataset)[0], b, rtol=1e-6)

    def test_rotated_input_in_another_crs_is_refused_naming_it(self, tmp_path):
        pa = write_raster(tmp_path / "a.tif", field(10))
        pb = write_raster(
            tmp_path / "b.tif",
            field(11),
            orientation="rotated",
            epsg=32633,
            origin=(75000, 5617300),
        )
        with pytest.raises(EngineError, match=r"^B: is rotated and in another CRS"):
            run(
                lambda x, y: y[0],
                [RasterSource(pa, "A"), RasterSource(pb, "B")],
                tmp_path / "o.tif",
            )


class TestValuesChangedOnReading:
    def test_infinite_values_are_nodata_and_counted_once(self, tmp_path):
        data = field(12)
        data[0, 0] = np.inf
        data[10, 14] = -np.inf
        data[36, 28] = np.inf
        path = write_raster(tmp_path / "inf.tif", data)
        warnings = []
        monitor = Monitor(warn=warnings.append)
        values, _ = run(
            lambda x: x[0] * 2,
            [RasterSource(path, "INPUT")],
            tmp_path / "o.tif",
            halo=2,
            memory_mb=0.02,
            monitor=monitor,
        )
        expected = data * 2
        expected[~np.isfinite(data)] = np.nan
        np.testing.assert_allclose(values[0], expected, equal_nan=True)
        # Three infinite values, each counted once although the halos read them again.
        assert warnings == [
            "INPUT: 3 values of ±Inf (infinite, e.g. from a division by zero) were read as NoData"
        ]
        # Statistics passes skip them too (they reach no percentile or summary).
        summary = engine.band_summary(RasterSource(path, "INPUT"))
        finite = data[np.isfinite(data)]
        assert summary.count == finite.size
        assert summary.maximum == pytest.approx(finite.max())

    def test_int16_minimum_is_nodata_when_none_is_declared(self, tmp_path):
        dem = np.full((ROWS, COLS), 250, dtype=np.int16)
        dem[5:7, 3:6] = -32768  # six voids
        path = write_raster(tmp_path / "dem.tif", dem, dtype=gdal.GDT_Int16)
        grid = engine.resolve_grid([RasterSource(path, "DEM")])
        warnings = []
        raster = AlignedRaster(path, grid, parameter="DEM", warn=warnings.append)
        block = raster.read(Window(0, 0, COLS, ROWS))[0]
        raster.close()
        assert np.isnan(block).sum() == 6 and np.isnan(block[5:7, 3:6]).all()
        assert np.nanmax(block) == 250 and np.nanmin(block) == 250
        assert len(warnings) == 1
        assert warnings[0].startswith("DEM: band 1 is int16 without a declared NoData value; its 6")
        assert "−32768" in warnings[0] or "-32768" in warnings[0]

    def test_int16_rule_stays_out_of_the_way(self, tmp_path):
        """A declared NoData, an explicit override or no −32768 cell: no rule, no warning."""
        dem = np.full((4, 5), 250, dtype=np.int16)
        dem[0, 0] = -32768
        declared = write_raster(tmp_path / "d.tif", dem, dtype=gdal.GDT_Int16, nodata=250)
        plain = write_raster(tmp_path / "p.tif", np.full((4, 5), 7), dtype=gdal.GDT_Int16)
        cases = ((declared, None, 19), (declared, 9.0, 0), (plain, None, 0))
        for path, override, nans in cases:
            grid = engine.resolve_grid([RasterSource(path)])
            warnings = []
            raster = AlignedRaster(
                path, grid, parameter="DEM", nodata=override, warn=warnings.append
            )
            block = raster.read(Window(0, 0, 5, 4))[0]
            raster.close()
            assert warnings == []
            assert np.isnan(block).sum() == nans

    def test_int16_voids_are_not_smeared_by_resampling(self, tmp_path):
        """Warped (bilinear) onto another grid, the voids stay NoData instead of pulling their
        neighbours towards −32768."""
        dem = np.full((ROWS, COLS), 100, dtype=np.int16)
        dem[10:14, 10:14] = -32768
        path = write_raster(tmp_path / "dem.tif", dem, dtype=gdal.GDT_Int16)
        first = write_raster(tmp_path / "a.tif", field(13), origin=(500015.0, 5599985.0))
        values, _ = run(
            lambda x, y: y[0],
            [RasterSource(first, "A"), RasterSource(path, "DEM")],
            tmp_path / "o.tif",
        )
        finite = values[0][np.isfinite(values[0])]
        assert finite.size > 0.8 * ROWS * COLS
        np.testing.assert_allclose(finite, 100.0)

    def test_monitor_warns_once_per_message_across_spans(self):
        warnings = []
        monitor = Monitor(warn=warnings.append)
        monitor.warn("A: x")
        monitor.span(0, 0.5).warn("A: x")
        monitor.span(0.5, 1).span(0, 1).warn("B: y")
        assert warnings == ["A: x", "B: y"]


def test_a_rotated_raster_is_read_as_stored_on_its_own_grid(tmp_path):
    """Passes over one raster on its own grid (class counts, statistics) need no alignment:
    a rotated file is read as stored there; aligning another raster onto it is an error."""
    data = field(14)
    path = write_raster(tmp_path / "r.tif", data, orientation="rotated")
    grid = Grid.of(gdal.Open(path))
    raster = AlignedRaster(path, grid, parameter="INPUT")
    np.testing.assert_array_equal(raster.read(Window(0, 0, ROWS, COLS))[0], data.T)
    raster.close()
    other = write_raster(tmp_path / "n.tif", field(15))
    with pytest.raises(EngineError, match="^OTHER: cannot be aligned to a rotated output grid"):
        AlignedRaster(other, grid, parameter="OTHER")

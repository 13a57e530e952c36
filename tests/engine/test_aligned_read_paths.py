"""A reprojected input reads the same whatever the block layout, and equals gdal.Warp.

GDAL 3.10 warps a read that covers a whole warped VRT by another path than block reads, with
bilinear values up to ~2e-3 apart on this field; AlignedRaster splits such a read in two, so
that the values do not depend on the block layout (checked on every GDAL version supported).
"""

import numpy as np
import pytest
from osgeo import gdal
from rasters import wgs84_field, write_raster

from mine_eco_plugin.engine import AlignedRaster, Grid, Window


def _inputs(tmp_path, rows=40, cols=50):
    target = write_raster(
        tmp_path / "target.tif",
        np.zeros((rows, cols), dtype=np.float32),
        origin=(500000.0, 5600000.0),
    )
    # A smooth field on WGS 84, 0.0004° ≈ 28 m across and 44 m along: downsampled across.
    source = wgs84_field(tmp_path / "wgs84.tif")
    return source, target, rows, cols


@pytest.mark.parametrize("shape", [(40, 50), (1, 50)])
def test_whole_grid_read_equals_strips_and_gdal_warp(tmp_path, shape):
    source, target, rows, cols = _inputs(tmp_path, *shape)
    reference = gdal.Open(target)
    grid = Grid.of(reference)
    aligned = AlignedRaster(source, grid, parameter="INPUT")
    assert aligned.warped
    whole = aligned.read(Window(0, 0, cols, rows))[0]
    strips = np.vstack(
        [aligned.read(Window(0, r, cols, min(7, rows - r)))[0] for r in range(0, rows, 7)]
    )
    np.testing.assert_array_equal(whole, strips)
    pieces = np.hstack(
        [aligned.read(Window(c, 0, min(9, cols - c), rows))[0] for c in range(0, cols, 9)]
    )
    np.testing.assert_array_equal(whole, pieces)
    # Peer: GDAL's own warp of the whole grid in memory.
    warped = gdal.Warp(
        "",
        source,
        format="MEM",
        outputBounds=grid.bounds,
        width=cols,
        height=rows,
        dstSRS=reference.GetProjection(),
        resampleAlg="bilinear",
    ).ReadAsArray()
    # Equal on GDAL 3.6 and 3.10; the whole-VRT path of GDAL 3.10 differed by 2.1e-3 here.
    np.testing.assert_array_equal(whole, warped)
    aligned.close()


def test_a_whole_grid_read_with_a_halo_pads_with_nan(tmp_path):
    source, target, rows, cols = _inputs(tmp_path)
    aligned = AlignedRaster(source, Grid.of(gdal.Open(target)), parameter="INPUT")
    padded = aligned.read(Window(0, 0, cols, rows), halo=2)
    assert padded.shape == (1, rows + 4, cols + 4)
    border = np.ones(padded.shape[1:], dtype=bool)
    border[2:-2, 2:-2] = False
    assert np.isnan(padded[0][border]).all()
    inner = np.vstack([aligned.read(Window(0, r, cols, 1))[0] for r in range(rows)])
    np.testing.assert_array_equal(padded[0, 2:-2, 2:-2], inner)
    aligned.close()

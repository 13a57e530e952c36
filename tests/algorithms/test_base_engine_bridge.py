"""The algorithm base class's bridge to the engine: what "not given" means (decided once for
every algorithm) and the engine helpers that pass the run's memory budget."""

import numpy as np
import pytest
from qgis.core import NULL
from rasters import read_raster, write_raster

from mine_eco_plugin.algorithms.base import is_null, is_unset
from mine_eco_plugin.algorithms.spectral_indices import VegetationCover
from mine_eco_plugin.engine import RasterSource, RasterTarget


@pytest.mark.parametrize("value", [None, NULL, "", "  ", "NULL"])
def test_what_is_not_given(value):
    assert is_unset(value)


@pytest.mark.parametrize("value", [0, 0.0, "0", False, "a", [1]])
def test_what_is_given(value):
    assert not is_unset(value)


def test_a_blank_table_cell_is_a_cell_not_a_null():
    # An unset optional matrix arrives as [NULL]; a blank cell of a typed table is kept (and
    # reported as a bad value by the table reader), so only None and NULL are dropped there.
    assert is_null(None) and is_null(NULL)
    assert not is_null("") and not is_null(0)


@pytest.mark.parametrize("unset", ["", NULL, None])
def test_an_optional_number_left_empty_is_not_given(run, tmp_path, unset):
    """FVC with SOIL_VALUE and VEG_VALUE empty takes both from the percentiles, as when the
    parameters are left out."""
    ndvi = np.linspace(-0.1, 0.9, 100, dtype=np.float32).reshape(10, 10)
    path = write_raster(tmp_path / "ndvi.tif", ndvi)
    left_out = run("fvc", {"INPUT": path, "OUTPUT": str(tmp_path / "a.tif")})
    empty = run(
        "fvc",
        {"INPUT": path, "SOIL_VALUE": unset, "VEG_VALUE": unset, "OUTPUT": str(tmp_path / "b.tif")},
    )
    # 5th and 95th percentiles of 100 evenly spaced values from −0.1 to 0.9 (step 1/99):
    # −0.1 + 4.95/99 = −0.05 and −0.1 + 94.05/99 = 0.85 (numpy's linear rule).
    assert empty["SOIL_VALUE"] == pytest.approx(-0.05, abs=1e-6)
    assert empty["VEG_VALUE"] == pytest.approx(0.85, abs=1e-6)
    assert (empty["SOIL_VALUE"], empty["VEG_VALUE"]) == (
        left_out["SOIL_VALUE"],
        left_out["VEG_VALUE"],
    )
    np.testing.assert_array_equal(
        read_raster(empty["OUTPUT"])[0], read_raster(left_out["OUTPUT"])[0]
    )


def test_a_given_optional_number_is_used(run, tmp_path):
    ndvi = np.array([[0.1, 0.5, 0.9]], dtype=np.float32)
    path = write_raster(tmp_path / "ndvi.tif", ndvi)
    result = run(
        "fvc",
        {"INPUT": path, "SOIL_VALUE": 0.1, "VEG_VALUE": "0.9", "OUTPUT": str(tmp_path / "f.tif")},
    )
    # FVC = (NDVI − 0.1)/(0.9 − 0.1): 0, 0.5, 1.
    np.testing.assert_allclose(read_raster(result["OUTPUT"])[0][0][0], [0.0, 0.5, 1.0], atol=1e-6)


@pytest.mark.parametrize(("memory_mb", "blocks"), [("256", 1), ("1", 6)])
def test_the_engine_helpers_use_the_run_budget(provider, tmp_path, monkeypatch, memory_mb, blocks):
    """MINE_ECO_MEMORY_MB reaches the engine through the base class's run_blocks and scan."""
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", memory_mb)
    path = write_raster(tmp_path / "in.tif", np.ones((600, 500), np.float32))
    algorithm = VegetationCover()
    seen = []

    def visit(window, block):
        seen.append(window)

    algorithm.scan(visit, [RasterSource(path)])
    # 1 MB: the 3.6 MB of the whole grid (600 × 500 pixels × 12 bytes: one float32 band,
    # work factor 3) do not fit in 0.75 MB, and a block may hold 1 MB · 0.75 / 3 = 262,144
    # bytes = 21,845 pixels, less than the smallest block (one 256 × 256 tile): 256 × 256
    # blocks, 3 rows × 2 columns = 6. The run_blocks pass below (32 bytes a pixel) likewise.
    # 256 MB: the whole grid is one block.
    assert len(seen) == blocks
    written = []
    out = tmp_path / "out.tif"

    def kernel(block):
        written.append(block.shape)
        return block[0] * 2

    algorithm.run_blocks(kernel, [RasterSource(path)], [RasterTarget(str(out))])
    assert len(written) == blocks
    assert np.all(read_raster(out)[0] == 2)

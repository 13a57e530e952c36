"""The estarfm Processing algorithm: parameters, alignment, NoData, errors, cancellation."""

from __future__ import annotations

import bad_input
import declared
import numpy as np
import pytest
from feedback import Recorder
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingException
from rasters import leftovers, patchy_scene, read_raster, write_raster

from mine_eco_plugin.core import estarfm

NAMES = ("FINE1", "COARSE1", "FINE2", "COARSE2", "COARSE_PRED")


def scene(bands=3, rows=24, cols=28, seed=0):
    """Five images like tests/core's random scenes: classes, values k/1024, 0–1."""
    images = patchy_scene(np.random.default_rng(seed), bands, rows, cols)
    return [(a / 1024).astype(np.float32) for a in images]


def write_scene(folder, images, nodata=-9999.0):
    return {
        name: write_raster(folder / f"{name.lower()}.tif", image, nodata=nodata)
        for name, image in zip(NAMES, images, strict=True)
    }


def test_output_equals_the_core_kernel_with_nodata(run, tmp_path):
    images = scene()
    images[0][1, 5, 6] = -9999.0  # NoData in one band of FINE1
    images[4][:, 12, 20] = -9999.0
    paths = write_scene(tmp_path, images)
    out = tmp_path / "pred.tif"
    feedback = Recorder()
    run(
        "estarfm",
        {
            **paths,
            "WINDOW": 4,
            "VALID_MIN": 0.0,
            "VALID_MAX": 1.2,
            "MIN_CHANGE": 0.01,
            "OUTPUT": str(out),
        },
        feedback,
    )
    expected_inputs = [np.where(a == -9999.0, np.nan, a) for a in images]
    settings = estarfm.FusionSettings(half_window=4, valid_min=0.0, valid_max=1.2, min_change=0.012)
    expected = estarfm.fuse(*expected_inputs, settings)
    result, dataset = read_raster(out)
    np.testing.assert_allclose(result, expected, atol=1e-6, equal_nan=True)
    assert np.isnan(result[:, 5, 6]).all() and np.isnan(result[:, 12, 20]).all()
    assert np.isfinite(result).sum() == result.size - 2 * 3
    assert dataset.RasterCount == 3
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_Float32
    tags = dataset.GetMetadata()
    assert tags["MINEECO_ALGORITHM"] == "estarfm" and tags["ESTARFM_SIGMA"] == "whole image"
    assert tags["ESTARFM_HALF_WINDOW"] == "4" and "ESTARFM_THRESHOLDS_FINE1" in tags
    assert any("regression tried" in text for text in feedback.infos)


def test_coarse_images_on_their_own_grid_are_resampled(run, tmp_path):
    # Coarse images of 120 m pixels (4×4 fine pixels averaged) on the same origin: with
    # nearest resampling each fine pixel takes its coarse pixel's value.
    images = scene(bands=2, rows=24, cols=28, seed=3)
    coarse = {}
    for index in (1, 3, 4):
        blocks = images[index].reshape(2, 6, 4, 7, 4).mean(axis=(2, 4)).astype(np.float32)
        coarse[index] = blocks
        images[index] = np.kron(blocks, np.ones((1, 4, 4), np.float32))
    paths = write_scene(tmp_path, images)
    for index in (1, 3, 4):
        paths[NAMES[index]] = write_raster(
            tmp_path / f"coarse{index}.tif", coarse[index], pixel=120.0
        )
    out = tmp_path / "pred.tif"
    run(
        "estarfm",
        {
            **paths,
            "WINDOW": 5,
            "VALID_MIN": 0.0,
            "VALID_MAX": 1.0,
            "COARSE_RESAMPLING": 1,
            "OUTPUT": str(out),
        },
    )
    settings = estarfm.FusionSettings(half_window=5, valid_min=0.0, valid_max=1.0, min_change=0.02)
    expected = estarfm.fuse(*images, settings)
    np.testing.assert_allclose(read_raster(out)[0], expected, atol=1e-6, equal_nan=True)


def test_single_band_ndvi_in_its_own_range(run, tmp_path):
    rng = np.random.default_rng(9)
    base = rng.integers(-200, 900, (1, 20, 20)) / 1024
    images = [base, base * 0.9, base + 0.05, base * 0.95 + 0.05, base * 0.92 + 0.03]
    paths = write_scene(tmp_path, [a.astype(np.float32) for a in images])
    out = tmp_path / "ndvi.tif"
    run("estarfm", {**paths, "WINDOW": 3, "VALID_MIN": -1, "VALID_MAX": 1, "OUTPUT": str(out)})
    result = read_raster(out)[0]
    expected = estarfm.fuse(
        *images, estarfm.FusionSettings(half_window=3, valid_min=-1, valid_max=1, min_change=0.04)
    )
    np.testing.assert_allclose(result, expected, atol=1e-6)
    assert (result < 0).any()  # negative NDVI is valid data here


def test_sigma_of_each_block_equals_the_whole_image_for_one_block(run, tmp_path):
    paths = write_scene(tmp_path, scene(seed=4))
    common = {**paths, "WINDOW": 3, "VALID_MIN": 0.0, "VALID_MAX": 1.2}
    run("estarfm", {**common, "OUTPUT": str(tmp_path / "whole.tif")})
    run("estarfm", {**common, "SIGMA": 1, "OUTPUT": str(tmp_path / "block.tif")})
    whole, block = read_raster(tmp_path / "whole.tif"), read_raster(tmp_path / "block.tif")
    np.testing.assert_array_equal(whole[0], block[0])
    assert block[1].GetMetadata()["ESTARFM_SIGMA"] == "per block"


def test_band_counts_must_agree(run, tmp_path):
    images = scene()
    paths = write_scene(tmp_path, images)
    paths["FINE2"] = write_raster(tmp_path / "two.tif", images[2][:2])
    with pytest.raises(QgsProcessingException, match="FINE2: has 2 band"):
        run("estarfm", {**paths, "VALID_MAX": 1.2, "OUTPUT": str(tmp_path / "x.tif")})


def test_valid_range_errors_and_warnings(run, tmp_path):
    paths = write_scene(tmp_path, scene())
    out = str(tmp_path / "x.tif")
    with pytest.raises(QgsProcessingException, match="VALID_MAX"):
        run("estarfm", {**paths, "VALID_MIN": 1, "VALID_MAX": 1, "OUTPUT": out})
    with pytest.raises(QgsProcessingException, match="FINE1: band 1 has 0 value"):
        run("estarfm", {**paths, "VALID_MIN": 5, "VALID_MAX": 10, "OUTPUT": out})
    # Reflectance 0–1 with the authors' DN range (0, 10 000): it runs, with a warning.
    feedback = Recorder()
    run("estarfm", {**paths, "WINDOW": 2, "OUTPUT": out}, feedback)
    assert any("far below VALID_MAX" in text for text in feedback.warnings)


def test_cancelled_run_leaves_nothing(run, tmp_path, cancel_after):
    paths = write_scene(tmp_path, scene(rows=60, cols=60))
    out = tmp_path / "cancelled.tif"
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(
            "estarfm",
            {**paths, "WINDOW": 3, "VALID_MAX": 1.2, "THREADS": 1, "OUTPUT": str(out)},
            cancel_after(2),
        )
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_help_and_group(provider):
    algorithm = QgsApplication.processingRegistry().algorithmById("mineeco:estarfm")
    assert algorithm.group() == "Productivity"
    text = algorithm.shortHelpString()
    for needle in ("Eq. 13", "Eq. 18", "F-distribution CDF", "VALID_MIN", "NoData", "Zhu"):
        assert needle in text
    assert algorithm.parameterDefinition("WINDOW").defaultValue() == 25
    assert algorithm.parameterDefinition("CLASSES").defaultValue() == 4


def test_blocks_with_halos_equal_one_whole_image(run, tmp_path, monkeypatch):
    # The smallest memory budget splits 300×300 pixels into 256×256 tiles: windows reach across
    # tile edges through the halo, so the result equals the whole image at once.
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")
    images = scene(bands=1, rows=300, cols=300, seed=8)
    paths = write_scene(tmp_path, images)
    out = tmp_path / "tiled.tif"
    blocks = []
    fuse_block = estarfm.fuse_block

    def counted(*arrays, **options):
        blocks.append(arrays[0].shape)
        return fuse_block(*arrays, **options)

    monkeypatch.setattr(estarfm, "fuse_block", counted)
    run("estarfm", {**paths, "WINDOW": 5, "VALID_MAX": 1.2, "OUTPUT": str(out)})
    assert len(blocks) == 4 and blocks[0] == (1, 266, 266)  # 256 + 2·5 halo
    settings = estarfm.FusionSettings(half_window=5, valid_min=0, valid_max=1.2, min_change=0.024)
    np.testing.assert_allclose(read_raster(out)[0], estarfm.fuse(*images, settings), atol=1e-6)


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("estarfm", lambda d: bad_input.estarfm(d))
INPUTS.desktop("estarfm", lambda s: dict(s.estarfm))
INPUTS.case(
    "estarfm", "band-counts", lambda d: bad_input.estarfm(d, FINE2=d.field(0.1, 0.5)), "FINE2"
)
INPUTS.case("estarfm", "zero-window", lambda d: bad_input.estarfm(d, WINDOW=0), "WINDOW")
INPUTS.case(
    "estarfm",
    "empty-range",
    lambda d: bad_input.estarfm(d, VALID_MIN=1, VALID_MAX=1),
    ("VALID_MIN", "VALID_MAX"),
)
INPUTS.case(
    "estarfm",
    "far-coarse",
    lambda d: bad_input.estarfm(d, COARSE1=d.field(bands=2, origin=bad_input.FAR)),
    "COARSE1",
)
INPUTS.case(
    "estarfm", "no-crs", lambda d: bad_input.estarfm(d, FINE1=d.field(bands=2, epsg=None)), "FINE1"
)
INPUTS.case(
    "estarfm",
    "all-nodata-prediction",
    lambda d: bad_input.estarfm(d, COARSE_PRED=d.nodata(bands=2)),
    "COARSE_PRED",
    bad_input.all_nodata(),
)

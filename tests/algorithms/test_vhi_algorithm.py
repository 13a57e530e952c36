"""vhi through processing.run: several dates, one date (scene-wide), alignment, errors."""

import bad_input
import declared
import numpy as np
import pytest
from feedback import Recorder
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

NAN = np.nan


def layers(tmp_path, name, dates, **options):
    return [
        write_raster(tmp_path / f"{name}{i}.tif", np.array(values, dtype=np.float32), **options)
        for i, values in enumerate(dates)
    ]


def test_three_dates_per_pixel_extremes(run, tmp_path):
    ndvi = layers(
        tmp_path,
        "ndvi",
        [[[0.2, 0.5, 0.3]], [[0.6, 0.5, -2]], [[0.5, 0.5, 0.1]]],
        nodata=-2,
    )
    lst = layers(tmp_path, "lst", [[[300, 310, 305]], [[290, 300, 305]], [[296, 305, 303]]])
    out = {n: str(tmp_path / f"{n}.tif") for n in ("OUTPUT_VCI", "OUTPUT_TCI", "OUTPUT_VHI")}
    results = run("vhi", {"NDVI": ndvi, "LST": lst, **out})
    assert results["EXTREMES_USED"] == "pixel"
    index, dataset = read_raster(out["OUTPUT_VHI"])
    assert dataset.RasterCount == 3
    # Pixel 0: VCI 0, 1, 0.75; TCI 0, 1, 0.4; VHI 0, 1, 0.575 (see tests/core/test_vhi_kernel).
    np.testing.assert_allclose(index[:, 0, 0], [0, 1, 0.575], atol=1e-6)
    # Pixel 1: constant NDVI → NoData VCI and VHI; TCI 0, 1, 0.5.
    assert np.isnan(index[:, 0, 1]).all()
    np.testing.assert_allclose(read_raster(out["OUTPUT_TCI"])[0][:, 0, 1], [0, 1, 0.5])
    # Pixel 2: NoData NDVI on date 2: VHI 0.5, NoData, 0.5.
    np.testing.assert_allclose(index[:, 0, 2], [0.5, NAN, 0.5], atol=1e-6)
    assert dataset.GetMetadataItem("ALPHA") == "0.5"
    assert dataset.GetRasterBand(2).GetDescription() == "VHI date 2"


def test_one_date_uses_scene_extremes_and_says_so(run, tmp_path):
    ndvi = layers(tmp_path, "n", [[[0.2, 0.6, 0.4]]])
    lst = layers(tmp_path, "t", [[[300, 290, 295]]])
    out = {n: str(tmp_path / f"{n}.tif") for n in ("OUTPUT_VCI", "OUTPUT_TCI", "OUTPUT_VHI")}
    feedback = Recorder()
    results = run("vhi", {"NDVI": ndvi, "LST": lst, "SCALE": 1, **out}, feedback=feedback)
    assert results["EXTREMES_USED"] == "scene"
    assert (results["NDVI_MIN"], results["T_MAX"]) == pytest.approx((0.2, 300.0))
    assert any("scene-wide extremes" in line for line in feedback.infos)
    # VCI = (NDVI − 0.2)/0.4, TCI = (300 − T)/10, VHI mean of both, ×100: 0, 100, 50.
    np.testing.assert_allclose(read_raster(out["OUTPUT_VHI"])[0][0, 0], [0, 100, 50], atol=1e-4)
    with pytest.raises(QgsProcessingException, match="EXTREMES: per-pixel extremes need"):
        run("vhi", {"NDVI": ndvi, "LST": lst, "EXTREMES": 1, **out})


def test_temperature_on_a_coarser_grid_is_aligned(run, tmp_path):
    # NDVI on a 4 × 4 grid of 30 m; LST on 2 × 2 pixels of 60 m over the same area, each
    # constant: bilinear resampling of a constant field gives the constant back inside.
    ndvi = layers(tmp_path, "n", [np.full((4, 4), 0.3), np.full((4, 4), 0.5)])
    lst = layers(tmp_path, "t", [np.full((2, 2), 300.0), np.full((2, 2), 290.0)], pixel=60.0)
    out = {n: str(tmp_path / f"{n}.tif") for n in ("OUTPUT_VCI", "OUTPUT_TCI", "OUTPUT_VHI")}
    run("vhi", {"NDVI": ndvi, "LST": lst, **out})
    tci, dataset = read_raster(out["OUTPUT_TCI"])
    assert (dataset.RasterXSize, dataset.RasterYSize) == (4, 4)
    np.testing.assert_allclose(tci[:, 1:3, 1:3], np.stack([np.zeros((2, 2)), np.ones((2, 2))]))


def test_layer_counts_must_match(run, tmp_path):
    ndvi = layers(tmp_path, "n", [[[0.2]], [[0.4]]])
    lst = layers(tmp_path, "t", [[[300.0]]])
    with pytest.raises(QgsProcessingException, match="LST: 1 layer"):
        run(
            "vhi",
            {
                "NDVI": ndvi,
                "LST": lst,
                **{
                    n: str(tmp_path / f"{n}.tif")
                    for n in ("OUTPUT_VCI", "OUTPUT_TCI", "OUTPUT_VHI")
                },
            },
        )


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("vhi", lambda d: bad_input.vhi(d))
INPUTS.desktop("vhi", lambda s: {"NDVI": s.series[:3], "LST": list(s.lst_series)})
INPUTS.case(
    "vhi", "layer-counts", lambda d: bad_input.vhi(d, LST=[d.field(280, 310)]), ("LST", "NDVI")
)
INPUTS.case(
    "vhi",
    "ndvi-x10000",
    lambda d: bad_input.vhi(d, NDVI=[d.field(-1000, 8000, seed=s) for s in range(3)]),
    "NDVI",
    bad_input.within(0, 1, "OUTPUT_VHI"),
)
INPUTS.case(
    "vhi",
    "constant-one-date",
    lambda d: bad_input.vhi(d, NDVI=[d.constant(0.3)], LST=[d.field(280, 300)]),
    "NDVI",
)
INPUTS.case(
    "vhi",
    "far-lst",
    lambda d: bad_input.vhi(d, LST=[d.field(280, 310, origin=bad_input.FAR) for _ in range(3)]),
    "LST",
)
INPUTS.case("vhi", "range", lambda d: bad_input.vhi(d), check=bad_input.within(0, 1, "OUTPUT_VHI"))

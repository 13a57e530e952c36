"""Messages that say what is wrong: ±Inf, which the engine reads as NoData, is reported as such
(not only as 'no valid pixels'), and an algorithm without a class table does not blame one."""

import numpy as np
import pytest
from feedback import Recorder
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster


def test_all_infinite_input_is_said_to_be_infinite(run, tmp_path):
    inf = write_raster(tmp_path / "inf.tif", np.full((6, 6), np.inf, np.float32))
    feedback = Recorder()
    with pytest.raises(QgsProcessingException, match=r"INPUT: no valid pixels"):
        run("normalize", {"INPUT": inf, "OUTPUT": str(tmp_path / "o.tif")}, feedback=feedback)
    # The warning before the error says why: all 36 values were ±Inf, read as NoData.
    assert any("INPUT: 36 values of ±Inf" in w for w in feedback.warnings), feedback.warnings
    assert not (tmp_path / "o.tif").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, r"INPUT: land-cover value\(s\) 1\.5 are not whole-number class codes$"),
    ],
)
def test_landscape_metrics_without_a_table_does_not_blame_one(run, tmp_path, value, message):
    cover = np.ones((6, 6), np.float32)
    cover[2, 3] = value
    path = write_raster(tmp_path / "lc.tif", cover)
    with pytest.raises(QgsProcessingException, match=message):
        run(
            "landscape_metrics",
            {
                "INPUT": path,
                "WINDOW": 3,
                "OUTPUT_SHDI": str(tmp_path / "s.tif"),
                "OUTPUT_FN": str(tmp_path / "f.tif"),
            },
        )


def test_an_infinite_land_cover_pixel_is_nodata_with_a_warning(run, tmp_path):
    # ±Inf reads as NoData everywhere (the engine's rule): the pixel is left out, not an error.
    cover = np.ones((6, 6), np.float32)
    cover[2, 3] = np.inf
    path = write_raster(tmp_path / "lc.tif", cover)
    feedback = Recorder()
    run(
        "landscape_metrics",
        {"INPUT": path, "WINDOW": 1, "OUTPUT_SHDI": str(tmp_path / "s.tif")},
        feedback=feedback,
    )
    shdi = read_raster(tmp_path / "s.tif")[0][0]
    assert np.isnan(shdi[2, 3]) and np.isfinite(shdi[0, 0])
    assert any("1 value of ±Inf" in w for w in feedback.warnings), feedback.warnings


def test_estarfm_reports_infinite_input_values(run, tmp_path):
    # ESTARFM runs its own progress: the ±Inf warning still reaches the log.
    rng = np.random.default_rng(0)
    fine = rng.uniform(0.1, 0.5, (12, 12)).astype(np.float32)
    paths = {}
    for name, values in (
        ("FINE1", fine),
        ("COARSE1", fine * 0.95 + 0.01),
        ("FINE2", fine * 1.1),
        ("COARSE2", fine * 1.05 + 0.01),
        ("COARSE_PRED", fine * 1.02 + 0.01),
    ):
        values = values.copy()
        if name == "COARSE_PRED":
            values[3, 4] = np.inf
        paths[name] = write_raster(tmp_path / f"{name}.tif", values)
    feedback = Recorder()
    run(
        "estarfm",
        {**paths, "WINDOW": 3, "VALID_MIN": 0, "VALID_MAX": 1, "OUTPUT": str(tmp_path / "o.tif")},
        feedback=feedback,
    )
    assert any("COARSE_PRED: 1 value of ±Inf" in w for w in feedback.warnings), feedback.warnings
    assert np.isnan(read_raster(tmp_path / "o.tif")[0][0][3, 4])

"""Error messages that say what is wrong: non-finite values are not 'no valid pixels', and an
algorithm without a class table does not blame one."""

import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import write_raster


def test_all_infinite_input_is_said_to_be_non_finite(run, tmp_path):
    inf = write_raster(tmp_path / "inf.tif", np.full((6, 6), np.inf, np.float32))
    with pytest.raises(QgsProcessingException, match=r"not finite \(minimum inf, maximum inf\)"):
        run("normalize", {"INPUT": inf, "OUTPUT": str(tmp_path / "o.tif")})
    assert not (tmp_path / "o.tif").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.inf, r"INPUT: land-cover value\(s\) inf are not finite \(mask them as NoData\)$"),
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

"""estarfm through qgis_process, as users run it headless: help, and a crop of the Zhu scene."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, osr

IMAGES = ("tm0524", "modis0524", "tm0812", "modis0812", "modis0711")
PARAMETERS = ("FINE1", "COARSE1", "FINE2", "COARSE2", "COARSE_PRED")


def test_help_states_method_defaults_and_nodata(qgis_process):
    text = qgis_process.call("help", "mineeco:estarfm").stdout
    for needle in ("Zhu", "Eq. 12", "WINDOW", "CLASSES", "VALID_MIN", "NoData", "F-distribution"):
        assert needle in text


@pytest.mark.data
def test_crop_of_the_zhu_scene(qgis_process, sample_data, tmp_path):
    folder = sample_data("zhu2010")
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32613)  # stand-in: the ENVI files have no map information
    paths = {}
    for parameter, name in zip(PARAMETERS, IMAGES, strict=True):
        paths[parameter] = str(tmp_path / f"{name}.tif")
        gdal.Translate(
            paths[parameter],
            str(folder / name),
            srcWin=[100, 150, 120, 90],
            outputSRS=srs.ExportToWkt(),
            outputBounds=[500000, 6002700, 503600, 6000000],
        )
    out = tmp_path / "pred.tif"
    result = qgis_process.run("estarfm", **paths, WINDOW=10, OUTPUT=str(out))
    assert result["results"]["OUTPUT"] == str(out)
    predicted = gdal.Open(str(out)).ReadAsArray().astype(np.float64)
    real = gdal.Open(str(folder / "tm0711")).ReadAsArray()[:, 150:240, 100:220].astype(np.float64)
    may = gdal.Open(paths["FINE1"]).ReadAsArray().astype(np.float64)
    assert predicted.shape == (3, 90, 120)
    # The fusion is closer to the real July 11 image than May 24 is, in red and NIR.
    fusion = np.abs(predicted - real).mean(axis=(1, 2))
    baseline = np.abs(may - real).mean(axis=(1, 2))
    assert (fusion[1:] < 0.6 * baseline[1:]).all()

"""qgis_process leaves the folder of the inputs as it was: no GDAL ``.aux.xml`` side file (the
statistics QGIS computes for every raster layer it loads) appears beside them. qgis_process
3.22 does not check the parameters before the run: the algorithm loads the layers itself
(tests/algorithms/test_inputs_untouched.py covers processing.run and the dialog's path)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from rasters import read_raster, write_raster


def listing(folder):
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
    }


def test_command_line_runs_write_nothing_beside_their_inputs(qgis_process, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    rng = np.random.default_rng(4)
    # A six-band reflectance stack (blue … SWIR2) and three single-band indicators.
    base = np.array([0.04, 0.07, 0.06, 0.35, 0.2, 0.1])[:, None, None]
    stack = write_raster(folder / "stack.tif", base * rng.uniform(0.6, 1.4, (6, 9, 11)))
    layers = [write_raster(folder / f"i{k}.tif", rng.uniform(0, 1, (9, 11))) for k in range(3)]
    before = listing(folder)
    qgis_process.run("albedo", INPUT=stack, OUTPUT=str(out / "albedo.tif"))
    qgis_process.run("ndvi", INPUT=stack, OUTPUT=str(out / "ndvi.tif"))
    qgis_process.run(
        "composite_index",
        INPUTS=layers,
        TRENDS="+,-,+",
        WEIGHTS="0.5,0.3,0.2",
        OUTPUT=str(out / "composite.tif"),
    )
    assert listing(folder) == before
    assert not list(folder.glob("*.aux.xml"))
    # The runs did their work: NDVI of the first pixel, (NIR − red)/(NIR + red) of the stack.
    values = read_raster(stack)[0][:, 0, 0]
    ndvi = read_raster(out / "ndvi.tif")[0][0, 0, 0]
    assert ndvi == pytest.approx((values[3] - values[2]) / (values[3] + values[2]), rel=1e-6)
    assert (out / "albedo.tif").is_file() and (out / "composite.tif").is_file()

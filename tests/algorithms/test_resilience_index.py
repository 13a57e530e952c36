"""resilience_index: named Table 2 slots, omissions renormalised, wetness from a tasseled cap."""

import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

# Table 2 (seed 000): FVC C3 (+) combined 0.1554; LST C9 (−) 0.0473; DDI C1 (−) 0.1185;
# wetness C7 (+) 0.0629.
WEIGHTS = {"FVC": 0.1554, "LST": 0.0473, "DDI": 0.1185, "WETNESS": 0.0629}


@pytest.fixture
def layers(tmp_path):
    rng = np.random.default_rng(5)
    made = {}
    for name in ("FVC", "LST", "DDI"):
        made[name] = write_raster(tmp_path / f"{name}.tif", rng.random((8, 9)).astype(np.float32))
    tc = rng.random((3, 8, 9)).astype(np.float32)
    made["WETNESS"] = write_raster(tmp_path / "tc.tif", tc)
    return made


def test_given_slots_use_renormalised_table2_weights(run, layers, tmp_path):
    out = tmp_path / "p.tif"
    results = run(
        "resilience_index", {**layers, "OUTPUT": str(out), "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT"}
    )
    assert "C5 Population density" in results["OMITTED"] and "C17" in results["OMITTED"]
    assert "C3" not in results["OMITTED"]
    # By hand: normalise each layer by its own min/max (over pixels valid in all), flip the
    # negative ones, weight with Table 2's combined weights divided by their sum 0.3841.
    data = {name: read_raster(path)[0] for name, path in layers.items()}
    data["WETNESS"] = data["WETNESS"][2:3]
    total = sum(WEIGHTS.values())
    expected = np.zeros((8, 9))
    for name, weight in WEIGHTS.items():
        x = data[name][0]
        t = (x - x.min()) / (x.max() - x.min())
        if name in ("LST", "DDI"):
            t = 1 - t
        expected += weight / total * t
    np.testing.assert_allclose(read_raster(out)[0][0], expected, atol=2e-6)


def test_one_indicator_is_not_enough(run, layers, tmp_path):
    with pytest.raises(QgsProcessingException, match="at least two indicators"):
        run(
            "resilience_index",
            {
                "FVC": layers["FVC"],
                "OUTPUT": str(tmp_path / "p.tif"),
                "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT",
            },
        )

"""Determinism: every algorithm with a SEED gives the same output for the same seed (and another
for another seed where the seed matters); results do not depend on the block size."""

from __future__ import annotations

import numpy as np
import pytest
from bad_input import default_outputs
from osgeo import gdal
from qgis.core import QgsVectorLayer
from rasters import read_raster, write_raster

T = "TEMPORARY_OUTPUT"
ROWS, COLS = 60, 70


def field(tmp_path, name, seed, low=0.0, high=1.0):
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, (ROWS, COLS)).astype(np.float32)
    return write_raster(tmp_path / f"{name}.tif", values)


def table(result):
    layer = result if not isinstance(result, str) else QgsVectorLayer(result, "t", "ogr")
    return [tuple(f.attributes()) for f in layer.getFeatures()]


def raster(path):
    return read_raster(path)[0]


def seeded_inputs(tmp_path):
    drivers = [field(tmp_path, f"d{i}", i) for i in range(3)]
    target_values = sum(
        read_raster(d)[0][0] * w for d, w in zip(drivers, (2, -1, 0.5), strict=True)
    )
    target = write_raster(tmp_path / "target.tif", target_values.astype(np.float32))
    return drivers, target


# algorithm → (parameters, outputs compared): each run gets fresh temporary outputs.
def cases(tmp_path):
    drivers, target = seeded_inputs(tmp_path)
    return {
        "classify_index": (
            {
                "INPUT": target,
                "METHOD": 1,
                "CLASSES": 4,
                "LABELS": "",
                "SAMPLE_SIZE": 200,
                "OUTPUT": T,
            },
            {"OUTPUT": raster, "BREAKS": str},
        ),
        "pearson_correlation": (
            {"TARGET": target, "DRIVERS": drivers, "POINTS": 100, "OUTPUT": T, "OUTPUT_SAMPLES": T},
            {"OUTPUT": table, "OUTPUT_SAMPLES": table},
        ),
        "rf_driver_contribution": (
            {
                "TARGET": target,
                "DRIVERS": drivers,
                "CATEGORIES": "climate,soil,mining",
                "POINTS": 150,
                "TREES": 15,
                "THREADS": 2,
                **default_outputs("rf_driver_contribution"),
            },
            {"OUTPUT_RELATIVE": raster, "OUTPUT_DOMINANT": raster, "OUTPUT_IMPORTANCE": table},
        ),
        "weight_sensitivity": (
            {
                "INPUTS": drivers,
                "TRENDS": "+,-,+",
                "WEIGHTS": "0.5,0.3,0.2",
                "DRAWS": 30,
                "CONCENTRATION": 20,
                **default_outputs("weight_sensitivity"),
            },
            {"OUTPUT_LOW": raster, "OUTPUT_HIGH": raster, "OUTPUT_STABILITY": raster},
        ),
    }


#: Seeded algorithms not run here, with the reason.
NOT_RUN = {
    "npp_drivers": "a model: its SEED goes to pearson_correlation and rf_driver_contribution, "
    "both tested here; the whole model runs on sample data in test_models.py",
    "resilience_evaluation": "a model: its SEED goes to weight_sensitivity (its optional step), "
    "tested here; the model with that step on runs in test_models.py",
}


def test_every_seeded_algorithm_is_covered(provider, tmp_path):
    seeded = {a.name() for a in provider.algorithms() if a.parameterDefinition("SEED") is not None}
    covered = set(cases(tmp_path)) | set(NOT_RUN)
    assert seeded <= covered, f"seeded algorithms without a determinism test: {seeded - covered}"


def outputs_of(results, compared):
    return {name: read(results[name]) for name, read in compared.items()}


def same(a, b):
    for name in a:
        if isinstance(a[name], np.ndarray):
            if not np.array_equal(a[name], b[name], equal_nan=True):
                return False
        elif a[name] != b[name]:
            return False
    return True


@pytest.mark.parametrize(
    "algorithm",
    ["classify_index", "pearson_correlation", "rf_driver_contribution", "weight_sensitivity"],
)
def test_same_seed_same_output_other_seed_other_output(run, tmp_path, algorithm):
    if algorithm == "rf_driver_contribution":
        pytest.importorskip("sklearn")
    parameters, compared = cases(tmp_path)[algorithm]
    first = outputs_of(run(algorithm, {**parameters, "SEED": 7}), compared)
    again = outputs_of(run(algorithm, {**parameters, "SEED": 7}), compared)
    other = outputs_of(run(algorithm, {**parameters, "SEED": 8}), compared)
    assert same(first, again), f"{algorithm}: the same seed gave different outputs"
    assert not same(first, other), f"{algorithm}: another seed gave identical outputs"


# --- block size --------------------------------------------------------------------------------

SIZE = 400


def big(tmp_path, name, seed, low=0.0, high=1.0, bands=None):
    rng = np.random.default_rng(seed)
    shape = (SIZE, SIZE) if bands is None else (bands, SIZE, SIZE)
    values = rng.uniform(low, high, shape).astype(np.float32)
    values.reshape(-1)[::97] = -9999  # scattered NoData
    return write_raster(tmp_path / f"{name}.tif", values, nodata=-9999)


def classes(tmp_path):
    rng = np.random.default_rng(3)
    codes = rng.integers(1, 5, (SIZE, SIZE)).astype(np.float32)
    codes[50:60, :] = 0
    return write_raster(tmp_path / "cover.tif", codes, nodata=0)


BLOCK_CASES = {
    # per pixel
    "ndvi": lambda t: ({"INPUT": big(t, "stack", 1, 0.01, 0.5, bands=6)}, ["OUTPUT"]),
    # two passes (percentiles, then the index)
    "fvc": lambda t: ({"INPUT": big(t, "ndvi", 2, -0.2, 0.9)}, ["OUTPUT"]),
    # moving windows with a halo
    "local_correlation": lambda t: (
        {"INPUT_X": big(t, "x", 3), "INPUT_Y": big(t, "y", 4), "WINDOW": 7, "OUTPUT_P": T},
        ["OUTPUT_R", "OUTPUT_P", "OUTPUT_CLASS"],
    ),
    "landscape_metrics": lambda t: (
        {"INPUT": classes(t), "WINDOW": 9, "OUTPUT_NP": T},
        ["OUTPUT_SHDI", "OUTPUT_FN", "OUTPUT_NP"],
    ),
    # global statistics then per pixel (normalisation of several layers)
    "composite_index": lambda t: (
        {
            "INPUTS": [big(t, f"i{i}", 10 + i) for i in range(3)],
            "TRENDS": "+,-,+",
            "WEIGHT_SOURCE": 2,
        },
        ["OUTPUT"],
    ),  # fmt: skip
}


#: Outputs equal to float32 rounding only (everything else must be bit-identical).
ULP = {("local_correlation", "OUTPUT_P")}


@pytest.mark.parametrize("algorithm", sorted(BLOCK_CASES))
def test_result_does_not_depend_on_block_size(run, tmp_path, monkeypatch, algorithm):
    parameters, names = BLOCK_CASES[algorithm](tmp_path)
    results = {}
    for memory in ("0.5", "2048"):
        monkeypatch.setenv("MINE_ECO_MEMORY_MB", memory)
        outputs = {name: str(tmp_path / f"{name}_{memory}.tif") for name in names}
        run(algorithm, {**parameters, **outputs})
        results[memory] = {name: gdal.Open(path).ReadAsArray() for name, path in outputs.items()}
    for name in names:
        small, large = results["0.5"][name], results["2048"][name]
        assert np.isfinite(small).any()
        if (algorithm, name) in ULP:
            # Box sums start at each block's corner: the p-value may differ in its last bit.
            np.testing.assert_allclose(small, large, rtol=1e-6, err_msg=f"{algorithm} {name}")
        else:
            np.testing.assert_array_equal(small, large, err_msg=f"{algorithm} {name}")

"""Faults injected into runs: cancellation mid-run, an exception inside a block, an output folder
that cannot be written, a run over an existing output. None may leave a half-written output or a
temporary file, and an earlier output survives every failed run."""

from __future__ import annotations

import os

import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import leftovers, read_raster, write_raster

SIZE = 300  # 300 × 300 with a 1 MB budget: four 256-pixel tiles, so several blocks


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")


def field(tmp_path, name, low=0.0, high=1.0, bands=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (SIZE, SIZE) if bands is None else (bands, SIZE, SIZE)
    return write_raster(tmp_path / f"{name}.tif", rng.uniform(low, high, shape).astype(np.float32))


def stack(tmp_path):
    return field(tmp_path, "stack", 0.01, 0.5, bands=6)


def cover(tmp_path):
    rng = np.random.default_rng(4)
    return write_raster(tmp_path / "cover.tif", rng.integers(1, 4, (SIZE, SIZE)).astype("f4"))


# One algorithm per kind of work: per pixel, two passes, moving window, several layers,
# a lookup table, a regional (child) algorithm.
SAMPLE = {
    "ndvi": lambda t: ({"INPUT": stack(t)}, "OUTPUT"),
    "fvc": lambda t: ({"INPUT": field(t, "ndvi", -0.2, 0.9)}, "OUTPUT"),
    "local_correlation": lambda t: (
        {
            "INPUT_X": field(t, "x"),
            "INPUT_Y": field(t, "y", seed=1),
            "WINDOW": 5,
            "OUTPUT_CLASS": "TEMPORARY_OUTPUT",
        },
        "OUTPUT_R",
    ),  # fmt: skip
    "landscape_metrics": lambda t: (
        {"INPUT": cover(t), "WINDOW": 5, "OUTPUT_FN": "TEMPORARY_OUTPUT"},
        "OUTPUT_SHDI",
    ),
    "rusle_r": lambda t: ({"PRECIPITATION": [field(t, "rain", 10, 90, bands=12)]}, "OUTPUT"),
    "rusle_p": lambda t: (
        {"LANDCOVER": cover(t), "TABLE_MATRIX": [1, 0.3, 2, 1, 3, 0.5]},
        "OUTPUT",
    ),
    "composite_index": lambda t: (
        {
            "INPUTS": [field(t, f"i{i}", seed=i) for i in range(3)],
            "TRENDS": "+,-,+",
            "WEIGHTS": "0.5,0.3,0.2",
        },
        "OUTPUT",
    ),  # fmt: skip
    "resilience_index": lambda t: (
        {
            "FVC": field(t, "fvc"),
            "LST": field(t, "lst", 20, 40, seed=2),
            "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT",
        },
        "OUTPUT",
    ),  # fmt: skip
}

EARLIER = b"an earlier result"


def prepare(tmp_path, algorithm):
    parameters, output = SAMPLE[algorithm](tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "result.tif"
    target.write_bytes(EARLIER)
    return {**parameters, output: str(target)}, out_dir, target


def assert_untouched(out_dir, target):
    assert target.read_bytes() == EARLIER
    assert leftovers(out_dir) == []
    assert sorted(p.name for p in out_dir.iterdir()) == ["result.tif"]


@pytest.mark.parametrize("algorithm", sorted(SAMPLE))
def test_cancel_mid_run(run, tmp_path, small_blocks, cancel_after, algorithm):
    parameters, out_dir, target = prepare(tmp_path, algorithm)
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run(algorithm, parameters, feedback=cancel_after(2))
    assert_untouched(out_dir, target)


class Boom(RuntimeError):
    pass


def failing_after(function, calls=1):
    """``function`` that raises Boom from its (calls + 1)-th call on."""
    state = {"calls": 0}

    def wrapped(*args, **kwargs):
        state["calls"] += 1
        if state["calls"] > calls:
            raise Boom("injected fault")
        return function(*args, **kwargs)

    return wrapped


# (algorithm, module, kernel name): the core kernel each sample calls once per block.
KERNELS = [
    ("ndvi", "mine_eco_plugin.core.spectral", "ndvi"),
    ("fvc", "mine_eco_plugin.core.spectral", "vegetation_cover"),
    ("rusle_r", "mine_eco_plugin.core.rusle", "erosivity_wischmeier"),
    ("landscape_metrics", "mine_eco_plugin.core.landscape", "window_metrics"),
]


@pytest.mark.parametrize("algorithm, module, name", KERNELS)
def test_exception_inside_a_block(
    run, tmp_path, small_blocks, monkeypatch, algorithm, module, name
):
    import importlib

    core = importlib.import_module(module)
    monkeypatch.setattr(core, name, failing_after(getattr(core, name)))
    parameters, out_dir, target = prepare(tmp_path, algorithm)
    with pytest.raises(QgsProcessingException):
        run(algorithm, parameters)
    assert_untouched(out_dir, target)


def test_failure_in_a_later_block_keeps_the_earlier_output(run, tmp_path, small_blocks):
    """A stack valid in its first blocks and scaled ×10 000 in its last: the run fails late."""
    rng = np.random.default_rng(0)
    data = rng.uniform(0.01, 0.5, (6, SIZE, SIZE)).astype(np.float32)
    data[:, -10:, -10:] *= 10000
    parameters = {"INPUT": write_raster(tmp_path / "stack.tif", data)}
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "result.tif"
    target.write_bytes(EARLIER)
    with pytest.raises(QgsProcessingException, match="INPUT"):
        run("albedo", {**parameters, "OUTPUT": str(target)})
    assert_untouched(out_dir, target)


@pytest.mark.parametrize("algorithm", ["ndvi", "fvc", "composite_index"])
def test_success_replaces_an_existing_output(run, tmp_path, algorithm):
    parameters, out_dir, target = prepare(tmp_path, algorithm)
    run(algorithm, parameters)
    values, dataset = read_raster(target)
    assert dataset.RasterXSize == SIZE and np.isfinite(values).any()
    assert leftovers(out_dir) == []


def counting(monkeypatch, module, name):
    """Count the calls of a core kernel (work done)."""
    import importlib

    core = importlib.import_module(module)
    original = getattr(core, name)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(core, name, wrapped)
    return calls


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes into a 0o555 folder: the permission cannot be tested"
)
@pytest.mark.parametrize("algorithm", ["ndvi", "fvc"])
def test_read_only_folder_fails_before_any_work(run, tmp_path, monkeypatch, algorithm):
    parameters, out_dir, target = prepare(tmp_path, algorithm)
    calls = counting(monkeypatch, "mine_eco_plugin.engine.blocks", "_iterate")
    out_dir.chmod(0o555)
    try:
        with pytest.raises(QgsProcessingException, match="OUTPUT.*not writable"):
            run(algorithm, parameters)
    finally:
        out_dir.chmod(0o755)
    assert calls["n"] == 0
    assert target.read_bytes() == EARLIER


@pytest.mark.parametrize("algorithm", ["ndvi", "fvc", "local_correlation", "landscape_metrics"])
def test_unwritable_folder_fails_before_any_work(run, tmp_path, monkeypatch, algorithm):
    """The engine's writability check (os.access), made to answer 'not writable' for the output
    folder: works as root too. No block may be read before the error."""
    parameters, out_dir, target = prepare(tmp_path, algorithm)
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if mode & os.W_OK and os.path.realpath(path) == os.path.realpath(out_dir):
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    calls = counting(monkeypatch, "mine_eco_plugin.engine.blocks", "_iterate")
    with pytest.raises(QgsProcessingException, match=r"OUTPUT\w*: .*not writable"):
        run(algorithm, parameters)
    assert calls["n"] == 0, "blocks were read before the unwritable output was noticed"
    assert_untouched(out_dir, target)

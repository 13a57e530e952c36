"""A qgis_process run killed (SIGTERM) or interrupted (SIGINT, Ctrl+C) half-way: it stops within
a block, leaves no hidden staging folder, no output and no side file, and an earlier output at
the path survives."""

from __future__ import annotations

import signal
import subprocess
import time

import numpy as np
import pytest
from qgis_runner import QGIS_PROCESS
from rasters import write_raster

EARLIER = b"an earlier correlation raster"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two 2000×2000 rasters: with a 4 MB budget, local_correlation takes several seconds."""
    folder = tmp_path_factory.mktemp("pair")
    rng = np.random.default_rng(0)
    x = write_raster(folder / "x.tif", rng.uniform(0, 1, (2000, 2000)).astype(np.float32))
    y = write_raster(folder / "y.tif", rng.uniform(0, 1, (2000, 2000)).astype(np.float32))
    return x, y


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_run_leaves_nothing(qgis_process, pair, tmp_path, number):
    x, y = pair
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.tif").write_bytes(EARLIER)
    args = [
        QGIS_PROCESS, "run", "mineeco:local_correlation", "--",
        f"INPUT_X={x}", f"INPUT_Y={y}", "WINDOW=31",
        f"OUTPUT_R={out / 'r.tif'}", f"OUTPUT_CLASS={out / 'c.tif'}",
    ]  # fmt: skip
    env = {**qgis_process.env, "MINE_ECO_MEMORY_MB": "4"}
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        # Wait until the outputs are being written (their staging folders exist).
        deadline = time.monotonic() + 120
        while not any(".partial" in p.name for p in out.iterdir()):
            assert process.poll() is None, f"ended before the signal:\n{process.stdout.read()}"
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.05)
        sent = time.monotonic()
        process.send_signal(number)
        output, _ = process.communicate(timeout=60)
        stopped = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    assert f"Interrupted ({signal.Signals(number).name}): no output was written" in output
    assert stopped < 10, f"took {stopped:.1f} s to stop"
    assert sorted(p.name for p in out.iterdir()) == ["r.tif"]
    assert (out / "r.tif").read_bytes() == EARLIER

"""The desktop dialog with every output left at "[Create temporary layer]": the run ends
without "The following layers were not correctly generated", and the layers it loads are the
files it wrote (each output's path is resolved once per run)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from rasters import STACK, write_raster

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(
    not (shutil.which("xvfb-run") and shutil.which("qgis")),
    reason="needs Debian's xvfb (xvfb-run) and qgis",
)


def test_dialog_runs_with_temporary_outputs_load_what_they_wrote(tmp_path):
    rng = np.random.default_rng(0)
    dem = write_raster(tmp_path / "dem.tif", rng.uniform(0, 50, (20, 20)).astype(np.float32))
    stack = write_raster(tmp_path / "stack.tif", STACK, nodata=-1)
    index = write_raster(tmp_path / "index.tif", rng.uniform(0, 1, (20, 20)).astype(np.float32))
    cases = {
        "mineeco:ndvi": {"INPUT": stack},
        "mineeco:rusle_ls": {"DEM": dem},  # one mandatory output, two optional left empty
        "mineeco:classify_index": {"INPUT": index},  # a styled class raster
    }
    profile = tmp_path / "profiles" / "default"
    (profile / "QGIS").mkdir(parents=True)
    (profile / "QGIS" / "QGIS3.ini").write_text("[PythonPlugins]\nmine_eco_plugin=true\n")
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "QGIS_PLUGINPATH": str(REPO),
        "MINE_ECO_DESKTOP_CASES": json.dumps(cases),
        "MINE_ECO_DESKTOP_REPORT": str(report),
    }
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "qgis", "--profiles-path",
         str(tmp_path), "--nologo", "--noversioncheck", "--code",
         str(HERE / "temporary_outputs_run.py")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert report.exists(), f"QGIS did not report ({done.returncode}):\n{done.stderr[-3000:]}"
    result = json.loads(report.read_text())
    assert result["errors"] == []
    assert set(result["runs"]) == set(cases)
    for algorithm, run in result["runs"].items():
        assert "not correctly generated" not in run["log"], f"{algorithm}:\n{run['log']}"
        assert "Algorithm '" in run["log"] or "completed" in run["log"], run["log"]
        # One loaded layer per output written (the optional outputs stay unrequested).
        assert len(run["loaded"]) == 1, f"{algorithm}: {run['loaded']}"
        assert run["exist"] == [True], run["loaded"]

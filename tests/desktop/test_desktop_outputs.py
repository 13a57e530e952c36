"""The desktop dialog with every output left at "[Create temporary layer]": the run ends
without "The following layers were not correctly generated", and the layers it loads are the
files it wrote (each output's path is resolved once per run)."""

from pathlib import Path

import numpy as np
from qgis_desktop import NEEDS_DESKTOP, run_cases
from rasters import STACK, write_raster

HERE = Path(__file__).resolve().parent

pytestmark = NEEDS_DESKTOP


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
    done, result = run_cases(tmp_path, HERE / "temporary_outputs_run.py", cases, timeout=300)
    assert result["errors"] == []
    assert set(result["runs"]) == set(cases)
    for algorithm, run in result["runs"].items():
        assert "not correctly generated" not in run["log"], f"{algorithm}:\n{run['log']}"
        assert "Algorithm '" in run["log"] or "completed" in run["log"], run["log"]
        # One loaded layer per output written (the optional outputs stay unrequested).
        assert len(run["loaded"]) == 1, f"{algorithm}: {run['loaded']}"
        assert run["exist"] == [True], run["loaded"]

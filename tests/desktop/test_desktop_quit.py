"""QGIS quits cleanly, as a user quits it, with several Mine Eco layers loaded (styled by the
plugin's layer post-processors) and the plugin enabled: exit code 0, no crash, no Python error.

(QGIS 3.22 itself crashes when QgsApplication.quit() is called with two or more layers loaded
and the bottom one active, with or without this plugin: see quit_run.py. Closing the main window
closes the project first, as Project ▸ Exit does.)"""

from pathlib import Path

import numpy as np
from qgis_desktop import NEEDS_DESKTOP, run_cases
from rasters import STACK, write_raster

HERE = Path(__file__).resolve().parent

pytestmark = NEEDS_DESKTOP


def test_closing_the_main_window_with_mine_eco_layers_loaded_exits_cleanly(tmp_path):
    rng = np.random.default_rng(3)
    slope = np.add.outer(np.arange(20.0), np.arange(20.0)).astype(np.float32)
    dem = write_raster(tmp_path / "dem.tif", slope)
    stack = write_raster(tmp_path / "stack.tif", STACK, nodata=-1)
    index = write_raster(tmp_path / "index.tif", rng.uniform(0, 1, (20, 20)).astype(np.float32))
    out = tmp_path / "outputs"
    cases = [
        ["mineeco:classify_index", {"INPUT": index, "OUTPUT": str(out / "classes.tif")}],
        ["mineeco:rusle_ls", {"DEM": dem, "OUTPUT": str(out / "ls.tif")}],
        ["mineeco:ndvi", {"INPUT": stack, "OUTPUT": str(out / "ndvi.tif")}],
        ["mineeco:classify_index", {"INPUT": index, "OUTPUT": str(out / "classes_2.tif")}],
    ]
    inputs = {path: Path(path).read_bytes() for path in (dem, stack, index)}
    done, result = run_cases(tmp_path, HERE / "quit_run.py", cases, timeout=180)
    assert result["errors"] == []
    assert "mine_eco_plugin" in result["plugins"]
    # Four layers, top first (the last loaded on top), each with the plugin's renderer: the
    # classes paletted, the continuous outputs a grey stretch (layer_styles.apply_style).
    assert [layer["renderer"] for layer in result["layers"]] == [
        "paletted",
        "singlebandgray",
        "singlebandgray",
        "paletted",
    ]
    assert result["active"] == result["layers"][-1]["name"]
    # QGIS asked, and was answered as a user answers (quit_run.answer_as_user).
    # (The outputs are under the system's temporary folder: QGIS calls them temporary layers.)
    asked = [line.strip() for line in (tmp_path / "report.json.boxes").read_text().splitlines()]
    assert asked == [
        "This project includes one or more temporary layers. These layers are not permanently "
        "saved and their contents will be lost. Are you sure you want to proceed?",
        "Do you want to save the current project?",
    ]
    # A clean exit: no signal (QGIS prints "QGIS died on signal 11" and aborts), no Python error.
    assert done.returncode == 0, done.stderr[-3000:]
    assert "died on signal" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert {path: Path(path).read_bytes() for path in inputs} == inputs  # inputs untouched
    assert sorted(p.name for p in out.glob("*.tif")) == [
        "classes.tif",
        "classes_2.tif",
        "ls.tif",
        "ndvi.tif",
    ]

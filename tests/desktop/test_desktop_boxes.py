"""A dialog whose input check fails shows a modal box; the desktop driver (qgis_dialogs.py)
records the box's text and closes it, so the run fails at once with the text in the report
instead of waiting for the driver's timeout (qgis_dialogs.TIMEOUT_S, 240 s)."""

import time
from pathlib import Path

import numpy as np
from qgis_desktop import NEEDS_DESKTOP, run_cases
from rasters import write_raster

HERE = Path(__file__).resolve().parent

pytestmark = NEEDS_DESKTOP


def test_a_modal_box_fails_the_run_fast_with_its_text_in_the_report(tmp_path):
    slope = np.add.outer(np.arange(12.0), np.arange(12.0)).astype(np.float32)
    dem = write_raster(tmp_path / "dem.tif", slope)
    missing = str(tmp_path / "missing.tif")
    cases = {
        # A file that does not exist passes the dialog's widgets; Processing's check of the
        # values (checkParameterValues) then refuses it with a modal QMessageBox.warning.
        "mineeco:classify_index": {"INPUT": missing},
        # A required input left empty: the dialog refuses it in its message bar (not modal).
        "mineeco:fvc": {},
        # A run that works, after the boxes: nothing is recorded for it.
        "mineeco:rusle_ls": {"DEM": dem, "OUTPUT": str(tmp_path / "ls.tif")},
    }
    start = time.time()
    done, result = run_cases(
        tmp_path,
        HERE / "modal_box_run.py",
        cases,
        timeout=180,
        MINE_ECO_DESKTOP_WORK=str(tmp_path / "work"),
        MINE_ECO_DESKTOP_SHOT=str(tmp_path / "shot.png"),
        MINE_ECO_DESKTOP_TOOLBOX_SHOT=str(tmp_path / "toolbox.png"),
        MINE_ECO_DESKTOP_TESTS=str(HERE),
    )
    seconds = time.time() - start
    assert result["errors"] == []
    refused = result["runs"]["mineeco:classify_index"]
    # QGIS 3.22's AlgorithmDialog: title "Unable to execute algorithm", text from
    # QgsProcessingParameterRasterLayer's check of INPUT.
    assert refused["boxes"] == [
        f"Unable to execute algorithm | Could not load source layer for INPUT: {missing} not found"
    ]
    assert refused["finished"] is False and refused["layers"] == []
    assert refused["seconds"] < 10  # the box closed at once (the driver's timeout: 240 s)
    empty = result["runs"]["mineeco:fvc"]
    # fvc's INPUT is described as "Vegetation index (NDVI or NDMVI)".
    assert empty["message_bar"] == [
        "Wrong or missing parameter value: Vegetation index (NDVI or NDMVI)"
    ]
    assert empty["boxes"] == [] and empty["seconds"] < 10
    ran = result["runs"]["mineeco:rusle_ls"]
    assert ran["finished"] is True and ran["boxes"] == []
    # A QMessageBox instance shown with exec(): recorded and closed within a poll or two.
    assert result["boxes"][-1] == {
        "algorithm": "exec",
        "widget": "QMessageBox",
        "text": "A box | Shown with exec()",
    }
    assert result["exec_seconds"] < 2
    assert [box["algorithm"] for box in result["boxes"]] == ["mineeco:classify_index", "exec"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert seconds < 120

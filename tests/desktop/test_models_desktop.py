"""Both workflow models in the real QGIS desktop under Xvfb (one QGIS start): each dialog with
only its mandatory inputs set and every output at its default runs green and loads its results
under human names; then each model opens in the Graphical Modeler with no overlapping boxes,
and its canvas is saved as a screenshot.

MINE_ECO_SCREENSHOTS=<folder> copies the Modeler screenshots there (resources/screenshots/).
"""

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from florida import florida_crop, later_scene, npp_crop_inputs
from qgis_desktop import NEEDS_DESKTOP, plugin_profile, run_qgis

from mine_eco_plugin.workflows import DISPLAY_NAMES, RESULTS

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MODELS = REPO / "mine_eco_plugin" / "models"

pytestmark = NEEDS_DESKTOP

#: The layers the dialogs load with the defaults (the optional steps are off, the HTML report
#: is a file, not a layer).
EXPECTED_LAYERS = {
    "resilience_evaluation": [
        "Indicator weights",
        "Resilience class areas",
        "Resilience classes",
        "Resilience index",
    ],
    "npp_drivers": [
        "Annual NPP",
        "Contribution RGB",
        "Correlation area shares per driver",
        "Dominant drivers",
        "Dominant-driver areas",
        "Driver importance",
        "Land degradation LD",
        "NPP per year",
        "Pearson correlations with NPP",
        "Relative contributions",
    ],
}


def scenes_inputs(inputs: dict, folder: Path) -> dict:
    """'Resilience over several years from Landsat scenes' with its mandatory inputs: a folder
    of two scenes, the crop's (2015) and a DERIVED copy dated 2020, the model's layers for both
    years. (QGIS 3.22's list-of-files panel cannot be preset from code, so the dialog gets the
    folder; the list is tested through processing.run.)"""
    shared = {k: v for k, v in inputs.items() if k not in ("MTL", "LANDCOVER_CLASSIFICATION")}
    shared["LANDCOVER"] = [shared["LANDCOVER"]]
    scenes = folder / "scenes"
    later_scene(inputs, scenes / "2015", 2015)
    later_scene(inputs, scenes / "2020", 2020)
    return {**shared, "SCENE_FOLDER": str(scenes)}


@pytest.fixture(scope="module")
def desktop_run(l8_fl_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("models_desktop")
    inputs = florida_crop(l8_fl_dir, folder)
    inputs.pop("WINDOW")  # not mandatory: the dialog keeps its default
    npp = npp_crop_inputs(inputs, folder)
    cases = [
        {
            "id": "resilience_evaluation",
            "path": str(MODELS / "resilience_evaluation.model3"),
            "parameters": inputs,
        },
        {"id": "npp_drivers", "path": str(MODELS / "npp_drivers.model3"), "parameters": npp},
        {"id": "resilience_scenes", "parameters": scenes_inputs(inputs, folder)},
    ]
    (folder / "cases.json").write_text(json.dumps(cases))
    shots = folder / "shots"
    shots.mkdir()
    plugin_profile(folder)
    report = folder / "report.json"
    env = {
        "MINE_ECO_MODELS_CASES": str(folder / "cases.json"),
        "MINE_ECO_MODELS_REPORT": str(report),
        "MINE_ECO_MODELS_SHOTS": str(shots),
        "QGIS_PLUGINPATH": str(REPO),
        "PYTHONPATH": "",
    }
    start = time.monotonic()
    done = run_qgis(folder, HERE / "models_startup.py", env, timeout=900)
    seconds = time.monotonic() - start
    assert report.exists(), f"QGIS did not report ({done.returncode}):\n{done.stderr[-3000:]}"
    result = json.loads(report.read_text())
    result["seconds"] = seconds
    result["shots"] = shots
    keep = os.environ.get("MINE_ECO_SCREENSHOTS")
    if keep:
        for shot in shots.glob("*.png"):
            shutil.copy(shot, Path(keep) / shot.name)
        shutil.copy(report, Path(keep) / "models_desktop_report.json")
    print(f"QGIS desktop, both models: {seconds:.0f} s")
    return result


def green(log: str) -> list[str]:
    """The signs of a run that did not end green, found in a dialog's log."""
    bad = ("not correctly generated", "Execution failed", "Traceback", "Error encountered")
    return [sign for sign in bad if sign in log]


def test_years_from_scenes_dialog_runs_green(desktop_run):
    """Two scenes from the dialog with the defaults: the model runs once per scene, then the
    years share one scale; the tables, the trend and each year's classes are loaded."""
    assert desktop_run["errors"] == []
    run = desktop_run["runs"]["resilience_scenes"]
    assert run["group"] == ["Workflows", "workflows"]
    assert "Execution completed in" in run["log"], run["log"][-3000:]
    assert green(run["log"]) == [], run["log"][-3000:]
    assert "2015: LC80200392015216LGN00_MTL.txt" in run["log"]
    assert "2020: LC80200392015216LGN00_MTL.txt" in run["log"]
    assert run["results"]["YEARS"] == "2015,2020"
    assert run["layers"] == [
        "Class transitions between consecutive years",
        "Indicator weights and ranges",
        "Resilience classes 2015",
        "Resilience classes 2020",
        "Trend of the index (Sen's slope per year)",
        "Yearly means and class shares",
    ]
    folder = Path(run["results"]["OUTPUT_FOLDER"])
    assert sorted(p.name for p in folder.glob("*.tif")) == [
        "classes_2015.tif",
        "classes_2020.tif",
        "index_2015.tif",
        "index_2020.tif",
    ]


@pytest.mark.parametrize("model_id", ["resilience_evaluation", "npp_drivers"])
def test_model_dialog_runs_green_with_its_defaults(desktop_run, model_id):
    assert desktop_run["errors"] == []
    run = desktop_run["runs"][model_id]
    assert run["display_name"] == DISPLAY_NAMES[model_id]
    assert run["group"] == ["Workflows", "workflows"]  # the group of html_report
    assert "Execution completed in" in run["log"], run["log"][-3000:]
    assert green(run["log"]) == [], run["log"][-3000:]
    # The results users meet, no intermediate output, each loaded under its human name.
    assert set(run["outputs_in_dialog"]) == set(RESULTS[model_id])
    assert run["layers"] == EXPECTED_LAYERS[model_id]
    assert Path(run["results"]["report:REPORT"]).exists()
    python_errors = [m for m in desktop_run["messages"] if "python" in m["tag"].lower()]
    assert python_errors == []


def test_resilience_dialog_reads_top_down(desktop_run):
    inputs = desktop_run["runs"]["resilience_evaluation"]["inputs"]
    assert inputs[:8] == [
        "MTL",
        "DEM",
        "LANDCOVER",
        "PRECIPITATION",
        "SAND",
        "SILT",
        "CLAY",
        "ORGANIC_CARBON",
    ]
    assert inputs.index("CO2") < inputs.index("HAI_TABLE") < inputs.index("RUN_SENSITIVITY")
    npp = desktop_run["runs"]["npp_drivers"]["inputs"]
    assert npp.index("SOIL_POINTS") < npp.index("SOIL_FIELDS")


@pytest.mark.parametrize("model_id", ["resilience_evaluation", "npp_drivers"])
def test_modeler_canvas_has_no_overlapping_boxes(desktop_run, model_id):
    canvas = desktop_run["modeler"][model_id]
    assert canvas["components"] > 20
    assert canvas["overlaps"] == []
    shot = desktop_run["shots"] / f"modeler_{model_id}.png"
    assert shot.stat().st_size > 50_000

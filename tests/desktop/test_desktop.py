"""QGIS desktop under Xvfb with the plugin installed from the `make package` zip, started ONCE
for the whole module (qgis_dialogs.py drives it): the Toolbox shows the provider; every
algorithm runs from its dialog with only its mandatory inputs (``INPUTS.desktop`` beside its
tests, on synthetic_inputs.py's layers) and every output at its default and ends green; the
layers Processing loads carry their styles; the plugin disables and enables again, and QGIS
quits, without a Python exception.

Skipped, with the reason, only when xvfb-run or qgis is missing (scripts/setup_env.sh installs
both). A run takes about a minute: one QGIS start, then about a second per dialog.
"""

import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from declared import desktop_inputs
from qgis_desktop import NEEDS_DESKTOP, plugin_profile, run_qgis

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

pytestmark = [pytest.mark.desktop, NEEDS_DESKTOP]

# The ids of every algorithm entry (the two graphical models are tested with the models).
ALGORITHMS = sorted(
    line.split('"')[1]
    for path in (REPO / "mine_eco_plugin" / "algorithms").glob("*.py")
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.startswith('    algorithm_id = "')
    and line.split('"')[1]
    # Workflows over real scenes run from their dialogs in test_models_desktop.py.
    and line.split('"')[1] != "resilience_scenes"
)

# Legends of the class rasters, as Processing loads them: exactly the classes, in code order.
# Table 3 of the resilience study (evaluation_classes.RESILIENCE_LABELS).
RESILIENCE = ["severe", "poor", "moderate", "good", "excellent"]
LEGENDS = {
    ("classify_index", "OUTPUT"): RESILIENCE,
    ("weight_sensitivity", "OUTPUT_CLASS"): RESILIENCE,
    # resilience_years loads each year's classes from its output folder (synthetic_inputs: the
    # years 2000 and 2020).
    ("resilience_years", "classes_2000"): RESILIENCE,
    ("resilience_years", "classes_2020"): RESILIENCE,
    # SL 190-2007 erosion intensity classes with the default limits (t/km²/a).
    ("rusle", "OUTPUT_CLASSES"): [
        "Slight (0–500 t/km²/a)",
        "Light (500–2500 t/km²/a)",
        "Moderate (2500–5000 t/km²/a)",
        "Intense (5000–8000 t/km²/a)",
        "Very intense (8000–15000 t/km²/a)",
        "Severe (≥ 15000 t/km²/a)",
    ],
    # engine.styles.CORRELATION_CLASSES, codes 1-3.
    ("local_correlation", "OUTPUT_CLASS"): [
        "Significant positive",
        "Significant negative",
        "Insignificant",
    ],
    # engine.styles.TREND_CLASSES (Mann-Kendall at the default 0.05 level), codes 1-3.
    ("index_trend", "OUTPUT_CLASS"): [
        "Significant decline",
        "No significant change",
        "Significant improvement",
    ],
    # Dominant drivers of the three categories climate, soil, mining: each alone, then each
    # ordered pair of coupled categories (3 + 3 × 2 = 9 classes).
    ("rf_driver_contribution", "OUTPUT_DOMINANT"): [
        "C: climate",
        "S: soil",
        "M: mining",
        "CS: climate > soil (coupled)",
        "CM: climate > mining (coupled)",
        "SC: soil > climate (coupled)",
        "SM: soil > mining (coupled)",
        "MC: mining > climate (coupled)",
        "MS: mining > soil (coupled)",
    ],
}
# Colour composites: (algorithm, output) → (red, green, blue) bands and alpha band (-1: none).
COMPOSITES = {
    ("rf_driver_contribution", "OUTPUT_RGB"): ([1, 2, 3], 4),
    ("rf_driver_contribution", "OUTPUT_RELATIVE"): ([1, 2, 3], -1),
    ("landsat_reflectance", "OUTPUT"): ([3, 2, 1], -1),  # natural colour
    ("tasseled_cap", "OUTPUT"): ([1, 2, 3], -1),  # brightness, greenness, wetness
}
# Stepped ramps (a QML of their own): weight_sensitivity's class stability, 5 steps.
RAMPS = {("weight_sensitivity", "OUTPUT_STABILITY"): 5}
FLOAT32_MAX = 3.4e38


@pytest.fixture(scope="module")
def package():
    done = subprocess.run(["make", "-s", "package"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    zips = sorted((REPO / "dist").glob("mine_eco_plugin-*.zip"), key=os.path.getmtime)
    return zips[-1]


@pytest.fixture(scope="module")
def desktop(package, tmp_path_factory):
    """One QGIS desktop run over every dialog; returns (report, files, exit code, seconds)."""
    root = tmp_path_factory.mktemp("desktop")
    profile = root / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        assert all(name.startswith("mine_eco_plugin/") for name in names)
        archive.extractall(plugins)
    plugin_profile(root)
    files = {
        "report": root / "report.json",
        "shot": root / "class_layer.png",
        "toolbox": root / "toolbox.png",
        "work": root / "inputs",
        "names": names,
        "installed": plugins / "mine_eco_plugin",
    }
    env = {
        "MINE_ECO_DESKTOP_REPORT": str(files["report"]),
        "MINE_ECO_DESKTOP_SHOT": str(files["shot"]),
        "MINE_ECO_DESKTOP_TOOLBOX_SHOT": str(files["toolbox"]),
        "MINE_ECO_DESKTOP_WORK": str(files["work"]),
        "QGIS_PLUGINPATH": "",
        "PYTHONPATH": "",
        "MINE_ECO_MEMORY_MB": None,
    }
    # Each algorithm's first-run parameters, declared beside its tests, on the desktop's layers.
    specs = desktop_inputs(files["work"])
    (files["work"] / "inputs.json").write_text(json.dumps(specs, indent=1), encoding="utf-8")
    start = time.time()
    done = run_qgis(root, HERE / "qgis_dialogs.py", env, timeout=900)
    seconds = time.time() - start
    assert files["report"].exists(), f"no report ({done.returncode}):\n{done.stderr[-3000:]}"
    report = json.loads(files["report"].read_text())
    exceptions = files["report"].with_name("report.json.exceptions")
    report["all_exceptions"] = (
        [json.loads(line) for line in exceptions.read_text().splitlines()]
        if exceptions.exists()
        else []
    )
    print(f"\nQGIS desktop layer: {seconds:.0f} s in all, {report['seconds']} s of dialogs")
    return report, files, done, seconds


def loaded(report, algorithm, output):
    layers = [
        layer for layer in report["algorithms"][algorithm]["layers"] if layer["parameter"] == output
    ]
    assert len(layers) == 1, f"{algorithm}:{output} loaded {len(layers)} time(s)"
    return layers[0]


def test_zip_installs_into_a_clean_profile_and_the_toolbox_shows_the_provider(desktop):
    report, files, _, _ = desktop
    assert not any("__pycache__" in name or "/tests/" in name for name in files["names"])
    assert "mine_eco_plugin/metadata.txt" in files["names"]
    assert not (files["installed"] / "metadata.txt").is_symlink()  # a real copy
    assert report["provider"] == "Mine Eco"
    assert {f"mineeco:{name}" for name in ALGORITHMS} <= set(report["entries"])
    assert {"Preparation", "Spectral indices", "Soil erosion", "Drivers"} <= set(report["groups"])
    assert report["toolbox"] is True and report["toolbox_screenshot"] is True
    assert files["toolbox"].stat().st_size > 10_000
    keep = os.environ.get("MINE_ECO_SCREENSHOT")
    if keep:
        shutil.copy(files["toolbox"], keep)


def test_every_algorithm_entry_was_run_from_its_dialog(desktop):
    report, _, _, _ = desktop
    entries = {e.split(":")[1] for e in report["entries"]}
    # The workflows run from their dialogs in test_models_desktop.py.
    models = {"resilience_evaluation", "npp_drivers", "resilience_scenes"}
    assert entries - models == set(ALGORITHMS) == set(report["algorithms"])
    assert len(ALGORITHMS) >= 37


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_dialog_run_with_mandatory_inputs_ends_green(desktop, algorithm):
    report, _, _, _ = desktop
    run = report["algorithms"][algorithm]
    assert "error" not in run, run.get("error")
    log = run["log"]
    for bad in ("not correctly generated", "Execution failed", "Traceback", "Error"):
        assert bad not in log, f"{algorithm}: '{bad}' in the log:\n{log[-3000:]}"
    assert run["finished"] is True, log[-3000:]
    assert run["message_bar"] == []
    for key in ("exceptions", "boxes", "messages"):
        assert [e for e in report[key] if e["algorithm"] == algorithm] == [], key
    assert "finished" in log  # "Algorithm '…' finished"
    for layer in run["layers"]:
        assert layer["valid"], layer
        if layer["type"] != "raster":
            assert layer["features"] > 0, layer  # a table with rows
            continue
        assert layer["exists"], layer  # the file the run wrote (its path resolved once)
        key = (algorithm, layer["parameter"])
        if key in LEGENDS:
            assert layer["renderer"] == "paletted"
            assert layer["legend"] == LEGENDS[key]
            assert layer["codes"] == list(range(1, len(LEGENDS[key]) + 1))
        elif key in COMPOSITES:
            assert layer["renderer"] == "multibandcolor"
            assert (layer["rgb"], layer["alpha"]) == COMPOSITES[key]
        elif key in RAMPS:
            assert layer["renderer"] == "singlebandpseudocolor"
            assert len(layer["legend"]) == RAMPS[key]
        else:  # continuous: band 1 in grey, stretched over its values (not the type's range)
            assert layer["renderer"] == "singlebandgray", layer
            low, high = layer["stretch"]
            assert -FLOAT32_MAX < low <= high < FLOAT32_MAX, layer


def test_every_styled_output_was_loaded(desktop):
    """The class rasters, composites and ramps above were all among the loaded layers."""
    report, _, _, _ = desktop
    for algorithm, output in [*LEGENDS, *COMPOSITES, *RAMPS]:
        assert loaded(report, algorithm, output)["valid"]


def test_mandatory_raster_outputs_are_loaded_and_optional_ones_are_not(desktop):
    report, _, _, _ = desktop
    # classify_index: OUTPUT (mandatory) is loaded, OUTPUT_TABLE (optional, off) is not.
    assert [layer["parameter"] for layer in report["algorithms"]["classify_index"]["layers"]] == [
        "OUTPUT"
    ]
    # index_trend: its four mandatory rasters.
    trend = report["algorithms"]["index_trend"]["layers"]
    assert sorted(layer["parameter"] for layer in trend) == [
        "OUTPUT",
        "OUTPUT_CLASS",
        "OUTPUT_P",
        "OUTPUT_Z",
    ]


def test_screenshot_of_a_styled_class_layer(desktop):
    report, files, _, _ = desktop
    assert report["screenshot"] is True and files["shot"].stat().st_size > 20_000
    keep = os.environ.get("MINE_ECO_CLASS_SCREENSHOT")
    if keep:
        shutil.copy(files["shot"], keep)


def test_disable_enable_and_quit_are_clean(desktop):
    report, _, done, _ = desktop
    assert report["unloaded"] is True and report["provider_after_unload"] is False
    assert report["reloaded"] is True and report["provider_after_reload"] is True
    # Every Python exception, including those raised while QGIS quit (the provider's unload).
    assert report["all_exceptions"] == []
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_layer_stays_fast(desktop):
    """One QGIS start for every dialog: about a minute here (2 shared cores)."""
    report, _, _, seconds = desktop
    slowest = max(run.get("seconds", 0) for run in report["algorithms"].values())
    assert slowest < 60 and seconds < 600, (slowest, seconds)

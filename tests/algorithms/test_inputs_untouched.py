"""A run leaves the folder of its inputs exactly as it was, for every algorithm of the provider.

Users' input folders are often read-only shares or version-controlled data: a run must not add
a file there, change one or change a mode. The file that used to appear is GDAL's
``<input>.aux.xml``: QGIS computes the band statistics of every raster it loads as a layer (its
default stretch) and GDAL keeps them in that side file, written when the raster is closed; the
input layers loaded for a run are now opened with GDAL's side files off
(mine_eco_plugin/engine/side_files.py).

The inputs are each algorithm's valid inputs (``INPUTS.valid`` beside its tests, collected as
test_reliability_files.VALID), written into a folder of their own;
every output goes to another folder. Runs: processing.run; the dialog's steps (CRS comparison,
checks, a background task, Processing's post-processing) with files or project layers as
inputs; each raster input checked as qgis_process checks it (tests/cli has a qgis_process run);
a read-only input folder.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from declared import valid_inputs
from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingOutputLayerDefinition,
    QgsProject,
    QgsRasterLayer,
)
from test_reliability_files import MODELS, VALID

ALGORITHMS = sorted(VALID)
RASTERS = QgsProcessing.SourceType.TypeRaster
REPO_ROOT = Path(__file__).resolve().parents[2]


def listing(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``: kind, mode and, for files, a hash of the bytes."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        status = os.lstat(path)
        key = str(path.relative_to(folder))
        if stat.S_ISREG(status.st_mode):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[key] = ("file", stat.S_IMODE(status.st_mode), digest)
        else:
            entries[key] = (stat.S_IFMT(status.st_mode), stat.S_IMODE(status.st_mode))
    return entries


def prepared(name, tmp_path):
    """(input folder, parameters without outputs) of ``name``'s valid inputs."""
    folder, parameters = valid_inputs(name, tmp_path)
    if name == "ahp_weights":  # its only file input is the optional matrix CSV
        matrix = folder / "matrix.csv"
        matrix.write_text("1,3,5\n0.3333333,1,3\n0.2,0.3333333,1\n")
        parameters = {"MATRIX_FILE": str(matrix)}
    return folder, parameters


def algorithm_of(provider, name):
    return provider.algorithm(name)


def destinations(provider, name):
    """Every output of ``name``, optional ones included (they run more code)."""
    return list(algorithm_of(provider, name).destinationParameterDefinitions())


def file_outputs(provider, name, parameters, out: Path) -> dict:
    """``parameters`` with every output (optional ones included) a file or folder in ``out``."""
    out.mkdir()
    filled = {
        key: value
        for key, value in parameters.items()
        if key not in {d.name() for d in destinations(provider, name)}
    }
    for definition in destinations(provider, name):
        kind = definition.type()
        if kind == "folderDestination":
            filled[definition.name()] = str(out / definition.name().lower())
        elif kind == "sink":
            filled[definition.name()] = str(out / f"{definition.name().lower()}.csv")
        else:
            suffix = definition.defaultFileExtension()
            filled[definition.name()] = str(out / f"{definition.name().lower()}.{suffix}")
    return filled


def side_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.aux.xml"))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_a_run_leaves_its_input_folder_as_it_was(provider, tmp_path, name):
    """processing.run (headless, as scripts and qgis_process run it) with every output a file
    elsewhere: the input folder lists the same entries, with the same bytes and modes."""
    import processing

    folder, parameters = prepared(name, tmp_path)
    before = listing(folder)
    assert before, "no input written"
    out = tmp_path / "out"
    processing.run(
        f"mineeco:{name}",
        file_outputs(provider, name, parameters, out),
        feedback=QgsProcessingFeedback(),
    )
    assert any(out.iterdir()), "the run wrote no output"
    assert side_files(folder) == []
    assert listing(folder) == before


def project_layers(parameters, project):
    """``parameters`` with every raster input a layer of ``project`` (by id), as the desktop
    dialog passes the layers the user picked from the project.

    The layers stand for ones the user opened: QGIS computes the statistics of a raster layer
    it opens (its default stretch) and GDAL writes them beside the file, QGIS's behaviour and
    not the run's. So they are opened here with GDAL's side files off, and any side file left
    is one the run wrote."""
    from mine_eco_plugin.engine.side_files import without_side_files

    chosen = {}
    for key, value in parameters.items():
        values = value if isinstance(value, list) else [value]
        ids = []
        for item in values:
            if isinstance(item, str) and item.endswith(".tif") and os.path.isfile(item):
                with without_side_files():
                    layer = QgsRasterLayer(item, Path(item).stem)
                assert layer.isValid(), item
                project.addMapLayer(layer, False)
                ids.append(layer.id())
            else:
                ids.append(item)
        chosen[key] = ids if isinstance(value, list) else ids[0]
    return chosen


def run_as_the_dialog(provider, name, parameters, project):
    """What the algorithm dialog does (processing/gui/AlgorithmDialog.py, runAlgorithm): compare
    the inputs' CRSs and check the values (main thread), run the algorithm as a
    background task (QgsProcessingAlgRunnerTask: prepare here, process in a worker thread),
    then Processing's post-processing loads the outputs into ``project`` and styles them (our
    post-processor computes their display stretch)."""
    from processing.gui.Postprocessing import handleAlgorithmResults
    from qgis.core import QgsApplication, QgsProcessingAlgRunnerTask, QgsTask

    for definition in destinations(provider, name):
        if definition.type() == "folderDestination":  # the dialog passes the text itself
            parameters[definition.name()] = QgsProcessing.TEMPORARY_OUTPUT
        else:
            parameters[definition.name()] = QgsProcessingOutputLayerDefinition(
                QgsProcessing.TEMPORARY_OUTPUT, project
            )
    context = QgsProcessingContext()
    context.setProject(project)
    feedback = QgsProcessingFeedback()
    algorithm = algorithm_of(provider, name).create()
    # The dialog compares the inputs' CRSs first (Processing's "warn on unmatching CRS"
    # setting, on by default; its answer only decides whether the user is asked to go on),
    # then checks the values.
    algorithm.validateInputCrs(parameters, context)
    ok, message = algorithm.checkParameterValues(parameters, context)
    assert ok, message
    task = QgsProcessingAlgRunnerTask(algorithm, parameters, context, feedback)
    finished = []
    task.executed.connect(lambda success, results: finished.append((success, results)))
    QgsApplication.taskManager().addTask(task)
    while not finished:
        QgsApplication.processEvents()
    success, _ = finished[0]
    assert success, f"{name} failed"
    assert task.status() == QgsTask.TaskStatus.Complete
    # Keyword: QGIS 3.22 has a showResults argument before parameters, 3.40 does not.
    assert handleAlgorithmResults(algorithm, context, feedback, parameters=parameters)
    del context


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("picked", ["files", "project layers"])
def test_a_desktop_run_leaves_its_input_folder_as_it_was(
    provider, result_loading, tmp_path, name, picked
):
    """The desktop path, with the inputs picked as files ("…" in the dialog) or as layers of
    the project, every output "[Create temporary layer]": once the run's layers are closed
    (GDAL writes a side file when it closes a raster), the input folder is as it was.

    What QGIS does when the user opens or draws a layer in the canvas is QGIS's behaviour and
    not run here (see ``project_layers``)."""
    folder, parameters = prepared(name, tmp_path)
    before = listing(folder)
    project = QgsProject()
    try:
        if picked == "project layers":
            parameters = project_layers(parameters, project)
        run_as_the_dialog(provider, name, dict(parameters), project)
        if any(d.type() in ("rasterDestination", "sink") for d in destinations(provider, name)):
            assert project.mapLayers(), "no output was loaded into the project"
    finally:
        project.removeAllMapLayers()
        del project
    assert side_files(folder) == []
    assert listing(folder) == before


def raster_inputs(algorithm):
    """The raster and multiple-raster input definitions of ``algorithm``."""
    for definition in algorithm.parameterDefinitions():
        if definition.type() == "raster":
            yield definition, False
        elif definition.type() == "multilayer" and definition.layerType() == RASTERS:
            yield definition, True


def check_raster_inputs(algorithms, tmp_path) -> set[str]:
    """Check each raster input of ``algorithms`` as qgis_process does (QGIS's
    ``checkValueIsAcceptable`` on each definition, which loads the layer) on a folder of one
    raster; assert no side file after each; return the algorithms checked."""
    folder, _ = prepared("fvc", tmp_path)  # one single-band raster, f1.tif
    (path,) = [str(p) for p in folder.iterdir()]
    before = listing(folder)
    checked = set()
    for algorithm in algorithms:
        instance = algorithm.create()
        for definition, multiple in raster_inputs(instance):
            context = QgsProcessingContext()
            assert definition.checkValueIsAcceptable([path] if multiple else path, context)
            del context  # the layer is closed with its context: GDAL writes side files then
            gc.collect()
            assert side_files(folder) == [], f"{algorithm.id()}: {definition.name()}"
            checked.add(algorithm.name())
    assert listing(folder) == before
    return checked


def test_checking_each_raster_input_writes_no_side_file(provider, tmp_path):
    """qgis_process checks every parameter before the algorithm's own checks: for every
    algorithm of the provider, checking each raster input leaves no side file."""
    algorithms = [
        a for a in provider.algorithms() if not isinstance(a, QgsProcessingModelAlgorithm)
    ]
    checked = check_raster_inputs(algorithms, tmp_path)
    assert {"ndvi", "composite_index", "resilience_scenes"} <= checked
    assert len(checked) >= 40


@pytest.mark.xfail(
    strict=True,
    reason="the models' raster inputs are QGIS's own parameters: QGIS 3.40's dialog never "
    "finished a model whose inputs were the plugin's Python parameter classes, so only the "
    "model's own checks (processing.run, the dialog) run with side files off",
)
def test_checking_a_models_raster_inputs_writes_no_side_file(provider, tmp_path):
    models = [a for a in provider.algorithms() if isinstance(a, QgsProcessingModelAlgorithm)]
    assert {"npp_drivers", "resilience_evaluation"} <= check_raster_inputs(models, tmp_path)


# --- a read-only input folder -----------------------------------------------------------------

NOT_ROOT = "root writes into a folder of mode 0o555 anyway; run as another user below"


@pytest.mark.skipif(os.geteuid() == 0, reason=NOT_ROOT)
@pytest.mark.parametrize("name", ALGORITHMS)
def test_a_read_only_input_folder_works(provider, tmp_path, name):
    """Inputs in a folder nobody may write into (mode 0o555, as on a read-only share): the
    run succeeds and the folder is as it was."""
    import processing

    folder, parameters = prepared(name, tmp_path)
    before = listing(folder)
    folder.chmod(0o555)
    try:
        processing.run(
            f"mineeco:{name}",
            file_outputs(provider, name, parameters, tmp_path / "out"),
            feedback=QgsProcessingFeedback(),
        )
    finally:
        folder.chmod(0o755)
    assert listing(folder) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="the test above runs as this user")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is needed")
def test_a_read_only_input_folder_works_for_an_unprivileged_user(provider):
    """As root, the same check through a fresh QGIS (tests/algorithms/unprivileged_runner.py)
    run as user nobody: every algorithm, its inputs in a folder of mode 0o555 owned by root,
    its outputs in a folder of nobody's. Every run succeeds and the folder is as it was."""
    nobody = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="mineeco-read-only-"))
    try:
        root.chmod(0o755)  # nobody reaches the inputs, but may not write there
        jobs = []
        for name in ALGORITHMS:
            if name == "rf_driver_contribution" and importlib.util.find_spec("sklearn") is None:
                continue
            place = root / name
            place.mkdir()
            place.chmod(0o755)
            folder, parameters = prepared(name, place)
            out = place / "out"
            parameters = file_outputs(provider, name, parameters, out)
            os.chown(out, nobody.pw_uid, nobody.pw_gid)
            folder.chmod(0o555)
            jobs.append((name, folder, parameters))
        before = {name: listing(folder) for name, folder, _ in jobs}
        home = root / "home"
        home.mkdir()
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        job = root / "job.json"
        job.write_text(json.dumps([[name, parameters] for name, _, parameters in jobs]))
        job.chmod(0o644)
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": str(REPO_ROOT),
            "XDG_RUNTIME_DIR": str(home),
        }
        runner = str(Path(__file__).parent / "unprivileged_runner.py")
        done = subprocess.run(
            ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
             "--clear-groups", sys.executable, runner, str(job)],
            env=environment, capture_output=True, text=True, timeout=900, cwd=str(home),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        answers = json.loads(done.stdout[done.stdout.index("{") :])
        assert answers == {name: "ok" for name, _, _ in jobs}
        for name, folder, _ in jobs:
            assert listing(folder) == before[name], name
            assert any((folder.parent / "out").iterdir()), f"{name} wrote no output"
        # The folder really was read-only for that user: it could not add a file there.
        probe = subprocess.run(
            ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
             "--clear-groups", "touch", str(jobs[0][1] / "probe")],
            capture_output=True, text=True,
        )  # fmt: skip
        assert probe.returncode != 0 and "Permission denied" in probe.stderr
    finally:
        for path in root.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(root)


def test_every_algorithm_is_covered(provider):
    ids = {a.name() for a in provider.algorithms()}
    assert not ids - set(VALID) - MODELS, sorted(ids - set(VALID) - MODELS)

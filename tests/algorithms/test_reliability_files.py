"""Files around a run, tried systematically over every algorithm of the provider.

Inputs are sacred and only regular files are replaced: an output that is an input of the same
run (by name, through ``..``, through a symbolic link), a symbolic link, a FIFO, a read-only
file, a folder, or two outputs on one file are each an error naming the parameter, raised
before any work (no progress reported) and leaving the folders exactly as they were (every
file's bytes, no new file, no ``.partial``, no side file). Runs with every output left at
"[Create temporary layer]" (as the desktop dialog passes them) return files that exist and ask
QGIS to load only those. A summary test fails when an algorithm of the provider has no case.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import declared
import numpy as np
import pytest
from bad_input import Data, kriging
from feedback import Recorder
from osgeo import gdal
from qgis.core import (
    QgsMapLayer,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProject,
)
from rasters import read_raster, write_raster
from test_landsat_reflectance import L8_MTL, MTL_DIR, landsat_scene

#: Valid inputs of every algorithm, declared beside its tests (``INPUTS.valid``; destinations
#: are set by the tests).
VALID = declared.declared().valid
#: The graphical models chain the algorithms; their steps are covered there. So does
#: resilience_scenes (the resilience model per scene, then resilience_years, whose folder and
#: tables are its outputs): its own checks are in tests/algorithms/test_resilience_scenes.py.
MODELS = {"npp_drivers", "resilience_evaluation", "resilience_scenes"}

SUFFIX = {
    "rasterDestination": ".tif",
    "sink": ".csv",
    "fileDestination": None,
    "folderDestination": "",
}
EARLIER = b"an earlier file that must survive"


def _instances():
    from mine_eco_plugin.provider import algorithm_classes

    instances = {}
    for cls in algorithm_classes():
        instance = cls()
        instance.initAlgorithm({})
        instances[instance.name()] = instance
    return instances


INSTANCES = _instances()


def algorithm(name):
    return INSTANCES[name]


def destinations(name, mandatory_only=True):
    return [
        d
        for d in algorithm(name).destinationParameterDefinitions()
        if not (mandatory_only and d.flags() & d.FlagOptional)
    ]


def file_for(definition, folder: Path, stem=None) -> str:
    suffix = SUFFIX[definition.type()] or f".{definition.defaultFileExtension()}"
    return str(folder / f"{stem or definition.name().lower()}{suffix}")


def inputs_of(name, tmp_path):
    """Valid inputs in tmp_path/in, without destinations (the tests set those)."""
    _, parameters = declared.valid_inputs(name, tmp_path)
    outputs = {d.name() for d in algorithm(name).destinationParameterDefinitions()}
    return {k: v for k, v in parameters.items() if k not in outputs}


def with_outputs(name, parameters, folder: Path, **chosen):
    """``parameters`` with every mandatory output a file in ``folder`` (or as ``chosen``)."""
    folder.mkdir(exist_ok=True)
    filled = dict(parameters)
    for definition in destinations(name):
        filled[definition.name()] = file_for(definition, folder)
    filled.update(chosen)
    return filled


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: kind and, for files, mode and a hash of the bytes; links by
    target (never read through, FIFOs never opened)."""
    entries = {}
    for path in sorted(root.rglob("*")):
        status = os.lstat(path)
        key = str(path.relative_to(root))
        if stat.S_ISLNK(status.st_mode):
            entries[key] = ("link", os.readlink(path))
        elif stat.S_ISREG(status.st_mode):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[key] = ("file", stat.S_IMODE(status.st_mode), digest)
        else:
            entries[key] = (stat.S_IFMT(status.st_mode),)
    return entries


def refused(name, parameters, tmp_path, *names):
    """Run: the error must name every parameter of ``names``, come before any progress and
    leave every file under tmp_path as it was."""
    import processing

    before = snapshot(tmp_path)
    feedback = Recorder()
    with pytest.raises(QgsProcessingException) as error:
        processing.run(f"mineeco:{name}", parameters, feedback=feedback)
    message = str(error.value)
    for parameter in names:
        assert parameter in message, f"{parameter} not named: {message}"
    assert "Traceback" not in message
    assert not any(value > 0 for value in feedback.progress), (
        f"work was done before the error: progress {feedback.progress}"
    )
    assert snapshot(tmp_path) == before, "files changed by a refused run"
    return message


def first_input(parameters):
    """(parameter, file) of the first input that is a file."""
    for key, value in parameters.items():
        candidates = value if isinstance(value, list) else [value]
        for candidate in candidates:
            if isinstance(candidate, str) and os.path.isfile(candidate):
                return key, candidate
    raise AssertionError("no input file")


ALGORITHMS = sorted(VALID)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_output_on_an_input_is_refused(provider, tmp_path, name):
    parameters = inputs_of(name, tmp_path)
    if name == "ahp_weights":  # its only file input is the optional matrix CSV
        matrix = tmp_path / "in" / "matrix.csv"
        matrix.write_text("1,3,5\n0.3333333,1,3\n0.2,0.3333333,1\n")
        parameters = {"MATRIX_FILE": str(matrix)}
    victim = destinations(name)[0].name()
    parameter, source = first_input(parameters)
    out = tmp_path / "out"
    # The input by its own name, through "..", through a symbolic link and a hard link to it.
    out.mkdir()
    link = out / f"link{Path(source).suffix}"
    link.symlink_to(source)
    hard = out / f"hard{Path(source).suffix}"
    os.link(source, hard)
    spellings = [source, str(out / ".." / "in" / Path(source).name), str(link), str(hard)]
    for spelling in spellings:
        message = refused(name, with_outputs(name, parameters, out, **{victim: spelling}),
                          tmp_path, victim)  # fmt: skip
        assert parameter in message or "symbolic link" in message, message


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("kind", ["symlink", "fifo", "read-only", "folder"])
def test_only_regular_files_are_replaced(provider, tmp_path, name, kind):
    parameters = inputs_of(name, tmp_path)
    definition = destinations(name)[0]
    out = tmp_path / "out"
    out.mkdir()
    path = Path(file_for(definition, out, "victim"))
    if definition.type() == "folderDestination":
        # A folder output: the folder is expected; the first file it will hold is the victim.
        folder = path
        folder.mkdir()
        context = QgsProcessingContext()
        planned = algorithm(name).folder_files(definition.name(), str(folder), parameters, context)
        assert planned, f"{name}: no file of {definition.name()} is known before the run"
        path = Path(planned[0])
        chosen = {definition.name(): str(folder)}
    else:
        chosen = {definition.name(): str(path)}
    if kind == "symlink":
        elsewhere = tmp_path / "elsewhere.bin"
        elsewhere.write_bytes(EARLIER)
        path.symlink_to(elsewhere)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "read-only":
        path.write_bytes(EARLIER)
        path.chmod(0o444)
    else:
        path.mkdir()
        (path / "inside.txt").write_bytes(EARLIER)
    message = refused(
        name, with_outputs(name, parameters, out, **chosen), tmp_path, definition.name(),
    )  # fmt: skip
    expected = {"symlink": "symbolic link", "fifo": "FIFO", "read-only": "read-only",
                "folder": "folder"}[kind]  # fmt: skip
    assert expected in message


MULTI = [name for name in ALGORITHMS if len(destinations(name, mandatory_only=False)) >= 2]


@pytest.mark.parametrize("name", MULTI)
def test_two_outputs_on_one_file_are_refused(provider, tmp_path, name):
    parameters = inputs_of(name, tmp_path)
    first, second = destinations(name, mandatory_only=False)[:2]
    out = tmp_path / "out"
    out.mkdir()
    same = str(out / "same.tif")
    refused(
        name,
        with_outputs(name, parameters, out, **{first.name(): same, second.name(): same}),
        tmp_path,
        first.name(),
        second.name(),
    )


# --- temporary outputs, as the desktop dialog passes them ------------------------------------


@pytest.mark.parametrize("name", ALGORITHMS)
def test_temporary_outputs_exist_and_only_they_are_loaded(provider, tmp_path, name):
    """Every output (optional ones included) at "[Create temporary layer]" with the project
    as destination (the dialog's value): each returned file exists, and every layer QGIS is
    asked to load on completion is an existing file or a layer of the run."""
    import processing

    parameters = inputs_of(name, tmp_path)
    project = QgsProject.instance()
    for definition in destinations(name, mandatory_only=False):
        if definition.type() == "folderDestination":  # the dialog passes the text itself
            parameters[definition.name()] = QgsProcessing.TEMPORARY_OUTPUT
            continue
        parameters[definition.name()] = QgsProcessingOutputLayerDefinition(
            QgsProcessing.TEMPORARY_OUTPUT, project
        )
    context = QgsProcessingContext()
    context.setProject(project)
    results = processing.run(
        f"mineeco:{name}", parameters, context=context, feedback=QgsProcessingFeedback()
    )
    kinds = {d.name(): d.type() for d in destinations(name, mandatory_only=False)}
    for output, kind in kinds.items():
        value = results.get(output)
        if kind in ("rasterDestination", "fileDestination"):
            assert isinstance(value, str) and os.path.isfile(value), f"{output}: {value}"
    to_load = context.layersToLoadOnCompletion()
    for output, kind in kinds.items():
        if kind == "rasterDestination":
            assert results[output] in to_load, f"{output} is not loaded"
    # Tables are memory layers, handed over in the results (processing.run takes them out of
    # the context's store).
    layers = {v.id() for v in results.values() if isinstance(v, QgsMapLayer)}
    for key in to_load:
        is_layer = key in layers or context.temporaryLayerStore().mapLayer(key) is not None
        assert os.path.isfile(key) or is_layer, f"asked to load {key}, which does not exist"
    returned = {v for v in results.values() if isinstance(v, str)}
    returned |= {p for v in results.values() if isinstance(v, list) for p in v}
    for key in to_load:
        if os.path.isfile(key):
            assert key in returned, f"{key} is loaded but not an output of the run"


def test_every_algorithm_has_file_cases(provider):
    ids = {a.name() for a in provider.algorithms()}
    missing = sorted(ids - set(VALID) - MODELS)
    assert not missing, f"algorithms without file cases: {missing}"
    assert not set(VALID) - ids


# --- the cases of the issue, by hand -----------------------------------------------------------


def test_fvc_onto_its_own_input_keeps_it(run, tmp_path):
    """fvc INPUT=v.tif OUTPUT=v.tif used to exit 0 and replace the input."""
    values = np.linspace(-0.2, 0.9, 12 * 14).reshape(12, 14)
    source = Data(tmp_path).raster(values)
    before = Path(source).read_bytes()
    with pytest.raises(QgsProcessingException, match=r"OUTPUT: .* the input INPUT"):
        run("fvc", {"INPUT": source, "OUTPUT": source})
    assert Path(source).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(source).name]  # no .aux.xml


def test_kriging_cross_validation_onto_the_points_keeps_them(run, tmp_path):
    from osgeo import ogr

    data = Data(tmp_path)
    parameters = kriging(data)
    points = parameters["INPUT"]
    with pytest.raises(QgsProcessingException, match="OUTPUT_CV: .* the input INPUT"):
        run("kriging", {**parameters, "OUTPUT_CV": points, "OUTPUT": str(tmp_path / "k.tif")})
    assert ogr.Open(points).GetLayer(0).GetFeatureCount() == 30
    assert not (tmp_path / "k.tif").exists()


def test_report_figures_folder_holding_an_input_is_refused(run, tmp_path):
    folder = tmp_path / "page_files"
    folder.mkdir()
    index = Data(folder).field()
    page = tmp_path / "page.html"
    with pytest.raises(QgsProcessingException, match="OUTPUT: .*page_files.* the input INDEX"):
        run("html_report", {"INDEX": [index], "YEARS": "2000", "OUTPUT": str(page)})
    assert Path(index).is_file() and not page.exists()


def test_report_onto_a_folder_is_refused_and_leaves_no_figures(run, tmp_path):
    page = tmp_path / "page.html"
    page.mkdir()
    index = Data(tmp_path).field()
    with pytest.raises(QgsProcessingException, match="OUTPUT: .*is a folder"):
        run("html_report", {"INDEX": [index], "YEARS": "2000", "OUTPUT": str(page)})
    assert not (tmp_path / "page_files").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["page.html", Path(index).name])


def test_an_error_after_the_kernel_leaves_no_output(run, tmp_path):
    """classify_index on an all-NoData raster fails ("no valid pixels") after its class raster
    was written: the earlier file is back, and no style or statistics file is left."""
    source = Data(tmp_path).nodata()
    out = tmp_path / "out"
    out.mkdir()
    (out / "classes.tif").write_bytes(EARLIER)
    with pytest.raises(QgsProcessingException, match="INPUT: no valid pixels"):
        run(
            "classify_index",
            {"INPUT": source, "OUTPUT": str(out / "classes.tif"),
             "OUTPUT_TABLE": str(out / "table.csv")},
        )  # fmt: skip
    assert sorted(os.listdir(out)) == ["classes.tif"]
    assert (out / "classes.tif").read_bytes() == EARLIER


def test_a_failing_table_puts_back_the_rasters_of_the_run(run, tmp_path, monkeypatch):
    """rusle writes its rasters, then its table; when writing the table fails, the rasters
    already moved in are removed again and the earlier files restored."""
    from mine_eco_plugin.algorithms import base

    parameters = inputs_of("rusle", tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    names = {"OUTPUT": "soil.tif", "OUTPUT_CLASSES": "classes.tif", "OUTPUT_TABLE": "t.csv"}
    for name in names.values():
        (out / name).write_bytes(EARLIER)

    def failing(*args, **kwargs):
        raise QgsProcessingException("OUTPUT_TABLE: injected failure")

    monkeypatch.setattr(base.MineEcoAlgorithm, "write_table", failing)
    with pytest.raises(QgsProcessingException, match="injected"):
        run("rusle", {**parameters, **{k: str(out / v) for k, v in names.items()}})
    assert sorted(os.listdir(out)) == sorted(names.values())
    assert all((out / name).read_bytes() == EARLIER for name in names.values())


# Values of the ndvi test stack (tests/rasters.STACK): (NIR − red)/(NIR + red) per pixel.
NDVI_OF_STACK = np.array(
    [[(0.40 - 0.04) / 0.44, (0.26 - 0.20) / 0.46, (0.02 - 0.04) / 0.06],
     [np.nan, np.nan, np.nan]]
)  # fmt: skip


@pytest.mark.parametrize(
    "suffix",
    sorted(set(__import__("qgis.core", fromlist=["x"]).QgsProcessingParameterRasterDestination(
        "X").supportedOutputRasterLayerExtensions()) | {"png", "jpg"}),
)  # fmt: skip
def test_every_raster_format_qgis_offers(run, tmp_path, suffix):
    """ndvi written as each format QGIS offers for a raster destination (and PNG/JPEG): the
    values come back (float32, NoData where the stack has it), or the run is refused before
    any file is written, naming OUTPUT and the format."""
    from rasters import STACK

    from mine_eco_plugin.engine.writer import FORMATS

    stack = write_raster(tmp_path / "stack.tif", STACK, nodata=-1)
    out = tmp_path / "out"
    out.mkdir()
    path = out / f"ndvi.{suffix}"
    feedback = Recorder()
    if suffix in FORMATS:
        run("ndvi", {"INPUT": stack, "OUTPUT": str(path)}, feedback)
        values, dataset = read_raster(path)
        np.testing.assert_allclose(values[0], NDVI_OF_STACK, rtol=1e-6)
        assert dataset.GetRasterBand(1).DataType == gdal.GDT_Float32
        assert dataset.GetGeoTransform() == (500000.0, 30.0, 0.0, 5600000.0, 0.0, -30.0)
        assert not [name for name in os.listdir(out) if name.startswith(".")]
    else:
        with pytest.raises(QgsProcessingException, match=rf"OUTPUT: the \.{suffix} format"):
            run("ndvi", {"INPUT": stack, "OUTPUT": str(path)}, feedback)
        assert os.listdir(out) == []
        assert not any(value > 0 for value in feedback.progress)


def test_nodata_value_taken_by_valid_results_is_reported(run, tmp_path):
    """FVC with Ssoil 0.1 and Sveg 0.8 is exactly 0 where the index is below 0.1: with
    OUTPUT_NODATA_VALUE 0 those pixels read back as NoData, and the run says how many."""
    index = np.array([[-0.2, 0.05, 0.3, 0.45], [0.0, 0.6, 0.8, 0.9], [-0.5, 0.2, 0.5, 0.7]])
    # Below 0.1: −0.2, 0.05, 0.0, −0.5 → 4 pixels of FVC 0.
    source = Data(tmp_path).raster(index)
    out = tmp_path / "fvc.tif"
    feedback = Recorder()
    run(
        "fvc",
        {"INPUT": source, "SOIL_VALUE": 0.1, "VEG_VALUE": 0.8, "OUTPUT_NODATA_VALUE": 0,
         "OUTPUT": str(out)},
        feedback,
    )  # fmt: skip
    assert len(feedback.warnings) == 1
    assert feedback.warnings[0].startswith("OUTPUT: 4 valid pixel value(s) equal the NoData")
    values = read_raster(out)[0][0]
    assert np.isnan(values).sum() == 4
    # (0.3 − 0.1)/0.7 = 0.285714…
    assert values[0, 2] == pytest.approx(0.2 / 0.7, rel=1e-6)


@pytest.mark.parametrize("value", [1e39, -3.5e38])
def test_nodata_value_outside_float32_is_refused(run, tmp_path, value):
    source = Data(tmp_path).field(-0.2, 0.9)
    with pytest.raises(QgsProcessingException, match="OUTPUT_NODATA_VALUE: .* outside the range"):
        run("fvc", {"INPUT": source, "OUTPUT_NODATA_VALUE": value,
                    "OUTPUT": str(tmp_path / "fvc.tif")})  # fmt: skip
    assert sorted(os.listdir(tmp_path)) == ["f1.tif"]


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan"])
def test_memory_budget_that_is_not_a_number_is_an_error(run, tmp_path, monkeypatch, value):
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", value)
    source = Data(tmp_path).stack()
    with pytest.raises(QgsProcessingException, match=f"MINE_ECO_MEMORY_MB: '{value}' is not"):
        run("ndvi", {"INPUT": source, "OUTPUT": str(tmp_path / "ndvi.tif")})
    assert sorted(os.listdir(tmp_path)) == ["f1.tif"]


def test_landsat_needs_the_thermal_band_only_for_the_thermal_output(run, tmp_path):
    parameters = landsat_scene(Data(tmp_path))
    text = (MTL_DIR / L8_MTL).read_text()
    thermal = re.search(r'FILE_NAME_BAND_10 = "([^"]+)"', text).group(1)
    (tmp_path / thermal).unlink()
    out = tmp_path / "refl.tif"
    run("landsat_reflectance", {**parameters, "OUTPUT": str(out)})
    assert read_raster(out)[1].RasterCount == 6
    with pytest.raises(QgsProcessingException, match=rf"MTL: band file {thermal} .*OUTPUT_THERMAL"):
        run("landsat_reflectance", {**parameters, "OUTPUT": str(tmp_path / "r2.tif"),
                                    "OUTPUT_THERMAL": str(tmp_path / "l10.tif")})  # fmt: skip
    assert not (tmp_path / "r2.tif").exists() and not (tmp_path / "l10.tif").exists()


def test_landsat_output_on_a_band_file_the_mtl_names_is_refused(run, tmp_path):
    parameters = landsat_scene(Data(tmp_path))
    text = (MTL_DIR / L8_MTL).read_text()
    red = tmp_path / re.search(r'FILE_NAME_BAND_4 = "([^"]+)"', text).group(1)
    before = red.read_bytes()
    with pytest.raises(QgsProcessingException, match="OUTPUT: .* the input MTL"):
        run("landsat_reflectance", {**parameters, "OUTPUT": str(red)})
    assert red.read_bytes() == before


def test_a_table_written_before_a_failure_is_removed(run, tmp_path, monkeypatch):
    """classify_index writes its table, then (here) fails: the new table is deleted, the
    earlier file at its path and the earlier class raster are back."""
    from mine_eco_plugin.algorithms import base

    real = base.MineEcoAlgorithm.write_table

    def then_fail(self, *args, **kwargs):
        destination = real(self, *args, **kwargs)
        assert Path(destination).stat().st_size != len(EARLIER)  # the new table is there
        raise QgsProcessingException("OUTPUT_TABLE: injected failure after the table")

    monkeypatch.setattr(base.MineEcoAlgorithm, "write_table", then_fail)
    source = Data(tmp_path).field()
    out = tmp_path / "out"
    out.mkdir()
    for name in ("classes.tif", "table.csv"):
        (out / name).write_bytes(EARLIER)
    with pytest.raises(QgsProcessingException, match="injected failure after the table"):
        run("classify_index", {"INPUT": source, "OUTPUT": str(out / "classes.tif"),
                               "OUTPUT_TABLE": str(out / "table.csv")})  # fmt: skip
    assert sorted(os.listdir(out)) == ["classes.tif", "table.csv"]
    assert all((out / name).read_bytes() == EARLIER for name in os.listdir(out))


def test_a_link_where_the_style_goes_is_refused_before_work(run, tmp_path):
    source = Data(tmp_path).field()
    (tmp_path / "elsewhere.qml").write_bytes(EARLIER)
    (tmp_path / "classes.qml").symlink_to(tmp_path / "elsewhere.qml")
    with pytest.raises(QgsProcessingException, match="OUTPUT: .*classes.qml is a symbolic link"):
        run("classify_index", {"INPUT": source, "OUTPUT": str(tmp_path / "classes.tif")})
    assert (tmp_path / "elsewhere.qml").read_bytes() == EARLIER
    assert not (tmp_path / "classes.tif").exists()


def test_output_on_a_file_a_vrt_input_reads_is_refused(run, tmp_path):
    """A VRT input reads its source files: writing over one of them would change the input."""
    source = Data(tmp_path).stack()
    vrt = str(tmp_path / "stack.vrt")
    gdal.BuildVRT(vrt, [source])
    before = Path(source).read_bytes()
    with pytest.raises(QgsProcessingException, match=r"OUTPUT: .*f1.tif.* the input INPUT"):
        run("ndvi", {"INPUT": vrt, "OUTPUT": source})
    assert Path(source).read_bytes() == before

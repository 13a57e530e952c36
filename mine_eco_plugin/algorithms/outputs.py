"""Outputs of a run: each output's file resolved once, checked before any work (only a regular
file or nothing there, a format the engine writes, no two outputs on one file, no output on an
input), files written outside the raster engine (tables, pages) joined to the run's transaction,
and SIGTERM/SIGINT turned into an exception that rolls the run back.

``OutputChecks`` is a mixin of ``MineEcoAlgorithm`` (base.py), which calls ``check_run`` and
``claim_destinations`` at the start of every run.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import threading
from pathlib import Path

import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
    QgsProperty,
)

from ..engine import EngineError, check_format, check_replaceable

#: The largest magnitude a float32 output (and so its NoData value) can hold.
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Files a table written as ``<name>.<ext>`` comes with (set aside and restored with it).
TABLE_SIDE_FILES = {
    ".shp": (".shx", ".dbf", ".prj", ".cpg", ".qpj"),
    ".gpkg": ("-wal", "-shm", "-journal"),
    ".sqlite": ("-wal", "-shm", "-journal"),
}


class Interrupted(BaseException):  # like KeyboardInterrupt, not an Exception
    """SIGTERM or SIGINT arrived during a run: the run stops and its outputs are removed."""


@contextlib.contextmanager
def interruptible():
    """During the block, SIGTERM and SIGINT raise ``Interrupted`` (once) in the main thread
    (qgis_process runs algorithms there), so that a killed run removes its staging folders
    and restores what its outputs replaced. Elsewhere (a worker thread of the desktop, or a
    handler installed by the host application in C) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"raised": False}

    def handler(signum, _frame):
        if not state["raised"]:
            state["raised"] = True
            raise Interrupted(signal.Signals(signum).name)

    previous = {}
    for number in (signal.SIGTERM, signal.SIGINT):
        current = signal.getsignal(number)
        if current is None:  # a handler the host installed in C: leave it
            continue
        with contextlib.suppress(ValueError, OSError):
            signal.signal(number, handler)
            previous[number] = current
    try:
        yield
    finally:
        for number, current in previous.items():
            signal.signal(number, current)


def file_of(source: str) -> str | None:
    """The file behind a layer source ('x.gpkg|layername=a', 'GPKG:x.gpkg:t', a path), or
    None (memory layers, databases, web services)."""
    text = (source or "").split("|")[0].strip()
    if not text or text.startswith("/vsi"):
        return None
    if os.path.exists(text):
        return text
    if ":" in text:
        rest = text.split(":", 1)[1].strip('"')
        for candidate in (rest, rest.rsplit(":", 1)[0].strip('"')):
            if candidate and os.path.exists(candidate):
                return candidate
    return None


def raster_files(path: str) -> list[str]:
    """The files GDAL reads for the raster ``path`` (a VRT's sources, side files)."""
    try:
        dataset = gdal.OpenEx(path, gdal.OF_RASTER)
    except RuntimeError:
        return []
    files = (dataset.GetFileList() or []) if dataset is not None else []
    return [f for f in files if os.path.isfile(f)]


def same_file(first: str, second: str) -> bool:
    """The two paths name one file (after links; hard links included)."""
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


class OutputChecks:
    """The output handling of ``MineEcoAlgorithm`` (a QgsProcessingAlgorithm)."""

    # --- outputs: resolved once, checked before any work ------------------------------------
    def destination(self, parameters, name, context) -> str | None:
        """The file an output is written to (None: not requested, or not a file, such as a
        temporary table). Resolved once per run (``resolve_destinations``): resolving a
        temporary output again would invent another file, and in the desktop register it
        for loading although nothing is written there."""
        resolved = getattr(self, "_destinations", None)
        if resolved is not None and name in resolved:
            return resolved[name]
        return self._resolve(self.parameterDefinition(name), parameters, context)

    def chart_destination(self, parameters, name, context) -> str | None:
        """The file of a chart output (None: not asked for); an error naming the output when
        matplotlib, which draws the charts, is missing."""
        chart = self.destination(parameters, name, context)
        if chart:
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                raise QgsProcessingException(
                    f"{name}: matplotlib is needed for the chart (Debian/Ubuntu: sudo apt "
                    "install python3-matplotlib; elsewhere: pip install matplotlib), or leave "
                    "the chart output empty"
                ) from None
        return chart

    def _resolve(self, definition, parameters, context) -> str | None:
        name = definition.name()
        kind = definition.type()
        if kind == "rasterDestination":
            return self.parameterAsOutputLayer(parameters, name, context) or None
        if kind == "fileDestination":
            return self.parameterAsFileOutput(parameters, name, context) or None
        if kind == "folderDestination":
            return self.parameterAsString(parameters, name, context) or None
        return self.sink_file(parameters.get(name), context)

    @staticmethod
    def sink_file(value, context) -> str | None:
        """The file a table (feature sink) value names, without creating anything: None for a
        temporary (memory) table or a database."""
        if isinstance(value, QgsProcessingOutputLayerDefinition):
            sink = value.sink
            if sink.propertyType() == QgsProperty.Type.StaticProperty:
                value = sink.staticValue()
            else:
                value = sink.valueAsString(context.expressionContext())
                value = value[0] if isinstance(value, tuple) else value
        text = "" if value is None else str(value).strip()
        if not text or text == QgsProcessing.TEMPORARY_OUTPUT or text.startswith("memory:"):
            return None
        if text.startswith("ogr:"):
            match = re.search(r"dbname='([^']*)'", text)
            return match.group(1) if match else None
        if re.match(r"^[a-z]+:", text) and not os.path.isabs(text):  # postgres:, spatialite:…
            return None
        return text.split("|")[0]

    def resolve_destinations(self, parameters, context) -> dict[str, str | None]:
        """Every output's file, resolved once for the run and kept for ``destination``."""
        self._destinations = {}
        for definition in self.destinationParameterDefinitions():
            self._destinations[definition.name()] = self._resolve(definition, parameters, context)
        return self._destinations

    def input_files(self, parameters, context) -> list[tuple[str, str]]:
        """(parameter, file) for every file an input of the run reads: raster layers,
        multiple layers, vector sources and files. Subclasses add files that an input
        refers to (e.g. the band files an MTL names)."""
        found = []
        for definition in self.parameterDefinitions():
            name = definition.name()
            value = parameters.get(name)
            if definition.isDestination() or not self.given(parameters, name) or value == []:
                continue
            kind = definition.type()
            try:
                if kind == "raster":
                    layers = [self.parameterAsRasterLayer(parameters, name, context)]
                elif kind == "multilayer":
                    layers = self.parameterAsLayerList(parameters, name, context)
                elif kind in ("source", "vector"):
                    layers = [self.parameterAsVectorLayer(parameters, name, context)]
                elif kind == "file":
                    path = self.parameterAsFile(parameters, name, context)
                    if path and os.path.exists(path):
                        found.append((name, path))
                    continue
                else:
                    continue
            except QgsProcessingException:
                continue  # the algorithm reports an input it cannot load
            for layer in layers:
                path = file_of(layer.source()) if layer is not None else None
                if path:
                    found.append((name, path))
                if path and kind in ("raster", "multilayer"):
                    # A VRT reads other files: they are inputs too.
                    found += [(name, other) for other in raster_files(path) if other != path]
        return found

    def side_paths(self, name, path) -> list[str]:
        """Other files or folders the output ``name`` writes besides ``path`` (the report's
        figure folder)."""
        return []

    def folder_files(self, name, folder, parameters, context) -> list[str]:
        """The files a folder output ``name`` will write into ``folder``, where the
        algorithm knows them before any work (checked like file outputs: never an input,
        only a regular file or nothing there). A QgsProcessingException while reading the
        inputs that name them means no files are checked: the run reports the error itself."""
        return []

    def check_folder_output(self, name, folder, parameters, context, inputs) -> None:
        """A folder output: a folder (or nothing yet) at ``folder``; the files the algorithm
        will write in it are neither inputs of the run nor anything but regular files."""
        for parameter, source in inputs:
            if same_file(source, folder):
                raise QgsProcessingException(
                    f"{name}: {folder} is the input {parameter} ({source}), not a folder; "
                    "writing there would destroy the input: choose another output folder"
                )
        if os.path.lexists(folder) and not os.path.isdir(folder):
            try:
                check_replaceable(folder, name)
            except EngineError as error:
                raise QgsProcessingException(
                    f"{error} (a folder is expected for this output)"
                ) from None
            raise QgsProcessingException(f"{name}: {folder} is a file; a folder is expected")
        try:
            paths = self.folder_files(name, folder, parameters, context)
        except QgsProcessingException:
            paths = []  # the inputs that name the files are wrong: the run reports them
        for path in paths:
            for parameter, source in inputs:
                if same_file(source, path):
                    raise QgsProcessingException(
                        f"{name}: {path} would be written in the output folder but is the "
                        f"input {parameter} ({source}): choose another output folder"
                    )
            try:
                check_replaceable(path, name)
                if path.lower().endswith((".tif", ".tiff")):
                    check_replaceable(f"{path}.aux.xml", name)
                    check_replaceable(f"{os.path.splitext(path)[0]}.qml", name)
            except EngineError as error:
                raise QgsProcessingException(str(error)) from None

    def check_run(self, parameters, context) -> None:
        """Before any work: the memory budget and the NoData value are usable, every output
        can be written where it is asked (only a regular file or nothing there, a format Mine
        Eco writes, a writable folder), no two outputs share a file and no output is an input
        of the same run. Errors name the parameters."""
        self.memory_mb()
        if self.parameterDefinition("OUTPUT_NODATA_VALUE") is not None:
            nodata = self.parameterAsDouble(parameters, "OUTPUT_NODATA_VALUE", context)
            if not math.isfinite(nodata) or abs(nodata) > FLOAT32_MAX:
                raise QgsProcessingException(
                    f"OUTPUT_NODATA_VALUE: {nodata:g} is outside the range of float32 outputs "
                    f"(±{FLOAT32_MAX:.7g}); it would be written as infinity"
                )
        outputs = {
            name: path
            for name, path in self.resolve_destinations(parameters, context).items()
            if path
        }
        seen: list[tuple[str, str]] = []
        for name, path in outputs.items():
            for other, other_path in seen:
                if same_file(path, other_path):
                    raise QgsProcessingException(
                        f"{name}: {path} is also the output {other}; two outputs of one run "
                        "cannot share a file"
                    )
            seen.append((name, path))
        inputs = self.input_files(parameters, context) if outputs else []
        kinds = {d.name(): d.type() for d in self.destinationParameterDefinitions()}
        folders = {name for name in outputs if kinds[name] == "folderDestination"}
        for name in folders:
            self.check_folder_output(name, outputs.pop(name), parameters, context, inputs)
        for name, path in outputs.items():
            owned = [path, *self.side_paths(name, path)]
            for parameter, source in inputs:
                real = os.path.realpath(source)
                for target in owned:
                    inside = real.startswith(os.path.realpath(target) + os.sep)
                    if inside or same_file(source, target):
                        raise QgsProcessingException(
                            f"{name}: {target} is (or holds) the input {parameter} ({source}); "
                            "writing there would destroy the input: choose another output file"
                        )
        for name, path in outputs.items():
            try:
                check_replaceable(path, name)
                if kinds[name] == "rasterDestination":
                    check_format(path, name)
                    # The side files written with it: statistics and a style.
                    check_replaceable(f"{path}.aux.xml", name)
                    check_replaceable(f"{os.path.splitext(path)[0]}.qml", name)
            except EngineError as error:
                raise QgsProcessingException(str(error)) from None
        self.check_output_folders(parameters, context)

    def claim_destinations(self, parameters, context, journal) -> None:
        """Tables and other files written by QGIS or the algorithm itself (not by the raster
        engine) join the run's transaction: an earlier file there is set aside, and the new
        one removed and the earlier put back when the run fails."""
        kinds = {d.name(): d.type() for d in self.destinationParameterDefinitions()}
        for name, path in self._destinations.items():
            if not path or kinds[name] in ("rasterDestination", "folderDestination"):
                continue
            value = parameters.get(name)
            if isinstance(value, QgsProcessingOutputLayerDefinition):
                value = value.sink.staticValue()
            if "|layername=" in str(value) or "table=" in str(value):
                continue  # a layer inside a container file: the file itself is not replaced
            stem, suffix = os.path.splitext(path)
            journal.claim(Path(path))
            for side in TABLE_SIDE_FILES.get(suffix.lower(), ()):
                sibling = f"{path}{side}" if side.startswith("-") else f"{stem}{side}"
                journal.claim(Path(sibling))

    def check_output_folders(self, parameters, context) -> None:
        """Fail before any work when an output's folder (or the nearest existing folder
        above it) cannot be written; the engine checks again when it creates the file."""
        for definition in self.destinationParameterDefinitions():
            path = self.destination(parameters, definition.name(), context)
            if not path:
                continue
            folder = os.path.dirname(os.path.abspath(path))
            while folder and not os.path.exists(folder):
                parent = os.path.dirname(folder)
                if parent == folder:
                    break
                folder = parent
            if os.path.isdir(folder) and not os.access(folder, os.W_OK):
                raise QgsProcessingException(
                    f"{definition.name()}: folder {folder} is not writable"
                )

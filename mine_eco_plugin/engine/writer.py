"""Atomic raster outputs: written in a hidden staging folder, moved into place together.

Every output of a run is written in a hidden folder beside it (``.<name>.<token>.partial``),
under its final name (with any side files its format has). ``OutputSet.commit`` moves the
files of all outputs into place at once: whatever they replace is first set aside, and put back
if any move fails, so either every output of the run appears or none does. Inside a run
transaction (``run_transaction``, opened by the Processing algorithms around a whole run), the
replaced files are kept aside until the run ends: an error after the outputs were committed
(a statistics pass over an output, a table written last) still restores the earlier files.

Only regular files (or nothing) are ever replaced: a folder, a symbolic link, a FIFO, a device
or a read-only file at an output path is an error naming the parameter, checked before any work
(``check_replaceable``) and again when the output is moved in. Only the formats of ``FORMATS``
are written; the others (VRT, which would only point at files, and formats that cannot hold
the values: PNG, JPEG, …) are refused before any work.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import stat
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from osgeo import gdal

from .errors import EngineError
from .grid import Grid, Window
from .styles import RasterClass, paletted_qml

gdal.UseExceptions()

GDAL_TYPES = {
    "uint8": gdal.GDT_Byte,
    "uint16": gdal.GDT_UInt16,
    "int16": gdal.GDT_Int16,
    "uint32": gdal.GDT_UInt32,
    "int32": gdal.GDT_Int32,
    "float32": gdal.GDT_Float32,
    "float64": gdal.GDT_Float64,
}

TILE = 256

#: Output formats: extension → (GDAL driver, the data types it holds exactly (None: all of
#: GDAL_TYPES), the most bands it holds (None: any)). Each was checked to give back the
#: values, NoData and georeferencing it was given (tests/algorithms/test_reliability_files.py).
FORMATS: dict[str, tuple[str, tuple[str, ...] | None, int | None]] = {
    "tif": ("GTiff", None, None),
    "tiff": ("GTiff", None, None),
    "img": ("HFA", None, None),
    "bil": ("EHdr", None, None),
    "ers": ("ERS", None, None),
    "pix": ("PCIDSK", None, None),
    "ntf": ("NITF", None, None),
    "kro": ("KRO", ("uint8", "uint16", "float32"), None),
    "sdat": ("SAGA", None, 1),
    "rst": ("RST", ("uint8", "int16", "float32"), 1),
    "gpkg": ("GPKG", ("uint8", "float32"), 1),
    "bt": ("BT", ("int16", "int32", "float32"), 1),
    "gtx": ("GTX", ("float32",), 1),
    "nc": ("netCDF", ("float32",), 1),
}

#: Why a format is refused, when there is more to say than "cannot hold the values".
REFUSED = {
    "vrt": "a VRT file only points at other files (the output would point at a deleted "
    "temporary file)",
}


def supported_formats() -> str:
    return ", ".join(f".{suffix}" for suffix in FORMATS if suffix != "tiff")


def check_format(
    path: str, parameter: str = "OUTPUT", bands: int | None = None, dtype: str | None = None
) -> str:
    """The GDAL driver for ``path``; an EngineError naming ``parameter`` and the format when
    Mine Eco does not write that format, or not for ``bands`` bands of ``dtype``."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "":
        return "GTiff"
    entry = FORMATS.get(suffix)
    if entry is None:
        reason = REFUSED.get(suffix, "it cannot hold the output values exactly")
        raise EngineError(
            parameter,
            f"the .{suffix} format is not written by Mine Eco: {reason}; choose one of "
            f"{supported_formats()}",
        )
    driver, dtypes, most_bands = entry
    if gdal.GetDriverByName(driver) is None:
        raise EngineError(
            parameter, f"the .{suffix} format needs GDAL's {driver} driver, which is missing"
        )
    if (dtypes is not None and dtype is not None and dtype not in dtypes) or (
        most_bands is not None and bands is not None and bands > most_bands
    ):
        holds = f"{most_bands}-band " if most_bands else ""
        holds += " or ".join(dtypes) if dtypes else "any type of"
        raise EngineError(
            parameter,
            f"the .{suffix} format ({driver}) holds only {holds} rasters; this output has "
            f"{bands} band(s) of {dtype}: choose .tif (or {supported_formats()})",
        )
    return driver


def check_replaceable(path, parameter: str = "OUTPUT") -> None:
    """Nothing, or a regular file that may be written, may be at an output path; an
    EngineError naming ``parameter`` otherwise."""
    path = Path(path)
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise EngineError(parameter, f"{path} cannot be examined: {error}") from None
    mode = status.st_mode
    what = None
    if stat.S_ISLNK(mode):
        what = f"a symbolic link (to {os.readlink(path)}); Mine Eco never writes through links"
    elif stat.S_ISDIR(mode):
        what = "a folder"
    elif stat.S_ISFIFO(mode):
        what = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    elif not stat.S_ISREG(mode):
        what = "not a regular file"
    elif not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        what = "a read-only file"
    if what:
        raise EngineError(
            parameter,
            f"{path} is {what}; only a regular file is replaced: choose another file name",
        )


def geotiff_options(dtype: str, compression: str = "DEFLATE") -> list[str]:
    options = [
        "TILED=YES",
        f"BLOCKXSIZE={TILE}",
        f"BLOCKYSIZE={TILE}",
        "BIGTIFF=IF_SAFER",
        "NUM_THREADS=ALL_CPUS",
    ]
    if compression.upper() != "NONE":
        options.append(f"COMPRESS={compression.upper()}")
        if compression.upper() in ("DEFLATE", "LZW", "ZSTD"):
            options.append(f"PREDICTOR={3 if dtype.startswith('float') else 2}")
    return options


# --- replacing files all together --------------------------------------------------------------


@contextlib.contextmanager
def shielded():
    """SIGINT and SIGTERM held back during the block (delivered when it ends), so that an
    interrupt cannot fall between moving a file and recording the move."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (AttributeError, OSError, ValueError):  # no POSIX signal masks here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Replacement:
    """Files moved into place, with the files they replace set aside (hidden, in the same
    folder) until ``settle`` deletes them or ``rollback`` puts them back."""

    def __init__(self):
        #: [final path, where the replaced file was set aside (or None), moved in?]
        self.entries: list[list] = []
        #: Warnings for the user gathered while writing (e.g. values equal to NoData).
        self.warnings: list[str] = []

    @staticmethod
    def _aside(final: Path) -> Path | None:
        if not os.path.lexists(final):
            return None
        backup = final.parent / f".{final.name}.{uuid.uuid4().hex[:12]}.backup"
        os.replace(final, backup)
        return backup

    def put(self, staged: Path, final: Path, parameter: str, folder: bool = False) -> None:
        """Move ``staged`` to ``final``; ``folder``: ``final`` may be a folder (replaced
        whole), otherwise only a regular file or nothing may be there."""
        if not (folder and final.is_dir() and not final.is_symlink()):
            check_replaceable(final, parameter)
        with shielded():
            entry = [final, self._aside(final), False]
            self.entries.append(entry)
            os.replace(staged, final)
            entry[2] = True

    def remove(self, final: Path) -> None:
        """Set aside a stale file (e.g. statistics of an earlier output), if there is one."""
        if os.path.lexists(final) and not os.path.isdir(final):
            with shielded():
                self.entries.append([final, self._aside(final), False])

    def claim(self, final: Path) -> None:
        """``final`` is about to be written by someone else (a table): set aside what is
        there, and delete what was written there on rollback."""
        with shielded():
            self.entries.append([final, self._aside(final), True])

    def absorb(self, other: Replacement) -> None:
        with shielded():
            self.entries.extend(other.entries)
            self.warnings.extend(other.warnings)
            other.entries, other.warnings = [], []

    def rollback(self) -> None:
        with shielded():
            self._rollback()

    def _rollback(self) -> None:
        for final, backup, placed in reversed(self.entries):
            with contextlib.suppress(OSError):
                if placed and os.path.lexists(final):
                    if os.path.isdir(final) and not os.path.islink(final):
                        shutil.rmtree(final)
                    else:
                        final.unlink()
                if backup is not None:
                    os.replace(backup, final)
        self.entries = []

    def settle(self) -> None:
        with shielded():
            self._settle()

    def _settle(self) -> None:
        for _, backup, _ in self.entries:
            if backup is not None:
                with contextlib.suppress(OSError):
                    if os.path.isdir(backup) and not os.path.islink(backup):
                        shutil.rmtree(backup)
                    else:
                        backup.unlink()
        self.entries = []


_RUNS = threading.local()


def current_run() -> Replacement | None:
    """The run transaction of this thread, if one is open."""
    stack = getattr(_RUNS, "stack", None)
    return stack[-1] if stack else None


@contextlib.contextmanager
def run_transaction():
    """Keep what the outputs committed during the block replace until the block ends: on an
    exception (BaseException included: an interrupt) every output committed inside it is
    removed and the earlier files are put back; on success the earlier files are deleted (or,
    nested, handed to the enclosing transaction)."""
    stack = _RUNS.__dict__.setdefault("stack", [])
    journal = Replacement()
    stack.append(journal)
    try:
        yield journal
    except BaseException:
        journal.rollback()
        raise
    finally:
        stack.pop()
    outer = current_run()
    if outer is not None:
        outer.absorb(journal)
    else:
        journal.settle()


def hand_over(replacement: Replacement) -> None:
    """Done replacing: keep the set-aside files until the run transaction ends, or, outside
    one, delete them now."""
    run = current_run()
    if run is not None:
        run.absorb(replacement)
    else:
        replacement.settle()


# --- one output ----------------------------------------------------------------------------------


@dataclass
class RasterTarget:
    """What to write: the path, its parameter id, band count, type, NoData and descriptions.

    ``nodata`` is written as the band NoData value and replaces NaN in the kernel's result.
    ``classes`` style a class raster: a colour table with category names in the file, and a
    QGIS style (``<name>.qml``, paletted, with legend labels) beside it. ``style`` is any other
    QGIS style to write beside the raster, committed with it.
    """

    path: str
    parameter: str = "OUTPUT"
    bands: int = 1
    dtype: str = "float32"
    nodata: float | None = -9999.0
    band_names: tuple[str, ...] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    classes: tuple[RasterClass, ...] | None = None
    #: A QGIS style (QML text) for the raster; class rasters get one from ``classes``.
    style: str | None = None
    compression: str = "DEFLATE"


def _remove(path: Path) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class RasterWriter:
    """Writes one target block by block into its staging folder; ``commit`` moves it into
    place, ``discard`` deletes the staging folder."""

    def __init__(self, target: RasterTarget, grid: Grid):
        self.target = target
        self.grid = grid
        self.final = Path(target.path)
        if target.dtype not in GDAL_TYPES:
            raise ValueError(f"unsupported output type {target.dtype}")
        self.driver = check_format(target.path, target.parameter, target.bands, target.dtype)
        check_replaceable(self.final, target.parameter)
        self.dtype = np.dtype(target.dtype)
        if (
            target.nodata is not None
            and self.dtype.kind == "f"
            and math.isfinite(target.nodata)
            and abs(target.nodata) > float(np.finfo(self.dtype).max)
        ):
            raise EngineError(
                target.parameter,
                f"the NoData value {target.nodata:g} is outside the range of {target.dtype}",
            )
        #: Valid (finite) values equal to the NoData value: they read back as NoData.
        self.collisions = 0
        directory = self.final.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EngineError(
                target.parameter, f"cannot create folder {directory}: {error}"
            ) from None
        if not os.access(directory, os.W_OK):
            raise EngineError(target.parameter, f"folder {directory} is not writable")
        token = uuid.uuid4().hex[:12]
        #: Hidden folder holding the output (and its side files) under their final names.
        self.staging = directory / f".{self.final.name}.{token}.partial"
        try:
            self.staging.mkdir()
        except OSError as error:
            raise EngineError(target.parameter, f"cannot be written: {error}") from None
        self.dataset = None
        try:
            self._create(grid)
        except BaseException:  # an interrupt included: no staging folder may stay behind
            self.dataset = None
            _remove(self.staging)
            raise

    def _create(self, grid: Grid) -> None:
        target = self.target
        self.temporary = self.staging / (
            self.final.name if self.driver == "GTiff" else "source.partial.tif"
        )
        self.finished = False
        options = geotiff_options(target.dtype, target.compression)
        try:
            self.dataset = gdal.GetDriverByName("GTiff").Create(
                str(self.temporary),
                grid.width,
                grid.height,
                target.bands,
                GDAL_TYPES[target.dtype],
                options,
            )
        except RuntimeError as error:
            raise EngineError(target.parameter, f"cannot be written: {error}") from None
        self.dataset.SetGeoTransform(grid.geotransform)
        self.dataset.SetProjection(grid.crs_wkt)
        for i in range(target.bands):
            band = self.dataset.GetRasterBand(i + 1)
            if target.nodata is not None:
                band.SetNoDataValue(self._stored_nodata())
            if target.band_names:
                band.SetDescription(target.band_names[i])
        if target.classes:
            self._set_color_table()
        if target.metadata:
            self.dataset.SetMetadata({k: str(v) for k, v in target.metadata.items()})

    def _stored_nodata(self) -> float:
        """The NoData value as the band stores it (a float32 band holds float32 values)."""
        nodata = float(self.target.nodata)
        if self.dtype.kind == "f" and math.isfinite(nodata):
            return float(self.dtype.type(nodata))
        return nodata

    def _set_color_table(self) -> None:
        table = gdal.ColorTable()
        names = {}
        for raster_class in self.target.classes:
            table.SetColorEntry(int(raster_class.code), raster_class.rgba)
            names[int(raster_class.code)] = raster_class.label
        band = self.dataset.GetRasterBand(1)
        band.SetRasterColorTable(table)
        band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
        band.SetCategoryNames([names.get(code, "") for code in range(max(names) + 1)])

    def write(self, window: Window, values: np.ndarray) -> None:
        """Write a block; NaN (and non-finite values) become the target's NoData."""
        if values.ndim == 2:
            values = values[np.newaxis]
        if values.shape != (self.target.bands, window.height, window.width):
            raise ValueError(
                f"{self.target.parameter}: block of shape {values.shape} does not fit "
                f"{self.target.bands} band(s) of {window.height}×{window.width}"
            )
        nodata = self.target.nodata
        if self.dtype.kind == "f":
            if nodata is not None and not math.isnan(nodata):
                stored = self._stored_nodata()
                values = values.astype(self.dtype, copy=False)
                self.collisions += int(np.count_nonzero(values == stored))
                values = np.where(np.isfinite(values), values, stored)
            values = values.astype(self.dtype, copy=False)
        else:
            invalid = ~np.isfinite(values) if values.dtype.kind == "f" else None
            values = (
                values.astype(self.dtype)
                if invalid is None
                else np.where(invalid, nodata if nodata is not None else 0, values).astype(
                    self.dtype
                )
            )
        values = np.ascontiguousarray(values)
        self.dataset.WriteRaster(
            window.col,
            window.row,
            window.width,
            window.height,
            memoryview(values).cast("B"),  # the array's own buffer: no copy
            buf_type=GDAL_TYPES[self.target.dtype],
            band_list=list(range(1, self.target.bands + 1)),
        )

    def finish(self) -> None:
        """Flush and close; convert to the final format when it is not GeoTIFF; write the
        style. Everything stays in the staging folder."""
        self.dataset.FlushCache()
        self.dataset = None
        if self.driver != "GTiff":
            converted = self.staging / self.final.name
            try:
                gdal.Translate(str(converted), str(self.temporary), format=self.driver)
            except RuntimeError as error:
                raise EngineError(
                    self.target.parameter, f"cannot be written as {self.driver}: {error}"
                ) from None
            gdal.GetDriverByName("GTiff").Delete(str(self.temporary))
            _remove(Path(f"{self.temporary}.aux.xml"))
        if self.target.style or self.target.classes:
            style = self.staging / self.final.with_suffix(".qml").name
            style.write_text(
                self.target.style or paletted_qml(self.target.classes), encoding="utf-8"
            )
        self.finished = True

    def commit_into(self, replacement: Replacement) -> None:
        """Move the finished files into place through ``replacement`` (which can undo it);
        an earlier output's statistics side file (``.aux.xml``) is set aside."""
        staged = sorted(os.listdir(self.staging))
        stale = f"{self.final.name}.aux.xml"
        if stale not in staged:
            replacement.remove(self.final.parent / stale)
        # The raster itself last: its side files are in place when it appears.
        staged.sort(key=lambda name: name == self.final.name)
        for name in staged:
            replacement.put(self.staging / name, self.final.parent / name, self.target.parameter)
        _remove(self.staging)
        if self.collisions:
            replacement.warnings.append(
                f"{self.target.parameter}: {self.collisions} valid pixel value(s) equal the "
                f"NoData value {self.target.nodata:g} and read back as NoData; choose another "
                "NoData value (OUTPUT_NODATA_VALUE) to keep them"
            )

    def commit(self) -> None:
        """Move this output into place (all its files, or none of them)."""
        replacement = Replacement()
        try:
            self.commit_into(replacement)
        except BaseException:
            replacement.rollback()
            raise
        hand_over(replacement)

    def discard(self) -> None:
        self.dataset = None
        _remove(self.staging)


class OutputSet:
    """The outputs of one run, written together: all of them appear, or none.

    Targets may be None (outputs the user did not ask for): the matching kernel results are
    dropped. Use as a context manager: leaving it with an exception discards every staging
    folder; ``commit()`` finishes them and moves them all into place, or, when any of them
    cannot be moved in, none (the files already replaced are put back).
    """

    def __init__(self, targets, grid: Grid):
        self.targets = list(targets)
        self.writers: list[RasterWriter | None] = []
        active = [t for t in self.targets if t is not None]
        finals = {}
        for target in active:
            key = os.path.realpath(target.path)
            if key in finals:
                raise EngineError(
                    target.parameter,
                    f"is the same file as {finals[key]} ({target.path}); each output needs "
                    "its own file",
                )
            finals[key] = target.parameter
        try:
            for target in self.targets:
                self.writers.append(RasterWriter(target, grid) if target is not None else None)
        except BaseException:
            self.discard()
            raise

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is not None:
            self.discard()

    @property
    def band_count(self) -> int:
        return sum(t.bands for t in self.targets if t is not None)

    def write(self, window: Window, results) -> None:
        """Write one block: ``results`` holds one array per target (None targets included)."""
        if isinstance(results, np.ndarray):
            results = (results,)
        if len(results) != len(self.writers):
            raise ValueError(f"kernel returned {len(results)} outputs for {len(self.writers)}")
        for writer, values in zip(self.writers, results, strict=True):
            if writer is not None:
                writer.write(window, values)

    def commit(self) -> None:
        commit_all([w for w in self.writers if w is not None])

    def discard(self) -> None:
        for writer in self.writers:
            if writer is not None:
                writer.discard()


def commit_all(writers) -> None:
    """Finish ``writers`` and move them all into place, or none of them: when one cannot be
    moved in, the files already replaced are put back and every staging folder is deleted."""
    writers = list(writers)
    replacement = Replacement()
    try:
        for writer in writers:
            writer.finish()
        for writer in writers:
            writer.commit_into(replacement)
    except BaseException:
        replacement.rollback()
        for writer in writers:
            writer.discard()
        raise
    hand_over(replacement)

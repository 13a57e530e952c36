"""Atomic raster outputs: written under a temporary name, renamed into place on success.

A failed or cancelled run deletes its temporary files and leaves any earlier file at the output
path untouched. GeoTIFF outputs are tiled and compressed; other extensions are converted from
the temporary GeoTIFF with the matching GDAL driver before the rename.
"""

from __future__ import annotations

import math
import os
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


def _driver_for(path: str) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("tif", "tiff", ""):
        return "GTiff"
    for i in range(gdal.GetDriverCount()):
        driver = gdal.GetDriver(i)
        meta = driver.GetMetadata() or {}
        extensions = (meta.get(gdal.DMD_EXTENSIONS) or "").lower().split()
        if (
            suffix in extensions
            and meta.get(gdal.DCAP_RASTER) == "YES"
            and (meta.get(gdal.DCAP_CREATECOPY) == "YES" or meta.get(gdal.DCAP_CREATE) == "YES")
        ):
            return driver.ShortName
    raise EngineError("OUTPUT", f"no GDAL driver writes '.{suffix}' files")


class RasterWriter:
    """Writes one target block by block; ``commit`` renames it into place, ``discard`` deletes."""

    def __init__(self, target: RasterTarget, grid: Grid):
        self.target = target
        self.grid = grid
        self.final = Path(target.path)
        self.driver = _driver_for(target.path)
        if target.dtype not in GDAL_TYPES:
            raise ValueError(f"unsupported output type {target.dtype}")
        self.dtype = np.dtype(target.dtype)
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
        self.temporary = directory / f".{self.final.stem}.{token}.partial.tif"
        self._converted: Path | None = None
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
                band.SetNoDataValue(float(target.nodata))
            if target.band_names:
                band.SetDescription(target.band_names[i])
        if target.classes:
            self._set_color_table()
        if target.metadata:
            self.dataset.SetMetadata({k: str(v) for k, v in target.metadata.items()})

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
                values = np.where(np.isfinite(values), values, nodata)
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
        """Flush and close; convert to the final format when it is not GeoTIFF."""
        self.dataset.FlushCache()
        self.dataset = None
        if self.driver != "GTiff":
            converted = (
                self.final.parent
                / f".{self.final.stem}.{uuid.uuid4().hex[:12]}.partial{self.final.suffix}"
            )
            self._converted = converted
            try:
                gdal.Translate(str(converted), str(self.temporary), format=self.driver)
            except RuntimeError as error:
                raise EngineError(
                    self.target.parameter, f"cannot be written as {self.driver}: {error}"
                ) from None
            gdal.GetDriverByName("GTiff").Delete(str(self.temporary))

    def commit(self) -> None:
        """Move the finished file into place, replacing an earlier output and its stale
        statistics side file."""
        stale = Path(f"{self.final}.aux.xml")
        if stale.exists():
            stale.unlink()
        if self.target.style or self.target.classes:
            self._write_style()
        if self._converted is None:
            # GeoTIFF keeps what TIFF tags cannot hold (category names) in a .aux.xml side file.
            side = Path(f"{self.temporary}.aux.xml")
            if side.exists():
                os.replace(side, stale)
            os.replace(self.temporary, self.final)
            return
        # Other formats may have side files (.hdr, .aux.xml): the driver renames them all.
        driver = gdal.GetDriverByName(self.driver)
        if self.final.exists():
            driver.Delete(str(self.final))
        driver.Rename(str(self.final), str(self._converted))

    def _write_style(self) -> None:
        style = self.final.with_suffix(".qml")
        partial = style.parent / f".{style.name}.{uuid.uuid4().hex[:12]}.partial"
        partial.write_text(self.target.style or paletted_qml(self.target.classes), encoding="utf-8")
        os.replace(partial, style)

    def discard(self) -> None:
        self.dataset = None
        if self._converted is not None and self._converted.exists():
            try:
                gdal.GetDriverByName(self.driver).Delete(str(self._converted))
            except RuntimeError:  # half-written: not recognised as a dataset
                self._converted.unlink()
        for leftover in (self.temporary, Path(f"{self.temporary}.aux.xml")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass


class OutputSet:
    """The outputs of one run, written together: all of them appear, or none.

    Targets may be None (outputs the user did not ask for): the matching kernel results are
    dropped. Use as a context manager: leaving it with an exception discards every temporary
    file; ``commit()`` finishes and renames them all into place.
    """

    def __init__(self, targets, grid: Grid):
        self.targets = list(targets)
        self.writers: list[RasterWriter | None] = []
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
        active = [w for w in self.writers if w is not None]
        for writer in active:
            writer.finish()
        for writer in active:
            writer.commit()

    def discard(self) -> None:
        for writer in self.writers:
            if writer is not None:
                writer.discard()

"""Output grids and inputs aligned onto them.

An algorithm's output grid is the grid of its first raster input, or of a reference layer, as
stored: a south-up grid (positive pixel height) or an east-to-west one stays so, pixel for
pixel. Every other input is brought onto that grid on the fly: read directly when it covers the
same pixels (in the same or the mirrored row or column order), otherwise through a GDAL warped
VRT (always north-up, so its rows and columns are mirrored on reading when the output grid runs
the other way). Nothing is written to disk and only the pixels of the block being read are
resampled.

Reading also makes non-finite values (±Inf) NoData, and an int16 band that declares no NoData
value reads −32768 (the type's minimum, the usual void of DEMs) as NoData; both are counted and
reported through the ``warn`` callback.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from osgeo import gdal, osr

from .errors import EngineError

gdal.UseExceptions()
osr.UseExceptions()

RESAMPLING = {
    "nearest": "near",
    "bilinear": "bilinear",
    "cubic": "cubic",
    "average": "average",
    "mode": "mode",
}


@dataclass(frozen=True)
class Window:
    """A rectangle of pixels: column and row offsets, width and height."""

    col: int
    row: int
    width: int
    height: int

    @property
    def size(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class Grid:
    """A raster grid: size, geotransform (GDAL order) and CRS as WKT.

    Rows may run north to south (the usual negative pixel height) or south to north, columns
    west to east or east to west; rotated grids (geotransform[2] or [4] non-zero) cannot be the
    output grid (``resolve_grid`` refuses them)."""

    width: int
    height: int
    geotransform: tuple[float, float, float, float, float, float]
    crs_wkt: str

    @classmethod
    def of(cls, dataset: gdal.Dataset, crs_wkt: str | None = None) -> Grid:
        return cls(
            dataset.RasterXSize,
            dataset.RasterYSize,
            tuple(dataset.GetGeoTransform()),
            crs_wkt if crs_wkt is not None else dataset.GetProjection(),
        )

    @property
    def pixel_width(self) -> float:
        return abs(self.geotransform[1])

    @property
    def pixel_height(self) -> float:
        return abs(self.geotransform[5])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the grid's CRS (of its four corners, so also for a
        rotated grid)."""
        x0, dx, rx, y0, ry, dy = self.geotransform
        corners = [(c, r) for c in (0, self.width) for r in (0, self.height)]
        xs = [x0 + c * dx + r * rx for c, r in corners]
        ys = [y0 + c * ry + r * dy for c, r in corners]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def is_rotated(self) -> bool:
        """True when rows or columns are not parallel to the CRS axes."""
        return self.geotransform[2] != 0 or self.geotransform[4] != 0

    @property
    def is_north_up(self) -> bool:
        """Not rotated, columns west to east and rows north to south (GDAL's usual layout)."""
        return not self.is_rotated and self.geotransform[1] > 0 and self.geotransform[5] < 0

    def north_up(self) -> Grid:
        """The same pixels in north-up order (rows north to south, columns west to east); the
        grid itself when it already is. Only for grids that are not rotated."""
        if self.is_north_up:
            return self
        xmin, ymin, xmax, ymax = self.bounds
        return Grid(
            self.width,
            self.height,
            (xmin, self.pixel_width, 0.0, ymax, 0.0, -self.pixel_height),
            self.crs_wkt,
        )

    def flips(self, other: Grid) -> tuple[bool, bool]:
        """(rows, columns): whether ``other`` runs the other way than this grid along each
        axis (two grids that are not rotated)."""
        return (
            (self.geotransform[5] > 0) != (other.geotransform[5] > 0),
            (self.geotransform[1] < 0) != (other.geotransform[1] < 0),
        )

    def srs(self) -> osr.SpatialReference:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(self.crs_wkt)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        return srs

    def matches(self, other: Grid) -> bool:
        """Same size, same pixel positions (to 1/1000 pixel) and the same CRS."""
        if (self.width, self.height) != (other.width, other.height):
            return False
        tolerance = 1e-3 * min(self.pixel_width, self.pixel_height)
        if any(
            abs(a - b) > tolerance
            for a, b in zip(self.geotransform, other.geotransform, strict=True)
        ):
            return False
        return bool(self.srs().IsSame(other.srs()))

    def window_geotransform(self, window: Window) -> tuple[float, ...]:
        x0, dx, rx, y0, ry, dy = self.geotransform
        return (
            x0 + window.col * dx + window.row * rx,
            dx,
            rx,
            y0 + window.col * ry + window.row * dy,
            ry,
            dy,
        )

    def north_up_position(self, rows: np.ndarray, cols: np.ndarray):
        """(rows, cols) of pixels of this grid counted in north-up order (rows from the north,
        columns from the west), and back (the mapping is its own inverse). Work keyed on pixel
        positions (seeded samples) uses it to pick the same map cells whatever the layout."""
        flip_rows, flip_cols = self.flips(self.north_up())
        return (
            self.height - 1 - rows if flip_rows else rows,
            self.width - 1 - cols if flip_cols else cols,
        )

    def pixel_centres(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates of the pixel centres of ``window``: x of its columns, y of its rows
        (grids that are not rotated, whichever way their rows and columns run)."""
        x0, dx, _, y0, _, dy = self.geotransform
        x = x0 + (window.col + np.arange(window.width) + 0.5) * dx
        y = y0 + (window.row + np.arange(window.height) + 0.5) * dy
        return x, y

    def pixel_area(self) -> float:
        """Area of one pixel in squared CRS units."""
        return self.pixel_width * self.pixel_height


def open_dataset(path: str, parameter: str) -> gdal.Dataset:
    try:
        dataset = gdal.Open(path, gdal.GA_ReadOnly)
    except RuntimeError as error:
        raise EngineError(parameter, f"cannot be opened as a raster ({error})") from None
    if dataset is None:
        raise EngineError(parameter, f"cannot be opened as a raster: {path}")
    return dataset


def require_crs(dataset: gdal.Dataset, parameter: str, crs_wkt: str | None = None) -> str:
    """The dataset's CRS as WKT (``crs_wkt`` when the file has none), or an error naming the
    parameter."""
    wkt = dataset.GetProjection() or crs_wkt
    if not wkt:
        raise EngineError(
            parameter,
            "has no coordinate reference system; assign one (Raster ▸ Projections ▸ Assign "
            "Projection, or gdal_edit.py -a_srs) so that it can be aligned with the other inputs",
        )
    return wkt


def transformed_bounds(grid: Grid, target: Grid) -> tuple[float, float, float, float]:
    """Bounds of ``grid`` expressed in ``target``'s CRS (densified edges)."""
    source_srs, target_srs = grid.srs(), target.srs()
    if source_srs.IsSame(target_srs):
        return grid.bounds
    transform = osr.CoordinateTransformation(source_srs, target_srs)
    xmin, ymin, xmax, ymax = grid.bounds
    return transform.TransformBounds(xmin, ymin, xmax, ymax, 21)


def overlaps(grid: Grid, target: Grid) -> bool:
    try:
        xmin, ymin, xmax, ymax = transformed_bounds(grid, target)
    except RuntimeError:
        return False
    txmin, tymin, txmax, tymax = target.bounds
    finite = all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax))
    return finite and xmin < txmax and xmax > txmin and ymin < tymax and ymax > tymin


#: An int16 band that declares no NoData value reads this value (the type's minimum, the void
#: of SRTM and of many DEM exports) as NoData.
INT16_VOID = -32768


def _value_count(path: str, band: int, value: float) -> int:
    """Cells of ``band`` of ``path`` equal to ``value``, read in strips of about 4 M pixels;
    remembered per file version (path, size, modification time)."""
    try:
        status = os.stat(path)
    except OSError:
        return _count_cells(path, band, value)
    return _count_cells_cached(path, band, value, (status.st_size, status.st_mtime_ns))


def _count_cells(path: str, band: int, value: float) -> int:
    dataset = gdal.Open(path, gdal.GA_ReadOnly)
    raster = dataset.GetRasterBand(band)
    width, height = dataset.RasterXSize, dataset.RasterYSize
    rows = max(1, 2**22 // max(width, 1))
    return sum(
        int(np.count_nonzero(raster.ReadAsArray(0, row, width, min(rows, height - row)) == value))
        for row in range(0, height, rows)
    )


@lru_cache(maxsize=64)
def _count_cells_cached(path: str, band: int, value: float, version: tuple) -> int:
    return _count_cells(path, band, value)


class AlignedRaster:
    """One input raster seen on the output grid, read block by block as float with NaN NoData.

    When the input covers the grid's pixels (in the same order, or with rows or columns
    mirrored: a south-up copy of a north-up grid) it is read directly, mirrored as needed;
    otherwise a warped VRT resamples it (``resampling``: nearest for classes, bilinear for
    continuous values) onto the grid's north-up twin, mirrored on reading when the grid runs
    the other way. Rotated inputs are resampled too; a rotated output grid is not supported.
    Pixels the input does not cover, its NoData values, masked pixels and ±Inf all read as NaN.
    An int16 band without a NoData value reads −32768 as NoData (``INT16_VOID``). ``warn``
    receives one message for each of these two rules that changed a value.
    """

    def __init__(
        self,
        path: str,
        grid: Grid,
        *,
        parameter: str,
        bands: tuple[int, ...] | None = None,
        resampling: str = "bilinear",
        crs_wkt: str | None = None,
        nodata: float | None = None,
        dtype: type = np.float32,
        warn: Callable[[str], None] | None = None,
    ):
        self.parameter = parameter
        self.dtype = np.dtype(dtype)
        self._warn = warn
        #: ±Inf values read inside the blocks' windows (halos not counted).
        self.infinite = 0
        source = open_dataset(path, parameter)
        count = source.RasterCount
        self.bands = tuple(bands) if bands else tuple(range(1, count + 1))
        for band in self.bands:
            if not 1 <= band <= count:
                raise EngineError(parameter, f"has {count} band(s); band {band} does not exist")
        wkt = require_crs(source, parameter, crs_wkt)
        own_grid = Grid.of(source, wkt)
        self.nodata = [self._nodata(source, path, b, nodata) for b in self.bands]
        self._source = source
        #: Whether rows / columns of ``self.dataset`` run the other way than the grid's.
        self.flips = (False, False)
        if own_grid.matches(grid):
            # Read as stored (even a rotated grid: a raster read on its own grid, e.g. to
            # count its classes).
            self.dataset = source
            self.band_list = list(self.bands)
            self.warped = False
        elif grid.is_rotated:
            raise EngineError(parameter, "cannot be aligned to a rotated output grid")
        elif not own_grid.is_rotated and own_grid.north_up().matches(grid.north_up()):
            # The same pixels stored in the other row (or column) order: no resampling.
            self.dataset = source
            self.band_list = list(self.bands)
            self.warped = False
            self.flips = grid.flips(own_grid)
        else:
            if not overlaps(own_grid, grid):
                raise EngineError(
                    parameter, "does not overlap the output grid (check extents and CRS)"
                )
            twin = grid.north_up()
            self.dataset = self._warp(source, own_grid, twin, resampling)
            self.band_list = list(range(1, len(self.bands) + 1))
            self.warped = True
            self.flips = grid.flips(twin)
        self._mask_bands = self._explicit_masks()

    def _nodata(self, source, path: str, band: int, override: float | None) -> float | None:
        """The band's NoData value: ``override``, the file's, or −32768 for an int16 band that
        declares none and holds that value (reported through ``warn`` with the count)."""
        if override is not None:
            return override
        raster = source.GetRasterBand(band)
        value = raster.GetNoDataValue()
        if value is not None or raster.DataType != gdal.GDT_Int16:
            return value
        voids = _value_count(path, band, INT16_VOID)
        if not voids:
            return None
        one = voids == 1
        self._report(
            f"{self.parameter}: band {band} is int16 without a declared NoData value; its "
            f"{voids:,} cell{'' if one else 's'} of {INT16_VOID} (the int16 minimum, the usual "
            f"void value) {'is' if one else 'are'} read as NoData. Declare the NoData value to "
            f"confirm (gdal_edit.py -a_nodata {INT16_VOID}), or another one if these cells are "
            "data."
        )
        return float(INT16_VOID)

    def _report(self, message: str) -> None:
        if self._warn is not None:
            self._warn(message)

    def _warp(self, source, own_grid, grid, resampling):
        # A band subset first (cheap VRT), so the warper touches only the bands we read.
        subset = gdal.Translate(
            "", source, format="VRT", bandList=list(self.bands), outputSRS=own_grid.crs_wkt
        )
        src_nodata = [v for v in self.nodata]
        options = {
            "format": "VRT",
            "outputBounds": grid.bounds,
            "width": grid.width,
            "height": grid.height,
            "dstSRS": grid.crs_wkt,
            "resampleAlg": RESAMPLING.get(resampling, resampling),
            "outputType": gdal.GDT_Float64 if self.dtype == np.float64 else gdal.GDT_Float32,
            "dstNodata": "nan",
            "warpOptions": ["INIT_DEST=NO_DATA", "UNIFIED_SRC_NODATA=PARTIAL"],
        }
        if all(v is not None for v in src_nodata):
            options["srcNodata"] = " ".join(repr(float(v)) for v in src_nodata)
        if own_grid.is_rotated:
            options["warpOptions"] += self._rotated_scale(own_grid, grid)
        try:
            warped = gdal.Warp("", subset, **options)
        except RuntimeError as error:
            raise EngineError(
                self.parameter, f"cannot be aligned to the output grid: {error}"
            ) from None
        self._subset = subset
        return warped

    def _rotated_scale(self, own_grid: Grid, grid: Grid) -> list[str]:
        """Warp options giving the resampling scale of a rotated input explicitly: GDAL derives
        it from the extents of the source and target windows in pixels, which a rotation
        distorts (a 90° rotation swaps them), and then widens the bilinear or cubic kernel as
        if downsampling, blurring the values. The scale is the ratio of the pixel sizes (mean
        side lengths), at most 1; only within one CRS."""
        if not own_grid.srs().IsSame(grid.srs()):
            raise EngineError(
                self.parameter,
                "is rotated and in another CRS than the output grid; warp it to that CRS "
                "first (gdalwarp -t_srs …), which also removes the rotation",
            )
        _, dx, rx, _, ry, dy = own_grid.geotransform
        source_size = math.sqrt(math.hypot(dx, ry) * math.hypot(rx, dy))
        target_size = math.sqrt(grid.pixel_width * grid.pixel_height)
        scale = min(1.0, source_size / target_size)
        return [f"XSCALE={scale!r}", f"YSCALE={scale!r}"]

    def _explicit_masks(self):
        """Mask bands (alpha, .msk) other than NoData or all-valid, applied on reading."""
        if self.warped:
            return None
        masks = []
        for band in self.bands:
            b = self.dataset.GetRasterBand(band)
            flags = b.GetMaskFlags()
            if flags & (gdal.GMF_ALL_VALID | gdal.GMF_NODATA):
                masks.append(None)
            else:
                masks.append(b.GetMaskBand())
        return masks if any(m is not None for m in masks) else None

    @property
    def band_count(self) -> int:
        return len(self.bands)

    def read(self, window: Window, halo: int = 0) -> np.ndarray:
        """Pixels of ``window`` grown by ``halo`` on every side: (bands, rows, cols).

        Halo pixels beyond the raster's edge are NaN, so moving windows see "no data" there.
        """
        width, height = self.dataset.RasterXSize, self.dataset.RasterYSize
        col0, row0 = window.col - halo, window.row - halo
        col1, row1 = window.col + window.width + halo, window.row + window.height + halo
        flip_rows, flip_cols = self.flips
        # The window in the order of the dataset's own rows and columns.
        if flip_rows:
            row0, row1 = height - row1, height - row0
        if flip_cols:
            col0, col1 = width - col1, width - col0
        c0, r0 = max(col0, 0), max(row0, 0)
        c1, r1 = min(col1, width), min(row1, height)
        if c1 <= c0 or r1 <= r0:
            return np.full((len(self.bands), row1 - row0, col1 - col0), np.nan, self.dtype)
        data = self._read_pixels(c0, r0, c1, r1)
        if not self.warped:
            for i, value in enumerate(self.nodata):
                if value is not None and not math.isnan(value):
                    band = data[i]
                    band[band == self.dtype.type(value)] = np.nan
            if self._mask_bands:
                for i, mask in enumerate(self._mask_bands):
                    if mask is not None:
                        valid = mask.ReadAsArray(c0, r0, c1 - c0, r1 - r0)
                        data[i][valid == 0] = np.nan
        infinite = np.isinf(data)
        if infinite.any():
            # Counted inside the window only (halos overlap the neighbouring blocks).
            inside = infinite[
                :,
                max(r0, row0 + halo) - r0 : min(r1, row1 - halo) - r0,
                max(c0, col0 + halo) - c0 : min(c1, col1 - halo) - c0,
            ]
            self.infinite += int(np.count_nonzero(inside))
            data[infinite] = np.nan
        if (c0, r0, c1, r1) != (col0, row0, col1, row1):
            out = np.full((len(self.bands), row1 - row0, col1 - col0), np.nan, dtype=self.dtype)
            out[:, r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = data
            data = out
        if flip_rows or flip_cols:
            rows = slice(None, None, -1 if flip_rows else 1)
            cols = slice(None, None, -1 if flip_cols else 1)
            data = np.ascontiguousarray(data[:, rows, cols])
        return data

    def _read_pixels(self, c0, r0, c1, r1) -> np.ndarray:
        whole = (c0, r0, c1, r1) == (0, 0, self.dataset.RasterXSize, self.dataset.RasterYSize)
        if self.warped and whole and (r1 > 1 or c1 > 1):
            # GDAL >= 3.10 warps a read that covers a whole warped VRT by another path than
            # block reads, with bilinear values up to ~1e-3 of the range apart; two reads keep
            # every block layout on gdal.Warp's values, as on earlier versions.
            if r1 > 1:
                first, last = (c0, r0, c1, r1 - 1), (c0, r1 - 1, c1, r1)
            else:
                first, last = (c0, r0, c1 - 1, r1), (c1 - 1, r0, c1, r1)
            return np.concatenate(
                [self._read_pixels(*first), self._read_pixels(*last)], axis=1 if r1 > 1 else 2
            )
        data = self.dataset.ReadAsArray(
            c0,
            r0,
            c1 - c0,
            r1 - r0,
            band_list=self.band_list,
            buf_type=gdal.GDT_Float64 if self.dtype == np.float64 else gdal.GDT_Float32,
        )
        return data.reshape(len(self.bands), r1 - r0, c1 - c0)

    def close(self) -> None:
        """Release the files; report the ±Inf values read as NoData, if any."""
        if self.infinite:
            one = self.infinite == 1
            self._report(
                f"{self.parameter}: {self.infinite:,} value{'' if one else 's'} of ±Inf "
                f"(infinite, e.g. from a division by zero) {'was' if one else 'were'} read as "
                "NoData"
            )
            self.infinite = 0
        self.dataset = None
        self._source = None
        self._subset = None

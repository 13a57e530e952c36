"""Output grids and inputs aligned onto them.

An algorithm's output grid is the grid of its first raster input, or of a reference layer. Every
other input is brought onto that grid on the fly through a GDAL warped VRT: nothing is written to
disk and only the pixels of the block being read are resampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    """A north-up raster grid: size, geotransform (GDAL order) and CRS as WKT."""

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
        """(xmin, ymin, xmax, ymax) in the grid's CRS."""
        x0, dx, _, y0, _, dy = self.geotransform
        xs = (x0, x0 + dx * self.width)
        ys = (y0, y0 + dy * self.height)
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def is_north_up(self) -> bool:
        return self.geotransform[2] == 0 and self.geotransform[4] == 0

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

    def pixel_centres(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates of the pixel centres of ``window``: x of its columns, y of its rows
        (north-up grids)."""
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


class AlignedRaster:
    """One input raster seen on the output grid, read block by block as float with NaN NoData.

    When the input already lies on the grid it is read directly; otherwise a warped VRT
    resamples it (``resampling``: nearest for classes, bilinear for continuous values).
    Pixels the input does not cover, its NoData values and masked pixels all read as NaN.
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
    ):
        self.parameter = parameter
        self.dtype = np.dtype(dtype)
        source = open_dataset(path, parameter)
        count = source.RasterCount
        self.bands = tuple(bands) if bands else tuple(range(1, count + 1))
        for band in self.bands:
            if not 1 <= band <= count:
                raise EngineError(parameter, f"has {count} band(s); band {band} does not exist")
        wkt = require_crs(source, parameter, crs_wkt)
        own_grid = Grid.of(source, wkt)
        self.nodata = [
            nodata if nodata is not None else source.GetRasterBand(b).GetNoDataValue()
            for b in self.bands
        ]
        self._source = source
        if own_grid.matches(grid):
            self.dataset = source
            self.band_list = list(self.bands)
            self.warped = False
        else:
            if not own_grid.is_north_up:
                raise EngineError(parameter, "is rotated; only north-up rasters can be aligned")
            if not overlaps(own_grid, grid):
                raise EngineError(
                    parameter, "does not overlap the output grid (check extents and CRS)"
                )
            self.dataset = self._warp(source, own_grid, grid, resampling)
            self.band_list = list(range(1, len(self.bands) + 1))
            self.warped = True
        self._mask_bands = self._explicit_masks()

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
        try:
            warped = gdal.Warp("", subset, **options)
        except RuntimeError as error:
            raise EngineError(
                self.parameter, f"cannot be aligned to the output grid: {error}"
            ) from None
        self._subset = subset
        return warped

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
        if (c0, r0, c1, r1) == (col0, row0, col1, row1):
            return data  # entirely inside the raster: no padding, no copy
        out = np.full((len(self.bands), row1 - row0, col1 - col0), np.nan, dtype=self.dtype)
        out[:, r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = data
        return out

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
        self.dataset = None
        self._source = None
        self._subset = None

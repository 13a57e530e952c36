"""The benchmark's input and its cross-check: a synthetic six-band reflectance stack, and a
block-by-block comparison of two single-band rasters.

The stack mimics a Landsat 8 OLI surface-reflectance scene of a mining area, in the canonical
band order blue, green, red, NIR, SWIR1, SWIR2 (float32, 0-1, NoData -9999):

* every pixel mixes four end-members (vegetation, bare soil/spoil, water, bright rock/tailings)
  with fractions that vary smoothly over about 2 km, plus sensor noise;
* NoData: the corners outside a scene footprint tilted by 12° (as a Landsat path is), scattered
  cloud-mask holes in all bands, and a few pixels missing in the NIR band only.

It is written tiled 256×256, pixel-interleaved (GDAL's default, as the plugin's own
"Landsat reflectance" writes it) and uncompressed, so reading costs the same for every tool.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

BANDS = ("blue", "green", "red", "nir", "swir1", "swir2")
NODATA = -9999.0
#: Written into the file's metadata; a stack without it (or an older one) is generated again.
STACK_TAG = "mine-eco-bench-stack-v1"
EPSG = 32650  # WGS 84 / UTM zone 50N
PIXEL = 30.0
ORIGIN = (400000.0, 4400000.0)
TILE = 256
CELL = 64  # pixels between the nodes of the smooth land-cover fields (~2 km at 30 m)

# Surface reflectance of the end-members, bands blue … SWIR2.
ENDMEMBERS = np.array(
    [
        [0.030, 0.060, 0.040, 0.350, 0.180, 0.080],  # vegetation
        [0.090, 0.130, 0.170, 0.240, 0.320, 0.270],  # bare soil, spoil heaps
        [0.060, 0.050, 0.030, 0.020, 0.010, 0.005],  # water, pit lakes
        [0.180, 0.220, 0.250, 0.290, 0.340, 0.300],  # bright rock, tailings
    ],
    dtype=np.float32,
)


def stack_path(folder: Path, size: int) -> Path:
    return folder / f"stack_{size}.tif"


def is_valid_stack(path: Path, size: int) -> bool:
    """True when ``path`` is a complete benchmark stack of ``size``×``size`` pixels."""
    if not path.exists():
        return False
    try:
        dataset = gdal.Open(str(path))
    except RuntimeError:
        return False
    band = dataset.GetRasterBand(1)
    return (
        dataset.RasterXSize == size
        and dataset.RasterYSize == size
        and dataset.RasterCount == len(BANDS)
        and band.DataType == gdal.GDT_Float32
        and dataset.GetMetadataItem("MINE_ECO_BENCH") == STACK_TAG
    )


def ensure_stack(folder: Path, size: int) -> tuple[Path, bool]:
    """The stack of ``size``×``size`` pixels in ``folder``, generated unless already there.
    Returns the path and whether it was generated."""
    path = stack_path(folder, size)
    if is_valid_stack(path, size):
        return path, False
    folder.mkdir(parents=True, exist_ok=True)
    # Written under another name and renamed, so an interrupted run leaves no half stack.
    partial = path.with_name(f".{path.name}.partial")
    write_stack(partial, size)
    os.replace(partial, path)
    return path, True


def write_stack(path: Path, size: int) -> None:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    options = ["TILED=YES", f"BLOCKXSIZE={TILE}", f"BLOCKYSIZE={TILE}", "BIGTIFF=IF_SAFER"]
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(path), size, size, len(BANDS), gdal.GDT_Float32, options
    )
    dataset.SetGeoTransform((ORIGIN[0], PIXEL, 0.0, ORIGIN[1], 0.0, -PIXEL))
    dataset.SetProjection(srs.ExportToWkt())
    dataset.SetMetadataItem("MINE_ECO_BENCH", STACK_TAG)
    for index, name in enumerate(BANDS, start=1):
        band = dataset.GetRasterBand(index)
        band.SetNoDataValue(NODATA)
        band.SetDescription(name)
    fields = SmoothFields(np.random.default_rng([size, 0]), size, layers=len(ENDMEMBERS))
    for row in range(0, size, TILE):
        rows = min(TILE, size - row)
        block = reflectance_rows(fields, size, row, rows)
        dataset.WriteRaster(
            0, row, size, rows, block.tobytes(), band_list=list(range(1, len(BANDS) + 1))
        )
    dataset.FlushCache()
    dataset = None


class SmoothFields:
    """Random fields that vary smoothly: normal values on a coarse grid, bilinearly
    interpolated to the pixels."""

    def __init__(self, rng: np.random.Generator, size: int, layers: int):
        nodes = size // CELL + 2
        self.nodes = rng.normal(size=(layers, nodes, nodes)).astype(np.float32)

    def rows(self, first: int, count: int, width: int) -> np.ndarray:
        """The fields at rows ``first`` … ``first + count - 1``: (layers, count, width)."""
        y = (np.arange(first, first + count) + 0.5) / CELL
        x = (np.arange(width) + 0.5) / CELL
        i, j = y.astype(int), x.astype(int)
        fy = (y - i).astype(np.float32)[:, np.newaxis]
        fx = (x - j).astype(np.float32)[np.newaxis, :]
        upper, lower = self.nodes[:, i], self.nodes[:, i + 1]
        top = upper[:, :, j] * (1 - fx) + upper[:, :, j + 1] * fx
        bottom = lower[:, :, j] * (1 - fx) + lower[:, :, j + 1] * fx
        return top * (1 - fy) + bottom * fy


def reflectance_rows(fields: SmoothFields, size: int, first: int, count: int) -> np.ndarray:
    """Rows ``first`` … of the stack: (6, count, size) float32 with NoData as -9999."""
    rng = np.random.default_rng([size, 1, first])
    # Sharpened softmax of the fields: mostly one dominant cover type, mixed at the borders.
    weights = np.exp(2.5 * fields.rows(first, count, size))
    fractions = weights / weights.sum(axis=0)
    stack = np.tensordot(ENDMEMBERS.T, fractions, axes=(1, 0))
    stack += rng.normal(0.0, 0.004, size=stack.shape).astype(np.float32)
    np.clip(stack, 0.0005, 1.0, out=stack)
    stack[:, ~footprint(size, first, count)] = NODATA
    stack[:, rng.random((count, size)) < 0.002] = NODATA  # cloud-mask holes, all bands
    stack[BANDS.index("nir"), rng.random((count, size)) < 0.0005] = NODATA  # NIR only
    return stack.astype(np.float32, copy=False)


def footprint(size: int, first: int, count: int) -> np.ndarray:
    """Pixels inside a square scene footprint rotated by 12° about the centre."""
    angle = math.radians(12.0)
    centre = (size - 1) / 2
    r = np.arange(first, first + count)[:, np.newaxis] - centre
    c = np.arange(size)[np.newaxis, :] - centre
    along = c * math.cos(angle) + r * math.sin(angle)
    across = -c * math.sin(angle) + r * math.cos(angle)
    half = 0.46 * size
    return (np.abs(along) <= half) & (np.abs(across) <= half)


def compare(ours: Path, theirs: Path, rows_per_read: int = 512) -> dict:
    """Band 1 of two rasters of the same size, read a strip at a time.

    Returns the number of pixels valid in both, the largest absolute difference there, and the
    number of pixels that are NoData in one raster only (should be 0).
    """
    a, b = gdal.Open(str(ours)), gdal.Open(str(theirs))
    if (a.RasterXSize, a.RasterYSize) != (b.RasterXSize, b.RasterYSize):
        raise ValueError(f"{ours} and {theirs} differ in size")
    band_a, band_b = a.GetRasterBand(1), b.GetRasterBand(1)
    width, height = a.RasterXSize, a.RasterYSize
    both_valid = 0
    nodata_mismatch = 0
    max_abs_diff = 0.0
    for row in range(0, height, rows_per_read):
        rows = min(rows_per_read, height - row)
        va = band_a.ReadAsArray(0, row, width, rows).astype(np.float64)
        vb = band_b.ReadAsArray(0, row, width, rows).astype(np.float64)
        ok_a = _valid(va, band_a.GetNoDataValue())
        ok_b = _valid(vb, band_b.GetNoDataValue())
        both = ok_a & ok_b
        both_valid += int(both.sum())
        nodata_mismatch += int((ok_a != ok_b).sum())
        if both.any():
            max_abs_diff = max(max_abs_diff, float(np.abs(va[both] - vb[both]).max()))
    return {
        "pixels_compared": both_valid,
        "max_abs_diff": max_abs_diff,
        "nodata_mismatch_pixels": nodata_mismatch,
    }


def _valid(values: np.ndarray, nodata: float | None) -> np.ndarray:
    valid = np.isfinite(values)
    if nodata is not None and not math.isnan(nodata):
        valid &= values != nodata
    return valid

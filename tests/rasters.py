"""Small helpers for tests: write a GeoTIFF from arrays, read one back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

UTM_32N = 32632

# Two rows of three pixels, canonical bands blue, green, red, NIR, SWIR1, SWIR2.
# Pixel (0, 0): vegetation; (0, 1): bare soil; (0, 2): water; (1, 0): NoData (-1 in every band);
# (1, 1): NoData in red only; (1, 2): red = NIR = 0 (zero denominator).
STACK = np.array(
    [
        [[0.03, 0.12, 0.05], [-1, 0.10, 0.0]],  # blue
        [[0.06, 0.16, 0.06], [-1, 0.12, 0.0]],  # green
        [[0.04, 0.20, 0.04], [-1, -1, 0.0]],  # red
        [[0.40, 0.26, 0.02], [-1, 0.30, 0.0]],  # NIR
        [[0.20, 0.32, 0.01], [-1, 0.30, 0.0]],  # SWIR1
        [[0.10, 0.28, 0.005], [-1, 0.25, 0.0]],  # SWIR2
    ],
    dtype=np.float32,
)


def write_raster(
    path: Path,
    data: np.ndarray,
    *,
    epsg: int | None = UTM_32N,
    origin: tuple[float, float] = (500000.0, 5600000.0),
    pixel: float = 30.0,
    nodata: float | None = None,
    dtype: int = gdal.GDT_Float32,
) -> str:
    """Write ``data`` ((rows, cols) or (bands, rows, cols)) as a north-up GeoTIFF."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[np.newaxis]
    bands, rows, cols = data.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, bands, dtype)
    dataset.SetGeoTransform((origin[0], pixel, 0.0, origin[1], 0.0, -pixel))
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        dataset.SetProjection(srs.ExportToWkt())
    for i in range(bands):
        band = dataset.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(data[i])
    dataset = None
    return str(path)


def read_raster(path) -> tuple[np.ndarray, gdal.Dataset]:
    """All bands as float64 (bands, rows, cols) with NoData as NaN, and the open dataset."""
    dataset = gdal.Open(str(path))
    data = dataset.ReadAsArray().astype(np.float64)
    if data.ndim == 2:
        data = data[np.newaxis]
    for i in range(dataset.RasterCount):
        nodata = dataset.GetRasterBand(i + 1).GetNoDataValue()
        if nodata is not None:
            data[i][data[i] == nodata] = np.nan
    return data, dataset


def leftovers(folder: Path) -> list[str]:
    """Temporary files the engine might have left in ``folder``."""
    return sorted(p.name for p in Path(folder).iterdir() if ".partial" in p.name)

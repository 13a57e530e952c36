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
    orientation: str = "north-up",
) -> str:
    """Write ``data`` ((rows, cols) or (bands, rows, cols)) as a GeoTIFF whose pixel (0, 0)
    has its north-west corner at ``origin``, rows running south and columns east.

    ``orientation`` stores the same map in another layout (see ``ORIENTATIONS``): the map
    coordinates of every value stay those of the north-up file."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[np.newaxis]
    data, geotransform = oriented(data, origin, pixel, orientation)
    bands, rows, cols = data.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, bands, dtype)
    dataset.SetGeoTransform(geotransform)
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


#: Layouts of one map: "north-up" (GDAL's usual), "south-up" (rows stored south to north, a
#: positive pixel height), "east-west" (columns stored east to west, a negative pixel width),
#: "south-up east-west" (both), and "rotated" (rows and columns swapped: the geotransform's
#: rotation terms carry the pixel size, a 90° rotation of the stored array).
ORIENTATIONS = ("north-up", "south-up", "east-west", "south-up east-west", "rotated")


def wgs84_field(path) -> str:
    """A smooth field 0.55 + 0.3·sin(500·lon)·cos(400·lat) on WGS 84, 60 × 80 pixels of 0.0004°
    (≈ 28 m across, 44 m along) from 8.99° E, 50.5595° N: it covers a 40 × 50 tile of 30 m in
    UTM 32N at write_raster's default origin with margin."""
    lon0, lat0, step = 8.99, 50.5595, 0.0004
    lats = lat0 - step * np.arange(60)[:, None]
    lons = lon0 + step * np.arange(80)[None, :]
    values = (0.55 + 0.3 * np.sin(lons * 500) * np.cos(lats * 400)).astype(np.float32)
    return write_raster(path, values, epsg=4326, origin=(lon0, lat0), pixel=step)


def oriented(data: np.ndarray, origin, pixel: float, orientation: str):
    """(bands, rows, cols) north-up ``data`` stored in ``orientation``: (array, geotransform)."""
    x0, y0 = origin
    rows, cols = data.shape[1:]
    if orientation == "north-up":
        return data, (x0, pixel, 0.0, y0, 0.0, -pixel)
    if orientation == "south-up":
        return data[:, ::-1], (x0, pixel, 0.0, y0 - rows * pixel, 0.0, pixel)
    if orientation == "east-west":
        return data[:, :, ::-1], (x0 + cols * pixel, -pixel, 0.0, y0, 0.0, -pixel)
    if orientation == "south-up east-west":
        return data[:, ::-1, ::-1], (x0 + cols * pixel, -pixel, 0.0, y0 - rows * pixel, 0.0, pixel)
    if orientation == "rotated":
        # Stored pixel (r, c) is map pixel (c, r): x = x0 + r·pixel, y = y0 − c·pixel.
        return data.transpose(0, 2, 1), (x0, 0.0, pixel, y0, -pixel, 0.0)
    raise ValueError(f"unknown orientation {orientation!r}")


def north_up(values: np.ndarray, dataset: gdal.Dataset) -> np.ndarray:
    """``values`` ((bands, rows, cols) as stored in ``dataset``) in north-up order, for
    comparing files of different layouts pixel by pixel at the same map coordinates."""
    _, dx, rx, _, ry, dy = dataset.GetGeoTransform()
    if rx or ry:
        raise ValueError("a rotated file has no north-up order")
    if dy > 0:
        values = values[:, ::-1]
    if dx < 0:
        values = values[:, :, ::-1]
    return values


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


#: Resilience classes (code, label, colour) of the report tests' class rasters.
RESILIENCE = ((1, "severe", (215, 25, 28)), (2, "poor", (253, 174, 97)), (3, "good", (26, 150, 65)))


def patchy_scene(rng: np.random.Generator, bands: int, rows: int, cols: int) -> list:
    """ESTARFM's five images (FINE1, COARSE1, FINE2, COARSE2, COARSE_PRED) of patchy 'land
    cover' in four classes of 4 × 4 pixels, in counts k (the reflectance is k/1024): the fine
    images class × 150 + 100…180, the second 40 lower to 200 higher; the coarse ones the fine
    × 0.9 (× 1.1) plus 0…60, the prediction date between the two ±30."""
    classes = rng.integers(0, 4, (rows // 4 + 1, cols // 4 + 1)).repeat(4, 0).repeat(4, 1)
    classes = classes[:rows, :cols]
    shape = (bands, rows, cols)
    f1 = classes * 150 + rng.integers(0, 80, shape) + 100
    f2 = f1 + rng.integers(-40, 200, shape)
    c1 = np.round(f1 * 0.9) + rng.integers(0, 60, shape)
    c2 = np.round(f2 * 1.1) + rng.integers(0, 60, shape)
    c0 = np.round((c1 + c2) / 2) + rng.integers(-30, 30, shape)
    return [f1, c1, f2, c2, c0]


def class_raster(path, codes, classes=RESILIENCE, *, qml_only=False, pixel=30.0):
    """A uint8 class raster (NoData 0) with a colour table and category names, or (qml_only)
    with a QML style beside it and no styling in the file."""
    write_raster(path, codes, nodata=0, dtype=gdal.GDT_Byte, pixel=pixel)
    if qml_only:
        entries = "".join(
            f'<paletteEntry value="{code}" color="#{r:02x}{g:02x}{b:02x}" alpha="255" '
            f'label="{label}"/>'
            for code, label, (r, g, b) in classes
        )
        Path(path).with_suffix(".qml").write_text(
            f"<qgis><pipe><rasterrenderer type='paletted'><colorPalette>{entries}"
            "</colorPalette></rasterrenderer></pipe></qgis>",
            encoding="utf-8",
        )
        return str(path)
    dataset = gdal.Open(str(path), gdal.GA_Update)
    band = dataset.GetRasterBand(1)
    table = gdal.ColorTable()
    names = [""] * (max(c for c, _, _ in classes) + 1)
    for code, label, colour in classes:
        table.SetColorEntry(code, (*colour, 255))
        names[code] = label
    band.SetRasterColorTable(table)
    band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetCategoryNames(names)
    dataset = None
    return str(path)

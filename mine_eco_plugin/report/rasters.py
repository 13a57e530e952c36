"""What the HTML report needs from rasters, read with GDAL: reduced-resolution previews, the map
frame (extent, aspect, scale bar), class legends (colour table and category names, or the QML
style beside the file), exact class counts (block by block through the engine) and provenance.

No QGIS here: the ``html_report`` algorithm turns layers into engine sources.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

from .. import engine
from ..engine import EngineError, RasterClass, RasterSource, styles
from .maps import MapFrame, metres_per_degree, scale_bar

gdal.UseExceptions()
osr.UseExceptions()

#: Longest side of a map preview in pixels (the default of the report's MAP_SIZE).
PREVIEW_SIZE = 1200
#: More distinct values than this and a "class raster" is taken for a continuous one.
MAX_CLASSES = 256
#: Stand-in CRS for counting classes of a raster that has none (it is read on its own grid).
UNREFERENCED = 'LOCAL_CS["unreferenced",UNIT["metre",1]]'


class ReportInputError(ValueError):
    """An input the report cannot use; the message names the parameter."""


# --------------------------------------------------------------------------------------------
# Map frames and previews
# --------------------------------------------------------------------------------------------


def _crs_name(srs: osr.SpatialReference) -> str:
    authority, code = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
    name = srs.GetName() or "unnamed CRS"
    return f"{name} ({authority}:{code})" if authority and code else name


def map_frame(
    geotransform: tuple[float, ...], width: int, height: int, crs_wkt: str | None
) -> MapFrame:
    """Extent, display aspect and scale bar of a north-up grid.

    Projected CRS: map units times the CRS's linear unit (m). Geographic CRS: ground lengths at
    the central latitude on the CRS's ellipsoid (``maps.metres_per_degree``), and the
    y axis stretched by (m per degree of latitude)/(m per degree of longitude) so that the map
    is not squashed. No CRS or a rotated grid: no scale bar, said in the note.
    """
    x0, dx, rx, y0, ry, dy = geotransform
    xs = (x0, x0 + dx * width)
    ys = (y0, y0 + dy * height)
    extent = (min(xs), max(xs), min(ys), max(ys))
    map_width = extent[1] - extent[0]
    if rx or ry:
        return MapFrame(
            extent, 1.0, None, False, "Rotated grid, drawn without its rotation: no scale bar."
        )
    if not crs_wkt:
        return MapFrame(extent, 1.0, None, False, "No CRS: no scale bar.")
    srs = osr.SpatialReference()
    try:
        srs.ImportFromWkt(crs_wkt)
    except RuntimeError:
        return MapFrame(extent, 1.0, None, False, "Unreadable CRS: no scale bar.")
    if srs.IsGeographic():
        to_degrees = srs.GetAngularUnits() * 180.0 / math.pi
        latitude = (extent[2] + extent[3]) / 2 * to_degrees
        per_lon, per_lat = metres_per_degree(latitude, srs.GetSemiMajor(), srs.GetInvFlattening())
        note = f"CRS: {_crs_name(srs)}, in degrees"
        if per_lon < 1.0:  # at a pole: no east-west scale
            return MapFrame(extent, 1.0, None, True, note + "; no scale bar at the pole.")
        bar = scale_bar(map_width, per_lon * to_degrees)
        return MapFrame(
            extent,
            per_lat / per_lon,
            bar,
            True,
            f"{note}; scale bar true at latitude {latitude:.2f}°.",
        )
    if srs.IsProjected() or srs.IsLocal():
        unit = srs.GetLinearUnits() or 1.0
        return MapFrame(extent, 1.0, scale_bar(map_width, unit), True, _crs_name(srs))
    return MapFrame(extent, 1.0, None, False, f"CRS {_crs_name(srs)}: no scale bar.")


@dataclass
class Preview:
    """A raster read at reduced resolution: values (bands, rows, cols; float64), the valid-pixel
    mask, the map frame, the full size and the file's band descriptions and metadata."""

    path: str
    values: np.ndarray
    valid: np.ndarray
    frame: MapFrame
    width: int
    height: int
    descriptions: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


def preview_size(width: int, height: int, max_size: int = PREVIEW_SIZE) -> tuple[int, int]:
    """The buffer size: the raster's own when it fits, else scaled so the long side is
    ``max_size``."""
    scale = min(1.0, max_size / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def open_raster(path: str, parameter: str) -> gdal.Dataset:
    try:
        dataset = gdal.Open(str(path), gdal.GA_ReadOnly)
    except RuntimeError as error:
        raise ReportInputError(f"{parameter}: cannot be opened as a raster ({error})") from None
    if dataset is None:
        raise ReportInputError(f"{parameter}: cannot be opened as a raster: {path}")
    return dataset


def read_preview(
    path: str,
    parameter: str,
    *,
    bands: tuple[int, ...] | None = None,
    max_size: int = PREVIEW_SIZE,
    crs_wkt: str | None = None,
) -> Preview:
    """The raster at most ``max_size`` pixels on its long side (GDAL nearest-neighbour
    decimation, so class codes stay codes and the memory is that of the preview). Invalid:
    GDAL's mask (NoData, alpha, .msk) or non-finite values."""
    dataset = open_raster(path, parameter)
    width, height = dataset.RasterXSize, dataset.RasterYSize
    count = dataset.RasterCount
    bands = tuple(bands) if bands else tuple(range(1, count + 1))
    if max(bands) > count:
        raise ReportInputError(f"{parameter}: has {count} band(s); band {max(bands)} is needed")
    buffer_x, buffer_y = preview_size(width, height, max_size)
    values = np.stack(
        [
            dataset.GetRasterBand(b)
            .ReadAsArray(0, 0, width, height, buf_xsize=buffer_x, buf_ysize=buffer_y)
            .astype(np.float64)
            for b in bands
        ]
    )
    mask = (
        dataset.GetRasterBand(bands[0])
        .GetMaskBand()
        .ReadAsArray(0, 0, width, height, buf_xsize=buffer_x, buf_ysize=buffer_y)
    )
    valid = (mask > 0) & np.all(np.isfinite(values), axis=0)
    geotransform = dataset.GetGeoTransform()
    # Grids stored south-up or east-to-west are flipped so that north is up on the map.
    if geotransform[5] > 0:
        values, valid = values[:, ::-1], valid[::-1]
    if geotransform[1] < 0:
        values, valid = values[:, :, ::-1], valid[:, ::-1]
    frame = map_frame(geotransform, width, height, dataset.GetProjection() or crs_wkt)
    if (buffer_x, buffer_y) != (width, height):
        frame = replace(
            frame,
            note=f"{frame.note.rstrip('.')}; drawn from a {buffer_x} × {buffer_y} preview of "
            f"{width} × {height} pixels.".lstrip("; "),
        )
    return Preview(
        str(path),
        values,
        valid,
        frame,
        width,
        height,
        [dataset.GetRasterBand(b).GetDescription() for b in range(1, count + 1)],
        dict(dataset.GetMetadata() or {}),
    )


def stretch(
    values: np.ndarray, valid: np.ndarray, percentiles=styles.STRETCH_PERCENTILES
) -> tuple[float, float]:
    """Percentile range of the valid values for a colour scale (min–max when flat), computed
    in float64 whatever the types of the values and percentiles (numpy keeps float32 for
    float32 data, and numpy 2 also with a scalar percentile)."""
    data = np.asarray(values, dtype=np.float64)[valid]
    if data.size == 0:
        return 0.0, 1.0
    bounds = np.percentile(data, np.asarray(percentiles, dtype=np.float64))
    vmin, vmax = (float(v) for v in bounds)
    if vmax <= vmin:
        vmin, vmax = float(data.min()), float(data.max())
    if vmax <= vmin:
        vmax = vmin + 1.0
    return vmin, vmax


# --------------------------------------------------------------------------------------------
# Class legends
# --------------------------------------------------------------------------------------------


def _hex_rgba(text: str, alpha: int = 255) -> tuple[int, int, int, int] | None:
    text = (text or "").strip().lstrip("#")
    if len(text) not in (6, 8):
        return None
    try:
        r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
        a = int(text[6:8], 16) if len(text) == 8 else alpha
    except ValueError:
        return None
    return r, g, b, a


def qml_palette(path: Path) -> dict[int, tuple[str, tuple[int, int, int, int] | None]]:
    """Code → (label, colour) of a paletted (or unique-values) QML style; {} when the file is
    missing or holds no palette."""
    if not path.is_file():
        return {}
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, OSError):
        return {}
    palette = {}
    for entry in root.iter("paletteEntry"):
        try:
            code = int(float(entry.get("value", "")))
        except ValueError:
            continue
        alpha = int(entry.get("alpha", "255") or 255)
        palette[code] = (
            entry.get("label") or f"class {code}",
            _hex_rgba(entry.get("color"), alpha),
        )
    return palette


def class_legend(
    path: str, parameter: str, present: tuple[int, ...] = (), *, fallback: bool = True
) -> list[RasterClass] | None:
    """Legend of a class raster: codes named in the file (GDAL category names) or in the QML
    style beside it (``<name>.qml``, preferred: it is what QGIS shows), plus any other code
    ``present`` in the data; colours from the QML, else the GDAL colour table, else a fallback
    palette. None when the raster carries no class styling at all and ``fallback`` is False."""
    dataset = open_raster(path, parameter)
    band = dataset.GetRasterBand(1)
    nodata = band.GetNoDataValue()
    names = list(band.GetCategoryNames() or [])
    table = band.GetColorTable()
    palette = qml_palette(Path(path).with_suffix(".qml"))
    styled = bool(palette or any(names)) or (
        table is not None and band.GetColorInterpretation() == gdal.GCI_PaletteIndex
    )
    if not styled and not fallback:
        return None
    codes = {code for code, name in enumerate(names) if name}
    codes |= set(palette)
    codes |= {int(c) for c in present}
    if nodata is not None and math.isfinite(nodata):
        codes.discard(int(nodata))
    codes = sorted(codes)
    spare = iter(styles.cycled(styles.FALLBACK_COLOURS, len(codes)))
    entries = []
    for code in codes:
        label, colour = palette.get(code, (None, None))
        if label is None and 0 <= code < len(names) and names[code]:
            label = names[code]
        if colour is None and table is not None and 0 <= code < table.GetCount():
            colour = tuple(int(c) for c in table.GetColorEntry(code))
        entries.append(RasterClass(code, label or f"class {code}", colour or next(spare)))
    return entries


def is_class_raster(path: str, parameter: str) -> bool:
    """True when the raster carries class styling (category names, palette or QML)."""
    return class_legend(path, parameter, fallback=False) is not None


def legend_categories(legend: list[RasterClass]) -> dict[str, tuple[int, ...]]:
    """Category → colour from a dominant-driver legend: its single-category classes are
    labelled 'C: climate' (pairs 'CS: climate > soil (coupled)')."""
    colours = {}
    for entry in legend:
        _, _, name = entry.label.partition(": ")
        if name and " > " not in name:
            colours[name.strip()] = entry.color
    return colours


def rgb_channels(descriptions: list[str], metadata: dict[str, str]) -> list[str] | None:
    """The categories shown in red, green and blue: from band descriptions 'red: climate' …
    (rf_driver_contribution), else the metadata item RGB='climate,soil,mining'; None if
    neither says."""
    found = {}
    for text in descriptions[:3]:
        colour, _, name = (text or "").partition(":")
        if colour.strip().lower() in ("red", "green", "blue") and name.strip():
            found[colour.strip().lower()] = name.strip()
    if found:
        return [found.get(c, "-") for c in ("red", "green", "blue")]
    listed = [part.strip() for part in (metadata.get("RGB") or "").split(",") if part.strip()]
    if listed:
        return (listed + ["-", "-", "-"])[:3]
    return None


def rgb_categories(path: str, parameter: str) -> list[str] | None:
    """The categories shown in red, green and blue by an RGB raster (``rgb_channels`` of its
    band descriptions and metadata)."""
    dataset = open_raster(path, parameter)
    return rgb_channels(
        [dataset.GetRasterBand(b).GetDescription() for b in range(1, dataset.RasterCount + 1)],
        dict(dataset.GetMetadata() or {}),
    )


# --------------------------------------------------------------------------------------------
# Exact class counts, block by block
# --------------------------------------------------------------------------------------------


def _own_grid_source(source: RasterSource) -> tuple[RasterSource, engine.Grid]:
    """The source read on its own grid (a stand-in CRS when it has none: nothing is aligned)."""
    dataset = open_raster(source.path, source.parameter)
    wkt = dataset.GetProjection() or source.crs_wkt or UNREFERENCED
    if not dataset.GetProjection() and not source.crs_wkt:
        source = replace(source, crs_wkt=wkt)
    return source, engine.Grid.of(dataset, wkt)


def class_counts(
    source: RasterSource,
    *,
    memory_mb: float = engine.DEFAULT_MEMORY_MB,
    monitor: engine.Monitor | None = None,
    max_classes: int = MAX_CLASSES,
) -> dict[int, int]:
    """Pixels per class code over the whole raster (band 1; NoData left out), in one pass of
    bounded memory. Non-integer values, or more than ``max_classes`` codes, are an error: the
    raster is not a class raster."""
    source = replace(source, bands=(1,), resampling="nearest")
    source, grid = _own_grid_source(source)
    counts: dict[int, int] = {}

    def visit(window, block):
        values = block[0]
        values = values[~np.isnan(values)]
        if values.size == 0:
            return
        codes = values.astype(np.int64)
        if not np.array_equal(codes, values):
            raise ReportInputError(
                f"{source.parameter}: has non-integer values; a class raster is needed"
            )
        low, high = int(codes.min()), int(codes.max())
        if low >= 0 and high < 65536:
            tally = np.bincount(codes, minlength=high + 1)
            found = np.flatnonzero(tally)
            pairs = zip(found.tolist(), tally[found].tolist(), strict=True)
        else:
            unique, number = np.unique(codes, return_counts=True)
            pairs = zip(unique.tolist(), number.tolist(), strict=True)
        for code, number in pairs:
            counts[code] = counts.get(code, 0) + number
        if len(counts) > max_classes:
            raise ReportInputError(
                f"{source.parameter}: more than {max_classes} distinct values; a class raster "
                "is needed"
            )

    try:
        engine.scan(
            visit, [source], grid=grid, memory_mb=memory_mb, monitor=monitor, dtype=np.float64
        )
    except EngineError as error:
        raise ReportInputError(str(error)) from None
    return dict(sorted(counts.items()))


def interval_counts(
    source: RasterSource,
    upper_bounds: tuple[float, ...],
    *,
    memory_mb: float = engine.DEFAULT_MEMORY_MB,
    monitor: engine.Monitor | None = None,
) -> tuple[list[int], float | None]:
    """Valid pixels of band 1 in each interval (…, b₀], (b₀, b₁], …, (bₙ₋₂, bₙ₋₁] and above
    the last bound (len(upper_bounds) + 1 counts), and their mean (None without a valid
    pixel), in one pass of bounded memory."""
    source, grid = _own_grid_source(replace(source, bands=(1,)))
    counts = np.zeros(len(upper_bounds) + 1, np.int64)
    bounds = np.asarray(upper_bounds, dtype=np.float64)
    total = [0.0]

    def visit(window, block):
        values = block[0][~np.isnan(block[0])]
        counts[:] += np.bincount(np.searchsorted(bounds, values), minlength=counts.size)
        total[0] += float(values.sum())

    try:
        engine.scan(
            visit, [source], grid=grid, memory_mb=memory_mb, monitor=monitor, dtype=np.float64
        )
    except EngineError as error:
        raise ReportInputError(str(error)) from None
    valid = int(counts.sum())
    return counts.tolist(), total[0] / valid if valid else None


def value_summary(
    source: RasterSource,
    *,
    memory_mb: float = engine.DEFAULT_MEMORY_MB,
    monitor: engine.Monitor | None = None,
):
    """Count, min, max, mean and standard deviation of band 1's valid values (one pass)."""
    source, grid = _own_grid_source(replace(source, bands=(1,)))
    try:
        return engine.band_summary(source, grid=grid, memory_mb=memory_mb, monitor=monitor)
    except EngineError as error:
        raise ReportInputError(str(error)) from None


def joint_summaries(
    sources: list[RasterSource],
    differences: tuple[tuple[int, int], ...] = (),
    *,
    memory_mb: float = engine.DEFAULT_MEMORY_MB,
    monitor: engine.Monitor | None = None,
) -> list[engine.RunningSummary]:
    """Count, min, max, mean and standard deviation of band 1 of every source, then of every
    difference sources[i] − sources[j] for (i, j) in ``differences``, all over the pixels valid
    in every source: one pass of bounded memory on the first source's grid (the others are
    aligned onto it)."""
    first, grid = _own_grid_source(replace(sources[0], bands=(1,)))
    sources = [first, *(replace(source, bands=(1,)) for source in sources[1:])]
    summaries = [engine.RunningSummary() for _ in range(len(sources) + len(differences))]

    def visit(window, *blocks):
        values = [block[0] for block in blocks]
        valid = np.logical_and.reduce([~np.isnan(v) for v in values])
        for summary, band in zip(summaries, values, strict=False):
            summary.update(band[valid])
        for summary, (i, j) in zip(summaries[len(values) :], differences, strict=True):
            summary.update(values[i][valid] - values[j][valid])

    try:
        engine.scan(
            visit, sources, grid=grid, memory_mb=memory_mb, monitor=monitor, dtype=np.float64
        )
    except EngineError as error:
        raise ReportInputError(str(error)) from None
    return summaries


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


def raster_facts(path: str, parameter: str) -> dict[str, str]:
    """Size, pixel size, CRS, the producing Mine Eco algorithm and the settings it recorded in
    the file's metadata (for the report's data-sources table)."""
    dataset = open_raster(path, parameter)
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    wkt = dataset.GetProjection()
    crs, unit = "none", ""
    if wkt:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(wkt)
        crs = _crs_name(srs)
        unit = "°" if srs.IsGeographic() else f" {srs.GetLinearUnitsName() or 'units'}"
    metadata = dict(dataset.GetMetadata() or {})
    algorithm = metadata.pop("MINEECO_ALGORITHM", "")
    version = metadata.pop("MINEECO_VERSION", "")
    items = [
        (key, value if len(value) <= 80 else value[:77] + "…")
        for key, value in sorted(metadata.items())
        if not key.startswith(("AREA_OR_POINT", "TIFFTAG"))
    ]
    settings = "; ".join(f"{key}={value}" for key, value in items)
    return {
        "size": f"{dataset.RasterXSize} × {dataset.RasterYSize} × {dataset.RasterCount}",
        "pixel": f"{abs(dx):g} × {abs(dy):g}{unit}",
        "crs": crs,
        "producer": f"mineeco:{algorithm} {version}".strip() if algorithm else "",
        "settings": settings,
        "settings_items": items,
    }

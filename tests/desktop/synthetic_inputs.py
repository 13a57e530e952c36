"""The desktop's small synthetic layers: what every algorithm's first run in the desktop tests
works on (each algorithm's tests declare which layers its mandatory parameters take:
``INPUTS.desktop`` in tests/algorithms, collected by declared.py).

Every raster is 24 × 24 pixels of 30 m in UTM 32N, smooth fields plus a little noise (seeded),
so each algorithm has valid, varied values to work on. Plain numpy and GDAL.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()

SIZE = 24
PIXEL = 30.0
ORIGIN = (500000.0, 5600000.0)
EPSG = 32632


def _srs_wkt() -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    return srs.ExportToWkt()


def write(folder, name, data, dtype=gdal.GDT_Float32, nodata=None) -> str:
    """``data`` (rows, cols) or (bands, rows, cols) as ``folder/name.tif``."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[np.newaxis]
    path = os.path.join(folder, f"{name}.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(
        path, data.shape[2], data.shape[1], data.shape[0], dtype
    )
    dataset.SetGeoTransform((ORIGIN[0], PIXEL, 0.0, ORIGIN[1], 0.0, -PIXEL))
    dataset.SetProjection(_srs_wkt())
    for index in range(data.shape[0]):
        band = dataset.GetRasterBand(index + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(data[index])
    dataset = None
    return path


def write_layer(path, name, geometry, fields: dict, features, epsg=EPSG) -> str:
    """A GeoPackage ``path`` of one layer ``name`` in EPSG ``epsg``: ``geometry`` an OGR
    geometry type (ogr.wkbPoint, …), ``fields`` {field: OGR field type} in their order,
    ``features`` (values {field: value}, geometry WKT) pairs."""
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    layer = source.CreateLayer(name, srs, geometry)
    for field_name, kind in fields.items():
        layer.CreateField(ogr.FieldDefn(field_name, kind))
    for values, wkt in features:
        feature = ogr.Feature(layer.GetLayerDefn())
        for field_name, value in values.items():
            feature.SetField(field_name, value)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    source = None
    return str(path)


def box_wkt(x0, y0, x1, y1) -> str:
    """The rectangle with corners (x0, y0) and (x1, y1) as a WKT polygon."""
    return f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


def write_points(folder, name, rng, count=40) -> str:
    """``count`` points over the grid with a numeric field ``value`` (a smooth trend + noise)."""
    extent = SIZE * PIXEL
    features = []
    for _ in range(count):
        x, y = rng.uniform(0, extent, 2)
        value = float(10 + 0.01 * x - 0.005 * y + rng.normal(0, 0.5))
        features.append(({"value": value}, f"POINT({ORIGIN[0] + x} {ORIGIN[1] - y})"))
    path = os.path.join(folder, f"{name}.gpkg")
    return write_layer(path, name, ogr.wkbPoint, {"value": ogr.OFTReal}, features)


def make_layers(folder) -> SimpleNamespace:
    """Write the layers into ``folder``; return their paths (and the few values the
    algorithms' parameters take) as attributes."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(7)
    rows, cols = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)  # 0 … 1 down and across

    def field(low, high, noise=0.03):
        """A smooth diagonal field from ``low`` to ``high`` with relative noise."""
        base = low + (high - low) * (0.6 * cols + 0.4 * rows)
        return (base + noise * (high - low) * rng.standard_normal(base.shape)).astype(np.float32)

    red, nir = field(0.18, 0.04), field(0.15, 0.42)
    stack = np.stack(
        [field(0.08, 0.03), field(0.10, 0.05), red, nir, field(0.30, 0.15), field(0.22, 0.08)]
    ).clip(0.005, 0.9)
    ndvi_values = (nir - red) / (nir + red)
    layers = SimpleNamespace(
        folder=str(folder),
        stack=write(folder, "reflectance", stack),
        dn=write(folder, "sr_dn", np.round((stack + 0.2) / 2.75e-5), gdal.GDT_UInt16),
        ndvi=write(folder, "ndvi", ndvi_values),
        albedo=write(folder, "albedo", field(0.30, 0.12)),
        thermal=write(folder, "thermal_radiance", field(10.5, 8.5)),
        index=write(folder, "index", field(0.05, 0.95)),
        index_b=write(folder, "index_later", field(0.15, 0.90)),
        lst=write(folder, "lst", field(312.0, 298.0)),
        dem=write(folder, "dem", 100 + 150 * np.sin(np.pi * rows) * np.sin(np.pi * cols)),
        #: The direction of each indicator (index, NDVI: higher is better; albedo: lower).
        trends="+,+,-",
        #: Weights of the three indicators.
        weights="0.5,0.3,0.2",
    )
    # Six blocks of second-level CNLUCC codes (the shipped class tables' codes): paddy, closed
    # forest, high-cover grassland / lake, mining land, bare soil; scattered shrubland patches.
    block = (cols * 2.99).astype(int) + 3 * (rows > 0.5)
    cover = np.array([11, 21, 31, 42, 53, 65], dtype=np.uint8)[block]
    cover[rng.random(cover.shape) < 0.08] = 22
    layers.landcover = write(folder, "landcover", cover, gdal.GDT_Byte, nodata=0)
    # NDVI of five years: rising in the east, falling in the west.
    layers.years = [2000, 2005, 2010, 2016, 2020]
    trend_sign = np.where(cols > 0.5, 1.0, -1.0)
    layers.series = [
        write(folder, f"ndvi_{year}", ndvi_values + 0.01 * (year - 2000) * trend_sign * rows)
        for year in layers.years
    ]
    # A year of monthly stacks (12 bands) of the CASA inputs.
    month = np.arange(12)[:, None, None]
    season = np.sin(np.pi * (month + 0.5) / 12)  # 0 in winter, 1 in summer
    monthly = {
        "ndvi": 0.15 + 0.55 * season * (0.5 + 0.5 * cols),
        "temperature": -4 + 26 * season + 2 * rows,
        "precipitation": 20 + 110 * season * (0.6 + 0.4 * rows),
        "solar": 150 + 500 * season + 20 * cols,
    }
    monthly_values = {k: v.astype(np.float32) for k, v in monthly.items()}
    layers.monthly = {k: write(folder, f"monthly_{k}", v) for k, v in monthly_values.items()}
    sand, silt = field(25, 60), field(35, 20)
    layers.soil = {
        "SAND": write(folder, "sand", sand),
        "SILT": write(folder, "silt", silt),
        "CLAY": write(folder, "clay", 100 - sand - silt),
        "ORGANIC_CARBON": write(folder, "organic_carbon", field(2.5, 0.5)),
    }
    layers.factors = {
        "R": write(folder, "r", field(1500, 3500)),
        "K": write(folder, "k", field(0.02, 0.05)),
        "LS": write(folder, "ls", field(0.5, 12)),
        "C": write(folder, "c", field(0.02, 0.6).clip(0.001, 1)),
        "P": write(folder, "p", field(1.0, 0.6).clip(0, 1)),
    }

    def coarse(values):  # 4 × 4 blocks of the mean: a coarse image on the fine grid
        blocks = values.reshape(SIZE // 4, 4, SIZE // 4, 4).mean(axis=(1, 3))
        return np.kron(blocks, np.ones((4, 4))).astype(np.float32)

    fine1, fine2 = nir, nir * 1.1 + 0.01
    layers.estarfm = {
        "FINE1": write(folder, "fine1", fine1),
        "COARSE1": write(folder, "coarse1", coarse(fine1)),
        "FINE2": write(folder, "fine2", fine2),
        "COARSE2": write(folder, "coarse2", coarse(fine2)),
        "COARSE_PRED": write(folder, "coarse_pred", coarse(nir * 1.05 + 0.005)),
    }
    # Drivers of NPP (MAT, MAP, SOC, land degradation) and an NPP that depends on them.
    layers.drivers = [
        write(folder, "mat", field(6, 12)),
        write(folder, "map", field(300, 700)),
        write(folder, "soc", field(4, 18)),
        write(folder, "ld", field(0, 1, noise=0.2)),
    ]
    layers.target = write(
        folder,
        "npp",
        300 + 20 * field(6, 12) + 0.3 * field(300, 700) - 80 * field(0, 1, noise=0.2),
    )
    layers.indicators = [layers.index, layers.ndvi, layers.albedo]
    layers.lst_series = [write(folder, f"lst_{i}", field(310.0 - i, 296.0 + i)) for i in range(3)]
    # A year of NDVI, one layer per month, dated in the file names.
    layers.dated = [
        write(folder, f"fused_2013-{m + 1:02d}-15", monthly_values["ndvi"][m]) for m in range(12)
    ]
    # Two base pairs and two coarse dates between them, dated in the names.
    layers.dated_pairs = {
        "FINE": [
            write(folder, "landsat_2013-01-10", fine1),
            write(folder, "landsat_2013-07-01", fine2),
        ],
        "COARSE": [
            write(folder, "modis_2013-01-10", coarse(fine1)),
            write(folder, "modis_2013-07-01", coarse(fine2)),
        ],
        "SERIES": [
            write(folder, "modis_2013-03-15", coarse(nir * 1.03 + 0.003)),
            write(folder, "modis_2013-05-01", coarse(nir * 1.07 + 0.007)),
        ],
    }
    # Samples of a smooth field (kriging), two sets.
    layers.samples = write_points(folder, "samples", rng)
    layers.samples_fields = write_points(folder, "samples_fields", rng)
    return layers


def write_text(folder, name, text) -> str:
    """``text`` as ``folder/name``."""
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def write_polygon(folder, name, x0, y0, width, fields: dict) -> str:
    """A GeoPackage ``folder/name.gpkg`` of one square (upper-left corner ``x0, y0``, side
    ``width`` metres) with integer ``fields``."""
    path = os.path.join(folder, f"{name}.gpkg")
    types = dict.fromkeys(fields, ogr.OFTInteger)
    square = box_wkt(x0, y0, x0 + width, y0 - width)
    return write_layer(path, name, ogr.wkbPolygon, types, [(fields, square)])

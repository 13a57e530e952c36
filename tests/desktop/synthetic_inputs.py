"""Small synthetic inputs for every Mine Eco algorithm, and each algorithm's mandatory
parameters (only those: everything else stays at its default, as a user's first run).

Used inside QGIS desktop by qgis_dialogs.py (the system Python: numpy and GDAL only) and by the
headless tests. Every raster is 24 × 24 pixels of 30 m in UTM 32N, smooth fields plus a little
noise (seeded), so each algorithm has valid, varied values to work on.
"""

from __future__ import annotations

import os

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()

SIZE = 24
PIXEL = 30.0
ORIGIN = (500000.0, 5600000.0)
EPSG = 32632

#: The direction of each indicator (index, NDVI: higher is better; albedo: lower is better).
TRENDS = "+,+,-"
#: Weights of the three indicators (composite index and its sensitivity need them).
WEIGHTS = "0.5,0.3,0.2"
#: The algorithm's categories of drivers for rf_driver_contribution (one per DRIVERS layer).
DRIVER_CATEGORIES = "climate,climate,soil,mining"


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


def write_points(folder, name, rng, count=40) -> str:
    """``count`` points over the grid with a numeric field ``value`` (a smooth trend + noise)."""
    path = os.path.join(folder, f"{name}.gpkg")
    source = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    layer = source.CreateLayer(name, srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTReal))
    extent = SIZE * PIXEL
    for _ in range(count):
        x, y = rng.uniform(0, extent, 2)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("value", float(10 + 0.01 * x - 0.005 * y + rng.normal(0, 0.5)))
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(ORIGIN[0] + x, ORIGIN[1] - y)
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None
    return path


def make_inputs(folder) -> dict[str, dict]:
    """Write the inputs into ``folder``; return {algorithm id: mandatory parameters}."""
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
    p = {
        "stack": write(folder, "reflectance", stack),
        "dn": write(folder, "sr_dn", np.round((stack + 0.2) / 2.75e-5), gdal.GDT_UInt16),
        "ndvi": write(folder, "ndvi", ndvi_values),
        "albedo": write(folder, "albedo", field(0.30, 0.12)),
        "thermal": write(folder, "thermal_radiance", field(10.5, 8.5)),
        "index": write(folder, "index", field(0.05, 0.95)),
        "index_b": write(folder, "index_later", field(0.15, 0.90)),
        "lst": write(folder, "lst", field(312.0, 298.0)),
        "dem": write(folder, "dem", 100 + 150 * np.sin(np.pi * rows) * np.sin(np.pi * cols)),
    }
    # Six blocks of second-level CNLUCC codes (the shipped class tables' codes): paddy, closed
    # forest, high-cover grassland / lake, mining land, bare soil; scattered shrubland patches.
    block = (cols * 2.99).astype(int) + 3 * (rows > 0.5)
    cover = np.array([11, 21, 31, 42, 53, 65], dtype=np.uint8)[block]
    cover[rng.random(cover.shape) < 0.08] = 22
    p["landcover"] = write(folder, "landcover", cover, gdal.GDT_Byte, nodata=0)
    years = [2000, 2005, 2010, 2016, 2020]
    trend_sign = np.where(cols > 0.5, 1.0, -1.0)
    series = [
        write(folder, f"ndvi_{year}", ndvi_values + 0.01 * (year - 2000) * trend_sign * rows)
        for year in years
    ]
    month = np.arange(12)[:, None, None]
    season = np.sin(np.pi * (month + 0.5) / 12)  # 0 in winter, 1 in summer
    monthly = {
        "ndvi": 0.15 + 0.55 * season * (0.5 + 0.5 * cols),
        "temperature": -4 + 26 * season + 2 * rows,
        "precipitation": 20 + 110 * season * (0.6 + 0.4 * rows),
        "solar": 150 + 500 * season + 20 * cols,
    }
    monthly_values = {k: v.astype(np.float32) for k, v in monthly.items()}
    monthly = {k: write(folder, f"monthly_{k}", v) for k, v in monthly_values.items()}
    sand, silt = field(25, 60), field(35, 20)
    soil = {
        "SAND": write(folder, "sand", sand),
        "SILT": write(folder, "silt", silt),
        "CLAY": write(folder, "clay", 100 - sand - silt),
        "ORGANIC_CARBON": write(folder, "organic_carbon", field(2.5, 0.5)),
    }
    factors = {
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
    estarfm = {
        "FINE1": write(folder, "fine1", fine1),
        "COARSE1": write(folder, "coarse1", coarse(fine1)),
        "FINE2": write(folder, "fine2", fine2),
        "COARSE2": write(folder, "coarse2", coarse(fine2)),
        "COARSE_PRED": write(folder, "coarse_pred", coarse(nir * 1.05 + 0.005)),
    }
    drivers = [
        write(folder, "mat", field(6, 12)),
        write(folder, "map", field(300, 700)),
        write(folder, "soc", field(4, 18)),
        write(folder, "ld", field(0, 1, noise=0.2)),
    ]
    target = write(
        folder,
        "npp",
        300 + 20 * field(6, 12) + 0.3 * field(300, 700) - 80 * field(0, 1, noise=0.2),
    )
    indicators = [p["index"], p["ndvi"], p["albedo"]]
    lst_series = [write(folder, f"lst_{i}", field(310.0 - i, 296.0 + i)) for i in range(3)]
    # A consistent 3 × 3 comparison matrix (row by row): weights ∝ 1 : 1/3 : 1/5 … (CR < 0.1).
    matrix = [1, 3, 5, 1 / 3, 1, 2, 1 / 5, 1 / 2, 1]
    hierarchy = os.path.join(folder, "hierarchy.csv")
    with open(hierarchy, "w", encoding="utf-8") as handle:
        handle.write("[criteria]\nA,B\n1,2\n0.5,1\n[A]\na1,a2\n1,3\n0.333333,1\n[B]\nb1\n1\n")
    # A year of NDVI, one layer per month, dated in the file names (temporal_composite).
    dated = [
        write(folder, f"fused_2013-{m + 1:02d}-15", monthly_values["ndvi"][m]) for m in range(12)
    ]
    # Two base pairs and two coarse dates between them (estarfm_series), dated in the names.
    series_inputs = {
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
    planner = planner_inputs(folder, p, cover)
    return {
        "ahp_hierarchy": {"HIERARCHY": hierarchy},
        "temporal_composite": {"INPUT": dated},
        # The same dated year, composited and run through CASA (casa_npp_years).
        "casa_npp_years": {
            "NDVI": dated,
            "TEMPERATURE": [monthly["temperature"]],
            "PRECIPITATION": [monthly["precipitation"]],
            "SOLAR": [monthly["solar"]],
        },
        "npp_validation": {"INPUT": target, "REFERENCE_RASTER": drivers[2]},
        "resilience_years": {
            "YEARS": "2000,2020",
            "FVC": [series[0], series[-1]],
            "LST": [lst_series[0], lst_series[-1]],
        },
        "estarfm_series": series_inputs,
        "restoration_planner": planner,
        "ahp_weights": {"MATRIX": matrix},
        "albedo": {"INPUT": p["stack"]},
        "biological_abundance": {"INPUT": p["landcover"]},
        "casa_npp": {
            "NDVI": [monthly["ndvi"]],
            "TEMPERATURE": [monthly["temperature"]],
            "PRECIPITATION": [monthly["precipitation"]],
            "SOLAR": [monthly["solar"]],
        },
        "change_analysis": {"BEFORE": p["index"], "AFTER": p["index_b"]},
        "classify_index": {"INPUT": p["index"]},
        "composite_index": {"INPUTS": indicators, "TRENDS": TRENDS, "WEIGHTS": WEIGHTS},
        "desertification_index": {"NDVI": p["ndvi"], "ALBEDO": p["albedo"]},
        "ecological_elasticity": {"INPUT": p["landcover"]},
        "estarfm": estarfm,
        "fvc": {"INPUT": p["ndvi"]},
        "html_report": {"INDEX": [p["index"]]},
        "human_activity_index": {"INPUT": p["landcover"]},
        "index_trend": {"INPUT": series, "YEARS": ",".join(map(str, years))},
        "kriging": {
            "INPUT": write_points(folder, "samples", rng),
            "FIELD": "value",
            "REFERENCE": p["dem"],
        },
        "kriging_fields": {
            "INPUT": write_points(folder, "samples_fields", rng),
            "FIELDS": ["value"],
            "REFERENCE": p["dem"],
        },
        "local_correlation_drivers": {"DRIVERS": [p["ndvi"], p["albedo"]], "TARGET": p["lst"]},
        "landsat_reflectance": {"INPUT": p["dn"]},
        "landscape_metrics": {"INPUT": p["landcover"]},
        "local_correlation": {"INPUT_X": p["ndvi"], "INPUT_Y": p["lst"]},
        "lst": {"THERMAL": p["thermal"], "NDVI": p["ndvi"]},
        "ndbsi": {"INPUT": p["stack"]},
        "ndmvi": {"INPUT": p["stack"]},
        "ndvi": {"INPUT": p["stack"]},
        "normalize": {"INPUT": p["index"]},
        "objective_weights": {"INPUTS": indicators},
        "pearson_correlation": {"TARGET": target, "DRIVERS": drivers},
        "resilience_index": {"FVC": p["index"], "LST": p["lst"], "ALBEDO": p["albedo"]},
        "rf_driver_contribution": {
            "TARGET": target,
            "DRIVERS": drivers,
            "CATEGORIES": DRIVER_CATEGORIES,
        },
        "rusle": factors,
        "rusle_c": {"INPUT": p["index"]},
        "rusle_k": soil,
        "rusle_ls": {"DEM": p["dem"]},
        "rusle_p": {"LANDCOVER": p["landcover"]},
        "rusle_r": {"PRECIPITATION": [monthly["precipitation"]]},
        "solar_radiation": {"REFERENCE": p["dem"]},
        "tasseled_cap": {"INPUT": p["stack"]},
        "vhi": {"NDVI": series[:3], "LST": lst_series},
        "weight_sensitivity": {"INPUTS": indicators, "TRENDS": TRENDS, "WEIGHTS": WEIGHTS},
    }


def planner_inputs(folder, p, cover) -> dict:
    """restoration_planner: the land cover, two indicators, the weights table of an index run
    on them, and one candidate site (a 4 × 4 block of bare soil, 65, restored to closed forest,
    21) with its target code."""
    table = os.path.join(folder, "index_weights.csv")
    with open(table, "w", encoding="utf-8") as handle:
        handle.write(
            "code,indicator,trend,minimum,maximum,combined\n"
            "C3,FVC,+,0.05,0.95,0.7\nC9,LST,-,296,314,0.3\n"
        )
    path = os.path.join(folder, "sites.gpkg")
    source = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    layer = source.CreateLayer("sites", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("target", ogr.OFTInteger))
    x0, y0 = ORIGIN[0] + 18 * PIXEL, ORIGIN[1] - 16 * PIXEL  # inside the bare-soil block
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("target", 21)
    ring = (
        f"POLYGON(({x0} {y0},{x0 + 4 * PIXEL} {y0},{x0 + 4 * PIXEL} {y0 - 4 * PIXEL},"
        f"{x0} {y0 - 4 * PIXEL},{x0} {y0}))"
    )
    feature.SetGeometry(ogr.CreateGeometryFromWkt(ring))
    layer.CreateFeature(feature)
    source = None
    return {
        "LANDCOVER": p["landcover"],
        "FVC": p["index"],
        "LST": p["lst"],
        "WEIGHTS_TABLE": table,
        "SITES": path,
        "TARGET_FIELD": "target",
    }

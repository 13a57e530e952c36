"""Driver-analysis demo (the NPP-drivers study's §2.4): what controls vegetation on the L8-FL scene?

    .venv/bin/python scripts/demo_drivers.py [--out demo-output/drivers]

``make demo`` calls ``run_step(run_algorithm, fetch, out_dir)``; run standalone, the script
enables the plugin in a throw-away QGIS profile and runs every algorithm through
``qgis_process.bin`` itself. Either way the algorithms run as users run them headless.

The study explains NPP by climate, soil and mining drivers. No NPP, climate grid, soil survey or
mining-damage map exists for the L8-FL scene (Landsat 8, 2015-08-04, Escambia County, Florida:
CLIMATE covers lon −85…−75 only), so the demo keeps the study's design on layers of that scene,
each named real or derived:

* target — NDVI: real (Landsat 8 OLI red and NIR top-of-atmosphere reflectance, ``ndvi``);
* category "climate" (surface energy stand-ins, real measurements of the scene): LST (°C,
  emissivity-corrected brightness temperature of TIRS band 10, ``lst``) and broadband albedo
  (Liang 2001, ``albedo``);
* category "soil" (derived stand-ins from the real reflectance): tasseled-cap wetness (Baig et
  al. 2014, band 3 of ``tasseled_cap``) for soil and canopy moisture, and NDBSI (``ndbsi``) for
  bare, dry soil;
* category "mining" (derived stand-in of a land-degradation layer): the share (%) of bare or
  built-up pixels (NDBSI > 0) within a 15 × 15-pixel (450 m) window — the local density of
  disturbed ground.

Clouds (11 % of the scene by its MTL) are not masked: cold, dark cloud tops take part in the
correlations as they would in an unscreened analysis. The numbers illustrate the method, not
the ecology of Escambia County.

Steps: pearson_correlation (1000 random points, SEED 42, like the study's Figure 3 numbers);
local_correlation of NDVI with LST (11 × 11 window, α = 0.05); rf_driver_contribution (1000
points, 500 trees, threshold 0.6, RGB = soil, mining, climate as in the study's Figure 5a).
Exit status 0 on success, 1 when a step fails, 2 when the sample data cannot be fetched.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"
L8_FL_MTL = "LC80200392015216LGN00_MTL.txt"
TASSELED_CAP_OLI = 3  # tasseled_cap COEFFICIENTS: OLI (Baig et al. 2014)
LST_SENSOR_LANDSAT8_B10 = 0
DISTURBANCE_WINDOW = 15
SEED = 42

#: (driver file stem, category, provenance) in the order given to the algorithms.
DRIVERS = (
    ("lst", "climate", "real: Landsat 8 TIRS band 10, emissivity-corrected (°C)"),
    ("albedo", "climate", "real: broadband albedo of the OLI reflectance (Liang 2001)"),
    ("tc_wetness", "soil", "derived stand-in: tasseled-cap wetness (soil/canopy moisture)"),
    ("ndbsi", "soil", "derived stand-in: NDBSI (bare, dry soil)"),
    (
        "disturbance_density",
        "mining",
        f"derived stand-in: % of NDBSI > 0 pixels in a {DISTURBANCE_WINDOW}×"
        f"{DISTURBANCE_WINDOW} window (land degradation)",
    ),
)
TARGET = ("ndvi", "real: NDVI of the L8-FL Landsat 8 scene (TOA reflectance)")


# --- inputs -------------------------------------------------------------------------------------


def ensure_indicators(run_algorithm, fetch, out_dir: Path) -> None:
    """Reflectance, NDVI, LST, albedo, NDBSI and tasseled cap of L8-FL in ``out_dir``: reused when
    earlier demo steps wrote them, computed through the plugin otherwise."""

    def missing(*names):
        return any(not (out_dir / f"{n}.tif").is_file() for n in names)

    if missing("reflectance", "thermal_radiance"):
        run_algorithm(
            "landsat_reflectance",
            MTL=fetch("l8-fl") / L8_FL_MTL,
            OUTPUT=out_dir / "reflectance.tif",
            OUTPUT_THERMAL=out_dir / "thermal_radiance.tif",
        )
    stack = out_dir / "reflectance.tif"
    for name in ("ndvi", "albedo", "ndbsi"):
        if missing(name):
            run_algorithm(name, INPUT=stack, OUTPUT=out_dir / f"{name}.tif")
    if missing("tasseled_cap"):
        run_algorithm(
            "tasseled_cap",
            INPUT=stack,
            COEFFICIENTS=TASSELED_CAP_OLI,
            OUTPUT=out_dir / "tasseled_cap.tif",
        )
    if missing("lst"):
        run_algorithm(
            "lst",
            THERMAL=out_dir / "thermal_radiance.tif",
            NDVI=out_dir / "ndvi.tif",
            SENSOR=LST_SENSOR_LANDSAT8_B10,
            RED=stack,
            OUTPUT=out_dir / "lst.tif",
        )


def read_band(path: Path, band: int = 1) -> tuple[np.ndarray, gdal.Dataset]:
    dataset = gdal.Open(str(path))
    raster = dataset.GetRasterBand(band)
    values = raster.ReadAsArray().astype(np.float64)
    nodata = raster.GetNoDataValue()
    if nodata is not None:
        values[values == nodata] = np.nan
    return values, dataset


def write_like(reference: gdal.Dataset, path: Path, values: np.ndarray) -> Path:
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(path),
        reference.RasterXSize,
        reference.RasterYSize,
        1,
        gdal.GDT_Float32,
        ["COMPRESS=DEFLATE", "TILED=YES"],
    )
    dataset.SetGeoTransform(reference.GetGeoTransform())
    dataset.SetProjection(reference.GetProjection())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(-9999.0)
    band.WriteArray(np.where(np.isfinite(values), values, -9999.0).astype(np.float32))
    dataset = None
    return path


def derive_drivers(work: Path, out_dir: Path) -> None:
    """The derived single-band drivers (module docstring) in ``work``."""
    from mine_eco_plugin.core.windows import box_count, box_sum

    wetness, dataset = read_band(out_dir / "tasseled_cap.tif", band=3)
    write_like(dataset, work / "tc_wetness.tif", wetness)
    ndbsi, dataset = read_band(out_dir / "ndbsi.tif")
    valid = np.isfinite(ndbsi)
    bare = np.where(valid, (ndbsi > 0).astype(np.float64), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 100.0 * box_sum(bare, DISTURBANCE_WINDOW) / box_count(valid, DISTURBANCE_WINDOW)
    write_like(dataset, work / "disturbance_density.tif", np.where(valid, share, np.nan))


def driver_path(name: str, work: Path, out_dir: Path) -> Path:
    return work / f"{name}.tif" if (work / f"{name}.tif").exists() else out_dir / f"{name}.tif"


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- the step -----------------------------------------------------------------------------------


def run_step(run_algorithm, fetch, out_dir: Path) -> dict[str, Path]:
    """Driver analysis of NDVI on the L8-FL scene; returns {label: raster path}."""
    out_dir = Path(out_dir)
    work = out_dir / "drivers"
    work.mkdir(parents=True, exist_ok=True)
    ensure_indicators(run_algorithm, fetch, out_dir)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    derive_drivers(work, out_dir)
    target = out_dir / f"{TARGET[0]}.tif"
    drivers = [str(driver_path(name, work, out_dir)) for name, _, _ in DRIVERS]
    categories = ",".join(category for _, category, _ in DRIVERS)

    print("Driver analysis (L8-FL, Landsat 8, 2015-08-04):")
    print(f"  target  {TARGET[0]:<20} {TARGET[1]}")
    for name, category, provenance in DRIVERS:
        print(f"  {category:<7} {name:<20} {provenance}")

    pearson = run_algorithm(
        "pearson_correlation",
        TARGET=target,
        DRIVERS=drivers,
        POINTS=1000,
        SEED=SEED,
        OUTPUT=work / "pearson.csv",
    )
    print("  Pearson correlation with NDVI (1000 random pixels, SEED 42):")
    for row in read_csv(pearson["OUTPUT"]):
        print(
            f"    {row['driver']:<20} r = {float(row['r']):+.3f}{row['significance']:<2}  "
            f"p = {float(row['p']):.3g}  n = {row['n']}"
        )

    local = run_algorithm(
        "local_correlation",
        INPUT_X=driver_path("lst", work, out_dir),
        INPUT_Y=target,
        WINDOW=11,
        ALPHA=0.05,
        OUTPUT_R=work / "local_r_ndvi_lst.tif",
        OUTPUT_P=work / "local_p_ndvi_lst.tif",
        OUTPUT_CLASS=work / "local_class_ndvi_lst.tif",
    )
    print(
        "  Local correlation NDVI ~ LST (11×11): significant positive "
        f"{local['SHARE_POSITIVE']:.1f} %, negative {local['SHARE_NEGATIVE']:.1f} %, "
        f"insignificant {local['SHARE_INSIGNIFICANT']:.1f} % of {int(local['PIXELS']):,} pixels"
    )

    forest = run_algorithm(
        "rf_driver_contribution",
        TARGET=target,
        DRIVERS=drivers,
        CATEGORIES=categories,
        POINTS=1000,
        SEED=SEED,
        TREES=500,
        THRESHOLD=0.6,
        RGB_CATEGORIES="soil,mining,climate",
        OUTPUT_IMPORTANCE=work / "rf_importance.csv",
        OUTPUT_SCORES=work / "rf_scores.csv",
        OUTPUT_RELATIVE=work / "rf_relative_contribution.tif",
        OUTPUT_RGB=work / "rf_relative_contribution_rgb.tif",
        OUTPUT_DOMINANT=work / "rf_dominant_driver.tif",
        OUTPUT_AREAS=work / "rf_dominant_areas.csv",
        OUTPUT_CHART=work / "rf_importance.png",
    )
    print("  Random-forest factorial experiments (1000 points, 500 trees):")
    for row in read_csv(forest["OUTPUT_SCORES"]):
        print(
            f"    {row['model']:<22} OOB R² = {float(row['oob_r2']):.3f}  "
            f"RMSE = {float(row['oob_rmse']):.4f}"
        )
    for row in read_csv(forest["OUTPUT_IMPORTANCE"]):
        extra = ""
        if row["level"] == "category":
            extra = (
                f"  mean RelCon {float(row['relcon_mean']):.1f} ± {float(row['relcon_sd']):.1f} %"
            )
        print(f"    {row['level']:<8} {row['name']:<20} {float(row['percent']):6.2f} %{extra}")
    shares = [
        f"{row['class']} {float(row['percent']):.1f} %"
        for row in read_csv(forest["OUTPUT_AREAS"])
        if row["percent"] and float(row["percent"]) > 0
    ]
    print(f"    dominant-driver areas: {', '.join(shares)}")
    print(f"    importance chart: {forest['OUTPUT_CHART']}")
    return {
        "local r, NDVI ~ LST (11×11)": Path(local["OUTPUT_R"]),
        "local correlation class, NDVI ~ LST": Path(local["OUTPUT_CLASS"]),
        "relative contribution (climate, soil, mining; %)": Path(forest["OUTPUT_RELATIVE"]),
        "relative contribution RGB (soil, mining, climate)": Path(forest["OUTPUT_RGB"]),
        "dominant driver": Path(forest["OUTPUT_DOMINANT"]),
        "land degradation stand-in (derived)": work / "disturbance_density.tif",
    }


# --- standalone -----------------------------------------------------------------------------

if __name__ == "__main__":
    from qgis_runner import standalone

    sys.exit(standalone(run_step, "Driver demo", Path(sys.argv[1]) if len(sys.argv) > 1 else None))

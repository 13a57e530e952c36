"""Demo step: CASA NPP on the NC-LC site (Raleigh, North Carolina) with real monthly climate.

``make demo`` calls ``run_step(run_algorithm, fetch, out_dir)``; standalone:

    .venv/bin/python scripts/demo_casa.py [OUT_DIR]     (default demo-output/casa)

What is real and what is derived (every derived layer carries "derived" in its file name):

* **Climate, real**: monthly mean temperature ``tas`` (°C) and precipitation ``pr`` (mm/month)
  of 1999 at 1/8° (CLIMATE, ``bcsd_obs_1999.nc``; Maurer et al. 2002). The netCDF has no CRS
  tag: the step writes GeoTIFF copies with **EPSG:4326 assigned** (``*_epsg4326.tif``); CASA
  resamples them bilinearly onto the 28.5 m grid.
* **Land cover, real**: ``strata.tif`` (NC-LC, 7 classes). The class coding is assumed to be
  GRASS's NC ``landclass96`` (1 developed, 2 agriculture, 3 herbaceous, 4 shrubland,
  5 forest, 6 water, 7 sediment), as the package's labelled polygons use. Mapping onto Zhu et
  al. (2006)'s types is a **stand-in**: forest → deciduous broadleaf (the Piedmont's mixed
  forests have no settled ε_max), herbaceous → grass, agriculture → crop, shrubland → shrub,
  developed and sediment → other, water → ε_max 0.
* **Monthly NDVI, derived**: one Landsat 7 date of 2000 (``lsat7_2000_30``/``_40``, red and
  NIR digital numbers, no CRS tag: **EPSG:3358 assigned**). The data carry no calibration, so
  DN are turned into radiance with the ETM+ nominal high-gain limits (Chander et al. 2009:
  band 3 LMIN/LMAX −5.0/152.9, band 4 −5.1/157.4 W·m⁻²·sr⁻¹·µm⁻¹, QCAL 1–255) and into
  reflectance ratios with ESUN 1533 and 1039 (sun geometry cancels in NDVI): an **assumed**
  calibration. NDVI = (ρNIR − ρred)/(ρNIR + ρred) is taken as the July (peak) value (the
  acquisition date is not shipped) and scaled by the seasonal curve
  f(m) = 0.7 + 0.3·cos(2π(m − 7)/12) (January 0.4, April and October 0.7, July 1.0), a
  documented stand-in for a real monthly NDVI series.
* **Solar radiation, derived**: ``solar_radiation`` (FAO-56) from each pixel's latitude,
  Ångström–Prescott with a = 0.25, b = 0.50 and an assumed relative sunshine n/N = 0.55 (not
  measured here).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"
NC_LC_EPSG = 3358
SUNSHINE = 0.55
#: Stand-in mapping of the NC-LC classes onto Zhu et al. (2006) types:
#: code, eps_max (gC/MJ), NDVI_max, SR_max.
LANDCOVER_TABLE = (
    (1, 0.542, 0.634, 4.46),  # developed → other
    (2, 0.542, 0.634, 4.46),  # agriculture → crop
    (3, 0.542, 0.634, 4.46),  # herbaceous → grass
    (4, 0.429, 0.636, 4.49),  # shrubland → shrub
    (5, 0.692, 0.747, 6.91),  # forest → deciduous broadleaf (stand-in)
    (6, 0.0, 0.634, 4.46),  # water → no production
    (7, 0.542, 0.634, 4.46),  # sediment → other
)


def seasonal_factor(month: int) -> float:
    """The stand-in seasonal curve of the derived monthly NDVI (month 1–12)."""
    return 0.7 + 0.3 * np.cos(2 * np.pi * (month - 7) / 12)


def _write(path: Path, data: np.ndarray, like: gdal.Dataset, wkt: str, note: str) -> str:
    data = data[np.newaxis] if data.ndim == 2 else data
    out = gdal.GetDriverByName("GTiff").Create(
        str(path), like.RasterXSize, like.RasterYSize, data.shape[0], gdal.GDT_Float32,
        ["COMPRESS=DEFLATE", "TILED=YES"],
    )  # fmt: skip
    out.SetGeoTransform(like.GetGeoTransform())
    out.SetProjection(wkt)
    out.SetMetadataItem("PROVENANCE", note)
    for band in range(data.shape[0]):
        out.GetRasterBand(band + 1).WriteArray(data[band])
        out.GetRasterBand(band + 1).SetNoDataValue(-9999.0)
    out = None
    return str(path)


def derived_monthly_ndvi(nc_lc: Path, target: Path) -> str:
    """12-band NDVI (derived) on the NC-LC grid, EPSG:3358 assigned."""
    red_ds = gdal.Open(str(nc_lc / "lsat7_2000_30.tif"))
    red = red_ds.ReadAsArray().astype(np.float64)
    nir = gdal.Open(str(nc_lc / "lsat7_2000_40.tif")).ReadAsArray().astype(np.float64)
    nodata = red_ds.GetRasterBand(1).GetNoDataValue()
    # Assumed ETM+ high-gain calibration (Chander et al. 2009): L = G·(DN − 1) + LMIN;
    # reflectance ∝ L / ESUN (the sun's elevation and distance cancel in the ratio).
    rho_red = ((152.9 + 5.0) / 254 * (red - 1) - 5.0) / 1533.0
    rho_nir = ((157.4 + 5.1) / 254 * (nir - 1) - 5.1) / 1039.0
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (rho_nir - rho_red) / (rho_nir + rho_red)
    # Dark pixels (water) fall below LMIN: no reflectance, so NoData.
    invalid = ~np.isfinite(ndvi) | (red == nodata) | (rho_red <= 0) | (rho_nir <= 0)
    monthly = np.stack([ndvi * seasonal_factor(m) for m in range(1, 13)])
    monthly[:, invalid] = -9999.0
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(NC_LC_EPSG)
    return _write(
        target, monthly.astype(np.float32), red_ds, srs.ExportToWkt(),
        "DERIVED: NDVI of Landsat 7 DN (2000, assumed high-gain calibration) x seasonal "
        "curve 0.7 + 0.3cos(2pi(m-7)/12); EPSG:3358 assigned",
    )  # fmt: skip


def climate_copy(climate: Path, variable: str, target: Path) -> str:
    """GeoTIFF copy of a netCDF variable (12 bands) with EPSG:4326 assigned."""
    gdal.Translate(
        str(target), f'NETCDF:"{climate / "bcsd_obs_1999.nc"}":{variable}',
        outputSRS="EPSG:4326", creationOptions=["COMPRESS=DEFLATE"],
    )  # fmt: skip
    return str(target)


def run_step(
    run_algorithm: Callable[..., dict[str, Any]], fetch: Callable[[str], Path], out_dir: Path
) -> dict[str, str]:
    """Derived solar radiation, then CASA NPP; {label: raster path}."""
    nc_lc, climate = fetch("nc-lc"), fetch("climate")
    out_dir = Path(out_dir)
    inputs = out_dir / "casa_inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    ndvi = derived_monthly_ndvi(nc_lc, inputs / "ndvi_monthly_derived_epsg3358.tif")
    tas = climate_copy(climate, "tas", inputs / "tas_1999_epsg4326.tif")
    pr = climate_copy(climate, "pr", inputs / "pr_1999_epsg4326.tif")
    solar = run_algorithm(
        "solar_radiation",
        REFERENCE=ndvi,
        METHOD=1,
        SUNSHINE=SUNSHINE,
        OUTPUT=str(out_dir / "solar_radiation_derived.tif"),
    )["OUTPUT"]
    matrix = ",".join(str(v) for row in LANDCOVER_TABLE for v in row)
    npp = run_algorithm(
        "casa_npp",
        NDVI=ndvi,
        TEMPERATURE=tas,
        PRECIPITATION=pr,
        SOLAR=solar,
        LANDCOVER=str(nc_lc / "strata.tif"),
        TABLE_MATRIX=matrix,
        OUTPUT=str(out_dir / "casa_npp_annual.tif"),
        OUTPUT_MONTHLY=str(out_dir / "casa_npp_monthly.tif"),
        OUTPUT_FPAR=str(out_dir / "casa_fpar_monthly.tif"),
        OUTPUT_WE=str(out_dir / "casa_water_stress_monthly.tif"),
    )
    return {
        "CASA annual NPP 1999, gC/m2/yr (climate real; NDVI and solar derived)": npp["OUTPUT"],
        "CASA monthly NPP, gC/m2/month (12 bands)": npp["OUTPUT_MONTHLY"],
        "CASA FPAR (from the derived monthly NDVI)": npp["OUTPUT_FPAR"],
        "CASA water stress W_eps (real climate)": npp["OUTPUT_WE"],
        "Solar radiation, DERIVED from latitude (FAO-56, n/N = 0.55 assumed)": solar,
        "Monthly NDVI, DERIVED (one 2000 date x seasonal curve)": ndvi,
    }


# --- standalone ------------------------------------------------------------------------------

if __name__ == "__main__":
    from qgis_runner import standalone

    sys.exit(standalone(run_step, "CASA demo", Path(sys.argv[1]) if len(sys.argv) > 1 else None))

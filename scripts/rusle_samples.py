"""Real sample layers for the RUSLE demo, benchmark and tests, made from the DATA.md sets.

* ``jacksboro_geographic``: the JACKSBORO DEM (matplotlib's ``jacksboro_fault_dem.npz``, 3″,
  integer metres) as a GeoTIFF in WGS 84 (EPSG:4326). The npz's ``ymin`` is the north edge.
* ``jacksboro_utm``: that DEM reprojected (bilinear) to UTM zone 16N (EPSG:32616), 75 m cells
  (the DEM's 3″ are about 75 × 93 m there), float32, NoData −9999.
* ``climate_precipitation``: the CLIMATE monthly precipitation ``pr`` (mm/month, 12 bands, 1999)
  copied to a GeoTIFF with WGS 84 assigned: the netCDF file has no CRS tag.

Each function writes its file once and returns its path (str).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

UTM_16N = 32616
JACKSBORO_CELL_M = 75.0


def _srs_wkt(epsg: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def jacksboro_geographic(npz_path, out_dir) -> str:
    out = Path(out_dir) / "jacksboro_wgs84.tif"
    if out.exists():
        return str(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = np.load(npz_path)
    elevation = data["elevation"].astype(np.float32)
    rows, cols = elevation.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(out), cols, rows, 1, gdal.GDT_Float32)
    dataset.SetGeoTransform(
        (float(data["xmin"]), float(data["dx"]), 0.0, float(data["ymin"]), 0.0, -float(data["dy"]))
    )
    dataset.SetProjection(_srs_wkt(4326))
    dataset.GetRasterBand(1).WriteArray(elevation)
    dataset = None
    return str(out)


def jacksboro_utm(npz_path, out_dir, cell: float = JACKSBORO_CELL_M) -> str:
    out = Path(out_dir) / f"jacksboro_utm16n_{cell:g}m.tif"
    if out.exists():
        return str(out)
    source = jacksboro_geographic(npz_path, out_dir)
    partial = out.with_suffix(".partial.tif")
    gdal.Warp(
        str(partial),
        source,
        dstSRS=f"EPSG:{UTM_16N}",
        xRes=cell,
        yRes=cell,
        targetAlignedPixels=True,
        resampleAlg="bilinear",
        dstNodata=-9999,
        outputType=gdal.GDT_Float32,
    )
    partial.replace(out)
    return str(out)


def climate_precipitation(nc_path, out_dir) -> str:
    out = Path(out_dir) / "climate_pr_1999_wgs84.tif"
    if out.exists():
        return str(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial.tif")
    gdal.Translate(str(partial), f'NETCDF:"{nc_path}":pr', outputSRS="EPSG:4326", format="GTiff")
    partial.replace(out)
    return str(out)


# --- GRASS r.watershed, the peer users compare LS and flow accumulation with -----------------


def grass_executable():
    """Path of the ``grass`` launcher (Debian grass-core), or None."""
    import shutil

    return shutil.which("grass")


def grass_watershed(dem_tif, out_dir, *, ls: bool = False, threshold: int = 100, timeout=3600):
    """Run ``r.watershed -s`` (single flow direction) on a GeoTIFF DEM headless in a throw-away
    GRASS location made from the DEM's CRS. Writes ``grass_accumulation.tif`` (float64; GRASS
    marks cells whose catchment may reach beyond the edge with a negative sign) and, with
    ``ls``, asks for the LS output too (``length_slope``, which needs ``threshold``).

    Returns {"accumulation": path, "seconds": wall time of r.watershed alone,
    "total_seconds": import + r.watershed + export, the whole GRASS session}.
    """
    import subprocess
    import time

    grass = grass_executable()
    if grass is None:
        raise FileNotFoundError("GRASS is not installed (Debian package grass-core)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    accumulation = out / "grass_accumulation.tif"
    timing = out / "grass_seconds.txt"
    outputs = "accumulation=acc"
    if ls:
        outputs += f" length_slope=ls threshold={threshold}"
    script = out / "grass_watershed.sh"
    script.write_text(
        "set -e\n"
        f"r.external input='{dem_tif}' output=dem --quiet --overwrite\n"
        "g.region raster=dem\n"
        "start=$(date +%s.%N)\n"
        f"r.watershed -s elevation=dem {outputs} --quiet --overwrite\n"
        "end=$(date +%s.%N)\n"
        f"echo \"$start $end\" > '{timing}'\n"
        f"r.out.gdal input=acc output='{accumulation}' format=GTiff type=Float64 "
        "createopt=COMPRESS=DEFLATE --quiet --overwrite 2>/dev/null\n",
        encoding="utf-8",
    )
    started = time.perf_counter()
    done = subprocess.run(
        [grass, "--tmp-location", str(dem_tif), "--exec", "bash", str(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    total = time.perf_counter() - started
    if done.returncode != 0 or not accumulation.exists():
        raise RuntimeError(f"r.watershed failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    start, end = (float(v) for v in timing.read_text().split())
    return {"accumulation": str(accumulation), "seconds": end - start, "total_seconds": total}


def agreement(ours, grass_accumulation) -> dict:
    """Agreement of two D8 accumulations (cells) over the cells valid in both: Spearman rank
    correlation and the share of cells with equal counts (GRASS's sign flag removed)."""
    from scipy.stats import spearmanr

    theirs = np.abs(np.asarray(grass_accumulation, dtype=np.float64))
    ours = np.asarray(ours, dtype=np.float64)
    both = np.isfinite(ours) & np.isfinite(theirs) & (ours > 0) & (theirs > 0)
    rho = spearmanr(ours[both], theirs[both]).correlation
    return {
        "cells": int(both.sum()),
        "spearman": float(rho),
        "equal_share": float(np.mean(ours[both] == theirs[both])),
    }

"""Demo step: ESTARFM fusion of the authors' own Landsat–MODIS test images (Zhu et al. 2010).

``make demo`` calls ``run_step(run_algorithm, fetch, out_dir)``; standalone:

    .venv/bin/python scripts/demo_estarfm.py [OUT_DIR]     (default demo-output/estarfm)

Data (``fetch("zhu2010")``, DATA.md): Landsat-7 ETM+ and MODIS (already resampled to 30 m)
green, red and NIR, 400×400 pixels, reflectance × 10 000, of May 24, July 11 and August 12,
2001 (the paper's §4.2.1 forest scene). As in the paper, July 11 is predicted from the May 24
and August 12 pairs and MODIS of July 11; the real ETM+ image of July 11 is kept to compare.

The ENVI files carry no map information. The engine needs a CRS, so the step writes GeoTIFF
copies with a **stand-in** georeferencing, named ``*_standin_utm13n.tif``: EPSG:32613 (UTM 13N,
the zone of the scene's stated location, about 54°N 104°W), 30 m pixels, upper-left corner at
the arbitrary (500 000 E, 6 000 000 N). Pixel values are untouched; positions are not real.

Outputs (GeoTIFF, stand-in georeferencing):

* the ESTARFM prediction of July 11 (3 bands, reflectance × 10 000) and the real image;
* the NPP-drivers study's use (Tian et al. 2022, §2.2.1): NDVI fused as one band. The NDVI inputs
  are **derived** here from the red and NIR bands, (NIR − red)/(NIR + red), and fused with the
  valid range (−1, 1).
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
STANDIN_EPSG = 32613
STANDIN_ORIGIN = (500000.0, 6000000.0)
PIXEL = 30.0
IMAGES = ("tm0524", "modis0524", "tm0812", "modis0812", "modis0711", "tm0711")
PARAMETERS = ("FINE1", "COARSE1", "FINE2", "COARSE2", "COARSE_PRED")


def standin_copy(source: Path, target: Path, values: np.ndarray | None = None) -> Path:
    """GeoTIFF of ``source`` (or of ``values`` on its grid) with the stand-in georeferencing."""
    dataset = gdal.Open(str(source))
    data = dataset.ReadAsArray() if values is None else values
    data = data[np.newaxis] if data.ndim == 2 else data
    kind = gdal.GDT_Int16 if values is None else gdal.GDT_Float32
    out = gdal.GetDriverByName("GTiff").Create(
        str(target), data.shape[2], data.shape[1], data.shape[0], kind, ["COMPRESS=DEFLATE"]
    )
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(STANDIN_EPSG)
    out.SetProjection(srs.ExportToWkt())
    out.SetGeoTransform((STANDIN_ORIGIN[0], PIXEL, 0.0, STANDIN_ORIGIN[1], 0.0, -PIXEL))
    out.SetMetadataItem(
        "GEOREFERENCING",
        "stand-in (the source has no map information): EPSG:32613, 30 m, arbitrary origin",
    )
    for band in range(data.shape[0]):
        out.GetRasterBand(band + 1).WriteArray(data[band])
        if values is not None:
            out.GetRasterBand(band + 1).SetNoDataValue(-9999.0)
    out = None
    return target


def derived_ndvi(source: Path) -> np.ndarray:
    """NDVI from bands 2 (red) and 3 (NIR); -9999 where undefined."""
    data = gdal.Open(str(source)).ReadAsArray().astype(np.float64)
    red, nir = data[1], data[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir - red) / (nir + red)
    return np.where(np.isfinite(ndvi), ndvi, -9999.0).astype(np.float32)


def run_step(
    run_algorithm: Callable[..., dict[str, Any]], fetch: Callable[[str], Path], out_dir: Path
) -> dict[str, str]:
    """Fuse the Zhu (2010) scene (3 bands) and its derived NDVI; {label: raster path}."""
    folder = fetch("zhu2010")
    out_dir = Path(out_dir)
    inputs = out_dir / "estarfm_inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    copies = {
        name: standin_copy(folder / name, inputs / f"{name}_standin_utm13n.tif") for name in IMAGES
    }
    ndvi = {
        name: standin_copy(
            folder / name,
            inputs / f"{name}_ndvi_derived_standin_utm13n.tif",
            derived_ndvi(folder / name),
        )
        for name in IMAGES
    }
    reflectance = run_algorithm(
        "estarfm",
        **{p: str(copies[n]) for p, n in zip(PARAMETERS, IMAGES, strict=False)},
        WINDOW=25,
        CLASSES=4,
        VALID_MIN=0,
        VALID_MAX=10000,
        OUTPUT=str(out_dir / "estarfm_20010711_predicted.tif"),
    )
    fused_ndvi = run_algorithm(
        "estarfm",
        **{p: str(ndvi[n]) for p, n in zip(PARAMETERS, IMAGES, strict=False)},
        WINDOW=25,
        CLASSES=4,
        VALID_MIN=-1,
        VALID_MAX=1,
        OUTPUT=str(out_dir / "estarfm_ndvi_20010711_predicted.tif"),
    )
    mad = _mad(reflectance["OUTPUT"], str(copies["tm0711"]))
    print(
        "  ESTARFM mean absolute difference from the real 2001-07-11 image (reflectance): "
        + ", ".join(
            f"{band} {value / 10000:.4f}"
            for band, value in zip(("green", "red", "NIR"), mad, strict=True)
        )
        + " (Zhu et al. 2010, Table 1: 0.0035, 0.0032, 0.0106); NDVI "
        + f"{_mad(fused_ndvi['OUTPUT'], str(ndvi['tm0711']))[0]:.4f}"
    )
    return {
        "ESTARFM prediction, ETM+ green/red/NIR of 2001-07-11 (Zhu 2010 data)": reflectance[
            "OUTPUT"
        ],
        "Real ETM+ of 2001-07-11, for comparison (Zhu 2010 data)": str(copies["tm0711"]),
        "ESTARFM prediction of NDVI (derived from red/NIR) for 2001-07-11": fused_ndvi["OUTPUT"],
        "Real NDVI of 2001-07-11 (derived from ETM+ red/NIR)": str(ndvi["tm0711"]),
    }


def _mad(predicted: str, real: str) -> list[float]:
    a = gdal.Open(predicted).ReadAsArray().astype(np.float64)
    b = gdal.Open(real).ReadAsArray().astype(np.float64)
    a, b = (x[np.newaxis] if x.ndim == 2 else x for x in (a, b))
    valid = (a > -9999).all(axis=0) & (b > -9999).all(axis=0)
    return [float(np.abs(a[i] - b[i])[valid].mean()) for i in range(a.shape[0])]


# --- standalone ------------------------------------------------------------------------------

if __name__ == "__main__":
    from qgis_runner import standalone

    sys.exit(standalone(run_step, "ESTARFM demo", Path(sys.argv[1]) if len(sys.argv) > 1 else None))

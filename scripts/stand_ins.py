"""Derived stand-ins for what the sample data lack, shared by the demo and the tests.

``pit_scene``: a copy of a real Landsat scene with a stand-in mine pit of bare soil. The
MARBURG scenes (1.2 km of farmland and forest) have no bare land, so the albedo–NDVI fit of
the desertification index finds no negative slope there (2001: a = +0.25); a pit gives the
scene the bare end of that relation, as mining land does in the resilience study's area.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from osgeo import gdal

#: Bare-soil reflectance of the six reflective bands (blue … swir2) of the stand-in pit.
BARE_SOIL = (0.12, 0.15, 0.20, 0.25, 0.32, 0.28)
#: CNLUCC code of the pit (53: industrial, mining and transport land).
MINING_LAND = 53


def pit_scene(scene_dir: Path, scene: str, size: int, folder: Path) -> tuple[str, str]:
    """A copy of ``scene`` (MTL and bands of ``scene_dir``) in ``folder`` whose reflective bands
    hold bare soil (``BARE_SOIL``, through the scene's own MTL calibration) in rows and columns
    4 … 4 + ``size`` − 1, and its stand-in land cover from NDVI (CNLUCC: water 41, built-up 51,
    dry land 12, grassland 31, forest 21; the pit ``MINING_LAND``).

    Returns (MTL path, land-cover path); the land cover is named landcover_<year>.tif.
    """
    from mine_eco_plugin.core.landsat import parse_mtl_file, scene_from_mtl

    scene_dir, folder = Path(scene_dir), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mtl = scene_dir / f"{scene}_MTL.txt"
    shutil.copy(mtl, folder / mtl.name)
    for band in scene_dir.glob(f"{scene}_B*.TIF"):
        shutil.copy(band, folder / band.name)
    meta = scene_from_mtl(parse_mtl_file(mtl), folder)
    pit = (slice(4, 4 + size), slice(4, 4 + size))
    sine = np.sin(np.radians(meta.sun_elevation)) if meta.sun_correction else 1.0
    reflectance = []
    for band, rho in zip(meta.reflectance_bands, BARE_SOIL, strict=True):
        dataset = gdal.Open(str(band.path), gdal.GA_Update)
        dn = dataset.ReadAsArray()
        wanted = np.round((rho * sine - band.add) / band.mult)
        dn[pit] = np.clip(wanted, 1, np.iinfo(dn.dtype).max)
        dataset.GetRasterBand(1).WriteArray(dn)
        dataset.SetMetadataItem("PROVENANCE", f"DERIVED: stand-in mine pit of {size} x {size} px")
        dataset = None
        reflectance.append((band.mult * dn + band.add) / sine)
    red, nir = reflectance[2], reflectance[3]
    ndvi = (nir - red) / np.maximum(nir + red, 1e-6)
    cover = np.select([ndvi < 0, ndvi < 0.2, ndvi < 0.35, ndvi < 0.5], [41, 51, 12, 31], 21)
    cover[pit] = MINING_LAND
    like = gdal.Open(str(meta.reflectance_bands[0].path))
    year = str(meta.acquisition_date)[:4]
    path = folder / f"landcover_{year}.tif"
    out = gdal.GetDriverByName("GTiff").Create(
        str(path), like.RasterXSize, like.RasterYSize, 1, gdal.GDT_Int16
    )
    out.SetGeoTransform(like.GetGeoTransform())
    out.SetProjection(like.GetProjection())
    out.SetMetadataItem("PROVENANCE", "DERIVED: NDVI thresholds -> CNLUCC codes, pit 53")
    out.GetRasterBand(1).WriteArray(cover.astype(np.int16))
    out = None
    return str(folder / mtl.name), str(path)

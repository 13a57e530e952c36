"""resilience_scenes: the resilience study's evolution from one Landsat scene per year, on the
two real MARBURG scenes (Landsat 7 ETM+ 2001-07-30 and Landsat 8 OLI 2013-07-07, one 41 × 41
grid, with the package's DEM).

Derived, documented (scripts/stand_ins.py, as the demo): MARBURG is 1.2 km of farmland and
forest without bare land, where the albedo–NDVI fit of the desertification index (C1) has no
negative slope (2001: a = +0.25), so each scene gets a stand-in mine pit of bare soil, growing
from 12 × 12 pixels in 2001 to 20 × 20 in 2013. Stand-ins too: land cover of each year from its
NDVI (CNLUCC codes; the pit is 53, mining land), a seasonal rainfall curve and a loam."""

import importlib.util
import shutil
from pathlib import Path

import declared
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingException
from rasters import read_raster

L7 = "LE07_L1TP_195025_20010730_20170204_01_T1"
L8 = "LC08_L1TP_195025_20130707_20170503_01_T1"
#: Table 2 of the resilience study: combined weight and trend of the 14 indicators the model
#: makes (C5, C16 and C17 need layers the sample data lack). C1 enters with + (the default
#: reading: desertification lowers resilience; Table 2 prints −).
TABLE2 = {
    "C1_DDI": (0.1185, +1),
    "C2_EROSION": (0.0736, -1),
    "C3_FVC": (0.1554, +1),
    "C4_VHI": (0.0941, +1),
    "C6_HAI": (0.0329, -1),
    "C7_WETNESS": (0.0629, +1),
    "C8_DRYNESS": (0.0450, -1),
    "C9_LST": (0.0473, -1),
    "C10_ALBEDO": (0.0389, -1),
    "C11_BRIGHTNESS": (0.0365, -1),
    "C12_BAI": (0.0377, +1),
    "C13_ECO": (0.0395, -1),
    "C14_SHDI": (0.0416, +1),
    "C15_FN": (0.0512, +1),
}


def _write(path: Path, values: np.ndarray, like: gdal.Dataset, dtype=gdal.GDT_Float32) -> str:
    values = values[np.newaxis] if values.ndim == 2 else values
    out = gdal.GetDriverByName("GTiff").Create(
        str(path), like.RasterXSize, like.RasterYSize, values.shape[0], dtype
    )
    out.SetGeoTransform(like.GetGeoTransform())
    out.SetProjection(like.GetProjection())
    for band, data in enumerate(values, start=1):
        out.GetRasterBand(band).WriteArray(data)
    out = None
    return str(path)


def _stand_ins():
    """scripts/stand_ins.py (scripts/ is not a package): the demo's stand-in mine pit."""
    spec = importlib.util.spec_from_file_location(
        "mine_eco_stand_ins", Path(__file__).resolve().parents[2] / "scripts" / "stand_ins.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pit_scene = _stand_ins().pit_scene


@pytest.fixture(scope="module")
def inputs(marburg_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenes_inputs")
    like = gdal.Open(str(marburg_dir / "DEM.TIF"))
    months = np.stack([np.full((41, 41), 60 + 30 * np.sin(m / 12 * 2 * np.pi)) for m in range(12)])
    soil = {
        name: _write(folder / f"{name.lower()}.tif", np.full((41, 41), value), like)
        for name, value in (("SAND", 40.0), ("SILT", 40.0), ("CLAY", 20.0), ("ORGANIC_CARBON", 2))
    }
    return {
        "DEM": str(marburg_dir / "DEM.TIF"),
        **soil,
        "PRECIPITATION": [_write(folder / "rain.tif", months, like)],
        "scene_2001": pit_scene(marburg_dir, L7, 12, folder),
        "scene_2013": pit_scene(marburg_dir, L8, 20, folder),
        "WINDOW": 5,
    }


@pytest.fixture(scope="module")
def scenes_run(provider, marburg_dir, inputs, tmp_path_factory):
    import processing

    out = tmp_path_factory.mktemp("scenes")
    parameters = {k: v for k, v in inputs.items() if not k.startswith("scene_")}
    # Scenes out of date order; the land covers, one per year, in the order of the years.
    results = processing.run(
        "mineeco:resilience_scenes",
        {
            **parameters,
            "SCENES": [inputs["scene_2013"][0], inputs["scene_2001"][0]],
            "LANDCOVER": [inputs["scene_2001"][1], inputs["scene_2013"][1]],
            "OUTPUT_FOLDER": str(out / "index"),
            "INDICATOR_FOLDER": str(out / "indicators"),
            "OUTPUT_YEARS": str(out / "years.csv"),
        },
    )
    return results, out


@pytest.mark.data
def test_each_year_gets_the_models_own_indicators(provider, marburg_dir, inputs, scenes_run):
    import processing

    results, out = scenes_run
    assert results["YEARS"] == "2001,2013"
    # The model run by hand on the 2001 scene with the Landsat 7 settings a user would pick:
    # ETM+ band 6 constants and Huang et al. (2002) tasseled-cap coefficients.
    registry_model = "mineeco:resilience_evaluation"
    from mine_eco_plugin.core.spectral import TASSELED_CAP_SETS
    from mine_eco_plugin.core.thermal import THERMAL_SENSORS

    folder = out / "by_hand"
    folder.mkdir()
    keys = ("ddi:C1_DDI", "tasseled_cap:C7_TASSELED_CAP", "lst:C9_LST", "landscape:C15_FN")
    parameters = {k: v for k, v in inputs.items() if not k.startswith("scene_")}
    model = QgsApplication.processingRegistry().createAlgorithmById(registry_model)
    temporary = {d.name(): "TEMPORARY_OUTPUT" for d in model.destinationParameterDefinitions()}
    processing.run(
        registry_model,
        {
            **parameters,
            **temporary,
            "MTL": inputs["scene_2001"][0],
            "LANDCOVER": inputs["scene_2001"][1],
            "SENSOR": list(THERMAL_SENSORS).index("etm7_b6"),
            "COEFFICIENTS": list(TASSELED_CAP_SETS).index("etm_huang_2002"),
            **{key: str(folder / f"{key.split(':')[1]}.tif") for key in keys},
        },
    )
    for key in keys:
        name = key.split(":")[1]
        mine = read_raster(out / "indicators" / f"{name}_2001.tif")[0]
        np.testing.assert_array_equal(mine, read_raster(folder / f"{name}.tif")[0], err_msg=name)


@pytest.mark.data
def test_index_of_both_years_on_the_joint_scale(scenes_run):
    """Eq. 18–20 by numpy on the run's own indicator rasters: each indicator normalised on its
    range over both years (pixels valid in all indicators of the year), Table 2's combined
    weights renormalised over the 14 indicators made."""
    results, out = scenes_run
    indicators = out / "indicators"

    def layers(year):
        tc = read_raster(indicators / f"C7_TASSELED_CAP_{year}.tif")[0]
        found = {"C7_WETNESS": tc[2], "C11_BRIGHTNESS": tc[0]}
        for name in TABLE2:
            if name not in found:
                found[name] = read_raster(indicators / f"{name}_{year}.tif")[0][0]
        return {name: np.asarray(v, dtype=float) for name, v in found.items()}

    years = {year: layers(year) for year in (2001, 2013)}
    valid = {y: np.all([np.isfinite(v) for v in d.values()], axis=0) for y, d in years.items()}
    total = sum(w for w, _ in TABLE2.values())
    for year, data in years.items():
        expected = np.zeros((41, 41))
        for name, (weight, trend) in TABLE2.items():
            both = np.concatenate([years[y][name][valid[y]] for y in years])
            t = (data[name] - both.min()) / (both.max() - both.min())
            expected += weight / total * (t if trend > 0 else 1 - t)
        index = read_raster(out / "index" / f"index_{year}.tif")[0][0]
        assert np.array_equal(np.isfinite(index), valid[year])
        np.testing.assert_allclose(index[valid[year]], expected[valid[year]], atol=2e-6)
    # The pit grew from rows and columns 4–15 (2001) to 4–23 (2013): where it spread, the land
    # lost its vegetation and the index fell.
    spread = np.zeros((41, 41), bool)
    spread[4:24, 4:24] = True
    spread[4:16, 4:16] = False
    before, after = (read_raster(out / "index" / f"index_{y}.tif")[0][0] for y in (2001, 2013))
    assert np.nanmean(after[spread]) < np.nanmean(before[spread]) - 0.05
    means = [float(m) for m in results["MEANS"].split(",")]
    assert len(means) == 2
    np.testing.assert_allclose(
        means,
        [np.nanmean(read_raster(out / "index" / f"index_{y}.tif")[0]) for y in (2001, 2013)],
        rtol=1e-5,
    )


@pytest.mark.data
def test_a_failing_scene_is_named(provider, marburg_dir, inputs, tmp_path):
    """The real 2001 scene without the stand-in pit: the desertification index finds no
    negative albedo–NDVI slope there (a = +0.25), and the error names the year and scene."""
    import processing

    parameters = {k: v for k, v in inputs.items() if not k.startswith("scene_")}
    with pytest.raises(QgsProcessingException, match=rf"2001 \({L7}_MTL.txt\): .*C1 desert"):
        processing.run(
            "mineeco:resilience_scenes",
            {
                **parameters,
                "SCENES": [str(marburg_dir / f"{L7}_MTL.txt"), inputs["scene_2013"][0]],
                "LANDCOVER": [inputs["scene_2001"][1], inputs["scene_2013"][1]],
                "OUTPUT_FOLDER": str(tmp_path / "o"),
            },
        )
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.data
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SCENES": "one"}, "at least two scenes"),
        ({"SCENES": "same-year"}, "one scene per year; 2013"),
        ({"LANDCOVER": "three"}, "LANDCOVER: 3 layers for 2 years"),
        ({"LANDCOVER": "swapped"}, "'landcover_2013' is in the place of 2001"),
        ({"TAU": "0.9,0.8,0.7"}, "TAU: 3 values for 2 years"),
        ({"SCENES": "folder-of-one"}, "SCENE_FOLDER: at least two scenes .* 1 found"),
        ({"PRECIPITATION": "two-single"}, "PRECIPITATION: 2 layer"),
    ],
    ids=[
        "one-scene",
        "same-year",
        "land-cover-count",
        "land-cover-order",
        "tau-count",
        "folder-of-one",
        "rain-layers",
    ],
)
def test_inputs_are_checked_with_their_names(
    provider, marburg_dir, inputs, tmp_path, change, message
):
    import processing

    l7, l8 = inputs["scene_2001"][0], inputs["scene_2013"][0]
    parameters = {k: v for k, v in inputs.items() if not k.startswith("scene_")}
    parameters.update(
        SCENES=[l7, l8], LANDCOVER=[inputs["scene_2001"][1]], OUTPUT_FOLDER=str(tmp_path / "o")
    )
    key, value = next(iter(change.items()))
    if value == "folder-of-one":
        one = tmp_path / "scenes"
        one.mkdir()
        shutil.copy(l8, one / Path(l8).name)
        parameters.pop("SCENES")
        parameters["SCENE_FOLDER"] = str(one)
        value = None
    if value is not None:
        parameters[key] = {
            "one": [l7],
            "same-year": [l8, l8],
            "three": [inputs["scene_2001"][1]] * 3,
            "swapped": [inputs["scene_2013"][1], inputs["scene_2001"][1]],
            "two-single": [inputs["DEM"], inputs["DEM"]],
        }.get(value, value)
    with pytest.raises(QgsProcessingException, match=message):
        processing.run("mineeco:resilience_scenes", parameters)


INPUTS = declared.Inputs()
# Landsat MTL files, one per year, refused before any model step runs.
INPUTS.case(
    "resilience_scenes",
    "not-an-mtl",
    lambda d: {
        "SCENES": [d.text("GROUP = L1_METADATA_FILE\nEND_GROUP\n", ".txt")] * 2,
        "DEM": d.field(0, 50),
        "SAND": d.field(),
        "SILT": d.field(),
        "CLAY": d.field(),
        "ORGANIC_CARBON": d.field(),
        "LANDCOVER": [d.landcover([21, 31])],
        "PRECIPITATION": [d.field(10, 90, bands=12)],
    },
    "SCENES",
)

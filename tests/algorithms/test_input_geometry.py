"""Input geometry over every algorithm of the provider that reads rasters: the same maps written
south-up, mirrored east to west, or with the inputs in mixed layouts give the same numbers at
the same map coordinates as the north-up files; a rotated input is refused naming its
parameter when its grid would be the output grid, and otherwise resampled to the same
numbers.

The inputs are those of the bad-input suite (bad_input.py), written through a
``Data`` whose n-th raster takes the n-th layout of a cycle, so "mixed" gives the first input
one layout and the next another. Each layout's run is compared with the north-up run: every
raster output read back in north-up order (values and extent), every number, every table.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from bad_input import (
    COLS,
    COMPOSITE,
    LANDSCAPE_OUT,
    ROWS,
    TREND_OUT,
    YEARS5,
    Data,
    casa,
    ddi,
    estarfm,
    factors,
    fill_outputs,
    forest,
    indicators,
    kriging,
    lst,
    pair,
    resilience_layers,
    sensitivity,
    soil,
    vhi,
    years,
)
from feedback import Recorder
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsVectorLayer
from rasters import north_up, read_raster, write_raster

from mine_eco_plugin.engine import Grid

#: Cycles of layouts: the n-th raster written takes layouts[n % len(layouts)].
LAYOUTS = {
    "south-up": ("south-up",),
    "mixed": ("south-up", "north-up"),
    "mixed-reverse": ("north-up", "south-up"),
    "mirrored": ("south-up east-west", "east-west", "north-up"),
}


class LaidOut(Data):
    """``Data`` writing each raster in the next layout of a cycle (same maps, same seeds)."""

    def __init__(self, folder: Path, layouts: tuple[str, ...], cycle: bool = True):
        super().__init__(folder)
        self.layouts = layouts
        self.cycle = cycle
        self.paths: list[str] = []

    def raster(self, data, **options) -> str:
        n = len(self.paths)
        if self.cycle:
            layout = self.layouts[n % len(self.layouts)]
        else:  # the last layout for every raster after the first ones
            layout = self.layouts[min(n, len(self.layouts) - 1)]
        options.setdefault("orientation", layout)
        self.paths.append(super().raster(data, **options))
        return self.paths[-1]


def dem(d: Data) -> str:
    """A smooth surface with no two equal drops (no ties for D8), 30 m cells, in metres."""
    rows, cols = np.mgrid[0:ROWS, 0:COLS]
    surface = 400 - 3.0 * rows - 1.7 * cols + 4 * np.sin(rows / 3.0) * np.cos(cols / 4.0)
    surface += np.random.default_rng(21).uniform(0, 0.2, (ROWS, COLS))
    return d.raster(surface)


def soil_texture(d: Data) -> dict:
    """Sand, silt and clay varying from pixel to pixel but adding up to 100 %."""
    sand = np.random.default_rng(22).uniform(30, 50, (ROWS, COLS))
    clay = np.random.default_rng(23).uniform(10, 25, (ROWS, COLS))
    return soil(d, SAND=d.raster(sand), SILT=d.raster(100 - sand - clay), CLAY=d.raster(clay))


def classes(d: Data, seed: int) -> str:
    return d.raster(np.random.default_rng(seed).integers(1, 6, (ROWS, COLS)))


#: Valid runs of every algorithm that reads rasters: (algorithm, label, parameters).
RUNS = [
    *[
        (name, "stack", lambda d: {"INPUT": d.stack()})
        for name in ("ndvi", "ndbsi", "albedo", "tasseled_cap", "ndmvi")
    ],  # fmt: skip
    ("fvc", "index", lambda d: {"INPUT": d.field(-0.2, 0.9)}),
    *[
        (name, "landcover", lambda d: {"INPUT": d.landcover([11, 12, 21]), "WINDOW": 3})
        for name in ("biological_abundance", "ecological_elasticity", "human_activity_index")
    ],
    (
        "landscape_metrics",
        "landcover",
        lambda d: {"INPUT": d.landcover([1, 2, 3]), "WINDOW": 5, **LANDSCAPE_OUT},
    ),
    ("casa_npp", "stacks", lambda d: casa(d)),
    ("objective_weights", "indicators", lambda d: {"INPUTS": indicators(d)}),
    ("composite_index", "indicators", lambda d: {"INPUTS": indicators(d), **COMPOSITE}),
    ("normalize", "joint", lambda d: {"INPUT": d.field(-3, 8), "JOINT": [d.field(-5, 4, seed=7)]}),
    ("classify_index", "index", lambda d: {"INPUT": d.field()}),
    (
        "change_analysis",
        "difference",
        lambda d: {
            "BEFORE": d.field(),
            "AFTER": d.field(seed=3),
            "THRESHOLD": 0.1,
            "OUTPUT_CLASSES": "TEMPORARY_OUTPUT",
            "OUTPUT_TABLE": "TEMPORARY_OUTPUT",
        },
    ),  # fmt: skip
    (
        "change_analysis",
        "classes",
        lambda d: {
            "BEFORE": classes(d, 1),
            "AFTER": classes(d, 2),
            "MODE": 1,
            "OUTPUT_TABLE": "TEMPORARY_OUTPUT",
            "OUTPUT_TRANSITIONS": "TEMPORARY_OUTPUT",
        },
    ),  # fmt: skip
    ("index_trend", "years", lambda d: {"INPUT": years(d), "YEARS": YEARS5, **TREND_OUT}),
    ("resilience_index", "layers", lambda d: resilience_layers(d)),
    ("weight_sensitivity", "indicators", lambda d: sensitivity(d)),
    ("desertification_index", "pair", lambda d: ddi(d)),
    ("local_correlation", "pair", lambda d: pair(d, WINDOW=5)),
    (
        "pearson_correlation",
        "drivers",
        lambda d: {"TARGET": d.field(), "DRIVERS": indicators(d, 2), "POINTS": 60},
    ),
    ("rf_driver_contribution", "drivers", lambda d: forest(d)),
    ("estarfm", "pairs", lambda d: estarfm(d)),
    ("kriging", "reference", lambda d: kriging(d)),
    (
        "solar_radiation",
        "reference",
        lambda d: {"REFERENCE": d.field(), "ELEVATION": d.field(0, 900, seed=4)},
    ),  # fmt: skip
    ("landsat_reflectance", "dn", lambda d: {"INPUT": d.field(7000, 20000, bands=6)}),
    ("lst", "pair", lambda d: lst(d)),
    ("vhi", "years", lambda d: vhi(d)),
    ("rusle_r", "months", lambda d: {"PRECIPITATION": [d.field(10, 90, bands=12)]}),
    ("rusle_k", "soil", lambda d: soil_texture(d)),
    (
        "rusle_ls",
        "dem",
        lambda d: {
            "DEM": dem(d),
            "OUTPUT_SLOPE": "TEMPORARY_OUTPUT",
            "OUTPUT_ACCUMULATION": "TEMPORARY_OUTPUT",
        },
    ),  # fmt: skip
    ("rusle_c", "fvc", lambda d: {"INPUT": d.field(0, 1)}),
    ("rusle_p", "landcover", lambda d: {"LANDCOVER": d.landcover([1, 2, 3])}),
    ("rusle", "factors", lambda d: factors(d)),
]


def execute(algorithm_id: str, parameters: dict):
    import processing
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().algorithmById(f"mineeco:{algorithm_id}")
    assert algorithm is not None, algorithm_id
    feedback = Recorder()
    results = processing.run(
        f"mineeco:{algorithm_id}", fill_outputs(algorithm, parameters), feedback=feedback
    )
    return results, feedback


def raster_in_north_up_order(path: str):
    values, dataset = read_raster(path)
    grid = Grid.of(dataset)
    return north_up(values, dataset), grid.north_up().geotransform


def table(value) -> list[list]:
    layer = value if isinstance(value, QgsVectorLayer) else QgsVectorLayer(value, "t", "ogr")
    assert layer.isValid(), value
    return [[number(v) for v in feature.attributes()] for feature in layer.getFeatures()]


def number(value):
    """CSV cells arrive as text: numbers as float, anything else unchanged."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def same_cell(a, b, where):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
            assert a == b or (a is None) == (b is None), where
            return
        assert float(b) == pytest.approx(float(a), rel=1e-4, abs=1e-6), where
    else:
        assert a == b, where


def assert_same_results(expected: dict, actual: dict, label: str):
    """Every output of ``actual`` equals ``expected``'s at the same map coordinates."""
    assert set(expected) == set(actual)
    compared = 0
    for name, value in expected.items():
        other = actual[name]
        where = f"{label}: {name}"
        if isinstance(value, str) and value.lower().endswith((".tif", ".tiff")):
            a, a_extent = raster_in_north_up_order(value)
            b, b_extent = raster_in_north_up_order(other)
            assert b_extent == pytest.approx(a_extent), f"{where}: extent differs"
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5, equal_nan=True, err_msg=where)
            compared += 1
        elif isinstance(value, bool | int | float) or value is None:
            same_cell(value, other, where)
        elif isinstance(value, QgsVectorLayer) or (
            isinstance(value, str) and value.lower().endswith((".csv", ".gpkg"))
        ):
            rows_a, rows_b = table(value), table(other)
            assert len(rows_a) == len(rows_b), where
            for i, (ra, rb) in enumerate(zip(rows_a, rows_b, strict=True)):
                for j, (ca, cb) in enumerate(zip(ra, rb, strict=True)):
                    same_cell(ca, cb, f"{where} row {i} column {j}")
            compared += 1
        elif isinstance(value, str) and not Path(value).exists():
            assert value == other, where
    return compared


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("spec", RUNS, ids=[f"{a}-{label}" for a, label, _ in RUNS])
def test_same_numbers_whatever_the_layout(spec, layout, provider, tmp_path):
    algorithm, _, build = spec
    if algorithm == "rf_driver_contribution":
        pytest.importorskip("sklearn")
    expected, _ = execute(algorithm, build(Data(tmp_path / "north-up")))
    laid_out = LaidOut(tmp_path / layout, LAYOUTS[layout])
    actual, _ = execute(algorithm, build(laid_out))
    assert laid_out.paths
    compared = assert_same_results(expected, actual, f"{algorithm} ({layout})")
    assert compared, "no raster or table output was compared"


# Data's folders must exist before the first raster is written.
@pytest.fixture(autouse=True)
def _folders(tmp_path):
    for name in ("north-up", *LAYOUTS, "rotated"):
        (tmp_path / name).mkdir(exist_ok=True)


def parameter_of(parameters: dict, path_end: str) -> str:
    """The parameter holding the file whose path ends with ``path_end``."""
    for name, value in parameters.items():
        values = value if isinstance(value, list) else [value]
        if any(str(v).endswith(path_end) for v in values):
            return name
    raise AssertionError(f"no parameter holds {path_end}")


@pytest.mark.parametrize("spec", RUNS, ids=[f"{a}-{label}" for a, label, _ in RUNS])
def test_rotated_first_input_is_refused_naming_it(spec, provider, tmp_path):
    """The first raster written (rotated 90°: rows and columns swapped, rotation terms in the
    geotransform) is refused with a message naming its parameter, or, when it is not the input
    that defines the grid, resampled to the same numbers as the north-up run."""
    algorithm, _, build = spec
    if algorithm == "rf_driver_contribution":
        pytest.importorskip("sklearn")
    rotated = LaidOut(tmp_path / "rotated", ("rotated", "north-up"), cycle=False)
    parameters = build(rotated)
    try:
        actual, _ = execute(algorithm, parameters)
    except QgsProcessingException as error:
        message = str(error)
        assert "is rotated" in message, message
        # The first raster written is the rotated one.
        assert message.startswith(parameter_of(parameters, rotated.paths[0])), message
        return
    # Accepted: the rotated file was not the grid's anchor and was warped onto it.
    expected, _ = execute(algorithm, build(Data(tmp_path / "north-up")))
    assert_same_results(expected, actual, f"{algorithm} (rotated)")


def test_change_analysis_south_up_before_gives_the_true_difference(provider, tmp_path):
    """AFTER = BEFORE + 1 with BEFORE stored south-up: the change is 1 everywhere (it was
    −38 … 40 when AFTER was read upside down)."""
    before = np.random.default_rng(0).uniform(0, 40, (ROWS, COLS))
    b = write_raster(tmp_path / "b.tif", before, orientation="south-up")
    a = write_raster(tmp_path / "a.tif", before + 1)
    results, _ = execute("change_analysis", {"BEFORE": b, "AFTER": a, "THRESHOLD": 0.5})
    values, dataset = read_raster(results["OUTPUT"])
    np.testing.assert_allclose(values, 1.0, atol=1e-5)
    assert dataset.GetGeoTransform() == gdal.Open(b).GetGeoTransform()
    assert results["IMPROVED_PERCENT"] == pytest.approx(100.0)


@pytest.mark.parametrize("mode", [0, 1])
def test_geographic_areas_of_a_south_up_grid(provider, tmp_path, mode):
    """Latitude/longitude grids: the ellipsoidal cell areas of the change tables are the same
    whether the grid is stored north-up or south-up (rows run the other way, so each row's
    area comes from its own latitudes)."""
    rng = np.random.default_rng(31)
    before = rng.integers(1, 4, (ROWS, COLS)).astype(np.float32)
    after = rng.integers(1, 4, (ROWS, COLS)).astype(np.float32)
    areas = {}
    for layout in ("north-up", "south-up"):
        options = {"epsg": 4326, "origin": (10.0, 60.0), "pixel": 0.5, "orientation": layout}
        b = write_raster(tmp_path / f"b_{layout}.tif", before, **options)
        a = write_raster(tmp_path / f"a_{layout}.tif", after, **options)
        table_path = str(tmp_path / f"table_{layout}.csv")
        results, _ = execute(
            "change_analysis", {"BEFORE": b, "AFTER": a, "MODE": mode, "OUTPUT_TABLE": table_path}
        )
        areas[layout] = table(table_path)
    assert len(areas["south-up"]) == len(areas["north-up"])
    for ra, rb in zip(areas["north-up"], areas["south-up"], strict=True):
        for x, y in zip(ra, rb, strict=True):
            same_cell(x, y, f"row {ra}")
    # The areas are those of the rows' own latitudes: the total is the area of the grid,
    # 60°N to 54°N over 7° of longitude, (b²·Δλ/2)·[f(60°) − f(54°)] on WGS 84.
    from mine_eco_plugin.core.evaluation_classes import geographic_row_areas

    expected_km2 = geographic_row_areas(60.0, 0.5, 0.5, ROWS).sum() * COLS / 1e6
    total = [row for row in areas["south-up"] if "total" in row][0]
    # Index mode: (class, "total", pixels, km², ha, %, mean); class mode: the last column.
    assert total[3 if mode == 0 else -1] == pytest.approx(expected_km2, rel=1e-6)

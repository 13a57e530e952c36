"""Bad input, tried systematically over every algorithm of the provider: the data, builders
of valid inputs, the expectations and the runner.

Each test module of an algorithm declares its cases beside its other tests
(``INPUTS.case(algorithm, label, build, error, check)``, see declared.py);
test_reliability_bad_input.py runs every module's cases. A case feeds one algorithm what users'
GIS folders hold (a raster without CRS, another grid, holes, a scaled NDVI, a broken table, an
even window, …) and expects one of two things: a ``QgsProcessingException`` whose message names
the parameter at fault, or a result that a check confirms (e.g. the output lies on the first
input's grid, NoData stays NoData). Any other exception, or a run that succeeds where an error
was due, fails the case. The builders of valid inputs (``casa``, ``estarfm``, …) also serve the
algorithms' ``INPUTS.valid`` declarations.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import QgsProcessingException, QgsVectorLayer
from rasters import read_raster, write_raster
from synthetic_inputs import box_wkt, write_layer

ROWS, COLS = 12, 14
ORIGIN = (500000.0, 5600000.0)
FAR = (900000.0, 4000000.0)
MATRIX3 = [1, 3, 5, 1 / 3, 1, 3, 1 / 5, 1 / 3, 1]


class Data:
    """Small rasters, tables and point layers written on demand into one folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0

    def path(self, suffix=".tif") -> Path:
        self.count += 1
        return self.folder / f"f{self.count}{suffix}"

    def raster(self, data, **options) -> str:
        return write_raster(self.path(), np.asarray(data, dtype=np.float32), **options)

    def field(self, low=0.0, high=1.0, bands=None, seed=0, **options) -> str:
        """A smooth random field in [low, high] on the standard grid."""
        rng = np.random.default_rng(seed)
        shape = (ROWS, COLS) if bands is None else (bands, ROWS, COLS)
        return self.raster(rng.uniform(low, high, shape), **options)

    def stack(self, scale=1.0, **options) -> str:
        """A six-band reflectance stack (blue … SWIR2) of plausible values × ``scale``."""
        rng = np.random.default_rng(1)
        base = np.array([0.04, 0.07, 0.06, 0.35, 0.2, 0.1])[:, None, None]
        values = base * rng.uniform(0.6, 1.4, (6, ROWS, COLS)) * scale
        return self.raster(values, **options)

    def constant(self, value=0.5, bands=None, **options) -> str:
        shape = (ROWS, COLS) if bands is None else (bands, ROWS, COLS)
        return self.raster(np.full(shape, value), **options)

    def nodata(self, bands=None, **options) -> str:
        """Every pixel NoData (−9999)."""
        shape = (ROWS, COLS) if bands is None else (bands, ROWS, COLS)
        return self.raster(np.full(shape, -9999.0), nodata=-9999, **options)

    def landcover(self, codes, nodata=None, **options) -> str:
        rng = np.random.default_rng(2)
        return self.raster(rng.choice(codes, (ROWS, COLS)), nodata=nodata, **options)

    def reprojected(self, source: str, epsg=4326, resolution=0.0005) -> str:
        """``source`` warped to another CRS at another resolution (covering it with margin)."""
        out = str(self.path())
        gdal.Warp(
            out, source, dstSRS=f"EPSG:{epsg}", xRes=resolution, yRes=resolution, dstNodata=-9999
        )
        return out

    def coarser(self, source: str, factor=2) -> str:
        """``source`` on the same CRS at ``factor`` times the pixel size."""
        out = str(self.path())
        gdal.Warp(out, source, xRes=30.0 * factor, yRes=30.0 * factor, resampleAlg="average")
        return out

    def text(self, content: str, suffix=".csv") -> str:
        path = self.path(suffix)
        path.write_text(content, encoding="utf-8")
        return str(path)

    def points(self, n=30, seed=0, far=False, field_values=None) -> str:
        """A GeoPackage of ``n`` points on the standard grid with a numeric field "value"."""
        rng = np.random.default_rng(seed)
        origin = FAR if far else ORIGIN
        xs = origin[0] + rng.uniform(0, COLS * 30, n)
        ys = origin[1] - rng.uniform(0, ROWS * 30, n)
        values = rng.normal(10, 2, n) if field_values is None else field_values
        features = [
            ({"value": float(v), "name": "p"}, f"POINT({x} {y})")
            for x, y, v in zip(xs, ys, values, strict=True)
        ]
        fields = {"value": ogr.OFTReal, "name": ogr.OFTString}
        return write_layer(self.path(".gpkg"), "points", ogr.wkbPoint, fields, features)


# --- expectations ---------------------------------------------------------------------------


@dataclass
class Case:
    algorithm: str
    label: str
    build: Callable[[Data], dict]
    #: Parameter names one of which an error message must name (empty: no error allowed).
    error: tuple[str, ...] = ()
    #: A check of a successful run: check(results, data) asserts (None: success not allowed).
    check: Callable | None = None
    marks: list = field(default_factory=list)

    @property
    def id(self):
        return f"{self.algorithm}-{self.label}"


def output(results, name="OUTPUT"):
    return read_raster(results[name])


def same_grid_as(parameter, name="OUTPUT", layer_index=None):
    """The output lies on the grid of input ``parameter`` and has finite values."""

    def check(results, data, parameters):
        reference = parameters[parameter]
        if isinstance(reference, list):
            reference = reference[layer_index or 0]
        values, dataset = output(results, name)
        ref = gdal.Open(reference)
        assert (dataset.RasterXSize, dataset.RasterYSize) == (ref.RasterXSize, ref.RasterYSize)
        np.testing.assert_allclose(dataset.GetGeoTransform(), ref.GetGeoTransform())
        assert np.isfinite(values).any(), "aligned output has no valid pixel"

    return check


def all_nodata(name="OUTPUT"):
    """Every output pixel is NoData (NoData never becomes a value)."""

    def check(results, data, parameters):
        values, dataset = output(results, name)
        assert dataset.GetRasterBand(1).GetNoDataValue() is not None
        assert np.isnan(values).all(), f"{name}: NoData input gave values"

    return check


def within(low, high, name="OUTPUT"):
    """Valid output pixels exist and lie within [low, high]."""

    def check(results, data, parameters):
        values = output(results, name)[0]
        finite = values[np.isfinite(values)]
        assert finite.size, f"{name} has no valid pixel"
        assert finite.min() >= low - 1e-6 and finite.max() <= high + 1e-6, (
            f"{name} outside [{low}, {high}]: {finite.min()} … {finite.max()}"
        )

    return check


def equals(value, name="OUTPUT", tolerance=1e-6):
    """Every valid output pixel equals ``value`` (and there is at least one)."""

    def check(results, data, parameters):
        values = output(results, name)[0]
        finite = values[np.isfinite(values)]
        assert finite.size
        np.testing.assert_allclose(finite, value, atol=tolerance)

    return check


def table_rows(results, name="OUTPUT"):
    layer = results[name]
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer, "t", "ogr")
    return [feature.attributes() for feature in layer.getFeatures()]


# --- declaring cases; the valid inputs of each algorithm and their checks --------------------

T = "TEMPORARY_OUTPUT"


@functools.cache
def output_ids(algorithm_id: str) -> tuple[str, ...]:
    """The outputs a dialog run of ``algorithm_id`` writes: its destination parameters created
    by default (the mandatory ones and the side outputs), in the order the algorithm declares
    them."""
    from mine_eco_plugin.provider import algorithm_classes

    (cls,) = [c for c in algorithm_classes() if c.algorithm_id == algorithm_id]
    algorithm = cls()
    algorithm.initAlgorithm({})
    return tuple(
        definition.name()
        for definition in algorithm.destinationParameterDefinitions()
        if definition.createByDefault()
    )


def default_outputs(algorithm_id: str) -> dict[str, str]:
    """Every output of ``output_ids(algorithm_id)`` as a temporary output."""
    return dict.fromkeys(output_ids(algorithm_id), T)


# Landscape: class rasters with a table of codes and a moving window.
LANDSCAPE_TABLES = {
    "biological_abundance": [11, 12, 21],
    "ecological_elasticity": [11, 12, 21],
    "human_activity_index": [11, 12, 21],
}

LANDSCAPE_OUT = {"OUTPUT_SHDI": T, "OUTPUT_FN": T}


# CASA: four monthly stacks (12 bands each), optional land cover and table.
def casa(d, **changes):
    rng = np.random.default_rng(4)
    season = np.cos(2 * np.pi * (np.arange(12)[:, None, None] - 6) / 12)
    shape = (12, ROWS, COLS)
    base = {
        "NDVI": [d.raster(0.45 + 0.25 * season + rng.uniform(-0.05, 0.05, shape))],
        "TEMPERATURE": [d.raster(12 + 12 * season + rng.uniform(-2, 2, shape))],
        "PRECIPITATION": [d.raster(80 + 40 * season + rng.uniform(0, 30, shape))],
        "SOLAR": [d.raster(450 + 250 * season + rng.uniform(-20, 20, shape))],
    }
    base.update(changes)
    return base


def casa_series(d, months=range(1, 13), **changes):
    """CASA's inputs with NDVI as a dated series: one layer on the 15th of each month of 2013."""
    months = list(months)
    series = {
        "NDVI": [d.field(0.2, 0.8, seed=m) for m in months],
        "DATES": ",".join(f"2013-{m:02d}-15" for m in months),
    }
    return casa(d, **{**series, **changes})


def weights_sum_to_one(results, data, parameters):
    rows = table_rows(results)
    weights = [value for row in rows for value in row if isinstance(value, float)]
    assert rows and weights


def indicators(d, n=3):
    return [d.field(0, 10, seed=s) for s in range(n)]


COMPOSITE = {"TRENDS": "+,-,+", "WEIGHTS": "0.5,0.3,0.2"}


def one_class(results, data, parameters):
    values = gdal.Open(results["OUTPUT"]).ReadAsArray()
    assert len(np.unique(values)) == 1 and values.min() >= 1


def classes_only(results, data, parameters):
    values = gdal.Open(results["OUTPUT"]).ReadAsArray()
    assert set(np.unique(values)) <= {1, 2, 3, 4, 5}


YEARS5 = "2000,2005,2010,2015,2020"


def years(d, n=5):
    return [d.field(seed=s) for s in range(n)]


TREND_OUT = {"OUTPUT_Z": T, "OUTPUT_P": T, "OUTPUT_CLASS": T}


def resilience_layers(d, **changes):
    base = {"FVC": d.field(seed=1), "LST": d.field(20, 40, seed=2), "DDI": d.field(seed=3)}
    base.update(changes)
    return {**base, "OUTPUT_WEIGHTS": T}


def sensitivity(d, **changes):
    return {
        "INPUTS": indicators(d),
        "TRENDS": "+,-,+",
        "WEIGHTS": "0.5,0.3,0.2",
        "DRAWS": 20,
        **default_outputs("weight_sensitivity"),
        **changes,
    }


def ddi(d, **changes):
    rng = np.random.default_rng(8)
    ndvi = rng.uniform(0.0, 0.8, (ROWS, COLS))
    albedo = 0.4 - 0.3 * ndvi + rng.normal(0, 0.01, (ROWS, COLS))
    return {"NDVI": d.raster(ndvi), "ALBEDO": d.raster(albedo), **changes}


# Drivers.
CORRELATION_OUT = {"OUTPUT_R": T, "OUTPUT_CLASS": T}


def pair(d, **changes):
    return {"INPUT_X": d.field(seed=1), "INPUT_Y": d.field(seed=2), "WINDOW": 3,
            **CORRELATION_OUT, **changes}  # fmt: skip


def r_bounded(results, data, parameters):
    rows = table_rows(results)
    assert rows
    for row in rows:
        r = row[2] if isinstance(row[1], str) else row[1]
        assert r is None or -1 <= r <= 1


def forest(d, **changes):
    return {
        "TARGET": d.field(seed=9),
        "DRIVERS": indicators(d, 3),
        "CATEGORIES": "climate,soil,mining",
        "POINTS": 80,
        "TREES": 10,
        "THREADS": 1,
        **default_outputs("rf_driver_contribution"),
        **changes,
    }


# Productivity.
ESTARFM_PARAMS = {"WINDOW": 3, "VALID_MIN": 0.0, "VALID_MAX": 1.0, "THREADS": 1}


def estarfm(d, **changes):
    rng = np.random.default_rng(0)
    fine = rng.uniform(0.1, 0.5, (2, ROWS, COLS))
    paths = {
        "FINE1": d.raster(fine),
        "COARSE1": d.raster(fine * 0.95 + 0.01),
        "FINE2": d.raster(fine * 1.1),
        "COARSE2": d.raster(fine * 1.05 + 0.01),
        "COARSE_PRED": d.raster(fine * 1.02 + 0.01),
    }
    return {**paths, **ESTARFM_PARAMS, **changes}


def finite_everywhere(results, data, parameters):
    values = output(results)[0]
    assert np.isfinite(values).all()


def kriging(d, **changes):
    return {
        "INPUT": d.points(),
        "FIELD": "value",
        "REFERENCE": d.field(),
        "OUTPUT_CV": T,
        **changes,
    }


def lst(d, **changes):
    return {"THERMAL": d.field(8, 11), "NDVI": d.field(-0.1, 0.8), "SENSOR": 0, **changes}


def vhi(d, **changes):
    return {
        "NDVI": [d.field(-0.1, 0.8, seed=s) for s in range(3)],
        "LST": [d.field(280, 310, seed=s + 5) for s in range(3)],
        "OUTPUT_VCI": T,
        "OUTPUT_TCI": T,
        "OUTPUT_VHI": T,
        **changes,
    }


def soil(d, **changes):
    return {
        "SAND": d.constant(40.0),
        "SILT": d.constant(40.0),
        "CLAY": d.constant(20.0),
        "ORGANIC_CARBON": d.constant(1.5),
        **changes,
    }


def factors(d, **changes):
    return {
        "R": d.field(100, 900, seed=1),
        "K": d.field(0.01, 0.05, seed=2),
        "LS": d.field(0, 5, seed=3),
        "C": d.field(0, 1, seed=4),
        "P": d.field(0, 1, seed=5),
        "OUTPUT_CLASSES": T,
        "OUTPUT_TABLE": T,
        **changes,
    }


# Workflows.
def page_written(results, data, parameters):
    assert Path(results["OUTPUT"]).stat().st_size > 0
    assert results["OMITTED"]


# ahp_hierarchy: a sectioned file of pairwise matrices.
HIERARCHY = "[criteria]\nA,B\n1,2\n0.5,1\n[A]\na1,a2\n1,3\n0.333333,1\n[B]\nb1\n1\n"


# restoration_planner: a CLCD forest (2) with a 4 × 4 barren (7) square, FVC and LST constant
# per class, a weights table of the two (Table 2 codes), one site restoring the square.
PLANNER_TABLE = (
    "code,indicator,trend,minimum,maximum,combined\nC3,FVC,+,0.1,0.8,0.7\nC9,LST,-,24,36,0.3\n"
)


def planner_inputs(d, target=2, table=PLANNER_TABLE, **changes):
    cover = np.full((ROWS, COLS), 2.0)
    cover[4:8, 4:8] = 7
    x0, y0 = ORIGIN[0] + 4 * 30, ORIGIN[1] - 4 * 30
    square = box_wkt(x0, y0, x0 + 120, y0 - 120)
    sites = write_layer(
        d.path(".gpkg"),
        "sites",
        ogr.wkbPolygon,
        {"target": ogr.OFTInteger},
        [({"target": target}, square)],
    )
    return {
        "LANDCOVER": d.raster(cover),
        "FVC": d.raster(np.where(cover == 2, 0.8, 0.1)),
        "LST": d.raster(np.where(cover == 2, 24.0, 36.0)),
        "WEIGHTS_TABLE": d.text(table),
        "SITES": sites,
        "TARGET_FIELD": "target",
        "CLASSIFICATION": 1,
        "RADIUS": 200,
        **changes,
    }


def planner_gain_one(results, data, parameters):
    """The barren square restored to forest's values gains 1 per pixel (P goes 0 → 1)."""
    rows = table_rows(results)
    assert rows[0][0] == "1" and abs(rows[0][8] - 1.0) < 1e-5  # site_id, mean_gain


# --- running them ------------------------------------------------------------------------------


def fill_outputs(algorithm, parameters):
    """Every mandatory destination not given becomes a temporary output."""
    filled = dict(parameters)
    for definition in algorithm.destinationParameterDefinitions():
        optional = definition.flags() & definition.FlagOptional
        if definition.name() not in filled and not optional:
            filled[definition.name()] = T
    return filled


def names_a_parameter(message, names):
    return any(re.search(rf"\b{re.escape(name)}\b", message) for name in names)


def run(bad: Case, tmp_path: Path) -> None:
    """Run one case through processing.run and hold it to its expectation."""
    import processing
    from qgis.core import QgsApplication, QgsProcessingFeedback

    if bad.algorithm == "rf_driver_contribution":
        pytest.importorskip("sklearn")
    algorithm = QgsApplication.processingRegistry().algorithmById(f"mineeco:{bad.algorithm}")
    assert algorithm is not None, bad.algorithm
    data = Data(tmp_path)
    parameters = fill_outputs(algorithm, bad.build(data))
    try:
        results = processing.run(
            f"mineeco:{bad.algorithm}", parameters, feedback=QgsProcessingFeedback()
        )
    except QgsProcessingException as error:
        message = str(error)
        assert bad.error, f"unexpected error: {message}"
        assert names_a_parameter(message, bad.error), (
            f"the message does not name {' or '.join(bad.error)}: {message}"
        )
        assert "Traceback" not in message
        return
    assert bad.check is not None, (
        f"ran without error; an error naming {' or '.join(bad.error)} was due: {results}"
    )
    bad.check(results, data, parameters)

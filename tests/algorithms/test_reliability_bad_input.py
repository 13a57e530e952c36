"""Bad input, tried systematically over every algorithm of the provider.

Each case feeds one algorithm what users' GIS folders hold (a raster without CRS, another
grid, holes, a scaled NDVI, a broken table, an even window, …) and expects one of two things:
a ``QgsProcessingException`` whose message names the parameter at fault, or a result that a
check confirms (e.g. the output lies on the first input's grid, NoData stays NoData). Any other
exception, or a run that succeeds where an error was due, fails the case. A summary test counts
the cases per algorithm and fails when an algorithm of the provider has none.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from qgis.core import QgsProcessingException, QgsVectorLayer
from rasters import read_raster, write_raster

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
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32632)
        path = self.path(".gpkg")
        source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
        layer = source.CreateLayer("points", srs, ogr.wkbPoint)
        layer.CreateField(ogr.FieldDefn("value", ogr.OFTReal))
        layer.CreateField(ogr.FieldDefn("name", ogr.OFTString))
        for x, y, v in zip(xs, ys, values, strict=True):
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("value", float(v))
            feature.SetField("name", "p")
            feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT({x} {y})"))
            layer.CreateFeature(feature)
        source = None
        return str(path)


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


# --- the cases -------------------------------------------------------------------------------

T = "TEMPORARY_OUTPUT"
CASES: list[Case] = []


def case(algorithm, label, build, error=(), check=None):
    if isinstance(error, str):
        error = (error,)
    CASES.append(Case(algorithm, label, build, tuple(error), check))


# Spectral indices of the six-band stack.
for stack_index in ("ndvi", "ndbsi", "albedo", "tasseled_cap", "ndmvi"):
    case(stack_index, "no-crs", lambda d: {"INPUT": d.stack(epsg=None)}, "INPUT")
    case(stack_index, "three-bands", lambda d: {"INPUT": d.field(bands=3)}, "INPUT")
    case(stack_index, "seven-bands", lambda d: {"INPUT": d.field(bands=7)}, "INPUT")
    case(stack_index, "all-nodata", lambda d: {"INPUT": d.nodata(bands=6)}, "INPUT", all_nodata())
    case(
        stack_index,
        "reflectance-x10000",
        lambda d: {"INPUT": d.stack(scale=10000)},
        "INPUT",
    )
case("ndvi", "range", lambda d: {"INPUT": d.stack()}, check=within(-1, 1))
case(
    "ndmvi",
    "minimum-above-data",
    lambda d: {"INPUT": d.stack(), "RED_MIN": 0.5, "NIR_MIN": 0.9},
    ("RED_MIN", "NIR_MIN"),
    within(-np.inf, np.inf),
)

# FVC: one index band, percentiles or given end-members.
case("fvc", "no-crs", lambda d: {"INPUT": d.field(-0.2, 0.9, epsg=None)}, "INPUT")
case("fvc", "constant", lambda d: {"INPUT": d.constant(0.4)}, "INPUT")
case("fvc", "all-nodata", lambda d: {"INPUT": d.nodata()}, "INPUT")
case("fvc", "band-missing", lambda d: {"INPUT": d.field(-0.2, 0.9), "BAND": 3}, ("BAND", "INPUT"))
case(
    "fvc",
    "soil-above-vegetation",
    lambda d: {"INPUT": d.field(-0.2, 0.9), "SOIL_VALUE": 0.8, "VEG_VALUE": 0.2},
    ("SOIL_VALUE", "VEG_VALUE"),
)
case(
    "fvc",
    "ndvi-x10000",
    lambda d: {"INPUT": d.field(-2000, 9000)},
    "INPUT",
    within(0, 1),
)
case("fvc", "range", lambda d: {"INPUT": d.field(-0.2, 0.9)}, check=within(0, 1))

# Landscape: class rasters with a table of codes and a moving window.
LANDSCAPE_TABLES = {
    "biological_abundance": [11, 12, 21],
    "ecological_elasticity": [11, 12, 21],
    "human_activity_index": [11, 12, 21],
}
for alg, codes in LANDSCAPE_TABLES.items():
    case(alg, "even-window", lambda d, c=codes: {"INPUT": d.landcover(c), "WINDOW": 4}, "WINDOW")
    case(alg, "zero-window", lambda d, c=codes: {"INPUT": d.landcover(c), "WINDOW": 0}, "WINDOW")
    case(alg, "no-crs", lambda d, c=codes: {"INPUT": d.landcover(c, epsg=None)}, "INPUT")
    case(
        alg,
        "unknown-code",
        lambda d, c=codes: {"INPUT": d.landcover([*c, 999]), "WINDOW": 3},
        ("TABLE", "INPUT"),
    )
    case(
        alg,
        "empty-table",
        lambda d, c=codes: {"INPUT": d.landcover(c), "TABLE": d.text("code,weight\n")},
        "TABLE",
    )
    case(
        alg,
        "malformed-table",
        lambda d, c=codes: {"INPUT": d.landcover(c), "TABLE": d.text("code;weight\n11;x\n")},
        "TABLE",
    )
    case(
        alg,
        "malformed-matrix",
        lambda d, c=codes: {"INPUT": d.landcover(c), "TABLE_MATRIX": ["11", "abc"]},
        "TABLE_MATRIX",
    )
    case(
        alg,
        "all-nodata",
        lambda d, c=codes: {"INPUT": d.nodata(), "WINDOW": 3},
        "INPUT",
        all_nodata(),
    )

LANDSCAPE_OUT = {"OUTPUT_SHDI": T, "OUTPUT_FN": T}
case(
    "landscape_metrics",
    "even-window",
    lambda d: {"INPUT": d.landcover([1, 2, 3]), "WINDOW": 6, **LANDSCAPE_OUT},
    "WINDOW",
)
case(
    "landscape_metrics",
    "zero-window",
    lambda d: {"INPUT": d.landcover([1, 2, 3]), "WINDOW": 0, **LANDSCAPE_OUT},
    "WINDOW",
)
case(
    "landscape_metrics",
    "no-crs",
    lambda d: {"INPUT": d.landcover([1, 2], epsg=None), **LANDSCAPE_OUT},
    "INPUT",
)
case(
    "landscape_metrics",
    "all-nodata",
    lambda d: {"INPUT": d.nodata(), "WINDOW": 3, **LANDSCAPE_OUT},
    "INPUT",
    all_nodata("OUTPUT_SHDI"),
)
case(
    "landscape_metrics",
    "one-class",
    lambda d: {"INPUT": d.constant(3), "WINDOW": 3, **LANDSCAPE_OUT},
    check=equals(0.0, "OUTPUT_SHDI"),
)
case(
    "landscape_metrics",
    "shdi-bounded",
    lambda d: {"INPUT": d.landcover([1, 2, 3]), "WINDOW": 5, **LANDSCAPE_OUT},
    check=within(0, np.log(3), "OUTPUT_SHDI"),
)


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


case("casa_npp", "ndvi-x10000", lambda d: casa(d, NDVI=[d.field(0, 9000, bands=12)]), "NDVI")
case(
    "casa_npp",
    "negative-rain",
    lambda d: casa(d, PRECIPITATION=[d.field(-50, 10, bands=12)]),
    "PRECIPITATION",
)
case("casa_npp", "eleven-months", lambda d: casa(d, SOLAR=[d.field(1, 2, bands=11)]), "SOLAR")
case(
    "casa_npp",
    "unknown-class",
    lambda d: casa(d, LANDCOVER=d.landcover([1, 4, 99])),
    ("LANDCOVER", "TABLE", "UNKNOWN_CLASSES"),
)
case(
    "casa_npp",
    "malformed-table",
    lambda d: casa(d, LANDCOVER=d.landcover([1, 4]), TABLE=d.text("code,label\n1,a\n")),
    "TABLE",
)
case(
    "casa_npp",
    "temperature-other-crs",
    lambda d: casa(d, TEMPERATURE=[d.reprojected(casa(d)["TEMPERATURE"][0])]),
    check=same_grid_as("NDVI", layer_index=0),
)
case(
    "casa_npp",
    "far-solar",
    lambda d: casa(d, SOLAR=[d.field(400, 500, bands=12, origin=FAR)]),
    "SOLAR",
)

# Weighting and evaluation.
case("ahp_weights", "no-matrix", lambda d: {}, ("MATRIX", "MATRIX_FILE"))
case("ahp_weights", "not-square", lambda d: {"MATRIX": MATRIX3[:8]}, "MATRIX")
case(
    "ahp_weights",
    "not-reciprocal",
    lambda d: {"MATRIX": [1, 3, 5, 3, 1, 3, 1 / 5, 1 / 3, 1]},
    "MATRIX",
)
case("ahp_weights", "zero-entry", lambda d: {"MATRIX": [1, 0, 5, 0, 1, 3, 0.2, 1 / 3, 1]}, "MATRIX")
case(
    "ahp_weights",
    "inconsistent",
    lambda d: {"MATRIX": [1, 9, 1 / 9, 1 / 9, 1, 9, 9, 1 / 9, 1]},
    ("MATRIX", "CR_THRESHOLD", "ACCEPT_INCONSISTENT"),
)
case("ahp_weights", "csv-malformed", lambda d: {"MATRIX_FILE": d.text("1,3\nx,1\n")}, "MATRIX_FILE")
case("ahp_weights", "csv-empty", lambda d: {"MATRIX_FILE": d.text("")}, "MATRIX_FILE")
case(
    "ahp_weights",
    "names-count",
    lambda d: {"MATRIX": MATRIX3, "NAMES": "a,b"},
    "NAMES",
)


def weights_sum_to_one(results, data, parameters):
    rows = table_rows(results)
    weights = [value for row in rows for value in row if isinstance(value, float)]
    assert rows and weights


case("ahp_weights", "valid", lambda d: {"MATRIX": MATRIX3}, check=weights_sum_to_one)


def indicators(d, n=3):
    return [d.field(0, 10, seed=s) for s in range(n)]


case(
    "objective_weights",
    "constant-layer",
    lambda d: {"INPUTS": [*indicators(d, 2), d.constant(3.0)]},
    "INPUTS",
)
case(
    "objective_weights",
    "trends-count",
    lambda d: {"INPUTS": indicators(d), "TRENDS": "+,-"},
    "TRENDS",
)
case(
    "objective_weights",
    "trends-symbol",
    lambda d: {"INPUTS": indicators(d), "TRENDS": "+,?,-"},
    "TRENDS",
)
case("objective_weights", "one-layer", lambda d: {"INPUTS": indicators(d, 1)}, "INPUTS")
case(
    "objective_weights",
    "far-layer",
    lambda d: {"INPUTS": [*indicators(d, 2), d.field(origin=FAR)]},
    "INPUTS",
)
case(
    "objective_weights",
    "all-nodata-layer",
    lambda d: {"INPUTS": [*indicators(d, 2), d.nodata()]},
    "INPUTS",
)

COMPOSITE = {"TRENDS": "+,-,+", "WEIGHTS": "0.5,0.3,0.2"}
case(
    "composite_index",
    "weights-count",
    lambda d: {"INPUTS": indicators(d), "TRENDS": "+,-,+", "WEIGHTS": "1,2"},
    "WEIGHTS",
)
case(
    "composite_index",
    "negative-weight",
    lambda d: {"INPUTS": indicators(d), "TRENDS": "+,-,+", "WEIGHTS": "1,-2,1"},
    "WEIGHTS",
)
case(
    "composite_index",
    "constant-layer",
    lambda d: {"INPUTS": [*indicators(d, 2), d.constant(1.0)], **COMPOSITE},
    "INPUTS",
)
case(
    "composite_index",
    "no-crs-layer",
    lambda d: {"INPUTS": [*indicators(d, 2), d.field(epsg=None)], **COMPOSITE},
    "INPUTS",
)
case(
    "composite_index",
    "other-resolution",
    lambda d: {"INPUTS": (lambda x: [x[0], x[1], d.coarser(x[2])])(indicators(d)), **COMPOSITE},
    check=same_grid_as("INPUTS"),
)
case(
    "composite_index",
    "range",
    lambda d: {"INPUTS": indicators(d), **COMPOSITE},
    check=within(0, 1),
)
case(
    "composite_index",
    "minima-above-maxima",
    lambda d: {"INPUTS": indicators(d), **COMPOSITE, "MINIMA": "5,5,5", "MAXIMA": "1,1,1"},
    ("MINIMA", "MAXIMA"),
)

case("normalize", "constant", lambda d: {"INPUT": d.constant(2.0)}, "INPUT")
case("normalize", "all-nodata", lambda d: {"INPUT": d.nodata()}, "INPUT")
case("normalize", "band-missing", lambda d: {"INPUT": d.field(), "BAND": 2}, ("BAND", "INPUT"))
case(
    "normalize",
    "min-above-max",
    lambda d: {"INPUT": d.field(), "MIN": 5, "MAX": 1},
    ("MIN", "MAX"),
)
case("normalize", "no-crs", lambda d: {"INPUT": d.field(epsg=None)}, "INPUT")
case("normalize", "range", lambda d: {"INPUT": d.field(-3, 8)}, check=within(0, 1))
case(
    "normalize",
    "joint-other-crs",
    lambda d: (lambda x: {"INPUT": x, "JOINT": [d.reprojected(x)]})(d.field(-3, 8)),
    check=same_grid_as("INPUT"),
)

case(
    "classify_index",
    "breaks-unsorted",
    lambda d: {"INPUT": d.field(), "BREAKS": "0.5,0.4"},
    "BREAKS",
)
case(
    "classify_index",
    "breaks-text",
    lambda d: {"INPUT": d.field(), "BREAKS": "0.2,low"},
    "BREAKS",
)
case(
    "classify_index",
    "labels-count",
    lambda d: {"INPUT": d.field(), "BREAKS": "0.5", "LABELS": "a,b,c"},
    "LABELS",
)
case("classify_index", "band-missing", lambda d: {"INPUT": d.field(), "BAND": 4}, ("BAND", "INPUT"))


def one_class(results, data, parameters):
    values = gdal.Open(results["OUTPUT"]).ReadAsArray()
    assert len(np.unique(values)) == 1 and values.min() >= 1


case(
    "classify_index",
    "constant-quantiles",
    lambda d: {"INPUT": d.constant(0.5), "METHOD": 2, "LABELS": ""},
    "INPUT",
    one_class,
)
case(
    "classify_index",
    "all-nodata-quantiles",
    lambda d: {"INPUT": d.nodata(), "METHOD": 2, "LABELS": ""},
    "INPUT",
)
case("classify_index", "no-crs", lambda d: {"INPUT": d.field(epsg=None)}, "INPUT")


def classes_only(results, data, parameters):
    values = gdal.Open(results["OUTPUT"]).ReadAsArray()
    assert set(np.unique(values)) <= {1, 2, 3, 4, 5}


case("classify_index", "valid-codes", lambda d: {"INPUT": d.field()}, check=classes_only)

case(
    "change_analysis",
    "far-after",
    lambda d: {"BEFORE": d.field(), "AFTER": d.field(origin=FAR)},
    "AFTER",
)
case(
    "change_analysis",
    "no-crs-before",
    lambda d: {"BEFORE": d.field(epsg=None), "AFTER": d.field()},
    "BEFORE",
)
case(
    "change_analysis",
    "after-other-crs",
    lambda d: (lambda b: {"BEFORE": b, "AFTER": d.reprojected(b)})(d.field()),
    check=same_grid_as("BEFORE"),
)
case(
    "change_analysis",
    "all-nodata-after",
    lambda d: {"BEFORE": d.field(), "AFTER": d.nodata()},
    "AFTER",
    all_nodata(),
)
case(
    "change_analysis",
    "negative-threshold",
    lambda d: {"BEFORE": d.field(), "AFTER": d.field(seed=3), "THRESHOLD": -1},
    "THRESHOLD",
)

YEARS5 = "2000,2005,2010,2015,2020"


def years(d, n=5):
    return [d.field(seed=s) for s in range(n)]


TREND_OUT = {"OUTPUT_Z": T, "OUTPUT_P": T, "OUTPUT_CLASS": T}
case(
    "index_trend",
    "years-count",
    lambda d: {"INPUT": years(d), "YEARS": "2000,2005", **TREND_OUT},
    "YEARS",
)
case(
    "index_trend",
    "years-text",
    lambda d: {"INPUT": years(d), "YEARS": "2000,x,2010,2015,2020", **TREND_OUT},
    "YEARS",
)
case(
    "index_trend",
    "years-repeated",
    lambda d: {"INPUT": years(d), "YEARS": "2000,2000,2010,2015,2020", **TREND_OUT},
    "YEARS",
)
case(
    "index_trend",
    "far-layer",
    lambda d: {"INPUT": [*years(d, 4), d.field(origin=FAR)], "YEARS": YEARS5, **TREND_OUT},
    "INPUT",
)
case(
    "index_trend",
    "all-nodata",
    lambda d: {"INPUT": [d.nodata() for _ in range(5)], "YEARS": YEARS5, **TREND_OUT},
    "INPUT",
    all_nodata(),
)
case(
    "index_trend",
    "p-in-range",
    lambda d: {"INPUT": years(d), "YEARS": YEARS5, **TREND_OUT},
    check=within(0, 1, "OUTPUT_P"),
)


def resilience_layers(d, **changes):
    base = {"FVC": d.field(seed=1), "LST": d.field(20, 40, seed=2), "DDI": d.field(seed=3)}
    base.update(changes)
    return {**base, "OUTPUT_WEIGHTS": T}


case("resilience_index", "one-indicator", lambda d: {"FVC": d.field(), "OUTPUT_WEIGHTS": T}, "DDI")
case(
    "resilience_index",
    "far-lst",
    lambda d: resilience_layers(d, LST=d.field(origin=FAR)),
    "LST",
)
case(
    "resilience_index",
    "constant-ddi",
    lambda d: resilience_layers(d, DDI=d.constant(0.3)),
    "DDI",
)
case(
    "resilience_index",
    "lst-other-crs",
    lambda d: (lambda f: resilience_layers(d, FVC=f, LST=d.reprojected(d.field(20, 40))))(
        d.field()
    ),
    check=same_grid_as("FVC"),
)
case(
    "resilience_index",
    "range",
    lambda d: resilience_layers(d),
    check=within(0, 1),
)

SENSITIVITY_OUT = {
    name: T
    for name in (
        "OUTPUT_MEAN",
        "OUTPUT_LOW",
        "OUTPUT_HIGH",
        "OUTPUT_CLASS",
        "OUTPUT_STABILITY",
        "OUTPUT_INFLUENCE",
    )
}


def sensitivity(d, **changes):
    return {
        "INPUTS": indicators(d),
        "TRENDS": "+,-,+",
        "WEIGHTS": "0.5,0.3,0.2",
        "DRAWS": 20,
        **SENSITIVITY_OUT,
        **changes,
    }


case("weight_sensitivity", "weights-count", lambda d: sensitivity(d, WEIGHTS="1,2"), "WEIGHTS")
case(
    "weight_sensitivity",
    "matrix-not-square",
    lambda d: sensitivity(d, WEIGHTS="", MATRIX=MATRIX3[:5]),
    "MATRIX",
)
case(
    "weight_sensitivity",
    "constant-layer",
    lambda d: sensitivity(d, INPUTS=[*indicators(d, 2), d.constant(4.0)]),
    "INPUTS",
)
case("weight_sensitivity", "breaks-unsorted", lambda d: sensitivity(d, BREAKS="0.6,0.2"), "BREAKS")
case("weight_sensitivity", "draws-zero", lambda d: sensitivity(d, DRAWS=0), "DRAWS")
case(
    "weight_sensitivity",
    "mean-in-range",
    lambda d: sensitivity(d),
    check=within(0, 1, "OUTPUT_MEAN"),
)


def ddi(d, **changes):
    rng = np.random.default_rng(8)
    ndvi = rng.uniform(0.0, 0.8, (ROWS, COLS))
    albedo = 0.4 - 0.3 * ndvi + rng.normal(0, 0.01, (ROWS, COLS))
    return {"NDVI": d.raster(ndvi), "ALBEDO": d.raster(albedo), **changes}


case("desertification_index", "constant-ndvi", lambda d: ddi(d, NDVI=d.constant(0.4)), "NDVI")
case("desertification_index", "far-albedo", lambda d: ddi(d, ALBEDO=d.field(origin=FAR)), "ALBEDO")
case("desertification_index", "no-crs-ndvi", lambda d: ddi(d, NDVI=d.field(epsg=None)), "NDVI")
case(
    "desertification_index",
    "all-nodata-albedo",
    lambda d: ddi(d, ALBEDO=d.nodata()),
    ("ALBEDO", "NDVI"),
)
case(
    "desertification_index",
    "positive-slope",
    lambda d: (lambda n: ddi(d, NDVI=n, ALBEDO=n))(d.field(0, 0.8)),
    ("NDVI", "ALBEDO"),
)
case(
    "desertification_index",
    "percentiles-swapped",
    lambda d: ddi(d, NORMALISATION=1, LOW_PERCENTILE=90, HIGH_PERCENTILE=10),
    ("LOW_PERCENTILE", "HIGH_PERCENTILE"),
)
case(
    "desertification_index",
    "albedo-other-crs",
    lambda d: (lambda p: {**p, "ALBEDO": d.reprojected(p["ALBEDO"])})(ddi(d)),
    check=same_grid_as("NDVI"),
)


# Drivers.
CORRELATION_OUT = {"OUTPUT_R": T, "OUTPUT_CLASS": T}


def pair(d, **changes):
    return {"INPUT_X": d.field(seed=1), "INPUT_Y": d.field(seed=2), "WINDOW": 3,
            **CORRELATION_OUT, **changes}  # fmt: skip


case("local_correlation", "even-window", lambda d: pair(d, WINDOW=4), "WINDOW")
case("local_correlation", "zero-window", lambda d: pair(d, WINDOW=0), "WINDOW")
case("local_correlation", "far-y", lambda d: pair(d, INPUT_Y=d.field(origin=FAR)), "INPUT_Y")
case("local_correlation", "no-crs-x", lambda d: pair(d, INPUT_X=d.field(epsg=None)), "INPUT_X")
case(
    "local_correlation",
    "y-other-crs",
    lambda d: (lambda x: pair(d, INPUT_X=x, INPUT_Y=d.reprojected(d.field(seed=5))))(d.field()),
    check=same_grid_as("INPUT_X", "OUTPUT_R"),
)
case(
    "local_correlation",
    "constant-x",
    lambda d: pair(d, INPUT_X=d.constant(1.0)),
    "INPUT_X",
    all_nodata("OUTPUT_R"),
)
case(
    "local_correlation",
    "r-bounded",
    lambda d: pair(d, WINDOW=5),
    check=within(-1, 1, "OUTPUT_R"),
)

case(
    "pearson_correlation",
    "all-nodata-target",
    lambda d: {"TARGET": d.nodata(), "DRIVERS": indicators(d, 2), "POINTS": 50},
    ("TARGET", "POINTS"),
)
case(
    "pearson_correlation",
    "far-driver",
    lambda d: {"TARGET": d.field(), "DRIVERS": [d.field(origin=FAR)], "POINTS": 50},
    "DRIVERS",
)
case(
    "pearson_correlation",
    "no-drivers",
    lambda d: {"TARGET": d.field(), "DRIVERS": [], "POINTS": 50},
    "DRIVERS",
)
case(
    "pearson_correlation",
    "zero-points",
    lambda d: {"TARGET": d.field(), "DRIVERS": indicators(d, 2), "POINTS": 0},
    "POINTS",
)


def r_bounded(results, data, parameters):
    rows = table_rows(results)
    assert rows
    for row in rows:
        r = row[2] if isinstance(row[1], str) else row[1]
        assert r is None or -1 <= r <= 1


case(
    "pearson_correlation",
    "r-bounded",
    lambda d: {"TARGET": d.field(), "DRIVERS": indicators(d, 2), "POINTS": 60},
    check=r_bounded,
)

FOREST_OUT = {
    name: T
    for name in (
        "OUTPUT_IMPORTANCE",
        "OUTPUT_SCORES",
        "OUTPUT_RELATIVE",
        "OUTPUT_RGB",
        "OUTPUT_DOMINANT",
        "OUTPUT_AREAS",
    )
}


def forest(d, **changes):
    return {
        "TARGET": d.field(seed=9),
        "DRIVERS": indicators(d, 3),
        "CATEGORIES": "climate,soil,mining",
        "POINTS": 80,
        "TREES": 10,
        "THREADS": 1,
        **FOREST_OUT,
        **changes,
    }


case(
    "rf_driver_contribution",
    "categories-count",
    lambda d: forest(d, CATEGORIES="a,b"),
    "CATEGORIES",
)
case(
    "rf_driver_contribution",
    "all-nodata-target",
    lambda d: forest(d, TARGET=d.nodata()),
    ("TARGET", "POINTS"),
)
case(
    "rf_driver_contribution",
    "far-driver",
    lambda d: forest(d, DRIVERS=[*indicators(d, 2), d.field(origin=FAR)]),
    "DRIVERS",
)
case("rf_driver_contribution", "mtry-too-large", lambda d: forest(d, MTRY=7), "MTRY")

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


case("estarfm", "band-counts", lambda d: estarfm(d, FINE2=d.field(0.1, 0.5)), "FINE2")
case("estarfm", "zero-window", lambda d: estarfm(d, WINDOW=0), "WINDOW")
case(
    "estarfm",
    "empty-range",
    lambda d: estarfm(d, VALID_MIN=1, VALID_MAX=1),
    ("VALID_MIN", "VALID_MAX"),
)
case("estarfm", "far-coarse", lambda d: estarfm(d, COARSE1=d.field(bands=2, origin=FAR)), "COARSE1")
case("estarfm", "no-crs", lambda d: estarfm(d, FINE1=d.field(bands=2, epsg=None)), "FINE1")
case(
    "estarfm",
    "all-nodata-prediction",
    lambda d: estarfm(d, COARSE_PRED=d.nodata(bands=2)),
    "COARSE_PRED",
    all_nodata(),
)


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


case("kriging", "too-few-points", lambda d: kriging(d, INPUT=d.points(3)), ("INPUT", "MIN_POINTS"))
case(
    "kriging",
    "text-field",
    lambda d: kriging(d, FIELD="name"),
    "FIELD",
)
case("kriging", "no-crs-reference", lambda d: kriging(d, REFERENCE=d.field(epsg=None)), "REFERENCE")
case(
    "kriging",
    "points-far-away",
    lambda d: kriging(d, INPUT=d.points(far=True)),
    "INPUT",
    finite_everywhere,
)
case(
    "kriging",
    "constant-field",
    lambda d: kriging(d, INPUT=d.points(field_values=np.full(30, 5.0))),
    ("INPUT", "FIELD"),
    equals(5.0, tolerance=1e-4),
)
case(
    "kriging",
    "universal-three-neighbours",
    lambda d: kriging(d, METHOD=1, NEIGHBOURS=3),
    "NEIGHBOURS",
)
case(
    "kriging",
    "universal-points-far-away",
    lambda d: kriging(d, INPUT=d.points(far=True), METHOD=1),
    "INPUT",
    finite_everywhere,
)
case(
    "kriging_fields",
    "text-field",
    lambda d: {"INPUT": d.points(), "FIELDS": ["value", "name"], "REFERENCE": d.field()},
    "FIELDS",
)
case(
    "kriging_fields",
    "too-few-points",
    lambda d: {"INPUT": d.points(3), "FIELDS": ["value"], "REFERENCE": d.field()},
    ("FIELDS", "MIN_POINTS"),
)
case(
    "local_correlation_drivers",
    "even-window",
    lambda d: {"DRIVERS": [d.field(seed=1)], "TARGET": d.field(seed=2), "WINDOW": 4},
    "WINDOW",
)
case(
    "local_correlation_drivers",
    "far-driver",
    lambda d: {"DRIVERS": [d.field(origin=FAR)], "TARGET": d.field(seed=2), "WINDOW": 3},
    ("DRIVERS", "INPUT_Y"),
)

case(
    "solar_radiation",
    "sunshine-text",
    lambda d: {"REFERENCE": d.field(), "METHOD": 1, "SUNSHINE": "x"},
    "SUNSHINE",
)
case(
    "solar_radiation",
    "sunshine-above-one",
    lambda d: {"REFERENCE": d.field(), "METHOD": 1, "SUNSHINE": "1.5"},
    "SUNSHINE",
)
case("solar_radiation", "no-crs", lambda d: {"REFERENCE": d.field(epsg=None)}, "REFERENCE")
case(
    "solar_radiation",
    "far-elevation",
    lambda d: {"REFERENCE": d.field(), "ELEVATION": d.field(0, 500, origin=FAR)},
    "ELEVATION",
)
case(
    "solar_radiation",
    "positive",
    lambda d: {"REFERENCE": d.field()},
    check=within(0, 2000),
)

# Preparation.
case("landsat_reflectance", "neither", lambda d: {}, ("MTL", "INPUT"))
case("landsat_reflectance", "three-bands", lambda d: {"INPUT": d.field(0, 30000, bands=3)}, "INPUT")
case(
    "landsat_reflectance",
    "malformed-mtl",
    lambda d: {"MTL": d.text("GROUP = L1\nnonsense\n", ".txt")},
    "MTL",
)
case(
    "landsat_reflectance",
    "no-crs",
    lambda d: {"INPUT": d.field(7000, 20000, bands=6, epsg=None)},
    "INPUT",
)
case(
    "landsat_reflectance",
    "all-fill",
    lambda d: {"INPUT": d.constant(0, bands=6)},
    "INPUT",
    all_nodata(),
)


def lst(d, **changes):
    return {"THERMAL": d.field(8, 11), "NDVI": d.field(-0.1, 0.8), "SENSOR": 0, **changes}


case("lst", "ndvi-x10000", lambda d: lst(d, NDVI=d.field(-1000, 8000)), "NDVI")
case("lst", "no-crs-thermal", lambda d: lst(d, THERMAL=d.field(8, 11, epsg=None)), "THERMAL")
case("lst", "far-ndvi", lambda d: lst(d, NDVI=d.field(origin=FAR)), "NDVI")
case("lst", "negative-radiance", lambda d: lst(d, THERMAL=d.field(-5, -1)), "THERMAL", all_nodata())
case("lst", "red-one-band", lambda d: lst(d, RED=d.field(bands=2)), "RED")
case(
    "lst",
    "ndvi-coarser",
    lambda d: (lambda t: lst(d, THERMAL=t, NDVI=d.coarser(d.field(-0.1, 0.8))))(d.field(8, 11)),
    check=same_grid_as("THERMAL"),
)


def vhi(d, **changes):
    return {
        "NDVI": [d.field(-0.1, 0.8, seed=s) for s in range(3)],
        "LST": [d.field(280, 310, seed=s + 5) for s in range(3)],
        "OUTPUT_VCI": T,
        "OUTPUT_TCI": T,
        "OUTPUT_VHI": T,
        **changes,
    }


case("vhi", "layer-counts", lambda d: vhi(d, LST=[d.field(280, 310)]), ("LST", "NDVI"))
case(
    "vhi",
    "ndvi-x10000",
    lambda d: vhi(d, NDVI=[d.field(-1000, 8000, seed=s) for s in range(3)]),
    "NDVI",
    within(0, 1, "OUTPUT_VHI"),
)
case(
    "vhi",
    "constant-one-date",
    lambda d: vhi(d, NDVI=[d.constant(0.3)], LST=[d.field(280, 300)]),
    "NDVI",
)
case(
    "vhi", "far-lst", lambda d: vhi(d, LST=[d.field(280, 310, origin=FAR) for _ in range(3)]), "LST"
)
case("vhi", "range", lambda d: vhi(d), check=within(0, 1, "OUTPUT_VHI"))

# Soil erosion.
case(
    "rusle_r",
    "negative-rain",
    lambda d: {"PRECIPITATION": [d.field(-50, 10, bands=12)]},
    "PRECIPITATION",
)
case(
    "rusle_r",
    "eleven-months",
    lambda d: {"PRECIPITATION": [d.field(10, 90, bands=11)]},
    "PRECIPITATION",
)
case(
    "rusle_r",
    "no-crs",
    lambda d: {"PRECIPITATION": [d.field(10, 90, bands=12, epsg=None)]},
    "PRECIPITATION",
)
case(
    "rusle_r",
    "all-nodata",
    lambda d: {"PRECIPITATION": [d.nodata(bands=12)]},
    "PRECIPITATION",
    all_nodata(),
)
case(
    "rusle_r",
    "positive",
    lambda d: {"PRECIPITATION": [d.field(10, 90, bands=12)]},
    check=within(0, 1e6),
)


def soil(d, **changes):
    return {
        "SAND": d.constant(40.0),
        "SILT": d.constant(40.0),
        "CLAY": d.constant(20.0),
        "ORGANIC_CARBON": d.constant(1.5),
        **changes,
    }


case("rusle_k", "fractions", lambda d: soil(d, SAND=d.constant(0.4)), ("SAND", "SILT", "CLAY"))
case(
    "rusle_k",
    "negative-carbon",
    lambda d: soil(d, ORGANIC_CARBON=d.constant(-1.0)),
    "ORGANIC_CARBON",
)
case("rusle_k", "far-clay", lambda d: soil(d, CLAY=d.constant(20.0, origin=FAR)), "CLAY")
case(
    "rusle_k",
    "clay-other-crs",
    lambda d: soil(d, CLAY=d.reprojected(d.constant(20.0))),
    check=same_grid_as("SAND"),
)
case("rusle_k", "range", lambda d: soil(d), check=within(0, 0.1))

case(
    "rusle_ls",
    "geographic",
    lambda d: {"DEM": d.field(0, 50, epsg=4326, pixel=0.001, origin=(9, 50))},
    "DEM",
)
case("rusle_ls", "no-crs", lambda d: {"DEM": d.field(0, 50, epsg=None)}, "DEM")
case("rusle_ls", "all-nodata", lambda d: {"DEM": d.nodata()}, "DEM", all_nodata())
# Flat: S = 10.8·sin 0 + 0.03 and L = (λ/22.13)^0.2 over the accumulated length.
case("rusle_ls", "flat", lambda d: {"DEM": d.constant(100.0)}, "DEM", within(0.03, 0.06))

case("rusle_c", "ndvi-x10000", lambda d: {"INPUT": d.field(-1000, 9000)}, "INPUT")
case("rusle_c", "all-nodata", lambda d: {"INPUT": d.nodata()}, "INPUT", all_nodata())
case("rusle_c", "no-crs", lambda d: {"INPUT": d.field(epsg=None)}, "INPUT")
case("rusle_c", "range", lambda d: {"INPUT": d.field(0, 1)}, check=within(0, 1))
case("rusle_c", "fvc-percent", lambda d: {"INPUT": d.field(0, 100)}, "INPUT")
case(
    "rusle_c",
    "ndvi-range",
    lambda d: {"INPUT": d.field(-0.2, 0.9), "METHOD": 1},
    check=within(0, 1),
)

case(
    "rusle_p",
    "unknown-code",
    lambda d: {"LANDCOVER": d.landcover([1, 2, 77])},
    ("TABLE", "LANDCOVER"),
)
case(
    "rusle_p",
    "empty-table",
    lambda d: {"LANDCOVER": d.landcover([1, 2]), "TABLE": d.text("code,p,label\n")},
    "TABLE",
)
case(
    "rusle_p",
    "malformed-table",
    lambda d: {"LANDCOVER": d.landcover([1, 2]), "TABLE": d.text("code,p\n1,abc\n")},
    "TABLE",
)
case(
    "rusle_p",
    "malformed-matrix",
    lambda d: {"LANDCOVER": d.landcover([1, 2]), "TABLE_MATRIX": [1, 0.5, 2]},
    "TABLE_MATRIX",
)
case(
    "rusle_p",
    "p-above-one",
    lambda d: {"LANDCOVER": d.landcover([1, 2]), "TABLE_MATRIX": [1, 2.5, 2, 1]},
    "TABLE_MATRIX",
)
case("rusle_p", "range", lambda d: {"LANDCOVER": d.landcover([1, 2, 3])}, check=within(0, 1))


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


case("rusle", "negative-r", lambda d: factors(d, R=d.field(-100, -1)), "R")
case("rusle", "far-k", lambda d: factors(d, K=d.field(0.01, 0.05, origin=FAR)), "K")
case("rusle", "breaks-unsorted", lambda d: factors(d, BREAKS="5000,2500"), "BREAKS")
case("rusle", "c-above-one", lambda d: factors(d, C=d.field(2, 3)), "C")
case(
    "rusle",
    "p-other-resolution",
    lambda d: (lambda r: factors(d, R=r, P=d.coarser(d.field())))(d.field(100, 900)),
    check=same_grid_as("R"),
)


# Workflows.
def page_written(results, data, parameters):
    assert Path(results["OUTPUT"]).stat().st_size > 0
    assert results["OMITTED"]


case(
    "html_report",
    "nothing",
    lambda d: {"OUTPUT": str(d.path(".html"))},
    ("INDEX", "CLASSES"),
    page_written,
)
case(
    "html_report",
    "years-count",
    lambda d: {
        "INDEX": indicators(d, 2),
        "YEARS": "2000,2010,2020",
        "OUTPUT": str(d.path(".html")),
    },
    "YEARS",
)
case(
    "html_report",
    "importance-malformed",
    lambda d: {
        "INDEX": indicators(d, 1),
        "YEARS": "2000",
        "IMPORTANCE": d.text("a;b\n1;2\n"),
        "OUTPUT": str(d.path(".html")),
    },
    "IMPORTANCE",
)
case(
    "html_report",
    "yearly-malformed",
    lambda d: {"YEARLY": d.text("a,b\n1,2\n"), "OUTPUT": str(d.path(".html"))},
    "YEARLY",
)
case(
    "html_report",
    "pairs-malformed",
    lambda d: {"NPP_PAIRS": d.text("x,y,value\n1,2,3\n"), "OUTPUT": str(d.path(".html"))},
    "NPP_PAIRS",
)
case(
    "html_report",
    "index-no-crs",
    lambda d: {"INDEX": [d.field(epsg=None)], "YEARS": "2000", "OUTPUT": str(d.path(".html"))},
    "INDEX",
    lambda results, data, parameters: Path(results["OUTPUT"]).exists(),
)

# ahp_hierarchy: a sectioned file of pairwise matrices.
HIERARCHY = "[criteria]\nA,B\n1,2\n0.5,1\n[A]\na1,a2\n1,3\n0.333333,1\n[B]\nb1\n1\n"
case(
    "ahp_hierarchy",
    "no-criteria-section",
    lambda d: {"HIERARCHY": d.text("[A]\n1\n")},
    "HIERARCHY",
)
case(
    "ahp_hierarchy",
    "section-missing",
    lambda d: {"HIERARCHY": d.text(HIERARCHY.split("[B]")[0])},
    "HIERARCHY",
)
case(
    "ahp_hierarchy",
    "not-reciprocal",
    lambda d: {"HIERARCHY": d.text(HIERARCHY.replace("0.333333,1", "3,1"))},
    "HIERARCHY",
)
case(
    "ahp_hierarchy",
    "by-hand",
    lambda d: {"HIERARCHY": d.text(HIERARCHY)},
    # Criteria [[1, 2], [1/2, 1]]: w = (√2, √½)/(√2 + √½) = 2/3, 1/3; A's [[1, 3], [1/3, 1]]:
    # 3/4, 1/4 → global 2/3·3/4 = 0.5, 2/3·1/4 = 1/6, and B 1/3.
    check=lambda results, data, parameters: np.testing.assert_allclose(
        [float(w) for w in results["WEIGHTS"].split(",")], [0.5, 1 / 6, 1 / 3], atol=1e-5
    ),
)

# temporal_composite: a dated series.
case(
    "temporal_composite",
    "no-dates",
    lambda d: {"INPUT": [d.field(), d.field(seed=1)]},
    "INPUT",
)
case(
    "temporal_composite",
    "dates-count",
    lambda d: {"INPUT": [d.field()], "DATES": "2013-01-01,2013-02-01"},
    "DATES",
)
case(
    "temporal_composite",
    "missing-months",
    lambda d: {"INPUT": [d.field()], "DATES": "2013-01-01"},
    "INPUT",
)
case(
    "temporal_composite",
    "all-nodata-months-allowed",
    lambda d: {"INPUT": [d.nodata()], "DATES": "2013-01-01", "ALLOW_EMPTY_MONTHS": True},
    check=lambda results, data, parameters: np.testing.assert_equal(
        np.isnan(output(results)[0]).all(), True
    ),
)

# npp_validation: reference points or a reference raster.
case("npp_validation", "no-reference", lambda d: {"INPUT": d.field(100, 900)}, "REFERENCE_POINTS")
case(
    "npp_validation",
    "points-without-field",
    lambda d: {"INPUT": d.field(100, 900), "REFERENCE_POINTS": d.points()},
    "REFERENCE_FIELD",
)
case(
    "npp_validation",
    "points-elsewhere",
    lambda d: {
        "INPUT": d.field(100, 900),
        "REFERENCE_POINTS": d.points(far=True),
        "REFERENCE_FIELD": "value",
    },
    "REFERENCE_POINTS",
)
case(
    "npp_validation",
    "all-nodata",
    lambda d: {"INPUT": d.nodata(), "REFERENCE_RASTER": d.field(100, 900)},
    "INPUT",
)
case(
    "npp_validation",
    "reference-no-crs",
    lambda d: {"INPUT": d.field(100, 900), "REFERENCE_RASTER": d.field(100, 900, epsg=None)},
    "REFERENCE_RASTER",
)
case(
    "npp_validation",
    "identical",
    lambda d: {"INPUT": d.field(100, 900, seed=4), "REFERENCE_RASTER": d.field(100, 900, seed=4)},
    check=lambda results, data, parameters: (
        np.testing.assert_allclose([results["BIAS"], results["RMSE"]], [0.0, 0.0], atol=1e-9),
        np.testing.assert_allclose(results["R"], 1.0, atol=1e-9),
    ),
)

# resilience_years: one layer per year in each slot.
case(
    "resilience_years",
    "one-year",
    lambda d: {"YEARS": "2000", "FVC": [d.field()], "LST": [d.field(290, 310)]},
    "YEARS",
)
case(
    "resilience_years",
    "layers-per-year",
    lambda d: {"YEARS": "2000,2010", "FVC": [d.field()], "LST": [d.field(), d.field()]},
    "FVC",
)
case(
    "resilience_years",
    "years-not-increasing",
    lambda d: {"YEARS": "2010,2000", "FVC": [d.field(), d.field()], "LST": [d.field()] * 2},
    "YEARS",
)
case(
    "resilience_years",
    "constant-indicator",
    lambda d: {
        "YEARS": "2000,2010",
        "FVC": [d.constant(0.4), d.constant(0.4)],
        "LST": [d.field(290, 310), d.field(290, 310, seed=3)],
    },
    "FVC",
)
case(
    "resilience_years",
    "given-ranges-count",
    lambda d: {
        "YEARS": "2000,2010",
        "FVC": [d.field(), d.field(seed=1)],
        "LST": [d.field(290, 310), d.field(290, 310, seed=3)],
        "RANGES": 2,
        "MINIMA": "0",
        "MAXIMA": "1",
    },
    "MINIMA",
)
case(
    "resilience_years",
    "index-range",
    lambda d: {
        "YEARS": "2000,2010",
        "FVC": [d.field(), d.field(seed=1)],
        "LST": [d.field(290, 310), d.field(290, 310, seed=3)],
    },
    check=lambda results, data, parameters: [
        within(0, 1)({"OUTPUT": path}, data, parameters)
        for path in results["LAYERS"]
        if "index_" in path
    ],
)

# estarfm_series: base pairs and a coarse series.
case(
    "estarfm_series",
    "one-pair",
    lambda d: {
        "FINE": [d.field()],
        "COARSE": [d.field()],
        "BASE_DATES": "2013-01-01",
        "SERIES": [d.field()],
        "SERIES_DATES": "2013-02-01",
        "VALID_MIN": -1,
        "VALID_MAX": 1,
    },
    "FINE",
)
case(
    "estarfm_series",
    "pairs-unmatched",
    lambda d: {
        "FINE": [d.field(), d.field(seed=1)],
        "COARSE": [d.field()],
        "BASE_DATES": "2013-01-01,2013-06-01",
        "SERIES": [d.field()],
        "SERIES_DATES": "2013-02-01",
    },
    "COARSE",
)
case(
    "estarfm_series",
    "series-without-dates",
    lambda d: {
        "FINE": [d.field(), d.field(seed=1)],
        "COARSE": [d.field(), d.field(seed=1)],
        "BASE_DATES": "2013-01-01,2013-06-01",
        "SERIES": [d.field()],
    },
    "SERIES",
)

# casa_npp_years: a dated NDVI series (or monthly NDVI) and CASA's climate.
def casa_series(d, months=range(1, 13), **changes):
    """CASA's inputs with NDVI as a dated series: one layer on the 15th of each month of 2013."""
    months = list(months)
    series = {
        "NDVI": [d.field(0.2, 0.8, seed=m) for m in months],
        "DATES": ",".join(f"2013-{m:02d}-15" for m in months),
    }
    return casa(d, **{**series, **changes})


case(
    "casa_npp_years",
    "month-missing",
    lambda d: casa_series(d, months=[m for m in range(1, 13) if m != 4]),
    "NDVI",
)
case("casa_npp_years", "dates-count", lambda d: casa_series(d, DATES="2013-01-15"), "DATES")
case("casa_npp_years", "year-absent", lambda d: casa_series(d, YEARS="2013,2014"), "YEARS")
case(
    "casa_npp_years",
    "climate-six-months",
    lambda d: casa_series(d, TEMPERATURE=[d.field(0, 20, bands=6)]),
    "TEMPERATURE",
)
case(
    "casa_npp_years",
    "monthly-years-count",
    lambda d: {**casa(d), "YEARS": "2012,2013"},
    "YEARS",
)
case(
    "casa_npp_years",
    "ndvi-x10000",
    lambda d: casa(d, NDVI=[d.field(0, 9000, bands=12)]),
    "NDVI",
)
case(
    "casa_npp_years",
    "one-year-mean",
    lambda d: casa_series(d),
    # One year: the per-pixel mean over the years is that year's NPP.
    check=lambda results, data, parameters: np.testing.assert_array_equal(
        output(results)[0], read_raster(results["LAYERS"][0])[0]
    ),
)

case(
    "npp_drivers",
    "missing-inputs",
    lambda d: {},
    ("NDVI", "CLIMATE_DRIVERS", "TEMPERATURE", "SOIL_POINTS"),
)
case("resilience_evaluation", "missing-inputs", lambda d: {}, ("MTL", "DEM", "LANDCOVER", "CLAY"))


# restoration_planner: a CLCD forest (2) with a 4 × 4 barren (7) square, FVC and LST constant
# per class, a weights table of the two (Table 2 codes), one site restoring the square.
PLANNER_TABLE = (
    "code,indicator,trend,minimum,maximum,combined\nC3,FVC,+,0.1,0.8,0.7\nC9,LST,-,24,36,0.3\n"
)


def planner_inputs(d, target=2, table=PLANNER_TABLE, **changes):
    cover = np.full((ROWS, COLS), 2.0)
    cover[4:8, 4:8] = 7
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    sites = d.path(".gpkg")
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(sites))
    layer = source.CreateLayer("sites", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("target", ogr.OFTInteger))
    x0, y0 = ORIGIN[0] + 4 * 30, ORIGIN[1] - 4 * 30
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("target", target)
    ring = f"POLYGON(({x0} {y0},{x0 + 120} {y0},{x0 + 120} {y0 - 120},{x0} {y0 - 120},{x0} {y0}))"
    feature.SetGeometry(ogr.CreateGeometryFromWkt(ring))
    layer.CreateFeature(feature)
    source = None
    return {
        "LANDCOVER": d.raster(cover),
        "FVC": d.raster(np.where(cover == 2, 0.8, 0.1)),
        "LST": d.raster(np.where(cover == 2, 24.0, 36.0)),
        "WEIGHTS_TABLE": d.text(table),
        "SITES": str(sites),
        "TARGET_FIELD": "target",
        "CLASSIFICATION": 1,
        "RADIUS": 200,
        **changes,
    }


def planner_gain_one(results, data, parameters):
    """The barren square restored to forest's values gains 1 per pixel (P goes 0 → 1)."""
    rows = table_rows(results)
    assert rows[0][0] == "1" and abs(rows[0][8] - 1.0) < 1e-5  # site_id, mean_gain


case("restoration_planner", "valid", planner_inputs, check=planner_gain_one)
case("restoration_planner", "absent-target-class", lambda d: planner_inputs(d, target=9), "RADIUS")
case(
    "restoration_planner",
    "no-table2-codes",
    lambda d: planner_inputs(d, table=PLANNER_TABLE.replace("C3,FVC", "X,NDVI")),
    "WEIGHTS_TABLE",
)
case("restoration_planner", "missing-lst", lambda d: planner_inputs(d, LST=None), "LST")
case("restoration_planner", "even-window", lambda d: planner_inputs(d, WINDOW=4), "WINDOW")
case(
    "restoration_planner",
    "geographic-landcover",
    lambda d: (lambda p: {**p, "LANDCOVER": d.reprojected(p["LANDCOVER"])})(planner_inputs(d)),
    "LANDCOVER",
)
case(
    "restoration_planner",
    "lst-coarser-grid",
    lambda d: (lambda p: {**p, "LST": d.coarser(p["LST"], 1)})(planner_inputs(d)),
    check=planner_gain_one,
)


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


@pytest.mark.parametrize("bad", CASES, ids=lambda c: c.id)
def test_bad_input(bad, provider, tmp_path):
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


def test_every_algorithm_has_bad_input_cases(provider, capsys):
    counts = Counter(c.algorithm for c in CASES)
    ids = sorted(a.name() for a in provider.algorithms())
    with capsys.disabled():
        print(f"\nbad-input cases: {len(CASES)} over {len(counts)} algorithms")
        for name in ids:
            print(f"  {name:28s} {counts.get(name, 0)}")
    missing = [name for name in ids if not counts.get(name)]
    assert not missing, f"algorithms without a bad-input case: {missing}"
    assert not set(counts) - set(ids), "cases for algorithms the provider does not have"

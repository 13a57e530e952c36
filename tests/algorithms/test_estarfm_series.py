"""estarfm_series: the pair chosen per date and the fused series, against single ESTARFM runs."""

import csv

import bad_input
import declared
import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster


def scene(tmp_path):
    """NDVI-like 12×12 images: fine pairs on 2013-01-10 and 2013-07-01, coarse the same
    images smoothed; the series adds a uniform change."""
    rng = np.random.default_rng(11)
    fine = {}
    coarse = {}
    base = rng.uniform(0.2, 0.6, (12, 12))
    for date, shift in (("2013-01-10", 0.0), ("2013-07-01", 0.2)):
        f = base + shift
        fine[date] = write_raster(tmp_path / f"landsat_{date}.tif", f)
        c = np.kron(f.reshape(4, 3, 4, 3).mean(axis=(1, 3)), np.ones((3, 3)))
        coarse[date] = write_raster(tmp_path / f"modis_{date}.tif", c)
    series = {}
    for date, shift in (("2013-03-15", 0.05), ("2013-05-01", 0.12), ("2013-09-01", 0.25)):
        c = np.kron((base + shift).reshape(4, 3, 4, 3).mean(axis=(1, 3)), np.ones((3, 3)))
        series[date] = write_raster(tmp_path / f"modis_{date}.tif", c)
    return fine, coarse, series


COMMON = {"WINDOW": 2, "CLASSES": 4, "VALID_MIN": -1, "VALID_MAX": 1}


def test_each_date_equals_a_single_estarfm_run_with_its_pairs(run, tmp_path):
    fine, coarse, series = scene(tmp_path)
    folder = tmp_path / "fused"
    result = run(
        "estarfm_series",
        {
            **COMMON,
            "FINE": list(fine.values()),
            "COARSE": list(coarse.values()),
            "SERIES": list(series.values()),
            "OUTPUT_FOLDER": str(folder),
            "OUTPUT_PAIRS": str(tmp_path / "pairs.csv"),
        },
    )
    assert [p.rsplit("/", 1)[1] for p in result["LAYERS"]] == [
        "fused_2013-03-15.tif",
        "fused_2013-05-01.tif",
        "fused_2013-09-01.tif",
    ]
    # 15 March lies between the two pairs: the same as one ESTARFM run on them.
    single = run(
        "estarfm",
        {
            **COMMON,
            "FINE1": fine["2013-01-10"],
            "COARSE1": coarse["2013-01-10"],
            "FINE2": fine["2013-07-01"],
            "COARSE2": coarse["2013-07-01"],
            "COARSE_PRED": series["2013-03-15"],
            "OUTPUT": str(tmp_path / "single.tif"),
        },
    )
    np.testing.assert_array_equal(
        read_raster(folder / "fused_2013-03-15.tif")[0], read_raster(single["OUTPUT"])[0]
    )
    with open(tmp_path / "pairs.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # 1 September is after the last pair: extrapolated from the two nearest (the only two).
    assert [(r["date"], r["inside"]) for r in rows] == [
        ("2013-03-15", "1"),
        ("2013-05-01", "1"),
        ("2013-09-01", "0"),
    ]
    assert rows[0]["base_date_1"] == "2013-01-10" and rows[0]["base_date_2"] == "2013-07-01"


def test_series_needs_matching_pairs(run, tmp_path):
    fine, coarse, series = scene(tmp_path)
    with pytest.raises(QgsProcessingException, match="COARSE: 1 layer"):
        run(
            "estarfm_series",
            {
                **COMMON,
                "FINE": list(fine.values()),
                "COARSE": list(coarse.values())[:1],
                "SERIES": list(series.values()),
                "OUTPUT_FOLDER": str(tmp_path / "x"),
            },
        )


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------


def estarfm_series(d):
    """Two base pairs and a two-date coarse series, as NDVI."""
    pairs = bad_input.estarfm(d)
    return {
        "FINE": [pairs["FINE1"], pairs["FINE2"]],
        "COARSE": [pairs["COARSE1"], pairs["COARSE2"]],
        "BASE_DATES": "2013-01-10,2013-07-01",
        "SERIES": [pairs["COARSE_PRED"], d.field(0.1, 0.5, bands=2, seed=9)],
        "SERIES_DATES": "2013-03-15,2013-05-01",
        **{k: v for k, v in pairs.items() if k in ("WINDOW", "CLASSES", "VALID_MIN", "VALID_MAX")},
    }


INPUTS = declared.Inputs()
INPUTS.valid("estarfm_series", lambda d: estarfm_series(d))
INPUTS.desktop("estarfm_series", lambda s: dict(s.dated_pairs))
# estarfm_series: base pairs and a coarse series.
INPUTS.case(
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
INPUTS.case(
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
INPUTS.case(
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

"""npp_validation through processing.run: agreement with reference points and rasters."""

import csv
import math

import declared
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from rasters import write_raster
from test_kriging_algorithm import write_points

ORIGIN = (500000.0, 5600000.0)


def at(row, col, dx=0.0, dy=0.0, pixel=30.0):
    """A point inside pixel (row, col) of a 30 m grid at ORIGIN (offset from its centre)."""
    return ORIGIN[0] + (col + 0.5) * pixel + dx, ORIGIN[1] - (row + 0.5) * pixel + dy


def rows_of(path):
    with open(path, encoding="utf-8") as handle:
        return {row["class"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def plots(tmp_path):
    npp = write_raster(tmp_path / "npp.tif", np.array([[100, 200, 300], [400, 500, 600]]))
    cover = write_raster(
        tmp_path / "lc.tif", np.array([[1, 1, 2], [2, 2, 255]]), nodata=255, dtype=gdal.GDT_Byte
    )
    points = write_points(
        tmp_path / "plots.gpkg",
        [
            at(0, 0, -5, 5),  # two plots in pixel (0, 0): one observation, mean 100
            at(0, 0, 5, -5),
            at(0, 1),
            at(0, 2),
            at(1, 1),
            at(1, 2),  # land cover NoData: only counted without LANDCOVER
            at(5, 5),  # outside the raster
            at(1, 0),  # no value
        ],
        [90, 110, 180, 330, 450, 700, 1, None],
        field="npp",
    )
    return npp, cover, points


def test_points_per_class_by_hand(run, tmp_path, plots):
    npp, cover, points = plots
    out = tmp_path / "agreement.csv"
    pairs = tmp_path / "pairs.csv"
    result = run(
        "npp_validation",
        {
            "INPUT": npp,
            "REFERENCE_POINTS": points,
            "REFERENCE_FIELD": "npp",
            "LANDCOVER": cover,
            "OUTPUT": str(out),
            "OUTPUT_PAIRS": str(pairs),
        },
    )
    # Pairs (simulated, reference, class): (100, 100, 1), (200, 180, 1), (300, 330, 2),
    # (500, 450, 2). Differences 0, 20, −30, 50: bias 10, RMSE √(3800/4) = 30.822070.
    # Deviations from the means 275 and 265: s −175, −75, 25, 225; r −165, −85, 65, 185;
    # Σ = 78500, Σs² = 87500, Σr² = 72900 → r = 78500/√(87500·72900) = 0.982883.
    assert result["N"] == 4
    assert result["BIAS"] == pytest.approx(10.0)
    assert result["RMSE"] == pytest.approx(math.sqrt(950.0))
    assert result["R"] == pytest.approx(78500 / math.sqrt(87500 * 72900))
    table = rows_of(out)
    assert list(table) == ["all", "1", "2"]
    # Class 1: differences 0, 20 → bias 10, RMSE √200; class 2: −30, 50 → bias 10, RMSE √1700.
    assert float(table["1"]["rmse"]) == pytest.approx(math.sqrt(200.0))
    assert float(table["2"]["rmse"]) == pytest.approx(math.sqrt(1700.0))
    assert float(table["2"]["mean_reference"]) == pytest.approx(390.0)
    assert float(table["all"]["relative_bias"]) == pytest.approx(10 / 265)
    with open(pairs, encoding="utf-8") as handle:
        written = sorted(
            (float(r["simulated"]), float(r["reference"])) for r in csv.DictReader(handle)
        )
    # The pixel of (600, 700) has no land cover: not a pair.
    assert written == [(100, 100), (200, 180), (300, 330), (500, 450)]


def test_points_without_land_cover_count_every_pixel(run, tmp_path, plots):
    npp, _, points = plots
    result = run(
        "npp_validation",
        {
            "INPUT": npp,
            "REFERENCE_POINTS": points,
            "REFERENCE_FIELD": "npp",
            "OUTPUT": str(tmp_path / "a.csv"),
        },
    )
    # Adds (600, 700): differences 0, 20, −30, 50, −100 → bias −60/5 = −12,
    # RMSE √(13800/5) = 52.535703.
    assert result["N"] == 5
    assert result["BIAS"] == pytest.approx(-12.0)
    assert result["RMSE"] == pytest.approx(math.sqrt(13800 / 5))


def test_reference_raster_on_its_coarser_grid(run, tmp_path):
    # Simulated 4×4 at 30 m: 0, 10, …, 150; reference 2×2 at 60 m on the same origin.
    # Averaged onto the reference grid: (0+10+40+50)/4 = 25, 45, 105, 125.
    npp = write_raster(tmp_path / "npp.tif", np.arange(16).reshape(4, 4) * 10.0)
    reference = write_raster(
        tmp_path / "mod17.tif", np.array([[20.0, 50.0], [100.0, 140.0]]), pixel=60.0
    )
    result = run(
        "npp_validation",
        {"INPUT": npp, "REFERENCE_RASTER": reference, "OUTPUT": str(tmp_path / "a.csv")},
    )
    # Differences 5, −5, 5, −15: bias −2.5, RMSE √(300/4) = 8.660254.
    assert result["N"] == 4
    assert result["BIAS"] == pytest.approx(-2.5)
    assert result["RMSE"] == pytest.approx(math.sqrt(75.0))
    # On the simulated grid instead: 16 pairs.
    fine = run(
        "npp_validation",
        {
            "INPUT": npp,
            "REFERENCE_RASTER": reference,
            "COMPARE_ON": 1,
            "OUTPUT": str(tmp_path / "b.csv"),
        },
    )
    assert fine["N"] == 16


def test_reference_is_needed_once(run, tmp_path, plots):
    npp, _, points = plots
    with pytest.raises(QgsProcessingException, match="REFERENCE_POINTS: give reference points"):
        run("npp_validation", {"INPUT": npp, "OUTPUT": str(tmp_path / "a.csv")})
    with pytest.raises(QgsProcessingException, match="REFERENCE_FIELD"):
        run(
            "npp_validation",
            {"INPUT": npp, "REFERENCE_POINTS": points, "OUTPUT": str(tmp_path / "a.csv")},
        )


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid(
    "npp_validation",
    lambda d: {"INPUT": d.field(100, 900), "REFERENCE_RASTER": d.field(100, 900, seed=5)},
)
INPUTS.desktop("npp_validation", lambda s: {"INPUT": s.target, "REFERENCE_RASTER": s.drivers[2]})
# npp_validation: reference points or a reference raster.
INPUTS.case(
    "npp_validation", "no-reference", lambda d: {"INPUT": d.field(100, 900)}, "REFERENCE_POINTS"
)
INPUTS.case(
    "npp_validation",
    "points-without-field",
    lambda d: {"INPUT": d.field(100, 900), "REFERENCE_POINTS": d.points()},
    "REFERENCE_FIELD",
)
INPUTS.case(
    "npp_validation",
    "points-elsewhere",
    lambda d: {
        "INPUT": d.field(100, 900),
        "REFERENCE_POINTS": d.points(far=True),
        "REFERENCE_FIELD": "value",
    },
    "REFERENCE_POINTS",
)
INPUTS.case(
    "npp_validation",
    "all-nodata",
    lambda d: {"INPUT": d.nodata(), "REFERENCE_RASTER": d.field(100, 900)},
    "INPUT",
)
INPUTS.case(
    "npp_validation",
    "reference-no-crs",
    lambda d: {"INPUT": d.field(100, 900), "REFERENCE_RASTER": d.field(100, 900, epsg=None)},
    "REFERENCE_RASTER",
)
INPUTS.case(
    "npp_validation",
    "identical",
    lambda d: {"INPUT": d.field(100, 900, seed=4), "REFERENCE_RASTER": d.field(100, 900, seed=4)},
    check=lambda results, data, parameters: (
        np.testing.assert_allclose([results["BIAS"], results["RMSE"]], [0.0, 0.0], atol=1e-9),
        np.testing.assert_allclose(results["R"], 1.0, atol=1e-9),
    ),
)

"""classify_index and change_analysis through processing.run."""

import csv
from pathlib import Path

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

from mine_eco_plugin.core.evaluation_classes import fisher_jenks, geographic_row_areas

# 30 m pixels: 900 m² = 0.0009 km² = 0.09 ha.
PIXEL_KM2 = 0.0009

# Boundary values of Table 3 and their neighbours; −1 is NoData.
INDEX = np.array(
    [
        [0.10, 0.3799, 0.38, 0.40, 0.4099],
        [0.41, 0.50, 0.6299, 0.63, 0.70],
        [0.7299, 0.73, 0.90, -1, -1],
    ],
    dtype=np.float32,
)


def read_table(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def index(tmp_path):
    return write_raster(tmp_path / "p.tif", INDEX, nodata=-1)


def test_table3_classes_areas_and_style(run, index, tmp_path):
    out, table = tmp_path / "classes.tif", tmp_path / "classes.csv"
    result = run("classify_index", {"INPUT": index, "OUTPUT": str(out), "OUTPUT_TABLE": str(table)})
    codes, dataset = read_raster(out)
    # Lower bound inclusive: 0.38 → poor, 0.41 → moderate, 0.63 → good, 0.73 → excellent.
    expected = [[1, 1, 2, 2, 2], [3, 3, 3, 4, 4], [4, 5, 5, np.nan, np.nan]]
    np.testing.assert_array_equal(codes[0], expected)
    band = dataset.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == 0
    assert band.GetCategoryNames()[1:6] == ["severe", "poor", "moderate", "good", "excellent"]
    assert band.GetColorTable().GetColorEntry(1)[:3] == (215, 25, 28)
    assert band.GetColorTable().GetColorEntry(5)[:3] == (26, 150, 65)
    assert 'label="excellent"' in Path(out).with_suffix(".qml").read_text(encoding="utf-8")
    rows = read_table(table)
    # Pixels per class: 2, 3, 3, 3, 2 of 13 valid; areas × 0.0009 km².
    assert [int(r["pixels"]) for r in rows] == [2, 3, 3, 3, 2, 13]
    assert float(rows[1]["area_km2"]) == pytest.approx(3 * PIXEL_KM2)
    assert float(rows[1]["area_ha"]) == pytest.approx(3 * 0.09)
    assert float(rows[0]["percent"]) == pytest.approx(100 * 2 / 13)
    # Class areas sum to the valid area, shares to 100 %.
    assert sum(float(r["area_km2"]) for r in rows[:5]) == pytest.approx(float(rows[5]["area_km2"]))
    assert sum(float(r["percent"]) for r in rows[:5]) == pytest.approx(100.0)
    assert result["VALID_AREA_KM2"] == pytest.approx(13 * PIXEL_KM2)
    # Means: severe (0.10 + 0.3799)/2 = 0.23995; overall mean of the 13 values.
    assert float(rows[0]["mean_index"]) == pytest.approx(0.23995, abs=1e-6)
    valid = INDEX[INDEX >= 0].astype(np.float64)
    assert result["MEAN"] == pytest.approx(valid.mean(), abs=1e-6)
    assert rows[0]["lower"] == "" and float(rows[0]["upper"]) == 0.38
    assert result["BREAKS"] == "0.38,0.41,0.63,0.73"


def test_custom_breaks_and_labels(run, index, tmp_path):
    out, table = tmp_path / "c.tif", tmp_path / "c.csv"
    run(
        "classify_index",
        {
            "INPUT": index,
            "BREAKS": "0.5",
            "LABELS": "low,high",
            "OUTPUT": str(out),
            "OUTPUT_TABLE": str(table),
        },
    )
    assert [r["label"] for r in read_table(table)] == ["low", "high", "total"]
    # 0.5 itself is "high" (lower bound inclusive): 0.10 … 0.41 low (6), the rest high (7).
    assert [int(r["pixels"]) for r in read_table(table)] == [6, 7, 13]
    with pytest.raises(QgsProcessingException, match="BREAKS: breaks must increase"):
        run("classify_index", {"INPUT": index, "BREAKS": "0.5,0.4", "OUTPUT": str(out)})
    with pytest.raises(QgsProcessingException, match="LABELS: 3 label"):
        run(
            "classify_index",
            {"INPUT": index, "BREAKS": "0.5", "LABELS": "a,b,c", "OUTPUT": str(out)},
        )


def test_quantile_and_equal_interval(run, tmp_path):
    values = np.arange(1, 101, dtype=np.float32).reshape(10, 10)
    raster = write_raster(tmp_path / "ramp.tif", values)
    result = run(
        "classify_index", {"INPUT": raster, "METHOD": 2, "OUTPUT": str(tmp_path / "q.tif")}
    )
    # numpy's linear rule on 1…100: the 20th percentile is at rank 0.2·99 = 19.8 → 20.8, …
    assert result["BREAKS"] == "20.8,40.6,60.4,80.2"
    table = tmp_path / "e.csv"
    result = run(
        "classify_index",
        {
            "INPUT": raster,
            "METHOD": 3,
            "CLASSES": 4,
            "LABELS": "",
            "OUTPUT": str(tmp_path / "e.tif"),
            "OUTPUT_TABLE": str(table),
        },
    )
    # 1 + c·99/4: 25.75, 50.5, 75.25 → 25 values per class.
    assert result["BREAKS"] == "25.75,50.5,75.25"
    rows = read_table(table)
    assert [int(r["pixels"]) for r in rows] == [25, 25, 25, 25, 100]
    assert rows[0]["label"] == "class 1"


def test_natural_breaks_reproducible_and_exact_on_small_rasters(run, tmp_path):
    rng = np.random.default_rng(4)
    values = np.concatenate(
        [rng.normal(0.2, 0.03, 300), rng.normal(0.5, 0.03, 300), rng.normal(0.8, 0.03, 300)]
    )
    raster = write_raster(tmp_path / "p.tif", values.reshape(30, 30).astype(np.float32))
    result = run(
        "classify_index",
        {
            "INPUT": raster,
            "METHOD": 1,
            "CLASSES": 3,
            "LABELS": "",
            "OUTPUT": str(tmp_path / "a.tif"),
        },
    )
    # All 900 pixels fit in the sample: the exact optimum on the data.
    expected, gvf = fisher_jenks(values.astype(np.float32), 3)
    assert [float(b) for b in result["BREAKS"].split(",")] == pytest.approx(expected)
    assert result["GVF"] == pytest.approx(gvf)
    # Three clusters 0.3 apart (10 σ): the classes are the clusters, each break the smallest
    # value of the cluster above it.
    codes = read_raster(tmp_path / "a.tif")[0][0].ravel()
    np.testing.assert_array_equal(codes, np.repeat([1, 2, 3], 300))
    low, high = (float(b) for b in result["BREAKS"].split(","))
    assert low == pytest.approx(float(np.float32(values[300:600].min())))
    assert high == pytest.approx(float(np.float32(values[600:].min())))
    sampled = {
        "INPUT": raster,
        "METHOD": 1,
        "CLASSES": 3,
        "LABELS": "",
        "SAMPLE_SIZE": 100,
        "SEED": 9,
    }
    first = run("classify_index", {**sampled, "OUTPUT": str(tmp_path / "b.tif")})
    again = run("classify_index", {**sampled, "OUTPUT": str(tmp_path / "c.tif")})
    assert first["BREAKS"] == again["BREAKS"]
    other = run("classify_index", {**sampled, "SEED": 10, "OUTPUT": str(tmp_path / "d.tif")})
    assert other["BREAKS"] != first["BREAKS"]


def test_geographic_grid_uses_ellipsoidal_areas(run, tmp_path):
    # 0.01° pixels, rows from 30°N southwards: areas by the ellipsoid formula of core (checked
    # against the WGS 84 total surface in tests/core/test_evaluation_classes.py).
    values = np.full((3, 2), 0.5, dtype=np.float32)
    raster = write_raster(tmp_path / "geo.tif", values, epsg=4326, origin=(110.0, 30.0), pixel=0.01)
    result = run("classify_index", {"INPUT": raster, "OUTPUT": str(tmp_path / "g.tif")})
    expected = geographic_row_areas(30.0, 0.01, 0.01, 3).sum() * 2 / 1e6
    assert result["VALID_AREA_KM2"] == pytest.approx(expected, rel=1e-12)
    # About 1.11 km × 0.96 km per pixel at 30°N.
    assert result["VALID_AREA_KM2"] == pytest.approx(6 * 1.109 * 0.9649, rel=0.01)


# --- change_analysis --------------------------------------------------------------------------


def test_index_difference_by_hand(run, tmp_path):
    before = write_raster(
        tmp_path / "b.tif", np.array([[0.5, 0.6], [0.7, -1]], dtype=np.float32), nodata=-1
    )
    after = write_raster(
        tmp_path / "a.tif", np.array([[0.55, 0.6], [0.5, 0.4]], dtype=np.float32), nodata=-1
    )
    out, classes, table = tmp_path / "d.tif", tmp_path / "dc.tif", tmp_path / "d.csv"
    result = run(
        "change_analysis",
        {
            "BEFORE": before,
            "AFTER": after,
            "THRESHOLD": 0.01,
            "OUTPUT": str(out),
            "OUTPUT_CLASSES": str(classes),
            "OUTPUT_TABLE": str(table),
        },
    )
    # ΔP = 0.05, 0, −0.2, NoData; classes increase, stable, decrease.
    np.testing.assert_allclose(read_raster(out)[0][0], [[0.05, 0], [-0.2, np.nan]], atol=1e-6)
    np.testing.assert_array_equal(read_raster(classes)[0][0], [[3, 2], [1, np.nan]])
    # Means over the 3 pixels valid in both: before 0.6, after 0.55; growth −8.3333 %.
    assert result["MEAN_BEFORE"] == pytest.approx(0.6, abs=1e-6)
    assert result["MEAN_AFTER"] == pytest.approx(0.55, abs=1e-6)
    assert result["GROWTH_RATE"] == pytest.approx(-8.3333, abs=1e-3)
    assert result["IMPROVED_PERCENT"] == pytest.approx(100 / 3)
    rows = read_table(table)
    assert [int(r["pixels"]) for r in rows] == [1, 1, 1, 3]
    assert float(rows[0]["mean_change"]) == pytest.approx(-0.2, abs=1e-6)


def test_transition_matrix_balances_with_each_years_classes(run, tmp_path):
    rng = np.random.default_rng(8)
    first = rng.random((20, 30)).astype(np.float32)
    second = np.clip(first + rng.normal(0, 0.1, first.shape), 0, 1).astype(np.float32)
    first[0, :5] = -1  # NoData in the first year only
    second[5, :3] = -1  # and in the second only
    p1 = write_raster(tmp_path / "p1.tif", first, nodata=-1)
    p2 = write_raster(tmp_path / "p2.tif", second, nodata=-1)
    for name, raster in (("c1", p1), ("c2", p2)):
        run(
            "classify_index",
            {
                "INPUT": raster,
                "OUTPUT": str(tmp_path / f"{name}.tif"),
                "OUTPUT_TABLE": str(tmp_path / f"{name}.csv"),
            },
        )
    matrix, pairs, out = tmp_path / "m.csv", tmp_path / "t.csv", tmp_path / "t.tif"
    result = run(
        "change_analysis",
        {
            "BEFORE": str(tmp_path / "c1.tif"),
            "AFTER": str(tmp_path / "c2.tif"),
            "MODE": 1,
            "OUTPUT": str(out),
            "OUTPUT_TABLE": str(matrix),
            "OUTPUT_TRANSITIONS": str(pairs),
        },
    )
    year1 = {int(r["class"]): float(r["area_km2"]) for r in read_table(tmp_path / "c1.csv")[:5]}
    year2 = {int(r["class"]): float(r["area_km2"]) for r in read_table(tmp_path / "c2.csv")[:5]}
    rows = read_table(matrix)
    by_class = {r["from_class"]: r for r in rows}
    # Labels come from the class rasters' category names.
    assert {"severe", "poor", "moderate", "good", "excellent", "NoData", "total"} <= set(by_class)
    for code, label in enumerate(("severe", "poor", "moderate", "good", "excellent"), start=1):
        # Row totals are the first year's class areas; column totals the second year's.
        assert float(by_class[label]["total_km2"]) == pytest.approx(year1[code])
        assert float(by_class["total"][f"to_{code}_km2"]) == pytest.approx(year2[code])
    # NoData row: the 5 pixels missing in year 1 (valid in year 2); column: 3 pixels.
    assert float(by_class["NoData"]["total_km2"]) == pytest.approx(5 * PIXEL_KM2)
    assert float(by_class["total"]["to_nodata_km2"]) == pytest.approx(3 * PIXEL_KM2)
    assert float(by_class["total"]["total_km2"]) == pytest.approx(600 * PIXEL_KM2)
    # Transition codes before·10 + after, pixel by pixel.
    c1 = read_raster(tmp_path / "c1.tif")[0][0]
    c2 = read_raster(tmp_path / "c2.tif")[0][0]
    codes, dataset = read_raster(out)
    np.testing.assert_array_equal(codes[0], c1 * 10 + c2)
    assert dataset.GetRasterBand(1).GetNoDataValue() == 65535
    assert "severe → severe" in Path(out).with_suffix(".qml").read_text(encoding="utf-8")
    # Improved + unchanged + degraded = 100 % of the area valid in both; the long table agrees.
    total = result["IMPROVED_PERCENT"] + result["UNCHANGED_PERCENT"] + result["DEGRADED_PERCENT"]
    assert total == pytest.approx(100.0)
    both = (c1 > 0) & (c2 > 0)
    assert result["IMPROVED_PERCENT"] == pytest.approx(
        100 * np.sum(c2[both] > c1[both]) / both.sum()
    )
    long_rows = read_table(pairs)
    assert sum(int(r["pixels"]) for r in long_rows) == 600
    assert sum(float(r["percent_total"]) for r in long_rows) == pytest.approx(100.0)


def test_transitions_reject_continuous_rasters(run, tmp_path):
    raster = write_raster(tmp_path / "p.tif", np.array([[0.5, 0.7]], dtype=np.float32))
    with pytest.raises(QgsProcessingException, match="BEFORE: value 0.5 is not a class code"):
        run(
            "change_analysis",
            {"BEFORE": raster, "AFTER": raster, "MODE": 1, "OUTPUT": str(tmp_path / "t.tif")},
        )


def test_transition_codes_of_land_cover_style_codes(run, tmp_path):
    # Two-digit codes → factor 100: 11 → 42 is 1142, 42 → 11 is 4211 (uint16, styled).
    before = write_raster(tmp_path / "b.tif", np.array([[11, 42, 42]], dtype=np.float32))
    after = write_raster(tmp_path / "a.tif", np.array([[42, 11, 42]], dtype=np.float32))
    out = tmp_path / "t.tif"
    run("change_analysis", {"BEFORE": before, "AFTER": after, "MODE": 1, "OUTPUT": str(out)})
    codes, dataset = read_raster(out)
    np.testing.assert_array_equal(codes[0], [[1142, 4211, 4242]])
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_UInt16
    assert dataset.GetMetadataItem("FACTOR") == "100"
    # Three-digit codes up to 700 → factor 1000: 700 → 700 is 700700 (uint32, unstyled).
    big = write_raster(tmp_path / "big.tif", np.array([[700, 5]], dtype=np.float32))
    out = tmp_path / "u.tif"
    run("change_analysis", {"BEFORE": big, "AFTER": big, "MODE": 1, "OUTPUT": str(out)})
    codes, dataset = read_raster(out)
    np.testing.assert_array_equal(codes[0], [[700700, 5005]])
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_UInt32


def test_transition_codes_up_to_the_limit_agree_with_the_table(run, tmp_path):
    """Five-digit class codes up to 42,949: factor 10⁵, uint32; the raster's codes equal the
    table's 'transition' column (before·100000 + after)."""
    before = write_raster(tmp_path / "b.tif", np.array([[42949, 1, 30000]], dtype=np.float32))
    after = write_raster(tmp_path / "a.tif", np.array([[1, 42949, 30000]], dtype=np.float32))
    out, pairs = tmp_path / "t.tif", tmp_path / "pairs.csv"
    run(
        "change_analysis",
        {
            "BEFORE": before,
            "AFTER": after,
            "MODE": 1,
            "OUTPUT": str(out),
            "OUTPUT_TRANSITIONS": str(pairs),
        },
    )
    codes, dataset = read_raster(out)
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_UInt32
    # 42949·100000 + 1; 1·100000 + 42949; 30000·100000 + 30000.
    expected = [4_294_900_001, 142_949, 3_000_030_000]
    assert codes[0][0].astype(np.int64).tolist() == expected
    table = {int(r["transition"]) for r in read_table(pairs)}
    assert table == set(expected)


def test_transition_codes_that_would_overflow_are_refused(run, tmp_path):
    """A class code of 70,000 would give 70000·10⁵ + code, beyond uint32: an error naming the
    raster, and no output (before, the raster wrapped around while the table did not)."""
    before = write_raster(tmp_path / "b.tif", np.array([[1, 2, 3]], dtype=np.float32))
    after = write_raster(tmp_path / "a.tif", np.array([[1, 70000, 3]], dtype=np.float32))
    out = tmp_path / "t.tif"
    with pytest.raises(QgsProcessingException, match=r"AFTER: class code 70,000 .* 42,949"):
        run("change_analysis", {"BEFORE": before, "AFTER": after, "MODE": 1, "OUTPUT": str(out)})
    assert not out.exists()


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("change_analysis", lambda d: {"BEFORE": d.field(), "AFTER": d.field(seed=3)})
INPUTS.desktop("change_analysis", lambda s: {"BEFORE": s.index, "AFTER": s.index_b})
INPUTS.valid("classify_index", lambda d: {"INPUT": d.field()})
INPUTS.desktop("classify_index", lambda s: {"INPUT": s.index})
INPUTS.case(
    "classify_index",
    "breaks-unsorted",
    lambda d: {"INPUT": d.field(), "BREAKS": "0.5,0.4"},
    "BREAKS",
)
INPUTS.case(
    "classify_index",
    "breaks-text",
    lambda d: {"INPUT": d.field(), "BREAKS": "0.2,low"},
    "BREAKS",
)
INPUTS.case(
    "classify_index",
    "labels-count",
    lambda d: {"INPUT": d.field(), "BREAKS": "0.5", "LABELS": "a,b,c"},
    "LABELS",
)
INPUTS.case(
    "classify_index", "band-missing", lambda d: {"INPUT": d.field(), "BAND": 4}, ("BAND", "INPUT")
)


INPUTS.case(
    "classify_index",
    "constant-quantiles",
    lambda d: {"INPUT": d.constant(0.5), "METHOD": 2, "LABELS": ""},
    "INPUT",
    bad_input.one_class,
)
INPUTS.case(
    "classify_index",
    "all-nodata-quantiles",
    lambda d: {"INPUT": d.nodata(), "METHOD": 2, "LABELS": ""},
    "INPUT",
)
INPUTS.case("classify_index", "no-crs", lambda d: {"INPUT": d.field(epsg=None)}, "INPUT")


INPUTS.case(
    "classify_index", "valid-codes", lambda d: {"INPUT": d.field()}, check=bad_input.classes_only
)

INPUTS.case(
    "change_analysis",
    "far-after",
    lambda d: {"BEFORE": d.field(), "AFTER": d.field(origin=bad_input.FAR)},
    "AFTER",
)
INPUTS.case(
    "change_analysis",
    "no-crs-before",
    lambda d: {"BEFORE": d.field(epsg=None), "AFTER": d.field()},
    "BEFORE",
)
INPUTS.case(
    "change_analysis",
    "after-other-crs",
    lambda d: (lambda b: {"BEFORE": b, "AFTER": d.reprojected(b)})(d.field()),
    check=bad_input.same_grid_as("BEFORE"),
)
INPUTS.case(
    "change_analysis",
    "all-nodata-after",
    lambda d: {"BEFORE": d.field(), "AFTER": d.nodata()},
    "AFTER",
    bad_input.all_nodata(),
)
INPUTS.case(
    "change_analysis",
    "negative-threshold",
    lambda d: {"BEFORE": d.field(), "AFTER": d.field(seed=3), "THRESHOLD": -1},
    "THRESHOLD",
)

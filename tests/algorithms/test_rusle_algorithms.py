"""The RUSLE chain through processing.run: factors by hand, alignment, errors, classes."""

import math

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsVectorLayer
from rasters import leftovers, read_raster, write_raster


def test_rusle_r_twelve_layers_equal_one_twelve_band_raster(run, tmp_path):
    rain = np.stack([np.full((2, 3), 100.0)] * 12)
    rain[:, 1, 2] = -9999
    stack = write_raster(tmp_path / "rain.tif", rain, nodata=-9999)
    layers = [write_raster(tmp_path / f"m{i}.tif", rain[i], nodata=-9999) for i in range(12)]
    one = run("rusle_r", {"PRECIPITATION": [stack], "OUTPUT": str(tmp_path / "r1.tif")})
    many = run("rusle_r", {"PRECIPITATION": layers, "OUTPUT": str(tmp_path / "r12.tif")})
    r1, r12 = read_raster(one["OUTPUT"])[0], read_raster(many["OUTPUT"])[0]
    # 100 mm monthly, Wischmeier & Smith: 76.01 US units × 17.02 = 1293.7 SI.
    expected = 17.02 * 12 * 1.735 * 10 ** (1.5 * math.log10(100**2 / 1200) - 0.8188)
    assert r1[0, 0, 0] == pytest.approx(expected, rel=1e-5)
    np.testing.assert_array_equal(r1, r12)
    assert np.isnan(r1[0, 1, 2])
    us = run(
        "rusle_r",
        {"PRECIPITATION": [stack], "UNIT": 1, "METHOD": 1, "OUTPUT": str(tmp_path / "rus.tif")},
    )
    # Renard & Freimund, F = 100: 4257.67 SI = 250.16 US.
    assert read_raster(us["OUTPUT"])[0][0, 0, 0] == pytest.approx(4257.67 / 17.02, rel=1e-5)


def test_rusle_r_needs_twelve_months(run, tmp_path):
    eleven = write_raster(tmp_path / "rain.tif", np.ones((11, 2, 2)))
    with pytest.raises(QgsProcessingException, match="PRECIPITATION: 12 monthly"):
        run("rusle_r", {"PRECIPITATION": [eleven], "OUTPUT": str(tmp_path / "r.tif")})


def test_rusle_k_and_fraction_check(run, tmp_path):
    sand = write_raster(tmp_path / "sand.tif", np.array([[40.0, 20.0]]))
    silt = write_raster(tmp_path / "silt.tif", np.array([[40.0, 60.0]]))
    clay = write_raster(tmp_path / "clay.tif", np.array([[20.0, 20.0]]))
    carbon = write_raster(tmp_path / "oc.tif", np.array([[1.5, 1.5]]))
    params = {"SAND": sand, "SILT": silt, "CLAY": clay, "ORGANIC_CARBON": carbon}
    result = run("rusle_k", {**params, "OUTPUT": str(tmp_path / "k.tif")})
    k = read_raster(result["OUTPUT"])[0][0, 0]
    # 40/40/20 %, 1.5 % C: K_EPIC = 0.26043 US → 0.034299 SI (tests/core/test_rusle.py).
    assert k[0] == pytest.approx(0.034299, abs=1e-5)
    fractions = write_raster(tmp_path / "sand_fraction.tif", np.array([[0.4, 0.2]]))
    with pytest.raises(QgsProcessingException, match="SAND, SILT, CLAY: 2 pixel"):
        run(
            "rusle_k",
            {**params, "SAND": fractions, "OUTPUT": str(tmp_path / "bad.tif")},
        )
    assert not (tmp_path / "bad.tif").exists()
    assert leftovers(tmp_path) == []


def plane_dem(path, rows=30, cols=20, epsg=32632):
    # Falls 3 m per 30 m row toward the north edge: tan θ = 0.1 (5.71°).
    z = np.repeat((np.arange(rows, dtype=np.float32) * 3.0)[:, None], cols, axis=1)
    return write_raster(path, z, epsg=epsg, nodata=-9999)


def test_rusle_ls_on_a_plane(run, tmp_path):
    dem = plane_dem(tmp_path / "dem.tif")
    out = {n: str(tmp_path / f"{n}.tif") for n in ("ls", "slope", "acc")}
    result = run(
        "rusle_ls",
        {
            "DEM": dem,
            "OUTPUT": out["ls"],
            "OUTPUT_SLOPE": out["slope"],
            "OUTPUT_ACCUMULATION": out["acc"],
        },
    )
    acc = read_raster(out["acc"])[0][0]
    slope = read_raster(out["slope"])[0][0]
    ls = read_raster(out["ls"])[0][0]
    # Accumulation grows linearly down-slope: row r (from the north) gathers 30 − r cells.
    np.testing.assert_array_equal(acc[:, 5], 30 - np.arange(30))
    theta = math.degrees(math.atan(0.1))
    assert slope[10, 5] == pytest.approx(theta, abs=1e-4)
    # Row 10: λ = 20 cells · 30 m = 600 m; m = 0.5 (10 %); S (5.71° ≥ 5°) = 16.8·sin θ − 0.5.
    expected = math.sqrt(600 / 22.13) * (16.8 * math.sin(math.radians(theta)) - 0.5)
    assert ls[10, 5] == pytest.approx(expected, rel=1e-4)
    assert result["DEPRESSION_CELLS"] == 0
    tags = gdal.Open(out["ls"]).GetMetadata()
    assert tags["S_METHOD"] == "china" and tags["DEPRESSIONS"] == "breach"


def test_rusle_ls_refuses_a_geographic_dem(run, tmp_path):
    dem = write_raster(tmp_path / "dem.tif", np.ones((5, 5)), epsg=4326, pixel=0.001)
    with pytest.raises(QgsProcessingException, match="DEM: is in a geographic CRS.*[Rr]eproject"):
        run("rusle_ls", {"DEM": dem, "OUTPUT": str(tmp_path / "ls.tif")})


def test_rusle_ls_cancel_leaves_nothing(run, tmp_path, cancel_after):
    dem = plane_dem(tmp_path / "dem.tif")
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(
            "rusle_ls",
            {"DEM": dem, "OUTPUT": str(tmp_path / "ls.tif")},
            feedback=cancel_after(1),
        )
    assert not (tmp_path / "ls.tif").exists()
    assert leftovers(tmp_path) == []


def test_rusle_c_methods(run, tmp_path):
    fvc = write_raster(tmp_path / "fvc.tif", np.array([[0.0, 0.5, 0.9]]))
    cai = run("rusle_c", {"INPUT": fvc, "OUTPUT": str(tmp_path / "c.tif")})
    c = read_raster(cai["OUTPUT"])[0][0, 0]
    assert c.tolist() == pytest.approx([1.0, 0.6508 - 0.3436 * math.log10(50), 0.0], abs=1e-6)
    knijff = run("rusle_c", {"INPUT": fvc, "METHOD": 1, "OUTPUT": str(tmp_path / "c2.tif")})
    assert read_raster(knijff["OUTPUT"])[0][0, 0, 1] == pytest.approx(math.exp(-2), abs=1e-6)


def test_rusle_p_table_and_unknown_codes(run, tmp_path):
    cover = write_raster(
        tmp_path / "lc.tif", np.array([[1, 2, 4], [6, 255, 1]]), nodata=255, dtype=gdal.GDT_Byte
    )
    default = run("rusle_p", {"LANDCOVER": cover, "OUTPUT": str(tmp_path / "p.tif")})
    p = read_raster(default["OUTPUT"])[0][0]
    assert p[0].tolist() == pytest.approx([0.35, 1.0, 0.0]) and p[1, 0] == 1.0 and np.isnan(p[1, 1])
    typed = run(
        "rusle_p",
        {
            "LANDCOVER": cover,
            "TABLE_MATRIX": [1, 0.5, 2, 1, 4, 0, 6, 1],
            "OUTPUT": str(tmp_path / "p2.tif"),
        },
    )
    assert read_raster(typed["OUTPUT"])[0][0, 0, 0] == 0.5
    with pytest.raises(QgsProcessingException, match=r"TABLE: land-cover code\(s\) 4, 6 are not"):
        run(
            "rusle_p",
            {
                "LANDCOVER": cover,
                "TABLE_MATRIX": [1, 0.5, 2, 1],
                "OUTPUT": str(tmp_path / "p3.tif"),
            },
        )


def test_rusle_p_mine_land_is_unprotected_in_both_shipped_tables(run, tmp_path):
    # CNLUCC 53 (other built-up land: industry, mining, transport) and 65 (bare land) are mine
    # land in a mining area: P = 1 (no support practice); 51 urban land and 42 lakes: P = 0.
    cnlucc = write_raster(
        tmp_path / "cnlucc.tif", np.array([[53, 65, 51, 42]]), nodata=255, dtype=gdal.GDT_Byte
    )
    p = read_raster(
        run("rusle_p", {"LANDCOVER": cnlucc, "OUTPUT": str(tmp_path / "p.tif")})["OUTPUT"]
    )[0][0, 0]
    assert p.tolist() == [1.0, 1.0, 0.0, 0.0]
    # CLCD (classes 1–9): cropland 0.35; forest, shrub, grassland, barren 1; water, snow/ice,
    # impervious, wetland 0 (rusle_p_clcd.csv).
    clcd = write_raster(
        tmp_path / "clcd.tif", np.arange(1, 10).reshape(1, 9), nodata=255, dtype=gdal.GDT_Byte
    )
    p = read_raster(
        run(
            "rusle_p",
            {"LANDCOVER": clcd, "CLASSIFICATION": 1, "OUTPUT": str(tmp_path / "p_clcd.tif")},
        )["OUTPUT"]
    )[0][0, 0]
    assert p.tolist() == pytest.approx([0.35, 1, 1, 1, 0, 0, 1, 0, 0])
    # CLCD codes with the CNLUCC table: codes 7–9 are unknown, and the error says why.
    with pytest.raises(QgsProcessingException, match=r"7, 8, 9 are not.*look like CLCD"):
        run("rusle_p", {"LANDCOVER": clcd, "OUTPUT": str(tmp_path / "p_wrong.tif")})
    assert not (tmp_path / "p_wrong.tif").exists()


def test_rusle_soil_loss_classes_and_table(run, tmp_path):
    # R = 5000, K = 0.02, C = 0.5, P = 1 → A = 50·LS t/ha: LS chosen for one pixel per class.
    ls_values = np.array([[0.05, 0.2, 0.6, 1.2], [2.0, 4.0, 0.0, -9999]])
    ls = write_raster(tmp_path / "ls.tif", ls_values, nodata=-9999)
    const = {
        name: write_raster(tmp_path / f"{name}.tif", np.full((2, 4), value))
        for name, value in (("R", 5000.0), ("K", 0.02), ("C", 0.5), ("P", 1.0))
    }
    table = str(tmp_path / "classes.gpkg")
    result = run(
        "rusle",
        {
            **const,
            "LS": ls,
            "OUTPUT": str(tmp_path / "a.tif"),
            "OUTPUT_CLASSES": str(tmp_path / "classes.tif"),
            "OUTPUT_TABLE": table,
        },
    )
    a = read_raster(result["OUTPUT"])[0][0]
    # A = 50·LS t/ha/yr → ×100 t/km²/a: 250 slight, 1000 light, 3000 moderate, 6000 intense,
    # 10000 very intense, 20000 severe, 0 slight, NoData.
    np.testing.assert_allclose(a[0], [2.5, 10, 30, 60], rtol=1e-6)
    classes = gdal.Open(result["OUTPUT_CLASSES"]).ReadAsArray()
    assert classes.tolist() == [[1, 2, 3, 4], [5, 6, 1, 0]]
    dataset = gdal.Open(result["OUTPUT_CLASSES"])
    band = dataset.GetRasterBand(1)
    assert band.GetNoDataValue() == 0 and band.GetColorTable() is not None
    assert (tmp_path / "classes.qml").exists()
    layer = QgsVectorLayer(result["OUTPUT_TABLE"], "t", "ogr")
    rows = {f["class"]: f for f in layer.getFeatures()}
    assert rows[1]["pixels"] == 2 and rows[6]["pixels"] == 1
    # 30 m pixels: 0.0009 km² each; 7 valid pixels.
    assert rows[1]["area_km2"] == pytest.approx(0.0018)
    assert rows[1]["percent"] == pytest.approx(200 / 7)
    assert rows[6]["mean_t_km2_a"] == pytest.approx(20000, rel=1e-6)
    assert result["MEAN"] == pytest.approx((2.5 + 10 + 30 + 60 + 100 + 200) / 7, rel=1e-6)


def test_rusle_tolerance_region_and_breaks(run, tmp_path):
    const = {
        name: write_raster(tmp_path / f"{name}.tif", np.full((1, 2), value))
        for name, value in (("R", 1.0), ("K", 1.0), ("C", 1.0), ("P", 1.0))
    }
    ls = write_raster(tmp_path / "ls.tif", np.array([[7.0, 30.0]]))  # 700 and 3000 t/km²/a
    result = run(
        "rusle",
        {
            **const,
            "LS": ls,
            "REGION": 1,  # northwest loess plateau: tolerance 1000
            "BREAKS": "2000,4000,8000,15000",
            "OUTPUT": str(tmp_path / "a.tif"),
            "OUTPUT_CLASSES": str(tmp_path / "c.tif"),
            "OUTPUT_TABLE": str(tmp_path / "t.csv"),
        },
    )
    assert gdal.Open(result["OUTPUT_CLASSES"]).ReadAsArray().tolist() == [[1, 3]]
    with pytest.raises(QgsProcessingException, match="BREAKS: must increase|increase"):
        run(
            "rusle",
            {
                **const,
                "LS": ls,
                "BREAKS": "5000,2500",
                "OUTPUT": str(tmp_path / "b.tif"),
                "OUTPUT_CLASSES": str(tmp_path / "d.tif"),
                "OUTPUT_TABLE": str(tmp_path / "u.csv"),
            },
        )


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("rusle", lambda d: bad_input.factors(d))
INPUTS.desktop("rusle", lambda s: dict(s.factors))
INPUTS.valid("rusle_c", lambda d: {"INPUT": d.field(0, 1)})
INPUTS.desktop("rusle_c", lambda s: {"INPUT": s.index})
INPUTS.valid("rusle_k", lambda d: bad_input.soil(d))
INPUTS.desktop("rusle_k", lambda s: dict(s.soil))
INPUTS.valid("rusle_ls", lambda d: {"DEM": d.field(0, 50)})
INPUTS.desktop("rusle_ls", lambda s: {"DEM": s.dem})
INPUTS.valid("rusle_p", lambda d: {"LANDCOVER": d.landcover([1, 2, 3])})
INPUTS.desktop("rusle_p", lambda s: {"LANDCOVER": s.landcover})
INPUTS.valid("rusle_r", lambda d: {"PRECIPITATION": [d.field(10, 90, bands=12)]})
INPUTS.desktop("rusle_r", lambda s: {"PRECIPITATION": [s.monthly["precipitation"]]})
# Soil erosion.
INPUTS.case(
    "rusle_r",
    "negative-rain",
    lambda d: {"PRECIPITATION": [d.field(-50, 10, bands=12)]},
    "PRECIPITATION",
)
INPUTS.case(
    "rusle_r",
    "eleven-months",
    lambda d: {"PRECIPITATION": [d.field(10, 90, bands=11)]},
    "PRECIPITATION",
)
INPUTS.case(
    "rusle_r",
    "no-crs",
    lambda d: {"PRECIPITATION": [d.field(10, 90, bands=12, epsg=None)]},
    "PRECIPITATION",
)
INPUTS.case(
    "rusle_r",
    "all-nodata",
    lambda d: {"PRECIPITATION": [d.nodata(bands=12)]},
    "PRECIPITATION",
    bad_input.all_nodata(),
)
INPUTS.case(
    "rusle_r",
    "positive",
    lambda d: {"PRECIPITATION": [d.field(10, 90, bands=12)]},
    check=bad_input.within(0, 1e6),
)


INPUTS.case(
    "rusle_k",
    "fractions",
    lambda d: bad_input.soil(d, SAND=d.constant(0.4)),
    ("SAND", "SILT", "CLAY"),
)
INPUTS.case(
    "rusle_k",
    "negative-carbon",
    lambda d: bad_input.soil(d, ORGANIC_CARBON=d.constant(-1.0)),
    "ORGANIC_CARBON",
)
INPUTS.case(
    "rusle_k",
    "far-clay",
    lambda d: bad_input.soil(d, CLAY=d.constant(20.0, origin=bad_input.FAR)),
    "CLAY",
)
INPUTS.case(
    "rusle_k",
    "clay-other-crs",
    lambda d: bad_input.soil(d, CLAY=d.reprojected(d.constant(20.0))),
    check=bad_input.same_grid_as("SAND"),
)
INPUTS.case("rusle_k", "range", lambda d: bad_input.soil(d), check=bad_input.within(0, 0.1))

INPUTS.case(
    "rusle_ls",
    "geographic",
    lambda d: {"DEM": d.field(0, 50, epsg=4326, pixel=0.001, origin=(9, 50))},
    "DEM",
)
INPUTS.case("rusle_ls", "no-crs", lambda d: {"DEM": d.field(0, 50, epsg=None)}, "DEM")
INPUTS.case("rusle_ls", "all-nodata", lambda d: {"DEM": d.nodata()}, "DEM", bad_input.all_nodata())
# Flat: S = 10.8·sin 0 + 0.03 and L = (λ/22.13)^0.2 over the accumulated length.
INPUTS.case(
    "rusle_ls", "flat", lambda d: {"DEM": d.constant(100.0)}, "DEM", bad_input.within(0.03, 0.06)
)

INPUTS.case("rusle_c", "ndvi-x10000", lambda d: {"INPUT": d.field(-1000, 9000)}, "INPUT")
INPUTS.case(
    "rusle_c", "all-nodata", lambda d: {"INPUT": d.nodata()}, "INPUT", bad_input.all_nodata()
)
INPUTS.case("rusle_c", "no-crs", lambda d: {"INPUT": d.field(epsg=None)}, "INPUT")
INPUTS.case("rusle_c", "range", lambda d: {"INPUT": d.field(0, 1)}, check=bad_input.within(0, 1))
INPUTS.case("rusle_c", "fvc-percent", lambda d: {"INPUT": d.field(0, 100)}, "INPUT")
INPUTS.case(
    "rusle_c",
    "ndvi-range",
    lambda d: {"INPUT": d.field(-0.2, 0.9), "METHOD": 1},
    check=bad_input.within(0, 1),
)

INPUTS.case(
    "rusle_p",
    "unknown-code",
    lambda d: {"LANDCOVER": d.landcover([1, 2, 77])},
    ("TABLE", "LANDCOVER"),
)
INPUTS.case(
    "rusle_p",
    "empty-table",
    lambda d: {"LANDCOVER": d.landcover([1, 2]), "TABLE": d.text("code,p,label\n")},
    "TABLE",
)
INPUTS.case(
    "rusle_p",
    "malformed-table",
    lambda d: {"LANDCOVER": d.landcover([1, 2]), "TABLE": d.text("code,p\n1,abc\n")},
    "TABLE",
)
INPUTS.case(
    "rusle_p",
    "malformed-matrix",
    lambda d: {"LANDCOVER": d.landcover([1, 2]), "TABLE_MATRIX": [1, 0.5, 2]},
    "TABLE_MATRIX",
)
INPUTS.case(
    "rusle_p",
    "p-above-one",
    lambda d: {"LANDCOVER": d.landcover([1, 2]), "TABLE_MATRIX": [1, 2.5, 2, 1]},
    "TABLE_MATRIX",
)
INPUTS.case(
    "rusle_p",
    "range",
    lambda d: {"LANDCOVER": d.landcover([1, 2, 3])},
    check=bad_input.within(0, 1),
)


INPUTS.case("rusle", "negative-r", lambda d: bad_input.factors(d, R=d.field(-100, -1)), "R")
INPUTS.case(
    "rusle",
    "far-k",
    lambda d: bad_input.factors(d, K=d.field(0.01, 0.05, origin=bad_input.FAR)),
    "K",
)
INPUTS.case(
    "rusle", "breaks-unsorted", lambda d: bad_input.factors(d, BREAKS="5000,2500"), "BREAKS"
)
INPUTS.case("rusle", "c-above-one", lambda d: bad_input.factors(d, C=d.field(2, 3)), "C")
INPUTS.case(
    "rusle",
    "p-other-resolution",
    lambda d: (lambda r: bad_input.factors(d, R=r, P=d.coarser(d.field())))(d.field(100, 900)),
    check=bad_input.same_grid_as("R"),
)

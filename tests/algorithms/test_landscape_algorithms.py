"""Landscape algorithms through processing.run: windows across blocks, zones, tables, errors, and
whole-landscape values against pylandstats on the NC land-cover map."""

import math

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from qgis.core import QgsProcessingException, QgsVectorLayer
from rasters import leftovers, read_raster, write_raster
from scipy import ndimage
from synthetic_inputs import box_wkt, write_layer

from mine_eco_plugin.core import landscape

NAN = np.nan
ORIGIN = (500000.0, 5600000.0)  # rasters.write_raster's default, 30 m pixels, EPSG:32632


def polygons(path, squares, epsg=32632):
    """A GeoPackage of square polygons (x0, y0, x1, y1) with a text field "name"."""
    features = [({"name": name}, box_wkt(*box)) for name, box in squares.items()]
    return write_layer(path, "zones", ogr.wkbPolygon, {"name": ogr.OFTString}, features, epsg)


def table_rows(destination):
    layer = QgsVectorLayer(destination, "table", "ogr")
    assert layer.isValid()
    return {f["zone_id"]: {n: f[n] for n in layer.fields().names()} for f in layer.getFeatures()}


@pytest.fixture
def random_cover(tmp_path):
    """A 600 × 300 patchy map of 5 classes with NoData holes (-1)."""
    rng = np.random.default_rng(5)
    smooth = ndimage.gaussian_filter(rng.standard_normal((5, 600, 300)), (0, 3, 3))
    cover = np.argmax(smooth, axis=0).astype(np.float32) + 1
    cover[rng.random(cover.shape) < 0.02] = -1
    cover[:40, :30] = -1
    path = write_raster(tmp_path / "cover.tif", cover, nodata=-1)
    values = cover.astype(float)
    values[values == -1] = NAN
    return path, values


def test_window_metrics_across_blocks_equal_the_kernel_on_the_whole_map(
    run, random_cover, tmp_path, monkeypatch
):
    # 1 MB per block: strips of 256 rows, so the 600-row map takes 3 blocks with a 5-pixel halo.
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")
    path, values = random_cover
    outputs = {
        name: str(tmp_path / f"{name}.tif")
        for name in ("OUTPUT_SHDI", "OUTPUT_FN", "OUTPUT_NP", "OUTPUT_PD", "OUTPUT_SHEI")
    }
    run("landscape_metrics", {"INPUT": path, "WINDOW": 11, **outputs})
    expected = landscape.window_metrics(values, [1, 2, 3, 4, 5], 11, pixel_area_m2=900.0)
    for name, field in (
        ("OUTPUT_SHDI", "shdi"),
        ("OUTPUT_FN", "fn"),
        ("OUTPUT_NP", "n_patches"),
        ("OUTPUT_PD", "patch_density"),
        ("OUTPUT_SHEI", "shei"),
    ):
        written = read_raster(outputs[name])[0][0]
        np.testing.assert_allclose(written, getattr(expected, field), rtol=1e-6, err_msg=name)
    dataset = gdal.Open(outputs["OUTPUT_FN"])
    assert dataset.GetMetadataItem("WINDOW") == "11"
    assert dataset.GetMetadataItem("CONNECTIVITY") == "8"
    assert dataset.GetMetadataItem("FN_FORM") == "eq13"


def test_window_metrics_by_hand(run, tmp_path):
    # Checkerboard of 1s and 2s (5 and 4 pixels) with one NoData pixel in a corner row.
    board = np.array([[1, 2, 1, 0], [2, 1, 2, 0], [1, 2, 1, 0]], dtype=np.float32)
    path = write_raster(tmp_path / "board.tif", board, nodata=0)
    out = {n: str(tmp_path / f"{n}.tif") for n in ("OUTPUT_SHDI", "OUTPUT_FN", "OUTPUT_NP")}
    run("landscape_metrics", {"INPUT": path, "WINDOW": 3, **out})
    # Centre (1, 1): SHDI = −(5/9 ln 5/9 + 4/9 ln 4/9) = 0.686962; NP (8-neighbour) = 2;
    # FN = (2 − 1)/2 = 0.5.
    assert read_raster(out["OUTPUT_SHDI"])[0][0, 1, 1] == pytest.approx(0.686962, abs=1e-6)
    assert read_raster(out["OUTPUT_NP"])[0][0, 1, 1] == 2
    assert read_raster(out["OUTPUT_FN"])[0][0, 1, 1] == pytest.approx(0.5)
    assert np.isnan(read_raster(out["OUTPUT_SHDI"])[0][0, 1, 3])  # NoData stays NoData
    four = str(tmp_path / "np4.tif")
    run(
        "landscape_metrics",
        {
            "INPUT": path,
            "WINDOW": 3,
            "CONNECTIVITY": 1,
            "OUTPUT_SHDI": str(tmp_path / "s4.tif"),
            "OUTPUT_FN": str(tmp_path / "f4.tif"),
            "OUTPUT_NP": four,
        },
    )
    assert read_raster(four)[0][0, 1, 1] == 9  # 4-neighbour rule: nine single pixels


def test_zones_table_and_rasters(run, tmp_path):
    # 4 × 6 map, 30 m pixels. Zone "west" = columns 0–2, zone "east" = columns 3–5.
    cover = np.array(
        [
            [1, 1, 2, 3, 3, 3],
            [1, 2, 2, 3, 1, 3],
            [1, 1, 2, 3, 3, 3],
            [2, 1, 1, 0, 3, 3],
        ],
        dtype=np.float32,
    )
    path = write_raster(tmp_path / "cover.tif", cover, nodata=0)
    x0, y0 = ORIGIN
    zones = polygons(
        tmp_path / "zones.gpkg",
        {
            "west": (x0, y0 - 120, x0 + 90, y0),
            "east": (x0 + 90, y0 - 120, x0 + 180, y0),
        },
    )
    names = ("OUTPUT_SHDI", "OUTPUT_FN", "OUTPUT_NP", "OUTPUT_LPI")
    out = {n: str(tmp_path / f"{n}.tif") for n in names}
    results = run(
        "landscape_metrics",
        {
            "INPUT": path,
            "ZONES": zones,
            "ZONE_FIELD": "name",
            "OUTPUT_TABLE": str(tmp_path / "zones_table.gpkg"),
            **out,
        },
    )
    rows = table_rows(results["OUTPUT_TABLE"])
    west, east = rows["west"], rows["east"]
    # West: 1s at (0,0),(0,1),(1,0),(2,0),(2,1),(3,1),(3,2) = 7 pixels, one patch; 2s at
    # (0,2),(1,1),(1,2),(2,2) (one patch) and (3,0), whose neighbours are all 1s: NP = 3.
    assert west["pixels"] == 12 and west["np"] == 3
    # SHDI = −(7/12 ln 7/12 + 5/12 ln 5/12) = 0.314415 + 0.364779 = 0.679193
    assert west["shdi"] == pytest.approx(-(7 / 12 * math.log(7 / 12) + 5 / 12 * math.log(5 / 12)))
    # LPI = 7/12 · 100 = 58.333 %; area 12 · 900 m² = 10 800 m²
    assert west["lpi"] == pytest.approx(700 / 12)
    assert west["area_m2"] == pytest.approx(10800.0)
    # East: 3s = 10 pixels (one patch around the single 1 at (1,4)), one NoData pixel at (3,3):
    # NP = 2, largest patch 10 of 11 valid pixels.
    assert east["pixels"] == 11 and east["np"] == 2
    assert east["lpi"] == pytest.approx(1000 / 11)
    assert east["fn"] == pytest.approx(0.5)  # (2 − 1)/2
    assert east["pct_3"] == pytest.approx(1000 / 11)
    shdi = read_raster(out["OUTPUT_SHDI"])[0][0]
    assert shdi[0, 0] == pytest.approx(west["shdi"]) and shdi[2, 5] == pytest.approx(east["shdi"])
    assert np.isnan(shdi[3, 3])  # NoData land cover
    assert read_raster(out["OUTPUT_NP"])[0][0, 0, 4] == 2
    assert read_raster(out["OUTPUT_LPI"])[0][0, 0, 0] == pytest.approx(700 / 12)


CNLUCC = np.array(
    [
        [51, 52, 12],
        [21, 53, 11],
        [31, 43, 0],
    ],
    dtype=np.float32,
)


@pytest.mark.parametrize(
    "algorithm, expected",
    [
        # HAI (Xu et al. 2015): 51, 52, 53 → 1; 12, 11 → 0.2; 21 → 0; 31 → 0.067; 43 → 0.067.
        # 8 valid pixels: (1 + 1 + 0.2 + 0 + 1 + 0.2 + 0.067 + 0.067)/8 = 3.534/8 = 0.44175
        ("human_activity_index", 0.44175),
        # BAI (HJ/T 192-2006): 51 0.012, 52 0.016, 12 0.044, 21 0.21, 53 0.012, 11 0.066,
        # 31 0.126, 43 0.084; Σ = 0.57; × 511.2642131067 / 8 = 36.4276
        ("biological_abundance", 0.57 * 511.2642131067 / 8),
        # ECO example: 0.2 + 0.2 + 0.6 + 0.9 + 0.2 + 0.6 + 0.7 + 0.8 = 4.2; / 8 = 0.525
        ("ecological_elasticity", 0.525),
    ],
)
def test_weighted_shares_with_the_default_tables(run, tmp_path, algorithm, expected):
    path = write_raster(tmp_path / "cnlucc.tif", CNLUCC, nodata=0)
    out = tmp_path / f"{algorithm}.tif"
    run(algorithm, {"INPUT": path, "WINDOW": 3, "OUTPUT": str(out)})
    values, dataset = read_raster(out)
    assert values[0, 1, 1] == pytest.approx(expected, rel=1e-6)
    assert np.isnan(values[0, 2, 2])
    urban = {"human_activity_index": "51:1;", "biological_abundance": "51:0.012;"}
    assert urban.get(algorithm, "51:0.2;") in dataset.GetMetadataItem("TABLE")


# CLCD classes 1–9 (the resilience study's land cover) in a 3×3 block: every class once.
CLCD = np.arange(1, 10, dtype=np.float32).reshape(3, 3)


@pytest.mark.parametrize(
    "algorithm, expected",
    [
        # HAI on CLCD (landscape_hai_clcd.csv, Xu et al. 2015 by first-level class): cropland
        # 0.2 + grassland 0.067 + impervious 1 = 1.267 over 9 pixels.
        ("human_activity_index", 1.267 / 9),
        # BAI on CLCD, Eq. 12's first-level weights: cropland 0.11, forest 0.35, shrub 0.35,
        # grassland 0.21, water 0.28, snow/ice 0.28, barren 0.01, impervious 0.04, wetland
        # 0.28; Σ = 1.91; × A_bio 511.2642131067 / 9.
        ("biological_abundance", 1.91 * 511.2642131067 / 9),
        # ECO on CLCD: 0.6 + 0.9 + 0.9 + 0.7 + 0.8 + 0.8 + 0.1 + 0.2 + 0.8 = 5.8 over 9.
        ("ecological_elasticity", 5.8 / 9),
    ],
)
def test_weighted_shares_with_the_clcd_tables(run, tmp_path, algorithm, expected):
    path = write_raster(tmp_path / "clcd.tif", CLCD, nodata=0)
    out = tmp_path / f"{algorithm}.tif"
    run(algorithm, {"INPUT": path, "WINDOW": 3, "CLASSIFICATION": 1, "OUTPUT": str(out)})
    values, _ = read_raster(out)
    assert values[0, 1, 1] == pytest.approx(expected, rel=1e-6)
    # The same CLCD raster with the CNLUCC tables (the default): a clear error naming the fix.
    with pytest.raises(QgsProcessingException, match=r"look like CLCD"):
        run(algorithm, {"INPUT": path, "WINDOW": 3, "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


def test_weighted_share_per_zone_and_typed_table(run, tmp_path):
    path = write_raster(tmp_path / "cnlucc.tif", CNLUCC, nodata=0)
    x0, y0 = ORIGIN
    zones = polygons(tmp_path / "z.gpkg", {"top": (x0, y0 - 60, x0 + 90, y0)})
    results = run(
        "human_activity_index",
        {
            "INPUT": path,
            # Typed table: every code weighs 0 except 51 (1) and 12 (0.5).
            "TABLE_MATRIX": [51, 1, 52, 0, 12, 0.5, 21, 0, 53, 0, 11, 0, 31, 0, 43, 0],
            "ZONES": zones,
            "OUTPUT": str(tmp_path / "hai.tif"),
            "OUTPUT_TABLE": str(tmp_path / "hai_table.gpkg"),
        },
    )
    # Zone "top" (fid 1) holds rows 0–1: 51, 52, 12, 21, 53, 11 → (1 + 0.5)/6 = 0.25
    row = next(iter(table_rows(results["OUTPUT_TABLE"]).values()))
    assert row["hai"] == pytest.approx(0.25) and row["pixels"] == 6
    hai = read_raster(results["OUTPUT"])[0][0]
    assert hai[0, 0] == pytest.approx(0.25) and np.isnan(hai[2, 0])  # row 2: outside the zone


def test_zones_in_another_crs_are_reprojected(run, tmp_path):
    # The zone "top" of the previous test drawn in WGS 84 longitude/latitude.
    path = write_raster(tmp_path / "cnlucc.tif", CNLUCC, nodata=0)
    utm, wgs84 = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(32632)
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs84 = osr.CoordinateTransformation(utm, wgs84)
    x0, y0 = ORIGIN
    west, south, _ = to_wgs84.TransformPoint(x0, y0 - 60)
    east, north, _ = to_wgs84.TransformPoint(x0 + 90, y0)
    zones = polygons(tmp_path / "z84.gpkg", {"top": (west, south, east, north)}, epsg=4326)
    results = run(
        "human_activity_index",
        {
            "INPUT": path,
            "ZONES": zones,
            "ZONE_FIELD": "name",
            "OUTPUT": str(tmp_path / "hai84.tif"),
            "OUTPUT_TABLE": str(tmp_path / "hai84.gpkg"),
        },
    )
    # Rows 0–1 with the default table: (1 + 1 + 0.2 + 0 + 1 + 0.2)/6 = 3.4/6 = 0.566667
    row = table_rows(results["OUTPUT_TABLE"])["top"]
    assert row["pixels"] == 6 and row["hai"] == pytest.approx(3.4 / 6)


def test_unknown_codes_are_an_error_listing_them(run, tmp_path):
    cover = CNLUCC.copy()
    cover[0, 0], cover[2, 1] = 99, 7
    path = write_raster(tmp_path / "odd.tif", cover, nodata=0)
    with pytest.raises(QgsProcessingException, match=r"INPUT: land-cover code\(s\) 7, 99"):
        run("human_activity_index", {"INPUT": path, "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({"WINDOW": 4}, "WINDOW"),
        ({"OUTPUT_LPI": "lpi.tif"}, "OUTPUT_LPI"),
        ({"MIN_PATCH": 0}, "MIN_PATCH"),
    ],
)
def test_landscape_metrics_bad_input(run, tmp_path, parameters, message):
    path = write_raster(tmp_path / "c.tif", CNLUCC, nodata=0)
    parameters = {
        k: str(tmp_path / v) if k.startswith("OUTPUT") else v for k, v in parameters.items()
    }
    with pytest.raises(QgsProcessingException, match=message):
        run(
            "landscape_metrics",
            {
                "INPUT": path,
                "OUTPUT_SHDI": str(tmp_path / "s.tif"),
                "OUTPUT_FN": str(tmp_path / "f.tif"),
                **parameters,
            },
        )


def test_bad_table_names_the_parameter(run, tmp_path):
    path = write_raster(tmp_path / "c.tif", CNLUCC, nodata=0)
    with pytest.raises(QgsProcessingException, match="TABLE_MATRIX: row 2: class code 51"):
        run(
            "ecological_elasticity",
            {"INPUT": path, "TABLE_MATRIX": [51, 1, 51, 2], "OUTPUT": str(tmp_path / "e.tif")},
        )


def test_cancelled_run_leaves_nothing(run, random_cover, tmp_path, cancel_after, monkeypatch):
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")
    path, _ = random_cover
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(
            "landscape_metrics",
            {
                "INPUT": path,
                "WINDOW": 5,
                "OUTPUT_SHDI": str(out / "s.tif"),
                "OUTPUT_FN": str(out / "f.tif"),
            },
            feedback=cancel_after(2),
        )
    assert list(out.iterdir()) == [] and leftovers(out) == []


def test_help_states_formula_and_sources(provider):
    for algorithm_id, words in (
        ("landscape_metrics", ("SHDI = −Σ", "FN (Eq. 13", "Chen, L. & Fu", "FRAGSTATS")),
        ("human_activity_index", ("Xu", "Acta Geographica Sinica", "NoData")),
        ("biological_abundance", ("HJ/T 192-2006", "511.2642131067")),
        ("ecological_elasticity", ("example", "no authoritative", "NoData")),
    ):
        text = provider.algorithm(algorithm_id).shortHelpString()
        for word in words:
            assert word.lower() in text.lower(), (algorithm_id, word)


# --- whole landscape against pylandstats (NC-LC) -------------------------------------------


@pytest.mark.parametrize("connectivity", [8, 4])
def test_whole_landscape_equals_pylandstats_on_nc_lc(run, sample_data, tmp_path, connectivity):
    pls = pytest.importorskip("pylandstats", reason="pylandstats (PyPI) is the peer")
    strata = sample_data("nc-lc") / "strata.tif"
    cover = gdal.Open(str(strata)).ReadAsArray()
    rows, cols = cover.shape  # 443 × 489, 28.5 m
    cover_u8 = np.where(cover < 0, 0, cover).astype(np.uint8)
    peer = pls.Landscape(cover_u8, res=(28.5, 28.5), nodata=0, neighborhood_rule=str(connectivity))
    proportions = np.array([peer.proportion_of_landscape(class_val=c) for c in peer.classes])
    shdi_peer = -(proportions / 100 * np.log(proportions / 100)).sum()
    # Window mode: a 977-pixel window centred anywhere covers the whole map.
    names = ("OUTPUT_SHDI", "OUTPUT_FN", "OUTPUT_NP", "OUTPUT_PD")
    out = {n: str(tmp_path / f"w{n}.tif") for n in names}
    run(
        "landscape_metrics",
        {
            "INPUT": str(strata),
            "WINDOW": 2 * max(rows, cols) + 1,
            "CONNECTIVITY": 0 if connectivity == 8 else 1,
            **out,
        },
    )
    centre = (rows // 2, cols // 2)
    assert read_raster(out["OUTPUT_NP"])[0][0][centre] == peer.number_of_patches()
    assert read_raster(out["OUTPUT_PD"])[0][0][centre] == pytest.approx(
        peer.patch_density(), rel=1e-5
    )
    assert read_raster(out["OUTPUT_SHDI"])[0][0][centre] == pytest.approx(shdi_peer, rel=1e-6)
    # Zone mode: one polygon over the whole map.
    x0, dx, _, y0, _, dy = gdal.Open(str(strata)).GetGeoTransform()
    zones = polygons(
        tmp_path / "all.gpkg", {"all": (x0, y0 + dy * rows, x0 + dx * cols, y0)}, epsg=3358
    )
    results = run(
        "landscape_metrics",
        {
            "INPUT": str(strata),
            "ZONES": zones,
            "ZONE_FIELD": "name",
            "CONNECTIVITY": 0 if connectivity == 8 else 1,
            "OUTPUT_SHDI": str(tmp_path / "zs.tif"),
            "OUTPUT_FN": str(tmp_path / "zf.tif"),
            "OUTPUT_TABLE": str(tmp_path / "all_table.gpkg"),
        },
    )
    row = table_rows(results["OUTPUT_TABLE"])["all"]
    assert row["np"] == peer.number_of_patches()
    assert row["lpi"] == pytest.approx(peer.largest_patch_index(), rel=1e-9)
    assert row["pd"] == pytest.approx(peer.patch_density(), rel=1e-9)
    assert row["shdi"] == pytest.approx(shdi_peer, rel=1e-9)
    # pylandstats 3.1's own shannon_diversity_index takes its proportions from adjacency counts,
    # not areas (FRAGSTATS): it differs from the area definition in the 5th decimal here.
    assert row["shdi"] == pytest.approx(peer.shannon_diversity_index(), abs=1e-4)


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------


def zones(d):
    """Two polygons (west and east halves of the standard grid) with a field "zone"."""
    x0, y0 = bad_input.ORIGIN
    half = bad_input.COLS * 15
    bottom = y0 - bad_input.ROWS * 30
    features = [
        ({"zone": number}, box_wkt(left, y0, left + half, bottom))
        for number, left in ((1, x0), (2, x0 + half))
    ]
    return write_layer(d.path(".gpkg"), "zones", ogr.wkbPolygon, {"zone": ogr.OFTInteger}, features)


INPUTS = declared.Inputs()
INPUTS.valid("biological_abundance", lambda d: {"INPUT": d.landcover([11, 12, 21]), "WINDOW": 3})
INPUTS.desktop("biological_abundance", lambda s: {"INPUT": s.landcover})
INPUTS.valid("ecological_elasticity", lambda d: {"INPUT": d.landcover([11, 12, 21]), "WINDOW": 3})
INPUTS.desktop("ecological_elasticity", lambda s: {"INPUT": s.landcover})
INPUTS.valid("human_activity_index", lambda d: {"INPUT": d.landcover([11, 12, 21]), "WINDOW": 3})
INPUTS.desktop("human_activity_index", lambda s: {"INPUT": s.landcover})
INPUTS.valid(
    "landscape_metrics",
    lambda d: {"INPUT": d.landcover([1, 2, 3]), "ZONES": zones(d), "ZONE_FIELD": "zone"},
)
INPUTS.desktop("landscape_metrics", lambda s: {"INPUT": s.landcover})
for alg, codes in bad_input.LANDSCAPE_TABLES.items():
    INPUTS.case(
        alg, "even-window", lambda d, c=codes: {"INPUT": d.landcover(c), "WINDOW": 4}, "WINDOW"
    )
    INPUTS.case(
        alg, "zero-window", lambda d, c=codes: {"INPUT": d.landcover(c), "WINDOW": 0}, "WINDOW"
    )
    INPUTS.case(alg, "no-crs", lambda d, c=codes: {"INPUT": d.landcover(c, epsg=None)}, "INPUT")
    INPUTS.case(
        alg,
        "unknown-code",
        lambda d, c=codes: {"INPUT": d.landcover([*c, 999]), "WINDOW": 3},
        ("TABLE", "INPUT"),
    )
    INPUTS.case(
        alg,
        "empty-table",
        lambda d, c=codes: {"INPUT": d.landcover(c), "TABLE": d.text("code,weight\n")},
        "TABLE",
    )
    INPUTS.case(
        alg,
        "malformed-table",
        lambda d, c=codes: {"INPUT": d.landcover(c), "TABLE": d.text("code;weight\n11;x\n")},
        "TABLE",
    )
    INPUTS.case(
        alg,
        "malformed-matrix",
        lambda d, c=codes: {"INPUT": d.landcover(c), "TABLE_MATRIX": ["11", "abc"]},
        "TABLE_MATRIX",
    )
    INPUTS.case(
        alg,
        "all-nodata",
        lambda d, c=codes: {"INPUT": d.nodata(), "WINDOW": 3},
        "INPUT",
        bad_input.all_nodata(),
    )
INPUTS.case(
    "landscape_metrics",
    "even-window",
    lambda d: {"INPUT": d.landcover([1, 2, 3]), "WINDOW": 6, **bad_input.LANDSCAPE_OUT},
    "WINDOW",
)
INPUTS.case(
    "landscape_metrics",
    "zero-window",
    lambda d: {"INPUT": d.landcover([1, 2, 3]), "WINDOW": 0, **bad_input.LANDSCAPE_OUT},
    "WINDOW",
)
INPUTS.case(
    "landscape_metrics",
    "no-crs",
    lambda d: {"INPUT": d.landcover([1, 2], epsg=None), **bad_input.LANDSCAPE_OUT},
    "INPUT",
)
INPUTS.case(
    "landscape_metrics",
    "all-nodata",
    lambda d: {"INPUT": d.nodata(), "WINDOW": 3, **bad_input.LANDSCAPE_OUT},
    "INPUT",
    bad_input.all_nodata("OUTPUT_SHDI"),
)
INPUTS.case(
    "landscape_metrics",
    "one-class",
    lambda d: {"INPUT": d.constant(3), "WINDOW": 3, **bad_input.LANDSCAPE_OUT},
    check=bad_input.equals(0.0, "OUTPUT_SHDI"),
)
INPUTS.case(
    "landscape_metrics",
    "shdi-bounded",
    lambda d: {"INPUT": d.landcover([1, 2, 3]), "WINDOW": 5, **bad_input.LANDSCAPE_OUT},
    check=bad_input.within(0, np.log(3), "OUTPUT_SHDI"),
)

"""restoration_planner through processing.run on a synthetic scene built so that the ranking is
known: a barren site inside forest restored to forest, a barren site of the same size inside
grassland restored to grassland, and a forest site 'restored' to forest (no change)."""

from pathlib import Path

import bad_input
import declared
import numpy as np
import pytest
import synthetic_inputs
from feedback import Recorder
from osgeo import gdal, ogr
from qgis.core import NULL, QgsProcessingException, QgsVectorLayer
from rasters import leftovers, read_raster, write_raster

ORIGIN = (500000.0, 5600000.0)  # rasters.write_raster's default, 30 m pixels, EPSG:32632
PIXEL = 30.0
ROWS, COLS = 30, 48
FOREST, GRASS, BARREN = 2, 4, 7  # CLCD classes
# Sites as (row0, col0, row1, col1), ends exclusive: 4 × 4 pixels = 16 × 0.09 ha = 1.44 ha each.
SITES = {
    "A": ((12, 8, 16, 12), FOREST, 20000.0),  # barren inside forest → forest
    "B": ((12, 34, 16, 38), GRASS, 2000.0),  # barren inside grassland → grassland
    "C": ((2, 2, 6, 6), FOREST, 1000.0),  # forest → forest: nothing changes
}
WINDOW = 5
RADIUS = 310.0
# The 8 indicators of the baseline index (Table 2 slots).
SLOTS = ("EROSION", "FVC", "HAI", "LST", "BAI", "ECO", "SHDI", "FN")
R_FACTOR, K_FACTOR = 4000.0, 0.02
P_CLCD = {2: 1.0, 4: 1.0, 7: 1.0}  # rusle_p_clcd.csv: forest, grassland, barren


def cover_cai(fvc):
    """C of Cai et al. (2000), as core.rusle.cover_cai (f in %)."""
    percent = 100.0 * fvc
    with np.errstate(divide="ignore"):
        middle = 0.6508 - 0.3436 * np.log10(percent)
    return np.clip(np.where(percent <= 0, 1.0, np.where(percent > 78.3, 0.0, middle)), 0, 1)


def square(row0, col0, row1, col1):
    x0, y0 = ORIGIN
    return (x0 + col0 * PIXEL, y0 - row1 * PIXEL, x0 + col1 * PIXEL, y0 - row0 * PIXEL)


def write_sites(path, sites):
    fields = {"site": ogr.OFTString, "target": ogr.OFTInteger, "cost": ogr.OFTReal}
    features = [
        ({"site": name, "target": target, "cost": cost}, synthetic_inputs.box_wkt(*square(*box)))
        for name, (box, target, cost) in sites.items()
    ]
    return synthetic_inputs.write_layer(path, "sites", ogr.wkbPolygon, fields, features)


def near_median(values, cover, box, target, radius):
    """Median of ``values`` over pixels of ``target`` whose centres lie within ``radius`` of the
    square ``box`` (distance from each centre to the square), and their count."""
    r0, c0, r1, c1 = box
    rows, cols = np.mgrid[0:ROWS, 0:COLS]
    dy = np.maximum.reduce([(r0 - rows - 0.5) * PIXEL, 0 * rows, (rows + 0.5 - r1) * PIXEL])
    dx = np.maximum.reduce([(c0 - cols - 0.5) * PIXEL, 0 * cols, (cols + 0.5 - c1) * PIXEL])
    distance = np.hypot(dx, dy)
    assert not np.any(np.abs(distance - radius) < 1.0)  # no centre on the circle's edge
    near = (distance <= radius) & (cover == target)
    return np.median(values[near].astype(np.float64)), int(near.sum())


def rows_of(destination, key="site_id"):
    layer = QgsVectorLayer(str(destination), "t", "ogr")
    assert layer.isValid()
    return {f[key]: {n: f[n] for n in layer.fields().names()} for f in layer.getFeatures()}


def local(path):
    """Values and (row, col) offset of a raster lying on the scene's grid."""
    data, dataset = read_raster(path)
    x0, _, _, y0, _, _ = dataset.GetGeoTransform()
    return data[0], (round((ORIGIN[1] - y0) / PIXEL), round((x0 - ORIGIN[0]) / PIXEL))


@pytest.fixture(scope="module")
def scene(tmp_path_factory, provider):
    """The land cover, the baseline indicators (the landscape ones made by the indicator
    algorithms), the RUSLE factors, the baseline index and its weights table."""
    import processing

    folder = tmp_path_factory.mktemp("planner_scene")
    rng = np.random.default_rng(11)
    cover = np.full((ROWS, COLS), FOREST, dtype=np.uint8)
    cover[:, 24:] = GRASS
    for name in ("A", "B"):
        r0, c0, r1, c1 = SITES[name][0]
        cover[r0:r1, c0:c1] = BARREN
    fvc = np.select(
        [cover == FOREST, cover == GRASS], [0.8, 0.5], 0.05
    ) + 0.05 * rng.standard_normal(cover.shape)
    fvc = np.clip(fvc, 0.01, 0.99).astype(np.float32)
    lst = (np.select([cover == FOREST, cover == GRASS], [24.0, 29.0], 38.0)).astype(
        np.float32
    ) + rng.normal(0, 0.5, cover.shape).astype(np.float32)
    ls = (1.0 + 2.0 * rng.random(cover.shape)).astype(np.float32)
    c_factor = cover_cai(fvc.astype(np.float64)).astype(np.float32)
    p = np.vectorize(P_CLCD.get)(cover).astype(np.float32)
    erosion = (R_FACTOR * K_FACTOR * ls.astype(np.float64) * c_factor * p).astype(np.float32)
    paths = {
        "LANDCOVER": write_raster(folder / "cover.tif", cover, dtype=gdal.GDT_Byte),
        "FVC": write_raster(folder / "fvc.tif", fvc),
        "LST": write_raster(folder / "lst.tif", lst),
        "EROSION": write_raster(folder / "erosion.tif", erosion),
        "R_FACTOR": write_raster(folder / "r.tif", np.full(cover.shape, R_FACTOR, np.float32)),
        "K_FACTOR": write_raster(folder / "k.tif", np.full(cover.shape, K_FACTOR, np.float32)),
        "LS_FACTOR": write_raster(folder / "ls.tif", ls),
        "C_FACTOR": write_raster(folder / "c.tif", c_factor),
    }
    paths.update(landscape_indicators(paths["LANDCOVER"], folder))
    index = processing.run(
        "mineeco:resilience_index",
        {
            **{slot: paths[slot] for slot in SLOTS},
            "OUTPUT": str(folder / "index.tif"),
            "OUTPUT_WEIGHTS": str(folder / "weights.gpkg"),
        },
    )
    paths["INDEX"] = index["OUTPUT"]
    paths["WEIGHTS_TABLE"] = index["OUTPUT_WEIGHTS"]
    paths["SITES"] = write_sites(folder / "sites.gpkg", SITES)
    paths["folder"] = folder
    data = {"cover": cover, "fvc": fvc, "lst": lst, "ls": ls, "c": c_factor}
    return paths, data


def landscape_indicators(landcover, folder) -> dict[str, str]:
    """HAI, BAI, ECO, SHDI and FN of ``landcover`` (CLCD codes) by their algorithms, written in
    ``folder``: the outputs by slot."""
    import processing

    outputs = {}
    for slot, algorithm in (
        ("HAI", "human_activity_index"),
        ("BAI", "biological_abundance"),
        ("ECO", "ecological_elasticity"),
    ):
        outputs[slot] = processing.run(
            f"mineeco:{algorithm}",
            {
                "INPUT": landcover,
                "CLASSIFICATION": 1,
                "WINDOW": WINDOW,
                "OUTPUT": str(folder / f"{slot}.tif"),
            },
        )["OUTPUT"]
    metrics = processing.run(
        "mineeco:landscape_metrics",
        {
            "INPUT": landcover,
            "WINDOW": WINDOW,
            "OUTPUT_SHDI": str(folder / "shdi.tif"),
            "OUTPUT_FN": str(folder / "fn.tif"),
        },
    )
    outputs["SHDI"], outputs["FN"] = metrics["OUTPUT_SHDI"], metrics["OUTPUT_FN"]
    return outputs


def planner_parameters(paths, out: Path, **extra):
    parameters = {
        "LANDCOVER": paths["LANDCOVER"],
        **{slot: paths[slot] for slot in SLOTS},
        **{name: paths[name] for name in ("R_FACTOR", "K_FACTOR", "LS_FACTOR", "C_FACTOR")},
        "WEIGHTS_TABLE": paths["WEIGHTS_TABLE"],
        "SITES": paths["SITES"],
        "SITE_FIELD": "site",
        "TARGET_FIELD": "target",
        "COST_FIELD": "cost",
        "RADIUS": RADIUS,
        "CLASSIFICATION": 1,
        "WINDOW": WINDOW,
        "METRICS_WINDOW": WINDOW,
        "OUTPUT": str(out / "ranking.gpkg"),
        "OUTPUT_FOLDER": str(out / "deltas"),
        "OUTPUT_CHART": str(out / "chart.png"),
    }
    parameters.update(extra)
    return parameters


@pytest.fixture(scope="module")
def planned(scene, tmp_path_factory, provider):
    import processing

    paths, _ = scene
    out = tmp_path_factory.mktemp("planner_run")
    feedback = Recorder()
    results = processing.run(
        "mineeco:restoration_planner",
        planner_parameters(paths, out, WRITE_INDICATORS=True),
        feedback=feedback,
    )
    # The planner's settings are the baseline's: no layer is said to differ.
    assert not [w for w in feedback.warnings if "differs" in w]
    return results, out


def test_ranking_known_by_construction(scene, planned):
    results, out = planned
    rows = rows_of(results["OUTPUT"])
    a, b, c = rows["A"], rows["B"], rows["C"]
    # Barren → forest inside forest gains more than barren → grassland inside grassland, per
    # hectare and in total, and inside the site; the forest site that stays forest gains
    # exactly nothing.
    assert a["total_gain"] > b["total_gain"]
    assert a["gain_per_ha"] > b["gain_per_ha"]
    assert a["mean_gain"] > b["mean_gain"] > 0
    assert c["total_gain"] == 0.0
    # Under Table 2's printed trends (SHDI +, FN +, ECO −) a bare patch made like its
    # surroundings loses landscape diversity, fragmentation and gains elasticity: those parts
    # are negative and outweigh the spectral gain around the site, so the unchanged site C
    # ranks first by gain per hectare (0), then A, then B.
    assert a["gain_shdi"] < 0 and a["gain_fn"] < 0 and a["gain_eco"] < 0
    assert (c["rank"], a["rank"], b["rank"]) == (1, 2, 3)
    assert results["BEST"] == "C"
    # Both patches are 4 × 4 in a uniform class: their SHDI and FN changes are the same.
    assert a["gain_shdi"] == pytest.approx(b["gain_shdi"], rel=1e-6)
    assert a["gain_fn"] == pytest.approx(b["gain_fn"], rel=1e-6)
    # Forest's typical FVC (0.8) and LST (24 °C) beat grassland's (0.5, 29 °C).
    assert a["gain_fvc"] > b["gain_fvc"] > 0 and a["gain_lst"] > b["gain_lst"] > 0
    # 16 pixels of 30 m × 30 m = 16 × 0.09 ha.
    for row in (a, b, c):
        assert row["area_ha"] == pytest.approx(1.44)
    assert a["changed_ha"] == pytest.approx(1.44) and c["changed_ha"] == 0
    assert a["gain_per_ha"] == pytest.approx(a["total_gain"] / 1.44)
    # Cost = cost per ha × area; gain per unit cost = total gain / cost.
    assert a["cost"] == pytest.approx(20000.0 * 1.44)
    assert a["gain_per_cost"] == pytest.approx(a["total_gain"] / (20000.0 * 1.44))
    assert b["gain_per_cost"] == pytest.approx(b["total_gain"] / (2000.0 * 1.44))
    # The parts of the gain add up to the gain (Σ Wj·ΔTj = ΔP; float32 rounding aside).
    parts = sum(a[f"gain_{s.lower()}"] for s in SLOTS)
    assert parts == pytest.approx(a["total_gain"], rel=1e-4)
    # HAI does not change for A (barren and forest are both 0 in the CLCD table); grassland's
    # 0.067 is above barren's 0, so B loses a little on HAI.
    assert a["gain_hai"] == 0 and b["gain_hai"] < 0
    assert a["drivers"].startswith("C15 FN")
    assert a["pixels_up"] >= 1 and c["pixels_up"] == 0 and c["pixels_down"] == 0
    # All together: the two regions do not overlap, so the gains add up.
    together = rows["ALL"]
    assert together["rank"] == NULL
    assert together["total_gain"] == pytest.approx(a["total_gain"] + b["total_gain"], rel=1e-6)
    assert results["SUMMARY"].startswith("Sites ranked by gain per hectare of site: 1. C ")
    assert "median values within 310 m" in results["SUMMARY"]
    assert a["radius_m"] == RADIUS and a["delta_raster"].endswith("delta_A.tif")
    assert Path(results["OUTPUT_CHART"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert leftovers(out / "deltas") == []


def test_no_change_reproduces_the_baseline_exactly(scene, planned):
    results, out = planned
    rows = rows_of(results["OUTPUT"])
    assert rows["C"]["total_gain"] == 0.0
    assert rows["C"]["mean_gain"] == 0.0
    delta, _ = local(out / "deltas" / "delta_C.tif")
    assert np.all(delta[np.isfinite(delta)] == 0.0)
    # Every indicator of scenario C is the baseline layer, bit for bit.
    paths, _ = scene
    for slot in SLOTS:
        values, (row, col) = local(out / "deltas" / f"C_{slot}.tif")
        base = read_raster(paths[slot])[0][0][
            row : row + values.shape[0], col : col + values.shape[1]
        ]
        np.testing.assert_array_equal(values, base)
    # The planner's index of scenario C is the resilience_index output, bit for bit.
    values, (row, col) = local(out / "deltas" / "C_INDEX.tif")
    base = read_raster(paths["INDEX"])[0][0]
    np.testing.assert_array_equal(
        values, base[row : row + values.shape[0], col : col + values.shape[1]]
    )


def test_recomputed_indicators_equal_the_indicator_algorithms(scene, planned, tmp_path):
    import processing

    paths, data = scene
    results, out = planned
    edited = data["cover"].copy()
    r0, c0, r1, c1 = SITES["A"][0]
    edited[r0:r1, c0:c1] = FOREST
    edited_path = write_raster(tmp_path / "edited.tif", edited, dtype=gdal.GDT_Byte)
    expected = landscape_indicators(edited_path, tmp_path)
    p_edited = processing.run(
        "mineeco:rusle_p",
        {"LANDCOVER": edited_path, "CLASSIFICATION": 1, "OUTPUT": str(tmp_path / "p.tif")},
    )["OUTPUT"]
    for slot in ("HAI", "BAI", "ECO", "SHDI", "FN"):
        values, (row, col) = local(out / "deltas" / f"A_{slot}.tif")
        want = read_raster(expected[slot])[0][0]
        np.testing.assert_allclose(
            values, want[row : row + values.shape[0], col : col + values.shape[1]], atol=1e-6
        )
    # The region of A: its 4 × 4 box grown by half the 5-pixel window on each side.
    values, (row, col) = local(out / "deltas" / "A_FVC.tif")
    assert values.shape == (8, 8) and (row, col) == (r0 - 2, c0 - 2)
    # Spectral fill: the median FVC of the forest pixels whose centres lie within 310 m of the
    # site (distance from each centre to the 4 × 4 square), computed here independently.
    fvc_median, count = near_median(data["fvc"], data["cover"], SITES["A"][0], FOREST, RADIUS)
    c_median, _ = near_median(data["c"], data["cover"], SITES["A"][0], FOREST, RADIUS)
    inside = (slice(2, 6), slice(2, 6))
    np.testing.assert_allclose(values[inside], np.float32(fvc_median), rtol=0, atol=0)
    assert rows_of(results["OUTPUT"])["A"]["reference_pixels"] == count
    # Outside the site FVC keeps its observed values.
    observed = data["fvc"][row : row + 8, col : col + 8]
    mask = np.ones((8, 8), bool)
    mask[inside] = False
    np.testing.assert_array_equal(values[mask], observed[mask])
    # Erosion on restored pixels: R·K·LS·C·P with the median C of forest nearby and forest's P
    # (from rusle_p on the edited land cover).
    erosion, _ = local(out / "deltas" / "A_EROSION.tif")
    p = read_raster(p_edited)[0][0][r0:r1, c0:c1]
    want = R_FACTOR * K_FACTOR * data["ls"][r0:r1, c0:c1].astype(np.float64) * c_median * p
    np.testing.assert_allclose(erosion[inside], want, rtol=1e-5)
    # The scenario index: composite_index of the scenario layers with the baseline weights,
    # trends and ranges equals the baseline index plus Δ.
    # resilience_index's table: code = position, indicator = 'C3 FVC' (Table 2 code first).
    table = rows_of(paths["WEIGHTS_TABLE"], key="code")
    order = sorted(table, key=int)
    slot_of = {"C2": "EROSION", "C3": "FVC", "C6": "HAI", "C9": "LST", "C12": "BAI"}
    slot_of.update({"C13": "ECO", "C14": "SHDI", "C15": "FN"})
    layers = [slot_of[table[code]["indicator"].split()[0]] for code in order]
    scenario_index = processing.run(
        "mineeco:composite_index",
        {
            "INPUTS": [str(out / "deltas" / f"A_{slot}.tif") for slot in layers],
            "TRENDS": ",".join(table[code]["trend"] for code in order),
            "WEIGHTS": ",".join(repr(table[code]["combined"]) for code in order),
            "MINIMA": ",".join(repr(table[code]["minimum"]) for code in order),
            "MAXIMA": ",".join(repr(table[code]["maximum"]) for code in order),
            "OUTPUT": str(tmp_path / "scenario_index.tif"),
        },
    )["OUTPUT"]
    delta, (row, col) = local(out / "deltas" / "delta_A.tif")
    baseline = read_raster(paths["INDEX"])[0][0][row : row + 8, col : col + 8]
    np.testing.assert_allclose(read_raster(scenario_index)[0][0], baseline + delta, atol=2e-6)
    assert np.nansum(delta) * 0.09 == pytest.approx(
        rows_of(results["OUTPUT"])["A"]["total_gain"], rel=1e-5
    )


def test_dominant_driver_and_action(scene, tmp_path, run):
    paths, _ = scene
    dominant = np.full((ROWS, COLS), 1, dtype=np.uint8)  # climate
    r0, c0, r1, c1 = SITES["A"][0]
    dominant[r0:r1, c0:c1] = 2  # soil
    dominant[r0, c0] = 1
    r0, c0, r1, c1 = SITES["B"][0]
    dominant[r0:r1, c0:c1] = 3  # mining
    path = write_raster(tmp_path / "dominant.tif", dominant, dtype=gdal.GDT_Byte, nodata=0)
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(1).SetCategoryNames(["", "C: climate", "S: soil", "M: mining"])
    dataset = None
    results = run(
        "restoration_planner",
        planner_parameters(
            paths, tmp_path, DOMINANT=path, ALL_TOGETHER=False, RANK_BY=2, OUTPUT_CHART=None
        ),
    )
    rows = rows_of(results["OUTPUT"])
    assert "ALL" not in rows
    assert rows["A"]["npp_driver"] == "S: soil"
    assert rows["A"]["npp_driver_share"] == pytest.approx(100 * 15 / 16)
    assert rows["A"]["action"] == "soil reconstruction"
    assert rows["B"]["npp_driver"] == "M: mining" and rows["B"]["action"] == "subsidence repair"
    assert rows["C"]["action"].startswith("climate-limited")
    # Ranked by gain per unit cost: C's 0 first, then A (−0.396 / 28,800) before B
    # (−0.716 / 2,880): a loss weighs more per unit cost where restoring is cheap.
    ratio = {k: rows[k]["gain_per_cost"] for k in "ABC"}
    assert ratio["C"] == 0 and ratio["A"] > ratio["B"]
    assert (rows["C"]["rank"], rows["A"]["rank"], rows["B"]["rank"]) == (1, 2, 3)


def test_errors_name_the_parameter(scene, tmp_path, run):
    paths, _ = scene
    with pytest.raises(QgsProcessingException, match=r"RADIUS: site 'A' \(target class 2\)"):
        run("restoration_planner", planner_parameters(paths, tmp_path, RADIUS=10.0))
    with pytest.raises(QgsProcessingException, match="FVC"):
        run("restoration_planner", planner_parameters(paths, tmp_path, FVC=None))
    with pytest.raises(QgsProcessingException, match="R_FACTOR"):
        run("restoration_planner", planner_parameters(paths, tmp_path, R_FACTOR=None))
    with pytest.raises(QgsProcessingException, match="RANK_BY"):
        run("restoration_planner", planner_parameters(paths, tmp_path, RANK_BY=2, COST_FIELD=None))
    # A class table without barren land (7), which lies in site A.
    no_barren = "2,0,4,0.067"
    with pytest.raises(QgsProcessingException, match=r"HAI_TABLE: land-cover code\(s\) 7 .*'A'"):
        run("restoration_planner", planner_parameters(paths, tmp_path, HAI_TABLE_MATRIX=no_barren))
    with pytest.raises(QgsProcessingException, match="TARGET_FIELD: site 'A': class 2 is not in"):
        run("restoration_planner", planner_parameters(paths, tmp_path, BAI_TABLE_MATRIX="4,0.21"))
    # Nothing is left behind by the failed runs.
    assert not (tmp_path / "ranking.gpkg").exists()
    assert not (tmp_path / "deltas").exists() or leftovers(tmp_path / "deltas") == []


def test_overlapping_sites_together_and_a_site_outside(scene, tmp_path, run):
    paths, data = scene
    # X: the barren patch → forest; Y overlaps X's eastern half → grassland (later wins there);
    # Z lies east of the scene.
    sites = {
        "X": ((12, 8, 16, 12), FOREST, 1.0),
        "Y": ((12, 10, 16, 12), GRASS, 1.0),
        "Z": ((12, 60, 16, 64), FOREST, 1.0),
    }
    feedback = Recorder()
    results = run(
        "restoration_planner",
        planner_parameters(
            paths,
            tmp_path,
            SITES=write_sites(tmp_path / "sites.gpkg", sites),
            RADIUS=515.0,
            WRITE_INDICATORS=True,
        ),
        feedback,
    )
    assert any("'X' and 'Y' overlap" in w for w in feedback.warnings)
    assert any("'Z' lies outside" in w for w in feedback.warnings)
    rows = rows_of(results["OUTPUT"])
    assert rows["Z"]["total_gain"] == NULL and rows["Z"]["rank"] == NULL
    assert rows["Y"]["area_ha"] == pytest.approx(8 * 0.09)
    # Together the 16 barren pixels change: 8 to forest, 8 to grassland.
    assert rows["ALL"]["changed_ha"] == pytest.approx(16 * 0.09)
    fvc, (row, col) = local(tmp_path / "deltas" / "ALL_FVC.tif")
    forest, _ = near_median(data["fvc"], data["cover"], sites["X"][0], FOREST, 515.0)
    grass, _ = near_median(data["fvc"], data["cover"], sites["Y"][0], GRASS, 515.0)
    r, c = 12 - row, 8 - col
    np.testing.assert_array_equal(fvc[r : r + 4, c : c + 2], np.float32(forest))
    np.testing.assert_array_equal(fvc[r : r + 4, c + 2 : c + 4], np.float32(grass))
    delta, _ = local(results["DELTA_ALL"])
    assert np.nansum(delta) * 0.09 == pytest.approx(rows["ALL"]["total_gain"], rel=1e-5)
    assert results["TOTAL_GAIN_ALL"] == pytest.approx(rows["ALL"]["total_gain"])


def test_settings_other_than_the_baseline_are_reported(scene, tmp_path, run):
    paths, _ = scene
    feedback = Recorder()
    run("restoration_planner", planner_parameters(paths, tmp_path, WINDOW=7), feedback)
    differ = [w for w in feedback.warnings if "differs" in w]
    # HAI, BAI and ECO were made with a 5-pixel window; SHDI and FN keep theirs.
    assert sorted(w.split(":")[0] for w in differ) == ["BAI", "ECO", "HAI"]


def test_all_sites_raster_in_strips_equals_one_block(scene, planned, tmp_path, run, monkeypatch):
    paths, _ = scene
    results, _ = planned
    # A memory budget of a few bytes: delta_ALL is written one row at a time.
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "0.0001")
    strips = run("restoration_planner", planner_parameters(paths, tmp_path, OUTPUT_CHART=None))
    np.testing.assert_array_equal(
        read_raster(strips["DELTA_ALL"])[0], read_raster(results["DELTA_ALL"])[0]
    )
    # The union of the three regions (boxes grown by 2): rows 0–17, columns 0–39.
    assert read_raster(strips["DELTA_ALL"])[0].shape[1:] == (18, 40)


def test_inputs_are_never_replaced(scene, tmp_path, run):
    paths, _ = scene
    # An input named like the Δ raster of site A, in the output folder.
    folder = tmp_path / "deltas"
    folder.mkdir()
    fvc = folder / "delta_A.tif"
    fvc.write_bytes(Path(paths["FVC"]).read_bytes())
    before = fvc.read_bytes()
    with pytest.raises(QgsProcessingException, match="OUTPUT_FOLDER: .*delta_A.tif is an input"):
        run("restoration_planner", planner_parameters(paths, tmp_path, FVC=str(fvc)))
    assert fvc.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["delta_A.tif"]


def test_run_switch_off_computes_nothing(scene, tmp_path, run):
    # RUN off (an optional step of a graphical model): no inputs needed, every output empty.
    results = run(
        "restoration_planner",
        {"RUN": False, "OUTPUT": str(tmp_path / "ranking.gpkg"), "OUTPUT_FOLDER": str(tmp_path)},
    )
    assert results["OUTPUT"] is None and results["SUMMARY"] is None
    assert list(tmp_path.iterdir()) == []


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------


def desktop_planner(s):
    """The desktop layers' land cover, FVC and LST, the weights table of an index run on the
    two, and one candidate site (a 4 × 4 block of bare soil, 65, inside the bare-soil block)
    restored to closed forest (21)."""
    table = synthetic_inputs.write_text(
        s.folder,
        "index_weights.csv",
        "code,indicator,trend,minimum,maximum,combined\n"
        "C3,FVC,+,0.05,0.95,0.7\nC9,LST,-,296,314,0.3\n",
    )
    pixel = synthetic_inputs.PIXEL
    x0, y0 = synthetic_inputs.ORIGIN[0] + 18 * pixel, synthetic_inputs.ORIGIN[1] - 16 * pixel
    sites = synthetic_inputs.write_polygon(s.folder, "sites", x0, y0, 4 * pixel, {"target": 21})
    return {
        "LANDCOVER": s.landcover,
        "FVC": s.index,
        "LST": s.lst,
        "WEIGHTS_TABLE": table,
        "SITES": sites,
        "TARGET_FIELD": "target",
    }


INPUTS = declared.Inputs()
INPUTS.valid("restoration_planner", lambda d: bad_input.planner_inputs(d))
INPUTS.desktop("restoration_planner", lambda s: desktop_planner(s))
INPUTS.case(
    "restoration_planner", "valid", bad_input.planner_inputs, check=bad_input.planner_gain_one
)
INPUTS.case(
    "restoration_planner",
    "absent-target-class",
    lambda d: bad_input.planner_inputs(d, target=9),
    "RADIUS",
)
INPUTS.case(
    "restoration_planner",
    "no-table2-codes",
    lambda d: bad_input.planner_inputs(
        d, table=bad_input.PLANNER_TABLE.replace("C3,FVC", "X,NDVI")
    ),
    "WEIGHTS_TABLE",
)
INPUTS.case(
    "restoration_planner", "missing-lst", lambda d: bad_input.planner_inputs(d, LST=None), "LST"
)
INPUTS.case(
    "restoration_planner", "even-window", lambda d: bad_input.planner_inputs(d, WINDOW=4), "WINDOW"
)
INPUTS.case(
    "restoration_planner",
    "geographic-landcover",
    lambda d: (lambda p: {**p, "LANDCOVER": d.reprojected(p["LANDCOVER"])})(
        bad_input.planner_inputs(d)
    ),
    "LANDCOVER",
)
INPUTS.case(
    "restoration_planner",
    "lst-coarser-grid",
    lambda d: (lambda p: {**p, "LST": d.coarser(p["LST"], 1)})(bad_input.planner_inputs(d)),
    check=bad_input.planner_gain_one,
)

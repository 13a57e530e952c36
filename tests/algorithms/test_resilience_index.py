"""resilience_index: named Table 2 slots, omissions renormalised, wetness from a tasseled cap."""

import csv

import bad_input
import declared
import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

# Table 2 of the resilience study: FVC C3 (+) combined 0.1554; LST C9 (−) 0.0473; DDI C1 0.1185
# (printed −, used + by default: see the Table 2 CSV); wetness C7 (+) 0.0629.
WEIGHTS = {"FVC": 0.1554, "LST": 0.0473, "DDI": 0.1185, "WETNESS": 0.0629}


@pytest.fixture
def layers(tmp_path):
    rng = np.random.default_rng(5)
    made = {}
    for name in ("FVC", "LST", "DDI"):
        made[name] = write_raster(tmp_path / f"{name}.tif", rng.random((8, 9)).astype(np.float32))
    tc = rng.random((3, 8, 9)).astype(np.float32)
    made["WETNESS"] = write_raster(tmp_path / "tc.tif", tc)
    return made


@pytest.mark.parametrize("ddi_trend", [0, 1], ids=["ddi-positive", "ddi-as-printed"])
def test_given_slots_use_renormalised_table2_weights(run, layers, tmp_path, ddi_trend):
    out = tmp_path / "p.tif"
    results = run(
        "resilience_index",
        {
            **layers,
            "DDI_TREND": ddi_trend,
            "OUTPUT": str(out),
            "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT",
        },
    )
    assert "C5 Population density" in results["OMITTED"] and "C17" in results["OMITTED"]
    assert "C3" not in results["OMITTED"]
    # By hand: normalise each layer by its own min/max (over pixels valid in all), flip the
    # negative ones, weight with Table 2's combined weights divided by their sum 0.3841.
    data = {name: read_raster(path)[0] for name, path in layers.items()}
    data["WETNESS"] = data["WETNESS"][2:3]
    total = sum(WEIGHTS.values())
    expected = np.zeros((8, 9))
    for name, weight in WEIGHTS.items():
        x = data[name][0]
        t = (x - x.min()) / (x.max() - x.min())
        if name == "LST" or (name == "DDI" and ddi_trend == 1):
            t = 1 - t
        expected += weight / total * t
    np.testing.assert_allclose(read_raster(out)[0][0], expected, atol=2e-6)
    assert results["TRENDS"].split(",")[0] == ("+" if ddi_trend == 0 else "-")


def test_one_indicator_is_not_enough(run, layers, tmp_path):
    with pytest.raises(QgsProcessingException, match="at least two indicators"):
        run(
            "resilience_index",
            {
                "FVC": layers["FVC"],
                "OUTPUT": str(tmp_path / "p.tif"),
                "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT",
            },
        )


def test_c11_takes_band_1_of_the_tasseled_cap(run, tmp_path):
    """C11 (Table 2's "TCI") is the tasseled-cap brightness: given the 3-band tasseled cap, the
    slot uses band 1 (brightness), as C7 uses band 3 (wetness)."""
    rng = np.random.default_rng(11)
    tc = rng.random((3, 6, 7)).astype(np.float32)
    fvc = rng.random((6, 7)).astype(np.float32)
    tc_path = write_raster(tmp_path / "tc.tif", tc)
    fvc_path = write_raster(tmp_path / "fvc.tif", fvc)
    out = tmp_path / "p.tif"
    results = run(
        "resilience_index",
        {"FVC": fvc_path, "TCI": tc_path, "OUTPUT": str(out), "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT"},
    )
    assert results["NAMES"] == "C3 FVC,C11 Tasseled-cap brightness"
    # By hand: FVC (+) 0.1554 and brightness (−) 0.0365 (Table 2), renormalised.
    b = tc[0]
    expected = (
        0.1554 * (fvc - fvc.min()) / (fvc.max() - fvc.min())
        + 0.0365 * (1 - (b - b.min()) / (b.max() - b.min()))
    ) / (0.1554 + 0.0365)
    np.testing.assert_allclose(read_raster(out)[0][0], expected, atol=2e-6)


def test_index_falls_as_land_desertifies(run, tmp_path):
    """A synthetic forest → bare-soil gradient, column by column: NDVI from 0.85 down to 0.05,
    albedo from 0.08 up to 0.35 (bright bare soil), the same in every row. DDI from
    'Desertification index' falls along the gradient; the index of DDI (C1) and FVC (C3)
    must fall too with the default direction of C1, and the printed sign (−) would make it
    rise wherever DDI outweighs FVC (here FVC is flat, so the index rises)."""
    columns = np.linspace(0.0, 1.0, 21)
    ndvi = np.tile(0.85 - 0.8 * columns, (5, 1)).astype(np.float32)
    # Albedo follows the bare-soil line with a small wobble so the fit is not perfect.
    albedo = np.tile(0.08 + 0.27 * columns + 0.005 * np.sin(7 * columns), (5, 1))
    albedo = albedo.astype(np.float32)
    rows = np.arange(5, dtype=np.float32)[:, None]
    # FVC constant along the gradient (varying only between rows), to isolate C1's direction.
    fvc = np.repeat(0.2 + 0.1 * rows, 21, axis=1).astype(np.float32)
    paths = {
        name: write_raster(tmp_path / f"{name}.tif", values)
        for name, values in (("ndvi", ndvi), ("albedo", albedo), ("fvc", fvc))
    }
    ddi_path = tmp_path / "ddi.tif"
    run(
        "desertification_index",
        {"NDVI": paths["ndvi"], "ALBEDO": paths["albedo"], "OUTPUT": str(ddi_path)},
    )
    ddi = read_raster(ddi_path)[0][0]
    assert (np.diff(ddi, axis=1) < 0).all()  # DDI falls as the land desertifies
    indices = {}
    for trend in (0, 1):
        out = tmp_path / f"p{trend}.tif"
        run(
            "resilience_index",
            {
                "DDI": str(ddi_path),
                "FVC": paths["fvc"],
                "DDI_TREND": trend,
                "OUTPUT": str(out),
                "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT",
            },
        )
        indices[trend] = read_raster(out)[0][0]
    # Default: the index falls from forest to bare soil in every row, from its highest to its
    # lowest value (forest column: DDI normalised to 1; bare column: 0).
    assert (np.diff(indices[0], axis=1) < 0).all()
    # By hand, row 0 (FVC normalised to 0 there): P = 0.1185·T_DDI / (0.1185 + 0.1554).
    t = (ddi[0] - ddi.min()) / (ddi.max() - ddi.min())
    np.testing.assert_allclose(indices[0][0], 0.1185 * t / 0.2739, atol=2e-6)
    # As printed (−): the desertified end scores highest.
    assert (np.diff(indices[1], axis=1) > 0).all()


def test_shipped_table2_hierarchy_gives_table2_index(run, layers, tmp_path):
    # resources/tables/ahp_hierarchy_table2_lingbei.csv reproduces Table 2's subjective
    # weights (to 2e-6, tests/algorithms/test_evaluation_hierarchy_alg.py): with the study's
    # weighting the index and weights equal those of the run without a hierarchy.
    from mine_eco_plugin.provider_info import resource

    common = {**layers, "WEIGHT_SOURCE": 1, "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT"}
    plain = run("resilience_index", {**common, "OUTPUT": str(tmp_path / "plain.tif")})
    shipped = run(
        "resilience_index",
        {
            **common,
            "HIERARCHY": str(resource("tables", "ahp_hierarchy_table2_lingbei.csv")),
            "OUTPUT": str(tmp_path / "shipped.tif"),
        },
    )
    np.testing.assert_allclose(
        [float(w) for w in shipped["WEIGHTS"].split(",")],
        [float(w) for w in plain["WEIGHTS"].split(",")],
        atol=2e-6,
    )
    np.testing.assert_allclose(
        read_raster(tmp_path / "shipped.tif")[0], read_raster(tmp_path / "plain.tif")[0], atol=2e-6
    )


def test_weights_table_holds_table2_objective_and_subjective_weights(run, layers, tmp_path):
    """With Table 2's combined weights (WEIGHT_SOURCE 0), the weights table is Table 2's form
    for the indicators given: its objective, subjective and combined weights, each rescaled
    to sum 1 over these indicators (it used to leave objective and subjective empty)."""
    table = tmp_path / "w.csv"
    results = run(
        "resilience_index",
        {**layers, "OUTPUT": str(tmp_path / "p.tif"), "OUTPUT_WEIGHTS": str(table)},
    )
    with open(table, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # Table 2 (resources/tables/evaluation_table2_lingbei.csv) in Table 2 order C1, C3, C7, C9:
    # objective 0.0554, 0.0573, 0.0706, 0.0577 (sum 0.2410); subjective 0.1815, 0.2534,
    # 0.0552, 0.0369 (sum 0.5270); combined 0.1185, 0.1554, 0.0629, 0.0473 (sum 0.3841).
    assert [r["indicator"] for r in rows] == [
        "C1 Desertification index",
        "C3 FVC",
        "C7 Wetness index",
        "C9 LST",
    ]
    expected = {
        "objective": np.array([0.0554, 0.0573, 0.0706, 0.0577]) / 0.2410,
        "subjective": np.array([0.1815, 0.2534, 0.0552, 0.0369]) / 0.5270,
        "combined": np.array([0.1185, 0.1554, 0.0629, 0.0473]) / 0.3841,
    }
    for column, values in expected.items():
        np.testing.assert_allclose([float(r[column]) for r in rows], values, rtol=1e-9)
    assert [float(w) for w in results["WEIGHTS"].split(",")] == pytest.approx(
        expected["combined"], rel=1e-9
    )


def test_study_method_weights_table_has_computed_objective_weights(run, layers, tmp_path):
    """Table 2's subjective weights combined with mean-square-error weights of the layers
    (WEIGHT_SOURCE 1): the table's combined column is Eq. 17 of its own objective and
    subjective columns."""
    table = tmp_path / "w.csv"
    run(
        "resilience_index",
        {
            **layers,
            "WEIGHT_SOURCE": 1,
            "OUTPUT": str(tmp_path / "p.tif"),
            "OUTPUT_WEIGHTS": str(table),
        },
    )
    with open(table, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    objective = np.array([float(r["objective"]) for r in rows])
    subjective = np.array([float(r["subjective"]) for r in rows])
    combined = np.array([float(r["combined"]) for r in rows])
    # Subjective: Table 2's 0.1815, 0.2534, 0.0552, 0.0369 over their sum 0.5270.
    np.testing.assert_allclose(
        subjective, np.array([0.1815, 0.2534, 0.0552, 0.0369]) / 0.5270, rtol=1e-9
    )
    assert objective.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(combined, (objective + subjective) / 2, rtol=1e-9)  # Eq. 17


def test_a_constant_indicator_is_an_error_naming_its_slot(run, layers, tmp_path):
    """A layer whose valid pixels are all equal cannot be normalised (Eq. 18 divides by
    max − min = 0): the error names the slot, not the index's internal layer list."""
    flat = write_raster(tmp_path / "flat.tif", np.full((8, 9), 0.4, dtype=np.float32))
    with pytest.raises(QgsProcessingException) as caught:
        run(
            "resilience_index",
            {**layers, "FVC": flat, "OUTPUT": str(tmp_path / "p.tif")},
        )
    message = str(caught.value)
    assert message.startswith("FVC: ") and "INPUTS" not in message
    assert "constant indicator cannot be normalised" in message


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("resilience_index", lambda d: bad_input.resilience_layers(d))
INPUTS.desktop("resilience_index", lambda s: {"FVC": s.index, "LST": s.lst, "ALBEDO": s.albedo})
INPUTS.case(
    "resilience_index",
    "one-indicator",
    lambda d: {"FVC": d.field(), "OUTPUT_WEIGHTS": bad_input.T},
    "DDI",
)
INPUTS.case(
    "resilience_index",
    "far-lst",
    lambda d: bad_input.resilience_layers(d, LST=d.field(origin=bad_input.FAR)),
    "LST",
)
INPUTS.case(
    "resilience_index",
    "constant-ddi",
    lambda d: bad_input.resilience_layers(d, DDI=d.constant(0.3)),
    "DDI",
)
INPUTS.case(
    "resilience_index",
    "lst-other-crs",
    lambda d: (lambda f: bad_input.resilience_layers(d, FVC=f, LST=d.reprojected(d.field(20, 40))))(
        d.field()
    ),
    check=bad_input.same_grid_as("FVC"),
)
INPUTS.case(
    "resilience_index",
    "range",
    lambda d: bad_input.resilience_layers(d),
    check=bad_input.within(0, 1),
)

"""core.planner: scenario indicators, the Δ-index and its summaries, by hand on tiny maps."""

import numpy as np
import pytest

from mine_eco_plugin.core import landscape, planner

NAN = np.nan


def test_slot_models_cover_table2():
    # Every Table 2 slot has exactly one model (resilience_index's SLOTS).
    from mine_eco_plugin.core.evaluation_weights import load_preset

    assert len(load_preset("lingbei_2000_2020").codes) == 17
    kinds = [planner.slot_model(s) for s in planner.SPECTRAL + planner.SHARES + planner.METRICS]
    assert kinds.count("spectral") == 8 and kinds.count("share") == 3
    assert planner.slot_model("EROSION") == "erosion"
    assert planner.slot_model("PM25") == "unchanged"
    with pytest.raises(ValueError):
        planner.slot_model("NDVI")


def test_reach_is_the_largest_half_window_in_use():
    model = planner.LandscapeModel(share_window=5, metrics_window=9)
    assert model.reach(["FVC", "HAI"]) == 2
    assert model.reach(["FVC", "HAI", "SHDI"]) == 4
    assert model.reach(["FVC", "LST"]) == 0


def test_edit_cover_keeps_nodata_and_later_sites_win():
    cover = np.array([[1.0, 1.0, NAN], [1.0, 1.0, 1.0]])
    first = np.array([[True, True, True], [False, False, False]])
    second = np.array([[False, True, False], [False, False, False]])
    edited = planner.edit_cover(cover, [(first, 2), (second, 3)])
    np.testing.assert_array_equal(edited, [[2, 3, NAN], [1, 1, 1]])
    assert np.isnan(cover[0, 2]) and cover[0, 0] == 1  # the input is untouched
    np.testing.assert_array_equal(
        planner.changed_pixels(cover, edited), [[True, True, False], [False, False, False]]
    )


def test_class_median_over_the_target_class_near_the_site():
    values = np.array([[0.1, 0.9, 0.7], [0.5, NAN, 0.3]])
    cover = np.array([[2.0, 2.0, 2.0], [2.0, 2.0, 4.0]])
    near = np.array([[False, True, True], [True, True, True]])
    # Class 2, near, valid: 0.9, 0.7, 0.5 → median 0.7 of 3 pixels.
    assert planner.class_median(values, cover, 2, near) == (pytest.approx(0.7), 3)
    median, count = planner.class_median(values, cover, 9, near)
    assert np.isnan(median) and count == 0


def test_scenario_indicators_recompute_only_where_a_window_reaches():
    # 1 × 7 strip of forest (2) with one barren pixel (7) in the middle, window 3.
    cover = np.array([[2.0, 2.0, 2.0, 7.0, 2.0, 2.0, 2.0]])
    site = np.zeros_like(cover, dtype=bool)
    site[0, 3] = True
    edited = planner.edit_cover(cover, [(site, 2)])
    table = {2: 0.9, 7: 0.1}  # ECO-like weights
    model = planner.LandscapeModel(tables={"ECO": table}, share_window=3, metrics_window=3)
    halo = 1
    grown_cover = np.pad(cover, 1, constant_values=NAN)
    grown_edited = np.pad(edited, 1, constant_values=NAN)
    baseline = {
        "ECO": landscape.weighted_share(grown_cover, table, 3, crop=halo).astype(np.float32),
        "FVC": np.array([[0.8, 0.8, 0.8, 0.05, 0.8, 0.8, 0.8]], dtype=np.float32),
        "PM25": np.full((1, 7), 40.0, dtype=np.float32),
    }
    # Keep a marker in ECO far from the site: it must survive untouched.
    baseline["ECO"][0, 0] = 0.123
    fills = {"FVC": np.array([[NAN, NAN, NAN, 0.75, NAN, NAN, NAN]], dtype=np.float32)}
    scenario, recomputed = planner.scenario_indicators(
        baseline, grown_cover, grown_edited, fills, model, halo
    )
    # Pixels 2–4 hold the change in their 3-window: all forest now → 0.9; pixel 0 keeps the
    # marker; FVC changes only on the changed pixel; PM2.5 never changes.
    np.testing.assert_allclose(scenario["ECO"][0], [0.123, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    np.testing.assert_array_equal(
        scenario["FVC"][0], np.float32([0.8, 0.8, 0.8, 0.75, 0.8, 0.8, 0.8])
    )
    np.testing.assert_array_equal(scenario["PM25"], baseline["PM25"])
    # The unedited recomputation at the changed window: (0.9 + 0.9 + 0.1)/3 at pixels 2 and 4.
    assert recomputed["ECO"][0, 2] == pytest.approx(1.9 / 3)


def test_evaluate_by_hand():
    # Two indicators: FVC (+, W 0.6, range 0–1) and LST (−, W 0.4, range 20–40), 1 × 2 pixels.
    system = planner.IndexSystem(("FVC", "LST"), (0.6, 0.4), (1, -1), (0.0, 20.0), (1.0, 40.0))
    baseline = {"FVC": np.float32([[0.2, 0.5]]), "LST": np.float32([[36.0, 30.0]])}
    scenario = {"FVC": np.float32([[0.7, 0.5]]), "LST": np.float32([[26.0, 30.0]])}
    sites = np.array([[True, False]])
    result = planner.evaluate(
        system, baseline, scenario, sites, sites, pixel_ha=0.09, breaks=(0.38, 0.41, 0.63, 0.73)
    )
    # P before: 0.6·0.2 + 0.4·(1 − 0.8) = 0.2 (severe); after: 0.6·0.7 + 0.4·(1 − 0.3) = 0.7
    # (good). Δ = 0.5 on the site, 0 beside it.
    np.testing.assert_allclose(result.delta, [[0.5, 0.0]], atol=1e-6)
    assert result.total_gain == pytest.approx(0.5 * 0.09, rel=1e-6)
    assert result.mean_gain == pytest.approx(0.5, rel=1e-6)
    assert (result.pixels_up, result.pixels_down) == (1, 0)
    # FVC: 0.6·0.5 = 0.3, LST: 0.4·0.5 = 0.2 (each × 0.09 ha).
    assert result.contributions["FVC"] == pytest.approx(0.3 * 0.09, rel=1e-6)
    assert result.contributions["LST"] == pytest.approx(0.2 * 0.09, rel=1e-6)
    text = planner.driver_text(result.contributions, {"FVC": "C3 FVC", "LST": "C9 LST"})
    assert text == "C3 FVC +0.027 (60 %); C9 LST +0.018 (40 %)"


def test_evaluate_without_change_is_exactly_zero():
    rng = np.random.default_rng(3)
    values = {"FVC": rng.random((5, 6), dtype=np.float32)}
    values["FVC"][2, 2] = NAN
    system = planner.IndexSystem(("FVC",), (1.0,), (1,), (0.0,), (1.0,))
    result = planner.evaluate(
        system, values, dict(values), np.ones((5, 6), bool), np.zeros((5, 6), bool), 0.09, (0.5,)
    )
    assert np.isnan(result.delta[2, 2])
    assert np.all(result.delta[np.isfinite(result.delta)] == 0.0)
    assert result.total_gain == 0.0 and result.pixels_up == result.pixels_down == 0


@pytest.mark.parametrize(
    ("label", "action"),
    [
        ("S: soil", "soil reconstruction"),
        ("M: mining", "subsidence repair"),
        ("SM: soil > mining (coupled)", "soil reconstruction; then subsidence repair"),
        ("CS: climate > soil (coupled)", planner.ACTIONS[2][1] + "; then soil reconstruction"),
        ("X: other", ""),
    ],
)
def test_driver_action(label, action):
    assert planner.driver_action(label) == action


def test_majority_clusters_ranks():
    codes = np.array([[1.0, 2.0, 2.0], [0.0, NAN, 2.0]])
    mask = np.array([[True, True, False], [True, True, True]])
    # Inside the mask, valid and non-zero: 1, 2, 2 → class 2 with 2/3.
    assert planner.majority(codes, mask) == (2, pytest.approx(100 * 2 / 3))
    # Boxes 0 and 1 overlap, 2 touches 1 only at an edge (ends exclusive): two groups.
    boxes = [(0, 0, 5, 5), (4, 4, 8, 8), (8, 0, 10, 4), (20, 20, 21, 21)]
    assert planner.clusters(boxes) == [[0, 1], [2], [3]]
    assert planner.ranks([0.5, None, 0.9, 0.5, float("nan")]) == [2, None, 1, 3, None]

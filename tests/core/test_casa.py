"""CASA terms against hand-computed values (arithmetic in the comments)."""

import math

import numpy as np
import pytest

from mine_eco_plugin.core import casa

E2, E3, E4, E6 = math.exp(-2), math.exp(-3), math.exp(-4), math.exp(-6)


# --- FPAR ---------------------------------------------------------------------------------


def test_simple_ratio():
    # SR = (1 + NDVI)/(1 − NDVI): 0.6 → 1.6/0.4 = 4; 0 → 1.
    np.testing.assert_allclose(casa.simple_ratio(np.array([0.6, 0.0])), [4.0, 1.0])


def test_fpar_mid_range_and_clipping():
    # Grass (Zhu 2006): NDVI_max 0.634, SR_max 4.46; NDVI_min 0.023, SR_min 1.05.
    ndvi = np.array([0.4, 0.7, 0.0, -0.5, 1.0])
    got = casa.fpar(ndvi, 0.634, 4.46)
    # NDVI 0.4: FPAR_NDVI = (0.4 − 0.023)·0.949/0.611 + 0.001 = 0.586553…;
    # SR = 1.4/0.6 = 2.3333…, FPAR_SR = (2.3333… − 1.05)·0.949/3.41 + 0.001 = 0.358150…
    by_ndvi = 0.377 * 0.949 / 0.611 + 0.001
    by_sr = (1.4 / 0.6 - 1.05) * 0.949 / 3.41 + 0.001
    assert got[0] == pytest.approx(0.5 * by_ndvi + 0.5 * by_sr, rel=1e-12)
    assert got[0] == pytest.approx(0.472352, abs=1e-6)
    # NDVI 0.7 > NDVI_max: both stretches exceed 0.95 and are clipped → 0.95.
    # NDVI 0 and −0.5 < NDVI_min: both below 0.001 → 0.001. NDVI 1: SR = inf → 0.95.
    np.testing.assert_allclose(got[1:], [0.95, 0.001, 0.001, 0.95])


def test_fpar_linear_endpoints():
    # The stretch maps (v_min, v_max) onto (0.001, 0.95) exactly.
    np.testing.assert_allclose(
        casa.fpar_linear(np.array([0.023, 0.634]), 0.023, 0.634), [0.001, 0.95]
    )


def test_apar():
    # 400 MJ·m⁻² × FPAR 0.5 × 0.5 = 100.
    assert casa.apar(400.0, 0.5) == pytest.approx(100.0)


# --- temperature stresses -----------------------------------------------------------------


def test_t_epsilon1_by_hand():
    topt = np.array([20.0, 30.0, -5.0, 0.0])
    # 0.8 + 0.02·20 − 0.0005·400 = 1.0; 0.8 + 0.6 − 0.45 = 0.95; 0.8 − 0.1 − 0.0125 = 0.6875.
    np.testing.assert_allclose(casa.temperature_stress_1(topt), [1.0, 0.95, 0.6875, 0.8])


def test_t_epsilon1_zero_in_freezing_months():
    # Topt 20 → 1.0, but a month at −10 °C (≤ −10) gets 0; −9.9 °C keeps 1.0.
    got = casa.temperature_stress_1(np.float64(20.0), np.array([-10.0, -9.9, 15.0]))
    np.testing.assert_allclose(got, [0.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("temperature", "expected"),
    [
        # T = Topt = 20: 1.184/(1 + e⁻²)/(1 + e⁻³) = 1.184/1.135335/1.049787 = 0.993405
        (20.0, 1.184 / (1 + E2) / (1 + E3)),
        # T = Topt + 10 = 30 (not beyond): 1.184/(1 + e^{0.2(20−10−30)})/(1 + e^{0.3·0})
        #   = 1.184/(1 + e⁻⁴)/2 = 0.581352
        (30.0, 1.184 / (1 + E4) / 2),
        # T = Topt − 10 = 10: 1.184/(1 + e⁰)/(1 + e^{0.3(−20−10+10)}) = 1.184/2/(1 + e⁻⁶) = 0.590536
        (10.0, 1.184 / 2 / (1 + E6)),
        # T = 30.5 > Topt + 10 and T = 6.9 < Topt − 13: half the value at Topt = 0.496703
        (30.5, 0.5 * 1.184 / (1 + E2) / (1 + E3)),
        (6.9, 0.5 * 1.184 / (1 + E2) / (1 + E3)),
    ],
)
def test_t_epsilon2_at_topt_and_plus_minus_10(temperature, expected):
    assert casa.temperature_stress_2(temperature, 20.0) == pytest.approx(expected, rel=1e-12)


def test_t_epsilon2_printed_values():
    assert casa.temperature_stress_2(20.0, 20.0) == pytest.approx(0.993405, abs=1e-6)
    assert casa.temperature_stress_2(30.0, 20.0) == pytest.approx(0.581352, abs=1e-6)
    assert casa.temperature_stress_2(10.0, 20.0) == pytest.approx(0.590536, abs=1e-6)
    # Potter's 1.1814: 1.1814/1.135335/1.049787 = 0.991224
    assert casa.temperature_stress_2(20.0, 20.0, constant=1.1814) == pytest.approx(
        0.991224, abs=1e-6
    )


def test_optimum_temperature_is_temperature_of_ndvi_maximum():
    ndvi = np.array([[0.2, np.nan], [0.7, np.nan], [0.7, np.nan], [0.1, np.nan]])
    temperature = np.array([[5.0, 1.0], [18.0, 2.0], [25.0, 3.0], [8.0, 4.0]])
    # First pixel: maximum 0.7 in months 2 and 3 → the first, 18 °C. Second: no NDVI → NaN.
    got = casa.optimum_temperature(ndvi, temperature)
    assert got[0] == 18.0
    assert np.isnan(got[1])


# --- Thornthwaite -------------------------------------------------------------------------

# A temperate year (°C), January to December, with frost in winter.
TEMPS = [-3.0, 0.0, 4.0, 9.0, 14.0, 19.0, 22.0, 21.0, 17.0, 11.0, 5.0, -1.0]


def test_thornthwaite_heat_index_ignores_months_at_or_below_zero():
    # I = Σ (T/5)^1.514 over T > 0: (0.8)^1.514 + (1.8)^1.514 + (2.8)^1.514 + (3.8)^1.514 +
    # (4.4)^1.514 + (4.2)^1.514 + (3.4)^1.514 + (2.2)^1.514 + 1 = 0.7135 + 2.4357 + 4.7544 +
    # 7.5561 + 9.4154 + 8.7701 + 6.3840 + 3.3007 + 1.0000 = 44.3309
    assert casa.thornthwaite_heat_index(np.array(TEMPS)) == pytest.approx(44.33091, abs=1e-4)


def test_thornthwaite_exponent():
    # I = 44.33091: 6.75e-7·87122 − 7.71e-5·1965.2 + 1.792e-2·44.331 + 0.49239
    #   = 0.058807 − 0.151519 + 0.794408 + 0.49239 = 1.194087
    assert casa.thornthwaite_exponent(44.33091) == pytest.approx(1.194087, abs=1e-5)


def test_thornthwaite_pet_by_hand():
    e0 = casa.thornthwaite_pet(np.array(TEMPS))
    # July, 22 °C: 16·(220/44.33091)^1.194087 = 16·4.96268^1.194087 = 16·6.77244 = 108.359
    # April, 9 °C: 16·(90/44.33091)^1.194087 = 16·2.03018^1.194087 = 16·2.32929 = 37.269
    expected = [0, 0, 14.1517, 37.2687, 63.1644, 90.9576, 108.3591, 102.504, 79.6451, 47.3598,
                18.4726, 0]  # fmt: skip
    np.testing.assert_allclose(e0, expected, atol=2e-4)


def test_thornthwaite_hot_months_and_cold_years():
    # Above 26.5 °C: −415.85 + 32.24·30 − 0.43·900 = 164.35 mm (Willmott et al. 1985).
    temps = np.array([30.0] + [20.0] * 11)
    assert casa.thornthwaite_pet(temps)[0] == pytest.approx(164.35, abs=1e-9)
    # Without the hot-month formula, the power law applies (it differs).
    assert casa.thornthwaite_pet(temps, hot_formula=False)[0] != pytest.approx(164.35, abs=1)
    # Every month ≤ 0 °C: I = 0 and E0 = 0 everywhere, no division by zero.
    np.testing.assert_array_equal(casa.thornthwaite_pet(np.full(12, -5.0)), np.zeros(12))


# --- water stress -------------------------------------------------------------------------


def test_regional_evapotranspiration_equal_p_and_e0():
    # P = E0 = 50: Rn = √2500·(0.369 + 0.598·1) = 48.35;
    # EET = 50·48.35·(2500 + 2337.7225 + 2417.5)/[(98.35)(4837.7225)] = 36.86395
    assert casa.regional_evapotranspiration(50.0, 50.0) == pytest.approx(36.863953, abs=1e-6)


def test_eet_exceeds_e0_above_1884():
    # The model's EET equals E0 at P/E0 = 1.8836…: just above, EET > E0.
    assert casa.regional_evapotranspiration(1.89, 1.0) > 1.0
    assert casa.regional_evapotranspiration(1.87, 1.0) < 1.0


@pytest.mark.parametrize(
    ("precipitation", "e0", "expected"),
    [
        # P = E0 = 50: PET = (36.86395 + 50)/2 = 43.43198; W = 0.5 + 0.5·36.86395/43.43198
        (50.0, 50.0, 0.5 + 0.5 * 36.863953 / 43.431976),
        # P = 0: EET = 0 → W = 0.5
        (0.0, 50.0, 0.5),
        # E0 = 0: no demand → 1 (the default)
        (50.0, 0.0, 1.0),
        (0.0, 0.0, 1.0),
        # P = 200, E0 = 50 (P > 1.884·E0): uncapped W = 1.0657 → capped at 1
        (200.0, 50.0, 1.0),
    ],
)
def test_water_stress_pairs(precipitation, e0, expected):
    assert casa.water_stress(precipitation, e0) == pytest.approx(expected, abs=1e-6)


def test_water_stress_cap_and_no_demand_are_parameters():
    assert casa.water_stress(200.0, 50.0, cap=False) == pytest.approx(1.065676, abs=1e-6)
    assert casa.water_stress(10.0, 0.0, no_demand=0.5) == 0.5


# --- a whole pixel -------------------------------------------------------------------------


def test_whole_year_pixel_by_hand():
    # Jan–Feb −12 °C (frozen: T_ε1 = 0 → NPP 0), March–December 20 °C.
    temperature = np.array([-12.0, -12.0] + [20.0] * 10)
    # NDVI 0.4 every month but July 0.6 → Topt = July's 20 °C.
    ndvi = np.full(12, 0.4)
    ndvi[6] = 0.6
    # P = 0 in March–July (W_ε = 0.5), 500 mm in August–December (P ≫ 1.884·E0: capped 1),
    # 30 mm in the frozen months (E0 = 0 → W_ε = 1, but NPP is 0 there anyway).
    precipitation = np.array([30.0, 30.0] + [0.0] * 5 + [500.0] * 5)
    solar = np.full(12, 400.0)
    out = casa.casa_npp(
        ndvi[:, None, None],
        temperature[:, None, None],
        precipitation[:, None, None],
        solar[:, None, None],
        0.542,
        0.634,
        4.46,
    )
    # FPAR(0.4) = 0.472352 (test above). FPAR(0.6): NDVI (0.577·0.949/0.611 + 0.001) =
    # 0.897196, SR 4: (2.95·0.949/3.41 + 0.001) = 0.821974 → 0.859585.
    fpar_04 = 0.5 * (0.377 * 0.949 / 0.611 + 0.001) + 0.5 * (
        (1.4 / 0.6 - 1.05) * 0.949 / 3.41 + 0.001
    )
    fpar_06 = 0.5 * (0.577 * 0.949 / 0.611 + 0.001) + 0.5 * (2.95 * 0.949 / 3.41 + 0.001)
    t2 = 1.184 / (1 + E2) / (1 + E3)  # every unfrozen month is at Topt
    # ε = T_ε1 (1.0 at Topt 20) · T_ε2 · W_ε · 0.542; NPP = 400·FPAR·0.5·ε
    spring = 400 * fpar_04 * 0.5 * (1.0 * t2 * 0.5 * 0.542)  # March–June
    july = 400 * fpar_06 * 0.5 * (1.0 * t2 * 0.5 * 0.542)
    autumn = 400 * fpar_04 * 0.5 * (1.0 * t2 * 1.0 * 0.542)  # August–December
    expected = np.array([0, 0] + [spring] * 4 + [july] + [autumn] * 5)
    np.testing.assert_allclose(out["npp"][:, 0, 0], expected, rtol=2e-6)
    assert out["annual"][0, 0] == pytest.approx(4 * spring + july + 5 * autumn, rel=2e-6)
    # ≈ 4·25.43 + 46.28 + 5·50.86 = 402.3 gC·m⁻²·yr⁻¹
    assert out["annual"][0, 0] == pytest.approx(402.3, abs=0.1)
    assert out["topt"][0, 0] == 20.0
    np.testing.assert_allclose(out["t_epsilon1"][:, 0, 0], [0, 0] + [1.0] * 10)
    np.testing.assert_allclose(out["w_epsilon"][:, 0, 0], [1, 1] + [0.5] * 5 + [1.0] * 5)
    assert out["npp"].dtype == np.float32


def test_nodata_in_any_month_gives_nodata_everywhere():
    shape = (12, 1, 2)
    ndvi = np.full(shape, 0.5)
    ndvi[3, 0, 1] = np.nan
    out = casa.casa_npp(ndvi, np.full(shape, 15.0), np.full(shape, 60.0), np.full(shape, 300.0),
                        0.5, 0.634, 4.46)  # fmt: skip
    assert np.isfinite(out["annual"][0, 0])
    assert np.isnan(out["annual"][0, 1])
    assert np.isnan(out["npp"][:, 0, 1]).all()
    assert np.isnan(out["w_epsilon"][:, 0, 1]).all()


def test_per_pixel_class_constants():
    shape = (12, 1, 2)
    ndvi = np.full(shape, 0.5)
    out = casa.casa_npp(ndvi, np.full(shape, 15.0), np.full(shape, 60.0), np.full(shape, 300.0),
                        np.array([[0.389, 0.778]]), np.array([[0.634, 0.634]]),
                        np.array([[4.46, 4.46]]))  # fmt: skip
    # NPP is proportional to ε_max: twice ε_max, twice the NPP.
    assert out["annual"][0, 1] == pytest.approx(2 * out["annual"][0, 0], rel=1e-6)


def test_months_left_out_of_an_incomplete_year():
    rng = np.random.default_rng(2)
    month = np.arange(12)[:, None]
    season = np.cos(2 * np.pi * (month - 6) / 12)
    ndvi = (0.45 + 0.25 * season + rng.uniform(-0.05, 0.05, (12, 4))).astype(np.float32)
    temperature = (12 + 12 * season + rng.uniform(-2, 2, (12, 4))).astype(np.float32)
    precipitation = (80 + 40 * season).astype(np.float32) * np.ones((12, 4), np.float32)
    solar = (450 + 250 * season).astype(np.float32) * np.ones((12, 4), np.float32)
    full = casa.casa_npp(ndvi, temperature, precipitation, solar, 0.5, 0.7, 5.0)
    # Every month kept: the same numbers as without the argument.
    same = casa.casa_npp(
        ndvi, temperature, precipitation, solar, 0.5, 0.7, 5.0, months=np.ones(12, bool)
    )
    for key in full:
        np.testing.assert_array_equal(same[key], full[key])
    # March left out (its NDVI all NaN): March's outputs NaN, the annual sum of the others,
    # E0 from the heat index of the 11 other months, Topt unchanged (July's NDVI is highest).
    kept = np.arange(12) != 2
    gap = ndvi.copy()
    gap[2] = np.nan
    part = casa.casa_npp(gap, temperature, precipitation, solar, 0.5, 0.7, 5.0, months=kept)
    assert np.isnan(part["npp"][2]).all()
    np.testing.assert_allclose(part["annual"], part["npp"][kept].sum(axis=0), rtol=1e-6)
    heat = casa.thornthwaite_heat_index(temperature[kept])
    np.testing.assert_allclose(
        part["e0"][kept], casa.thornthwaite_pet(temperature, heat_index=heat)[kept], rtol=1e-6
    )
    np.testing.assert_array_equal(part["topt"], full["topt"])
    with pytest.raises(ValueError, match="no month left"):
        casa.casa_npp(ndvi, temperature, precipitation, solar, 0.5, 0.7, 5.0, months=[False] * 12)


def test_infinite_inputs_are_nodata():
    # One pixel with +Inf solar radiation in May: NoData in every output, like NaN (it used to
    # come out as Inf); the other pixels are unchanged.
    ndvi = np.full((12, 3), 0.5, np.float32)
    temperature = np.full((12, 3), 15.0, np.float32)
    precipitation = np.full((12, 3), 60.0, np.float32)
    solar = np.full((12, 3), 500.0, np.float32)
    reference = casa.casa_npp(ndvi, temperature, precipitation, solar, 0.5, 0.7, 5.0)
    solar[4, 1] = np.inf
    result = casa.casa_npp(ndvi, temperature, precipitation, solar, 0.5, 0.7, 5.0)
    assert np.isnan(result["annual"][1]) and np.isnan(result["npp"][:, 1]).all()
    np.testing.assert_array_equal(result["annual"][[0, 2]], reference["annual"][[0, 2]])

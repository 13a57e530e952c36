"""RUSLE factors against values computed by hand (each comment gives the arithmetic)."""

import math

import numpy as np
import pytest

from mine_eco_plugin.core import rusle


def months(*values):
    return np.array(values, dtype=np.float64).reshape(12, 1)


# --- R ---------------------------------------------------------------------------------------


def test_wischmeier_even_rain():
    # 100 mm every month: P = 1200, Pi²/P = 8.3333; 1.5·log10(8.3333) − 0.8188 = 0.562428;
    # 12 · 1.735 · 10^0.562428 = 12 · 1.735 · 3.65101 = 76.01 US units.
    rain = months(*[100] * 12)
    expected_us = 12 * 1.735 * 10 ** (1.5 * math.log10(100**2 / 1200) - 0.8188)
    assert expected_us == pytest.approx(76.01, abs=0.01)
    assert rusle.erosivity_wischmeier(rain, "us")[0] == pytest.approx(expected_us, rel=1e-12)


def test_wischmeier_si_is_17_02_times_us():
    # The unit trap: SI = 17.02 × US (Foster et al. 1981), not the US number relabelled.
    rain = months(10, 20, 50, 120, 180, 250, 200, 150, 80, 40, 20, 10)
    us = rusle.erosivity_wischmeier(rain, "us")[0]
    si = rusle.erosivity_wischmeier(rain, "si")[0]
    assert si == pytest.approx(17.02 * us, rel=1e-12)
    assert si > 1000 * 1  # an SI R of a wet climate is in the thousands


def test_wischmeier_dry_months_and_no_rain():
    # One wet month of 1200 mm: 1.735 · 10^(1.5·log10(1200) − 0.8188) = 1.735 · 10^3.79996.
    one = months(1200, *[0] * 11)
    expected = 1.735 * 10 ** (1.5 * math.log10(1200.0) - 0.8188)
    assert rusle.erosivity_wischmeier(one, "us")[0] == pytest.approx(expected, rel=1e-12)
    assert rusle.erosivity_wischmeier(months(*[0] * 12), "us")[0] == 0.0
    nodata = months(np.nan, *[10] * 11)
    assert np.isnan(rusle.erosivity_wischmeier(nodata)[0])


def test_renard_freimund_both_branches():
    # F = Σ Pi²/P: 100 mm monthly → F = 12·10000/1200 = 100 ≥ 55:
    # R = 95.77 − 6.081·100 + 0.4770·100² = 4257.67 SI.
    assert rusle.erosivity_renard_freimund(months(*[100] * 12))[0] == pytest.approx(4257.67)
    # 40 mm monthly → F = 40 < 55: R = 0.7397 · 40^1.847 = 673.07 SI (Renard & Freimund 1994,
    # Eq. 13 in SI units; 40^1.847 = 909.92 by hand).
    low = rusle.erosivity_renard_freimund(months(*[40] * 12))[0]
    assert low == pytest.approx(673.07, rel=1e-4)
    assert rusle.erosivity_renard_freimund(months(*[55 - 1e-9] * 12))[0] == pytest.approx(
        1212.0, rel=1e-3
    )
    assert rusle.erosivity_renard_freimund(months(*[100] * 12), "us")[0] == pytest.approx(
        4257.67 / 17.02
    )


def test_renard_freimund_branches_meet_at_55_mm():
    # The lower branch at F → 55⁻ is 0.7397 · 55^1.847 = 1212.0 and the upper one at F = 55 is
    # 95.77 − 334.455 + 1442.925 = 1204.24: within 0.7 % (a tenfold coefficient slip would put
    # them 10× apart).
    below = rusle.erosivity_renard_freimund(months(*[55 - 1e-9] * 12))[0]
    at = rusle.erosivity_renard_freimund(months(*[55] * 12))[0]
    assert at == pytest.approx(1204.24, abs=0.01)
    assert below / at == pytest.approx(1.0, abs=0.007)


def test_r_needs_twelve_months():
    with pytest.raises(ValueError, match="12 monthly"):
        rusle.erosivity_wischmeier(np.ones((11, 1)))


# --- K ---------------------------------------------------------------------------------------


def epic_by_hand(san, sil, cla, c):
    sn1 = 1 - san / 100
    return (
        (0.2 + 0.3 * math.exp(-0.0256 * san * (1 - sil / 100)))
        * (sil / (cla + sil)) ** 0.3
        * (1 - 0.25 * c / (c + math.exp(3.72 - 2.95 * c)))
        * (1 - 0.7 * sn1 / (sn1 + math.exp(-5.51 + 22.9 * sn1)))
    )


def test_epic_k_hand_computed():
    # Loam 40/40/20 % with 1.5 % organic carbon: 0.36229 · 0.88541 · 0.81195 · 0.99989
    # = 0.26043 (US) → × 0.1317 = 0.034299 (SI).
    k_us = rusle.erodibility_epic(40.0, 40.0, 20.0, 1.5, unit="us")
    assert k_us == pytest.approx(epic_by_hand(40, 40, 20, 1.5), rel=1e-12)
    assert k_us == pytest.approx(0.26043, abs=5e-5)
    assert rusle.erodibility_epic(40.0, 40.0, 20.0, 1.5) == pytest.approx(0.1317 * k_us)


def test_epic_k_exponent_signs():
    # The sign trap: K falls with organic carbon and with sand (coarse fraction, high SAN).
    low_carbon = rusle.erodibility_epic(30.0, 50.0, 20.0, 0.5)
    high_carbon = rusle.erodibility_epic(30.0, 50.0, 20.0, 3.0)
    assert high_carbon < low_carbon
    assert rusle.erodibility_epic(90.0, 5.0, 5.0, 1.0) < rusle.erodibility_epic(
        20.0, 60.0, 20.0, 1.0
    )


def test_epic_k_china_correction():
    # Zhang et al.: K = (−0.01383 + 0.51575 · K_EPIC) · 0.1317 with K_EPIC in US units.
    k_epic = epic_by_hand(40, 40, 20, 1.5)
    expected = (-0.01383 + 0.51575 * k_epic) * 0.1317
    assert rusle.erodibility_epic(40.0, 40.0, 20.0, 1.5, china=True) == pytest.approx(expected)


def test_fractions_must_sum_to_100():
    rusle.check_fractions(np.array([40.0]), np.array([40.0]), np.array([22.0]), 5.0)
    with pytest.raises(rusle.FractionError, match=r"1 pixel\(s\).*0\.80"):
        rusle.check_fractions(np.array([0.4, 40]), np.array([0.2, 40]), np.array([0.2, 20]), 5.0)
    rusle.check_fractions(np.array([np.nan]), np.array([1.0]), np.array([1.0]), 5.0)


def test_epic_nodata_where_no_silt_or_clay():
    assert np.isnan(rusle.erodibility_epic(100.0, 0.0, 0.0, 1.0))


# --- LS --------------------------------------------------------------------------------------


def test_s_chinese_scheme_and_its_jump_at_10_degrees():
    theta = np.array([3.0, 7.0, 9.999, 10.0])
    s = rusle.steepness_factor(theta, "china")
    sin = np.sin(np.radians(theta))
    # 3°: 10.8·0.052336 + 0.03 = 0.5952; 7°: 16.8·0.121869 − 0.5 = 1.5474; 10°: 21.91·0.173648
    # − 0.96 = 2.8446, up from 2.417 just below.
    assert s[0] == pytest.approx(10.8 * sin[0] + 0.03)
    assert s[1] == pytest.approx(16.8 * sin[1] - 0.5)
    assert s[2] == pytest.approx(2.417, abs=1e-3)
    assert s[3] == pytest.approx(2.8446, abs=1e-4)


def test_s_mccool_breaks_at_9_percent():
    # 9 % is 5.143°: 5° (8.75 %) is still the gentle branch, 5.2° the steep one.
    s = rusle.steepness_factor(np.array([5.0, 5.2, 12.0]), "mccool")
    sin = np.sin(np.radians([5.0, 5.2, 12.0]))
    assert s[0] == pytest.approx(10.8 * sin[0] + 0.03)
    assert s[1] == pytest.approx(16.8 * sin[1] - 0.5)
    assert s[2] == pytest.approx(16.8 * sin[2] - 0.5)
    liu = rusle.steepness_factor(np.array([12.0]), "mccool_liu")
    assert liu[0] == pytest.approx(21.91 * sin[2] - 0.96)


def test_m_by_slope_class():
    # Percent: 0.5 % → 0.2, 2 % → 0.3, 4 % → 0.4, 10 % → 0.5; degrees: 2° → 0.3, 6° → 0.5.
    percent = np.degrees(np.arctan(np.array([0.005, 0.02, 0.04, 0.10])))
    assert rusle.slope_length_exponent(percent, "percent").tolist() == [0.2, 0.3, 0.4, 0.5]
    assert rusle.slope_length_exponent(np.array([2.0, 6.0]), "degrees").tolist() == [0.3, 0.5]
    # McCool at 9 %: β = (sin θ/0.0896)/(3 sin^0.8 θ + 0.56) ≈ 1.0/(3·0.1455 + 0.56) = 1.0048,
    # m = β/(1 + β) ≈ 0.501.
    nine = np.degrees(np.arctan(0.09))
    assert rusle.slope_length_exponent(np.array([nine]), "mccool")[0] == pytest.approx(
        0.501, abs=0.002
    )


def test_l_from_accumulation_and_desmet_govers():
    theta = np.array([10.0])  # m = 0.5
    # λ = 10 cells · 30 m = 300 m: L = (300/22.13)^0.5 = 3.6820.
    assert rusle.length_factor(np.array([10.0]), theta, 30.0)[0] == pytest.approx(3.6820, 1e-4)
    assert rusle.length_factor(np.array([10.0]), theta, 30.0, max_length=100.0)[0] == pytest.approx(
        math.sqrt(100 / 22.13)
    )
    # Desmet & Govers, one cell (A_in = 0), aspect north (x = 1): L = (D/22.13)^m = 1.1643.
    dg = rusle.length_factor(
        np.array([1.0]), theta, 30.0, l_method="desmet_govers", aspect_rad=np.array([0.0])
    )
    assert dg[0] == pytest.approx(math.sqrt(30 / 22.13))


def test_horn_slope_of_a_plane():
    # z rises 1 m per 30 m eastward and 2 m per 30 m southward: tan θ = √(1² + 2²)/30.
    rows, cols = np.mgrid[0:5, 0:5]
    z = cols * 1.0 + rows * 2.0
    theta = rusle.slope_degrees(z, 30.0, 30.0)
    assert theta == pytest.approx(np.degrees(np.arctan(math.sqrt(5) / 30)))


# --- C and P ---------------------------------------------------------------------------------


def test_cai_branches_meet_at_78_3_percent():
    c = rusle.cover_cai(np.array([0.0, 0.5, 0.783, 0.7831, 1.0, np.nan]))
    # 50 %: 0.6508 − 0.3436·log10(50) = 0.06703; 78.3 %: 0.6508 − 0.3436·1.89376 = 0.00011.
    assert c[0] == 1.0
    assert c[1] == pytest.approx(0.6508 - 0.3436 * math.log10(50))
    assert c[2] == pytest.approx(0.0001, abs=5e-5)
    assert c[3] == 0.0 and c[4] == 0.0
    assert np.isnan(c[5])
    assert rusle.cover_cai(np.array([1e-5]))[0] == 1.0  # clipped: f → 0 would exceed 1


def test_van_der_knijff():
    c = rusle.cover_van_der_knijff(np.array([0.5, 0.0, 1.0, -0.2]))
    # NDVI 0.5: exp(−2·0.5/0.5) = e^−2 = 0.135335; NDVI 0 → 1; NDVI ≥ 1 → 0; negative → clipped 1.
    assert c.tolist() == pytest.approx([math.exp(-2), 1.0, 0.0, 1.0])


def test_p_lookup_lists_unknown_codes():
    table = {1: 0.35, 2: 1.0}
    assert rusle.lookup(np.array([1.0, 2.0, np.nan]), table)[:2].tolist() == [0.35, 1.0]
    with pytest.raises(rusle.UnknownCodes, match="3, 7"):
        rusle.lookup(np.array([1.0, 7.0, 3.0, 7.0]), table)


# --- A and classes ---------------------------------------------------------------------------


def test_soil_loss_product():
    assert rusle.soil_loss(4000.0, 0.03, 2.0, 0.1, 0.5) == pytest.approx(12.0)


def test_sl190_classes():
    classes = rusle.ErosionClasses.sl190(500.0)
    # t/ha × 100 = t/km²: 4.99 → 499 slight; 5 → 500 light; 24.99 light; 25 moderate;
    # 50 intense; 80 very intense; 150 severe.
    a = np.array([0.0, 4.99, 5.0, 24.99, 25.0, 50.0, 80.0, 150.0, np.nan])
    assert classes.classify(a).tolist() == [1, 1, 2, 2, 3, 4, 5, 6, 0]
    assert classes.labels()[0].startswith("Slight (0–500")
    assert classes.labels()[-1].startswith("Severe (≥ 15000")
    loess = rusle.ErosionClasses.sl190(1000.0)
    assert loess.classify(np.array([9.0]))[0] == 1
    with pytest.raises(ValueError, match="increase"):
        rusle.ErosionClasses.sl190(3000.0)

"""Spectral kernels: hand-computed values, NaN propagation, division by zero, coefficient traps."""

from fractions import Fraction

import numpy as np
import pytest

from mine_eco_plugin.core.spectral import (
    TASSELED_CAP_SETS,
    TasseledCapSet,
    albedo_liang,
    bare_soil_index,
    index_based_builtup_index,
    ndbsi,
    ndmvi,
    ndvi,
    normalized_difference,
    tasseled_cap,
    vegetation_cover,
)

NAN = np.nan


# Kernels must not warn: every test turns warnings into errors (conftest.py).
pytestmark = pytest.mark.usefixtures("warnings_are_errors")


def f32(*values):
    return np.array(values, dtype=np.float32)


# --- normalised differences --------------------------------------------------------------------


def test_normalized_difference_hand_values():
    # (0.5 − 0.1)/(0.5 + 0.1) = 0.4/0.6 = 0.6667; (0.2 − 0.2)/0.4 = 0; (0.1 − 0.3)/0.4 = −0.5
    result = normalized_difference(f32(0.5, 0.2, 0.1), f32(0.1, 0.2, 0.3))
    np.testing.assert_allclose(result, [0.666667, 0.0, -0.5], rtol=1e-6)
    assert result.dtype == np.float32


def test_normalized_difference_zero_sum_and_nan():
    # a + b == 0 → NaN (0/0 and 1/0 alike); NaN in either input → NaN
    result = normalized_difference(f32(0.0, 0.3, NAN, 0.4), f32(0.0, -0.3, 0.2, NAN))
    assert np.isnan(result).all()


def test_ndvi_red_nir_order():
    # NDVI of red 0.1, NIR 0.5 = (0.5 − 0.1)/(0.5 + 0.1) = 0.4/0.6 = 0.6667
    assert float(ndvi(0.1, 0.5)) == pytest.approx(0.666667, rel=1e-6)
    # swapping the bands flips the sign: the argument order is (red, nir)
    assert float(ndvi(0.5, 0.1)) == pytest.approx(-0.666667, rel=1e-6)


def test_ndvi_keeps_shape_and_nan():
    red = np.full((2, 3), 0.1, dtype=np.float32)
    nir = np.full((2, 3), 0.5, dtype=np.float32)
    red[1, 2] = NAN
    result = ndvi(red, nir)
    assert result.shape == (2, 3) and result.dtype == np.float32
    assert np.isnan(result[1, 2]) and np.isfinite(result[0]).all()


def test_ndmvi_hand_value():
    # red 0.1, NIR 0.5, Rmin 0.02, NIRmin 0.05:
    # [(0.5 − 0.1) + (0.02 − 0.05)] / [(0.5 + 0.1) − (0.02 + 0.05)] = 0.37/0.53 = 0.698113
    assert float(ndmvi(0.1, 0.5, 0.02, 0.05)) == pytest.approx(0.698113, rel=1e-6)


def test_ndmvi_with_zero_minima_is_ndvi():
    red, nir = f32(0.1, 0.2), f32(0.5, 0.3)
    np.testing.assert_allclose(ndmvi(red, nir, 0.0, 0.0), ndvi(red, nir))


def test_ndmvi_zero_denominator_and_nan():
    # (0.5 + 0.25) − (0.5 + 0.25) = 0 → NaN (binary-exact values); NaN red → NaN
    result = ndmvi(f32(0.25, NAN), f32(0.5, 0.5), 0.5, 0.25)
    assert np.isnan(result).all()


def test_ndmvi_at_and_next_to_the_scene_minima_is_exact():
    # float32 bands at the minima Rmin = f32(0.1), NIRmin = f32(0.3): both at their minimum
    # → 0 / 0 → NaN; red one float32 step u above Rmin (NIR at NIRmin) → numerator
    # (NIRmin − Rmin − u) + (Rmin − NIRmin) = −u, denominator u → −1 exactly. The band sum
    # rounded to float32 (ulp 3e-8 at 0.4, u = 7.5e-9) gave NaN/−0.5 with numpy 1.24 and
    # −1/−0.33 with numpy 2. Third pixel: red 0.12, NIR 0.5 → (0.38 − 0.2)/(0.62 − 0.4) = 0.8182.
    red_min, nir_min = np.float32(0.1), np.float32(0.3)
    red = np.array([red_min, np.nextafter(red_min, np.float32(1)), 0.12], dtype=np.float32)
    nir = np.array([nir_min, nir_min, 0.5], dtype=np.float32)
    result = ndmvi(red, nir, float(red_min), float(nir_min))
    assert result.dtype == np.float32
    assert np.isnan(result[0])
    assert result[1] == -1.0
    assert result[2] == pytest.approx(0.18 / 0.22, rel=1e-6)


# --- fractional vegetation cover ---------------------------------------------------------------


def test_vegetation_cover_hand_values_and_clipping():
    # (S − 0.1)/(0.7 − 0.1): 0.1 → 0; 0.3 → 0.2/0.6 = 0.3333; 0.5 → 0.4/0.6 = 0.6667;
    # 0.9 → 1.3333 clipped to 1; −0.2 → −0.5 clipped to 0; NaN → NaN
    result = vegetation_cover(f32(0.1, 0.3, 0.5, 0.9, -0.2, NAN), 0.1, 0.7)
    np.testing.assert_allclose(result[:5], [0.0, 1 / 3, 2 / 3, 1.0, 0.0], atol=1e-6)
    assert np.isnan(result[5])
    assert result.dtype == np.float32


@pytest.mark.parametrize("soil, veg", [(0.7, 0.1), (0.5, 0.5), (0.1, NAN)])
def test_vegetation_cover_rejects_bad_thresholds(soil, veg):
    with pytest.raises(ValueError):
        vegetation_cover(f32(0.3), soil, veg)


# --- tasseled cap ------------------------------------------------------------------------------


def test_tasseled_cap_sets_order_and_keys():
    assert list(TASSELED_CAP_SETS) == [
        "tm_crist_1985",
        "tm_crist_cicone_1984",
        "etm_huang_2002",
        "oli_baig_2014",
    ]
    for key, table in TASSELED_CAP_SETS.items():
        assert table.key == key
        assert table.input in ("reflectance", "DN")
        assert table.label and table.citation


def test_tasseled_cap_traps_crist_1985():
    # Crist (1985) Table 1: wetness band 5 is −0.6806, greenness band 5 is −0.0002,
    # brightness band 7 is +0.2303 (each printed with the wrong sign somewhere in public code)
    crist = TASSELED_CAP_SETS["tm_crist_1985"]
    assert crist.wetness[4] == -0.6806
    assert crist.greenness[4] == -0.0002
    assert crist.brightness[5] == 0.2303
    assert crist.input == "reflectance"


def test_tasseled_cap_seed_brightness_rows():
    # The resilience study, Eq. 9 (TM, Crist & Cicone 1984) and Eq. 10 (OLI, Baig et al. 2014)
    tm = TASSELED_CAP_SETS["tm_crist_cicone_1984"]
    oli = TASSELED_CAP_SETS["oli_baig_2014"]
    assert tm.brightness == (0.3037, 0.2793, 0.4743, 0.5585, 0.5082, 0.1863)
    assert oli.brightness == (0.3029, 0.2786, 0.4733, 0.5599, 0.508, 0.1872)


# The full tables as checked against independent copies (see the comment in spectral.py).
EXPECTED_TABLES = {
    "tm_crist_1985": (
        (0.2043, 0.4158, 0.5524, 0.5741, 0.3124, 0.2303),
        (-0.1603, -0.2819, -0.4934, 0.7940, -0.0002, -0.1446),
        (0.0315, 0.2021, 0.3102, 0.1594, -0.6806, -0.6109),
    ),
    "tm_crist_cicone_1984": (
        (0.3037, 0.2793, 0.4743, 0.5585, 0.5082, 0.1863),
        (-0.2848, -0.2435, -0.5436, 0.7243, 0.0840, -0.1800),
        (0.1509, 0.1973, 0.3279, 0.3406, -0.7112, -0.4572),
    ),
    "etm_huang_2002": (
        (0.3561, 0.3972, 0.3904, 0.6966, 0.2286, 0.1596),
        (-0.3344, -0.3544, -0.4556, 0.6966, -0.0242, -0.2630),
        (0.2626, 0.2141, 0.0926, 0.0656, -0.7629, -0.5388),
    ),
    "oli_baig_2014": (
        (0.3029, 0.2786, 0.4733, 0.5599, 0.5080, 0.1872),
        (-0.2941, -0.2430, -0.5424, 0.7276, 0.0713, -0.1608),
        (0.1511, 0.1973, 0.3283, 0.3407, -0.7117, -0.4559),
    ),
}


@pytest.mark.parametrize("key", list(EXPECTED_TABLES))
def test_tasseled_cap_full_tables(key):
    table = TASSELED_CAP_SETS[key]
    assert (table.brightness, table.greenness, table.wetness) == EXPECTED_TABLES[key]


def test_tasseled_cap_wetness_signs():
    # In every table the SWIR bands pull wetness down and NIR pushes greenness up.
    for table in TASSELED_CAP_SETS.values():
        assert table.wetness[4] < 0 and table.wetness[5] < 0
        assert table.greenness[3] > 0 and table.greenness[2] < 0


def test_tasseled_cap_uniform_stack():
    # All six bands 0.1 under Crist (1985): 0.1 × row sums
    # brightness 0.2043 + 0.4158 + 0.5524 + 0.5741 + 0.3124 + 0.2303 = 2.2893 → 0.22893
    # greenness −0.1603 − 0.2819 − 0.4934 + 0.7940 − 0.0002 − 0.1446 = −0.2864 → −0.02864
    # wetness 0.0315 + 0.2021 + 0.3102 + 0.1594 − 0.6806 − 0.6109 = −0.5883 → −0.05883
    stack = np.full((6, 2, 3), 0.1, dtype=np.float32)
    result = tasseled_cap(stack, TASSELED_CAP_SETS["tm_crist_1985"])
    assert result.shape == (3, 2, 3) and result.dtype == np.float32
    np.testing.assert_allclose(result[:, 0, 0], [0.22893, -0.02864, -0.05883], rtol=1e-5)


def test_tasseled_cap_swir1_only_pixel():
    # Only SWIR1 = 0.5: brightness 0.5 × 0.3124 = 0.1562, greenness 0.5 × −0.0002 = −0.0001,
    # wetness 0.5 × −0.6806 = −0.3403 (the sign traps show up here)
    stack = np.zeros((6, 1, 1), dtype=np.float32)
    stack[4] = 0.5
    result = tasseled_cap(stack, TASSELED_CAP_SETS["tm_crist_1985"])
    np.testing.assert_allclose(result[:, 0, 0], [0.1562, -0.0001, -0.3403], rtol=1e-5)


@pytest.mark.parametrize("key", sorted(TASSELED_CAP_SETS))
def test_tasseled_cap_is_the_float32_rounding_of_the_exact_sum(key):
    # Expected: the exact sum of the published coefficients (as float64) × the float32 bands, in
    # rational arithmetic (fractions.Fraction); the result must be the float32 nearest to it: off
    # by at most half a float32 step (plus 1e-6 of it, room for the float64 rounding of a sum a
    # hair from a tie). A float32 matrix product missed it by a whole step at some pixels, at
    # different pixels on numpy 1.24 (Debian 12) and numpy 2.2 (Debian 13, another BLAS build):
    # up to 2.4e-7 apart in the golden outputs.
    table = TASSELED_CAP_SETS[key]
    scale = 255.0 if table.input == "DN" else 0.6
    stack = np.random.default_rng(7).uniform(0, scale, (6, 30, 40)).astype(np.float32)
    result = tasseled_cap(stack, table)
    assert result.dtype == np.float32
    pixels = [[Fraction(float(v)) for v in pixel] for pixel in stack.reshape(6, -1).T]
    for row, component in zip(table.matrix().tolist(), result.reshape(3, -1), strict=True):
        coefficients = [Fraction(c) for c in row]
        sums = (sum(c * v for c, v in zip(coefficients, pixel, strict=True)) for pixel in pixels)
        exact = np.array([float(total) for total in sums])
        half_step = np.spacing(np.abs(component)).astype(np.float64) / 2
        error = np.abs(component.astype(np.float64) - exact)
        assert (error <= half_step * (1 + 1e-6)).all(), error.max() / half_step.max()


def test_tasseled_cap_nan_in_one_band_blanks_all_components():
    stack = np.full((6, 2, 2), 0.2, dtype=np.float32)
    stack[5, 0, 1] = NAN
    result = tasseled_cap(stack, TASSELED_CAP_SETS["oli_baig_2014"])
    assert np.isnan(result[:, 0, 1]).all()
    assert np.isfinite(result[:, 0, 0]).all() and np.isfinite(result[:, 1]).all()


def test_tasseled_cap_rejects_wrong_band_count():
    with pytest.raises(ValueError):
        tasseled_cap(np.zeros((5, 2, 2)), TASSELED_CAP_SETS["oli_baig_2014"])


def test_tasseled_cap_set_validates():
    with pytest.raises(ValueError):
        TasseledCapSet("x", "x", "x", "radiance", (0,) * 6, (0,) * 6, (0,) * 6)
    with pytest.raises(ValueError):
        TasseledCapSet("x", "x", "x", "DN", (0,) * 5, (0,) * 6, (0,) * 6)


# --- albedo ------------------------------------------------------------------------------------


def test_albedo_liang_hand_value():
    # 0.356·0.05 + 0.130·0.08 + 0.373·0.3 + 0.085·0.2 + 0.072·0.1 − 0.0018
    # = 0.0178 + 0.0104 + 0.1119 + 0.017 + 0.0072 − 0.0018 = 0.1625; / 1.016 = 0.159941
    args = (f32(0.05), f32(0.08), f32(0.3), f32(0.2), f32(0.1))
    assert float(albedo_liang(*args)[0]) == pytest.approx(0.159941, rel=1e-5)
    assert float(albedo_liang(*args, normalised=False)[0]) == pytest.approx(0.1625, rel=1e-5)


def test_albedo_liang_uniform_reflectance():
    # all bands 0.1: (0.1 × 1.016 − 0.0018)/1.016 = 0.0998/1.016 = 0.098228
    band = np.full((2, 2), 0.1, dtype=np.float32)
    result = albedo_liang(band, band, band, band, band)
    assert result.shape == (2, 2) and result.dtype == np.float32
    np.testing.assert_allclose(result, 0.098228, rtol=1e-5)


def test_albedo_liang_nan():
    result = albedo_liang(f32(0.1, 0.1), f32(0.1, NAN), f32(0.1, 0.1), f32(0.1, 0.1), f32(0.1, 0.1))
    assert np.isfinite(result[0]) and np.isnan(result[1])


# --- dryness (NDBSI) ---------------------------------------------------------------------------


def test_ndbsi_hand_value():
    # blue 0.1, green 0.12, red 0.15, NIR 0.2, SWIR1 0.3:
    # SI = [(0.3 + 0.15) − (0.2 + 0.1)] / [(0.3 + 0.15) + (0.2 + 0.1)] = 0.15/0.75 = 0.2
    # IBI: 2·0.3/(0.3 + 0.2) = 1.2; 0.2/(0.2 + 0.15) + 0.12/(0.12 + 0.3) = 0.571429 + 0.285714
    #      = 0.857143; IBI = (1.2 − 0.857143)/(1.2 + 0.857143) = 0.342857/2.057143 = 0.166667
    # NDBSI = (0.2 + 0.166667)/2 = 0.183333
    bands = (f32(0.1), f32(0.12), f32(0.15), f32(0.2), f32(0.3))
    assert float(bare_soil_index(bands[0], bands[2], bands[3], bands[4])[0]) == pytest.approx(
        0.2, rel=1e-5
    )
    assert float(index_based_builtup_index(*bands[1:])[0]) == pytest.approx(0.166667, rel=1e-5)
    assert float(ndbsi(*bands)[0]) == pytest.approx(0.183333, rel=1e-5)


def test_ndbsi_vegetated_pixel_is_negative():
    # blue 0.05, green 0.08, red 0.1, NIR 0.3, SWIR1 0.25: SI = 0/0.7 = 0;
    # IBI = (0.909091 − (0.75 + 0.242424)) / (0.909091 + 0.992424) = −0.043825; NDBSI = −0.021912
    result = ndbsi(f32(0.05), f32(0.08), f32(0.1), f32(0.3), f32(0.25))
    assert float(result[0]) == pytest.approx(-0.021912, rel=1e-4)


def test_ndbsi_zero_division_and_nan():
    zeros = f32(0.0, 0.1)
    nan_second = f32(0.1, NAN)
    # all bands 0 → every ratio is 0/0 → NaN; a NaN band → NaN
    assert np.isnan(ndbsi(zeros[:1], zeros[:1], zeros[:1], zeros[:1], zeros[:1])).all()
    result = ndbsi(f32(0.1, 0.1), f32(0.1, 0.1), f32(0.1, 0.1), f32(0.2, 0.2), nan_second)
    assert np.isfinite(result[0]) and np.isnan(result[1])

"""Thermal kernels: brightness temperature, emissivity branches, LST round trip."""

import math

import numpy as np
import pytest

from mine_eco_plugin.core.thermal import (
    KELVIN_OFFSET,
    THERMAL_SENSORS,
    brightness_temperature,
    emissivity_from_ndvi,
    land_surface_temperature,
    planck_radiance,
)

NAN = np.nan
L8 = THERMAL_SENSORS["landsat8_b10"]


# Kernels must not warn: every test turns warnings into errors (conftest.py).
pytestmark = pytest.mark.usefixtures("warnings_are_errors")


def f32(*values):
    return np.array(values, dtype=np.float32)


def test_kelvin_offset():
    assert KELVIN_OFFSET == 273.15


def test_thermal_sensors_constants():
    expected = {
        # key: (K1, K2, soil intercept, soil slope)
        "landsat8_b10": (774.8853, 1321.0789, 0.973, 0.047),
        "landsat9_b10": (799.0284, 1329.2405, 0.973, 0.047),
        "tm5_b6": (607.76, 1260.56, 0.979, 0.035),
        "etm7_b6": (666.09, 1282.71, 0.979, 0.035),
        "tm4_b6": (671.62, 1284.30, 0.979, 0.035),
    }
    assert list(THERMAL_SENSORS) == list(expected)
    for key, (k1, k2, intercept, slope) in expected.items():
        sensor = THERMAL_SENSORS[key]
        assert sensor.key == key and sensor.label
        assert (sensor.k1, sensor.k2, sensor.soil_intercept, sensor.soil_slope) == (
            k1,
            k2,
            intercept,
            slope,
        )


# --- brightness temperature --------------------------------------------------------------------


def test_brightness_temperature_known_radiance():
    # Landsat 8 B10, L = 10 W·m⁻²·sr⁻¹·µm⁻¹: ln(774.8853/10 + 1) = ln(78.48853) = 4.3629525,
    # T = 1321.0789/4.3629525 = 302.7947 K
    assert float(brightness_temperature(10.0, L8.k1, L8.k2)) == pytest.approx(302.7947, abs=1e-3)
    # TM5 B6, L = 10: 1260.56/ln(607.76/10 + 1) = 1260.56/4.12339 = 305.7004 K
    tm5 = THERMAL_SENSORS["tm5_b6"]
    assert float(brightness_temperature(10.0, tm5.k1, tm5.k2)) == pytest.approx(305.7004, abs=1e-3)


def test_brightness_temperature_nonpositive_and_nan():
    result = brightness_temperature(f32(0.0, -1.0, NAN, 10.0), L8.k1, L8.k2)
    assert np.isnan(result[:3]).all() and np.isfinite(result[3])
    assert result.dtype == np.float32


def test_planck_round_trip():
    temperatures = f32(250.0, 300.0, 330.0)
    radiance = planck_radiance(temperatures, L8.k1, L8.k2)
    np.testing.assert_allclose(
        brightness_temperature(radiance, L8.k1, L8.k2), temperatures, atol=1e-3
    )
    assert np.isnan(planck_radiance(f32(0.0, NAN), L8.k1, L8.k2)).all()


# --- emissivity --------------------------------------------------------------------------------


def test_emissivity_branches_with_red():
    # NDVI 0.6 > 0.5 → 0.99
    # NDVI 0.35: Pv = ((0.35 − 0.2)/0.3)² = 0.25 → 0.004·0.25 + 0.986 = 0.987
    # NDVI 0.1 < 0.2, red 0.2: 0.979 − 0.035·0.2 = 0.972 (TM soil rule, the default)
    result = emissivity_from_ndvi(f32(0.6, 0.35, 0.1), f32(0.05, 0.05, 0.2))
    np.testing.assert_allclose(result, [0.99, 0.987, 0.972], rtol=1e-6)
    assert result.dtype == np.float32


def test_emissivity_soil_without_red_is_constant():
    result = emissivity_from_ndvi(f32(0.1, -0.3), soil_emissivity=0.97)
    np.testing.assert_allclose(result, [0.97, 0.97], rtol=1e-6)


def test_emissivity_landsat8_soil_rule():
    # Yu et al. (2014): 0.973 − 0.047·0.2 = 0.9636
    result = emissivity_from_ndvi(
        f32(0.1), f32(0.2), soil_intercept=L8.soil_intercept, soil_slope=L8.soil_slope
    )
    assert float(result[0]) == pytest.approx(0.9636, rel=1e-6)


def test_emissivity_boundaries():
    # NDVI 0.2 is mixed with Pv = 0 → 0.986 (not the soil value 0.972);
    # NDVI 0.5 is mixed with Pv = 1 → 0.990; just outside each bound the other branch applies
    ndvi = f32(0.2, 0.5, 0.19999, 0.50001)
    red = f32(0.2, 0.2, 0.2, 0.2)
    result = emissivity_from_ndvi(ndvi, red)
    np.testing.assert_allclose(result, [0.986, 0.990, 0.972, 0.99], rtol=1e-6)


def test_emissivity_nan_rules():
    # NaN NDVI → NaN; NaN red used on a soil pixel → NaN; NaN red on a vegetated pixel → unused
    result = emissivity_from_ndvi(f32(NAN, 0.1, 0.7, 0.35), f32(0.1, NAN, NAN, NAN))
    assert np.isnan(result[0]) and np.isnan(result[1])
    np.testing.assert_allclose(result[2:], [0.99, 0.987], rtol=1e-6)


def test_emissivity_keeps_shape():
    ndvi = np.full((3, 4), 0.35, dtype=np.float32)
    assert emissivity_from_ndvi(ndvi).shape == (3, 4)
    assert emissivity_from_ndvi(ndvi, np.full((3, 4), 0.1, dtype=np.float32)).shape == (3, 4)


# --- land surface temperature ------------------------------------------------------------------


def _at_sensor_radiance(temperature, emissivity, tau, upwelling, downwelling, k1, k2):
    """Forward radiative transfer: L = τ·[ε·B(T) + (1 − ε)·L↓] + L↑, B the band Planck function."""
    blackbody = k1 / (math.exp(k2 / temperature) - 1.0)
    return tau * (emissivity * blackbody + (1.0 - emissivity) * downwelling) + upwelling


@pytest.mark.parametrize("key", list(THERMAL_SENSORS))
def test_land_surface_temperature_round_trip(key):
    sensor = THERMAL_SENSORS[key]
    tau, upwelling, downwelling = 0.85, 1.2, 2.0
    temperatures = [285.0, 300.0, 320.0]
    emissivities = [0.99, 0.97, 0.95]
    radiance = f32(
        *(
            _at_sensor_radiance(t, e, tau, upwelling, downwelling, sensor.k1, sensor.k2)
            for t, e in zip(temperatures, emissivities, strict=True)
        )
    )
    result = land_surface_temperature(
        radiance, f32(*emissivities), tau, upwelling, downwelling, sensor.k1, sensor.k2
    )
    np.testing.assert_allclose(result, temperatures, atol=0.01)
    assert result.dtype == np.float32


def test_land_surface_temperature_transparent_black_body_is_brightness_temperature():
    # τ = 1, ε = 1, L↑ = 0: B = L, so Ts equals the brightness temperature (302.7947 K at L = 10)
    result = land_surface_temperature(f32(10.0), f32(1.0), 1.0, 0.0, 5.0, L8.k1, L8.k2)
    assert float(result[0]) == pytest.approx(302.7947, abs=1e-3)


def test_land_surface_temperature_invalid_blackbody_radiance():
    # L = 0.5 < L↑ = 1.0 → B < 0 → NaN; τ·ε = 0 → NaN; NaN radiance or emissivity → NaN
    result = land_surface_temperature(
        f32(0.5, 10.0, NAN, 10.0), f32(0.97, 0.0, 0.97, NAN), 0.9, 1.0, 2.0, L8.k1, L8.k2
    )
    assert np.isnan(result).all()


def test_land_surface_temperature_array_atmosphere():
    # per-pixel τ, L↑, L↓ broadcast like the radiance
    radiance = f32(10.0, 10.0)
    result = land_surface_temperature(
        radiance, f32(1.0, 1.0), f32(1.0, NAN), f32(0.0, 0.0), f32(0.0, 0.0), L8.k1, L8.k2
    )
    assert float(result[0]) == pytest.approx(302.7947, abs=1e-3) and np.isnan(result[1])

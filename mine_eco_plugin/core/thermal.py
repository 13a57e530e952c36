"""Thermal kernels: brightness temperature, emissivity and land surface temperature.

Radiances are at-sensor spectral radiances in W·m⁻²·sr⁻¹·µm⁻¹; temperatures are in kelvin
(subtract ``KELVIN_OFFSET`` for °C). Every function takes numpy arrays (float32 blocks where
NoData is NaN) and returns a float32 array of the same shape; NaN in gives NaN out per pixel,
and physically impossible inputs (non-positive radiance) give NaN without numpy warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "KELVIN_OFFSET",
    "THERMAL_SENSORS",
    "ThermalSensor",
    "brightness_temperature",
    "emissivity_from_ndvi",
    "land_surface_temperature",
    "planck_radiance",
]

KELVIN_OFFSET = 273.15
"""0 °C in kelvin."""


@dataclass(frozen=True)
class ThermalSensor:
    """Calibration constants of one Landsat thermal band and its bare-soil emissivity rule.

    ``k1`` (W·m⁻²·sr⁻¹·µm⁻¹) and ``k2`` (K) are the Planck calibration constants; the bare-soil
    emissivity is ε = soil_intercept − soil_slope·ρred (``emissivity_from_ndvi``).
    """

    key: str
    label: str
    k1: float
    k2: float
    soil_intercept: float
    soil_slope: float


# K1/K2 were checked against the MTL files of the scenes in tests/core/data (L8 B10, TM5 B6,
# ETM+ B6) and, for the others, against independent copies (November 2025):
# * Landsat 9 B10 799.0284 / 1329.2405: several codes that read them from Landsat 9 Collection-2
#   MTL files (LEVEL1_THERMAL_CONSTANTS) agree. One Earth Engine script prints K2 as 1329.0284
#   (a copy of K1's digits): a trap.
# * Landsat 4 TM B6 671.62 / 1284.30: OSGeo/grass imagery/i.landsat.toar/landsat_set.c (set_TM4)
#   and the USGS LEDAPS brightness-temperature code (dn_to_bt) agree.
# Soil rules: ε = 0.979 − 0.035·ρred for TM, Sobrino et al. (2004) Eq. 7; ε = 0.973 − 0.047·ρred
# for TIRS band 10, Yu, Guo and Wu (2014), Remote Sensing 6(10), 9829-9852; the same rule is used
# for Landsat 9 (same band design) and the TM rule for ETM+ and TM4: each rule
# (soil_intercept, soil_slope) is stated once below.
TM_SOIL_RULE = (0.979, 0.035)
TIRS_SOIL_RULE = (0.973, 0.047)

THERMAL_SENSORS: dict[str, ThermalSensor] = {
    sensor.key: sensor
    for sensor in (
        # key, label, K1, K2, bare-soil rule
        ThermalSensor(
            "landsat8_b10", "Landsat 8 TIRS band 10", 774.8853, 1321.0789, *TIRS_SOIL_RULE
        ),
        ThermalSensor(
            "landsat9_b10", "Landsat 9 TIRS-2 band 10", 799.0284, 1329.2405, *TIRS_SOIL_RULE
        ),
        ThermalSensor("tm5_b6", "Landsat 5 TM band 6", 607.76, 1260.56, *TM_SOIL_RULE),
        ThermalSensor("etm7_b6", "Landsat 7 ETM+ band 6", 666.09, 1282.71, *TM_SOIL_RULE),
        ThermalSensor("tm4_b6", "Landsat 4 TM band 6", 671.62, 1284.30, *TM_SOIL_RULE),
    )
}


def _as_float64(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _inverse_planck(radiance: np.ndarray, k1: float, k2: float) -> np.ndarray:
    """K2 / ln(K1/L + 1) in float64, NaN where L <= 0 or L is NaN (no warnings)."""
    valid = radiance > 0.0  # False for NaN
    safe = np.where(valid, radiance, 1.0)
    temperature = k2 / np.log(k1 / safe + 1.0)
    return np.where(valid, temperature, np.nan)


def brightness_temperature(radiance, k1, k2) -> np.ndarray:
    """At-sensor brightness temperature, T = K2 / ln(K1/L + 1), in kelvin.

    L is the spectral radiance (W·m⁻²·sr⁻¹·µm⁻¹), K1 and K2 the band's calibration constants
    (MTL ``K1_CONSTANT_BAND_n``/``K2_CONSTANT_BAND_n``, or ``THERMAL_SENSORS``). Source: the
    inverse Planck function of the USGS Landsat 8 Data Users Handbook ("Conversion to
    at-satellite brightness temperature") and Chander, Markham and Helder (2009), Remote Sensing
    of Environment 113, 893-903. NoData: NaN in L gives NaN; L <= 0 gives NaN.
    """
    radiance = _as_float64(radiance)
    return _inverse_planck(radiance, float(k1), float(k2)).astype(np.float32)


def planck_radiance(temperature, k1, k2) -> np.ndarray:
    """Band radiance of a black body at ``temperature`` (K), L = K1 / (exp(K2/T) − 1).

    The inverse of ``brightness_temperature`` (same constants and units). NoData: NaN in T
    gives NaN; T <= 0 gives NaN.
    """
    temperature = _as_float64(temperature)
    k1 = float(k1)
    k2 = float(k2)
    valid = temperature > 0.0
    safe = np.where(valid, temperature, 1.0)
    with np.errstate(over="ignore"):
        radiance = k1 / np.expm1(k2 / safe)
    return np.where(valid, radiance, np.nan).astype(np.float32)


def emissivity_from_ndvi(
    ndvi,
    red=None,
    *,
    soil_intercept=0.979,
    soil_slope=0.035,
    soil_emissivity=0.97,
    vegetation_emissivity=0.99,
    ndvi_soil=0.2,
    ndvi_vegetation=0.5,
    mixed_slope=0.004,
    mixed_intercept=0.986,
) -> np.ndarray:
    """Land surface emissivity by the NDVI thresholds method (Sobrino et al. 2004).

    * NDVI > 0.5 (``ndvi_vegetation``): ε = ``vegetation_emissivity`` (0.99);
    * 0.2 ≤ NDVI ≤ 0.5: ε = 0.004·Pv + 0.986 (``mixed_slope``, ``mixed_intercept``), with
      Pv = ((NDVI − 0.2) / 0.3)² the vegetation proportion; the constants include the cavity
      term, for TM values ε_v = 0.99, ε_s = 0.97;
    * NDVI < 0.2 (``ndvi_soil``): bare soil, ε = soil_intercept − soil_slope·ρred when ``red``
      is given (0.979 − 0.035·ρred for TM, Sobrino et al. 2004; 0.973 − 0.047·ρred for Landsat 8
      TIRS band 10, Yu et al. 2014; see ``THERMAL_SENSORS``), else the constant
      ``soil_emissivity`` (0.97).

    Sobrino, J. A., Jiménez-Muñoz, J. C., Paolini, L. (2004). Land surface temperature retrieval
    from LANDSAT TM 5. Remote Sensing of Environment, 90(4), 434-440 (the NDVI thresholds
    method). Yu, X., Guo, X., Wu, Z. (2014). Land surface temperature retrieval from Landsat 8
    TIRS. Remote Sensing, 6(10), 9829-9852. Emissivity is
    dimensionless. NoData: NaN in ``ndvi`` gives NaN; NaN in ``red`` gives NaN where the soil
    branch uses it (NDVI < 0.2) and is ignored elsewhere.
    """
    if not ndvi_vegetation > ndvi_soil:
        raise ValueError("emissivity_from_ndvi needs ndvi_vegetation > ndvi_soil")
    ndvi = _as_float64(ndvi)
    if red is None:
        soil = np.full(ndvi.shape, float(soil_emissivity))
    else:
        soil = np.broadcast_to(
            float(soil_intercept) - float(soil_slope) * _as_float64(red), ndvi.shape
        )
    proportion = ((ndvi - ndvi_soil) / (ndvi_vegetation - ndvi_soil)) ** 2
    mixed = float(mixed_slope) * proportion + float(mixed_intercept)
    emissivity = np.where(
        ndvi > ndvi_vegetation,
        float(vegetation_emissivity),
        np.where(ndvi >= ndvi_soil, mixed, soil),
    )
    return np.where(np.isnan(ndvi), np.nan, emissivity).astype(np.float32)


def land_surface_temperature(
    radiance, emissivity, tau, upwelling, downwelling, k1, k2
) -> np.ndarray:
    """Land surface temperature by the radiative transfer equation (resilience study, Eq. 8), in
    kelvin.

    The at-sensor radiance is L = τ·[ε·B(Ts) + (1 − ε)·L↓] + L↑, so

        B(Ts) = [L − L↑ − τ·(1 − ε)·L↓] / (τ·ε),    Ts = K2 / ln(K1 / B(Ts) + 1).

    ``radiance`` L, ``upwelling`` L↑ and ``downwelling`` L↓ in W·m⁻²·sr⁻¹·µm⁻¹ (the atmospheric
    terms and the transmittance ``tau`` τ from, e.g., the NASA atmospheric correction parameter
    calculator, Barsi et al. 2005); ``emissivity`` ε dimensionless; K1, K2 the band's
    calibration constants. Source: the radiative transfer equation as in Sobrino et al. (2004)
    and Yu et al. (2014) (see ``emissivity_from_ndvi`` for the references). All inputs
    may be arrays or scalars. NoData: NaN in any input gives NaN; B <= 0 (or τ·ε == 0) gives NaN.
    """
    radiance = _as_float64(radiance)
    emissivity = _as_float64(emissivity)
    tau = _as_float64(tau)
    upwelling = _as_float64(upwelling)
    downwelling = _as_float64(downwelling)
    numerator = radiance - upwelling - tau * (1.0 - emissivity) * downwelling
    denominator = tau * emissivity
    with np.errstate(divide="ignore", invalid="ignore"):
        blackbody = numerator / denominator
    blackbody = np.where(denominator == 0.0, np.nan, blackbody)
    return _inverse_planck(blackbody, float(k1), float(k2)).astype(np.float32)

"""CASA net primary productivity (Potter et al. 1993; the Chinese variant of Zhu Wenquan et al.
2006/2007), term by term.

Every function takes numpy arrays (monthly stacks are ``(12, rows, cols)``, January first) and
returns arrays; NaN in gives NaN out per pixel. Units: NDVI dimensionless, temperature °C,
precipitation and evapotranspiration mm·month⁻¹, solar radiation MJ·m⁻²·month⁻¹, light-use
efficiency gC·MJ⁻¹, NPP gC·m⁻²·month⁻¹ (annual: gC·m⁻²·yr⁻¹).

The model (the NPP-drivers study's Eq. 2–4)::

    NPP(x, t)  = APAR(x, t) · ε(x, t)
    APAR(x, t) = SOL(x, t) · FPAR(x, t) · 0.5
    ε(x, t)    = T_ε1(x, t) · T_ε2(x, t) · W_ε(x, t) · ε_max

References
----------
Potter, C.S., Randerson, J.T., Field, C.B., Matson, P.A., Vitousek, P.M., Mooney, H.A. & Klooster,
S.A. (1993) Terrestrial ecosystem production: a process model based on global satellite and
surface data. Global Biogeochem. Cycles 7(4), 811–841.
Field, C.B., Randerson, J.T. & Malmström, C.M. (1995) Global net primary production: combining
ecology and remote sensing. Remote Sens. Environ. 51, 74–88.
Zhu Wenquan, Pan Yaozhong, He Hao, Yu Deyong & Hu Haibo (2006) Simulation of maximum light use
efficiency for some typical vegetation types in China. Chinese Science Bulletin 51(4), 457–463.
Zhu Wenquan, Pan Yaozhong & Zhang Jinshui (2007) Estimation of net primary productivity of
Chinese terrestrial vegetation based on remote sensing. J. Plant Ecol. (Chinese Version) 31(3),
413–424.
Zhou Guangsheng & Zhang Xinshi (1995) A natural vegetation NPP model. Acta Phytoecol. Sin.
19(3), 193–200 (the regional evapotranspiration model).
Thornthwaite, C.W. (1948) An approach toward a rational classification of climate. Geogr. Rev.
38(1), 55–94.
Willmott, C.J., Rowe, C.M. & Mintz, Y. (1985) Climatology of the terrestrial seasonal water
cycle. J. Climatol. 5, 589–606 (the quadratic for months ≥ 26.5 °C).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FPAR_MAX",
    "FPAR_MIN",
    "NDVI_MIN",
    "POTTER_EPSILON_MAX",
    "SR_MIN",
    "CasaParameters",
    "apar",
    "casa_npp",
    "fpar",
    "fpar_linear",
    "light_use_efficiency",
    "optimum_temperature",
    "regional_evapotranspiration",
    "simple_ratio",
    "temperature_stress_1",
    "temperature_stress_2",
    "thornthwaite_exponent",
    "thornthwaite_heat_index",
    "thornthwaite_pet",
    "water_stress",
]

#: FPAR bounds of the linear stretches (Potter et al. 1993; Zhu et al. 2006).
FPAR_MIN = 0.001
FPAR_MAX = 0.95
#: NDVI and simple ratio of bare ground (Zhu et al. 2006: 5 % percentile of unvegetated land).
NDVI_MIN = 0.023
SR_MIN = 1.05
#: Potter et al. (1993) global maximum light-use efficiency, gC·MJ⁻¹.
POTTER_EPSILON_MAX = 0.389
#: Normalising constant of T_ε2: Zhu et al. (2007) print 1.184; Potter et al. (1993) and Field
#: et al. (1995) 1.1814.
T_EPSILON2_ZHU = 1.184
T_EPSILON2_POTTER = 1.1814


# --- FPAR ---------------------------------------------------------------------------------


def simple_ratio(ndvi):
    """Simple ratio from NDVI: SR = (1 + NDVI) / (1 − NDVI) (= NIR/red). NDVI = 1 gives +inf."""
    ndvi = np.asarray(ndvi)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1 + ndvi) / (1 - ndvi)


def fpar_linear(value, value_min, value_max, fpar_min=FPAR_MIN, fpar_max=FPAR_MAX):
    """Linear stretch of ``value`` between (value_min, value_max) onto (fpar_min, fpar_max),
    clipped to [fpar_min, fpar_max] (Zhu et al. 2006, Eq. 3–4; Los et al. 2000):

        FPAR = (v − v_min)·(FPAR_max − FPAR_min)/(v_max − v_min) + FPAR_min
    """
    value = np.asarray(value)
    stretched = (value - value_min) * ((fpar_max - fpar_min) / (value_max - value_min)) + fpar_min
    return np.clip(stretched, fpar_min, fpar_max)


def fpar(
    ndvi,
    ndvi_max,
    sr_max,
    *,
    ndvi_min=NDVI_MIN,
    sr_min=SR_MIN,
    fpar_min=FPAR_MIN,
    fpar_max=FPAR_MAX,
    ndvi_weight=0.5,
):
    """FPAR as the weighted mean of the NDVI and SR stretches (Zhu et al. 2006, Eq. 5):

        FPAR = α·FPAR_NDVI + (1 − α)·FPAR_SR,  α = 0.5

    Each stretch is clipped to [FPAR_min, FPAR_max] (default [0.001, 0.95]), so the mean is too.
    ``ndvi_max`` and ``sr_max`` may be arrays (per land-cover class).

    >>> round(float(fpar(0.634, 0.634, 4.46)), 6)   # NDVI at its class maximum → FPAR_max
    0.95
    """
    sr = simple_ratio(ndvi)
    by_ndvi = fpar_linear(ndvi, ndvi_min, ndvi_max, fpar_min, fpar_max)
    with np.errstate(invalid="ignore"):
        by_sr = fpar_linear(sr, sr_min, sr_max, fpar_min, fpar_max)
    return ndvi_weight * by_ndvi + (1 - ndvi_weight) * by_sr


def apar(solar, fpar_values, par_fraction=0.5):
    """Absorbed PAR (MJ·m⁻²·month⁻¹): APAR = SOL · FPAR · 0.5 (Eq. 3; 0.5 = PAR share of the
    global radiation)."""
    return np.asarray(solar) * fpar_values * par_fraction


# --- temperature stresses -----------------------------------------------------------------


def optimum_temperature(ndvi_stack, temperature_stack):
    """Topt: the temperature of the month in which NDVI is highest, per pixel (Potter et al.
    1993). The first such month wins a tie. Stacks are (months, …); a pixel with NaN NDVI in
    every month gets NaN."""
    ndvi_stack = np.asarray(ndvi_stack)
    filled = np.where(np.isnan(ndvi_stack), -np.inf, ndvi_stack)
    month = np.argmax(filled, axis=0)
    topt = np.take_along_axis(np.asarray(temperature_stack), month[np.newaxis], axis=0)[0]
    return np.where(np.isnan(ndvi_stack).all(axis=0), np.nan, topt)


def temperature_stress_1(topt, temperature=None, freezing=-10.0):
    """T_ε1 = 0.8 + 0.02·Topt − 0.0005·Topt² (Potter et al. 1993, Eq. 6), the low-temperature
    (and very-high-Topt) stress.

    With ``temperature`` (the month's mean), T_ε1 = 0 where T ≤ ``freezing`` (−10 °C: no
    photosynthesis, NPP 0; Zhu et al. 2007). Broadcasts Topt (rows, cols) over (months, …).

    >>> round(float(temperature_stress_1(20.0)), 12)   # 0.8 + 0.4 − 0.2 (to float rounding)
    1.0
    """
    topt = np.asarray(topt)
    stress = 0.8 + 0.02 * topt - 0.0005 * topt * topt
    if temperature is None:
        return stress
    temperature = np.asarray(temperature)
    stress = np.broadcast_to(stress, np.broadcast_shapes(stress.shape, temperature.shape))
    return np.where(temperature <= freezing, np.zeros((), stress.dtype), stress)


def _t_epsilon2_raw(temperature, topt, constant):
    with np.errstate(over="ignore"):
        return (
            constant
            / (1 + np.exp(0.2 * (topt - 10 - temperature)))
            / (1 + np.exp(0.3 * (-topt - 10 + temperature)))
        )


def temperature_stress_2(temperature, topt, constant=T_EPSILON2_ZHU, above=10.0, below=13.0):
    """T_ε2, the stress of departing from Topt (Potter et al. 1993, Eq. 7):

        T_ε2 = C / {1 + exp[0.2·(Topt − 10 − T)]} · 1 / {1 + exp[0.3·(−Topt − 10 + T)]}

    C = 1.184 (Zhu et al. 2007) or 1.1814 (Potter et al. 1993; Field et al. 1995). Where
    T > Topt + 10 °C or T < Topt − 13 °C, T_ε2 is half its value at T = Topt (Potter et al.
    1993). At T = Topt: C/(1 + e⁻²)/(1 + e⁻³) = 0.993402 for C = 1.184.
    """
    temperature = np.asarray(temperature)
    topt = np.asarray(topt)
    stress = _t_epsilon2_raw(temperature, topt, constant)
    half = 0.5 * _t_epsilon2_raw(topt, topt, constant)
    outside = (temperature > topt + above) | (temperature < topt - below)
    return np.where(outside, half, stress)


# --- water stress -------------------------------------------------------------------------


def thornthwaite_heat_index(temperature_stack):
    """Annual heat index I = Σ (T_m/5)^1.514 over the 12 months, months with T ≤ 0 °C adding 0
    (Thornthwaite 1948, Eq. 9–10). ``temperature_stack`` is (12, …)."""
    t = np.maximum(np.asarray(temperature_stack), 0)
    return np.sum((t / 5.0) ** 1.514, axis=0)


def thornthwaite_exponent(heat_index):
    """a = 6.75·10⁻⁷·I³ − 7.71·10⁻⁵·I² + 1.792·10⁻²·I + 0.49239 (Thornthwaite 1948)."""
    i = np.asarray(heat_index)
    return ((6.75e-7 * i - 7.71e-5) * i + 1.792e-2) * i + 0.49239


def thornthwaite_pet(temperature_stack, heat_index=None, hot_formula=True):
    """Thornthwaite potential evapotranspiration E0 (mm·month⁻¹) without day-length or
    month-length correction (a standard 30-day month of 12-hour days), as CASA codes use it:

        E0 = 16·(10·T/I)^a          for 0 < T < 26.5 °C
        E0 = −415.85 + 32.24·T − 0.43·T²   for T ≥ 26.5 °C (Willmott et al. 1985's fit to
                                           Thornthwaite's table; ``hot_formula``)
        E0 = 0                       for T ≤ 0 °C, and wherever I = 0

    ``temperature_stack`` is (12, …); I is computed from it unless given.
    """
    t = np.asarray(temperature_stack)
    if heat_index is None:
        heat_index = thornthwaite_heat_index(t)
    heat_index = np.asarray(heat_index)
    a = thornthwaite_exponent(heat_index)
    positive = t > 0
    safe_i = np.where(heat_index > 0, heat_index, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        e0 = 16.0 * (10.0 * np.where(positive, t, 0) / safe_i) ** a
    e0 = np.where(positive & (heat_index > 0), e0, 0)
    if hot_formula:
        e0 = np.where(t >= 26.5, -415.85 + 32.24 * t - 0.43 * t * t, e0)
    return np.where(np.isnan(t), np.nan, e0).astype(np.result_type(t, np.float32), copy=False)


def regional_evapotranspiration(precipitation, e0, rn_coefficient=0.598):
    """Estimated actual evapotranspiration EET (mm·month⁻¹) of Zhou & Zhang's (1995) regional
    model, as used in CASA by Zhu et al. (2007):

        Rn  = √(E0·P)·(0.369 + 0.598·√(E0/P)) = 0.369·√(E0·P) + 0.598·E0
        EET = P·Rn·(P² + Rn² + P·Rn) / [(P + Rn)·(P² + Rn²)]

    Rn is evaluated in the second form, which is finite at P = 0. Explicit limits: P = 0 gives
    EET = 0 (no water to evaporate); E0 = 0 gives Rn = 0 and EET = 0 (no energy). The
    coefficient is 0.598 (0.589 in some code is a typo).
    """
    p = np.asarray(precipitation)
    e0 = np.asarray(e0)
    rn = 0.369 * np.sqrt(e0 * p) + rn_coefficient * e0
    p2, rn2 = p * p, rn * rn
    denominator = (p + rn) * (p2 + rn2)
    with np.errstate(invalid="ignore", divide="ignore"):
        eet = p * rn * (p2 + rn2 + p * rn) / denominator
    return np.where(denominator > 0, eet, np.where(np.isnan(denominator), np.nan, 0))


def water_stress(
    precipitation, e0, *, cap=True, no_demand=1.0, rn_coefficient=0.598, return_terms=False
):
    """W_ε = 0.5 + 0.5·EET/PET with PET = (EET + E0)/2 (Zhu et al. 2007; Potter et al. 1993's
    form with the regional EET model), bounded below by 0.5.

    * P = 0, E0 > 0: EET = 0, W_ε = 0.5 (the largest stress).
    * E0 = 0 (months ≤ 0 °C): no evaporative demand, PET = 0; W_ε = ``no_demand`` (1: no water
      stress).
    * P > 1.884·E0 makes EET > E0 and so W_ε > 1; ``cap`` limits W_ε to 1, the upper end of the
      scalar's range in Potter et al. (1993). Published codes differ (some do not cap).

    Returns W_ε, or (W_ε, EET, PET) with ``return_terms``.
    """
    e0 = np.asarray(e0)
    eet = regional_evapotranspiration(precipitation, e0, rn_coefficient)
    pet = (eet + e0) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        stress = 0.5 + 0.5 * eet / pet
    stress = np.where(pet > 0, stress, np.where(np.isnan(pet), np.nan, no_demand))
    if cap:
        stress = np.minimum(stress, 1.0)
    if return_terms:
        return stress, eet, pet
    return stress


def light_use_efficiency(t_epsilon1, t_epsilon2, w_epsilon, epsilon_max):
    """ε = T_ε1 · T_ε2 · W_ε · ε_max (gC·MJ⁻¹), Eq. 4."""
    return t_epsilon1 * t_epsilon2 * w_epsilon * epsilon_max


# --- the whole model for one block --------------------------------------------------------


@dataclass(frozen=True)
class CasaParameters:
    """Constants of one CASA run (defaults: Zhu et al. 2006/2007)."""

    ndvi_min: float = NDVI_MIN
    sr_min: float = SR_MIN
    fpar_min: float = FPAR_MIN
    fpar_max: float = FPAR_MAX
    ndvi_weight: float = 0.5
    par_fraction: float = 0.5
    t_epsilon2_constant: float = T_EPSILON2_ZHU
    freezing: float = -10.0
    cap_water_stress: bool = True
    no_demand_water_stress: float = 1.0
    hot_formula: bool = True
    rn_coefficient: float = 0.598


def casa_npp(
    ndvi,
    temperature,
    precipitation,
    solar,
    epsilon_max,
    ndvi_max,
    sr_max,
    params=None,
    months=None,
):
    """Monthly NPP and every intermediate for monthly stacks (12, …), in float32.

    ``epsilon_max``, ``ndvi_max`` and ``sr_max`` are per-pixel arrays (…) or scalars. ``solar``
    is in MJ·m⁻²·month⁻¹. Returns a dict with ``npp`` (12, …), ``annual`` (…), ``fpar``,
    ``apar``, ``epsilon``, ``t_epsilon1``, ``t_epsilon2``, ``w_epsilon``, ``e0``, ``eet`` (12, …)
    and ``topt`` (…). NaN (or ±Inf) anywhere in a pixel's inputs makes all its outputs NaN.

    ``months`` (12 booleans, default all True) leaves months out of an incomplete year: their
    inputs are ignored and their outputs NaN, Topt is taken among the other months, the
    Thornthwaite heat index I sums the other months only (so E0 of the year's other months is
    that of a year without them), and ``annual`` sums the months kept. NaN in a kept month
    still makes the pixel NaN.
    """
    p = params or CasaParameters()
    ndvi = np.asarray(ndvi, dtype=np.float32)
    temperature = np.asarray(temperature, dtype=np.float32)
    precipitation = np.asarray(precipitation, dtype=np.float32)
    solar = np.asarray(solar, dtype=np.float32)
    f32 = np.float32
    kept = np.ones(ndvi.shape[0], dtype=bool) if months is None else np.asarray(months, bool)
    if not kept.any():
        raise ValueError("no month left to compute NPP for")
    if not kept.all():
        stacks = []
        for stack in (ndvi, temperature, precipitation, solar):
            stack = stack.copy()
            stack[~kept] = np.nan
            stacks.append(stack)
        ndvi, temperature, precipitation, solar = stacks
    # ±Inf is no measurement either: NoData like NaN (it would otherwise reach the outputs).
    invalid = (
        ~np.isfinite(ndvi[kept]).all(axis=0)
        | ~np.isfinite(temperature[kept]).all(axis=0)
        | ~np.isfinite(precipitation[kept]).all(axis=0)
        | ~np.isfinite(solar[kept]).all(axis=0)
        | ~np.isfinite(np.asarray(epsilon_max, dtype=np.float32))
    )
    fpar_values = fpar(
        ndvi,
        f32(ndvi_max) if np.isscalar(ndvi_max) else np.asarray(ndvi_max, np.float32),
        f32(sr_max) if np.isscalar(sr_max) else np.asarray(sr_max, np.float32),
        ndvi_min=f32(p.ndvi_min),
        sr_min=f32(p.sr_min),
        fpar_min=f32(p.fpar_min),
        fpar_max=f32(p.fpar_max),
        ndvi_weight=f32(p.ndvi_weight),
    )
    absorbed = apar(solar, fpar_values, f32(p.par_fraction))
    topt = optimum_temperature(ndvi, temperature)
    t1 = temperature_stress_1(topt, temperature, p.freezing).astype(np.float32, copy=False)
    t2 = temperature_stress_2(temperature, topt, f32(p.t_epsilon2_constant))
    e0 = thornthwaite_pet(
        temperature,
        heat_index=thornthwaite_heat_index(temperature[kept]),
        hot_formula=p.hot_formula,
    )
    w, eet, _ = water_stress(
        precipitation,
        e0,
        cap=p.cap_water_stress,
        no_demand=p.no_demand_water_stress,
        rn_coefficient=f32(p.rn_coefficient),
        return_terms=True,
    )
    epsilon = light_use_efficiency(t1, t2, w.astype(np.float32, copy=False), epsilon_max)
    npp = absorbed * epsilon
    results = {
        "npp": npp,
        "fpar": fpar_values,
        "apar": absorbed,
        "epsilon": epsilon,
        "t_epsilon1": t1,
        "t_epsilon2": t2,
        "w_epsilon": w,
        "e0": e0,
        "eet": eet,
        "topt": topt,
    }
    out = {}
    for name, values in results.items():
        values = np.asarray(values, dtype=np.float32)
        out[name] = np.where(invalid, np.float32(np.nan), values)
    out["annual"] = np.where(
        invalid, np.float32(np.nan), out["npp"][kept].sum(axis=0, dtype=np.float64)
    )
    out["annual"] = out["annual"].astype(np.float32)
    return out

"""RUSLE factors, pixel by pixel: A = R·K·LS·C·P (t·ha⁻¹·yr⁻¹) and erosion-intensity classes.

Pure numpy functions of arrays (NaN = NoData in, NaN out). The flow routing behind LS, which is
global rather than per pixel, lives in ``rusle_flow``; this module turns its accumulation and the
DEM's slope into L and S.

Units: R in MJ·mm·ha⁻¹·h⁻¹·yr⁻¹ (SI) or hundreds of ft·tonf·in·ac⁻¹·h⁻¹·yr⁻¹ (US; SI = 17.02 ×
US); K in t·ha·h·ha⁻¹·MJ⁻¹·mm⁻¹ (SI) or t·ac·h·(100·ac·ft·tonf·in)⁻¹ (US; SI = 0.1317 × US); LS, C
and P dimensionless; A in t·ha⁻¹·yr⁻¹ with SI R and K.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: R in SI units per R in US customary units (Foster et al. 1981).
R_US_TO_SI = 17.02
#: K in SI units per K in US customary units (Foster et al. 1981).
K_US_TO_SI = 0.1317
#: Length of the unit plot (m).
UNIT_PLOT_LENGTH = 22.13
#: Slope of the unit plot (9 %), as sin θ.
UNIT_PLOT_SIN = 0.0896


# --- R: rainfall erosivity -------------------------------------------------------------------


def _monthly(monthly_mm) -> np.ndarray:
    values = np.asarray(monthly_mm, dtype=np.float64)
    if values.shape[0] != 12:
        raise ValueError(f"12 monthly rainfall values are needed, got {values.shape[0]}")
    return values


def erosivity_wischmeier(monthly_mm, unit: str = "si") -> np.ndarray:
    """R from monthly rainfall, Wischmeier & Smith's monthly Fournier form (as restated by
    Arnoldus 1977 and the Chinese RUSLE literature):

        R = Σᵢ 1.735 · 10^(1.5·log10(Pᵢ²/P) − 0.8188)      (US units; × 17.02 → SI)

    ``monthly_mm``: shape (12, ...) in mm; P = Σ Pᵢ. Months without rain add 0; a pixel with no
    rain at all has R = 0. ``unit``: "si" or "us". Example: 100 mm in every month gives
    12 · 1.735 · 10^(1.5·log10(10000/1200) − 0.8188) ≈ 75.8 US units ≈ 1290 SI units.
    """
    months = _monthly(monthly_mm)
    total = months.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, months**2 / total, 0.0)
        terms = np.where(ratio > 0, 1.735 * 10 ** (1.5 * np.log10(ratio) - 0.8188), 0.0)
    r_us = terms.sum(axis=0)
    r_us = np.where(np.isnan(total), np.nan, r_us)
    return _r_unit(r_us, unit, from_unit="us")


def modified_fournier(monthly_mm) -> np.ndarray:
    """Modified Fournier index F = Σᵢ Pᵢ²/P (mm; Arnoldus 1980); 0 where P = 0."""
    months = _monthly(monthly_mm)
    total = months.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.where(total > 0, (months**2).sum(axis=0) / total, 0.0)
    return np.where(np.isnan(total), np.nan, index)


def erosivity_renard_freimund(monthly_mm, unit: str = "si") -> np.ndarray:
    """R from the modified Fournier index F (Renard & Freimund 1994, Eq. 13–14, SI units):

        R = 0.7397 · F^1.847                    for F < 55 mm
        R = 95.77 − 6.081·F + 0.4770·F²         for F ≥ 55 mm

    The two branches meet at F = 55 (1,212 and 1,204). Example: 100 mm every month gives
    F = 100 and R = 95.77 − 608.1 + 4770 = 4257.67 SI.
    """
    index = modified_fournier(monthly_mm)
    with np.errstate(invalid="ignore"):
        r_si = np.where(
            index < 55.0, 0.7397 * index**1.847, 95.77 - 6.081 * index + 0.4770 * index**2
        )
    r_si = np.where(np.isnan(index), np.nan, r_si)
    return _r_unit(r_si, unit, from_unit="si")


def _r_unit(values, unit: str, from_unit: str):
    unit = unit.lower()
    if unit not in ("si", "us"):
        raise ValueError(f"unknown R unit {unit!r} (si or us)")
    if unit == from_unit:
        return values
    return values * R_US_TO_SI if unit == "si" else values / R_US_TO_SI


# --- K: soil erodibility ---------------------------------------------------------------------


class FractionError(ValueError):
    """Sand, silt and clay that do not add up to 100 %."""


def check_fractions(sand, silt, clay, tolerance: float) -> None:
    """FractionError when a pixel's sand + silt + clay is farther than ``tolerance`` (percentage
    points) from 100; NaN pixels are ignored."""
    total = np.asarray(sand, dtype=np.float64) + silt + clay
    off = np.abs(total - 100.0) > tolerance
    off &= ~np.isnan(total)
    if off.any():
        worst = total[off][np.argmax(np.abs(total[off] - 100.0))]
        raise FractionError(
            f"{int(off.sum())} pixel(s) have sand + silt + clay farther than {tolerance:g} % from "
            f"100 % (e.g. {worst:.2f} %): give percentages (0–100), not fractions, of the same "
            "texture classification"
        )


def erodibility_epic(sand, silt, clay, organic_carbon, unit: str = "si", china: bool = False):
    """Soil erodibility K from texture and organic carbon (Williams 1995, EPIC):

        K = {0.2 + 0.3·exp[−0.0256·SAN·(1 − SIL/100)]} · [SIL/(CLA + SIL)]^0.3
            · [1 − 0.25·C/(C + exp(3.72 − 2.95·C))] · [1 − 0.7·SN1/(SN1 + exp(−5.51 + 22.9·SN1))]

    SAN, SIL, CLA, C (organic carbon) in %, SN1 = 1 − SAN/100; K in US units, × 0.1317 for SI.
    With ``china`` the correction of Zhang Keli et al. (2007) is applied:
    K = (−0.01383 + 0.51575·K_EPIC) · 0.1317 (SI; K_EPIC in US units).
    NaN where silt + clay = 0.
    """
    san = np.asarray(sand, dtype=np.float64)
    sil = np.asarray(silt, dtype=np.float64)
    cla = np.asarray(clay, dtype=np.float64)
    carbon = np.asarray(organic_carbon, dtype=np.float64)
    sn1 = 1.0 - san / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        f_sand = 0.2 + 0.3 * np.exp(-0.0256 * san * (1.0 - sil / 100.0))
        f_silt = np.where(cla + sil > 0, sil / (cla + sil), np.nan) ** 0.3
        f_carbon = 1.0 - 0.25 * carbon / (carbon + np.exp(3.72 - 2.95 * carbon))
        f_coarse = 1.0 - 0.7 * sn1 / (sn1 + np.exp(-5.51 + 22.9 * sn1))
    k_us = f_sand * f_silt * f_carbon * f_coarse
    if china:
        k_si = (-0.01383 + 0.51575 * k_us) * K_US_TO_SI
        return k_si if unit.lower() == "si" else k_si / K_US_TO_SI
    return k_us * K_US_TO_SI if unit.lower() == "si" else k_us


# --- LS: slope length and steepness ----------------------------------------------------------


def horn_gradient(window: np.ndarray, cell_x: float, cell_y: float):
    """dz/dx and dz/dy (east and south positive... see below) of the inner cells of ``window``
    by Horn's (1981) 3 × 3 weights. ``window`` has one cell of halo; NaN neighbours take the
    centre's value (so edges and NoData borders still get a slope). Returns (dzdx, dzdy) with x
    to the east and y to the north."""
    z = np.asarray(window, dtype=np.float64)
    centre = z[1:-1, 1:-1]

    def at(dr, dc):
        block = z[1 + dr : z.shape[0] - 1 + dr, 1 + dc : z.shape[1] - 1 + dc]
        return np.where(np.isnan(block), centre, block)

    a, b, c = at(-1, -1), at(-1, 0), at(-1, 1)
    d, f = at(0, -1), at(0, 1)
    g, h, i = at(1, -1), at(1, 0), at(1, 1)
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8.0 * cell_x)
    dzdy = ((a + 2 * b + c) - (g + 2 * h + i)) / (8.0 * cell_y)
    return dzdx, dzdy


def slope_degrees(window: np.ndarray, cell_x: float, cell_y: float) -> np.ndarray:
    """Slope θ in degrees of the inner cells of a haloed window (Horn 1981)."""
    dzdx, dzdy = horn_gradient(window, cell_x, cell_y)
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


M_METHODS = ("percent", "degrees", "mccool")
S_METHODS = ("mccool", "mccool_liu", "china")
L_METHODS = ("accumulation", "desmet_govers")


def slope_length_exponent(theta_deg, method: str = "percent") -> np.ndarray:
    """The exponent m of L = (λ/22.13)^m.

    * ``percent``: Wischmeier & Smith (1978) by slope s = 100·tan θ: s < 1 %: 0.2; 1–3 %: 0.3;
      3–5 %: 0.4 (their 3.5–4.5 % class, widened to close the gaps); ≥ 5 %: 0.5.
    * ``degrees``: the same thresholds read as 1°, 3°, 5° (as many Chinese papers restate them).
    * ``mccool``: m = β/(1 + β), β = (sin θ/0.0896)/(3·sin^0.8 θ + 0.56) (McCool et al. 1989,
      moderate rill/interrill ratio).
    """
    theta = np.radians(np.asarray(theta_deg, dtype=np.float64))
    if method in ("percent", "degrees"):
        value = 100.0 * np.tan(theta) if method == "percent" else np.degrees(theta)
        m = np.select([value < 1.0, value < 3.0, value < 5.0], [0.2, 0.3, 0.4], 0.5)
        return np.where(np.isnan(value), np.nan, m)
    if method == "mccool":
        sin = np.sin(theta)
        beta = (sin / UNIT_PLOT_SIN) / (3.0 * sin**0.8 + 0.56)
        return beta / (1.0 + beta)
    raise ValueError(f"unknown m method {method!r} ({', '.join(M_METHODS)})")


def steepness_factor(theta_deg, method: str = "china") -> np.ndarray:
    """S from the slope θ (degrees).

    * ``mccool`` (McCool et al. 1987): 10.8·sin θ + 0.03 for s < 9 %, 16.8·sin θ − 0.50 above.
    * ``mccool_liu``: McCool, with Liu et al. (1994) 21.91·sin θ − 0.96 for θ ≥ 10°.
    * ``china`` (the usual Chinese scheme): θ < 5°: 10.8·sin θ + 0.03; 5–10°: 16.8·sin θ − 0.50;
      ≥ 10°: 21.91·sin θ − 0.96 (S jumps at 10°: 2.42 → 2.84).
    """
    theta_deg = np.asarray(theta_deg, dtype=np.float64)
    sin = np.sin(np.radians(theta_deg))
    gentle = 10.8 * sin + 0.03
    steep = 16.8 * sin - 0.50
    liu = 21.91 * sin - 0.96
    if method == "mccool":
        return np.where(np.tan(np.radians(theta_deg)) < 0.09, gentle, steep)
    if method == "mccool_liu":
        return np.where(
            theta_deg >= 10.0, liu, np.where(np.tan(np.radians(theta_deg)) < 0.09, gentle, steep)
        )
    if method == "china":
        return np.select([theta_deg < 5.0, theta_deg < 10.0], [gentle, steep], liu)
    raise ValueError(f"unknown S method {method!r} ({', '.join(S_METHODS)})")


def length_factor(
    accumulation,
    theta_deg,
    cell_size: float,
    *,
    m_method: str = "percent",
    l_method: str = "accumulation",
    aspect_rad=None,
    max_length: float = 0.0,
) -> np.ndarray:
    """L from D8 flow accumulation (cells, each counting itself) and slope.

    * ``accumulation``: λ = A·D (A cells, D the cell size in m), L = (λ/22.13)^m — the common
      GIS form of Wischmeier & Smith's L with the flow path length taken from accumulation.
    * ``desmet_govers`` (Desmet & Govers 1996, 2-D form): with the upslope area at the cell's
      inlet A_in = (A − 1)·D² and x = |sin α| + |cos α| (α the aspect),
      L = [(A_in + D²)^(m+1) − A_in^(m+1)] / [D^(m+2) · x^m · 22.13^m].

    ``max_length`` > 0 caps λ (and A_in/D) at that many metres.
    """
    area_cells = np.asarray(accumulation, dtype=np.float64)
    m = slope_length_exponent(theta_deg, m_method)
    if l_method == "accumulation":
        length = area_cells * cell_size
        if max_length > 0:
            length = np.minimum(length, max_length)
        return (length / UNIT_PLOT_LENGTH) ** m
    if l_method == "desmet_govers":
        inlet = np.maximum(area_cells - 1.0, 0.0) * cell_size**2
        if max_length > 0:
            inlet = np.minimum(inlet, max_length * cell_size)
        if aspect_rad is None:
            x = 1.0
        else:
            x = np.abs(np.sin(aspect_rad)) + np.abs(np.cos(aspect_rad))
        return ((inlet + cell_size**2) ** (m + 1) - inlet ** (m + 1)) / (
            cell_size ** (m + 2) * x**m * UNIT_PLOT_LENGTH**m
        )
    raise ValueError(f"unknown L method {l_method!r} ({', '.join(L_METHODS)})")


def aspect_radians(dzdx, dzdy) -> np.ndarray:
    """Aspect (direction of steepest descent) in radians clockwise from north; 0 on flats."""
    return np.arctan2(-dzdx, -dzdy) % (2 * np.pi)


# --- C: cover management ---------------------------------------------------------------------


def cover_cai(fvc) -> np.ndarray:
    """C from fractional vegetation cover (Cai et al. 2000), f = 100·FVC in %:

        C = 1 for f = 0;  C = 0.6508 − 0.3436·log10(f) for 0 < f ≤ 78.3 %;  C = 0 above,

    clipped to [0, 1] (f < 0.1 % would give C > 1). The branches meet at 78.3 %
    (0.6508 − 0.3436·log10(78.3) ≈ 0.0001).
    """
    percent = 100.0 * np.asarray(fvc, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        middle = 0.6508 - 0.3436 * np.log10(percent)
    cover = np.where(percent <= 0.0, 1.0, np.where(percent > 78.3, 0.0, middle))
    return np.where(np.isnan(percent), np.nan, np.clip(cover, 0.0, 1.0))


def cover_van_der_knijff(ndvi, alpha: float = 2.0, beta: float = 1.0) -> np.ndarray:
    """C from NDVI (van der Knijff et al. 2000): C = exp(−α·NDVI/(β − NDVI)), α = 2, β = 1,
    clipped to [0, 1] (NDVI ≥ β gives 0)."""
    values = np.asarray(ndvi, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cover = np.where(values >= beta, 0.0, np.exp(-alpha * values / (beta - values)))
    return np.where(np.isnan(values), np.nan, np.clip(cover, 0.0, 1.0))


# --- P: support practice ---------------------------------------------------------------------


class UnknownCodes(ValueError):
    """Land-cover codes that the lookup table does not list."""

    def __init__(self, codes):
        self.codes = sorted(int(c) for c in codes)
        shown = ", ".join(str(c) for c in self.codes[:20])
        more = f" and {len(self.codes) - 20} more" if len(self.codes) > 20 else ""
        super().__init__(f"land-cover code(s) {shown}{more} are not in the table")


def lookup(classes, table: dict[int, float]) -> np.ndarray:
    """The table's value for each class code (NaN stays NaN); UnknownCodes lists codes that the
    table lacks."""
    values = np.asarray(classes, dtype=np.float64)
    valid = ~np.isnan(values)
    codes = values[valid]
    if codes.size and np.any(codes != np.round(codes)):
        raise ValueError("land-cover values must be whole class codes")
    keys = np.array(sorted(table), dtype=np.float64)
    present = np.unique(codes)
    missing = present[~np.isin(present, keys)]
    if missing.size:
        raise UnknownCodes(missing)
    out = np.full(values.shape, np.nan)
    if keys.size:
        position = np.searchsorted(keys, codes)
        out[valid] = np.array([table[int(k)] for k in keys])[position]
    return out


# --- A and erosion classes -------------------------------------------------------------------


def soil_loss(r, k, ls, c, p) -> np.ndarray:
    """A = R·K·LS·C·P (t·ha⁻¹·yr⁻¹ with SI R and K)."""
    return np.asarray(r, dtype=np.float64) * k * ls * c * p


#: t·km⁻²·a⁻¹ per t·ha⁻¹·a⁻¹.
T_HA_TO_T_KM2 = 100.0
#: SL 190-2007 upper limits of the light, moderate, intense and very intense classes (t·km⁻²·a⁻¹).
SL190_BREAKS = (2500.0, 5000.0, 8000.0, 15000.0)
#: Soil-loss tolerance (t·km⁻²·a⁻¹) by region, SL 190-2007: the upper limit of "slight".
SL190_TOLERANCE = {
    "Southern red-soil hills": 500.0,
    "Northwest loess plateau": 1000.0,
    "Northeast black-soil region": 200.0,
    "Northern rocky mountains": 200.0,
    "Southwest rocky mountains": 500.0,
}
EROSION_CLASS_LABELS = ("Slight", "Light", "Moderate", "Intense", "Very intense", "Severe")


@dataclass(frozen=True)
class ErosionClasses:
    """Class limits in t·km⁻²·a⁻¹: class 1 below ``limits[0]`` (the tolerance), class k in
    [limits[k−2], limits[k−1]), the last class at or above the last limit."""

    limits: tuple[float, ...]

    @classmethod
    def sl190(cls, tolerance: float = 500.0, breaks: Sequence[float] = SL190_BREAKS):
        limits = (float(tolerance), *(float(b) for b in breaks))
        if any(b <= a for a, b in zip(limits, limits[1:], strict=False)):
            raise ValueError(
                "the tolerance and the class breaks must increase: "
                + ", ".join(f"{v:g}" for v in limits)
            )
        if limits[0] <= 0:
            raise ValueError(f"the tolerance must be positive, got {limits[0]:g}")
        return cls(limits)

    @property
    def count(self) -> int:
        return len(self.limits) + 1

    def labels(self) -> list[str]:
        """Legend labels: the SL 190-2007 names when there are six classes, with their limits."""
        if self.count == len(EROSION_CLASS_LABELS):
            names = list(EROSION_CLASS_LABELS)
        else:
            names = [f"Class {k}" for k in range(1, self.count + 1)]
        lower = (0.0, *self.limits)
        upper = (*self.limits, None)
        return [
            f"{name} ({lo:g}–{hi:g} t/km²/a)" if hi is not None else f"{name} (≥ {lo:g} t/km²/a)"
            for name, lo, hi in zip(names, lower, upper, strict=True)
        ]

    def classify(self, soil_loss_t_ha) -> np.ndarray:
        """Class codes 1..count (uint8) of A given in t·ha⁻¹·a⁻¹; 0 for NaN."""
        values = np.asarray(soil_loss_t_ha, dtype=np.float64) * T_HA_TO_T_KM2
        codes = (np.searchsorted(np.asarray(self.limits), values, side="right") + 1).astype(
            np.uint8
        )
        codes[np.isnan(values)] = 0
        return codes


# --- LS over a window of a routed DEM ---------------------------------------------------------


@dataclass(frozen=True)
class LsOptions:
    """How L and S are computed (see ``length_factor`` and ``steepness_factor``)."""

    m_method: str = "percent"
    s_method: str = "china"
    l_method: str = "accumulation"
    max_length: float = 0.0


def ls_window(dem, accumulation, rows: slice, cols: slice, cell_x, cell_y, options: LsOptions):
    """(LS, slope in degrees) of the cells ``dem[rows, cols]``; ``dem`` is the whole DEM (NaN
    NoData), ``accumulation`` its D8 accumulation in cells, cell sizes in metres."""
    height, width = dem.shape
    r0, r1, c0, c1 = rows.start, rows.stop, cols.start, cols.stop
    window = np.full((r1 - r0 + 2, c1 - c0 + 2), np.nan, dtype=np.float64)
    a0, a1, b0, b1 = max(r0 - 1, 0), min(r1 + 1, height), max(c0 - 1, 0), min(c1 + 1, width)
    window[a0 - r0 + 1 : a1 - r0 + 1, b0 - c0 + 1 : b1 - c0 + 1] = dem[a0:a1, b0:b1]
    dzdx, dzdy = horn_gradient(window, cell_x, cell_y)
    theta = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    theta[np.isnan(window[1:-1, 1:-1])] = np.nan
    aspect = aspect_radians(dzdx, dzdy) if options.l_method == "desmet_govers" else None
    size = float(np.sqrt(cell_x * cell_y))
    area = accumulation[rows, cols]
    length = length_factor(
        area,
        theta,
        size,
        m_method=options.m_method,
        l_method=options.l_method,
        aspect_rad=aspect,
        max_length=options.max_length,
    )
    ls = length * steepness_factor(theta, options.s_method)
    ls[np.isnan(theta)] = np.nan
    return ls, theta

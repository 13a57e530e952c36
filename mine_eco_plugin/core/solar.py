"""Solar radiation derived from latitude and date (FAO-56; Allen et al. 1998), for CASA when no
measured radiation grid exists. Pure numpy.

* Extraterrestrial radiation (FAO-56 Eq. 21–25), MJ·m⁻²·day⁻¹::

      Ra = (24·60/π)·Gsc·dr·[ωs·sin φ·sin δ + cos φ·cos δ·sin ωs]
      dr = 1 + 0.033·cos(2πJ/365);  δ = 0.409·sin(2πJ/365 − 1.39);  ωs = arccos(−tan φ·tan δ)

  Gsc = 0.0820 MJ·m⁻²·min⁻¹, φ latitude (rad), J day of the year. Polar day and night follow
  from clipping −tan φ·tan δ to [−1, 1]. Monthly totals are sums over the days of the month.
* Daylight hours N = 24·ωs/π (Eq. 34).
* Global radiation Rs (Eq. 35, Ångström–Prescott): Rs = (a + b·n/N)·Ra, a = 0.25, b = 0.50
  when no calibration exists; n/N the relative sunshine duration.
* Clear-sky radiation Rso (Eq. 37): (0.75 + 2·10⁻⁵·z)·Ra, z elevation in m.

Reference: Allen, R.G., Pereira, L.S., Raes, D. & Smith, M. (1998) Crop evapotranspiration.
FAO Irrigation and Drainage Paper 56, chapter 3.
"""

from __future__ import annotations

import calendar

import numpy as np

__all__ = [
    "ANGSTROM_A",
    "ANGSTROM_B",
    "SOLAR_CONSTANT",
    "angstrom_prescott",
    "check_latitudes",
    "clear_sky",
    "daylight_hours",
    "declination",
    "extraterrestrial_daily",
    "extraterrestrial_monthly",
    "inverse_relative_distance",
    "month_days",
]

SOLAR_CONSTANT = 0.0820  # MJ·m⁻²·min⁻¹
ANGSTROM_A = 0.25
ANGSTROM_B = 0.50


def inverse_relative_distance(day):
    """dr = 1 + 0.033·cos(2πJ/365) (FAO-56 Eq. 23)."""
    return 1 + 0.033 * np.cos(2 * np.pi * np.asarray(day) / 365)


def declination(day):
    """δ = 0.409·sin(2πJ/365 − 1.39) rad (FAO-56 Eq. 24)."""
    return 0.409 * np.sin(2 * np.pi * np.asarray(day) / 365 - 1.39)


def _sunset_angle(latitude_rad, delta):
    return np.arccos(np.clip(-np.tan(latitude_rad) * np.tan(delta), -1.0, 1.0))


def check_latitudes(latitude) -> None:
    """ValueError when a latitude (degrees; NaN allowed, for NoData) is infinite or outside
    [−90°, 90°]: beyond the poles the formulas give negative radiation instead of failing."""
    latitude = np.asarray(latitude, dtype=np.float64)
    bad = np.isinf(latitude) | (np.abs(latitude) > 90.0)
    if bad.any():
        value = float(latitude[bad].flat[0])
        raise ValueError(f"latitude {value:g}° lies outside −90° … 90°")


def extraterrestrial_daily(latitude, day):
    """Ra (MJ·m⁻²·day⁻¹) at ``latitude`` (degrees, north positive, within ±90°; ValueError
    beyond) on day of year ``day`` (FAO-56 Eq. 21). FAO-56 Example 8: 20°S on 3 September
    (J = 246) → 32.2."""
    check_latitudes(latitude)
    phi = np.radians(np.asarray(latitude, dtype=np.float64))
    delta = declination(day)
    omega = _sunset_angle(phi, delta)
    return (
        24 * 60 / np.pi
        * SOLAR_CONSTANT
        * inverse_relative_distance(day)
        * (omega * np.sin(phi) * np.sin(delta) + np.cos(phi) * np.cos(delta) * np.sin(omega))
    )  # fmt: skip


def daylight_hours(latitude, day):
    """N = 24·ωs/π hours (FAO-56 Eq. 34)."""
    phi = np.radians(np.asarray(latitude, dtype=np.float64))
    return 24 / np.pi * _sunset_angle(phi, declination(day))


def month_days(year: int | None = None) -> list[np.ndarray]:
    """Days of the year (1-based) of each month; a 365-day year without ``year``."""
    leap = year is not None and calendar.isleap(year)
    lengths = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    starts = np.cumsum([0, *lengths[:-1]]) + 1
    return [np.arange(s, s + n) for s, n in zip(starts, lengths, strict=True)]


def _monthly_exact(latitude, year):
    latitude = np.asarray(latitude, dtype=np.float64)
    days = month_days(year)
    out = np.empty((12, *latitude.shape))
    for month, doy in enumerate(days):
        out[month] = extraterrestrial_daily(latitude[..., None], doy).sum(axis=-1)
    return out


def extraterrestrial_monthly(latitude, year: int | None = None, step: float | None = 0.01):
    """Monthly totals of Ra (MJ·m⁻²·month⁻¹), (12, …) for an array of latitudes (degrees):
    the sum of the daily Ra over the days of each month.

    With ``step`` (degrees), the sums are computed exactly on a latitude lattice of that step
    covering the input and interpolated linearly (Ra is smooth in latitude: the error at
    0.01° is below 10⁻⁴ MJ·m⁻² away from the polar day/night edges); ``step=None`` computes
    every latitude exactly.
    """
    latitude = np.asarray(latitude, dtype=np.float64)
    check_latitudes(latitude)
    finite = latitude[np.isfinite(latitude)]
    if step is None or finite.size == 0 or finite.size < 64:
        return _monthly_exact(latitude, year)
    low = np.floor(finite.min() / step) * step
    high = np.ceil(finite.max() / step) * step
    lattice = np.arange(low, high + step / 2, step)
    if len(lattice) < 2:
        lattice = np.array([low, low + step])
    table = _monthly_exact(lattice, year)
    flat = latitude.reshape(-1)
    out = np.stack([np.interp(flat, lattice, table[m]) for m in range(12)])
    out[:, ~np.isfinite(flat)] = np.nan
    return out.reshape(12, *latitude.shape)


def angstrom_prescott(ra, relative_sunshine, a=ANGSTROM_A, b=ANGSTROM_B):
    """Rs = (a + b·n/N)·Ra (FAO-56 Eq. 35; a = 0.25, b = 0.50 uncalibrated)."""
    return (a + b * np.asarray(relative_sunshine)) * ra


def clear_sky(ra, elevation=0.0):
    """Rso = (0.75 + 2·10⁻⁵·z)·Ra (FAO-56 Eq. 37), z in metres."""
    return (0.75 + 2e-5 * np.asarray(elevation)) * ra

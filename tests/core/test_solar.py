"""Solar radiation from latitude against the worked examples of FAO-56 (Allen et al. 1998)."""

import numpy as np
import pytest

from mine_eco_plugin.core import solar


def test_fao56_example_8_extraterrestrial_radiation():
    # FAO-56 Example 8: 20°S, 3 September (J = 246): dr = 0.985, δ = 0.120 rad, Ra = 32.2.
    assert solar.inverse_relative_distance(246) == pytest.approx(0.985, abs=5e-4)
    assert solar.declination(246) == pytest.approx(0.120, abs=5e-4)
    assert solar.extraterrestrial_daily(-20.0, 246) == pytest.approx(32.2, abs=0.05)


def test_fao56_example_9_daylight_hours():
    # FAO-56 Example 9: the same place and day, N = 11.7 h.
    assert solar.daylight_hours(-20.0, 246) == pytest.approx(11.7, abs=0.05)


def test_fao56_example_10_angstrom_prescott():
    # FAO-56 Example 10: Rio de Janeiro (22°54'S), 15 May (J = 135), n = 7.1 h: Ra = 25.1,
    # N = 10.9 h, Rs = (0.25 + 0.50·7.1/10.9)·25.1 = 14.5 MJ·m⁻²·day⁻¹.
    latitude = -(22 + 54 / 60)
    ra = solar.extraterrestrial_daily(latitude, 135)
    n_max = solar.daylight_hours(latitude, 135)
    assert ra == pytest.approx(25.1, abs=0.05)
    assert n_max == pytest.approx(10.9, abs=0.05)
    assert solar.angstrom_prescott(ra, 7.1 / n_max) == pytest.approx(14.5, abs=0.05)


def test_clear_sky_fao56_eq37():
    # (0.75 + 2e-5·1000)·30 = 0.77·30 = 23.1
    assert solar.clear_sky(30.0, 1000.0) == pytest.approx(23.1)


def test_monthly_totals_are_sums_of_days():
    # January at 35°N: the sum of the 31 daily values (J = 1…31); February has 29 days in 2000.
    january = sum(solar.extraterrestrial_daily(35.0, d) for d in range(1, 32))
    monthly = solar.extraterrestrial_monthly(np.array([35.0]), step=None)
    assert monthly[0, 0] == pytest.approx(january, rel=1e-12)
    leap = solar.extraterrestrial_monthly(np.array([35.0]), year=2000, step=None)
    assert leap[1, 0] > monthly[1, 0]
    # A year at the equator adds to about 365 × 33–38 MJ·m⁻²: 13,100–13,300.
    equator = solar.extraterrestrial_monthly(np.array([0.0]), step=None).sum()
    assert 13000 < equator < 13400


def test_polar_night_and_day():
    # 80°N: no sun in December (Ra = 0), sun all day in June.
    monthly = solar.extraterrestrial_monthly(np.array([80.0]), step=None)
    assert monthly[11, 0] == 0.0
    assert solar.daylight_hours(80.0, 172) == pytest.approx(24.0)


def test_interpolated_lattice_matches_exact():
    latitude = np.linspace(30.0, 36.0, 2000)
    exact = solar.extraterrestrial_monthly(latitude, step=None)
    fast = solar.extraterrestrial_monthly(latitude)
    np.testing.assert_allclose(fast, exact, atol=1e-4)

"""Class breaks, Fisher–Jenks, areas and transition tallies (core.evaluation_classes)."""

import itertools
import math

import numpy as np
import pytest

from mine_eco_plugin.core import evaluation_classes as classes


def test_table3_breaks_and_the_boundary_rule():
    # Lower bound inclusive: severe < 0.38 ≤ poor < 0.41 ≤ moderate < 0.63 ≤ good < 0.73 ≤
    # excellent.
    values = np.array([0.0, 0.3799, 0.38, 0.4099, 0.41, 0.6299, 0.63, 0.7299, 0.73, 1.0, np.nan])
    codes = classes.classify(values, classes.TABLE3_BREAKS)
    assert codes.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0]
    assert codes.dtype == np.uint8
    # float32 rasters store 0.38 as 0.37999999523: compared at float32 precision it is still
    # the decimal 0.38, hence "poor" (and 0.73 "excellent").
    single = classes.classify(values.astype(np.float32), classes.TABLE3_BREAKS)
    assert single.tolist() == codes.tolist()


def test_breaks_must_increase():
    with pytest.raises(ValueError, match="increase strictly"):
        classes.check_breaks([0.2, 0.2, 0.5])
    assert classes.check_breaks([0.1, 0.5]) == (0.1, 0.5)


def test_equal_interval_and_quantile_positions():
    np.testing.assert_allclose(classes.equal_interval_breaks(0.2, 1.2, 4), [0.45, 0.7, 0.95])
    assert classes.quantile_percentages(5) == [20.0, 40.0, 60.0, 80.0]
    with pytest.raises(ValueError, match="constant"):
        classes.equal_interval_breaks(1, 1, 3)


def _total_ss(values, breaks):
    codes = classes.classify(values, breaks)
    return sum(((values[codes == c] - values[codes == c].mean()) ** 2).sum() for c in set(codes))


def test_fisher_jenks_small_by_hand():
    # 1, 2, 3, 10, 11, 12 in two classes: {1, 2, 3} and {10, 11, 12} (SS 2 + 2 = 4, any other
    # split is worse); the break is the smallest value of the upper class, 10.
    breaks, gvf = classes.fisher_jenks(np.array([3, 1, 12, 2, 10, 11.0]), 2)
    assert breaks == (10.0,)
    # SDAM: mean 6.5, Σ dev² = 30.25 + 20.25 + 12.25 + 12.25 + 20.25 + 30.25 = 125.5;
    # GVF = 1 − 4/125.5 = 0.968127.
    assert gvf == pytest.approx(0.968127, abs=1e-6)


def test_fisher_jenks_is_the_exhaustive_optimum():
    rng = np.random.default_rng(11)
    for _ in range(20):
        values = np.round(rng.gamma(2.0, 1.0, size=int(rng.integers(6, 13))), 1)
        k = int(rng.integers(2, 5))
        unique = np.unique(values)
        if unique.size < k:
            continue
        breaks, _ = classes.fisher_jenks(values, k)
        best = min(
            _total_ss(values, [unique[i] for i in cut])
            for cut in itertools.combinations(range(1, unique.size), k - 1)
        )
        assert _total_ss(values, breaks) == pytest.approx(best, abs=1e-9)


def test_fisher_jenks_agrees_with_jenkspy():
    jenkspy = pytest.importorskip("jenkspy", reason="peer tool jenkspy not installed")
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(size=2000), 3)
    ours, _ = classes.fisher_jenks(values, 5)
    # jenkspy gives the largest value of each lower class; ours is the next distinct value.
    theirs = jenkspy.jenks_breaks(values, n_classes=5)[1:-1]
    unique = np.unique(values)
    assert ours == tuple(float(unique[np.searchsorted(unique, b) + 1]) for b in theirs)


def test_fisher_jenks_needs_enough_distinct_values():
    with pytest.raises(ValueError, match="2 distinct"):
        classes.fisher_jenks(np.array([1.0, 1.0, 2.0]), 3)


def test_sample_does_not_depend_on_block_layout():
    values = np.arange(10_000, dtype=np.float64)
    index = np.arange(values.size)
    whole = classes.KeySample(500)
    whole.add(classes.pixel_keys(index, 42), values)
    pieces = classes.KeySample(500)
    for part in np.array_split(index, 7):
        pieces.add(classes.pixel_keys(part, 42), values[part])
    assert sorted(whole.values) == sorted(pieces.values)
    assert pieces.seen == 10_000
    other = classes.KeySample(500)
    other.add(classes.pixel_keys(index, 43), values)
    assert sorted(other.values) != sorted(whole.values)
    # Roughly uniform: the sample mean is near the population mean 4999.5 (σ/√n ≈ 129).
    assert abs(np.mean(whole.values) - 4999.5) < 600


def test_geographic_areas_of_the_whole_ellipsoid():
    # 1° cells over the globe: the WGS 84 ellipsoid's surface, 510 065 621.724 km² (Karney's
    # GeographicLib, "Planimeter" on the full ellipsoid: 5.100656217240886e14 m²).
    rows = classes.geographic_row_areas(90.0, 1.0, 1.0, 180)
    assert rows.sum() * 360 == pytest.approx(5.100656217240886e14, rel=1e-9)
    # On a sphere of radius R a cell from 0° to 1° spanning 1° has R²·(π/180)·sin(1°).
    sphere = classes.geographic_row_areas(
        1.0, 1.0, 1.0, 1, semi_major=6371000.0, inverse_flattening=0
    )
    assert sphere[0] == pytest.approx(6371000.0**2 * math.radians(1) * math.sin(math.radians(1)))


def test_class_tally_with_row_areas():
    codes = np.array([[1, 2, 0], [2, 2, 1]], dtype=np.uint8)
    values = np.array([[0.2, 0.5, np.nan], [0.4, 0.6, 0.1]])
    tally = classes.ClassTally(2)
    tally.add(codes, values, np.array([10.0, 20.0]))
    assert tally.pixels.tolist() == [1, 2, 3]
    # Class 1: 10 + 20 = 30 m²; class 2: 10 + 20 + 20 = 50 m².
    np.testing.assert_allclose(tally.area[1:], [30.0, 50.0])
    rows = list(tally.rows())
    # Shares 30/80 = 37.5 %, 62.5 %; means (0.2 + 0.1)/2 = 0.15, (0.5 + 0.4 + 0.6)/3 = 0.5.
    assert rows[0][3] == pytest.approx(37.5) and rows[1][3] == pytest.approx(62.5)
    assert rows[0][4] == pytest.approx(0.15) and rows[1][4] == pytest.approx(0.5)


def test_transition_tally_balances_against_each_date():
    before = np.array([[1, 1, 2, 3], [3, np.nan, 2, 1]])
    after = np.array([[1, 2, 2, 3], [2, 3, np.nan, 1]])
    tally = classes.TransitionTally()
    tally.add(classes.integer_codes(before), classes.integer_codes(after), 100.0)
    # Rows (before) balance with the before class counts: 1 → 3 px, 2 → 2, 3 → 2, NoData → 1.
    for code in (1, 2, 3, -1):
        row = sum(n for (f, _), n in tally.pixels.items() if f == code)
        assert row == int(np.sum(np.nan_to_num(before, nan=-1) == code))
    for code in (1, 2, 3, -1):
        column = sum(n for (_, t), n in tally.pixels.items() if t == code)
        assert column == int(np.sum(np.nan_to_num(after, nan=-1) == code))
    assert tally.pixels[(1, 2)] == 1 and tally.pixels[(3, 2)] == 1 and tally.pixels[(2, -1)] == 1
    assert tally.area[(1, 1)] == 200.0
    codes = classes.transition_codes(
        classes.integer_codes(before), classes.integer_codes(after), classes.transition_factor(3)
    )
    assert codes.tolist() == [[11, 12, 22, 33], [32, -1, -1, 11]]
    assert classes.transition_factor(11) == 100


def test_integer_codes_rejects_continuous_values():
    with pytest.raises(ValueError, match="0.5 is not a class code"):
        classes.integer_codes(np.array([1.0, 0.5]))


def test_transition_type_never_overflows():
    """uint16 while before·F + after < 65535, uint32 up to 2³² − 2, an error beyond."""
    # 9·10 + 9 = 99; 654·1000 + 654 = 654,654 (uint32); 6553·10⁴ + 6553 = 65,536,553.
    assert classes.transition_type(9) == ("uint16", 65535)
    assert classes.transition_type(64) == ("uint16", 65535)  # 64·100 + 64 = 6,464
    assert classes.transition_type(654) == ("uint32", 2**32 - 1)
    # The limit: 42,949·100,001 = 4,294,942,949 fits; 42,950·100,001 = 4,295,042,950 does not.
    limit = classes.MAX_TRANSITION_CLASS
    assert limit * classes.transition_factor(limit) + limit <= classes.MAX_TRANSITION_CODE
    assert classes.transition_type(limit) == ("uint32", 2**32 - 1)
    for code in (limit + 1, 70_000, 2**31 - 1):
        with pytest.raises(ValueError, match="class codes up to 42,949 are supported"):
            classes.transition_type(code)
    # The largest code's transition with itself is the largest code written, and it is exact
    # in the output type.
    largest = limit * classes.transition_factor(limit) + limit
    assert int(np.array(largest, dtype=np.uint32)) == largest

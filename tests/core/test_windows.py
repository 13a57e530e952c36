"""Moving-window sums against a brute-force loop."""

import numpy as np
import pytest

from mine_eco_plugin.core.windows import box_count, box_sum, check_window


def brute_force_sum(values, size):
    half = size // 2
    rows, cols = values.shape
    out = np.zeros(values.shape)
    for r in range(rows):
        for c in range(cols):
            window = values[max(r - half, 0) : r + half + 1, max(c - half, 0) : c + half + 1]
            out[r, c] = np.nansum(window)
    return out


@pytest.mark.parametrize("size", [1, 3, 5, 11])
def test_box_sum_equals_a_loop_with_nan_and_edges(size):
    rng = np.random.default_rng(size)
    values = rng.normal(size=(23, 17))
    values[rng.random(values.shape) < 0.2] = np.nan
    np.testing.assert_allclose(box_sum(values, size), brute_force_sum(values, size), atol=1e-12)
    counts = box_count(~np.isnan(values), size)
    np.testing.assert_array_equal(counts, brute_force_sum((~np.isnan(values)).astype(float), size))


def test_window_wider_than_the_array():
    # 3×3 ones, window 7: every window holds all nine pixels.
    assert (box_sum(np.ones((3, 3)), 7) == 9).all()


@pytest.mark.parametrize("size", [0, -3, 4, 2.5])
def test_even_zero_negative_or_fractional_windows_are_errors(size):
    with pytest.raises(ValueError, match="positive odd"):
        check_window(size)

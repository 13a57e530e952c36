"""Normalisation (Eq. 18–19) and the composite index (Eq. 20), by hand."""

import numpy as np
import pytest

from mine_eco_plugin.core.evaluation_index import check_range, composite_index, normalise


def test_normalise_positive_negative_and_nodata():
    x = np.array([[2.0, 4.0], [np.nan, 12.0]], dtype=np.float32)
    # (x − 2)/(12 − 2): 0, 0.2, NaN, 1; negative: 1, 0.8, NaN, 0.
    np.testing.assert_allclose(normalise(x, 2, 12, 1), [[0, 0.2], [np.nan, 1]], atol=1e-7)
    np.testing.assert_allclose(normalise(x, 2, 12, -1), [[1, 0.8], [np.nan, 0]], atol=1e-7)
    assert normalise(x, 2, 12).dtype == np.float32


def test_normalise_fixed_range_clips_or_extrapolates():
    x = np.array([0.0, 5.0, 15.0], dtype=np.float32)
    # Range 2…12: (0 − 2)/10 = −0.2 → 0; 0.3; (15 − 2)/10 = 1.3 → 1.
    np.testing.assert_allclose(normalise(x, 2, 12), [0, 0.3, 1], atol=1e-7)
    np.testing.assert_allclose(normalise(x, 2, 12, clip=False), [-0.2, 0.3, 1.3], atol=1e-7)
    np.testing.assert_allclose(normalise(x, 2, 12, -1), [1, 0.7, 0], atol=1e-7)


def test_constant_indicator_is_an_error():
    with pytest.raises(ValueError, match="constant"):
        check_range(3.0, 3.0)
    with pytest.raises(ValueError, match="no valid pixels"):
        check_range(np.inf, -np.inf)
    # Values that exist but are infinite are not "no valid pixels".
    with pytest.raises(ValueError, match=r"not finite \(minimum inf, maximum inf\)"):
        check_range(np.inf, np.inf)
    with pytest.raises(ValueError, match=r"not finite \(minimum -inf, maximum 4\)"):
        check_range(-np.inf, 4.0)


def test_composite_index_by_hand():
    a = np.array([[0.0, 5.0], [10.0, np.nan]], dtype=np.float32)  # positive, range 0…10
    b = np.array([[100.0, 150.0], [200.0, 120.0]], dtype=np.float32)  # negative, 100…200
    c = np.array([[1.0, 1.0], [3.0, 2.0]], dtype=np.float32)  # positive, 1…3
    weights = [0.5, 0.3, 0.2]
    p = composite_index([a, b, c], weights, [0, 100, 1], [10, 200, 3], [1, -1, 1])
    # Pixel (0,0): 0.5·0 + 0.3·(1 − 0) + 0.2·0 = 0.3
    # Pixel (0,1): 0.5·0.5 + 0.3·(1 − 0.5) + 0.2·0 = 0.25 + 0.15 = 0.4
    # Pixel (1,0): 0.5·1 + 0.3·(1 − 1) + 0.2·1 = 0.7
    # Pixel (1,1): a is NoData → NoData.
    np.testing.assert_allclose(p, [[0.3, 0.4], [0.7, np.nan]], atol=1e-6)
    # The same as the weighted sum of normalise() outputs.
    by_parts = (
        0.5 * normalise(a, 0, 10) + 0.3 * normalise(b, 100, 200, -1) + 0.2 * normalise(c, 1, 3)
    )
    np.testing.assert_allclose(p, by_parts, atol=1e-6)


def test_composite_index_clipping_of_fixed_ranges():
    a = np.array([-5.0, 15.0], dtype=np.float32)
    # Range 0…10, weight 1: clipped 0 and 1; unclipped −0.5 and 1.5; negative trend 1 and 0.
    np.testing.assert_allclose(composite_index([a], [1.0], [0], [10], [1]), [0, 1], atol=1e-7)
    np.testing.assert_allclose(
        composite_index([a], [1.0], [0], [10], [1], clip=False), [-0.5, 1.5], atol=1e-7
    )
    np.testing.assert_allclose(composite_index([a], [1.0], [0], [10], [-1]), [1, 0], atol=1e-7)

"""Streaming statistics against numpy on all values at once."""

import numpy as np
import pytest

from mine_eco_plugin.core.statistics import (
    RunningSummary,
    exact_percentiles,
    stream_reduce,
    summarize,
)


def reducer(data, pieces=7):
    blocks = np.array_split(data, pieces)
    return stream_reduce(lambda: iter(blocks))


def test_summary_of_blocks_equals_numpy():
    data = np.array([1.0, 2.0, np.nan, 4.0, 10.0])
    summary = summarize(reducer(data, 3))
    # Valid: 1, 2, 4, 10 → n 4, mean 17/4 = 4.25, population variance
    # ((−3.25)² + (−2.25)² + (−0.25)² + 5.75²)/4 = (10.5625 + 5.0625 + 0.0625 + 33.0625)/4
    # = 12.1875.
    assert (summary.count, summary.minimum, summary.maximum) == (4, 1.0, 10.0)
    assert summary.mean == pytest.approx(4.25)
    assert summary.variance == pytest.approx(12.1875)


def test_merge_is_order_free():
    rng = np.random.default_rng(0)
    a, b = rng.normal(5, 2, 1000), rng.normal(-3, 0.5, 10)
    ab = RunningSummary.of(a).merge(RunningSummary.of(b))
    ba = RunningSummary.of(b).merge(RunningSummary.of(a))
    whole = np.concatenate((a, b))
    for merged in (ab, ba):
        assert merged.mean == pytest.approx(whole.mean(), rel=1e-12)
        assert merged.variance == pytest.approx(whole.var(), rel=1e-12)


@pytest.mark.parametrize(
    "name, data",
    [
        ("normal", np.random.default_rng(1).normal(size=100_001).astype(np.float32)),
        # 50,000 zeros in one bin force the narrowing pass (max_gathered = 1,000 below).
        ("tied", np.r_[np.zeros(50_000), np.random.default_rng(2).random(300)].astype(np.float32)),
        ("single", np.array([3.0], np.float32)),
        ("integers", np.random.default_rng(3).integers(0, 5, 20_000).astype(np.float32)),
    ],
)
def test_exact_percentiles_equal_numpy_bit_for_bit(name, data):
    percentiles = [0, 5, 33.3, 50, 95, 100]
    got = exact_percentiles(reducer(data), percentiles, bins=256, max_gathered=1000)
    np.testing.assert_array_equal(got, np.percentile(data.astype(np.float64), percentiles))


def test_no_values_and_bad_percentiles_are_errors():
    with pytest.raises(ValueError, match="no valid values"):
        exact_percentiles(reducer(np.full(5, np.nan)), [50])
    with pytest.raises(ValueError, match="outside"):
        exact_percentiles(reducer(np.ones(5)), [101])

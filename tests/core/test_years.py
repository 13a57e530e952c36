"""Joint ranges over several years (core.years)."""

import numpy as np
import pytest

from mine_eco_plugin.core import years
from mine_eco_plugin.core.evaluation_index import normalise


def test_joint_and_per_year_ranges():
    extremes = years.IndicatorExtremes(indicators=2, years=2)
    extremes.add(0, 0, np.array([1.0, 3.0, np.nan]))
    extremes.add(0, 1, np.array([2.0, 6.0]))
    extremes.add(1, 0, np.array([10.0, 20.0]))
    extremes.add(1, 1, np.array([np.nan, 15.0]))
    low, high = extremes.ranges("joint")
    # Indicator 0 spans 1…6 over both years; indicator 1 spans 10…20.
    assert low.tolist() == [[1.0, 1.0], [10.0, 10.0]]
    assert high.tolist() == [[6.0, 6.0], [20.0, 20.0]]
    low, high = extremes.ranges("per_year")
    assert low.tolist() == [[1.0, 2.0], [10.0, 15.0]]
    assert high.tolist() == [[3.0, 6.0], [20.0, 15.0]]


def test_pooled_standard_deviation():
    moments = years.PooledMoments(indicators=2)
    moments.add([np.array([0.0, 1.0, np.nan]), np.array([0.5, 0.5, 0.2])])
    moments.add([np.array([0.5]), np.array([0.5])])
    # Pixels valid in both: (0, .5), (1, .5), (.5, .5): indicator 0 has values 0, 1, 0.5 →
    # population std √(1/6) = 0.408248; indicator 1 is constant: 0.
    assert moments.count == 3
    assert moments.std() == pytest.approx([np.sqrt(1 / 6), 0.0])


def test_float64_normalisation_for_pooled_statistics():
    """The yearly weights pool statistics of Eq. 18–19 in float64 (the raster path's float32
    would round 1/3 to 0.3333333432674408)."""
    # Eq. 18: (x − min)/(max − min) = 1/3 and 0.5 for min 0, max 6; Eq. 19: 1 − that.
    values = np.array([2.0, 3.0, np.nan])
    up = normalise(values, 0.0, 6.0, +1, dtype=np.float64)
    down = normalise(values, 0.0, 6.0, -1, dtype=np.float64)
    assert up.dtype == np.float64 and down.dtype == np.float64
    assert up[:2].tolist() == [1 / 3, 0.5] and np.isnan(up[2])
    assert down[:2].tolist() == [1 - 1 / 3, 0.5] and np.isnan(down[2])
    assert normalise(values, 0.0, 6.0, +1).dtype == np.float32  # the raster default

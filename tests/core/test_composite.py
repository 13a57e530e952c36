"""Monthly compositing of a dated series (core.composite)."""

import datetime as dt

import numpy as np
import pytest

from mine_eco_plugin.core import composite


@pytest.mark.parametrize(
    "name, expected",
    [
        ("fused_ndvi_2013-05-17", dt.date(2013, 5, 17)),
        ("NDVI_20130517.tif", dt.date(2013, 5, 17)),
        ("MOD13Q1.A2013137.h27v05", dt.date(2013, 5, 17)),  # day 137 of 2013 = 17 May
        ("LC08_123032_2013_05_17", dt.date(2013, 5, 17)),
        ("ndvi", None),
    ],
)
def test_dates_from_names(name, expected):
    assert composite.parse_date(name) == expected


def test_maximum_value_composite_by_hand():
    # Four 16-day layers of one row of two pixels: 5 Jan, 21 Jan, 6 Feb, 22 Mar.
    stack = np.array(
        [[[0.2, np.nan]], [[0.5, 0.3]], [[0.4, np.nan]], [[np.nan, np.nan]]], dtype=np.float32
    )
    months = [1, 1, 2, 3]
    mvc = composite.monthly_composite(stack, months, "max")
    assert mvc.shape == (12, 1, 2)
    # January: max(0.2, 0.5) = 0.5 and max(NaN, 0.3) = 0.3; February: 0.4 and NaN; March: all
    # NaN; April–December: no layer.
    np.testing.assert_allclose(mvc[0], [[0.5, 0.3]])
    np.testing.assert_allclose(mvc[1], [[0.4, np.nan]])
    assert np.isnan(mvc[2:]).all()
    mean = composite.monthly_composite(stack, months, "mean")
    np.testing.assert_allclose(mean[0], [[0.35, 0.3]])
    median = composite.monthly_composite(stack[:3], [1, 1, 1], "median")
    np.testing.assert_allclose(median[0], [[0.4, 0.3]])

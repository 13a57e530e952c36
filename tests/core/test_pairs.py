"""Choice of the base pairs for each date of a series (core.pairs)."""

import datetime as dt

import pytest

from mine_eco_plugin.core.pairs import bracketing_pairs

D = dt.date
BASE = [D(2013, 7, 1), D(2013, 1, 10), D(2013, 11, 20)]  # listed out of order on purpose


@pytest.mark.parametrize(
    "target, expected",
    [
        (D(2013, 3, 1), (1, 0, True)),  # between 10 Jan and 1 Jul
        (D(2013, 9, 1), (0, 2, True)),  # between 1 Jul and 20 Nov
        # On 1 Jul: paired with its nearer neighbour, 20 Nov (142 days; 10 Jan is 172).
        (D(2013, 7, 1), (0, 2, True)),
        (D(2012, 12, 1), (1, 0, False)),  # before the first: the two earliest
        (D(2014, 2, 1), (0, 2, False)),  # after the last: the two latest
    ],
)
def test_bracketing_pairs(target, expected):
    assert bracketing_pairs(BASE, target) == expected


def test_pairs_need_two_distinct_dates():
    with pytest.raises(ValueError, match="at least two"):
        bracketing_pairs([D(2013, 1, 1)], D(2013, 2, 1))
    with pytest.raises(ValueError, match="share a date"):
        bracketing_pairs([D(2013, 1, 1), D(2013, 1, 1)], D(2013, 2, 1))

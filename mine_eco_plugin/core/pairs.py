"""Which fine–coarse base pairs predict a date of a series (ESTARFM over a time series)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


def bracketing_pairs(base: Sequence[dt.date], target: dt.date) -> tuple[int, int, bool]:
    """Indices (into ``base``, any order) of the two base dates that predict ``target``: the
    latest on or before it and the earliest on or after it. A target outside the base dates'
    span takes the two nearest (the third value is then False: an extrapolation). A target on
    a base date takes that date and its nearest neighbour (ESTARFM then reproduces the fine
    image closely; the pair is still reported). ValueError with fewer than two base dates or
    a repeated base date."""
    if len(base) < 2:
        raise ValueError("at least two base pairs are needed")
    if len(set(base)) != len(base):
        raise ValueError("two base pairs share a date")
    order = sorted(range(len(base)), key=lambda i: base[i])
    dates = [base[i] for i in order]
    before = [k for k, d in enumerate(dates) if d <= target]
    after = [k for k, d in enumerate(dates) if d >= target]
    if before and after:
        first, second = before[-1], after[0]
        if first == second:  # on a base date: pair it with its nearest neighbour
            neighbours = [k for k in (first - 1, first + 1) if 0 <= k < len(dates)]
            second = min(neighbours, key=lambda k: abs((dates[k] - target).days))
            first, second = sorted((first, second))
        return order[first], order[second], True
    if not before:  # before the first base date
        return order[0], order[1], False
    return order[-2], order[-1], False

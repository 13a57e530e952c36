"""Temporal compositing of a dated image series into calendar months.

A fused 16-day NDVI series (ESTARFM) becomes the 12 monthly layers CASA needs. The maximum-
value composite (Holben 1986) is the usual choice for NDVI: it keeps each month's least
cloud- and atmosphere-affected observation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import numpy as np

METHODS = ("max", "mean", "median")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# 2013-05-17, 2013_05_17, 2013.05.17, 20130517; then the year + day-of-year of MODIS and
# Landsat names (A2013137, 2013137).
_YMD = re.compile(r"(?<!\d)(19|20)(\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")
_YDOY = re.compile(r"(?<!\d)(19|20)(\d{2})(00[1-9]|0[1-9]\d|[12]\d{2}|3[0-5]\d|36[0-6])(?!\d)")


def parse_date(text: str) -> dt.date | None:
    """The first date found in ``text`` (a layer or file name), or None."""
    for match in _YMD.finditer(text):
        try:
            return dt.date(int(match[1] + match[2]), int(match[3]), int(match[4]))
        except ValueError:
            continue
    for match in _YDOY.finditer(text):
        year = int(match[1] + match[2])
        day = int(match[3])
        try:
            return dt.date(year, 1, 1) + dt.timedelta(days=day - 1)
        except ValueError:
            continue
    return None


def parse_dates(text: str) -> list[dt.date]:
    """Comma-separated ISO dates (YYYY-MM-DD); ValueError names the first bad one."""
    dates = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            dates.append(dt.date.fromisoformat(item))
        except ValueError:
            raise ValueError(f"'{item}' is not a date (YYYY-MM-DD)") from None
    return dates


def monthly_composite(stack: np.ndarray, months: Sequence[int], method: str = "max") -> np.ndarray:
    """(12, rows, cols): for each calendar month the ``method`` (max, mean or median) of the
    layers of ``stack`` (n, rows, cols) dated in that month, ignoring NaN; NaN where a month
    has no layer or no valid value."""
    if method not in METHODS:
        raise ValueError(f"unknown composite method '{method}' ({', '.join(METHODS)})")
    stack = np.asarray(stack, dtype=np.float32)
    months = np.asarray(months)
    out = np.full((12, *stack.shape[1:]), np.nan, dtype=np.float32)
    reduce = {"max": np.nanmax, "mean": np.nanmean, "median": np.nanmedian}[method]
    for month in range(1, 13):
        layers = stack[months == month]
        if layers.shape[0] == 0:
            continue
        valid = np.isfinite(layers).any(axis=0)
        if not valid.any():
            continue
        with np.errstate(invalid="ignore"):
            values = reduce(np.where(np.isfinite(layers), layers, np.nan)[:, valid], axis=0)
        out[month - 1][valid] = values
    return out

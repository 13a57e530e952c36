"""temporal_composite through processing.run: a dated series into 12 monthly layers."""

import datetime as dt

import bad_input
import declared
import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster


def series(tmp_path, year=2013, step=16):
    """A 16-day series over one year on 1×2 pixels: value = day of year / 1000 in pixel 0,
    NoData (−1) in pixel 1 from day 100 to 200. Returns the paths and dates."""
    paths, dates = [], []
    day = dt.date(year, 1, 1)
    while day.year == year:
        doy = day.timetuple().tm_yday
        second = -1.0 if 100 <= doy <= 200 else 0.5
        paths.append(
            write_raster(
                tmp_path / f"ndvi_{day.isoformat()}.tif",
                np.array([[doy / 1000, second]]),
                nodata=-1,
            )
        )
        dates.append(day)
        day += dt.timedelta(days=step)
    return paths, dates


def test_maximum_value_composite_of_a_16_day_series(run, tmp_path):
    paths, dates = series(tmp_path)
    out = tmp_path / "monthly.tif"
    run("temporal_composite", {"INPUT": paths, "OUTPUT": str(out)})
    values, dataset = read_raster(out)
    assert values.shape == (12, 1, 2)
    # Pixel 0 grows with the day of year: each month's maximum is its last date's day / 1000.
    for month in range(1, 13):
        last = max(d for d in dates if d.month == month)
        assert values[month - 1, 0, 0] == pytest.approx(last.timetuple().tm_yday / 1000)
    # Pixel 1: NoData on days 100–200. May (days 121–151) and June (152–181) have only
    # dates in that span: NoData; April has day 97 (7 Apr) outside it: 0.5.
    assert np.isnan(values[4, 0, 1]) and np.isnan(values[5, 0, 1])
    assert values[3, 0, 1] == pytest.approx(0.5)
    assert dataset.GetRasterBand(1).GetDescription() == "Jan"
    assert dataset.GetMetadataItem("Jan") == "2013-01-01;2013-01-17"


def test_mean_composite_of_one_year_from_typed_dates(run, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    paths, dates = series(tmp_path / "a")
    other, _ = series(tmp_path / "b", 2014)
    typed = (
        ",".join(d.isoformat() for d in dates)
        + ","
        + ",".join(d.replace(year=2014).isoformat() for d in dates)
    )
    out = tmp_path / "monthly_mean.tif"
    run(
        "temporal_composite",
        {"INPUT": paths + other, "DATES": typed, "METHOD": 1, "YEAR": 2013, "OUTPUT": str(out)},
    )
    values, _ = read_raster(out)
    # January 2013: days 1 and 17 → mean 0.009.
    assert values[0, 0, 0] == pytest.approx(0.009)


def test_a_missing_month_is_named(run, tmp_path):
    paths, dates = series(tmp_path)
    without_march = [p for p, d in zip(paths, dates, strict=True) if d.month != 3]
    with pytest.raises(QgsProcessingException, match="no layer dated in Mar"):
        run("temporal_composite", {"INPUT": without_march, "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()
    out = tmp_path / "gap.tif"
    run(
        "temporal_composite",
        {"INPUT": without_march, "ALLOW_EMPTY_MONTHS": True, "OUTPUT": str(out)},
    )
    assert np.isnan(read_raster(out)[0][2]).all()


def test_dates_are_needed(run, tmp_path):
    path = write_raster(tmp_path / "ndvi.tif", np.ones((1, 2)))
    with pytest.raises(QgsProcessingException, match="no date in its name"):
        run("temporal_composite", {"INPUT": [path], "OUTPUT": str(tmp_path / "x.tif")})
    with pytest.raises(QgsProcessingException, match="DATES: 2 date"):
        run(
            "temporal_composite",
            {"INPUT": [path], "DATES": "2013-01-01,2013-02-01", "OUTPUT": str(tmp_path / "x.tif")},
        )


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid(
    "temporal_composite",
    lambda d: {
        "INPUT": [d.field(seed=m) for m in range(12)],
        "DATES": ",".join(f"2013-{m:02d}-15" for m in range(1, 13)),
    },
)
INPUTS.desktop("temporal_composite", lambda s: {"INPUT": list(s.dated)})
# temporal_composite: a dated series.
INPUTS.case(
    "temporal_composite",
    "no-dates",
    lambda d: {"INPUT": [d.field(), d.field(seed=1)]},
    "INPUT",
)
INPUTS.case(
    "temporal_composite",
    "dates-count",
    lambda d: {"INPUT": [d.field()], "DATES": "2013-01-01,2013-02-01"},
    "DATES",
)
INPUTS.case(
    "temporal_composite",
    "missing-months",
    lambda d: {"INPUT": [d.field()], "DATES": "2013-01-01"},
    "INPUT",
)
INPUTS.case(
    "temporal_composite",
    "all-nodata-months-allowed",
    lambda d: {"INPUT": [d.nodata()], "DATES": "2013-01-01", "ALLOW_EMPTY_MONTHS": True},
    check=lambda results, data, parameters: np.testing.assert_equal(
        np.isnan(bad_input.output(results)[0]).all(), True
    ),
)

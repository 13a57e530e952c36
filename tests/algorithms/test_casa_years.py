"""casa_npp_years through processing.run: a dated NDVI series → monthly composites → CASA per
year → the mean over the years, checked against separate 'temporal_composite' and 'casa_npp'
runs and numpy."""

import datetime as dt
import os
import shutil

import bad_input
import declared
import numpy as np
import pytest
from qgis.core import QgsProcessingException, QgsVectorLayer
from rasters import read_raster, write_raster

ROWS, COLS = 2, 3
MONTH = np.arange(12)[:, None, None]
#: Two dates a month: the 5th and the 20th.
DAYS = (5, 20)


def ndvi_of(date: dt.date, year_shift: float) -> np.ndarray:
    """A seasonal NDVI, different on each date (so a composite's choice shows), one NoData
    pixel on 20 June of every year."""
    season = np.cos(2 * np.pi * (date.month - 7) / 12)
    rng = np.random.default_rng(date.toordinal())
    values = 0.45 + 0.25 * season + year_shift + rng.uniform(-0.05, 0.05, (ROWS, COLS))
    if (date.month, date.day) == (6, 20):
        values[1, 2] = -9999
    return values.astype(np.float32)


def series(folder, years=(2012, 2013), name="fused_{}.tif"):
    """The dated series, one file per date, dated in its name; (paths, dates)."""
    folder.mkdir(exist_ok=True)
    paths, dates = [], []
    for year in years:
        for month in range(1, 13):
            for day in DAYS:
                date = dt.date(year, month, day)
                values = ndvi_of(date, 0.05 * (year - years[0]))
                path = folder / name.format(date.isoformat())
                paths.append(write_raster(path, values, nodata=-9999))
                dates.append(date)
    return paths, dates


def climate(folder, warmer=0.0, tag=""):
    """12-band temperature, precipitation and solar radiation (MJ·m⁻²·month⁻¹)."""
    season = np.cos(2 * np.pi * (MONTH - 6) / 12)
    rng = np.random.default_rng(11)
    grids = {
        "TEMPERATURE": 12 + warmer + 12 * season + rng.uniform(-2, 2, (12, ROWS, COLS)),
        "PRECIPITATION": 80 + 40 * season + rng.uniform(0, 30, (12, ROWS, COLS)) - 10 * warmer,
        "SOLAR": 450 + 250 * season + rng.uniform(-20, 20, (12, ROWS, COLS)),
    }
    return {
        name: write_raster(folder / f"{name.lower()}{tag}.tif", values.astype(np.float32))
        for name, values in grids.items()
    }


@pytest.fixture
def landcover(tmp_path):
    return write_raster(tmp_path / "lc.tif", np.array([[1, 4, 6], [5, 6, 7]], np.float32))


def separate(run, paths, year, weather, landcover, folder):
    """temporal_composite of the year, then casa_npp on it: the annual NPP array."""
    monthly = folder / f"monthly_{year}.tif"
    run("temporal_composite", {"INPUT": paths, "YEAR": year, "OUTPUT": str(monthly)})
    npp = folder / f"casa_{year}.tif"
    run(
        "casa_npp",
        {"NDVI": [str(monthly)], **weather, "LANDCOVER": landcover, "OUTPUT": str(npp)},
    )
    return read_raster(npp)[0][0]


def test_each_year_equals_composite_then_casa_and_the_mean_is_numpy_s(run, tmp_path, landcover):
    paths, dates = series(tmp_path / "series")
    early, late = climate(tmp_path, tag="_2012"), climate(tmp_path, warmer=2.0, tag="_2013")
    out = tmp_path / "out"
    results = run(
        "casa_npp_years",
        {
            "NDVI": paths,
            # Climate per year, in year order: one 12-band raster per year.
            **{name: [early[name], late[name]] for name in early},
            "LANDCOVER": landcover,
            "OUTPUT": str(out / "mean.tif"),
            "OUTPUT_FOLDER": str(out / "years"),
            "OUTPUT_TABLE": str(out / "years.csv"),
        },
    )
    (tmp_path / "check").mkdir()
    expected = {
        2012: separate(run, paths, 2012, early, landcover, tmp_path / "check"),
        2013: separate(run, paths, 2013, late, landcover, tmp_path / "check"),
    }
    assert tifs(out / "years") == [
        "ndvi_monthly_2012.tif",
        "ndvi_monthly_2013.tif",
        "npp_2012.tif",
        "npp_2013.tif",
    ]
    assert results["LAYERS"] == [str(out / "years" / f"npp_{y}.tif") for y in (2012, 2013)]
    for year, npp in expected.items():
        got = read_raster(out / "years" / f"npp_{year}.tif")[0][0]
        np.testing.assert_array_equal(got, npp)  # the same runs, bit for bit
    # The composite by hand at one pixel: January 2012 is the larger of the 5th and the 20th.
    monthly = read_raster(out / "years" / "ndvi_monthly_2012.tif")[0]
    january = max(ndvi_of(dt.date(2012, 1, d), 0.0)[0, 1] for d in DAYS)
    assert monthly[0, 0, 1] == pytest.approx(january)
    # June 20 is NoData at (1, 2): June is the 5th's value there.
    assert monthly[5, 1, 2] == pytest.approx(ndvi_of(dt.date(2012, 6, 5), 0.0)[1, 2])
    # The warmer, drier 2013 differs from 2012: the climate of each year reached its year.
    assert not np.allclose(expected[2012], expected[2013], equal_nan=True)
    mean = read_raster(out / "mean.tif")[0][0]
    by_numpy = np.mean(np.stack([expected[2012], expected[2013]]).astype(np.float64), axis=0)
    np.testing.assert_allclose(mean, by_numpy, rtol=1e-6)
    # Pixels valid in both years are valid in the mean, and only those.
    np.testing.assert_array_equal(np.isnan(mean), np.isnan(by_numpy))
    # The table: one row per year with its mean and valid pixels, then the mean raster's.
    rows = [
        f.attributes() for f in QgsVectorLayer(str(out / "years.csv"), "t", "ogr").getFeatures()
    ]
    assert [str(r[0]) for r in rows] == ["2012", "2013", "mean"]
    assert [int(r[1]) for r in rows[:2]] == [24, 24]  # two dates a month composited
    for row, npp in zip(rows, [expected[2012], expected[2013], by_numpy], strict=True):
        assert float(row[2]) == pytest.approx(float(np.nanmean(npp)), rel=1e-6)
        assert int(row[3]) == int(np.isfinite(npp).sum())
    assert results["MEAN_NPP"] == pytest.approx(float(np.nanmean(by_numpy)), rel=1e-6)
    assert results["MEANS"].startswith("2012: ")
    # Inputs untouched: still the 48 dated rasters, with their values.
    assert len(tifs(tmp_path / "series")) == 48
    np.testing.assert_array_equal(read_raster(paths[0])[0][0], ndvi_of(dates[0], 0.0))


def test_dates_from_names_or_typed_give_the_same_years(run, tmp_path, landcover):
    paths, dates = series(tmp_path / "named", years=(2013,))
    # The same series in MODIS-style names (year and day of year, A2013005) ...
    doy, _ = series(tmp_path / "doy", years=(2013,), name="x_{}.tif")
    renamed = []
    for path, date in zip(doy, dates, strict=True):
        target = os.path.join(
            os.path.dirname(path), f"ndvi_A{date.year}{date.timetuple().tm_yday:03d}.tif"
        )
        os.replace(path, target)
        renamed.append(target)
    # ... and without any date in the names, the dates typed in DATES.
    plain = []
    for index, path in enumerate(paths):
        target = tmp_path / "plain" / f"layer{index:02d}.tif"
        target.parent.mkdir(exist_ok=True)
        shutil.copy(path, target)
        plain.append(str(target))
    weather = climate(tmp_path)
    outputs = {}
    for case, layers, typed in (
        ("named", paths, ""),
        ("doy", renamed, ""),
        ("typed", plain, ",".join(d.isoformat() for d in dates)),
    ):
        out = tmp_path / f"out_{case}"
        run(
            "casa_npp_years",
            {
                "NDVI": layers,
                "DATES": typed,
                **weather,
                "LANDCOVER": landcover,
                "OUTPUT": str(out / "mean.tif"),
                "OUTPUT_FOLDER": str(out / "years"),
            },
        )
        outputs[case] = read_raster(out / "years" / "npp_2013.tif")[0][0]
        # One year: the mean is that year.
        np.testing.assert_array_equal(read_raster(out / "mean.tif")[0][0], outputs[case])
    np.testing.assert_array_equal(outputs["named"], outputs["doy"])
    np.testing.assert_array_equal(outputs["named"], outputs["typed"])


def test_climate_shared_by_every_year_or_given_per_year(run, tmp_path, landcover):
    paths, _ = series(tmp_path / "series")
    weather = climate(tmp_path)
    warm = climate(tmp_path, warmer=3.0, tag="_warm")
    out = tmp_path / "out"
    run(
        "casa_npp_years",
        {
            "NDVI": paths,
            # Temperature per year (24 single-band layers: 2012's 12 months, then 2013's);
            # precipitation and solar radiation the same 12 months every year.
            "TEMPERATURE": months(tmp_path, weather, warm),
            "PRECIPITATION": [weather["PRECIPITATION"]],
            "SOLAR": [weather["SOLAR"]],
            "LANDCOVER": landcover,
            "OUTPUT": str(out / "mean.tif"),
            "OUTPUT_FOLDER": str(out / "years"),
        },
    )
    (tmp_path / "check").mkdir()
    shared = {k: weather[k] for k in ("PRECIPITATION", "SOLAR")}
    for year, temperature in ((2012, weather), (2013, warm)):
        expected = separate(
            run,
            paths,
            year,
            {**shared, "TEMPERATURE": temperature["TEMPERATURE"]},
            landcover,
            tmp_path / "check",
        )
        got = read_raster(out / "years" / f"npp_{year}.tif")[0][0]
        np.testing.assert_array_equal(got, expected)
    # 18 temperature layers are neither 12 nor 12 per year: an error naming TEMPERATURE.
    with pytest.raises(QgsProcessingException, match=r"TEMPERATURE: .*24 layers .*got 18"):
        run(
            "casa_npp_years",
            {
                "NDVI": paths,
                "TEMPERATURE": months(tmp_path, weather, warm)[:18],
                **shared,
                "OUTPUT": str(tmp_path / "bad.tif"),
                "OUTPUT_FOLDER": str(tmp_path / "bad"),
            },
        )
    assert not (tmp_path / "bad.tif").exists()


def months(folder, *weathers) -> list[str]:
    """The temperature rasters split into single-band monthly layers, year after year."""
    paths = []
    for k, weather in enumerate(weathers):
        values = read_raster(weather["TEMPERATURE"])[0]
        for month in range(12):
            paths.append(write_raster(folder / f"t_{k}_{month + 1:02d}.tif", values[month]))
    return paths


def test_a_year_with_a_month_missing_is_named_before_any_run(run, tmp_path):
    paths, dates = series(tmp_path / "series")
    # No March 2013 and no November 2013.
    kept = [
        p
        for p, d in zip(paths, dates, strict=True)
        if (d.year, d.month) not in ((2013, 3), (2013, 11))
    ]
    weather = climate(tmp_path)
    out = tmp_path / "out"
    base = {
        "NDVI": kept,
        **weather,
        "OUTPUT": str(out / "mean.tif"),
        "OUTPUT_FOLDER": str(out / "years"),
    }
    with pytest.raises(
        QgsProcessingException, match=r"NDVI: no layer dated in .*2013 \(Mar, Nov\)"
    ):
        run("casa_npp_years", base)
    assert not (out / "years").exists() or tifs(out / "years") == []
    assert not (out / "mean.tif").exists()
    # YEARS leaves the incomplete year out; a year without any layer is named.
    run("casa_npp_years", {**base, "YEARS": "2012"})
    assert tifs(out / "years") == ["ndvi_monthly_2012.tif", "npp_2012.tif"]
    with pytest.raises(QgsProcessingException, match=r"YEARS: no NDVI layer dated in 2015"):
        run("casa_npp_years", {**base, "YEARS": "2012,2015"})


def tifs(folder) -> list[str]:
    """The rasters in ``folder`` (GDAL keeps statistics beside them in .aux.xml files)."""
    return sorted(p.name for p in folder.glob("*.tif"))


def test_a_layer_without_a_date_among_dated_ones_is_named(run, tmp_path):
    paths, _ = series(tmp_path / "series", years=(2013,))
    odd = write_raster(tmp_path / "ndvi_extra.tif", np.zeros((ROWS, COLS), np.float32))
    with pytest.raises(QgsProcessingException, match=r"NDVI \(layer 25, 'ndvi_extra'\): no date"):
        run(
            "casa_npp_years",
            {
                "NDVI": [*paths, odd],
                **climate(tmp_path),
                "OUTPUT": str(tmp_path / "m.tif"),
                "OUTPUT_FOLDER": str(tmp_path / "y"),
            },
        )


def test_monthly_ndvi_without_dates_is_casa_as_it_is(run, tmp_path, landcover):
    """12-band NDVI rasters without dates: one CASA year each, in order, as 'casa_npp' alone
    (what the 'NPP drivers' model gave before it took a dated series)."""
    paths, _ = series(tmp_path / "series", years=(2013,))
    stack = np.stack([read_raster(p)[0][0] for p in paths[::2]])  # the 5th of each month
    first = write_raster(tmp_path / "ndvi_a.tif", stack, nodata=-9999)
    second = write_raster(tmp_path / "ndvi_b.tif", np.clip(stack + 0.1, -1, 1), nodata=-9999)
    weather = climate(tmp_path)
    out = tmp_path / "out"
    run(
        "casa_npp_years",
        {
            "NDVI": [first, second],
            **weather,
            "LANDCOVER": landcover,
            "SOLAR_UNIT": 1,  # W·m⁻²: month lengths come from YEARS
            "YEARS": "2012,2013",
            "OUTPUT": str(out / "mean.tif"),
            "OUTPUT_FOLDER": str(out / "years"),
        },
    )
    assert tifs(out / "years") == ["npp_2012.tif", "npp_2013.tif"]
    for year, ndvi in ((2012, first), (2013, second)):
        alone = tmp_path / f"alone_{year}.tif"
        run(
            "casa_npp",
            {
                "NDVI": [ndvi],
                **weather,
                "LANDCOVER": landcover,
                "SOLAR_UNIT": 1,
                "YEAR": year,
                "OUTPUT": str(alone),
            },
        )
        np.testing.assert_array_equal(
            read_raster(out / "years" / f"npp_{year}.tif")[0][0], read_raster(alone)[0][0]
        )
    # The mean carries CASA's settings: shared ones once, the others per year (W·m⁻² →
    # MJ·m⁻²·month⁻¹ uses February's 29 days in 2012 and 28 in 2013: 29·86400/10⁶ = 2.5056).
    tags = read_raster(out / "mean.tif")[1].GetMetadata()
    assert tags["T_EPSILON2_CONSTANT"] == "1.184"
    assert tags["YEARS"] == "2012,2013"
    assert (
        tags["SOLAR_FACTORS"].startswith("2012: 2.6784,2.5056,")
        and "; 2013: 2.6784,2.4192," in (tags["SOLAR_FACTORS"])
    )
    # Without YEARS the years are numbered.
    run(
        "casa_npp_years",
        {
            "NDVI": [first],
            **weather,
            "OUTPUT": str(tmp_path / "one.tif"),
            "OUTPUT_FOLDER": str(tmp_path / "one"),
        },
    )
    assert tifs(tmp_path / "one") == ["npp_1.tif"]


def test_the_yearly_folder_may_be_left_out(run, tmp_path):
    """OUTPUT_FOLDER is a side output: left out, the yearly rasters go to a temporary folder
    and the mean is the same."""
    paths, _ = series(tmp_path / "series", years=(2013,))
    weather = climate(tmp_path)
    named = run(
        "casa_npp_years",
        {
            "NDVI": paths,
            **weather,
            "OUTPUT": str(tmp_path / "a.tif"),
            "OUTPUT_FOLDER": str(tmp_path / "a"),
        },
    )
    unnamed = run("casa_npp_years", {"NDVI": paths, **weather, "OUTPUT": str(tmp_path / "b.tif")})
    assert unnamed["LAYERS"][0] != named["LAYERS"][0]
    assert os.path.basename(unnamed["LAYERS"][0]) == "npp_2013.tif"
    assert os.path.isfile(unnamed["LAYERS"][0])
    np.testing.assert_array_equal(
        read_raster(tmp_path / "a.tif")[0], read_raster(tmp_path / "b.tif")[0]
    )
    assert sorted(p.name for p in tmp_path.glob("*.tif")) == [
        "a.tif",
        "b.tif",
        "precipitation.tif",
        "solar.tif",
        "temperature.tif",
    ]


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------
INPUTS = declared.Inputs()
INPUTS.valid("casa_npp_years", lambda d: bad_input.casa_series(d))
INPUTS.desktop(
    "casa_npp_years",
    lambda s: {
        "NDVI": list(s.dated),
        "TEMPERATURE": [s.monthly["temperature"]],
        "PRECIPITATION": [s.monthly["precipitation"]],
        "SOLAR": [s.monthly["solar"]],
    },
)


casa_series = bad_input.casa_series


INPUTS.case(
    "casa_npp_years",
    "month-missing",
    lambda d: casa_series(d, months=[m for m in range(1, 13) if m != 4]),
    "NDVI",
)
INPUTS.case("casa_npp_years", "dates-count", lambda d: casa_series(d, DATES="2013-01-15"), "DATES")
INPUTS.case("casa_npp_years", "year-absent", lambda d: casa_series(d, YEARS="2013,2014"), "YEARS")
INPUTS.case(
    "casa_npp_years",
    "climate-six-months",
    lambda d: casa_series(d, TEMPERATURE=[d.field(0, 20, bands=6)]),
    "TEMPERATURE",
)
INPUTS.case(
    "casa_npp_years",
    "monthly-years-count",
    lambda d: {**bad_input.casa(d), "YEARS": "2012,2013"},
    "YEARS",
)
INPUTS.case(
    "casa_npp_years",
    "ndvi-x10000",
    lambda d: bad_input.casa(d, NDVI=[d.field(0, 9000, bands=12)]),
    "NDVI",
)
INPUTS.case(
    "casa_npp_years",
    "one-year-mean",
    lambda d: casa_series(d),
    # One year: the per-pixel mean over the years is that year's NPP.
    check=lambda results, data, parameters: np.testing.assert_array_equal(
        bad_input.output(results)[0], read_raster(results["LAYERS"][0])[0]
    ),
)

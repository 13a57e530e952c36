"""index_trend through processing.run: outputs, classes, shares, NoData and bad input."""

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

YEARS = "2000,2005,2010,2016,2020"
TEMPORARY = dict.fromkeys(("OUTPUT", "OUTPUT_Z", "OUTPUT_P", "OUTPUT_CLASS"), "TEMPORARY_OUTPUT")


@pytest.fixture
def years(tmp_path):
    # Column 0 rises strictly (S = 10, Z = 2.2045, p = 0.0275 < 0.05: improvement), column 1
    # falls strictly (decline), column 2 is flat (no change), column 3 has only two valid years.
    values = np.array(
        [
            [0.1, 0.9, 0.5, 0.3],
            [0.2, 0.8, 0.5, -9],
            [0.3, 0.7, 0.5, -9],
            [0.4, 0.6, 0.5, -9],
            [0.5, 0.5, 0.5, 0.4],
        ]
    )
    return [
        write_raster(tmp_path / f"index_{y}.tif", values[i][None, :], nodata=-9)
        for i, y in enumerate(YEARS.split(","))
    ]


def test_classes_slopes_and_shares(run, years, tmp_path):
    outputs = {name: str(tmp_path / f"{name}.tif") for name in ("slope", "z", "p", "cls")}
    results = run(
        "index_trend",
        {
            "INPUT": years,
            "YEARS": YEARS,
            "OUTPUT": outputs["slope"],
            "OUTPUT_Z": outputs["z"],
            "OUTPUT_P": outputs["p"],
            "OUTPUT_CLASS": outputs["cls"],
        },
    )
    slope = read_raster(outputs["slope"])[0][0, 0]
    # Rising column: pairwise slopes 0.1/5, 0.2/10, 0.3/16, 0.4/20, 0.1/5, 0.2/11, 0.3/15,
    # 0.1/6, 0.2/10, 0.1/4 → median of 0.02, 0.02, 0.01875, 0.02, 0.02, 0.018182, 0.02,
    # 0.016667, 0.02, 0.025 = 0.02.
    assert slope[0] == pytest.approx(0.02)
    assert slope[1] == pytest.approx(-0.02)
    assert slope[2] == 0 and np.isnan(slope[3])
    p = read_raster(outputs["p"])[0][0, 0]
    assert p[0] == pytest.approx(0.027486, abs=1e-5)  # Z = 9/√16.667 = 2.20454
    dataset = gdal.Open(outputs["cls"])
    assert dataset.ReadAsArray().tolist() == [[3, 1, 2, 0]]
    assert (tmp_path / "cls.qml").exists()
    # Three valid pixels: one in each class.
    for name in ("SHARE_DECLINE", "SHARE_NO_CHANGE", "SHARE_IMPROVEMENT"):
        assert results[name] == pytest.approx(100 / 3)


def test_year_count_must_match_layers(run, years, tmp_path):
    with pytest.raises(QgsProcessingException, match="YEARS: 4 year"):
        run(
            "index_trend",
            {"INPUT": years, "YEARS": "2000,2005,2010,2016", **TEMPORARY},
        )
    with pytest.raises(QgsProcessingException, match="YEARS: every year must differ"):
        run(
            "index_trend",
            {
                "INPUT": years,
                "YEARS": "2000,2005,2005,2016,2020",
                **TEMPORARY,
            },
        )


def test_run_switch_off_computes_nothing(run, years, tmp_path):
    # RUN off (an optional step of a graphical model): no check of the other values (one
    # layer would be an error), no file written, every output empty.
    out = tmp_path / "slope.tif"
    results = run("index_trend", {"RUN": False, "INPUT": years[:1], "OUTPUT": str(out)})
    assert all(value is None for value in results.values())
    assert "SHARE_IMPROVEMENT" in results and not out.exists()


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("index_trend", lambda d: {"INPUT": bad_input.years(d), "YEARS": bad_input.YEARS5})
INPUTS.desktop(
    "index_trend", lambda s: {"INPUT": list(s.series), "YEARS": ",".join(map(str, s.years))}
)
INPUTS.case(
    "index_trend",
    "years-count",
    lambda d: {"INPUT": bad_input.years(d), "YEARS": "2000,2005", **bad_input.TREND_OUT},
    "YEARS",
)
INPUTS.case(
    "index_trend",
    "years-text",
    lambda d: {
        "INPUT": bad_input.years(d),
        "YEARS": "2000,x,2010,2015,2020",
        **bad_input.TREND_OUT,
    },
    "YEARS",
)
INPUTS.case(
    "index_trend",
    "years-repeated",
    lambda d: {
        "INPUT": bad_input.years(d),
        "YEARS": "2000,2000,2010,2015,2020",
        **bad_input.TREND_OUT,
    },
    "YEARS",
)
INPUTS.case(
    "index_trend",
    "far-layer",
    lambda d: {
        "INPUT": [*bad_input.years(d, 4), d.field(origin=bad_input.FAR)],
        "YEARS": bad_input.YEARS5,
        **bad_input.TREND_OUT,
    },
    "INPUT",
)
INPUTS.case(
    "index_trend",
    "all-nodata",
    lambda d: {
        "INPUT": [d.nodata() for _ in range(5)],
        "YEARS": bad_input.YEARS5,
        **bad_input.TREND_OUT,
    },
    "INPUT",
    bad_input.all_nodata(),
)
INPUTS.case(
    "index_trend",
    "p-in-range",
    lambda d: {"INPUT": bad_input.years(d), "YEARS": bad_input.YEARS5, **bad_input.TREND_OUT},
    check=bad_input.within(0, 1, "OUTPUT_P"),
)

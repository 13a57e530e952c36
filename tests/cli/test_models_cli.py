"""The resilience study's model as users run it headless: qgis_process.bin with its optional steps
off (a command line written before they existed) and on."""

from __future__ import annotations

import numpy as np
import pytest
import qgis_runner
from florida import earlier_indices, expected_trend_classes, florida_crop
from osgeo import gdal
from rasters import read_raster
from report_page import read_page

#: The model's outputs before the optional steps existed: a command line naming these and no
#: new input must run as it did.
OUTPUTS = {
    "ddi:C1_DDI": ".tif",
    "rusle:C2_EROSION": ".tif",
    "rusle:EROSION_CLASSES": ".tif",
    "fvc:C3_FVC": ".tif",
    "vhi:C4_VHI": ".tif",
    "hai:C6_HAI": ".tif",
    "tasseled_cap:C7_TASSELED_CAP": ".tif",
    "ndbsi:C8_DRYNESS": ".tif",
    "lst:C9_LST": ".tif",
    "albedo:C10_ALBEDO": ".tif",
    "bai:C12_BAI": ".tif",
    "eco:C13_ECO": ".tif",
    "landscape:C14_SHDI": ".tif",
    "landscape:C15_FN": ".tif",
    "resilience:INDEX": ".tif",
    "resilience:WEIGHTS_TABLE": ".csv",
    "classes:CLASSES": ".tif",
    "classes:CLASS_TABLE": ".csv",
    "report:REPORT": ".html",
}
SENSITIVITY_OUTPUTS = (
    "sensitivity:STABILITY",
    "sensitivity:INFLUENCE_TABLE",
    "sensitivity:INDEX_MEAN",
    "sensitivity:INDEX_LOW",
    "sensitivity:INDEX_HIGH",
)
TREND_OUTPUTS = {"trend:TREND_SLOPE": ".tif", "trend:TREND_CLASSES": ".tif"}


@pytest.fixture(scope="module")
def florida(l8_fl_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("florida")
    inputs = florida_crop(l8_fl_dir, folder)
    return inputs, earlier_indices(inputs, folder)


def run_model(qgis_process, inputs, folder, outputs, *extra) -> dict:
    """qgis_process run of the model: the inputs (a list repeated, as multiple layers are
    given on the command line), one file per named output in ``folder``, then ``extra``."""
    folder.mkdir()
    named = {name: f"{folder / name.split(':')[1]}{suffix}" for name, suffix in outputs.items()}
    args = qgis_runner.run_arguments("resilience_evaluation", {**inputs, **named})
    done = qgis_process.call(*args, *extra)
    return qgis_runner.json_answer(done.stdout)["results"]


@pytest.fixture(scope="module")
def steps_off(qgis_process, florida, tmp_path_factory):
    return run_model(qgis_process, florida[0], tmp_path_factory.mktemp("off") / "out", OUTPUTS)


@pytest.fixture(scope="module")
def steps_on(qgis_process, florida, tmp_path_factory):
    """Both optional steps on, with the trend's outputs named and the sensitivity's left off
    the command line (written to temporary files; the report still gets them)."""
    inputs, earlier = florida
    return run_model(
        qgis_process,
        inputs,
        tmp_path_factory.mktemp("on") / "out",
        {**OUTPUTS, **TREND_OUTPUTS},
        "RUN_SENSITIVITY=true",
        "SENSITIVITY_DRAWS=40",
        "SEED=7",
        "RUN_TREND=true",
        *(f"EARLIER_INDICES={path}" for path in earlier),
        "YEARS=2000,2005,2010,2015,2020",
    )


def test_without_the_optional_steps_the_report_still_runs(steps_off):
    assert set(OUTPUTS) <= set(steps_off)
    for name in (*SENSITIVITY_OUTPUTS, *TREND_OUTPUTS):
        assert steps_off[name] is None, name
    page = read_page(steps_off["report:REPORT"])
    assert {"index-maps", "class-shares", "weights"} <= set(page.sections)
    assert "sensitivity" not in page.sections and "trend" not in page.sections
    assert {"sensitivity", "trend"} <= set(page.omitted)


def test_the_optional_steps_leave_the_other_outputs_unchanged(steps_off, steps_on):
    # Bit for bit: every raster and table of a run without the steps.
    for name, suffix in OUTPUTS.items():
        if suffix == ".tif":
            np.testing.assert_array_equal(
                gdal.Open(steps_on[name]).ReadAsArray(),
                gdal.Open(steps_off[name]).ReadAsArray(),
                name,
            )
        elif suffix == ".csv":
            with open(steps_on[name], encoding="utf-8") as on, open(steps_off[name]) as off:
                assert on.read() == off.read(), name


def test_trend_and_sensitivity_sections_of_the_report(steps_on):
    index = read_raster(steps_on["resilience:INDEX"])[0][0]
    valid = ~np.isnan(index)
    trend = gdal.Open(steps_on["trend:TREND_CLASSES"]).ReadAsArray()
    # Mann–Kendall by hand over 0.1, 0.2, 0.3, 0.4 and this run's index (tests/florida.py).
    np.testing.assert_array_equal(trend[valid], expected_trend_classes(index)[valid])
    page = read_page(steps_on["report:REPORT"])
    pixels = int(valid.sum())
    shares = {row[1][0]: (row[2][0], row[3][0]) for row in page.tables["trend-shares-table"][1:-1]}
    improving = int((valid & (index > 0.4)).sum())
    assert shares["Significant improvement"] == (str(improving), f"{100 * improving / pixels:.2f}")
    assert shares["Significant decline"] == ("0", "0.00")
    # The sensitivity's outputs were not named: temporary files, gone when qgis_process ended,
    # yet the report shows them (its figures are copied beside the page).
    for name in SENSITIVITY_OUTPUTS:
        assert steps_on[name], name
    stability = page.tables["stability-table"]
    assert [cell[0] for cell in stability[-1][:2]] == ["Total", str(pixels)]  # all valid
    interval = {
        row[0][0]: [float(cell[0]) for cell in row[1:]] for row in page.tables["interval-table"][1:]
    }
    low, high = interval["5 % percentile of the draws"], interval["95 % percentile of the draws"]
    mean, width = (
        interval["Mean over the draws"],
        interval["Width of the 90 % interval (95 % − 5 %)"],
    )
    assert low[0] == mean[0] == high[0] == width[0] == pixels
    # Means are linear: mean(HIGH − LOW) = mean(HIGH) − mean(LOW) (each rounded to 4 decimals).
    assert width[1] == pytest.approx(high[1] - low[1], abs=2e-4)
    assert low[1] <= mean[1] <= high[1]
    influence = page.tables["influence-table"]
    assert len(influence) == 1 + 14  # header and the 14 indicators the index used
    assert [row[0][0] for row in influence[1:]] == [str(rank) for rank in range(1, 15)]


def test_a_wrong_trend_input_fails_before_any_step(qgis_process, florida, tmp_path):
    """RUN_TREND with four earlier indices but three years: qgis_process stops before the
    first step (no reflectance, no indicator written), naming the model's input YEARS."""
    inputs, earlier = florida
    out = tmp_path / "out"
    out.mkdir()
    named = {name: f"{out / name.split(':')[1]}{suffix}" for name, suffix in OUTPUTS.items()}
    args = qgis_runner.run_arguments("resilience_evaluation", {**inputs, **named})
    args += ["RUN_TREND=true", *(f"EARLIER_INDICES={path}" for path in earlier)]
    done = qgis_process.call(*args, "YEARS=2000,2010,2020", check=False)
    assert done.returncode != 0
    assert "YEARS: 3 year(s) given; the trend step needs 5" in done.stdout + done.stderr
    assert list(out.iterdir()) == []

"""html_report through processing.run: every section with its PNGs, class shares that sum to
100 % and equal hand counts, omitted sections listed, atomic output and bad input."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsFeature, QgsProcessingException, QgsVectorLayer
from rasters import class_raster, write_raster
from report_page import read_page

from mine_eco_plugin.report.charts import percentages

ALL_SECTIONS = (
    "index-maps",
    "class-maps",
    "class-shares",
    "several-years",
    "weights",
    "sensitivity",
    "trend",
    "planner",
    "npp",
    "npp-validation",
    "correlation",
    "importance",
    "rgb",
    "dominant",
    "other-maps",
    "parameters",
    "data-sources",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLANNER_CSV = (
    "site_id,scenario,target,rank,area_ha,changed_ha,cost_per_ha,cost,mean_gain,total_gain,"
    "gain_per_ha,gain_per_cost,pixels_up,pixels_down,drivers,npp_driver,npp_driver_share,"
    "action\n"
    "B,single,2,2,4.5,4.5,100,450,0.01,0.9,0.2,0.002,12,0,C3 FVC 60%,,,\n"
    "A,single,2,1,2.0,1.8,200,400,0.05,1.2,0.6,0.003,30,1,C3 FVC 70%; C9 LST 30%,soil,"
    "0.8,soil reconstruction\n"
    "C,single,4,3,1.0,1.0,50,50,-0.01,-0.05,-0.05,-0.001,0,3,C14 SHDI 100%,,,\n"
    "ALL,all,,,7.5,7.3,,900,0.02,2.1,0.28,0.0023333,42,4,C3 FVC 65%,,,\n"
)
PLANNER_SUMMARY = "Sites ranked by gain per hectare: 1. A (→ class 2) <best>"


# Hand counts of the three class rasters (codes 1-3, 0 = NoData) over 8 × 10 pixels.
def year_codes(year_index: int) -> np.ndarray:
    codes = np.ones((8, 10), dtype=np.uint8)
    codes[:, 4 + year_index :] = 2  # year 0: 32 severe, 48 poor; shifts one column a year
    codes[6:, :] = 3  # 20 good
    codes[0, 0] = 0  # one NoData pixel
    return codes


def hand_counts(year_index: int) -> dict[int, int]:
    codes = year_codes(year_index)
    return {c: int((codes == c).sum()) for c in (1, 2, 3)}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    rng = np.random.default_rng(3)
    index = []
    classes = []
    for year in range(3):
        values = rng.uniform(0.2, 0.9, (8, 10)).astype(np.float32)
        values[0, 0] = -9999
        index.append(write_raster(folder / f"index_{year}.tif", values, nodata=-9999))
        classes.append(class_raster(folder / f"classes_{year}.tif", year_codes(year)))
    trend = class_raster(
        folder / "trend.tif",
        np.tile(np.array([1, 2, 3, 2, 2], dtype=np.uint8), (8, 2)),
        ((1, "Significant decline", (215, 48, 39)), (2, "No change", (255, 255, 191)),
         (3, "Significant improvement", (26, 152, 80))),
    )  # fmt: skip
    correlation_classes = (
        (1, "Significant positive", (202, 0, 32)),
        (2, "Significant negative", (5, 113, 176)),
        (3, "Insignificant", (220, 220, 220)),
    )
    correlation = [
        class_raster(
            folder / f"corr_{name}.tif",
            rng.integers(1, 4, (8, 10)).astype(np.uint8),
            correlation_classes,
        )
        for name in ("mat", "soc")
    ]
    dominant_classes = (
        (1, "C: climate", (215, 25, 28)),
        (2, "S: soil", (26, 150, 65)),
        (3, "M: mining", (44, 123, 182)),
        (4, "CS: climate > soil (coupled)", (200, 120, 80)),
    )
    dominant = class_raster(
        folder / "dominant.tif", rng.integers(0, 5, (8, 10)).astype(np.uint8), dominant_classes
    )
    rgb = write_raster(folder / "rgb.tif", rng.integers(0, 256, (4, 8, 10)), dtype=gdal.GDT_Byte)
    dataset = gdal.Open(rgb, gdal.GA_Update)
    for band, text in enumerate(("red: climate", "green: soil", "blue: mining", "alpha"), 1):
        dataset.GetRasterBand(band).SetDescription(text)
    dataset.GetRasterBand(4).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    npp = write_raster(folder / "npp.tif", rng.uniform(50, 600, (8, 10)), nodata=-9999)
    ndvi = write_raster(folder / "ndvi.tif", rng.uniform(-0.1, 0.8, (8, 10)), nodata=-9999)
    erosion = class_raster(
        folder / "erosion_classes.tif",
        rng.integers(1, 3, (8, 10)).astype(np.uint8),
        ((1, "slight", (255, 255, 204)), (2, "severe", (189, 0, 38))),
        qml_only=True,
    )
    weights = QgsVectorLayer(
        "None?field=code:string&field=indicator:string&field=trend:string"
        "&field=objective:double&field=subjective:double&field=combined:double",
        "weights",
        "memory",
    )
    features = []
    for row in (
        ("C1", "Desertification index", "-", 0.0554, 0.1815, 0.1185),
        ("C2", "Soil erosion degree", "-", 0.0601, 0.0500, 0.0551),
        ("C3", "NDVI", "+", 0.8845, 0.7685, 0.8264),
    ):
        feature = QgsFeature(weights.fields())
        feature.setAttributes(list(row))
        features.append(feature)
    weights.dataProvider().addFeatures(features)
    # Class stability of 80 pixels by hand: 10 at 0.4 (≤ 0.5), 20 at 0.7, 10 at 0.8,
    # 15 at 0.95 and 25 at 1 (the same class in every draw).
    stability_values = np.repeat([0.4, 0.7, 0.8, 0.95, 1.0], [10, 20, 10, 15, 25]).reshape(8, 10)
    stability = write_raster(folder / "stability.tif", stability_values, nodata=-9999)
    # The index over the weight draws, by hand: 5 % percentile 0.40 + 0.01·column, the 90 %
    # interval 0.02 wide in rows 0–3 and 0.10 wide in rows 4–7, the mean halfway; the 95 %
    # percentile NoData at (0, 0), so that pixel is left out of every row (79 valid).
    low_values = np.tile(0.40 + 0.01 * np.arange(10), (8, 1))
    width_values = np.repeat([0.02, 0.10], 4)[:, None] * np.ones((8, 10))
    high_values = low_values + width_values
    high_values[0, 0] = -9999
    interval = {
        "SENSITIVITY_MEAN": write_raster(
            folder / "index_mean.tif", low_values + width_values / 2, nodata=-9999
        ),
        "SENSITIVITY_LOW": write_raster(folder / "index_low.tif", low_values, nodata=-9999),
        "SENSITIVITY_HIGH": write_raster(folder / "index_high.tif", high_values, nodata=-9999),
    }
    influence = folder / "influence.csv"
    influence.write_text(
        "indicator,trend,weight,weight_p05,weight_p95,spearman_rho,rank\n"
        "C2 Soil erosion,-,0.3,0.2,0.4,-0.61,2\n"
        "C3 FVC,+,0.7,0.6,0.8,0.83,1\n",
        encoding="utf-8",
    )
    importance = folder / "importance.csv"
    importance.write_text(
        "level,name,category,importance,importance_sd,percent\n"
        "driver,MAT,climate,2.0,0.2,20\n"
        "driver,SOC,soil,3.0,0.3,30\n"
        "driver,LD,mining,5.0,0.5,50\n"
        "category,climate,climate,,,20\n",
        encoding="utf-8",
    )
    # resilience_years OUTPUT_YEARS: the mean index per year of the resilience study's Figure 2
    # (0.695, 0.685, 0.664, 0.651, 0.657); class shares made up, each year summing to 100.
    yearly = folder / "yearly.csv"
    yearly.write_text(
        "year,pixels,mean_index,pct_severe,pct_poor,pct_moderate,pct_good,pct_excellent\n"
        "2000,1000,0.695,5.0,10.0,20.0,40.0,25.0\n"
        "2005,1000,0.685,6.0,11.0,21.0,38.0,24.0\n"
        "2010,1000,0.664,8.0,13.0,22.0,36.0,21.0\n"
        "2016,998,0.651,9.5,14.5,22.0,35.0,19.0\n"
        "2020,998,0.657,9.0,14.0,22.0,35.5,19.5\n",
        encoding="utf-8",
    )
    # OUTPUT_TRANSITIONS, two pairs of years by hand. 2000→2005: 85 of 100 pixels keep their
    # class, 10 improve (severe→poor), 5 decline (poor→severe). 2005→2010: 30 of 50 keep,
    # 20 improve (good→excellent, moderate→good), none declines.
    transitions = folder / "transitions.csv"
    transitions.write_text(
        "from_year,to_year,from_class,to_class,pixels,area_km2\n"
        "2000,2005,severe,severe,40,0.036\n"
        "2000,2005,severe,poor,10,0.009\n"
        "2000,2005,poor,severe,5,0.0045\n"
        "2000,2005,poor,poor,45,0.0405\n"
        "2005,2010,good,good,30,0.027\n"
        "2005,2010,good,excellent,10,0.009\n"
        "2005,2010,moderate,good,10,0.009\n",
        encoding="utf-8",
    )
    # npp_validation OUTPUT and OUTPUT_PAIRS (values made up; relative_bias is a fraction).
    validation = folder / "validation.csv"
    validation.write_text(
        "class,n,mean_simulated,mean_reference,bias,relative_bias,rmse,r\n"
        "all,6,435.0,411.6667,23.3333,0.0567,25.1661,0.9912\n"
        "forest,3,520.0,496.6667,23.3333,0.0470,23.8048,0.9934\n"
        "cropland,3,350.0,326.6667,23.3333,0.0714,26.4575,0.9820\n",
        encoding="utf-8",
    )
    # restoration_planner OUTPUT (its columns; values made up, consistent: gain_per_ha =
    # total_gain / area_ha, gain_per_cost = total_gain / cost), the rows not in rank order.
    planner = folder / "planner.csv"
    planner.write_text(PLANNER_CSV, encoding="utf-8")
    pairs = folder / "pairs.csv"
    pairs.write_text(
        "x,y,class,simulated,reference\n"
        "1,1,forest,500,480\n2,1,forest,520,500\n3,1,forest,540,510\n"
        "1,2,cropland,300,290\n2,2,cropland,350,330\n3,2,cropland,400,360\n",
        encoding="utf-8",
    )
    return {
        "INDEX": index,
        "CLASSES": classes,
        "YEARS": "2000,2010,2020",
        "YEARLY": str(yearly),
        "TRANSITIONS": str(transitions),
        "NPP_VALIDATION": str(validation),
        "NPP_PAIRS": str(pairs),
        "WEIGHTS": weights,
        "STABILITY": stability,
        "INFLUENCE": str(influence),
        **interval,
        "TREND": trend,
        "PLANNER": str(planner),
        "PLANNER_SUMMARY": PLANNER_SUMMARY,
        "NPP": npp,
        "CORRELATION": correlation,
        "CORRELATION_NAMES": "MAT,SOC",
        "IMPORTANCE": str(importance),
        "RGB": rgb,
        "DOMINANT": dominant,
        "OTHER_RASTERS": [ndvi, erosion],
        "PARAMETERS": '{"classify_index": {"BREAKS": "0.38,0.41,0.63,0.73"}, '
        '"source": "test\\nsee **Table 2**"}',
        "TITLE": "Test report",
    }


@pytest.fixture(scope="module")
def full_report(provider, inputs, tmp_path_factory):
    """One report with every input (shared by the tests that only read it)."""
    import processing
    from qgis.core import QgsProcessingFeedback

    output = tmp_path_factory.mktemp("full") / "out" / "my report.html"
    results = processing.run(
        "mineeco:html_report", {**inputs, "OUTPUT": str(output)}, feedback=QgsProcessingFeedback()
    )
    return output, results


def test_every_section_with_its_figures(full_report):
    output, results = full_report
    assert results["OUTPUT"] == str(output)
    assert results["SECTIONS"].split(",") == list(ALL_SECTIONS)
    assert results["OMITTED"] == ""
    page = read_page(output)
    assert list(page.sections) == ["omitted", *ALL_SECTIONS]
    assert page.omitted == {}
    folder = output.parent / "my report_files"
    assert results["FOLDER"] == str(folder)
    for key in ALL_SECTIONS:
        section = page.sections[key]
        assert section["heading"].strip() and section["caption"].strip(), key
    expected_images = {
        "index-maps": 3,
        "class-maps": 3,
        "class-shares": 1,
        "several-years": 2,  # mean index per year, class shares per year
        "sensitivity": 2,  # class stability, width of the 90 % interval
        "trend": 2,
        "planner": 1,  # gain against cost
        "npp": 1,
        "npp-validation": 1,
        "correlation": 3,
        "importance": 1,
        "rgb": 1,
        "dominant": 2,
        "other-maps": 2,
    }
    for key, section in page.sections.items():
        assert len(section["images"]) == expected_images.get(key, 0), key
        for src in section["images"]:
            # Relative links into the folder beside the page (the space is URL-encoded).
            assert src.startswith("my%20report_files/")
            image = output.parent / unquote(src)
            assert image.is_file() and image.stat().st_size > 1000, src
            assert image.read_bytes()[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        unquote(src).split("/")[1] for s in page.sections.values() for src in s["images"]
    )
    # Nothing half-written is left beside the page.
    assert sorted(p.name for p in output.parent.iterdir()) == ["my report.html", "my report_files"]
    text = output.read_text(encoding="utf-8")
    assert "red: climate" in text.lower()
    # Offline as one folder: the style is inline, nothing is fetched from elsewhere.
    assert "<style>" in text and "@media print" in text
    assert not re.search(r"<(script|link|iframe)\b|https?://|url\(", text, flags=re.IGNORECASE)
    # Every figure has a numbered caption naming what it shows and its input.
    for key, section in page.sections.items():
        assert len(section["figcaptions"]) == len(section["images"]), key
        for caption in section["figcaptions"]:
            assert caption.startswith("Figure ") and "Input" in caption, (key, caption)
    numbers = [c.split(".")[0] for s in page.sections.values() for c in s["figcaptions"]]
    assert numbers == [f"Figure {i}" for i in range(1, len(numbers) + 1)]


def test_parameters_are_a_table_per_step(full_report):
    output, _ = full_report
    page = read_page(output)
    # Top-level entries in "General" first, then one table per step.
    general = [[t for t, _ in row] for row in page.tables["parameters-1"]]
    assert general == [["Parameter", "Value"], ["source", "testsee Table 2"]]
    step = [[t for t, _ in row] for row in page.tables["parameters-2"]]
    assert step == [["Parameter", "Value"], ["BREAKS", "0.38,0.41,0.63,0.73"]]
    text = output.read_text(encoding="utf-8")
    assert "test<br>see <strong>Table 2</strong>" in text
    assert '<h3 class="step">classify_index</h3>' in text


def test_data_sources_show_file_names_with_the_path_on_hover(full_report, inputs):
    output, _ = full_report
    page = read_page(output)
    rows = page.tables["sources-table"][1:]
    files = {row[0][0]: [] for row in rows}
    for row in rows:
        files[row[0][0]].append(row[2][0])
    assert files["CLASSES"] == ["classes_0.tif", "classes_1.tif", "classes_2.tif"]
    assert files["YEARLY"] == ["yearly.csv"] and files["NPP_PAIRS"] == ["pairs.csv"]
    text = output.read_text(encoding="utf-8")
    # The full path only in the hover title, never as cell text.
    assert f'title="{inputs["CLASSES"][0]}">classes_0.tif</span>' in text
    assert f">{inputs['CLASSES'][0]}<" not in text


def test_class_shares_sum_to_100_and_equal_hand_counts(full_report):
    output, _ = full_report
    table = read_page(output).tables["class-shares-table"]
    header, *rows = table
    assert [text for text, _ in header] == ["Class", "2000", "2010", "2020"]
    body = [row for row in rows if row[0][0] in ("severe", "poor", "good")]
    assert [row[0][0] for row in body] == ["severe", "poor", "good"]
    for year in range(3):
        counts = hand_counts(year)
        total = sum(counts.values())
        assert total == 79  # 80 pixels less the NoData one
        shown = [float(row[1 + year][0]) for row in body]
        assert sum(shown) == pytest.approx(100.0, abs=1e-9)
        for count, row, share in zip(counts.values(), body, shown, strict=True):
            assert int(row[1 + year][1]["data-pixels"]) == count
            # Rounded to 0.01 so that the year sums to 100: within one step of count/total.
            assert share == pytest.approx(100.0 * count / total, abs=0.01)
        assert shown == percentages(list(counts.values()))
    footer = {row[0][0]: [text for text, _ in row[1:]] for row in rows if row not in body}
    assert footer["Total"] == ["100.00"] * 3
    assert footer["Valid pixels"] == ["79"] * 3
    assert "Mean index" in footer  # the index layers match the class layers year by year


def test_other_tables_follow_the_inputs(full_report):
    output, _ = full_report
    page = read_page(output)
    weights = page.tables["weights-table"]
    assert [t for t, _ in weights[0]] == [
        "Code",
        "Indicator",
        "Objective weight",
        "Subjective weight",
        "Combined weight",
        "Trend",
    ]
    assert [t for t, _ in weights[1]] == ["C1", "Desertification index", "0.0554", "0.1815",
                                          "0.1185", "-"]  # fmt: skip
    assert [t for t, _ in weights[-1]][:2] == ["Sum", "–"] or weights[-1][0][0] == "Sum"
    importance = page.tables["importance-table"]
    # Driver rows only, largest first (the CSV's category row is left out).
    assert [row[1][0] for row in importance[1:]] == ["LD", "SOC", "MAT"]
    assert [row[3][0] for row in importance[1:]] == ["50.00", "30.00", "20.00"]
    trend = page.tables["trend-shares-table"]
    # Columns 1, 2, 3, 2, 2 repeated: 16 decline, 48 no change, 16 improvement of 80.
    assert [(row[1][0], row[2][0], row[3][0]) for row in trend[1:4]] == [
        ("Significant decline", "16", "20.00"),
        ("No change", "48", "60.00"),
        ("Significant improvement", "16", "20.00"),
    ]
    correlation = page.tables["correlation-shares-table"]
    for row in correlation[1:]:
        assert sum(float(text) for text, _ in row[1:4]) == pytest.approx(100.0)
        assert row[4][0] == "80"
    erosion = page.tables["other-erosion_classes-shares"]
    assert [row[0][0] for row in erosion[1:]] == ["slight", "severe"]  # labels from the QML


def test_omitted_sections_are_listed(run, inputs, tmp_path):
    output = tmp_path / "classes only.html"
    results = run(
        "html_report",
        {"CLASSES": inputs["CLASSES"], "YEARS": inputs["YEARS"], "OUTPUT": str(output)},
    )
    assert results["SECTIONS"] == "class-maps,class-shares,data-sources"
    page = read_page(output)
    assert set(page.sections) == {"omitted", "class-maps", "class-shares", "data-sources"}
    omitted = set(ALL_SECTIONS) - {"class-maps", "class-shares", "data-sources"}
    assert set(page.omitted) == omitted
    assert results["OMITTED"].split(",") == [k for k in ALL_SECTIONS if k in omitted]
    assert "no INDEX given" in page.omitted["index-maps"]
    assert "no IMPORTANCE given" in page.omitted["importance"]
    assert "Mean index" not in output.read_text(encoding="utf-8")


def test_no_input_gives_a_page_listing_every_omission(run, tmp_path):
    output = tmp_path / "empty.html"
    results = run("html_report", {"OUTPUT": str(output)})
    assert results["SECTIONS"] == ""
    assert set(read_page(output).omitted) == set(ALL_SECTIONS)
    assert list((tmp_path / "empty_files").iterdir()) == []


def test_rerun_replaces_the_figures_and_refuses_foreign_folders(run, inputs, tmp_path):
    output = tmp_path / "report.html"
    run("html_report", {"NPP": inputs["NPP"], "TREND": inputs["TREND"], "OUTPUT": str(output)})
    assert len(list((tmp_path / "report_files").iterdir())) == 3
    run("html_report", {"NPP": inputs["NPP"], "OUTPUT": str(output)})
    assert [p.name for p in (tmp_path / "report_files").iterdir()] == ["01_NPP.png"]
    (tmp_path / "report_files" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(QgsProcessingException, match="OUTPUT: the folder"):
        run("html_report", {"NPP": inputs["NPP"], "OUTPUT": str(output)})
    assert (tmp_path / "report_files" / "notes.txt").exists()


def test_bad_input_names_the_parameter(run, inputs, tmp_path):
    output = tmp_path / "report.html"
    with pytest.raises(QgsProcessingException, match="YEARS: 2 label"):
        run(
            "html_report",
            {"CLASSES": inputs["CLASSES"], "YEARS": "2000,2010", "OUTPUT": str(output)},
        )
    with pytest.raises(QgsProcessingException, match="CLASSES.*non-integer"):
        run("html_report", {"CLASSES": [inputs["NPP"]], "OUTPUT": str(output)})
    with pytest.raises(QgsProcessingException, match="CORRELATION_NAMES: 1 name"):
        run(
            "html_report",
            {
                "CORRELATION": inputs["CORRELATION"],
                "CORRELATION_NAMES": "MAT",
                "OUTPUT": str(output),
            },
        )
    # A failed run leaves nothing behind.
    assert list(tmp_path.iterdir()) == []


def test_cancelled_run_leaves_nothing(run, inputs, tmp_path, cancel_after):
    output = tmp_path / "report.html"
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(
            "html_report",
            {"CLASSES": inputs["CLASSES"], "OUTPUT": str(output)},
            feedback=cancel_after(2),
        )
    assert list(tmp_path.iterdir()) == []


def test_styled_continuous_other_raster_falls_back_to_a_colour_bar(run, tmp_path):
    # A float raster with a palette style beside it: not a class raster, so no shares table.
    path = write_raster(tmp_path / "lst.tif", np.linspace(20.5, 35.5, 80).reshape(8, 10))
    (tmp_path / "lst.qml").write_text(
        "<qgis><colorPalette><paletteEntry value='20' color='#ff0000' label='warm'/>"
        "</colorPalette></qgis>",
        encoding="utf-8",
    )
    output = tmp_path / "out" / "report.html"
    results = run("html_report", {"OTHER_RASTERS": [path], "OUTPUT": str(output)})
    assert results["SECTIONS"] == "other-maps,data-sources"
    page = read_page(output)
    assert len(page.sections["other-maps"]["images"]) == 1
    assert not [t for t in page.tables if t.startswith("other-")]


def test_sensitivity_section_by_hand(full_report):
    output, _ = full_report
    page = read_page(output)
    header, *rows = page.tables["stability-table"]
    # Shares of the 80 pixels in the fixture: 10, 20, 10, 15, 25 → 12.5, 25, 12.5, 18.75, 31.25 %.
    assert [float(row[2][0]) for row in rows[:5]] == [12.5, 25.0, 12.5, 18.75, 31.25]
    assert [int(row[1][0]) for row in rows[:5]] == [10, 20, 10, 15, 25]
    caption = page.sections["sensitivity"]["caption"]
    # Mean stability (10·0.4 + 20·0.7 + 10·0.8 + 15·0.95 + 25·1)/80 = 65.25/80 = 0.816; more
    # than 0.9: (15 + 25)/80 = 50.0 %. The most influential indicator is rank 1, FVC.
    assert "0.816" in caption and "50.0 %" in caption and "C3 FVC (ρ = +0.830)" in caption
    influence = page.tables["influence-table"]
    assert [cell[0] for cell in influence[1][:2]] == ["1", "C3 FVC"]  # sorted by rank


def test_index_interval_by_hand(full_report):
    output, _ = full_report
    page = read_page(output)
    header, *rows = page.tables["interval-table"]
    assert [cell[0] for cell in header] == [
        "Index over the draws", "Valid pixels", "Mean", "Std. dev.", "Minimum", "Maximum"
    ]  # fmt: skip
    table = {row[0][0]: [cell[0] for cell in row[1:]] for row in rows}
    # 79 valid pixels (the fixture's (0, 0) is NoData in the 95 % percentile only).
    # 5 %: (8·(10·0.40 + 0.01·45) − 0.40)/79 = 35.2/79 = 0.44557, from 0.40 to 0.49.
    assert table["5 % percentile of the draws"][0] == "79"
    assert table["5 % percentile of the draws"][1] == "0.4456"
    assert table["5 % percentile of the draws"][3:] == ["0.4000", "0.4900"]
    # Width: 39 pixels 0.02 wide and 40 pixels 0.10 wide: (39·0.02 + 40·0.10)/79 = 0.060506.
    width = table["Width of the 90 % interval (95 % − 5 %)"]
    assert width[1] == "0.0605" and width[3:] == ["0.0200", "0.1000"]
    # Mean: 0.44557 + 0.060506/2 = 0.47582; 95 %: 0.44557 + 0.060506 = 0.50608.
    assert table["Mean over the draws"][1] == "0.4758"
    assert table["95 % percentile of the draws"][1] == "0.5061"
    caption = page.sections["sensitivity"]["caption"]
    assert "the index averages 0.476 over the draws" in caption
    assert "its 90 % interval is 0.061 wide on average (at most 0.100)" in caption


def test_several_years_section_holds_the_yearly_table_and_transitions(full_report):
    output, _ = full_report
    page = read_page(output)
    section = page.sections["several-years"]
    yearly = [[t for t, _ in row] for row in page.tables["yearly-table"]]
    assert yearly[0] == ["Year", "Valid pixels", "Mean index", "severe (%)", "poor (%)",
                         "moderate (%)", "good (%)", "excellent (%)"]  # fmt: skip
    # The resilience study's Figure 2 means, year by year.
    assert [row[0] for row in yearly[1:]] == ["2000", "2005", "2010", "2016", "2020"]
    assert [row[2] for row in yearly[1:]] == ["0.6950", "0.6850", "0.6640", "0.6510", "0.6570"]
    assert yearly[4][1] == "998" and yearly[1][3:] == ["5.0000", "10.0000", "20.0000",
                                                       "40.0000", "25.0000"]  # fmt: skip
    assert "2000 0.695, 2005 0.685, 2010 0.664, 2016 0.651, 2020 0.657" in section["caption"]
    # Transitions 2000→2005: rows severe (40 stay, 10 to poor) and poor (5 to severe, 45
    # stay); column totals 45 and 55 of 100.
    matrix = [[t for t, _ in row] for row in page.tables["transitions-2000-2005"]]
    assert matrix == [
        ["2000 → 2005", "severe", "poor", "Total"],
        ["severe", "40", "10", "50"],
        ["poor", "5", "45", "50"],
        ["Total", "45", "55", "100"],
    ]
    later = [[t for t, _ in row] for row in page.tables["transitions-2005-2010"]]
    assert later[0] == ["2005 → 2010", "moderate", "good", "excellent", "Total"]
    assert later[2] == ["good", "0", "30", "10", "40"]
    # 85/100 kept, 10 improved, 5 declined; 30/50 kept, 20 improved, none declined.
    assert (
        "2000→2005 85.0 % kept their class, 10.0 % improved, 5.0 % declined" in (section["caption"])
    )
    assert (
        "2005→2010 60.0 % kept their class, 40.0 % improved, 0.0 % declined" in (section["caption"])
    )
    assert any("Figure 2" in c for c in section["figcaptions"])  # the study's Figure 2
    assert any("Figure 3" in c and "stacked" in c for c in section["figcaptions"])


def test_npp_validation_section_holds_the_statistics(full_report):
    output, _ = full_report
    page = read_page(output)
    table = [[t for t, _ in row] for row in page.tables["npp-validation-table"]]
    assert table[0] == ["Land cover", "Pairs", "Mean simulated", "Mean reference", "Bias",
                        "Relative bias (%)", "RMSE", "r"]  # fmt: skip
    # As given, relative bias ×100 (0.0567 → 5.670 %).
    assert table[1] == ["all", "6", "435.000", "411.667", "23.333", "5.670", "25.166", "0.991"]
    assert [row[0] for row in table[1:]] == ["all", "forest", "cropland"]
    section = page.sections["npp-validation"]
    assert (
        "overall bias +23.33 gC·m⁻²·yr⁻¹, RMSE 25.17 gC·m⁻²·yr⁻¹, r = 0.991" in (section["caption"])
    )
    (caption,) = section["figcaptions"]
    assert "6 compared pairs" in caption and "1:1" in caption and "pairs.csv" in caption


def test_weights_of_a_preset_leave_out_the_empty_columns(run, tmp_path):
    # composite_index OUTPUT_WEIGHTS with weights from a preset: no objective or subjective
    # weight, the normalisation range given.
    weights = tmp_path / "weights.csv"
    weights.write_text(
        "code,indicator,trend,minimum,maximum,objective,subjective,combined\n"
        "C1,NDVI,+,0.1,0.9,,,0.6\n"
        "C2,LST,-,20,45,,,0.4\n",
        encoding="utf-8",
    )
    output = tmp_path / "out" / "weights.html"
    run("html_report", {"WEIGHTS": str(weights), "OUTPUT": str(output)})
    page = read_page(output)
    table = [[t for t, _ in row] for row in page.tables["weights-table"]]
    assert table[0] == ["Code", "Indicator", "Combined weight", "Trend", "Range minimum",
                        "Range maximum"]  # fmt: skip
    assert table[1] == ["C1", "NDVI", "0.6000", "+", "0.1000", "0.9000"]
    assert table[-1][:3] == ["Sum", "", "1.0000"]  # 0.6 + 0.4 under the combined weight
    caption = page.sections["weights"]["caption"]
    assert "No objective weight or subjective weight in the table" in caption
    assert "Range minimum and maximum" in caption


def test_dominant_driver_map_recolours_coupled_classes_too_alike(run, tmp_path):
    # rf_driver_contribution's colours: red, green, blue and two coupled mixes 50 apart.
    classes = (
        (1, "C: climate", (215, 25, 28)),
        (2, "S: soil", (26, 150, 65)),
        (3, "M: mining", (44, 123, 182)),
        (4, "CS: climate > soil (coupled)", (173, 104, 83)),
        (5, "CM: climate > mining (coupled)", (177, 97, 114)),
    )
    codes = np.repeat(np.arange(1, 6, dtype=np.uint8), 16).reshape(8, 10)
    dominant = class_raster(tmp_path / "dominant.tif", codes, classes)
    output = tmp_path / "out" / "dominant.html"
    run("html_report", {"DOMINANT": dominant, "OUTPUT": str(output)})
    page = read_page(output)
    map_caption = page.sections["dominant"]["figcaptions"][0]
    assert "CS: climate > soil (coupled), CM: climate > mining (coupled)" in map_caption
    shares = [[t for t, _ in row] for row in page.tables["dominant-shares-table"]]
    assert [row[3] for row in shares[1:6]] == ["20.00"] * 5  # 16 of 80 pixels each


# --- the page in a real browser engine (Debian's Chromium through Playwright) ---------------

CHROMIUM = "/usr/bin/chromium"
PAGE_WIDTH = 1280


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright; the tests skip with the reason when
    either is missing (scripts/setup_env.sh --peers installs chromium, requirements-dev.txt
    playwright)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.skip(f"playwright is not installed (requirements-dev.txt): {error}")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            engine = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except Exception as error:  # a browser that cannot start here: say why
            pytest.skip(f"{CHROMIUM} does not start: {error}")
        yield engine
        engine.close()


LAYOUT_SCRIPT = """() => {
    const page = document.documentElement.clientWidth;
    const tables = [...document.querySelectorAll('table')].map(t => ({
        id: t.id, right: t.getBoundingClientRect().right, width: t.offsetWidth,
        box: t.parentElement.clientWidth}));
    const images = [...document.querySelectorAll('img')].map(i => ({
        src: i.getAttribute('src'), complete: i.complete, natural: i.naturalWidth,
        shown: i.clientWidth}));  // the image itself, without its border
    return {scroll: document.documentElement.scrollWidth, page, tables, images,
            height: document.documentElement.scrollHeight};
}"""


def test_layout_in_a_browser_at_1280_px(full_report, browser):
    output, _ = full_report
    page = browser.new_page(viewport={"width": PAGE_WIDTH, "height": 900})
    page.goto(output.as_uri(), wait_until="load")
    layout = page.evaluate(LAYOUT_SCRIPT)
    assert layout["scroll"] <= PAGE_WIDTH  # no horizontal scroll bar
    assert len(layout["tables"]) >= 15
    for table in layout["tables"]:
        # No table wider than the page, nor than the box it sits in (no sideways scrolling).
        assert table["right"] <= layout["page"] + 0.5, table
        assert table["width"] <= table["box"] + 0.5, table
    expected = sum(len(s["images"]) for s in read_page(output).sections.values())
    assert len(layout["images"]) == expected == 25  # with the planner chart
    for image in layout["images"]:
        assert image["complete"] and image["natural"] > 0, image  # loaded from the folder
        assert image["shown"] <= image["natural"] + 0.5, image  # never upscaled
    # The data-sources table: file names, not paths; each row one line high or so.
    rows = page.evaluate(
        "() => [...document.querySelectorAll('#sources-table tbody tr')]"
        ".map(r => r.getBoundingClientRect().height)"
    )
    assert rows and max(rows) < 120, rows
    page.close()


def test_print_layout_keeps_figures_whole(full_report, browser, tmp_path):
    output, _ = full_report
    page = browser.new_page(viewport={"width": PAGE_WIDTH, "height": 900})
    page.goto(output.as_uri(), wait_until="load")
    page.emulate_media(media="print")
    styles = page.evaluate(
        "() => [...document.querySelectorAll('figure')].map(f => getComputedStyle(f).breakInside)"
    )
    assert styles and set(styles) == {"avoid"}  # no map cut across pages
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-"
    # A4 from the print stylesheet's @page: 210 × 297 mm = 595.3 × 841.9 pt (Chromium rounds
    # to whole CSS pixels: 794 × 1123 px = 595.5 × 842.25 pt).
    boxes = re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", data)
    assert len(boxes) > 1
    for width, height in boxes:
        assert float(width) == pytest.approx(595.3, abs=1.0)
        assert float(height) == pytest.approx(841.9, abs=1.0)
    page.close()


def test_planner_section_numbers_are_the_planner_table(full_report):
    """The ranked site table: the 'single' rows of PLANNER_CSV by rank (A, B, C), with the
    planner's numbers (4 decimals); the ALL row in its own table; the summary paragraph as
    given (escaped)."""
    output, _ = full_report
    page = read_page(output)
    table = [[text for text, _ in row] for row in page.tables["planner-table"]]
    assert table[0] == [
        "Rank",
        "Site",
        "Target class",
        "Area (ha)",
        "Total gain (index · ha)",
        "Gain per ha",
        "Gain per unit cost",
        "Pixels up a class",
        "Indicators behind the gain",
        "Dominant NPP driver",
        "Measure",
    ]
    assert table[1:] == [
        ["1", "A", "2", "2.0000", "1.2000", "0.6000", "0.0030", "30", "C3 FVC 70%; C9 LST 30%",
         "soil", "soil reconstruction"],
        ["2", "B", "2", "4.5000", "0.9000", "0.2000", "0.0020", "12", "C3 FVC 60%", "–", "–"],
        ["3", "C", "4", "1.0000", "-0.0500", "-0.0500", "-0.0010", "0", "C14 SHDI 100%", "–",
         "–"],
    ]  # fmt: skip
    together = [[text for text, _ in row] for row in page.tables["planner-all-table"]]
    assert together[1][:4] == ["ALL", "7.5000", "2.1000", "0.2800"]
    text = output.read_text(encoding="utf-8")
    assert "(→ class 2) &lt;best&gt;</p>" in text
    section = page.sections["planner"]
    assert "best: A" in section["caption"] and "3 candidate site(s)" in section["caption"]


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("html_report", lambda d: {"INDEX": bad_input.indicators(d, 1), "YEARS": "2000"})
INPUTS.desktop("html_report", lambda s: {"INDEX": [s.index]})
INPUTS.case(
    "html_report",
    "nothing",
    lambda d: {"OUTPUT": str(d.path(".html"))},
    ("INDEX", "CLASSES"),
    bad_input.page_written,
)
INPUTS.case(
    "html_report",
    "years-count",
    lambda d: {
        "INDEX": bad_input.indicators(d, 2),
        "YEARS": "2000,2010,2020",
        "OUTPUT": str(d.path(".html")),
    },
    "YEARS",
)
INPUTS.case(
    "html_report",
    "importance-malformed",
    lambda d: {
        "INDEX": bad_input.indicators(d, 1),
        "YEARS": "2000",
        "IMPORTANCE": d.text("a;b\n1;2\n"),
        "OUTPUT": str(d.path(".html")),
    },
    "IMPORTANCE",
)
INPUTS.case(
    "html_report",
    "yearly-malformed",
    lambda d: {"YEARLY": d.text("a,b\n1,2\n"), "OUTPUT": str(d.path(".html"))},
    "YEARLY",
)
INPUTS.case(
    "html_report",
    "pairs-malformed",
    lambda d: {"NPP_PAIRS": d.text("x,y,value\n1,2,3\n"), "OUTPUT": str(d.path(".html"))},
    "NPP_PAIRS",
)
INPUTS.case(
    "html_report",
    "index-no-crs",
    lambda d: {"INDEX": [d.field(epsg=None)], "YEARS": "2000", "OUTPUT": str(d.path(".html"))},
    "INDEX",
    lambda results, data, parameters: Path(results["OUTPUT"]).exists(),
)

"""The report fed by the real algorithms: the outputs of the evaluation algorithms
(classify_index, index_trend, composite_index) and of the driver algorithms (local_correlation,
rf_driver_contribution) go straight into html_report, whose numbers equal their own."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsVectorLayer
from rasters import write_raster
from report_page import Page


def test_report_of_the_evaluation_algorithms(run, tmp_path):
    """classify_index, index_trend and composite_index outputs go straight into the report;
    its class shares equal classify_index's own area table (projected grid: shares of pixels
    are shares of area)."""
    rng = np.random.default_rng(11)
    years = ["2000", "2010", "2020"]
    indicators = [
        write_raster(tmp_path / f"indicator_{i}.tif", rng.uniform(0, 1, (30, 40))) for i in range(2)
    ]
    index_layers, class_layers, tables = [], [], []
    for year in years:
        composite = run(
            "composite_index",
            {
                "INPUTS": indicators,
                "TRENDS": "+,-",
                "WEIGHTS": "0.6,0.4",
                "OUTPUT": str(tmp_path / f"index_{year}.tif"),
                "OUTPUT_WEIGHTS": "TEMPORARY_OUTPUT",
            },
        )
        index_layers.append(composite["OUTPUT"])
        # Each year's index is shifted so that the classes change over time.
        shifted = write_raster(
            tmp_path / f"shifted_{year}.tif",
            gdal.Open(composite["OUTPUT"]).ReadAsArray() + 0.05 * years.index(year),
            nodata=-9999,
        )
        index_layers[-1] = shifted
        classified = run(
            "classify_index",
            {
                "INPUT": shifted,
                "OUTPUT": str(tmp_path / f"classes_{year}.tif"),
                "OUTPUT_TABLE": "TEMPORARY_OUTPUT",
            },
        )
        class_layers.append(classified["OUTPUT"])
        tables.append(classified["OUTPUT_TABLE"])
    trend = run(
        "index_trend",
        {
            "INPUT": index_layers,
            "YEARS": ",".join(years),
            "OUTPUT": "TEMPORARY_OUTPUT",
            "OUTPUT_Z": "TEMPORARY_OUTPUT",
            "OUTPUT_P": "TEMPORARY_OUTPUT",
            "OUTPUT_CLASS": "TEMPORARY_OUTPUT",
        },
    )
    output = tmp_path / "report" / "evaluation.html"
    results = run(
        "html_report",
        {
            "INDEX": index_layers,
            "CLASSES": class_layers,
            "YEARS": ",".join(years),
            "WEIGHTS": composite["OUTPUT_WEIGHTS"],
            "TREND": trend["OUTPUT_CLASS"],
            "OUTPUT": str(output),
        },
    )
    assert results["SECTIONS"] == "index-maps,class-maps,class-shares,weights,trend,data-sources"
    page = Page(output.read_text(encoding="utf-8"))
    header, *rows = page.tables["class-shares-table"]
    shares = {row[0][0]: [float(text) for text, _ in row[1:]] for row in rows}
    for j, table in enumerate(tables):
        for feature in table.getFeatures():
            if feature["class"]:  # the total row has no class
                # classify_index's labels and percents; the report's are rounded to 0.01 so
                # that they sum to 100 (largest remainder): within one step of the exact value.
                assert shares[feature["label"]][j] == pytest.approx(feature["percent"], abs=0.01)
    assert shares["Total"] == [100.0, 100.0, 100.0]
    weights = page.tables["weights-table"]
    # Weights given: no objective or subjective weight, so those columns are left out.
    assert [text for text, _ in weights[0]] == [
        "Code",
        "Indicator",
        "Combined weight",
        "Trend",
        "Range minimum",
        "Range maximum",
    ]
    assert [row[2][0] for row in weights[1:3]] == ["0.6000", "0.4000"]
    assert "No objective weight or subjective weight" in page.sections["weights"]["caption"]
    # The data-sources table names the producing algorithms and their recorded settings.
    sources = " ".join(text for row in page.tables["sources-table"] for text, _ in row)
    assert "mineeco:classify_index" in sources and "mineeco:index_trend" in sources
    assert re.search(r"BREAKS = 0\.38,0\.41,0\.63,0\.73", sources)  # folded in <details>
    for src in (s for section in page.sections.values() for s in section["images"]):
        assert (output.parent / src).stat().st_size > 1000
    assert Path(results["FOLDER"]).name == "evaluation_files"


def test_report_of_the_driver_algorithms(run, tmp_path):
    """local_correlation and rf_driver_contribution outputs go straight into the report: shares
    equal the algorithms' own, the importance ranking their table, the RGB note their bands."""
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(4)
    shape = (24, 30)
    drivers = {name: rng.uniform(-1, 1, shape) for name in ("mat", "map", "soc", "ld")}
    target = 300 + 5 * drivers["mat"] + 3 * drivers["map"] + 8 * drivers["soc"] - 10 * drivers["ld"]
    npp = write_raster(tmp_path / "npp.tif", target.astype(np.float32), nodata=-9999)
    paths = {
        name: write_raster(tmp_path / f"{name}.tif", values.astype(np.float32), nodata=-9999)
        for name, values in drivers.items()
    }
    correlations = [
        run(
            "local_correlation",
            {
                "INPUT_X": paths[name],
                "INPUT_Y": npp,
                "WINDOW": 5,
                "OUTPUT_R": "TEMPORARY_OUTPUT",
                "OUTPUT_P": "TEMPORARY_OUTPUT",
                "OUTPUT_CLASS": str(tmp_path / f"class_{name}.tif"),
            },
        )
        for name in ("soc", "ld")
    ]
    forest = run(
        "rf_driver_contribution",
        {
            "TARGET": npp,
            "DRIVERS": [paths[name] for name in ("mat", "map", "soc", "ld")],
            "CATEGORIES": "climate,climate,soil,mining",
            "POINTS": 300,
            "SEED": 1,
            "TREES": 30,
            "OUTPUT_IMPORTANCE": str(tmp_path / "importance.gpkg"),
            "OUTPUT_SCORES": "TEMPORARY_OUTPUT",
            "OUTPUT_RELATIVE": "TEMPORARY_OUTPUT",
            "OUTPUT_RGB": str(tmp_path / "rgb.tif"),
            "OUTPUT_DOMINANT": str(tmp_path / "dominant.tif"),
            "OUTPUT_AREAS": str(tmp_path / "areas.gpkg"),
        },
    )
    output = tmp_path / "drivers.html"
    results = run(
        "html_report",
        {
            "CORRELATION": [c["OUTPUT_CLASS"] for c in correlations],
            "CORRELATION_NAMES": "SOC,LD",
            "IMPORTANCE": forest["OUTPUT_IMPORTANCE"],
            "RGB": forest["OUTPUT_RGB"],
            "DOMINANT": forest["OUTPUT_DOMINANT"],
            "OUTPUT": str(output),
        },
    )
    assert results["SECTIONS"] == "correlation,importance,rgb,dominant,data-sources"
    page = Page(output.read_text(encoding="utf-8"))
    # Correlation shares: the algorithm's own numeric outputs.
    rows = page.tables["correlation-shares-table"][1:]
    for row, numbers in zip(rows, correlations, strict=True):
        shown = [float(text) for text, _ in row[1:4]]
        expected = [numbers[k] for k in ("SHARE_POSITIVE", "SHARE_NEGATIVE", "SHARE_INSIGNIFICANT")]
        assert shown == pytest.approx(expected, abs=0.01)
    # Importance: the driver rows of the table, largest percent first.
    importance = QgsVectorLayer(forest["OUTPUT_IMPORTANCE"], "importance", "ogr")
    drivers_rows = sorted(
        ((f["name"], f["percent"]) for f in importance.getFeatures() if f["level"] == "driver"),
        key=lambda item: -item[1],
    )
    shown = [(row[1][0], float(row[3][0])) for row in page.tables["importance-table"][1:]]
    assert [name for name, _ in shown] == [name for name, _ in drivers_rows]
    assert [p for _, p in shown] == pytest.approx([p for _, p in drivers_rows], abs=0.005)
    # RGB: the channels named from the band descriptions (the default order of the
    # NPP-drivers study's Figure 5a: soil red, mining green, climate blue).
    assert (
        "band 1 → Red: soil, band 2 → Green: mining, band 3 → Blue: climate"
        in (page.sections["rgb"]["caption"])
    )
    # Dominant-driver shares: the algorithm's area table.
    areas = QgsVectorLayer(forest["OUTPUT_AREAS"], "areas", "ogr")
    areas = {f["class"]: f["percent"] for f in areas.getFeatures() if f["code"]}
    dominant = page.tables["dominant-shares-table"][1:-1]
    for row in dominant:
        letters = row[1][0].split(":")[0]
        assert float(row[3][0]) == pytest.approx(areas[letters] or 0.0, abs=0.01)

"""What the report makes of its inputs (no QGIS): tables whose numbers came as text, the
labels of the layers, the sections left out."""

from __future__ import annotations

from mine_eco_plugin.engine import RasterSource
from mine_eco_plugin.report.document import (
    SECTIONS,
    ReportInputs,
    figures_folder,
    omitted_sections,
    typed_table,
)
from mine_eco_plugin.report.page import Section


def test_numbers_read_as_text_become_numbers_but_codes_stay_text():
    # A CSV read by QGIS: every value is text. "code" is a text column whatever it holds.
    fields = ["code", "weight", "note"]
    rows = [
        {"code": "1", "weight": "0.25", "note": "x"},
        {"code": "2", "weight": "", "note": "3"},
    ]
    _, typed = typed_table(fields, rows)
    assert [row["code"] for row in typed] == ["1", "2"]
    assert [row["weight"] for row in typed] == [0.25, None]  # '' is a missing value
    assert [row["note"] for row in typed] == ["x", "3"]  # not every value is a number


def test_layer_labels_are_given_ones_or_the_layer_names():
    layers = [(RasterSource("a.tif"), "classes_2000"), (RasterSource("b.tif"), "classes_2020")]
    inputs = ReportInputs(
        rasters={"CLASSES": layers, "INDEX": layers}, labels={"INDEX": ["1", "2"]}
    )
    assert inputs.labels_of("INDEX") == ["1", "2"]
    assert inputs.labels_of("CLASSES") == ["classes_2000", "classes_2020"]
    assert inputs.labels_of("CORRELATION") == [] and inputs.layers("CORRELATION") == []


def test_omitted_sections_say_which_input_is_missing(tmp_path):
    shown = [Section("weights", "Indicator weights", "")]
    omitted = omitted_sections(shown)
    assert len(omitted) == len(SECTIONS) - 1 and "weights" not in [key for key, _, _ in omitted]
    reasons = {key: reason for key, _, reason in omitted}
    assert reasons["trend"] == "no TREND given (trend class raster of index_trend)"
    assert reasons["data-sources"] == "no input layers"
    assert figures_folder(tmp_path / "my report.html") == tmp_path / "my report_files"

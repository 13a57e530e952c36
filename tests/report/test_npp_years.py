"""The NPP-per-year section (no QGIS): casa_npp_years' table as the report reads a CSV of it
(every value text), shown as a table of the years and a line of the mean NPP; left out without
the table; a table without a year column refused, naming the parameter."""

from __future__ import annotations

import pytest
from report_page import read_page

from mine_eco_plugin.engine import Monitor
from mine_eco_plugin.report.document import SECTIONS, ReportInputs, typed_table, write_report
from mine_eco_plugin.report.rasters import ReportInputError

#: casa_npp_years OUTPUT_TABLE as a CSV gives it: the years not in order, the 'mean' row last
#: (made-up values; the mean row is the per-pixel mean over 2012 and 2013, whose mean over the
#: 6 pixels valid in both years need not be the mean of the yearly means).
FIELDS = ["year", "ndvi_layers", "mean_npp", "valid_pixels"]
ROWS = [
    ("2013", "24", "530.125", "6"),
    ("2012", "24", "512.5", "6"),
    ("mean", "0", "521.3125", "6"),
]


def npp_years_table():
    return typed_table(FIELDS, [dict(zip(FIELDS, row, strict=True)) for row in ROWS])


def report(tmp_path, **tables):
    inputs = ReportInputs(
        tables=tables, table_sources={name: (name, f"{name}.csv") for name in tables}
    )
    return write_report(
        tmp_path / "page.html", inputs, title="T", map_size=100, memory_mb=16, monitor=Monitor()
    )


def test_the_table_is_casa_npp_years_and_the_line_its_means(tmp_path):
    result = report(tmp_path, NPP_YEARS_TABLE=npp_years_table())
    assert [s.key for s in result.sections] == ["npp-years", "data-sources"]
    page = read_page(tmp_path / "page.html")
    table = [[text for text, _ in row] for row in page.tables["npp-years-table"]]
    assert table == [
        ["Year", "NDVI layers", "Mean NPP (gC·m⁻²·yr⁻¹)", "Valid pixels"],
        # Year order; counts as integers, means with two decimals, as given in the table.
        ["2012", "24", "512.50", "6"],
        ["2013", "24", "530.12", "6"],  # 530.125 → 530.12 (binary 530.125 rounds to even)
        # The 'mean' row: the per-pixel mean raster; its 0 NDVI layers is not a count.
        ["Per-pixel mean over the years", "–", "521.31", "6"],
    ]
    section = page.sections["npp-years"]
    assert section["heading"] == "NPP per year"
    # The caption gives each year's mean with one decimal, as the line's labels do.
    assert "mean NPP (gC·m⁻²·yr⁻¹) 2012 512.5, 2013 530.1" in section["caption"]
    (image,) = section["images"]
    assert (tmp_path / image).read_bytes()[:4] == b"\x89PNG"
    (caption,) = section["figcaptions"]
    assert caption.startswith("Figure 1.") and "NPP_YEARS_TABLE (NPP_YEARS_TABLE.csv)" in caption
    # The table is listed among the data sources.
    sources = [[text for text, _ in row] for row in page.tables["sources-table"]]
    assert ["NPP_YEARS_TABLE", "NPP_YEARS_TABLE", "NPP_YEARS_TABLE.csv"] in [
        row[:3] for row in sources
    ]


def test_the_line_is_drawn_from_the_yearly_means(tmp_path, monkeypatch):
    from mine_eco_plugin.report import charts

    drawn = []
    line_figure = charts.line_figure

    def spy(labels, values, **options):
        drawn.append((list(labels), list(values), options))
        return line_figure(labels, values, **options)

    monkeypatch.setattr(charts, "line_figure", spy)
    report(tmp_path, NPP_YEARS_TABLE=npp_years_table())
    # One line: the years in order with casa_npp_years' mean_npp, without the 'mean' row.
    ((labels, values, options),) = drawn
    assert labels == ["2012", "2013"] and values == [512.5, 530.125]
    assert options["ylabel"] == "Mean NPP (gC·m⁻²·yr⁻¹)" and options["xlabel"] == "Year"


def test_without_the_table_the_section_is_left_out(tmp_path):
    result = report(tmp_path)
    assert "npp-years" not in [s.key for s in result.sections]
    reasons = {key: reason for key, _, reason in result.omitted}
    assert reasons["npp-years"] == "no NPP_YEARS_TABLE given (per-year table of casa_npp_years)"
    assert [key for key, *_ in SECTIONS].index("npp-years") == 9  # right after the NPP map


@pytest.mark.parametrize(
    ("fields", "rows"),
    [
        (["yr", "mean_npp"], [{"yr": 2012, "mean_npp": 500.0}]),  # no year column
        (["year", "npp"], [{"year": 2012, "npp": 500.0}]),  # no mean_npp column
    ],
)
def test_a_table_without_a_year_or_mean_column_names_the_parameter(tmp_path, fields, rows):
    with pytest.raises(ReportInputError, match=r"^NPP_YEARS_TABLE: expected casa_npp_years"):
        report(tmp_path, NPP_YEARS_TABLE=(fields, rows))
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_table_without_any_year_row_names_the_parameter(tmp_path):
    only_mean = (FIELDS, [dict(zip(FIELDS, ("mean", 0, 521.3, 6), strict=True))])
    with pytest.raises(ReportInputError, match="NPP_YEARS_TABLE: no row with a year"):
        report(tmp_path, NPP_YEARS_TABLE=only_mean)

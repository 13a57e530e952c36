"""The report's drawing and page (no QGIS): scale bars, shares that sum to 100 %, class
images, figures that draw what they say, and the page's sections, tables and omissions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mine_eco_plugin.engine import styles
from mine_eco_plugin.engine.styles import RasterClass
from mine_eco_plugin.report import charts, maps, page
from mine_eco_plugin.report.maps import ColourScale, MapFrame
from mine_eco_plugin.report.page import ReportFigure, Section


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (750.0, 500.0),
        (1000.0, 1000.0),
        (999.999, 500.0),
        (1999.0, 1000.0),
        (2500.0, 2000.0),
        (0.3, 0.2),
        (7.0, 5.0),
        (123456.0, 100000.0),
    ],
)
def test_nice_length_is_the_largest_1_2_5_step_not_above_the_limit(limit, expected):
    assert maps.nice_length(limit) == expected


def test_nice_length_rejects_empty_maps():
    with pytest.raises(ValueError):
        maps.nice_length(0.0)


def test_scale_bar_from_a_projected_geotransform():
    # 100 pixels of 30 m: 3000 m wide; a quarter is 750 m, so the bar is 500 m = 500 map units.
    width_units = 100 * 30.0
    bar = maps.scale_bar(width_units, metres_per_unit=1.0)
    assert (bar.metres, bar.map_units, bar.label) == (500.0, 500.0, "500 m")
    # The same grid in US survey feet (1 ft = 0.3048006 m): 914.4 m wide → 200 m bar.
    bar = maps.scale_bar(3000.0, metres_per_unit=0.3048006096)
    assert bar.metres == 200.0
    assert bar.map_units == pytest.approx(200.0 / 0.3048006096)
    # 7,800 Landsat pixels: 234 km wide → 58.5 km → a 50 km bar.
    assert maps.scale_bar(7800 * 30.0, 1.0).label == "50 km"


def test_metres_per_degree_on_wgs84():
    # Reference lengths of a degree on WGS 84 (e.g. the NGA/NIMA TR8350.2 formulas):
    # equator 111 319.49 m (longitude) and 110 574.28 m (latitude); 45°: 78 846.8 / 111 131.8.
    lon, lat = maps.metres_per_degree(0.0)
    assert lon == pytest.approx(111319.49, abs=0.01)
    assert lat == pytest.approx(110574.28, abs=0.01)
    lon, lat = maps.metres_per_degree(45.0)
    assert lon == pytest.approx(78846.8, abs=0.1)
    assert lat == pytest.approx(111131.8, abs=0.1)


def test_scale_bar_in_degrees_uses_the_latitude():
    # One degree of longitude at the equator: 111.3 km; a quarter → 20 km = 0.17966°.
    lon, _ = maps.metres_per_degree(0.0)
    bar = maps.scale_bar(1.0, lon)
    assert bar.label == "20 km"
    assert bar.map_units == pytest.approx(20000.0 / 111319.49, rel=1e-6)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([1, 1, 1], [33.34, 33.33, 33.33]),
        ([2, 1, 1], [50.0, 25.0, 25.0]),
        ([0, 5], [0.0, 100.0]),
        ([0, 0], [0.0, 0.0]),
        ([1, 2, 3, 4, 5, 6], [4.76, 9.52, 14.29, 19.05, 23.81, 28.57]),
    ],
)
def test_percentages_round_to_exactly_100(counts, expected):
    shares = charts.percentages(counts)
    assert shares == expected
    if sum(counts):
        assert round(sum(shares), 10) == 100.0


def test_percentages_random_counts_stay_within_a_rounding_step():
    rng = np.random.default_rng(1)
    for _ in range(200):
        counts = rng.integers(0, 10**7, rng.integers(1, 12)).tolist()
        if not sum(counts):
            continue
        shares = charts.percentages(counts)
        assert round(sum(shares), 10) == 100.0
        exact = [100 * c / sum(counts) for c in counts]
        assert max(abs(s - e) for s, e in zip(shares, exact, strict=True)) < 0.01 + 1e-12


def test_class_image_colours_codes_and_hides_nodata():
    codes = np.array([[1, 2], [7, 1]])
    valid = np.array([[True, True], [True, False]])
    legend = [RasterClass(1, "one", (255, 0, 0, 255)), RasterClass(2, "two", (0, 0, 255, 255))]
    image = maps.class_image(codes, valid, legend)
    assert image.dtype == np.uint8 and image.shape == (2, 2, 4)
    assert tuple(image[0, 0]) == (255, 0, 0, 255)
    assert tuple(image[0, 1]) == (0, 0, 255, 255)
    assert tuple(image[1, 0]) == styles.UNLISTED_COLOUR  # a code without a legend entry
    assert image[1, 1, 3] == 0  # NoData is transparent


def _scale_bar_segments(figure):
    axes = figure.axes[0]
    return [p for p in axes.patches if p.get_gid() == "scale-bar-segment"]


def test_map_figure_draws_the_scale_bar_at_the_geotransform_length():
    # A 40 × 25 grid of 30 m pixels: 1200 m wide → a 200 m bar (quarter 300 m).
    x0, y0, pixel = 500000.0, 5600000.0, 30.0
    extent = (x0, x0 + 40 * pixel, y0 - 25 * pixel, y0)
    bar = maps.scale_bar(extent[1] - extent[0], 1.0)
    assert bar.metres == 200.0
    frame = MapFrame(extent, 1.0, bar)
    figure = maps.map_figure(
        np.random.default_rng(0).random((25, 40)),
        frame,
        title="test",
        colour_scale=ColourScale("RdYlGn", 0, 1, "index"),
    )
    segments = _scale_bar_segments(figure)
    assert len(segments) == 2
    assert sum(s.get_width() for s in segments) == pytest.approx(200.0)
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "200 m" in texts
    # The bar lies inside the map.
    left = min(s.get_x() for s in segments)
    assert extent[0] < left and left + 200.0 < extent[1]


def test_map_figure_without_crs_has_no_scale_bar_and_class_legend():
    legend = [RasterClass(1, "a", (255, 0, 0, 255)), RasterClass(2, "b", (0, 255, 0, 255))]
    image = maps.class_image(np.array([[1, 2]]), np.ones((1, 2), bool), legend)
    figure = maps.map_figure(image, MapFrame((0, 2, 0, 1), note="No CRS"), legend=legend)
    assert _scale_bar_segments(figure) == []
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == ["a", "b"]


def test_single_band_image_needs_a_colour_scale():
    with pytest.raises(ValueError, match="colour scale"):
        maps.map_figure(np.zeros((2, 2)), MapFrame((0, 1, 0, 1)))


def test_importance_figure_sorts_largest_on_top_and_totals_categories():
    figure = charts.importance_figure(
        ["MAT", "SOC", "LD", "MAP"],
        [10.0, 30.0, 45.0, 15.0],
        categories=["climate", "soil", "mining", "climate"],
        colours={"climate": (255, 0, 0, 255)},
    )
    axes = figure.axes[0]
    # y axis inverted: the first tick is the top bar.
    assert [t.get_text() for t in axes.get_yticklabels()] == ["LD", "SOC", "MAP", "MAT"]
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == ["climate: 25.00", "soil: 30.00", "mining: 45.00"]


def test_stacked_shares_figure_stacks_to_100(tmp_path):
    classes = [RasterClass(1, "low", (200, 0, 0, 255)), RasterClass(2, "high", (0, 150, 0, 255))]
    shares = np.array([[25.0, 60.0], [75.0, 40.0]])
    figure = charts.stacked_shares_figure(["2000", "2020"], classes, shares, means=[0.5, 0.4])
    bars = [p for p in figure.axes[0].patches]
    tops = {}
    for bar in bars:
        x = round(bar.get_x() + bar.get_width() / 2)
        tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    assert tops == {0: pytest.approx(100.0), 1: pytest.approx(100.0)}
    charts.save(figure, tmp_path / "shares.png")
    assert (tmp_path / "shares.png").read_bytes()[:4] == b"\x89PNG"


def test_html_table_escapes_and_formats():
    table = page.html_table(
        ["Name", "Value"],
        [["<b>", 0.123456], ["none", None], ["count", 7]],
        table_id="t",
        decimals=2,
        footer=[["Sum", 0.12]],
        cell_attributes=[[{}, {"data-pixels": 3}], [{}, {}], [{}, {}]],
    )
    assert '<table class="data" id="t">' in table
    assert "<td>&lt;b&gt;</td>" in table
    assert '<td class="num" data-pixels="3">0.12</td>' in table
    assert "<td>–</td>" in table
    assert '<td class="num">7</td>' in table
    assert "<tfoot><tr><th>Sum</th>" in table


def test_parameters_block_is_verbatim_or_a_table_per_step():
    assert page.parameters_block("a = 1\n<b>") == '<pre class="parameters">a = 1\n&lt;b&gt;</pre>'
    block = page.parameters_block(
        '{"source": "line one\\nline **two**", "npp_drivers": {"WINDOW": 11, "ALPHA": 0.05, '
        '"CATEGORIES": ["climate", "soil"]}}'
    )
    # Top-level values first ("General"), then one table per step, in the order given.
    assert block.index('<h3 class="step">General</h3>') < block.index(
        '<h3 class="step">npp_drivers</h3>'
    )
    assert '<table class="data" id="parameters-1">' in block
    assert "<td>line one<br>line <strong>two</strong></td>" in block
    assert "<td>WINDOW</td><td>11</td>" in block
    assert "<td>ALPHA</td><td>0.05</td>" in block
    assert "<td>CATEGORIES</td><td>climate, soil</td>" in block
    assert "\\n" not in block and "**" not in block


def test_file_cell_shows_the_name_and_keeps_the_path_on_hover():
    cell = page.file_cell("/home/me/run/out/index_2001.tif")
    assert cell == (
        '<span class="file" title="/home/me/run/out/index_2001.tif">index_2001.tif</span>'
    )
    assert ">b.gpkg<" in page.file_cell("C:\\data\\b.gpkg|layername=t")
    table = page.html_table(["File"], [[cell]])
    assert "<td><span class=" in table  # Markup cells are not escaped
    settings = page.settings_cell([("WINDOW", "33"), ("BREAKS", "0.38,0.41")])
    assert settings.startswith("<details><summary>2 settings</summary>")
    assert "<li><code>WINDOW</code> = 33</li>" in settings
    assert page.settings_cell([]) == "–"


def test_distinct_legend_recolours_classes_too_alike():
    # rf_driver_contribution's dominant-driver legend for climate (red), soil (green) and
    # mining (blue): each coupled pair mixed 2:1 towards the larger category and lightened,
    # (2a + b)/3 · 0.8 + 51 per channel: CS (173, 104, 83) and CM (177, 97, 114) are 50 apart.
    single = [(215, 25, 28), (26, 150, 65), (44, 123, 182)]
    legend = [
        RasterClass(i + 1, n, (*c, 255)) for i, (n, c) in enumerate(zip("CSM", single, strict=True))
    ]
    for code, (a, b) in enumerate(((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)), start=4):
        mixed = tuple(
            round((2 * x + y) / 3 * 0.8 + 51) for x, y in zip(single[a], single[b], strict=True)
        )
        legend.append(RasterClass(code, "CSM"[a] + "CSM"[b], (*mixed, 255)))
    assert legend[3].color[:3] == (173, 104, 83) and legend[4].color[:3] == (177, 97, 114)
    assert maps.colour_distance(legend[3].color, legend[4].color) == pytest.approx(50, abs=1)
    assert maps.colour_distance((0, 0, 0), (255, 255, 255)) == pytest.approx(764.8, abs=0.1)
    kept, changed = maps.distinct_legend(legend, keep=3)
    assert kept[:3] == legend[:3]  # the single categories keep their colours
    assert changed == ["CS", "CM", "SC", "SM", "MC", "MS"]
    assert [(e.code, e.label) for e in kept] == [(e.code, e.label) for e in legend]
    # Paired's orange, purple, light blue, light green, pink and brown, in that order.
    assert [e.color[:3] for e in kept[3:]] == list(styles.DISTINCT_COLOURS[:6])
    colours = [e.color[:3] for e in kept]
    assert (
        min(maps.colour_distance(a, b) for i, a in enumerate(colours) for b in colours[i + 1 :])
        >= maps.MIN_COLOUR_DISTANCE
    )
    # A legend whose colours are far apart is left as it is.
    assert maps.distinct_legend(legend[:3], keep=0) == (legend[:3], [])


def test_north_arrow_stands_outside_the_data():
    frame = MapFrame((0, 1200, 0, 750), 1.0, maps.scale_bar(1200, 1.0))
    figure = maps.map_figure(
        np.zeros((25, 40)), frame, colour_scale=ColourScale("RdYlGn", 0, 1, "index")
    )
    axes = figure.axes[0]
    (arrow,) = [t for t in axes.texts if t.get_gid() == "north-arrow"]
    # Axes fractions: above the top edge (y > 1), where no pixel is drawn.
    assert arrow.xy[1] > 1.0 and arrow.xyann[1] > 1.0


def test_scatter_figure_has_the_one_to_one_line_and_a_colour_per_class():
    figure = charts.scatter_figure(
        [100.0, 200.0, 300.0],
        [110.0, 190.0, 330.0],
        ["forest", "crop", "forest"],
        {"forest": (0, 100, 0, 255), "crop": (200, 200, 0, 255)},
        unit="gC",
    )
    axes = figure.axes[0]
    (line,) = axes.lines
    assert list(line.get_xdata()) == list(line.get_ydata())  # y = x
    low, high = line.get_xdata()
    assert low < 100.0 and high > 330.0  # over the range of both axes
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert labels == ["forest (n = 2)", "crop (n = 1)", "1:1"]
    assert axes.get_xlabel() == "Reference (gC)" and axes.get_ylabel() == "Simulated (gC)"


def test_line_figure_writes_each_value():
    figure = charts.line_figure(["2000", "2005", "2010"], [0.695, None, 0.664])
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.texts] == ["0.695", "0.664"]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["2000", "2005", "2010"]


def test_page_lists_sections_and_omissions():
    sections = [
        Section(
            "npp",
            "Net primary productivity",
            "One line.",
            [ReportFigure("r_files/01_NPP.png", "NPP.")],
            ["<p>x</p>"],
        )
    ]
    text = page.render_page(
        "Title & co", sections, [("trend", "Trend of the index", "no TREND given")], css="b{}"
    )
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>Title &amp; co</title>" in text
    assert '<li><a href="#npp">Net primary productivity</a></li>' in text
    assert '<li data-section="trend"><b>Trend of the index</b>: no TREND given</li>' in text
    assert '<section id="npp"><h2>Net primary productivity</h2>' in text
    assert '<p class="caption">One line.</p>' in text
    assert '<img src="r_files/01_NPP.png" alt="NPP.">' in text
    assert "<figcaption><b>Figure 1.</b> NPP.</figcaption>" in text  # numbered
    none_omitted = page.render_page("T", sections, [])
    assert "None: every section had its input." in none_omitted


def test_format_distance():
    assert maps.format_distance(500.0) == "500 m"
    assert maps.format_distance(2000.0) == "2 km"
    assert maps.format_distance(0.2) == "20 cm"
    assert math.isclose(maps.scale_bar(10.0, 1.0).metres, 2.0)

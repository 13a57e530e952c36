"""The colour tables and styles of engine.styles: class codes that match the kernels', colour
ramps and mixes by hand, and the display stretch written into the QML styles."""

from __future__ import annotations

import pytest

from mine_eco_plugin.core import drivers, trend
from mine_eco_plugin.engine import styles
from mine_eco_plugin.engine.styles import RasterClass


def test_class_tables_use_the_kernels_codes():
    # The styles name the codes as numbers (no kernel import); they must be the kernels' codes.
    assert [c.code for c in styles.TREND_CLASSES] == [
        trend.DECLINE,
        trend.NO_CHANGE,
        trend.IMPROVEMENT,
    ]
    assert [c.code for c in styles.CORRELATION_CLASSES] == [
        drivers.SIGNIFICANT_POSITIVE,
        drivers.SIGNIFICANT_NEGATIVE,
        drivers.INSIGNIFICANT,
    ]


def test_class_colours_run_red_to_green():
    assert styles.class_colours(5) == list(styles.RED_TO_GREEN)
    three = styles.class_colours(3)
    assert three[0] == (215, 25, 28) and three[1] == (255, 255, 191) and three[2] == (26, 150, 65)
    # Four classes: positions 0, 4/3, 8/3, 4 along the five anchors; class 2 is a third of the
    # way from (253, 174, 97) to (255, 255, 191): 253.67, 201, 128.33 → (254, 201, 128).
    assert styles.class_colours(4)[1] == (254, 201, 128)
    assert styles.class_colours(1) == [(26, 150, 65)]
    labels = ("severe", "poor", "good")
    assert styles.red_to_green_classes(labels) == (
        RasterClass(1, "severe", (215, 25, 28)),
        RasterClass(2, "poor", (255, 255, 191)),
        RasterClass(3, "good", (26, 150, 65)),
    )


def test_transition_colours_by_hand():
    assert styles.transition_colour(2, 2, 4) == styles.UNCHANGED_COLOUR
    # One class up of four: strength 1/4, each channel 230 + (green − 230) · 0.55:
    # 230 − 204 · 0.55 = 117.8, 230 − 80 · 0.55 = 186, 230 − 165 · 0.55 = 139.25.
    assert styles.transition_colour(1, 2, 4) == (118, 186, 139)
    # Four classes down: full red.
    assert styles.transition_colour(5, 1, 4) == (215, 25, 28)


def test_category_colours_keep_the_channels_and_fill_the_rest():
    given = {"climate": (215, 25, 28), "soil": (26, 150, 65, 255)}
    colours = styles.category_colours(["climate", "soil", "mining", "other"], given)
    assert colours["climate"] == (215, 25, 28) and colours["soil"] == (26, 150, 65, 255)
    # The others take the colours after the RGB channels' three, in order.
    assert colours["mining"] == styles.CATEGORY_COLOURS[3]
    assert colours["other"] == styles.CATEGORY_COLOURS[4]
    # A colour already given is not handed out again; none left: grey.
    taken = {"a": styles.CATEGORY_COLOURS[3]}
    assert styles.category_colours(["a", "b"], taken)["b"] == styles.CATEGORY_COLOURS[4]
    many = styles.category_colours(range(9))
    assert many[6] == styles.CATEGORY_COLOURS[9] and many[7] == styles.OTHER_COLOUR


def test_coupled_colour_by_hand():
    # Climate (red) > soil (green): (2 · 215 + 26)/3 · 0.8 + 51 = 172.6, (50 + 150)/3 · 0.8 + 51
    # = 104.3, (56 + 65)/3 · 0.8 + 51 = 83.3.
    assert styles.coupled_colour((215, 25, 28), (26, 150, 65)) == (173, 104, 83)


def test_erosion_colours():
    assert styles.erosion_colours(6) == list(styles.EROSION_CLASS_COLOURS)
    # Three classes: positions 0, 2.5 (rounded half to even: 2) and 5 of the six.
    assert styles.erosion_colours(3) == [(26, 150, 65), (255, 255, 191), (128, 0, 38)]


def test_styles_carry_the_display_stretch():
    assert styles.STRETCH_PERCENTILES == (2.0, 98.0)
    qml = styles.paletted_qml(styles.TREND_CLASSES)
    assert "<cumulativeCutLower>0.02</cumulativeCutLower>" in qml
    assert "<cumulativeCutUpper>0.98</cumulativeCutUpper>" in qml
    assert 'label="Significant decline"' in qml and 'color="#d73027"' in qml
    # 100 draws: the last class but one ends at 1 − 0.5/100.
    stability = styles.stability_qml(100)
    assert 'value="0.995"' in stability and 'color="#a6d96a"' in stability


def test_cycled_palette_and_hex():
    assert styles.cycled(((1, 2, 3), (4, 5, 6)), 3) == [
        (1, 2, 3, 255),
        (4, 5, 6, 255),
        (1, 2, 3, 255),
    ]
    assert styles.hex_colour((26, 150, 65, 128)) == "#1a9641"
    assert RasterClass(1, "a", (1, 2, 3)).rgba == (1, 2, 3, 255)


@pytest.mark.parametrize("count", [2, 5, 7, 10])
def test_class_colours_give_one_colour_per_class(count):
    assert len(set(styles.class_colours(count))) == count

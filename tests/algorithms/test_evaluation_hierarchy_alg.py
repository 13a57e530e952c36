"""ahp_hierarchy: a two-level AHP through processing.run."""

import csv

import bad_input
import declared
import numpy as np
import pytest
import synthetic_inputs
from qgis.core import QgsProcessingException

from mine_eco_plugin.provider_info import resource


def read_table(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


HAND = """# two criteria; the first has three indicators, the second one
[criteria]
A,B
1,4
0.25,1
[A]
a1,a2,a3
1,3,5
0.333333,1,3
0.2,0.333333,1
[B]
b1
1
"""


def test_hierarchy_by_hand(run, tmp_path):
    path = tmp_path / "hierarchy.csv"
    path.write_text(HAND, encoding="utf-8")
    out = tmp_path / "weights.csv"
    result = run("ahp_hierarchy", {"HIERARCHY": str(path), "OUTPUT": str(out)})
    # Criteria 2×2 [[1, 4], [1/4, 1]]: w = (2, 0.5)/2.5 = 0.8, 0.2, CI = RI = 0.
    # A's 3×3 (tests/core/test_evaluation_weights.py by hand): v = 0.636986, 0.258285,
    # 0.104729, CI = 0.019256, RI = 0.58 (Saaty 1980, n = 3). B's single indicator: v = 1.
    # Global: 0.8·v_A = 0.509589, 0.206628, 0.083783; 0.2·1 = 0.2.
    np.testing.assert_allclose(
        [float(w) for w in result["WEIGHTS"].split(",")],
        [0.509589, 0.206628, 0.083783, 0.2],
        atol=2e-6,
    )
    assert result["CRITERIA_WEIGHTS"] == "0.8,0.2"
    assert result["CR_CRITERIA"] == 0.0
    # Indicator level: (0.8·0.019256 + 0.2·0)/(0.8·0.58 + 0.2·0) = 0.033199; the whole
    # hierarchy adds the criteria's CI = 0 and RI = 0: the same value.
    assert result["CR_INDICATORS"] == pytest.approx(0.033199, abs=2e-6)
    assert result["CR_OVERALL"] == pytest.approx(0.033199, abs=2e-6)
    rows = read_table(out)
    assert [(r["name"], r["criterion"]) for r in rows] == [
        ("a1", "A"),
        ("a2", "A"),
        ("a3", "A"),
        ("b1", "B"),
    ]
    assert float(rows[1]["local_weight"]) == pytest.approx(0.258285, abs=2e-6)
    assert float(rows[1]["criterion_weight"]) == pytest.approx(0.8)


def test_hierarchy_overall_cr_counts_the_criteria_level(run, tmp_path):
    # Criteria: the inconsistent-ish 3×3 above (CI 0.019256, RI 0.58, w = 0.636986, 0.258285,
    # 0.104729); each criterion has two indicators (CI = RI = 0): the indicator level's CR is
    # 0 and the hierarchy's CR is the criteria's, 0.019256/0.58 = 0.033199.
    text = (
        "[criteria]\nX,Y,Z\n1,3,5\n0.333333,1,3\n0.2,0.333333,1\n"
        "[X]\nx1,x2\n1,1\n1,1\n[Y]\ny1,y2\n1,2\n0.5,1\n[Z]\nz1,z2\n1,3\n0.333333,1\n"
    )
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    result = run("ahp_hierarchy", {"HIERARCHY": str(path), "OUTPUT": str(tmp_path / "w.csv")})
    assert result["CR_INDICATORS"] == 0.0
    assert result["CR_OVERALL"] == pytest.approx(0.033199, abs=2e-6)
    # Y: [[1, 2], [1/2, 1]] → 2/3, 1/3 of 0.258285.
    weights = [float(w) for w in result["WEIGHTS"].split(",")]
    assert weights[2:4] == pytest.approx([0.258285 * 2 / 3, 0.258285 / 3], abs=2e-6)


def test_shipped_table2_hierarchy_reproduces_the_published_subjective_weights(run, tmp_path):
    # resources/tables/ahp_hierarchy_table2_lingbei.csv holds consistent matrices built from
    # Table 2 of the resilience study (the paper does not print its judgements): the hierarchy
    # must give back the printed subjective weights C1–C17 and criterion sums B1–B5.
    path = resource("tables", "ahp_hierarchy_table2_lingbei.csv")
    result = run("ahp_hierarchy", {"HIERARCHY": str(path), "OUTPUT": str(tmp_path / "w.csv")})
    table2 = [
        0.1815, 0.0906, 0.2534, 0.1269, 0.0075, 0.0115, 0.0552, 0.0302, 0.0369,
        0.0213, 0.0175, 0.0192, 0.0122, 0.0271, 0.0421, 0.0223, 0.0446,
    ]  # fmt: skip
    weights = [float(w) for w in result["WEIGHTS"].split(",")]
    # The printed weights sum to 1.0000, as the criterion sums do.
    np.testing.assert_allclose(weights, table2, atol=2e-6)
    np.testing.assert_allclose(
        [float(w) for w in result["CRITERIA_WEIGHTS"].split(",")],
        [0.2721, 0.3803, 0.1801, 0.1006, 0.0669],
        atol=2e-6,
    )
    assert result["CR_OVERALL"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[A]\n1\n", r"HIERARCHY: the file must start with a \[criteria\] section"),
        ("[criteria]\nA,B\n1,2\n0.5,1\n[A]\n1\n", r"missing: B"),
        ("[criteria]\nA,B\n1,2\n0.5,1\n[A]\n1\n[B]\n1,2\n3,1\n", r"\[B\]: not reciprocal"),
        (
            "[criteria]\nA,B,C\n1,9,0.111\n0.111,1,9\n9,0.111,1\n[A]\n1\n[B]\n1\n[C]\n1\n",
            r"\[criteria\] CR = ",
        ),
    ],
)
def test_hierarchy_errors_name_the_section(run, tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "w.csv"
    with pytest.raises(QgsProcessingException, match=message):
        run("ahp_hierarchy", {"HIERARCHY": str(path), "OUTPUT": str(out)})
    assert not out.exists()


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("ahp_hierarchy", lambda d: {"HIERARCHY": d.text(bad_input.HIERARCHY)})
INPUTS.desktop(
    "ahp_hierarchy",
    lambda s: {
        "HIERARCHY": synthetic_inputs.write_text(s.folder, "hierarchy.csv", bad_input.HIERARCHY)
    },
)
INPUTS.case(
    "ahp_hierarchy",
    "no-criteria-section",
    lambda d: {"HIERARCHY": d.text("[A]\n1\n")},
    "HIERARCHY",
)
INPUTS.case(
    "ahp_hierarchy",
    "section-missing",
    lambda d: {"HIERARCHY": d.text(bad_input.HIERARCHY.split("[B]")[0])},
    "HIERARCHY",
)
INPUTS.case(
    "ahp_hierarchy",
    "not-reciprocal",
    lambda d: {"HIERARCHY": d.text(bad_input.HIERARCHY.replace("0.333333,1", "3,1"))},
    "HIERARCHY",
)
INPUTS.case(
    "ahp_hierarchy",
    "by-hand",
    lambda d: {"HIERARCHY": d.text(bad_input.HIERARCHY)},
    # Criteria [[1, 2], [1/2, 1]]: w = (√2, √½)/(√2 + √½) = 2/3, 1/3; A's [[1, 3], [1/3, 1]]:
    # 3/4, 1/4 → global 2/3·3/4 = 0.5, 2/3·1/4 = 1/6, and B 1/3.
    check=lambda results, data, parameters: np.testing.assert_allclose(
        [float(w) for w in results["WEIGHTS"].split(",")], [0.5, 1 / 6, 1 / 3], atol=1e-5
    ),
)

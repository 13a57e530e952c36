"""The sources use only idioms that work under Qt 5 (QGIS 3.22 … 3.4x) and Qt 6 / PyQt6 (QGIS 4).

PyQt6 drops unscoped enum members (``Qt.AlignLeft`` → ``Qt.AlignmentFlag.AlignLeft``),
``exec_()`` and ``QVariant.Type``; QGIS ≥ 3.38 deprecates ``QgsField(name, QVariant.Type)``
(mine_eco_plugin/compat.py builds fields with the constructor each version offers). Each rule is
also checked against a line that breaks it, so a rule that can never match fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("mine_eco_plugin", "scripts", "tests", "benchmarks")
THIS_FILE = Path(__file__).resolve()
COMPAT = REPO / "mine_eco_plugin" / "compat.py"

# A Qt class (Q…, not Qgs…/Qgis), then an attribute starting with a capital letter that is not
# followed by "." (a scoped name goes on: Qt.AlignmentFlag.AlignLeft) or "(" (a constructor or
# a call): an unscoped enum member.
UNSCOPED_QT_ENUM = re.compile(r"\b(Q(?!gs|gis)[A-Za-z]*)\.([A-Z][A-Za-z0-9_]*)\b(?!\s*[.(])")
# The same for QGIS classes: a member is Capitalised (QgsWkbTypes.Point); constants such as
# QgsProcessing.TEMPORARY_OUTPUT are not enums. The scoped names used here (e.g.
# QgsWkbTypes.Type.Point) exist on QGIS 3.22 and, as aliases of the Qgis.* enums, on 3.40.
UNSCOPED_QGIS_ENUM = re.compile(r"\b(Qgs[A-Za-z]*|Qgis)\.[A-Z][a-z][A-Za-z0-9_]*\b(?!\s*[.(])")

RULES = {
    "exec_() (PyQt6 has only exec())": (re.compile(r"\.exec_\s*\("), "dialog.exec_()"),
    "QVariant type values (no QVariant.Type in PyQt6; QMetaType.Type instead)": (
        re.compile(r"\bQVariant\.[A-Za-z]"),
        "QgsField('a', QVariant.Double)",
    ),
    "QgsField(...) outside compat.field (its type argument differs by version)": (
        re.compile(r"\bQgsField\s*\("),
        "fields.append(QgsField(name, kind))",
    ),
    "PyQt5 imported directly (use qgis.PyQt)": (
        re.compile(r"^\s*(from|import)\s+PyQt5\b", re.MULTILINE),
        "from PyQt5.QtCore import Qt",
    ),
    "unscoped Qt enum member (PyQt6 needs e.g. Qt.AlignmentFlag.AlignLeft)": (
        UNSCOPED_QT_ENUM,
        "label.setAlignment(Qt.AlignLeft)",
    ),
    "unscoped QGIS enum member (e.g. QgsProcessing.SourceType.TypeRaster)": (
        UNSCOPED_QGIS_ENUM,
        "QgsProcessingParameterRasterLayer(name, text, QgsProcessing.TypeRaster)",
    ),
}


def _sources():
    for folder in SCANNED:
        for path in sorted((REPO / folder).rglob("*.py")):
            if path.resolve() not in (THIS_FILE, COMPAT):
                yield path


def _code_lines(path: Path):
    """(number, line) of the code, comments stripped (docstrings may quote old idioms)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        code = line.split("#", 1)[0]
        if code.strip():
            yield number, code


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_matches_the_idiom_it_forbids(rule):
    pattern, bad_line = RULES[rule]
    assert pattern.search(bad_line), bad_line


def test_scoped_names_and_calls_are_not_flagged():
    for good in (
        "label.setAlignment(Qt.AlignmentFlag.AlignLeft)",
        "QTimer.singleShot(500, app.quit)",
        "QMetaType.Type.Double",
        "QgsProcessing.SourceType.TypeRaster",
        "QgsProcessing.TEMPORARY_OUTPUT",
        "Qgis.versionInt()",
        "QPointF(1, 2)",
        "dialog.exec()",
        "isinstance(value, QVariant) and value.isNull()",
        "spec.loader.exec_module(module)",
    ):
        for rule, (pattern, _) in RULES.items():
            assert not pattern.search(good), (rule, good)


def test_sources_use_no_qt5_only_idiom():
    sources = list(_sources())
    assert len(sources) > 100  # the scan really covers the code base
    found = []
    for path in sources:
        for number, code in _code_lines(path):
            for rule, (pattern, _) in RULES.items():
                if pattern.search(code):
                    found.append(f"{path.relative_to(REPO)}:{number}: {rule}: {code.strip()}")
    assert not found, "\n".join(found)

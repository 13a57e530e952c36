"""The report package stands on its own: it imports and writes a whole report in a Python
that cannot import QGIS, and it sits on its floor of the house (core → engine → report →
algorithms): no module imports from a floor above its own. Its docstring examples hold."""

from __future__ import annotations

import ast
import doctest
import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "mine_eco_plugin"

#: The floors of the house, lowest first; a module may import its own floor and those below.
FLOORS = ("core", "engine", "report", "algorithms")
#: Modules beside the floors that any floor may use (no QGIS, no plugin imports).
GROUND = ("provider_info",)

NO_QGIS = textwrap.dedent(
    """
    import importlib.abc
    import sys

    class NoQgis(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("qgis", "PyQt5", "PyQt6", "processing"):
                raise ImportError(f"{name} is blocked: the report must not need QGIS")
            return None

    sys.meta_path.insert(0, NoQgis())
    """
)

REPORT_WITHOUT_QGIS = textwrap.dedent(
    """
    import json
    import pkgutil
    from pathlib import Path

    import numpy as np
    from osgeo import gdal, osr

    import mine_eco_plugin.report as package
    from mine_eco_plugin.engine import Monitor, RasterSource
    from mine_eco_plugin.report.document import ReportInputs, write_report

    for module in pkgutil.iter_modules(package.__path__):
        __import__(f"mine_eco_plugin.report.{module.name}")

    folder = Path(sys.argv[1])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    driver = gdal.GetDriverByName("GTiff")
    dataset = driver.Create(str(folder / "classes.tif"), 4, 2, 1, gdal.GDT_Byte)
    dataset.SetGeoTransform((500000.0, 30.0, 0.0, 5600000.0, 0.0, -30.0))
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(0)
    band.WriteArray(np.array([[1, 1, 2, 0], [2, 2, 2, 1]], dtype=np.uint8))
    band.SetCategoryNames(["", "poor", "good"])
    dataset = None
    source = RasterSource(str(folder / "classes.tif"), parameter="CLASSES")
    inputs = ReportInputs(
        rasters={"CLASSES": [(source, "classes")]},
        tables={"WEIGHTS": (["indicator", "weight"], [{"indicator": "NDVI", "weight": 1.0}])},
        table_sources={"WEIGHTS": ("weights", "weights.csv")},
        labels={"CLASSES": ["2020"]},
    )
    result = write_report(
        folder / "page.html", inputs, title="T", map_size=100, memory_mb=16, monitor=Monitor()
    )
    blocked = sorted(name for name in sys.modules if name.split(".")[0] in ("qgis", "PyQt5"))
    print(json.dumps([[s.key for s in result.sections], result.files, blocked]))
    """
)


def test_the_report_is_written_by_a_python_without_qgis(tmp_path):
    code = NO_QGIS + REPORT_WITHOUT_QGIS
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sections, files, blocked = json.loads(done.stdout.strip().splitlines()[-1])
    assert sections == ["class-maps", "class-shares", "weights", "data-sources"]
    assert files == ["01_Classes_2020.png", "02_class_shares.png"]
    assert blocked == []
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    # 7 valid pixels: 3 poor (42.86 %), 4 good (57.14 %).
    assert 'data-pixels="3">42.86</td>' in page and 'data-pixels="4">57.14</td>' in page
    assert (tmp_path / "page_files" / "01_Classes_2020.png").stat().st_size > 1000


def _floor(module: str) -> str | None:
    """The floor of a module path relative to the plugin ('report.maps' → 'report')."""
    head = module.split(".")[0]
    return head if head in FLOORS else None


def _imports(path: Path) -> list[str]:
    """Every plugin module ``path`` imports, relative to the plugin ('engine.styles')."""
    package = path.relative_to(PLUGIN).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
                found += [name.lstrip(".") for name in names]
            elif node.module and node.module.startswith("mine_eco_plugin"):
                found.append(node.module.removeprefix("mine_eco_plugin").lstrip("."))
        elif isinstance(node, ast.Import):
            found += [
                a.name.removeprefix("mine_eco_plugin").lstrip(".")
                for a in node.names
                if a.name.startswith("mine_eco_plugin")
            ]
    return [name for name in found if name]


@pytest.mark.parametrize("floor", FLOORS[:3])
def test_no_import_runs_back_up(floor):
    allowed = set(FLOORS[: FLOORS.index(floor) + 1])
    wrong = []
    for path in sorted((PLUGIN / floor).glob("*.py")):
        for name in _imports(path):
            target = _floor(name)
            if target is None and name.split(".")[0] not in GROUND:
                wrong.append(f"{path.name} imports {name} (not a floor)")
            elif target is not None and target not in allowed:
                wrong.append(f"{path.name} imports {name}")
    assert wrong == [], f"{floor} may import {sorted(allowed)} and {GROUND} only"


def test_the_import_reader_sees_relative_imports():
    # The check above is only as good as its reader: report.document's imports, read by hand.
    names = _imports(PLUGIN / "report" / "document.py")
    assert {"engine", "provider_info", "report.builder", "report.page"} <= set(names)
    assert "report.drivers" in names and "report.resilience" in names


@pytest.mark.parametrize("name", ["maps", "charts"])
def test_docstring_examples_hold(name):
    module = importlib.import_module(f"mine_eco_plugin.report.{name}")
    failed, tried = doctest.testmod(module)
    assert tried > 0 and failed == 0

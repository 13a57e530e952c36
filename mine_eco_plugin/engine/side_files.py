"""No GDAL side file beside the user's inputs.

GDAL keeps what it learns about a raster opened read-only (statistics above all) in a
``<file>.aux.xml`` side file beside it (its PAM, "persistent auxiliary metadata") and writes
that file when it closes the raster. QGIS computes the statistics of every raster layer it
loads (the default renderer's min/max stretch: ``QgsGdalProvider::bandStatistics``, then
``GDALComputeRasterStatistics``), so each input Processing loads as a layer for a run (checking
the parameters, ``parameterAsRasterLayer``, ``parameterAsLayerList``) left a side file in the
user's folder. ``without_side_files`` switches GDAL's PAM off for the datasets this thread opens
within it, so those layers write nothing.

It is meant for loading input layers only: a dataset opened with PAM off does not read an
existing side file either (a CRS or NoData value kept there), which is why the engine opens the
files again itself, with PAM on (it never computes statistics through GDAL, so it never writes
a side file), and why outputs, whose category names live in their side file, are never written
within it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from osgeo import gdal

OPTION = "GDAL_PAM_ENABLED"


@contextmanager
def without_side_files() -> Iterator[None]:
    """GDAL datasets opened by this thread within the block keep no ``.aux.xml`` (nests; other
    threads, QGIS's map rendering included, are not affected)."""
    previous = gdal.GetThreadLocalConfigOption(OPTION, None)
    gdal.SetThreadLocalConfigOption(OPTION, "NO")
    try:
        yield
    finally:
        gdal.SetThreadLocalConfigOption(OPTION, previous)

"""The raster engine: aligned block reading, atomic block writing and statistics passes.

Free of QGIS (GDAL and numpy only), so the same engine serves the Processing algorithms and
scripts. Algorithms give it ``RasterSource``/``RasterTarget`` descriptions and a pure kernel:
``run_blocks`` (read, compute, write), ``scan`` (read-only passes), ``strips`` (full-width
strips in order), ``read_raster`` (one whole raster), ``write_arrays`` (results already in
memory), all within one memory budget (``block_budget_mb`` is one block's share of it) and
with one atomic commit of the outputs. ``styles`` holds every class colour table and the
display stretch (``RasterClass``: one class of a class raster).
"""

from ..core.statistics import RunningSummary, exact_percentiles, stream_reduce, summarize
from . import styles
from .blocks import (
    DEFAULT_MEMORY_MB,
    Monitor,
    RasterSource,
    block_budget_mb,
    block_values,
    plan_windows,
    read_raster,
    resolve_grid,
    run_blocks,
    scan,
    strips,
    write_arrays,
)
from .errors import Cancelled, EngineError
from .grid import AlignedRaster, Grid, Window
from .side_files import without_side_files
from .styles import RasterClass
from .writer import (
    OutputSet,
    RasterTarget,
    RasterWriter,
    Replacement,
    check_format,
    check_replaceable,
    hand_over,
    run_transaction,
)


def band_summary(source, *, band=0, grid=None, memory_mb=DEFAULT_MEMORY_MB, monitor=None):
    """Count, min, max, mean and standard deviation of one band's valid values (one pass)."""
    passes = block_values(source, grid=grid, band=band, memory_mb=memory_mb, monitor=monitor)
    return summarize(stream_reduce(passes))


def band_percentiles(
    source, percentiles, *, band=0, grid=None, memory_mb=DEFAULT_MEMORY_MB, monitor=None
):
    """Exact percentiles (numpy's linear rule) of one band's valid values, in a few passes."""
    passes = block_values(source, grid=grid, band=band, memory_mb=memory_mb, monitor=monitor)
    try:
        return exact_percentiles(stream_reduce(passes), percentiles)
    except ValueError as error:
        raise EngineError(source.parameter, f"has no valid pixels ({error})") from None


__all__ = [
    "DEFAULT_MEMORY_MB",
    "AlignedRaster",
    "Cancelled",
    "EngineError",
    "Grid",
    "Monitor",
    "OutputSet",
    "RasterClass",
    "RasterSource",
    "RasterTarget",
    "RasterWriter",
    "Replacement",
    "RunningSummary",
    "Window",
    "band_percentiles",
    "band_summary",
    "block_budget_mb",
    "block_values",
    "check_format",
    "check_replaceable",
    "hand_over",
    "plan_windows",
    "read_raster",
    "resolve_grid",
    "run_blocks",
    "run_transaction",
    "scan",
    "styles",
    "strips",
    "without_side_files",
    "write_arrays",
]

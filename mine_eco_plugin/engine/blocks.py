"""Block-wise processing: plan blocks within a memory budget, read aligned inputs with a halo,
call a pure kernel, write outputs atomically, report progress and honour cancellation.

Kernels are plain functions of numpy arrays. A kernel receives one float array per input, shaped
(bands, rows + 2·halo, cols + 2·halo) with NaN for NoData, and returns one array per output
(``(rows', cols')`` or ``(bands, rows', cols')``, with or without the halo: the engine crops it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from .errors import Cancelled, EngineError
from .grid import AlignedRaster, Grid, Window, open_dataset, require_crs
from .writer import TILE, OutputSet, RasterTarget

DEFAULT_MEMORY_MB = 256


@dataclass(frozen=True)
class RasterSource:
    """An input raster: its path, the parameter id it came from and how to read it.

    ``bands`` are 1-based (None: all). ``resampling`` applies only when the raster must be
    brought onto another grid ("nearest" for class rasters). ``crs_wkt`` overrides a CRS the
    file lacks (e.g. one the user assigned in QGIS). ``nodata`` overrides the file's NoData.
    """

    path: str
    parameter: str = "INPUT"
    bands: tuple[int, ...] | None = None
    resampling: str = "bilinear"
    crs_wkt: str | None = None
    nodata: float | None = None

    def band_count(self) -> int:
        if self.bands:
            return len(self.bands)
        return open_dataset(self.path, self.parameter).RasterCount

    def open(
        self, grid: Grid, *, dtype=np.float32, warn: Callable[[str], None] | None = None
    ) -> AlignedRaster:
        """This input seen on ``grid``, ready to read (``close()`` it when done)."""
        return AlignedRaster(
            self.path,
            grid,
            parameter=self.parameter,
            bands=self.bands,
            resampling=self.resampling,
            crs_wkt=self.crs_wkt,
            nodata=self.nodata,
            dtype=dtype,
            warn=warn,
        )


class Monitor:
    """Progress (0–100), cancellation and warning callbacks, split into spans for multi-pass
    work. ``warn`` receives each distinct warning once per run (its spans included), however
    many passes read the input that causes it."""

    def __init__(
        self,
        progress: Callable[[float], None] | None = None,
        canceled: Callable[[], bool] | None = None,
        start: float = 0.0,
        end: float = 100.0,
        warn: Callable[[str], None] | None = None,
        _warned: set[str] | None = None,
    ):
        self._progress = progress
        self._canceled = canceled
        self.start = start
        self.end = end
        self._warn = warn
        self._warned = set() if _warned is None else _warned

    def warn(self, message: str) -> None:
        if self._warn is not None and message not in self._warned:
            self._warned.add(message)
            self._warn(message)

    def check(self) -> None:
        if self._canceled is not None and self._canceled():
            raise Cancelled()

    def report(self, fraction: float) -> None:
        if self._progress is not None:
            self._progress(self.start + (self.end - self.start) * min(max(fraction, 0.0), 1.0))

    def span(self, first: float, last: float) -> Monitor:
        """A monitor for the part [first, last] (fractions of this one)."""
        width = self.end - self.start
        return Monitor(
            self._progress,
            self._canceled,
            self.start + width * first,
            self.start + width * last,
            self._warn,
            self._warned,
        )


def resolve_grid(sources: Sequence[RasterSource], reference: RasterSource | None = None) -> Grid:
    """The output grid: the reference's, else the first input's, as stored (a south-up grid
    stays south-up, pixel for pixel). Every input needs a CRS; a rotated grid is refused."""
    anchor = reference or sources[0]
    dataset = open_dataset(anchor.path, anchor.parameter)
    wkt = require_crs(dataset, anchor.parameter, anchor.crs_wkt)
    grid = Grid.of(dataset, wkt)
    if grid.is_rotated:
        raise EngineError(
            anchor.parameter,
            "is rotated (its geotransform has non-zero rotation terms); the output grid must "
            "have rows and columns along the CRS axes. Warp it first (Raster ▸ Projections ▸ "
            "Warp, or gdalwarp), or put an input that is not rotated first",
        )
    return grid


def plan_windows(
    grid: Grid, bytes_per_pixel: float, memory_mb: float = DEFAULT_MEMORY_MB, halo: int = 0
) -> list[Window]:
    """Blocks that keep ``bytes_per_pixel`` × block pixels (halo included) within the budget.

    Full-width strips whose height is a multiple of the 256-pixel output tile when they fit,
    so every compressed tile is written once; otherwise tile-aligned rectangles.
    """
    budget = max(float(memory_mb), 1.0) * 2**20
    pixels = max(int(budget // max(bytes_per_pixel, 1.0)), TILE * TILE)
    width, height = grid.width, grid.height
    rows = pixels // (width + 2 * halo) - 2 * halo
    if rows >= min(TILE, height):
        rows = min(height, max(TILE, rows // TILE * TILE) if rows >= TILE else rows)
        cols = width
    else:
        rows = min(TILE, height)
        cols = pixels // (rows + 2 * halo) - 2 * halo
        cols = min(width, max(TILE, cols // TILE * TILE))
    return [
        Window(col, row, min(cols, width - col), min(rows, height - row))
        for row in range(0, height, rows)
        for col in range(0, width, cols)
    ]


def _crop(values: np.ndarray, window: Window, halo: int) -> np.ndarray:
    if values.shape[-2:] == (window.height, window.width):
        return values
    if halo and values.shape[-2:] == (window.height + 2 * halo, window.width + 2 * halo):
        return values[..., halo:-halo, halo:-halo]
    raise ValueError(
        f"kernel returned a block of shape {values.shape}; expected "
        f"{window.height}×{window.width} (or with a halo of {halo})"
    )


def _iterate(
    rasters: Sequence[AlignedRaster], windows: Sequence[Window], halo: int, monitor: Monitor
) -> Iterator[tuple[int, Window, list[np.ndarray]]]:
    """Blocks in order, the next one read in a background thread while the current is used."""
    if not windows:
        return

    def read(window):
        return [r.read(window, halo) for r in rasters]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mineeco-read") as pool:
        pending = pool.submit(read, windows[0])
        for index, window in enumerate(windows):
            monitor.check()
            blocks = pending.result()
            if index + 1 < len(windows):
                pending = pool.submit(read, windows[index + 1])
            yield index, window, blocks


#: Share of the memory budget left to GDAL's block cache (tiles read and written); the rest
#: goes to the blocks in flight.
CACHE_SHARE = 0.25
#: Blocks alive at once: one being read ahead, one being computed, one being written.
BLOCKS_IN_FLIGHT = 3


@contextlib.contextmanager
def _opened(
    sources: Sequence[RasterSource], grid: Grid, dtype, monitor: Monitor, memory_mb: float
) -> Iterator[list[AlignedRaster]]:
    """The sources open on ``grid`` for one pass, GDAL's block cache capped at its share of
    the budget meanwhile (left alone it grows to 5 % of RAM and, on pixel-interleaved inputs,
    fills with the tiles of bands never used); afterwards the cache is restored and the
    rasters are closed (reporting the ±Inf values they read)."""
    rasters = [s.open(grid, dtype=dtype, warn=monitor.warn) for s in sources]
    previous = gdal.GetCacheMax()
    gdal.SetCacheMax(int(min(previous, max(memory_mb * CACHE_SHARE, 16) * 2**20)))
    try:
        yield rasters
    finally:
        gdal.SetCacheMax(previous)
        for raster in rasters:
            raster.close()


def block_budget_mb(memory_mb: float) -> float:
    """Memory (MB) for one block's arrays in a run of budget ``memory_mb``: the budget less
    GDAL's cache, split over the blocks in flight. Kernels that size their own chunks of a
    block (per-pixel Monte Carlo draws) stay within it."""
    return memory_mb * (1 - CACHE_SHARE) / BLOCKS_IN_FLIGHT


def _plan(grid: Grid, bytes_per_pixel: float, memory_mb: float, halo: int = 0) -> list[Window]:
    """The blocks of a run: the whole grid as one block when it fits in the budget less the
    cache (a single block is read, computed and written in turn, so it is the only one in
    flight), otherwise blocks of a third of that (``block_budget_mb``), so that reading ahead
    and writing behind stay within the budget."""
    whole = (grid.width + 2 * halo) * (grid.height + 2 * halo) * bytes_per_pixel
    if whole <= memory_mb * (1 - CACHE_SHARE) * 2**20:
        return [Window(0, 0, grid.width, grid.height)]
    return plan_windows(grid, bytes_per_pixel, block_budget_mb(memory_mb), halo)


def run_blocks(
    kernel: Callable[..., np.ndarray | Sequence[np.ndarray]],
    sources: Sequence[RasterSource],
    targets: Sequence[RasterTarget | None],
    *,
    grid: Grid | None = None,
    halo: int = 0,
    memory_mb: float = DEFAULT_MEMORY_MB,
    work_factor: float = 4.0,
    monitor: Monitor | None = None,
    dtype=np.float32,
    with_window: bool = False,
) -> Grid:
    """Compute ``kernel`` over the output grid block by block and write every target.

    ``with_window=True`` calls ``kernel(window, *blocks)``: the block's ``Window`` (without the
    halo) for kernels that need map positions (``grid.pixel_centres(window)``) or areas.

    ``targets`` may contain None for outputs the user did not ask for: the kernel still returns
    a value in that position and it is dropped. Either all requested outputs appear, or none
    (a failure or a cancellation removes the temporary files). ``work_factor`` is the number of
    block-sized float temporaries the kernel needs per input and output band. Returns the grid.
    """
    monitor = monitor or Monitor()
    grid = grid or resolve_grid(sources)
    with _opened(sources, grid, dtype, monitor, memory_mb) as rasters:
        in_bands = sum(r.band_count for r in rasters)
        out_bands = sum(t.bands for t in targets if t is not None)
        bytes_per_pixel = (in_bands + out_bands) * np.dtype(dtype).itemsize * work_factor
        windows = _plan(grid, bytes_per_pixel, memory_mb, halo)
        with (
            OutputSet(targets, grid) as outputs,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="mineeco-write") as pool,
        ):
            writing = None
            for index, window, blocks in _iterate(rasters, windows, halo, monitor):
                result = kernel(window, *blocks) if with_window else kernel(*blocks)
                if isinstance(result, np.ndarray):
                    result = (result,)
                cropped = [
                    None if values is None else _crop(values, window, halo) for values in result
                ]
                if writing is not None:
                    writing.result()
                writing = pool.submit(outputs.write, window, cropped)
                monitor.report((index + 1) / len(windows))
            if writing is not None:
                writing.result()
            monitor.check()
            outputs.commit()
    return grid


def write_arrays(
    produce: Callable[[Window], Sequence[np.ndarray | None]],
    targets: Sequence[RasterTarget | None],
    grid: Grid,
    *,
    memory_mb: float = DEFAULT_MEMORY_MB,
    work_factor: float = 4.0,
    monitor: Monitor | None = None,
) -> Grid:
    """Write results held in memory (or computed from arrays in memory) onto ``grid``, block
    by block, with ``run_blocks``' atomic commit: ``produce(window)`` returns one block per
    target (a value for None targets too, dropped). All requested outputs appear, or none."""
    return run_blocks(
        produce,
        [],
        targets,
        grid=grid,
        memory_mb=memory_mb,
        work_factor=work_factor,
        monitor=monitor,
        with_window=True,
    )


def read_raster(
    source: RasterSource,
    grid: Grid | None = None,
    *,
    monitor: Monitor | None = None,
    dtype=np.float32,
) -> np.ndarray:
    """The whole of ``source`` on ``grid`` (its own grid when None) as one array (bands, rows,
    cols) with NaN NoData, read by the same rules as blocks, for work that needs every pixel
    at once (flow routing)."""
    monitor = monitor or Monitor()
    grid = grid or resolve_grid([source])
    raster = source.open(grid, dtype=dtype, warn=monitor.warn)
    try:
        return raster.read(Window(0, 0, grid.width, grid.height))
    finally:
        raster.close()


def scan(
    visit: Callable[..., None],
    sources: Sequence[RasterSource],
    *,
    grid: Grid | None = None,
    halo: int = 0,
    memory_mb: float = DEFAULT_MEMORY_MB,
    work_factor: float = 3.0,
    monitor: Monitor | None = None,
    dtype=np.float32,
) -> Grid:
    """A read-only pass: ``visit(window, *blocks)`` for every block (statistics, sampling)."""
    monitor = monitor or Monitor()
    grid = grid or resolve_grid(sources)
    with _opened(sources, grid, dtype, monitor, memory_mb) as rasters:
        bytes_per_pixel = (
            sum(r.band_count for r in rasters) * np.dtype(dtype).itemsize * work_factor
        )
        windows = _plan(grid, bytes_per_pixel, memory_mb, halo)
        for index, window, blocks in _iterate(rasters, windows, halo, monitor):
            visit(window, *blocks)
            monitor.report((index + 1) / len(windows))
        monitor.check()
    return grid


def strips(
    sources: Sequence[RasterSource],
    grid: Grid,
    *,
    bytes_per_pixel: float,
    memory_mb: float = DEFAULT_MEMORY_MB,
    monitor: Monitor | None = None,
    dtype=np.float32,
) -> Iterator[tuple[Window, list[np.ndarray]]]:
    """Full-width strips of every source, top to bottom: (window, one (bands, rows, cols)
    block per source), each strip as many rows as keep ``bytes_per_pixel`` × its pixels
    within ``memory_mb``. For passes that carry state from one strip to the next (zone
    labels joined across strip edges)."""
    monitor = monitor or Monitor()
    budget = memory_mb * 2**20
    rows = int(max(1, min(grid.height, budget // (grid.width * bytes_per_pixel))))
    windows = [
        Window(0, row, grid.width, min(rows, grid.height - row))
        for row in range(0, grid.height, rows)
    ]
    with _opened(sources, grid, dtype, monitor, memory_mb) as rasters:
        for index, window, blocks in _iterate(rasters, windows, 0, monitor):
            yield window, blocks
            monitor.report((index + 1) / len(windows))
        monitor.check()


def block_values(
    source: RasterSource,
    *,
    grid: Grid | None = None,
    band: int = 0,
    memory_mb: float = DEFAULT_MEMORY_MB,
    monitor: Monitor | None = None,
) -> Callable[[], Iterator[np.ndarray]]:
    """A factory of passes over the valid values of one band, block by block (for multi-pass
    statistics such as exact percentiles). Each call of the factory is one more pass."""
    monitor = monitor or Monitor()
    grid = grid or resolve_grid([source])
    passes = {"done": 0}

    def one_pass() -> Iterator[np.ndarray]:
        with _opened([source], grid, np.float32, monitor, memory_mb) as rasters:
            windows = _plan(grid, rasters[0].band_count * 4 * 3, memory_mb)
            step = passes["done"]
            passes["done"] += 1
            # The number of passes is not known beforehand: each pass takes half the rest.
            part = monitor.span(1 - 0.5**step, 1 - 0.5 ** (step + 1))
            for index, _, blocks in _iterate(rasters, windows, 0, part):
                values = blocks[0][band]
                yield values[np.isfinite(values)]
                part.report((index + 1) / len(windows))

    return one_pass

"""Mine Eco kernels over chunked rasters with Dask: read, compute, reduce, write.

Reading: every chunk of an input is read on a worker through the raster engine's
``AlignedRaster`` (same grid alignment, resampling and NaN NoData as in QGIS). Computing:
``dask.array.map_blocks``, or ``map_overlap`` with the kernel's halo and NaN beyond the raster's
edge (as the engine's halo). Writing: finished chunks travel to the client, which writes them
into the engine's atomic ``OutputSet`` as they arrive, a bounded number at a time; a chunk that
fails stops the run with ``ChunkFailed`` naming it, and no output is left behind. Statistics:
the map/combine reductions of ``core.statistics`` run as a tree of Dask tasks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..core.statistics import Reduce, RunningSummary, exact_percentiles, summarize
from ..engine import Grid, OutputSet, RasterSource, RasterTarget, Window, resolve_grid

DEFAULT_CHUNK = 2048
WORKER_GDAL_CACHE = 64 * 2**20


class ChunkFailed(RuntimeError):
    """One or more chunks raised on a worker; the message lists them with their errors."""

    def __init__(self, failures: list[tuple[Window, BaseException]]):
        lines = [
            f"rows {w.row}–{w.row + w.height - 1}, cols {w.col}–{w.col + w.width - 1}: "
            f"{type(e).__name__}: {e}"
            for w, e in failures
        ]
        super().__init__(
            f"{len(failures)} chunk(s) failed; no output was written:\n" + "\n".join(lines)
        )
        self.failures = failures


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # optional extra
        raise ImportError(
            "mine_eco_plugin.distributed needs dask: pip install 'dask[array]' distributed"
        ) from error
    return dask, da


class RasterChunks:
    """An input raster on the output grid as an array-like (bands, rows, cols) for
    ``dask.array.from_array``. Pickled into the task graph; each worker process opens the
    raster once, on first use."""

    def __init__(self, source: RasterSource, grid: Grid):
        self.source = source
        self.grid = grid
        self.bands = source.band_count()
        self.shape = (self.bands, grid.height, grid.width)
        self.dtype = np.dtype(np.float32)
        self.ndim = 3
        self._raster = None

    def __getstate__(self):
        return {"source": self.source, "grid": self.grid, "bands": self.bands}

    def __setstate__(self, state):
        self.__init__(state["source"], state["grid"])

    def __getitem__(self, key) -> np.ndarray:
        bands, rows, cols = key
        if self._raster is None:
            # A worker's GDAL block cache would otherwise grow to 5 % of the node's RAM per
            # process; chunks are read once, so a small cache loses nothing.
            gdal.SetCacheMax(min(gdal.GetCacheMax(), WORKER_GDAL_CACHE))
            self._raster = self.source.open(self.grid)
        row0, row1, _ = rows.indices(self.grid.height)
        col0, col1, _ = cols.indices(self.grid.width)
        block = self._raster.read(Window(col0, row0, col1 - col0, row1 - row0))
        return block[bands]


def read_array(source: RasterSource, grid: Grid, chunk: int = DEFAULT_CHUNK):
    """A lazy Dask array (bands, rows, cols), float32 with NaN NoData, chunked spatially."""
    _, da = _dask()
    chunks = RasterChunks(source, grid)
    return da.from_array(
        chunks,
        chunks=(chunks.bands, chunk, chunk),
        asarray=False,
        fancy=False,
        lock=False,
        name=f"read-{source.path}-{source.bands}-{chunk}-{hash(grid)}",
    )


@dataclass(frozen=True)
class _Stacked:
    """A kernel whose outputs are stacked into one array along the band axis (Dask blocks
    are single arrays) with the halo cropped; ``bands`` says how many bands each output has."""

    kernel: Callable
    bands: tuple[int, ...]
    halo: int = 0

    def __call__(self, *blocks):
        results = self.kernel(*blocks)
        if isinstance(results, np.ndarray):
            results = (results,)
        shape = blocks[0].shape[-2:]
        h = self.halo
        inner = (shape[0] - 2 * h, shape[1] - 2 * h)
        stacked = []
        for r, n in zip(results, self.bands, strict=True):
            if r is None:
                stacked.append(np.full((n, *inner), np.nan, np.float32))
                continue
            # As in the engine, a kernel may return its result with the halo or without it.
            if h and r.shape[-2:] == shape:
                r = r[..., h : shape[0] - h, h : shape[1] - h]
            stacked.append(r.reshape(-1, *inner).astype(np.float32, copy=False))
        return np.concatenate(stacked)


def kernel_array(kernel, arrays, output_bands: Sequence[int], halo: int = 0):
    """The lazy result of ``kernel`` over ``arrays``: bands of all outputs stacked.

    With a halo, every chunk is first grown by ``halo`` pixels taken from its neighbours
    (``dask.array.overlap``; NaN beyond the raster's edge, as in the engine), the kernel sees
    the grown block, and its result is cropped back to the chunk.
    """
    _, da = _dask()
    template = arrays[0]
    arrays = [a.rechunk({0: -1, 1: template.chunks[1], 2: template.chunks[2]}) for a in arrays]
    if halo:
        arrays = [
            da.overlap.overlap(
                a, depth={0: 0, 1: halo, 2: halo}, boundary={0: "none", 1: np.nan, 2: np.nan}
            )
            for a in arrays
        ]
    chunks = ((sum(output_bands),), *template.chunks[1:])
    stacked = _Stacked(kernel, tuple(output_bands), halo)
    return da.map_blocks(stacked, *arrays, chunks=chunks, dtype=np.float32)


def _split(values: np.ndarray, bands: Sequence[int]) -> list[np.ndarray]:
    edges = np.cumsum((0, *bands))
    return [values[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def store(
    result,
    targets: Sequence[RasterTarget | None],
    grid: Grid,
    *,
    client=None,
    in_flight: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Compute ``result`` chunk by chunk and write the stacked bands into ``targets``.

    With a ``distributed.Client``, chunks run on the cluster and at most ``in_flight`` are
    pending at once (default: twice the cluster's threads), so the client's memory stays
    bounded; without one, Dask's local scheduler computes them. Failed chunks are collected
    and reported together (``ChunkFailed``); then every output is discarded.
    """
    dask, _ = _dask()
    bands = [t.bands if t is not None else 0 for t in targets]
    row_edges = np.cumsum((0, *result.chunks[1]))
    col_edges = np.cumsum((0, *result.chunks[2]))
    pieces = result.to_delayed()[0]
    jobs = [
        (
            Window(
                int(col_edges[j]),
                int(row_edges[i]),
                int(col_edges[j + 1] - col_edges[j]),
                int(row_edges[i + 1] - row_edges[i]),
            ),
            pieces[i, j],
        )
        for i in range(pieces.shape[0])
        for j in range(pieces.shape[1])
    ]
    failures: list[tuple[Window, BaseException]] = []
    done = 0
    with OutputSet(targets, grid) as outputs:

        def write(window, values):
            nonlocal done
            outputs.write(
                window,
                [
                    part if target is not None else None
                    for part, target in zip(_split(values, bands), targets, strict=True)
                ],
            )
            done += 1
            if progress:
                progress(done / len(jobs))

        if client is None:
            for window, piece in jobs:
                try:
                    (values,) = dask.compute(piece)
                except Exception as error:  # noqa: BLE001 (reported with its chunk below)
                    failures.append((window, error))
                    continue
                write(window, values)
        else:
            from distributed import as_completed

            threads = sum(client.nthreads().values()) or 1
            limit = in_flight or 2 * threads
            queue = list(jobs)
            windows = {}
            running = as_completed([], with_results=False)
            while queue or windows:
                while queue and len(windows) < limit:
                    window, piece = queue.pop(0)
                    future = client.compute(piece)
                    windows[future.key] = window
                    running.add(future)
                future = next(running)
                window = windows.pop(future.key)
                if future.status == "error":
                    failures.append((window, future.exception()))
                else:
                    write(window, future.result())
                future.release()
        if failures:
            raise ChunkFailed(failures)
        outputs.commit()


def run_kernel(
    kernel,
    sources: Sequence[RasterSource],
    targets: Sequence[RasterTarget | None],
    *,
    halo: int = 0,
    grid: Grid | None = None,
    chunk: int = DEFAULT_CHUNK,
    client=None,
    progress=None,
) -> Grid:
    """Run a Mine Eco block kernel (the function the QGIS algorithm hands the engine) on Dask.

    Same contract as ``engine.run_blocks``: one float32 array (bands, rows, cols) per source
    with NaN NoData, one array per target back; ``halo`` pixels of context on every side.
    """
    grid = grid or resolve_grid(sources)
    arrays = [read_array(source, grid, chunk) for source in sources]
    bands = [
        t.bands if t is not None else _probe_bands(kernel, arrays, i) for i, t in enumerate(targets)
    ]
    result = kernel_array(kernel, arrays, bands, halo)
    store(result, targets, grid, client=client, progress=progress)
    return grid


def _probe_bands(kernel, arrays, index) -> int:
    """Band count of an output nobody asked for, from the kernel on a 1×1 block."""
    sample = [np.full((a.shape[0], 1, 1), np.nan, np.float32) for a in arrays]
    result = kernel(*sample)
    result = (result,) if isinstance(result, np.ndarray) else result
    value = result[index]
    return 0 if value is None else int(np.prod(value.shape[:-2], dtype=int)) or 1


def dask_reduce(array, band: int = 0, client=None) -> Reduce:
    """A ``core.statistics.Reduce`` over the valid values of one band of a Dask array, as a
    tree of tasks (pairs of partial results combined on the workers)."""
    over_chunks = dask_reduce_arrays([array[band]], client)
    return lambda map_block, combine: over_chunks(functools.partial(_map_valid, map_block), combine)


def dask_reduce_arrays(arrays, client=None) -> Reduce:
    """A ``Reduce`` over whole chunks of several aligned Dask arrays at once (e.g. statistics
    over the pixels valid in every input): ``map_block`` receives one chunk per array."""
    dask, _ = _dask()
    pieces = [a.to_delayed().ravel().tolist() for a in arrays]

    def reduce(map_block, combine):
        partials = [dask.delayed(map_block)(*chunks) for chunks in zip(*pieces, strict=True)]
        while len(partials) > 1:
            paired = [
                dask.delayed(combine)(partials[i], partials[i + 1])
                for i in range(0, len(partials) - 1, 2)
            ]
            if len(partials) % 2:
                paired.append(partials[-1])
            partials = paired
        if client is not None:
            return client.compute(partials[0]).result()
        (result,) = dask.compute(partials[0])
        return result

    return reduce


def _map_valid(map_block, values: np.ndarray):
    values = np.asarray(values).ravel()
    return map_block(values[~np.isnan(values)])


def band_summary(
    source: RasterSource,
    *,
    band: int = 0,
    grid: Grid | None = None,
    chunk: int = DEFAULT_CHUNK,
    client=None,
) -> RunningSummary:
    """Count, min, max, mean, standard deviation of one band, as a Dask reduction."""
    grid = grid or resolve_grid([source])
    return summarize(dask_reduce(read_array(source, grid, chunk), band, client))


def band_percentiles(
    source: RasterSource,
    percentiles: Sequence[float],
    *,
    band: int = 0,
    grid: Grid | None = None,
    chunk: int = DEFAULT_CHUNK,
    client=None,
):
    """Exact percentiles (numpy's linear rule) of one band, as Dask reductions."""
    grid = grid or resolve_grid([source])
    reduce = dask_reduce(read_array(source, grid, chunk), band, client)
    return exact_percentiles(reduce, percentiles)

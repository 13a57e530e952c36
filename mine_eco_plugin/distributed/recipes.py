"""Ready-made runs of Mine Eco algorithms on Dask: the same core kernels, parameters and
two-pass statistics as the QGIS algorithms of the same name."""

from __future__ import annotations

import numpy as np

from ..core import drivers, landscape, spectral
from ..core.evaluation_index import composite_index as weighted_index
from ..core.statistics import RunningSummary
from ..engine import RasterSource, RasterTarget, resolve_grid, styles
from .runner import (
    DEFAULT_CHUNK,
    band_percentiles,
    dask_reduce,
    dask_reduce_arrays,
    read_array,
    run_kernel,
)

RED, NIR = 3, 4


def _target(path, bands=1, names=None, **metadata):
    tags = {"MINEECO_RUNNER": "dask", **{k: str(v) for k, v in metadata.items()}}
    return RasterTarget(str(path), bands=bands, band_names=names, metadata=tags)


def ndvi(stack, output, *, client=None, chunk=DEFAULT_CHUNK, progress=None):
    """NDVI of the canonical 6-band stack (mineeco:ndvi)."""
    source = RasterSource(str(stack), parameter="INPUT", bands=(RED, NIR))
    run_kernel(
        lambda block: spectral.ndvi(block[0], block[1]),
        [source],
        [_target(output, MINEECO_ALGORITHM="ndvi")],
        chunk=chunk,
        client=client,
        progress=progress,
    )


def tasseled_cap(
    stack, output, *, coefficients="oli_baig_2014", client=None, chunk=DEFAULT_CHUNK, progress=None
):
    """Brightness, greenness, wetness of the canonical stack (mineeco:tasseled_cap)."""
    chosen = spectral.TASSELED_CAP_SETS[coefficients]
    source = RasterSource(str(stack), parameter="INPUT", bands=(1, 2, 3, 4, 5, 6))
    run_kernel(
        lambda block: spectral.tasseled_cap(block, chosen),
        [source],
        [
            _target(
                output,
                3,
                ("brightness", "greenness", "wetness"),
                MINEECO_ALGORITHM="tasseled_cap",
                COEFFICIENTS=chosen.key,
            )
        ],
        chunk=chunk,
        client=client,
        progress=progress,
    )


def fvc(
    index,
    output,
    *,
    soil_percentile=5.0,
    veg_percentile=95.0,
    client=None,
    chunk=DEFAULT_CHUNK,
    progress=None,
):
    """Fractional vegetation cover from a vegetation index (mineeco:fvc): the percentiles are
    a Dask reduction over the whole raster, then the per-pixel pass."""
    source = RasterSource(str(index), parameter="INPUT", bands=(1,))
    grid = resolve_grid([source])
    soil, veg = band_percentiles(
        source, [soil_percentile, veg_percentile], grid=grid, chunk=chunk, client=client
    )
    run_kernel(
        lambda block: spectral.vegetation_cover(block[0], soil, veg),
        [source],
        [_target(output, MINEECO_ALGORITHM="fvc", SOIL_VALUE=soil, VEG_VALUE=veg)],
        grid=grid,
        chunk=chunk,
        client=client,
        progress=progress,
    )
    return {"SOIL_VALUE": soil, "VEG_VALUE": veg}


def local_correlation(
    x,
    y,
    output_r,
    output_class,
    *,
    window=11,
    alpha=0.05,
    min_pairs=3,
    client=None,
    chunk=DEFAULT_CHUNK,
    progress=None,
):
    """Moving-window Pearson r and its classes (mineeco:local_correlation)."""
    sources = [
        RasterSource(str(x), parameter="INPUT_X", bands=(1,)),
        RasterSource(str(y), parameter="INPUT_Y", bands=(1,)),
    ]

    def kernel(x_block, y_block):
        result = drivers.local_correlation(
            x_block[0], y_block[0], window, min_pairs=min_pairs, alpha=alpha, p_values=False
        )
        return result.r, result.classes

    run_kernel(
        kernel,
        sources,
        [
            _target(output_r, MINEECO_ALGORITHM="local_correlation", WINDOW=window),
            RasterTarget(
                str(output_class), dtype="uint8", nodata=0, classes=styles.CORRELATION_CLASSES
            ),
        ],
        halo=window // 2,
        chunk=chunk,
        client=client,
        progress=progress,
    )


def _union(a, b):
    return np.union1d(a, b)


def landscape_metrics(
    cover,
    output_shdi,
    output_fn,
    *,
    window=33,
    connectivity=8,
    client=None,
    chunk=DEFAULT_CHUNK,
    progress=None,
):
    """SHDI and FN in a moving window (mineeco:landscape_metrics); the class codes present are
    a Dask reduction first, as the algorithm's pre-pass."""
    source = RasterSource(str(cover), parameter="INPUT", bands=(1,), resampling="nearest")
    grid = resolve_grid([source])
    codes = dask_reduce(read_array(source, grid, chunk), 0, client)(
        landscape.distinct_codes, _union
    )
    codes = [int(c) for c in codes]
    metres = grid.srs().GetLinearUnits() or 1.0
    area = grid.pixel_area() * metres * metres

    def kernel(block):
        metrics = landscape.window_metrics(
            block[0], codes, window, connectivity=connectivity, pixel_area_m2=area
        )
        return metrics.shdi, metrics.fn

    run_kernel(
        kernel,
        [source],
        [
            _target(output_shdi, MINEECO_ALGORITHM="landscape_metrics", WINDOW=window),
            _target(output_fn, MINEECO_ALGORITHM="landscape_metrics", WINDOW=window),
        ],
        halo=window // 2,
        grid=grid,
        chunk=chunk,
        client=client,
        progress=progress,
    )
    return codes


def _joint_summaries(*chunks):
    """Per indicator, the summary over the pixels valid in every indicator of the chunk."""
    stack = np.concatenate([c.reshape(c.shape[0], -1) for c in chunks])
    valid = ~np.isnan(stack).any(axis=0)
    return [RunningSummary.of(row[valid]) for row in stack]


def _merge_all(a, b):
    return [x.merge(y) for x, y in zip(a, b, strict=True)]


def composite_index(
    indicators,
    output,
    *,
    weights,
    trends,
    clip=True,
    client=None,
    chunk=DEFAULT_CHUNK,
    progress=None,
):
    """P = Σ Wⱼ·Tⱼ with given weights (mineeco:composite_index, WEIGHT_SOURCE 'given'): the
    min/max of each indicator over the pixels valid in all of them are a Dask reduction."""
    sources = [
        RasterSource(str(path), parameter=f"INPUTS {i + 1}", bands=(1,))
        for i, path in enumerate(indicators)
    ]
    grid = resolve_grid(sources)
    weights = np.asarray(weights, dtype=float)
    weights = weights / weights.sum()
    arrays = [read_array(s, grid, chunk) for s in sources]
    summaries = dask_reduce_arrays(arrays, client)(_joint_summaries, _merge_all)
    minima = [s.minimum for s in summaries]
    maxima = [s.maximum for s in summaries]
    run_kernel(
        lambda *blocks: weighted_index(
            [b[0] for b in blocks], weights, minima, maxima, trends, clip=clip
        ),
        sources,
        [_target(output, MINEECO_ALGORITHM="composite_index")],
        grid=grid,
        chunk=chunk,
        client=client,
        progress=progress,
    )
    return {"MINIMA": minima, "MAXIMA": maxima, "WEIGHTS": weights.tolist()}

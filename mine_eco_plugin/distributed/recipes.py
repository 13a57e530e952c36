"""Ready-made runs of Mine Eco algorithms on Dask: the same core kernels, parameters and
two-pass statistics as the QGIS algorithms of the same name."""

from __future__ import annotations

from ..core import spectral
from ..engine import RasterSource, RasterTarget, resolve_grid
from .runner import DEFAULT_CHUNK, band_percentiles, run_kernel

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

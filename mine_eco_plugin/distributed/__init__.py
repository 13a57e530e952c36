"""Mine Eco beyond one machine: the plugin's kernels on a Dask cluster, outside QGIS.

    from distributed import Client
    from mine_eco_plugin.distributed import recipes
    with Client("tcp://scheduler:8786") as client:
        recipes.ndvi("stack.tif", "ndvi.tif", client=client, chunk=4096)

Or from a shell: ``python -m mine_eco_plugin.distributed ndvi stack.tif ndvi.tif --scheduler
tcp://scheduler:8786`` (without ``--scheduler`` a ``LocalCluster`` of ``--workers`` processes is
started). ``run_kernel`` runs any block kernel of ``core`` with its halo; ``band_summary`` and
``band_percentiles`` are the engine's two-pass statistics as Dask reductions. Needs the optional
extras ``dask[array]`` and ``distributed``; the QGIS plugin never imports this package. Input
files must be readable by every worker (a shared file system or object store path GDAL opens);
outputs are written by the client.
"""

from .runner import (
    ChunkFailed,
    band_percentiles,
    band_summary,
    kernel_array,
    read_array,
    run_kernel,
    store,
)

__all__ = [
    "ChunkFailed",
    "band_percentiles",
    "band_summary",
    "kernel_array",
    "read_array",
    "run_kernel",
    "store",
]

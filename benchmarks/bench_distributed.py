"""Mine Eco kernels on Dask: throughput with 1 and 2 local workers, and peak memory per worker.

    .venv/bin/python benchmarks/bench_distributed.py            # 16,000 × 16,000 pixels
    .venv/bin/python benchmarks/bench_distributed.py --quick    # 4,000 × 4,000

One per-pixel kernel (NDVI: ``core.spectral.ndvi``) and one moving-window kernel (the 11 × 11
local correlation: ``core.drivers.local_correlation``) run through
``mine_eco_plugin.distributed.run_kernel`` on a fresh ``LocalCluster`` of 1, then 2 worker
processes (one thread each). Reported: wall time, megapixels per second, the scaling ratio
(time with 1 worker / time with 2; 2.0 would be perfect on two cores) and each worker's peak
resident memory (``ru_maxrss`` of the worker processes). The machines have 2 cores: the client
process writing the output shares them with the workers, so the ratio is the figure to read.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

gdal.UseExceptions()


def make_pair(path: Path, size: int) -> Path:
    """Two float32 bands (red- and NIR-like reflectance, spatially correlated), tiled."""
    if path.exists() and gdal.Open(str(path)).RasterXSize == size:
        return path
    driver = gdal.GetDriverByName("GTiff")
    dataset = driver.Create(
        str(path),
        size,
        size,
        2,
        gdal.GDT_Float32,
        ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "BIGTIFF=YES"],
    )
    dataset.SetGeoTransform((500000.0, 30.0, 0.0, 4000000.0, 0.0, -30.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32650)
    dataset.SetProjection(srs.ExportToWkt())
    rng = np.random.default_rng(0)
    cols = np.arange(size, dtype=np.float32)
    for row in range(0, size, 1024):
        rows = np.arange(row, min(row + 1024, size), dtype=np.float32)[:, None]
        smooth = 0.5 + 0.25 * np.sin(rows / 97.0) * np.cos(cols / 131.0)
        noise = rng.normal(0, 0.03, (rows.size, size)).astype(np.float32)
        red = (0.08 + 0.1 * (1 - smooth) + noise).astype(np.float32)
        nir = (0.2 + 0.3 * smooth + 0.5 * noise).astype(np.float32)
        dataset.GetRasterBand(1).WriteArray(red, 0, row)
        dataset.GetRasterBand(2).WriteArray(nir, 0, row)
    dataset = None
    return path


def ndvi_kernel(block):
    from mine_eco_plugin.core import spectral

    return spectral.ndvi(block[0], block[1])


def correlation_kernel(red, nir):
    from mine_eco_plugin.core import drivers

    return drivers.local_correlation(red[0], nir[0], 11, p_values=False).r


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, stack: Path, out: Path, workers: int, chunk: int) -> dict:
    from distributed import Client, LocalCluster

    from mine_eco_plugin.distributed import run_kernel
    from mine_eco_plugin.engine import RasterSource, RasterTarget

    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
    )
    if kind == "ndvi":
        sources = [RasterSource(str(stack), bands=(1, 2))]
        kernel, halo = ndvi_kernel, 0
    else:
        sources = [RasterSource(str(stack), bands=(1,)), RasterSource(str(stack), bands=(2,))]
        kernel, halo = correlation_kernel, 5
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="4GiB",
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter()
        run_kernel(kernel, sources, [RasterTarget(str(out))], halo=halo, chunk=chunk, client=client)
        wall = time.perf_counter() - started
        peaks = sorted(client.run(_peak_rss_mib).values())
    size = gdal.Open(str(stack)).RasterXSize
    return {
        "kernel": kind,
        "workers": workers,
        "wall_s": round(wall, 2),
        "mpix_per_s": round(size * size / 1e6 / wall, 2),
        "worker_peak_rss_mib": [round(p) for p in peaks],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4,000² instead of 16,000²")
    parser.add_argument("--size", type=int)
    parser.add_argument("--chunk", type=int, default=2048)
    parser.add_argument("--out", type=Path, default=REPO / "bench-output")
    args = parser.parse_args(argv)
    size = args.size or (4000 if args.quick else 16000)
    args.out.mkdir(parents=True, exist_ok=True)
    stack = make_pair(args.out / f"dask_pair_{size}.tif", size)
    rows = []
    for kind in ("ndvi", "local_correlation"):
        for workers in (1, 2):
            result = measure(
                kind, stack, args.out / f"dask_{kind}_{workers}.tif", workers, args.chunk
            )
            rows.append(result)
            print(
                f"{size}²  {kind:<18} {workers} worker(s): {result['wall_s']:8.1f} s  "
                f"{result['mpix_per_s']:7.2f} Mpix/s  worker peak RSS "
                f"{result['worker_peak_rss_mib']} MiB",
                flush=True,
            )
    ratios = {}
    for kind in ("ndvi", "local_correlation"):
        one, two = (r["wall_s"] for r in rows if r["kernel"] == kind)
        ratios[kind] = round(one / two, 2)
        print(f"scaling {kind}: time with 1 worker / with 2 = {ratios[kind]}")
    (args.out / "distributed.json").write_text(
        json.dumps({"size": size, "chunk": args.chunk, "runs": rows, "scaling": ratios}, indent=2)
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

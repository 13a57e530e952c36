"""Command line: run a Mine Eco algorithm on a Dask cluster (or a local one).

python -m mine_eco_plugin.distributed ndvi stack.tif ndvi.tif --scheduler tcp://host:8786
python -m mine_eco_plugin.distributed fvc ndvi.tif fvc.tif --workers 4 --chunk 4096
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from . import recipes

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mine_eco_plugin.distributed",
        description="Run Mine Eco kernels over chunked rasters on a Dask cluster.",
    )
    cluster = parser.add_argument_group("cluster")
    cluster.add_argument("--scheduler", help="address of a running scheduler, tcp://host:port")
    cluster.add_argument(
        "--workers",
        type=int,
        default=2,
        help="local worker processes when no scheduler is given (default 2)",
    )
    cluster.add_argument("--threads-per-worker", type=int, default=1)
    cluster.add_argument(
        "--memory-limit",
        default="auto",
        help="memory limit per local worker, e.g. 2GiB (default auto)",
    )
    parser.add_argument("--chunk", type=int, default=2048, help="chunk side in pixels")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("ndvi", "tasseled-cap"):
        command = commands.add_parser(name, help=getattr(recipes, name.replace("-", "_")).__doc__)
        command.add_argument("input", help="canonical 6-band reflectance stack")
        command.add_argument("output")
        if name == "tasseled-cap":
            command.add_argument(
                "--coefficients",
                default="oli_baig_2014",
                choices=sorted(recipes.spectral.TASSELED_CAP_SETS),
            )
    command = commands.add_parser("fvc", help=recipes.fvc.__doc__)
    command.add_argument("input", help="vegetation index raster (band 1)")
    command.add_argument("output")
    command.add_argument("--soil-percentile", type=float, default=5.0)
    command.add_argument("--veg-percentile", type=float, default=95.0)
    return parser


@contextlib.contextmanager
def connect(args):
    from distributed import Client, LocalCluster

    if args.scheduler:
        with Client(args.scheduler) as client:
            yield client
        return
    # Local workers are new processes: they must find this package too.
    paths = [PACKAGE_PARENT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads_per_worker,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    with connect(args) as client:
        options = {"client": client, "chunk": args.chunk}
        if args.command == "ndvi":
            recipes.ndvi(args.input, args.output, **options)
        elif args.command == "tasseled-cap":
            recipes.tasseled_cap(args.input, args.output, coefficients=args.coefficients, **options)
        elif args.command == "fvc":
            values = recipes.fvc(
                args.input,
                args.output,
                soil_percentile=args.soil_percentile,
                veg_percentile=args.veg_percentile,
                **options,
            )
            print(", ".join(f"{k} = {v:.6g}" for k, v in values.items()))
        workers = len(client.scheduler_info().get("workers", {}))
    print(
        f"{args.command}: wrote {args.output} with {workers} worker(s) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

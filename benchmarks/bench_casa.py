"""Benchmark of casa_npp on 12-month stacks (wall time, peak RSS) through qgis_process.

    .venv/bin/python benchmarks/bench_casa.py [--size 4000 | --quick] [--out bench-output]

Writes four synthetic 12-band float32 stacks (NDVI, temperature, precipitation, solar) of
size × size pixels (tiled, uncompressed; reused when present) and a land-cover raster, then
runs ``qgis_process run mineeco:casa_npp`` (annual NPP only, and annual + monthly NPP) in a
child measured by GNU time. Baseline in the same run: the pure numpy kernel
(``core.casa.casa_npp``) on one in-memory 12 × 1000 × 1000 block, extrapolated to the full
size — the ratio shows what reading, writing and QGIS add. Results go to
``<out>/casa.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from measure import measure
from osgeo import gdal, osr

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "scripts"))
import qgis_runner  # noqa: E402

STRIP = 256


def synthetic(name: str, row0: int, rows: int, size: int) -> np.ndarray:
    """A smooth, seasonal 12-month block of ``name`` (deterministic)."""
    y, x = np.mgrid[row0 : row0 + rows, 0:size].astype(np.float32) / size
    month = np.arange(12, dtype=np.float32)[:, None, None]
    season = np.cos(2 * np.pi * (month - 6) / 12)
    spatial = 0.5 + 0.5 * np.sin(7 * x) * np.cos(5 * y)
    if name == "ndvi":
        return 0.15 + 0.35 * spatial + 0.25 * season * spatial
    if name == "temperature":
        return 8 + 6 * spatial + 12 * season
    if name == "precipitation":
        return 40 + 80 * spatial + 40 * season
    return 400 + 250 * season + 30 * spatial  # solar, MJ·m⁻²·month⁻¹


def ensure_inputs(folder: Path, size: int) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32650)
    paths = {}
    for name in ("ndvi", "temperature", "precipitation", "solar", "landcover"):
        path = folder / f"casa_{name}_{size}.tif"
        paths[name] = str(path)
        bands = 1 if name == "landcover" else 12
        if path.exists():
            existing = gdal.Open(str(path))
            if existing.RasterXSize == size and existing.RasterCount == bands:
                continue
        out = gdal.GetDriverByName("GTiff").Create(
            str(path), size, size, bands, gdal.GDT_Float32,
            ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "BIGTIFF=YES", "INTERLEAVE=BAND"],
        )  # fmt: skip
        out.SetGeoTransform((400000.0, 30.0, 0.0, 4000000.0, 0.0, -30.0))
        out.SetProjection(srs.ExportToWkt())
        for row in range(0, size, STRIP):
            rows = min(STRIP, size - row)
            if name == "landcover":
                y, x = np.mgrid[row : row + rows, 0:size]
                block = (1 + (x // 97 + y // 89) % 8).astype(np.float32)[None]
            else:
                block = synthetic(name, row, rows, size)
            for band in range(bands):
                out.GetRasterBand(band + 1).WriteArray(block[band], 0, row)
        out = None
    return paths


def kernel_baseline(side: int = 1000) -> float:
    """Seconds of the numpy kernel on one 12 × side × side block."""
    from mine_eco_plugin.core import casa

    arrays = [synthetic(name, 0, side, side) for name in ("ndvi", "temperature",
                                                           "precipitation", "solar")]  # fmt: skip
    start = time.perf_counter()
    casa.casa_npp(*arrays, 0.542, 0.634, 4.46)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--quick", action="store_true", help="500 × 500 smoke run")
    parser.add_argument("--out", default=str(REPOSITORY / "bench-output"))
    args = parser.parse_args(argv)
    size = 500 if args.quick else args.size
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    paths = ensure_inputs(out / "casa_inputs", size)
    print(f"inputs 4 × 12 × {size}² (+ land cover) ready in {time.perf_counter() - started:.0f} s")
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-casa-") as profile:
        env = qgis_runner.environment(profile)
        measure(qgis_runner.enable_command(), env)
        common = qgis_runner.run_command("casa_npp", {
            "NDVI": paths["ndvi"], "TEMPERATURE": paths["temperature"],
            "PRECIPITATION": paths["precipitation"], "SOLAR": paths["solar"],
            "LANDCOVER": paths["landcover"],
        })  # fmt: skip
        runs = {}
        for label, extra in (
            ("annual", [f"OUTPUT={out / 'casa_npp_annual.tif'}"]),
            ("annual+monthly", [f"OUTPUT={out / 'casa_npp_annual.tif'}",
                                f"OUTPUT_MONTHLY={out / 'casa_npp_monthly.tif'}"]),
        ):  # fmt: skip
            for target in out.glob("casa_npp_*.tif"):
                target.unlink()
            result = measure(common + extra, env)
            if not result.ok:
                print(f"casa_npp ({label}) failed:\n{result.failure()}")
                return 1
            runs[label] = result
            print(
                f"casa_npp {label:15s} {size}²×12: wall {result.wall_s:7.1f} s, peak RSS "
                f"{result.max_rss_mib:7.0f} MiB, others {100 * result.others_share:3.0f} %"
            )
    side = min(size, 1000)
    block_s = kernel_baseline(side)
    extrapolated = block_s * (size / side) ** 2
    ratio = runs["annual"].wall_s / extrapolated
    print(
        f"numpy kernel alone, 12 × {side}²: {block_s:.2f} s → {extrapolated:.1f} s for {size}² "
        f"(in memory, no I/O); qgis_process annual / kernel alone = {ratio:.2f}"
    )
    record = {
        "size": size,
        "months": 12,
        "runs": {
            label: {
                "wall_s": round(r.wall_s, 2),
                "peak_rss_mib": round(r.max_rss_mib, 1),
                "others_cpu_share": round(r.others_share, 3),
            }
            for label, r in runs.items()
        },  # fmt: skip
        "kernel_block_side": side,
        "kernel_block_s": round(block_s, 3),
        "kernel_extrapolated_s": round(extrapolated, 2),
        "ratio_qgis_process_to_kernel": round(ratio, 3),
        "memory_budget_mb": os.environ.get("MINE_ECO_MEMORY_MB", "256 (default)"),
    }
    (out / "casa.json").write_text(json.dumps(record, indent=2))
    print(f"wrote {out / 'casa.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

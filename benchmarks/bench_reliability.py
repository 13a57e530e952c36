"""Big rasters: peak memory of a per-pixel, a two-pass and a moving-window algorithm at
20,000 × 20,000 pixels, through ``qgis_process`` as users run them, against the same runs on a
small raster (bounded memory means the peak does not grow with the raster).

    .venv/bin/python benchmarks/bench_reliability.py            # 20,000 × 20,000 (and 2,000²)
    .venv/bin/python benchmarks/bench_reliability.py --quick    # 2,000 × 2,000 (and 500²)
    .venv/bin/python benchmarks/bench_reliability.py --size 10000

Runs (each in its own child process; wall time from here, peak RSS from GNU ``time -v``):

* ``mineeco:ndvi`` (per pixel) on a six-band stack. A 6-band 20,000² float32 stack is 9.6 GB;
  NDVI reads only red (3) and NIR (4), so the stack is a VRT whose six bands point at two
  single-band files (bands 1–3 → "red", 4–6 → "nir"): the algorithm sees a valid 6-band stack
  (band-count check included) and reads 3.2 GB.
* ``mineeco:fvc`` (two passes: exact 5th/95th percentiles, then the index) on the "nir" file.
* ``mineeco:local_correlation`` (moving 11 × 11 window with a halo) of "red" against "nir".

Inputs are generated strip by strip (never a whole raster in memory): smooth deterministic
fields plus noise, tiled DEFLATE GeoTIFFs, 30 m, UTM 32N, with a NoData hole. The free space of
the output folder is checked first (inputs + the largest output). Results go to
``<out>/reliability.json``; generated inputs are kept for reruns unless ``--clean``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from measure import measure, settle
from osgeo import gdal, osr

gdal.UseExceptions()

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(REPOSITORY / "scripts"))
import qgis_runner  # noqa: E402

QGIS_PROCESS = qgis_runner.QGIS_PROCESS
GENERATOR_VERSION = "1"
STRIP = 512


def field(path: Path, size: int, low: float, high: float, seed: int) -> Path:
    """A smooth field in [low, high] with noise and a NoData square, written strip by strip."""
    if path.exists():
        dataset = gdal.Open(str(path))
        if (
            dataset.RasterXSize == size
            and dataset.GetMetadataItem("GENERATOR") == f"{GENERATOR_VERSION}:{seed}"
        ):
            return path
        dataset = None
        path.unlink()
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    options = ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3", "BIGTIFF=YES", "NUM_THREADS=2"]
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(path), size, size, 1, gdal.GDT_Float32, options
    )
    dataset.SetGeoTransform((500000.0, 30.0, 0.0, 5600000.0, 0.0, -30.0))
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(-9999)
    rng = np.random.default_rng(seed)
    cols = np.arange(size, dtype=np.float32)[None, :]
    hole = slice(size // 3, size // 3 + max(size // 50, 1))
    for row in range(0, size, STRIP):
        rows = np.arange(row, min(row + STRIP, size), dtype=np.float32)[:, None]
        wave = np.sin(cols / 173.0 + seed) * np.cos(rows / 131.0) * 0.5 + 0.5
        noise = rng.random((rows.shape[0], size), dtype=np.float32) * 0.1
        values = (low + (high - low) * (0.9 * wave + noise)).astype(np.float32)
        in_hole = (rows[:, 0] >= hole.start) & (rows[:, 0] < hole.stop)
        values[in_hole, hole] = -9999
        band.WriteArray(values, 0, row)
    dataset.SetMetadataItem("GENERATOR", f"{GENERATOR_VERSION}:{seed}")
    dataset = None
    return path


def six_band_stack(path: Path, red: Path, nir: Path) -> Path:
    """A VRT of six bands: blue, green, red → the red file; NIR, SWIR1, SWIR2 → the NIR file."""
    sources = [str(red)] * 3 + [str(nir)] * 3
    gdal.BuildVRT(str(path), sources, separate=True)
    return path


def qgis_env(profile: Path) -> dict[str, str]:
    env = qgis_runner.enabled_environment(profile)
    env.pop("MINE_ECO_MEMORY_MB", None)  # the default budget, as users have it
    return env


def runs(inputs: dict[str, Path], out: Path) -> dict[str, tuple[str, list[str]]]:
    """algorithm → (kind, qgis_process parameters)."""
    return {
        "ndvi": ("per pixel", [f"INPUT={inputs['stack']}", f"OUTPUT={out / 'ndvi.tif'}"]),
        "fvc": ("two passes", [f"INPUT={inputs['nir']}", f"OUTPUT={out / 'fvc.tif'}"]),
        "local_correlation": (
            "moving window 11 × 11",
            [
                f"INPUT_X={inputs['red']}",
                f"INPUT_Y={inputs['nir']}",
                "WINDOW=11",
                f"OUTPUT_R={out / 'r.tif'}",
                f"OUTPUT_CLASS={out / 'class.tif'}",
            ],
        ),
    }


def make_inputs(folder: Path, size: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    red = field(folder / f"red_{size}.tif", size, 0.03, 0.25, seed=1)
    nir = field(folder / f"nir_{size}.tif", size, 0.15, 0.55, seed=2)
    return {"red": red, "nir": nir, "stack": six_band_stack(folder / f"stack_{size}.vrt", red, nir)}


def measure_size(size: int, data: Path, env: dict[str, str]) -> dict[str, dict]:
    print(f"inputs {size} × {size} …", flush=True)
    inputs = make_inputs(data, size)
    figures = {}
    for algorithm, (kind, parameters) in runs(inputs, data / "out").items():
        (data / "out").mkdir(exist_ok=True)
        settle()
        command = qgis_runner.run_command(algorithm, parameters)
        result = measure(command, env)
        if not result.ok:
            print(f"  {algorithm}: FAILED\n{result.failure()}", flush=True)
            figures[algorithm] = {"kind": kind, "ok": False, "error": result.failure()}
            continue
        first = Path(parameters[-1].split("=", 1)[1])
        written = gdal.Open(str(first))
        assert (written.RasterXSize, written.RasterYSize) == (size, size), "output grid"
        written = None
        pixels = size * size
        figures[algorithm] = {
            "kind": kind,
            "ok": True,
            "wall_s": round(result.wall_s, 2),
            "peak_rss_mib": round(result.max_rss_mib, 1),
            "mpixels_per_s": round(pixels / result.wall_s / 1e6, 2),
            "others_cpu_share": round(result.others_share, 3),
        }
        print(
            f"  {algorithm:18s} {kind:22s} {result.wall_s:8.1f} s  "
            f"peak RSS {result.max_rss_mib:7.0f} MiB  {pixels / result.wall_s / 1e6:6.1f} Mpx/s  "
            f"(others used {100 * result.others_share:.0f} % of the CPUs)",
            flush=True,
        )
        shutil.rmtree(data / "out")
    return figures


def free_bytes(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(folder).free


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000² (and 500²): a smoke run")
    parser.add_argument("--size", type=int, help="side of the big raster (default 20,000)")
    parser.add_argument("--small", type=int, help="side of the small raster (default size/10)")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "bench-output")
    parser.add_argument("--data", type=Path, help="folder of generated inputs (default <out>)")
    parser.add_argument("--clean", action="store_true", help="delete generated inputs at the end")
    args = parser.parse_args(argv)
    size = args.size or (2000 if args.quick else 20000)
    small = args.small or max(size // 10, 256)
    data = args.data or args.out / "reliability-data"
    # Inputs: two single-band float32 rasters (compressed, at most raw size); outputs: the
    # largest run writes r (float32) and classes (uint8); one run's outputs exist at a time.
    needed = int(size * size * (2 * 4 + 4 + 1) * 1.1)
    free = free_bytes(data)
    print(f"free space in {data}: {free / 2**30:.1f} GiB; needed at most {needed / 2**30:.1f} GiB")
    if free < needed:
        print("not enough free space: use --data on a larger disk or a smaller --size")
        return 1
    if not Path(QGIS_PROCESS).exists():
        print(f"{QGIS_PROCESS} is missing: install QGIS (make setup)")
        return 1
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-profile-") as profile:
        env = qgis_env(Path(profile))
        # Warm-up (unmeasured): QGIS start-up caches, the plugin's first import.
        warm = make_inputs(data / "warm-up", 64)
        subprocess.run(
            qgis_runner.run_command("ndvi", runs(warm, data / "warm-up")["ndvi"][1]),
            env=env,
            capture_output=True,
        )
        figures = {
            "small": {"size": small, "runs": measure_size(small, data / "small", env)},
            "big": {"size": size, "runs": measure_size(size, data / "big", env)},
        }
    print(f"\npeak RSS: {size}² against {small}² ({(size / small) ** 2:.0f}× the pixels)")
    growth = {}
    for algorithm, big in figures["big"]["runs"].items():
        little = figures["small"]["runs"].get(algorithm, {})
        if big.get("ok") and little.get("ok"):
            ratio = big["peak_rss_mib"] / little["peak_rss_mib"]
            growth[algorithm] = round(ratio, 2)
            print(
                f"  {algorithm:18s} {little['peak_rss_mib']:7.0f} MiB → "
                f"{big['peak_rss_mib']:7.0f} MiB  (× {ratio:.2f})"
            )
    report = {
        "benchmark": "reliability",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "python": sys.version.split()[0],
        "gdal": gdal.__version__,
        "memory_budget_mb": "default (MINE_ECO_MEMORY_MB unset)",
        "inputs": "two single-band float32 fields (red 0.03–0.25, NIR 0.15–0.55) with a NoData "
        "square; the NDVI stack is a 6-band VRT whose bands 1–3 point at red, 4–6 at NIR",
        **figures,
        "peak_rss_growth": growth,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reliability.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out / 'reliability.json'}")
    if args.clean:
        shutil.rmtree(data, ignore_errors=True)
    failed = [
        a for part in ("small", "big") for a, f in figures[part]["runs"].items() if not f["ok"]
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

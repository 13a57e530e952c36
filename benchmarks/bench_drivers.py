"""Benchmark of the driver algorithms against their peers, in one run (see ../ISSUE #8).

    .venv/bin/python benchmarks/bench_drivers.py [--quick] [--out bench-output]
                                                [--skip-terra] [--skip-rf]

1. ``local_correlation``, 11 × 11 window on a 2000 × 2000 float32 pair (``--quick``: 500 × 500),
   each tool in its own child process under GNU time (wall time, peak RSS):

   * ``qgis_process run mineeco:local_correlation`` with OUTPUT_R and OUTPUT_CLASS (the area
     shares come with them) — the same work as terra plus the classes;
   * the same with OUTPUT_P as well;
   * the plugin's engine and kernel alone (no QGIS start-up), r and classes;
   * qgis_process's start-up alone (the same algorithm on a 10 × 10 pair);
   * R terra ``focalPairs(c(x, y), w = 11, fun = "pearson")`` (terra's default na.rm = FALSE,
     as in the reference measurement of about 106 s), written as float64.

   The figures: terra's wall time / ours (same run, same input), and max |Δr| between
   our r (float32 output) and terra's where both are defined (the inputs have no NoData, so
   that is every pixel whose window lies inside the raster; terra leaves edge windows NA).

2. ``rf_driver_contribution`` with 1000 points, 12 drivers in 3 categories, 500 trees, predicting
   4000 × 4000 pixels (``--quick``: 500 × 500 and 100 trees): wall time and peak RSS, and the
   same call on a 200 × 200 excerpt (sampling and fitting dominate there), so the difference
   is the prediction of every pixel.

The machine's cores may be shared: absolute times are noise, ratios within one run are the
figures. Results go to ``<out>/drivers.json``; inputs are cached in ``<out>/drivers-data``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(REPOSITORY / "scripts"))
import qgis_runner  # noqa: E402

GNU_TIME = "/usr/bin/time"
WINDOW = 11
MAX_DELTA_R = 1e-5
TARGET_RATIO = 100.0
RF_POINTS, RF_DRIVERS, RF_EXCERPT = 1000, 12, 200
RF_CATEGORIES = ["climate"] * 4 + ["soil"] * 7 + ["mining"]  # the study's Table 1
_MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")


@dataclass
class Run:
    """One measured child process."""

    label: str
    wall_s: float
    peak_rss_mib: float
    returncode: int
    tail: str = ""


def measure(label: str, command: list[str], env=None, cwd=None) -> Run:
    """Run ``command`` under GNU time: wall time measured here, peak RSS (the child and the
    descendants it waited for) from ``time -v``."""
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-") as folder:
        report = Path(folder) / "time.txt"
        started = time.perf_counter()
        done = subprocess.run(
            [GNU_TIME, "-v", "-o", str(report), *map(str, command)],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        match = _MAX_RSS.search(report.read_text(errors="replace"))
    tail = "" if done.returncode == 0 else (done.stderr or done.stdout)[-1500:]
    run = Run(label, wall, int(match.group(1)) / 1024 if match else float("nan"), done.returncode)
    run.tail = tail
    status = "" if run.returncode == 0 else f"  FAILED ({run.returncode})"
    print(f"  {label:<58} {wall:9.2f} s {run.peak_rss_mib:9.0f} MiB{status}", flush=True)
    if tail:
        print("    " + "\n    ".join(tail.strip().splitlines()[-8:]))
    return run


# --- inputs -------------------------------------------------------------------------------------


def create(path: Path, width: int, height: int, bands: int = 1) -> gdal.Dataset:
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(path), width, height, bands, gdal.GDT_Float32, ["TILED=YES", "BIGTIFF=IF_SAFER"]
    )
    dataset.SetGeoTransform((500000.0, 30.0, 0.0, 4000000.0, 0.0, -30.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32649)  # UTM 49N: the Changhe basin's zone
    dataset.SetProjection(srs.ExportToWkt())
    return dataset


def field(rng, rows: np.ndarray, cols: np.ndarray, waves: int = 4) -> np.ndarray:
    """A smooth random surface on the given pixel rows/cols: a sum of random plane waves."""
    total = np.zeros((rows.size, cols.size), dtype=np.float64)
    for _ in range(waves):
        angle, wavelength, phase = rng.uniform(0, np.pi), rng.uniform(150, 900), rng.uniform(0, 6)
        k = 2 * np.pi / wavelength
        total += np.sin(k * (np.cos(angle) * cols[None, :] + np.sin(angle) * rows[:, None]) + phase)
    return total / np.sqrt(waves)


def correlation_pair(folder: Path, size: int) -> tuple[Path, Path]:
    """x: smooth surface + noise; y: a·x with a slope a that changes sign across the scene."""
    x_path, y_path = folder / f"lcc_x_{size}.tif", folder / f"lcc_y_{size}.tif"
    if x_path.exists() and y_path.exists():
        return x_path, y_path
    rng = np.random.default_rng(size)
    cols = np.arange(size, dtype=np.float64)
    x_out, y_out = create(x_path, size, size), create(y_path, size, size)
    for row in range(0, size, 512):
        rows = np.arange(row, min(row + 512, size), dtype=np.float64)
        wave = np.random.default_rng([size, 1])  # the same waves for every strip
        smooth = field(wave, rows, cols)
        x = 300 + 40 * smooth + 10 * rng.normal(size=smooth.shape)
        slope = np.cos(2 * np.pi * cols / size)[None, :]
        y = 500 + 0.8 * slope * (x - 300) + 15 * rng.normal(size=smooth.shape)
        x_out.GetRasterBand(1).WriteArray(x.astype(np.float32), 0, row)
        y_out.GetRasterBand(1).WriteArray(y.astype(np.float32), 0, row)
    x_out = y_out = None
    return x_path, y_path


def forest_scene(folder: Path, size: int) -> tuple[Path, list[Path]]:
    """12 smooth driver surfaces and a target that depends on 7 of them, size × size."""
    target = folder / f"rf_npp_{size}.tif"
    drivers = [folder / f"rf_driver{i:02d}_{size}.tif" for i in range(RF_DRIVERS)]
    if target.exists() and all(p.exists() for p in drivers):
        return target, drivers
    rng = np.random.default_rng(7)
    effects = np.array([40, 30, 0, 10, 35, 25, 0, 0, 5, 0, 0, 45], dtype=np.float64)
    outs = [create(p, size, size) for p in drivers]
    target_out = create(target, size, size)
    cols = np.arange(size, dtype=np.float64)
    for row in range(0, size, 256):
        rows = np.arange(row, min(row + 256, size), dtype=np.float64)
        npp = np.full((rows.size, cols.size), 290.0)
        for index, out in enumerate(outs):
            values = field(np.random.default_rng([size, index]), rows, cols)
            values += 0.1 * rng.normal(size=values.shape)
            out.GetRasterBand(1).WriteArray(values.astype(np.float32), 0, row)
            npp += effects[index] * (values if index % 3 else np.tanh(2 * values))
        npp += 5 * rng.normal(size=npp.shape)
        target_out.GetRasterBand(1).WriteArray(npp.astype(np.float32), 0, row)
    outs = target_out = None
    return target, drivers


def excerpt(path: Path, folder: Path, size: int) -> Path:
    out = folder / f"{path.stem}_excerpt{size}.vrt"
    gdal.Translate(str(out), str(path), srcWin=[0, 0, size, size], format="VRT")
    return out


# --- tools --------------------------------------------------------------------------------------


def qgis_command(algorithm: str, **parameters) -> list[str]:
    return qgis_runner.run_command(algorithm, parameters)


TERRA_SCRIPT = """suppressMessages(library(terra))
args <- commandArgs(trailingOnly = TRUE)
r <- rast(c(args[1], args[2]))
out <- focalPairs(r, w = as.integer(args[4]), fun = "pearson", filename = args[3],
                  overwrite = TRUE, wopt = list(datatype = "FLT8S"))
"""


def engine_child(x: str, y: str, out: str, window: int) -> int:
    """The plugin's engine and kernel without QGIS: r and classes, as the algorithm writes."""
    sys.path.insert(0, str(REPOSITORY))
    from mine_eco_plugin import engine
    from mine_eco_plugin.core import drivers

    halo = window // 2

    def kernel(x_block, y_block):
        result = drivers.local_correlation(
            x_block[0], y_block[0], window, p_values=False, threads=2
        )
        return result.r, result.classes

    engine.run_blocks(
        kernel,
        [engine.RasterSource(x, "INPUT_X"), engine.RasterSource(y, "INPUT_Y")],
        [
            engine.RasterTarget(f"{out}_r.tif", "OUTPUT_R"),
            engine.RasterTarget(f"{out}_class.tif", "OUTPUT_CLASS", dtype="uint8", nodata=0),
        ],
        halo=halo,
        work_factor=8,
    )
    return 0


def read(path: Path) -> np.ndarray:
    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        values[values == nodata] = np.nan
    return values


# --- the benchmark ------------------------------------------------------------------------------


def bench_local(size: int, data: Path, work: Path, env, skip_terra: bool) -> dict:
    print(f"local_correlation, {WINDOW}×{WINDOW} window, {size}×{size} pair:")
    x, y = correlation_pair(data, size)
    tiny = (data / "lcc_tiny_x.tif", data / "lcc_tiny_y.tif")
    for path, offset in zip(tiny, (0.0, 1.0), strict=True):
        dataset = create(path, 10, 10)
        dataset.GetRasterBand(1).WriteArray(
            (
                np.arange(100).reshape(10, 10) ** 1.5 + offset * np.arange(100).reshape(10, 10) % 7
            ).astype(np.float32)
        )
        dataset = None
    runs = {}
    runs["startup"] = measure(
        "qgis_process start-up (local_correlation on 10×10)",
        qgis_command(
            "local_correlation",
            INPUT_X=tiny[0],
            INPUT_Y=tiny[1],
            WINDOW=3,
            OUTPUT_R=work / "tiny_r.tif",
            OUTPUT_CLASS=work / "tiny_class.tif",
        ),
        env,
    )
    runs["qgis"] = measure(
        "ours: qgis_process, r + classes + shares",
        qgis_command(
            "local_correlation",
            INPUT_X=x,
            INPUT_Y=y,
            WINDOW=WINDOW,
            OUTPUT_R=work / "ours_r.tif",
            OUTPUT_CLASS=work / "ours_class.tif",
        ),
        env,
    )
    runs["qgis_p"] = measure(
        "ours: qgis_process, r + p + classes + shares",
        qgis_command(
            "local_correlation",
            INPUT_X=x,
            INPUT_Y=y,
            WINDOW=WINDOW,
            OUTPUT_R=work / "ours_p_r.tif",
            OUTPUT_P=work / "ours_p_p.tif",
            OUTPUT_CLASS=work / "ours_p_class.tif",
        ),
        env,
    )
    runs["engine"] = measure(
        "ours: engine + kernel only (no QGIS), r + classes",
        [sys.executable, __file__, "--engine-child", x, y, work / "engine", str(WINDOW)],
    )
    result = {"size": size, "window": WINDOW, "runs": {k: asdict(v) for k, v in runs.items()}}
    if skip_terra or shutil.which("Rscript") is None:
        print("  terra: skipped (Rscript not installed or --skip-terra)")
        return result
    script = work / "focalpairs.R"
    script.write_text(TERRA_SCRIPT)
    terra_out = work / "terra_r.tif"
    runs["terra"] = measure(
        'R terra: focalPairs(c(x, y), w = 11, fun = "pearson")',
        ["Rscript", script, x, y, terra_out, str(WINDOW)],
    )
    result["runs"]["terra"] = asdict(runs["terra"])
    if runs["terra"].returncode == 0 and runs["qgis"].returncode == 0:
        ours, theirs = read(work / "ours_r.tif"), read(terra_out)
        both = np.isfinite(ours) & np.isfinite(theirs)
        delta = float(np.abs(ours[both] - theirs[both]).max())
        missing = int((np.isfinite(theirs) & np.isnan(ours)).sum())
        ratio = runs["terra"].wall_s / runs["qgis"].wall_s
        ratio_engine = runs["terra"].wall_s / runs["engine"].wall_s
        result.update(
            compared_pixels=int(both.sum()),
            max_abs_delta_r=delta,
            terra_defined_ours_nodata=missing,
            ratio_terra_over_qgis_process=ratio,
            ratio_terra_over_qgis_process_with_p=runs["terra"].wall_s / runs["qgis_p"].wall_s,
            ratio_terra_over_engine=ratio_engine,
            ratio_terra_over_qgis_process_minus_startup=runs["terra"].wall_s
            / max(runs["qgis"].wall_s - runs["startup"].wall_s, 1e-9),
        )
        print(
            f"  terra / ours: {ratio:.1f}× (qgis_process, r + classes), "
            f"{result['ratio_terra_over_qgis_process_with_p']:.1f}× (with p), "
            f"{ratio_engine:.1f}× (engine only), "
            f"{result['ratio_terra_over_qgis_process_minus_startup']:.1f}× "
            f"(qgis_process minus its start-up); target ≥ {TARGET_RATIO:.0f}×"
        )
        print(
            f"  max |Δr| = {delta:.2e} over {both.sum():,} pixels (target ≤ {MAX_DELTA_R:g}); "
            f"pixels terra defines and we leave NoData: {missing}"
        )
    return result


def bench_forest(size: int, trees: int, data: Path, work: Path, env) -> dict:
    print(
        f"rf_driver_contribution: {RF_POINTS} points, {RF_DRIVERS} drivers, 3 categories, "
        f"{trees} trees, {size}×{size} pixels:"
    )
    target, drivers = forest_scene(data, size)
    small = min(RF_EXCERPT, size)
    runs = {}
    for label, key, tgt, drv in (
        (f"{small}×{small} excerpt (sampling + fitting)", "excerpt", None, None),
        (f"{size}×{size} (sampling + fitting + prediction)", "full", target, drivers),
    ):
        if tgt is None:
            tgt = excerpt(target, work, small)
            drv = [excerpt(p, work, small) for p in drivers]
        out = work / f"rf_{key}"
        out.mkdir(exist_ok=True)
        runs[key] = measure(
            f"ours: qgis_process, {label}",
            qgis_command(
                "rf_driver_contribution",
                TARGET=tgt,
                DRIVERS=[str(p) for p in drv],
                CATEGORIES=",".join(RF_CATEGORIES),
                POINTS=RF_POINTS,
                TREES=trees,
                SEED=1,
                OUTPUT_IMPORTANCE=out / "importance.csv",
                OUTPUT_SCORES=out / "scores.csv",
                OUTPUT_RELATIVE=out / "relative.tif",
                OUTPUT_RGB=out / "rgb.tif",
                OUTPUT_DOMINANT=out / "dominant.tif",
                OUTPUT_AREAS=out / "areas.csv",
            ),
            env,
        )
    prediction = runs["full"].wall_s - runs["excerpt"].wall_s
    pixels = size * size
    result = {
        "size": size,
        "trees": trees,
        "points": RF_POINTS,
        "drivers": RF_DRIVERS,
        "runs": {k: asdict(v) for k, v in runs.items()},
        "prediction_s": prediction,
        "prediction_us_per_pixel": prediction / pixels * 1e6,
        "prediction_ns_per_pixel_per_tree_per_model": prediction / pixels / trees / 4 * 1e9,
    }
    scores = work / "rf_full" / "scores.csv"
    if scores.exists():
        result["scores"] = scores.read_text()
    print(
        f"  prediction ≈ {prediction:.1f} s = {result['prediction_us_per_pixel']:.2f} µs per pixel "
        f"({result['prediction_ns_per_pixel_per_tree_per_model']:.1f} ns per pixel, tree and "
        f"model; 4 models)"
    )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a minute or two)")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "bench-output")
    parser.add_argument("--skip-terra", action="store_true")
    parser.add_argument("--skip-rf", action="store_true")
    parser.add_argument("--engine-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine_child:
        x, y, out, window = args.engine_child
        return engine_child(x, y, out, int(window))
    for tool in (qgis_runner.QGIS_PROCESS, GNU_TIME):
        if not Path(tool).exists():
            print(f"{tool} is missing", file=sys.stderr)
            return 2
    data = args.out / "drivers-data"
    data.mkdir(parents=True, exist_ok=True)
    lcc_size, rf_size, trees = (500, 500, 100) if args.quick else (2000, 4000, 500)
    report = {
        "benchmark": "drivers",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "gdal": gdal.__version__,
        },
    }
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-drivers-") as name:
        work = Path(name)
        profile = work / "profile"
        env = qgis_runner.enabled_environment(profile)
        report["local_correlation"] = bench_local(lcc_size, data, work, env, args.skip_terra)
        if not args.skip_rf:
            report["rf_driver_contribution"] = bench_forest(rf_size, trees, data, work, env)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    path = args.out / "drivers.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"Wrote {path}")
    failed = [
        run["label"]
        for part in ("local_correlation", "rf_driver_contribution")
        for run in report.get(part, {}).get("runs", {}).values()
        if run["returncode"] != 0
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

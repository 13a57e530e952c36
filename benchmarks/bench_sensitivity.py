"""Benchmark of weight_sensitivity: 1,000 Dirichlet weight draws over 17 indicators on 2,000 ×
2,000 pixels through qgis_process — wall time, CPU time and peak memory — against the
deterministic index (composite_index, one "draw") and a naive numpy computation that stores
every draw of every pixel; peak memory with 100 and with 1,000 draws.

    .venv/bin/python benchmarks/bench_sensitivity.py             # 17 rasters of 2000 × 2000
    .venv/bin/python benchmarks/bench_sensitivity.py --quick     # 17 rasters of 500 × 500
    .venv/bin/python benchmarks/bench_sensitivity.py --size 4000 --repeat 3 --memory-mb 128

Inputs: the 17 indicators of ``bench_evaluation.py`` (``bench-output/evaluation_<size>/``,
written there if missing, reused otherwise): smooth fields plus noise at indicator-like scales,
NoData in the corners outside a tilted footprint (80 % of the pixels valid). Weights: the first
study's Table 2 combined weights and trends (the shipped preset).

Runs, each a child process measured by ``measure.py`` (wall time from here, peak RSS from
``/usr/bin/time -v``, CPU time from a second ``/usr/bin/time`` inside it, the share of the
machine used by others meanwhile):

* ``weight_sensitivity`` with DRAWS = 1000 (κ = 100, seed 42), all five rasters and the
  influence table;
* the same with DRAWS = 100: peak RSS must not grow with the draws (target: ratio ≤ 1.10);
* ``composite_index`` with the same weights: the cost of the deterministic index;
* naive numpy (a Python child of this script, ``--naive``) on a central window: the same
  weight draws, every pixel's draws kept (pixels × D, float64), ``np.percentile`` and a class
  count per draw. Its compute time is scaled to the valid pixels of the whole raster, its
  memory for the whole raster is pixels × D × 8 bytes. Its results on the window are compared
  with ours (agreement).

The machines are shared (2 cores): read the CPU times and the ratios; "others %" says how
busy other processes kept the machine. Results: ``bench-output/sensitivity.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from osgeo import gdal

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "scripts"))

import qgis_runner  # noqa: E402
from bench_evaluation import ensure_indicators, qgis_env  # noqa: E402
from measure import measure, settle  # noqa: E402

gdal.UseExceptions()

OUT = REPO_ROOT / "bench-output"
GNU_TIME = "/usr/bin/time"
RASTERS = ("OUTPUT_MEAN", "OUTPUT_LOW", "OUTPUT_HIGH", "OUTPUT_CLASS", "OUTPUT_STABILITY")
SEED = 42
CONCENTRATION = 100.0
MAX_RSS_RATIO = 1.10
_CPU = re.compile(r"^CPU ([\d.]+) ([\d.]+)$", re.MULTILINE)


def table2():
    """Names, trends and combined weights of the resilience study's Table 2 (the shipped preset)."""
    from mine_eco_plugin.core.evaluation_weights import load_preset, trend_symbol

    preset = load_preset("lingbei_2000_2020")
    return ",".join(trend_symbol(t) for t in preset.trends), list(preset.combined)


def sensitivity_command(paths, trends, weights, draws: int, work: Path, tag: str) -> list[str]:
    parameters = {
        "INPUTS": list(paths),
        "TRENDS": trends,
        "WEIGHTS": ",".join(repr(w) for w in weights),
        "DRAWS": draws,
        "SEED": SEED,
        "CONCENTRATION": CONCENTRATION,
        "OUTPUT_INFLUENCE": work / f"influence_{tag}.csv",
    }
    parameters.update({name: work / f"{name.lower()}_{tag}.tif" for name in RASTERS})
    return qgis_runner.run_command("weight_sensitivity", parameters)


def composite_command(paths, trends, weights, work: Path) -> list[str]:
    return qgis_runner.run_command(
        "composite_index",
        {
            "INPUTS": list(paths),
            "TRENDS": trends,
            "WEIGHTS": ",".join(repr(w) for w in weights),
            "OUTPUT": work / "composite.tif",
        },
    )


def timed(command: list[str], env=None) -> dict:
    """Run ``command`` under measure() with an inner GNU time for its CPU seconds."""
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-cpu-") as folder:
        report = Path(folder) / "cpu.txt"
        inner = [GNU_TIME, "-f", "CPU %U %S", "-o", str(report), *command]
        settle()
        measured = measure(inner, env=env)
        match = _CPU.search(report.read_text()) if report.exists() else None
    if not measured.ok:
        raise RuntimeError(f"{command[:4]} failed:\n{measured.failure()}")
    return {
        "wall_s": measured.wall_s,
        "cpu_s": float(match.group(1)) + float(match.group(2)) if match else None,
        "peak_rss_mib": measured.max_rss_mib,
        "others_share": measured.others_share,
        "stdout": measured.stdout,
    }


def _json_of(text: str) -> dict:
    return qgis_runner.json_answer(text)


# --- the naive computation (child process) -------------------------------------------------


def window_of(size: int, side: int) -> tuple[int, int, int, int]:
    """A central window (col, row, width, height) inside the valid footprint."""
    side = min(side, size)
    start = (size - side) // 2
    return start, start, side, side


def naive(paths, trends, weights, minima, maxima, draws, window, out: Path) -> None:
    """Every draw of every window pixel in memory (float64), np.percentile and per-class
    counts: the straightforward implementation the streamed one is checked against."""
    from mine_eco_plugin.core.evaluation_classes import TABLE3_BREAKS, classify
    from mine_eco_plugin.core.sensitivity import draw_dirichlet_weights

    col, row, width, height = window
    centre = np.asarray(weights) / np.sum(weights)
    drawn = draw_dirichlet_weights(centre, CONCENTRATION, draws, SEED)
    columns = []
    for path, low, high, trend in zip(paths, minima, maxima, trends, strict=True):
        dataset = gdal.Open(str(path))  # kept referenced while its band is read
        band = dataset.GetRasterBand(1)
        values = band.ReadAsArray(col, row, width, height).astype(np.float64)
        values[values == band.GetNoDataValue()] = np.nan
        t = np.clip((values - low) / (high - low), 0, 1)
        columns.append(t if trend > 0 else 1 - t)
    table = np.stack(columns, axis=-1).reshape(-1, len(paths))
    started = time.perf_counter()
    index = table @ drawn.T  # pixels × draws
    low, high = np.percentile(index, [5, 95], axis=1)
    codes = classify(index, TABLE3_BREAKS)
    counts = np.stack([np.sum(codes == c, axis=1) for c in range(1, len(TABLE3_BREAKS) + 2)])
    modal = np.argmax(counts, axis=0) + 1
    stability = counts.max(axis=0) / draws
    mean = index.mean(axis=1)
    seconds = time.perf_counter() - started
    valid = ~np.isnan(mean)
    # Pixels with a draw within 1e-6 of a break: float32 (ours) and float64 (here) may class
    # that draw differently.
    near = np.zeros(valid.shape, dtype=bool)
    for edge in TABLE3_BREAKS:
        near |= np.any(np.abs(index - edge) < 1e-6, axis=1)
    modal[~valid] = 0
    shape = (height, width)
    np.savez(
        out,
        mean=mean.reshape(shape),
        low=low.reshape(shape),
        high=high.reshape(shape),
        modal=modal.reshape(shape),
        stability=stability.reshape(shape),
        near=near.reshape(shape),
        seconds=seconds,
        pixels=int(valid.sum()),
        bytes=index.nbytes,
    )


def agreement(work: Path, tag: str, naive_file: Path, window) -> dict:
    col, row, width, height = window
    theirs = np.load(naive_file)
    ours = {}
    for name in RASTERS:
        dataset = gdal.Open(str(work / f"{name.lower()}_{tag}.tif"))
        band = dataset.GetRasterBand(1)
        values = band.ReadAsArray(col, row, width, height).astype(np.float64)
        if name != "OUTPUT_CLASS":
            values[values == band.GetNoDataValue()] = np.nan
        ours[name] = values
    valid = ~np.isnan(theirs["mean"])
    near = theirs["near"]

    def worst(a, b):
        return float(np.nanmax(np.abs(a[valid] - b[valid]))) if valid.any() else None

    differ = ours["OUTPUT_CLASS"] != theirs["modal"]
    return {
        "window": list(window),
        "pixels": int(valid.sum()),
        "nodata_mismatches": int(np.sum(np.isnan(ours["OUTPUT_MEAN"]) != ~valid)),
        "max_abs_diff_mean": worst(ours["OUTPUT_MEAN"], theirs["mean"]),
        "max_abs_diff_low": worst(ours["OUTPUT_LOW"], theirs["low"]),
        "max_abs_diff_high": worst(ours["OUTPUT_HIGH"], theirs["high"]),
        "max_abs_diff_stability": worst(ours["OUTPUT_STABILITY"], theirs["stability"]),
        "class_mismatches": int(differ.sum()),
        "class_mismatches_with_a_draw_within_1e-6_of_a_break": int((differ & near).sum()),
    }


# --- the run -------------------------------------------------------------------------------


def metadata_ranges(path: Path) -> tuple[list[float], list[float]]:
    dataset = gdal.Open(str(path))
    return (
        [float(v) for v in dataset.GetMetadataItem("MINIMA").split(",")],
        [float(v) for v in dataset.GetMetadataItem("MAXIMA").split(",")],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000, help="raster side (default 2000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 × 500")
    parser.add_argument("--draws", type=int, default=1000, help="draws (default 1000)")
    parser.add_argument("--few-draws", type=int, default=100, help="the memory comparison")
    parser.add_argument("--window", type=int, default=256, help="side of the naive window")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool (median, max RSS)")
    parser.add_argument("--memory-mb", type=float, default=None, help="MINE_ECO_MEMORY_MB")
    parser.add_argument("--naive", help=argparse.SUPPRESS)  # child mode: a JSON job file
    args = parser.parse_args(argv)
    if args.naive:
        job = json.loads(Path(args.naive).read_text())
        naive(**{**job, "out": Path(job["out"]), "window": tuple(job["window"])})
        return 0
    size = 500 if args.quick else args.size
    window = window_of(size, 128 if args.quick else args.window)
    print(f"Generating / reusing 17 indicators of {size} × {size} …", flush=True)
    paths = ensure_indicators(size)
    trends, weights = table2()
    work = OUT / f"sensitivity_{size}"
    work.mkdir(parents=True, exist_ok=True)
    runs = {"many": [], "few": [], "composite": [], "naive": []}
    commands = {
        "many": sensitivity_command(paths, trends, weights, args.draws, work, "many"),
        "few": sensitivity_command(paths, trends, weights, args.few_draws, work, "few"),
        "composite": composite_command(paths, trends, weights, work),
    }
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-sensitivity-") as profile:
        env = qgis_env(Path(profile), args.memory_mb)
        enable = measure(qgis_runner.enable_command(), env=env)
        if not enable.ok:
            print(enable.failure())
            return 1
        for round_ in range(args.repeat):
            for key in ("many", "few", "composite"):
                for stale in work.glob(f"*_{key}.*"):
                    stale.unlink()
                print(f"Round {round_ + 1}: {' '.join(commands[key][2:4])} …", flush=True)
                runs[key].append(timed(commands[key], env))
            minima, maxima = metadata_ranges(work / "output_mean_many.tif")
            job = work / "naive_job.json"
            naive_file = work / "naive.npz"
            job.write_text(
                json.dumps(
                    {
                        "paths": [str(p) for p in paths],
                        "trends": [1 if t == "+" else -1 for t in trends.split(",")],
                        "weights": weights,
                        "minima": minima,
                        "maxima": maxima,
                        "draws": args.draws,
                        "window": list(window),
                        "out": str(naive_file),
                    }
                )
            )
            print(f"Round {round_ + 1}: naive numpy on a {window[2]}² window …", flush=True)
            runs["naive"].append(
                timed([sys.executable, str(Path(__file__).resolve()), "--naive", str(job)])
            )
            runs["naive"][-1].update(
                {
                    key: float(value)
                    for key, value in np.load(naive_file).items()
                    if key in ("seconds", "pixels", "bytes")
                }
            )
    agree = agreement(work, "many", naive_file, window)
    results = _json_of(runs["many"][-1]["stdout"])["results"]
    valid_pixels = int(results["PIXELS"])
    for series in runs.values():
        for run in series:
            run.pop("stdout", None)

    def median(key, field):
        values = [r[field] for r in runs[key] if r.get(field) is not None]
        return statistics.median(values) if values else None

    summary = {
        key: {
            "wall_s": median(key, "wall_s"),
            "cpu_s": median(key, "cpu_s"),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs[key]),
            "others_share": median(key, "others_share"),
        }
        for key in runs
    }
    naive_seconds = median("naive", "seconds")
    naive_pixels = runs["naive"][-1]["pixels"]
    naive_full_s = naive_seconds * valid_pixels / naive_pixels
    naive_full_gib = valid_pixels * args.draws * 8 / 2**30
    rss_ratio = summary["many"]["peak_rss_mib"] / summary["few"]["peak_rss_mib"]
    ratios = {
        "peak_rss_many_over_few": rss_ratio,
        "cpu_many_over_few": summary["many"]["cpu_s"] / summary["few"]["cpu_s"],
        "wall_sensitivity_over_composite": summary["many"]["wall_s"]
        / summary["composite"]["wall_s"],
        "cpu_sensitivity_over_composite": summary["many"]["cpu_s"] / summary["composite"]["cpu_s"],
        "cpu_sensitivity_over_naive_estimate": summary["many"]["cpu_s"] / naive_full_s,
    }
    print()
    print(
        f"17 indicators of {size} × {size} ({valid_pixels} valid pixels), Dirichlet κ = "
        f"{CONCENTRATION:g}, seed {SEED}"
    )
    print(f"{'run':<44}{'wall s':>9}{'CPU s':>9}{'peak RSS MiB':>14}{'others %':>10}")
    labels = {
        "many": f"weight_sensitivity, {args.draws} draws",
        "few": f"weight_sensitivity, {args.few_draws} draws",
        "composite": "composite_index (deterministic)",
        "naive": f"naive numpy, {window[2]}² window, {args.draws} draws",
    }
    for key, label in labels.items():
        s = summary[key]
        print(
            f"{label:<44}{s['wall_s']:>9.2f}{s['cpu_s'] or float('nan'):>9.2f}"
            f"{s['peak_rss_mib']:>14.1f}{100 * s['others_share']:>10.0f}"
        )
    print(
        f"naive numpy scaled to the raster: {naive_full_s:.1f} s of compute, "
        f"{naive_full_gib:.1f} GiB for the draws (pixels × draws × 8 B)"
    )
    print(
        f"peak RSS {args.draws} / {args.few_draws} draws: {rss_ratio:.3f} (target ≤ "
        f"{MAX_RSS_RATIO}: {'met' if rss_ratio <= MAX_RSS_RATIO else 'NOT met'})"
    )
    for key, value in ratios.items():
        if key != "peak_rss_many_over_few":
            print(f"{key}: {value:.2f}")
    print(
        "agreement with naive numpy on the window: max |Δ| mean {max_abs_diff_mean:.2e}, low "
        "{max_abs_diff_low:.2e}, high {max_abs_diff_high:.2e}, stability "
        "{max_abs_diff_stability:.2e}; class mismatches {class_mismatches} ({near} with a draw "
        "within 1e-6 of a break), NoData mismatches {nodata_mismatches}".format(
            **agree, near=agree["class_mismatches_with_a_draw_within_1e-6_of_a_break"]
        )
    )
    document = {
        "benchmark": "sensitivity",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size,
        "indicators": len(paths),
        "valid_pixels": valid_pixels,
        "draws": args.draws,
        "few_draws": args.few_draws,
        "concentration": CONCENTRATION,
        "seed": SEED,
        "repeat": args.repeat,
        "memory_mb": args.memory_mb,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "gdal": gdal.__version__,
        },
        "commit": _git("rev-parse", "HEAD"),
        "summary": summary,
        "naive_scaled": {"compute_s": naive_full_s, "draws_gib": naive_full_gib},
        "ratios": ratios,
        "targets": {
            "peak_rss_many_over_few_max": MAX_RSS_RATIO,
            "met": rss_ratio <= MAX_RSS_RATIO,
        },
        "agreement": agree,
        "results_many": {
            key: results[key]
            for key in ("AREA_MEAN", "AREA_MEAN_LOW", "AREA_MEAN_HIGH", "MEAN_STABILITY")
        }
        | {"STABLE_SHARE": results["STABLE_SHARE"]},
        "runs": runs,
        "commands": {key: command for key, command in commands.items()},
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "sensitivity.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    print(f"wrote {OUT / 'sensitivity.json'}")
    return 0 if rss_ratio <= MAX_RSS_RATIO else 1


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())

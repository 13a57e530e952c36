"""Benchmark the plugin's raster algorithms against GDAL's gdal_calc.py (see README.md).

    .venv/bin/python benchmarks/bench_indices.py [--sizes 2000,8000 | --quick] [--repeat 3]
                                       [--out bench-output] [--memory-mb MB]

For each size it generates (or reuses) a six-band float32 reflectance stack, then measures,
each in its own child process, wall time and peak resident memory of:

* ``qgis_process run mineeco:ndvi`` and ``mineeco:tasseled_cap`` with the plugin loaded;
* the plugin's engine alone computing the same NDVI (no QGIS start-up);
* ``gdal_calc.py`` computing the same NDVI, with its default output (striped, uncompressed)
  and with the creation options of the plugin's writer (tiled, DEFLATE);

plus qgis_process's start-up cost alone (ndvi on a 10×10 stack). The tools run interleaved,
``--repeat`` times; the table gives the median and fastest wall time, the largest peak RSS and
how busy other processes kept the machine. It also checks that our NDVI equals gdal_calc's, and
writes everything to ``<out>/indices.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from measure import Measurement, measure, settle
from osgeo import gdal
from synthetic import compare, ensure_stack, stack_path

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(REPOSITORY / "scripts"))
import qgis_runner  # noqa: E402

QGIS_PROCESS = qgis_runner.QGIS_PROCESS
PLUGIN = qgis_runner.PLUGIN
DEFAULT_SIZES = (2000, 8000)
QUICK_SIZES = (500, 1000)
STARTUP_SIZE = 10
NODATA = "-9999"

STARTUP = "startup"
#: Tool keys and labels, in the order they run and are printed.
TOOLS = {
    "ndvi": "ndvi (qgis_process)",
    "tasseled_cap": "tasseled_cap (qgis_process)",
    "engine_ndvi": "ndvi (engine only, no QGIS)",
    "gdal_calc": "gdal_calc NDVI (default output)",
    "gdal_calc_co": "gdal_calc NDVI (engine's options)",
}
STARTUP_LABEL = f"qgis_process start-up (ndvi {STARTUP_SIZE}×{STARTUP_SIZE})"

# Targets (the project's performance goals).
MAX_TIME_RATIO = 1.0  # ndvi through qgis_process vs gdal_calc, same input, same run
MAX_PEAK_RSS_MIB = 1024.0  # at the largest size
MAX_RSS_GROWTH = 1.25  # peak RSS at the largest size / at the smallest: "does not grow"


@dataclass
class Series:
    """The repeated measurements of one tool at one size."""

    size: int
    tool: str
    command: list[str]
    output: str
    walls: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    others: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STARTUP_LABEL if self.tool == STARTUP else TOOLS[self.tool]

    @property
    def median_wall(self) -> float | None:
        return statistics.median(self.walls) if self.walls else None

    @property
    def fastest(self) -> float | None:
        return min(self.walls) if self.walls else None

    @property
    def peak_rss(self) -> float | None:
        return max(self.peaks) if self.peaks else None

    @property
    def others_share(self) -> float | None:
        return statistics.median(self.others) if self.others else None

    def add(self, result: Measurement, problem: str | None) -> None:
        if problem:
            self.failures.append(problem)
        else:
            self.walls.append(result.wall_s)
            self.peaks.append(result.max_rss_mib)
            self.others.append(result.others_share)

    def as_json(self) -> dict:
        return {
            "size": self.size,
            "tool": self.tool,
            "label": self.label,
            "command": self.command,
            "output": self.output,
            "wall_s": [round(w, 3) for w in self.walls],
            "peak_rss_mib": [round(p, 1) for p in self.peaks],
            "others_cpu_share": [round(o, 3) for o in self.others],
            "median_wall_s": _round(self.median_wall, 3),
            "min_wall_s": _round(self.fastest, 3),
            "max_peak_rss_mib": _round(self.peak_rss, 1),
            "failures": self.failures,
        }


class Bench:
    """Commands of every tool, their environment, and the measurements taken so far."""

    def __init__(self, out: Path, profile: Path, memory_mb: float | None):
        self.out = out
        self.gdal_calc = shutil.which("gdal_calc.py")
        if self.gdal_calc is None:
            raise SystemExit("gdal_calc.py not found: install Debian's gdal-bin/python3-gdal")
        if not Path(QGIS_PROCESS).exists():
            raise SystemExit(f"{QGIS_PROCESS} not found: run `make setup`")
        self.env = qgis_runner.environment(profile)
        if memory_mb is not None:
            self.env["MINE_ECO_MEMORY_MB"] = f"{memory_mb:g}"
        self.creation_options = engine_creation_options()
        self.series: dict[tuple[int, str], Series] = {}

    @property
    def memory_mb(self) -> str:
        return self.env.get("MINE_ECO_MEMORY_MB") or "provider setting (default 256)"

    def enable_plugin(self) -> None:
        result = subprocess.run(
            qgis_runner.enable_command(),
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"cannot enable {PLUGIN}:\n{result.stdout}\n{result.stderr}")

    def command(self, tool: str, stack: Path, output: Path) -> list[str]:
        if tool in ("ndvi", "tasseled_cap", STARTUP):
            algorithm = "ndvi" if tool == STARTUP else tool
            return qgis_runner.run_command(algorithm, {"INPUT": stack, "OUTPUT": output})
        if tool == "engine_ndvi":
            return [sys.executable, str(HERE / "engine_ndvi.py"), str(stack), str(output)]
        command = [
            self.gdal_calc,
            "-A",
            str(stack),
            "--A_band=3",
            "-B",
            str(stack),
            "--B_band=4",
            f"--outfile={output}",
            "--calc=(B-A)/(B+A)",
            "--type=Float32",
            f"--NoDataValue={NODATA}",
            "--overwrite",
            "--quiet",
        ]
        if tool == "gdal_calc_co":
            for option in self.creation_options:
                command += ["--co", option]
        return command

    def run(self, size: int, tool: str, stack: Path) -> Series:
        """One measured run of ``tool`` on ``stack``, added to its series."""
        output = self.out / "runs" / str(size) / f"{tool}.tif"
        output.parent.mkdir(parents=True, exist_ok=True)
        command = self.command(tool, stack, output)
        series = self.series.setdefault(
            (size, tool), Series(size, tool, command, str(output.relative_to(self.out)))
        )
        output.unlink(missing_ok=True)  # every tool starts without an output to replace
        settle()
        result = measure(command, self.env)
        series.add(result, problem_of(tool, result, output))
        return series

    def median(self, size: int, tool: str) -> float | None:
        series = self.series.get((size, tool))
        return series.median_wall if series else None

    def peak(self, size: int, tool: str) -> float | None:
        series = self.series.get((size, tool))
        return series.peak_rss if series else None


def engine_creation_options() -> list[str]:
    """The GeoTIFF creation options of the plugin's writer for float32 outputs."""
    sys.path.insert(0, str(REPOSITORY))
    from mine_eco_plugin.engine.writer import geotiff_options

    return geotiff_options("float32")


def problem_of(tool: str, result: Measurement, output: Path) -> str | None:
    """Why a run does not count (None when it succeeded)."""
    if not result.ok:
        return f"exit status {result.returncode}: {result.failure()}"
    if tool in ("ndvi", "tasseled_cap", STARTUP):
        text = result.stdout
        try:  # messages of other plugins may precede the JSON
            answer = qgis_runner.json_answer(text)
        except ValueError:
            return f"no JSON answer from qgis_process: {result.failure()}"
        if "results" not in answer:
            return f"qgis_process answered without results: {text[-500:]}"
    if not output.exists():
        return f"exit status 0 but {output} was not written"
    return None


def ratios(bench: Bench, sizes: list[int]) -> dict:
    """Time ratios per size (same run) and peak-RSS growth from the smallest to the largest."""
    startup = bench.median(STARTUP_SIZE, STARTUP)
    per_size = {}
    for size in sizes:
        ndvi, calc, calc_co = (bench.median(size, t) for t in ("ndvi", "gdal_calc", "gdal_calc_co"))
        engine = bench.median(size, "engine_ndvi")
        per_size[str(size)] = {
            "ndvi / gdal_calc (default output)": _ratio(ndvi, calc),
            "ndvi / gdal_calc (engine's options)": _ratio(ndvi, calc_co),
            "engine only / gdal_calc (default output)": _ratio(engine, calc),
            "engine only / gdal_calc (engine's options)": _ratio(engine, calc_co),
            "(ndvi - start-up) / gdal_calc (engine's options)": _ratio(
                None if ndvi is None or startup is None else ndvi - startup, calc_co
            ),
            "start-up share of ndvi": _ratio(startup, ndvi),
        }
    growth = {}
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for tool in TOOLS:
            growth[f"{tool} {large}²/{small}²"] = _ratio(
                bench.peak(large, tool), bench.peak(small, tool)
            )
    return {"time": per_size, "peak_rss_growth": growth}


def targets(bench: Bench, sizes: list[int], figures: dict) -> list[dict]:
    """The project's goals, each with the measured figure and whether it is met."""
    large, small = max(sizes), min(sizes)
    found = []
    for style in ("default output", "engine's options"):
        key = f"ndvi / gdal_calc ({style})"
        found.append(_target(f"{key} at {large}²", figures["time"][str(large)][key], "<=", 1.0))
    for tool in ("ndvi", "tasseled_cap"):
        found.append(
            _target(
                f"{tool} peak RSS MiB at {large}²",
                bench.peak(large, tool),
                "<",
                MAX_PEAK_RSS_MIB,
            )
        )
        if large != small:
            found.append(
                _target(
                    f"{tool} peak RSS {large}²/{small}²",
                    figures["peak_rss_growth"][f"{tool} {large}²/{small}²"],
                    "<=",
                    MAX_RSS_GROWTH,
                )
            )
    return found


def _target(name: str, value: float | None, operator: str, limit: float) -> dict:
    if value is None:
        met = None
    else:
        met = value <= limit if operator == "<=" else value < limit
    return {"target": f"{name} {operator} {limit:g}", "value": _round(value, 3), "met": met}


def agreement(bench: Bench, sizes: list[int]) -> dict:
    """Our NDVI against gdal_calc's, and the engine-only output against qgis_process's."""
    found = {}
    for size in sizes:
        folder = bench.out / "runs" / str(size)
        pairs = {
            "ndvi (qgis_process) vs gdal_calc": ("ndvi", "gdal_calc"),
            "ndvi (engine only) vs ndvi (qgis_process)": ("engine_ndvi", "ndvi"),
        }
        found[str(size)] = {}
        for name, (ours, theirs) in pairs.items():
            a, b = folder / f"{ours}.tif", folder / f"{theirs}.tif"
            if a.exists() and b.exists():
                found[str(size)][name] = compare(a, b)
    return found


def print_report(bench: Bench, figures: dict, goals: list, checks: dict) -> None:
    rows = [bench.series[key] for key in sorted(bench.series, key=_order)]
    width = max(len(s.label) for s in rows)
    print()
    print(
        f"{'size':>6}  {'tool':<{width}}  {'median s':>9}  {'min s':>7}  {'peak RSS MiB':>12}"
        f"  {'others %':>8}  runs"
    )
    for s in rows:
        runs = f"{len(s.walls)}/{len(s.walls) + len(s.failures)}"
        others = None if s.others_share is None else 100 * s.others_share
        print(
            f"{s.size:>6}  {s.label:<{width}}  {_fmt(s.median_wall, 2):>9}  {_fmt(s.fastest, 2):>7}"
            f"  {_fmt(s.peak_rss, 0):>12}  {_fmt(others, 0):>8}  {runs}"
        )
    print("(others %: median share of the CPUs that other processes used during the runs)")
    print("\nTime ratios (medians of this run; < 1 means faster than the peer):")
    for size, values in figures["time"].items():
        for name, value in values.items():
            print(f"  {size:>6}²  {name:<52} {_fmt(value, 2)}")
    if figures["peak_rss_growth"]:
        print("\nPeak RSS growth (largest size / smallest; 1 means flat):")
        for name, value in figures["peak_rss_growth"].items():
            print(f"  {name:<40} {_fmt(value, 2)}")
    print("\nTargets:")
    for goal in goals:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[goal["met"]]
        print(f"  {goal['target']:<52} {_fmt(goal['value'], 3):>8}  {verdict}")
    print("\nAgreement (pixels valid in both; NoData in one only):")
    for size, pairs in checks.items():
        for name, c in pairs.items():
            print(
                f"  {size:>6}²  {name:<42} max |diff| {c['max_abs_diff']:.3g}"
                f" over {c['pixels_compared']} px; NoData mismatches {c['nodata_mismatch_pixels']}"
            )


def _order(key: tuple[int, str]) -> tuple[int, int]:
    size, tool = key
    return (size, -1 if tool == STARTUP else list(TOOLS).index(tool))


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def disk_needed(size: int, stack_exists: bool) -> int:
    """Bytes a size needs: the stack (24 B/px) and the outputs (≤ 36 B/px, uncompressed)."""
    return size * size * ((0 if stack_exists else 24) + 36)


def machine() -> dict:
    qgis = subprocess.run(
        [QGIS_PROCESS, "--version"],
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
    ).stdout
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gdal": gdal.__version__,
        "qgis": next((line for line in qgis.splitlines() if line.startswith("QGIS")), None),
    }


def code_version() -> dict:
    """The commit benchmarked and the plugin files changed since (read-only git calls)."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True
            )
        except OSError:
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    changed = git("status", "--porcelain", "--", PLUGIN)
    return {
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_plugin_files": changed.splitlines() if changed else [],
    }


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated side lengths in pixels (default %(default)s)",
    )
    sizes.add_argument(
        "--quick", action="store_true", help=f"smoke run at sizes {QUICK_SIZES[0]},{QUICK_SIZES[1]}"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool (default 3)")
    parser.add_argument(
        "--out", type=Path, default=REPOSITORY / "bench-output", help="output folder"
    )
    parser.add_argument(
        "--memory-mb",
        type=float,
        default=None,
        help="set MINE_ECO_MEMORY_MB for the runs (default: inherit it, else the provider's 256)",
    )
    args = parser.parse_args(argv)
    args.sizes = list(QUICK_SIZES) if args.quick else [int(s) for s in args.sizes.split(",")]
    if args.repeat < 1 or any(s < 1 for s in args.sizes):
        parser.error("--repeat and --sizes must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    code = code_version()  # at the start: others may edit the plugin while this runs
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    needed = sum(disk_needed(s, stack_path(out, s).exists()) for s in args.sizes)
    free = shutil.disk_usage(out).free
    if needed > free:
        raise SystemExit(f"{out}: {needed / 2**30:.1f} GiB needed, {free / 2**30:.1f} GiB free")

    with tempfile.TemporaryDirectory(prefix="mineeco-bench-profile-") as profile:
        bench = Bench(out, Path(profile), args.memory_mb)
        print(f"sizes {args.sizes}, {args.repeat} run(s) each, memory budget {bench.memory_mb}")
        bench.enable_plugin()
        tiny, _ = ensure_stack(out, STARTUP_SIZE)
        bench.run(STARTUP_SIZE, STARTUP, tiny)  # warm-up: the profile's first start is slower
        bench.series.clear()
        for _ in range(args.repeat):
            bench.run(STARTUP_SIZE, STARTUP, tiny)
        print(f"start-up: {_fmt(bench.median(STARTUP_SIZE, STARTUP), 2)} s")

        for size in args.sizes:
            stack, generated = ensure_stack(out, size)
            print(f"{size}²: stack {'generated' if generated else 'reused'}: {stack}", flush=True)
            for repeat in range(args.repeat):
                for tool in TOOLS:  # interleaved, so a slow spell of the machine hits every tool
                    series = bench.run(size, tool, stack)
                    last = f"{series.walls[-1]:.2f} s" if series.walls else "FAILED"
                    print(f"  run {repeat + 1}/{args.repeat} {series.label}: {last}", flush=True)

    figures = ratios(bench, args.sizes)
    goals = targets(bench, args.sizes, figures)
    checks = agreement(bench, args.sizes)
    results = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "code": code,
        "settings": {
            "sizes": args.sizes,
            "repeat": args.repeat,
            "memory_mb": bench.memory_mb,
            "gdal_calc_creation_options": bench.creation_options,
            "peak_rss": "max over runs of /usr/bin/time -v 'Maximum resident set size'",
            "wall": "median over runs (min_wall_s: the fastest run)",
            "others_cpu_share": "CPU share used by other processes during each run",
        },
        "measurements": [bench.series[key].as_json() for key in sorted(bench.series, key=_order)],
        "ratios": figures,
        "targets": goals,
        "agreement": checks,
    }
    (out / "indices.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_report(bench, figures, goals, checks)
    print(f"\nwrote {out / 'indices.json'}")
    failed = [s for s in bench.series.values() if s.failures]
    for s in failed:
        print(f"\n{s.size}² {s.label} failed {len(s.failures)} time(s):\n{s.failures[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

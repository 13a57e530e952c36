"""Benchmark of the evaluation chain: 17 indicator rasters → normalise + objective weights +
composite index + classes, with Mine Eco through qgis_process against the same arithmetic done
in GDAL command-line steps.

    .venv/bin/python benchmarks/bench_evaluation.py            # 17 rasters of 4000 × 4000
    .venv/bin/python benchmarks/bench_evaluation.py --quick    # 17 rasters of 500 × 500
    .venv/bin/python benchmarks/bench_evaluation.py --size 2000 --repeat 3 --memory-mb 128

Inputs (``bench-output/evaluation_<size>/``, reused by later runs): 17 single-band float32
GeoTIFFs (tiled 256 × 256, uncompressed, EPSG:32650, 30 m) of smooth fields plus noise at
indicator-like scales (0–1, 0–5000, 15–45 °C, …), all with NoData (−9999) in the same corners
outside a tilted footprint, so "pixels valid in every indicator" and "each raster's valid
pixels" are the same set and both tools normalise over the same pixels.

Mine Eco (2 qgis_process runs): ``composite_index`` with objective mean-square-error weights
(min/max and σ over the valid pixels in a streaming pass, then P = Σ W·T in a second pass) and
``classify_index`` with the Table 3 breaks and its area table.

GDAL steps (19 runs): ``gdalinfo -json -stats`` on each indicator (exact min, max, σ; the side
file is deleted first so every run computes them), the MSE weights from those in this script,
one ``gdal_calc.py`` with all 17 inputs computing Σ Wⱼ·Tⱼ in one expression (normalisation
folded in: the fastest gdal_calc form), one ``gdal_calc.py`` for the classes and ``gdalinfo
-hist`` for the class counts. Every gdal_calc output uses the engine's creation options
(tiled, DEFLATE, predictor), so both write the same kind of file.

Figures: wall time per tool (median over --repeat), peak RSS (largest, /usr/bin/time -v), the
ratio Mine Eco / GDAL steps, and agreement (weights, max |ΔP|, class mismatches). The machine
is shared: read the ratios, not the seconds. Results: ``bench-output/evaluation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import qgis_runner  # noqa: E402
from measure import measure, settle  # noqa: E402

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT = REPO_ROOT / "bench-output"
GDAL_CALC = shutil.which("gdal_calc.py") or "/usr/bin/gdal_calc.py"
GDALINFO = shutil.which("gdalinfo") or "/usr/bin/gdalinfo"
NODATA = -9999.0
INDICATORS = 17
BREAKS = (0.38, 0.41, 0.63, 0.73)
TRENDS = "+,-,+,+,-,-,+,-,-,-,-,+,-,+,+,-,-"  # the resilience study's Table 2
LETTERS = "ABCDEFGHIJKLMNOPQ"
GENERATOR_VERSION = "1"
CREATION = [
    "TILED=YES",
    "BLOCKXSIZE=256",
    "BLOCKYSIZE=256",
    "BIGTIFF=IF_SAFER",
    "NUM_THREADS=ALL_CPUS",
    "COMPRESS=DEFLATE",
]


# --- inputs ----------------------------------------------------------------------------------


def indicator_paths(size: int) -> list[Path]:
    folder = OUT / f"evaluation_{size}"
    return [folder / f"indicator_{j + 1:02d}.tif" for j in range(INDICATORS)]


def _field(j: int, rows: np.ndarray, cols: np.ndarray, size: int, rng) -> np.ndarray:
    """Indicator j on a strip: smooth waves of a few km plus noise, at its own scale."""
    y = rows[:, None] / size
    x = cols[None, :] / size
    f1, f2 = 2 + j % 5, 3 + (j * 7) % 6
    smooth = np.sin(2 * np.pi * (f1 * x + 0.3 * j)) * np.cos(2 * np.pi * (f2 * y - 0.2 * j))
    values = 0.5 + 0.35 * smooth + 0.08 * rng.standard_normal(smooth.shape)
    scale, offset = [(1, 0), (5000, 0), (30, 15), (0.5, -0.2), (100, 0), (2, 0)][j % 6]
    return (values * scale + offset).astype(np.float32)


def _footprint(rows: np.ndarray, cols: np.ndarray, size: int) -> np.ndarray:
    """Valid inside a square footprint tilted by 12° (NoData in the corners)."""
    angle = np.radians(12)
    y = rows[:, None] - size / 2
    x = cols[None, :] - size / 2
    u = x * np.cos(angle) + y * np.sin(angle)
    v = -x * np.sin(angle) + y * np.cos(angle)
    return (np.abs(u) < size * 0.45) & (np.abs(v) < size * 0.45)


def ensure_indicators(size: int) -> list[Path]:
    """Write the 17 indicators (strip by strip, bounded memory) unless already there."""
    paths = indicator_paths(size)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32650)
    for j, path in enumerate(paths):
        if path.exists():
            existing = gdal.Open(str(path))
            if (
                existing.RasterXSize == size
                and existing.GetMetadataItem("GENERATOR") == GENERATOR_VERSION
            ):
                continue
            existing = None
        rng = np.random.default_rng(1000 + j)
        dataset = gdal.GetDriverByName("GTiff").Create(
            str(path),
            size,
            size,
            1,
            gdal.GDT_Float32,
            ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"],
        )
        dataset.SetGeoTransform((400000.0, 30.0, 0.0, 2800000.0, 0.0, -30.0))
        dataset.SetProjection(srs.ExportToWkt())
        band = dataset.GetRasterBand(1)
        band.SetNoDataValue(NODATA)
        cols = np.arange(size)
        for top in range(0, size, 512):
            rows = np.arange(top, min(top + 512, size))
            values = _field(j, rows, cols, size, rng)
            values[~_footprint(rows, cols, size)] = NODATA
            band.WriteArray(values, 0, top)
        dataset.SetMetadataItem("GENERATOR", GENERATOR_VERSION)
        dataset = None
    return paths


# --- the two tools -----------------------------------------------------------------------------


def qgis_env(profile: Path, memory_mb: float | None) -> dict[str, str]:
    env = qgis_runner.environment(profile)
    if memory_mb:
        env["MINE_ECO_MEMORY_MB"] = str(memory_mb)
    return env


def mineeco_commands(paths: list[Path], work: Path) -> list[tuple[str, list[str]]]:
    composite = qgis_runner.run_command(
        "composite_index",
        {
            "INPUTS": list(paths),
            "TRENDS": TRENDS,
            "WEIGHT_SOURCE": 2,
            "OBJECTIVE_METHOD": 0,
            "OUTPUT": work / "mineeco_p.tif",
            "OUTPUT_WEIGHTS": work / "mineeco_weights.csv",
        },
    )
    classify = qgis_runner.run_command(
        "classify_index",
        {
            "INPUT": work / "mineeco_p.tif",
            "OUTPUT": work / "mineeco_classes.tif",
            "OUTPUT_TABLE": work / "mineeco_classes.csv",
        },
    )
    return [("composite_index", composite), ("classify_index", classify)]


def gdal_statistics_command(path: Path) -> list[str]:
    return [GDALINFO, "-json", "-stats", str(path)]


STATISTICS = ("minimum", "maximum", "stddev", "mean")


def mse_weights(stats: list[dict]) -> list[float]:
    """Eq. 16 from gdalinfo's exact statistics: σ′ = σ/(max − min), w = σ′/Σσ′."""
    sigma = [s["stddev"] / (s["maximum"] - s["minimum"]) for s in stats]
    return [v / sum(sigma) for v in sigma]


def gdal_calc_index_command(paths, stats, weights, output: Path) -> list[str]:
    terms = []
    for letter, s, w, trend in zip(LETTERS, stats, weights, TRENDS.split(","), strict=True):
        span = s["maximum"] - s["minimum"]
        normalised = f"({letter}-({s['minimum']!r}))/{span!r}"
        terms.append(f"{w!r}*{normalised}" if trend == "+" else f"{w!r}*(1-{normalised})")
    command = [sys.executable, GDAL_CALC, "--quiet", "--overwrite", "--type=Float32"]
    command += [f"--NoDataValue={NODATA}", f"--outfile={output}", f"--calc={'+'.join(terms)}"]
    for letter, path in zip(LETTERS, paths, strict=True):
        command += [f"-{letter}", str(path)]
    command += [f"--co={option}" for option in [*CREATION, "PREDICTOR=3"]]
    return command


def gdal_calc_classes_command(index: Path, output: Path) -> list[str]:
    calc = "1+" + "+".join(f"(A>={b})" for b in BREAKS)
    command = [sys.executable, GDAL_CALC, "--quiet", "--overwrite", "--type=Byte"]
    command += ["--NoDataValue=0", "-A", str(index), f"--outfile={output}", f"--calc={calc}"]
    command += [f"--co={option}" for option in [*CREATION, "PREDICTOR=2"]]
    return command


def _remove(path: Path) -> None:
    for each in (path, Path(f"{path}.aux.xml"), path.with_suffix(".qml")):
        if each.exists():
            each.unlink()


def _json_of(text: str) -> dict:
    return qgis_runner.json_answer(text)


def run_mineeco(paths, work, env) -> dict:
    steps = []
    for name, command in mineeco_commands(paths, work):
        settle()
        measured = measure(command, env=env)
        if not measured.ok:
            raise RuntimeError(f"mineeco:{name} failed:\n{measured.failure()}")
        steps.append((name, measured))
    results = _json_of(steps[0][1].stdout)["results"]
    return {
        "wall_s": sum(m.wall_s for _, m in steps),
        "peak_rss_mib": max(m.max_rss_mib for _, m in steps),
        "steps": {name: {"wall_s": m.wall_s, "peak_rss_mib": m.max_rss_mib} for name, m in steps},
        "weights": [float(w) for w in results["WEIGHTS"].split(",")],
    }


def run_gdal(paths, work) -> dict:
    steps, stats = [], []
    stats_wall, stats_rss = 0.0, 0.0
    for path in paths:
        Path(f"{path}.aux.xml").unlink(missing_ok=True)
        measured = measure(gdal_statistics_command(path))
        if not measured.ok:
            raise RuntimeError(f"gdalinfo -stats {path} failed:\n{measured.failure()}")
        stats_wall += measured.wall_s
        stats_rss = max(stats_rss, measured.max_rss_mib)
        # The band's "minimum" … "stdDev" are rounded to 3 decimals in gdalinfo's JSON; the
        # STATISTICS_* metadata items carry full precision.
        items = _json_of(measured.stdout)["bands"][0]["metadata"][""]
        stats.append({key: float(items[f"STATISTICS_{key.upper()}"]) for key in STATISTICS})
        Path(f"{path}.aux.xml").unlink(missing_ok=True)
    steps.append(("gdalinfo -stats ×17", stats_wall, stats_rss))
    weights = mse_weights(stats)
    index, classes = work / "gdal_p.tif", work / "gdal_classes.tif"
    for name, command in (
        ("gdal_calc index", gdal_calc_index_command(paths, stats, weights, index)),
        ("gdal_calc classes", gdal_calc_classes_command(index, classes)),
        ("gdalinfo -hist", [GDALINFO, "-json", "-hist", str(classes)]),
    ):
        settle()
        measured = measure(command)
        if not measured.ok:
            raise RuntimeError(f"{name} failed:\n{measured.failure()}")
        steps.append((name, measured.wall_s, measured.max_rss_mib))
    return {
        "wall_s": sum(wall for _, wall, _ in steps),
        "peak_rss_mib": max(rss for _, _, rss in steps),
        "steps": {name: {"wall_s": wall, "peak_rss_mib": rss} for name, wall, rss in steps},
        "weights": weights,
    }


def agreement(work: Path) -> dict:
    """Largest |P_ours − P_gdal| and class mismatches, strip by strip."""
    ours, theirs = gdal.Open(str(work / "mineeco_p.tif")), gdal.Open(str(work / "gdal_p.tif"))
    ours_c = gdal.Open(str(work / "mineeco_classes.tif"))
    theirs_c = gdal.Open(str(work / "gdal_classes.tif"))
    size = ours.RasterYSize
    worst, nodata_mismatch, class_mismatch, near_break = 0.0, 0, 0, 0
    for top in range(0, size, 512):
        rows = min(512, size - top)
        a = ours.GetRasterBand(1).ReadAsArray(0, top, ours.RasterXSize, rows).astype(np.float64)
        b = theirs.GetRasterBand(1).ReadAsArray(0, top, ours.RasterXSize, rows).astype(np.float64)
        va, vb = a != NODATA, b != NODATA
        nodata_mismatch += int(np.count_nonzero(va != vb))
        both = va & vb
        if both.any():
            worst = max(worst, float(np.abs(a[both] - b[both]).max()))
        ca = ours_c.GetRasterBand(1).ReadAsArray(0, top, ours.RasterXSize, rows)
        cb = theirs_c.GetRasterBand(1).ReadAsArray(0, top, ours.RasterXSize, rows)
        differ = ca != cb
        class_mismatch += int(np.count_nonzero(differ))
        close = np.min(np.abs(a[..., None] - np.array(BREAKS)), axis=-1) < 1e-5
        near_break += int(np.count_nonzero(differ & close))
    return {
        "max_abs_diff_p": worst,
        "nodata_mismatches": nodata_mismatch,
        "class_mismatches": class_mismatch,
        "class_mismatches_within_1e-5_of_a_break": near_break,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000, help="raster side (default 4000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 × 500")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool (median, max RSS)")
    parser.add_argument("--memory-mb", type=float, default=None, help="MINE_ECO_MEMORY_MB")
    args = parser.parse_args(argv)
    size = 500 if args.quick else args.size
    print(f"Generating / reusing {INDICATORS} indicators of {size} × {size} …", flush=True)
    paths = ensure_indicators(size)
    input_mib = sum(p.stat().st_size for p in paths) / 2**20
    work = OUT / f"evaluation_{size}" / "runs"
    work.mkdir(parents=True, exist_ok=True)
    runs = {"mineeco": [], "gdal": []}
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-evaluation-") as profile:
        env = qgis_env(Path(profile), args.memory_mb)
        enable = measure(qgis_runner.enable_command(), env=env)
        if not enable.ok:
            print(enable.failure())
            return 1
        for round_ in range(args.repeat):
            for name in ("mineeco_p.tif", "mineeco_classes.tif", "gdal_p.tif", "gdal_classes.tif"):
                _remove(work / name)
            print(f"Round {round_ + 1}: Mine Eco …", flush=True)
            runs["mineeco"].append(run_mineeco(paths, work, env))
            print(f"Round {round_ + 1}: GDAL steps …", flush=True)
            runs["gdal"].append(run_gdal(paths, work))
    agree = agreement(work)
    summary = {}
    for tool, series in runs.items():
        summary[tool] = {
            "wall_s": statistics.median(r["wall_s"] for r in series),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in series),
            "steps": {
                step: {
                    "wall_s": statistics.median(r["steps"][step]["wall_s"] for r in series),
                    "peak_rss_mib": max(r["steps"][step]["peak_rss_mib"] for r in series),
                }
                for step in series[0]["steps"]
            },
        }
    weight_diff = float(
        np.abs(
            np.array(runs["mineeco"][-1]["weights"]) - np.array(runs["gdal"][-1]["weights"])
        ).max()
    )
    ratio = summary["mineeco"]["wall_s"] / summary["gdal"]["wall_s"]
    rss_ratio = summary["mineeco"]["peak_rss_mib"] / input_mib
    print()
    print(f"{INDICATORS} indicators of {size} × {size} float32 ({input_mib:.0f} MiB on disk)")
    print(f"{'tool':<34}{'wall s':>10}{'peak RSS MiB':>15}")
    for tool, label in (
        ("mineeco", "Mine Eco (2 qgis_process runs)"),
        ("gdal", "GDAL steps (20 runs)"),
    ):
        s = summary[tool]
        print(f"{label:<34}{s['wall_s']:>10.2f}{s['peak_rss_mib']:>15.1f}")
        for step, figures in s["steps"].items():
            print(f"  {step:<32}{figures['wall_s']:>10.2f}{figures['peak_rss_mib']:>15.1f}")
    print(f"ratio Mine Eco / GDAL steps (wall): {ratio:.2f}")
    print(f"Mine Eco peak RSS / size of the 17 inputs: {rss_ratio:.3f}")
    print(
        f"agreement: max |Δweight| {weight_diff:.2e}, max |ΔP| {agree['max_abs_diff_p']:.2e}, "
        f"NoData mismatches {agree['nodata_mismatches']}, class mismatches "
        f"{agree['class_mismatches']} ({agree['class_mismatches_within_1e-5_of_a_break']} within "
        "1e-5 of a break)"
    )
    document = {
        "benchmark": "evaluation",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size,
        "indicators": INDICATORS,
        "input_mib": input_mib,
        "repeat": args.repeat,
        "memory_mb": args.memory_mb,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "gdal": gdal.__version__,
        },
        "summary": summary,
        "runs": runs,
        "ratio_wall_mineeco_over_gdal": ratio,
        "peak_rss_over_input_size": rss_ratio,
        "agreement": {**agree, "max_abs_diff_weights": weight_diff},
        "commands": {
            "mineeco": [c for _, c in mineeco_commands(paths, work)],
            "gdal": [
                "gdalinfo -json -stats <each indicator>",
                "gdal_calc.py (17 inputs)",
                "gdal_calc.py classes",
                "gdalinfo -json -hist",
            ],
        },
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "evaluation.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    print(f"wrote {OUT / 'evaluation.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

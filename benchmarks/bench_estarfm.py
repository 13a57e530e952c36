"""Benchmark of ESTARFM fusion (mineeco:estarfm): wall time, peak memory, speed-up.

    .venv/bin/python benchmarks/bench_estarfm.py [--quick] [--repeat N] [--out bench-output]

Cases, each run in a child process of its own (wall time from here, peak RSS from GNU time):

* ``zhu 400×400×3``: the authors' test scene (Zhu et al. 2010; green, red, NIR), w = 25, m = 4,
  through the plugin's engine without QGIS (GeoTIFF in, GeoTIFF out, σ pass included) on all
  cores and on one thread (their ratio is the gain from threads), on all cores with a memory
  budget of 128 MB, which splits the scene into four blocks, each computed with its 25-pixel
  halo (the default budget, 256 MB, holds it in one block; the ratio is the cost of blocks and
  halos), and the same through ``qgis_process run mineeco:estarfm`` (adds QGIS start-up).
  Target ≤ 2 s for the run, i.e. the work the port's per-pixel figure measures, without
  Python's start-up and imports. Without the sample data a synthetic scene of the same size
  stands in.
* ``ndvi 2000×2000×1``: one band (NDVI-like, synthetic: patches of four cover types with their
  own seasonal change, coarse images of 17×17-pixel means), w = 25, engine only. Target ≤ 60 s.
* ``reference vs fast``: the plain per-pixel reference of the tests
  (tests/core/test_estarfm_reference.py) and the vectorised kernel on a small 3-band scene,
  w = 25, both in-process in one child; the ratio of their times is the speed-up.

``--quick`` uses 1000×1000 for the single band and a smaller reference scene. The machine has
two cores shared with other work: absolute times vary; the ``busy`` column says how much of the
machine other processes took during the run. The engine children report the wall time of the
run itself (``run s``: from after the imports to the written output) and its CPU time. Results
also go to ``<out>/estarfm.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "scripts"))

import qgis_runner  # noqa: E402
from measure import measure, settle  # noqa: E402

from mine_eco_plugin.engine.blocks import DEFAULT_MEMORY_MB  # noqa: E402

gdal.UseExceptions()

ZHU = REPOSITORY.parent / "shared" / "data" / "estarfm-zhu2010"
ZHU_NAMES = ("tm0524", "modis0524", "tm0812", "modis0812", "modis0711")
PARAMETERS = ("FINE1", "COARSE1", "FINE2", "COARSE2", "COARSE_PRED")
TARGET_400_S = 2.0
TARGET_2000_S = 60.0
#: A memory budget that splits the 400×400×3 scene into four blocks (256² and the rest).
BLOCKS_MEMORY_MB = 128
PORT_MS_PER_PIXEL = 0.65  # the figure for a public Python port, 51×51 window


# --- inputs ------------------------------------------------------------------------------------


def write(path: Path, data: np.ndarray, nodata: float | None = None) -> str:
    data = data[np.newaxis] if data.ndim == 2 else data
    kind = gdal.GDT_Int16 if data.dtype == np.int16 else gdal.GDT_Float32
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(path), data.shape[2], data.shape[1], data.shape[0], kind, ["TILED=YES"]
    )
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32613)  # stand-in georeferencing (the test data have none)
    dataset.SetProjection(srs.ExportToWkt())
    dataset.SetGeoTransform((500000.0, 30.0, 0.0, 6000000.0, 0.0, -30.0))
    for band in range(data.shape[0]):
        dataset.GetRasterBand(band + 1).WriteArray(data[band])
        if nodata is not None:
            dataset.GetRasterBand(band + 1).SetNoDataValue(nodata)
    dataset = None
    return str(path)


def synthetic_scene(size: int, bands: int, seed: int = 1) -> list[np.ndarray]:
    """Five images (fine 1, coarse 1, fine 2, coarse 2, coarse at t_p) of a patchy landscape:
    four cover types in patches of 4–40 pixels, each with its own value per band and its own
    change over time, pixel noise; coarse images are 17×17-pixel means, repeated."""
    rng = np.random.default_rng(seed)
    cover = np.zeros((size, size), np.int16)
    for scale in (40, 12, 4):
        cells = rng.integers(0, 4, (size // scale + 1, size // scale + 1), dtype=np.int16)
        patch = cells.repeat(scale, 0).repeat(scale, 1)[:size, :size]
        cover = np.where(rng.random((size, size)) < 0.45, patch, cover)
    level = rng.uniform(0.1, 0.8, (4, bands))
    change = rng.uniform(-0.1, 0.3, (4, bands))
    fine = []
    for date in (0.0, 1.0, 0.6):  # t_m, t_n, t_p (truth, not used)
        values = level[cover] + change[cover] * date + rng.normal(0, 0.01, (size, size, bands))
        fine.append(np.moveaxis(values, -1, 0).astype(np.float32))
    pad = (-size) % 17

    def coarse(image):
        padded = np.pad(image, ((0, 0), (0, pad), (0, pad)), mode="edge")
        n = padded.shape[1] // 17
        means = padded.reshape(bands, n, 17, n, 17).mean(axis=(2, 4))
        return np.kron(means, np.ones((1, 17, 17)))[:, :size, :size].astype(np.float32)

    return [fine[0], coarse(fine[0]), fine[1], coarse(fine[1]), coarse(fine[2])]


def prepare(folder: Path, quick: bool) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    cases = {}
    zhu = folder / "zhu"
    zhu.mkdir(exist_ok=True)
    if ZHU.is_dir():
        images = [gdal.Open(str(ZHU / n)).ReadAsArray() for n in ZHU_NAMES]
        source, valid_max = "Zhu et al. (2010) test images", 10000
    else:
        images = [(a * 10000).astype(np.int16) for a in synthetic_scene(400, 3)]
        source, valid_max = "synthetic stand-in (Zhu data not found)", 10000
    cases["zhu"] = {
        "label": "zhu 400×400×3",
        "source": source,
        "files": [write(zhu / f"{p}.tif", a) for p, a in zip(PARAMETERS, images, strict=True)],
        "valid": (0, valid_max),
        "pixels": 400 * 400,
    }
    size = 1000 if quick else 2000
    single = folder / f"ndvi{size}"
    single.mkdir(exist_ok=True)
    files = [single / f"{p}.tif" for p in PARAMETERS]
    if not all(f.exists() for f in files):
        images = synthetic_scene(size, 1, seed=2)
        for f, a in zip(files, images, strict=True):
            write(f, a)
    cases["single"] = {
        "label": f"ndvi {size}×{size}×1",
        "source": "synthetic",
        "files": [str(f) for f in files],
        "valid": (-1, 1),
        "pixels": size * size,
    }
    return cases


# --- children ------------------------------------------------------------------------------------


def child_engine(
    files: list[str],
    output: str,
    valid_min: float,
    valid_max: float,
    threads: int,
    memory_mb: float,
) -> None:
    """What mineeco:estarfm does, without QGIS: σ pass, then the blocks."""
    from mine_eco_plugin import engine
    from mine_eco_plugin.core import estarfm
    from mine_eco_plugin.core.statistics import RunningSummary

    started = time.process_time()  # the run's CPU and wall time, without the imports
    began = time.perf_counter()
    sources = [engine.RasterSource(f, parameter=p) for f, p in zip(files, PARAMETERS, strict=True)]
    bands = sources[0].band_count()
    summaries = [[RunningSummary() for _ in range(bands)] for _ in range(2)]

    def visit(window, *blocks):
        for date, block in enumerate(blocks):
            for band in range(bands):
                plane = block[band]
                summaries[date][band].update(plane[estarfm.in_range(plane, valid_min, valid_max)])

    engine.scan(visit, [sources[0], sources[2]], memory_mb=memory_mb)
    sigma = [[np.sqrt(s.m2 / (s.count - 1)) for s in date] for date in summaries]
    settings = estarfm.FusionSettings(
        valid_min=valid_min,
        valid_max=valid_max,
        min_change=0.02 * (valid_max - valid_min),
        thresholds=estarfm.similarity_thresholds(sigma, 4),
        threads=threads,
    )
    target = engine.RasterTarget(output, parameter="OUTPUT", bands=bands, nodata=-9999.0)
    engine.run_blocks(
        lambda *blocks: estarfm.fuse_block(*blocks, settings),
        sources,
        [target],
        halo=settings.half_window,
        memory_mb=memory_mb,
        work_factor=9,  # as mineeco:estarfm
    )
    print(
        json.dumps({"cpu_s": time.process_time() - started, "run_s": time.perf_counter() - began})
    )


def load_reference():
    path = REPOSITORY / "tests" / "core" / "test_estarfm_reference.py"
    spec = importlib.util.spec_from_file_location("estarfm_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_estarfm


def child_reference(size: int, report: str) -> None:
    """Reference and fast kernel on the same small scene, in this one process."""
    from mine_eco_plugin.core import estarfm

    images = [(np.round(a * 1024) / 1024).astype(np.float32) for a in synthetic_scene(size, 3, 5)]
    sigma = [estarfm.sample_sigma(images[k], 0, 1) for k in (0, 2)]
    thresholds = estarfm.similarity_thresholds(sigma, 4).astype(np.float32).astype(np.float64)
    settings = estarfm.FusionSettings(
        valid_min=0, valid_max=1, min_change=0.02, thresholds=thresholds
    )
    start = time.perf_counter()
    fast = estarfm.fuse(*images, settings)
    fast_s = time.perf_counter() - start
    reference = load_reference()
    start = time.perf_counter()
    slow = reference(
        *images, half_window=25, thresholds=thresholds, valid_min=0, valid_max=1, min_change=0.02
    )
    reference_s = time.perf_counter() - start
    # The reference's time per pixel on a 400×400×3 scene (full windows), from sampled pixels
    # of the Zhu scene (synthetic when absent; its large patches give more similar pixels).
    if ZHU.is_dir():
        big = [gdal.Open(str(ZHU / n)).ReadAsArray().astype(np.float32) for n in ZHU_NAMES]
        low, high = 0.0, 10000.0
    else:
        big = [a.astype(np.float32) for a in synthetic_scene(400, 3, 6)]
        low, high = 0.0, 1.0
    sigma = [estarfm.sample_sigma(big[k], low, high) for k in (0, 2)]
    rng = np.random.default_rng(0)
    pixels = [tuple(p) for p in rng.integers(25, 375, size=(40, 2))]
    start = time.perf_counter()
    reference(
        *big,
        half_window=25,
        thresholds=estarfm.similarity_thresholds(sigma, 4),
        valid_min=low,
        valid_max=high,
        min_change=0.02 * (high - low),
        pixels=pixels,
    )
    per_pixel_s = (time.perf_counter() - start) / len(pixels)
    Path(report).write_text(
        json.dumps(
            {
                "fast_s": fast_s,
                "reference_s": reference_s,
                "max_abs_diff": float(np.nanmax(np.abs(fast - slow))),
                "reference_per_pixel_400_s": per_pixel_s,
            }
        )
    )


# --- parent --------------------------------------------------------------------------------------


def qgis_process_command(files, output, valid, profile):
    parameters = dict(zip(PARAMETERS, files, strict=True))
    parameters.update(VALID_MIN=valid[0], VALID_MAX=valid[1], OUTPUT=output)
    return qgis_runner.run_command("estarfm", parameters), qgis_runner.environment(profile)


def run_series(command, env, output, repeat):
    runs = []
    for _ in range(repeat):
        if output and Path(output).exists():
            Path(output).unlink()
        settle()
        m = measure(command, env=env)
        if not m.ok:
            raise RuntimeError(f"{' '.join(command[:4])} failed:\n{m.failure()}")
        report = json.loads(m.stdout[m.stdout.rindex("{") :]) if "cpu_s" in m.stdout else {}
        runs.append(
            {
                "wall_s": m.wall_s,
                "cpu_s": report.get("cpu_s"),
                "run_s": report.get("run_s"),
                "peak_rss_mib": m.max_rss_mib,
                "busy": m.others_share,
            }
        )
    cpus = [r["cpu_s"] for r in runs if r["cpu_s"] is not None]
    inside = [r["run_s"] for r in runs if r["run_s"] is not None]
    return {
        "cpu_s": statistics.median(cpus) if cpus else None,
        "run_s": statistics.median(inside) if inside else None,
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "fastest_s": min(r["wall_s"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "busy": statistics.mean(r["busy"] for r in runs),
        "runs": runs,
    }


def verdict(seconds: float, target: float) -> str:
    return "met" if seconds <= target else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(REPOSITORY / "bench-output"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, *rest = args.child
        if mode == "engine":
            child_engine(
                rest[:5], rest[5], float(rest[6]), float(rest[7]), int(rest[8]), float(rest[9])
            )
        else:
            child_reference(int(rest[0]), rest[1])
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    repeat = 1 if args.quick else args.repeat
    cases = prepare(out / "estarfm_inputs", args.quick)
    python = sys.executable
    me = str(Path(__file__).resolve())
    rows, results = [], {}
    cores = os.cpu_count() or 1
    for key, case in cases.items():
        output = str(out / f"estarfm_{key}.tif")
        variants = [(cores, DEFAULT_MEMORY_MB, ""), (1, DEFAULT_MEMORY_MB, "_1_thread")]
        variants.append((cores, BLOCKS_MEMORY_MB, "_blocks"))
        for threads, memory_mb, suffix in variants if key == "zhu" else variants[:1]:
            command = [
                python,
                me,
                "--child",
                "engine",
                *case["files"],
                output,
                *map(str, case["valid"]),
                str(threads),
                str(memory_mb),
            ]
            series = run_series(command, None, output, repeat)
            results[f"{key}_engine{suffix}"] = {
                **case,
                **series,
                "threads": threads,
                "memory_mb": memory_mb,
            }
            label = f"{case['label']} (engine, {threads} thread{'s' if threads > 1 else ''}"
            label += ", 4 blocks)" if suffix == "_blocks" else ")"
            rows.append((label, series, case["pixels"]))
        if key == "zhu" and Path(qgis_runner.QGIS_PROCESS).exists():
            with tempfile.TemporaryDirectory(prefix="mineeco-bench-") as profile:
                command, env = qgis_process_command(case["files"], output, case["valid"], profile)
                measure(qgis_runner.enable_command(), env=env)
                series = run_series(command, env, output, repeat)
            results["zhu_qgis_process"] = {**case, **series}
            rows.append((f"{case['label']} (qgis_process)", series, case["pixels"]))
    small = 24 if args.quick else 40
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-") as folder:
        report = Path(folder) / "reference.json"
        measured = measure([python, me, "--child", "reference", str(small), str(report)])
        if not measured.ok:
            raise RuntimeError(f"reference run failed:\n{measured.failure()}")
        comparison = json.loads(report.read_text())
    comparison["size"] = f"{small}×{small}×3, w = 25"
    comparison["speedup"] = comparison["reference_s"] / comparison["fast_s"]
    results["reference_vs_fast"] = comparison

    print(
        f"{'case':44s} {'median s':>9s} {'fastest s':>9s} {'run s':>7s} {'CPU s':>7s} "
        f"{'peak MiB':>9s} {'busy':>5s}"
    )
    for label, s, _pixels in rows:
        inside = (
            f"{s['run_s']:7.2f} {s['cpu_s']:7.2f}" if s.get("run_s") else f"{'-':>7s} {'-':>7s}"
        )
        print(
            f"{label:44s} {s['wall_s']:9.2f} {s['fastest_s']:9.2f} {inside} "
            f"{s['peak_rss_mib']:9.0f} {100 * s['busy']:4.0f}%"
        )
    print(
        "median/fastest s: the process's wall time (Python start-up and imports included); "
        "run s: the run itself (σ pass, blocks, output); busy: the share of the machine other "
        "processes used during the run."
    )
    zhu = results["zhu_engine"]
    one = results["zhu_engine_1_thread"]
    blocks = results["zhu_engine_blocks"]
    port_s = PORT_MS_PER_PIXEL * 1e-3 * zhu["pixels"]
    print(
        f"\n400×400×3, w = 25: run {zhu['run_s']:.2f} s on {cores} threads (target ≤ "
        f"{TARGET_400_S:.0f} s: {verdict(zhu['run_s'], TARGET_400_S)}), {zhu['wall_s']:.2f} s "
        f"with start-up; 1 thread {one['run_s']:.2f} s (threads: ×"
        f"{one['run_s'] / zhu['run_s']:.2f}); {port_s / zhu['run_s']:.0f}× the Python port's "
        f"~{port_s:.0f} s; in four blocks (budget {BLOCKS_MEMORY_MB} MB) "
        f"{blocks['run_s']:.2f} s (blocks and halos: ×{blocks['run_s'] / zhu['run_s']:.2f})"
    )
    single = results["single_engine"]
    if not args.quick:
        print(
            f"2000×2000×1, w = 25: run {single['run_s']:.1f} s, {single['wall_s']:.1f} s with "
            f"start-up (target ≤ {TARGET_2000_S:.0f} s: "
            f"{verdict(single['run_s'], TARGET_2000_S)})"
        )
    print(
        f"Per-pixel reference vs vectorised kernel, {comparison['size']}: "
        f"{comparison['reference_s']:.2f} s vs {comparison['fast_s']:.3f} s = "
        f"{comparison['speedup']:.0f}× (max |difference| {comparison['max_abs_diff']:.1e})"
    )
    reference_400 = comparison["reference_per_pixel_400_s"] * zhu["pixels"]
    comparison["reference_400_s"] = reference_400
    print(
        f"Per-pixel reference on 400×400×3 (from 40 sampled pixels, "
        f"{1e3 * comparison['reference_per_pixel_400_s']:.1f} ms each): ~{reference_400:.0f} s, "
        f"{reference_400 / zhu['run_s']:.0f}× the engine's run"
    )
    document = {
        "benchmark": "estarfm",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "quick": args.quick,
        "targets": {
            "zhu_400_s": TARGET_400_S,
            "single_2000_s": TARGET_2000_S,
            "zhu_400_met": zhu["run_s"] <= TARGET_400_S,
            "single_2000_met": None if args.quick else single["run_s"] <= TARGET_2000_S,
        },
        "results": results,
    }
    (out / "estarfm.json").write_text(json.dumps(document, indent=2, default=str))
    print(f"\nwrote {out / 'estarfm.json'}")
    shutil.rmtree(out / "estarfm_inputs" / "zhu", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

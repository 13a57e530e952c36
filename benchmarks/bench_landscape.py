"""SHDI and FN in a 33 × 33 moving window: ``mineeco:landscape_metrics`` against pylandstats.

    .venv/bin/python benchmarks/bench_landscape.py            # 4,000 × 4,000, 8 classes, 1 %
    .venv/bin/python benchmarks/bench_landscape.py --quick    # 1,000 × 1,000 smoke run
    .venv/bin/python benchmarks/bench_landscape.py --size 2000 --sample 0.5 --window 33

Measured, each in its own child process (wall time from here, peak RSS from GNU time):

* ``qgis_process.bin run mineeco:landscape_metrics`` with OUTPUT_SHDI and OUTPUT_FN, as users run
  it (QGIS start-up, block reading with a 16-pixel halo, the exact window patch counts, writing
  two compressed GeoTIFFs), after one unmeasured warm-up run on a tiny map;
* the peer: pylandstats (PyPI) window by window — ``Landscape(window)`` then
  ``shannon_diversity_index()`` and ``number_of_patches()`` (FN = (NP − 1)/NP, Eq. 13) — on a
  random ``--sample`` % of the pixels (fixed seed); its loop time scaled up to every pixel.

The map is synthetic and deterministic: 8 classes from the arg-max of 8 smoothed random fields
(patches of tens to thousands of pixels) with 2 % salt noise and a NoData corner, 30 m, UTM 32N.

Agreement at the sampled pixels: the number of patches behind our FN against pylandstats'
(exact equality expected), and our SHDI against the area-based definition computed in the peer
child (pylandstats' own ``shannon_diversity_index`` takes proportions from adjacency counts, so
it differs slightly; its largest difference is reported too). Results go to
``<out>/landscape.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from measure import measure, settle
from osgeo import gdal, osr
from scipy import ndimage

gdal.UseExceptions()

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(REPOSITORY / "scripts"))
import qgis_runner  # noqa: E402

GENERATOR_VERSION = "1"
CLASSES = 8

PEER_CHILD = r"""
import json, sys, time, warnings
import numpy as np
from osgeo import gdal
import pylandstats as pls

warnings.simplefilter("ignore")
path, window, fraction, seed, out = sys.argv[1:6]
window, fraction, seed = int(window), float(fraction), int(seed)
cover = gdal.Open(path).ReadAsArray()
rows, cols = cover.shape
rng = np.random.default_rng(seed)
count = max(1, int(round(rows * cols * fraction)))
flat = rng.choice(rows * cols, size=count, replace=False)
valid = cover.ravel()[flat] != 0
flat = flat[valid]
half = window // 2
shdi_peer, shdi_area, patches = [], [], []
start = time.perf_counter()
for index in flat:
    y, x = divmod(int(index), cols)
    cell = cover[max(0, y - half) : y + half + 1, max(0, x - half) : x + half + 1]
    landscape = pls.Landscape(cell, res=(30, 30), nodata=0)
    value = landscape.shannon_diversity_index()
    shdi_peer.append(0.0 if np.isnan(value) else value)
    patches.append(landscape.number_of_patches())
    _, n = np.unique(cell[cell != 0], return_counts=True)
    p = n / n.sum()
    shdi_area.append(float(-(p * np.log(p)).sum()))
loop = time.perf_counter() - start
np.savez(out, flat=flat, shdi_peer=shdi_peer, shdi_area=shdi_area, patches=patches)
print(json.dumps({"loop_s": loop, "windows": int(flat.size), "sampled": count}))
"""


def synthetic_cover(path: Path, size: int, seed: int = 11) -> Path:
    """The benchmark land-cover map (reused when it exists with this size and generator)."""
    if path.exists():
        existing = gdal.Open(str(path))
        if (
            existing.RasterXSize == size
            and existing.GetMetadataItem("GENERATOR") == GENERATOR_VERSION
        ):
            return path
    rng = np.random.default_rng(seed)
    best = np.full((size, size), -np.inf, dtype=np.float32)
    cover = np.zeros((size, size), dtype=np.uint8)
    for value in range(1, CLASSES + 1):
        field = ndimage.gaussian_filter(
            rng.standard_normal((size, size)).astype(np.float32), 6.0
        ) * (1.0 + 0.1 * value)
        higher = field > best
        best[higher] = field[higher]
        cover[higher] = value
    del best
    salt = rng.random((size, size)) < 0.02
    cover[salt] = rng.integers(1, CLASSES + 1, int(salt.sum()))
    cover[: size // 20, : size // 10] = 0  # NoData corner
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(path), size, size, 1, gdal.GDT_Byte, ["TILED=YES", "COMPRESS=DEFLATE"]
    )
    dataset.SetGeoTransform((500000.0, 30.0, 0.0, 5600000.0, 0.0, -30.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    dataset.SetProjection(srs.ExportToWkt())
    dataset.GetRasterBand(1).SetNoDataValue(0)
    dataset.GetRasterBand(1).WriteArray(cover)
    dataset.SetMetadataItem("GENERATOR", GENERATOR_VERSION)
    dataset = None
    return path


def ours_command(cover: Path, window: int, out: Path) -> list[str]:
    return qgis_runner.run_command(
        "landscape_metrics",
        {
            "INPUT": cover,
            "WINDOW": window,
            "OUTPUT_SHDI": out / "shdi.tif",
            "OUTPUT_FN": out / "fn.tif",
        },
    )


def read_at(path: Path, flat: np.ndarray) -> np.ndarray:
    dataset = gdal.Open(str(path))  # keep the dataset alive while its band is read
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64).ravel()[flat]
    nodata = band.GetNoDataValue()
    return np.where(values == nodata, np.nan, values)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--window", type=int, default=33)
    parser.add_argument("--sample", type=float, default=1.0, help="peer sample, % of pixels")
    parser.add_argument("--quick", action="store_true", help="1,000 × 1,000 smoke run")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "bench-output")
    args = parser.parse_args(argv)
    if args.quick:
        args.size = min(args.size, 1000)
    # Only look for the peer here: importing it (rasterio with its own GDAL) next to osgeo in
    # one process can crash; it runs in its own child.
    if importlib.util.find_spec("pylandstats") is None:
        print("pylandstats is not installed (.venv/bin/pip install pylandstats): no peer")
        return 1
    work = args.out / "landscape"
    work.mkdir(parents=True, exist_ok=True)
    cover = synthetic_cover(work / f"landcover_{args.size}.tif", args.size)
    tiny = synthetic_cover(work / "landcover_64.tif", 64)
    fraction = args.sample / 100.0
    print(
        f"Land cover {args.size} × {args.size}, {CLASSES} classes; window {args.window}; "
        f"pylandstats on {args.sample:g} % of the pixels"
    )
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-landscape-") as folder:
        folder = Path(folder)
        env = qgis_runner.enabled_environment(folder / "profile")
        warm = folder / "warm"
        warm.mkdir()
        subprocess.run(ours_command(tiny, args.window, warm), env=env, capture_output=True)
        out = folder / "ours"
        out.mkdir()
        settle()
        ours = measure(ours_command(cover, args.window, out), env=env)
        if not ours.ok:
            print(f"landscape_metrics failed:\n{ours.failure()}")
            return 1
        script = folder / "peer.py"
        script.write_text(PEER_CHILD)
        samples = folder / "peer.npz"
        settle()
        peer = measure(
            [
                sys.executable,
                str(script),
                str(cover),
                str(args.window),
                str(fraction),
                "42",
                str(samples),
            ]
        )
        if not peer.ok:
            print(f"pylandstats child failed:\n{peer.failure()}")
            return 1
        peer_info = json.loads(peer.stdout.strip().splitlines()[-1])
        data = np.load(samples)
        flat = data["flat"]
        shdi = read_at(out / "shdi.tif", flat)
        fn = read_at(out / "fn.tif", flat)
    patches_ours = np.rint(1.0 / (1.0 - fn))  # FN = (NP − 1)/NP
    fn_peer = (data["patches"] - 1.0) / data["patches"]
    windows = int(peer_info["windows"])
    per_window_ms = peer_info["loop_s"] / max(windows, 1) * 1000
    scaled = peer_info["loop_s"] / fraction
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "size": args.size,
        "window": args.window,
        "classes": CLASSES,
        "ours": {
            "tool": "qgis_process mineeco:landscape_metrics (SHDI + FN)",
            "wall_s": ours.wall_s,
            "peak_rss_mib": ours.max_rss_mib,
            "others_cpu_share": ours.others_share,
        },
        "pylandstats": {
            "sample_percent": args.sample,
            "windows": windows,
            "child_wall_s": peer.wall_s,
            "loop_s": peer_info["loop_s"],
            "per_window_ms": per_window_ms,
            "scaled_to_all_pixels_s": scaled,
            "peak_rss_mib": peer.max_rss_mib,
            "others_cpu_share": peer.others_share,
        },
        "ratio_pylandstats_scaled_over_ours": scaled / ours.wall_s,
        "agreement": {
            "np_equal_share": float(np.mean(patches_ours == data["patches"])),
            "fn_max_abs_diff": float(np.nanmax(np.abs(fn - fn_peer))),
            "shdi_max_abs_diff_area_definition": float(np.nanmax(np.abs(shdi - data["shdi_area"]))),
            "shdi_max_abs_diff_pylandstats_adjacency": float(
                np.nanmax(np.abs(shdi - data["shdi_peer"]))
            ),
        },
    }
    print(
        f"  ours   landscape_metrics (qgis_process)  {ours.wall_s:8.1f} s  "
        f"peak RSS {ours.max_rss_mib:7.0f} MiB"
    )
    print(
        f"  peer   pylandstats, {windows} windows       {peer_info['loop_s']:8.1f} s  "
        f"peak RSS {peer.max_rss_mib:7.0f} MiB  ({per_window_ms:.2f} ms per window)"
    )
    print(f"  peer   scaled to all {args.size * args.size} pixels  {scaled:8.1f} s")
    print(f"  ratio  pylandstats (scaled) / ours        {scaled / ours.wall_s:8.1f}")
    print(
        f"  load   other processes used {ours.others_share:.0%} (ours) and "
        f"{peer.others_share:.0%} (peer) of the CPUs meanwhile"
    )
    agreement = results["agreement"]
    print(
        f"  agreement at the sample: NP equal {agreement['np_equal_share']:.4%}, "
        f"max |ΔFN| {agreement['fn_max_abs_diff']:.2e}, max |ΔSHDI| "
        f"{agreement['shdi_max_abs_diff_area_definition']:.2e} (area definition), "
        f"{agreement['shdi_max_abs_diff_pylandstats_adjacency']:.2e} (pylandstats' own)"
    )
    target = args.out / "landscape.json"
    target.write_text(json.dumps(results, indent=2))
    print(f"  written {target}")
    return 0 if agreement["np_equal_share"] == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of kriging: 500 points onto 2,000 × 2,000 cells with a 32-point neighbourhood.

    .venv/bin/python benchmarks/bench_kriging.py [--size 2000 --points 500 | --quick]

Runs ``qgis_process run mineeco:kriging`` (fixed spherical variogram, estimate + variance) in
a child measured by GNU time (wall, peak RSS), and the cross-validated fit (auto model) once.
Baselines in the same run, per kriged cell:

* the textbook approach, one ``np.linalg.solve`` of the 33 × 33 system per cell, on a sample
  of cells (in process), extrapolated to the grid;
* gstat (R, ``krige(..., nmax = 32)``) on a smaller grid when R and gstat are installed.

Results go to ``<out>/kriging.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from measure import measure
from osgeo import gdal, ogr, osr

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "scripts"))
import qgis_runner  # noqa: E402

PIXEL = 30.0
ORIGIN = (400000.0, 4000000.0)
MODEL = ("spherical", 0.1, 1.0, 15000.0)


def make_inputs(folder: Path, size: int, count: int) -> tuple[str, str, np.ndarray, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    extent = size * PIXEL
    xy = np.column_stack([ORIGIN[0] + rng.uniform(0, extent, count),
                          ORIGIN[1] - rng.uniform(0, extent, count)])  # fmt: skip
    z = np.sin(xy[:, 0] / 9000) + np.cos(xy[:, 1] / 7000) + rng.normal(0, 0.3, count)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32650)
    points = folder / f"kriging_points_{count}.gpkg"
    if points.exists():
        points.unlink()
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(points))
    layer = source.CreateLayer("points", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTReal))
    layer.StartTransaction()
    for (x, y), value in zip(xy, z, strict=True):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("value", float(value))
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(float(x), float(y))
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    source = None
    reference = folder / f"kriging_reference_{size}.tif"
    if not reference.exists():
        out = gdal.GetDriverByName("GTiff").Create(str(reference), size, size, 1, gdal.GDT_Byte,
                                                   ["TILED=YES", "COMPRESS=DEFLATE"])  # fmt: skip
        out.SetGeoTransform((ORIGIN[0], PIXEL, 0.0, ORIGIN[1], 0.0, -PIXEL))
        out.SetProjection(srs.ExportToWkt())
        out.GetRasterBand(1).Fill(1)
        out = None
    return str(points), str(reference), xy, z


def per_cell_solve_seconds(xy, z, size, sample=4000, k=32) -> float:
    """Seconds per cell of one np.linalg.solve per cell (the textbook loop, vectorised over
    the neighbour gathering but solving every cell's own system)."""
    from scipy.spatial import cKDTree

    from mine_eco_plugin.core import kriging as K

    variogram = K.Variogram(*MODEL)
    rng = np.random.default_rng(2)
    cells = np.column_stack([ORIGIN[0] + rng.uniform(0, size * PIXEL, sample),
                             ORIGIN[1] - rng.uniform(0, size * PIXEL, sample)])  # fmt: skip
    start = time.perf_counter()
    _, index = cKDTree(xy).query(cells, k)
    pts = xy[index]
    d = np.hypot(*(pts[:, :, None, :] - pts[:, None, :, :]).transpose(3, 0, 1, 2))
    a = np.ones((sample, k + 1, k + 1))
    a[:, :k, :k] = variogram(d)
    a[:, k, k] = 0
    b = np.ones((sample, k + 1))
    b[:, :k] = variogram(np.hypot(*(pts - cells[:, None, :]).transpose(2, 0, 1)))
    with K._single_threaded_blas():  # the same BLAS set-up as ours, for fairness
        solution = np.linalg.solve(a, b[..., None])[..., 0]
    _ = (solution[:, :k] * z[index]).sum(1), (solution * b).sum(1)
    return (time.perf_counter() - start) / sample


GSTAT = """
suppressMessages({{library(sp); library(gstat)}})
p = read.csv("{points}")
coordinates(p) = ~x+y
g = expand.grid(x = {x0} + ({side}:1 - 0.5) * {pixel}, y = {y0} - (1:{side} - 0.5) * {pixel})
coordinates(g) = ~x+y
t = system.time(k <- krige(value~1, p, g, vgm({psill}, "Sph", {range}, {nugget}), nmax = 32,
                           debug.level = 0))
cat(t[["elapsed"]], "\\n")
"""


def gstat_seconds_per_cell(xy, z, side, folder: Path) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    csv = folder / "kriging_points.csv"
    np.savetxt(csv, np.column_stack([xy, z]), delimiter=",", header="x,y,value", comments="")
    script = GSTAT.format(points=csv, x0=ORIGIN[0], y0=ORIGIN[1], side=side, pixel=PIXEL,
                          psill=MODEL[2], range=MODEL[3], nugget=MODEL[1])  # fmt: skip
    done = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"gstat unavailable ({done.stderr.strip().splitlines()[-1:]}); skipped")
        return None
    return float(done.stdout.split()[-1]) / side**2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--neighbours", type=int, default=32)
    parser.add_argument("--gstat-size", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="300 × 300 cells, 200 points")
    parser.add_argument("--out", default=str(REPOSITORY / "bench-output"))
    args = parser.parse_args(argv)
    size, count = (300, 200) if args.quick else (args.size, args.points)
    out = Path(args.out)
    folder = out / "kriging_inputs"
    points, reference, xy, z = make_inputs(folder, size, count)
    record = {"size": size, "points": count, "neighbours": args.neighbours}
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-kriging-") as profile:
        env = qgis_runner.environment(profile)
        measure(qgis_runner.enable_command(), env)
        base = qgis_runner.run_command("kriging", {
            "INPUT": points, "FIELD": "value", "REFERENCE": reference,
            "NEIGHBOURS": args.neighbours, "OUTPUT_CV": folder / "cv.gpkg",
        })  # fmt: skip
        fixed = ["VARIOGRAM=1", f"NUGGET={MODEL[1]}", f"SILL={MODEL[1] + MODEL[2]}",
                 f"RANGE={MODEL[3]}"]  # fmt: skip
        runs = {
            "fixed variogram, estimate + variance": base + fixed + [
                f"OUTPUT={out / 'kriging_estimate.tif'}",
                f"OUTPUT_VARIANCE={out / 'kriging_variance.tif'}",
            ],
            "auto model (4 fits + LOO), estimate only": base + [
                f"OUTPUT={out / 'kriging_estimate.tif'}"
            ],
        }  # fmt: skip
        results = {}
        for label, command in runs.items():
            for stale in (out / "kriging_estimate.tif", out / "kriging_variance.tif",
                          folder / "cv.gpkg"):  # fmt: skip
                if stale.exists():
                    stale.unlink()
            result = measure(command, env)
            if not result.ok:
                print(f"kriging ({label}) failed:\n{result.failure()}")
                return 1
            results[label] = result
            print(
                f"kriging {label}: {count} points → {size}² cells, k = {args.neighbours}: wall "
                f"{result.wall_s:.1f} s, peak RSS {result.max_rss_mib:.0f} MiB, others "
                f"{100 * result.others_share:.0f} %"
            )
    cells = size * size
    ours = results["fixed variogram, estimate + variance"].wall_s / cells
    textbook = per_cell_solve_seconds(xy, z, size, k=args.neighbours)
    print(
        f"per cell: ours {1e6 * ours:.2f} µs (whole qgis_process run); one solve per cell "
        f"{1e6 * textbook:.2f} µs (kernel only) → {textbook * cells:.0f} s for the grid; "
        f"ratio ours / per-cell solve = {ours / textbook:.3f}"
    )
    gstat = gstat_seconds_per_cell(xy, z, min(args.gstat_size, size), folder)
    if gstat is not None:
        print(
            f"gstat krige(nmax = 32) on {min(args.gstat_size, size)}² cells: {1e6 * gstat:.2f} "
            f"µs per cell → {gstat * cells:.0f} s for {size}²; ratio ours / gstat = "
            f"{ours / gstat:.3f}"
        )
    record.update(
        {
            "runs": {
                label: {
                    "wall_s": round(r.wall_s, 2),
                    "peak_rss_mib": round(r.max_rss_mib, 1),
                    "others_cpu_share": round(r.others_share, 3),
                }
                for label, r in results.items()
            },  # fmt: skip
            "ours_us_per_cell": round(1e6 * ours, 3),
            "per_cell_solve_us_per_cell": round(1e6 * textbook, 3),
            "ratio_ours_to_per_cell_solve": round(ours / textbook, 4),
            "gstat_us_per_cell": None if gstat is None else round(1e6 * gstat, 3),
            "ratio_ours_to_gstat": None if gstat is None else round(ours / gstat, 4),
        }
    )
    (out / "kriging.json").write_text(json.dumps(record, indent=2))
    print(f"wrote {out / 'kriging.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

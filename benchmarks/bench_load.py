"""Start-up cost of the plugin: what registering the Mine Eco provider adds to every QGIS start
and every ``qgis_process`` call, against QGIS starting without it.

    .venv/bin/python benchmarks/bench_load.py                  # 7 rounds
    .venv/bin/python benchmarks/bench_load.py --quick          # 3 rounds
    .venv/bin/python benchmarks/bench_load.py --against main   # also the plugin as at <ref>

Two measurements, each in child processes, the variants interleaved in every round (a busy
spell of the shared machine then hits all of them):

* **Registration, in process.** A Python child starts QGIS and Processing as ``qgis_process``
  does (``QgsApplication``, ``Processing.initialize()``: the GDAL, GRASS, SAGA… providers),
  then does what QGIS does at start with the plugin enabled: ``classFactory(None)
  .initProcessing()`` (import the plugin, build the provider, load its algorithms and models).
  It reports QGIS's own start-up (the baseline), the registration, and which heavy modules
  (scipy, sklearn, matplotlib) are imported once the provider is registered (none should be:
  algorithms import them when they run).
* **A trivial qgis_process run**: ``native:createconstantrasterlayer`` writing a 10 × 10
  raster, in a throw-away profile where the plugin is enabled and in one where it is not.

Every child keeps Python's bytecode cache as QGIS users have it (``PYTHONDONTWRITEBYTECODE`` is
dropped; ``PYTHONPYCACHEPREFIX`` puts the cache in a temporary folder, not in the checkout):
one unmeasured warm-up per variant writes it, so the figures are those of every start after the
first (without the cache, compiling the plugin's ~80 modules adds about 0.15 s).

Each figure both as wall time and as CPU time (the child's own user + system time). On the
shared 2-core machines the wall time also counts the time other processes ran instead ("others
%" tells how busy they kept the machine); the CPU time is what the plugin itself costs. Ratios:
registration / QGIS start-up, and qgis_process with / without the plugin. Target: registration
≤ 0.15 s of CPU (median). With ``--against REF`` the plugin as committed at REF (``git
archive``) is measured in the same rounds, for before/after figures. Results go to
``<out>/load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from measure import measure

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
sys.path.insert(0, str(REPOSITORY / "scripts"))
from qgis_runner import PLUGIN, QGIS_PROCESS, QgisProcess  # noqa: E402

#: Registration target of issue 23 (seconds, median).
TARGET_S = 0.15
HEAVY = ("scipy", "sklearn", "matplotlib")

#: The in-process child: argv[1] is the folder holding mine_eco_plugin/ ("" for QGIS alone),
#: argv[2:] the heavy modules to look for.
CHILD = textwrap.dedent(
    """
    import json, sys, time
    started = time.perf_counter()
    from qgis.core import QgsApplication
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing
    Processing.initialize()
    qgis_s = time.perf_counter() - started
    # CPU since the interpreter started: Python, QGIS and Processing.
    record = {"qgis_start_s": qgis_s, "qgis_start_cpu_s": time.process_time()}
    if sys.argv[1]:
        sys.path.insert(0, sys.argv[1])
        before = len(sys.modules)
        started, cpu = time.perf_counter(), time.process_time()
        from mine_eco_plugin import classFactory
        plugin = classFactory(None)
        plugin.initProcessing()
        record["register_s"] = time.perf_counter() - started
        record["register_cpu_s"] = time.process_time() - cpu
        record["modules_imported"] = len(sys.modules) - before
        record["algorithms"] = len(plugin.provider.algorithms())
        record["heavy"] = sorted(m for m in sys.argv[2:] if m in sys.modules)
    print(json.dumps(record))
    """
)


def export(ref: str, folder: Path) -> Path:
    """The plugin as committed at ``ref``, extracted into ``folder`` (git archive)."""
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", ref, PLUGIN, "metadata.txt", "resources"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def with_bytecode_cache(env: dict, cache: Path) -> dict:
    """``env`` where Python reads and writes compiled modules, in ``cache``."""
    env = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": str(cache)}


def in_process(plugin_dir: str, cache: Path) -> dict:
    """One registration child: its figures, and how busy others kept the machine meanwhile."""
    env = with_bytecode_cache({**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cache)
    result = measure([sys.executable, "-c", CHILD, plugin_dir, *HEAVY], env)
    if not result.ok:
        raise RuntimeError(f"registration child failed:\n{result.failure()}")
    return json.loads(result.stdout.strip().splitlines()[-1]) | {"others": result.others_share}


def trivial_run(env: dict, out_dir: Path):
    target = out_dir / "constant.tif"
    target.unlink(missing_ok=True)
    result = measure(
        [
            QGIS_PROCESS, "--json", "run", "native:createconstantrasterlayer", "--",
            "EXTENT=0,10,0,10 [EPSG:32650]", "TARGET_CRS=EPSG:32650", "PIXEL_SIZE=1",
            "NUMBER=1", f"OUTPUT={target}",
        ],
        env,
    )  # fmt: skip
    if not result.ok or not target.exists():
        raise RuntimeError(f"qgis_process run failed:\n{result.failure()}")
    return result


def summary(values: list[float]) -> dict:
    return {
        "median_s": round(statistics.median(values), 3),
        "fastest_s": round(min(values), 3),
        "runs_s": [round(v, 3) for v in values],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke run")
    parser.add_argument("--against", metavar="REF", help="also measure the plugin at this ref")
    parser.add_argument("--out", default=str(REPOSITORY / "bench-output"))
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-load-") as work:
        work = Path(work)
        folders = {"this checkout": str(REPOSITORY)}
        if args.against:
            (work / "against").mkdir()
            folders[args.against] = str(export(args.against, work / "against"))
        # A profile per variant: QGIS alone (plugin not enabled), the plugin from each folder.
        cache = work / "pycache"
        variants = {"QGIS alone": ("", QgisProcess(work / "profile-alone").env)}
        for label, folder in folders.items():
            qgis = QgisProcess(work / f"profile-{len(variants)}")
            qgis.env = with_bytecode_cache(qgis.env, cache) | {"QGIS_PLUGINPATH": folder}
            qgis.enable_plugin()
            variants[label] = (folder, qgis.env)
        variants["QGIS alone"] = ("", with_bytecode_cache(variants["QGIS alone"][1], cache))
        # Warm-up (first start in a profile, bytecode cache): not measured.
        for folder, env in variants.values():
            in_process(folder, cache)
            trivial_run(env, work)
        children: dict[str, list[dict]] = {label: [] for label in variants}
        runs: dict[str, list] = {label: [] for label in variants}
        for round_ in range(rounds):
            for label, (folder, env) in variants.items():
                children[label].append(in_process(folder, cache))
                runs[label].append(trivial_run(env, work))
            print(f"round {round_ + 1}/{rounds} done", flush=True)

    def median(label: str, key: str) -> float:
        return statistics.median(child[key] for child in children[label])

    start = statistics.median(c["qgis_start_s"] for group in children.values() for c in group)
    start_cpu = statistics.median(
        c["qgis_start_cpu_s"] for group in children.values() for c in group
    )
    alone = statistics.median(r.wall_s for r in runs["QGIS alone"])
    alone_cpu = statistics.median(r.cpu_s for r in runs["QGIS alone"])
    others = statistics.median(
        [c["others"] for group in children.values() for c in group]
        + [r.others_share for group in runs.values() for r in group]
    )
    print(
        f"\nQGIS + Processing start-up, in process: median {start:.3f} s ({start_cpu:.3f} s "
        f"CPU); qgis_process trivial "
        f"run without the plugin: median {alone:.3f} s ({alone_cpu:.3f} s CPU); others kept "
        f"the machine {100 * others:.0f} % busy"
    )
    record = {
        "rounds": rounds,
        "qgis_start": summary([c["qgis_start_s"] for g in children.values() for c in g]),
        "qgis_start_cpu": summary([c["qgis_start_cpu_s"] for g in children.values() for c in g]),
        "qgis_process_without_plugin": summary([r.wall_s for r in runs["QGIS alone"]]),
        "qgis_process_without_plugin_cpu": summary([r.cpu_s for r in runs["QGIS alone"]]),
        "others_cpu_share": round(others, 3),
        "target_register_s": TARGET_S,
        "plugins": {},
    }
    failed = False
    for label in folders:
        wall, cpu = median(label, "register_s"), median(label, "register_cpu_s")
        with_plugin = statistics.median(r.wall_s for r in runs[label])
        with_cpu = statistics.median(r.cpu_s for r in runs[label])
        last = children[label][-1]
        # The target on the registration's CPU time: on the shared 2-core machines the wall
        # time also holds the time others' processes ran instead (see "others").
        met = cpu <= TARGET_S and not last["heavy"]
        failed |= label == "this checkout" and not met
        print(
            f"{label}: registration {wall:.3f} s median wall (fastest "
            f"{min(c['register_s'] for c in children[label]):.3f}) = {wall / start:.2f} × QGIS "
            f"start-up; {cpu:.3f} s CPU = {cpu / start_cpu:.2f} × QGIS start-up's CPU; "
            f"{last['algorithms']} algorithms, "
            f"{last['modules_imported']} modules imported, heavy ones: "
            f"{', '.join(last['heavy']) or 'none'}; qgis_process run {with_plugin:.3f} s = "
            f"{with_plugin / alone:.2f} × without the plugin (+{with_plugin - alone:.2f} s), CPU "
            f"{with_cpu:.3f} s = {with_cpu / alone_cpu:.2f} × (+{with_cpu - alone_cpu:.2f} s); "
            f"target ≤ {TARGET_S} s CPU: {'met' if met else 'NOT met'}"
        )
        record["plugins"][label] = {
            "register": summary([c["register_s"] for c in children[label]]),
            "register_cpu": summary([c["register_cpu_s"] for c in children[label]]),
            "register_over_qgis_start": round(wall / start, 3),
            "register_cpu_over_qgis_start_cpu": round(cpu / start_cpu, 3),
            "qgis_process_with_plugin": summary([r.wall_s for r in runs[label]]),
            "qgis_process_with_over_without": round(with_plugin / alone, 3),
            "qgis_process_with_plugin_cpu": summary([r.cpu_s for r in runs[label]]),
            "qgis_process_cpu_with_over_without": round(with_cpu / alone_cpu, 3),
            "algorithms": last["algorithms"],
            "modules_imported": last["modules_imported"],
            "heavy_modules_imported": last["heavy"],
            "met": met,
        }
    (out / "load.json").write_text(json.dumps(record, indent=2))
    print(f"wrote {out / 'load.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

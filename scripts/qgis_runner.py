"""qgis_process.bin as users call it: a throw-away profile, this checkout as the plugin
folder, one JSON result per algorithm run. The demo and its steps run algorithms through
``QgisProcess`` (errors that name the step); the benchmarks and the command-line tests build
their calls from ``environment``, ``enable_command``, ``run_command`` and ``json_answer``, so
that every caller runs qgis_process the same way.

Debian's /usr/bin/qgis_process wrapper passes --noversioncheck, which QGIS 3.22 rejects: the
binary is called directly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"
PLUGIN = "mine_eco_plugin"
PROVIDER = "mineeco"
CALL_TIMEOUT_S = 600


class StepFailed(RuntimeError):
    """A demo step failed; the message names the step."""

    def __init__(self, step: str, message: str):
        super().__init__(f"step '{step}' failed: {message}")
        self.step = step


# --- qgis_process --------------------------------------------------------------------------


def environment(profile: Path | str) -> dict[str, str]:
    """The environment of a qgis_process.bin call: this one, with Qt off screen, the QGIS
    profile in ``profile`` (a throw-away folder) and this checkout as the plugin folder."""
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QGIS_CUSTOM_CONFIG_PATH": str(profile),
        "QGIS_PLUGINPATH": str(REPO_ROOT),
    }


def enable_command() -> list[str]:
    """The command that enables the plugin in the profile of ``environment`` (once a profile)."""
    return [QGIS_PROCESS, "plugins", "enable", PLUGIN]


def enabled_environment(profile: Path | str) -> dict[str, str]:
    """``environment(profile)`` once the plugin is enabled in that profile
    (``subprocess.CalledProcessError`` when it cannot be)."""
    env = environment(profile)
    subprocess.run(
        enable_command(), env=env, capture_output=True, check=True, stdin=subprocess.DEVNULL
    )
    return env


def run_arguments(algorithm: str, parameters: Any = ()) -> list[str]:
    """``--json run mineeco:<algorithm> -- KEY=value …``: ``parameters`` a mapping (a list or
    tuple value repeats the key once per item, as a multiple-layer parameter needs in
    qgis_process 3.22) or ready ``KEY=value`` strings."""
    args = ["--json", "run", f"{PROVIDER}:{algorithm}", "--"]
    if not isinstance(parameters, dict):
        return args + [str(item) for item in parameters]
    for key, value in parameters.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            args.append(f"{key}={item}")
    return args


def run_command(algorithm: str, parameters: Any = ()) -> list[str]:
    """The whole command of ``run_arguments``, qgis_process.bin first."""
    return [QGIS_PROCESS, *run_arguments(algorithm, parameters)]


def json_answer(stdout: str) -> dict[str, Any]:
    """The JSON document of a ``--json`` call; other plugins may print before it. ValueError
    when there is none."""
    return json.loads(stdout[stdout.index("{") :])


# Lines every qgis_process.bin call prints on stderr that say nothing about the run.
NOISE = ("QStandardPaths: XDG_RUNTIME_DIR", "DeprecationWarning: setapi()")


def _tail(text: str, lines: int = 12) -> str:
    kept = [
        line
        for line in text.splitlines()
        if line.strip() and not any(noise in line for noise in NOISE)
    ]
    return "\n".join(kept[-lines:]) or "(no output)"


class QgisProcess:
    """``qgis_process.bin`` with a throw-away profile and this checkout as the plugin path."""

    def __init__(self, profile: Path):
        self.env = environment(profile)

    def call(self, step: str, *args: str) -> str:
        """Run ``qgis_process.bin *args``; its stdout, or StepFailed naming ``step``."""
        try:
            done = subprocess.run(
                [QGIS_PROCESS, *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=CALL_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise StepFailed(step, f"{QGIS_PROCESS} is not installed (run `make setup`)") from None
        except subprocess.TimeoutExpired:
            raise StepFailed(step, f"no result within {CALL_TIMEOUT_S} s") from None
        if done.returncode != 0:
            raise StepFailed(
                step,
                f"qgis_process.bin {args[0] if args[0] != '--json' else 'run'} exited with "
                f"{done.returncode}:\n{_tail(done.stdout + chr(10) + done.stderr)}",
            )
        return done.stdout

    def enable_plugin(self) -> None:
        out = self.call("enable plugin", *enable_command()[1:])
        if f"Enabled {PLUGIN}" not in out:
            raise StepFailed("enable plugin", f"{PLUGIN} was not enabled:\n{_tail(out)}")

    def run(self, step: str, algorithm: str, parameters: dict[str, Any]) -> dict[str, Any]:
        """``qgis_process.bin --json run mineeco:<algorithm> -- KEY=value ...`` → ``results``."""
        out = self.call(step, *run_arguments(algorithm, parameters))
        try:
            return json_answer(out)["results"]
        except (ValueError, KeyError) as error:
            raise StepFailed(step, f"no JSON results from qgis_process ({error})") from None


def standalone(run_step: Callable, title: str, out_dir: Path | None = None) -> int:
    """Run one demo step on its own (``python scripts/demo_<topic>.py``): enable the plugin in
    a throw-away profile, call ``run_step(run_algorithm, fetch, out_dir)`` and list what it
    wrote."""
    import fetch_data

    out_dir = Path(out_dir or REPO_ROOT / "demo-output")
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mineeco-demo-") as profile:
        qgis = QgisProcess(Path(profile))
        try:
            qgis.enable_plugin()

            def run_algorithm(algorithm_id: str, **parameters: Any) -> dict[str, Any]:
                return qgis.run(algorithm_id, algorithm_id, parameters)

            rasters = run_step(run_algorithm, fetch_data.fetch, out_dir)
        except fetch_data.DataUnavailable as reason:
            print(f"sample data unavailable: {reason}", file=sys.stderr)
            return 2
        except StepFailed as error:
            print(f"{title}: {error}", file=sys.stderr)
            return 1
    print(f"{title}: {len(rasters)} raster(s) in {time.perf_counter() - started:.1f} s")
    for label, path in rasters.items():
        print(f"  {label}: {path}")
    return 0

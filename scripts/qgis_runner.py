"""qgis_process.bin as the demo and its steps call it: a throw-away profile, this checkout as
the plugin folder, one JSON result per algorithm run, errors that name the step.

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
        self.env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "QGIS_CUSTOM_CONFIG_PATH": str(profile),
            "QGIS_PLUGINPATH": str(REPO_ROOT),
        }

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
        out = self.call("enable plugin", "plugins", "enable", PLUGIN)
        if f"Enabled {PLUGIN}" not in out:
            raise StepFailed("enable plugin", f"{PLUGIN} was not enabled:\n{_tail(out)}")

    def run(self, step: str, algorithm: str, parameters: dict[str, Any]) -> dict[str, Any]:
        """``qgis_process.bin --json run mineeco:<algorithm> -- KEY=value ...`` → ``results``."""
        args = ["--json", "run", f"{PROVIDER}:{algorithm}", "--"]
        for key, value in parameters.items():
            # A multiple-layer parameter: the key repeated once per layer (qgis_process 3.22).
            for item in value if isinstance(value, list | tuple) else [value]:
                args.append(f"{key}={item}")
        out = self.call(step, *args)
        # Other plugins may print before the JSON document.
        try:
            document = json.loads(out[out.index("{") :])
            return document["results"]
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

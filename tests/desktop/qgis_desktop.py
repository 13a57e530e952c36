"""Real QGIS under Xvfb for the desktop tests: a profile with the plugin enabled, and QGIS
started with a script that drives its dialogs (``qgis --code``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

#: The desktop tests skip, with the reason, only when Xvfb or QGIS is missing
#: (scripts/setup_env.sh installs both).
NEEDS_DESKTOP = pytest.mark.skipif(
    not (shutil.which("xvfb-run") and shutil.which("qgis")),
    reason="needs Debian's xvfb (xvfb-run) and qgis",
)


def plugin_profile(profiles: Path) -> Path:
    """The default profile under ``profiles`` with the plugin enabled; returns its folder."""
    profile = profiles / "profiles" / "default"
    (profile / "QGIS").mkdir(parents=True, exist_ok=True)
    (profile / "QGIS" / "QGIS3.ini").write_text("[PythonPlugins]\nmine_eco_plugin=true\n")
    return profile


def run_qgis(
    profiles: Path, script: Path, env: dict[str, str | None], timeout: float
) -> subprocess.CompletedProcess:
    """QGIS on a 1600 × 1000 virtual screen with the profiles of ``profiles``, running
    ``script`` at start. ``env`` is added to this process's environment (a None value removes
    the variable); QT_QPA_PLATFORM is removed: QGIS gets a real (virtual) display."""
    environment = {**os.environ, "QT_QPA_PLATFORM": None, **env}
    environment = {key: value for key, value in environment.items() if value is not None}
    command = [
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1600x1000x24",
        "qgis",
        "--profiles-path",
        str(profiles),
        "--nologo",
        "--noversioncheck",
        "--code",
        str(script),
    ]
    # A session of its own: on a timeout the whole of it (xvfb-run, Xvfb, QGIS) is ended, not
    # only xvfb-run (QGIS would keep running, e.g. in front of a modal box).
    with subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            end_session(process)
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def run_cases(
    profiles: Path, script: Path, cases, timeout: float, **env: str
) -> tuple[subprocess.CompletedProcess, dict]:
    """A driver ``script`` (modal_box_run.py, …) run in QGIS with this checkout's plugin
    enabled (plugin_profile under ``profiles``) on ``cases`` (MINE_ECO_DESKTOP_CASES, as JSON),
    ``env`` added: the finished QGIS and the report the driver wrote
    (MINE_ECO_DESKTOP_REPORT, ``profiles``/report.json), which must exist."""
    plugin_profile(profiles)
    report = profiles / "report.json"
    environment = {
        "QGIS_PLUGINPATH": str(Path(__file__).resolve().parents[2]),
        "MINE_ECO_DESKTOP_CASES": json.dumps(cases),
        "MINE_ECO_DESKTOP_REPORT": str(report),
        **env,
    }
    done = run_qgis(profiles, script, environment, timeout=timeout)
    assert report.exists(), f"QGIS did not report ({done.returncode}):\n{done.stderr[-3000:]}"
    return done, json.loads(report.read_text())


def end_session(process: subprocess.Popen) -> None:
    """Ends the session of ``process``: SIGTERM (xvfb-run then stops its Xvfb), SIGKILL to
    what is left after 5 s."""
    for signal_number, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, signal_number)
        except ProcessLookupError:
            break
        try:
            process.communicate(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue

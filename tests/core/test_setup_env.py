"""scripts/setup_env.sh on Debian 12 and 13: peers a release lacks are skipped with the reason,
and the venv keeps the system's numpy through a generated constraint (no fixed numpy pin).

apt-get, apt-cache and dpkg-query are replaced by stubs on PATH (nothing is installed); the
venv's interpreter is a stub that records pip's arguments and answers imports through the real
/usr/bin/python3, whose numpy the constraint must name.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYS_PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(
    subprocess.run(
        [SYS_PYTHON, "-c", "import qgis.core, osgeo.gdal, numpy"], capture_output=True
    ).returncode
    != 0,
    reason="the system interpreter cannot import qgis, osgeo and numpy",
)

STUBS = {
    # Installed unless listed in $STUB_MISSING.
    "dpkg-query": """#!/bin/sh
for pkg; do :; done
case " $STUB_MISSING " in *" $pkg "*) exit 1;; esac
printf 'install ok installed'
""",
    # A candidate unless listed in $STUB_UNAVAILABLE.
    "apt-cache": """#!/bin/sh
pkg=$2
echo "$pkg:"
case " $STUB_UNAVAILABLE " in
*" $pkg "*) echo "  Candidate: (none)";;
*) echo "  Candidate: 1.0-1";;
esac
""",
    "apt-get": """#!/bin/sh
echo "apt-get $*" >>"$STUB_LOG"
""",
    "sudo": """#!/bin/sh
exec "$@"
""",
}

VENV_PYTHON = """#!/bin/sh
case "$1" in
-VV) echo "Python (venv stub)";;
-m) echo "$*" >>"$STUB_LOG";;
-c) exec /usr/bin/python3 "$@";;
esac
"""


def _run(tmp_path, *args, missing="", unavailable=""):
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "bin" / "python").write_text(VENV_PYTHON)
    (venv / "bin" / "python").chmod(0o755)
    log = tmp_path / "calls.log"
    log.write_text("")
    env = {
        **os.environ,
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "VENV": str(venv),
        "STUB_LOG": str(log),
        "STUB_MISSING": missing,
        "STUB_UNAVAILABLE": unavailable,
    }
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup_env.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, log.read_text().splitlines(), venv


def test_a_peer_the_release_lacks_is_skipped_with_the_reason(tmp_path):
    done, calls, _ = _run(
        tmp_path, "--peers", missing="grass-core r-cran-gstat", unavailable="r-cran-gstat"
    )
    assert done.returncode == 0, done.stderr
    assert "skipping peer r-cran-gstat: not available on" in done.stdout
    apt = [c for c in calls if c.startswith("apt-get")]
    # grass-core can be installed: the lists are refreshed once and only it is installed.
    assert apt == [
        "apt-get update",
        "apt-get install -y --no-install-recommends grass-core",
    ]


def test_only_a_missing_unavailable_peer_needs_no_apt_get(tmp_path):
    done, calls, _ = _run(tmp_path, "--peers", missing="r-cran-gstat", unavailable="r-cran-gstat")
    assert done.returncode == 0, done.stderr
    assert "skipping peer r-cran-gstat" in done.stdout
    assert not [c for c in calls if c.startswith("apt-get")]


def test_without_peers_nothing_is_installed_on_a_ready_machine(tmp_path):
    done, calls, _ = _run(tmp_path, unavailable="r-cran-gstat")
    assert done.returncode == 0, done.stderr
    assert "skipping" not in done.stdout
    assert not [c for c in calls if c.startswith("apt-get")]


def test_the_venv_is_constrained_to_the_system_numpy(tmp_path):
    system_numpy = subprocess.run(
        [SYS_PYTHON, "-c", "import numpy; print(numpy.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    done, calls, venv = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    constraints = venv / "constraints.txt"
    assert f"numpy=={system_numpy}" in constraints.read_text().splitlines()
    pip = [c for c in calls if c.startswith("-m pip install")]
    assert pip == [
        f"-m pip install --disable-pip-version-check -r requirements-dev.txt -c {constraints}"
    ]
    # requirements-dev.txt pins no numpy itself (the major version differs by release).
    requirements = (REPO / "requirements-dev.txt").read_text().splitlines()
    assert not [r for r in requirements if r.strip().lower().startswith("numpy")]
    # A second run finds the venv up to date: pip is not called again.
    done, calls, _ = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "is up to date" in done.stdout
    assert not [c for c in calls if "pip" in c]

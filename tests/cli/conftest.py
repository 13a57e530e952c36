"""qgis_process fixtures: the checkout loaded as a plugin in a throw-away QGIS profile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Debian's /usr/bin/qgis_process wrapper passes --noversioncheck, which 3.22 rejects.
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"


class QgisProcess:
    def __init__(self, profile: Path):
        self.env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "QGIS_CUSTOM_CONFIG_PATH": str(profile),
            "QGIS_PLUGINPATH": str(REPO_ROOT),
        }

    def call(self, *args, check=True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [QGIS_PROCESS, *args], env=self.env, capture_output=True, text=True, timeout=600
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"qgis_process {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done

    def run(self, algorithm: str, check=True, **parameters) -> dict:
        """``qgis_process --json run mineeco:<algorithm> -- KEY=value …`` → the parsed JSON."""
        args = ["--json", "run", f"mineeco:{algorithm}", "--"]
        args += [f"{key}={value}" for key, value in parameters.items()]
        done = self.call(*args, check=check)
        if not check and done.returncode != 0:
            return {"returncode": done.returncode, "output": done.stdout + done.stderr}
        # Other plugins may print before the JSON document.
        return json.loads(done.stdout[done.stdout.index("{") :])


@pytest.fixture(scope="session")
def qgis_process(tmp_path_factory):
    if not Path(QGIS_PROCESS).exists():
        pytest.skip("qgis_process.bin is not installed")
    tool = QgisProcess(tmp_path_factory.mktemp("qgis-profile"))
    tool.call("plugins", "enable", "mine_eco_plugin")
    return tool


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/cli/" in str(item.fspath):
            item.add_marker(pytest.mark.cli)

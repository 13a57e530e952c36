"""qgis_process fixtures: the checkout loaded as a plugin in a throw-away QGIS profile, called
the way scripts/qgis_runner.py calls it for the demo and the benchmarks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "scripts"))

import qgis_runner  # noqa: E402

QGIS_PROCESS = qgis_runner.QGIS_PROCESS


class QgisProcess:
    def __init__(self, profile: Path):
        self.env = qgis_runner.environment(profile)

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
        done = self.call(*qgis_runner.run_arguments(algorithm, parameters), check=check)
        if not check and done.returncode != 0:
            return {"returncode": done.returncode, "output": done.stdout + done.stderr}
        return qgis_runner.json_answer(done.stdout)


@pytest.fixture(scope="session")
def qgis_process(tmp_path_factory):
    if not Path(QGIS_PROCESS).exists():
        pytest.skip("qgis_process.bin is not installed")
    tool = QgisProcess(tmp_path_factory.mktemp("qgis-profile"))
    tool.call(*qgis_runner.enable_command()[1:])
    return tool


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/cli/" in str(item.fspath):
            item.add_marker(pytest.mark.cli)

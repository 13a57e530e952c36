"""QGIS desktop under Xvfb with the plugin installed from the `make package` zip: the Toolbox
shows the Mine Eco groups, an algorithm dialog opens, and a screenshot is saved."""

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(
    not (shutil.which("xvfb-run") and shutil.which("qgis")),
    reason="needs Debian's xvfb (xvfb-run) and qgis",
)


@pytest.fixture(scope="module")
def package():
    done = subprocess.run(["make", "-s", "package"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    zips = sorted((REPO / "dist").glob("mine_eco_plugin-*.zip"), key=os.path.getmtime)
    return zips[-1]


def test_zip_installs_into_a_clean_profile_and_the_toolbox_shows_the_provider(package, tmp_path):
    profile = tmp_path / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        assert all(name.startswith("mine_eco_plugin/") for name in names)
        assert "mine_eco_plugin/metadata.txt" in names
        assert not any("__pycache__" in name or "/tests/" in name for name in names)
        archive.extractall(plugins)
    installed = plugins / "mine_eco_plugin"
    assert not (installed / "metadata.txt").is_symlink()  # a real copy, not the repo's link
    (profile / "QGIS").mkdir()
    (profile / "QGIS" / "QGIS3.ini").write_text("[PythonPlugins]\nmine_eco_plugin=true\n")
    report, shot = tmp_path / "report.json", tmp_path / "toolbox.png"
    env = {
        **os.environ,
        "MINE_ECO_SMOKE_REPORT": str(report),
        "MINE_ECO_SMOKE_SHOT": str(shot),
        "QGIS_PLUGINPATH": "",
        "PYTHONPATH": "",
    }
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1600x1000x24",
            "qgis",
            "--profiles-path",
            str(tmp_path),
            "--nologo",
            "--noversioncheck",
            "--code",
            str(HERE / "qgis_startup.py"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert report.exists(), f"QGIS did not report ({done.returncode}):\n{done.stderr[-3000:]}"
    result = json.loads(report.read_text())
    assert result["errors"] == []
    assert result["provider"] == "Mine Eco"
    assert "mineeco:ndvi" in result["algorithms"] and "mineeco:lst" in result["algorithms"]
    assert {"Preparation", "Spectral indices"} <= set(result["groups"])
    assert result["dialog"] is True
    assert result["screenshot"] is True and shot.stat().st_size > 10_000
    keep = os.environ.get("MINE_ECO_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)

"""qgis_desktop.run_qgis: a QGIS that does not quit before the timeout is ended with its
virtual display, not left running (it would hold a core of the machine)."""

import subprocess
import time
from pathlib import Path

import pytest
from qgis_desktop import NEEDS_DESKTOP, plugin_profile, run_qgis

pytestmark = NEEDS_DESKTOP


def processes_mentioning(text: str) -> list[str]:
    """Command lines of the running processes that contain ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        if text in line:
            found.append(line)
    return found


def test_a_qgis_that_does_not_quit_is_ended_at_the_timeout(tmp_path):
    script = tmp_path / "stay.py"
    script.write_text("# QGIS stays open: nothing quits it\n")
    plugin_profile(tmp_path)
    start = time.time()
    with pytest.raises(subprocess.TimeoutExpired):
        run_qgis(tmp_path, script, {"QGIS_PLUGINPATH": ""}, timeout=15)
    # The timeout, then SIGTERM to the session (and SIGKILL 5 s later if needed).
    assert time.time() - start < 15 + 12
    time.sleep(1)
    assert processes_mentioning(str(tmp_path)) == []

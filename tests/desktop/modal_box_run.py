"""Run inside QGIS desktop (qgis --code): qgis_dialogs.run_dialog (the desktop test's own
driver, imported) on inputs a dialog refuses, then a message box shown with exec(), and a
JSON report of what the driver recorded; then QGIS quits.

Environment: those of qgis_dialogs.py, and MINE_ECO_DESKTOP_CASES (JSON {algorithm id:
parameters}).
"""

import json
import os
import sys
import time
import traceback

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QMessageBox

sys.path.insert(0, os.environ["MINE_ECO_DESKTOP_TESTS"])
import qgis_dialogs  # noqa: E402 (imported, its main() does not run; its box watcher does)

CASES = json.loads(os.environ["MINE_ECO_DESKTOP_CASES"])


def run():
    result = {"runs": {}, "errors": []}
    try:
        registry = QgsApplication.processingRegistry()
        for algorithm_id, parameters in CASES.items():
            qgis_dialogs.current["id"] = algorithm_id
            result["runs"][algorithm_id] = qgis_dialogs.run_dialog(
                registry.algorithmById(algorithm_id), parameters
            )
        qgis_dialogs.current["id"] = "exec"
        box = QMessageBox(QMessageBox.Icon.Warning, "A box", "Shown with exec()")
        start = time.time()
        box.exec()  # returns once the watcher has closed it
        result["exec_seconds"] = round(time.time() - start, 2)
    except Exception:  # noqa: BLE001 (reported to the test)
        result["errors"].append(traceback.format_exc())
    result["boxes"] = qgis_dialogs.report["boxes"]
    with open(qgis_dialogs.REPORT, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    qgis_dialogs.quit_qgis()


QTimer.singleShot(3000, run)

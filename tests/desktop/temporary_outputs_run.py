"""Run inside QGIS desktop (qgis --code): run algorithm dialogs with every output left at
"[Create temporary layer]" and report each run's log and the layers Processing loaded.

MINE_ECO_DESKTOP_CASES: JSON {algorithm id: input parameters}; MINE_ECO_DESKTOP_REPORT: the
JSON report written before QGIS quits.
"""

import json
import os
import time
import traceback

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QTextEdit

CASES = json.loads(os.environ["MINE_ECO_DESKTOP_CASES"])
REPORT = os.environ["MINE_ECO_DESKTOP_REPORT"]


def run_dialogs():
    report = {"errors": [], "runs": {}}
    try:
        import processing

        for algorithm, parameters in CASES.items():
            before = set(QgsProject.instance().mapLayers())
            dialog = processing.createAlgorithmDialog(algorithm, parameters)
            dialog.show()
            dialog.runAlgorithm()
            started = time.monotonic()
            while time.monotonic() - started < 120:
                QgsApplication.processEvents()
                if time.monotonic() - started > 1 and not dialog.cancelButton().isEnabled():
                    break
                time.sleep(0.05)
            for _ in range(20):  # let Processing load the results
                QgsApplication.processEvents()
                time.sleep(0.05)
            log = "\n".join(w.toPlainText() for w in dialog.findChildren(QTextEdit))
            layers = QgsProject.instance().mapLayers()
            report["runs"][algorithm] = {
                "log": log,
                "loaded": [layers[i].source() for i in set(layers) - before],
                # Checked here: QGIS deletes its temporary folder when it quits.
                "exist": [os.path.isfile(layers[i].source()) for i in set(layers) - before],
            }
            dialog.close()
    except Exception:  # noqa: BLE001 (reported to the test)
        report["errors"].append(traceback.format_exc())
    with open(REPORT, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    QTimer.singleShot(500, QgsApplication.instance().quit)


QTimer.singleShot(3000, run_dialogs)

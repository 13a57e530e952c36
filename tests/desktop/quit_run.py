"""Run inside QGIS desktop (qgis --code): load Mine Eco outputs styled by the plugin's layer
post-processors (processing.runAndLoadResults, as a dialog loads them), make the bottom layer
the active one, then quit as a user does: close the main window (Project ▸ Exit, the window's
close button), answering QGIS's questions as a user (answer_as_user).

QGIS 3.22 crashes (signal 11 in QgisApp::setMapStyleDockLayer) when QgsApplication.quit() is
called with two or more layers loaded and the active layer is not the last one removed, with or
without this plugin: ~QgisApp destroys the project after its docks, and the project's removal of
layers makes another layer active. Closing the main window closes the project first.

MINE_ECO_DESKTOP_CASES: JSON [[algorithm id, parameters], …]; MINE_ECO_DESKTOP_REPORT: the JSON
report, written before the window closes.
"""

import json
import os
import time
import traceback

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QMessageBox
from qgis.utils import iface

CASES = json.loads(os.environ["MINE_ECO_DESKTOP_CASES"])
REPORT = os.environ["MINE_ECO_DESKTOP_REPORT"]
report = {"errors": []}


def answer_as_user():
    """The user's answers to QGIS's questions on closing: "Yes" to "This project includes one
    or more temporary layers … Are you sure you want to proceed?", "Discard" to "Do you want to
    save the current project?". Each question is written to REPORT.boxes."""
    box = QApplication.activeModalWidget()
    if not isinstance(box, QMessageBox):
        return
    for answer in (QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Discard):
        if box.button(answer) is not None:
            with open(REPORT + ".boxes", "a", encoding="utf-8") as handle:
                handle.write(box.text().replace("\n", " ") + "\n")
            box.button(answer).click()
            return


def wait(seconds):
    end = time.time() + seconds
    while time.time() < end:
        QgsApplication.processEvents()
        time.sleep(0.02)


def run():
    try:
        import processing

        for algorithm, parameters in CASES:
            processing.runAndLoadResults(algorithm, dict(parameters))
            wait(0.3)
        nodes = QgsProject.instance().layerTreeRoot().findLayers()
        iface.setActiveLayer(nodes[-1].layer())  # the bottom one: the first loaded
        wait(0.5)
        report["layers"] = [
            {"name": node.layer().name(), "renderer": node.layer().renderer().type()}
            for node in nodes
        ]
        report["active"] = iface.activeLayer().name()
        report["plugins"] = sorted(__import__("qgis.utils").utils.active_plugins)
    except Exception:  # noqa: BLE001 (reported to the test)
        report["errors"].append(traceback.format_exc())
    with open(REPORT, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    iface.mainWindow().close()


WATCH = QTimer()
WATCH.timeout.connect(answer_as_user)
WATCH.start(200)
QTimer.singleShot(3000, run)

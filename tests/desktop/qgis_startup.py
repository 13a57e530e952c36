"""Run inside QGIS desktop (qgis --code): wait for the plugins, show the Processing Toolbox
filtered to Mine Eco, open one algorithm dialog, save a screenshot and a JSON report, quit.

Paths come from the environment: MINE_ECO_SMOKE_REPORT (JSON), MINE_ECO_SMOKE_SHOT (PNG).
"""

import json
import os
import traceback

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QDockWidget
from qgis.utils import iface

REPORT = os.environ["MINE_ECO_SMOKE_REPORT"]
SHOT = os.environ["MINE_ECO_SMOKE_SHOT"]
state = {"dialog": None}


def finish(report):
    with open(REPORT, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    QTimer.singleShot(500, QgsApplication.instance().quit)


def open_toolbox_and_dialog():
    report = {"errors": []}
    try:
        provider = QgsApplication.processingRegistry().providerById("mineeco")
        report["provider"] = None if provider is None else provider.name()
        report["algorithms"] = sorted(a.id() for a in provider.algorithms()) if provider else []
        report["groups"] = sorted({a.group() for a in provider.algorithms()}) if provider else []
        toolbox = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
        if toolbox is not None:
            toolbox.show()
            toolbox.raise_()
            toolbox.searchBox.setText("Mine Eco")
        from processing import createAlgorithmDialog

        dialog = createAlgorithmDialog("mineeco:ndvi")
        report["dialog"] = dialog is not None
        if dialog is not None:
            state["dialog"] = dialog
            dialog.show()
    except Exception:  # noqa: BLE001 (reported to the test)
        report["errors"].append(traceback.format_exc())
    QTimer.singleShot(2500, lambda: screenshot(report))


def screenshot(report):
    try:
        QApplication.processEvents()
        image = QApplication.primaryScreen().grabWindow(0)
        report["screenshot"] = bool(image.save(SHOT, "PNG"))
    except Exception:  # noqa: BLE001
        report["errors"].append(traceback.format_exc())
    if state["dialog"] is not None:
        state["dialog"].close()
    finish(report)


QTimer.singleShot(4000, open_toolbox_and_dialog)

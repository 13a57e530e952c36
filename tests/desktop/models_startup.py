"""Run inside QGIS desktop (qgis --code): both workflow models from their dialogs, then in the
Graphical Modeler; writes a JSON report and screenshots, then quits.

Environment: MINE_ECO_MODELS_CASES (JSON: [{"id": …, "parameters": {…}}]), MINE_ECO_MODELS_REPORT
(JSON written here), MINE_ECO_MODELS_SHOTS (folder of the screenshots).
"""

import json
import os
import time
import traceback
from pathlib import Path

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProject,
)
from qgis.PyQt.QtCore import QRectF, QTimer
from qgis.PyQt.QtGui import QColor, QImage, QPainter
from qgis.PyQt.QtWidgets import QApplication, QTextEdit

CASES = json.loads(Path(os.environ["MINE_ECO_MODELS_CASES"]).read_text())
REPORT = os.environ["MINE_ECO_MODELS_REPORT"]
SHOTS = Path(os.environ["MINE_ECO_MODELS_SHOTS"])
report = {"errors": [], "runs": {}, "modeler": {}, "messages": []}
state = {"case": 0, "dialog": None, "started": 0.0, "layers": set()}


def log_message(message, tag, level):
    if level >= Qgis.MessageLevel.Warning or "python" in tag.lower():
        report["messages"].append({"tag": tag, "level": int(level), "text": message[:2000]})


QgsApplication.messageLog().messageReceived.connect(log_message)


def finish():
    Path(REPORT).write_text(json.dumps(report, indent=1), encoding="utf-8")
    QTimer.singleShot(300, QgsApplication.instance().quit)


def guarded(step):
    def run():
        try:
            step()
        except Exception:  # noqa: BLE001 (reported to the test)
            report["errors"].append(traceback.format_exc())
            finish()

    return run


def next_case():
    if state["case"] >= len(CASES):
        QTimer.singleShot(100, guarded(modeler_shots))
        return
    from processing import createAlgorithmDialog

    case = CASES[state["case"]]
    algorithm = QgsApplication.processingRegistry().algorithmById(f"mineeco:{case['id']}")
    state["layers"] = set(QgsProject.instance().mapLayers())
    dialog = createAlgorithmDialog(f"mineeco:{case['id']}", case["parameters"])
    shown = dialog.algorithm()  # the instance the dialog runs

    def visible(definition):
        return not int(definition.flags()) & int(definition.FlagHidden)

    report["runs"][case["id"]] = {
        "display_name": algorithm.displayName(),
        "group": [algorithm.group(), algorithm.groupId()],
        "inputs": [
            d.name() for d in shown.parameterDefinitions() if not d.isDestination() and visible(d)
        ],
        "outputs_in_dialog": [
            d.name() for d in shown.destinationParameterDefinitions() if visible(d)
        ],
    }
    state["dialog"] = dialog
    dialog.show()
    QApplication.processEvents()
    dialog.grab().save(str(SHOTS / f"dialog_{case['id']}.png"))
    state["started"] = time.monotonic()
    dialog.runAlgorithm()
    QTimer.singleShot(500, guarded(poll))


def log_text(dialog):
    """The text of the dialog's Log tab (its longest text widget)."""
    return max((w.toPlainText() for w in dialog.findChildren(QTextEdit)), key=len, default="")


def poll():
    dialog = state["dialog"]
    case = CASES[state["case"]]
    run = report["runs"][case["id"]]
    text = log_text(dialog)
    done = any(
        marker in text
        for marker in ("Execution completed in", "Execution failed after", "Error encountered")
    ) or ("Results:" in text and not dialog.cancelButton().isEnabled())
    if not done and time.monotonic() - state["started"] < 600:
        QTimer.singleShot(500, guarded(poll))
        return
    # Let the dialog load the layers (it does so after the log line).
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.05)
    run["seconds"] = round(time.monotonic() - state["started"], 1)
    run["log"] = log_text(dialog)
    run["results"] = {k: str(v) for k, v in (dialog.results() or {}).items()}
    new = [
        layer
        for layer_id, layer in QgsProject.instance().mapLayers().items()
        if layer_id not in state["layers"]
    ]
    run["layers"] = sorted(layer.name() for layer in new)
    dialog.close()
    state["case"] += 1
    QTimer.singleShot(200, guarded(next_case))


def overlaps(scene):
    """Pairs of component boxes (steps, inputs, outputs, with their labels) that overlap."""
    from qgis.gui import QgsModelComponentGraphicItem

    items = [i for i in scene.items() if isinstance(i, QgsModelComponentGraphicItem)]
    found = []
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            first, second = items[a], items[b]
            if first.sceneBoundingRect().intersects(second.sceneBoundingRect()):
                found.append(
                    [
                        [first.label(), *first.sceneBoundingRect().getRect()],
                        [second.label(), *second.sceneBoundingRect().getRect()],
                    ]
                )
    return len(items), found


def modeler_shots():
    from processing.modeler.ModelerDialog import ModelerDialog

    for case in CASES:
        if "path" not in case:
            continue  # an algorithm that runs a model, not a model file
        model = QgsProcessingModelAlgorithm()
        model.fromFile(case["path"])
        dialog = ModelerDialog.create(model)
        dialog.resize(1600, 1000)
        dialog.show()
        for _ in range(10):
            QApplication.processEvents()
            time.sleep(0.05)
        scene = dialog.view().scene()
        count, found = overlaps(scene)
        report["modeler"][case["id"]] = {"components": count, "overlaps": found}
        rect = scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
        image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        painter.end()
        image.save(str(SHOTS / f"modeler_{case['id']}.png"))
        report["modeler"][case["id"]]["size"] = [image.width(), image.height()]
        dialog.hide()
    finish()


QTimer.singleShot(4000, guarded(next_case))

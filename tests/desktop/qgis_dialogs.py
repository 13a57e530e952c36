"""Run inside QGIS desktop (qgis --code): every Mine Eco algorithm from its dialog, as a user's
first run (only the mandatory inputs set, every output at its default), then a screenshot of a
styled class layer, the plugin disabled and enabled again, and QGIS quit.

For each algorithm the JSON report records the dialog's log, whether the run finished, the
layers Processing loaded (renderer, bands, legend), any Python exception or critical log
message, and the text of any modal box (closed at once: the run then fails in seconds).

Environment: MINE_ECO_DESKTOP_REPORT (JSON), MINE_ECO_DESKTOP_WORK (a folder for the inputs and
inputs.json, each algorithm's parameters, written by the test), MINE_ECO_DESKTOP_SHOT (PNG of the
map canvas and legend), MINE_ECO_DESKTOP_TOOLBOX_SHOT (PNG of the Toolbox filtered to Mine Eco);
MINE_ECO_DESKTOP_ONLY (comma-separated ids) runs only some algorithms.
"""

import json
import os
import sys
import time
import traceback

import qgis.utils
from qgis.core import (
    Qgis,
    QgsApplication,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsProcessingModelAlgorithm,
    QgsProject,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QEventLoop, QModelIndex, QTimer
from qgis.PyQt.QtWidgets import QApplication, QDialog, QDockWidget, QLabel, QMessageBox, QTextEdit
from qgis.utils import iface

REPORT = os.environ["MINE_ECO_DESKTOP_REPORT"]
WORK = os.environ["MINE_ECO_DESKTOP_WORK"]
SHOT = os.environ["MINE_ECO_DESKTOP_SHOT"]
TOOLBOX_SHOT = os.environ["MINE_ECO_DESKTOP_TOOLBOX_SHOT"]
#: The class layer of the screenshot: (algorithm id, output parameter id).
SHOT_LAYER = ("classify_index", "OUTPUT")
TIMEOUT_S = 240

report = {"algorithms": {}, "exceptions": [], "messages": [], "boxes": []}
#: Algorithms that run a whole model (on real scenes): run from their dialogs with the models,
#: in test_models_desktop.py.
WORKFLOWS = {"resilience_scenes"}
current = {"id": None}


def record_exception(kind, value, trace, *args, **kwargs):
    """Stands in for QGIS's Python error dialog; also written at once to REPORT.exceptions
    (JSON lines), which catches the exceptions raised while QGIS quits."""
    entry = {
        "algorithm": current["id"],
        "text": "".join(traceback.format_exception(kind, value, trace)),
    }
    report["exceptions"].append(entry)
    with open(REPORT + ".exceptions", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def close_modal_widget():
    """Stands in for the user in front of any modal widget (QMessageBox.warning/question/
    critical, a box shown with exec(), Processing's own dialogs), which would block the run
    until the test's timeout: records its title and text in REPORT.boxes and closes it (a
    question's answer is then its escape button, "No" or "Cancel"). Polled by MODAL_WATCH."""
    widget = QApplication.activeModalWidget()
    if widget is None:
        return
    if isinstance(widget, QMessageBox):
        texts = [widget.windowTitle(), widget.text(), widget.informativeText()]
    else:
        texts = [widget.windowTitle(), *(label.text() for label in widget.findChildren(QLabel))]
    report["boxes"].append(
        {
            "algorithm": current["id"],
            "widget": type(widget).__name__,
            "text": " | ".join(text for text in texts if text),
        }
    )
    if isinstance(widget, QDialog):
        widget.reject()
    else:
        widget.close()


def record_message(message, tag, level):
    if level >= Qgis.MessageLevel.Warning and tag in ("Processing", "Python error", "Mine Eco"):
        report["messages"].append(
            {"algorithm": current["id"], "tag": tag, "level": int(level), "text": message}
        )


qgis.utils.showException = record_exception
sys.excepthook = record_exception
MODAL_WATCH = QTimer()
MODAL_WATCH.timeout.connect(close_modal_widget)
MODAL_WATCH.start(200)
QgsApplication.messageLog().messageReceived.connect(record_message)


def wait(seconds):
    loop_end = time.time() + seconds
    while time.time() < loop_end:
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def describe(layer):
    """What the Layers panel shows of ``layer``."""
    entry = {
        "name": layer.name(),
        "source": layer.source().split("|")[0],
        "parameter": os.path.splitext(os.path.basename(layer.source().split("|")[0]))[0],
        "type": "raster" if isinstance(layer, QgsRasterLayer) else "vector",
        "valid": layer.isValid(),
        "exists": os.path.exists(layer.source().split("|")[0]),
    }
    if isinstance(layer, QgsRasterLayer):
        renderer = layer.renderer()
        entry["renderer"] = renderer.type()
        entry["bands"] = layer.bandCount()
        entry["legend"] = [label for label, _ in renderer.legendSymbologyItems()]
        if isinstance(renderer, QgsPalettedRasterRenderer):
            entry["codes"] = [int(c.value) for c in renderer.classes()]
        if isinstance(renderer, QgsMultiBandColorRenderer):
            entry["rgb"] = [renderer.redBand(), renderer.greenBand(), renderer.blueBand()]
            entry["alpha"] = renderer.alphaBand()
        enhancement = getattr(renderer, "contrastEnhancement", lambda: None)()
        if enhancement is not None:
            entry["stretch"] = [enhancement.minimumValue(), enhancement.maximumValue()]
    else:
        entry["features"] = layer.featureCount()
    return entry


def run_dialog(algorithm, parameters):
    from processing import createAlgorithmDialog

    result = {"parameters": sorted(parameters), "finished": False}
    before = set(QgsProject.instance().mapLayers())
    boxes = len(report["boxes"])
    start = time.time()
    dialog = createAlgorithmDialog(algorithm.id(), parameters)
    dialog.show()
    wait(0.2)
    finished = []
    dialog.algorithmFinished.connect(lambda ok, results: finished.append(ok))
    dialog.runAlgorithm()
    log = dialog.findChild(QTextEdit, "txtLog")
    while time.time() - start < TIMEOUT_S:
        wait(0.1)
        if finished or dialog.feedback is None:  # on_complete ends with feedback = None
            break
        if dialog.messageBar().items():  # a parameter refused before the run
            break
        if len(report["boxes"]) > boxes:  # a modal box (e.g. the dialog's input check failed)
            break
    result["seconds"] = round(time.time() - start, 2)
    result["finished"] = bool(finished) and finished[0]
    result["log"] = log.toPlainText() if log is not None else ""
    result["message_bar"] = [item.text() for item in dialog.messageBar().items()]
    result["boxes"] = [box["text"] for box in report["boxes"][boxes:]]
    result["layers"] = [
        describe(layer)
        for key, layer in QgsProject.instance().mapLayers().items()
        if key not in before
    ]
    dialog.close()
    dialog.deleteLater()
    return result


def screenshot():
    """The map canvas and the Layers panel showing the styled class layer."""
    wanted = report["algorithms"].get(SHOT_LAYER[0], {}).get("layers", [])
    layer_ids = [
        key
        for key, layer in QgsProject.instance().mapLayers().items()
        if any(
            entry["source"] == layer.source().split("|")[0] and entry["parameter"] == SHOT_LAYER[1]
            for entry in wanted
        )
    ]
    root = QgsProject.instance().layerTreeRoot()
    for node in root.findLayers():  # the class layer alone, expanded (it is on top: run last)
        node.setItemVisibilityChecked(node.layerId() in layer_ids)
        node.setExpanded(node.layerId() in layer_ids)
    for name in ("Browser", "ResultsViewer"):
        dock = iface.mainWindow().findChild(QDockWidget, name)
        if dock is not None:
            dock.hide()
    if layer_ids:
        canvas = iface.mapCanvas()
        canvas.setExtent(QgsProject.instance().mapLayer(layer_ids[0]).extent())
        canvas.refresh()
    window = iface.mainWindow()
    window.resize(1280, 720)
    wait(3)
    report["screenshot"] = bool(window.grab().save(SHOT, "PNG"))


def toolbox():
    """The Processing Toolbox filtered to Mine Eco (its algorithm ids start with "mineeco:"),
    every group open, undocked and tall enough to show every entry: saved as TOOLBOX_SHOT (the
    README's picture); report.toolbox_entries counts the entries it shows."""
    dock = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
    report["toolbox"] = dock is not None
    if dock is None:
        return
    dock.show()
    dock.raise_()
    dock.searchBox.setText("mineeco:")
    dock.setFloating(True)
    dock.resize(560, 1190)
    wait(1.5)
    tree = dock.algorithmTree
    tree.expandAll()
    tree.clearSelection()
    wait(0.5)

    def leaves(parent):
        rows = [tree.model().index(row, 0, parent) for row in range(tree.model().rowCount(parent))]
        return sum(leaves(index) if tree.model().hasChildren(index) else 1 for index in rows)

    report["toolbox_entries"] = leaves(QModelIndex())
    report["toolbox_screenshot"] = bool(dock.grab().save(TOOLBOX_SHOT, "PNG"))
    dock.searchBox.setText("")
    dock.setFloating(False)


def main():
    started = time.time()
    try:
        registry = QgsApplication.processingRegistry()
        provider = registry.providerById("mineeco")
        report["provider"] = None if provider is None else provider.name()
        report["groups"] = sorted({a.group() for a in provider.algorithms()})
        toolbox()
        with open(os.path.join(WORK, "inputs.json"), encoding="utf-8") as handle:
            specs = json.load(handle)
        algorithms = sorted(
            (
                a
                for a in provider.algorithms()
                if not isinstance(a, QgsProcessingModelAlgorithm) and a.name() not in WORKFLOWS
            ),
            key=lambda a: (a.name() == SHOT_LAYER[0], a.name()),  # its layer ends on top
        )
        report["entries"] = sorted(a.id() for a in provider.algorithms())
        only = [name for name in os.environ.get("MINE_ECO_DESKTOP_ONLY", "").split(",") if name]
        if only:  # a subset, when working on some algorithms
            algorithms = [a for a in algorithms if a.name() in only]
        for algorithm in algorithms:
            current["id"] = algorithm.name()
            if algorithm.name() not in specs:
                report["algorithms"][algorithm.name()] = {"error": "no inputs for this algorithm"}
                continue
            try:
                report["algorithms"][algorithm.name()] = run_dialog(
                    algorithm, specs[algorithm.name()]
                )
            except Exception:  # noqa: BLE001 (reported to the test)
                report["algorithms"][algorithm.name()] = {"error": traceback.format_exc()}
        current["id"] = "screenshot"
        screenshot()
        current["id"] = "disable and enable"
        report["unloaded"] = qgis.utils.unloadPlugin("mine_eco_plugin")
        report["provider_after_unload"] = registry.providerById("mineeco") is not None
        report["reloaded"] = qgis.utils.loadPlugin("mine_eco_plugin") and qgis.utils.startPlugin(
            "mine_eco_plugin"
        )
        report["provider_after_reload"] = registry.providerById("mineeco") is not None
        current["id"] = "quit"
    except Exception:  # noqa: BLE001
        report["exceptions"].append({"algorithm": current["id"], "text": traceback.format_exc()})
    report["seconds"] = round(time.time() - started, 1)
    with open(REPORT, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    quit_qgis()


def quit_qgis():
    """Quit as Project ▸ Exit does: close the project first. (QGIS 3.22 and 3.40 themselves,
    without this plugin too, crash in QgisApp::setMapStyleDockLayer when quit() is called with
    two or more layers loaded and the active one removed before another: see quit_run.py.)"""
    iface.newProject(False)
    QTimer.singleShot(200, QgsApplication.instance().quit)


if __name__ == "__main__":  # qgis --code; modal_box_run.py imports the module instead
    QTimer.singleShot(3000, main)

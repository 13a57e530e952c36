"""Runs Mine Eco algorithms in a fresh headless QGIS: ``python unprivileged_runner.py job.json``.

The job lists runs (``[[algorithm id, parameters], …]``, JSON); each is run with
processing.run and the answer, on stdout as JSON, maps every algorithm id to "ok" or its
error. tests/algorithms/test_inputs_untouched.py starts it as an unprivileged user, for whom
a folder of mode 0o555 is really read-only (root writes into it anyway).
"""

from __future__ import annotations

import json
import os
import sys

from qgis.core import QgsApplication, QgsProcessingFeedback


def main(job_path: str) -> int:
    runs = json.loads(open(job_path, encoding="utf-8").read())
    app = QgsApplication([], False)
    app.initQgis()
    plugins = os.path.join(app.pkgDataPath(), "python", "plugins")
    sys.path.append(plugins)
    import processing
    from processing.core.Processing import Processing

    from mine_eco_plugin.provider import MineEcoProvider

    Processing.initialize()
    provider = MineEcoProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    answers = {}
    for name, parameters in runs:
        try:
            processing.run(f"mineeco:{name}", parameters, feedback=QgsProcessingFeedback())
            answers[name] = "ok"
        except Exception as error:  # noqa: BLE001 (reported to the test, which fails on it)
            answers[name] = f"{type(error).__name__}: {error}"
    print(json.dumps(answers))
    sys.stdout.flush()
    os._exit(0)  # QGIS's exit after a Processing run can crash: the answer is out already


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""A Processing feedback that keeps what an algorithm tells its user, for tests to read."""

from qgis.core import QgsProcessingFeedback


class Recorder(QgsProcessingFeedback):
    """Keeps the log lines (``infos``), the warnings, the non-fatal errors and every progress
    value reported, and passes each on as QGIS's own feedback does."""

    def __init__(self):
        super().__init__()
        self.infos: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.progress: list[float] = []
        self.progressChanged.connect(self.progress.append)

    def pushInfo(self, text):
        self.infos.append(text)
        super().pushInfo(text)

    def pushWarning(self, text):
        self.warnings.append(text)
        super().pushWarning(text)

    def reportError(self, text, fatal=False):
        self.errors.append(text)
        super().reportError(text, fatal)

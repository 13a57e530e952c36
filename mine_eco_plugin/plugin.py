"""QGIS plugin entry: registers the Mine Eco Processing provider."""

from qgis.core import QgsApplication


class MineEcoPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):
        """Register the provider once (QGIS may call both initProcessing and initGui)."""
        if self.provider is not None:
            return
        from .provider import MineEcoProvider

        self.provider = MineEcoProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

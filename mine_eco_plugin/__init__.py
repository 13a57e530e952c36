"""Mine Eco: ecology of mining areas as QGIS Processing algorithms."""


def classFactory(iface):  # noqa: N802 (QGIS plugin entry point)
    from .plugin import MineEcoPlugin

    return MineEcoPlugin(iface)

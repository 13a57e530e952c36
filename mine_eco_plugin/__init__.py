"""Mine Eco: ecology of mining areas as QGIS Processing algorithms."""


def classFactory(iface):
    from .plugin import MineEcoPlugin

    return MineEcoPlugin(iface)

"""Facts about the plugin shared by the provider and the algorithms."""

from __future__ import annotations

import configparser
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES = PACKAGE_DIR / "resources"

PROVIDER_ID = "mineeco"
PROVIDER_NAME = "Mine Eco"
MEMORY_SETTING = "MINEECO_BLOCK_MEMORY_MB"

#: Group ids and names of the Processing Toolbox (SPEC.md).
GROUPS = {
    "preparation": "Preparation",
    "spectral": "Spectral indices",
    "erosion": "Soil erosion",
    "landscape": "Landscape",
    "evaluation": "Weighting & evaluation",
    "productivity": "Productivity",
    "drivers": "Drivers",
    "workflows": "Workflows",
}


@lru_cache(maxsize=1)
def plugin_version() -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PACKAGE_DIR / "metadata.txt", encoding="utf-8")
    return parser.get("general", "version", fallback="unknown")


def resource(*parts: str) -> Path:
    return RESOURCES.joinpath(*parts)


def icon():
    from qgis.PyQt.QtGui import QIcon

    return QIcon(str(resource("icons", "mineeco.svg")))

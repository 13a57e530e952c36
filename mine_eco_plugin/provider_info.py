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
#: The two studies whose methods Mine Eco implements, cited in full in one place; help texts
#: name them "the resilience study" and "the NPP-drivers study" and get the citation added to
#: their references (``study_citations``).
STUDIES = {
    "resilience study": (
        "Evaluation Study of Ecological Resilience in Southern Red Soil Mining Areas "
        "Considering Rare Earth Mining Process. Sustainability 2023, 15(3), 2258. "
        "doi:10.3390/su15032258 (the resilience study)."
    ),
    "NPP-drivers study": (
        "Tian, H.; Liu, S.; Zhu, W.; Zhang, J.; Zheng, Y.; Shi, J.; Bi, R. Deciphering the "
        "Drivers of Net Primary Productivity of Vegetation in Mining Areas. Remote Sens. 2022, "
        "14(17), 4177. doi:10.3390/rs14174177 (the NPP-drivers study)."
    ),
}


def study_citations(*texts: str) -> list[str]:
    """The full citation of every study that ``texts`` name ("the resilience study", "the
    NPP-drivers study"), in the order of STUDIES."""
    joined = " ".join(texts).lower()
    return [citation for name, citation in STUDIES.items() if name.lower() in joined]


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

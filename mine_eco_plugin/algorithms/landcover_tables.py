"""Land-cover classifications the shipped class tables are written for.

HAI, BAI, ECO and the RUSLE P factor look a value up per land-cover code. The plugin ships a
table for each of two Chinese classifications; the "Land-cover classification" parameter
chooses which one is used when no table of the user's own is given:

* CNLUCC — China's land-use/land-cover classification (Resource and Environment Science Data
  Center, CAS), second-level codes 11–67 (the P table also lists the first-level codes 1–6);
* CLCD — the China Land Cover Dataset (Yang & Huang 2021, Earth Syst. Sci. Data 13, 3907–3925),
  annual 30 m, classes 1–9: the land cover the resilience study used.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Enum option order of the CLASSIFICATION parameter (index → key).
CLASSIFICATIONS = ("CNLUCC", "CLCD")
CLASSIFICATION_OPTIONS = (
    "CNLUCC: China land use / land cover, codes 11–67",
    "CLCD: China Land Cover Dataset, codes 1–9",
)
CLASSIFICATION_HELP = (
    "Which classification the land cover uses, to choose the shipped class table when no "
    "table of your own is given: CNLUCC (second-level codes 11–67) or CLCD (the China Land "
    "Cover Dataset, classes 1–9, the land cover of the resilience study). A code of the land "
    "cover that the table lacks is an error that lists it."
)
CLCD_CODES = frozenset(range(1, 10))

#: Shipped tables (resources/tables/) per indicator and classification.
TABLES = {
    "hai": {"CNLUCC": "landscape_hai_xu2015.csv", "CLCD": "landscape_hai_clcd.csv"},
    "bai": {"CNLUCC": "landscape_bai_hj192.csv", "CLCD": "landscape_bai_clcd.csv"},
    "eco": {"CNLUCC": "landscape_eco_example.csv", "CLCD": "landscape_eco_clcd.csv"},
    "p": {"CNLUCC": "rusle_p_default.csv", "CLCD": "rusle_p_clcd.csv"},
}


def shipped_table(indicator: str, classification: int) -> str:
    """The file name of the shipped table of ``indicator`` for the enum index
    ``classification``."""
    return TABLES[indicator][CLASSIFICATIONS[classification]]


def scheme_hint(unknown: Iterable[float], present: Iterable[float], classification: int) -> str:
    """A hint for an unknown-code error when the codes present fit the other classification."""
    present = {float(c) for c in present}
    if not list(unknown) or not present:
        return ""
    if CLASSIFICATIONS[classification] == "CNLUCC" and present <= {float(c) for c in CLCD_CODES}:
        return (
            "; the codes present (1–9) look like CLCD: set 'Land-cover classification' "
            "(CLASSIFICATION) to CLCD"
        )
    if CLASSIFICATIONS[classification] == "CLCD" and any(c > 9 for c in present):
        return (
            "; codes above 9 are not CLCD classes: set 'Land-cover classification' "
            "(CLASSIFICATION) to CNLUCC, or give a table of your own"
        )
    return ""

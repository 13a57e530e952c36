"""Differences between the QGIS versions Mine Eco runs on, kept in one place.

Tested: QGIS 3.22 LTR (Debian 12: Qt 5, Python 3.11, numpy 1.24) and QGIS 3.40 LTR (Debian 13:
Qt 5, Python 3.13, numpy 2.2). The rest of the code base calls these helpers instead of testing
versions itself, and uses only idioms that also exist under Qt 6 / PyQt6 (QGIS 4): scoped enum
names, ``exec()``, no ``QVariant.Type`` values (tests/core/test_qt6_readiness.py checks the
sources for those).
"""

from qgis.core import Qgis, QgsField
from qgis.PyQt.QtCore import QMetaType

# QGIS 3.38 added QgsField(name, QMetaType.Type) and deprecated QgsField(name, QVariant.Type);
# QVariant.Type does not exist in PyQt6 at all.
FIELD_TAKES_METATYPE = Qgis.versionInt() >= 33800

# The field types Mine Eco writes, by Python type.
_METATYPES = {
    float: QMetaType.Type.Double,
    int: QMetaType.Type.LongLong,
    str: QMetaType.Type.QString,
}


def _variant_types():
    """The same types as QVariant.Type values, for QGIS < 3.38 (always Qt 5 there)."""
    from qgis.PyQt.QtCore import QVariant

    return {float: QVariant.Double, int: QVariant.LongLong, str: QVariant.String}


def field(name: str, kind: type) -> QgsField:
    """A QgsField named ``name`` holding values of the Python type ``kind`` (float, int or
    str): 64-bit floats, 64-bit integers or text, with the constructor this QGIS offers."""
    types = _METATYPES if FIELD_TAKES_METATYPE else _variant_types()
    if kind not in types:
        raise TypeError(f"field {name!r}: no field type for {kind!r} (float, int or str)")
    return QgsField(name, types[kind])


def parameter_strings(algorithm, parameters, name, context) -> list[str]:
    """The values of a multi-field (or other multi-string) parameter: ``parameterAsStrings``
    where QGIS has it (3.32+; ``parameterAsFields`` is deprecated there), else
    ``parameterAsFields``."""
    if hasattr(algorithm, "parameterAsStrings"):
        return list(algorithm.parameterAsStrings(parameters, name, context))
    return list(algorithm.parameterAsFields(parameters, name, context))

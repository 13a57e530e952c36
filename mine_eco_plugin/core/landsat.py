"""Landsat metadata (MTL) and the conversions of digital numbers to physical units.

``parse_mtl`` reads the ODL-like ``GROUP = X ... END_GROUP = X`` text of a Landsat MTL file
(pre-collection, Collection 1, Collection 2 Level-1 and Level-2); ``scene_from_mtl`` turns it
into a ``LandsatScene``: the six reflectance bands in canonical order with their rescaling
factors, the thermal band, the sun elevation. The conversions take numpy arrays of digital
numbers and return float32 arrays of the same shape; DN 0, the Landsat fill value, becomes NaN.

Only ``parse_mtl_file`` touches the file system (it reads one text file).
"""

from __future__ import annotations

import math
import pathlib
import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CANONICAL_BANDS",
    "BandCalibration",
    "LandsatScene",
    "MtlError",
    "dn_to_radiance",
    "parse_mtl",
    "parse_mtl_file",
    "scale_offset",
    "scene_from_mtl",
    "toa_reflectance",
]

CANONICAL_BANDS = ("blue", "green", "red", "nir", "swir1", "swir2")

# Landsat band numbers of the canonical bands, by MTL SENSOR_ID.
_REFLECTANCE_BAND_NUMBERS = {
    "TM": ("1", "2", "3", "4", "5", "7"),
    "ETM": ("1", "2", "3", "4", "5", "7"),
    "OLI_TIRS": ("2", "3", "4", "5", "6", "7"),
    "OLI": ("2", "3", "4", "5", "6", "7"),
}
_SPACECRAFT = ("LANDSAT_4", "LANDSAT_5", "LANDSAT_7", "LANDSAT_8", "LANDSAT_9")
_THERMAL_SENSOR_KEYS = {
    ("LANDSAT_4", "TM"): "tm4_b6",
    ("LANDSAT_5", "TM"): "tm5_b6",
    ("LANDSAT_7", "ETM"): "etm7_b6",
    ("LANDSAT_8", "OLI_TIRS"): "landsat8_b10",
    ("LANDSAT_9", "OLI_TIRS"): "landsat9_b10",
}
_ETM_THERMAL_CHANNELS = ("VCID_1", "VCID_2")

# Collection 2 Level-2 MTL files carry REFLECTANCE_MULT/ADD twice: the surface-reflectance
# factors in this group and the Level-1 TOA factors in LEVEL1_RADIOMETRIC_RESCALING.
_L2_REFLECTANCE_GROUP = "LEVEL2_SURFACE_REFLECTANCE_PARAMETERS"
_L2_TEMPERATURE_GROUP = "LEVEL2_SURFACE_TEMPERATURE_PARAMETERS"


class MtlError(ValueError):
    """An MTL file that cannot be used; ``field`` names the missing or bad key (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------
# Parsing


_ASSIGNMENT = re.compile(r"([A-Za-z0-9_]+)\s*=\s*(.*)")
_INTEGER = re.compile(r"[+-]?\d+")
_REAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")


def _parse_value(raw: str):
    """A quoted string unquoted, an integer as int, a real as float, anything else as text."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    if _INTEGER.fullmatch(raw):
        return int(raw)
    if _REAL.fullmatch(raw):
        return float(raw)
    return raw  # dates, times, lists: kept as written


def parse_mtl(text: str) -> dict:
    """Parse the text of a Landsat MTL file into nested dicts, one per ``GROUP``.

    ``GROUP = NAME`` opens a dict stored under NAME, ``END_GROUP = NAME`` closes it, ``END``
    ends the file, every other line is ``KEY = VALUE``. Quoted values are unquoted; integers
    (``COLLECTION_NUMBER = 01``) become int, reals (``2.0000E-05``) float; dates, times and
    anything else stay text. NUL padding (seen in some pre-collection files) is ignored.

    >>> parse_mtl('GROUP = A\\n  X = "b"\\n  Y = 2.5\\nEND_GROUP = A\\nEND')
    {'A': {'X': 'b', 'Y': 2.5}}

    Raises MtlError on a line that is not ``KEY = VALUE`` or on unbalanced groups.
    """
    root: dict = {}
    groups = [root]
    names: list[str] = []
    for number, line in enumerate(text.replace("\x00", "").splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped == "END":
            break
        match = _ASSIGNMENT.fullmatch(stripped)
        if match is None:
            raise MtlError(f"MTL line {number} is not KEY = VALUE: {stripped!r}")
        key, raw = match.group(1), match.group(2).strip()
        if key == "GROUP":
            group: dict = {}
            groups[-1][raw] = group
            groups.append(group)
            names.append(raw)
        elif key == "END_GROUP":
            if not names or names[-1] != raw:
                open_group = names[-1] if names else "no open group"
                raise MtlError(f"MTL line {number}: END_GROUP = {raw} closes {open_group}")
            groups.pop()
            names.pop()
        else:
            groups[-1][key] = _parse_value(raw)
    if names:
        raise MtlError(f"MTL text ends inside GROUP = {names[-1]}")
    return root


def parse_mtl_file(path) -> dict:
    """Read and parse an MTL text file (see ``parse_mtl``)."""
    text = pathlib.Path(path).read_text(encoding="utf-8", errors="replace")
    return parse_mtl(text)


# ---------------------------------------------------------------------------------------------
# Scenes


@dataclass(frozen=True)
class BandCalibration:
    """The file of one band and the linear rescaling of its DN: value = mult·DN + add."""

    path: pathlib.Path
    mult: float
    add: float


@dataclass(frozen=True)
class LandsatScene:
    """What the algorithms need from one Landsat scene's MTL file.

    * ``reflectance_bands``: six ``BandCalibration`` in ``CANONICAL_BANDS`` order. Level 1:
      REFLECTANCE_MULT/ADD (TOA reflectance, to be divided by sin(sun elevation):
      ``sun_correction`` is True). Level 2: the surface-reflectance factors (2.75e-5, −0.2 in
      Collection 2), no sun correction.
    * ``thermal``: Level 1 thermal band with RADIANCE_MULT/ADD (W·m⁻²·sr⁻¹·µm⁻¹), None when the
      scene has none (OLI-only, Level 2). ``thermal_k1``/``thermal_k2`` are the MTL's K1/K2 of
      that band when given (else use ``THERMAL_SENSORS[thermal_sensor_key]``).
    * ``surface_temperature``: Level 2 ST band with TEMPERATURE_MULT/ADD (kelvin), else None.
    * ``thermal_sensor_key``: the key of ``THERMAL_SENSORS`` for the spacecraft's thermal band
      (K1/K2 and the bare-soil emissivity rule), None for OLI-only scenes.
    """

    spacecraft: str
    sensor: str
    level: str
    sun_elevation: float
    reflectance_bands: tuple[BandCalibration, ...]
    sun_correction: bool
    thermal: BandCalibration | None
    thermal_sensor_key: str | None
    thermal_k1: float | None = None
    thermal_k2: float | None = None
    surface_temperature: BandCalibration | None = None
    product_id: str | None = None
    acquisition_date: str | None = None

    def reflectance_band(self, name: str) -> BandCalibration:
        """The calibration of one canonical band by name ("blue" ... "swir2")."""
        return self.reflectance_bands[CANONICAL_BANDS.index(name)]


_MISSING = object()


def _find(node, key):
    """The value of ``key`` in the first group (depth first) that has it, else _MISSING."""
    if isinstance(node, dict):
        if key in node and not isinstance(node[key], dict):
            return node[key]
        for value in node.values():
            if isinstance(value, dict):
                found = _find(value, key)
                if found is not _MISSING:
                    return found
    return _MISSING


def _find_group(node, name):
    """The first group called ``name`` (depth first), else None."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict):
                if key == name:
                    return value
                found = _find_group(value, name)
                if found is not None:
                    return found
    return None


def _lacks(field: str, purpose: str, group: str | None = None) -> MtlError:
    where = f" in {group}" if group else ""
    return MtlError(f"MTL file lacks {field}{where} (needed for {purpose})", field)


def _required(mtl: dict, field: str, purpose: str, group: str | None = None):
    scope = mtl if group is None else (_find_group(mtl, group) or {})
    value = _find(scope, field)
    if value is _MISSING:
        raise _lacks(field, purpose, group)
    return value


def _number(value, field: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MtlError(f"MTL field {field} is not a number: {value!r}", field) from None


def _optional_number(mtl: dict, field: str) -> float | None:
    value = _find(mtl, field)
    return None if value is _MISSING else _number(value, field)


def _processing_level(mtl: dict) -> str:
    # Collection 2: PROCESSING_LEVEL = "L1TP" | "L2SP" | "L2SR"; earlier: DATA_TYPE = "L1T"...
    for field in ("PROCESSING_LEVEL", "DATA_TYPE"):
        value = _find(mtl, field)
        if isinstance(value, str) and value.upper().startswith("L2"):
            return "L2"
    return "L2" if _find_group(mtl, _L2_REFLECTANCE_GROUP) is not None else "L1"


def _band_file(mtl: dict, directory: pathlib.Path, suffix: str, purpose: str) -> pathlib.Path:
    field = f"FILE_NAME_BAND_{suffix}"
    return directory / str(_required(mtl, field, purpose))


def _reflectance_bands(mtl, directory, sensor, level) -> tuple[BandCalibration, ...]:
    group = _L2_REFLECTANCE_GROUP if level == "L2" else None
    quantity = "surface reflectance" if level == "L2" else "reflectance"
    bands = []
    for name, number in zip(CANONICAL_BANDS, _REFLECTANCE_BAND_NUMBERS[sensor], strict=True):
        path = _band_file(mtl, directory, number, f"the {name} band file")
        factors = []
        for kind in ("MULT", "ADD"):
            field = f"REFLECTANCE_{kind}_BAND_{number}"
            value = _required(mtl, field, f"{name} {quantity}", group)
            factors.append(_number(value, field))
        bands.append(BandCalibration(path, factors[0], factors[1]))
    return tuple(bands)


def _thermal_suffix(sensor: str, etm_thermal: str) -> str | None:
    if sensor == "OLI_TIRS":
        return "10"
    if sensor == "TM":
        return "6"
    if sensor == "ETM":
        return f"6_{etm_thermal}"
    return None  # OLI-only


def _optional_band(mtl, directory, file_field, mult_field, add_field, group=None):
    """A BandCalibration when the file and both factors are in the MTL, else None."""
    name = _find(mtl, file_field)
    scope = mtl if group is None else (_find_group(mtl, group) or {})
    mult = _find(scope, mult_field)
    add = _find(scope, add_field)
    if any(value is _MISSING for value in (name, mult, add)):
        return None
    return BandCalibration(
        directory / str(name), _number(mult, mult_field), _number(add, add_field)
    )


def scene_from_mtl(mtl: dict, directory, *, etm_thermal: str = "VCID_1") -> LandsatScene:
    """Describe a Landsat 4-9 TM/ETM+/OLI scene from its parsed MTL (``parse_mtl``).

    Keys are looked up in whichever group the format puts them (PRODUCT_METADATA or
    PRODUCT_CONTENTS, RADIOMETRIC_RESCALING or LEVEL1_RADIOMETRIC_RESCALING, THERMAL_CONSTANTS,
    TIRS_THERMAL_CONSTANTS or LEVEL1_THERMAL_CONSTANTS...); Level-2 reflectance factors only in
    LEVEL2_SURFACE_REFLECTANCE_PARAMETERS. Band files are ``directory`` / FILE_NAME_BAND_n.
    Canonical bands: TM/ETM+ 1, 2, 3, 4, 5, 7; OLI 2, 3, 4, 5, 6, 7. The ETM+ thermal band is
    band 6 low gain (``etm_thermal="VCID_1"``) or high gain ("VCID_2").

    Raises MtlError naming the field when a required key is missing (spacecraft, sensor, the six
    band files and reflectance factors, the sun elevation of a Level-1 scene) or when the
    spacecraft or sensor is not supported. The thermal band is optional.
    """
    if etm_thermal not in _ETM_THERMAL_CHANNELS:
        raise ValueError(f"etm_thermal must be one of {_ETM_THERMAL_CHANNELS}, got {etm_thermal!r}")
    directory = pathlib.Path(directory)
    spacecraft = str(_required(mtl, "SPACECRAFT_ID", "the spacecraft")).upper()
    if spacecraft not in _SPACECRAFT:
        raise MtlError(
            f"MTL file names spacecraft {spacecraft!r}; supported: {', '.join(_SPACECRAFT)}",
            "SPACECRAFT_ID",
        )
    sensor = str(_required(mtl, "SENSOR_ID", "the sensor")).upper()
    if sensor not in _REFLECTANCE_BAND_NUMBERS:
        raise MtlError(
            f"MTL file names sensor {sensor!r}; supported: TM, ETM, OLI_TIRS, OLI", "SENSOR_ID"
        )
    level = _processing_level(mtl)
    if level == "L1":
        sun_elevation = _number(
            _required(mtl, "SUN_ELEVATION", "the sun correction of TOA reflectance"),
            "SUN_ELEVATION",
        )
    else:
        sun_elevation = _optional_number(mtl, "SUN_ELEVATION")
        sun_elevation = math.nan if sun_elevation is None else sun_elevation

    try:
        reflectance_bands = _reflectance_bands(mtl, directory, sensor, level)
    except MtlError as error:
        pre_collection = _find(mtl, "COLLECTION_NUMBER") is _MISSING
        if pre_collection and (error.field or "").startswith("REFLECTANCE"):
            # Pre-collection TM/ETM+ MTL files carry radiance factors only.
            raise MtlError(
                f"{error} - pre-collection MTL files of TM/ETM+ give no reflectance factors; "
                "use a Collection 2 product",
                error.field,
            ) from None
        raise

    suffix = _thermal_suffix(sensor, etm_thermal)
    thermal = None
    thermal_k1 = thermal_k2 = None
    surface_temperature = None
    if suffix is not None:
        thermal_k1 = _optional_number(mtl, f"K1_CONSTANT_BAND_{suffix}")
        thermal_k2 = _optional_number(mtl, f"K2_CONSTANT_BAND_{suffix}")
        if level == "L1":
            thermal = _optional_band(
                mtl,
                directory,
                f"FILE_NAME_BAND_{suffix}",
                f"RADIANCE_MULT_BAND_{suffix}",
                f"RADIANCE_ADD_BAND_{suffix}",
            )
        else:
            st_band = "ST_B10" if sensor == "OLI_TIRS" else "ST_B6"
            surface_temperature = _optional_band(
                mtl,
                directory,
                f"FILE_NAME_BAND_{st_band}",
                f"TEMPERATURE_MULT_BAND_{st_band}",
                f"TEMPERATURE_ADD_BAND_{st_band}",
                _L2_TEMPERATURE_GROUP,
            )
    thermal_sensor_key = _THERMAL_SENSOR_KEYS.get((spacecraft, sensor))

    product_id = _find(mtl, "LANDSAT_PRODUCT_ID")
    if product_id is _MISSING:
        product_id = _find(mtl, "LANDSAT_SCENE_ID")
    acquisition_date = _find(mtl, "DATE_ACQUIRED")
    return LandsatScene(
        spacecraft=spacecraft,
        sensor=sensor,
        level=level,
        sun_elevation=sun_elevation,
        reflectance_bands=reflectance_bands,
        sun_correction=level == "L1",
        thermal=thermal,
        thermal_sensor_key=thermal_sensor_key,
        thermal_k1=thermal_k1,
        thermal_k2=thermal_k2,
        surface_temperature=surface_temperature,
        product_id=None if product_id is _MISSING else str(product_id),
        acquisition_date=None if acquisition_date is _MISSING else str(acquisition_date),
    )


# ---------------------------------------------------------------------------------------------
# Conversions


def _rescale(dn, mult, add, fill_value) -> np.ndarray:
    dn = np.asarray(dn, dtype=np.float64)
    value = float(mult) * dn + float(add)
    if fill_value is not None:
        value = np.where(dn == fill_value, np.nan, value)
    return value


def scale_offset(dn, scale, offset, *, fill_value=0) -> np.ndarray:
    """Linear rescaling of digital numbers, value = scale·DN + offset.

    For Collection 2 Level-2 products (USGS Landsat Collection 2 Level-2 Science Product Guide):
    surface reflectance 2.75e-5·DN − 0.2 (0-1); surface temperature ST_B10/ST_B6
    0.00341802·DN + 149.0 (kelvin). NoData: NaN in DN gives NaN; DN == ``fill_value`` (0, the
    Landsat fill; None to keep it) gives NaN.
    """
    return _rescale(dn, scale, offset, fill_value).astype(np.float32)


def dn_to_radiance(dn, mult, add, *, fill_value=0) -> np.ndarray:
    """At-sensor spectral radiance from Level-1 DN, L = ML·Qcal + AL (W·m⁻²·sr⁻¹·µm⁻¹).

    ML, AL are the MTL's RADIANCE_MULT_BAND_n and RADIANCE_ADD_BAND_n (USGS Landsat 8 Data
    Users Handbook, "Conversion to TOA radiance"). NoData: NaN in DN gives NaN; DN ==
    ``fill_value`` (0, the Level-1 fill) gives NaN.
    """
    return _rescale(dn, mult, add, fill_value).astype(np.float32)


def toa_reflectance(dn, mult, add, sun_elevation_deg=None, *, fill_value=0) -> np.ndarray:
    """Top-of-atmosphere reflectance from Level-1 DN, ρ = (Mρ·Qcal + Aρ) / sin(θSE).

    Mρ, Aρ are the MTL's REFLECTANCE_MULT_BAND_n and REFLECTANCE_ADD_BAND_n, θSE the sun
    elevation in degrees (MTL SUN_ELEVATION); with ``sun_elevation_deg=None`` there is no
    division (the factors already give reflectance, e.g. Level-2). Source: USGS Landsat 8 Data
    Users Handbook, "Conversion to TOA reflectance". Reflectance, unitless (0-1). NoData: NaN in
    DN gives NaN; DN == ``fill_value`` (0, the Level-1 fill) gives NaN. Raises ValueError for a
    sun elevation outside (0, 90].
    """
    reflectance = _rescale(dn, mult, add, fill_value)
    if sun_elevation_deg is not None:
        elevation = float(sun_elevation_deg)
        if not 0.0 < elevation <= 90.0:
            raise ValueError(f"sun elevation must be in (0, 90] degrees, got {elevation}")
        reflectance = reflectance / math.sin(math.radians(elevation))
    return reflectance.astype(np.float32)

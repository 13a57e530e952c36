"""Spectral indices and transforms of a six-band reflectance stack.

Every function takes numpy arrays of reflectance (0-1, float32 blocks where NoData is NaN) and
returns a float32 array of the same shape. NaN in any input pixel gives NaN in that output pixel;
a division by zero gives NaN, silently (no numpy warnings).

The canonical band order is blue, green, red, NIR, SWIR1, SWIR2: TM/ETM+ bands 1, 2, 3, 4, 5, 7;
OLI bands 2, 3, 4, 5, 6, 7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "TASSELED_CAP_SETS",
    "TasseledCapSet",
    "albedo_liang",
    "bare_soil_index",
    "index_based_builtup_index",
    "ndbsi",
    "ndmvi",
    "ndvi",
    "normalized_difference",
    "tasseled_cap",
    "vegetation_cover",
]


def _as_float(values) -> np.ndarray:
    """The values as a float array: float32 blocks stay float32 (single precision carries
    reflectance-derived indices to ~1e-7, and halves memory and time on full scenes); float64
    stays float64; integers and Python numbers become float64."""
    values = np.asarray(values)
    return values if values.dtype.kind == "f" else values.astype(np.float64)


def _safe_divide(numerator, denominator) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is zero (no warning)."""
    numerator = _as_float(numerator)
    denominator = _as_float(denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = np.asarray(np.divide(numerator, denominator))
    return np.where(denominator == 0.0, np.nan, quotient).astype(quotient.dtype, copy=False)


def normalized_difference(a, b) -> np.ndarray:
    """Normalised difference of two bands, (a − b) / (a + b).

    Dimensionless, in [−1, 1] for non-negative inputs. NoData: NaN in either input gives NaN;
    a + b == 0 gives NaN.

    >>> float(normalized_difference(0.5, 0.1))  # 0.4 / 0.6
    0.6666666865348816
    """
    a = _as_float(a)
    b = _as_float(b)
    return _safe_divide(a - b, a + b).astype(np.float32, copy=False)


def ndvi(red, nir) -> np.ndarray:
    """Normalised difference vegetation index, NDVI = (ρnir − ρred) / (ρnir + ρred).

    Rouse et al. (1974). Dimensionless. NoData: NaN in either band gives NaN; ρnir + ρred == 0
    gives NaN.
    """
    return normalized_difference(nir, red)


def ndmvi(red, nir, red_min, nir_min) -> np.ndarray:
    """Normalised difference mountain vegetation index (resilience study, Eq. 5).

    NDMVI = [(ρnir − ρred) + (Rmin − NIRmin)] / [(ρnir + ρred) − (Rmin + NIRmin)]

    ``red_min`` and ``nir_min`` are the minimum red and NIR reflectances of the scene (deep
    shadow), which adjust both bands for the terrain shading of sunny and shaded slopes. Scalars
    or arrays broadcastable to the bands. Source: Wu Zhijie, Xu Hanqiu (2011). A new index for
    vegetation enhancements of mountainous regions based on satellite image data. Journal of
    Geo-information Science, 13(5), 656-664. Dimensionless. NoData: NaN in any input gives NaN;
    a zero denominator gives NaN.

    Computed in float64 and returned as float32: the differences to the minima cancel most of
    the bands' values, and in float64 the sums of two float32 reflectances are exact, so the
    denominator is 0 exactly where both bands are at their minima (0 / 0: NaN) and exact near
    them. In float32 (numpy 1.x, whose value-based casting kept float32 blocks in float32) or
    with float32 band sums against float64 minima (numpy 2), the rounding of ρnir + ρred made
    the pixel at both minima NaN or a finite value depending on the numpy version, and pixels
    a rounding step above the minima far off (−0.5 or −0.33 for an exact −1).
    """
    red, nir, red_min, nir_min = (
        np.asarray(values, dtype=np.float64) for values in (red, nir, red_min, nir_min)
    )
    numerator = (nir - red) + (red_min - nir_min)
    denominator = (nir + red) - (red_min + nir_min)
    return _safe_divide(numerator, denominator).astype(np.float32, copy=False)


def vegetation_cover(index, soil_value, veg_value) -> np.ndarray:
    """Fractional vegetation cover by the dimidiate pixel model (resilience study, Eq. 6).

    FVC = (S − S_soil) / (S_veg − S_soil), clipped to [0, 1]

    S is a vegetation index (NDVI or NDMVI), S_soil its value on bare soil and S_veg its value
    under full cover (usually the 5 % and 95 % percentiles of S). Fraction 0-1. NoData: NaN in
    ``index`` gives NaN. Raises ValueError unless veg_value > soil_value.
    """
    soil_value = float(soil_value)
    veg_value = float(veg_value)
    if not veg_value > soil_value:
        raise ValueError(
            f"vegetation_cover needs veg_value > soil_value, got veg_value={veg_value}, "
            f"soil_value={soil_value}"
        )
    index = _as_float(index)
    cover = (index - soil_value) / (veg_value - soil_value)
    return np.clip(cover, 0.0, 1.0).astype(np.float32, copy=False)


@dataclass(frozen=True)
class TasseledCapSet:
    """One published table of tasseled-cap coefficients.

    ``brightness``, ``greenness`` and ``wetness`` are 6-tuples in the canonical band order
    (blue, green, red, NIR, SWIR1, SWIR2). ``input`` says what the table was derived for:
    "reflectance" or "DN" (digital numbers).
    """

    key: str
    label: str
    citation: str
    input: str
    brightness: tuple[float, float, float, float, float, float]
    greenness: tuple[float, float, float, float, float, float]
    wetness: tuple[float, float, float, float, float, float]

    def __post_init__(self) -> None:
        if self.input not in ("reflectance", "DN"):
            raise ValueError(f"input must be 'reflectance' or 'DN', got {self.input!r}")
        for name in ("brightness", "greenness", "wetness"):
            if len(getattr(self, name)) != 6:
                raise ValueError(f"{self.key}: {name} needs 6 coefficients")

    def matrix(self) -> np.ndarray:
        """The 3 × 6 coefficient matrix, rows brightness, greenness, wetness."""
        return np.array([self.brightness, self.greenness, self.wetness], dtype=np.float64)


# Each table was checked against several independent copies (November 2025):
#
# TM, Crist (1985), reflectance factors: the three rows as printed in OSGeo/grass-addons
#   src/imagery/i.wi/tcw.c (wetness) and in several Earth Engine and Python scripts that cite
#   RSE 17:301 (all rows). Traps seen in public code: greenness band 5 printed as +0.0002 (it is
#   −0.0002), wetness band 5 printed as +0.6806 (it is −0.6806), brightness band 7 printed as
#   −0.2303 (it is +0.2303).
# TM, Crist & Cicone (1984): OSGeo/grass scripts/i.tasscap/i.tasscap.py (its Landsat-4 rows),
#   the Earth Engine developer-guide example, the ForesToolboxRS tests and others agree;
#   i.tasscap prints greenness red as −0.5435, every other copy −0.5436 (kept).
# ETM+, Huang et al. (2002): OSGeo/grass scripts/i.tasscap/i.tasscap.py (its Landsat-7 rows)
#   and other scripts agree.
# OLI, Baig et al. (2014): the table reproduced on the Hexagon Geospatial community page
#   "Tasseled Cap Transformation for Landsat 8" (citing Remote Sensing Letters 5:5, 423-431), the
#   Earth Engine developer-guide "Arrays" example and other scripts agree.
TASSELED_CAP_SETS: dict[str, TasseledCapSet] = {
    "tm_crist_1985": TasseledCapSet(
        key="tm_crist_1985",
        label="Landsat TM reflectance (Crist 1985)",
        citation=(
            "Crist, E. P. (1985). A TM tasseled cap equivalent transformation for reflectance "
            "factor data. Remote Sensing of Environment, 17(3), 301-306, Table 1."
        ),
        input="reflectance",
        brightness=(0.2043, 0.4158, 0.5524, 0.5741, 0.3124, 0.2303),
        greenness=(-0.1603, -0.2819, -0.4934, 0.7940, -0.0002, -0.1446),
        wetness=(0.0315, 0.2021, 0.3102, 0.1594, -0.6806, -0.6109),
    ),
    "tm_crist_cicone_1984": TasseledCapSet(
        key="tm_crist_cicone_1984",
        label="Landsat TM (Crist & Cicone 1984)",
        citation=(
            "Crist, E. P., Cicone, R. C. (1984). A physically-based transformation of Thematic "
            "Mapper data - the TM tasseled cap. IEEE Transactions on Geoscience and Remote "
            "Sensing, GE-22(3), 256-263."
        ),
        input="DN",
        brightness=(0.3037, 0.2793, 0.4743, 0.5585, 0.5082, 0.1863),
        greenness=(-0.2848, -0.2435, -0.5436, 0.7243, 0.0840, -0.1800),
        wetness=(0.1509, 0.1973, 0.3279, 0.3406, -0.7112, -0.4572),
    ),
    "etm_huang_2002": TasseledCapSet(
        key="etm_huang_2002",
        label="Landsat 7 ETM+ at-satellite reflectance (Huang et al. 2002)",
        citation=(
            "Huang, C., Wylie, B., Yang, L., Homer, C., Zylstra, G. (2002). Derivation of a "
            "tasselled cap transformation based on Landsat 7 at-satellite reflectance. "
            "International Journal of Remote Sensing, 23(8), 1741-1748, Table 2."
        ),
        input="reflectance",
        brightness=(0.3561, 0.3972, 0.3904, 0.6966, 0.2286, 0.1596),
        greenness=(-0.3344, -0.3544, -0.4556, 0.6966, -0.0242, -0.2630),
        wetness=(0.2626, 0.2141, 0.0926, 0.0656, -0.7629, -0.5388),
    ),
    "oli_baig_2014": TasseledCapSet(
        key="oli_baig_2014",
        label="Landsat 8 OLI at-satellite reflectance (Baig et al. 2014)",
        citation=(
            "Baig, M. H. A., Zhang, L., Shuai, T., Tong, Q. (2014). Derivation of a tasselled "
            "cap transformation based on Landsat 8 at-satellite reflectance. Remote Sensing "
            "Letters, 5(5), 423-431, Table 2."
        ),
        input="reflectance",
        brightness=(0.3029, 0.2786, 0.4733, 0.5599, 0.5080, 0.1872),
        greenness=(-0.2941, -0.2430, -0.5424, 0.7276, 0.0713, -0.1608),
        wetness=(0.1511, 0.1973, 0.3283, 0.3407, -0.7117, -0.4559),
    ),
}


def tasseled_cap(stack, coefficients: TasseledCapSet) -> np.ndarray:
    """Tasseled-cap brightness, greenness and wetness of a six-band stack (resilience study,
    Eq. 9-10).

    TCᵢ = Σⱼ cᵢⱼ·ρⱼ over the six canonical bands, i = brightness, greenness, wetness, with the
    coefficients cᵢⱼ of one published table (see ``TASSELED_CAP_SETS`` for the sources).

    ``stack`` has shape (6, rows, cols) in the canonical band order; the result has shape
    (3, rows, cols), same units as the input (reflectance or DN, matching ``coefficients.input``).
    NoData: a pixel with NaN in any band is NaN in all three components.

    Computed in float64 (the published coefficients, the bands exactly), band by band in the
    fixed order blue … SWIR2, and rounded once to float32: the float32 nearest to the sum, the
    same bits on every numpy and BLAS. (A float32 matrix product, coefficients rounded to
    float32, depended on the BLAS build: Debian 12, numpy 1.24, and Debian 13, numpy 2.2,
    differed by up to 2.4e-7 in a component; a float64 matrix product still leaves the
    rounding of a sum close to a float32 tie to the BLAS's order.)
    """
    stack = np.asarray(stack)
    if stack.ndim < 1 or stack.shape[0] != 6:
        raise ValueError(f"tasseled_cap needs a stack of 6 bands first, got shape {stack.shape}")
    bands = [np.asarray(band, dtype=np.float64).reshape(-1) for band in stack]
    components = np.empty((3, bands[0].size), dtype=np.float64)
    for row, component in zip(coefficients.matrix(), components, strict=True):
        np.multiply(bands[0], row[0], out=component)
        for coefficient, band in zip(row[1:], bands[1:], strict=True):
            component += coefficient * band
    components = components.reshape(3, *stack.shape[1:])
    # NaN × c is NaN already; the mask states the rule rather than relying on it.
    invalid = np.isnan(stack).any(axis=0)
    return np.where(invalid, np.nan, components).astype(np.float32, copy=False)


# Liang (2001) Landsat shortwave albedo: coefficients of blue, red, NIR, SWIR1, SWIR2 and the
# constant; the seed divides by the coefficient sum 0.356 + 0.130 + 0.373 + 0.085 + 0.072 = 1.016.
_LIANG_COEFFICIENTS = (0.356, 0.130, 0.373, 0.085, 0.072)
_LIANG_CONSTANT = -0.0018
_LIANG_NORMALISER = 1.016


def albedo_liang(blue, red, nir, swir1, swir2, normalised=True) -> np.ndarray:
    """Broadband shortwave albedo from Landsat reflectance (Liang 2001; resilience study, Eq. 11).

    α = (0.356ρblue + 0.130ρred + 0.373ρnir + 0.085ρswir1 + 0.072ρswir2 − 0.0018) / 1.016

    With ``normalised=False`` the division by 1.016 (the coefficient sum, as in the seed) is
    dropped, which is Liang's original form. Source: Liang, S. (2001). Narrowband to broadband
    conversions of land surface albedo I: Algorithms. Remote Sensing of Environment, 76(2),
    213-238. Albedo 0-1. NoData: NaN in any band gives NaN.
    """
    bands = [_as_float(band) for band in (blue, red, nir, swir1, swir2)]
    albedo = (
        sum(c * band for c, band in zip(_LIANG_COEFFICIENTS, bands, strict=True)) + _LIANG_CONSTANT
    )
    if normalised:
        albedo = albedo / _LIANG_NORMALISER
    return np.asarray(albedo, dtype=np.float32)


def bare_soil_index(blue, red, nir, swir1) -> np.ndarray:
    """Soil index SI = [(ρswir1 + ρred) − (ρnir + ρblue)] / [(ρswir1 + ρred) + (ρnir + ρblue)].

    The bare-soil index of Rikimaru et al. (2002) as used in Xu Hanqiu's NDBSI. Dimensionless.
    NoData: NaN in any band gives NaN; a zero denominator gives NaN.
    """
    return _bare_soil(blue, red, nir, swir1).astype(np.float32, copy=False)


def _bare_soil(blue, red, nir, swir1) -> np.ndarray:
    blue, red, nir, swir1 = (_as_float(band) for band in (blue, red, nir, swir1))
    soil = swir1 + red
    vegetation = nir + blue
    return _safe_divide(soil - vegetation, soil + vegetation)


def _index_based_builtup(green, red, nir, swir1) -> np.ndarray:
    green, red, nir, swir1 = (_as_float(band) for band in (green, red, nir, swir1))
    built = 2.0 * _safe_divide(swir1, swir1 + nir)
    vegetation_and_water = _safe_divide(nir, nir + red) + _safe_divide(green, green + swir1)
    return _safe_divide(built - vegetation_and_water, built + vegetation_and_water)


def index_based_builtup_index(green, red, nir, swir1) -> np.ndarray:
    """Index-based built-up index (Xu 2008).

    IBI = {2ρswir1/(ρswir1 + ρnir) − [ρnir/(ρnir + ρred) + ρgreen/(ρgreen + ρswir1)]}
        / {2ρswir1/(ρswir1 + ρnir) + [ρnir/(ρnir + ρred) + ρgreen/(ρgreen + ρswir1)]}

    Xu, H. (2008). A new index for delineating built-up land features in satellite imagery.
    International Journal of Remote Sensing, 29(14), 4269-4276. Dimensionless. NoData: NaN in any
    band gives NaN; any zero denominator gives NaN.
    """
    return _index_based_builtup(green, red, nir, swir1).astype(np.float32, copy=False)


def ndbsi(blue, green, red, nir, swir1) -> np.ndarray:
    """Normalised difference built-up and soil index, the dryness of the RSEI (Xu Hanqiu).

    NDBSI = (SI + IBI) / 2, with SI the soil index (``bare_soil_index``) and IBI the
    index-based built-up index (``index_based_builtup_index``). Xu, H. (2013). A remote sensing
    index for assessment of regional ecological changes. China Environmental Science, 33(5),
    889-897. Dimensionless. NoData: NaN in any band gives NaN; any zero denominator gives NaN.
    """
    soil = _bare_soil(blue, red, nir, swir1)
    built = _index_based_builtup(green, red, nir, swir1)
    return ((soil + built) / 2.0).astype(np.float32, copy=False)

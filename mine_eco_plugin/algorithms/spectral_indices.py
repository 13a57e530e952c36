"""Spectral indices of the canonical reflectance stack: NDVI, NDMVI, FVC, tasseled cap, albedo
and NDBSI (the resilience study's vegetation, wetness, albedo and dryness indicators)."""

from __future__ import annotations

import dataclasses

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
)

from .. import engine
from ..core import spectral
from .base import MineEcoAlgorithm

STACK_HELP = (
    "Reflectance stack (0–1) with the six bands blue, green, red, NIR, SWIR1, SWIR2 in this "
    "order, as written by 'Landsat reflectance'. A value above 1.5 is an error (a stack of "
    "scaled digital numbers, e.g. 0–10 000, must first be converted to reflectance)."
)
#: Reflectance above this is not reflectance (bright clouds and snow stay below it).
MAX_REFLECTANCE = 1.5


def check_reflectance(stack) -> None:
    """EngineError naming INPUT when a block holds values above MAX_REFLECTANCE."""
    with np.errstate(invalid="ignore"):
        high = stack > MAX_REFLECTANCE
    if high.any():
        raise engine.EngineError(
            "INPUT",
            f"values above {MAX_REFLECTANCE} (e.g. {float(stack[high][0]):.6g}) are not "
            "reflectance (0–1); convert scaled digital numbers first ('Landsat reflectance', "
            "SCALE and OFFSET)",
        )


BLUE, GREEN, RED, NIR, SWIR1, SWIR2 = range(1, 7)


class StackIndex(MineEcoAlgorithm):
    """An index computed pixel by pixel from bands of the canonical stack."""

    group_key = "spectral"
    #: 1-based bands of the stack the kernel receives, in its argument order.
    stack_bands: tuple[int, ...] = (BLUE, GREEN, RED, NIR, SWIR1, SWIR2)
    output_description = ""
    output_bands: tuple[str, ...] = ()

    def initAlgorithm(self, config=None):
        self.add_raster(
            "INPUT", "Reflectance stack (blue, green, red, NIR, SWIR1, SWIR2)", STACK_HELP
        )
        self.add_options()
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", self.output_description, self.output_help())

    def add_options(self):
        """Extra parameters of a subclass."""

    def output_help(self):
        return f"{self.output_description}, float32."

    def kernel(self, parameters, context):
        """A function of the selected bands (each a 2-D block) returning the output block."""
        raise QgsProcessingException(f"{self.algorithm_id} defines no kernel")

    def stack_source(self, parameters, context):
        """The six-band stack (other band counts are an error), read as ``stack_bands``."""
        source = self.raster_source(parameters, "INPUT", context, band_count=6)
        return dataclasses.replace(source, bands=self.stack_bands)

    def process(self, parameters, context, feedback):
        return self.run_index(parameters, context, self.monitor(feedback))

    def run_index(self, parameters, context, monitor):
        source = self.stack_source(parameters, context)
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            bands=max(len(self.output_bands), 1),
            band_names=self.output_bands or None,
            metadata=self.provenance(parameters, context),
        )
        compute = self.kernel(parameters, context)

        def kernel(stack):
            check_reflectance(stack)
            return compute(*stack)

        self.run_blocks(
            kernel,
            [source],
            [target],
            monitor=monitor,
        )
        return self.outputs({"OUTPUT": target})

    def provenance(self, parameters, context):
        return {}


class Ndvi(StackIndex):
    algorithm_id = "ndvi"
    display_name = "NDVI"
    summary = (
        "Normalised difference vegetation index of a reflectance stack: the resilience study's "
        "vegetation greenness and the input of FVC, VHI, DDI, LST emissivity and CASA."
    )
    formula = (
        "NDVI = (ρNIR − ρred) / (ρNIR + ρred)   (Rouse et al. 1974); NoData where ρNIR + ρred = 0."
    )
    references = (
        "Rouse, J.W. et al. (1974) Monitoring vegetation systems in the Great Plains with ERTS.",
    )
    stack_bands = (RED, NIR)
    output_description = "NDVI"

    def kernel(self, parameters, context):
        return spectral.ndvi


class Ndbsi(StackIndex):
    algorithm_id = "ndbsi"
    display_name = "Dryness (NDBSI)"
    summary = (
        "Normalised difference built-up and soil index, the resilience study's dryness indicator "
        "(C8): the mean of the soil index SI and the index-based built-up index IBI."
    )
    formula = (
        "SI = [(ρSWIR1 + ρred) − (ρNIR + ρblue)] / [(ρSWIR1 + ρred) + (ρNIR + ρblue)]\n"
        "IBI = {2ρSWIR1/(ρSWIR1 + ρNIR) − [ρNIR/(ρNIR + ρred) + ρgreen/(ρgreen + ρSWIR1)]} / "
        "{2ρSWIR1/(ρSWIR1 + ρNIR) + [ρNIR/(ρNIR + ρred) + ρgreen/(ρgreen + ρSWIR1)]}\n"
        "NDBSI = (SI + IBI) / 2"
    )
    references = (
        "Xu, H. (2008) A new index for delineating built-up land features in satellite imagery. "
        "Int. J. Remote Sens. 29(14), 4269–4276 (IBI).",
        "Xu, H. (2013) A remote sensing urban ecological index and its application. Acta Ecologica "
        "Sinica 33(24), 7853–7862 (NDBSI as the dryness component).",
    )
    stack_bands = (BLUE, GREEN, RED, NIR, SWIR1)
    output_description = "Dryness (NDBSI)"

    def kernel(self, parameters, context):
        return spectral.ndbsi


class Albedo(StackIndex):
    algorithm_id = "albedo"
    display_name = "Albedo"
    summary = (
        "Broadband surface albedo from the narrow-band reflectances (Liang 2001), the resilience "
        "study's Eq. 11 and the albedo input of the desertification index."
    )
    formula = (
        "α = (0.356ρblue + 0.130ρred + 0.373ρNIR + 0.085ρSWIR1 + 0.072ρSWIR2 − 0.0018) / 1.016\n"
        "Without normalisation (option): the same sum without the division by 1.016."
    )
    references = (
        "Liang, S. (2001) Narrowband to broadband conversions of land surface albedo I: "
        "Algorithms. Remote Sens. Environ. 76, 213–238.",
    )
    stack_bands = (BLUE, RED, NIR, SWIR1, SWIR2)
    output_description = "Albedo"

    def add_options(self):
        self.add(
            QgsProcessingParameterBoolean(
                "NORMALISED",
                self.tr("Divide by 1.016 (as in Liang 2001 and the resilience study)"),
                True,
            ),
            "Unchecked gives the un-normalised sum.",
        )

    def kernel(self, parameters, context):
        normalised = self.parameterAsBool(parameters, "NORMALISED", context)
        return lambda b, r, n, s1, s2: spectral.albedo_liang(b, r, n, s1, s2, normalised=normalised)

    def provenance(self, parameters, context):
        return {"NORMALISED": self.parameterAsBool(parameters, "NORMALISED", context)}


class TasseledCap(StackIndex):
    algorithm_id = "tasseled_cap"
    display_name = "Tasseled cap (brightness, greenness, wetness)"
    #: The usual tasseled-cap composite: brightness, greenness, wetness as red, green, blue.
    rgb_outputs = {"OUTPUT": (1, 2, 3)}
    summary = (
        "Tasseled-cap transformation of the six reflective bands into brightness, greenness "
        "and wetness (the resilience study's Eq. 9–10; wetness is its indicator C7, brightness its "
        "C11, printed 'TCI' in its Table 2). Choose the "
        "coefficient set that matches the sensor and the input (reflectance or DN)."
    )
    formula = (
        "TCk = Σi ck,i · ρi over the bands blue, green, red, NIR, SWIR1, SWIR2, for k = "
        "brightness, greenness, wetness; the coefficients ck,i of the chosen set are written to "
        "the output's metadata. Each sum is computed in double precision and stored as float32 "
        "(the same values on every numpy and BLAS)."
    )
    stack_bands = (BLUE, GREEN, RED, NIR, SWIR1, SWIR2)
    output_description = "Tasseled cap"
    output_bands = ("brightness", "greenness", "wetness")

    @property
    def references(self):
        return tuple(s.citation for s in spectral.TASSELED_CAP_SETS.values())

    def add_options(self):
        sets = list(spectral.TASSELED_CAP_SETS.values())
        self.add_enum(
            "COEFFICIENTS",
            "Coefficient set",
            [s.label for s in sets],
            default=list(spectral.TASSELED_CAP_SETS).index("oli_baig_2014"),
            help_text="; ".join(f"{s.label}: {s.citation}" for s in sets),
        )

    def coefficient_set(self, parameters, context):
        index = self.parameterAsEnum(parameters, "COEFFICIENTS", context)
        return list(spectral.TASSELED_CAP_SETS.values())[index]

    def kernel(self, parameters, context):
        coefficients = self.coefficient_set(parameters, context)
        return lambda *bands: spectral.tasseled_cap(bands, coefficients)

    def provenance(self, parameters, context):
        chosen = self.coefficient_set(parameters, context)
        return {
            "COEFFICIENTS": chosen.key,
            "BRIGHTNESS": ",".join(map(str, chosen.brightness)),
            "GREENNESS": ",".join(map(str, chosen.greenness)),
            "WETNESS": ",".join(map(str, chosen.wetness)),
        }


class Ndmvi(StackIndex):
    algorithm_id = "ndmvi"
    display_name = "NDMVI (modified NDVI with scene minima)"
    summary = (
        "Normalised difference modified vegetation index, the resilience study's Eq. 5, the "
        "vegetation index its FVC is computed from. The red and NIR minima are the scene's "
        "minima over valid pixels unless given; the values used are reported as outputs."
    )
    formula = (
        "NDMVI = [(ρNIR − ρred) + (Rmin − NIRmin)] / [(ρNIR + ρred) − (Rmin + NIRmin)]\n"
        "Rmin, NIRmin: minimum red and NIR reflectance of the scene (or given)."
    )
    nodata_rule = (
        "A pixel that is NoData in the red or NIR band is NoData in the output and is ignored "
        "when the scene minima are computed; a zero denominator gives NoData (computed in "
        "double precision, so exactly where both bands are at their minima)."
    )
    references = ("The resilience study, Eq. 5.",)
    stack_bands = (RED, NIR)
    output_description = "NDMVI"

    def add_options(self):
        self.add_number(
            "RED_MIN",
            "Red minimum Rmin (blank: scene minimum)",
            None,
            "Blank: the minimum valid red reflectance of the scene.",
            optional=True,
        )
        self.add_number(
            "NIR_MIN",
            "NIR minimum NIRmin (blank: scene minimum)",
            None,
            "Blank: the minimum valid NIR reflectance of the scene.",
            optional=True,
        )
        self.addOutput(QgsProcessingOutputNumber("RED_MIN", self.tr("Red minimum used")))
        self.addOutput(QgsProcessingOutputNumber("NIR_MIN", self.tr("NIR minimum used")))

    def process(self, parameters, context, feedback):
        given = {
            name: self.optional_double(parameters, name, context) for name in ("RED_MIN", "NIR_MIN")
        }
        monitor = self.monitor(feedback)
        if None in given.values():
            source = self.stack_source(parameters, context)
            summaries = [engine.RunningSummary(), engine.RunningSummary()]

            def visit(window, stack):
                check_reflectance(stack)
                summaries[0].update(stack[0])
                summaries[1].update(stack[1])

            self.scan(visit, [source], monitor=monitor.span(0, 0.4))
            if summaries[0].count == 0:
                raise QgsProcessingException("INPUT: the red and NIR bands have no valid pixels")
            for name, summary in zip(("RED_MIN", "NIR_MIN"), summaries, strict=True):
                if given[name] is None:
                    given[name] = summary.minimum
            monitor = monitor.span(0.4, 1.0)
        feedback.pushInfo(f"Rmin = {given['RED_MIN']:.6g}, NIRmin = {given['NIR_MIN']:.6g}")
        self._minima = given
        results = self.run_index(parameters, context, monitor)
        results.update(given)
        return results

    def kernel(self, parameters, context):
        red_min, nir_min = self._minima["RED_MIN"], self._minima["NIR_MIN"]
        return lambda red, nir: spectral.ndmvi(red, nir, red_min, nir_min)

    def provenance(self, parameters, context):
        return dict(self._minima)


class VegetationCover(MineEcoAlgorithm):
    algorithm_id = "fvc"
    display_name = "Fractional vegetation cover (FVC)"
    group_key = "spectral"
    summary = (
        "Fractional vegetation cover by the dimidiate pixel model (the resilience study's Eq. 6), "
        "from any vegetation index raster (NDVI or NDMVI). The bare-soil and full-vegetation "
        "index values are percentiles of the scene's valid pixels unless given; the values used "
        "are reported as outputs."
    )
    formula = (
        "FVC = (S − Ssoil) / (Sveg − Ssoil), clipped to [0, 1]\n"
        "Ssoil, Sveg: the SOIL_PERCENTILE (5) and VEG_PERCENTILE (95) percentiles of S over valid "
        "pixels (exact, numpy's linear interpolation), or the given values."
    )
    nodata_rule = (
        "NoData in the index stays NoData in FVC and is ignored by the percentiles; so are ±Inf "
        "values."
    )
    references = (
        "Gutman, G. & Ignatov, A. (1998) The derivation of the green vegetation fraction from "
        "NOAA/AVHRR data for use in numerical weather prediction models. Int. J. Remote Sens. "
        "19(8), 1533–1543.",
        "The resilience study, Eq. 6: 5 % and 95 % confidence levels.",
    )

    def initAlgorithm(self, config=None):
        self.add_raster(
            "INPUT",
            "Vegetation index (NDVI or NDMVI)",
            "Single-band vegetation index; band 1 is used (see BAND).",
        )
        self.add_number(
            "BAND",
            "Band",
            1,
            "Band of INPUT holding the index.",
            minimum=1,
            integer=True,
            advanced=True,
        )
        self.add_number(
            "SOIL_PERCENTILE",
            "Bare-soil percentile",
            5.0,
            "Percentile of the index taken as bare soil (the resilience study: 5 %).",
            minimum=0,
            maximum=100,
        )
        self.add_number(
            "VEG_PERCENTILE",
            "Full-vegetation percentile",
            95.0,
            "Percentile of the index taken as full vegetation (the resilience study: 95 %).",
            minimum=0,
            maximum=100,
        )
        self.add_number(
            "SOIL_VALUE",
            "Bare-soil index value (blank: percentile)",
            None,
            "Overrides the bare-soil percentile.",
            optional=True,
            advanced=True,
        )
        self.add_number(
            "VEG_VALUE",
            "Full-vegetation index value (blank: percentile)",
            None,
            "Overrides the full-vegetation percentile.",
            optional=True,
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "FVC", "Fractional vegetation cover, 0–1, float32.")
        self.add_number_outputs(
            (
                ("SOIL_VALUE", "Bare-soil index value used"),
                ("VEG_VALUE", "Full-vegetation index value used"),
            )
        )

    def process(self, parameters, context, feedback):
        band = self.parameterAsInt(parameters, "BAND", context)
        source = self.raster_source(parameters, "INPUT", context, bands=(band,))
        soil_p = self.parameterAsDouble(parameters, "SOIL_PERCENTILE", context)
        veg_p = self.parameterAsDouble(parameters, "VEG_PERCENTILE", context)
        if soil_p >= veg_p:
            raise QgsProcessingException(
                f"SOIL_PERCENTILE ({soil_p}) must be below VEG_PERCENTILE ({veg_p})"
            )
        given = {
            name: self.optional_double(parameters, name, context)
            for name in ("SOIL_VALUE", "VEG_VALUE")
        }
        monitor = self.monitor(feedback)
        if None in given.values():
            soil, veg = self.band_percentiles(source, [soil_p, veg_p], monitor=monitor.span(0, 0.5))
            given = {
                "SOIL_VALUE": soil if given["SOIL_VALUE"] is None else given["SOIL_VALUE"],
                "VEG_VALUE": veg if given["VEG_VALUE"] is None else given["VEG_VALUE"],
            }
            monitor = monitor.span(0.5, 1.0)
        soil, veg = given["SOIL_VALUE"], given["VEG_VALUE"]
        if not veg > soil:
            typed = [n for n in ("SOIL_VALUE", "VEG_VALUE") if self.given(parameters, n)]
            culprits = ", ".join(typed if len(typed) == 2 else [*typed, "INPUT"])
            raise QgsProcessingException(
                f"{culprits}: the full-vegetation value ({veg:.6g}) is not above the bare-soil "
                f"value ({soil:.6g}); the index is constant or the values are swapped"
            )
        feedback.pushInfo(f"Ssoil = {soil:.6g}, Sveg = {veg:.6g}")
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            metadata={
                "SOIL_VALUE": soil,
                "VEG_VALUE": veg,
                "SOIL_PERCENTILE": soil_p,
                "VEG_PERCENTILE": veg_p,
            },
        )
        self.run_blocks(
            lambda index: spectral.vegetation_cover(index[0], soil, veg),
            [source],
            [target],
            monitor=monitor,
        )
        return {**self.outputs({"OUTPUT": target}), **given}

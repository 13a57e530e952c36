"""Land surface temperature by the radiative transfer equation (the resilience study's Eq. 8)."""

from __future__ import annotations

import dataclasses

import numpy as np
from qgis.core import QgsProcessingException

from .. import engine
from ..core import thermal
from .base import MineEcoAlgorithm

SENSORS = list(thermal.THERMAL_SENSORS.values())


class LandSurfaceTemperature(MineEcoAlgorithm):
    algorithm_id = "lst"
    display_name = "Land surface temperature (LST)"
    group_key = "spectral"
    summary = (
        "Land surface temperature in °C from the at-sensor radiance of the thermal band by the "
        "radiative transfer equation, with land surface emissivity from NDVI thresholds "
        "(Sobrino et al. 2004). τ, L↑ and L↓ come from the NASA atmospheric correction parameter "
        "calculator (atmcorr.gsfc.nasa.gov) for the scene's date and place; the defaults "
        "τ = 1, L↑ = L↓ = 0 mean no atmospheric correction (emissivity-corrected brightness "
        "temperature). Use 'Landsat reflectance' to get the radiance (OUTPUT_THERMAL)."
    )
    formula = (
        "B(Ts) = [L − L↑ − τ(1 − ε)L↓] / (τε);   Ts = K2 / ln(K1 / B(Ts) + 1) − 273.15\n"
        "Brightness temperature Tb = K2 / ln(K1 / L + 1) − 273.15\n"
        "ε: NDVI > 0.5 → vegetation emissivity (0.99); 0.2 ≤ NDVI ≤ 0.5 → 0.004·Pv + 0.986 with "
        "Pv = ((NDVI − 0.2)/0.3)²; NDVI < 0.2 → bare soil: from red reflectance, "
        "0.979 − 0.035ρred (TM, ETM+) or 0.973 − 0.047ρred (OLI/TIRS band 10), when RED is given; "
        "else SOIL_EMISSIVITY (0.97).\n"
        "K1, K2 per sensor: Landsat 8 B10 774.8853/1321.0789, Landsat 9 B10 799.0284/1329.2405, "
        "TM5 B6 607.76/1260.56, ETM+ B6 666.09/1282.71, TM4 B6 671.62/1284.30."
    )
    nodata_rule = (
        "NoData in the radiance or NDVI (or in RED where it sets a bare-soil emissivity) is NoData "
        "in the outputs; so is a pixel where the corrected radiance B(Ts) is not positive."
    )
    references = (
        "Sobrino, J.A., Jiménez-Muñoz, J.C. & Paolini, L. (2004) Land surface temperature "
        "retrieval from LANDSAT TM 5. Remote Sens. Environ. 90, 434–440.",
        "Yu, X., Guo, X. & Wu, Z. (2014) Land surface temperature retrieval from Landsat 8 TIRS: "
        "comparison between radiative transfer equation-based method, split window algorithm and "
        "single channel method. Remote Sens. 6, 9829–9852.",
        "Barsi, J.A. et al. (2005) Validation of a web-based atmospheric correction tool for "
        "single thermal band instruments. Proc. SPIE 5882.",
        "USGS Landsat 8–9 and Landsat 4–7 data users handbooks (K1, K2).",
    )

    def initAlgorithm(self, config=None):
        self.add_raster(
            "THERMAL",
            "Thermal band radiance (W·m⁻²·sr⁻¹·µm⁻¹)",
            "At-sensor spectral radiance of the thermal band, e.g. OUTPUT_THERMAL of "
            "'Landsat reflectance'.",
        )
        self.add_raster(
            "NDVI",
            "NDVI",
            "NDVI of the same scene (any grid: it is aligned); values outside [−1, 1] are an "
            "error.",
        )
        self.add_enum(
            "SENSOR",
            "Thermal sensor",
            [s.label for s in SENSORS],
            0,
            "Sets K1, K2 and the bare-soil emissivity rule.",
        )
        self.add_number(
            "TAU",
            "Atmospheric transmissivity τ",
            1.0,
            "Band-effective transmittance (0–1].",
            minimum=0.0001,
            maximum=1.0,
        )
        self.add_number(
            "L_UP",
            "Upwelling radiance L↑ (W·m⁻²·sr⁻¹·µm⁻¹)",
            0.0,
            "Band-effective upwelling path radiance.",
            minimum=0.0,
        )
        self.add_number(
            "L_DOWN",
            "Downwelling radiance L↓ (W·m⁻²·sr⁻¹·µm⁻¹)",
            0.0,
            "Band-effective downwelling sky radiance.",
            minimum=0.0,
        )
        self.add_raster(
            "RED",
            "Red reflectance (optional; for bare-soil emissivity)",
            "A red reflectance band, or the canonical 6-band stack (its band 3 is "
            "used). Without it, bare soil takes SOIL_EMISSIVITY.",
            optional=True,
        )
        self.add_number(
            "SOIL_EMISSIVITY",
            "Bare-soil emissivity (without RED)",
            0.97,
            "Emissivity of pixels with NDVI < 0.2 when RED is not given.",
            minimum=0.5,
            maximum=1.0,
        )
        self.add_number(
            "VEGETATION_EMISSIVITY",
            "Full-vegetation emissivity",
            0.99,
            "Emissivity of pixels with NDVI > 0.5 (Sobrino et al. 2004).",
            minimum=0.5,
            maximum=1.0,
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "Land surface temperature (°C)", "LST in °C, float32.")
        self.add_output_raster(
            "OUTPUT_EMISSIVITY",
            "Emissivity",
            "Land surface emissivity used, float32.",
            optional=True,
        )
        self.add_output_raster(
            "OUTPUT_BRIGHTNESS",
            "Brightness temperature (°C)",
            "At-sensor brightness temperature in °C, float32.",
            optional=True,
        )

    def process(self, parameters, context, feedback):
        sensor = SENSORS[self.parameterAsEnum(parameters, "SENSOR", context)]
        tau = self.parameterAsDouble(parameters, "TAU", context)
        l_up = self.parameterAsDouble(parameters, "L_UP", context)
        l_down = self.parameterAsDouble(parameters, "L_DOWN", context)
        soil_emissivity = self.parameterAsDouble(parameters, "SOIL_EMISSIVITY", context)
        veg_emissivity = self.parameterAsDouble(parameters, "VEGETATION_EMISSIVITY", context)
        radiance = self.raster_source(parameters, "THERMAL", context, bands=(1,))
        sources = [radiance, self.raster_source(parameters, "NDVI", context, bands=(1,))]
        red = self.raster_source(parameters, "RED", context)
        if red is not None:
            count = red.band_count()
            if count not in (1, 6):
                raise QgsProcessingException(
                    f"RED: has {count} bands; give one red band or the 6-band reflectance stack"
                )
            sources.append(dataclasses.replace(red, bands=(3 if count == 6 else 1,)))
        metadata = {
            "SENSOR": sensor.key,
            "K1": sensor.k1,
            "K2": sensor.k2,
            "TAU": tau,
            "L_UP": l_up,
            "L_DOWN": l_down,
            "BARE_SOIL": f"{sensor.soil_intercept} - {sensor.soil_slope}*red"
            if red is not None
            else f"{soil_emissivity}",
        }
        targets = [
            self.raster_target(parameters, name, context, metadata=metadata)
            for name in ("OUTPUT", "OUTPUT_EMISSIVITY", "OUTPUT_BRIGHTNESS")
        ]
        feedback.pushInfo(
            f"{sensor.label}: K1 = {sensor.k1}, K2 = {sensor.k2}; τ = {tau}, L↑ = {l_up}, "
            f"L↓ = {l_down}"
        )

        def kernel(radiance_block, ndvi_block, red_block=None):
            with np.errstate(invalid="ignore"):
                bad = np.abs(ndvi_block[0]) > 1 + 1e-6
            if bad.any():
                raise engine.EngineError(
                    "NDVI",
                    f"values outside [−1, 1], e.g. {float(ndvi_block[0][bad][0]):.6g}; rescale "
                    "the NDVI (e.g. × 0.0001 for values stored × 10 000)",
                )
            emissivity = thermal.emissivity_from_ndvi(
                ndvi_block[0],
                None if red_block is None else red_block[0],
                soil_intercept=sensor.soil_intercept,
                soil_slope=sensor.soil_slope,
                soil_emissivity=soil_emissivity,
                vegetation_emissivity=veg_emissivity,
            )
            # The NDVI grid may be wider than the radiance's valid area: keep both masks.
            emissivity = np.where(np.isnan(radiance_block[0]), np.nan, emissivity)
            kelvin = thermal.land_surface_temperature(
                radiance_block[0], emissivity, tau, l_up, l_down, sensor.k1, sensor.k2
            )
            brightness = None
            if targets[2] is not None:
                brightness = thermal.brightness_temperature(radiance_block[0], sensor.k1, sensor.k2)
                brightness = brightness - np.float32(thermal.KELVIN_OFFSET)
            return kelvin - np.float32(thermal.KELVIN_OFFSET), emissivity, brightness

        self.run_blocks(
            kernel,
            sources,
            targets,
            monitor=self.monitor(feedback),
            work_factor=6,
        )
        return self.outputs(
            dict(zip(("OUTPUT", "OUTPUT_EMISSIVITY", "OUTPUT_BRIGHTNESS"), targets, strict=True))
        )

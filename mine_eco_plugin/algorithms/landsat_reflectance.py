"""Landsat preparation: DN → reflectance stack in the canonical band order, and thermal radiance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
)

from .. import engine
from ..core import landsat
from .base import MineEcoAlgorithm

ETM_THERMAL = ("VCID_1", "VCID_2")


class LandsatReflectance(MineEcoAlgorithm):
    algorithm_id = "landsat_reflectance"
    display_name = "Landsat reflectance"
    group_key = "preparation"
    #: Natural colour: red, green, blue of the canonical stack.
    rgb_outputs = {"OUTPUT": (3, 2, 1)}
    summary = (
        "Reflectance stack in the canonical band order blue, green, red, NIR, SWIR1, SWIR2 "
        "(TM/ETM+ bands 1, 2, 3, 4, 5, 7; OLI bands 2–7), either from a Landsat MTL file "
        "(Level-1: top-of-atmosphere reflectance corrected for the sun elevation; Collection-2 "
        "Level-2: surface reflectance) or from a 6-band stack of scaled integers with a scale "
        "and offset (default: Collection-2 Level-2, 2.75e-5·DN − 0.2). With an MTL file the "
        "thermal band's at-sensor radiance can be written too (input of 'Land surface "
        "temperature'). The sensor, band files and coefficients used are logged and written to "
        "the output's metadata."
    )
    formula = (
        "Level-1 TOA reflectance: ρ = (M·DN + A) / sin(θSE), M and A the MTL's "
        "REFLECTANCE_MULT/ADD_BAND_n, θSE its SUN_ELEVATION\n"
        "Level-2 surface reflectance: ρ = M·DN + A (Collection 2: M = 2.75e-5, A = −0.2)\n"
        "Thermal radiance: L = ML·DN + AL (RADIANCE_MULT/ADD_BAND_n; W·m⁻²·sr⁻¹·µm⁻¹)"
    )
    nodata_rule = (
        "With an MTL file, DN 0 (the Level-1 fill value) and the bands' own NoData are NoData in "
        "every output; a pixel missing in any reflective band is NoData in all six. With a "
        "stack, the stack's NoData is kept band by band. Reflectance is not clipped: values "
        "slightly below 0 or above 1 are kept as computed."
    )
    references = (
        "USGS (2019) Landsat 8 (L8) Data Users Handbook, LSDS-1574, §5 (DN to TOA reflectance "
        "and radiance).",
        "USGS (2020) Landsat 8-9 Collection 2 Level 2 Science Product Guide, LSDS-1619 "
        "(scale 2.75e-5, offset −0.2).",
        "Chander, G., Markham, B.L. & Helder, D.L. (2009) Summary of current radiometric "
        "calibration coefficients for Landsat MSS, TM, ETM+, and EO-1 ALI sensors. Remote Sens. "
        "Environ. 113, 893–903.",
    )

    def initAlgorithm(self, config=None):
        self.add(
            QgsProcessingParameterFile(
                "MTL",
                self.tr("Landsat MTL metadata file (*_MTL.txt)"),
                QgsProcessingParameterFile.Behavior.File,
                "txt",
                optional=True,
            ),
            "The scene's MTL file; the band files are found next to it by their names in the "
            "MTL. Leave blank to use INPUT instead.",
        )
        self.add_raster(
            "INPUT",
            "Or: 6-band stack of scaled integers",
            "A stack blue, green, red, NIR, SWIR1, SWIR2 of scaled integers (e.g. "
            "Collection-2 Level-2 SR_B bands), used when no MTL is given.",
            optional=True,
        )
        self.add_number(
            "SCALE",
            "Scale (stack only)",
            2.75e-5,
            "Multiplier applied to the stack (Collection-2 Level-2: 2.75e-5).",
        )
        self.add_number(
            "OFFSET",
            "Offset (stack only)",
            -0.2,
            "Added after scaling (Collection-2 Level-2: −0.2).",
        )
        self.add_enum(
            "ETM_THERMAL",
            "ETM+ thermal band",
            ["6 low gain (VCID_1)", "6 high gain (VCID_2)"],
            0,
            "Which ETM+ band 6 gives the thermal radiance: low gain never saturates "
            "over hot surfaces; high gain is finer but saturates above about 47 °C.",
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT", "Reflectance stack", "Six float32 bands: blue, green, red, NIR, SWIR1, SWIR2."
        )
        self.add_output_raster(
            "OUTPUT_THERMAL",
            "Thermal radiance",
            "At-sensor radiance of the thermal band (MTL only), float32. The thermal band "
            "file is needed only when this output is asked for.",
            optional=True,
        )
        self.addOutput(QgsProcessingOutputString("SENSOR", self.tr("Sensor")))

    def input_files(self, parameters, context):
        """The MTL file and the band files it names (no output may replace them)."""
        found = super().input_files(parameters, context)
        mtl_path = self.parameterAsFile(parameters, "MTL", context)
        if mtl_path:
            etm_thermal = ETM_THERMAL[self.parameterAsEnum(parameters, "ETM_THERMAL", context)]
            try:
                mtl = landsat.parse_mtl_file(Path(mtl_path))
                scene = landsat.scene_from_mtl(mtl, Path(mtl_path).parent, etm_thermal=etm_thermal)
            except (landsat.MtlError, OSError, UnicodeDecodeError):
                return found  # reported by the run itself
            for band in [*scene.reflectance_bands, scene.thermal]:
                if band is not None and Path(band.path).exists():
                    found.append(("MTL", str(band.path)))
        return found

    def process(self, parameters, context, feedback):
        mtl_path = self.parameterAsFile(parameters, "MTL", context)
        if mtl_path:
            return self.from_mtl(Path(mtl_path), parameters, context, feedback)
        stack = self.raster_source(parameters, "INPUT", context, band_count=6)
        if stack is None:
            raise QgsProcessingException("MTL: give an MTL file, or a 6-band stack as INPUT")
        return self.from_stack(stack, parameters, context, feedback)

    def from_stack(self, stack, parameters, context, feedback):
        scale = self.parameterAsDouble(parameters, "SCALE", context)
        offset = self.parameterAsDouble(parameters, "OFFSET", context)
        if scale == 0:
            raise QgsProcessingException("SCALE: must not be 0")
        if self.destination(parameters, "OUTPUT_THERMAL", context):
            feedback.reportError(
                "OUTPUT_THERMAL needs an MTL file (the stack has no thermal band); not written.",
                False,
            )
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            bands=6,
            band_names=landsat.CANONICAL_BANDS,
            metadata={"SCALE": scale, "OFFSET": offset},
        )
        self.run_blocks(
            lambda dn: landsat.scale_offset(dn, scale, offset),
            [stack],
            [target],
            monitor=self.monitor(feedback),
        )
        return {**self.outputs({"OUTPUT": target}), "SENSOR": ""}

    def from_mtl(self, path: Path, parameters, context, feedback):
        etm_thermal = ETM_THERMAL[self.parameterAsEnum(parameters, "ETM_THERMAL", context)]
        try:
            mtl = landsat.parse_mtl_file(path)
            scene = landsat.scene_from_mtl(mtl, path.parent, etm_thermal=etm_thermal)
        except landsat.MtlError as error:
            raise QgsProcessingException(f"MTL: {error}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise QgsProcessingException(f"MTL: cannot be read ({error})") from None
        bands = scene.reflectance_bands
        want_thermal = bool(self.destination(parameters, "OUTPUT_THERMAL", context))
        if want_thermal and scene.thermal is None:
            raise QgsProcessingException(
                f"OUTPUT_THERMAL: the {scene.level} product of {scene.spacecraft} has no thermal "
                "radiance band; leave OUTPUT_THERMAL empty"
            )
        # The thermal band file is read (and needed) only when its radiance is asked for.
        for band in [*bands, *([scene.thermal] if want_thermal else [])]:
            if not Path(band.path).exists():
                raise QgsProcessingException(
                    f"MTL: band file {Path(band.path).name} is not next to the MTL file"
                    + (" (needed for OUTPUT_THERMAL)" if band is scene.thermal else "")
                )
        elevation = scene.sun_elevation if scene.sun_correction else None
        feedback.pushInfo(
            f"{scene.spacecraft} {scene.sensor} {scene.level}; sun elevation "
            f"{scene.sun_elevation}°; {'TOA' if scene.sun_correction else 'surface'} reflectance"
        )
        for name, band in zip(landsat.CANONICAL_BANDS, bands, strict=True):
            feedback.pushInfo(f"  {name}: {Path(band.path).name} M={band.mult} A={band.add}")
        metadata = {
            "SPACECRAFT": scene.spacecraft,
            "SENSOR": scene.sensor,
            "LEVEL": scene.level,
            "SUN_ELEVATION": scene.sun_elevation,
            "REFLECTANCE_MULT": ",".join(str(b.mult) for b in bands),
            "REFLECTANCE_ADD": ",".join(str(b.add) for b in bands),
        }
        sources = [engine.RasterSource(str(b.path), parameter="MTL", bands=(1,)) for b in bands]
        targets = [
            self.raster_target(
                parameters,
                "OUTPUT",
                context,
                bands=6,
                band_names=landsat.CANONICAL_BANDS,
                metadata=metadata,
            ),
        ]
        if want_thermal:
            thermal = scene.thermal
            feedback.pushInfo(
                f"  thermal: {Path(thermal.path).name} ML={thermal.mult} AL={thermal.add}"
            )
            sources.append(engine.RasterSource(str(thermal.path), parameter="MTL", bands=(1,)))
            targets.append(
                self.raster_target(
                    parameters,
                    "OUTPUT_THERMAL",
                    context,
                    metadata={
                        **metadata,
                        "RADIANCE_MULT": thermal.mult,
                        "RADIANCE_ADD": thermal.add,
                        "THERMAL_SENSOR": scene.thermal_sensor_key or "",
                    },
                )
            )

        def kernel(*blocks):
            reflectance = np.stack(
                [
                    landsat.toa_reflectance(dn[0], band.mult, band.add, elevation)
                    for dn, band in zip(blocks[:6], bands, strict=True)
                ]
            )
            # A pixel filled in one band (scene edges differ by band) is filled in all.
            reflectance[:, np.isnan(reflectance).any(axis=0)] = np.nan
            if not want_thermal:
                return (reflectance,)
            return reflectance, landsat.dn_to_radiance(
                blocks[6][0], scene.thermal.mult, scene.thermal.add
            )

        self.run_blocks(kernel, sources, targets, monitor=self.monitor(feedback))
        results = self.outputs(
            {"OUTPUT": targets[0], "OUTPUT_THERMAL": targets[1] if want_thermal else None}
        )
        results["SENSOR"] = scene.thermal_sensor_key or scene.sensor
        return results

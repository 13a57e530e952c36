"""Vegetation health index (the resilience study's Eq. 4): VCI, TCI and VHI for every date of an
NDVI and temperature series."""

from __future__ import annotations

import numpy as np
from qgis.core import QgsProcessingException, QgsProcessingOutputString

from .. import engine
from ..core import vhi
from .base import MineEcoAlgorithm

EXTREMES = ("auto", "pixel", "scene")


class VegetationHealthIndex(MineEcoAlgorithm):
    algorithm_id = "vhi"
    display_name = "Vegetation health index (VCI, TCI, VHI)"
    group_key = "spectral"
    summary = (
        "Vegetation condition VCI, temperature condition TCI and vegetation health VHI (Kogan "
        "1995; the resilience study's Eq. 4, indicator C4) for every date of an NDVI series and "
        "the "
        "matching land-surface or brightness temperature series (one layer per date, same "
        "order). The extremes are each pixel's minimum and maximum over the dates given; with "
        "one date (or EXTREMES = scene) they are the scene's minimum and maximum over all valid "
        "pixels and dates, and the log says so. Each output has one band per date."
    )
    formula = (
        "VCI = (NDVI − NDVImin) / (NDVImax − NDVImin)\n"
        "TCI = (Tmax − T) / (Tmax − Tmin)\n"
        "VHI = α·VCI + (1 − α)·TCI,  α = ALPHA (0.5: equal water and temperature contributions, "
        "the resilience study after Kogan 2001)\n"
        "×100 when SCALE is 0–100. T in any unit (K or °C), the same for every date."
    )
    nodata_rule = (
        "A date's NoData NDVI (temperature) gives NoData VCI (TCI) and VHI on that date; NoData "
        "dates are left out of a pixel's extremes. A pixel whose NDVI (temperature) is the same "
        "on all its valid dates has no range: NoData VCI (TCI) and VHI."
    )
    references = (
        "Kogan, F.N. (1995) Application of vegetation index and brightness temperature for "
        "drought detection. Adv. Space Res. 15(11), 91–100.",
        "Kogan, F.N. (2001) Operational space technology for global vegetation assessment. "
        "Bull. Amer. Meteor. Soc. 82(9), 1949–1964 (α = 0.5).",
        "The resilience study, Eq. 4.",
    )

    def initAlgorithm(self, config=None):
        self.add_rasters(
            "NDVI",
            "NDVI, one layer per date",
            "NDVI of each date (band 1), in date order; the first layer's grid is the output grid.",
        )
        self.add_rasters(
            "LST",
            "Land-surface or brightness temperature, one layer per date",
            "Temperature of each date (band 1), in the same order as NDVI; aligned to NDVI's grid.",
        )
        self.add_number(
            "ALPHA",
            "Weight α of VCI",
            vhi.DEFAULT_ALPHA,
            "VHI = α·VCI + (1 − α)·TCI; 0.5 in the resilience study (Kogan 2001).",
            minimum=0.0,
            maximum=1.0,
        )
        self.add_enum(
            "EXTREMES",
            "Extremes",
            [
                "Per pixel over the dates (scene-wide with one date)",
                "Per pixel over the dates",
                "Scene-wide over all pixels and dates",
            ],
            0,
            "Where NDVImin/max and Tmin/max come from.",
        )
        self.add_enum("SCALE", "Output scale", ["0–1", "0–100"], 0, "Multiply by 100 or not.")
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT_VCI", "VCI", "Vegetation condition index, a band per date.", side=True
        )
        self.add_output_raster(
            "OUTPUT_TCI", "TCI", "Temperature condition index, a band per date.", side=True
        )
        self.add_output_raster("OUTPUT_VHI", "VHI", "Vegetation health index, a band per date.")
        self.addOutput(QgsProcessingOutputString("EXTREMES_USED", self.tr("Extremes used")))
        self.add_number_outputs(
            (
                ("NDVI_MIN", "Scene NDVI minimum (scene-wide extremes)"),
                ("NDVI_MAX", "Scene NDVI maximum (scene-wide extremes)"),
                ("T_MIN", "Scene temperature minimum (scene-wide extremes)"),
                ("T_MAX", "Scene temperature maximum (scene-wide extremes)"),
            )
        )

    def process(self, parameters, context, feedback):
        ndvi = self.raster_sources(parameters, "NDVI", context)
        lst = self.raster_sources(parameters, "LST", context)
        if not ndvi:
            raise QgsProcessingException("NDVI: at least one layer is needed")
        if len(lst) != len(ndvi):
            raise QgsProcessingException(
                f"LST: {len(lst)} layer(s) for {len(ndvi)} NDVI layer(s); one per date is needed"
            )
        alpha = self.parameterAsDouble(parameters, "ALPHA", context)
        scale = 100.0 if self.parameterAsEnum(parameters, "SCALE", context) == 1 else 1.0
        mode = EXTREMES[self.parameterAsEnum(parameters, "EXTREMES", context)]
        dates = len(ndvi)
        if mode == "pixel" and dates < 2:
            raise QgsProcessingException(
                "EXTREMES: per-pixel extremes need at least two dates; one NDVI layer was given"
            )
        if mode == "auto":
            mode = "pixel" if dates >= 2 else "scene"
        grid = engine.resolve_grid(ndvi)
        monitor = self.monitor(feedback)
        scene = None
        results = {"EXTREMES_USED": mode}
        if mode == "scene":
            scene = self.scene_extremes(ndvi, lst, grid, monitor.span(0.0, 0.3))
            monitor = monitor.span(0.3, 1.0)
            feedback.pushInfo(
                f"{'One date' if dates == 1 else f'{dates} dates'}: scene-wide extremes over all "
                f"valid pixels{'' if dates == 1 else ' and dates'} — NDVI {scene.ndvi_min:.6g} … "
                f"{scene.ndvi_max:.6g}, T {scene.t_min:.6g} … {scene.t_max:.6g}"
            )
            results.update(
                NDVI_MIN=scene.ndvi_min,
                NDVI_MAX=scene.ndvi_max,
                T_MIN=scene.t_min,
                T_MAX=scene.t_max,
            )
        else:
            feedback.pushInfo(f"Per-pixel extremes over {dates} dates")
        feedback.pushInfo(f"α = {alpha:g}; scale {scale:g}")
        names = [layer.parameter for layer in ndvi]
        metadata = {"ALPHA": alpha, "EXTREMES": mode, "SCALE": scale, "DATES": dates}
        if scene is not None:
            metadata.update(
                NDVI_MIN=scene.ndvi_min,
                NDVI_MAX=scene.ndvi_max,
                T_MIN=scene.t_min,
                T_MAX=scene.t_max,
            )
        targets = {
            name: self.raster_target(
                parameters,
                name,
                context,
                bands=dates,
                band_names=[f"{label} date {i + 1}" for i in range(dates)],
                metadata={**metadata, "DATE_LAYERS": " | ".join(names)},
            )
            for name, label in (("OUTPUT_VCI", "VCI"), ("OUTPUT_TCI", "TCI"), ("OUTPUT_VHI", "VHI"))
        }

        def kernel(*blocks):
            stack_ndvi = np.stack([b[0] for b in blocks[:dates]])
            stack_t = np.stack([b[0] for b in blocks[dates:]])
            return vhi.condition_indices(stack_ndvi, stack_t, alpha=alpha, scene=scene, scale=scale)

        self.run_blocks(
            kernel,
            ndvi + lst,
            list(targets.values()),
            grid=grid,
            monitor=monitor,
        )
        results.update(self.outputs(targets))
        return results

    def scene_extremes(self, ndvi, lst, grid, monitor) -> vhi.SceneExtremes:
        """Minimum and maximum NDVI and temperature over every valid pixel of every date."""
        dates = len(ndvi)
        summaries = [engine.RunningSummary(), engine.RunningSummary()]

        def visit(window, *blocks):
            for block in blocks[:dates]:
                summaries[0].update(block[0])
            for block in blocks[dates:]:
                summaries[1].update(block[0])

        self.scan(visit, ndvi + lst, grid=grid, monitor=monitor)
        for name, summary in zip(("NDVI", "LST"), summaries, strict=True):
            if summary.count == 0:
                raise QgsProcessingException(f"{name}: no valid pixels")
            if not summary.maximum > summary.minimum:
                raise QgsProcessingException(
                    f"{name}: constant ({summary.minimum:.6g}) over the scene; scene-wide "
                    "extremes need a range"
                )
        return vhi.SceneExtremes(
            summaries[0].minimum, summaries[0].maximum, summaries[1].minimum, summaries[1].maximum
        )

"""Desertification difference index DDI from the albedo–NDVI feature space (the resilience study's
Eq. 1–2): normalisation statistics, a streamed least-squares fit, then the index."""

from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterBoolean,
)

from .. import engine
from ..core import desertification
from ..core.statistics import exact_percentiles
from .base import MineEcoAlgorithm

NORMALISATIONS = ("minmax", "percentiles")


class DesertificationIndex(MineEcoAlgorithm):
    algorithm_id = "desertification_index"
    display_name = "Desertification index (DDI, albedo–NDVI)"
    group_key = "spectral"
    summary = (
        "Desertification difference index DDI (the resilience study's Eq. 1–2, indicator C1) from "
        "the albedo–NDVI feature space: NDVI and albedo are normalised to [0, 1] over the valid "
        "pixels, the least-squares line A = a·N + b is fitted over the same pixels, and DDI = "
        "k·N − A with k = −1/a. The slope, intercept, k and r² are reported as outputs, in the "
        "log and in the raster's metadata. A fit with a non-negative slope is an error: the "
        "scene does not show the expected albedo–NDVI relation (mask water, cloud and snow "
        "with MASK). Three passes: statistics, fit (streamed sums), index.\n\n"
        "Direction: a vegetated scene has a < 0, so k > 0 and DDI rises with vegetation and "
        "falls with albedo: dense vegetation has the highest DDI, bright bare (desertified) "
        "land the lowest (Zeng et al. 2006 class large DDI as non-desertified). In an index "
        "where higher means healthier, DDI therefore enters with trend +. The resilience study's "
        "Table 2 prints C1 with trend −, which contradicts its Eq. 1–2; 'Resilience index' and "
        "the 'Ecological resilience evaluation' model use + by default and keep the printed − "
        "as an option (DDI_TREND)."
    )
    formula = (
        "N = (NDVI − NDVImin)/(NDVImax − NDVImin), A = (α − αmin)/(αmax − αmin)   (min–max over "
        "valid pixels; or the LOW/HIGH percentiles, values clipped to [0, 1])\n"
        "A = a·N + b   (ordinary least squares of A on N; Eq. 2)\n"
        "k = −1/a;   DDI = k·N − A   (Eq. 1)\n"
        "r² = squared Pearson correlation of N and A over the fitted pixels"
    )
    nodata_rule = (
        "A pixel is used for the statistics and the fit when NDVI and albedo are both valid and "
        "MASK (if given) is valid and not 0. NoData NDVI or albedo is NoData DDI; pixels the "
        "mask excludes are NoData too unless MASK_OUTPUT is unchecked."
    )
    references = (
        "Verstraete, M.M. & Pinty, B. (1996) Designing optimal spectral indexes for remote "
        "sensing applications. IEEE Trans. Geosci. Remote Sens. 34(5), 1254–1265.",
        "Zeng, Y., Feng, Z. & Xiang, N. (2006) Albedo–NDVI space and remote sensing synthesis "
        "index models for desertification monitoring. Scientia Geographica Sinica 26(1), 75–81.",
        "The resilience study, Eq. 1–2.",
    )

    def initAlgorithm(self, config=None):
        self.add_raster("NDVI", "NDVI", "NDVI (band 1); its grid is the output grid.")
        self.add_raster(
            "ALBEDO", "Albedo", "Broadband albedo (band 1), e.g. from 'Albedo'; aligned to NDVI."
        )
        self.add_raster(
            "MASK",
            "Mask (optional)",
            "Pixels where the mask is 0 or NoData are left out of the statistics and the fit "
            "(e.g. water, cloud, snow: give a land mask of 1s). Nearest-neighbour resampling.",
            optional=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "MASK_OUTPUT", self.tr("Masked pixels are NoData in the output"), True
            ),
            "Unchecked: DDI is computed for masked pixels too, with the fit of the others.",
        )
        self.add_enum(
            "NORMALISATION",
            "Normalisation",
            ["Minimum–maximum", "Percentiles (LOW_PERCENTILE, HIGH_PERCENTILE), clipped"],
            0,
            "Min–max as in the resilience study; percentiles resist outliers.",
        )
        self.add_number(
            "LOW_PERCENTILE",
            "Low percentile",
            1.0,
            "Used with percentile normalisation; default 1 (our choice: the resilience study uses "
            "min–max).",
            minimum=0.0,
            maximum=100.0,
            advanced=True,
        )
        self.add_number(
            "HIGH_PERCENTILE",
            "High percentile",
            99.0,
            "Used with percentile normalisation; default 99 (our choice, as LOW_PERCENTILE).",
            minimum=0.0,
            maximum=100.0,
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "DDI", "Desertification difference index, float32.")
        self.add_number_outputs(
            (
                ("SLOPE", "Slope a of A = a·N + b"),
                ("INTERCEPT", "Intercept b"),
                ("K", "k = −1/a"),
                ("R2", "r² of the fit"),
                ("PIXELS", "Pixels in the fit"),
                ("NDVI_LOW", "NDVI normalisation low"),
                ("NDVI_HIGH", "NDVI normalisation high"),
                ("ALBEDO_LOW", "Albedo normalisation low"),
                ("ALBEDO_HIGH", "Albedo normalisation high"),
            )
        )

    def process(self, parameters, context, feedback):
        ndvi = self.raster_source(parameters, "NDVI", context, bands=(1,))
        albedo = self.raster_source(parameters, "ALBEDO", context, bands=(1,))
        mask = self.raster_source(parameters, "MASK", context, bands=(1,), resampling="nearest")
        mask_output = self.parameterAsBool(parameters, "MASK_OUTPUT", context)
        method = NORMALISATIONS[self.parameterAsEnum(parameters, "NORMALISATION", context)]
        low_p = self.parameterAsDouble(parameters, "LOW_PERCENTILE", context)
        high_p = self.parameterAsDouble(parameters, "HIGH_PERCENTILE", context)
        if method == "percentiles" and not low_p < high_p:
            raise QgsProcessingException(
                f"LOW_PERCENTILE ({low_p:g}) must be below HIGH_PERCENTILE ({high_p:g})"
            )
        sources = [ndvi, albedo] + ([mask] if mask is not None else [])
        grid = engine.resolve_grid(sources)
        monitor = self.monitor(feedback)

        def used(n, a, m=None):
            """NDVI and albedo of the pixels that enter the statistics (NaN elsewhere)."""
            keep = ~(np.isnan(n) | np.isnan(a))
            if m is not None:
                keep &= ~np.isnan(m) & (m != 0)
            return np.where(keep, n, np.nan), np.where(keep, a, np.nan)

        # Pass 1: normalisation statistics.
        if method == "minmax":
            ranges = self.min_max(sources, grid, used, monitor.span(0.0, 0.3))
        else:
            ranges = self.percentiles(sources, grid, used, (low_p, high_p), monitor.span(0.0, 0.3))
        (n_low, n_high), (a_low, a_high) = ranges
        for name, (low, high) in (("NDVI", ranges[0]), ("ALBEDO", ranges[1])):
            if not high > low:
                raise QgsProcessingException(
                    f"{name}: constant ({low:.6g}) over the pixels used; normalisation needs a "
                    "range"
                )
        clip = method == "percentiles"

        def normalised(n, a):
            return (
                desertification.normalise(n, n_low, n_high, clip=clip),
                desertification.normalise(a, a_low, a_high, clip=clip),
            )

        # Pass 2: least-squares fit of A on N, streamed.
        fit = desertification.LinearFit()

        def visit(window, *blocks):
            n, a = used(*(b[0] for b in blocks))
            fit.update(*normalised(n, a))

        self.scan(visit, sources, grid=grid, monitor=monitor.span(0.3, 0.6))
        if fit.count < 3:
            raise QgsProcessingException(
                f"NDVI: {fit.count} pixel(s) with valid NDVI and albedo (and mask); at least 3 "
                "are needed for the fit"
            )
        slope, intercept, r2 = fit.slope, fit.intercept, fit.r_squared
        feedback.pushInfo(
            f"Normalisation ({method}): NDVI {n_low:.6g} … {n_high:.6g}, albedo {a_low:.6g} … "
            f"{a_high:.6g}; fit over {fit.count} pixels: A = {slope:.6g}·N + {intercept:.6g}, "
            f"r² = {r2:.4f}"
        )
        try:
            k = desertification.ddi_k(slope)
        except ValueError:
            raise QgsProcessingException(
                f"ALBEDO: the fitted slope a = {slope:.6g} (r² = {r2:.3f}) is not negative: the "
                "scene does not show the expected albedo–NDVI relation (albedo falling as NDVI "
                "rises). Mask water, cloud and snow (MASK), or check that NDVI and ALBEDO are "
                "the right layers of one scene."
            ) from None
        feedback.pushInfo(f"k = −1/a = {k:.6g}")
        numbers = {
            "SLOPE": slope,
            "INTERCEPT": intercept,
            "K": k,
            "R2": r2,
            "PIXELS": fit.count,
            "NDVI_LOW": n_low,
            "NDVI_HIGH": n_high,
            "ALBEDO_LOW": a_low,
            "ALBEDO_HIGH": a_high,
        }
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            metadata={**numbers, "NORMALISATION": method, "MASK_OUTPUT": mask_output},
        )

        # Pass 3: the index.
        def kernel(*blocks):
            n, a = (b[0] for b in blocks[:2])
            if mask is not None and mask_output:
                n, a = used(n, a, blocks[2][0])
            return desertification.desertification_index(*normalised(n, a), k)

        self.run_blocks(
            kernel,
            sources,
            [target],
            grid=grid,
            monitor=monitor.span(0.6, 1.0),
        )
        return {**self.outputs({"OUTPUT": target}), **numbers}

    def min_max(self, sources, grid, used, monitor):
        summaries = [engine.RunningSummary(), engine.RunningSummary()]

        def visit(window, *blocks):
            n, a = used(*(b[0] for b in blocks))
            summaries[0].update(n)
            summaries[1].update(a)

        self.scan(visit, sources, grid=grid, monitor=monitor)
        if summaries[0].count == 0:
            raise QgsProcessingException(
                "NDVI: no pixel has valid NDVI and albedo (and a non-zero mask)"
            )
        return [(s.minimum, s.maximum) for s in summaries]

    def percentiles(self, sources, grid, used, levels, monitor):
        """Exact percentiles of the used NDVI and albedo (core.statistics, a few passes)."""
        results = []
        for which in (0, 1):
            passes = {"done": 0}

            def reduce(map_block, combine, which=which, passes=passes):
                state = {}
                step = passes["done"]
                passes["done"] += 1
                part = monitor.span(0.5 * which, 0.5 * which + 0.5).span(
                    1 - 0.5**step, 1 - 0.5 ** (step + 1)
                )

                def visit(window, *blocks):
                    values = used(*(b[0] for b in blocks))[which]
                    partial = map_block(values[~np.isnan(values)])
                    state["result"] = (
                        partial if "result" not in state else combine(state["result"], partial)
                    )

                self.scan(visit, sources, grid=grid, monitor=part)
                return state.get("result")

            try:
                results.append(tuple(exact_percentiles(reduce, levels)))
            except ValueError:
                raise QgsProcessingException(
                    "NDVI: no pixel has valid NDVI and albedo (and a non-zero mask)"
                ) from None
        return results

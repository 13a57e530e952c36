"""ESTARFM Landsat–MODIS fusion (the NPP-drivers study's 30 m, 16-day NDVI; Zhu et al. 2010)."""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
from qgis.core import QgsProcessingException, QgsProcessingFeedback

from .. import engine
from ..core import estarfm
from ..core.statistics import RunningSummary
from .base import MineEcoAlgorithm

SIGMA_OPTIONS = (
    "Whole fine image (Eq. 13, the paper)",
    "Each block as read (the authors' code: each patch)",
)
RESAMPLING_OPTIONS = ("bilinear", "nearest", "cubic")

#: The settings 'ESTARFM fusion over a time series' passes on to every run, declared here once
#: for both algorithms (each gives its own help text): label, default and bounds.
SHARED_NUMBERS = {
    "WINDOW": (
        "Window half-width w (fine pixels)",
        estarfm.DEFAULT_HALF_WINDOW,
        {"minimum": 1, "integer": True},
    ),
    "CLASSES": ("Number of classes m", estarfm.DEFAULT_CLASSES, {"minimum": 1, "integer": True}),
    "VALID_MIN": ("Valid range: minimum (exclusive)", estarfm.DEFAULT_VALID_MIN, {}),
    "VALID_MAX": ("Valid range: maximum (exclusive)", estarfm.DEFAULT_VALID_MAX, {}),
}


def add_shared_number(algorithm: MineEcoAlgorithm, name: str, help_text: str) -> None:
    """Declare the ``SHARED_NUMBERS`` setting ``name`` on ``algorithm`` with ``help_text``."""
    label, default, bounds = SHARED_NUMBERS[name]
    algorithm.add_number(name, label, default, help_text, **bounds)


def add_coarse_resampling(algorithm: MineEcoAlgorithm, help_text: str) -> None:
    """Declare COARSE_RESAMPLING (an advanced choice of ``RESAMPLING_OPTIONS``)."""
    algorithm.add_enum(
        "COARSE_RESAMPLING",
        "Resampling of coarse images onto the fine grid",
        list(RESAMPLING_OPTIONS),
        0,
        help_text,
        advanced=True,
    )


class Estarfm(MineEcoAlgorithm):
    algorithm_id = "estarfm"
    display_name = "ESTARFM fusion (fine image at a coarse date)"
    group_key = "productivity"
    summary = (
        "Enhanced spatial and temporal adaptive reflectance fusion model (Zhu et al. 2010): "
        "predicts the fine-resolution image (e.g. Landsat, 30 m) at a date when only the "
        "coarse image (e.g. MODIS) exists, from two pairs of fine and coarse images taken on "
        "the same days before and after. Works on any number of bands (reflectance stacks, or "
        "a single band such as NDVI, as the NPP-drivers study does to build 16-day 30 m NDVI for "
        "CASA). The coarse images are resampled onto the fine image's grid (COARSE_RESAMPLING) "
        "unless already on it. The output has the bands and units of the inputs (float32). "
        "The computation is exact and vectorised over the window offsets: about 2 s for the "
        "authors' 400×400×3 test scene with the default 51×51 window on two cores, about 35 s "
        "for a 2000×2000 single-band image, where per-pixel ports need minutes and hours."
    )
    formula = (
        "For each pixel x_c, band B and base date t_k (k = m, n), in a window of "
        "(2·WINDOW + 1)² pixels (equation numbers of Zhu et al. 2010):\n"
        "similar pixels x_i (Eq. 13): |F(x_i,t_k,B) − F(x_c,t_k,B)| ≤ σ(B,t_k)·2/m for both base "
        "dates and all bands, m = CLASSES, σ = standard deviation of the fine band (SIGMA);\n"
        "R_i (Eq. 14) = Pearson r of the fine and coarse spectral vectors of x_i over both dates "
        "and all bands (one band: R_i = 1 − ½Σ_k |F_k − C_k|/(F_k + C_k), the authors' code);\n"
        "d_i (Eq. 15) = 1 + ‖x_i − x_c‖/WINDOW;  D_i (Eq. 16) = (1 − R_i)·d_i + 10⁻⁷;  "
        "W_i (Eq. 17) = (1/D_i)/Σ(1/D_i);\n"
        "V (§3.4) = least-squares slope of fine on coarse over the similar pixels at both dates, "
        "kept when |mean C(t_m) − mean C(t_n)| ≥ MIN_CHANGE·(VALID_MAX − VALID_MIN), p ≤ ALPHA "
        "(p = 1 − F-distribution CDF, 1 and 2N − 2 degrees of freedom) and 0 < V ≤ V_MAX, "
        "else V = 1;\n"
        "F_k = F(x_c,t_k,B) + Σ_i W_i·V·(C(x_i,t_p,B) − C(x_i,t_k,B))  (Eq. 12);\n"
        "T_k = (1/|ΣC(t_k,B) − ΣC(t_p,B)|) / Σ_k(1/|…|) over the window (Eq. 18);  "
        "F(x_c,t_p,B) = T_m·F_m + T_n·F_n  (Eq. 19).\n"
        "Fall-backs (authors' code): fewer than MIN_SIMILAR similar pixels → "
        "Σ_k T_k·(F(x_c,t_k) + Δ_k), Δ_k = window-mean coarse change from t_k to t_p (not "
        "revised); a prediction ≤ VALID_MIN or ≥ VALID_MAX → Σ_k T_k·Σ_i W_i·F(x_i,t_k).\n"
        "Choices the paper leaves open, as in the authors' code: one V per window from all its "
        "similar pixels (§3.4 groups them by coarse pixel, whose footprint resampling has "
        "erased); R_i of a constant spectral vector = 0.5; T_k per band; σ with n − 1."
    )
    nodata_rule = (
        "A value is valid when it lies strictly between VALID_MIN and VALID_MAX and is not "
        "NoData. A pixel is predicted only where all five inputs are valid in every band; "
        "elsewhere the output is NoData. Invalid pixels take no part in any window (similar "
        "pixels, temporal weights), and windows are cut at the raster's edge."
    )
    references = (
        "Zhu, X., Chen, J., Gao, F., Chen, X. & Masek, J.G. (2010) An enhanced spatial and "
        "temporal adaptive reflectance fusion model for complex heterogeneous regions. Remote "
        "Sens. Environ. 114, 2610–2623 (Eqs. 12–19; defaults w = 25, m = 4, §4.2.1).",
        "Zhu, X. ESTARFM IDL code, version 1.1 (2018 revision): valid range 0–10000, more than "
        "5 similar pixels, regression only when the coarse change ≥ 2 % of DN_max, "
        "0 < V ≤ 5 at p ≤ 0.05, revision of abnormal predictions, single-band similarity.",
        "Gao, F., Masek, J., Schwaller, M. & Hall, F. (2006) On the blending of the Landsat and "
        "MODIS surface reflectance: predicting daily Landsat surface reflectance. IEEE Trans. "
        "Geosci. Remote Sens. 44, 2207–2218 (the similarity threshold σ·2/m).",
        "The NPP-drivers study: §2.2.1, Eq. 1 (ESTARFM NDVI).",
    )

    def initAlgorithm(self, config=None):
        pair = "Same bands, in the same order, as the other four inputs."
        self.add_raster(
            "FINE1",
            "Fine image at base date 1 (t_m)",
            f"Fine-resolution image (e.g. Landsat) of the first base date; its grid is the "
            f"output grid. {pair}",
        )
        self.add_raster(
            "COARSE1",
            "Coarse image at base date 1",
            f"Coarse-resolution image (e.g. MODIS) of the first base date. {pair}",
        )
        self.add_raster("FINE2", "Fine image at base date 2 (t_n)", f"Second base date. {pair}")
        self.add_raster("COARSE2", "Coarse image at base date 2", f"Second base date. {pair}")
        self.add_raster(
            "COARSE_PRED",
            "Coarse image at the prediction date (t_p)",
            f"Coarse image of the date to predict, usually between the base dates. {pair}",
        )
        add_shared_number(
            self,
            "WINDOW",
            "The search window is (2w + 1)² fine pixels; 25 (51×51, three 500 m MODIS pixels "
            "of 30 m Landsat) is the paper's setting (§4.2.1). Smaller for homogeneous areas.",
        )
        add_shared_number(
            self,
            "CLASSES",
            "Estimated number of land-cover classes; the similarity threshold is σ·2/m "
            "(Eq. 13). 4 in the paper (§4.2.1); larger is stricter (use more for few bands).",
        )
        add_shared_number(
            self,
            "VALID_MIN",
            "Values ≤ this are invalid in the inputs and abnormal in the prediction (then "
            "revised). The authors' default is 0 for reflectance × 10 000; use −1 for NDVI.",
        )
        add_shared_number(
            self,
            "VALID_MAX",
            "Values ≥ this are invalid in the inputs and abnormal in the prediction. The "
            "authors' default is 10 000 (reflectance × 10 000); use 1 for reflectance 0–1 or "
            "NDVI. It also scales MIN_CHANGE.",
        )
        self.add_enum(
            "SIGMA",
            "Standard deviation σ of the similarity threshold",
            list(SIGMA_OPTIONS),
            0,
            "σ(B) of Eq. 13 for each fine image and band: over the whole image (a statistics "
            "pass first; the paper's definition, default) or over each block as read (as the "
            "authors' code does per 500-pixel patch; results then depend on the block size).",
            advanced=True,
        )
        self.add_number(
            "MIN_SIMILAR",
            "Minimum number of similar pixels",
            estarfm.DEFAULT_MIN_SIMILAR,
            "With fewer similar pixels (the central one included) the window-mean coarse change "
            "is used instead (the authors' code needs more than 5: default 6).",
            minimum=1,
            integer=True,
            advanced=True,
        )
        self.add_number(
            "MIN_CHANGE",
            "Minimum coarse change for the regression (share of the valid range)",
            estarfm.DEFAULT_MIN_CHANGE_FRACTION,
            "V is fitted only where the similar pixels' mean coarse values of the two base "
            "dates differ by at least this share of VALID_MAX − VALID_MIN (authors' code 1.1: "
            "2 % of DN_max, DN_min = 0); else V = 1. 0 always fits.",
            minimum=0.0,
            maximum=1.0,
            advanced=True,
        )
        self.add_number(
            "ALPHA",
            "Significance level of the conversion coefficient",
            estarfm.DEFAULT_ALPHA,
            "V is kept when the regression's F test gives p ≤ ALPHA (0.05, authors' code).",
            minimum=0.000001,
            maximum=0.999999,
            advanced=True,
        )
        self.add_number(
            "V_MAX",
            "Largest accepted conversion coefficient",
            estarfm.DEFAULT_V_MAX,
            "V is kept when 0 < V ≤ V_MAX (5, authors' code); else V = 1.",
            minimum=0.000001,
            advanced=True,
        )
        add_coarse_resampling(
            self,
            "Used only for inputs not already on FINE1's grid. Bilinear gives the smooth "
            "30 m MODIS of the authors' test data; nearest keeps the coarse pixels' values.",
        )
        self.add_number(
            "THREADS",
            "Threads",
            0,
            "Threads for the window computation (0: one per CPU core). Their numpy work runs "
            "in parallel; on a machine already busy with other work, fewer can be faster.",
            minimum=0,
            integer=True,
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT",
            "Predicted fine image",
            "The fine image at the prediction date: bands and units of the inputs, float32.",
        )

    # --- parameters -----------------------------------------------------------------------
    def _settings(self, parameters, context) -> tuple[estarfm.FusionSettings, dict]:
        number = self.parameterAsDouble
        valid_min = number(parameters, "VALID_MIN", context)
        valid_max = number(parameters, "VALID_MAX", context)
        if not valid_min < valid_max:
            raise QgsProcessingException(
                f"VALID_MAX: must be larger than VALID_MIN (got {valid_min} and {valid_max})"
            )
        half = self.parameterAsInt(parameters, "WINDOW", context)
        if half < 1:
            raise QgsProcessingException(f"WINDOW: the half-width must be at least 1, got {half}")
        classes = self.parameterAsInt(parameters, "CLASSES", context)
        if classes < 1:
            raise QgsProcessingException(f"CLASSES: must be at least 1, got {classes}")
        threads = self.parameterAsInt(parameters, "THREADS", context) or os.cpu_count() or 1
        fraction = number(parameters, "MIN_CHANGE", context)
        values = {
            "half_window": half,
            "classes": classes,
            "valid_min": valid_min,
            "valid_max": valid_max,
            "min_similar": self.parameterAsInt(parameters, "MIN_SIMILAR", context),
            "min_change": fraction * (valid_max - valid_min),
            "alpha": number(parameters, "ALPHA", context),
            "v_max": number(parameters, "V_MAX", context),
            "threads": threads,
        }
        try:
            settings = estarfm.FusionSettings(**values)
        except ValueError as error:
            raise QgsProcessingException(str(error)) from None
        return settings, {**values, "MIN_CHANGE_FRACTION": fraction}

    def _sources(self, parameters, context):
        resampling = RESAMPLING_OPTIONS[
            self.parameterAsEnum(parameters, "COARSE_RESAMPLING", context)
        ]
        names = ("FINE1", "COARSE1", "FINE2", "COARSE2", "COARSE_PRED")
        sources = [
            self.raster_source(
                parameters, name, context, resampling="bilinear" if name[0] == "F" else resampling
            )
            for name in names
        ]
        bands = sources[0].band_count()
        for name, source in zip(names[1:], sources[1:], strict=True):
            count = source.band_count()
            if count != bands:
                raise QgsProcessingException(
                    f"{name}: has {count} band(s) but FINE1 has {bands}; the five images need "
                    "the same bands in the same order"
                )
        return sources, bands

    def _fine_statistics(self, sources, settings, monitor, feedback):
        """One pass over FINE1 and FINE2: σ of each band's valid values (sample σ, n − 1) and
        checks that the valid range suits the data."""
        bands = sources[0].band_count()
        summaries = [[RunningSummary() for _ in range(bands)] for _ in range(2)]
        finite = np.zeros(2, dtype=np.int64)

        def visit(window, *blocks):
            for date, block in enumerate(blocks):
                finite[date] += int(np.isfinite(block).sum())
                for band in range(bands):
                    plane = block[band]
                    summaries[date][band].update(
                        plane[estarfm.in_range(plane, settings.valid_min, settings.valid_max)]
                    )

        self.scan(visit, [sources[0], sources[2]], monitor=monitor)
        sigma = np.empty((2, bands))
        span = settings.valid_max - settings.valid_min
        for date, name in enumerate(("FINE1", "FINE2")):
            kept = sum(s.count for s in summaries[date])
            for band, summary in enumerate(summaries[date]):
                if summary.count < 2:
                    raise QgsProcessingException(
                        f"{name}: band {band + 1} has {summary.count} value(s) inside the valid "
                        f"range ({settings.valid_min}, {settings.valid_max}); check VALID_MIN "
                        "and VALID_MAX against the data's scale"
                    )
                sigma[date, band] = np.sqrt(summary.m2 / (summary.count - 1))
            if finite[date] and kept < 0.95 * finite[date]:
                feedback.pushWarning(
                    f"{name}: {100 * (1 - kept / finite[date]):.1f} % of the values lie outside "
                    f"({settings.valid_min}, {settings.valid_max}) and count as NoData."
                )
            top = max(s.maximum for s in summaries[date])
            if top < settings.valid_min + 0.05 * span:
                feedback.pushWarning(
                    f"{name}: the values reach only {top:g}, far below VALID_MAX = "
                    f"{settings.valid_max:g}. If the data are reflectance 0–1 or NDVI, set the "
                    "valid range to their scale: it decides abnormal predictions and scales the "
                    "regression's minimum coarse change."
                )
        return sigma

    # --- run ---------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        started = time.perf_counter()
        feedback = feedback or QgsProcessingFeedback()
        settings, values = self._settings(parameters, context)
        sources, bands = self._sources(parameters, context)
        monitor = self.monitor(feedback)
        per_block = self.parameterAsEnum(parameters, "SIGMA", context) == 1
        sigma = self._fine_statistics(sources, settings, monitor.span(0.0, 0.05), feedback)
        metadata = {
            "ESTARFM_" + key.upper(): value
            for key, value in values.items()
            if key not in ("threads",)
        }
        if per_block:
            metadata["ESTARFM_SIGMA"] = "per block"
            feedback.pushInfo("σ of the similarity threshold: computed in each block.")
        else:
            thresholds = estarfm.similarity_thresholds(sigma, settings.classes)
            settings = dataclasses.replace(settings, thresholds=thresholds)
            metadata["ESTARFM_SIGMA"] = "whole image"
            for date, name in enumerate(("FINE1", "FINE2")):
                text = ", ".join(
                    f"band {b + 1}: σ = {sigma[date, b]:.6g}, threshold {thresholds[date, b]:.6g}"
                    for b in range(bands)
                )
                feedback.pushInfo(f"{name} {text}")
                metadata[f"ESTARFM_THRESHOLDS_{name}"] = ",".join(
                    f"{t:.6g}" for t in thresholds[date]
                )
        target = self.raster_target(parameters, "OUTPUT", context, bands=bands, metadata=metadata)
        grid = engine.resolve_grid(sources)
        total = float(grid.width * grid.height) or 1.0
        compute = monitor.span(0.05, 1.0)
        stats = estarfm.FusionStats()
        done = {"pixels": 0.0}
        h = settings.half_window

        def kernel(fine1, coarse1, fine2, coarse2, coarse_pred):
            pixels = (fine1.shape[1] - 2 * h) * (fine1.shape[2] - 2 * h)

            def report(fraction):
                compute.report((done["pixels"] + fraction * pixels) / total)

            result = estarfm.fuse_block(
                fine1,
                coarse1,
                fine2,
                coarse2,
                coarse_pred,
                settings,
                check=compute.check,
                report=report,
                stats=stats,
            )
            done["pixels"] += pixels
            return result

        self.run_blocks(
            kernel,
            sources,
            [target],
            grid=grid,
            halo=h,
            monitor=engine.Monitor(None, feedback.isCanceled, warn=feedback.pushWarning),
            # Per pixel of a block the kernel holds about 13 float32 and 4 float64 values per
            # band (thresholded copies, neighbour quantities, temporal weights) and the window
            # sums: 2 + 9 float32 values per band.
            work_factor=9,
        )
        self._log(feedback, stats, bands, time.perf_counter() - started, settings)
        return self.outputs({"OUTPUT": target})

    @staticmethod
    def _log(feedback, stats, bands, seconds, settings):
        feedback.pushInfo(
            f"Predicted {stats.predicted} pixels in {seconds:.1f} s on {settings.threads} "
            f"thread(s); mean number of similar pixels {stats.mean_similar:.1f}; "
            f"{stats.few_similar} pixel(s) with fewer than {settings.min_similar} similar "
            "pixels used the window-mean coarse change."
        )
        for band in range(bands):
            tried = stats.regression_tried[band] if stats.regression_tried else 0
            used = stats.regression_used[band] if stats.regression_used else 0
            revised = stats.revised[band] if stats.revised else 0
            feedback.pushInfo(
                f"Band {band + 1}: regression tried at {tried} pixel(s), V from it at {used} "
                f"(elsewhere V = 1); {revised} abnormal prediction(s) revised."
            )

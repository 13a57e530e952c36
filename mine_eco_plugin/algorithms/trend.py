"""Trend of an index over the years: Sen's slope, Mann–Kendall test and trend classes."""

from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterString,
)

from ..core import trend
from ..engine import styles
from .base import MineEcoAlgorithm

SHARES = ("SHARE_DECLINE", "SHARE_NO_CHANGE", "SHARE_IMPROVEMENT")


def parse_years(text: str, layers: int) -> list[float]:
    """Years from 'y1, y2, …': one per layer, distinct numbers."""
    try:
        years = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise QgsProcessingException(
            f"YEARS: '{text}' is not a comma-separated list of years"
        ) from None
    if len(years) != layers:
        raise QgsProcessingException(f"YEARS: {len(years)} year(s) for {layers} INPUT layer(s)")
    if len(set(years)) != len(years):
        raise QgsProcessingException(f"YEARS: every year must differ ({text})")
    return years


class IndexTrend(MineEcoAlgorithm):
    algorithm_id = "index_trend"
    display_name = "Index trend (Sen's slope, Mann–Kendall)"
    group_key = "evaluation"
    summary = (
        "Where is the resilience index heading? For a stack of index rasters, one per year "
        "(years given explicitly, unevenly spaced allowed, e.g. 2000, 2005, 2010, 2016, 2020), "
        "each pixel gets Sen's slope (change per year), the Mann–Kendall Z and two-sided p with "
        "the tie correction, and a trend class: significant decline, no significant change or "
        "significant improvement at ALPHA. The area shares of the classes are reported. With "
        "five years the smallest attainable two-sided p is 0.0275 (Z = 2.2 with the continuity "
        "correction): at ALPHA 0.01 no pixel can be significant."
    )
    formula = (
        "Sen's slope β = median over year pairs i < j of (x_j − x_i)/(t_j − t_i)\n"
        "S = Σ_{i<j} sign(x_j − x_i) (years in increasing order)\n"
        "Var(S) = [n(n − 1)(2n + 5) − Σ_g t_g(t_g − 1)(2t_g + 5)] / 18, t_g the tied group sizes\n"
        "Z = (S − 1)/√Var(S) if S > 0; 0 if S = 0; (S + 1)/√Var(S) if S < 0\n"
        "p = 2[1 − Φ(|Z|)]; class 1 decline if p ≤ α and Z < 0, 3 improvement if p ≤ α and "
        "Z > 0, else 2"
    )
    nodata_rule = (
        "A missing year (NoData) is left out of that pixel's series; pixels with fewer than "
        "MIN_YEARS valid years are NoData in every output and are not counted in the shares."
    )
    references = (
        "Sen, P.K. (1968) Estimates of the regression coefficient based on Kendall's tau. J. Am. "
        "Stat. Assoc. 63, 1379–1389.",
        "Mann, H.B. (1945) Nonparametric tests against trend. Econometrica 13, 245–259; Kendall, "
        "M.G. (1975) Rank Correlation Methods, 4th ed., Griffin.",
        "Hirsch, R.M., Slack, J.R. & Smith, R.A. (1982) Techniques of trend analysis for monthly "
        "water quality data. Water Resour. Res. 18, 107–121 (tie correction).",
    )

    def initAlgorithm(self, config=None):
        self.add_rasters(
            "INPUT",
            "Index rasters, one per year",
            "Single-band index rasters in any order, on any grids (aligned on the "
            "first); band 1 is used.",
        )
        self.add(
            QgsProcessingParameterString("YEARS", self.tr("Years (comma-separated)")),
            "The year of each INPUT layer, in the same order, e.g. 2000,2005,2010,2016,2020.",
        )
        self.add_number(
            "ALPHA",
            "Significance level α",
            0.05,
            "Two-sided significance level of the Mann–Kendall test.",
            minimum=0.0001,
            maximum=0.5,
        )
        self.add_number(
            "MIN_YEARS",
            "Minimum valid years per pixel",
            3,
            "Pixels with fewer valid years are NoData (at least 3).",
            minimum=3,
            integer=True,
        )
        self.add_run_switch()
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT",
            "Sen's slope (per year)",
            "Median pairwise slope, index units per year, float32.",
        )
        self.add_output_raster(
            "OUTPUT_Z", "Mann–Kendall Z", "Standard normal score, float32.", side=True
        )
        self.add_output_raster(
            "OUTPUT_P", "Mann–Kendall p", "Two-sided p-value, float32.", side=True
        )
        self.add_output_raster(
            "OUTPUT_CLASS",
            "Trend class",
            "1 significant decline, 2 no significant change, 3 significant improvement; styled.",
            side=True,
        )
        for name in SHARES:
            label = name.removeprefix("SHARE_").replace("_", " ").lower()
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(f"Area share: {label} (%)")))

    def process(self, parameters, context, feedback):
        sources = self.raster_sources(parameters, "INPUT", context)
        if len(sources) < 3:
            raise QgsProcessingException(f"INPUT: {len(sources)} layer(s); at least 3 years needed")
        years = parse_years(self.parameterAsString(parameters, "YEARS", context), len(sources))
        alpha = self.parameterAsDouble(parameters, "ALPHA", context)
        min_years = self.parameterAsInt(parameters, "MIN_YEARS", context)
        if min_years > len(sources):
            raise QgsProcessingException(
                f"MIN_YEARS: {min_years} is more than the {len(sources)} years given"
            )
        metadata = {
            "YEARS": ",".join(f"{y:g}" for y in years),
            "ALPHA": alpha,
            "MIN_YEARS": min_years,
        }
        targets = [
            self.raster_target(parameters, name, context, metadata=metadata)
            for name in ("OUTPUT", "OUTPUT_Z", "OUTPUT_P")
        ]
        targets.append(
            self.class_target(
                parameters,
                "OUTPUT_CLASS",
                context,
                styles.TREND_CLASSES,
                metadata=metadata,
            )
        )
        counts = np.zeros(4, dtype=np.int64)

        def kernel(*blocks):
            series = np.stack([block[0] for block in blocks])
            slope, z, p, classes = trend.index_trend(series, years, alpha, min_years)
            counts[:] += np.bincount(
                np.nan_to_num(classes, nan=0).astype(np.int64).ravel(), minlength=4
            )[:4]
            return slope, z, p, classes

        self.run_blocks(
            kernel,
            sources,
            targets,
            monitor=self.monitor(feedback),
            work_factor=8,
        )
        valid = counts[1:].sum()
        shares = {
            name: float(100.0 * counts[code] / valid) if valid else 0.0
            for name, code in zip(
                SHARES, (trend.DECLINE, trend.NO_CHANGE, trend.IMPROVEMENT), strict=True
            )
        }
        feedback.pushInfo(", ".join(f"{k} = {v:.2f} %" for k, v in shares.items()))
        names = ("OUTPUT", "OUTPUT_Z", "OUTPUT_P", "OUTPUT_CLASS")
        return {**self.outputs(dict(zip(names, targets, strict=True))), **shares}

"""The resilience index of several years on one scale: the study's 2000–2020 evolution in one
run (joint normalisation, yearly index and classes, class transitions, trend)."""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np
from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsProject,
)

from .. import engine, layer_styles
from ..core import evaluation_classes as classes
from ..core import evaluation_weights as weighting
from ..core import trend as trends_core
from ..core import years as joint
from ..core.evaluation_index import check_range, composite_index, normalise
from ..engine import RasterTarget, styles
from ..provider_info import plugin_version
from .evaluation_support import INDICATOR_COLUMNS, EvaluationAlgorithm, format_weights, row_areas
from .resilience import SLOTS, PresetHierarchy, slot_band

RANGE_LABELS = (
    "Joint: each indicator's minimum and maximum over all years (one scale)",
    "Per year: each year on its own minimum and maximum (years not comparable)",
    "Given: MINIMA and MAXIMA",
)
DDI_TRENDS = (+1, -1)
_YEAR = re.compile(r"(?<!\d)(19\d{2}|20\d{2})(?!\d)")


def check_layer_year(parameter: str, layer, year: int, order: str) -> None:
    """Refuse a layer whose name holds years but not ``year``: a layer in another year's place
    (``order`` says how the layers are ordered)."""
    named = {int(y) for y in _YEAR.findall(layer.name())}
    if named and year not in named:
        raise QgsProcessingException(
            f"{parameter}: layer '{layer.name()}' is in the place of {year} ({order})"
        )


class YearsScale(PresetHierarchy):
    """The parameters and outputs of the index of several years on one scale, shared by
    'Resilience over several years' and its from-scenes workflow."""

    def add_scale(self):
        """C1's direction, the weights, the normalisation ranges and the class breaks."""
        self.add_enum(
            "DDI_TREND",
            "Direction of C1 desertification index",
            [
                "+ : a higher DDI (more vegetation) is more resilient (default)",
                "− : as printed in Table 2",
            ],
            0,
            "DDI = k·NDVI − albedo grows with vegetation, so desertification lowers it; Table 2 "
            "prints its trend as −, which would reward desertified land. The default reads it "
            "as desertification lowering resilience; the printed sign is kept as an option.",
        )
        self.add_enum(
            "WEIGHT_SOURCE",
            "Weights",
            [
                "Table 2 combined weights",
                "Table 2 subjective (AHP) weights combined with mean-square-error weights of "
                "these layers, pooled over the years (the study's method)",
                "Mean-square-error weights of these layers only",
            ],
            0,
            "One weight set serves every year, as in the study.",
        )
        self.add_hierarchy()
        self.add_enum("RANGES", "Normalisation ranges", RANGE_LABELS, 0, "Joint by default.")
        for name, label in (("MINIMA", "Minima"), ("MAXIMA", "Maxima")):
            self.add(
                QgsProcessingParameterString(
                    name, self.tr(f"{label} (Given ranges; comma-separated)"), "", optional=True
                ),
                "With Given ranges: one value per indicator used, in Table 2 order; values "
                "outside the range are clipped to 0–1 after normalisation.",
                advanced=True,
            )
        self.add_breaks(
            "Class breaks",
            "Breaks of the resilience classes; default: Table 3 of the study "
            "(severe < 0.38 ≤ poor < 0.41 ≤ moderate < 0.63 ≤ good < 0.73 ≤ excellent).",
        )

    def add_year_outputs(self):
        """The yearly index and class rasters, the trend, the tables and the strings."""
        self.add_output_nodata()
        self.add(
            QgsProcessingParameterFolderDestination(
                "OUTPUT_FOLDER", self.tr("Folder of the yearly index and class rasters")
            ),
            "index_<year>.tif and classes_<year>.tif (with its legend) for every year.",
        )
        # Side outputs: optional (a command line need not name them) yet created by default
        # in the dialog.
        self.add(
            QgsProcessingParameterRasterDestination(
                "OUTPUT_TREND",
                self.tr("Trend of the index (Sen's slope per year)"),
                optional=True,
                createByDefault=True,
            ),
            "Float32, index units per year.",
        )
        for name, label, text in (
            (
                "OUTPUT_YEARS",
                "Yearly means and class shares",
                "One row per year: pixels, mean index and the share (%) of each class.",
            ),
            (
                "OUTPUT_TRANSITIONS",
                "Class transitions between consecutive years",
                "from_year, to_year, from_class, to_class, pixels, area_km2.",
            ),
            (
                "OUTPUT_WEIGHTS",
                "Indicator weights and ranges",
                "code, indicator, trend, weight, and the range (joint or given).",
            ),
        ):
            self.add(
                QgsProcessingParameterFeatureSink(
                    name,
                    self.tr(label),
                    QgsProcessing.SourceType.TypeVector,
                    optional=True,
                    createByDefault=True,
                ),
                text,
            )
        self.addOutput(
            QgsProcessingOutputMultipleLayers("LAYERS", self.tr("Yearly index and class rasters"))
        )
        self.addOutput(QgsProcessingOutputString("MEANS", self.tr("Mean index per year")))
        self.addOutput(QgsProcessingOutputString("WEIGHTS", self.tr("Weights used")))


class ResilienceYears(YearsScale, EvaluationAlgorithm):
    algorithm_id = "resilience_years"
    display_name = "Resilience over several years (one scale)"
    group_key = "evaluation"
    summary = (
        "The resilience study's evolution of ecological resilience (2000, 2005, 2010, 2016 and "
        "2020 in the paper) in one run: for each Table 2 indicator one layer per year, the "
        "indicators normalised on joint ranges — each indicator's minimum and maximum over "
        "all years — so that the years share one scale, the comprehensive index and its five "
        "classes for every year, each year's mean index and class shares (the paper's "
        "Figures 2–3), the class transitions between consecutive years and Sen's slope of the "
        "index over the years. Normalising each year on its own range, as a single-year run "
        "does, maps every year onto 0–1 and hides the change: that reading is kept as an "
        "option for comparison, and fixed ranges can be given. Landsat 5 TM, 7 ETM+ and "
        "8/9 OLI years mix freely: the indicators are what they compare."
    )
    formula = (
        "Joint range of indicator j: minⱼ = min over years and pixels, maxⱼ likewise.\n"
        "T = (x − minⱼ)/(maxⱼ − minⱼ) (trend +, Eq. 18) or 1 − that (trend −, Eq. 19).\n"
        "P_year = Σⱼ Wⱼ·Tⱼ (Eq. 20); classes by Table 3's breaks (lower bound inclusive).\n"
        "Trend: Sen's slope of P over the years (index units per year)."
    )
    nodata_rule = (
        "A year's index is NoData where any of that year's indicators is; an indicator slot "
        "left empty is omitted in every year (its weight shared out), never NoData. The trend "
        "needs at least two valid years."
    )
    references = (
        "The resilience study: Table 2, Eq. 18–20, Table 3, Figures 2–3.",
        "Sen, P.K. (1968) Estimates of the regression coefficient based on Kendall's tau. "
        "JASA 63, 1379–1389.",
    )

    def initAlgorithm(self, config=None):
        table = weighting.load_preset("lingbei_2000_2020")
        self.add(
            QgsProcessingParameterString(
                "YEARS", self.tr("Years (comma-separated, in the order of the layers)")
            ),
            "e.g. 2000,2005,2010,2016,2020. Every indicator slot given holds one layer per "
            "year in this order; a layer whose name holds another year is an error.",
        )
        for slot, code, name, trend in zip(
            SLOTS, table.codes, table.names, table.trends, strict=True
        ):
            label = "tasseled-cap brightness" if slot == "TCI" else name
            sign = "" if slot == "DDI" else f" ({weighting.trend_symbol(trend)})"
            self.add_rasters(
                slot,
                f"{code} {label}{sign}: one layer per year",
                f"Indicator {code} of Table 2, one layer per year (in the order of Years); "
                "optional: an empty slot is omitted in every year.",
                optional=True,
            )
        self.add_scale()
        self.add_year_outputs()

    def folder_files(self, name, folder, parameters, context) -> list[str]:
        years = self.years(parameters, context)
        return [
            os.path.join(folder, f"{kind}_{year}.tif")
            for year in years
            for kind in ("index", "classes")
        ]

    # --- inputs -------------------------------------------------------------------------
    def years(self, parameters, context) -> list[int]:
        text = self.text(parameters, "YEARS", context)
        try:
            values = [int(part) for part in re.split(r"[,;\s]+", text) if part]
        except ValueError:
            raise QgsProcessingException(f"YEARS: '{text}' is not a list of years") from None
        if len(values) < 2:
            raise QgsProcessingException("YEARS: at least two years are needed")
        if any(b <= a for a, b in zip(values, values[1:], strict=False)):
            raise QgsProcessingException("YEARS: the years must increase (one layer per year)")
        return values

    def indicator_sources(self, parameters, context, years):
        """[(slot index j, [source per year])] for the slots given."""
        given = []
        for j, slot in enumerate(SLOTS):
            layers = self.parameterAsLayerList(parameters, slot, context)
            if not layers:
                continue
            if len(layers) != len(years):
                raise QgsProcessingException(
                    f"{slot}: {len(layers)} layer(s) for {len(years)} years; one per year, in "
                    "the order of YEARS"
                )
            sources = self.raster_sources(parameters, slot, context, bands=None)
            per_year = []
            for year, layer, source in zip(years, layers, sources, strict=True):
                check_layer_year(slot, layer, year, "layers follow the order of YEARS")
                per_year.append(dataclasses.replace(source, bands=(slot_band(slot, layer),)))
            given.append((j, per_year))
        if len(given) < 2:
            raise QgsProcessingException(
                f"{SLOTS[0]}…{SLOTS[-1]}: at least two indicators are needed; {len(given)} given"
            )
        return given

    # --- run ----------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        table = weighting.load_preset("lingbei_2000_2020")
        years = self.years(parameters, context)
        given = self.indicator_sources(parameters, context, years)
        index = [j for j, _ in given]
        k, n_years = len(given), len(years)
        trends = [table.trends[j] for j in index]
        if 0 in index:
            trends[index.index(0)] = DDI_TRENDS[
                self.parameterAsEnum(parameters, "DDI_TREND", context)
            ]
        names = [f"{table.codes[j]} {table.names[j]}" for j in index]
        omitted = [f"{table.codes[j]} {table.names[j]}" for j in range(17) if j not in index]
        if omitted:
            feedback.pushWarning(
                f"Left out in every year ({len(omitted)}): {', '.join(omitted)}; the weights of "
                f"the {k} indicators given are renormalised to sum 1."
            )
        breaks = self.class_breaks(parameters, context)
        count = len(breaks) + 1
        labels = (
            list(classes.RESILIENCE_LABELS)
            if count == 5
            else [f"class {c}" for c in range(1, count + 1)]
        )
        by_year = [[sources[y] for _, sources in given] for y in range(n_years)]
        grid = engine.resolve_grid([by_year[0][0]])
        monitor = self.monitor(feedback)
        mode = joint.RANGE_MODES[self.parameterAsEnum(parameters, "RANGES", context)]
        source = weighting.WEIGHT_SOURCES[
            self.parameterAsEnum(parameters, "WEIGHT_SOURCE", context)
        ]
        table = self.hierarchy_preset(parameters, context, feedback, table, source, index)
        passes = (mode != "given") + (source != "given")
        share = 0.4 if passes else 0.0
        minima, maxima = self.ranges(
            parameters, context, mode, by_year, grid, monitor.span(0, share / max(passes, 1)), k
        )
        for i, j in enumerate(index):
            for y in range(n_years if mode == "per_year" else 1):
                try:
                    check_range(minima[i, y], maxima[i, y], SLOTS[j])
                except ValueError as error:
                    year = f" in {years[y]}" if mode == "per_year" else ""
                    raise QgsProcessingException(f"{error}{year}") from None
        weights = self.weights(
            source,
            table,
            index,
            trends,
            minima,
            maxima,
            by_year,
            grid,
            monitor.span(share / max(passes, 1), share),
        )
        feedback.pushInfo(
            f"Ranges: {mode}. Weights ({source}): "
            + ", ".join(f"{name} {w:.4f}" for name, w in zip(names, weights, strict=True))
        )
        if mode != "per_year":
            for i, name in enumerate(names):
                feedback.pushInfo(f"  {name}: range {minima[i, 0]:.6g} … {maxima[i, 0]:.6g}")
        yearly = dict(years=years, by_year=by_year, grid=grid, weights=weights, trends=trends)
        yearly.update(minima=minima, maxima=maxima, breaks=breaks, labels=labels)
        results = self.write_years(
            parameters, context, monitor.span(share, 1.0), feedback, **yearly
        )
        weights_table = self.write_table(
            parameters,
            "OUTPUT_WEIGHTS",
            context,
            [
                *INDICATOR_COLUMNS,
                ("weight", float),
                ("minimum", float),
                ("maximum", float),
            ],
            [
                (
                    table.codes[j],
                    "Tasseled-cap brightness" if SLOTS[j] == "TCI" else table.names[j],
                    weighting.trend_symbol(trends[i]),
                    weights[i],
                    None if mode == "per_year" else minima[i, 0],
                    None if mode == "per_year" else maxima[i, 0],
                )
                for i, j in enumerate(index)
            ],
        )
        if weights_table is not None:
            results["OUTPUT_WEIGHTS"] = weights_table
        results["WEIGHTS"] = format_weights(weights)
        return results

    def ranges(self, parameters, context, mode, by_year, grid, monitor, k):
        n_years = len(by_year)
        if mode == "given":
            values = {}
            for name in ("MINIMA", "MAXIMA"):
                try:
                    numbers = weighting.parse_numbers(self.text(parameters, name, context))
                except ValueError as error:
                    raise QgsProcessingException(f"{name}: {error}") from None
                if len(numbers) != k:
                    raise QgsProcessingException(
                        f"{name}: {len(numbers)} value(s) for {k} indicators (Table 2 order)"
                    )
                values[name] = np.repeat(np.asarray(numbers)[:, None], n_years, axis=1)
            return values["MINIMA"], values["MAXIMA"]
        extremes = joint.IndicatorExtremes(k, n_years)

        def visit(y, blocks):
            for i, block in enumerate(blocks):
                extremes.add(i, y, block[0])

        self.scan_years(visit, by_year, grid, monitor)
        return extremes.ranges(mode)

    def scan_years(self, visit, by_year, grid, monitor):
        """Calls ``visit(year index, blocks)`` for every block of every year's indicators,
        year after year, each year an equal share of ``monitor``."""
        n_years = len(by_year)
        for y, sources in enumerate(by_year):
            self.scan(
                lambda window, *blocks, y=y: visit(y, blocks),
                sources,
                grid=grid,
                monitor=monitor.span(y / n_years, (y + 1) / n_years),
            )

    def weights(self, source, table, index, trends, minima, maxima, by_year, grid, monitor):
        """One weight set for every year: Table 2's combined weights, or mean-square-error
        weights of the normalised indicators pooled over the years (alone or combined with
        Table 2's subjective weights by Eq. 17)."""
        if source == "given":
            return weighting.normalised_weights(np.asarray(table.combined)[index])[0]
        moments = joint.PooledMoments(len(index))

        def visit(y, blocks):
            moments.add(
                [
                    normalise(block[0], minima[i, y], maxima[i, y], trends[i], dtype=np.float64)
                    for i, block in enumerate(blocks)
                ]
            )

        self.scan_years(visit, by_year, grid, monitor)
        try:
            objective = weighting.mse_weights(moments.std())
        except ValueError as error:
            raise QgsProcessingException(f"{SLOTS[index[0]]}…: {error}") from None
        subjective = weighting.normalised_weights(np.asarray(table.subjective)[index])[0]
        return self.resolve_weights(source, subjective=subjective, objective=objective)

    def write_years(
        self,
        parameters,
        context,
        monitor,
        feedback,
        *,
        years,
        by_year,
        grid,
        weights,
        minima,
        maxima,
        trends,
        breaks,
        labels,
    ):
        """Every year's index and classes into OUTPUT_FOLDER, the trend, and the yearly and
        transition tables: one pass over all years' indicators."""
        folder = self.destination(parameters, "OUTPUT_FOLDER", context)
        os.makedirs(folder, exist_ok=True)
        nodata = self.parameterAsDouble(parameters, "OUTPUT_NODATA_VALUE", context)
        styled = styles.red_to_green_classes(labels)
        tags = {"MINEECO_ALGORITHM": self.algorithm_id, "MINEECO_VERSION": plugin_version()}
        index_targets, class_targets = [], []
        for year in years:
            index_targets.append(
                RasterTarget(
                    os.path.join(folder, f"index_{year}.tif"),
                    parameter="OUTPUT_FOLDER",
                    nodata=nodata,
                    band_names=(f"Resilience index {year}",),
                    metadata={**tags, "YEAR": str(year)},
                )
            )
            class_targets.append(
                RasterTarget(
                    os.path.join(folder, f"classes_{year}.tif"),
                    parameter="OUTPUT_FOLDER",
                    dtype="uint8",
                    nodata=0,
                    classes=styled,
                    metadata={
                        **tags,
                        "YEAR": str(year),
                        "BREAKS": ",".join(f"{b:.10g}" for b in breaks),
                    },
                )
            )
        trend_target = self.raster_target(
            parameters, "OUTPUT_TREND", context, metadata={"YEARS": ",".join(map(str, years))}
        )
        area_of = row_areas(grid)
        tallies = [classes.ClassTally(len(labels)) for _ in years]
        transitions = [classes.TransitionTally() for _ in years[1:]]
        k = len(weights)
        n_years = len(years)

        def kernel(window, *blocks):
            area = area_of(window)
            indices, codes = [], []
            for y in range(n_years):
                values = composite_index(
                    [block[0] for block in blocks[y * k : (y + 1) * k]],
                    weights,
                    minima[:, y],
                    maxima[:, y],
                    trends,
                    clip=True,
                )
                code = classes.classify(values, breaks)
                tallies[y].add(code, values, area)
                indices.append(values)
                codes.append(code)
            for y, tally in enumerate(transitions):
                # int64 first: −1 (NoData) does not fit the uint8 codes (numpy 2 keeps uint8).
                before = codes[y].astype(np.int64)
                after = codes[y + 1].astype(np.int64)
                before[before == 0] = -1
                after[after == 0] = -1
                tally.add(before, after, area)
            slope = (
                trends_core.sens_slope(np.stack(indices), years).astype(np.float32)
                if trend_target is not None
                else None
            )
            return (*indices, *codes, slope)

        self.run_blocks(
            kernel,
            [source for sources in by_year for source in sources],
            [*index_targets, *class_targets, trend_target],
            grid=grid,
            monitor=monitor,
            with_window=True,
        )
        means = []
        year_rows = []
        for year, tally in zip(years, tallies, strict=True):
            pixels = int(tally.pixels[1:].sum())
            mean = float(tally.index_sum[1:].sum() / pixels) if pixels else float("nan")
            means.append(mean)
            shares = [share for _, _, _, share, _ in tally.rows()]
            year_rows.append((year, pixels, mean if pixels else None, *shares))
            feedback.pushInfo(
                f"{year}: mean index {mean:.4f}; "
                + ", ".join(f"{label} {s:.1f} %" for label, s in zip(labels, shares, strict=True))
            )
        transition_rows = []
        for (before, after), tally in zip(
            zip(years, years[1:], strict=False), transitions, strict=True
        ):
            for (a, b), pixels in sorted(tally.pixels.items()):
                if a < 1 or b < 1:
                    continue
                transition_rows.append(
                    (
                        before,
                        after,
                        labels[a - 1],
                        labels[b - 1],
                        pixels,
                        tally.area[(a, b)] / 1e6,
                    )
                )
        results = {
            "OUTPUT_FOLDER": folder,
            "LAYERS": [
                t.path for pair in zip(index_targets, class_targets, strict=True) for t in pair
            ],
            "MEANS": ",".join(f"{m:.6f}" for m in means),
            "OUTPUT_YEARS": self.write_table(
                parameters,
                "OUTPUT_YEARS",
                context,
                [("year", int), ("pixels", int), ("mean_index", float)]
                + [(f"pct_{label.replace(' ', '_')}", float) for label in labels],
                year_rows,
            ),
            "OUTPUT_TRANSITIONS": self.write_table(
                parameters,
                "OUTPUT_TRANSITIONS",
                context,
                [
                    ("from_year", int),
                    ("to_year", int),
                    ("from_class", str),
                    ("to_class", str),
                    ("pixels", int),
                    ("area_km2", float),
                ],
                transition_rows,
            ),
        }
        if trend_target is not None:
            results["OUTPUT_TREND"] = trend_target.path
        for year, target in zip(years, class_targets, strict=True):
            context.addLayerToLoadOnCompletion(
                target.path,
                QgsProcessingContext.LayerDetails(
                    f"Resilience classes {year}", context.project() or QgsProject.instance(), ""
                ),
            )
            # Exactly the classes in the legend (the GeoTIFF's colour table has 256 entries).
            layer_styles.attach(context, target.path, classes=target.classes, dtype="uint8")
        return {key: value for key, value in results.items() if value is not None}

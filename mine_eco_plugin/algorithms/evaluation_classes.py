"""Classes of an index (the resilience study's Table 3 and data-driven breaks) with area tables,
and change between two dates (index difference or class transitions)."""

from __future__ import annotations

import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterString,
)

from .. import engine
from ..core import evaluation_classes as classes
from ..engine import styles
from .evaluation_support import EvaluationAlgorithm, row_areas

METHOD_LABELS = (
    "Fixed breaks (BREAKS; default: the resilience study's Table 3)",
    "Natural breaks (Fisher–Jenks, exact on a sample)",
    "Quantiles (equal counts, exact percentiles)",
    "Equal intervals",
)
M2_PER_KM2 = 1e6
M2_PER_HA = 1e4


class ClassifyIndex(EvaluationAlgorithm):
    algorithm_id = "classify_index"
    display_name = "Classify index (Table 3, natural breaks, quantiles, equal intervals)"
    group_key = "evaluation"
    summary = (
        "Classes of a 0–1 index such as the ecological resilience P: the resilience study's Table "
        "3 "
        "(severe < 0.38 ≤ poor < 0.41 ≤ moderate < 0.63 ≤ good < 0.73 ≤ excellent) or any "
        "fixed breaks, Fisher–Jenks natural breaks (exact optimum on a reproducible random "
        "sample of SAMPLE_SIZE pixels, SEED), quantiles (exact) or equal intervals. Writes a "
        "class raster (codes 1…k, styled red → green with the labels as legend) and a table "
        "of pixels, area (km², ha), share (%) and mean index per class plus a total row (the "
        "study's Figure 3 numbers)."
    )
    formula = (
        "Boundary rule: a class includes its lower bound and excludes its upper bound; code = "
        "1 + number of breaks ≤ x (so 0.38 is poor, 0.73 excellent).\n"
        "Natural breaks: the k groups minimising Σ within-group squared deviations (Fisher "
        "1958); each break is the smallest value of the class above it. GVF = 1 − SDCM/SDAM.\n"
        "Quantiles: breaks at the percentiles 100·c/k (numpy linear rule); equal intervals: "
        "min + c·(max − min)/k.\n"
        "Area: pixels × pixel area (projected CRS), or the exact ellipsoidal cell area per row "
        "(geographic CRS)."
    )
    nodata_rule = (
        "NoData stays NoData (class code 0, the output's NoData) and is left out of breaks, "
        "areas and shares; shares are of the valid area."
    )
    references = (
        "The resilience study, Table 3 and Figure 3.",
        "Fisher, W.D. (1958) On grouping for maximum homogeneity. J. Am. Stat. Assoc. 53, "
        "789–798; Jenks, G.F. (1977) Optimal data classification for choropleth maps. Univ. of "
        "Kansas, Occasional Paper 2.",
        "Brewer, C.A. (2002) ColorBrewer (RdYlGn colours).",
    )

    def initAlgorithm(self, config=None):
        self.add_raster("INPUT", "Index", "Index raster, e.g. the composite index P.")
        self.add_number("BAND", "Band", 1, "Band of INPUT.", minimum=1, integer=True, advanced=True)
        self.add_enum(
            "METHOD",
            "Classification method",
            list(METHOD_LABELS),
            0,
            "Fixed breaks with the default BREAKS reproduce the resilience study's Table 3 (which "
            "it "
            "set from its data with natural breaks and the literature).",
        )
        self.add_breaks(
            "Fixed breaks (comma-separated, increasing)",
            "k − 1 breaks for k classes; default: Table 3 of the resilience study.",
        )
        self.add_number(
            "CLASSES",
            "Number of classes (natural breaks, quantiles, equal intervals)",
            5,
            "k for the data-driven methods (fixed breaks give len(BREAKS) + 1 classes).",
            minimum=2,
            maximum=255,
            integer=True,
        )
        self.add_class_labels(
            "Legend and table labels; default: the study's five resilience levels."
        )
        self.add_number(
            "SAMPLE_SIZE",
            "Natural breaks: sample size",
            10000,
            "Pixels drawn (uniformly, without replacement) for Fisher–Jenks; all valid pixels "
            "when there are fewer. Cost grows with the square of the number of distinct values.",
            minimum=10,
            maximum=50000,
            integer=True,
            advanced=True,
        )
        self.add_seed()
        self.add_output_raster("OUTPUT", "Classes", "uint8 codes 1…k (0 = NoData), styled.")
        self.add_output_table(
            "OUTPUT_TABLE",
            "Class areas",
            "Pixels, km², ha, % and mean index per class.",
            optional=True,
        )
        self.addOutput(QgsProcessingOutputString("BREAKS", self.tr("Breaks used")))
        self.addOutput(QgsProcessingOutputNumber("MEAN", self.tr("Mean index")))
        self.addOutput(QgsProcessingOutputNumber("VALID_AREA_KM2", self.tr("Valid area (km²)")))
        self.addOutput(QgsProcessingOutputNumber("GVF", self.tr("Goodness of variance fit")))

    def breaks(self, parameters, context, feedback, source, monitor):
        """(breaks, GVF or None, monitor for the rest)."""
        method = classes.CLASS_METHODS[self.parameterAsEnum(parameters, "METHOD", context)]
        count = self.parameterAsInt(parameters, "CLASSES", context)
        if method == "fixed":
            return self.class_breaks(parameters, context), None, monitor
        first, rest = monitor.span(0, 0.5), monitor.span(0.5, 1)
        if method == "equal":
            summary = self.band_summary(source, monitor=first)
            if summary.count == 0:
                raise QgsProcessingException("INPUT: no valid pixels")
            try:
                found = classes.equal_interval_breaks(summary.minimum, summary.maximum, count)
            except ValueError as error:
                raise QgsProcessingException(f"INPUT: {error}") from None
            return found, None, rest
        if method == "quantile":
            found = self.band_percentiles(
                source,
                classes.quantile_percentages(count),
                monitor=first,
            )
            unique = tuple(sorted(set(found)))
            if len(unique) < len(found):
                feedback.pushWarning(
                    f"Tied quantiles {found}: the index has few distinct values; "
                    f"{len(unique) + 1} classes remain"
                )
            return unique, None, rest
        size = self.parameterAsInt(parameters, "SAMPLE_SIZE", context)
        seed = self.parameterAsInt(parameters, "SEED", context)
        sample = classes.KeySample(size)
        grid = engine.resolve_grid([source])

        def visit(window, block):
            values = block[0]
            rows = np.arange(window.row, window.row + window.height, dtype=np.int64)
            cols = np.arange(window.col, window.col + window.width, dtype=np.int64)
            index = (rows[:, None] * grid.width + cols[None, :]).ravel()
            flat = values.ravel()
            valid = ~np.isnan(flat)
            sample.add(classes.pixel_keys(index[valid], seed), flat[valid])

        self.scan(visit, [source], grid=grid, monitor=first)
        feedback.pushInfo(
            f"Natural breaks on {sample.values.size} of {sample.seen} valid pixels (seed {seed})"
        )
        try:
            found, gvf = classes.fisher_jenks(sample.values, count)
        except ValueError as error:
            raise QgsProcessingException(f"INPUT: {error}") from None
        return found, gvf, rest

    def process(self, parameters, context, feedback):
        band = self.parameterAsInt(parameters, "BAND", context)
        source = self.raster_source(parameters, "INPUT", context, bands=(band,))
        monitor = self.monitor(feedback)
        breaks, gvf, monitor = self.breaks(parameters, context, feedback, source, monitor)
        count = len(breaks) + 1
        labels = self.class_labels(parameters, context, count, feedback)
        bounds = [None, *breaks, None]
        feedback.pushInfo(
            "Classes: "
            + "; ".join(
                f"{c} {labels[c - 1]} [{classes.interval_text(bounds[c - 1], bounds[c])})"
                for c in range(1, count + 1)
            )
        )
        styled = styles.red_to_green_classes(labels)
        method = classes.CLASS_METHODS[self.parameterAsEnum(parameters, "METHOD", context)]
        target = self.class_target(
            parameters,
            "OUTPUT",
            context,
            styled,
            metadata={
                "METHOD": method,
                "BREAKS": ",".join(f"{b:.10g}" for b in breaks),
                "LABELS": ",".join(labels),
                "BOUNDARY_RULE": "lower bound inclusive",
            },
        )
        grid = engine.resolve_grid([source])
        area_of = row_areas(grid)
        tally = classes.ClassTally(count)

        def kernel(window, block):
            values = block[0]
            codes = classes.classify(values, breaks)
            tally.add(codes, values, area_of(window))
            return (codes,)

        self.run_blocks(
            kernel,
            [source],
            [target],
            grid=grid,
            monitor=monitor,
            with_window=True,
        )
        rows = []
        total_area = float(tally.area[1:].sum())
        total_pixels = int(tally.pixels[1:].sum())
        if total_pixels == 0:
            raise QgsProcessingException("INPUT: no valid pixels")
        for code, pixels, area, share, mean in tally.rows():
            rows.append(
                (
                    code,
                    labels[code - 1],
                    bounds[code - 1],
                    bounds[code],
                    pixels,
                    area / M2_PER_KM2,
                    area / M2_PER_HA,
                    share,
                    None if pixels == 0 else mean,
                )
            )
            feedback.pushInfo(
                f"  {code} {labels[code - 1]}: {pixels} px, {area / M2_PER_KM2:.4f} km², "
                f"{share:.2f} %"
            )
        mean_index = float(tally.index_sum[1:].sum() / total_pixels)
        rows.append(
            (
                None,
                "total",
                None,
                None,
                total_pixels,
                total_area / M2_PER_KM2,
                total_area / M2_PER_HA,
                100.0,
                mean_index,
            )
        )
        feedback.pushInfo(f"Mean index {mean_index:.4f} over {total_area / M2_PER_KM2:.4f} km²")
        destination = self.write_table(
            parameters,
            "OUTPUT_TABLE",
            context,
            [
                ("class", int),
                ("label", str),
                ("lower", float),
                ("upper", float),
                ("pixels", int),
                ("area_km2", float),
                ("area_ha", float),
                ("percent", float),
                ("mean_index", float),
            ],
            rows,
        )
        return {
            **self.outputs({"OUTPUT": target}),
            "OUTPUT_TABLE": destination,
            "BREAKS": ",".join(f"{b:.10g}" for b in breaks),
            "MEAN": mean_index,
            "VALID_AREA_KM2": total_area / M2_PER_KM2,
            "GVF": gvf,
        }


def _codes(values, name):
    """Integer class codes of a block; a fractional or negative value is an error naming the
    parameter."""
    try:
        return classes.integer_codes(values)
    except ValueError as error:
        raise engine.EngineError(name, str(error)) from None


def _class_codes(values, name):
    """Class codes of a block for transitions: ``_codes``, and an error naming the parameter
    for a code whose transition codes would not fit the output (see ``transition_type``)."""
    codes = _codes(values, name)
    largest = int(codes.max(initial=-1))
    if largest > classes.MAX_TRANSITION_CLASS:
        try:
            classes.transition_type(largest)
        except ValueError as error:
            raise engine.EngineError(name, str(error)) from None
    return codes


def _category_names(path: str) -> list[str]:
    try:
        dataset = gdal.Open(path)
        # GDAL 3.6's GeoTIFF driver loads the .aux.xml side file (where the category names of
        # a GeoTIFF live) lazily: without a metadata call first, GetCategoryNames gives None.
        dataset.GetMetadata()
        names = dataset.GetRasterBand(1).GetCategoryNames()
    except RuntimeError:
        names = None
    return list(names or [])


class ChangeAnalysis(EvaluationAlgorithm):
    algorithm_id = "change_analysis"
    display_name = "Change analysis (index difference or class transitions)"
    group_key = "evaluation"
    summary = (
        "Change between two dates. Index mode: AFTER − BEFORE per pixel, optional change "
        "classes (decrease / stable / increase beyond ±THRESHOLD) and a table of their areas, "
        "the means of both dates and the growth rate of the mean (the resilience study's §4.1 "
        "comparison of years). Class mode: transition codes before·F + after (F = 10 for "
        "codes 0–9, 100 for codes up to 99, …; uint16, or uint32 from 65,535 on; class codes "
        "above 42,949 are an error, as their transition codes would not fit) styled by "
        "direction, and the transition matrix "
        "in km² whose row and column totals are the class areas of each date (the §4.2 "
        "analysis of Figure 4). Class codes are taken as ordered (a higher code is a better "
        "class, as 'Classify index' writes them) for the improved / degraded summary."
    )
    formula = (
        "Index: ΔP = P_after − P_before; growth rate = (mean_after − mean_before)/mean_before "
        "× 100 %; change class: decrease ΔP < −t, stable |ΔP| ≤ t, increase ΔP > t.\n"
        "Classes: code = before·F + after, F = 10^(digits of the largest class code).\n"
        "Area: pixels × pixel area (projected CRS) or exact ellipsoidal cell areas "
        "(geographic CRS)."
    )
    nodata_rule = (
        "Index mode: NoData in either date gives NoData; means and areas use the pixels valid "
        "in both. Class mode: pixels valid in both get a transition code; the matrix also "
        "has a 'NoData' row/column for pixels valid in one date only, so its row totals equal "
        "BEFORE's class areas and its column totals AFTER's. AFTER is resampled onto BEFORE's "
        "grid (nearest neighbour for classes, bilinear for an index)."
    )
    references = ("The resilience study, §4.1–4.2, Figures 3–4.",)

    def initAlgorithm(self, config=None):
        self.add_raster("BEFORE", "Earlier date", "Index or class raster (band 1).")
        self.add_raster("AFTER", "Later date", "Same kind of raster as BEFORE (band 1).")
        self.add_enum(
            "MODE",
            "Mode",
            ["Index difference (AFTER − BEFORE)", "Class transitions"],
            0,
            "Index rasters (e.g. P of two years) → difference; class rasters (e.g. from "
            "'Classify index') → transition codes and matrix.",
        )
        self.add_number(
            "THRESHOLD",
            "Stable band ±t (index mode)",
            0.0,
            "|ΔP| ≤ t counts as stable.",
            minimum=0,
        )
        self.add(
            QgsProcessingParameterString(
                "LABELS",
                self.tr("Class labels for codes 1, 2, … (class mode, comma-separated)"),
                "",
                optional=True,
            ),
            "Blank: the category names stored in BEFORE (as written by 'Classify index'), "
            "else 'class N'.",
        )
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT",
            "Change",
            "Index mode: ΔP, float32. Class mode: transition codes (uint16/uint32, styled).",
        )
        self.add_output_raster(
            "OUTPUT_CLASSES",
            "Change classes (index mode)",
            "1 decrease, 2 stable, 3 increase (uint8, styled).",
            optional=True,
        )
        self.add_output_table(
            "OUTPUT_TABLE",
            "Change table",
            "Index mode: area per change class; class mode: the transition matrix (km²).",
            optional=True,
        )
        self.add_output_table(
            "OUTPUT_TRANSITIONS",
            "Transitions (class mode, one row per pair)",
            "from, to, pixels, km², ha, % of the area, % of the 'from' class.",
            optional=True,
        )
        self.add_number_outputs(
            (
                ("MEAN_BEFORE", "Mean before (index mode)"),
                ("MEAN_AFTER", "Mean after (index mode)"),
                ("MEAN_CHANGE", "Mean change (index mode)"),
                ("GROWTH_RATE", "Growth rate of the mean, % (index mode)"),
                ("IMPROVED_PERCENT", "Improved area, %"),
                ("UNCHANGED_PERCENT", "Unchanged area, %"),
                ("DEGRADED_PERCENT", "Degraded area, %"),
            )
        )

    def process(self, parameters, context, feedback):
        if self.parameterAsEnum(parameters, "MODE", context) == 0:
            return self.difference(parameters, context, feedback)
        return self.transitions(parameters, context, feedback)

    # --- index difference -------------------------------------------------------------------
    def difference(self, parameters, context, feedback):
        before = self.raster_source(parameters, "BEFORE", context, bands=(1,))
        after = self.raster_source(parameters, "AFTER", context, bands=(1,))
        threshold = self.parameterAsDouble(parameters, "THRESHOLD", context)
        grid = engine.resolve_grid([before, after])
        area_of = row_areas(grid)
        direction = styles.numbered_classes(
            (
                f"decrease (< −{threshold:g})",
                f"stable (±{threshold:g})",
                f"increase (> {threshold:g})",
            ),
            styles.DIRECTION_COLOURS,
        )
        metadata = {"MODE": "difference", "THRESHOLD": threshold}
        target = self.raster_target(parameters, "OUTPUT", context, metadata=metadata)
        class_target = self.class_target(
            parameters,
            "OUTPUT_CLASSES",
            context,
            direction,
            metadata=metadata,
        )
        tally = classes.ClassTally(3)
        sums = {"before": 0.0, "after": 0.0, "one_only": 0}

        def kernel(window, first, second):
            a, b = first[0], second[0]
            change = b - a
            codes = np.where(change < -threshold, 1, np.where(change > threshold, 3, 2)).astype(
                np.uint8
            )
            valid = ~np.isnan(change)
            codes[~valid] = 0
            tally.add(codes, change, area_of(window))
            sums["before"] += float(a[valid].sum(dtype=np.float64))
            sums["after"] += float(b[valid].sum(dtype=np.float64))
            sums["one_only"] += int(np.count_nonzero(np.isnan(a) != np.isnan(b)))
            return change, codes

        self.run_blocks(
            kernel,
            [before, after],
            [target, class_target],
            grid=grid,
            monitor=self.monitor(feedback),
            with_window=True,
        )
        pixels = int(tally.pixels[1:].sum())
        if pixels == 0:
            raise QgsProcessingException("AFTER: no pixel is valid in both BEFORE and AFTER")
        if sums["one_only"]:
            feedback.pushWarning(
                f"{sums['one_only']} pixel(s) are valid in one date only and were left out"
            )
        mean_before, mean_after = sums["before"] / pixels, sums["after"] / pixels
        growth = (mean_after - mean_before) / mean_before * 100.0 if mean_before else None
        shares = {}
        rows = []
        for code, n, area, share, mean in tally.rows():
            label = direction[code - 1].label
            shares[code] = share
            rows.append(
                (code, label, n, area / M2_PER_KM2, area / M2_PER_HA, share, mean if n else None)
            )
        area = float(tally.area[1:].sum())
        rows.append(
            (
                None,
                "total",
                pixels,
                area / M2_PER_KM2,
                area / M2_PER_HA,
                100.0,
                mean_after - mean_before,
            )
        )
        feedback.pushInfo(
            f"Mean before {mean_before:.4f}, after {mean_after:.4f}, change "
            f"{mean_after - mean_before:+.4f}"
            + (f" ({growth:+.2f} %)" if growth is not None else "")
            + f"; decrease {shares[1]:.2f} %, stable {shares[2]:.2f} %, increase {shares[3]:.2f} %"
        )
        destination = self.write_table(
            parameters,
            "OUTPUT_TABLE",
            context,
            [
                ("class", int),
                ("change", str),
                ("pixels", int),
                ("area_km2", float),
                ("area_ha", float),
                ("percent", float),
                ("mean_change", float),
            ],
            rows,
        )
        return {
            **self.outputs({"OUTPUT": target, "OUTPUT_CLASSES": class_target}),
            "OUTPUT_TABLE": destination,
            "MEAN_BEFORE": mean_before,
            "MEAN_AFTER": mean_after,
            "MEAN_CHANGE": mean_after - mean_before,
            "GROWTH_RATE": growth,
            "IMPROVED_PERCENT": shares[3],
            "UNCHANGED_PERCENT": shares[2],
            "DEGRADED_PERCENT": shares[1],
        }

    # --- class transitions ------------------------------------------------------------------
    def transitions(self, parameters, context, feedback):
        before = self.raster_source(parameters, "BEFORE", context, bands=(1,), resampling="nearest")
        after = self.raster_source(parameters, "AFTER", context, bands=(1,), resampling="nearest")
        grid = engine.resolve_grid([before, after])
        area_of = row_areas(grid)
        tally = classes.TransitionTally()
        monitor = self.monitor(feedback)

        def visit(window, first, second):
            tally.add(
                _class_codes(first[0], "BEFORE"), _class_codes(second[0], "AFTER"), area_of(window)
            )

        self.scan(
            visit,
            [before, after],
            grid=grid,
            monitor=monitor.span(0, 0.5),
        )
        codes_before = [c for c in tally.codes(0) if c >= 0]
        codes_after = [c for c in tally.codes(1) if c >= 0]
        every = sorted(set(codes_before) | set(codes_after))
        if not any(a >= 0 and b >= 0 for a, b in tally.pixels):
            raise QgsProcessingException("AFTER: no pixel is valid in both BEFORE and AFTER")
        labels = self.transition_labels(parameters, context, before.path, every)
        factor = classes.transition_factor(max(every))
        dtype, nodata = classes.transition_type(max(every))
        steps = max(max(every) - min(every), 1)
        styled = [
            engine.RasterClass(
                a * factor + b,
                f"{labels[a]} → {labels[b]}",
                styles.transition_colour(a, b, steps),
            )
            for a, b in sorted(p for p in tally.pixels if p[0] >= 0 and p[1] >= 0)
        ]
        if dtype == "uint32":
            # GeoTIFF colour tables exist for Byte and UInt16 bands only.
            feedback.pushWarning("Transition codes above 65534: the output is not styled")
            styled = []
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            dtype=dtype,
            nodata=nodata,
            classes=tuple(styled) or None,
            metadata={"MODE": "transitions", "FACTOR": factor, "CODE": f"before*{factor}+after"},
        )

        def kernel(first, second):
            out = classes.transition_codes(
                _codes(first[0], "BEFORE"), _codes(second[0], "AFTER"), factor
            )
            return np.where(out < 0, nodata, out)

        self.run_blocks(
            kernel,
            [before, after],
            [target],
            grid=grid,
            monitor=monitor.span(0.5, 1),
        )
        return {
            **self.outputs({"OUTPUT": target}),
            **self.transition_tables(parameters, context, feedback, tally, labels, factor),
        }

    def transition_labels(self, parameters, context, before_path, codes) -> dict[int, str]:
        text = self.text(parameters, "LABELS", context)
        labels = {-1: "NoData"}
        if text:
            given = [t.strip() for t in text.split(",")]
            for position, label in enumerate(given, start=1):
                labels[position] = label
        else:
            for code, name in enumerate(_category_names(before_path)):
                if name:
                    labels[code] = name
        for code in codes:
            labels.setdefault(code, f"class {code}")
        return labels

    def transition_tables(self, parameters, context, feedback, tally, labels, factor):
        rows_codes = tally.codes(0)
        cols_codes = tally.codes(1)
        total_area = sum(tally.area.values())
        both = {pair: a for pair, a in tally.area.items() if pair[0] >= 0 and pair[1] >= 0}
        both_area = sum(both.values())
        improved = sum(a for (f, t), a in both.items() if t > f)
        degraded = sum(a for (f, t), a in both.items() if t < f)
        unchanged = both_area - improved - degraded
        columns = [("from_code", int), ("from_class", str)]
        columns += [(self.column_name(labels, c), float) for c in cols_codes]
        columns += [("total_km2", float)]
        matrix_rows = []
        for f in rows_codes:
            values = [tally.area.get((f, t), 0.0) / M2_PER_KM2 for t in cols_codes]
            matrix_rows.append((None if f < 0 else f, labels[f], *values, sum(values)))
        totals = [
            sum(tally.area.get((f, t), 0.0) for f in rows_codes) / M2_PER_KM2 for t in cols_codes
        ]
        matrix_rows.append((None, "total", *totals, total_area / M2_PER_KM2))
        destination = self.write_table(parameters, "OUTPUT_TABLE", context, columns, matrix_rows)
        from_area = {}
        for (f, _), a in tally.area.items():
            from_area[f] = from_area.get(f, 0.0) + a
        long_rows = []
        for (f, t), n in sorted(tally.pixels.items()):
            a = tally.area[(f, t)]
            long_rows.append(
                (
                    None if f < 0 else f,
                    labels[f],
                    None if t < 0 else t,
                    labels[t],
                    None if f < 0 or t < 0 else f * factor + t,
                    n,
                    a / M2_PER_KM2,
                    a / M2_PER_HA,
                    100.0 * a / total_area,
                    100.0 * a / from_area[f] if from_area[f] else None,
                )
            )
        long_destination = self.write_table(
            parameters,
            "OUTPUT_TRANSITIONS",
            context,
            [
                ("from_code", int),
                ("from_class", str),
                ("to_code", int),
                ("to_class", str),
                ("transition", int),
                ("pixels", int),
                ("area_km2", float),
                ("area_ha", float),
                ("percent_total", float),
                ("percent_from", float),
            ],
            long_rows,
        )
        share = (lambda a: 100.0 * a / both_area) if both_area else (lambda a: None)
        feedback.pushInfo(
            f"Over {both_area / M2_PER_KM2:.4f} km² valid in both dates: improved "
            f"{share(improved):.2f} %, unchanged {share(unchanged):.2f} %, degraded "
            f"{share(degraded):.2f} %"
        )
        results = {
            "OUTPUT_TABLE": destination,
            "IMPROVED_PERCENT": share(improved),
            "UNCHANGED_PERCENT": share(unchanged),
            "DEGRADED_PERCENT": share(degraded),
        }
        if long_destination is not None:
            results["OUTPUT_TRANSITIONS"] = long_destination
        return results

    @staticmethod
    def column_name(labels, code) -> str:
        if code < 0:
            return "to_nodata_km2"
        return f"to_{code}_km2"

"""Simulated NPP (or any raster) against reference measurements: bias, RMSE and r per class."""

from __future__ import annotations

import math

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
)

from .. import engine
from ..core import validation
from ..engine import Grid
from .base import MineEcoAlgorithm
from .drivers import pixel_centres, sample_at_pixels

COMPARE_ON = ("reference", "simulated")
MAX_PAIRS = 5000


class NppValidation(MineEcoAlgorithm):
    algorithm_id = "npp_validation"
    display_name = "Validate NPP against reference data"
    group_key = "productivity"
    summary = (
        "Compares a simulated raster — typically annual NPP from 'CASA NPP' — with reference "
        "values, as the NPP-drivers study does with plot measurements and MOD17A3 per land-use "
        "type (its Table 2): reference points with a measured value, or a reference raster. "
        "For every pair of simulated and reference values it reports, overall and per "
        "land-cover class: n, the mean of each, the bias (simulated − reference) and its share "
        "of the reference mean, the RMSE and Pearson's r. The pairs can be written out for a "
        "scatter chart ('HTML report' draws it)."
    )
    formula = (
        "bias = mean(s − r); relative bias = bias / mean(r); RMSE = √mean((s − r)²);\n"
        "r = Σ(s − s̄)(r − r̄) / √(Σ(s − s̄)² Σ(r − r̄)²)."
    )
    nodata_rule = (
        "A pair counts only where the simulated value, the reference and (when given) the land "
        "cover are all valid. Several reference points in one pixel are averaged into one "
        "observation of that pixel (they are not independent): the log says how many."
    )
    references = (
        "The NPP-drivers study: Table 2 (simulated NPP against measurements and MOD17A3 by "
        "land-use type).",
    )

    def initAlgorithm(self, config=None):
        self.add_raster(
            "INPUT",
            "Simulated raster (e.g. NPP)",
            "The raster to validate, band 1 (e.g. annual NPP in gC·m⁻²·yr⁻¹).",
        )
        self.add(
            QgsProcessingParameterFeatureSource(
                "REFERENCE_POINTS",
                self.tr("Reference points (measurements)"),
                [QgsProcessing.SourceType.TypeVectorPoint],
                optional=True,
            ),
            "Plots or samples with a measured value, compared with the simulated pixel they "
            "fall in. Give these or a reference raster.",
        )
        self.add(
            QgsProcessingParameterField(
                "REFERENCE_FIELD",
                self.tr("Measured value field"),
                parentLayerParameterName="REFERENCE_POINTS",
                type=QgsProcessingParameterField.DataType.Numeric,
                optional=True,
            ),
            "The numeric field of the reference points that holds the measured value.",
        )
        self.add_raster(
            "REFERENCE_RASTER",
            "Reference raster (e.g. MOD17A3 NPP)",
            "A gridded reference in the same unit, e.g. MODIS MOD17A3 annual NPP.",
            optional=True,
        )
        self.add_enum(
            "COMPARE_ON",
            "Grid of the comparison (reference raster)",
            [
                "The reference raster's grid (simulated values averaged onto it)",
                "The simulated raster's grid (reference resampled, bilinear)",
            ],
            0,
            "With a reference raster coarser than the simulation (500 m MOD17A3 against 30 m "
            "NPP), comparing on the coarse grid, the simulation averaged over each reference "
            "pixel, is the fair choice (the default).",
        )
        self.add_raster(
            "LANDCOVER",
            "Land cover (class codes)",
            "Optional: statistics per class too (nearest class at a point; the majority class "
            "when averaged onto the reference grid).",
            optional=True,
        )
        self.add_output_table(
            "OUTPUT",
            "Agreement statistics",
            "One row for all pairs (class 'all') and one per land-cover class: n, "
            "mean_simulated, mean_reference, bias, relative_bias, rmse, r.",
        )
        self.add_output_table(
            "OUTPUT_PAIRS",
            "Compared pairs",
            f"Optional: the pairs (x, y, class, simulated, reference) for a scatter chart; with "
            f"a reference raster at most {MAX_PAIRS} evenly spaced pixels.",
            optional=True,
        )
        for name, label in (("N", "Pairs"), ("BIAS", "Bias"), ("RMSE", "RMSE"), ("R", "r")):
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(label)))

    def process(self, parameters, context, feedback):
        points = self.parameterAsSource(parameters, "REFERENCE_POINTS", context)
        reference = self.raster_source(parameters, "REFERENCE_RASTER", context, bands=(1,))
        if (points is None) == (reference is None):
            raise QgsProcessingException(
                "REFERENCE_POINTS: give reference points or a reference raster "
                "(REFERENCE_RASTER), not both and not neither"
            )
        monitor = self.monitor(feedback)
        if points is not None:
            grouped, pairs = self.compare_points(parameters, context, points, monitor, feedback)
        else:
            grouped, pairs = self.compare_raster(parameters, context, reference, monitor)
        results = grouped.results()
        if not results or results[0][1].n == 0:
            raise QgsProcessingException(
                "INPUT: no pixel has a valid simulated value, reference and land cover together "
                "(check NoData and the overlap of the layers)"
            )
        rows = []
        for key, stats in results:
            rows.append(
                (
                    str(key),
                    stats.n,
                    *(
                        _number(v)
                        for v in (
                            stats.mean_simulated,
                            stats.mean_reference,
                            stats.bias,
                            stats.relative_bias,
                            stats.rmse,
                            stats.r,
                        )
                    ),
                )
            )
            feedback.pushInfo(
                f"{key}: n = {stats.n}, simulated {stats.mean_simulated:.4g}, reference "
                f"{stats.mean_reference:.4g}, bias {stats.bias:.4g} "
                f"({100 * stats.relative_bias:.1f} %), RMSE {stats.rmse:.4g}, r {stats.r:.4f}"
            )
        columns = [("class", str), ("n", int)] + [
            (name, float)
            for name in (
                "mean_simulated",
                "mean_reference",
                "bias",
                "relative_bias",
                "rmse",
                "r",
            )
        ]
        total = results[0][1]
        output = {
            "OUTPUT": self.write_table(parameters, "OUTPUT", context, columns, rows),
            "N": total.n,
            "BIAS": total.bias,
            "RMSE": total.rmse,
            "R": total.r,
        }
        pair_columns = [
            ("x", float),
            ("y", float),
            ("class", str),
            ("simulated", float),
            ("reference", float),
        ]
        destination = self.write_table(parameters, "OUTPUT_PAIRS", context, pair_columns, pairs)
        if destination is not None:
            output["OUTPUT_PAIRS"] = destination
        return output

    # --- points ---------------------------------------------------------------------------
    def compare_points(self, parameters, context, points, monitor, feedback):
        field = self.parameterAsString(parameters, "REFERENCE_FIELD", context)
        if not field or points.fields().indexOf(field) < 0:
            raise QgsProcessingException(
                "REFERENCE_FIELD: choose the numeric field of REFERENCE_POINTS that holds the "
                "measured value"
            )
        simulated = self.raster_source(parameters, "INPUT", context, bands=(1,))
        grid = engine.resolve_grid([simulated])
        index, values, outside, blank = self.point_pixels(points, field, grid, context)
        if outside:
            feedback.pushWarning(
                f"REFERENCE_POINTS: {outside} point(s) outside the simulated raster skipped"
            )
        if blank:
            feedback.pushWarning(f"REFERENCE_POINTS: {blank} point(s) without a value skipped")
        if index.size == 0:
            raise QgsProcessingException(
                "REFERENCE_POINTS: no point with a value falls on the simulated raster"
            )
        pixels, means, counts = validation.pixel_means(index, values)
        merged = int(index.size - pixels.size)
        if merged:
            feedback.pushInfo(
                f"{index.size} points fall in {pixels.size} pixels: the {int((counts > 1).sum())}"
                f" pixels holding several points take their points' mean ({merged} points "
                "merged), one observation per pixel."
            )
        sources = [simulated]
        cover = self.raster_source(
            parameters, "LANDCOVER", context, bands=(1,), resampling="nearest"
        )
        if cover is not None:
            sources.append(cover)
        sampled = sample_at_pixels(
            sources, pixels, grid=grid, memory_mb=self.memory_mb(), monitor=monitor
        ).values
        classes = sampled[:, 1] if cover is not None else None
        grouped = validation.GroupedPairs()
        grouped.add(sampled[:, 0], means, classes)
        valid = np.isfinite(sampled).all(axis=1)  # the pairs the statistics count
        xs, ys = pixel_centres(grid, pixels[valid])
        labels = classes[valid] if classes is not None else [None] * int(valid.sum())
        pairs = [
            (float(x), float(y), _class(c), float(s), float(m))
            for x, y, c, s, m in zip(xs, ys, labels, sampled[valid, 0], means[valid], strict=True)
        ]
        return grouped, pairs

    def point_pixels(self, points, field, grid: Grid, context):
        """Linear pixel indices and values of the points on ``grid``; counts of points outside
        the grid and of points without a value."""
        crs = QgsCoordinateReferenceSystem.fromWkt(grid.crs_wkt)
        transform = QgsCoordinateTransform(points.sourceCrs(), crs, context.transformContext())
        x0, dx, _, y0, _, dy = grid.geotransform
        request = QgsFeatureRequest().setSubsetOfAttributes([field], points.fields())
        index, values, outside, blank = [], [], 0, 0
        for feature in points.getFeatures(request):
            value = feature[field]
            try:
                value = float(value)
            except (TypeError, ValueError):
                value = math.nan
            geometry = QgsGeometry(feature.geometry())
            if not math.isfinite(value) or geometry.isNull() or geometry.isEmpty():
                blank += 1
                continue
            geometry.transform(transform)
            for point in geometry.vertices():  # each point of a multipoint
                col = math.floor((point.x() - x0) / dx)
                row = math.floor((point.y() - y0) / dy)
                if 0 <= col < grid.width and 0 <= row < grid.height:
                    index.append(row * grid.width + col)
                    values.append(value)
                else:
                    outside += 1
        return np.asarray(index, dtype=np.int64), np.asarray(values), outside, blank

    # --- raster ---------------------------------------------------------------------------
    def compare_raster(self, parameters, context, reference, monitor):
        on = COMPARE_ON[self.parameterAsEnum(parameters, "COMPARE_ON", context)]
        # Onto the reference's grid: area averages (classes: the most frequent); onto the
        # simulated raster's own grid: interpolation (classes: the nearest).
        simulated, cover = (
            self.raster_source(
                parameters,
                name,
                context,
                bands=(1,),
                resampling=onto_reference if on == "reference" else onto_own,
            )
            for name, onto_reference, onto_own in (
                ("INPUT", "average", "bilinear"),
                ("LANDCOVER", "mode", "nearest"),
            )
        )
        sources = [simulated, reference] + ([cover] if cover is not None else [])
        grid = engine.resolve_grid([simulated], reference if on == "reference" else None)
        grouped = validation.GroupedPairs()
        stride = max(1, math.ceil(grid.width * grid.height / MAX_PAIRS))
        pairs = []

        def visit(window, *blocks):
            s, r = blocks[0][0], blocks[1][0]
            classes = blocks[2][0] if cover is not None else None
            grouped.add(s, r, classes)
            valid = np.isfinite(s) & np.isfinite(r)
            if classes is not None:
                valid &= np.isfinite(classes)
            rows, cols = np.nonzero(valid)
            linear = (rows + window.row).astype(np.int64) * grid.width + cols + window.col
            keep = linear % stride == 0
            xs, ys = pixel_centres(grid, linear[keep])
            for x, y, i, j in zip(xs, ys, rows[keep], cols[keep], strict=True):
                c = _class(classes[i, j]) if classes is not None else None
                pairs.append((float(x), float(y), c, float(s[i, j]), float(r[i, j])))

        self.scan(visit, sources, grid=grid, monitor=monitor)
        return grouped, pairs


def _number(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _class(value):
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return str(int(value)) if value.is_integer() else f"{value:g}"

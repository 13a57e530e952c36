"""Single-driver analysis of the NPP-drivers study (Tian et al. 2022, §2.4.1): Pearson correlation
of a target (NPP) with each driver at sample points, and the location-specific correlation
coefficient in a moving window. Also the sampling shared with the random-forest experiments."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterRasterDestination,
    QgsWkbTypes,
)

from .. import compat, engine
from ..core import drivers
from ..engine import Grid, styles
from .base import MineEcoAlgorithm

SAMPLING_HELP = (
    "Random points: a uniform random sample without replacement of POINTS pixels among those "
    "valid (not NoData) in the target and every driver, drawn by bottom-k (priority) sampling: "
    "each pixel gets a pseudo-random key from SEED and its position (SplitMix64; row and column "
    "counted from the north-west corner) and the POINTS smallest keys are kept, in one "
    "streaming pass. The sample depends only on SEED, POINTS and the valid pixels — not on the "
    "block size, nor on whether the grid is stored north-up or south-up — and the same SEED "
    "and POINTS pick the same "
    "pixels in pearson_correlation and rf_driver_contribution."
)


def refuse_non_points(parameter: str, need: str, wkb_type) -> None:
    """QgsProcessingException naming ``parameter`` for a line or polygon layer or feature (a
    layer of mixed or unknown type is checked feature by feature)."""
    kind = QgsWkbTypes.geometryType(wkb_type)
    described = {
        QgsWkbTypes.GeometryType.LineGeometry: "lines",
        QgsWkbTypes.GeometryType.PolygonGeometry: "polygons",
    }
    if kind in described:
        raise QgsProcessingException(
            f"{parameter}: {need}; this layer holds {described[kind]} "
            f"({QgsWkbTypes.displayString(wkb_type)}). Make points first, e.g. with 'Centroids' "
            "(native:centroids) or 'Random points in polygons', choosing where each sample lies."
        )


# --- Sampling (shared with rf_driver_contribution) ----------------------------------------------


@dataclass
class PixelSample:
    """Sampled pixels: linear index on the grid (row·width + col) and one value column per source
    (target first), NaN where a source is NoData."""

    index: np.ndarray
    values: np.ndarray
    grid: Grid

    def __len__(self) -> int:
        return len(self.index)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates (grid CRS) of the sampled pixels' centres."""
        return pixel_centres(self.grid, self.index)


def pixel_centres(grid: Grid, index) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates (grid CRS) of the centres of the pixels with linear indices ``index``
    (row·width + col)."""
    x0, dx, _, y0, _, dy = grid.geotransform
    rows, cols = np.divmod(np.asarray(index, dtype=np.int64), grid.width)
    return x0 + (cols + 0.5) * dx, y0 + (rows + 0.5) * dy


def sample_random_pixels(sources, count, seed, *, grid, memory_mb, monitor) -> PixelSample:
    """``count`` pixels valid in every source, uniformly at random (see SAMPLING_HELP)."""
    reservoir = drivers.BottomK(count, len(sources))

    def visit(window, *blocks):
        stack = np.concatenate([block[:1] for block in blocks])
        valid = np.all(np.isfinite(stack), axis=0)
        rows, cols = np.nonzero(valid)
        if rows.size == 0:
            return
        # Keys and order come from the north-up position, so that the same seed samples the
        # same map cells whichever way the grid's rows and columns run.
        north, west = grid.north_up_position(rows + window.row, cols + window.col)
        index = north.astype(np.int64) * grid.width + west
        keys = drivers.pixel_keys(seed, index)
        if keys.size > count:
            keep = np.argpartition(keys, count - 1)[:count]
            rows, cols, index, keys = rows[keep], cols[keep], index[keep], keys[keep]
        reservoir.offer(keys, index, stack[:, rows, cols].T)

    engine.scan(visit, sources, grid=grid, memory_mb=memory_mb, monitor=monitor)
    index, values = reservoir.result()
    rows, cols = grid.north_up_position(*np.divmod(index, grid.width))
    return PixelSample(rows * grid.width + cols, values, grid)


def sample_at_pixels(sources, index, *, grid, memory_mb, monitor) -> PixelSample:
    """Values of every source at the given pixels (linear indices; repeats allowed)."""
    index = np.asarray(index, dtype=np.int64)
    rows, cols = np.divmod(index, grid.width)
    values = np.full((len(index), len(sources)), np.nan)

    def visit(window, *blocks):
        inside = (
            (rows >= window.row)
            & (rows < window.row + window.height)
            & (cols >= window.col)
            & (cols < window.col + window.width)
        )
        if not inside.any():
            return
        stack = np.concatenate([block[:1] for block in blocks])
        values[inside] = stack[:, rows[inside] - window.row, cols[inside] - window.col].T

    engine.scan(visit, sources, grid=grid, memory_mb=memory_mb, monitor=monitor)
    return PixelSample(index, values, grid)


def unique_names(names) -> list[str]:
    """Layer names made unique (a repeated name gets _2, _3, …)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = str(name) or "driver"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


class DriverAlgorithm(MineEcoAlgorithm):
    """Shared parameters and helpers of the driver algorithms: target, drivers, sampling."""

    group_key = "drivers"

    def add_target_and_drivers(self):
        self.add_raster(
            "TARGET",
            "Target raster (e.g. NPP)",
            "The response, e.g. annual NPP (gC·m⁻²·yr⁻¹); band 1. Its grid is the analysis grid: "
            "drivers on other grids are resampled onto it (bilinear).",
        )
        self.add_rasters(
            "DRIVERS",
            "Driver rasters",
            "One raster per driver (band 1 of each), e.g. MAT, MAP, SOC, TN, pH, LD. Layer names "
            "name the drivers in the outputs.",
        )

    def add_sampling(self, default_points=1000):
        self.add_number(
            "POINTS",
            "Number of random sample points",
            default_points,
            f"{SAMPLING_HELP} Default {default_points}, as in the study (§2.4.1).",
            minimum=3,
            integer=True,
        )
        self.add_seed()

    def add_output_samples(self):
        self.add(
            QgsProcessingParameterFeatureSink(
                "OUTPUT_SAMPLES",
                self.tr("Sample points with values"),
                QgsProcessing.SourceType.TypeVectorPoint,
                optional=True,
                createByDefault=False,
            ),
            "Optional point layer: the sampled pixel centres (in the target's CRS) with the "
            "target and driver values (NULL where NoData).",
        )

    def target_and_drivers(self, parameters, context):
        """(sources: target first, then drivers; driver names; analysis grid)."""
        target = self.raster_source(parameters, "TARGET", context, bands=(1,))
        driver_sources = self.raster_sources(parameters, "DRIVERS", context, bands=(1,))
        if not driver_sources:
            raise QgsProcessingException("DRIVERS: at least one driver raster is needed")
        layers = self.parameterAsLayerList(parameters, "DRIVERS", context)
        names = unique_names(layer.name() for layer in layers)
        grid = engine.resolve_grid([target])
        return [target, *driver_sources], names, grid

    def random_sample(self, parameters, context, sources, grid, monitor, feedback=None):
        count = self.parameterAsInt(parameters, "POINTS", context)
        seed = self.parameterAsInt(parameters, "SEED", context)
        if count < 3:
            raise QgsProcessingException(f"POINTS: at least 3 points are needed, got {count}")
        sample = sample_random_pixels(
            sources, count, seed, grid=grid, memory_mb=self.memory_mb(), monitor=monitor
        )
        if len(sample) < 3:
            raise QgsProcessingException(
                f"POINTS: only {len(sample)} pixel(s) are valid in TARGET and every driver; "
                "at least 3 are needed (check NoData and the overlap of the rasters)"
            )
        if len(sample) < count and feedback is not None:
            feedback.pushWarning(
                f"POINTS: only {len(sample)} pixels are valid in TARGET and every driver; all of "
                "them are used"
            )
        return sample

    def write_samples(self, parameters, context, sample: PixelSample, columns) -> str | None:
        """The OUTPUT_SAMPLES point layer (pixel centres, one field per column)."""
        fields = QgsFields()
        for column in columns:
            fields.append(compat.field(column, float))
        crs = QgsCoordinateReferenceSystem.fromWkt(sample.grid.crs_wkt)
        sink, destination = self.parameterAsSink(
            parameters, "OUTPUT_SAMPLES", context, fields, QgsWkbTypes.Type.Point, crs
        )
        if sink is None:
            return None
        xs, ys = sample.centres()
        for x, y, row in zip(xs, ys, sample.values, strict=True):
            feature = QgsFeature(fields)
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(x), float(y))))
            feature.setAttributes([float(v) if math.isfinite(v) else None for v in row])
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        return destination


# --- Pearson correlation at points --------------------------------------------------------------


class PearsonCorrelation(DriverAlgorithm):
    algorithm_id = "pearson_correlation"
    display_name = "Pearson correlation with drivers"
    summary = (
        "Pearson correlation between a target raster (e.g. NPP) and each driver raster at "
        "sample points: random pixels (POINTS, SEED; the study used 1000) or the pixels under "
        "the points of a layer (SAMPLES). Gives r, the two-sided p of the t test and n per "
        "driver, with the significance marks of the study's Figure 3 (** p < 0.01, "
        "* p < 0.05). Each pixel is one observation: points of SAMPLES that fall in a pixel "
        "already sampled are counted once (their values are the same pixel's), so n and p "
        "are not inflated; the log and the numeric outputs say how many points were read, "
        "fell outside the grid, shared a pixel, and how many pixels were used."
    )
    formula = (
        "r = Σ(x − x̄)(y − ȳ) / √[Σ(x − x̄)² · Σ(y − ȳ)²] over the n points where both are valid\n"
        "t = r·√((n − 2)/(1 − r²)),  p = 2·P(T > |t|), T ~ Student's t with n − 2 df "
        "(two-sided, as SPSS and scipy.stats.pearsonr report)"
    )
    nodata_rule = (
        "Random points are drawn among pixels valid in the target and every driver, so every "
        "driver has the same n. With SAMPLES, a point outside the target grid is skipped, "
        "points in one pixel are that pixel once, and a pixel on NoData drops out of that "
        "driver's pairs only (pairwise deletion): n may differ between drivers. r and p are "
        "empty (NULL) when n < 3 or a variable is constant."
    )
    references = (
        "The NPP-drivers study: §2.4.1 and Figure 3.",
        "Pearson, K. (1896) Mathematical contributions to the theory of evolution III. Phil. "
        "Trans. R. Soc. A 187, 253–318.",
        "Steele, G.L., Lea, D. & Flood, C.H. (2014) Fast splittable pseudorandom number "
        "generators. OOPSLA '14 (SplitMix64, the pixel keys of the sampling).",
    )

    def initAlgorithm(self, config=None):
        self.add_target_and_drivers()
        self.add_sampling()
        self.add(
            QgsProcessingParameterFeatureSource(
                "SAMPLES",
                self.tr("Sample points (instead of random points)"),
                [QgsProcessing.SourceType.TypeVectorPoint],
                optional=True,
            ),
            "Optional point layer (any CRS: reprojected to the target's). When given, the values "
            "under its points are used and POINTS and SEED are ignored. Each pixel counts once "
            "however many points fall in it (several points in one pixel are one observation, "
            "not several); multi-points count each part. Line and polygon layers are refused: "
            "their vertices are not samples (use 'Random points in polygons' or 'Centroids' "
            "first).",
        )
        self.add_output_table(
            "OUTPUT",
            "Correlation table",
            "One row per driver: driver, r, p, n, significance (**, * or empty).",
        )
        self.add_output_samples()
        self.add_number_outputs(self.COUNTS)

    COUNTS = (
        ("POINTS_READ", "SAMPLES: points read (0 with random points)"),
        ("POINTS_OUTSIDE", "SAMPLES: points outside the target grid"),
        ("POINTS_SAME_PIXEL", "SAMPLES: points in a pixel already sampled (counted once)"),
        ("PIXELS_SAMPLED", "Pixels sampled (observations before NoData deletion)"),
    )

    def process(self, parameters, context, feedback):
        sources, names, grid = self.target_and_drivers(parameters, context)
        monitor = self.monitor(feedback)
        source = self.parameterAsSource(parameters, "SAMPLES", context)
        counts = dict.fromkeys((name for name, _ in self.COUNTS), 0)
        if source is not None:
            index, read, outside = self.points_to_pixels(source, grid, context, feedback)
            sample = sample_at_pixels(
                sources, index, grid=grid, memory_mb=self.memory_mb(), monitor=monitor
            )
            counts.update(
                POINTS_READ=read,
                POINTS_OUTSIDE=outside,
                POINTS_SAME_PIXEL=read - outside - len(index),
            )
            how = f"{len(sample)} pixels under the points of SAMPLES"
        else:
            sample = self.random_sample(parameters, context, sources, grid, monitor, feedback)
            seed = self.parameterAsInt(parameters, "SEED", context)
            how = f"{len(sample)} random pixels (SEED {seed})"
        counts["PIXELS_SAMPLED"] = len(sample)
        feedback.pushInfo(f"Target sampled at {how}.")
        rows = []
        target = sample.values[:, 0]
        for column, name in enumerate(names, start=1):
            r, p, n = drivers.pearson(sample.values[:, column], target)
            stars = drivers.significance_stars(p)
            feedback.pushInfo(f"{name}: r = {r:.4f}{stars}, p = {p:.4g}, n = {n}")
            rows.append(
                (
                    name,
                    r if math.isfinite(r) else None,
                    p if math.isfinite(p) else None,
                    n,
                    stars,
                )
            )
        columns = [("driver", str), ("r", float), ("p", float), ("n", int), ("significance", str)]
        results = {"OUTPUT": self.write_table(parameters, "OUTPUT", context, columns, rows)}
        points = self.write_samples(parameters, context, sample, ["target", *names])
        if points is not None:
            results["OUTPUT_SAMPLES"] = points
        results.update(counts)
        return results

    def points_to_pixels(self, source, grid: Grid, context, feedback):
        """(distinct linear pixel indices on ``grid`` in the order first met, points read,
        points outside the grid) of the layer's points (every part of multipoints). A pixel is
        one observation: points that fall in a pixel already met are counted, not repeated."""
        need = "a point layer is needed (vertices of lines or polygons are not samples)"
        refuse_non_points("SAMPLES", need, source.wkbType())
        crs = QgsCoordinateReferenceSystem.fromWkt(grid.crs_wkt)
        transform = QgsCoordinateTransform(source.sourceCrs(), crs, context.transformContext())
        x0, dx, _, y0, _, dy = grid.geotransform
        index, outside, read = [], 0, 0
        request = QgsFeatureRequest().setNoAttributes()
        for feature in source.getFeatures(request):
            geometry = QgsGeometry(feature.geometry())
            if geometry.isNull() or geometry.isEmpty():
                continue
            refuse_non_points("SAMPLES", need, geometry.wkbType())
            geometry.transform(transform)
            for vertex in geometry.vertices():
                read += 1
                col = math.floor((vertex.x() - x0) / dx)
                row = math.floor((vertex.y() - y0) / dy)
                if 0 <= col < grid.width and 0 <= row < grid.height:
                    index.append(row * grid.width + col)
                else:
                    outside += 1
        index = np.asarray(index, dtype=np.int64)
        _, first = np.unique(index, return_index=True)
        distinct = index[np.sort(first)]
        same = len(index) - len(distinct)
        if outside:
            feedback.pushWarning(f"SAMPLES: {outside} point(s) outside the target grid skipped")
        if same:
            feedback.pushWarning(
                f"SAMPLES: {same} point(s) fell in a pixel already sampled: each pixel counts "
                f"once ({len(distinct)} pixels from {len(index)} points on the grid)"
            )
        feedback.pushInfo(
            f"SAMPLES: {read} point(s) read, {outside} outside the grid, {same} in a pixel "
            f"already sampled; n = {len(distinct)} pixels before NoData deletion"
        )
        if len(distinct) < 3:
            raise QgsProcessingException(
                f"SAMPLES: only {len(distinct)} distinct pixel(s) of the target grid hold a "
                f"point ({read} point(s) read, {outside} outside, {same} in a pixel already "
                "sampled); at least 3 are needed"
            )
        return distinct, read, outside


# --- Location-specific correlation (moving window) ----------------------------------------------


class LocalCorrelation(MineEcoAlgorithm):
    algorithm_id = "local_correlation"
    display_name = "Local (moving-window) correlation"
    group_key = "drivers"
    summary = (
        "Location-specific correlation coefficient (LCC): Pearson r between two rasters inside "
        "a square moving window around every pixel, its two-sided p (t test) and a class "
        "raster — significant positive, significant negative, insignificant at ALPHA — with "
        "the three area shares (the study's Figure 3 and its inset). The window sums come from "
        "summed-area tables: the cost per pixel does not depend on the window size. Terra's "
        "focalPairs(c(x, y), w, 'pearson', na.rm = TRUE) computes the same r."
    )
    formula = (
        "Over the n valid pairs (x, y) in the window: Cxy = Σxy − ΣxΣy/n, Cxx = Σx² − (Σx)²/n, "
        "Cyy = Σy² − (Σy)²/n\n"
        "r = Cxy / √(Cxx·Cyy);  t = r·√((n − 2)/(1 − r²));  p = 2·P(T > |t|), n − 2 df\n"
        "Class 1: p < α and r > 0; 2: p < α and r < 0; 3: otherwise (p < α ⇔ |r| > r_c, "
        "r_c = t_c/√(n − 2 + t_c²), t_c the 1 − α/2 quantile of t with n − 2 df).\n"
        "x and y are centred on their block means before summing (numerical stability)."
    )
    nodata_rule = (
        "A pair is valid where both rasters have data; windows count valid pairs only (edges of "
        "the raster: the part of the window inside it). r, p and class are NoData where the "
        "centre pixel is NoData in either raster, where the window holds fewer than MIN_PAIRS "
        "valid pairs, or where either raster is constant in the window (r undefined, as in R's "
        "cor). The class raster's NoData is 0."
    )
    references = (
        "Tian, H. et al. (2022) Remote Sens. 14, 4177, §2.4.1 and Figure 3 (LCC between NPP and "
        "drivers, area shares of positive, negative and insignificant correlation).",
        "Zhu, H. et al. (2020) Revealing the 2D-scale, location-specific variations of soil "
        "properties in the coal mining area of Changhe watershed, China. Land Degrad. Dev. 31, "
        "2775–2788.",
        "Crow, F.C. (1984) Summed-area tables for texture mapping. SIGGRAPH '84, 207–212.",
        "Hijmans, R.J. terra: Spatial Data Analysis, focalPairs (the reference implementation "
        "the tests compare with).",
    )

    SHARES = (
        ("SHARE_POSITIVE", "Share of significant positive correlation (%)"),
        ("SHARE_NEGATIVE", "Share of significant negative correlation (%)"),
        ("SHARE_INSIGNIFICANT", "Share of insignificant correlation (%)"),
    )

    def initAlgorithm(self, config=None):
        self.add_raster(
            "INPUT_X",
            "Raster X (e.g. a driver)",
            "Band 1; its grid is the output grid.",
        )
        self.add_raster(
            "INPUT_Y",
            "Raster Y (e.g. NPP)",
            "Band 1; resampled onto X's grid (bilinear) when its grid differs.",
        )
        self.add_window(
            default=11,
            help_text=(
                "Side of the square moving window in pixels (odd). Default 11 (330 m at 30 m): "
                "the study does not state its window, so choose one that spans the scale of the "
                "pattern of interest; with W pixels a full window holds W² pairs."
            ),
        )
        self.add_number(
            "ALPHA",
            "Significance level α",
            0.05,
            "Significance level of the class raster (p < α is significant). Default 0.05, the "
            "study's level.",
            minimum=1e-12,
            maximum=0.5,
        )
        self.add_number(
            "MIN_PAIRS",
            "Minimum number of valid pairs",
            3,
            "Windows with fewer valid pairs are NoData. At least 3 (one degree of freedom); the "
            "p value accounts for n, so raising it is a choice about reliability near NoData and "
            "edges (e.g. half the window's pixels).",
            minimum=3,
            integer=True,
        )
        self.add_number(
            "THREADS",
            "Threads",
            2,
            "Threads for the window sums and p values within a block (numpy releases the GIL).",
            minimum=1,
            maximum=64,
            integer=True,
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_raster("OUTPUT_R", "Local correlation r", "Pearson r in [−1, 1], float32.")
        self.add(
            QgsProcessingParameterRasterDestination(
                "OUTPUT_P", self.tr("Local correlation p"), optional=True, createByDefault=True
            ),
            "Two-sided p value, float32. Optional (checked by default in the dialog; from "
            "qgis_process only when given): the p values cost about twice the rest of the "
            "computation, and the class raster does not need them (|r| above the critical r "
            "for the window's n is the same test).",
        )
        self.add_output_raster(
            "OUTPUT_CLASS",
            "Correlation class",
            "1 significant positive, 2 significant negative, 3 insignificant (uint8, NoData 0), "
            "styled with a legend.",
            side=True,
        )
        self.add_output_raster(
            "OUTPUT_PAIRS",
            "Valid pairs per window",
            "Optional: n, the number of valid pairs in each window (float32).",
            optional=True,
        )
        self.add_number_outputs(self.SHARES)
        self.addOutput(QgsProcessingOutputNumber("PIXELS", self.tr("Pixels with a class")))

    def process(self, parameters, context, feedback):
        window = self.window_size(parameters, "WINDOW", context)
        alpha = self.parameterAsDouble(parameters, "ALPHA", context)
        if not 0.0 < alpha < 1.0:
            raise QgsProcessingException(f"ALPHA: must lie in (0, 1), got {alpha}")
        min_pairs = self.parameterAsInt(parameters, "MIN_PAIRS", context)
        if min_pairs < 3:
            raise QgsProcessingException(f"MIN_PAIRS: must be at least 3, got {min_pairs}")
        if min_pairs > window * window:
            raise QgsProcessingException(
                f"MIN_PAIRS: {min_pairs} exceeds the {window * window} pixels of a "
                f"{window}×{window} window"
            )
        threads = max(self.parameterAsInt(parameters, "THREADS", context), 1)
        sources = [
            self.raster_source(parameters, "INPUT_X", context, bands=(1,)),
            self.raster_source(parameters, "INPUT_Y", context, bands=(1,)),
        ]
        metadata = {
            "METHOD": "moving-window Pearson r from summed-area window sums of centred values; "
            "p: Student t, n-2 df, two-sided",
            "WINDOW": window,
            "ALPHA": alpha,
            "MIN_PAIRS": min_pairs,
        }
        targets = [
            self.raster_target(parameters, "OUTPUT_R", context, metadata=metadata),
            self.raster_target(parameters, "OUTPUT_P", context, metadata=metadata),
            self.class_target(
                parameters,
                "OUTPUT_CLASS",
                context,
                styles.CORRELATION_CLASSES,
                metadata=metadata,
            ),
            self.raster_target(parameters, "OUTPUT_PAIRS", context, metadata=metadata),
        ]
        feedback.pushInfo(
            f"Window {window}×{window} pixels, α = {alpha}, at least {min_pairs} valid pairs."
        )
        halo = window // 2
        counts = np.zeros(4, dtype=np.int64)

        def kernel(x_block, y_block):
            result = drivers.local_correlation(
                x_block[0],
                y_block[0],
                window,
                min_pairs=min_pairs,
                alpha=alpha,
                p_values=targets[1] is not None,
                threads=threads,
            )
            inner = result.classes[halo:-halo, halo:-halo] if halo else result.classes
            counts[:] += np.bincount(inner.ravel(), minlength=4)[:4]
            pairs = None
            if targets[3] is not None:
                pairs = np.where(np.isnan(x_block[0]) | np.isnan(y_block[0]), np.nan, result.pairs)
            return result.r, result.p, result.classes, pairs

        self.run_blocks(
            kernel,
            sources,
            targets,
            halo=halo,
            monitor=self.monitor(feedback),
            work_factor=8,
        )
        classified = int(counts[1:].sum())
        results = self.outputs(
            dict(
                zip(("OUTPUT_R", "OUTPUT_P", "OUTPUT_CLASS", "OUTPUT_PAIRS"), targets, strict=True)
            )
        )
        results["PIXELS"] = classified
        for (name, description), count in zip(self.SHARES, counts[1:], strict=True):
            share = float(100.0 * count / classified) if classified else float("nan")
            results[name] = share
            feedback.pushInfo(f"{description}: {share:.2f} ({count} pixels)")
        if classified == 0:
            feedback.pushWarning(
                "No pixel has a correlation: check the overlap, NoData and MIN_PAIRS."
            )
        return results

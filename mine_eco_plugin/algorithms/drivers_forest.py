"""Random-forest factorial experiments: relative contribution of driver categories to a target
(the NPP-drivers study's §2.4.2, Eq. 6–7, Figures 4 and 5)."""

from __future__ import annotations

import math

import numpy as np
from osgeo import gdal
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
)

from ..core import drivers
from ..engine import Monitor, RasterClass, styles
from .drivers import DriverAlgorithm

INSTALL_SKLEARN = (
    "scikit-learn is needed by this algorithm and is not installed for the Python that QGIS "
    "runs. On Debian/Ubuntu: sudo apt install python3-sklearn; on Windows (OSGeo4W shell): "
    "python -m pip install scikit-learn; on macOS: the QGIS Python's pip install "
    "scikit-learn. Restart QGIS afterwards."
)

IMPORTANCE_MEASURES = (
    "Mean increase of the OOB MSE (unscaled permutation importance)",
    "Mean increase divided by its standard error (R randomForest's default %IncMSE)",
)

#: One colour per category (``styles.CATEGORY_COLOURS``).
MAX_CATEGORIES = len(styles.CATEGORY_COLOURS)


def parse_categories(text: str, count: int) -> tuple[list[str], list[int]]:
    """Category names in order of first appearance and each driver's category index, from one
    comma-separated name per driver."""
    names = [part.strip() for part in (text or "").split(",")]
    if len(names) != count or not all(names):
        raise QgsProcessingException(
            f"CATEGORIES: one category name per driver is needed, comma-separated ({count} "
            f"drivers, got {len([n for n in names if n])} name(s) in '{text}')"
        )
    categories: list[str] = []
    for name in names:
        if name not in categories:
            categories.append(name)
    if len(categories) < 2:
        raise QgsProcessingException(
            "CATEGORIES: at least two categories are needed (e.g. climate, soil, mining)"
        )
    if len(categories) > MAX_CATEGORIES:
        raise QgsProcessingException(
            f"CATEGORIES: at most {MAX_CATEGORIES} categories, got {len(categories)}"
        )
    return categories, [categories.index(name) for name in names]


#: The NPP-drivers study's Figure 5a: soil in red, mining in green, climate in blue.
FIGURE_5A_ORDER = ("soil", "mining", "climate")


def parse_rgb(text: str, categories: list[str]) -> list[int]:
    """Category index shown in red, green and blue (−1: none), from up to three names; default
    soil, mining, climate in red, green, blue (Figure 5a of the NPP-drivers study) when those
    categories exist (any case), else the first three categories in order."""
    if not (text or "").strip():
        lower = [name.lower() for name in categories]
        if all(name in lower for name in FIGURE_5A_ORDER):
            return [lower.index(name) for name in FIGURE_5A_ORDER]
        return [i if i < len(categories) else -1 for i in range(3)]
    names = [part.strip() for part in text.split(",")]
    unknown = [name for name in names if name not in categories]
    if len(names) > 3 or unknown or len(set(names)) != len(names):
        raise QgsProcessingException(
            f"RGB_CATEGORIES: up to three distinct category names of CATEGORIES "
            f"({', '.join(categories)}) for red, green, blue; got '{text}'"
        )
    channels = [categories.index(name) for name in names]
    return channels + [-1] * (3 - len(channels))


def legend(classes, categories, colours) -> tuple[RasterClass, ...]:
    """Colour and label of every dominant-driver class: single categories in their colour,
    pairs in their colours mixed (``styles.coupled_colour``)."""
    styled = []
    for item in classes:
        if len(item.categories) == 1:
            (first,) = item.categories
            colour = colours[first]
            label = f"{item.letters}: {categories[first]}"
        else:
            first, second = item.categories
            colour = styles.coupled_colour(colours[first], colours[second])
            label = f"{item.letters}: {categories[first]} > {categories[second]} (coupled)"
        styled.append(RasterClass(item.code, label, colour))
    return tuple(styled)


def write_importance_chart(path, names, driver_categories, percents, categories, colours):
    """A horizontal bar chart of the drivers' importance (%), coloured by category, largest on
    top, with the category totals in the legend (the study's Figure 4): the report's
    importance chart, 960 px wide at 150 dpi."""
    from ..report.charts import importance_figure

    figure = importance_figure(
        names,
        percents,
        categories=[categories[c] for c in driver_categories],
        colours=dict(zip(categories, colours, strict=True)),
        title="Driver importance in RF_all (OOB permutation)",
        decimals=1,
        total_unit=" %",
        legend_title=None,
        size=(6.4, 0.35, 1.4),
        headroom=(1.15, 1.0),
        dpi=150,
    )
    figure.savefig(path)


def mark_rgba(path: str) -> None:
    """Tag the bands of the RGB output as red, green, blue and alpha (GeoTIFF photometric and
    extra-sample tags), so QGIS and GDAL show it as a colour composite with transparency."""
    dataset = gdal.Open(path, gdal.GA_Update)
    for band, interpretation in enumerate(
        (gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand, gdal.GCI_AlphaBand), start=1
    ):
        dataset.GetRasterBand(band).SetColorInterpretation(interpretation)
    dataset = None


class RfDriverContribution(DriverAlgorithm):
    algorithm_id = "rf_driver_contribution"
    #: The first three categories' relative contributions as red, green, blue.
    rgb_outputs = {"OUTPUT_RELATIVE": (1, 2, 3)}
    display_name = "Random-forest driver contribution"
    summary = (
        "Random-forest factorial experiments that split a target (e.g. NPP) between categories "
        "of drivers (e.g. climate, soil, mining), pixel by pixel (the NPP-drivers study's §2.4.2). "
        "A forest on all drivers (RF_all) and one without each category (RF_¬c) are fitted to "
        "POINTS random pixels; their out-of-bag R² and RMSE are reported; RF_all's permutation "
        "importance per driver (normalised to 100 %) and per category gives the study's "
        "Figure 4. Every pixel is then predicted by all models: the actual contribution of a "
        "category is the drop of the prediction without it, the relative contribution its "
        "share (%), shown as an RGB composite and as dominant-driver classes with their area "
        "shares (Figure 5). The study's 'mean decrease in accuracy' is this permutation "
        "importance (Breiman 2001; R randomForest's %IncMSE), computed on each tree's "
        "out-of-bag points. Needs scikit-learn (QGIS's own Python: Debian/Ubuntu "
        "python3-sklearn; pip elsewhere)."
    )
    formula = (
        "ActCon_c = ŷ_all − ŷ_¬c   (target units; Eq. 6)\n"
        "RelCon_c = |ActCon_c| / Σ_k |ActCon_k| × 100 %   (Eq. 7)\n"
        "Dominant: the category with RelCon > THRESHOLD × 100 % (default 0.6 = 60 %); otherwise "
        "the ordered pair of the two largest RelCon, larger first (CS: climate > soil).\n"
        "RGB: band b = round(RelCon of category RGB_CATEGORIES[b] × 255 / 100), 0–255, plus alpha "
        "(255 valid, 0 NoData).\n"
        "Importance of driver j: mean over trees of [MSE_oob(tree, x_j permuted) − "
        "MSE_oob(tree)]; % = max(importance, 0) / Σ max(·, 0) × 100; category % = sum of its "
        "drivers' %.\n"
        "OOB R² = 1 − Σ(y − ŷ_oob)² / Σ(y − ȳ)²;  OOB RMSE = √(mean (y − ŷ_oob)²)."
    )
    nodata_rule = (
        "A driver constant at the sample points is refused (a forest cannot split on it, and "
        "its category's contribution would be the noise between forests); a nearly constant "
        "one (caret's near-zero-variance rule) is reported. An OOB R² of RF_all below "
        "MIN_OOB_R2 (0.1) is reported as an error in the log and tags the rasters' metadata "
        "(RELIABILITY): the maps are then not meaningful. So is a category whose removal does "
        "not lower the OOB R². "
        "Sample points are drawn among pixels valid in the target and every driver. Pixels "
        "NoData in the target or any driver are NoData in every raster output (RGB: alpha 0; "
        "dominant: 0). Pixels where every ActCon is 0 (all models agree) have no relative "
        "contribution: NoData, counted as 'undetermined' in the area table."
    )
    references = (
        "The NPP-drivers study: §2.4.2, Eq. 6–7, Figures 4–5.",
        "Li, H. et al. (2022) Decipher soil organic carbon dynamics and driving forces across "
        "China using machine learning. Glob. Change Biol. 28, 3394–3410 (ActCon, RelCon).",
        "Breiman, L. (2001) Random forests. Mach. Learn. 45, 5–32 (forests, OOB error, "
        "permutation importance).",
        "Liaw, A. & Wiener, M. (2002) Classification and regression by randomForest. R News 2(3), "
        "18–22 (defaults: 500 trees, mtry = p/3, node size 5).",
        "Strobl, C. & Zeileis, A. (2008) Danger: high power! Exploring the statistical properties "
        "of a test for random forest variable importance. COMPSTAT 2008 (unscaled importance).",
        "Pedregosa, F. et al. (2011) Scikit-learn: machine learning in Python. JMLR 12, "
        "2825–2830 (the regression trees).",
        "Kuhn, M. & Johnson, K. (2013) Applied Predictive Modeling. Springer, §3.5 "
        "(near-zero-variance predictors; caret's nearZeroVar: frequency ratio > 95/5 and < 10 % "
        "distinct values).",
    )

    def initAlgorithm(self, config=None):
        self.add_target_and_drivers()
        self.add(
            QgsProcessingParameterString(
                "CATEGORIES", self.tr("Category of each driver (comma-separated)")
            ),
            "One category name per driver, in the order of DRIVERS, e.g. climate,climate,"
            "climate,climate,soil,soil,soil,soil,soil,soil,soil,mining (the study's 12 drivers). "
            "Any number of categories from 2 to 10; legend letters are their initials.",
        )
        self.add_sampling()
        self.add_number(
            "TREES",
            "Number of trees",
            500,
            "Trees per forest. Default 500, R randomForest's default (the study used R).",
            minimum=1,
            integer=True,
        )
        self.add_number(
            "MTRY",
            "Drivers tried at each split (0: p/3)",
            0,
            "mtry; 0 = R randomForest's regression default max(⌊p/3⌋, 1), with p the drivers of "
            "each model.",
            minimum=0,
            integer=True,
            advanced=True,
        )
        self.add_number(
            "NODE_SIZE",
            "Node size",
            5,
            "R randomForest's nodesize: a node of at most this many points is not split further "
            "(scikit-learn min_samples_split = NODE_SIZE + 1). Default 5, R's regression "
            "default.",
            minimum=1,
            integer=True,
            advanced=True,
        )
        self.add_number(
            "THRESHOLD",
            "Dominance threshold (fraction)",
            0.6,
            "A category dominates a pixel alone when its RelCon exceeds this fraction (0.6 = "
            "60 %, the study's threshold); otherwise the pixel gets the ordered pair of the two "
            "largest categories.",
            minimum=0.01,
            maximum=0.99,
        )
        self.add_number(
            "MIN_OOB_R2",
            "Smallest OOB R² for meaningful maps",
            0.1,
            "When RF_all's out-of-bag R² is below this, the run reports an error in the log "
            "(it still ends and writes the outputs, tagged RELIABILITY in their metadata): the "
            "drivers then explain almost none of the target, and the contribution maps show "
            "differences between forests that predict little more than the mean. Default 0.1 "
            "(10 % of the variance explained); the study's forests explained far more.",
            minimum=-1e9,
            maximum=1.0,
            advanced=True,
        )
        self.add(
            QgsProcessingParameterString(
                "RGB_CATEGORIES", self.tr("Categories shown in red, green, blue"), optional=True
            ),
            "Up to three category names for the red, green and blue bands of OUTPUT_RGB. "
            "Default: soil in red, mining in green and climate in blue, as the study's Figure "
            "5a, when the categories are named soil, mining and climate; otherwise the first "
            "three categories in the order they appear in CATEGORIES.",
        )
        self.add_enum(
            "IMPORTANCE_MEASURE",
            "Importance measure",
            IMPORTANCE_MEASURES,
            0,
            "Unscaled (default): the mean increase of the out-of-bag MSE, Breiman's measure "
            "(Strobl & Zeileis 2008 advise against the scaled one); scaled: divided by its "
            "standard error over the trees, what R's importance() prints as %IncMSE by default. "
            "The study does not say which it normalised.",
            advanced=True,
        )
        self.add_number(
            "THREADS",
            "Threads",
            2,
            "Threads for growing and predicting the trees (results do not depend on it).",
            minimum=1,
            maximum=64,
            integer=True,
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_table(
            "OUTPUT_IMPORTANCE",
            "Importance table",
            "One row per driver (level 'driver': permutation importance, its standard deviation "
            "over the trees, % of the total) and per category (level 'category': summed %, mean "
            "and standard deviation of the category's RelCon over the pixels).",
            side=True,
        )
        self.add_output_table(
            "OUTPUT_SCORES",
            "Model scores",
            "One row per model (RF_all, RF_without_<category>): drivers used, mtry, OOB R², OOB "
            "RMSE (target units).",
            side=True,
        )
        self.add_output_raster(
            "OUTPUT_RELATIVE",
            "Relative contribution (%)",
            "RelCon per category, one float32 band per category in category order (band names "
            "are the categories).",
        )
        self.add_output_raster(
            "OUTPUT_RGB",
            "Relative contribution RGB",
            "8-bit RGBA composite: red, green, blue = RelCon of the RGB_CATEGORIES × 255 / 100; "
            "alpha 0 on NoData.",
            side=True,
        )
        self.add_output_raster(
            "OUTPUT_DOMINANT",
            "Dominant driver",
            "uint8 classes (NoData 0): 1…C single categories in category order, then the "
            "ordered pairs (for C, S, M: 4 CS, 5 CM, 6 SC, 7 SM, 8 MC, 9 MS); styled, with a "
            "legend.",
            side=True,
        )
        self.add_output_table(
            "OUTPUT_AREAS",
            "Dominant-driver areas",
            "One row per dominant-driver class: code, class, description, pixels, area (CRS "
            "units², m² for metric CRSs) and % of the classified pixels (the study's Figure 5b "
            "inset).",
            side=True,
        )
        self.add_output_raster(
            "OUTPUT_ACTUAL",
            "Actual contribution (target units)",
            "Optional: ActCon per category, one float32 band per category.",
            optional=True,
        )
        self.add(
            QgsProcessingParameterFileDestination(
                "OUTPUT_CHART",
                self.tr("Importance chart"),
                self.tr("PNG files (*.png)"),
                optional=True,
                createByDefault=False,
            ),
            "Optional PNG bar chart of the driver importances coloured by category (Figure 4); "
            "needs matplotlib.",
        )
        self.add_output_samples()
        self.addOutput(QgsProcessingOutputNumber("OOB_R2", self.tr("OOB R² of RF_all")))
        self.addOutput(QgsProcessingOutputNumber("OOB_RMSE", self.tr("OOB RMSE of RF_all")))
        self.addOutput(QgsProcessingOutputNumber("SAMPLE_SIZE", self.tr("Sample points used")))
        self.addOutput(
            QgsProcessingOutputString("CATEGORY_IMPORTANCE", self.tr("Importance per category (%)"))
        )

    # --- run ------------------------------------------------------------------------------------

    def process(self, parameters, context, feedback):
        sources, names, grid = self.target_and_drivers(parameters, context)
        categories, driver_categories = parse_categories(
            self.parameterAsString(parameters, "CATEGORIES", context), len(names)
        )
        channels = parse_rgb(
            self.parameterAsString(parameters, "RGB_CATEGORIES", context), categories
        )
        threshold = self.parameterAsDouble(parameters, "THRESHOLD", context)
        if not 0.0 < threshold < 1.0:
            raise QgsProcessingException(
                f"THRESHOLD: a fraction in (0, 1) is needed (0.6 = 60 %), got {threshold}"
            )
        try:
            from ..core import drivers_forest
        except ImportError as error:
            raise QgsProcessingException(f"{INSTALL_SKLEARN} ({error})") from None
        chart = self.chart_destination(parameters, "OUTPUT_CHART", context)
        settings = drivers_forest.ForestSettings(
            trees=self.parameterAsInt(parameters, "TREES", context),
            mtry=self.parameterAsInt(parameters, "MTRY", context),
            node_size=self.parameterAsInt(parameters, "NODE_SIZE", context),
            seed=self.parameterAsInt(parameters, "SEED", context),
            threads=max(self.parameterAsInt(parameters, "THREADS", context), 1),
        )
        if settings.trees < 1:
            raise QgsProcessingException("TREES: at least one tree is needed")
        if settings.mtry > len(names):
            raise QgsProcessingException(
                f"MTRY: at most the number of drivers ({len(names)}), got {settings.mtry}"
            )
        scaled = self.parameterAsEnum(parameters, "IMPORTANCE_MEASURE", context) == 1
        monitor = self.monitor(feedback)

        # 1. Sample.
        sample = self.random_sample(
            parameters, context, sources, grid, monitor.span(0.0, 0.05), feedback
        )
        if len(sample) <= settings.node_size:
            raise QgsProcessingException(
                f"POINTS: {len(sample)} valid sample points are too few to split nodes of "
                f"{settings.node_size} points (NODE_SIZE)"
            )
        y, x = sample.values[:, 0], sample.values[:, 1:]
        self.check_drivers(x, names, driver_categories, categories, feedback)
        members = [
            ", ".join(n for n, k in zip(names, driver_categories, strict=True) if k == i)
            for i in range(len(categories))
        ]
        feedback.pushInfo(
            f"{len(sample)} sample points (SEED {settings.seed}); categories: "
            + "; ".join(f"{c}: {m}" for c, m in zip(categories, members, strict=True))
        )

        # 2. Fit RF_all and RF without each category.
        fit_monitor = monitor.span(0.05, 0.25)

        def fit_progress(fraction):
            fit_monitor.check()
            fit_monitor.report(fraction)

        try:
            experiments = drivers_forest.factorial_experiments(
                x, y, driver_categories, categories, settings, progress=fit_progress
            )
        except ValueError as error:
            raise QgsProcessingException(f"CATEGORIES: {error}") from None
        models = [("RF_all", None, experiments.all_drivers)] + [
            (f"RF_without_{c}", c, forest)
            for c, forest in zip(categories, experiments.without, strict=True)
        ]
        for label, _, forest in models:
            feedback.pushInfo(
                f"{label}: {len(forest.columns)} drivers, mtry {forest.mtry}, OOB R² = "
                f"{forest.oob_r2:.4f}, OOB RMSE = {forest.oob_rmse:.4g}"
            )
        min_r2 = self.parameterAsDouble(parameters, "MIN_OOB_R2", context)
        reliability = self.check_scores(experiments, categories, min_r2, feedback)
        importance = experiments.importance
        raw = importance.scaled if scaled else importance.increase
        percents = importance.percent(scaled)
        totals = [
            float(sum(p for p, k in zip(percents, driver_categories, strict=True) if k == c))
            for c in range(len(categories))
        ]
        for name, value, percent in zip(names, raw, percents, strict=True):
            feedback.pushInfo(f"Importance of {name}: {value:.4g} ({percent:.2f} %)")
        summary = ", ".join(f"{c}={t:.2f}" for c, t in zip(categories, totals, strict=True))
        feedback.pushInfo(f"Importance per category (%): {summary}")

        # 3. Predict every pixel.
        letters = drivers.category_letters(categories)
        classes = drivers.dominant_classes(len(categories), letters)
        colours = self.category_colours(categories, channels)
        stats = self.predict_pixels(
            parameters,
            context,
            sources,
            grid,
            experiments,
            threshold,
            channels,
            legend(classes, categories, colours),
            settings,
            monitor.span(0.25, 1.0),
            metadata={
                "CATEGORIES": ",".join(categories),
                "DRIVERS": ",".join(names),
                "DRIVER_CATEGORIES": ",".join(categories[k] for k in driver_categories),
                "POINTS": len(sample),
                "SEED": settings.seed,
                "TREES": settings.trees,
                "MTRY": settings.mtry or "p/3",
                "NODE_SIZE": settings.node_size,
                "THRESHOLD": threshold,
                "RGB": ",".join(categories[c] if c >= 0 else "-" for c in channels),
                "OOB_R2_ALL": f"{experiments.all_drivers.oob_r2:.6f}",
                "RELIABILITY": reliability,
                "CATEGORY_IMPORTANCE": summary,
            },
        )

        # 4. Tables, chart, samples.
        results = dict(stats.pop("rasters"))
        relcon_mean, relcon_sd = stats["relcon_mean"], stats["relcon_sd"]
        rows = [
            ("driver", name, categories[k], float(v), float(s), float(p), None, None)
            for name, k, v, s, p in zip(
                names, driver_categories, raw, importance.sd, percents, strict=True
            )
        ] + [
            ("category", c, c, None, None, totals[i], relcon_mean[i], relcon_sd[i])
            for i, c in enumerate(categories)
        ]
        results["OUTPUT_IMPORTANCE"] = self.write_table(
            parameters,
            "OUTPUT_IMPORTANCE",
            context,
            [
                ("level", str),
                ("name", str),
                ("category", str),
                ("importance", float),
                ("importance_sd", float),
                ("percent", float),
                ("relcon_mean", float),
                ("relcon_sd", float),
            ],
            [tuple(None if _nan(v) else v for v in row) for row in rows],
        )
        results["OUTPUT_SCORES"] = self.write_table(
            parameters,
            "OUTPUT_SCORES",
            context,
            [
                ("model", str),
                ("excluded", str),
                ("drivers", int),
                ("mtry", int),
                ("oob_r2", float),
                ("oob_rmse", float),
            ],
            [
                (label, excluded or "", len(f.columns), f.mtry, f.oob_r2, f.oob_rmse)
                for label, excluded, f in models
            ],
        )
        pixel_area = grid.pixel_area()
        classified = int(sum(stats["counts"].values()))
        area_rows = []
        for item, styled in zip(classes, legend(classes, categories, colours), strict=True):
            count = int(stats["counts"].get(item.code, 0))
            area_rows.append(
                (
                    item.code,
                    item.letters,
                    styled.label.split(": ", 1)[1],
                    count,
                    count * pixel_area,
                    100.0 * count / classified if classified else None,
                )
            )
        area_rows.append(
            (0, "-", "undetermined (every ActCon is 0)", stats["undetermined"], None, None)
        )
        results["OUTPUT_AREAS"] = self.write_table(
            parameters,
            "OUTPUT_AREAS",
            context,
            [
                ("code", int),
                ("class", str),
                ("description", str),
                ("pixels", int),
                ("area", float),
                ("percent", float),
            ],
            area_rows,
        )
        for _, letter, _, count, _, percent in area_rows[:-1]:
            if count:
                feedback.pushInfo(f"Dominant {letter}: {count} pixels ({percent:.2f} %)")
        if chart:
            write_importance_chart(chart, names, driver_categories, percents, categories, colours)
            results["OUTPUT_CHART"] = chart
        points = self.write_samples(parameters, context, sample, ["target", *names])
        if points is not None:
            results["OUTPUT_SAMPLES"] = points
        results.update(
            OOB_R2=float(experiments.all_drivers.oob_r2),
            OOB_RMSE=float(experiments.all_drivers.oob_rmse),
            SAMPLE_SIZE=len(sample),
            CATEGORY_IMPORTANCE=summary,
        )
        return results

    @staticmethod
    def check_drivers(x, names, driver_categories, categories, feedback) -> None:
        """Refuse drivers that are constant at the sample points; warn about near-constant ones.

        A forest never splits on a constant driver, so RF_all and the forest without its
        category differ only by the other drivers' random draws: that difference, normalised
        by Eq. 7, gave a constant driver's category up to 87 % relative contribution in places
        (46 % on the tests' scene)."""
        constant = drivers.constant_drivers(x)
        if constant:
            described = "; ".join(
                f"{names[j]} ({categories[driver_categories[j]]}): "
                + (
                    f"{float(np.nanmin(x[:, j])):.6g} at every point"
                    if np.isfinite(x[:, j]).any()
                    else "no valid value"
                )
                for j in constant
            )
            raise QgsProcessingException(
                f"DRIVERS: {len(constant)} driver(s) constant at the {len(x)} sample points — "
                f"{described}. A forest cannot learn from a constant driver, and its category's "
                "relative contribution would be the noise between two forests, not its "
                "influence. Remove it from DRIVERS and CATEGORIES (or check its extent and "
                "NoData)."
            )
        for j in range(x.shape[1]):
            flagged, ratio, unique = drivers.near_zero_variance(x[:, j])
            if flagged:
                feedback.pushWarning(
                    f"DRIVERS: {names[j]} is nearly constant at the sample points (its most "
                    f"common value is {ratio:.3g}× as frequent as the next, {unique:.2g} % of "
                    "the values distinct): its importance and its category's contribution rest "
                    "on few points."
                )

    @staticmethod
    def check_scores(experiments, categories, min_r2, feedback) -> str:
        """Say loudly when the forests explain too little for the maps to mean anything, and
        when dropping a category does not lower the fit. Returns the RELIABILITY tag of the
        raster outputs."""
        r2 = experiments.all_drivers.oob_r2
        notes = []
        if not (r2 >= min_r2):
            feedback.reportError(
                f"OOB R² of RF_all is {r2:.4f}, below MIN_OOB_R2 = {min_r2:g}: the drivers "
                "explain almost none of the TARGET's variation at the sample points. The "
                "relative-contribution, RGB and dominant-driver maps are NOT meaningful (they "
                "show differences between forests that predict little more than the mean); "
                "they are written only so that the run can be inspected.",
                False,
            )
            notes.append(f"OOB R2 {r2:.4f} below MIN_OOB_R2 {min_r2:g}: maps not meaningful")
        for category, forest in zip(categories, experiments.without, strict=True):
            if forest.oob_r2 >= r2:
                feedback.pushWarning(
                    f"Removing {category} does not lower the OOB R² ({forest.oob_r2:.4f} "
                    f"without it, {r2:.4f} with all drivers): the forests do not need "
                    f"{category}, and its relative contribution reflects their random "
                    "differences more than its influence."
                )
                notes.append(f"removing {category} does not lower the OOB R2")
        return "; ".join(notes) or "ok"

    @staticmethod
    def category_colours(categories, channels):
        """Legend colours: the RGB channels' categories in red, green, blue; others after."""
        given = {c: styles.CATEGORY_COLOURS[band] for band, c in enumerate(channels) if c >= 0}
        colours = styles.category_colours(range(len(categories)), given)
        return [colours[c] for c in range(len(categories))]

    def predict_pixels(
        self,
        parameters,
        context,
        sources,
        grid,
        experiments,
        threshold,
        channels,
        styled_classes,
        settings,
        monitor: Monitor,
        metadata,
    ) -> dict:
        """The prediction pass: every model on every valid pixel, block by block."""
        categories = experiments.categories
        n_categories = len(categories)
        targets = {
            "OUTPUT_RELATIVE": self.raster_target(
                parameters,
                "OUTPUT_RELATIVE",
                context,
                bands=n_categories,
                band_names=[f"RelCon {c} (%)" for c in categories],
                metadata=metadata,
            ),
            "OUTPUT_RGB": self.raster_target(
                parameters,
                "OUTPUT_RGB",
                context,
                bands=4,
                dtype="uint8",
                band_names=[
                    f"{colour}: {categories[c]}" if c >= 0 else f"{colour}: -"
                    for colour, c in zip(("red", "green", "blue"), channels, strict=True)
                ]
                + ["alpha"],
                metadata=metadata,
            ),
            "OUTPUT_DOMINANT": self.class_target(
                parameters, "OUTPUT_DOMINANT", context, styled_classes, metadata
            ),
            "OUTPUT_ACTUAL": self.raster_target(
                parameters,
                "OUTPUT_ACTUAL",
                context,
                bands=n_categories,
                band_names=[f"ActCon {c}" for c in categories],
                metadata=metadata,
            ),
        }
        counts = np.zeros(256, dtype=np.int64)
        sums = np.zeros(n_categories)
        squares = np.zeros(n_categories)
        state = {"defined": 0, "undetermined": 0}
        check = monitor.check

        def kernel(target_block, *driver_blocks):
            stack = np.concatenate(driver_blocks)
            shape = stack.shape[1:]
            valid = np.isfinite(target_block[0]) & np.all(np.isfinite(stack), axis=0)
            relative = np.full((n_categories, *shape), np.nan, dtype=np.float32)
            actual = np.full((n_categories, *shape), np.nan, dtype=np.float32)
            if valid.any():
                x = np.ascontiguousarray(stack[:, valid].T)
                predicted_all = experiments.all_drivers.predict(x, settings.threads)
                without = []
                for forest in experiments.without:
                    check()
                    without.append(forest.predict(x, settings.threads))
                act, rel = drivers.relative_contributions(predicted_all, np.stack(without))
                actual[:, valid] = act
                relative[:, valid] = rel
                defined = np.all(np.isfinite(rel), axis=0)
                state["undetermined"] += int((~defined).sum())
                state["defined"] += int(defined.sum())
                sums[:] += rel[:, defined].sum(axis=1)
                squares[:] += np.square(rel[:, defined]).sum(axis=1)
            dominant = drivers.dominant_driver(relative, threshold)
            counts[:] += np.bincount(dominant.ravel(), minlength=256)
            rgb = drivers.rgb_composite(relative, channels)
            return relative, rgb, dominant, actual

        names = list(targets)
        self.run_blocks(
            kernel,
            sources,
            [targets[n] for n in names],
            grid=grid,
            monitor=monitor,
            work_factor=4 + len(sources),
        )
        if targets["OUTPUT_RGB"] is not None:
            mark_rgba(targets["OUTPUT_RGB"].path)
        n = state["defined"]
        mean = sums / n if n else np.full(n_categories, np.nan)
        variance = squares / n - mean**2 if n else np.full(n_categories, np.nan)
        return {
            "rasters": self.outputs(targets),
            "counts": {code: int(counts[code]) for code in range(1, 256) if counts[code]},
            "undetermined": state["undetermined"],
            "relcon_mean": [float(v) for v in mean],
            "relcon_sd": [float(math.sqrt(max(v, 0.0))) for v in variance],
        }


def _nan(value) -> bool:
    return isinstance(value, float) and not math.isfinite(value)

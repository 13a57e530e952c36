"""Ordinary or universal kriging of point samples onto a reference grid (the NPP-drivers study's
soil maps)."""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsWkbTypes,
)

from .. import engine
from ..core import kriging as K
from .base import MineEcoAlgorithm, is_null
from .drivers import refuse_non_points

VARIOGRAM_CHOICES = ("auto (best leave-one-out RMSE)", *K.MODELS)
#: METHOD, in the order of K.DRIFTS.
METHOD_CHOICES = (
    "ordinary kriging (unknown constant mean)",
    "universal kriging with a linear drift a + b·x + c·y (Webster & Burgess 1980)",
)
RANGE_MEANINGS = (
    "practical range (distance of 95 % of the partial sill)",
    "range parameter a (gstat's 'range')",
)
WEIGHT_CHOICES = (
    "N_h/h² (gstat default, fit.method 7)",
    "N_h/γ(h)² (Cressie 1985, gstat fit.method 2)",
    "N_h (fit.method 1)",
    "unweighted (fit.method 6)",
)
NUMERIC_OUTPUTS = {
    "NUGGET": "Nugget c0",
    "PARTIAL_SILL": "Partial sill c",
    "SILL": "Sill c0 + c",
    "RANGE": "Practical range",
    "RANGE_PARAMETER": "Range parameter a",
    "SLOPE": "Slope (linear model)",
    "CV_ME": "Leave-one-out mean error",
    "CV_RMSE": "Leave-one-out RMSE",
    "CV_R": "Leave-one-out correlation r",
    "CV_MSDR": "Leave-one-out mean squared deviation ratio",
    "POINTS_USED": "Points used",
    "POINTS_OUTSIDE": "Points outside the grid",
    "DUPLICATES_MERGED": "Points merged as duplicates",
}


class Kriging(MineEcoAlgorithm):
    algorithm_id = "kriging"
    display_name = "Kriging (ordinary or universal)"
    group_key = "productivity"
    summary = (
        "Interpolates a numeric field of point samples (e.g. soil organic carbon, total "
        "nitrogen) onto the grid of a reference raster by kriging, as the NPP-drivers study "
        "does for its 117 soil samples: ordinary kriging (an unknown constant mean, the "
        "default) or universal kriging with a linear drift in the coordinates (METHOD). The "
        "study cites Webster & Burgess (1980) for its kriging, a paper on universal kriging "
        "with a drift, without reporting the drift or the variogram it used; ordinary kriging "
        "stays the default so that existing results do not change and because a drift fitted "
        "in each neighbourhood is extrapolated beyond the samples (see METHOD): compare both "
        "with the leave-one-out RMSE. The variogram is fitted by weighted least squares to "
        "the binned semivariances (of the values, or for universal kriging of their residuals "
        "from the least-squares plane, as gstat does), with the model chosen by the user or the "
        "one with the lowest leave-one-out RMSE, or fixed by the user. Writes the prediction "
        "and the kriging "
        "variance, the leave-one-out cross-validation (ME, RMSE, r) per candidate model, the "
        "fitted parameters as outputs and a variogram plot. Points are reprojected to the "
        "grid's CRS; points at the same location, or closer than MERGE_DISTANCE, are "
        "averaged; points outside the grid are used and reported. Each estimate uses the "
        "NEIGHBOURS nearest points (default 64), so memory stays bounded."
    )
    formula = (
        "γ̂(h_k) = Σ (z_i − z_j)² / (2 N_k) over the N_k pairs in lag bin k (width CUTOFF/LAGS; "
        "CUTOFF default one third of the points' bounding-box diagonal, as gstat); h_k = mean "
        "pair distance\n"
        "Models (γ(0) = 0): spherical c0 + c(1.5h/a − 0.5h³/a³) for h ≤ a, c0 + c beyond; "
        "exponential c0 + c(1 − e^(−h/a)); gaussian c0 + c(1 − e^(−h²/a²)); linear c0 + s·h. "
        "The gaussian model's nugget is at least 10⁻⁴ of its sill (a smaller one, fitted or "
        "given, is raised and the log says so): without it the kriging system of smooth data "
        "is numerically singular and the estimates leave the data's range by orders of "
        "magnitude.\n"
        "Range convention: a is the model parameter (gstat's range); the practical range is a "
        "(spherical), 3a (exponential) and √3·a (gaussian), where 95 % of c is reached. RANGE "
        "is read as the practical range unless RANGE_MEANING says otherwise.\n"
        "Fit: minimise Σ w_k (γ̂_k − γ(h_k))², w_k = N_k/h_k² (default, gstat fit.method 7) or "
        "N_k/γ(h_k)² (Cressie 1985) or N_k or 1; sills by non-negative least squares for each "
        "a, a by a log-spaced search refined with Brent's method\n"
        "Ordinary kriging: [Γ 1; 1ᵀ 0]·[λ; μ] = [γ0; 1]; ẑ = Σ λ_i z_i; σ² = Σ λ_i γ0_i + μ "
        "(with the NEIGHBOURS nearest points, or all).\n"
        "Universal kriging (Webster & Burgess 1980): mean a + b·x + c·y with unknown a, b, c; "
        "F = [1 x_i y_i] at the neighbours, f0 = [1 x0 y0] at the estimate; "
        "[Γ F; Fᵀ 0]·[λ; μ] = [γ0; f0]; ẑ = Σ λ_i z_i; σ² = Σ λ_i γ0_i + μ₁ + μ₂x0 + μ₃y0 "
        "(the variance includes the uncertainty of the drift). The weights reproduce any plane "
        "exactly; the drift is estimated anew within each neighbourhood of NEIGHBOURS points "
        "(gstat's local universal kriging), and x, y enter F centred on the neighbours' mean "
        "and scaled to [−1, 1] (the same estimates, a well-conditioned system). Its variogram "
        "(fitted, or the parameters given) is that of the residuals r = z − (â + b̂x + ĉy) of "
        "the ordinary least-squares plane through all points, as gstat's variogram(z ~ x + y) "
        "followed by krige(z ~ x + y, …) with the fitted model: the usual practical choice. "
        "These residuals are slightly less variable than the true ones (a small downward bias "
        "of the sill at the largest lags; REML avoids it, Lark et al. 2006).\n"
        "Estimates farther outside the data's range than the data's span are reported as an "
        "error in the log (the map is kept).\n"
        "Leave-one-out: each point predicted from the others; ME = mean(z − ẑ), RMSE, Pearson "
        "r(z, ẑ), MSDR = mean((z − ẑ)²/σ²)"
    )
    nodata_rule = (
        "Cells where the REFERENCE raster (band 1) is NoData stay NoData when MASK_BY_REFERENCE "
        "is checked (the reference doubles as the study-area mask); otherwise every cell is "
        "estimated. Features with an empty geometry or a NULL/non-numeric value are skipped "
        "(counted in the log)."
    )
    references = (
        "Webster, R. & Oliver, M.A. (2007) Geostatistics for Environmental Scientists, 2nd ed. "
        "Wiley (ordinary kriging, models, practical range).",
        "Cressie, N. (1985) Fitting variogram models by weighted least squares. Math. Geol. "
        "17(5), 563–586.",
        "Pebesma, E.J. (2004) Multivariable geostatistics in S: the gstat package. Comput. "
        "Geosci. 30, 683–691 (binning and fit defaults followed here).",
        "Dubrule, O. (1983) Cross validation of kriging in a unique neighborhood. Math. Geol. "
        "15(6), 687–699.",
        "Webster, R. & Burgess, T.M. (1980) Optimal interpolation and isarithmic mapping of "
        "soil properties III: changing drift and universal kriging. J. Soil Sci. 31, 505–524 "
        "(cited by the NPP-drivers study for its soil kriging; universal kriging with a drift: "
        "'Kriging method' universal).",
        "Lark, R.M., Cullis, B.R. & Welham, S.J. (2006) On spatial prediction of soil "
        "properties in the presence of a spatial trend: the empirical best linear unbiased "
        "predictor (E-BLUP) with REML. Eur. J. Soil Sci. 57, 787–799 (the bias of a variogram "
        "of least-squares residuals).",
        "Wackernagel, H. (2003) Multivariate Geostatistics, 3rd ed. Springer (the gaussian "
        "model's instability without a nugget).",
    )

    def initAlgorithm(self, config=None):
        self.add(
            QgsProcessingParameterFeatureSource(
                "INPUT", self.tr("Sample points"), [QgsProcessing.SourceType.TypeVectorPoint]
            ),
            "Point layer (multi-points are split); reprojected to the REFERENCE grid's CRS. A "
            "line or polygon layer is refused (use 'Centroids' first if each feature is one "
            "sample).",
        )
        self.add(
            QgsProcessingParameterField(
                "FIELD",
                self.tr("Value field"),
                parentLayerParameterName="INPUT",
                type=QgsProcessingParameterField.DataType.Numeric,
            ),
            "Numeric field to interpolate (transform it first if it is skewed, e.g. log).",
        )
        self.add_raster(
            "REFERENCE",
            "Reference grid",
            "Raster whose extent, cell size and CRS the outputs take (its values are not used, "
            "except as a mask).",
        )
        self.add_enum(
            "METHOD",
            "Kriging method",
            METHOD_CHOICES,
            0,
            "Ordinary kriging (default, unchanged) assumes an unknown constant mean within each "
            "neighbourhood. Universal kriging adds a linear drift a + b·x + c·y estimated with "
            "the weights (Lagrange multipliers for 1, x and y), as in Webster & Burgess (1980), "
            "the paper the NPP-drivers study cites; the variogram is then fitted to (or the "
            "given parameters are those of) the residuals from the least-squares plane. Prefer "
            "it when the values trend across the area (the empirical variogram of the values "
            "keeps rising, with no sill, within the cutoff) and its leave-one-out RMSE is lower. "
            "It needs at least 4 points per estimate, not all on one line. Among the samples "
            "the two usually differ little (Meuse log(zinc), all points: leave-one-out RMSE "
            "0.390 universal, 0.392 ordinary); beyond them universal kriging extends each "
            "neighbourhood's plane: on the Meuse data with 16 neighbours a point outside the "
            "samples' hull, 938 m from the nearest, gets 13.9 for log(zinc) between 4.7 and "
            "7.5 (ordinary kriging 6.6; gstat gives the same), which is why it is not the "
            "default.",
        )
        self.add_enum(
            "VARIOGRAM",
            "Variogram model",
            VARIOGRAM_CHOICES,
            0,
            "auto fits all four models and keeps the one with the lowest leave-one-out RMSE.",
        )
        for name, description, help_text in (
            ("NUGGET", "Nugget c0 (blank: fitted)", "Semivariance discontinuity at the origin."),
            ("SILL", "Sill c0 + c (blank: fitted)", "Total sill (nugget + partial sill)."),
            ("RANGE", "Range (blank: fitted)", "In CRS units; see RANGE_MEANING."),
            ("SLOPE", "Slope of the linear model (blank: fitted)", "Semivariance per CRS unit."),
        ):
            self.add_number(name, description, None, help_text + " Given values are held "
                            "fixed; when all of a model's parameters are given nothing is "
                            "fitted.", optional=True, minimum=0.0)  # fmt: skip
        self.add_enum(
            "RANGE_MEANING",
            "Meaning of the range (input and output)",
            RANGE_MEANINGS,
            0,
            "The practical range is the same for every model; gstat and most papers print a. "
            "Both are returned (RANGE, RANGE_PARAMETER).",
        )
        self.add_enum(
            "FIT_WEIGHTS",
            "Weights of the variogram fit",
            WEIGHT_CHOICES,
            0,
            "N_h/h² is gstat's default (fit.method 7); Cressie's N_h/γ(h)² minimises "
            "Σ N_h(γ̂/γ − 1)² directly.",
            advanced=True,
        )
        self.add_number(
            "LAGS", "Number of lag bins", 15, "gstat's default: 15.", minimum=2, integer=True,
            advanced=True,
        )  # fmt: skip
        self.add_number(
            "CUTOFF",
            "Largest lag distance (blank: ⅓ of the diagonal)",
            None,
            "Pairs farther apart are ignored by the variogram (gstat: one third of the "
            "bounding-box diagonal).",
            optional=True,
            minimum=0.0,
            advanced=True,
        )
        self.add_number(
            "NEIGHBOURS",
            "Nearest points per estimate (0: all)",
            K.DEFAULT_NEIGHBOURS,
            f"Each estimate and each leave-one-out prediction uses the n nearest points (a "
            f"KD-tree search), so memory and time stay bounded whatever the number of samples. "
            f"Default {K.DEFAULT_NEIGHBOURS}: data sets of at most {K.DEFAULT_NEIGHBOURS} "
            "points are kriged with every point, as gstat's default. 0 uses every point (a "
            "unique neighbourhood): its system takes about 56·(points + 1)² bytes (1 GB at "
            "4,300 points; points + 3 for universal kriging), and a run whose system exceeds "
            "the memory budget (provider setting or MINE_ECO_MEMORY_MB) is refused.",
            minimum=0,
            integer=True,
        )
        self.add_number(
            "MERGE_DISTANCE",
            "Merge points closer than (blank: a tenth of a cell)",
            None,
            "Points closer than this distance (CRS units) to another are merged into one at "
            "their centroid with their mean value (chains of close points merge as one group). "
            "Near-duplicate points make the kriging system nearly singular: with the gaussian "
            "model and no nugget the estimates then run far outside the data. Blank: one tenth "
            "of the REFERENCE cell size (the smaller side); 0: only points at the same location "
            "are merged.",
            optional=True,
            minimum=0.0,
            advanced=True,
        )
        self.add_number(
            "MIN_POINTS",
            "Minimum number of points",
            10,
            "Fewer valid points (after merging duplicates) is an error. Webster & Oliver (2007) "
            "advise 100–150 for a reliable variogram; fewer than 50 gives a warning.",
            minimum=2,
            integer=True,
        )
        self.add_mask_by_reference("Unchecked: every cell of the grid is estimated.")
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "Kriged estimate", "Float32, in the field's units.")
        self.add_output_raster(
            "OUTPUT_VARIANCE",
            "Kriging variance",
            "Kriging prediction variance (field units²); for universal kriging it includes "
            "the uncertainty of the drift.",
            optional=True,
        )
        self.add_output_table(
            "OUTPUT_CV",
            "Cross-validation per model",
            "One row per candidate model: parameters, ME, RMSE, r, MSDR, and which was used.",
            side=True,
        )
        self.add_output_table(
            "OUTPUT_CV_POINTS",
            "Cross-validation per point",
            "x, y, observed, predicted, residual, variance, z-score of the model used.",
            optional=True,
        )
        self.add(
            QgsProcessingParameterFileDestination(
                "OUTPUT_PLOT",
                self.tr("Variogram plot"),
                self.tr("PNG files (*.png);;HTML files (*.html)"),
                optional=True,
                createByDefault=False,
            ),
            "Empirical semivariances (point size ∝ pairs) with the fitted models; .html adds "
            "the parameter and cross-validation table.",
        )
        for name, description in NUMERIC_OUTPUTS.items():
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(description)))
        self.addOutput(QgsProcessingOutputString("MODEL", self.tr("Variogram model used")))

    # --- inputs ----------------------------------------------------------------------------
    def read_points(self, parameters, context, grid, feedback):
        source = self.parameterAsSource(parameters, "INPUT", context)
        if source is None:
            raise QgsProcessingException("INPUT: no point layer given or it cannot be loaded")
        refuse_non_points("INPUT", "kriging needs a point layer", source.wkbType())
        field = self.parameterAsString(parameters, "FIELD", context)
        index = source.fields().lookupField(field)
        if index < 0:
            raise QgsProcessingException(f"FIELD: '{field}' is not a field of INPUT")
        crs = QgsCoordinateReferenceSystem.fromWkt(grid.crs_wkt)
        transform = QgsCoordinateTransform(source.sourceCrs(), crs, context.transformContext())
        request = QgsFeatureRequest().setSubsetOfAttributes([index])
        xy, z, skipped, not_numbers = [], [], 0, 0
        for feature in source.getFeatures(request):
            value = feature.attribute(index)
            geometry = feature.geometry()
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
                not_numbers += 1
            if is_null(value) or not math.isfinite(number) or geometry.isEmpty():
                skipped += 1
                continue
            refuse_non_points("INPUT", "kriging needs points", geometry.wkbType())
            try:
                geometry.transform(transform)
            except Exception as error:  # QgsCsException
                raise QgsProcessingException(
                    f"INPUT: feature {feature.id()} cannot be reprojected to the REFERENCE "
                    f"CRS ({error})"
                ) from None
            if QgsWkbTypes.isMultiType(geometry.wkbType()):
                parts = geometry.asMultiPoint()
            else:
                parts = [geometry.asPoint()]
            for point in parts:
                xy.append((point.x(), point.y()))
                z.append(number)
        if not z and not_numbers:
            raise QgsProcessingException(
                f"FIELD: '{field}' holds no numbers ({not_numbers} feature(s) with text); "
                "choose a numeric field"
            )
        if skipped:
            feedback.pushWarning(
                f"{skipped} feature(s) skipped: empty geometry or NULL/non-numeric '{field}'"
            )
        if crs.isGeographic():
            feedback.pushWarning(
                "The REFERENCE grid is in a geographic CRS: distances, ranges and slopes are in "
                "degrees. Use a projected CRS for kriging where possible."
            )
        return np.array(xy, dtype=np.float64).reshape(-1, 2), np.array(z, dtype=np.float64)

    def fixed_parameters(self, parameters, context):
        values = {}
        for name in ("NUGGET", "SILL", "RANGE", "SLOPE"):
            if self.given(parameters, name):
                values[name] = self.parameterAsDouble(parameters, name, context)
        if "SILL" in values and "NUGGET" in values and values["SILL"] < values["NUGGET"]:
            raise QgsProcessingException(
                f"SILL ({values['SILL']}) is the total sill and cannot be below NUGGET "
                f"({values['NUGGET']})"
            )
        if "RANGE" in values and values["RANGE"] <= 0:
            raise QgsProcessingException("RANGE must be positive")
        return values

    # --- the run ----------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        reference = self.raster_source(parameters, "REFERENCE", context, bands=(1,))
        grid = engine.resolve_grid([reference])
        xy, z = self.read_points(parameters, context, grid, feedback)
        xy, z, merged = K.average_duplicates(xy, z)
        if merged:
            feedback.pushWarning(
                f"{merged} point(s) shared a location with another: their values were averaged "
                f"({len(z)} distinct locations remain)"
            )
        distance = self.optional_double(parameters, "MERGE_DISTANCE", context)
        if distance is None:
            distance = 0.1 * min(abs(grid.geotransform[1]), abs(grid.geotransform[5]))
        xy, z, close, groups = K.merge_close_points(xy, z, distance)
        if close:
            feedback.pushWarning(
                f"MERGE_DISTANCE: {close + groups} point(s) lay within {distance:.6g} CRS units "
                f"of another: merged into {groups} point(s) at their centroids with their mean "
                f"values ({len(z)} points remain)"
            )
        merged += close
        minimum = self.parameterAsInt(parameters, "MIN_POINTS", context)
        if len(z) < minimum:
            raise QgsProcessingException(
                f"INPUT: {len(z)} valid point(s) at distinct locations; at least MIN_POINTS = "
                f"{minimum} are needed"
            )
        if np.ptp(z) == 0:
            raise QgsProcessingException("FIELD: every point has the same value; nothing to krige")
        xmin, ymin, xmax, ymax = grid.bounds
        outside = int(
            np.sum((xy[:, 0] < xmin) | (xy[:, 0] > xmax) | (xy[:, 1] < ymin) | (xy[:, 1] > ymax))
        )
        if outside:
            feedback.pushWarning(
                f"{outside} point(s) lie outside the REFERENCE grid: they are used for the "
                "variogram and the estimates"
            )
        if len(z) < 50:
            feedback.pushWarning(
                f"Only {len(z)} points: a variogram from fewer than 50 is unreliable (Webster & "
                "Oliver 2007 advise 100–150)."
            )
        drift = K.DRIFTS[self.parameterAsEnum(parameters, "METHOD", context)]
        universal = drift != "constant"
        if universal and len(z) < 5:
            raise QgsProcessingException(
                f"METHOD: universal kriging with a linear drift needs at least 5 points at "
                f"distinct locations (4 for each leave-one-out prediction); INPUT has {len(z)}"
            )
        neighbours = self.parameterAsInt(parameters, "NEIGHBOURS", context) or None
        if universal and neighbours is not None and neighbours < 4:
            raise QgsProcessingException(
                f"NEIGHBOURS: universal kriging (METHOD) estimates the 3 coefficients of its "
                f"linear drift in each neighbourhood and needs at least 4 points per estimate "
                f"(NEIGHBOURS = {neighbours}); use 0 for all points or the default "
                f"{K.DEFAULT_NEIGHBOURS}"
            )
        if neighbours is not None and neighbours >= len(z):
            neighbours = None
        if neighbours is None and K.unique_system_mb(len(z), drift) > self.memory_mb():
            raise QgsProcessingException(
                f"NEIGHBOURS: kriging with all {len(z)} points needs about "
                f"{K.unique_system_mb(len(z), drift):,.4g} MB for its system, more than the memory "
                f"budget of {self.memory_mb():,.4g} MB; use a neighbourhood (e.g. NEIGHBOURS "
                f"= {K.DEFAULT_NEIGHBOURS}) or raise the budget (provider setting or "
                "MINE_ECO_MEMORY_MB)"
            )
        feedback.pushInfo(
            f"{len(z)} points; "
            + ("universal kriging with a linear drift" if universal else "ordinary kriging")
            + "; each estimate uses "
            + ("every point" if neighbours is None else f"the {neighbours} nearest points")
        )
        monitor = self.monitor(feedback)

        chosen, candidates, empirical = self.variogram(parameters, context, xy, z, neighbours,
                                                       feedback, monitor.span(0, 0.15),
                                                       drift)  # fmt: skip
        variogram, cv = chosen
        feedback.pushInfo(
            f"Variogram used: {variogram.describe()}; leave-one-out ME {cv.mean_error:.6g}, "
            f"RMSE {cv.rmse:.6g}, r {cv.correlation:.4f}, MSDR {cv.msdr:.4g}"
        )
        metadata = {
            "METHOD": "universal (linear drift)" if universal else "ordinary",
            "VARIOGRAM": variogram.describe(),
            "NEIGHBOURS": neighbours or "all",
            "POINTS": len(z),
            "CV_RMSE": f"{cv.rmse:.6g}",
            "CV_ME": f"{cv.mean_error:.6g}",
            "CV_R": f"{cv.correlation:.6g}",
            "FIELD": self.parameterAsString(parameters, "FIELD", context),
        }
        estimate_target = self.raster_target(parameters, "OUTPUT", context, metadata=metadata)
        variance_target = self.raster_target(
            parameters, "OUTPUT_VARIANCE", context, metadata=metadata
        )
        mask = self.parameterAsBool(parameters, "MASK_BY_REFERENCE", context)
        from scipy.spatial import cKDTree

        tree = cKDTree(xy) if neighbours else None
        budget = max(self.memory_mb() / 4, 8.0)
        raster_monitor = monitor.span(0.15, 1.0)
        extremes = [math.inf, -math.inf]

        def kernel(window, block):
            rows, cols = block.shape[1:]
            x, y = grid.pixel_centres(window)
            targets = np.column_stack(
                [np.tile(x, rows), np.repeat(y, cols)]
            )  # row-major pixel centres
            valid = ~np.isnan(block[0]).ravel() if mask else np.ones(rows * cols, bool)
            estimate = np.full(rows * cols, np.nan, np.float32)
            variance = np.full(rows * cols, np.nan, np.float32) if variance_target else None
            if valid.any():
                try:
                    e, v = K.predict(xy, z, variogram, targets[valid], neighbours=neighbours,
                                     tree=tree, variance=variance_target is not None,
                                     memory_mb=budget, check=raster_monitor.check,
                                     drift=drift)  # fmt: skip
                except ValueError as error:
                    raise QgsProcessingException(neighbourhood_error(error)) from None
                estimate[valid] = e
                extremes[0] = min(extremes[0], float(e.min()))
                extremes[1] = max(extremes[1], float(e.max()))
                if variance is not None:
                    variance[valid] = np.maximum(v, 0.0)
            return (
                estimate.reshape(rows, cols),
                None if variance is None else variance.reshape(rows, cols),
            )

        self.run_blocks(
            kernel,
            [reference],
            [estimate_target, variance_target],
            grid=grid,
            monitor=raster_monitor,
            work_factor=16,
            with_window=True,
        )

        self.check_estimates(extremes, z, variogram, feedback, universal)
        results = self.outputs({"OUTPUT": estimate_target, "OUTPUT_VARIANCE": variance_target})
        practical = self.parameterAsEnum(parameters, "RANGE_MEANING", context) == 0
        results.update(
            {
                "MODEL": variogram.model,
                "NUGGET": variogram.nugget,
                "PARTIAL_SILL": variogram.partial_sill,
                "SILL": variogram.sill,
                "RANGE": variogram.practical_range if practical else variogram.range,
                "RANGE_PARAMETER": variogram.range,
                "SLOPE": variogram.slope,
                "CV_ME": cv.mean_error,
                "CV_RMSE": cv.rmse,
                "CV_R": cv.correlation,
                "CV_MSDR": cv.msdr,
                "POINTS_USED": len(z),
                "POINTS_OUTSIDE": outside,
                "DUPLICATES_MERGED": merged,
            }
        )
        results["OUTPUT_CV"] = self.write_table(
            parameters,
            "OUTPUT_CV",
            context,
            CV_COLUMNS,
            [cv_row(v, c, v is variogram, len(z)) for v, c in candidates],
        )
        if parameters.get("OUTPUT_CV_POINTS"):
            with np.errstate(divide="ignore", invalid="ignore"):
                zscore = cv.residual / np.sqrt(cv.variance)
            rows = zip(xy[:, 0], xy[:, 1], cv.observed, cv.predicted, cv.residual, cv.variance,
                       zscore, strict=True)  # fmt: skip
            results["OUTPUT_CV_POINTS"] = self.write_table(
                parameters,
                "OUTPUT_CV_POINTS",
                context,
                [
                    (name, float)
                    for name in (
                        "x",
                        "y",
                        "observed",
                        "predicted",
                        "residual",
                        "variance",
                        "zscore",
                    )
                ],  # fmt: skip
                [[None if not math.isfinite(v) else v for v in row] for row in rows],
            )
        plot = self.destination(parameters, "OUTPUT_PLOT", context)
        if plot:
            field = metadata["FIELD"]
            if universal:
                field = f"the residuals of {field} from a linear drift"
            write_variogram_plot(plot, empirical, candidates, variogram, field)
            results["OUTPUT_PLOT"] = plot
        return results

    @staticmethod
    def check_estimates(extremes, z, variogram, feedback, universal=False) -> None:
        """Warn when the estimates leave the data's range by more than the data's span: ordinary
        kriging weights sum to 1 and may be negative, so a little overshoot is normal, but this
        much means a nearly singular system (or, for universal kriging, a drift extended far
        beyond the samples)."""
        low, high = extremes
        span = float(np.ptp(z))
        if (low < z.min() - span or high > z.max() + span) and universal:
            feedback.reportError(
                f"OUTPUT: the estimates range from {low:.6g} to {high:.6g} for data between "
                f"{z.min():.6g} and {z.max():.6g}: universal kriging extends the linear drift of "
                "each neighbourhood beyond the samples (or its system is nearly singular). The "
                "map is not trustworthy there: use ordinary kriging (METHOD), more NEIGHBOURS, "
                "or a REFERENCE masked to the sampled area.",
                False,
            )
        elif low < z.min() - span or high > z.max() + span:
            nugget = "" if variogram.nugget > 0 else " without a nugget"
            feedback.reportError(
                f"OUTPUT: the estimates range from {low:.6g} to {high:.6g} for data between "
                f"{z.min():.6g} and {z.max():.6g}: the kriging system is nearly singular "
                f"({variogram.model} model{nugget}). The map is not trustworthy: give a NUGGET, "
                "choose another VARIOGRAM or raise MERGE_DISTANCE.",
                False,
            )

    def variogram(self, parameters, context, xy, z, neighbours, feedback, monitor,
                  drift="constant"):  # fmt: skip
        """((variogram, cross-validation) used, [(variogram, cv)] candidates, empirical). For a
        linear drift the empirical variogram is that of the least-squares residuals."""
        choice = self.parameterAsEnum(parameters, "VARIOGRAM", context)
        models = list(K.MODELS) if choice == 0 else [K.MODELS[choice - 1]]
        fixed = self.fixed_parameters(parameters, context)
        practical = self.parameterAsEnum(parameters, "RANGE_MEANING", context) == 0
        weights = K.WEIGHTS[self.parameterAsEnum(parameters, "FIT_WEIGHTS", context)]
        cutoff = self.optional_double(parameters, "CUTOFF", context)
        lags = self.parameterAsInt(parameters, "LAGS", context)
        values, of = z, ""
        if drift != "constant":
            try:
                values, (a, b, c) = K.drift_residuals(xy, z, drift)
            except ValueError as error:
                raise QgsProcessingException(
                    f"METHOD: {error}; use ordinary kriging for samples along a line"
                ) from None
            r2 = 1.0 - float(np.sum(values**2) / np.sum((z - z.mean()) ** 2))
            feedback.pushInfo(
                f"Linear drift by least squares over all points: z ≈ {a:.6g} + {b:.6g}·x + "
                f"{c:.6g}·y (R² {r2:.4f}); the variogram is that of the residuals, the kriging "
                "estimates the drift anew in each neighbourhood"
            )
            of = " of the residuals"
        empirical = K.empirical_variogram(
            xy, values, cutoff=cutoff, lags=lags, memory_mb=max(self.memory_mb() / 4, 8.0)
        )
        feedback.pushInfo(
            f"Empirical variogram{of} ({len(empirical.gamma)} lags, cutoff "
            f"{empirical.cutoff:.6g}): "
            + ", ".join(
                f"{h:.4g}: {g:.4g} ({n})"
                for h, g, n in zip(
                    empirical.distance, empirical.gamma, empirical.pairs, strict=True
                )  # fmt: skip
            )
        )
        candidates = []
        for number, model in enumerate(models):
            monitor.check()
            variogram = self.model_variogram(model, fixed, practical, empirical, weights)
            variogram, raised = K.with_nugget_floor(variogram)
            if raised:
                feedback.pushInfo(
                    f"gaussian: nugget set to {variogram.nugget:.3g} ({K.GAUSSIAN_NUGGET_FLOOR:g} "
                    "of the sill): without a nugget its kriging system is numerically singular"
                )
            try:
                cv = K.cross_validate(xy, z, variogram, neighbours=neighbours,
                                      check=monitor.check, drift=drift,
                                      memory_mb=max(self.memory_mb() / 4, 8.0))  # fmt: skip
            except ValueError as error:
                raise QgsProcessingException(neighbourhood_error(error)) from None
            feedback.pushInfo(
                f"{variogram.describe()}: LOO ME {cv.mean_error:.6g}, RMSE {cv.rmse:.6g}, "
                f"r {cv.correlation:.4f}"
            )
            candidates.append((variogram, cv))
            monitor.report((number + 1) / len(models))
        best = min(candidates, key=lambda pair: pair[1].rmse if math.isfinite(pair[1].rmse)
                   else math.inf)  # fmt: skip
        return best, candidates, empirical

    def model_variogram(self, model, fixed, practical, empirical, weights) -> K.Variogram:
        range_parameter = None
        if "RANGE" in fixed and model != "linear":
            range_parameter = fixed["RANGE"] / (K.PRACTICAL_RANGE_FACTOR[model] if practical else 1)
        nugget, sill, slope = fixed.get("NUGGET"), fixed.get("SILL"), fixed.get("SLOPE")
        try:
            if model == "linear" and nugget is not None and slope is not None:
                return K.Variogram("linear", nugget, slope=slope)
            if model != "linear" and None not in (nugget, sill, range_parameter):
                return K.Variogram(model, nugget, sill - nugget, range_parameter)
            return K.fit_variogram(
                empirical,
                model,
                weights=weights,
                nugget=nugget,
                sill=sill,
                range_parameter=range_parameter,
                slope=slope,
            )
        except ValueError as error:
            raise QgsProcessingException(f"VARIOGRAM ({model}): {error}") from None


def neighbourhood_error(error: ValueError) -> str:
    """The message of a universal-kriging neighbourhood whose points lie on one line."""
    return (
        f"NEIGHBOURS: {error} (universal kriging, METHOD); raise NEIGHBOURS (0: every point) "
        "or use ordinary kriging"
    )


CV_COLUMNS = [
    ("model", str),
    ("used", int),
    ("nugget", float),
    ("partial_sill", float),
    ("sill", float),
    ("range_parameter", float),
    ("practical_range", float),
    ("slope", float),
    ("me", float),
    ("rmse", float),
    ("r", float),
    ("msdr", float),
    ("n", int),
]


def cv_row(variogram: K.Variogram, cv: K.CrossValidation, used: bool, n: int) -> list:
    values = [
        variogram.model,
        int(used),
        variogram.nugget,
        variogram.partial_sill,
        variogram.sill,
        variogram.range,
        variogram.practical_range,
        variogram.slope,
        cv.mean_error,
        cv.rmse,
        cv.correlation,
        cv.msdr,
        n,
    ]
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]


def write_variogram_plot(path, empirical, candidates, used, field) -> None:
    """PNG (or HTML with the PNG inline and a table) of the empirical and fitted variograms.
    matplotlib is imported here only, without touching the global backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    sizes = 15 + 85 * empirical.pairs / max(empirical.pairs.max(), 1)
    axes.scatter(empirical.distance, empirical.gamma, s=sizes, color="black", zorder=3,
                 label="empirical (size ∝ pairs)")  # fmt: skip
    h = np.linspace(0, empirical.cutoff, 300)
    for variogram, cv in candidates:
        is_used = variogram is used
        axes.plot(
            h,
            np.where(h > 0, variogram(h), np.nan),
            linewidth=2.4 if is_used else 1.0,
            linestyle="-" if is_used else "--",
            label=f"{variogram.model} (LOO RMSE {cv.rmse:.4g}){' — used' if is_used else ''}",
        )
    axes.set_xlim(0, empirical.cutoff)
    axes.set_ylim(0, None)
    axes.set_xlabel("lag distance h (CRS units)")
    axes.set_ylabel("semivariance γ(h)")
    axes.set_title(f"Variogram of {field}\n{used.describe()}", fontsize=8)
    axes.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    png = buffer.getvalue()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() in (".html", ".htm"):
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in cv_row(var, cv, var
                                                                                  is used, 0)[:12])
            + "</tr>"
            for var, cv in candidates
        )  # fmt: skip
        header = "".join(f"<th>{name}</th>" for name, _ in CV_COLUMNS[:12])
        encoded = base64.b64encode(png).decode("ascii")
        target.write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Variogram of "
            f"{html.escape(field)}</title></head><body><h1>Variogram of {html.escape(field)}</h1>"
            f"<img alt='variogram' src='data:image/png;base64,{encoded}'>"
            f"<table border='1'><tr>{header}</tr>{rows}</table></body></html>",
            encoding="utf-8",
        )
    else:
        target.write_bytes(png)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)

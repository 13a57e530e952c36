"""Indicator weights: AHP (subjective, the resilience study's Eq. 15) and objective weights from the
indicator rasters (mean square error Eq. 16, entropy, CRITIC)."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterString,
)

from ..core import evaluation_weights as weighting
from .evaluation_support import MATRIX_COLUMNS, EvaluationAlgorithm, format_weights


class AhpWeights(EvaluationAlgorithm):
    algorithm_id = "ahp_weights"
    display_name = "AHP weights (pairwise comparison matrix)"
    group_key = "evaluation"
    summary = (
        "Subjective weights of criteria from a pairwise comparison matrix by the analytic "
        "hierarchy process (the resilience study's Eq. 15), with Saaty's consistency check. Type "
        "the matrix in MATRIX, one row and one column per criterion (on the command line all "
        "n² values row by row: MATRIX=1,3,0.333,1), or give a square CSV file in MATRIX_FILE. "
        "The weights come out as a table, as numbers and as the "
        "comma-separated string WEIGHTS, which the Modeler can pass to 'Composite index' "
        "(SUBJECTIVE_WEIGHTS or WEIGHTS)."
    )
    formula = (
        "Geometric mean (Eq. 15): w̄ᵢ = (Πⱼ aᵢⱼ)^(1/n), wᵢ = w̄ᵢ / Σ w̄; eigenvector (option): "
        "A·w = λmax·w.\n"
        "λmax: principal eigenvalue of A (default), or the mean of (A·w)ᵢ / wᵢ (option).\n"
        "CI = (λmax − n)/(n − 1); CR = CI/RI; CR ≤ 0.1 is acceptable (Saaty 1980).\n"
        "RI (Saaty 1980), n = 1…10: 0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49."
    )
    nodata_rule = "No rasters: the matrix must be complete (no blanks)."
    references = (
        "Saaty, T.L. (1980) The Analytic Hierarchy Process. McGraw-Hill, New York (RI table, "
        "CR ≤ 0.1 rule, eigenvector method).",
        "Crawford, G. & Williams, C. (1985) A note on the analysis of subjective judgment "
        "matrices. J. Math. Psychol. 29, 387–405 (geometric-mean weights).",
        "Alonso, J.A. & Lamata, M.T. (2006) Consistency in the analytic hierarchy process: a new "
        "approach. Int. J. Uncertain. Fuzziness Knowl.-Based Syst. 14(4), 445–459 (RI fit).",
        "The resilience study, Eq. 15.",
    )

    def initAlgorithm(self, config=None):
        self.add_matrix_parameters(
            "Pairwise comparison matrix (one row and one column per criterion)",
            "Saaty-scale judgements (1–9 and reciprocals): aᵢⱼ in row i, column Cj, so an "
            "n × n matrix fills the first n columns of n rows (up to "
            f"{MATRIX_COLUMNS} criteria here; more in a CSV file). Reciprocals may be typed "
            "rounded (0.333 or 0.33 for 1/3) within TOLERANCE. On the command line and in "
            "older models, all n² values row by row (MATRIX=1,3,0.333,1) are read too.",
            "Square CSV (comma or semicolon); an optional header row and first column hold the "
            "criterion names. Used when MATRIX is empty.",
        )
        self.add(
            QgsProcessingParameterString(
                "NAMES", self.tr("Criterion names (comma-separated)"), "", optional=True
            ),
            "Names for the output table; default: from the CSV header, else C1, C2, ….",
        )
        self.add_ahp_method(
            "METHOD",
            "Weighting method",
            "Eq. 15 of the resilience study is the row geometric mean (the default).",
        )
        self.add_lambda_rule(
            "The RI tables were built from principal eigenvalues, hence the default; the mean "
            "of (A·w)ᵢ/wᵢ is the usual hand computation. Both agree for n ≤ 3 and for the "
            "eigenvector method."
        )
        self.add_ri_table(
            weighting.RI_TABLES,
            "Saaty (1980): n ≤ 10 (the default, as cited by the resilience study's AHP source); "
            "continued to n = 15: 1.51, 1.48, 1.56, 1.57, 1.59; Alonso & Lamata (2006): "
            "RI = (1.7699n − 4.3513)/(n − 1) for any n; custom: RI_VALUES.",
        )
        self.add_ri_values("Used with the custom RI table, e.g. 0,0,0.52,0.89,1.12,1.26.")
        self.add_cr_threshold("Saaty (1980): CR ≤ 0.1.")
        self.add_accept_inconsistent(
            "Accept an inconsistent matrix (CR above the threshold)",
            "Unchecked, a CR above CR_THRESHOLD is an error that shows the CR; checked, it is a "
            "warning and the weights are still written.",
        )
        self.add_tolerance()
        self.add_output_table("OUTPUT", "AHP weights", "One row per criterion.")
        self.addOutput(QgsProcessingOutputString("WEIGHTS", self.tr("Weights (comma-separated)")))
        self.addOutput(QgsProcessingOutputNumber("LAMBDA_MAX", self.tr("λmax")))
        self.addOutput(QgsProcessingOutputNumber("CI", self.tr("Consistency index CI")))
        self.addOutput(QgsProcessingOutputNumber("RI", self.tr("Random index RI")))
        self.addOutput(QgsProcessingOutputNumber("CR", self.tr("Consistency ratio CR")))

    def process(self, parameters, context, feedback):
        matrix, file_names, source = self.ahp_matrix(parameters, context)
        n = matrix.shape[0]
        tolerance = self.parameterAsDouble(parameters, "TOLERANCE", context)
        try:
            deviation = weighting.check_pairwise(matrix, tolerance)
        except ValueError as error:
            raise QgsProcessingException(f"{source}: {error}") from None
        names_text = self.text(parameters, "NAMES", context)
        names = [t.strip() for t in names_text.split(",")] if names_text else file_names
        if names and len(names) != n:
            raise QgsProcessingException(f"NAMES: {len(names)} name(s) for an {n} × {n} matrix")
        names = names or [f"C{i + 1}" for i in range(n)]
        table, custom = self.random_index_table(parameters, context)
        method = weighting.AHP_METHODS[self.parameterAsEnum(parameters, "METHOD", context)]
        rule = weighting.LAMBDA_RULES[self.parameterAsEnum(parameters, "LAMBDA_MAX_RULE", context)]
        result = self.ahp(matrix, table, custom, method=method, lambda_rule=rule)
        feedback.pushInfo(
            f"n = {n}, method {method}, λmax ({rule}) = {result.lambda_max:.6g}, "
            f"CI = {result.ci:.6g}, RI = {result.ri:.4g} ({table}), CR = {result.cr:.6g}; "
            f"largest |aij·aji − 1| = {deviation:.3g}"
        )
        threshold = self.parameterAsDouble(parameters, "CR_THRESHOLD", context)
        if result.cr > threshold:
            message = (
                f"{source}: the judgements are inconsistent: CR = {result.cr:.4f} > "
                f"{threshold:g} (λmax = {result.lambda_max:.4f}, CI = {result.ci:.4f}, "
                f"RI = {result.ri:.4g}). Revise the matrix, or check ACCEPT_INCONSISTENT."
            )
            self.accept_inconsistent(parameters, context, feedback, message)
        for name, weight in zip(names, result.weights, strict=True):
            feedback.pushInfo(f"  {name}: {weight:.6f}")
        destination = self.write_table(
            parameters,
            "OUTPUT",
            context,
            [
                ("criterion", int),
                ("name", str),
                ("weight", float),
                ("geometric_mean", float),
                ("aw_over_w", float),
            ],
            [
                (i + 1, names[i], result.weights[i], result.geometric_means[i], result.ratios[i])
                for i in range(n)
            ],
        )
        return {
            "OUTPUT": destination,
            "WEIGHTS": format_weights(result.weights),
            "LAMBDA_MAX": result.lambda_max,
            "CI": result.ci,
            "RI": result.ri,
            "CR": result.cr,
        }


class ObjectiveWeights(EvaluationAlgorithm):
    algorithm_id = "objective_weights"
    display_name = "Objective weights (mean square error, entropy, CRITIC)"
    group_key = "evaluation"
    summary = (
        "Objective weights of indicator rasters from their variation: the mean-square-error "
        "method of the resilience study (Eq. 16), the entropy method or CRITIC. Indicators are "
        "normalised first (Eq. 18–19) with min/max over the pixels valid in every indicator "
        "(or given), exactly as 'Composite index' does, and the statistics stream block by "
        "block. WEIGHTS (comma-separated) can be passed on to 'Composite index'."
    )
    formula = (
        "Normalised indicator x′ = (x − min)/(max − min), or 1 − that for a negative trend.\n"
        "Mean square error (Eq. 16): wⱼ = σⱼ / Σσ, σⱼ the standard deviation of x′ⱼ "
        "(= σ(xⱼ)/(maxⱼ − minⱼ)).\n"
        "Entropy: pᵢⱼ = x′ᵢⱼ / Σᵢ x′ᵢⱼ, eⱼ = −(1/ln m)·Σᵢ pᵢⱼ ln pᵢⱼ (0·ln 0 = 0, m pixels), "
        "wⱼ = (1 − eⱼ) / Σ(1 − e).\n"
        "CRITIC: Cⱼ = σⱼ·Σₖ (1 − rⱼₖ), wⱼ = Cⱼ / ΣC, r the Pearson correlation of x′."
    )
    nodata_rule = (
        "Only pixels valid in every indicator count (the pixels the composite index exists "
        "for); other indicators are resampled onto the first one's grid."
    )
    references = (
        "The resilience study, Eq. 16 and ref. [43] (mean-square-error decision method).",
        "Shannon, C.E. (1948) A mathematical theory of communication. Bell Syst. Tech. J. 27, "
        "379–423 (entropy); Zou, Z., Yun, Y. & Sun, J. (2006) Entropy method for determination "
        "of weight of evaluating indicators in fuzzy synthetic evaluation. J. Environ. Sci. "
        "18(5), 1020–1023.",
        "Diakoulaki, D., Mavrotas, G. & Papayannakis, L. (1995) Determining objective weights "
        "in multiple criteria problems: the CRITIC method. Comput. Oper. Res. 22(7), 763–770.",
    )

    def initAlgorithm(self, config=None):
        self.add_indicator_parameters(trends_optional=True)
        self.add_objective_method("METHOD")
        self.add_range_parameters()
        self.add_output_table(
            "OUTPUT", "Objective weights", "One row per indicator: range, σ, criterion, weight."
        )
        self.addOutput(QgsProcessingOutputString("WEIGHTS", self.tr("Weights (comma-separated)")))
        self.addOutput(QgsProcessingOutputNumber("PIXELS", self.tr("Pixels used")))

    def process(self, parameters, context, feedback):
        sources = self.raster_sources(parameters, "INPUTS", context)
        if len(sources) < 2:
            raise QgsProcessingException("INPUTS: at least two indicator layers are needed")
        k = len(sources)
        names = self.indicator_names(parameters, context, k)
        method = self.objective_method(parameters, context, "METHOD")
        if not self.text(parameters, "TRENDS", context) and method != "mse":
            raise QgsProcessingException(
                "TRENDS: the entropy and CRITIC weights depend on the trends; give one "
                "'+' or '-' per layer"
            )
        trends = self.indicator_trends(parameters, context, k, default=[1] * k)
        stats, _, _, _ = self.indicator_ranges(
            parameters, context, sources, trends, names, method, self.monitor(feedback), share=1.0
        )
        result = stats.objective
        feedback.pushInfo(
            f"{weighting.OBJECTIVE_LABELS[method]} over {stats.count} pixels valid in all "
            f"{k} indicators ({stats.passes} pass(es))"
        )
        for j in range(k):
            feedback.pushInfo(
                f"  {names[j]} ({weighting.trend_symbol(trends[j])}): range "
                f"[{stats.minima[j]:.6g}, {stats.maxima[j]:.6g}], σ′ = {result.std[j]:.6g}, "
                f"weight {result.weights[j]:.6f}"
            )
        destination = self.write_table(
            parameters,
            "OUTPUT",
            context,
            [
                ("indicator", str),
                ("trend", str),
                ("minimum", float),
                ("maximum", float),
                ("std_normalised", float),
                ("criterion", float),
                ("weight", float),
            ],
            [
                (
                    names[j],
                    weighting.trend_symbol(trends[j]),
                    stats.minima[j],
                    stats.maxima[j],
                    result.std[j],
                    result.criterion[j],
                    result.weights[j],
                )
                for j in range(k)
            ],
        )
        return {
            "OUTPUT": destination,
            "WEIGHTS": format_weights(result.weights),
            "PIXELS": stats.count,
        }

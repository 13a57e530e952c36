"""Indicator weights: AHP (subjective, the resilience study's Eq. 15) and objective weights from the
indicator rasters (mean square error Eq. 16, entropy, CRITIC)."""

from __future__ import annotations

import csv
import io

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterMatrix,
    QgsProcessingParameterString,
)

from ..core import evaluation_weights as weighting
from .base import MineEcoAlgorithm
from .evaluation_support import (
    format_weights,
    indicator_ranges,
    layer_names,
    parameter_text,
    trends_for,
)

AHP_METHODS = ("geometric_mean", "eigenvector")
LAMBDA_RULES = ("eigenvalue", "weighted_ratio")
RI_TABLES = ("saaty_1980", "saaty_extended", "alonso_lamata_2006", "custom")


#: Columns of the MATRIX table in the dialog, C1 … C17: up to the 17 indicators of the first
#: study's Table 2 (a larger matrix: MATRIX_FILE, or all values row by row on the command line).
MATRIX_COLUMNS = 17


def _given(value) -> bool:
    """False for the empty cells a matrix parameter holds when nothing was typed."""
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return False
    return str(value).strip() not in ("", "NULL")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_matrix_csv(text: str) -> tuple[list[float], list[str]]:
    """A square pairwise matrix from CSV text: numbers row by row, with an optional header row
    and an optional first column of criterion names. Returns (row-major values, names)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise ValueError("the file is empty")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    rows = [
        [cell.strip() for cell in row]
        for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    ]
    names: list[str] = []
    if not all(_is_number(cell) for cell in rows[0] if cell):
        header = rows.pop(0)
        names = [cell for cell in header if cell]
    if rows and not _is_number(rows[0][0]):
        names = [row[0] for row in rows]
        rows = [row[1:] for row in rows]
    values = []
    for number, row in enumerate(rows, start=1):
        cells = [cell for cell in row if cell != ""]
        if len(cells) != len(rows):
            raise ValueError(f"row {number} has {len(cells)} value(s); {len(rows)} expected")
        for cell in cells:
            if not _is_number(cell):
                raise ValueError(f"row {number}: '{cell}' is not a number")
            values.append(float(cell))
    return values, names[: len(rows)] if len(names) >= len(rows) else []


class AhpWeights(MineEcoAlgorithm):
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
        self.add(
            QgsProcessingParameterMatrix(
                "MATRIX",
                self.tr("Pairwise comparison matrix (one row and one column per criterion)"),
                0,
                False,
                [f"C{j}" for j in range(1, MATRIX_COLUMNS + 1)],
                None,
                optional=True,
            ),
            "Saaty-scale judgements (1–9 and reciprocals): aᵢⱼ in row i, column Cj, so an "
            "n × n matrix fills the first n columns of n rows (up to "
            f"{MATRIX_COLUMNS} criteria here; more in a CSV file). Reciprocals may be typed "
            "rounded (0.333 or 0.33 for 1/3) within TOLERANCE. On the command line and in "
            "older models, all n² values row by row (MATRIX=1,3,0.333,1) are read too.",
        )
        self.add(
            QgsProcessingParameterFile(
                "MATRIX_FILE",
                self.tr("Pairwise comparison matrix (CSV file)"),
                QgsProcessingParameterFile.Behavior.File,
                "csv",
                None,
                optional=True,
            ),
            "Square CSV (comma or semicolon); an optional header row and first column hold the "
            "criterion names. Used when MATRIX is empty.",
        )
        self.add(
            QgsProcessingParameterString(
                "NAMES", self.tr("Criterion names (comma-separated)"), "", optional=True
            ),
            "Names for the output table; default: from the CSV header, else C1, C2, ….",
        )
        self.add_enum(
            "METHOD",
            "Weighting method",
            ["Row geometric mean (Eq. 15)", "Principal eigenvector (Saaty 1980)"],
            0,
            "Eq. 15 of the resilience study is the row geometric mean (the default).",
        )
        self.add_enum(
            "LAMBDA_MAX_RULE",
            "λmax",
            ["Principal eigenvalue of A (Saaty 1980)", "Mean of (A·w)ᵢ / wᵢ"],
            0,
            "The RI tables were built from principal eigenvalues, hence the default; the mean "
            "of (A·w)ᵢ/wᵢ is the usual hand computation. Both agree for n ≤ 3 and for the "
            "eigenvector method.",
            advanced=True,
        )
        self.add_enum(
            "RI_TABLE",
            "Random index table",
            [weighting.RANDOM_INDEX_LABELS[key] for key in RI_TABLES],
            0,
            "Saaty (1980): n ≤ 10 (the default, as cited by the resilience study's AHP source); "
            "continued to n = 15: 1.51, 1.48, 1.56, 1.57, 1.59; Alonso & Lamata (2006): "
            "RI = (1.7699n − 4.3513)/(n − 1) for any n; custom: RI_VALUES.",
        )
        self.add(
            QgsProcessingParameterString(
                "RI_VALUES",
                self.tr("Custom RI values for n = 1, 2, … (comma-separated)"),
                "",
                optional=True,
            ),
            "Used with the custom RI table, e.g. 0,0,0.52,0.89,1.12,1.26.",
            advanced=True,
        )
        self.add_number(
            "CR_THRESHOLD",
            "Largest acceptable consistency ratio",
            0.1,
            "Saaty (1980): CR ≤ 0.1.",
            minimum=0,
            advanced=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "ACCEPT_INCONSISTENT",
                self.tr("Accept an inconsistent matrix (CR above the threshold)"),
                False,
            ),
            "Unchecked, a CR above CR_THRESHOLD is an error that shows the CR; checked, it is a "
            "warning and the weights are still written.",
        )
        self.add_number(
            "TOLERANCE",
            "Reciprocity tolerance",
            0.05,
            "Largest accepted |aᵢⱼ·aⱼᵢ − 1| (0.05 admits reciprocals typed with two decimals).",
            minimum=0,
            maximum=0.5,
            advanced=True,
        )
        self.add_output_table("OUTPUT", "AHP weights", "One row per criterion.")
        self.addOutput(QgsProcessingOutputString("WEIGHTS", self.tr("Weights (comma-separated)")))
        self.addOutput(QgsProcessingOutputNumber("LAMBDA_MAX", self.tr("λmax")))
        self.addOutput(QgsProcessingOutputNumber("CI", self.tr("Consistency index CI")))
        self.addOutput(QgsProcessingOutputNumber("RI", self.tr("Random index RI")))
        self.addOutput(QgsProcessingOutputNumber("CR", self.tr("Consistency ratio CR")))

    def matrix(self, parameters, context):
        """(n × n array, names from the file, parameter id the matrix came from)."""
        cells = [
            v if _given(v) else None for v in self.parameterAsMatrix(parameters, "MATRIX", context)
        ]
        if any(v is not None for v in cells):
            try:
                typed = weighting.table_values(cells, MATRIX_COLUMNS)
                return weighting.square_matrix(typed), [], "MATRIX"
            except ValueError as error:
                raise QgsProcessingException(f"MATRIX: {error}") from None
        path = self.parameterAsFile(parameters, "MATRIX_FILE", context)
        if not path:
            raise QgsProcessingException(
                "MATRIX: no matrix given (type it in MATRIX or give a CSV in MATRIX_FILE)"
            )
        try:
            with open(path, encoding="utf-8-sig") as handle:
                values, names = read_matrix_csv(handle.read())
            return weighting.square_matrix(values), names, "MATRIX_FILE"
        except OSError as error:
            raise QgsProcessingException(f"MATRIX_FILE: cannot be read ({error})") from None
        except ValueError as error:
            raise QgsProcessingException(f"MATRIX_FILE: {error}") from None

    def process(self, parameters, context, feedback):
        matrix, file_names, source = self.matrix(parameters, context)
        n = matrix.shape[0]
        tolerance = self.parameterAsDouble(parameters, "TOLERANCE", context)
        try:
            deviation = weighting.check_pairwise(matrix, tolerance)
        except ValueError as error:
            raise QgsProcessingException(f"{source}: {error}") from None
        names_text = parameter_text(self, parameters, "NAMES", context)
        names = [t.strip() for t in names_text.split(",")] if names_text else file_names
        if names and len(names) != n:
            raise QgsProcessingException(f"NAMES: {len(names)} name(s) for an {n} × {n} matrix")
        names = names or [f"C{i + 1}" for i in range(n)]
        table = RI_TABLES[self.parameterAsEnum(parameters, "RI_TABLE", context)]
        custom = ()
        if table == "custom":
            try:
                custom = weighting.parse_numbers(
                    parameter_text(self, parameters, "RI_VALUES", context), "RI value"
                )
            except ValueError as error:
                raise QgsProcessingException(f"RI_VALUES: {error}") from None
        method = AHP_METHODS[self.parameterAsEnum(parameters, "METHOD", context)]
        rule = LAMBDA_RULES[self.parameterAsEnum(parameters, "LAMBDA_MAX_RULE", context)]
        try:
            result = weighting.ahp_weights(
                matrix, method=method, lambda_rule=rule, ri_table=table, custom_ri=custom
            )
        except ValueError as error:
            parameter = "RI_VALUES" if table == "custom" else "RI_TABLE"
            raise QgsProcessingException(f"{parameter}: {error}") from None
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
            if not self.parameterAsBool(parameters, "ACCEPT_INCONSISTENT", context):
                raise QgsProcessingException(message)
            feedback.pushWarning(message + " Accepted as requested.")
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


class ObjectiveWeights(MineEcoAlgorithm):
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
        add_indicator_parameters(self, trends_optional=True)
        self.add_enum(
            "METHOD",
            "Objective method",
            [weighting.OBJECTIVE_LABELS[m] for m in weighting.OBJECTIVE_METHODS],
            0,
            "Mean square error is the resilience study's Eq. 16.",
        )
        add_range_parameters(self)
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
        names = indicator_names(self, parameters, context, k)
        method = weighting.OBJECTIVE_METHODS[self.parameterAsEnum(parameters, "METHOD", context)]
        trends_text = parameter_text(self, parameters, "TRENDS", context)
        if not trends_text and method != "mse":
            raise QgsProcessingException(
                "TRENDS: the entropy and CRITIC weights depend on the trends; give one "
                "'+' or '-' per layer"
            )
        trends = trends_for(trends_text, "TRENDS", k) if trends_text else [1] * k
        stats, _, _, _ = indicator_ranges(
            self,
            parameters,
            context,
            sources,
            trends,
            names,
            method,
            self.monitor(feedback),
            share=1.0,
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


# --- parameters shared with 'Composite index' ----------------------------------------------


def add_indicator_parameters(algorithm, trends_optional=False):
    algorithm.add_rasters(
        "INPUTS",
        "Indicator layers",
        "One single-band raster per indicator (band 1 is read); the first layer's grid is the "
        "grid of the statistics and of the output.",
    )
    algorithm.add(
        QgsProcessingParameterString(
            "NAMES", algorithm.tr("Indicator names (comma-separated)"), "", optional=True
        ),
        "Default: the layer names.",
    )
    algorithm.add(
        QgsProcessingParameterString(
            "TRENDS",
            algorithm.tr("Trends, one per layer ('+' positive, '-' negative)"),
            "",
            optional=True,
        ),
        "Comma-separated, in layer order: '+'/'positive' where a higher value means a better "
        "state (Eq. 18), '-'/'negative' where it means a worse one (Eq. 19)"
        + (" (blank: all positive; needed for entropy and CRITIC)." if trends_optional else "."),
    )


def add_range_parameters(algorithm):
    algorithm.add(
        QgsProcessingParameterString(
            "MINIMA",
            algorithm.tr("Fixed minima (comma-separated, blank = from the data)"),
            "",
            optional=True,
        ),
        "One entry per layer; an empty entry (e.g. '0,,,1') takes that indicator's minimum over "
        "the pixels valid in every indicator. Fix ranges (e.g. over all years) to make indices "
        "of different dates comparable.",
        advanced=True,
    )
    algorithm.add(
        QgsProcessingParameterString(
            "MAXIMA",
            algorithm.tr("Fixed maxima (comma-separated, blank = from the data)"),
            "",
            optional=True,
        ),
        "As MINIMA, for the maxima.",
        advanced=True,
    )
    algorithm.add(
        QgsProcessingParameterBoolean(
            "CLIP", algorithm.tr("Clip normalised values to [0, 1]"), True
        ),
        "Values outside a fixed range are set to 0 or 1 (no effect with ranges from the data).",
        advanced=True,
    )


def indicator_names(algorithm, parameters, context, count, defaults=None) -> list[str]:
    text = parameter_text(algorithm, parameters, "NAMES", context)
    if text:
        names = [t.strip() for t in text.split(",")]
        if len(names) != count:
            raise QgsProcessingException(
                f"NAMES: {len(names)} name(s) given for {count} indicator layer(s)"
            )
        return names
    return list(defaults) if defaults else layer_names(algorithm, parameters, "INPUTS", context)

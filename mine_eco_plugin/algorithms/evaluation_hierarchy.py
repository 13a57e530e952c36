"""Two-level AHP: a criteria matrix and one indicator matrix per criterion → global weights."""

from __future__ import annotations

import re

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
)

from ..core import evaluation_weights as weighting
from .evaluation_support import EvaluationAlgorithm, format_weights

#: The random-index tables this algorithm offers (custom values are ahp_weights's).
HIERARCHY_RI_TABLES = ("saaty_1980", "saaty_extended", "alonso_lamata_2006")
_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")


def read_hierarchy(text: str) -> tuple[list[float], list[str], list[tuple[str, list, list]]]:
    """Sections of a hierarchy file: ``[criteria]`` first, then one ``[<criterion>]`` per
    criterion, each a square pairwise matrix as CSV (optional header row / name column).

    Returns (criteria values, criterion names, [(criterion, values, indicator names)]) with the
    indicator sections in the order of the criteria. ValueError names the section at fault.
    """
    sections: list[tuple[str, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SECTION.match(line)
        if match:
            sections.append((match["name"].strip(), []))
        elif line.strip() and not line.lstrip().startswith("#"):
            if not sections:
                raise ValueError(f"line {number}: matrix values before the first [section]")
            sections[-1][1].append(line)
    if not sections or sections[0][0].lower() != "criteria":
        raise ValueError("the file must start with a [criteria] section")
    parsed = []
    for name, lines in sections:
        try:
            values, names = weighting.read_matrix_csv("\n".join(lines))
        except ValueError as error:
            raise ValueError(f"section [{name}]: {error}") from None
        parsed.append((name, values, names))
    _, criteria_values, criteria_names = parsed[0]
    groups = {name: (values, names) for name, values, names in parsed[1:]}
    if len(groups) != len(parsed) - 1:
        raise ValueError("a criterion section appears twice")
    if not criteria_names:
        criteria_names = [name for name, _, _ in parsed[1:]]
    missing = [c for c in criteria_names if c not in groups]
    extra = [g for g in groups if g not in criteria_names]
    if missing or extra:
        raise ValueError(
            "the sections after [criteria] must be named after the criteria "
            f"({', '.join(criteria_names)})"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(extra)}" if extra else "")
        )
    return (
        criteria_values,
        criteria_names,
        [(c, groups[c][0], groups[c][1]) for c in criteria_names],
    )


class AhpHierarchyWeights(EvaluationAlgorithm):
    algorithm_id = "ahp_hierarchy"
    display_name = "AHP weights (two-level hierarchy)"
    group_key = "evaluation"
    summary = (
        "Global indicator weights of a two-level analytic hierarchy: a pairwise matrix of the "
        "criteria (e.g. B1–B5 of the resilience study's Table 2) and, for each criterion, a "
        "pairwise matrix of its indicators (C1–C17). Each indicator's weight is its "
        "criterion's weight times its weight within the criterion, so the criterion sums of "
        "Table 2's subjective weights (0.272, 0.380, 0.180, 0.101, 0.067) come out of the "
        "criteria matrix. Every matrix is checked for consistency, and so are the indicator "
        "level and the whole hierarchy. The comma-separated WEIGHTS chain into 'Composite "
        "index' as its subjective weights, in the order the file lists the indicators."
    )
    formula = (
        "Each matrix: weights by Eq. 15 (row geometric mean) or the principal eigenvector; "
        "CIₖ = (λmax − n)/(n − 1), CRₖ = CIₖ/RIₖ.\n"
        "Global weight of indicator j of criterion k: wₖ·vₖⱼ (hierarchic composition).\n"
        "Indicator level: CR = Σₖ wₖ·CIₖ / Σₖ wₖ·RIₖ.\n"
        "Whole hierarchy (Saaty 1980): CRH = (CI_B + Σₖ wₖ·CIₖ) / (RI_B + Σₖ wₖ·RIₖ)."
    )
    nodata_rule = "No rasters: every matrix must be complete (no blanks)."
    references = (
        "Saaty, T.L. (1980) The Analytic Hierarchy Process. McGraw-Hill, New York "
        "(hierarchic composition, consistency of a hierarchy).",
    )

    def initAlgorithm(self, config=None):
        self.add(
            QgsProcessingParameterFile(
                "HIERARCHY",
                self.tr("Hierarchy of pairwise matrices (text/CSV file)"),
                QgsProcessingParameterFile.Behavior.File,
                "csv",
            ),
            "A text file of sections. The first, [criteria], holds the criteria matrix with a "
            "header row of criterion names (e.g. B1,B2,B3); then one section per criterion, "
            "named after it ([B1], [B2], …), holds the matrix of its indicators with a header "
            "row of their names. Values comma- or semicolon-separated; lines starting with # "
            "are comments. A criterion with one indicator has the matrix 1.",
        )
        self.add_ahp_method(
            "METHOD", "Weighting method", "The same for every matrix of the hierarchy."
        )
        self.add_lambda_rule("As in 'AHP weights (pairwise comparison matrix)'.")
        self.add_ri_table(HIERARCHY_RI_TABLES, "RI of each matrix by its order n.")
        self.add_cr_threshold(
            "Saaty (1980): CR ≤ 0.1, for each matrix and for the whole hierarchy."
        )
        self.add_accept_inconsistent(
            "Accept inconsistent matrices (CR above the threshold)",
            "Unchecked, any CR above the threshold is an error naming the section; checked, "
            "a warning, and the weights are still written.",
        )
        self.add_tolerance()
        self.add_output_table("OUTPUT", "Hierarchy weights", "One row per indicator.")
        self.addOutput(
            QgsProcessingOutputString("WEIGHTS", self.tr("Global weights (comma-separated)"))
        )
        self.addOutput(
            QgsProcessingOutputString(
                "CRITERIA_WEIGHTS", self.tr("Criterion weights (comma-separated)")
            )
        )
        self.add_number_outputs(
            (
                ("CR_CRITERIA", "CR of the criteria"),
                ("CR_INDICATORS", "CR of the indicator level"),
                ("CR_OVERALL", "CR of the whole hierarchy"),
            )
        )

    def process(self, parameters, context, feedback):
        path = self.parameterAsFile(parameters, "HIERARCHY", context)
        try:
            with open(path, encoding="utf-8-sig") as handle:
                criteria_values, criteria, sections = read_hierarchy(handle.read())
        except OSError as error:
            raise QgsProcessingException(f"HIERARCHY: cannot be read ({error})") from None
        except ValueError as error:
            raise QgsProcessingException(f"HIERARCHY: {error}") from None
        tolerance = self.parameterAsDouble(parameters, "TOLERANCE", context)
        matrices = []
        for label, values in [("criteria", criteria_values)] + [(c, v) for c, v, _ in sections]:
            try:
                matrix = weighting.square_matrix(values)
                weighting.check_pairwise(matrix, tolerance)
            except ValueError as error:
                raise QgsProcessingException(f"HIERARCHY [{label}]: {error}") from None
            matrices.append(matrix)
        if matrices[0].shape[0] != len(criteria):
            raise QgsProcessingException(
                f"HIERARCHY [criteria]: {len(criteria)} names for a "
                f"{matrices[0].shape[0]} × {matrices[0].shape[0]} matrix"
            )
        names = []
        for (criterion, _, indicator_names), matrix in zip(sections, matrices[1:], strict=True):
            n = matrix.shape[0]
            if indicator_names and len(indicator_names) != n:
                raise QgsProcessingException(
                    f"HIERARCHY [{criterion}]: {len(indicator_names)} names for {n} indicators"
                )
            names += indicator_names or [f"{criterion}.{i + 1}" for i in range(n)]
        enum = self.parameterAsEnum
        options = {
            "method": weighting.AHP_METHODS[enum(parameters, "METHOD", context)],
            "lambda_rule": weighting.LAMBDA_RULES[enum(parameters, "LAMBDA_MAX_RULE", context)],
            "ri_table": HIERARCHY_RI_TABLES[enum(parameters, "RI_TABLE", context)],
        }
        try:
            result = weighting.ahp_hierarchy(matrices[0], matrices[1:], **options)
        except ValueError as error:
            raise QgsProcessingException(f"RI_TABLE: {error}") from None
        threshold = self.parameterAsDouble(parameters, "CR_THRESHOLD", context)
        checks = [("criteria", result.criteria.cr)]
        checks += [(c, r.cr) for (c, _, _), r in zip(sections, result.groups, strict=True)]
        checks += [("indicator level", result.level_cr), ("whole hierarchy", result.overall_cr)]
        for label, cr in checks:
            feedback.pushInfo(f"CR of {label}: {cr:.4f}")
        failed = [(label, cr) for label, cr in checks if cr > threshold]
        if failed:
            message = (
                "HIERARCHY: inconsistent judgements: "
                + "; ".join(f"[{label}] CR = {cr:.4f}" for label, cr in failed)
                + f" > {threshold:g}. Revise the matrices, or check ACCEPT_INCONSISTENT."
            )
            self.accept_inconsistent(parameters, context, feedback, message)
        rows = []
        for j, (name, weight) in enumerate(zip(names, result.global_weights, strict=True)):
            k = int(result.criterion_of[j])
            local = weight / result.criteria.weights[k]
            rows.append((j + 1, name, criteria[k], result.criteria.weights[k], local, weight))
            feedback.pushInfo(f"  {criteria[k]} / {name}: {weight:.6f}")
        destination = self.write_table(
            parameters,
            "OUTPUT",
            context,
            [
                ("indicator", int),
                ("name", str),
                ("criterion", str),
                ("criterion_weight", float),
                ("local_weight", float),
                ("weight", float),
            ],
            rows,
        )
        return {
            "OUTPUT": destination,
            "WEIGHTS": format_weights(result.global_weights),
            "CRITERIA_WEIGHTS": format_weights(result.criteria.weights),
            "CR_CRITERIA": result.criteria.cr,
            "CR_INDICATORS": result.level_cr,
            "CR_OVERALL": result.overall_cr,
        }


#: Names a hierarchy may give the resilience study's indicators besides their codes (C1…C17).
_CODE = re.compile(r"^\s*(C\d{1,2})\b", re.IGNORECASE)


def preset_subjective_weights(algorithm, parameters, name, context, feedback, table, slots):
    """The subjective weights of ``table`` (a Table 2 preset) taken from the hierarchy file of
    parameter ``name``, or None when it is not given.

    The file is run through 'AHP weights (two-level hierarchy)' (its consistency checks and
    log included); each of its indicators is named by its Table 2 code (``C4``, ``C4 VHI``) or
    by its slot (``VHI``). Indicators of the preset the hierarchy leaves out get weight 0, so
    a run that gives one of them is refused by the caller (``missing_subjective``).
    """
    import processing

    path = algorithm.parameterAsFile(parameters, name, context)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8-sig") as handle:
            _, _, sections = read_hierarchy(handle.read())
    except (OSError, ValueError) as error:
        raise QgsProcessingException(f"{name}: {error}") from None
    unnamed = [criterion for criterion, _, group in sections if not group]
    if unnamed:
        raise QgsProcessingException(
            f"{name}: section(s) {', '.join(f'[{c}]' for c in unnamed)} need a header row "
            "naming their indicators (Table 2 codes C1…C17 or slots)"
        )
    labels = [label for _, _, group in sections for label in group]
    by_slot = {slot.upper(): j for j, slot in enumerate(slots)}
    by_code = {code.upper(): j for j, code in enumerate(table.codes)}
    positions, unknown = [], []
    for label in labels:
        match = _CODE.match(label)
        j = by_code.get(match.group(1).upper()) if match else by_slot.get(label.strip().upper())
        if j is None:
            unknown.append(label)
        positions.append(j)
    if unknown:
        raise QgsProcessingException(
            f"{name}: indicator(s) {', '.join(repr(u) for u in unknown)} are "
            f"not Table 2 indicators: name each by its code ({', '.join(table.codes)}) or its "
            f"slot ({', '.join(slots)}) in the header row of its criterion's section"
        )
    twice = sorted({table.codes[j] for j in positions if positions.count(j) > 1})
    if twice:
        raise QgsProcessingException(f"{name}: {', '.join(twice)} appear(s) twice")
    results = processing.run(
        "mineeco:ahp_hierarchy",
        {"HIERARCHY": path, "OUTPUT": "TEMPORARY_OUTPUT"},
        context=context,
        feedback=feedback,
        is_child_algorithm=True,
    )
    weights = [float(w) for w in results["WEIGHTS"].split(",")]
    subjective = [0.0] * len(table.codes)
    for j, weight in zip(positions, weights, strict=True):
        subjective[j] = weight
    feedback.pushInfo(
        f"Subjective weights from {name} (CR of the whole hierarchy "
        f"{results['CR_OVERALL']:.4f}): "
        + ", ".join(f"{table.codes[j]} {w:.4f}" for j, w in zip(positions, weights, strict=True))
    )
    return subjective


def missing_subjective(name, table, index, subjective) -> None:
    """Refuse a run whose indicators include one the hierarchy of ``name`` does not weigh."""
    missing = [table.codes[j] for j in index if subjective[j] <= 0]
    if missing:
        raise QgsProcessingException(
            f"{name}: the hierarchy gives no weight to {', '.join(missing)}, which this run "
            "uses: add them to the hierarchy or leave their layers out"
        )

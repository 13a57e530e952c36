"""How sure is a resilience class? Monte Carlo over plausible indicator weights (perturbed AHP
judgements or a Dirichlet around given weights): per-pixel mean index, 90 % interval, modal
class and class stability, and each indicator's influence on the study-area mean."""

from __future__ import annotations

import math
import os

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterString,
)

from .. import engine
from ..core import evaluation_weights as weighting
from ..core import sensitivity
from ..engine import styles
from .evaluation_support import EvaluationAlgorithm, format_weights, weights_for

RASTERS = ("OUTPUT_MEAN", "OUTPUT_LOW", "OUTPUT_HIGH", "OUTPUT_CLASS", "OUTPUT_STABILITY")


def _number(value) -> float | None:
    """A numeric output as a Python float (qgis_process reports those), None when undefined."""
    value = float(value)
    return value if math.isfinite(value) else None


class WeightSensitivity(EvaluationAlgorithm):
    algorithm_id = "weight_sensitivity"
    display_name = "Weight sensitivity (Monte Carlo: index interval, class stability)"
    group_key = "evaluation"
    summary = (
        "How robust is each pixel's resilience class to the subjective weights behind it? "
        "DRAWS plausible weight vectors are drawn once — either every AHP judgement of MATRIX "
        "moved at random by at most one step along Saaty's scale, or a Dirichlet distribution "
        "around WEIGHTS with concentration CONCENTRATION — and the comprehensive index "
        "(Eq. 18–20, normalised as 'Composite index' does it) is evaluated for every draw, "
        "block by block, without storing the draws. Per pixel: the mean index over the draws, "
        "the 5 % and 95 % percentiles (a 90 % interval), the modal class (BREAKS, default the "
        "resilience study's Table 3) and the share of draws giving it (class stability, 0–1, a "
        "styled map). OUTPUT_INFLUENCE ranks the indicators by Spearman's rank correlation "
        "between their weight and the study-area mean index over the draws. With "
        "OBJECTIVE_METHOD set, every draw is the subjective part and is combined with the "
        "objective weights of the layers (the resilience study's Eq. 17), so only the judgements "
        "vary. Weights of zero spread (STEP_PROBABILITY 0, or a huge CONCENTRATION) reproduce "
        "'Composite index' and 'Classify index'."
    )
    formula = (
        "Index of draw d: I_d = Σⱼ W_dj·Tⱼ (Eq. 20), Tⱼ the normalised indicator (Eq. 18–19, "
        "min/max over the pixels valid in every indicator, or MINIMA/MAXIMA).\n"
        "AHP draws: each aᵢⱼ (i < j) moves to the next lower / higher value of 1/9, 1/8, …, "
        "1/2, 1, 2, …, 9 with probability p/2 each and stays with 1 − p (p = STEP_PROBABILITY, "
        "default 2/3: the three values equally likely; at 9 or 1/9 the missing step stays); "
        "aⱼᵢ = 1/aᵢⱼ; weights by AHP_METHOD (Eq. 15), CR = (λmax − n)/((n − 1)·RI); a draw with "
        "CR > CR_THRESHOLD is redrawn (default) or kept (INCONSISTENT_DRAWS).\n"
        "Dirichlet draws: W ~ Dir(κ·w₀), E[Wⱼ] = w₀ⱼ, Var[Wⱼ] = w₀ⱼ(1 − w₀ⱼ)/(κ + 1), "
        "κ = CONCENTRATION (default 100: a weight of 0.1 varies by ±30 %).\n"
        "Combined (OBJECTIVE_METHOD set): W_d = COMBINATION(W_d, w_objective), default "
        "(W_d + w_objective)/2 (Eq. 17).\n"
        "OUTPUT_MEAN = (1/D)·Σ_d I_d = Σⱼ W̄ⱼ·Tⱼ; OUTPUT_LOW/HIGH: the 5 % / 95 % percentiles "
        "of the D values I_d (numpy's linear rule: h = (D − 1)·q, interpolated between the "
        "order statistics ⌊h⌋ and ⌊h⌋ + 1).\n"
        "OUTPUT_CLASS: the class (1 + number of breaks ≤ I_d) most draws give (ties: the "
        "lower class); OUTPUT_STABILITY: the share of draws giving it.\n"
        "Influence: ρⱼ = Spearman(W_·j, A), A_d = (1/N)·Σ_pixels I_d = Σⱼ W_dj·T̄ⱼ the "
        "study-area mean index of draw d (N valid pixels)."
    )
    nodata_rule = (
        "A pixel that is NoData in any indicator is NoData in every output (class 0) and is "
        "left out of the ranges and the study-area means. Layers are resampled onto the first "
        "layer's grid (bilinear)."
    )
    references = (
        "The resilience study, Eq. 15–20 and Table 3.",
        "Saaty, T.L. (1980) The Analytic Hierarchy Process. McGraw-Hill (scale, CR ≤ 0.1).",
        "Hauser, D. & Tadikamalla, P. (1996) The Analytic Hierarchy Process in an uncertain "
        "environment: a simulation approach. Eur. J. Oper. Res. 91, 27–37; Paulson, D. & "
        "Zahir, S. (1995) Consequences of uncertainty in the analytic hierarchy process: a "
        "simulation approach. Eur. J. Oper. Res. 87, 45–56 (perturbed judgements).",
        "Kotz, S., Balakrishnan, N. & Johnson, N.L. (2000) Continuous Multivariate "
        "Distributions, Vol. 1, 2nd ed., Wiley, ch. 49 (Dirichlet moments).",
        "Hyndman, R.J. & Fan, Y. (1996) Sample quantiles in statistical packages. Am. Stat. "
        "50, 361–365 (definition 7, numpy's default).",
        "Saltelli, A. et al. (2008) Global Sensitivity Analysis: The Primer. Wiley (rank "
        "correlation as a sensitivity measure).",
    )

    def initAlgorithm(self, config=None):
        self.add_indicator_parameters()
        self.add(
            QgsProcessingParameterString(
                "WEIGHTS",
                self.tr("Weights, centre of the Dirichlet (comma-separated, one per layer)"),
                "",
                optional=True,
            ),
            "Give WEIGHTS or MATRIX, not both. The weights are rescaled to sum 1 (e.g. the "
            "WEIGHTS output of 'Composite index'); with OBJECTIVE_METHOD set they are the "
            "subjective weights and the centre is their combination with the objective ones.",
        )
        self.add_matrix_parameters(
            "Pairwise comparison matrix to perturb (one row and column per layer)",
            "As in 'AHP weights': aᵢⱼ in row i, column Cj, one row and column per indicator "
            "layer in layer order (on the command line all n² values row by row: "
            "MATRIX=1,3,0.333,1).",
            "Square CSV as in 'AHP weights'; used when MATRIX is empty.",
        )
        self.add_number(
            "DRAWS",
            "Number of draws",
            1000,
            "Weight vectors drawn. The Monte Carlo error of a percentile shrinks as 1/√D: "
            "for normally spread draws of standard deviation σ, the 5 % percentile of 1000 "
            "draws has a standard error of √(0.05·0.95/D)/φ(1.645)·σ ≈ 0.07σ.",
            minimum=10,
            maximum=100_000,
            integer=True,
        )
        self.add_seed()
        self.add_number(
            "STEP_PROBABILITY",
            "AHP: probability that a judgement moves one scale step",
            sensitivity.DEFAULT_STEP_PROBABILITY,
            "Split equally between the lower and the higher neighbour on Saaty's scale; "
            "default 2/3 makes the judgement and its two neighbours equally likely; 0 keeps "
            "the matrix as given (no spread).",
            minimum=0,
            maximum=1,
        )
        self.add_number(
            "CONCENTRATION",
            "Dirichlet: concentration κ",
            sensitivity.DEFAULT_CONCENTRATION,
            "Larger is tighter: Var[Wⱼ] = w₀ⱼ(1 − w₀ⱼ)/(κ + 1). 100 (default): a weight of "
            "0.1 has a coefficient of variation of 0.30, one of 0.3 of 0.15.",
            minimum=1e-9,
        )
        self.add_objective_method(
            description="Combine each draw with objective weights",
            none="No: the weights drawn are the index weights",
            help_text="The resilience study combines AHP weights with mean-square-error weights "
            "(Eq. 16–17); choose that method to perturb only the subjective half.",
        )
        self.add_combination_parameters(advanced=True)
        self.add_ahp_method("AHP_METHOD", "AHP weighting method", "As in 'AHP weights'.", True)
        self.add_ri_table(
            weighting.RI_TABLES,
            "As in 'AHP weights'. Saaty (1980) stops at n = 10: for more indicators choose the "
            "continued table (n ≤ 15) or Alonso & Lamata (2006).",
            advanced=True,
        )
        self.add_ri_values("Used with the custom RI table.")
        self.add_cr_threshold(
            "Saaty (1980): CR ≤ 0.1. Applies to MATRIX and to every perturbed matrix."
        )
        self.add_accept_inconsistent(
            "Accept an inconsistent comparison matrix (CR above the threshold)",
            "Unchecked, a MATRIX with CR above CR_THRESHOLD is an error.",
            advanced=True,
        )
        self.add_enum(
            "INCONSISTENT_DRAWS",
            "Perturbed matrices with CR above the threshold",
            [
                "Redraw them (the draws are conditioned on CR ≤ threshold)",
                "Keep them",
            ],
            0,
            "Redrawing stops with an error after 50 × DRAWS matrices; the log reports the "
            "share of perturbed matrices that were inconsistent.",
            advanced=True,
        )
        self.add_breaks(
            "Class breaks (comma-separated, increasing)",
            "As the fixed breaks of 'Classify index'; default: the resilience study's Table 3 "
            "(severe < 0.38 ≤ poor < 0.41 ≤ moderate < 0.63 ≤ good < 0.73 ≤ excellent).",
        )
        self.add_class_labels(
            "Legend of OUTPUT_CLASS; default: the study's five resilience levels."
        )
        self.add_range_parameters()
        self.add_number(
            "THREADS",
            "Threads",
            0,
            "Threads for the per-pixel draws (0: one per CPU core).",
            minimum=0,
            integer=True,
            advanced=True,
        )
        self.add_run_switch()
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT_MEAN", "Mean index over the draws", "Σ W̄ⱼ·Tⱼ, float32.", side=True
        )
        self.add_output_raster(
            "OUTPUT_LOW", "Index, 5 % percentile of the draws", "float32.", side=True
        )
        self.add_output_raster(
            "OUTPUT_HIGH", "Index, 95 % percentile of the draws", "float32.", side=True
        )
        self.add_output_raster(
            "OUTPUT_CLASS", "Modal class", "uint8 class codes 1…k (0 = NoData), styled.", side=True
        )
        self.add_output_raster(
            "OUTPUT_STABILITY",
            "Class stability",
            "Share of the draws giving the modal class, 0–1, float32, styled (QML beside it).",
        )
        self.add_output_table(
            "OUTPUT_INFLUENCE",
            "Indicator influence",
            "One row per indicator: centre and mean weight, spread of the weight, mean "
            "normalised value, Spearman's ρ with the study-area mean index, rank by |ρ|.",
            side=True,
        )
        self.add_output_table(
            "OUTPUT_DRAWS",
            "Weight draws",
            "One row per draw: the weights w1…wk, CR (AHP draws) and the study-area mean index.",
            optional=True,
        )
        self.addOutput(QgsProcessingOutputString("WEIGHTS", self.tr("Centre weights")))
        self.addOutput(QgsProcessingOutputString("MEAN_WEIGHTS", self.tr("Mean weights")))
        self.add_number_outputs(
            (
                ("AREA_MEAN", "Study-area mean index (mean over the draws)"),
                ("AREA_MEAN_LOW", "Study-area mean index, 5 % percentile of the draws"),
                ("AREA_MEAN_HIGH", "Study-area mean index, 95 % percentile of the draws"),
                ("MEAN_STABILITY", "Mean class stability"),
                ("STABLE_SHARE", "Share of pixels in the same class in every draw (%)"),
                ("INCONSISTENT", "Perturbed matrices with CR above the threshold"),
                ("PIXELS", "Valid pixels"),
            )
        )

    # --- weights ---------------------------------------------------------------------------
    def _combiner(self, parameters, context, objective):
        """A function subjective → index weights (identity without objective weights)."""
        if objective is None:
            return lambda w: np.asarray(w, dtype=np.float64)
        rule, alpha = self.combination(parameters, context)

        def combine(subjective):
            return self.resolve_weights(
                "combined", subjective=subjective, objective=objective, rule=rule, alpha=alpha
            )

        return combine

    def _ahp_draws(self, parameters, context, feedback, k, draws, seed):
        """(AHP weights of MATRIX, draws × k AHP weights, CR per draw, description,
        inconsistent count)."""
        matrix, _, source = self.ahp_matrix(parameters, context)
        n = matrix.shape[0]
        if n != k:
            raise QgsProcessingException(
                f"{source}: a {n} × {n} matrix for {k} indicator layers; one row and column "
                "per layer, in layer order"
            )
        try:
            weighting.check_pairwise(matrix)
        except ValueError as error:
            raise QgsProcessingException(f"{source}: {error}") from None
        table, custom = self.random_index_table(parameters, context)
        method = weighting.AHP_METHODS[self.parameterAsEnum(parameters, "AHP_METHOD", context)]
        base = self.ahp(matrix, table, custom, method=method)
        threshold = self.parameterAsDouble(parameters, "CR_THRESHOLD", context)
        if base.cr > threshold:
            message = (
                f"{source}: the judgements are inconsistent: CR = {base.cr:.4f} > "
                f"{threshold:g}. Revise the matrix, or check ACCEPT_INCONSISTENT."
            )
            self.accept_inconsistent(parameters, context, feedback, message)
        for row, col, value, nearest in sensitivity.off_scale_judgements(matrix):
            feedback.pushWarning(
                f"{source}: judgement ({row}, {col}) = {value:g} is not on Saaty's scale; it "
                f"moves to the neighbours of {nearest:g}"
            )
        probability = self.parameterAsDouble(parameters, "STEP_PROBABILITY", context)
        rule = sensitivity.INCONSISTENT_RULES[
            self.parameterAsEnum(parameters, "INCONSISTENT_DRAWS", context)
        ]
        try:
            drawn = sensitivity.draw_ahp_weights(
                matrix,
                draws,
                seed,
                step_probability=probability,
                method=method,
                ri_table=table,
                custom_ri=custom,
                cr_threshold=threshold,
                rule=rule,
            )
        except ValueError as error:
            raise QgsProcessingException(
                f"{source}: {error} (INCONSISTENT_DRAWS, STEP_PROBABILITY)"
            ) from None
        feedback.pushInfo(
            f"AHP draws: {drawn.generated} perturbed matrices (p = {probability:.4g}), "
            f"{drawn.inconsistent} with CR > {threshold:g} "
            f"({100 * drawn.inconsistent / drawn.generated:.1f} %, {rule}); "
            f"{100 * drawn.moved_share:.1f} % of the judgements moved; base CR = "
            f"{base.cr:.4f}, draws' CR {np.min(drawn.cr):.4f}–{np.max(drawn.cr):.4f}"
        )
        description = (
            f"AHP judgements one Saaty step, p = {probability:.4g}, {method}, {table}, "
            f"CR > {threshold:g}: {rule}"
        )
        return base.weights, drawn.weights, drawn.cr, description, drawn.inconsistent

    def _dirichlet_draws(self, parameters, context, centre, draws, seed):
        concentration = self.parameterAsDouble(parameters, "CONCENTRATION", context)
        try:
            weights = sensitivity.draw_dirichlet_weights(centre, concentration, draws, seed)
        except ValueError as error:
            raise QgsProcessingException(f"CONCENTRATION: {error}") from None
        return weights, f"Dirichlet, κ = {concentration:.6g}"

    # --- run -------------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        sources = self.raster_sources(parameters, "INPUTS", context)
        k = len(sources)
        if k < 2:
            raise QgsProcessingException(
                f"INPUTS: {k} indicator layer(s); weights can only vary with two or more"
            )
        names = self.indicator_names(parameters, context, k)
        trends = self.indicator_trends(parameters, context, k)
        breaks = self.class_breaks(parameters, context)
        count = len(breaks) + 1
        labels = self.class_labels(parameters, context, count, feedback)
        has_matrix = self.matrix_given(parameters, context)
        weights_text = self.text(parameters, "WEIGHTS", context)
        if has_matrix == bool(weights_text):
            raise QgsProcessingException(
                "WEIGHTS: give either WEIGHTS (Dirichlet draws around them) or MATRIX / "
                "MATRIX_FILE (perturbed AHP judgements)" + (", not both" if has_matrix else "")
            )
        draws = self.parameterAsInt(parameters, "DRAWS", context)
        seed = self.parameterAsInt(parameters, "SEED", context)
        # Weights and judgements are checked (and AHP draws made) before any raster is read.
        if has_matrix:
            subjective, subjective_draws, cr, description, inconsistent = self._ahp_draws(
                parameters, context, feedback, k, draws, seed
            )
        else:
            subjective = weights_for(weights_text, "WEIGHTS", k, feedback)
            cr, inconsistent = None, 0
        threads = self.parameterAsInt(parameters, "THREADS", context) or os.cpu_count() or 1
        method = self.objective_method(parameters, context, none=True)
        stats, clip, grid, run_monitor = self.indicator_ranges(
            parameters,
            context,
            sources,
            trends,
            names,
            method,
            self.monitor(feedback),
            share=0.15,
        )
        objective = stats.objective.weights if stats.objective is not None else None
        combine = self._combiner(parameters, context, objective)
        # The centre is what 'Composite index' would use: the combined weights when objective
        # weights take part. AHP draws are combined one by one; a Dirichlet is drawn around
        # the combined centre.
        centre = combine(subjective)
        if has_matrix:
            weights = np.array([combine(w) for w in subjective_draws])
        else:
            weights, description = self._dirichlet_draws(parameters, context, centre, draws, seed)
        if objective is not None:
            description += f"; combined with objective {method} weights"
        budget = engine.block_budget_mb(self.memory_mb()) * 2**20
        chunk = sensitivity.chunk_pixels(draws, budget, threads)
        kernel = sensitivity.SensitivityKernel(
            weights,
            centre,
            stats.minima,
            stats.maxima,
            trends,
            breaks,
            clip=clip,
            chunk=chunk,
            threads=threads,
        )
        spread = weights.std(axis=0)
        feedback.pushInfo(f"{draws} draws ({description}), seed {seed}:")
        for j in range(k):
            feedback.pushInfo(
                f"  {names[j]} ({weighting.trend_symbol(trends[j])}): centre {centre[j]:.4f}, "
                f"mean {kernel.mean[j]:.4f}, sd {spread[j]:.4f}, range "
                f"[{stats.minima[j]:.6g}, {stats.maxima[j]:.6g}]"
            )
        feedback.pushInfo(
            f"Per-pixel draws in chunks of {chunk} pixels × {draws} draws "
            f"({chunk * draws * sensitivity.BYTES_PER_DRAW / 2**20:.0f} MiB) on {threads} "
            "thread(s)"
        )
        metadata = {
            "INDICATORS": ",".join(names),
            "TRENDS": ",".join(weighting.trend_symbol(t) for t in trends),
            "WEIGHTS": format_weights(centre),
            "MEAN_WEIGHTS": format_weights(kernel.mean),
            "DRAWS": draws,
            "SEED": seed,
            "PERTURBATION": description,
            "MINIMA": format_weights(stats.minima),
            "MAXIMA": format_weights(stats.maxima),
            "CLIP": clip,
            "BREAKS": ",".join(f"{b:.10g}" for b in breaks),
        }
        styled = styles.red_to_green_classes(labels)
        targets = {
            name: self.raster_target(parameters, name, context, metadata=metadata)
            for name in RASTERS
        }
        targets["OUTPUT_STABILITY"] = self.raster_target(
            parameters,
            "OUTPUT_STABILITY",
            context,
            metadata=metadata,
            style=styles.stability_qml(draws),
        )
        targets["OUTPUT_CLASS"] = self.class_target(
            parameters,
            "OUTPUT_CLASS",
            context,
            styled,
            metadata={**metadata, "LABELS": ",".join(labels)},
        )
        tally = {"stability": 0.0, "stable": 0}

        def block(*blocks):
            result = kernel(*blocks)
            stability = result[4]
            valid = stability[~np.isnan(stability)]
            tally["stability"] += float(valid.sum(dtype=np.float64))
            tally["stable"] += int(np.count_nonzero(valid == 1))
            return result

        with kernel:
            self.run_blocks(
                block,
                sources,
                [targets[name] for name in RASTERS],
                grid=grid,
                monitor=run_monitor,
            )
        if kernel.count == 0:
            # Only possible with fixed ranges (otherwise the range pass fails first); the
            # rasters are written by now, all NoData: say so rather than fail half-way.
            feedback.pushWarning(
                "INPUTS: no pixel is valid in every indicator (check NoData and overlap); "
                "every raster output is NoData"
            )
        area = kernel.area_means()
        if kernel.count:
            area_low, area_high = np.percentile(area, [5, 95])
            influence = sensitivity.weight_influence(weights, area)
        else:
            area_low = area_high = math.nan
            influence = np.full(k, math.nan)
        results = self._influence(
            parameters, context, feedback, names, trends, centre, kernel, weights, influence
        )
        draws_table = self._draws_table(parameters, context, weights, cr, area)
        pixels = max(kernel.count, 1)
        mean_stability = tally["stability"] / pixels if kernel.count else math.nan
        stable_share = 100.0 * tally["stable"] / pixels if kernel.count else math.nan
        feedback.pushInfo(
            f"Study-area mean index {area.mean():.4f} (90 % of draws in "
            f"[{area_low:.4f}, {area_high:.4f}]) over {kernel.count} pixels; mean class "
            f"stability {mean_stability:.3f}; {stable_share:.2f} % of the pixels in the same "
            "class in every draw"
        )
        return {
            **self.outputs(targets),
            "OUTPUT_INFLUENCE": results,
            "OUTPUT_DRAWS": draws_table,
            "WEIGHTS": format_weights(centre),
            "MEAN_WEIGHTS": format_weights(kernel.mean),
            "AREA_MEAN": _number(area.mean()),
            "AREA_MEAN_LOW": _number(area_low),
            "AREA_MEAN_HIGH": _number(area_high),
            "MEAN_STABILITY": _number(mean_stability),
            "STABLE_SHARE": _number(stable_share),
            "INCONSISTENT": int(inconsistent),
            "PIXELS": int(kernel.count),
        }

    def _influence(
        self, parameters, context, feedback, names, trends, centre, kernel, weights, influence
    ):
        k = len(names)
        order = sorted(
            range(k), key=lambda j: -abs(influence[j]) if math.isfinite(influence[j]) else 1
        )
        rank = {j: position for position, j in enumerate(order, start=1)}
        low, high = np.percentile(weights, [5, 95], axis=0)
        mean_normalised = kernel.column_sums / kernel.count if kernel.count else [None] * k
        feedback.pushInfo("Influence on the study-area mean index (Spearman's ρ):")
        for j in order:
            feedback.pushInfo(f"  {rank[j]}. {names[j]}: ρ = {influence[j]:+.3f}")
        return self.write_table(
            parameters,
            "OUTPUT_INFLUENCE",
            context,
            [
                ("indicator", str),
                ("trend", str),
                ("weight", float),
                ("weight_mean", float),
                ("weight_sd", float),
                ("weight_p05", float),
                ("weight_p95", float),
                ("mean_normalised", float),
                ("spearman_rho", float),
                ("rank", int),
            ],
            [
                (
                    names[j],
                    weighting.trend_symbol(trends[j]),
                    centre[j],
                    kernel.mean[j],
                    weights[:, j].std(),
                    low[j],
                    high[j],
                    mean_normalised[j],
                    influence[j] if math.isfinite(influence[j]) else None,
                    rank[j],
                )
                for j in range(k)
            ],
        )

    def _draws_table(self, parameters, context, weights, cr, area):
        k = weights.shape[1]
        columns = [("draw", int), *((f"w{j + 1}", float) for j in range(k))]
        columns += [("cr", float), ("area_mean", float)]
        rows = (
            (d + 1, *weights[d], None if cr is None else cr[d], area[d])
            for d in range(weights.shape[0])
        )
        return self.write_table(parameters, "OUTPUT_DRAWS", context, columns, rows)

"""Random-forest factorial experiments of the NPP-drivers study (Tian et al. 2022, §2.4.2, Eq. 6–7).

Needs scikit-learn (imported here, so import this module only where a forest is wanted; the
rest of the plugin works without it).

A random forest (Breiman 2001) here is ``n_trees`` CART regression trees, each grown on a
bootstrap sample of the n points (drawn with replacement, size n) and trying ``mtry`` randomly
chosen drivers at each split — scikit-learn's ``DecisionTreeRegressor(max_features=mtry)``. The
bootstrap is drawn here rather than inside ``RandomForestRegressor`` because Breiman's
permutation importance needs each tree's out-of-bag (OOB) points, which scikit-learn 1.2's forest
does not expose; the trees and their growth are scikit-learn's. Defaults follow R's
``randomForest`` (Liaw & Wiener 2002), which the study used: 500 trees, mtry = max(⌊p/3⌋, 1),
node size 5. R's ``nodesize`` stops splitting a node of at most ``nodesize`` points (its C code
tests the node's size, so a leaf may hold fewer points); scikit-learn's equivalent is
``min_samples_split = nodesize + 1`` — not ``min_samples_leaf``, which grows shallower trees
(on the tests' reference data, OOB R² 0.85 instead of R's 0.885).

All models of one experiment (RF_all and RF without each category) share the bootstrap samples
and tree seeds (common random numbers), so that ŷ_all − ŷ_¬c reflects the removed drivers rather
than a different resampling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from sklearn.inspection import permutation_importance
from sklearn.tree import DecisionTreeRegressor

#: Groups of trees summed separately when predicting (fixed: results independent of threads).
PREDICTION_CHUNKS = 8


def default_mtry(n_drivers: int) -> int:
    """R randomForest's regression default: max(⌊p/3⌋, 1) drivers tried at each split."""
    return max(int(n_drivers) // 3, 1)


@dataclass(frozen=True)
class ForestSettings:
    """What users tune: trees, drivers tried per split (0: R's default), R's node size."""

    trees: int = 500
    mtry: int = 0
    node_size: int = 5
    seed: int = 42
    threads: int = 2


@dataclass(frozen=True)
class Resampling:
    """Bootstrap rows and random seeds of every tree, shared by the models of an experiment."""

    rows: np.ndarray  # (trees, n) bootstrap row indices
    in_bag: np.ndarray  # (trees, n) bool
    tree_seeds: np.ndarray  # (trees,) seeds of the trees' split-feature draws
    permutation_seeds: np.ndarray  # (trees,) seeds of the OOB permutations

    @classmethod
    def draw(cls, n_samples: int, n_trees: int, seed: int) -> Resampling:
        rng = np.random.default_rng(int(seed))
        rows = rng.integers(0, n_samples, size=(n_trees, n_samples))
        in_bag = np.zeros((n_trees, n_samples), dtype=bool)
        np.put_along_axis(in_bag, rows, True, axis=1)
        tree_seeds = rng.integers(0, 2**31 - 1, size=n_trees)
        permutation_seeds = rng.integers(0, 2**31 - 1, size=n_trees)
        return cls(rows, in_bag, tree_seeds, permutation_seeds)


def _map(
    function: Callable,
    items: Sequence,
    threads: int,
    progress: Callable[[float], None] | None = None,
) -> list:
    """``[function(item) for item in items]`` in ``threads`` threads, results in input order
    (scikit-learn's tree building and traversal release the GIL). ``progress(fraction)`` is
    called in the calling thread after each result; it may raise (e.g. on cancellation), which
    drops the items not yet started."""
    results: list = []
    if threads <= 1 or len(items) <= 1:
        for item in items:
            results.append(function(item))
            if progress is not None:
                progress(len(results) / len(items))
        return results
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mineeco-forest")
    try:
        for result in pool.map(function, items):
            results.append(result)
            if progress is not None:
                progress(len(results) / len(items))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


@dataclass
class Forest:
    """A fitted forest on the columns ``columns`` of the full driver matrix."""

    trees: list[DecisionTreeRegressor]
    columns: tuple[int, ...]
    mtry: int
    oob_prediction: np.ndarray = field(repr=False)
    oob_r2: float = float("nan")
    oob_rmse: float = float("nan")

    def predict(self, drivers: np.ndarray, threads: int = 1) -> np.ndarray:
        """Mean of the trees' predictions for ``drivers`` ((m, all drivers)); float64 (m,).

        The trees are summed in ``PREDICTION_CHUNKS`` fixed groups (spread over ``threads``
        threads) whose sums are added in order, so the result is the same for any number of
        threads.
        """
        x = np.ascontiguousarray(np.asarray(drivers)[:, list(self.columns)], dtype=np.float32)
        if x.shape[0] == 0:
            return np.empty(0)
        chunks = np.array_split(np.arange(len(self.trees)), min(PREDICTION_CHUNKS, len(self.trees)))

        def chunk_sum(indices):
            total = np.zeros(x.shape[0])
            for index in indices:
                total += self.trees[index].predict(x, check_input=False)
            return total

        partial = _map(chunk_sum, chunks, threads)
        total = partial[0]
        for part in partial[1:]:
            total += part
        return total / len(self.trees)


def fit_forest(
    x: np.ndarray,
    y: np.ndarray,
    columns: Sequence[int],
    resampling: Resampling,
    settings: ForestSettings,
    *,
    progress: Callable[[float], None] | None = None,
) -> Forest:
    """Grow a forest on ``columns`` of ``x`` and score it out of bag (``progress`` as in
    ``_map``).

    OOB prediction of point i = mean of the trees whose bootstrap left i out; OOB R² =
    1 − Σ(y − ŷ_oob)² / Σ(y − ȳ)² (R randomForest's "% Var explained"), OOB RMSE = √(mean
    (y − ŷ_oob)²), both over the points left out by at least one tree.
    """
    columns = tuple(int(c) for c in columns)
    x = np.asarray(x, dtype=np.float32)[:, list(columns)]
    y = np.asarray(y, dtype=np.float64)
    mtry = settings.mtry or default_mtry(len(columns))
    mtry = min(mtry, len(columns))
    n_trees = resampling.rows.shape[0]

    def grow(tree_index: int):
        rows = resampling.rows[tree_index]
        tree = DecisionTreeRegressor(
            max_features=mtry,
            min_samples_split=settings.node_size + 1,
            random_state=int(resampling.tree_seeds[tree_index]),
        )
        tree.fit(x[rows], y[rows])
        out = ~resampling.in_bag[tree_index]
        oob = tree.predict(x[out], check_input=False) if out.any() else np.empty(0)
        return tree, oob

    grown = _map(grow, range(n_trees), settings.threads, progress)
    oob_sum = np.zeros(len(y))
    oob_count = np.zeros(len(y))
    for tree_index, (_, oob) in enumerate(grown):
        out = ~resampling.in_bag[tree_index]
        oob_sum[out] += oob
        oob_count[out] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        oob_prediction = np.where(oob_count > 0, oob_sum / oob_count, np.nan)
    scored = oob_count > 0
    residual = y[scored] - oob_prediction[scored]
    spread = y[scored] - y[scored].mean()
    sse, sst = float(residual @ residual), float(spread @ spread)
    r2 = 1.0 - sse / sst if sst > 0 else float("nan")
    rmse = float(np.sqrt(sse / scored.sum())) if scored.any() else float("nan")
    return Forest([tree for tree, _ in grown], columns, mtry, oob_prediction, r2, rmse)


@dataclass(frozen=True)
class Importance:
    """Permutation importance of each column of a forest (Breiman 2001; R's type = 1)."""

    increase: np.ndarray  # mean increase of the OOB MSE over the trees (target units²)
    sd: np.ndarray  # its standard deviation over the trees
    n_trees: int

    @property
    def scaled(self) -> np.ndarray:
        """R randomForest's default %IncMSE: the mean divided by its standard error."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.sd > 0, self.increase / (self.sd / np.sqrt(self.n_trees)), 0.0)

    def percent(self, scaled: bool = False) -> np.ndarray:
        """Importances normalised to sum to 100 % (the study's Figure 4). Negative values (a
        driver whose permutation improved the OOB fit: no importance) count as 0."""
        values = np.clip(self.scaled if scaled else self.increase, 0.0, None)
        total = values.sum()
        return values / total * 100.0 if total > 0 else np.zeros_like(values)


def oob_permutation_importance(
    forest: Forest,
    x: np.ndarray,
    y: np.ndarray,
    resampling: Resampling,
    *,
    threads: int = 1,
    progress: Callable[[float], None] | None = None,
) -> Importance:
    """Breiman's (2001) permutation importance, the "mean decrease in accuracy" (MDA, %IncMSE)
    of R's randomForest: for each tree, the increase of its mean squared error on its OOB points
    when one driver's OOB values are randomly permuted, averaged over the trees.

    Each tree's term is ``sklearn.inspection.permutation_importance`` of that tree on its OOB
    points (one permutation, scoring = −MSE), so the decrease of the score is the increase of
    the MSE.
    """
    x = np.asarray(x, dtype=np.float32)[:, list(forest.columns)]
    y = np.asarray(y, dtype=np.float64)

    def one_tree(tree_index: int) -> np.ndarray:
        out = ~resampling.in_bag[tree_index]
        if out.sum() < 2:
            return np.full(len(forest.columns), np.nan)
        result = permutation_importance(
            forest.trees[tree_index],
            x[out],
            y[out],
            scoring="neg_mean_squared_error",
            n_repeats=1,
            random_state=int(resampling.permutation_seeds[tree_index]),
        )
        return result.importances[:, 0]

    per_tree = np.array(_map(one_tree, range(len(forest.trees)), threads, progress))
    per_tree = per_tree[np.all(np.isfinite(per_tree), axis=1)]
    sd = per_tree.std(axis=0, ddof=1) if len(per_tree) > 1 else np.zeros(per_tree.shape[1])
    return Importance(per_tree.mean(axis=0), sd, len(per_tree))


@dataclass
class Experiments:
    """RF_all, RF without each category, and RF_all's driver importances."""

    all_drivers: Forest
    without: list[Forest]
    importance: Importance
    categories: list[str]
    driver_categories: list[int]

    def predict(self, drivers: np.ndarray, threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """ŷ_all (m,) and ŷ_¬c (categories, m) for the driver values ``drivers`` (m, p)."""
        predicted_all = self.all_drivers.predict(drivers, threads)
        without = np.stack([forest.predict(drivers, threads) for forest in self.without])
        return predicted_all, without


def factorial_experiments(
    x: np.ndarray,
    y: np.ndarray,
    driver_categories: Sequence[int],
    categories: Sequence[str],
    settings: ForestSettings,
    *,
    progress: Callable[[float], None] | None = None,
) -> Experiments:
    """Fit RF_all on all drivers and RF_¬c on all drivers but those of category c, for every
    category (Tian et al. 2022 §2.4.2: RF_all, RF_clim, RF_soil, RF_mine), and RF_all's OOB
    permutation importances.

    ``x``: (n, p) driver values at the sample points; ``y``: (n,) target values;
    ``driver_categories``: the category index (into ``categories``) of each driver.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float64)
    driver_categories = [int(c) for c in driver_categories]
    n_categories = len(categories)
    if n_categories < 2:
        raise ValueError("at least two driver categories are needed")
    if sorted(set(driver_categories)) != list(range(n_categories)):
        raise ValueError("every category needs at least one driver")
    if settings.trees < 1 or settings.node_size < 1 or settings.mtry < 0:
        raise ValueError("trees and node_size must be positive, mtry 0 (default) or positive")
    resampling = Resampling.draw(len(y), settings.trees, settings.seed)
    steps = n_categories + 2
    report = progress or (lambda fraction: None)

    def part(step):
        return lambda fraction: report((step + fraction) / steps)

    every = list(range(x.shape[1]))
    all_drivers = fit_forest(x, y, every, resampling, settings, progress=part(0))
    without = []
    for category in range(n_categories):
        kept = [d for d in every if driver_categories[d] != category]
        without.append(fit_forest(x, y, kept, resampling, settings, progress=part(category + 1)))
    importance = oob_permutation_importance(
        all_drivers, x, y, resampling, threads=settings.threads, progress=part(n_categories + 1)
    )
    report(1.0)
    return Experiments(all_drivers, without, importance, list(categories), driver_categories)

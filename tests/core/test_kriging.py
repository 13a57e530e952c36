"""Kriging kernels: models by hand, hand-solved systems, exactness, the neighbourhood shortcut
against per-target solves, Dubrule's LOO against refitting, a simulated field, and the Meuse
zinc data against gstat."""

import math
import shutil
import subprocess

import numpy as np
import pytest

from mine_eco_plugin.core import kriging as K

# --- models -------------------------------------------------------------------------------


def test_models_by_hand():
    h = np.array([0.0, 50.0, 100.0, 250.0])
    sph = K.Variogram("spherical", 0.1, 1.0, 100.0)
    # h = a/2: 0.1 + 1.0·(1.5·0.5 − 0.5·0.125) = 0.1 + 0.6875; h ≥ a: the sill 1.1; γ(0) = 0.
    np.testing.assert_allclose(sph(h), [0.0, 0.7875, 1.1, 1.1])
    exp = K.Variogram("exponential", 0.0, 2.0, 100.0)
    # h = a: 2·(1 − e⁻¹) = 1.264241
    assert exp(100.0) == pytest.approx(2 * (1 - math.exp(-1)))
    gau = K.Variogram("gaussian", 0.5, 1.0, 100.0)
    # h = a/2: 0.5 + (1 − e^−0.25) = 0.721199
    assert gau(50.0) == pytest.approx(0.5 + 1 - math.exp(-0.25))
    lin = K.Variogram("linear", 0.2, slope=0.01)
    np.testing.assert_allclose(lin(h), [0.0, 0.7, 1.2, 2.7])


def test_practical_range_reaches_95_percent():
    # Exponential 3a and gaussian √3·a: 1 − e⁻³ = 0.9502 of the partial sill.
    exp = K.Variogram("exponential", 0.0, 1.0, 100.0)
    gau = K.Variogram("gaussian", 0.0, 1.0, 100.0)
    assert exp.practical_range == 300.0
    assert gau.practical_range == pytest.approx(173.2051, abs=1e-4)
    assert exp(300.0) == pytest.approx(0.9502, abs=1e-4)
    assert gau(gau.practical_range) == pytest.approx(0.9502, abs=1e-4)
    assert K.Variogram("spherical", 0.0, 1.0, 100.0).practical_range == 100.0


def test_invalid_models_are_rejected():
    with pytest.raises(ValueError):
        K.Variogram("cubic", 0.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        K.Variogram("spherical", 0.0, 1.0, 0.0)
    with pytest.raises(ValueError):
        K.Variogram("linear", 0.0, slope=0.0)


# --- empirical variogram ------------------------------------------------------------------


def test_empirical_variogram_by_hand():
    # Points at x = 0, 1, 3 with z = 0, 1, 3: pairs (d, Δz²) = (1, 1), (3, 9), (2, 4).
    # Cutoff 3, 3 lags of width 1: bin [1, 2) holds d = 1 → γ̂ = 1/2; the last bin [2, 3] holds
    # d = 2 and 3 → γ̂ = (4 + 9)/(2·2) = 3.25 at mean distance 2.5. Bin [0, 1) is empty.
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    ev = K.empirical_variogram(xy, np.array([0.0, 1.0, 3.0]), cutoff=3.0, lags=3)
    np.testing.assert_allclose(ev.distance, [1.0, 2.5])
    np.testing.assert_allclose(ev.gamma, [0.5, 3.25])
    np.testing.assert_array_equal(ev.pairs, [1, 2])


def assert_same_bins(first, second):
    """The empirical variogram of 300 random points (seed 3) computed with the options
    ``first`` and with ``second``: the same bins."""
    rng = np.random.default_rng(3)
    xy, z = rng.uniform(0, 100, (300, 2)), rng.normal(size=300)
    a = K.empirical_variogram(xy, z, **first)
    b = K.empirical_variogram(xy, z, **second)
    np.testing.assert_allclose(a.gamma, b.gamma, rtol=1e-12)
    np.testing.assert_array_equal(a.pairs, b.pairs)


def test_empirical_variogram_chunks_do_not_change_it():
    assert_same_bins({"chunk": 7}, {"chunk": 4096})


def test_duplicates_are_averaged():
    xy = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 0.0], [0.0, 0.0]])
    out_xy, out_z, merged = K.average_duplicates(xy, np.array([1.0, 7.0, 2.0, 6.0]))
    assert merged == 2
    values = dict(zip(map(tuple, out_xy), out_z, strict=True))
    assert values[(0.0, 0.0)] == pytest.approx(3.0)  # (1 + 2 + 6)/3
    assert values[(5.0, 5.0)] == 7.0


def test_empirical_variogram_memory_budget_sets_the_chunks():
    # 300 points and a 0.05 MB budget: chunks of max(0.05·2²⁰ / (64·300), 16) = 16 rows, the
    # same bins as one chunk of every row.
    assert_same_bins({"memory_mb": 0.05}, {"chunk": 300})


def test_close_points_are_merged_at_their_centroid():
    # (0, 0) and (0.3, 0.4) are 0.5 apart, (0.3, 0.4) and (0.6, 0.8) too: one chain of three
    # at distance 0.6 → centroid (0.3, 0.4), mean (1 + 2 + 6)/3 = 3. (10, 0) stays.
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.3, 0.4], [0.6, 0.8]])
    z = np.array([1.0, 7.0, 2.0, 6.0])
    out_xy, out_z, merged, groups = K.merge_close_points(xy, z, 0.6)
    assert (merged, groups) == (2, 1)
    np.testing.assert_allclose(out_xy, [[0.3, 0.4], [10.0, 0.0]])
    np.testing.assert_allclose(out_z, [3.0, 7.0])
    # 0.4 < 0.5: nothing is merged; 0 disables merging.
    for distance in (0.4, 0.0):
        same_xy, same_z, merged, groups = K.merge_close_points(xy, z, distance)
        assert (merged, groups) == (0, 0)
        np.testing.assert_array_equal(same_xy, xy)
        np.testing.assert_array_equal(same_z, z)


def near_duplicate_case():
    """60 points of a smooth field (8.3–15.5) on 1 km², five of them doubled 5 cm away with
    values up to 2 apart, and a gaussian model without nugget fitted to them."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (60, 2))
    z = 10 + 3 * np.sin(xy[:, 0] / 300) + 1.5 * np.cos(xy[:, 1] / 250)
    xy = np.vstack([xy, xy[:5] + [0.05, 0.0]])
    z = np.concatenate([z, z[:5] + rng.uniform(-2, 2, 5)])
    return xy, z


def test_near_duplicates_merged_keep_gaussian_estimates_in_range():
    xy, z = near_duplicate_case()
    grid = np.column_stack(
        [np.repeat(np.linspace(0, 1000, 80), 80), np.tile(np.linspace(0, 1000, 80), 80)]
    )
    model = K.fit_variogram(K.empirical_variogram(xy, z), "gaussian", nugget=0.0)
    # As found: 5 cm apart with different values, the fit takes a 5.8 m range and the
    # estimates run from about −56 to 66 for data between 8.3 and 15.5; the nugget floor alone
    # does not cure it (−18 to 35: the fitted model itself is wrong, not only the numerics).
    estimate, _ = K.predict(xy, z, model, grid)
    assert estimate.min() < -50 and estimate.max() > 60
    estimate, _ = K.predict(xy, z, K.with_nugget_floor(model)[0], grid)
    assert estimate.min() < -15 and estimate.max() > 30
    # Merged within 1 m: 5 pairs → 5 points at the mid-points, with the pairs' means.
    mxy, mz, merged, groups = K.merge_close_points(xy, z, 1.0)
    assert (merged, groups, len(mz)) == (5, 5, 60)
    np.testing.assert_allclose(mz[:5], (z[:5] + z[60:]) / 2)
    np.testing.assert_allclose(mxy[:5], xy[:5] + [0.025, 0.0])
    model = K.fit_variogram(K.empirical_variogram(mxy, mz), "gaussian", nugget=0.0)
    assert model.range == pytest.approx(455.9, abs=0.1)
    # Refitted without a nugget (range 456 m) the system is numerically singular: estimates
    # from −476 to 128. With the nugget floor (10⁻⁴ of the sill) they stay within the data's
    # range ± 10 % of its span (8.0 to 14.5).
    estimate, _ = K.predict(mxy, mz, model, grid)
    assert estimate.min() < -400
    floored, raised = K.with_nugget_floor(model)
    assert raised and floored.nugget == pytest.approx(1e-4 * model.sill)
    assert floored.partial_sill == model.partial_sill and floored.range == model.range
    estimate, _ = K.predict(mxy, mz, floored, grid)
    span = np.ptp(mz)
    assert mz.min() - 0.1 * span < estimate.min() and estimate.max() < mz.max() + 0.1 * span
    # Other models, and gaussian models with a nugget, are left alone.
    for other in (K.Variogram("spherical", 0.0, 1.0, 10.0), K.Variogram("gaussian", 0.1, 1.0, 10)):
        assert K.with_nugget_floor(other) == (other, False)


def test_unique_system_memory_figure():
    # 7 float64 arrays of (n+1)²: 12,000 points → 7·8·12001² B = 7,692 MB.
    assert K.unique_system_mb(12000) == pytest.approx(7 * 8 * 12001**2 / 2**20)
    assert round(K.unique_system_mb(12000)) == 7692


def test_default_neighbourhood_is_the_unique_one_for_small_data():
    # At most DEFAULT_NEIGHBOURS points: the nearest-k rule takes every point, bit for bit.
    rng = np.random.default_rng(5)
    n = K.DEFAULT_NEIGHBOURS
    xy, z = rng.uniform(0, 500, (n, 2)), rng.normal(10, 2, n)
    model = K.Variogram("exponential", 0.2, 3.0, 150.0)
    targets = rng.uniform(-50, 550, (400, 2))
    for got, expected in zip(
        K.predict(xy, z, model, targets, neighbours=K.DEFAULT_NEIGHBOURS),
        K.predict(xy, z, model, targets, neighbours=None),
        strict=True,
    ):
        np.testing.assert_array_equal(got, expected)
    a = K.cross_validate(xy, z, model, neighbours=K.DEFAULT_NEIGHBOURS)
    b = K.cross_validate(xy, z, model, neighbours=None)
    np.testing.assert_array_equal(a.predicted, b.predicted)
    np.testing.assert_array_equal(a.variance, b.variance)


# --- kriging systems by hand --------------------------------------------------------------


def test_two_point_system_by_hand():
    # γ(h) = h; x1 = (0, 0), x2 = (10, 0), target (4, 0):
    # [0 10 1; 10 0 1; 1 1 0]·[λ1 λ2 μ] = [4 6 1] → 10λ2 + μ = 4, 10λ1 + μ = 6, λ1 + λ2 = 1
    # → λ1 − λ2 = 0.2 → λ1 = 0.6, λ2 = 0.4, μ = 0. ẑ = 0.6·1 + 0.4·3 = 1.8;
    # σ² = λ1·4 + λ2·6 + μ = 2.4 + 2.4 = 4.8.
    xy = np.array([[0.0, 0.0], [10.0, 0.0]])
    estimate, variance = K.predict(xy, [1.0, 3.0], K.Variogram("linear", 0.0, slope=1.0), [[4, 0]])
    assert estimate[0] == pytest.approx(1.8)
    assert variance[0] == pytest.approx(4.8)


def test_three_point_symmetric_system_by_hand():
    # Equilateral triangle of side 10, target at the centroid (distance r = 10/√3 = 5.7735):
    # by symmetry λ = 1/3 each; row i: (0 + γ(10) + γ(10))/3 + μ = γ(r) → μ = γ(r) − 2γ(10)/3;
    # σ² = γ(r) + μ = 2γ(r) − 2γ(10)/3. With γ = h: 11.5470 − 6.6667 = 4.8803.
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [5.0, 5.0 * math.sqrt(3)]])
    centroid = xy.mean(axis=0)
    estimate, variance = K.predict(xy, [3.0, 6.0, 9.0], K.Variogram("linear", 0.0, slope=1.0),
                                   [centroid])  # fmt: skip
    assert estimate[0] == pytest.approx(6.0)
    assert variance[0] == pytest.approx(2 * 10 / math.sqrt(3) - 20 / 3)


@pytest.mark.parametrize("nugget", [0.0, 0.2])
@pytest.mark.parametrize("neighbours", [None, 5])
def test_exact_at_data_points(nugget, neighbours):
    rng = np.random.default_rng(11)
    xy, z = rng.uniform(0, 100, (40, 2)), rng.normal(size=40)
    model = K.Variogram("spherical", nugget, 1.0, 40.0)
    estimate, variance = K.predict(xy, z, model, xy, neighbours=neighbours)
    np.testing.assert_allclose(estimate, z, atol=1e-9)
    np.testing.assert_allclose(variance, 0.0, atol=1e-9)


def brute_force(xy, z, model, targets, k):
    """Solve each target's own system with its k nearest points."""
    out, var = [], []
    for target in targets:
        nearest = np.argsort(np.hypot(*(xy - target).T))[:k]
        a = np.ones((k + 1, k + 1))
        d = np.hypot(*(xy[nearest, None, :] - xy[None, nearest, :]).transpose(2, 0, 1))
        a[:k, :k] = model(d)
        a[k, k] = 0
        b = np.append(model(np.hypot(*(xy[nearest] - target).T)), 1.0)
        solution = np.linalg.solve(a, b)
        out.append(solution[:k] @ z[nearest])
        var.append(solution @ b)
    return np.array(out), np.array(var)


@pytest.mark.parametrize("model", ["spherical", "exponential", "gaussian", "linear"])
def test_neighbourhood_sharing_equals_per_target_solves(model):
    rng = np.random.default_rng(5)
    xy, z = rng.uniform(0, 100, (60, 2)), rng.normal(size=60)
    gx, gy = np.meshgrid(np.linspace(0.5, 99.5, 25), np.linspace(0.5, 99.5, 20))
    targets = np.column_stack([gx.ravel(), gy.ravel()])
    variogram = (
        K.Variogram("linear", 0.1, slope=0.02)
        if model == "linear"
        else K.Variogram(model, 0.1, 1.0, 30.0)
    )
    expected = brute_force(xy, z, variogram, targets, 8)
    # A small memory budget forces many chunks and set batches.
    estimate, variance = K.predict(xy, z, variogram, targets, neighbours=8, memory_mb=0.05)
    np.testing.assert_allclose(estimate, expected[0], atol=1e-8)
    np.testing.assert_allclose(variance, expected[1], atol=1e-8)
    # All points: the same as k = n.
    estimate, variance = K.predict(xy, z, variogram, targets[:50])
    expected = brute_force(xy, z, variogram, targets[:50], 60)
    np.testing.assert_allclose(estimate, expected[0], atol=1e-7)
    np.testing.assert_allclose(variance, expected[1], atol=1e-7)


# --- cross-validation ---------------------------------------------------------------------


@pytest.mark.parametrize("neighbours", [None, 10])
def test_leave_one_out_equals_refitting_without_the_point(neighbours):
    rng = np.random.default_rng(9)
    xy, z = rng.uniform(0, 100, (50, 2)), rng.normal(size=50)
    model = K.Variogram("exponential", 0.05, 1.0, 20.0)
    cv = K.cross_validate(xy, z, model, neighbours=neighbours)
    for i in range(50):
        others = np.arange(50) != i
        estimate, variance = K.predict(xy[others], z[others], model, xy[i : i + 1],
                                       neighbours=neighbours)  # fmt: skip
        assert cv.predicted[i] == pytest.approx(estimate[0], abs=1e-9)
        assert cv.variance[i] == pytest.approx(variance[0], abs=1e-9)


def test_cross_validation_summary_by_hand():
    cv = K.CrossValidation(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0]), np.ones(3))
    # residuals −0.5, 0, 1: ME 0.5/3 = 0.16667; RMSE √(1.25/3) = 0.645497; MSDR 1.25/3
    assert cv.mean_error == pytest.approx(1 / 6)
    assert cv.rmse == pytest.approx(math.sqrt(1.25 / 3))
    assert cv.msdr == pytest.approx(1.25 / 3)
    assert cv.correlation == pytest.approx(np.corrcoef([1, 2, 3], [1.5, 2, 2])[0, 1])


# --- fitting ------------------------------------------------------------------------------


def test_fit_recovers_exact_model_values():
    # Semivariances that lie exactly on a spherical model are fitted back exactly.
    truth = K.Variogram("spherical", 0.3, 1.2, 400.0)
    h = np.linspace(30, 900, 15)
    ev = K.EmpiricalVariogram(h, truth(h), np.full(15, 100), 1000.0, 1000.0 / 15)
    fitted = K.fit_variogram(ev, "spherical")
    assert fitted.nugget == pytest.approx(0.3, abs=1e-6)
    assert fitted.partial_sill == pytest.approx(1.2, abs=1e-6)
    assert fitted.range == pytest.approx(400.0, rel=1e-6)
    for weights in K.WEIGHTS:
        again = K.fit_variogram(ev, "spherical", weights=weights)
        assert again.range == pytest.approx(400.0, rel=1e-4)


def test_fixed_parameters_are_held():
    truth = K.Variogram("exponential", 0.2, 1.0, 100.0)
    h = np.linspace(10, 500, 15)
    ev = K.EmpiricalVariogram(h, truth(h), np.full(15, 50), 500.0, 500.0 / 15)
    fitted = K.fit_variogram(ev, "exponential", nugget=0.0)
    assert fitted.nugget == 0.0
    fitted = K.fit_variogram(ev, "exponential", sill=1.5, range_parameter=80.0)
    assert fitted.sill == pytest.approx(1.5)
    assert fitted.range == 80.0
    fitted = K.fit_variogram(ev, "linear", nugget=0.1)
    assert fitted.nugget == 0.1 and fitted.slope > 0


def simulated_field(seed=1, n=1200):
    """A Gaussian random field at random points in a 1000 × 1000 square: exponential
    covariance, nugget 0.2, partial sill 1.0, a = 80 (practical range 240), by Cholesky."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, (n, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    covariance = 1.0 * np.exp(-d / 80.0) + 0.2 * np.eye(n)
    z = np.linalg.cholesky(covariance) @ rng.normal(size=n)
    return xy, z


def test_fit_recovers_known_parameters_of_a_simulated_field():
    # One realisation carries a sampling error of 10–30 % in the variogram; the mean of the
    # fits over three realisations (seeds 1–3: a = 102.2, 95.6, 69.5) lies within 15 %.
    fits = []
    for seed in (1, 2, 3):
        xy, z = simulated_field(seed)
        ev = K.empirical_variogram(xy, z, cutoff=400.0, lags=20)
        fits.append(K.fit_variogram(ev, "exponential"))
    assert np.mean([f.nugget for f in fits]) == pytest.approx(0.2, abs=0.05)
    assert np.mean([f.partial_sill for f in fits]) == pytest.approx(1.0, rel=0.15)
    assert np.mean([f.range for f in fits]) == pytest.approx(80.0, rel=0.15)
    # Model choice by cross-validation prefers the true family over the gaussian.
    rmse = {
        model: K.cross_validate(xy, z, K.fit_variogram(ev, model), neighbours=16).rmse
        for model in ("exponential", "gaussian")
    }
    assert rmse["exponential"] < rmse["gaussian"]


# --- Meuse zinc against gstat -------------------------------------------------------------


@pytest.fixture(scope="module")
def meuse(sample_data):
    from osgeo import ogr

    source = ogr.Open(str(sample_data("nc-lc") / "meuse.shp"))
    layer = source.GetLayer()
    xy, z = [], []
    for feature in layer:
        geometry = feature.GetGeometryRef()
        xy.append((geometry.GetX(), geometry.GetY()))
        z.append(math.log(feature.GetField("zinc")))
    return np.array(xy), np.array(z)


@pytest.mark.data
def test_meuse_log_zinc_matches_gstat(meuse):
    xy, z = meuse
    ev = K.empirical_variogram(xy, z)
    # gstat: variogram(log(zinc)~1, meuse), first three lags (np, dist, gamma):
    # 57 79.29244 0.1234479; 299 163.97367 0.2162185; 419 267.36483 0.3027859
    np.testing.assert_array_equal(ev.pairs[:3], [57, 299, 419])
    np.testing.assert_allclose(ev.distance[:3], [79.29244, 163.97367, 267.36483], atol=1e-5)
    np.testing.assert_allclose(ev.gamma[:3], [0.1234479, 0.2162185, 0.3027859], atol=1e-7)
    assert len(ev.gamma) == 15
    # gstat vignette: fit.variogram(v, vgm(1, "Sph", 900, 1)) → nugget 0.0507, psill 0.5906,
    # range 897 (fit.method 7, weights N_h/h²).
    fitted = K.fit_variogram(ev, "spherical")
    assert fitted.nugget == pytest.approx(0.0507, abs=0.002)
    assert fitted.partial_sill == pytest.approx(0.5906, abs=0.005)
    assert fitted.range == pytest.approx(897.0, abs=5.0)
    # gstat krige.cv with that model, all points: RMSE 0.3918, r 0.8393; nmax = 20: ME 0.00634,
    # RMSE 0.3883, r 0.8422 (Rscript, gstat 2.1-0).
    cv = K.cross_validate(xy, z, fitted)
    assert cv.rmse == pytest.approx(0.3918, abs=2e-4)
    assert cv.correlation == pytest.approx(0.8393, abs=2e-4)
    cv = K.cross_validate(xy, z, fitted, neighbours=20)
    assert cv.mean_error == pytest.approx(0.00634, abs=1e-4)
    assert cv.rmse == pytest.approx(0.3883, abs=2e-4)


GSTAT_SCRIPT = """
suppressMessages({library(sp); library(gstat)})
data(meuse); coordinates(meuse) = ~x+y
v = variogram(log(zinc)~1, meuse)
for (m in c("Sph", "Exp", "Lin")) {
  f = fit.variogram(v, vgm(1, m, ifelse(m == "Lin", 0, 900), 1))
  cat(m, f$psill[1], f$psill[2], f$range[2], attr(f, "SSErr"), "\\n")
}
g = expand.grid(x = c(179000.5, 180200.5), y = c(330100.5, 332800.5)); coordinates(g) = ~x+y
k = krige(log(zinc)~1, meuse, g, fit.variogram(v, vgm(1, "Sph", 900, 1)), nmax = 16,
          debug.level = 0)
cat("krige", k$var1.pred, k$var1.var, "\\n")
"""


@pytest.mark.data
@pytest.mark.peer
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript (R) is not installed")
def test_meuse_against_gstat_itself(meuse):
    done = subprocess.run(["Rscript", "-e", GSTAT_SCRIPT], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"R package gstat unavailable (apt-get install r-cran-gstat): {done.stderr}")
    xy, z = meuse
    ev = K.empirical_variogram(xy, z)
    rows = {
        line.split()[0]: [float(v) for v in line.split()[1:]] for line in done.stdout.splitlines()
    }
    names = {"Sph": "spherical", "Exp": "exponential", "Lin": "linear"}
    for short, model in names.items():
        nugget, second, range_, sse = rows[short]
        fitted = K.fit_variogram(ev, model)
        # Our weighted SSE is no worse than gstat's, and the parameters agree.
        assert K.weighted_sse(ev, fitted, "npairs_over_h2") <= sse * (1 + 1e-4)
        assert fitted.nugget == pytest.approx(nugget, abs=1e-3)
        if model == "linear":
            assert fitted.slope == pytest.approx(second, rel=1e-3)
        else:
            assert fitted.partial_sill == pytest.approx(second, rel=2e-3)
            assert fitted.range == pytest.approx(range_, rel=2e-3)
    # Prediction and variance with 16 neighbours at four locations.
    values = rows["krige"]
    g = np.array([[x, y] for y in (330100.5, 332800.5) for x in (179000.5, 180200.5)])
    estimate, variance = K.predict(xy, z, K.fit_variogram(ev, "spherical"), g, neighbours=16)
    np.testing.assert_allclose(estimate, values[:4], atol=2e-3)
    np.testing.assert_allclose(variance, values[4:], atol=2e-3)


# --- universal kriging (linear drift) -------------------------------------------------------


def test_universal_square_by_hand():
    # Corners (0,0), (10,0), (0,10), (10,10), target (5, 0), γ(h) = h. The drift constraints
    # Σλ = 1, Σλx = 5, Σλy = 0 give λ3 = −λ4 and λ1 + λ2 = 1 (one free weight); the mirror
    # x → 10 − x swaps 1↔2 and 3↔4, so the convex kriging variance is least at λ1 = λ2 = ½,
    # λ3 = λ4 = 0: ẑ = (1 + 3)/2 = 2 and σ² = 2Σλγ0 − λᵀΓλ = 2·(½·5 + ½·5) − 2·¼·10 = 5.
    # Ordinary kriging also uses the top corners (10 and 20): it gives more than 2.
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    z = np.array([1.0, 3.0, 10.0, 20.0])
    model = K.Variogram("linear", 0.0, slope=1.0)
    estimate, variance = K.predict(xy, z, model, [[5.0, 0.0]], drift="linear")
    assert estimate[0] == pytest.approx(2.0, abs=1e-12)
    assert variance[0] == pytest.approx(5.0, abs=1e-12)
    ordinary, _ = K.predict(xy, z, model, [[5.0, 0.0]])
    assert ordinary[0] > 2.5
    # UTM-sized coordinates: the same (the drift's coordinates are centred and scaled).
    shift = np.array([500000.0, 5600000.0])
    again = K.predict(xy + shift, z, model, [[500005.0, 5600000.0]], drift="linear")
    assert again[0][0] == pytest.approx(2.0, abs=1e-9)
    assert again[1][0] == pytest.approx(5.0, abs=1e-9)


@pytest.mark.parametrize("neighbours", [None, 8])
def test_universal_reproduces_a_plane_ordinary_does_not(neighbours):
    # z = 5 + 0.01·x − 0.02·y exactly, a spherical variogram without nugget (range 30): the
    # universal weights satisfy Σλ = 1, Σλx = x0, Σλy = y0, so ẑ = 5 + 0.01·x0 − 0.02·y0 at
    # any x0, inside or far outside the data (the plane is 2.0 at (300, 300) and 9.5 at
    # (−50, −250)). Far beyond the range ordinary kriging tends to the (weighted) mean of the
    # data, about 5 + 0.5 − 1 = 4.5, not to the plane.
    rng = np.random.default_rng(17)
    xy = rng.uniform(0, 100, (60, 2))
    shift = np.array([500000.0, 5600000.0])
    z = 5 + 0.01 * xy[:, 0] - 0.02 * xy[:, 1]
    targets = np.vstack([rng.uniform(0, 100, (200, 2)), [[300.0, 300.0], [-50.0, -250.0]]])
    plane = 5 + 0.01 * targets[:, 0] - 0.02 * targets[:, 1]
    model = K.Variogram("spherical", 0.0, 1.0, 30.0)
    estimate, variance = K.predict(xy + shift, z, model, targets + shift, neighbours=neighbours,
                                   drift="linear")  # fmt: skip
    np.testing.assert_allclose(estimate, plane, atol=1e-9)
    np.testing.assert_allclose(estimate[-2:], [2.0, 9.5], atol=1e-9)
    assert (variance > 0).all()
    ordinary, _ = K.predict(xy + shift, z, model, targets + shift, neighbours=neighbours)
    assert abs(ordinary[-2] - 2.0) > 1.5 and abs(ordinary[-1] - 9.5) > 3
    assert ordinary[-2] == pytest.approx(np.mean(z), abs=0.5)
    # The leave-one-out predictions of a plane are exact too; the residuals of its
    # least-squares fit are zero and its coefficients come back.
    cv = K.cross_validate(xy + shift, z, model, neighbours=neighbours, drift="linear")
    np.testing.assert_allclose(cv.predicted, z, atol=1e-9)
    residuals, (a, b, c) = K.drift_residuals(xy, z)
    np.testing.assert_allclose(residuals, 0.0, atol=1e-12)
    assert (a, b, c) == pytest.approx((5.0, 0.01, -0.02), abs=1e-12)


def test_drift_residuals_by_hand():
    # A 3 × 3 grid x, y ∈ {0, 1, 2}: z = 1 + 2x + 3y + e with e = +1 at the four corners, −4 at
    # the centre and 0 elsewhere: Σe = 0, Σe·x = (1·0 + 1·2 + 1·0 + 1·2) − 4·1 = 0, and Σe·y = 0
    # likewise, so e is orthogonal to 1, x, y: the least-squares plane is 1 + 2x + 3y exactly
    # and the residuals are e (also with the grid moved to UTM-sized coordinates).
    gx, gy = np.meshgrid([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    e = np.array([1.0, 0, 1, 0, -4, 0, 1, 0, 1])
    z = 1 + 2 * xy[:, 0] + 3 * xy[:, 1] + e
    residuals, (a, b, c) = K.drift_residuals(xy, z)
    np.testing.assert_allclose(residuals, e, atol=1e-12)
    assert (a, b, c) == pytest.approx((1.0, 2.0, 3.0), abs=1e-12)
    residuals, (a, b, c) = K.drift_residuals(xy + [500000.0, 5600000.0], z)
    np.testing.assert_allclose(residuals, e, atol=1e-8)
    # a = 1 − 2·500000 − 3·5600000 = −17799999
    assert (b, c) == pytest.approx((2.0, 3.0), abs=1e-9)
    assert a == pytest.approx(1 - 2 * 500000 - 3 * 5600000, abs=1e-3)
    # Ordinary kriging's "drift" is the mean.
    residuals, (mean,) = K.drift_residuals(xy, z, "constant")
    assert mean == pytest.approx(np.mean(z)) and residuals == pytest.approx(z - np.mean(z))


def brute_force_universal(xy, z, model, targets, k):
    """Solve each target's own universal system with its k nearest points, the drift in
    coordinates relative to the target (another affine frame than the module's)."""
    out, var = [], []
    for target in targets:
        nearest = np.argsort(np.hypot(*(xy - target).T))[:k]
        pts = xy[nearest] - target
        a = np.zeros((k + 3, k + 3))
        a[:k, :k] = model(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)))
        f = np.column_stack([np.ones(k), pts])
        a[:k, k:], a[k:, :k] = f, f.T
        b = np.concatenate([model(np.hypot(*pts.T)), [1.0, 0.0, 0.0]])
        solution = np.linalg.solve(a, b)
        out.append(solution[:k] @ z[nearest])
        var.append(solution @ b)
    return np.array(out), np.array(var)


@pytest.mark.parametrize("model", ["spherical", "exponential", "linear"])
def test_universal_neighbourhood_sharing_equals_per_target_solves(model):
    rng = np.random.default_rng(5)
    xy, z = rng.uniform(0, 100, (60, 2)), rng.normal(size=60)
    gx, gy = np.meshgrid(np.linspace(-20, 120, 25), np.linspace(-20, 120, 20))
    targets = np.column_stack([gx.ravel(), gy.ravel()])
    variogram = (
        K.Variogram("linear", 0.1, slope=0.02)
        if model == "linear"
        else K.Variogram(model, 0.1, 1.0, 30.0)
    )
    expected = brute_force_universal(xy, z, variogram, targets, 8)
    # A small memory budget forces many chunks and set batches.
    estimate, variance = K.predict(xy, z, variogram, targets, neighbours=8, memory_mb=0.05,
                                   drift="linear")  # fmt: skip
    np.testing.assert_allclose(estimate, expected[0], atol=1e-8)
    np.testing.assert_allclose(variance, expected[1], atol=1e-8)
    estimate, variance = K.predict(xy, z, variogram, targets[:50], drift="linear")
    expected = brute_force_universal(xy, z, variogram, targets[:50], 60)
    np.testing.assert_allclose(estimate, expected[0], atol=1e-7)
    np.testing.assert_allclose(variance, expected[1], atol=1e-7)


@pytest.mark.parametrize("neighbours", [None, 10])
def test_universal_leave_one_out_equals_refitting_without_the_point(neighbours):
    # Dubrule's closed form (all points) and the neighbourhood route, against predicting each
    # point from the other 49.
    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 100, (50, 2))
    z = 0.05 * xy[:, 0] + rng.normal(size=50)
    model = K.Variogram("exponential", 0.05, 1.0, 20.0)
    cv = K.cross_validate(xy, z, model, neighbours=neighbours, drift="linear")
    for i in range(50):
        others = np.arange(50) != i
        estimate, variance = K.predict(xy[others], z[others], model, xy[i : i + 1],
                                       neighbours=neighbours, drift="linear")  # fmt: skip
        assert cv.predicted[i] == pytest.approx(estimate[0], abs=1e-9)
        assert cv.variance[i] == pytest.approx(variance[0], abs=1e-9)


def test_universal_exact_at_data_points_and_memory_figure():
    rng = np.random.default_rng(11)
    xy, z = rng.uniform(0, 100, (40, 2)), rng.normal(size=40)
    model = K.Variogram("spherical", 0.2, 1.0, 40.0)
    for neighbours in (None, 6):
        estimate, variance = K.predict(xy, z, model, xy, neighbours=neighbours, drift="linear")
        np.testing.assert_allclose(estimate, z, atol=1e-9)
        np.testing.assert_allclose(variance, 0.0, atol=1e-9)
    # (n + 3)² for the three drift terms: 7·8·12003² B = 7,694.6 MB at 12,000 points.
    assert K.unique_system_mb(12000, "linear") == pytest.approx(7 * 8 * 12003**2 / 2**20)


def test_universal_refuses_points_on_a_line_and_too_few_neighbours():
    # Points along y = 2x: b and c of the drift are not separable; a neighbourhood of such
    # points anywhere, and fewer than 4 points per estimate, are refused.
    t = np.linspace(0, 100, 30)
    line = np.column_stack([t, 2 * t])
    model = K.Variogram("spherical", 0.0, 1.0, 50.0)
    with pytest.raises(ValueError, match="one line"):
        K.predict(line, t, model, [[10.0, 0.0]], drift="linear")
    with pytest.raises(ValueError, match="one line"):
        K.drift_residuals(line, t)
    with pytest.raises(ValueError, match="one line"):
        K.cross_validate(line, t, model, drift="linear")
    # Two clusters: a square on the left, a line on the right; 5-point neighbourhoods on the
    # right lie on the line.
    square = np.array([[-50.0, -50], [-40, -50], [-50, -40], [-40, -40], [-45, -45]])
    points = np.vstack([square, line])
    values = np.arange(len(points), dtype=float)
    K.predict(points, values, model, [[-45.0, -44.0]], neighbours=5, drift="linear")
    with pytest.raises(ValueError, match="5 nearest points"):
        K.predict(points, values, model, [[60.0, 121.0]], neighbours=5, drift="linear")
    with pytest.raises(ValueError, match="at least 4"):
        K.predict(points, values, model, [[0.0, 0.0]], neighbours=3, drift="linear")
    with pytest.raises(ValueError, match="at least 4"):
        K.cross_validate(points, values, model, neighbours=3, drift="linear")
    with pytest.raises(ValueError, match="unknown drift"):
        K.predict(points, values, model, [[0.0, 0.0]], drift="quadratic")


# gstat 2.1-0 (Rscript): variogram(log(zinc) ~ x + y, meuse) (the OLS residuals' variogram),
# first three lags np 57 299 419, dist 79.29244 163.9737 267.3648, gamma 0.1060834 0.1829983
# 0.2264256; fit.variogram(v, vgm(1, "Sph", 900, 1)) → nugget 0.08232946, psill 0.3886366,
# range 1098.335. With the fixed model vgm(0.4, "Sph", 700, 0.1) (nugget 0.1, partial sill
# 0.4, range 700), krige(log(zinc) ~ x + y, meuse, g, m) at x ∈ (179000.5, 180200.5,
# 181500.5) × y ∈ (330100.5, 332800.5), x fastest:
MEUSE_UK_TARGETS = [(x, y) for y in (330100.5, 332800.5) for x in (179000.5, 180200.5, 181500.5)]
MEUSE_UK_ALL = (
    [5.599379, 6.103176, 4.00037, 7.50416, 6.93498, 5.335042],
    [0.2007458, 0.4394605, 0.8938274, 0.7547642, 0.478779, 0.4119265],
)
MEUSE_UK_NMAX16 = (
    [5.576778, 6.681936, 6.142128, 13.86479, 8.31038, 5.122454],
    [0.2021497, 0.4772172, 2.227635, 5.445396, 0.9176954, 0.629827],
)
# krige.cv(log(zinc) ~ x + y, meuse, m): ME, RMSE, r, MSDR, then the first three predictions
# and variances; with nmax = 20 likewise.
MEUSE_UK_CV = [0.008397452, 0.4064766, 0.8258607, 0.6722065, 6.710816, 6.716823, 6.288801,
               0.2364697, 0.2288395, 0.2293845]  # fmt: skip
MEUSE_UK_CV20 = [-0.01923952, 0.3931324, 0.8382148, 0.6167529, 6.912714, 6.860099, 6.309255,
                 0.2602744, 0.2361934, 0.2314654]  # fmt: skip


def cv_figures(cv):
    return [cv.mean_error, cv.rmse, cv.correlation, cv.msdr, *cv.predicted[:3], *cv.variance[:3]]


@pytest.mark.data
def test_meuse_universal_kriging_matches_gstat(meuse):
    xy, z = meuse
    residuals, _ = K.drift_residuals(xy, z)
    ev = K.empirical_variogram(xy, residuals)
    np.testing.assert_array_equal(ev.pairs[:3], [57, 299, 419])
    np.testing.assert_allclose(ev.distance[:3], [79.29244, 163.9737, 267.3648], atol=1e-4)
    np.testing.assert_allclose(ev.gamma[:3], [0.1060834, 0.1829983, 0.2264256], atol=1e-7)
    fitted = K.fit_variogram(ev, "spherical")
    assert fitted.nugget == pytest.approx(0.08232946, abs=1e-4)
    assert fitted.partial_sill == pytest.approx(0.3886366, rel=1e-3)
    assert fitted.range == pytest.approx(1098.335, rel=1e-3)
    model = K.Variogram("spherical", 0.1, 0.4, 700.0)
    for neighbours, expected in ((None, MEUSE_UK_ALL), (16, MEUSE_UK_NMAX16)):
        estimate, variance = K.predict(xy, z, model, MEUSE_UK_TARGETS, neighbours=neighbours,
                                       drift="linear")  # fmt: skip
        np.testing.assert_allclose(estimate, expected[0], atol=2e-6)
        np.testing.assert_allclose(variance, expected[1], atol=2e-6)
    # Beyond the samples the local drift runs away: (179000.5, 332800.5), 13.86 with 16
    # neighbours, lies outside the samples' convex hull (within their bounding box), 938 m from
    # the nearest; ordinary kriging with the same 16 neighbours gives 6.56 there.
    from scipy.spatial import Delaunay

    assert np.hypot(*(xy - MEUSE_UK_TARGETS[3]).T).min() == pytest.approx(938.2, abs=0.1)
    assert Delaunay(xy).find_simplex(np.array([MEUSE_UK_TARGETS[3]]))[0] == -1
    ordinary, _ = K.predict(xy, z, model, MEUSE_UK_TARGETS[3:4], neighbours=16)
    assert ordinary[0] == pytest.approx(6.5627, abs=1e-4)
    for neighbours, expected in ((None, MEUSE_UK_CV), (20, MEUSE_UK_CV20)):
        cv = K.cross_validate(xy, z, model, neighbours=neighbours, drift="linear")
        np.testing.assert_allclose(cv_figures(cv), expected, atol=2e-6)


GSTAT_UK_SCRIPT = """
suppressMessages({library(sp); library(gstat)})
data(meuse); coordinates(meuse) = ~x+y
v = variogram(log(zinc)~x+y, meuse)
cat("ev", v$np, "\\n"); cat("dist", v$dist, "\\n"); cat("gamma", v$gamma, "\\n")
for (m in c("Sph", "Exp")) {
  f = fit.variogram(v, vgm(1, m, 900, 1))
  cat(m, f$psill[1], f$psill[2], f$range[2], attr(f, "SSErr"), "\\n")
}
f = fit.variogram(v, vgm(1, "Exp", 900, 1))
g = expand.grid(x = seq(178700.5, 181300.5, by = 650), y = seq(329800.5, 333500.5, by = 925))
coordinates(g) = ~x+y
k = krige(log(zinc)~x+y, meuse, g, f, debug.level = 0)
cat("all", k$var1.pred, "\\n"); cat("allvar", k$var1.var, "\\n")
k = krige(log(zinc)~x+y, meuse, g, f, nmax = 12, debug.level = 0)
cat("n12", k$var1.pred, "\\n"); cat("n12var", k$var1.var, "\\n")
cv = krige.cv(log(zinc)~x+y, meuse, f, nmax = 30, debug.level = 0)
cat("cv30", cv$var1.pred, "\\n"); cat("cv30var", cv$var1.var, "\\n")
"""


@pytest.mark.data
@pytest.mark.peer
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript (R) is not installed")
def test_meuse_universal_kriging_against_gstat_itself(meuse):
    # gstat's own fit of the residual variogram, then universal kriging with that model at 25
    # grid points (all points and nmax = 12) and its leave-one-out with nmax = 30.
    done = subprocess.run(["Rscript", "-e", GSTAT_UK_SCRIPT], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"R package gstat unavailable (apt-get install r-cran-gstat): {done.stderr}")
    rows = {
        line.split()[0]: np.array([float(v) for v in line.split()[1:]])
        for line in done.stdout.splitlines()
    }
    xy, z = meuse
    residuals, _ = K.drift_residuals(xy, z)
    ev = K.empirical_variogram(xy, residuals)
    np.testing.assert_array_equal(ev.pairs, rows["ev"])
    np.testing.assert_allclose(ev.distance, rows["dist"], rtol=1e-6)
    np.testing.assert_allclose(ev.gamma, rows["gamma"], rtol=1e-6)
    for short, model in (("Sph", "spherical"), ("Exp", "exponential")):
        nugget, partial, range_, sse = rows[short]
        fitted = K.fit_variogram(ev, model)
        assert K.weighted_sse(ev, fitted, "npairs_over_h2") <= sse * (1 + 1e-4)
        assert fitted.nugget == pytest.approx(nugget, abs=1e-3)
        assert fitted.partial_sill == pytest.approx(partial, rel=2e-3)
        assert fitted.range == pytest.approx(range_, rel=2e-3)
    nugget, partial, range_, _ = rows["Exp"]
    model = K.Variogram("exponential", nugget, partial, range_)
    g = np.array(
        [[x, y] for y in np.arange(329800.5, 333501, 925) for x in np.arange(178700.5, 181301, 650)]
    )
    for neighbours, name in ((None, "all"), (12, "n12")):
        estimate, variance = K.predict(xy, z, model, g, neighbours=neighbours, drift="linear")
        np.testing.assert_allclose(estimate, rows[name], atol=1e-5)
        np.testing.assert_allclose(variance, rows[name + "var"], atol=1e-5)
    cv = K.cross_validate(xy, z, model, neighbours=30, drift="linear")
    np.testing.assert_allclose(cv.predicted, rows["cv30"], atol=1e-5)
    np.testing.assert_allclose(cv.variance, rows["cv30var"], atol=1e-5)

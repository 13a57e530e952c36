"""Property-based tests of core kernels not covered by test_properties.py: landscape diversity,
weights, RUSLE and CASA factors, local correlation, normalisation and the composite index.
NoData never becomes a value, outputs stay in their documented ranges, invariances hold."""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mine_eco_plugin.core import casa, drivers, evaluation_index, landscape, rusle
from mine_eco_plugin.core import evaluation_weights as weighting

SETTINGS = settings(max_examples=40, deadline=None)

NAN = st.just(np.nan)


def with_nodata(elements):
    return st.one_of(elements, NAN)


# --- landscape ---------------------------------------------------------------------------------


@SETTINGS
@given(
    arrays(np.float64, (9, 8), elements=with_nodata(st.sampled_from([1.0, 2.0, 3.0, 4.0]))),
    st.sampled_from([1, 3, 5]),
)
def test_window_shdi_bounded_by_ln_classes_and_nodata_kept(cover, window):
    metrics = landscape.window_metrics(cover, [1, 2, 3, 4], window, pixel_area_m2=900.0)
    nodata = np.isnan(cover)
    # A NoData centre is NoData in every metric; a valid centre has a value.
    for values in (metrics.shdi, metrics.shei, metrics.n_patches, metrics.fn):
        assert np.isnan(values[nodata]).all()
    assert np.isfinite(metrics.shdi[~nodata]).all()
    shdi = metrics.shdi[~nodata]
    # SHDI = −Σ p ln p lies in [0, ln(classes present in the window)] ≤ ln 4.
    assert (shdi >= -1e-12).all() and (shdi <= math.log(4) + 1e-9).all()
    richness = np.zeros_like(cover)
    half = window // 2
    padded = np.pad(cover, half, constant_values=np.nan)
    for r in range(cover.shape[0]):
        for c in range(cover.shape[1]):
            box = padded[r : r + window, c : c + window]
            richness[r, c] = len(np.unique(box[~np.isnan(box)]))
    bound = np.log(np.maximum(richness, 1))[~nodata]
    assert (shdi <= bound + 1e-9).all()
    shei = metrics.shei[~nodata]
    finite = shei[np.isfinite(shei)]
    assert ((finite >= -1e-9) & (finite <= 1 + 1e-9)).all()


@SETTINGS
@given(
    arrays(np.float64, (7, 7), elements=st.sampled_from([1.0, 2.0, 3.0])),
    st.permutations([1, 2, 3]),
)
def test_shdi_does_not_depend_on_class_labels(cover, relabel):
    mapping = dict(zip([1.0, 2.0, 3.0], map(float, relabel), strict=True))
    relabelled = np.vectorize(mapping.get)(cover)
    once = landscape.window_metrics(cover, [1, 2, 3], 3, want_patches=False).shdi
    again = landscape.window_metrics(relabelled, [1, 2, 3], 3, want_patches=False).shdi
    np.testing.assert_allclose(once, again, atol=1e-12)


@SETTINGS
@given(
    arrays(np.float64, (8, 8), elements=with_nodata(st.sampled_from([11.0, 12.0, 21.0]))),
    st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3),
)
def test_weighted_share_within_weight_range(cover, weights):
    table = dict(zip([11, 12, 21], weights, strict=True))
    mapped = landscape.weight_map(cover, table)
    nodata = np.isnan(cover)
    assert np.isnan(mapped[nodata]).all()
    assert np.isfinite(mapped[~nodata]).all()
    assert ((mapped[~nodata] >= min(weights)) & (mapped[~nodata] <= max(weights))).all()


# --- weights -----------------------------------------------------------------------------------

saaty = st.sampled_from([1 / 9, 1 / 7, 1 / 5, 1 / 3, 1.0, 3.0, 5.0, 7.0, 9.0])


@st.composite
def reciprocal_matrix(draw):
    n = draw(st.integers(2, 6))
    matrix = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            value = draw(saaty)
            matrix[i, j], matrix[j, i] = value, 1 / value
    return matrix


@SETTINGS
@given(reciprocal_matrix(), st.sampled_from(["geometric_mean", "eigenvector"]))
def test_ahp_weights_sum_to_one_and_lambda_at_least_n(matrix, method):
    result = weighting.ahp_weights(matrix, method=method)
    n = len(matrix)
    assert (result.weights > 0).all()
    assert math.isclose(result.weights.sum(), 1.0, rel_tol=1e-9)
    assert result.lambda_max >= n - 1e-9  # Saaty: λmax ≥ n, = n iff consistent
    assert result.ci >= -1e-12


@SETTINGS
@given(reciprocal_matrix(), st.data())
def test_ahp_weights_follow_a_permutation_of_criteria(matrix, data):
    order = np.array(data.draw(st.permutations(range(len(matrix)))))
    permuted = matrix[np.ix_(order, order)]
    once = weighting.ahp_weights(matrix).weights
    again = weighting.ahp_weights(permuted).weights
    np.testing.assert_allclose(again, once[order], rtol=1e-9)


@SETTINGS
@given(st.lists(st.floats(1e-3, 100.0), min_size=2, max_size=8), st.floats(0.01, 100.0))
def test_normalised_weights_sum_to_one_and_ignore_scale(weights, scale):
    once, total = weighting.normalised_weights(weights)
    scaled, _ = weighting.normalised_weights([w * scale for w in weights])
    assert math.isclose(once.sum(), 1.0, rel_tol=1e-12)
    assert math.isclose(total, sum(weights), rel_tol=1e-12)
    np.testing.assert_allclose(scaled, once, rtol=1e-9)


@SETTINGS
@given(
    st.lists(st.floats(1e-3, 10.0), min_size=2, max_size=6).flatmap(
        lambda a: st.tuples(
            st.just(a), st.lists(st.floats(1e-3, 10.0), min_size=len(a), max_size=len(a))
        )  # fmt: skip
    ),
    st.sampled_from(["mean", "alpha", "multiplicative"]),
    st.floats(0.0, 1.0),
)
def test_combined_weights_sum_to_one(pair, rule, alpha):
    subjective, objective = (np.asarray(w) / np.sum(w) for w in pair)
    combined = weighting.combine_weights(subjective, objective, rule, alpha)
    assert (combined >= 0).all()
    assert math.isclose(float(np.sum(combined)), 1.0, rel_tol=1e-9)


@SETTINGS
@given(st.lists(st.floats(1e-3, 50.0), min_size=2, max_size=8), st.floats(0.1, 10.0))
def test_mse_weights_sum_to_one_and_ignore_a_common_scale(std, scale):
    weights = weighting.mse_weights(std)
    assert math.isclose(weights.sum(), 1.0, rel_tol=1e-12)
    np.testing.assert_allclose(weighting.mse_weights([s * scale for s in std]), weights, rtol=1e-9)


# --- normalisation and composite index ---------------------------------------------------------


@SETTINGS
@given(
    arrays(np.float32, (4, 5), elements=with_nodata(st.floats(-100, 100, width=32))),
    st.floats(-50, 0),
    st.floats(1, 50),
    st.sampled_from([1, -1]),
)
def test_normalise_clipped_within_0_1_and_nodata_kept(values, low, width, trend):
    out = evaluation_index.normalise(values, low, low + width, trend, clip=True)
    assert np.array_equal(np.isnan(out), np.isnan(values))
    finite = out[~np.isnan(out)]
    assert ((finite >= 0) & (finite <= 1)).all()


@SETTINGS
@given(
    arrays(np.float32, (3, 4, 4), elements=with_nodata(st.floats(0, 10, width=32))),
    st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3),
    st.lists(st.sampled_from([1, -1]), min_size=3, max_size=3),
)
def test_composite_index_within_0_1_and_nodata_kept(blocks, weights, trends):
    weights = list(np.asarray(weights) / np.sum(weights))
    index = evaluation_index.composite_index(
        list(blocks), weights, [0.0] * 3, [10.0] * 3, trends, clip=True
    )
    assert np.array_equal(np.isnan(index), np.isnan(blocks).any(axis=0))
    finite = index[~np.isnan(index)]
    assert ((finite >= -1e-6) & (finite <= 1 + 1e-6)).all()


# --- local correlation -------------------------------------------------------------------------


@SETTINGS
@given(
    arrays(np.float64, (8, 9), elements=with_nodata(st.floats(-1e3, 1e3))),
    arrays(np.float64, (8, 9), elements=with_nodata(st.floats(-1e3, 1e3))),
    st.sampled_from([3, 5]),
)
def test_local_correlation_bounded_and_nodata_kept(x, y, window):
    result = drivers.local_correlation(x, y, window)
    nodata = np.isnan(x) | np.isnan(y)
    assert np.isnan(result.r[nodata]).all()
    assert (result.classes[nodata] == 0).all()
    finite = result.r[np.isfinite(result.r)]
    assert ((finite >= -1 - 1e-9) & (finite <= 1 + 1e-9)).all()
    p = result.p[np.isfinite(result.p)]
    assert ((p >= 0) & (p <= 1)).all()


@SETTINGS
@given(
    arrays(np.float64, (7, 7), elements=st.floats(-10, 10)),
    arrays(np.float64, (7, 7), elements=st.floats(-10, 10)),
    st.floats(0.5, 5.0),
    st.floats(-20, 20),
)
def test_local_correlation_ignores_affine_scaling(x, y, scale, shift):
    once = drivers.local_correlation(x, y, 3).r
    scaled = drivers.local_correlation(x * scale + shift, y, 3).r
    both = np.isfinite(once) & np.isfinite(scaled)
    # Near-constant windows are ill-conditioned; compare where the spread is clear.
    np.testing.assert_allclose(scaled[both], once[both], atol=1e-6)
    symmetric = drivers.local_correlation(y, x, 3).r
    np.testing.assert_allclose(symmetric, once, atol=1e-9, equal_nan=True)


# --- RUSLE -------------------------------------------------------------------------------------


@SETTINGS
@given(arrays(np.float64, (4, 4), elements=with_nodata(st.floats(0.0, 1.0))))
def test_cover_cai_within_0_1(fvc):
    c = rusle.cover_cai(fvc)
    assert np.array_equal(np.isnan(c), np.isnan(fvc))
    finite = c[~np.isnan(c)]
    assert ((finite >= 0) & (finite <= 1)).all()
    # More cover, less erosion: C does not increase with FVC.
    order = np.argsort(fvc[~np.isnan(fvc)], kind="stable")
    assert (np.diff(finite[order]) <= 1e-12).all()


@SETTINGS
@given(arrays(np.float64, (4, 4), elements=with_nodata(st.floats(-1.0, 1.0))))
def test_cover_van_der_knijff_within_0_1(ndvi):
    c = rusle.cover_van_der_knijff(ndvi)
    assert np.array_equal(np.isnan(c), np.isnan(ndvi))
    finite = c[~np.isnan(c)]
    assert ((finite >= 0) & (finite <= 1)).all()


@SETTINGS
@given(arrays(np.float64, (12, 2, 3), elements=with_nodata(st.floats(0.0, 500.0))))
def test_erosivity_non_negative_and_nodata_kept(monthly):
    for compute in (rusle.erosivity_wischmeier, rusle.erosivity_renard_freimund):
        r = compute(monthly)
        assert np.isnan(r[np.isnan(monthly).any(axis=0)]).all()
        finite = r[np.isfinite(r)]
        assert (finite >= 0).all()


@SETTINGS
@given(
    st.floats(5, 60),
    st.floats(5, 60),
    st.floats(0.0, 5.0),
    st.booleans(),
)
def test_erodibility_within_published_range(sand, silt, carbon, china):
    assume(sand + silt <= 95)
    clay = 100 - sand - silt
    k = rusle.erodibility_epic(
        np.array([sand]), np.array([silt]), np.array([clay]), np.array([carbon]), china=china
    )
    # SI K of mineral soils: 0 … ~0.08 t·ha·h·ha⁻¹·MJ⁻¹·mm⁻¹ (EPIC's factors keep it below).
    assert 0 <= float(k[0]) <= 0.1


@SETTINGS
@given(
    *[
        arrays(np.float64, (3, 3), elements=with_nodata(st.floats(0.0, high)))
        for high in (5000.0, 0.1, 20.0, 1.0, 1.0)
    ]
)
def test_soil_loss_non_negative_and_nodata_kept(r, k, ls, c, p):
    loss = rusle.soil_loss(r, k, ls, c, p)
    nodata = np.isnan(np.stack([r, k, ls, c, p])).any(axis=0)
    assert np.isnan(loss[nodata]).all()
    assert (loss[~nodata] >= 0).all()


# --- CASA --------------------------------------------------------------------------------------


@SETTINGS
@given(
    arrays(np.float64, (3, 3), elements=with_nodata(st.floats(-1.0, 1.0))),
    st.floats(0.5, 0.9),
)
def test_fpar_within_its_bounds(ndvi, ndvi_max):
    values = casa.fpar(ndvi, np.full(ndvi.shape, ndvi_max), np.full(ndvi.shape, 4.5))
    assert np.array_equal(np.isnan(values), np.isnan(ndvi))
    finite = values[~np.isnan(values)]
    assert ((finite >= casa.FPAR_MIN - 1e-9) & (finite <= casa.FPAR_MAX + 1e-9)).all()


@SETTINGS
@given(
    arrays(np.float64, (12, 2, 2), elements=st.floats(-15, 35)),
    arrays(np.float64, (12, 2, 2), elements=st.floats(0, 300)),
)
def test_water_stress_within_half_and_one(temperature, precipitation):
    e0 = casa.thornthwaite_pet(temperature)
    assert (e0[np.isfinite(e0)] >= 0).all()
    actual = casa.regional_evapotranspiration(precipitation, e0)
    stress = casa.water_stress(actual, e0)
    finite = stress[np.isfinite(stress)]
    assert ((finite >= 0.5 - 1e-9) & (finite <= 1 + 1e-9)).all()

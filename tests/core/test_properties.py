"""Property-based tests of the core kernels: NoData never becomes a value, outputs stay in their
documented ranges, and the invariances that hold do hold."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mine_eco_plugin.core import spectral, statistics, thermal, trend, windows

SETTINGS = settings(max_examples=60, deadline=None)

reflectance = st.floats(0.0, 1.0, width=32)
reflectance_or_nodata = st.one_of(reflectance, st.just(np.nan))


def block(elements, shape=(4, 5)):
    return arrays(np.float32, shape, elements=elements)


@SETTINGS
@given(block(reflectance_or_nodata), block(reflectance_or_nodata))
def test_ndvi_in_range_and_nodata_kept(red, nir):
    result = spectral.ndvi(red, nir)
    invalid = np.isnan(red) | np.isnan(nir)
    assert np.isnan(result[invalid]).all()
    finite = result[~np.isnan(result)]
    assert ((finite >= -1) & (finite <= 1)).all()
    # NoData appears only where an input is NoData or both bands are 0.
    assert np.array_equal(np.isnan(result), invalid | ((red + nir) == 0))


@SETTINGS
@given(
    block(st.one_of(st.floats(-1, 1, width=32), st.just(np.nan))),
    st.floats(-0.5, 0.3),
    st.floats(0.01, 1.0),
)
def test_fvc_within_0_1(index, soil, spread):
    cover = spectral.vegetation_cover(index, soil, soil + spread)
    assert np.array_equal(np.isnan(cover), np.isnan(index))
    finite = cover[~np.isnan(cover)]
    assert ((finite >= 0) & (finite <= 1)).all()


@SETTINGS
@given(
    arrays(np.float64, (6, 3, 3), elements=st.floats(0.0, 1.0)),
    st.floats(0.1, 10.0),
    st.sampled_from(list(spectral.TASSELED_CAP_SETS.values())),
)
def test_tasseled_cap_is_linear(stack, factor, coefficients):
    once = spectral.tasseled_cap(stack, coefficients).astype(np.float64)
    scaled = spectral.tasseled_cap(stack * factor, coefficients).astype(np.float64)
    np.testing.assert_allclose(scaled, once * factor, rtol=1e-5, atol=1e-6)


@SETTINGS
@given(block(reflectance_or_nodata, (5, 4, 4)))
def test_albedo_and_ndbsi_keep_nodata(bands):
    albedo = spectral.albedo_liang(*bands)
    assert np.isnan(albedo[np.isnan(bands).any(axis=0)]).all()
    dryness = spectral.ndbsi(*bands)
    assert np.isnan(dryness[np.isnan(bands).any(axis=0)]).all()
    finite = dryness[~np.isnan(dryness)]
    assert ((finite >= -1 - 1e-6) & (finite <= 1 + 1e-6)).all()


@SETTINGS
@given(
    block(st.one_of(st.floats(-1, 1, width=32), st.just(np.nan))),
    block(st.floats(0.0, 1.0, width=32)),
)
def test_emissivity_between_soil_and_vegetation(ndvi, red):
    emissivity = thermal.emissivity_from_ndvi(ndvi, red, soil_intercept=0.973, soil_slope=0.047)
    assert np.array_equal(np.isnan(emissivity), np.isnan(ndvi))
    finite = emissivity[~np.isnan(emissivity)]
    assert ((finite >= 0.973 - 0.047 - 1e-6) & (finite <= 0.99 + 1e-6)).all()


@SETTINGS
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=300),
    st.integers(1, 9),
    st.lists(st.floats(0, 100), min_size=1, max_size=5),
)
def test_streamed_percentiles_equal_numpy(values, pieces, percentiles):
    data = np.asarray(values, dtype=np.float64)
    blocks = np.array_split(data, pieces)
    got = statistics.exact_percentiles(
        statistics.stream_reduce(lambda: iter(blocks)), percentiles, bins=16, max_gathered=8
    )
    np.testing.assert_array_equal(got, np.percentile(data, percentiles))


def test_streamed_percentiles_of_values_a_subnormal_apart():
    # Found by the property above: values 5e-324 apart made bins / (hi − lo) infinite and
    # 0 · inf NaN (a RuntimeWarning, bins by chance). numpy's percentiles, exactly, warning-free.
    data = np.array([0.0, 5e-324, 5e-324, 0.0])
    with np.errstate(invalid="raise", over="raise", divide="raise"):
        got = statistics.exact_percentiles(
            statistics.stream_reduce(lambda: iter([data[:2], data[2:]])),
            [0, 50, 100],
            bins=16,
            max_gathered=1,
        )
    np.testing.assert_array_equal(got, np.percentile(data, [0, 50, 100]))


@SETTINGS
@given(
    arrays(np.float64, (7, 6), elements=st.one_of(st.floats(-10, 10), st.just(np.nan))),
    st.sampled_from([1, 3, 5]),
)
def test_box_sum_of_ones_counts_valid_pixels(values, size):
    counts = windows.box_count(~np.isnan(values), size)
    assert (counts >= 0).all() and (counts <= size * size).all()
    np.testing.assert_allclose(
        windows.box_sum(np.where(np.isnan(values), np.nan, 1.0), size), counts
    )


#: Values on a 0.001 grid: scaling keeps distinct values distinct (a subnormal such as 5e-324
#: halves to 0 and would change the order that Mann–Kendall's Z depends on).
GRID = st.integers(-1000, 1000).map(lambda k: k / 1000.0)


@SETTINGS
@given(arrays(np.float64, (5, 3), elements=GRID), st.floats(-5, 5), st.floats(0.1, 10))
def test_trend_invariances(series, shift, scale):
    years = [2000, 2005, 2010, 2016, 2020]
    slope, z, p, _ = trend.index_trend(series, years)
    shifted_slope, shifted_z, _, _ = trend.index_trend(series + shift, years)
    np.testing.assert_allclose(shifted_slope, slope, atol=1e-5)  # float32 outputs
    scaled_slope, scaled_z, _, _ = trend.index_trend(series * scale, years)
    np.testing.assert_allclose(scaled_slope, slope * scale, rtol=1e-5, atol=1e-6)
    # Z depends only on the order of values (a monotone transform keeps it); p within [0, 1].
    np.testing.assert_array_equal(scaled_z, z)
    assert ((p >= 0) & (p <= 1)).all()

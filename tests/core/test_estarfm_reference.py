"""ESTARFM: the fast kernel against a plain per-pixel reference, and its parts by hand.

``reference_estarfm`` below is the algorithm written the way the paper (Zhu et al. 2010) and
the authors' IDL code state it: one pixel at a time, one window at a time, with numpy's and
scipy's own routines (``np.corrcoef``, ``scipy.stats.linregress``) for the correlation and the
regression. It shares no code with ``mine_eco_plugin.core.estarfm``. The random test scenes
hold multiples of 1/1024 so that every similarity test |F(x_i) − F(x_c)| ≤ threshold is exact
in float32 and float64 alike (the thresholds are float32 numbers too).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from rasters import patchy_scene
from scipy import stats

from mine_eco_plugin.core import estarfm


def reference_estarfm(
    fine1,
    coarse1,
    fine2,
    coarse2,
    coarse_pred,
    *,
    half_window,
    thresholds,
    valid_min,
    valid_max,
    min_similar=6,
    min_change=0.0,
    alpha=0.05,
    v_max=5.0,
    pixels=None,
):
    """ESTARFM pixel by pixel; (bands, rows, cols) images in, the prediction out (NaN where
    not predicted). ``pixels``: (row, col) pairs to compute (default all)."""
    images = np.stack([fine1, coarse1, fine2, coarse2, coarse_pred]).astype(np.float64)
    f1, c1, f2, c2, c0 = images
    bands, rows, cols = f1.shape
    with np.errstate(invalid="ignore"):
        valid = ((images > valid_min) & (images < valid_max)).all(axis=(0, 1))
    w = half_window
    out = np.full((bands, rows, cols), np.nan)
    todo = pixels if pixels is not None else [(i, j) for i in range(rows) for j in range(cols)]
    for i, j in todo:
        if not valid[i, j]:
            continue
        top, bottom, left, right = (
            max(i - w, 0),
            min(i + w + 1, rows),
            max(j - w, 0),
            min(j + w + 1, cols),
        )

        box = (slice(top, bottom), slice(left, right))

        def window(image, band, box=box):
            return image[band][box]

        in_window = valid[top:bottom, left:right]
        # Eq. 13 on both dates and all bands; only valid pixels can be similar.
        similar = in_window.copy()
        for band in range(bands):
            similar &= np.abs(window(f1, band) - f1[band, i, j]) <= thresholds[0][band]
            similar &= np.abs(window(f2, band) - f2[band, i, j]) <= thresholds[1][band]
        n = int(similar.sum())
        # Eq. 18 with means over the window's valid pixels.
        change_m = np.array(
            [
                window(c0, b)[in_window].mean() - window(c1, b)[in_window].mean()
                for b in range(bands)
            ]
        )
        change_n = np.array(
            [
                window(c0, b)[in_window].mean() - window(c2, b)[in_window].mean()
                for b in range(bands)
            ]
        )
        if n < min_similar:
            # The code's fall-back: signed window changes, temporal weights from them.
            d_m, d_n = change_m + 1e-10, change_n + 1e-10
            t_m = (1 / abs(d_m)) / (1 / abs(d_m) + 1 / abs(d_n))
            out[:, i, j] = t_m * (f1[:, i, j] + d_m) + (1 - t_m) * (f2[:, i, j] + d_n)
            continue
        inverse_m, inverse_n = 1 / (abs(change_m) + 1e-10), 1 / (abs(change_n) + 1e-10)
        t_m, t_n = inverse_m / (inverse_m + inverse_n), inverse_n / (inverse_m + inverse_n)
        fine_vectors = np.array([[window(f, b)[similar] for f in (f1, f2) for b in range(bands)]])[
            0
        ]
        coarse_vectors = np.array(
            [[window(c, b)[similar] for c in (c1, c2) for b in range(bands)]]
        )[0]
        r = np.empty(n)
        for k in range(n):
            x, y = fine_vectors[:, k], coarse_vectors[:, k]
            if bands == 1:  # the authors' code for one band (Eq. 14 is degenerate)
                with np.errstate(invalid="ignore", divide="ignore"):
                    r[k] = 1 - 0.5 * (
                        abs((x[0] - y[0]) / (x[0] + y[0])) + abs((x[1] - y[1]) / (x[1] + y[1]))
                    )
            elif np.ptp(x) > 0 and np.ptp(y) > 0:
                r[k] = np.corrcoef(x, y)[0, 1]  # Eq. 14
            else:
                r[k] = np.nan
        r = np.clip(np.where(np.isnan(r), 0.5, r), -1, 1)
        ys, xs = np.nonzero(similar)
        distance = 1 + np.hypot(ys + top - i, xs + left - j) / w  # Eq. 15
        inverse = 1 / ((1 - r) * distance + 1e-7)  # Eq. 16
        weight = inverse / inverse.sum()  # Eq. 17
        for band in range(bands):
            x = np.concatenate([window(c1, band)[similar], window(c2, band)[similar]])
            y = np.concatenate([window(f1, band)[similar], window(f2, band)[similar]])
            v = 1.0
            coarse_change = abs(window(c1, band)[similar].sum() - window(c2, band)[similar].sum())
            if coarse_change >= min_change * n and np.ptp(x) > 0 and np.ptp(y) > 0:
                fit = stats.linregress(x, y)  # its t test is the F test of one slope
                if fit.pvalue <= alpha and 0 < fit.slope <= v_max:
                    v = fit.slope
            delta_m = window(c0, band)[similar] - window(c1, band)[similar]
            delta_n = window(c0, band)[similar] - window(c2, band)[similar]
            from_m = f1[band, i, j] + (weight * v * delta_m).sum()  # Eq. 12
            from_n = f2[band, i, j] + (weight * v * delta_n).sum()
            value = t_m[band] * from_m + t_n[band] * from_n  # Eq. 19
            if value <= valid_min or value >= valid_max:  # the code's revision
                value = (
                    t_m[band] * (weight * window(f1, band)[similar]).sum()
                    + t_n[band] * (weight * window(f2, band)[similar]).sum()
                )
            out[band, i, j] = value
    return out


def random_scene(seed, bands, rows=30, cols=34, bright=False):
    """Five images of patchy 'land cover' in four classes, values k/1024, a few NoData."""
    f1, c1, f2, c2, c0 = patchy_scene(np.random.default_rng(seed), bands, rows, cols)
    if bright:  # dark coarse images with a large change: many predictions exceed the range
        c1, c2 = np.round(c1 * 0.3), np.round(c2 * 0.3)
        c0 = c1 + 358
    images = [(a / 1024).astype(np.float32) for a in (f1, c1, f2, c2, c0)]
    images[0][0, 3, 4] = np.nan
    images[4][:, 10, 10] = np.nan
    images[2][-1, 20, 5] = -1.0  # out of the valid range: NoData in one band
    return images


def float32_thresholds(images, classes, valid_min, valid_max):
    sigma = [estarfm.sample_sigma(images[k], valid_min, valid_max) for k in (0, 2)]
    return estarfm.similarity_thresholds(sigma, classes).astype(np.float32).astype(np.float64)


CASES = [
    # (seed, bands, half window, threads, dense share, chunk)
    (0, 1, 5, 2, 0.0, 1024),
    (1, 1, 3, 1, 1.01, 4096),
    (2, 3, 5, 2, 0.0, 777),
    (3, 3, 4, 2, 1.01, 2048),
    (4, 2, 6, 1, estarfm.DENSE_SHARE, 32768),
]


@pytest.mark.parametrize(("seed", "bands", "half", "threads", "dense", "chunk"), CASES)
def test_fast_kernel_equals_the_per_pixel_reference(seed, bands, half, threads, dense, chunk):
    images = random_scene(seed, bands)
    valid_min, valid_max = 0.0, 1.2
    thresholds = float32_thresholds(images, 4, valid_min, valid_max)
    settings = estarfm.FusionSettings(
        half_window=half,
        valid_min=valid_min,
        valid_max=valid_max,
        min_change=0.0123,
        thresholds=thresholds,
        threads=threads,
        chunk=chunk,
        dense_share=dense,
    )
    counts = estarfm.FusionStats()
    fast = estarfm.fuse(*images, settings, stats=counts)
    expected = reference_estarfm(
        *images,
        half_window=half,
        thresholds=thresholds,
        valid_min=valid_min,
        valid_max=valid_max,
        min_change=0.0123,
    )
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(expected))
    np.testing.assert_allclose(fast, expected, atol=1e-6, equal_nan=True)
    # The scenes take every branch: fall-back, regression kept and refused.
    assert counts.few_similar > 0
    assert all(
        0 < used < tried
        for used, tried in zip(counts.regression_used, counts.regression_tried, strict=True)
    )
    # NoData anywhere in a pixel's stack (even one band out of range) gives NoData.
    assert np.isnan(fast[:, 3, 4]).all() and np.isnan(fast[:, 10, 10]).all()
    assert np.isnan(fast[:, 20, 5]).all()


@pytest.mark.parametrize(("seed", "bands", "half"), [(0, 1, 5), (2, 3, 5), (4, 2, 6)])
def test_regression_sums_from_gathered_windows_equal_the_reference(seed, bands, half):
    # defer_share > 1: every band takes its regression sums from the gathered windows of the
    # pixels that try the regression (the path of bands with few candidates), not from the
    # pass over the pairs.
    images = random_scene(seed, bands)
    thresholds = float32_thresholds(images, 4, 0.0, 1.2)
    common = {"half_window": half, "valid_min": 0.0, "valid_max": 1.2, "min_change": 0.0123}
    settings = estarfm.FusionSettings(**common, thresholds=thresholds, defer_share=1.01)
    fused_like_the_reference(images, settings, common)


def fused_like_the_reference(images, settings, common):
    """The fast kernel's prediction equals the reference's, and every band's regression is
    both kept and refused somewhere; returns the kernel's branch counts."""
    counts = estarfm.FusionStats()
    fast = estarfm.fuse(*images, settings, stats=counts)
    expected = reference_estarfm(*images, thresholds=settings.thresholds, **common)
    np.testing.assert_allclose(fast, expected, atol=1e-6, equal_nan=True)
    assert all(
        0 < used < tried
        for used, tried in zip(counts.regression_used, counts.regression_tried, strict=True)
    )
    return counts


def test_bands_split_between_pass_and_gathered_windows_equal_the_reference():
    # With MIN_CHANGE 0.1, 43.7 %, 44.7 % and 46.3 % of this scene's pixels try the regression
    # in its three bands (sampled: 41.8 %, 43.8 %, 45.3 %); with defer_share 0.43 the first
    # band takes its sums from gathered windows and the other two from the pass over the
    # pairs, in the same block.
    images = random_scene(3, 3)
    thresholds = float32_thresholds(images, 4, 0.0, 1.2)
    common = {"half_window": 4, "valid_min": 0.0, "valid_max": 1.2, "min_change": 0.1}
    settings = estarfm.FusionSettings(**common, thresholds=thresholds, defer_share=0.43)
    padded = [np.pad(a, ((0, 0), (4, 4), (4, 4)), constant_values=np.nan) for a in images]
    block = estarfm._Block(padded, settings)
    assert (block.sums.deferred, block.sums.dense_bands) == ([0], [1, 2])
    counts = fused_like_the_reference(images, settings, common)
    # The sampled estimate of the share that tries the regression is close to the share
    # counted over the whole block (512 of its 1,020 centres sampled, evenly spaced).
    estimates = block.sums.tried_shares(np.flatnonzero(block.grid.centre), [0, 1, 2])
    for band, estimate in estimates.items():
        assert abs(estimate - counts.regression_tried[band] / counts.predicted) < 0.1


@pytest.mark.parametrize(("bands", "dense"), [(1, 0.0), (2, 1.01), (2, 0.0)])
def test_revision_of_abnormal_predictions_equals_the_reference(bands, dense):
    images = random_scene(7, bands, bright=True)
    thresholds = float32_thresholds(images, 3, 0.0, 1.0)
    settings = estarfm.FusionSettings(
        half_window=4,
        valid_min=0.0,
        valid_max=1.0,
        min_change=0.0123,
        thresholds=thresholds,
        dense_share=dense,
        chunk=2048,
    )
    counts = estarfm.FusionStats()
    fast = estarfm.fuse(*images, settings, stats=counts)
    expected = reference_estarfm(
        *images,
        half_window=4,
        thresholds=thresholds,
        valid_min=0.0,
        valid_max=1.0,
        min_change=0.0123,
    )
    assert min(counts.revised) > 100
    np.testing.assert_allclose(fast, expected, atol=1e-6, equal_nan=True)


def test_thresholds_from_each_block_equal_whole_image_thresholds_for_one_block():
    images = random_scene(11, 2)
    settings = estarfm.FusionSettings(half_window=3, valid_min=0.0, valid_max=1.2)
    whole = estarfm.fuse(*images, settings)  # σ of each whole fine image
    padded = [np.pad(a, ((0, 0), (3, 3), (3, 3)), constant_values=np.nan) for a in images]
    per_block = estarfm.fuse_block(*padded, settings)  # σ of the block read
    np.testing.assert_array_equal(whole, per_block)


def test_threads_and_chunks_do_not_change_the_result():
    images = random_scene(5, 3, rows=41, cols=37)
    base = dict(half_window=6, valid_min=0.0, valid_max=1.2, min_change=0.0123)
    one = estarfm.fuse(*images, estarfm.FusionSettings(**base, threads=1, chunk=100_000))
    two = estarfm.fuse(*images, estarfm.FusionSettings(**base, threads=2, chunk=1500))
    np.testing.assert_allclose(one, two, atol=1e-6, equal_nan=True)


# --- the parts, by hand --------------------------------------------------------------------


def test_uniform_scene_adds_the_coarse_change():
    # Every pixel alike: all are similar, V = 1 (exact fit of slope 1), T = ½ each:
    # F_m = 0.2 + (0.35 − 0.25) = 0.3, F_n = 0.4 + (0.35 − 0.45) = 0.3.
    ones = np.ones((1, 9, 9), np.float32)
    out = estarfm.fuse(
        0.2 * ones,
        0.25 * ones,
        0.4 * ones,
        0.45 * ones,
        0.35 * ones,
        estarfm.FusionSettings(half_window=2, valid_min=0, valid_max=1, min_change=0),
    )
    np.testing.assert_allclose(out, 0.3, atol=1e-7)


def test_spectral_correlation_is_pearson_and_the_single_band_rule():
    rng = np.random.default_rng(3)
    f1, c1, f2, c2 = rng.random((4, 3, 5))
    r = estarfm.spectral_correlation(f1, c1, f2, c2)
    for k in range(5):
        fine = np.concatenate([f1[:, k], f2[:, k]])
        coarse = np.concatenate([c1[:, k], c2[:, k]])
        assert r[k] == pytest.approx(np.corrcoef(fine, coarse)[0, 1], abs=1e-12)
    # One band: 1 − ½(|0.2 − 0.25|/0.45 + |0.4 − 0.5|/0.9) = 1 − ½(1/9 + 1/9) = 8/9.
    one = estarfm.spectral_correlation(*(np.array([[v]]) for v in (0.2, 0.25, 0.4, 0.5)))
    assert one[0] == pytest.approx(8 / 9)
    # Constant fine vector: undefined → 0.5 (authors' code); 0/0 in the one-band rule too.
    flat = estarfm.spectral_correlation(
        np.ones((2, 1)), rng.random((2, 1)), np.ones((2, 1)), rng.random((2, 1))
    )
    assert flat[0] == 0.5
    zero = estarfm.spectral_correlation(*(np.zeros((1, 1)),) * 4)
    assert zero[0] == 0.5


def regression_sums(x, y):
    """Sample count and centred sums of squares and products, as the kernel passes them."""
    dx, dy = x - x.mean(), y - y.mean()
    return len(x), (dx * dx).sum(), (dx * dy).sum(), (dy * dy).sum()


def test_conversion_coefficient_uses_the_f_cdf_not_the_density():
    # A strong relation: F ≈ 600 with 1 and 10 degrees of freedom. Its p value (upper tail of
    # the F CDF) is ~1e-10, so V is the slope. The public-port bug, "sig = 1 − f.pdf(F)",
    # gives sig ≈ 1 here (the density is ~0) and would wrongly fall back to V = 1.
    x = np.array([0.10, 0.12, 0.15, 0.18, 0.20, 0.30, 0.32, 0.35, 0.38, 0.40, 0.25, 0.22])
    y = 0.8 * x + 0.01 + np.array([1, -1, 2, -2, 1, -1, 2, -2, 1, -1, 0, 0]) * 0.002
    fit = stats.linregress(x, y)
    v, used = estarfm.conversion_coefficient(*regression_sums(x, y), alpha=0.05, v_max=5)
    assert used and v == pytest.approx(fit.slope, rel=1e-10)
    f_value = fit.rvalue**2 / (1 - fit.rvalue**2) * (len(x) - 2)
    assert stats.f.sf(f_value, 1, len(x) - 2) == pytest.approx(fit.pvalue, rel=1e-6)
    assert 1 - stats.f.pdf(f_value, 1, len(x) - 2) > 0.05  # what the bug would test


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        # no relation: p ≈ 0.9 → V = 1
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.3, 0.1, 0.35, 0.12, 0.3, 0.15], 1.0),
        # negative slope → V = 1 (0 < V required)
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.6, 0.5, 0.4, 0.3, 0.2, 0.1], 1.0),
        # slope 6 > V_MAX = 5 → V = 1
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.6, 1.2, 1.8, 2.4, 3.0, 3.6], 1.0),
        # constant fine values: no test → V = 1
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.05] * 6, 1.0),
        # an exact fit is significant: V = 0.5
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.15, 0.2, 0.25, 0.3, 0.35, 0.4], 0.5),
    ],
)
def test_conversion_coefficient_bounds_and_fallbacks(x, y, expected):
    v, _ = estarfm.conversion_coefficient(
        *regression_sums(np.array(x), np.array(y)), alpha=0.05, v_max=5
    )
    assert v == pytest.approx(expected, abs=1e-12)


def test_temporal_weights_by_hand():
    # 1×3 pixels, w = 1: the middle window holds all three. C(t_p) − C(t_m) = 0.1 everywhere
    # and C(t_p) − C(t_n) = −0.3: T_m = (1/0.1)/(1/0.1 + 1/0.3) = 0.75.
    c0 = np.full((1, 1, 3), 0.5)
    t_m, t_n, d_m, d_n = estarfm.temporal_weights(c0, c0 - 0.1, c0 + 0.3, np.ones((1, 3), bool), 1)
    assert t_m[0, 0, 1] == pytest.approx(0.75) and t_n[0, 0, 1] == pytest.approx(0.25)
    assert d_m[0, 0, 1] == pytest.approx(0.1) and d_n[0, 0, 1] == pytest.approx(-0.3)


def test_thresholds_and_valid_range():
    # Eq. 13: σ·2/m; σ is the sample standard deviation (n − 1) of the valid values.
    values = np.array([[[1.0, 2.0, 3.0, 4.0, 0.0, np.nan]]])
    sigma = estarfm.sample_sigma(values, 0.0, 10.0)  # 0.0 is out of the open range
    assert sigma[0] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert estarfm.similarity_thresholds([[2.0]], 4)[0, 0] == 1.0
    assert estarfm.in_range(np.array([0.0, 0.5, 1.0, np.nan]), 0, 1).tolist() == [
        False,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"half_window": -1},
        {"classes": 0},
        {"valid_min": 1.0, "valid_max": 1.0},
        {"min_similar": 0},
        {"alpha": 1.5},
        {"v_max": 0},
        {"min_change": -1},
    ],
)
def test_bad_settings_are_errors(changes):
    with pytest.raises(ValueError):
        estarfm.FusionSettings(**changes)


def test_cancel_between_chunks_stops_the_block():
    images = random_scene(2, 1, rows=40, cols=40)
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("cancel")

    settings = estarfm.FusionSettings(half_window=3, valid_min=0, valid_max=1.2, chunk=1024)
    for threads in (1, 2):
        calls.clear()
        with pytest.raises(KeyboardInterrupt):
            estarfm.fuse(*images, dataclasses.replace(settings, threads=threads), check=check)
        assert len(calls) == 2


# --- the synthetic scenes of the paper's §4.1 ------------------------------------------------


def synthetic_scene(background, circle, line, size=153, block=17, radius=5):
    """§4.1: 153×153 fine pixels in [0, 1]; coarse pixels aggregate 17×17 fine ones (and are
    resampled back by repetition); a circle of radius 5 fine pixels (150 m) and a line of
    3 pixels width, each with its own reflectance at the three dates."""
    rows, cols = np.mgrid[0:size, 0:size]
    disk = (rows - 76) ** 2 + (cols - 59) ** 2 <= radius**2  # inside one coarse pixel
    stripe = np.abs(cols - 110) <= 1
    fine, coarse = [], []
    for date in range(3):
        image = np.full((size, size), background[date])
        image[stripe] = line[date]
        image[disk] = circle[date]
        fine.append(image[np.newaxis])
        means = image.reshape(size // block, block, size // block, block).mean(axis=(1, 3))
        coarse.append(np.kron(means, np.ones((block, block)))[np.newaxis])
    return fine, coarse, disk, stripe


def test_synthetic_small_objects_as_in_the_paper():
    # §4.1, Figs. 4 and 6: background 0.1 → 0.2 → 0.4, circle 0.05 and line 0.5 constant;
    # date 2 is predicted from dates 1 and 3. The paper reports a 0 % error for the circle.
    fine, coarse, disk, stripe = synthetic_scene((0.1, 0.2, 0.4), (0.05,) * 3, (0.5,) * 3)
    counts = estarfm.FusionStats()
    settings = estarfm.FusionSettings(valid_min=0.0, valid_max=1.0, min_change=0.02)
    out = estarfm.fuse(fine[0], coarse[0], fine[2], coarse[2], coarse[1], settings, stats=counts)
    np.testing.assert_allclose(out[0][disk], 0.05, atol=1e-6)
    np.testing.assert_allclose(out[0][stripe], 0.5, atol=1e-6)
    np.testing.assert_allclose(out[0], fine[1][0], atol=1e-6)
    assert counts.regression_tried == [153 * 153]  # the coarse change is large everywhere


def test_synthetic_small_objects_need_the_conversion_coefficient():
    # Every surface changes with the same time profile g = 0, ½, 1 but its own amplitude
    # (background 0.1 → 0.2 → 0.3, circle 0.05 → 0.06 → 0.07, line 0.5 → 0.55 → 0.6), and
    # date 3 is predicted from dates 1 and 2. V = (fine change)/(coarse change) is then exact
    # for the circle's and the line's similar pixels (Eq. 10), and needed: with V = 1 the
    # circle would take its mixed coarse pixel's change (0.07 + 0.086 = 0.156).
    fine, coarse, disk, stripe = synthetic_scene(
        (0.1, 0.2, 0.3), (0.05, 0.06, 0.07), (0.5, 0.55, 0.6)
    )
    settings = estarfm.FusionSettings(valid_min=0.0, valid_max=1.0, min_change=0.02)
    out = estarfm.fuse(fine[0], coarse[0], fine[1], coarse[1], coarse[2], settings)[0]
    np.testing.assert_allclose(out[disk], 0.07, atol=1e-6)
    np.testing.assert_allclose(out[stripe], 0.6, atol=1e-6)
    without = dataclasses.replace(settings, min_change=10.0)  # regression never tried: V = 1
    plain = estarfm.fuse(fine[0], coarse[0], fine[1], coarse[1], coarse[2], without)[0]
    assert abs(plain[disk].mean() - 0.07) / 0.07 > 1.0  # > 100 % error for the circle
    assert abs(plain[stripe].mean() - 0.6) > 0.05
    # One V per window (the code's reading of §3.4) also bends pure background pixels next to
    # mixed coarse pixels: their V mixes both. Documented, bounded here.
    background = ~disk & ~stripe
    assert np.abs(out[background] - 0.3).max() < 0.05

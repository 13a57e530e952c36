"""Landscape kernels: hand-built landscapes with known SHDI, patch counts and FN; window sums and
window patch counts against brute-force loops on random maps; zone labelling against
scipy.ndimage per zone."""

import math

import numpy as np
import pytest
from scipy import ndimage

from mine_eco_plugin.core import landscape

NAN = np.nan
EIGHT = np.ones((3, 3), dtype=bool)


def codes_of(values):
    return sorted({int(v) for v in values[~np.isnan(values)]})


def metrics(values, window, **options):
    values = np.asarray(values, dtype=float)
    return landscape.window_metrics(values, codes_of(values), window, **options)


# --- hand-built landscapes ---------------------------------------------------------------------


def test_checkerboard_shdi_and_patches_by_neighbour_rule():
    board = np.array([[1, 2, 1], [2, 1, 2], [1, 2, 1]], dtype=float)
    eight = metrics(board, 3, connectivity=8)
    four = metrics(board, 3, connectivity=4)
    # Five 1s and four 2s: SHDI = −(5/9·ln 5/9 + 4/9·ln 4/9) = 0.326548 + 0.360413 = 0.686962
    assert eight.shdi[1, 1] == pytest.approx(0.686962, abs=1e-6)
    # SHEI = 0.686962 / ln 2 = 0.991076
    assert eight.shei[1, 1] == pytest.approx(0.991076, abs=1e-6)
    # 8-neighbour rule: the 1s touch at corners (one patch), so do the 2s: NP = 2.
    # 4-neighbour rule: every pixel is its own patch: NP = 9.
    assert eight.n_patches[1, 1] == 2
    assert four.n_patches[1, 1] == 9
    # FN (Eq. 13) = (NP − 1)/NP: 1/2 and 8/9.
    assert eight.fn[1, 1] == pytest.approx(0.5)
    assert four.fn[1, 1] == pytest.approx(8 / 9)
    # A corner window holds (0,0), (0,1), (1,0), (1,1) = 1, 2, 2, 1: two patches (8) or 4 (4).
    assert eight.n_patches[0, 0] == 2 and four.n_patches[0, 0] == 4


def test_patch_with_a_hole_counts_once():
    # A 5×5 block of class 1 with a class-2 pixel in the middle: the class-1 patch has a hole.
    # The Euler characteristics alone give χ₁ + χ₂ = (1 − 1) + 1 = 1; the hole adds 1: NP = 2.
    ring = np.ones((5, 5))
    ring[2, 2] = 2
    for connectivity in (8, 4):
        result = metrics(ring, 5, connectivity=connectivity)
        assert result.n_patches[2, 2] == 2
        # The corner window (rows 0–2, cols 0–2) sees the 2 at its corner: still 2 patches.
        assert result.n_patches[0, 0] == 2
    # 24 pixels of class 1 and one of class 2: SHDI = −(24/25 ln 24/25 + 1/25 ln 1/25)
    # = 0.039188 + 0.128755 = 0.167944
    assert metrics(ring, 5).shdi[2, 2] == pytest.approx(0.167944, abs=1e-6)


def test_patch_cut_by_the_window_edge_counts_per_piece():
    # Class 1 is one U-shaped patch on the map; a window that cuts off the bottom of the U sees
    # two pieces of it.
    u_shape = np.array(
        [
            [1, 2, 2, 2, 1],
            [1, 2, 2, 2, 1],
            [1, 2, 2, 2, 1],
            [1, 1, 1, 1, 1],
        ],
        dtype=float,
    )
    result = metrics(u_shape, 5)
    # Centre (0, 2): window rows 0–2 (rows −2, −1 are beyond the map), columns 0–4:
    # class 1 in columns 0 and 4 (two pieces) + the class-2 block = 3 patches.
    assert result.n_patches[0, 2] == 3
    # Centre (2, 2): rows 0–3 hold the whole U: 2 patches.
    assert result.n_patches[2, 2] == 2
    # Landscape-form FN at (0, 2): (3 − 1)/15 valid pixels = 0.133333
    form = metrics(u_shape, 5, fn_form="landscape").fn
    assert form[0, 2] == pytest.approx(2 / 15)
    # … and with a minimum patch of 3 pixels, Nc = 15/3 = 5: (3 − 1)/5 = 0.4
    form3 = metrics(u_shape, 5, fn_form="landscape", min_patch_pixels=3).fn
    assert form3[0, 2] == pytest.approx(0.4)


def test_nodata_is_no_class_and_no_area():
    values = np.array([[1, 1, NAN], [2, NAN, 2], [1, 1, 1]])
    result = metrics(values, 3, pixel_area_m2=900.0)
    # Centre (1, 1) is NoData: every output is NoData there.
    assert np.isnan(result.shdi[1, 1]) and np.isnan(result.n_patches[1, 1])
    # Centre (0, 0): window rows 0–1, cols 0–1 holds 1, 1, 2, NoData: 3 valid pixels.
    # SHDI = −(2/3 ln 2/3 + 1/3 ln 1/3) = 0.270310 + 0.366204 = 0.636514; NP = 2.
    assert result.shdi[0, 0] == pytest.approx(0.636514, abs=1e-6)
    assert result.n_patches[0, 0] == 2
    # PD = 2 / (3 · 900 m²) · 10⁶ = 740.7407 patches per 100 ha.
    assert result.patch_density[0, 0] == pytest.approx(2 / 2700 * 1e6)
    assert result.total[0, 0] == 3


def test_single_class_window():
    result = metrics(np.full((3, 3), 4.0), 3)
    # One class, one patch: SHDI 0, SHEI 0 (FRAGSTATS), FN (Eq. 13) = 0/1 = 0.
    assert result.shdi[1, 1] == 0 and result.shei[1, 1] == 0
    assert result.n_patches[1, 1] == 1 and result.fn[1, 1] == 0


def test_fragmentation_and_density_by_hand():
    # Eq. 13 with NP = 4 patches on 100 pixels, a_min = 2 pixels: MPS = (100/4)/2 = 12.5,
    # Nc = 100/2 = 50, FN = 12.5·3/50 = 0.75 = (4 − 1)/4 whatever a_min is.
    assert landscape.fragmentation(np.array([4.0]), np.array([100.0]), min_patch_pixels=2)[
        0
    ] == pytest.approx(0.75)
    # Landscape form: (4 − 1)/50 = 0.06
    assert landscape.fragmentation(
        np.array([4.0]), np.array([100.0]), min_patch_pixels=2, form="landscape"
    )[0] == pytest.approx(0.06)
    # PD: 4 patches on 100 pixels of 30 m (9 ha): 4/90000 m² · 10⁶ = 44.444 per 100 ha.
    assert landscape.patch_density(4.0, 100.0, 900.0) == pytest.approx(44.4444, abs=1e-4)
    with pytest.raises(ValueError, match="form"):
        landscape.fragmentation(np.array([1.0]), np.array([1.0]), form="other")


# --- class-weighted shares --------------------------------------------------------------------


def test_weighted_share_by_hand():
    # HAI in a 3×3 window: built-up (51) weight 1, cropland (12) 0.2, forest (21) 0.
    values = np.array([[51, 12, 21], [21, 21, 12], [NAN, 51, 21]])
    weights = {51: 1.0, 12: 0.2, 21: 0.0}
    share = landscape.weighted_share(values, weights, 3)
    # Centre: 8 valid pixels, Σ w = 1 + 0.2 + 0 + 0 + 0 + 0.2 + 1 + 0 = 2.4 → 0.3
    assert share[1, 1] == pytest.approx(0.3)
    # Corner (0, 0): 51, 12, 21, 21 → (1 + 0.2)/4 = 0.3; (2, 0) is NoData.
    assert share[0, 0] == pytest.approx(0.3)
    assert np.isnan(share[2, 0])
    # BAI-like scale: A_bio · mean weight.
    scaled = landscape.weighted_share(values, weights, 3, scale=511.2642131067)
    assert scaled[1, 1] == pytest.approx(0.3 * 511.2642131067)


def test_weighted_share_of_a_one_class_window_is_exactly_its_weight():
    # Window sums of floats by summed-area tables leave residues like −2e−14 in windows of
    # weight 0; the integer class counts give exactly 0 and exactly 0.067.
    values = np.full((40, 40), 21.0)
    values[:, 20:] = 31.0
    values[0, 0] = 51.0
    share = landscape.weighted_share(values, {21: 0.0, 31: 0.067, 51: 1.0}, 5)
    assert share[30, 5] == 0.0
    assert share[30, 35] == 0.067
    # Corner window (0, 0): 51 and eight 21s: 1/9.
    assert share[0, 0] == 1 / 9


def test_weighted_share_equals_brute_force_loop():
    rng = np.random.default_rng(7)
    values = rng.integers(1, 5, (17, 23)).astype(float)
    values[rng.random(values.shape) < 0.2] = NAN
    weights = {1: 0.9, 2: 0.6, 3: 0.2, 4: 0.1}
    window, half = 5, 2
    share = landscape.weighted_share(values, weights, window)
    for y in range(values.shape[0]):
        for x in range(values.shape[1]):
            cell = values[max(0, y - half) : y + half + 1, max(0, x - half) : x + half + 1]
            valid = cell[~np.isnan(cell)]
            expected = np.mean([weights[int(v)] for v in valid]) if valid.size else NAN
            if np.isnan(values[y, x]):
                assert np.isnan(share[y, x])
            else:
                assert share[y, x] == pytest.approx(expected)


def test_unknown_codes_are_listed():
    values = np.array([[1.0, 5.0, 9.0, NAN]])
    with pytest.raises(landscape.UnknownCodes, match="5, 9"):
        landscape.weighted_share(values, {1: 1.0}, 3)
    with pytest.raises(landscape.UnknownCodes, match="2.5"):
        landscape.check_codes([1.0, 2.5])
    with pytest.raises(landscape.UnknownCodes) as caught:
        landscape.check_codes([1.0, 7.0, 8.0], known=[1, 2])
    assert caught.value.codes == [7.0, 8.0]
    assert str(caught.value) == "land-cover code(s) 7, 8 are not in the class table"


def test_codes_without_a_table_are_not_said_to_be_missing_from_one():
    # landscape_metrics has no class table: a fractional or infinite value is not a class code,
    # and the message says why instead of blaming a table.
    with pytest.raises(landscape.UnknownCodes) as caught:
        landscape.check_codes([1.0, 2.5, math.inf])
    assert str(caught.value) == (
        "land-cover value(s) inf are not finite (mask them as NoData); "
        "land-cover value(s) 2.5 are not whole-number class codes"
    )
    # With a table, each kind of value gets its own reason.
    with pytest.raises(landscape.UnknownCodes) as caught:
        landscape.check_codes([1.0, 2.5, 9.0], known=[1])
    assert str(caught.value) == (
        "land-cover value(s) 2.5 are not whole-number class codes; "
        "land-cover code(s) 9 are not in the class table"
    )


# --- brute force: window patch counts and SHDI --------------------------------------------------


def brute_window(values, window, connectivity):
    """NP and SHDI by labelling every window (scipy.ndimage.label per class)."""
    structure = EIGHT if connectivity == 8 else None
    half = window // 2
    rows, cols = values.shape
    patches = np.full(values.shape, NAN)
    shdi = np.full(values.shape, NAN)
    for y in range(rows):
        for x in range(cols):
            if np.isnan(values[y, x]):
                continue
            cell = values[max(0, y - half) : y + half + 1, max(0, x - half) : x + half + 1]
            classes, counts = np.unique(cell[~np.isnan(cell)], return_counts=True)
            patches[y, x] = sum(ndimage.label(cell == c, structure)[1] for c in classes)
            p = counts / counts.sum()
            shdi[y, x] = -(p * np.log(p)).sum()
    return patches, shdi


@pytest.mark.parametrize("connectivity", [8, 4])
def test_window_patch_counts_equal_brute_force_on_random_maps(connectivity):
    rng = np.random.default_rng(connectivity)
    for _ in range(25):
        rows, cols = rng.integers(4, 16, 2)
        classes = int(rng.integers(1, 5))
        values = rng.integers(1, classes + 1, (rows, cols)).astype(float)
        values[rng.random((rows, cols)) < 0.15] = NAN
        if np.isnan(values).all():
            continue
        window = int(rng.choice([1, 3, 5, 7, 9]))
        result = metrics(values, window, connectivity=connectivity)
        patches, shdi = brute_window(values, window, connectivity)
        np.testing.assert_array_equal(result.n_patches, patches)
        np.testing.assert_allclose(result.shdi, shdi, atol=1e-12)


def test_blocks_with_a_halo_give_the_same_counts():
    # The engine hands the kernel blocks grown by a halo (NaN beyond the raster) and crops it:
    # blocks of 7 rows must reproduce the whole-map result.
    rng = np.random.default_rng(3)
    smooth = ndimage.gaussian_filter(rng.standard_normal((4, 30, 26)), (0, 1.5, 1.5))
    values = np.argmax(smooth, axis=0).astype(float) + 1
    values[rng.random(values.shape) < 0.05] = NAN
    window, half = 7, 3
    whole = metrics(values, window)
    padded = np.pad(values, half, constant_values=NAN)
    codes = codes_of(values)
    for top in range(0, values.shape[0], 7):
        block = padded[top : top + 7 + 2 * half]
        part = landscape.window_metrics(block, codes, window, crop=half)
        height = part.n_patches.shape[0]
        np.testing.assert_array_equal(part.n_patches, whole.n_patches[top : top + height])
        np.testing.assert_allclose(part.shdi, whole.shdi[top : top + height])


# --- zones ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("connectivity", [8, 4])
def test_zone_patches_equal_labelling_per_zone(connectivity):
    structure = EIGHT if connectivity == 8 else None
    rng = np.random.default_rng(11 + connectivity)
    for trial in range(40):
        rows, cols = rng.integers(1, 14, 2)
        n_classes, n_zones = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        index = rng.integers(0, n_classes, (rows, cols))
        index[rng.random((rows, cols)) < 0.15] = -1
        zones = rng.integers(-1, n_zones, (rows, cols))
        keys = landscape.zone_keys(index, zones, n_classes)
        expected = np.zeros(n_zones, dtype=int)
        largest = np.zeros(n_zones, dtype=int)
        for key in np.unique(keys[keys >= 0]):
            labels, count = ndimage.label(keys == key, structure)
            expected[key // n_classes] += count
            sizes = np.bincount(labels.ravel())[1:]
            largest[key // n_classes] = max(largest[key // n_classes], sizes.max())
        counter = landscape.ZonePatches(n_zones, n_classes, connectivity)
        row = 0
        while row < rows:  # strips of 1–4 rows
            step = int(rng.integers(1, 5))
            counter.add(keys[row : row + step])
            row += step
        counter.finish()
        np.testing.assert_array_equal(counter.patches, expected, err_msg=f"trial {trial}")
        np.testing.assert_array_equal(counter.largest, largest, err_msg=f"trial {trial}")


def test_u_shape_across_strips_is_one_patch():
    # The U's arms reach the strip boundary separately; the bottom joins them two strips later.
    u_shape = np.array([[0, 1, 0], [0, 1, 0], [0, 0, 0]])
    counter = landscape.ZonePatches(1, 2, 8)
    for row in range(3):
        counter.add(u_shape[row : row + 1])
    counter.finish()
    # Class 0: one U of 7 pixels; class 1: one bar of 2.
    assert counter.patches.tolist() == [2]
    assert counter.largest.tolist() == [7]


def test_zone_metrics_by_hand():
    # One zone: 6 pixels of class A in 2 patches (largest 4), 2 pixels of class B in 1 patch.
    result = landscape.zone_metrics(
        np.array([[6, 2]]), np.array([3]), np.array([4]), pixel_area_m2=900.0
    )
    # SHDI = −(0.75 ln 0.75 + 0.25 ln 0.25) = 0.215762 + 0.346574 = 0.562335
    assert result.shdi[0] == pytest.approx(0.562335, abs=1e-6)
    assert result.shei[0] == pytest.approx(0.562335 / math.log(2), abs=1e-6)
    # LPI = 4/8 · 100 = 50 %; FN = 2/3; PD = 3 / 7200 m² · 10⁶ = 416.667
    assert result.largest_patch_index[0] == pytest.approx(50.0)
    assert result.fn[0] == pytest.approx(2 / 3)
    assert result.patch_density[0] == pytest.approx(416.6667, abs=1e-4)

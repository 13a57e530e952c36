"""VCI, TCI and VHI kernel against hand-computed values."""

import numpy as np
import pytest

from mine_eco_plugin.core import vhi

NAN = np.nan


def three_dates():
    # Pixels (0, 0), (0, 1), (1, 0) over three dates (first axis).
    ndvi = np.array(
        [
            [[0.2, 0.5, 0.3]],
            [[0.6, 0.5, NAN]],
            [[0.5, 0.5, 0.1]],
        ]
    )
    kelvin = np.array(
        [
            [[300.0, 310.0, 305.0]],
            [[290.0, 300.0, 305.0]],
            [[296.0, 305.0, 303.0]],
        ]
    )
    return ndvi, kelvin


def test_per_pixel_extremes_by_hand():
    vci, tci, index = vhi.condition_indices(*three_dates())
    # Pixel (0, 0): NDVI 0.2, 0.6, 0.5 → VCI 0, 1, (0.5 − 0.2)/0.4 = 0.75;
    # T 300, 290, 296 → TCI (300 − T)/10 = 0, 1, 0.4; VHI = (VCI + TCI)/2 = 0, 1, 0.575.
    np.testing.assert_allclose(vci[:, 0, 0], [0, 1, 0.75])
    np.testing.assert_allclose(tci[:, 0, 0], [0, 1, 0.4])
    np.testing.assert_allclose(index[:, 0, 0], [0, 1, 0.575])
    # Pixel (0, 1): NDVI constant → no VCI, no VHI; T 310, 300, 305 → TCI 0, 1, 0.5.
    assert np.isnan(vci[:, 0, 1]).all() and np.isnan(index[:, 0, 1]).all()
    np.testing.assert_allclose(tci[:, 0, 1], [0, 1, 0.5])
    # Pixel (0, 2): NDVI 0.3, NoData, 0.1 → VCI 1, NoData, 0 (extremes of the valid dates);
    # T 305, 305, 303 → TCI 0, 0, 1; VHI 0.5, NoData, 0.5.
    np.testing.assert_allclose(vci[:, 0, 2], [1, NAN, 0])
    np.testing.assert_allclose(tci[:, 0, 2], [0, 0, 1])
    np.testing.assert_allclose(index[:, 0, 2], [0.5, NAN, 0.5])


def test_alpha_and_scale():
    _, _, index = vhi.condition_indices(*three_dates(), alpha=0.3, scale=100.0)
    # Date 3 of pixel (0, 0): 100 · (0.3 · 0.75 + 0.7 · 0.4) = 100 · (0.225 + 0.28) = 50.5
    assert index[2, 0, 0] == pytest.approx(50.5)
    with pytest.raises(ValueError, match="alpha"):
        vhi.condition_indices(*three_dates(), alpha=1.5)


def test_scene_extremes_for_one_date():
    ndvi = np.array([[[0.2, 0.6, 0.4, NAN]]])
    kelvin = np.array([[[300.0, 290.0, 295.0, 299.0]]])
    scene = vhi.SceneExtremes(0.2, 0.6, 290.0, 300.0)
    vci, tci, index = vhi.condition_indices(ndvi, kelvin, scene=scene)
    # VCI = (NDVI − 0.2)/0.4 = 0, 1, 0.5; TCI = (300 − T)/10 = 0, 1, 0.5, 0.1.
    np.testing.assert_allclose(vci[0, 0], [0, 1, 0.5, NAN])
    np.testing.assert_allclose(tci[0, 0], [0, 1, 0.5, 0.1])
    np.testing.assert_allclose(index[0, 0], [0, 1, 0.5, NAN])

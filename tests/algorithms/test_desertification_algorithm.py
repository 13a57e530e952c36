"""desertification_index through processing.run: the hand-computed fit, mask, percentiles and the
non-negative-slope error."""

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

NAN = np.nan


@pytest.fixture
def scene(tmp_path):
    # Five fitted pixels: NDVI 0, .25, .5, .75, 1 and albedo .4, .35, .25, .2, .1
    # (A = (α − 0.1)/0.3 = 1, 5/6, 1/2, 1/3, 0); a masked "water" pixel (NDVI .9, albedo .9)
    # and a NoData pixel.
    ndvi = np.array([[0.0, 0.25, 0.5, 0.75], [1.0, 0.9, -9, 0.5]], dtype=np.float32)
    albedo = np.array([[0.4, 0.35, 0.25, 0.2], [0.1, 0.9, 0.3, -9]], dtype=np.float32)
    mask = np.array([[1, 1, 1, 1], [1, 0, 1, 1]], dtype=np.float32)
    return (
        write_raster(tmp_path / "ndvi.tif", ndvi, nodata=-9),
        write_raster(tmp_path / "albedo.tif", albedo, nodata=-9),
        write_raster(tmp_path / "mask.tif", mask),
    )


def test_fit_and_index_by_hand(run, scene, tmp_path):
    ndvi, albedo, mask = scene
    out = tmp_path / "ddi.tif"
    results = run(
        "desertification_index", {"NDVI": ndvi, "ALBEDO": albedo, "MASK": mask, "OUTPUT": str(out)}
    )
    # See tests/core/test_desertification_kernel.py: a = −1, b = 31/30, k = 1, r² = 0.986842.
    assert results["SLOPE"] == pytest.approx(-1.0, abs=1e-6)
    assert results["INTERCEPT"] == pytest.approx(31 / 30, abs=1e-6)
    assert results["K"] == pytest.approx(1.0, abs=1e-6)
    assert results["R2"] == pytest.approx(0.986842, abs=1e-5)
    assert results["PIXELS"] == 5
    assert (results["ALBEDO_LOW"], results["ALBEDO_HIGH"]) == pytest.approx((0.1, 0.4))
    values, dataset = read_raster(out)
    # DDI = N − A: −1, −7/12, 0, 5/12, 1; masked and NoData pixels are NoData.
    np.testing.assert_allclose(values[0, 0], [-1, -7 / 12, 0, 5 / 12], atol=1e-5)
    assert values[0, 1, 0] == pytest.approx(1.0, abs=1e-5)
    assert np.isnan(values[0, 1, 1:]).all()
    assert float(dataset.GetMetadataItem("SLOPE")) == pytest.approx(-1.0, abs=1e-6)
    # MASK_OUTPUT unchecked: the water pixel gets k·N − A with the same fit:
    # N = 0.9, A = (0.9 − 0.1)/0.3 = 2.666667 (min–max is not clipped): 0.9 − 2.666667.
    kept = tmp_path / "ddi_all.tif"
    run(
        "desertification_index",
        {"NDVI": ndvi, "ALBEDO": albedo, "MASK": mask, "MASK_OUTPUT": False, "OUTPUT": str(kept)},
    )
    assert read_raster(kept)[0][0, 1, 1] == pytest.approx(0.9 - 0.8 / 0.3, abs=1e-5)


def test_without_the_mask_water_breaks_the_relation(run, scene, tmp_path):
    ndvi, albedo, _ = scene
    # The bright, green "water" pixel (0.9, 0.9) now enters the fit: the slope turns positive.
    with pytest.raises(QgsProcessingException, match="expected albedo–NDVI relation"):
        run(
            "desertification_index",
            {"NDVI": ndvi, "ALBEDO": albedo, "OUTPUT": str(tmp_path / "x.tif")},
        )
    assert not (tmp_path / "x.tif").exists()


def test_percentile_normalisation(run, tmp_path):
    rng = np.random.default_rng(2)
    ndvi = rng.uniform(-0.1, 0.9, (40, 40)).astype(np.float32)
    albedo = (0.35 - 0.2 * ndvi + 0.02 * rng.standard_normal((40, 40))).astype(np.float32)
    n_path = write_raster(tmp_path / "n.tif", ndvi)
    a_path = write_raster(tmp_path / "a.tif", albedo)
    out = tmp_path / "ddi.tif"
    results = run(
        "desertification_index",
        {
            "NDVI": n_path,
            "ALBEDO": a_path,
            "NORMALISATION": 1,
            "LOW_PERCENTILE": 5,
            "HIGH_PERCENTILE": 95,
            "OUTPUT": str(out),
        },
    )
    # The 5th and 95th percentiles are numpy's (linear rule) on the float32 values.
    low, high = np.percentile(ndvi.astype(np.float64), [5, 95])
    assert (results["NDVI_LOW"], results["NDVI_HIGH"]) == pytest.approx((low, high), rel=1e-6)
    # Reference: the same normalisation, clip and least squares with numpy.
    n = np.clip((ndvi - low) / (high - low), 0, 1).ravel()
    a_low, a_high = np.percentile(albedo.astype(np.float64), [5, 95])
    a = np.clip((albedo - a_low) / (a_high - a_low), 0, 1).ravel()
    slope, intercept = np.polyfit(n, a, 1)
    assert results["SLOPE"] == pytest.approx(slope, rel=1e-5)
    assert results["INTERCEPT"] == pytest.approx(intercept, rel=1e-5)
    expected = (-1 / slope) * n - a
    np.testing.assert_allclose(read_raster(out)[0][0].ravel(), expected, atol=1e-4)
    assert gdal.Open(str(out)).GetMetadataItem("NORMALISATION") == "percentiles"


def test_constant_ndvi_is_an_error(run, tmp_path):
    n_path = write_raster(tmp_path / "n.tif", np.full((3, 3), 0.4, dtype=np.float32))
    a_path = write_raster(tmp_path / "a.tif", np.linspace(0, 1, 9).reshape(3, 3))
    with pytest.raises(QgsProcessingException, match="NDVI: constant"):
        run(
            "desertification_index",
            {"NDVI": n_path, "ALBEDO": a_path, "OUTPUT": str(tmp_path / "o.tif")},
        )


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("desertification_index", lambda d: bad_input.ddi(d))
INPUTS.desktop("desertification_index", lambda s: {"NDVI": s.ndvi, "ALBEDO": s.albedo})
INPUTS.case(
    "desertification_index",
    "constant-ndvi",
    lambda d: bad_input.ddi(d, NDVI=d.constant(0.4)),
    "NDVI",
)
INPUTS.case(
    "desertification_index",
    "far-albedo",
    lambda d: bad_input.ddi(d, ALBEDO=d.field(origin=bad_input.FAR)),
    "ALBEDO",
)
INPUTS.case(
    "desertification_index",
    "no-crs-ndvi",
    lambda d: bad_input.ddi(d, NDVI=d.field(epsg=None)),
    "NDVI",
)
INPUTS.case(
    "desertification_index",
    "all-nodata-albedo",
    lambda d: bad_input.ddi(d, ALBEDO=d.nodata()),
    ("ALBEDO", "NDVI"),
)
INPUTS.case(
    "desertification_index",
    "positive-slope",
    lambda d: (lambda n: bad_input.ddi(d, NDVI=n, ALBEDO=n))(d.field(0, 0.8)),
    ("NDVI", "ALBEDO"),
)
INPUTS.case(
    "desertification_index",
    "percentiles-swapped",
    lambda d: bad_input.ddi(d, NORMALISATION=1, LOW_PERCENTILE=90, HIGH_PERCENTILE=10),
    ("LOW_PERCENTILE", "HIGH_PERCENTILE"),
)
INPUTS.case(
    "desertification_index",
    "albedo-other-crs",
    lambda d: (lambda p: {**p, "ALBEDO": d.reprojected(p["ALBEDO"])})(bad_input.ddi(d)),
    check=bad_input.same_grid_as("NDVI"),
)

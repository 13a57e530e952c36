"""The spectral-index algorithms through processing.run: values, georeferencing, NoData."""

import bad_input
import declared
import numpy as np
import pytest
from qgis.core import QgsProcessingException
from rasters import STACK, read_raster, write_raster


@pytest.fixture
def stack(tmp_path):
    return write_raster(tmp_path / "stack.tif", STACK, nodata=-1)


def test_ndvi_values_georeferencing_and_nodata(run, stack, tmp_path):
    out = tmp_path / "ndvi.tif"
    run("ndvi", {"INPUT": stack, "OUTPUT": str(out)})
    values, dataset = read_raster(out)
    # (0.40 − 0.04)/(0.40 + 0.04) = 0.36/0.44 = 0.818182; (0.26 − 0.20)/0.46 = 0.130435;
    # (0.02 − 0.04)/0.06 = −0.333333; NoData, NoData (red missing), 0/0 → NoData.
    expected = np.array([[0.818182, 0.130435, -0.333333], [np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(values[0], expected, atol=1e-6)
    source = read_raster(stack)[1]
    assert dataset.GetGeoTransform() == source.GetGeoTransform()
    assert dataset.GetSpatialRef().IsSame(source.GetSpatialRef())
    assert dataset.GetRasterBand(1).GetNoDataValue() == -9999
    assert dataset.GetMetadataItem("MINEECO_ALGORITHM") == "ndvi"


def test_ndbsi_by_hand(run, stack, tmp_path):
    out = tmp_path / "ndbsi.tif"
    run("ndbsi", {"INPUT": stack, "OUTPUT": str(out)})
    values = read_raster(out)[0][0]
    # Bare-soil pixel: b 0.12, g 0.16, r 0.20, n 0.26, s1 0.32.
    # SI = (0.52 − 0.38)/(0.52 + 0.38) = 0.155556
    # IBI: 2·0.32/0.58 = 1.103448; 0.26/0.46 + 0.16/0.48 = 0.565217 + 0.333333 = 0.898551
    #      (1.103448 − 0.898551)/(1.103448 + 0.898551) = 0.204897/2.001999 = 0.102346
    # NDBSI = (0.155556 + 0.102346)/2 = 0.128951
    assert values[0, 1] == pytest.approx(0.128951, abs=1e-5)
    assert np.isnan(values[1, 0]) and np.isnan(values[1, 1])


def test_albedo_by_hand_with_and_without_normalisation(run, stack, tmp_path):
    # Vegetation pixel: 0.356·0.03 + 0.130·0.04 + 0.373·0.40 + 0.085·0.20 + 0.072·0.10 − 0.0018
    # = 0.01068 + 0.0052 + 0.1492 + 0.017 + 0.0072 − 0.0018 = 0.18748; /1.016 = 0.184528
    out = tmp_path / "albedo.tif"
    run("albedo", {"INPUT": stack, "OUTPUT": str(out)})
    assert read_raster(out)[0][0, 0, 0] == pytest.approx(0.184528, abs=1e-6)
    raw = tmp_path / "albedo_raw.tif"
    run("albedo", {"INPUT": stack, "NORMALISED": False, "OUTPUT": str(raw)})
    assert read_raster(raw)[0][0, 0, 0] == pytest.approx(0.18748, abs=1e-6)


@pytest.mark.parametrize(
    "key, expected",
    [
        # Crist (1985) TM reflectance factors, vegetation pixel (b .03 g .06 r .04 n .40 s1 .20
        # s2 .10): greenness = −0.1603·.03 − 0.2819·.06 − 0.4934·.04 + 0.7940·.40
        #   − 0.0002·.20 − 0.1446·.10 = −0.004809 − 0.016914 − 0.019736 + 0.3176 − 0.00004
        #   − 0.01446 = 0.261641; wetness = 0.0315·.03 + 0.2021·.06 + 0.3102·.04 + 0.1594·.40
        #   − 0.6806·.20 − 0.6109·.10 = 0.000945 + 0.012126 + 0.012408 + 0.06376 − 0.13612
        #   − 0.06109 = −0.107971
        ("tm_crist_1985", (None, 0.261641, -0.107971)),
        # Baig et al. (2014) OLI: brightness = 0.3029·.03 + 0.2786·.06 + 0.4733·.04
        #   + 0.5599·.40 + 0.508·.20 + 0.1872·.10 = 0.009087 + 0.016716 + 0.018932 + 0.22396
        #   + 0.1016 + 0.01872 = 0.389015
        ("oli_baig_2014", (0.389015, None, None)),
    ],
)
def test_tasseled_cap_coefficient_sets(run, stack, tmp_path, key, expected):
    from mine_eco_plugin.core.spectral import TASSELED_CAP_SETS

    out = tmp_path / f"tc_{key}.tif"
    run(
        "tasseled_cap",
        {"INPUT": stack, "COEFFICIENTS": list(TASSELED_CAP_SETS).index(key), "OUTPUT": str(out)},
    )
    values, dataset = read_raster(out)
    assert dataset.RasterCount == 3
    assert [dataset.GetRasterBand(i).GetDescription() for i in (1, 2, 3)] == [
        "brightness",
        "greenness",
        "wetness",
    ]
    for band, value in enumerate(expected):
        if value is not None:
            assert values[band, 0, 0] == pytest.approx(value, abs=1e-5)
    assert np.isnan(values[:, 1, 0]).all() and np.isnan(values[:, 1, 1]).all()
    assert dataset.GetMetadataItem("COEFFICIENTS") == key


def test_ndmvi_scene_minima_reported_and_used(run, stack, tmp_path):
    out = tmp_path / "ndmvi.tif"
    results = run("ndmvi", {"INPUT": stack, "OUTPUT": str(out)})
    # Valid red values 0.04, 0.20, 0.04, 0.0 → Rmin 0; NIR (red valid or not) minimum 0.0.
    assert results["RED_MIN"] == pytest.approx(0.0)
    assert results["NIR_MIN"] == pytest.approx(0.0)
    given = tmp_path / "ndmvi_given.tif"
    results = run("ndmvi", {"INPUT": stack, "RED_MIN": 0.02, "NIR_MIN": 0.01, "OUTPUT": str(given)})
    assert results["RED_MIN"] == 0.02 and results["NIR_MIN"] == 0.01
    # Vegetation pixel: [(0.40 − 0.04) + (0.02 − 0.01)] / [(0.40 + 0.04) − (0.03)]
    #   = 0.37/0.41 = 0.902439
    assert read_raster(given)[0][0, 0, 0] == pytest.approx(0.902439, abs=1e-6)


def test_fvc_percentiles_match_numpy_and_clip(run, tmp_path):
    rng = np.random.default_rng(7)
    index = rng.uniform(-0.2, 0.9, size=(60, 70)).astype(np.float32)
    index[5:9, 5:9] = np.nan
    path = write_raster(tmp_path / "ndvi.tif", np.nan_to_num(index, nan=-9999), nodata=-9999)
    out = tmp_path / "fvc.tif"
    results = run("fvc", {"INPUT": path, "OUTPUT": str(out)})
    valid = index[~np.isnan(index)].astype(np.float64)
    soil, veg = np.percentile(valid, [5, 95])  # the definition the help states
    assert results["SOIL_VALUE"] == pytest.approx(soil, abs=1e-7)
    assert results["VEG_VALUE"] == pytest.approx(veg, abs=1e-7)
    values = read_raster(out)[0][0]
    expected = np.clip((index - soil) / (veg - soil), 0, 1)
    np.testing.assert_allclose(values, expected, atol=1e-6)
    assert np.isnan(values[6, 6])
    assert np.nanmin(values) == 0 and np.nanmax(values) == 1


def test_fvc_constant_index_is_an_error(run, tmp_path):
    path = write_raster(tmp_path / "flat.tif", np.full((10, 10), 0.3, dtype=np.float32))
    with pytest.raises(QgsProcessingException, match="INPUT"):
        run("fvc", {"INPUT": path, "OUTPUT": str(tmp_path / "fvc.tif")})


@pytest.mark.parametrize("algorithm", ["ndvi", "ndmvi", "tasseled_cap", "albedo", "ndbsi"])
def test_stack_algorithms_reject_wrong_band_count(run, tmp_path, algorithm):
    path = write_raster(tmp_path / "four.tif", STACK[:4])
    with pytest.raises(QgsProcessingException, match=r"INPUT.*4 band\(s\); 6 expected"):
        run(algorithm, {"INPUT": path, "OUTPUT": str(tmp_path / "out.tif")})


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("albedo", lambda d: {"INPUT": d.stack()})
INPUTS.desktop("albedo", lambda s: {"INPUT": s.stack})
INPUTS.valid("ndbsi", lambda d: {"INPUT": d.stack()})
INPUTS.desktop("ndbsi", lambda s: {"INPUT": s.stack})
INPUTS.valid("ndmvi", lambda d: {"INPUT": d.stack()})
INPUTS.desktop("ndmvi", lambda s: {"INPUT": s.stack})
INPUTS.valid("ndvi", lambda d: {"INPUT": d.stack()})
INPUTS.desktop("ndvi", lambda s: {"INPUT": s.stack})
INPUTS.valid("tasseled_cap", lambda d: {"INPUT": d.stack()})
INPUTS.desktop("tasseled_cap", lambda s: {"INPUT": s.stack})
INPUTS.valid("fvc", lambda d: {"INPUT": d.field(-0.2, 0.9)})
INPUTS.desktop("fvc", lambda s: {"INPUT": s.ndvi})
# Spectral indices of the six-band stack.
for stack_index in ("ndvi", "ndbsi", "albedo", "tasseled_cap", "ndmvi"):
    INPUTS.case(stack_index, "no-crs", lambda d: {"INPUT": d.stack(epsg=None)}, "INPUT")
    INPUTS.case(stack_index, "three-bands", lambda d: {"INPUT": d.field(bands=3)}, "INPUT")
    INPUTS.case(stack_index, "seven-bands", lambda d: {"INPUT": d.field(bands=7)}, "INPUT")
    INPUTS.case(
        stack_index,
        "all-nodata",
        lambda d: {"INPUT": d.nodata(bands=6)},
        "INPUT",
        bad_input.all_nodata(),
    )
    INPUTS.case(
        stack_index,
        "reflectance-x10000",
        lambda d: {"INPUT": d.stack(scale=10000)},
        "INPUT",
    )
INPUTS.case("ndvi", "range", lambda d: {"INPUT": d.stack()}, check=bad_input.within(-1, 1))
INPUTS.case(
    "ndmvi",
    "minimum-above-data",
    lambda d: {"INPUT": d.stack(), "RED_MIN": 0.5, "NIR_MIN": 0.9},
    ("RED_MIN", "NIR_MIN"),
    bad_input.within(-np.inf, np.inf),
)

# FVC: one index band, percentiles or given end-members.
INPUTS.case("fvc", "no-crs", lambda d: {"INPUT": d.field(-0.2, 0.9, epsg=None)}, "INPUT")
INPUTS.case("fvc", "constant", lambda d: {"INPUT": d.constant(0.4)}, "INPUT")
INPUTS.case("fvc", "all-nodata", lambda d: {"INPUT": d.nodata()}, "INPUT")
INPUTS.case(
    "fvc", "band-missing", lambda d: {"INPUT": d.field(-0.2, 0.9), "BAND": 3}, ("BAND", "INPUT")
)
INPUTS.case(
    "fvc",
    "soil-above-vegetation",
    lambda d: {"INPUT": d.field(-0.2, 0.9), "SOIL_VALUE": 0.8, "VEG_VALUE": 0.2},
    ("SOIL_VALUE", "VEG_VALUE"),
)
INPUTS.case(
    "fvc",
    "ndvi-x10000",
    lambda d: {"INPUT": d.field(-2000, 9000)},
    "INPUT",
    bad_input.within(0, 1),
)
INPUTS.case("fvc", "range", lambda d: {"INPUT": d.field(-0.2, 0.9)}, check=bad_input.within(0, 1))

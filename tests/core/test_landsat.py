"""MTL parsing, scene description and DN conversions, on real USGS MTL files (tests/core/data)."""

import math
import pathlib

import numpy as np
import pytest

from mine_eco_plugin.core.landsat import (
    CANONICAL_BANDS,
    BandCalibration,
    MtlError,
    dn_to_radiance,
    parse_mtl,
    parse_mtl_file,
    scale_offset,
    scene_from_mtl,
    toa_reflectance,
)
from mine_eco_plugin.core.thermal import THERMAL_SENSORS

DATA = pathlib.Path(__file__).parent / "data"
SCENE_DIR = pathlib.Path("/scenes/here")
NAN = np.nan

L8_C1 = "LC08_L1TP_195025_20130707_20170503_01_T1"
L7_C1 = "LE07_L1TP_195025_20010730_20170204_01_T1"
L5_C1 = "LT05_L1TP_167055_20000309_20161214_01_T1"
L8_PRE = "LC80200392015216LGN00"
L7_PRE = "LE71950252001211EDC00"
L9_C2L2 = "LC09_L2SP_121041_20220815_20220817_02_T1"
L4_C1 = "LT04_L1TP_119038_19890512_20170201_01_T1"


# Kernels must not warn: every test turns warnings into errors (conftest.py).
pytestmark = pytest.mark.usefixtures("warnings_are_errors")


def mtl_text(name: str) -> str:
    return (DATA / name).read_text()


def scene_of(name: str, **options):
    return scene_from_mtl(parse_mtl_file(DATA / name), SCENE_DIR, **options)


def file_names(scene):
    return [band.path.name for band in scene.reflectance_bands]


# --- parse_mtl ---------------------------------------------------------------------------------


def test_parse_mtl_values_and_nesting():
    text = """GROUP = L1_METADATA_FILE
  GROUP = PRODUCT_METADATA
    SPACECRAFT_ID = "LANDSAT_8"
    WRS_ROW = 025
    DATE_ACQUIRED = 2013-07-07
    SCENE_CENTER_TIME = 10:04:52.9157671Z
    REFLECTANCE_MULT_BAND_4 = 2.0000E-05
    REFLECTANCE_ADD_BAND_4 = -0.100000
  END_GROUP = PRODUCT_METADATA
END_GROUP = L1_METADATA_FILE
END
"""
    group = parse_mtl(text)["L1_METADATA_FILE"]["PRODUCT_METADATA"]
    assert group["SPACECRAFT_ID"] == "LANDSAT_8"
    assert group["WRS_ROW"] == 25
    assert group["DATE_ACQUIRED"] == "2013-07-07"
    assert group["SCENE_CENTER_TIME"] == "10:04:52.9157671Z"
    assert group["REFLECTANCE_MULT_BAND_4"] == 2.0e-5
    assert group["REFLECTANCE_ADD_BAND_4"] == -0.1


def test_parse_mtl_ignores_nul_padding_and_text_after_end():
    text = 'GROUP = A\n  X = "y"\nEND_GROUP = A\nEND\n' + "\x00" * 100
    assert parse_mtl(text) == {"A": {"X": "y"}}


@pytest.mark.parametrize(
    "text",
    [
        "GROUP = A\n  X = 1\nEND_GROUP = B\nEND\n",  # closes the wrong group
        "GROUP = A\n  X = 1\n",  # never closed
        "GROUP = A\n  this is not an assignment\nEND_GROUP = A\n",
    ],
)
def test_parse_mtl_malformed(text):
    with pytest.raises(MtlError):
        parse_mtl(text)


def test_parse_mtl_file_groups_of_each_format():
    c1 = parse_mtl_file(DATA / f"{L8_C1}_MTL.txt")["L1_METADATA_FILE"]
    assert c1["RADIOMETRIC_RESCALING"]["RADIANCE_MULT_BAND_10"] == 3.342e-4
    assert c1["TIRS_THERMAL_CONSTANTS"]["K1_CONSTANT_BAND_10"] == 774.8853
    c2 = parse_mtl_file(DATA / f"synthetic_C2L2_{L9_C2L2}_MTL.txt")["LANDSAT_METADATA_FILE"]
    assert c2["LEVEL2_SURFACE_REFLECTANCE_PARAMETERS"]["REFLECTANCE_MULT_BAND_4"] == 2.75e-5
    assert c2["LEVEL1_RADIOMETRIC_RESCALING"]["REFLECTANCE_MULT_BAND_4"] == 2.0e-5


# --- scene_from_mtl on real files --------------------------------------------------------------


def test_scene_landsat8_collection1():
    scene = scene_of(f"{L8_C1}_MTL.txt")
    assert (scene.spacecraft, scene.sensor, scene.level) == ("LANDSAT_8", "OLI_TIRS", "L1")
    assert scene.sun_elevation == 58.99675180
    assert scene.sun_correction is True
    assert file_names(scene) == [f"{L8_C1}_B{n}.TIF" for n in (2, 3, 4, 5, 6, 7)]
    assert scene.reflectance_band("red") == BandCalibration(
        SCENE_DIR / f"{L8_C1}_B4.TIF", 2.0e-5, -0.1
    )
    assert scene.thermal == BandCalibration(SCENE_DIR / f"{L8_C1}_B10.TIF", 3.342e-4, 0.1)
    assert scene.thermal_sensor_key == "landsat8_b10"
    assert (scene.thermal_k1, scene.thermal_k2) == (774.8853, 1321.0789)
    assert scene.surface_temperature is None
    assert scene.product_id == L8_C1
    assert scene.acquisition_date == "2013-07-07"


def test_scene_landsat7_collection1_both_thermal_gains():
    scene = scene_of(f"{L7_C1}_MTL.txt")
    assert (scene.spacecraft, scene.sensor, scene.level) == ("LANDSAT_7", "ETM", "L1")
    assert scene.sun_elevation == 53.87765310
    assert file_names(scene) == [f"{L7_C1}_B{n}.TIF" for n in (1, 2, 3, 4, 5, 7)]
    # as in the file: REFLECTANCE_MULT_BAND_4 = 2.9302E-03, REFLECTANCE_ADD_BAND_4 = -0.018348
    assert scene.reflectance_band("nir").mult == 2.9302e-3
    assert scene.reflectance_band("nir").add == -0.018348
    assert scene.reflectance_band("swir2").mult == 1.7469e-3  # band 7, not band 6 or 8
    assert scene.thermal == BandCalibration(
        SCENE_DIR / f"{L7_C1}_B6_VCID_1.TIF", 6.7087e-2, -0.06709
    )
    assert scene.thermal_sensor_key == "etm7_b6"
    assert (scene.thermal_k1, scene.thermal_k2) == (666.09, 1282.71)
    high_gain = scene_of(f"{L7_C1}_MTL.txt", etm_thermal="VCID_2")
    assert high_gain.thermal == BandCalibration(
        SCENE_DIR / f"{L7_C1}_B6_VCID_2.TIF", 3.7205e-2, 3.16280
    )
    with pytest.raises(ValueError):
        scene_of(f"{L7_C1}_MTL.txt", etm_thermal="B6")


def test_scene_landsat5_tm_collection1():
    scene = scene_of(f"{L5_C1}_MTL.txt")
    assert (scene.spacecraft, scene.sensor, scene.level) == ("LANDSAT_5", "TM", "L1")
    assert scene.sun_elevation == 53.14715018
    assert file_names(scene) == [f"{L5_C1}_B{n}.TIF" for n in (1, 2, 3, 4, 5, 7)]
    assert scene.reflectance_band("blue") == BandCalibration(
        SCENE_DIR / f"{L5_C1}_B1.TIF", 1.2203e-3, -0.003642
    )
    assert scene.reflectance_band("swir2").add == -0.008119
    assert scene.thermal == BandCalibration(SCENE_DIR / f"{L5_C1}_B6.TIF", 5.5375e-2, 1.18243)
    assert scene.thermal_sensor_key == "tm5_b6"
    assert (scene.thermal_k1, scene.thermal_k2) == (607.76, 1260.56)


def test_scene_landsat8_pre_collection():
    scene = scene_of(f"{L8_PRE}_MTL.txt")
    assert (scene.spacecraft, scene.sensor, scene.level) == ("LANDSAT_8", "OLI_TIRS", "L1")
    assert scene.sun_elevation == 64.74360932
    assert file_names(scene) == [f"{L8_PRE}_B{n}.TIF" for n in (2, 3, 4, 5, 6, 7)]
    assert scene.reflectance_band("swir1") == BandCalibration(
        SCENE_DIR / f"{L8_PRE}_B6.TIF", 2.0e-5, -0.1
    )
    assert scene.thermal == BandCalibration(SCENE_DIR / f"{L8_PRE}_B10.TIF", 3.342e-4, 0.1)
    assert (scene.thermal_k1, scene.thermal_k2) == (774.8853, 1321.0789)
    assert scene.product_id == L8_PRE  # no LANDSAT_PRODUCT_ID before Collection 1


def test_scene_etm_pre_collection_without_reflectance_factors():
    # The 2014 ETM+ L1T file gives radiance factors only.
    with pytest.raises(MtlError) as caught:
        scene_of(f"{L7_PRE}_MTL.txt")
    assert caught.value.field == "REFLECTANCE_MULT_BAND_1"
    assert "lacks REFLECTANCE_MULT_BAND_1 (needed for blue reflectance)" in str(caught.value)


def test_scene_collection2_level2_uses_surface_reflectance_factors():
    scene = scene_of(f"synthetic_C2L2_{L9_C2L2}_MTL.txt")
    assert (scene.spacecraft, scene.sensor, scene.level) == ("LANDSAT_9", "OLI_TIRS", "L2")
    assert scene.sun_correction is False
    assert scene.sun_elevation == 63.21098765
    assert file_names(scene) == [f"{L9_C2L2}_SR_B{n}.TIF" for n in (2, 3, 4, 5, 6, 7)]
    for band in scene.reflectance_bands:  # 2.75e-5 and −0.2, not the Level-1 2e-5 and −0.1
        assert (band.mult, band.add) == (2.75e-5, -0.2)
    assert scene.thermal is None
    assert scene.surface_temperature == BandCalibration(
        SCENE_DIR / f"{L9_C2L2}_ST_B10.TIF", 0.00341802, 149.0
    )
    assert scene.thermal_sensor_key == "landsat9_b10"
    assert (scene.thermal_k1, scene.thermal_k2) == (799.0284, 1329.2405)
    assert scene.product_id == L9_C2L2


def test_scene_collection2_level2_missing_surface_factor_is_not_taken_from_level1():
    text = mtl_text(f"synthetic_C2L2_{L9_C2L2}_MTL.txt").replace(
        "    REFLECTANCE_MULT_BAND_4 = 2.75e-05\n", ""
    )
    with pytest.raises(MtlError) as caught:
        scene_from_mtl(parse_mtl(text), SCENE_DIR)
    assert caught.value.field == "REFLECTANCE_MULT_BAND_4"
    assert "LEVEL2_SURFACE_REFLECTANCE_PARAMETERS" in str(caught.value)


def test_scene_landsat4_tm_collection1_synthetic():
    scene = scene_of(f"synthetic_C1L1_{L4_C1}_MTL.txt")
    assert (scene.spacecraft, scene.sensor, scene.level) == ("LANDSAT_4", "TM", "L1")
    assert scene.sun_elevation == 60.0
    assert [band.add for band in scene.reflectance_bands] == [
        -0.001,
        -0.002,
        -0.003,
        -0.004,
        -0.005,
        -0.007,
    ]
    assert scene.thermal == BandCalibration(SCENE_DIR / f"{L4_C1}_B6.TIF", 5.5375e-2, 1.18243)
    assert scene.thermal_sensor_key == "tm4_b6"
    assert (scene.thermal_k1, scene.thermal_k2) == (671.62, 1284.30)


COLLECTION2_LEVEL1 = """GROUP = LANDSAT_METADATA_FILE
  GROUP = PRODUCT_CONTENTS
    LANDSAT_PRODUCT_ID = "LC08_L1TP_121041_20200101_20200113_02_T1"
    PROCESSING_LEVEL = "L1TP"
    COLLECTION_NUMBER = 02
    FILE_NAME_BAND_2 = "B2.TIF"
    FILE_NAME_BAND_3 = "B3.TIF"
    FILE_NAME_BAND_4 = "B4.TIF"
    FILE_NAME_BAND_5 = "B5.TIF"
    FILE_NAME_BAND_6 = "B6.TIF"
    FILE_NAME_BAND_7 = "B7.TIF"
    FILE_NAME_BAND_10 = "B10.TIF"
  END_GROUP = PRODUCT_CONTENTS
  GROUP = IMAGE_ATTRIBUTES
    SPACECRAFT_ID = "LANDSAT_8"
    SENSOR_ID = "OLI_TIRS"
    SUN_ELEVATION = 35.5
  END_GROUP = IMAGE_ATTRIBUTES
  GROUP = LEVEL1_RADIOMETRIC_RESCALING
    RADIANCE_MULT_BAND_10 = 3.3420E-04
    RADIANCE_ADD_BAND_10 = 0.10000
    REFLECTANCE_MULT_BAND_2 = 2.0000E-05
    REFLECTANCE_MULT_BAND_3 = 2.0000E-05
    REFLECTANCE_MULT_BAND_4 = 2.0000E-05
    REFLECTANCE_MULT_BAND_5 = 2.0000E-05
    REFLECTANCE_MULT_BAND_6 = 2.0000E-05
    REFLECTANCE_MULT_BAND_7 = 2.0000E-05
    REFLECTANCE_ADD_BAND_2 = -0.100000
    REFLECTANCE_ADD_BAND_3 = -0.100000
    REFLECTANCE_ADD_BAND_4 = -0.100000
    REFLECTANCE_ADD_BAND_5 = -0.100000
    REFLECTANCE_ADD_BAND_6 = -0.100000
    REFLECTANCE_ADD_BAND_7 = -0.100000
  END_GROUP = LEVEL1_RADIOMETRIC_RESCALING
  GROUP = LEVEL1_THERMAL_CONSTANTS
    K1_CONSTANT_BAND_10 = 774.8853
    K2_CONSTANT_BAND_10 = 1321.0789
  END_GROUP = LEVEL1_THERMAL_CONSTANTS
END_GROUP = LANDSAT_METADATA_FILE
END
"""


def test_scene_collection2_level1():
    scene = scene_from_mtl(parse_mtl(COLLECTION2_LEVEL1), "relative/dir")
    assert (scene.spacecraft, scene.sensor, scene.level) == ("LANDSAT_8", "OLI_TIRS", "L1")
    assert scene.sun_elevation == 35.5 and scene.sun_correction is True
    assert scene.reflectance_band("blue") == BandCalibration(
        pathlib.Path("relative/dir/B2.TIF"), 2.0e-5, -0.1
    )
    assert scene.thermal == BandCalibration(pathlib.Path("relative/dir/B10.TIF"), 3.342e-4, 0.1)
    assert scene.thermal_k1 == 774.8853


def test_scene_oli_only_has_no_thermal():
    text = COLLECTION2_LEVEL1.replace('SENSOR_ID = "OLI_TIRS"', 'SENSOR_ID = "OLI"')
    scene = scene_from_mtl(parse_mtl(text), SCENE_DIR)
    assert scene.sensor == "OLI" and len(scene.reflectance_bands) == 6
    assert scene.thermal is None and scene.thermal_sensor_key is None


def test_scene_without_thermal_factors_has_no_thermal_band():
    text = COLLECTION2_LEVEL1.replace("    RADIANCE_MULT_BAND_10 = 3.3420E-04\n", "")
    assert scene_from_mtl(parse_mtl(text), SCENE_DIR).thermal is None


@pytest.mark.parametrize(
    "line, field, purpose",
    [
        (
            "    REFLECTANCE_MULT_BAND_4 = 2.0000E-05\n",
            "REFLECTANCE_MULT_BAND_4",
            "red reflectance",
        ),
        ("    REFLECTANCE_ADD_BAND_7 = -0.100000\n", "REFLECTANCE_ADD_BAND_7", "swir2 reflectance"),
        ('    FILE_NAME_BAND_5 = "B5.TIF"\n', "FILE_NAME_BAND_5", "the nir band file"),
        ("    SUN_ELEVATION = 35.5\n", "SUN_ELEVATION", "the sun correction"),
        ('    SENSOR_ID = "OLI_TIRS"\n', "SENSOR_ID", "the sensor"),
    ],
)
def test_scene_missing_required_field(line, field, purpose):
    text = COLLECTION2_LEVEL1.replace(line, "")
    assert text != COLLECTION2_LEVEL1
    with pytest.raises(MtlError) as caught:
        scene_from_mtl(parse_mtl(text), SCENE_DIR)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"MTL file lacks {field} (needed for {purpose}")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "old, new, field",
    [
        ('"LANDSAT_8"', '"LANDSAT_1"', "SPACECRAFT_ID"),
        ('SENSOR_ID = "OLI_TIRS"', 'SENSOR_ID = "MSS"', "SENSOR_ID"),
        ("SUN_ELEVATION = 35.5", 'SUN_ELEVATION = "high"', "SUN_ELEVATION"),
    ],
)
def test_scene_unsupported_or_bad_values(old, new, field):
    with pytest.raises(MtlError) as caught:
        scene_from_mtl(parse_mtl(COLLECTION2_LEVEL1.replace(old, new)), SCENE_DIR)
    assert caught.value.field == field


def test_thermal_sensor_keys_exist():
    for name in (f"{L8_C1}_MTL.txt", f"{L7_C1}_MTL.txt", f"{L5_C1}_MTL.txt"):
        assert scene_of(name).thermal_sensor_key in THERMAL_SENSORS


# --- conversions -------------------------------------------------------------------------------


def test_canonical_bands():
    assert CANONICAL_BANDS == ("blue", "green", "red", "nir", "swir1", "swir2")


def test_toa_reflectance_hand_values():
    # 2e-5 × 10000 − 0.1 = 0.1; / sin(30°) = 0.1/0.5 = 0.2; DN 0 is fill → NaN
    dn = np.array([[10000, 0], [20000, 60000]], dtype=np.uint16)
    no_sun = toa_reflectance(dn, 2.0e-5, -0.1)
    np.testing.assert_allclose(no_sun[[0, 1, 1], [0, 0, 1]], [0.1, 0.3, 1.1], rtol=1e-6)
    assert np.isnan(no_sun[0, 1])
    with_sun = toa_reflectance(dn, 2.0e-5, -0.1, 30.0)
    assert with_sun.dtype == np.float32 and with_sun.shape == (2, 2)
    assert float(with_sun[0, 0]) == pytest.approx(0.2, rel=1e-6)
    assert np.isnan(with_sun[0, 1])


def test_toa_reflectance_of_a_real_scene():
    # Landsat 8 C1 red band, DN 12000: (2e-5 × 12000 − 0.1)/sin(58.99675180°)
    # = 0.14/0.857141 = 0.163333
    scene = scene_of(f"{L8_C1}_MTL.txt")
    red = scene.reflectance_band("red")
    result = toa_reflectance(np.array([12000.0]), red.mult, red.add, scene.sun_elevation)
    expected = 0.14 / math.sin(math.radians(58.99675180))
    assert float(result[0]) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.163333, rel=1e-5)


def test_toa_reflectance_nan_and_bad_elevation():
    result = toa_reflectance(np.array([NAN, 100.0], dtype=np.float32), 2.0e-5, -0.1, 45.0)
    assert np.isnan(result[0]) and np.isfinite(result[1])
    for elevation in (0.0, -5.0, 95.0):
        with pytest.raises(ValueError):
            toa_reflectance(np.array([100.0]), 2.0e-5, -0.1, elevation)


def test_dn_to_radiance():
    # 3.342e-4 × 20000 + 0.1 = 6.684 + 0.1 = 6.784 W·m⁻²·sr⁻¹·µm⁻¹; DN 0 → NaN; NaN → NaN
    result = dn_to_radiance(np.array([20000.0, 0.0, NAN]), 3.342e-4, 0.1)
    assert float(result[0]) == pytest.approx(6.784, rel=1e-6)
    assert np.isnan(result[1:]).all()
    assert result.dtype == np.float32


def test_scale_offset_level2():
    # ST_B10: 0.00341802 × 44000 + 149.0 = 150.39288 + 149.0 = 299.39288 K
    # SR: 2.75e-5 × 10000 − 0.2 = 0.275 − 0.2 = 0.075
    assert float(scale_offset(np.array([44000]), 0.00341802, 149.0)[0]) == pytest.approx(
        299.39288, rel=1e-6
    )
    assert float(scale_offset(np.array([10000]), 2.75e-5, -0.2)[0]) == pytest.approx(
        0.075, rel=1e-5
    )
    assert np.isnan(scale_offset(np.array([0, NAN]), 2.75e-5, -0.2)).all()
    # fill_value=None keeps DN 0 as a value
    assert float(scale_offset(np.array([0]), 2.75e-5, -0.2, fill_value=None)[0]) == pytest.approx(
        -0.2
    )

"""casa_npp through processing.run: inputs as 12-band rasters or 12 layers, land-cover table,
solar units, intermediates, NoData and the errors users meet."""

import bad_input
import declared
import numpy as np
import pytest
from feedback import Recorder
from qgis.core import QgsProcessingException
from rasters import leftovers, read_raster, write_raster

from mine_eco_plugin.core import casa

ROWS, COLS = 2, 3
MONTH = np.arange(12)[:, None, None]


def climate():
    """A temperate year on a 2×3 grid with some spatial variation and one NoData pixel."""
    rng = np.random.default_rng(7)
    season = np.cos(2 * np.pi * (MONTH - 6) / 12)  # 1 in July, −1 in January
    ndvi = (0.45 + 0.25 * season + rng.uniform(-0.05, 0.05, (12, ROWS, COLS))).astype(np.float32)
    temperature = (12 + 12 * season + rng.uniform(-2, 2, (12, ROWS, COLS))).astype(np.float32)
    precipitation = (80 + 40 * season + rng.uniform(0, 30, (12, ROWS, COLS))).astype(np.float32)
    solar = (450 + 250 * season + rng.uniform(-20, 20, (12, ROWS, COLS))).astype(np.float32)
    ndvi[5, 1, 2] = -9999  # NoData in June at one pixel
    return ndvi, temperature, precipitation, solar


@pytest.fixture
def inputs(tmp_path):
    ndvi, temperature, precipitation, solar = climate()
    paths = {
        "NDVI": write_raster(tmp_path / "ndvi.tif", ndvi, nodata=-9999),
        "TEMPERATURE": write_raster(tmp_path / "t.tif", temperature),
        "PRECIPITATION": write_raster(tmp_path / "p.tif", precipitation),
        "SOLAR": write_raster(tmp_path / "s.tif", solar),
    }
    landcover = np.array([[1, 4, 6], [5, 6, 7]], dtype=np.float32)
    paths["LANDCOVER"] = write_raster(tmp_path / "lc.tif", landcover)
    return paths, (ndvi, temperature, precipitation, solar, landcover)


# Zhu et al. (2006) per type, as in resources/tables/casa_zhu2006.csv.
ZHU = {1: (0.389, 0.647, 4.67), 4: (0.692, 0.747, 6.91), 5: (0.429, 0.636, 4.49),
       6: (0.542, 0.634, 4.46), 7: (0.542, 0.634, 4.46)}  # fmt: skip


def expected(arrays, table=ZHU, **kwargs):
    ndvi, temperature, precipitation, solar, landcover = arrays
    ndvi = np.where(ndvi == -9999, np.nan, ndvi)
    columns = [np.vectorize(lambda c, i=i: table[int(c)][i])(landcover) for i in range(3)]
    return casa.casa_npp(ndvi, temperature, precipitation, solar, *columns, **kwargs)


def test_annual_monthly_and_intermediates_match_the_kernel(run, inputs, tmp_path):
    paths, arrays = inputs
    outputs = {
        name: str(tmp_path / f"{name.lower()}.tif")
        for name in ("OUTPUT", "OUTPUT_MONTHLY", "OUTPUT_FPAR", "OUTPUT_WE", "OUTPUT_TOPT")
    }
    results = run("casa_npp", {**paths, **outputs})
    reference = expected(arrays)
    annual, dataset = read_raster(results["OUTPUT"])
    np.testing.assert_allclose(annual[0], reference["annual"], rtol=1e-5)
    assert np.isnan(annual[0, 1, 2])  # NoData in one month → NoData for the year
    monthly = read_raster(results["OUTPUT_MONTHLY"])[0]
    assert monthly.shape == (12, ROWS, COLS)
    np.testing.assert_allclose(monthly, reference["npp"], rtol=1e-5)
    np.testing.assert_allclose(read_raster(results["OUTPUT_FPAR"])[0], reference["fpar"], rtol=1e-6)
    np.testing.assert_allclose(
        read_raster(results["OUTPUT_WE"])[0], reference["w_epsilon"], rtol=1e-6
    )
    np.testing.assert_allclose(read_raster(results["OUTPUT_TOPT"])[0][0], reference["topt"])
    # The constants used are in the metadata.
    metadata = dataset.GetMetadata()
    assert metadata["T_EPSILON2_CONSTANT"] == "1.184"
    assert metadata["CAP_WATER_STRESS"] == "True"
    assert "4: 0.692/0.747/6.91" in metadata["EPSILON_MAX_TABLE"]
    assert dataset.GetRasterBand(1).GetNoDataValue() == -9999
    assert not leftovers(tmp_path)


def test_twelve_single_layers_equal_one_twelve_band_raster(run, inputs, tmp_path):
    paths, arrays = inputs
    layers = {}
    for name, values in zip(
        ("NDVI", "TEMPERATURE", "PRECIPITATION", "SOLAR"), arrays[:4], strict=True
    ):
        layers[name] = [
            write_raster(tmp_path / f"{name}_{m}.tif", values[m], nodata=-9999) for m in range(12)
        ]
    stacked = run("casa_npp", {**paths, "OUTPUT": str(tmp_path / "a.tif")})
    single = run("casa_npp", {**paths, **layers, "OUTPUT": str(tmp_path / "b.tif")})
    np.testing.assert_array_equal(
        read_raster(stacked["OUTPUT"])[0], read_raster(single["OUTPUT"])[0]
    )


def test_solar_in_watts_is_converted_with_month_lengths(run, inputs, tmp_path):
    paths, arrays = inputs
    ndvi, temperature, precipitation, solar, landcover = arrays
    # 1 W·m⁻² over a 31-day month = 31·86400 J = 2.6784 MJ·m⁻²; so W = MJ / (days·0.0864).
    days = np.array([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[:, None, None]  # 2000
    watts = solar / (days * 0.0864)
    paths = {**paths, "SOLAR": write_raster(tmp_path / "w.tif", watts.astype(np.float32))}
    results = run(
        "casa_npp", {**paths, "SOLAR_UNIT": 1, "YEAR": 2000, "OUTPUT": str(tmp_path / "n.tif")}
    )
    np.testing.assert_allclose(
        read_raster(results["OUTPUT"])[0][0], expected(arrays)["annual"], rtol=1e-5
    )


def test_without_landcover_potter_fallback_everywhere(run, inputs, tmp_path):
    paths, arrays = inputs
    paths = {k: v for k, v in paths.items() if k != "LANDCOVER"}
    results = run("casa_npp", {**paths, "OUTPUT": str(tmp_path / "n.tif")})
    fallback = {c: (0.389, 0.634, 4.46) for c in range(1, 8)}
    np.testing.assert_allclose(
        read_raster(results["OUTPUT"])[0][0], expected(arrays, fallback)["annual"], rtol=1e-5
    )


def test_table_as_matrix_and_parameters(run, inputs, tmp_path):
    paths, arrays = inputs
    matrix = []
    for code, (eps, ndvi_max, sr_max) in ZHU.items():
        matrix += [code, 2 * eps, ndvi_max, sr_max]
    results = run(
        "casa_npp",
        {
            **paths,
            "TABLE_MATRIX": matrix,
            "T_EPSILON2_CONSTANT": 1.1814,
            "CAP_WATER_STRESS": False,
            "OUTPUT": str(tmp_path / "n.tif"),
        },
    )
    doubled = {code: (2 * v[0], v[1], v[2]) for code, v in ZHU.items()}
    params = casa.CasaParameters(t_epsilon2_constant=1.1814, cap_water_stress=False)
    np.testing.assert_allclose(
        read_raster(results["OUTPUT"])[0][0], expected(arrays, doubled, params=params)["annual"],
        rtol=1e-5,
    )  # fmt: skip


def test_unknown_class_fails_or_takes_the_fallback(run, inputs, tmp_path):
    paths, arrays = inputs
    landcover = arrays[4].copy()
    landcover[0, 0] = 42
    paths = {**paths, "LANDCOVER": write_raster(tmp_path / "lc42.tif", landcover)}
    with pytest.raises(QgsProcessingException, match=r"LANDCOVER.*42.*not in TABLE"):
        run("casa_npp", {**paths, "OUTPUT": str(tmp_path / "n.tif")})
    assert not leftovers(tmp_path)
    results = run("casa_npp", {**paths, "UNKNOWN_CLASSES": 1, "OUTPUT": str(tmp_path / "n.tif")})
    table = {**ZHU, 42: (0.389, 0.634, 4.46)}
    reference = expected((*arrays[:4], landcover), table)["annual"]
    np.testing.assert_allclose(read_raster(results["OUTPUT"])[0][0], reference, rtol=1e-5)


@pytest.mark.parametrize(
    ("name", "month", "value", "message"),
    [
        ("NDVI", 2, 1.5, r"NDVI: values outside \[−1, 1\], e.g. 1.5 in March"),
        ("PRECIPITATION", 7, -3.0, r"PRECIPITATION: negative precipitation, e.g. -3 in August"),
        ("SOLAR", 0, -1.0, r"SOLAR: negative solar radiation"),
    ],
)
def test_bad_values_name_the_parameter(run, inputs, tmp_path, name, month, value, message):
    paths, arrays = inputs
    index = ("NDVI", "TEMPERATURE", "PRECIPITATION", "SOLAR").index(name)
    values = arrays[index].copy()
    values[month, 1, 0] = value
    paths = {**paths, name: write_raster(tmp_path / "bad.tif", values, nodata=-9999)}
    with pytest.raises(QgsProcessingException, match=message):
        run("casa_npp", {**paths, "OUTPUT": str(tmp_path / "n.tif")})
    assert not leftovers(tmp_path)


def test_ndvi_scale_accepts_integer_ndvi(run, inputs, tmp_path):
    paths, arrays = inputs
    scaled = np.where(arrays[0] == -9999, -9999, np.round(arrays[0] * 10000)).astype(np.float32)
    paths = {**paths, "NDVI": write_raster(tmp_path / "ndvi10k.tif", scaled, nodata=-9999)}
    results = run("casa_npp", {**paths, "NDVI_SCALE": 0.0001, "OUTPUT": str(tmp_path / "n.tif")})
    np.testing.assert_allclose(
        read_raster(results["OUTPUT"])[0][0], expected(arrays)["annual"], rtol=2e-3
    )


def test_wrong_month_count(run, inputs, tmp_path):
    paths, arrays = inputs
    eleven = write_raster(tmp_path / "t11.tif", arrays[1][:11])
    with pytest.raises(QgsProcessingException, match=r"TEMPERATURE: 12 monthly layers"):
        run("casa_npp", {**paths, "TEMPERATURE": eleven, "OUTPUT": str(tmp_path / "n.tif")})


def test_cancel_leaves_nothing(run, inputs, tmp_path, cancel_after):
    paths, _ = inputs
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run("casa_npp", {**paths, "OUTPUT": str(tmp_path / "n.tif")}, feedback=cancel_after(1))
    assert not (tmp_path / "n.tif").exists()
    assert not leftovers(tmp_path)


def test_help_states_formula_units_and_sources(provider):
    algorithm = provider.algorithm("casa_npp")
    text = algorithm.shortHelpString()
    for fragment in ("T_ε2", "1.1814", "0.598", "Thornthwaite", "gC·m⁻²·yr⁻¹", "0.389", "NoData"):
        assert fragment in text


def with_empty_month(tmp_path, arrays, name, month, value=-9999):
    """The inputs with one month of ``name`` set to ``value`` everywhere (NoData by default)."""
    ndvi, temperature, precipitation, solar, landcover = (a.copy() for a in arrays)
    stacks = {"NDVI": ndvi, "TEMPERATURE": temperature, "PRECIPITATION": precipitation,
              "SOLAR": solar}  # fmt: skip
    stacks[name][month] = value
    paths = {
        key: write_raster(tmp_path / f"{key.lower()}_gap.tif", stack, nodata=-9999)
        for key, stack in stacks.items()
    }
    paths["LANDCOVER"] = write_raster(tmp_path / "lc_gap.tif", landcover)
    return paths, (ndvi, temperature, precipitation, solar, landcover)


def test_a_month_without_data_is_an_error_naming_it(run, inputs, tmp_path):
    _, arrays = inputs
    paths, _ = with_empty_month(tmp_path, arrays, "NDVI", 2)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(
        QgsProcessingException,
        match=r"NDVI: no valid pixel on the output grid for NDVI: March .*INCOMPLETE_YEAR",
    ):
        run("casa_npp", {**paths, "OUTPUT": str(out / "npp.tif")})
    assert list(out.iterdir()) == []
    # A month of +Inf everywhere is no data either (it used to give an all-NoData year).
    paths, _ = with_empty_month(tmp_path, arrays, "TEMPERATURE", 7, value=np.inf)
    with pytest.raises(QgsProcessingException, match=r"TEMPERATURE: August .*not finite"):
        run("casa_npp", {**paths, "OUTPUT": str(out / "npp.tif")})
    assert list(out.iterdir()) == []


def test_incomplete_year_sums_the_other_months_and_says_so(run, inputs, tmp_path):
    _, arrays = inputs
    paths, gap = with_empty_month(tmp_path, arrays, "NDVI", 2)
    feedback = Recorder()
    results = run(
        "casa_npp",
        {
            **paths,
            "INCOMPLETE_YEAR": True,
            "OUTPUT": str(tmp_path / "npp.tif"),
            "OUTPUT_MONTHLY": str(tmp_path / "monthly.tif"),
        },
        feedback=feedback,
    )
    assert results["MISSING_MONTHS"] == "NDVI: March"
    assert results["MONTHS_SUMMED"] == 11
    assert len(feedback.errors) == 1 and "sums 11 months only" in feedback.errors[0]
    kept = np.arange(12) != 2
    reference = expected(gap, months=kept)
    annual, dataset = read_raster(results["OUTPUT"])
    np.testing.assert_allclose(annual[0], reference["annual"], rtol=1e-5)
    monthly = read_raster(results["OUTPUT_MONTHLY"])[0]
    assert np.isnan(monthly[2]).all()
    # The annual value is the sum of the 11 monthly values (pixel (1, 2) is NoData in June).
    np.testing.assert_allclose(annual[0], monthly[kept].sum(axis=0), rtol=1e-5)
    assert np.isnan(annual[0, 1, 2]) and np.isfinite(annual[0]).sum() == 5
    # It is below the full year's: March's NPP is missing.
    full = expected(arrays)["annual"]
    assert (annual[0][np.isfinite(annual[0])] < full[np.isfinite(full)]).all()
    metadata = dataset.GetMetadata()
    assert metadata["INCOMPLETE_YEAR"] == "months left out (no valid pixel): NDVI: March"
    assert metadata["MONTHS_SUMMED"] == "11"
    # A complete year reports nothing missing.
    results = run("casa_npp", {**inputs[0], "OUTPUT": str(tmp_path / "full.tif")})
    assert results["MISSING_MONTHS"] == "" and results["MONTHS_SUMMED"] == 12


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid("casa_npp", lambda d: bad_input.casa(d))
INPUTS.desktop(
    "casa_npp",
    lambda s: {
        "NDVI": [s.monthly["ndvi"]],
        "TEMPERATURE": [s.monthly["temperature"]],
        "PRECIPITATION": [s.monthly["precipitation"]],
        "SOLAR": [s.monthly["solar"]],
    },
)
INPUTS.case(
    "casa_npp",
    "ndvi-x10000",
    lambda d: bad_input.casa(d, NDVI=[d.field(0, 9000, bands=12)]),
    "NDVI",
)
INPUTS.case(
    "casa_npp",
    "negative-rain",
    lambda d: bad_input.casa(d, PRECIPITATION=[d.field(-50, 10, bands=12)]),
    "PRECIPITATION",
)
INPUTS.case(
    "casa_npp",
    "eleven-months",
    lambda d: bad_input.casa(d, SOLAR=[d.field(1, 2, bands=11)]),
    "SOLAR",
)
INPUTS.case(
    "casa_npp",
    "unknown-class",
    lambda d: bad_input.casa(d, LANDCOVER=d.landcover([1, 4, 99])),
    ("LANDCOVER", "TABLE", "UNKNOWN_CLASSES"),
)
INPUTS.case(
    "casa_npp",
    "malformed-table",
    lambda d: bad_input.casa(d, LANDCOVER=d.landcover([1, 4]), TABLE=d.text("code,label\n1,a\n")),
    "TABLE",
)
INPUTS.case(
    "casa_npp",
    "temperature-other-crs",
    lambda d: bad_input.casa(d, TEMPERATURE=[d.reprojected(bad_input.casa(d)["TEMPERATURE"][0])]),
    check=bad_input.same_grid_as("NDVI", layer_index=0),
)
INPUTS.case(
    "casa_npp",
    "far-solar",
    lambda d: bad_input.casa(d, SOLAR=[d.field(400, 500, bands=12, origin=bad_input.FAR)]),
    "SOLAR",
)

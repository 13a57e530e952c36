"""Numeric edge cases that used to give silently wrong numbers: ±Inf in a DEM or an index,
int16 voids without a declared NoData, latitudes beyond the poles, and indicator values near
the float32 limit. Each test checks the numbers, and the warning or the error users see."""

from __future__ import annotations

import numpy as np
import pytest
from feedback import Recorder
from osgeo import gdal
from qgis.core import QgsProcessingException
from rasters import read_raster, write_raster

ROWS, COLS = 12, 14


def execute(run, algorithm, parameters):
    feedback = Recorder()
    return run(algorithm, parameters, feedback), feedback


def dem_array():
    """A surface falling about 3 m per 30 m row and 1.7 m per column, gently waved."""
    rows, cols = np.mgrid[0:ROWS, 0:COLS]
    return 400 - 3.0 * rows - 1.7 * cols + 4 * np.sin(rows / 3.0) * np.cos(cols / 4.0)


# --- DEM ---------------------------------------------------------------------------------------


def test_infinite_dem_cell_is_nodata_not_a_cliff(run, tmp_path):
    """One +Inf cell: LS and slope equal those of the same DEM with that cell declared NoData
    (before, its eight neighbours got slopes of 90°), and the run warns with the count."""
    surface = dem_array().astype(np.float32)
    with_inf = surface.copy()
    with_inf[5, 6] = np.inf
    with_hole = surface.copy()
    with_hole[5, 6] = -9999
    inf_path = write_raster(tmp_path / "inf.tif", with_inf)
    hole_path = write_raster(tmp_path / "hole.tif", with_hole, nodata=-9999)
    outputs = {}
    for name, path in (("inf", inf_path), ("hole", hole_path)):
        results, feedback = execute(
            run,
            "rusle_ls",
            {
                "DEM": path,
                "OUTPUT": str(tmp_path / f"ls_{name}.tif"),
                "OUTPUT_SLOPE": str(tmp_path / f"slope_{name}.tif"),
            },
        )
        outputs[name] = (
            read_raster(results["OUTPUT"])[0][0],
            read_raster(results["OUTPUT_SLOPE"])[0][0],
            feedback.warnings,
        )
    ls, slope, warnings = outputs["inf"]
    np.testing.assert_allclose(ls, outputs["hole"][0], equal_nan=True)
    np.testing.assert_allclose(slope, outputs["hole"][1], equal_nan=True)
    assert np.isnan(ls[5, 6]) and np.isnan(ls).sum() == 1
    # The surface's steepest gradient is about 0.2 (11°): nowhere near 90°.
    assert np.nanmax(slope) < 15
    assert warnings == [
        "DEM: 1 value of ±Inf (infinite, e.g. from a division by zero) was read as NoData"
    ]
    assert outputs["hole"][2] == []


def test_int16_voids_without_nodata_are_nodata_with_a_warning(run, tmp_path):
    """An int16 DEM whose voids are −32768 and which declares no NoData: the voids are NoData
    in LS (not a 32 km cliff giving LS in the thousands) and the run warns with the count."""
    surface = np.round(dem_array()).astype(np.int16)
    surface[4:6, 5:8] = -32768  # six voids
    path = write_raster(tmp_path / "dem.tif", surface, dtype=gdal.GDT_Int16)
    results, feedback = execute(
        run,
        "rusle_ls",
        {"DEM": path, "OUTPUT": str(tmp_path / "ls.tif"), "OUTPUT_SLOPE": str(tmp_path / "s.tif")},
    )
    ls = read_raster(results["OUTPUT"])[0][0]
    slope = read_raster(results["OUTPUT_SLOPE"])[0][0]
    assert np.isnan(ls[4:6, 5:8]).all() and np.isnan(ls).sum() == 6
    # The same DEM with the voids declared NoData gives the same LS, cell for cell.
    declared = write_raster(tmp_path / "declared.tif", surface, dtype=gdal.GDT_Int16, nodata=-32768)
    reference = run("rusle_ls", {"DEM": declared, "OUTPUT": str(tmp_path / "ls_ref.tif")})
    np.testing.assert_allclose(ls, read_raster(reference["OUTPUT"])[0][0], equal_nan=True)
    assert np.nanmax(slope) < 15 and np.nanmax(ls) < 20
    assert [w for w in feedback.warnings if "int16" in w] == [
        "DEM: band 1 is int16 without a declared NoData value; its 6 cells of -32768 (the int16 "
        "minimum, the usual void value) are read as NoData. Declare the NoData value to confirm "
        "(gdal_edit.py -a_nodata -32768), or another one if these cells are data."
    ]


@pytest.mark.parametrize(
    "algorithm, parameter, build",
    [
        ("fvc", "INPUT", lambda r, other: {"INPUT": r}),
        ("normalize", "INPUT", lambda r, other: {"INPUT": r}),
        (
            "composite_index",
            "INPUTS",
            lambda r, other: {"INPUTS": [r, other], "TRENDS": "+,+", "WEIGHTS": "0.5,0.5"},
        ),
        ("change_analysis", "BEFORE", lambda r, other: {"BEFORE": r, "AFTER": other}),
    ],
)
def test_int16_voids_are_nodata_in_other_algorithms(run, tmp_path, algorithm, parameter, build):
    """An int16 input with −32768 voids and no NoData: the voids are NoData in the output and
    the warning names the parameter and the count."""
    values = np.random.default_rng(3).integers(0, 100, (ROWS, COLS)).astype(np.int16)
    values[0, :4] = -32768
    path = write_raster(tmp_path / "i16.tif", values, dtype=gdal.GDT_Int16)
    other = write_raster(tmp_path / "o.tif", np.random.default_rng(4).uniform(0, 100, (ROWS, COLS)))
    parameters = {**build(path, other), "OUTPUT": str(tmp_path / "out.tif")}
    results, feedback = execute(run, algorithm, parameters)
    out = read_raster(results["OUTPUT"])[0][0]
    assert np.isnan(out[0, :4]).all()
    assert np.isfinite(out[1:]).all() and np.isfinite(out[0, 4:]).all()
    assert any(w.startswith(parameter) and " 4 cells of -32768" in w for w in feedback.warnings)


# --- FVC -------------------------------------------------------------------------------------


def test_infinite_index_values_stay_out_of_the_fvc_percentiles(run, tmp_path):
    """+Inf and −Inf cells: Ssoil and Sveg are the 5th and 95th percentiles of the finite
    values only (numpy's linear rule), the infinite cells are NoData in FVC."""
    index = np.random.default_rng(5).uniform(-0.1, 0.8, (ROWS, COLS)).astype(np.float32)
    index[0, 0], index[3, 3], index[7, 9] = np.inf, np.inf, -np.inf
    path = write_raster(tmp_path / "ndvi.tif", index)
    results, feedback = execute(run, "fvc", {"INPUT": path, "OUTPUT": str(tmp_path / "fvc.tif")})
    finite = index[np.isfinite(index)].astype(np.float64)
    soil, veg = np.percentile(finite, [5, 95])
    assert results["SOIL_VALUE"] == pytest.approx(soil, rel=1e-6)
    assert results["VEG_VALUE"] == pytest.approx(veg, rel=1e-6)
    fvc = read_raster(results["OUTPUT"])[0][0]
    assert np.isnan(fvc[0, 0]) and np.isnan(fvc[3, 3]) and np.isnan(fvc[7, 9])
    expected = np.clip((index - soil) / (veg - soil), 0, 1)
    ok = np.isfinite(index)
    np.testing.assert_allclose(fvc[ok], expected[ok], rtol=1e-5, atol=1e-6)
    assert any(w.startswith("INPUT: 3 values of ±Inf") for w in feedback.warnings)


# --- Normalisation near the float32 limit --------------------------------------------------------


EXTREMES = np.array(
    [[-3e38, -1.5e38, 0.0, 1.5e38, 3e38], [-3e38, 1e37, 1e38, 2e38, 3e38]], dtype=np.float32
)


@pytest.mark.parametrize("trend", [0, 1])
def test_normalisation_of_values_near_the_float32_limit(run, tmp_path, trend):
    """x′ = (x − min)/(max − min) with min = −3·10³⁸, max = 3·10³⁸ (hand values: −1.5·10³⁸ →
    0.25, 0 → 0.5, 1.5·10³⁸ → 0.75). In float32, x − min overflowed to Inf: every value above
    the midpoint came out as 1."""
    path = write_raster(tmp_path / "x.tif", EXTREMES)
    results = run("normalize", {"INPUT": path, "TREND": trend, "OUTPUT": str(tmp_path / "n.tif")})
    values = read_raster(results["OUTPUT"])[0][0]
    x = EXTREMES.astype(np.float64)
    low, high = x.min(), x.max()
    expected = (x - low) / (high - low)
    if trend == 1:
        expected = 1 - expected
    np.testing.assert_allclose(values, expected, atol=1e-6)
    forward = values if trend == 0 else 1 - values
    np.testing.assert_allclose(forward[0], [0, 0.25, 0.5, 0.75, 1], atol=1e-6)


def test_composite_index_of_values_near_the_float32_limit(run, tmp_path):
    """P = 0.5·t₁ + 0.5·(1 − t₂) with both indicators the extreme raster: 0.5 everywhere; and
    with one weight: P = t, the hand values of the normalisation test."""
    path = write_raster(tmp_path / "x.tif", EXTREMES)
    results = run(
        "composite_index",
        {
            "INPUTS": [path, path],
            "TRENDS": "+,-",
            "WEIGHTS": "0.5,0.5",
            "OUTPUT": str(tmp_path / "p.tif"),
        },
    )
    np.testing.assert_allclose(read_raster(results["OUTPUT"])[0][0], 0.5, atol=1e-6)
    results = run(
        "composite_index",
        {
            "INPUTS": [path, path],
            "TRENDS": "+,+",
            "WEIGHTS": "0.5,0.5",
            "OUTPUT": str(tmp_path / "q.tif"),
        },
    )
    np.testing.assert_allclose(
        read_raster(results["OUTPUT"])[0][0][0], [0, 0.25, 0.5, 0.75, 1], atol=1e-6
    )


# --- Solar radiation and latitude ------------------------------------------------------------


def test_solar_radiation_refuses_latitudes_beyond_the_poles(run, tmp_path):
    """A geographic reference grid from 95°N down to 83°N: an error naming REFERENCE (before,
    rows beyond 90° got negative radiation)."""
    path = write_raster(
        tmp_path / "ref.tif", np.ones((ROWS, COLS)), epsg=4326, origin=(10.0, 95.0), pixel=1.0
    )
    out = tmp_path / "solar.tif"
    with pytest.raises(QgsProcessingException, match=r"^REFERENCE: .*latitude 94\.5°, outside"):
        run("solar_radiation", {"REFERENCE": path, "METHOD": 2, "OUTPUT": str(out)})
    assert not out.exists()


def test_solar_radiation_up_to_the_pole(run, tmp_path):
    """A grid whose northern edge is the pole: valid, never negative; Ra at 89.75°N is 0 in
    December (polar night) and the month's sum of FAO-56 Eq. 21 in June."""
    from mine_eco_plugin.core import solar

    path = write_raster(
        tmp_path / "ref.tif", np.ones((ROWS, COLS)), epsg=4326, origin=(10.0, 90.0), pixel=0.5
    )
    results = run(
        "solar_radiation", {"REFERENCE": path, "METHOD": 2, "OUTPUT": str(tmp_path / "s.tif")}
    )
    values = read_raster(results["OUTPUT"])[0]
    assert np.isfinite(values).all() and values.min() >= 0
    assert values[11, 0, 0] == pytest.approx(0.0, abs=1e-6)
    june = solar.month_days()[5]
    expected = float(solar.extraterrestrial_daily(89.75, june).sum())
    assert values[5, 0, 0] == pytest.approx(expected, rel=1e-4)


def test_core_refuses_latitudes_beyond_the_poles():
    from mine_eco_plugin.core import solar

    for latitude in (90.5, -91.0, np.inf):
        with pytest.raises(ValueError, match="outside −90° … 90°"):
            solar.extraterrestrial_monthly(np.array([10.0, latitude]))
    # NaN is NoData, not an error; ±90° itself is valid.
    out = solar.extraterrestrial_monthly(np.array([np.nan, 90.0, -90.0]))
    assert np.isnan(out[:, 0]).all() and (out[:, 1:] >= 0).all()

"""kriging_fields and local_correlation_drivers: the single-layer algorithms repeated per field
or driver, files named after it, one table."""

from __future__ import annotations

import bad_input
import declared
import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import QgsProcessingException, QgsVectorLayer
from rasters import read_raster, write_raster
from synthetic_inputs import write_layer

ORIGIN = (500000.0, 5600000.0)


def points(path, n=40, seed=0):
    """Samples over a 20 × 20 grid of 30 m: 'soc' rises to the east, 'ph' to the south."""
    rng = np.random.default_rng(seed)
    features = []
    for _ in range(n):
        c, r = rng.uniform(0, 20, 2)
        soc = float(2 + 0.1 * c + rng.normal(0, 0.05))
        ph = float(6 + 0.05 * r + rng.normal(0, 0.05))
        x, y = ORIGIN[0] + 30 * c, ORIGIN[1] - 30 * r
        features.append(({"soc": soc, "ph": ph, "label": "x"}, f"POINT({x} {y})"))
    fields = {"soc": ogr.OFTReal, "ph": ogr.OFTReal, "label": ogr.OFTString}
    return write_layer(path, "soil", ogr.wkbPoint, fields, features)


def test_kriging_fields_equals_one_kriging_per_field(run, tmp_path):
    samples = points(tmp_path / "soil.gpkg")
    reference = write_raster(tmp_path / "grid.tif", np.ones((20, 20), np.float32))
    folder = tmp_path / "kriged"
    results = run(
        "kriging_fields",
        {
            "INPUT": samples,
            "FIELDS": ["soc", "ph"],
            "REFERENCE": reference,
            "OUTPUT_FOLDER": str(folder),
            "OUTPUT": str(tmp_path / "fields.csv"),
        },
    )
    # One raster per field, named after it, in the order of FIELDS.
    assert results["LAYERS"] == [str(folder / "soc.tif"), str(folder / "ph.tif")]
    assert results["NAMES"] == "soc,ph"
    assert sorted(p.name for p in folder.iterdir()) == ["ph.tif", "soc.tif"]
    table = [f.attributes() for f in QgsVectorLayer(results["OUTPUT"], "t", "ogr").getFeatures()]
    assert [row[0] for row in table] == ["soc", "ph"]
    for row, field in zip(table, ("soc", "ph"), strict=True):
        # The same numbers as 'Ordinary kriging' run on its own for that field.
        single = run(
            "kriging",
            {
                "INPUT": samples,
                "FIELD": field,
                "REFERENCE": reference,
                "OUTPUT": str(tmp_path / f"single_{field}.tif"),
            },
        )
        np.testing.assert_array_equal(
            read_raster(folder / f"{field}.tif")[0], read_raster(single["OUTPUT"])[0]
        )
        assert row[1] == single["MODEL"] and int(row[2]) == single["POINTS_USED"] == 40
        assert float(row[3]) == pytest.approx(single["CV_RMSE"])
    # soc rises by 0.1 per column (3 units over the 20 columns, 30 m each), ph by 0.05 per
    # row: the kriged maps keep those gradients (means of the first and last columns / rows).
    soc = read_raster(folder / "soc.tif")[0][0]
    ph = read_raster(folder / "ph.tif")[0][0]
    assert soc[:, -1].mean() - soc[:, 0].mean() == pytest.approx(1.9, abs=0.3)
    assert ph[-1].mean() - ph[0].mean() == pytest.approx(0.95, abs=0.2)


def test_kriging_fields_bad_fields(run, tmp_path):
    samples = points(tmp_path / "soil.gpkg")
    reference = write_raster(tmp_path / "grid.tif", np.ones((20, 20), np.float32))
    base = {"INPUT": samples, "REFERENCE": reference, "OUTPUT_FOLDER": str(tmp_path / "out")}
    with pytest.raises(QgsProcessingException, match="FIELDS: soc given more than once"):
        run("kriging_fields", {**base, "FIELDS": ["soc", "soc"]})
    # A text field: the error names the field and the parameter.
    with pytest.raises(QgsProcessingException, match="FIELDS: field label: .*holds no numbers"):
        run("kriging_fields", {**base, "FIELDS": ["soc", "label"]})
    # Nothing left behind by the failed run (soc was kriged before label failed).
    assert not (tmp_path / "out" / "soc.tif").exists()


def test_local_correlation_with_every_driver(run, tmp_path):
    """NPP against itself (r = 1 everywhere: 100 % significant positive), against its negative
    (100 % significant negative) and against a noise layer (the class map of a direct
    'Local (moving-window) correlation' run)."""
    rng = np.random.default_rng(5)
    npp = rng.uniform(100, 900, (25, 30)).astype(np.float32)
    target = write_raster(tmp_path / "NPP.tif", npp)
    same = write_raster(tmp_path / "MAT.tif", npp)
    negative = write_raster(tmp_path / "LD.tif", -npp)
    noise = write_raster(tmp_path / "SOC.tif", rng.normal(0, 1, (25, 30)).astype(np.float32))
    folder = tmp_path / "lcc"
    results = run(
        "local_correlation_drivers",
        {
            "DRIVERS": [same, noise, negative],
            "TARGET": target,
            "WINDOW": 5,
            "OUTPUT_FOLDER": str(folder),
            "OUTPUT": str(tmp_path / "shares.csv"),
        },
    )
    assert results["NAMES"] == "MAT,SOC,LD"
    assert results["LAYERS"] == [str(folder / f"{n}.tif") for n in ("MAT", "SOC", "LD")]
    rows = {
        f["driver"]: f.attributes()
        for f in QgsVectorLayer(results["OUTPUT"], "t", "ogr").getFeatures()
    }
    assert [float(v) for v in rows["MAT"][1:5]] == [100.0, 0.0, 0.0, 25 * 30]
    assert [float(v) for v in rows["LD"][1:5]] == [0.0, 100.0, 0.0, 25 * 30]
    np.testing.assert_array_equal(read_raster(folder / "MAT.tif")[0], 1)
    np.testing.assert_array_equal(read_raster(folder / "LD.tif")[0], 2)
    np.testing.assert_allclose(read_raster(folder / "LD_r.tif")[0], -1, atol=1e-5)
    single = run(
        "local_correlation",
        {
            "INPUT_X": noise,
            "INPUT_Y": target,
            "WINDOW": 5,
            "OUTPUT_R": str(tmp_path / "r.tif"),
            "OUTPUT_CLASS": str(tmp_path / "class.tif"),
        },
    )
    np.testing.assert_array_equal(
        read_raster(folder / "SOC.tif")[0], read_raster(single["OUTPUT_CLASS"])[0]
    )
    soc = [float(v) for v in rows["SOC"][1:4]]
    assert soc == pytest.approx(
        [single["SHARE_POSITIVE"], single["SHARE_NEGATIVE"], single["SHARE_INSIGNIFICANT"]]
    )
    assert sum(soc) == pytest.approx(100)
    # The inputs are untouched.
    np.testing.assert_array_equal(read_raster(target)[0][0], npp)


def test_local_correlation_drivers_names_must_give_distinct_files(run, tmp_path):
    a = write_raster(tmp_path / "MAT.tif", np.ones((5, 5), np.float32))
    b = write_raster(tmp_path / "MAT_r.tif", np.ones((5, 5), np.float32))
    with pytest.raises(QgsProcessingException, match="DRIVERS: .*share file names"):
        run(
            "local_correlation_drivers",
            {"DRIVERS": [a, b], "TARGET": a, "OUTPUT_FOLDER": str(tmp_path / "o")},
        )
    assert gdal.Open(a) is not None


# --- inputs: valid, first run in the desktop, bad (see declared.py) -------------------------------

INPUTS = declared.Inputs()
INPUTS.valid(
    "kriging_fields", lambda d: {"INPUT": d.points(), "FIELDS": ["value"], "REFERENCE": d.field()}
)
INPUTS.desktop(
    "kriging_fields", lambda s: {"INPUT": s.samples_fields, "FIELDS": ["value"], "REFERENCE": s.dem}
)
INPUTS.valid(
    "local_correlation_drivers",
    lambda d: {
        "DRIVERS": [d.field(seed=1), d.field(seed=3)],
        "TARGET": d.field(seed=2),
        "WINDOW": 3,
    },
)
INPUTS.desktop(
    "local_correlation_drivers", lambda s: {"DRIVERS": [s.ndvi, s.albedo], "TARGET": s.lst}
)
INPUTS.case(
    "kriging_fields",
    "text-field",
    lambda d: {"INPUT": d.points(), "FIELDS": ["value", "name"], "REFERENCE": d.field()},
    "FIELDS",
)
INPUTS.case(
    "kriging_fields",
    "too-few-points",
    lambda d: {"INPUT": d.points(3), "FIELDS": ["value"], "REFERENCE": d.field()},
    ("FIELDS", "MIN_POINTS"),
)
INPUTS.case(
    "local_correlation_drivers",
    "even-window",
    lambda d: {"DRIVERS": [d.field(seed=1)], "TARGET": d.field(seed=2), "WINDOW": 4},
    "WINDOW",
)
INPUTS.case(
    "local_correlation_drivers",
    "far-driver",
    lambda d: {"DRIVERS": [d.field(origin=bad_input.FAR)], "TARGET": d.field(seed=2), "WINDOW": 3},
    ("DRIVERS", "INPUT_Y"),
)

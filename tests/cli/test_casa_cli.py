"""casa_npp, solar_radiation and kriging from the command line (qgis_process), as scripts run
them: the derived solar grid feeds CASA, and kriging returns its numeric outputs as JSON."""

import numpy as np
from osgeo import ogr, osr
from rasters import read_raster, write_raster


def test_solar_then_casa_and_help(qgis_process, tmp_path):
    month = np.arange(12)[:, None, None]
    season = np.cos(2 * np.pi * (month - 6) / 12) * np.ones((12, 3, 4))
    reference = write_raster(tmp_path / "ndvi.tif", (0.45 + 0.3 * season).astype(np.float32))
    temperature = write_raster(tmp_path / "t.tif", (14 + 10 * season).astype(np.float32))
    precipitation = write_raster(tmp_path / "p.tif", (90 + 30 * season).astype(np.float32))
    solar = qgis_process.run(
        "solar_radiation", REFERENCE=reference, METHOD=1, SUNSHINE="0.55",
        OUTPUT=tmp_path / "solar.tif",
    )["results"]  # fmt: skip
    npp = qgis_process.run(
        "casa_npp", NDVI=reference, TEMPERATURE=temperature, PRECIPITATION=precipitation,
        SOLAR=solar["OUTPUT"], OUTPUT=tmp_path / "npp.tif", OUTPUT_FPAR=tmp_path / "fpar.tif",
    )["results"]  # fmt: skip
    annual = read_raster(npp["OUTPUT"])[0]
    # A temperate site at 50.5°N with Potter's ε_max: a few hundred gC·m⁻²·yr⁻¹.
    assert np.all((annual > 100) & (annual < 1500))
    assert read_raster(npp["OUTPUT_FPAR"])[0].shape == (12, 3, 4)
    text = qgis_process.call("help", "mineeco:casa_npp").stdout
    assert "T_ε2" in text and "Thornthwaite" in text


def test_kriging_numeric_outputs(qgis_process, tmp_path):
    rng = np.random.default_rng(2)
    xy = np.column_stack([500000 + rng.uniform(0, 600, 40), 5600000 - rng.uniform(0, 600, 40)])
    values = 3 + 0.002 * (xy[:, 0] - 500000) + rng.normal(0, 0.2, 40)
    path = str(tmp_path / "p.gpkg")
    source = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    layer = source.CreateLayer("p", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("soc", ogr.OFTReal))
    for (x, y), value in zip(xy, values, strict=True):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("soc", float(value))
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(float(x), float(y))
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None
    reference = write_raster(tmp_path / "ref.tif", np.zeros((20, 20), np.float32))
    results = qgis_process.run(
        "kriging", INPUT=path, FIELD="soc", REFERENCE=reference, NEIGHBOURS=12,
        OUTPUT=tmp_path / "k.tif", OUTPUT_VARIANCE=tmp_path / "v.tif",
        OUTPUT_CV=tmp_path / "cv.gpkg", OUTPUT_PLOT=tmp_path / "v.png",
    )["results"]  # fmt: skip
    assert results["MODEL"] in ("spherical", "exponential", "gaussian", "linear")
    assert results["POINTS_USED"] == 40
    assert 0 < results["CV_RMSE"] < 1
    assert 0 < results["CV_R"] <= 1  # the trend is strong: a positive correlation
    assert (tmp_path / "v.png").stat().st_size > 1000
    assert np.isfinite(read_raster(results["OUTPUT"])[0]).all()

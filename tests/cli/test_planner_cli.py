"""restoration_planner headless, as users run it: qgis_process.bin, the weights table of a
resilience_index run given as a CSV file, sites from a GeoPackage."""

import csv

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from rasters import read_raster, write_raster

ORIGIN = (500000.0, 5600000.0)  # rasters.write_raster's default, 30 m pixels, EPSG:32632


def test_planner_from_the_command_line(qgis_process, tmp_path):
    # Forest (2) everywhere but a 4 × 4 barren (7) patch; FVC and LST constant per class.
    cover = np.full((20, 20), 2, dtype=np.uint8)
    cover[8:12, 8:12] = 7
    fvc = np.where(cover == 2, 0.8, 0.1).astype(np.float32)
    lst = np.where(cover == 2, 24.0, 36.0).astype(np.float32)
    layers = {
        "LANDCOVER": write_raster(tmp_path / "cover.tif", cover, dtype=gdal.GDT_Byte),
        "FVC": write_raster(tmp_path / "fvc.tif", fvc),
        "LST": write_raster(tmp_path / "lst.tif", lst),
    }
    index = qgis_process.run(
        "resilience_index",
        FVC=layers["FVC"],
        LST=layers["LST"],
        OUTPUT=tmp_path / "index.tif",
        OUTPUT_WEIGHTS=tmp_path / "weights.csv",
    )["results"]
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "sites.gpkg"))
    layer = source.CreateLayer("sites", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("target", ogr.OFTInteger))
    x0, y0 = ORIGIN[0] + 8 * 30, ORIGIN[1] - 8 * 30
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("target", 2)
    feature.SetGeometry(
        ogr.CreateGeometryFromWkt(
            f"POLYGON(({x0} {y0},{x0 + 120} {y0},{x0 + 120} {y0 - 120},{x0} {y0 - 120},{x0} {y0}))"
        )
    )
    layer.CreateFeature(feature)
    source = None
    result = qgis_process.run(
        "restoration_planner",
        LANDCOVER=layers["LANDCOVER"],
        FVC=layers["FVC"],
        LST=layers["LST"],
        WEIGHTS_TABLE=index["OUTPUT_WEIGHTS"],
        SITES=tmp_path / "sites.gpkg",
        TARGET_FIELD="target",
        CLASSIFICATION=1,
        OUTPUT=tmp_path / "ranking.csv",
        OUTPUT_FOLDER=tmp_path / "deltas",
    )["results"]
    with open(tmp_path / "ranking.csv", encoding="utf-8") as handle:
        rows = {row["site_id"]: row for row in csv.DictReader(handle)}
    # The ranges are the two classes' values, so barren is P = 0 and forest P = 1 whatever the
    # weights: restoring a barren pixel to forest's typical values gains exactly 1, and
    # nothing else changes (no landscape indicator in this index). 16 pixels × 0.09 ha.
    site = rows["1"]
    assert float(site["mean_gain"]) == pytest.approx(1.0, abs=1e-6)
    assert float(site["total_gain"]) == pytest.approx(16 * 0.09, rel=1e-6)
    assert float(site["area_ha"]) == pytest.approx(1.44)
    assert int(site["pixels_up"]) == 16 and int(site["rank"]) == 1  # severe → excellent
    assert site["drivers"].startswith("C3 ")  # FVC has the larger Table 2 weight
    delta, _ = read_raster(tmp_path / "deltas" / "delta_1.tif")
    assert delta.shape == (1, 4, 4)  # no landscape indicator: the region is the site itself
    np.testing.assert_allclose(delta[0], 1.0, atol=1e-6)
    assert result["BEST"] == "1"
    assert float(rows["ALL"]["total_gain"]) == pytest.approx(1.44, rel=1e-6)

"""What the report reads from rasters (GDAL, no QGIS): map frames and scale bars from the
geotransform and CRS, decimated previews, legends from colour tables, category names or QML,
exact block-wise class counts and joint summaries."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, osr
from rasters import class_raster, write_raster

from mine_eco_plugin.engine import Monitor, RasterSource
from mine_eco_plugin.engine.styles import RasterClass
from mine_eco_plugin.report import maps, rasters


def _wkt(epsg: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def test_projected_frame_scale_bar_matches_the_geotransform():
    # 100 × 50 pixels of 30 m in UTM: 3000 m wide → bar 500 m = 500 map units.
    frame = rasters.map_frame((500000.0, 30.0, 0.0, 5600000.0, 0.0, -30.0), 100, 50, _wkt(32632))
    assert frame.extent == (500000.0, 503000.0, 5598500.0, 5600000.0)
    assert frame.aspect == 1.0
    assert (frame.scale.metres, frame.scale.map_units, frame.scale.label) == (500.0, 500.0, "500 m")
    assert "EPSG:32632" in frame.note


def test_feet_crs_scale_bar_in_map_units():
    # EPSG:2263 (NAD83 / New York Long Island, US survey feet): 10,000 ft = 3048 m wide
    # → quarter 762 m → a 500 m bar, 500 / 0.3048006 = 1640.4 ft long on the map.
    frame = rasters.map_frame((1000000.0, 100.0, 0.0, 200000.0, 0.0, -100.0), 100, 10, _wkt(2263))
    assert frame.scale.metres == 500.0
    assert frame.scale.map_units == pytest.approx(500.0 / 0.3048006096, rel=1e-6)


def test_geographic_frame_uses_the_central_latitude():
    # 0.01° pixels, 200 × 100, centred on 45° N: 2° of longitude ≈ 157.7 km → 20 km bar.
    frame = rasters.map_frame((10.0, 0.01, 0.0, 45.5, 0.0, -0.01), 200, 100, _wkt(4326))
    per_lon, per_lat = maps.metres_per_degree(45.0)
    assert frame.scale.metres == 20000.0
    assert frame.scale.map_units == pytest.approx(20000.0 / per_lon)
    assert frame.aspect == pytest.approx(per_lat / per_lon)  # ≈ 1/cos 45° = 1.41
    assert "latitude 45.00°" in frame.note


def test_no_crs_or_rotation_means_no_scale_bar():
    assert rasters.map_frame((0, 1, 0, 0, 0, -1), 10, 10, None).scale is None
    rotated = rasters.map_frame((0, 1, 0.1, 0, 0.1, -1), 10, 10, _wkt(32632))
    assert rotated.scale is None and "Rotated" in rotated.note


def test_preview_is_decimated_and_keeps_codes(tmp_path):
    codes = np.zeros((300, 500), dtype=np.uint8)
    codes[:, 250:] = 2
    codes[:, :250] = 1
    codes[:10, :10] = 0  # NoData
    path = write_raster(tmp_path / "big.tif", codes, nodata=0, dtype=gdal.GDT_Byte)
    preview = rasters.read_preview(path, "CLASSES", max_size=100)
    assert preview.values.shape == (1, 60, 100)
    assert (preview.width, preview.height) == (500, 300)
    assert set(np.unique(preview.values[0][preview.valid])) == {1.0, 2.0}
    assert not preview.valid[0, 0]
    assert "100 × 60 preview of 500 × 300" in preview.frame.note
    # The frame is the full raster's, whatever the preview size.
    assert preview.frame.extent == (500000.0, 515000.0, 5591000.0, 5600000.0)


def test_class_counts_block_by_block_equal_numpy(tmp_path):
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 6, (700, 600)).astype(np.uint16)
    codes[codes == 5] = 300  # a code above 255
    path = write_raster(tmp_path / "codes.tif", codes, nodata=0, dtype=gdal.GDT_UInt16)
    reports = []
    counts = rasters.class_counts(
        RasterSource(path, parameter="CLASSES"),
        memory_mb=1,  # many blocks
        monitor=Monitor(reports.append),
    )
    values, numbers = np.unique(codes[codes != 0], return_counts=True)
    assert counts == dict(zip(values.tolist(), numbers.tolist(), strict=True))
    assert len(reports) > 2 and reports[-1] == pytest.approx(100.0)


def test_class_counts_reject_continuous_rasters(tmp_path):
    path = write_raster(tmp_path / "float.tif", np.array([[0.5, 1.0]]))
    with pytest.raises(rasters.ReportInputError, match="CLASSES: has non-integer values"):
        rasters.class_counts(RasterSource(path, parameter="CLASSES"))
    many = write_raster(tmp_path / "many.tif", np.arange(400.0).reshape(20, 20))
    with pytest.raises(rasters.ReportInputError, match="more than 256 distinct"):
        rasters.class_counts(RasterSource(many, parameter="OTHER"))


def test_class_counts_without_crs(tmp_path):
    path = write_raster(tmp_path / "nocrs.tif", np.array([[1, 2, 2]]), epsg=None)
    assert rasters.class_counts(RasterSource(path, parameter="CLASSES")) == {1: 1, 2: 2}


def test_legends_from_gdal_from_qml_and_fallback(tmp_path):
    gdal_styled = class_raster(tmp_path / "gdal.tif", np.array([[1, 2]], dtype=np.uint8))
    legend = rasters.class_legend(gdal_styled, "CLASSES")
    # Every named class, present or not, with its colour-table colour.
    assert [(e.code, e.label, e.color) for e in legend] == [
        (1, "severe", (215, 25, 28, 255)),
        (2, "poor", (253, 174, 97, 255)),
        (3, "good", (26, 150, 65, 255)),
    ]
    qml_styled = class_raster(
        tmp_path / "qml.tif",
        np.array([[1, 2]], dtype=np.uint8),
        ((1, "slight", (255, 255, 204)), (2, "severe", (189, 0, 38))),
        qml_only=True,
    )
    legend = rasters.class_legend(qml_styled, "OTHER", present=(1, 2, 4))
    assert [(e.code, e.label) for e in legend] == [(1, "slight"), (2, "severe"), (4, "class 4")]
    assert legend[1].color == (189, 0, 38, 255)
    plain = write_raster(tmp_path / "plain.tif", np.array([[1, 2]]), dtype=gdal.GDT_Byte)
    assert rasters.class_legend(plain, "OTHER", fallback=False) is None
    assert not rasters.is_class_raster(plain, "OTHER")
    assert rasters.is_class_raster(qml_styled, "OTHER")
    assert [e.label for e in rasters.class_legend(plain, "OTHER", present=(1, 2))] == [
        "class 1",
        "class 2",
    ]


def test_rgb_channels_and_legend_categories():
    assert rasters.rgb_channels(["red: climate", "green: soil", "blue: mining", "alpha"], {}) == [
        "climate",
        "soil",
        "mining",
    ]
    assert rasters.rgb_channels(["", "", ""], {"RGB": "climate,soil"}) == ["climate", "soil", "-"]
    assert rasters.rgb_channels(["", "", ""], {}) is None
    legend = [
        RasterClass(1, "C: climate", (1, 2, 3, 255)),
        RasterClass(4, "CS: climate > soil (coupled)", (9, 9, 9, 255)),
    ]
    assert rasters.legend_categories(legend) == {"climate": (1, 2, 3, 255)}


def test_interval_counts_by_hand(tmp_path):
    # The stability classes of the report: ≤ 0.5, (0.5, 0.75], (0.75, 0.9], (0.9, 1), 1.
    values = np.array([[0.1, 0.5, 0.6, 0.75], [0.8, 0.95, 1.0, -9.0]])
    path = write_raster(tmp_path / "stability.tif", values, nodata=-9.0)
    bounds = (0.5, 0.75, 0.9, float(np.nextafter(1.0, 0.0)))
    counts, mean = rasters.interval_counts(RasterSource(path, parameter="STABILITY"), bounds)
    assert counts == [2, 2, 1, 1, 1]  # NoData left out
    assert mean == pytest.approx(4.7 / 7)  # (0.1 + 0.5 + 0.6 + 0.75 + 0.8 + 0.95 + 1) / 7


def test_joint_summaries_by_hand(tmp_path):
    # Only the pixels valid in both rasters count: (0, 0) is NoData in a, (1, 2) in b.
    a = np.array([[-9.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, -9.0]])
    sources = [
        RasterSource(write_raster(tmp_path / f"{name}.tif", values, nodata=-9.0), parameter=name)
        for name, values in (("A", a), ("B", b))
    ]
    first, second, difference = rasters.joint_summaries(sources, ((0, 1),))
    # a over (0, 1), (0, 2), (1, 0), (1, 1): 2, 3, 4, 5; b: 1, 1, 2, 2; a − b: 1, 2, 2, 3.
    assert (first.count, first.mean, first.minimum, first.maximum) == (4, 3.5, 2.0, 5.0)
    assert (second.count, second.mean) == (4, 1.5)
    assert (difference.mean, difference.minimum, difference.maximum) == (2.0, 1.0, 3.0)
    assert difference.std == pytest.approx(np.std([1, 2, 2, 3]))


def test_stretch_is_computed_in_float64():
    # Even numbers from 2**24 in float32 (exact): the 2nd percentile of 100 of them is
    # 2**24 + 1.98 · 2 = 16777219.96 by numpy's linear rule, which float32 cannot hold (it
    # rounds to …220). numpy keeps float32 for float32 data with float32 percentiles (and
    # numpy 2 with a scalar one too): the stretch takes the values in float64 whatever it gets.
    values = (2**24 + 2 * np.arange(100)).astype(np.float32).reshape(10, 10)
    valid = np.ones(values.shape, dtype=bool)
    for percentiles in ((2.0, 98.0), np.array([2.0, 98.0], dtype=np.float32)):
        low, high = rasters.stretch(values, valid, percentiles)
        assert low == pytest.approx(16777219.96, abs=1e-6)
        assert high == pytest.approx(16777410.04, abs=1e-6)
    assert rasters.stretch(values, valid) == (low, high)  # STRETCH_PERCENTILES: 2 and 98
    # Only the valid pixels count, and a flat raster gets a unit range.
    valid[:, 5:] = False
    assert rasters.stretch(np.where(valid, 1.0, 1e9), valid) == (1.0, 2.0)

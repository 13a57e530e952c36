"""Landscape indicators of the resilience study's biodiversity and surface criteria: SHDI, FN
and the patch metrics beside them (``landscape_metrics``), and the class-weighted area shares
HAI, BAI and ECO (``human_activity_index``, ``biological_abundance``,
``ecological_elasticity``), in a square moving window or per zone polygon. The numbers come
from ``core.landscape``."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence

import numpy as np
from osgeo import gdal, ogr, osr
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeatureRequest,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingUtils,
)

from .. import engine
from ..core import landscape
from ..core.tables import TableError, lookup_codes
from ..engine import RasterSource
from .base import MineEcoAlgorithm
from .landcover_tables import (
    CLASSIFICATION_HELP,
    CLASSIFICATION_OPTIONS,
    scheme_hint,
    shipped_table,
)

gdal.UseExceptions()
ogr.UseExceptions()

DEFAULT_WINDOW = 33
WINDOW_HELP = (
    "Side of the square moving window in pixels (odd). Default 33: about 1 km at Landsat's "
    "30 m, the evaluation unit of many landscape-ecology studies. Ignored when ZONES is given."
)
LANDCOVER_HELP = (
    "Categorical land-cover raster (whole-number class codes; band 1). Read with nearest-"
    "neighbour resampling; its NoData is no class and no area."
)
ZONES_HELP = (
    "Optional polygons (e.g. a 1 km fishnet or administrative units). When given, every metric "
    "is computed per polygon over the land-cover pixels whose centres it contains (ALL_TOUCHED "
    "for every pixel it touches); the output rasters carry each zone's value over the zone and "
    "OUTPUT_TABLE lists the zones. Where polygons overlap, the later feature wins."
)
TABLE_COLUMNS = ("code", "weight")
#: Bytes per pixel a zone strip needs (keys, graph edges, labels) for the strip height.
ZONE_BYTES_PER_PIXEL = 160


def pixel_area_m2(grid) -> float | None:
    """Area of one pixel in m², or None for a geographic CRS (degrees)."""
    srs = grid.srs()
    if srs.IsGeographic() or not srs.IsProjected():
        return None
    metres = srs.GetLinearUnits() or 1.0
    return grid.pixel_area() * metres * metres


def transform_to_grid(source, grid, context, parameter, feedback=None):
    """The transform of the polygon layer ``source`` (parameter ``parameter``) to the land
    cover's CRS (``grid``); None when it is in that CRS already or has no CRS (then taken to be
    the land cover's, with a warning)."""
    target_crs = QgsCoordinateReferenceSystem.fromWkt(grid.crs_wkt)
    if not source.sourceCrs().isValid():
        if feedback is not None:
            feedback.pushWarning(f"{parameter} has no CRS: taken to be the land cover's")
        return None
    if source.sourceCrs() != target_crs:
        return QgsCoordinateTransform(source.sourceCrs(), target_crs, context.transformContext())
    return None


def ogr_geometry(geometry, transform, what: str):
    """The QGIS ``geometry`` as an OGR geometry in the land cover's CRS (``transform`` from
    ``transform_to_grid``); ``what`` names the feature in the error when it cannot be
    transformed (e.g. "ZONES: feature 3")."""
    if transform is not None:
        try:
            geometry.transform(transform)
        except QgsCsException as error:
            raise QgsProcessingException(
                f"{what} cannot be transformed to the land cover's CRS ({error})"
            ) from None
    return ogr.CreateGeometryFromWkb(bytes(geometry.asWkb()))


class LandscapeAlgorithm(MineEcoAlgorithm):
    """Land cover in, window or zones: the parameters and passes every landscape algorithm
    shares (nearest-neighbour reading, the code scan, zone rasterisation, zone strips)."""

    group_key = "landscape"

    # --- parameters ---------------------------------------------------------------------
    def add_landcover(self):
        self.add_raster("INPUT", "Land cover", LANDCOVER_HELP)

    def add_window_and_zones(self):
        self.add_window(default=DEFAULT_WINDOW, help_text=WINDOW_HELP)
        self.add(
            QgsProcessingParameterFeatureSource(
                "ZONES",
                self.tr("Zones (polygons, optional)"),
                [QgsProcessing.SourceType.TypeVectorPolygon],
                optional=True,
            ),
            ZONES_HELP,
        )
        self.add(
            QgsProcessingParameterField(
                "ZONE_FIELD",
                self.tr("Zone identifier field"),
                parentLayerParameterName="ZONES",
                optional=True,
            ),
            "Attribute written as zone_id in OUTPUT_TABLE (default: the feature id).",
        )
        self.add(
            QgsProcessingParameterBoolean(
                "ALL_TOUCHED", self.tr("Zones take every pixel they touch"), False
            ),
            "Unchecked (default): a pixel belongs to a zone when its centre lies inside.",
            advanced=True,
        )
        self.add_output_table(
            "OUTPUT_TABLE",
            "Zone table",
            "One row per zone (with ZONES only): zone_id, pixels, area_m2 and the metrics.",
            optional=True,
        )

    # --- passes -------------------------------------------------------------------------
    def landcover(self, parameters, context) -> tuple[RasterSource, engine.Grid]:
        source = self.raster_source(parameters, "INPUT", context, bands=(1,), resampling="nearest")
        return source, engine.resolve_grid([source])

    def scan_codes(self, source, grid, monitor, known: Sequence[float] | None = None) -> list[int]:
        """The whole-number codes present in the land cover (one read-only pass); an error
        naming INPUT lists codes that are not whole numbers or not in ``known``."""
        present: set[float] = set()

        def visit(window, block):
            present.update(landscape.distinct_codes(block[0]).tolist())

        self.scan(visit, [source], grid=grid, monitor=monitor)
        try:
            codes = landscape.check_codes(present, known)
        except landscape.UnknownCodes as error:
            hint = "" if known is None else "; add them to the table (TABLE or TABLE_MATRIX)"
            classification = getattr(self, "classification", None)
            if known is not None and classification is not None:
                hint = scheme_hint(error.codes, present, classification) or hint
            raise QgsProcessingException(f"INPUT: {error}{hint}") from None
        if not codes:
            raise QgsProcessingException("INPUT: the land cover has no valid pixels")
        return codes

    def zone_raster(
        self, parameters, context, grid, folder, feedback=None
    ) -> tuple[str, list[str]] | None:
        """ZONES burnt onto the land-cover grid as 1-based zone numbers (0 = no zone), in a
        temporary GeoTIFF; None without zones. Returns the path and each zone's identifier."""
        source = self.parameterAsSource(parameters, "ZONES", context)
        if source is None:
            return None
        field = self.parameterAsString(parameters, "ZONE_FIELD", context)
        all_touched = self.parameterAsBool(parameters, "ALL_TOUCHED", context)
        transform = transform_to_grid(source, grid, context, "ZONES", feedback)
        srs = osr.SpatialReference()
        srs.ImportFromWkt(grid.crs_wkt)
        memory = ogr.GetDriverByName("Memory").CreateDataSource("zones")
        layer = memory.CreateLayer("zones", srs, ogr.wkbMultiPolygon)
        layer.CreateField(ogr.FieldDefn("zone", ogr.OFTInteger))
        identifiers: list[str] = []
        for feature in source.getFeatures(QgsFeatureRequest()):
            geometry = feature.geometry()
            if geometry is None or geometry.isEmpty():
                continue
            shape = ogr_geometry(geometry, transform, f"ZONES: feature {feature.id()}")
            identifiers.append(str(feature[field]) if field else str(feature.id()))
            row = ogr.Feature(layer.GetLayerDefn())
            row.SetField("zone", len(identifiers))
            row.SetGeometry(shape)
            layer.CreateFeature(row)
        if not identifiers:
            raise QgsProcessingException("ZONES: the layer has no polygons")
        path = str(folder / "zones.tif")
        dataset = gdal.GetDriverByName("GTiff").Create(
            path,
            grid.width,
            grid.height,
            1,
            gdal.GDT_Int32,
            ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"],
        )
        dataset.SetGeoTransform(grid.geotransform)
        dataset.SetProjection(grid.crs_wkt)
        dataset.GetRasterBand(1).SetNoDataValue(0)
        options = ["ATTRIBUTE=zone"] + (["ALL_TOUCHED=TRUE"] if all_touched else [])
        gdal.RasterizeLayer(dataset, [1], layer, options=options)
        dataset = None
        return path, identifiers

    def zone_strips(
        self, sources, grid, monitor, bytes_per_pixel=ZONE_BYTES_PER_PIXEL
    ) -> Iterator[list[np.ndarray]]:
        """Full-width strips of every source (2-D float arrays, NaN NoData), top to bottom,
        as many rows at a time as the memory budget allows."""
        for _, blocks in self.strips(
            sources, grid, bytes_per_pixel=bytes_per_pixel, monitor=monitor
        ):
            yield [block[0] for block in blocks]

    def write_zone_values(self, source, zones_path, grid, targets, values, monitor):
        """Each zone's values over its pixels (NoData outside zones and on NoData land cover):
        ``values`` holds one array over zones per target."""
        zone_source = RasterSource(zones_path, parameter="ZONES", resampling="nearest")

        def kernel(cover, zones):
            zone = zones[0]
            inside = ~np.isnan(cover[0]) & ~np.isnan(zone) & (zone >= 1)
            number = np.where(inside, zone, 1).astype(np.int64) - 1
            results = []
            for per_zone in values:
                out = np.asarray(per_zone, dtype=np.float64)[number]
                out[~inside] = np.nan
                results.append(out)
            return results

        self.run_blocks(
            kernel,
            [source, zone_source],
            targets,
            grid=grid,
            monitor=monitor,
        )

    def temporary_folder(self):
        from pathlib import Path

        return Path(tempfile.mkdtemp(prefix="mineeco_zones_", dir=QgsProcessingUtils.tempFolder()))


class LandscapeMetrics(LandscapeAlgorithm):
    algorithm_id = "landscape_metrics"
    display_name = "Landscape metrics (SHDI, FN, patches)"
    summary = (
        "Landscape diversity and fragmentation of a land-cover map in a square moving window "
        "around every pixel, or per zone polygon: Shannon diversity SHDI (the resilience study's "
        "indicator C14) and fragmentation FN (C15), with the number of patches NP, patch "
        "density PD, Shannon evenness SHEI and (per zone) the largest patch index LPI. Patches "
        "are counted in the map clipped to the window: a patch cut by the window edge counts, "
        "and one that leaves the window and re-enters counts once per piece (FRAGSTATS' moving-"
        "window rule). The count is exact for every configuration (holes, corner contacts) and "
        "its cost per pixel does not grow with the window: NP = Σ Euler characteristics + Σ "
        "holes, the Euler characteristics from window sums of 2×2 pattern counts (Gray 1971) "
        "and the holes from one labelling per class of each block (see core/landscape.py). "
        "Whole-landscape values equal pylandstats' (NP, PD, LPI) on the NC land-cover map. "
        "LPI needs the whole patch areas, so it is given per zone only (use one polygon over "
        "the map for the whole landscape)."
    )
    formula = (
        "SHDI = −Σᵢ pᵢ·ln pᵢ, pᵢ = class i's share of the valid pixels (FRAGSTATS; Eq. 14)\n"
        "SHEI = SHDI / ln m, m = number of classes present (0 when m = 1)\n"
        "NP = number of patches (8-neighbour rule by default, 4 optional)\n"
        "PD = NP / A · 10⁶ patches per 100 ha, A = valid area in m² (FRAGSTATS)\n"
        "FN (Eq. 13, default) = MPS·(Nf − 1)/Nc, MPS = mean patch area / a_min, Nf = NP, "
        "Nc = A / a_min. With Nf = NP this equals (NP − 1)/NP whatever a_min is.\n"
        "FN (landscape form of Chen & Fu 1996, FN_FORM = 1) = (NP − 1)/Nc, a_min = MIN_PATCH "
        "pixels (default 1 pixel, the smallest mappable patch)\n"
        "LPI = largest patch area / A · 100 (per zone)"
    )
    nodata_rule = (
        "NoData land cover is no class and no area: windows and zones count valid pixels only "
        "(and pixels beyond the raster edge are outside every window). A NoData centre pixel is "
        "NoData in every output; in zone mode so are pixels outside every zone."
    )
    references = (
        "McGarigal, K. & Marks, B.J. (1995) FRAGSTATS: spatial pattern analysis program for "
        "quantifying landscape structure. USDA For. Serv. Gen. Tech. Rep. PNW-GTR-351 (SHDI, "
        "SHEI, NP, PD, LPI).",
        "Chen, L. & Fu, B. (1996) Analysis of impact of human activity on landscape structure in "
        "Yellow River Delta: a case study of Dongying region. Acta Ecologica Sinica 16(4), "
        "337–344 (FN).",
        "The resilience study, Eq. 13–14.",
        "Gray, S.B. (1971) Local properties of binary images in two dimensions. IEEE Trans. "
        "Comput. C-20(5), 551–561 (Euler number from 2×2 pattern counts).",
    )

    OUTPUTS = (
        ("OUTPUT_SHDI", "SHDI", "Shannon diversity index (ln units), float32.", False),
        ("OUTPUT_FN", "Fragmentation FN", "Landscape fragmentation, dimensionless.", "side"),
        ("OUTPUT_NP", "Number of patches NP", "Patches in the window or zone.", True),
        ("OUTPUT_PD", "Patch density PD", "Patches per 100 ha (projected CRS in metres).", True),
        ("OUTPUT_SHEI", "Shannon evenness SHEI", "SHDI / ln(classes present), 0–1.", True),
        ("OUTPUT_LPI", "Largest patch index LPI", "Per zone only: % of the zone's area.", True),
    )

    def initAlgorithm(self, config=None):
        self.add_landcover()
        self.add_window_and_zones()
        self.add_enum(
            "CONNECTIVITY",
            "Patch neighbour rule",
            ["8 neighbours (FRAGSTATS default)", "4 neighbours"],
            0,
            "Pixels of one class touching at a corner belong to one patch with the 8-neighbour "
            "rule, to two with the 4-neighbour rule.",
        )
        self.add_enum(
            "FN_FORM",
            "FN form",
            ["Eq. 13: MPS·(Nf − 1)/Nc", "Landscape form: (Np − 1)/Nc"],
            0,
            "Eq. 13 of the resilience study (Chen & Fu 1996) with Nf = all patches, or Chen & Fu's "
            "landscape-level form, which scales with patch density.",
        )
        self.add_number(
            "MIN_PATCH",
            "Minimum patch area a_min (pixels)",
            1.0,
            "Unit of MPS and Nc in FN (Chen & Fu 1996: the smallest patch; on a raster, one "
            "pixel). Cancels out of the Eq. 13 form.",
            minimum=1e-9,
            advanced=True,
        )
        self.add_output_nodata()
        for name, description, help_text, optional in self.OUTPUTS:
            self.add_output_raster(
                name,
                description,
                help_text,
                optional=optional is True,
                side=optional == "side",
            )

    def process(self, parameters, context, feedback):
        connectivity = landscape.CONNECTIVITIES[
            self.parameterAsEnum(parameters, "CONNECTIVITY", context)
        ]
        fn_form = landscape.FN_FORMS[self.parameterAsEnum(parameters, "FN_FORM", context)]
        min_patch = self.parameterAsDouble(parameters, "MIN_PATCH", context)
        if not min_patch > 0:
            raise QgsProcessingException(f"MIN_PATCH: must be positive, got {min_patch}")
        window = self.window_size(parameters, "WINDOW", context)
        zoned = self.parameterAsSource(parameters, "ZONES", context) is not None
        source, grid = self.landcover(parameters, context)
        monitor = self.monitor(feedback)
        codes = self.scan_codes(source, grid, monitor.span(0.0, 0.15))
        area = pixel_area_m2(grid)
        settings = {
            "WINDOW": "zones" if zoned else window,
            "CONNECTIVITY": connectivity,
            "FN_FORM": fn_form,
            "MIN_PATCH_PIXELS": min_patch,
            "CLASSES": ",".join(map(str, codes)),
        }
        feedback.pushInfo(
            f"Classes {settings['CLASSES']}; {connectivity}-neighbour patches; FN form "
            f"{fn_form}, a_min = {min_patch:g} pixel(s); "
            + ("per zone" if zoned else f"{window}×{window} window")
        )
        targets = {
            name: self.raster_target(parameters, name, context, metadata=settings)
            for name, *_ in self.OUTPUTS
        }
        if targets["OUTPUT_PD"] is not None and area is None:
            raise QgsProcessingException(
                "OUTPUT_PD: patch density needs areas in m²; INPUT is in a geographic CRS "
                "(reproject it to a projected CRS in metres)"
            )
        if zoned:
            results = self.by_zone(
                parameters, context, source, grid, codes, targets, area, settings, monitor, feedback
            )
        else:
            if targets["OUTPUT_LPI"] is not None:
                raise QgsProcessingException(
                    "OUTPUT_LPI: the largest patch index is computed per zone only; give ZONES "
                    "(one polygon over the map gives the whole-landscape value)"
                )
            self.by_window(source, grid, codes, window, targets, area, settings, monitor)
            results = {}
        results.update(self.outputs(targets))
        return results

    def by_window(self, source, grid, codes, window, targets, area, settings, monitor):
        want_patches = any(
            targets[name] is not None for name in ("OUTPUT_NP", "OUTPUT_PD", "OUTPUT_FN")
        )
        halo = window // 2
        order = ("OUTPUT_SHDI", "OUTPUT_FN", "OUTPUT_NP", "OUTPUT_PD", "OUTPUT_SHEI")

        def kernel(block):
            metrics = landscape.window_metrics(
                block[0],
                codes,
                window,
                connectivity=settings["CONNECTIVITY"],
                pixel_area_m2=area or 1.0,
                min_patch_pixels=settings["MIN_PATCH_PIXELS"],
                fn_form=settings["FN_FORM"],
                crop=halo,
                want_patches=want_patches,
            )
            return [
                metrics.shdi,
                metrics.fn,
                metrics.n_patches,
                metrics.patch_density,
                metrics.shei,
            ]

        outputs = [targets[name] for name in order]
        # Per pixel: class indices, a count per class present, the pattern sums and the hole
        # labels: about 160 bytes plus 8 per class.
        bands = 1 + sum(t is not None for t in outputs)
        self.run_blocks(
            kernel,
            [source],
            outputs,
            grid=grid,
            halo=halo,
            work_factor=max(4.0, (160 + 8 * len(codes)) / (4 * bands)),
            monitor=monitor.span(0.15, 1.0),
        )

    def by_zone(
        self, parameters, context, source, grid, codes, targets, area, settings, monitor, feedback
    ):
        folder = self.temporary_folder()
        try:
            zones_path, identifiers = self.zone_raster(parameters, context, grid, folder, feedback)
            n_zones, n_classes = len(identifiers), len(codes)
            counter = landscape.ZonePatches(n_zones, n_classes, settings["CONNECTIVITY"])
            class_pixels = np.zeros(n_zones * n_classes, dtype=np.int64)
            zone_source = RasterSource(zones_path, parameter="ZONES", resampling="nearest")
            for cover, zones in self.zone_strips(
                [source, zone_source], grid, monitor.span(0.15, 0.7)
            ):
                index = landscape.class_index(cover, codes)
                zone = np.where(np.isnan(zones), 0, zones).astype(np.int64) - 1
                keys = landscape.zone_keys(index, zone, n_classes)
                class_pixels += np.bincount(keys[keys >= 0], minlength=class_pixels.size)
                counter.add(keys)
            counter.finish()
            metrics = landscape.zone_metrics(
                class_pixels.reshape(n_zones, n_classes),
                counter.patches,
                counter.largest,
                pixel_area_m2=area or 1.0,
                min_patch_pixels=settings["MIN_PATCH_PIXELS"],
                fn_form=settings["FN_FORM"],
            )
            density = metrics.patch_density if area else np.full(n_zones, np.nan)
            per_output = {
                "OUTPUT_SHDI": metrics.shdi,
                "OUTPUT_FN": metrics.fn,
                "OUTPUT_NP": metrics.n_patches,
                "OUTPUT_PD": density,
                "OUTPUT_SHEI": metrics.shei,
                "OUTPUT_LPI": metrics.largest_patch_index,
            }
            names = [name for name, target in targets.items() if target is not None]
            if names:
                self.write_zone_values(
                    source,
                    zones_path,
                    grid,
                    [targets[name] for name in names],
                    [per_output[name] for name in names],
                    monitor.span(0.7, 1.0),
                )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        columns = [
            ("zone_id", str),
            ("pixels", int),
            ("area_m2", float),
            ("shdi", float),
            ("shei", float),
            ("np", float),
            ("pd", float),
            ("lpi", float),
            ("fn", float),
        ] + [(f"pct_{code}", float) for code in codes]
        rows = []
        for z, identifier in enumerate(identifiers):
            total = metrics.pixels[z]
            shares = metrics.class_pixels[z] / total * 100.0 if total else [None] * len(codes)
            rows.append(
                [
                    identifier,
                    int(total),
                    total * area if area else None,
                    *(
                        _number(v[z])
                        for v in (
                            metrics.shdi,
                            metrics.shei,
                            metrics.n_patches,
                            density,
                            metrics.largest_patch_index,
                            metrics.fn,
                        )
                    ),
                    *(_number(s) for s in shares),
                ]
            )
        destination = self.write_table(parameters, "OUTPUT_TABLE", context, columns, rows)
        return {"OUTPUT_TABLE": destination} if destination else {}


def _number(value):
    """A float for a table cell; None (NULL) for NaN or a missing value."""
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value


class WeightedShareAlgorithm(LandscapeAlgorithm):
    """V = SCALE · Σᵢ Aᵢ·wᵢ / TA in a window or zone, wᵢ from a class table: HAI, BAI and ECO
    are this one mechanism with their own tables (and BAI's A_bio)."""

    #: Key of the shipped tables in landcover_tables.TABLES.
    indicator = ""
    table_help = ""
    output_description = ""
    value_column = "value"

    def add_scale(self):
        """Extra parameters (BAI's A_bio)."""

    def scale(self, parameters, context) -> float:
        return 1.0

    def initAlgorithm(self, config=None):
        self.add_landcover()
        self.add_table(
            "TABLE",
            "Class table",
            TABLE_COLUMNS,
            None,
            f"{self.table_help} Blank: the shipped table of the chosen land-cover classification.",
        )
        self.add_enum(
            "CLASSIFICATION",
            "Land-cover classification (shipped table)",
            CLASSIFICATION_OPTIONS,
            0,
            CLASSIFICATION_HELP,
        )
        self.add_window_and_zones()
        self.add_scale()
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", self.output_description, f"{self.output_description}.")

    def weights(self, parameters, context) -> dict[int, float]:
        classification = self.parameterAsEnum(parameters, "CLASSIFICATION", context)
        shipped = shipped_table(self.indicator, classification)
        rows = self.read_table(
            parameters,
            "TABLE",
            context,
            TABLE_COLUMNS,
            numeric=TABLE_COLUMNS,
            fallback_csv=shipped,
        )
        given = self.table_given(parameters, "TABLE", context)
        # A hint about the classification only helps when the shipped table is in use.
        self.classification = classification if given is None else None
        source = given or "TABLE"
        try:
            return lookup_codes(rows, "code", "weight")
        except TableError as error:
            raise QgsProcessingException(f"{source}: {error}") from None

    def process(self, parameters, context, feedback):
        weights = self.weights(parameters, context)
        scale = self.scale(parameters, context)
        window = self.window_size(parameters, "WINDOW", context)
        zoned = self.parameterAsSource(parameters, "ZONES", context) is not None
        source, grid = self.landcover(parameters, context)
        monitor = self.monitor(feedback)
        codes = self.scan_codes(source, grid, monitor.span(0.0, 0.15), known=list(weights))
        used = {code: weights[code] for code in codes}
        table_text = ";".join(f"{code}:{weight:g}" for code, weight in sorted(weights.items()))
        feedback.pushInfo(
            "Weights of the classes present: "
            + ", ".join(f"{code} → {weight:g}" for code, weight in used.items())
            + (f"; scale {scale:g}" if scale != 1.0 else "")
            + ("; per zone" if zoned else f"; {window}×{window} window")
        )
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            metadata={"WINDOW": "zones" if zoned else window, "SCALE": scale, "TABLE": table_text},
        )
        results = {}
        if zoned:
            results.update(
                self.by_zone(
                    parameters, context, source, grid, used, scale, target, monitor, feedback
                )
            )
        else:
            halo = window // 2
            self.run_blocks(
                lambda block: landscape.weighted_share(
                    block[0], used, window, scale=scale, crop=halo
                ),
                [source],
                [target],
                grid=grid,
                halo=halo,
                work_factor=12.0,
                monitor=monitor.span(0.15, 1.0),
            )
        results.update(self.outputs({"OUTPUT": target}))
        return results

    def by_zone(
        self, parameters, context, source, grid, weights, scale, target, monitor, feedback=None
    ):
        folder = self.temporary_folder()
        try:
            zones_path, identifiers = self.zone_raster(parameters, context, grid, folder, feedback)
            n_zones = len(identifiers)
            sums = np.zeros(n_zones)
            counts = np.zeros(n_zones)
            zone_source = RasterSource(zones_path, parameter="ZONES", resampling="nearest")
            for cover, zones in self.zone_strips(
                [source, zone_source], grid, monitor.span(0.15, 0.7), bytes_per_pixel=40
            ):
                zone = np.where(np.isnan(zones), 0, zones).astype(np.int64) - 1
                block_sums, block_counts = landscape.zone_weighted_share(
                    cover, zone, weights, n_zones
                )
                sums += block_sums
                counts += block_counts
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.where(counts > 0, scale * sums / counts, np.nan)
            if target is not None:
                self.write_zone_values(
                    source, zones_path, grid, [target], [values], monitor.span(0.7, 1.0)
                )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        area = pixel_area_m2(grid)
        columns = [
            ("zone_id", str),
            ("pixels", int),
            ("area_m2", float),
            (self.value_column, float),
        ]
        rows = [
            [identifier, int(counts[z]), counts[z] * area if area else None, _number(values[z])]
            for z, identifier in enumerate(identifiers)
        ]
        destination = self.write_table(parameters, "OUTPUT_TABLE", context, columns, rows)
        return {"OUTPUT_TABLE": destination} if destination else {}


SHARE_NODATA = (
    "NoData land cover is no class and no area (TA counts valid pixels only; pixels beyond the "
    "raster edge are outside the window). A NoData centre pixel is NoData in the output; in "
    "zone mode so are pixels outside every zone. Codes present in the raster but missing from "
    "the table are an error that lists them."
)
SHARE_FORMULA = (
    "V = {scale}Σᵢ Aᵢ·{w}ᵢ / TA over the classes i in the window (or zone); Aᵢ the area of class "
    "i, TA the valid area (equal pixel areas cancel: V is the window's mean class weight)."
)


class HumanActivityIndex(WeightedShareAlgorithm):
    algorithm_id = "human_activity_index"
    display_name = "Human activity index (HAI)"
    summary = (
        "Human activity intensity HAI (the resilience study's Eq. 7, indicator C6): the "
        "area-weighted "
        "mean of a per-class human-impact coefficient Pᵢ in a moving window or zone. The default "
        "table gives the construction-land-equivalent coefficients of Xu, Sun & Tang (2015) for "
        "the second-level classes of China's land-use classification (CNLUCC codes 11–67); no "
        "mining-specific standard exists, so map your own codes in TABLE or TABLE_MATRIX."
    )
    formula = (
        SHARE_FORMULA.format(scale="", w="P")
        + "\nDefault Pᵢ (Xu et al. 2015): built-up (urban, rural, industry, mines, transport) 1; "
        "cropland 0.2; other forest 0.133; sparse forest, high/medium grass, reservoirs 0.067; "
        "closed forest, shrub, low grass, rivers, lakes, tidal flats, unused land 0."
    )
    nodata_rule = SHARE_NODATA
    references = (
        "Xu, Y., Sun, X. & Tang, Q. (2015) Human activity intensity of land surface: concept, "
        "methods and application in China. Acta Geographica Sinica 70(7), 1068–1079.",
        "The resilience study, Eq. 7.",
    )
    indicator = "hai"
    table_help = "Human-impact coefficient P (column weight) per land-cover code (column code)."
    output_description = "HAI"
    value_column = "hai"


class BiologicalAbundance(WeightedShareAlgorithm):
    algorithm_id = "biological_abundance"
    display_name = "Biological abundance index (BAI)"
    summary = (
        "Biological abundance index BAI (the resilience study's Eq. 12, indicator C12), as in the "
        "Chinese eco-environmental status standard HJ/T 192-2006: A_bio times the area-weighted "
        "mean of a per-class habitat weight in a moving window or zone. The default table gives "
        "each CNLUCC second-level class the product of its category weight (woodland 0.35, "
        "grassland 0.21, water and wetland 0.28, cropland 0.11, construction land 0.04, unused "
        "land 0.01) and its sub-class weight (see the table's header; medium confidence). "
        "A_bio = 511.2642131067 normalises the national maximum of the standard to 100; local "
        "values can exceed 100 (e.g. closed forest alone: 511.26 × 0.21 = 107.4) and are not "
        "clipped."
    )
    formula = SHARE_FORMULA.format(scale="A_bio·", w="w") + (
        "\nwᵢ = category weight × sub-class weight (HJ/T 192-2006); A_bio = 511.2642131067."
    )
    nodata_rule = SHARE_NODATA
    references = (
        "HJ/T 192-2006 Technical criterion for eco-environmental status evaluation. Ministry of "
        "Environmental Protection of China (biological abundance index, A_bio).",
        "The resilience study, Eq. 12.",
    )
    indicator = "bai"
    table_help = "Habitat weight (column weight) per land-cover code (column code)."
    output_description = "BAI"
    value_column = "bai"

    def add_scale(self):
        self.add_number(
            "A_BIO",
            "Normalisation coefficient A_bio",
            511.2642131067,
            "Multiplies the weighted share (HJ/T 192-2006: 511.2642131067).",
            minimum=0.0,
        )

    def scale(self, parameters, context) -> float:
        return self.parameterAsDouble(parameters, "A_BIO", context)


class EcologicalElasticity(WeightedShareAlgorithm):
    algorithm_id = "ecological_elasticity"
    display_name = "Ecological elasticity (ECO)"
    summary = (
        "Landscape ecological elasticity ECO (the resilience study's indicator C13): the area-"
        "weighted mean of a per-class elasticity coefficient Eᵢ in a moving window or zone. No "
        "authoritative coefficient table was found: the default table is an explicit, editable "
        "example (woodland 0.9, water and wetland 0.8, grassland 0.7, cropland 0.6, built-up "
        "0.2, unused 0.1 for the CNLUCC classes) of the kind used in Chinese landscape studies; "
        "give the coefficients of the study you follow in TABLE or TABLE_MATRIX."
    )
    formula = SHARE_FORMULA.format(scale="", w="E")
    nodata_rule = SHARE_NODATA
    references = ("The resilience study, indicator C13 (ECO).",)
    indicator = "eco"
    table_help = "Elasticity coefficient E (column weight) per land-cover code (column code)."
    output_description = "ECO"
    value_column = "eco"

"""Where to restore first: candidate reclamation sites ranked by the resilience index they would
gain, under the baseline index run's own weights, trends and normalisation ranges. The numbers
come from ``core.planner`` (scenario indicators, Δ-index and its summaries)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr
from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputRasterLayer,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
)

from .. import engine
from ..core import evaluation_weights as weighting
from ..core import landscape as landscape_core
from ..core import planner
from ..core.tables import TableError, lookup_codes
from ..engine import AlignedRaster, Grid, RasterTarget, RasterWriter, Window
from ..report.charts import gain_cost_figure
from .evaluation_support import EvaluationAlgorithm
from .landcover_tables import CLASSIFICATION_HELP, CLASSIFICATION_OPTIONS, shipped_table
from .landscape import DEFAULT_WINDOW, ogr_geometry, pixel_area_m2, transform_to_grid
from .resilience import SLOTS, slot_band

gdal.UseExceptions()
ogr.UseExceptions()

RANKINGS = ("gain_per_ha", "total_gain", "gain_per_cost")
RANK_LABELS = (
    "Gain per hectare of site (total gain / site area)",
    "Total gain (index · ha)",
    "Gain per unit cost (needs COST_FIELD)",
)
FACTORS = ("R_FACTOR", "K_FACTOR", "LS_FACTOR", "C_FACTOR")
#: Table 2 indicators recomputed from the land cover, with their class table key.
SHARE_TABLES = {"HAI": "hai", "BAI": "bai", "ECO": "eco"}
#: Table columns taken from a row as they are, in order (the per-indicator gains follow).
ROW_KEYS = (
    "site_id",
    "scenario",
    "target",
    "rank",
    "area_ha",
    "changed_ha",
    "cost_per_ha",
    "cost",
    "mean_gain",
    "total_gain",
    "gain_per_ha",
    "gain_per_cost",
    "pixels_up",
    "pixels_down",
    "drivers",
)
#: Relative difference between a baseline landscape layer and the planner's recomputation of
#: it above which the settings are said to differ.
CONSISTENCY_TOLERANCE = 1e-4


@dataclass
class Site:
    """One candidate site: identity, target, geometry in the grid's CRS, its pixel box."""

    number: int
    identifier: str
    target: int
    cost_per_ha: float | None
    geometry: ogr.Geometry
    box: Window | None = None  # the site's pixels (None: outside the grid)
    mask: np.ndarray | None = None  # over ``box``
    fills: dict[str, float] = field(default_factory=dict)  # slot → median of the target class
    reference_pixels: int | None = None
    changes: bool = False
    file_stem: str = ""

    @property
    def pixels(self) -> int:
        return 0 if self.mask is None else int(self.mask.sum())


@dataclass
class Scene:
    """What every scenario of a run reads and computes with."""

    grid: Grid
    rasters: dict[str, AlignedRaster | None]
    system: planner.IndexSystem
    model: planner.LandscapeModel
    reach: int
    p_table: dict[int, float] | None
    pixel_ha: float
    breaks: tuple[float, ...]
    #: slot → largest relative difference between a baseline landscape layer and the
    #: planner's recomputation of it from the unedited land cover.
    mismatch: dict[str, float] = field(default_factory=dict)

    def close(self):
        for raster in self.rasters.values():
            if raster is not None:
                raster.close()


@dataclass
class Outputs:
    """The rasters written to OUTPUT_FOLDER: each is finished as soon as it is computed and
    renamed into place by ``commit`` at the end of the run (or deleted by ``discard``)."""

    folder: str
    nodata: float
    write_indicators: bool
    algorithm_id: str
    #: Resolved paths of the run's input files, which no output may replace.
    inputs: set[str] = field(default_factory=set)
    writers: list[RasterWriter] = field(default_factory=list)

    def layer(self, name: str, grid: Grid, region: Window, values, metadata) -> str:
        """<name>.tif over ``region``: ``values`` an array, or a function giving the strips
        (first row, array) of a raster too large to hold at once."""
        path = str(Path(self.folder) / f"{name}.tif")
        if str(Path(path).resolve()) in self.inputs:
            raise QgsProcessingException(
                f"OUTPUT_FOLDER: {path} is an input of this run; choose another folder"
            )
        target = RasterTarget(
            path,
            parameter="OUTPUT_FOLDER",
            nodata=self.nodata,
            metadata={
                "MINEECO_ALGORITHM": self.algorithm_id,
                **{k: str(v) for k, v in metadata.items()},
            },
        )
        writer = RasterWriter(target, sub_grid(grid, region))
        self.writers.append(writer)
        if callable(values):  # strips: (first row, values) pairs
            for row, strip in values():
                writer.write(Window(0, row, region.width, strip.shape[0]), strip)
        else:
            writer.write(Window(0, 0, region.width, region.height), values)
        writer.finish()
        return path

    def scenario(self, stem, grid, region, delta, indicators, metadata) -> str | None:
        """delta_<stem>.tif (and <stem>_<slot>.tif with WRITE_INDICATORS); None without a
        folder."""
        if not self.folder:
            return None
        path = self.layer(f"delta_{stem}", grid, region, delta, {**metadata, "LAYER": "delta"})
        self.indicators(stem, grid, region, indicators, metadata)
        return path

    def indicators(self, stem, grid, region, indicators, metadata) -> None:
        if self.folder and self.write_indicators:
            for slot, values in indicators.items():
                self.layer(f"{stem}_{slot}", grid, region, values, {**metadata, "LAYER": slot})

    def commit(self):
        for writer in self.writers:
            writer.commit()
        self.writers.clear()

    def discard(self):
        for writer in self.writers:
            writer.discard()
        self.writers.clear()


def safe_name(text: str) -> str:
    """A file-name-safe version of a site identifier."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "site"


def grow(box: Window, margin: int, grid: Grid) -> Window:
    """``box`` grown by ``margin`` pixels on every side, clipped to the grid."""
    col0, row0 = max(box.col - margin, 0), max(box.row - margin, 0)
    col1 = min(box.col + box.width + margin, grid.width)
    row1 = min(box.row + box.height + margin, grid.height)
    return Window(col0, row0, col1 - col0, row1 - row0)


def union(boxes) -> Window:
    col0 = min(b.col for b in boxes)
    row0 = min(b.row for b in boxes)
    col1 = max(b.col + b.width for b in boxes)
    row1 = max(b.row + b.height for b in boxes)
    return Window(col0, row0, col1 - col0, row1 - row0)


def sub_grid(grid: Grid, window: Window) -> Grid:
    return Grid(window.width, window.height, grid.window_geotransform(window), grid.crs_wkt)


def paste(values: np.ndarray, source: Window, target: Window) -> np.ndarray:
    """``values`` over ``source`` placed into an array over ``target`` (False elsewhere),
    for masks of sub-windows."""
    out = np.zeros((target.height, target.width), dtype=values.dtype)
    r, c = source.row - target.row, source.col - target.col
    out[r : r + source.height, c : c + source.width] = values
    return out


def burn(geometries, grid: Grid, window: Window) -> np.ndarray:
    """Pixels of ``window`` whose centres lie inside any of ``geometries`` (bool)."""
    dataset = gdal.GetDriverByName("MEM").Create("", window.width, window.height, 1, gdal.GDT_Byte)
    dataset.SetGeoTransform(grid.window_geotransform(window))
    dataset.SetProjection(grid.crs_wkt)
    memory = ogr.GetDriverByName("Memory").CreateDataSource("sites")
    layer = memory.CreateLayer("sites", grid.srs(), ogr.wkbUnknown)
    for geometry in geometries:
        row = ogr.Feature(layer.GetLayerDefn())
        row.SetGeometry(geometry)
        layer.CreateFeature(row)
    gdal.RasterizeLayer(dataset, [1], layer, burn_values=[1])
    return dataset.GetRasterBand(1).ReadAsArray().astype(bool)


def pixel_box(geometry: ogr.Geometry, grid: Grid) -> Window | None:
    """The grid pixels the geometry's envelope covers (clipped), None outside the grid."""
    xmin, xmax, ymin, ymax = geometry.GetEnvelope()
    x0, dx, _, y0, _, dy = grid.geotransform
    cols = sorted(((xmin - x0) / dx, (xmax - x0) / dx))
    rows = sorted(((ymin - y0) / dy, (ymax - y0) / dy))
    col0, col1 = max(int(math.floor(cols[0])), 0), min(int(math.ceil(cols[1])), grid.width)
    row0, row1 = max(int(math.floor(rows[0])), 0), min(int(math.ceil(rows[1])), grid.height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def write_chart(path: str, rows: list[dict], cost_given: bool, rank_label: str) -> None:
    """Total gain (index · ha) of each site against its cost (or its area without costs),
    labelled with the site id and rank (the report's chart). PNG via matplotlib's Agg canvas
    (no GUI backend)."""
    gain_cost_figure(rows, cost_given, f"Candidate sites, ranked by {rank_label.lower()}").savefig(
        path
    )


class RestorationPlanner(EvaluationAlgorithm):
    algorithm_id = "restoration_planner"
    display_name = "Restoration planner (where to restore first)"
    group_key = "evaluation"
    summary = (
        "Ranks candidate reclamation sites by how much the resilience study's resilience index "
        "would gain if each site's land cover became its target class (e.g. mine land → "
        "forest, tailings → grassland). It takes the indicator layers and the weights table "
        "(OUTPUT_WEIGHTS) of the index run it starts from — the same weights, trends and "
        "normalisation ranges, so the baseline is reproduced exactly — and evaluates each site "
        "alone against that baseline, and optionally all sites together. How each indicator "
        "is modelled where the land cover changes: HAI, BAI and ECO (class tables) and SHDI and "
        "FN (window metrics) are recomputed on the edited land cover with the kernels of "
        "'Human activity index', 'Biological abundance', 'Ecological elasticity' and "
        "'Landscape metrics', at every pixel whose window holds a changed pixel (so the effect "
        "reaches half a window beyond the site); the spectral and thermal indicators (DDI, FVC, "
        "VHI, wetness, dryness, LST, albedo, brightness) take the median of the target class's "
        "pixels within RADIUS of the site (reported per site; an error names the site when "
        "fewer than MIN_PIXELS such pixels exist); soil erosion is R·K·LS·C·P with the target "
        "class's P (P table) and the median C of the target class nearby; population, PM2.5 "
        "and CO2 do not change. Pixels whose land cover stays the same keep all their observed "
        "values. Careful readings: only pixels whose land cover actually changes take the "
        "nearby medians (a site already of the target class gains exactly 0); the nearby "
        "pixels are those whose centre lies within RADIUS of the site polygon, inside it "
        "included; the spectral values are typical of the target class in the same area, i.e. "
        "a mature restored state. Under Table 2's printed trends (SHDI +, FN +, ECO −) a "
        "patch made like its surroundings lowers diversity and fragmentation and raises "
        "elasticity, so the landscape indicators can count against a restoration the spectral "
        "ones reward; the gain_<slot> columns show each part. This ranks sites under the "
        "index's own assumptions: it is "
        "not a forecast of vegetation recovery, of how long it takes, or of whether it "
        "succeeds. Where the NPP-drivers study's dominant NPP driver raster is given "
        "('Random-forest driver contribution' OUTPUT_DOMINANT), the table names the driver "
        "dominating each site and the measure it calls for (soil-limited: soil reconstruction; "
        "mining-limited: subsidence repair)."
    )
    formula = (
        "ΔP = P(scenario) − P(baseline), P = Σⱼ Wⱼ·Tⱼ (Eq. 20) with the baseline's Wⱼ, trends "
        "and min/max (Eq. 18–19; clipped to [0, 1] when CLIP).\n"
        "area_ha = site pixels × pixel area / 10⁴; total_gain = Σ ΔP × pixel area (ha) over "
        "every pixel the site reaches (index · ha); mean_gain = mean ΔP over the site's "
        "pixels; gain_per_ha = total_gain / area_ha; gain_per_cost = total_gain / (cost per ha "
        "× area_ha).\n"
        "pixels_up (down) = pixels whose Table 3 class (BREAKS) rises (falls).\n"
        "gain_<slot> = Σ Wⱼ·ΔTⱼ × pixel area: indicator j's part of the gain; 'drivers' lists "
        "the three largest with their share of Σ|gain_j|.\n"
        "Spectral fill of a site = median of the indicator over pixels of the target class "
        "whose centre is within RADIUS of the site."
    )
    nodata_rule = (
        "ΔP is NoData where the baseline index is NoData (any indicator NoData). NoData land "
        "cover inside a site stays NoData (no class, no change). The Δ rasters cover each "
        "scenario's region (its sites' box grown by half the largest window); ΔP is 0 beyond "
        "it by construction."
    )
    references = (
        "The resilience study: Eq. 7, 12–14, 18–20, Table 2 and Table 3.",
        "The NPP-drivers study: Tian, H. et al. (2022) Remote Sens. 14(17), 4177 (dominant NPP "
        "drivers, management priorities by the main constraint).",
    )

    def initAlgorithm(self, config=None):
        self.add_raster(
            "LANDCOVER",
            "Land cover (baseline)",
            "Class codes of the year the index describes (band 1, nearest-neighbour); its grid "
            "is the output grid. A projected CRS in metres is needed (areas, RADIUS).",
        )
        table = weighting.load_preset("lingbei_2000_2020")
        for slot, code, name, trend in zip(
            SLOTS, table.codes, table.names, table.trends, strict=True
        ):
            self.add_raster(
                slot,
                f"{code} {name} ({weighting.trend_symbol(trend)})",
                f"Baseline indicator {code}, the layer the index run used; needed when the "
                "weights table lists it.",
                optional=True,
            )
        self.add(
            QgsProcessingParameterFeatureSource(
                "WEIGHTS_TABLE",
                self.tr("Weights table of the baseline index run"),
                [QgsProcessing.SourceType.TypeVector],
            ),
            "OUTPUT_WEIGHTS of 'Resilience index' (or of 'Composite index' with the Table 2 "
            "preset): the Table 2 code (C1…C17, in the code column or at the start of the "
            "indicator name, as 'Resilience index' writes it), trend, minimum, maximum and "
            "combined (the weight used) give the indicators, trends, normalisation ranges and "
            "weights of the baseline.",
        )
        self.add(
            QgsProcessingParameterBoolean(
                "CLIP", self.tr("Clip normalised values to [0, 1] (as the baseline run)"), True
            ),
            "As the baseline run's CLIP (default checked, as 'Composite index'). Scenario values "
            "outside the baseline range are then held at 0 or 1.",
            advanced=True,
        )
        self.add(
            QgsProcessingParameterFeatureSource(
                "SITES",
                self.tr("Candidate sites (polygons)"),
                [QgsProcessing.SourceType.TypeVectorPolygon],
            ),
            "One polygon per candidate site (reprojected to the land cover's CRS); a pixel "
            "belongs to a site when its centre lies inside.",
        )
        self.add(
            QgsProcessingParameterField(
                "SITE_FIELD",
                self.tr("Site identifier field"),
                parentLayerParameterName="SITES",
                optional=True,
            ),
            "Unique identifier of each site (default: the feature id).",
        )
        self.add(
            QgsProcessingParameterField(
                "TARGET_FIELD",
                self.tr("Target land-cover code field"),
                parentLayerParameterName="SITES",
                type=QgsProcessingParameterField.DataType.Numeric,
            ),
            "The land-cover class each site is restored to (a code of the land cover's "
            "classification, present in the class tables).",
        )
        self.add(
            QgsProcessingParameterField(
                "COST_FIELD",
                self.tr("Cost per hectare field (optional)"),
                parentLayerParameterName="SITES",
                type=QgsProcessingParameterField.DataType.Numeric,
                optional=True,
            ),
            "Cost of restoring one hectare of the site, in any currency: gives cost and "
            "gain_per_cost.",
        )
        self.add_number(
            "RADIUS",
            "Radius of the typical target-class values (m)",
            1000.0,
            "Spectral and thermal indicators (and C) of a restored pixel take the median of "
            "the target class's pixels whose centres lie within this distance of the site.",
            minimum=0.0,
        )
        self.add_number(
            "MIN_PIXELS",
            "Fewest target-class pixels for a median",
            10,
            "A site with fewer pixels of its target class within RADIUS (valid in an "
            "indicator) is an error naming it.",
            minimum=1,
            integer=True,
            advanced=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "ALL_TOGETHER", self.tr("Evaluate all sites together as well"), True
            ),
            "Adds the scenario 'all sites restored at once' (row site_id = 'ALL', not ranked; "
            "where sites overlap, the later feature's target wins).",
        )
        self.add_enum("RANK_BY", "Rank sites by", RANK_LABELS, 0, "Rank 1 = the best site.")
        self.add_breaks(
            "Resilience class breaks",
            "For pixels_up / pixels_down; default Table 3 (0.38, 0.41, 0.63, 0.73).",
            advanced=True,
        )
        self.add_enum(
            "CLASSIFICATION",
            "Land-cover classification (shipped tables)",
            CLASSIFICATION_OPTIONS,
            0,
            CLASSIFICATION_HELP + " Used for HAI, BAI, ECO and P; set it as in the baseline.",
        )
        for key, label, columns in (
            ("HAI_TABLE", "HAI class table", ("code", "weight")),
            ("BAI_TABLE", "BAI class table", ("code", "weight")),
            ("ECO_TABLE", "ECO class table", ("code", "weight")),
            ("P_TABLE", "P factor table", ("code", "p")),
        ):
            self.add_table(
                key,
                label,
                columns,
                None,
                f"As the table the baseline {label.split()[0]} was made with. Blank: the "
                "shipped table of the chosen classification.",
            )
        self.add_number(
            "WINDOW",
            "Window of HAI, BAI and ECO (pixels, odd)",
            DEFAULT_WINDOW,
            "As the baseline layers' WINDOW (default 33, the indicator algorithms' default).",
            minimum=1,
            integer=True,
        )
        self.add_number(
            "METRICS_WINDOW",
            "Window of SHDI and FN (pixels, odd)",
            DEFAULT_WINDOW,
            "As the baseline 'Landscape metrics' WINDOW (default 33).",
            minimum=1,
            integer=True,
        )
        self.add_enum(
            "CONNECTIVITY",
            "Patch neighbour rule (FN)",
            ["8 neighbours (FRAGSTATS default)", "4 neighbours"],
            0,
            "As the baseline 'Landscape metrics'.",
            advanced=True,
        )
        self.add_enum(
            "FN_FORM",
            "FN form",
            ["Eq. 13: MPS·(Nf − 1)/Nc", "Landscape form: (Np − 1)/Nc"],
            0,
            "As the baseline 'Landscape metrics'.",
            advanced=True,
        )
        self.add_number(
            "MIN_PATCH",
            "Minimum patch area a_min (pixels)",
            1.0,
            "As the baseline 'Landscape metrics'.",
            minimum=1e-9,
            advanced=True,
        )
        self.add_number(
            "A_BIO",
            "BAI normalisation coefficient A_bio",
            511.2642131067,
            "As the baseline 'Biological abundance' (HJ/T 192-2006: 511.2642131067).",
            minimum=0.0,
            advanced=True,
        )
        for name, label in zip(
            FACTORS,
            ("R (rainfall erosivity)", "K (soil erodibility)", "LS (slope length and steepness)"),
            strict=False,
        ):
            self.add_raster(
                name,
                f"RUSLE {label}",
                "Needed when the index has soil erosion (C2): the factor the baseline erosion "
                "was made with.",
                optional=True,
            )
        self.add_raster(
            "C_FACTOR",
            "RUSLE C (cover management)",
            "Needed with soil erosion: a restored pixel takes the median C of the target class "
            "within RADIUS.",
            optional=True,
        )
        self.add_raster(
            "DOMINANT",
            "Dominant NPP driver (NPP-drivers study, optional)",
            "OUTPUT_DOMINANT of 'Random-forest driver contribution': the most frequent class "
            "inside each site, its share and the measure it calls for go into the table.",
            optional=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "WRITE_INDICATORS",
                self.tr("Write each scenario's indicator layers to the folder"),
                False,
            ),
            "<scenario>_<slot>.tif (and the scenario's index, <scenario>_INDEX.tif) over each "
            "scenario's region, to inspect what changed.",
            advanced=True,
        )
        self.add_run_switch()
        self.add_output_nodata()
        self.add_output_table(
            "OUTPUT",
            "Site ranking",
            "One row per site (and 'ALL'): area_ha, changed_ha, cost, mean_gain, total_gain, "
            "gain_per_ha, gain_per_cost, pixels_up, pixels_down, drivers, gain_<slot> per "
            "indicator, npp_driver, npp_driver_share, action, reference_pixels, radius_m, rank "
            "and the path of its Δ raster (delta_raster).",
        )
        self.add(
            QgsProcessingParameterFolderDestination(
                "OUTPUT_FOLDER",
                self.tr("Folder of the Δ-index rasters"),
                optional=True,
                createByDefault=True,
            ),
            "delta_<site>.tif per site and delta_ALL.tif (all sites together), float32, over "
            "each scenario's region.",
        )
        self.add(
            QgsProcessingParameterFileDestination(
                "OUTPUT_CHART",
                self.tr("Chart of gain against cost"),
                self.tr("PNG files (*.png)"),
                optional=True,
                createByDefault=True,
            ),
            "Total gain of each site against its cost (its area without costs); needs matplotlib.",
        )
        self.addOutput(QgsProcessingOutputString("SUMMARY", self.tr("Ranking in words")))
        self.addOutput(QgsProcessingOutputString("BEST", self.tr("Best site (rank 1)")))
        self.addOutput(
            QgsProcessingOutputRasterLayer("DELTA_ALL", self.tr("Δ index, all sites together"))
        )
        self.addOutput(QgsProcessingOutputNumber("TOTAL_GAIN_ALL", self.tr("Total gain, all")))

    # --- inputs -----------------------------------------------------------------------------

    def index_system(self, parameters, context, clip) -> tuple[planner.IndexSystem, dict]:
        """The baseline run's indicators, weights, trends and ranges from WEIGHTS_TABLE."""
        source = self.parameterAsSource(parameters, "WEIGHTS_TABLE", context)
        if source is None:
            raise QgsProcessingException("WEIGHTS_TABLE: no table given")
        fields = source.fields().names()
        missing = [
            c for c in ("code", "trend", "minimum", "maximum", "combined") if c not in fields
        ]
        if missing:
            raise QgsProcessingException(
                f"WEIGHTS_TABLE: column(s) {', '.join(missing)} missing; give the OUTPUT_WEIGHTS "
                "table of 'Resilience index' or 'Composite index'"
            )
        preset = weighting.load_preset("lingbei_2000_2020")
        by_name = {name.lower(): j for j, name in enumerate(preset.names)}
        slots, weights, trends, minima, maxima, names = [], [], [], [], [], {}
        for feature in source.getFeatures():
            code = str(feature["code"]).strip()
            name = str(feature["indicator"]).strip() if "indicator" in fields else ""
            # 'Composite index' with the preset writes code C3; 'Resilience index' runs it
            # without the preset, so the code is the position and the name 'C3 Fractional …'.
            match = re.fullmatch(r"[Cc](\d+)", code) or re.match(r"[Cc](\d+)\b", name)
            if match and 1 <= int(match.group(1)) <= len(SLOTS):
                j = int(match.group(1)) - 1
            elif name.lower() in by_name:
                j = by_name[name.lower()]
            else:
                raise QgsProcessingException(
                    f"WEIGHTS_TABLE: row '{code} {name}' is not a Table 2 indicator (codes C1…"
                    "C17); run the baseline with 'Resilience index' or with 'Composite index' "
                    "and the Table 2 preset"
                )
            slot = SLOTS[j]
            if slot in slots:
                raise QgsProcessingException(f"WEIGHTS_TABLE: {code} appears twice")
            try:
                values = [float(feature[c]) for c in ("combined", "minimum", "maximum")]
            except (TypeError, ValueError):
                raise QgsProcessingException(
                    f"WEIGHTS_TABLE: row {code} has no number in combined, minimum or maximum"
                ) from None
            trend = str(feature["trend"]).strip()
            if trend not in ("+", "-", "−"):
                raise QgsProcessingException(f"WEIGHTS_TABLE: row {code}: trend '{trend}'")
            slots.append(slot)
            weights.append(values[0])
            minima.append(values[1])
            maxima.append(values[2])
            trends.append(1 if trend == "+" else -1)
            names[slot] = f"{preset.codes[j]} {preset.names[j]}"
        if not slots:
            raise QgsProcessingException("WEIGHTS_TABLE: the table has no rows")
        return (
            planner.IndexSystem(
                tuple(slots), tuple(weights), tuple(trends), tuple(minima), tuple(maxima), clip
            ),
            names,
        )

    def class_table(self, parameters, context, key, indicator, column, classification):
        rows = self.read_table(
            parameters,
            key,
            context,
            ("code", column),
            numeric=("code", column),
            fallback_csv=shipped_table(indicator, classification),
        )
        try:
            return lookup_codes(rows, "code", column)
        except TableError as error:
            raise QgsProcessingException(f"{key}: {error}") from None

    def aligned(self, parameters, context, name, grid, *, resampling="bilinear"):
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            return None
        # A 3-band 'Tasseled cap' output gives C7 wetness (band 3) and C11 brightness (band 1),
        # as in 'Resilience index'.
        band = slot_band(name, layer)
        source = self.raster_source(parameters, name, context, bands=(band,), resampling=resampling)
        return AlignedRaster(
            source.path,
            grid,
            parameter=name,
            bands=source.bands,
            resampling=resampling,
            crs_wkt=source.crs_wkt,
        )

    def read_sites(self, parameters, context, grid, feedback) -> list[Site]:
        source = self.parameterAsSource(parameters, "SITES", context)
        if source is None:
            raise QgsProcessingException("SITES: no polygon layer given")
        id_field = self.parameterAsString(parameters, "SITE_FIELD", context)
        target_field = self.parameterAsString(parameters, "TARGET_FIELD", context)
        cost_field = self.parameterAsString(parameters, "COST_FIELD", context)
        if not target_field:
            raise QgsProcessingException("TARGET_FIELD: the field of target land-cover codes")
        transform = transform_to_grid(source, grid, context, "SITES", feedback)
        sites: list[Site] = []
        seen = set()
        for feature in source.getFeatures():
            geometry = feature.geometry()
            identifier = str(feature[id_field]) if id_field else str(feature.id())
            if geometry is None or geometry.isEmpty():
                feedback.pushWarning(f"SITES: site '{identifier}' has no geometry; skipped")
                continue
            if identifier in seen:
                raise QgsProcessingException(
                    f"SITE_FIELD: the identifier '{identifier}' appears twice"
                )
            seen.add(identifier)
            value = feature[target_field]
            try:
                target = float(value)
            except (TypeError, ValueError):
                raise QgsProcessingException(
                    f"TARGET_FIELD: site '{identifier}' has no target code ({value!r})"
                ) from None
            if not math.isfinite(target) or target != int(target):
                raise QgsProcessingException(
                    f"TARGET_FIELD: site '{identifier}': {value!r} is not a whole class code"
                )
            cost = None
            if cost_field:
                raw = feature[cost_field]
                try:
                    cost = float(raw)
                except (TypeError, ValueError):
                    cost = None
                if cost is None or not math.isfinite(cost) or cost <= 0:
                    feedback.pushWarning(
                        f"COST_FIELD: site '{identifier}' has no positive cost ({raw!r}); its "
                        "gain per cost is left empty"
                    )
                    cost = None
            shape = ogr_geometry(geometry, transform, f"SITES: site '{identifier}'")
            site = Site(len(sites), identifier, int(target), cost, shape)
            stem = safe_name(identifier)
            stems = {s.file_stem for s in sites}
            if stem in stems or stem.upper() == "ALL" or stem.upper().startswith("ALL_"):
                stem = f"{stem}_{len(sites) + 1}"
            site.file_stem = stem
            sites.append(site)
        if not sites:
            raise QgsProcessingException("SITES: the layer has no polygons")
        return sites

    # --- run --------------------------------------------------------------------------------

    def process(self, parameters, context, feedback):
        clip = self.parameterAsBool(parameters, "CLIP", context)
        system, names = self.index_system(parameters, context, clip)
        breaks = self.class_breaks(parameters, context)
        radius = self.parameterAsDouble(parameters, "RADIUS", context)
        min_pixels = self.parameterAsInt(parameters, "MIN_PIXELS", context)
        rank_by = RANKINGS[self.parameterAsEnum(parameters, "RANK_BY", context)]
        cost_given = bool(self.parameterAsString(parameters, "COST_FIELD", context))
        if rank_by == "gain_per_cost" and not cost_given:
            raise QgsProcessingException("RANK_BY: ranking by gain per cost needs COST_FIELD")
        classification = self.parameterAsEnum(parameters, "CLASSIFICATION", context)
        slots = system.slots
        uses_erosion = planner.EROSION in slots
        tables = {
            slot: self.class_table(
                parameters, context, f"{slot}_TABLE", key, "weight", classification
            )
            for slot, key in SHARE_TABLES.items()
            if slot in slots
        }
        p_table = (
            self.class_table(parameters, context, "P_TABLE", "p", "p", classification)
            if uses_erosion
            else None
        )
        min_patch = self.parameterAsDouble(parameters, "MIN_PATCH", context)
        if not min_patch > 0:
            raise QgsProcessingException(f"MIN_PATCH: must be positive, got {min_patch}")
        model = planner.LandscapeModel(
            tables=tables,
            share_window=self.window_size(parameters, "WINDOW", context),
            metrics_window=self.window_size(parameters, "METRICS_WINDOW", context),
            bai_scale=self.parameterAsDouble(parameters, "A_BIO", context),
            connectivity=landscape_core.CONNECTIVITIES[
                self.parameterAsEnum(parameters, "CONNECTIVITY", context)
            ],
            fn_form=landscape_core.FN_FORMS[self.parameterAsEnum(parameters, "FN_FORM", context)],
            min_patch_pixels=min_patch,
        )
        cover_source = self.raster_source(
            parameters, "LANDCOVER", context, bands=(1,), resampling="nearest"
        )
        grid = engine.resolve_grid([cover_source])
        if not grid.is_north_up:
            raise QgsProcessingException("LANDCOVER: a north-up raster is needed")
        area_m2 = pixel_area_m2(grid)
        if area_m2 is None:
            raise QgsProcessingException(
                "LANDCOVER: a projected CRS in metres is needed (site areas in ha, RADIUS in m); "
                "reproject the layers"
            )
        folder = self.destination(parameters, "OUTPUT_FOLDER", context)
        chart = self.chart_destination(parameters, "OUTPUT_CHART", context)
        write_indicators = self.parameterAsBool(parameters, "WRITE_INDICATORS", context)
        if write_indicators and not folder:
            raise QgsProcessingException("WRITE_INDICATORS: needs OUTPUT_FOLDER")
        out = Outputs(
            folder,
            self.parameterAsDouble(parameters, "OUTPUT_NODATA_VALUE", context),
            write_indicators,
            self.algorithm_id,
        )
        scene = Scene(grid, {}, system, model, model.reach(slots), p_table, area_m2 / 1e4, breaks)
        try:
            rasters = scene.rasters
            out.inputs = {
                str(Path(layer.source().split("|")[0]).resolve())
                for name in (*SLOTS, *FACTORS, "LANDCOVER", "DOMINANT")
                if (layer := self.parameterAsRasterLayer(parameters, name, context)) is not None
            }
            rasters["LANDCOVER"] = AlignedRaster(
                cover_source.path,
                grid,
                parameter="LANDCOVER",
                bands=(1,),
                resampling="nearest",
                crs_wkt=cover_source.crs_wkt,
            )
            absent = []
            for slot in slots:
                rasters[slot] = self.aligned(parameters, context, slot, grid)
                if rasters[slot] is None:
                    absent.append(f"{slot} ({names[slot]})")
            if absent:
                raise QgsProcessingException(
                    f"{', '.join(absent)}: the weights table lists these indicators; give the "
                    "layers the baseline index was made from"
                )
            if uses_erosion:
                lacking = [name for name in FACTORS if parameters.get(name) in (None, "")]
                if lacking:
                    raise QgsProcessingException(
                        f"{', '.join(lacking)}: the index has soil erosion (C2), which the "
                        "planner recomputes as R·K·LS·C·P on restored pixels; give the RUSLE "
                        "factors the baseline erosion was made with"
                    )
                for name in FACTORS:
                    rasters[name] = self.aligned(parameters, context, name, grid)
            dominant = self.aligned(parameters, context, "DOMINANT", grid, resampling="nearest")
            rasters["DOMINANT"] = dominant
            dominant_labels = self.dominant_labels(parameters, context) if dominant else {}

            sites = self.read_sites(parameters, context, grid, feedback)
            self.check_targets(sites, tables, p_table)
            monitor = self.monitor(feedback)
            feedback.pushInfo(
                f"{len(sites)} site(s); indicators {', '.join(names[s] for s in slots)}; "
                f"land-cover changes reach {scene.reach} pixel(s) beyond a site; typical "
                f"target-class values within {radius:g} m"
            )
            spectral = [s for s in slots if planner.slot_model(s) == "spectral"]
            median_slots = spectral + (["C_FACTOR"] if uses_erosion else [])
            margin = int(math.ceil(radius / min(grid.pixel_width, grid.pixel_height))) + 1
            for site in sites:
                monitor.check()
                self.locate(site, grid, rasters["LANDCOVER"], feedback)
                if site.changes and median_slots:
                    self.typical_values(
                        site, scene, median_slots, radius, margin, min_pixels, names
                    )
                if site.fills:
                    feedback.pushInfo(
                        f"Site '{site.identifier}' → class {site.target}: "
                        + ", ".join(f"{names.get(k, k)} {v:.6g}" for k, v in site.fills.items())
                        + f" (medians of ≥ {site.reference_pixels} pixels within {radius:g} m)"
                    )
            runs = []  # (site, Δ raster path, result)
            steps = len(sites) + 1
            for position, site in enumerate(sites):
                monitor.check()
                if site.box is None or not site.pixels:
                    runs.append((site, None, None))
                    continue
                region, result, indicators = self.scenario(scene, [site])
                path = out.scenario(
                    site.file_stem,
                    grid,
                    region,
                    result.delta,
                    indicators,
                    {"SITE": site.identifier, "TARGET": site.target, "RADIUS_M": radius},
                )
                runs.append((site, path, result))
                monitor.report((position + 1) / steps)
            all_run = None
            if self.parameterAsBool(parameters, "ALL_TOGETHER", context):
                placed = [s for s in sites if s.box is not None and s.pixels]
                if placed:
                    all_run = self.all_together(scene, placed, out, feedback, radius)
            monitor.report(1.0)
            for slot, difference in scene.mismatch.items():
                if difference > CONSISTENCY_TOLERANCE:
                    feedback.pushWarning(
                        f"{slot}: the baseline layer differs from {slot} recomputed from "
                        f"LANDCOVER with the planner's settings (largest relative difference "
                        f"{difference:.3g} near the sites): set the window, class table and "
                        "classification the baseline was made with, or the scenario mixes two "
                        "settings where the land cover changes"
                    )
            rows = self.rows(
                runs, all_run, names, dominant, dominant_labels, scene, rank_by, radius
            )
            destination = self.write_table(
                parameters, "OUTPUT", context, self.columns(slots), [r["values"] for r in rows]
            )
            if chart:
                write_chart(
                    chart,
                    [r for r in rows if r["scenario"] == "single"],
                    cost_given,
                    RANK_LABELS[RANKINGS.index(rank_by)],
                )
            out.commit()
        finally:
            out.discard()
            scene.close()
        summary, best = self.ranking_summary(rows, rank_by, radius)
        feedback.pushInfo(summary)
        results = {
            "OUTPUT": destination,
            "SUMMARY": summary,
            "BEST": best,
            "DELTA_ALL": all_run["path"] if all_run else None,
            "TOTAL_GAIN_ALL": all_run["result"].total_gain if all_run else None,
        }
        if folder:
            results["OUTPUT_FOLDER"] = folder
        if chart:
            results["OUTPUT_CHART"] = chart
        return results

    def dominant_labels(self, parameters, context) -> dict[int, str]:
        """Legend labels of the dominant-driver raster's classes (its category names)."""
        layer = self.parameterAsRasterLayer(parameters, "DOMINANT", context)
        dataset = gdal.Open(layer.source())
        # GDAL 3.6 reads a GeoTIFF's .aux.xml (its category names) lazily, on a metadata call.
        dataset.GetMetadata()
        names = dataset.GetRasterBand(1).GetCategoryNames() or []
        return {code: name for code, name in enumerate(names) if name}

    def check_targets(self, sites, tables, p_table):
        for site in sites:
            for slot, table in tables.items():
                if site.target not in table:
                    raise QgsProcessingException(
                        f"TARGET_FIELD: site '{site.identifier}': class {site.target} is not in "
                        f"the {slot} table ({slot}_TABLE)"
                    )
            if p_table is not None and site.target not in p_table:
                raise QgsProcessingException(
                    f"TARGET_FIELD: site '{site.identifier}': class {site.target} is not in the "
                    "P table (P_TABLE)"
                )

    def locate(self, site: Site, grid, cover_raster, feedback):
        """The site's pixel box and mask, and whether any of its land cover changes."""
        site.box = pixel_box(site.geometry, grid)
        if site.box is None:
            feedback.pushWarning(
                f"SITES: site '{site.identifier}' lies outside the land cover; not evaluated"
            )
            return
        site.mask = burn([site.geometry], grid, site.box)
        if not site.mask.any():
            feedback.pushWarning(
                f"SITES: site '{site.identifier}' contains no pixel centre; not evaluated"
            )
            return
        cover = cover_raster.read(site.box)[0]
        site.mask &= ~np.isnan(cover)
        site.changes = bool((site.mask & (cover != float(site.target))).any())

    def typical_values(self, site, scene, slots, radius, margin, min_pixels, names):
        """Median of each spectral indicator (and C) over the target class's pixels within
        ``radius`` of the site."""
        window = grow(site.box, margin, scene.grid)
        near = burn([site.geometry.Buffer(radius)], scene.grid, window)
        cover = scene.rasters["LANDCOVER"].read(window)[0]
        counts = []
        for slot in slots:
            values = scene.rasters[slot].read(window)[0]
            median, count = planner.class_median(values, cover, site.target, near)
            label = names.get(slot, slot)
            if count < min_pixels:
                raise QgsProcessingException(
                    f"RADIUS: site '{site.identifier}' (target class {site.target}): "
                    f"{count} pixel(s) of class {site.target} with a valid {label} within "
                    f"{radius:g} m; at least {min_pixels} (MIN_PIXELS) are needed — widen "
                    "RADIUS, lower MIN_PIXELS or choose a class present near the site"
                )
            site.fills[slot] = median
            counts.append(count)
        site.reference_pixels = min(counts)

    def scenario(self, scene: Scene, members: list[Site]):
        """Δ-index and summaries of restoring ``members`` together, over their region (their
        boxes grown by the reach of a land-cover change), and the scenario's indicators."""
        grid, rasters, reach = scene.grid, scene.rasters, scene.reach
        region = grow(union([s.box for s in members]), reach, grid)
        cover = rasters["LANDCOVER"].read(region, halo=reach)[0].astype(np.float64)
        grown = Window(
            region.col - reach,
            region.row - reach,
            region.width + 2 * reach,
            region.height + 2 * reach,
        )
        present = landscape_core.distinct_codes(cover)
        near = ", ".join(f"'{s.identifier}'" for s in members)
        for slot, table in scene.model.tables.items():
            try:
                landscape_core.check_codes(present, list(table))
            except landscape_core.UnknownCodes as error:
                raise QgsProcessingException(
                    f"{slot}_TABLE: {error} (land cover near site {near}); add them to the "
                    "table the baseline was made with"
                ) from None
        if any(slot in planner.METRICS for slot in scene.system.slots):
            try:
                landscape_core.check_codes(present)
            except landscape_core.UnknownCodes as error:
                raise QgsProcessingException(
                    f"LANDCOVER: {error.codes} near site {near} are not whole class codes"
                ) from None
        edited = planner.edit_cover(
            cover, [(paste(s.mask, s.box, grown), s.target) for s in members]
        )
        baseline = {slot: rasters[slot].read(region)[0] for slot in scene.system.slots}
        shape = (region.height, region.width)
        inside = np.zeros(shape, dtype=bool)
        fills = {
            slot: np.full(shape, np.nan, dtype=np.float32)
            for slot in scene.system.slots
            if planner.slot_model(slot) in ("spectral", "erosion")
        }
        if planner.EROSION in fills:
            rkls = np.ones(shape, dtype=np.float64)
            for name in ("R_FACTOR", "K_FACTOR", "LS_FACTOR"):
                rkls *= rasters[name].read(region)[0]
        for site in members:
            mask = paste(site.mask, site.box, region)
            inside |= mask
            for slot, values in fills.items():
                if slot == planner.EROSION:
                    cp = site.fills.get("C_FACTOR", np.nan) * scene.p_table[site.target]
                    values[mask] = (rkls[mask] * cp).astype(np.float32)
                else:
                    values[mask] = site.fills.get(slot, np.nan)
        indicators, recomputed = planner.scenario_indicators(
            baseline, cover, edited, fills, scene.model, reach
        )
        for slot, values in recomputed.items():
            base = baseline[slot].astype(np.float64)
            both = np.isfinite(base) & np.isfinite(values)
            if both.any():
                scale = max(float(np.abs(base[both]).max()), 1e-12)
                difference = float(np.abs(values[both] - base[both]).max()) / scale
                scene.mismatch[slot] = max(scene.mismatch.get(slot, 0.0), difference)
        changed = planner.changed_pixels(cover, edited)
        if reach:
            changed = changed[reach:-reach, reach:-reach]
        result = planner.evaluate(
            scene.system, baseline, indicators, inside, changed, scene.pixel_ha, scene.breaks
        )
        # The scenario's index beside its indicators (<scenario>_INDEX.tif with
        # WRITE_INDICATORS): equal, bit for bit, to the baseline index where nothing changes.
        return region, result, {**indicators, "INDEX": result.index}

    def all_together(self, scene: Scene, sites: list[Site], out: Outputs, feedback, radius):
        """All sites restored at once. Sites whose regions overlap are computed together (one
        cluster); the Δ raster covers the union of the regions (0 where no site reaches)."""
        grid = scene.grid
        for i, a in enumerate(sites):
            for b in sites[i + 1 :]:
                both = union([a.box, b.box])
                if (paste(a.mask, a.box, both) & paste(b.mask, b.box, both)).any():
                    feedback.pushWarning(
                        f"SITES: sites '{a.identifier}' and '{b.identifier}' overlap; together, "
                        "the later one's target class applies where they do"
                    )
        boxes = [grow(s.box, scene.reach, grid) for s in sites]
        groups = planner.clusters(
            [(b.row, b.col, b.row + b.height, b.col + b.width) for b in boxes]
        )
        total = union(boxes)
        parts = []  # (region, Δ) of each cluster, pasted into the strips of delta_ALL
        gain, up, down, changed, inside_sum, inside_count = 0.0, 0, 0, 0, 0.0, 0
        contributions = dict.fromkeys(scene.system.slots, 0.0)
        for number, group in enumerate(groups, start=1):
            members = [sites[i] for i in group]
            region, result, indicators = self.scenario(scene, members)
            parts.append((region, result.delta))
            gain += result.total_gain
            up += result.pixels_up
            down += result.pixels_down
            changed += int(result.changed.sum())
            for slot, value in result.contributions.items():
                contributions[slot] += value
            inside = np.zeros((region.height, region.width), dtype=bool)
            for site in members:
                inside |= paste(site.mask, site.box, region)
            valid = inside & np.isfinite(result.delta)
            inside_sum += float(result.delta[valid].sum(dtype=np.float64))
            inside_count += int(valid.sum())
            suffix = f"_{number}" if len(groups) > 1 else ""
            out.indicators(f"ALL{suffix}", grid, region, indicators, {"SITE": "ALL"})
        result = planner.ScenarioResult(
            np.zeros((0, 0), dtype=np.float32),
            np.zeros(0, dtype=bool),
            gain,
            inside_sum / inside_count if inside_count else float("nan"),
            up,
            down,
            contributions,
        )

        def strips():
            """delta_ALL strip by strip: 0 where every indicator is valid and no site reaches,
            NoData where the index is NoData, each cluster's Δ over its region."""
            budget = self.memory_mb() * 2**20 / 3
            height = int(max(1, min(total.height, budget // (total.width * 4))))
            for row in range(total.row, total.row + total.height, height):
                strip = Window(
                    total.col, row, total.width, min(height, total.row + total.height - row)
                )
                values = np.zeros((strip.height, strip.width), dtype=np.float32)
                for slot in scene.system.slots:
                    values[~np.isfinite(scene.rasters[slot].read(strip)[0])] = np.nan
                for region, delta in parts:
                    top, bottom = (
                        max(region.row, strip.row),
                        min(region.row + region.height, strip.row + strip.height),
                    )
                    if top >= bottom:
                        continue
                    c = region.col - strip.col
                    values[top - strip.row : bottom - strip.row, c : c + region.width] = delta[
                        top - region.row : bottom - region.row
                    ]
                yield strip.row - total.row, values

        path = out.scenario(
            "ALL",
            grid,
            total,
            strips,
            {},
            {"SITE": "ALL", "SITES": ",".join(s.identifier for s in sites), "RADIUS_M": radius},
        )
        return {"sites": sites, "result": result, "path": path, "changed": changed}

    # --- table ------------------------------------------------------------------------------

    @staticmethod
    def columns(slots):
        return [
            ("site_id", str),
            ("scenario", str),
            ("target", int),
            ("rank", int),
            ("area_ha", float),
            ("changed_ha", float),
            ("cost_per_ha", float),
            ("cost", float),
            ("mean_gain", float),
            ("total_gain", float),
            ("gain_per_ha", float),
            ("gain_per_cost", float),
            ("pixels_up", int),
            ("pixels_down", int),
            ("drivers", str),
            *((f"gain_{slot.lower()}", float) for slot in slots),
            ("npp_driver", str),
            ("npp_driver_share", float),
            ("action", str),
            ("reference_pixels", int),
            ("radius_m", float),
            ("delta_raster", str),
        ]

    def rows(self, runs, all_run, names, dominant, labels, scene, rank_by, radius) -> list[dict]:
        rows = [
            self.row(site.identifier, "single", [site], path, result, names, scene.pixel_ha)
            for site, path, result in runs
        ]
        for row, rank in zip(rows, planner.ranks([r[rank_by] for r in rows]), strict=True):
            row["rank"] = rank
        if all_run is not None:
            together = self.row(
                "ALL",
                "all",
                all_run["sites"],
                all_run["path"],
                all_run["result"],
                names,
                scene.pixel_ha,
            )
            together["changed_ha"] = all_run["changed"] * scene.pixel_ha
            rows.append(together)
        for row in rows:
            driver = share = action = None
            site = row["sites"][0]
            if dominant is not None and row["scenario"] == "single" and site.pixels:
                code, share = planner.majority(dominant.read(site.box)[0], site.mask)
                if code is None:
                    share = None
                else:
                    driver = labels.get(code, str(code))
                    action = planner.driver_action(driver) or None
            row["values"] = [
                *(row[key] for key in ROW_KEYS),
                *(row["contributions"].get(slot) for slot in names),
                driver,
                share,
                action,
                row["reference_pixels"],
                radius,
                row["path"],
            ]
        return rows

    @staticmethod
    def row(identifier, scenario, sites, path, result, names, pixel_ha) -> dict:
        """The table row of one scenario (``result`` None: a site that was not evaluated)."""
        pixels = sum(s.pixels for s in sites)
        area = pixels * pixel_ha
        costs = [s.cost_per_ha for s in sites]
        cost = (
            sum(c * s.pixels * pixel_ha for c, s in zip(costs, sites, strict=True))
            if pixels and all(c is not None for c in costs)
            else None
        )
        single = scenario == "single"
        row = {
            "site_id": identifier,
            "scenario": scenario,
            "sites": sites,
            "target": sites[0].target if single else None,
            "rank": None,
            "area_ha": area,
            "cost_per_ha": costs[0] if single else None,
            "cost": cost,
            "reference_pixels": sites[0].reference_pixels if single else None,
            "path": path,
            "contributions": {},
        }
        # The columns a scenario's result fills: empty until it is evaluated.
        row.update(dict.fromkeys(key for key in ROW_KEYS if key not in row))
        if result is None:
            return row
        row.update(
            changed_ha=int(result.changed.sum()) * pixel_ha,
            mean_gain=result.mean_gain if math.isfinite(result.mean_gain) else None,
            total_gain=result.total_gain,
            gain_per_ha=result.total_gain / area if area else None,
            gain_per_cost=result.total_gain / cost if cost else None,
            pixels_up=result.pixels_up,
            pixels_down=result.pixels_down,
            drivers=planner.driver_text(result.contributions, names) or None,
            contributions=result.contributions,
        )
        return row

    @staticmethod
    def ranking_summary(rows, rank_by, radius) -> tuple[str, str]:
        ranked = sorted((r for r in rows if r["rank"] is not None), key=lambda r: r["rank"])
        label = RANK_LABELS[RANKINGS.index(rank_by)].split(" (")[0].lower()
        parts = [
            f"{r['rank']}. {r['site_id']} (→ class {r['target']}): gain {r['total_gain']:+.4g} "
            f"index·ha over {r['area_ha']:.4g} ha ({r['gain_per_ha']:+.4g} per ha"
            + (f", {r['gain_per_cost']:+.4g} per unit cost" if r["gain_per_cost"] else "")
            + ")"
            for r in ranked
        ]
        text = f"Sites ranked by {label}: " + ("; ".join(parts) if parts else "none evaluated")
        together = [r for r in rows if r["scenario"] == "all" and r["total_gain"] is not None]
        if together:
            singles = sum(
                r["total_gain"]
                for r in rows
                if r["scenario"] == "single" and r["total_gain"] is not None
            )
            text += (
                f". All sites together: {together[0]['total_gain']:+.4g} index·ha (sum of the "
                f"single sites {singles:+.4g})"
            )
        text += (
            f". Restored pixels take the target class's median values within {radius:g} m; a "
            "ranking under the index's own assumptions, not a forecast of vegetation recovery."
        )
        return text, ranked[0]["site_id"] if ranked else ""

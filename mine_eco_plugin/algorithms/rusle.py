"""Soil erosion: the RUSLE chain (the resilience study's Eq. 3 and indicator C2) — R, K, LS, C, P,
soil loss A and SL 190-2007 erosion-intensity classes."""

from __future__ import annotations

import math

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterString,
)

from .. import engine
from ..core import rusle, rusle_flow
from ..core.tables import TableError, lookup_codes
from ..engine import RasterSource, styles
from .base import MineEcoAlgorithm
from .landcover_tables import (
    CLASSIFICATION_HELP,
    CLASSIFICATION_OPTIONS,
    scheme_hint,
    shipped_table,
)

R_UNITS = (("si", "SI: MJ·mm·ha⁻¹·h⁻¹·yr⁻¹"), ("us", "US: hundreds of ft·tonf·in·ac⁻¹·h⁻¹·yr⁻¹"))
K_UNITS = (("si", "SI: t·ha·h·ha⁻¹·MJ⁻¹·mm⁻¹"), ("us", "US: t·ac·h·(100·ac·ft·tonf·in)⁻¹"))


def reject(values, bad, parameter: str, what: str) -> None:
    """EngineError naming ``parameter`` when ``bad`` (a mask of ``values``) has a pixel."""
    if bad.any():
        raise engine.EngineError(parameter, f"{what}, e.g. {float(values[bad][0]):.6g}")


REFERENCE_HELP = (
    "Optional raster whose grid (extent, CRS, cell size) the output takes; every input is "
    "resampled onto it (bilinear). Without it the output takes the grid of the first input."
)


class RusleAlgorithm(MineEcoAlgorithm):
    group_key = "erosion"

    def add_reference(self):
        self.add_raster("REFERENCE", "Reference grid (optional)", REFERENCE_HELP, optional=True)

    def add_choice(self, name, description, choices, help_text):
        """A choice among the labels of ``choices`` ((key, label) pairs), the first by default."""
        self.add_enum(name, description, [label for _, label in choices], 0, help_text)

    def choice(self, parameters, name, context, choices) -> str:
        """The key of the ``choices`` entry chosen for ``name``."""
        return choices[self.parameterAsEnum(parameters, name, context)][0]

    def grid(self, parameters, context, sources):
        reference = self.raster_source(parameters, "REFERENCE", context)
        return engine.resolve_grid(sources, reference)


# --- R -----------------------------------------------------------------------------------------


class RainfallErosivity(RusleAlgorithm):
    algorithm_id = "rusle_r"
    display_name = "RUSLE R: rainfall erosivity"
    summary = (
        "Rainfall erosivity R from monthly rainfall totals (12 layers, or one 12-band raster, in "
        "mm, January first), by Wischmeier & Smith's monthly Fournier form or by the modified "
        "Fournier index of Renard & Freimund (1994). The unit is explicit: SI (MJ·mm·ha⁻¹·h⁻¹·"
        "yr⁻¹, what 'RUSLE soil loss' expects) or US customary; SI = 17.02 × US."
    )
    formula = (
        "Wischmeier & Smith: R = Σᵢ 1.735 · 10^(1.5·log10(Pᵢ²/P) − 0.8188) in US units, × 17.02 "
        "for SI (P = Σ Pᵢ; a dry month adds 0).\n"
        "Renard & Freimund (1994): F = Σ Pᵢ²/P; R = 0.7397·F^1.847 for F < 55 mm, "
        "R = 95.77 − 6.081·F + 0.4770·F² for F ≥ 55 mm, in SI units (÷ 17.02 for US)."
    )
    nodata_rule = "A pixel that is NoData in any month is NoData in R."
    references = (
        "Wischmeier, W.H. & Smith, D.D. (1978) Predicting rainfall erosion losses. USDA "
        "Agriculture Handbook 537; monthly form after Arnoldus, H.M.J. (1977) FAO Soils "
        "Bulletin 34.",
        "Renard, K.G. & Freimund, J.R. (1994) Using monthly precipitation data to estimate the "
        "R-factor in the revised USLE. J. Hydrol. 157, 287–306.",
        "Foster, G.R. et al. (1981) Conversion of the universal soil loss equation to SI metric "
        "units. J. Soil Water Conserv. 36, 355–359 (the factor 17.02).",
    )
    methods = (
        ("wischmeier", "Wischmeier & Smith (monthly Fournier)"),
        ("renard_freimund", "Renard & Freimund 1994 (modified Fournier index)"),
    )

    def initAlgorithm(self, config=None):
        self.add_rasters(
            "PRECIPITATION",
            "Monthly rainfall (mm): 12 layers or one 12-band raster",
            "Monthly rainfall totals in mm, January to December: twelve single-band layers in "
            "calendar order, or one layer with twelve bands. Negative rainfall is an error.",
        )
        self.add_choice("METHOD", "Method", self.methods, "How R is estimated.")
        self.add_choice("UNIT", "Unit of R", R_UNITS, "SI = 17.02 × US.")
        self.add_reference()
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "Rainfall erosivity R", "R in the chosen unit, float32.")

    def process(self, parameters, context, feedback):
        method = self.choice(parameters, "METHOD", context, self.methods)
        unit = self.choice(parameters, "UNIT", context, R_UNITS)
        sources = self.monthly_sources(parameters, "PRECIPITATION", context)
        grid = self.grid(parameters, context, sources)
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            metadata={"METHOD": method, "UNIT": dict(R_UNITS)[unit]},
        )
        if method == "wischmeier":
            compute = rusle.erosivity_wischmeier
        else:
            compute = rusle.erosivity_renard_freimund
        feedback.pushInfo(f"R by {dict(self.methods)[method]}, unit {unit.upper()}")

        def kernel(*months):
            rain = np.stack([m[0] for m in months])
            with np.errstate(invalid="ignore"):
                reject(rain, rain < 0, "PRECIPITATION", "negative rainfall")
            return compute(rain, unit).astype(np.float32)

        self.run_blocks(
            kernel,
            sources,
            [target],
            grid=grid,
            monitor=self.monitor(feedback),
            work_factor=3,
        )
        return self.outputs({"OUTPUT": target})


# --- K -----------------------------------------------------------------------------------------


class SoilErodibility(RusleAlgorithm):
    algorithm_id = "rusle_k"
    display_name = "RUSLE K: soil erodibility (EPIC)"
    summary = (
        "Soil erodibility K from sand, silt, clay and organic-carbon contents (all in percent) by "
        "the EPIC equation of Williams (1995), in SI units by default, with the optional "
        "correction of Zhang Keli et al. (2007) for Chinese soils. Sand + silt + clay must add "
        "up to 100 % within the tolerance, or the run stops and says how many pixels do not."
    )
    formula = (
        "K_EPIC = {0.2 + 0.3·exp[−0.0256·SAN·(1 − SIL/100)]} · [SIL/(CLA + SIL)]^0.3 · "
        "[1 − 0.25·C/(C + exp(3.72 − 2.95·C))] · [1 − 0.7·SN1/(SN1 + exp(−5.51 + 22.9·SN1))], "
        "SN1 = 1 − SAN/100, in US units\n"
        "SI: K = 0.1317 · K_EPIC;  Chinese correction: K = (−0.01383 + 0.51575·K_EPIC) · 0.1317"
    )
    nodata_rule = (
        "A pixel that is NoData in any input is NoData in K; so is a pixel with silt + clay = 0."
    )
    references = (
        "Williams, J.R. (1995) The EPIC model. In: Singh, V.P. (ed.) Computer Models of Watershed "
        "Hydrology, 909–1000.",
        "Zhang, K.L., Shu, A.P., Xu, X.L., Yang, Q.K. & Yu, B. (2008) Soil erodibility and its "
        "estimation for agricultural soils in China. J. Arid Environ. 72, 1002–1011 (the "
        "correction, first published in Chinese in 2007).",
        "Foster, G.R. et al. (1981) J. Soil Water Conserv. 36, 355–359 (the factor 0.1317).",
    )

    def initAlgorithm(self, config=None):
        for name, label in (
            ("SAND", "Sand (%)"),
            ("SILT", "Silt (%)"),
            ("CLAY", "Clay (%)"),
            ("ORGANIC_CARBON", "Organic carbon (%)"),
        ):
            self.add_raster(name, label, f"{label[:-4]} content in percent (0–100).")
        self.add(
            QgsProcessingParameterBoolean(
                "CHINA_CORRECTION", self.tr("Apply the Chinese correction (Zhang et al.)"), False
            ),
            "K = (−0.01383 + 0.51575·K_EPIC)·0.1317 instead of 0.1317·K_EPIC.",
        )
        self.add_number(
            "TOLERANCE",
            "Tolerance of sand + silt + clay (percentage points)",
            5.0,
            "Largest accepted distance of sand + silt + clay from 100 %.",
            minimum=0.0,
        )
        self.add_choice("UNIT", "Unit of K", K_UNITS, "SI = 0.1317 × US.")
        self.add_reference()
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "Soil erodibility K", "K in the chosen unit, float32.")

    def process(self, parameters, context, feedback):
        china = self.parameterAsBool(parameters, "CHINA_CORRECTION", context)
        tolerance = self.parameterAsDouble(parameters, "TOLERANCE", context)
        unit = self.choice(parameters, "UNIT", context, K_UNITS)
        sources = [
            self.raster_source(parameters, name, context, bands=(1,))
            for name in ("SAND", "SILT", "CLAY", "ORGANIC_CARBON")
        ]
        grid = self.grid(parameters, context, sources)
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            metadata={"CHINA_CORRECTION": china, "TOLERANCE": tolerance, "UNIT": unit},
        )

        def kernel(sand, silt, clay, carbon):
            rusle.check_fractions(sand[0], silt[0], clay[0], tolerance)
            with np.errstate(invalid="ignore"):
                reject(carbon[0], carbon[0] < 0, "ORGANIC_CARBON", "negative organic carbon")
            k = rusle.erodibility_epic(sand[0], silt[0], clay[0], carbon[0], unit, china=china)
            return k.astype(np.float32)

        try:
            self.run_blocks(
                kernel,
                sources,
                [target],
                grid=grid,
                monitor=self.monitor(feedback),
                work_factor=6,
            )
        except rusle.FractionError as error:
            raise QgsProcessingException(f"SAND, SILT, CLAY: {error}") from None
        return self.outputs({"OUTPUT": target})


# --- LS ----------------------------------------------------------------------------------------


class SlopeLengthSteepness(RusleAlgorithm):
    algorithm_id = "rusle_ls"
    display_name = "RUSLE LS: slope length and steepness from a DEM"
    summary = (
        "The topographic factor LS from a DEM alone. The whole DEM is routed at once: depressions "
        "and flats are handled, D8 flow is accumulated, and L comes from the accumulation, S from "
        "the slope (Horn's method, degrees). The DEM must be in a projected CRS (metres or feet: "
        "cell sizes are converted to metres). Routing holds the whole DEM in memory, about "
        f"{rusle_flow.MEMORY_BYTES_PER_CELL} bytes per cell: a 24 GiB machine routes DEMs of up "
        f"to about {24 * 2**30 // rusle_flow.MEMORY_BYTES_PER_CELL // 10**6} million cells."
    )
    formula = (
        "Flow: D8 steepest descent, drop/distance (O'Callaghan & Mark 1984). Depressions: "
        "'breach' (default, as GRASS r.watershed) drains each depression into its pit and out "
        "along the reversed descent path from its spill point; 'fill' fills it to the spill "
        "level (priority-flood). Flats drain by the shortest path to their outlet.\n"
        "L = (λ/22.13)^m with λ = A·D (A flow accumulation in cells, each counting itself, D cell "
        "size in m), or the Desmet & Govers (1996) form L = [(A_in + D²)^(m+1) − A_in^(m+1)] / "
        "[D^(m+2)·x^m·22.13^m], A_in = (A − 1)·D², x = |sin α| + |cos α|.\n"
        "m: slope s < 1 %: 0.2; 1–3 %: 0.3; 3–5 %: 0.4; ≥ 5 %: 0.5 (or the same limits in "
        "degrees), or McCool β/(1 + β), β = (sin θ/0.0896)/(3·sin^0.8 θ + 0.56).\n"
        "S (Chinese scheme, default): θ < 5°: 10.8·sin θ + 0.03; 5–10°: 16.8·sin θ − 0.50; "
        "≥ 10°: 21.91·sin θ − 0.96. McCool: 10.8·sin θ + 0.03 below 9 %, 16.8·sin θ − 0.50 "
        "above; McCool + Liu: McCool with 21.91·sin θ − 0.96 for θ ≥ 10°."
    )
    nodata_rule = (
        "NoData cells are NoData in every output and act as the edge of the DEM: cells next to "
        "them may drain off the DEM there, as on the border. ±Inf cells are NoData (they would "
        "give their neighbours slopes of 90°), and so are −32768 cells of an int16 DEM that "
        "declares no NoData value (SRTM-style voids, which would be cliffs of tens of "
        "kilometres); the run warns with their counts."
    )
    references = (
        "O'Callaghan, J.F. & Mark, D.M. (1984) The extraction of drainage networks from digital "
        "elevation data. Comput. Vis. Graph. Image Process. 28, 323–344.",
        "Barnes, R., Lehman, C. & Mulla, D. (2014) Priority-flood: an optimal depression-filling "
        "and watershed-labeling algorithm for digital elevation models. Comput. Geosci. 62, "
        "117–127.",
        "Garbrecht, J. & Martz, L.W. (1997) The assignment of drainage direction over flat "
        "surfaces in raster digital elevation models. J. Hydrol. 193, 204–213.",
        "Ehlschlaeger, C. (1989) Using the A* search algorithm to develop hydrologic models from "
        "digital elevation data (GRASS r.watershed).",
        "Wischmeier, W.H. & Smith, D.D. (1978) USDA Agriculture Handbook 537 (L, m).",
        "McCool, D.K. et al. (1987) Revised slope steepness factor for the USLE. Trans. ASAE 30, "
        "1387–1396; McCool, D.K. et al. (1989) Trans. ASAE 32, 1571–1576 (m).",
        "Liu, B.Y., Nearing, M.A. & Risse, L.M. (1994) Slope gradient effects on soil loss for "
        "steep slopes. Trans. ASAE 37, 1835–1840.",
        "Desmet, P.J.J. & Govers, G. (1996) A GIS procedure for automatically calculating the USLE "
        "LS factor on topographically complex landscape units. J. Soil Water Conserv. 51, 427–433.",
        "Horn, B.K.P. (1981) Hill shading and the reflectance map. Proc. IEEE 69, 14–47.",
    )
    depressions = (
        ("breach", "Breach: drain into the pit and out over the spill point (as r.watershed)"),
        ("fill", "Fill to the spill level (priority-flood), cross the filled surface"),
    )
    m_methods = (
        ("percent", "Slope classes in percent (< 1, 1–3, 3–5, ≥ 5 %: 0.2/0.3/0.4/0.5)"),
        ("degrees", "Slope classes in degrees (< 1°, 1–3°, 3–5°, ≥ 5°)"),
        ("mccool", "McCool et al. (1989): β/(1 + β)"),
    )
    s_methods = (
        ("china", "Chinese scheme: 5° and 10° breaks (McCool, Liu et al. 1994)"),
        ("mccool", "McCool et al. (1987): 9 % break"),
        ("mccool_liu", "McCool (9 %) with Liu et al. (1994) for θ ≥ 10°"),
    )
    l_methods = (
        ("accumulation", "λ = flow accumulation × cell size"),
        ("desmet_govers", "Desmet & Govers (1996), 2-D upslope area"),
    )

    def initAlgorithm(self, config=None):
        self.add_raster(
            "DEM",
            "DEM (projected CRS)",
            "Elevation in the CRS's vertical unit (metres or feet like the horizontal one); a "
            "geographic DEM must be reprojected first.",
        )
        self.add_choice(
            "DEPRESSIONS",
            "Depressions",
            self.depressions,
            "How flow leaves depressions (sinks) of the DEM.",
        )
        self.add_choice(
            "L_METHOD",
            "Slope length L",
            self.l_methods,
            "How the slope length enters L (see the formula).",
        )
        self.add_choice(
            "M_METHOD",
            "Exponent m",
            self.m_methods,
            "The slope-length exponent m: by slope class (percent, or the same limits read "
            "as degrees) or continuous (McCool et al. 1989).",
        )
        self.add_choice(
            "S_METHOD",
            "Slope steepness S",
            self.s_methods,
            "The slope-steepness equations and their breaks (see the formula).",
        )
        self.add_number(
            "MAX_SLOPE_LENGTH",
            "Largest slope length λ (m; 0 = no limit)",
            0.0,
            "Caps λ (and the Desmet & Govers inlet area per cell width): RUSLE slope lengths "
            "rarely exceed about 300 m, beyond which flow concentrates in channels.",
            minimum=0.0,
        )
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "LS factor", "LS (dimensionless), float32.")
        self.add_output_raster(
            "OUTPUT_SLOPE", "Slope (degrees)", "Slope θ by Horn's method, float32.", optional=True
        )
        self.add_output_raster(
            "OUTPUT_ACCUMULATION",
            "Flow accumulation (cells)",
            "D8 flow accumulation in cells, each cell counting itself, float32.",
            optional=True,
        )
        self.addOutput(QgsProcessingOutputNumber("BASINS", self.tr("Basins of the raw DEM")))
        self.addOutput(
            QgsProcessingOutputNumber("DEPRESSION_CELLS", self.tr("Cells inside depressions"))
        )

    def process(self, parameters, context, feedback):
        depressions = self.choice(parameters, "DEPRESSIONS", context, self.depressions)
        options = rusle.LsOptions(
            m_method=self.choice(parameters, "M_METHOD", context, self.m_methods),
            s_method=self.choice(parameters, "S_METHOD", context, self.s_methods),
            l_method=self.choice(parameters, "L_METHOD", context, self.l_methods),
            max_length=self.parameterAsDouble(parameters, "MAX_SLOPE_LENGTH", context),
        )
        source = self.raster_source(parameters, "DEM", context, bands=(1,))
        monitor = self.monitor(feedback)
        routing, grid, dem, cell_x, cell_y = route_dem(
            source, depressions, monitor.span(0.0, 0.75), feedback
        )
        metadata = {
            "DEPRESSIONS": depressions,
            "M_METHOD": options.m_method,
            "S_METHOD": options.s_method,
            "L_METHOD": options.l_method,
            "MAX_SLOPE_LENGTH": options.max_length,
        }
        targets = {
            name: self.raster_target(parameters, name, context, metadata=metadata)
            for name in ("OUTPUT", "OUTPUT_SLOPE", "OUTPUT_ACCUMULATION")
        }

        def window_values(window):
            rows = slice(window.row, window.row + window.height)
            cols = slice(window.col, window.col + window.width)
            ls, theta = rusle.ls_window(
                dem, routing.accumulation, rows, cols, cell_x, cell_y, options
            )
            accumulation = routing.accumulation[rows, cols].astype(np.float32)
            accumulation[np.isnan(theta)] = np.nan
            return ls, theta, accumulation

        self.write_arrays(
            window_values,
            [targets["OUTPUT"], targets["OUTPUT_SLOPE"], targets["OUTPUT_ACCUMULATION"]],
            grid,
            work_factor=12,
            monitor=monitor.span(0.75, 1.0),
        )
        return {
            **self.outputs(targets),
            "BASINS": routing.basins,
            "DEPRESSION_CELLS": routing.depression_cells,
        }


def route_dem(source: RasterSource, depressions: str, monitor, feedback=None):
    """Read the whole DEM (projected CRS required) and route it. Returns (routing, grid, dem
    as float32 with NaN NoData, cell width and height in metres)."""
    grid = engine.resolve_grid([source])
    srs = grid.srs()
    if srs.IsGeographic():
        name = srs.GetName() or "geographic"
        raise QgsProcessingException(
            f"DEM: is in a geographic CRS ({name}), in degrees; slope and slope length need "
            "metres. Reproject it to a projected CRS first (Raster ▸ Projections ▸ Warp, or "
            "gdalwarp -t_srs EPSG:326xx for UTM zone xx north)."
        )
    metres = srs.GetLinearUnits() or 1.0
    cell_x, cell_y = grid.pixel_width * metres, grid.pixel_height * metres
    dem = engine.read_raster(source, grid, monitor=monitor)[0]
    if metres != 1.0:
        dem *= np.float32(metres)  # vertical unit assumed to match the horizontal one
    if np.isnan(dem).all():
        raise QgsProcessingException("DEM: has no valid cells")
    monitor.check()
    if feedback is not None:
        feedback.pushInfo(
            f"Routing {grid.width} × {grid.height} cells of {cell_x:g} × {cell_y:g} m "
            f"(depressions: {depressions})"
        )

    def progress(fraction):
        monitor.check()
        monitor.report(fraction)

    routing = rusle_flow.route(dem, cell_x, cell_y, depressions=depressions, progress=progress)
    if feedback is not None:
        feedback.pushInfo(
            f"{routing.basins} basins in the raw DEM, {routing.depression_cells} cells inside "
            f"depressions, {routing.flat_cells} flat or pit cells"
        )
    return routing, grid, dem, cell_x, cell_y


# --- C -----------------------------------------------------------------------------------------


class CoverManagement(RusleAlgorithm):
    algorithm_id = "rusle_c"
    display_name = "RUSLE C: cover management"
    summary = (
        "The cover-management factor C from fractional vegetation cover (Cai et al. 2000; FVC "
        "0–1 as written by 'FVC') or from NDVI (van der Knijff et al. 2000)."
    )
    formula = (
        "Cai: f = 100·FVC (%); C = 1 for f = 0; 0.6508 − 0.3436·log10(f) for 0 < f ≤ 78.3 %; 0 "
        "above (the branches meet at 78.3 %). Clipped to [0, 1].\n"
        "van der Knijff: C = exp(−α·NDVI/(β − NDVI)), α = 2, β = 1; clipped to [0, 1]."
    )
    nodata_rule = "NoData in the input is NoData in C."
    references = (
        "Cai, C.F., Ding, S.W., Shi, Z.H., Huang, L. & Zhang, G.Y. (2000) Study of applying USLE "
        "and geographical information system IDRISI to predict soil erosion in small watershed. "
        "J. Soil Water Conserv. 14(2), 19–24 (in Chinese).",
        "van der Knijff, J.M., Jones, R.J.A. & Montanarella, L. (2000) Soil erosion risk "
        "assessment in Europe. EUR 19044 EN.",
    )
    methods = (
        ("cai", "Cai et al. (2000) from FVC (0–1)"),
        ("van_der_knijff", "van der Knijff et al. (2000) from NDVI"),
    )

    def initAlgorithm(self, config=None):
        self.add_raster(
            "INPUT",
            "FVC (0–1) or NDVI",
            "FVC for the Cai method, NDVI for van der Knijff; values outside [0, 1] (FVC) or "
            "[−1, 1] (NDVI) are an error.",
        )
        self.add_choice("METHOD", "Method", self.methods, "Which input and formula.")
        self.add_number("ALPHA", "van der Knijff α", 2.0, "Shape parameter α.", advanced=True)
        self.add_number("BETA", "van der Knijff β", 1.0, "Shape parameter β.", advanced=True)
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "C factor", "C (0–1), float32.")

    def process(self, parameters, context, feedback):
        method = self.choice(parameters, "METHOD", context, self.methods)
        alpha = self.parameterAsDouble(parameters, "ALPHA", context)
        beta = self.parameterAsDouble(parameters, "BETA", context)
        source = self.raster_source(parameters, "INPUT", context, bands=(1,))
        metadata = {"METHOD": method}
        if method == "cai":
            compute = rusle.cover_cai
        else:
            metadata.update(ALPHA=alpha, BETA=beta)

            def compute(ndvi):
                return rusle.cover_van_der_knijff(ndvi, alpha, beta)

        low, what = (
            (0.0, "FVC outside [0, 1]") if method == "cai" else (-1.0, "NDVI outside [−1, 1]")
        )
        target = self.raster_target(parameters, "OUTPUT", context, metadata=metadata)

        def kernel(block):
            with np.errstate(invalid="ignore"):
                reject(block[0], (block[0] < low - 1e-6) | (block[0] > 1 + 1e-6), "INPUT", what)
            return compute(block[0]).astype(np.float32)

        self.run_blocks(
            kernel,
            [source],
            [target],
            monitor=self.monitor(feedback),
        )
        return self.outputs({"OUTPUT": target})


# --- P -----------------------------------------------------------------------------------------


class SupportPractice(RusleAlgorithm):
    algorithm_id = "rusle_p"
    display_name = "RUSLE P: support practice from land cover"
    summary = (
        "The support-practice factor P looked up per land-cover class from a table (CSV file or "
        "a table typed in). A land-cover code missing from the table is an error that lists "
        "every missing code. The shipped tables, for CNLUCC and CLCD land cover (see "
        "'Land-cover classification'), are examples to edit, not standards. Mines, tailings "
        "and bare land are unprotected (P = 1); only sealed surfaces and water get P = 0. "
        "Every row's reason is in the table's source column."
    )
    formula = "P = table[land-cover code]"
    nodata_rule = "NoData in the land cover is NoData in P."
    references = (
        "Renard, K.G. et al. (1997) Predicting soil erosion by water: a guide to conservation "
        "planning with RUSLE. USDA Agriculture Handbook 703 (P values by practice).",
    )
    columns = ("code", "p")

    def initAlgorithm(self, config=None):
        self.add_raster("LANDCOVER", "Land cover (class codes)", "Integer class codes.")
        self.add_table(
            "TABLE",
            "P by land-cover code",
            self.columns,
            help_text="One row per land-cover code with its P (0–1). Blank: the shipped table of "
            "the chosen land-cover classification.",
        )
        self.add_enum(
            "CLASSIFICATION",
            "Land-cover classification (shipped table)",
            CLASSIFICATION_OPTIONS,
            0,
            CLASSIFICATION_HELP,
        )
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "P factor", "P, float32.")

    def process(self, parameters, context, feedback):
        classification = self.parameterAsEnum(parameters, "CLASSIFICATION", context)
        rows = self.read_table(
            parameters,
            "TABLE",
            context,
            self.columns,
            numeric=self.columns,
            fallback_csv=shipped_table("p", classification),
        )
        own_table = self.table_given(parameters, "TABLE", context) is not None
        try:
            table = lookup_codes(rows, "code", "p")
        except TableError as error:
            raise QgsProcessingException(f"TABLE: {error}") from None
        outside = {code: p for code, p in table.items() if not 0 <= p <= 1}
        if outside:
            code, p = next(iter(outside.items()))
            source = "TABLE_MATRIX" if parameters.get("TABLE_MATRIX") else "TABLE"
            raise QgsProcessingException(f"{source}: P of class {code} is {p:g}; P lies in [0, 1]")
        source = self.raster_source(
            parameters, "LANDCOVER", context, bands=(1,), resampling="nearest"
        )
        monitor = self.monitor(feedback)
        present: set[int] = set()

        def collect(window, block):
            values = block[0][~np.isnan(block[0])]
            present.update(int(v) for v in np.unique(values))

        self.scan(collect, [source], monitor=monitor.span(0, 0.3))
        missing = sorted(present - set(table))
        if missing:
            hint = "" if own_table else scheme_hint(missing, present, classification)
            raise QgsProcessingException(f"TABLE: {rusle.UnknownCodes(missing)}{hint}")
        feedback.pushInfo("P by code: " + ", ".join(f"{k}: {v:g}" for k, v in table.items()))
        target = self.raster_target(
            parameters,
            "OUTPUT",
            context,
            metadata={"P_TABLE": ";".join(f"{k}={v:g}" for k, v in table.items())},
        )
        self.run_blocks(
            lambda block: rusle.lookup(block[0], table).astype(np.float32),
            [source],
            [target],
            monitor=monitor.span(0.3, 1.0),
        )
        return self.outputs({"OUTPUT": target})


# --- A and classes -----------------------------------------------------------------------------


class SoilLoss(RusleAlgorithm):
    algorithm_id = "rusle"
    display_name = "RUSLE soil loss and erosion intensity"
    summary = (
        "Annual soil loss A = R·K·LS·C·P in t·ha⁻¹·yr⁻¹ (R and K in SI units), and its "
        "erosion-intensity classes of the Chinese standard SL 190-2007 as a styled class raster "
        "with a table of area and percentage per class. The lowest class ('slight') ends at the "
        "soil-loss tolerance of the region; the other limits are a parameter."
    )
    formula = (
        "A = R·K·LS·C·P (t·ha⁻¹·yr⁻¹); classes on 100·A (t·km⁻²·a⁻¹): slight < tolerance ≤ light "
        "< 2500 ≤ moderate < 5000 ≤ intense < 8000 ≤ very intense < 15000 ≤ severe.\n"
        "Tolerance (t·km⁻²·a⁻¹): southern red-soil hills 500, northwest loess plateau 1000, "
        "northeast black-soil region 200, northern rocky mountains 200, southwest rocky "
        "mountains 500."
    )
    nodata_rule = "A pixel that is NoData in any factor is NoData in A and in the classes (0)."
    references = (
        "Renard, K.G. et al. (1997) USDA Agriculture Handbook 703 (RUSLE).",
        "Ministry of Water Resources of China (2008) SL 190-2007 Standards for classification and "
        "gradation of soil erosion.",
    )
    factors = (
        ("R", "Rainfall erosivity R (SI)"),
        ("K", "Soil erodibility K (SI)"),
        ("LS", "LS factor"),
        ("C", "C factor"),
        ("P", "P factor"),
    )
    regions = (*rusle.SL190_TOLERANCE, "Custom (TOLERANCE)")

    def initAlgorithm(self, config=None):
        for name, label in self.factors:
            self.add_raster(name, label, f"{label}; any grid (resampled onto the output grid).")
        self.add_reference()
        self.add_enum(
            "REGION",
            "Region (soil-loss tolerance)",
            [
                f"{name} ({value:g} t/km²/a)" if name in rusle.SL190_TOLERANCE else name
                for name, value in zip(
                    self.regions, [*rusle.SL190_TOLERANCE.values(), 0.0], strict=True
                )
            ],
            0,
            "SL 190-2007 tolerance, the upper limit of 'slight'.",
        )
        self.add_number(
            "TOLERANCE",
            "Custom tolerance (t·km⁻²·a⁻¹)",
            500.0,
            "Used when REGION is 'Custom'.",
            minimum=0.0,
        )
        self.add(
            QgsProcessingParameterString(
                "BREAKS",
                self.tr("Upper limits of the classes above 'slight' (t·km⁻²·a⁻¹)"),
                ",".join(f"{b:g}" for b in rusle.SL190_BREAKS),
            ),
            "Comma-separated, increasing; default SL 190-2007: 2500, 5000, 8000, 15000.",
        )
        self.add_output_nodata()
        self.add_output_raster("OUTPUT", "Soil loss A (t/ha/yr)", "A in t·ha⁻¹·yr⁻¹, float32.")
        self.add_output_raster(
            "OUTPUT_CLASSES",
            "Erosion intensity classes",
            "Class codes 1 (slight) to 6 (severe), uint8 with NoData 0, colour table and QML "
            "legend.",
            side=True,
        )
        self.add_output_table(
            "OUTPUT_TABLE",
            "Area per erosion class",
            "Per class: limits, pixels, area (km²), percentage of the valid area, mean soil loss.",
            side=True,
        )
        self.addOutput(QgsProcessingOutputNumber("MEAN", self.tr("Mean soil loss (t/ha/yr)")))

    def erosion_classes(self, parameters, context):
        region = self.parameterAsEnum(parameters, "REGION", context)
        if region < len(rusle.SL190_TOLERANCE):
            tolerance = list(rusle.SL190_TOLERANCE.values())[region]
        else:
            tolerance = self.parameterAsDouble(parameters, "TOLERANCE", context)
        text = self.parameterAsString(parameters, "BREAKS", context) or ""
        try:
            breaks = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
        except ValueError:
            raise QgsProcessingException(f"BREAKS: '{text}' is not a list of numbers") from None
        try:
            return rusle.ErosionClasses.sl190(tolerance, breaks)
        except ValueError as error:
            raise QgsProcessingException(f"TOLERANCE, BREAKS: {error}") from None

    def process(self, parameters, context, feedback):
        classes = self.erosion_classes(parameters, context)
        sources = [
            self.raster_source(parameters, name, context, bands=(1,)) for name, _ in self.factors
        ]
        grid = self.grid(parameters, context, sources)
        labels = classes.labels()
        styled = styles.numbered_classes(labels, styles.erosion_colours(classes.count))
        limits = ",".join(f"{v:g}" for v in classes.limits)
        soil = self.raster_target(parameters, "OUTPUT", context, metadata={"LIMITS": limits})
        coded = self.class_target(
            parameters,
            "OUTPUT_CLASSES",
            context,
            styled,
            metadata={"LIMITS_T_KM2_A": limits},
        )
        counts = np.zeros(classes.count + 1, dtype=np.int64)
        sums = np.zeros(classes.count + 1, dtype=np.float64)

        def kernel(r, k, ls, c, p):
            with np.errstate(invalid="ignore"):
                for (name, _), factor in zip(self.factors, (r, k, ls, c, p), strict=True):
                    reject(factor[0], factor[0] < 0, name, "negative values")
                for name, factor in (("C", c), ("P", p)):
                    reject(factor[0], factor[0] > 1 + 1e-6, name, "values above 1")
            loss = rusle.soil_loss(r[0], k[0], ls[0], c[0], p[0])
            codes = classes.classify(loss)
            counts[:] += np.bincount(codes.ravel(), minlength=classes.count + 1)
            valid = codes > 0
            sums[:] += np.bincount(codes[valid], weights=loss[valid], minlength=classes.count + 1)
            return loss.astype(np.float32), codes

        self.run_blocks(
            kernel,
            sources,
            [soil, coded],
            grid=grid,
            monitor=self.monitor(feedback),
            work_factor=4,
        )
        pixel_km2 = pixel_area_km2(grid)
        valid = int(counts[1:].sum())
        rows = []
        lower = (0.0, *classes.limits)
        upper = (*classes.limits, None)
        for code in range(1, classes.count + 1):
            n = int(counts[code])
            rows.append(
                (
                    code,
                    labels[code - 1],
                    lower[code - 1],
                    upper[code - 1],
                    n,
                    n * pixel_km2,
                    100.0 * n / valid if valid else 0.0,
                    float(sums[code] / n * rusle.T_HA_TO_T_KM2) if n else None,
                )
            )
        columns = [
            ("class", int),
            ("label", str),
            ("lower_t_km2_a", float),
            ("upper_t_km2_a", float),
            ("pixels", int),
            ("area_km2", float),
            ("percent", float),
            ("mean_t_km2_a", float),
        ]
        table = self.write_table(parameters, "OUTPUT_TABLE", context, columns, rows)
        for row in rows:
            feedback.pushInfo(f"{row[1]}: {row[5]:.3f} km², {row[6]:.2f} %")
        mean = float(sums.sum() / valid) if valid else math.nan
        result = {**self.outputs({"OUTPUT": soil, "OUTPUT_CLASSES": coded}), "MEAN": mean}
        if table is not None:
            result["OUTPUT_TABLE"] = table
        return result


def pixel_area_km2(grid) -> float:
    """Area of one pixel in km²; for a geographic grid, at the grid's central latitude on a
    sphere of radius 6,371,008.8 m (an approximation, logged by the caller's table)."""
    srs = grid.srs()
    if srs.IsGeographic():
        xmin, ymin, xmax, ymax = grid.bounds
        radius = 6_371_008.8
        latitude = math.radians((ymin + ymax) / 2)
        width = math.radians(grid.pixel_width) * radius * math.cos(latitude)
        height = math.radians(grid.pixel_height) * radius
        return width * height / 1e6
    metres = srs.GetLinearUnits() or 1.0
    return grid.pixel_area() * metres**2 / 1e6

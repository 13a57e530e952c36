"""CASA net primary productivity (the NPP-drivers study's Eq. 2–4) from monthly NDVI and climate."""

from __future__ import annotations

import calendar

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
)

from .. import engine
from ..core import casa
from ..core.tables import TableError, lookup_codes
from ..engine import EngineError
from .base import MineEcoAlgorithm

MONTHS = tuple(calendar.month_name[1:])
TABLE_COLUMNS = ("code", "eps_max", "ndvi_max", "sr_max")
SOLAR_UNITS = (
    "MJ·m⁻²·month⁻¹ (monthly total)",
    "W·m⁻² (monthly mean irradiance)",
    "MJ·m⁻²·day⁻¹ (monthly mean of daily totals)",
)
UNKNOWN_CHOICES = (
    "Fail (an error lists the codes)",
    "Use the fallback (Potter's ε_max and the fallback NDVI/SR maxima)",
)
#: Optional outputs: parameter id → (description, result key, bands).
INTERMEDIATES = {
    "OUTPUT_FPAR": ("FPAR (12 months)", "fpar"),
    "OUTPUT_APAR": ("APAR, MJ·m⁻²·month⁻¹ (12 months)", "apar"),
    "OUTPUT_EPSILON": ("Light-use efficiency ε, gC·MJ⁻¹ (12 months)", "epsilon"),
    "OUTPUT_TE1": ("Temperature stress T_ε1 (12 months)", "t_epsilon1"),
    "OUTPUT_TE2": ("Temperature stress T_ε2 (12 months)", "t_epsilon2"),
    "OUTPUT_WE": ("Water stress W_ε (12 months)", "w_epsilon"),
    "OUTPUT_PET": ("Thornthwaite E0, mm·month⁻¹ (12 months)", "e0"),
}
#: Tolerance on the NDVI range check (float rounding of rescaled integer NDVI).
NDVI_TOLERANCE = 1e-5
MONTHLY_INPUTS = ("NDVI", "TEMPERATURE", "PRECIPITATION", "SOLAR")


class _AllMonthsSeen(Exception):
    """Ends the scan for empty months once every month of every input has a valid pixel."""


def empty_months(sources, *, grid, memory_mb, monitor) -> list[tuple[str, int]]:
    """(input, month index) of the monthly sources (12 per input, in MONTHLY_INPUTS order) that
    have no finite pixel on the grid. Stops at the first block where every month has one (one
    block for a normal year); reads everything only when a month is really empty."""
    seen = np.zeros(len(sources), dtype=bool)

    def visit(window, *blocks):
        for index, block in enumerate(blocks):
            if not seen[index] and np.isfinite(block).any():
                seen[index] = True
        if seen.all():
            raise _AllMonthsSeen

    try:
        engine.scan(visit, sources, grid=grid, memory_mb=memory_mb, monitor=monitor)
    except _AllMonthsSeen:
        return []
    return [(MONTHLY_INPUTS[i // 12], i % 12) for i in np.flatnonzero(~seen)]


def month_lengths(year: int | None) -> np.ndarray:
    """Days of each month; a 28-day February without a year."""
    if year is None:
        return np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.float64)
    return np.array([calendar.monthrange(year, m)[1] for m in range(1, 13)], dtype=np.float64)


def solar_factors(unit: int, year: int | None) -> np.ndarray:
    """Per-month factors that turn the SOLAR input into MJ·m⁻²·month⁻¹."""
    days = month_lengths(year)
    if unit == 1:  # W·m⁻² = J·s⁻¹·m⁻²: × seconds of the month / 10⁶
        return days * 86400.0 / 1e6
    if unit == 2:
        return days
    return np.ones(12)


class LandCoverLookup:
    """ε_max, NDVI_max and SR_max per land-cover code, with an optional fallback."""

    def __init__(self, table: dict[int, tuple[float, float, float]], fallback=None):
        self.codes = np.array(sorted(table), dtype=np.float64)
        self.values = np.array([table[int(c)] for c in self.codes], dtype=np.float32).reshape(-1, 3)
        self.fallback = fallback

    def __call__(self, landcover: np.ndarray):
        """(eps_max, ndvi_max, sr_max) arrays for a land-cover block (NaN stays NaN)."""
        codes = np.rint(landcover)
        valid = ~np.isnan(codes)
        position = np.searchsorted(self.codes, np.where(valid, codes, 0))
        position = np.clip(position, 0, len(self.codes) - 1)
        known = valid & (self.codes[position] == codes)
        unknown = valid & ~known
        if unknown.any() and self.fallback is None:
            missing = ", ".join(str(int(c)) for c in np.unique(codes[unknown])[:20])
            raise EngineError(
                "LANDCOVER",
                f"class code(s) {missing} are not in TABLE; add them to the table or choose "
                "the fallback for unknown classes (UNKNOWN_CLASSES)",
            )
        out = []
        for column in range(3):
            values = self.values[position, column]
            if self.fallback is not None:
                values = np.where(unknown, np.float32(self.fallback[column]), values)
            out.append(np.where(valid, values, np.float32(np.nan)))
        return out


class CasaNpp(MineEcoAlgorithm):
    algorithm_id = "casa_npp"
    display_name = "CASA net primary productivity (NPP)"
    group_key = "productivity"
    summary = (
        "Net primary productivity by the CASA light-use-efficiency model (Potter et al. 1993) in "
        "the form of Zhu Wenquan et al. (2006, 2007) that the NPP-drivers study uses (its Eq. "
        "2–4): "
        "monthly NPP from monthly NDVI, air temperature, precipitation and solar radiation, with "
        "ε_max, NDVI_max and SR_max per land-cover class from a table. Writes annual NPP "
        "(gC·m⁻²·yr⁻¹) and, on request, monthly NPP and every intermediate (FPAR, APAR, ε, "
        "T_ε1, T_ε2, W_ε, E0, Topt) to debug a run. Each monthly input is 12 layers (January "
        "to December) or one 12-band raster. No solar radiation at hand? 'Solar radiation "
        "(derived)' computes it from latitude."
    )
    formula = (
        "NPP(x,t) = APAR(x,t)·ε(x,t);  APAR = SOL·FPAR·0.5;  ε = T_ε1·T_ε2·W_ε·ε_max\n"
        "FPAR = ½·FPAR_NDVI + ½·FPAR_SR, each (v − v_min)(0.95 − 0.001)/(v_max − v_min) + "
        "0.001 clipped to [0.001, 0.95]; SR = (1 + NDVI)/(1 − NDVI); NDVI_min 0.023, "
        "SR_min 1.05; NDVI_max, SR_max per class\n"
        "T_ε1 = 0.8 + 0.02·Topt − 0.0005·Topt²; 0 in months with T ≤ −10 °C (NPP 0)\n"
        "T_ε2 = C/{1 + exp[0.2(Topt − 10 − T)]} · 1/{1 + exp[0.3(−Topt − 10 + T)]}, C = "
        "1.184 (Zhu 2007) or 1.1814 (Potter 1993); where T > Topt + 10 °C or T < Topt − "
        "13 °C, half its value at T = Topt\n"
        "Topt = temperature of the month of maximum NDVI, per pixel (first month on ties)\n"
        "W_ε = 0.5 + 0.5·EET/PET;  PET = (EET + E0)/2;  EET = P·Rn·(P² + Rn² + P·Rn)/[(P "
        "+ Rn)(P² + Rn²)];  Rn = √(E0·P)·(0.369 + 0.598·√(E0/P))\n"
        "P = 0 → EET = 0, W_ε = 0.5;  E0 = 0 (T ≤ 0 °C) → PET = 0, W_ε = "
        "NO_DEMAND_WATER_STRESS (1);  W_ε > 1 (when P > 1.884·E0) capped at 1 when "
        "CAP_WATER_STRESS\n"
        "E0 (Thornthwaite, mm·month⁻¹, no day-length correction) = 16·(10T/I)^a for 0 < T "
        "< 26.5 °C; −415.85 + 32.24T − 0.43T² for T ≥ 26.5 °C; 0 for T ≤ 0; I = "
        "Σ(T/5)^1.514 over months with T > 0; a = 6.75e-7·I³ − 7.71e-5·I² + 1.792e-2·I + "
        "0.49239\n"
        "Annual NPP = Σ of the 12 monthly NPP (gC·m⁻²·month⁻¹)"
    )
    nodata_rule = (
        "A pixel that is NoData (or ±Inf) in any month of any input (or in LANDCOVER when given) "
        "is NoData in every output: an annual sum over fewer months would be biased low. A "
        "month in which an input has no valid (finite) pixel at all is an error naming the "
        "input and "
        "the month (the year would be NoData everywhere), unless INCOMPLETE_YEAR is checked: "
        "then such months are left out — their inputs ignored, their monthly outputs NoData, "
        "Topt taken among the other months, the Thornthwaite heat index summed over the other "
        "months — and the annual NPP is the sum of the months kept, biased low by the missing "
        "months' NPP. The log warns, the outputs' metadata carry INCOMPLETE_YEAR (the months "
        "left out) and MONTHS_SUMMED, and MISSING_MONTHS/MONTHS_SUMMED are returned. The "
        "output grid is the first NDVI layer's; other inputs are resampled onto it (bilinear; "
        "land cover nearest)."
    )
    references = (
        "Potter, C.S. et al. (1993) Terrestrial ecosystem production: a process model based on "
        "global satellite and surface data. Global Biogeochem. Cycles 7(4), 811–841.",
        "Field, C.B., Randerson, J.T. & Malmström, C.M. (1995) Global net primary production: "
        "combining ecology and remote sensing. Remote Sens. Environ. 51, 74–88.",
        "Zhu Wenquan, Pan Yaozhong, He Hao, Yu Deyong & Hu Haibo (2006) Simulation of maximum "
        "light use efficiency for some typical vegetation types in China. Chinese Science "
        "Bulletin 51(4), 457–463 (ε_max, NDVI_max, SR_max per type).",
        "Zhu Wenquan, Pan Yaozhong & Zhang Jinshui (2007) Estimation of net primary productivity "
        "of Chinese terrestrial vegetation based on remote sensing. Chinese J. Plant Ecol. 31(3), "
        "413–424.",
        "Zhou Guangsheng & Zhang Xinshi (1995) A natural vegetation NPP model. Acta Phytoecol. "
        "Sin. 19(3), 193–200 (regional evapotranspiration model).",
        "Thornthwaite, C.W. (1948) An approach toward a rational classification of climate. "
        "Geogr. Rev. 38(1), 55–94; Willmott, C.J., Rowe, C.M. & Mintz, Y. (1985) J. Climatol. "
        "5, 589–606 (E0 above 26.5 °C).",
        "Tian et al. (2022), the NPP-drivers study, Eq. 2–4.",
    )

    def initAlgorithm(self, config=None):
        monthly = "12 layers (January to December) or one 12-band raster"
        self.add_rasters("NDVI", "Monthly NDVI", f"Monthly maximum-value NDVI (−1…1), {monthly}.")
        self.add_rasters("TEMPERATURE", "Monthly mean air temperature (°C)", f"°C, {monthly}.")
        self.add_rasters(
            "PRECIPITATION", "Monthly precipitation (mm)", f"Monthly totals in mm, {monthly}."
        )
        self.add_rasters(
            "SOLAR",
            "Monthly solar radiation",
            f"Global (total) solar radiation, {monthly}; unit in SOLAR_UNIT.",
        )
        self.add_enum(
            "SOLAR_UNIT",
            "Unit of the solar radiation",
            SOLAR_UNITS,
            0,
            "W·m⁻² is multiplied by the seconds of the month / 10⁶, MJ·m⁻²·day⁻¹ by the days of "
            "the month.",
        )
        self.add_number(
            "YEAR",
            "Year (for month lengths; blank: 28-day February)",
            None,
            "Only used to convert SOLAR given as W·m⁻² or per day into monthly totals.",
            optional=True,
            integer=True,
            minimum=1,
        )
        self.add_raster(
            "LANDCOVER",
            "Land cover (optional)",
            "Class codes looked up in TABLE (nearest-neighbour resampling). Without it every "
            "pixel takes the fallback values (Potter's global ε_max 0.389 gC·MJ⁻¹).",
            optional=True,
        )
        self.add_table(
            "TABLE",
            "ε_max, NDVI_max and SR_max per land-cover class",
            TABLE_COLUMNS,
            default_csv="casa_zhu2006.csv",
            help_text="eps_max in gC·MJ⁻¹; ndvi_max and sr_max are the class's 95 % NDVI and "
            "simple ratio. The shipped table holds Zhu et al. (2006)'s values for codes 1–8 "
            "(1 evergreen needleleaf 0.389/0.647/4.67, 2 deciduous needleleaf 0.485/0.738/6.63, "
            "3 evergreen broadleaf 0.985/0.676/5.17, 4 deciduous broadleaf 0.692/0.747/6.91, "
            "5 shrub 0.429/0.636/4.49, 6 grass, 7 crop, 8 other 0.542/0.634/4.46): re-code it "
            "to your land-cover codes. Mixed forest is unsettled in the literature (0.475 "
            "circulates).",
        )
        self.add_enum(
            "UNKNOWN_CLASSES",
            "Land-cover codes missing from the table",
            UNKNOWN_CHOICES,
            0,
            "Fail (default) or give such pixels the fallback values.",
        )
        self.add_number(
            "FALLBACK_EPSILON_MAX",
            "Fallback ε_max (gC·MJ⁻¹)",
            casa.POTTER_EPSILON_MAX,
            "Potter et al. (1993)'s global value 0.389.",
            minimum=0.0,
        )
        self.add_number(
            "FALLBACK_NDVI_MAX",
            "Fallback NDVI_max",
            0.634,
            "Zhu et al. (2006)'s value for grass, crop and other types.",
            minimum=-1.0,
            maximum=1.0,
            advanced=True,
        )
        self.add_number(
            "FALLBACK_SR_MAX",
            "Fallback SR_max",
            4.46,
            "Zhu et al. (2006)'s value for grass, crop and other types.",
            minimum=0.0,
            advanced=True,
        )
        for name, description, default, help_text in (
            ("NDVI_MIN", "NDVI_min", casa.NDVI_MIN, "Bare-ground NDVI (Zhu et al. 2006)."),
            ("SR_MIN", "SR_min", casa.SR_MIN, "Bare-ground simple ratio (Zhu et al. 2006)."),
            ("FPAR_MIN", "FPAR_min", casa.FPAR_MIN, "Lower FPAR bound (Potter et al. 1993)."),
            ("FPAR_MAX", "FPAR_max", casa.FPAR_MAX, "Upper FPAR bound (Potter et al. 1993)."),
        ):
            self.add_number(name, description, default, help_text, advanced=True)
        self.add_number(
            "NDVI_SCALE",
            "NDVI scale factor",
            1.0,
            "NDVI is multiplied by this first (e.g. 0.0001 for MODIS NDVI stored ×10 000).",
            advanced=True,
        )
        self.add_number(
            "T_EPSILON2_CONSTANT",
            "T_ε2 constant C",
            casa.T_EPSILON2_ZHU,
            "1.184 as printed by Zhu et al. (2007), whose CASA form the NPP-drivers study follows; "
            "1.1814 in Potter et al. (1993) and Field et al. (1995). The results differ by 0.2 %.",
            minimum=0.0,
        )
        self.add_number(
            "FREEZING_TEMPERATURE",
            "Temperature at or below which T_ε1 = 0 (°C)",
            -10.0,
            "Months this cold get no NPP (Zhu et al. 2007: −10 °C).",
            advanced=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "CAP_WATER_STRESS", self.tr("Cap W_ε at 1"), True, optional=True
            ),
            "The regional ET model gives EET > E0, and so W_ε > 1, whenever P > 1.884·E0. "
            "Potter et al. (1993) define W_ε between 0.5 (arid) and 1 (wet), so the default caps "
            "it at 1; published CASA codes differ (some do not cap): uncheck to reproduce them.",
        )
        self.add_number(
            "NO_DEMAND_WATER_STRESS",
            "W_ε where E0 = 0",
            1.0,
            "Months at or below 0 °C have E0 = 0 and PET = 0, so EET/PET is undefined. No "
            "evaporative demand means no water stress: 1 by default (0.5 treats them as dry).",
            minimum=0.5,
            maximum=1.0,
            advanced=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "HOT_MONTH_FORMULA",
                self.tr("E0 from Thornthwaite's table above 26.5 °C"),
                True,
                optional=True,
            ),
            "E0 = −415.85 + 32.24T − 0.43T² for T ≥ 26.5 °C (Willmott et al. 1985's fit of "
            "Thornthwaite's 1948 table); unchecked applies 16·(10T/I)^a at all temperatures.",
            advanced=True,
        )
        self.add(
            QgsProcessingParameterBoolean(
                "INCOMPLETE_YEAR",
                self.tr("Allow months without data (annual sum flagged incomplete)"),
                False,
                optional=True,
            ),
            "Unchecked (default): a month in which NDVI, TEMPERATURE, PRECIPITATION or SOLAR "
            "has no valid pixel stops the run with an error naming it. Checked: such months "
            "are left out and the annual NPP sums the other months — an underestimate, flagged "
            "in the log, in the outputs' metadata (INCOMPLETE_YEAR, MONTHS_SUMMED) and in the "
            "MISSING_MONTHS output.",
            advanced=True,
        )
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT",
            "Annual NPP (gC·m⁻²·yr⁻¹)",
            "Sum of the 12 months (of the months with data when INCOMPLETE_YEAR allows gaps).",
        )
        self.add_output_raster(
            "OUTPUT_MONTHLY",
            "Monthly NPP (gC·m⁻²·month⁻¹, 12 bands)",
            "One band per month.",
            optional=True,
        )
        for name, (description, _) in INTERMEDIATES.items():
            self.add_output_raster(name, description, "One band per month.", optional=True)
        self.add_output_raster(
            "OUTPUT_TOPT",
            "Optimum temperature Topt (°C)",
            "Temperature of the month of maximum NDVI.",
            optional=True,
        )
        self.addOutput(
            QgsProcessingOutputString(
                "MISSING_MONTHS", self.tr("Months left out (empty: a complete year)")
            )
        )
        self.addOutput(QgsProcessingOutputNumber("MONTHS_SUMMED", self.tr("Months summed")))

    # --- reading the parameters ------------------------------------------------------------
    def _lookup(self, parameters, context):
        fallback = (
            self.parameterAsDouble(parameters, "FALLBACK_EPSILON_MAX", context),
            self.parameterAsDouble(parameters, "FALLBACK_NDVI_MAX", context),
            self.parameterAsDouble(parameters, "FALLBACK_SR_MAX", context),
        )
        if self.parameterAsRasterLayer(parameters, "LANDCOVER", context) is None:
            return None, fallback, {}
        rows = self.read_table(parameters, "TABLE", context, TABLE_COLUMNS, TABLE_COLUMNS)
        source = (
            "TABLE_MATRIX"
            if self.parameterAsMatrix(parameters, "TABLE_MATRIX", context)
            else "TABLE"
        )
        try:
            columns = {
                name: lookup_codes(rows, "code", name) for name in ("eps_max", "ndvi_max", "sr_max")
            }
        except TableError as error:
            raise QgsProcessingException(f"{source}: {error}") from None
        table = {
            code: (columns["eps_max"][code], columns["ndvi_max"][code], columns["sr_max"][code])
            for code in columns["eps_max"]
        }
        ndvi_min = self.parameterAsDouble(parameters, "NDVI_MIN", context)
        sr_min = self.parameterAsDouble(parameters, "SR_MIN", context)
        for code, (eps_max, ndvi_max, sr_max) in table.items():
            if eps_max < 0:
                raise QgsProcessingException(f"{source}: class {code}: eps_max is negative")
            if not ndvi_min < ndvi_max <= 1:
                raise QgsProcessingException(
                    f"{source}: class {code}: ndvi_max {ndvi_max} must lie in (NDVI_MIN "
                    f"{ndvi_min}, 1]"
                )
            if not sr_max > sr_min:
                raise QgsProcessingException(
                    f"{source}: class {code}: sr_max {sr_max} must exceed SR_MIN {sr_min}"
                )
        unknown = self.parameterAsEnum(parameters, "UNKNOWN_CLASSES", context)
        return LandCoverLookup(table, fallback if unknown == 1 else None), fallback, table

    def _parameters(self, parameters, context) -> casa.CasaParameters:
        get = self.parameterAsDouble
        result = casa.CasaParameters(
            ndvi_min=get(parameters, "NDVI_MIN", context),
            sr_min=get(parameters, "SR_MIN", context),
            fpar_min=get(parameters, "FPAR_MIN", context),
            fpar_max=get(parameters, "FPAR_MAX", context),
            t_epsilon2_constant=get(parameters, "T_EPSILON2_CONSTANT", context),
            freezing=get(parameters, "FREEZING_TEMPERATURE", context),
            cap_water_stress=self.parameterAsBool(parameters, "CAP_WATER_STRESS", context),
            no_demand_water_stress=get(parameters, "NO_DEMAND_WATER_STRESS", context),
            hot_formula=self.parameterAsBool(parameters, "HOT_MONTH_FORMULA", context),
        )
        if not result.fpar_min < result.fpar_max:
            raise QgsProcessingException("FPAR_MIN must be below FPAR_MAX")
        return result

    # --- the run ----------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        params = self._parameters(parameters, context)
        unit = self.parameterAsEnum(parameters, "SOLAR_UNIT", context)
        year = self.optional_int(parameters, "YEAR", context)
        factors = solar_factors(unit, year).astype(np.float32)
        ndvi_scale = np.float32(self.parameterAsDouble(parameters, "NDVI_SCALE", context))
        lookup, fallback, table = self._lookup(parameters, context)

        sources = []
        for name in MONTHLY_INPUTS:
            sources += self.monthly_sources(parameters, name, context)
        monitor = self.monitor(feedback)
        grid = engine.resolve_grid(sources[:1])
        empty = empty_months(
            sources, grid=grid, memory_mb=self.memory_mb(), monitor=monitor.span(0.0, 0.05)
        )
        kept = np.ones(12, dtype=bool)
        for _, month in empty:
            kept[month] = False
        listed = "; ".join(
            f"{name}: " + ", ".join(MONTHS[m] for _, m in group)
            for name, group in (
                (name, [item for item in empty if item[0] == name]) for name in MONTHLY_INPUTS
            )
            if group
        )
        if empty and not self.parameterAsBool(parameters, "INCOMPLETE_YEAR", context):
            raise QgsProcessingException(
                f"{empty[0][0]}: no valid pixel on the output grid for {listed} (every pixel "
                "NoData or not finite), so the annual NPP would be NoData everywhere. Fill the "
                "gap (e.g. interpolate the month from its neighbours) or check "
                "INCOMPLETE_YEAR to sum the other months, flagged incomplete."
            )
        if not kept.any():
            raise QgsProcessingException(
                f"INCOMPLETE_YEAR: no month has data in every input ({listed})"
            )
        if empty:
            feedback.reportError(
                f"INCOMPLETE_YEAR: no valid pixel for {listed}; those months are left out and "
                f"the annual NPP sums {int(kept.sum())} months only (an underestimate)",
                False,
            )
        landcover = self.raster_source(
            parameters, "LANDCOVER", context, bands=(1,), resampling="nearest"
        )
        if landcover is not None:
            sources.append(landcover)

        metadata = {
            "UNITS": "gC m-2 yr-1 (annual), gC m-2 month-1 (monthly)",
            "NDVI_MIN": params.ndvi_min,
            "SR_MIN": params.sr_min,
            "FPAR_RANGE": f"{params.fpar_min},{params.fpar_max}",
            "PAR_FRACTION": params.par_fraction,
            "T_EPSILON2_CONSTANT": params.t_epsilon2_constant,
            "FREEZING_TEMPERATURE": params.freezing,
            "CAP_WATER_STRESS": params.cap_water_stress,
            "NO_DEMAND_WATER_STRESS": params.no_demand_water_stress,
            "HOT_MONTH_FORMULA": params.hot_formula,
            "RN_COEFFICIENT": params.rn_coefficient,
            "SOLAR_UNIT": SOLAR_UNITS[unit],
            "SOLAR_FACTORS": ",".join(f"{f:.6g}" for f in factors),
            "NDVI_SCALE": float(ndvi_scale),
            "EPSILON_MAX_TABLE": "; ".join(
                f"{code}: {v[0]}/{v[1]}/{v[2]}" for code, v in sorted(table.items())
            )
            or "none (no LANDCOVER)",
            "FALLBACK": f"{fallback[0]}/{fallback[1]}/{fallback[2]}",
            "MONTHS_SUMMED": int(kept.sum()),
        }
        if empty:
            metadata["INCOMPLETE_YEAR"] = f"months left out (no valid pixel): {listed}"
        feedback.pushInfo(
            "CASA constants: "
            + "; ".join(f"{k} = {v}" for k, v in metadata.items() if k != "UNITS")
        )
        if landcover is None:
            feedback.pushInfo(
                f"No LANDCOVER: every pixel uses ε_max {fallback[0]}, NDVI_max {fallback[1]}, "
                f"SR_max {fallback[2]}."
            )

        targets = {"OUTPUT": self.raster_target(parameters, "OUTPUT", context, metadata=metadata)}
        for name in ("OUTPUT_MONTHLY", *INTERMEDIATES):
            targets[name] = self.raster_target(
                parameters, name, context, bands=12, band_names=MONTHS, metadata=metadata
            )
        targets["OUTPUT_TOPT"] = self.raster_target(
            parameters, "OUTPUT_TOPT", context, metadata=metadata
        )
        keys = {"OUTPUT": "annual", "OUTPUT_MONTHLY": "npp", "OUTPUT_TOPT": "topt"}
        keys.update({name: key for name, (_, key) in INTERMEDIATES.items()})

        def kernel(*blocks):
            ndvi = np.concatenate(blocks[0:12]) * ndvi_scale
            temperature = np.concatenate(blocks[12:24])
            precipitation = np.concatenate(blocks[24:36])
            solar = np.concatenate(blocks[36:48]) * factors[:, None, None]
            check_inputs(ndvi, precipitation, solar)
            if lookup is None:
                eps_max, ndvi_max, sr_max = (np.float32(v) for v in fallback)
            else:
                eps_max, ndvi_max, sr_max = lookup(blocks[48][0])
            results = casa.casa_npp(
                ndvi,
                temperature,
                precipitation,
                solar,
                eps_max,
                ndvi_max,
                sr_max,
                params,
                months=None if kept.all() else kept,
            )
            return [results[keys[name]] if targets[name] is not None else None for name in targets]

        self.run_blocks(
            kernel,
            sources,
            list(targets.values()),
            grid=grid,
            monitor=monitor.span(0.05, 1.0),
            work_factor=6,
        )
        results = self.outputs(targets)
        results["MISSING_MONTHS"] = listed
        results["MONTHS_SUMMED"] = int(kept.sum())
        return results


def _first_bad(values: np.ndarray, bad: np.ndarray) -> str:
    month, row, col = (int(i[0]) for i in np.nonzero(bad))
    return f"{values[month, row, col]:.6g} in {MONTHS[month]} (block pixel {row}, {col})"


def check_inputs(ndvi: np.ndarray, precipitation: np.ndarray, solar: np.ndarray) -> None:
    """EngineError naming the parameter for NDVI outside [−1, 1], negative precipitation or
    negative solar radiation (NaN is NoData and passes)."""
    with np.errstate(invalid="ignore"):
        bad = np.abs(ndvi) > 1 + NDVI_TOLERANCE
        if bad.any():
            raise EngineError(
                "NDVI",
                f"values outside [−1, 1], e.g. {_first_bad(ndvi, bad)}; rescale the NDVI "
                "(NDVI_SCALE, e.g. 0.0001 for values stored ×10 000) or mask invalid values as "
                "NoData",
            )
        bad = precipitation < 0
        if bad.any():
            raise EngineError(
                "PRECIPITATION", f"negative precipitation, e.g. {_first_bad(precipitation, bad)}"
            )
        bad = solar < 0
        if bad.any():
            raise EngineError("SOLAR", f"negative solar radiation, e.g. {_first_bad(solar, bad)}")

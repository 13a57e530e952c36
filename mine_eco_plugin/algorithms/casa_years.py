"""CASA NPP over several years: a dated NDVI series → monthly composites → CASA per year → mean."""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from qgis.core import (
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
    QgsProcessingUtils,
)

from .. import engine
from ..core import composite
from .base import MineEcoAlgorithm, file_band_count
from .casa import MONTHLY_INPUTS, CasaNpp
from .composite import METHOD_LABELS, layer_dates

#: casa_npp's inputs this algorithm sets itself, year by year; every other input of casa_npp
#: is offered here too and passed on unchanged.
OWN = frozenset({*MONTHLY_INPUTS, "YEAR", "OUTPUT_NODATA_VALUE"})
CLIMATE = ("TEMPERATURE", "PRECIPITATION", "SOLAR")


@dataclass
class YearRun:
    """One CASA year: its label (the year, or 1, 2, … for undated monthly NDVI), the year
    for month lengths (None: unknown), its monthly NDVI (None: composited from the series)
    and its climate layers."""

    label: str
    year: int | None
    ndvi: list[str] | None
    climate: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Plan:
    years: list[YearRun]
    #: The dated series (layer sources and dates), or None for monthly NDVI.
    series: list[str] | None = None
    dates: list | None = None


def _years_text(algorithm, parameters, context) -> list[int]:
    text = algorithm.parameterAsString(parameters, "YEARS", context) or ""
    try:
        years = [int(part) for part in re.split(r"[,;\s]+", text.strip()) if part]
    except ValueError:
        raise QgsProcessingException(f"YEARS: '{text}' is not a list of years") from None
    if len(set(years)) != len(years):
        raise QgsProcessingException(f"YEARS: a year is listed twice ({text})")
    return years


def _groups(name, layers, count, labels) -> list[list[str]]:
    """The layers of a monthly parameter per year: 12 bands used every year (12 layers or one
    12-band raster) or 12 per year in year order (12·count layers or count 12-band rasters)."""
    bands = [file_band_count(layer) for layer in layers]
    sources = [layer.source() for layer in layers]
    if bands and all(b == 1 for b in bands) and len(bands) in (12, 12 * count):
        if len(bands) == 12:
            return [sources] * count
        return [sources[12 * k : 12 * (k + 1)] for k in range(count)]
    if bands and all(b == 12 for b in bands) and len(bands) in (1, count):
        if len(bands) == 1:
            return [sources] * count
        return [[source] for source in sources]
    counts = ", ".join(str(b) for b in bands) or "none"
    return _fail(
        f"{name}: 12 monthly layers (or one 12-band raster) used for every year, or 12 per year "
        f"for the {count} year(s) {', '.join(labels)} in year order ({12 * count} layers or "
        f"{count} 12-band rasters), are needed; got {len(bands)} layer(s) with band counts "
        f"{counts}"
    )


def _fail(message):
    raise QgsProcessingException(message)


def yearly_metadata(paths: list[str], labels: list[str]) -> dict[str, str]:
    """The CASA settings the yearly NPP rasters carry (their metadata, without the producing
    algorithm's own tags): one value where every year has the same, else 'year: value' per
    year."""
    from osgeo import gdal

    tags = []
    for path in paths:
        dataset = gdal.Open(path)
        tags.append(dataset.GetMetadata() or {})
        dataset = None
    merged = {}
    keys = {key for tag in tags for key in tag}
    for key in sorted(k for k in keys if not k.startswith("MINEECO_") and k != "AREA_OR_POINT"):
        values = [tag.get(key, "") for tag in tags]
        if len(set(values)) == 1:
            merged[key] = values[0]
        else:
            merged[key] = "; ".join(
                f"{label}: {value}" for label, value in zip(labels, values, strict=True)
            )
    return merged


class CasaNppYears(MineEcoAlgorithm):
    algorithm_id = "casa_npp_years"
    display_name = "CASA NPP over several years"
    group_key = "productivity"
    summary = (
        "CASA NPP for each year of a dated NDVI series, and its mean over the years. The "
        "NPP-drivers study fuses MODIS and Landsat into a 30 m, 16-day NDVI series for "
        "2010–2015, composites it into monthly NDVI, runs CASA for each year and averages NPP "
        "over the six years: this algorithm is that chain after the fusion. Give the dated "
        "NDVI series (e.g. the LAYERS of 'ESTARFM fusion over a time series', dated in their "
        "names): for each year the layers dated in it are composited into 12 monthly layers "
        "('Monthly composite of a dated series', maximum-value composite by default), then "
        "'CASA net primary productivity (NPP)' runs on them. The per-year NPP rasters "
        "(npp_<year>.tif) and monthly composites (ndvi_monthly_<year>.tif) are written to the "
        "output folder, a table gives each year's mean, and the main output is the per-pixel "
        "mean of the yearly NPP. Monthly NDVI already composited (12 layers or one 12-band "
        "raster per year, without dates in their names) is taken as it is, year after year. "
        "Climate (TEMPERATURE, PRECIPITATION, SOLAR) is either 12 monthly layers used for "
        "every year, or 12 per year in year order; each may be given either way. Every other "
        "CASA setting is 'CASA net primary productivity (NPP)''s, passed on unchanged."
    )
    formula = (
        "year y: NDVI_y,m = composite (max, mean or median) of the layers dated in month m of y;\n"
        "NPP_y = CASA(NDVI_y, T_y, P_y, SOL_y) (annual sum, gC·m⁻²·yr⁻¹);\n"
        "OUTPUT = (1/Y)·Σ_y NPP_y per pixel over the Y years."
    )
    nodata_rule = (
        "As 'Monthly composite of a dated series' and 'CASA net primary productivity (NPP)' for "
        "each year; the mean is NoData where any year is NoData (a mean over fewer years would "
        "mix years). A year of the dated series without a layer in some month is an error "
        "naming the year and the months."
    )
    references = (
        "Holben, B.N. (1986) Characteristics of maximum-value composite images from temporal "
        "AVHRR data. Int. J. Remote Sens. 7(11), 1417–1434.",
        "Potter, C.S., Randerson, J.T., Field, C.B., Matson, P.A., Vitousek, P.M., Mooney, "
        "H.A. & Klooster, S.A. (1993) Terrestrial ecosystem production: a process model based "
        "on global satellite and surface data. Global Biogeochem. Cycles 7(4), 811–841.",
        "The NPP-drivers study: §2.2.1 (16-day 30 m NDVI 2010–2015, monthly NDVI, CASA, NPP "
        "averaged over the six years).",
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.add_rasters(
            "NDVI",
            "NDVI: a dated series, or monthly layers",
            "A dated series: one single-band layer per date (e.g. fused_2013-05-17.tif from "
            "'ESTARFM fusion over a time series'), dates read from the layer names (2013-05-17, "
            "20130517 or A2013137) or typed in DATES; composited per month and year. Or monthly "
            "NDVI: 12 layers (January to December) or one 12-band raster per year, in year "
            "order, without dates in their names. The first layer's grid is the output grid.",
        )
        self.add(
            QgsProcessingParameterString(
                "DATES",
                self.tr("Dates of the NDVI layers (YYYY-MM-DD, comma-separated)"),
                "",
                optional=True,
            ),
            "One date per NDVI layer, in order; makes NDVI a dated series. Blank: read from "
            "the layer names.",
        )
        self.add(
            QgsProcessingParameterString(
                "YEARS", self.tr("Years (comma-separated; blank: every year)"), "", optional=True
            ),
            "A dated series: only these years are run (blank: every year with a dated layer; "
            "each needs a layer in all twelve months). Monthly NDVI: the year of each group of "
            "12 months, in order (blank: numbered 1, 2, … with a 28-day February).",
        )
        self.add_enum(
            "METHOD",
            "Monthly composite",
            METHOD_LABELS,
            0,
            "How the layers of a month are composited (dated series only): maximum value, the "
            "usual choice for CASA input, or the mean or median.",
        )
        monthly = (
            "12 monthly layers (or one 12-band raster) used for every year, or 12 per year (or "
            "one 12-band raster per year) in year order"
        )
        self.add_rasters("TEMPERATURE", "Monthly mean air temperature (°C)", f"°C; {monthly}.")
        self.add_rasters("PRECIPITATION", "Monthly precipitation (mm)", f"mm; {monthly}.")
        self.add_rasters("SOLAR", "Monthly solar radiation", f"Unit in SOLAR_UNIT; {monthly}.")
        casa = CasaNpp()
        casa.initAlgorithm()
        for definition in casa.parameterDefinitions():
            if definition.isDestination() or definition.name() in OWN:
                continue
            self.add(definition.clone(), definition.help())
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT",
            "Mean annual NPP over the years (gC·m⁻²·yr⁻¹)",
            "Per-pixel mean of the yearly NPP rasters.",
        )
        self.add(
            QgsProcessingParameterFolderDestination(
                "OUTPUT_FOLDER",
                self.tr("Folder of the yearly NPP and monthly NDVI"),
                optional=True,
                createByDefault=True,
            ),
            "npp_<year>.tif (annual NPP of each year) and, for a dated series, "
            "ndvi_monthly_<year>.tif (the 12 monthly composites CASA used).",
        )
        self.add_output_table(
            "OUTPUT_TABLE",
            "NPP per year",
            "year, ndvi_layers (layers composited, or 12 monthly bands), mean_npp and "
            "valid_pixels of each year's NPP, and a last row 'mean' for the OUTPUT raster.",
            side=True,
        )
        self.addOutput(QgsProcessingOutputMultipleLayers("LAYERS", self.tr("NPP per year")))
        self.addOutput(QgsProcessingOutputString("MEANS", self.tr("Mean NPP per year")))
        self.addOutput(QgsProcessingOutputNumber("MEAN_NPP", self.tr("Mean of the mean NPP")))

    # --- the plan ---------------------------------------------------------------------------
    def plan(self, parameters, context) -> Plan:
        """Which years run, on which NDVI and climate layers. Errors name the parameter."""
        layers = self.parameterAsLayerList(parameters, "NDVI", context)
        if not layers:
            raise QgsProcessingException("NDVI: at least one layer is needed")
        chosen = _years_text(self, parameters, context)
        typed = (self.parameterAsString(parameters, "DATES", context) or "").strip()
        bands = [file_band_count(layer) for layer in layers]
        named = [
            composite.parse_date(layer.name())
            or composite.parse_date(os.path.basename(layer.source()))
            for layer in layers
        ]
        dated = bool(typed) or (all(b == 1 for b in bands) and all(named))
        if not dated and all(b == 1 for b in bands) and any(named):
            index = named.index(None)
            raise QgsProcessingException(
                f"NDVI (layer {index + 1}, '{layers[index].name()}'): no date in its name while "
                "other layers have one; name every layer of the series with its date (e.g. "
                "ndvi_2013-05-17) or type the dates in DATES"
            )
        if dated:
            _, dates = layer_dates(self, parameters, context, "NDVI", "DATES")
            present = sorted({d.year for d in dates})
            missing_years = [y for y in chosen if y not in present]
            if missing_years:
                raise QgsProcessingException(
                    f"YEARS: no NDVI layer dated in {', '.join(map(str, missing_years))} "
                    f"(years present: {', '.join(map(str, present))})"
                )
            years = sorted(chosen) or present
            gaps = []
            for year in years:
                counts = Counter(d.month for d in dates if d.year == year)
                empty = [composite.MONTH_NAMES[m - 1] for m in range(1, 13) if not counts[m]]
                if empty:
                    gaps.append(f"{year} ({', '.join(empty)})")
            if gaps:
                raise QgsProcessingException(
                    f"NDVI: no layer dated in these months: {'; '.join(gaps)}. CASA needs all "
                    "twelve months of every year: add the missing dates or leave the year out "
                    "with YEARS"
                )
            runs = [YearRun(str(y), y, None) for y in years]
            plan = Plan(runs, [layer.source() for layer in layers], dates)
        else:
            sources = [layer.source() for layer in layers]
            if all(b == 1 for b in bands) and len(bands) % 12 == 0:
                groups = [sources[k : k + 12] for k in range(0, len(sources), 12)]
            elif all(b == 12 for b in bands):
                groups = [[source] for source in sources]
            else:
                raise QgsProcessingException(
                    f"NDVI: {len(bands)} layer(s) with band counts "
                    f"{', '.join(map(str, bands))} and no dates in their names: give a dated "
                    "series (dates in the layer names, e.g. ndvi_2013-05-17, or typed in "
                    "DATES) or monthly NDVI, 12 layers or one 12-band raster per year"
                )
            if chosen and len(chosen) != len(groups):
                raise QgsProcessingException(
                    f"YEARS: {len(chosen)} year(s) for {len(groups)} year(s) of monthly NDVI "
                    "(12 layers or one 12-band raster each)"
                )
            runs = [
                YearRun(str(chosen[k]) if chosen else str(k + 1), chosen[k] if chosen else None, g)
                for k, g in enumerate(groups)
            ]
            plan = Plan(runs)
        labels = [run.label for run in plan.years]
        for name in CLIMATE:
            given = self.parameterAsLayerList(parameters, name, context)
            for run, group in zip(
                plan.years, _groups(name, given, len(labels), labels), strict=True
            ):
                run.climate[name] = group
        return plan

    def folder_files(self, name, folder, parameters, context) -> list[str]:
        plan = self.plan(parameters, context)
        files = [os.path.join(folder, f"npp_{run.label}.tif") for run in plan.years]
        if plan.series is not None:
            files += [os.path.join(folder, f"ndvi_monthly_{run.label}.tif") for run in plan.years]
        return files

    def _passed_on(self, parameters, context) -> dict:
        """casa_npp's other inputs, as this run resolves them."""
        values = {}
        for definition in self.parameterDefinitions():
            name = definition.name()
            if name not in self._casa_names():
                continue
            kind = definition.type()
            if kind == "raster":
                layer = self.parameterAsRasterLayer(parameters, name, context)
                values[name] = layer.source() if layer is not None else None
            elif kind == "file":
                values[name] = self.parameterAsFile(parameters, name, context) or None
            elif kind == "matrix":
                values[name] = self.parameterAsMatrix(parameters, name, context) or None
            elif kind == "enum":
                values[name] = self.parameterAsEnum(parameters, name, context)
            elif kind == "boolean":
                values[name] = self.parameterAsBool(parameters, name, context)
            elif kind == "number":
                given = parameters.get(name, definition.defaultValue())
                values[name] = (
                    None
                    if given in (None, "")
                    else self.parameterAsDouble(parameters, name, context)
                )
            else:
                values[name] = parameters.get(name, definition.defaultValue())
        return values

    @staticmethod
    def _casa_names() -> set[str]:
        casa = CasaNpp()
        casa.initAlgorithm()
        return {
            d.name()
            for d in casa.parameterDefinitions()
            if not d.isDestination() and d.name() not in OWN
        }

    # --- the run ----------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        import processing

        plan = self.plan(parameters, context)
        folder = self.destination(parameters, "OUTPUT_FOLDER", context)
        if not folder:  # not asked for: the yearly rasters still need a place
            folder = tempfile.mkdtemp(prefix="casa_npp_years_", dir=QgsProcessingUtils.tempFolder())
        os.makedirs(folder, exist_ok=True)
        method = self.parameterAsEnum(parameters, "METHOD", context)
        nodata = self.parameterAsDouble(parameters, "OUTPUT_NODATA_VALUE", context)
        shared = self._passed_on(parameters, context)
        count = len(plan.years)
        feedback.pushInfo(
            f"{count} year(s): {', '.join(run.label for run in plan.years)}; NDVI "
            + (
                f"a dated series of {len(plan.series)} layers, "
                f"{composite.METHODS[method]} composite per month"
                if plan.series is not None
                else "monthly layers"
            )
        )
        steps = QgsProcessingMultiStepFeedback(2 * count + 1, feedback)
        written, rows = [], []
        for index, run in enumerate(plan.years):
            if feedback.isCanceled():
                raise QgsProcessingException("Cancelled: the years computed so far are kept.")
            # What both child runs of the year take.
            of_year = {"YEAR": run.year, "OUTPUT_NODATA_VALUE": nodata}
            ndvi = run.ndvi
            layers = 12
            if ndvi is None:
                steps.setCurrentStep(2 * index)
                monthly = os.path.join(folder, f"ndvi_monthly_{run.label}.tif")
                processing.run(
                    "mineeco:temporal_composite",
                    {
                        "INPUT": plan.series,
                        "DATES": ",".join(d.isoformat() for d in plan.dates),
                        "METHOD": method,
                        **of_year,
                        "OUTPUT": monthly,
                    },
                    context=context,
                    feedback=steps,
                    is_child_algorithm=True,
                )
                ndvi = [monthly]
                layers = sum(1 for d in plan.dates if d.year == run.year)
            steps.setCurrentStep(2 * index + 1)
            path = os.path.join(folder, f"npp_{run.label}.tif")
            feedback.pushInfo(f"{run.label}: CASA → {path}")
            processing.run(
                "mineeco:casa_npp",
                {
                    **shared,
                    "NDVI": ndvi,
                    **run.climate,
                    **of_year,
                    "OUTPUT": path,
                },
                context=context,
                feedback=steps,
                is_child_algorithm=True,
            )
            written.append(path)
            summary = self.band_summary(engine.RasterSource(path, parameter=f"npp_{run.label}"))
            rows.append((run.label, layers, float(summary.mean), int(summary.count)))
        steps.setCurrentStep(2 * count)
        sources = [
            engine.RasterSource(path, parameter=f"OUTPUT_FOLDER (npp_{run.label}.tif)", bands=(1,))
            for path, run in zip(written, plan.years, strict=True)
        ]
        metadata = {
            **yearly_metadata(written, [run.label for run in plan.years]),
            "UNITS": "gC m-2 yr-1 (mean of the annual NPP over the years)",
            "YEARS": ",".join(run.label for run in plan.years),
            "NDVI": f"dated series, {composite.METHODS[method]} composite per month"
            if plan.series is not None
            else "monthly layers",
        }
        target = self.raster_target(parameters, "OUTPUT", context, metadata=metadata)

        def mean(*blocks):
            return np.mean(np.concatenate(blocks).astype(np.float64), axis=0, keepdims=True)

        self.run_blocks(
            mean,
            sources,
            [target],
            grid=engine.resolve_grid(sources[:1]),
            monitor=self.monitor(steps),
        )
        results = self.outputs({"OUTPUT": target})
        overall = self.band_summary(engine.RasterSource(results["OUTPUT"], parameter="OUTPUT"))
        rows.append(("mean", 0, float(overall.mean), int(overall.count)))
        table = self.write_table(
            parameters,
            "OUTPUT_TABLE",
            context,
            [("year", str), ("ndvi_layers", int), ("mean_npp", float), ("valid_pixels", int)],
            rows,
        )
        means = "; ".join(f"{label}: {value:.4g}" for label, _, value, _ in rows)
        feedback.pushInfo(f"Mean NPP (gC·m⁻²·yr⁻¹): {means}")
        results.update(
            {
                "OUTPUT_FOLDER": folder,
                "LAYERS": written,
                "MEANS": means,
                "MEAN_NPP": float(overall.mean),
            }
        )
        if table is not None:
            results["OUTPUT_TABLE"] = table
        return results

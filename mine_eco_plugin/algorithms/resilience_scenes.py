"""The resilience study's evolution from its raw material: one Landsat scene per year → the
resilience model's indicators for every year → the index of all years on one scale."""

from __future__ import annotations

import os

from qgis.core import (
    QgsApplication,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
)

from ..core import evaluation_weights as weighting
from ..core.landsat import MtlError, parse_mtl_file, scene_from_mtl
from ..core.spectral import TASSELED_CAP_SETS
from ..core.thermal import THERMAL_SENSORS
from .base import file_band_count
from .evaluation_support import EvaluationAlgorithm
from .landcover_tables import CLASSIFICATION_OPTIONS
from .resilience_years import YearsScale, check_layer_year

#: The resilience model's indicator outputs (step:output) → resilience_years' slot(s).
INDICATORS = (
    ("ddi:C1_DDI", ("DDI",)),
    ("rusle:C2_EROSION", ("EROSION",)),
    ("fvc:C3_FVC", ("FVC",)),
    ("vhi:C4_VHI", ("VHI",)),
    ("hai:C6_HAI", ("HAI",)),
    ("tasseled_cap:C7_TASSELED_CAP", ("WETNESS", "TCI")),
    ("ndbsi:C8_DRYNESS", ("DRYNESS",)),
    ("lst:C9_LST", ("LST",)),
    ("albedo:C10_ALBEDO", ("ALBEDO",)),
    ("bai:C12_BAI", ("BAI",)),
    ("eco:C13_ECO", ("ECO",)),
    ("landscape:C14_SHDI", ("SHDI",)),
    ("landscape:C15_FN", ("FN",)),
)
#: Inputs the model takes as they are, in every year.
SHARED_RASTERS = (
    ("DEM", "DEM (projected CRS)"),
    ("SAND", "Sand (%)"),
    ("SILT", "Silt (%)"),
    ("CLAY", "Clay (%)"),
    ("ORGANIC_CARBON", "Organic carbon (%)"),
)
#: Per-year rasters: one for every year, or one per scene (C5, C16 and C17 may be left out).
YEARLY_RASTERS = (
    ("LANDCOVER", "Land cover", False),
    ("POPULATION", "C5 population density", True),
    ("PM25", "C16 PM2.5", True),
    ("CO2", "C17 CO2 emissions", True),
)
#: Tasseled-cap coefficients of each spacecraft (C7 wetness and C11 brightness).
COEFFICIENTS = {
    "LANDSAT_4": "tm_crist_1985",
    "LANDSAT_5": "tm_crist_1985",
    "LANDSAT_7": "etm_huang_2002",
    "LANDSAT_8": "oli_baig_2014",
    "LANDSAT_9": "oli_baig_2014",
}


class ResilienceScenes(YearsScale, EvaluationAlgorithm):
    algorithm_id = "resilience_scenes"
    display_name = "Resilience over several years from Landsat scenes"
    group_key = "workflows"
    summary = (
        "The resilience study's whole evolution (2000, 2005, 2010, 2016 and 2020 in the paper) "
        "in one run, from one Landsat Level-1 scene per year: for every scene the 'Ecological "
        "resilience evaluation' model makes the year's indicators (reflectance, FVC, VHI, LST, "
        "tasseled cap, albedo, dryness, DDI, RUSLE erosion, HAI, BAI, ECO, SHDI, FN), then "
        "'Resilience over several years (one scale)' normalises them on joint ranges, so the "
        "years share one scale, and gives each year's index and classes, the yearly means and "
        "class shares (Figures 2–3), the class transitions and the trend. Landsat 4/5 TM, 7 "
        "ETM+ and 8/9 OLI scenes mix: each scene's year comes from its acquisition date, its "
        "thermal constants and tasseled-cap coefficients from its spacecraft (TM: Crist 1985; "
        "ETM+: Huang et al. 2002; OLI: Baig et al. 2014). The DEM and soil layers serve every "
        "year; land cover and the optional population, PM2.5 and CO2 layers are one for all "
        "years or one per year."
    )
    formula = (
        "For each scene s (year yₛ): indicators Cⱼ(yₛ) = the resilience model's steps.\n"
        "Then, over the years: T = (x − minⱼ)/(maxⱼ − minⱼ) on each indicator's joint range "
        "(Eq. 18–19), P_y = Σⱼ Wⱼ·Tⱼ (Eq. 20), classes by Table 3, Sen's slope of P."
    )
    nodata_rule = (
        "As the resilience model for each year's indicators, and as 'Resilience over several "
        "years (one scale)' for the index."
    )
    references = (
        "The resilience study: §2–3 (indicators), Table 2, Eq. 18–20, Table 3, Figures 2–3.",
        "Crist, E.P. (1985) A TM tasseled cap equivalent transformation for reflectance factor "
        "data. Remote Sens. Environ. 17, 301–306.",
        "Huang, C., Wylie, B., Yang, L., Homer, C. & Zylstra, G. (2002) Derivation of a "
        "tasselled cap transformation based on Landsat 7 at-satellite reflectance. Int. J. "
        "Remote Sens. 23(8), 1741–1748.",
        "Baig, M.H.A., Zhang, L., Shuai, T. & Tong, Q. (2014) Derivation of a tasselled cap "
        "transformation based on Landsat 8 at-satellite reflectance. Remote Sens. Lett. 5(5), "
        "423–431.",
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.add(
            QgsProcessingParameterMultipleLayers(
                "SCENES",
                self.tr("Landsat MTL files, one scene per year"),
                QgsProcessing.SourceType.TypeFile,
                optional=True,
            ),
            "Level-1 scenes of Landsat 4/5 TM, 7 ETM+ or 8/9 OLI-TIRS with their thermal band, "
            "on one grid, each of another year (read from its acquisition date). Or give a "
            "folder of scenes below.",
        )
        self.add(
            QgsProcessingParameterFile(
                "SCENE_FOLDER",
                self.tr("…or a folder of scenes (every *_MTL.txt in it and its subfolders)"),
                QgsProcessingParameterFile.Behavior.Folder,
                optional=True,
            ),
            "Used when no MTL files are listed above: each scene's MTL file and bands as "
            "downloaded, one scene per year.",
        )
        for name, label in SHARED_RASTERS:
            self.add_raster(name, label, "The same for every year (the resilience model's).")
        for name, label, optional in YEARLY_RASTERS:
            self.add_rasters(
                name,
                label,
                "One layer for every year, or one per year in the order of the years (a layer "
                "whose name holds another year is refused)" + ("; optional." if optional else "."),
                optional=optional,
            )
        self.add_rasters(
            "PRECIPITATION",
            "Monthly rainfall (mm)",
            "12 monthly layers or one 12-band raster for every year, or one 12-band raster per "
            "year in the order of the years (RUSLE R).",
        )
        self.add_enum(
            "LANDCOVER_CLASSIFICATION",
            "Land-cover classification",
            list(CLASSIFICATION_OPTIONS),
            0,
            "The codes of the land-cover layers, for the shipped HAI, BAI, ECO and P tables: "
            "CNLUCC (codes 11–67) or CLCD (classes 1–9, the resilience study's land cover).",
        )
        for name, label in (
            ("HAI_TABLE", "HAI class table"),
            ("BAI_TABLE", "BAI class table"),
            ("ECO_TABLE", "ECO class table"),
            ("P_TABLE", "RUSLE P table"),
        ):
            self.add(
                QgsProcessingParameterFile(name, self.tr(label), extension="csv", optional=True),
                "As in the resilience model; blank: the shipped default.",
                advanced=True,
            )
        self.add_number(
            "WINDOW",
            "Landscape window (pixels, odd)",
            33,
            "Moving window of SHDI, FN, HAI, BAI and ECO (33 px ≈ 1 km at 30 m).",
            minimum=3,
            integer=True,
            advanced=True,
        )
        for name, label, default in (
            ("TAU", "Atmospheric transmissivity τ", "1"),
            ("L_UP", "Upwelling radiance L↑", "0"),
            ("L_DOWN", "Downwelling radiance L↓", "0"),
        ):
            self.add(
                QgsProcessingParameterString(
                    name, self.tr(f"{label} (one, or one per scene)"), default
                ),
                "For LST (C9): one value for every scene or one per scene, comma-separated "
                "(NASA's atmospheric correction parameter calculator); default: no correction.",
                advanced=True,
            )
        self.add_scale()
        self.add_year_outputs()
        self.add(
            QgsProcessingParameterFolderDestination(
                "INDICATOR_FOLDER",
                self.tr("Folder of the yearly indicators"),
                optional=True,
                createByDefault=True,
            ),
            "<indicator>_<year>.tif for every year (e.g. C3_FVC_2013.tif; C7_TASSELED_CAP holds "
            "brightness, greenness and wetness).",
        )
        self.addOutput(QgsProcessingOutputString("YEARS", self.tr("Years of the scenes")))

    # --- inputs -------------------------------------------------------------------------
    def listed_scenes(self, parameters, context) -> list[str]:
        return [str(p) for p in self.parameterAsFileList(parameters, "SCENES", context) if p]

    def scene_files(self, parameters, context) -> list[str]:
        paths = self.listed_scenes(parameters, context)
        folder = self.parameterAsFile(parameters, "SCENE_FOLDER", context)
        if paths or not folder:
            return paths
        if not os.path.isdir(folder):
            raise QgsProcessingException(f"SCENE_FOLDER: '{folder}' is not a folder")
        return sorted(
            os.path.join(root, name)
            for root, _, names in os.walk(folder)
            for name in names
            if name.upper().endswith("_MTL.TXT")
        )

    def scenes(self, parameters, context) -> list[tuple[int, str, object]]:
        """(year, MTL path, scene) per scene, by year; years distinct."""
        paths = self.scene_files(parameters, context)
        name = (
            "SCENE_FOLDER"
            if not self.listed_scenes(parameters, context)
            and self.parameterAsFile(parameters, "SCENE_FOLDER", context)
            else "SCENES"
        )
        if len(paths) < 2:
            raise QgsProcessingException(
                f"{name}: at least two scenes (years) are needed; {len(paths)} found"
            )
        found = []
        for path in paths:
            label = os.path.basename(path)
            try:
                scene = scene_from_mtl(parse_mtl_file(path), os.path.dirname(path))
            except (MtlError, OSError, ValueError) as error:
                raise QgsProcessingException(f"{name}: {label}: {error}") from None
            if not scene.acquisition_date:
                raise QgsProcessingException(f"{name}: {label} has no DATE_ACQUIRED")
            if scene.thermal is None or scene.thermal_sensor_key is None:
                raise QgsProcessingException(
                    f"{name}: {label} ({scene.spacecraft} {scene.sensor}, {scene.level}) has no "
                    "Level-1 thermal band: C9 LST needs one"
                )
            found.append((int(str(scene.acquisition_date)[:4]), path, scene))
        years = [year for year, _, _ in found]
        twice = sorted({y for y in years if years.count(y) > 1})
        if twice:
            raise QgsProcessingException(
                f"{name}: one scene per year; {', '.join(map(str, twice))} has more than one"
            )
        return sorted(found, key=lambda item: item[0])

    def per_scene(self, parameters, name, context, years) -> list[list[str]]:
        """The layers of ``name`` for each year (shared, or one per year in year order)."""
        count = len(years)
        layers = self.parameterAsLayerList(parameters, name, context)
        sources = [layer.source() for layer in layers]
        if name == "PRECIPITATION":
            bands = [file_band_count(layer) for layer in layers]
            if count != 1 and len(layers) == count and all(b == 12 for b in bands):
                per_year = [[source] for source in sources]
            elif len(layers) == 12 and all(b == 1 for b in bands) or bands == [12]:
                return [sources] * count
            else:
                raise QgsProcessingException(
                    f"PRECIPITATION: {len(layers)} layer(s) with {bands} band(s); give 12 "
                    "monthly layers or one 12-band raster for every year, or one 12-band "
                    "raster per year"
                )
        elif not layers:
            return [[] for _ in range(count)]
        elif len(layers) == 1:
            return [sources] * count
        elif len(layers) != count:
            raise QgsProcessingException(
                f"{name}: {len(layers)} layers for {count} years; give one for every year or "
                f"one per year in the order of the years ({', '.join(map(str, years))})"
            )
        else:
            per_year = [[source] for source in sources]
        order = f"one layer per year in the order of the years: {', '.join(map(str, years))}"
        for year, layer in zip(years, layers, strict=True):
            check_layer_year(name, layer, year, order)
        return per_year

    def per_scene_numbers(self, parameters, name, context, count) -> list[float]:
        try:
            values = weighting.parse_numbers(self.parameterAsString(parameters, name, context))
        except ValueError as error:
            raise QgsProcessingException(f"{name}: {error}") from None
        if len(values) == 1:
            return values * count
        if len(values) != count:
            raise QgsProcessingException(
                f"{name}: {len(values)} values for {count} years; one value, or one per year in "
                "the order of the years"
            )
        return values

    def folder_files(self, name, folder, parameters, context) -> list[str]:
        years = [year for year, _, _ in self.scenes(parameters, context)]
        if name == "INDICATOR_FOLDER":
            return [
                os.path.join(folder, f"{key.split(':')[1]}_{year}.tif")
                for year in years
                for key, _ in INDICATORS
            ]
        return [
            os.path.join(folder, f"{kind}_{year}.tif")
            for year in years
            for kind in ("index", "classes")
        ]

    # --- run ----------------------------------------------------------------------------
    def process(self, parameters, context, feedback):
        import processing

        scenes = self.scenes(parameters, context)  # by year
        count = len(scenes)
        years = [year for year, _, _ in scenes]
        yearly = {
            name: self.per_scene(parameters, name, context, years)
            for name in [name for name, _, _ in YEARLY_RASTERS] + ["PRECIPITATION"]
        }
        thermal = {
            name: self.per_scene_numbers(parameters, name, context, count)
            for name in ("TAU", "L_UP", "L_DOWN")
        }
        indicator_folder = self.destination(parameters, "INDICATOR_FOLDER", context)
        requested = bool(indicator_folder)
        if not requested:
            from qgis.core import QgsProcessingUtils

            indicator_folder = QgsProcessingUtils.generateTempFilename("indicators")
        os.makedirs(indicator_folder, exist_ok=True)
        shared = {
            name: self.parameterAsRasterLayer(parameters, name, context).source()
            for name, _ in SHARED_RASTERS
        }
        common = {
            **shared,
            "LANDCOVER_CLASSIFICATION": self.parameterAsEnum(
                parameters, "LANDCOVER_CLASSIFICATION", context
            ),
            "WINDOW": self.parameterAsInt(parameters, "WINDOW", context),
            "DDI_TREND": self.parameterAsEnum(parameters, "DDI_TREND", context),
        }
        for name in ("HAI_TABLE", "BAI_TABLE", "ECO_TABLE", "P_TABLE"):
            path = self.parameterAsFile(parameters, name, context)
            if path:
                common[name] = path
        model = QgsApplication.processingRegistry().createAlgorithmById(
            "mineeco:resilience_evaluation"
        )
        model_outputs = [d.name() for d in model.destinationParameterDefinitions()]
        del model
        steps = QgsProcessingMultiStepFeedback(count + 1, feedback)
        slots: dict[str, list[str]] = {}
        for i, (year, mtl, scene) in enumerate(scenes):
            steps.setCurrentStep(i)
            feedback.pushInfo(
                f"{year}: {os.path.basename(mtl)} ({scene.spacecraft} {scene.sensor}, "
                f"{scene.acquisition_date}): tasseled cap {COEFFICIENTS[scene.spacecraft]}, "
                f"thermal {scene.thermal_sensor_key}"
            )
            outputs = {
                key: os.path.join(indicator_folder, f"{key.split(':')[1]}_{year}.tif")
                for key, _ in INDICATORS
            }
            run = {
                **common,
                "MTL": mtl,
                "LANDCOVER": yearly["LANDCOVER"][i][0],
                "PRECIPITATION": yearly["PRECIPITATION"][i],
                "COEFFICIENTS": list(TASSELED_CAP_SETS).index(COEFFICIENTS[scene.spacecraft]),
                "SENSOR": list(THERMAL_SENSORS).index(scene.thermal_sensor_key),
                **{name: values[i] for name, values in thermal.items()},
                **outputs,
            }
            for name in ("POPULATION", "PM25", "CO2"):
                if yearly[name][i]:
                    run[name] = yearly[name][i][0]
            # The model's other results (index, classes, report of the year alone) are not
            # this algorithm's: temporary files.
            for name in model_outputs:
                run.setdefault(name, QgsProcessing.TEMPORARY_OUTPUT)
            if feedback.isCanceled():
                raise QgsProcessingException("Cancelled.")
            # A context of its own per scene: QGIS 3.38+ keeps a model's step results in the
            # context, and a second run of the same model there would reuse the first year's.
            scene_context = QgsProcessingContext()
            scene_context.copyThreadSafeSettings(context)
            if context.project() is not None:
                scene_context.setProject(context.project())
            try:
                processing.run(
                    "mineeco:resilience_evaluation",
                    run,
                    context=scene_context,
                    feedback=steps,
                    is_child_algorithm=True,
                )
            except QgsProcessingException as error:
                # Which scene failed; the step's own message is in the log just above.
                raise QgsProcessingException(
                    f"{year} ({os.path.basename(mtl)}): {error} (the log names the cause)"
                ) from None
            for key, names in INDICATORS:
                for slot in names:
                    slots.setdefault(slot, []).append(outputs[key])
            for name in ("POPULATION", "PM25", "CO2"):
                if yearly[name][i]:
                    slots.setdefault(name, []).append(yearly[name][i][0])
        steps.setCurrentStep(count)
        child = {
            "YEARS": ",".join(map(str, years)),
            **slots,
            **{
                name: self.parameterAsEnum(parameters, name, context)
                for name in ("WEIGHT_SOURCE", "DDI_TREND", "RANGES")
            },
            **{
                name: self.parameterAsString(parameters, name, context) or ""
                for name in ("MINIMA", "MAXIMA", "BREAKS")
            },
            "OUTPUT_NODATA_VALUE": self.parameterAsDouble(
                parameters, "OUTPUT_NODATA_VALUE", context
            ),
            "OUTPUT_FOLDER": self.destination(parameters, "OUTPUT_FOLDER", context),
        }
        hierarchy = self.parameterAsFile(parameters, "HIERARCHY", context)
        if hierarchy:
            child["HIERARCHY"] = hierarchy
        trend = self.destination(parameters, "OUTPUT_TREND", context)
        if trend:
            # The file this run resolved (and the dialog will load), not a second temporary one.
            child["OUTPUT_TREND"] = trend
        for name in ("OUTPUT_YEARS", "OUTPUT_TRANSITIONS", "OUTPUT_WEIGHTS"):
            if parameters.get(name) not in (None, ""):
                child[name] = parameters[name]
        results = processing.run(
            "mineeco:resilience_years",
            child,
            context=context,
            feedback=steps,
            is_child_algorithm=True,
        )
        results = dict(results, YEARS=child["YEARS"])
        if requested:
            results["INDICATOR_FOLDER"] = indicator_folder
        return results

"""The two workflow models as the provider registers them.

The graphical models (``models/*.model3``, written by scripts/build_models.py) are loaded into
``WorkflowModel``, a QgsProcessingModelAlgorithm that adds what a .model3 cannot say in QGIS
3.22:

* a display name apart from the id (a model's name is both in 3.22: "resilience_evaluation"
  would be its title in the Toolbox) and the group id of the other "Workflows" entries;
* which outputs users meet in the dialog (``RESULTS``, with the layer names they are loaded
  under) and which are intermediate: the indicator rasters stay outputs of the model for
  command lines that name them, but they are hidden in dialogs and written to temporary files
  when not asked for, so nobody has to name or skip them;
* checks of the optional steps' inputs before any step runs (QGIS would only find them wrong
  at the step that uses them, after every other step has run).

The provider registers each model without its steps (``steps=False``): its name, inputs and help
are what the Toolbox and ``qgis_process list``/``help`` show, while resolving a step looks its
algorithm up by scanning every provider's algorithms (QGIS 3.22), which doubled the models' share
of every QGIS start (benchmarks/README.md, bench_load.py). Every dialog and run creates its own
instance (``createInstance``), which loads the whole model, steps included.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingModelAlgorithm,
    QgsProcessingParameterDefinition,
    QgsXmlUtils,
)
from qgis.PyQt.QtXml import QDomDocument

from . import compat
from .engine import without_side_files
from .provider_info import GROUPS

#: Toolbox title of each model.
DISPLAY_NAMES = {
    "resilience_evaluation": "Ecological resilience evaluation",
    "npp_drivers": "NPP drivers",
}

#: The outputs shown in each model's dialog, in the order of the dialog ('<step>:<NAME>' →
#: the name of the layer loaded). Every other output of the model is intermediate.
RESULTS = {
    "resilience_evaluation": {
        "resilience:INDEX": "Resilience index",
        "classes:CLASSES": "Resilience classes",
        "classes:CLASS_TABLE": "Resilience class areas",
        "resilience:WEIGHTS_TABLE": "Indicator weights",
        "report:REPORT": "HTML report",
        "sensitivity:STABILITY": "Class stability over the weight draws",
        "sensitivity:INDEX_MEAN": "Index, mean over the weight draws",
        "sensitivity:INDEX_LOW": "Index, 5 % percentile of the weight draws",
        "sensitivity:INDEX_HIGH": "Index, 95 % percentile of the weight draws",
        "sensitivity:INFLUENCE_TABLE": "Indicator influence",
        "trend:TREND_SLOPE": "Trend of the index (Sen's slope per year)",
        "trend:TREND_CLASSES": "Trend classes of the index",
        "planner:PLANNER_TABLE": "Restoration site ranking",
        "planner:PLANNER_CHART": "Restoration sites: gain against cost",
    },
    "npp_drivers": {
        "casa:NPP": "Annual NPP",
        "casa:NPP_YEARS_TABLE": "NPP per year",
        "degradation:LD": "Land degradation LD",
        "pearson:PEARSON": "Pearson correlations with NPP",
        "lcc:LCC_SHARES": "Correlation area shares per driver",
        "rf:IMPORTANCE": "Driver importance",
        "rf:RELATIVE": "Relative contributions",
        "rf:RGB": "Contribution RGB",
        "rf:DOMINANT": "Dominant drivers",
        "rf:DOMINANT_AREAS": "Dominant-driver areas",
        "report:REPORT": "HTML report",
    },
}


def _count(text: str) -> int:
    return len([part for part in str(text or "").replace(";", ",").split(",") if part.strip()])


def check_resilience_evaluation(model, parameters, context) -> str:
    """The optional inputs, when used: your AHP hierarchy only with the study's weighting;
    the planner's sites and target field; the trend's earlier indices (at least two) and one
    distinct year per index (the earlier ones and this run's)."""
    if model.parameterAsFile(parameters, "AHP_HIERARCHY", context) and (
        model.parameterAsEnum(parameters, "WEIGHT_SOURCE", context) != 1
    ):
        return (
            "AHP_HIERARCHY: your hierarchy gives the subjective weights of the study's "
            "weighting; choose Weights 'Table 2 AHP weights + mean-square-error weights' "
            "(WEIGHT_SOURCE=1) or leave AHP_HIERARCHY blank"
        )
    if model.parameterAsBool(parameters, "RUN_PLANNER", context):
        sites = model.parameterAsSource(parameters, "SITES", context)
        if sites is None:
            return "SITES: the planner step (RUN_PLANNER) needs the candidate site polygons"
        target = model.parameterAsString(parameters, "TARGET_FIELD", context)
        if not target:
            return (
                "TARGET_FIELD: the planner step (RUN_PLANNER) needs the field of SITES holding "
                "each site's target land-cover code"
            )
        names = sites.fields().names()
        for name in ("TARGET_FIELD", "SITE_FIELD", "COST_FIELD"):
            field = model.parameterAsString(parameters, name, context)
            if field and field not in names:
                return f"{name}: '{field}' is not a field of SITES ({', '.join(names)})"
    if not model.parameterAsBool(parameters, "RUN_TREND", context):
        return ""
    earlier = model.parameterAsLayerList(parameters, "EARLIER_INDICES", context)
    if len(earlier) < 2:
        return (
            f"EARLIER_INDICES: the trend step (RUN_TREND) needs the index rasters of at least "
            f"two earlier years; {len(earlier)} given"
        )
    text = model.parameterAsString(parameters, "YEARS", context)
    try:
        years = [float(p) for p in text.replace(";", ",").split(",") if p.strip()]
    except ValueError:
        return f"YEARS: '{text}' is not a comma-separated list of years"
    if len(years) != len(earlier) + 1:
        return (
            f"YEARS: {len(years)} year(s) given; the trend step needs {len(earlier) + 1}, one "
            f"per EARLIER_INDICES layer ({len(earlier)}) and this run's year, in that order"
        )
    if len(set(years)) != len(years):
        return f"YEARS: every year must differ ({text})"
    return ""


def check_npp_drivers(model, parameters, context) -> str:
    """NDVI, or the fusion step's inputs when it is on; one trend and one weight per
    degradation indicator; one category per driver (the climate layers, one per soil field,
    LD)."""
    ndvi = len(model.parameterAsLayerList(parameters, "NDVI", context))
    if model.parameterAsBool(parameters, "RUN_FUSION", context):
        fine = len(model.parameterAsLayerList(parameters, "FUSION_FINE", context))
        coarse = len(model.parameterAsLayerList(parameters, "FUSION_COARSE", context))
        series = len(model.parameterAsLayerList(parameters, "FUSION_SERIES", context))
        if fine < 2:
            return (
                f"FUSION_FINE: the fusion step (RUN_FUSION) needs at least two fine images of "
                f"base pairs; {fine} given"
            )
        if coarse != fine:
            return f"FUSION_COARSE: {coarse} layer(s) for {fine} FUSION_FINE images; one per pair"
        if not series:
            return "FUSION_SERIES: the fusion step (RUN_FUSION) needs the coarse series to predict"
    elif not ndvi:
        return (
            "NDVI: give monthly NDVI or a dated NDVI series, or switch on the fusion step "
            "(RUN_FUSION) with FUSION_FINE, FUSION_COARSE and FUSION_SERIES"
        )
    indicators = len(model.parameterAsLayerList(parameters, "DEGRADATION_INDICATORS", context))
    for name in ("DEGRADATION_TRENDS", "DEGRADATION_WEIGHTS"):
        given = _count(model.parameterAsString(parameters, name, context))
        if given != indicators:
            return f"{name}: {given} value(s) for {indicators} DEGRADATION_INDICATORS layer(s)"
    climate = len(model.parameterAsLayerList(parameters, "CLIMATE_DRIVERS", context))
    soils = len(
        [f for f in compat.parameter_strings(model, parameters, "SOIL_FIELDS", context) if f]
    )
    drivers = climate + soils + 1
    categories = _count(model.parameterAsString(parameters, "CATEGORIES", context))
    if categories != drivers:
        return (
            f"CATEGORIES: {categories} categories for {drivers} drivers (the {climate} "
            f"CLIMATE_DRIVERS layer(s), the {soils} SOIL_FIELDS properties and LD)"
        )
    return ""


CHECKS = {
    "resilience_evaluation": check_resilience_evaluation,
    "npp_drivers": check_npp_drivers,
}


class WorkflowModel(QgsProcessingModelAlgorithm):
    """A shipped .model3 with a display name, its results and early input checks."""

    def __init__(self, path, steps: bool = True):
        super().__init__()
        self._path = str(path)
        if not (self.fromFile(self._path) if steps else self._declare()):
            raise ValueError(f"cannot read the model {Path(self._path).name}")
        results = RESULTS.get(self.name(), {})
        # The results in the dialog in the order of RESULTS (QGIS lists a model's outputs by
        # step id): each is moved to the end of the parameters, in that order.
        for name in results:
            definition = self.parameterDefinition(name)
            if definition is not None:
                moved = definition.clone()
                self.removeParameter(name)
                self.addParameter(moved, False)
        for definition in self.destinationParameterDefinitions():
            if definition.name() in results:
                # An optional result of an optional step is written by default (not skipped):
                # later steps (the report) need it.
                definition.setCreateByDefault(True)
            else:
                definition.setFlags(
                    definition.flags()
                    | QgsProcessingParameterDefinition.Flag.FlagHidden
                    | QgsProcessingParameterDefinition.Flag.FlagOptional
                )

    def _declare(self) -> bool:
        """Load the model's name, inputs and help from its file, not its steps."""
        document = QDomDocument()
        with open(self._path, "rb") as model_file:
            parsed = document.setContent(model_file.read())
        if not (parsed[0] if isinstance(parsed, tuple) else parsed):
            return False
        definition = QgsXmlUtils.readVariant(document.firstChildElement())
        if not isinstance(definition, dict):
            return False
        definition.pop("children", None)
        return self.loadVariant(definition)

    def createInstance(self):
        return WorkflowModel(self._path)

    def displayName(self):
        return DISPLAY_NAMES.get(self.name(), self.name())

    def group(self):
        return GROUPS["workflows"]

    def groupId(self):
        return "workflows"

    def intermediate_outputs(self) -> list[str]:
        results = RESULTS.get(self.name(), {})
        return [d.name() for d in self.destinationParameterDefinitions() if d.name() not in results]

    def validateInputCrs(self, parameters, context):
        # The inputs loaded as layers to compare their CRSs write no .aux.xml beside them.
        with without_side_files():
            return super().validateInputCrs(parameters, context)

    def checkParameterValues(self, parameters, context):
        # The inputs loaded as layers to check them write no .aux.xml beside the user's files.
        with without_side_files():
            ok, message = super().checkParameterValues(parameters, context)
            if not ok:
                return ok, message
            check = CHECKS.get(self.name())
            problem = check(self, parameters, context) if check else ""
        return (not problem), problem

    def with_defaults(self, parameters) -> dict:
        """``parameters`` with the model's default for every input left out: qgis_process
        hands a model only what its command line names, and a step reading a left-out input
        (CATEGORIES, say) would get nothing instead of the default the help promises."""
        filled = dict(parameters)
        for definition in self.parameterDefinitions():
            if definition.isDestination() or filled.get(definition.name()) is not None:
                continue
            if definition.defaultValue() is not None:
                filled[definition.name()] = definition.defaultValue()
        return filled

    def processAlgorithm(self, parameters, context, feedback):
        # Checked again here, before the first step: the dialogs and processing.run call
        # checkParameterValues, qgis_process (3.22) does not. Only the model's own checks: the
        # general ones would refuse the outputs a command line leaves out, which the steps
        # write to temporary files.
        parameters = self.with_defaults(parameters)
        check = CHECKS.get(self.name())
        with without_side_files():
            problem = check(self, parameters, context) if check else ""
        if problem:
            raise QgsProcessingException(problem)
        for definition in self.destinationParameterDefinitions():
            if parameters.get(definition.name()) in (None, ""):
                # Intermediate results, and results a command line leaves out (the steps'
                # side outputs are optional): written to a temporary file, not loaded, so
                # that later steps (the report) still get them.
                parameters[definition.name()] = QgsProcessing.TEMPORARY_OUTPUT
        results = super().processAlgorithm(parameters, context, feedback)
        # QGIS names a model's loaded layers after the output keys (INDEX, CLASS_TABLE…):
        # the names of RESULTS instead.
        names = {key.split(":", 1)[1]: name for key, name in RESULTS.get(self.name(), {}).items()}
        for layer_id in context.layersToLoadOnCompletion():
            details = context.layerToLoadOnCompletionDetails(layer_id)
            if details.name in names:
                details.name = names[details.name]
        return results

"""Build the two workflow models (graphical models, .model3) from the algorithms' parameter ids.

    .venv/bin/python scripts/build_models.py           # writes mine_eco_plugin/models/*.model3
    .venv/bin/python scripts/build_models.py --check   # exit 1 if a shipped model is stale

The models are written by code, not drawn by hand, so that every connection is checked against
the algorithms as they are: a renamed parameter fails here, not in a user's run. The .model3
files are committed; they open and can be edited in the Graphical Modeler like any model.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "mine_eco_plugin" / "models"


def start_qgis():
    # A fixed hash seed: Qt writes the attributes of the .model3 XML in hash order, so the
    # files only change where the models do.
    os.environ.setdefault("QT_HASH_SEED", "1")
    sys.path.insert(0, str(REPO))
    sys.path.append("/usr/share/qgis/python/plugins")
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from mine_eco_plugin.provider import MineEcoProvider

    provider = MineEcoProvider(load_models=False)
    QgsApplication.processingRegistry().addProvider(provider)
    return app, provider


#: Canvas layout of the Modeler (positions are box centres): the inputs in one column at the
#: left, the steps in columns along the chain, each step's outputs in the rows below it,
#: shifted right. Boxes are wide enough for their titles; a step's box with its In/Out labels
#: spans ±53 px around its centre in QGIS 3.22, an output's ±17 px, hence the gaps
#: (tests/desktop/test_models_desktop.py checks in the Modeler that no two boxes overlap).
INPUT_X, INPUT_WIDTH, INPUT_ROW = 150, 260, 48
STEP_X0, STEP_COLUMN, STEP_WIDTH, STEP_ROW = 560, 360, 270, 124
OUTPUT_SHIFT, OUTPUT_WIDTH, OUTPUT_FIRST, OUTPUT_ROW = 45, 270, 80, 44
BOX_HEIGHT, TOP = 30, 60


class ModelBuilder:
    """Small helpers over QgsProcessingModelAlgorithm: inputs, children, links, outputs."""

    def __init__(self, name: str, help_text: str):
        from qgis.core import QgsProcessingModelAlgorithm

        from mine_eco_plugin.provider_info import GROUPS
        from mine_eco_plugin.workflows import RESULTS

        # The model's name is its id (QGIS 3.22 has no other); the provider's WorkflowModel
        # gives it its display name ("Ecological resilience evaluation").
        self.model = QgsProcessingModelAlgorithm(name, GROUPS["workflows"], "workflows")
        self.results = RESULTS[name]
        self.help = {"ALG_DESC": help_text, "ALG_CREATOR": "Mine Eco", "ALG_VERSION": "1"}
        self.children: dict[str, object] = {}
        self.order: list[str] = []

    def input(self, parameter, help_text: str = "", advanced: bool = False):
        """A model input; the dialog lists them in the order they are added."""
        from qgis.core import QgsProcessingModelParameter
        from qgis.PyQt.QtCore import QPointF, QSizeF

        if advanced:
            parameter.setFlags(parameter.flags() | parameter.FlagAdvanced)
        component = QgsProcessingModelParameter(parameter.name())
        component.setPosition(QPointF(INPUT_X, TOP + INPUT_ROW * len(self.order)))
        component.setSize(QSizeF(INPUT_WIDTH, BOX_HEIGHT))
        self.model.addModelParameter(parameter, component)
        self.order.append(parameter.name())
        if help_text:
            self.help[parameter.name()] = help_text
        return parameter.name()

    def child(self, child_id: str, algorithm: str, description: str, column: int, **sources):
        """A child algorithm; keyword values are sources: ``param("X")`` for a model input,
        ``out("child", "OUTPUT")`` for another child's output, a list of those for multiple
        layers, or a plain value for a static one. ``column`` places it on the canvas."""
        from qgis.core import QgsApplication, QgsProcessingModelChildAlgorithm

        algorithm_object = QgsApplication.processingRegistry().algorithmById(algorithm)
        if algorithm_object is None:
            raise KeyError(f"{algorithm} is not registered")
        definitions = algorithm_object.parameterDefinitions()
        known = {p.name() for p in definitions}
        unknown = set(sources) - known
        if unknown:
            raise KeyError(f"{algorithm} has no parameter(s) {', '.join(sorted(unknown))}")
        child = QgsProcessingModelChildAlgorithm(algorithm)
        child.setChildId(child_id)
        child.setDescription(description)
        # As the Modeler does: every other mandatory parameter takes its default value.
        for definition in definitions:
            optional = definition.flags() & definition.FlagOptional
            if not definition.isDestination() and not optional and definition.name() not in sources:
                sources[definition.name()] = definition.defaultValue()
        for name, value in sources.items():
            values = value if isinstance(value, list) else [value]
            child.addParameterSources(name, [_source(v) for v in values])
        self.children[child_id] = {"child": child, "column": column, "outputs": {}}
        return child_id

    def output(
        self, child_id: str, child_output: str, name: str, description: str, mandatory: bool = False
    ):
        """Make a child's output an output of the model (a destination the user may set).
        The results users meet in the dialog take their names from workflows.RESULTS; the
        others are intermediate (hidden in dialogs, kept for command lines)."""
        from qgis.core import QgsProcessingModelOutput

        description = self.results.get(f"{child_id}:{name}", description)
        output = QgsProcessingModelOutput(name, description)
        output.setChildId(child_id)
        output.setChildOutputName(child_output)
        output.setMandatory(mandatory)
        self.children[child_id]["outputs"][name] = output

    def layout(self) -> None:
        """Positions and sizes of the steps and their outputs (see the constants above)."""
        from qgis.PyQt.QtCore import QPointF, QSizeF

        heights: dict[int, float] = {}
        for entry in self.children.values():
            column = entry["column"]
            x = STEP_X0 + STEP_COLUMN * column
            y = heights.get(column, TOP)
            child = entry["child"]
            child.setPosition(QPointF(x, y))
            child.setSize(QSizeF(STEP_WIDTH, BOX_HEIGHT))
            if not entry["outputs"]:
                heights[column] = y + STEP_ROW
                continue
            y += OUTPUT_FIRST
            for output in entry["outputs"].values():
                output.setPosition(QPointF(x + OUTPUT_SHIFT, y))
                output.setSize(QSizeF(OUTPUT_WIDTH, BOX_HEIGHT))
                y += OUTPUT_ROW
            heights[column] = y - OUTPUT_ROW + OUTPUT_FIRST + 10

    def save(self, path: Path) -> None:
        self.layout()
        for entry in self.children.values():
            child = entry["child"]
            child.setModelOutputs(entry["outputs"])
            self.model.addChildAlgorithm(child)
        self.model.setParameterOrder(self.order)
        self.model.setHelpContent(self.help)
        self.model.updateDestinationParameters()
        valid, problems = self.model.validate()
        if not valid:
            raise ValueError(f"{self.model.name()}: {'; '.join(problems)}")
        if not self.model.toFile(str(path)):
            raise OSError(f"cannot write {path}")


def param(name):
    return ("param", name)


def out(child, name="OUTPUT"):
    return ("child", child, name)


def switch(name):
    """A boolean model input as an expression that is false when the input is not given
    (model defaults do not reach the children when a parameter is left out)."""
    return ("expression", f"coalesce(@{name}, false)")


def _source(value):
    from qgis.core import QgsProcessingModelChildParameterSource as Source

    if isinstance(value, tuple) and value[0] == "param":
        return Source.fromModelParameter(value[1])
    if isinstance(value, tuple) and value[0] == "child":
        return Source.fromChildOutput(value[1], value[2])
    if isinstance(value, tuple) and value[0] == "expression":
        return Source.fromExpression(value[1])
    return Source.fromStaticValue(value)


def resilience_evaluation() -> ModelBuilder:
    from qgis.core import (
        QgsProcessing,
        QgsProcessingParameterBoolean,
        QgsProcessingParameterEnum,
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterField,
        QgsProcessingParameterFile,
        QgsProcessingParameterMultipleLayers,
        QgsProcessingParameterNumber,
        QgsProcessingParameterRasterLayer,
        QgsProcessingParameterString,
    )

    from mine_eco_plugin.algorithms.landcover_tables import CLASSIFICATION_OPTIONS
    from mine_eco_plugin.core.spectral import TASSELED_CAP_SETS
    from mine_eco_plugin.core.thermal import THERMAL_SENSORS

    b = ModelBuilder(
        "resilience_evaluation",
        "The workflow of the ecological resilience study (Sustainability 2023, 15(3), 2258, "
        "doi:10.3390/su15032258) end to end: a Landsat scene (MTL), a DEM, a land-cover map "
        "(CNLUCC or CLCD codes, LANDCOVER_CLASSIFICATION; the study used CLCD), "
        "12 monthly rainfall layers and soil fractions → the 17 indicators of its Table 2 "
        "(those whose inputs are given: population, PM2.5 and CO2 layers are optional; the "
        "weights of the indicators present are renormalised and the omissions reported) → the "
        "resilience index with Table 2's weights (or the study's AHP + mean-square-error "
        "method on your data) → five resilience classes (Table 3) with their areas, and an "
        "HTML report.\n\n"
        "Two readings of Table 2 differ from the table as printed. C11, printed 'TCI', is the "
        "tasseled-cap brightness of the study's §3.1.3 (Eq. 9–10, band 1 of 'Tasseled cap'), "
        "as the text defines it, not VHI's temperature condition index. C1, the "
        "desertification index DDI = k·N − A, is high for vegetated and low for desertified "
        "land, so it enters with trend + (desertification lowers resilience); Table 2 prints "
        "−, which would reward desertified pixels. 'Direction of C1' keeps the printed sign "
        "as an option.\n\n"
        "For several years, run it per year (Toolbox: Run as Batch Process) and compare the "
        "indices with 'Change analysis' and 'Index trend'; for indices comparable between "
        "years fix the normalisation ranges with 'Composite index' MINIMA/MAXIMA.\n\n"
        "Two optional steps, off by default (a step switched off computes nothing, its "
        "outputs stay empty and the report leaves its section out): the weight sensitivity "
        "(RUN_SENSITIVITY) redoes the index for SENSITIVITY_DRAWS weight vectors drawn around "
        "the weights used ('Weight sensitivity', Dirichlet draws): the index's mean and 90 % "
        "interval per pixel, how stable each pixel's class is and each indicator's influence; "
        "the trend (RUN_TREND) gives Sen's slope and the Mann–Kendall trend class of the index "
        "over EARLIER_INDICES (index rasters of earlier years, made the same way) and this "
        "run's index, with YEARS listing their years in that order ('Index trend'). The trend "
        "step's inputs are checked before any step runs. Both appear in the HTML report.\n\n"
        "A third optional step, RUN_PLANNER ('Restoration planner'), ranks candidate "
        "reclamation SITES (polygons, TARGET_FIELD the land-cover code each would become, "
        "COST_FIELD an optional cost per ha) by how much this run's index would gain, with "
        "this run's indicators, weights (OUTPUT_WEIGHTS), RUSLE factors and land cover; the "
        "report then shows the ranking in words, the gain against cost and the ranked sites "
        "(SITES and TARGET_FIELD are checked before any step runs).\n\n"
        "Outputs: the dialog shows the results (index, classes, class areas, weights, report "
        "and the optional steps' results). The indicator rasters (C1 … C15, erosion classes) "
        "are intermediate: written to temporary files unless named, which only a command line "
        "or processing.run can do ('ddi:C1_DDI=…').",
    )
    b.input(
        QgsProcessingParameterFile("MTL", "Landsat MTL file", extension="txt"),
        "The scene's *_MTL.txt; its band files beside it.",
    )
    b.input(
        QgsProcessingParameterRasterLayer("DEM", "DEM (projected CRS)"),
        "For the RUSLE slope-length and steepness factor.",
    )
    b.input(
        QgsProcessingParameterRasterLayer("LANDCOVER", "Land cover"),
        "Class codes matching the HAI, BAI, ECO and P tables (LANDCOVER_CLASSIFICATION).",
    )
    b.input(
        QgsProcessingParameterMultipleLayers(
            "PRECIPITATION", "Monthly rainfall (mm)", QgsProcessing.SourceType.TypeRaster
        ),
        "12 monthly layers or one 12-band raster (RUSLE R).",
    )
    for name, label in (
        ("SAND", "Sand (%)"),
        ("SILT", "Silt (%)"),
        ("CLAY", "Clay (%)"),
        ("ORGANIC_CARBON", "Organic carbon (%)"),
    ):
        b.input(QgsProcessingParameterRasterLayer(name, label), "Soil, for the EPIC K factor.")
    for name, label in (
        ("POPULATION", "C5 population density"),
        ("PM25", "C16 PM2.5"),
        ("CO2", "C17 CO2 emissions"),
    ):
        b.input(
            QgsProcessingParameterRasterLayer(name, label, optional=True),
            "Optional indicator layer; left out of the index when not given.",
        )
    b.input(
        QgsProcessingParameterEnum(
            "LANDCOVER_CLASSIFICATION",
            "Land-cover classification",
            list(CLASSIFICATION_OPTIONS),
            False,
            0,
        ),
        "Which classification LANDCOVER uses, for the shipped HAI, BAI, ECO and P tables: "
        "CNLUCC (codes 11–67, the default, as earlier versions of this model) or CLCD (the "
        "China Land Cover Dataset, classes 1–9, the resilience study's land cover: choose it "
        "for the study's setting). A code the table lacks is an error that lists it and "
        "points at the other classification when the codes fit it.",
    )
    for name, label in (
        ("HAI_TABLE", "HAI class table"),
        ("BAI_TABLE", "BAI class table"),
        ("ECO_TABLE", "ECO class table"),
        ("P_TABLE", "RUSLE P table"),
    ):
        b.input(
            QgsProcessingParameterFile(name, label, extension="csv", optional=True),
            "CSV for your land-cover codes; blank: the algorithm's shipped default.",
            advanced=True,
        )
    b.input(
        QgsProcessingParameterNumber(
            "WINDOW",
            "Landscape window (pixels, odd)",
            QgsProcessingParameterNumber.Type.Integer,
            33,
            False,
            3,
        ),
        "Moving window of SHDI, FN, HAI, BAI and ECO (33 px ≈ 1 km at 30 m).",
        advanced=True,
    )
    sets = list(TASSELED_CAP_SETS.values())
    b.input(
        QgsProcessingParameterEnum(
            "COEFFICIENTS",
            "Tasseled-cap coefficients",
            [s.label for s in sets],
            False,
            list(TASSELED_CAP_SETS).index("oli_baig_2014"),
        ),
        "C7 wetness and C11 brightness (Eq. 9–10); Baig et al. (2014) for Landsat 8/9 OLI.",
        advanced=True,
    )
    sensors = list(THERMAL_SENSORS.values())
    b.input(
        QgsProcessingParameterEnum(
            "SENSOR", "Thermal sensor", [s.label for s in sensors], False, 0
        ),
        "For LST (C9): the thermal band's K1/K2 constants.",
        advanced=True,
    )
    for name, label, default in (
        ("TAU", "Atmospheric transmissivity τ", 1.0),
        ("L_UP", "Upwelling radiance L↑", 0.0),
        ("L_DOWN", "Downwelling radiance L↓", 0.0),
    ):
        b.input(
            QgsProcessingParameterNumber(
                name, label, QgsProcessingParameterNumber.Type.Double, default
            ),
            "For LST (NASA atmospheric correction parameter calculator); defaults: no correction.",
            advanced=True,
        )
    b.input(
        QgsProcessingParameterEnum(
            "WEIGHT_SOURCE",
            "Weights",
            [
                "Table 2 combined weights",
                "Table 2 AHP weights + mean-square-error weights of these "
                "layers (the study's method)",
                "Mean-square-error weights only",
            ],
            False,
            0,
        )
    )
    b.input(
        QgsProcessingParameterEnum(
            "DDI_TREND",
            "Direction of C1 desertification index",
            [
                "+ : desertification lowers resilience (default)",
                "− : as printed in Table 2",
            ],
            False,
            0,
        ),
        "DDI grows with vegetation, so it enters with trend +; Table 2 prints −, which would "
        "reward desertified land ('Resilience index' DDI_TREND).",
    )
    b.input(
        QgsProcessingParameterFile(
            "AHP_HIERARCHY",
            "Your AHP hierarchy (subjective weights)",
            extension="csv",
            optional=True,
        ),
        "With the study's weighting (Weights: Table 2 AHP + mean-square-error): criteria "
        "B1–B5 and each criterion's indicators C1…C17 as pairwise matrices ('AHP weights "
        "(two-level hierarchy)'); their global weights replace Table 2's subjective weights. "
        "Blank: Table 2's.",
        advanced=True,
    )
    b.input(
        QgsProcessingParameterString("BREAKS", "Class breaks", "0.38,0.41,0.63,0.73"),
        "Table 3 of the study.",
    )
    b.input(
        QgsProcessingParameterBoolean(
            "RUN_SENSITIVITY", "Optional step: weight sensitivity (Monte Carlo)", False
        ),
        "On: the class stability map, the index's 90 % interval and each indicator's "
        "influence ('Weight sensitivity').",
    )
    b.input(
        QgsProcessingParameterNumber(
            "SENSITIVITY_DRAWS",
            "Weight sensitivity: number of draws",
            QgsProcessingParameterNumber.Type.Integer,
            1000,
            False,
            10,
            100_000,
        ),
        "Weight vectors drawn (Dirichlet around the weights used, concentration 100).",
    )
    b.input(
        QgsProcessingParameterNumber(
            "SEED", "Weight sensitivity: random seed", QgsProcessingParameterNumber.Type.Integer, 42
        ),
        "The same seed gives the same maps.",
    )
    b.input(
        QgsProcessingParameterBoolean("RUN_TREND", "Optional step: trend of the index", False),
        "On: Sen's slope and the Mann–Kendall trend class over EARLIER_INDICES and this "
        "run's index ('Index trend').",
    )
    b.input(
        QgsProcessingParameterMultipleLayers(
            "EARLIER_INDICES",
            "Trend: resilience index of earlier years",
            QgsProcessing.SourceType.TypeRaster,
            optional=True,
        ),
        "Index rasters of this model (or 'Resilience index') for earlier years, oldest first; "
        "at least two for a trend.",
    )
    b.input(
        QgsProcessingParameterString("YEARS", "Trend: years", "", optional=True),
        "The years of EARLIER_INDICES and of this run, in that order, e.g. "
        "2000,2005,2010,2016,2020 (unevenly spaced allowed).",
    )
    b.input(
        QgsProcessingParameterBoolean(
            "RUN_PLANNER", "Optional step: where to restore first (restoration planner)", False
        ),
        "On: candidate reclamation SITES ranked by the gain of this run's index if each "
        "became its target land cover ('Restoration planner'), with this run's indicators, "
        "weights, RUSLE factors and land cover.",
    )
    b.input(
        QgsProcessingParameterFeatureSource(
            "SITES",
            "Planner: candidate sites (polygons)",
            [QgsProcessing.SourceType.TypeVectorPolygon],
            optional=True,
        ),
        "One polygon per candidate site.",
    )
    b.input(
        QgsProcessingParameterField(
            "SITE_FIELD",
            "Planner: site identifier field",
            parentLayerParameterName="SITES",
            optional=True,
        ),
        "Unique identifier of each site (blank: the feature id).",
    )
    b.input(
        QgsProcessingParameterField(
            "TARGET_FIELD",
            "Planner: target land-cover code field",
            parentLayerParameterName="SITES",
            type=QgsProcessingParameterField.DataType.Numeric,
            optional=True,
        ),
        "The land-cover class (a code of LANDCOVER's classification) each site is restored to.",
    )
    b.input(
        QgsProcessingParameterField(
            "COST_FIELD",
            "Planner: cost per hectare field (optional)",
            parentLayerParameterName="SITES",
            type=QgsProcessingParameterField.DataType.Numeric,
            optional=True,
        ),
        "Cost of restoring one hectare: gives the gain per unit cost.",
    )
    b.input(
        QgsProcessingParameterNumber(
            "RADIUS",
            "Planner: radius of the typical target-class values (m)",
            QgsProcessingParameterNumber.Type.Double,
            1000.0,
            False,
            0.0,
        ),
        "Restored pixels take the median of the target class within this distance of the site.",
    )

    refl = b.child(
        "reflectance", "mineeco:landsat_reflectance", "Landsat reflectance", 0, MTL=param("MTL")
    )
    ndvi = b.child("ndvi", "mineeco:ndvi", "NDVI", 1, INPUT=out(refl))
    ndmvi = b.child("ndmvi", "mineeco:ndmvi", "NDMVI", 1, INPUT=out(refl))
    fvc = b.child("fvc", "mineeco:fvc", "C3 FVC", 2, INPUT=out(ndmvi))
    tc = b.child(
        "tasseled_cap",
        "mineeco:tasseled_cap",
        "C7 wetness, C11 brightness (tasseled cap)",
        1,
        INPUT=out(refl),
        COEFFICIENTS=param("COEFFICIENTS"),
    )
    albedo = b.child("albedo", "mineeco:albedo", "C10 albedo", 1, INPUT=out(refl))
    dry = b.child("ndbsi", "mineeco:ndbsi", "C8 dryness (NDBSI)", 1, INPUT=out(refl))
    lst = b.child(
        "lst",
        "mineeco:lst",
        "C9 LST",
        2,
        THERMAL=out(refl, "OUTPUT_THERMAL"),
        NDVI=out(ndvi),
        SENSOR=param("SENSOR"),
        TAU=param("TAU"),
        L_UP=param("L_UP"),
        L_DOWN=param("L_DOWN"),
        RED=out(refl),
    )
    vhi = b.child("vhi", "mineeco:vhi", "C4 VHI", 3, NDVI=[out(ndvi)], LST=[out(lst)])
    ddi = b.child(
        "ddi",
        "mineeco:desertification_index",
        "C1 desertification index",
        2,
        NDVI=out(ndvi),
        ALBEDO=out(albedo),
    )
    r = b.child(
        "rusle_r",
        "mineeco:rusle_r",
        "RUSLE R",
        0,
        PRECIPITATION=param("PRECIPITATION"),
        REFERENCE=param("DEM"),
    )
    k = b.child(
        "rusle_k",
        "mineeco:rusle_k",
        "RUSLE K",
        0,
        SAND=param("SAND"),
        SILT=param("SILT"),
        CLAY=param("CLAY"),
        ORGANIC_CARBON=param("ORGANIC_CARBON"),
        REFERENCE=param("DEM"),
    )
    ls = b.child("rusle_ls", "mineeco:rusle_ls", "RUSLE LS", 0, DEM=param("DEM"))
    c = b.child("rusle_c", "mineeco:rusle_c", "RUSLE C", 3, INPUT=out(fvc))
    p = b.child(
        "rusle_p",
        "mineeco:rusle_p",
        "RUSLE P",
        0,
        LANDCOVER=param("LANDCOVER"),
        TABLE=param("P_TABLE"),
        CLASSIFICATION=param("LANDCOVER_CLASSIFICATION"),
    )
    erosion = b.child(
        "rusle",
        "mineeco:rusle",
        "C2 soil erosion (RUSLE)",
        4,
        R=out(r),
        K=out(k),
        LS=out(ls),
        C=out(c),
        P=out(p),
    )
    b.output(erosion, "OUTPUT_CLASSES", "EROSION_CLASSES", "Soil erosion intensity classes")
    landscape = b.child(
        "landscape",
        "mineeco:landscape_metrics",
        "C14 SHDI and C15 FN",
        0,
        INPUT=param("LANDCOVER"),
        WINDOW=param("WINDOW"),
    )
    hai, bai, eco = (
        b.child(
            child_id,
            f"mineeco:{algorithm}",
            label,
            0,
            INPUT=param("LANDCOVER"),
            TABLE=param(table),
            CLASSIFICATION=param("LANDCOVER_CLASSIFICATION"),
            WINDOW=param("WINDOW"),
        )
        for child_id, algorithm, label, table in (
            ("hai", "human_activity_index", "C6 HAI", "HAI_TABLE"),
            ("bai", "biological_abundance", "C12 BAI", "BAI_TABLE"),
            ("eco", "ecological_elasticity", "C13 ECO", "ECO_TABLE"),
        )
    )
    # The 17 Table 2 slots, as the index and the planner take them.
    indicators = {
        "DDI": out(ddi),
        "EROSION": out(erosion),
        "FVC": out(fvc),
        "VHI": out(vhi, "OUTPUT_VHI"),
        "POPULATION": param("POPULATION"),
        "HAI": out(hai),
        "WETNESS": out(tc),
        "DRYNESS": out(dry),
        "LST": out(lst),
        "ALBEDO": out(albedo),
        "TCI": out(tc),
        "BAI": out(bai),
        "ECO": out(eco),
        "SHDI": out(landscape, "OUTPUT_SHDI"),
        "FN": out(landscape, "OUTPUT_FN"),
        "PM25": param("PM25"),
        "CO2": param("CO2"),
    }
    index = b.child(
        "resilience",
        "mineeco:resilience_index",
        "Resilience index (Eq. 20)",
        5,
        **indicators,
        WEIGHT_SOURCE=param("WEIGHT_SOURCE"),
        DDI_TREND=param("DDI_TREND"),
        HIERARCHY=param("AHP_HIERARCHY"),
    )
    b.output(index, "OUTPUT", "INDEX", "Resilience index", mandatory=True)
    b.output(index, "OUTPUT_WEIGHTS", "WEIGHTS_TABLE", "Indicator weights (Table 2 form)")
    classes = b.child(
        "classes",
        "mineeco:classify_index",
        "Resilience classes (Table 3)",
        6,
        INPUT=out(index),
        BREAKS=param("BREAKS"),
    )
    b.output(classes, "OUTPUT", "CLASSES", "Resilience classes", mandatory=True)
    b.output(classes, "OUTPUT_TABLE", "CLASS_TABLE", "Class areas")
    sensitivity = b.child(
        "sensitivity",
        "mineeco:weight_sensitivity",
        "Optional: weight sensitivity",
        7,
        RUN=switch("RUN_SENSITIVITY"),
        INPUTS=out(index, "INDICATORS"),
        NAMES=out(index, "NAMES"),
        TRENDS=out(index, "TRENDS"),
        WEIGHTS=out(index, "WEIGHTS"),
        DRAWS=param("SENSITIVITY_DRAWS"),
        SEED=param("SEED"),
        BREAKS=param("BREAKS"),
    )
    b.output(sensitivity, "OUTPUT_STABILITY", "STABILITY", "Class stability (optional step)")
    for output, name, label in (
        ("OUTPUT_MEAN", "INDEX_MEAN", "Index, mean over the weight draws (optional step)"),
        ("OUTPUT_LOW", "INDEX_LOW", "Index, 5 % percentile of the weight draws (optional step)"),
        ("OUTPUT_HIGH", "INDEX_HIGH", "Index, 95 % percentile of the weight draws (optional step)"),
    ):
        b.output(sensitivity, output, name, label)
    b.output(
        sensitivity, "OUTPUT_INFLUENCE", "INFLUENCE_TABLE", "Indicator influence (optional step)"
    )
    trend = b.child(
        "trend",
        "mineeco:index_trend",
        "Optional: trend of the index",
        7,
        RUN=switch("RUN_TREND"),
        INPUT=[param("EARLIER_INDICES"), out(index)],
        YEARS=param("YEARS"),
    )
    b.output(trend, "OUTPUT", "TREND_SLOPE", "Sen's slope of the index (optional step)")
    b.output(trend, "OUTPUT_CLASS", "TREND_CLASSES", "Trend classes (optional step)")
    for child_id, output, name, label in (
        (ddi, "OUTPUT", "C1_DDI", "C1 desertification index"),
        (erosion, "OUTPUT", "C2_EROSION", "C2 soil erosion (t/ha/yr)"),
        (fvc, "OUTPUT", "C3_FVC", "C3 FVC"),
        (vhi, "OUTPUT_VHI", "C4_VHI", "C4 VHI"),
        (hai, "OUTPUT", "C6_HAI", "C6 HAI"),
        (tc, "OUTPUT", "C7_TASSELED_CAP", "C7 wetness (band 3) and C11 brightness (band 1)"),
        (dry, "OUTPUT", "C8_DRYNESS", "C8 dryness"),
        (lst, "OUTPUT", "C9_LST", "C9 LST (°C)"),
        (albedo, "OUTPUT", "C10_ALBEDO", "C10 albedo"),
        (bai, "OUTPUT", "C12_BAI", "C12 BAI"),
        (eco, "OUTPUT", "C13_ECO", "C13 ECO"),
        (landscape, "OUTPUT_SHDI", "C14_SHDI", "C14 SHDI"),
        (landscape, "OUTPUT_FN", "C15_FN", "C15 FN"),
    ):
        b.output(child_id, output, name, label)
    planner = b.child(
        "planner",
        "mineeco:restoration_planner",
        "Optional: where to restore first",
        7,
        RUN=switch("RUN_PLANNER"),
        LANDCOVER=param("LANDCOVER"),
        **indicators,
        WEIGHTS_TABLE=out(index, "OUTPUT_WEIGHTS"),
        SITES=param("SITES"),
        SITE_FIELD=param("SITE_FIELD"),
        TARGET_FIELD=param("TARGET_FIELD"),
        COST_FIELD=param("COST_FIELD"),
        RADIUS=param("RADIUS"),
        BREAKS=param("BREAKS"),
        CLASSIFICATION=param("LANDCOVER_CLASSIFICATION"),
        HAI_TABLE=param("HAI_TABLE"),
        BAI_TABLE=param("BAI_TABLE"),
        ECO_TABLE=param("ECO_TABLE"),
        P_TABLE=param("P_TABLE"),
        WINDOW=param("WINDOW"),
        METRICS_WINDOW=param("WINDOW"),
        R_FACTOR=out(r),
        K_FACTOR=out(k),
        LS_FACTOR=out(ls),
        C_FACTOR=out(c),
    )
    b.output(planner, "OUTPUT", "PLANNER_TABLE", "Restoration site ranking (optional step)")
    b.output(planner, "OUTPUT_CHART", "PLANNER_CHART", "Restoration sites: gain against cost")
    b.output(planner, "OUTPUT_FOLDER", "PLANNER_FOLDER", "Δ-index rasters per site")
    report = b.child(
        "report",
        "mineeco:html_report",
        "HTML report",
        8,
        TITLE="Ecological resilience evaluation",
        INDEX=[out(index)],
        CLASSES=[out(classes)],
        WEIGHTS=out(index, "OUTPUT_WEIGHTS"),
        STABILITY=out(sensitivity, "OUTPUT_STABILITY"),
        INFLUENCE=out(sensitivity, "OUTPUT_INFLUENCE"),
        SENSITIVITY_MEAN=out(sensitivity, "OUTPUT_MEAN"),
        SENSITIVITY_LOW=out(sensitivity, "OUTPUT_LOW"),
        SENSITIVITY_HIGH=out(sensitivity, "OUTPUT_HIGH"),
        TREND=out(trend, "OUTPUT_CLASS"),
        PLANNER=out(planner, "OUTPUT"),
        PLANNER_SUMMARY=out(planner, "SUMMARY"),
        OTHER_RASTERS=[
            out(ddi),
            out(erosion),
            out(fvc),
            out(vhi, "OUTPUT_VHI"),
            out(lst),
            out(landscape, "OUTPUT_SHDI"),
            out(erosion, "OUTPUT_CLASSES"),
        ],
    )
    b.output(report, "OUTPUT", "REPORT", "HTML report")
    return b


def npp_drivers() -> ModelBuilder:
    from qgis.core import (
        QgsProcessing,
        QgsProcessingParameterBoolean,
        QgsProcessingParameterEnum,
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterField,
        QgsProcessingParameterFile,
        QgsProcessingParameterMultipleLayers,
        QgsProcessingParameterNumber,
        QgsProcessingParameterRasterLayer,
        QgsProcessingParameterString,
    )

    from mine_eco_plugin.algorithms.composite import METHOD_LABELS

    b = ModelBuilder(
        "npp_drivers",
        "The workflow of the NPP drivers study (Tian et al. 2022, Remote Sens. 14(17), 4177, "
        "doi:10.3390/rs14174177): NDVI, temperature, precipitation and solar radiation → "
        "CASA NPP per year and its mean over the years ('CASA NPP over several years'); soil "
        "samples → one kriged "
        "raster per soil property (SOIL_FIELDS, any number; the study kriges seven) on the NPP "
        "grid, named after its field ('Ordinary kriging of several fields'); degradation "
        "indicators → land degradation LD (Eq. 5, the composite index with your AHP "
        "weights); with every driver: Pearson correlations with NPP, the location-specific "
        "correlation (one class map and one row of positive, negative and insignificant area "
        "shares per driver, as the study's Figure 3: 'Local correlation with every driver') "
        "and the random-forest factorial experiments → importance per driver and category, "
        "per-pixel relative contributions, the RGB composite and the dominant-driver map. "
        "Drivers are, in this order: the climate layers you give (the study: MAT, MAP, MAS, "
        "MAE), the soil properties in the order of SOIL_FIELDS, LD (twelve in the study); "
        "CATEGORIES names one category per driver in that order. The counts of "
        "DEGRADATION_TRENDS, DEGRADATION_WEIGHTS and CATEGORIES are checked before any step "
        "runs.\n\n"
        "NDVI as the study builds it: it fuses MODIS 16-day NDVI with Landsat into a 30 m, "
        "16-day series for 2010–2015, composites it into monthly NDVI, runs CASA per year and "
        "averages NPP over the six years. NDVI here is either monthly NDVI (12 layers or one "
        "12-band raster per year, without dates in their names: CASA as it is, as earlier "
        "versions of this model did) or a dated NDVI series (dates in the layer names, e.g. "
        "fused_2013-05-17, or typed in NDVI_DATES), composited per month and year (COMPOSITE: "
        "maximum value by default). The optional fusion step (RUN_FUSION, off by default) "
        "builds the series inside the model: 'ESTARFM fusion over a time series' predicts a "
        "fine NDVI image for every date of FUSION_SERIES (coarse, e.g. MODIS) from the base "
        "pairs FUSION_FINE and FUSION_COARSE (e.g. Landsat and MODIS of the same days); the "
        "fused series is added to NDVI (which may then be left empty, or hold the Landsat NDVI "
        "of the base dates). NPP_YEARS chooses the years (blank: every year of the series, "
        "each needing a layer in all twelve months). TEMPERATURE, PRECIPITATION and SOLAR are "
        "12 monthly layers used for every year, or 12 per year in year order. The NPP the "
        "drivers are analysed against is the mean over the years; NPP_YEARS_TABLE lists each "
        "year's mean, and the report shows it as a line over the years with the table.\n\n"
        "Outputs: the dialog shows the results; the folders of kriged soil rasters and of "
        "correlation maps are intermediate (temporary unless a command line names them: "
        "'soil:SOIL_FOLDER=…', 'lcc:LCC_FOLDER=…'); the report shows every map.",
    )
    b.input(
        QgsProcessingParameterMultipleLayers(
            "NDVI",
            "NDVI: monthly layers or a dated series",
            QgsProcessing.SourceType.TypeRaster,
            optional=True,
        ),
        "Monthly NDVI (12 layers or one 12-band raster per year) or a dated NDVI series (one "
        "layer per date, dated in its name); may be empty when the fusion step (RUN_FUSION) "
        "makes the series.",
    )
    for name, label in (
        ("TEMPERATURE", "Monthly temperature (°C)"),
        ("PRECIPITATION", "Monthly precipitation (mm)"),
        ("SOLAR", "Monthly solar radiation"),
    ):
        b.input(
            QgsProcessingParameterMultipleLayers(name, label, QgsProcessing.SourceType.TypeRaster),
            "12 monthly layers or one 12-band raster, used for every year; or 12 per year in "
            "year order.",
        )
    b.input(
        QgsProcessingParameterEnum(
            "SOLAR_UNIT", "Solar radiation unit", ["MJ·m⁻²·month⁻¹", "mean W·m⁻²"], False, 0
        )
    )
    b.input(
        QgsProcessingParameterRasterLayer("LANDCOVER", "Land cover (CASA classes)", optional=True),
        "Codes of the CASA table; blank: one class with the fallback ε_max.",
    )
    b.input(
        QgsProcessingParameterFile(
            "CASA_TABLE", "CASA class table", extension="csv", optional=True
        ),
        "Blank: Zhu et al. (2006) default.",
        advanced=True,
    )
    b.input(
        QgsProcessingParameterFeatureSource(
            "SOIL_POINTS", "Soil samples (points)", [QgsProcessing.SourceType.TypeVectorPoint]
        )
    )
    b.input(
        QgsProcessingParameterField(
            "SOIL_FIELDS",
            "Soil properties",
            parentLayerParameterName="SOIL_POINTS",
            type=QgsProcessingParameterField.DataType.Numeric,
            allowMultiple=True,
        ),
        "Any number of numeric fields of the samples (the study: CF, SOC, TN, AP, AK, pH, BD), "
        "each kriged onto the NPP grid and named after its field.",
    )
    b.input(
        QgsProcessingParameterMultipleLayers(
            "CLIMATE_DRIVERS", "Climate drivers", QgsProcessing.SourceType.TypeRaster
        ),
        "e.g. the study's MAT, MAP, MAS and MAE (named after their layers).",
    )
    b.input(
        QgsProcessingParameterMultipleLayers(
            "DEGRADATION_INDICATORS",
            "Land degradation indicators",
            QgsProcessing.SourceType.TypeRaster,
        )
    )
    b.input(
        QgsProcessingParameterString("DEGRADATION_TRENDS", "Degradation indicator trends"),
        "One + or − per indicator (+: more degraded with higher values).",
    )
    b.input(
        QgsProcessingParameterString("DEGRADATION_WEIGHTS", "Degradation indicator weights"),
        "One weight per indicator (e.g. the WEIGHTS output of 'AHP weights').",
    )
    b.input(
        QgsProcessingParameterString(
            "CATEGORIES",
            "Driver categories",
            ",".join(["climate"] * 4 + ["soil"] * 7 + ["mining"]),
        ),
        "One per driver: the climate drivers, the soil properties (in the order of "
        "SOIL_FIELDS), LD. Default: the study's twelve (four climate, seven soil, LD).",
    )
    b.input(
        QgsProcessingParameterNumber(
            "POINTS", "Sample points", QgsProcessingParameterNumber.Type.Integer, 1000, False, 50
        ),
        "Points sampled for the Pearson correlations and the random forest.",
        advanced=True,
    )
    b.input(
        QgsProcessingParameterNumber(
            "SEED", "Random seed", QgsProcessingParameterNumber.Type.Integer, 42, False, 0
        ),
        "Seed of the sampling and of the forest: the same seed gives the same results.",
        advanced=True,
    )
    b.input(
        QgsProcessingParameterNumber(
            "TREES", "Trees", QgsProcessingParameterNumber.Type.Integer, 500, False, 10
        ),
        "Trees of each random forest.",
        advanced=True,
    )
    b.input(
        QgsProcessingParameterNumber(
            "WINDOW",
            "Correlation window (pixels, odd)",
            QgsProcessingParameterNumber.Type.Integer,
            11,
            False,
            3,
        )
    )

    b.input(
        QgsProcessingParameterString(
            "NDVI_DATES", "Dates of the NDVI layers (YYYY-MM-DD)", "", optional=True
        ),
        "One date per NDVI layer, in order, when their names carry none (blank: from the names; "
        "not with the fusion step, whose layers are dated in their names).",
        advanced=True,
    )
    b.input(
        QgsProcessingParameterString("NPP_YEARS", "NPP years", "", optional=True),
        "The years CASA runs, comma-separated (blank: every year of the dated series). For "
        "monthly NDVI without dates: the year of each group of 12 months, in order.",
        advanced=True,
    )
    b.input(
        QgsProcessingParameterEnum(
            "COMPOSITE", "Monthly composite of the series", list(METHOD_LABELS), False, 0
        ),
        "How the dated layers of a month become its NDVI: maximum value (the usual choice "
        "for CASA), mean or median.",
        advanced=True,
    )
    b.input(
        QgsProcessingParameterBoolean(
            "RUN_FUSION",
            "Optional step: NDVI fusion (ESTARFM)",
            False,
        ),
        "On: 'ESTARFM fusion over a time series' predicts a fine NDVI image for every date of "
        "FUSION_SERIES; the fused series is added to NDVI.",
    )
    for name, label, help_text in (
        (
            "FUSION_FINE",
            "Fusion: fine NDVI of the base pairs (e.g. Landsat)",
            "At least two, dated in their names (or FUSION_BASE_DATES).",
        ),
        (
            "FUSION_COARSE",
            "Fusion: coarse NDVI of the base pairs (same dates, same order)",
            "The coarse image (e.g. MODIS) of each fine image's day.",
        ),
        (
            "FUSION_SERIES",
            "Fusion: coarse NDVI series to predict (e.g. MODIS 16-day)",
            "One layer per date, dated in its name (or FUSION_SERIES_DATES).",
        ),
    ):
        b.input(
            QgsProcessingParameterMultipleLayers(
                name, label, QgsProcessing.SourceType.TypeRaster, optional=True
            ),
            help_text,
        )
    for name, label in (
        ("FUSION_BASE_DATES", "Fusion: dates of the base pairs (YYYY-MM-DD)"),
        ("FUSION_SERIES_DATES", "Fusion: dates of the coarse series (YYYY-MM-DD)"),
    ):
        b.input(
            QgsProcessingParameterString(name, label, "", optional=True),
            "Comma-separated, in layer order; blank: read from the layer names.",
            advanced=True,
        )
    b.input(
        QgsProcessingParameterNumber(
            "FUSION_WINDOW",
            "Fusion: ESTARFM window half-width (fine pixels)",
            QgsProcessingParameterNumber.Type.Integer,
            25,
            False,
            1,
        ),
        "25 (a 51 × 51 window) in the study; smaller is faster.",
        advanced=True,
    )

    fusion = b.child(
        "fusion",
        "mineeco:estarfm_series",
        "Optional: fused NDVI series (ESTARFM)",
        0,
        RUN=switch("RUN_FUSION"),
        FINE=param("FUSION_FINE"),
        COARSE=param("FUSION_COARSE"),
        BASE_DATES=param("FUSION_BASE_DATES"),
        SERIES=param("FUSION_SERIES"),
        SERIES_DATES=param("FUSION_SERIES_DATES"),
        WINDOW=param("FUSION_WINDOW"),
        VALID_MIN=-1.0,
        VALID_MAX=1.0,
    )
    b.output(fusion, "OUTPUT_FOLDER", "FUSED_FOLDER", "Fused NDVI series (fused_<date>.tif)")
    npp = b.child(
        "casa",
        "mineeco:casa_npp_years",
        "CASA NPP per year and its mean",
        0,
        NDVI=[param("NDVI"), out(fusion, "LAYERS")],
        DATES=param("NDVI_DATES"),
        YEARS=param("NPP_YEARS"),
        METHOD=param("COMPOSITE"),
        TEMPERATURE=param("TEMPERATURE"),
        PRECIPITATION=param("PRECIPITATION"),
        SOLAR=param("SOLAR"),
        SOLAR_UNIT=param("SOLAR_UNIT"),
        LANDCOVER=param("LANDCOVER"),
        TABLE=param("CASA_TABLE"),
    )
    b.output(npp, "OUTPUT", "NPP", "Annual NPP (gC/m²/yr)", mandatory=True)
    b.output(npp, "OUTPUT_TABLE", "NPP_YEARS_TABLE", "NPP per year")
    b.output(npp, "OUTPUT_FOLDER", "NPP_FOLDER", "NPP and monthly NDVI per year (npp_<year>.tif)")
    soils = b.child(
        "soil",
        "mineeco:kriging_fields",
        "Kriged soil properties",
        1,
        INPUT=param("SOIL_POINTS"),
        FIELDS=param("SOIL_FIELDS"),
        REFERENCE=out(npp),
    )
    b.output(soils, "OUTPUT_FOLDER", "SOIL_FOLDER", "Kriged soil properties (<field>.tif)")
    b.output(soils, "OUTPUT", "SOIL_KRIGING", "Variogram and cross-validation per property")
    ld = b.child(
        "degradation",
        "mineeco:composite_index",
        "Land degradation LD (Eq. 5)",
        1,
        INPUTS=param("DEGRADATION_INDICATORS"),
        TRENDS=param("DEGRADATION_TRENDS"),
        WEIGHTS=param("DEGRADATION_WEIGHTS"),
        WEIGHT_SOURCE=0,
    )
    b.output(ld, "OUTPUT", "LD", "Land degradation")
    drivers = [param("CLIMATE_DRIVERS"), out(soils, "LAYERS"), out(ld)]
    pearson = b.child(
        "pearson",
        "mineeco:pearson_correlation",
        "Pearson correlations",
        2,
        TARGET=out(npp),
        DRIVERS=drivers,
        POINTS=param("POINTS"),
        SEED=param("SEED"),
    )
    b.output(pearson, "OUTPUT", "PEARSON", "Pearson r, p, n per driver")
    lcc = b.child(
        "lcc",
        "mineeco:local_correlation_drivers",
        "Local correlation NPP–every driver",
        2,
        DRIVERS=drivers,
        TARGET=out(npp),
        WINDOW=param("WINDOW"),
    )
    b.output(lcc, "OUTPUT", "LCC_SHARES", "Correlation area shares per driver")
    b.output(lcc, "OUTPUT_FOLDER", "LCC_FOLDER", "Correlation maps per driver (<driver>.tif)")
    rf = b.child(
        "rf",
        "mineeco:rf_driver_contribution",
        "Random-forest contributions",
        3,
        TARGET=out(npp),
        DRIVERS=drivers,
        CATEGORIES=param("CATEGORIES"),
        POINTS=param("POINTS"),
        SEED=param("SEED"),
        TREES=param("TREES"),
    )
    for output, name, label in (
        ("OUTPUT_IMPORTANCE", "IMPORTANCE", "Driver importance"),
        ("OUTPUT_RELATIVE", "RELATIVE", "Relative contributions"),
        ("OUTPUT_RGB", "RGB", "Contribution RGB"),
        ("OUTPUT_DOMINANT", "DOMINANT", "Dominant drivers"),
        ("OUTPUT_AREAS", "DOMINANT_AREAS", "Dominant-driver areas"),
    ):
        b.output(rf, output, name, label, mandatory=name in ("RGB", "DOMINANT"))
    report = b.child(
        "report",
        "mineeco:html_report",
        "HTML report",
        4,
        TITLE="Drivers of vegetation NPP",
        NPP=out(npp),
        NPP_YEARS_TABLE=out(npp, "OUTPUT_TABLE"),
        CORRELATION=[out(lcc, "LAYERS")],
        CORRELATION_NAMES=out(lcc, "NAMES"),
        IMPORTANCE=out(rf, "OUTPUT_IMPORTANCE"),
        RGB=out(rf, "OUTPUT_RGB"),
        DOMINANT=out(rf, "OUTPUT_DOMINANT"),
        OTHER_RASTERS=[out(ld), out(soils, "LAYERS")],
    )
    b.output(report, "OUTPUT", "REPORT", "HTML report")
    return b


def main(argv: list[str] | None = None) -> int:
    """Write the models; with --check, build them into a temporary folder and exit 1 when a
    shipped .model3 differs from what the code builds (a model not rebuilt after a change)."""
    import tempfile

    check = "--check" in (sys.argv[1:] if argv is None else argv)
    app, provider = start_qgis()
    stale = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) if check else MODELS
        folder.mkdir(exist_ok=True)
        for build in (resilience_evaluation, npp_drivers):
            builder = build()
            path = folder / f"{builder.model.name()}.model3"
            builder.save(path)
            if not check:
                print(f"wrote {path.relative_to(REPO)}")
            elif path.read_bytes() != (MODELS / path.name).read_bytes():
                stale.append(path.name)
    del provider
    app.exitQgis()
    if stale:
        print(f"not what the code builds: {', '.join(stale)} (run scripts/build_models.py)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

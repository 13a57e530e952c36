"""One step, many layers: the NPP-drivers study kriges several soil properties onto one grid
and maps the location-specific correlation of NPP with every driver (its Figure 3). A graphical
model cannot repeat a step a variable number of times, so these two algorithms do the repeating:
each runs the single-layer algorithm ('Ordinary kriging', 'Local (moving-window)
correlation') once per field or driver, writes the results into a folder under the field's or
driver's name and returns the list of layers for the next steps."""

from __future__ import annotations

import os
import re

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFolderDestination,
)

from .. import compat
from ..core import kriging as K
from .base import MineEcoAlgorithm
from .drivers import unique_names
from .kriging import VARIOGRAM_CHOICES


def file_stem(name: str) -> str:
    """A field or layer name as a file name: characters other than letters, digits, '.', '-'
    and '_' become '_'."""
    return re.sub(r"[^\w.-]", "_", name.strip(), flags=re.UNICODE) or "_"


class BatchAlgorithm(MineEcoAlgorithm):
    """Runs a single-layer algorithm once per item (field, driver) into OUTPUT_FOLDER and
    lists the files in LAYERS, the items in NAMES and a row per item in OUTPUT."""

    def add_batch_outputs(self, folder, table, layers_label, names_label):
        """OUTPUT_NODATA_VALUE, OUTPUT_FOLDER and OUTPUT ((label, help) each), LAYERS and
        NAMES."""
        self.add_output_nodata()
        self.add(
            QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", self.tr(folder[0])), folder[1]
        )
        self.add_output_table("OUTPUT", table[0], table[1], side=True)
        self.addOutput(QgsProcessingOutputMultipleLayers("LAYERS", self.tr(layers_label)))
        self.addOutput(QgsProcessingOutputString("NAMES", self.tr(names_label)))

    def folder(self, parameters, context) -> str:
        folder = self.destination(parameters, "OUTPUT_FOLDER", context)
        os.makedirs(folder, exist_ok=True)
        return folder

    @staticmethod
    def run_each(algorithm_id, runs, context, feedback, what):
        """Runs ``algorithm_id`` as a child for each (item name, child parameters, log line)
        of ``runs``, one step of the progress each; a child's error names the item (``what``,
        e.g. "FIELDS: field"), and cancelling stops before the next child. Yields (item name,
        child results)."""
        import processing

        steps = QgsProcessingMultiStepFeedback(len(runs), feedback)
        for step, (name, child, line) in enumerate(runs):
            steps.setCurrentStep(step)
            if feedback.isCanceled():
                raise QgsProcessingException("Cancelled: no output was written.")
            feedback.pushInfo(line)
            try:
                result = processing.run(
                    algorithm_id, child, context=context, feedback=steps, is_child_algorithm=True
                )
            except QgsProcessingException as error:
                raise QgsProcessingException(f"{what} {name}: {error}") from None
            yield name, result

    def batch_results(self, parameters, context, folder, written, names, columns, rows):
        results = {"OUTPUT_FOLDER": folder, "LAYERS": written, "NAMES": ",".join(names)}
        table = self.write_table(parameters, "OUTPUT", context, columns, rows)
        if table:
            results["OUTPUT"] = table
        return results


class KrigingFields(BatchAlgorithm):
    algorithm_id = "kriging_fields"
    display_name = "Ordinary kriging of several fields"
    group_key = "productivity"
    summary = (
        "Runs 'Ordinary kriging' once for every field in FIELDS (e.g. the NPP-drivers study's "
        "seven soil properties CF, SOC, TN, AP, AK, pH and BD), each with its own fitted "
        "variogram, all on the REFERENCE grid. Each estimate is written as <field>.tif in the "
        "output folder (so its layer name is the field's: the driver name in 'Pearson "
        "correlation' and 'Random-forest driver contribution'); LAYERS lists them in the order "
        "of FIELDS, for the next steps of a model."
    )
    formula = "For each field f of FIELDS: <folder>/<f>.tif = kriging(INPUT, f, REFERENCE)."
    nodata_rule = "As 'Ordinary kriging', for each field."
    references = (
        "Webster, R. & Oliver, M.A. (2007) Geostatistics for Environmental Scientists, 2nd ed. "
        "Wiley.",
        "The NPP-drivers study: §2.2.3 (soil properties of 117 samples kriged to 30 m).",
    )

    def initAlgorithm(self, config=None):
        self.add(
            QgsProcessingParameterFeatureSource(
                "INPUT", self.tr("Sample points"), [QgsProcessing.SourceType.TypeVectorPoint]
            ),
            "Point layer of the samples; reprojected to the REFERENCE grid's CRS.",
        )
        self.add(
            QgsProcessingParameterField(
                "FIELDS",
                self.tr("Fields to krige"),
                parentLayerParameterName="INPUT",
                type=QgsProcessingParameterField.DataType.Numeric,
                allowMultiple=True,
            ),
            "One or more numeric fields; each is kriged on its own (own variogram).",
        )
        self.add_raster(
            "REFERENCE",
            "Reference grid",
            "Raster whose extent, cell size and CRS the outputs take; its NoData cells stay "
            "NoData.",
        )
        self.add_enum(
            "VARIOGRAM",
            "Variogram model",
            VARIOGRAM_CHOICES,
            0,
            "As 'Ordinary kriging': auto keeps, per field, the model with the lowest "
            "leave-one-out RMSE.",
        )
        self.add_number(
            "NEIGHBOURS",
            "Nearest points per estimate (0: all)",
            K.DEFAULT_NEIGHBOURS,
            "As 'Ordinary kriging' NEIGHBOURS.",
            minimum=0,
            integer=True,
            advanced=True,
        )
        self.add_number(
            "MIN_POINTS",
            "Minimum number of points",
            10,
            "As 'Ordinary kriging' MIN_POINTS: a field with fewer valid points is an error "
            "naming it.",
            minimum=2,
            integer=True,
            advanced=True,
        )
        self.add_batch_outputs(
            (
                "Folder of the kriged rasters",
                "<field>.tif per field (float32, in the field's units).",
            ),
            (
                "Variogram and cross-validation per field",
                "field, model, points, cv_rmse, cv_r, file: one row per field.",
            ),
            "Kriged rasters",
            "Field names, in order",
        )

    def fields(self, parameters, context, source=None) -> list[str]:
        fields = [f for f in compat.parameter_strings(self, parameters, "FIELDS", context) if f]
        if not fields:
            raise QgsProcessingException("FIELDS: no field given; choose one or more")
        repeated = sorted({f for f in fields if fields.count(f) > 1})
        if repeated:
            raise QgsProcessingException(f"FIELDS: {', '.join(repeated)} given more than once")
        stems = [file_stem(f).lower() for f in fields]
        clash = sorted({f for f, s in zip(fields, stems, strict=True) if stems.count(s) > 1})
        if clash:
            raise QgsProcessingException(
                f"FIELDS: {', '.join(clash)} would share a file name in OUTPUT_FOLDER"
            )
        if source is not None:
            names = source.fields().names()
            missing = [f for f in fields if f not in names]
            if missing:
                raise QgsProcessingException(
                    f"FIELDS: {', '.join(missing)} not field(s) of INPUT ({', '.join(names)})"
                )
        return fields

    def folder_files(self, name, folder, parameters, context) -> list[str]:
        fields = self.fields(parameters, context)
        return [os.path.join(folder, f"{file_stem(f)}.tif") for f in fields]

    def process(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, "INPUT", context)
        if source is None:
            raise QgsProcessingException("INPUT: no point layer given or it cannot be loaded")
        fields = self.fields(parameters, context, source)
        folder = self.folder(parameters, context)
        shared = {
            "INPUT": parameters["INPUT"],
            "REFERENCE": parameters["REFERENCE"],
            "VARIOGRAM": self.parameterAsEnum(parameters, "VARIOGRAM", context),
            "NEIGHBOURS": self.parameterAsInt(parameters, "NEIGHBOURS", context),
            "MIN_POINTS": self.parameterAsInt(parameters, "MIN_POINTS", context),
            "OUTPUT_NODATA_VALUE": self.parameterAsDouble(
                parameters, "OUTPUT_NODATA_VALUE", context
            ),
        }
        paths = {name: os.path.join(folder, f"{file_stem(name)}.tif") for name in fields}
        runs = [
            (
                name,
                {**shared, "FIELD": name, "OUTPUT": paths[name]},
                f"Field {name} → {paths[name]}",
            )
            for name in fields
        ]
        rows = []
        children = self.run_each("mineeco:kriging", runs, context, feedback, "FIELDS: field")
        for name, result in children:
            rows.append(
                (
                    name,
                    result["MODEL"],
                    int(result["POINTS_USED"]),
                    float(result["CV_RMSE"]),
                    float(result["CV_R"]),
                    os.path.basename(paths[name]),
                )
            )
        columns = [
            ("field", str),
            ("model", str),
            ("points", int),
            ("cv_rmse", float),
            ("cv_r", float),
            ("file", str),
        ]
        return self.batch_results(
            parameters, context, folder, list(paths.values()), fields, columns, rows
        )


class LocalCorrelationDrivers(BatchAlgorithm):
    algorithm_id = "local_correlation_drivers"
    display_name = "Local correlation with every driver"
    group_key = "drivers"
    summary = (
        "Runs 'Local (moving-window) correlation' of TARGET (e.g. NPP) with every layer of "
        "DRIVERS (e.g. the NPP-drivers study's twelve: MAT, MAP, MAS, MAE, seven soil "
        "properties and LD), as the study's Figure 3: one class map per driver, <driver>.tif "
        "(1 significant positive, 2 significant negative, 3 insignificant) with its local r "
        "beside it (<driver>_r.tif), and one table with a row of area shares per driver. "
        "Driver names are the layer names (a repeated name gets _2, _3, …); LAYERS lists the "
        "class maps in the order of DRIVERS and NAMES their names, for 'HTML report' "
        "CORRELATION and CORRELATION_NAMES."
    )
    formula = (
        "For each driver X of DRIVERS: r, class = local_correlation(X, TARGET, WINDOW, ALPHA); "
        "share_positive = 100 · pixels of class 1 / pixels of classes 1–3 (likewise 2, 3)."
    )
    nodata_rule = "As 'Local (moving-window) correlation', for each driver; class NoData is 0."
    references = (
        "The NPP-drivers study: §2.4.1 and Figure 3 (location-specific correlation of NPP with "
        "each driver, shares of positive, negative and insignificant correlation).",
    )

    def initAlgorithm(self, config=None):
        self.add_rasters(
            "DRIVERS",
            "Drivers",
            "One raster per driver (band 1 of each); each driver's grid is its maps' grid.",
        )
        self.add_raster(
            "TARGET", "Target (e.g. NPP)", "Band 1; resampled onto each driver's grid (bilinear)."
        )
        self.add_window(
            default=11,
            help_text="Side of the square moving window in pixels (odd), as 'Local (moving-"
            "window) correlation'.",
        )
        self.add_number(
            "ALPHA",
            "Significance level α",
            0.05,
            "p < α is significant (the study: 0.05).",
            minimum=1e-12,
            maximum=0.5,
        )
        self.add_number(
            "MIN_PAIRS",
            "Minimum number of valid pairs",
            3,
            "Windows with fewer valid pairs are NoData.",
            minimum=3,
            integer=True,
            advanced=True,
        )
        self.add_batch_outputs(
            (
                "Folder of the correlation maps",
                "<driver>.tif (class, uint8, styled) and <driver>_r.tif (local r, float32) per "
                "driver.",
            ),
            (
                "Area shares per driver",
                "driver, share_positive, share_negative, share_insignificant (% of the pixels "
                "with a class), pixels, file: one row per driver (Figure 3's insets).",
            ),
            "Class maps",
            "Driver names, in order",
        )

    def names(self, parameters, context) -> list[str]:
        layers = self.parameterAsLayerList(parameters, "DRIVERS", context)
        if not layers:
            raise QgsProcessingException("DRIVERS: no layer given; give one raster per driver")
        names = unique_names(layer.name() for layer in layers)
        stems = [file_stem(n).lower() for n in names]
        taken = set(stems) & {f"{s}_r" for s in stems}
        if len(set(stems)) != len(stems) or taken:
            raise QgsProcessingException(
                f"DRIVERS: the layer names {', '.join(names)} would share file names in "
                "OUTPUT_FOLDER; rename the layers"
            )
        return names

    def folder_files(self, name, folder, parameters, context) -> list[str]:
        names = self.names(parameters, context)
        return [
            os.path.join(folder, f"{file_stem(n)}{suffix}.tif")
            for n in names
            for suffix in ("", "_r")
        ]

    def process(self, parameters, context, feedback):
        layers = self.parameterAsLayerList(parameters, "DRIVERS", context)
        names = self.names(parameters, context)
        window = self.window_size(parameters, "WINDOW", context)
        alpha = self.parameterAsDouble(parameters, "ALPHA", context)
        if not 0.0 < alpha < 1.0:
            raise QgsProcessingException(f"ALPHA: must lie in (0, 1), got {alpha}")
        target = self.parameterAsRasterLayer(parameters, "TARGET", context)
        if target is None:
            raise QgsProcessingException("TARGET: no raster given or it cannot be loaded")
        folder = self.folder(parameters, context)
        shared = {
            "INPUT_Y": target.source(),
            "WINDOW": window,
            "ALPHA": alpha,
            "MIN_PAIRS": self.parameterAsInt(parameters, "MIN_PAIRS", context),
            "OUTPUT_NODATA_VALUE": self.parameterAsDouble(
                parameters, "OUTPUT_NODATA_VALUE", context
            ),
        }
        stems = {name: os.path.join(folder, file_stem(name)) for name in names}
        runs = [
            (
                name,
                {
                    **shared,
                    "INPUT_X": layer.source(),
                    "OUTPUT_R": f"{stems[name]}_r.tif",
                    "OUTPUT_CLASS": f"{stems[name]}.tif",
                },
                f"Driver {name} → {stems[name]}.tif",
            )
            for layer, name in zip(layers, names, strict=True)
        ]
        rows = []
        children = self.run_each(
            "mineeco:local_correlation", runs, context, feedback, "DRIVERS: driver"
        )
        for name, result in children:
            shares = [result[key] for key in ("SHARE_POSITIVE", "SHARE_NEGATIVE",
                                              "SHARE_INSIGNIFICANT")]  # fmt: skip
            rows.append(
                (
                    name,
                    *[float(s) if s == s else None for s in shares],
                    int(result["PIXELS"]),
                    os.path.basename(f"{stems[name]}.tif"),
                )
            )
        columns = [
            ("driver", str),
            ("share_positive", float),
            ("share_negative", float),
            ("share_insignificant", float),
            ("pixels", int),
            ("file", str),
        ]
        written = [f"{stems[name]}.tif" for name in names]
        return self.batch_results(parameters, context, folder, written, names, columns, rows)

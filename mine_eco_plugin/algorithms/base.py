"""The base of every Mine Eco algorithm: identity, help, parameter helpers and the bridge to
the raster engine (progress, cancellation, the run's memory budget, error messages that name
the parameter).

An algorithm subclass declares its id, name, group and help texts as class attributes, adds
its parameters with the helpers below and implements ``process``. It never reads a band itself:
it describes inputs and outputs and hands a kernel from ``core`` to the engine through
``self.run_blocks`` / ``self.scan`` (and the other engine helpers), which pass the budget.
Whether an optional value was given is decided here once (``is_unset``, ``given``,
``optional_double``, ``optional_int``).
"""

from __future__ import annotations

import dataclasses
import html
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsFields,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterMatrix,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingUtils,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication

from .. import compat, engine, layer_styles
from ..core.tables import TableError, matrix_rows, parse_csv_table
from ..core.windows import check_window
from ..engine import (
    Cancelled,
    EngineError,
    Monitor,
    RasterSource,
    RasterTarget,
    run_transaction,
)
from ..provider_info import (
    GROUPS,
    MEMORY_SETTING,
    icon,
    plugin_version,
    resource,
    study_citations,
)
from .outputs import Interrupted, OutputChecks, interruptible

OUTPUT_NODATA = -9999.0

#: How every algorithm reads its raster inputs (the engine's rules), shown under NoData.
INPUT_RULE = (
    "Grids: the output takes the grid of the first raster input (or of the reference layer) "
    "as stored, south-up or east-to-west grids included; every other input is read onto it "
    "(mirrored, or resampled when its pixels differ). A rotated grid cannot be the output grid "
    "(an error names it); a rotated input in the same CRS is resampled. Values: ±Inf reads as "
    "NoData, and so does −32768 in an int16 raster that declares no NoData value; both are "
    "reported with their counts as warnings."
)


class ChecksWithoutSideFiles:
    """Raster input definitions whose check loads the layers without a GDAL side file beside
    them (engine.side_files): qgis_process checks every parameter so before the algorithm's
    own checks (``MineEcoAlgorithm.checkParameterValues`` covers processing.run and the
    dialogs). ``clone`` keeps the class (QGIS's own would give the plain parameter)."""

    def checkValueIsAcceptable(self, value, context=None):
        with engine.without_side_files():
            return super().checkValueIsAcceptable(value, context)

    def clone(self):
        copy = type(self)(self.name())
        copy.fromVariantMap(self.toVariantMap())  # every property, help included
        return copy


class RasterLayerParameter(ChecksWithoutSideFiles, QgsProcessingParameterRasterLayer):
    """A raster input (see ``ChecksWithoutSideFiles``)."""


class MultipleRastersParameter(ChecksWithoutSideFiles, QgsProcessingParameterMultipleLayers):
    """Several raster inputs (see ``ChecksWithoutSideFiles``)."""


_ABBREVIATIONS = ("Eq", "Eqs", "al", "e.g", "i.e", "cf", "Fig", "No", "vs", "approx")


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (not cut at "Eq. 15", "et al." or "e.g."; a leading
    question keeps its answer)."""
    text = " ".join(text.split())
    end = len(text)
    for match in re.finditer(r"[.?!](?=\s+[A-Z0-9(‘“])", text):
        before = text[: match.start()]
        word = before.rsplit(" ", 1)[-1].lstrip("(")
        if word in _ABBREVIATIONS or before.count("(") > before.count(")"):
            continue
        if match.group(0) == "?":
            continue  # "Where is the index heading? For …": keep the answer
        end = match.end()
        break
    return text[:end]


#: The section titles of ``MineEcoAlgorithm.shortHelpString``.
HELP_SECTIONS = ("Formula", "Parameters", "NoData", "References", "Example (command line)")


def help_html(text: str) -> str:
    """The help text as HTML for the Help button's page: section titles as headings, "•"
    lines as lists, the command-line example as code."""
    parts, items, section = [], [], ""

    def close_list():
        if items:
            parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.replace("＜", "<").splitlines():
        if not line.strip():
            continue
        if line in HELP_SECTIONS:
            close_list()
            section = line
            parts.append(f"<h3>{html.escape(line)}</h3>")
        elif line.startswith("• "):
            items.append(html.escape(line[2:]))
        else:
            close_list()
            body = html.escape(line)
            parts.append(f"<p><code>{body}</code></p>" if section.startswith("Example") else
                         f"<p>{body}</p>")  # fmt: skip
    close_list()
    return "".join(parts)


def help_page(algorithm) -> str:
    """Write ``algorithm``'s help as a local HTML page; return its file:// URL."""
    from qgis.PyQt.QtCore import QUrl

    folder = Path(tempfile.gettempdir()) / f"mineeco-help-{plugin_version()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{algorithm.algorithm_id}.html"
    title = html.escape(f"{algorithm.displayName()} — Mine Eco")
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.45}"
        "code{background:#f3f3f3}</style></head><body>"
        f"<h1>{html.escape(algorithm.displayName())}</h1>"
        f"<p>Mine Eco {html.escape(plugin_version())} · {html.escape(algorithm.group())} · "
        f"<code>mineeco:{html.escape(algorithm.algorithm_id)}</code></p>"
        f"{help_html(algorithm.shortHelpString())}</body></html>\n"
    )
    if not path.exists() or path.read_text(encoding="utf-8") != page:
        partial = folder / f".{path.name}.{os.getpid()}.partial"
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, path)
    return QUrl.fromLocalFile(str(path)).toString()


def is_null(value) -> bool:
    """None or a NULL ``QVariant``: what an unset optional value arrives as (an unset optional
    matrix arrives as [NULL])."""
    return value is None or (hasattr(value, "isNull") and value.isNull())


def is_unset(value) -> bool:
    """Whether a parameter value means "not given": null (``is_null``), or text that is empty
    or NULL. (A blank cell of a typed-in table is a cell, not an absent table.)"""
    return is_null(value) or (isinstance(value, str) and value.strip() in ("", "NULL"))


def file_band_count(layer) -> int:
    """The bands of the raster file behind ``layer``, as GDAL reads it. QGIS (3.40 with GDAL
    3.10) shows a raster that is not north-up through a warped view with an extra alpha band;
    the engine reads the file itself, so its own band count is the one that matters."""
    if layer.providerType() == "gdal":
        from osgeo import gdal

        try:
            dataset = gdal.Open(layer.source().split("|")[0])
        except RuntimeError:
            dataset = None
        if dataset is not None:
            return dataset.RasterCount
    return layer.bandCount()


class MineEcoAlgorithm(OutputChecks, QgsProcessingAlgorithm):
    """Subclasses set the class attributes and implement ``initAlgorithm`` and ``process``."""

    algorithm_id = ""
    display_name = ""
    group_key = ""
    #: One paragraph: what the algorithm computes and for what.
    summary = ""
    #: The formula(s), as HTML-safe text (one item per line).
    formula = ""
    #: How NoData travels through the algorithm.
    nodata_rule = "A pixel that is NoData in any input is NoData in every output."
    #: Sources of formulas and defaults.
    references: tuple[str, ...] = ()
    #: Multiband outputs shown as a colour composite when Processing loads them: output id →
    #: its (red, green, blue) bands. Other multiband outputs show band 1 (layer_styles).
    rgb_outputs: dict[str, tuple[int, int, int]] = {}

    def __init__(self):
        super().__init__()
        self._parameter_help: list[tuple[str, str]] = []

    # --- identity ---------------------------------------------------------------------------
    def name(self):
        return self.algorithm_id

    def displayName(self):
        return self.tr(self.display_name)

    def group(self):
        return self.tr(GROUPS[self.group_key])

    def groupId(self):
        return self.group_key

    def icon(self):
        return icon()

    def createInstance(self):
        return type(self)()

    def tr(self, text):
        return QCoreApplication.translate("MineEco", text)

    # --- help -------------------------------------------------------------------------------
    def shortHelpString(self):
        """The help, as text that reads well both in the dialog's help panel (QGIS shows each
        line as a paragraph) and in a terminal (``qgis_process help`` prints it as it is):
        section titles on their own lines, parameters as a list naming each by its label and
        once by its id, for the command line. No markup: a "<" is written as "＜", which
        the panel would otherwise take for the start of a tag."""
        labels = self.labels()
        lines = [self.with_labels(self.summary, labels)]
        if self.formula:
            lines += ["", "Formula"]
            lines += [self.with_labels(line, labels) for line in self.formula.strip().splitlines()]
        if self._parameter_help:
            lines += ["", "Parameters"]
            lines += [
                f"• {name} ({key}): {self.with_labels(text, labels)}"
                for key, name, text in self._parameter_help
            ]
        lines += ["", "NoData", self.with_labels(self.nodata_rule, labels), INPUT_RULE]
        references = self.cited_references()
        if references:
            lines += ["", "References", *(f"• {ref}" for ref in references)]
        lines += ["", "Example (command line)", self.command_line_example()]
        return "\n".join(line.replace("<", "＜") for line in lines)

    def cited_references(self) -> list[str]:
        """``references`` followed by the full citation of each study the help names."""
        texts = [self.summary, self.formula, self.nodata_rule, *self.references]
        texts += [text for *_, text in self._parameter_help]
        cited = [c for c in study_citations(*texts) if c not in self.references]
        return [*self.references, *cited]

    #: Short ids that are parameters, not words or acronyms, when written in capitals.
    _SHORT_IDS = frozenset({"BAND", "SEED", "RUN"})

    @classmethod
    def with_labels(cls, text: str, labels: dict[str, str]) -> str:
        """``text`` with each parameter id in it written as its label: ‘Label’. Ids of
        fewer than five letters without an underscore (NDVI, DEM, LST, R, K …) read as the
        acronyms they also are and are kept, except BAND, SEED and RUN."""

        def label(match):
            key = match.group(0)
            if key in labels and (len(key) >= 5 or "_" in key or key in cls._SHORT_IDS):
                return f"‘{labels[key]}’"
            return key

        # Not before "=": "MATRIX=1,3,0.333,1" is command-line syntax and keeps the id.
        return re.sub(r"\b[A-Z][A-Z0-9_]*\b(?!=)", label, text)

    def shortDescription(self):
        """The Toolbox tooltip: the summary's first sentence (two when the first is a
        question), parameter ids as labels."""
        text = self.with_labels(first_sentence(self.summary), self.labels())
        if len(text) > 240:
            text = text[:240].rsplit(" ", 1)[0] + " …"
        return self.tr(text)

    def labels(self) -> dict[str, str]:
        """Parameter and output ids → the labels the dialog and the results show."""
        found = {o.name(): o.description() for o in self.outputDefinitions()}
        found.update({p.name(): p.description() for p in self.parameterDefinitions()})
        return found

    def helpUrl(self):
        """The dialog's Help button: a local page with this algorithm's whole help (works
        offline; written to the temporary folder when asked for). Empty if it cannot be
        written (no Help button then)."""
        try:
            return help_page(self)
        except OSError:
            return ""

    def command_line_example(self) -> str:
        """A qgis_process call with every mandatory parameter (inputs as placeholders, numbers
        and choices at their defaults, outputs as files)."""
        words = [f"qgis_process run mineeco:{self.algorithm_id} --"]
        for parameter in self.parameterDefinitions():
            name = parameter.name()
            optional = parameter.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional
            if optional or name == "OUTPUT_NODATA_VALUE":
                continue
            kind = parameter.type()
            if parameter.isDestination():
                suffix = ".tif" if kind == "rasterDestination" else ".csv"
                if kind == "fileDestination":
                    suffix = ".html"
                value = f"{name.lower()}{suffix}"
            elif kind in ("raster", "multilayer"):
                value = f"{name.lower()}.tif"
            elif kind in ("source", "vector"):
                value = f"{name.lower()}.gpkg"
            elif parameter.defaultValue() is not None and parameter.defaultValue() != "":
                value = parameter.defaultValue()
                if isinstance(value, bool):
                    value = str(value).lower()
            else:
                value = "…"
            words.append(f"{name}={value}")
        return " ".join(words)

    # --- parameter helpers ------------------------------------------------------------------
    def add(self, parameter, help_text: str = "", advanced: bool = False):
        """Add a parameter and its help line (shown in the help panel and qgis_process help)."""
        if advanced:
            parameter.setFlags(
                parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced
            )
        if help_text:
            parameter.setHelp(help_text)
            self._parameter_help.append((parameter.name(), parameter.description(), help_text))
        self.addParameter(parameter)
        return parameter

    def add_raster(self, name, description, help_text="", optional=False):
        return self.add(
            RasterLayerParameter(name, self.tr(description), optional=optional),
            help_text,
        )

    def add_number(
        self,
        name,
        description,
        default=None,
        help_text="",
        *,
        minimum=None,
        maximum=None,
        integer=False,
        optional=False,
        advanced=False,
    ):
        kind = (
            QgsProcessingParameterNumber.Type.Integer
            if integer
            else QgsProcessingParameterNumber.Type.Double
        )
        parameter = QgsProcessingParameterNumber(
            name, self.tr(description), kind, default, optional
        )
        if minimum is not None:
            parameter.setMinimum(minimum)
        if maximum is not None:
            parameter.setMaximum(maximum)
        return self.add(parameter, help_text, advanced)

    def add_enum(self, name, description, options, default=0, help_text="", advanced=False):
        return self.add(
            QgsProcessingParameterEnum(
                name, self.tr(description), [self.tr(o) for o in options], False, default
            ),
            help_text,
            advanced,
        )

    def add_window(
        self,
        name="WINDOW",
        description="Window size (pixels, odd)",
        default=3,
        help_text="Side of the square moving window in pixels; odd, at least 1.",
    ):
        return self.add_number(name, description, default, help_text, minimum=1, integer=True)

    def window_size(self, parameters, name, context) -> int:
        """The window parameter as a positive odd int; an error naming it otherwise."""
        size = self.parameterAsInt(parameters, name, context)
        try:
            return check_window(size)
        except ValueError as error:
            raise QgsProcessingException(f"{name}: {error}") from None

    # --- values ---------------------------------------------------------------------------
    def given(self, parameters, name) -> bool:
        """Whether the user gave parameter ``name`` a value (``is_unset`` says what is not)."""
        return not is_unset(parameters.get(name))

    def optional_double(self, parameters, name, context) -> float | None:
        """The number given for ``name``, or None when it is not given."""
        if not self.given(parameters, name):
            return None
        return self.parameterAsDouble(parameters, name, context)

    def optional_int(self, parameters, name, context) -> int | None:
        """The whole number given for ``name``, or None when it is not given."""
        if not self.given(parameters, name):
            return None
        return self.parameterAsInt(parameters, name, context)

    def add_run_switch(self):
        """RUN, an advanced on/off switch: off, the algorithm computes nothing and returns no
        outputs (None) — how a graphical model makes this algorithm an optional step whose
        later steps (a report) still run."""
        return self.add(
            QgsProcessingParameterBoolean("RUN", self.tr("Run this step"), True),
            "Off: nothing is computed and every output is empty (for optional steps of "
            "graphical models, switched by a model input).",
            advanced=True,
        )

    def add_seed(self, name="SEED", default=42):
        return self.add_number(
            name,
            "Random seed",
            default,
            "Seed of the random generator: the same seed gives the same output.",
            minimum=0,
            integer=True,
        )

    def add_output_raster(self, name, description, help_text="", optional=False, side=False):
        """A raster output. ``side``: a side output — optional (a command line need not name
        it) yet created by default in the dialog, QGIS's convention for outputs beside the
        main one."""
        return self.add(
            QgsProcessingParameterRasterDestination(
                name,
                self.tr(description),
                optional=optional or side,
                createByDefault=side or not optional,
            ),
            help_text,
        )

    def add_output_nodata(self):
        return self.add_number(
            "OUTPUT_NODATA_VALUE",
            "Output NoData value",
            OUTPUT_NODATA,
            "Value written for NoData pixels in float outputs (default −9999); within the "
            "float32 range. Valid results equal to it would read as NoData: the run warns "
            "with their count.",
            advanced=True,
        )

    def add_mask_by_reference(self, help_text):
        """MASK_BY_REFERENCE: cells where the REFERENCE raster is NoData stay NoData."""
        return self.add(
            QgsProcessingParameterBoolean(
                "MASK_BY_REFERENCE",
                self.tr("Leave cells NoData where the reference is NoData"),
                True,
                optional=True,
            ),
            help_text,
        )

    def add_number_outputs(self, outputs):
        """A numeric output for each (name, description) pair of ``outputs``."""
        for name, description in outputs:
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(description)))

    def add_rasters(self, name, description, help_text="", optional=False):
        """Several raster layers (e.g. one per date, or the indicators of an index)."""
        return self.add(
            MultipleRastersParameter(
                name, self.tr(description), QgsProcessing.SourceType.TypeRaster, optional=optional
            ),
            help_text,
        )

    def add_table(self, name, description, columns, default_csv=None, help_text=""):
        """A lookup table given as a CSV file (``name``) or as a matrix (``name``_MATRIX) with
        the headers ``columns``; the matrix wins when both are given. ``default_csv`` is a file
        in resources/tables/ used when neither is given."""
        default = str(resource("tables", default_csv)) if default_csv else None
        self.add(
            QgsProcessingParameterFile(
                name,
                self.tr(f"{description} (CSV)"),
                QgsProcessingParameterFile.Behavior.File,
                "csv",
                default,
                optional=True,
            ),
            f"{help_text} CSV with the columns {', '.join(columns)}"
            + (f"; default: the shipped {default_csv}." if default_csv else "."),
        )
        self.add(
            QgsProcessingParameterMatrix(
                f"{name}_MATRIX",
                self.tr(f"{description} (table typed in)"),
                0,
                False,
                list(columns),
                None,
                optional=True,
            ),
            f"The same table typed in, one row per entry (columns {', '.join(columns)}); "
            f"used instead of {name} when given.",
            advanced=True,
        )

    def table_given(self, parameters, name, context) -> str | None:
        """Which parameter holds the user's own table: ``name``_MATRIX (which wins), ``name``,
        or None when neither is given (a shipped table is used)."""
        matrix = self.parameterAsMatrix(parameters, f"{name}_MATRIX", context)
        if any(not is_null(v) for v in matrix):
            return f"{name}_MATRIX"
        return name if self.parameterAsFile(parameters, name, context) else None

    def read_table(
        self, parameters, name, context, columns, numeric=(), fallback_csv=None
    ) -> list[dict]:
        """Rows of the table from ``name``_MATRIX or the CSV ``name``, else the shipped
        ``fallback_csv`` (resources/tables/); errors name the parameter."""
        # An unset optional matrix comes back as [NULL] (a null QVariant), not as [].
        matrix = [
            value
            for value in self.parameterAsMatrix(parameters, f"{name}_MATRIX", context)
            if not is_null(value)
        ]
        try:
            if matrix:
                return matrix_rows(matrix, columns, numeric)
            path = self.parameterAsFile(parameters, name, context)
            if not path and fallback_csv:
                path = str(resource("tables", fallback_csv))
            if not path:
                raise QgsProcessingException(f"{name}: no table given")
            try:
                with open(path, encoding="utf-8-sig") as handle:
                    text = handle.read()
            except OSError as error:
                raise QgsProcessingException(f"{name}: cannot be read ({error})") from None
            return parse_csv_table(text, columns, numeric)
        except TableError as error:
            source = f"{name}_MATRIX" if matrix else name
            raise QgsProcessingException(f"{source}: {error}") from None

    def add_output_table(self, name, description, help_text="", optional=False, side=False):
        """A table output: a feature sink without geometry, so the Modeler can chain it.
        ``side`` as for ``add_output_raster``."""
        return self.add(
            QgsProcessingParameterFeatureSink(
                name,
                self.tr(description),
                QgsProcessing.SourceType.TypeVector,
                optional=optional or side,
                createByDefault=side or not optional,
            ),
            help_text,
        )

    def write_table(self, parameters, name, context, columns, rows) -> str | None:
        """Write ``rows`` (sequences of values) to the sink ``name``; ``columns`` are
        (field name, python type) with type float, int or str. Returns the destination id."""
        fields = QgsFields()
        for column, kind in columns:
            fields.append(compat.field(column, kind))
        sink, destination = self.parameterAsSink(
            parameters,
            name,
            context,
            fields,
            QgsWkbTypes.Type.NoGeometry,
            QgsCoordinateReferenceSystem(),
        )
        if sink is None:
            return None
        for row in rows:
            feature = QgsFeature(fields)
            feature.setAttributes(
                [
                    None if value is None else kind(value)
                    for value, (_, kind) in zip(row, columns, strict=True)
                ]
            )
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        return destination

    # --- engine bridge ----------------------------------------------------------------------
    def raster_source(
        self, parameters, name, context, *, bands=None, band_count=None, resampling="bilinear"
    ) -> RasterSource | None:
        """The input layer as an engine source; None when an optional input is empty.

        ``band_count`` makes the layer's band count a requirement (an error names ``name``).
        """
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            if (
                self.parameterDefinition(name).flags()
                & QgsProcessingParameterDefinition.Flag.FlagOptional
            ):
                return None
            raise QgsProcessingException(f"{name}: no raster layer given or it cannot be loaded")
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                f"{name}: '{layer.name()}' is a {layer.providerType()} layer; a GDAL raster file "
                "is needed"
            )
        if band_count is not None and file_band_count(layer) != band_count:
            raise QgsProcessingException(
                f"{name}: '{layer.name()}' has {file_band_count(layer)} band(s); {band_count} "
                f"expected"
            )
        crs = layer.crs()
        crs_wkt = (
            crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED_GDAL) if crs.isValid() else None
        )
        return RasterSource(
            layer.source(),
            parameter=name,
            bands=tuple(bands) if bands else None,
            resampling=resampling,
            crs_wkt=crs_wkt,
        )

    def raster_sources(self, parameters, name, context, *, bands=(1,), resampling="bilinear"):
        """Every layer of a multiple-raster parameter as engine sources (GDAL files only)."""
        sources = []
        for index, layer in enumerate(self.parameterAsLayerList(parameters, name, context), 1):
            label = f"{name} (layer {index}, '{layer.name()}')"
            if layer.providerType() != "gdal":
                raise QgsProcessingException(f"{label}: a GDAL raster file is needed")
            if bands and max(bands) > file_band_count(layer):
                raise QgsProcessingException(
                    f"{label}: has {file_band_count(layer)} band(s); band {max(bands)} is needed"
                )
            crs = layer.crs()
            sources.append(
                RasterSource(
                    layer.source(),
                    parameter=label,
                    bands=tuple(bands) if bands else None,
                    resampling=resampling,
                    crs_wkt=crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED_GDAL)
                    if crs.isValid()
                    else None,
                )
            )
        return sources

    def monthly_sources(self, parameters, name, context, months=12, resampling="bilinear"):
        """``months`` single-band sources from either that many layers or one layer with that
        many bands (in calendar order)."""
        layers = self.parameterAsLayerList(parameters, name, context)
        if len(layers) == 1 and file_band_count(layers[0]) == months:
            whole = self.raster_sources(
                parameters, name, context, bands=None, resampling=resampling
            )[0]
            return [dataclasses.replace(whole, bands=(month,)) for month in range(1, months + 1)]
        if len(layers) == months:
            return self.raster_sources(parameters, name, context, resampling=resampling)
        counts = ", ".join(str(file_band_count(layer)) for layer in layers) or "none"
        raise QgsProcessingException(
            f"{name}: {months} monthly layers, or one layer of {months} bands, are needed; "
            f"got {len(layers)} layer(s) with band counts {counts}"
        )

    def raster_target(
        self,
        parameters,
        name,
        context,
        *,
        bands=1,
        dtype="float32",
        band_names=None,
        metadata=None,
        **options,
    ) -> RasterTarget | None:
        """The output as an engine target; None when an optional output was not requested."""
        path = self.destination(parameters, name, context)
        if not path:
            return None
        nodata = OUTPUT_NODATA
        if self.parameterDefinition("OUTPUT_NODATA_VALUE") is not None and dtype.startswith(
            "float"
        ):
            nodata = self.parameterAsDouble(parameters, "OUTPUT_NODATA_VALUE", context)
        if not dtype.startswith("float"):
            nodata = options.pop("nodata", None)
        tags = {"MINEECO_ALGORITHM": self.algorithm_id, "MINEECO_VERSION": plugin_version()}
        tags.update({k: str(v) for k, v in (metadata or {}).items()})
        layer_styles.attach(
            context,
            path,
            classes=options.get("classes"),
            qml=options.get("style"),
            rgb=self.rgb_outputs.get(name),
            dtype=dtype,
        )
        return RasterTarget(
            path,
            parameter=name,
            bands=bands,
            dtype=dtype,
            nodata=nodata,
            band_names=tuple(band_names) if band_names else None,
            metadata=tags,
            **options,
        )

    def class_target(self, parameters, name, context, classes, metadata=None):
        """A class raster output: uint8 codes, NoData 0, styled by ``classes``."""
        return self.raster_target(
            parameters,
            name,
            context,
            dtype="uint8",
            nodata=0,
            classes=classes,
            metadata=metadata,
        )

    def memory_mb(self) -> float:
        """The block memory budget: environment MINE_ECO_MEMORY_MB, else the provider setting."""
        if os.environ.get("MINE_ECO_MEMORY_MB"):
            text = os.environ["MINE_ECO_MEMORY_MB"]
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value <= 0:
                raise QgsProcessingException(
                    f"MINE_ECO_MEMORY_MB: '{text}' is not a positive number of megabytes "
                    "(environment variable)"
                )
            return value
        try:
            from processing.core.ProcessingConfig import ProcessingConfig

            value = ProcessingConfig.getSetting(MEMORY_SETTING)
            return float(value) if value else engine.DEFAULT_MEMORY_MB
        except (ImportError, TypeError, ValueError):
            return engine.DEFAULT_MEMORY_MB

    def run_blocks(self, kernel, sources, targets, **options) -> engine.Grid:
        """``engine.run_blocks`` within this run's memory budget (``memory_mb``)."""
        return engine.run_blocks(kernel, sources, targets, memory_mb=self.memory_mb(), **options)

    def scan(self, visit, sources, **options) -> engine.Grid:
        """``engine.scan`` within this run's memory budget."""
        return engine.scan(visit, sources, memory_mb=self.memory_mb(), **options)

    def write_arrays(self, produce, targets, grid, **options) -> engine.Grid:
        """``engine.write_arrays`` within this run's memory budget."""
        return engine.write_arrays(produce, targets, grid, memory_mb=self.memory_mb(), **options)

    def strips(self, sources, grid, **options):
        """``engine.strips`` within this run's memory budget."""
        return engine.strips(sources, grid, memory_mb=self.memory_mb(), **options)

    def band_summary(self, source, **options):
        """``engine.band_summary`` within this run's memory budget."""
        return engine.band_summary(source, memory_mb=self.memory_mb(), **options)

    def band_percentiles(self, source, percentiles, **options):
        """``engine.band_percentiles`` within this run's memory budget."""
        return engine.band_percentiles(source, percentiles, memory_mb=self.memory_mb(), **options)

    @staticmethod
    def monitor(feedback) -> Monitor:
        if feedback is None:
            return Monitor()
        return Monitor(feedback.setProgress, feedback.isCanceled, warn=feedback.pushWarning)

    def skipped(self, parameters, context) -> bool:
        """True when the RUN switch (``add_run_switch``) is off."""
        return self.parameterDefinition("RUN") is not None and not self.parameterAsBool(
            parameters, "RUN", context
        )

    def checkParameterValues(self, parameters, context):
        """A step switched off (RUN) needs no other values."""
        if self.skipped(parameters, context):
            return True, ""
        # Checking a raster input loads it as a layer: no side file beside it (see below).
        with engine.without_side_files():
            return super().checkParameterValues(parameters, context)

    # The input layers Processing loads for a run write no .aux.xml beside the user's files
    # (engine.side_files explains why QGIS would); only their source and CRS are used here, the
    # engine reads the files itself. The dialog and qgis_process load them first to compare
    # their CRSs (validateInputCrs), then to check them, then the algorithm asks for them.
    def validateInputCrs(self, parameters, context):
        with engine.without_side_files():
            return super().validateInputCrs(parameters, context)

    def parameterAsRasterLayer(self, parameters, name, context):
        with engine.without_side_files():
            return super().parameterAsRasterLayer(parameters, name, context)

    def parameterAsLayerList(self, parameters, name, context, *args):
        with engine.without_side_files():
            return super().parameterAsLayerList(parameters, name, context, *args)

    def parameterAsLayer(self, parameters, name, context, *args):
        with engine.without_side_files():
            return super().parameterAsLayer(parameters, name, context, *args)

    def processAlgorithm(self, parameters, context, feedback) -> dict[str, Any]:
        """Runs the subclass's ``process(parameters, context, feedback)`` and turns engine errors
        and cancellation into Processing exceptions."""
        if self.skipped(parameters, context):
            feedback.pushInfo("RUN is off: this step is skipped and its outputs are empty.")
            return {definition.name(): None for definition in self.outputDefinitions()}
        parameters = self.with_temporary_destinations(parameters, feedback)
        try:
            self.check_run(parameters, context)
            with interruptible(), run_transaction() as journal:
                self.claim_destinations(parameters, context, journal)
                results = self.process(parameters, context, feedback)
                for warning in journal.warnings:
                    feedback.pushWarning(warning)
                journal.warnings.clear()
            # numpy scalars reach qgis_process's JSON as '' in QGIS 3.22: plain numbers.
            return {
                key: value.item() if isinstance(value, np.generic) else value
                for key, value in results.items()
            }
        except EngineError as error:
            raise QgsProcessingException(str(error)) from None
        except Cancelled:
            raise QgsProcessingException(self.tr("Cancelled: no output was written.")) from None
        except Interrupted as signal_name:
            raise QgsProcessingException(
                f"Interrupted ({signal_name}): no output was written."
            ) from None

    def with_temporary_destinations(self, parameters, feedback) -> dict[str, Any]:
        """``parameters`` with a temporary file for every mandatory output that has no value.

        Only a graphical model run by qgis_process gets that far without one: QGIS 3.22 leaves
        a model output that the command line does not name without a value (processing.run
        and the dialogs refuse to run instead). The step then writes it where QGIS writes the
        outputs of a model's inner steps (deleted when QGIS ends), so that later steps (the
        HTML report) still get it.
        """
        missing = [
            definition
            for definition in self.destinationParameterDefinitions()
            if not definition.flags() & definition.FlagOptional
            and not self.given(parameters, definition.name())
        ]
        if not missing:
            return parameters
        filled = dict(parameters)
        for definition in missing:
            # A file (not a memory layer, which would not outlive a qgis_process run).
            filled[definition.name()] = QgsProcessingUtils.generateTempFilename(
                f"{definition.name()}.{definition.defaultFileExtension()}"
            )
        if feedback is not None:
            feedback.pushInfo(
                "Not given, written to temporary files: "
                + ", ".join(f"{d.name()} ({filled[d.name()]})" for d in missing)
            )
        return filled

    @staticmethod
    def outputs(targets: dict[str, RasterTarget | None]) -> dict[str, str]:
        """The results dictionary for raster outputs that were written."""
        return {name: t.path for name, t in targets.items() if t is not None}

"""Monthly solar radiation derived from latitude (FAO-56), for CASA where no measured grid
exists. The output is labelled as derived in its metadata."""

from __future__ import annotations

import calendar
import math

import numpy as np
from osgeo import osr
from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterString,
)

from .. import engine
from ..core import solar
from .base import MineEcoAlgorithm

METHODS = (
    "Clear-sky radiation, FAO-56 Eq. 37: (0.75 + 2·10⁻⁵·z)·Ra",
    "Ångström–Prescott, FAO-56 Eq. 35: (a + b·n/N)·Ra",
    "Extraterrestrial radiation Ra only",
)
MONTHS = tuple(calendar.month_name[1:])
#: Latitude is computed exactly every LATTICE-th pixel and interpolated bilinearly between.
LATTICE = 16


def latitudes(grid: engine.Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Latitude (degrees) of the pixel centres x (cols) × y (rows) of a block.

    Geographic grids need no transformation. Otherwise the centres are transformed to WGS 84
    (GDAL/PROJ) on a lattice of every ``LATTICE``-th row and column (plus the last) and
    interpolated bilinearly: map projections are smooth, so the error shrinks with the square
    of the pixel size: below 10⁻⁴° at 1 km pixels, 10⁻⁷° at 30 m (checked in the tests).
    """
    source = grid.srs()
    if source.IsGeographic():
        geographic = source.CloneGeogCS()
        geographic.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        if source.IsSame(geographic):
            return np.broadcast_to(y[:, None], (len(y), len(x))).copy()
    target = osr.SpatialReference()
    target.ImportFromEPSG(4326)
    target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(source, target)
    cols = np.unique(np.append(np.arange(0, len(x), LATTICE), len(x) - 1))
    rows = np.unique(np.append(np.arange(0, len(y), LATTICE), len(y) - 1))
    gx, gy = np.meshgrid(x[cols], y[rows])
    points = np.column_stack([gx.ravel(), gy.ravel()])
    coarse = np.asarray(transform.TransformPoints(points))[:, 1].reshape(len(rows), len(cols))
    # Bilinear interpolation: along columns, then along rows.
    along = np.stack([np.interp(np.arange(len(x)), cols, line) for line in coarse])
    return np.stack([np.interp(np.arange(len(y)), rows, along[:, c]) for c in range(len(x))], 1)


def check_grid_latitudes(grid: engine.Grid) -> None:
    """A geographic grid reaching beyond ±90° of latitude is an error naming REFERENCE (the
    FAO-56 formulas would give negative radiation there); projected grids are checked pixel by
    pixel as their latitudes are computed."""
    srs = grid.srs()
    if not srs.IsGeographic():
        return
    to_degrees = srs.GetAngularUnits() * 180.0 / math.pi
    _, ymin, _, ymax = grid.bounds
    x, y = grid.pixel_centres(engine.Window(0, 0, 1, grid.height))
    south, north = float(np.min(y)) * to_degrees, float(np.max(y)) * to_degrees
    if south < -90.0 or north > 90.0:
        raise QgsProcessingException(
            f"REFERENCE: its pixel centres reach latitude {south if south < -90 else north:g}°, "
            f"outside −90° … 90° (grid from {ymin * to_degrees:g}° to {ymax * to_degrees:g}°); "
            "clip it to the globe first"
        )


def parse_monthly(text: str, name: str, low: float, high: float) -> np.ndarray:
    """One value, or 12 comma-separated values, each in [low, high]."""
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise QgsProcessingException(f"{name}: '{text}' is not a list of numbers") from None
    if len(values) == 1:
        values *= 12
    if len(values) != 12:
        raise QgsProcessingException(f"{name}: one value or 12 (January to December) expected")
    if not all(low <= v <= high for v in values):
        raise QgsProcessingException(f"{name}: values must lie in [{low}, {high}]")
    return np.array(values)


class SolarRadiation(MineEcoAlgorithm):
    algorithm_id = "solar_radiation"
    display_name = "Solar radiation (derived from latitude)"
    group_key = "productivity"
    summary = (
        "DERIVED monthly global solar radiation (MJ·m⁻²·month⁻¹, 12 bands) on the grid of a "
        "reference raster, from each pixel's latitude and the calendar (FAO-56), for the SOLAR "
        "input of CASA when no measured radiation grid exists. Clear-sky radiation is an upper "
        "bound; Ångström–Prescott with the relative sunshine duration n/N of a nearby station "
        "is closer to the actual radiation. The output is marked DERIVED in its metadata: name "
        "it so wherever it is used. The reference grid must lie within ±90° of latitude (a "
        "geographic grid reaching beyond the poles is an error, not negative radiation)."
    )
    formula = (
        "Ra = (24·60/π)·Gsc·dr·[ωs·sinφ·sinδ + cosφ·cosδ·sinωs] per day (MJ·m⁻²·day⁻¹), "
        "Gsc = 0.0820 MJ·m⁻²·min⁻¹, dr = 1 + 0.033·cos(2πJ/365), δ = 0.409·sin(2πJ/365 − 1.39), "
        "ωs = arccos(−tanφ·tanδ) (FAO-56 Eq. 21–25); monthly Ra = Σ over the month's days\n"
        "Clear sky: Rso = (0.75 + 2·10⁻⁵·z)·Ra (Eq. 37), z elevation (m)\n"
        "Ångström–Prescott: Rs = (a + b·n/N)·Ra (Eq. 35), a = 0.25, b = 0.50 uncalibrated"
    )
    nodata_rule = (
        "Cells where the REFERENCE (band 1) is NoData stay NoData when MASK_BY_REFERENCE is "
        "checked; with ELEVATION, its NoData cells too."
    )
    references = (
        "Allen, R.G., Pereira, L.S., Raes, D. & Smith, M. (1998) Crop evapotranspiration: "
        "guidelines for computing crop water requirements. FAO Irrigation and Drainage Paper 56, "
        "chapter 3 (Eq. 21–25, 34, 35, 37).",
    )

    def initAlgorithm(self, config=None):
        self.add_raster(
            "REFERENCE", "Reference grid", "The output takes its grid; its values are not used."
        )
        self.add_enum("METHOD", "Method", METHODS, 0, "See the formulas.")
        self.add(
            QgsProcessingParameterString(
                "SUNSHINE", self.tr("Relative sunshine duration n/N"), "0.5", optional=True
            ),
            "Ångström–Prescott only: one value or 12 (January to December), 0–1, e.g. from a "
            "nearby station's sunshine hours divided by the day length.",
        )
        self.add_number(
            "ANGSTROM_A", "Ångström a", solar.ANGSTROM_A, "FAO-56: 0.25.", advanced=True
        )
        self.add_number(
            "ANGSTROM_B", "Ångström b", solar.ANGSTROM_B, "FAO-56: 0.50.", advanced=True
        )
        self.add_raster(
            "ELEVATION",
            "Elevation (m, optional; clear sky)",
            "DEM for the clear-sky factor; without it ELEVATION_VALUE is used.",
            optional=True,
        )
        self.add_number(
            "ELEVATION_VALUE", "Elevation without a DEM (m)", 0.0, "Clear sky only.", advanced=True
        )
        self.add_number(
            "YEAR",
            "Year (blank: 365-day year)",
            None,
            "Gives February 29 days in leap years.",
            optional=True,
            integer=True,
            minimum=1,
        )
        self.add_mask_by_reference("Unchecked: every cell of the grid gets a value.")
        self.add_output_nodata()
        self.add_output_raster(
            "OUTPUT",
            "Solar radiation, derived (MJ·m⁻²·month⁻¹, 12 bands)",
            "One band per month, January first.",
        )

    def process(self, parameters, context, feedback):
        method = self.parameterAsEnum(parameters, "METHOD", context)
        year = self.optional_int(parameters, "YEAR", context)
        a = self.parameterAsDouble(parameters, "ANGSTROM_A", context)
        b = self.parameterAsDouble(parameters, "ANGSTROM_B", context)
        sunshine = parse_monthly(
            self.parameterAsString(parameters, "SUNSHINE", context) or "0.5", "SUNSHINE", 0, 1
        )
        elevation_value = self.parameterAsDouble(parameters, "ELEVATION_VALUE", context)
        reference = self.raster_source(parameters, "REFERENCE", context, bands=(1,))
        grid = engine.resolve_grid([reference])
        check_grid_latitudes(grid)
        sources = [reference]
        elevation = None
        if method == 0:
            elevation = self.raster_source(parameters, "ELEVATION", context, bands=(1,))
            if elevation is not None:
                sources.append(elevation)
        mask = self.parameterAsBool(parameters, "MASK_BY_REFERENCE", context)
        description = {
            0: "clear-sky (0.75 + 2e-5*z)*Ra"
            + (" with z from ELEVATION" if elevation is not None else f", z = {elevation_value} m"),
            1: f"Angstrom-Prescott ({a} + {b}*n/N)*Ra, n/N = "
            + ",".join(f"{v:g}" for v in sunshine),
            2: "extraterrestrial Ra",
        }[method]
        metadata = {
            "DERIVED": "yes: computed from latitude and calendar (FAO-56), not measured",
            "UNITS": "MJ m-2 month-1",
            "METHOD": description,
            "YEAR": year if year is not None else "365-day year",
        }
        feedback.pushInfo(f"Solar radiation (DERIVED): {description}; year {metadata['YEAR']}")
        target = self.raster_target(
            parameters, "OUTPUT", context, bands=12, band_names=MONTHS, metadata=metadata
        )

        def kernel(window, block, dem=None):
            x, y = grid.pixel_centres(window)
            try:
                ra = solar.extraterrestrial_monthly(latitudes(grid, x, y), year)
            except ValueError as error:
                raise engine.EngineError("REFERENCE", f"a pixel centre's {error}") from None
            if method == 0:
                z = dem[0] if dem is not None else elevation_value
                out = solar.clear_sky(ra, z)
            elif method == 1:
                out = solar.angstrom_prescott(ra, sunshine[:, None, None], a, b)
            else:
                out = ra
            if mask:
                out = np.where(np.isnan(block[0]), np.nan, out)
            return out.astype(np.float32)

        self.run_blocks(
            kernel,
            sources,
            [target],
            grid=grid,
            monitor=self.monitor(feedback),
            work_factor=3,
            with_window=True,
        )
        return self.outputs({"OUTPUT": target})

"""Golden outputs: run one entry of tests/golden/golden_outputs.yaml and describe what it wrote.

An entry names an algorithm of the provider, a case, the input set its inputs come from and
extra parameters. Every output of the algorithm is written to a file (optional ones too, so
that each number an algorithm can produce is compared) and described by statistics:

* a raster: data type, size, geotransform, CRS and per band the NoData value, the count of
  NoData pixels, a hash of the valid-pixel mask, min / max / mean / sum of the valid pixels and
  two spatial moments (the mean of value × row and value × column, as fractions of the grid,
  so that pixels moved around are caught); an integer band also has a hash of its values and
  its value counts (up to ``MAX_COUNTS`` distinct values);
* a table (CSV): its rows (at most ``MAX_ROWS``; a longer one by its header, row count and
  per-column statistics);
* an HTML page: its tables (as report_page reads them), section ids and figure files;
* a PNG: its width and height (the pixels depend on the matplotlib version);
* a folder: each file by name, described as above.

Numbers and strings the algorithm returns besides its files (``outputNumber``,
``outputString``) are kept under ``values``. Floats compare to ``REL`` of the larger of the
value and the scale of what it measures (a band's largest |value|, × the pixel count for a
sum); counts, hashes and other text compare exactly.

Input sets (all written by existing builders, deterministically):

* ``desktop``: each algorithm's ``INPUTS.desktop`` declaration (tests/algorithms/declared.py)
  on tests/desktop/synthetic_inputs' layers, smooth 24 × 24 fields with the shipped land-cover
  codes and only the mandatory parameters (a user's first run);
* ``reliability``: each algorithm's ``INPUTS.valid`` declaration, 12 × 14 random fields;
* ``models``: the two workflow models on a 12 × 14 synthetic scene (the real Landsat 8 MTL of
  tests/data with made-up band files of realistic band ratios, ``landsat_scene``).
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

HERE = Path(__file__).resolve().parent

TABLE = HERE / "golden_outputs.yaml"
#: Relative tolerance of float comparisons (see the module docstring for the scale).
REL = 1e-6
#: A table longer than this is described by column statistics, not row by row.
MAX_ROWS = 40
#: An integer band with more distinct values than this keeps only its hash.
MAX_COUNTS = 60
#: Files of a folder output that are not compared (GDAL's side files).
IGNORED_SUFFIXES = (".aux.xml",)

#: The workflows: the two models, and resilience_scenes (the resilience model per scene), run on
#: the "models" input set.
MODELS = ("npp_drivers", "resilience_evaluation", "resilience_scenes")


# --- input sets ---------------------------------------------------------------------------------


def desktop_inputs(folder: Path) -> dict[str, dict]:
    from declared import desktop_inputs

    return desktop_inputs(str(folder))


def reliability_inputs(folder: Path, algorithm: str) -> dict:
    from bad_input import Data
    from declared import declared

    folder.mkdir(parents=True, exist_ok=True)
    return declared().valid[algorithm](Data(folder))


#: Top-of-atmosphere reflectance of Landsat 8 OLI bands 1-9 over dense vegetation and over
#: bare soil (typical spectra: low blue and red, high NIR for vegetation; rising to the SWIR for
#: soil; band 9, cirrus, near 0 in clear sky), mixed per pixel by its vegetation fraction.
VEGETATION_TOA = (0.10, 0.08, 0.08, 0.05, 0.32, 0.17, 0.08, 0.06, 0.002)
SOIL_TOA = (0.14, 0.15, 0.18, 0.22, 0.28, 0.35, 0.30, 0.19, 0.003)


def landsat_scene(d) -> dict:
    """The real Landsat 8 MTL of tests/data beside made-up band files with realistic band
    ratios: each pixel mixes the vegetation and bare-soil spectra by a random vegetation
    fraction (0.05-0.95), dimmed by a random terrain illumination (0.6-1: sunny and shaded
    slopes, what NDMVI's scene minima correct), with 2 % noise per band; its thermal bands
    give a brightness temperature of 293-308 K, warmer on bare soil; DN from the MTL's own
    factors (reflectance × sin(sun elevation), radiance from K1/K2). Unlike
    test_landsat_reflectance.landsat_scene (one DN field plus the band number, where NDVI and
    NDMVI are rounding noise around 0), the indices and what the models derive from them are
    meaningful numbers."""
    from bad_input import COLS, ROWS
    from rasters import write_raster
    from test_landsat_reflectance import L8_MTL, MTL_DIR

    text = (MTL_DIR / L8_MTL).read_text()

    def mtl(key: str) -> float:
        return float(re.search(rf"\b{key} = ([-0-9.E+]+)", text).group(1))

    rng = np.random.default_rng(3)
    vegetation = rng.uniform(0.05, 0.95, (ROWS, COLS))
    illumination = rng.uniform(0.6, 1.0, (ROWS, COLS))
    sun = math.sin(math.radians(mtl("SUN_ELEVATION")))
    for band in range(1, 12):
        name = re.search(rf'FILE_NAME_BAND_{band} = "([^"]+)"', text).group(1)
        noise = rng.normal(1.0, 0.02, (ROWS, COLS))
        if band <= 9:
            mix = vegetation * VEGETATION_TOA[band - 1] + (1 - vegetation) * SOIL_TOA[band - 1]
            value = (mix * illumination * noise * sun - mtl(f"REFLECTANCE_ADD_BAND_{band}")) / mtl(
                f"REFLECTANCE_MULT_BAND_{band}"
            )
        else:
            kelvin = 293.0 + 15.0 * (1 - vegetation) * noise
            k1, k2 = mtl(f"K1_CONSTANT_BAND_{band}"), mtl(f"K2_CONSTANT_BAND_{band}")
            radiance = k1 / np.expm1(k2 / kelvin)
            value = (radiance - mtl(f"RADIANCE_ADD_BAND_{band}")) / mtl(
                f"RADIANCE_MULT_BAND_{band}"
            )
        dn = np.clip(np.rint(value), 1, 65535).astype(np.uint16)
        write_raster(d.folder / name, dn, dtype=gdal.GDT_UInt16)
    (d.folder / L8_MTL).write_text(text)
    return {"MTL": str(d.folder / L8_MTL)}


def model_inputs(folder: Path, model: str) -> dict:
    """The models' mandatory inputs on the reliability tests' 12 × 14 grid."""
    from bad_input import COLS, ROWS, Data, indicators

    folder.mkdir(parents=True, exist_ok=True)
    d = Data(folder)
    if model == "resilience_evaluation":
        rng = np.random.default_rng(13)
        sand, clay = rng.uniform(30, 50, (ROWS, COLS)), rng.uniform(10, 20, (ROWS, COLS))
        return {
            **landsat_scene(d),
            "DEM": d.field(50, 150, seed=11),
            "LANDCOVER": d.landcover([12, 21, 31, 41, 51]),
            "PRECIPITATION": [d.field(20, 150, bands=12, seed=12)],
            "SAND": d.raster(sand),
            "SILT": d.raster(100 - sand - clay),
            "CLAY": d.raster(clay),
            "ORGANIC_CARBON": d.field(0.5, 2.5, seed=16),
            "WINDOW": 5,
        }
    if model == "resilience_scenes":
        return scenes_inputs(folder)
    if model != "npp_drivers":
        raise ValueError(f"no inputs for the model {model!r}")
    rng = np.random.default_rng(21)
    points = soil_points(folder, rng)
    month = np.arange(12)[:, None, None]
    season = np.sin(np.pi * (month + 0.5) / 12) * np.ones((12, ROWS, COLS))
    return {
        "NDVI": [d.raster(0.15 + 0.5 * season * rng.uniform(0.6, 1.0, (12, ROWS, COLS)))],
        "TEMPERATURE": [d.raster(-4 + 26 * season + rng.uniform(0, 2, (12, ROWS, COLS)))],
        "PRECIPITATION": [d.raster(20 + 110 * season * rng.uniform(0.6, 1.0, (12, ROWS, COLS)))],
        "SOLAR": [d.raster(150 + 500 * season + rng.uniform(0, 20, (12, ROWS, COLS)))],
        "SOIL_POINTS": points,
        "SOIL_FIELDS": ["om", "ph"],
        "CLIMATE_DRIVERS": [d.field(6, 12, seed=31), d.field(300, 700, seed=32)],
        "DEGRADATION_INDICATORS": indicators(d, 2),
        "DEGRADATION_TRENDS": "+,-",
        "DEGRADATION_WEIGHTS": "0.6,0.4",
        "CATEGORIES": "climate,climate,soil,soil,mining",
        "POINTS": 100,
        "TREES": 20,
        "WINDOW": 3,
    }


def scenes_inputs(folder: Path) -> dict:
    """resilience_scenes on two synthetic scenes of the resilience model's inputs: the real
    Landsat 8 MTL of 2013 (made-up bands) and a copy dated 2020 with other made-up bands
    (each band's DN + 400), one land cover for both years."""
    from bad_input import COLS, ROWS

    base = model_inputs(folder / "2013", "resilience_evaluation")
    first = Path(base.pop("MTL"))
    later = folder / "2020"
    later.mkdir(parents=True, exist_ok=True)
    text = first.read_text()
    for name in re.findall(r'FILE_NAME_BAND_\d+ = "([^"]+)"', text):
        dataset = gdal.Open(str(first.parent / name))
        dn = dataset.ReadAsArray().astype(np.int64) + 400
        copy = gdal.GetDriverByName("GTiff").CreateCopy(str(later / name), dataset)
        copy.GetRasterBand(1).WriteArray(dn.reshape(ROWS, COLS))
        copy = None
    (later / first.name).write_text(re.sub(r"DATE_ACQUIRED = \d{4}", "DATE_ACQUIRED = 2020", text))
    base["LANDCOVER"] = [base["LANDCOVER"]]
    return {**base, "SCENES": [str(first), str(later / first.name)]}


def soil_points(folder: Path, rng) -> str:
    """30 soil samples over the 12 × 14 grid with the numeric fields om and ph."""
    from bad_input import COLS, ORIGIN, ROWS

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    path = folder / "soil.gpkg"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("soil", srs, ogr.wkbPoint)
    for name in ("om", "ph"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTReal))
    for _ in range(30):
        x, y = rng.uniform(0, COLS * 30), rng.uniform(0, ROWS * 30)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("om", float(2 + 0.002 * x + rng.normal(0, 0.1)))
        feature.SetField("ph", float(6 + 0.001 * y + rng.normal(0, 0.05)))
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT({ORIGIN[0] + x} {ORIGIN[1] - y})"))
        layer.CreateFeature(feature)
    source = None
    return str(path)


class Inputs:
    """The input sets, written once into ``folder`` and handed out by (set, algorithm)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._desktop = None
        self._written: dict[tuple[str, str], dict] = {}

    def parameters(self, input_set: str, algorithm: str) -> dict:
        """The input parameters (a copy), the files written on first use."""
        key = (input_set, algorithm)
        if key not in self._written:
            self._written[key] = self._write(input_set, algorithm)
        return dict(self._written[key])

    def _write(self, input_set: str, algorithm: str) -> dict:
        if input_set == "desktop":
            if self._desktop is None:
                self._desktop = desktop_inputs(self.folder / "desktop")
            return self._desktop[algorithm]
        if input_set == "reliability":
            return reliability_inputs(self.folder / "reliability" / algorithm, algorithm)
        if input_set == "models":
            return model_inputs(self.folder / "models" / algorithm, algorithm)
        raise ValueError(f"unknown input set {input_set!r}")


# --- running an entry ---------------------------------------------------------------------------

SUFFIX = {"rasterDestination": ".tif", "sink": ".csv", "folderDestination": ""}


def destinations(algorithm_id: str) -> dict[str, str]:
    """Output name → definition of every destination parameter of ``mineeco:<algorithm_id>``."""
    algorithm = created(algorithm_id)
    # Clones: the definitions die with the instance.
    return {d.name(): d.clone() for d in algorithm.destinationParameterDefinitions()}


def created(algorithm_id: str):
    """A new instance of ``mineeco:<algorithm_id>`` (a model's registered instance lists no
    outputs until it is created)."""
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().createAlgorithmById(f"mineeco:{algorithm_id}")
    assert algorithm is not None, f"mineeco:{algorithm_id} is not registered"
    return algorithm


def output_file(definition, folder: Path) -> str:
    suffix = SUFFIX.get(definition.type())
    if suffix is None:
        suffix = f".{definition.defaultFileExtension()}"
    return str(folder / f"{definition.name().replace(':', '__')}{suffix}")


def run_entry(entry: dict, inputs: Inputs, out: Path) -> dict:
    """Run one entry; return its description (``outputs`` and ``values``)."""
    import processing
    from qgis.core import QgsProcessingFeedback

    algorithm_id = entry["algorithm"]
    parameters = inputs.parameters(entry["inputs"], algorithm_id)
    parameters.update(entry.get("parameters") or {})
    out.mkdir(parents=True, exist_ok=True)
    definitions = destinations(algorithm_id)
    # Every output is written, but those the entry leaves unset (e.g. one that needs an input
    # the case does not give).
    unset = set(entry.get("unset") or ())
    written = {name: output_file(d, out) for name, d in definitions.items() if name not in unset}
    parameters.update(written)
    feedback = QgsProcessingFeedback()
    try:
        results = processing.run(f"mineeco:{algorithm_id}", parameters, feedback=feedback)
    except Exception as error:
        raise AssertionError(f"{error}\n{feedback.textLog()[-3000:]}") from error
    from mine_eco_plugin.provider_info import plugin_version

    # The report names the plugin version beside each step ("mineeco:fvc 0.2.0"): a release
    # is not a change of results.
    folders = {
        "<out>": str(out),
        "<in>": str(inputs.folder),
        " <plugin version>": f" {plugin_version()}",
    }
    outputs = {}
    for name in sorted(written):
        path = written[name]
        if definitions[name].type() == "folderDestination":
            outputs[name] = describe_folder(Path(path))
        elif os.path.exists(path):
            outputs[name] = describe_file(Path(path))
        else:
            outputs[name] = None  # not written (an optional step that is off)
    values = {}
    algorithm = created(algorithm_id)
    for output in algorithm.outputDefinitions():
        if output.name() in written or output.type() not in ("outputNumber", "outputString"):
            continue
        values[output.name()] = plain_value(results.get(output.name()), folders)
    return scrub({"outputs": outputs, "values": values}, folders)


def scrub(description, folders: dict[str, str]):
    """``description`` with each of ``folders`` (the run's folders, the plugin version) in
    strings written as its token (<out>, <in>, <plugin version>)."""
    if isinstance(description, dict):
        return {key: scrub(value, folders) for key, value in description.items()}
    if isinstance(description, list):
        return [scrub(value, folders) for value in description]
    if isinstance(description, str):
        for token, folder in folders.items():
            description = description.replace(folder, token)
    return description


def plain_value(value, folders: dict[str, str]):
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    text = str(value)
    for token, folder in folders.items():
        text = text.replace(folder, token)
    return text


# --- describing files ---------------------------------------------------------------------------


def describe_file(path: Path):
    name = path.name.lower()
    if name.endswith((".tif", ".tiff")):
        return describe_raster(path)
    if name.endswith(".csv"):
        return describe_table(path)
    if name.endswith((".html", ".htm")):
        return describe_page(path)
    if name.endswith(".png"):
        dataset = gdal.Open(str(path))
        return {"kind": "png", "width": dataset.RasterXSize, "height": dataset.RasterYSize}
    return {"kind": "file", "bytes": path.stat().st_size > 0}


def describe_folder(path: Path) -> dict:
    if not path.is_dir():
        return {"kind": "folder", "files": None}
    files = {}
    for child in sorted(path.iterdir()):
        if child.name.endswith(IGNORED_SUFFIXES):
            continue
        if child.is_dir():
            files[child.name] = describe_folder(child)
        elif child.suffix.lower() in (".tif", ".tiff", ".csv", ".html", ".png"):
            files[child.name] = describe_file(child)
        else:
            files[child.name] = {"kind": "file"}
    return {"kind": "folder", "files": files}


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def describe_raster(path: Path) -> dict:
    dataset = gdal.Open(str(path))
    srs = dataset.GetSpatialRef()
    crs = None
    if srs is not None:
        srs.AutoIdentifyEPSG()
        code = srs.GetAuthorityCode(None)
        crs = f"EPSG:{code}" if code else srs.ExportToProj4()
    description = {
        "kind": "raster",
        "type": gdal.GetDataTypeName(dataset.GetRasterBand(1).DataType),
        "size": [dataset.RasterCount, dataset.RasterYSize, dataset.RasterXSize],
        "geotransform": [float(v) for v in dataset.GetGeoTransform()],
        "crs": crs,
        "bands": [],
    }
    rows, cols = np.mgrid[0 : dataset.RasterYSize, 0 : dataset.RasterXSize]
    rows = (rows + 0.5) / dataset.RasterYSize
    cols = (cols + 0.5) / dataset.RasterXSize
    for index in range(1, dataset.RasterCount + 1):
        band = dataset.GetRasterBand(index)
        values = band.ReadAsArray()
        nodata = band.GetNoDataValue()
        valid = np.ones(values.shape, bool)
        if nodata is not None:
            valid &= ~(np.isnan(values) if math.isnan(nodata) else values == nodata)
        if values.dtype.kind == "f":
            valid &= ~np.isnan(values)
        stats = {
            "nodata_value": None if nodata is None or math.isnan(nodata) else float(nodata),
            "nodata": int((~valid).sum()),
            "mask": _digest(np.packbits(valid)),
        }
        finite = valid & np.isfinite(values.astype(np.float64))
        if (valid & ~finite).any():
            stats["infinite"] = int((valid & ~finite).sum())
        data = values[finite].astype(np.float64)
        stats["valid"] = int(data.size)
        if data.size:
            stats.update(
                min=float(data.min()),
                max=float(data.max()),
                mean=float(data.mean()),
                sum=float(data.sum()),
                row_moment=float(data.dot(rows[finite]) / data.size),
                col_moment=float(data.dot(cols[finite]) / data.size),
            )
        if values.dtype.kind in "iu":
            stats["hash"] = _digest(np.where(valid, values, 0).astype("<i8"))
            distinct, counts = np.unique(values[valid], return_counts=True)
            if distinct.size <= MAX_COUNTS:
                stats["counts"] = {int(v): int(n) for v, n in zip(distinct, counts, strict=True)}
        description["bands"].append(stats)
    return description


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value


def describe_table(path: Path) -> dict:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return {"kind": "table", "header": None, "rows": []}
    header, body = rows[0], rows[1:]
    if len(body) <= MAX_ROWS:
        return {"kind": "table", "header": header, "rows": body}
    columns = {}
    for index, name in enumerate(header):
        cells = [row[index] if index < len(row) else "" for row in body]
        numbers = [_number(cell) for cell in cells]
        if all(n is not None for n in numbers):
            array = np.array(numbers, dtype=np.float64)
            finite = array[np.isfinite(array)]
            columns[name] = {
                "min": float(finite.min()) if finite.size else None,
                "max": float(finite.max()) if finite.size else None,
                "mean": float(finite.mean()) if finite.size else None,
                "sum": float(finite.sum()) if finite.size else None,
                "moment": float((finite * np.arange(1, finite.size + 1)).sum() / finite.size**2)
                if finite.size
                else None,
            }
        else:
            columns[name] = {"hash": _digest(np.array("\n".join(cells).encode()))}
    return {
        "kind": "table",
        "header": header,
        "row_count": len(body),
        "first_rows": body[:5],
        "columns": columns,
    }


def describe_page(path: Path) -> dict:
    from report_page import read_page

    page = read_page(path)
    tables = {
        table_id: [[cell[0].strip() for cell in row] for row in rows]
        for table_id, rows in sorted(page.tables.items())
    }
    figures = path.parent / f"{path.stem}_files"
    return {
        "kind": "page",
        "sections": sorted(page.sections),
        "tables": tables,
        "figures": sorted(p.name for p in figures.iterdir()) if figures.is_dir() else [],
    }


# --- comparing ----------------------------------------------------------------------------------


def close(expected: float, actual: float, scale: float = 0.0) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return expected == actual
    bound = REL * max(abs(expected), abs(actual), scale)
    return abs(expected - actual) <= bound or expected == actual


def compare(expected, actual, where: str = "", scale: float = 0.0) -> list[str]:
    """Mismatches between two descriptions, each as 'path: expected … got …'."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        problems = []
        band_scale = scale
        if "min" in expected and "max" in expected and "mean" in expected:
            band_scale = max(abs(expected["min"] or 0), abs(expected["max"] or 0))
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                problems.append(f"{where}.{key}: missing (expected {expected[key]!r})")
            elif key not in expected:
                problems.append(f"{where}.{key}: not in the table (got {actual[key]!r})")
            else:
                key_scale = band_scale
                if key == "sum":
                    key_scale = band_scale * max(1, _valid_count(expected))
                problems += compare(expected[key], actual[key], f"{where}.{key}", key_scale)
        return problems
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items expected, {len(actual)} got"]
        problems = []
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            problems += compare(e, a, f"{where}[{index}]", scale)
        return problems
    if isinstance(expected, float | int) and isinstance(actual, float | int):
        exact = isinstance(expected, bool | int) and isinstance(actual, bool | int)
        if exact:  # counts, flags: no tolerance
            return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]
        if close(float(expected), float(actual), scale):
            return []
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    if isinstance(expected, str) and isinstance(actual, str):
        if expected == actual or _close_texts(expected, actual):
            return []
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    if expected == actual:
        return []
    return [f"{where}: expected {expected!r}, got {actual!r}"]


#: A number in a text: its sign, digits, decimals and exponent.
NUMBER = re.compile(r"([-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)")


def _close_texts(expected: str, actual: str) -> bool:
    """Two texts that are the same but for their decimal numbers, each within the tolerance:
    a number, a comma-separated list of numbers (the WEIGHTS outputs), a report's
    "name = value" settings (a fitted slope's last digit differs between numpy versions).
    Integers (no decimals, no exponent) compare exactly."""
    parts_e, parts_a = NUMBER.split(expected), NUMBER.split(actual)
    if len(parts_e) != len(parts_a):
        return False
    # re.split with a group: text at even positions, numbers at odd ones.
    for index, (e, a) in enumerate(zip(parts_e, parts_a, strict=True)):
        if index % 2 == 0 or e == a:
            if e != a:
                return False
            continue
        if not any(mark in e + a for mark in ".eE") or not close(float(e), float(a)):
            return False
    return True


def _valid_count(stats: dict) -> int:
    return int(stats.get("valid", 0)) or 1

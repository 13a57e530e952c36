"""Demo step: weights, the composite (resilience-style) index, its classes and change over time.

``make demo`` calls ``run_step(run_algorithm, fetch, out_dir)``; standalone:

    .venv/bin/python scripts/demo_evaluation.py [OUT_DIR]     (default demo-output/evaluation)

Part 1 — L8-FL (Landsat 8, 2015-08-04, Florida; real scene). The resilience study's 17 indicators
need land cover, soil, climate, population and emission data that no sample data set holds for
one site; the five it derives from Landsat alone are computed by the earlier demo steps and used
here: FVC (C3, +), tasseled-cap wetness (C7, +), dryness NDBSI (C8, −), LST (C9, −; here the
emissivity-corrected brightness temperature, see the LST step) and albedo (C10, −). Missing
files are computed first (and named in the log).

* Subjective weights: 'AHP weights' on a pairwise matrix **derived** from the study's Table 2
  subjective weights of these five indicators (aᵢⱼ = wᵢ/wⱼ rounded to Saaty's 1–9 scale), so the
  judgements are the study's, not invented.
* Objective weights: mean square error (Eq. 16) from the layers; combined by Eq. 17.
* Index P (Eq. 20) and Table 3 classes with the area table; natural breaks for comparison.
  No cloud mask is applied: the scene's clouds (cold, no vegetation) come out as low classes.

Part 2 — MARBURG (Landsat 7 ETM+ 2001-07-30 and Landsat 8 OLI 2013-07-07, same 41 × 41 grid;
real scenes). NDVI (+), albedo (−) and NDBSI (−) per date, normalised with ranges taken jointly
over both dates ('Normalise' with JOINT), one set of AHP weights, P and classes per date, then
'Change analysis': ΔP with change classes, and the class transition matrix.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"
sys.path.insert(0, str(REPO_ROOT))

from mine_eco_plugin.core.evaluation_weights import load_preset  # noqa: E402

L8_FL_MTL = "LC80200392015216LGN00_MTL.txt"
MARBURG = {
    "2001": "LE07_L1TP_195025_20010730_20170204_01_T1_MTL.txt",
    "2013": "LC08_L1TP_195025_20130707_20170503_01_T1_MTL.txt",
}
TASSELED_CAP_OLI = 3  # tasseled_cap COEFFICIENTS: OLI (Baig et al. 2014)
LST_SENSOR_LANDSAT8_B10 = 0
#: Landsat indicators of Part 1: (file stem in out_dir, Table 2 code, trend).
INDICATORS = (
    ("fvc", "C3", "+"),
    ("wetness", "C7", "+"),
    ("ndbsi", "C8", "-"),
    ("lst", "C9", "-"),
    ("albedo", "C10", "-"),
)

RunAlgorithm = Callable[..., dict[str, Any]]


def saaty_matrix(weights) -> list[float]:
    """Pairwise matrix implied by weights: aᵢⱼ = wᵢ/wⱼ rounded to Saaty's scale 1…9 (and
    reciprocals), row by row."""
    weights = np.asarray(weights, dtype=np.float64)
    matrix = []
    for wi in weights:
        for wj in weights:
            ratio = wi / wj
            matrix.append(
                float(min(9, max(1, round(ratio))))
                if ratio >= 1
                else 1.0 / min(9, max(1, round(1 / ratio)))
            )
    return matrix


def matrix_text(values) -> str:
    return ",".join(f"{v:.6g}" for v in values)


def ensure_l8_indicators(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> list[str]:
    """Compute the Landsat indicators missing from out_dir; returns the names computed."""
    made = []

    def need(stem):
        return not (out_dir / f"{stem}.tif").exists()

    def path(stem):
        return str(out_dir / f"{stem}.tif")

    if need("reflectance") or need("thermal_radiance"):
        folder = fetch("l8-fl")
        run_algorithm(
            "landsat_reflectance",
            MTL=folder / L8_FL_MTL,
            OUTPUT=path("reflectance"),
            OUTPUT_THERMAL=path("thermal_radiance"),
        )
        made.append("reflectance")
    simple = {"ndvi": "ndvi", "ndmvi": "ndmvi", "albedo": "albedo", "ndbsi": "ndbsi"}
    for stem, algorithm in simple.items():
        if need(stem):
            run_algorithm(algorithm, INPUT=path("reflectance"), OUTPUT=path(stem))
            made.append(stem)
    if need("fvc"):
        run_algorithm("fvc", INPUT=path("ndmvi"), OUTPUT=path("fvc"))
        made.append("fvc")
    if need("tasseled_cap"):
        run_algorithm(
            "tasseled_cap",
            INPUT=path("reflectance"),
            COEFFICIENTS=TASSELED_CAP_OLI,
            OUTPUT=path("tasseled_cap"),
        )
        made.append("tasseled_cap")
    if need("lst"):
        run_algorithm(
            "lst",
            THERMAL=path("thermal_radiance"),
            NDVI=path("ndvi"),
            SENSOR=LST_SENSOR_LANDSAT8_B10,
            RED=path("reflectance"),
            OUTPUT=path("lst"),
        )
        made.append("lst")
    # Wetness is band 3 of the tasseled cap; 'Composite index' reads band 1 of each layer.
    gdal.Translate(path("wetness"), path("tasseled_cap"), bandList=[3])
    return made


def landsat_part(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> dict[str, str]:
    made = ensure_l8_indicators(run_algorithm, fetch, out_dir)
    if made:
        print(f"  computed missing indicators: {', '.join(made)}")
    preset = load_preset("lingbei_2000_2020")
    table2 = dict(zip(preset.codes, preset.subjective, strict=True))
    names = {code: preset.names[preset.codes.index(code)] for _, code, _ in INDICATORS}
    matrix = saaty_matrix([table2[code] for _, code, _ in INDICATORS])
    ahp = run_algorithm(
        "ahp_weights",
        MATRIX=matrix_text(matrix),
        NAMES=",".join(names[code] for _, code, _ in INDICATORS),
        OUTPUT=out_dir / "evaluation_ahp_weights.csv",
    )
    print(
        f"  AHP (matrix derived from Table 2): λmax {ahp['LAMBDA_MAX']:.4f}, "
        f"CR {ahp['CR']:.4f}, weights {ahp['WEIGHTS']}"
    )
    layers = [str(out_dir / f"{stem}.tif") for stem, _, _ in INDICATORS]
    index = run_algorithm(
        "composite_index",
        INPUTS=layers,
        NAMES=",".join(names[code] for _, code, _ in INDICATORS),
        TRENDS=",".join(trend for _, _, trend in INDICATORS),
        WEIGHT_SOURCE=1,
        SUBJECTIVE_WEIGHTS=ahp["WEIGHTS"],
        OBJECTIVE_METHOD=0,
        COMBINATION=0,
        OUTPUT=out_dir / "resilience_index.tif",
        OUTPUT_WEIGHTS=out_dir / "resilience_weights.csv",
    )
    print(f"  composite index: mean P {index['MEAN']:.4f}, weights {index['WEIGHTS']}")
    classes = run_algorithm(
        "classify_index",
        INPUT=out_dir / "resilience_index.tif",
        OUTPUT=out_dir / "resilience_classes.tif",
        OUTPUT_TABLE=out_dir / "resilience_classes.csv",
    )
    jenks = run_algorithm(
        "classify_index",
        INPUT=out_dir / "resilience_index.tif",
        METHOD=1,
        SEED=42,
        OUTPUT=out_dir / "resilience_classes_natural_breaks.tif",
        OUTPUT_TABLE=out_dir / "resilience_classes_natural_breaks.csv",
    )
    print(
        f"  Table 3 classes over {classes['VALID_AREA_KM2']:.1f} km²; natural breaks "
        f"{jenks['BREAKS']} (GVF {jenks['GVF']:.3f})"
    )
    return {
        "Composite index P (L8-FL, FVC/wetness/dryness/LST/albedo, AHP+MSE Eq. 17)": index[
            "OUTPUT"
        ],
        "Resilience classes, Table 3 breaks (L8-FL)": classes["OUTPUT"],
        "Resilience classes, natural breaks (L8-FL)": jenks["OUTPUT"],
    }


def marburg_part(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> dict[str, str]:
    folder = fetch("marburg")
    work = out_dir / "evaluation_marburg"
    work.mkdir(parents=True, exist_ok=True)
    stems = ("ndvi", "albedo", "ndbsi")
    for year, mtl in MARBURG.items():
        run_algorithm(
            "landsat_reflectance", MTL=folder / mtl, OUTPUT=work / f"reflectance_{year}.tif"
        )
        for stem in stems:
            run_algorithm(
                stem, INPUT=work / f"reflectance_{year}.tif", OUTPUT=work / f"{stem}_{year}.tif"
            )
    # Ranges over both dates, so that the two indices are on one scale.
    minima, maxima = [], []
    for stem in stems:
        joint = run_algorithm(
            "normalize",
            INPUT=work / f"{stem}_2001.tif",
            JOINT=work / f"{stem}_2013.tif",
            OUTPUT=work / f"{stem}_2001_normalised.tif",
        )
        minima.append(joint["MIN"])
        maxima.append(joint["MAX"])
    preset = load_preset("lingbei_2000_2020")
    table2 = dict(zip(preset.codes, preset.subjective, strict=True))
    # NDVI stands in for the vegetation indicator FVC (C3); dryness C8, albedo C10.
    ahp = run_algorithm(
        "ahp_weights",
        MATRIX=matrix_text(saaty_matrix([table2["C3"], table2["C8"], table2["C10"]])),
        NAMES="NDVI,dryness,albedo",
        OUTPUT=work / "ahp_weights.csv",
    )
    outputs = {}
    for year in MARBURG:
        index = run_algorithm(
            "composite_index",
            INPUTS=[str(work / f"{stem}_{year}.tif") for stem in stems],
            TRENDS="+,-,-",
            WEIGHTS=ahp["WEIGHTS"],
            MINIMA=",".join(f"{v:.10g}" for v in minima),
            MAXIMA=",".join(f"{v:.10g}" for v in maxima),
            OUTPUT=work / f"index_{year}.tif",
        )
        run_algorithm(
            "classify_index",
            INPUT=work / f"index_{year}.tif",
            OUTPUT=work / f"classes_{year}.tif",
            OUTPUT_TABLE=work / f"classes_{year}.csv",
        )
        print(f"  MARBURG {year}: mean P {index['MEAN']:.4f}")
        outputs[year] = index["OUTPUT"]
    change = run_algorithm(
        "change_analysis",
        BEFORE=work / "index_2001.tif",
        AFTER=work / "index_2013.tif",
        THRESHOLD=0.05,
        OUTPUT=work / "change_index_2001_2013.tif",
        OUTPUT_CLASSES=work / "change_classes_2001_2013.tif",
        OUTPUT_TABLE=work / "change_index_2001_2013.csv",
    )
    transitions = run_algorithm(
        "change_analysis",
        BEFORE=work / "classes_2001.tif",
        AFTER=work / "classes_2013.tif",
        MODE=1,
        OUTPUT=work / "transitions_2001_2013.tif",
        OUTPUT_TABLE=work / "transition_matrix_2001_2013.csv",
        OUTPUT_TRANSITIONS=work / "transitions_2001_2013.csv",
    )
    print(
        f"  MARBURG 2001 → 2013: mean P {change['MEAN_BEFORE']:.4f} → {change['MEAN_AFTER']:.4f} "
        f"({change['GROWTH_RATE']:+.2f} %); classes improved "
        f"{transitions['IMPROVED_PERCENT']:.1f} %, unchanged "
        f"{transitions['UNCHANGED_PERCENT']:.1f} %, degraded "
        f"{transitions['DEGRADED_PERCENT']:.1f} %"
    )
    return {
        "Index P 2001 (MARBURG, NDVI/albedo/dryness, joint ranges)": outputs["2001"],
        "Index P 2013 (MARBURG)": outputs["2013"],
        "Change of P 2001 → 2013 (MARBURG)": change["OUTPUT"],
        "Class transitions 2001 → 2013 (MARBURG)": transitions["OUTPUT"],
    }


def run_step(run_algorithm: RunAlgorithm, fetch, out_dir: Path) -> dict[str, str]:
    """Weights, composite index, classes (L8-FL) and change between dates (MARBURG)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    layers = landsat_part(run_algorithm, fetch, out_dir)
    layers.update(marburg_part(run_algorithm, fetch, out_dir))
    return layers


# --- standalone ------------------------------------------------------------------------------

if __name__ == "__main__":
    from qgis_runner import standalone

    sys.exit(
        standalone(run_step, "Evaluation demo", Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    )

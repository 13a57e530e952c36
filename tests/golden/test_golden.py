"""Golden outputs: every entry of golden_outputs.yaml (one or more cases per algorithm of the
provider) run through processing in-process, its outputs described (tests/golden/golden.py) and
compared with the table. A refactor that changes a number fails here.

The expected values come from the code as it was when the table was (re)generated, checked by
the hand computations and peer comparisons of the other tests; ``scripts/golden.py --update``
regenerates them, deliberately, and the commit that does says why they changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import yaml
from golden import MODELS, TABLE, Inputs, compare, run_entry

#: Set by scripts/golden.py --update: the entries' expected values are replaced by what the code
#: gives now, and algorithms without an entry get the standard cases.
UPDATE = os.environ.get("MINE_ECO_GOLDEN_UPDATE") == "1"
#: The standard cases of an algorithm (input set → case name) and of a model.
STANDARD_CASES = (("desktop", "defaults"), ("reliability", "reliability"))
MODEL_CASES = (("models", "synthetic"),)
#: What a standard case needs besides its input set.
STANDARD_SETTINGS = {
    # The largest patch index is computed per zone only: the desktop inputs give no ZONES.
    ("landscape_metrics", "defaults"): {"unset": ["OUTPUT_LPI"]},
}

HEADER = """\
# Golden outputs of the Mine Eco provider (mineeco), in the style of QGIS's
# qgis_algorithm_tests.yaml: one entry per algorithm and case, run by tests/golden/test_golden.py.
#
# Each entry: the algorithm id, a case name, the input set its inputs come from (desktop and
# reliability: the INPUTS.desktop and INPUTS.valid declarations beside each algorithm's tests,
# see tests/algorithms/declared.py; models: tests/golden/golden.py), extra parameters,
# and what every output (optional ones included) held: per raster band the NoData count and
# mask hash, min/max/mean/sum and spatial moments of the valid pixels, and for integer bands a
# hash and the value counts; tables row by row; report pages by their tables; folders file by
# file; the numbers and strings returned besides files under `values`. Floats compare to a
# relative 1e-6 of the larger of the value and the band's largest |value| (x the pixel count for
# sums); the rest compares exactly. `unset` lists outputs an entry leaves out;
# `differs_from_qgis_3_40` gives the reason an entry is known to differ on QGIS 3.40 / numpy 2
# (Debian 13, scripts/trixie.sh), where it is a strict expected failure.
#
# The expected values are what the code gave when they were generated, code that the rest of
# the suite checks against hand computations and peer tools. Regenerate them ONLY deliberately:
#     QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/golden.py --update [-k <algorithm>]
# and justify every changed value in the commit message (which result changed, and why the new
# one is right). A refactor must not change any of them.
"""


def load_table() -> list[dict]:
    if not TABLE.exists():
        return []
    return yaml.safe_load(TABLE.read_text(encoding="utf-8"))["tests"] or []


def all_algorithm_ids() -> list[str]:
    from mine_eco_plugin.provider import algorithm_classes

    ids = []
    for cls in algorithm_classes():
        instance = cls()
        ids.append(instance.name())
    # resilience_scenes is both an algorithm class and a workflow of MODELS: listed once.
    return list(dict.fromkeys(sorted(ids) + list(MODELS)))


def entries() -> list[dict]:
    table = load_table()
    if UPDATE:
        covered = {entry["algorithm"] for entry in table}
        for algorithm in all_algorithm_ids():
            if algorithm in covered:
                continue
            cases = MODEL_CASES if algorithm in MODELS else STANDARD_CASES
            for input_set, case in cases:
                entry = {"algorithm": algorithm, "case": case, "inputs": input_set}
                entry.update(STANDARD_SETTINGS.get((algorithm, case), {}))
                table.append(entry)
        table.sort(key=lambda entry: (entry["algorithm"], entry["case"]))
    return table


ENTRIES = entries()
UPDATED: dict[tuple[str, str], dict] = {}


def write_updated_table():
    """The table with the expected values this run measured (entries not run are kept)."""
    written = []
    for entry in ENTRIES:
        key = (entry["algorithm"], entry["case"])
        entry = {k: v for k, v in entry.items() if k != "expected"} | {
            "expected": UPDATED.get(key, entry.get("expected"))
        }
        if entry["expected"] is None:
            continue  # a new entry that did not run (deselected)
        written.append(entry)
    text = yaml.safe_dump(
        {"tests": written}, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )
    TABLE.write_text(HEADER + "\n" + text, encoding="utf-8")


def snapshot(folder: Path) -> dict[str, str]:
    """Every input file by its bytes: a run adds no file there, GDAL's .aux.xml side files
    included (tests/algorithms/test_inputs_untouched.py)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session")
def golden_inputs(tmp_path_factory):
    return Inputs(tmp_path_factory.mktemp("golden_inputs"))


@pytest.mark.parametrize(
    "entry", ENTRIES, ids=[f"{entry['algorithm']}-{entry['case']}" for entry in ENTRIES]
)
def test_golden(provider, golden_inputs, tmp_path, entry, request):
    from qgis.core import Qgis

    known = entry.get("differs_from_qgis_3_40")
    if known and Qgis.QGIS_VERSION_INT >= 34000 and not UPDATE:
        # Strict: once the difference is gone, the entry passes and this fails, asking for the
        # key to be removed.
        request.applymarker(pytest.mark.xfail(strict=True, reason=known))
    if entry["algorithm"] == "rf_driver_contribution" or entry["algorithm"] == "npp_drivers":
        pytest.importorskip("sklearn")
    golden_inputs.parameters(entry["inputs"], entry["algorithm"])  # written before the snapshot
    before = snapshot(golden_inputs.folder)
    actual = run_entry(entry, golden_inputs, tmp_path / "out")
    assert snapshot(golden_inputs.folder) == before, "the run changed its inputs"
    if UPDATE:
        UPDATED[(entry["algorithm"], entry["case"])] = actual
        return
    assert "expected" in entry, "no expected values: run scripts/golden.py --update"
    problems = compare(entry["expected"], actual, entry["algorithm"])
    assert not problems, (
        f"{len(problems)} value(s) differ from the table, in {differing_outputs(problems)}:\n"
        + "\n".join(problems[:40])
    )


def differing_outputs(problems: list[str]) -> str:
    """Every output with a mismatch and how many (the listing stops at 40 lines, sorted by
    output name: the outputs after the first ones would not show)."""
    counts: dict[str, int] = {}
    for problem in problems:
        parts = problem.split(": ", 1)[0].split(".")
        name = parts[2] if len(parts) > 2 and parts[1] in ("outputs", "values") else parts[-1]
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{name} ({count})" for name, count in counts.items())


@pytest.mark.skipif(UPDATE, reason="the table is being regenerated")
def test_every_algorithm_has_a_golden_entry(provider):
    ids = {algorithm.name() for algorithm in provider.algorithms()}
    covered = {entry["algorithm"] for entry in load_table()}
    assert not ids - covered, f"algorithms without a golden entry: {sorted(ids - covered)}"
    assert not covered - ids, f"entries of unknown algorithms: {sorted(covered - ids)}"
    keys = [(entry["algorithm"], entry["case"]) for entry in load_table()]
    assert len(keys) == len(set(keys)), "two entries with the same algorithm and case"

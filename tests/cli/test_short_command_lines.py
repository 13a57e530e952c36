"""Every algorithm runs from the shortest command line: its mandatory inputs and its main
output, nothing else (`qgis_process run mineeco:<id> -- <inputs> OUTPUT=<path>`). Side outputs
are optional (created by default only in the dialog), so a command line need not name them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import qgis_runner
from bad_input import Data
from test_reliability_files import INSTANCES, VALID

SUFFIX = {"rasterDestination": ".tif", "sink": ".csv", "folderDestination": ""}


def main_output(name):
    """The one mandatory destination of an algorithm (its main output)."""
    mandatory = [
        d
        for d in INSTANCES[name].destinationParameterDefinitions()
        if not d.flags() & d.FlagOptional
    ]
    assert len(mandatory) == 1, f"{name}: mandatory outputs {[d.name() for d in mandatory]}"
    return mandatory[0]


def command_line(name, parameters, out: Path) -> list[str]:
    algorithm = INSTANCES[name]
    words = []
    for key, value in parameters.items():
        definition = algorithm.parameterDefinition(key)
        if definition is None or definition.isDestination():
            continue
        if definition.type() == "matrix":
            words.append(f"{key}={','.join(str(v) for v in value)}")
        elif isinstance(value, list):
            words += [f"{key}={item}" for item in value]
        elif isinstance(value, bool):
            words.append(f"{key}={str(value).lower()}")
        else:
            words.append(f"{key}={value}")
    output = main_output(name)
    suffix = SUFFIX.get(output.type(), f".{output.defaultFileExtension()}")
    words.append(f"{output.name()}={out / (output.name().lower() + suffix)}")
    return words


def test_every_algorithm_runs_with_its_main_output_only(qgis_process, tmp_path):
    names = sorted(VALID)
    if "rf_driver_contribution" in names:
        pytest.importorskip("sklearn")
    jobs = {}
    for name in names:
        folder = tmp_path / name
        (folder / "in").mkdir(parents=True)
        (folder / "out").mkdir()
        parameters = VALID[name](Data(folder / "in"))
        jobs[name] = command_line(name, parameters, folder / "out")

    def run(name):
        done = qgis_process.call(*qgis_runner.run_arguments(name, jobs[name]), check=False)
        return name, done

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(pool.map(run, names))
    failures = []
    for name, done in results.items():
        if done.returncode != 0:
            failures.append(
                f"{name}: rc {done.returncode}\n{done.stdout[-1500:]}{done.stderr[-800:]}"
            )
            continue
        output = main_output(name)
        written = sorted(p.name for p in (tmp_path / name / "out").iterdir())
        expected = output.name().lower()
        if not any(entry.startswith(expected) for entry in written):
            failures.append(f"{name}: {output.name()} not written ({written})")
        # Nothing else but the main output (and its style and statistics side files).
        others = [w for w in written if not w.startswith(expected)]
        if others:
            failures.append(f"{name}: side outputs written without being asked for: {others}")
    assert not failures, "\n\n".join(failures)

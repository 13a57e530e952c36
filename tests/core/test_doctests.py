"""The examples in the docstrings of mine_eco_plugin/core run as tests (what pytest's
--doctest-modules does, for core only: the same option over tests/ would import the scripts
that tests/desktop runs inside QGIS desktop). Each example's expected value is checked by hand
in its comment; a guard makes sure every ``>>>`` line of core is an example that runs."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from pathlib import Path

import pytest

import mine_eco_plugin.core as core

CORE = Path(core.__file__).parent
MODULES = sorted(f"{core.__name__}.{info.name}" for info in pkgutil.iter_modules(core.__path__))


def examples(module_name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(module_name)
    return [test for test in doctest.DocTestFinder().find(module) if test.examples]


def source_examples() -> dict[str, int]:
    """Module → number of lines starting with ``>>>`` in its source."""
    counts = {}
    for path in sorted(CORE.glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        count = sum(line.lstrip().startswith(">>>") for line in lines)
        if count:
            counts[f"{core.__name__}.{path.stem}"] = count
    return counts


WITH_EXAMPLES = sorted(source_examples())


@pytest.mark.parametrize("module_name", WITH_EXAMPLES)
def test_docstring_examples(module_name):
    output = io.StringIO()
    runner = doctest.DocTestRunner(verbose=False)
    for test in examples(module_name):
        runner.run(test, out=output.write)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, output.getvalue()


def test_every_example_of_core_runs():
    """Each ``>>>`` line of core's sources is an example the finder runs (none in a comment
    or a string doctest does not look at), and there are examples at all (15 docstrings, 18
    examples when this test was written)."""
    found = {
        name: sum(len(test.examples) for test in examples(name))
        for name in MODULES
        if examples(name)
    }
    assert found == source_examples()
    assert sum(found.values()) >= 18

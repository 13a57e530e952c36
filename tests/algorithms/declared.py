"""What each algorithm's tests declare about its inputs, collected over all test modules.

An algorithm's test module declares, beside its other tests, in one ``INPUTS`` object
(``INPUTS = declared.Inputs()``):

* ``INPUTS.valid(algorithm, build)``: valid inputs, ``build(data)`` on a ``bad_input.Data``
  folder (12 × 14 random fields); the file-handling, input-geometry, command-line and golden
  tests run every algorithm on them;
* ``INPUTS.desktop(algorithm, build)``: a user's first run, only the mandatory parameters,
  ``build(layers)`` on the desktop's smooth 24 × 24 layers (``synthetic_inputs.Layers``); the
  desktop test runs every dialog with them, the golden tests keep their outputs;
* ``INPUTS.case(algorithm, label, build, error, check)``: a bad-input case (see bad_input.py
  for what a case expects).

A new algorithm thus needs its core module, its algorithm module and its test module: the
suites that run every algorithm find its declarations here, and fail for an algorithm of the
provider that has none.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bad_input import Case, Data

HERE = Path(__file__).resolve().parent


class Inputs(list):
    """The declarations of one test module (its ``INPUTS``); the list holds its bad-input
    cases."""

    def __init__(self):
        super().__init__()
        self.valid_inputs: dict[str, Callable] = {}
        self.desktop_inputs: dict[str, Callable] = {}

    def case(self, algorithm, label, build, error=(), check=None):
        """``build(data)`` gives the parameters; ``error``: the parameter(s) one of which the
        error message must name (none: no error allowed); ``check(results, data,
        parameters)``: asserts on a successful run (None: success not allowed)."""
        if isinstance(error, str):
            error = (error,)
        self.append(Case(algorithm, label, build, tuple(error), check))

    def valid(self, algorithm: str, build: Callable) -> None:
        """Valid inputs of ``algorithm``: ``build(data)`` on a ``bad_input.Data`` folder."""
        self._declare(self.valid_inputs, algorithm, build)

    def desktop(self, algorithm: str, build: Callable) -> None:
        """A first run's mandatory inputs: ``build(layers)`` on ``synthetic_inputs.Layers``."""
        self._declare(self.desktop_inputs, algorithm, build)

    @staticmethod
    def _declare(table, algorithm, build):
        if algorithm in table:
            raise ValueError(f"inputs of {algorithm} declared twice in one module")
        table[algorithm] = build


@dataclass
class Declared:
    """Every module's declarations; what was declared twice; modules that could not be read."""

    cases: list[Case] = field(default_factory=list)
    valid: dict[str, Callable] = field(default_factory=dict)
    desktop: dict[str, Callable] = field(default_factory=dict)
    #: "valid inputs of x", "desktop inputs of x", "case x-label": each with its modules.
    repeated: dict[str, list[str]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)


def collect(folder: Path) -> Declared:
    """The ``INPUTS`` of every test module in ``folder`` (imported as pytest imports them)."""
    declared = Declared()
    owners: dict[str, list[str]] = {}
    for path in sorted(folder.glob("test_*.py")):
        if not re.search(r"^INPUTS = ", path.read_text(encoding="utf-8"), re.MULTILINE):
            continue
        try:
            module = importlib.import_module(path.stem)
        except pytest.skip.Exception as reason:
            declared.unreadable[path.name] = str(reason)
            continue
        inputs = module.INPUTS
        declared.cases.extend(inputs)
        for kind, table, mine in (
            ("valid inputs", declared.valid, inputs.valid_inputs),
            ("desktop inputs", declared.desktop, inputs.desktop_inputs),
        ):
            for algorithm, build in mine.items():
                owners.setdefault(f"{kind} of {algorithm}", []).append(path.name)
                table.setdefault(algorithm, build)
        for case in inputs:
            owners.setdefault(f"case {case.id}", []).append(path.name)
    declared.repeated = {what: where for what, where in owners.items() if len(where) > 1}
    return declared


@functools.cache
def declared() -> Declared:
    """The declarations of tests/algorithms (collected once per process)."""
    return collect(HERE)


def valid_inputs(algorithm: str, tmp_path: Path) -> tuple[Path, dict]:
    """``algorithm``'s valid inputs (its ``INPUTS.valid``) built in a new folder tmp_path/in:
    (that folder, the parameters). The forest's skip without scikit-learn."""
    if algorithm == "rf_driver_contribution":
        pytest.importorskip("sklearn")
    folder = tmp_path / "in"
    folder.mkdir()
    return folder, declared().valid[algorithm](Data(folder))


def desktop_inputs(folder) -> dict[str, dict]:
    """The desktop's layers written into ``folder``; {algorithm id: its first run's
    parameters}."""
    from synthetic_inputs import make_layers

    layers = make_layers(folder)
    return {algorithm: build(layers) for algorithm, build in sorted(declared().desktop.items())}

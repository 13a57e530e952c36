"""Bad input, tried systematically over every algorithm of the provider.

The cases are declared beside each algorithm's tests (``BAD_INPUT`` in its test module; see
bad_input.py for what a case expects); this module collects them all and runs each one. A
summary test counts the cases per algorithm and fails when an algorithm of the provider has
none, or when a module with cases could not be read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import bad_input
import pytest

CASES, UNREADABLE = bad_input.collect(Path(__file__).resolve().parent)


@pytest.mark.parametrize("bad", CASES, ids=lambda c: c.id)
def test_bad_input(bad, provider, tmp_path):
    bad_input.run(bad, tmp_path)


def test_every_algorithm_has_bad_input_cases(provider, capsys):
    counts = Counter(c.algorithm for c in CASES)
    ids = sorted(a.name() for a in provider.algorithms())
    with capsys.disabled():
        print(f"\nbad-input cases: {len(CASES)} over {len(counts)} algorithms")
        for name in ids:
            print(f"  {name:28s} {counts.get(name, 0)}")
    assert not UNREADABLE, f"test modules whose cases could not be read: {UNREADABLE}"
    missing = [name for name in ids if not counts.get(name)]
    assert not missing, f"algorithms without a bad-input case: {missing}"
    assert not set(counts) - set(ids), "cases for algorithms the provider does not have"
    repeated = [key for key, n in Counter(c.id for c in CASES).items() if n > 1]
    assert not repeated, f"cases declared twice: {repeated}"


def test_cases_are_collected_from_every_module_that_declares_them(tmp_path, monkeypatch):
    # Two modules with cases (one with two, one with none declared yet), one without a
    # BAD_INPUT, one that skips at import: 2 + 0 cases, and the skipped module reported.
    (tmp_path / "test_bi_first.py").write_text(
        "import bad_input\nBAD_INPUT = bad_input.Cases()\n"
        "BAD_INPUT.case('ndvi', 'a', lambda d: {}, 'INPUT')\n"
        "BAD_INPUT.case('fvc', 'b', lambda d: {}, check=lambda r, d, p: None)\n"
    )
    (tmp_path / "test_bi_second.py").write_text("import bad_input\nBAD_INPUT = bad_input.Cases()\n")
    (tmp_path / "test_bi_plain.py").write_text("def test_nothing():\n    pass\n")
    (tmp_path / "test_bi_skipped.py").write_text(
        "import pytest\npytest.importorskip('no_such_module_here')\nBAD_INPUT = []\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cases, unreadable = bad_input.collect(tmp_path)
    assert [(c.id, c.error, c.check is None) for c in cases] == [
        ("ndvi-a", ("INPUT",), True),
        ("fvc-b", (), False),
    ]
    assert list(unreadable) == ["test_bi_skipped.py"]

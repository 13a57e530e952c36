"""Bad input, tried systematically over every algorithm of the provider.

The cases are declared beside each algorithm's tests (``INPUTS.case`` in its test module; see
bad_input.py for what a case expects, declared.py for how they are collected); this module runs
each one. A summary test counts the cases per algorithm and fails when an algorithm of the
provider has none.
"""

from __future__ import annotations

from collections import Counter

import bad_input
import declared
import pytest

CASES = declared.declared().cases


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
    missing = [name for name in ids if not counts.get(name)]
    assert not missing, f"algorithms without a bad-input case: {missing}"
    assert not set(counts) - set(ids), "cases for algorithms the provider does not have"

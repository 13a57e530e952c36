"""Golden outputs: the provider fixture of the algorithm tests, and the writer of the table when
the run regenerates it (scripts/golden.py --update)."""

from __future__ import annotations

from algorithms.conftest import provider  # noqa: F401 (the fixture, shared)


def pytest_sessionfinish(session, exitstatus):
    from test_golden import UPDATE, write_updated_table

    if UPDATE and exitstatus == 0:
        write_updated_table()

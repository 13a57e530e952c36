"""Every Mine Eco benchmark, one after the other: ``make bench``.

Each ``benchmarks/bench_<topic>.py`` is a program of its own with ``main(argv) -> int`` that
compares the plugin with a peer tool or a baseline in the same run and prints ratios (absolute
times on shared machines are noise). This runner calls them in turn with the same options
(``--quick`` for a smoke run of all), and fails when any of them fails.

    .venv/bin/python benchmarks/run.py               # all, default sizes
    .venv/bin/python benchmarks/run.py --quick       # all, small sizes
    .venv/bin/python benchmarks/run.py indices rusle # some, by topic
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def topics() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("topics", nargs="*", help=f"some of: {', '.join(topics())}")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args(argv)
    chosen = args.topics or topics()
    unknown = sorted(set(chosen) - set(topics()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    sys.path.insert(0, str(HERE))
    failed = []
    for topic in chosen:
        print(
            f"\n=== benchmarks/bench_{topic}.py{' --quick' if args.quick else ''} ===", flush=True
        )
        started = time.perf_counter()
        module = importlib.import_module(f"bench_{topic}")
        code = module.main(["--quick"] if args.quick else [])
        print(f"=== {topic}: exit {code} after {time.perf_counter() - started:.0f} s ===")
        if code:
            failed.append(topic)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Check or regenerate the golden outputs (tests/golden/golden_outputs.yaml).

    scripts/golden.py             run the golden tests (compare with the table)
    scripts/golden.py --update    regenerate the expected values from the current code
    scripts/golden.py --update -k ndvi   only the entries whose id matches (pytest -k)

--update is for deliberate changes only: the commit that changes expected values says which
results changed and why the new ones are right. Algorithms without an entry get the standard
cases (the desktop inputs with defaults, the reliability tests' inputs; the models their
synthetic case). Run with the project's venv (.venv/bin/python), which can import qgis.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="regenerate the expected values")
    parser.add_argument("-k", dest="select", help="only the entries matching (pytest -k)")
    args, rest = parser.parse_known_args(argv)
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    if args.update:
        env["MINE_ECO_GOLDEN_UPDATE"] = "1"
    command = [sys.executable, "-m", "pytest", "tests/golden/test_golden.py", "-q", *rest]
    if args.select:
        command += ["-k", args.select]
    done = subprocess.run(command, cwd=REPO, env=env)
    if args.update and done.returncode == 0:
        print("tests/golden/golden_outputs.yaml regenerated: review `git diff` and say in the "
              "commit message why any expected value changed.")  # fmt: skip
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())

# Mine Eco -- developer commands. `make help` lists them.
#
# Everything runs in .venv, a virtual environment made from Debian's /usr/bin/python3 with
# --system-site-packages (the only interpreter that can import qgis); `make setup` creates it
# and installs what is missing, and every other target depends on it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The venv; scripts/trixie.sh sets another one for the Debian 13 root.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
RUFF := $(PYTHON) -m ruff
LINT_PATHS := mine_eco_plugin tests scripts benchmarks
PLUGIN := mine_eco_plugin
# Version of the plugin, from the single source (top-level metadata.txt, `version=X.Y.Z`).
VERSION = $(shell sed -n 's/^version[[:space:]]*=[[:space:]]*//p' metadata.txt 2>/dev/null \
	| tr -d '\r' | head -n1)
ZIP := dist/$(PLUGIN)-$(VERSION).zip

# Extra arguments for benchmarks/run.py, e.g. `make bench BENCH_ARGS="--quick indices"`.
BENCH_ARGS ?=
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k ndvi -x"`.
PYTEST_ARGS ?=
# Set to 1 to let a run that collects no test at all (pytest exit code 5) succeed.
ALLOW_NO_TESTS ?= 0

.PHONY: help setup setup-peers test test-fast test-trixie demo bench lint format package clean distclean

help:
	@echo "make setup     install QGIS & co. from Debian if missing; create .venv; dev requirements"
	@echo "make test      run the test suite headless (PYTEST_ARGS=... for pytest options)"
	@echo "make test-fast the suite without the tests that run R or GRASS (marker peer)"
	@echo "make test-trixie  the same in a Debian 13 root (QGIS 3.40, numpy 2): scripts/trixie.sh"
	@echo "make demo      fetch sample data, run both workflows, write demo-output/"
	@echo "make bench     run the benchmarks (benchmarks/run.py), write bench-output/"
	@echo "make lint      ruff check + ruff format --check"
	@echo "make format    apply ruff's fixes and formatting"
	@echo "make package   build dist/$(PLUGIN)-<version>.zip for QGIS 'Install from ZIP'"
	@echo "make clean     remove build outputs and caches (keeps .venv and sample data)"
	@echo "make distclean clean, and also remove .venv and the sample-data cache"

setup:
	@VENV=$(VENV) bash scripts/setup_env.sh

# Tests also install the peer tools they compare with (GRASS, R terra/randomForest/gstat).
setup-peers:
	@VENV=$(VENV) bash scripts/setup_env.sh --peers

test: setup-peers
	@set +e; QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [[ $$rc -eq 5 && "$(ALLOW_NO_TESTS)" == 1 ]]; then \
		echo "make test: pytest collected no tests (allowed by ALLOW_NO_TESTS=1)"; rc=0; \
	fi; exit $$rc

# The inner loop: everything but the tests that run a peer tool (R, GRASS) to compare with
# (marker `peer`); needs no peer installed. `make test` still runs them all.
test-fast: setup
	@QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest -m "not peer" $(PYTEST_ARGS)

# The suite on Debian 13 (QGIS 3.40 LTR, Python 3.13, numpy 2) in a root file system cached in
# .cache/trixie-root (built on first use, about 2 minutes); needs root or sudo.
test-trixie:
	@bash scripts/trixie.sh make test PYTEST_ARGS="$(PYTEST_ARGS)" ALLOW_NO_TESTS=$(ALLOW_NO_TESTS)

demo: setup
	$(PYTHON) scripts/demo.py

bench: setup
	$(PYTHON) benchmarks/run.py $(BENCH_ARGS)

lint: setup
	$(RUFF) check $(LINT_PATHS)
	$(RUFF) format --check $(LINT_PATHS)

format: setup
	$(RUFF) check --fix-only $(LINT_PATHS)
	$(RUFF) format $(LINT_PATHS)

# The zip holds one top-level folder, mine_eco_plugin/, as QGIS's "Install from ZIP" expects.
# metadata.txt and resources/ are symbolic links inside the package (the single sources are
# at the top level); `cp -L` puts real copies in the zip. Python's zipfile module builds it, so
# no `zip` binary is needed.
package:
	@test -f metadata.txt || { echo "make package: metadata.txt is missing" >&2; exit 1; }
	@test -n "$(VERSION)" || { echo "make package: no version= line in metadata.txt" >&2; exit 1; }
	@set -euo pipefail; \
	stage=$$(mktemp -d); trap 'rm -rf "$$stage"' EXIT; \
	cp -RL --preserve=mode,timestamps $(PLUGIN) "$$stage/$(PLUGIN)"; \
	find "$$stage" \( -name __pycache__ -o -name .pytest_cache -o -name .ruff_cache \
		-o -name .hypothesis -o -name tests -o -name screenshots \) -type d -prune \
		-exec rm -rf {} +; \
	find "$$stage" \( -name '*.py[co]' -o -name 'test_*.py' -o -name conftest.py \
		-o -name '.*' \) -type f -delete; \
	mkdir -p dist; rm -f "$(ZIP)"; \
	(cd "$$stage" && /usr/bin/python3 -m zipfile -c "$(CURDIR)/$(ZIP)" $(PLUGIN)); \
	echo "wrote $(ZIP) ($$(/usr/bin/python3 -m zipfile -l "$(ZIP)" | tail -n +2 | wc -l) entries)"

clean:
	rm -rf dist demo-output bench-output .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .stamps .cache

#!/usr/bin/env bash
# Prepare a development machine for Mine Eco (called by `make setup`; safe to run again).
#
# 1. Debian packages: QGIS 3.22 and its Python bindings, GDAL, venv/pip and scikit-learn.
#    apt-get runs only when one of them is missing, so a ready machine is not touched.
#    scikit-learn comes from Debian (python3-sklearn) so that QGIS's own embedded Python, the
#    one `qgis_process` and the desktop use, sees it too -- not only our venv.
# 2. .venv made from the system interpreter with --system-site-packages, so it sees qgis,
#    osgeo, numpy 1.24 and sklearn from Debian. (`python3` on PATH may be another interpreter
#    that cannot import qgis; never use it here.)
# 3. pip install -r requirements-dev.txt, only when that file (or the interpreter) changed
#    since the last install: a hash of both is kept in .venv/.requirements.sha256.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SYS_PYTHON=/usr/bin/python3
VENV=.venv
REQUIREMENTS=requirements-dev.txt
STAMP="$VENV/.requirements.sha256"
APT_PACKAGES=(qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-venv python3-pip
    python3-sklearn
    # The desktop test layer (tests/desktop) starts QGIS itself on a virtual screen.
    xvfb xauth)
# `setup_env.sh --peers` (make test): the peer tools the tests compare results with; each test
# skips with the reason when its peer is missing, so these are for completeness, not function.
if [[ "${1:-}" == "--peers" ]]; then
    APT_PACKAGES+=(grass-core r-base-core r-cran-terra r-cran-randomforest r-cran-gstat
        python3-threadpoolctl
        # The HTML report's layout test renders the page in a real browser engine.
        chromium)
fi

log() { printf 'setup: %s\n' "$*"; }

# --- 1. Debian packages -------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)) && ! "$SYS_PYTHON" -c 'import qgis.core, osgeo.gdal, sklearn' \
    >/dev/null 2>&1; then
    # Packages are marked installed yet the bindings do not import: reinstall the whole set.
    missing=("${APT_PACKAGES[@]}")
fi
if ((${#missing[@]} > 0)); then
    if ! command -v apt-get >/dev/null; then
        log "missing ${missing[*]} and apt-get is not available: install them by hand" >&2
        exit 1
    fi
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { log "not root and no sudo: cannot apt-get" >&2; exit 1; }
        SUDO=(sudo)
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
"$SYS_PYTHON" -c 'import qgis.core, osgeo.gdal' || {
    log "$SYS_PYTHON cannot import qgis.core / osgeo.gdal after installation" >&2
    exit 1
}

# --- 2. virtual environment ---------------------------------------------------------------
# A venv that cannot import qgis (made from another interpreter, or broken by an upgrade of
# the system Python) is rebuilt from scratch.
if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c 'import qgis.core' >/dev/null 2>&1; then
    log "$VENV cannot import qgis: recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV from $SYS_PYTHON (with system site-packages)"
    "$SYS_PYTHON" -m venv --system-site-packages "$VENV"
fi

# --- 3. development requirements ----------------------------------------------------------
wanted=$({ cat "$REQUIREMENTS"; "$VENV/bin/python" -VV; } | sha256sum | cut -d' ' -f1)
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$wanted" ]]; then
    log "installing $REQUIREMENTS into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -r "$REQUIREMENTS"
    # numpy 2 would break GDAL's and QGIS's bindings, which Debian built against numpy 1.24.
    "$VENV/bin/python" -c 'import numpy, sys; sys.exit(int(numpy.__version__.split(".")[0]) >= 2)' \
        || { log "numpy >= 2 ended up in $VENV: check $REQUIREMENTS" >&2; exit 1; }
    echo "$wanted" >"$STAMP"
else
    log "$VENV is up to date"
fi

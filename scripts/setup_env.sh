#!/usr/bin/env bash
# Prepare a development machine for Mine Eco (called by `make setup`; safe to run again).
# Works on Debian 12 (bookworm: QGIS 3.22, Python 3.11, numpy 1.24) and Debian 13 (trixie:
# QGIS 3.40, Python 3.13, numpy 2.2).
#
# 1. Debian packages: QGIS and its Python bindings, GDAL, venv/pip and scikit-learn.
#    apt-get runs only when one of them is missing, so a ready machine is not touched.
#    scikit-learn comes from Debian (python3-sklearn) so that QGIS's own embedded Python, the
#    one `qgis_process` and the desktop use, sees it too -- not only our venv.
#    With --peers, the peer tools the tests compare with; a peer this Debian release does not
#    have (r-cran-gstat on Debian 13) is skipped with the reason, and its tests skip.
# 2. The venv ($VENV, default .venv) made from the system interpreter with
#    --system-site-packages, so it sees qgis, osgeo, numpy and sklearn from Debian. (`python3`
#    on PATH may be another interpreter that cannot import qgis; never use it here.)
# 3. pip install -r requirements-dev.txt with the system's numpy version as a constraint
#    (GDAL's and QGIS's bindings are built against it: numpy 1.x on Debian 12, 2.x on Debian 13;
#    another numpy in the venv would shadow it), only when that file, the interpreter or the
#    system numpy changed since the last install: a hash is kept in $VENV/.requirements.sha256.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SYS_PYTHON=/usr/bin/python3
VENV=${VENV:-.venv}
REQUIREMENTS=requirements-dev.txt
STAMP="$VENV/.requirements.sha256"
APT_PACKAGES=(qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-venv python3-pip
    python3-sklearn
    # The desktop test layer (tests/desktop) starts QGIS itself on a virtual screen.
    xvfb xauth)
# `setup_env.sh --peers` (make test): the peer tools the tests compare results with; each test
# skips with the reason when its peer is missing, so these are for completeness, not function.
PEER_PACKAGES=()
if [[ "${1:-}" == "--peers" ]]; then
    PEER_PACKAGES=(grass-core r-base-core r-cran-terra r-cran-randomforest r-cran-gstat
        python3-threadpoolctl
        # The HTML report's layout test renders the page in a real browser engine.
        chromium)
fi

log() { printf 'setup: %s\n' "$*"; }

# --- 1. Debian packages -------------------------------------------------------------------
release=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}") || release=unknown
not_installed() {
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || echo "$pkg"
    done
}
# Whether apt knows an installable version of the package (from the current package lists).
has_candidate() {
    local candidate
    candidate=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    [[ -n "$candidate" && "$candidate" != "(none)" ]]
}
mapfile -t missing < <(not_installed "${APT_PACKAGES[@]}")
mapfile -t missing_peers < <(not_installed "${PEER_PACKAGES[@]}")
if ((${#missing[@]} == 0)) && ! "$SYS_PYTHON" -c 'import qgis.core, osgeo.gdal, sklearn' \
    >/dev/null 2>&1; then
    # Packages are marked installed yet the bindings do not import: reinstall the whole set.
    missing=("${APT_PACKAGES[@]}")
fi
if ((${#missing[@]} + ${#missing_peers[@]} > 0)); then
    if ! command -v apt-get >/dev/null; then
        log "missing ${missing[*]} ${missing_peers[*]} and apt-get is not available:" \
            "install them by hand" >&2
        exit 1
    fi
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { log "not root and no sudo: cannot apt-get" >&2; exit 1; }
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the package lists when something can be installed (or when there are none):
    # a peer this release does not have at all is not worth a refresh on every run.
    refresh=0
    for pkg in "${missing[@]}" "${missing_peers[@]}"; do
        has_candidate "$pkg" && refresh=1
    done
    ((${#missing[@]} > 0)) && refresh=1
    if ((refresh)); then
        "${SUDO[@]}" apt-get update
    fi
    install=("${missing[@]}")
    for pkg in "${missing_peers[@]}"; do
        if has_candidate "$pkg"; then
            install+=("$pkg")
        else
            log "skipping peer $pkg: not available on $release (the tests that compare" \
                "with it skip with the reason)"
        fi
    done
    if ((${#install[@]} > 0)); then
        log "installing Debian packages: ${install[*]}"
        "${SUDO[@]}" apt-get install -y --no-install-recommends "${install[@]}"
    fi
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
# The venv keeps the system's numpy: GDAL's and QGIS's bindings are built against it (1.24 on
# Debian 12, 2.2 on Debian 13), so the constraint is generated from the version found here
# instead of a fixed range in requirements-dev.txt.
system_numpy=$("$SYS_PYTHON" -c 'import numpy; print(numpy.__version__)')
numpy_file() { "$1" -c 'import numpy; print(numpy.__file__)'; }
system_numpy_file=$(numpy_file "$SYS_PYTHON")
CONSTRAINTS="$VENV/constraints.txt"
printf '# generated by scripts/setup_env.sh: the system numpy, which GDAL/QGIS use\nnumpy==%s\n' \
    "$system_numpy" >"$CONSTRAINTS"
wanted=$({ cat "$REQUIREMENTS" "$CONSTRAINTS"; "$VENV/bin/python" -VV; } | sha256sum | cut -d' ' -f1)
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$wanted" ]]; then
    log "installing $REQUIREMENTS into $VENV (numpy kept at the system's $system_numpy)"
    if [[ "$(numpy_file "$VENV/bin/python")" != "$system_numpy_file" ]]; then
        # A numpy of the venv's own (from an older set-up) would shadow the system's.
        "$VENV/bin/python" -m pip uninstall --disable-pip-version-check -y numpy
    fi
    "$VENV/bin/python" -m pip install --disable-pip-version-check -r "$REQUIREMENTS" \
        -c "$CONSTRAINTS"
    venv_numpy_file=$(numpy_file "$VENV/bin/python")
    [[ "$venv_numpy_file" == "$system_numpy_file" ]] || {
        log "$VENV imports $venv_numpy_file, not the system's numpy $system_numpy" \
            "($system_numpy_file) that GDAL and QGIS are built against: check $REQUIREMENTS" >&2
        exit 1
    }
    echo "$wanted" >"$STAMP"
else
    log "$VENV is up to date (numpy $system_numpy from the system)"
fi

#!/usr/bin/env bash
# Run a command on Debian 13 "trixie" (QGIS 3.40 LTR, Python 3.13, numpy 2, GDAL 3.10) from a
# Debian 12 machine: in a root file system made with mmdebstrap and kept in the checkout's
# ignored cache folder, with the checkout bind-mounted inside. Used by .ci/run and
# `make test-trixie`.
#
#   scripts/trixie.sh                     # make test inside the root
#   scripts/trixie.sh make test PYTEST_ARGS="-k lst -x"
#   scripts/trixie.sh --rebuild           # build the root anew, then make test
#   scripts/trixie.sh --build             # only make sure the root exists
#
# The root (about 2 GB) is built once, in 1.5-4 minutes, and reused while the package list
# below is unchanged (a stamp inside it records the list) and for 30 days. The venv of the
# root lives in the root too (/var/cache/mine-eco/venv), so a warm run only checks it. The mounts are made in a
# private mount namespace (unshare), so they disappear with this script even if it is killed,
# and are also unmounted on exit. Needs root (or sudo), mmdebstrap (installed when missing) and
# network for the first build.
set -euo pipefail

# All in one function, so that bash has read the whole file before it runs any of it.
main() {

SELF=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$SELF")/.."
CHECKOUT=$PWD
ROOT=${MINE_ECO_TRIXIE_ROOT:-$CHECKOUT/.cache/trixie-root}
SUITE=trixie
MIRROR=${MINE_ECO_TRIXIE_MIRROR:-http://deb.debian.org/debian}
# What `make setup-peers` would install (scripts/setup_env.sh), preinstalled so that a warm run
# needs no apt-get, plus make and CA certificates. r-cran-gstat is not in Debian 13.
PACKAGES=(qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-venv python3-pip
    python3-sklearn xvfb xauth make ca-certificates
    grass-core r-base-core r-cran-terra r-cran-randomforest python3-threadpoolctl)
INSIDE=/src                           # the checkout, inside the root
VENV_INSIDE=/var/cache/mine-eco/venv  # the root's own venv (the checkout's .venv is Debian 12's)
STAMP_NAME=.mine-eco-root
# A cached root older than this is rebuilt, so that it follows Debian 13's updates.
MAX_AGE_DAYS=${MINE_ECO_TRIXIE_MAX_AGE_DAYS:-30}

log() { printf 'trixie: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { log "needs root (chroot, mount) and there is no sudo"; exit 1; }
    exec sudo --preserve-env=MINE_ECO_TRIXIE_ROOT,MINE_ECO_TRIXIE_MIRROR,MINE_ECO_TRIXIE_MAX_AGE_DAYS,MINE_ECO_SHARED \
        bash "$SELF" "$@"
fi

# In a private mount namespace: the mounts made below are gone when it ends.
if [[ -z "${MINE_ECO_TRIXIE_NS:-}" ]]; then
    MINE_ECO_TRIXIE_NS=1 exec unshare --mount --propagation private -- bash "$SELF" "$@"
fi

rebuild=0
build_only=0
case "${1:-}" in
--rebuild) rebuild=1; shift ;;
--build) build_only=1; shift ;;
esac
(($# > 0)) || set -- make test

# Refuse to touch a root that has something mounted in it (e.g. the checkout): rm -rf would
# follow the bind mount into the checkout.
mounted_under() {
    awk -v root="$1" '$5 == root || index($5, root "/") == 1 { found = 1 } END { exit !found }' \
        /proc/self/mountinfo
}

build_root() {
    local wanted="$SUITE ${PACKAGES[*]}"
    if ((!rebuild)) && [[ -f "$ROOT/$STAMP_NAME" && "$(cat "$ROOT/$STAMP_NAME")" == "$wanted" ]]; then
        if [[ -n "$(find "$ROOT/$STAMP_NAME" -mtime -"$MAX_AGE_DAYS")" ]]; then
            log "using the cached root $ROOT ($(cat "$ROOT/etc/debian_version" 2>/dev/null))"
            return
        fi
        log "the cached root is older than $MAX_AGE_DAYS days: rebuilding it (Debian updates)"
    fi
    for dir in "$ROOT" "$ROOT.tmp"; do
        if mounted_under "$dir"; then
            log "$dir has file systems mounted in it; unmount them first"
            exit 1
        fi
    done
    if ! command -v mmdebstrap >/dev/null; then
        log "installing mmdebstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap \
            || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
                --no-install-recommends mmdebstrap; }
    fi
    log "building $ROOT (Debian $SUITE with ${PACKAGES[*]})"
    local start=$SECONDS
    rm -rf "$ROOT.tmp"
    mkdir -p "$(dirname "$ROOT")"
    # Package lists are kept, so that the set-up inside can tell a package the release lacks
    # from one that is merely not installed without an apt-get update.
    local packages
    packages=$(IFS=,; echo "${PACKAGES[*]}")
    mmdebstrap --variant=apt --skip=cleanup/apt/lists --include="$packages" \
        "$SUITE" "$ROOT.tmp" "$MIRROR"
    echo "$wanted" >"$ROOT.tmp/$STAMP_NAME"
    rm -rf "$ROOT"
    mv "$ROOT.tmp" "$ROOT"
    log "built $ROOT in $((SECONDS - start)) s"
}

build_root
((build_only)) && exit 0

mounts=()
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
    done
}
trap cleanup EXIT
bind() {
    mkdir -p "$2"
    mount --bind "$1" "$2"
    mounts+=("$2")
}
bind /proc "$ROOT/proc"
bind /sys "$ROOT/sys"
bind /dev "$ROOT/dev"
bind /dev/pts "$ROOT/dev/pts"
bind "$CHECKOUT" "$ROOT$INSIDE"
# The workplace's shared data folder (scripts/fetch_data.py), read-only, when there is one.
local shared=${MINE_ECO_SHARED:-}
[[ -n "$shared" ]] || { [[ -d "$CHECKOUT/../shared" ]] && shared=$CHECKOUT/../shared; } \
    || shared=/work/shared
local shared_env=()
if [[ -d "$shared" ]]; then
    bind "$shared" "$ROOT/mnt/shared"
    mount -o remount,bind,ro "$ROOT/mnt/shared"
    shared_env=(MINE_ECO_SHARED=/mnt/shared)
fi
# Name resolution and the host's CA bundle (pip fails TLS verification with the root's own).
rm -f "$ROOT/etc/resolv.conf"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"

log "running in the Debian $(cat "$ROOT/etc/debian_version") root: $*"
# A clean environment: nothing from the host's PATH (e.g. a pyenv python) leaks in.
chroot "$ROOT" /usr/bin/env -i \
    HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    VENV="$VENV_INSIDE" "${shared_env[@]}" \
    /bin/sh -c 'cd "$0" && exec "$@"' "$INSIDE" "$@"
}

main "$@"
exit

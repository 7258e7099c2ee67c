#!/usr/bin/env bash
# make test-latest: run the whole test suite against the newest tested TFX (1.21, Python 3.13).
#
#   scripts/test_latest.sh                    # build (or reuse) the environment, run pytest
#   PYTEST_ARGS="-x tests/drift" scripts/test_latest.sh
#   TEST_LATEST_MODE=rootfs|native            # force a mode (default: detect)
#   TFX_LATEST_CACHE=/var/cache/tfx-addons-lab  # where environments are cached (outside the repo)
#   scripts/test_latest.sh --exec CMD ARGS...   # run CMD in the repo inside that environment instead
#                                               # of pytest (its venv's bin/ first on PATH)
#
# Native mode needs glibc >= 2.39 (TFX 1.17+ wheels are manylinux_2_39) and a Python 3.11-3.13.
# Otherwise (e.g. Debian 12) the suite runs inside a Debian 13 root filesystem built with
# mmdebstrap from the Debian mirror apt on this host already uses. Both the root filesystem and the
# virtualenv are cached under $TFX_LATEST_CACHE, the venv keyed by a hash of
# constraints/tfx-1.21-py3.13.txt and pyproject.toml's dependency lists: a re-run with unchanged
# inputs only refreshes our package (--no-deps) and starts pytest; changed constraints rebuild the
# venv (the old one is removed once no other run uses it).
# All mounts live in a private mount namespace (unshare -m), so they vanish when the run ends, even
# on failure, Ctrl-C or SIGKILL; a trap also unmounts them explicitly. The per-run TMPDIR (where TFX
# leaves its ~2 GB of tfx_ephemeral build folders) is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd -P)

CONSTRAINTS=constraints/tfx-1.21-py3.13.txt
CACHE=${TFX_LATEST_CACHE:-/var/cache/tfx-addons-lab}
SUITE=trixie
ROOTFS_PKGS="python3,python3-venv,python3-dev,g++,ca-certificates,chromium,fonts-liberation,git,procps"
EXTRAS="dev"  # test + examples + mlflow + kfp + ruff
say() { printf '[test-latest] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

[ -f "$CONSTRAINTS" ] || die "$CONSTRAINTS is missing"
ORIG_ARGS=("$@")
EXEC=()
if [ "${1:-}" = --exec ]; then shift; [ $# -gt 0 ] || die "--exec needs a command"; EXEC=("$@"); fi

# ---------------------------------------------------------------- keys
deps_of_pyproject() {  # requirement strings of [project] dependencies + optional-dependencies
  # that apply to Python >= 3.11, markers stripped, sorted (formatting and comments do not count)
  sed -n -e '/^dependencies = \[/,/^\]/p' -e '/^\[project.optional-dependencies\]/,/^\[/p' pyproject.toml \
    | sed -e 's/#.*//' | grep -o '"[^"]*"' | grep -v "python_version < '3.11'" \
    | sed -e "s/; python_version >= '3.11'//" | sort
}
KEY=$( { cat "$CONSTRAINTS"; deps_of_pyproject; } | sha256sum | cut -c1-16)

glibc_version() {
  local v
  v=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}') || true
  [ -n "$v" ] || v=$(ldd --version 2>/dev/null | head -1 | grep -oE '[0-9]+\.[0-9]+$') || true
  echo "${v:-0}"
}
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

find_native_python() {  # prints a python 3.13/3.12/3.11 or nothing
  local c p
  if [ -n "${TEST_LATEST_PYTHON:-}" ]; then echo "$TEST_LATEST_PYTHON"; return; fi
  for c in python3.13 python3.12 python3.11; do
    p=$(command -v "$c" 2>/dev/null) && { echo "$p"; return; }
  done
  if command -v pyenv >/dev/null 2>&1; then
    for c in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[123]\.[0-9]+$' | sort -rV); do
      p=$(pyenv prefix "$c" 2>/dev/null)/bin/python && [ -x "$p" ] && { echo "$p"; return; }
    done
  fi
}

MODE=${TEST_LATEST_MODE:-}
if [ -z "$MODE" ]; then
  glibc=$(glibc_version)
  if version_ge "$glibc" 2.39 && [ -n "$(find_native_python)" ]; then MODE=native; else MODE=rootfs; fi
  say "host glibc $glibc -> $MODE mode"
  export TEST_LATEST_MODE=$MODE
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"  # serialises building/garbage collection between concurrent runs

# ---------------------------------------------------------------- common run pieces
RUN_ID="run.$$.$(date +%s)"
pytest_rc=0

remove_other_venvs() {  # $1: directory holding venv-* dirs, $2: the one to keep
  local d
  for d in "$1"/venv-*; do
    [ -d "$d" ] && [ "$d" != "$2" ] || continue
    # a venv in use holds a shared lock on <venv>.lock
    if ( flock -n -x 7 ) 7>"$d.lock"; then say "removing outdated environment $d"; rm -rf "$d" "$d.lock"; fi
  done
}

# ---------------------------------------------------------------- native mode
if [ "$MODE" = native ]; then
  py=$(find_native_python); [ -n "$py" ] || die "no Python 3.11-3.13 found (set TEST_LATEST_PYTHON)"
  VENV="$CACHE/native/venv-$KEY"
  mkdir -p "$CACHE/native"
  flock -x 9
  if [ ! -f "$VENV/.complete" ]; then
    rm -rf "$VENV"
    say "building $VENV with $("$py" --version) (first time: 5-13 min, ~3.5 GB)"
    t0=$(date +%s)
    "$py" -m venv "$VENV"
    PIP_CACHE_DIR="$CACHE/pip-cache" "$VENV/bin/python" -m pip install -q -c "$CONSTRAINTS" pip setuptools wheel
    PIP_CACHE_DIR="$CACHE/pip-cache" "$VENV/bin/python" -m pip install -q -c "$CONSTRAINTS" -e ".[$EXTRAS]"
    touch "$VENV/.complete"
    say "environment built in $(( $(date +%s) - t0 )) s"
  fi
  remove_other_venvs "$CACHE/native" "$VENV"
  exec 7>"$VENV.lock"; flock -s 7; flock -u 9
  pkg_stamp="$VENV/.pkg-$(sha256sum pyproject.toml | cut -c1-16)-$(echo "$REPO" | sha256sum | cut -c1-8)"
  if [ ! -f "$pkg_stamp" ]; then
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v '^WARNING: Location' || true
    rm -f "$VENV"/.pkg-*; touch "$pkg_stamp"
  fi
  RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tfx-addons-lab-latest.XXXXXX")
  trap 'rm -rf "$RUN_TMP"' EXIT
  if [ ${#EXEC[@]} -gt 0 ]; then
    TMPDIR="$RUN_TMP" PATH="$VENV/bin:$PATH" "${EXEC[@]}" || pytest_rc=$?
  else
    eval "set -- ${PYTEST_ARGS:-}"  # shell words, as in the Makefile's `pytest $(PYTEST_ARGS)`
    TMPDIR="$RUN_TMP" TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2 \
      "$VENV/bin/python" -m pytest "$@" || pytest_rc=$?
  fi
  exit "$pytest_rc"
fi

# ---------------------------------------------------------------- rootfs mode
[ "$(id -u)" = 0 ] || die "rootfs mode needs root (mmdebstrap, chroot, mounts)"

# Re-enter in a private mount namespace: every mount below disappears with this process tree.
if [ -z "${_TEST_LATEST_NS:-}" ]; then
  command -v unshare >/dev/null || die "unshare (util-linux) is missing"
  _TEST_LATEST_NS=1 exec unshare --mount --propagation private "$0" "${ORIG_ARGS[@]}"
fi

debian_mirror() {  # the first non-security Debian URI apt uses on this host
  local f u
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    u=$(awk '/^URIs:/{for(i=2;i<=NF;i++) print $i}' "$f" | grep -v -- '-security' | grep '/debian/\?$' | head -1)
    [ -n "$u" ] && { echo "$u"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    u=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^(https?|file):/){print $i; break}}' "$f" \
        | grep -v -- '-security' | grep '/debian/\?$' | head -1)
    [ -n "$u" ] && { echo "$u"; return; }
  done
}

ROOTFS_KEY=$(printf '%s\n' "$SUITE" "$ROOTFS_PKGS" | cat - /usr/local/share/ca-certificates/*.crt 2>/dev/null \
  | sha256sum | cut -c1-12)
ROOTFS="$CACHE/rootfs-$SUITE-$ROOTFS_KEY"
VENV_IN=/opt/venv-$KEY           # path inside the root filesystem
VENV="$ROOTFS$VENV_IN"

MOUNTS=()
umount_all() {
  local i
  for (( i=${#MOUNTS[@]}-1; i>=0; i-- )); do umount -R -l "${MOUNTS[$i]}" 2>/dev/null || true; done
  MOUNTS=()
}
cleanup() {
  umount_all
  [ -n "${RUN_TMP_HOST:-}" ] && rm -rf "$RUN_TMP_HOST"
  [ -n "${BUILD_TMP_HOST:-}" ] && rm -rf "$BUILD_TMP_HOST"
  [ -n "${BUILD_DIR:-}" ] && [ -d "$BUILD_DIR" ] && rm -rf "$BUILD_DIR"
  return 0
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM HUP

mount_into_rootfs() {
  mkdir -p "$ROOTFS/proc" "$ROOTFS/sys" "$ROOTFS/dev" "$ROOTFS/src" "$ROOTFS/root/.cache/pip"
  mkdir -p "$CACHE/pip-cache"
  mount -t proc proc "$ROOTFS/proc";                      MOUNTS+=("$ROOTFS/proc")
  mount --rbind /sys "$ROOTFS/sys";                       MOUNTS+=("$ROOTFS/sys")
  mount --rbind /dev "$ROOTFS/dev";                       MOUNTS+=("$ROOTFS/dev")
  mount --bind "$REPO" "$ROOTFS/src";                     MOUNTS+=("$ROOTFS/src")
  mount --bind "$CACHE/pip-cache" "$ROOTFS/root/.cache/pip"; MOUNTS+=("$ROOTFS/root/.cache/pip")
  cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf" 2>/dev/null || true
}
in_root() {  # run a command inside the root filesystem with a clean environment
  chroot "$ROOTFS" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 ${EXTRA_ENV:-} "$@"
}

flock -x 9
if [ ! -f "$ROOTFS/.complete" ]; then
  command -v mmdebstrap >/dev/null || {
    say "installing mmdebstrap (Debian package)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
  }
  mirror=$(debian_mirror); [ -n "$mirror" ] || die "cannot find a Debian mirror in /etc/apt/sources.list{,.d}"
  say "building Debian 13 root filesystem $ROOTFS from $mirror (first time: ~2-3 min)"
  t0=$(date +%s)
  BUILD_DIR="$CACHE/.rootfs-build.$$"
  rm -rf "$ROOTFS"
  mmdebstrap --quiet --variant=minbase --include="$ROOTFS_PKGS" "$SUITE" "$BUILD_DIR" "$mirror" >&2
  mkdir -p "$BUILD_DIR/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$BUILD_DIR/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$BUILD_DIR" update-ca-certificates >/dev/null
  touch "$BUILD_DIR/.complete"
  mv "$BUILD_DIR" "$ROOTFS"; BUILD_DIR=
  say "root filesystem built in $(( $(date +%s) - t0 )) s ($(du -sh "$ROOTFS" | cut -f1))"
  for old in "$CACHE"/rootfs-*; do
    [ "$old" = "$ROOTFS" ] || { say "removing outdated $old"; rm -rf "$old"; }
  done
fi

mount_into_rootfs
rm -rf "$ROOTFS"/tmp/pip-* "$ROOTFS"/tmp/build.*  # leftovers of interrupted builds (we hold the lock)
if [ ! -f "$VENV/.complete" ]; then
  rm -rf "$VENV"
  BUILD_TMP_HOST="$ROOTFS/tmp/build.$$"; mkdir -p "$BUILD_TMP_HOST"
  EXTRA_ENV="TMPDIR=/tmp/build.$$"
  say "building $VENV_IN inside the root filesystem: tfx 1.21 + our extras (first time: 5-13 min, ~3.5 GB)"
  t0=$(date +%s)
  in_root python3 -m venv "$VENV_IN"
  in_root "$VENV_IN/bin/python" -m pip install -q -c "/src/$CONSTRAINTS" pip setuptools wheel
  (cd / && in_root sh -c "cd /src && $VENV_IN/bin/python -m pip install -q -c /src/$CONSTRAINTS -e '.[$EXTRAS]'")
  in_root sh -c "cd / && TF_CPP_MIN_LOG_LEVEL=3 $VENV_IN/bin/python -W ignore -c 'import tfx_addons_lab, tfx.v1, tensorflow_data_validation'" \
    || die "the new environment cannot import tfx/TFDV"
  touch "$VENV/.complete"
  EXTRA_ENV=; rm -rf "$BUILD_TMP_HOST"; BUILD_TMP_HOST=
  say "environment built in $(( $(date +%s) - t0 )) s ($(du -sh "$VENV" | cut -f1))"
fi
remove_other_venvs "$ROOTFS/opt" "$VENV"
exec 7>"$VENV.lock"; flock -s 7   # keep this venv while we use it
flock -u 9

# our package from this checkout, editable at /src (the venv may have been built from another
# clone: refresh its metadata and entry points when pyproject.toml differs from the last install)
pkg_stamp="$VENV/.pkg-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$pkg_stamp" ]; then
  rm -rf "$VENV"/lib/python3*/site-packages/~*  # leftovers of an interrupted pip uninstall
  in_root sh -c "cd /src && $VENV_IN/bin/python -m pip install -q --no-deps --no-build-isolation -e ." \
    || die "installing the package from $REPO failed"
  rm -f "$VENV"/.pkg-*; touch "$pkg_stamp"
fi

RUN_TMP_IN=/tmp/$RUN_ID
RUN_TMP_HOST="$ROOTFS$RUN_TMP_IN"
mkdir -p "$RUN_TMP_HOST"
# leftovers of runs that were SIGKILLed (their pid is gone)
for d in "$ROOTFS"/tmp/run.*; do
  [ -d "$d" ] || continue
  pid=$(basename "$d" | cut -d. -f2)
  kill -0 "$pid" 2>/dev/null || { [ "$d" = "$RUN_TMP_HOST" ] || rm -rf "$d"; }
done

if [ ${#EXEC[@]} -gt 0 ]; then
  in_root /usr/bin/env PATH="$VENV_IN/bin:/usr/local/bin:/usr/bin:/bin" TMPDIR="$RUN_TMP_IN" \
    sh -c 'cd /src && exec "$@"' sh "${EXEC[@]}" || pytest_rc=$?
  exit "$pytest_rc"
fi
say "running pytest in $ROOTFS (Python $(in_root "$VENV_IN/bin/python" -c 'import sys; print(sys.version.split()[0])'))"
in_root sh -c "cd /src && TMPDIR=$RUN_TMP_IN TEST_LATEST_MODE=rootfs TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2 \
  exec $VENV_IN/bin/python -m pytest -p no:cacheprovider ${PYTEST_ARGS:-}" || pytest_rc=$?
exit "$pytest_rc"

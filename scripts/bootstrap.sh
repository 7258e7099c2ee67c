#!/usr/bin/env bash
# Create (or reuse) .venv with Python 3.10 and install tfx-addons-lab with the pinned,
# tested dependency set from constraints/tfx-1.16-py3.10.txt. Idempotent: a second run with
# unchanged pyproject.toml/constraints only checks a stamp and returns in well under a second.
#
#   scripts/bootstrap.sh            # library + examples + test deps
#   WITH_BROWSER=1 scripts/bootstrap.sh   # also Debian chromium for the HTML report tests
set -euo pipefail
cd "$(dirname "$0")/.."
CONSTRAINTS=${CONSTRAINTS:-constraints/tfx-1.16-py3.10.txt}  # another tested set: CONSTRAINTS=... VENV=...

VENV=${VENV:-.venv}
say() { printf '[setup] %s\n' "$*" >&2; }

find_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  if command -v pyenv >/dev/null 2>&1 && p=$(pyenv prefix 3.10.13 2>/dev/null) && [ -x "$p/bin/python" ]; then
    echo "$p/bin/python"; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.' | sort -rV); do
      p=$(pyenv prefix "$v") && [ -x "$p/bin/python" ] && { echo "$p/bin/python"; return; }
    done
  fi
  for c in python3.10 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$c"; return
    fi
  done
  echo "error: Python 3.10 not found (tfx 1.16 wheels need it). Install it (e.g. 'pyenv install 3.10.13') or set PYTHON=/path/to/python3.10" >&2
  exit 2
}

stamp_input=$(cat pyproject.toml "$CONSTRAINTS" | sha256sum | cut -c1-16)
stamp="$VENV/.tfx-addons-lab-installed-$stamp_input"

if [ ! -x "$VENV/bin/python" ]; then
  py=$(find_python)
  say "creating $VENV with $("$py" --version 2>&1) ($py)"
  "$py" -m venv "$VENV"
fi
if [ ! -f "$stamp" ]; then
  say "installing tfx-addons-lab and its pinned dependencies ($CONSTRAINTS); first time takes a few minutes"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade -c "$CONSTRAINTS" "pip>=24" setuptools wheel 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$CONSTRAINTS" -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
  if ! check=$(TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" -W ignore -c 'import tfx_addons_lab, tfx.v1, tensorflow_data_validation' 2>&1); then
    printf '%s\n' "$check" >&2
    say "install failed: see the pip output above"; exit 1
  fi
  rm -f "$VENV"/.tfx-addons-lab-installed-*
  touch "$stamp"
  say "installed into $VENV"
fi

if [ "${WITH_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian chromium (headless browser for the HTML report tests)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "warning: chromium is missing and cannot be installed here (need root + apt-get); the browser tests will fail"
  fi
fi

#!/usr/bin/env bash
# make check-resolve: what does a new user's plain `pip install tfx-addons-lab` resolve to, and how
# long does pip take? Builds our wheel, then (scripts/check_resolve.py) resolves it with no
# constraints and no pip config into an EMPTY venv with `pip install --dry-run --report`:
#   - Python 3.10 on the host (this Debian 12 host: must land on the TFX 1.16 set),
#   - Python 3.13 in the TFX 1.21 environment of scripts/test_latest.sh (must land on TFX 1.21),
# each under RESOLVE_LIMIT_SECONDS (default 300); RESOLVE_EXTRAS="mlflow,kfp" adds a run with extras.
# Then, in the same empty venvs, the beside-check (skip with RESOLVE_BESIDE=0): pip resolves the
# tested tfx pin alone (tfx==1.16.0 on 3.10, tfx==1.21.0 on 3.13, read from constraints/) and
# again with our wheel added (both `--dry-run --ignore-installed --report`, concurrently); the
# second set must be the first plus our package only. Reports and lists: build/check-resolve/.
# Nothing is installed; pip downloads wheels only to read their metadata (this index serves no
# PEP 658 metadata and pip's HTTP cache stays empty: the proxy sends no caching headers).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[check-resolve] %s\n' "$*" >&2; }

py310=${PYTHON:-}
if [ -z "$py310" ]; then
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -rV); do
      p=$(pyenv prefix "$v")/bin/python && [ -x "$p" ] && { py310=$p; break; }
    done
  fi
  [ -n "$py310" ] || py310=$(command -v python3.10 || true)
fi
[ -n "$py310" ] || { say "error: Python 3.10 not found (set PYTHON=)"; exit 2; }

out=build/check-resolve
rm -rf "$out"; mkdir -p "$out"
"$py310" -m pip wheel -q --disable-pip-version-check --no-deps . -w "$out" 2>&1 | grep -v '^WARNING: Location' || true
whl=$(ls "$out"/tfx_addons_lab-*.whl)
say "built $whl"

beside_args() {  # beside_args PY: BESIDE=(--beside tfx==<pin of constraints/tfx-*-pyPY.txt> ...)
  local f pin
  BESIDE=()
  [ "${RESOLVE_BESIDE:-1}" != 0 ] || return 0
  f=$(ls constraints/tfx-*-py"$1".txt | head -1)
  pin=$(sed -n 's/^tfx==\([^ #]*\).*/tfx==\1/p' "$f" | head -1)
  [ -n "$pin" ] || { say "error: no tfx== pin in $f"; exit 2; }
  # TFX 1.16's tfx-bsl and tensorflow-transform import dill without requiring it (beam >= 2.65
  # only offers it as an extra), so a working tfx==1.16.0 environment holds dill 0.3.1.1.
  [ "$1" != 3.10 ] || pin="$pin dill>=0.3.1.1,<0.3.2"
  BESIDE=(--beside "$pin" --beside-dir "$out/beside-py$1")
}

rc=0
t_start=$(date +%s)
for extras in "" ${RESOLVE_EXTRAS:+"$RESOLVE_EXTRAS"}; do
  # the beside-check runs with the plain wheel only (extras add packages by design)
  beside_args 3.10; [ -z "$extras" ] || BESIDE=()
  "$py310" scripts/check_resolve.py "$whl" --extras "$extras" "${BESIDE[@]}" || rc=1
  beside_args 3.13; [ -z "$extras" ] || BESIDE=()
  scripts/test_latest.sh --exec python3 scripts/check_resolve.py "$whl" --extras "$extras" "${BESIDE[@]}" || rc=1
done
say "total $(( $(date +%s) - t_start )) s (after the wheel build)"
exit "$rc"

#!/usr/bin/env bash
# Run the penguin example under Apache Airflow: `airflow dags test` of
# examples/penguin/airflow_dag.py (TFX's AirflowDagRunner), in a separate environment built
# from constraints/airflow-2.11-tfx-1.16-py3.10.txt (Airflow cannot share the pinned .venv: see README).
#
#   scripts/airflow_test.sh              # build/reuse the Airflow venv, then run the DAG
#   scripts/airflow_test.sh --env-only   # only build/reuse the Airflow venv
#   scripts/airflow_test.sh --find-python  # print the Python 3.10 it would build with (exit 2: none)
#
# Environment:
#   AIRFLOW_VENV   the Airflow venv (default /var/cache/tfx-addons-lab/airflow-venv); reused
#                  when its stamp matches the sha256 of constraints/airflow-2.11-tfx-1.16-py3.10.txt
#   PYTHON         Python 3.10 to build it with (default: pyenv 3.10.13, then python3.10)
#   WORK_DIR       where AIRFLOW_HOME and the pipeline output go (default: a new temp dir)
#
# Exit status 0 only if every task instance of the DAG run succeeded AND the registry holds a
# version of the `penguin` model.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
say() { printf '[airflow] %s\n' "$*" >&2; }

AIRFLOW_VENV=${AIRFLOW_VENV:-/var/cache/tfx-addons-lab/airflow-venv}
CONSTRAINTS=constraints/airflow-2.11-tfx-1.16-py3.10.txt
DAG_ID=${DAG_ID:-penguin-addons}

is_py310() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
find_python() {
  local p
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  # (without pyenv the second candidate is "/bin/python": every candidate must be a 3.10)
  for p in /root/.pyenv/versions/3.10.13/bin/python "$(command -v pyenv >/dev/null 2>&1 && pyenv prefix 3.10.13 2>/dev/null)/bin/python" \
           "$(command -v python3.10 2>/dev/null)" "$(command -v python3 2>/dev/null)"; do
    is_py310 "$p" && { echo "$p"; return; }
  done
  say "error: Python 3.10 not found; set PYTHON=/path/to/python3.10"; exit 2
}

if [ "${1:-}" = --find-python ]; then find_python; exit 0; fi

build_env() {
  local hash stamp started
  hash=$(sha256sum "$CONSTRAINTS" | cut -c1-16)
  stamp="$AIRFLOW_VENV/.constraints-$hash"
  if [ -f "$stamp" ] && [ -x "$AIRFLOW_VENV/bin/airflow" ]; then
    say "reusing $AIRFLOW_VENV (constraints $hash)"
    return
  fi
  started=$(date +%s)
  say "building $AIRFLOW_VENV from $CONSTRAINTS (a few minutes)"
  mkdir -p "$(dirname "$AIRFLOW_VENV")"
  rm -rf "$AIRFLOW_VENV"
  "$(find_python)" -m venv "$AIRFLOW_VENV"
  "$AIRFLOW_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24" setuptools wheel
  # A full freeze: install exactly it, nothing resolved on top.
  "$AIRFLOW_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$CONSTRAINTS"
  "$AIRFLOW_VENV/bin/python" -m pip check >&2 || say "warning: pip check reports conflicts (see above)"
  touch "$stamp"
  say "built $AIRFLOW_VENV in $(( $(date +%s) - started )) s"
}

# The lock is held for the whole run: two concurrent runs (e.g. two checkouts) would otherwise
# build the venv at once, or reinstall our package under a running DAG.
mkdir -p "$(dirname "$AIRFLOW_VENV")"
exec 9>"$AIRFLOW_VENV.lock"
flock 9
build_env
# Our package from this checkout, without dependencies (the freeze pins them).
"$AIRFLOW_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --force-reinstall --no-build-isolation "$REPO" >&2
if [ "${1:-}" = --env-only ]; then exit 0; fi

# -- run the DAG once with `airflow dags test` (SQLite, no scheduler) ------------------------
WORK_DIR=${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/tfx-addons-lab-airflow.XXXXXX")}
mkdir -p "$WORK_DIR"
DAG_FILE="$REPO/examples/penguin/airflow_dag.py"
export AIRFLOW_HOME="$WORK_DIR/airflow"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/examples/penguin"
# Importing TensorFlow alone can take ~50 s on a loaded machine (default timeout: 30 s).
export AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT=${AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT:-600}
export AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT=${AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT:-600}
export PENGUIN_AIRFLOW_OUTPUT="$WORK_DIR/out"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
export PATH="$AIRFLOW_VENV/bin:$PATH"   # TFX builds the user-module wheel with this python
unset PYTHONPATH                        # only the Airflow venv (our package installed above)
RUN_DATE=${RUN_DATE:-2024-01-01}
say "AIRFLOW_HOME=$AIRFLOW_HOME, outputs in $PENGUIN_AIRFLOW_OUTPUT"

started=$(date +%s)
airflow db migrate > "$WORK_DIR/db-migrate.log" 2>&1 || { tail -30 "$WORK_DIR/db-migrate.log" >&2; say "airflow db migrate failed"; exit 1; }
say "running: airflow dags test $DAG_ID $RUN_DATE (log: $WORK_DIR/dags-test.log)"
set +e
airflow dags test "$DAG_ID" "$RUN_DATE" --subdir "$DAG_FILE" > "$WORK_DIR/dags-test.log" 2>&1
dags_rc=$?
set -e
say "airflow dags test exited $dags_rc after $(( $(date +%s) - started )) s"

# Every task instance of the run must have succeeded, and the registry must hold a version.
set +e
python - "$DAG_ID" "$PENGUIN_AIRFLOW_OUTPUT/registry" "$dags_rc" <<'PY'
import json
import sys

from airflow.models import DagRun, TaskInstance
from airflow.utils.session import create_session

from tfx_addons_lab.registry import open_registry

dag_id, registry_uri, dags_rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
result = {"dag_id": dag_id, "dags_test_exit": dags_rc, "tasks": {}, "versions": []}
with create_session() as session:
    runs = session.query(DagRun).filter(DagRun.dag_id == dag_id).all()
    if runs:
        run = runs[-1]
        result["run_id"], result["run_state"] = run.run_id, str(run.state)
        for ti in session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id
        ):
            result["tasks"][ti.task_id] = str(ti.state)
try:
    registry = open_registry(registry_uri)
    for mv in registry.list("penguin") if "penguin" in registry.list_models() else []:
        meta = mv.metadata or {}
        result["versions"].append(
            {
                "version": mv.version,
                "aliases": list(mv.aliases),
                "pipeline_name": meta.get("pipeline_name"),
                "pipeline_run_id": meta.get("pipeline_run_id"),
                "component_id": meta.get("component_id"),
                "blessed": (meta.get("blessing") or {}).get("blessed"),
            }
        )
except Exception as exc:  # noqa: BLE001 - reported
    result["registry_error"] = f"{type(exc).__name__}: {exc}"
failed = {t: s for t, s in result["tasks"].items() if s != "success"}
result["ok"] = bool(result["tasks"]) and not failed and bool(result["versions"])
print("AIRFLOW_RESULT " + json.dumps(result, sort_keys=True))
if not result["ok"]:
    print(f"failed/unfinished tasks: {failed}; registry versions: {result['versions']}", file=sys.stderr)
sys.exit(0 if result["ok"] else 1)
PY
rc=$?
if [ "$rc" -ne 0 ]; then
  grep -E "ERROR|Error|Traceback|UNIQUE" "$WORK_DIR/dags-test.log" | tail -20 >&2 || true
  say "FAILED (full log: $WORK_DIR/dags-test.log)"
fi
exit "$rc"

"""The penguin example runs under Apache Airflow (``airflow dags test``, TFX's AirflowDagRunner).

Runs ``scripts/airflow_test.sh``, which builds (first time, ~3.5 min) or reuses the separate
Airflow environment of ``constraints/airflow-2.11-tfx-1.16-py3.10.txt`` outside the repo, installs this
checkout into it without dependencies and runs the DAG of ``examples/penguin/airflow_dag.py``
once with SQLite and no scheduler. The script exits non-zero unless every task instance
succeeded and the registry holds a version; here we also check what it reported.

``AIRFLOW_VENV`` chooses the environment (default ``/var/cache/tfx-addons-lab/airflow-venv``).

The Airflow environment is built with Python 3.10. Under ``make test-latest`` (the TFX 1.21
suite; in its Debian 13 root filesystem there is no Python 3.10) the test is skipped when the
script finds none; under ``make test`` a missing Python 3.10 is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def _airflow_python() -> str:
    """The Python 3.10 ``scripts/airflow_test.sh`` would build the Airflow venv with, or ''."""
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "airflow_test.sh"), "--find-python"],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


#: Every task of the penguin DAG (AirflowDagRunner names tasks by component id).
EXPECTED_TASKS = {
    "CsvExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
    "Trainer_champion_resolver",
    "Evaluator",
    "DriftValidator",
    "BlessingGate",
    "RegistryPusher",
    "Pusher",
}


def test_penguin_dag_runs_under_airflow_dags_test(tmp_path):
    if os.environ.get("TEST_LATEST_MODE") and not _airflow_python():
        pytest.skip(
            "make test-latest: no Python 3.10 here for the Airflow environment "
            "(constraints/airflow-2.11-tfx-1.16-py3.10.txt); it runs under make test"
        )
    env = dict(os.environ, WORK_DIR=str(tmp_path / "airflow-run"))
    env.pop("PYTHONPATH", None)
    started = time.time()
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "airflow_test.sh")],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    elapsed = time.time() - started
    print(f"\nscripts/airflow_test.sh: exit {proc.returncode} after {elapsed:.0f} s")
    print(proc.stderr[-3000:])
    lines = [x for x in proc.stdout.splitlines() if x.startswith("AIRFLOW_RESULT ")]
    assert lines, (
        f"no result line; exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    result = json.loads(lines[-1][len("AIRFLOW_RESULT ") :])
    assert proc.returncode == 0, json.dumps(result, indent=1)
    assert result["ok"]
    assert set(result["tasks"]) == EXPECTED_TASKS
    assert set(result["tasks"].values()) == {"success"}
    assert result["run_state"] == "success"
    (version,) = result["versions"]
    assert version["version"] == 1 and "champion" in version["aliases"]
    assert version["blessed"] == 1
    # Pipeline name and run id are recorded under Airflow's legacy launcher too.
    assert version["pipeline_name"] == "penguin-addons"
    assert version["pipeline_run_id"] == result["run_id"]
    assert version["component_id"] == "RegistryPusher"

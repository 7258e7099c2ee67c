"""The penguin example as an Apache Airflow DAG (TFX's ``AirflowDagRunner``).

Airflow cannot be installed into this project's pinned environment; build the separate one
of ``constraints/airflow-2.11-tfx-1.16-py3.10.txt`` and run the DAG once, without a scheduler::

    scripts/airflow_test.sh      # builds/reuses the Airflow venv, then `airflow dags test`

or by hand in that environment (``AIRFLOW_HOME`` with ``airflow db migrate`` done)::

    PENGUIN_AIRFLOW_OUTPUT=/tmp/penguin-airflow \\
      airflow dags test penguin-addons 2024-01-01 --subdir examples/penguin/airflow_dag.py

Outputs go to ``$PENGUIN_AIRFLOW_OUTPUT`` (default ``<repo>/out/penguin-airflow``):
``pipeline_root/``, ``metadata.sqlite``, ``registry/``, ``serving/``, as for the local run.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `examples` is imported from the checkout
    sys.path.insert(0, str(REPO))

from tfx.orchestration.airflow.airflow_dag_runner import (  # noqa: E402
    AirflowDagRunner,
    AirflowPipelineConfig,
)

from examples.penguin.pipeline import create_pipeline  # noqa: E402

OUTPUT_DIR = os.environ.get("PENGUIN_AIRFLOW_OUTPUT", str(REPO / "out" / "penguin-airflow"))
TRAIN_STEPS = int(os.environ.get("PENGUIN_AIRFLOW_TRAIN_STEPS", "100"))

AIRFLOW_CONFIG = {
    "schedule_interval": None,  # run on demand (`airflow dags test` / trigger)
    "start_date": datetime.datetime(2024, 1, 1),
    "catchup": False,
}


DAG = AirflowDagRunner(AirflowPipelineConfig(AIRFLOW_CONFIG)).run(
    create_pipeline(OUTPUT_DIR, train_steps=TRAIN_STEPS)
)

"""The penguin example under BeamDagRunner with Beam's multi-processing Direct runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

pytestmark = pytest.mark.e2e


def test_penguin_with_beam_dag_runner_and_two_workers(tmp_path):
    from tfx_addons_lab.mlmd import MetadataView, open_sqlite_store, prop

    out = tmp_path / "beam"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "penguin" / "pipeline.py"),
            "--output-dir",
            str(out),
            "--runner",
            "beam",
            "--multi-processing",
            "--train-steps",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    view = MetadataView(open_sqlite_store(str(out / "metadata.sqlite")))
    ran = {view.component_id(e) for e in view.store.get_executions()}
    assert {"StatisticsGen", "Transform", "DriftValidator", "BlessingGate", "RegistryPusher"} <= ran
    drift_exec = [
        e for e in view.store.get_executions() if view.component_id(e) == "DriftValidator"
    ]
    assert drift_exec and drift_exec[-1].last_known_state in (3, 5)  # COMPLETE or CACHED
    reports = view.artifacts_of_type("tfx_addons_lab.DriftReport")
    assert reports and prop(reports[-1], "status") in ("ok", "no_baseline")

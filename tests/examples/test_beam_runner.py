"""The penguin example under BeamDagRunner with Beam's multi-processing Direct runner."""

from __future__ import annotations

import pytest

from .example_runs import components_that_ran, executions_of, metadata_view, run_example

pytestmark = pytest.mark.e2e

COMPLETE, CACHED = 3, 5  # metadata_store_pb2.Execution.State


def test_penguin_with_beam_dag_runner_and_two_workers(tmp_path):
    from tfx_addons_lab.mlmd import prop

    out = tmp_path / "beam"
    run_example(
        "penguin",
        out,
        "--runner",
        "beam",
        "--multi-processing",
        "--train-steps",
        "50",
        timeout=1200,
    )
    view = metadata_view(out)
    ran = components_that_ran(view)
    assert {"StatisticsGen", "Transform", "DriftValidator", "BlessingGate", "RegistryPusher"} <= ran
    drift_exec = executions_of(view, "DriftValidator")
    assert drift_exec and drift_exec[-1].last_known_state in (COMPLETE, CACHED)
    reports = view.artifacts_of_type("tfx_addons_lab.DriftReport")
    assert reports and prop(reports[-1], "status") in ("ok", "no_baseline")

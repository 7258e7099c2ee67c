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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc, timeout: float = 120.0) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"service on port {port} exited with {proc.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


def test_penguin_on_beams_portable_runner_with_a_local_job_service(tmp_path):
    """Beam beyond one process: every Beam-based component's job goes to a PortableRunner job
    service on loopback and runs in an external worker pool (what Flink/Spark job servers
    and Dataflow do, without a cluster). Workers need this venv first on PATH and the
    example's module file on PYTHONPATH."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from .example_runs import REPO

    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), str(REPO), str(REPO / "examples" / "penguin")]
    )
    job_port, worker_port = _free_port(), _free_port()
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in ("jobs", "workers")}
    services = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apache_beam.runners.portability.local_job_service_main",
                f"--port={job_port}",
            ],
            env=env,
            stdout=logs["jobs"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apache_beam.runners.worker.worker_pool_main",
                f"--service_port={worker_port}",
            ],
            env=env,
            stdout=logs["workers"],
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        _wait_for_port(job_port, services[0])
        _wait_for_port(worker_port, services[1])
        out = tmp_path / "portable"
        beam_args = (
            f"--runner=PortableRunner --job_endpoint=localhost:{job_port} "
            f"--environment_type=EXTERNAL --environment_config=localhost:{worker_port}"
        )
        old_env = dict(os.environ)
        os.environ.update(env)
        try:
            run_example(
                "penguin", out, "--beam-args", beam_args, "--train-steps", "50", timeout=1800
            )
        finally:
            os.environ.clear()
            os.environ.update(old_env)
    finally:
        for proc in services:
            proc.terminate()
        for proc in services:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for f in logs.values():
            f.close()
    view = metadata_view(out)
    assert {"StatisticsGen", "Transform", "Evaluator", "DriftValidator", "RegistryPusher"} <= (
        components_that_ran(view)
    )
    jobs_log = (tmp_path / "jobs.log").read_text(errors="replace")
    # the job service really ran the components' Beam jobs
    assert jobs_log.count("with state DONE") >= 3, jobs_log[-2000:]

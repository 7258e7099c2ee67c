"""The quick-start penguin example, run for real: all eight stages plus our components."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .example_runs import components_that_ran, executions_of, metadata_view, run_example

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

pytestmark = pytest.mark.e2e

CACHED = 5  # metadata_store_pb2.Execution.CACHED


@pytest.fixture(scope="module")
def penguin_run(tmp_path_factory):
    """Run the example once through its command line, as the README's first command does."""
    out = tmp_path_factory.mktemp("penguin")
    return out, run_example("penguin", out, timeout=900)


def test_every_standard_stage_and_ours_ran(penguin_run):
    out, _ = penguin_run
    view = metadata_view(out)
    ran = components_that_ran(view)
    for stage in (
        "CsvExampleGen",
        "StatisticsGen",
        "SchemaGen",
        "ExampleValidator",
        "Transform",
        "Trainer",
        "Evaluator",
        "Pusher",
        "DriftValidator",
        "BlessingGate",
        "RegistryPusher",
    ):
        assert stage in ran, f"{stage} did not run; ran: {sorted(ran)}"


def test_gate_blessed_and_both_pushers_pushed(penguin_run):
    from tfx_addons_lab.mlmd import prop
    from tfx_addons_lab.registry import open_registry

    out, stdout = penguin_run
    view = metadata_view(out)
    gate_blessings = [
        a
        for a in view.artifacts_of_type("ModelBlessing")
        if view.component_id(view.producer(a.id)) == "BlessingGate"
    ]
    assert gate_blessings and prop(gate_blessings[-1], "blessed") == 1
    assert (Path(gate_blessings[-1].uri) / "BLESSED").exists()
    pushed = {
        view.component_id(view.producer(a.id)): a for a in view.artifacts_of_type("PushedModel")
    }
    assert prop(pushed["Pusher"], "pushed") == 1
    assert prop(pushed["RegistryPusher"], "pushed") == 1
    registry = open_registry(str(out / "registry"))
    versions = registry.list("penguin")
    assert [v.version for v in versions] == [1]
    assert registry.aliases("penguin") == {"champion": 1}
    assert registry.verify("penguin", 1).ok
    lineage = registry.get("penguin", "champion").metadata
    assert lineage["data_spans"] == [0]
    assert lineage["pipeline_name"] == "penguin-addons"
    assert lineage["source_uri"].endswith(tuple("0123456789"))
    # The summary the user sees names the verdicts and where things are.
    assert "gate" in stdout and "drift" in stdout and "report.html" in stdout


def test_drift_report_and_gate_report_files(penguin_run):
    out, _ = penguin_run
    view = metadata_view(out)
    drift = view.artifacts_of_type("tfx_addons_lab.DriftReport")[-1]
    files = {p.name for p in Path(drift.uri).rglob("*")}
    assert {"report.json", "report.html"} <= files
    report = json.loads(next(Path(drift.uri).rglob("report.json")).read_text())
    names = {f["name"] for f in report["features"]}
    assert {"culmen_length_mm", "body_mass_g"} <= names
    gate = view.artifacts_of_type("tfx_addons_lab.GateReport")[-1]
    gate_report = json.loads((Path(gate.uri) / "gate_report.json").read_text())
    assert gate_report["checks"], "the gate report lists no checks"


def _lineage(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "tfx-addons-lab"),
            "lineage",
            "--metadata",
            str(out / "metadata.sqlite"),
            "--registry",
            str(out / "registry"),
            "penguin@champion",
            *extra,
        ],
        capture_output=True,
        text=True,
    )


def test_lineage_cli_from_registry_alias(penguin_run):
    out, _ = penguin_run
    proc = _lineage(out, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["registry"]["version"] == 1
    types = {n["type"] for n in result["nodes"]}
    for t in (
        "PushedModel",
        "Model",
        "Examples",
        "ExampleStatistics",
        "Schema",
        "tfx_addons_lab.DriftReport",
        "tfx_addons_lab.GateReport",
    ):
        assert t in types, f"{t} missing from lineage: {sorted(types)}"
    executions = {n["name"] for n in result["nodes"] if n["kind"] == "execution"}
    assert {"Trainer", "RegistryPusher", "BlessingGate", "CsvExampleGen"} <= executions
    text = _lineage(out)
    assert text.returncode == 0 and "Trainer" in text.stdout and "span=" in text.stdout


def test_rerun_with_unchanged_inputs_is_cached(penguin_run):
    """A second run with unchanged inputs reuses TFX's cache instead of retraining."""
    out, _ = penguin_run
    run_example("penguin", out, timeout=900)
    view = metadata_view(out)
    trainer_execs = executions_of(view, "Trainer")
    assert len(trainer_execs) == 2
    assert trainer_execs[-1].last_known_state == CACHED
    # The champion alias points at the (cached) candidate itself: no baseline, never a
    # comparison of the model with itself, so Evaluator's inputs equal run 1's: a cache hit.
    evaluator_execs = executions_of(view, "Evaluator")
    assert evaluator_execs[-1].last_known_state == CACHED
    for execution in evaluator_execs:
        inputs = {key: art.id for key, art in view.inputs(execution.id)}
        assert "baseline_model" not in inputs, inputs

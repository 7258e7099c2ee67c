"""The flights continuous-training loop, end to end, asserted from ML Metadata and the registry.

Months 3-6 of 2013 (March-June), one pipeline run per month. The March->April
temperature/humidity shift is flagged as drift, so April's candidate is refused and recorded
as a refused registry version; the example's scripted reviewer approves exactly that version
with a justification, rolls the champion back after May, and June is judged against the
rolled-back champion. Nothing here reads the printed timeline: every assertion comes from
ML Metadata, the registry, the TF Serving config and the drift-history JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .example_runs import by_component, executions_of, metadata_view, run_example

pytestmark = pytest.mark.e2e

FIRST, MONTHS = 3, 4  # March..June


@pytest.fixture(scope="module")
def flights_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("flights")
    stdout = run_example(
        "flights",
        out,
        "--first-month",
        str(FIRST),
        "--months",
        str(MONTHS),
        "--rows-per-span",
        "3000",
        "--train-steps",
        "100",
    )
    return out, stdout


@pytest.fixture(scope="module")
def registry(flights_run):
    from tfx_addons_lab.registry import open_registry

    out, _ = flights_run
    return open_registry(f"tfserving://{out / 'registry'}")


def _span_of_run(view, execution) -> int:
    """The span a run's execution worked on: its Examples' span, or its drift report's."""
    from tfx_addons_lab.mlmd import prop

    for key, art in view.inputs(execution.id):
        if view.artifact_type(art) == "Examples":
            return int(prop(art, "span"))
        if key == "drift_report":
            return int(prop(art, "current_span"))
    raise AssertionError(f"execution {execution.id} consumed no Examples and no drift report")


def _gate_runs(view):
    """``{span: (gate execution, its ModelBlessing)}`` for each month, from ML Metadata."""
    runs = {}
    for execution in executions_of(view, "BlessingGate"):
        outputs = dict(view.outputs(execution.id))
        runs[_span_of_run(view, execution)] = (execution, outputs["blessing"])
    return runs


def test_one_run_per_span_with_span_named_drift(flights_run):
    from tfx_addons_lab.mlmd import prop

    out, _ = flights_run
    view = metadata_view(out)
    spans = [prop(a, "span") for a in by_component(view, "Examples", "CsvExampleGen")]
    assert spans == list(range(FIRST, FIRST + MONTHS))
    reports = by_component(view, "tfx_addons_lab.DriftReport", "DriftValidator")
    assert len(reports) == MONTHS
    assert prop(reports[0], "status") == "no_baseline"
    assert [prop(r, "current_span") for r in reports] == spans
    # each later month is compared with the month before, and the report names both spans
    assert [prop(r, "baseline_spans") for r in reports[1:]] == [str(s) for s in spans[:-1]]
    report = json.loads(next(Path(reports[1].uri).rglob("report.json")).read_text())
    assert report["current_span"] == FIRST + 1
    assert "@span" in json.dumps(report)


def test_drifted_month_is_refused_and_recorded_as_a_refused_version(flights_run, registry):
    from tfx_addons_lab.mlmd import prop

    out, _ = flights_run
    view = metadata_view(out)
    drift = {
        prop(r, "current_span"): r
        for r in by_component(view, "tfx_addons_lab.DriftReport", "DriftValidator")
    }
    gates = _gate_runs(view)
    refused = [v for v in registry.list("flights") if v.metadata["verdict"]["status"] == "refused"]
    assert refused, "a drifted month must be recorded as a refused version"
    first_refused = refused[0]
    (span,) = first_refused.metadata["data_spans"]
    # that month drifted, its gate refused it with a reason naming the drift, and its pushed
    # model says "recorded, not deployed"
    assert prop(drift[span], "dataset_drifted") == 1
    _, blessing = gates[span]
    assert prop(blessing, "blessed") == 0
    assert "drift" in first_refused.metadata["verdict"]["reason"].lower()
    pushed = [
        p
        for p in by_component(view, "PushedModel", "RegistryPusher")
        if prop(p, "registry_version") == first_refused.version
    ]
    assert [prop(p, "pushed") for p in pushed] == [0]
    assert prop(pushed[0], "registry_verdict") == "refused"
    # every candidate is a version: one per month (no re-runs here)
    assert len(registry.list("flights")) == MONTHS


def test_reviewer_approved_that_exact_version_then_rolled_back(registry):
    history = registry.alias_history("flights", "champion")
    actions = [e.action for e in history]
    assert "approve" in actions and "rollback" in actions
    approve = history[actions.index("approve")]
    refused = [v for v in registry.list("flights") if v.metadata["verdict"]["status"] == "refused"]
    assert approve.version == refused[0].version
    assert approve.by == "reviewer" and "seasonal" in approve.justification
    assert actions.index("rollback") > actions.index("approve")
    assert set(registry.approvals("flights")) == {approve.version}


def test_next_month_is_judged_against_the_rolled_back_champion(flights_run, registry):
    """The month after the rollback: Evaluator's and the gate's baseline is the registry champion."""

    out, _ = flights_run
    view = metadata_view(out)
    history = registry.alias_history("flights", "champion")
    rollback = next(e for e in history if e.action == "rollback")
    champion_artifact = registry.get("flights", rollback.version).metadata["model_artifact_id"]
    gates = _gate_runs(view)
    last_gate, _ = gates[FIRST + MONTHS - 1]
    baselines = [a for key, a in view.inputs(last_gate.id) if key == "baseline_model"]
    assert [a.id for a in baselines] == [champion_artifact]
    evaluations = [
        e for e in executions_of(view, "Evaluator") if _span_of_run(view, e) == FIRST + MONTHS - 1
    ]
    assert [[a.id for k, a in view.inputs(e.id) if k == "baseline_model"] for e in evaluations] == [
        [champion_artifact]
    ]
    gate_report = by_component(view, "tfx_addons_lab.GateReport", "BlessingGate")[-1]
    data = json.loads((Path(gate_report.uri) / "gate_report.json").read_text())
    assert data["baseline_model"]["id"] == champion_artifact
    assert (Path(gate_report.uri) / "gate_report.html").is_file()
    # a candidate is never its own champion
    for gate, _ in gates.values():
        model = [a.id for k, a in view.inputs(gate.id) if k == "model"]
        assert not set(model) & {a.id for k, a in view.inputs(gate.id) if k == "baseline_model"}


def test_tf_serving_config_serves_the_champion(flights_run, registry):
    out, _ = flights_run
    text = (out / "registry" / "models.config").read_text()
    champion = registry.aliases("flights")["champion"]
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    (model,) = config.model_config_list.config
    assert model.name == "flights"
    assert list(model.model_version_policy.specific.versions) == [champion]
    assert model.version_labels["champion"] == champion


def test_drift_history_page_covers_every_month(flights_run):
    out, _ = flights_run
    doc = json.loads((out / "drift_history" / "drift_history.json").read_text())
    assert (out / "drift_history" / "drift_history.html").is_file()
    assert len(doc["columns"]) == MONTHS
    kinds = json.dumps(doc)
    assert "approve" in kinds and "rollback" in kinds

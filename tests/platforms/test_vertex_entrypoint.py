"""The compiled penguin spec runs through TFX's Vertex AI / Kubeflow v2 container entrypoint.

Every task is one ``python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor``
subprocess fed the ``ExecutorInput`` JSON that Vertex's launcher would build (see
``vertex_harness.py``), with local paths instead of gs://. Two pipeline jobs share one
emulated ML Metadata: the first has no blessed model yet (the latest-blessed-model resolver
returns nothing); the second must find the first job's blessed model through the resolver's
two metadata queries and give it to Evaluator as ``baseline_model``, even though the newest
blessed ``tfx.ModelBlessing`` is our BlessingGate's. Unchanged tasks are cache hits, as on
Vertex.

"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from vertex_harness import VertexHarness  # noqa: E402

pytestmark = pytest.mark.e2e

RESOLVER_BLESSING = "latest_blessed_model_resolver-model-blessing-resolver"
RESOLVER_MODEL = "latest_blessed_model_resolver-model-resolver"


def _task_env() -> dict:
    env = dict(os.environ)
    paths = [str(REPO / "src"), str(REPO)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("TF_USE_LEGACY_KERAS", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


@pytest.fixture(scope="module")
def vertex_runs(tmp_path_factory):
    from examples.common import compile_kubeflow
    from examples.penguin.pipeline import create_pipeline, prepare_data

    root = tmp_path_factory.mktemp("vertex")
    out = root / "out"
    data = prepare_data(root / "data")
    pipeline = create_pipeline(str(out), data_root=str(data), train_steps=100)
    spec = compile_kubeflow(pipeline, str(root / "penguin.json"))
    harness = VertexHarness(spec, root / "vertex", env=_task_env())
    started = time.time()
    first = harness.run("job-1")
    second = harness.run("job-2") if first.ok else None
    timing = {"job-1": round(first.seconds), "job-2": round(second.seconds) if second else None}
    print(
        f"\nVertex entrypoint harness wall times (s): {timing}, total {time.time() - started:.0f}"
    )
    for run in (first, second):
        for task in run.tasks.values() if run else []:
            print(f"  {run.run_id} {task.name:55s} {task.status:9s} {task.seconds:6.1f} s")
    return {"harness": harness, "first": first, "second": second, "out": out}


def test_first_job_every_task_succeeds(vertex_runs):
    first = vertex_runs["first"]
    assert first.ok, first.failures()
    ran = {n for n, t in first.tasks.items() if t.status == "succeeded"}
    assert {"Trainer", "Evaluator", "DriftValidator", "BlessingGate", "RegistryPusher"} <= ran
    # Nothing blessed yet: both resolver queries come back empty; Evaluator has no baseline.
    assert first.tasks[RESOLVER_BLESSING].outputs["model_blessing"] == []
    assert first.tasks[RESOLVER_MODEL].outputs["model"] == []
    assert "baseline_model" not in first.tasks["Evaluator"].executor_input["inputs"]["artifacts"]


def test_drift_verdict_in_the_drift_report(vertex_runs):
    first = vertex_runs["first"]
    assert first.ok, first.failures()
    report = first.output("DriftValidator", "drift_report")
    assert report.title == "tfx_addons_lab.DriftReport"
    assert report.metadata["status"] == "ok"
    assert report.metadata["dataset_drifted"] in (0, 1)  # a JSON number after the round trip
    payload = json.loads(next(Path(report.uri).rglob("report.json")).read_text())
    assert isinstance(payload["dataset_drifted"], bool)
    assert payload["drift_share"] == pytest.approx(report.metadata["drift_share"])


def test_gate_blesses_with_resource_name_ids(vertex_runs):
    first = vertex_runs["first"]
    assert first.ok, first.failures()
    model = first.output("Trainer", "model")
    blessing = first.output("BlessingGate", "blessing")
    assert blessing.title == "tfx.ModelBlessing"
    assert blessing.metadata["blessed"] == 1, blessing.metadata.get("reason")
    assert (Path(blessing.uri) / "BLESSED").exists()
    # As for Evaluator's blessing: the model's resource name, not a float-mangled hash.
    assert blessing.metadata["current_model_id"] == model.name
    assert first.output("Evaluator", "blessing").metadata["current_model_id"] == model.name
    report = first.output("BlessingGate", "report")
    assert report.title == "tfx_addons_lab.GateReport"
    assert report.metadata["passed"] == 1


def test_registry_pusher_creates_a_version(vertex_runs):
    from tfx_addons_lab.registry import open_registry

    first = vertex_runs["first"]
    assert first.ok, first.failures()
    pushed = first.output("RegistryPusher", "pushed_model")
    assert pushed.metadata["pushed"] == 1
    assert pushed.metadata["registry_version"] == 1
    versions = open_registry(str(vertex_runs["out"] / "registry")).list("penguin")
    assert [v.version for v in versions] == [1]
    meta = versions[0].metadata
    assert meta["source_uri"] == first.output("Trainer", "model").uri
    # The gate's properties survive Vertex's JSON round trip into the registry's lineage.
    assert meta["blessing"]["blessed"] == 1
    assert meta["gate_reasons"] and meta["gate_reasons"][0].startswith("BLESSED")
    assert meta["data_spans"] == [0]
    assert "champion" in versions[0].aliases or open_registry(
        str(vertex_runs["out"] / "registry")
    ).aliases("penguin") == {"champion": 1}


def test_second_job_resolves_the_blessed_model_as_baseline(vertex_runs):
    first, second = vertex_runs["first"], vertex_runs["second"]
    assert second is not None and second.ok, second.failures() if second else "job-1 failed"
    model_1 = first.output("Trainer", "model")
    # The newest blessed tfx.ModelBlessing is our gate's: it must lead to the same model.
    picked = second.output(RESOLVER_BLESSING, "model_blessing")
    assert picked is not None and picked.name == first.output("BlessingGate", "blessing").name
    resolved = second.output(RESOLVER_MODEL, "model")
    assert resolved is not None and resolved.name == model_1.name
    evaluator_input = second.tasks["Evaluator"].executor_input["inputs"]["artifacts"]
    assert [a["name"] for a in evaluator_input["baseline_model"]["artifacts"]] == [model_1.name]
    assert second.tasks["Evaluator"].status == "succeeded"
    # Unchanged upstream tasks are cache hits, as on Vertex.
    assert second.tasks["Trainer"].status == "cached"
    assert second.tasks["DriftValidator"].status == "cached"
    blessing = second.output("BlessingGate", "blessing")
    assert blessing.metadata["blessed"] == 1, blessing.metadata.get("reason")
    assert second.output("Evaluator", "blessing").metadata["baseline_model_id"] == model_1.name

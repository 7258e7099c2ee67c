"""The compiled penguin spec runs through TFX's Vertex AI / Kubeflow v2 container entrypoint.

Every task is one ``python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor``
subprocess fed the ``ExecutorInput`` JSON that Vertex's launcher would build (see
``vertex_harness.py``), with local paths instead of gs://. Three pipeline jobs share one
emulated ML Metadata and one registry. The champion is the RegistryChampion component
(``registry_champion_resolver(..., kubeflow=True)``): in job 1 the registry is empty, so
its ``model`` is a stand-in (``champion_found=0``) that the gate ignores; job 2 has
unchanged inputs (every task but RegistryPusher a cache hit, as on Vertex: the champion
alias points at the candidate itself, never compared with itself; RegistryPusher's resolved
job-name parameter differs per job, so it runs and finds the model already pushed); job 3
trains a new candidate (another ``train_steps``) and gets a copy of registry version 1 as Evaluator's and the gate's baseline.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from vertex_harness import VertexHarness, task_env  # noqa: E402

pytestmark = pytest.mark.e2e

CHAMPION = "Trainer_registry_champion"


@pytest.fixture(scope="module")
def vertex_runs(tmp_path_factory):
    from examples.common import compile_kubeflow
    from examples.penguin.pipeline import create_pipeline, prepare_data

    root = tmp_path_factory.mktemp("vertex")
    out = root / "out"
    data = prepare_data(root / "data")
    pipeline = create_pipeline(str(out), data_root=str(data), train_steps=100, kubeflow=True)
    spec = compile_kubeflow(pipeline, str(root / "penguin.json"))
    harness = VertexHarness(spec, root / "vertex", env=task_env())
    started = time.time()
    first = harness.run("job-1")
    second = harness.run("job-2") if first.ok else None
    third = None
    if second is not None and second.ok:
        # A new candidate (another train_steps), same metadata store and registry.
        pipeline = create_pipeline(str(out), data_root=str(data), train_steps=60, kubeflow=True)
        spec = compile_kubeflow(pipeline, str(root / "penguin-60.json"))
        third = VertexHarness(spec, root / "vertex", env=task_env()).run("job-3")
    runs = (first, second, third)
    timing = {r.run_id: round(r.seconds) for r in runs if r}
    print(
        f"\nVertex entrypoint harness wall times (s): {timing}, total {time.time() - started:.0f}"
    )
    for run in runs:
        for task in run.tasks.values() if run else []:
            print(f"  {run.run_id} {task.name:55s} {task.status:9s} {task.seconds:6.1f} s")
    return {"harness": harness, "first": first, "second": second, "third": third, "out": out}


def test_first_job_every_task_succeeds(vertex_runs):
    first = vertex_runs["first"]
    assert first.ok, first.failures()
    ran = {n for n, t in first.tasks.items() if t.status == "succeeded"}
    assert {"Trainer", "Evaluator", "DriftValidator", "BlessingGate", "RegistryPusher"} <= ran
    # Empty registry: the champion is a stand-in copy of the candidate, which the gate ignores.
    assert first.tasks[CHAMPION].status == "succeeded"
    stand_in = first.output(CHAMPION, "model")
    assert stand_in.title == "tfx.Model"
    assert stand_in.metadata["champion_found"] == 0 and "first run" in stand_in.metadata["reason"]
    assert stand_in.name != first.output("Trainer", "model").name
    evaluator_input = first.tasks["Evaluator"].executor_input["inputs"]["artifacts"]
    assert [a["name"] for a in evaluator_input["baseline_model"]["artifacts"]] == [stand_in.name]
    report_uri = Path(first.output("BlessingGate", "report").uri)
    report = json.loads((report_uri / "gate_report.json").read_text())
    assert report["baseline_present"] is False and "first run" in report["no_champion"]
    assert "baseline_model_id" not in first.output("BlessingGate", "blessing").metadata


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
    registry = open_registry(str(vertex_runs["out"] / "registry"))
    versions = registry.list("penguin")
    assert versions[0].version == 1  # job 3 may add version 2 (see the last test)
    meta = versions[0].metadata
    assert meta["source_uri"] == first.output("Trainer", "model").uri
    # The gate's properties survive Vertex's JSON round trip into the registry's lineage.
    assert meta["blessing"]["blessed"] == 1
    assert meta["gate_reasons"] and meta["gate_reasons"][0].startswith("BLESSED")
    assert meta["data_spans"] == [0]
    assert registry.alias_history("penguin", "champion")[0].version == 1
    # Run identity on Vertex: the KFP placeholders compiled into the task's parameters were
    # resolved for job-1 (as the backend does) and recorded; no pipeline name is available.
    params = first.tasks["RegistryPusher"].executor_input["inputs"]["parameters"]
    assert params["pipeline_job_name"] == {"stringValue": "job-1"}
    assert meta["pipeline_run_id"] == "job-1"
    assert meta["pipeline_job_uuid"] == first.job_uuid and first.job_uuid
    assert meta["component_id"] == "RegistryPusher"
    assert "pipeline_name" not in meta


def test_the_spec_carries_kfp_placeholders_only_for_registry_pusher(vertex_runs):
    spec = vertex_runs["harness"].spec
    tasks = spec["root"]["dag"]["tasks"]
    params = tasks["RegistryPusher"]["inputs"]["parameters"]
    assert {
        k: params[k]["runtimeValue"]["constantValue"]["stringValue"]
        for k in ("pipeline_job_name", "pipeline_job_uuid", "pipeline_task_name")
    } == {
        "pipeline_job_name": "{{$.pipeline_job_name}}",
        "pipeline_job_uuid": "{{$.pipeline_job_uuid}}",
        "pipeline_task_name": "{{$.pipeline_task_name}}",
    }
    others = json.dumps({n: t for n, t in tasks.items() if n != "RegistryPusher"})
    assert "{{$.pipeline_job" not in others


def test_unchanged_second_job_is_cached_and_never_compares_the_model_with_itself(vertex_runs):
    first, second = vertex_runs["first"], vertex_runs["second"]
    assert second is not None and second.ok, second.failures() if second else "job-1 failed"
    model_1 = first.output("Trainer", "model")
    # Unchanged tasks are cache hits, as on Vertex; the champion task too (its inputs are
    # unchanged), so the stand-in of job 1 stays: no champion, not the candidate itself.
    for task in ("Trainer", "DriftValidator", CHAMPION, "Evaluator"):
        assert second.tasks[task].status == "cached", task
    champion = second.output(CHAMPION, "model")
    assert champion.metadata["champion_found"] == 0 and champion.name != model_1.name
    assert second.output("BlessingGate", "blessing").metadata["blessed"] == 1
    # RegistryPusher is not a cache hit: its resolved job name differs per job (KFP's driver
    # keys the cache on the resolved input; Vertex assumed alike). It re-pushes the same
    # model: no new version, and version 1 keeps the run that created it.
    assert second.tasks["RegistryPusher"].status == "succeeded"
    pushed = second.output("RegistryPusher", "pushed_model")
    assert pushed.metadata["registry_already_pushed"] == 1
    assert pushed.metadata["registry_version"] == 1
    from tfx_addons_lab.registry import open_registry

    registry = open_registry(str(vertex_runs["out"] / "registry"))
    assert registry.get("penguin", 1).metadata["pipeline_run_id"] == "job-1"


def test_third_job_compares_with_the_registry_champion(vertex_runs):
    first, third = vertex_runs["first"], vertex_runs["third"]
    assert third is not None and third.ok, third.failures() if third else "job-2 failed"
    model_1, model_3 = first.output("Trainer", "model"), third.output("Trainer", "model")
    assert third.tasks["Trainer"].status == "succeeded" and model_3.name != model_1.name
    assert third.tasks[CHAMPION].status == "succeeded"
    champion = third.output(CHAMPION, "model")
    assert champion.metadata["champion_found"] == 1
    assert champion.metadata["registry_version"] == 1
    assert champion.metadata["source_uri"] == model_1.uri
    # A copy of registry version 1 (job 1's model), byte for byte.
    copied = Path(champion.uri) / "Format-Serving" / "saved_model.pb"
    assert (
        copied.read_bytes()
        == (Path(model_1.uri) / "Format-Serving" / "saved_model.pb").read_bytes()
    )
    evaluator_input = third.tasks["Evaluator"].executor_input["inputs"]["artifacts"]
    assert [a["name"] for a in evaluator_input["baseline_model"]["artifacts"]] == [champion.name]
    assert third.tasks["Evaluator"].status == "succeeded"
    assert third.output("Evaluator", "blessing").metadata["baseline_model_id"] == champion.name
    gate_input = third.tasks["BlessingGate"].executor_input["inputs"]["artifacts"]
    assert [a["name"] for a in gate_input["baseline_model"]["artifacts"]] == [champion.name]
    # Blessed against the champion -> version 2 becomes the champion; refused -> unchanged.
    from tfx_addons_lab.registry import open_registry

    registry = open_registry(str(vertex_runs["out"] / "registry"))
    blessed = third.output("BlessingGate", "blessing").metadata["blessed"]
    assert [v.version for v in registry.list("penguin")] == ([1, 2] if blessed else [1])
    assert registry.aliases("penguin")["champion"] == (2 if blessed else 1)

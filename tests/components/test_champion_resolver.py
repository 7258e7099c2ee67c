"""registry_champion_resolver in real LocalDagRunner pipelines: the registry picks the champion.

One pipeline (CsvExampleGen -> StatisticsGen -> SchemaGen -> tiny Trainer -> champion
resolver -> BlessingGate comparing ``train_steps`` from each model's metrics.json ->
RegistryPusher with the ``champion`` alias), run again and again on one SQLite ML Metadata
store and one folder registry, as continuous training does:

1. 5 steps: no registry yet -> no champion; pushed as v1 (champion).
2. 6 steps: the champion is v1's Model artifact; pushed as v2 (champion).
3. 6 steps again (unchanged inputs, Trainer cached): the alias points at the candidate
   itself -> no champion, never a comparison of the model with itself.
4. ``tfx-addons-lab registry rollback --alias champion`` (the CLI, in a subprocess), then
   7 steps: the champion is v1's Model again, not v2 (the newer blessed one).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_utils import custom_property, run_pipeline
from tfx_addons_lab.registry import open_registry

pytestmark = pytest.mark.e2e

TRAINER_MODULE = str(Path(__file__).with_name("registry_pusher_trainer.py"))
PIPELINE = "champion-test"
REPO = Path(__file__).resolve().parents[2]


def _components(data: Path, registry: Path, steps: int, kubeflow: bool = False):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import (
        BlessingGate,
        RegistryPusher,
        registry_champion_resolver,
    )

    example_gen = tfx.components.CsvExampleGen(input_base=str(data))
    stats = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema = tfx.components.SchemaGen(statistics=stats.outputs["statistics"])
    trainer = tfx.components.Trainer(
        module_file=TRAINER_MODULE,
        examples=example_gen.outputs["examples"],
        schema=schema.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=steps),
        eval_args=tfx.proto.EvalArgs(num_steps=1),
    )
    champion = registry_champion_resolver(
        trainer, str(registry), "penguin", alias="champion", kubeflow=kubeflow
    )
    gate = BlessingGate(
        model=trainer.outputs["model"],
        baseline_model=champion.outputs["model"],
        metrics_source="model",
        champion_metric="train_steps",
        no_baseline_policy="bless",
    )
    pusher = RegistryPusher(
        model=trainer.outputs["model"],
        model_blessing=gate.outputs["blessing"],
        registry_uri=str(registry),
        model_name="penguin",
        aliases=["champion"],
    )
    return [example_gen, stats, schema, trainer, champion, gate, pusher]


def _node_executions(run, component_id: str):
    from tfx_addons_lab.mlmd import MetadataView

    view = MetadataView(run.store)
    return sorted(
        (e for e in view.store.get_executions() if view.component_id(e) == component_id),
        key=lambda e: e.id,
    )


def _inputs(run, execution) -> dict:
    out: dict = {}
    for e in run.store.get_events_by_execution_ids([execution.id]):
        if e.type == e.INPUT:
            out.setdefault(e.path.steps[0].key, []).append(e.artifact_id)
    return out


def _outputs(run, execution) -> dict:
    out: dict = {}
    for e in run.store.get_events_by_execution_ids([execution.id]):
        if e.type == e.OUTPUT:
            out.setdefault(e.path.steps[0].key, []).append(e.artifact_id)
    return out


def _gate_view(run) -> dict:
    """The latest BlessingGate execution: its model and baseline_model input ids, blessing."""
    execution = _node_executions(run, "BlessingGate")[-1]
    inputs = _inputs(run, execution)
    blessing = run.store.get_artifacts_by_id(_outputs(run, execution)["blessing"])[0]
    return {
        "execution": execution,
        "model": inputs["model"],
        "baseline": inputs.get("baseline_model", []),
        "blessing": blessing,
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory, penguins_frame):
    from pipeline_utils import write_penguins_csv

    root = tmp_path_factory.mktemp("champion")
    data = write_penguins_csv(penguins_frame, root / "data")
    registry = root / "registry"
    base = root / "pipeline"
    out = {"registry": registry}
    out["run1"] = run_pipeline(_components(data, registry, 5), base, PIPELINE, enable_cache=True)
    out["gate1"] = _gate_view(out["run1"])
    out["run2"] = run_pipeline(_components(data, registry, 6), base, PIPELINE, enable_cache=True)
    out["gate2"] = _gate_view(out["run2"])
    out["run3"] = run_pipeline(_components(data, registry, 6), base, PIPELINE, enable_cache=True)
    out["gate3"] = _gate_view(out["run3"])
    out["rollback"] = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfx_addons_lab",
            "registry",
            "rollback",
            str(registry),
            "penguin",
            "--alias",
            "champion",
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO / "src")},
    )
    out["run4"] = run_pipeline(_components(data, registry, 7), base, PIPELINE, enable_cache=True)
    out["gate4"] = _gate_view(out["run4"])
    return out


def _models(run):
    return run.artifacts("Model")


def test_first_run_has_no_champion_and_pushes_v1(runs):
    gate = runs["gate1"]
    assert gate["baseline"] == []
    assert custom_property(gate["blessing"], "blessed") == 1
    reg = open_registry(str(runs["registry"]))
    assert reg.get("penguin", 1).metadata["model_artifact_id"] == gate["model"][0]


def test_second_run_compares_with_v1_from_the_registry(runs):
    reg = open_registry(str(runs["registry"]))
    v1, v2 = reg.get("penguin", 1), reg.get("penguin", 2)
    gate = runs["gate2"]
    assert gate["baseline"] == [v1.metadata["model_artifact_id"]]
    assert gate["model"] == [v2.metadata["model_artifact_id"]] != gate["baseline"]
    assert custom_property(gate["blessing"], "blessed") == 1
    assert custom_property(gate["blessing"], "baseline_model_id") == gate["baseline"][0]


def test_unchanged_rerun_never_compares_the_model_with_itself(runs):
    run2, gate2, gate3 = runs["run2"], runs["gate2"], runs["gate3"]
    # The Trainer was cached: run 3's candidate is run 2's model, which the alias points at.
    assert gate3["model"] == gate2["model"]
    assert open_registry(str(runs["registry"])).aliases("penguin") != {}
    assert gate3["baseline"] == []
    assert gate3["model"][0] not in gate3["baseline"]
    # No ML Metadata execution anywhere got the same model as model and baseline_model.
    for component_id in ("BlessingGate",):
        for execution in _node_executions(run2, component_id):
            inputs = _inputs(run2, execution)
            assert not set(inputs.get("model", [])) & set(inputs.get("baseline_model", []))


def test_rollback_makes_the_next_run_compare_with_v1(runs):
    assert runs["rollback"].returncode == 0, runs["rollback"].stderr[-2000:]
    reg = open_registry(str(runs["registry"]))
    v1 = reg.get("penguin", 1)
    gate4 = runs["gate4"]
    # The newest blessed model is v2's, but the registry says v1: the run follows the registry.
    assert gate4["baseline"] == [v1.metadata["model_artifact_id"]]
    newest = max(a.id for a in _models(runs["run4"]))
    assert gate4["model"] == [newest]
    assert custom_property(gate4["blessing"], "blessed") == 1
    # The candidate (7 steps) beat v1 (5 steps) and was pushed as v3, now the champion.
    assert reg.aliases("penguin")["champion"] == 3

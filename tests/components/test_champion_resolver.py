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

The same with ``kubeflow=True`` (the RegistryChampion component KubeflowV2DagRunner compiles):
its ``model`` output is a copy of the champion, or a stand-in the gate ignores.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_utils import custom_property, run_pipeline
from tfx_addons_lab.registry import open_registry

from .registry_pusher_testlib import trainer_pipeline

pytestmark = pytest.mark.e2e

PIPELINE = "champion-test"
REPO = Path(__file__).resolve().parents[2]


def _components(data: Path, registry: Path, steps: int, kubeflow: bool = False):
    from tfx_addons_lab.components import (
        BlessingGate,
        RegistryPusher,
        registry_champion_resolver,
    )

    prefix, trainer = trainer_pipeline(data, steps)
    champion = registry_champion_resolver(
        trainer, str(registry), "penguin", alias="champion", kubeflow=kubeflow
    )
    gate = BlessingGate(
        model=trainer.outputs["model"],
        baseline_model=champion.outputs["model"],
        metrics_source="model",
        champion_metric="train_steps",
        min_improvement=1.0,  # so a comparison with the candidate itself would refuse it
        no_baseline_policy="bless",
    )
    pusher = RegistryPusher(
        model=trainer.outputs["model"],
        model_blessing=gate.outputs["blessing"],
        registry_uri=str(registry),
        model_name="penguin",
        aliases=["champion"],
    )
    return [*prefix, champion, gate, pusher]


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


# -- kubeflow=True: the RegistryChampion component ------------------------------------------


def _champion_output(run):
    execution = _node_executions(run, "Trainer_registry_champion")[-1]
    return run.store.get_artifacts_by_id(_outputs(run, execution)["model"])[0]


@pytest.fixture(scope="module")
def component_runs(tmp_path_factory, penguins_frame):
    from pipeline_utils import write_penguins_csv

    root = tmp_path_factory.mktemp("champion_component")
    data = write_penguins_csv(penguins_frame, root / "data")
    registry, base = root / "registry", root / "pipeline"
    out = {"registry": registry}
    for n, steps in ((1, 5), (2, 6)):
        run = run_pipeline(
            _components(data, registry, steps, kubeflow=True), base, PIPELINE, enable_cache=True
        )
        out[f"run{n}"], out[f"gate{n}"] = run, _gate_view(run)
        out[f"champion{n}"] = _champion_output(run)
    return out


def test_component_without_champion_outputs_a_stand_in_the_gate_ignores(component_runs):
    champion, gate = component_runs["champion1"], component_runs["gate1"]
    candidate = component_runs["run1"].store.get_artifacts_by_id(gate["model"])[0]
    assert custom_property(champion, "champion_found") == 0
    assert custom_property(champion, "same_as_candidate") == 0
    assert "first run" in custom_property(champion, "reason")
    # a copy of the candidate (Evaluator could load it), never the candidate artifact itself
    assert champion.id != candidate.id
    assert (Path(champion.uri) / "Format-Serving" / "saved_model.pb").read_bytes() == (
        Path(candidate.uri) / "Format-Serving" / "saved_model.pb"
    ).read_bytes()
    # With min_improvement=1 a comparison with the stand-in (5 vs 5 steps) would refuse;
    # the gate judged without a baseline (no_baseline_policy="bless").
    assert gate["baseline"] == [champion.id]
    assert custom_property(gate["blessing"], "blessed") == 1
    assert "baseline_model_id" not in gate["blessing"].custom_properties
    run = component_runs["run1"]
    report_id = _outputs(run, gate["execution"])["report"][0]
    report_uri = Path(run.store.get_artifacts_by_id([report_id])[0].uri)
    report = json.loads((report_uri / "gate_report.json").read_text())
    assert report["baseline_present"] is False and "first run" in report["no_champion"]


def test_component_copies_the_registry_champion(component_runs):
    reg = open_registry(str(component_runs["registry"]))
    v1 = reg.get("penguin", 1)
    champion, gate = component_runs["champion2"], component_runs["gate2"]
    assert custom_property(champion, "champion_found") == 1
    assert custom_property(champion, "registry_version") == 1
    assert custom_property(champion, "source_model_artifact_id") == v1.metadata["model_artifact_id"]
    assert custom_property(champion, "source_uri") == v1.metadata["source_uri"]
    assert (Path(champion.uri) / "Format-Serving" / "saved_model.pb").read_bytes() == (
        Path(v1.uri) / "saved_model.pb"
    ).read_bytes()
    assert gate["baseline"] == [champion.id]
    assert custom_property(gate["blessing"], "blessed") == 1  # 6 steps vs 5: +1
    assert reg.aliases("penguin")["champion"] == 2


def _model_artifact(uri: Path, artifact_id: int):
    from tfx.types import standard_artifacts

    serving = uri / "Format-Serving"
    serving.mkdir(parents=True)
    (serving / "saved_model.pb").write_bytes(b"model %d" % artifact_id)
    model = standard_artifacts.Model()
    model.uri, model.id = str(uri), artifact_id
    return model


def test_component_marks_the_candidate_itself_and_refuses_a_missing_model(tmp_path):
    from tfx.types import standard_artifacts

    from tfx_addons_lab.components import RegistryChampion
    from tfx_addons_lab.registry.champion import ChampionError

    candidate = _model_artifact(tmp_path / "trainer" / "7", 7)
    reg = open_registry(str(tmp_path / "registry"))
    version = reg.push(
        "penguin",
        str(tmp_path / "trainer" / "7" / "Format-Serving"),
        {"source_uri": candidate.uri, "model_artifact_id": 7},
    )
    reg.set_alias("penguin", "champion", version.version)
    out = standard_artifacts.Model()
    out.uri = str(tmp_path / "out1")
    kwargs = {"registry_uri": str(tmp_path / "registry"), "model_name": "penguin"}
    RegistryChampion.test_call(candidate=candidate, model=out, alias="champion", **kwargs)
    assert out.get_int_custom_property("same_as_candidate") == 1
    assert out.get_int_custom_property("champion_found") == 0
    assert (tmp_path / "out1" / "Format-Serving" / "saved_model.pb").read_bytes() == b"model 7"

    # The champion's source and the registry's copy are both gone: fail closed.
    other = _model_artifact(tmp_path / "trainer" / "8", 8)
    reg.set_alias("penguin", "champion", 1)
    import shutil

    shutil.rmtree(tmp_path / "trainer" / "7")
    shutil.rmtree(version.uri)
    out2 = standard_artifacts.Model()
    out2.uri = str(tmp_path / "out2")
    with pytest.raises(ChampionError, match="readable folder"):
        RegistryChampion.test_call(candidate=other, model=out2, alias="champion", **kwargs)


def test_model_source_must_be_a_model(tmp_path):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import registry_champion_resolver
    from tfx_addons_lab.errors import InvalidInputError

    gen = tfx.components.CsvExampleGen(input_base=str(tmp_path))
    with pytest.raises(InvalidInputError, match="has no single Model output"):
        registry_champion_resolver(gen, str(tmp_path / "registry"), "penguin")
    with pytest.raises(InvalidInputError, match="neither a component nor a Model channel"):
        registry_champion_resolver(gen.outputs["examples"], str(tmp_path / "r"), "penguin")
    with pytest.raises(InvalidInputError, match="alias"):
        registry_champion_resolver(
            tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            str(tmp_path / "r"),
            "penguin",
            alias="latest",
        )

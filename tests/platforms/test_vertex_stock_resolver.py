"""Our BlessingGate's blessings never confuse TFX's stock resolver on Vertex AI / Kubeflow v2.

A small pipeline: CsvExampleGen -> StatisticsGen -> SchemaGen -> Trainer (the gate tests'
tiny trainer module), the stock ``tfx.dsl.Resolver`` with ``LatestBlessedModelStrategy`` over
*every* ``ModelBlessing`` (no producer filter), the stock Evaluator with that baseline (an
accuracy floor and a no-worse change threshold), and BlessingGate on the Evaluator's
evaluation and blessing. Compiled with ``KubeflowV2DagRunner``, it runs job after job through
``vertex_harness.VertexHarness`` (each task one ``kubeflow_v2_run_executor`` subprocess, one
emulated ML Metadata): the resolver is the two metadata queries Vertex runs (newest
``tfx.ModelBlessing`` with ``blessed=1``, then the ``tfx.Model`` named by its
``current_model_id``). Both Evaluator and our gate write such blessings; the gate's come
last, so the first query picks ours, and its ``current_model_id`` must lead to the model the
Evaluator blessed.

Jobs (a different ``train_steps`` each, so a different model): job 1 (3 steps) has no
baseline and is blessed by the floor; job 2 (150 steps) beats job 1's model, its baseline;
job 3 (2 steps) is worse than job 2's model and refused by both Evaluator and gate, which
must not hide job 2's model from the next job's resolver.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from vertex_harness import VertexHarness, task_env  # noqa: E402

pytestmark = pytest.mark.e2e

TRAINER_MODULE = str(REPO / "tests" / "components" / "gate_trainer_module.py")
ACC = "sparse_categorical_accuracy"
FLOOR = 0.3
STEPS = {"job-1": 3, "job-2": 150, "job-3": 2}
RESOLVER = "latest_blessed_model_resolver"
BLESSING_QUERY = f"{RESOLVER}-model-blessing-resolver"
MODEL_QUERY = f"{RESOLVER}-model-resolver"


def build_pipeline(pipeline_root: Path, data: Path, steps: int):
    """The pipeline of this module's docstring, ``steps`` Trainer steps."""
    import tensorflow_model_analysis as tfma
    from tfx import v1 as tfx

    from tfx_addons_lab.components import BlessingGate

    example_gen = tfx.components.CsvExampleGen(input_base=str(data))
    stats = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema = tfx.components.SchemaGen(
        statistics=stats.outputs["statistics"], infer_feature_shape=True
    )
    trainer = tfx.components.Trainer(
        module_file=TRAINER_MODULE,
        examples=example_gen.outputs["examples"],
        schema=schema.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=steps),
        eval_args=tfx.proto.EvalArgs(num_steps=2),
    )
    resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id(RESOLVER)
    accuracy = tfma.MetricConfig(
        class_name="SparseCategoricalAccuracy",
        threshold=tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": FLOOR}),
            change_threshold=tfma.GenericChangeThreshold(
                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                absolute={"value": -1e-10},
            ),
        ),
    )
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=resolver.outputs["model"],
        eval_config=tfma.EvalConfig(
            model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key="species")],
            slicing_specs=[tfma.SlicingSpec()],
            metrics_specs=[tfma.MetricsSpec(metrics=[accuracy])],
        ),
    )
    gate = BlessingGate(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        evaluation=evaluator.outputs["evaluation"],
        baseline_model=resolver.outputs["model"],
        metric_thresholds={ACC: {"lower_bound": FLOOR}},
        champion_metric=ACC,
    )
    return tfx.dsl.Pipeline(
        pipeline_name="stock-resolver",
        pipeline_root=str(pipeline_root),
        components=[example_gen, stats, schema, trainer, resolver, evaluator, gate],
        enable_cache=True,  # as on Vertex: the data tasks of jobs 2 and 3 are cache hits
    )


def compile_spec(root: Path, data: Path, steps: int) -> Path:
    from examples.common import compile_kubeflow

    pipeline = build_pipeline(root / "pipeline_root", data, steps)
    return compile_kubeflow(pipeline, str(root / f"stock-resolver-{steps}.json"))


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    from examples.penguin.pipeline import prepare_data

    root = tmp_path_factory.mktemp("vertex-stock-resolver")
    data = prepare_data(root / "data")
    runs: Dict[str, object] = {}
    harness: Optional[VertexHarness] = None
    started = time.time()
    for run_id, steps in STEPS.items():
        spec = compile_spec(root, data, steps)
        harness = VertexHarness(spec, root / "vertex", env=task_env())
        runs[run_id] = run = harness.run(run_id)
        if not run.ok:
            break
    print(f"\nVertex stock-resolver jobs: {time.time() - started:.0f} s")
    for run in runs.values():
        for task in run.tasks.values():
            print(f"  {run.run_id} {task.name:45s} {task.status:9s} {task.seconds:6.1f} s")
    return {"runs": runs, "harness": harness}


def _run(jobs, run_id):
    runs = jobs["runs"]
    assert run_id in runs, f"an earlier job failed: {[r.failures() for r in runs.values()]}"
    run = runs[run_id]
    assert run.ok, run.failures()
    return run


def _latest_evaluator_blessed_model(store, before_seq: Optional[int] = None) -> str:
    """Resource name of the model the stock Evaluator blessed last (independently of queries)."""
    blessed = [
        a
        for a in store.artifacts
        if a.task == "Evaluator"
        and a.title == "tfx.ModelBlessing"
        and a.metadata.get("blessed") == 1
        and (before_seq is None or a.seq < before_seq)
    ]
    assert blessed, "the stock Evaluator blessed nothing"
    return max(blessed, key=lambda a: a.seq).metadata["current_model_id"]


def _first_seq(store, run) -> int:
    """Where ``run`` started publishing (its cache hits are earlier jobs' artifacts)."""
    return min(a.seq for a in store.artifacts if a.run_id == run.run_id)


def test_every_job_runs_and_the_evaluator_decides_as_designed(jobs):
    verdicts = {}
    for run_id in STEPS:
        run = _run(jobs, run_id)
        assert run.tasks["Trainer"].status == "succeeded", run_id  # a new model every job
        verdicts[run_id] = (
            run.output("Evaluator", "blessing").metadata["blessed"],
            run.output("BlessingGate", "blessing").metadata["blessed"],
        )
    # Job 1: the floor (no baseline yet); job 2 beats job 1; job 3 is worse than job 2.
    assert verdicts == {"job-1": (1, 1), "job-2": (1, 1), "job-3": (0, 0)}
    models = {_run(jobs, r).output("Trainer", "model").name for r in STEPS}
    assert len(models) == 3


def test_first_job_has_no_baseline(jobs):
    first = _run(jobs, "job-1")
    assert first.tasks[BLESSING_QUERY].outputs["model_blessing"] == []
    assert first.tasks[MODEL_QUERY].outputs["model"] == []
    assert "baseline_model" not in first.tasks["Evaluator"].executor_input["inputs"]["artifacts"]
    assert "baseline_model_id" not in first.output("Evaluator", "blessing").metadata


@pytest.mark.parametrize("run_id", ["job-2", "job-3"])
def test_resolver_returns_the_model_the_evaluator_blessed_last(jobs, run_id):
    run = _run(jobs, run_id)
    store = jobs["harness"].store
    expected = _latest_evaluator_blessed_model(store, before_seq=_first_seq(store, run))
    # The newest blessed ModelBlessing is our gate's (it comes after Evaluator's) ...
    picked = run.output(BLESSING_QUERY, "model_blessing")
    assert picked is not None and picked.task == "BlessingGate"
    assert isinstance(picked.metadata["current_model_id"], str)
    # ... and it leads to the model the stock Evaluator blessed, by resource name.
    resolved = run.output(MODEL_QUERY, "model")
    assert resolved is not None and resolved.title == "tfx.Model"
    assert resolved.name == expected
    previous = {"job-2": "job-1", "job-3": "job-2"}[run_id]
    assert resolved.name == _run(jobs, previous).output("Trainer", "model").name
    # Evaluator and gate compare with that model.
    for task in ("Evaluator", "BlessingGate"):
        given = run.tasks[task].executor_input["inputs"]["artifacts"]["baseline_model"]
        assert [a["name"] for a in given["artifacts"]] == [expected], task
    assert run.output("Evaluator", "blessing").metadata["baseline_model_id"] == expected
    assert run.output("BlessingGate", "blessing").metadata["baseline_model_id"] == expected


def test_a_refused_model_does_not_hide_the_last_blessed_one(jobs):
    """After job 3 (refused by both), a new job's resolver still finds job 2's model."""
    _run(jobs, "job-3")
    harness = jobs["harness"]
    now = harness.resolve_now()
    expected = _latest_evaluator_blessed_model(harness.store)
    assert expected == _run(jobs, "job-2").output("Trainer", "model").name
    picked = now[BLESSING_QUERY].outputs["model_blessing"]
    assert [a.name for a in picked] == [_run(jobs, "job-2").output("BlessingGate", "blessing").name]
    assert [a.name for a in now[MODEL_QUERY].outputs["model"]] == [expected]


def test_gate_blessings_name_existing_models(jobs):
    """Every gate blessing names its own job's model (and baseline) by resource name."""
    store = jobs["harness"].store
    models = {a.name for a in store.artifacts if a.title == "tfx.Model"}
    for run_id in STEPS:
        run = _run(jobs, run_id)
        gate: Dict = run.output("BlessingGate", "blessing").metadata
        evaluator: Dict = run.output("Evaluator", "blessing").metadata
        model = run.output("Trainer", "model").name
        assert gate["current_model_id"] == evaluator["current_model_id"] == model
        ids: List = [gate["current_model_id"], gate.get("baseline_model_id", model)]
        assert all(isinstance(i, str) and i in models for i in ids), ids
        found = store.query(f'schema_title="tfx.Model" AND state=LIVE AND name="{model}"')
        assert [a.name for a in found] == [model]

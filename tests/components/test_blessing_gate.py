"""BlessingGate in real LocalDagRunner pipelines (SQLite ML Metadata), fed by stock components.

Two module-scoped fixtures carry most assertions, because pipelines are slow:

* ``champion_runs``: three successive runs of CsvExampleGen -> StatisticsGen -> SchemaGen ->
  ExampleValidator -> Trainer -> Evaluator (TFMA floor, baseline = the latest model *our gate*
  blessed) -> BlessingGate -> stock Pusher. Run 1 (3 train steps, no champion yet) is blessed
  by the no-baseline rule; run 2 (150 steps) beats the champion; run 3 (3 steps again) loses
  to it and is refused, so the Pusher does not push. Run 1 also carries side gates: a failing
  floor (+ its own Pusher), an override, a missing signal, the trainer's metrics.json as
  source, and a user-defined check through an executor subclass.
* ``signals_run``: one cheap pipeline of Importers (model folder with metrics.json, drift
  reports, blessings) feeding gates that each fail on one signal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

import pytest

from pipeline_utils import run_pipeline

pytestmark = pytest.mark.e2e

MODULE_FILE = str(Path(__file__).with_name("gate_trainer_module.py"))
ACC = "sparse_categorical_accuracy"
FLOOR = 0.3
JUSTIFICATION = "approved by on-call for the 2024-05 hotfix (ticket ML-42)"


# ---------------------------------------------------------------------------------------------
# Helpers


def _by_producer(run, type_name: str) -> Dict[str, list]:
    """``{component id: [artifacts oldest first]}`` of ``type_name``.

    The producer is the *first* execution that output the artifact: a Resolver that later
    hands it on also records an output event for it.
    """
    from ml_metadata.proto import metadata_store_pb2

    from tfx_addons_lab.mlmd import MetadataView

    view = MetadataView(run.store)
    output = {metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT}
    out: Dict[str, list] = {}
    for art in view.artifacts_of_type(type_name):
        events = [e for e in run.store.get_events_by_artifact_ids([art.id]) if e.type in output]
        first = run.store.get_executions_by_id([min(e.execution_id for e in events)])[0]
        out.setdefault(view.component_id(first), []).append(art)
    return out


def _prop(art, name, default=None):
    from tfx_addons_lab.mlmd import prop

    return prop(art, name, default)


def _report(art) -> dict:
    return json.loads((Path(art.uri) / "gate_report.json").read_text())


def _checks(report: dict) -> Dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def _marker(blessing) -> str:
    names = {p.name for p in Path(blessing.uri).iterdir()}
    assert len(names & {"BLESSED", "NOT_BLESSED"}) == 1, names
    return (names & {"BLESSED", "NOT_BLESSED"}).pop()


# ---------------------------------------------------------------------------------------------
# The champion pipeline, three runs


def _champion_components(data_dir: Path, train_steps: int, side_gates: bool):
    import tensorflow_model_analysis as tfma
    from tfx import v1 as tfx
    from tfx.dsl.components.base import executor_spec

    from tfx_addons_lab.components import AnomaliesGate, BlessingGate

    serving = str(data_dir.parent / "serving")
    example_gen = tfx.components.CsvExampleGen(input_base=str(data_dir))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True
    )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    trainer = tfx.components.Trainer(
        module_file=MODULE_FILE,
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=5),
    )
    # The champion: the latest model that our gate blessed.
    champion = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.ModelBlessing, producer_component_id="BlessingGate"
        ),
    ).with_id("champion_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=champion.outputs["model"],
        eval_config=tfma.EvalConfig(
            model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key="species")],
            slicing_specs=[tfma.SlicingSpec()],
            metrics_specs=[
                tfma.MetricsSpec(
                    metrics=[
                        tfma.MetricConfig(
                            class_name="SparseCategoricalAccuracy",
                            threshold=tfma.MetricThreshold(
                                value_threshold=tfma.GenericValueThreshold(
                                    lower_bound={"value": FLOOR}
                                )
                            ),
                        ),
                        tfma.MetricConfig(class_name="ExampleCount"),
                    ]
                )
            ],
        ),
    )
    gate = BlessingGate(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        evaluation=evaluator.outputs["evaluation"],
        anomalies=example_validator.outputs["anomalies"],
        metric_thresholds={ACC: {"lower_bound": FLOOR}},
        champion_metric=ACC,
        min_improvement=0.0,
        no_baseline_policy="require_floors",
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=gate.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving)
        ),
    )
    components = [
        example_gen,
        statistics_gen,
        schema_gen,
        example_validator,
        trainer,
        champion,
        evaluator,
        gate,
        pusher,
    ]
    if not side_gates:
        return components

    from tests.components.gate_extensions import ModelSizeBudgetExecutor

    model = trainer.outputs["model"]
    evaluation = evaluator.outputs["evaluation"]
    floor_gate = BlessingGate(
        model=model, evaluation=evaluation, metric_thresholds={ACC: {"lower_bound": 0.99}}
    ).with_id("FloorGate")
    floor_pusher = tfx.components.Pusher(
        model=model,
        model_blessing=floor_gate.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=str(data_dir.parent / "serving_floor")
            )
        ),
    ).with_id("FloorPusher")
    override_gate = BlessingGate(
        model=model,
        evaluation=evaluation,
        metric_thresholds={ACC: {"lower_bound": 0.99}},
        override="bless",
        override_justification=JUSTIFICATION,
    ).with_id("OverrideGate")
    missing_gate = BlessingGate(
        model=model,
        evaluation=evaluation,
        metric_thresholds={ACC: {"lower_bound": FLOOR}},
        require_infra_blessing=True,  # no InfraValidator in this pipeline: fail closed
    ).with_id("MissingInfraGate")
    trainer_metrics_gate = BlessingGate(
        model=model,
        metrics_source="model",
        metric_thresholds={"loss": {"upper_bound": 100.0}, "val_" + ACC: {"lower_bound": 0.0}},
    ).with_id("TrainerMetricsGate")
    size_ok = BlessingGate(
        model=model,
        evaluation=evaluation,
        metric_thresholds={ACC: {"lower_bound": FLOOR}},
        custom_config={"max_model_bytes": 50_000_000},
        custom_executor_spec=executor_spec.ExecutorClassSpec(ModelSizeBudgetExecutor),
    ).with_id("SizeBudgetGate")
    size_tiny = BlessingGate(
        model=model,
        evaluation=evaluation,
        metric_thresholds={ACC: {"lower_bound": FLOOR}},
        custom_config={"max_model_bytes": 1000},
        custom_executor_spec=executor_spec.ExecutorClassSpec(ModelSizeBudgetExecutor),
    ).with_id("TinySizeBudgetGate")
    anomalies_gate = AnomaliesGate(
        anomalies=example_validator.outputs["anomalies"], fail_on_anomalies=1
    )
    return components + [
        floor_gate,
        floor_pusher,
        override_gate,
        missing_gate,
        trainer_metrics_gate,
        size_ok,
        size_tiny,
        anomalies_gate,
    ]


@pytest.fixture(scope="module")
def champion_runs(tmp_path_factory, penguins_frame):
    from pipeline_utils import write_penguins_csv

    base = tmp_path_factory.mktemp("champion")
    data = write_penguins_csv(penguins_frame, base / "data")
    root = base / "run"
    run = None
    for steps, side in ((3, True), (150, False), (3, False)):
        run = run_pipeline(
            _champion_components(data, steps, side), root, name="gate-champion", enable_cache=True
        )
    return run, base


def _main_gate(champion_runs):
    run, _ = champion_runs
    blessings = _by_producer(run, "ModelBlessing")["BlessingGate"]
    reports = _by_producer(run, "tfx_addons_lab.GateReport")["BlessingGate"]
    assert len(blessings) == len(reports) == 3
    return run, blessings, reports


def test_first_model_blessed_by_no_baseline_rule(champion_runs):
    run, blessings, reports = _main_gate(champion_runs)
    first, report = blessings[0], _report(reports[0])
    assert _prop(first, "blessed") == 1 and _marker(first) == "BLESSED"
    checks = _checks(report)
    assert set(checks) == {f"metric:{ACC}", f"champion:{ACC}", "model_blessing", "no_anomalies"}
    assert all(c["passed"] for c in checks.values())
    assert "no baseline yet" in checks[f"champion:{ACC}"]["reason"]
    assert report["baseline_present"] is False
    # Evaluator-compatible properties: stock consumers and resolvers rely on them.
    models = run.artifacts("Model")
    assert _prop(first, "current_model_id") == models[0].id
    assert _prop(first, "current_model") == models[0].uri
    assert _prop(reports[0], "reason") == _prop(first, "reason")
    assert _prop(first, "reason").startswith("BLESSED: all 4 checks passed")


def test_second_run_beats_the_champion(champion_runs):
    run, blessings, reports = _main_gate(champion_runs)
    report = _report(reports[1])
    champ = _checks(report)[f"champion:{ACC}"]
    assert _prop(blessings[1], "blessed") == 1, report["reason"]
    first_value = _report(reports[0])["candidate_metrics"][ACC]
    # The champion's value the gate compared with is the first model's own evaluation.
    assert champ["details"]["baseline"] == pytest.approx(first_value)
    assert champ["details"]["candidate"] > champ["details"]["baseline"]
    models = run.artifacts("Model")
    assert _prop(blessings[1], "baseline_model") == models[0].uri


def test_third_run_loses_to_the_champion_and_is_not_pushed(champion_runs):
    run, blessings, reports = _main_gate(champion_runs)
    report = _report(reports[2])
    checks = _checks(report)
    assert _prop(blessings[2], "blessed") == 0 and _marker(blessings[2]) == "NOT_BLESSED"
    assert not checks[f"champion:{ACC}"]["passed"]
    assert "no improvement" in checks[f"champion:{ACC}"]["reason"]
    # Only the champion check failed: Evaluator blessed it and the floor held.
    assert [n for n, c in checks.items() if not c["passed"]] == [f"champion:{ACC}"]
    assert _checks(_report(reports[1]))[f"champion:{ACC}"]["details"]["candidate"] == (
        pytest.approx(checks[f"champion:{ACC}"]["details"]["baseline"])
    )
    assert f"champion:{ACC}" in _prop(blessings[2], "reason")
    evaluator_blessings = _by_producer(run, "ModelBlessing")["Evaluator"]
    assert _prop(evaluator_blessings[2], "blessed") == 1  # TFMA alone would have pushed it


def test_stock_pusher_follows_our_blessing(champion_runs):
    run, base = champion_runs
    pushed = _by_producer(run, "PushedModel")
    assert [_prop(p, "pushed") for p in pushed["Pusher"]] == [1, 1, 0]
    versions = sorted(p.name for p in (base / "serving").iterdir())
    assert len(versions) == 2
    assert all((base / "serving" / v / "saved_model.pb").exists() for v in versions)
    # The floor gate refused the model, so its Pusher did not push.
    assert [_prop(p, "pushed") for p in pushed["FloorPusher"]] == [0]
    assert not (base / "serving_floor").exists() or not any((base / "serving_floor").iterdir())


def test_floor_refuses_with_reason(champion_runs):
    run, _ = champion_runs
    blessing = _by_producer(run, "ModelBlessing")["FloorGate"][0]
    report = _report(_by_producer(run, "tfx_addons_lab.GateReport")["FloorGate"][0])
    assert _prop(blessing, "blessed") == 0
    check = _checks(report)[f"metric:{ACC}"]
    assert not check["passed"] and check["details"]["lower_bound"] == 0.99
    assert "below floor 0.99" in _prop(blessing, "reason")


def test_override_blesses_and_records_justification(champion_runs):
    run, _ = champion_runs
    blessing = _by_producer(run, "ModelBlessing")["OverrideGate"][0]
    report_art = _by_producer(run, "tfx_addons_lab.GateReport")["OverrideGate"][0]
    report = _report(report_art)
    assert _prop(blessing, "blessed") == 1 and _marker(blessing) == "BLESSED"
    for art in (blessing, report_art):  # recorded in ML Metadata
        assert _prop(art, "override") == "bless"
        assert _prop(art, "override_justification") == JUSTIFICATION
        assert _prop(art, "checks_passed") == 0
    assert report["override"] == {
        "action": "bless",
        "justification": JUSTIFICATION,
        "checks_passed": False,
    }
    assert not _checks(report)[f"metric:{ACC}"]["passed"]  # the checks still ran
    assert "OVERRIDDEN" in _prop(blessing, "reason")


def test_override_without_justification_fails_at_construction():
    from tfx import v1 as tfx

    from tfx_addons_lab.components import BlessingGate
    from tfx_addons_lab.errors import InvalidInputError

    model = tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model)
    with pytest.raises(InvalidInputError, match="override_justification"):
        BlessingGate(model=model, metric_thresholds={ACC: {"lower_bound": 0.5}}, override="bless")


def test_missing_configured_signal_refuses(champion_runs):
    run, _ = champion_runs
    blessing = _by_producer(run, "ModelBlessing")["MissingInfraGate"][0]
    report = _report(_by_producer(run, "tfx_addons_lab.GateReport")["MissingInfraGate"][0])
    assert _prop(blessing, "blessed") == 0
    check = _checks(report)["infra_blessing"]
    assert not check["passed"] and "not connected" in check["reason"]
    assert _checks(report)[f"metric:{ACC}"]["passed"]


def test_trainer_metrics_json_as_source(champion_runs):
    run, _ = champion_runs
    blessing = _by_producer(run, "ModelBlessing")["TrainerMetricsGate"][0]
    report = _report(_by_producer(run, "tfx_addons_lab.GateReport")["TrainerMetricsGate"][0])
    assert _prop(blessing, "blessed") == 1, report["reason"]
    model = run.artifacts("Model")[0]
    written = json.loads((Path(model.uri) / "Format-Serving" / "metrics.json").read_text())
    assert report["candidate_metrics"] == pytest.approx(written)
    assert report["metrics_source"].startswith("model metrics.json")


def test_user_defined_check_through_executor_subclass(champion_runs):
    from tests.components.gate_extensions import directory_size

    run, _ = champion_runs
    blessings = _by_producer(run, "ModelBlessing")
    reports = _by_producer(run, "tfx_addons_lab.GateReport")
    size = directory_size(run.artifacts("Model")[0].uri)
    ok = _report(reports["SizeBudgetGate"][0])
    tiny = _report(reports["TinySizeBudgetGate"][0])
    assert _prop(blessings["SizeBudgetGate"][0], "blessed") == 1
    assert _checks(ok)["model_size"]["details"]["model_size_bytes"] == size
    assert _prop(blessings["TinySizeBudgetGate"][0], "blessed") == 0
    assert not _checks(tiny)["model_size"]["passed"]
    assert f"{size} bytes > budget 1000" in _prop(blessings["TinySizeBudgetGate"][0], "reason")
    assert tiny["executor"].endswith("ModelSizeBudgetExecutor")


def test_anomalies_gate_passes_clean_data(champion_runs):
    run, _ = champion_runs
    report = _by_producer(run, "tfx_addons_lab.GateReport")["AnomaliesGate"][0]
    assert _prop(report, "passed") == 1
    assert _report(report)["anomalies"] == []


# ---------------------------------------------------------------------------------------------
# Cheap signals pipeline: Importers feed gates that each fail on one signal


def _write(folder: Path, name: str, payload) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return folder


@pytest.fixture(scope="module")
def signals_run(tmp_path_factory):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import BlessingGate, DriftReport

    base = tmp_path_factory.mktemp("signals")
    sa = tfx.types.standard_artifacts

    def importer(node_id, folder, artifact_type, **props):
        return tfx.dsl.Importer(
            source_uri=str(folder), artifact_type=artifact_type, custom_properties=props
        ).with_id(node_id)

    model = importer(
        "model",
        _write(base / "model" / "Format-Serving", "metrics.json", {"auc": 0.9}).parent,
        sa.Model,
    )
    champion = importer(
        "champion", _write(base / "champion", "metrics.json", {"auc": 0.95}), sa.Model
    )
    drifted = importer(
        "drifted",
        _write(
            base / "drifted" / "eval_vs_train",
            "report.json",
            {"dataset_drifted": True, "drifted_features": ["body_mass_g"], "features": []},
        ).parent,
        DriftReport,
    )
    clean = importer(
        "clean", _write(base / "clean", "report.json", {"dataset_drifted": False}), DriftReport
    )
    by_property = importer(
        "by_property",
        _write(base / "by_property", "README", "no json"),
        DriftReport,
        dataset_drifted=1,
        drifted_features="culmen_length_mm",
    )
    corrupt = importer("corrupt", _write(base / "corrupt", "report.json", "{oops"), DriftReport)
    not_blessed = importer(
        "not_blessed", _write(base / "not_blessed", "NOT_BLESSED", ""), sa.ModelBlessing, blessed=0
    )
    unset = importer("unset", _write(base / "unset", "x.txt", ""), sa.ModelBlessing)

    floors = {"auc": {"lower_bound": 0.5}}
    m = model.outputs["result"]
    gates = [
        BlessingGate(
            model=m, drift_report=drifted.outputs["result"], metric_thresholds=floors
        ).with_id("DriftedGate"),
        BlessingGate(
            model=m, drift_report=clean.outputs["result"], metric_thresholds=floors
        ).with_id("CleanGate"),
        BlessingGate(model=m, drift_report=by_property.outputs["result"]).with_id("PropertyGate"),
        BlessingGate(model=m, drift_report=corrupt.outputs["result"]).with_id("CorruptGate"),
        BlessingGate(
            model=m, model_blessing=not_blessed.outputs["result"], metric_thresholds=floors
        ).with_id("EvaluatorRefusedGate"),
        BlessingGate(
            model=m, model_blessing=unset.outputs["result"], metric_thresholds=floors
        ).with_id("NoThresholdsGate"),
        BlessingGate(
            model=m,
            baseline_model=champion.outputs["result"],
            metric_thresholds=floors,
            champion_metric="auc",
        ).with_id("ChampionGate"),
        BlessingGate(model=m).with_id("NothingGate"),
    ]
    nodes = [model, champion, drifted, clean, by_property, corrupt, not_blessed, unset, *gates]
    return run_pipeline(nodes, base / "run", name="gate-signals")


def _verdict(run, node):
    blessing = _by_producer(run, "ModelBlessing")[node][0]
    report = _report(_by_producer(run, "tfx_addons_lab.GateReport")[node][0])
    failed = sorted(n for n, c in _checks(report).items() if not c["passed"])
    return _prop(blessing, "blessed"), failed, _prop(blessing, "reason")


def test_drift_refuses(signals_run):
    blessed, failed, reason = _verdict(signals_run, "DriftedGate")
    assert (blessed, failed) == (0, ["no_drift"])
    assert "dataset drift detected: body_mass_g" in reason
    assert _verdict(signals_run, "CleanGate")[:2] == (1, [])


def test_drift_read_from_custom_property(signals_run):
    blessed, failed, reason = _verdict(signals_run, "PropertyGate")
    assert (blessed, failed) == (0, ["no_drift"]) and "culmen_length_mm" in reason


def test_unreadable_drift_report_fails_closed(signals_run):
    blessed, failed, reason = _verdict(signals_run, "CorruptGate")
    assert (blessed, failed) == (0, ["no_drift"])
    assert "cannot read drift_report" in reason


def test_upstream_not_blessed_refuses(signals_run):
    blessed, failed, reason = _verdict(signals_run, "EvaluatorRefusedGate")
    assert (blessed, failed) == (0, ["model_blessing"]) and "NOT_BLESSED" in reason


def test_blessing_without_verdict_fails_closed(signals_run):
    blessed, failed, reason = _verdict(signals_run, "NoThresholdsGate")
    assert (blessed, failed) == (0, ["model_blessing"])
    assert "tensorflow/tfx#5148" in reason


def test_champion_from_baseline_model_metrics_json(signals_run):
    blessed, failed, reason = _verdict(signals_run, "ChampionGate")
    assert (blessed, failed) == (0, ["champion:auc"])
    assert "auc 0.9 vs champion 0.95" in reason


def test_no_checks_refuses(signals_run):
    blessed, _, reason = _verdict(signals_run, "NothingGate")
    assert blessed == 0 and "no checks configured" in reason

"""``BlessingGateExecutor().Do()`` called directly on real artifacts (local and ``ram://``):
every documented hook overridden once, and hostile signals that must never bless."""

from __future__ import annotations

import json
import math

import pytest
from tfx.types import standard_artifacts

from tests.executors import artifacts as make
from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.executors.blessing_gate import BlessingGateExecutor
from tfx_addons_lab.gates import CheckResult, GateConfig
from tfx_addons_lab.specs import blessing_gate as spec
from tfx_addons_lab.specs.artifacts import GateReport

GOOD_DRIFT = {"dataset_drifted": False, "status": "ok", "drifted_features": []}


def _inputs(
    root,
    *,
    metrics=None,
    raw_metrics=None,
    blessed=1,
    drift=(GOOD_DRIFT,),
    anomalies=None,
    evaluation=None,
    baseline_metrics=None,
    infra=None,
    infra_as_file=False,
    baseline_model=None,
):
    """Real input artifacts under ``root``. ``baseline_model`` is the ``metrics.json`` of a
    wired baseline model (``{}``: none); by default ``baseline_metrics`` when there is no
    ``evaluation`` (with one, ``baseline_metrics`` are the evaluation's baseline metrics)."""
    inputs = {spec.MODEL_KEY: [make.model(io.join(root, "model"), metrics, raw=raw_metrics)]}
    if blessed is not None:
        inputs[spec.MODEL_BLESSING_KEY] = [make.blessing(io.join(root, "bless"), blessed)]
    if infra is not None:
        inputs[spec.INFRA_BLESSING_KEY] = [
            make.blessing(io.join(root, "infra"), infra, "InfraBlessing", as_file=infra_as_file)
        ]
    if drift is not None:
        inputs[spec.DRIFT_REPORT_KEY] = [make.drift_report(io.join(root, "drift"), drift)]
    if anomalies is not None:
        inputs[spec.ANOMALIES_KEY] = [make.anomalies(io.join(root, "anom"), anomalies)]
    if baseline_model is None and evaluation is None:
        baseline_model = baseline_metrics
    location = {}
    if baseline_model is not None:
        champion = make.model(io.join(root, "champ"), baseline_model or None, 2)
        inputs[spec.BASELINE_MODEL_KEY] = [champion]
        location["baseline_location"] = io.join(champion.uri, "Format-Serving")
    if evaluation is not None:
        inputs[spec.EVALUATION_KEY] = [
            make.evaluation(io.join(root, "eval"), evaluation, baseline_metrics, **location)
        ]
    return inputs


def _run(executor, root, inputs, **config):
    config.setdefault("metric_thresholds", {"auc": {"lower_bound": 0.7}})
    for key, input_key in spec.REQUIREMENTS.items():
        config.setdefault(key, input_key in inputs)
    outputs = {
        spec.BLESSING_KEY: [
            make.output(standard_artifacts.ModelBlessing, io.join(root, "out_bless"))
        ],
        spec.REPORT_KEY: [make.output(GateReport, io.join(root, "out_report"))],
    }
    executor.Do(inputs, outputs, {spec.GATE_CONFIG_KEY: GateConfig.from_dict(config).to_json()})
    blessing = outputs[spec.BLESSING_KEY][0]
    report = io.read_json(io.join(outputs[spec.REPORT_KEY][0].uri, spec.GATE_REPORT_FILE))
    return blessing, report


def _blessed(blessing) -> bool:
    value = blessing.get_int_custom_property("blessed")
    marker = io.exists(io.join(blessing.uri, "BLESSED"))
    assert marker == bool(value) and io.exists(io.join(blessing.uri, "NOT_BLESSED")) != marker
    return bool(value)


def test_do_blesses_on_good_signals_and_writes_standard_outputs(root):
    inputs = _inputs(root, metrics={"auc": 0.8}, anomalies={"train": []})
    blessing, report = _run(BlessingGateExecutor(), root, inputs)
    assert _blessed(blessing), report["reason"]
    assert blessing.get_string_custom_property("current_model") == inputs["model"][0].uri
    assert {c["name"] for c in report["checks"]} == {
        "metric:auc",
        "model_blessing",
        "no_drift",
        "no_anomalies",
    }


def test_do_reads_tfma_evaluation_and_champion(root):
    inputs = _inputs(root, evaluation={"auc": 0.82}, baseline_metrics={"auc": 0.80})
    blessing, report = _run(BlessingGateExecutor(), root, inputs, champion_metric="auc")
    assert _blessed(blessing), report["reason"]
    assert report["baseline_metrics"] == {"auc": 0.80}
    assert blessing.get_string_custom_property("baseline_model") == "/models/champion"


@pytest.mark.parametrize(
    "infra, as_file",
    [(1, False), (0, True)],
    ids=["infra-blessed-property", "infra-not-blessed-file"],
)
def test_do_reads_every_input_of_the_spec_from_the_root(root, infra, as_file):
    """All seven inputs and both outputs on ``root`` (``ram://``: nothing may use ``os``)."""
    inputs = _inputs(
        root,
        anomalies={"train": [], "eval": []},
        evaluation={"auc": 0.82},
        baseline_metrics={"auc": 0.80},
        baseline_model={},  # no metrics.json: the Evaluator's baseline metrics are used
        infra=infra,
        infra_as_file=as_file,
    )
    assert set(inputs) == set(spec.INPUT_KEYS) == set(spec.BlessingGateSpec.INPUTS)
    blessing, report = _run(BlessingGateExecutor(), root, inputs, champion_metric="auc")
    checks = {c["name"]: c["passed"] for c in report["checks"]}
    assert set(checks) == {
        "metric:auc",
        "champion:auc",
        "model_blessing",
        "infra_blessing",
        "no_drift",
        "no_anomalies",
    }
    assert [name for name, passed in checks.items() if not passed] == (
        [] if infra else ["infra_blessing"]
    )
    assert _blessed(blessing) is bool(infra), report["reason"]
    assert report["signal_errors"] == {}
    assert report["candidate_metrics"] == {"auc": 0.82}
    assert report["baseline_metrics"] == {"auc": 0.80}
    champion = io.join(root, "champ")
    assert report["baseline_model"] == {"uri": champion, "id": 2}
    assert blessing.get_string_custom_property("baseline_model") == champion
    assert blessing.get_int_custom_property("baseline_model_id") == 2
    assert io.exists(io.join(root, "out_report", spec.GATE_REPORT_HTML_FILE))


@pytest.mark.parametrize("champion_auc, blessed", [(0.80, True), (0.86, False)])
def test_baseline_model_metrics_decide_the_champion_check(root, champion_auc, blessed):
    """Without an evaluation the champion's own ``metrics.json`` (on ``root``) is the baseline."""
    inputs = _inputs(
        root,
        metrics={"auc": 0.85},
        anomalies={"train": []},
        baseline_metrics={"auc": champion_auc},
        infra=1,
        infra_as_file=True,
    )
    blessing, report = _run(BlessingGateExecutor(), root, inputs, champion_metric="auc")
    check = next(c for c in report["checks"] if c["name"] == "champion:auc")
    assert check["passed"] is blessed and _blessed(blessing) is blessed, report["reason"]
    assert report["baseline_metrics"] == {"auc": champion_auc}
    assert report["baseline_model"] == {"uri": io.join(root, "champ"), "id": 2}
    assert all(c["passed"] for c in report["checks"] if c["name"] != "champion:auc")


@pytest.mark.parametrize("found", [0, 1])
def test_a_registry_champion_stand_in_is_judged_as_no_champion(root, found):
    """RegistryChampion outputs the candidate itself with ``champion_found=0`` when the registry
    has no champion: the gate must not compare with it (nor refuse the first model)."""
    from tfx_addons_lab.specs import registry_champion as champion_spec

    inputs = _inputs(
        root, metrics={"auc": 0.85}, anomalies={"train": []}, baseline_metrics={"auc": 0.99}
    )
    stand_in = inputs[spec.BASELINE_MODEL_KEY][0]
    stand_in.set_int_custom_property(champion_spec.CHAMPION_FOUND, found)
    stand_in.set_string_custom_property(champion_spec.REASON, "registry has no 'champion' yet")
    blessing, report = _run(
        BlessingGateExecutor(), root, inputs, champion_metric="auc", no_baseline_policy="bless"
    )
    if found:  # a real champion (auc 0.99) beats the candidate
        assert not _blessed(blessing) and report["baseline_metrics"] == {"auc": 0.99}
    else:
        assert _blessed(blessing), report["reason"]
        assert report["baseline_metrics"] is None and report["baseline_model"] is None
        assert "registry has no 'champion' yet" in json.dumps(report)


# ----------------------------------------------------------------- fail closed (issue 11.5)

BAD_BLESSINGS = ["NOT_BLESSED", "False", "BLESSED", "1", math.nan, 1.0, 2, -1]


@pytest.mark.parametrize("value", BAD_BLESSINGS, ids=repr)
def test_a_blessing_that_is_not_exactly_0_or_1_never_blesses(local_root, value):
    blessing, report = _run(
        BlessingGateExecutor(), local_root, _inputs(local_root, metrics={"auc": 0.9}, blessed=value)
    )
    assert not _blessed(blessing)
    check = next(c for c in report["checks"] if c["name"] == "model_blessing")
    assert not check["passed"] and "expected the integer 1 or 0" in check["reason"]


BAD_METRICS = [
    '{"auc": Infinity}',
    '{"auc": NaN}',
    '{"auc": -Infinity}',
    '{"auc": true}',
    '{"auc": "0.9"}',
    '{"auc": [0.9]}',
    '{"auc": null}',
    "[0.9]",
    '"auc"',
    '{"auc": 0.9',
    "{}",
    '{"AUC": 0.9}',
    '{"auc": 1e400}',
    '{"auc": 1' + "0" * 400 + "}",
]


@pytest.mark.parametrize("raw", BAD_METRICS)
def test_metrics_json_that_is_not_a_finite_number_never_blesses(local_root, raw):
    inputs = _inputs(local_root, raw_metrics=raw)
    blessing, report = _run(BlessingGateExecutor(), local_root, inputs)
    assert not _blessed(blessing)
    check = next(c for c in report["checks"] if c["name"] == "metric:auc")
    assert not check["passed"] and check["reason"]


BAD_DRIFT = [
    {"dataset_drifted": None},
    {"dataset_drifted": "false"},
    {"dataset_drifted": 0},
    {"status": "ok"},
    {"dataset_drifted": False, "status": "weird"},
    ["not", "an", "object"],
]


@pytest.mark.parametrize("report_json", BAD_DRIFT, ids=repr)
def test_a_drift_report_without_an_exact_verdict_never_blesses(local_root, report_json):
    blessing, report = _run(
        BlessingGateExecutor(),
        local_root,
        _inputs(local_root, metrics={"auc": 0.9}, drift=(report_json,)),
    )
    assert not _blessed(blessing)
    check = next(c for c in report["checks"] if c["name"] == "no_drift")
    assert not check["passed"] and "no dataset drift" not in check["reason"]


def test_first_run_without_baseline_follows_the_explicit_policy(local_root):
    no_base = ({"dataset_drifted": False, "status": "no_baseline"},)
    inputs = _inputs(local_root, metrics={"auc": 0.9}, drift=no_base)
    blessing, report = _run(BlessingGateExecutor(), local_root, inputs)
    check = next(c for c in report["checks"] if c["name"] == "no_drift")
    assert not _blessed(blessing) and "first run: no baseline" in check["reason"]
    blessing, report = _run(
        BlessingGateExecutor(),
        io.join(local_root, "again"),
        inputs,
        drift_no_baseline_policy="pass",
    )
    check = next(c for c in report["checks"] if c["name"] == "no_drift")
    assert _blessed(blessing) and "first run: no baseline" in check["reason"]
    assert "no dataset drift" not in check["reason"]


def test_one_comparison_without_baseline_is_not_no_drift(local_root):
    reports = (GOOD_DRIFT, {"dataset_drifted": False, "status": "no_baseline"})
    blessing, report = _run(
        BlessingGateExecutor(), local_root, _inputs(local_root, metrics={"auc": 0.9}, drift=reports)
    )
    assert not _blessed(blessing)


def test_champion_inf_vs_inf_does_not_beat_the_champion(local_root):
    inputs = _inputs(
        local_root, raw_metrics='{"auc": Infinity}', baseline_metrics={"auc": math.inf}
    )
    blessing, report = _run(
        BlessingGateExecutor(),
        local_root,
        inputs,
        metric_thresholds={},
        champion_metric="auc",
        no_baseline_policy="reject",
    )
    assert not _blessed(blessing)
    check = next(c for c in report["checks"] if c["name"] == "champion:auc")
    assert "not a finite number" in check["reason"]


def test_unreadable_inputs_are_failed_checks_with_reasons(local_root):
    inputs = _inputs(local_root, metrics={"auc": 0.9}, anomalies={"train": []})
    io.write_text(
        io.join(inputs["anomalies"][0].uri, "Split-train", "SchemaDiff.pb"), "garbage {{{"
    )
    io.write_text(io.join(inputs["drift_report"][0].uri, "report.json"), "{not json")
    blessing, report = _run(BlessingGateExecutor(), local_root, inputs)
    assert not _blessed(blessing)
    errors = report["signal_errors"]
    assert {"anomalies", "dataset_drifted"} <= set(errors) and "candidate_metrics" not in errors
    assert (
        "not an Anomalies proto" in errors["anomalies"]
        and "not valid JSON" in errors["dataset_drifted"]
    )


# ----------------------------------------------------------------------------- hooks


def _run_hook(executor, root, **inputs_kwargs):
    inputs_kwargs.setdefault("metrics", {"auc": 0.9})
    return _run(executor, root, _inputs(root, **inputs_kwargs))


def test_hook_load_config(local_root):
    class StricterFloor(BlessingGateExecutor):
        def load_config(self, exec_properties):
            config = super().load_config(exec_properties)
            config.metric_thresholds = {"auc": {"lower_bound": 0.95}}
            return config

    blessing, report = _run_hook(StricterFloor(), local_root)
    assert not _blessed(blessing) and "below floor 0.95" in report["reason"]


def test_hook_load_signals_extra_checks_and_judge(local_root):
    calls = []

    class Budget(BlessingGateExecutor):
        def load_signals(self, input_dict, config):
            signals = super().load_signals(input_dict, config)
            signals.extra["latency_ms"] = 250
            return signals

        def extra_checks(self, signals, config):
            ok = signals.extra["latency_ms"] <= 100
            return [CheckResult("latency", ok, f"{signals.extra['latency_ms']} ms")]

        def judge(self, config, signals, extra):
            calls.append([c.name for c in extra])
            return super().judge(config, signals, extra)

    blessing, report = _run_hook(Budget(), local_root)
    assert calls == [["latency"]]
    assert not _blessed(blessing) and "latency: 250 ms" in report["reason"]


def test_hook_readers_each_take_effect(local_root):
    class Readers(BlessingGateExecutor):
        def read_blessing(self, artifact, key):
            return False

        def read_drift_report(self, artifact):
            return True, "ok", ["temp"]

        def read_anomalies(self, artifact):
            return [{"split": "train", "feature": "age", "severity": "ERROR", "description": "x"}]

        def read_model_metrics(self, artifact):
            return {"auc": 0.1}

    blessing, report = _run_hook(Readers(), local_root, anomalies={"train": []})
    failed = {c["name"] for c in report["checks"] if not c["passed"]}
    assert failed == {"model_blessing", "no_drift", "no_anomalies", "metric:auc"}
    assert "temp" in report["reason"] and "age" in report["reason"]


def test_hook_read_evaluation_metrics(local_root):
    class Evaluated(BlessingGateExecutor):
        def read_evaluation_metrics(self, artifact):
            return {"auc": 0.99}, None

    blessing, report = _run_hook(Evaluated(), local_root, evaluation={"auc": 0.1})
    assert _blessed(blessing) and report["candidate_metrics"] == {"auc": 0.99}


def test_hook_write_outputs(local_root):
    class AlsoAuditLog(BlessingGateExecutor):
        def write_outputs(self, decision, config, signals, output_dict):
            super().write_outputs(decision, config, signals, output_dict)
            report = output_dict[spec.REPORT_KEY][0]
            io.write_text(
                io.join(report.uri, "audit.json"), json.dumps({"blessed": decision.blessed})
            )

    _run_hook(AlsoAuditLog(), local_root)
    assert io.read_json(io.join(local_root, "out_report", "audit.json")) == {"blessed": True}


def test_drift_reasons_name_the_spans_compared(local_root):
    drifted = {
        "dataset_drifted": True,
        "status": "ok",
        "drifted_features": ["temp"],
        "current_name": "train@span 2013",
        "baseline_name": "train@spans 2010-2012",
    }
    blessing, report = _run(
        BlessingGateExecutor(),
        local_root,
        _inputs(local_root, metrics={"auc": 0.9}, drift=(drifted,)),
    )
    check = next(c for c in report["checks"] if c["name"] == "no_drift")
    assert not _blessed(blessing)
    assert check["reason"] == (
        "dataset drift detected: temp; compared train@span 2013 vs train@spans 2010-2012"
    )
    missing = {
        "dataset_drifted": False,
        "status": "no_baseline",
        "current_name": "train@span 2013",
        "baseline_name": "no baseline",
        "baseline_reason": "no statistics of span 2001 (the span 12 before the current one)",
    }
    root = io.join(local_root, "again")
    blessing, report = _run(
        BlessingGateExecutor(), root, _inputs(root, metrics={"auc": 0.9}, drift=(missing,))
    )
    check = next(c for c in report["checks"] if c["name"] == "no_drift")
    assert not _blessed(blessing)
    assert check["reason"].endswith(
        "; compared train@span 2013 vs no baseline (no statistics of span 2001 (the span 12 "
        "before the current one))"
    )

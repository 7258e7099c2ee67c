"""The gate policy core (no TFX): configuration, each check, the decision, fail-closed rules."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.gates import (
    CheckResult,
    GateConfig,
    GateDecision,
    GatePolicy,
    check_champion,
    check_metric_bounds,
    check_no_anomalies,
    decide,
)

FLOOR = {"acc": {"lower_bound": 0.8}}


def _signals(**kw):
    base = {"candidate_metrics": {"acc": 0.9, "loss": 0.3}, "metrics_source": "test"}
    base.update(kw)
    return base


def test_core_does_not_import_tfx():
    code = "import sys, tfx_addons_lab.gates; print('tfx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_config_round_trip_and_alias():
    config = GateConfig(
        metric_thresholds={"acc": {"lower_bound": 0.8, "upper_bound": 1}},
        champion_metric="acc",
        min_relative_improvement=0.01,
        require_no_drift=True,
        override="reject",
        override_justification="incident #12",
        custom_config={"max_model_bytes": 10},
    )
    data = json.loads(config.to_json())
    assert GateConfig.from_dict(data) == config
    assert GatePolicy is GateConfig
    assert data["metric_thresholds"]["acc"] == {"lower_bound": 0.8, "upper_bound": 1.0}


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"metric_thresholds": {"acc": {"floor": 1}}}, "metric_thresholds['acc']"),
        ({"metric_thresholds": {"acc": {"lower_bound": "x"}}}, "lower_bound"),
        ({"metric_thresholds": {"acc": {"lower_bound": 2, "upper_bound": 1}}}, "exceeds"),
        ({"metric_thresholds": {"acc": {}}}, "metric_thresholds['acc']"),
        ({"no_baseline_policy": "maybe"}, "no_baseline_policy"),
        ({"metrics_source": "tfma"}, "metrics_source"),
        ({"override": "yes", "override_justification": "x"}, "override"),
        ({"override": "bless"}, "override_justification"),
        ({"override": "bless", "override_justification": "   "}, "override_justification"),
        ({"champion_metric": "acc"}, "no_baseline_policy"),  # require_floors without floors
        ({"require_no_drift": "yes"}, "require_no_drift"),
        ({"min_improvement": float("nan")}, "min_improvement"),
    ],
)
def test_config_validation_names_the_key(kwargs, key):
    with pytest.raises(InvalidInputError, match=key.replace("[", r"\[").replace("]", r"\]")):
        GateConfig(**kwargs)


def test_unknown_key_is_rejected():
    with pytest.raises(InvalidInputError, match="unknown gate config key.*require_drift"):
        GateConfig.from_dict({"require_drift": True})
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        GateConfig.from_json("{nope")


def test_metric_bounds():
    ok = check_metric_bounds("acc", {"acc": 0.9}, lower_bound=0.8, upper_bound=0.95)
    assert ok.passed and ok.details["value"] == 0.9 and ok.name == "metric:acc"
    low = check_metric_bounds("acc", {"acc": 0.7}, lower_bound=0.8)
    assert not low.passed and "below floor 0.8" in low.reason
    high = check_metric_bounds("loss", {"loss": 2.0}, upper_bound=1.0)
    assert not high.passed and "above ceiling 1" in high.reason
    missing = check_metric_bounds("auc", {"acc": 0.9}, lower_bound=0.5, source="tfma")
    assert not missing.passed and "'auc' not found" in missing.reason and "acc" in missing.reason
    none = check_metric_bounds("acc", None, lower_bound=0.5, error="no metrics.json in /m")
    assert not none.passed and "no metrics.json in /m" in none.reason
    nan = check_metric_bounds("acc", {"acc": math.nan}, lower_bound=0.5)
    assert not nan.passed and "NaN" in nan.reason
    # The floor itself passes (bound is inclusive).
    assert check_metric_bounds("acc", {"acc": 0.8}, lower_bound=0.8).passed


def test_champion_absolute_and_relative_improvement():
    beat = check_champion("acc", {"acc": 0.9}, {"acc": 0.85}, True, min_improvement=0.02)
    assert beat.passed and beat.details["improvement"] == pytest.approx(0.05)
    short = check_champion("acc", {"acc": 0.86}, {"acc": 0.85}, True, min_improvement=0.02)
    assert not short.passed and "no improvement" in short.reason
    rel = check_champion("acc", {"acc": 0.86}, {"acc": 0.85}, True, min_relative_improvement=0.05)
    assert not rel.passed and rel.details["relative_improvement"] == pytest.approx(0.01 / 0.85)
    # Lower is better: a smaller loss is a gain.
    loss = check_champion(
        "loss", {"loss": 0.2}, {"loss": 0.3}, True, higher_is_better=False, min_improvement=0.05
    )
    assert loss.passed and loss.details["improvement"] == pytest.approx(0.1)
    worse = check_champion("loss", {"loss": 0.4}, {"loss": 0.3}, True, higher_is_better=False)
    assert not worse.passed
    # A tolerated regression: min_improvement may be negative.
    assert check_champion("acc", {"acc": 0.84}, {"acc": 0.85}, True, min_improvement=-0.02).passed


def test_champion_fails_closed_when_a_baseline_exists_but_metrics_do_not():
    res = check_champion("acc", {"acc": 0.9}, None, True, baseline_error="evaluation lacks it")
    assert not res.passed and "evaluation lacks it" in res.reason
    res = check_champion("acc", {"acc": 0.9}, {"loss": 1.0}, True)
    assert not res.passed and "not found in the baseline metrics" in res.reason
    res = check_champion("acc", None, {"acc": 0.9}, True, candidate_error="unreadable")
    assert not res.passed and "unreadable" in res.reason


@pytest.mark.parametrize(
    "policy, floors, passed",
    [
        ("bless", False, True),
        ("reject", True, False),
        ("require_floors", True, True),
        ("require_floors", False, False),
    ],
)
def test_no_baseline_policy(policy, floors, passed):
    res = check_champion(
        "acc", {"acc": 0.9}, None, False, no_baseline_policy=policy, floors_configured=floors
    )
    assert res.passed is passed
    assert "no baseline" in res.reason


def test_first_model_judged_by_floors_under_require_floors():
    config = GateConfig(metric_thresholds=FLOOR, champion_metric="acc")
    good = decide(config, _signals(baseline_present=False))
    assert good.blessed
    bad = decide(config, _signals(candidate_metrics={"acc": 0.5}, baseline_present=False))
    assert not bad.blessed and [c.name for c in bad.failed_checks] == ["metric:acc"]
    rejected = decide(
        GateConfig(metric_thresholds=FLOOR, champion_metric="acc", no_baseline_policy="reject"),
        _signals(baseline_present=False),
    )
    assert not rejected.blessed and "no_baseline_policy=reject" in rejected.reason


def test_blessed_when_every_check_passes():
    config = GateConfig(
        metric_thresholds=FLOOR,
        champion_metric="acc",
        min_improvement=0.01,
        require_model_blessing=True,
        require_infra_blessing=True,
        require_no_drift=True,
        require_no_anomalies=True,
    )
    decision = decide(
        config,
        _signals(
            baseline_present=True,
            baseline_metrics={"acc": 0.85},
            model_blessing=True,
            infra_blessing=True,
            dataset_drifted=False,
            anomalies=[],
        ),
    )
    assert decision.blessed, decision.reason
    assert [c.name for c in decision.checks] == [
        "metric:acc",
        "champion:acc",
        "model_blessing",
        "infra_blessing",
        "no_drift",
        "no_anomalies",
    ]
    assert decision.reason == "BLESSED: all 6 checks passed"


@pytest.mark.parametrize(
    "config, signals, failed, words",
    [
        (
            {"require_model_blessing": True},
            {"model_blessing": False},
            "model_blessing",
            "NOT_BLESSED",
        ),
        (
            {"require_infra_blessing": True},
            {"infra_blessing": False},
            "infra_blessing",
            "NOT_BLESSED",
        ),
        (
            {"require_no_drift": True},
            {"dataset_drifted": True, "drifted_features": ["age", "fare"]},
            "no_drift",
            "drift detected: age, fare",
        ),
        (
            {"require_no_anomalies": True},
            {
                "anomalies": [
                    {
                        "split": "eval",
                        "feature": "age",
                        "severity": "ERROR",
                        "description": "out of range",
                    }
                ]
            },
            "no_anomalies",
            "eval/age (ERROR): out of range",
        ),
    ],
)
def test_each_check_refuses_on_its_own(config, signals, failed, words):
    decision = decide(GateConfig(**config), signals)
    assert not decision.blessed
    assert [c.name for c in decision.failed_checks] == [failed]
    assert words in decision.reason


@pytest.mark.parametrize(
    "config, missing",
    [
        ({"require_model_blessing": True}, "model_blessing"),
        ({"require_infra_blessing": True}, "infra_blessing"),
        ({"require_no_drift": True}, "drift report"),
        ({"require_no_anomalies": True}, "anomalies"),
        ({"metric_thresholds": FLOOR}, "acc"),
    ],
)
def test_missing_configured_signal_fails_closed(config, missing):
    decision = decide(GateConfig(**config), {})
    assert not decision.blessed
    assert missing in decision.reason


def test_unreadable_signal_reason_is_reported():
    decision = decide(
        GateConfig(require_no_drift=True),
        {"errors": {"dataset_drifted": "cannot read drift_report at /x: bad json"}},
    )
    assert not decision.blessed and "bad json" in decision.reason


def test_no_checks_configured_refuses():
    decision = decide(GateConfig(), _signals())
    assert not decision.blessed and "no checks configured" in decision.reason


def test_extra_checks_take_part():
    extra = [CheckResult("model_size", False, "12 MB over the 10 MB budget", {"bytes": 12})]
    decision = decide(GateConfig(metric_thresholds=FLOOR), _signals(), extra)
    assert not decision.blessed and "model_size: 12 MB over" in decision.reason
    alone = decide(GateConfig(), {}, [CheckResult("latency", True, "p99 80 ms", {})])
    assert alone.blessed


def test_override_forces_outcome_and_is_recorded():
    config = GateConfig(
        metric_thresholds=FLOOR, override="bless", override_justification="hotfix JIRA-7"
    )
    decision = decide(config, _signals(candidate_metrics={"acc": 0.1}))
    assert decision.blessed
    assert decision.override == {
        "action": "bless",
        "justification": "hotfix JIRA-7",
        "checks_passed": False,
    }
    assert "OVERRIDDEN to BLESSED (hotfix JIRA-7)" in decision.reason
    assert not decision.checks[0].passed  # checks still run and are reported
    reject = decide(
        GateConfig(metric_thresholds=FLOOR, override="reject", override_justification="freeze"),
        _signals(),
    )
    assert not reject.blessed and reject.override["checks_passed"] is True


def test_decision_json_round_trip():
    decision = decide(GateConfig(metric_thresholds=FLOOR), _signals())
    data = json.loads(decision.to_json())
    assert data["blessed"] is True and data["passed"] is True
    assert data["checks"][0]["details"]["value"] == 0.9
    assert GateDecision.from_dict(data).checks == decision.checks


def test_anomalies_split_filter():
    anomalies = [{"split": "train", "feature": "a", "severity": "ERROR", "description": "d"}]
    assert check_no_anomalies(anomalies, splits=["eval"]).passed
    assert not check_no_anomalies(anomalies, splits=["train"]).passed


@pytest.mark.parametrize("huge", [10**400, -(10**400), 10**309])
def test_an_integer_too_large_for_a_float_is_a_refusal_not_a_crash(huge):
    # a signal: refused with a reason naming it (not OverflowError out of decide)
    floor = GateConfig(metric_thresholds={"auc": {"lower_bound": 0.7}})
    decision = decide(floor, {"candidate_metrics": {"auc": huge}})
    assert not decision.blessed
    assert "candidate auc" in decision.checks[0].reason
    assert "too large to be a finite number" in decision.checks[0].reason
    champ = GateConfig(champion_metric="auc", no_baseline_policy="reject")
    for cand, base in ((0.9, huge), (huge, 0.9), (huge, huge)):
        signals = {"candidate_metrics": {"auc": cand}, "baseline_metrics": {"auc": base}}
        decision = decide(champ, {**signals, "baseline_present": True})
        assert not decision.blessed and "too large" in decision.checks[0].reason
    # a config value: the usual one-line configuration error
    with pytest.raises(InvalidInputError, match="must be a finite number"):
        GateConfig(metric_thresholds={"auc": {"lower_bound": huge}})
    with pytest.raises(InvalidInputError, match="min_improvement"):
        GateConfig(champion_metric="auc", no_baseline_policy="bless", min_improvement=huge)

"""Wiring mistakes BlessingGate refuses when the pipeline is built (no pipeline run needed)."""

from __future__ import annotations

import pytest
import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.types import channel, standard_artifacts

from tfx_addons_lab.components import BlessingGate, DriftValidator
from tfx_addons_lab.errors import InvalidInputError


def _evaluator(*metrics: tfma.MetricConfig):
    return tfx.components.Evaluator(
        examples=channel.Channel(type=standard_artifacts.Examples),
        model=channel.Channel(type=standard_artifacts.Model),
        eval_config=tfma.EvalConfig(
            model_specs=[tfma.ModelSpec(label_key="y")],
            metrics_specs=[tfma.MetricsSpec(metrics=list(metrics))],
        ),
    )


MODEL = channel.Channel(type=standard_artifacts.Model)


@pytest.mark.parametrize(
    "thresholds, champion",
    [
        ({"accuracy": {"lower_bound": 0.5}}, None),
        ({"auc": {"lower_bound": 0.5}}, "AUC"),
        ({}, "binary_accuracy"),
    ],
)
def test_metric_names_the_eval_config_cannot_produce_are_refused(thresholds, champion):
    evaluator = _evaluator(
        tfma.MetricConfig(class_name="AUC"), tfma.MetricConfig(class_name="ExampleCount")
    )
    with pytest.raises(
        InvalidInputError, match=r"does not produce \(it produces \['auc', 'example_count'\]\)"
    ):
        BlessingGate(
            model=MODEL,
            evaluation=evaluator.outputs["evaluation"],
            metric_thresholds=thresholds or {"auc": {"lower_bound": 0.5}},
            champion_metric=champion,
        )


def test_metric_names_from_class_names_and_config_names_are_accepted():
    evaluator = _evaluator(
        tfma.MetricConfig(class_name="SparseCategoricalAccuracy"),
        tfma.MetricConfig(class_name="AUC", config='{"name": "auc_pr", "curve": "PR"}'),
    )
    gate = BlessingGate(
        model=MODEL,
        evaluation=evaluator.outputs["evaluation"],
        metric_thresholds={"sparse_categorical_accuracy": {"lower_bound": 0.5}},
        champion_metric="auc_pr",
    )
    assert gate.gate_config.champion_metric == "auc_pr"
    # metrics from the model's metrics.json are not checked against the EvalConfig
    BlessingGate(
        model=MODEL,
        evaluation=evaluator.outputs["evaluation"],
        metrics_source="model",
        metric_thresholds={"anything": {"lower_bound": 0.5}},
    )


def test_requiring_no_drift_from_a_validator_that_can_never_compare_is_refused():
    stats = channel.Channel(type=standard_artifacts.ExampleStatistics)
    never = DriftValidator(statistics=stats)  # compares with baseline_statistics, none wired
    with pytest.raises(InvalidInputError, match="can never have a baseline"):
        BlessingGate(
            model=MODEL,
            drift_report=never.outputs["drift_report"],
            metric_thresholds={"auc": {"lower_bound": 0.5}},
        )
    # not required: accepted; a skew comparison or a wired baseline: accepted
    BlessingGate(
        model=MODEL,
        drift_report=never.outputs["drift_report"],
        require_no_drift=False,
        metric_thresholds={"auc": {"lower_bound": 0.5}},
    )
    skew = DriftValidator(statistics=stats, comparisons=[("eval", "train")])
    BlessingGate(
        model=MODEL,
        drift_report=skew.outputs["drift_report"],
        metric_thresholds={"auc": {"lower_bound": 0.5}},
    )
    wired = DriftValidator(
        statistics=stats,
        baseline_statistics=channel.Channel(type=standard_artifacts.ExampleStatistics),
    )
    BlessingGate(
        model=MODEL,
        drift_report=wired.outputs["drift_report"],
        metric_thresholds={"auc": {"lower_bound": 0.5}},
    )

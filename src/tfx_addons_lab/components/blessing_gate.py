"""BlessingGate: one gate that combines every signal into a standard ``ModelBlessing``.

Pipeline position: after Evaluator / InfraValidator / DriftValidator / ExampleValidator and
before Pusher (or our RegistryPusher, or a ``tfx.dsl.Cond``).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Union

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts

from tfx_addons_lab.components import _airflow_driver
from tfx_addons_lab.executors.blessing_gate import BlessingGateExecutor
from tfx_addons_lab.gates import GateConfig
from tfx_addons_lab.specs import blessing_gate as spec
from tfx_addons_lab.specs.artifacts import GateReport

__all__ = ["BlessingGate"]


class BlessingGate(base_component.BaseComponent):
    """Bless a model only when every configured check passes (fail closed).

    Outputs a standard ``ModelBlessing`` (``BLESSED``/``NOT_BLESSED`` file, ``blessed`` int
    property, ``current_model``/``current_model_id`` like Evaluator's), so the stock Pusher,
    ``tfx.dsl.Cond`` and ``LatestBlessedModelStrategy`` consume it unchanged; plus a
    ``GateReport`` whose ``gate_report.json`` lists every check with its inputs, outcome and
    reason. Both carry a one-line ``reason`` custom property.

    Example::

        gate = BlessingGate(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            evaluation=evaluator.outputs["evaluation"],
            drift_report=drift_validator.outputs["drift_report"],
            metric_thresholds={"sparse_categorical_accuracy": {"lower_bound": 0.8}},
            champion_metric="sparse_categorical_accuracy",
            min_improvement=0.0,
        )
        pusher = tfx.components.Pusher(model=..., model_blessing=gate.outputs["blessing"], ...)

    See ``docs/gates.md`` for every check and its configuration.
    """

    SPEC_CLASS = spec.BlessingGateSpec
    DRIVER_CLASS = (
        _airflow_driver.UniqueOutputNamesDriver
    )  # unique ML Metadata output names under Airflow
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(BlessingGateExecutor)

    def __init__(
        self,
        model: types.BaseChannel,
        model_blessing: Optional[types.BaseChannel] = None,
        infra_blessing: Optional[types.BaseChannel] = None,
        drift_report: Optional[types.BaseChannel] = None,
        anomalies: Optional[types.BaseChannel] = None,
        evaluation: Optional[types.BaseChannel] = None,
        baseline_model: Optional[types.BaseChannel] = None,
        metric_thresholds: Optional[Mapping[str, Mapping[str, float]]] = None,
        champion_metric: Optional[str] = None,
        min_improvement: float = 0.0,
        min_relative_improvement: Optional[float] = None,
        higher_is_better: bool = True,
        require_model_blessing: Optional[bool] = None,
        require_infra_blessing: Optional[bool] = None,
        require_no_drift: Optional[bool] = None,
        require_no_anomalies: Optional[bool] = None,
        anomalies_splits: Optional[Sequence[str]] = None,
        no_baseline_policy: str = "require_floors",
        drift_no_baseline_policy: str = "fail",
        metrics_source: str = "auto",
        override: Optional[str] = None,
        override_justification: str = "",
        custom_config: Optional[Dict[str, Any]] = None,
        gate_config: Optional[Union[GateConfig, Mapping[str, Any]]] = None,
        custom_executor_spec: Optional[executor_spec.ExecutorSpec] = None,
    ):
        """Construct a BlessingGate.

        Args:
          model: the candidate ``Model`` (e.g. ``trainer.outputs["model"]``).
          model_blessing: optional ``ModelBlessing`` (e.g. from Evaluator).
          infra_blessing: optional ``InfraBlessing`` (from InfraValidator).
          drift_report: optional ``tfx_addons_lab.DriftReport`` (from DriftValidator).
          anomalies: optional ``ExampleAnomalies`` (from ExampleValidator or DriftValidator).
          evaluation: optional ``ModelEvaluation`` (from Evaluator): the metric values of the
            candidate and, when the Evaluator had a baseline model, of the baseline.
          baseline_model: optional baseline / champion ``Model`` (e.g. a resolver's output).
            With the TFMA evaluation as metric source its metrics come from the evaluation;
            with ``metrics_source="model"`` from its ``metrics.json``.
          metric_thresholds: ``{metric: {"lower_bound": x, "upper_bound": y}}``.
          champion_metric: compare with the baseline on this metric.
          min_improvement: least absolute gain over the baseline (default 0: no worse).
          min_relative_improvement: least relative gain over the baseline (e.g. 0.01 = 1 %).
          higher_is_better: direction of ``champion_metric``.
          require_model_blessing: the upstream model_blessing must be blessed. Default: on
            when ``model_blessing`` is connected.
          require_infra_blessing: same for ``infra_blessing``.
          require_no_drift: the drift report must not flag dataset drift. Default: on when
            ``drift_report`` is connected.
          require_no_anomalies: the ExampleAnomalies must be empty. Default: on when
            ``anomalies`` is connected.
          anomalies_splits: only these splits count for ``require_no_anomalies``.
          no_baseline_policy: first model (no baseline) with ``champion_metric`` set:
            ``"require_floors"`` (default: the metric floors decide), ``"bless"``, ``"reject"``.
          drift_no_baseline_policy: the drift report had no baseline (a first run) and
            ``require_no_drift`` is on: ``"fail"`` (default, fail closed) or ``"pass"`` (the
            check passes with the reason "first run: no baseline").
          metrics_source: ``"auto"`` (evaluation if connected, else the model's
            ``metrics.json``), ``"evaluation"`` or ``"model"``.
          override: ``"bless"`` or ``"reject"`` forces the outcome (checks still run and are
            reported); needs ``override_justification``.
          override_justification: why; recorded in the report and in ML Metadata.
          custom_config: settings for checks added by a ``BlessingGateExecutor`` subclass.
          gate_config: alternatively, a whole :class:`~tfx_addons_lab.gates.GateConfig` (or
            its dict); keyword arguments given explicitly take precedence.
          custom_executor_spec: e.g. ``executor_spec.ExecutorClassSpec(MyGateExecutor)``
            (deprecated by TFX; prefer a subclass of BlessingGate with ``EXECUTOR_SPEC``).

        Raises:
          InvalidInputError: the configuration is invalid (e.g. an override without a
            justification), naming the offending key; the gate requires no drift from a
            DriftValidator that can never have a baseline; or it checks a metric the wired
            Evaluator's EvalConfig does not produce.
        """
        config = spec.build_gate_config(
            gate_config,
            arguments={
                "metric_thresholds": metric_thresholds,
                "champion_metric": champion_metric,
                "min_improvement": min_improvement,
                "min_relative_improvement": min_relative_improvement,
                "higher_is_better": higher_is_better,
                "anomalies_splits": list(anomalies_splits) if anomalies_splits else None,
                "no_baseline_policy": no_baseline_policy,
                "drift_no_baseline_policy": drift_no_baseline_policy,
                "metrics_source": metrics_source,
                "override": override,
                "override_justification": override_justification,
                "custom_config": custom_config,
            },
            requirements={
                "require_model_blessing": require_model_blessing,
                "require_infra_blessing": require_infra_blessing,
                "require_no_drift": require_no_drift,
                "require_no_anomalies": require_no_anomalies,
            },
            connected={
                spec.MODEL_BLESSING_KEY: model_blessing is not None,
                spec.INFRA_BLESSING_KEY: infra_blessing is not None,
                spec.DRIFT_REPORT_KEY: drift_report is not None,
                spec.ANOMALIES_KEY: anomalies is not None,
            },
        )
        spec.check_drift_wiring(config, drift_report)
        spec.check_metric_names(config, evaluation)
        self.gate_config = config
        component_spec = spec.BlessingGateSpec(
            model=model,
            model_blessing=model_blessing,
            infra_blessing=infra_blessing,
            drift_report=drift_report,
            anomalies=anomalies,
            evaluation=evaluation,
            baseline_model=baseline_model,
            gate_config=config.to_json(),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing),
            report=types.Channel(type=GateReport),
        )
        super().__init__(spec=component_spec, custom_executor_spec=custom_executor_spec)

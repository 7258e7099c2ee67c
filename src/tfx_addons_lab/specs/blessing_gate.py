"""Spec of ``BlessingGate``: keys, ``BlessingGateSpec``, the gate config built from arguments,
and the pipeline-build-time checks of what the gate is wired to."""

from __future__ import annotations

import json
import logging
from typing import Any, Mapping, Optional, Union

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.gates import GateConfig
from tfx_addons_lab.specs.artifacts import DriftReport, GateReport

_LOG = logging.getLogger(__name__)

# Inputs, outputs and parameters.
MODEL_KEY = "model"
MODEL_BLESSING_KEY = "model_blessing"
INFRA_BLESSING_KEY = "infra_blessing"
DRIFT_REPORT_KEY = "drift_report"
ANOMALIES_KEY = "anomalies"
EVALUATION_KEY = "evaluation"
BASELINE_MODEL_KEY = "baseline_model"
BLESSING_KEY = "blessing"
REPORT_KEY = "report"
GATE_CONFIG_KEY = "gate_config"
INPUT_KEYS = (
    MODEL_KEY,
    MODEL_BLESSING_KEY,
    INFRA_BLESSING_KEY,
    DRIFT_REPORT_KEY,
    ANOMALIES_KEY,
    EVALUATION_KEY,
    BASELINE_MODEL_KEY,
)

# Files read and written.
GATE_REPORT_FILE = "gate_report.json"
GATE_REPORT_HTML_FILE = "gate_report.html"
METRICS_FILE = "metrics.json"
BLESSED_FILE = "BLESSED"
NOT_BLESSED_FILE = "NOT_BLESSED"
ANOMALIES_FILE = "SchemaDiff.pb"
DRIFT_REPORT_FILE = "report.json"
EVAL_CONFIG_FILE = "eval_config.json"


class BlessingGateSpec(ComponentSpec):
    """ComponentSpec of ``BlessingGate``."""

    PARAMETERS = {GATE_CONFIG_KEY: ExecutionParameter(type=str)}
    INPUTS = {
        MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        MODEL_BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing, optional=True),
        INFRA_BLESSING_KEY: ChannelParameter(type=standard_artifacts.InfraBlessing, optional=True),
        DRIFT_REPORT_KEY: ChannelParameter(type=DriftReport, optional=True),
        ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies, optional=True),
        EVALUATION_KEY: ChannelParameter(type=standard_artifacts.ModelEvaluation, optional=True),
        BASELINE_MODEL_KEY: ChannelParameter(type=standard_artifacts.Model, optional=True),
    }
    OUTPUTS = {
        BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing),
        REPORT_KEY: ChannelParameter(type=GateReport),
    }


#: The ``require_*`` switches and the input each one reads.
REQUIREMENTS = {
    "require_model_blessing": MODEL_BLESSING_KEY,
    "require_infra_blessing": INFRA_BLESSING_KEY,
    "require_no_drift": DRIFT_REPORT_KEY,
    "require_no_anomalies": ANOMALIES_KEY,
}


def build_gate_config(
    gate_config: Optional[Union[GateConfig, Mapping[str, Any]]],
    arguments: Mapping[str, Any],
    requirements: Mapping[str, Optional[bool]],
    connected: Mapping[str, bool],
) -> GateConfig:
    """The component's ``GateConfig``: ``gate_config`` with the explicit arguments on top.

    ``arguments`` are the constructor's config keyword arguments (``None`` = not given; an
    argument left at its default does not undo the same key in ``gate_config``).
    ``requirements`` are the ``require_*`` arguments: ``None`` means "on when the input is
    connected (or when ``gate_config`` says so)". ``connected`` maps input keys to whether
    a channel is wired.
    """
    if isinstance(gate_config, GateConfig):
        base = gate_config.to_dict()
    else:
        base = GateConfig.from_dict(gate_config or {}).to_dict()
    defaults = GateConfig().to_dict()
    for key, value in arguments.items():
        if value is not None and (gate_config is None or value != defaults[key]):
            base[key] = value
    for key, value in requirements.items():
        base[key] = (
            bool(value)
            if value is not None
            else bool(base.get(key)) or connected[REQUIREMENTS[key]]
        )
    config = GateConfig.from_dict(base)
    for key, input_key in REQUIREMENTS.items():
        if getattr(config, key) and not connected[input_key]:
            _LOG.warning(
                "BlessingGate: %s is on but its %s input is not connected; the gate will "
                "refuse every model (fail closed)",
                key,
                input_key,
            )
    return config


def producer_of(channel: Any) -> Any:
    """The component that produces ``channel`` (an ``OutputChannel``), or ``None``."""
    return getattr(channel, "producer_component", None) if channel is not None else None


def check_drift_wiring(config: GateConfig, drift_report: Any) -> None:
    """Refuse a gate that requires no drift from a DriftValidator that can never compare.

    A ``DriftValidator`` whose every comparison reads ``baseline_statistics`` while none is
    wired reports "no baseline" forever; relying on it would approve (or, with the default
    policy, refuse) every model for a reason unrelated to the data.
    """
    producer = producer_of(drift_report)
    if config.require_no_drift and getattr(producer, "can_have_baseline", True) is False:
        raise InvalidInputError(
            f"BlessingGate requires no drift, but DriftValidator {producer.id!r} has no "
            "baseline_statistics wired and compares only against them, so its report can never "
            "have a baseline; wire baseline_statistics=baseline_statistics_resolver(stats_gen)"
            ".outputs['statistics'], or compare two splits (comparisons=[{'current': 'eval', "
            "'baseline': 'train'}]), or set require_no_drift=False"
        )


def check_metric_names(config: GateConfig, evaluation: Any) -> None:
    """Refuse metric names the wired Evaluator's ``EvalConfig`` cannot produce.

    Only when ``evaluation`` is an Evaluator output whose ``eval_config`` is known at
    pipeline-build time and the gate reads metrics from it.
    """
    from tfx_addons_lab.gates.signals import eval_config_metric_names

    producer = producer_of(evaluation)
    raw = getattr(producer, "exec_properties", {}).get("eval_config") if producer else None
    if raw is None or config.metrics_source == "model":
        return
    if not isinstance(raw, str):  # a tfma.EvalConfig proto
        from google.protobuf import json_format

        raw = json_format.MessageToJson(raw, preserving_proto_field_name=True)
    try:
        specs = json.loads(raw).get("metrics_specs") or []
    except (ValueError, AttributeError):
        return
    produced = eval_config_metric_names(
        [
            (
                list(ms.get("output_names") or []),
                [(m.get("class_name", ""), m.get("config", "")) for m in ms.get("metrics") or []],
            )
            for ms in specs
        ]
    )
    wanted = set(config.metric_thresholds) | (
        {config.champion_metric} if config.champion_metric else set()
    )
    unknown = sorted(w for w in wanted if w not in produced)
    if unknown and produced:
        raise InvalidInputError(
            f"BlessingGate checks metric(s) {unknown} that the EvalConfig of {producer.id!r} does "
            f"not produce (it produces {produced}); fix the names in metric_thresholds/"
            "champion_metric, or add the metric to the EvalConfig's metrics_specs "
            "(tfma.MetricConfig(class_name=..., config='{\"name\": ...}'))"
        )

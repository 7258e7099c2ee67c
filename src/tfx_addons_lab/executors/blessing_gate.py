"""Executor of :class:`tfx_addons_lab.components.BlessingGate`: artifacts -> signals -> decision.

``Do`` only wires the hook methods together; every step is a method a subclass may override:

=============================  ==================================================================
``load_config``                exec properties -> :class:`~tfx_addons_lab.gates.GateConfig`
``load_signals``               input artifacts -> :class:`~tfx_addons_lab.gates.Signals`
  ``read_blessing``            ``blessed`` property / BLESSED file of a (Model|Infra)Blessing
  ``read_drift_report``        ``(dataset_drifted, status, drifted_features)`` of a DriftReport
  ``read_anomalies``           every anomaly of an ExampleAnomalies (``SchemaDiff.pb`` per split)
  ``read_evaluation_metrics``  overall-slice metrics of the candidate and baseline (TFMA)
  ``read_model_metrics``       ``metrics.json`` written by the trainer into the model directory
``extra_checks``               your own checks: return a list of ``CheckResult`` (default none)
``judge``                      :func:`tfx_addons_lab.gates.decide` (fail closed, override)
``write_outputs``              the ModelBlessing (file + ``blessed``) and the GateReport (JSON+HTML)
=============================  ==================================================================

Error contract: a reader raises when it cannot read its input; :meth:`load_signals` turns
the exception into an entry of ``signals.errors``, so every check that needs the signal fails
with that reason (fail closed). Add a check by subclassing the component::

    class SizeBudgetExecutor(BlessingGateExecutor):
        def extra_checks(self, signals, config):
            size = model_size_bytes(signals.model_uri)
            budget = config.custom_config["max_model_bytes"]
            return [CheckResult("model_size", size <= budget, f"{size} bytes", {"size": size})]

    class SizeBudgetGate(BlessingGate):
        EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(SizeBudgetExecutor)

    SizeBudgetGate(..., custom_config={"max_model_bytes": 10_000_000})
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.compat_vertex import register_model_blessing_executor
from tfx_addons_lab.gates import CheckResult, GateConfig, GateDecision, decide
from tfx_addons_lab.gates import signals as sig
from tfx_addons_lab.gates.html import render_gate_report
from tfx_addons_lab.gates.report import gate_report, one_line
from tfx_addons_lab.gates.signals import Signals
from tfx_addons_lab.specs import blessing_gate as spec
from tfx_addons_lab.specs import registry_champion as champion

__all__ = ["BlessingGateExecutor"]

_LOG = logging.getLogger(__name__)

#: Signals each input feeds (the key its read error is filed under).
_DRIFT, _ANOMALIES, _CANDIDATE, _BASELINE = (
    "dataset_drifted",
    "anomalies",
    "candidate_metrics",
    "baseline_metrics",
)


@register_model_blessing_executor  # Vertex: resource-name model ids, as Evaluator's blessing
class BlessingGateExecutor(base_executor.BaseExecutor):
    """Combine metric, champion, blessing, drift and anomaly signals into a ModelBlessing."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        config = self.load_config(exec_properties)
        signals = self.load_signals(input_dict, config)
        extra = list(self.extra_checks(signals, config) or [])
        for check in extra:
            if not isinstance(check, CheckResult):
                raise TypeError(
                    f"{type(self).__name__}.extra_checks must return CheckResult objects, "
                    f"got {type(check).__name__}"
                )
        decision = self.judge(config, signals, extra)
        self.write_outputs(decision, config, signals, output_dict)
        _LOG.info("BlessingGate: %s", decision.reason)

    # -- hooks --------------------------------------------------------------------------------

    def load_config(self, exec_properties: Mapping[str, Any]) -> GateConfig:
        """Parse the ``gate_config`` JSON exec property."""
        return GateConfig.from_json(exec_properties.get(spec.GATE_CONFIG_KEY) or "{}")

    def load_signals(
        self, input_dict: Mapping[str, List[types.Artifact]], config: GateConfig
    ) -> Signals:
        """Read every connected input into :class:`Signals`; never raises on a bad artifact."""
        arts = {key: _single(input_dict, key) for key in spec.INPUT_KEYS}
        model, baseline = arts[spec.MODEL_KEY], arts[spec.BASELINE_MODEL_KEY]
        signals = Signals(
            model_uri=model.uri if model else None,
            model_id=model.id if model else None,
            baseline_model_uri=baseline.uri if baseline else None,
            baseline_model_id=baseline.id if baseline else None,
            baseline_present=baseline is not None,
            inputs={k: {"uri": a.uri, "id": a.id} if a else None for k, a in arts.items()},
        )
        for key in (spec.MODEL_BLESSING_KEY, spec.INFRA_BLESSING_KEY):
            value = self._read(signals, key, key, arts[key], self.read_blessing, key)
            setattr(signals, key, value)
        drift = self._read(
            signals,
            _DRIFT,
            spec.DRIFT_REPORT_KEY,
            arts[spec.DRIFT_REPORT_KEY],
            self.read_drift_report,
        )
        if drift is not None:
            signals.dataset_drifted, signals.drift_status, signals.drifted_features = drift
            paths = io.rglob(arts[spec.DRIFT_REPORT_KEY].uri, spec.DRIFT_REPORT_FILE)
            signals.drift_sides = sig.drift_sides(io.read_json(p) for p in paths)
        signals.anomalies = self._read(
            signals, _ANOMALIES, spec.ANOMALIES_KEY, arts[spec.ANOMALIES_KEY], self.read_anomalies
        )
        self._load_metrics(config, arts, signals)
        if why := champion.stand_in_reason(baseline):  # RegistryChampion found no champion
            signals.drop_baseline(why)
        return signals

    def extra_checks(self, signals: Signals, config: GateConfig) -> List[CheckResult]:
        """Override to add checks (e.g. a latency or model-size budget); default: none.

        ``signals`` is what :meth:`load_signals` returned (override it and put your own values
        in ``signals.extra``); ``config.custom_config`` carries the component's
        ``custom_config``. A failing check refuses the blessing like any built-in check.
        """
        return []

    def judge(self, config: GateConfig, signals: Signals, extra: List[CheckResult]) -> GateDecision:
        """The verdict; default :func:`tfx_addons_lab.gates.decide`."""
        return decide(config, signals, extra)

    def write_outputs(
        self,
        decision: GateDecision,
        config: GateConfig,
        signals: Signals,
        output_dict: Mapping[str, List[types.Artifact]],
    ) -> None:
        """Write the standard ModelBlessing and the GateReport (``gate_report.json`` + ``.html``)."""
        reason = one_line(decision.reason)
        blessing = artifact_utils.get_single_instance(list(output_dict[spec.BLESSING_KEY]))
        io.makedirs(blessing.uri)
        marker = spec.BLESSED_FILE if decision.blessed else spec.NOT_BLESSED_FILE
        io.write_text(io.join(blessing.uri, marker), "")
        # The properties Evaluator writes, so Pusher, Cond and LatestBlessedModelStrategy work.
        blessing.set_int_custom_property("blessed", int(decision.blessed))
        if signals.model_uri:
            blessing.set_string_custom_property("current_model", signals.model_uri)
            blessing.set_int_custom_property("current_model_id", int(signals.model_id or 0))
        base_uri, base_id = signals.baseline_identity()
        if base_uri:
            blessing.set_string_custom_property("baseline_model", base_uri)
        if base_id is not None:
            blessing.set_int_custom_property("baseline_model_id", int(base_id))
        blessing.set_string_custom_property("reason", reason)

        report = artifact_utils.get_single_instance(list(output_dict[spec.REPORT_KEY]))
        io.makedirs(report.uri)
        executor = f"{type(self).__module__}.{type(self).__qualname__}"
        payload = gate_report(decision, config, signals, executor, blessing.uri)
        io.write_json(io.join(report.uri, spec.GATE_REPORT_FILE), payload)
        io.write_text(io.join(report.uri, spec.GATE_REPORT_HTML_FILE), render_gate_report(payload))
        report.set_int_custom_property("passed", int(decision.blessed))
        report.set_int_custom_property("blessed", int(decision.blessed))
        report.set_string_custom_property("reason", reason)
        report.set_string_custom_property(
            "failed_checks", ",".join(c.name for c in decision.failed_checks)
        )
        if decision.override:
            for art in (blessing, report):
                art.set_string_custom_property("override", decision.override["action"])
                art.set_string_custom_property(
                    "override_justification", decision.override["justification"]
                )
                art.set_int_custom_property(
                    "checks_passed", int(bool(decision.override["checks_passed"]))
                )

    # -- readers (each overridable; each raises when it cannot read) ---------------------------

    def read_blessing(self, artifact: types.Artifact, key: str) -> bool:
        """The ``blessed`` custom property (exactly 0 or 1), else the BLESSED/NOT_BLESSED file."""
        props = io.custom_properties(artifact)  # also Vertex's JSON-encoded properties
        if "blessed" in props:
            return sig.parse_blessed(props["blessed"], f"{key} 'blessed' at {artifact.uri}")
        prefix = "INFRA_" if key == spec.INFRA_BLESSING_KEY else ""
        if io.exists(io.join(artifact.uri, prefix + spec.BLESSED_FILE)):
            return True
        if io.exists(io.join(artifact.uri, prefix + spec.NOT_BLESSED_FILE)):
            return False
        raise ValueError(
            f"{key} at {artifact.uri} has no 'blessed' property and no {prefix}BLESSED/"
            f"{prefix}NOT_BLESSED file (an Evaluator without thresholds writes none, "
            f"tensorflow/tfx#5148); configure thresholds upstream or turn off require_{key}"
        )

    def read_drift_report(self, artifact: types.Artifact) -> Tuple[bool, str, List[str]]:
        """``(dataset_drifted, status, drifted_features)`` from every ``report.json`` below the
        artifact (an index and one report per comparison count as one verdict); without any,
        from the artifact's ``dataset_drifted``/``status``/``drifted_features`` properties."""
        paths = io.rglob(artifact.uri, spec.DRIFT_REPORT_FILE)
        if paths:
            return sig.parse_drift_reports((path, io.read_json(path)) for path in paths)
        return sig.parse_drift_properties(io.custom_properties(artifact), artifact.uri)

    def read_anomalies(self, artifact: types.Artifact) -> List[Dict[str, str]]:
        """Every anomaly of every split: ``[{"split", "feature", "severity", "description"}]``."""
        return io.read_example_anomalies(artifact)

    def read_evaluation_metrics(
        self, artifact: types.Artifact
    ) -> Tuple[Dict[str, float], Optional[Dict[str, float]]]:
        """``(candidate, baseline or None)`` overall-slice metrics of a TFMA ``ModelEvaluation``."""
        import tensorflow_model_analysis as tfma

        return sig.tfma_overall_metrics(tfma.load_metrics(artifact.uri), _eval_config(artifact))

    def read_model_metrics(self, artifact: types.Artifact) -> Dict[str, Any]:
        """The ``metrics.json`` a trainer wrote: ``<model>/Format-Serving/``, the model root,
        then any ``<model>/Format-*/``."""
        uri = artifact.uri
        candidates = [
            io.join(uri, "Format-Serving", spec.METRICS_FILE),
            io.join(uri, spec.METRICS_FILE),
            *io.glob(io.join(uri, "Format-*", spec.METRICS_FILE)),
        ]
        for path in candidates:
            if io.exists(path):
                return sig.parse_metrics(io.read_json(path), path)
        raise FileNotFoundError(
            f"no {spec.METRICS_FILE} in model {uri} (looked in Format-Serving/ and the model "
            "root); have the trainer write one, or connect an Evaluator's evaluation"
        )

    # -- internals ----------------------------------------------------------------------------

    def _read(self, signals: Signals, signal: str, key: str, artifact, reader, *args) -> Any:
        """``reader(artifact, *args)``, or ``None`` with the reason filed in ``signals.errors``."""
        if artifact is None:
            signals.errors[signal] = f"the {key} input is not connected or resolved to no artifact"
            return None
        try:
            return reader(artifact, *args)
        except Exception as exc:  # noqa: BLE001 - fail closed, with the reason in the report
            signals.errors[signal] = f"cannot read {key} at {artifact.uri}: {exc}"
            return None

    def _load_metrics(self, config: GateConfig, arts: Mapping[str, Any], signals: Signals) -> None:
        evaluation, model = arts[spec.EVALUATION_KEY], arts[spec.MODEL_KEY]
        baseline = arts[spec.BASELINE_MODEL_KEY]
        if sig.metrics_source(config.metrics_source, evaluation is not None) == "model":
            signals.metrics_source = f"model metrics.json ({model.uri if model else '?'})"
            read = self.read_model_metrics
            signals.candidate_metrics = self._read(signals, _CANDIDATE, spec.MODEL_KEY, model, read)
            if baseline is not None:
                key = spec.BASELINE_MODEL_KEY
                signals.baseline_metrics = self._read(signals, _BASELINE, key, baseline, read)
            return
        signals.metrics_source = f"evaluation ({evaluation.uri if evaluation else '?'})"
        read = self.read_evaluation_metrics
        both = self._read(signals, _CANDIDATE, spec.EVALUATION_KEY, evaluation, read)
        if both is not None:
            location = sig.tfma_baseline_location(_eval_config(evaluation))
            signals.apply_evaluation(*both, evaluation.uri, location, baseline)


# ---------------------------------------------------------------------------------------------


def _single(input_dict: Mapping[str, List[types.Artifact]], key: str):
    arts = list(input_dict.get(key) or [])
    return arts[-1] if arts else None


def _eval_config(artifact: types.Artifact) -> Dict[str, Any]:
    path = io.join(artifact.uri, spec.EVAL_CONFIG_FILE)
    return io.read_json(path) if io.exists(path) else {}

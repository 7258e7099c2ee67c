"""Executor of :class:`tfx_addons_lab.components.BlessingGate`: artifacts -> signals -> decision.

``Do`` only wires the hook methods together; every step is a method a subclass may override:

=============================  ==================================================================
``load_config``                exec properties -> :class:`~tfx_addons_lab.gates.GateConfig`
``load_signals``               input artifacts -> the signals dict of :mod:`tfx_addons_lab.gates`
  ``read_blessing``            ``blessed`` property / BLESSED file of a (Model|Infra)Blessing
  ``read_drift_report``        ``dataset_drifted`` from ``report.json`` (or the property)
  ``read_anomalies``           ``SchemaDiff.pb`` (Anomalies proto) of every split
  ``read_evaluation_metrics``  overall-slice metrics of the candidate and baseline (TFMA)
  ``read_model_metrics``       ``metrics.json`` written by the trainer into the model directory
``extra_checks``               your own checks: return a list of ``CheckResult`` (default none)
``decide``                     :func:`tfx_addons_lab.gates.decide` (fail closed, override)
``write_outputs``              the ModelBlessing (file + ``blessed``) and the GateReport
=============================  ==================================================================

Add a check by subclassing and passing the subclass to the component::

    class SizeBudgetExecutor(BlessingGateExecutor):
        def extra_checks(self, signals, config):
            size = model_size_bytes(signals["model_uri"])
            budget = config.custom_config["max_model_bytes"]
            return [CheckResult("model_size", size <= budget, f"{size} bytes", {"size": size})]

    BlessingGate(..., custom_config={"max_model_bytes": 10_000_000},
                 custom_executor_spec=executor_spec.ExecutorClassSpec(SizeBudgetExecutor))
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from tfx_addons_lab.gates import CheckResult, GateConfig, GateDecision, decide

_LOG = logging.getLogger(__name__)

# Keys of the component spec (inputs, outputs, exec properties).
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

GATE_REPORT_FILE = "gate_report.json"
METRICS_FILE = "metrics.json"
BLESSED_FILE = "BLESSED"
NOT_BLESSED_FILE = "NOT_BLESSED"
ANOMALIES_FILE = "SchemaDiff.pb"
DRIFT_REPORT_FILE = "report.json"


class BlessingGateExecutor(base_executor.BaseExecutor):
    """Combine metric, champion, blessing, drift and anomaly signals into a ModelBlessing."""

    # -- TFX entry point ----------------------------------------------------------------------

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        config = self.load_config(exec_properties)
        signals = self.load_signals(input_dict, exec_properties)
        extra = list(self.extra_checks(signals, config) or [])
        for check in extra:
            if not isinstance(check, CheckResult):
                raise TypeError(
                    f"{type(self).__name__}.extra_checks must return CheckResult objects, "
                    f"got {type(check).__name__}"
                )
        decision = self.decide(config, signals, extra)
        self.write_outputs(decision, config, signals, input_dict, output_dict, exec_properties)
        _LOG.info("BlessingGate: %s", decision.reason)

    # -- hooks --------------------------------------------------------------------------------

    def load_config(self, exec_properties: Mapping[str, Any]) -> GateConfig:
        """Parse the ``gate_config`` JSON exec property."""
        return GateConfig.from_json(exec_properties.get(GATE_CONFIG_KEY) or "{}")

    def load_signals(
        self, input_dict: Mapping[str, List[types.Artifact]], exec_properties: Mapping[str, Any]
    ) -> Dict[str, Any]:
        """Read every connected input into the plain signals dict that the policy judges.

        Never raises on a bad artifact: what cannot be read is left ``None`` and the reason is
        put in ``signals["errors"]``, so a configured check on it fails (fail closed). Besides
        the policy keys, the dict holds ``model_uri``, ``model_id``, ``baseline_model_uri``,
        ``baseline_model_id`` and ``inputs`` (uris, for the report) for subclasses.
        """
        config = self.load_config(exec_properties)
        errors: Dict[str, str] = {}
        signals: Dict[str, Any] = {"errors": errors, "inputs": {}}

        model = _single(input_dict, MODEL_KEY)
        signals["model_uri"] = model.uri if model else None
        signals["model_id"] = model.id if model else None
        baseline = _single(input_dict, BASELINE_MODEL_KEY)
        signals["baseline_model_uri"] = baseline.uri if baseline else None
        signals["baseline_model_id"] = baseline.id if baseline else None
        for key in (
            MODEL_KEY,
            MODEL_BLESSING_KEY,
            INFRA_BLESSING_KEY,
            DRIFT_REPORT_KEY,
            ANOMALIES_KEY,
            EVALUATION_KEY,
            BASELINE_MODEL_KEY,
        ):
            art = _single(input_dict, key)
            signals["inputs"][key] = {"uri": art.uri, "id": art.id} if art else None

        for key in (MODEL_BLESSING_KEY, INFRA_BLESSING_KEY):
            art = _single(input_dict, key)
            if art is None:
                signals[key] = None
                errors[key] = _absent(key)
            else:
                signals[key], err = self.read_blessing(art, key)
                if err:
                    errors[key] = err

        drift = _single(input_dict, DRIFT_REPORT_KEY)
        signals["dataset_drifted"], signals["drifted_features"] = None, []
        if drift is None:
            errors["dataset_drifted"] = _absent(DRIFT_REPORT_KEY)
        else:
            try:
                signals["dataset_drifted"], signals["drifted_features"] = self.read_drift_report(
                    drift
                )
            except Exception as exc:  # noqa: BLE001 - fail closed, reported
                errors["dataset_drifted"] = f"cannot read drift_report at {drift.uri}: {exc}"

        anomalies = _single(input_dict, ANOMALIES_KEY)
        signals["anomalies"] = None
        if anomalies is None:
            errors["anomalies"] = _absent(ANOMALIES_KEY)
        else:
            try:
                signals["anomalies"] = self.read_anomalies(anomalies)
            except Exception as exc:  # noqa: BLE001
                errors["anomalies"] = f"cannot read anomalies at {anomalies.uri}: {exc}"

        self._load_metrics(config, input_dict, model, baseline, signals, errors)
        return signals

    def extra_checks(self, signals: Mapping[str, Any], config: GateConfig) -> List[CheckResult]:
        """Override to add checks (e.g. a latency or model-size budget); default: none.

        ``signals`` is what :meth:`load_signals` returned (override it to add your own keys);
        ``config.custom_config`` carries the component's ``custom_config`` argument. Return
        one :class:`~tfx_addons_lab.gates.CheckResult` per check; a failing one refuses the
        blessing like any built-in check and is listed in the gate report.
        """
        return []

    def decide(
        self, config: GateConfig, signals: Mapping[str, Any], extra: List[CheckResult]
    ) -> GateDecision:
        """The verdict; default :func:`tfx_addons_lab.gates.decide`."""
        return decide(config, signals, extra)

    def write_outputs(
        self,
        decision: GateDecision,
        config: GateConfig,
        signals: Mapping[str, Any],
        input_dict: Mapping[str, List[types.Artifact]],
        output_dict: Mapping[str, List[types.Artifact]],
        exec_properties: Mapping[str, Any],
    ) -> None:
        """Write the standard ModelBlessing and the GateReport (``gate_report.json``)."""
        import tensorflow as tf

        reason = _one_line(decision.reason)
        blessing = artifact_utils.get_single_instance(list(output_dict[BLESSING_KEY]))
        tf.io.gfile.makedirs(blessing.uri)
        marker = BLESSED_FILE if decision.blessed else NOT_BLESSED_FILE
        with tf.io.gfile.GFile(os.path.join(blessing.uri, marker), "w") as f:
            f.write("")
        # The properties Evaluator writes, so Pusher, Cond and LatestBlessedModelStrategy work.
        blessing.set_int_custom_property("blessed", int(decision.blessed))
        if signals.get("model_uri"):
            blessing.set_string_custom_property("current_model", signals["model_uri"])
            blessing.set_int_custom_property("current_model_id", int(signals["model_id"]))
        base_uri, base_id = _baseline_identity(signals)
        if base_uri:
            blessing.set_string_custom_property("baseline_model", base_uri)
        if base_id is not None:
            blessing.set_int_custom_property("baseline_model_id", int(base_id))
        blessing.set_string_custom_property("reason", reason)

        report = artifact_utils.get_single_instance(list(output_dict[REPORT_KEY]))
        tf.io.gfile.makedirs(report.uri)
        payload = decision.to_dict()
        payload.update(
            {
                "gate": "BlessingGate",
                "executor": f"{type(self).__module__}.{type(self).__qualname__}",
                "config": config.to_dict(),
                "metrics_source": signals.get("metrics_source"),
                "candidate_metrics": signals.get("candidate_metrics"),
                "baseline_present": bool(signals.get("baseline_present")),
                "baseline_metrics": signals.get("baseline_metrics"),
                "signal_errors": dict(signals.get("errors") or {}),
                "inputs": signals.get("inputs"),
                "blessing_uri": blessing.uri,
            }
        )
        with tf.io.gfile.GFile(os.path.join(report.uri, GATE_REPORT_FILE), "w") as f:
            f.write(json.dumps(_jsonable(payload), indent=2, sort_keys=True))
        report.set_int_custom_property("passed", int(decision.blessed))
        report.set_int_custom_property("blessed", int(decision.blessed))
        report.set_string_custom_property("reason", reason)
        failed = ",".join(c.name for c in decision.failed_checks)
        report.set_string_custom_property("failed_checks", failed)
        if decision.override:
            for art in (blessing, report):
                art.set_string_custom_property("override", decision.override["action"])
                art.set_string_custom_property(
                    "override_justification", decision.override["justification"]
                )
                art.set_int_custom_property(
                    "checks_passed", int(bool(decision.override["checks_passed"]))
                )

    # -- readers (each overridable) -----------------------------------------------------------

    def read_blessing(self, artifact: types.Artifact, key: str) -> Tuple[Optional[bool], str]:
        """``(blessed, error)`` from the ``blessed`` int property, else BLESSED-style files."""
        if artifact.has_custom_property("blessed"):
            return artifact.get_int_custom_property("blessed") == 1, ""
        import tensorflow as tf

        prefix = "INFRA_" if key == INFRA_BLESSING_KEY else ""
        if tf.io.gfile.exists(os.path.join(artifact.uri, prefix + BLESSED_FILE)):
            return True, ""
        if tf.io.gfile.exists(os.path.join(artifact.uri, prefix + NOT_BLESSED_FILE)):
            return False, ""
        return None, (
            f"{key} at {artifact.uri} has no 'blessed' property and no {prefix}BLESSED/"
            f"{prefix}NOT_BLESSED file (an Evaluator without thresholds writes none, "
            "tensorflow/tfx#5148); configure thresholds upstream or turn off "
            f"require_{key}"
        )

    def read_drift_report(self, artifact: types.Artifact) -> Tuple[bool, List[str]]:
        """``(dataset_drifted, drifted_features)`` from every ``report.json`` under the artifact.

        Several reports (one per comparison) count as drifted when any is. Without a
        ``report.json``, the ``dataset_drifted`` int property is used.
        """
        import tensorflow as tf

        paths = sorted(_rglob(artifact.uri, DRIFT_REPORT_FILE))
        if paths:
            drifted, features = False, []
            for path in paths:
                with tf.io.gfile.GFile(path) as f:
                    data = json.load(f)
                if "dataset_drifted" not in data:
                    raise ValueError(f"{path} has no 'dataset_drifted' key")
                if data["dataset_drifted"]:
                    drifted = True
                    names = data.get("drifted_features")
                    if names is None:
                        names = [
                            x.get("name") for x in data.get("features", []) if x.get("drifted")
                        ]
                    features.extend(n for n in names if n not in features)
            return drifted, features
        if artifact.has_custom_property("dataset_drifted"):
            drifted = bool(artifact.get_int_custom_property("dataset_drifted"))
            names = ""
            if artifact.has_custom_property("drifted_features"):
                names = artifact.get_string_custom_property("drifted_features")
            return drifted, [n for n in names.split(",") if n]
        raise FileNotFoundError(
            f"no {DRIFT_REPORT_FILE} and no 'dataset_drifted' property (is it a DriftReport "
            "written by DriftValidator?)"
        )

    def read_anomalies(self, artifact: types.Artifact) -> List[Dict[str, str]]:
        """Every anomaly of every split: ``[{"split", "feature", "severity", "description"}]``."""
        return read_example_anomalies(artifact)

    def read_evaluation_metrics(
        self, artifact: types.Artifact
    ) -> Tuple[Dict[str, float], Optional[Dict[str, float]]]:
        """``(candidate, baseline)`` overall-slice metrics of a TFMA ``ModelEvaluation``.

        ``baseline`` is ``None`` when the Evaluator ran without a baseline model.
        """
        return read_tfma_metrics(artifact.uri)

    def read_model_metrics(self, artifact: types.Artifact) -> Dict[str, float]:
        """The numeric entries of the ``metrics.json`` a trainer wrote into the model directory.

        Looked up in ``<model>/Format-Serving/metrics.json``, then ``<model>/metrics.json``,
        then any ``<model>/Format-*/metrics.json``.
        """
        return read_metrics_json(artifact.uri)

    # -- internals ----------------------------------------------------------------------------

    def _load_metrics(
        self,
        config: GateConfig,
        input_dict: Mapping[str, List[types.Artifact]],
        model: Optional[types.Artifact],
        baseline: Optional[types.Artifact],
        signals: Dict[str, Any],
        errors: Dict[str, str],
    ) -> None:
        evaluation = _single(input_dict, EVALUATION_KEY)
        source = config.metrics_source
        if source == "auto":
            source = "evaluation" if evaluation is not None else "model"
        signals.update(candidate_metrics=None, baseline_metrics=None)
        signals["baseline_present"] = baseline is not None
        needs_metrics = bool(config.metric_thresholds or config.champion_metric)
        if source == "evaluation":
            signals["metrics_source"] = "evaluation"
            if evaluation is None:
                errors["candidate_metrics"] = _absent(EVALUATION_KEY)
                return
            signals["metrics_source"] = f"evaluation ({evaluation.uri})"
            try:
                cand, base = self.read_evaluation_metrics(evaluation)
            except Exception as exc:  # noqa: BLE001
                errors["candidate_metrics"] = f"cannot read evaluation at {evaluation.uri}: {exc}"
                return
            signals["candidate_metrics"] = cand
            if not cand:
                errors["candidate_metrics"] = f"evaluation at {evaluation.uri} holds no metrics"
            if base is not None:
                signals["baseline_present"] = True
                signals["baseline_metrics"] = base
                signals["evaluation_baseline_uri"] = _evaluation_baseline_uri(evaluation.uri)
            elif baseline is not None:
                errors["baseline_metrics"] = (
                    f"baseline_model {baseline.uri} is given but the evaluation has no baseline "
                    "metrics; pass the same model as the Evaluator's baseline_model, or set "
                    "metrics_source='model'"
                )
            return
        signals["metrics_source"] = "model metrics.json"
        if model is None:
            errors["candidate_metrics"] = _absent(MODEL_KEY)
        else:
            try:
                signals["candidate_metrics"] = self.read_model_metrics(model)
                signals["metrics_source"] = f"model metrics.json ({model.uri})"
            except Exception as exc:  # noqa: BLE001
                if needs_metrics:
                    errors["candidate_metrics"] = str(exc)
        if baseline is not None:
            try:
                signals["baseline_metrics"] = self.read_model_metrics(baseline)
            except Exception as exc:  # noqa: BLE001
                errors["baseline_metrics"] = f"baseline_model: {exc}"


# ---------------------------------------------------------------------------------------------
# Readers usable without an executor instance.


def read_metrics_json(model_uri: str) -> Dict[str, float]:
    """Numeric entries of a trainer's ``metrics.json`` in a model directory (see executor)."""
    import tensorflow as tf

    candidates = [
        os.path.join(model_uri, "Format-Serving", METRICS_FILE),
        os.path.join(model_uri, METRICS_FILE),
        *sorted(tf.io.gfile.glob(os.path.join(model_uri, "Format-*", METRICS_FILE))),
    ]
    for path in candidates:
        if tf.io.gfile.exists(path):
            with tf.io.gfile.GFile(path) as f:
                try:
                    data = json.load(f)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path} is not valid JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise ValueError(f"{path} must hold a JSON object {{metric: number}}")
            return {
                str(k): float(v)
                for k, v in data.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
    raise FileNotFoundError(
        f"no {METRICS_FILE} in model {model_uri} (looked in Format-Serving/ and the model "
        "root); have the trainer write one, or connect an Evaluator's evaluation"
    )


def read_tfma_metrics(
    evaluation_uri: str,
) -> Tuple[Dict[str, float], Optional[Dict[str, float]]]:
    """``(candidate, baseline-or-None)`` overall-slice scalar metrics of a TFMA output folder.

    Diff metrics, per-class sub-keys and non-scalar values are skipped; a metric of a named
    output is keyed ``"<output>/<metric>"``; unweighted values win over example-weighted.
    """
    import tensorflow_model_analysis as tfma

    candidate_name, baseline_name = _tfma_model_names(evaluation_uri)
    per_model: Dict[str, Dict[str, float]] = {}
    weighted: Dict[str, Dict[str, float]] = {}
    for record in tfma.load_metrics(evaluation_uri):
        if record.slice_key.single_slice_keys or record.HasField("cross_slice_key"):
            continue
        for kv in record.metric_keys_and_values:
            key = kv.key
            if key.is_diff or key.HasField("sub_key") or key.HasField("aggregation_type"):
                continue
            if kv.value.WhichOneof("type") != "double_value":
                continue
            name = f"{key.output_name}/{key.name}" if key.output_name else key.name
            is_weighted = key.HasField("example_weighted") and key.example_weighted.value
            target = weighted if is_weighted else per_model
            target.setdefault(key.model_name, {}).setdefault(name, kv.value.double_value.value)
    for model_name, values in weighted.items():
        for name, value in values.items():
            per_model.setdefault(model_name, {}).setdefault(name, value)
    candidate = per_model.get(candidate_name, {})
    if not candidate and len(per_model) == 1 and baseline_name is None:
        candidate = next(iter(per_model.values()))
    baseline = per_model.get(baseline_name, {}) if baseline_name is not None else None
    return candidate, baseline


def read_example_anomalies(
    artifact: types.Artifact, splits: Optional[List[str]] = None
) -> List[Dict[str, str]]:
    """Anomalies of an ``ExampleAnomalies`` artifact (stock ExampleValidator layout:
    ``Split-<name>/SchemaDiff.pb``, a binary ``Anomalies`` proto; text protos are accepted).

    Raises ``FileNotFoundError`` when no split holds an anomalies file.
    """
    import tensorflow as tf
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    names = artifact_utils.decode_split_names(artifact.split_names) if artifact.split_names else []
    if not names:
        names = [
            d.rstrip("/")[len("Split-") :]
            for d in tf.io.gfile.listdir(artifact.uri)
            if d.startswith("Split-")
        ]
    if splits:
        missing = sorted(set(splits) - set(names))
        if missing:
            raise FileNotFoundError(f"split(s) {missing} not in the anomalies (splits: {names})")
        names = [n for n in names if n in splits]
    found: List[Dict[str, str]] = []
    read_any = False
    for split in sorted(names):
        folder = os.path.join(artifact.uri, f"Split-{split}")
        path = os.path.join(folder, ANOMALIES_FILE)
        if not tf.io.gfile.exists(path):
            pbs = sorted(tf.io.gfile.glob(os.path.join(folder, "*.pb*")))
            if not pbs:
                continue
            path = pbs[0]
        with tf.io.gfile.GFile(path, "rb") as f:
            raw = f.read()
        proto = anomalies_pb2.Anomalies()
        try:
            proto.ParseFromString(raw)
        except Exception:  # noqa: BLE001 - maybe text format
            proto = text_format.Parse(raw.decode("utf-8"), anomalies_pb2.Anomalies())
        read_any = True
        found.extend(anomalies_to_dicts(proto, split))
    if not read_any:
        raise FileNotFoundError(
            f"no {ANOMALIES_FILE} in any split of {artifact.uri} (splits: {names})"
        )
    return found


def anomalies_to_dicts(proto, split: str = "") -> List[Dict[str, str]]:
    """Flatten an ``Anomalies`` proto to ``[{"split", "feature", "severity", "description"}]``."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    out = []
    for feature, info in sorted(proto.anomaly_info.items()):
        out.append(
            {
                "split": split,
                "feature": feature,
                "severity": anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                "description": info.description or info.short_description,
                "types": ",".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason),
            }
        )
    if proto.HasField("dataset_anomaly_info"):
        info = proto.dataset_anomaly_info
        out.append(
            {
                "split": split,
                "feature": "(dataset)",
                "severity": anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                "description": info.description or info.short_description,
                "types": ",".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason),
            }
        )
    return out


# ---------------------------------------------------------------------------------------------


def _single(input_dict: Mapping[str, List[types.Artifact]], key: str):
    arts = list(input_dict.get(key) or [])
    return arts[-1] if arts else None


def _absent(key: str) -> str:
    return f"the {key} input is not connected or resolved to no artifact"


def _tfma_model_names(evaluation_uri: str) -> Tuple[str, Optional[str]]:
    config = _read_eval_config(evaluation_uri)
    specs = (config.get("evalConfig") or {}).get("modelSpecs") or []
    candidate, baseline = "", None
    for spec in specs:
        if spec.get("isBaseline"):
            baseline = spec.get("name", "")
        else:
            candidate = spec.get("name", "")
    return candidate, baseline


def _evaluation_baseline_uri(evaluation_uri: str) -> Optional[str]:
    config = _read_eval_config(evaluation_uri)
    _, baseline_name = _tfma_model_names(evaluation_uri)
    if baseline_name is None:
        return None
    return (config.get("modelLocations") or {}).get(baseline_name)


def _read_eval_config(evaluation_uri: str) -> Dict[str, Any]:
    import tensorflow as tf

    path = os.path.join(evaluation_uri, "eval_config.json")
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def _baseline_identity(signals: Mapping[str, Any]) -> Tuple[Optional[str], Optional[int]]:
    if signals.get("baseline_model_uri"):
        return signals["baseline_model_uri"], signals.get("baseline_model_id")
    uri = signals.get("evaluation_baseline_uri")
    if uri:
        # TFMA records the serving path (<model>/Format-Serving); name the model artifact.
        return os.path.dirname(uri.rstrip("/")) if "Format-" in uri else uri, None
    return None, None


def _rglob(root: str, name: str) -> List[str]:
    import tensorflow as tf

    out = []
    for dirpath, _, files in tf.io.gfile.walk(root):
        if name in files:
            out.append(os.path.join(dirpath, name))
    return out


def _one_line(text: str, limit: int = 1000) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _jsonable(value: Any) -> Any:
    from tfx_addons_lab.gates.policy import _jsonable as impl

    return impl(value)

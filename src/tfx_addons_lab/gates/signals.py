"""What a gate judges: the typed :class:`Signals`, and the strict readers that produce them.

Readers take what a file or an ML Metadata property holds (already read; no file access, no
TFX import) and either return a well-typed value or raise ``ValueError`` saying what was
wrong. Nothing is coerced: ``True`` is not 1.0, ``"0.9"`` is not a number, ``"False"`` is not
a blessing, ``null`` is not "no drift". Non-finite metric values are kept as they are, and
the checks refuse them with a reason, so a report shows what was read.

The executor (or a notebook) fills a :class:`Signals`; anything it could not read becomes an
entry in :attr:`Signals.errors`, and every check that needs it fails (fail closed).
"""

from __future__ import annotations

import numbers
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

#: ``Signals.drift_status`` values.
DRIFT_OK = "ok"
DRIFT_NO_BASELINE = "no_baseline"
DRIFT_STATUSES = (DRIFT_OK, DRIFT_NO_BASELINE)

MetricDict = Dict[str, float]


@dataclass
class Signals:
    """Every input of a gate decision, typed.

    Attributes:
      candidate_metrics: ``{metric: number}`` of the candidate model (``None``: not read).
      baseline_metrics: ``{metric: number}`` of the baseline (champion) model.
      baseline_present: a baseline / champion model exists.
      metrics_source: where the metrics came from (for reasons and the report).
      model_blessing, infra_blessing: the upstream blessing (``None``: not read).
      dataset_drifted: the drift verdict (``None``: not read).
      drift_status: ``"ok"`` or ``"no_baseline"`` (some comparison had no baseline).
      drifted_features: drifted feature names (for the reason).
      drift_sides: what the drift report compared, e.g. ``train@span 2013 vs train@spans
        2010-2012`` (for the reason; '' when not named).
      anomalies: ``[{"split", "feature", "severity", "description"}]`` (``None``: not read).
      errors: ``{signal: why it could not be read}``; a check on that signal fails with it.
      model_uri, model_id, baseline_model_uri, baseline_model_id: the models judged.
      evaluation_baseline_uri: the baseline model the Evaluator compared with, if any.
      inputs: ``{input key: {"uri", "id"} or None}``, for the report.
      extra: anything an executor subclass reads for its own checks.
    """

    candidate_metrics: Optional[Dict[str, Any]] = None
    baseline_metrics: Optional[Dict[str, Any]] = None
    baseline_present: bool = False
    metrics_source: str = ""
    model_blessing: Optional[bool] = None
    infra_blessing: Optional[bool] = None
    dataset_drifted: Optional[bool] = None
    drift_status: str = DRIFT_OK
    drifted_features: List[str] = field(default_factory=list)
    drift_sides: str = ""
    anomalies: Optional[List[Dict[str, Any]]] = None
    errors: Dict[str, str] = field(default_factory=dict)
    model_uri: Optional[str] = None
    model_id: Optional[int] = None
    baseline_model_uri: Optional[str] = None
    baseline_model_id: Optional[int] = None
    evaluation_baseline_uri: Optional[str] = None
    inputs: Dict[str, Any] = field(default_factory=dict)
    extra: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def apply_evaluation(
        self,
        candidate: Dict[str, Any],
        baseline: Optional[Dict[str, Any]],
        where: str,
        baseline_location: Optional[str] = None,
        wired_baseline: Any = None,
    ) -> None:
        """Take the metrics of a TFMA evaluation (the rule when metrics come from Evaluator).

        No candidate metrics is an error; baseline metrics mean a baseline was present (at
        ``baseline_location``); a wired ``baseline_model`` the evaluation has no metrics for is
        an error (the champion comparison must not silently lose its baseline).
        """
        self.candidate_metrics, self.baseline_metrics = candidate, baseline
        if not candidate:
            self.errors["candidate_metrics"] = f"evaluation at {where} holds no metrics"
        if baseline is not None:
            self.baseline_present = True
            self.evaluation_baseline_uri = baseline_location
        elif wired_baseline is not None:
            self.errors["baseline_metrics"] = (
                f"baseline_model {getattr(wired_baseline, 'uri', wired_baseline)} is given but "
                "the evaluation has no baseline metrics; pass the same model as the Evaluator's "
                "baseline_model, or set metrics_source='model'"
            )

    def drop_baseline(self, reason: str) -> None:
        """Judge without a baseline: the wired ``baseline_model`` is a stand-in for "no
        champion" (``RegistryChampion``'s output with ``champion_found=0``), so its metrics,
        and the Evaluator's comparison with it, are not a champion's. ``reason`` is recorded
        in :attr:`extra` (``"no_champion"``)."""
        self.baseline_metrics, self.baseline_present = None, False
        self.baseline_model_uri = self.baseline_model_id = self.evaluation_baseline_uri = None
        self.errors.pop("baseline_metrics", None)
        self.extra["no_champion"] = reason

    def baseline_identity(self) -> Tuple[Optional[str], Optional[int]]:
        """``(uri, id)`` of the baseline model judged against: the wired ``baseline_model``,
        else the one the Evaluator compared with (TFMA records its serving folder
        ``<model>/Format-Serving``; the model artifact is its parent)."""
        if self.baseline_model_uri:
            return self.baseline_model_uri, self.baseline_model_id
        uri = self.evaluation_baseline_uri
        if uri:
            return (uri.rstrip("/").rsplit("/", 1)[0] if "Format-" in uri else uri), None
        return None, None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Signals:
        """Signals from a plain dict (notebooks, tests), validated like a reader would.

        A value of the wrong type does not raise: it becomes ``None`` plus an entry in
        ``errors`` naming the key and the value, so the check on it fails with that reason.
        Unknown keys go to ``extra``.
        """
        if isinstance(data, Signals):
            return data
        if not isinstance(data, Mapping):
            return cls(errors={"signals": f"signals must be a mapping, got {_show(data)}"})
        out = cls()
        errors = data.get("errors") or {}
        out.errors = (
            {str(k): str(v) for k, v in errors.items()} if isinstance(errors, Mapping) else {}
        )
        parsers = {
            "candidate_metrics": lambda v: parse_metrics(v, "candidate metrics"),
            "baseline_metrics": lambda v: parse_metrics(v, "baseline metrics"),
            "model_blessing": lambda v: parse_blessed(v, "model_blessing 'blessed'"),
            "infra_blessing": lambda v: parse_blessed(v, "infra_blessing 'blessed'"),
            "dataset_drifted": lambda v: _strict_bool(v, "dataset_drifted"),
            "anomalies": parse_anomaly_list,
        }
        for key, value in data.items():
            if key == "errors":
                continue
            if key in parsers:
                if value is None:
                    continue
                try:
                    setattr(out, key, parsers[key](value))
                except ValueError as exc:
                    out.errors.setdefault(key, str(exc))
            elif key == "baseline_present":
                out.baseline_present = value is not False
                if not isinstance(value, bool):
                    out.errors.setdefault(
                        "baseline_metrics", f"baseline_present is {_show(value)}, not true/false"
                    )
            elif key == "drifted_features":
                out.drifted_features = [str(v) for v in value] if _is_list(value) else []
            elif key == "drift_status":
                out.drift_status = str(value)
            elif key in _PLAIN:
                setattr(out, key, value)
            else:
                out.extra[key] = value
        return out


_PLAIN = {
    "metrics_source",
    "model_uri",
    "model_id",
    "baseline_model_uri",
    "baseline_model_id",
    "evaluation_baseline_uri",
    "inputs",
    "extra",
}


# ------------------------------------------------------------------------------ values


def is_number(value: Any) -> bool:
    """A real number that is not a bool (``True`` is not 1.0)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _strict_bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"{what} is {_show(value)}, not true or false")


def parse_metrics(value: Any, what: str = "metrics") -> Dict[str, Any]:
    """``{name: number}`` from a decoded ``metrics.json`` (or a signals dict).

    Keeps every entry as it is (numbers as floats): a check that uses an entry refuses it
    with a reason when it is not a finite number (``inf``, ``NaN``, ``true``, ``"0.9"``...).
    Raises ``ValueError`` when ``value`` is not a JSON object.
    """
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a JSON object {{metric: number}}, got {_show(value)}")
    return {str(k): _float_if_it_fits(v) for k, v in value.items()}


def _float_if_it_fits(value: Any) -> Any:
    """A number as a float; anything else, or an integer too large for a float, unchanged."""
    if not is_number(value):
        return value
    try:
        return float(value)
    except OverflowError:  # e.g. a 400-digit integer in metrics.json: the check refuses it
        return value


def parse_blessed(value: Any, what: str = "blessing") -> bool:
    """A ``blessed`` property: exactly the integer 1 (blessed) or 0 (not blessed).

    ``True``/``False`` are accepted as themselves; ``2``, ``NaN``, ``"BLESSED"``,
    ``"False"``, ``1.0``... raise ``ValueError``: a blessing we cannot read is no blessing.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    raise ValueError(f"{what} is {_show(value)}; expected the integer 1 or 0")


def parse_anomaly_list(value: Any) -> List[Dict[str, Any]]:
    """A list of anomaly dicts, each with string ``feature`` (and optional ``split`` etc.)."""
    if not _is_list(value):
        raise ValueError(f"anomalies must be a list of anomalies, got {_show(value)}")
    out = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("feature"), str):
            raise ValueError(f"anomaly {_show(item)} is not an object with a 'feature' name")
        out.append(dict(item))
    return out


def parse_drift_reports(reports: Iterable[Tuple[str, Any]]) -> Tuple[bool, str, List[str]]:
    """``(dataset_drifted, status, drifted_features)`` from decoded ``report.json`` files.

    ``reports`` are ``(path, decoded JSON)`` pairs: one report, or an index plus one report
    per comparison. Drifted when any report is. ``status`` is ``no_baseline`` when any report
    says so (the run was not fully evaluated). Raises ``ValueError`` naming the file when a
    report is not an object, or its ``dataset_drifted`` is not exactly true/false, or its
    ``status`` is unknown.
    """
    drifted, status, features = False, DRIFT_OK, []
    seen = False
    for path, data in reports:
        seen = True
        if not isinstance(data, Mapping):
            raise ValueError(f"{path} is not a drift report (a JSON object)")
        value = data.get("dataset_drifted")
        if not isinstance(value, bool):
            raise ValueError(f"{path}: 'dataset_drifted' is {_show(value)}, not true or false")
        report_status = data.get("status", DRIFT_OK)
        if report_status not in DRIFT_STATUSES:
            raise ValueError(
                f"{path}: unknown status {_show(report_status)} (expected one of {DRIFT_STATUSES})"
            )
        if report_status == DRIFT_NO_BASELINE:
            status = DRIFT_NO_BASELINE
        if value:
            drifted = True
            names = data.get("drifted_features")
            if names is None:
                names = [
                    f.get("name")
                    for f in data.get("features") or []
                    if isinstance(f, Mapping) and f.get("drifted")
                ]
            if not _is_list(names):
                raise ValueError(f"{path}: 'drifted_features' is {_show(names)}, not a list")
            features.extend(str(n) for n in names if str(n) not in features)
    if not seen:
        raise ValueError("no report.json found")
    return drifted, status, features


def drift_sides(reports: Iterable[Any]) -> str:
    """``train@span 2013 vs train@span 2012`` for each comparison of decoded ``report.json``
    documents (index documents are skipped; their comparisons have their own report), joined
    by ``; ``; a comparison without baseline reads ``train@span 2013 vs no baseline (why)``.
    Text from the reports is passed through :func:`tfx_addons_lab.textfmt.safe`."""
    from tfx_addons_lab import textfmt

    out: List[str] = []
    for data in reports:
        if not isinstance(data, Mapping) or data.get("kind") == "index":
            continue
        current, baseline = data.get("current_name"), data.get("baseline_name")
        if not current or not baseline:
            continue
        why = data.get("baseline_reason") if data.get("status") == DRIFT_NO_BASELINE else ""
        text = f"{current} vs {baseline}" + (f" ({why})" if why else "")
        if textfmt.safe(text) not in out:
            out.append(textfmt.safe(text))
    return "; ".join(out)


def metrics_source(configured: str, evaluation_connected: bool) -> str:
    """The metric-source rule: ``"auto"`` is the TFMA evaluation when one is connected,
    else the model's ``metrics.json``; ``"evaluation"`` and ``"model"`` are themselves."""
    if configured == "auto":
        return "evaluation" if evaluation_connected else "model"
    return configured


def parse_drift_properties(props: Mapping[str, Any], where: str) -> Tuple[bool, str, List[str]]:
    """``(dataset_drifted, status, drifted_features)`` from a DriftReport's custom properties
    (``dataset_drifted`` exactly 0 or 1, ``status``, comma-separated ``drifted_features``)."""
    if "dataset_drifted" not in props:
        raise ValueError(
            f"no report.json and no 'dataset_drifted' property in {where} (is it a DriftReport "
            "written by DriftValidator?)"
        )
    drifted = parse_blessed(props["dataset_drifted"], f"drift report {where}: dataset_drifted")
    status = props.get("status", DRIFT_OK)
    if status not in DRIFT_STATUSES:
        raise ValueError(f"drift report {where}: unknown status {_show(status)}")
    names = props.get("drifted_features", "")
    return drifted, status, [n for n in str(names).split(",") if n]


# ------------------------------------------------------------------------------ TFMA


def tfma_overall_metrics(
    records: Iterable[Any], eval_config: Mapping[str, Any]
) -> Tuple[MetricDict, Optional[MetricDict]]:
    """``(candidate, baseline-or-None)`` overall-slice scalar metrics of TFMA results.

    ``records`` are ``MetricsForSlice`` protos (``tfma.load_metrics``); ``eval_config`` the
    decoded ``eval_config.json`` TFMA writes beside them. Diff metrics, per-class sub-keys
    and non-scalar values are skipped; a metric of a named output is keyed
    ``"<output>/<metric>"``; unweighted values win over example-weighted ones.
    """
    candidate_name, baseline_name = tfma_model_names(eval_config)
    per_model: Dict[str, MetricDict] = {}
    weighted: Dict[str, MetricDict] = {}
    for record in records:
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


def tfma_model_names(eval_config: Mapping[str, Any]) -> Tuple[str, Optional[str]]:
    """``(candidate model name, baseline model name or None)`` of a decoded eval config."""
    specs = (eval_config.get("evalConfig") or {}).get("modelSpecs") or []
    candidate, baseline = "", None
    for spec in specs:
        if spec.get("isBaseline"):
            baseline = spec.get("name", "")
        else:
            candidate = spec.get("name", "")
    return candidate, baseline


def tfma_baseline_location(eval_config: Mapping[str, Any]) -> Optional[str]:
    """The path of the baseline model TFMA evaluated (``modelLocations``), if any."""
    _, baseline_name = tfma_model_names(eval_config)
    if baseline_name is None:
        return None
    return (eval_config.get("modelLocations") or {}).get(baseline_name)


def _snake(class_name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", class_name).lower()


def eval_config_metric_names(
    metrics_specs: Sequence[Tuple[Sequence[str], Sequence[Tuple[str, str]]]],
) -> List[str]:
    """Metric names an EvalConfig produces, from ``(output_names, [(class_name, config)])``.

    A metric's name is its config's ``"name"`` if given, else the snake-case class name
    (``AUC`` -> ``auc``, ``SparseCategoricalAccuracy`` -> ``sparse_categorical_accuracy``), as
    TFMA and Keras name them; with output names, also ``"<output>/<name>"``.
    """
    import json

    names: List[str] = []
    for outputs, metrics in metrics_specs:
        for class_name, config in metrics:
            name = ""
            if config:
                try:
                    decoded = json.loads(config)
                except ValueError:
                    decoded = {}
                name = decoded.get("name", "") if isinstance(decoded, Mapping) else ""
            name = name or _snake(class_name)
            names.append(name)
            names.extend(f"{o}/{name}" for o in outputs if o)
    return sorted(set(names))

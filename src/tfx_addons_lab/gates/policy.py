"""Gate policy: configuration, check functions and the decision (plain Python, no TFX).

A gate turns *signals* (plain values read from upstream artifacts by an executor, a notebook
or the CLI) into a :class:`GateDecision`: blessed or not, with one :class:`CheckResult` per
configured check. Every configured signal that is missing, empty or unreadable yields a
failing check, so the policy fails closed: it never blesses by accident.

Signals are a :class:`~tfx_addons_lab.gates.signals.Signals` (or a plain dict of the same
keys, validated by :meth:`Signals.from_mapping`). Only exact, finite, well-typed values pass a
check: a missing signal, a non-finite metric, a blessing that is not exactly 0/1, a drift
verdict that is not exactly true/false all fail the check with a reason naming the signal.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.gates.signals import DRIFT_NO_BASELINE, Signals, is_number

NO_BASELINE_POLICIES = ("bless", "reject", "require_floors")
DRIFT_NO_BASELINE_POLICIES = ("pass", "fail")
OVERRIDES = ("bless", "reject")
METRICS_SOURCES = ("auto", "evaluation", "model")
_BOUND_KEYS = ("lower_bound", "upper_bound")


@dataclass
class CheckResult:
    """The outcome of one check.

    Attributes:
      name: stable identifier, e.g. ``metric:auc``, ``champion:auc``, ``model_blessing``.
      passed: whether the check passed.
      reason: one readable sentence.
      details: the inputs the check looked at (JSON-serialisable).
    """

    name: str
    passed: bool
    reason: str
    details: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "passed": bool(self.passed),
            "reason": self.reason,
            "details": jsonable(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            name=str(data["name"]),
            passed=bool(data["passed"]),
            reason=str(data.get("reason", "")),
            details=dict(data.get("details") or {}),
        )


@dataclass
class GateDecision:
    """The verdict of a gate.

    Attributes:
      blessed: the final outcome (after any override).
      reason: one readable line explaining the outcome.
      checks: every check that ran, passed or not.
      override: ``None``, or ``{"action", "justification", "checks_passed"}`` when a manual
        override forced the outcome.
    """

    blessed: bool
    reason: str
    checks: List[CheckResult] = field(default_factory=list)
    override: Optional[Dict[str, Any]] = None

    @property
    def failed_checks(self) -> List[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "blessed": bool(self.blessed),
            "passed": bool(self.blessed),
            "reason": self.reason,
            "checks": [c.to_dict() for c in self.checks],
            "override": jsonable(self.override),
        }

    def to_json(self, indent: Optional[int] = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateDecision:
        return cls(
            blessed=bool(data["blessed"]),
            reason=str(data.get("reason", "")),
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
            override=data.get("override"),
        )


@dataclass
class GateConfig:
    """What a blessing gate checks. Every check is off unless configured.

    Attributes:
      metric_thresholds: ``{metric: {"lower_bound": x, "upper_bound": y}}`` (either bound
        may be omitted): floors/ceilings on the candidate's metrics.
      champion_metric: compare the candidate with the baseline (champion) on this metric.
      min_improvement: the least absolute gain over the baseline (may be negative to allow a
        bounded regression); default 0.0 (at least as good).
      min_relative_improvement: the least relative gain, ``gain / |baseline|`` (optional).
      higher_is_better: direction of ``champion_metric``.
      require_model_blessing: the upstream ``model_blessing`` (Evaluator) must be blessed.
      require_infra_blessing: the upstream ``infra_blessing`` (InfraValidator) must be blessed.
      require_no_drift: the drift report must say ``dataset_drifted`` false.
      require_no_anomalies: the ExampleAnomalies must list no anomaly.
      anomalies_splits: only these splits count for ``require_no_anomalies`` (empty: all).
      no_baseline_policy: when ``champion_metric`` is set and no baseline exists (first
        model): ``"bless"`` passes the champion check, ``"reject"`` fails it,
        ``"require_floors"`` passes it only if ``metric_thresholds`` are configured (they
        then decide).
      drift_no_baseline_policy: when ``require_no_drift`` is on and the drift report had no
        baseline (a first run): ``"fail"`` (default, fail closed) refuses the model,
        ``"pass"`` passes the check with the reason "first run: no baseline" (never "no
        dataset drift").
      metrics_source: ``"auto"`` (TFMA evaluation if connected, else the model's
        ``metrics.json``), ``"evaluation"`` or ``"model"``.
      override: ``None``, ``"bless"`` or ``"reject"``: force the outcome.
      override_justification: required, non-empty, when ``override`` is set; recorded.
      custom_config: free-form settings for checks added by executor subclasses.
    """

    metric_thresholds: Dict[str, Dict[str, float]] = field(default_factory=dict)
    champion_metric: Optional[str] = None
    min_improvement: float = 0.0
    min_relative_improvement: Optional[float] = None
    higher_is_better: bool = True
    require_model_blessing: bool = False
    require_infra_blessing: bool = False
    require_no_drift: bool = False
    require_no_anomalies: bool = False
    anomalies_splits: List[str] = field(default_factory=list)
    no_baseline_policy: str = "require_floors"
    drift_no_baseline_policy: str = "fail"
    metrics_source: str = "auto"
    override: Optional[str] = None
    override_justification: str = ""
    custom_config: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> GateConfig:
        """Raise :class:`InvalidInputError` naming the offending key; return ``self``."""
        if not isinstance(self.metric_thresholds, Mapping):
            raise InvalidInputError(
                "gate config 'metric_thresholds' must be a dict "
                '{metric: {"lower_bound": x, "upper_bound": y}}'
            )
        clean: Dict[str, Dict[str, float]] = {}
        for metric, bounds in self.metric_thresholds.items():
            where = f"gate config 'metric_thresholds[{metric!r}]'"
            if not isinstance(bounds, Mapping) or not bounds:
                raise InvalidInputError(
                    f'{where} must be a non-empty dict like {{"lower_bound": 0.8}}'
                )
            unknown = set(bounds) - set(_BOUND_KEYS)
            if unknown:
                raise InvalidInputError(
                    f"{where} has unknown key(s) {sorted(unknown)}; use 'lower_bound' and/or "
                    "'upper_bound'"
                )
            clean[str(metric)] = {k: _number(v, f"{where}[{k!r}]") for k, v in bounds.items()}
            lo, hi = clean[metric].get("lower_bound"), clean[metric].get("upper_bound")
            if lo is not None and hi is not None and lo > hi:
                raise InvalidInputError(f"{where}: lower_bound {lo} exceeds upper_bound {hi}")
        self.metric_thresholds = clean
        if self.champion_metric is not None and (
            not isinstance(self.champion_metric, str) or not self.champion_metric.strip()
        ):
            raise InvalidInputError("gate config 'champion_metric' must be a non-empty string")
        self.min_improvement = _number(self.min_improvement, "gate config 'min_improvement'")
        if self.min_relative_improvement is not None:
            self.min_relative_improvement = _number(
                self.min_relative_improvement, "gate config 'min_relative_improvement'"
            )
        for key in (
            "higher_is_better",
            "require_model_blessing",
            "require_infra_blessing",
            "require_no_drift",
            "require_no_anomalies",
        ):
            value = getattr(self, key)
            if not isinstance(value, (bool, int)) or value not in (0, 1):
                raise InvalidInputError(f"gate config {key!r} must be true or false, got {value!r}")
            setattr(self, key, bool(value))
        if isinstance(self.anomalies_splits, str) or not all(
            isinstance(s, str) for s in self.anomalies_splits
        ):
            raise InvalidInputError("gate config 'anomalies_splits' must be a list of split names")
        self.anomalies_splits = list(self.anomalies_splits)
        if self.no_baseline_policy not in NO_BASELINE_POLICIES:
            raise InvalidInputError(
                f"gate config 'no_baseline_policy' is {self.no_baseline_policy!r}; use one of "
                f"{list(NO_BASELINE_POLICIES)}"
            )
        if (
            self.champion_metric
            and self.no_baseline_policy == "require_floors"
            and not self.metric_thresholds
            and self.override is None
        ):
            raise InvalidInputError(
                "gate config 'no_baseline_policy' is 'require_floors' (the default) but "
                "'metric_thresholds' is empty, so a first model could never be judged; set "
                "metric_thresholds or no_baseline_policy='bless' / 'reject'"
            )
        if self.drift_no_baseline_policy not in DRIFT_NO_BASELINE_POLICIES:
            raise InvalidInputError(
                f"gate config 'drift_no_baseline_policy' is {self.drift_no_baseline_policy!r}; "
                f"use one of {list(DRIFT_NO_BASELINE_POLICIES)}"
            )
        if self.metrics_source not in METRICS_SOURCES:
            raise InvalidInputError(
                f"gate config 'metrics_source' is {self.metrics_source!r}; use one of "
                f"{list(METRICS_SOURCES)}"
            )
        if self.override is not None and self.override not in OVERRIDES:
            raise InvalidInputError(
                f"gate config 'override' is {self.override!r}; use 'bless', 'reject' or None"
            )
        if not isinstance(self.override_justification, str):
            raise InvalidInputError("gate config 'override_justification' must be a string")
        if self.override is not None and not self.override_justification.strip():
            raise InvalidInputError(
                f"gate config 'override' is {self.override!r} but 'override_justification' is "
                "empty; a manual override must say why (it is recorded in the gate report and "
                "in ML Metadata)"
            )
        if not isinstance(self.custom_config, Mapping):
            raise InvalidInputError("gate config 'custom_config' must be a dict")
        self.custom_config = dict(self.custom_config)
        return self

    def to_dict(self) -> Dict[str, Any]:
        return jsonable(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> GateConfig:
        """Build and validate a config; unknown keys raise :class:`InvalidInputError`."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown gate config key(s) {unknown}; known keys: {sorted(known)}"
            )
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> GateConfig:
        try:
            data = json.loads(text) if text else {}
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"gate config is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


# Alias: the policy *is* the configuration.
GatePolicy = GateConfig


# ---------------------------------------------------------------------------------------------
# Check functions: plain values in, CheckResult out.


def check_metric_bounds(
    metric: str,
    metrics: Optional[Mapping[str, float]],
    lower_bound: Optional[float] = None,
    upper_bound: Optional[float] = None,
    source: str = "",
    error: str = "",
) -> CheckResult:
    """Floor and/or ceiling on one metric of the candidate."""
    name = f"metric:{metric}"
    details: Dict[str, Any] = {
        "metric": metric,
        "lower_bound": lower_bound,
        "upper_bound": upper_bound,
        "source": source or None,
    }
    if not isinstance(metrics, Mapping) or not metrics:
        why = error or "no candidate metrics were available"
        return CheckResult(name, False, f"cannot check {metric}: {why}", details)
    value, problem = _lookup(metrics, metric, "candidate")
    details["value"] = value
    if problem:
        return CheckResult(name, False, f"{problem} ({source or 'unknown source'})", details)
    if lower_bound is not None and value < lower_bound:
        return CheckResult(
            name, False, f"{metric}={value:.4g} below floor {lower_bound:g}", details
        )
    if upper_bound is not None and value > upper_bound:
        return CheckResult(
            name, False, f"{metric}={value:.4g} above ceiling {upper_bound:g}", details
        )
    bounds = []
    if lower_bound is not None:
        bounds.append(f">= {lower_bound:g}")
    if upper_bound is not None:
        bounds.append(f"<= {upper_bound:g}")
    return CheckResult(name, True, f"{metric}={value:.4g} {' and '.join(bounds)}", details)


def check_champion(
    metric: str,
    candidate: Optional[Mapping[str, float]],
    baseline: Optional[Mapping[str, float]],
    baseline_present: bool,
    min_improvement: float = 0.0,
    min_relative_improvement: Optional[float] = None,
    higher_is_better: bool = True,
    no_baseline_policy: str = "require_floors",
    floors_configured: bool = False,
    source: str = "",
    candidate_error: str = "",
    baseline_error: str = "",
) -> CheckResult:
    """The candidate must beat the baseline (champion) on ``metric`` by the required margin.

    With no baseline (first model) ``no_baseline_policy`` decides; see :class:`GateConfig`.
    """
    name = f"champion:{metric}"
    details: Dict[str, Any] = {
        "metric": metric,
        "min_improvement": min_improvement,
        "min_relative_improvement": min_relative_improvement,
        "higher_is_better": higher_is_better,
        "baseline_present": bool(baseline_present),
        "no_baseline_policy": no_baseline_policy,
        "source": source or None,
    }
    if not baseline_present:
        if no_baseline_policy == "bless":
            return CheckResult(
                name, True, "no baseline yet (first model): no_baseline_policy=bless", details
            )
        if no_baseline_policy == "require_floors":
            if floors_configured:
                return CheckResult(
                    name,
                    True,
                    "no baseline yet (first model): judged by the metric floors "
                    "(no_baseline_policy=require_floors)",
                    details,
                )
            return CheckResult(
                name,
                False,
                "no baseline yet and no metric floors configured (no_baseline_policy="
                "require_floors)",
                details,
            )
        return CheckResult(
            name, False, "no baseline yet (first model): no_baseline_policy=reject", details
        )
    if not isinstance(candidate, Mapping) or not candidate:
        why = candidate_error or "no candidate metrics were available"
        return CheckResult(
            name, False, f"cannot compare {metric} with the champion: {why}", details
        )
    if not isinstance(baseline, Mapping) or not baseline:
        why = baseline_error or "no baseline metrics were available"
        return CheckResult(
            name, False, f"a baseline exists but its {metric} is unknown: {why}", details
        )
    cand, cand_problem = _lookup(candidate, metric, "candidate")
    base, base_problem = _lookup(baseline, metric, "baseline")
    details.update(candidate=cand, baseline=base)
    if cand_problem or base_problem:
        return CheckResult(name, False, cand_problem or base_problem, details)
    gain = (cand - base) if higher_is_better else (base - cand)
    details["improvement"] = gain
    rel = (
        gain / abs(base)
        if base != 0
        else (math.inf if gain > 0 else 0.0 if gain == 0 else -math.inf)
    )
    details["relative_improvement"] = rel
    what = f"{metric} {cand:.4g} vs champion {base:.4g} (gain {gain:+.4g}"
    if gain < min_improvement:
        return CheckResult(
            name, False, f"{what}, need >= {min_improvement:+g}): no improvement", details
        )
    if min_relative_improvement is not None and rel < min_relative_improvement:
        return CheckResult(
            name,
            False,
            f"{what}, relative {rel:+.2%} < required {min_relative_improvement:+.2%})",
            details,
        )
    return CheckResult(name, True, f"{what}) beats the champion", details)


def check_blessing(signal: str, value: Optional[bool], error: str = "") -> CheckResult:
    """An upstream blessing (``model_blessing`` / ``infra_blessing``) must be blessed."""
    details = {"blessed": value}
    if error or value is None:
        why = error or f"no {signal} input (connect it or turn off require_{signal})"
        return CheckResult(signal, False, f"{signal} missing: {why}", details)
    if not isinstance(value, bool):
        return CheckResult(
            signal, False, f"{signal} is {value!r}, not BLESSED (1) or NOT_BLESSED (0)", details
        )
    if not value:
        return CheckResult(signal, False, f"upstream {signal} is NOT_BLESSED", details)
    return CheckResult(signal, True, f"upstream {signal} is BLESSED", details)


def check_no_drift(
    dataset_drifted: Optional[bool],
    drifted_features: Sequence[str] = (),
    error: str = "",
    status: str = "ok",
    no_baseline_policy: str = "fail",
    sides: str = "",
) -> CheckResult:
    """The drift report must not flag dataset drift, and must have compared something.

    A report without a baseline (first run) is judged by ``no_baseline_policy``: ``"fail"``
    refuses, ``"pass"`` passes with the reason "first run: no baseline"; it is never read as
    "no dataset drift". ``sides`` (e.g. ``train@span 2013 vs train@span 2012``, see
    :func:`tfx_addons_lab.gates.signals.drift_sides`) ends the reason when given.
    """
    compared = f"; compared {sides}" if sides else ""
    details = {
        "dataset_drifted": dataset_drifted,
        "drifted_features": list(drifted_features),
        "status": status,
        "drift_no_baseline_policy": no_baseline_policy,
    }
    if error or dataset_drifted is None:
        why = error or "no drift_report input (connect it or turn off require_no_drift)"
        return CheckResult("no_drift", False, f"drift report missing: {why}", details)
    if not isinstance(dataset_drifted, bool):
        return CheckResult(
            "no_drift", False, f"dataset_drifted is {dataset_drifted!r}, not true/false", details
        )
    if dataset_drifted:
        feats = f": {', '.join(drifted_features)}" if drifted_features else ""
        return CheckResult("no_drift", False, f"dataset drift detected{feats}{compared}", details)
    if status == DRIFT_NO_BASELINE:
        passed = no_baseline_policy == "pass"
        return CheckResult(
            "no_drift",
            passed,
            "first run: no baseline to compare with, drift not evaluated "
            f"(drift_no_baseline_policy={no_baseline_policy}){compared}",
            details,
        )
    if status != "ok":
        return CheckResult("no_drift", False, f"unknown drift report status {status!r}", details)
    return CheckResult("no_drift", True, f"no dataset drift{compared}", details)


def check_no_anomalies(
    anomalies: Optional[Sequence[Mapping[str, Any]]],
    splits: Sequence[str] = (),
    error: str = "",
) -> CheckResult:
    """The ExampleAnomalies must be empty (optionally only for ``splits``)."""
    details: Dict[str, Any] = {"splits": list(splits) or None}
    if error or not isinstance(anomalies, (list, tuple)):
        why = error or "no anomalies input (connect it or turn off require_no_anomalies)"
        return CheckResult("no_anomalies", False, f"anomalies missing: {why}", details)
    found = [a for a in anomalies if not splits or a.get("split") in splits]
    details["anomalies"] = [dict(a) for a in found]
    if found:
        return CheckResult(
            "no_anomalies",
            False,
            f"{len(found)} anomal{'y' if len(found) == 1 else 'ies'}: {format_anomalies(found)}",
            details,
        )
    return CheckResult("no_anomalies", True, "no anomalies", details)


def format_anomalies(anomalies: Sequence[Mapping[str, Any]], limit: int = 5) -> str:
    """``split/feature (SEVERITY): description; ...`` for the first ``limit`` anomalies."""
    parts = []
    for a in list(anomalies)[:limit]:
        split = f"{a['split']}/" if a.get("split") else ""
        parts.append(
            f"{split}{a.get('feature', '?')} ({a.get('severity', 'UNKNOWN')}): "
            f"{a.get('description', '')}".rstrip()
        )
    more = len(anomalies) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# The decision.


def run_checks(config: GateConfig, signals: Union[Signals, Mapping[str, Any]]) -> List[CheckResult]:
    """Run every built-in check that ``config`` turns on, in a fixed order."""
    sig = Signals.from_mapping(signals)
    errors = sig.errors
    source = sig.metrics_source
    checks: List[CheckResult] = []
    for metric, bounds in sorted(config.metric_thresholds.items()):
        checks.append(
            check_metric_bounds(
                metric,
                sig.candidate_metrics,
                bounds.get("lower_bound"),
                bounds.get("upper_bound"),
                source=source,
                error=errors.get("candidate_metrics", ""),
            )
        )
    if config.champion_metric:
        checks.append(
            check_champion(
                config.champion_metric,
                sig.candidate_metrics,
                sig.baseline_metrics,
                sig.baseline_present,
                min_improvement=config.min_improvement,
                min_relative_improvement=config.min_relative_improvement,
                higher_is_better=config.higher_is_better,
                no_baseline_policy=config.no_baseline_policy,
                floors_configured=bool(config.metric_thresholds),
                source=source,
                candidate_error=errors.get("candidate_metrics", ""),
                baseline_error=errors.get("baseline_metrics", ""),
            )
        )
    for key, required in (
        ("model_blessing", config.require_model_blessing),
        ("infra_blessing", config.require_infra_blessing),
    ):
        if required:
            checks.append(check_blessing(key, getattr(sig, key), errors.get(key, "")))
    if config.require_no_drift:
        checks.append(
            check_no_drift(
                sig.dataset_drifted,
                sig.drifted_features,
                errors.get("dataset_drifted", ""),
                status=sig.drift_status,
                no_baseline_policy=config.drift_no_baseline_policy,
                sides=sig.drift_sides,
            )
        )
    if config.require_no_anomalies:
        checks.append(
            check_no_anomalies(sig.anomalies, config.anomalies_splits, errors.get("anomalies", ""))
        )
    return checks


def decide(
    config: GateConfig,
    signals: Union[Signals, Mapping[str, Any]],
    extra_checks: Sequence[CheckResult] = (),
) -> GateDecision:
    """Run the configured checks, add ``extra_checks``, apply any override; fail closed.

    Blessed only when at least one check ran and every check passed (or an override with a
    justification forces the outcome).
    """
    if not isinstance(config, GateConfig):
        config = GateConfig.from_dict(config)
    checks = run_checks(config, signals) + list(extra_checks)
    failed = [c for c in checks if not c.passed]
    if not checks:
        passed, reason = False, "no checks configured: refusing to bless (fail closed)"
    elif failed:
        passed = False
        reason = "NOT_BLESSED: " + "; ".join(f"{c.name}: {c.reason}" for c in failed)
    else:
        passed = True
        reason = f"BLESSED: all {len(checks)} checks passed"
    override = None
    blessed = passed
    if config.override is not None:
        blessed = config.override == "bless"
        override = {
            "action": config.override,
            "justification": config.override_justification.strip(),
            "checks_passed": passed,
        }
        reason = (
            f"OVERRIDDEN to {'BLESSED' if blessed else 'NOT_BLESSED'} "
            f"({config.override_justification.strip()}); checks said: {reason}"
        )
    return GateDecision(blessed=blessed, reason=reason, checks=checks, override=override)


# ---------------------------------------------------------------------------------------------
# Helpers.


def _number(value: Any, where: str) -> float:
    try:
        finite = is_number(value) and math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise InvalidInputError(f"{where} must be a finite number, got {shown}")
    return float(value)


def _lookup(metrics: Mapping[str, Any], metric: str, side: str) -> tuple[Optional[float], str]:
    """``(value, problem)``: the metric as a finite float, or why it cannot be used."""
    if metric not in metrics:
        return (
            None,
            f"metric {metric!r} not found in the {side} metrics; available: {sorted(metrics)}",
        )
    value = metrics[metric]
    if not is_number(value):
        return None, f"{side} {metric} is {value!r}, not a number"
    try:
        value = float(value)
    except OverflowError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return None, f"{side} {metric} is {shown}, too large to be a finite number"
    if not math.isfinite(value):
        shown = "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return value, f"{side} {metric} is {shown}, not a finite number"
    return value, ""


def jsonable(value: Any) -> Any:
    """Make ``value`` JSON-serialisable (floats inf/nan become strings)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)

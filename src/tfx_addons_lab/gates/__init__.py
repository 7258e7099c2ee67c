"""Gate policy of tfx-addons-lab: signals -> checks -> decision (plain Python, no TFX).

Used by :class:`tfx_addons_lab.executors.BlessingGateExecutor`, and usable on its own::

    from tfx_addons_lab.gates import GateConfig, decide

    config = GateConfig(metric_thresholds={"auc": {"lower_bound": 0.7}}, champion_metric="auc")
    decision = decide(config, {"candidate_metrics": {"auc": 0.81},
                               "baseline_present": True, "baseline_metrics": {"auc": 0.79}})
    decision.blessed, decision.reason
"""

from __future__ import annotations

from tfx_addons_lab.gates.policy import (
    DRIFT_NO_BASELINE_POLICIES,
    METRICS_SOURCES,
    NO_BASELINE_POLICIES,
    OVERRIDES,
    CheckResult,
    GateConfig,
    GateDecision,
    GatePolicy,
    check_blessing,
    check_champion,
    check_metric_bounds,
    check_no_anomalies,
    check_no_drift,
    decide,
    format_anomalies,
    run_checks,
)
from tfx_addons_lab.gates.signals import Signals

__all__ = [
    "DRIFT_NO_BASELINE_POLICIES",
    "METRICS_SOURCES",
    "NO_BASELINE_POLICIES",
    "OVERRIDES",
    "CheckResult",
    "GateConfig",
    "GateDecision",
    "GatePolicy",
    "Signals",
    "check_blessing",
    "check_champion",
    "check_metric_bounds",
    "check_no_anomalies",
    "check_no_drift",
    "decide",
    "format_anomalies",
    "run_checks",
]

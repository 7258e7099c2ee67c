"""The gate report: what ``gate_report.json`` holds (plain data, no TFX)."""

from __future__ import annotations

from typing import Any, Dict

from tfx_addons_lab.gates.policy import GateConfig, GateDecision, jsonable
from tfx_addons_lab.gates.signals import Signals


def gate_report(
    decision: GateDecision, config: GateConfig, signals: Signals, executor: str, blessing_uri: str
) -> Dict[str, Any]:
    """The JSON payload of ``gate_report.json``: the decision, every check, the config, the
    signals read (metrics, their source, read errors), the champion (baseline) model judged
    against (``baseline_model``: ``{"uri", "id"}`` or None) and the inputs' URIs.

    :func:`tfx_addons_lab.gates.html.render_gate_report` renders it as ``gate_report.html``."""
    payload = decision.to_dict()
    base_uri, base_id = signals.baseline_identity()
    payload.update(
        gate="BlessingGate",
        executor=executor,
        config=config.to_dict(),
        metrics_source=signals.metrics_source,
        candidate_metrics=signals.candidate_metrics,
        baseline_present=signals.baseline_present,
        baseline_metrics=signals.baseline_metrics,
        baseline_model={"uri": base_uri, "id": base_id} if base_uri else None,
        signal_errors=dict(signals.errors),
        inputs=signals.inputs,
        blessing_uri=blessing_uri,
    )
    if signals.extra.get("no_champion"):  # a RegistryChampion stand-in was ignored: why
        payload["no_champion"] = signals.extra["no_champion"]
    return jsonable(payload)


def one_line(text: str, limit: int = 1000) -> str:
    """``text`` on one line (whitespace folded), at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."

"""The gate report a person reads: ``gate_report.html`` from the ``gate_report.json`` payload.

:func:`render_gate_report` takes the JSON document :func:`tfx_addons_lab.gates.report.gate_report`
builds (or one read back from a ``GateReport`` artifact) and returns one self-contained page:
the verdict at the top, the champion comparison side by side (candidate vs champion value,
gain, required improvement, which model the champion was), every check with its inputs,
outcome and reason, the metrics read, the signals that could not be read and the inputs.
Rendered through the autoescaping templates of :mod:`tfx_addons_lab._templates` (template
``gate_report.html.j2``): inline CSS, no script, every value from data shown as text.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Mapping, Optional

from tfx_addons_lab._templates import render

__all__ = ["gate_report_context", "render_gate_report"]


def _num(value: Any, signed: bool = False) -> str:
    """A number for a person: 4 significant digits (``+`` sign when ``signed``); text as is."""
    if isinstance(value, bool) or value is None:
        return "\u2014" if value is None else str(value).lower()
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        try:
            return f"{value:+.4g}" if signed else f"{value:.4g}"
        except OverflowError:  # an integer too large for a float (a hostile metrics.json)
            text = str(value)
            return text if len(text) <= 24 else f"{text[:12]}... ({len(text)} digits)"
    return str(value)


def _pct(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return f"{value:+.2%}" if math.isfinite(value) else _num(value)
        except OverflowError:
            pass
    return _num(value)


def _details(details: Mapping[str, Any]) -> List[Dict[str, str]]:
    """``[{"key", "value"}]`` of a check's inputs; lists and dicts as compact JSON."""
    rows = []
    for key, value in sorted((details or {}).items(), key=lambda kv: str(kv[0])):
        if isinstance(value, (dict, list)):
            shown = json.dumps(value, sort_keys=True, default=str)
            shown = shown if len(shown) <= 600 else shown[:597] + "..."
        else:
            shown = _num(value)
        rows.append({"key": str(key), "value": shown})
    return rows


def _champion_rows(report: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """One side-by-side comparison per ``champion:<metric>`` check."""
    rows = []
    for check in report.get("checks") or []:
        name = str(check.get("name", ""))
        if not name.startswith("champion:"):
            continue
        d = check.get("details") or {}
        higher = d.get("higher_is_better", True)
        rel_required = d.get("min_relative_improvement")
        rows.append(
            {
                "metric": str(d.get("metric", name.split(":", 1)[-1])),
                "candidate": _num(d.get("candidate")),
                "champion": _num(d.get("baseline")) if d.get("baseline_present") else "none yet",
                "gain": _num(d.get("improvement"), signed=True),
                "relative": _pct(d.get("relative_improvement")),
                "required": "\u2265 " + _num(d.get("min_improvement", 0.0), signed=True),
                "relative_required": (
                    "\u2265 " + _pct(rel_required) if rel_required is not None else "\u2014"
                ),
                "direction": "higher is better" if higher else "lower is better",
                "passed": bool(check.get("passed")),
                "reason": str(check.get("reason", "")),
            }
        )
    return rows


def _metric_rows(report: Mapping[str, Any]) -> List[Dict[str, str]]:
    cand = report.get("candidate_metrics") or {}
    base = report.get("baseline_metrics") or {}
    cand = cand if isinstance(cand, Mapping) else {}
    base = base if isinstance(base, Mapping) else {}
    return [
        {
            "name": str(name),
            "candidate": _num(cand.get(name)) if name in cand else "\u2014",
            "champion": _num(base.get(name)) if name in base else "\u2014",
        }
        for name in sorted(set(cand) | set(base), key=str)
    ]


def gate_report_context(report: Mapping[str, Any], title: Optional[str] = None) -> Dict[str, Any]:
    """The template variables of :func:`render_gate_report` (plain data; for tests/themes)."""
    blessed = bool(report.get("blessed", report.get("passed", False)))
    override = report.get("override") or None
    champion_model = report.get("baseline_model") or {}
    checks = [
        {
            "name": str(c.get("name", "?")),
            "passed": bool(c.get("passed")),
            "reason": str(c.get("reason", "")),
            "details": _details(c.get("details") or {}),
        }
        for c in report.get("checks") or []
    ]
    inputs = []
    for key, value in sorted((report.get("inputs") or {}).items()):
        value = value if isinstance(value, Mapping) else {}
        inputs.append(
            {
                "key": str(key),
                "uri": str(value.get("uri", "")),
                "id": value.get("id"),
                "set": bool(value),
            }
        )
    return {
        "title": title or f"{report.get('gate', 'BlessingGate')} report",
        "blessed": blessed,
        "verdict": "BLESSED" if blessed else "NOT BLESSED",
        "reason": str(report.get("reason", "")),
        "override": (
            {
                "action": str(override.get("action", "")),
                "justification": str(override.get("justification", "")),
                "checks_passed": bool(override.get("checks_passed")),
            }
            if isinstance(override, Mapping)
            else None
        ),
        "n_checks": len(checks),
        "n_failed": sum(1 for c in checks if not c["passed"]),
        "checks": checks,
        "champion": _champion_rows(report),
        "champion_model": {
            "uri": str(champion_model.get("uri") or ""),
            "id": champion_model.get("id"),
            "registry_version": champion_model.get("registry_version"),
        }
        if isinstance(champion_model, Mapping) and champion_model.get("uri")
        else None,
        "baseline_present": bool(report.get("baseline_present")),
        "metrics": _metric_rows(report),
        "metrics_source": str(report.get("metrics_source") or ""),
        "errors": [
            {"signal": str(k), "why": str(v)}
            for k, v in sorted(
                (report.get("signal_errors") or {}).items(), key=lambda kv: str(kv[0])
            )
            if "is not connected" not in str(v)  # the inputs table says "not connected"
        ],
        "inputs": inputs,
        "executor": str(report.get("executor", "")),
        "blessing_uri": str(report.get("blessing_uri", "")),
        "config": json.dumps(report.get("config") or {}, indent=2, sort_keys=True, default=str),
    }


def render_gate_report(report: Mapping[str, Any], title: Optional[str] = None) -> str:
    """The self-contained HTML page of a gate report (the ``gate_report.json`` payload)."""
    return render("gate_report.html.j2", **gate_report_context(report, title))

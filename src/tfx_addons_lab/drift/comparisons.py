"""Several drift comparisons of one run combined: the verdict, the index, the failure message.

``DriftValidator`` may run several comparisons (drift over time and training/serving skew);
this module (no TFX import) combines their reports into one dataset verdict and the index
``report.json`` written beside the per-comparison reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Sequence

#: Schema version of the index ``report.json`` written when there are several comparisons.
INDEX_SCHEMA_VERSION = 1
STATUS_OK = "ok"
STATUS_NO_BASELINE = "no_baseline"


@dataclass
class ComparisonResult:
    """One comparison and its report.

    Attributes:
      comparison: ``{"current", "baseline", "baseline_source"}`` as configured.
      name: folder-safe name, e.g. ``eval-vs-train`` or ``train-vs-baseline-train``.
      report: the comparison's drift report (``tfx_addons_lab.drift`` report object).
    """

    comparison: Dict[str, str]
    name: str
    report: Any


def _status(report: Any) -> str:
    return getattr(report, "status", STATUS_OK) or STATUS_OK


def combined_verdict(results: Sequence[ComparisonResult]) -> Dict[str, Any]:
    """Any drifted, the largest drift share, the union of drifted features, the status.

    ``status`` is ``no_baseline`` when *any* comparison had no baseline: the run was then not
    fully evaluated, and a gate must not read it as "no drift".
    """
    names: List[str] = []
    for r in results:
        names.extend(n for n in r.report.drifted_features if n not in names)
    no_baseline = any(_status(r.report) == STATUS_NO_BASELINE for r in results)
    return {
        "dataset_drifted": any(bool(r.report.dataset_drifted) for r in results),
        "drift_share": max((float(r.report.drift_share or 0.0) for r in results), default=0.0),
        "drifted_features": names,
        "status": STATUS_NO_BASELINE if no_baseline or not results else STATUS_OK,
    }


def index(
    results: Sequence[ComparisonResult], report_json: str, report_html: str
) -> Dict[str, Any]:
    """The index ``report.json`` of several comparisons (schema version 1)."""
    return {
        "kind": "index",
        "schema_version": INDEX_SCHEMA_VERSION,
        **combined_verdict(results),
        "comparisons": [
            {
                "name": r.name,
                **r.comparison,
                "baseline_name": r.report.baseline_name,
                "current_name": r.report.current_name,
                "dataset_drifted": bool(r.report.dataset_drifted),
                "drift_share": float(r.report.drift_share or 0.0),
                "drift_share_threshold": float(r.report.drift_share_threshold),
                "drifted_features": list(r.report.drifted_features),
                "status": _status(r.report),
                "summary": r.report.summary_line(),
                "report": f"{r.name}/{report_json}",
                "html": f"{r.name}/{report_html}",
            }
            for r in results
        ],
    }


def summary_line(results: Sequence[ComparisonResult]) -> str:
    """One line: each comparison's summary, separated by `` | ``."""
    return " | ".join(f"{r.name}: {r.report.summary_line()}" for r in results)


def describe_feature(feature: Any) -> str:
    """``temp (wasserstein 4.49 >= 0.1)`` or ``fare (removed)``."""
    if feature.method and feature.value is not None:
        rule = "<" if feature.kind == "p_value" else ">="
        return f"{feature.name} ({feature.method} {feature.value:.3g} {rule} {feature.threshold:g})"
    return f"{feature.name} ({feature.status})"


def drift_failure_message(results: Sequence[ComparisonResult]) -> str:
    """The message of the error that stops a run on drift: every drifted comparison/feature."""
    parts = []
    for r in results:
        rep = r.report
        if not rep.dataset_drifted:
            continue
        features = ", ".join(describe_feature(f) for f in rep.features if f.drifted)
        parts.append(
            f"{r.name} ({rep.current_name} vs {rep.baseline_name}): "
            f"{len(rep.drifted_features)} of {len(rep.features)} features drifted "
            f"(share {rep.drift_share:.0%} >= {rep.drift_share_threshold:.0%}): {features}"
        )
    return (
        "DriftValidator: dataset drift detected: "
        + "; ".join(parts)
        + ". Set fail_on_drift=False to record drift (report.json/report.html) without "
        "failing the run."
    )


def verdict_properties(results: Sequence[ComparisonResult]) -> Mapping[str, Any]:
    """The custom properties of the ``DriftReport`` artifact (ints, floats, strings only)."""
    verdict = combined_verdict(results)
    return {
        "dataset_drifted": int(verdict["dataset_drifted"]),
        "drift_share": float(verdict["drift_share"]),
        "drifted_features": ",".join(verdict["drifted_features"]),
        "status": verdict["status"],
        "num_comparisons": len(results),
        "summary": summary_line(results),
    }

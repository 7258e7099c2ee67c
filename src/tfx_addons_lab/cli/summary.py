"""A short, readable summary of what a pipeline run produced, read from ML Metadata.

Used by the examples at the end of a run: each gate check and its outcome, the drift verdicts,
the pushed registry version and its aliases, and where the HTML reports are.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from tfx_addons_lab.mlmd import MetadataView, open_sqlite_store, prop

GATE_REPORT_TYPE = "tfx_addons_lab.GateReport"
DRIFT_REPORT_TYPE = "tfx_addons_lab.DriftReport"


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _latest_by_producer(view: MetadataView, type_name: str) -> Dict[str, Any]:
    """The newest artifact of ``type_name`` per producing component id."""
    latest: Dict[str, Any] = {}
    for art in view.artifacts_of_type(type_name):
        producer = view.producer(art.id)
        node = view.component_id(producer) if producer is not None else "?"
        latest[node] = art
    return latest


def run_summary(
    metadata_path: str, registry_uri: Optional[str] = None, model_name: Optional[str] = None
) -> Dict[str, Any]:
    """Collect the latest gate, drift, blessing and push results; ``["text"]`` is printable."""
    view = MetadataView(open_sqlite_store(metadata_path))
    lines: List[str] = ["== tfx-addons-lab run summary =="]
    result: Dict[str, Any] = {"gates": {}, "drift": {}, "pushed": {}, "registry": None}

    for node, art in sorted(_latest_by_producer(view, DRIFT_REPORT_TYPE).items()):
        html = os.path.join(art.uri, "report.html")
        entry = {
            "dataset_drifted": bool(prop(art, "dataset_drifted", 0)),
            "drift_share": prop(art, "drift_share"),
            "drifted_features": prop(art, "drifted_features", ""),
            "status": prop(art, "status", ""),
            "html": html if os.path.exists(html) else None,
        }
        result["drift"][node] = entry
        verdict = "DRIFTED" if entry["dataset_drifted"] else "no dataset drift"
        if entry["status"] == "no_baseline":
            verdict = "no baseline (first run)"
        share = entry["drift_share"]
        share_txt = f", drift share {share:.0%}" if isinstance(share, float) else ""
        feats = f" [{entry['drifted_features']}]" if entry["drifted_features"] else ""
        lines.append(f"drift   {node}: {verdict}{share_txt}{feats}")
        if entry["html"]:
            lines.append(f"        report: {entry['html']}")

    for node, art in sorted(_latest_by_producer(view, GATE_REPORT_TYPE).items()):
        report = _read_json(os.path.join(art.uri, "gate_report.json")) or {}
        passed = report.get("blessed", report.get("passed", prop(art, "passed")))
        entry = {
            "passed": bool(passed),
            "reason": prop(art, "reason", report.get("reason", "")),
            "checks": report.get("checks", []),
            "uri": art.uri,
        }
        result["gates"][node] = entry
        lines.append(f"gate    {node}: {'PASS' if entry['passed'] else 'FAIL'} - {entry['reason']}")
        for check in entry["checks"]:
            mark = "ok  " if check.get("passed") else "FAIL"
            lines.append(f"        [{mark}] {check.get('name')}: {check.get('reason', '')}")

    for node, art in sorted(_latest_by_producer(view, "PushedModel").items()):
        entry = {
            "pushed": bool(prop(art, "pushed", 0)),
            "destination": prop(art, "pushed_destination", ""),
            "registry_version": prop(art, "registry_version"),
            "registry_aliases": prop(art, "registry_aliases"),
        }
        result["pushed"][node] = entry
        if entry["pushed"]:
            where = entry["destination"]
            extra = ""
            if entry["registry_version"] is not None:
                extra = f" as version {entry['registry_version']}"
                if entry["registry_aliases"]:
                    extra += f" (aliases: {entry['registry_aliases']})"
            lines.append(f"push    {node}: pushed{extra} -> {where}")
        else:
            lines.append(f"push    {node}: not pushed (model not blessed)")

    if registry_uri and model_name:
        try:
            from tfx_addons_lab.registry import open_registry

            reg = open_registry(registry_uri)
            versions = reg.list(model_name)
            aliases = reg.aliases(model_name)
            result["registry"] = {
                "uri": registry_uri,
                "model": model_name,
                "versions": [v.version for v in versions],
                "aliases": aliases,
            }
            alias_txt = ", ".join(f"{a}->v{v}" for a, v in sorted(aliases.items())) or "none"
            lines.append(
                f"registry {registry_uri} model {model_name!r}: "
                f"{len(versions)} version(s), aliases: {alias_txt}"
            )
        except Exception as exc:  # the summary must never hide the run's own result
            lines.append(f"registry {registry_uri}: unavailable ({exc})")
    lines.append(f"metadata {metadata_path}")
    result["text"] = "\n".join(lines)
    return result

"""A short, readable summary of what a pipeline run produced, read from ML Metadata.

Used by the examples at the end of a run: what each drift comparison compared and how many
features drifted, each gate check and its outcome, what the RegistryPusher did (pushed,
already pushed, recorded as refused, not pushed), the path of every report (drift HTML, gate
HTML and JSON), and only next steps that work for this run (no lineage command for a version
that was never pushed). Report files are read through :mod:`tfx_addons_lab._fileio`
(``tfx.dsl.io.fileio``).
"""

from __future__ import annotations

import os
import shlex
from typing import Any, Dict, List, Optional

from tfx_addons_lab import _fileio as fs
from tfx_addons_lab.mlmd import MetadataView, open_sqlite_store, prop, push_outcome
from tfx_addons_lab.textfmt import safe

GATE_REPORT_TYPE = "tfx_addons_lab.GateReport"
DRIFT_REPORT_TYPE = "tfx_addons_lab.DriftReport"
GATE_REPORT_JSON = "gate_report.json"
GATE_REPORT_HTML = "gate_report.html"


def _existing(path: str) -> Optional[str]:
    return path if fs.exists_or_false(path) else None


def _latest_by_producer(view: MetadataView, type_name: str) -> Dict[str, Any]:
    """The newest artifact of ``type_name`` per producing component id."""
    latest: Dict[str, Any] = {}
    for art in view.artifacts_of_type(type_name):
        producer = view.producer(art.id)
        node = view.component_id(producer) if producer is not None else "?"
        latest[node] = art
    return latest


def _comparisons(uri: str) -> List[Dict[str, Any]]:
    """``[{"name", "current", "baseline", "n_drifted", "n_features", "status"}]`` of a
    DriftReport folder (one ``report.json``, or an index and one per comparison)."""
    root = fs.read_json_or_none(fs.join(uri, "report.json"))
    if not isinstance(root, dict):
        return []
    parts = []
    if root.get("kind") == "index":
        for c in root.get("comparisons") or []:
            sub = fs.read_json_or_none(fs.join(uri, str(c.get("report", ""))))
            parts.append((str(c.get("name", "")), sub if isinstance(sub, dict) else dict(c)))
    else:
        parts.append(("", root))
    return [
        {
            "name": name,
            "current": str(rep.get("current_name", "current")),
            "baseline": str(rep.get("baseline_name", "baseline")),
            "n_drifted": rep.get("n_drifted"),
            "n_features": rep.get("n_features"),
            "status": str(rep.get("status", "")),
        }
        for name, rep in parts
    ]


def _compared_text(c: Dict[str, Any]) -> str:
    what = f"{c['current']} vs {c['baseline']}"
    if c["status"] == "no_baseline":
        return f"{what}: no baseline, nothing compared"
    if isinstance(c["n_drifted"], int) and isinstance(c["n_features"], int):
        return f"{what}: {c['n_drifted']}/{c['n_features']} features drifted"
    return what


def run_summary(
    metadata_path: str, registry_uri: Optional[str] = None, model_name: Optional[str] = None
) -> Dict[str, Any]:
    """Collect the latest gate, drift, blessing and push results; ``["text"]`` is printable.

    Keys: ``drift``/``gates``/``pushed`` (per component id), ``registry``, ``reports`` (every
    report file path), ``next_steps`` (commands that work for this run) and ``text``.
    """
    view = MetadataView(open_sqlite_store(metadata_path))
    lines: List[str] = ["== tfx-addons-lab run summary =="]
    result: Dict[str, Any] = {
        "gates": {},
        "drift": {},
        "pushed": {},
        "registry": None,
        "reports": [],
        "next_steps": [],
    }

    for node, art in sorted(_latest_by_producer(view, DRIFT_REPORT_TYPE).items()):
        html = _existing(fs.join(art.uri, "report.html"))
        comparisons = _comparisons(art.uri)
        entry = {
            "dataset_drifted": bool(prop(art, "dataset_drifted", 0)),
            "drift_share": prop(art, "drift_share"),
            "drifted_features": prop(art, "drifted_features", ""),
            "status": prop(art, "status", ""),
            "html": html,
            "comparisons": comparisons,
            "compared": [_compared_text(c) for c in comparisons],
        }
        result["drift"][node] = entry
        verdict = "DRIFTED" if entry["dataset_drifted"] else "no dataset drift"
        if entry["status"] == "no_baseline":
            verdict = "no baseline (first run)"
        share = entry["drift_share"]
        share_txt = f", drift share {share:.0%}" if isinstance(share, float) else ""
        feats = f" [{entry['drifted_features']}]" if entry["drifted_features"] else ""
        lines.append(safe(f"drift   {node}: {verdict}{share_txt}{feats}"))
        for text in entry["compared"]:
            lines.append(safe(f"        compared {text}"))
        if html:
            lines.append(safe(f"        report: {html}"))
            result["reports"].append(html)

    for node, art in sorted(_latest_by_producer(view, GATE_REPORT_TYPE).items()):
        json_path = fs.join(art.uri, GATE_REPORT_JSON)
        report = fs.read_json_or_none(json_path) or {}
        passed = report.get("blessed", report.get("passed", prop(art, "passed")))
        entry = {
            "passed": bool(passed),
            "reason": prop(art, "reason", report.get("reason", "")),
            "checks": report.get("checks", []),
            "uri": art.uri,
            "html": _existing(fs.join(art.uri, GATE_REPORT_HTML)),
            "json": json_path if report else None,
        }
        result["gates"][node] = entry
        lines.append(
            safe(f"gate    {node}: {'PASS' if entry['passed'] else 'FAIL'} - {entry['reason']}")
        )
        for check in entry["checks"]:
            mark = "ok  " if check.get("passed") else "FAIL"
            lines.append(safe(f"        [{mark}] {check.get('name')}: {check.get('reason', '')}"))
        for kind in ("html", "json"):
            if entry[kind]:
                lines.append(safe(f"        report: {entry[kind]}"))
                result["reports"].append(entry[kind])

    lineage_refs, refused_refs = [], []
    for node, art in sorted(_latest_by_producer(view, "PushedModel").items()):
        props = {
            name: prop(art, name)
            for name in (
                "pushed",
                "pushed_destination",
                "registry_version",
                "registry_aliases",
                "registry_verdict",
                "registry_already_pushed",
                "registry_uri",
                "registry_model_name",
            )
        }
        state, text = push_outcome(props)
        entry = {
            "pushed": bool(props["pushed"]),
            "destination": props["pushed_destination"] or "",
            "registry_version": props["registry_version"],
            "registry_aliases": props["registry_aliases"],
            "state": state,
            "text": text,
            "registry_uri": props["registry_uri"],
            "model_name": props["registry_model_name"],
        }
        result["pushed"][node] = entry
        where = f" -> {entry['destination']}" if entry["destination"] else ""
        aliases = f" (aliases: {entry['registry_aliases']})" if entry["registry_aliases"] else ""
        if state in ("pushed", "already_pushed"):
            lines.append(safe(f"push    {node}: {text}{aliases}{where}"))
            if entry["registry_uri"] and entry["model_name"] and entry["registry_version"]:
                lineage_refs.append(
                    (entry["registry_uri"], entry["model_name"], entry["registry_version"])
                )
        else:
            lines.append(safe(f"push    {node}: {text}"))
            if state == "refused" and entry["registry_uri"] and entry["model_name"]:
                if entry["registry_version"]:
                    refused_refs.append(
                        (entry["registry_uri"], entry["model_name"], entry["registry_version"])
                    )

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
                safe(
                    f"registry {registry_uri} model {model_name!r}: "
                    f"{len(versions)} version(s), aliases: {alias_txt}"
                )
            )
        except Exception as exc:  # the summary must never hide the run's own result
            lines.append(safe(f"registry {registry_uri}: unavailable ({exc})"))
    lines.append(safe(f"metadata {metadata_path}"))

    steps = result["next_steps"]
    meta = shlex.quote(str(metadata_path))
    for reg_uri, name, version in lineage_refs:
        steps.append(
            f"tfx-addons-lab lineage --metadata {meta} --registry {shlex.quote(reg_uri)} "
            f"{shlex.quote(f'{name}@{version}')}"
        )
        steps.append(f"tfx-addons-lab registry list {shlex.quote(reg_uri)} {shlex.quote(name)}")
    for reg_uri, name, version in refused_refs:  # why it was refused; how to approve it
        steps.append(
            f"tfx-addons-lab registry show {shlex.quote(reg_uri)} {shlex.quote(name)} {version}"
        )
    reg = result["registry"]
    if reg and reg["versions"] and not lineage_refs:
        steps.append(
            f"tfx-addons-lab registry list {shlex.quote(reg['uri'])} {shlex.quote(reg['model'])}"
        )
    if result["drift"]:
        history = os.path.join(os.path.dirname(os.path.abspath(metadata_path)), "drift_history")
        steps.append(
            f"tfx-addons-lab drift-history --metadata {meta} --output {shlex.quote(history)}"
        )
    if steps:
        lines.append("next steps:")
        lines.extend(safe(f"  {step}") for step in steps)
    result["text"] = "\n".join(lines)
    return result

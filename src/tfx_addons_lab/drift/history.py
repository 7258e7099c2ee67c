"""Drift history: every DriftValidator run of a pipeline, read back from ML Metadata, on one page.

:func:`write_drift_history` (and the ``tfx-addons-lab drift-history`` command) reads every
``tfx_addons_lab.DriftReport`` of a pipeline from an SQLite ML Metadata store, with the
``report.json`` each run wrote, and writes ``drift_history.json`` and one self-contained
``drift_history.html``: the dataset drift share per span (an inline SVG bar chart per
validator), a heat map of every feature's drift score across spans (coloured by the score
relative to its method's threshold, drifted cells marked), the BlessingGate outcomes and the
RegistryPusher results on the same axis, and, with a registry, the alias history (set,
rollback, approve). Every cell links to that run's drift report page.

The axis: one column per span (a re-run of a span replaces the earlier column). A run's span
is, in order: the DriftReport's ``current_span`` custom property; the span of its input
statistics; the span of the Examples those statistics were computed from (lineage; TFX 1.16's
StatisticsGen leaves the statistics' span at 0); else the run's position (``run N``).

No TFX import: ML Metadata through :mod:`tfx_addons_lab.mlmd`, files through
:mod:`tfx_addons_lab._fileio` (``tfx.dsl.io.fileio`` when TFX is installed, so ``gs://``
artifacts work; else plain files).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

from tfx_addons_lab import _fileio as fs
from tfx_addons_lab.drift.baselines import parse_spans
from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.mlmd import all_props, open_sqlite_store, push_outcome

__all__ = [
    "HISTORY_HTML",
    "HISTORY_JSON",
    "collect_drift_history",
    "render_drift_history",
    "write_drift_history",
]

HISTORY_HTML = "drift_history.html"
HISTORY_JSON = "drift_history.json"
SCHEMA_VERSION = 1

DRIFT_REPORT_TYPE = "tfx_addons_lab.DriftReport"
GATE_REPORT_TYPE = "tfx_addons_lab.GateReport"
_OUTPUT_EVENTS = {2, 4, 6}  # DECLARED_OUTPUT, OUTPUT, PENDING_OUTPUT
_INPUT_EVENTS = {1, 3}  # DECLARED_INPUT, INPUT

Progress = Callable[[str], None]


# ----------------------------------------------------------------------------- links


def _link(target: str, output_dir: str) -> str:
    """A link from a page in ``output_dir`` to ``target``: relative for local files."""
    if "://" in target:
        return target
    target = os.path.abspath(target)
    try:
        rel = os.path.relpath(target, os.path.abspath(output_dir))
    except ValueError:  # another drive (Windows)
        return "file://" + quote(target)
    return quote(rel.replace(os.sep, "/"))


# ----------------------------------------------------------------------------- ML Metadata


@dataclass
class _Store:
    """The part of a store one pipeline needs, read with few queries."""

    store: Any
    pipeline: Optional[str]
    executions: Dict[int, Any] = field(default_factory=dict)
    node_of: Dict[int, str] = field(default_factory=dict)
    run_of: Dict[int, str] = field(default_factory=dict)
    type_names: Dict[int, str] = field(default_factory=dict)

    @classmethod
    def open(cls, store, pipeline_name: Optional[str]) -> _Store:
        ctx_types = {t.id: t.name for t in store.get_context_types()}
        contexts = store.get_contexts()
        pipelines = sorted(c.name for c in contexts if ctx_types.get(c.type_id) == "pipeline")
        if pipeline_name is None:
            if len(pipelines) > 1:
                raise InvalidInputError(
                    f"the ML Metadata store holds {len(pipelines)} pipelines "
                    f"({', '.join(map(repr, pipelines))}); choose one with --pipeline NAME"
                )
            pipeline_name = pipelines[0] if pipelines else None
        elif pipeline_name not in pipelines:
            known = ", ".join(map(repr, pipelines)) or "none"
            raise InvalidInputError(
                f"--pipeline {pipeline_name!r} is not in this ML Metadata store; pipelines "
                f"found: {known}"
            )
        self = cls(store=store, pipeline=pipeline_name)
        self.type_names = {t.id: t.name for t in store.get_artifact_types()}
        prefix = f"{pipeline_name}." if pipeline_name else ""
        for ctx in contexts:
            kind = ctx_types.get(ctx.type_id)
            if kind == "pipeline" and ctx.name == pipeline_name:
                for e in store.get_executions_by_context(ctx.id):
                    self.executions[e.id] = e
            elif kind == "node" and ctx.name.startswith(prefix):
                for e in store.get_executions_by_context(ctx.id):
                    self.node_of[e.id] = ctx.name[len(prefix) :]
        for ctx in contexts:
            if ctx_types.get(ctx.type_id) == "pipeline_run":
                for e in store.get_executions_by_context(ctx.id):
                    if e.id in self.executions:
                        self.run_of[e.id] = ctx.name
        if pipeline_name is None:  # no contexts at all (another orchestrator): every execution
            self.executions = {e.id: e for e in store.get_executions()}
        return self

    def artifacts(self, type_name: str) -> List[Tuple[Any, Any]]:
        """``[(artifact, producing execution)]`` of this pipeline, oldest first."""
        try:
            arts = self.store.get_artifacts_by_type(type_name)
        except Exception:  # noqa: BLE001 - the type is unknown to this store
            return []
        if not arts:
            return []
        producer: Dict[int, int] = {}
        for ev in self.store.get_events_by_artifact_ids([a.id for a in arts]):
            if ev.type in _OUTPUT_EVENTS:
                producer[ev.artifact_id] = min(
                    producer.get(ev.artifact_id, ev.execution_id), ev.execution_id
                )
        out = []
        for a in sorted(arts, key=lambda a: a.id):
            exec_id = producer.get(a.id)
            if exec_id in self.executions:
                out.append((a, self.executions[exec_id]))
        return out

    def io(self, execution_id: int, kinds: set) -> List[Tuple[str, Any]]:
        events = [
            e for e in self.store.get_events_by_execution_ids([execution_id]) if e.type in kinds
        ]
        if not events:
            return []
        arts = {
            a.id: a for a in self.store.get_artifacts_by_id(sorted({e.artifact_id for e in events}))
        }
        return [
            (e.path.steps[0].key if e.path.steps else "", arts[e.artifact_id])
            for e in events
            if e.artifact_id in arts
        ]

    def producer_of(self, artifact_id: int):
        ids = [
            e.execution_id
            for e in self.store.get_events_by_artifact_ids([artifact_id])
            if e.type in _OUTPUT_EVENTS
        ]
        if not ids:
            return None
        found = self.store.get_executions_by_id([min(ids)])
        return found[0] if found else None

    def spans_of(self, statistics) -> List[int]:
        """The span(s) of an ExampleStatistics: its own, else its Examples' (lineage)."""
        span = all_props(statistics).get("span")
        if isinstance(span, int) and span > 0:
            return [span]
        producer = self.producer_of(statistics.id)
        if producer is None:
            return []
        spans = set()
        for _key, art in self.io(producer.id, _INPUT_EVENTS):
            value = all_props(art).get("span")
            if self.type_names.get(art.type_id) == "Examples" and isinstance(value, int):
                spans.add(value)
        return sorted(spans)


def _as_spans(value: Any) -> Optional[List[int]]:
    """``baseline_spans`` as stored (``"2010-2012"``, ``"1, 3"``, int, list, ``"[1, 2]"``) -> ints;
    ``None`` when unknown (then the spans are read through lineage)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if isinstance(value, str):
        text = value.strip()
        if not text:  # DriftValidator's "unknown (or no baseline)": fall back to lineage
            return None
        ranges = parse_spans(text)  # DriftValidator's own format: "2012", "2010-2012", "1, 3"
        if ranges is not None:
            return ranges
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        if isinstance(parsed, int):
            return [parsed]
        if isinstance(parsed, list):
            try:
                return [int(str(p).strip()) for p in parsed]
            except ValueError:
                return None
    return None


# ----------------------------------------------------------------------------- scores


def _score(feature: Mapping[str, Any]) -> Optional[float]:
    """How far past (> 0) or below (< 0) its threshold a feature's drift score is, as a
    log10 ratio: distance/threshold, or threshold/p-value. None when not measured."""
    value, threshold = feature.get("value"), feature.get("threshold")
    kind = feature.get("kind")
    if feature.get("status") in ("added", "removed", "type_changed", "all_missing"):
        return 2.0 if feature.get("drifted") else None
    if not isinstance(value, (int, float)) or not isinstance(threshold, (int, float)):
        return None
    if kind == "p_value":
        p = feature.get("p_value_adjusted")
        p = p if isinstance(p, (int, float)) else value
        return math.log10(max(threshold, 1e-300)) - math.log10(max(float(p), 1e-300))
    return math.log10(max(float(value), 1e-300)) - math.log10(max(threshold, 1e-300))


def _colour(score: Optional[float], drifted: bool, status: str) -> str:
    """Green (far below the threshold) -> amber (at it) -> red (far past it)."""
    if score is None:
        return "#e6e6e6" if status == "not_evaluated" else "#f7f7f7"
    t = max(-1.0, min(1.0, score / 1.5))  # +-1.5 decades saturate
    if t <= 0:  # green #e3f4e4 -> amber #ffd98a
        a, b, k = (0xE3, 0xF4, 0xE4), (0xFF, 0xD9, 0x8A), t + 1
    else:  # amber -> red #d9534f
        a, b, k = (0xFF, 0xD9, 0x8A), (0xD9, 0x53, 0x4F), t
    if drifted and t <= 0:
        a, b, k = (0xFF, 0xD9, 0x8A), (0xD9, 0x53, 0x4F), 0.35
    rgb = [round(x + (y - x) * k) for x, y in zip(a, b, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _fmt(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "\u2014" if value is None else str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
        return f"{value:.2g}"
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


# ----------------------------------------------------------------------------- collect


def _feature_cell(feature: Mapping[str, Any], link: str) -> Dict[str, Any]:
    status = str(feature.get("status", "ok"))
    drifted = bool(feature.get("drifted"))
    score = _score(feature)
    kind, method = feature.get("kind"), feature.get("method")
    value = feature.get("value")
    shown = ("p=" if kind == "p_value" else "") + _fmt(value) if value is not None else ""
    if not shown:
        shown = {"not_evaluated": "n/e", "skipped": "skip"}.get(status, status)
    rule = ""
    if method and feature.get("threshold") is not None:
        op = "<" if kind == "p_value" else "\u2265"
        rule = f"{method}: drift if {'p' if kind == 'p_value' else 'score'} {op} {_fmt(feature.get('threshold'))}"
    return {
        "value": value if isinstance(value, (int, float)) else None,
        "threshold": feature.get("threshold"),
        "method": method,
        "kind": kind,
        "status": status,
        "drifted": drifted,
        "score": None if score is None else round(score, 4),
        "text": shown,
        "rule": rule,
        "colour": _colour(score, drifted, status),
        "link": link,
    }


def _read_report(uri: str, output_dir: str) -> Dict[str, Any]:
    """The verdict and per-feature cells of one DriftReport folder (single or index)."""
    root = fs.read_json_or_none(fs.join(uri, "report.json"))
    html = fs.join(uri, "report.html")
    out: Dict[str, Any] = {
        "report_found": isinstance(root, dict),
        "html": _link(html, output_dir) if fs.exists_or_false(html) else None,
        "comparisons": [],
        "features": {},
    }
    if not isinstance(root, dict):
        return out
    parts: List[Tuple[str, Dict[str, Any], Optional[str]]] = []
    if root.get("kind") == "index":
        for c in root.get("comparisons") or []:
            sub = fs.read_json_or_none(fs.join(uri, str(c.get("report", ""))))
            page = fs.join(uri, str(c.get("html", "")))
            parts.append((str(c.get("name", "?")), sub if isinstance(sub, dict) else {}, page))
    else:
        parts.append(("", root, html))
    for name, report, page in parts:
        link = _link(page, output_dir) if page and fs.exists_or_false(page) else out["html"] or ""
        out["comparisons"].append(
            {
                "name": name,
                "current_name": str(report.get("current_name", "")),
                "baseline_name": str(report.get("baseline_name", "")),
                "status": str(report.get("status", "")),
                "dataset_drifted": bool(report.get("dataset_drifted")),
                "drift_share": report.get("drift_share"),
                "drift_share_threshold": report.get("drift_share_threshold"),
                "n_features": report.get("n_features"),
                "n_drifted": report.get("n_drifted"),
                "html": link,
            }
        )
        for feature in report.get("features") or []:
            label = f"{name}: {feature.get('name')}" if len(parts) > 1 else str(feature.get("name"))
            out["features"][label] = {
                **_feature_cell(feature, link),
                "comparison": name if len(parts) > 1 else "",
                "feature": str(feature.get("name")),
            }
    first = out["comparisons"][0] if out["comparisons"] else {}
    out["status"] = str(root.get("status", first.get("status", "")))
    out["dataset_drifted"] = bool(root.get("dataset_drifted", False))
    out["drift_share"] = root.get("drift_share", first.get("drift_share"))
    thresholds = [
        c["drift_share_threshold"]
        for c in out["comparisons"]
        if c["drift_share_threshold"] is not None
    ]
    out["drift_share_threshold"] = thresholds[0] if thresholds else None
    return out


def _iso(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc).isoformat(timespec="seconds")


def _ms(iso: str) -> Optional[int]:
    try:
        parsed = _dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return int(parsed.timestamp() * 1000)


def collect_drift_history(
    metadata_path: str,
    output_dir: str = ".",
    pipeline_name: Optional[str] = None,
    registry_uri: Optional[str] = None,
    model_name: Optional[str] = None,
    progress: Optional[Progress] = None,
) -> Dict[str, Any]:
    """Read the drift history of a pipeline; return the ``drift_history.json`` document.

    Links in the document are relative to ``output_dir`` (where the page will be written).

    Raises:
      InvalidInputError: ``metadata_path`` is not an ML Metadata SQLite file; the pipeline is
        not in the store (the message lists those that are); the store holds several
        pipelines and none was chosen; no DriftValidator ever ran in the pipeline;
        ``registry_uri`` without ``model_name`` (or the reverse).
    """
    if bool(registry_uri) != bool(model_name):
        raise InvalidInputError(
            "--registry and --model go together: pass both (e.g. --registry out/registry "
            "--model flights) or neither"
        )
    say = progress or (lambda _msg: None)
    say(f"opening {metadata_path}")
    mlmd = _Store.open(open_sqlite_store(metadata_path), pipeline_name)
    reports = mlmd.artifacts(DRIFT_REPORT_TYPE)
    if not reports:
        where = f"pipeline {mlmd.pipeline!r}" if mlmd.pipeline else "this store"
        raise InvalidInputError(
            f"no DriftValidator run (tfx_addons_lab.DriftReport) in {where} of {metadata_path}; "
            "run a pipeline with a DriftValidator first"
        )

    runs: List[Dict[str, Any]] = []
    for i, (art, execution) in enumerate(reports, 1):
        say(f"reading drift report {i}/{len(reports)} ({mlmd.node_of.get(execution.id, '?')})")
        props = all_props(art)
        span = props.get("current_span")
        span_source = "current_span" if isinstance(span, int) and not isinstance(span, bool) else ""
        baseline_spans = _as_spans(props.get("baseline_spans"))
        if not span_source:
            span = None
            inputs = mlmd.io(execution.id, _INPUT_EVENTS)
            current = [a for k, a in inputs if k == "statistics"]
            spans = mlmd.spans_of(current[0]) if current else []
            if spans:
                span, span_source = max(spans), "lineage"
            if baseline_spans is None:
                base = [a for k, a in inputs if k == "baseline_statistics"]
                baseline_spans = mlmd.spans_of(base[0]) if base else None
        report = _read_report(art.uri, output_dir)
        if not report["report_found"]:  # no report.json: the verdict properties only
            report.update(
                status=str(props.get("status", "")),
                dataset_drifted=bool(props.get("dataset_drifted", 0)),
                drift_share=props.get("drift_share"),
            )
        runs.append(
            {
                "component": mlmd.node_of.get(execution.id, "?"),
                "artifact_id": art.id,
                "execution_id": execution.id,
                "uri": art.uri,
                "run_id": mlmd.run_of.get(execution.id),
                "time_ms": int(execution.create_time_since_epoch),
                "span": span,
                "span_source": span_source or "run order",
                "baseline_spans": baseline_spans,
                **report,
            }
        )

    # The axis: one column per span, in span order; runs without a span, in run order.
    run_ids = sorted(
        {r["run_id"] or f"e{r['execution_id']}" for r in runs},
        key=lambda rid: min(
            r["time_ms"] for r in runs if (r["run_id"] or f"e{r['execution_id']}") == rid
        ),
    )
    run_span: Dict[str, Optional[int]] = {}
    for rid in run_ids:
        spans = [
            r["span"]
            for r in runs
            if (r["run_id"] or f"e{r['execution_id']}") == rid and r["span"] is not None
        ]
        run_span[rid] = max(spans) if spans else None
    columns: List[Dict[str, Any]] = []
    col_of_run: Dict[str, int] = {}
    by_span: Dict[int, Dict[str, Any]] = {}
    for n, rid in enumerate(run_ids, 1):
        span = run_span[rid]
        time_ms = min(r["time_ms"] for r in runs if (r["run_id"] or f"e{r['execution_id']}") == rid)
        if span is not None and span in by_span:  # a re-run of a span replaces the column
            col = by_span[span]
            col.update(run_id=rid, time_ms=time_ms, time=_iso(time_ms), reruns=col["reruns"] + 1)
        else:
            col = {
                "label": f"span {span}" if span is not None else f"run {n}",
                "span": span,
                "run_id": rid,
                "time_ms": time_ms,
                "time": _iso(time_ms),
                "reruns": 0,
            }
            columns.append(col)
            if span is not None:
                by_span[span] = col
    columns.sort(
        key=lambda c: (c["span"] is None, c["span"] if c["span"] is not None else 0, c["time_ms"])
    )
    for i, col in enumerate(columns):
        col["index"] = i
    for rid in run_ids:
        span = run_span[rid]
        col = (
            by_span.get(span)
            if span is not None
            else next(c for c in columns if c["run_id"] == rid)
        )
        col_of_run[rid] = col["index"]

    def column_for(run_id: Optional[str], time_ms: int) -> Optional[int]:
        if run_id and run_id in col_of_run:
            return col_of_run[run_id]
        earlier = [c for c in columns if c["time_ms"] <= time_ms]
        return max(earlier, key=lambda c: c["time_ms"])["index"] if earlier else None

    validators: Dict[str, Dict[str, Any]] = {}
    for r in runs:
        rid = r["run_id"] or f"e{r['execution_id']}"
        col = col_of_run[rid]  # runs are oldest first: a re-run of a span overwrites the cell
        v = validators.setdefault(
            r["component"], {"component": r["component"], "runs": [None] * len(columns)}
        )
        r["column"] = col
        v["runs"][col] = r
    for v in validators.values():
        names: List[str] = []
        for r in v["runs"]:
            for name in (r or {}).get("features", {}):
                if name not in names:
                    names.append(name)
        v["features"] = [
            {
                "name": name,
                "cells": cells,
                "comparison": next((c["comparison"] for c in cells if c), ""),
                "feature": next((c["feature"] for c in cells if c), name),
            }
            for name in names
            for cells in [[(r or {}).get("features", {}).get(name) for r in v["runs"]]]
        ]
        sides = [
            f"{c['current_name']} vs {c['baseline_name']}"
            for r in v["runs"]
            if r
            for c in r["comparisons"]
        ]
        v["compares"] = sides[-1] if sides else ""
        for r in v["runs"]:
            if r:
                r.pop("features", None)  # kept once, in v["features"]

    say("reading gate outcomes and registry pushes")
    gates = []
    for art, execution in mlmd.artifacts(GATE_REPORT_TYPE):
        props = all_props(art)
        blessing = [a for k, a in mlmd.io(execution.id, _OUTPUT_EVENTS) if k == "blessing"]
        bprops = all_props(blessing[0]) if blessing else {}
        html = fs.join(art.uri, "gate_report.html")
        gates.append(
            {
                "component": mlmd.node_of.get(execution.id, "?"),
                "column": column_for(
                    mlmd.run_of.get(execution.id), execution.create_time_since_epoch
                ),
                "blessed": bool(bprops.get("blessed", props.get("blessed", 0))),
                "reason": str(bprops.get("reason", props.get("reason", ""))),
                "override": props.get("override"),
                "report_html": _link(html, output_dir) if fs.exists_or_false(html) else None,
                "report_json": _link(fs.join(art.uri, "gate_report.json"), output_dir),
            }
        )
    pushes = []
    try:
        pushed_models = mlmd.artifacts("PushedModel")
    except Exception:  # noqa: BLE001
        pushed_models = []
    for art, execution in pushed_models:
        props = all_props(art)
        if "registry_uri" not in props and "registry_version" not in props:
            continue  # the stock Pusher's output
        state, text = push_outcome(props)
        pushes.append(
            {
                "component": mlmd.node_of.get(execution.id, "?"),
                "column": column_for(
                    mlmd.run_of.get(execution.id), execution.create_time_since_epoch
                ),
                "state": state,
                "text": text,
                "registry_version": props.get("registry_version"),
                "registry_uri": props.get("registry_uri"),
                "model_name": props.get("registry_model_name"),
            }
        )

    registry = None
    if registry_uri and model_name:
        say(f"reading the alias history of {model_name!r} in {registry_uri}")
        registry = _registry_history(registry_uri, model_name, column_for)

    return {
        "kind": "drift_history",
        "schema_version": SCHEMA_VERSION,
        "metadata": str(metadata_path),
        "pipeline": mlmd.pipeline,
        "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "columns": columns,
        "validators": list(validators.values()),
        "gates": gates,
        "pushes": pushes,
        "registry": registry,
    }


def _registry_history(uri: str, model_name: str, column_for) -> Dict[str, Any]:
    """Versions and every alias change of ``model_name`` (set, rollback, approve)."""
    from tfx_addons_lab.registry import open_registry

    try:
        reg = open_registry(uri)
        versions = reg.list(model_name)
        aliases = reg.aliases(model_name)
        events = []
        for alias in sorted(aliases):
            for entry in reg.alias_history(model_name, alias):
                when = _ms(getattr(entry, "set_at", ""))
                events.append(
                    {
                        "alias": alias,
                        "action": str(getattr(entry, "action", "set")),
                        "version": getattr(entry, "version", None),
                        "previous": getattr(entry, "previous", None),
                        "set_at": str(getattr(entry, "set_at", "")),
                        "by": getattr(entry, "by", None),
                        "justification": getattr(entry, "justification", None),
                        "column": column_for(None, when) if when is not None else None,
                    }
                )
    except InvalidInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a registry problem must not hide the history
        return {"uri": uri, "model": model_name, "error": str(exc), "events": [], "aliases": {}}
    events.sort(key=lambda e: e["set_at"])
    return {
        "uri": uri,
        "model": model_name,
        "versions": [v.version for v in versions],
        "aliases": dict(aliases),
        "events": events,
        "error": None,
    }


# ----------------------------------------------------------------------------- render


def _chart(v: Mapping[str, Any], n_columns: int, col_width: int) -> Dict[str, Any]:
    """Bar chart data: the dataset drift share per column, with the threshold line."""
    height, pad = 120, 18
    bars, threshold = [], None
    for i, r in enumerate(v["runs"]):
        if not r:
            continue
        share = r.get("drift_share")
        if r.get("drift_share_threshold") is not None:
            threshold = float(r["drift_share_threshold"])
        no_base = r.get("status") == "no_baseline"
        value = float(share) if isinstance(share, (int, float)) else 0.0
        h = max(value, 0.0) * height
        colour = "#b0b7c3" if no_base else ("#d9534f" if r.get("dataset_drifted") else "#5cb85c")
        label = "no baseline" if no_base else f"{value:.0%}"
        bars.append(
            {
                "x": i * col_width + col_width * 0.2,
                "y": pad + height - h,
                "w": col_width * 0.6,
                "h": h,
                "colour": colour,
                "label": label,
                "label_y": pad + height - h - 4,
                "title": f"{r.get('span_label', '')}: drift share {label}",
                "link": r.get("html") or "",
            }
        )
    return {
        "width": n_columns * col_width,
        "height": height + pad + 4,
        "bars": bars,
        "threshold_y": None if threshold is None else pad + height - threshold * height,
        "threshold": None if threshold is None else f"{threshold:.0%}",
        "base_y": pad + height,
    }


def render_drift_history(document: Mapping[str, Any]) -> str:
    """The self-contained HTML page of a :func:`collect_drift_history` document."""
    from tfx_addons_lab._templates import render

    columns = list(document["columns"])
    col_width = 124
    validators = []
    for v in document["validators"]:
        for c, r in zip(columns, v["runs"], strict=True):
            if r:
                r["span_label"] = c["label"]
        validators.append({**v, "chart": _chart(v, len(columns), col_width)})
    by_col = lambda items: [[x for x in items if x["column"] == i] for i in range(len(columns))]  # noqa: E731
    registry = document.get("registry")
    return render(
        "drift_history.html.j2",
        title=f"Drift history: {document.get('pipeline') or 'pipeline'}",
        doc=document,
        columns=columns,
        col_width=col_width,
        validators=validators,
        gates=by_col(document["gates"]),
        pushes=by_col(document["pushes"]),
        alias_events=by_col(registry["events"]) if registry else None,
        registry=registry,
    )


def write_drift_history(
    metadata_path: str,
    output_dir: str,
    pipeline_name: Optional[str] = None,
    registry_uri: Optional[str] = None,
    model_name: Optional[str] = None,
    progress: Optional[Progress] = None,
) -> Dict[str, Any]:
    """Write ``drift_history.html`` and ``drift_history.json`` into ``output_dir``.

    Returns the JSON document plus ``"html_path"`` and ``"json_path"`` (the files written).
    Raises :class:`InvalidInputError` as :func:`collect_drift_history` does.
    """
    doc = collect_drift_history(
        metadata_path, output_dir, pipeline_name, registry_uri, model_name, progress
    )
    fs.makedirs(output_dir)
    html_path, json_path = fs.join(output_dir, HISTORY_HTML), fs.join(output_dir, HISTORY_JSON)
    fs.write_text(html_path, render_drift_history(doc))
    fs.write_text(json_path, json.dumps(doc, indent=2, sort_keys=False, default=str))
    return {**doc, "html_path": html_path, "json_path": json_path}

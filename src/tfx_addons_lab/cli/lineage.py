"""``tfx-addons-lab lineage``: the ML Metadata lineage of a pushed model.

Prints the chain registry version -> PushedModel -> Model -> Trainer execution -> the
Examples (and spans) it was trained on -> their statistics, schema and drift verdicts ->
the gate report, as an indented tree (``--format text``) or JSON (``--format json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, List, Optional

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.mlmd import LineageNode, MetadataView, open_sqlite_store, prop, upstream_lineage
from tfx_addons_lab.textfmt import safe

SIBLING_TYPES = ("tfx_addons_lab.GateReport", "tfx_addons_lab.DriftReport", "ExampleAnomalies")
_SHOW_PROPS = (
    "span",
    "version",
    "split_names",
    "pushed",
    "pushed_version",
    "registry_version",
    "registry_aliases",
    "blessed",
    "reason",
    "dataset_drifted",
    "drift_share",
    "drifted_features",
    "passed",
    "status",
)


def add_metadata_argument(parser: argparse.ArgumentParser) -> None:
    """``--metadata PATH``: the pipeline's SQLite ML Metadata (``lineage``, ``drift-history``)."""
    parser.add_argument(
        "--metadata",
        required=True,
        metavar="PATH",
        help="the SQLite ML Metadata file of the pipeline (metadata.sqlite); opened "
        "read-only, never changed",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_metadata_argument(parser)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--registry",
        nargs=2,
        metavar=("URI", "MODEL@ALIAS"),
        help="start from a registry version, e.g. out/registry penguin@champion "
        "(or penguin@3 for version 3)",
    )
    target.add_argument(
        "--artifact",
        type=int,
        metavar="ID",
        help="start from this MLMD artifact id (a PushedModel or Model)",
    )
    parser.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text: an indented tree (default); json: nodes and edges",
    )


def _split_ref(ref: str) -> tuple:
    if "@" not in ref:
        raise InvalidInputError(
            f"{ref!r} is not MODEL@ALIAS or MODEL@VERSION (e.g. penguin@champion)"
        )
    name, _, which = ref.partition("@")
    if not name or not which:
        raise InvalidInputError(
            f"{ref!r} is not MODEL@ALIAS or MODEL@VERSION (e.g. penguin@champion)"
        )
    return name, which


def find_pushed_model(view: MetadataView, registry_uri: str, ref: str) -> tuple:
    """Resolve ``MODEL@ALIAS`` in the registry, then find the PushedModel that recorded it."""
    from tfx_addons_lab.registry import open_registry

    name, which = _split_ref(ref)
    registry = open_registry(registry_uri)
    mv = registry.get(name, int(which) if which.isdigit() else which)
    candidates = []
    for art in view.artifacts_of_type("PushedModel"):
        version = prop(art, "registry_version")
        if version is not None and int(version) == int(mv.version) and prop(art, "pushed", 0):
            art_name = prop(art, "registry_model_name", name)
            if art_name == name:
                candidates.append(art)
    if not candidates:
        source = (mv.metadata or {}).get("source_uri") or (mv.metadata or {}).get("model_uri")
        raise InvalidInputError(
            f"no PushedModel in this ML Metadata store records {name} version {mv.version} "
            f"(source {source}); is --metadata the store of the pipeline that pushed it?"
        )
    registry_info = {
        "uri": registry_uri,
        "model": name,
        "ref": which,
        "version": mv.version,
        "aliases": list(getattr(mv, "aliases", []) or []),
        "created_at": str(getattr(mv, "created_at", "")),
    }
    return candidates[-1], registry_info


def _label(node: LineageNode) -> str:
    if node.kind == "execution":
        run = safe(node.properties.get("run_id") or "")
        return f"{safe(node.name)} (execution #{node.id}{', run ' + run if run else ''})"
    props = ", ".join(
        f"{k}={safe(node.properties[k])}" for k in _SHOW_PROPS if k in node.properties
    )
    return f"{safe(node.type)} #{node.id}{' [' + props + ']' if props else ''}  {safe(node.uri)}"


def render_tree(nodes: List[LineageNode], edges: List[tuple]) -> str:
    by_key = {("a" if n.kind == "artifact" else "e") + str(n.id): n for n in nodes}
    producer: Dict[str, str] = {}
    inputs: Dict[str, List[tuple]] = {}
    extra_outputs: Dict[str, List[tuple]] = {}
    for src, dst, label in edges:
        if src.startswith("e") and dst.startswith("a"):
            producer.setdefault(dst, src)
            if label != "output":
                extra_outputs.setdefault(src, []).append((label, dst))
        elif src.startswith("a") and dst.startswith("e"):
            inputs.setdefault(dst, []).append((label, src))
    lines: List[str] = []
    printed = set()

    def walk(key: str, indent: int, label: str = "") -> None:
        node = by_key[key]
        prefix = "  " * indent + (f"{label}: " if label else "")
        if key in printed:
            what = safe(node.name if node.kind == "execution" else node.type)
            lines.append(f"{prefix}{what} #{node.id} (see above)")
            return
        printed.add(key)
        lines.append(prefix + _label(node))
        if key.startswith("a") and key in producer:
            walk(producer[key], indent + 1, "<- produced by")
        elif key.startswith("e"):
            for out_label, out_key in extra_outputs.get(key, []):
                if out_key not in printed:
                    printed.add(out_key)
                    lines.append(
                        "  " * (indent + 1) + f"also wrote {out_label}: " + _label(by_key[out_key])
                    )
            for in_label, in_key in inputs.get(key, []):
                walk(in_key, indent + 1, in_label)

    walk(next(iter(by_key)), 0)
    return "\n".join(lines)


def lineage(
    metadata: str, artifact_id: Optional[int] = None, registry: Optional[tuple] = None
) -> dict:
    """Return ``{"registry", "start", "nodes", "edges", "text"}`` for the requested model."""
    view = MetadataView(open_sqlite_store(metadata))
    registry_info = None
    if registry is not None:
        art, registry_info = find_pushed_model(view, registry[0], registry[1])
        artifact_id = art.id
    if artifact_id is None:
        raise InvalidInputError("give --artifact ID or --registry URI MODEL@ALIAS")
    nodes, edges = upstream_lineage(view, artifact_id, SIBLING_TYPES)
    text = render_tree(nodes, edges)
    if registry_info:
        text = (
            f"registry {safe(registry_info['uri'])} {safe(registry_info['model'])}@"
            f"{safe(registry_info['ref'])} -> version {registry_info['version']}\n" + text
        )
    return {
        "registry": registry_info,
        "start": artifact_id,
        "nodes": [n.to_dict() for n in nodes],
        "edges": [{"from": a, "to": b, "key": k} for a, b, k in edges],
        "text": text,
    }


def run(args: argparse.Namespace) -> int:
    result = lineage(
        args.metadata,
        artifact_id=args.artifact,
        registry=tuple(args.registry) if args.registry else None,
    )
    if args.format == "json":
        text = result.pop("text")
        del text
        json.dump(result, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(result["text"])
    return 0

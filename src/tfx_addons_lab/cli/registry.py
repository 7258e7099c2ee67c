"""``tfx-addons-lab registry``: inspect and manage a model registry.

::

    tfx-addons-lab registry list     URI [MODEL]                 # models, or versions of MODEL
    tfx-addons-lab registry show     URI MODEL VERSION_OR_ALIAS  # one version with metadata
    tfx-addons-lab registry promote  URI MODEL VERSION --alias champion
    tfx-addons-lab registry rollback URI MODEL --alias champion
    tfx-addons-lab registry verify   URI MODEL [VERSION]         # all versions when omitted
    tfx-addons-lab registry history  URI MODEL --alias champion

Every command takes ``--format json``. Exit status: 0 ok, 1 ``verify`` found a mismatch,
2 bad input (unknown model, version or alias; invalid names) with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Sequence

from tfx_addons_lab.errors import RegistryError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser, model: bool = True, model_optional: bool = False):
        p.add_argument(
            "uri",
            metavar="REGISTRY_URI",
            help="a folder, file:///path, tfserving:///path or mlflow+http://host:port",
        )
        if model:
            p.add_argument(
                "model",
                metavar="MODEL",
                nargs="?" if model_optional else None,
                help="the registered model name",
            )
        p.add_argument("--format", choices=["table", "json"], default="table")

    p = sub.add_parser("list", help="list models, or the versions of MODEL")
    common(p, model_optional=True)
    p = sub.add_parser("show", help="show one version (number, 'latest' or an alias)")
    common(p)
    p.add_argument("which", metavar="VERSION_OR_ALIAS")
    p = sub.add_parser("promote", help="point an alias at a version")
    common(p)
    p.add_argument("version", metavar="VERSION")
    p.add_argument("--alias", required=True, help="e.g. champion")
    p = sub.add_parser("rollback", help="move an alias back to its previous version")
    common(p)
    p.add_argument("--alias", required=True)
    p = sub.add_parser("verify", help="re-check the checksums of one or all versions")
    common(p)
    p.add_argument("version", metavar="VERSION", nargs="?")
    p = sub.add_parser("history", help="the history of an alias")
    common(p)
    p.add_argument("--alias", required=True)


def _table(headers: Sequence[str], rows: List[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _summary(mv) -> Dict[str, Any]:
    meta = mv.metadata or {}
    blessing = meta.get("blessing") or {}
    return {
        "version": mv.version,
        "aliases": ",".join(mv.aliases),
        "created_at": mv.created_at[:19].replace("T", " "),
        "pipeline": meta.get("pipeline_name", ""),
        "run": meta.get("pipeline_run_id", ""),
        "blessed": blessing.get("blessed", ""),
        "files": len(mv.checksums),
        "source": meta.get("source_uri", ""),
    }


def _emit(args, payload: Any, text: str) -> None:
    if args.format == "json":
        json.dump(payload, sys.stdout, indent=2, sort_keys=True, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def _require_model(reg, name: str) -> None:
    if name not in reg.list_models():
        known = ", ".join(reg.list_models()) or "none"
        raise RegistryError(f"model {name!r} not found in registry {reg.uri} (models: {known})")


def run(args: argparse.Namespace) -> int:
    from tfx_addons_lab.registry import open_registry, validate_name

    reg = open_registry(args.uri)
    action = args.action
    if action == "list" and not args.model:
        models = reg.list_models()
        rows = []
        for name in models:
            versions = reg.list(name)
            aliases = reg.aliases(name)
            rows.append(
                {
                    "model": name,
                    "versions": len(versions),
                    "latest": versions[-1].version if versions else None,
                    "aliases": ", ".join(f"{a}={v}" for a, v in sorted(aliases.items())),
                }
            )
        text = (
            _table(["MODEL", "VERSIONS", "LATEST", "ALIASES"], [list(r.values()) for r in rows])
            if rows
            else f"no models in {reg.uri}"
        )
        _emit(args, rows, text)
        return 0

    name = validate_name(args.model)
    if action == "list":
        _require_model(reg, name)
        rows = [_summary(mv) for mv in reg.list(name)]
        text = _table(
            [
                "VERSION",
                "ALIASES",
                "CREATED (UTC)",
                "PIPELINE",
                "RUN",
                "BLESSED",
                "FILES",
                "SOURCE",
            ],
            [list(r.values()) for r in rows],
        )
        _emit(args, rows, text)
        return 0
    if action == "show":
        mv = reg.get(name, args.which)
        payload = mv.to_dict()
        meta_lines = json.dumps(mv.metadata, indent=2, sort_keys=True).splitlines()
        text = "\n".join(
            [
                f"model:      {mv.name}",
                f"version:    {mv.version}",
                f"aliases:    {', '.join(mv.aliases) or '-'}",
                f"created_at: {mv.created_at}",
                f"uri:        {mv.uri}",
                f"files:      {len(mv.checksums)}",
                "metadata:",
                *("  " + line for line in meta_lines),
            ]
        )
        _emit(args, payload, text)
        return 0
    if action == "promote":
        before = reg.aliases(name).get(args.alias)
        entry = reg.set_alias(name, args.alias, args.version)
        after = reg.aliases(name)[args.alias]
        payload = {
            "model": name,
            "alias": args.alias,
            "version": after,
            "previous": before,
            "set_at": entry.set_at,
        }
        text = f"{name}: alias {args.alias} -> version {after}" + (
            f" (was {before})"
            if before not in (None, after)
            else " (unchanged)"
            if before == after
            else " (new alias)"
        )
        _emit(args, payload, text)
        return 0
    if action == "rollback":
        before = reg.aliases(name).get(args.alias)
        mv = reg.rollback(name, args.alias)
        payload = {"model": name, "alias": args.alias, "version": mv.version, "previous": before}
        _emit(
            args,
            payload,
            f"{name}: alias {args.alias} rolled back to version {mv.version} (was {before})",
        )
        return 0
    if action == "history":
        _require_model(reg, name)
        entries = reg.alias_history(name, args.alias)
        rows = [[e.set_at[:19].replace("T", " "), e.action, e.previous, e.version] for e in entries]
        text = (
            _table(["WHEN (UTC)", "ACTION", "FROM", "TO"], rows)
            if rows
            else f"{name}: alias {args.alias} has no history"
        )
        _emit(args, [e.to_dict() for e in entries], text)
        return 0
    if action == "verify":
        _require_model(reg, name)
        targets = [args.version] if args.version else [mv.version for mv in reg.list(name)]
        results = [reg.verify(name, v) for v in targets]
        rows = []
        for r in results:
            rows.append(
                [r.version, "ok" if r.ok else "FAILED", r.checked_files, "; ".join(r.mismatches)]
            )
        _emit(
            args,
            [r.to_dict() for r in results],
            _table(["VERSION", "STATUS", "FILES", "PROBLEMS"], rows),
        )
        return 0 if all(r.ok for r in results) else 1
    raise RegistryError(f"unknown registry action {action!r}")  # pragma: no cover

"""``tfx-addons-lab registry``: inspect and manage a model registry.

::

    tfx-addons-lab registry list     URI [MODEL]                 # models, or versions of MODEL
    tfx-addons-lab registry show     URI MODEL VERSION_OR_ALIAS  # one version with metadata
    tfx-addons-lab registry promote  URI MODEL VERSION --alias champion
    tfx-addons-lab registry approve  URI MODEL VERSION --alias champion --justification TEXT [--by WHO]
    tfx-addons-lab registry rollback URI MODEL --alias champion
    tfx-addons-lab registry verify   URI MODEL [VERSION]         # all versions when omitted
    tfx-addons-lab registry history  URI MODEL --alias champion

Every command takes ``--format json``; each kind of object has one JSON shape everywhere
(a version is :meth:`ModelVersion.to_dict`: ``aliases`` a list, ``created_at`` ISO 8601 with
a timezone). Exit status: 0 ok, 1 ``verify`` found a mismatch or a damaged version, 2 bad
input (unknown registry, model, version or alias; invalid names; unreachable server) with one
line on stderr. Everything printed that came from data goes through :func:`textfmt.safe`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Optional

from tfx_addons_lab.errors import RegistryError, TfxAddonsLabError
from tfx_addons_lab.textfmt import safe, table

DESCRIPTION = (
    "inspect and manage a model registry: list, show, promote, approve, rollback, verify, history"
)
_FORMAT_HELP = "table: aligned text for people (default); json: one JSON document for programs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION + (
        ". Exit status: 0 ok, 1 verify found a problem, 2 bad input (one line on stderr)."
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser, model: bool = True, model_optional: bool = False):
        p.add_argument(
            "uri",
            metavar="REGISTRY_URI",
            help="a folder, file:///path, tfserving:///path or mlflow+http://host:port "
            "(MLflow: ?timeout=SECONDS&retries=N, default 10 and 1)",
        )
        if model:
            p.add_argument(
                "model",
                metavar="MODEL",
                nargs="?" if model_optional else None,
                help="the registered model name"
                + (" (omit to list all models)" if model_optional else ""),
            )
        p.add_argument("--format", choices=["table", "json"], default="table", help=_FORMAT_HELP)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text)

    p = add("list", "list models, or the versions of MODEL (damaged versions included)")
    common(p, model_optional=True)
    p = add("show", "show one version (a number, 'latest' or an alias) with its metadata")
    common(p)
    p.add_argument("which", metavar="VERSION_OR_ALIAS", help="e.g. 3, latest or champion")
    p = add("promote", "point an alias at a version (recorded in the alias history)")
    common(p)
    p.add_argument("version", metavar="VERSION", help="the version number, e.g. 3")
    p.add_argument("--alias", required=True, help="the alias to move, e.g. champion")
    p = add(
        "approve",
        "a person's decision: point an alias at exactly VERSION (also a refused one), recording "
        "who and why in the alias history",
    )
    common(p)
    p.add_argument("version", metavar="VERSION", help="the version number, e.g. 3")
    p.add_argument("--alias", required=True, help="the alias to move, e.g. champion")
    p.add_argument(
        "--justification", required=True, help="why (kept in the history), e.g. a ticket"
    )
    p.add_argument("--by", default=None, help="who approves (default: the OS user)")
    p = add("rollback", "move an alias back to the version that held it before (undo a promote)")
    common(p)
    p.add_argument("--alias", required=True, help="the alias to roll back, e.g. champion")
    p = add("verify", "re-check the checksums of one or all versions (exit 1 on a problem)")
    common(p)
    p.add_argument("version", metavar="VERSION", nargs="?", help="default: every version")
    p = add("history", "every change of an alias (set, approve, rollback), oldest first")
    common(p)
    p.add_argument("--alias", required=True, help="the alias, e.g. champion")


def version_json(mv, approvals: Optional[Dict[int, Any]] = None) -> Dict[str, Any]:
    """The one JSON shape of a model version (``list MODEL`` and ``show``).

    :meth:`ModelVersion.to_dict` plus ``verdict`` (``passed``, ``refused``, ``approved`` or
    ``-``, see :func:`~tfx_addons_lab.registry.base.version_verdict`) and ``verdict_reason``.
    """
    from tfx_addons_lab.registry.base import version_verdict

    row = mv.to_dict()
    row["verdict"], row["verdict_reason"] = version_verdict(mv, approvals or {})
    return row


def _model_json(reg, name: str) -> Dict[str, Any]:
    """The one JSON shape of a model in ``list`` (never raises for a damaged model)."""
    row: Dict[str, Any] = {
        "model": name,
        "versions": 0,
        "latest": None,
        "aliases": [],
        "damaged": [],
        "error": None,
    }
    try:
        versions = reg.list(name)
        aliases = reg.aliases(name)
    except RegistryError as exc:
        row["error"] = str(exc)
        return row
    row["versions"] = len(versions)
    row["latest"] = versions[-1].version if versions else None
    row["aliases"] = [{"alias": a, "version": v} for a, v in sorted(aliases.items())]
    row["damaged"] = [mv.version for mv in versions if mv.damaged]
    return row


def _emit(args, payload: Any, text: str) -> None:
    if args.format == "json":
        json.dump(payload, sys.stdout, indent=2, sort_keys=True, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def _require_model(reg, name: str) -> None:
    models = reg.list_models()
    if name not in models:
        known = ", ".join(models) or "none"
        raise RegistryError(f"model {name!r} not found in registry {reg.uri} (models: {known})")


def _short(text: Optional[str], width: int = 80) -> str:
    """``text`` cut to ``width`` characters for a table cell (JSON keeps it whole)."""
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ") if iso else ""


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except TfxAddonsLabError as exc:
        # one line, inert on a terminal, whatever data (paths, server replies) it quotes
        exc.args = (safe(" ".join(str(exc).split("\n")).strip()),)
        raise


def _run(args: argparse.Namespace) -> int:
    from tfx_addons_lab.registry import open_registry, validate_name
    from tfx_addons_lab.registry.base import version_verdict

    reg = open_registry(args.uri)
    reg.check_exists()
    action = args.action
    if action == "list" and not args.model:
        rows = [_model_json(reg, name) for name in reg.list_models()]
        cells = []
        for r in rows:
            status = (
                f"unreadable: {r['error']}"
                if r["error"]
                else ("damaged: " + ", ".join(map(str, r["damaged"])) if r["damaged"] else "ok")
            )
            aliases = ", ".join(f"{a['alias']}={a['version']}" for a in r["aliases"])
            cells.append([r["model"], r["versions"], r["latest"], aliases, status])
        text = (
            table(["MODEL", "VERSIONS", "LATEST", "ALIASES", "STATUS"], cells)
            if rows
            else f"no models in {safe(reg.uri)}"
        )
        _emit(args, rows, text)
        return 0

    name = validate_name(args.model)
    if action == "list":
        _require_model(reg, name)
        versions = reg.list(name)
        approvals = reg.approvals(name)
        cells = []
        payload = []
        for mv in versions:
            meta = mv.metadata or {}
            blessing = meta.get("blessing") if isinstance(meta.get("blessing"), dict) else {}
            verdict, _ = version_verdict(mv, approvals)
            cells.append(
                [
                    mv.version,
                    ",".join(mv.aliases),
                    _when(mv.created_at),
                    meta.get("pipeline_name", ""),
                    meta.get("pipeline_run_id", ""),
                    blessing.get("blessed", ""),
                    verdict,
                    len(mv.checksums),
                    "DAMAGED" if mv.damaged else "ok",
                    meta.get("source_uri", "") if not mv.damaged else mv.damaged,
                ]
            )
            payload.append(version_json(mv, approvals))
        headers = ["VERSION", "ALIASES", "CREATED (UTC)", "PIPELINE", "RUN", "BLESSED", "VERDICT"]
        text = table([*headers, "FILES", "STATUS", "SOURCE"], cells)
        _emit(args, payload, text)
        return 0
    if action == "show":
        mv = reg.get(name, args.which)
        approvals = reg.approvals(name)
        verdict, reason = version_verdict(mv, approvals)
        if verdict == "approved":
            by = approvals[mv.version].by or "unknown"
            reason = f"refused, approved by {by}: {reason}"
        meta_lines = json.dumps(mv.metadata, indent=2, sort_keys=True).splitlines()
        text = "\n".join(
            [
                f"model:      {safe(mv.name)}",
                f"version:    {mv.version}",
                f"aliases:    {safe(', '.join(mv.aliases)) or '-'}",
                f"created_at: {safe(mv.created_at)}",
                f"uri:        {safe(mv.uri)}",
                f"files:      {len(mv.checksums)}",
                f"verdict:    {verdict}",
                f"reason:     {safe(reason) or '-'}",
                "metadata:",
                *("  " + safe(line) for line in meta_lines),
            ]
        )
        _emit(args, version_json(mv, approvals), text)
        return 0
    if action == "approve":
        before = reg.aliases(name).get(args.alias)
        entry = reg.approve(name, args.version, args.alias, args.justification, by=args.by)
        payload = {"model": name, "alias": args.alias, **entry.to_dict()}
        note = (
            " (unchanged)"
            if before == entry.version
            else (" (new alias)" if before is None else f" (was {before})")
        )
        text = (
            f"{safe(name)}: alias {safe(args.alias)} -> version {entry.version}{note}, approved "
            f"by {safe(entry.by)}: {safe(entry.justification)}"
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
        if before is None:
            note = " (new alias)"
        elif before == after:
            note = " (unchanged)"
        else:
            note = f" (was {before})"
        _emit(args, payload, f"{safe(name)}: alias {safe(args.alias)} -> version {after}{note}")
        return 0
    if action == "rollback":
        before = reg.aliases(name).get(args.alias)
        mv = reg.rollback(name, args.alias)
        payload = {"model": name, "alias": args.alias, "version": mv.version, "previous": before}
        text = (
            f"{safe(name)}: alias {safe(args.alias)} rolled back to version {mv.version} "
            f"(was {before})"
        )
        _emit(args, payload, text)
        return 0
    if action == "history":
        _require_model(reg, name)
        entries = reg.alias_history(name, args.alias)
        rows: List[list] = [
            [_when(e.set_at), e.action, e.previous, e.version, e.by or "", _short(e.justification)]
            for e in entries
        ]
        text = (
            table(["WHEN (UTC)", "ACTION", "FROM", "TO", "BY", "JUSTIFICATION"], rows)
            if rows
            else f"{safe(name)}: alias {safe(args.alias)} has no history"
        )
        _emit(args, [e.to_dict() for e in entries], text)
        return 0
    if action == "verify":
        _require_model(reg, name)
        targets = [args.version] if args.version else [mv.version for mv in reg.list(name)]
        results = [reg.verify(name, v) for v in targets]
        rows = [
            [r.version, "ok" if r.ok else "FAILED", r.checked_files, "; ".join(r.mismatches)]
            for r in results
        ]
        _emit(
            args,
            [r.to_dict() for r in results],
            table(["VERSION", "STATUS", "FILES", "PROBLEMS"], rows),
        )
        return 0 if all(r.ok for r in results) else 1
    raise RegistryError(f"unknown registry action {action!r}")  # pragma: no cover

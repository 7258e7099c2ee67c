"""``tfx-addons-lab drift-history``: every DriftValidator run of a pipeline on one page.

Reads the SQLite ML Metadata store (read-only) and writes ``drift_history.html`` (dataset
drift share per span, a per-feature heat map, gate outcomes, registry pushes and alias
changes on the same axis; every cell links to that run's drift report) and
``drift_history.json`` into ``--output``. Progress goes to stderr; the paths written to
stdout. The same from Python: :func:`tfx_addons_lab.drift.history.write_drift_history`.
"""

from __future__ import annotations

import argparse
import sys

from tfx_addons_lab.textfmt import safe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tfx_addons_lab.cli.lineage import add_metadata_argument

    add_metadata_argument(parser)
    parser.add_argument(
        "--pipeline",
        metavar="NAME",
        help="the pipeline to read (required when the store holds several)",
    )
    parser.add_argument(
        "--output",
        default="drift_history",
        metavar="DIR",
        help="folder for drift_history.html and drift_history.json (default: ./drift_history)",
    )
    parser.add_argument(
        "--registry", metavar="URI", help="also show the alias history of --model in this registry"
    )
    parser.add_argument(
        "--model", metavar="NAME", help="the registered model name (with --registry)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def run(args: argparse.Namespace) -> int:
    from tfx_addons_lab.drift.history import write_drift_history

    def progress(message: str) -> None:
        if not args.quiet:
            sys.stderr.write(f"drift-history: {safe(message)}\n")
            sys.stderr.flush()

    doc = write_drift_history(
        args.metadata,
        args.output,
        pipeline_name=args.pipeline,
        registry_uri=args.registry,
        model_name=args.model,
        progress=progress,
    )
    spans = ", ".join(c["label"] for c in doc["columns"])
    validators = ", ".join(v["component"] for v in doc["validators"])
    print(
        f"drift history of {safe(doc['pipeline'] or 'the pipeline')}: {spans} ({safe(validators)})"
    )
    print(f"  html: {safe(doc['html_path'])}")
    print(f"  json: {safe(doc['json_path'])}")
    return 0

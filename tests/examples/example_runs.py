"""Helpers of the example tests: run an example's command line, read its ML Metadata."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List, Sequence

REPO = Path(__file__).resolve().parents[2]


def run_example(name: str, output_dir: Path, *args: str, timeout: int = 1800) -> str:
    """Run ``examples/<name>/pipeline.py --output-dir OUT ARGS``; assert success; return stdout."""
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / name / "pipeline.py"),
            "--output-dir",
            str(output_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def metadata_view(output_dir: Path):
    """A :class:`tfx_addons_lab.mlmd.MetadataView` of the example run's SQLite MLMD."""
    from tfx_addons_lab.mlmd import MetadataView, open_sqlite_store

    return MetadataView(open_sqlite_store(str(Path(output_dir) / "metadata.sqlite")))


def components_that_ran(view) -> set:
    return {view.component_id(e) for e in view.store.get_executions()}


def by_component(view, type_name: str, component: str) -> List:
    """Artifacts of ``type_name`` produced by pipeline node ``component``, oldest first."""
    return [
        a
        for a in view.artifacts_of_type(type_name)
        if view.component_id(view.producer(a.id)) == component
    ]


def executions_of(view, component: str) -> Sequence:
    return [e for e in view.store.get_executions() if view.component_id(e) == component]

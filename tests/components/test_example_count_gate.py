"""ExampleCountGate in real LocalDagRunner pipelines with SQLite ML Metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_utils import custom_property, run_pipeline

pytestmark = pytest.mark.e2e


def _components(data_dir: Path, min_examples: int, fail: int):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import ExampleCountGate

    example_gen = tfx.components.CsvExampleGen(input_base=str(data_dir))
    gate = ExampleCountGate(
        examples=example_gen.outputs["examples"],
        min_examples=min_examples,
        fail_on_violation=fail,
    )
    return [example_gen, gate]


def test_gate_passes_and_records_counts(tmp_path, penguins_csv_dir, penguins_frame):
    run = run_pipeline(_components(penguins_csv_dir, 10, 1), tmp_path / "run")
    report = run.latest("tfx_addons_lab.GateReport")
    assert custom_property(report, "passed") == 1
    payload = json.loads((Path(report.uri) / "gate_report.json").read_text())
    # CsvExampleGen splits 2:1 by hash; every row lands in exactly one split.
    assert sum(payload["counts"].values()) == len(penguins_frame)
    assert set(payload["counts"]) == {"train", "eval"}


def test_gate_fails_the_run_when_too_few(tmp_path, penguins_csv_dir):
    with pytest.raises(Exception, match="too few examples"):
        run_pipeline(_components(penguins_csv_dir, 100_000, 1), tmp_path / "run")


def test_gate_records_and_continues(tmp_path, penguins_csv_dir):
    run = run_pipeline(_components(penguins_csv_dir, 100_000, 0), tmp_path / "run")
    report = run.latest("tfx_addons_lab.GateReport")
    assert custom_property(report, "passed") == 0
    assert "too few examples" in custom_property(report, "reason")

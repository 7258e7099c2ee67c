"""``same_span_offset`` and ``rolling_window`` baselines in a real pipeline (LocalDagRunner,
SQLite ML Metadata): three runs, spans 1, 2, 3 = flights of January, February, March."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline_utils import custom_property, run_pipeline

from .drift_data import flights_month, write_csv
from .test_drift_validator import _executions, _inputs_by_key, _outputs_of, _stats_gen

e2e = pytest.mark.e2e
ROWS = 1500
PIPELINE = "baseline-modes-test"


def _components(data_root: Path):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import DriftValidator, baseline_statistics_resolver

    example_gen = tfx.components.CsvExampleGen(
        input_base=str(data_root),
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern="span-{SPAN}/*")]
        ),
    )
    stats_gen = _stats_gen(example_gen)
    offset = baseline_statistics_resolver(stats_gen, mode="same_span_offset", span_offset=2)
    window = baseline_statistics_resolver(stats_gen, mode="rolling_window", window=2)
    config = {"numeric_method": "ks", "drift_share": 0.3}
    by_offset = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        baseline_statistics=offset.outputs["statistics"],
        drift_config=config,
    ).with_id("OffsetValidator")
    by_window = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        baseline_statistics=window.outputs["statistics"],
        drift_config=config,
    ).with_id("WindowValidator")
    return [example_gen, stats_gen, offset, window, by_offset, by_window]


@pytest.fixture(scope="module")
def three_spans(tmp_path_factory):
    base = tmp_path_factory.mktemp("baseline_modes")
    data = base / "data"
    months = {span: flights_month(span, ROWS) for span in (1, 2, 3)}
    runs = []
    for span, frame in months.items():
        write_csv(frame, data / f"span-{span}")
        runs.append(run_pipeline(_components(data), base / "run", PIPELINE))
    return {"run": runs[-1], "months": months}


def _reports(run, component_id):
    out = []
    for artifact in _outputs_of(run, component_id, "tfx_addons_lab.DriftReport"):
        out.append((artifact, json.loads((Path(artifact.uri) / "report.json").read_text())))
    return out


@e2e
def test_explore(three_spans):
    run = three_spans["run"]
    for cid in ("OffsetValidator", "WindowValidator"):
        for e in _executions(run, cid):
            print(cid, _inputs_by_key(run, e.id))
        for artifact, report in _reports(run, cid):
            print(cid, report["current_name"], "|", report["baseline_name"], "|", report["status"], report["baseline_reason"], report["current_span"], report["baseline_spans"], report["warnings"])
            print({k: v for k, v in artifact.custom_properties.items() if k in ("current_span", "baseline_spans")})
    assert False

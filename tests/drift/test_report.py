"""DriftResult JSON/text, the Anomalies proto, and the HTML page (string level)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tfx_addons_lab.drift import (
    SCHEMA_VERSION,
    DriftConfig,
    DriftResult,
    compare_statistics,
    render_html,
    to_anomalies,
)
from tfx_addons_lab.errors import InvalidInputError

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(synthetic_stats):
    sa, sb = synthetic_stats
    return compare_statistics(
        sa, sb, DriftConfig(small_baseline_rows=0), baseline_name="train@1", current_name="train@2"
    )


@pytest.fixture(scope="module")
def xss_report(make_stats):
    rng = np.random.default_rng(3)
    a = pd.DataFrame({XSS: rng.normal(0, 1, 500), "cat": rng.choice(["<b>x</b>", "y"], 500)})
    b = pd.DataFrame({XSS: rng.normal(2, 1, 500), "cat": rng.choice(["<b>x</b>", "y&z"], 500)})
    return compare_statistics(
        make_stats(a), make_stats(b), baseline_name="<i>base</i>", current_name="cur"
    )


def test_json_schema_and_round_trip(report):
    d = json.loads(report.to_json())
    for key in (
        "schema_version",
        "dataset_drifted",
        "drift_share",
        "drift_share_threshold",
        "status",
        "baseline_name",
        "current_name",
        "n_features",
        "n_drifted",
        "correction",
        "features",
    ):
        assert key in d, key
    assert d["schema_version"] == SCHEMA_VERSION == 1
    assert d["baseline_name"] == "train@1" and d["status"] == "ok"
    assert len(d["features"]) == 8  # every measurement, drifted or not
    for f in d["features"]:
        for key in (
            "name",
            "type",
            "method",
            "value",
            "statistic",
            "threshold",
            "drifted",
            "p_value",
            "status",
            "baseline",
            "current",
            "note",
            "histogram",
        ):
            assert key in f, key
        assert f["type"] in ("numeric", "categorical")
        assert {"count", "missing"} <= set(f["baseline"]) and {"count", "missing"} <= set(
            f["current"]
        )
        h = f["histogram"]
        assert len(h["baseline"]) == len(h["current"]) > 0
        assert sum(h["baseline"]) == pytest.approx(1.0, abs=1e-3)
    not_drifted = [f for f in d["features"] if not f["drifted"]]
    assert not_drifted and all(f["value"] is not None for f in not_drifted)
    back = DriftResult.from_dict(d)
    assert back.to_dict() == report.to_dict()
    assert DriftResult.from_json(report.to_json()).drifted_features == report.drifted_features
    with pytest.raises(InvalidInputError):
        DriftResult.from_dict({"features": []})
    with pytest.raises(InvalidInputError, match="schema_version"):
        DriftResult.from_dict({**d, "schema_version": 99})


def test_summary_and_table(report):
    line = report.summary_line()
    assert line.startswith("dataset drifted: 5/8 features (62%) >= 50%: ")
    assert "\n" not in line
    assert set(report.drifted_features) == {
        "mean_shift",
        "scale_change",
        "skewed",
        "few_ints",
        "colour",
    }
    table = report.to_text_table()
    lines = table.splitlines()
    assert lines[0].split() == [
        "feature",
        "type",
        "method",
        "statistic",
        "p-value",
        "drift",
        "rule",
        "drift",
        "status",
    ]
    assert set(lines[1]) <= {"-", " "}  # the rule under the header
    assert len(lines) == 2 + 8 + 1 and lines[-1] == line
    # Sorted by severity: drifted first.
    drift_col = [ln.split()[-2] for ln in lines[2:-1]]
    assert drift_col == ["DRIFT"] * 5 + ["-"] * 3
    # The distance rule names the statistic, never a p-value.
    colour = next(ln for ln in lines if ln.startswith("colour"))
    assert "statistic >= 0.1" in colour and "p-value" not in colour


def test_severity_order(report):
    feats = report.sorted_features()
    drifted = [f for f in feats if f.drifted]
    sev = [f.severity for f in drifted]
    assert sev == sorted(sev, reverse=True)


def test_anomalies_proto_round_trips_through_tfdv(report, tmp_path):
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    anomalies = to_anomalies(report)
    assert set(anomalies.anomaly_info) == set(report.drifted_features)
    info = anomalies.anomaly_info["colour"]
    assert info.severity == anomalies_pb2.AnomalyInfo.ERROR
    assert (
        info.reason[0].type == anomalies_pb2.AnomalyInfo.COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH
    )
    assert "jensen_shannon" in info.description and "0.1" in info.description
    ws = anomalies.anomaly_info["mean_shift"]
    assert ws.reason[0].type == anomalies_pb2.AnomalyInfo.CUSTOM_VALIDATION
    assert "wasserstein" in ws.description
    measured = {i.path.step[0]: i for i in anomalies.drift_skew_info}
    assert set(measured) == {f.name for f in report.features if f.method}
    js = measured["stable_cat"].drift_measurements[0]
    M = anomalies_pb2.DriftSkewInfo.Measurement
    assert js.type == M.JENSEN_SHANNON_DIVERGENCE
    assert js.value == pytest.approx(report.feature("stable_cat").value ** 2)
    assert measured["no_shift"].drift_measurements[0].type == M.UNKNOWN
    # Both sides named (baseline and current), then the verdict line.
    assert anomalies.dataset_anomaly_info.description == (
        f"{report.baseline_name} and {report.current_name}: {report.summary_line()}"
    )

    path = str(tmp_path / "anomalies.pbtxt")
    tfdv.write_anomalies_text(anomalies, path)
    assert tfdv.load_anomalies_text(path) == anomalies
    from tensorflow_data_validation.utils import anomalies_util

    binary = tmp_path / "SchemaDiff.pb"
    binary.write_bytes(anomalies.SerializeToString())
    assert anomalies_util.load_anomalies_binary(str(binary)) == anomalies


def test_anomalies_l_infinity_and_schema_changes(synthetic_stats, make_stats):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    sa, sb = synthetic_stats
    r = compare_statistics(sa, sb, DriftConfig(categorical_method="l_infinity"))
    a = to_anomalies(r)
    assert (
        a.anomaly_info["colour"].reason[0].type == anomalies_pb2.AnomalyInfo.COMPARATOR_L_INFTY_HIGH
    )
    m = [i for i in a.drift_skew_info if i.path.step[0] == "colour"][0].drift_measurements[0]
    assert m.type == anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY
    assert m.value == pytest.approx(r.feature("colour").value)
    added = compare_statistics(
        make_stats(pd.DataFrame({"x": [1.0, 2.0]})),
        make_stats(pd.DataFrame({"x": [1.0, 2.0], "y": [1, 2]})),
    )
    assert to_anomalies(added).anomaly_info["y"].reason[0].type == (
        anomalies_pb2.AnomalyInfo.SCHEMA_NEW_COLUMN
    )
    assert to_anomalies(compare_statistics(None, sb)) == anomalies_pb2.Anomalies()


def test_html_is_self_contained_and_escaped(report, xss_report):
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<script" not in page and "<link" not in page
    assert page.index("Dataset drift detected") < page.index("mean_shift")
    assert page.count("<svg") == 8
    # Drifted features come first.
    assert page.index("scale_change") < page.index("no_shift")
    xss = render_html(xss_report)
    assert XSS not in xss and "<script" not in xss
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xss
    assert "<b>x</b>" not in xss and "&lt;b&gt;x&lt;/b&gt;" in xss
    assert "<i>base</i>" not in xss and "y&amp;z" in xss


def test_no_baseline_html():
    r = DriftResult(
        dataset_drifted=False, drift_share=0.0, drift_share_threshold=0.5, status="no_baseline"
    )
    page = render_html(r)
    assert "No baseline" in page


def test_merge_anomalies_of_two_comparisons(synthetic_stats, make_stats):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    from tfx_addons_lab.drift import merge_anomalies

    sa, sb = synthetic_stats
    first = to_anomalies(compare_statistics(sa, sb, DriftConfig(small_baseline_rows=0)))
    second = to_anomalies(compare_statistics(sa, sb, DriftConfig(categorical_method="tvd")))
    merged = anomalies_pb2.Anomalies()
    merged.CopyFrom(first)
    merge_anomalies(merged, second)
    assert set(merged.anomaly_info) == set(first.anomaly_info) | set(second.anomaly_info)
    colour = merged.anomaly_info["colour"]
    assert len(colour.reason) == 2 and "jensen_shannon" in colour.description
    assert "tvd" in colour.description
    assert len(merged.drift_skew_info) == len(first.drift_skew_info) + len(second.drift_skew_info)
    assert len(merged.dataset_anomaly_info.reason) == 2
    empty = anomalies_pb2.Anomalies()
    merge_anomalies(empty, first)
    assert empty.dataset_anomaly_info == first.dataset_anomaly_info

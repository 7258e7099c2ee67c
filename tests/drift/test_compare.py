"""compare_statistics: edge cases, config handling, corrections, custom methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tensorflow_metadata.proto.v0 import statistics_pb2

from tfx_addons_lab.drift import (
    DriftConfig,
    DriftMethod,
    available_methods,
    compare_statistics,
    get_method,
    register_method,
)
from tfx_addons_lab.errors import InvalidInputError


@pytest.fixture(scope="module")
def edge_stats(make_stats):
    n = 300
    rng = np.random.default_rng(0)
    base = pd.DataFrame(
        {
            "keep": rng.normal(size=n),
            "gone": rng.normal(size=n),
            "retyped": rng.choice(["a", "b"], n),
            "vanishes": rng.normal(size=n),
            "const_changed": np.full(n, 3.0),
            "const_same": ["k"] * n,
            "never": np.full(n, np.nan),
            "with_nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        }
    )
    cur = pd.DataFrame(
        {
            "keep": rng.normal(size=n),
            "new": rng.normal(size=n),
            "retyped": rng.normal(size=n),
            "vanishes": np.full(n, np.nan),
            "const_changed": np.full(n, 4.0),
            "const_same": ["k"] * n,
            "never": np.full(n, np.nan),
            "with_nan": np.where(rng.random(n) < 0.5, np.nan, rng.normal(size=n)),
        }
    )
    return base, cur, make_stats(base), make_stats(cur)


def test_edge_cases_reported_not_crashing(edge_stats):
    base, cur, sa, sb = edge_stats
    report = compare_statistics(sa, sb)
    st = {f.name: f for f in report.features}
    assert st["new"].status == "added" and st["new"].drifted
    assert st["gone"].status == "removed" and st["gone"].drifted
    assert st["retyped"].status == "type_changed" and st["retyped"].drifted
    assert "STRING" in st["retyped"].note and "FLOAT" in st["retyped"].note
    assert st["vanishes"].status == "all_missing" and st["vanishes"].drifted
    assert st["vanishes"].current["missing"] == 300 and st["vanishes"].current["count"] == 0
    assert st["never"].status == "all_missing" and not st["never"].drifted
    assert st["const_changed"].status == "constant" and st["const_changed"].drifted
    assert st["const_same"].status == "constant" and not st["const_same"].drifted
    assert st["keep"].status == "ok" and st["keep"].method == "ks"  # 300-row baseline
    # NaN rows are counted as missing on each side.
    assert st["with_nan"].baseline["missing"] == int(base.with_nan.isna().sum())
    assert st["with_nan"].current["missing"] == int(cur.with_nan.isna().sum())
    # Counted: 8 features minus "never" (no values anywhere) = 8 of 9 names.
    assert report.n_features == 8
    assert report.n_drifted == 5
    assert report.dataset_drifted and report.drift_share == pytest.approx(5 / 8)


def test_schema_changes_can_be_left_out_of_the_verdict(edge_stats):
    _, _, sa, sb = edge_stats
    report = compare_statistics(sa, sb, DriftConfig(schema_changes_drift=False))
    st = {f.name: f for f in report.features}
    assert not st["new"].drifted and not st["retyped"].drifted and not st["vanishes"].drifted
    assert report.n_drifted == 1  # const_changed only
    assert report.n_features == 4  # keep, const_changed, const_same, with_nan


def test_include_exclude(edge_stats):
    _, _, sa, sb = edge_stats
    r = compare_statistics(sa, sb, DriftConfig(exclude=["new", "gone"]))
    assert r.feature("new").status == "skipped" and not r.feature("new").drifted
    r = compare_statistics(sa, sb, DriftConfig(include=["keep"]))
    assert [f.name for f in r.features if f.status != "skipped"] == ["keep"]
    assert r.n_features == 1 and not r.dataset_drifted


def test_unsupported_type_is_skipped():
    def ds(kind):
        d = statistics_pb2.DatasetFeatureStatistics(num_examples=10)
        f = d.features.add()
        f.path.step.append("blob")
        f.type = statistics_pb2.FeatureNameStatistics.BYTES
        f.bytes_stats.common_stats.num_non_missing = 10
        return d

    r = compare_statistics(ds("a"), ds("b"))
    assert r.feature("blob").status == "skipped" and "BYTES" in r.feature("blob").note
    assert r.n_features == 0 and not r.dataset_drifted and r.drift_share == 0.0


def test_no_baseline(synthetic_stats):
    _, sb = synthetic_stats
    r = compare_statistics(None, sb, current_name="train@span1")
    assert r.status == "no_baseline" and not r.dataset_drifted and r.features == []
    assert "no baseline" in r.summary_line()
    assert r.to_dict()["status"] == "no_baseline"


def test_bad_statistics_inputs(synthetic_stats):
    sa, sb = synthetic_stats
    two = statistics_pb2.DatasetFeatureStatisticsList()
    two.datasets.add(name="train")
    two.datasets.add(name="eval")
    with pytest.raises(InvalidInputError, match="'train', 'eval'"):
        compare_statistics(two, sb)
    with pytest.raises(InvalidInputError, match="empty"):
        compare_statistics(statistics_pb2.DatasetFeatureStatisticsList(), sb)
    with pytest.raises(InvalidInputError, match="load_statistics"):
        compare_statistics("stats.pb", sb)
    with pytest.raises(InvalidInputError, match="current"):
        compare_statistics(sa, None)
    # A single DatasetFeatureStatistics works as well as a list.
    assert compare_statistics(sa.datasets[0], sb.datasets[0]).n_features == 8


def test_default_method_choice_follows_baseline_size(synthetic_stats):
    sa, sb = synthetic_stats  # 5000 rows
    small = compare_statistics(sa, sb, DriftConfig(small_baseline_rows=5000))
    large = compare_statistics(sa, sb, DriftConfig(small_baseline_rows=4999))
    assert small.feature("mean_shift").method == "ks"
    assert small.feature("colour").method == "chi_square"
    assert small.feature("few_ints").method == "chi_square"
    assert large.feature("mean_shift").method == "wasserstein"
    assert large.feature("colour").method == "jensen_shannon"
    assert large.feature("few_ints").method == "jensen_shannon"
    assert small.feature("mean_shift").threshold == 0.05
    assert large.feature("mean_shift").threshold == 0.1


def test_per_feature_overrides(synthetic_stats):
    sa, sb = synthetic_stats
    cfg = DriftConfig(
        feature_methods={"mean_shift": "psi", "colour": "l_infinity", "few_ints": "ks"},
        feature_thresholds={"mean_shift": 5.0, "colour": 0.5},
        threshold=0.3,
    )
    r = compare_statistics(sa, sb, cfg)
    ms, col = r.feature("mean_shift"), r.feature("colour")
    assert ms.method == "psi" and ms.threshold == 5.0 and not ms.drifted
    assert col.method == "l_infinity" and col.threshold == 0.5 and not col.drifted
    # A numeric method asked by name keeps a discrete numeric feature numeric.
    fi = r.feature("few_ints")
    assert fi.method == "ks" and fi.type == "numeric" and fi.threshold == 0.3
    assert r.feature("skewed").threshold == 0.3  # global override of wasserstein's 0.1


def test_categorical_features_forces_int_to_categorical(synthetic_stats, synthetic_frames):
    sa, sb = synthetic_stats
    a, b = synthetic_frames
    r = compare_statistics(
        sa, sb, DriftConfig(categorical_features=["counts"], categorical_method="tvd")
    )
    f = r.feature("counts")
    assert f.type == "categorical" and f.method == "tvd"
    ca, cb = a["counts"].value_counts(normalize=True), b["counts"].value_counts(normalize=True)
    cats = sorted(set(ca.index) | set(cb.index))
    ref = 0.5 * sum(abs(ca.get(c, 0) - cb.get(c, 0)) for c in cats)
    # Poisson(20) values are all distinct enough to be recovered from 100 quantile buckets
    # up to the rarest tails; tvd close to the raw one.
    assert f.value == pytest.approx(ref, abs=0.03)


def test_method_not_applicable_raises(synthetic_stats):
    sa, sb = synthetic_stats
    with pytest.raises(InvalidInputError, match="does not apply to feature 'colour'"):
        compare_statistics(sa, sb, DriftConfig(feature_methods={"colour": "ks"}))


@pytest.mark.parametrize("correction", ["bonferroni", "benjamini-hochberg"])
def test_multiple_testing_correction(correction, synthetic_stats):
    sa, sb = synthetic_stats
    plain = compare_statistics(sa, sb, DriftConfig(small_baseline_rows=10**6))
    corr = compare_statistics(sa, sb, DriftConfig(small_baseline_rows=10**6, correction=correction))
    tested = [f for f in plain.features if f.kind == "p_value" and f.status == "ok"]
    raw = np.array([f.p_value for f in tested])
    if correction == "bonferroni":
        expected = np.minimum(1.0, raw * len(raw))
    else:
        expected = stats.false_discovery_control(raw, method="bh")
    got = np.array([corr.feature(f.name).p_value_adjusted for f in tested])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    for f in tested:
        c = corr.feature(f.name)
        assert c.p_value == f.p_value  # raw kept
        assert c.drifted == (c.p_value_adjusted < c.threshold)
    assert corr.correction == correction and corr.to_dict()["correction"] == correction


def test_drift_share_threshold(synthetic_stats):
    sa, sb = synthetic_stats
    r = compare_statistics(sa, sb, DriftConfig(drift_share=0.7, small_baseline_rows=0))
    assert r.n_drifted == 5 and r.n_features == 8
    assert not r.dataset_drifted and r.drift_share == pytest.approx(0.625)
    r = compare_statistics(sa, sb, DriftConfig(drift_share=0.625, small_baseline_rows=0))
    assert r.dataset_drifted


def test_custom_method_registry(synthetic_stats):
    def mean_shift(b, c):
        return abs(c.mean - b.mean) / b.std, None

    m = register_method(
        DriftMethod("test_mean_shift", {"numeric"}, "distance", 0.25, mean_shift, "mean diff")
    )
    try:
        assert get_method("test_mean_shift") is m
        assert "test_mean_shift" in available_methods("numeric")
        assert "test_mean_shift" not in available_methods("categorical")
        sa, sb = synthetic_stats
        r = compare_statistics(sa, sb, {"numeric_method": "test_mean_shift"})
        f = r.feature("mean_shift")
        assert (
            f.method == "test_mean_shift" and f.drifted and f.value == pytest.approx(0.5, abs=0.1)
        )
        assert not r.feature("no_shift").drifted
    finally:
        from tfx_addons_lab.drift import methods

        methods._REGISTRY.pop("test_mean_shift", None)


def test_builtin_method_table():
    expected = {
        "ks": ({"numeric"}, "p_value", 0.05),
        "wasserstein": ({"numeric"}, "distance", 0.1),
        "psi": ({"numeric", "categorical"}, "distance", 0.1),
        "jensen_shannon": ({"numeric", "categorical"}, "distance", 0.1),
        "hellinger": ({"numeric", "categorical"}, "distance", 0.1),
        "chi_square": ({"categorical"}, "p_value", 0.05),
        "l_infinity": ({"categorical"}, "distance", 0.1),
        "tvd": ({"categorical"}, "distance", 0.1),
    }
    for name, (types, kind, thr) in expected.items():
        m = get_method(name)
        assert (set(m.feature_types), m.kind, m.default_threshold) == (types, kind, thr)
    with pytest.raises(InvalidInputError, match="choose one of"):
        get_method("kolmogorov")
    with pytest.raises(InvalidInputError, match="kind"):
        DriftMethod("bad", {"numeric"}, "score", 0.1, lambda b, c: 0.0)


def test_config_round_trip_and_validation():
    cfg = DriftConfig(
        numeric_method="psi",
        feature_methods={"a": "tvd"},
        feature_thresholds={"a": 0.2},
        include=["a", "b"],
        exclude=["c"],
        drift_share=0.3,
        correction="bonferroni",
        categorical_features=["b"],
    )
    assert DriftConfig.from_dict(cfg.to_dict()) == cfg
    import json

    assert DriftConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    bad = [
        ({"numeric_metod": "ks"}, "numeric_metod.*valid keys"),
        ({"numeric_method": "kss"}, "unknown drift method 'kss'.*ks"),
        ({"numeric_method": "chi_square"}, "does not apply to numeric"),
        ({"categorical_method": "wasserstein"}, "does not apply to categorical"),
        ({"feature_methods": {"x": "nope"}}, r"feature_methods\['x'\]"),
        ({"feature_methods": {"x": "ks"}, "feature_thresholds": {"x": 1.5}}, "in \\(0, 1\\)"),
        ({"feature_thresholds": {"x": -1}}, "positive"),
        ({"threshold": 0}, "positive"),
        ({"numeric_method": "ks", "threshold": 2}, "in \\(0, 1\\)"),
        ({"drift_share": 0}, "drift_share"),
        ({"drift_share": 1.5}, "drift_share"),
        ({"correction": "holm"}, "bonferroni"),
        ({"small_baseline_rows": -5}, "small_baseline_rows"),
        ({"exclude": [1, 2]}, "exclude"),
        # numbers a float cannot hold, NaN, and the message's prefix said once
        ({"threshold": 10**400}, r"^DriftConfig\.threshold must be a number"),
        ({"drift_share": -(10**400)}, r"^DriftConfig\.drift_share must be a number"),
        ({"feature_thresholds": {"x": 10**400}}, r"^DriftConfig\.feature_thresholds\['x'\] must"),
        ({"feature_thresholds": {"x": float("nan")}}, r"^DriftConfig\.feature_thresholds\['x'\]"),
        (
            {"feature_methods": {"x": "ks"}, "feature_thresholds": {"x": 10**400}},
            r"^DriftConfig\.feature_thresholds\['x'\] must be a number",
        ),
    ]
    for d, msg in bad:
        with pytest.raises(InvalidInputError, match=msg):
            DriftConfig.from_dict(d)
    assert DriftConfig.from_dict({"exclude": "a, b"}).exclude == ["a", "b"]
    assert DriftConfig.from_dict(None) == DriftConfig()

"""Non-finite values (NaN, +inf, -inf) never turn a feature into "no drift".

Both statistics engines (TFDV and the numpy engine), every built-in method, through the
public API; values checked against scipy on the finite raw rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from tfx_addons_lab.drift import (
    NOT_EVALUATED,
    DriftConfig,
    DriftMethod,
    compare_statistics,
    fast_statistics_from_dataframe,
    register_method,
    render_html,
    statistics_from_dataframe,
    to_anomalies,
)
from tfx_addons_lab.errors import InvalidInputError

NUMERIC_METHODS = ("ks", "wasserstein", "psi", "jensen_shannon", "hellinger")
CATEGORICAL_METHODS = ("chi_square", "l_infinity", "tvd", "psi", "jensen_shannon", "hellinger")
N = 3000


def _tfdv(df):
    return statistics_from_dataframe(df)


def _numpy(df):
    return fast_statistics_from_dataframe(df)


ENGINES = {"tfdv": _tfdv, "numpy": _numpy}


def _with(values, extra):
    return np.append(values, np.asarray(extra, dtype=float))


@pytest.fixture(scope="module")
def shifted():
    """The issue's case: N(0,1) vs N(5,1), 3000 rows, plus non-finite values in each column."""
    rng = np.random.default_rng(11)
    a, b = rng.normal(0, 1, N), rng.normal(5, 1, N)
    same_a, same_b = rng.normal(0, 1, N), rng.normal(0, 1, N)
    cols = {
        "pos_inf": ([np.inf], [np.inf]),
        "neg_inf": ([-np.inf], [-np.inf]),
        "both_inf": ([np.inf, -np.inf, np.inf], [-np.inf, -np.inf]),
        "inf_one_side": ([], [np.inf] * 30),
        "nan": ([np.nan] * 5, [np.nan]),
    }
    # Columns of different lengths are padded with NaN (missing), as in a real table.
    base = pd.DataFrame(
        {k: pd.Series(_with(a, x)) for k, (x, _) in cols.items()}
        | {"same": pd.Series(_with(same_a, [np.inf] * 5))}
    )
    cur = pd.DataFrame(
        {k: pd.Series(_with(b, y)) for k, (_, y) in cols.items()}
        | {"same": pd.Series(_with(same_b, [-np.inf]))}
    )
    return base, cur, {"a": a, "b": b, "same_a": same_a, "same_b": same_b}


@pytest.fixture(scope="module", params=sorted(ENGINES))
def shifted_stats(request, shifted):
    base, cur, raw = shifted
    engine = ENGINES[request.param]
    return request.param, engine(base), engine(cur), raw


@pytest.mark.parametrize("method", NUMERIC_METHODS)
def test_shift_with_infinite_values_is_drift(shifted_stats, method):
    engine, sa, sb, raw = shifted_stats
    report = compare_statistics(sa, sb, {"numeric_method": method})
    for name in ("pos_inf", "neg_inf", "both_inf", "inf_one_side", "nan"):
        f = report.feature(name)
        assert f.status == "ok", (engine, name, f.note)
        assert f.value is not None and math.isfinite(f.value), (engine, name)
        assert f.drifted, (engine, method, name, f.value)
        if name != "nan":
            assert "infinite value(s) left out" in f.note, f.note
    same = report.feature("same")
    assert same.status == "ok" and math.isfinite(same.value) and not same.drifted, same
    assert report.dataset_drifted
    assert report.feature("pos_inf").current["nonfinite"] == 1
    assert report.feature("both_inf").baseline["nonfinite"] == 3


def test_values_match_scipy_on_the_finite_rows(shifted_stats):
    engine, sa, sb, raw = shifted_stats
    report = compare_statistics(sa, sb, {"numeric_method": "wasserstein"})
    a, b = raw["a"], raw["b"]
    expected = stats.wasserstein_distance(a, b) / np.std(a)
    for name in ("pos_inf", "neg_inf", "both_inf", "inf_one_side"):
        assert report.feature(name).value == pytest.approx(expected, rel=0.03), (engine, name)
    same = stats.wasserstein_distance(raw["same_a"], raw["same_b"]) / np.std(raw["same_a"])
    assert report.feature("same").value == pytest.approx(same, abs=0.02), engine
    ks = compare_statistics(sa, sb, {"numeric_method": "ks"})
    d = stats.ks_2samp(raw["same_a"], raw["same_b"]).statistic
    assert ks.feature("same").statistic == pytest.approx(d, abs=0.02), engine
    # The finite count is what the KS p-value uses.
    assert ks.feature("pos_inf").baseline["count"] == N
    assert ks.feature("pos_inf").current["count"] == N


def _all_nonfinite_frames():
    rng = np.random.default_rng(3)
    ok_a, ok_b = rng.normal(0, 1, 400), rng.normal(0, 1, 400)
    base = pd.DataFrame(
        {"ok": ok_a, "all_pos": np.full(400, np.inf), "mixed": np.where(ok_a > 0, np.inf, -np.inf)}
    )
    cur = pd.DataFrame(
        {"ok": ok_b, "all_pos": np.full(400, np.inf), "mixed": rng.normal(0, 1, 400)}
    )
    return base, cur


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_all_nonfinite_column_is_not_evaluated_and_fails_closed(engine):
    base, cur = _all_nonfinite_frames()
    sa, sb = ENGINES[engine](base), ENGINES[engine](cur)
    for method in NUMERIC_METHODS:
        report = compare_statistics(sa, sb, {"numeric_method": method})
        for name in ("all_pos", "mixed"):
            f = report.feature(name)
            assert f.status == NOT_EVALUATED, (engine, method, name, f.status)
            assert not f.drifted and f.value is None
            assert "no finite value (400 infinite)" in f.note, f.note
        assert not report.feature("ok").drifted
        assert report.not_evaluated_features == ["all_pos", "mixed"]
        # 0 of 1 measured feature drifted, yet the data set fails closed.
        assert report.n_drifted == 0 and report.dataset_drifted is True
        assert report.summary_line().startswith("dataset drift assumed (fail closed)")
        assert "2 not evaluated (fails the verdict): all_pos, mixed" in report.summary_line()
        ignored = compare_statistics(
            sa, sb, {"numeric_method": method, "on_not_evaluated": "ignore"}
        )
        assert ignored.dataset_drifted is False
        assert ignored.n_features == 1 and "(ignored)" in ignored.summary_line()


def test_not_evaluated_everywhere_in_the_report(make_stats):
    base, cur = _all_nonfinite_frames()
    report = compare_statistics(_numpy(base), _numpy(cur))
    d = report.to_dict()
    assert d["dataset_drifted"] is True and d["not_evaluated_features"] == ["all_pos", "mixed"]
    assert {f["name"]: f["status"] for f in d["features"]}["all_pos"] == NOT_EVALUATED
    page = render_html(report)
    assert "Dataset drift assumed" in page and "not evaluated" in page
    anomalies = to_anomalies(report)
    # Both sides named (baseline and current), then the verdict line.
    assert anomalies.dataset_anomaly_info.description == (
        f"{report.baseline_name} and {report.current_name}: {report.summary_line()}"
    )
    # Consumers that bless on "no anomaly_info" must not bless a fail-closed result.
    assert set(anomalies.anomaly_info) == {"all_pos", "mixed"}
    assert anomalies.anomaly_info["all_pos"].short_description == "Drift not evaluated"
    ignored = compare_statistics(_numpy(base), _numpy(cur), {"on_not_evaluated": "ignore"})
    assert not to_anomalies(ignored).anomaly_info and not ignored.dataset_drifted
    assert "not evaluated" in report.to_text_table()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, None])
@pytest.mark.parametrize("kind", ["distance", "p_value"])
def test_a_method_giving_no_finite_number_is_not_no_drift(synthetic_stats, bad, kind):
    sa, sb = synthetic_stats
    name = f"broken_{kind}"
    if kind == "distance":
        register_method(DriftMethod(name, {"numeric"}, "distance", 0.1, lambda b, c: bad))
    else:
        register_method(DriftMethod(name, {"numeric"}, "p_value", 0.05, lambda b, c: (1.0, bad)))
    if kind == "p_value" and bad is None:
        with pytest.raises(InvalidInputError, match="returned no p-value"):
            compare_statistics(sa, sb, {"feature_methods": {"no_shift": name}})
        return
    report = compare_statistics(sa, sb, {"feature_methods": {"no_shift": name}})
    f = report.feature("no_shift")
    assert f.status == NOT_EVALUATED and not f.drifted, f
    assert "not a finite number" in f.note
    assert report.dataset_drifted and "no_shift" in report.not_evaluated_features
    with pytest.raises(InvalidInputError, match="not a finite number"):
        DriftMethod("x", {"numeric"}, "distance", 0.1, lambda b, c: 0.0).is_drift(math.nan, 0.1)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("method", CATEGORICAL_METHODS)
def test_categorical_methods_on_numeric_values_with_infinities(engine, method):
    rng = np.random.default_rng(8)
    a = _with(rng.choice([0.0, 1.0, 2.0], 600, p=[0.6, 0.3, 0.1]), [np.inf, -np.inf])
    b = _with(rng.choice([0.0, 1.0, 2.0], 600, p=[0.1, 0.3, 0.6]), [np.inf])
    sa = ENGINES[engine](pd.DataFrame({"level": a}))
    sb = ENGINES[engine](pd.DataFrame({"level": b}))
    cfg = DriftConfig(categorical_method=method, categorical_features=["level"])
    f = compare_statistics(sa, sb, cfg).feature("level")
    assert f.status == "ok" and f.type == "categorical", (f.status, f.note)
    assert math.isfinite(f.value) and f.drifted, (engine, method, f.value)


def test_config_rejects_an_unknown_policy():
    with pytest.raises(InvalidInputError, match="on_not_evaluated must be 'fail'"):
        DriftConfig(on_not_evaluated="warn")
    assert DriftConfig().on_not_evaluated == "fail"
    assert DriftConfig.from_dict({"on_not_evaluated": "ignore"}).to_dict()["on_not_evaluated"] == (
        "ignore"
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_pos=st.integers(0, 40),
    n_neg=st.integers(0, 40),
    shift=st.sampled_from([0.0, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_property_infinities_never_hide_or_invent_drift(n_pos, n_neg, shift, seed):
    """Any number of ±inf values: the value is finite and close to scipy on the finite rows."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0, 1, 1500), rng.normal(shift, 1, 1500)
    extra = [np.inf] * n_pos + [-np.inf] * n_neg
    sa = _numpy(pd.DataFrame({"x": _with(a, extra)}))
    sb = _numpy(pd.DataFrame({"x": _with(b, extra[::-1])}))
    f = compare_statistics(sa, sb, {"numeric_method": "wasserstein"}).feature("x")
    assert f.status == "ok" and math.isfinite(f.value)
    expected = stats.wasserstein_distance(a, b) / np.std(a)
    assert f.value == pytest.approx(expected, rel=0.03, abs=0.03)
    assert f.drifted == (shift > 0)
    if n_pos + n_neg:
        assert f.baseline["nonfinite"] == n_pos + n_neg


def test_tfdv_csv_reader_with_infinities(tmp_path):
    """``tfdv.generate_statistics_from_csv`` (Beam, float32 values) with inf/-inf cells."""
    import tensorflow_data_validation as tfdv

    rng = np.random.default_rng(4)
    base = pd.DataFrame(
        {
            "x": _with(rng.normal(0, 1, 1500), [np.inf]),
            "y": _with(rng.normal(0, 1, 1500), [-np.inf]),
        }
    )
    cur = pd.DataFrame(
        {"x": _with(rng.normal(5, 1, 1500), [np.inf]), "y": _with(rng.normal(0, 1, 1500), [np.inf])}
    )
    options = tfdv.StatsOptions(num_quantiles_histogram_buckets=100)
    out = []
    for i, df in enumerate((base, cur)):
        path = tmp_path / f"{i}.csv"
        df.to_csv(path, index=False)
        out.append(tfdv.generate_statistics_from_csv(str(path), stats_options=options))
    for method in NUMERIC_METHODS:
        report = compare_statistics(out[0], out[1], {"numeric_method": method})
        x, y = report.feature("x"), report.feature("y")
        assert x.status == y.status == "ok", (x.note, y.note)
        assert x.drifted and not y.drifted, (method, x.value, y.value)
        assert report.feature("x").current["nonfinite"] == 1


def _example_statistics(values):
    """TFDV statistics of tf.Example records holding one float each (NaN and inf kept)."""
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.statistics import stats_impl
    from tfx_bsl.coders import example_coder

    records = [
        tf.train.Example(
            features=tf.train.Features(
                feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=[v]))}
            )
        ).SerializeToString()
        for v in values
    ]
    batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    options = tfdv.StatsOptions(num_quantiles_histogram_buckets=100)
    return stats_impl.generate_statistics_in_memory(batch, options)


@pytest.mark.parametrize(
    "extra_a, extra_b, nonfinite_a, nan_a",
    [
        ([np.nan] * 5 + [np.inf], [np.nan] * 2, 1, 5),
        ([-np.inf, np.nan], [np.inf, np.inf], 1, 1),
        ([np.nan] * 40, [], 0, 40),
    ],
)
def test_nan_and_inf_inside_tf_examples(extra_a, extra_b, nonfinite_a, nan_a):
    """NaN inside a tf.Example is TFDV's ``num_nan`` (missing); ±inf are left out."""
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, 1000), rng.normal(3, 1, 1000)
    sa = _example_statistics(list(a) + extra_a)
    sb = _example_statistics(list(b) + extra_b)
    for method in NUMERIC_METHODS:
        f = compare_statistics(sa, sb, {"numeric_method": method}).feature("x")
        assert f.status == "ok" and math.isfinite(f.value) and f.drifted, (method, f.note)
        assert f.baseline["count"] == 1000 and f.baseline["missing"] == nan_a
        assert f.baseline.get("nonfinite", 0) == nonfinite_a
    w = compare_statistics(sa, sb, {"numeric_method": "wasserstein"}).feature("x")
    assert w.value == pytest.approx(stats.wasserstein_distance(a, b) / np.std(a), rel=0.03)


def test_unknown_number_of_infinities_is_not_evaluated():
    """An open (q, inf] quantile bucket without exact counts cannot be split: not evaluated."""
    rng = np.random.default_rng(7)
    sa = _tfdv(pd.DataFrame({"x": _with(rng.normal(0, 1, 500), [np.inf] * 3)}))
    sb = _tfdv(pd.DataFrame({"x": rng.normal(0, 1, 500)}))
    hist = sa.datasets[0].features[0].num_stats.histograms
    keep = [h for h in hist if h.type == h.QUANTILES]
    del hist[:]
    hist.extend(keep)
    report = compare_statistics(sa, sb)
    f = report.feature("x")
    assert f.status == NOT_EVALUATED and "do not say how many values are infinite" in f.note
    assert report.dataset_drifted and report.fails_closed

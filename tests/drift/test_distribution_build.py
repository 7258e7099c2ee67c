"""Building distributions from statistics protos: category order, bucket reading, GC state."""

from __future__ import annotations

import gc
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorflow_metadata.proto.v0 import statistics_pb2

from tfx_addons_lab.drift import compare_statistics
from tfx_addons_lab.drift.distributions import (
    CATEGORICAL,
    Distribution,
    _ordered_counts,
    category_pairing,
    distribution_from_feature,
    distributions_from_features,
)


def _reference_order(counts):
    """Most frequent first, ties by label descending: the (count, label) descending sort."""
    return sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


labels = st.text(alphabet="abcxyz019", min_size=1, max_size=4)
count_maps = st.dictionaries(
    labels, st.sampled_from([0.0, 1.0, 2.0, 3.0, 7.5, 100.0, float("inf")]), max_size=40
)


@settings(max_examples=200, deadline=None)
@given(
    count_maps,
    st.sampled_from(["as_given", "tfdv", "sorted", "shuffled", "ties_shuffled"]),
    st.randoms(),
)
def test_ordered_counts_matches_the_reference_sort(counts, order, rnd):
    items = list(counts.items())
    if order == "ties_shuffled":  # count descending, equal counts in any order
        rnd.shuffle(items)
        items.sort(key=lambda kv: kv[1], reverse=True)
    elif order == "tfdv":  # TFDV: count descending, equal counts by label descending
        items.sort(key=lambda kv: kv[0], reverse=True)
        items.sort(key=lambda kv: kv[1], reverse=True)
    elif order == "sorted":  # count descending, equal counts by label ascending
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    elif order == "shuffled":
        rnd.shuffle(items)
    assert list(_ordered_counts(dict(items)).items()) == _reference_order(counts)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(labels, st.sampled_from([0.0, 1.0, 2.0, 5.0, 40.0]), max_size=25),
    st.dictionaries(labels, st.sampled_from([0.0, 1.0, 3.0, 9.0]), max_size=25),
)
def test_category_pairing_and_the_per_side_api_agree_with_plain_python(base, cur):
    """``category_pairing`` (what the kernels use) and ``Distribution.shares``/``counts_for``
    (the public per-side API custom methods may call) against dict arithmetic."""
    b = Distribution(name="f", kind=CATEGORICAL, counts=dict(base))
    c = Distribution(name="f", kind=CATEGORICAL, counts=dict(cur))
    pairing = category_pairing(b, c)
    expected_cats = list(base) + [k for k in cur if k not in base]
    assert pairing.categories == expected_cats
    want_b = [base.get(k, 0.0) for k in expected_cats]
    want_c = [cur.get(k, 0.0) for k in expected_cats]
    assert pairing.baseline_counts.tolist() == want_b == b.counts_for(expected_cats).tolist()
    assert pairing.current_counts.tolist() == want_c == c.counts_for(expected_cats).tolist()
    sb, sc = pairing.shares()
    for got, side, want in ((sb, b, want_b), (sc, c, want_c)):
        total = sum(want)
        ref = [x / total for x in want] if total > 0 else [0.0] * len(want)
        np.testing.assert_allclose(got, ref, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(side.shares(expected_cats), got)
    # Computed once per pair: the same object while both sides' counts are unchanged ...
    assert category_pairing(b, c) is pairing
    # ... and recomputed when a side's counts are replaced.
    c.counts = {**cur, "zz-new": 1.0}
    assert category_pairing(b, c).categories[-1] == "zz-new"


def test_nan_counts_go_last_in_one_order_whatever_the_input_order():
    items = [("a", float("nan")), ("b", 2.0), ("c", float("nan")), ("d", 2.0), ("e", 5.0)]
    rng = random.Random(5)
    for _ in range(10):
        rng.shuffle(items)
        assert list(_ordered_counts(dict(items))) == ["e", "d", "b", "c", "a"]


def _string_feature(pairs, unique=None):
    f = statistics_pb2.FeatureNameStatistics(type=statistics_pb2.FeatureNameStatistics.STRING)
    f.path.step.append("s")
    ss = f.string_stats
    total = sum(c for _, c in pairs)
    ss.common_stats.num_non_missing = int(total)
    ss.common_stats.tot_num_values = int(total)
    ss.unique = unique or len({label for label, _ in pairs})
    for rank, (label, c) in enumerate(pairs):
        ss.rank_histogram.buckets.add(low_rank=rank, high_rank=rank, label=label, sample_count=c)
    return f


def test_rank_histogram_in_any_order_gives_the_same_categories():
    pairs = [("b", 5.0), ("a", 5.0), ("d", 2.0), ("c", 2.0), ("e", 9.0)]
    expected = [("e", 9.0), ("b", 5.0), ("a", 5.0), ("d", 2.0), ("c", 2.0)]
    rng = random.Random(3)
    for _ in range(10):
        rng.shuffle(pairs)
        d = distribution_from_feature(_string_feature(pairs), 23)
        assert list(d.counts.items()) == expected
        assert not d.truncated and d.count == 23


def test_repeated_labels_add_up():
    d = distribution_from_feature(_string_feature([("a", 2.0), ("b", 3.0), ("a", 4.0)]), 9)
    assert list(d.counts.items()) == [("a", 6.0), ("b", 3.0)]


def _numeric_feature(buckets):
    f = statistics_pb2.FeatureNameStatistics(type=statistics_pb2.FeatureNameStatistics.FLOAT)
    f.path.step.append("x")
    ns = f.num_stats
    n = sum(max(c, 0.0) for _, _, c in buckets)
    ns.common_stats.num_non_missing = int(n)
    ns.common_stats.tot_num_values = int(n)
    h = ns.histograms.add(type=statistics_pb2.Histogram.QUANTILES)
    for lo, hi, c in buckets:
        h.buckets.add(low_value=lo, high_value=hi, sample_count=c)
    ns.min = min(lo for lo, _, _ in buckets)
    ns.max = max(hi for _, hi, _ in buckets)
    # The mean of the bucket midpoints and a max beyond the top bucket: no tail reshaping,
    # the CDF is the buckets' own.
    ns.mean = sum(max(c, 0.0) * 0.5 * (lo + hi) for lo, hi, c in buckets) / n
    ns.std_dev = 1.0
    return f


def test_quantile_buckets_read_sorted_with_negative_counts_as_zero():
    buckets = [(0.0, 1.0, 2.0), (1.0, 1.0, 3.0), (1.0, 4.0, 5.0), (4.0, 6.0, -1.0)]
    ordered = distribution_from_feature(_numeric_feature(buckets), 10)
    shuffled = distribution_from_feature(_numeric_feature(buckets[::-1]), 10)
    for d in (ordered, shuffled):
        np.testing.assert_array_equal(d.cdf_x, [0.0, 1.0, 1.0, 4.0, 6.0])
        np.testing.assert_allclose(d.cdf_p, [0.0, 0.2, 0.5, 1.0, 1.0], atol=1e-15)
        assert d._raw_array.tolist() == sorted([lo, hi, max(c, 0.0)] for lo, hi, c in buckets)
        assert not d.tail_means and not d.nonfinite_note
        assert d.distinct_values() == [0.0, 1.0, 4.0, 6.0]  # bucket bounds, min and max
        # (0, 1] counts for 1, [1, 1] is 1, (1, 4] counts for 4; ties by value.
        assert list(d.as_categorical().counts.items()) == [("1", 5.0), ("4", 5.0)]


def test_batch_builder_tidies_each_features_buckets_as_the_per_feature_reader():
    """distributions_from_features: sorted rows and zeroed negative counts per feature,
    with sorted and shuffled features side by side in one dataset."""
    buckets = [(0.0, 1.0, 2.0), (1.0, 1.0, 3.0), (1.0, 4.0, 5.0), (4.0, 6.0, -1.0)]
    orders = [buckets, buckets[::-1], buckets[1:] + buckets[:1], buckets]
    features = [_numeric_feature(b) for b in orders]
    together = distributions_from_features(features, 10)
    for f, d in zip(features, together, strict=True):
        one = distribution_from_feature(f, 10)
        assert d._raw_array.tolist() == one._raw_array.tolist()
        assert d._raw_array.tolist() == sorted([lo, hi, max(c, 0.0)] for lo, hi, c in buckets)
        assert d.cdf_x.tolist() == one.cdf_x.tolist()
        np.testing.assert_allclose(d.cdf_p, one.cdf_p, atol=1e-15)
        assert d.distinct_values() == one.distinct_values() == [0.0, 1.0, 4.0, 6.0]


def test_compare_statistics_restores_the_garbage_collector_state(synthetic_stats):
    base, cur = synthetic_stats
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            compare_statistics(base, cur)
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()

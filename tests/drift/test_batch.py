"""The batch path of ``compare_statistics`` equals the per-feature reference path.

``compare_statistics(..., batch=True)`` (the default) computes each method for all its
features at once with the method's batch kernel; ``batch=False`` calls each method's
``compute`` per feature. Every field of every feature, and the dataset verdict, must agree
to 1e-9 (relative to the value's size when it exceeds 1), for every method, on generated
statistics with many feature mixes and edge cases.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorflow_metadata.proto.v0 import statistics_pb2

from tfx_addons_lab.drift import (
    NOT_EVALUATED,
    DriftConfig,
    DriftMethod,
    compare_statistics,
    fast_statistics_from_dataframe,
    register_method,
)
from tfx_addons_lab.drift.distributions import MAX_DISCRETE_VALUES
from tfx_addons_lab.drift.methods import _REGISTRY
from tfx_addons_lab.errors import InvalidInputError

TOL = 1e-9
NUMERIC_METHODS = [None, "ks", "wasserstein", "psi", "jensen_shannon", "hellinger"]
CATEGORICAL_METHODS = [
    None,
    "chi_square",
    "psi",
    "jensen_shannon",
    "hellinger",
    "l_infinity",
    "tvd",
]


def assert_same(a, b, path="report"):
    """Recursive equality, floats to ``TOL * max(1, |a|)``; NaN equals NaN."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), (path, a, b)
        if math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), (path, a, b)
        else:
            assert abs(a - b) <= TOL * max(1.0, abs(a)), (path, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, a, b)
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def _ranked_within_tolerance(names, severity):
    """``names`` are in non-increasing severity, ties allowed to TOL."""
    for x, y in zip(names, names[1:], strict=False):
        a, b = severity[x], severity[y]
        if math.isinf(a) or math.isinf(b):
            assert a >= b, (x, y, a, b)
        else:
            assert a >= b - TOL * max(1.0, abs(b)), (x, y, a, b)


def both_paths(base, cur, config=None):
    """(batch report, per-feature report), after checking they agree.

    Every field is compared to TOL except the two derived from the order of features by
    severity (``drifted_features`` and the names in ``summary``): features whose values tie
    to within rounding may come in either order there, so those are checked as the same set
    in an order that is valid for the reference severities.
    """
    fast = compare_statistics(base, cur, config)
    ref = compare_statistics(base, cur, config, batch=False)
    a, b = fast.to_dict(), ref.to_dict()
    order_a = (a.pop("drifted_features"), a.pop("summary"))
    order_b = (b.pop("drifted_features"), b.pop("summary"))
    assert_same(a, b)
    if order_a != order_b:
        assert sorted(order_a[0]) == sorted(order_b[0])
        _ranked_within_tolerance(order_a[0], {f.name: f.severity for f in ref.features})
        assert order_a[1].split(":")[0] == order_b[1].split(":")[0]
    return fast, ref


# ------------------------------------------------------------------ generated statistics
KINDS = [
    "normal",
    "lognormal",
    "few_ints",
    "many_ints",
    "constant",
    "all_missing_num",
    "with_inf",
    "some_nan",
    "category",
    "many_categories",
    "single_category",
    "all_missing_cat",
    "new_categories",
]


def column(kind: str, rng, n: int, side: int):
    shift = 0.3 * side
    if kind == "normal":
        return rng.normal(shift, 1.0 + side, n)
    if kind == "lognormal":
        return rng.lognormal(shift, 1.0, n)
    if kind == "few_ints":
        return rng.integers(0, 3 + side, n).astype(float)
    if kind == "many_ints":
        return rng.poisson(20 + 5 * side, n).astype(float)
    if kind == "constant":
        return np.full(n, 2.0 + side * rng.integers(0, 2))
    if kind == "all_missing_num":
        return np.full(n, np.nan) if side == 0 or rng.random() < 0.5 else rng.normal(0, 1, n)
    if kind == "with_inf":
        v = rng.normal(shift, 1, n)
        v[rng.random(n) < 0.05] = np.inf
        v[rng.random(n) < 0.03] = -np.inf
        return v
    if kind == "some_nan":
        v = rng.normal(shift, 1, n)
        v[rng.random(n) < 0.2] = np.nan
        return v
    if kind == "category":
        labels = np.array(["red", "green", "blue", "black"])
        p = [0.4, 0.3, 0.2, 0.1] if side == 0 else [0.25, 0.25, 0.25, 0.25]
        return labels[rng.choice(4, n, p=p)].astype(object)
    if kind == "many_categories":
        k = 40
        idx = np.minimum(rng.zipf(1.5, n) - 1 + side, k - 1)
        return np.array([f"c{i}" for i in range(k)], dtype=object)[idx]
    if kind == "single_category":
        return np.array(["only" if side == 0 or rng.random() < 0.5 else "other"] * n, dtype=object)
    if kind == "all_missing_cat":
        return np.array([None] * n, dtype=object)
    if kind == "new_categories":
        prefix = "a" if side == 0 else "b"
        return np.array([f"{prefix}{i}" for i in rng.integers(0, 6, n)], dtype=object)
    raise AssertionError(kind)


@st.composite
def statistics_pair(draw):
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=10))
    seed = draw(st.integers(0, 2**16))
    n_base = draw(st.sampled_from([3, 20, 150, 1200]))
    n_cur = draw(st.sampled_from([3, 20, 150, 1200]))
    quantiles = draw(st.sampled_from([4, 10, 100]))
    ranks = draw(st.sampled_from([3, 1000]))
    only_base = draw(st.booleans())
    rng = np.random.default_rng(seed)
    frames = []
    for side, n in ((0, n_base), (1, n_cur)):
        cols = {f"f{i}_{k}": column(k, rng, n, side) for i, k in enumerate(kinds)}
        if side == 0 and only_base:
            cols["removed"] = rng.normal(0, 1, n)
        frames.append(pd.DataFrame(cols))
    return tuple(
        fast_statistics_from_dataframe(df, quantile_buckets=quantiles, rank_buckets=ranks)
        for df in frames
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pair=statistics_pair(),
    numeric=st.sampled_from(NUMERIC_METHODS),
    categorical=st.sampled_from(CATEGORICAL_METHODS),
    correction=st.sampled_from([None, "bonferroni", "benjamini-hochberg"]),
    small=st.sampled_from([10, 1000]),
)
def test_batch_equals_per_feature(pair, numeric, categorical, correction, small):
    config = DriftConfig(
        numeric_method=numeric,
        categorical_method=categorical,
        correction=correction,
        small_baseline_rows=small,
    )
    fast, _ = both_paths(*pair, config)
    assert fast.features  # every generated pair has at least one feature


@pytest.mark.parametrize("numeric", NUMERIC_METHODS[1:])
@pytest.mark.parametrize("categorical", CATEGORICAL_METHODS[1:])
def test_every_method_on_a_wide_mixed_table(numeric, categorical):
    """Each method on 40 features of every kind: a batch of many features per kernel."""
    rng = np.random.default_rng(3)
    kinds = KINDS * 3
    frames = [
        pd.DataFrame({f"f{i}_{k}": column(k, rng, 500, side) for i, k in enumerate(kinds)})
        for side in (0, 1)
    ]
    base, cur = (fast_statistics_from_dataframe(df) for df in frames)
    fast, _ = both_paths(
        base, cur, DriftConfig(numeric_method=numeric, categorical_method=categorical)
    )
    methods = {f.method for f in fast.features if f.status == "ok"}
    assert {numeric, categorical} <= methods
    # Forcing a discrete feature numeric, and a numeric one categorical, also agree.
    both_paths(
        base,
        cur,
        DriftConfig(
            numeric_method=numeric,
            categorical_method=categorical,
            feature_methods={"f2_few_ints": numeric},
            categorical_features=["f3_many_ints"],
        ),
    )


# ------------------------------------------------------------------ hand-made edge cases
def _numeric_feature(ds, name, buckets, mean=0.0, std=1.0, vmin=None, vmax=None, count=None):
    f = ds.features.add()
    f.path.step.append(name)
    f.type = statistics_pb2.FeatureNameStatistics.FLOAT
    ns = f.num_stats
    total = sum(c for _, _, c in buckets)
    ns.common_stats.num_non_missing = int(count if count is not None else total)
    ns.common_stats.tot_num_values = int(count if count is not None else total)
    ns.mean, ns.std_dev = mean, std
    ns.min = buckets[0][0] if vmin is None else vmin
    ns.max = buckets[-1][1] if vmax is None else vmax
    h = ns.histograms.add()
    h.type = statistics_pb2.Histogram.QUANTILES
    for lo, hi, c in buckets:
        b = h.buckets.add()
        b.low_value, b.high_value, b.sample_count = lo, hi, c
    return f


def _edge_pair():
    """Statistics the generators above do not make: overlapping buckets, open inf buckets."""
    out = []
    for side in (0, 1):
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        ds = stats.datasets.add()
        ds.num_examples = 100
        s = float(side)
        # Overlapping buckets: CDF knots not sorted (the batch kernels hand these over to
        # the per-feature functions).
        _numeric_feature(
            ds, "overlap", [(0.0, 10.0, 40), (5.0 + s, 6.0 + s, 30), (6.0, 20.0, 30)], 8.0, 5.0
        )
        # An open (q, inf] bucket without exact counts: not evaluable.
        _numeric_feature(
            ds, "open_inf", [(0.0, 1.0, 50), (1.0, math.inf, 50)], math.inf, math.nan, 0.0, math.inf
        )
        # NaN mean/std in the statistics.
        _numeric_feature(
            ds, "nan_moments", [(0.0, 1.0 + s, 50), (1.0 + s, 3.0, 50)], math.nan, math.nan
        )
        # A plain one, so every batch holds a mix of batchable and per-feature pairs.
        _numeric_feature(
            ds, "plain", [(float(i) + s, float(i + 1) + s, 10) for i in range(10)], 5.0 + s, 2.9
        )
        out.append(stats)
    return out


@pytest.mark.parametrize("numeric", NUMERIC_METHODS)
def test_edge_statistics_agree(numeric):
    base, cur = _edge_pair()
    fast, _ = both_paths(base, cur, DriftConfig(numeric_method=numeric))
    assert fast.feature("open_inf").status == NOT_EVALUATED
    assert fast.feature("overlap").status == "ok" and fast.feature("plain").status == "ok"
    both_paths(base, cur, DriftConfig(numeric_method=numeric, categorical_features=["plain"]))


@pytest.fixture
def restore_registry():
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


def _mean_shift(b, c):
    return abs(c.mean - b.mean) / (b.std or 1.0), None


def test_custom_method_without_batch_runs_per_feature(restore_registry, synthetic_stats):
    calls = []

    def counted(b, c):
        calls.append(b.name)
        return _mean_shift(b, c)

    register_method(DriftMethod("mean_shift", {"numeric"}, "distance", 0.5, counted))
    config = DriftConfig(numeric_method="mean_shift")
    fast, ref = both_paths(*synthetic_stats, config)
    numeric = [f.name for f in fast.features if f.method == "mean_shift"]
    assert numeric and sorted(calls) == sorted(numeric * 2)  # once per path
    assert fast.feature("mean_shift").drifted


def test_custom_method_with_batch_kernel(restore_registry, synthetic_stats):
    seen = []

    def batch(pairs):
        seen.append(len(pairs))
        return [_mean_shift(b, c)[0] for b, c in pairs], None

    register_method(
        DriftMethod("mean_shift", {"numeric"}, "distance", 0.5, _mean_shift, batch=batch)
    )
    fast, _ = both_paths(*synthetic_stats, DriftConfig(numeric_method="mean_shift"))
    assert seen == [sum(1 for f in fast.features if f.method == "mean_shift")]


def test_replacing_a_builtin_by_name_drops_its_batch_kernel(restore_registry, synthetic_stats):
    """A user method registered as "ks" is used on both paths (no stale built-in kernel)."""
    register_method(DriftMethod("ks", {"numeric"}, "p_value", 0.05, lambda b, c: (0.5, 0.5)))
    fast, _ = both_paths(*synthetic_stats, DriftConfig(numeric_method="ks"))
    assert {f.p_value for f in fast.features if f.method == "ks"} == {0.5}


def test_batch_kernel_nonfinite_is_not_evaluated(restore_registry, synthetic_stats):
    def batch(pairs):
        return [math.nan] * len(pairs), None

    register_method(
        DriftMethod("nan_dist", {"numeric"}, "distance", 0.1, lambda b, c: math.nan, batch=batch)
    )
    fast, _ = both_paths(*synthetic_stats, DriftConfig(numeric_method="nan_dist"))
    tried = [f for f in fast.features if f.method == "nan_dist"]
    assert tried and all(f.status == NOT_EVALUATED and f.value is None for f in tried)
    assert not any(f.drifted for f in tried)
    assert fast.dataset_drifted and fast.fails_closed  # never "no drift"


def test_batch_kernel_returning_the_wrong_length_is_an_error(restore_registry, synthetic_stats):
    register_method(
        DriftMethod(
            "short", {"numeric"}, "distance", 0.1, _mean_shift, batch=lambda pairs: ([0.1], None)
        )
    )
    with pytest.raises(InvalidInputError, match="batch returned 1 statistics"):
        compare_statistics(*synthetic_stats, DriftConfig(numeric_method="short"))


def test_batch_must_be_callable():
    with pytest.raises(InvalidInputError, match="batch must be callable"):
        DriftMethod("x", {"numeric"}, "distance", 0.1, _mean_shift, batch=3)


def test_js_of_nearly_equal_shares_is_finite_and_bitwise_equal_in_batch():
    """Rounding can make the JS divergence of nearly equal shares slightly negative: scipy's
    jensenshannon then returns NaN (which would fail the verdict closed); ours returns ~0,
    and the batch kernel gives the same bits as the per-feature function."""
    from scipy.spatial.distance import jensenshannon

    from tfx_addons_lab.drift.batch import Segments
    from tfx_addons_lab.drift.methods import _js_kernel, js_distance

    rng = np.random.default_rng(11)
    scipy_nan = 0
    for _ in range(300):
        n = int(rng.integers(2, 300))
        p = rng.random(n)
        q = p * (1 + 1e-12 * rng.standard_normal(n))
        other = rng.random(int(rng.integers(1, 40)))
        seg = Segments.of([other, p])
        batch = _js_kernel(seg.values, Segments.of([other, q]).values, seg)[1]
        value = js_distance(p, q)
        assert math.isfinite(value) and value < 1e-5
        assert batch == value
        with np.errstate(invalid="ignore"):
            ref = jensenshannon(p, q, base=2)
        if math.isnan(ref):
            scipy_nan += 1
        else:
            assert abs(ref**2 - value**2) <= 1e-15
    assert scipy_nan > 0  # the case this guards against does occur


# ------------------------------------------------- distributions built together (batch)
def assert_same_distributions(dataset):
    """``distributions_from_features`` equals ``distribution_from_feature`` per feature."""
    from tfx_addons_lab.drift.distributions import (
        distribution_from_feature,
        distributions_from_features,
    )

    got = distributions_from_features(dataset.features, dataset.num_examples)
    ref = [distribution_from_feature(f, dataset.num_examples) for f in dataset.features]
    assert len(got) == len(ref)
    for g, r in zip(got, ref, strict=True):
        assert_same(g.summary(), r.summary(), g.name)
        assert (g.counts, g.truncated, g.unique) == (r.counts, r.truncated, r.unique)
        assert (g.nonfinite_note, g.not_evaluable) == (r.nonfinite_note, r.not_evaluable)
        assert_same(g.tail_means, r.tail_means, f"{g.name}.tail_means")
        assert_same(g.cdf_x.tolist(), r.cdf_x.tolist(), f"{g.name}.cdf_x")
        assert_same(g.cdf_p.tolist(), r.cdf_p.tolist(), f"{g.name}.cdf_p")
        assert_same(g.distinct_values(), r.distinct_values(), f"{g.name}.distinct")
        for limit in (1, 2, MAX_DISCRETE_VALUES, 10):
            g_few, r_few = g.distinct_values_up_to(limit), r.distinct_values_up_to(limit)
            assert (g_few is None) == (r_few is None), (g.name, limit)
            if g_few is not None:
                assert_same(g_few, r_few, f"{g.name}.distinct_values_up_to({limit})")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pair=statistics_pair())
def test_distributions_built_together_equal_one_by_one(pair):
    for stats in pair:
        assert_same_distributions(stats.datasets[0])


def test_edge_distributions_built_together_equal_one_by_one():
    for stats in _edge_pair():
        assert_same_distributions(stats.datasets[0])
    # Heavy tails (both tails solved from mean and std; one tail from the mean only).
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "lognormal": rng.lognormal(0.0, 1.5, 5000),
            "normal": rng.normal(0.0, 1.0, 5000),
            "pareto": rng.pareto(1.5, 5000),
            "gapped": np.concatenate([rng.uniform(0, 1, 2500), rng.uniform(10, 11, 2500)]),
        }
    )
    assert_same_distributions(fast_statistics_from_dataframe(df).datasets[0])

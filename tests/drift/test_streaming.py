"""The streaming CSV statistics pass against the in-memory engine and scipy on raw rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tfx_addons_lab.drift import DriftConfig, compare_statistics
from tfx_addons_lab.drift.fast_stats import fast_statistics_from_dataframe, read_csv_table
from tfx_addons_lab.drift.streaming import APPROXIMATE, streaming_statistics_from_csv
from tfx_addons_lab.errors import InvalidInputError


def _features(stats_list):
    return {f.path.step[0]: f for f in stats_list.datasets[0].features}


def _write(tmp_path, name, frame) -> str:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 6000
    with_nan = rng.normal(5, 2, n)
    with_nan[rng.random(n) < 0.1] = np.nan
    text = rng.choice(["a", "b", "ccc", "zz"], n).astype(object)
    text[rng.random(n) < 0.05] = None
    frame = pd.DataFrame(
        {
            "ints": rng.poisson(30, n),
            "floats": rng.lognormal(0, 1.5, n),
            "with_nan": with_nan,
            "flags": rng.random(n) < 0.3,
            "text": text,
            "zeros": np.where(rng.random(n) < 0.5, 0.0, rng.normal(0, 1, n)),
            "when": pd.date_range("2013-01-01", periods=n, freq="h").astype(str),
            "nothing": [None] * n,
        }
    )
    return _write(tmp_path_factory.mktemp("mixed"), "mixed.csv", frame)


def test_small_file_is_exactly_the_in_memory_statistics(mixed_csv):
    """Below the exact limits the streaming pass writes the very same proto."""
    streamed = streaming_statistics_from_csv(mixed_csv, name="m", block_size=1 << 14)
    in_memory = fast_statistics_from_dataframe(read_csv_table(mixed_csv), name="m")
    assert streamed.rows == 6000 and streamed.columns == 8
    assert not streamed.approximations and not streamed.sketched
    a, b = _features(streamed.statistics), _features(in_memory)
    assert list(a) == list(b)
    for name, f in b.items():
        g = a[name]
        if f.HasField("string_stats"):  # avg_length: a sum of batches vs one mean
            assert g.string_stats.avg_length == pytest.approx(f.string_stats.avg_length)
            g.string_stats.avg_length = f.string_stats.avg_length
        if f.HasField("num_stats"):  # mean/std: the same numbers summed in another order
            assert g.num_stats.mean == pytest.approx(f.num_stats.mean, rel=1e-12)
            assert g.num_stats.std_dev == pytest.approx(f.num_stats.std_dev, rel=1e-12)
            g.num_stats.mean, g.num_stats.std_dev = f.num_stats.mean, f.num_stats.std_dev
        assert g == f, name


def _heavy_frames(seed: int, n: int):
    rng = np.random.default_rng(seed)

    def frame(shift):
        return pd.DataFrame(
            {
                "cauchy": rng.standard_cauchy(n) + shift,
                "lognormal": rng.lognormal(shift, 3.0, n),
                "pareto": (rng.pareto(1.1, n) + 1) * (1 + shift),
                "ties": rng.choice([0, 1, 2, 3, 4], n, p=[0.5, 0.2, 0.1, 0.1, 0.1]) + shift,
                "zero_inflated": np.where(rng.random(n) < 0.6 - shift / 4, 0.0, rng.gamma(2, 3, n)),
                "rounded": np.round(rng.normal(shift, 1, n), 1),
            }
        )

    return frame(0.0), frame(0.3)


@pytest.mark.parametrize("seed", [0, 1])
def test_sketched_ks_and_wasserstein_match_scipy_on_raw_rows(tmp_path, seed):
    """Every numeric column sketched (no exact limits): the 0.02 contract against scipy."""
    a, b = _heavy_frames(seed, 40_000)
    pa_, pb = _write(tmp_path, "a.csv", a), _write(tmp_path, "b.csv", b)
    sa = streaming_statistics_from_csv(pa_, exact_values=0, distinct_values=0, block_size=1 << 16)
    sb = streaming_statistics_from_csv(pb, exact_values=0, distinct_values=0, block_size=1 << 16)
    assert sorted(sa.sketched) == sorted(a.columns)
    feature = _features(sa.statistics)["cauchy"]
    assert any(c.name == APPROXIMATE for c in feature.custom_stats)
    ks = compare_statistics(sa.statistics, sb.statistics, DriftConfig(numeric_method="ks"))
    ws = compare_statistics(sa.statistics, sb.statistics, DriftConfig(numeric_method="wasserstein"))
    for col in a.columns:
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        assert abs(ks.feature(col).statistic - stats.ks_2samp(x, y).statistic) <= 0.02, col
        if col in ("cauchy", "pareto", "lognormal"):
            continue  # no finite variance: scipy's normalised distance is not a reference
        ref = stats.wasserstein_distance(x, y) / np.std(x)
        assert abs(ws.feature(col).value - ref) <= 0.02, col


@pytest.mark.parametrize("seed", [0, 1])
def test_wide_file_budget_compacts_within_the_contract(tmp_path, seed):
    """Past its share of kept_values (a wide file) a column goes to the compactor: the 0.02
    contract against scipy, flagged as sketched, the exact fields still exact."""
    a, b = _heavy_frames(seed, 40_000)
    a.loc[::9, "rounded"] = np.nan
    pa_, pb = _write(tmp_path, "a.csv", a), _write(tmp_path, "b.csv", b)
    # 6 numeric columns share 6 kept values: MIN_KEPT each, then the compactor.
    sa = streaming_statistics_from_csv(pa_, kept_values=6, distinct_values=0, block_size=1 << 16)
    sb = streaming_statistics_from_csv(pb, kept_values=6, distinct_values=0, block_size=1 << 16)
    assert sorted(sa.sketched) == sorted(a.columns)
    feats = _features(sa.statistics)
    assert any(c.name == APPROXIMATE for c in feats["cauchy"].custom_stats)
    ks = compare_statistics(sa.statistics, sb.statistics, DriftConfig(numeric_method="ks"))
    ws = compare_statistics(sa.statistics, sb.statistics, DriftConfig(numeric_method="wasserstein"))
    for col in a.columns:
        x, y = a[col].dropna().to_numpy(float), b[col].to_numpy(float)
        assert abs(ks.feature(col).statistic - stats.ks_2samp(x, y).statistic) <= 0.02, col
        ns = feats[col].num_stats
        assert ns.common_stats.num_non_missing == len(x), col
        assert ns.min == x.min() and ns.max == x.max(), col
        for h in ns.histograms:
            assert sum(b.sample_count for b in h.buckets) == pytest.approx(len(x)), col
        if col in ("cauchy", "pareto", "lognormal"):
            continue  # no finite variance: scipy's normalised distance is not a reference
        ref = stats.wasserstein_distance(x, y) / np.std(x)
        assert abs(ws.feature(col).value - ref) <= 0.02, col


def test_wide_budget_counted_column_outgrowing_distinct_values_compacts(tmp_path):
    """A counted column of a wide file that outgrows distinct_values continues in the
    compactor (not tfx_bsl's sketch) with every count carried over."""
    rng = np.random.default_rng(3)
    n = 20_000
    x = np.where(np.arange(n) < n // 2, rng.integers(0, 5, n), rng.normal(0, 1, n).round(3))
    path = _write(tmp_path, "late.csv", pd.DataFrame({"x": x}))
    result = streaming_statistics_from_csv(
        path, kept_values=1, distinct_values=50, block_size=1 << 14
    )
    assert result.sketched == ["x"]
    ns = _features(result.statistics)["x"].num_stats
    for h in ns.histograms:
        assert sum(b.sample_count for b in h.buckets) == pytest.approx(n)
    assert abs(np.mean(x <= ns.median) - 0.5) <= 0.01


def test_wide_budget_leaves_small_and_counted_columns_exact(mixed_csv):
    """A budget below the file's values still writes the in-memory proto for columns that fit
    MIN_KEPT or DISTINCT_VALUES (the ints, flags and zeros of the mixed file are counted)."""
    tight = streaming_statistics_from_csv(mixed_csv, name="m", kept_values=1)
    loose = streaming_statistics_from_csv(mixed_csv, name="m")
    a, b = _features(tight.statistics), _features(loose.statistics)
    for name in ("ints", "flags", "text", "nothing"):
        assert a[name] == b[name], name


def test_counted_columns_are_exactly_the_in_memory_statistics(tmp_path):
    """Past the kept values, a column of few distinct values is counted value by value: the
    proto is still the in-memory engine's (histograms, median), whatever the row count."""
    rng = np.random.default_rng(8)
    n = 30_000
    few = rng.choice([-2.5, 0.0, 1.0, 7.25, np.inf], n, p=[0.2, 0.3, 0.3, 0.199, 0.001])
    few[rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame(
        {
            "hour": rng.integers(5, 24, n),
            "few": few,
            "temp": np.round(rng.normal(50, 20, n), 1),  # one decimal: dense counts
            "wide_ints": rng.integers(-20_000, 20_000, n),  # dense, grown as values arrive
            # Whole numbers first (dense), then three decimals: back to sorted look-ups.
            "late": np.where(np.arange(n) < n // 2, 1.0, np.round(rng.random(n) * 2, 3)),
        }
    )
    path = _write(tmp_path, "few.csv", frame)
    streamed = streaming_statistics_from_csv(path, exact_values=500, block_size=1 << 13)
    assert not streamed.sketched
    in_memory = fast_statistics_from_dataframe(read_csv_table(path))
    a, b = _features(streamed.statistics), _features(in_memory)
    for name, f in b.items():
        g = a[name]
        assert g.num_stats.mean == pytest.approx(f.num_stats.mean, rel=1e-12), name
        if math.isfinite(f.num_stats.std_dev):
            assert g.num_stats.std_dev == pytest.approx(f.num_stats.std_dev, rel=1e-9), name
        else:  # NaN on both sides (an infinite value): NaN != NaN in a proto comparison
            assert math.isnan(g.num_stats.std_dev), name
        g.num_stats.mean = f.num_stats.mean
        g.num_stats.std_dev = f.num_stats.std_dev = 0.0
        assert g == f, name
    # More distinct values than the counting limit: the column moves on to the sketch.
    moved = streaming_statistics_from_csv(
        path, exact_values=500, distinct_values=100, block_size=1 << 13
    )
    assert sorted(moved.sketched) == ["late", "temp", "wide_ints"]  # hour, few: <= 100 values
    late = _features(moved.statistics)["late"].num_stats
    x = frame["late"].to_numpy(float)
    for h in late.histograms:
        assert sum(b.sample_count for b in h.buckets) == pytest.approx(n)
    assert np.mean(x < late.median) <= 0.51 and np.mean(x <= late.median) >= 0.49


def test_sketched_exact_fields_match_the_raw_rows(tmp_path):
    a, _ = _heavy_frames(2, 30_000)
    a.loc[::7, "rounded"] = np.nan
    path = _write(tmp_path, "a.csv", a)
    result = streaming_statistics_from_csv(path, exact_values=100, distinct_values=0)
    feats = _features(result.statistics)
    for col in a.columns:
        x = a[col].dropna().to_numpy(float)
        ns = feats[col].num_stats
        assert ns.common_stats.num_non_missing == len(x), col
        assert ns.common_stats.num_missing == len(a) - len(x), col
        assert ns.min == x.min() and ns.max == x.max(), col
        assert ns.mean == pytest.approx(x.mean(), rel=1e-9), col
        assert ns.std_dev == pytest.approx(x.std(), rel=1e-9), col
        assert ns.num_zeros == int((x == 0).sum()), col
        # A median: at most half (+ the sketch's error) below it, at least half up to it.
        assert np.mean(x < ns.median) <= 0.51 and np.mean(x <= ns.median) >= 0.49, col
        for h in ns.histograms:
            assert sum(b.sample_count for b in h.buckets) == pytest.approx(len(x)), col
    assert feats["rounded"].type == feats["rounded"].FLOAT


def test_categorical_counts_exact_within_the_limit_and_flagged_beyond(tmp_path):
    rng = np.random.default_rng(4)
    n = 20_000
    frame = pd.DataFrame(
        {
            "few": rng.choice([f"c{i}" for i in range(40)], n),
            "many": [f"id{i}" for i in rng.integers(0, 5000, n)],
        }
    )
    path = _write(tmp_path, "cats.csv", frame)
    result = streaming_statistics_from_csv(path, category_limit=100, block_size=1 << 14)
    feats = _features(result.statistics)
    truth = frame["few"].value_counts()
    few = feats["few"].string_stats
    assert few.unique == 40
    assert {b.label: b.sample_count for b in few.rank_histogram.buckets} == {
        k: float(v) for k, v in truth.items()
    }
    assert not any(c.name == APPROXIMATE for c in feats["few"].custom_stats)
    # Over the limit: said in the result and in the proto, never silent.
    assert len(result.approximations) == 1 and "'many'" in result.approximations[0]
    assert "estimates" in result.approximations[0]
    assert any(c.name == APPROXIMATE for c in feats["many"].custom_stats)
    true_unique = frame["many"].nunique()
    assert abs(feats["many"].string_stats.unique - true_unique) <= 0.1 * true_unique


def test_a_later_block_widens_the_column_type(tmp_path):
    """pyarrow infers types from the first block; a later misfit re-reads, as pandas types it."""
    n = 5000
    ints = [str(i % 97) for i in range(n)]
    late_float, late_text = list(ints), list(ints)
    late_float[-1] = "1.5"
    late_text[-1] = "abc"
    path = tmp_path / "late.csv"
    path.write_text(
        "f,t\n" + "".join(f"{x},{y}\n" for x, y in zip(late_float, late_text, strict=True))
    )
    feats = _features(streaming_statistics_from_csv(str(path), block_size=1 << 12).statistics)
    frame = pd.read_csv(path)
    assert feats["f"].type == feats["f"].FLOAT
    assert feats["f"].num_stats.mean == pytest.approx(frame["f"].mean())
    assert feats["t"].type == feats["t"].STRING
    assert feats["t"].string_stats.unique == frame["t"].nunique()


def test_unreadable_and_empty_csv_raise_typed_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    with pytest.raises(InvalidInputError, match="no rows"):
        streaming_statistics_from_csv(str(empty))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(InvalidInputError, match="ragged.csv"):
        streaming_statistics_from_csv(str(ragged))
    with pytest.raises(InvalidInputError, match="quantile_buckets"):
        streaming_statistics_from_csv(str(ragged), quantile_buckets=0)


def test_infinite_values_count_in_moments_not_histograms(tmp_path):
    n = 2000
    x = np.linspace(-1, 1, n)
    x[:3] = math.inf
    path = _write(tmp_path, "inf.csv", pd.DataFrame({"x": x, "y": np.arange(n)}))
    result = streaming_statistics_from_csv(path, exact_values=10, distinct_values=0)
    ns = _features(result.statistics)["x"].num_stats
    assert ns.max == math.inf and ns.mean == math.inf and math.isnan(ns.std_dev)
    for h in ns.histograms:
        assert sum(b.sample_count for b in h.buckets) == pytest.approx(n - 3)


def test_compactor_with_missing_and_infinite_values_keeps_exact_fields(tmp_path):
    """The wide-file compactor fed columns with nulls, ``nan`` literals and infinities (in the
    kept values sorted at the switch and in later batches): the exact fields are the raw
    rows', the histograms hold every finite value, ``ks`` is within 0.02 of scipy."""
    rng = np.random.default_rng(11)
    n = 30_000

    def column(shift):
        x = rng.normal(shift, 1, n).round(4)
        x[rng.random(n) < 0.002] = np.inf
        x[rng.random(n) < 0.002] = -np.inf
        return x

    a, b = column(0.0), column(0.2)
    # repr of a Python float (numpy 2 writes np.float64(...) for a numpy one)
    text = [repr(float(v)) if math.isfinite(v) else ("inf" if v > 0 else "-inf") for v in a]
    for i in range(0, n, 13):
        text[i] = ""  # null
    for i in range(5, n, 17):
        text[i] = "nan"  # a NaN literal: missing too
    path_a = tmp_path / "a.csv"
    path_a.write_text("x,y\n" + "".join(f"{v},{i % 7}\n" for i, v in enumerate(text)))
    path_b = _write(tmp_path, "b.csv", pd.DataFrame({"x": b, "y": np.arange(n) % 7}))
    sa = streaming_statistics_from_csv(str(path_a), kept_values=2, block_size=1 << 15)
    sb = streaming_statistics_from_csv(path_b, kept_values=2, block_size=1 << 15)
    assert sa.sketched == ["x"] and sb.sketched == ["x"]
    x = pd.read_csv(path_a)["x"].dropna().to_numpy(float)
    finite = x[np.isfinite(x)]
    ns = _features(sa.statistics)["x"].num_stats
    assert ns.common_stats.num_non_missing == len(x)
    assert ns.min == -np.inf and ns.max == np.inf
    assert ns.num_zeros == int((x == 0).sum())
    for h in ns.histograms:
        assert sum(c.sample_count for c in h.buckets) == pytest.approx(len(finite))
    ks = compare_statistics(sa.statistics, sb.statistics, DriftConfig(numeric_method="ks"))
    ref = stats.ks_2samp(finite, b[np.isfinite(b)]).statistic
    assert abs(ks.feature("x").statistic - ref) <= 0.02


def test_two_passes_in_threads_give_the_sequential_statistics(tmp_path, mixed_csv):
    """The CLI runs BASELINE's and CURRENT's passes in two threads that take turns feeding
    their columns (``_FEED_LOCK``): each result is byte for byte the one-at-a-time result,
    on a file that compacts (many gathered batches) and on the mixed file."""
    from concurrent.futures import ThreadPoolExecutor

    a, _ = _heavy_frames(3, 30_000)
    heavy = _write(tmp_path, "heavy.csv", a)
    kwargs = {"kept_values": 6, "block_size": 1 << 14}
    alone = [
        streaming_statistics_from_csv(p, **kwargs).statistics.SerializeToString()
        for p in (heavy, mixed_csv)
    ]
    for _ in range(3):
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [
                pool.submit(streaming_statistics_from_csv, p, **kwargs) for p in (heavy, mixed_csv)
            ]
            together = [f.result().statistics.SerializeToString() for f in futures]
        assert together == alone

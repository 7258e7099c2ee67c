"""Merge several TFDV statistics of the same split into one baseline (rolling windows).

:func:`merge_statistics` combines the ``DatasetFeatureStatistics`` of several spans as if
they had been computed on the concatenated rows:

* exact: ``num_examples``, ``weighted_num_examples``, ``num_missing``, ``num_non_missing``,
  ``tot_num_values``, ``min/max/avg_num_values``, ``num_zeros``, ``min``, ``max``, ``mean``
  and ``std_dev`` (pooled: TFDV's population standard deviation combined through the sums
  of squares), histogram ``num_nan``/``num_undefined``, string ``avg_length`` (weighted by
  the number of values) and category counts while every side lists every category;
* re-derived: ``QUANTILES`` histograms (and ``num_values_histogram``) are rebuilt from the
  mixture of the per-span CDFs (each piecewise linear within its buckets, a zero-width
  bucket being a point mass), weighted by the spans' counts, then cut again into the same
  number of equal-mass buckets; ``STANDARD`` histograms are re-bucketed over the merged
  ``[min, max]`` from the same mixture (each span's mass read from its finest histogram,
  usually the quantiles one); ``median`` is the mixture's median. These are as
  accurate as the inputs' buckets (about 1/buckets of the mass).
* flagged: when a side lists only its top categories (``rank_histogram``/``top_values``
  holding fewer values than the feature has), the merged counts are lower bounds for the
  categories it did not list; the merged category counts then add up to less than the
  number of values (so the comparison sees them as truncated) and a note says so. The
  merged ``unique`` is exact only when every side lists all its categories; otherwise it is
  a lower bound (the largest of the sides and the listed union) and a note says why.

Weighted statistics (``weighted_*``, produced only with an example weight) are dropped with a
note. Statistics that cannot be merged (a feature that is numeric in one span and a string in
another, no dataset) raise :class:`BaselineMergeError`: a baseline that cannot be built is a
reported reason, never "no drift".

No TFX import: only numpy and tensorflow_metadata protos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from tfx_addons_lab.errors import InvalidInputError

__all__ = ["BaselineMergeError", "MergedStatistics", "merge_statistics", "mixture_quantiles"]


class BaselineMergeError(InvalidInputError):
    """Several baseline statistics could not be merged into one (the message says why)."""


@dataclass
class MergedStatistics:
    """Result of :func:`merge_statistics`.

    Attributes:
      statistics: a ``DatasetFeatureStatisticsList`` holding the one merged dataset.
      notes: what is not exact in the merge, one line each (``feature: reason``), e.g. a
        side's truncated category list; empty when everything is exact or re-derived from
        the histograms as documented.
      sources: the names of the merged statistics, in the order given.
    """

    statistics: object
    notes: List[str] = field(default_factory=list)
    sources: List[str] = field(default_factory=list)


Bucket = Tuple[float, float, float]


def _dataset(stats, name: str):
    from tensorflow_metadata.proto.v0 import statistics_pb2

    if isinstance(stats, statistics_pb2.DatasetFeatureStatistics):
        return stats
    if isinstance(stats, statistics_pb2.DatasetFeatureStatisticsList):
        if len(stats.datasets) != 1:
            raise BaselineMergeError(
                f"baseline statistics {name!r} hold {len(stats.datasets)} datasets; merging "
                "needs exactly one per span (one split of an ExampleStatistics artifact)"
            )
        return stats.datasets[0]
    raise BaselineMergeError(
        f"baseline statistics {name!r} are a {type(stats).__name__}, not TFDV statistics"
    )


def _key(feature) -> str:
    if feature.HasField("path"):
        return ".".join(feature.path.step)
    return feature.name


# ----------------------------------------------------------------------------- CDF mixture
def _cdf(buckets: Sequence[Bucket], xs: np.ndarray, side: str) -> np.ndarray:
    """Mass at or below (``right``) / strictly below (``left``) ``xs`` of uniform buckets."""
    out = np.zeros(len(xs))
    for lo, hi, c in buckets:
        if c <= 0:
            continue
        if hi > lo:
            out += c * np.clip((xs - lo) / (hi - lo), 0.0, 1.0)
        elif side == "right":
            out += c * (xs >= lo)
        else:
            out += c * (xs > lo)
    return out


def mixture_quantiles(parts: Sequence[Sequence[Bucket]], probs: Sequence[float]) -> np.ndarray:
    """Quantiles at ``probs`` of the mixture of bucketed distributions.

    ``parts`` holds, per source, buckets ``(low, high, count)``: mass ``count`` spread
    uniformly on ``[low, high]`` (a point mass when ``low == high``). The mixture weights
    are the counts themselves, so a span with twice the values weighs twice as much.
    """
    buckets = [b for part in parts for b in part if b[2] > 0]
    probs = np.asarray(probs, dtype=float)
    if not buckets:
        return np.full(len(probs), np.nan)
    knots = np.unique([v for lo, hi, _ in buckets for v in (lo, hi)])
    total = sum(c for _, _, c in buckets)
    left = _cdf(buckets, knots, "left") / total
    right = _cdf(buckets, knots, "right") / total
    out = np.empty(len(probs))
    for i, u in enumerate(probs):
        j = int(np.searchsorted(right, u - 1e-12, side="left"))
        j = min(j, len(knots) - 1)
        # Knot j is the first whose right value reaches u; u either falls in its jump or on
        # the linear piece between knot j-1 and knot j.
        if j == 0 or left[j] <= u + 1e-12:
            out[i] = knots[j]
        else:
            lo_p, hi_p = right[j - 1], left[j]
            t = 0.0 if hi_p <= lo_p else (u - lo_p) / (hi_p - lo_p)
            out[i] = knots[j - 1] + min(max(t, 0.0), 1.0) * (knots[j] - knots[j - 1])
    return out


def _buckets_of(histogram) -> List[Bucket]:
    return [
        (float(b.low_value), float(b.high_value), max(float(b.sample_count), 0.0))
        for b in histogram.buckets
    ]


def _all_finite(buckets: Sequence[Bucket]) -> bool:
    return all(math.isfinite(lo) and math.isfinite(hi) for lo, hi, _ in buckets)


def _merge_quantiles(out, histograms, n_buckets: int) -> None:
    """Fill ``out`` (a QUANTILES Histogram) with ``n_buckets`` equal-mass buckets."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    parts = [_buckets_of(h) for h in histograms]
    total = sum(c for part in parts for _, _, c in part)
    out.type = statistics_pb2.Histogram.QUANTILES
    out.num_nan = sum(int(h.num_nan) for h in histograms)
    out.num_undefined = sum(int(h.num_undefined) for h in histograms)
    if total <= 0 or n_buckets <= 0:
        return
    edges = mixture_quantiles(parts, np.linspace(0.0, 1.0, n_buckets + 1))
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        b = out.buckets.add()
        b.low_value, b.high_value, b.sample_count = float(lo), float(hi), total / n_buckets


def _merge_standard(out, histograms, n_buckets: int, vmin: float, vmax: float) -> None:
    """Fill ``out`` (a STANDARD Histogram) with equal-width buckets over ``[vmin, vmax]``."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    parts = [_buckets_of(h) for h in histograms]
    buckets = [b for part in parts for b in part]
    out.type = statistics_pb2.Histogram.STANDARD
    out.num_nan = sum(int(h.num_nan) for h in histograms)
    out.num_undefined = sum(int(h.num_undefined) for h in histograms)
    total = sum(c for _, _, c in buckets)
    if total <= 0 or n_buckets <= 0:
        return
    if vmax <= vmin:
        b = out.buckets.add()
        b.low_value, b.high_value, b.sample_count = float(vmin), float(vmax), total
        return
    edges = np.linspace(vmin, vmax, n_buckets + 1)
    mass = _cdf(buckets, edges, "right")
    counts = np.diff(mass)
    counts[0] += mass[0]  # the mass at vmin belongs to the first bucket
    for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True):
        b = out.buckets.add()
        b.low_value, b.high_value, b.sample_count = float(lo), float(hi), float(max(c, 0.0))


def _finest(histograms) -> List[Tuple[object, object]]:
    """``(histogram, mass source)`` per histogram: the mass of a span is read from its finest
    finite histogram (usually the 100-bucket QUANTILES one), whatever type is being merged."""
    finite = [h for h in histograms if h.buckets and _all_finite(_buckets_of(h))]
    best = max(finite, key=lambda h: len(h.buckets), default=None)
    return [(h, best if best is not None else h) for h in histograms]


def _merge_histogram_list(out_list, in_lists, notes: List[str], where: str, vmin, vmax) -> None:
    """Merge repeated ``Histogram`` fields: one merged histogram per type present.

    ``in_lists`` holds, per span, ``(histogram, mass source)`` pairs (see :func:`_finest`).
    """
    from tensorflow_metadata.proto.v0 import statistics_pb2

    for htype in (statistics_pb2.Histogram.STANDARD, statistics_pb2.Histogram.QUANTILES):
        pairs = [pair for hs in in_lists for pair in hs if pair[0].type == htype]
        if not pairs:
            continue
        hists = [h for h, _ in pairs]
        sources = [src for _, src in pairs]
        if not all(_all_finite(_buckets_of(h)) for h in sources):
            name = statistics_pb2.Histogram.HistogramType.Name(htype)
            notes.append(
                f"{where}: {name} histogram not merged (a bucket bound is infinite, so the "
                "mass cannot be spread); the feature cannot be compared"
            )
            continue
        n = max(len(h.buckets) for h in hists)
        merged = out_list.add()
        if htype == statistics_pb2.Histogram.QUANTILES:
            _merge_quantiles(merged, sources, n)
        else:
            _merge_standard(merged, sources, n, vmin, vmax)
        merged.num_nan = sum(int(h.num_nan) for h in hists)
        merged.num_undefined = sum(int(h.num_undefined) for h in hists)


# ----------------------------------------------------------------------------- common stats
def _merge_common(out, commons: Sequence, absent_examples: float, notes, where) -> None:
    present = [c for c in commons if c.num_non_missing > 0]
    out.num_non_missing = sum(int(c.num_non_missing) for c in commons)
    out.num_missing = int(sum(int(c.num_missing) for c in commons) + absent_examples)
    out.tot_num_values = sum(int(c.tot_num_values) for c in commons)
    if present:
        out.min_num_values = min(int(c.min_num_values) for c in present)
        out.max_num_values = max(int(c.max_num_values) for c in present)
    if out.num_non_missing:
        out.avg_num_values = float(out.tot_num_values) / float(out.num_non_missing)
    hists = [c.num_values_histogram for c in commons if c.HasField("num_values_histogram")]
    hists = [h for h in hists if len(h.buckets)]
    if hists and all(_all_finite(_buckets_of(h)) for h in hists):
        _merge_quantiles(out.num_values_histogram, hists, max(len(h.buckets) for h in hists))
    if any(c.HasField("weighted_common_stats") for c in commons):
        notes.append(f"{where}: weighted statistics dropped (not merged)")


def _numeric_count(ns) -> float:
    """Values that entered TFDV's mean/std: every value but the NaNs."""
    nan = max((int(h.num_nan) for h in ns.histograms), default=0)
    return max(float(ns.common_stats.tot_num_values) - nan, 0.0)


def _merge_num(out, stats: Sequence, absent: float, notes: List[str], where: str) -> None:
    _merge_common(out.common_stats, [s.common_stats for s in stats], absent, notes, where)
    weights = [_numeric_count(s) for s in stats]
    total = sum(weights)
    with_values = [s for s, w in zip(stats, weights, strict=True) if w > 0]
    out.num_zeros = sum(int(s.num_zeros) for s in stats)
    if total > 0:
        mean = sum(w * float(s.mean) for s, w in zip(stats, weights, strict=True)) / total
        second = (
            sum(
                w * (float(s.std_dev) ** 2 + float(s.mean) ** 2)
                for s, w in zip(stats, weights, strict=True)
            )
            / total
        )
        out.mean = mean
        out.std_dev = math.sqrt(max(second - mean * mean, 0.0)) if math.isfinite(second) else second
        out.min = min(float(s.min) for s in with_values)
        out.max = max(float(s.max) for s in with_values)
    _merge_histogram_list(
        out.histograms, [_finest(s.histograms) for s in stats], notes, where, out.min, out.max
    )
    quantiles = [
        _buckets_of(h) for s in stats for h in s.histograms if h.type == h.QUANTILES and h.buckets
    ]
    if quantiles and all(_all_finite(q) for q in quantiles) and total > 0:
        out.median = float(mixture_quantiles(quantiles, [0.5])[0])
    if any(s.HasField("weighted_numeric_stats") for s in stats):
        notes.append(f"{where}: weighted numeric statistics dropped (not merged)")


def _category_counts(ss) -> Tuple[Dict[str, float], bool]:
    """(counts per category, complete?) of one side's string statistics."""
    counts: Dict[str, float] = {}
    if len(ss.rank_histogram.buckets):
        for b in ss.rank_histogram.buckets:
            counts[b.label] = counts.get(b.label, 0.0) + float(b.sample_count)
    else:
        for tv in ss.top_values:
            counts[tv.value] = counts.get(tv.value, 0.0) + float(tv.frequency)
    values = float(ss.common_stats.tot_num_values or ss.common_stats.num_non_missing)
    complete = sum(counts.values()) + 1e-9 >= values and (not ss.unique or ss.unique <= len(counts))
    return counts, complete


def _merge_string(out, stats: Sequence, absent: float, notes, where, names) -> None:
    _merge_common(out.common_stats, [s.common_stats for s in stats], absent, notes, where)
    merged: Dict[str, float] = {}
    incomplete: List[str] = []
    for s, name in zip(stats, names, strict=True):
        counts, complete = _category_counts(s)
        if not complete:
            incomplete.append(name)
        for label, c in counts.items():
            merged[label] = merged.get(label, 0.0) + c
    order = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    n_top = max((len(s.top_values) for s in stats), default=0)
    for label, c in order[:n_top]:
        tv = out.top_values.add()
        tv.value, tv.frequency = label, c
    if any(len(s.rank_histogram.buckets) for s in stats):
        for rank, (label, c) in enumerate(order):
            b = out.rank_histogram.buckets.add()
            b.low_rank = b.high_rank = rank
            b.label, b.sample_count = label, c
    n_values = [float(s.common_stats.tot_num_values) for s in stats]
    if sum(n_values) > 0:
        out.avg_length = sum(
            n * float(s.avg_length) for s, n in zip(stats, n_values, strict=True)
        ) / sum(n_values)
    if incomplete:
        out.unique = max([len(merged), *(int(s.unique) for s in stats)])
        notes.append(
            f"{where}: category counts of {', '.join(incomplete)} list only the top "
            "categories, so merged counts are lower bounds for the others (not exact) and "
            f"unique={out.unique} is a lower bound (at most {sum(int(s.unique) for s in stats)})"
        )
    else:
        out.unique = len(merged)
    out.invalid_utf8_count = sum(int(s.invalid_utf8_count) for s in stats)
    if any(s.HasField("weighted_string_stats") for s in stats):
        notes.append(f"{where}: weighted string statistics dropped (not merged)")


# ----------------------------------------------------------------------------- entry point
def merge_statistics(
    statistics: Sequence, names: Optional[Sequence[str]] = None, name: str = ""
) -> MergedStatistics:
    """Merge the statistics of several spans of one split into one baseline.

    Args:
      statistics: ``DatasetFeatureStatisticsList`` (one dataset each) or
        ``DatasetFeatureStatistics`` objects, one per span.
      names: how each input is named in notes and errors (e.g. ``train@span 2011``);
        default ``statistics 1``, ``statistics 2``...
      name: the merged dataset's name (default: the names joined with ``+``).

    Returns:
      A :class:`MergedStatistics`; a single input is returned as it is (no note).

    Raises:
      BaselineMergeError: no statistics, an input that is not one dataset of TFDV
        statistics, or a feature whose type differs between inputs.
    """
    from tensorflow_metadata.proto.v0 import statistics_pb2

    if not statistics:
        raise BaselineMergeError("no baseline statistics to merge; give at least one")
    names = list(names) if names else [f"statistics {i + 1}" for i in range(len(statistics))]
    if len(names) != len(statistics):
        raise BaselineMergeError(
            f"merge_statistics got {len(statistics)} statistics but {len(names)} names"
        )
    datasets = [_dataset(s, n) for s, n in zip(statistics, names, strict=True)]
    result = statistics_pb2.DatasetFeatureStatisticsList()
    if len(datasets) == 1:
        result.datasets.add().CopyFrom(datasets[0])
        return MergedStatistics(result, [], names)
    out = result.datasets.add()
    out.name = name or "+".join(names)
    out.num_examples = sum(int(d.num_examples) for d in datasets)
    out.weighted_num_examples = sum(float(d.weighted_num_examples) for d in datasets)
    notes: List[str] = []
    order: List[str] = []
    by_key: Dict[str, List[Tuple[int, object]]] = {}
    for i, d in enumerate(datasets):
        for f in d.features:
            key = _key(f)
            if key not in by_key:
                by_key[key] = []
                order.append(key)
            by_key[key].append((i, f))
    for key in order:
        entries = by_key[key]
        kinds = {f.WhichOneof("stats") for _, f in entries}
        types = {f.type for _, f in entries}
        if len(kinds) > 1 or len(types) > 1:
            described = ", ".join(
                f"{names[i]}: {statistics_pb2.FeatureNameStatistics.Type.Name(f.type)}"
                for i, f in entries
            )
            raise BaselineMergeError(
                f"baseline feature {key!r} has different types across the merged statistics "
                f"({described}); the spans cannot form one baseline. Fix the data (one type "
                "per feature) or use a window that does not cross the type change"
            )
        first = entries[0][1]
        feature = out.features.add()
        if first.HasField("path"):
            feature.path.CopyFrom(first.path)
        else:
            feature.name = first.name
        feature.type = first.type
        present = {i for i, _ in entries}
        absent = float(sum(int(d.num_examples) for i, d in enumerate(datasets) if i not in present))
        feats = [f for _, f in entries]
        kind = next(iter(kinds))
        if kind == "num_stats":
            _merge_num(feature.num_stats, [f.num_stats for f in feats], absent, notes, key)
        elif kind == "string_stats":
            _merge_string(
                feature.string_stats,
                [f.string_stats for f in feats],
                absent,
                notes,
                key,
                [names[i] for i, _ in entries],
            )
        elif kind == "bytes_stats":
            commons = [f.bytes_stats.common_stats for f in feats]
            _merge_common(feature.bytes_stats.common_stats, commons, absent, notes, key)
            feature.bytes_stats.unique = max(int(f.bytes_stats.unique) for f in feats)
            notes.append(f"{key}: bytes statistics merged for counts only")
        elif kind == "struct_stats":
            commons = [f.struct_stats.common_stats for f in feats]
            _merge_common(feature.struct_stats.common_stats, commons, absent, notes, key)
            notes.append(f"{key}: struct statistics merged for counts only")
    return MergedStatistics(result, notes, names)

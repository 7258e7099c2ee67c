"""``compare_statistics``: two TFDV statistics -> :class:`~tfx_addons_lab.drift.DriftResult`."""

from __future__ import annotations

import contextlib
import gc
import logging
import math
from typing import Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from tfx_addons_lab.drift.config import DriftConfig
from tfx_addons_lab.drift.distributions import (
    CATEGORICAL,
    MAX_DISCRETE_VALUES,
    NUMERIC,
    UNSUPPORTED,
    Distribution,
    _fmt_value,
    category_pairing,
    distribution_from_feature,
    distributions_from_features,
)
from tfx_addons_lab.drift.methods import (
    P_VALUE,
    DriftMethod,
    available_methods,
    category_shares,
    get_method,
    validate_threshold,
)
from tfx_addons_lab.drift.report import NOT_EVALUATED, DriftResult, FeatureDrift
from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.textfmt import safe

log = logging.getLogger(__name__)

#: Below this many quantile buckets a note warns that ks/wasserstein are approximate.
RECOMMENDED_QUANTILE_BUCKETS = 100
HISTOGRAM_BINS = 10
HISTOGRAM_MAX_CATEGORIES = 10
MAX_NEW_CATEGORIES_LISTED = 50

_SCHEMA_STATUSES = ("added", "removed", "type_changed", "all_missing")


def _dataset(stats, which: str):
    """The single ``DatasetFeatureStatistics`` inside ``stats``."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    if isinstance(stats, statistics_pb2.DatasetFeatureStatistics):
        return stats
    if isinstance(stats, statistics_pb2.DatasetFeatureStatisticsList):
        n = len(stats.datasets)
        if n == 0:
            raise InvalidInputError(
                f"{which} statistics hold no dataset (empty DatasetFeatureStatisticsList); "
                "generate statistics with TFDV/StatisticsGen first"
            )
        if n > 1:
            names = ", ".join(repr(d.name) for d in stats.datasets)
            raise InvalidInputError(
                f"{which} statistics hold {n} datasets ({names}); pass one of them, "
                f"e.g. stats.datasets[0] (a DatasetFeatureStatistics)"
            )
        return stats.datasets[0]
    raise InvalidInputError(
        f"{which} statistics must be a DatasetFeatureStatisticsList or DatasetFeatureStatistics "
        f"proto, got {type(stats).__name__}; use tfx_addons_lab.drift.load_statistics(path)"
    )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the features are compared.

    Comparing N features allocates O(N) dicts, lists, arrays and dataclasses, none of them
    in a reference cycle (reference counting frees them). With the collector on, every 700
    net allocations start a collection and every so often a full one, which walks every
    live object of the process; with wide statistics and earlier reports alive that is
    time quadratic in N (about 0.6 s of 6.7 s at 10,000 features,
    ``benchmarks/compare_scale.py``). The collector is switched back on at exit only when
    it was on at entry; garbage cycles made meanwhile (by other threads) are collected then.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _distributions(dataset, batch: bool = False) -> Dict[str, Distribution]:
    """Feature name -> :class:`Distribution` of every feature of ``dataset``.

    ``batch``: build the numeric features together (:func:`distributions_from_features`,
    same numbers up to float rounding of sums); else one by one
    (:func:`distribution_from_feature`, the reference).
    """
    if batch:
        dists = distributions_from_features(dataset.features, dataset.num_examples)
    else:
        dists = [distribution_from_feature(f, dataset.num_examples) for f in dataset.features]
    out: Dict[str, Distribution] = {}
    for d in dists:
        out[d.name] = d
    return out


def _choose_method(
    name: str, ftype: str, config: DriftConfig, baseline_rows: float
) -> Tuple[DriftMethod, float]:
    method_name = config.feature_methods.get(name)
    where = f"DriftConfig.feature_methods[{name!r}]"
    if method_name is None:
        method_name = config.numeric_method if ftype == NUMERIC else config.categorical_method
        where = (
            "DriftConfig.numeric_method" if ftype == NUMERIC else "DriftConfig.categorical_method"
        )
    if method_name is None:
        small = baseline_rows <= config.small_baseline_rows
        if ftype == NUMERIC:
            method_name = "ks" if small else "wasserstein"
        else:
            method_name = "chi_square" if small else "jensen_shannon"
        where = "automatic choice"
    method = get_method(method_name)
    if ftype not in method.feature_types:
        raise InvalidInputError(
            f"{where}: method {method_name!r} does not apply to feature {name!r}, which is "
            f"compared as {ftype}; choose one of: {', '.join(available_methods(ftype))}"
        )
    if name in config.feature_thresholds:
        threshold = validate_threshold(
            method.kind,
            config.feature_thresholds[name],
            f"DriftConfig.feature_thresholds[{name!r}] (method {method.name})",
        )
    elif config.threshold is not None:
        threshold = validate_threshold(
            method.kind, config.threshold, f"DriftConfig.threshold (method {method.name})"
        )
    else:
        threshold = float(method.default_threshold)
    return method, threshold


def _histogram(b: Distribution, c: Distribution) -> Dict[str, object]:
    """Small picture data: shares of both sides on common bins/categories."""
    if b.kind == NUMERIC:
        lo = min(v for v in (b.min, c.min) if v is not None)
        hi = max(v for v in (b.max, c.max) if v is not None)
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            return {}
        edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
        inner = edges[1:-1]
        return {
            "bins": edges.tolist(),
            "baseline": _rounded(b.bucket_shares(inner)),
            "current": _rounded(c.bucket_shares(inner)),
        }
    cats = category_pairing(b, c).categories
    pb, pc = category_shares(b, c)
    # The HISTOGRAM_MAX_CATEGORIES largest shares (ties by label): only categories at or
    # above the k-th largest share can be among them.
    mx = np.maximum(pb, pc)
    k, n = HISTOGRAM_MAX_CATEGORIES, len(cats)
    cand = range(n) if n <= k else np.flatnonzero(mx >= np.partition(mx, n - k)[n - k])
    top = sorted(cand, key=lambda i: (-mx[i], cats[i]))[:k]
    bins = [cats[i] for i in top]
    sb, sc = _rounded(pb[top]), _rounded(pc[top])
    if n > len(top):
        bins.append("(other)")
        sb.append(round(float(max(0.0, 1.0 - sum(pb[i] for i in top))), 6))
        sc.append(round(float(max(0.0, 1.0 - sum(pc[i] for i in top))), 6))
    return {"bins": bins, "baseline": sb, "current": sc}


def _numeric_histograms(pairs: Sequence[Tuple[Distribution, Distribution]]) -> List[Optional[dict]]:
    """:func:`_histogram` of many numeric pairs, the CDFs evaluated in one batch.

    None for a pair the batch does not take (then :func:`_histogram` computes it).
    """
    from tfx_addons_lab.drift.batch import cdf_interpolator, search_many
    from tfx_addons_lab.drift.methods import _batchable_numeric

    out: List[Optional[dict]] = [None] * len(pairs)
    ok = _batchable_numeric(pairs)
    todo, los, his = [], [], []
    for i, (b, c) in enumerate(pairs):
        if not ok[i]:
            continue
        lo = min(v for v in (b.min, c.min) if v is not None)
        hi = max(v for v in (b.max, c.max) if v is not None)
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            out[i] = {}
            continue
        todo.append(i)
        los.append(lo)
        his.append(hi)
    if not todo:
        return out
    # np.linspace of every feature at once (one row each): the same numbers as row by row.
    all_edges = np.linspace(np.array(los), np.array(his), HISTOGRAM_BINS + 1, axis=1)
    m, k = len(todo), HISTOGRAM_BINS - 1
    q = all_edges[:, 1:-1].reshape(-1)
    qid = np.repeat(np.arange(m, dtype=np.intp), k)
    shares = []
    interps = [cdf_interpolator([pairs[i][side] for i in todo]) for side in (0, 1)]
    for interp, (pos,) in zip(interps, search_many(interps, [(q, qid)]), strict=True):
        cdf = interp(q, qid, False, pos).reshape(m, k)
        cum = np.hstack([np.zeros((m, 1)), cdf, np.ones((m, 1))])
        shares.append(np.clip(np.diff(cum, axis=1), 0.0, None))
    for row, (i, edges) in enumerate(zip(todo, all_edges.tolist(), strict=True)):
        out[i] = {
            "bins": edges,
            "baseline": _rounded(shares[0][row]),
            "current": _rounded(shares[1][row]),
        }
    return out


def _rounded(shares: np.ndarray) -> List[float]:
    """Shares for the report's picture: Python floats rounded to 6 decimals."""
    return [round(s, 6) for s in shares.tolist()]


def _is_constant(d: Distribution) -> Optional[str]:
    """The single value of a constant side as a label, else None."""
    if d.kind == NUMERIC:
        if d.min is not None and d.max is not None and d.min == d.max and d.count > 0:
            return _fmt_value(d.min)
        return None
    if len(d.counts) == 1 and not d.truncated:
        return next(iter(d.counts))
    return None


def adjust_p_values(p_values: Sequence[float], correction: Optional[str]) -> List[float]:
    """Multiple-testing adjusted p-values.

    ``"bonferroni"``: ``min(1, p * m)``; ``"benjamini-hochberg"``: the step-up adjusted
    p-values of ``scipy.stats.false_discovery_control(p, method="bh")``; ``None``: unchanged.
    """
    m = len(p_values)
    if not correction or m == 0:
        return [float(v) for v in p_values]
    p = np.asarray(p_values, dtype=float)
    if correction == "bonferroni":
        return [float(v) for v in np.minimum(1.0, p * m)]
    from scipy.stats import false_discovery_control

    return [float(v) for v in false_discovery_control(p, method="bh")]


def compare_statistics(
    baseline,
    current,
    config: Union[DriftConfig, Mapping, None] = None,
    baseline_name: str = "baseline",
    current_name: str = "current",
    *,
    batch: bool = True,
) -> DriftResult:
    """Compare two TFDV statistics and return a :class:`DriftResult`.

    Args:
      baseline: ``DatasetFeatureStatisticsList`` (holding one dataset) or
        ``DatasetFeatureStatistics`` of the reference data, or ``None`` (first run: the
        report has ``status="no_baseline"`` and is not drifted).
      current: the statistics of the data to check, same types.
      config: a :class:`DriftConfig` (or its dict form); ``None`` = defaults.
      baseline_name, current_name: free text recorded in the report (e.g. ``train@span1``).
      batch: True (default): each method is computed for all its features at once by its
        batch kernel (``DriftMethod.batch``; methods without one run per feature). False:
        the per-feature reference path, same results (to 1e-9), slower on wide tables.

    Raises:
      InvalidInputError: a statistics object of the wrong type or holding no/several
        datasets, or a config naming a method that does not apply to a feature's type.
    """
    config = DriftConfig.from_dict(config) if not isinstance(config, DriftConfig) else config
    config.validate()
    if current is None:
        raise InvalidInputError(
            "current statistics are missing (None); pass the statistics to check"
        )
    cur_ds = _dataset(current, "current")
    if baseline is None:
        return DriftResult(
            dataset_drifted=False,
            drift_share=0.0,
            drift_share_threshold=config.drift_share,
            status="no_baseline",
            baseline_name=baseline_name,
            current_name=current_name,
            correction=config.correction,
            features=[],
            config=config.to_dict(),
        )
    base_ds = _dataset(baseline, "baseline")
    with _gc_paused():
        return _compare_datasets(base_ds, cur_ds, config, baseline_name, current_name, batch=batch)


def _compare_datasets(
    base_ds,
    cur_ds,
    config: DriftConfig,
    baseline_name: str,
    current_name: str,
    *,
    batch: bool,
) -> DriftResult:
    """:func:`compare_statistics` of two ``DatasetFeatureStatistics`` (config validated)."""
    bdists = _distributions(base_ds, batch)
    cdists = _distributions(cur_ds, batch)
    baseline_rows = float(base_ds.num_examples)

    names = list(cdists) + [n for n in bdists if n not in cdists]
    if batch:
        results = _compare_batch(names, bdists, cdists, config, baseline_rows)
    else:
        results = [
            _compare_feature(name, bdists.get(name), cdists.get(name), config, baseline_rows)
            for name in names
        ]

    # Multiple-testing correction over the measured p-value features.
    tested = [
        f for f in results if f.status == "ok" and f.kind == P_VALUE and f.p_value is not None
    ]
    if config.correction and tested:
        adjusted = adjust_p_values([f.p_value for f in tested], config.correction)
        for f, adj in zip(tested, adjusted, strict=True):
            f.p_value_adjusted = adj
            f.drifted = adj < f.threshold
    counted = [
        f
        for f in results
        if f.status in ("ok", "constant")
        or (f.status in _SCHEMA_STATUSES and config.schema_changes_drift and f.drifted)
    ]
    n_drifted = sum(1 for f in counted if f.drifted)
    share = n_drifted / len(counted) if counted else 0.0
    not_evaluated = [f.name for f in results if f.status == NOT_EVALUATED]
    fail_closed = bool(not_evaluated) and config.on_not_evaluated == "fail"
    warnings = _config_warnings(config, set(bdists) | set(cdists))
    for w in warnings:
        log.warning("drift config: %s", w)
    if not_evaluated:
        log.warning(
            "drift: %d feature(s) not evaluated (%s): %s",
            len(not_evaluated),
            "dataset verdict fails closed" if fail_closed else "ignored by on_not_evaluated",
            ", ".join(safe(n) for n in not_evaluated[:20]),
        )
    report = DriftResult(
        dataset_drifted=(bool(counted) and share >= config.drift_share) or fail_closed,
        drift_share=share,
        drift_share_threshold=config.drift_share,
        status="ok",
        baseline_name=baseline_name,
        current_name=current_name,
        n_features=len(counted),
        n_drifted=n_drifted,
        correction=config.correction,
        features=results,
        config=config.to_dict(),
        warnings=warnings,
    )
    log.debug("drift: %s", report.summary)
    return report


def _config_warnings(config: DriftConfig, names) -> List[str]:
    """One warning per config entry naming a feature that is in neither statistics."""
    out: List[str] = []
    for key in ("feature_methods", "feature_thresholds", "include", "exclude"):
        entries = getattr(config, key) or []
        for name in entries:
            if name not in names:
                out.append(
                    f"DriftConfig.{key} names {name!r}, which is in neither statistics; "
                    "check the spelling (feature names are case-sensitive)"
                )
    for name in config.categorical_features:
        if name not in names:
            out.append(
                f"DriftConfig.categorical_features names {name!r}, which is in neither "
                "statistics; check the spelling (feature names are case-sensitive)"
            )
    return out


class _Pending(NamedTuple):
    """A feature ready for its method: everything but the method's result."""

    fd: FeatureDrift
    b: Distribution
    c: Distribution
    method: DriftMethod
    threshold: float
    notes: List[str]


def _compare_feature(
    name: str,
    b: Optional[Distribution],
    c: Optional[Distribution],
    config: DriftConfig,
    baseline_rows: float,
) -> FeatureDrift:
    """One feature's result, its method computed on its own (the per-feature reference)."""
    prepared = _prepare_feature(name, b, c, config, baseline_rows)
    if isinstance(prepared, FeatureDrift):
        return prepared
    statistic, p_value = prepared.method.run(prepared.b, prepared.c)
    return _finish_feature(prepared, statistic, p_value)


def _compare_batch(
    names: Sequence[str],
    bdists: Mapping[str, Distribution],
    cdists: Mapping[str, Distribution],
    config: DriftConfig,
    baseline_rows: float,
) -> List[FeatureDrift]:
    """Every feature's result, each method computed once for all its features."""
    prepared = [
        _prepare_feature(name, bdists.get(name), cdists.get(name), config, baseline_rows)
        for name in names
    ]
    by_method: Dict[int, List[int]] = {}
    methods: Dict[int, DriftMethod] = {}
    for i, p in enumerate(prepared):
        if isinstance(p, _Pending):
            by_method.setdefault(id(p.method), []).append(i)
            methods[id(p.method)] = p.method
    results: List[Optional[FeatureDrift]] = [
        p if isinstance(p, FeatureDrift) else None for p in prepared
    ]
    numeric = [i for i, p in enumerate(prepared) if isinstance(p, _Pending) and p.b.kind == NUMERIC]
    histograms = dict(
        zip(
            numeric,
            _numeric_histograms([(prepared[i].b, prepared[i].c) for i in numeric]),
            strict=True,
        )
    )
    for key, idx in by_method.items():
        outs = methods[key].run_batch([(prepared[i].b, prepared[i].c) for i in idx])
        for i, (statistic, p_value) in zip(idx, outs, strict=True):
            results[i] = _finish_feature(prepared[i], statistic, p_value, histograms.get(i))
    return results  # type: ignore[return-value]


def _prepare_feature(
    name: str,
    b: Optional[Distribution],
    c: Optional[Distribution],
    config: DriftConfig,
    baseline_rows: float,
) -> Union[FeatureDrift, _Pending]:
    """A finished result (schema change, skipped, constant, ...) or the feature to compute.

    The sides' summaries are filled here for a finished result; :func:`_finish_feature`
    fills them for a computed one (from the distributions the method compared).
    """
    out = _decide_feature(name, b, c, config, baseline_rows)
    if isinstance(out, FeatureDrift):
        out.baseline = b.summary() if b is not None else {}
        out.current = c.summary() if c is not None else {}
    return out


def _decide_feature(
    name: str,
    b: Optional[Distribution],
    c: Optional[Distribution],
    config: DriftConfig,
    baseline_rows: float,
) -> Union[FeatureDrift, _Pending]:
    """:func:`_prepare_feature` without the summaries."""
    schema_drift = config.schema_changes_drift
    side = c if c is not None else b
    ftype = side.kind if side.kind != UNSUPPORTED else side.proto_type.lower()
    if name in config.categorical_features and ftype == NUMERIC:
        ftype = CATEGORICAL
    fd = FeatureDrift(
        name=name,
        type=ftype,
        baseline={},
        current={},
    )
    if not config.is_included(name):
        fd.status, fd.note = "skipped", "excluded by the config (include/exclude)"
        return fd
    if b is None or c is None:
        fd.status = "added" if b is None else "removed"
        fd.drifted = schema_drift
        fd.note = (
            f"feature only in {'current' if b is None else 'baseline'} statistics (schema change)"
        )
        return fd
    if UNSUPPORTED in (b.kind, c.kind):
        if b.kind == c.kind:
            fd.status = "skipped"
            fd.note = f"unsupported feature type {c.proto_type} (only numeric and string features)"
            return fd
        fd.status, fd.drifted = "type_changed", schema_drift
        fd.note = f"type changed from {b.proto_type} to {c.proto_type}"
        return fd
    if b.kind != c.kind and name not in config.categorical_features:
        fd.status, fd.drifted = "type_changed", schema_drift
        fd.note = f"type changed from {b.proto_type} ({b.kind}) to {c.proto_type} ({c.kind})"
        return fd
    notes: List[str] = []
    if b.proto_type != c.proto_type:
        notes.append(f"type {b.proto_type} in baseline, {c.proto_type} in current")

    why = [
        f"{s}: {d.not_evaluable}" for s, d in (("baseline", b), ("current", c)) if d.not_evaluable
    ]
    if why:
        fd.status = NOT_EVALUATED
        fd.note = "; ".join(notes + why)
        return fd
    notes.extend(
        f"{s}: {d.nonfinite_note}" for s, d in (("baseline", b), ("current", c)) if d.nonfinite_note
    )

    if b.is_empty or c.is_empty:
        fd.status = "all_missing"
        empty = [s for s, d in (("baseline", b), ("current", c)) if d.is_empty]
        fd.drifted = schema_drift and len(empty) == 1
        fd.note = "no values in " + " and ".join(empty)
        return fd

    const_b, const_c = _is_constant(b), _is_constant(c)
    if const_b is not None and const_c is not None:
        fd.status = "constant"
        fd.drifted = const_b != const_c
        fd.note = "; ".join(
            notes + [f"constant in both: baseline {const_b!r}, current {const_c!r}"]
        )
        same = const_b == const_c
        fd.histogram = {
            "bins": [const_b] if same else [const_b, const_c],
            "baseline": [1.0] if same else [1.0, 0.0],
            "current": [1.0] if same else [0.0, 1.0],
        }
        return fd

    # Decide how to compare: categorical for string features, forced INT features, and
    # numeric features with at most MAX_DISCRETE_VALUES distinct values (unless a numeric
    # method is asked for this feature by name).
    asked = config.feature_methods.get(name)
    asked_numeric = asked is not None and NUMERIC in get_method(asked).feature_types
    asked_categorical = asked is not None and CATEGORICAL in get_method(asked).feature_types
    if b.kind == NUMERIC and c.kind == NUMERIC:
        # The number of distinct values of both sides, when neither side alone has more
        # than MAX_DISCRETE_VALUES (else the feature is not discrete).
        b_values = b.distinct_values_up_to(MAX_DISCRETE_VALUES)
        c_values = c.distinct_values_up_to(MAX_DISCRETE_VALUES) if b_values is not None else None
        n_distinct = len(set(b_values).union(c_values)) if c_values is not None else None
        force_cat = name in config.categorical_features
        discrete = n_distinct is not None and n_distinct <= MAX_DISCRETE_VALUES
        if force_cat or (discrete and not (asked_numeric and not asked_categorical)):
            if discrete and not force_cat:
                notes.append(f"numeric with {n_distinct} distinct values: compared as categorical")
            b, c = b.as_categorical(), c.as_categorical()
    elif b.kind != c.kind:  # numeric vs categorical, forced categorical by the config
        b, c = b.as_categorical(), c.as_categorical()
    ftype = b.kind
    fd.type = ftype

    method, threshold = _choose_method(name, ftype, config, baseline_rows)
    return _Pending(fd, b, c, method, threshold, notes)


def _finish_feature(
    pending: _Pending,
    statistic: Optional[float],
    p_value: Optional[float],
    histogram: Optional[dict] = None,
) -> FeatureDrift:
    """Fill a prepared feature's result from its method's ``(statistic, p_value)``.

    ``histogram``: the feature's :func:`_histogram` when already computed (batch path).
    """
    fd, b, c, method, threshold, notes = pending
    ftype = fd.type
    fd.method, fd.kind, fd.threshold = method.name, method.kind, threshold
    fd.statistic = statistic
    fd.p_value = p_value
    fd.value = p_value if method.kind == P_VALUE else statistic
    if fd.value is None or not math.isfinite(fd.value):
        # No finite value is no evidence of "no drift": the feature is not evaluated.
        fd.status = NOT_EVALUATED
        fd.drifted = False
        notes.append(f"method {method.name} gave {fd.value!r}, not a finite number")
        fd.note = "; ".join(notes)
        fd.value = fd.statistic = fd.p_value = None
        fd.baseline, fd.current = b.summary(), c.summary()
        return fd
    fd.drifted = method.is_drift(fd.value, threshold)

    if ftype == NUMERIC:
        for side_name, d in (("baseline", b), ("current", c)):
            if d.histogram_type == "STANDARD":
                notes.append(f"{side_name}: no QUANTILES histogram, used the STANDARD one")
            elif (
                d.buckets
                and d.buckets < RECOMMENDED_QUANTILE_BUCKETS
                and method.name
                in (
                    "ks",
                    "wasserstein",
                )
            ):
                notes.append(
                    f"{side_name}: only {d.buckets} quantile buckets, {method.name} is "
                    f"approximate; use StatsOptions(num_quantiles_histogram_buckets=100)"
                )
    else:
        for side_name, d in (("baseline", b), ("current", c)):
            if d.truncated:
                notes.append(
                    f"{side_name}: categories truncated ({len(d.counts)} of "
                    f"{d.unique or '?'} listed); shares are over the listed ones"
                )
        # The pairing lists the baseline's categories, then the new current ones.
        new = category_pairing(b, c).categories[len(b.counts) :]
        if new:
            fd.new_categories = new[:MAX_NEW_CATEGORIES_LISTED]
            more = (
                f" (+{len(new) - len(fd.new_categories)} more)"
                if len(new) > len(fd.new_categories)
                else ""
            )
            notes.append(f"{len(new)} categories not in the baseline{more}")
    fd.note = "; ".join(notes)
    fd.histogram = histogram if histogram is not None else _histogram(b, c)
    fd.baseline = b.summary()
    fd.current = c.summary()
    return fd

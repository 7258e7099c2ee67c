"""The drift-method registry and the built-in methods.

Modelled on Evidently's stattest registry: one small :class:`DriftMethod` object per method
(name, applicable feature types, kind, default threshold, compute function). The built-in
names are the public identifiers used in :class:`~tfx_addons_lab.drift.DriftConfig`:

=================  ======================  ==========  =========  ============================
name               feature types           kind        default    value
=================  ======================  ==========  =========  ============================
``ks``             numeric                 p_value     0.05       KS p-value (statistic: D)
``wasserstein``    numeric                 distance    0.1        W1 / baseline std dev
``psi``            numeric, categorical    distance    0.1        population stability index
``jensen_shannon`` numeric, categorical    distance    0.1        JS distance, base 2
``hellinger``      numeric, categorical    distance    0.1        Hellinger distance
``chi_square``     categorical             p_value     0.05       chi-square p-value
``l_infinity``     categorical             distance    0.1        max |p_b - p_c| (as TFDV)
``tvd``            categorical             distance    0.1        total variation distance
=================  ======================  ==========  =========  ============================

A ``p_value`` method flags drift when the (possibly corrected) p-value is **below** its
threshold; a ``distance`` method when the value is **at or above** its threshold.

A method's ``compute(baseline, current)`` receives two
:class:`~tfx_addons_lab.drift.distributions.Distribution` objects of the same kind and returns
``(statistic, p_value)``: ``p_value`` is ``None`` for distances. The report's ``value`` is the
p-value for ``p_value`` methods (the statistic is kept in ``statistic``) and the statistic for
``distance`` methods. A bare number may be returned instead of a tuple for a distance.

Every built-in method also has a **batch kernel** (``DriftMethod.batch``): one call computes
the method for all the features that use it, on flat arrays (numpy/scipy vectorised across
features); :func:`~tfx_addons_lab.drift.compare_statistics` uses it, and its results equal the
per-feature ``compute`` ones to 1e-9 (``tests/drift/test_batch.py``). A method without a batch
kernel (e.g. a user-registered one) is computed feature by feature with ``compute``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

import numpy as np

from tfx_addons_lab.drift.distributions import (
    CATEGORICAL,
    NUMERIC,
    Distribution,
    category_pairing,
)
from tfx_addons_lab.errors import InvalidInputError

P_VALUE = "p_value"
DISTANCE = "distance"

#: Share given to an empty bucket/category by ``psi`` and ``chi_square`` (as Evidently does:
#: 1e-4, or min(non-zero share) / 1e6 when a non-zero share is already at or below 1e-4).
SMOOTHING_EPSILON = 1e-4

#: Number of equal-mass baseline buckets (deciles) used by ``psi``, ``jensen_shannon`` and
#: ``hellinger`` on numeric features.
NUMERIC_BINS = 10

ComputeFn = Callable[[Distribution, Distribution], "Tuple[float, Optional[float]] | float"]
#: ``batch(pairs) -> (statistics, p_values or None)``: one array entry per (baseline, current).
BatchFn = Callable[
    [Sequence[Tuple[Distribution, Distribution]]], "Tuple[np.ndarray, Optional[np.ndarray]]"
]


@dataclass(frozen=True)
class DriftMethod:
    """A drift method: how to compare the baseline and current distribution of a feature.

    Attributes:
      name: public identifier (used in configs and reports).
      feature_types: subset of ``{"numeric", "categorical"}`` the method applies to.
      kind: ``"p_value"`` (drift when p-value < threshold) or ``"distance"`` (drift when
        value >= threshold).
      default_threshold: threshold used unless the config overrides it.
      compute: ``compute(baseline, current) -> (statistic, p_value | None)``.
      description: one line shown in docs and reports.
      batch: optional vectorised form of ``compute``: ``batch(pairs)`` receives a list of
        ``(baseline, current)`` pairs and returns ``(statistics, p_values)`` as sequences of
        the same length (``p_values`` None for a distance). It must give the same numbers as
        ``compute`` on each pair; None (the default) = ``compute`` is called per feature.
    """

    name: str
    feature_types: FrozenSet[str]
    kind: str
    default_threshold: float
    compute: ComputeFn = field(compare=False)
    description: str = ""
    batch: Optional[BatchFn] = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "feature_types", frozenset(self.feature_types))
        if not self.name or not isinstance(self.name, str):
            raise InvalidInputError("DriftMethod.name must be a non-empty string")
        bad = set(self.feature_types) - {NUMERIC, CATEGORICAL}
        if bad or not self.feature_types:
            raise InvalidInputError(
                f"DriftMethod {self.name!r}: feature_types must be a non-empty subset of "
                f"{{'numeric', 'categorical'}}, got {sorted(self.feature_types)}"
            )
        if self.kind not in (P_VALUE, DISTANCE):
            raise InvalidInputError(
                f"DriftMethod {self.name!r}: kind must be 'p_value' or 'distance', "
                f"got {self.kind!r}"
            )
        validate_threshold(self.kind, self.default_threshold, f"DriftMethod {self.name!r}")
        if not callable(self.compute):
            raise InvalidInputError(f"DriftMethod {self.name!r}: compute must be callable")
        if self.batch is not None and not callable(self.batch):
            raise InvalidInputError(f"DriftMethod {self.name!r}: batch must be callable or None")

    def is_drift(self, value: float, threshold: float) -> bool:
        """Apply this method's rule to a finite value (a p-value for ``p_value`` methods).

        Raises:
          InvalidInputError: ``value`` is None, NaN or infinite. A value that is not a finite
            number is no evidence of "no drift"; :func:`~tfx_addons_lab.drift.compare_statistics`
            reports such a feature as ``not_evaluated`` instead of calling this.
        """
        if value is None or not math.isfinite(float(value)):
            raise InvalidInputError(
                f"drift method {self.name!r} produced {value!r}, not a finite number; "
                "such a feature is 'not evaluated', not 'no drift'"
            )
        if self.kind == P_VALUE:
            return value < threshold
        return value >= threshold

    def run(self, baseline: Distribution, current: Distribution) -> Tuple[float, Optional[float]]:
        """Call ``compute`` and normalize its result to ``(statistic, p_value)``.

        ``None``, NaN and infinities are passed through (the caller reports the feature as
        ``not_evaluated``); a result that is not a number raises InvalidInputError.
        """
        out = self.compute(baseline, current)
        parts = out if isinstance(out, tuple) else (out, None)
        stat = self._number(parts[0] if parts else None, "statistic")
        p = self._number(parts[1] if len(parts) > 1 else None, "p-value")
        if self.kind == P_VALUE and p is None:
            raise InvalidInputError(
                f"drift method {self.name!r} is a p_value method but returned no p-value"
            )
        return stat, p

    def run_batch(
        self, pairs: Sequence[Tuple[Distribution, Distribution]]
    ) -> List[Tuple[float, Optional[float]]]:
        """:meth:`run` on every pair: one ``batch`` call when the method has one, else a loop.

        Returns one normalized ``(statistic, p_value)`` per pair, as :meth:`run` does.
        """
        pairs = list(pairs)
        if self.batch is None or not pairs:
            return [self.run(b, c) for b, c in pairs]
        stats, ps = self.batch(pairs)
        stats = list(stats)
        ps = [None] * len(pairs) if ps is None else list(ps)
        if len(stats) != len(pairs) or len(ps) != len(pairs):
            raise InvalidInputError(
                f"drift method {self.name!r}: batch returned {len(stats)} statistics and "
                f"{len(ps)} p-values for {len(pairs)} features; return one per feature"
            )
        out = []
        for stat, p in zip(stats, ps, strict=True):
            p = self._number(p, "p-value")
            if self.kind == P_VALUE and p is None:
                raise InvalidInputError(
                    f"drift method {self.name!r} is a p_value method but returned no p-value"
                )
            out.append((self._number(stat, "statistic"), p))
        return out

    def _number(self, v, what: str) -> Optional[float]:
        if v is None:
            return None
        try:
            return float(v)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"drift method {self.name!r} returned {type(v).__name__} {v!r} as its {what}; "
                "compute must return numbers: (statistic, p_value or None)"
            ) from None


def validate_threshold(kind: str, threshold, where: str) -> float:
    """Check a threshold for a method kind; raise InvalidInputError naming ``where``."""
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{where}: threshold must be a number, got {threshold!r}") from None
    if math.isnan(t):
        raise InvalidInputError(f"{where}: threshold must be a number, got NaN")
    if kind == P_VALUE and not 0.0 < t < 1.0:
        raise InvalidInputError(
            f"{where}: a p-value threshold must be in (0, 1), e.g. 0.05; got {threshold!r}"
        )
    if kind == DISTANCE and not 0.0 < t < math.inf:
        raise InvalidInputError(
            f"{where}: a distance threshold must be a positive number, e.g. 0.1; got {threshold!r}"
        )
    return t


_REGISTRY: Dict[str, DriftMethod] = {}


def register_method(method: DriftMethod) -> DriftMethod:
    """Register (or replace, by name) a drift method; returns it.

    Example::

        def mean_shift(b, c):
            return abs(c.mean - b.mean) / (b.std or 1.0), None

        register_method(DriftMethod("mean_shift", {"numeric"}, "distance", 0.5, mean_shift,
                                    "absolute mean difference in baseline std devs"))
    """
    if not isinstance(method, DriftMethod):
        raise InvalidInputError(
            f"register_method expects a DriftMethod, got {type(method).__name__}"
        )
    _REGISTRY[method.name] = method
    return method


def get_method(name: str) -> DriftMethod:
    """The registered method called ``name``; InvalidInputError listing the names if unknown."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise InvalidInputError(
            f"unknown drift method {name!r}; choose one of: {', '.join(available_methods())}"
        ) from None


def available_methods(feature_type: Optional[str] = None) -> List[str]:
    """Names of the registered methods (optionally only those for ``feature_type``)."""
    return sorted(
        n for n, m in _REGISTRY.items() if feature_type is None or feature_type in m.feature_types
    )


# ------------------------------------------------------------------------- shared helpers
def fill_zeros(shares: np.ndarray) -> np.ndarray:
    """Evidently's smoothing: replace zero shares by 1e-4 (or min(non-zero)/1e6 if smaller)."""
    shares = np.asarray(shares, dtype=float).copy()
    nonzero = shares[shares > 0]
    if nonzero.size == 0:
        return np.full_like(shares, SMOOTHING_EPSILON)
    m = float(nonzero.min())
    eps = m / 1e6 if m <= SMOOTHING_EPSILON else SMOOTHING_EPSILON
    shares[shares == 0] = eps
    return shares


def categories_of(baseline: Distribution, current: Distribution) -> List[str]:
    """Union of categories: baseline ones (most frequent first), then new current ones
    (:func:`~tfx_addons_lab.drift.distributions.category_pairing`)."""
    return list(category_pairing(baseline, current).categories)


def category_shares(baseline: Distribution, current: Distribution) -> Tuple[np.ndarray, np.ndarray]:
    """Categorical pair: both sides' shares on :func:`categories_of`."""
    return category_pairing(baseline, current).shares()


def numeric_edges(baseline: Distribution, bins: int = NUMERIC_BINS) -> np.ndarray:
    """Inner bucket edges: the distinct baseline quantiles at 1/bins, ..., (bins-1)/bins."""
    u = np.arange(1, bins) / bins
    return np.unique(baseline.quantile(u))


def paired_shares(baseline: Distribution, current: Distribution) -> Tuple[np.ndarray, np.ndarray]:
    """Shares of both sides on common buckets (numeric) or categories (categorical)."""
    if baseline.kind == NUMERIC:
        edges = numeric_edges(baseline)
        return baseline.bucket_shares(edges), current.bucket_shares(edges)
    return category_shares(baseline, current)


def psi_value(p: np.ndarray, q: np.ndarray) -> float:
    """PSI = sum((p - q) * ln(p / q)) after :func:`fill_zeros` on each side."""
    p, q = fill_zeros(p), fill_zeros(q)
    return float(np.sum((p - q) * np.log(p / q)))


def _sum(x: np.ndarray) -> float:
    """``np.add.reduceat(x, [0])``: the sum the batch kernels take over each feature's slice,
    so the per-feature and batch values agree to the last bit."""
    return float(np.add.reduceat(x, [0])[0]) if len(x) else 0.0


def _rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``scipy.special.rel_entr`` for shares (``x >= 0``, ``y > 0`` wherever ``x > 0``):
    ``x * log(x / y)``, 0 where ``x == 0``. The same formula as scipy's; written here because
    importing ``scipy.special`` (it pulls in scipy.linalg and scipy.sparse) costs ~0.14 s,
    a quarter of the CLI's whole run on small inputs (issue 14). Checked against scipy's
    ``jensenshannon`` in tests/drift/test_scipy_methods.py."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(x / y), 0.0)


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance, base 2: ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.

    Both share vectors are normalized to sum to 1 first; the result is in [0, 1]. Computed
    with scipy's formula (``rel_entr``); a divergence that rounding makes slightly negative
    (nearly equal shares) counts as 0, where scipy returns NaN.
    """
    p, q = np.asarray(p, float), np.asarray(q, float)
    p = p / _sum(p)
    q = q / _sum(q)
    m = (p + q) / 2.0
    js = _sum(_rel_entr(p, m)) + _sum(_rel_entr(q, m))
    js /= np.log(2.0)
    return float(np.sqrt(max(js, 0.0) / 2.0))


def hellinger_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Hellinger distance sqrt(sum((sqrt p - sqrt q)^2) / 2), in [0, 1]."""
    p = np.asarray(p, float) / np.sum(p)
    q = np.asarray(q, float) / np.sum(q)
    return float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2.0))


# ----------------------------------------------------------------------------- numeric
def _union_knots(baseline: Distribution, current: Distribution) -> np.ndarray:
    return np.unique(np.concatenate([baseline.cdf_x, current.cdf_x]))


def ks_statistic(baseline: Distribution, current: Distribution) -> float:
    """sup |F_b - F_c| over the union of both sides' CDF knots (left and right limits)."""
    xs = _union_knots(baseline, current)
    d_right = np.abs(baseline.cdf(xs, "right") - current.cdf(xs, "right"))
    if len(xs) and baseline.integer_valued and current.integer_valued:
        # Integer-valued data: the empirical CDFs are steps at integers, so P(X < k) is
        # P(X <= k - 1); evaluating there instead of the interpolated left limit matches
        # ks_2samp on tied integer data much more closely.
        prev = xs - 1.0
        d_left = np.abs(baseline.cdf(prev, "right") - current.cdf(prev, "right"))
    else:
        d_left = np.abs(baseline.cdf(xs, "left") - current.cdf(xs, "left"))
    return float(max(d_right.max(initial=0.0), d_left.max(initial=0.0)))


def ks_p_values(d, n1, n2) -> np.ndarray:
    """Two-sided two-sample KS p-values at the asymptotic distribution, vectorised.

    ``Q_KS((sqrt(en) + 0.12 + 0.11 / sqrt(en)) * D)`` with ``en = n1 * n2 / (n1 + n2)`` and
    ``Q_KS = scipy.special.kolmogorov`` (the Kolmogorov distribution's survival function),
    Stephens' small-sample correction (Numerical Recipes ``kstwo``). Sizes are rounded and
    at least 1. Its cost does not grow with the sample sizes; over sizes 20..10000 it is
    within 0.074 of ``scipy.stats.ks_2samp(method="exact")`` (within 0.027 when both sides
    have at least 100 values; see docs/drift.md and ``tests/drift/test_accuracy.py``).
    """
    from scipy.special import kolmogorov

    d = np.asarray(d, dtype=float)
    n1 = np.maximum(np.round(np.asarray(n1, dtype=float)), 1.0)
    n2 = np.maximum(np.round(np.asarray(n2, dtype=float)), 1.0)
    s = np.sqrt(n1 * n2 / (n1 + n2))
    return np.clip(kolmogorov((s + 0.12 + 0.11 / s) * d), 0.0, 1.0)


def ks_p_value(d: float, n1: float, n2: float) -> float:
    """Scalar form of :func:`ks_p_values`."""
    return float(ks_p_values(d, n1, n2))


def _ks(baseline: Distribution, current: Distribution):
    d = ks_statistic(baseline, current)
    return d, ks_p_value(d, baseline.count, current.count)


def wasserstein_raw(baseline: Distribution, current: Distribution) -> float:
    """W1 = integral |F_b(x) - F_c(x)| dx of the piecewise-linear CDFs (exact integration)."""
    xs = _union_knots(baseline, current)
    if len(xs) < 2:
        return 0.0
    a = baseline.cdf(xs[:-1], "right") - current.cdf(xs[:-1], "right")
    b = baseline.cdf(xs[1:], "left") - current.cdf(xs[1:], "left")
    w = np.diff(xs)
    same = a * b >= 0
    abs_a, abs_b = np.abs(a), np.abs(b)
    denom = np.where(same, 1.0, abs_a + abs_b)
    area = np.where(same, 0.5 * (abs_a + abs_b), (a * a + b * b) / (2.0 * denom))
    return float(np.sum(area * w))


def _wasserstein(baseline: Distribution, current: Distribution):
    norm = baseline.std if baseline.std and baseline.std > 0 else None
    if norm is None:
        norm = current.std if current.std and current.std > 0 else 1.0
    return wasserstein_raw(baseline, current) / norm, None


# ------------------------------------------------------------------------- categorical
def _psi(baseline: Distribution, current: Distribution):
    p, q = paired_shares(baseline, current)
    return psi_value(p, q), None


def _js(baseline: Distribution, current: Distribution):
    p, q = paired_shares(baseline, current)
    return js_distance(p, q), None


def _hellinger(baseline: Distribution, current: Distribution):
    p, q = paired_shares(baseline, current)
    return hellinger_distance(p, q), None


def _l_infinity(baseline: Distribution, current: Distribution):
    p, q = paired_shares(baseline, current)
    return float(np.max(np.abs(p - q), initial=0.0)), None


def _tvd(baseline: Distribution, current: Distribution):
    p, q = paired_shares(baseline, current)
    return float(0.5 * np.sum(np.abs(p - q))), None


def chi_square_test(baseline: Distribution, current: Distribution):
    """Evidently's chi-square: current counts vs baseline shares scaled to the current total.

    Categories absent from the baseline get a smoothed share (:func:`fill_zeros`, then the
    baseline shares are renormalized) so a new category gives a finite, tiny p-value.
    """
    from scipy.stats import chisquare

    pairing = category_pairing(baseline, current)
    cats, f_obs = pairing.categories, pairing.current_counts
    shares = pairing.shares()[0]
    if np.any(shares == 0):
        shares = fill_zeros(shares)
        shares = shares / shares.sum()
    f_exp = shares * f_obs.sum()
    if len(cats) < 2:
        return 0.0, 1.0
    stat, p = chisquare(f_obs, f_exp)
    return float(stat), float(p)


# ------------------------------------------------------------------------ batch kernels
# Each ``_batch_*`` function computes a built-in method for many features at once with the
# segmented primitives of :mod:`tfx_addons_lab.drift.batch`, giving the numbers of the
# per-feature function named beside it (tests/drift/test_batch.py checks them to 1e-9).
# Pairs the segmented CDF code cannot take (knots not sorted, NaN knots, an empty side) go
# through the per-feature function.


def _batchable_numeric(pairs) -> np.ndarray:
    """Per pair: both sides have sorted, NaN-free, non-empty CDF knots."""
    from tfx_addons_lab.drift.batch import Segments

    ok = np.array(
        [
            b.kind == NUMERIC
            and c.kind == NUMERIC
            and len(b.cdf_x) > 0
            and len(c.cdf_x) > 0
            and len(b.cdf_x) == len(b.cdf_p)
            and len(c.cdf_x) == len(c.cdf_p)
            for b, c in pairs
        ],
        dtype=bool,
    )
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return ok
    dists = [d for i in idx for d in pairs[i]]
    for attr in ("cdf_x", "cdf_p"):
        seg = Segments.of([getattr(d, attr) for d in dists])
        v, ids = seg.values, seg.ids
        bad = ~np.isfinite(v)
        if len(v) > 1:
            bad[1:] |= (v[1:] < v[:-1]) & (ids[1:] == ids[:-1])
        ok[idx[np.unique(ids[bad]) // 2]] = False
    return ok


def _split_run(pairs, ok: np.ndarray, kernel, scalar, with_p: bool):
    """``kernel`` on the pairs where ``ok``, ``scalar`` on the rest; results in pair order."""
    n = len(pairs)
    stats = np.full(n, np.nan)
    ps = np.full(n, np.nan) if with_p else None
    idx = np.flatnonzero(ok)
    if len(idx):
        s_ok, p_ok = kernel([pairs[i] for i in idx])
        stats[idx] = s_ok
        if with_p:
            ps[idx] = p_ok
    out_stats: List[Optional[float]] = list(stats)
    out_ps: Optional[List[Optional[float]]] = list(ps) if with_p else None
    for i in np.flatnonzero(~ok):
        res = scalar(*pairs[i])
        res = res if isinstance(res, tuple) else (res, None)
        out_stats[i] = res[0]
        if with_p:
            out_ps[i] = res[1]
    return out_stats, out_ps


def _union_knot_segments(pairs):
    """Per pair the sorted distinct knots of both CDFs (``_union_knots``), as Segments."""
    from tfx_addons_lab.drift.batch import Segments, segment_unique

    return segment_unique(Segments.of([np.concatenate([b.cdf_x, c.cdf_x]) for b, c in pairs]))


def _ks_statistics(pairs) -> np.ndarray:
    """:func:`ks_statistic` of every pair (sorted non-empty knots)."""
    from tfx_addons_lab.drift.batch import cdf_interpolator, search_many, segment_max

    fb = cdf_interpolator([b for b, _ in pairs])
    fc = cdf_interpolator([c for _, c in pairs])
    xs = _union_knot_segments(pairs)
    q, qid = xs.values, xs.ids
    integer = np.array([b.integer_valued and c.integer_valued for b, c in pairs], dtype=bool)
    iv = integer[qid]
    any_int = bool(iv.any())
    q_left = np.where(iv, q - 1.0, q) if any_int else q
    queries = [(q, qid), (q_left, qid)] if any_int else [(q, qid)]
    (pb, *pb_left), (pc, *pc_left) = search_many([fb, fc], queries)
    pb_left, pc_left = (pb_left[0], pc_left[0]) if any_int else (pb, pc)
    d_right = np.abs(fb(q, qid, False, pb) - fc(q, qid, False, pc))
    d_left = np.abs(fb(q_left, qid, ~iv, pb_left) - fc(q_left, qid, ~iv, pc_left))
    return segment_max(np.maximum(d_right, d_left), xs)


def _batch_ks(pairs):
    """``_ks`` for many features: D from :func:`_ks_statistics`, p from :func:`ks_p_values`."""

    def kernel(ok_pairs):
        d = _ks_statistics(ok_pairs)
        n1 = np.array([b.count for b, _ in ok_pairs], dtype=float)
        n2 = np.array([c.count for _, c in ok_pairs], dtype=float)
        return d, ks_p_values(d, n1, n2)

    return _split_run(pairs, _batchable_numeric(pairs), kernel, _ks, True)


def _wasserstein_raws(pairs) -> np.ndarray:
    """:func:`wasserstein_raw` of every pair (sorted non-empty knots)."""
    from tfx_addons_lab.drift.batch import Segments, cdf_interpolator, search_many, segment_sum

    fb = cdf_interpolator([b for b, _ in pairs])
    fc = cdf_interpolator([c for _, c in pairs])
    xs = _union_knot_segments(pairs)
    v, ids = xs.values, xs.ids
    lo = np.flatnonzero(ids[1:] == ids[:-1]) if len(v) > 1 else np.zeros(0, dtype=np.intp)
    hi = lo + 1
    qid = ids[lo]
    ((pb,), (pc,)) = search_many([fb, fc], [(v, ids)])
    a = fb(v[lo], qid, False, pb[lo]) - fc(v[lo], qid, False, pc[lo])
    b = fb(v[hi], qid, True, pb[hi]) - fc(v[hi], qid, True, pc[hi])
    w = v[hi] - v[lo]
    same = a * b >= 0
    abs_a, abs_b = np.abs(a), np.abs(b)
    denom = np.where(same, 1.0, abs_a + abs_b)
    area = np.where(same, 0.5 * (abs_a + abs_b), (a * a + b * b) / (2.0 * denom))
    lengths = np.maximum(xs.lengths - 1, 0)
    starts = np.zeros(len(lengths), dtype=np.intp)
    if len(lengths) > 1:
        np.cumsum(lengths[:-1], out=starts[1:])
    return segment_sum(area * w, Segments(area * w, qid, starts, lengths))


def _batch_wasserstein(pairs):
    """``_wasserstein`` for many features."""

    def kernel(ok_pairs):
        raw = _wasserstein_raws(ok_pairs)
        norms = np.empty(len(ok_pairs))
        for i, (b, c) in enumerate(ok_pairs):
            norm = b.std if b.std and b.std > 0 else None
            if norm is None:
                norm = c.std if c.std and c.std > 0 else 1.0
            norms[i] = norm
        return raw / norms, None

    return _split_run(pairs, _batchable_numeric(pairs), kernel, _wasserstein, False)


def _numeric_shares(pairs):
    """:func:`paired_shares` of numeric pairs as flat ``(p, q, Segments)``."""
    from tfx_addons_lab.drift.batch import (
        Segments,
        cdf_interpolator,
        quantile_interpolator,
        search_many,
        segment_unique,
    )

    n = len(pairs)
    bs = [b for b, _ in pairs]
    u = np.arange(1, NUMERIC_BINS) / NUMERIC_BINS
    k = len(u)
    qid = np.repeat(np.arange(n, dtype=np.intp), k)
    raw = quantile_interpolator(bs)(np.tile(u, n), qid, False)
    edges = segment_unique(
        Segments(raw, qid, np.arange(n, dtype=np.intp) * k, np.full(n, k, dtype=np.intp))
    )
    e, eid = edges.values, edges.ids
    out = []
    interps = [cdf_interpolator(bs), cdf_interpolator([c for _, c in pairs])]
    for interp, (pos,) in zip(interps, search_many(interps, [(e, eid)]), strict=True):
        c = interp(e, eid, False, pos)
        cum_start = edges.starts + 2 * np.arange(n, dtype=np.intp)
        cum = np.empty(len(e) + 2 * n)
        cum[cum_start] = 0.0
        cum[cum_start + edges.lengths + 1] = 1.0
        cum[np.arange(len(e), dtype=np.intp) + 2 * eid + 1] = c
        diff = np.diff(cum)
        keep = np.ones(len(diff), dtype=bool)
        keep[cum_start[1:] - 1] = False
        out.append(np.clip(diff[keep], 0.0, None))
    lengths = edges.lengths + 1
    starts = edges.starts + np.arange(n, dtype=np.intp)
    seg = Segments(out[0], np.repeat(np.arange(n, dtype=np.intp), lengths), starts, lengths)
    return out[0], out[1], seg


def _categorical_shares(pairs, current_counts: bool = False):
    """:func:`paired_shares` of categorical pairs as flat ``(p, q, Segments)``.

    With ``current_counts``, ``q`` holds the current side's counts instead of its shares.
    """
    from tfx_addons_lab.drift.batch import Segments

    ps, qs = [], []
    for b, c in pairs:
        pairing = category_pairing(b, c)
        pb, pc = pairing.shares()
        ps.append(pb)
        qs.append(pairing.current_counts if current_counts else pc)
    seg = Segments.of(ps)
    return seg.values, Segments.of(qs).values, seg


def _binned_batch(pairs, distance, scalar):
    """A distance on paired shares for many features, numeric and categorical alike."""
    num_ok = _batchable_numeric(pairs)
    cat_ok = np.array([b.kind == CATEGORICAL and c.kind == CATEGORICAL for b, c in pairs])

    def kernel(ok_pairs):
        num = np.array([b.kind == NUMERIC for b, _ in ok_pairs], dtype=bool)
        out = np.empty(len(ok_pairs))
        for mask, shares in ((num, _numeric_shares), (~num, _categorical_shares)):
            idx = np.flatnonzero(mask)
            if len(idx):
                out[idx] = distance(*shares([ok_pairs[i] for i in idx]))
        return out, None

    ok = num_ok | cat_ok
    # Empty share vectors (no category at all) take the per-feature path.
    ok &= np.array([b.kind == NUMERIC or bool(b.counts or c.counts) for b, c in pairs])
    return _split_run(pairs, ok, kernel, scalar, False)


def _fill_zeros_batch(p: np.ndarray, seg) -> np.ndarray:
    """:func:`fill_zeros` on every feature's slice of ``p``."""
    from tfx_addons_lab.drift.batch import segment_min

    m = segment_min(np.where(p > 0, p, np.inf), seg)
    eps = np.where(m <= SMOOTHING_EPSILON, m / 1e6, SMOOTHING_EPSILON)
    return np.where(p == 0, eps[seg.ids], p)


def _psi_kernel(p, q, seg) -> np.ndarray:
    from tfx_addons_lab.drift.batch import segment_sum

    p, q = _fill_zeros_batch(p, seg), _fill_zeros_batch(q, seg)
    return segment_sum((p - q) * np.log(p / q), seg)


def _js_kernel(p, q, seg) -> np.ndarray:
    from tfx_addons_lab.drift.batch import segment_sum

    p = p / segment_sum(p, seg)[seg.ids]
    q = q / segment_sum(q, seg)[seg.ids]
    m = (p + q) / 2.0
    js = segment_sum(_rel_entr(p, m), seg) + segment_sum(_rel_entr(q, m), seg)
    js /= np.log(2.0)
    return np.sqrt(np.maximum(js, 0.0) / 2.0)


def _hellinger_kernel(p, q, seg) -> np.ndarray:
    from tfx_addons_lab.drift.batch import segment_sum

    p = p / segment_sum(p, seg)[seg.ids]
    q = q / segment_sum(q, seg)[seg.ids]
    return np.sqrt(segment_sum((np.sqrt(p) - np.sqrt(q)) ** 2, seg) / 2.0)


def _l_infinity_kernel(p, q, seg) -> np.ndarray:
    from tfx_addons_lab.drift.batch import segment_max

    return segment_max(np.abs(p - q), seg)


def _tvd_kernel(p, q, seg) -> np.ndarray:
    from tfx_addons_lab.drift.batch import segment_sum

    return 0.5 * segment_sum(np.abs(p - q), seg)


def _binned(distance, scalar):
    def batch(pairs):
        return _binned_batch(pairs, distance, scalar)

    return batch


def _batch_chi_square(pairs):
    """:func:`chi_square_test` for many categorical features."""
    from tfx_addons_lab.drift.batch import segment_max

    def kernel(ok_pairs):
        from scipy.special import chdtrc

        from tfx_addons_lab.drift.batch import segment_sum

        sh, f_obs, seg = _categorical_shares(ok_pairs, current_counts=True)
        zero = segment_max((sh == 0).astype(float), seg) > 0
        if zero.any():
            filled = _fill_zeros_batch(sh, seg)
            filled = filled / segment_sum(filled, seg)[seg.ids]
            sh = np.where(zero[seg.ids], filled, sh)
        f_exp = sh * segment_sum(f_obs, seg)[seg.ids]
        stat = segment_sum((f_obs - f_exp) ** 2 / f_exp, seg)
        k = seg.lengths
        p = chdtrc(np.maximum(k - 1, 1), stat)
        small = k < 2
        return np.where(small, 0.0, stat), np.where(small, 1.0, p)

    ok = np.array(
        [b.kind == CATEGORICAL and c.kind == CATEGORICAL and bool(b.counts) for b, c in pairs]
    )
    return _split_run(pairs, ok, kernel, chi_square_test, True)


_BUILTINS = [
    DriftMethod(
        "ks",
        {NUMERIC},
        P_VALUE,
        0.05,
        _ks,
        "two-sample Kolmogorov-Smirnov test on the interpolated CDFs; value = p-value, "
        "statistic = D",
        batch=_batch_ks,
    ),
    DriftMethod(
        "wasserstein",
        {NUMERIC},
        DISTANCE,
        0.1,
        _wasserstein,
        "Wasserstein-1 distance divided by the baseline standard deviation (Evidently's "
        "'wasserstein normed')",
        batch=_batch_wasserstein,
    ),
    DriftMethod(
        "psi",
        {NUMERIC, CATEGORICAL},
        DISTANCE,
        0.1,
        _psi,
        "population stability index, sum((p-q) ln(p/q)); numeric: baseline deciles",
        batch=_binned(_psi_kernel, _psi),
    ),
    DriftMethod(
        "jensen_shannon",
        {NUMERIC, CATEGORICAL},
        DISTANCE,
        0.1,
        _js,
        "Jensen-Shannon distance (sqrt of the JS divergence, base 2); numeric: baseline deciles",
        batch=_binned(_js_kernel, _js),
    ),
    DriftMethod(
        "hellinger",
        {NUMERIC, CATEGORICAL},
        DISTANCE,
        0.1,
        _hellinger,
        "Hellinger distance; numeric: baseline deciles",
        batch=_binned(_hellinger_kernel, _hellinger),
    ),
    DriftMethod(
        "chi_square",
        {CATEGORICAL},
        P_VALUE,
        0.05,
        chi_square_test,
        "chi-square goodness of fit of current counts to baseline shares; value = p-value",
        batch=_batch_chi_square,
    ),
    DriftMethod(
        "l_infinity",
        {CATEGORICAL},
        DISTANCE,
        0.1,
        _l_infinity,
        "L-infinity distance as TFDV defines it: max |share_b - share_c| over categories",
        batch=_binned(_l_infinity_kernel, _l_infinity),
    ),
    DriftMethod(
        "tvd",
        {CATEGORICAL},
        DISTANCE,
        0.1,
        _tvd,
        "total variation distance, 0.5 * sum |share_b - share_c|",
        batch=_binned(_tvd_kernel, _tvd),
    ),
]

for _m in _BUILTINS:
    register_method(_m)

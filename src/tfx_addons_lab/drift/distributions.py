"""Distributions rebuilt from TFDV statistics, the input of every drift method.

A :class:`Distribution` is what a drift method sees of one side (baseline or current) of one
feature. It is built from a ``FeatureNameStatistics`` proto, never from raw rows:

* **numeric** features (``num_stats``) keep a piecewise-linear CDF whose knots are the
  boundaries of the ``QUANTILES`` histogram (equal-mass buckets; ask StatisticsGen for at least
  100 of them with ``tfdv.StatsOptions(num_quantiles_histogram_buckets=100)``). When no
  quantiles histogram is present the ``STANDARD`` histogram is used the same way. A run of
  zero-width buckets ``[v, v]`` becomes a jump of the CDF at ``v`` (a repeated value).
* **categorical** features (``string_stats``, e.g. strings or INT features with a categorical
  domain in the schema) keep the count of every category from ``rank_histogram`` (falling
  back to ``top_values``). ``truncated`` is True when these counts add up to less than the
  number of values (the statistics were built with fewer rank buckets than categories).
* a numeric feature with at most 5 distinct values (or named in
  ``DriftConfig.categorical_features``) is turned into a categorical distribution over its
  values with :meth:`Distribution.as_categorical`: TFDV's quantile buckets are ``(lo, hi]``
  intervals, so a bucket with ``lo == hi`` holds value ``lo`` and a bucket with ``lo < hi``
  is counted for ``hi`` (exact for discrete data whose every value holds more than
  ``1/buckets`` of the mass; a rarer value falling strictly inside a bucket is merged into
  the bucket's upper value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import attrgetter, gt
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

NUMERIC = "numeric"
CATEGORICAL = "categorical"
UNSUPPORTED = "unsupported"

#: Numeric features with at most this many distinct values are compared as categorical.
MAX_DISCRETE_VALUES = 5


class CategoryPairing(NamedTuple):
    """Both sides of a categorical feature on the same categories (:func:`category_pairing`).

    Attributes:
      categories: the baseline's categories (most frequent first), then the current side's
        categories that the baseline lacks (most frequent first).
      baseline_counts, current_counts: each side's count of every category (0 when absent).
      baseline_total, current_total: each side's listed count (the sum of its ``counts``).
    """

    categories: List[str]
    baseline_counts: np.ndarray
    current_counts: np.ndarray
    baseline_total: float
    current_total: float

    def shares(self) -> Tuple[np.ndarray, np.ndarray]:
        """Both sides' shares of their listed counts (:meth:`Distribution.shares` of
        :attr:`categories`); zeros for a side without counts."""
        return (
            _shares(self.baseline_counts, self.baseline_total),
            _shares(self.current_counts, self.current_total),
        )


def _shares(counts: np.ndarray, total: float) -> np.ndarray:
    return counts / total if total > 0 else np.zeros(len(counts))


def category_pairing(baseline: Distribution, current: Distribution) -> CategoryPairing:
    """The categories of a categorical pair and both sides' counts on them.

    A dict keeps its keys in first-insertion order, so merging the two count dicts lists the
    baseline's categories, then the new current ones (in C, no per-category Python step);
    the baseline's counts are its own values, zeros after them. Computed once per pair (the
    drift method, the report's histogram and the new-category note all need it) and kept on
    the current side while both sides' ``counts`` stay the same objects.
    """
    memo = current._pairing
    if (
        memo is not None
        and memo[0] is baseline
        and memo[1] is baseline.counts
        and memo[2] is current.counts
        and memo[3] == (len(baseline.counts), len(current.counts))
    ):
        return memo[4]
    cats = list({**baseline.counts, **current.counts})
    n, nb = len(cats), len(baseline.counts)
    cb = np.zeros(n)
    cb[:nb] = np.fromiter(baseline.counts.values(), dtype=float, count=nb)
    cc = np.fromiter(map(current.counts.get, cats, repeat(0.0)), dtype=float, count=n)
    pairing = CategoryPairing(
        cats,
        cb,
        cc,
        float(sum(baseline.counts.values())),
        float(sum(current.counts.values())),
    )
    current._pairing = (
        baseline,
        baseline.counts,
        current.counts,
        (nb, len(current.counts)),
        pairing,
    )
    return pairing


def _fmt_value(v: float) -> str:
    """Label of a numeric value used as a category (``3`` for 3.0, ``0.5`` for 0.5)."""
    if math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return repr(float(v))


@dataclass
class Distribution:
    """One side of one feature, as rebuilt from TFDV statistics.

    Attributes:
      name: feature name (path steps joined with ``.``).
      kind: ``"numeric"``, ``"categorical"`` or ``"unsupported"`` (bytes/struct features).
      proto_type: the TFDV feature type name (``INT``, ``FLOAT``, ``STRING``, ``BYTES``,
        ``STRUCT``).
      count: number of values the distribution describes (non-missing values).
      num_examples: number of examples in the data set.
      missing: examples without the feature (``num_missing``) plus NaN values reported in the
        histograms (``num_nan``).
      nan: NaN values reported by TFDV (part of ``missing``).
      cdf_x, cdf_p: numeric only: knots of the piecewise-linear CDF (``cdf_x`` non-decreasing,
        a repeated x is a jump; ``cdf_p`` from 0 to 1).
      histogram_type: numeric only: ``"QUANTILES"`` or ``"STANDARD"`` (the source of the CDF).
      buckets: numeric only: number of histogram buckets used.
      mean, std, min, max: numeric only; ``std`` is TFDV's population standard deviation.
      counts: categorical only: category label -> count, most frequent first, ties by label
        descending (TFDV's order).
      truncated: categorical only: the statistics do not list every category.
      unique: categorical only: number of distinct values reported by TFDV (may exceed
        ``len(counts)`` when truncated).
      tail_means: numeric only: ``{"low": m}`` / ``{"high": m}`` when an outermost bucket was
        reshaped to match the exact mean (see :func:`mean_matched_tails`); empty otherwise.
      nonfinite: numeric only: infinite values (+inf/-inf) left out of the distribution;
        ``count`` holds the finite values only, ``mean``/``std``/``min``/``max`` are those of
        the finite values (mean and std then estimated from the histogram).
      nonfinite_note: how the infinite values were left out (shown in the report's note).
      not_evaluable: why no method can be computed on this side (e.g. every value is
        infinite, or the statistics do not say how many values are infinite); empty when
        the side can be compared.
    """

    name: str
    kind: str
    proto_type: str = "INT"
    count: float = 0.0
    num_examples: float = 0.0
    missing: float = 0.0
    nan: float = 0.0
    cdf_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cdf_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    histogram_type: Optional[str] = None
    buckets: int = 0
    mean: Optional[float] = None
    std: Optional[float] = None
    min: Optional[float] = None
    max: Optional[float] = None
    counts: Dict[str, float] = field(default_factory=dict)
    truncated: bool = False
    unique: Optional[int] = None
    tail_means: Dict[str, float] = field(default_factory=dict)
    nonfinite: float = 0.0
    nonfinite_note: str = ""
    not_evaluable: str = ""
    # Raw quantile buckets (lo, hi, count) kept to rebuild point masses of discrete features
    # (set when the distribution is built by hand; see _bucket_rows).
    _raw_buckets: List[tuple] = field(default_factory=list, repr=False)
    # The raw buckets as an (n, 3) float array when built from statistics (else None); then
    # no per-bucket Python tuple is kept and _raw_buckets stays empty.
    _raw_array: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    # distinct_values() computed ahead for many features at once (distributions_from_features),
    # or a lower bound on their number when there are more than MAX_DISCRETE_VALUES.
    _distinct: Optional[List[float]] = field(default=None, repr=False, compare=False)
    _distinct_at_least: int = field(default=0, repr=False, compare=False)
    # category_pairing() with a baseline, kept on the current side (computed once per pair).
    _pairing: Optional[tuple] = field(default=None, repr=False, compare=False)

    def _bucket_rows(self) -> List[tuple]:
        """The raw buckets ``(lo, hi, count)`` as float triples (from ``_raw_array`` if set)."""
        if self._raw_array is not None and not self._raw_buckets:
            return [tuple(r) for r in self._raw_array.tolist()]
        return self._raw_buckets

    # ------------------------------------------------------------------ numeric helpers
    @property
    def is_empty(self) -> bool:
        """True when the side holds no value at all."""
        if self.kind == NUMERIC:
            return self.count <= 0 or len(self.cdf_x) == 0
        if self.kind == CATEGORICAL:
            return self.count <= 0 or not self.counts
        return self.count <= 0

    @property
    def integer_valued(self) -> bool:
        """Numeric: every histogram boundary (and min/max) is a whole number."""
        arr = self._raw_array
        if arr is not None and len(arr):
            bounds = arr[:, :2]
            ends = [v for v in (self.min, self.max) if v is not None]
            return bool(np.isfinite(bounds).all() and (bounds == np.floor(bounds)).all()) and all(
                math.isfinite(v) and float(v).is_integer() for v in ends
            )
        vals = [v for lo, hi, c in self._bucket_rows() for v in (lo, hi)]
        if not vals and len(self.cdf_x):
            vals = list(self.cdf_x)
        vals += [v for v in (self.min, self.max) if v is not None]
        return bool(vals) and all(math.isfinite(v) and float(v).is_integer() for v in vals)

    def distinct_values(self) -> List[float]:
        """Numeric: the distinct values seen among the histogram boundaries (sorted)."""
        if self._distinct is not None:
            return list(self._distinct)
        arr = self._raw_array
        if arr is not None:
            vals = set(np.unique(arr[arr[:, 2] > 0, :2]).tolist())
        else:
            vals = {float(v) for lo, hi, c in self._bucket_rows() if c > 0 for v in (lo, hi)}
        if self.min is not None and self.count > 0:
            vals.add(float(self.min))
        if self.max is not None and self.count > 0:
            vals.add(float(self.max))
        return sorted(vals)

    def distinct_values_up_to(self, limit: int) -> Optional[List[float]]:
        """Numeric: :meth:`distinct_values` when there are at most ``limit``, else None
        (known without listing them for features built by :func:`distributions_from_features`
        with more than :data:`MAX_DISCRETE_VALUES`)."""
        if self._distinct is None and self._distinct_at_least > limit:
            return None
        values = self.distinct_values()
        return values if len(values) <= limit else None

    def cdf(self, x, side: str = "right") -> np.ndarray:
        """Numeric: the interpolated CDF at ``x``.

        ``side="right"`` gives P(X <= x), ``side="left"`` P(X < x) (they differ only at a
        jump, i.e. a repeated value).
        """
        x = np.asarray(x, dtype=float)
        if len(self.cdf_x) == 0:
            return np.zeros_like(x)
        return _interp_runs(x, self.cdf_x, self.cdf_p, side, below=0.0, above=1.0)

    def quantile(self, u) -> np.ndarray:
        """Numeric: the interpolated quantile function (inverse CDF) at ``u`` in [0, 1]."""
        u = np.asarray(u, dtype=float)
        if len(self.cdf_x) == 0:
            return np.full_like(u, np.nan)
        return _interp_runs(
            u, self.cdf_p, self.cdf_x, "right", below=self.cdf_x[0], above=self.cdf_x[-1]
        )

    def bucket_shares(self, edges: Sequence[float]) -> np.ndarray:
        """Numeric: share of the mass in ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
        edges = np.asarray(edges, dtype=float)
        c = self.cdf(edges, side="right")
        cum = np.concatenate([[0.0], c, [1.0]])
        return np.clip(np.diff(cum), 0.0, None)

    # -------------------------------------------------------------- categorical helpers
    def shares(self, categories: Sequence[str]) -> np.ndarray:
        """Categorical: share of each category in ``categories`` (over the listed counts)."""
        return _shares(self.counts_for(categories), float(sum(self.counts.values())))

    def counts_for(self, categories: Sequence[str]) -> np.ndarray:
        """Categorical: the count of each category in ``categories`` (0 when absent)."""
        return np.fromiter(
            map(self.counts.get, categories, repeat(0.0)), dtype=float, count=len(categories)
        )

    def as_categorical(self) -> Distribution:
        """Numeric -> categorical over the feature's values (see the module docstring)."""
        if self.kind != NUMERIC:
            return self
        masses: Dict[float, float] = {}
        for lo, hi, c in self._bucket_rows():
            if c <= 0:
                continue
            v = float(lo) if lo == hi else float(hi)
            masses[v] = masses.get(v, 0.0) + float(c)
        # Runs of [v, v] buckets share v's count evenly; undo the float rounding of that split.
        for v, c in masses.items():
            if abs(c - round(c)) < 1e-6 * max(1.0, c):
                masses[v] = float(round(c))
        if not masses and self.count > 0 and self.min is not None:
            masses[float(self.min)] = float(self.count)
        ordered = sorted(masses.items(), key=lambda kv: (-kv[1], kv[0]))
        return Distribution(
            name=self.name,
            kind=CATEGORICAL,
            proto_type=self.proto_type,
            count=self.count,
            num_examples=self.num_examples,
            missing=self.missing,
            nan=self.nan,
            counts={_fmt_value(v): c for v, c in ordered},
            truncated=False,
            unique=len(ordered),
            mean=self.mean,
            std=self.std,
            min=self.min,
            max=self.max,
            histogram_type=self.histogram_type,
            buckets=self.buckets,
            nonfinite=self.nonfinite,
            nonfinite_note=self.nonfinite_note,
            not_evaluable=self.not_evaluable,
        )

    def summary(self) -> Dict[str, object]:
        """Small JSON-able description of this side, used in the report."""
        out: Dict[str, object] = {
            "count": _num(self.count),
            "missing": _num(self.missing),
            "num_examples": _num(self.num_examples),
        }
        if self.nan:
            out["nan"] = _num(self.nan)
        if self.nonfinite:
            out["nonfinite"] = _num(self.nonfinite)
        if self.kind == NUMERIC or self.mean is not None:
            out.update(
                mean=_num(self.mean),
                std=_num(self.std),
                min=_num(self.min),
                max=_num(self.max),
            )
            if self.histogram_type:
                out["histogram"] = self.histogram_type
                out["buckets"] = self.buckets
        if self.kind == CATEGORICAL:
            out["unique"] = self.unique if self.unique is not None else len(self.counts)
            if self.truncated:
                out["truncated"] = True
        out["type"] = self.proto_type
        return out


def _uniform_m2(lo, hi):
    """Second moment of the uniform distribution on [lo, hi]."""
    return (lo * lo + lo * hi + hi * hi) / 3.0


def _tail_quadratic(ch, cl, a_h, a_l, r1, r2):
    """The quadratic ``qa * mh**2 + qb * mh + qc = 0`` in the upper tail's mean ``mh``.

    ``ch``/``cl`` values (beyond the exact max/min) of the upper/lower tail are uniform on
    ``[a, 2m - a]`` from their inner edges ``a_h``/``a_l``; ``ch*mh + cl*ml = r1`` and
    ``ch*g(a_h, mh) + cl*g(a_l, ml) = r2`` with ``g(a, m) = (4m^2 - 2am + a^2) / 3``.
    Works on floats and numpy arrays alike (the per-feature and the batch builder share it).
    Returns ``(qa, qb, discriminant)``.
    """
    qa = 4.0 * ch / 3.0 + 4.0 * ch * ch / (3.0 * cl)
    qb = -2.0 * a_h * ch / 3.0 - 8.0 * r1 * ch / (3.0 * cl) + 2.0 * a_l * ch / 3.0
    qc = ch * a_h * a_h / 3.0 + 4.0 * r1 * r1 / (3.0 * cl) - 2.0 * a_l * r1 / 3.0
    qc += cl * a_l * a_l / 3.0 - r2
    return qa, qb, qb * qb - 4.0 * qa * qc


def _two_moment_tails(out, i_lo, i_hi, mean, std, vmin, vmax, arr=None):
    """Both tails from the exact mean and std (see :func:`mean_matched_tails`), or None.

    ``arr``: ``out`` as an (n, 3) float array, when the caller has it.
    """
    lo_l, a_l, c_l = out[i_lo]
    a_h, hi_h, c_h = out[i_hi]
    if not (
        c_l >= 2
        and c_h >= 2
        and a_l > lo_l
        and hi_h > a_h
        and math.isfinite(std)
        and std > 0
        and abs(lo_l - vmin) <= 1e-9 * max(1.0, abs(vmin))
        and abs(hi_h - vmax) <= 1e-9 * max(1.0, abs(vmax))
    ):
        return None
    if arr is None:
        arr = np.array(out, dtype=float).reshape(-1, 3)
    lows, highs, counts = arr[:, 0], arr[:, 1], arr[:, 2]
    total = float(counts.sum())
    inner = np.ones(len(arr), dtype=bool)
    inner[[i_lo, i_hi]] = False
    s1 = float(np.sum((counts * (0.5 * (lows + highs)))[inner]))
    s2 = float(np.sum((counts * _uniform_m2(lows, highs))[inner]))
    # The min and max are exact values; the other c - 1 values of a tail are uniform on
    # [inner edge a, 2m - a] (mean m, second moment (4m^2 - 2am + a^2) / 3).
    cl, ch = c_l - 1.0, c_h - 1.0
    r1 = total * mean - s1 - vmin - vmax
    r2 = total * (std * std + mean * mean) - s2 - vmin * vmin - vmax * vmax
    # ch*mh + cl*ml = r1  and  ch*g(a_h, mh) + cl*g(a_l, ml) = r2: a quadratic in mh.
    qa, qb, disc = _tail_quadratic(ch, cl, a_h, a_l, r1, r2)
    if disc < 0 or qa <= 0:
        return None
    for sign in (1.0, -1.0):
        mh = (-qb + sign * math.sqrt(disc)) / (2.0 * qa)
        ml = (r1 - ch * mh) / cl
        if a_h <= mh <= 0.5 * (a_h + vmax) and 0.5 * (vmin + a_l) <= ml <= a_l:
            return mh, ml
    return None


def mean_matched_tails(
    buckets: Sequence[tuple], mean: float, std: float = math.nan, vmin=None, vmax=None
):
    """Reshape the outermost histogram buckets to match the exact mean (and std).

    Every bucket ``(lo, hi, count)`` is read as uniform on ``[lo, hi]``. That is accurate for
    the ~100 interior quantile buckets but not for the two outermost ones, which run from the
    1st/99th percentile to the min/max: on a heavy tail (delays of 150..1300 minutes) almost
    all of the top bucket's values sit near its inner edge, and a uniform top 1 % puts its
    mean hundreds of units too high, which dominates ``wasserstein``. TFDV's ``mean`` and
    ``std_dev`` are exact, and so are ``min`` and ``max``; they fix the tails:

    1. **Both tails** (when each outer bucket holds at least 2 values and ends at the
       min/max): the min and the max are kept as exact values and the other ``c - 1`` values
       of a tail bucket with inner edge ``a`` become uniform on ``[a, 2m - a]``. The two
       unknown means ``m_low``, ``m_high`` are solved from the mean and the second moment
       (a quadratic). The solution is used when it is feasible: each tail's mean between
       its midpoint and its inner edge (a density that falls towards the min/max).
    2. **Otherwise, mean only**: the residual ``R = n * mean - sum(count * midpoint)`` goes
       to the upper tail when negative and to the lower tail when positive (a tail whose
       density falls outwards has its mean between its inner edge and its midpoint). That
       tail keeps its min/max as an exact value (when it holds at least 2 values) and its
       other values become uniform on ``[a, 2m - a]``, ``m`` chosen so the total mean is
       exact (clipped between the inner edge and the midpoint).

    Zero-width tails and non-finite moments are left alone.

    Returns ``(buckets, tail_means)``: the reshaped list and ``{"low"|"high": m}`` for each
    reshaped side (``m`` is the mean of the uniform part).
    """
    out = [(float(lo), float(hi), float(c)) for lo, hi, c in buckets]
    return _mean_matched_tails(out, None, mean, std, vmin, vmax)


def _mean_matched_tails(out: List[tuple], arr, mean, std, vmin, vmax):
    """:func:`mean_matched_tails` on a list of float triples and, when the caller has it,
    the same triples as an (n, 3) float array ``arr``."""
    if arr is None:
        arr = np.array(out, dtype=float).reshape(-1, 3)
    shaped, tails = _mean_matched_tails_array(arr, mean, std, vmin, vmax)
    if not tails:
        return out, tails
    return [tuple(r) for r in shaped.tolist()], tails


def _with_points(arr: np.ndarray, points: Sequence[tuple]) -> np.ndarray:
    """``arr`` with each ``(index, (lo, hi, count))`` row inserted before ``index``
    (indices of ``arr``, in increasing order)."""
    parts, start = [], 0
    for at, row in points:
        parts.extend((arr[start:at], np.array([row], dtype=float)))
        start = at
    parts.append(arr[start:])
    return np.concatenate(parts)


def _mean_matched_tails_array(arr: np.ndarray, mean, std, vmin, vmax):
    """:func:`mean_matched_tails` on buckets as an (n, 3) float array (not modified).

    Returns ``(shaped array, tail_means)``; the shaped array is ``arr`` itself when no tail
    is reshaped.
    """
    tails: Dict[str, float] = {}
    if len(arr) < 3 or not math.isfinite(mean):
        return arr, tails
    lows, highs, counts = arr[:, 0], arr[:, 1], arr[:, 2]
    total = float(counts.sum())
    if total <= 0 or not (np.all(np.isfinite(lows)) and np.all(np.isfinite(highs))):
        return arr, tails
    nonempty = np.nonzero(counts > 0)[0]
    if len(nonempty) < 3:
        return arr, tails
    i_lo, i_hi = int(nonempty[0]), int(nonempty[-1])
    vmin = float(lows.min()) if vmin is None else float(vmin)
    vmax = float(highs.max()) if vmax is None else float(vmax)
    # Only the two outer non-empty buckets are read as Python floats.
    rows = {i: tuple(arr[i].tolist()) for i in (i_lo, i_hi)}
    solved = _two_moment_tails(rows, i_lo, i_hi, float(mean), float(std), vmin, vmax, arr)
    if solved is not None:
        mh, ml = solved
        a_h, _, c_h = rows[i_hi]
        lo_l, a_l, c_l = rows[i_lo]
        # Keep the order of the rows: the extreme point goes outside the uniform part.
        reshaped = arr.copy()
        reshaped[i_hi] = (a_h, max(2.0 * mh - a_h, a_h), c_h - 1.0)
        reshaped[i_lo] = (min(2.0 * ml - a_l, a_l), a_l, c_l - 1.0)
        points = [(i_lo, (vmin, vmin, 1.0)), (i_hi + 1, (vmax, vmax, 1.0))]
        return _with_points(reshaped, points), {"low": ml, "high": mh}
    residual = float(total * mean - np.sum(counts * 0.5 * (lows + highs)))
    # Ignore float noise: a residual below 1e-9 of the value range is no information.
    span = float(highs.max() - lows.min())
    if span <= 0 or abs(residual) <= 1e-9 * span * total:
        return arr, tails
    side = "high" if residual < 0 else "low"
    i = i_hi if side == "high" else i_lo
    lo, hi, c = rows[i]
    if hi <= lo:
        return arr, tails
    edge = lo if side == "high" else hi  # the inner edge of the tail bucket
    extreme = hi if side == "high" else lo
    exact_end = vmax if side == "high" else vmin
    keep_extreme = c >= 2 and abs(extreme - exact_end) <= 1e-9 * max(1.0, abs(exact_end))
    if keep_extreme:
        # The min/max is an exact value; the other c - 1 values take the residual.
        m = (c * 0.5 * (lo + hi) + residual - extreme) / (c - 1.0)
        n_uniform = c - 1.0
    else:
        m = 0.5 * (lo + hi) + residual / c
        n_uniform = c
    m = min(max(m, min(edge, 0.5 * (edge + extreme))), max(edge, 0.5 * (edge + extreme)))
    other = 2.0 * m - edge
    reshaped = arr.copy()
    reshaped[i] = (edge, other, n_uniform) if side == "high" else (other, edge, n_uniform)
    if keep_extreme:
        reshaped = _with_points(
            reshaped, [(i + 1 if side == "high" else i, (extreme, extreme, 1.0))]
        )
    tails[side] = m
    return reshaped, tails


def _interp_runs(q, knots, values, side, below, above) -> np.ndarray:
    """Piecewise-linear interpolation through (knots, values) allowing repeated knots.

    A run of equal knots is a jump: at the knot itself ``side="right"`` returns the run's last
    value and ``side="left"`` its first; between two distinct knots the line joins the last
    value of the left run to the first value of the right run. ``below``/``above`` are
    returned outside [knots[0], knots[-1]].
    """
    q = np.asarray(q, dtype=float)
    knots = np.asarray(knots, dtype=float)
    values = np.asarray(values, dtype=float)
    ux, first = np.unique(knots, return_index=True)
    last = np.append(first[1:] - 1, len(knots) - 1)
    v_first, v_last = values[first], values[last]
    j = np.searchsorted(ux, q, side="right") - 1  # ux[j] <= q < ux[j + 1]
    jc = np.clip(j, 0, len(ux) - 1)
    jn = np.clip(j + 1, 0, len(ux) - 1)
    at_knot = (j >= 0) & (ux[jc] == q)
    width = ux[jn] - ux[jc]
    t = np.where(width > 0, (q - ux[jc]) / np.where(width > 0, width, 1.0), 0.0)
    between = v_last[jc] + t * (v_first[jn] - v_last[jc])
    at = v_last[jc] if side == "right" else v_first[jc]
    out = np.where(at_knot, at, between)
    out = np.where(j < 0, below, out)
    out = np.where((j >= len(ux) - 1) & ~at_knot, above, out)
    return out


def _num(v):
    if v is None:
        return None
    v = float(v)
    if not math.isfinite(v):
        return None
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


#: Aliases naming the two arguments of a drift method's ``compute`` callable.
BaselineDist = Distribution
CurrentDist = Distribution


# ---------------------------------------------------------------------- proto -> Distribution
def feature_name(feature) -> str:
    """Name of a ``FeatureNameStatistics``: its path steps joined by ``.`` (or ``name``)."""
    if feature.HasField("path") and len(feature.path.step):
        return ".".join(feature.path.step)
    return feature.name


_TYPE_NAMES: Dict[int, str] = {}


def _type_name(feature) -> str:
    """The feature's type name (``INT``, ``FLOAT``, ...), from a dict filled on first use."""
    name = _TYPE_NAMES.get(feature.type)
    if name is None:
        from tensorflow_metadata.proto.v0 import statistics_pb2

        name = statistics_pb2.FeatureNameStatistics.Type.Name(feature.type)
        _TYPE_NAMES[feature.type] = name
    return name


def _pick_histogram(num_stats):
    """(histogram, type name) preferring QUANTILES, else STANDARD, else (None, None)."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    quantiles = statistics_pb2.Histogram.QUANTILES
    best_q, best_s = None, None
    for h in num_stats.histograms:
        if h.type == quantiles:
            if best_q is None or len(h.buckets) > len(best_q.buckets):
                best_q = h
        elif best_s is None:
            best_s = h
    if best_q is not None and best_q.buckets:
        return best_q, "QUANTILES"
    if best_s is not None and best_s.buckets:
        return best_s, "STANDARD"
    return None, None


def distribution_from_feature(feature, num_examples: float = 0.0) -> Distribution:
    """Build a :class:`Distribution` from one ``FeatureNameStatistics`` proto."""
    name = feature_name(feature)
    ptype = _type_name(feature)
    which = feature.WhichOneof("stats")
    if which == "num_stats":
        return _numeric_distribution(feature, name, ptype, float(num_examples))
    if which == "string_stats":
        ss = feature.string_stats
        cs = ss.common_stats
        rank = ss.rank_histogram.buckets
        if len(rank):
            counts = {b.label: b.sample_count for b in rank}
            n_listed = len(rank)
        else:
            counts = {tv.value: tv.frequency for tv in ss.top_values}
            n_listed = len(ss.top_values)
        if len(counts) != n_listed:  # repeated labels: their counts add up
            pairs = (
                [(b.label, b.sample_count) for b in rank]
                if len(rank)
                else [(tv.value, tv.frequency) for tv in ss.top_values]
            )
            counts = {}
            for label, c in pairs:
                counts[label] = counts.get(label, 0.0) + c
        counts = _ordered_counts(counts)
        n_values = float(cs.tot_num_values or cs.num_non_missing)
        listed = float(sum(counts.values()))
        truncated = listed + 1e-9 < n_values or (ss.unique and ss.unique > len(counts))
        return Distribution(
            name=name,
            kind=CATEGORICAL,
            proto_type=ptype,
            count=n_values if cs.num_non_missing > 0 else 0.0,
            num_examples=float(num_examples),
            missing=float(cs.num_missing),
            counts=counts,
            truncated=bool(truncated),
            unique=int(ss.unique) if ss.unique else len(counts),
        )
    cs = None
    if which is not None:
        stats = getattr(feature, which)
        cs = getattr(stats, "common_stats", None)
    return Distribution(
        name=name,
        kind=UNSUPPORTED,
        proto_type=ptype,
        count=float(cs.num_non_missing) if cs is not None else 0.0,
        num_examples=float(num_examples),
        missing=float(cs.num_missing) if cs is not None else 0.0,
    )


def _ordered_counts(counts: Dict[str, float]) -> Dict[str, float]:
    """``counts`` (unique labels) ordered most frequent first, ties by label descending.

    That is the order TFDV and our engines write rank histograms in, so such counts are
    kept as they are after one check of each neighbouring pair (in C: no per-category
    Python step). Counts in any other order are sorted into it: by label descending, then
    (stable) by count descending; NaN counts (malformed statistics) go last.
    """
    if len(counts) < 2:
        return counts
    labels, values = list(counts), list(counts.values())
    pairs, following = zip(values, labels, strict=True), zip(values[1:], labels[1:], strict=True)
    if all(map(gt, pairs, following)):
        return counts
    labels.sort(reverse=True)
    if any(map(math.isnan, values)):
        labels.sort(
            key=lambda k: (math.isnan(counts[k]), 0.0 if math.isnan(counts[k]) else -counts[k])
        )
    else:
        labels.sort(key=counts.__getitem__, reverse=True)  # stable: ties stay by label
    return {label: counts[label] for label in labels}


def _all_histograms(num_stats) -> List[tuple]:
    """Every bucket ``(lo, hi, count)`` of every histogram of a ``num_stats``."""
    return [
        (float(b.low_value), float(b.high_value), max(float(b.sample_count), 0.0))
        for h in num_stats.histograms
        for b in h.buckets
    ]


def _finite_part(buckets: List[tuple], count: float, num_stats):
    """Remove infinite values from the histogram ``buckets`` of one feature.

    Returns ``(finite buckets, number of infinite values, note, reason)``; ``reason`` is set
    (and the rest meaningless) when the statistics do not allow separating them.

    Where the counts come from, by statistics engine:

    * TFDV puts each infinite value in a ``[inf, inf]`` / ``[-inf, -inf]`` bucket of its
      ``STANDARD`` histogram (exact counts) and its ``QUANTILES`` histogram has an open
      outer bucket ``(q, inf]``: that bucket keeps its finite values, bounded by the
      largest finite boundary of any histogram.
    * The numpy engine leaves infinite values out of every histogram: they are the
      difference between ``count`` and the histogram total.
    """
    every = _all_histograms(num_stats)
    finite_bounds = [v for lo, hi, _ in every for v in (lo, hi) if math.isfinite(v)]
    exact_pos = exact_neg = None
    for h in num_stats.histograms:
        pos = sum(
            float(b.sample_count)
            for b in h.buckets
            if b.low_value == math.inf and b.high_value == math.inf
        )
        neg = sum(
            float(b.sample_count)
            for b in h.buckets
            if b.low_value == -math.inf and b.high_value == -math.inf
        )
        if pos or neg:
            if exact_pos is None or pos + neg > exact_pos + exact_neg:
                exact_pos, exact_neg = pos, neg
    total = sum(c for _, _, c in buckets)
    whole = [b for b in buckets if not (math.isfinite(b[0]) or math.isfinite(b[1]))]
    partial = [b for b in buckets if math.isfinite(b[0]) != math.isfinite(b[1]) and b[2] > 0]
    finite = [b for b in buckets if math.isfinite(b[0]) and math.isfinite(b[1])]
    n_whole = sum(c for _, _, c in whole)
    if not partial:
        # Infinite values are in no bucket (numpy engine) or in whole [inf, inf] buckets.
        nonfinite = max(count - (total - n_whole), 0.0) if count else n_whole
        if exact_pos is not None:
            nonfinite = max(nonfinite, exact_pos + exact_neg)
        how = "left out"
        return finite, nonfinite, how, ""
    if exact_pos is None:
        return (
            [],
            0.0,
            "",
            "the statistics do not say how many values are infinite (an open histogram "
            "bucket ends at inf); recompute them without infinite values",
        )
    # Infinite values not already in a whole [±inf, ±inf] bucket sit in the open buckets.
    whole_pos = sum(c for lo, hi, c in whole if hi > 0)
    whole_neg = sum(c for lo, hi, c in whole if hi < 0)
    left = {1: max(exact_pos - whole_pos, 0.0), -1: max(exact_neg - whole_neg, 0.0)}
    lo_f = min(finite_bounds) if finite_bounds else None
    hi_f = max(finite_bounds) if finite_bounds else None
    for lo, hi, c in partial:
        sign = 1 if (hi == math.inf or lo == math.inf) else -1
        take = min(left[sign], c)
        left[sign] -= take
        if c - take <= 0:
            continue
        if sign > 0:
            inner = lo if math.isfinite(lo) else hi
            finite.append((inner, max(hi_f, inner), c - take))
        else:
            inner = hi if math.isfinite(hi) else lo
            finite.append((min(lo_f, inner), inner, c - take))
    finite.sort(key=lambda t: (t[0], t[1]))
    how = "left out"
    return finite, exact_pos + exact_neg, how, ""


def _bucket_moments(buckets: Sequence[tuple]):
    """(mean, population std) of buckets read as uniform on ``[lo, hi]``; (None, None) if empty."""
    total = sum(c for _, _, c in buckets)
    if total <= 0:
        return None, None
    m1 = sum(c * 0.5 * (lo + hi) for lo, hi, c in buckets) / total
    m2 = sum(c * _uniform_m2(lo, hi) for lo, hi, c in buckets) / total
    return m1, math.sqrt(max(m2 - m1 * m1, 0.0))


def _numeric_distribution(feature, name: str, ptype: str, num_examples: float) -> Distribution:
    ns = feature.num_stats
    cs = ns.common_stats
    hist, htype = _pick_histogram(ns)
    nan = float(hist.num_nan) if hist is not None else 0.0
    arr = _read_buckets(hist.buckets) if hist is not None else np.zeros((0, 3))
    # NaN values inside tf.Examples are in tot_num_values and in the histogram's num_nan:
    # they are missing values, not part of the distribution.
    count = max(float(cs.tot_num_values or cs.num_non_missing) - nan, 0.0)
    if count <= 0 and len(arr):
        count = float(sum(arr[:, 2].tolist()))
    moments = (float(ns.mean), float(ns.std_dev), float(ns.min), float(ns.max))
    has_nonfinite = count > 0 and (
        not all(math.isfinite(v) for v in moments) or not np.isfinite(arr[:, :2]).all()
    )
    nonfinite, nonfinite_note, not_evaluable = 0.0, "", ""
    mean, std, vmin, vmax = moments
    # Per-bucket tuples only where the rare infinite-value path needs them.
    buckets: List[tuple] = []
    if has_nonfinite:
        buckets = [tuple(r) for r in arr.tolist()]
        buckets, nonfinite, how, not_evaluable = _finite_part(buckets, count, ns)
        finite_total = float(sum(c for _, _, c in buckets))
        if not not_evaluable:
            if finite_total <= 0:
                not_evaluable = (
                    f"no finite value ({_fmt_count(nonfinite)} infinite)"
                    if nonfinite
                    else "no finite value (mean, std or min/max is NaN or infinite)"
                )
            else:
                count = finite_total
                if nonfinite:
                    nonfinite_note = f"{_fmt_count(nonfinite)} infinite value(s) {how}"
                else:
                    nonfinite_note = "NaN/infinite mean or std in the statistics"
                mean, std = _bucket_moments(buckets)
                vmin = min(lo for lo, _, c in buckets if c > 0)
                vmax = max(hi for _, hi, c in buckets if c > 0)
                nonfinite_note += ", finite mean/std estimated from the histogram"
    tails: Dict[str, float] = {}
    xs = ps = np.zeros(0)
    if has_nonfinite:  # infinite values were taken out
        arr = np.array(buckets, dtype=float).reshape(-1, 3)
    total = float(np.cumsum(arr[:, 2])[-1]) if len(arr) else 0.0
    if total > 0 and not not_evaluable:
        shaped = arr
        if cs.num_non_missing > 0 and not has_nonfinite:
            shaped, tails = _mean_matched_tails_array(arr, mean, std, vmin, vmax)
        xs, ps = _cdf_knots(shaped, total)
    has_values = count > 0 and not not_evaluable
    return Distribution(
        name=name,
        kind=NUMERIC,
        proto_type=ptype,
        count=count if count > 0 else 0.0,
        num_examples=num_examples,
        missing=float(cs.num_missing) + nan,
        nan=nan,
        cdf_x=xs,
        cdf_p=np.clip(ps, 0.0, 1.0),
        histogram_type=htype,
        buckets=len(hist.buckets) if hist is not None else 0,
        tail_means=tails,
        mean=float(mean) if has_values else None,
        std=float(std) if has_values else None,
        min=float(vmin) if has_values else None,
        max=float(vmax) if has_values else None,
        nonfinite=nonfinite,
        nonfinite_note=nonfinite_note,
        not_evaluable=not_evaluable,
        _raw_array=arr,
    )


_BUCKET_FIELDS = attrgetter("low_value", "high_value", "sample_count")


def _read_buckets(buckets) -> np.ndarray:
    """Histogram buckets as an ``(n, 3)`` float array ``(lo, hi, count)`` sorted by (lo, hi);
    negative counts become 0 (:func:`_bucket_array`, then :func:`_tidy_bucket_rows`)."""
    arr = _bucket_array(buckets)
    return _tidy_bucket_rows(arr, np.zeros(len(arr), dtype=np.intp), [0], [len(arr)])


def _bucket_array(buckets) -> np.ndarray:
    """Histogram buckets as read: an ``(n, 3)`` float array ``(lo, hi, count)``, filled in
    one pass over the repeated field (no per-bucket tuple is kept)."""
    n = len(buckets)
    if n == 0:
        return np.zeros((0, 3))
    return np.fromiter(
        chain.from_iterable(map(_BUCKET_FIELDS, buckets)), dtype=float, count=3 * n
    ).reshape(n, 3)


def _tidy_bucket_rows(rows: np.ndarray, ids: np.ndarray, starts, lengths) -> np.ndarray:
    """In place on the bucket rows of many features stored one after the other (``ids``:
    each row's feature; ``starts``/``lengths``: each feature's rows): negative counts become
    0 (NaN kept as read) and a feature whose rows are not sorted by (lo, hi) is sorted
    (stable). Returns ``rows``."""
    np.maximum(rows[:, 2], 0.0, out=rows[:, 2])
    if len(rows) > 1:
        lo, hi = rows[:, 0], rows[:, 1]
        down = (lo[1:] < lo[:-1]) | ((lo[1:] == lo[:-1]) & (hi[1:] < hi[:-1]))
        down &= ids[1:] == ids[:-1]
        for k in np.unique(ids[1:][down]).tolist():
            block = rows[starts[k] : starts[k] + lengths[k]]
            block[:] = block[np.lexsort((block[:, 1], block[:, 0]))]
    return rows


def _cdf_knots(shaped: np.ndarray, total: float):
    """CDF knots ``(x, p)`` of buckets ``(lo, hi, count)`` (sorted) read as uniform.

    Starts at ``(lo_0, 0)``; each bucket adds ``(hi, cum / total)``, preceded by
    ``(lo, cum_before / total)`` when it starts after the previous bucket's end (a gap: a
    flat CDF across it). ``cum`` is the running count (``np.cumsum``: sequential sums).
    """
    lo, hi, c = shaped[:, 0], shaped[:, 1], shaped[:, 2]
    n = len(lo)
    cum = np.cumsum(c)
    # Slot 0: the start; then per bucket a (lo, before) slot (kept at a gap) and (hi, cum).
    x = np.empty(2 * n + 1)
    p = np.empty(2 * n + 1)
    keep = np.ones(2 * n + 1, dtype=bool)
    x[0], p[0] = lo[0], 0.0
    x[1::2], x[2::2] = lo, hi
    p[3::2] = cum[:-1] / total
    p[1] = 0.0
    p[2::2] = cum / total
    keep[1] = False
    keep[3::2] = lo[1:] > hi[:-1]
    return x[keep], p[keep]


def _fmt_count(v: float) -> str:
    r = round(float(v))
    return str(int(r)) if abs(v - r) <= 1e-6 * max(1.0, abs(v)) else f"{v:g}"


# ------------------------------------------------------------ many features at once (batch)
def distributions_from_features(features, num_examples: float = 0.0) -> List[Distribution]:
    """:func:`distribution_from_feature` of every feature of a dataset, in order.

    Numeric features with a plain histogram (values present, finite mean/std/min/max and
    bucket boundaries, a positive histogram total) are built together by
    :func:`_numeric_batch`: their buckets are stacked into one flat array and the tail
    reshaping (:func:`mean_matched_tails`) and CDF knots are computed with a constant number
    of numpy calls for all of them. Every other feature (categorical, unsupported, infinite
    values, empty) is built by :func:`distribution_from_feature`. The numbers agree with
    the per-feature builder up to float rounding of sums (about 1e-15 relative).
    """
    out: List[Optional[Distribution]] = [None] * len(features)
    pending = []  # (index, feature, histogram, histogram type, buckets as read)
    for i, f in enumerate(features):
        if f.WhichOneof("stats") != "num_stats":
            out[i] = distribution_from_feature(f, num_examples)
            continue
        hist, htype = _pick_histogram(f.num_stats)
        if hist is None or f.num_stats.common_stats.num_non_missing <= 0:
            out[i] = distribution_from_feature(f, num_examples)
            continue
        pending.append((i, f, hist, htype, _bucket_array(hist.buckets)))
    if pending:
        built = _numeric_batch(pending, float(num_examples))
        for (i, f, *_), d in zip(pending, built, strict=True):
            out[i] = d if d is not None else distribution_from_feature(f, num_examples)
    return out  # type: ignore[return-value]


def _numeric_batch(pending, num_examples: float) -> List[Optional[Distribution]]:
    """Numeric distributions of ``pending`` features ``(index, feature, histogram, type,
    buckets array)``; None for a feature this batch does not take (see
    :func:`distributions_from_features`), which the caller builds on its own.

    Works on a :class:`~tfx_addons_lab.drift.batch.Segments` of all features' bucket rows
    ``(lo, hi, count)``; each step mirrors :func:`_mean_matched_tails_array` and
    :func:`_cdf_knots` with per-feature vectors instead of scalars.
    """
    from tfx_addons_lab.drift.batch import (
        Segments,
        segment_max,
        segment_min,
        segment_sum,
        segment_unique,
        split_by_lengths,
    )

    n = len(pending)
    # Per-feature scalars from the protos.
    head = []
    for _, f, hist, *_ in pending:
        ns = f.num_stats
        cs = ns.common_stats
        nan = float(hist.num_nan)
        count = max(float(cs.tot_num_values or cs.num_non_missing) - nan, 0.0)
        head.append((count, nan, float(cs.num_missing), ns.mean, ns.std_dev, ns.min, ns.max))
    count, nan, n_missing, mean, std, vmin, vmax = np.array(head, dtype=float).reshape(n, 7).T
    # One row per bucket (lo, hi, count), feature after feature.
    rseg = Segments.of([p[4] for p in pending])
    rows = rseg.values.reshape(-1, 3)
    nrow, rstart, rid = rseg.lengths, rseg.starts, rseg.ids
    # The buckets as _read_buckets gives them, every feature's at once; each feature keeps a
    # view of its rows as its raw array.
    _tidy_bucket_rows(rows, rid, rstart.tolist(), nrow.tolist())
    raw_arrays = split_by_lengths(rows, nrow)
    lows, highs, counts = rows[:, 0], rows[:, 1], rows[:, 2]
    pos = np.arange(len(rows), dtype=np.intp) - rstart[rid]  # row index within its feature

    # Exact per-feature running counts (np.cumsum along each padded row, as per feature).
    width = int(nrow.max()) if n else 0

    def running(c, ids, at):
        mat = np.zeros((n, max(width, 1) + 2))
        mat[ids, at] = c
        return np.cumsum(mat, axis=1)[ids, at]

    cum0 = running(counts, rid, pos)
    last = rstart + nrow - 1
    total = np.where(nrow > 0, cum0[np.maximum(last, 0)] if len(rows) else 0.0, 0.0)
    finite_rows = np.isfinite(lows) & np.isfinite(highs)
    bounds_ok = segment_min(finite_rows.astype(float), rseg, 1.0) > 0
    moments_ok = np.isfinite(mean) & np.isfinite(std) & np.isfinite(vmin) & np.isfinite(vmax)
    take = (count > 0) & (nrow > 0) & bounds_ok & moments_ok & (total > 0)

    # --- tails (_mean_matched_tails_array): features with >= 3 rows and >= 3 non-empty ones.
    nonempty = counts > 0
    n_nonempty = segment_sum(nonempty.astype(float), rseg)
    big = len(rows)  # past every row index: "no non-empty row"
    i_lo = segment_min(np.where(nonempty, pos, big).astype(float), rseg, 0.0).astype(np.intp)
    i_hi = segment_max(np.where(nonempty, pos, -1).astype(float), rseg, 0.0).astype(np.intp)
    can = take & (nrow >= 3) & (n_nonempty >= 3)
    i_lo = np.where(can, i_lo, 0)
    i_hi = np.where(can, i_hi, 0)
    g_lo, g_hi = rstart + i_lo, rstart + i_hi  # global row numbers (valid where can)
    g_lo_c = np.minimum(g_lo, max(len(rows) - 1, 0))
    g_hi_c = np.minimum(g_hi, max(len(rows) - 1, 0))
    lo_l, a_l, c_l = (rows[g_lo_c, k] if len(rows) else np.zeros(n) for k in range(3))
    a_h, hi_h, c_h = (rows[g_hi_c, k] if len(rows) else np.zeros(n) for k in range(3))
    tot = segment_sum(counts, rseg)  # counts.sum() of _mean_matched_tails_array

    with np.errstate(all="ignore"):
        # 1. Both tails from the mean and the second moment (_two_moment_tails).
        two = (
            can
            & (c_l >= 2)
            & (c_h >= 2)
            & (a_l > lo_l)
            & (hi_h > a_h)
            & (std > 0)
            & (np.abs(lo_l - vmin) <= 1e-9 * np.maximum(1.0, np.abs(vmin)))
            & (np.abs(hi_h - vmax) <= 1e-9 * np.maximum(1.0, np.abs(vmax)))
        )
        inner = np.ones(len(rows), dtype=bool)
        inner[g_lo_c[can]] = False
        inner[g_hi_c[can]] = False
        s1 = segment_sum(np.where(inner, counts * (0.5 * (lows + highs)), 0.0), rseg)
        s2 = segment_sum(np.where(inner, counts * _uniform_m2(lows, highs), 0.0), rseg)
        cl, ch = c_l - 1.0, c_h - 1.0
        r1 = tot * mean - s1 - vmin - vmax
        r2 = tot * (std * std + mean * mean) - s2 - vmin * vmin - vmax * vmax
        qa, qb, disc = _tail_quadratic(ch, cl, a_h, a_l, r1, r2)
        two &= (disc >= 0) & (qa > 0)
        root = np.sqrt(np.where(two, disc, 0.0))
        mh = np.full(n, np.nan)
        ml = np.full(n, np.nan)
        solved = np.zeros(n, dtype=bool)
        for sign in (1.0, -1.0):
            mh_s = (-qb + sign * root) / (2.0 * qa)
            ml_s = (r1 - ch * mh_s) / cl
            ok = (
                two
                & ~solved
                & (a_h <= mh_s)
                & (mh_s <= 0.5 * (a_h + vmax))
                & (0.5 * (vmin + a_l) <= ml_s)
                & (ml_s <= a_l)
            )
            mh, ml = np.where(ok, mh_s, mh), np.where(ok, ml_s, ml)
            solved |= ok

        # 2. Otherwise the mean only: the residual goes to one tail.
        residual = tot * mean - segment_sum(counts * 0.5 * (lows + highs), rseg)
        span = segment_max(highs, rseg, -np.inf) - segment_min(lows, rseg, np.inf)
        one = can & ~solved & (span > 0) & ~(np.abs(residual) <= 1e-9 * span * tot)
        high = residual < 0
        g_i = np.where(high, g_hi_c, g_lo_c)
        lo1, hi1, c1 = (rows[g_i, k] if len(rows) else np.zeros(n) for k in range(3))
        one &= hi1 > lo1
        edge = np.where(high, lo1, hi1)
        extreme = np.where(high, hi1, lo1)
        exact_end = np.where(high, vmax, vmin)
        keep = (c1 >= 2) & (
            np.abs(extreme - exact_end) <= 1e-9 * np.maximum(1.0, np.abs(exact_end))
        )
        m1 = np.where(
            keep,
            (c1 * 0.5 * (lo1 + hi1) + residual - extreme) / (c1 - 1.0),
            0.5 * (lo1 + hi1) + residual / c1,
        )
        n_uniform = np.where(keep, c1 - 1.0, c1)
        mid = 0.5 * (edge + extreme)
        m1 = _py_min(_py_max(m1, np.minimum(edge, mid)), np.maximum(edge, mid))
        other = 2.0 * m1 - edge

    # Reshape the tail rows and insert the exact min/max points.
    shaped = rows.copy()
    s = np.flatnonzero(solved)
    shaped[g_hi[s]] = np.column_stack(
        (a_h[s], np.maximum(2.0 * mh[s] - a_h[s], a_h[s]), c_h[s] - 1.0)
    )
    shaped[g_lo[s]] = np.column_stack(
        (np.minimum(2.0 * ml[s] - a_l[s], a_l[s]), a_l[s], c_l[s] - 1.0)
    )
    o = np.flatnonzero(one)
    oh = high[o]
    shaped[g_i[o]] = np.column_stack(
        (
            np.where(oh, edge[o], other[o]),
            np.where(oh, other[o], edge[o]),
            n_uniform[o],
        )
    )
    ko = o[keep[o]]
    # (global row to insert before, feature, row): sorted so np.insert keeps feature order.
    at = np.concatenate([g_lo[s], g_hi[s] + 1, np.where(high[ko], g_i[ko] + 1, g_i[ko])])
    who = np.concatenate([s, s, ko])
    new_rows = np.concatenate(
        [
            np.column_stack((vmin[s], vmin[s], np.ones(len(s)))),
            np.column_stack((vmax[s], vmax[s], np.ones(len(s)))),
            np.column_stack((extreme[ko], extreme[ko], np.ones(len(ko)))),
        ]
    ).reshape(-1, 3)
    order = np.lexsort((who, at))
    shaped = np.insert(shaped, at[order], new_rows[order], axis=0)
    sid = np.insert(rid, at[order], who[order])
    slen = np.bincount(sid, minlength=n).astype(np.intp)
    sstart = np.zeros(n, dtype=np.intp)
    if n > 1:
        np.cumsum(slen[:-1], out=sstart[1:])

    # --- Distribution.distinct_values (boundaries of non-empty buckets, min and max), only
    # for the features that may have few (the "MAX_DISCRETE_VALUES or fewer: categorical"
    # rule): the rows are sorted, so the rises of the non-empty rows' lower boundaries
    # count distinct values, a lower bound for the rest.
    full = np.arange(n, dtype=np.intp)
    used = counts > 0
    used_lows, used_ids = lows[used], rid[used]
    rise = np.ones(len(used_lows), dtype=bool)
    if len(used_lows) > 1:
        rise[1:] = (used_lows[1:] > used_lows[:-1]) | (used_ids[1:] != used_ids[:-1])
    n_lows = np.bincount(used_ids[rise], minlength=n)
    few = n_lows <= MAX_DISCRETE_VALUES
    values = np.concatenate([used_lows, highs[used], vmin, vmax])
    ids = np.concatenate([used_ids, used_ids, full, full])
    listed = few[ids]
    distinct = segment_unique(Segments(values[listed], ids[listed], full, None))
    distinct_lists = [v.tolist() for v in distinct.split()]
    lows_seen = n_lows.tolist()

    # --- CDF knots (_cdf_knots): per row a (lo, cum_before / total) slot, kept for a
    # feature's first row (the start, p = 0) and at a gap, and a (hi, cum / total) slot.
    lo, hi, c = shaped[:, 0], shaped[:, 1], shaped[:, 2]
    spos = np.arange(len(shaped), dtype=np.intp) - sstart[sid]
    cum = running(c, sid, spos)
    t = total[sid]
    with np.errstate(all="ignore"):
        before = np.where(spos > 0, np.concatenate([[0.0], cum[:-1]]) / t, 0.0)
        after = cum / t
    gap = np.zeros(len(shaped), dtype=bool)
    if len(shaped) > 1:
        gap[1:] = lo[1:] > hi[:-1]
    keep_a = (spos == 0) | gap
    x = np.column_stack((lo, hi)).reshape(-1)
    p = np.column_stack((before, after)).reshape(-1)
    kept = np.column_stack((keep_a, np.ones(len(shaped), dtype=bool))).reshape(-1)
    kid = np.repeat(sid, 2)[kept]
    x, p = x[kept], np.clip(p[kept], 0.0, 1.0)
    klen = np.bincount(kid, minlength=n)
    xs, ps = split_by_lengths(x, klen), split_by_lengths(p, klen)

    out: List[Optional[Distribution]] = []
    mh_l, ml_l, m1_l = mh.tolist(), ml.tolist(), m1.tolist()
    for k, (_, f, hist, htype, _) in enumerate(pending):
        if not take[k]:
            out.append(None)
            continue
        if solved[k]:
            tails = {"low": ml_l[k], "high": mh_l[k]}
        elif one[k]:
            tails = {"high" if high[k] else "low": m1_l[k]}
        else:
            tails = {}
        out.append(
            Distribution(
                name=feature_name(f),
                kind=NUMERIC,
                proto_type=_type_name(f),
                count=float(count[k]),
                num_examples=num_examples,
                missing=float(n_missing[k]) + float(nan[k]),
                nan=float(nan[k]),
                cdf_x=xs[k],
                cdf_p=ps[k],
                histogram_type=htype,
                buckets=len(hist.buckets),
                tail_means=tails,
                mean=float(mean[k]),
                std=float(std[k]),
                min=float(vmin[k]),
                max=float(vmax[k]),
                _raw_array=raw_arrays[k],
                _distinct=distinct_lists[k] if few[k] else None,
                _distinct_at_least=lows_seen[k],
            )
        )
    return out


def _py_max(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise Python ``max(a, b)`` (``a`` when neither is larger, NaN included)."""
    return np.where(b > a, b, a)


def _py_min(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise Python ``min(a, b)`` (``a`` when neither is smaller, NaN included)."""
    return np.where(b < a, b, a)

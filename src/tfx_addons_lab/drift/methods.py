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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Tuple

import numpy as np

from tfx_addons_lab.drift.distributions import CATEGORICAL, NUMERIC, Distribution
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
    """

    name: str
    feature_types: FrozenSet[str]
    kind: str
    default_threshold: float
    compute: ComputeFn = field(compare=False)
    description: str = ""

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
    """Union of categories: baseline ones (most frequent first), then new current ones."""
    cats = list(baseline.counts)
    seen = set(cats)
    cats.extend(c for c in current.counts if c not in seen)
    return cats


def numeric_edges(baseline: Distribution, bins: int = NUMERIC_BINS) -> np.ndarray:
    """Inner bucket edges: the distinct baseline quantiles at 1/bins, ..., (bins-1)/bins."""
    u = np.arange(1, bins) / bins
    return np.unique(baseline.quantile(u))


def paired_shares(baseline: Distribution, current: Distribution) -> Tuple[np.ndarray, np.ndarray]:
    """Shares of both sides on common buckets (numeric) or categories (categorical)."""
    if baseline.kind == NUMERIC:
        edges = numeric_edges(baseline)
        return baseline.bucket_shares(edges), current.bucket_shares(edges)
    cats = categories_of(baseline, current)
    return baseline.shares(cats), current.shares(cats)


def psi_value(p: np.ndarray, q: np.ndarray) -> float:
    """PSI = sum((p - q) * ln(p / q)) after :func:`fill_zeros` on each side."""
    p, q = fill_zeros(p), fill_zeros(q)
    return float(np.sum((p - q) * np.log(p / q)))


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance, base 2: ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.

    Both share vectors are normalized to sum to 1 first; the result is in [0, 1].
    """
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(np.asarray(p, float), np.asarray(q, float), base=2.0))


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


def ks_p_value(d: float, n1: int, n2: int) -> float:
    """Two-sided two-sample KS p-value with ``scipy.stats.ks_2samp``'s ``method="auto"`` logic.

    Exact when both sizes are at most 10000 (D rounded to the 1/lcm(n1, n2) grid as scipy
    does), else Smirnov's asymptotic ``kstwo.sf(D, round(n1*n2/(n1+n2)))``.
    """
    from scipy.stats import distributions

    n1, n2 = max(int(round(n1)), 1), max(int(round(n2)), 1)
    if max(n1, n2) <= 10000:
        try:
            from scipy.stats._stats_py import _attempt_exact_2kssamp

            g = math.gcd(n1, n2)
            if (n1 // g) < np.iinfo(np.int32).max / (n2 // g):
                success, _, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
                if success and np.isfinite(prob):
                    return float(np.clip(prob, 0.0, 1.0))
        except Exception:  # noqa: BLE001 - private scipy API; fall back to asymptotic
            pass
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(distributions.kstwo.sf(d, np.round(en)), 0.0, 1.0))


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

    cats = categories_of(baseline, current)
    f_obs = current.counts_for(cats)
    shares = baseline.shares(cats)
    if np.any(shares == 0):
        shares = fill_zeros(shares)
        shares = shares / shares.sum()
    f_exp = shares * f_obs.sum()
    if len(cats) < 2:
        return 0.0, 1.0
    stat, p = chisquare(f_obs, f_exp)
    return float(stat), float(p)


_BUILTINS = [
    DriftMethod(
        "ks",
        {NUMERIC},
        P_VALUE,
        0.05,
        _ks,
        "two-sample Kolmogorov-Smirnov test on the interpolated CDFs; value = p-value, "
        "statistic = D",
    ),
    DriftMethod(
        "wasserstein",
        {NUMERIC},
        DISTANCE,
        0.1,
        _wasserstein,
        "Wasserstein-1 distance divided by the baseline standard deviation (Evidently's "
        "'wasserstein normed')",
    ),
    DriftMethod(
        "psi",
        {NUMERIC, CATEGORICAL},
        DISTANCE,
        0.1,
        _psi,
        "population stability index, sum((p-q) ln(p/q)); numeric: baseline deciles",
    ),
    DriftMethod(
        "jensen_shannon",
        {NUMERIC, CATEGORICAL},
        DISTANCE,
        0.1,
        _js,
        "Jensen-Shannon distance (sqrt of the JS divergence, base 2); numeric: baseline deciles",
    ),
    DriftMethod(
        "hellinger",
        {NUMERIC, CATEGORICAL},
        DISTANCE,
        0.1,
        _hellinger,
        "Hellinger distance; numeric: baseline deciles",
    ),
    DriftMethod(
        "chi_square",
        {CATEGORICAL},
        P_VALUE,
        0.05,
        chi_square_test,
        "chi-square goodness of fit of current counts to baseline shares; value = p-value",
    ),
    DriftMethod(
        "l_infinity",
        {CATEGORICAL},
        DISTANCE,
        0.1,
        _l_infinity,
        "L-infinity distance as TFDV defines it: max |share_b - share_c| over categories",
    ),
    DriftMethod(
        "tvd",
        {CATEGORICAL},
        DISTANCE,
        0.1,
        _tvd,
        "total variation distance, 0.5 * sum |share_b - share_c|",
    ),
]

for _m in _BUILTINS:
    register_method(_m)

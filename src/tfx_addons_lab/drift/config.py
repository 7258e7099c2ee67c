"""Drift configuration: which method per feature, thresholds, dataset verdict rule."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional

from tfx_addons_lab.drift.distributions import CATEGORICAL, NUMERIC
from tfx_addons_lab.drift.methods import available_methods, get_method, validate_threshold
from tfx_addons_lab.errors import InvalidInputError

CORRECTIONS = (None, "bonferroni", "benjamini-hochberg")
#: Values of ``DriftConfig.on_not_evaluated``.
NOT_EVALUATED_POLICIES = ("fail", "ignore")


@dataclass
class DriftConfig:
    """How :func:`~tfx_addons_lab.drift.compare_statistics` compares two data sets.

    Attributes:
      numeric_method: method for every numeric feature; ``None`` = automatic choice (see
        below).
      categorical_method: method for every categorical feature; ``None`` = automatic.
      threshold: overrides the default threshold of whichever method is chosen (a p-value
        cut-off for ``p_value`` methods, a distance for ``distance`` methods).
      feature_methods: per-feature method, ``{"dep_delay": "psi"}``.
      feature_thresholds: per-feature threshold, ``{"dep_delay": 0.2}``.
      include: only these features are compared (``None`` = all).
      exclude: these features are skipped (reported with status ``skipped``).
      drift_share: the data set drifts when drifted features / compared features >= this.
      correction: ``None``, ``"bonferroni"`` or ``"benjamini-hochberg"``: multiple-testing
        correction applied to the p-values of ``p_value`` methods before thresholding.
      small_baseline_rows: baselines with at most this many rows use the small-sample
        defaults (``ks`` / ``chi_square``); larger ones ``wasserstein`` / ``jensen_shannon``.
      categorical_features: numeric (e.g. INT) features to compare as categorical.
      schema_changes_drift: count ``added``, ``removed``, ``type_changed`` features (and a
        feature with values on one side only) as drifted features in the dataset verdict.
      on_not_evaluated: what a feature with status ``not_evaluated`` (no finite value on a
        side, or a method that gave NaN/inf) does to the dataset verdict: ``"fail"``
        (default, fail closed: the data set counts as drifted) or ``"ignore"`` (the feature
        is left out of the verdict, as ``skipped`` features are).

    Automatic method choice (as Evidently's defaults): baseline rows <= small_baseline_rows:
    ``ks`` (p < 0.05) for numeric features with more than 5 distinct values, else
    ``chi_square`` (p < 0.05); larger baselines: ``wasserstein`` (>= 0.1) for numeric features
    with more than 5 distinct values, else ``jensen_shannon`` (>= 0.1).
    """

    numeric_method: Optional[str] = None
    categorical_method: Optional[str] = None
    threshold: Optional[float] = None
    feature_methods: Dict[str, str] = field(default_factory=dict)
    feature_thresholds: Dict[str, float] = field(default_factory=dict)
    include: Optional[List[str]] = None
    exclude: List[str] = field(default_factory=list)
    drift_share: float = 0.5
    correction: Optional[str] = None
    small_baseline_rows: int = 1000
    categorical_features: List[str] = field(default_factory=list)
    schema_changes_drift: bool = True
    on_not_evaluated: str = "fail"

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ validation
    def validate(self) -> DriftConfig:
        """Raise InvalidInputError naming the bad key and the valid choices."""
        for key, kind in (("numeric_method", NUMERIC), ("categorical_method", CATEGORICAL)):
            name = getattr(self, key)
            if name is None:
                continue
            method = _known(name, key)
            if kind not in method.feature_types:
                raise InvalidInputError(
                    f"DriftConfig.{key}: method {name!r} does not apply to {kind} features; "
                    f"choose one of: {', '.join(available_methods(kind))}"
                )
        if self.threshold is not None:
            t = _number(self.threshold, "threshold")
            if not 0.0 < t < math.inf:
                raise InvalidInputError(
                    f"DriftConfig.threshold must be a positive number, got {self.threshold!r}"
                )
            for key in ("numeric_method", "categorical_method"):
                if getattr(self, key):
                    validate_threshold(
                        get_method(getattr(self, key)).kind, t, f"DriftConfig.threshold ({key})"
                    )
        if not isinstance(self.feature_methods, Mapping):
            raise InvalidInputError("DriftConfig.feature_methods must be a {feature: method} dict")
        for feat, name in self.feature_methods.items():
            _known(name, f"feature_methods[{feat!r}]")
        if not isinstance(self.feature_thresholds, Mapping):
            raise InvalidInputError(
                "DriftConfig.feature_thresholds must be a {feature: threshold} dict"
            )
        for feat, t in self.feature_thresholds.items():
            where = f"DriftConfig.feature_thresholds[{feat!r}]"
            v = _number(t, f"feature_thresholds[{feat!r}]")
            if feat in self.feature_methods:
                validate_threshold(get_method(self.feature_methods[feat]).kind, t, where)
            else:
                if not 0.0 < v < math.inf:
                    raise InvalidInputError(f"{where} must be a positive number, got {t!r}")
        for key in ("include", "exclude", "categorical_features"):
            v = getattr(self, key)
            if v is None and key == "include":
                continue
            if isinstance(v, str) or not all(isinstance(x, str) for x in (v or [])):
                raise InvalidInputError(
                    f"DriftConfig.{key} must be a list of feature names, got {v!r}"
                )
        d = _number(self.drift_share, "drift_share")
        if not 0.0 < d <= 1.0:
            raise InvalidInputError(
                f"DriftConfig.drift_share must be in (0, 1], e.g. 0.5; got {self.drift_share!r}"
            )
        if self.on_not_evaluated not in NOT_EVALUATED_POLICIES:
            raise InvalidInputError(
                "DriftConfig.on_not_evaluated must be 'fail' (a feature that cannot be "
                "evaluated fails the dataset verdict) or 'ignore'; got "
                f"{self.on_not_evaluated!r}"
            )
        if self.correction not in CORRECTIONS:
            raise InvalidInputError(
                f"DriftConfig.correction must be one of None, 'bonferroni', "
                f"'benjamini-hochberg'; got {self.correction!r}"
            )
        if (
            isinstance(self.small_baseline_rows, bool)
            or not isinstance(self.small_baseline_rows, int)
            or self.small_baseline_rows < 0
        ):
            raise InvalidInputError(
                "DriftConfig.small_baseline_rows must be a non-negative integer, got "
                f"{self.small_baseline_rows!r}"
            )
        return self

    # ------------------------------------------------------------------- (de)serialize
    def to_dict(self) -> Dict[str, Any]:
        """A JSON-able dict; ``DriftConfig.from_dict(c.to_dict()) == c``."""
        d = asdict(self)
        d["include"] = list(self.include) if self.include is not None else None
        return d

    @classmethod
    def from_dict(cls, d: Optional[Mapping[str, Any]]) -> DriftConfig:
        """Build and validate a config from a dict; unknown keys raise InvalidInputError."""
        if d is None:
            return cls()
        if isinstance(d, DriftConfig):
            return d
        if not isinstance(d, Mapping):
            raise InvalidInputError(
                f"a drift config must be a JSON object/dict, got {type(d).__name__}"
            )
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise InvalidInputError(
                f"unknown drift config key(s) {', '.join(map(repr, unknown))}; "
                f"valid keys: {', '.join(names)}"
            )
        kwargs = dict(d)
        for key in ("feature_methods", "feature_thresholds"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)
        for key in ("exclude", "categorical_features"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)
            elif key in kwargs:
                kwargs[key] = _name_list(kwargs[key], key)
        if kwargs.get("include") is not None:
            kwargs["include"] = _name_list(kwargs["include"], "include")
        return cls(**kwargs)

    # ------------------------------------------------------------------- helpers
    def is_included(self, name: str) -> bool:
        """True when ``name`` passes the include/exclude lists."""
        if self.include is not None and name not in self.include:
            return False
        return name not in self.exclude


def _known(name, key):
    if not isinstance(name, str):
        raise InvalidInputError(
            f"DriftConfig.{key}: method must be a name, got {name!r}; choose one of: "
            f"{', '.join(available_methods())}"
        )
    try:
        return get_method(name)
    except InvalidInputError:
        raise InvalidInputError(
            f"DriftConfig.{key}: unknown drift method {name!r}; choose one of: "
            f"{', '.join(available_methods())}"
        ) from None


def _number(v, where) -> float:
    if isinstance(v, bool):
        raise InvalidInputError(f"DriftConfig.{where} must be a number, got {v!r}")
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        shown = repr(v) if len(repr(v)) <= 60 else repr(v)[:57] + "..."
        raise InvalidInputError(f"DriftConfig.{where} must be a number, got {shown}") from None
    if math.isnan(f):
        raise InvalidInputError(f"DriftConfig.{where} must be a number, got NaN")
    return f


def _name_list(v, key) -> List[str]:
    if isinstance(v, str):
        v = [s.strip() for s in v.split(",") if s.strip()]
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
        raise InvalidInputError(f"DriftConfig.{key} must be a list of feature names, got {v!r}")
    return list(v)

"""The drift report: per-feature measurements and the data-set verdict (JSON schema v1)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from tfx_addons_lab import textfmt

SCHEMA_VERSION = 1

#: Status of a feature that could not be measured: no finite value on a side, or a method
#: that gave NaN/inf. It never counts as "no drift" (see ``DriftConfig.on_not_evaluated``).
NOT_EVALUATED = "not_evaluated"

#: Feature statuses. ``ok`` and ``constant`` are measured features; ``added``/``removed``/
#: ``type_changed`` are schema changes; ``all_missing`` means no value on at least one side;
#: ``not_evaluated``: values present but no finite measurement possible (the note says why);
#: ``skipped`` is excluded by the config or of an unsupported type (bytes, struct).
STATUSES = (
    "ok",
    "constant",
    "added",
    "removed",
    "type_changed",
    "all_missing",
    NOT_EVALUATED,
    "skipped",
)


def _clean(v):
    """JSON-safe float: NaN/inf -> None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass
class FeatureDrift:
    """The measurement of one feature.

    Attributes:
      name: feature name.
      type: ``"numeric"`` or ``"categorical"`` (how it was compared; for a feature that was
        not compared, its type on the side it exists).
      method: drift method name (``None`` when nothing was measured).
      kind: ``"p_value"`` or ``"distance"`` (``None`` when nothing was measured).
      value: the p-value for ``p_value`` methods, the distance for ``distance`` methods.
      statistic: the test statistic of ``p_value`` methods (KS D, chi-square), else equal to
        ``value``.
      threshold: the threshold applied.
      drifted: the verdict for this feature.
      p_value: raw p-value (``p_value`` methods only).
      p_value_adjusted: p-value after the multiple-testing correction (``None`` without one).
      status: one of :data:`STATUSES`.
      baseline, current: side summaries (count, missing, num_examples, mean/std/min/max or
        unique, ...).
      note: free text (truncated categories, few quantile buckets, schema change...).
      histogram: ``{"bins": [...], "baseline": [shares], "current": [shares]}`` for pictures.
      new_categories: categories present in current but not in the baseline.
    """

    name: str
    type: str
    method: Optional[str] = None
    kind: Optional[str] = None
    value: Optional[float] = None
    statistic: Optional[float] = None
    threshold: Optional[float] = None
    drifted: bool = False
    p_value: Optional[float] = None
    p_value_adjusted: Optional[float] = None
    status: str = "ok"
    baseline: Dict[str, Any] = field(default_factory=dict)
    current: Dict[str, Any] = field(default_factory=dict)
    note: str = ""
    histogram: Dict[str, Any] = field(default_factory=dict)
    new_categories: List[str] = field(default_factory=list)

    @property
    def effective_p_value(self) -> Optional[float]:
        """The p-value compared with the threshold (adjusted when a correction ran)."""
        if self.p_value_adjusted is not None:
            return self.p_value_adjusted
        return self.p_value

    @property
    def rule(self) -> str:
        """The drift rule applied, e.g. ``p-value < 0.05`` or ``statistic >= 0.1`` ('' if none)."""
        if not self.method or self.threshold is None:
            return ""
        if self.kind == "p_value":
            which = "adjusted p-value" if self.p_value_adjusted is not None else "p-value"
            return f"{which} < {_fmt(self.threshold)}"
        return f"statistic >= {_fmt(self.threshold)}"

    @property
    def severity(self) -> float:
        """How far past (> 0) or below (< 0) the threshold, on a log scale; for sorting.

        Schema changes rank above every measured feature.
        """
        if self.status in ("added", "removed", "type_changed", "all_missing") and self.drifted:
            return math.inf
        if self.value is None or self.threshold is None or not self.method:
            return -math.inf
        if self.kind == "p_value":
            p = self.effective_p_value if self.effective_p_value is not None else self.value
            return math.log(self.threshold) - math.log(max(p, 1e-300))
        v = max(float(self.value), 1e-300)
        return math.log(v) - math.log(self.threshold)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-able dict (NaN/inf become null)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in ("value", "statistic", "threshold", "p_value", "p_value_adjusted"):
            d[k] = _clean(d[k])
        d["baseline"] = {k: _clean(v) for k, v in self.baseline.items()}
        d["current"] = {k: _clean(v) for k, v in self.current.items()}
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> FeatureDrift:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class DriftResult:
    """Result of :func:`~tfx_addons_lab.drift.compare_statistics`: the verdict and every feature.

    Attributes:
      dataset_drifted: the data-set verdict: ``drift_share >= drift_share_threshold``, or
        any feature ``not_evaluated`` while ``on_not_evaluated`` is ``"fail"`` (fail closed).
      drift_share: drifted features / counted features (0.0 when none is counted).
      drift_share_threshold: ``DriftConfig.drift_share``.
      status: ``"ok"`` or ``"no_baseline"``.
      baseline_name, current_name: free text naming the two sides (e.g. ``train@span 2012``,
        ``train@spans 2010-2012`` for a merged rolling window).
      current_split, baseline_split: the split names compared ('' when not recorded).
      current_span: the span of the current statistics (``None`` when unknown).
      baseline_spans: the span(s) of the baseline, e.g. ``"2012"`` or ``"2010-2012"`` (''
        when unknown or without baseline).
      baseline_reason: with ``status="no_baseline"``: why, e.g. the missing span.
      n_features: features counted in the verdict.
      n_drifted: drifted features among them.
      correction: multiple-testing correction used (``None``, ``bonferroni``,
        ``benjamini-hochberg``).
      features: every feature, measured or not, in the order of the current statistics.
      config: the :class:`~tfx_addons_lab.drift.DriftConfig` used, as a dict.
      summary: :meth:`summary_line` at creation time.
      warnings: config mistakes found while comparing (e.g. a ``feature_methods`` entry
        naming no feature of either statistics).
    """

    dataset_drifted: bool
    drift_share: float
    drift_share_threshold: float
    status: str = "ok"
    baseline_name: str = "baseline"
    current_name: str = "current"
    n_features: int = 0
    n_drifted: int = 0
    correction: Optional[str] = None
    features: List[FeatureDrift] = field(default_factory=list)
    config: Dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    schema_version: int = SCHEMA_VERSION
    warnings: List[str] = field(default_factory=list)
    current_split: str = ""
    baseline_split: str = ""
    current_span: Optional[int] = None
    baseline_spans: str = ""
    baseline_reason: str = ""

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary = self.summary_line()

    # ----------------------------------------------------------------- accessors
    @property
    def drifted_features(self) -> List[str]:
        """Names of the drifted features, most severe first."""
        return [f.name for f in self.sorted_features() if f.drifted]

    @property
    def not_evaluated_features(self) -> List[str]:
        """Names of the features with status ``not_evaluated``."""
        return [f.name for f in self.features if f.status == NOT_EVALUATED]

    @property
    def fails_closed(self) -> bool:
        """True when not-evaluated features make the data set count as drifted."""
        policy = (self.config or {}).get("on_not_evaluated", "fail")
        return bool(self.not_evaluated_features) and policy == "fail"

    def feature(self, name: str) -> FeatureDrift:
        """The :class:`FeatureDrift` called ``name`` (KeyError if absent)."""
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def sorted_features(self) -> List[FeatureDrift]:
        """Features by severity: drifted first, then by how far past the threshold."""
        order = {s: i for i, s in enumerate(STATUSES)}
        return sorted(
            self.features,
            key=lambda f: (
                not f.drifted,
                f.status != NOT_EVALUATED,
                f.status == "skipped",
                -f.severity if f.severity == f.severity else 0.0,
                order.get(f.status, 99),
                f.name,
            ),
        )

    # ----------------------------------------------------------------- text
    def summary_line(self) -> str:
        """One line, e.g. ``dataset drifted: 3/5 features (60%) >= 50%: dep_delay, ...``.

        Feature names are passed through :func:`tfx_addons_lab.textfmt.safe` (no control
        characters), so the line is safe to print and to log.
        """
        if self.status == "no_baseline":
            why = f" ({textfmt.safe(self.baseline_reason)})" if self.baseline_reason else ""
            return (
                f"no baseline{why}: nothing to compare {textfmt.safe(self.current_name)} with "
                f"({len(self.features)} features); not drifted"
            )
        pct = f"{self.drift_share:.0%}"
        thr = f"{self.drift_share_threshold:.0%}"
        share_drifted = self.n_features > 0 and self.drift_share >= self.drift_share_threshold
        if self.dataset_drifted and not share_drifted and self.fails_closed:
            head = "dataset drift assumed (fail closed)"
            op = "<"
        else:
            head = "dataset drifted" if self.dataset_drifted else "no dataset drift"
            op = ">=" if share_drifted else "<"
        line = f"{head}: {self.n_drifted}/{self.n_features} features ({pct}) {op} {thr}"
        names = self.drifted_features
        if names:
            line += f": {_names(names)}"
        missing = self.not_evaluated_features
        if missing:
            verb = "fails the verdict" if self.fails_closed else "ignored"
            line += f"; {len(missing)} not evaluated ({verb}): {_names(missing)}"
        return line

    def to_text_table(self, max_rows: Optional[int] = None) -> str:
        """An aligned table, then the one-line verdict.

        Columns: feature, type, method, statistic, p-value (adjusted one in brackets),
        drift rule, drift, status. Every cell goes through :func:`tfx_addons_lab.textfmt.table`
        (control characters in names from the data are shown escaped). With ``max_rows``,
        a line ``... N more features (use --top 0 for all)`` says what is hidden.
        """
        feats = self.sorted_features()
        hidden = 0
        if max_rows is not None and max_rows >= 0 and len(feats) > max_rows:
            hidden = len(feats) - max_rows
            feats = feats[:max_rows]
        rows = []
        for f in feats:
            p = _fmt(f.p_value) if f.p_value is not None else "-"
            if f.p_value_adjusted is not None:
                p += f" (adj {_fmt(f.p_value_adjusted)})"
            rows.append(
                (
                    f.name,
                    f.type or "",
                    f.method or "-",
                    _fmt(f.statistic),
                    p,
                    f.rule or "-",
                    "DRIFT" if f.drifted else ("?" if f.status == NOT_EVALUATED else "-"),
                    f.status,
                )
            )
        lines = [
            textfmt.table(
                (
                    "feature",
                    "type",
                    "method",
                    "statistic",
                    "p-value",
                    "drift rule",
                    "drift",
                    "status",
                ),
                rows,
            )
        ]
        if hidden:
            lines.append(f"... {hidden} more features (use --top 0 for all)")
        for w in self.warnings:
            lines.append(f"warning: {textfmt.safe(w)}")
        lines.append(self.summary_line())
        return "\n".join(lines)

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> Dict[str, Any]:
        """The JSON document (schema_version 1, see docs/drift.md)."""
        return {
            "schema_version": self.schema_version,
            "dataset_drifted": bool(self.dataset_drifted),
            "drift_share": float(self.drift_share),
            "drift_share_threshold": float(self.drift_share_threshold),
            "status": self.status,
            "baseline_name": self.baseline_name,
            "current_name": self.current_name,
            "current_split": self.current_split,
            "baseline_split": self.baseline_split,
            "current_span": self.current_span,
            "baseline_spans": self.baseline_spans,
            "baseline_reason": self.baseline_reason,
            "n_features": int(self.n_features),
            "n_drifted": int(self.n_drifted),
            "drifted_features": self.drifted_features,
            "not_evaluated_features": self.not_evaluated_features,
            "correction": self.correction,
            "summary": self.summary_line(),
            "config": self.config,
            "warnings": list(self.warnings),
            "features": [f.to_dict() for f in self.features],
        }

    def to_json(self, indent: Optional[int] = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, sort_keys=False)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> DriftResult:
        """Inverse of :meth:`to_dict`."""
        from tfx_addons_lab.errors import InvalidInputError

        if not isinstance(d, dict) or "dataset_drifted" not in d:
            raise InvalidInputError(
                "not a drift report: expected a JSON object with 'dataset_drifted'"
            )
        version = d.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise InvalidInputError(
                f"drift report schema_version {version!r} is not supported (expected "
                f"{SCHEMA_VERSION})"
            )
        return cls(
            dataset_drifted=bool(d["dataset_drifted"]),
            drift_share=float(d.get("drift_share", 0.0)),
            drift_share_threshold=float(d.get("drift_share_threshold", 0.5)),
            status=d.get("status", "ok"),
            baseline_name=d.get("baseline_name", "baseline"),
            current_name=d.get("current_name", "current"),
            n_features=int(d.get("n_features", 0)),
            n_drifted=int(d.get("n_drifted", 0)),
            correction=d.get("correction"),
            features=[FeatureDrift.from_dict(f) for f in d.get("features", [])],
            config=d.get("config") or {},
            summary=d.get("summary", ""),
            schema_version=version,
            warnings=list(d.get("warnings") or []),
            current_split=d.get("current_split") or "",
            baseline_split=d.get("baseline_split") or "",
            current_span=d.get("current_span"),
            baseline_spans=d.get("baseline_spans") or "",
            baseline_reason=d.get("baseline_reason") or "",
        )

    @classmethod
    def from_json(cls, text: str) -> DriftResult:
        """Parse :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))


def _names(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(textfmt.safe(n) for n in names[:limit])
    return shown + (f", ... (+{len(names) - limit})" if len(names) > limit else "")


def _fmt(v) -> str:
    if v is None:
        return "-"
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) < 1e-3 or abs(v) >= 1e5:
        return f"{v:.3g}"
    return f"{v:.4f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- several results
#: Schema version of the index document of several comparisons.
INDEX_SCHEMA_VERSION = 1


def combined_verdict(results: Sequence[DriftResult]) -> Dict[str, Any]:
    """The verdict of several comparisons.

    Returns ``{"dataset_drifted": any drifted (fail-closed ones included), "drift_share":
    the largest share, "drifted_features": union in order, "not_evaluated_features": union,
    "status": "no_baseline" when every result has no baseline, else "ok"}``.
    """
    drifted: List[str] = []
    missing: List[str] = []
    for r in results:
        for name in r.drifted_features:
            if name not in drifted:
                drifted.append(name)
        for name in r.not_evaluated_features:
            if name not in missing:
                missing.append(name)
    statuses = [r.status or "ok" for r in results]
    all_no_baseline = bool(results) and all(s == "no_baseline" for s in statuses)
    return {
        "dataset_drifted": any(bool(r.dataset_drifted) for r in results),
        "drift_share": max((float(r.drift_share or 0.0) for r in results), default=0.0),
        "drifted_features": drifted,
        "not_evaluated_features": missing,
        "status": "no_baseline" if all_no_baseline else "ok",
    }


def index_document(
    comparisons: Sequence[Tuple[str, Mapping[str, Any], DriftResult]],
    report_file: str = "report.json",
    html_file: str = "report.html",
) -> Dict[str, Any]:
    """The index JSON document of several comparisons (``"kind": "index"``, schema v1).

    Args:
      comparisons: ``(name, comparison, result)`` per comparison: ``name`` is the
        folder-safe name whose ``<name>/report.json`` and ``<name>/report.html`` hold the
        result; ``comparison`` the configured ``{"current", "baseline", "baseline_source"}``.
      report_file, html_file: file names of each comparison's reports.
    """
    verdict = combined_verdict([r for _, _, r in comparisons])
    return {
        "kind": "index",
        "schema_version": INDEX_SCHEMA_VERSION,
        **verdict,
        "comparisons": [
            {
                "name": name,
                **dict(comparison),
                "baseline_name": r.baseline_name,
                "current_name": r.current_name,
                "current_span": r.current_span,
                "baseline_spans": r.baseline_spans,
                "dataset_drifted": bool(r.dataset_drifted),
                "drift_share": float(r.drift_share or 0.0),
                "drift_share_threshold": float(r.drift_share_threshold),
                "drifted_features": list(r.drifted_features),
                "not_evaluated_features": list(r.not_evaluated_features),
                "status": r.status or "ok",
                "summary": r.summary_line(),
                "report": f"{name}/{report_file}",
                "html": f"{name}/{html_file}",
            }
            for name, comparison, r in comparisons
        ],
    }


def combined_summary(named: Sequence[Tuple[str, DriftResult]]) -> str:
    """One line: ``name (current vs baseline): summary`` of each result, e.g.
    ``train-vs-baseline-train (train@span 2013 vs train@spans 2010-2012): no dataset drift:
    ...``, separated by `` | `` (safe to print)."""
    return " | ".join(
        f"{textfmt.safe(name)} ({textfmt.safe(r.current_name)} vs "
        f"{textfmt.safe(r.baseline_name)}): {r.summary_line()}"
        for name, r in named
    )


def describe_feature(feature: FeatureDrift) -> str:
    """``temp (wasserstein statistic 4.49 >= 0.1)``, ``x (ks p-value 0.001 < 0.05)`` or
    ``fare (removed)``; the name passed through :func:`tfx_addons_lab.textfmt.safe`."""
    name = textfmt.safe(feature.name)
    if feature.method and feature.value is not None and feature.threshold is not None:
        if feature.kind == "p_value":
            p = (
                feature.effective_p_value
                if feature.effective_p_value is not None
                else feature.value
            )
            return f"{name} ({feature.method} p-value {p:.3g} < {feature.threshold:g})"
        return f"{name} ({feature.method} statistic {feature.value:.3g} >= {feature.threshold:g})"
    return f"{name} ({feature.status})"


@dataclass
class ComparisonResult:
    """One configured comparison of a DriftValidator run and its result.

    Attributes:
      comparison: ``{"current", "baseline", "baseline_source"}`` as configured.
      name: folder-safe name, e.g. ``eval-vs-train`` or ``train-vs-baseline-train``.
      report: the :class:`DriftResult`.
    """

    comparison: Dict[str, str]
    name: str
    report: DriftResult


def verdict_properties(results: Sequence[ComparisonResult]) -> Dict[str, Any]:
    """The custom properties of a ``DriftReport`` artifact (ints, floats and strings only).

    Besides the verdict: ``current_span`` (int; absent when the span is unknown) and
    ``baseline_spans`` (e.g. ``"2010-2012"``; '' when unknown or no baseline), taken from the
    comparisons against ``baseline_statistics`` (else from any comparison).
    """
    verdict = combined_verdict([r.report for r in results])
    props: Dict[str, Any] = {
        "dataset_drifted": int(verdict["dataset_drifted"]),
        "drift_share": float(verdict["drift_share"]),
        "drifted_features": ",".join(verdict["drifted_features"]),
        "status": verdict["status"],
        "num_comparisons": len(results),
        "summary": combined_summary([(r.name, r.report) for r in results]),
    }
    over_time = [r for r in results if r.comparison.get("baseline_source") != "statistics"]
    reports = [r.report for r in (over_time or results)]
    spans = [r.current_span for r in reports if r.current_span is not None]
    if spans:
        props["current_span"] = int(spans[0])
    props["baseline_spans"] = next((r.baseline_spans for r in reports if r.baseline_spans), "")
    return props


def drift_failure_message(results: Sequence[ComparisonResult]) -> str:
    """The message of the error that stops a run on drift: each drifted comparison, its
    drifted and not-evaluated features (safe to print)."""
    parts = []
    for r in results:
        rep = r.report
        if not rep.dataset_drifted:
            continue
        features = [describe_feature(f) for f in rep.features if f.drifted]
        missing = rep.not_evaluated_features
        if missing:
            features.append("not evaluated (fail closed): " + ", ".join(map(textfmt.safe, missing)))
        parts.append(
            f"{r.name} ({textfmt.safe(rep.current_name)} vs {textfmt.safe(rep.baseline_name)}): "
            f"{len(rep.drifted_features)} of {len(rep.features)} features drifted "
            f"(share {rep.drift_share:.0%}, threshold {rep.drift_share_threshold:.0%}): "
            + "; ".join(features)
        )
    return (
        "DriftValidator: dataset drift detected: "
        + " | ".join(parts)
        + ". Set fail_on_drift=False to record drift (report.json/report.html) without "
        "failing the run."
    )

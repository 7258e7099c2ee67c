"""Spec of ``DriftValidator``: keys, ``DriftValidatorSpec``, parameter normalisation, naming.

Shared by :mod:`tfx_addons_lab.components.drift_validator` (which builds the parameters) and
:mod:`tfx_addons_lab.executors.drift_validator` (which reads them).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.specs.artifacts import DriftReport

# Inputs, outputs and parameters.
STATISTICS_KEY = "statistics"
BASELINE_STATISTICS_KEY = "baseline_statistics"
SCHEMA_KEY = "schema"
#: This run's statistics as a span-mode baseline resolver hands them on (with their span).
RESOLVED_CURRENT_KEY = "resolved_current"
ANOMALIES_KEY = "anomalies"
DRIFT_REPORT_KEY = "drift_report"
DRIFT_CONFIG_KEY = "drift_config"
COMPARISONS_KEY = "comparisons"
FAIL_ON_DRIFT_KEY = "fail_on_drift"
BASELINE_POLICY_KEY = "baseline_policy"

#: Keys of a comparison (see :func:`normalize_comparisons`): the split of the current
#: statistics, the split of the baseline, and which artifact the baseline comes from.
CURRENT = "current"
BASELINE = "baseline"
BASELINE_SOURCE = "baseline_source"
COMPARISON_KEYS = (CURRENT, BASELINE, BASELINE_SOURCE)

#: ``baseline_source`` values of a comparison.
SOURCE_STATISTICS = "statistics"
SOURCE_BASELINE = "baseline_statistics"
SOURCES = (SOURCE_STATISTICS, SOURCE_BASELINE)

#: File names inside the outputs.
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
ANOMALIES_FILE = "SchemaDiff.pb"  # as the stock ExampleValidator writes it


class DriftValidatorSpec(ComponentSpec):
    """Inputs, parameters and outputs of ``DriftValidator``.

    ``drift_config`` and ``comparisons`` are JSON strings (see :func:`normalize_comparisons`
    and :func:`config_json`); ``baseline_policy`` the JSON of the
    :class:`~tfx_addons_lab.drift.baselines.BaselinePolicy` of the resolver that feeds
    ``baseline_statistics`` (see :func:`baseline_policy_json`; empty when unknown).
    """

    PARAMETERS = {
        DRIFT_CONFIG_KEY: ExecutionParameter(type=str),
        COMPARISONS_KEY: ExecutionParameter(type=str),
        FAIL_ON_DRIFT_KEY: ExecutionParameter(type=int),
        BASELINE_POLICY_KEY: ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {
        STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics),
        BASELINE_STATISTICS_KEY: ChannelParameter(
            type=standard_artifacts.ExampleStatistics, optional=True
        ),
        SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema, optional=True),
        RESOLVED_CURRENT_KEY: ChannelParameter(
            type=standard_artifacts.ExampleStatistics, optional=True
        ),
    }
    OUTPUTS = {
        ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies),
        DRIFT_REPORT_KEY: ChannelParameter(type=DriftReport),
    }


ComparisonLike = Union[Mapping[str, Any], Sequence[str]]


def normalize_comparisons(
    comparisons: Optional[Sequence[ComparisonLike]], baseline_wired: bool
) -> List[Dict[str, str]]:
    """Validate ``comparisons`` and fill in defaults; return a list of plain dicts.

    Each comparison is ``{"current": split, "baseline": split, "baseline_source": source}``
    where ``source`` is ``"baseline_statistics"`` (the split of the baseline artifact; the
    default when a baseline is wired) or ``"statistics"`` (another split of the current
    statistics: training/serving skew; the default when no baseline is wired). A
    ``(current, baseline)`` pair is accepted as a shorthand. ``None`` means
    ``[{"current": "train", "baseline": "train", "baseline_source": "baseline_statistics"}]``.

    Raises:
      InvalidInputError: on an unknown key or source, a missing split name, or a duplicate.
    """
    default_source = SOURCE_BASELINE if baseline_wired else SOURCE_STATISTICS
    if comparisons is None:
        return [{CURRENT: "train", BASELINE: "train", BASELINE_SOURCE: SOURCE_BASELINE}]
    if isinstance(comparisons, (str, bytes)) or not isinstance(comparisons, Sequence):
        raise InvalidInputError(
            f"DriftValidator comparisons must be a list, got {comparisons!r}; e.g. "
            '[{"current": "eval", "baseline": "train"}]'
        )
    if not comparisons:
        raise InvalidInputError("DriftValidator comparisons is empty; give at least one")
    out: List[Dict[str, str]] = []
    for item in comparisons:
        entry = _comparison(item, default_source)
        if entry in out:
            raise InvalidInputError(f"DriftValidator comparison {entry!r} is listed twice")
        out.append(entry)
    return out


def _comparison(item: ComparisonLike, default_source: str) -> Dict[str, str]:
    if isinstance(item, Mapping):
        unknown = set(item) - set(COMPARISON_KEYS)
        if unknown:
            raise InvalidInputError(
                f"DriftValidator comparison {dict(item)!r} has unknown keys {sorted(unknown)}; "
                "allowed: current, baseline, baseline_source"
            )
        current = item.get(CURRENT)
        baseline = item.get(BASELINE, current)
        source = item.get(BASELINE_SOURCE, default_source)
    elif isinstance(item, Sequence) and not isinstance(item, (str, bytes)) and len(item) == 2:
        current, baseline = item
        source = default_source
    else:
        raise InvalidInputError(
            f"DriftValidator comparison {item!r} is neither a dict nor a (current, baseline) "
            "pair of split names"
        )
    if not isinstance(current, str) or not current or not isinstance(baseline, str):
        raise InvalidInputError(
            f"DriftValidator comparison {item!r}: 'current' and 'baseline' must be split "
            "names such as 'train' or 'eval'"
        )
    if source not in SOURCES:
        raise InvalidInputError(
            f"DriftValidator comparison {item!r}: baseline_source must be one of {SOURCES}"
        )
    if source == SOURCE_STATISTICS and current == baseline:
        raise InvalidInputError(
            f"DriftValidator comparison {item!r} compares split {current!r} of the current "
            "statistics with itself; use another baseline split or "
            "baseline_source='baseline_statistics'"
        )
    return {CURRENT: current, BASELINE: baseline, BASELINE_SOURCE: source}


def can_have_baseline(comparisons: Sequence[Mapping[str, str]], baseline_wired: bool) -> bool:
    """Whether any comparison can ever see a baseline (a wired artifact or another split)."""
    return baseline_wired or any(c[BASELINE_SOURCE] == SOURCE_STATISTICS for c in comparisons)


def comparison_name(comparison: Mapping[str, str]) -> str:
    """Folder-safe name of a comparison, e.g. ``eval-vs-train`` or ``train-vs-baseline-train``."""
    prefix = "baseline-" if comparison[BASELINE_SOURCE] == SOURCE_BASELINE else ""
    return f"{comparison[CURRENT]}-vs-{prefix}{comparison[BASELINE]}"


def config_json(drift_config: Any) -> str:
    """The ``drift_config`` parameter: a validated ``DriftConfig`` as sorted JSON.

    Accepts ``None`` (defaults), a ``DriftConfig``, its dict form or that dict as JSON.
    Validation (unknown methods, bad thresholds...) happens here, at pipeline-build time.
    """
    from tfx_addons_lab.drift import DriftConfig

    if drift_config is None:
        drift_config = DriftConfig()
    if isinstance(drift_config, DriftConfig):
        return json.dumps(drift_config.to_dict(), sort_keys=True)
    if isinstance(drift_config, str):
        try:
            drift_config = json.loads(drift_config)
        except ValueError as exc:
            raise InvalidInputError(
                f"DriftValidator drift_config is not valid JSON: {exc}; pass a dict or DriftConfig"
            ) from exc
    if not isinstance(drift_config, Mapping):
        raise InvalidInputError(
            f"DriftValidator drift_config must be a dict or DriftConfig, got {drift_config!r}"
        )
    return json.dumps(DriftConfig.from_dict(dict(drift_config)).to_dict(), sort_keys=True)


def artifact_span(artifact: Any, store: Any = None) -> int:
    """The span of a statistics artifact (0 when unknown).

    TFX 1.16's StatisticsGen copies ``examples.span`` (the *property*), but ExampleGen records
    the span as a *custom property*, so statistics usually carry span 0. With an MLMD
    ``store``, the span is then taken from the Examples the producing execution read.
    """
    span = _own_span(artifact.mlmd_artifact)
    if span or store is None or not artifact.id:
        return span
    from ml_metadata.proto import metadata_store_pb2

    event = metadata_store_pb2.Event
    producers = [
        e.execution_id
        for e in store.get_events_by_artifact_ids([artifact.id])
        if e.type in (event.OUTPUT, event.DECLARED_OUTPUT)
    ]
    if not producers:
        return 0
    input_ids = [
        e.artifact_id
        for e in store.get_events_by_execution_ids(producers[:1])
        if e.type in (event.INPUT, event.DECLARED_INPUT)
    ]
    return max((_own_span(a) for a in store.get_artifacts_by_id(input_ids)), default=0)


def _own_span(mlmd_artifact: Any) -> int:
    """The non-zero ``span`` property, else custom property, of an MLMD artifact; 0 if absent."""
    from tfx_addons_lab.mlmd import value_of

    for props in (mlmd_artifact.properties, mlmd_artifact.custom_properties):
        if "span" in props:
            try:
                span = int(value_of(props["span"]) or 0)
            except (TypeError, ValueError):
                span = 0
            if span:
                return span
    return 0


def baseline_policy_json(baseline_statistics: Any) -> str:
    """The ``baseline_policy`` parameter: the policy of the resolver producing the channel.

    :func:`~tfx_addons_lab.components.baseline_resolver.baseline_statistics_resolver` sets a
    ``baseline_policy`` attribute on its node; any other channel gives '' (unknown).
    """
    producer = getattr(baseline_statistics, "producer_component", None)
    policy = getattr(producer, "baseline_policy", None)
    return policy.to_json() if policy is not None else ""


def resolved_current_channel(baseline_statistics: Any) -> Any:
    """The resolver's ``current`` output when ``baseline_statistics`` comes from a span-mode
    :func:`~tfx_addons_lab.components.baseline_resolver.baseline_statistics_resolver` (it
    carries this run's statistics with the span read through lineage), else ``None``."""
    from tfx_addons_lab.drift.baselines import SPAN_MODES

    producer = getattr(baseline_statistics, "producer_component", None)
    policy = getattr(producer, "baseline_policy", None)
    if policy is None or policy.mode not in SPAN_MODES:
        return None
    return producer.outputs.get("current")


def adopt_span(statistics: Any, resolved: Optional[Sequence[Any]]) -> None:
    """Give ``statistics`` the span a resolver found for the same artifact when it has none
    (TFX 1.16's StatisticsGen leaves ``span`` at 0); on the in-memory artifact."""
    for other in resolved or ():
        if other.id == statistics.id and not statistics.span and artifact_span(other):
            statistics.span = artifact_span(other)


def schema_hints(config_dict: Mapping[str, Any], schema: Any) -> Dict[str, Any]:
    """``config_dict`` with schema features that have ``int_domain.is_categorical`` or a
    ``bool_domain`` added to ``categorical_features``."""
    config_dict = dict(config_dict)
    if schema is not None:
        hinted = set(config_dict.get("categorical_features") or [])
        for feature in schema.feature:
            if (
                feature.HasField("int_domain") and feature.int_domain.is_categorical
            ) or feature.HasField("bool_domain"):
                hinted.add(feature.name)
        if hinted:
            config_dict["categorical_features"] = sorted(hinted)
    return config_dict


def split_label(artifact: Any, split: str) -> str:
    """``train@span 2`` when the artifact records a span, else ``train (statistics 11)``."""
    return Sides.of(artifact, [], {CURRENT: split, BASELINE: split}).current_name


class Sides:
    """What a comparison compares, named: labels, spans and why a baseline is missing.

    Built by :meth:`of` from the current statistics artifact, the baseline artifacts of the
    comparison (one, several for a rolling window, or none) and the baseline policy.
    """

    def __init__(self) -> None:
        self.current_split = ""
        self.baseline_split = ""
        self.current_span: Optional[int] = None
        self.baseline_spans: List[int] = []
        self.baseline_artifacts: List[Any] = []
        self.current_name = ""
        self.baseline_name = "no baseline"
        self.baseline_labels: List[str] = []
        self.reason = ""
        self.warnings: List[str] = []

    @classmethod
    def of(
        cls,
        statistics: Any,
        baselines: Sequence[Any],
        comparison: Mapping[str, str],
        policy: Any = None,
    ) -> Sides:
        """Name both sides of ``comparison``; ``policy`` a ``BaselinePolicy`` or ``None``."""
        from tfx_addons_lab.drift.baselines import format_spans, side_label

        out = cls()
        out.current_split, out.baseline_split = comparison[CURRENT], comparison[BASELINE]
        ordered = sorted(baselines, key=lambda a: (artifact_span(a), a.id))
        out.baseline_artifacts = ordered
        out.baseline_spans = [artifact_span(a) for a in ordered]
        out.current_span = artifact_span(statistics) or None
        offset = getattr(policy, "span_offset", None)
        if out.current_span is None and offset and len(ordered) == 1 and out.baseline_spans[0]:
            # same_span_offset chose span ``current - offset``, so the current span follows.
            out.current_span = out.baseline_spans[0] + offset
        out.current_name = side_label(
            out.current_split, [out.current_span or 0], _ids("statistics", [statistics])
        )
        out.baseline_labels = [
            side_label(out.baseline_split, [s], _ids("statistics", [a]))
            for a, s in zip(ordered, out.baseline_spans, strict=True)
        ]
        if ordered:
            out.baseline_name = side_label(
                out.baseline_split, out.baseline_spans, _ids("statistics", ordered)
            )
        wanted = policy.wanted_spans(out.current_span) if policy is not None else None
        if not ordered:
            if wanted:
                what = f"span {wanted[0]}" if len(wanted) == 1 else f"spans {format_spans(wanted)}"
                out.reason = f"no statistics of {what} ({policy.describe()})"
            elif policy is not None:
                out.reason = f"nothing resolved for {policy.describe()} (first run?)"
            else:
                out.reason = "no baseline statistics (baseline_statistics empty or not wired)"
        elif wanted and len(wanted) > 1:
            missing = [s for s in wanted if s not in out.baseline_spans]
            if missing:
                out.warnings.append(
                    f"rolling window: spans {format_spans(missing)} of {format_spans(wanted)} "
                    "have no statistics; the baseline merges the others"
                )
        return out

    def annotate(self, report: Any, notes: Sequence[str] = ()) -> Any:
        """Record the sides on a ``DriftResult`` (fields and warnings); return it."""
        from tfx_addons_lab.drift.baselines import spans_property

        report.current_split, report.baseline_split = self.current_split, self.baseline_split
        report.current_span = self.current_span
        report.baseline_spans = spans_property(self.baseline_spans)
        if report.status == "no_baseline":
            report.baseline_reason = self.reason
        report.warnings.extend([*self.warnings, *(f"merged baseline: {n}" for n in notes)])
        report.summary = report.summary_line()
        return report


def _ids(word: str, artifacts: Sequence[Any]) -> str:
    ids = [str(a.id) for a in artifacts if getattr(a, "id", 0)]
    return f"{word} {', '.join(ids)}" if ids else ""

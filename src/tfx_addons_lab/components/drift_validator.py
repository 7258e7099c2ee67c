"""``DriftValidator``: drift over time and training/serving skew from TFDV statistics.

Wire it after a ``StatisticsGen``; it compares splits of the current statistics with a
baseline (the statistics of a previous span, of a reference data set, or another split of
the same statistics), writes a readable report, a standard ``ExampleAnomalies`` artifact,
and can stop the pipeline run when the data drifted.

Drift over time is one line with :func:`baseline_statistics_resolver`::

    stats_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"], ...)
    previous = baseline_statistics_resolver(stats_gen)
    drift = DriftValidator(
        statistics=stats_gen.outputs["statistics"],
        baseline_statistics=previous.outputs["statistics"],
        drift_config={"drift_share": 0.3},
        fail_on_drift=True,
    )
    pipeline_components = [example_gen, stats_gen, previous, drift]

Training/serving skew (two splits of the same statistics) needs no baseline artifact::

    DriftValidator(statistics=stats_gen.outputs["statistics"],
                   comparisons=[{"current": "eval", "baseline": "train"}])

See ``docs/drift_validator.md``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.dsl.components.common import resolver
from tfx.types import channel, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from tfx_addons_lab.components.types import DriftReport
from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.executors.drift_validator import DriftValidatorExecutor

#: ``baseline_source`` values of a comparison.
SOURCE_STATISTICS = "statistics"
SOURCE_BASELINE = "baseline_statistics"
_SOURCES = (SOURCE_STATISTICS, SOURCE_BASELINE)

STATISTICS_KEY = "statistics"
BASELINE_STATISTICS_KEY = "baseline_statistics"
SCHEMA_KEY = "schema"
ANOMALIES_KEY = "anomalies"
DRIFT_REPORT_KEY = "drift_report"
DRIFT_CONFIG_KEY = "drift_config"
COMPARISONS_KEY = "comparisons"
FAIL_ON_DRIFT_KEY = "fail_on_drift"


class DriftValidatorSpec(ComponentSpec):
    """Inputs, parameters and outputs of :class:`DriftValidator`.

    ``drift_config`` and ``comparisons`` are JSON strings (see :func:`normalize_comparisons`
    and ``tfx_addons_lab.drift.DriftConfig.to_dict``).
    """

    PARAMETERS = {
        DRIFT_CONFIG_KEY: ExecutionParameter(type=str),
        COMPARISONS_KEY: ExecutionParameter(type=str),
        FAIL_ON_DRIFT_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {
        STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics),
        BASELINE_STATISTICS_KEY: ChannelParameter(
            type=standard_artifacts.ExampleStatistics, optional=True
        ),
        SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema, optional=True),
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
        return [{"current": "train", "baseline": "train", "baseline_source": SOURCE_BASELINE}]
    if isinstance(comparisons, (str, bytes)) or not isinstance(comparisons, Sequence):
        raise InvalidInputError(
            f"DriftValidator comparisons must be a list, got {comparisons!r}; e.g. "
            '[{"current": "eval", "baseline": "train"}]'
        )
    if not comparisons:
        raise InvalidInputError("DriftValidator comparisons is empty; give at least one")
    out: List[Dict[str, str]] = []
    for item in comparisons:
        if isinstance(item, Mapping):
            unknown = set(item) - {"current", "baseline", "baseline_source"}
            if unknown:
                raise InvalidInputError(
                    f"DriftValidator comparison {dict(item)!r} has unknown keys {sorted(unknown)}; "
                    "allowed: current, baseline, baseline_source"
                )
            current = item.get("current")
            baseline = item.get("baseline", current)
            source = item.get("baseline_source", default_source)
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
        if source not in _SOURCES:
            raise InvalidInputError(
                f"DriftValidator comparison {item!r}: baseline_source must be one of {_SOURCES}"
            )
        if source == SOURCE_STATISTICS and current == baseline:
            raise InvalidInputError(
                f"DriftValidator comparison {item!r} compares split {current!r} of the current "
                "statistics with itself; use another baseline split or "
                "baseline_source='baseline_statistics'"
            )
        entry = {"current": current, "baseline": baseline, "baseline_source": source}
        if entry in out:
            raise InvalidInputError(f"DriftValidator comparison {entry!r} is listed twice")
        out.append(entry)
    return out


def comparison_name(comparison: Mapping[str, str]) -> str:
    """Folder-safe name of a comparison, e.g. ``eval-vs-train`` or ``train-vs-baseline-train``."""
    prefix = "baseline-" if comparison["baseline_source"] == SOURCE_BASELINE else ""
    return f"{comparison['current']}-vs-{prefix}{comparison['baseline']}"


def _config_json(drift_config: Any) -> str:
    from tfx_addons_lab.drift import DriftConfig

    if drift_config is None:
        return json.dumps(DriftConfig().to_dict(), sort_keys=True)
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
    # from_dict validates (unknown methods, bad thresholds...) at pipeline-build time.
    return json.dumps(DriftConfig.from_dict(dict(drift_config)).to_dict(), sort_keys=True)


def _register_executor_methods(spec: Optional[executor_spec.ExecutorSpec]) -> None:
    """Register a custom executor's ``extra_methods`` now, so ``drift_config`` may name them."""
    executor_class = getattr(spec, "executor_class", None)
    methods = getattr(executor_class, "extra_methods", ()) if executor_class else ()
    if methods:
        from tfx_addons_lab.drift import register_method

        for method in methods:
            register_method(method)


class DriftValidator(base_component.BaseComponent):
    """Compares current statistics with a baseline; reports drift; optionally fails the run.

    Outputs:
      ``anomalies``: a standard ``ExampleAnomalies`` artifact, one ``Split-<current>/SchemaDiff.pb``
        per compared current split (``drift_skew_info`` and ``anomaly_info`` for drifted
        features), readable by ``tfdv.display_anomalies`` and by every ExampleAnomalies consumer.
      ``drift_report``: a ``tfx_addons_lab.DriftReport`` folder with ``report.json`` and
        ``report.html`` (one comparison), or one sub-folder per comparison plus an index
        ``report.json``/``report.html`` (several). Custom properties: ``dataset_drifted``
        (int 0/1, any comparison), ``drift_share`` (float, the largest over comparisons),
        ``drifted_features`` (comma-separated), ``status`` (``ok`` or ``no_baseline``).
    """

    SPEC_CLASS = DriftValidatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(DriftValidatorExecutor)

    def __init__(
        self,
        statistics: types.BaseChannel,
        baseline_statistics: Optional[types.BaseChannel] = None,
        schema: Optional[types.BaseChannel] = None,
        drift_config: Any = None,
        comparisons: Optional[Sequence[ComparisonLike]] = None,
        fail_on_drift: bool = False,
        custom_executor_spec: Optional[executor_spec.ExecutorSpec] = None,
    ) -> None:
        """Construct a DriftValidator.

        Args:
          statistics: ``ExampleStatistics`` of the current data (a ``StatisticsGen`` output).
            Ask StatisticsGen for ``num_quantiles_histogram_buckets=100`` so ``ks`` and
            ``wasserstein`` are accurate to ~0.02.
          baseline_statistics: optional ``ExampleStatistics`` to compare with, e.g.
            ``baseline_statistics_resolver(stats_gen).outputs["statistics"]`` (the previous
            span's). When it is not wired or resolves to nothing (first run), comparisons
            against it pass with status ``no_baseline``.
          schema: optional ``Schema``; INT features with ``int_domain.is_categorical`` (and
            features with a string/bool domain) are compared as categorical.
          drift_config: ``tfx_addons_lab.drift.DriftConfig`` or its dict form, e.g.
            ``{"numeric_method": "ks", "threshold": 0.05, "drift_share": 0.3,
            "feature_methods": {"fare": "psi"}, "exclude": ["id"]}``. Default: Evidently's
            per-feature choice of method, ``drift_share=0.5``.
          comparisons: what to compare, a list of
            ``{"current": split, "baseline": split, "baseline_source": source}`` with source
            ``"baseline_statistics"`` (a split of the baseline artifact; default when a
            baseline is wired) or ``"statistics"`` (another split of ``statistics``:
            training/serving skew, e.g. ``{"current": "eval", "baseline": "train"}``; default
            when no baseline is wired). ``(current, baseline)`` pairs are a shorthand.
            Default: ``[{"current": "train", "baseline": "train",
            "baseline_source": "baseline_statistics"}]``.
          fail_on_drift: raise ``DriftDetectedError`` (listing the drifted features) when any
            comparison finds dataset drift, which fails the pipeline run. Reports are still
            written first.
          custom_executor_spec: ``executor_spec.ExecutorClassSpec(MyExecutor)`` to run a
            subclass of ``DriftValidatorExecutor`` (custom metrics, other report writers).
        """
        normalized = normalize_comparisons(comparisons, baseline_statistics is not None)
        _register_executor_methods(custom_executor_spec)
        spec = DriftValidatorSpec(
            statistics=statistics,
            baseline_statistics=baseline_statistics,
            schema=schema,
            drift_config=_config_json(drift_config),
            comparisons=json.dumps(normalized),
            fail_on_drift=int(bool(fail_on_drift)),
            anomalies=channel.Channel(type=standard_artifacts.ExampleAnomalies),
            drift_report=channel.Channel(type=DriftReport),
        )
        super().__init__(spec=spec, custom_executor_spec=custom_executor_spec)


# --------------------------------------------------------------------------- resolver


def _int_value(value) -> int:
    """An MLMD Value (int or string) as int; 0 when unset or not a number."""
    kind = value.WhichOneof("value")
    try:
        return int(getattr(value, kind)) if kind in ("int_value", "string_value") else 0
    except ValueError:
        return 0


def _own_span(artifact) -> int:
    """The ``span`` property (or custom property) of an MLMD artifact proto; 0 if absent."""
    for props in (artifact.properties, artifact.custom_properties):
        if "span" in props and _int_value(props["span"]):
            return _int_value(props["span"])
    return 0


def artifact_span(artifact: types.Artifact, store=None) -> int:
    """The span of a statistics artifact.

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
    spans = [_own_span(a) for a in store.get_artifacts_by_id(input_ids)]
    return max(spans, default=0)


def _created(artifact: types.Artifact):
    return (artifact.mlmd_artifact.create_time_since_epoch, artifact.id)


class PreviousStatisticsStrategy(resolver.ResolverStrategy):
    """Resolve the baseline statistics for the statistics produced in this run.

    Inputs: ``statistics`` (every ExampleStatistics the StatisticsGen ever produced, via a
    ``Channel(producer_component_id=...)``) and ``current`` (this run's output, which makes
    the resolver run after StatisticsGen). Output ``statistics``:

    * ``mode="previous_span"``: the newest statistics whose span is strictly smaller than the
      current span (the latest version of the previous span). Spans are read from the
      artifacts or, as TFX 1.16's StatisticsGen leaves them at 0, from the Examples they
      were computed from (ML Metadata lineage);
    * ``mode="previous_run"``: the newest statistics created before the current ones
      (whatever their span). :func:`baseline_statistics_resolver` uses the portable
      ``LatestArtifactStrategy`` for this mode instead; this one exists for subclasses.

    An empty list (no baseline yet) leads DriftValidator to report ``no_baseline``.
    """

    def __init__(self, mode: str = "previous_span") -> None:
        if mode not in RESOLVER_MODES:
            raise InvalidInputError(
                f"baseline_statistics_resolver mode {mode!r}: use 'previous_span' or 'previous_run'"
            )
        self._mode = mode

    def resolve_artifacts(self, store, input_dict):  # noqa: D102 (documented on the class)
        history = list(input_dict.get("statistics", []))
        current = list(input_dict.get("current", []))
        baseline = select_baseline(
            history, current, self._mode, span_of=lambda a: artifact_span(a, store)
        )
        return {"statistics": baseline, "current": current}


def select_baseline(
    history: Sequence,
    current: Sequence,
    mode: str = "previous_span",
    span_of=None,
) -> List:
    """The baseline chosen from ``history`` for ``current`` (the logic of the resolver).

    ``current`` may be empty; then the newest artifact of ``history`` is taken as current.
    ``span_of(artifact) -> int`` defaults to :func:`artifact_span` without lineage.
    """
    span_of = span_of or artifact_span
    history = sorted(history, key=_created)
    if current:
        cur = max(current, key=_created)
    elif history:
        cur = history[-1]
    else:
        return []
    older = [a for a in history if a.id != cur.id and _created(a) < _created(cur)]
    if mode == "previous_span":
        cur_span = span_of(cur)
        spans = {a.id: span_of(a) for a in older}
        older = [a for a in older if spans[a.id] < cur_span]
        if not older:
            return []
        best = max(spans[a.id] for a in older)
        older = [a for a in older if spans[a.id] == best]
    return [older[-1]] if older else []


#: ``baseline_statistics_resolver`` modes.
RESOLVER_MODES = ("previous_run", "previous_span")


def baseline_statistics_resolver(
    statistics_gen: base_component.BaseComponent,
    mode: str = "previous_run",
    output_key: str = "statistics",
    resolver_id: Optional[str] = None,
) -> resolver.Resolver:
    """A Resolver node whose ``outputs["statistics"]`` is the baseline for this run's statistics.

    Add the returned node to the pipeline's components and pass its
    ``outputs["statistics"]`` as ``DriftValidator(baseline_statistics=...)``.

    Args:
      statistics_gen: the StatisticsGen (or any component with an ExampleStatistics output)
        whose earlier outputs are the candidates.
      mode: ``"previous_run"`` (default): the statistics published by the latest earlier
        run (``LatestArtifactStrategy``; the resolver is made to run *before*
        ``statistics_gen``, so "latest" cannot be this run's output). Works on every
        orchestrator, including Kubeflow Pipelines v2 / Vertex AI. With one span per run, as
        continuous training does, this is the previous span. ``"previous_span"``: the
        statistics of the latest span strictly before the current one (read through ML
        Metadata lineage), so re-running or back-filling a span compares it with the span
        before; a custom resolver strategy, for LocalDagRunner, BeamDagRunner and Airflow
        (KubeflowV2DagRunner only compiles the stock strategies).
      output_key: the output of ``statistics_gen`` holding the statistics.
      resolver_id: the node id; default ``"<statistics_gen id>_baseline_resolver"``
        (``..._span_baseline_resolver`` for ``previous_span``).

    Returns:
      The ``tfx.dsl.Resolver`` node. On the first run its output is empty and DriftValidator
      reports ``no_baseline`` and passes.
    """
    from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import (
        LatestArtifactStrategy,
    )

    if mode not in RESOLVER_MODES:
        raise InvalidInputError(
            f"baseline_statistics_resolver mode {mode!r}: use one of {RESOLVER_MODES}"
        )
    history = channel.Channel(
        type=standard_artifacts.ExampleStatistics,
        producer_component_id=statistics_gen.id,
    )
    if mode == "previous_run":
        node = resolver.Resolver(strategy_class=LatestArtifactStrategy, statistics=history)
        node = node.with_id(resolver_id or f"{statistics_gen.id}_baseline_resolver")
        # Resolve before this run's statistics exist: "latest" is then the previous run's.
        statistics_gen.add_upstream_node(node)
        return node
    node = resolver.Resolver(
        strategy_class=PreviousStatisticsStrategy,
        config={"mode": mode},
        statistics=history,
        current=statistics_gen.outputs[output_key],
    )
    return node.with_id(resolver_id or f"{statistics_gen.id}_span_baseline_resolver")

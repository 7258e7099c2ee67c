"""Baseline resolvers: which earlier ``ExampleStatistics`` a ``DriftValidator`` compares with.

:func:`baseline_statistics_resolver` returns a Resolver node to add to the pipeline; its
``outputs["statistics"]`` is the baseline of this run's statistics (empty on the first run).
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from tfx import types
from tfx.dsl.components.base import base_component
from tfx.dsl.components.common import resolver
from tfx.types import channel, standard_artifacts

from tfx_addons_lab.drift.baselines import MODES, BaselinePolicy, Candidate, choose_baseline
from tfx_addons_lab.specs.drift_validator import artifact_span


def _created(artifact: types.Artifact):
    return (artifact.mlmd_artifact.create_time_since_epoch, artifact.id)


class _ExplainingMeta(type(resolver.ResolverStrategy)):
    """Makes the class's repr say what to do where TFX names it in an error.

    KubeflowV2DagRunner compiles only the stock strategies; its error names the class, so
    the name carries the fix.
    """

    def __repr__(cls) -> str:
        mode = getattr(cls, "MODE", "previous_span")
        return (
            f"<class '{cls.__module__}.{cls.__qualname__}': baseline_statistics_resolver("
            f"mode={mode!r}) is a custom resolver strategy that cannot be compiled for Kubeflow "
            "Pipelines v2 / Vertex AI; use baseline_statistics_resolver(stats_gen, "
            "mode='previous_run') there (or run on LocalDagRunner, BeamDagRunner or Airflow)>"
        )


class PreviousStatisticsStrategy(resolver.ResolverStrategy, metaclass=_ExplainingMeta):
    """Resolve the baseline statistics for the statistics produced in this run.

    Inputs: ``statistics`` (every ExampleStatistics the StatisticsGen ever produced, via a
    ``Channel(producer_component_id=...)``) and ``current`` (this run's output, which makes
    the resolver run after StatisticsGen). Output ``statistics``, by ``mode``:

    * ``"previous_span"``: the newest statistics whose span is strictly smaller than the
      current span (the latest version of the previous span);
    * ``"same_span_offset"`` (with ``span_offset``): the newest statistics of span
      ``current - span_offset``;
    * ``"rolling_window"`` (with ``window``): the newest statistics of each span
      ``current - window`` .. ``current - 1`` that exists (DriftValidator merges them);
    * ``"previous_run"``: the newest statistics created before the current ones (whatever
      their span). :func:`baseline_statistics_resolver` uses the portable
      ``LatestArtifactStrategy`` for this mode instead; this one exists for subclasses.

    Spans are read from the artifacts or, as TFX 1.16's StatisticsGen leaves them at 0, from
    the Examples they were computed from (ML Metadata lineage); the chosen artifacts and the
    current ones (output ``current``, which DriftValidator reads as ``resolved_current``) are
    handed on with that span set, so DriftValidator can name both sides (TFX then records
    that ``span`` property in ML Metadata, as it registers a consumer's input artifacts). An empty list (no
    baseline yet, or the wanted span missing) leads DriftValidator to report
    ``no_baseline`` with the reason.
    """

    MODE = "previous_span"

    def __init__(
        self,
        mode: Optional[str] = None,
        span_offset: Optional[int] = None,
        window: Optional[int] = None,
    ) -> None:
        self._policy = BaselinePolicy.build(mode or self.MODE, span_offset, window)

    def resolve_artifacts(self, store, input_dict):  # noqa: D102 (documented on the class)
        history = list(input_dict.get("statistics", []))
        current = list(input_dict.get("current", []))
        spans: dict = {}

        def span_of(artifact):
            if artifact.id not in spans:
                spans[artifact.id] = artifact_span(artifact, store)
            return spans[artifact.id]

        policy = self._policy
        baseline = select_baseline(
            history,
            current,
            policy.mode,
            span_of=span_of,
            span_offset=policy.span_offset,
            window=policy.window,
        )
        for artifact in [*baseline, *current]:
            # TFX 1.16's StatisticsGen leaves ``span`` at 0; hand on the lineage span, which
            # DriftValidator names the sides with. TFX registers the consumer's input
            # artifacts, so ML Metadata records this span property too.
            if not artifact.span and span_of(artifact):
                artifact.span = span_of(artifact)
        return {"statistics": baseline, "current": current}


class SameSpanOffsetStrategy(PreviousStatisticsStrategy):
    """``mode="same_span_offset"``: the statistics of span ``current - span_offset``."""

    MODE = "same_span_offset"


class RollingWindowStrategy(PreviousStatisticsStrategy):
    """``mode="rolling_window"``: the statistics of the ``window`` spans before the current."""

    MODE = "rolling_window"


def select_baseline(
    history: Sequence,
    current: Sequence,
    mode: str = "previous_span",
    span_of=None,
    span_offset: Optional[int] = None,
    window: Optional[int] = None,
) -> List:
    """The baseline chosen from ``history`` for ``current`` (the logic of the resolvers).

    A thin layer over :func:`tfx_addons_lab.drift.baselines.choose_baseline` (which holds
    the rules, see there) for TFX artifacts. ``current`` may be empty; then the newest
    artifact of ``history`` is taken as current. ``span_of(artifact) -> int`` defaults to
    :func:`artifact_span` without lineage. Returns the chosen artifacts, oldest span first.
    """
    span_of = span_of or artifact_span
    policy = BaselinePolicy.build(mode, span_offset, window)
    by_id = {a.id: a for a in history}
    cur = max(current, key=_created) if current else None
    if cur is not None:
        by_id.setdefault(cur.id, cur)
    needs_span = policy.mode != "previous_run"

    def candidate(a) -> Candidate:
        return Candidate(a.id, _created(a), span_of(a) if needs_span else 0)

    choice = choose_baseline(
        [candidate(a) for a in history], candidate(cur) if cur is not None else None, policy
    )
    return [by_id[key] for key in choice.keys]


#: ``baseline_statistics_resolver`` modes.
RESOLVER_MODES = MODES
_STRATEGIES = {
    "previous_span": PreviousStatisticsStrategy,
    "same_span_offset": SameSpanOffsetStrategy,
    "rolling_window": RollingWindowStrategy,
}


def baseline_statistics_resolver(
    statistics_gen: base_component.BaseComponent,
    mode: str = "previous_run",
    output_key: str = "statistics",
    resolver_id: Optional[str] = None,
    *,
    span_offset: Optional[int] = None,
    window: Optional[int] = None,
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
        continuous training does, this is the previous span.
        The span modes are custom resolver strategies that read spans (from the artifacts,
        else through ML Metadata lineage from the Examples) and run on LocalDagRunner,
        BeamDagRunner and Airflow (KubeflowV2DagRunner only compiles the stock strategies):
        ``"previous_span"``: the latest version of the latest span strictly before the
        current one, so re-running or back-filling a span compares it with the span before;
        ``"same_span_offset"`` (give ``span_offset``): the latest version of span
        ``current - span_offset``, e.g. ``span_offset=12`` with monthly spans compares a
        month with the same month last year; ``"rolling_window"`` (give ``window``): the
        latest version of each of spans ``current - window`` .. ``current - 1``, which
        DriftValidator merges into one baseline per split.
      output_key: the output of ``statistics_gen`` holding the statistics.
      resolver_id: the node id; default ``"<statistics_gen id>_baseline_resolver"``
        (``..._span_baseline_resolver``, ``..._offset<N>_baseline_resolver``,
        ``..._window<N>_baseline_resolver`` for the span modes).
      span_offset: ``mode="same_span_offset"`` only: how many spans back (>= 1).
      window: ``mode="rolling_window"`` only: how many spans to merge (>= 1).

    Returns:
      The ``tfx.dsl.Resolver`` node, with a ``baseline_policy`` attribute
      (:class:`tfx_addons_lab.drift.baselines.BaselinePolicy`) that DriftValidator records to
      explain its baseline. On the first runs its output is empty (for
      ``same_span_offset``: until span ``current - span_offset`` exists) and DriftValidator
      reports ``no_baseline``, naming the missing span, and passes.

    Raises:
      InvalidInputError: an unknown mode, or ``span_offset``/``window`` missing, not a
        whole number >= 1, or given to a mode that does not use it.
    """
    from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import (
        LatestArtifactStrategy,
    )

    policy = BaselinePolicy.build(mode, span_offset=span_offset, window=window)
    history = channel.Channel(
        type=standard_artifacts.ExampleStatistics,
        producer_component_id=statistics_gen.id,
    )
    if policy.mode == "previous_run":
        node = resolver.Resolver(strategy_class=LatestArtifactStrategy, statistics=history)
        node = node.with_id(resolver_id or f"{statistics_gen.id}_baseline_resolver")
        # Resolve before this run's statistics exist: "latest" is then the previous run's.
        statistics_gen.add_upstream_node(node)
        node.baseline_policy = policy
        return node
    default_id = {
        "previous_span": f"{statistics_gen.id}_span_baseline_resolver",
        "same_span_offset": f"{statistics_gen.id}_offset{span_offset}_baseline_resolver",
        "rolling_window": f"{statistics_gen.id}_window{window}_baseline_resolver",
    }[policy.mode]
    node = resolver.Resolver(
        strategy_class=_STRATEGIES[policy.mode],
        config=policy.to_dict(),
        statistics=history,
        current=statistics_gen.outputs[output_key],
    )
    node = node.with_id(resolver_id or default_id)
    node.baseline_policy = policy
    return node

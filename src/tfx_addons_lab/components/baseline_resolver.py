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

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.specs.drift_validator import artifact_span


def _created(artifact: types.Artifact):
    return (artifact.mlmd_artifact.create_time_since_epoch, artifact.id)


class _ExplainingMeta(type(resolver.ResolverStrategy)):
    """Makes the class's repr say what to do where TFX names it in an error.

    KubeflowV2DagRunner compiles only the stock strategies; its error names the class, so
    the name carries the fix.
    """

    def __repr__(cls) -> str:
        return (
            f"<class '{cls.__module__}.{cls.__qualname__}': baseline_statistics_resolver("
            "mode='previous_span') cannot be compiled for Kubeflow Pipelines v2 / Vertex AI; "
            "use baseline_statistics_resolver(stats_gen, mode='previous_run') there>"
        )


class PreviousStatisticsStrategy(resolver.ResolverStrategy, metaclass=_ExplainingMeta):
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

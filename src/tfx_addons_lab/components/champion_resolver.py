"""The registry-driven champion: the ``Model`` a registry alias points at, for this run's candidate.

:func:`registry_champion_resolver` returns the node to add to the pipeline; its
``outputs["model"]`` is the champion for ``Evaluator(baseline_model=...)`` and
``BlessingGate(baseline_model=...)``. The registry decides (``registry rollback`` /
``promote`` take effect on the next run), never "the latest model some gate blessed".
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Union

from tfx import types
from tfx.dsl.components.base import base_component
from tfx.dsl.components.common import resolver
from tfx.types import artifact_utils, channel, standard_artifacts

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.registry.champion import (
    ChampionLookup,
    find_champion_artifact,
    lookup_champion,
)

__all__ = ["registry_champion_resolver", "RegistryChampionStrategy", "resolve_champion"]

_LOG = logging.getLogger(__name__)

#: Input keys of the resolver node: this run's candidate, and the declared ``model`` output.
CANDIDATE_KEY = "candidate"
MODEL_KEY = "model"


def _created(artifact: types.Artifact) -> tuple:
    return (artifact.mlmd_artifact.create_time_since_epoch, artifact.id)


class _ExplainingMeta(type(resolver.ResolverStrategy)):
    """The class's repr names the fix where KubeflowV2DagRunner's error names the class."""

    def __repr__(cls) -> str:
        return (
            f"<class '{cls.__module__}.{cls.__qualname__}': a custom resolver strategy cannot be "
            "compiled for Kubeflow Pipelines v2 / Vertex AI; use registry_champion_resolver(..., "
            "kubeflow=True) there (the RegistryChampion component)>"
        )


def resolve_champion(
    store: Any,
    registry_uri: str,
    model_name: str,
    alias: str,
    candidates: List[types.Artifact],
) -> tuple:
    """``(champion artifacts, lookup)``: the ``Model`` behind ``alias`` as a TFX artifact.

    The list is empty when there is no champion (no model or alias yet, or the alias points at
    a candidate); the :class:`~tfx_addons_lab.registry.champion.ChampionLookup` says why.
    Raises what :func:`~tfx_addons_lab.registry.champion.lookup_champion` and
    :func:`~tfx_addons_lab.registry.champion.find_champion_artifact` raise (fail closed).
    """
    lookup: ChampionLookup = lookup_champion(
        registry_uri,
        model_name,
        alias,
        candidate_ids=[c.id for c in candidates],
        candidate_uris=[c.uri for c in candidates],
    )
    if not lookup.found:
        return [], lookup
    found = find_champion_artifact(store, lookup)
    if any(found.id == c.id for c in candidates):  # same artifact, found through its URI
        lookup.same_as_candidate = True
        lookup.reason = f"no champion: {lookup.model_name!r} {lookup.alias!r} is the candidate"
        return [], lookup
    artifact_type = store.get_artifact_types_by_id([found.type_id])[0]
    champion = artifact_utils.deserialize_artifact(artifact_type, found)
    return [champion], lookup


class RegistryChampionStrategy(resolver.ResolverStrategy, metaclass=_ExplainingMeta):
    """Resolve ``model`` to the ML Metadata ``Model`` a registry alias points at.

    Config: ``registry_uri``, ``model_name``, ``alias``. Inputs: ``candidate`` (this run's
    model, which makes the node run after the Trainer) and ``model`` (declares the output;
    ignored). Output ``model``: the champion, or empty when there is none (see
    :mod:`tfx_addons_lab.registry.champion` for the fail-closed rules); ``candidate`` is
    passed on.
    """

    def __init__(self, registry_uri: str, model_name: str, alias: str = "champion") -> None:
        self._registry_uri = registry_uri
        self._model_name = model_name
        self._alias = alias

    def resolve_artifacts(self, store, input_dict):  # noqa: D102 (documented on the class)
        candidates = list(input_dict.get(CANDIDATE_KEY, []))
        if len(candidates) > 1:  # legacy launchers (Airflow) pass the producer's history
            candidates = [max(candidates, key=_created)]
        champion, lookup = resolve_champion(
            store, self._registry_uri, self._model_name, self._alias, candidates
        )
        _LOG.info("registry_champion_resolver: %s", lookup.reason)
        return {MODEL_KEY: champion, CANDIDATE_KEY: candidates}


def _model_channel(model_source: Union[base_component.BaseComponent, types.BaseChannel]):
    if isinstance(model_source, base_component.BaseComponent):
        outputs = model_source.outputs
        if MODEL_KEY in outputs:
            return outputs[MODEL_KEY]
        models = [c for c in outputs.values() if c.type == standard_artifacts.Model]
        if len(models) == 1:
            return models[0]
        raise InvalidInputError(
            f"registry_champion_resolver model_source {model_source.id!r} has no single Model "
            f"output (outputs: {sorted(outputs)}); pass its Model channel, e.g. "
            "trainer.outputs['model']"
        )
    if (
        isinstance(model_source, types.BaseChannel)
        and model_source.type == standard_artifacts.Model
    ):
        return model_source
    raise InvalidInputError(
        f"registry_champion_resolver model_source {model_source!r} is neither a component nor a "
        "Model channel; pass the Trainer or trainer.outputs['model']"
    )


def registry_champion_resolver(
    model_source: Union[base_component.BaseComponent, types.BaseChannel],
    registry_uri: str,
    model_name: str,
    alias: str = "champion",
    resolver_id: Optional[str] = None,
    kubeflow: bool = False,
) -> base_component.BaseNode:
    """A node whose ``outputs["model"]`` is the champion: the ``Model`` behind a registry alias.

    Pass ``outputs["model"]`` as ``Evaluator(baseline_model=...)`` and
    ``BlessingGate(baseline_model=...)``. The champion is whatever ``alias`` of ``model_name``
    points at in ``registry_uri`` when the run reaches this node, so ``tfx-addons-lab
    registry rollback`` / ``promote`` decide what the next run compares with. RegistryPusher
    records the pushed model's ML Metadata id (``model_artifact_id``) and URI
    (``source_uri``) with each version; they lead back to the ``Model`` artifact.

    No champion (an empty output; Evaluator then has no baseline and the gate applies its
    ``no_baseline_policy``): the registry has no such model or alias yet (first run), or the
    alias points at this run's candidate itself (a re-run with unchanged inputs: a model is
    never compared with itself, and Evaluator's inputs equal the first run's, so its cache
    can hit). The reason is logged.

    Fails the run (never compares with the wrong model): the registry cannot be read; the
    alias points at a version that records no model (not pushed by RegistryPusher) or at a
    model this pipeline's ML Metadata does not hold (pushed from another metadata store).

    Args:
      model_source: the Trainer (its ``model`` output) or the candidate's ``Model`` channel.
        The node runs after it.
      registry_uri: the registry RegistryPusher pushes to (a folder, ``file://``,
        ``mlflow+http://host:port``...).
      model_name: the registered model name.
      alias: the alias naming the champion.
      resolver_id: the node id; default ``"<model_source id>_champion_resolver"``
        (``..._registry_champion`` with ``kubeflow=True``).
      kubeflow: build the :func:`~tfx_addons_lab.components.registry_champion.RegistryChampion`
        component instead of a resolver. KubeflowV2DagRunner (Kubeflow Pipelines v2 / Vertex
        AI) compiles only TFX's stock resolver strategies; the component runs anywhere. Its
        ``model`` output is a copy of the champion, or, when there is no champion, a copy of
        the candidate marked ``champion_found=0`` which BlessingGate treats as "no baseline"
        (see ``docs/registry.md``).

    Returns:
      The Resolver node (``kubeflow=False``) or the RegistryChampion component.

    Raises:
      InvalidInputError: ``model_source`` has no Model output, or the name/alias/URI is invalid.
    """
    from tfx_addons_lab.registry import validate_alias, validate_name
    from tfx_addons_lab.specs.registry_pusher import validate_registry_uri

    candidate = _model_channel(model_source)
    validate_name(model_name)
    validate_alias(alias)
    validate_registry_uri(registry_uri)
    source_id = getattr(getattr(candidate, "producer_component", None), "id", None) or (
        model_source.id if isinstance(model_source, base_component.BaseComponent) else "model"
    )
    if kubeflow:
        from tfx_addons_lab.components.registry_champion import RegistryChampion

        node = RegistryChampion(
            candidate=candidate, registry_uri=registry_uri, model_name=model_name, alias=alias
        )
        return node.with_id(resolver_id or f"{source_id}_registry_champion")
    config: Dict[str, Any] = {
        "registry_uri": registry_uri,
        "model_name": model_name,
        "alias": alias,
    }
    node = resolver.Resolver(
        strategy_class=RegistryChampionStrategy,
        config=config,
        candidate=candidate,
        model=channel.Channel(type=standard_artifacts.Model, producer_component_id=source_id),
    )
    return node.with_id(resolver_id or f"{source_id}_champion_resolver")

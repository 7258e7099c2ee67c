"""RegistryChampion: the registry-driven champion as a component (Kubeflow Pipelines v2 / Vertex).

No ``from __future__ import annotations`` here: the @component decorator reads real
annotation objects. Built by ``registry_champion_resolver(..., kubeflow=True)``; lives in an
importable module (never ``__main__``) so pipelines using it compile for Vertex AI.
"""

import logging

from tfx import v1 as tfx
from tfx.types import standard_artifacts

from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.registry.champion import ChampionError, ChampionLookup, lookup_champion
from tfx_addons_lab.specs import registry_champion as spec
from tfx_addons_lab.specs.registry_champion import CHAMPION_FOUND, SAME_AS_CANDIDATE

__all__ = ["RegistryChampion", "CHAMPION_FOUND", "SAME_AS_CANDIDATE"]

_LOG = logging.getLogger(__name__)


def _champion_source(lookup: ChampionLookup) -> str:
    """The folder to copy the champion from: the pushed artifact, else the registry's copy."""
    for uri in (lookup.source_uri, lookup.registry_model_uri):
        if uri and io.exists(uri) and io.isdir(uri):
            return uri
    raise ChampionError(
        f"registry {lookup.registry_uri} model {lookup.model_name!r} alias {lookup.alias!r} "
        f"points at version {lookup.version}, but neither its source model "
        f"{lookup.source_uri} nor the registry's copy {lookup.registry_model_uri} is a "
        "readable folder; restore the model or point the alias at another version "
        "('tfx-addons-lab registry promote')"
    )


def copy_champion(lookup: ChampionLookup, candidate_uri: str, output_uri: str) -> str:
    """Copy the champion (or, without one, the candidate) into ``output_uri``; return the source."""
    source = _champion_source(lookup) if lookup.found else candidate_uri
    io.copy_dir(source, output_uri)
    return source


@tfx.dsl.components.component
def RegistryChampion(
    candidate: tfx.dsl.components.InputArtifact[standard_artifacts.Model],
    model: tfx.dsl.components.OutputArtifact[standard_artifacts.Model],
    registry_uri: tfx.dsl.components.Parameter[str],
    model_name: tfx.dsl.components.Parameter[str],
    alias: tfx.dsl.components.Parameter[str] = "champion",
) -> None:
    """Output the model a registry alias points at, as a ``Model`` (runs on every orchestrator).

    Args:
      candidate: this run's candidate ``Model`` (``trainer.outputs["model"]``).
      model: output ``Model``: a copy of the champion's SavedModel (from the pushed model's
        URI, else the registry's copy) with ``champion_found=1``, ``registry_version``,
        ``source_model_artifact_id``, ``source_uri``. Without a champion (no model or alias
        yet, or the alias points at the candidate: ``same_as_candidate=1``) a copy of the
        candidate with ``champion_found=0``: Evaluator then compares the candidate with
        itself (every change is 0) and BlessingGate, given this as ``baseline_model``,
        treats it as no baseline (its ``no_baseline_policy`` decides).
      registry_uri: the registry RegistryPusher pushes to.
      model_name: the registered model name.
      alias: the alias naming the champion.

    Raises:
      RegistryError: the registry cannot be read (fail closed).
      ChampionError: the alias points at a version naming no model, or whose files are gone.
    """
    lookup = lookup_champion(
        registry_uri,
        model_name,
        alias,
        candidate_ids=[candidate.id],
        candidate_uris=[candidate.uri],
    )
    source = copy_champion(lookup, candidate.uri, model.uri)
    model.set_int_custom_property(CHAMPION_FOUND, int(lookup.found))
    model.set_int_custom_property(SAME_AS_CANDIDATE, int(lookup.same_as_candidate))
    if lookup.version is not None:
        model.set_int_custom_property(spec.REGISTRY_VERSION, lookup.version)
    if lookup.model_artifact_id is not None:
        model.set_int_custom_property(spec.SOURCE_MODEL_ARTIFACT_ID, lookup.model_artifact_id)
    model.set_string_custom_property(spec.SOURCE_URI, source)
    model.set_string_custom_property(spec.REASON, lookup.reason)
    _LOG.info("RegistryChampion: %s (copied from %s)", lookup.reason, source)

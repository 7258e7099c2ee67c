"""The champion a pipeline compares its candidate with: the model behind a registry alias.

Core layer (no TFX import): :func:`lookup_champion` reads the registry, :func:`find_champion_artifact`
finds the ``Model`` artifact in an ML Metadata store (any object with MLMD's
``get_artifacts_by_id`` / ``get_artifacts_by_uri`` / ``get_artifact_types_by_id``).
``tfx_addons_lab.components.registry_champion_resolver`` builds its pipeline nodes on them.

Fail-closed rules:

* no such model in the registry, or no such alias yet -> **no champion** (first run; logged);
* the alias points at the candidate itself (same ML Metadata artifact id or same URI)
  -> **no champion** (a model is never compared with itself; logged);
* the registry cannot be read (unreachable server, damaged version) -> :class:`RegistryError`;
* the alias points at a version that names no model (no ``model_artifact_id`` and no
  ``source_uri``), or at a model this ML Metadata store does not hold -> :class:`ChampionError`.
  The pipeline stops rather than compare against another model or against none.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterable, Optional

from tfx_addons_lab.errors import InvalidInputError, RegistryError
from tfx_addons_lab.registry.base import ModelRegistry, validate_alias, validate_name

__all__ = [
    "ChampionError",
    "ChampionLookup",
    "lookup_champion",
    "find_champion_artifact",
    "same_uri",
    "MODEL_TYPE_NAME",
]

_LOG = logging.getLogger(__name__)

#: The ML Metadata type name of TFX's standard ``Model`` artifact.
MODEL_TYPE_NAME = "Model"


class ChampionError(RegistryError):
    """The registry names a champion this pipeline cannot compare with (fail closed)."""


def same_uri(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two artifact URIs name the same folder (trailing ``/`` and ``file://`` ignored)."""
    if not a or not b:
        return False

    def norm(uri: str) -> str:
        uri = uri[len("file://") :] if uri.startswith("file://") else uri
        return uri.rstrip("/") or "/"

    return norm(a) == norm(b)


def _artifact_id(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, float) and value.is_integer() and value > 0:  # a JSON round trip
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    return None


@dataclass
class ChampionLookup:
    """What the registry says the champion is, for one candidate.

    Attributes:
      registry_uri: the registry read.
      model_name: the registered model.
      alias: the alias followed (``"champion"``).
      version: the version the alias points at; ``None`` if the model or alias does not exist.
      model_artifact_id: the ML Metadata id of the pushed ``Model`` (from the version's
        metadata, written by RegistryPusher), if recorded.
      source_uri: the URI of the pushed ``Model`` artifact, if recorded.
      registry_model_uri: where the registry keeps the version's files.
      same_as_candidate: the alias points at the candidate itself.
      reason: one line saying why there is or is not a champion (logged and recorded).
    """

    registry_uri: str
    model_name: str
    alias: str
    version: Optional[int] = None
    model_artifact_id: Optional[int] = None
    source_uri: Optional[str] = None
    registry_model_uri: Optional[str] = None
    same_as_candidate: bool = False
    reason: str = ""

    @property
    def found(self) -> bool:
        """Whether there is a champion to compare the candidate with."""
        return self.version is not None and not self.same_as_candidate

    def to_dict(self) -> Dict[str, Any]:
        return {**asdict(self), "found": self.found}


def lookup_champion(
    registry: Any,
    model_name: str,
    alias: str = "champion",
    candidate_ids: Iterable[Optional[int]] = (),
    candidate_uris: Iterable[Optional[str]] = (),
) -> ChampionLookup:
    """Follow ``alias`` of ``model_name`` in ``registry`` (a URI or a ``ModelRegistry``).

    ``candidate_ids`` / ``candidate_uris`` identify this run's candidate model(s): when the
    alias points at one of them the result is "no champion" with ``same_as_candidate`` set.

    Raises:
      InvalidInputError: an invalid model name, alias or registry URI.
      RegistryError: the registry cannot be read (e.g. an unreachable MLflow server) or the
        version is damaged.
      ChampionError: the alias points at a version that records neither
        ``model_artifact_id`` nor ``source_uri`` (not pushed by RegistryPusher).
    """
    from tfx_addons_lab.registry import open_registry

    validate_name(model_name)
    validate_alias(alias)
    reg: ModelRegistry = open_registry(registry)
    where = f"registry {getattr(reg, 'uri', '') or registry} model {model_name!r} alias {alias!r}"
    out = ChampionLookup(str(getattr(reg, "uri", "") or registry), model_name, alias)
    try:
        aliases = reg.aliases(model_name)
    except (RegistryError, InvalidInputError):
        raise
    except Exception as exc:  # noqa: BLE001 - any backend failure: fail closed, named
        raise RegistryError(
            f"{where}: cannot read the aliases ({type(exc).__name__}: {exc})"
        ) from None
    if alias not in aliases:
        out.reason = (
            f"no champion: {where} does not exist yet (first run)"
            if not aliases
            else f"no champion: {where} is not set (aliases: {', '.join(sorted(aliases))})"
        )
        _LOG.info("%s", out.reason)
        return out
    version = reg.get(model_name, alias)
    if version.damaged:
        raise RegistryError(
            f"{where} points at version {version.version}, which is damaged ({version.damaged}); "
            f"point it at a sound version with 'tfx-addons-lab registry promote' or roll it back"
        )
    meta = version.metadata or {}
    out.version = int(version.version)
    out.registry_model_uri = version.uri
    out.model_artifact_id = _artifact_id(meta.get("model_artifact_id"))
    source = meta.get("source_uri")
    out.source_uri = source if isinstance(source, str) and source else None
    if out.model_artifact_id is None and out.source_uri is None:
        raise ChampionError(
            f"{where} points at version {out.version}, whose metadata records no "
            "model_artifact_id or source_uri (it was not pushed by RegistryPusher), so the "
            "pipeline cannot find that model in ML Metadata to compare with; point the alias "
            "at a version a pipeline pushed ('tfx-addons-lab registry promote ... --alias "
            f"{alias}') or push this model through RegistryPusher"
        )
    ids = {i for i in (_artifact_id(c) for c in candidate_ids) if i is not None}
    uris = [u for u in candidate_uris if u]
    if (out.model_artifact_id is not None and out.model_artifact_id in ids) or any(
        same_uri(out.source_uri, u) for u in uris
    ):
        out.same_as_candidate = True
        out.reason = (
            f"no champion: {where} points at version {out.version}, which is this run's "
            "candidate itself (a model is never compared with itself)"
        )
    else:
        out.reason = (
            f"champion: {where} -> version {out.version} (model artifact "
            f"{out.model_artifact_id}, {out.source_uri})"
        )
    _LOG.info("%s", out.reason)
    return out


def find_champion_artifact(store: Any, lookup: ChampionLookup) -> Any:
    """The ML Metadata ``Model`` artifact (an MLMD proto) of a found champion.

    Looked up by ``model_artifact_id`` (its URI must equal the recorded ``source_uri``, so an
    id from another metadata store never matches a different model), else by ``source_uri``
    (the newest ``Model`` artifact at that URI).

    Raises:
      ChampionError: ``lookup`` has no champion, or this store holds no such ``Model``.
    """
    if not lookup.found:
        raise ChampionError(f"{lookup.reason}; there is no champion artifact to find")
    where = (
        f"registry {lookup.registry_uri} model {lookup.model_name!r} alias {lookup.alias!r} "
        f"(version {lookup.version})"
    )
    types: Dict[int, str] = {}

    def type_name(artifact: Any) -> str:
        if artifact.type_id not in types:
            found = store.get_artifact_types_by_id([artifact.type_id])
            types[artifact.type_id] = found[0].name if found else "?"
        return types[artifact.type_id]

    mismatch = ""
    if lookup.model_artifact_id is not None:
        found = store.get_artifacts_by_id([lookup.model_artifact_id])
        if found:
            art = found[0]
            if lookup.source_uri and not same_uri(art.uri, lookup.source_uri):
                mismatch = (
                    f"; artifact {art.id} of this store is {art.uri}, not {lookup.source_uri} "
                    "(the version was pushed from another ML Metadata store)"
                )
            elif type_name(art) != MODEL_TYPE_NAME:
                mismatch = f"; artifact {art.id} is a {type_name(art)}, not a Model"
            else:
                return art
    if lookup.source_uri:
        by_uri = [
            a
            for a in store.get_artifacts_by_uri(lookup.source_uri)
            if type_name(a) == MODEL_TYPE_NAME
        ]
        if by_uri:
            return max(by_uri, key=lambda a: a.id)
    raise ChampionError(
        f"{where} names model artifact {lookup.model_artifact_id} at {lookup.source_uri}, "
        f"but this pipeline's ML Metadata holds no such Model{mismatch}; refusing to compare "
        "with another model. Point the alias at a version this pipeline pushed "
        f"('tfx-addons-lab registry promote ... --alias {lookup.alias}'), or run with the "
        "metadata store that version was pushed from"
    )

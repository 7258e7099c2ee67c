"""Spec of ``RegistryPusher``: keys, ``RegistryPusherSpec`` and build-time parameter checks."""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from typing import Any, Dict, List, Mapping, Optional, Sequence

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.types.system_executions import Deploy

from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.run_identity import KUBEFLOW_PLACEHOLDERS
from tfx_addons_lab.textfmt import safe

_LOG = logging.getLogger(__name__)
_MAX_METRICS_BYTES = 256 * 1024

# Inputs, outputs and parameters.
MODEL_KEY = "model"
MODEL_BLESSING_KEY = "model_blessing"
INFRA_BLESSING_KEY = "infra_blessing"
EXAMPLES_KEY = "examples"
BLESSING_KEYS = (MODEL_BLESSING_KEY, INFRA_BLESSING_KEY)
PUSHED_MODEL_KEY = "pushed_model"
REGISTRY_URI_KEY = "registry_uri"
MODEL_NAME_KEY = "model_name"
ALIASES_KEY = "aliases"
METADATA_KEY = "metadata"
RECORD_REFUSED_KEY = "record_refused"

#: Version metadata written by the executor on top of ``build_metadata``: the gate's verdict,
#: and a token unique to one push (a returned version without it existed already).
VERDICT_KEY = "verdict"
PUSH_ID_KEY = "push_id"
#: Custom properties of the ``PushedModel`` output (besides the stock ``pushed*`` ones).
VERSION_PROPERTY = "registry_version"
VERDICT_PROPERTY = "registry_verdict"
ALREADY_PUSHED_PROPERTY = "registry_already_pushed"
ALIASES_PROPERTY = "registry_aliases"

#: Written into the ``PushedModel`` output: the pushed version, minus checksums.
RECORD_FILE = "registry_version.json"
#: Looked for next to the model and in the blessing; merged into ``metadata["metrics"]``.
METRICS_FILE = "metrics.json"

#: Schemes of object stores: a filesystem registry there has no atomic rename or lock.
OBJECT_STORE_SCHEMES = ("gs", "s3", "hdfs", "az", "abfs", "abfss", "wasb", "wasbs", "oss")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9.\-]*)(\+[A-Za-z0-9.\-]+)?://")


class RegistryPusherSpec(ComponentSpec):
    """Spec of ``RegistryPusher`` (``aliases`` and ``metadata`` are JSON strings,
    ``record_refused`` is 0 or 1; ``pipeline_job_name``, ``pipeline_job_uuid`` and
    ``pipeline_task_name`` are set only for Kubeflow v2 / Vertex AI, to KFP's placeholders:
    see :mod:`tfx_addons_lab.run_identity`)."""

    PARAMETERS = {
        REGISTRY_URI_KEY: ExecutionParameter(type=str),
        MODEL_NAME_KEY: ExecutionParameter(type=str),
        ALIASES_KEY: ExecutionParameter(type=str, optional=True),
        METADATA_KEY: ExecutionParameter(type=str, optional=True),
        RECORD_REFUSED_KEY: ExecutionParameter(type=int, optional=True),
        **{key: ExecutionParameter(type=str, optional=True) for key in KUBEFLOW_PLACEHOLDERS},
    }
    INPUTS = {
        MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        MODEL_BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing, optional=True),
        INFRA_BLESSING_KEY: ChannelParameter(type=standard_artifacts.InfraBlessing, optional=True),
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True),
    }
    OUTPUTS = {PUSHED_MODEL_KEY: ChannelParameter(type=standard_artifacts.PushedModel)}
    TYPE_ANNOTATION = Deploy


#: Registry schemes whose URI names a local folder after ``scheme://``.
_LOCAL_PATH_SCHEMES = ("file", "tfserving", "mlflow+file")


def validate_registry_uri(uri: Any) -> str:
    """Refuse, at pipeline-build time, a registry the pusher could not use on the cluster.

    Refused: a non-string or empty URI; an unknown scheme; a filesystem registry on an
    object store (``gs://``, ``s3://``, ``hdfs://``...: no atomic rename or lock, so
    concurrent pushers could lose or half-write versions); a path that is an existing file.
    """
    from tfx_addons_lab.registry import available_backends

    choices = (
        "a shared POSIX folder (/mnt/registry, file:///...), tfserving:///path, or an MLflow "
        "server (mlflow+http://host:5000, mlflow+https://...)"
    )
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInputError(f"RegistryPusher registry_uri {uri!r} is empty; use {choices}")
    match = _SCHEME.match(uri)
    if match:
        scheme = match.group(1).lower()
        if scheme in OBJECT_STORE_SCHEMES:
            raise InvalidInputError(
                f"RegistryPusher registry_uri {uri!r}: a filesystem registry on {scheme}:// is "
                "not safe (object stores have no atomic rename or lock, so concurrent pushes "
                f"could lose versions); use {choices}. On Vertex AI / Kubeflow use an MLflow "
                "server; the model itself may stay on gs:// (it is staged for the push)"
            )
        if scheme not in available_backends():
            raise InvalidInputError(
                f"RegistryPusher registry_uri {uri!r}: unknown scheme {scheme!r}; known: "
                f"{', '.join(available_backends())}; use {choices}"
            )
        # the local folder behind a path-based scheme (tfserving:///srv/models -> /srv/models)
        full = match.group(0)[: -len("://")].lower()  # mlflow+file
        path = uri[len(full) + 3 :] if full in _LOCAL_PATH_SCHEMES else None
    else:
        path = uri
    if path and os.path.isfile(path):
        raise InvalidInputError(
            f"RegistryPusher registry_uri {uri!r} is an existing file, not a folder; use {choices}"
        )
    return uri


def aliases_json(aliases: Optional[Sequence[str]]) -> str:
    """The ``aliases`` parameter: validated alias names as a JSON list."""
    from tfx_addons_lab.registry.base import validate_alias

    if isinstance(aliases, str):
        aliases = [aliases]
    names: List[str] = list(aliases or [])
    for alias in names:
        validate_alias(alias)
    return json.dumps(names)


def metadata_json(metadata: Optional[Dict[str, Any]]) -> str:
    """The ``metadata`` parameter: the user's extra metadata as JSON."""
    try:
        return json.dumps(metadata or {}, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"RegistryPusher metadata must be JSON serializable (finite numbers): {exc}"
        ) from None


def record_refused_flag(record_refused: Any) -> int:
    """The ``record_refused`` parameter as 0/1; only a real bool is accepted."""
    if not isinstance(record_refused, bool):
        raise InvalidInputError(
            f"RegistryPusher record_refused must be True or False, got {record_refused!r}"
        )
    return int(record_refused)


def kubeflow_parameters(kubeflow: Any) -> Dict[str, str]:
    """The run-identity parameters: KFP's placeholders if ``kubeflow`` is True, else none.

    None by default (the execution properties stay exactly as before) because TFX's
    ``AirflowDagRunner`` renders every string execution property with Jinja, which rejects
    ``{{$...}}`` (``TemplateSyntaxError: unexpected char '$'``); under LocalDagRunner they
    would be inert literals.
    """
    if not isinstance(kubeflow, bool):
        raise InvalidInputError(f"RegistryPusher kubeflow must be True or False, got {kubeflow!r}")
    return dict(KUBEFLOW_PLACEHOLDERS) if kubeflow else {}


def json_parameter(exec_properties: Dict[str, Any], key: str, default: Any) -> Any:
    """A JSON exec property decoded (``default`` when unset)."""
    raw = exec_properties.get(key)
    if raw in (None, ""):
        return default
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise InvalidInputError(f"RegistryPusher {key!r} is not valid JSON: {exc}") from None


def version_metadata(
    model: Any,
    blessings: Mapping[str, Any],
    examples: Sequence[Any],
    run: Mapping[str, Any],
    metrics_folders: Sequence[str],
    user_metadata: Mapping[str, Any],
) -> Dict[str, Any]:
    """The lineage stored with a registry version (see ``RegistryPusherExecutor.build_metadata``).

    ``blessings`` maps ``model_blessing``/``infra_blessing`` to their artifacts, ``run`` holds
    ``pipeline_name``, ``pipeline_run_id``, ``component_id``; a ``metrics.json`` in the
    blessings or ``metrics_folders`` is merged into ``metrics``; ``user_metadata`` goes on top.
    """
    meta: Dict[str, Any] = {
        "source_uri": model.uri,
        "model_artifact_id": model.id or None,
        "model_artifact_type": model.type_name,
        **{k: v for k, v in run.items() if v},
    }
    own = io.custom_properties(model)
    for key in ("span", "version"):
        if key in own:
            meta.setdefault("data_spans", {})[key] = own[key]
    trained_on = [io.examples_lineage(ex) for ex in examples]
    if trained_on:
        meta["examples"] = trained_on
        meta["data_spans"] = sorted({int(e["span"]) for e in trained_on if "span" in e})
    reasons, folders = [], []
    for key, blessing in blessings.items():
        props = io.custom_properties(blessing)
        meta["blessing" if key == MODEL_BLESSING_KEY else key] = {"uri": blessing.uri, **props}
        if props.get("reason"):
            reasons.append(str(props["reason"]))
        folders.append(blessing.uri)
    if reasons:
        meta["gate_reasons"] = reasons
    for folder in folders + list(metrics_folders):
        metrics = _read_metrics(folder)
        if metrics is not None:
            meta.setdefault("metrics", {}).update(metrics)
    meta.update(user_metadata)
    return {k: v for k, v in meta.items() if v is not None}


def _read_metrics(folder: str) -> Optional[dict]:
    """The ``metrics.json`` of a folder as recorded metadata (``None`` if absent or unusable)."""
    from tfx_addons_lab.gates.signals import parse_metrics

    path = io.join(folder, METRICS_FILE)
    if not io.exists(path) or io.size(path) > _MAX_METRICS_BYTES:
        return None
    try:
        return parse_metrics(io.read_json(path), path)
    except ValueError as exc:
        _LOG.warning("RegistryPusher: %s; not recorded", exc)
        return None


def push_facts(blessings: Mapping[str, Any], blessed: bool) -> Dict[str, Any]:
    """The metadata the executor adds to every version it pushes: ``verdict`` and ``push_id``.

    ``verdict`` is ``{"status": "passed"|"refused", "reason": ..., "blessing_uri": ...}``:
    the reason is the ``reason`` custom property of the deciding blessing (the one that
    refused, else the model blessing, else the infra blessing); without any blessing wired
    the status is ``passed`` with the reason "no blessing wired".
    """
    wired = [(key, blessings[key]) for key in BLESSING_KEYS if blessings.get(key) is not None]
    refusing = [(k, b) for k, b in wired if io.custom_properties(b).get("blessed") != 1]
    verdict: Dict[str, Any] = {"status": "passed" if blessed else "refused"}
    if not wired:
        verdict["reason"] = "no blessing wired"
    else:
        key, blessing = (refusing if not blessed and refusing else wired)[0]
        reason = io.custom_properties(blessing).get("reason")
        verdict["reason"] = (
            str(reason) if reason not in (None, "") else f"{key} is {verdict['status']}"
        )
        verdict["blessing_uri"] = blessing.uri
    return {VERDICT_KEY: verdict, PUSH_ID_KEY: uuid.uuid4().hex}


def already_pushed(version: Any, metadata: Mapping[str, Any]) -> bool:
    """Whether ``version`` existed before this push (its ``push_id`` is another push's)."""
    return (version.metadata or {}).get(PUSH_ID_KEY) != metadata.get(PUSH_ID_KEY)


def aliases_to_move(
    registry: Any, version: Any, aliases: Sequence[str], already: bool
) -> List[str]:
    """The ``aliases`` a blessed push moves onto ``version``.

    A new version gets all of them. A version that was already pushed (a re-run with unchanged
    inputs) gets only the aliases that have never pointed at it (e.g. a run killed between the
    push and the alias move): an alias that held it and was moved away since (a rollback, an
    approval of another version) is not moved back by a no-op re-run.
    """
    if not already:
        return list(aliases)
    return [
        alias
        for alias in aliases
        if not any(
            entry.version == version.version
            for entry in registry.alias_history(version.name, alias)
        )
    ]


def record_outcome(
    pushed: Any, version: Any, status: str, already: bool, registry_uri: str
) -> None:
    """Set the ``registry_*`` custom properties of ``pushed`` and write ``registry_version.json``.

    ``registry_version`` (int), ``registry_verdict`` (``passed``/``refused``),
    ``registry_already_pushed`` (1 when the content was already a version), ``registry_aliases``.
    """
    pushed.set_int_custom_property(VERSION_PROPERTY, int(version.version))
    pushed.set_string_custom_property(VERDICT_PROPERTY, status)
    pushed.set_int_custom_property(ALREADY_PUSHED_PROPERTY, int(bool(already)))
    pushed.set_string_custom_property(ALIASES_PROPERTY, ",".join(version.aliases))
    io.makedirs(pushed.uri)
    record = version.to_dict()
    record.pop("checksums", None)
    record["registry_uri"] = registry_uri
    record["already_pushed"] = bool(already)
    io.write_json(io.join(pushed.uri, RECORD_FILE), record)


def outcome_line(name: str, version: Any, status: str, already: bool, uri: str) -> str:
    """The executor's one INFO line about a push."""
    what = (
        f"already pushed as version {version.version}"
        if already
        else (f"pushed as version {version.version}")
    )
    aliases = safe(", ".join(version.aliases) or "none")
    name, uri = safe(name), safe(uri)
    if status == "refused":
        return (
            f"RegistryPusher: refused candidate of {name} {what} in {uri}; no alias moved "
            f"(aliases: {aliases}); 'registry approve' can still promote it"
        )
    return f"RegistryPusher: {name} {what} in {uri} (aliases: {aliases})"

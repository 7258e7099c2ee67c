"""Executor of :class:`~tfx_addons_lab.components.RegistryPusher`, designed for subclassing.

It reuses the stock Pusher executor's ``CheckBlessing``, ``GetModelPath``, ``_MarkPushed`` and
``_MarkNotPushed`` and delegates every decision to hook methods::

    open_registry(uri) -> ModelRegistry          # which registry (e.g. add credentials)
    build_metadata(input_dict, exec_properties) -> dict   # lineage stored with the version
    push(registry, name, model_path, metadata) -> ModelVersion
    set_aliases(registry, version, aliases) -> list[str]
    after_push(version, registry)                # e.g. notify a serving system (default: no-op)

Example (a pusher that also tells a server to reload)::

    class NotifyingPusher(RegistryPusherExecutor):
        def after_push(self, version, registry):
            requests.post("http://serving/reload", json={"uri": version.uri})

    RegistryPusher(..., custom_executor_spec=executor_spec.ExecutorClassSpec(NotifyingPusher))
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Optional

from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.types import artifact_utils

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.registry import ModelRegistry, ModelVersion, open_registry

_LOG = logging.getLogger(__name__)

#: files looked for next to the model / in the blessing and merged into ``metadata["metrics"]``
METRICS_FILES = ("metrics.json",)
_MAX_METRICS_BYTES = 256 * 1024


def _json_prop(exec_properties: Dict[str, Any], key: str, default: Any) -> Any:
    raw = exec_properties.get(key)
    if raw in (None, ""):
        return default
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise InvalidInputError(f"RegistryPusher {key!r} is not valid JSON: {exc}") from None


def artifact_properties(artifact: types.Artifact) -> Dict[str, Any]:
    """The plain (int/float/string) custom properties of an artifact as a dict."""
    out: Dict[str, Any] = {}
    for key, value in artifact.mlmd_artifact.custom_properties.items():
        kind = value.WhichOneof("value")
        if kind in ("int_value", "double_value", "string_value"):
            out[key] = getattr(value, kind)
    return out


def _examples_lineage(examples: types.Artifact) -> Dict[str, Any]:
    """URI, span, version and splits of an ``Examples`` artifact (properties, then custom)."""
    out: Dict[str, Any] = {"uri": examples.uri, "artifact_id": examples.id or None}
    custom = artifact_properties(examples)
    for key in ("span", "version", "split_names"):
        value = None
        if examples.has_property(key):
            value = getattr(examples, key)
        if value in (None, "") and key in custom:
            value = custom[key]
        if value not in (None, ""):
            out[key] = value
    return out


def _read_metrics(folder: str) -> Optional[dict]:
    import tensorflow as tf

    for name in METRICS_FILES:
        path = os.path.join(folder, name)
        if tf.io.gfile.exists(path) and tf.io.gfile.stat(path).length <= _MAX_METRICS_BYTES:
            try:
                with tf.io.gfile.GFile(path) as f:
                    value = json.load(f)
            except ValueError:
                _LOG.warning("RegistryPusher: %s is not valid JSON; not recorded", path)
                continue
            if isinstance(value, dict):
                return value
    return None


class RegistryPusherExecutor(pusher_executor.Executor):
    """Push the model into a registry if blessed; record the version in ``PushedModel``."""

    # -- hooks -----------------------------------------------------------------------------

    def open_registry(self, uri: str) -> ModelRegistry:
        """Return the registry to push to (override to add credentials or a custom backend)."""
        return open_registry(uri)

    def build_metadata(
        self, input_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]
    ) -> Dict[str, Any]:
        """Lineage stored with the version: source URI, pipeline, run, blessings, metrics.

        Keys: ``source_uri`` (the Model artifact URI, the idempotency key), ``model_artifact_id``,
        ``pipeline_name``, ``pipeline_run_id``, ``component_id``, ``blessing`` /
        ``infra_blessing`` (their ``blessed``, ``reason``... custom properties and URI),
        ``gate_reasons``, ``metrics`` (a ``metrics.json`` found with the model or the blessing),
        ``examples`` and ``data_spans`` (from the optional ``examples`` input: the Examples the
        model was trained on, with their span/version),
        then the user's ``metadata`` parameter on top.
        """
        model = artifact_utils.get_single_instance(input_dict["model"])
        meta: Dict[str, Any] = {
            "source_uri": model.uri,
            "model_artifact_id": model.id or None,
            "model_artifact_type": model.type_name,
        }
        ctx = getattr(self, "_context", None)
        info = getattr(ctx, "pipeline_info", None) if ctx else None
        if info is not None and getattr(info, "id", ""):
            meta["pipeline_name"] = info.id
        run_id = getattr(ctx, "pipeline_run_id", None) if ctx else None
        if run_id:
            meta["pipeline_run_id"] = run_id
        node = getattr(ctx, "pipeline_node", None) if ctx else None
        if node is not None and node.node_info.id:
            meta["component_id"] = node.node_info.id
        for key in ("span", "version"):
            if model.mlmd_artifact.custom_properties.get(key) is not None:
                meta.setdefault("data_spans", {})[key] = artifact_properties(model).get(key)
        trained_on = [_examples_lineage(ex) for ex in input_dict.get("examples") or []]
        if trained_on:
            meta["examples"] = trained_on
            meta["data_spans"] = sorted({int(e["span"]) for e in trained_on if "span" in e})
        reasons = []
        for key in ("model_blessing", "infra_blessing"):
            if input_dict.get(key):
                blessing = artifact_utils.get_single_instance(input_dict[key])
                props = artifact_properties(blessing)
                meta["blessing" if key == "model_blessing" else key] = {
                    "uri": blessing.uri,
                    **props,
                }
                if props.get("reason"):
                    reasons.append(str(props["reason"]))
                metrics = _read_metrics(blessing.uri)
                if metrics is not None:
                    meta.setdefault("metrics", {}).update(metrics)
        if reasons:
            meta["gate_reasons"] = reasons
        for folder in (model.uri, self.GetModelPath(input_dict)):
            metrics = _read_metrics(folder)
            if metrics is not None:
                meta.setdefault("metrics", {}).update(metrics)
        meta.update(_json_prop(exec_properties, "metadata", {}))
        return {k: v for k, v in meta.items() if v is not None}

    def push(
        self, registry: ModelRegistry, name: str, model_path: str, metadata: Dict[str, Any]
    ) -> ModelVersion:
        """Push ``model_path`` (the Serving model folder) and return the version."""
        return registry.push(name, model_path, metadata)

    def set_aliases(
        self, registry: ModelRegistry, version: ModelVersion, aliases: List[str]
    ) -> List[str]:
        """Point ``aliases`` at ``version``; return every alias it holds afterwards."""
        for alias in aliases:
            registry.set_alias(version.name, alias, version.version)
        return sorted(a for a, v in registry.aliases(version.name).items() if v == version.version)

    def after_push(self, version: ModelVersion, registry: ModelRegistry) -> None:
        """Called after a successful push and alias update; override to notify a server."""

    # -- TFX plumbing ----------------------------------------------------------------------

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pushed = artifact_utils.get_single_instance(output_dict["pushed_model"])
        uri = str(exec_properties["registry_uri"])
        name = str(exec_properties["model_name"])
        aliases = list(_json_prop(exec_properties, "aliases", []))
        pushed.set_string_custom_property("registry_uri", uri)
        pushed.set_string_custom_property("registry_model_name", name)
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(pushed)
            _LOG.info("RegistryPusher: model not blessed; nothing pushed to %s", uri)
            return
        registry = self.open_registry(uri)
        model_path = self.GetModelPath(input_dict)
        metadata = self.build_metadata(input_dict, exec_properties)
        version = self.push(registry, name, model_path, metadata)
        held = self.set_aliases(registry, version, aliases)
        version.aliases = held
        self.after_push(version, registry)
        self._MarkPushed(
            pushed, pushed_destination=version.uri, pushed_version=str(version.version)
        )
        pushed.set_int_custom_property("registry_version", int(version.version))
        pushed.set_string_custom_property("registry_aliases", ",".join(held))
        self._write_record(pushed.uri, version, uri)
        _LOG.info(
            "RegistryPusher: %s version %d in %s (aliases: %s)",
            name,
            version.version,
            uri,
            ", ".join(held) or "none",
        )

    def _write_record(self, folder: str, version: ModelVersion, uri: str) -> None:
        """Write ``registry_version.json`` (the pushed version, minus checksums) to the output."""
        import tensorflow as tf

        tf.io.gfile.makedirs(folder)
        record = version.to_dict()
        record.pop("checksums", None)
        record["registry_uri"] = uri
        with tf.io.gfile.GFile(os.path.join(folder, "registry_version.json"), "w") as f:
            f.write(json.dumps(record, indent=2, sort_keys=True))

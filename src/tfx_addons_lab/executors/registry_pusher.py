"""Executor of :class:`~tfx_addons_lab.components.RegistryPusher`, designed for subclassing.

It reuses the stock Pusher executor's ``CheckBlessing``, ``GetModelPath``, ``_MarkPushed`` and
``_MarkNotPushed`` and delegates every decision to hook methods::

    open_registry(uri) -> ModelRegistry          # which registry (e.g. add credentials)
    build_metadata(input_dict, exec_properties) -> dict   # lineage stored with the version
    push(registry, name, model_path, metadata) -> ModelVersion
    set_aliases(registry, version, aliases) -> list[str]
    after_push(version, registry)                # e.g. notify a serving system (default: no-op)

A refused candidate is registered only with ``record_refused`` (no alias moved, ``pushed=0``,
``after_push`` not called); a push of content that is already a version returns that version
(``registry_already_pushed=1``) and moves only aliases that never pointed at it.

Example (a pusher that also tells a server to reload)::

    class NotifyingPusher(RegistryPusherExecutor):
        def after_push(self, version, registry):
            requests.post("http://serving/reload", json={"uri": version.uri})

    class NotifyingRegistryPusher(RegistryPusher):  # or custom_executor_spec= (deprecated)
        EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(NotifyingPusher)
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.types import artifact_utils

from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.registry import ModelRegistry, ModelVersion, open_registry
from tfx_addons_lab.run_identity import pipeline_identity
from tfx_addons_lab.specs import registry_pusher as spec

__all__ = ["RegistryPusherExecutor"]

_LOG = logging.getLogger(__name__)


class RegistryPusherExecutor(pusher_executor.Executor):
    """Push the model into a registry if blessed (or record a refusal); fill ``PushedModel``."""

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
        model = artifact_utils.get_single_instance(input_dict[spec.MODEL_KEY])
        run = pipeline_identity(getattr(self, "_context", None), exec_properties)
        blessings = {
            key: artifact_utils.get_single_instance(input_dict[key])
            for key in (spec.MODEL_BLESSING_KEY, spec.INFRA_BLESSING_KEY)
            if input_dict.get(key)
        }
        return spec.version_metadata(
            model,
            blessings,
            list(input_dict.get(spec.EXAMPLES_KEY) or []),
            run,
            metrics_folders=[model.uri, self.GetModelPath(input_dict)],
            user_metadata=spec.json_parameter(exec_properties, spec.METADATA_KEY, {}),
        )

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
        """Called after a blessed push and its alias update (not for a recorded refusal)."""

    # -- TFX plumbing ----------------------------------------------------------------------

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pushed = artifact_utils.get_single_instance(output_dict[spec.PUSHED_MODEL_KEY])
        uri = str(exec_properties[spec.REGISTRY_URI_KEY])
        name = str(exec_properties[spec.MODEL_NAME_KEY])
        aliases = list(spec.json_parameter(exec_properties, spec.ALIASES_KEY, []))
        pushed.set_string_custom_property("registry_uri", uri)
        pushed.set_string_custom_property("registry_model_name", name)
        blessed = self.CheckBlessing(input_dict)
        if not blessed and not exec_properties.get(spec.RECORD_REFUSED_KEY):
            self._MarkNotPushed(pushed)
            _LOG.info("RegistryPusher: model not blessed; nothing pushed to %s", uri)
            return
        registry = self.open_registry(uri)
        metadata = self.build_metadata(input_dict, exec_properties)
        blessings = {k: input_dict[k][0] for k in spec.BLESSING_KEYS if input_dict.get(k)}
        metadata.update(spec.push_facts(blessings, blessed))
        # A remote model (gs://, s3://...) is copied to a local folder for the backend.
        with io.staged_locally(self.GetModelPath(input_dict)) as model_path:
            version = self.push(registry, name, model_path, metadata)
        already = spec.already_pushed(version, metadata)
        moving = spec.aliases_to_move(registry, version, aliases, already) if blessed else []
        version.aliases = self.set_aliases(registry, version, moving)
        if blessed:
            self.after_push(version, registry)
            self._MarkPushed(pushed, version.uri, pushed_version=str(version.version))
        else:  # recorded in the registry, not deployed: the stock Pusher's pushed=0
            self._MarkNotPushed(pushed)
        status = metadata[spec.VERDICT_KEY]["status"]
        spec.record_outcome(pushed, version, status, already, uri)
        _LOG.info(spec.outcome_line(name, version, status, already, uri))

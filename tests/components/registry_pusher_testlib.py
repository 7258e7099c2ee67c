"""Real upstream components and an executor subclass for the RegistryPusher tests.

No ``from __future__ import annotations``: the @component decorator reads real annotations.
"""

import json
import os

from tfx import v1 as tfx
from tfx.types import standard_artifacts

from tfx_addons_lab.executors.registry_pusher import RegistryPusherExecutor


@tfx.dsl.components.component
def FixedBlessing(
    model: tfx.dsl.components.InputArtifact[standard_artifacts.Model],
    blessing: tfx.dsl.components.OutputArtifact[standard_artifacts.ModelBlessing],
    blessed: tfx.dsl.components.Parameter[int] = 1,
    reason: tfx.dsl.components.Parameter[str] = "",
) -> None:
    """Write a ModelBlessing with ``blessed`` and a ``reason``, like a gate would."""
    os.makedirs(blessing.uri, exist_ok=True)
    marker = "BLESSED" if blessed else "NOT_BLESSED"
    with open(os.path.join(blessing.uri, marker), "w"):
        pass
    blessing.set_int_custom_property("blessed", int(blessed))
    blessing.set_string_custom_property("reason", reason or marker.lower())
    blessing.set_string_custom_property("current_model", model.uri)


NOTIFY_FILE_ENV = "REGISTRY_PUSHER_TEST_NOTIFY_FILE"


class NotifyingPusherExecutor(RegistryPusherExecutor):
    """A subclass using the hooks: extra metadata, and a 'serving system' notification."""

    def build_metadata(self, input_dict, exec_properties):
        meta = super().build_metadata(input_dict, exec_properties)
        meta["notified_by"] = type(self).__name__
        return meta

    def after_push(self, version, registry):
        with open(os.environ[NOTIFY_FILE_ENV], "a") as f:
            f.write(
                json.dumps(
                    {
                        "name": version.name,
                        "version": version.version,
                        "uri": version.uri,
                        "aliases": version.aliases,
                    }
                )
                + "\n"
            )

"""Real upstream components and an executor subclass for the RegistryPusher tests.

No ``from __future__ import annotations``: the @component decorator reads real annotations.
"""

import json
import os
from pathlib import Path

from tfx import v1 as tfx
from tfx.types import standard_artifacts

from tfx_addons_lab.executors.registry_pusher import RegistryPusherExecutor

TRAINER_MODULE = str(Path(__file__).with_name("registry_pusher_trainer.py"))


def trainer_pipeline(data, steps: int = 5):
    """CsvExampleGen -> StatisticsGen -> SchemaGen -> Trainer (the small trainer module).

    Returns ``(components, trainer)``; ``steps`` sets the Trainer's ``num_steps`` (a
    different value trains a different model).
    """
    example_gen = tfx.components.CsvExampleGen(input_base=str(data))
    stats = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema = tfx.components.SchemaGen(statistics=stats.outputs["statistics"])
    trainer = tfx.components.Trainer(
        module_file=TRAINER_MODULE,
        examples=example_gen.outputs["examples"],
        schema=schema.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=steps),
        eval_args=tfx.proto.EvalArgs(num_steps=1),
    )
    return [example_gen, stats, schema, trainer], trainer


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

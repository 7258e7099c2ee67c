"""Drivers that make our components run under TFX's legacy launcher (``AirflowDagRunner``).

The legacy launcher (``tfx.dsl.components.base.base_driver.BaseDriver``) names every output
artifact ``<output_key>:<run_id>``, and ML Metadata requires (type, name) to be unique. Two
components of one run with the same output key and type therefore collide:
DriftValidator's ``anomalies`` with ExampleValidator's, BlessingGate's ``blessing`` with
Evaluator's, RegistryPusher's ``pushed_model`` with Pusher's
(``UNIQUE constraint failed: Artifact.type_id, Artifact.name``). Our drivers name outputs
``<component_id>.<output_key>:<run_id>`` instead; the output keys users wire
(``gate.outputs["blessing"]``) do not change, and the legacy input resolution finds artifacts
by event path (output key) and producer component, not by name.

The same classes are valid custom drivers for the IR-based runners (LocalDagRunner,
BeamDagRunner, Kubeflow), which run a component's custom driver through
``PythonDriverOperator``: there :meth:`UniqueOutputNamesDriver.run` changes nothing (those
runners do not name artifacts ``<key>:<run_id>``). The Kubeflow v2 / Vertex compiler ignores
custom drivers.

Usage (one line in each component class)::

    class BlessingGate(base_component.BaseComponent):
        DRIVER_CLASS = _airflow_driver.UniqueOutputNamesDriver
"""

from __future__ import annotations

from typing import Any, Dict, List

from tfx import types
from tfx.dsl.components.base import base_driver
from tfx.orchestration import data_types, metadata
from tfx.orchestration.portable import base_driver as ir_base_driver
from tfx.orchestration.portable import data_types as ir_data_types
from tfx.proto.orchestration import driver_output_pb2

from tfx_addons_lab.run_identity import (
    COMPONENT_ID_PROPERTY,
    PIPELINE_NAME_PROPERTY,
    PIPELINE_RUN_ID_PROPERTY,
)


def output_artifact_name(component_id: str, output_key: str, run_id: str) -> str:
    """The unique ML Metadata name of an output: ``<component_id>.<output_key>:<run_id>``."""
    return f"{component_id}.{output_key}:{run_id}"


class UniqueOutputNamesDriver(base_driver.BaseDriver, ir_base_driver.BaseDriver):
    """Legacy-launcher driver naming outputs ``<component_id>.<key>:<run_id>``."""

    def __init__(self, metadata_handle: metadata.Metadata):
        base_driver.BaseDriver.__init__(self, metadata_handle)
        ir_base_driver.BaseDriver.__init__(self, metadata_handle)

    def _prepare_output_artifacts(
        self,
        input_artifacts: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, types.Channel],
        exec_properties: Dict[str, Any],
        execution_id: int,
        pipeline_info: data_types.PipelineInfo,
        component_info: data_types.ComponentInfo,
    ) -> Dict[str, List[types.Artifact]]:
        result = super()._prepare_output_artifacts(
            input_artifacts=input_artifacts,
            output_dict=output_dict,
            exec_properties=exec_properties,
            execution_id=execution_id,
            pipeline_info=pipeline_info,
            component_info=component_info,
        )
        for key, artifacts in result.items():
            for artifact in artifacts:
                artifact.name = output_artifact_name(
                    component_info.component_id, key, pipeline_info.run_id
                )
        return result

    # IR-based runners (PythonDriverOperator): nothing to change.
    def run(self, execution_info: ir_data_types.ExecutionInfo) -> driver_output_pb2.DriverOutput:
        return driver_output_pb2.DriverOutput()


class RunIdentityDriver(UniqueOutputNamesDriver):
    """:class:`UniqueOutputNamesDriver` that also tells the executor its pipeline and run.

    Under the legacy launcher the executor's context carries no pipeline name or run id; this
    driver adds them as execution properties (:mod:`tfx_addons_lab.run_identity`), which
    :func:`~tfx_addons_lab.run_identity.pipeline_identity` reads. The run id is then part of
    the legacy cache key, so such a component is not cached across runs under Airflow
    (RegistryPusher: a re-push of the same model is idempotent and returns the same version).
    """

    def resolve_exec_properties(
        self,
        exec_properties: Dict[str, Any],
        pipeline_info: data_types.PipelineInfo,
        component_info: data_types.ComponentInfo,
    ) -> Dict[str, Any]:
        out = dict(super().resolve_exec_properties(exec_properties, pipeline_info, component_info))
        out[PIPELINE_NAME_PROPERTY] = pipeline_info.pipeline_name
        out[PIPELINE_RUN_ID_PROPERTY] = str(pipeline_info.run_id)
        out[COMPONENT_ID_PROPERTY] = component_info.component_id
        return out

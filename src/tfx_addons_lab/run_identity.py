"""Which pipeline and run an execution belongs to, under every orchestrator.

* IR-based runners (LocalDagRunner, BeamDagRunner, Kubeflow): the executor's context has
  ``pipeline_info.id`` and ``pipeline_run_id``.
* TFX's legacy launcher (``AirflowDagRunner``): the context has neither; our components'
  driver (:mod:`tfx_addons_lab.components._airflow_driver`) puts them into the execution
  properties under :data:`PIPELINE_NAME_PROPERTY` and :data:`PIPELINE_RUN_ID_PROPERTY`.

Plain Python (no TFX import).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

#: Execution properties the legacy-launcher driver adds (names no component spec uses).
PIPELINE_NAME_PROPERTY = "_tfx_addons_lab_pipeline_name"
PIPELINE_RUN_ID_PROPERTY = "_tfx_addons_lab_pipeline_run_id"
COMPONENT_ID_PROPERTY = "_tfx_addons_lab_component_id"


def pipeline_identity(
    context: Any, exec_properties: Optional[Mapping[str, Any]] = None
) -> Dict[str, str]:
    """``{"pipeline_name", "pipeline_run_id", "component_id"}`` (those known), context first."""
    out: Dict[str, str] = {}
    info = getattr(context, "pipeline_info", None) if context is not None else None
    if info is not None and getattr(info, "id", ""):
        out["pipeline_name"] = info.id
    run_id = getattr(context, "pipeline_run_id", None) if context is not None else None
    if run_id:
        out["pipeline_run_id"] = str(run_id)
    node = getattr(context, "pipeline_node", None) if context is not None else None
    if node is not None and node.node_info.id:
        out["component_id"] = node.node_info.id
    props = exec_properties or {}
    for key, prop in (
        ("pipeline_name", PIPELINE_NAME_PROPERTY),
        ("pipeline_run_id", PIPELINE_RUN_ID_PROPERTY),
        ("component_id", COMPONENT_ID_PROPERTY),
    ):
        if key not in out and props.get(prop):
            out[key] = str(props[prop])
    return out

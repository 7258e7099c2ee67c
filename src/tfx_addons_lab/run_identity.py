"""Which pipeline and run an execution belongs to, under every orchestrator.

* IR-based runners (LocalDagRunner, BeamDagRunner, Kubeflow): the executor's context has
  ``pipeline_info.id`` and ``pipeline_run_id``.
* TFX's legacy launcher (``AirflowDagRunner``): the context has neither; our components'
  driver (:mod:`tfx_addons_lab.components._airflow_driver`) puts them into the execution
  properties under :data:`PIPELINE_NAME_PROPERTY` and :data:`PIPELINE_RUN_ID_PROPERTY`.
* Kubeflow Pipelines v2 / Vertex AI (TFX's ``kubeflow_v2_run_executor``): the context has
  neither and no driver of ours runs. A component built with ``kubeflow=True`` carries the
  execution parameters of :data:`KUBEFLOW_PLACEHOLDERS`, whose constant values are KFP's
  runtime placeholders (``{{$.pipeline_job_name}}``...); the backend replaces them with the
  job's name, the job's uuid and the task's name when it builds the task's input. The job
  name becomes ``pipeline_run_id``. The pipeline name has no placeholder and is not known
  to the executor there, so it is not recorded.

A placeholder left unresolved (a backend that does not substitute it, or the parameter read
outside KFP) is ignored, and the context always wins over these parameters.

Plain Python (no TFX import).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional

#: Execution properties the legacy-launcher driver adds (names no component spec uses).
PIPELINE_NAME_PROPERTY = "_tfx_addons_lab_pipeline_name"
PIPELINE_RUN_ID_PROPERTY = "_tfx_addons_lab_pipeline_run_id"
COMPONENT_ID_PROPERTY = "_tfx_addons_lab_component_id"

#: Execution parameters resolved by Kubeflow Pipelines v2 / Vertex AI -> their constant
#: value at build time (``kfp.dsl.PIPELINE_JOB_NAME_PLACEHOLDER``, ``PIPELINE_JOB_ID_...``,
#: ``PIPELINE_TASK_NAME_...``). The backend replaces a constant that *equals* a placeholder,
#: so each parameter holds exactly one.
KFP_JOB_NAME_PARAMETER = "pipeline_job_name"
KFP_JOB_UUID_PARAMETER = "pipeline_job_uuid"
KFP_TASK_NAME_PARAMETER = "pipeline_task_name"
KUBEFLOW_PLACEHOLDERS = {
    KFP_JOB_NAME_PARAMETER: "{{$.pipeline_job_name}}",
    KFP_JOB_UUID_PARAMETER: "{{$.pipeline_job_uuid}}",
    KFP_TASK_NAME_PARAMETER: "{{$.pipeline_task_name}}",
}
#: Where the resolved values land in :func:`pipeline_identity`'s result.
_KUBEFLOW_KEYS = (
    ("pipeline_run_id", KFP_JOB_NAME_PARAMETER),
    ("pipeline_job_uuid", KFP_JOB_UUID_PARAMETER),
    ("component_id", KFP_TASK_NAME_PARAMETER),
)
_UNRESOLVED = re.compile(r"\{\{\$[^{}]*\}\}")


def resolved(value: Any) -> Optional[str]:
    """``value`` as a string if it is a resolved runtime value, else ``None``.

    ``None``, empty strings and strings still holding a ``{{$...}}`` placeholder (the
    backend did not substitute it, or the value is read outside KFP) are not resolved.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text or _UNRESOLVED.search(text):
        return None
    return text


def pipeline_identity(
    context: Any, exec_properties: Optional[Mapping[str, Any]] = None
) -> Dict[str, str]:
    """``{"pipeline_name", "pipeline_run_id", "component_id"}`` (those known), context first.

    Sources, in order: the executor's context (IR-based runners), the legacy-launcher
    driver's execution properties (Airflow), then -- only when the context has no run id --
    the resolved KFP parameters of :data:`KUBEFLOW_PLACEHOLDERS` (Kubeflow v2 / Vertex AI),
    which also add ``pipeline_job_uuid``.
    """
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
    if not run_id:
        for key, param in _KUBEFLOW_KEYS:
            value = resolved(props.get(param))
            if key not in out and value is not None:
                out[key] = value
    return out

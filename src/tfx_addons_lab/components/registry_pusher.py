"""RegistryPusher: push blessed models into a versioned model registry.

``RegistryPusher`` extends the stock ``Pusher``: same inputs (``model``, optional
``model_blessing`` / ``infra_blessing``), same output (a standard ``PushedModel`` with ``pushed``,
``pushed_destination``, ``pushed_version``), but the destination is a registry opened with
:func:`tfx_addons_lab.registry.open_registry` -- a folder, ``tfserving://``, ``mlflow+http://``...
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts

from tfx_addons_lab.components import _airflow_driver
from tfx_addons_lab.executors.registry_pusher import RegistryPusherExecutor
from tfx_addons_lab.registry.base import validate_name
from tfx_addons_lab.specs import registry_pusher as spec

__all__ = ["RegistryPusher"]


class RegistryPusher(base_component.BaseComponent):
    """Push a (blessed) model into a versioned model registry.

    Example::

        pusher = RegistryPusher(
            model=trainer.outputs["model"],
            model_blessing=gate.outputs["blessing"],
            registry_uri="/srv/registry",          # or tfserving://..., mlflow+http://host:5000
            model_name="penguin",
            aliases=["champion"],
            metadata={"team": "ml-platform"},
        )

    When a wired blessing is not blessed, ``pushed`` is 0 as with the stock Pusher, and nothing
    is pushed -- unless ``record_refused=True``: then the refused candidate is still registered
    as a new version with ``metadata["verdict"] = {"status": "refused", "reason": <the
    blessing's reason>, "blessing_uri": ...}`` and no alias moves, so a person can review it and
    ``tfx-addons-lab registry approve`` exactly that version. A blessed model's serving folder
    becomes the next version (``metadata["verdict"]["status"] == "passed"``) and the aliases
    move to it. Content identical to an existing version (same content digest) creates no
    version: that version is returned, ``registry_already_pushed`` is 1, and only aliases that
    never pointed at it are moved (a no-op re-run does not undo a rollback or an approval).

    The ``PushedModel`` output records ``pushed_destination`` (the version URI, when blessed),
    ``pushed_version`` and the custom properties ``registry_uri``, ``registry_model_name``,
    ``registry_version`` (int), ``registry_verdict`` (``passed``/``refused``),
    ``registry_already_pushed`` (0/1) and ``registry_aliases``. The version's metadata records
    the model artifact URI, pipeline name, run id, the blessings' properties (e.g.
    BlessingGate's ``reason``) and metrics files, so lineage survives outside ML Metadata.
    On Kubeflow Pipelines v2 / Vertex AI pass ``kubeflow=True``: the run id is then the
    pipeline job's name (``pipeline_job_uuid`` and the task name are recorded too; the
    pipeline name is not available to the executor there).

    Args:
      model: the ``Model`` channel (usually ``trainer.outputs["model"]``).
      registry_uri: where to push; see :func:`tfx_addons_lab.registry.open_registry`. Checked
        when the pipeline is built: an unknown scheme, an existing file, or a filesystem
        registry on an object store (``gs://``, ``s3://``...) is refused. On Vertex AI or
        Kubeflow, use an MLflow server (``mlflow+https://...``); the model may live on gs://.
      model_name: the registered model name (letters, digits, ``.``, ``_``, ``-``).
      model_blessing: optional ``ModelBlessing`` (Evaluator or BlessingGate).
      infra_blessing: optional ``InfraBlessing`` (InfraValidator).
      aliases: aliases to point at the pushed version (e.g. ``["champion"]``).
      metadata: extra JSON-serializable metadata stored with the version.
      custom_executor_spec: an ``ExecutorClassSpec`` of a ``RegistryPusherExecutor`` subclass
        (e.g. one that notifies a serving system in ``after_push``).
      record_refused: register a candidate whose blessing is not blessed as a version with
        the verdict ``refused`` (no alias moved, ``pushed`` 0); default False: nothing pushed.
      examples: optional ``Examples`` the model was trained on (e.g.
        ``example_gen.outputs["examples"]``): their URIs, spans and versions are stored with
        the version (``examples``, ``data_spans``), so lineage survives outside ML Metadata.
      kubeflow: the pipeline is compiled for Kubeflow Pipelines v2 / Vertex AI
        (``KubeflowV2DagRunner``): add the parameters ``pipeline_job_name``,
        ``pipeline_job_uuid`` and ``pipeline_task_name`` holding KFP's placeholders
        (``{{$.pipeline_job_name}}``...), which the backend resolves per job, so the version
        records ``pipeline_run_id`` (the job name), ``pipeline_job_uuid`` and
        ``component_id``. The resolved values differ per job, so this task is not a cache
        hit there (a re-push of the same model returns the same version). Leave it False
        for other runners: Airflow's Jinja templating rejects ``{{$...}}`` strings.
    """

    SPEC_CLASS = spec.RegistryPusherSpec
    DRIVER_CLASS = (
        _airflow_driver.RunIdentityDriver
    )  # unique ML Metadata output names under Airflow
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(RegistryPusherExecutor)

    def __init__(
        self,
        model: types.BaseChannel,
        registry_uri: str,
        model_name: str,
        model_blessing: Optional[types.BaseChannel] = None,
        infra_blessing: Optional[types.BaseChannel] = None,
        aliases: Optional[Sequence[str]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        custom_executor_spec: Optional[executor_spec.ExecutorSpec] = None,
        examples: Optional[types.BaseChannel] = None,
        record_refused: bool = False,
        kubeflow: bool = False,
    ):
        validate_name(model_name)
        component_spec = spec.RegistryPusherSpec(
            model=model,
            model_blessing=model_blessing,
            infra_blessing=infra_blessing,
            examples=examples,
            registry_uri=spec.validate_registry_uri(registry_uri),
            model_name=model_name,
            aliases=spec.aliases_json(aliases),
            metadata=spec.metadata_json(metadata),
            record_refused=spec.record_refused_flag(record_refused),
            **spec.kubeflow_parameters(kubeflow),
            pushed_model=types.Channel(type=standard_artifacts.PushedModel),
        )
        super().__init__(spec=component_spec, custom_executor_spec=custom_executor_spec)

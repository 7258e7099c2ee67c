"""Vertex AI / Kubeflow Pipelines v2 compatibility of our executors and artifacts.

On Vertex every task runs TFX's container entrypoint
(``python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor``), which
differs from the in-process launchers in three ways that concern us:

1. **Artifact classes are imported from their schema title.** A custom type's title is its
   ``TYPE_NAME`` (``tfx_addons_lab.DriftReport``), imported with
   ``import_class_by_path``: the top-level package exposes ``DriftReport`` and
   ``GateReport`` lazily (``tfx_addons_lab/__init__.py``).
2. **Artifact ids are hashes of Vertex resource names, and custom properties travel as JSON.**
   The entrypoint sets ``artifact.id = sha256(resource name) % 2**63`` and sends every int
   custom property back as a JSON number (a float: ``current_model_id`` becomes
   ``3.17941718816226e+18``, precision lost). Input custom properties arrive as
   ``struct_value`` JSON values, which readers of ``int_value``/``string_value`` miss
   (:func:`tfx_addons_lab.artifact_io.custom_properties` reads both).
3. **The latest-blessed-model resolver is a metadata query**:
   ``schema_title="tfx.ModelBlessing" AND metadata.blessed.number_value=1``, then
   ``schema_title="tfx.Model" AND name="<current_model_id of that blessing>"``. It matches
   BlessingGate's blessings too (they are ``tfx.ModelBlessing`` with ``blessed=1``), so their
   ``current_model_id`` must be the model's resource name, exactly as for Evaluator's blessing.
   The entrypoint rewrites ``current_model_id``/``baseline_model_id`` to resource names only
   for executors that are Evaluator executors (``refactor_model_blessing``):
   :func:`register_model_blessing_executor` makes our gate's executor one for that check
   (an ABC virtual subclass; only that entrypoint tests it).
"""

from __future__ import annotations

import importlib
import sys

_EVALUATOR_EXECUTOR = "tfx.components.evaluator.executor"


def register_model_blessing_executor(executor_cls: type, import_evaluator: bool = False) -> type:
    """Let the Vertex entrypoint give ``executor_cls``'s ``blessing`` output resource-name ids.

    TFX's ``kubeflow_v2_run_executor`` calls ``refactor_model_blessing`` on the ``blessing``
    output of executors for which ``issubclass(cls, evaluator.executor.Executor)`` holds: it
    turns the int ``current_model_id``/``baseline_model_id`` (hashes of the input artifacts'
    resource names) back into those names, which the latest-blessed-model query matches with
    ``name="..."``. Registering ``executor_cls`` as a virtual subclass makes that check true
    (it also makes the entrypoint build a ``BaseBeamExecutor.Context`` for it, which is a
    ``BaseExecutor.Context``); no other TFX code path tests these classes. Subclasses of
    ``executor_cls`` are covered. The output key must be ``blessing``, as Evaluator's.

    Evaluator's executor module imports TensorFlow Model Analysis; it is not imported here
    unless ``import_evaluator``: the entrypoint imports it before it imports any executor, so
    at the import of our executor module it is already loaded wherever the check happens.

    Returns ``executor_cls`` (usable as a class decorator).
    """
    module = sys.modules.get(_EVALUATOR_EXECUTOR)
    if module is None and import_evaluator:
        module = importlib.import_module(_EVALUATOR_EXECUTOR)
    if module is not None:
        module.Executor.register(executor_cls)
    return executor_cls

"""TEMPORARY wiring for the Vertex entrypoint test, until three pending small changes land.

Put on ``PYTHONPATH`` of the task subprocesses only by ``test_vertex_entrypoint.py`` (unless
``VERTEX_HARNESS_NO_SHIM=1``). Each step applies one pending change of an existing file:

1. ``tfx_addons_lab/__init__.py`` exports ``DriftReport``/``GateReport`` lazily (the Vertex
   entrypoint imports a custom artifact class from its schema title, our TYPE_NAME);
   skipped once ``tfx_addons_lab.DriftReport`` resolves;
2. ``executors/blessing_gate.py`` ends with
   ``compat_vertex.register_model_blessing_executor(BlessingGateExecutor)``; skipped once
   the class is registered;
3. ``executors/registry_pusher.py``'s ``artifact_properties`` reads custom properties with
   ``compat_vertex.json_custom_properties`` (struct values after Vertex's JSON round trip).

Delete this folder once they are merged.
"""

import importlib.abc
import importlib.util
import sys

import tfx_addons_lab


def _export_artifact_classes() -> None:
    try:
        tfx_addons_lab.DriftReport  # noqa: B018 - merged: nothing to do
        return
    except AttributeError:
        pass
    from tfx_addons_lab._lazy import lazy_getattr
    from tfx_addons_lab.compat_vertex import ARTIFACT_CLASSES

    tfx_addons_lab.__getattr__ = lazy_getattr("tfx_addons_lab", ARTIFACT_CLASSES)


def _register_gate(module) -> None:
    from tfx.components.evaluator import executor as evaluator_executor

    from tfx_addons_lab.compat_vertex import register_model_blessing_executor

    if not issubclass(module.BlessingGateExecutor, evaluator_executor.Executor):
        register_model_blessing_executor(module.BlessingGateExecutor)


def _read_json_properties(module) -> None:
    from tfx_addons_lab.compat_vertex import json_custom_properties

    module.artifact_properties = json_custom_properties


class _AfterImport(importlib.abc.MetaPathFinder):
    """Run a fix right after the module it changes is imported."""

    FIXES = {
        "tfx_addons_lab.executors.blessing_gate": _register_gate,
        "tfx_addons_lab.executors.registry_pusher": _read_json_properties,
    }

    def find_spec(self, fullname, path, target=None):
        fix = self.FIXES.get(fullname)
        if fix is None:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            fix(module)

        spec.loader.exec_module = exec_module
        return spec


_export_artifact_classes()
sys.meta_path.insert(0, _AfterImport())

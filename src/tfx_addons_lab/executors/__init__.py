"""Executors of tfx-addons-lab components, designed to be subclassed (imported lazily).

Each executor keeps TFX plumbing in ``Do`` and delegates every decision to documented hook
methods; override a hook in a subclass and give it to a component subclass's ``EXECUTOR_SPEC``
(TFX's way; ``custom_executor_spec=`` still works).
"""

from __future__ import annotations

from tfx_addons_lab._lazy import lazy_getattr

_LAZY = {
    "DriftValidatorExecutor": (".drift_validator", "DriftValidatorExecutor"),
    "BlessingGateExecutor": (".blessing_gate", "BlessingGateExecutor"),
    "RegistryPusherExecutor": (".registry_pusher", "RegistryPusherExecutor"),
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list:
    return __all__

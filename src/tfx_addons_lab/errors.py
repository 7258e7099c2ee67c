"""Exceptions raised by tfx-addons-lab.

Every error a user can cause raises a subclass of :class:`TfxAddonsLabError` whose message
names the offending input and how to fix it. The CLI turns these into one line on stderr
and exit status 2.
"""

from __future__ import annotations


class TfxAddonsLabError(Exception):
    """Base class of all errors raised on purpose by tfx-addons-lab."""


class InvalidInputError(TfxAddonsLabError, ValueError):
    """An input (file, argument, artifact) is missing, unreadable or malformed."""


class MissingExtraError(TfxAddonsLabError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str, purpose: str = "") -> None:
        what = f" for {purpose}" if purpose else ""
        super().__init__(
            f"the optional dependency {module!r} is needed{what} but is not installed; "
            f"install it with: pip install 'tfx-addons-lab[{extra}]'"
        )
        self.module = module
        self.extra = extra


class DriftDetectedError(TfxAddonsLabError, RuntimeError):
    """Raised by DriftValidator with ``fail_on_drift=True`` to stop the pipeline run."""


class GateFailedError(TfxAddonsLabError, RuntimeError):
    """Raised by gate components configured to fail the pipeline run."""


class RegistryError(TfxAddonsLabError):
    """A model registry operation failed (unknown model, version, alias, corrupt data...)."""


def require(module: str, extra: str, purpose: str = ""):
    """Import and return ``module``; raise :class:`MissingExtraError` naming ``extra`` if absent."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(module, extra, purpose) from exc

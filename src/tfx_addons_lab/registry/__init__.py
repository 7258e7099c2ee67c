"""Model registries: versions, aliases with history, rollback, verification (no TFX import).

>>> from tfx_addons_lab.registry import open_registry
>>> reg = open_registry("/srv/registry")            # or file://, tfserving://, mlflow+http://...
>>> v = reg.push("penguin", "/path/to/saved_model", {"pipeline_name": "penguin"})
>>> reg.set_alias("penguin", "champion", v.version)
>>> reg.get("penguin", "champion").uri

Backends
--------
=================================  ===========================================================
URI                                backend
=================================  ===========================================================
``/path``, ``file:///path``        :class:`~.filesystem.FilesystemRegistry` (embedded default)
``tfserving:///path``              :class:`~.tfserving.TFServingRegistry` (TF Serving layout)
``mlflow+http://host:port``        :class:`~.mlflow_backend.MlflowRegistry` (needs ``[mlflow]``)
``mlflow+file:///path``            the same, on a local MLflow file store
=================================  ===========================================================

The backend is chosen by the URI scheme; for ``a+b://`` the part before ``+`` names it. Add a
backend by subclassing :class:`ModelRegistry` (implement the abstract methods and
``from_uri``) and either call :func:`register_backend` or declare an entry point (consulted
only for schemes that are neither registered nor built in)::

    [project.entry-points."tfx_addons_lab.registry_backends"]
    myscheme = "my_package.my_module:MyRegistry"
"""

from __future__ import annotations

import re
from typing import Dict, List, Type

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.registry.base import (
    METADATA_KEYS,
    AliasEntry,
    ModelRegistry,
    ModelVersion,
    VerifyResult,
    validate_alias,
    validate_name,
    validate_version,
)

__all__ = [
    "open_registry",
    "register_backend",
    "available_backends",
    "ModelRegistry",
    "ModelVersion",
    "VerifyResult",
    "AliasEntry",
    "METADATA_KEYS",
    "validate_name",
    "validate_alias",
    "validate_version",
    "ENTRY_POINT_GROUP",
]

ENTRY_POINT_GROUP = "tfx_addons_lab.registry_backends"

_BUILTIN = {
    "file": "tfx_addons_lab.registry.filesystem:FilesystemRegistry",
    "mlflow": "tfx_addons_lab.registry.mlflow_backend:MlflowRegistry",
    "tfserving": "tfx_addons_lab.registry.tfserving:TFServingRegistry",
}
_REGISTERED: Dict[str, object] = {}
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9.\-]*)(\+[A-Za-z0-9.\-]+)?://")


def register_backend(scheme: str, cls: Type[ModelRegistry]) -> None:
    """Make ``open_registry("<scheme>://...")`` (and ``<scheme>+x://``) build ``cls``."""
    if not isinstance(scheme, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9.\-]*", scheme):
        raise InvalidInputError(f"backend scheme {scheme!r} must be a word such as 'myreg'")
    if not (isinstance(cls, type) and issubclass(cls, ModelRegistry)):
        raise InvalidInputError(f"backend {cls!r} for {scheme!r} must subclass ModelRegistry")
    _REGISTERED[scheme.lower()] = cls


def _entry_points() -> Dict[str, object]:
    from importlib import metadata

    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)  # type: ignore[call-arg]
    except TypeError:  # pragma: no cover - Python < 3.10
        eps = metadata.entry_points().get(ENTRY_POINT_GROUP, [])  # type: ignore[attr-defined]
    return {ep.name.lower(): ep for ep in eps}


def available_backends() -> List[str]:
    """The schemes :func:`open_registry` understands (built-in, entry points, registered)."""
    return sorted(set(_BUILTIN) | set(_entry_points()) | set(_REGISTERED))


def _load(scheme: str) -> Type[ModelRegistry]:
    """The backend class of ``scheme``: registered in code, built in, else an entry point.

    Built-in schemes never scan entry points (``importlib.metadata`` costs tens to hundreds of
    milliseconds per process); only an unknown scheme looks at them.
    """
    if scheme in _REGISTERED:
        return _REGISTERED[scheme]  # type: ignore[return-value]
    if scheme in _BUILTIN:
        import importlib

        module, _, attr = _BUILTIN[scheme].partition(":")
        cls = getattr(importlib.import_module(module), attr)
    else:
        target = _entry_points().get(scheme)
        if target is None:
            raise InvalidInputError(
                f"unknown registry scheme {scheme!r}; known: {', '.join(available_backends())} "
                "(register more with tfx_addons_lab.registry.register_backend or an entry point "
                f"in group {ENTRY_POINT_GROUP!r})"
            )
        try:
            cls = target.load()  # type: ignore[attr-defined]
        except Exception as exc:
            raise InvalidInputError(
                f"registry backend {scheme!r} ({target.value}) cannot be loaded: "  # type: ignore[attr-defined]
                f"{type(exc).__name__}: {exc}; fix or uninstall the package that declares it"
            ) from None
    if not (isinstance(cls, type) and issubclass(cls, ModelRegistry)):
        raise InvalidInputError(f"registry backend {scheme!r} ({cls!r}) is not a ModelRegistry")
    return cls


def open_registry(uri: str) -> ModelRegistry:
    """Open the registry named by ``uri`` (see the table in this module's docstring).

    Raises :class:`~tfx_addons_lab.errors.InvalidInputError` for an empty or unknown URI and
    :class:`~tfx_addons_lab.errors.MissingExtraError` when the backend needs an extra.
    """
    if isinstance(uri, ModelRegistry):
        return uri
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInputError(
            "registry URI is empty; give a folder, file:///path, tfserving:///path or "
            "mlflow+http://host:port"
        )
    uri = uri.strip()
    match = _SCHEME_RE.match(uri)
    scheme = match.group(1).lower() if match else "file"
    return _load(scheme).from_uri(uri)

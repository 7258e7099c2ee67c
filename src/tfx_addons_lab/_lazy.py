"""Lazy attribute loading for package ``__init__`` modules (PEP 562)."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, Tuple


def lazy_getattr(package: str, table: Dict[str, Tuple[str, str]]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` that imports ``table[name] = (module, attr)`` on use."""

    def __getattr__(name: str) -> Any:
        try:
            module_name, attr = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(module_name, package)
        return getattr(module, attr)

    return __getattr__

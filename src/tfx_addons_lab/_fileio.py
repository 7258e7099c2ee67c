"""The one file-access path of the package: ``tfx.dsl.io.fileio`` when TFX is installed, else
plain files.

Core modules (the drift history) and :mod:`tfx_addons_lab.artifact_io` (every artifact read and
write of the executors and components) both go through these functions, so ``gs://``,
``s3://``, ``hdfs://``, ``ram://``... roots work wherever TFX's filesystem registry serves
them. ``fileio`` is imported on the first file access, never at import time, so the core stays
TFX-free; without TFX only local paths (and ``file://``) are served. Paths are joined with
``posixpath`` (URIs use ``/`` everywhere).
"""

from __future__ import annotations

import glob as _glob
import json
import os
import posixpath
import re
from typing import Any, List, Optional

__all__ = [
    "exists",
    "exists_or_false",
    "glob",
    "is_local",
    "isdir",
    "join",
    "listdir",
    "makedirs",
    "read_bytes",
    "read_json",
    "read_json_or_none",
    "read_text",
    "rglob",
    "size",
    "write_bytes",
    "write_json",
    "write_text",
]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_UNSET = object()
_backend: Any = _UNSET


def _fileio() -> Any:
    """``tfx.dsl.io.fileio``, or ``None`` when TFX is not installed (imported once)."""
    global _backend
    if _backend is _UNSET:
        try:
            from tfx.dsl.io import fileio
        except ImportError:
            fileio = None
        _backend = fileio
    return _backend


def _local(uri: str) -> str:
    """``uri`` as a local path when TFX is absent; a remote URI then cannot be served."""
    if not is_local(uri):
        raise OSError(f"{uri}: reading or writing this URI needs TFX (tfx.dsl.io.fileio)")
    return uri[len("file://") :] if uri.startswith("file://") else uri


def join(*parts: str) -> str:
    """Join URI parts with ``/`` (also right for ``gs://bucket/...``)."""
    return posixpath.join(*parts)


def is_local(uri: str) -> bool:
    """``True`` for a plain path or ``file://`` URI."""
    return not _SCHEME.match(uri) or uri.startswith("file://")


def exists(uri: str) -> bool:
    fs = _fileio()
    return bool(fs.exists(uri)) if fs else os.path.exists(_local(uri))


def exists_or_false(uri: str) -> bool:
    """:func:`exists`, ``False`` when the filesystem cannot tell (no credentials, no TFX...)."""
    try:
        return exists(uri)
    except Exception:  # noqa: BLE001
        return False


def isdir(uri: str) -> bool:
    fs = _fileio()
    return bool(fs.isdir(uri)) if fs else os.path.isdir(_local(uri))


def size(uri: str) -> int:
    """Length of a file in bytes."""
    fs = _fileio()
    return fs.stat(uri).length if fs else os.path.getsize(_local(uri))


def makedirs(uri: str) -> None:
    """Create ``uri`` and its parents; nothing when it exists."""
    fs = _fileio()
    if fs:
        fs.makedirs(uri)
    else:
        os.makedirs(_local(uri), exist_ok=True)


def listdir(uri: str) -> List[str]:
    """Entry names of a folder (without trailing ``/``), sorted."""
    fs = _fileio()
    names = fs.listdir(uri) if fs else os.listdir(_local(uri))
    return sorted(name.rstrip("/") for name in names)


def glob(pattern: str) -> List[str]:
    fs = _fileio()
    return sorted(fs.glob(pattern) if fs else _glob.glob(_local(pattern)))


def rglob(root: str, name: str) -> List[str]:
    """Every file called ``name`` below ``root`` (sorted)."""
    fs = _fileio()
    found = []
    for folder, _, files in fs.walk(root) if fs else os.walk(_local(root)):
        folder = folder.decode() if isinstance(folder, bytes) else folder
        names = [f.decode() if isinstance(f, bytes) else f for f in files]
        if name in names:
            found.append(join(folder, name))
    return sorted(found)


def read_bytes(uri: str) -> bytes:
    fs = _fileio()
    with fs.open(uri, "rb") if fs else open(_local(uri), "rb") as f:
        return f.read()


def read_text(uri: str) -> str:
    return read_bytes(uri).decode("utf-8")


def read_json(uri: str) -> Any:
    """Parse a JSON file; ``ValueError`` naming the file when it is not JSON."""
    try:
        return json.loads(read_text(uri))
    except ValueError as exc:
        raise ValueError(f"{uri} is not valid JSON: {exc}") from None


def read_json_or_none(uri: str) -> Optional[Any]:
    """The JSON at ``uri``, or ``None`` when it is missing, unreadable or not JSON (for pages
    that show what they can read: a damaged report is shown as missing, never fatal)."""
    try:
        return read_json(uri) if exists(uri) else None
    except Exception:  # noqa: BLE001
        return None


def write_bytes(uri: str, data: bytes) -> None:
    fs = _fileio()
    with fs.open(uri, "wb") if fs else open(_local(uri), "wb") as f:
        f.write(data)


def write_text(uri: str, text: str) -> None:
    write_bytes(uri, text.encode("utf-8"))


def write_json(uri: str, value: Any) -> None:
    write_text(uri, json.dumps(value, indent=2, sort_keys=True, allow_nan=False))

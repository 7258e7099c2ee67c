"""Every artifact read and write of our executors and components, through ``tfx.dsl.io.fileio``.

Artifact URIs may be local paths or ``gs://``, ``s3://``, ``hdfs://``... (any filesystem
registered with TFX's filesystem registry), so executors never call ``os``/``open``/
``shutil`` on them. Paths are joined with ``posixpath`` (URIs use ``/`` everywhere).
:func:`staged_locally` gives a local copy of a remote folder to libraries that need real
files (model registries), and removes it afterwards.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import re
import tempfile
from typing import Any, Dict, Iterator, List, Optional

from tfx.dsl.io import fileio

__all__ = [
    "copy_dir",
    "custom_properties",
    "examples_lineage",
    "exists",
    "glob",
    "is_local",
    "isdir",
    "join",
    "listdir",
    "makedirs",
    "read_bytes",
    "read_example_anomalies",
    "read_json",
    "read_text",
    "rglob",
    "size",
    "staged_locally",
    "write_bytes",
    "write_json",
    "write_text",
]

#: File of an anomalies split, as the stock ExampleValidator writes it.
ANOMALIES_FILE = "SchemaDiff.pb"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def join(*parts: str) -> str:
    """Join URI parts with ``/`` (also right for ``gs://bucket/...``)."""
    return posixpath.join(*parts)


def is_local(uri: str) -> bool:
    """``True`` for a plain path or ``file://`` URI."""
    return not _SCHEME.match(uri) or uri.startswith("file://")


def exists(uri: str) -> bool:
    return fileio.exists(uri)


def isdir(uri: str) -> bool:
    return fileio.isdir(uri)


def size(uri: str) -> int:
    """Length of a file in bytes."""
    return fileio.stat(uri).length


def makedirs(uri: str) -> None:
    fileio.makedirs(uri)


def listdir(uri: str) -> List[str]:
    """Entry names of a folder (without trailing ``/``)."""
    return sorted(name.rstrip("/") for name in fileio.listdir(uri))


def glob(pattern: str) -> List[str]:
    return sorted(fileio.glob(pattern))


def rglob(root: str, name: str) -> List[str]:
    """Every file called ``name`` below ``root`` (sorted)."""
    found = []
    for folder, _, files in fileio.walk(root):
        folder = folder.decode() if isinstance(folder, bytes) else folder
        names = [f.decode() if isinstance(f, bytes) else f for f in files]
        if name in names:
            found.append(join(folder, name))
    return sorted(found)


def read_bytes(uri: str) -> bytes:
    with fileio.open(uri, "rb") as f:
        return f.read()


def read_text(uri: str) -> str:
    return read_bytes(uri).decode("utf-8")


def read_json(uri: str) -> Any:
    """Parse a JSON file; ``ValueError`` naming the file when it is not JSON."""
    try:
        return json.loads(read_text(uri))
    except ValueError as exc:
        raise ValueError(f"{uri} is not valid JSON: {exc}") from None


def write_bytes(uri: str, data: bytes) -> None:
    with fileio.open(uri, "wb") as f:
        f.write(data)


def write_text(uri: str, text: str) -> None:
    write_bytes(uri, text.encode("utf-8"))


def write_json(uri: str, value: Any) -> None:
    write_text(uri, json.dumps(value, indent=2, sort_keys=True, allow_nan=False))


def copy_dir(src: str, dst: str) -> None:
    """Copy the folder ``src`` to ``dst`` (any ``fileio`` schemes; TFX's ``io_utils.copy_dir``)."""
    from tfx.utils import io_utils

    io_utils.copy_dir(src, dst)


@contextlib.contextmanager
def staged_locally(uri: str) -> Iterator[str]:
    """A local folder with the contents of ``uri``: the folder itself when it is local,
    otherwise a temporary copy made through ``fileio`` and removed on exit."""
    if is_local(uri):
        yield uri[len("file://") :] if uri.startswith("file://") else uri
        return
    with tempfile.TemporaryDirectory(prefix="tfx-addons-lab-stage-") as tmp:
        local = join(tmp, posixpath.basename(uri.rstrip("/")) or "artifact")
        copy_dir(uri, local)
        yield local


def read_example_anomalies(
    artifact: Any, splits: Optional[List[str]] = None
) -> List[Dict[str, str]]:
    """Anomalies of an ``ExampleAnomalies`` artifact (stock layout ``Split-<name>/SchemaDiff.pb``,
    a binary ``Anomalies`` proto; text protos are accepted).

    Raises ``FileNotFoundError`` when a wanted split is missing or no split holds a file.
    """
    from tfx.types import artifact_utils

    from tfx_addons_lab.drift.anomalies import anomalies_to_dicts, parse_anomalies

    names = artifact_utils.decode_split_names(artifact.split_names) if artifact.split_names else []
    if not names:
        names = [d[len("Split-") :] for d in listdir(artifact.uri) if d.startswith("Split-")]
    if splits:
        missing = sorted(set(splits) - set(names))
        if missing:
            raise FileNotFoundError(f"split(s) {missing} not in the anomalies (splits: {names})")
        names = [n for n in names if n in splits]
    found: List[Dict[str, str]] = []
    read_any = False
    for split in sorted(names):
        folder = join(artifact.uri, f"Split-{split}")
        path = join(folder, ANOMALIES_FILE)
        if not exists(path):
            pbs = glob(join(folder, "*.pb*"))
            if not pbs:
                continue
            path = pbs[0]
        read_any = True
        found.extend(anomalies_to_dicts(parse_anomalies(read_bytes(path), path), split))
    if not read_any:
        raise FileNotFoundError(
            f"no {ANOMALIES_FILE} in any split of {artifact.uri} (splits: {names})"
        )
    return found


def custom_properties(artifact: Any) -> Dict[str, Any]:
    """Every custom property of ``artifact`` as a plain value, whatever its MLMD encoding.

    Locally properties are ``int_value``/``double_value``/``string_value``; after a Vertex
    round trip they are ``struct_value`` JSON values, ints as floats. Decoded by
    :func:`tfx_addons_lab.mlmd.value_of` (integral floats below 2**53 come back as ints).
    """
    from tfx_addons_lab.mlmd import value_of

    return {
        key: value_of(value)
        for key, value in artifact.mlmd_artifact.custom_properties.items()
        if value.WhichOneof("value") not in (None, "proto_value")
    }


def examples_lineage(examples: Any) -> Dict[str, Any]:
    """URI, span, version and splits of an ``Examples`` artifact (properties, then custom)."""
    out: Dict[str, Any] = {"uri": examples.uri, "artifact_id": examples.id or None}
    custom = custom_properties(examples)
    for key in ("span", "version", "split_names"):
        value = getattr(examples, key) if examples.has_property(key) else None
        if value in (None, "") and key in custom:
            value = custom[key]
        if value not in (None, ""):
            out[key] = value
    return out

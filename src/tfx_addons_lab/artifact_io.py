"""Every artifact read and write of our executors and components, through ``tfx.dsl.io.fileio``.

Artifact URIs may be local paths or ``gs://``, ``s3://``, ``hdfs://``... (any filesystem
registered with TFX's filesystem registry), so executors never call ``os``/``open``/
``shutil`` on them. The file functions (``exists``, ``read_json``, ``write_text``, ``join``...)
are those of :mod:`tfx_addons_lab._fileio`, the package's one file-access path, which the
TFX-free core (the drift history) uses too; this module adds the artifact-level readers.
:func:`staged_locally` gives a local copy of a remote folder to libraries that need real
files (model registries), and removes it afterwards.
"""

from __future__ import annotations

import contextlib
import posixpath
import tempfile
from typing import Any, Dict, Iterator, List, Optional

from tfx_addons_lab._fileio import (
    exists,
    glob,
    is_local,
    isdir,
    join,
    listdir,
    makedirs,
    read_bytes,
    read_json,
    read_text,
    rglob,
    size,
    write_bytes,
    write_json,
    write_text,
)

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

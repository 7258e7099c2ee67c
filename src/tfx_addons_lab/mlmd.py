"""Read-only helpers over an ML Metadata store (no TFX import; ``ml_metadata`` only).

Used by the ``lineage`` CLI and the example summaries. All functions take an open
``MetadataStore``; :func:`open_sqlite_store` opens the SQLite file a LocalDagRunner wrote.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from tfx_addons_lab.errors import InvalidInputError

#: Key under which TFX stores a non-dict JSON property value in a ``struct_value``.
_JSON_SINGLE_VALUE_KEY = "__value__"

# MLMD event types (metadata_store_pb2.Event.Type) that mark inputs / outputs of an execution.
_INPUT_EVENTS = {1, 3}  # DECLARED_INPUT, INPUT
_OUTPUT_EVENTS = {2, 4, 6}  # DECLARED_OUTPUT, OUTPUT, PENDING_OUTPUT


#: tables every ML Metadata SQLite database has (schema v10, MLMD 1.x)
_MLMD_TABLES = frozenset({"Type", "Artifact", "Execution", "Event", "Context", "MLMDEnv"})
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _not_mlmd(path: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"--metadata {path!r} {why}; pass the metadata.sqlite a pipeline run wrote "
        "(it is opened read-only and never changed)"
    )


def check_mlmd_file(path: str) -> None:
    """Raise :class:`InvalidInputError` unless ``path`` is an ML Metadata SQLite file.

    Reads only: the first 16 bytes, then the table names through a ``mode=ro`` SQLite
    connection. Never creates, changes or touches the file.
    """
    import sqlite3
    import stat
    from urllib.parse import quote

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _not_mlmd(path, "does not exist") from None
    except OSError as exc:
        raise _not_mlmd(path, f"cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise _not_mlmd(path, "is a folder, not an ML Metadata file")
    if not stat.S_ISREG(st.st_mode):
        raise _not_mlmd(path, "is not a regular file (FIFO, socket or device)")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            head = os.read(fd, len(_SQLITE_MAGIC))
        finally:
            os.close(fd)
    except OSError as exc:
        raise _not_mlmd(path, f"cannot be read ({exc.strerror})") from None
    if st.st_size == 0:
        raise _not_mlmd(path, "is an empty file, not an ML Metadata database")
    if head != _SQLITE_MAGIC:
        raise _not_mlmd(path, "is not an SQLite file, so not an ML Metadata database")
    uri = "file:" + quote(os.path.abspath(path)) + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise _not_mlmd(path, f"is not a readable SQLite database ({exc})") from None
    missing = sorted(_MLMD_TABLES - tables)
    if missing:
        raise _not_mlmd(
            path, f"is an SQLite file without ML Metadata's tables (missing {', '.join(missing)})"
        )


def open_sqlite_store(path: str):
    """Open the SQLite ML Metadata file at ``path`` **read-only**.

    Refuses (with :class:`InvalidInputError`, the file unchanged) a missing path, a folder,
    an empty or non-SQLite file and an SQLite file without ML Metadata's tables. The store is
    opened with ``connection_mode = READONLY``, so nothing can ever be written into it.
    """
    check_mlmd_file(path)
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    try:
        return metadata_store.MetadataStore(config)
    except Exception as exc:  # MLMD raises its own status errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _not_mlmd(path, f"cannot be opened as ML Metadata ({first[:200]})") from None


def value_of(value) -> Any:
    """Python value of an MLMD ``Value`` proto: the one reader of ML Metadata properties.

    A ``struct_value`` is decoded as TFX's ``get_json_value_custom_property`` does (a
    non-dict JSON value is stored under ``"__value__"``). JSON numbers are floats; after a
    Vertex round trip int properties are such JSON values, so an integral float below 2**53
    comes back as an int (``blessed`` stays ``1``); a larger one (a hashed artifact id that
    already lost digits) stays a float, visibly.
    """
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "struct_value":
        from google.protobuf import json_format

        decoded = json_format.MessageToDict(value.struct_value)
        if _JSON_SINGLE_VALUE_KEY in decoded:
            decoded = decoded[_JSON_SINGLE_VALUE_KEY]
        exact = isinstance(decoded, float) and decoded.is_integer() and abs(decoded) < 2**53
        return int(decoded) if exact else decoded
    if kind == "proto_value":
        return str(value.proto_value)
    return getattr(value, kind)


def prop(node, name: str, default: Any = None) -> Any:
    """A property or custom property of an artifact/execution (properties win)."""
    if name in node.properties:
        return value_of(node.properties[name])
    if name in node.custom_properties:
        return value_of(node.custom_properties[name])
    return default


def all_props(node) -> Dict[str, Any]:
    out = {k: value_of(v) for k, v in node.custom_properties.items()}
    out.update({k: value_of(v) for k, v in node.properties.items()})
    return out


def push_outcome(props: Mapping[str, Any]) -> Tuple[str, str]:
    """``(state, text)`` of a RegistryPusher's ``PushedModel`` from its properties.

    ``state`` is ``"already_pushed"``, ``"refused"``, ``"pushed"`` or ``"not_pushed"``;
    ``text`` e.g. ``"already pushed as version 3"``, ``"recorded as version 4 (refused)"``
    (``"already recorded as version 4 (refused)"`` for a refused candidate pushed again),
    ``"pushed as version 5"``, ``"not pushed (model not blessed)"``. Reads
    ``registry_version``, ``registry_verdict`` (``"passed"``/``"refused"``),
    ``registry_already_pushed`` (0/1) and ``pushed``; any of them may be absent.
    """
    version = props.get("registry_version")
    known = isinstance(version, int) and not isinstance(version, bool)
    as_version = f" as version {version}" if known else ""
    already = props.get("registry_already_pushed") == 1
    if props.get("registry_verdict") == "refused":
        if known:
            again = "already " if already else ""
            return "refused", f"{again}recorded as version {version} (refused)"
        return "refused", "refused (not published)"
    if already:
        return "already_pushed", f"already pushed{as_version}"
    if props.get("pushed") == 1:
        return "pushed", f"pushed{as_version}"
    return "not_pushed", "not pushed (model not blessed)"


class MetadataView:
    """A small cached view of a store: types by id, artifacts/executions by id, events."""

    def __init__(self, store) -> None:
        self.store = store
        self._artifact_types = {t.id: t.name for t in store.get_artifact_types()}
        self._execution_types = {t.id: t.name for t in store.get_execution_types()}

    def artifact_type(self, artifact) -> str:
        return self._artifact_types.get(artifact.type_id, "?")

    def execution_type(self, execution) -> str:
        return self._execution_types.get(execution.type_id, "?")

    def artifacts_of_type(self, type_name: str) -> List:
        try:
            arts = self.store.get_artifacts_by_type(type_name)
        except Exception:  # unknown type in this store
            return []
        return sorted(arts, key=lambda a: a.id)

    def artifact(self, artifact_id: int):
        found = self.store.get_artifacts_by_id([artifact_id])
        if not found:
            raise InvalidInputError(f"no artifact with id {artifact_id} in this ML Metadata store")
        return found[0]

    def producer(self, artifact_id: int):
        """The execution that first output ``artifact_id`` (its real producer), or None.

        Resolver nodes and cached executions record OUTPUT events for artifacts they only pass
        on, always later than the producer, so the earliest output event names the producer.
        """
        events = [
            e
            for e in self.store.get_events_by_artifact_ids([artifact_id])
            if e.type in _OUTPUT_EVENTS
        ]
        if not events:
            return None
        return self.store.get_executions_by_id([min(e.execution_id for e in events)])[0]

    def consumers(self, artifact_id: int) -> List:
        events = [
            e
            for e in self.store.get_events_by_artifact_ids([artifact_id])
            if e.type in _INPUT_EVENTS
        ]
        ids = sorted({e.execution_id for e in events})
        return list(self.store.get_executions_by_id(ids)) if ids else []

    def _io(self, execution_id: int, kinds: set) -> List[tuple]:
        events = [
            e for e in self.store.get_events_by_execution_ids([execution_id]) if e.type in kinds
        ]
        by_id = (
            {
                a.id: a
                for a in self.store.get_artifacts_by_id(sorted({e.artifact_id for e in events}))
            }
            if events
            else {}
        )
        out = []
        for e in events:
            key = e.path.steps[0].key if e.path.steps else ""
            if e.artifact_id in by_id:
                out.append((key, by_id[e.artifact_id]))
        return sorted(out, key=lambda kv: (kv[0], kv[1].id))

    def inputs(self, execution_id: int) -> List[tuple]:
        """``[(input key, artifact)]`` of an execution."""
        return self._io(execution_id, _INPUT_EVENTS)

    def outputs(self, execution_id: int) -> List[tuple]:
        """``[(output key, artifact)]`` of an execution."""
        return self._io(execution_id, _OUTPUT_EVENTS)

    def component_id(self, execution) -> str:
        """The pipeline node id of an execution (from its node context), else its type."""
        for ctx in self.store.get_contexts_by_execution(execution.id):
            ctx_type = self.store.get_context_types_by_id([ctx.type_id])[0].name
            if ctx_type == "node":
                return ctx.name.split(".", 1)[-1]
        return self.execution_type(execution)

    def run_id(self, execution) -> Optional[str]:
        for ctx in self.store.get_contexts_by_execution(execution.id):
            ctx_type = self.store.get_context_types_by_id([ctx.type_id])[0].name
            if ctx_type == "pipeline_run":
                return ctx.name
        return None


@dataclass
class LineageNode:
    """One artifact or execution in a lineage graph."""

    kind: str  # "artifact" | "execution"
    id: int
    type: str
    name: str
    uri: str = ""
    properties: Dict[str, Any] = field(default_factory=dict)
    depth: int = 0

    def to_dict(self) -> Dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "uri": self.uri,
            "properties": self.properties,
            "depth": self.depth,
        }


def upstream_lineage(
    view: MetadataView, artifact_id: int, sibling_types: Iterable[str] = ()
) -> tuple:
    """Walk from ``artifact_id`` up through producers and their inputs.

    Returns ``(nodes, edges)``: ``nodes`` in discovery (breadth-first) order; ``edges`` as
    ``(from_key, to_key, label)`` with keys ``"a<id>"``/``"e<id>"``. Outputs of a visited
    execution whose type is in ``sibling_types`` (e.g. a gate's report) are added too.
    """
    siblings = set(sibling_types)
    nodes: Dict[str, LineageNode] = {}
    edges: List[tuple] = []

    def add_artifact(a, depth: int) -> str:
        key = f"a{a.id}"
        if key not in nodes:
            nodes[key] = LineageNode(
                "artifact",
                a.id,
                view.artifact_type(a),
                a.name or view.artifact_type(a),
                a.uri,
                all_props(a),
                depth,
            )
        return key

    start = view.artifact(artifact_id)
    frontier = [(start, 0)]
    add_artifact(start, 0)
    seen_exec = set()
    while frontier:
        art, depth = frontier.pop(0)
        execution = view.producer(art.id)
        if execution is None or execution.id in seen_exec:
            if execution is not None:
                edges.append((f"e{execution.id}", f"a{art.id}", "output"))
            continue
        seen_exec.add(execution.id)
        ekey = f"e{execution.id}"
        nodes[ekey] = LineageNode(
            "execution",
            execution.id,
            view.execution_type(execution),
            view.component_id(execution),
            "",
            {"run_id": view.run_id(execution), "state": execution.last_known_state},
            depth + 1,
        )
        edges.append((ekey, f"a{art.id}", "output"))
        for key, out in view.outputs(execution.id):
            if view.artifact_type(out) in siblings and f"a{out.id}" not in nodes:
                add_artifact(out, depth + 1)
                edges.append((ekey, f"a{out.id}", key))
        for key, inp in view.inputs(execution.id):
            new = f"a{inp.id}" not in nodes
            add_artifact(inp, depth + 2)
            edges.append((f"a{inp.id}", ekey, key))
            if new:
                frontier.append((inp, depth + 2))
    return list(nodes.values()), edges

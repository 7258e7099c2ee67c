"""``tfx-addons-lab lineage`` opens ML Metadata read-only and refuses files that are not MLMD."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


def lineage(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.run(
        [sys.executable, "-m", "tfx_addons_lab", "lineage", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _fingerprint(path: Path):
    if path.is_dir():
        return ("dir", sorted(os.listdir(path)), path.stat().st_mtime_ns)
    if not path.exists():
        return None
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)


def _plain_sqlite(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers (name) VALUES ('ada')")
    con.commit()
    con.close()
    return path


def _sqlite_with_some_mlmd_tables(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE Type (id INTEGER PRIMARY KEY)")
    con.execute("CREATE TABLE Artifact (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (_plain_sqlite, "without ML Metadata's tables"),
        (_sqlite_with_some_mlmd_tables, "without ML Metadata's tables"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty file"),
        (lambda p: (p.write_text("hello\nnot a database\n"), p)[1], "not an SQLite file"),
        (lambda p: (p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200), p)[1], "SQLite"),
        (lambda p: p, "does not exist"),
        (lambda p: (p.mkdir(), p)[1], "is a folder"),
        (lambda p: (os.mkfifo(p), p)[1], "not a regular file"),
    ],
    ids=["plain-sqlite", "partial-mlmd", "empty", "text", "bad-sqlite", "missing", "dir", "fifo"],
)
def test_non_mlmd_file_is_refused_and_left_unchanged(tmp_path, make, message):
    path = make(tmp_path / "metadata.sqlite")
    before = _fingerprint(path) if not path.is_fifo() else "fifo"
    listing = sorted(os.listdir(tmp_path))
    out = lineage("--metadata", str(path), "--artifact", "1")
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfx-addons-lab lineage: error: --metadata")
    assert message in lines[0] and "Traceback" not in out.stderr
    assert (_fingerprint(path) if not path.is_fifo() else "fifo") == before
    assert sorted(os.listdir(tmp_path)) == listing  # no -journal/-wal file left behind


def _mlmd_store(path: Path) -> int:
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    store = metadata_store.MetadataStore(config)
    type_id = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="PushedModel"))
    art = metadata_store_pb2.Artifact(type_id=type_id, uri="/models/m\x1b[2J/1")
    art.custom_properties["pushed"].int_value = 1
    [art_id] = store.put_artifacts([art])
    del store
    return art_id


def test_real_mlmd_store_is_read_without_any_write(tmp_path):
    path = tmp_path / "metadata.sqlite"
    art_id = _mlmd_store(path)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    os.chmod(path, 0o444)  # read-only file: a read-write open would fail
    before = _fingerprint(path)
    out = lineage("--metadata", str(path), "--artifact", str(art_id))
    assert out.returncode == 0, out.stderr
    assert f"PushedModel #{art_id}" in out.stdout and "\x1b" not in out.stdout
    assert "\\e[2J" in out.stdout  # control characters from data are shown escaped
    out = lineage("--metadata", str(path), "--artifact", str(art_id), "--format", "json")
    assert json.loads(out.stdout)["nodes"][0]["id"] == art_id
    out = lineage("--metadata", str(path), "--artifact", "999")
    assert out.returncode == 2 and "no artifact with id 999" in out.stderr
    assert _fingerprint(path) == before
    assert sorted(os.listdir(tmp_path)) == ["metadata.sqlite"]

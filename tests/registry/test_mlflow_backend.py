"""The MLflow backend against a real ``mlflow server`` (SQLite store) on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tfx_addons_lab.errors import InvalidInputError, RegistryError
from tfx_addons_lab.registry import open_registry

from ._helpers import make_model, read_tree

pytestmark = pytest.mark.mlflow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """Start ``mlflow server`` (SQLite backend, served local artifacts); yield its URL."""
    pytest.importorskip("mlflow")
    tmp = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    exe = Path(sys.executable).with_name("mlflow")
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [
            str(exe),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp}/mlflow.db",
            "--artifacts-destination",
            str(tmp / "artifacts"),
            "--serve-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"mlflow server did not start: {(tmp / 'server.log').read_text()}")
        time.sleep(0.5)
    yield {"url": url, "log": tmp / "server.log"}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture
def reg(mlflow_server):
    return open_registry(f"mlflow+{mlflow_server['url']}")


def test_push_get_idempotent_and_verify(tmp_path, reg):
    m1 = make_model(tmp_path / "m1", seed=1)
    v1 = reg.push("penguin", str(m1), {"pipeline_name": "p", "source_uri": "art://1"})
    assert v1.version == 1 and v1.uri == "models:/penguin/1"
    assert (
        reg.push("penguin", str(m1), {"pipeline_name": "p", "source_uri": "art://1"}).version == 1
    )
    v2 = reg.push("penguin", str(make_model(tmp_path / "m2", seed=2)), {"source_uri": "art://2"})
    assert v2.version == 2
    got = reg.get("penguin", 1)
    assert got.metadata["pipeline_name"] == "p" and got.metadata["source_uri"] == "art://1"
    assert set(got.checksums) == set(read_tree(m1)) and got.created_at
    assert [v.version for v in reg.list("penguin")] == [1, 2]
    assert reg.get("penguin", "latest").version == 2
    assert "penguin" in reg.list_models()
    assert reg.verify("penguin", 1).ok and reg.verify("penguin", 2).checked_files == 6
    # the artifacts MLflow stores are the model files, byte for byte
    import mlflow

    source = reg.client.get_model_version_download_uri("penguin", "1")
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=source, dst_path=str(tmp_path / "dl"), tracking_uri=reg.tracking_uri
    )
    assert read_tree(Path(local)) == read_tree(m1)


def test_aliases_history_rollback(tmp_path, reg):
    for seed in range(3):
        reg.push("alias-model", str(make_model(tmp_path / str(seed), seed=seed)))
    for version in (1, 2, 2, 3):
        reg.set_alias("alias-model", "champion", version)
    assert reg.aliases("alias-model") == {"champion": 3}
    assert reg.get("alias-model", "champion").aliases == ["champion"]
    assert [(e.version, e.previous) for e in reg.alias_history("alias-model", "champion")] == [
        (1, None),
        (2, 1),
        (3, 2),
    ]
    assert reg.rollback("alias-model", "champion").version == 2
    assert reg.rollback("alias-model", "champion").version == 1
    with pytest.raises(RegistryError, match="no previous version"):
        reg.rollback("alias-model", "champion")
    with pytest.raises(RegistryError, match="no version 7"):
        reg.set_alias("alias-model", "champion", 7)


def test_concurrent_pushes_get_distinct_versions(tmp_path, reg):
    models = [make_model(tmp_path / f"c{i}", seed=100 + i) for i in range(12)]
    reg.push("race", str(models[0]))
    with ThreadPoolExecutor(6) as pool:
        versions = list(pool.map(lambda m: reg.push("race", str(m)).version, models[1:]))
    assert sorted(versions) == list(range(2, 13))
    assert [v.version for v in reg.list("race")] == list(range(1, 13))


def test_validation_and_symlinks(tmp_path, reg):
    model = make_model(tmp_path / "m", seed=1)
    for bad in ("../x", "a/b", "", "x\n"):
        with pytest.raises(InvalidInputError):
            reg.push(bad, str(model))
    os.symlink("/etc/passwd", model / "assets" / "passwd")
    with pytest.raises(InvalidInputError, match="outside the model folder"):
        reg.push("sym", str(model))
    with pytest.raises(RegistryError, match="not found"):
        reg.get("sym", 1)


def test_webhook_retry_error_is_harmless(mlflow_server):
    """MLflow's webhook session needs urllib3 2 (``Retry(backoff_max=...)``); kfp 2.5 pins 1.26.

    With urllib3 1.26 the server logs a TypeError for every registry event it cannot deliver
    to webhooks, but answers every request of ours with success (the tests above in this
    module ran pushes, aliases and rollbacks against it).
    """
    import urllib3

    text = mlflow_server["log"].read_text(errors="replace")
    assert "model_version.created" in text or "backoff_max" not in text
    if int(urllib3.__version__.split(".")[0]) < 2:
        assert "Failed to deliver webhook" in text and "backoff_max" in text
    responses = [line for line in text.splitlines() if '"POST /api/' in line]
    assert responses and all(" 200 OK" in line for line in responses)


def test_mlflow_file_uri_is_a_local_registry(tmp_path):
    reg = open_registry(f"mlflow+file://{tmp_path}/local")
    v = reg.push("m", str(make_model(tmp_path / "m", seed=3)))
    assert v.version == 1 and reg.verify("m", 1).ok
    assert (tmp_path / "local" / "mlflow.db").exists()
    assert any((tmp_path / "local" / "artifacts").rglob("saved_model.pb"))

"""The champion lookup (core, no TFX): a real folder registry, a real MLflow server on loopback,
a real ML Metadata store (in memory); the fail-closed cases."""

from __future__ import annotations

import socket

import pytest

from tfx_addons_lab.errors import InvalidInputError, RegistryError
from tfx_addons_lab.registry import open_registry
from tfx_addons_lab.registry.champion import (
    ChampionError,
    find_champion_artifact,
    lookup_champion,
    same_uri,
)

from ._helpers import make_model
from .test_mlflow_backend import mlflow_server  # noqa: F401 - the module-scoped server fixture


@pytest.fixture
def store():
    """An in-memory ML Metadata store holding two Model artifacts and one Examples artifact."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.fake_database.SetInParent()
    mlmd = metadata_store.MetadataStore(config)
    model_type = mlmd.put_artifact_type(metadata_store_pb2.ArtifactType(name="Model"))
    examples_type = mlmd.put_artifact_type(metadata_store_pb2.ArtifactType(name="Examples"))
    ids = mlmd.put_artifacts(
        [
            metadata_store_pb2.Artifact(type_id=model_type, uri="/root/Trainer/model/1"),
            metadata_store_pb2.Artifact(type_id=model_type, uri="/root/Trainer/model/2"),
            metadata_store_pb2.Artifact(type_id=examples_type, uri="/root/ExampleGen/1"),
        ]
    )
    return mlmd, ids


def _push(reg, tmp_path, seed: int, source_uri: str, artifact_id=None, alias="champion"):
    meta = {"source_uri": source_uri, "pipeline_name": "p"}
    if artifact_id is not None:
        meta["model_artifact_id"] = artifact_id
    version = reg.push("penguin", str(make_model(tmp_path / f"m{seed}", seed=seed)), meta)
    if alias:
        reg.set_alias("penguin", alias, version.version)
    return version


def test_no_model_or_alias_yet_is_no_champion(tmp_path):
    lookup = lookup_champion(str(tmp_path / "registry"), "penguin")
    assert not lookup.found and lookup.version is None
    assert "first run" in lookup.reason
    reg = open_registry(str(tmp_path / "registry"))
    _push(reg, tmp_path, 1, "/root/Trainer/model/1", 1, alias="challenger")
    lookup = lookup_champion(reg, "penguin", "champion")
    assert not lookup.found and "is not set (aliases: challenger)" in lookup.reason


def test_alias_is_followed_to_the_mlmd_model_and_rollback_is_seen(tmp_path, store):
    mlmd, (m1, m2, _) = store
    reg = open_registry(str(tmp_path / "registry"))
    _push(reg, tmp_path, 1, "/root/Trainer/model/1", m1)
    _push(reg, tmp_path, 2, "/root/Trainer/model/2", m2)
    lookup = lookup_champion(reg, "penguin", candidate_ids=[99], candidate_uris=["/other"])
    assert lookup.found and lookup.version == 2 and lookup.model_artifact_id == m2
    assert find_champion_artifact(mlmd, lookup).id == m2
    reg.rollback("penguin", "champion")
    lookup = lookup_champion(reg, "penguin")
    assert lookup.version == 1 and find_champion_artifact(mlmd, lookup).id == m1


def test_alias_at_the_candidate_is_no_champion(tmp_path, store):
    _, (m1, _, _) = store
    reg = open_registry(str(tmp_path / "registry"))
    _push(reg, tmp_path, 1, "/root/Trainer/model/1", m1)
    by_id = lookup_champion(reg, "penguin", candidate_ids=[m1])
    by_uri = lookup_champion(reg, "penguin", candidate_uris=["file:///root/Trainer/model/1/"])
    for lookup in (by_id, by_uri):
        assert not lookup.found and lookup.same_as_candidate and lookup.version == 1
        assert "candidate itself" in lookup.reason
    with pytest.raises(ChampionError, match="no champion"):
        find_champion_artifact(store[0], by_id)


def test_version_without_artifact_id_is_found_by_uri_or_refused(tmp_path, store):
    mlmd, (_, m2, _) = store
    reg = open_registry(str(tmp_path / "registry"))
    _push(reg, tmp_path, 2, "/root/Trainer/model/2")  # e.g. pushed with the CLI
    assert find_champion_artifact(mlmd, lookup_champion(reg, "penguin")).id == m2
    _push(reg, tmp_path, 3, str(tmp_path / "m3"))  # a folder this pipeline never produced
    lookup = lookup_champion(reg, "penguin")
    assert lookup.found and lookup.model_artifact_id is None
    with pytest.raises(ChampionError, match="holds no such Model") as err:
        find_champion_artifact(mlmd, lookup)
    assert "registry promote" in str(err.value)


def test_artifact_id_from_another_metadata_store_is_refused(tmp_path, store):
    mlmd, (m1, _, examples) = store
    reg = open_registry(str(tmp_path / "registry"))
    # id m1 exists here, but at another URI: another store's id must not match this model.
    _push(reg, tmp_path, 1, "gs://elsewhere/Trainer/model/7", m1)
    with pytest.raises(ChampionError, match="pushed from another ML Metadata store"):
        find_champion_artifact(mlmd, lookup_champion(reg, "penguin"))
    # an id of a non-Model artifact at the recorded URI is refused too
    _push(reg, tmp_path, 2, "/root/ExampleGen/1", examples)
    with pytest.raises(ChampionError, match="not a Model"):
        find_champion_artifact(mlmd, lookup_champion(reg, "penguin"))


def test_invalid_names_and_uris_are_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="model name"):
        lookup_champion(str(tmp_path), "../x")
    with pytest.raises(InvalidInputError, match="alias"):
        lookup_champion(str(tmp_path), "penguin", alias="latest")
    with pytest.raises(InvalidInputError, match="unknown registry scheme"):
        lookup_champion("nosuch://x", "penguin")


def test_same_uri():
    assert same_uri("/a/b/", "file:///a/b")
    assert not same_uri("/a/b", "/a/bc") and not same_uri(None, "/a")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_mlflow_fails_closed(monkeypatch):
    # The backend exports ?timeout/retries to MLflow's variables: restore them afterwards.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"mlflow+http://127.0.0.1:{_closed_port()}?timeout=2&retries=0"
    with pytest.raises(RegistryError, match="unreachable"):
        lookup_champion(uri, "penguin")


def test_mlflow_registry_champion_and_rollback(tmp_path, store, mlflow_server):  # noqa: F811
    mlmd, (m1, m2, _) = store
    uri = f"mlflow+{mlflow_server['url']}"
    assert "first run" in lookup_champion(uri, "champ-test").reason
    reg = open_registry(uri)
    for seed, (source, artifact_id) in enumerate(
        [("/root/Trainer/model/1", m1), ("/root/Trainer/model/2", m2)], start=1
    ):
        version = reg.push(
            "champ-test",
            str(make_model(tmp_path / f"m{seed}", seed=seed)),
            {"source_uri": source, "model_artifact_id": artifact_id},
        )
        reg.set_alias("champ-test", "champion", version.version)
    lookup = lookup_champion(uri, "champ-test", candidate_ids=[m2])
    assert lookup.same_as_candidate and not lookup.found
    reg.rollback("champ-test", "champion")
    lookup = lookup_champion(uri, "champ-test", candidate_ids=[m2])
    assert lookup.found and lookup.version == 1 and lookup.registry_model_uri.startswith("models:/")
    assert find_champion_artifact(mlmd, lookup).id == m1

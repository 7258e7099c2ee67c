"""The filesystem and TF Serving registries: versions, idempotency, aliases, verify, validation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tfx_addons_lab.errors import InvalidInputError, RegistryError, TfxAddonsLabError
from tfx_addons_lab.registry import (
    ModelRegistry,
    available_backends,
    open_registry,
    register_backend,
)
from tfx_addons_lab.registry.filesystem import FilesystemRegistry
from tfx_addons_lab.registry.tfserving import TFServingRegistry

from ._helpers import make_model, read_tree


@pytest.fixture
def reg(tmp_path) -> FilesystemRegistry:
    return open_registry(str(tmp_path / "registry"))


def test_push_get_list_and_content(tmp_path, reg):
    m1 = make_model(tmp_path / "m1", seed=1)
    m2 = make_model(tmp_path / "m2", seed=2)
    v1 = reg.push("penguin", str(m1), {"pipeline_name": "p", "metrics": {"acc": 0.9}})
    v2 = reg.push("penguin", str(m2))
    assert (v1.version, v2.version) == (1, 2)
    assert read_tree(Path(v1.uri)) == read_tree(m1)
    assert read_tree(Path(v2.uri)) == read_tree(m2)
    got = reg.get("penguin", 1)
    assert got.metadata["pipeline_name"] == "p"
    assert got.metadata["metrics"] == {"acc": 0.9}
    assert got.metadata["source_uri"] == str(m1)
    assert got.created_at and got.checksums == v1.checksums
    assert set(got.checksums) == set(read_tree(m1))
    assert [v.version for v in reg.list("penguin")] == [1, 2]
    assert reg.get("penguin", "latest").version == 2
    assert reg.get("penguin", "v2").version == 2 and reg.get("penguin", "2").version == 2
    assert reg.list_models() == ["penguin"]
    assert reg.list("unknown") == []


def test_push_is_idempotent_per_content(tmp_path, reg):
    model = make_model(tmp_path / "m", seed=1)
    first = reg.push("m", str(model), {"source_uri": "artifact://7", "run": 1})
    again = reg.push("m", str(model), {"source_uri": "artifact://7", "run": 2})
    assert again.version == first.version == 1
    # the same content from another source (a re-run that retrained bit-identically, a copy)
    # is the same version too, returned with its original metadata; nothing is written
    copy = make_model(tmp_path / "copy", seed=1)
    before = sorted(os.listdir(reg._versions_dir("m")))
    same = reg.push("m", str(copy), {"source_uri": "artifact://8", "run": 3})
    assert same.version == 1 and same.metadata["source_uri"] == "artifact://7"
    assert same.metadata["run"] == 1
    assert sorted(os.listdir(reg._versions_dir("m"))) == before
    # changed content is a new version, whatever its source
    (model / "assets" / "vocab.txt").write_text("changed\n")
    assert reg.push("m", str(model), {"source_uri": "artifact://7"}).version == 2
    assert [v.version for v in reg.list("m")] == [1, 2]


def test_versions_are_immutable_and_verify_detects_tampering(tmp_path, reg):
    model = make_model(tmp_path / "m", seed=1)
    v = reg.push("m", str(model))
    assert reg.verify("m", 1).ok
    # changing the source afterwards does not change the published version
    (model / "saved_model.pb").write_bytes(b"other")
    assert reg.verify("m", 1).ok
    assert read_tree(Path(v.uri))["saved_model.pb"] != b"other"
    # tampering with the stored copy is reported file by file
    (Path(v.uri) / "saved_model.pb").write_bytes(b"tampered")
    os.remove(Path(v.uri) / "assets" / "vocab.txt")
    (Path(v.uri) / "extra.bin").write_bytes(b"x")
    result = reg.verify("m", 1)
    assert not result.ok
    assert sorted(result.mismatches) == [
        "changed: saved_model.pb",
        "missing: assets/vocab.txt",
        "unexpected: extra.bin",
    ]


def test_aliases_history_and_rollback(tmp_path, reg):
    for seed in range(3):
        reg.push("m", str(make_model(tmp_path / str(seed), seed=seed)))
    reg.set_alias("m", "champion", 1)
    reg.set_alias("m", "champion", 2)
    reg.set_alias("m", "champion", 2)  # no-op, no new history entry
    reg.set_alias("m", "champion", 3)
    reg.set_alias("m", "challenger", 3)
    assert reg.aliases("m") == {"champion": 3, "challenger": 3}
    assert reg.get("m", "champion").aliases == ["challenger", "champion"]
    history = reg.alias_history("m", "champion")
    assert [(e.version, e.previous, e.action) for e in history] == [
        (1, None, "set"),
        (2, 1, "set"),
        (3, 2, "set"),
    ]
    assert reg.rollback("m", "champion").version == 2
    assert reg.rollback("m", "champion").version == 1
    with pytest.raises(RegistryError, match="no previous version"):
        reg.rollback("m", "champion")
    assert reg.aliases("m")["champion"] == 1
    assert [(e.version, e.previous, e.action) for e in reg.alias_history("m", "champion")][-2:] == [
        (2, 3, "rollback"),
        (1, 2, "rollback"),
    ]
    # a new set after rollbacks builds on the rolled-back state
    reg.set_alias("m", "champion", 3)
    assert reg.rollback("m", "champion").version == 1
    with pytest.raises(RegistryError, match="no alias 'nope'"):
        reg.get("m", "nope")
    with pytest.raises(RegistryError, match="no version 9"):
        reg.set_alias("m", "champion", 9)


@pytest.mark.parametrize(
    "bad",
    ["", "..", "../x", "a/b", "/etc", "a\\b", "x\n", "tab\tname", ".hidden", "a" * 129, "sp ace"],
)
def test_names_that_could_escape_are_rejected(tmp_path, reg, bad):
    model = make_model(tmp_path / "m", seed=1)
    with pytest.raises(InvalidInputError) as info:
        reg.push(bad, str(model))
    assert "model name" in str(info.value)
    reg.push("ok", str(model))
    with pytest.raises(InvalidInputError, match="alias"):
        reg.set_alias("ok", bad, 1)
    with pytest.raises(InvalidInputError):
        reg.get(bad, 1)
    # nothing was created outside the registry root
    assert sorted(os.listdir(tmp_path)) == ["m", "registry"]


@pytest.mark.parametrize("bad", [0, -1, "1/../2", "../1", True, 1.5, "latest2", "x" * 200])
def test_bad_versions_are_rejected(tmp_path, reg, bad):
    reg.push("ok", str(make_model(tmp_path / "m", seed=1)))
    with pytest.raises(TfxAddonsLabError):
        reg.get("ok", bad)
    with pytest.raises(TfxAddonsLabError):
        reg.set_alias("ok", "champion", bad)


def test_reserved_aliases_are_rejected(tmp_path, reg):
    reg.push("ok", str(make_model(tmp_path / "m", seed=1)))
    for alias in ("latest", "3", "v3"):
        with pytest.raises(InvalidInputError, match="reserved or looks like a version"):
            reg.set_alias("ok", alias, 1)


def test_symlink_to_outside_file_is_rejected(tmp_path, reg):
    model = make_model(tmp_path / "m", seed=1)
    os.symlink("/etc/passwd", model / "assets" / "passwd")
    with pytest.raises(InvalidInputError, match="outside the model folder"):
        reg.push("m", str(model))
    assert reg.list("m") == []
    # nothing of /etc/passwd was copied anywhere into the registry
    secret = Path("/etc/passwd").read_bytes()
    for dirpath, _, files in os.walk(tmp_path / "registry"):
        for name in files:
            assert Path(dirpath, name).read_bytes() != secret


def test_symlink_to_outside_folder_is_rejected(tmp_path, reg):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    model = make_model(tmp_path / "m", seed=1)
    os.symlink(outside, model / "assets" / "more")
    os.symlink("../../outside/secret.txt", model / "variables" / "rel")
    with pytest.raises(InvalidInputError, match="outside the model folder"):
        reg.push("m", str(model))


def test_symlink_inside_model_is_copied_as_a_file(tmp_path, reg):
    model = make_model(tmp_path / "m", seed=1)
    os.symlink("../saved_model.pb", model / "assets" / "link.pb")
    v = reg.push("m", str(model))
    copied = Path(v.uri) / "assets" / "link.pb"
    assert not copied.is_symlink()
    assert copied.read_bytes() == (model / "saved_model.pb").read_bytes()
    assert reg.verify("m", 1).ok


def test_dangling_symlink_and_special_files_are_rejected(tmp_path, reg):
    model = make_model(tmp_path / "m", seed=1)
    os.symlink("missing.bin", model / "dangling")
    with pytest.raises(InvalidInputError, match="dangling"):
        reg.push("m", str(model))
    os.remove(model / "dangling")
    os.mkfifo(model / "fifo")
    with pytest.raises(InvalidInputError, match="not a regular file"):
        reg.push("m", str(model))


def test_symlink_planted_in_a_stored_version_is_never_followed(tmp_path, reg):
    v = reg.push("m", str(make_model(tmp_path / "m", seed=1)))
    target = Path(v.uri) / "assets" / "vocab.txt"
    target.unlink()
    os.symlink("/etc/passwd", target)
    result = reg.verify("m", 1)
    assert not result.ok and "symlink: assets/vocab.txt" in result.mismatches
    # a manifest replaced by a symlink is refused, not read
    manifest = Path(v.uri).parent / "manifest.json"
    manifest.unlink()
    os.symlink("/etc/passwd", manifest)
    fresh = open_registry(str(tmp_path / "registry"))
    with pytest.raises(RegistryError, match="symlink"):
        fresh.get("m", 1)


def test_bad_inputs_give_clear_errors(tmp_path, reg):
    with pytest.raises(InvalidInputError, match="not an existing folder"):
        reg.push("m", str(tmp_path / "missing"))
    with pytest.raises(InvalidInputError, match="JSON serializable"):
        reg.push("m", str(make_model(tmp_path / "m", seed=1)), {"x": object()})
    with pytest.raises(RegistryError, match="model 'nope' not found"):
        reg.get("nope", 1)
    with pytest.raises(InvalidInputError, match="unknown registry scheme 'nosuch'"):
        open_registry("nosuch://x")
    with pytest.raises(InvalidInputError, match="registry URI is empty"):
        open_registry("")
    with pytest.raises(InvalidInputError, match="unknown option"):
        open_registry(f"file://{tmp_path}/r?colour=red")


def test_uris_select_backends(tmp_path):
    assert set(available_backends()) >= {"file", "mlflow", "tfserving"}
    a = open_registry(f"file://{tmp_path}/a")
    assert isinstance(a, FilesystemRegistry) and a.root == str(tmp_path / "a") and a.fsync
    assert not open_registry(f"file://{tmp_path}/a?fsync=false").fsync
    t = open_registry(f"tfserving://{tmp_path}/t")
    assert isinstance(t, TFServingRegistry) and t.root == str(tmp_path / "t")
    os.chdir(tmp_path)
    assert open_registry("tfserving://rel/models").root == str(tmp_path / "rel" / "models")


def test_register_backend_for_code(tmp_path):
    class MemoryOnTop(FilesystemRegistry):
        @classmethod
        def from_uri(cls, uri):
            return cls(str(tmp_path / uri.split("://", 1)[1]), uri=uri)

    register_backend("memtest", MemoryOnTop)
    reg = open_registry("memtest://here")
    assert isinstance(reg, MemoryOnTop) and reg.root == str(tmp_path / "here")
    assert "memtest" in available_backends()
    with pytest.raises(InvalidInputError, match="must subclass ModelRegistry"):
        register_backend("x", dict)  # type: ignore[arg-type]
    assert issubclass(MemoryOnTop, ModelRegistry)


def test_tfserving_layout(tmp_path):
    reg = open_registry(f"tfserving://{tmp_path}/serving")
    m1 = make_model(tmp_path / "m1", seed=1)
    v = reg.push("penguin", str(m1), {"pipeline_name": "p"})
    v2 = reg.push("penguin", str(make_model(tmp_path / "m2", seed=2)))
    base = tmp_path / "serving" / "penguin"
    assert reg.model_base_path("penguin") == str(base)
    assert v.uri == str(base / "1") and v2.uri == str(base / "2")
    # TF Serving sees only numeric folders; each holds saved_model.pb at its top
    numeric = sorted(p.name for p in base.iterdir() if p.name.isdigit())
    assert numeric == ["1", "2"]
    assert (base / "1" / "saved_model.pb").read_bytes() == (m1 / "saved_model.pb").read_bytes()
    assert reg.verify("penguin", 1).ok and reg.list_models() == ["penguin"]
    reg.set_alias("penguin", "champion", 1)
    reg.set_alias("penguin", "champion", 2)
    assert reg.rollback("penguin", "champion").version == 1
    manifest = json.loads((base / "1" / ".tfx-addons-lab-manifest.json").read_text())
    assert manifest["metadata"]["pipeline_name"] == "p"


def test_tfserving_writes_saved_model_pb_last(tmp_path):
    from tfx_addons_lab.registry import _files

    model = make_model(tmp_path / "m", seed=1)
    assert "saved_model.pb" in _files.plan_tree(str(model))
    dest = tmp_path / "copy"
    order = list(_files.copy_tree(str(model), str(dest)))
    assert order[-1] == "saved_model.pb" and len(order) == 6
    mtimes = {p.name: p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()}
    assert mtimes["saved_model.pb"] == max(mtimes.values())


def test_tfserving_model_loads_in_tensorflow(tmp_path):
    tf = pytest.importorskip("tensorflow")

    class Add(tf.Module):
        def __init__(self):
            self.w = tf.Variable(2.0)

        @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
        def __call__(self, x):
            return x * self.w

    src = tmp_path / "sm"
    tf.saved_model.save(Add(), str(src))
    reg = open_registry(f"tfserving://{tmp_path}/serving")
    v = reg.push("add", str(src))
    loaded = tf.saved_model.load(v.uri)
    assert float(loaded(tf.constant(3.0))) == 6.0


@pytest.mark.parametrize("name", ["-x", "--penguin", "-"])
def test_a_name_with_a_leading_dash_is_refused_with_the_reason(name):
    from tfx_addons_lab.errors import InvalidInputError
    from tfx_addons_lab.registry import validate_name

    with pytest.raises(InvalidInputError, match="starts with '-'"):
        validate_name(name)

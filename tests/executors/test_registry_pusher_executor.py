"""``RegistryPusherExecutor().Do()`` called directly: the model and every artifact on a local
or a ``ram://`` root (staged to a local folder for the registry), each hook overridden once."""

from __future__ import annotations

import json
import os

import pytest
from tfx.types import standard_artifacts

from tests.executors import artifacts as make
from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.executors.registry_pusher import RegistryPusherExecutor
from tfx_addons_lab.registry import open_registry
from tfx_addons_lab.specs import registry_pusher as spec


def _run(executor, root, registry_dir, blessed=1, aliases=("champion",), examples_span=3):
    model = make.model(io.join(root, "model"), {"auc": 0.9}, artifact_id=5)
    inputs = {spec.MODEL_KEY: [model]}
    if blessed is not None:
        blessing = make.blessing(io.join(root, "bless"), blessed)
        blessing.set_string_custom_property("reason", "BLESSED: all 3 checks passed")
        inputs[spec.MODEL_BLESSING_KEY] = [blessing]
    if examples_span is not None:
        examples = make.output(standard_artifacts.Examples, io.join(root, "examples"))
        examples.span = examples_span
        inputs[spec.EXAMPLES_KEY] = [examples]
    pushed = make.output(standard_artifacts.PushedModel, io.join(root, "pushed"))
    props = {
        spec.REGISTRY_URI_KEY: str(registry_dir),
        spec.MODEL_NAME_KEY: "penguin",
        spec.ALIASES_KEY: json.dumps(list(aliases)),
        spec.METADATA_KEY: json.dumps({"team": "ml"}),
    }
    executor.Do(inputs, {spec.PUSHED_MODEL_KEY: [pushed]}, props)
    return pushed


def test_do_pushes_a_model_from_any_filesystem(root, tmp_path):
    registry_dir = tmp_path / "registry"
    pushed = _run(RegistryPusherExecutor(), root, registry_dir)
    assert pushed.get_int_custom_property("pushed") == 1
    version = open_registry(str(registry_dir)).get("penguin", "champion")
    assert version.version == 1 and version.metadata["source_uri"] == io.join(root, "model")
    assert version.metadata["data_spans"] == [3] and version.metadata["team"] == "ml"
    assert version.metadata["metrics"] == {"auc": 0.9}
    assert version.metadata["gate_reasons"] == ["BLESSED: all 3 checks passed"]
    with open(os.path.join(version.uri, "saved_model.pb"), "rb") as f:
        assert f.read() == b"\x08\x01" * 64
    record = io.read_json(io.join(pushed.uri, spec.RECORD_FILE))
    assert record["version"] == 1 and "checksums" not in record
    # nothing staged is left behind
    assert not [p for p in os.listdir("/tmp") if p.startswith("tfx-addons-lab-stage-")]


def test_not_blessed_pushes_nothing(root, tmp_path):
    pushed = _run(RegistryPusherExecutor(), root, tmp_path / "registry", blessed=0)
    assert pushed.get_int_custom_property("pushed") == 0
    assert (
        not (tmp_path / "registry").exists()
        or not open_registry(str(tmp_path / "registry")).list_models()
    )


def test_hooks_open_registry_build_metadata_push_set_aliases_after_push(local_root, tmp_path):
    calls = []
    other = tmp_path / "elsewhere"

    class Custom(RegistryPusherExecutor):
        def open_registry(self, uri):
            calls.append("open")
            return open_registry(str(other))  # e.g. credentials, another backend

        def build_metadata(self, input_dict, exec_properties):
            meta = super().build_metadata(input_dict, exec_properties)
            meta["ticket"] = "ML-42"
            return meta

        def push(self, registry, name, model_path, metadata):
            calls.append(("push", os.path.basename(model_path)))
            return super().push(registry, name, model_path, metadata)

        def set_aliases(self, registry, version, aliases):
            return super().set_aliases(registry, version, [*aliases, "staging"])

        def after_push(self, version, registry):
            calls.append(("after", version.version, tuple(version.aliases)))

    _run(Custom(), local_root, tmp_path / "registry")
    assert calls == ["open", ("push", "Format-Serving"), ("after", 1, ("champion", "staging"))]
    version = open_registry(str(other)).get("penguin", "staging")
    assert version.metadata["ticket"] == "ML-42"
    assert not (tmp_path / "registry").exists()


@pytest.mark.parametrize(
    "uri, words",
    [
        ("gs://bucket/registry", "not safe"),
        ("s3://bucket/registry", "not safe"),
        ("ftp://host/registry", "unknown scheme"),
        ("", "empty"),
    ],
)
def test_registry_uri_refused_at_build_time(uri, words):
    from tfx.types import channel

    from tfx_addons_lab.components import RegistryPusher
    from tfx_addons_lab.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=words):
        RegistryPusher(
            model=channel.Channel(type=standard_artifacts.Model), registry_uri=uri, model_name="m"
        )


def test_registry_uri_that_is_a_file_is_refused(tmp_path):
    from tfx_addons_lab.errors import InvalidInputError

    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(InvalidInputError, match="existing file"):
        spec.validate_registry_uri(str(path))
    assert spec.validate_registry_uri(str(tmp_path / "new")) == str(tmp_path / "new")

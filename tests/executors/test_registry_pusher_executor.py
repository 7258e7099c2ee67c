"""``RegistryPusherExecutor().Do()`` called directly: the model and every artifact on a local
or a ``ram://`` root (staged to a local folder for the registry), each hook overridden once."""

from __future__ import annotations

import json
import os
import tempfile

import pytest
from tfx.types import standard_artifacts

from tests.executors import artifacts as make
from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.executors.registry_pusher import RegistryPusherExecutor
from tfx_addons_lab.registry import open_registry
from tfx_addons_lab.specs import registry_pusher as spec


def _run(
    executor,
    root,
    registry_dir,
    blessed=1,
    aliases=("champion",),
    examples_span=3,
    record_refused=None,
    auc=0.9,
    out="pushed",
    reason="BLESSED: all 3 checks passed",
    infra=None,
    infra_metrics=None,
):
    model = make.model(io.join(root, f"model-{auc}"), {"auc": auc}, artifact_id=5)
    inputs = {spec.MODEL_KEY: [model]}
    if blessed is not None:
        blessing = make.blessing(io.join(root, f"bless-{out}"), blessed)
        blessing.set_string_custom_property("reason", reason)
        inputs[spec.MODEL_BLESSING_KEY] = [blessing]
    if infra is not None:  # InfraValidator's output; a metrics.json in it is recorded
        infra_blessing = make.blessing(io.join(root, f"infra-{out}"), infra, "InfraBlessing")
        if infra_metrics is not None:
            io.write_json(io.join(infra_blessing.uri, spec.METRICS_FILE), infra_metrics)
        inputs[spec.INFRA_BLESSING_KEY] = [infra_blessing]
    if examples_span is not None:
        examples = make.output(standard_artifacts.Examples, io.join(root, "examples"))
        examples.span = examples_span
        inputs[spec.EXAMPLES_KEY] = [examples]
    pushed = make.output(standard_artifacts.PushedModel, io.join(root, out))
    props = {
        spec.REGISTRY_URI_KEY: str(registry_dir),
        spec.MODEL_NAME_KEY: "penguin",
        spec.ALIASES_KEY: json.dumps(list(aliases)),
        spec.METADATA_KEY: json.dumps({"team": "ml"}),
    }
    if record_refused is not None:
        props[spec.RECORD_REFUSED_KEY] = record_refused
    executor.Do(inputs, {spec.PUSHED_MODEL_KEY: [pushed]}, props)
    return pushed


def test_do_pushes_a_model_from_any_filesystem(root, tmp_path):
    registry_dir = tmp_path / "registry"
    pushed = _run(RegistryPusherExecutor(), root, registry_dir)
    assert pushed.get_int_custom_property("pushed") == 1
    version = open_registry(str(registry_dir)).get("penguin", "champion")
    assert version.version == 1 and version.metadata["source_uri"] == io.join(root, "model-0.9")
    assert version.metadata["verdict"] == {
        "status": "passed",
        "reason": "BLESSED: all 3 checks passed",
        "blessing_uri": io.join(root, "bless-pushed"),
    }
    assert pushed.get_int_custom_property("registry_version") == 1
    assert pushed.get_string_custom_property("registry_verdict") == "passed"
    assert pushed.get_int_custom_property("registry_already_pushed") == 0
    assert version.metadata["data_spans"] == [3] and version.metadata["team"] == "ml"
    assert version.metadata["metrics"] == {"auc": 0.9}
    assert version.metadata["gate_reasons"] == ["BLESSED: all 3 checks passed"]
    with open(os.path.join(version.uri, "saved_model.pb"), "rb") as f:
        assert f.read() == b"\x08\x01" * 64
    record = io.read_json(io.join(pushed.uri, spec.RECORD_FILE))
    assert record["version"] == 1 and "checksums" not in record
    # nothing staged is left behind (where staged_locally stages: TMPDIR, e.g. test-latest's)
    staged = os.listdir(tempfile.gettempdir())
    assert not [p for p in staged if p.startswith("tfx-addons-lab-stage-")]


@pytest.mark.parametrize("record_refused", [None, 0])
def test_not_blessed_pushes_nothing(root, tmp_path, record_refused):
    pushed = _run(
        RegistryPusherExecutor(), root, tmp_path / "registry", 0, record_refused=record_refused
    )
    assert pushed.get_int_custom_property("pushed") == 0
    assert (
        not (tmp_path / "registry").exists()
        or not open_registry(str(tmp_path / "registry")).list_models()
    )


@pytest.mark.parametrize(
    "infra, record_refused", [(1, None), (0, None), (0, 1)], ids=["infra-1", "infra-0", "recorded"]
)
def test_infra_blessing_on_the_root_decides_the_push(root, tmp_path, infra, record_refused):
    """Model, both blessings, examples and the output all on ``root``: the infra blessing alone
    decides, and its folder's ``metrics.json`` is recorded with the version."""
    registry_dir = tmp_path / "registry"
    pushed = _run(
        RegistryPusherExecutor(),
        root,
        registry_dir,
        infra=infra,
        infra_metrics={"latency_ms": 12.5},
        record_refused=record_refused,
    )
    assert pushed.uri.startswith(root + "/")
    assert pushed.get_int_custom_property("pushed") == infra
    infra_uri = io.join(root, "infra-pushed")
    if not infra and not record_refused:
        assert not registry_dir.exists() or not open_registry(str(registry_dir)).list_models()
        assert "registry_version" not in pushed.mlmd_artifact.custom_properties
        return
    reg = open_registry(str(registry_dir))
    version = reg.get("penguin", 1)
    assert version.metadata["infra_blessing"] == {"uri": infra_uri, "blessed": infra}
    assert version.metadata["metrics"] == {"auc": 0.9, "latency_ms": 12.5}
    assert version.metadata["source_uri"] == io.join(root, "model-0.9")
    assert version.metadata["blessing"]["uri"] == io.join(root, "bless-pushed")
    assert version.metadata["examples"][0]["uri"] == io.join(root, "examples")
    assert reg.aliases("penguin") == ({"champion": 1} if infra else {})
    if infra:
        assert version.metadata["verdict"]["status"] == "passed"
        assert pushed.get_string_custom_property("registry_verdict") == "passed"
    else:  # the model blessing passed: the refusal names the infra blessing
        assert version.metadata["verdict"] == {
            "status": "refused",
            "reason": "infra_blessing is refused",
            "blessing_uri": infra_uri,
        }
        assert pushed.get_string_custom_property("registry_verdict") == "refused"


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

    with pytest.raises(InvalidInputError, match=words) as refused:
        RegistryPusher(
            model=channel.Channel(type=standard_artifacts.Model), registry_uri=uri, model_name="m"
        )
    # the message names the supported choices
    assert "mlflow+http" in str(refused.value) and "tfserving://" in str(refused.value)


def test_registry_uri_that_is_a_file_is_refused(tmp_path):
    from tfx_addons_lab.errors import InvalidInputError

    path = tmp_path / "file.txt"
    path.write_text("x")
    for uri in (str(path), f"file://{path}", f"tfserving://{path}", f"mlflow+file://{path}"):
        with pytest.raises(InvalidInputError, match="existing file") as refused:
            spec.validate_registry_uri(uri)
        assert "mlflow+http" in str(refused.value)
    for uri in (str(tmp_path / "new"), f"tfserving://{tmp_path}/new", f"mlflow+file://{tmp_path}"):
        assert spec.validate_registry_uri(uri) == uri


def test_record_refused_registers_the_candidate_without_moving_an_alias(root, tmp_path):
    registry_dir = tmp_path / "registry"
    first = _run(RegistryPusherExecutor(), root, registry_dir, auc=0.9)  # v1, champion
    refused = _run(
        RegistryPusherExecutor(),
        root,
        registry_dir,
        blessed=0,
        record_refused=1,
        auc=0.7,
        out="refused",
        reason="NOT_BLESSED: auc 0.7 < 0.8",
    )
    assert first.get_int_custom_property("registry_version") == 1
    assert refused.get_int_custom_property("pushed") == 0  # not deployed
    assert "pushed_destination" not in refused.mlmd_artifact.custom_properties
    assert refused.get_int_custom_property("registry_version") == 2
    assert refused.get_string_custom_property("registry_verdict") == "refused"
    assert refused.get_int_custom_property("registry_already_pushed") == 0
    assert refused.get_string_custom_property("registry_aliases") == ""
    reg = open_registry(str(registry_dir))
    assert reg.aliases("penguin") == {"champion": 1}
    assert [e.version for e in reg.alias_history("penguin", "champion")] == [1]
    version = reg.get("penguin", 2)
    assert version.metadata["verdict"] == {
        "status": "refused",
        "reason": "NOT_BLESSED: auc 0.7 < 0.8",
        "blessing_uri": io.join(root, "bless-refused"),
    }
    record = io.read_json(io.join(refused.uri, spec.RECORD_FILE))
    assert record["version"] == 2 and record["aliases"] == []
    # the reviewed model itself, not a retrained one, can then be approved
    reg.approve("penguin", 2, "champion", "auc dip is a labelling delay")
    assert reg.get("penguin", "champion").uri == version.uri


def test_refused_candidate_runs_no_alias_move_and_no_after_push(local_root, tmp_path):
    calls = []

    class Watching(RegistryPusherExecutor):
        def set_aliases(self, registry, version, aliases):
            calls.append(("set_aliases", list(aliases)))
            return super().set_aliases(registry, version, aliases)

        def after_push(self, version, registry):
            calls.append("after_push")

    _run(Watching(), local_root, tmp_path / "registry", blessed=0, record_refused=1)
    assert calls == [("set_aliases", [])]


def test_rerun_with_unchanged_inputs_is_a_no_op(local_root, tmp_path, caplog):
    registry_dir = tmp_path / "registry"
    first = _run(RegistryPusherExecutor(), local_root, registry_dir, out="run1")
    reg = open_registry(str(registry_dir))
    history = reg.alias_history("penguin", "champion")
    with caplog.at_level("INFO", logger="tfx_addons_lab.executors.registry_pusher"):
        again = _run(RegistryPusherExecutor(), local_root, registry_dir, out="run2")
    assert "already pushed as version 1" in caplog.text
    assert "pushed as version 2" not in caplog.text
    assert [v.version for v in reg.list("penguin")] == [1]
    assert again.get_int_custom_property("registry_version") == 1
    assert again.get_int_custom_property("registry_already_pushed") == 1
    assert again.get_int_custom_property("pushed") == 1  # it is the deployed version
    assert first.get_int_custom_property("registry_already_pushed") == 0
    assert reg.alias_history("penguin", "champion") == history  # no alias entry written
    assert io.read_json(io.join(again.uri, spec.RECORD_FILE))["already_pushed"] is True


def test_rerun_does_not_undo_a_rollback_but_completes_a_killed_run(local_root, tmp_path):
    registry_dir = tmp_path / "registry"
    _run(RegistryPusherExecutor(), local_root, registry_dir, auc=0.9, out="a")  # v1 champion
    _run(RegistryPusherExecutor(), local_root, registry_dir, auc=0.95, out="b")  # v2 champion
    reg = open_registry(str(registry_dir))
    reg.rollback("penguin", "champion")  # a person went back to v1
    again = _run(RegistryPusherExecutor(), local_root, registry_dir, auc=0.95, out="c")
    assert again.get_int_custom_property("registry_already_pushed") == 1
    assert reg.aliases("penguin") == {"champion": 1}  # the rollback stands
    assert [e.action for e in reg.alias_history("penguin", "champion")] == [
        "set",
        "set",
        "rollback",
    ]
    # a run killed after its push and before its alias move: the re-run moves the alias
    # the version never had (and a refused candidate's re-run moves none)
    staging = _run(
        RegistryPusherExecutor(), local_root, registry_dir, auc=0.95, aliases=("staging",), out="d"
    )
    assert staging.get_int_custom_property("registry_already_pushed") == 1
    assert reg.aliases("penguin") == {"champion": 1, "staging": 2}


def test_record_refused_must_be_a_bool():
    from tfx.types import channel

    from tfx_addons_lab.components import RegistryPusher
    from tfx_addons_lab.errors import InvalidInputError

    model = channel.Channel(type=standard_artifacts.Model)
    with pytest.raises(InvalidInputError, match="record_refused must be True or False"):
        RegistryPusher(model=model, registry_uri="/tmp/r", model_name="m", record_refused="yes")
    pusher = RegistryPusher(model=model, registry_uri="/tmp/r", model_name="m", record_refused=True)
    assert pusher.exec_properties[spec.RECORD_REFUSED_KEY] == 1


def test_verdict_names_the_blessing_that_decided(local_root):
    model_ok = make.blessing(io.join(local_root, "mb"), 1)
    model_ok.set_string_custom_property("reason", "all checks passed")
    infra_no = make.blessing(io.join(local_root, "ib"), 0, cls_name="InfraBlessing")
    both = {spec.MODEL_BLESSING_KEY: model_ok, spec.INFRA_BLESSING_KEY: infra_no}
    refused = spec.push_facts(both, blessed=False)
    assert refused[spec.VERDICT_KEY] == {
        "status": "refused",
        "reason": "infra_blessing is refused",  # it has no reason property: named instead
        "blessing_uri": io.join(local_root, "ib"),
    }
    passed = spec.push_facts({spec.MODEL_BLESSING_KEY: model_ok}, blessed=True)
    assert passed[spec.VERDICT_KEY]["reason"] == "all checks passed"
    assert spec.push_facts({}, blessed=True)[spec.VERDICT_KEY] == {
        "status": "passed",
        "reason": "no blessing wired",
    }
    assert refused[spec.PUSH_ID_KEY] != passed[spec.PUSH_ID_KEY]

"""RegistryPusher in real LocalDagRunner pipelines: a tiny Trainer, a blessing, the registry.

The pipelines of this module share one pipeline root with caching on, so the ExampleGen ->
StatisticsGen -> SchemaGen -> Trainer prefix runs once and later pipelines reuse its Model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_utils import custom_property, run_pipeline
from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.registry import open_registry

from .registry_pusher_testlib import NOTIFY_FILE_ENV, trainer_pipeline

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared(tmp_path_factory, penguins_frame):
    from pipeline_utils import write_penguins_csv

    root = tmp_path_factory.mktemp("registry_pusher")
    data = write_penguins_csv(penguins_frame, root / "data")
    return {"root": root / "pipeline", "data": data}


def _run(shared, extra):
    return run_pipeline(extra, shared["root"], name="registry-pusher-test", enable_cache=True)


def _pushed_by(run, component_id):
    """The PushedModel written by ``component_id`` in its latest execution."""
    store = run.store
    context = store.get_context_by_type_and_name("node", f"{run.name}.{component_id}")
    assert context is not None, f"no node context for {component_id}"
    executions = sorted(store.get_executions_by_context(context.id), key=lambda e: e.id)
    assert executions, f"no execution of {component_id}"
    events = store.get_events_by_execution_ids([executions[-1].id])
    ids = [e.artifact_id for e in events if e.type == e.OUTPUT]
    return store.get_artifacts_by_id(ids)[0]


def test_blessed_model_is_pushed_with_aliases_and_lineage(shared, tmp_path):
    from tfx_addons_lab.components import RegistryPusher

    from .registry_pusher_testlib import FixedBlessing

    registry_dir = tmp_path / "registry"
    prefix, trainer = trainer_pipeline(shared["data"])
    blessing = FixedBlessing(
        model=trainer.outputs["model"], blessed=1, reason="all 3 checks passed"
    )
    pusher = RegistryPusher(
        model=trainer.outputs["model"],
        model_blessing=blessing.outputs["blessing"],
        registry_uri=str(registry_dir),
        model_name="penguin",
        aliases=["champion", "challenger"],
        metadata={"team": "ml-platform"},
    )
    run = _run(shared, [*prefix, blessing, pusher])

    model = run.latest("Model")
    pushed = _pushed_by(run, "RegistryPusher")
    assert custom_property(pushed, "pushed") == 1
    assert custom_property(pushed, "registry_version") == 1
    assert custom_property(pushed, "pushed_version") == "1"
    assert custom_property(pushed, "registry_aliases") == "challenger,champion"
    assert custom_property(pushed, "registry_uri") == str(registry_dir)
    assert custom_property(pushed, "registry_model_name") == "penguin"

    reg = open_registry(str(registry_dir))
    version = reg.get("penguin", "champion")
    assert version.version == 1 and version.aliases == ["challenger", "champion"]
    assert custom_property(pushed, "pushed_destination") == version.uri
    assert reg.verify("penguin", 1).ok
    # the registry holds the Trainer's serving model, byte for byte
    serving = Path(model.uri) / "Format-Serving"
    assert (Path(version.uri) / "saved_model.pb").read_bytes() == (
        serving / "saved_model.pb"
    ).read_bytes()
    meta = version.metadata
    assert meta["source_uri"] == model.uri and meta["model_artifact_id"] == model.id
    assert meta["pipeline_name"] == "registry-pusher-test"
    assert meta["pipeline_run_id"]
    assert meta["component_id"] == "RegistryPusher"
    assert meta["blessing"]["blessed"] == 1
    assert meta["blessing"]["reason"] == "all 3 checks passed"
    assert meta["gate_reasons"] == ["all 3 checks passed"]
    assert meta["metrics"] == {"train_steps": 5}
    assert meta["team"] == "ml-platform"
    record = json.loads((Path(pushed.uri) / "registry_version.json").read_text())
    assert record["version"] == 1 and record["registry_uri"] == str(registry_dir)

    # the model loads from the registry and predicts
    import tensorflow as tf

    loaded = tf.saved_model.load(version.uri)
    out = loaded.signatures["serving_default"]
    assert out is not None


def test_not_blessed_model_is_not_pushed(shared, tmp_path):
    from tfx_addons_lab.components import RegistryPusher

    from .registry_pusher_testlib import FixedBlessing

    registry_dir = tmp_path / "registry"
    prefix, trainer = trainer_pipeline(shared["data"])
    blessing = FixedBlessing(model=trainer.outputs["model"], blessed=0, reason="accuracy too low")
    pusher = RegistryPusher(
        model=trainer.outputs["model"],
        model_blessing=blessing.outputs["blessing"],
        registry_uri=str(registry_dir),
        model_name="penguin",
        aliases=["champion"],
    )
    run = _run(shared, [*prefix, blessing, pusher])
    pushed = _pushed_by(run, "RegistryPusher")
    assert custom_property(pushed, "pushed") == 0
    assert "registry_version" not in pushed.custom_properties
    assert open_registry(str(registry_dir)).list_models() == []


def test_refused_model_is_recorded_and_approved_into_serving(shared, tmp_path):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    from tfx_addons_lab.components import RegistryPusher

    from .registry_pusher_testlib import FixedBlessing

    root = tmp_path / "serving"
    prefix, trainer = trainer_pipeline(shared["data"])
    blessing = FixedBlessing(model=trainer.outputs["model"], blessed=0, reason="accuracy too low")
    pusher = RegistryPusher(
        model=trainer.outputs["model"],
        model_blessing=blessing.outputs["blessing"],
        registry_uri=f"tfserving://{root}",
        model_name="penguin",
        aliases=["champion"],
        record_refused=True,
    )
    run = _run(shared, [*prefix, blessing, pusher])
    pushed = _pushed_by(run, "RegistryPusher")
    assert custom_property(pushed, "pushed") == 0
    assert custom_property(pushed, "registry_version") == 1
    assert custom_property(pushed, "registry_verdict") == "refused"
    assert custom_property(pushed, "registry_already_pushed") == 0
    reg = open_registry(f"tfserving://{root}")
    verdict = reg.get("penguin", 1).metadata["verdict"]
    assert verdict["status"] == "refused" and verdict["reason"] == "accuracy too low"
    assert reg.aliases("penguin") == {} and not (root / "models.config").exists()
    # a person reviews the refused model and approves exactly it: TF Serving now serves it
    reg.approve("penguin", 1, "champion", "accuracy dip explained by a label delay", by="ops")
    config = text_format.Parse(
        (root / "models.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )
    (served,) = config.model_config_list.config
    assert list(served.model_version_policy.specific.versions) == [1]
    assert dict(served.version_labels) == {"champion": 1}


def test_pushing_the_same_model_again_returns_the_same_version(shared, tmp_path):
    from tfx_addons_lab.components import RegistryPusher

    registry_dir = tmp_path / "registry"
    prefix, trainer = trainer_pipeline(shared["data"])
    first = RegistryPusher(
        model=trainer.outputs["model"],
        registry_uri=str(registry_dir),
        model_name="penguin",
        aliases=["champion"],
    ).with_id("first_pusher")
    second = RegistryPusher(
        model=trainer.outputs["model"],
        registry_uri=str(registry_dir),
        model_name="penguin",
        aliases=["champion"],
    ).with_id("second_pusher")
    run = _run(shared, [*prefix, first, second])
    one, two = _pushed_by(run, "first_pusher"), _pushed_by(run, "second_pusher")
    assert custom_property(one, "registry_version") == custom_property(two, "registry_version") == 1
    assert custom_property(one, "registry_already_pushed") == 0
    assert custom_property(two, "registry_already_pushed") == 1
    assert custom_property(two, "registry_verdict") == "passed"
    reg = open_registry(str(registry_dir))
    assert [v.version for v in reg.list("penguin")] == [1]
    assert len(reg.alias_history("penguin", "champion")) == 1


def test_executor_subclass_hooks_run_in_a_pipeline(shared, tmp_path, monkeypatch):
    from tfx.dsl.components.base import executor_spec

    from tfx_addons_lab.components import RegistryPusher

    from .registry_pusher_testlib import NotifyingPusherExecutor

    notify = tmp_path / "notifications.jsonl"
    monkeypatch.setenv(NOTIFY_FILE_ENV, str(notify))
    registry_uri = f"tfserving://{tmp_path}/serving"
    prefix, trainer = trainer_pipeline(shared["data"])
    pusher = RegistryPusher(
        model=trainer.outputs["model"],
        registry_uri=registry_uri,
        model_name="penguin",
        aliases=["champion"],
        custom_executor_spec=executor_spec.ExecutorClassSpec(NotifyingPusherExecutor),
    )
    run = _run(shared, [*prefix, pusher])
    pushed = _pushed_by(run, "RegistryPusher")
    lines = [json.loads(line) for line in notify.read_text().splitlines()]
    assert lines == [
        {
            "name": "penguin",
            "version": 1,
            "uri": str(tmp_path / "serving/penguin/1"),
            "aliases": ["champion"],
        }
    ]
    version = open_registry(registry_uri).get("penguin", 1)
    assert version.metadata["notified_by"] == "NotifyingPusherExecutor"
    assert custom_property(pushed, "pushed_destination") == version.uri
    assert (tmp_path / "serving" / "penguin" / "1" / "saved_model.pb").exists()


def test_bad_parameters_fail_at_construction(shared):
    from tfx_addons_lab.components import RegistryPusher

    _, trainer = trainer_pipeline(shared["data"])
    with pytest.raises(InvalidInputError, match="model name"):
        RegistryPusher(model=trainer.outputs["model"], registry_uri="/x", model_name="../evil")
    with pytest.raises(InvalidInputError, match="alias"):
        RegistryPusher(
            model=trainer.outputs["model"], registry_uri="/x", model_name="ok", aliases=["a/b"]
        )

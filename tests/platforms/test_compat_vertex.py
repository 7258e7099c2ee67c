"""Vertex AI round trip of our artifacts, in-process (the root causes the e2e test exercises)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

NAME = "projects/123456789/locations/us-central1/metadataStores/default/artifacts/{}"


def _runtime(title: str, name: str, metadata=None) -> dict:
    out = {"name": name, "uri": "/tmp/x", "type": {"instanceSchema": f"title: {title}\n"}}
    if metadata:
        out["metadata"] = metadata
    return out


def _parse(runtime: dict, name_from_id: dict):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as utils

    executor_input = pipeline_spec_pb2.ExecutorInput()
    json_format.ParseDict(
        {"inputs": {"artifacts": {"x": {"artifacts": [runtime]}}}}, executor_input
    )
    return utils.parse_raw_artifact_dict(executor_input.inputs.artifacts, name_from_id)["x"][0]


def test_schema_titles_import_as_the_vertex_entrypoint_does():
    from tfx.utils import import_utils

    for title in ("tfx_addons_lab.DriftReport", "tfx_addons_lab.GateReport"):
        assert import_utils.import_class_by_path(title).TYPE_NAME == title


def test_int_ids_come_back_as_lossy_floats_and_are_left_visible():
    """Root cause: the entrypoint writes int custom properties as JSON numbers (floats)."""
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as utils
    from tfx.types import standard_artifacts

    from tfx_addons_lab.artifact_io import custom_properties

    names: dict = {}
    model = _parse(_runtime("tfx.Model", NAME.format(7)), names)
    blessing = standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property("blessed", 1)
    blessing.set_int_custom_property("current_model_id", model.id)
    sent = json.loads(
        json.dumps(
            __import__("google.protobuf.json_format", fromlist=["x"]).MessageToDict(
                utils.to_runtime_artifact(blessing, names)
            )
        )
    )
    assert isinstance(sent["metadata"]["current_model_id"], float)
    back = _parse(
        {**sent, "name": NAME.format(8), "type": {"schemaTitle": "tfx.ModelBlessing"}}, {}
    )
    props = custom_properties(back)
    assert props["blessed"] == 1 and isinstance(props["blessed"], int)
    assert props["current_model_id"] != model.id  # digits lost: a float, not a wrong int
    assert isinstance(props["current_model_id"], float)


def test_registered_gate_executor_gets_resource_name_ids():
    """The fix: the entrypoint's refactor_model_blessing applies to a registered executor."""
    from tfx.components.evaluator import executor as evaluator_executor
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as utils
    from tfx.types import standard_artifacts

    from tfx_addons_lab.compat_vertex import register_model_blessing_executor
    from tfx_addons_lab.executors.blessing_gate import BlessingGateExecutor

    class ThrowawayGate(BlessingGateExecutor):  # keeps the real class unregistered here
        pass

    assert register_model_blessing_executor(ThrowawayGate, import_evaluator=True) is ThrowawayGate
    assert issubclass(ThrowawayGate, evaluator_executor.Executor)
    names: dict = {}
    model = _parse(_runtime("tfx.Model", NAME.format(7)), names)
    baseline = _parse(_runtime("tfx.Model", NAME.format(3)), names)
    blessing = standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property("current_model_id", model.id)
    blessing.set_int_custom_property("baseline_model_id", baseline.id)
    utils.refactor_model_blessing(blessing, names)
    assert blessing.get_string_custom_property("current_model_id") == NAME.format(7)
    assert blessing.get_string_custom_property("baseline_model_id") == NAME.format(3)


def test_harness_resolver_query_misses_a_float_model_id(tmp_path):
    """What Vertex's latest-blessed-model query does with a float ``current_model_id``."""
    from vertex_harness import Artifact, MetadataStore, _render

    store = MetadataStore(tmp_path / "m.json")
    model = store.publish(
        Artifact(NAME.format(1), "tfx.Model", "/m", {}, 0, "r", "Trainer", "model")
    )
    good = {"blessed": 1.0, "current_model_id": model.name}
    bad = {"blessed": 1.0, "current_model_id": 3.17941718816226e18}
    for meta in (good, bad):
        store.publish(Artifact(store.new_name(), "tfx.ModelBlessing", "/b", meta, 0, "r", "G", "b"))
    query = 'schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
    assert [a.metadata for a in store.query(query)] == [bad, good]  # newest first
    for meta, expected in ((good, [model.name]), (bad, [])):
        found = store.query(
            f'schema_title="tfx.Model" AND state=LIVE AND name="{_render(meta["current_model_id"])}"'
        )
        assert [a.name for a in found] == expected

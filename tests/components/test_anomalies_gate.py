"""AnomaliesGate (and BlessingGate's no-anomalies check) on anomalies found by the stock
ExampleValidator against a hand-tightened schema: real components, no mocks.

The schema (imported with ImportSchemaGen) caps ``body_mass_g`` at 4000 g, which many
penguins exceed, and omits ``culmen_depth_mm``, so ExampleValidator reports an out-of-range
value and a new column in both splits.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_utils import run_pipeline

pytestmark = pytest.mark.e2e

SCHEMA = """
feature { name: "species" type: INT presence { min_fraction: 1.0 min_count: 1 }
          shape { dim { size: 1 } } }
feature { name: "culmen_length_mm" type: FLOAT presence { min_fraction: 1.0 min_count: 1 }
          shape { dim { size: 1 } } }
feature { name: "flipper_length_mm" type: FLOAT presence { min_fraction: 1.0 min_count: 1 }
          shape { dim { size: 1 } } }
feature { name: "body_mass_g" type: FLOAT presence { min_fraction: 1.0 min_count: 1 }
          float_domain { min: 0.0 max: 4000.0 } shape { dim { size: 1 } } }
"""


def _components(data_dir: Path, schema_file: Path, model_dir: Path, fail: int, splits: str = ""):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import AnomaliesGate, BlessingGate

    example_gen = tfx.components.CsvExampleGen(input_base=str(data_dir))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema = tfx.components.ImportSchemaGen(schema_file=str(schema_file))
    validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema.outputs["schema"]
    )
    anomalies = validator.outputs["anomalies"]
    gate = AnomaliesGate(anomalies=anomalies, fail_on_anomalies=fail, splits=splits)
    model = tfx.dsl.Importer(
        source_uri=str(model_dir), artifact_type=tfx.types.standard_artifacts.Model
    ).with_id("model_importer")
    blessing_gate = BlessingGate(model=model.outputs["result"], anomalies=anomalies)
    return [example_gen, statistics_gen, schema, validator, gate, model, blessing_gate]


@pytest.fixture(scope="module")
def tight_schema_setup(tmp_path_factory, penguins_frame):
    from pipeline_utils import write_penguins_csv

    base = tmp_path_factory.mktemp("anomalies")
    data = write_penguins_csv(penguins_frame, base / "data")
    schema_file = base / "schema" / "schema.pbtxt"
    schema_file.parent.mkdir()
    schema_file.write_text(SCHEMA)
    model_dir = base / "model"
    model_dir.mkdir()
    (model_dir / "metrics.json").write_text('{"auc": 0.9}')
    return base, data, schema_file, model_dir


@pytest.fixture(scope="module")
def recorded_run(tight_schema_setup):
    base, data, schema_file, model_dir = tight_schema_setup
    return run_pipeline(
        _components(data, schema_file, model_dir, fail=0),
        base / "run",
        name="anomalies",
        enable_cache=True,
    )


def _from(run, type_name, node):
    from tfx_addons_lab.mlmd import MetadataView

    view = MetadataView(run.store)
    arts = [
        a
        for a in view.artifacts_of_type(type_name)
        if view.component_id(view.producer(a.id)) == node
    ]
    assert arts, f"no {type_name} from {node}"
    return arts[-1]


def test_records_anomalies_and_continues(recorded_run):
    from tfx_addons_lab.mlmd import prop

    report = _from(recorded_run, "tfx_addons_lab.GateReport", "AnomaliesGate")
    assert prop(report, "passed") == 0
    payload = json.loads((Path(report.uri) / "gate_report.json").read_text())
    found = {(a["split"], a["feature"]) for a in payload["anomalies"]}
    for split in ("train", "eval"):
        assert (split, "body_mass_g") in found
        assert (split, "culmen_depth_mm") in found
    assert all(a["severity"] and a["description"] for a in payload["anomalies"])
    assert prop(report, "anomaly_count") == len(payload["anomalies"])
    assert "body_mass_g" in prop(report, "reason")


def test_blessing_gate_refuses_on_anomalies(recorded_run):
    from tfx_addons_lab.mlmd import prop

    blessing = _from(recorded_run, "ModelBlessing", "BlessingGate")
    assert prop(blessing, "blessed") == 0
    assert "no_anomalies" in prop(blessing, "reason")
    assert "body_mass_g" in prop(blessing, "reason")


def test_fails_the_run_with_a_readable_list(tight_schema_setup, recorded_run):
    base, data, schema_file, model_dir = tight_schema_setup
    with pytest.raises(Exception) as info:  # LocalDagRunner re-raises the executor's error
        run_pipeline(
            _components(data, schema_file, model_dir, fail=1),
            base / "run",
            name="anomalies",
            enable_cache=True,
        )
    text = str(info.value)
    assert "AnomaliesGate" in text and "anomalies found" in text
    assert "train/body_mass_g [ERROR]" in text
    assert "eval/culmen_depth_mm [ERROR]" in text


def test_split_filter(tight_schema_setup, recorded_run):
    from tfx_addons_lab.mlmd import prop

    base, data, schema_file, model_dir = tight_schema_setup
    run = run_pipeline(
        _components(data, schema_file, model_dir, fail=0, splits="eval"),
        base / "run",
        name="anomalies",
        enable_cache=True,
    )
    report = _from(run, "tfx_addons_lab.GateReport", "AnomaliesGate")
    payload = json.loads((Path(report.uri) / "gate_report.json").read_text())
    assert payload["splits"] == ["eval"]
    assert {a["split"] for a in payload["anomalies"]} == {"eval"}
    assert prop(report, "passed") == 0

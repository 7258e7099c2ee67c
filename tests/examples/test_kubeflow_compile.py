"""Both example pipelines compile offline for Kubeflow Pipelines v2 / Vertex AI."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

#: Vertex AI schema titles: dotted identifiers, no spaces (e.g. ``tfx.Examples``).
SCHEMA_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def _compile(pipeline, path: Path) -> dict:
    from examples.common import compile_kubeflow

    return json.loads(compile_kubeflow(pipeline, str(path)).read_text())


def _check_spec(spec: dict, expected_components: set) -> None:
    text = json.dumps(spec)
    components = set(spec["pipelineSpec"]["components"])
    missing = {c for c in expected_components if not any(k.startswith(c) for k in components)}
    assert not missing, f"components missing from the spec: {missing}"
    executors = spec["pipelineSpec"]["deploymentSpec"]["executors"]
    class_paths = []
    for executor in executors.values():
        args = executor.get("container", {}).get("args", [])
        if "--executor_class_path" in args:
            class_paths.append(args[args.index("--executor_class_path") + 1])
    ours = [p for p in class_paths if p.startswith("tfx_addons_lab")]
    assert ours, "no executor of ours in the spec"
    for path in class_paths:
        assert not path.startswith("__main__"), path
        module, _, attr = path.rpartition(".")
        assert getattr(importlib.import_module(module), attr) is not None
    titles = set(re.findall(r"title: ([^\s\"\\]+)", text)) | set(
        re.findall(r'"schemaTitle": "([^"]+)"', text)
    )
    assert any(t.startswith("tfx_addons_lab.") for t in titles)
    for title in titles:
        assert SCHEMA_TITLE.match(title), f"invalid Vertex AI schema title: {title!r}"


def test_penguin_compiles_for_kubeflow(tmp_path):
    from examples.penguin.pipeline import create_pipeline

    data = tmp_path / "data"
    data.mkdir()
    (data / "penguins.csv").write_text("species,culmen_length_mm\n0,1.0\n")
    pipeline = create_pipeline(str(tmp_path / "out"), data_root=str(data), kubeflow=True)
    spec = _compile(pipeline, tmp_path / "penguin.json")
    _check_spec(
        spec,
        {
            "DriftValidator",
            "BlessingGate",
            "RegistryPusher",
            "Trainer",
            "Evaluator",
            "Pusher",
            "Transform",
            "ExampleValidator",
            "Trainer_registry_champion",
        },
    )


def test_flights_compiles_for_kubeflow(tmp_path):
    from examples.flights.pipeline import create_pipeline

    pipeline = create_pipeline(str(tmp_path / "out"), str(tmp_path / "data"), kubeflow=True)
    spec = _compile(pipeline, tmp_path / "flights.json")
    _check_spec(
        spec,
        {"DriftValidator", "BlessingGate", "RegistryPusher", "Trainer_registry_champion"},
    )


def test_registry_champion_resolver_says_how_to_compile_for_kubeflow(tmp_path):
    """Without kubeflow=True the champion is a custom resolver strategy: the error names the fix."""
    from examples.penguin.pipeline import create_pipeline

    data = tmp_path / "data"
    data.mkdir()
    (data / "penguins.csv").write_text("species,culmen_length_mm\n0,1.0\n")
    pipeline = create_pipeline(str(tmp_path / "out"), data_root=str(data))
    with pytest.raises(TypeError, match=r"use registry_champion_resolver\(\.\.\., kubeflow=True\)"):
        _compile(pipeline, tmp_path / "penguin.json")


def test_flights_span_baseline_says_how_to_compile_for_kubeflow(tmp_path):
    """The flights example's local baseline (previous_span) is a custom strategy too."""
    from examples.flights.pipeline import create_pipeline

    pipeline = create_pipeline(str(tmp_path / "out"), str(tmp_path / "data"))
    with pytest.raises(TypeError, match=r"mode='previous_run'\) there"):
        _compile(pipeline, tmp_path / "flights.json")


@pytest.mark.e2e
def test_penguin_cli_compile_flag(tmp_path):
    import subprocess

    target = tmp_path / "spec.json"
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "penguin" / "pipeline.py"),
            "--output-dir",
            str(tmp_path / "out"),
            "--compile",
            "kubeflow",
            str(target),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(target.read_text())["pipelineSpec"]["pipelineInfo"]["name"]


@pytest.mark.parametrize(
    "mode, kwargs",
    [
        ("previous_span", {}),
        ("same_span_offset", {"span_offset": 12}),
        ("rolling_window", {"window": 3}),
    ],
)
def test_span_resolvers_say_how_to_compile_for_kubeflow(tmp_path, mode, kwargs):
    """KubeflowV2DagRunner compiles only stock resolver strategies: the error names the fix."""
    from tfx import v1 as tfx

    from tfx_addons_lab.components import DriftValidator, baseline_statistics_resolver

    gen = tfx.components.CsvExampleGen(input_base=str(tmp_path))
    stats = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    previous = baseline_statistics_resolver(stats, mode=mode, **kwargs)
    drift = DriftValidator(
        statistics=stats.outputs["statistics"], baseline_statistics=previous.outputs["statistics"]
    )
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="span", pipeline_root=str(tmp_path), components=[gen, stats, previous, drift]
    )
    with pytest.raises(TypeError, match=f"mode='{mode}'.*cannot be compiled") as info:
        _compile(pipeline, tmp_path / "span.json")
    assert "use baseline_statistics_resolver(stats_gen, mode='previous_run')" in str(info.value)


def test_previous_run_resolver_compiles_for_kubeflow_with_its_policy(tmp_path):
    from tfx import v1 as tfx

    from tfx_addons_lab.components import DriftValidator, baseline_statistics_resolver

    gen = tfx.components.CsvExampleGen(input_base=str(tmp_path))
    stats = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    previous = baseline_statistics_resolver(stats)
    drift = DriftValidator(
        statistics=stats.outputs["statistics"], baseline_statistics=previous.outputs["statistics"]
    )
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="run", pipeline_root=str(tmp_path), components=[gen, stats, previous, drift]
    )
    text = json.dumps(_compile(pipeline, tmp_path / "run.json"))
    assert "baseline_policy" in text and "previous_run" in text

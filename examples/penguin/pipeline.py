"""The quick-start pipeline: all eight standard TFX stages plus tfx-addons-lab's components.

CsvExampleGen (palmerpenguins) -> StatisticsGen (100 quantile buckets) -> SchemaGen ->
ExampleValidator -> Transform -> Trainer (Keras) -> Evaluator (TFMA thresholds, against
the model the registry's ``champion`` alias points at) ->
DriftValidator (training/serving skew: eval vs train) -> BlessingGate -> RegistryPusher
(embedded filesystem registry) and the stock Pusher, both fed by the gate's blessing.

Run it::

    python examples/penguin/pipeline.py                    # LocalDagRunner, ./out/penguin
    python examples/penguin/pipeline.py --runner beam      # BeamDagRunner
    python examples/penguin/pipeline.py --compile kubeflow penguin.json   # KFP v2 / Vertex spec
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO) not in sys.path:  # allow `python examples/penguin/pipeline.py` from a checkout
    sys.path.insert(0, str(REPO))

from examples.common import (  # noqa: E402
    DEFAULT_STATS_OPTIONS_KWARGS,
    add_runner_arguments,
    beam_args_from,
    parse_args,
    print_summary,
    run_or_compile,
)

PIPELINE_NAME = "penguin-addons"
MODEL_NAME = "penguin"
MODULE_FILE = str(HERE / "penguin_module.py")
FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]


def prepare_data(data_root: Path) -> Path:
    """Write the palmerpenguins data as the TFX penguin CSV (4 numeric features, int label)."""
    import palmerpenguins

    df = palmerpenguins.load_penguins().dropna().reset_index(drop=True)
    df = df.rename(
        columns={"bill_length_mm": "culmen_length_mm", "bill_depth_mm": "culmen_depth_mm"}
    )
    df = df[["species", *FEATURES]].copy()
    df["species"] = df["species"].map({"Adelie": 0, "Chinstrap": 1, "Gentoo": 2}).astype(int)
    df[["flipper_length_mm", "body_mass_g"]] = df[["flipper_length_mm", "body_mass_g"]].astype(
        float
    )
    data_root.mkdir(parents=True, exist_ok=True)
    target = data_root / "penguins.csv"
    text = df.to_csv(index=False)
    # Rewrite only on change: ExampleGen fingerprints files by size and mtime, and an
    # untouched file lets a re-run hit TFX's cache.
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return data_root


def standard_components(
    data_root: str,
    train_steps: int = 100,
    accuracy_floor: float = 0.6,
    registry_uri: Optional[str] = None,
    kubeflow: bool = False,
) -> Dict[str, object]:
    """The standard stages up to Evaluator (plus the registry champion resolver), by role.

    The eighth stage, the stock Pusher, is added by :func:`create_pipeline` because it is fed
    by our BlessingGate's blessing. Evaluator's baseline is the model the ``champion`` alias
    of ``registry_uri`` points at (:func:`registry_champion_resolver`; ``kubeflow=True``
    builds its RegistryChampion component, which KubeflowV2DagRunner compiles);
    ``registry_uri`` defaults to ``registry/`` next to ``data_root``.
    """
    import tensorflow_data_validation as tfdv
    import tensorflow_model_analysis as tfma
    from tfx import v1 as tfx

    from tfx_addons_lab.components import registry_champion_resolver

    example_gen = tfx.components.CsvExampleGen(input_base=data_root)
    statistics_gen = tfx.components.StatisticsGen(
        examples=example_gen.outputs["examples"],
        stats_options=tfdv.StatsOptions(**DEFAULT_STATS_OPTIONS_KWARGS),
    )
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True
    )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        module_file=MODULE_FILE,
    )
    trainer = tfx.components.Trainer(
        module_file=MODULE_FILE,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=5),
    )
    # The champion is what the registry's alias says (rollback/promote included), never the
    # candidate itself: an unchanged re-run gets no baseline, as the first run did.
    model_resolver = registry_champion_resolver(
        trainer,
        registry_uri or str(Path(data_root).resolve().parent / "registry"),
        MODEL_NAME,
        alias="champion",
        kubeflow=kubeflow,
    )
    eval_config = tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key="species_xf",
                preprocessing_function_names=["transform_features"],
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(
                        class_name="SparseCategoricalAccuracy",
                        threshold=tfma.MetricThreshold(
                            value_threshold=tfma.GenericValueThreshold(
                                lower_bound={"value": accuracy_floor}
                            ),
                            change_threshold=tfma.GenericChangeThreshold(
                                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                absolute={"value": -1e-10},
                            ),
                        ),
                    ),
                    tfma.MetricConfig(class_name="ExampleCount"),
                ]
            )
        ],
    )
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=eval_config,
    )
    return {
        "example_gen": example_gen,
        "statistics_gen": statistics_gen,
        "schema_gen": schema_gen,
        "example_validator": example_validator,
        "transform": transform,
        "trainer": trainer,
        "model_resolver": model_resolver,
        "evaluator": evaluator,
    }


def create_pipeline(
    output_dir: str,
    data_root: Optional[str] = None,
    train_steps: int = 100,
    accuracy_floor: float = 0.6,
    beam_pipeline_args: Optional[Sequence[str]] = None,
    enable_cache: bool = True,
    metadata_path: Optional[str] = None,
    kubeflow: bool = False,
):
    """Build the penguin pipeline with our DriftValidator, BlessingGate and RegistryPusher.

    Args:
      output_dir: everything goes below it: ``pipeline_root/``, ``metadata.sqlite``,
        ``registry/`` (the embedded filesystem registry) and ``serving/`` (stock Pusher).
      data_root: folder holding the CSV; default ``<output_dir>/data`` (written on demand).
      train_steps: Trainer steps (100 gives ~0.95 accuracy on penguins).
      accuracy_floor: the TFMA and gate floor on ``sparse_categorical_accuracy``.
      beam_pipeline_args: passed to every Beam-based component, e.g.
        ``["--direct_running_mode=multi_processing", "--direct_num_workers=2"]``.
      enable_cache: re-running with unchanged inputs reuses cached results.
      metadata_path: the SQLite ML Metadata file; default ``<output_dir>/metadata.sqlite``.
      kubeflow: build the champion as the RegistryChampion component (for
        KubeflowV2DagRunner / Vertex AI, which compile only stock resolver strategies) and
        let RegistryPusher record the pipeline job's name as the run id.
    """
    from tfx import v1 as tfx

    from tfx_addons_lab.components import BlessingGate, DriftValidator, RegistryPusher

    out = Path(output_dir).resolve()
    data = Path(data_root) if data_root else prepare_data(out / "data")
    registry_uri = str(out / "registry")
    std = standard_components(str(data), train_steps, accuracy_floor, registry_uri, kubeflow)

    # Training/serving skew: the eval split stands in for serving traffic.
    drift = DriftValidator(
        statistics=std["statistics_gen"].outputs["statistics"],
        schema=std["schema_gen"].outputs["schema"],
        comparisons=[{"current": "eval", "baseline": "train"}],
        drift_config={"drift_share": 0.5},
        fail_on_drift=False,
    )
    gate = BlessingGate(
        model=std["trainer"].outputs["model"],
        model_blessing=std["evaluator"].outputs["blessing"],
        evaluation=std["evaluator"].outputs["evaluation"],
        drift_report=drift.outputs["drift_report"],
        anomalies=std["example_validator"].outputs["anomalies"],
        baseline_model=std["model_resolver"].outputs["model"],
        metric_thresholds={"sparse_categorical_accuracy": {"lower_bound": accuracy_floor}},
        require_model_blessing=True,
        require_no_drift=True,
        require_no_anomalies=True,
        no_baseline_policy="require_floors",
    )
    registry_pusher = RegistryPusher(
        model=std["trainer"].outputs["model"],
        model_blessing=gate.outputs["blessing"],
        registry_uri=registry_uri,
        model_name=MODEL_NAME,
        aliases=["champion"],
        examples=std["example_gen"].outputs["examples"],
        # Vertex / Kubeflow v2: record the job's name as the run id (KFP placeholders)
        kubeflow=kubeflow,
    )
    # The stock Pusher consumes our gate's blessing unchanged.
    pusher = tfx.components.Pusher(
        model=std["trainer"].outputs["model"],
        model_blessing=gate.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=str(out / "serving"))
        ),
    )
    components: List[object] = [*std.values(), drift, gate, registry_pusher, pusher]
    return tfx.dsl.Pipeline(
        pipeline_name=PIPELINE_NAME,
        pipeline_root=str(out / "pipeline_root"),
        components=components,
        enable_cache=enable_cache,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(metadata_path or out / "metadata.sqlite")
        ),
        beam_pipeline_args=list(beam_pipeline_args or ["--direct_num_workers=1"]),
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output-dir",
        default=str(REPO / "out" / "penguin"),
        help="where the pipeline root, MLMD, registry and reports go",
    )
    parser.add_argument("--train-steps", type=int, default=100)
    add_runner_arguments(parser)
    args = parse_args(parser, argv)
    from tfx_addons_lab._tf_env import quiet_tensorflow

    quiet_tensorflow(verbose=args.verbose)
    started = time.time()
    pipeline = create_pipeline(
        args.output_dir,
        train_steps=args.train_steps,
        beam_pipeline_args=beam_args_from(args),
        enable_cache=not args.no_cache,
        kubeflow=bool(args.compile),
    )
    if run_or_compile(pipeline, args):
        return 0
    print_summary(
        Path(args.output_dir) / "metadata.sqlite",
        registry_model="penguin",
        registry_uri=str(Path(args.output_dir).resolve() / "registry"),
        elapsed=time.time() - started,
    )
    out = Path(args.output_dir).resolve()
    print(
        "next: tfx-addons-lab lineage --metadata "
        f"{out / 'metadata.sqlite'} --registry {out / 'registry'} penguin@champion"
    )
    return 0


if __name__ == "__main__":
    status = main()
    # Leave without interpreter teardown: TF 2.16 prints "Exception ignored in
    # AtomicFunction.__del__" tracebacks while it is garbage-collected at exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)

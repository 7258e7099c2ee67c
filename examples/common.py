"""Shared plumbing of the example pipelines: runner choice, Kubeflow compile, summary."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Optional

#: StatisticsGen options the drift methods need: 100 quantile buckets make ``ks`` and
#: ``wasserstein`` accurate to ~0.02; 1000 rank buckets keep every category of a feature.
DEFAULT_STATS_OPTIONS_KWARGS = {
    "num_quantiles_histogram_buckets": 100,
    "num_rank_histogram_buckets": 1000,
}

#: Beam arguments for two local worker processes (the Direct runner's multi-processing mode).
MULTI_PROCESSING_BEAM_ARGS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]

#: The container image a compiled Kubeflow/Vertex spec names; build it from this repo's
#: package (pip install tfx-addons-lab on top of gcr.io/tfx-oss-public/tfx:1.16.0).
DEFAULT_IMAGE = "gcr.io/tfx-oss-public/tfx:1.16.0"


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--runner``, ``--beam-args``, ``--multi-processing``, ``--compile``, ``--no-cache``."""
    parser.add_argument(
        "--runner",
        choices=["local", "beam"],
        default="local",
        help="LocalDagRunner (default) or BeamDagRunner",
    )
    parser.add_argument(
        "--beam-args",
        default="",
        help="Beam pipeline args for Beam-based components, e.g. "
        "'--runner=DataflowRunner --project=P --region=R "
        "--temp_location=gs://B/tmp' (Dataflow), '--runner=FlinkRunner "
        "--flink_master=HOST:8081', '--runner=SparkRunner ...'",
    )
    parser.add_argument(
        "--multi-processing",
        action="store_true",
        help="shorthand for " + " ".join(MULTI_PROCESSING_BEAM_ARGS),
    )
    parser.add_argument(
        "--compile",
        nargs=2,
        metavar=("TARGET", "PATH"),
        help="only compile: 'kubeflow PATH' writes the KFP v2 / Vertex AI spec",
    )
    parser.add_argument(
        "--image", default=DEFAULT_IMAGE, help="container image named in a compiled Kubeflow spec"
    )
    parser.add_argument("--no-cache", action="store_true", help="disable TFX caching")


def beam_args_from(args: argparse.Namespace) -> list:
    out = shlex.split(args.beam_args or "")
    if args.multi_processing:
        out += MULTI_PROCESSING_BEAM_ARGS
    return out or ["--direct_num_workers=1"]


def compile_kubeflow(pipeline, path: str, image: str = DEFAULT_IMAGE) -> Path:
    """Write the KFP v2 / Vertex AI pipeline spec of ``pipeline`` to ``path`` (offline)."""
    from tfx import v1 as tfx

    from tfx_addons_lab.errors import require

    require("kfp", "kfp", "compiling for Kubeflow Pipelines / Vertex AI")
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=str(target.parent),
        output_filename=target.name,
    )
    runner.run(pipeline, write_out=True)
    return target


def run_or_compile(pipeline, args: argparse.Namespace) -> bool:
    """Run ``pipeline`` with the chosen runner, or compile it; return True if only compiled."""
    from tfx import v1 as tfx

    if args.compile:
        target, path = args.compile
        if target != "kubeflow":
            raise SystemExit(f"--compile: unknown target {target!r}; the only target is 'kubeflow'")
        out = compile_kubeflow(pipeline, path, args.image)
        print(f"wrote the Kubeflow Pipelines v2 / Vertex AI spec: {out}")
        return True
    if args.runner == "beam":
        tfx.orchestration.experimental.BeamDagRunner().run(pipeline)
    else:
        tfx.orchestration.LocalDagRunner().run(pipeline)
    return False


def print_summary(
    metadata_path: Path,
    registry_uri: Optional[str] = None,
    registry_model: Optional[str] = None,
    elapsed: Optional[float] = None,
) -> dict:
    """Print what the run produced (gate checks, drift verdict, registry, reports); return it."""
    from tfx_addons_lab.summary import run_summary

    summary = run_summary(str(metadata_path), registry_uri=registry_uri, model_name=registry_model)
    print()
    print(summary.pop("text"))
    if elapsed is not None:
        print(f"finished in {elapsed:.0f} s")
    return json.loads(json.dumps(summary, default=str))

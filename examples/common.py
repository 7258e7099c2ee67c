"""Shared plumbing of the example pipelines: runner choice, Kubeflow compile, summary."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

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
        help="Beam pipeline args for Beam-based components, one quoted string, e.g. "
        "'--runner=DataflowRunner --project=P --region=R "
        "--temp_location=gs://B/tmp' (Dataflow), '--runner=FlinkRunner "
        "--flink_master=HOST:8081 --environment_type=LOOPBACK', '--runner=SparkRunner "
        "--spark_master_url=spark://HOST:7077 --environment_type=LOOPBACK'",
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
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="stream TFX/TensorFlow/Beam logs to the terminal instead of the log file",
    )


def normalize_beam_args(argv: Sequence[str]) -> List[str]:
    """Join ``--beam-args VALUE`` into ``--beam-args=VALUE`` so VALUE may start with ``--``.

    argparse takes a separate value that starts with ``--`` for an option: with
    ``--beam-args "--runner=DataflowRunner --project=P"`` it even matches our own ``--runner``
    (the text before ``=``) and fails with ``expected one argument``. The joined form is
    parsed as a value whatever it holds; ``--beam-args=...`` is left as it is.
    """
    out: List[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        if args[i] == "--beam-args" and i + 1 < len(args):
            out.append("--beam-args=" + args[i + 1])
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def parse_args(
    parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None
) -> argparse.Namespace:
    """``parser.parse_args`` that accepts ``--beam-args "--runner=... --opt=..."``."""
    return parser.parse_args(normalize_beam_args(sys.argv[1:] if argv is None else argv))


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


_PROGRESS = re.compile(r"(?:Component|node) (\S+) is (running|finished)\.")


@contextlib.contextmanager
def quiet_logs(log_path: Path, label: str, verbose: bool = False) -> Iterator[None]:
    """Send TFX/TF/Beam/pip output (fds 1 and 2) to ``log_path``; print progress lines instead.

    A pipeline run prints hundreds of log lines (user-module wheel builds, TF deprecation
    notices, absl INFO). Here they go to a log file, while a small thread turns the runner's
    "Component X is running/finished" lines into one progress line per component on the real
    terminal. ``verbose=True`` leaves everything on the terminal.
    """
    from tfx_addons_lab._tf_env import quiet_tensorflow

    quiet_tensorflow(verbose=verbose)
    if verbose:
        yield
        return
    import warnings

    from absl import logging as absl_logging

    warnings.filterwarnings("ignore")
    absl_logging.set_verbosity(absl_logging.INFO)  # the runner's progress lines, into the log
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
    log = open(log_path, "a", buffering=1)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    done = threading.Event()

    def follow() -> None:
        started = time.time()
        with open(log_path, errors="replace") as f:
            f.seek(0, os.SEEK_END)
            while True:
                line = f.readline()
                if not line:
                    if done.is_set():
                        return
                    time.sleep(0.2)
                    continue
                m = _PROGRESS.search(line)
                if m and m.group(2) == "finished":
                    terminal.write(f"[{label}] {time.time() - started:5.0f} s  {m.group(1)} done\n")

    thread = threading.Thread(target=follow, daemon=True)
    terminal.write(f"[{label}] running; full logs: {log_path}\n")
    thread.start()
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(0.3)
        done.set()
        thread.join(timeout=5)
        absl_logging.set_verbosity(absl_logging.WARNING)
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        log.close()
        terminal.close()


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
    log_path = Path(pipeline.pipeline_info.pipeline_root).parent / "pipeline.log"
    verbose = getattr(args, "verbose", False)
    try:
        with quiet_logs(log_path, pipeline.pipeline_info.pipeline_name, verbose):
            if args.runner == "beam":
                from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

                BeamDagRunner().run(pipeline)
            else:
                tfx.orchestration.LocalDagRunner().run(pipeline)
    except Exception as exc:
        if not verbose:
            sys.stderr.write(
                f"pipeline run failed: {type(exc).__name__}: {exc}\nfull logs: {log_path}\n"
            )
        raise
    return False


def print_summary(
    metadata_path: Path,
    registry_uri: Optional[str] = None,
    registry_model: Optional[str] = None,
    elapsed: Optional[float] = None,
) -> dict:
    """Print what the run produced (gate checks, drift verdict, registry, reports); return it."""
    from tfx_addons_lab.cli.summary import run_summary

    summary = run_summary(str(metadata_path), registry_uri=registry_uri, model_name=registry_model)
    print()
    print(summary.pop("text"))
    if elapsed is not None:
        print(f"finished in {elapsed:.0f} s")
    return json.loads(json.dumps(summary, default=str))

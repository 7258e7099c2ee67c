"""Benchmark the registries: push latency against a hand-written baseline, and throughput.

Usage::

    .venv/bin/python benchmarks/registry.py                 # ~50 MB SavedModel, 7 runs, 4 procs
    .venv/bin/python benchmarks/registry.py --size-mb 200 --runs 5 --procs 8 --pushes 20
    .venv/bin/python benchmarks/registry.py --only mlflow --mlflow-size-mb 1 --mlflow-runs 15

1. Builds a real TensorFlow SavedModel whose variable holds ``--size-mb`` of random float32.
2. Push latency: the median over ``--runs`` of ``FilesystemRegistry.push`` into a fresh registry
   (copy + sha256 of every file + manifest + atomic publish; with and without fsync) and of the
   bare copy routine ``_files.copy_tree`` (link-safe copy + sha256, no fsync) against
   ``shutil.copytree`` of the same folder on the same filesystem, in rotating order.
3. Throughput: ``--procs`` processes each pushing ``--pushes`` distinct ~``--small-mb`` MB models
   into one registry at the same time; prints pushes/s and checks the versions are 1..N.
4. MLflow (``--only mlflow`` for this part alone): starts ``mlflow server`` (SQLite store,
   served artifacts, 2 workers) on a loopback port, then times, in rotating order, the median
   over ``--mlflow-runs`` of ``MlflowRegistry.push`` of a ``--mlflow-size-mb`` SavedModel
   against what a user would write by hand against the same server with the same SavedModel:
   ``mlflow.start_run()`` + ``mlflow.log_artifacts`` + ``MlflowClient.create_model_version``
   (the baseline; ``mlflow.register_model`` cannot register a bare SavedModel on MLflow 3:
   ``runs:/`` needs an MLmodel file and the server refuses an artifact source without run_id). Every push gets a new
   ``source_uri``, so each one registers a new version (no idempotent shortcut). It also counts
   the HTTP requests of one push of each kind, and times ``push`` with a new
   ``MlflowRegistry`` each time (as the CLI and the RegistryPusher executor do).
   ``MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT=true`` for every case (a quiet baseline).

The numbers (and the load average before and after) are written to
``benchmarks/results/registry.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable, Dict, Iterator, List

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(RESULTS.parents[1]))  # the checkout: tests/registry/_helpers.py

from tests.registry._helpers import mlflow_requests  # noqa: E402


def build_saved_model(folder: Path, size_mb: int) -> Path:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    class Big(tf.Module):
        def __init__(self):
            n = size_mb * (1 << 20) // 4
            self.w = tf.Variable(np.random.default_rng(0).standard_normal(n, dtype=np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def __call__(self, x):
            return x * self.w[0]

    tf.saved_model.save(Big(), str(folder))
    return folder


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / (1 << 20)


def latency(model: Path, work: Path, runs: int) -> dict:
    from tfx_addons_lab.registry.filesystem import FilesystemRegistry

    def copytree(i: int) -> None:
        shutil.copytree(model, work / f"out-{i}")

    def push(fsync: bool):
        def run(i: int) -> None:
            FilesystemRegistry(str(work / f"out-{i}"), fsync=fsync).push("big", str(model))

        return run

    def sha256_only(i: int) -> None:
        from tfx_addons_lab.registry._files import hash_tree

        hash_tree(str(model))
        (work / f"out-{i}").mkdir()

    def copy_tree(i: int) -> None:
        from tfx_addons_lab.registry._files import copy_tree as ours

        ours(str(model), str(work / f"out-{i}"), fsync=False)

    cases = {
        "copytree": copytree,
        "copy_tree+sha256": copy_tree,
        "push (fsync)": push(True),
        "push (no fsync)": push(False),
        "sha256 only": sha256_only,
    }
    times = {k: [] for k in cases}
    labels = list(cases)
    for i in range(runs):
        # rotate the order so no case always runs first (page cache, writeback throttling)
        for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
            t = time.perf_counter()
            cases[label](i)
            times[label].append(time.perf_counter() - t)
            shutil.rmtree(work / f"out-{i}")
    return {k: statistics.median(v) for k, v in times.items()}


def _throughput_worker(args) -> int:
    root, worker, pushes, small_mb, go = args
    from tfx_addons_lab.registry import open_registry

    base = Path(root).parent / f"src-{worker}"
    models = []
    for i in range(pushes):
        folder = base / str(i)
        (folder / "variables").mkdir(parents=True)
        (folder / "variables" / "variables.data-00000-of-00001").write_bytes(
            os.urandom(int(small_mb * (1 << 20)))
        )
        (folder / "variables" / "variables.index").write_bytes(os.urandom(256))
        (folder / "saved_model.pb").write_bytes(os.urandom(4096))
        models.append(folder)
    while not os.path.exists(go):
        time.sleep(0.001)
    reg = open_registry(root)
    for folder in models:
        reg.push("small", str(folder))
    return pushes


def throughput(work: Path, procs: int, pushes: int, small_mb: float) -> tuple:
    from tfx_addons_lab.registry import open_registry

    root = str(work / "reg-throughput" / "registry")
    os.makedirs(Path(root).parent)
    go = str(work / "go")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool:
        pending = pool.map_async(
            _throughput_worker, [(root, w, pushes, small_mb, go) for w in range(procs)]
        )
        time.sleep(3.0)  # workers start and write their source models
        t = time.perf_counter()
        Path(go).touch()
        total = sum(pending.get())
        elapsed = time.perf_counter() - t
    numbers = [v.version for v in open_registry(root).list("small")]
    assert numbers == list(range(1, total + 1)), "versions must be 1..N"
    return total, elapsed


@contextlib.contextmanager
def mlflow_server(folder: Path) -> Iterator[str]:
    """``mlflow server`` (SQLite, served artifacts, 2 workers) on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder.mkdir(parents=True)
    exe = Path(sys.executable).with_name("mlflow")
    cmd = [str(exe), "server", "--backend-store-uri", f"sqlite:///{folder}/mlflow.db"]
    cmd += ["--artifacts-destination", str(folder / "artifacts"), "--serve-artifacts"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"mlflow server did not start: {folder / 'server.log'}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def mlflow_latency(model: Path, url: str, runs: int) -> dict:
    """Median seconds of our push and of a hand-written MLflow log-and-register; request counts."""
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    import mlflow
    from mlflow.tracking import MlflowClient

    from tfx_addons_lab.registry import open_registry

    uri = f"mlflow+{url}"
    reg = open_registry(uri)
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    mlflow.set_experiment("raw-mlflow")
    client.create_registered_model("raw")
    counter = iter(range(1 << 30))

    def raw() -> None:
        with mlflow.start_run() as run:
            mlflow.log_artifacts(str(model), "model")
        client.create_model_version(
            "raw", f"{run.info.artifact_uri}/model", run_id=run.info.run_id, await_creation_for=0
        )

    def ours() -> None:
        reg.push("ours", str(model), {"source_uri": f"bench://{next(counter)}"})

    def ours_fresh() -> None:
        open_registry(uri).push("ours", str(model), {"source_uri": f"bench://{next(counter)}"})

    cases: Dict[str, Callable[[], None]] = {
        "raw: log_artifacts + create_model_version": raw,
        "ours: MlflowRegistry.push": ours,
        "ours: push, new MlflowRegistry each time": ours_fresh,
    }
    for call in cases.values():  # warm-up: the model, the experiment, connections
        call()
    requests_made = {label: mlflow_requests(call) for label, call in cases.items()}
    times: Dict[str, List[float]] = {k: [] for k in cases}
    labels = list(cases)
    for i in range(runs):
        for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
            t = time.perf_counter()
            cases[label]()
            times[label].append(time.perf_counter() - t)
    return {
        "medians_s": {k: statistics.median(v) for k, v in times.items()},
        "times_s": times,
        "requests": requests_made,
    }


def report_mlflow(model: Path, work: Path, runs: int) -> dict:
    with mlflow_server(work / "mlflow-server") as url:
        result = mlflow_latency(model, url, runs)
    medians = result["medians_s"]
    base = medians["raw: log_artifacts + create_model_version"]
    print(f"MLflow push latency ({url} loopback server), median of {runs} runs:")
    for label, value in medians.items():
        count = len(result["requests"][label])
        print(
            f"  {label:42s} {value * 1000:8.1f} ms   ratio {value / base:5.2f}x   "
            f"{count:2d} HTTP requests"
        )
    for label, seen in result["requests"].items():
        print(f"  requests of {label}: {', '.join(seen)}")
    result["ratio_ours_vs_raw"] = medians["ours: MlflowRegistry.push"] / base
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--pushes", type=int, default=10)
    parser.add_argument("--small-mb", type=float, default=1.0)
    parser.add_argument("--workdir", default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--only", choices=("all", "filesystem", "mlflow"), default="all")
    parser.add_argument("--mlflow-size-mb", type=int, default=1)
    parser.add_argument("--mlflow-runs", type=int, default=15)
    parser.add_argument("--out", default=str(RESULTS / "registry.json"), help="results (JSON)")
    args = parser.parse_args(argv)

    results: dict = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_before": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    work = Path(tempfile.mkdtemp(prefix="registry-bench-", dir=args.workdir))
    try:
        if args.only in ("all", "filesystem"):
            model = build_saved_model(work / "saved_model", args.size_mb)
            print(f"SavedModel: {folder_mb(model):.1f} MB in {model}")
            medians = latency(model, work, args.runs)
            base = medians["copytree"]
            print(
                f"push latency, median of {args.runs} runs "
                "(sha256 only = reading + hashing, the floor):"
            )
            for label, value in medians.items():
                print(f"  {label:16s} {value * 1000:8.1f} ms   ratio {value / base:5.2f}x")
            total, elapsed = throughput(work, args.procs, args.pushes, args.small_mb)
            print(
                f"throughput: {total} pushes of {args.small_mb:g} MB models by {args.procs} "
                f"processes in {elapsed:.2f} s = {total / elapsed:.1f} pushes/s "
                f"(versions 1..{total}, no gaps)"
            )
            results["filesystem"] = {
                "size_mb": folder_mb(model),
                "runs": args.runs,
                "medians_s": medians,
                "throughput": {"pushes": total, "seconds": elapsed, "procs": args.procs},
            }
        if args.only in ("all", "mlflow"):
            import mlflow

            model = build_saved_model(work / "saved_model_mlflow", args.mlflow_size_mb)
            print(f"SavedModel for MLflow: {folder_mb(model):.1f} MB, mlflow {mlflow.__version__}")
            results["mlflow"] = report_mlflow(model, work, args.mlflow_runs)
            results["mlflow"].update(
                size_mb=folder_mb(model), runs=args.mlflow_runs, version=mlflow.__version__
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_average_after"] = os.getloadavg()
    print(
        f"load average before {results['load_average_before']}, after {results['load_average_after']}"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

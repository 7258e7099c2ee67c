"""Benchmark the filesystem registry: push latency vs ``shutil.copytree``, and throughput.

Usage::

    .venv/bin/python benchmarks/registry.py                 # ~50 MB SavedModel, 7 runs, 4 procs
    .venv/bin/python benchmarks/registry.py --size-mb 200 --runs 5 --procs 8 --pushes 20

1. Builds a real TensorFlow SavedModel whose variable holds ``--size-mb`` of random float32.
2. Push latency: the median over ``--runs`` of ``FilesystemRegistry.push`` into a fresh registry
   (copy + sha256 of every file + manifest + atomic publish; with and without fsync) and of the
   bare copy routine ``_files.copy_tree`` (link-safe copy + sha256, no fsync) against
   ``shutil.copytree`` of the same folder on the same filesystem, in rotating order.
3. Throughput: ``--procs`` processes each pushing ``--pushes`` distinct ~``--small-mb`` MB models
   into one registry at the same time; prints pushes/s and checks the versions are 1..N.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--pushes", type=int, default=10)
    parser.add_argument("--small-mb", type=float, default=1.0)
    parser.add_argument("--workdir", default=None, help="where to write (default: a temp dir)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="registry-bench-", dir=args.workdir))
    try:
        model = build_saved_model(work / "saved_model", args.size_mb)
        print(f"SavedModel: {folder_mb(model):.1f} MB in {model}")
        medians = latency(model, work, args.runs)
        base = medians["copytree"]
        print(
            f"push latency, median of {args.runs} runs (sha256 only = reading + hashing, the floor):"
        )
        for label, value in medians.items():
            print(f"  {label:16s} {value * 1000:8.1f} ms   ratio {value / base:5.2f}x")
        total, elapsed = throughput(work, args.procs, args.pushes, args.small_mb)
        print(
            f"throughput: {total} pushes of {args.small_mb:g} MB models by {args.procs} processes "
            f"in {elapsed:.2f} s = {total / elapsed:.1f} pushes/s (versions 1..{total}, no gaps)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

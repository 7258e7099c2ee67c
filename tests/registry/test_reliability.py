"""Reliability of the filesystem registry with real processes: concurrency and SIGKILL."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tfx_addons_lab.registry import filesystem, open_registry

from ._helpers import make_model, push_worker

WORKERS, PUSHES = 8, 25


def test_concurrent_pushes_get_unique_gap_free_versions(tmp_path):
    root = str(tmp_path / "registry")
    barrier = str(tmp_path / "go")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        pending = pool.map_async(push_worker, [(root, w, PUSHES, barrier) for w in range(WORKERS)])
        time.sleep(0.5)
        Path(barrier).touch()
        results = [item for chunk in pending.get(timeout=120) for item in chunk]

    total = WORKERS * PUSHES
    returned = sorted(v for v, _, _ in results)
    assert returned == list(range(1, total + 1)), "every push got its own number, no gaps"
    reg = open_registry(root)
    versions = reg.list("m")
    assert [v.version for v in versions] == list(range(1, total + 1))
    # each version holds exactly the model its pusher was told it got
    by_version = {v: (w, i) for v, w, i in results}
    for mv in versions:
        w, i = by_version[mv.version]
        assert (mv.metadata["worker"], mv.metadata["i"]) == (w, i)
        assert reg.verify("m", mv.version).ok
    # the alias history is a consistent chain of every set_alias call
    history = reg.alias_history("m", "champion")
    assert len(history) == WORKERS * (PUSHES // 5)
    assert history[0].previous is None
    for before, after in zip(history, history[1:], strict=False):
        assert after.previous == before.version
    assert reg.aliases("m")["champion"] == history[-1].version
    assert not os.listdir(Path(root) / "models" / "m" / ".staging")


def test_sigkill_at_random_points_leaves_no_partial_version(tmp_path, monkeypatch):
    root = str(tmp_path / "registry")
    model = make_model(tmp_path / "model", seed=7, files=40, size=64 * 1024)  # ~2.5 MB
    child = Path(__file__).with_name("_kill_child.py")
    rnd = random.Random(1234)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for attempt in range(20):
        proc = subprocess.Popen(
            [sys.executable, str(child), root, str(model), f"run{attempt}"],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rnd.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

    reg = open_registry(root)
    versions = reg.list("m")
    numbers = [v.version for v in versions]
    assert numbers == list(range(1, len(numbers) + 1))
    for mv in versions:
        result = reg.verify("m", mv.version)
        assert result.ok, result.mismatches
    champion = reg.aliases("m").get("champion")
    assert champion is None or champion in numbers
    # leftovers of killed pushers never show up as versions, and a later push cleans them
    leftovers = os.listdir(Path(root) / "models" / "m" / ".staging")
    assert leftovers, "some kills landed in the middle of a push (half-written staging folders)"
    # A tuning constant, not a mock: staging folders count as stale after 30 s in production;
    # 0 lets this test see the cleanup without sleeping 30 s.
    monkeypatch.setattr(filesystem, "STALE_MIN_AGE", 0.0)
    (model / "assets" / "push.txt").write_text("after-kills\n")  # new content: a new version
    after = reg.push("m", str(model), {"source_uri": "after-kills"})
    assert after.version == len(numbers) + 1
    assert reg.verify("m", after.version).ok
    assert os.listdir(Path(root) / "models" / "m" / ".staging") == []
    reg.set_alias("m", "champion", after.version)
    assert reg.get("m", "champion").version == after.version

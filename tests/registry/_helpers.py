"""Helpers shared by the registry tests (and their worker processes).

``benchmarks/registry.py`` imports :func:`mlflow_requests` from here too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, List


def make_model(folder: Path, seed: int, files: int = 3, size: int = 2048) -> Path:
    """A SavedModel-shaped folder with distinct content per ``seed``."""
    folder = Path(folder)
    (folder / "variables").mkdir(parents=True, exist_ok=True)
    (folder / "assets").mkdir(exist_ok=True)
    rnd = __import__("random").Random(seed)
    for i in range(files):
        (folder / "variables" / f"variables.data-{i:05d}-of-{files:05d}").write_bytes(
            rnd.randbytes(size)
        )
    (folder / "variables" / "variables.index").write_bytes(rnd.randbytes(64))
    (folder / "assets" / "vocab.txt").write_text(f"seed {seed}\n")
    (folder / "saved_model.pb").write_bytes(b"PB" + rnd.randbytes(128))
    return folder


def read_tree(folder: Path) -> Dict[str, bytes]:
    out = {}
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            path = Path(dirpath) / name
            out[str(path.relative_to(folder))] = path.read_bytes()
    return out


def push_worker(args) -> list:
    """Worker process: push ``count`` distinct models, set ``champion`` every 5th push."""
    root, worker, count, barrier_path = args
    import time

    from tfx_addons_lab.registry import open_registry

    while not os.path.exists(barrier_path):  # start all workers together
        time.sleep(0.005)
    reg = open_registry(root)
    out = []
    base = Path(root).parent / f"src-{worker}"
    for i in range(count):
        model = make_model(base / str(i), seed=worker * 1000 + i)
        mv = reg.push("m", str(model), {"worker": worker, "i": i})
        out.append((mv.version, worker, i))
        if i % 5 == 4:
            reg.set_alias("m", "champion", mv.version)
    return out


def mlflow_alias_worker(args) -> list:
    """Worker process: push ``count`` distinct small models to MLflow, promote each one."""
    uri, worker, count, barrier_path, tmp = args
    import time

    from tfx_addons_lab.registry import open_registry

    reg = open_registry(uri)
    models = [
        make_model(Path(tmp) / f"w{worker}-{i}", seed=5000 + worker * 100 + i, files=1, size=64)
        for i in range(count)
    ]
    while not os.path.exists(barrier_path):
        time.sleep(0.005)
    out = []
    for model in models:
        mv = reg.push("alias-race", str(model))
        entry = reg.set_alias("alias-race", "champion", mv.version)
        out.append((mv.version, entry.version, entry.set_at))
    return out


def mlflow_requests(call: Callable[[], object]) -> List[str]:
    """The HTTP requests (method and API path) that ``call`` sends to MLflow, in order.

    Artifact uploads read ``PUT artifact <path inside the run's artifacts>``.
    """
    import requests.sessions

    seen: List[str] = []
    original = requests.sessions.Session.request

    def request(self, method, url, *args, **kwargs):
        path = url.split("/api/2.0/", 1)[-1].split("?")[0]
        if path.startswith("mlflow-artifacts/"):
            path = "artifact " + path.split("/artifacts/", 2)[-1]
        seen.append(f"{method} {path}")
        return original(self, method, url, *args, **kwargs)

    requests.sessions.Session.request = request
    try:
        call()
    finally:
        requests.sessions.Session.request = original
    return seen

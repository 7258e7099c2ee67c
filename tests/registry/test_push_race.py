"""A push never follows a link (or opens a FIFO) swapped into the model folder while it runs.

A second process keeps replacing a folder of the source by a symlink to an outside folder,
a file by a symlink to an outside file, and a file by a FIFO, while pushes of ~300 files run.
Every push must either refuse (``InvalidInputError``) or publish only original bytes, and
``verify`` must agree with what was published. Both local layouts are tried.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.registry import open_registry

from ._helpers import read_tree

FILES_PER_FOLDER = 150
EVIL = b"EVIL-OUTSIDE-BYTES"


def _make_source(root: Path) -> dict:
    src = root / "src"
    for folder in ("variables", "assets"):
        (src / folder).mkdir(parents=True)
        for i in range(FILES_PER_FOLDER):
            (src / folder / f"f{i:04d}").write_bytes(f"{folder}-{i}-".encode() * 200)
    (src / "saved_model.pb").write_bytes(b"PB" * 1000)
    evil = root / "evil"
    evil.mkdir()
    for i in range(FILES_PER_FOLDER):
        (evil / f"f{i:04d}").write_bytes(EVIL * 10)
    (root / "stash").mkdir()
    return read_tree(src)


def _swapper(root: str, kind: str, stop_path: str) -> None:
    """Swap parts of ``root/src`` for links/FIFOs and back until ``stop_path`` exists."""
    src, evil, stash = (os.path.join(root, p) for p in ("src", "evil", "stash"))
    while not os.path.exists(stop_path):
        if kind == "dir-symlink":
            live, away = os.path.join(src, "variables"), os.path.join(stash, "variables")
            os.rename(live, away)
            os.symlink(evil, live)
            time.sleep(0.003)  # swapped most of the time: pushes meet the swap often
            os.unlink(live)
            os.rename(away, live)
        elif kind == "file-symlink":
            live, away = os.path.join(src, "assets", "f0007"), os.path.join(stash, "f0007")
            os.rename(live, away)
            os.symlink(os.path.join(evil, "f0007"), live)
            time.sleep(0.003)  # swapped most of the time: pushes meet the swap often
            os.unlink(live)
            os.rename(away, live)
        else:  # fifo
            live, away = os.path.join(src, "variables", "f0003"), os.path.join(stash, "f0003")
            os.rename(live, away)
            os.mkfifo(live)
            time.sleep(0.003)  # swapped most of the time: pushes meet the swap often
            os.unlink(live)
            os.rename(away, live)
        time.sleep(0.001)
        if not os.path.exists(stop_path + ".started"):
            open(stop_path + ".started", "w").close()


def _push_with_deadline(reg, name, src, source_uri, seconds=60.0):
    box: dict = {}

    def run():
        try:
            box["version"] = reg.push(name, src, {"source_uri": source_uri})
        except BaseException as exc:  # handed to the test thread below
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"push hung for {seconds} s (a FIFO was opened blocking?)"
    return box


@pytest.mark.parametrize("layout", ["file", "tfserving"])
@pytest.mark.parametrize("kind", ["dir-symlink", "file-symlink", "fifo"])
def test_swapped_link_or_fifo_is_never_followed(tmp_path, layout, kind):
    original = _make_source(tmp_path)
    uri = f"{layout}://{tmp_path}/registry"
    reg = open_registry(uri + "?fsync=false")
    stop = tmp_path / "stop"
    ctx = multiprocessing.get_context("fork")
    swapper = ctx.Process(target=_swapper, args=(str(tmp_path), kind, str(stop)))
    swapper.start()
    deadline = time.monotonic() + 60
    while not Path(str(stop) + ".started").exists():  # the swapper is running (busy machine)
        assert swapper.is_alive() and time.monotonic() < deadline, "the swapper did not start"
        time.sleep(0.01)
    refused, published, hits, pushes = 0, [], 0, 0
    try:
        # at least 12 pushes; more (up to 60) until the swapper has hit a push 3 times
        while pushes < 12 or (hits < 3 and pushes < 60):
            box = _push_with_deadline(reg, "m", str(tmp_path / "src"), f"run-{pushes}")
            pushes += 1
            if "error" in box:
                assert isinstance(box["error"], InvalidInputError), repr(box["error"])
                refused += 1
                hits += 1
            else:
                published.append(box["version"])
                hits += len(box["version"].checksums) != len(original)  # saw a folder away
    finally:
        stop.touch()
        swapper.join(10)
        if swapper.is_alive():
            swapper.kill()
    assert swapper.exitcode == 0, "the swapper process failed"
    assert refused + len(published) == pushes
    assert hits >= 1, "the swapper never hit a push: the race was not exercised"
    # identical content is one version (content-digest idempotency): pushes may share one
    assert [v.version for v in reg.list("m")] == sorted({v.version for v in published})
    assert len(original) == 2 * FILES_PER_FOLDER + 1
    for mv in published:
        stored = read_tree(Path(mv.uri))
        stored.pop(".tfx-addons-lab-manifest.json", None)
        for rel, data in stored.items():
            assert EVIL not in data, f"outside bytes published in {rel}"
            assert data == original[rel], f"{rel} differs from the original"
        assert set(mv.checksums) == set(stored)
        assert reg.verify("m", mv.version).ok
    # nothing of the outside folder was written anywhere in the registry
    for dirpath, _, names in os.walk(tmp_path / "registry"):
        for name in names:
            assert EVIL not in Path(dirpath, name).read_bytes()

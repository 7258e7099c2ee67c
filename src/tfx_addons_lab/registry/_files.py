"""File helpers of the registry: safe copy with checksums, verification, fsync, locks.

Symlink policy (shared by all backends that copy a local folder):

* a symlink inside ``model_dir`` whose target resolves *inside* ``model_dir`` is copied as the
  regular file (or folder) it points to -- published versions never contain symlinks;
* a symlink whose target resolves *outside* ``model_dir`` (``/etc/passwd``, ``../other``), a
  dangling symlink, a symlink loop and special files (FIFOs, sockets, devices) are rejected
  with :class:`InvalidInputError` before anything is published;
* :func:`verify_tree` never follows a symlink found in a stored version: it reports it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import threading
from queue import Queue
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from tfx_addons_lab.errors import InvalidInputError, RegistryError

CHUNK = 1 << 20
#: written last so a reader that polls for it (TF Serving) only sees complete versions
LAST_FILES = ("saved_model.pb",)


def tree_digest(checksums: Dict[str, str]) -> str:
    """One sha256 over ``path\\0sha256\\n`` lines of every file, sorted by path."""
    h = hashlib.sha256()
    for path in sorted(checksums):
        h.update(f"{path}\0{checksums[path]}\n".encode())
    return h.hexdigest()


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def plan_tree(model_dir: str) -> List[Tuple[str, str]]:
    """List ``(relative posix path, real source path)`` of every file to publish.

    Applies the symlink policy of this module; raises :class:`InvalidInputError` for a missing
    folder, an escaping/dangling symlink or a special file.
    """
    if not os.path.isdir(model_dir):
        raise InvalidInputError(f"model_dir {model_dir!r} is not an existing folder")
    root = os.path.realpath(model_dir)
    files: List[Tuple[str, str]] = []

    def walk(real_dir: str, rel_dir: str, seen: Tuple[str, ...]) -> None:
        try:
            entries = sorted(os.scandir(real_dir), key=lambda e: e.name)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read folder {real_dir!r} of the model: {exc}"
            ) from None
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            path = entry.path
            if entry.is_symlink():
                target = os.path.realpath(path)
                if not _within(target, root):
                    raise InvalidInputError(
                        f"model file {rel!r} is a symlink to {os.readlink(path)!r}, outside the "
                        f"model folder {model_dir!r}; the registry never follows links out of a "
                        "model: replace the link with a copy of the file"
                    )
                if not os.path.exists(target):
                    raise InvalidInputError(
                        f"model file {rel!r} is a dangling symlink ({os.readlink(path)!r}); "
                        "remove it or point it at a file inside the model folder"
                    )
                path = target
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError as exc:
                raise InvalidInputError(f"cannot read model file {rel!r}: {exc}") from None
            if stat.S_ISDIR(st.st_mode):
                if path in seen:
                    raise InvalidInputError(f"model folder {rel!r} is a symlink loop; remove it")
                walk(path, rel, seen + (path,))
            elif stat.S_ISREG(st.st_mode):
                files.append((rel, path))
            else:
                raise InvalidInputError(
                    f"model file {rel!r} is not a regular file or folder (FIFO, socket or "
                    "device); remove it from the model folder"
                )

    walk(root, "", (root,))
    return files


def _open_nofollow(path: str) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))


def hash_file(path: str) -> str:
    """sha256 of a regular file, refusing to follow a symlink at ``path``."""
    h = hashlib.sha256()
    fd = _open_nofollow(path)
    try:
        with os.fdopen(fd, "rb", buffering=0) as f:
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                h.update(view[:n])
    except BaseException:
        raise
    return h.hexdigest()


def _copy_and_hash(src: str, dst: str, fsync: bool) -> str:
    """Copy ``src`` to the new file ``dst`` and return the sha256 of the bytes written.

    Reading, hashing and writing overlap: a helper thread hashes each chunk while the main
    thread writes it (hashlib and file I/O release the GIL).
    """
    h = hashlib.sha256()
    fin = os.fdopen(_open_nofollow(src), "rb", buffering=0)
    fout = open(dst, "xb", buffering=0)  # noqa: SIM115 - closed below
    q: Queue[Optional[memoryview]] = Queue(maxsize=4)
    done = Queue(maxsize=8)

    def hasher() -> None:
        while True:
            item = q.get()
            if item is None:
                return
            h.update(item)
            done.put(item)

    worker = threading.Thread(target=hasher, daemon=True)
    worker.start()
    pool = [bytearray(CHUNK) for _ in range(6)]
    free = list(pool)
    try:
        while True:
            if not free:
                free.append(done.get().obj)  # type: ignore[union-attr]
            buf = free.pop()
            n = fin.readinto(buf)
            if not n:
                break
            view = memoryview(buf)[:n]
            q.put(view)
            fout.write(view)
        q.put(None)
        worker.join()
        if fsync:
            os.fsync(fout.fileno())
    finally:
        if worker.is_alive():
            q.put(None)
            worker.join()
        fin.close()
        fout.close()
    return h.hexdigest()


def copy_tree(
    model_dir: str,
    dest: str,
    fsync: bool = True,
    last: Sequence[str] = LAST_FILES,
    reserved: Sequence[str] = (),
) -> Dict[str, str]:
    """Copy ``model_dir`` into the new folder ``dest``; return ``{relative path: sha256}``.

    Files named in ``last`` (at the top level) are written after all others. Names in
    ``reserved`` (top level) are refused because the registry uses them itself.
    """
    plan = plan_tree(model_dir)
    for rel, _ in plan:
        if rel in reserved:
            raise InvalidInputError(
                f"model file {rel!r} has a name the registry reserves for itself; rename it"
            )
    plan.sort(key=lambda item: (item[0] in last, item[0]))
    os.makedirs(dest, exist_ok=False)
    checksums: Dict[str, str] = {}
    made = {""}
    for rel, src in plan:
        parent = rel.rpartition("/")[0]
        if parent not in made:
            os.makedirs(os.path.join(dest, *parent.split("/")), exist_ok=True)
            parts = parent.split("/")
            for i in range(1, len(parts) + 1):
                made.add("/".join(parts[:i]))
        checksums[rel] = _copy_and_hash(src, os.path.join(dest, *rel.split("/")), fsync)
    if fsync:
        for d in sorted(made, key=len, reverse=True):
            fsync_dir(os.path.join(dest, *d.split("/")) if d else dest)
    return checksums


def hash_tree(model_dir: str) -> Dict[str, str]:
    """``{relative path: sha256}`` of a folder under the symlink policy (reads only)."""
    return {rel: hash_file(src) for rel, src in plan_tree(model_dir)}


def verify_tree(folder: str, expected: Dict[str, str], ignore: Sequence[str] = ()) -> List[str]:
    """Compare the files of a stored version with ``expected``; return mismatch lines.

    Never follows symlinks: a symlink in a stored version is itself a mismatch.
    """
    problems: List[str] = []
    found: Dict[str, str] = {}
    if not os.path.isdir(folder) or os.path.islink(folder):
        return [f"missing: the version folder {folder}"]
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        rel_dir = os.path.relpath(dirpath, folder)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        for name in list(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                problems.append(f"symlink: {rel_dir + '/' if rel_dir else ''}{name}")
                dirnames.remove(name)
        for name in filenames:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if rel in ignore:
                continue
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                problems.append(f"symlink: {rel}")
                continue
            try:
                found[rel] = hash_file(path)
            except OSError as exc:
                problems.append(f"unreadable: {rel} ({exc.strerror})")
                found[rel] = ""
    for rel in sorted(expected):
        if rel not in found:
            problems.append(f"missing: {rel}")
        elif found[rel] and found[rel] != expected[rel]:
            problems.append(f"changed: {rel}")
    for rel in sorted(set(found) - set(expected)):
        problems.append(f"unexpected: {rel}")
    return problems


def fsync_dir(path: str) -> None:
    """fsync a folder so a rename/creation inside it survives a crash (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: str, payload: object, fsync: bool = True) -> None:
    """Write JSON to ``path`` via a temp file + fsync + ``os.replace`` (never half-written)."""
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    data = json.dumps(payload, indent=1, sort_keys=True).encode()
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        if fsync:
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if fsync:
        fsync_dir(os.path.dirname(path) or ".")


def read_json(path: str) -> Optional[dict]:
    """The JSON object in ``path``; None if the file does not exist."""
    try:
        fd = _open_nofollow(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RegistryError(f"{path} is a symlink; the registry does not follow it") from None
        raise
    with os.fdopen(fd, "rb") as f:
        data = f.read()
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise RegistryError(f"{path} is not valid JSON ({exc}); the registry is damaged") from None
    if not isinstance(value, dict):
        raise RegistryError(f"{path} does not hold a JSON object; the registry is damaged")
    return value


@contextlib.contextmanager
def file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created if needed).

    The kernel drops the lock when the holder dies, even by SIGKILL, so a killed process never
    leaves the registry locked.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

"""File helpers of the registry: link-safe copy with checksums, verification, fsync, locks.

Symlink policy (shared by all backends that copy a local folder):

* a symlink inside ``model_dir`` whose target resolves *inside* ``model_dir`` is copied as the
  regular file (or folder) it points to -- published versions never contain symlinks;
* a symlink whose target resolves *outside* ``model_dir`` (``/etc/passwd``, ``../other``), a
  dangling symlink, a symlink loop and special files (FIFOs, sockets, devices) are rejected
  with :class:`InvalidInputError`; the push publishes nothing;
* :func:`verify_tree` never follows a symlink found in a stored version: it reports it.

The copy never follows a link swapped in while it runs: folders are opened with
``O_DIRECTORY | O_NOFOLLOW`` and walked by file descriptor (``os.scandir(fd)``, ``dir_fd=``),
every file is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO swapped in cannot block the
open) and checked with ``fstat`` to be a regular file, and the sha256 recorded is the one of
the bytes actually written. A symlink that resolves inside the model is re-opened from the
model's root descriptor one component at a time, again without following links.
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
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from tfx_addons_lab.errors import InvalidInputError, RegistryError

CHUNK = 1 << 20
#: written last so a reader that polls for it (TF Serving) only sees complete versions
LAST_FILES = ("saved_model.pb",)

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC
_FILE_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
_MAX_DEPTH = 64


def tree_digest(checksums: Dict[str, str]) -> str:
    """One sha256 over ``path\\0sha256\\n`` lines of every file, sorted by path."""
    h = hashlib.sha256()
    for path in sorted(checksums):
        h.update(f"{path}\0{checksums[path]}\n".encode())
    return h.hexdigest()


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _special(rel: str) -> InvalidInputError:
    return InvalidInputError(
        f"model file {rel!r} is not a regular file or folder (FIFO, socket or device); "
        "remove it from the model folder"
    )


def _changed(rel: str) -> InvalidInputError:
    return InvalidInputError(
        f"model file {rel!r} became a symlink or changed type while it was being copied; "
        "the registry never follows links: push again once nothing modifies the model folder"
    )


class _Walker:
    """Walk a model folder by file descriptor and hand each regular file's fd to ``visit``."""

    def __init__(self, model_dir: str) -> None:
        if not os.path.isdir(model_dir):
            raise InvalidInputError(f"model_dir {model_dir!r} is not an existing folder")
        self.model_dir = model_dir
        self.root = os.path.realpath(model_dir)
        try:
            self.root_fd = os.open(self.root, _DIR_FLAGS)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot open model folder {model_dir!r}: {exc.strerror}"
            ) from None

    def close(self) -> None:
        os.close(self.root_fd)

    def _open_inside(self, parts: Sequence[str], rel: str) -> int:
        """Open ``root/parts...`` from the root fd without following any link on the way."""
        fd = os.dup(self.root_fd)
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                try:
                    nfd = os.open(part, _FILE_FLAGS if last else _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT, errno.ENXIO):
                        raise _changed(rel) from None
                    raise InvalidInputError(f"cannot read model file {rel!r}: {exc}") from None
                os.close(fd)
                fd = nfd
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _resolve_link(self, dir_fd: int, name: str, rel: str) -> int:
        """Apply the symlink policy to the link ``rel``; return an fd of its (inside) target."""
        path = os.path.join(self.root, *rel.split("/"))
        try:
            link = os.readlink(name, dir_fd=dir_fd)
        except OSError:
            raise _changed(rel) from None
        target = os.path.realpath(path)
        if not _within(target, self.root):
            raise InvalidInputError(
                f"model file {rel!r} is a symlink to {link!r}, outside the model folder "
                f"{self.model_dir!r}; the registry never follows links out of a model: replace "
                "the link with a copy of the file"
            )
        if not os.path.lexists(target) or os.path.islink(target):
            raise InvalidInputError(
                f"model file {rel!r} is a dangling symlink ({link!r}) or a symlink loop; "
                "remove it or point it at a file inside the model folder"
            )
        inner = os.path.relpath(target, self.root)
        parts = [] if inner == "." else inner.split(os.sep)
        if not parts:
            return os.dup(self.root_fd)
        return self._open_inside(parts, rel)

    def walk(
        self,
        visit: Callable[[str, int, os.stat_result], None],
        enter: Callable[[str], None] = lambda rel: None,
        last: Sequence[str] = (),
        reserved: Sequence[str] = (),
    ) -> None:
        """Call ``enter(rel_dir)`` for every folder, ``visit(rel, fd, st)`` for every file.

        Files of the top level named in ``last`` are visited after everything else; names in
        ``reserved`` (top level) are refused. ``fd`` is closed after ``visit`` returns.
        """
        self._walk(os.dup(self.root_fd), "", set(), visit, enter, set(last), set(reserved))

    def _walk(self, dir_fd, rel_dir, stack: Set[Tuple[int, int]], visit, enter, last, reserved):
        try:
            st = os.fstat(dir_fd)
            key = (st.st_dev, st.st_ino)
            if key in stack or len(stack) > _MAX_DEPTH:
                raise InvalidInputError(
                    f"model folder {rel_dir!r} is a symlink loop (or nested too deep); remove it"
                )
            try:
                with os.scandir(dir_fd) as it:
                    names = sorted(e.name for e in it)
            except OSError as exc:
                raise InvalidInputError(
                    f"cannot read folder {rel_dir or '.'!r} of the model: {exc.strerror}"
                ) from None
            if not rel_dir:
                for name in names:
                    if name in reserved:
                        raise InvalidInputError(
                            f"model file {name!r} has a name the registry reserves for itself; "
                            "rename it"
                        )
                names.sort(key=lambda n: (n in last, n))
            enter(rel_dir)
            for name in names:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                try:
                    lst = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not (
                    stat.S_ISREG(lst.st_mode)
                    or stat.S_ISDIR(lst.st_mode)
                    or stat.S_ISLNK(lst.st_mode)
                ):
                    raise _special(rel)  # never open a device or a FIFO
                try:
                    fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
                except FileNotFoundError:
                    continue  # removed meanwhile: nothing of it is published
                except OSError as exc:
                    if exc.errno == errno.ELOOP:  # a symlink (now)
                        fd = self._resolve_link(dir_fd, name, rel)
                    elif exc.errno == errno.ENXIO:  # a socket or a FIFO without writer
                        raise _special(rel) from None
                    else:
                        raise InvalidInputError(
                            f"cannot read model file {rel!r}: {exc.strerror}"
                        ) from None
                try:
                    fst = os.fstat(fd)
                    if stat.S_ISDIR(fst.st_mode):
                        sub, fd = fd, -1
                        self._walk(sub, rel, stack | {key}, visit, enter, last, reserved)
                    elif stat.S_ISREG(fst.st_mode):
                        visit(rel, fd, fst)
                    else:
                        raise _special(rel)
                finally:
                    if fd >= 0:
                        os.close(fd)
        finally:
            os.close(dir_fd)


def _read_chunks(fd: int) -> Iterator[bytes]:
    """The bytes of the regular file ``fd`` (opened with O_NONBLOCK, harmless for files)."""
    while True:
        data = os.read(fd, CHUNK)
        if not data:
            return
        yield data


def _walk_model(model_dir: str, visit, enter=lambda rel: None, last=(), reserved=()) -> None:
    walker = _Walker(model_dir)
    try:
        walker.walk(visit, enter, last, reserved)
    finally:
        walker.close()


def plan_tree(model_dir: str) -> List[str]:
    """The relative posix paths of every file a push of ``model_dir`` would publish.

    Applies the symlink policy of this module (reads names only, no content); raises
    :class:`InvalidInputError` for a missing folder, an escaping/dangling symlink or a
    special file.
    """
    files: List[str] = []
    _walk_model(model_dir, lambda rel, fd, st: files.append(rel))
    return files


def hash_file(path: str) -> str:
    """sha256 of the regular file at ``path``; refuses a symlink, FIFO, socket or device."""
    fd = os.open(path, _FILE_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        h = hashlib.sha256()
        for data in _read_chunks(fd):
            h.update(data)
        return h.hexdigest()
    finally:
        os.close(fd)


def copy_tree(
    model_dir: str,
    dest: str,
    fsync: bool = True,
    last: Sequence[str] = LAST_FILES,
    reserved: Sequence[str] = (),
) -> Dict[str, str]:
    """Copy ``model_dir`` into the new folder ``dest``; return ``{relative path: sha256}``.

    Each file is read once from the descriptor that was checked to be a regular file, and
    the sha256 is taken of the very bytes written. Files named in ``last`` (at the top level)
    are written after all others; names in ``reserved`` (top level) are refused because the
    registry uses them itself. On any refusal ``dest`` is removed and nothing is returned.
    """
    import shutil

    checksums: Dict[str, str] = {}
    made: List[str] = []

    def enter(rel_dir: str) -> None:
        if rel_dir:
            path = os.path.join(dest, *rel_dir.split("/"))
            os.mkdir(path)
        else:
            path = dest
            os.makedirs(path)
        made.append(path)

    def visit(rel: str, fd: int, st: os.stat_result) -> None:
        h = hashlib.sha256()
        with open(os.path.join(dest, *rel.split("/")), "xb") as out:
            for data in _read_chunks(fd):
                h.update(data)
                out.write(data)
            if fsync:
                out.flush()
                os.fsync(out.fileno())
        checksums[rel] = h.hexdigest()

    if os.path.lexists(dest):
        raise FileExistsError(errno.EEXIST, "destination exists", dest)
    try:
        _walk_model(model_dir, visit, enter, last, reserved)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    if fsync:
        for path in reversed(made):
            fsync_dir(path)
    return checksums


def hash_tree(model_dir: str) -> Dict[str, str]:
    """``{relative path: sha256}`` of a folder under the symlink policy (reads only)."""
    checksums: Dict[str, str] = {}

    def visit(rel: str, fd: int, st: os.stat_result) -> None:
        h = hashlib.sha256()
        for data in _read_chunks(fd):
            h.update(data)
        checksums[rel] = h.hexdigest()

    _walk_model(model_dir, visit)
    return checksums


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
    write_bytes_atomic(path, json.dumps(payload, indent=1, sort_keys=True).encode(), fsync)


def write_bytes_atomic(path: str, data: bytes, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` via a temp file + fsync + ``os.replace`` (never half-written).

    A reader (TF Serving polling its config file) sees the old file or the new one, never a
    mix; the temp file sits beside ``path`` so the rename stays on one filesystem.
    """
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync:
        fsync_dir(os.path.dirname(path) or ".")


def read_json(path: str) -> Optional[dict]:
    """The JSON object in ``path``; None if the file does not exist."""
    try:
        fd = os.open(path, _FILE_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RegistryError(f"{path} is a symlink; the registry does not follow it") from None
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise RegistryError(f"{path} is not a regular file; the registry is damaged")
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

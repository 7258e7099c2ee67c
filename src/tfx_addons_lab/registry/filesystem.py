"""The embedded filesystem registry (the default backend): a folder any process can share.

Layout (``FilesystemRegistry``)::

    <root>/registry.json                      format marker
    <root>/models/<name>/versions/<n>/        one published version (immutable)
        manifest.json                         name, version, created_at, metadata, checksums
        model/...                             the model files (SavedModel: saved_model.pb, ...)
    <root>/models/<name>/aliases.json         {"aliases": {...}, "history": {alias: [...]}}
    <root>/models/<name>/.lock                fcntl lock: version numbers and aliases
    <root>/models/<name>/.staging/            pushes in progress (never read)

How a push stays safe with many writers and with writers killed at any instant:

1. the model is copied (checksummed on the fly) into a private folder under ``.staging`` and
   fsynced; the pusher holds a ``flock`` on ``.staging/<token>.lock`` meanwhile;
2. under the per-model lock, the next number ``n`` = highest published + 1 is chosen, the
   manifest is written into the staging folder, and the folder is renamed to ``versions/<n>``
   in one atomic ``rename``; the lock makes numbers gap-free and unique;
3. readers list only ``versions/<n>`` folders holding a manifest, so a version is either
   absent or complete. A killed pusher leaves only its staging folder; the next push removes
   staging folders whose owner lock is free (their owner is dead).

Aliases live in ``aliases.json``, rewritten under the same lock with write-temp + fsync +
``os.replace``; every change is appended to the alias history.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
import time
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qs

from tfx_addons_lab.errors import InvalidInputError, RegistryError
from tfx_addons_lab.registry import _files
from tfx_addons_lab.registry.base import (
    AliasEntry,
    ModelRegistry,
    ModelVersion,
    VerifyResult,
    check_metadata,
    iso_utc,
    rollback_target,
    utc_now,
    validate_alias,
    validate_name,
    validate_version,
)

FORMAT = "tfx_addons_lab.registry.filesystem/1"
#: staging folders whose owner is gone are removed once they are this old (seconds)
STALE_MIN_AGE = 30.0
#: staging folders without an owner lock file are removed once they are this old (seconds)
ORPHAN_MAX_AGE = 6 * 3600.0


def path_from_uri(uri: str, scheme: str) -> Tuple[str, Dict[str, str]]:
    """Split ``scheme:///abs/path?opt=v`` / ``scheme://rel/path`` / a plain path."""
    options: Dict[str, str] = {}
    prefix = f"{scheme}://"
    if uri.startswith(prefix):
        rest = uri[len(prefix) :]
        if "?" in rest:
            rest, _, query = rest.partition("?")
            options = {k: v[-1] for k, v in parse_qs(query).items()}
        if rest.startswith("localhost/"):
            rest = rest[len("localhost") :]
        path = rest
    elif "://" in uri:
        raise InvalidInputError(f"registry URI {uri!r} is not a {scheme}:// URI")
    else:
        path = uri
    if not path:
        raise InvalidInputError(f"registry URI {uri!r} names no folder")
    return path, options


def _flag(options: Dict[str, str], key: str, default: bool) -> bool:
    if key not in options:
        return default
    value = options[key].lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise InvalidInputError(f"registry URI option {key}={options[key]!r} must be true or false")


class FilesystemRegistry(ModelRegistry):
    """A model registry in a local (or shared POSIX) folder.

    Args:
      root: the registry folder (created on first push).
      fsync: fsync every written file and folder before publishing (default). Turn off
        (``file:///path?fsync=false``) to trade power-loss durability for speed; a killed
        process still never leaves a half-written version either way.
    """

    SCHEME = "file"
    MANIFEST = "manifest.json"
    PAYLOAD = "model"  # sub-folder of a version holding the model files ("" = the version dir)
    META = ""  # sub-folder of a model folder holding aliases, lock and staging

    def __init__(self, root: str, fsync: bool = True, uri: Optional[str] = None) -> None:
        if not root:
            raise InvalidInputError("registry root folder is empty; give a folder path")
        self.root = os.path.abspath(os.path.expanduser(str(root)))
        self.fsync = fsync
        self.uri = uri or self.root
        self._manifests: Dict[Tuple[str, int], dict] = {}

    @classmethod
    def from_uri(cls, uri: str) -> FilesystemRegistry:
        path, options = path_from_uri(uri, cls.SCHEME)
        unknown = set(options) - {"fsync"}
        if unknown:
            raise InvalidInputError(
                f"registry URI {uri!r} has unknown option(s) {sorted(unknown)}; known: fsync"
            )
        return cls(path, fsync=_flag(options, "fsync", True), uri=uri)

    # -- layout ----------------------------------------------------------------------------

    def _model_dir(self, name: str) -> str:
        return os.path.join(self.root, "models", name)

    def _versions_dir(self, name: str) -> str:
        return os.path.join(self._model_dir(name), "versions")

    def _meta_dir(self, name: str) -> str:
        return (
            os.path.join(self._model_dir(name), self.META) if self.META else self._model_dir(name)
        )

    def _version_dir(self, name: str, version: int) -> str:
        return os.path.join(self._versions_dir(name), str(version))

    def _payload_dir(self, version_dir: str) -> str:
        return os.path.join(version_dir, self.PAYLOAD) if self.PAYLOAD else version_dir

    def _lock_path(self, name: str) -> str:
        return os.path.join(self._meta_dir(name), ".lock")

    def _aliases_path(self, name: str) -> str:
        return os.path.join(self._meta_dir(name), "aliases.json")

    def _staging_dir(self, name: str) -> str:
        return os.path.join(self._meta_dir(name), ".staging")

    def _check_root(self) -> bool:
        """Whether the root exists; :class:`RegistryError` if it is not a folder."""
        try:
            st = os.stat(self.root)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise RegistryError(f"registry {self.uri} cannot be read: {exc.strerror}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise RegistryError(
                f"registry {self.uri} is a file, not a registry folder; give the folder that "
                "holds the registry (registry.json)"
            )
        return True

    def check_exists(self) -> None:
        self._check_root()  # a file: RegistryError
        self._require_folder(self.root, "registry.json", "a tfx-addons-lab registry")

    def _listdir(self, path: str) -> List[str]:
        """Entries of a registry folder; [] if missing, :class:`RegistryError` if unreadable."""
        try:
            return os.listdir(path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise RegistryError(
                f"registry {self.uri}: {path} cannot be listed ({exc.strerror}); the registry "
                "is damaged"
            ) from None

    def _init_root(self) -> None:
        self._check_root()
        os.makedirs(self.root, exist_ok=True)
        marker = os.path.join(self.root, "registry.json")
        if not os.path.exists(marker):
            _files.write_json_atomic(marker, {"format": FORMAT}, fsync=self.fsync)

    # -- reading ---------------------------------------------------------------------------

    def _version_numbers(self, name: str) -> List[int]:
        entries = self._listdir(self._versions_dir(name))
        numbers = []
        for entry in entries:
            if entry.isdigit() and entry == str(int(entry)) and int(entry) > 0:
                numbers.append(int(entry))
        return sorted(numbers)

    def _manifest(self, name: str, version: int) -> Optional[dict]:
        """The checked manifest of a version; None if absent; RegistryError if damaged."""
        key = (name, version)
        if key in self._manifests:
            return self._manifests[key]
        vdir = self._version_dir(name, version)
        if os.path.islink(vdir):
            raise RegistryError(f"{vdir} is a symlink; the registry does not follow it")
        path = os.path.join(vdir, self.MANIFEST)
        manifest = _files.read_json(path)
        if manifest is not None:
            _check_manifest(manifest, path, version)
            self._manifests[key] = manifest  # versions are immutable
        return manifest

    def _scan(self, name: str) -> List[Tuple[int, Optional[dict], Optional[str]]]:
        """``(n, manifest, None)`` per intact version, ``(n, None, why)`` per damaged one."""
        out: List[Tuple[int, Optional[dict], Optional[str]]] = []
        for n in self._version_numbers(name):
            try:
                manifest = self._manifest(name, n)
            except RegistryError as exc:
                out.append((n, None, str(exc)))
                continue
            if manifest is not None:
                out.append((n, manifest, None))
        return out

    def _published(self, name: str) -> List[Tuple[int, dict]]:
        return [(n, m) for n, m, _ in self._scan(name) if m is not None]

    def _to_version(
        self, name: str, n: int, manifest: Optional[dict], aliases: Dict[str, int], damaged=None
    ) -> ModelVersion:
        manifest = manifest or {}
        return ModelVersion(
            name=name,
            version=n,
            uri=self._payload_dir(self._version_dir(name, n)),
            metadata=dict(manifest.get("metadata") or {}),
            created_at=iso_utc(manifest.get("created_at")),
            checksums=dict(manifest.get("checksums") or {}),
            aliases=sorted(a for a, v in aliases.items() if v == n),
            damaged=damaged,
        )

    def _models_base(self) -> str:
        """The folder whose entries are the models (layouts override it)."""
        return os.path.join(self.root, "models")

    def _is_model(self, name: str) -> bool:
        """Whether the valid entry ``name`` of :meth:`_models_base` is a published model."""
        return bool(self._version_numbers(name))

    def list_models(self) -> List[str]:
        if not self._check_root():
            return []
        names = self._listdir(self._models_base())
        out = []
        for name in names:
            try:
                validate_name(name)
            except InvalidInputError:
                continue
            if self._is_model(name):
                out.append(name)
        return sorted(out)

    def list(self, name: str) -> List[ModelVersion]:
        """All versions, oldest first; damaged ones carry ``damaged`` (and no content)."""
        validate_name(name)
        self._check_root()
        aliases = self.aliases(name)
        return [self._to_version(name, n, m, aliases, why) for n, m, why in self._scan(name)]

    def _require_model(self, name: str) -> None:
        self._check_root()
        if not self._version_numbers(name):
            known = ", ".join(self.list_models()) or "none"
            raise RegistryError(
                f"model {name!r} not found in registry {self.uri} (models: {known})"
            )

    def get(self, name: str, version_or_alias: Union[int, str]) -> ModelVersion:
        validate_name(name)
        self._require_model(name)
        n = self._resolve_version(name, version_or_alias)
        try:
            manifest = self._manifest(name, n)
        except RegistryError as exc:
            raise RegistryError(
                f"version {n} of model {name!r} is damaged ({exc}); 'registry verify' reports "
                "it, push a new version"
            ) from None
        if manifest is None:
            have = ", ".join(str(v) for v, _, _ in self._scan(name))
            raise RegistryError(
                f"model {name!r} has no version {n} in registry {self.uri} (versions: {have})"
            )
        return self._to_version(name, n, manifest, self.aliases(name))

    def verify(self, name: str, version: Union[int, str]) -> VerifyResult:
        validate_name(name)
        self._require_model(name)
        n = self._resolve_version(name, version)
        try:
            self._manifest(name, n)
        except RegistryError as exc:
            return VerifyResult(name, n, False, [f"damaged: {exc}"], 0)
        mv = self.get(name, n)
        ignore = (self.MANIFEST,) if not self.PAYLOAD else ()
        problems = _files.verify_tree(mv.uri, mv.checksums, ignore=ignore)
        manifest = self._manifest(name, mv.version) or {}
        digest = manifest.get("content_digest")
        if digest and digest != _files.tree_digest(mv.checksums):
            problems.append("changed: manifest checksums (content digest differs)")
        return VerifyResult(
            name=name,
            version=mv.version,
            ok=not problems,
            mismatches=problems,
            checked_files=len(mv.checksums),
        )

    # -- pushing ---------------------------------------------------------------------------

    def _find_same(self, name: str, digest: str) -> Optional[int]:
        """The oldest intact version of ``name`` whose content digest is ``digest``."""
        for n, manifest in self._published(name):
            stored = manifest.get("content_digest") or _files.tree_digest(
                manifest.get("checksums") or {}
            )
            if stored == digest:
                return n
        return None

    def _same_source(self, name: str, source_uri: str) -> bool:
        return any(
            (manifest.get("metadata") or {}).get("source_uri") == source_uri
            for _, manifest in self._published(name)
        )

    def push(
        self, name: str, model_dir: str, metadata: Optional[Mapping[str, Any]] = None
    ) -> ModelVersion:
        validate_name(name)
        meta = check_metadata(metadata)
        model_dir = str(model_dir)
        self._check_root()
        if not os.path.isdir(model_dir):
            raise InvalidInputError(f"model_dir {model_dir!r} is not an existing folder")
        source_uri = str(meta.get("source_uri") or os.path.abspath(model_dir))
        meta["source_uri"] = source_uri

        # Same content as a published version -> that version, nothing written. When a
        # version came from the same place, hash first (likely a re-run: skip the copy);
        # otherwise the digest of the copy is compared under the lock below.
        if self._same_source(name, source_uri):
            same = self._find_same(name, _files.tree_digest(_files.hash_tree(model_dir)))
            if same is not None:
                return self.get(name, same)

        self._init_root()
        staging_root = self._staging_dir(name)
        os.makedirs(staging_root, exist_ok=True)
        os.makedirs(self._versions_dir(name), exist_ok=True)
        self._clean_staging(staging_root)

        token = f"{os.uname().nodename}-{os.getpid()}-{os.urandom(6).hex()}"
        owner_lock = os.path.join(staging_root, token + ".lock")
        owner_fd = os.open(owner_lock, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        fcntl.flock(owner_fd, fcntl.LOCK_EX)
        staging = os.path.join(staging_root, token)
        try:
            checksums = _files.copy_tree(
                model_dir,
                self._payload_dir(staging),
                fsync=self.fsync,
                reserved=() if self.PAYLOAD else (self.MANIFEST,),
            )
            digest = _files.tree_digest(checksums)
            with _files.file_lock(self._lock_path(name)):
                same = self._find_same(name, digest)
                if same is not None:
                    return self.get(name, same)
                numbers = self._version_numbers(name)
                n = (numbers[-1] + 1) if numbers else 1
                manifest = {
                    "format": FORMAT,
                    "name": name,
                    "version": n,
                    "created_at": utc_now(),
                    "metadata": meta,
                    "checksums": checksums,
                    "content_digest": digest,
                }
                _files.write_json_atomic(
                    os.path.join(staging, self.MANIFEST), manifest, fsync=self.fsync
                )
                target = self._version_dir(name, n)
                try:
                    os.rename(staging, target)
                except OSError as exc:  # pragma: no cover - only if someone bypassed the lock
                    if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                        raise RegistryError(
                            f"version {n} of model {name!r} appeared while locked; another "
                            f"writer does not use the registry lock ({self.uri})"
                        ) from None
                    raise
                if self.fsync:
                    _files.fsync_dir(self._versions_dir(name))
                self._manifests[(name, n)] = manifest
            return self._to_version(name, n, manifest, self.aliases(name))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            try:
                os.unlink(owner_lock)
            except OSError:
                pass
            os.close(owner_fd)

    def _clean_staging(self, staging_root: str) -> None:
        """Remove staging folders left by killed pushers (their owner lock is free)."""
        try:
            entries = os.listdir(staging_root)
        except FileNotFoundError:
            return
        now = time.time()
        for entry in entries:
            path = os.path.join(staging_root, entry)
            try:
                age = now - os.lstat(path).st_mtime
            except FileNotFoundError:
                continue
            if entry.endswith(".lock"):
                if age < STALE_MIN_AGE:
                    continue
                try:
                    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)  # owner alive
                    continue
                try:
                    shutil.rmtree(path[: -len(".lock")], ignore_errors=True)
                    os.unlink(path)
                except OSError:
                    pass
                finally:
                    os.close(fd)
            elif not os.path.exists(path + ".lock") and age > ORPHAN_MAX_AGE:
                shutil.rmtree(path, ignore_errors=True)

    # -- aliases ---------------------------------------------------------------------------

    def _read_aliases(self, name: str) -> dict:
        path = self._aliases_path(name)
        data = _files.read_json(path) or {}
        data.setdefault("aliases", {})
        data.setdefault("history", {})
        table, history = data["aliases"], data["history"]
        if not isinstance(table, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in table.values()
        ):
            raise RegistryError(f"{path}: 'aliases' is not an object of versions; it is damaged")
        if not isinstance(history, dict) or not all(isinstance(v, list) for v in history.values()):
            raise RegistryError(f"{path}: 'history' is not an object of lists; it is damaged")
        return data

    def aliases(self, name: str) -> Dict[str, int]:
        validate_name(name)
        return dict(self._read_aliases(name)["aliases"])

    def _entries(self, name: str, data: dict, alias: str) -> List[AliasEntry]:
        where = f"{self._aliases_path(name)} ({alias})"
        return [AliasEntry.from_dict(e, where) for e in data["history"].get(alias, [])]

    def alias_history(self, name: str, alias: str) -> List[AliasEntry]:
        validate_name(name)
        validate_alias(alias)
        return self._entries(name, self._read_aliases(name), alias)

    def history_aliases(self, name: str) -> List[str]:
        validate_name(name)
        data = self._read_aliases(name)
        return sorted(set(data["history"]) | set(data["aliases"]))

    def set_alias(self, name: str, alias: str, version: Union[int, str]) -> AliasEntry:
        validate_name(name)
        validate_alias(alias)
        return self._record_alias_change(name, alias, validate_version(version), "set", None, None)

    def _record_alias_change(
        self,
        name: str,
        alias: str,
        version: int,
        action: str,
        by: Optional[str],
        justification: Optional[str],
    ) -> AliasEntry:
        n = version
        self._require_model(name)
        if self._manifest(name, n) is None:
            raise RegistryError(f"model {name!r} has no version {n} in registry {self.uri}")
        with _files.file_lock(self._lock_path(name)):
            data = self._read_aliases(name)
            current = data["aliases"].get(alias)
            history = data["history"].setdefault(alias, [])
            if action == "set" and current == n and history:
                return AliasEntry.from_dict(history[-1], self._aliases_path(name))
            entry = AliasEntry(
                version=n,
                set_at=utc_now(),
                previous=current,
                action=action,
                by=by,
                justification=justification,
            )
            history.append(entry.to_dict())
            data["aliases"][alias] = n
            _files.write_json_atomic(self._aliases_path(name), data, fsync=self.fsync)
        self._aliases_changed(name)
        return entry

    def rollback(self, name: str, alias: str) -> ModelVersion:
        validate_name(name)
        validate_alias(alias)
        self._require_model(name)
        with _files.file_lock(self._lock_path(name)):
            data = self._read_aliases(name)
            current = data["aliases"].get(alias)
            target = rollback_target(self._entries(name, data, alias), current, name, alias)
            entry = AliasEntry(
                version=target, set_at=utc_now(), previous=current, action="rollback"
            )
            data["history"].setdefault(alias, []).append(entry.to_dict())
            data["aliases"][alias] = target
            _files.write_json_atomic(self._aliases_path(name), data, fsync=self.fsync)
        self._aliases_changed(name)
        return self.get(name, target)

    def _aliases_changed(self, name: str) -> None:
        """Called after every alias move of ``name`` (outside its lock); layouts override it."""


def _check_manifest(manifest: dict, path: str, version: int) -> None:
    """Raise :class:`RegistryError` naming the field if ``manifest`` is malformed."""

    def bad(field: str, want: str) -> RegistryError:
        got = type(manifest.get(field)).__name__
        return RegistryError(
            f"{path}: field {field!r} is {got}, expected {want}; the version is damaged"
        )

    number = manifest.get("version", version)
    if isinstance(number, bool) or number != version:
        raise bad("version", f"the number {version}")
    if not isinstance(manifest.get("metadata", {}), dict):
        raise bad("metadata", "an object")
    checksums = manifest.get("checksums")
    if not isinstance(checksums, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in checksums.items()
    ):
        raise bad("checksums", "an object of path: sha256 strings")
    if not isinstance(manifest.get("created_at", ""), str):
        raise bad("created_at", "an ISO 8601 string")
    if not isinstance(manifest.get("content_digest", ""), str):
        raise bad("content_digest", "a string")

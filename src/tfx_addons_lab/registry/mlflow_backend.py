"""The MLflow Model Registry backend (``mlflow+http://host:port``, ``mlflow+file:///path``...).

Needs the ``mlflow`` extra (``pip install 'tfx-addons-lab[mlflow]'``); mlflow is imported only
when a registry of this kind is opened.

How our operations map onto MLflow:

* ``push``: the model folder is copied under the symlink policy of
  :mod:`tfx_addons_lab.registry._files` (checksummed while copying, one read of every byte),
  logged as the artifacts ``model/`` of a run in the experiment ``tfx-addons-lab-registry``,
  then registered with ``create_model_version``. **MLflow allocates the version number** in its
  database, so concurrent pushers never share a number; when MLflow's own retries for
  concurrent registrations run out (the "Model Version creation error" race), the push
  retries. A push makes the requests a hand-written log-and-register makes, plus the search
  for an identical version and the upload of ``manifest.json``: the registered model is created
  only when ``create_model_version`` says it is missing, the experiment id is remembered by the
  registry object, the artifacts go to the repository named by ``create_run``'s answer (no
  ``get_run``), and all version tags travel in the ``create_model_version`` call.
* metadata, checksums, created-at and the content digest are model-version tags
  (``tfx_addons_lab.*``); the manifest is also logged as the run artifact ``manifest.json``
  (uploaded with the model, in the same ``log_artifacts`` call).
* aliases are MLflow aliases (``set_registered_model_alias``); their history, which MLflow does
  not keep, is append-only: **one registered-model tag per change**,
  ``tfx_addons_lab.alias_history.<alias>.<time_ns>-<random id>`` (a JSON entry), written
  *before* the alias moves and removed again if the move fails. Concurrent writers never
  overwrite each other's entries. :meth:`MlflowRegistry.rollback` replays the entries (see
  :func:`~tfx_addons_lab.registry.base.rollback_target`) and refuses when the live alias is not
  where the history says (a crash between the two steps), so it never moves an alias to a
  version that was not its previous holder.
* timeouts: every HTTP request to the server times out after ``timeout`` seconds (default
  :data:`DEFAULT_TIMEOUT`) and is retried ``retries`` times (default :data:`DEFAULT_RETRIES`),
  so an unreachable server fails in seconds with one line. Set them with the URI
  (``mlflow+http://host:5000?timeout=30&retries=3``) or MLflow's own variables
  ``MLFLOW_HTTP_REQUEST_TIMEOUT`` / ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` (the URI wins; they are
  process-wide, as MLflow reads them at every request).
* ``mlflow+file:///path`` is a local MLflow registry in ``path``: MLflow's SQLite store
  ``path/mlflow.db`` with artifacts in ``path/artifacts`` (MLflow 3 no longer opens its legacy
  file store by default); ``mlflow+sqlite:///...``, ``mlflow+postgresql://...`` pass through.
* ``verify`` downloads the version's artifacts and re-computes the checksums.

Limits: idempotency (same content digest -> the existing version, whatever the source) is
read-then-write over MLflow's API, so two *concurrent* pushes of the same content may both
register it. Two concurrent alias changes keep both history entries;
if their moves land in the opposite order of their entries, ``rollback`` refuses (history and
alias disagree) until the alias is promoted again. Entries are ordered by the writer's clock.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import shutil
import tempfile
import time
import uuid
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qsl, urlencode

from tfx_addons_lab.errors import InvalidInputError, RegistryError, TfxAddonsLabError, require
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

TAG_PREFIX = "tfx_addons_lab."
TAG_METADATA = TAG_PREFIX + "metadata"
TAG_CHECKSUMS = TAG_PREFIX + "checksums"
TAG_DIGEST = TAG_PREFIX + "content_digest"
TAG_SOURCE = TAG_PREFIX + "source_uri"
TAG_CREATED = TAG_PREFIX + "created_at"
TAG_HISTORY = TAG_PREFIX + "alias_history"
EXPERIMENT = "tfx-addons-lab-registry"
_TAG_LIMIT = 90_000
_CREATE_ATTEMPTS = 8
_MLFLOW_ALIAS_RE = re.compile(r"[A-Za-z0-9_-]+")
_ENTRY_KEY_RE = re.compile(r"(\d{20})-([0-9a-f]{12})\Z")

#: seconds before one HTTP request to the MLflow server gives up (MLflow's own default: 120)
DEFAULT_TIMEOUT = 10
#: retries of a failed HTTP request (MLflow's own default: 7, with exponential backoff)
DEFAULT_RETRIES = 1
_ENV_TIMEOUT = "MLFLOW_HTTP_REQUEST_TIMEOUT"
_ENV_RETRIES = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"


def _mlflow():
    return require("mlflow", "mlflow", "the MLflow registry backend")


def _int_option(uri: str, key: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise InvalidInputError(
            f"registry URI {uri!r}: {key}={value!r} must be a whole number from {low} to {high}"
        )
    return number


def _split_options(uri: str, tracking: str) -> Tuple[str, Dict[str, int]]:
    """Take ``timeout``/``retries`` out of the query of ``tracking``; keep any other query."""
    if "?" not in tracking:
        return tracking, {}
    base, _, query = tracking.partition("?")
    options: Dict[str, int] = {}
    rest = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "timeout":
            options["timeout"] = _int_option(uri, key, value, 1, 3600)
        elif key == "retries":
            options["retries"] = _int_option(uri, key, value, 0, 10)
        else:
            rest.append((key, value))
    return (base + "?" + urlencode(rest)) if rest else base, options


def _reason(text: str) -> Optional[str]:
    """A short reason if ``text`` describes a server that could not be reached, else None."""
    checks = (
        ("Connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("Read timed out", "timed out"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("Temporary failure in name resolution", "unknown host"),
        ("No route to host", "no route to host"),
        ("Network is unreachable", "network unreachable"),
        ("Max retries exceeded", "no answer"),
        ("Connection aborted", "connection aborted"),
        ("RemoteDisconnected", "connection closed"),
    )
    for needle, reason in checks:
        if needle in text:
            return reason
    return None


def _guard(what: str):
    """Turn any failure of MLflow (or the network) in a public method into one-line errors."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except TfxAddonsLabError:
                raise
            except Exception as exc:  # MlflowException, requests/urllib3 errors, OSError
                try:
                    label = what.format(*args)
                except (IndexError, KeyError):
                    label = what.split(" {")[0]
                raise self._wrap(exc, label) from None

        return wrapper

    return decorate


class MlflowRegistry(ModelRegistry):
    """A :class:`ModelRegistry` on MLflow's Model Registry.

    Args:
      tracking_uri: the MLflow tracking/registry URI (``http://host:5000``, ``file:///path``,
        ``sqlite:///mlflow.db``...).
      experiment: the experiment that holds the runs logging pushed models.
    """

    SCHEME = "mlflow"

    def __init__(
        self,
        tracking_uri: str,
        experiment: str = EXPERIMENT,
        uri: Optional[str] = None,
        artifact_location: Optional[str] = None,
        timeout: Optional[int] = None,
        retries: Optional[int] = None,
        local_folder: Optional[str] = None,
    ):
        # MLflow reads these at every request: an explicit value wins, then the user's
        # environment, then our defaults (seconds, not MLflow's 7 retries x 120 s)
        if timeout is not None:
            os.environ[_ENV_TIMEOUT] = str(int(timeout))
        else:
            os.environ.setdefault(_ENV_TIMEOUT, str(DEFAULT_TIMEOUT))
        if retries is not None:
            os.environ[_ENV_RETRIES] = str(int(retries))
        else:
            os.environ.setdefault(_ENV_RETRIES, str(DEFAULT_RETRIES))
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0.5")
        self._mlflow = _mlflow()
        # verify() downloads artifacts; MLflow's tqdm bar would garble CLI tables and logs
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        # set_terminated() would print "View run ..." to stdout, after a get_run to build it
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
        self.tracking_uri = tracking_uri
        self.uri = uri or f"mlflow+{tracking_uri}"
        self.experiment = experiment
        self.artifact_location = artifact_location
        # a local registry (mlflow+file:///path): the folder and its SQLite file are created by
        # the first use of the client, never by opening the registry (MlflowClient creates its
        # SQLite store when constructed, so a read of a mistyped path must not construct it)
        self._local_folder = local_folder
        self._client = None if local_folder else self._new_client()
        self._experiment_cache: Optional[str] = None

    def _new_client(self):
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    @property
    def client(self):
        """The ``MlflowClient``; for a local registry its folder is created on first use."""
        if self._client is None:
            try:
                os.makedirs(self._local_folder, exist_ok=True)
            except OSError as exc:
                raise RegistryError(
                    f"registry {self.uri}: cannot create {self._local_folder} ({exc.strerror})"
                ) from None
            self._client = self._new_client()
        return self._client

    def check_exists(self) -> None:
        """A local registry's folder must exist and hold ``mlflow.db`` (a server: no check)."""
        if self._local_folder is not None:
            self._require_folder(self._local_folder, "mlflow.db", "a local MLflow registry")

    @classmethod
    def from_uri(cls, uri: str) -> MlflowRegistry:
        if not uri.startswith("mlflow+") or "://" not in uri:
            raise InvalidInputError(
                f"MLflow registry URI {uri!r} must look like mlflow+http://host:port or "
                "mlflow+file:///path"
            )
        tracking, options = _split_options(uri, uri[len("mlflow+") :])
        if tracking.startswith("file:"):
            # MLflow 3 keeps its file store in maintenance mode (it refuses to open it by
            # default); a local registry folder is MLflow's recommended SQLite store instead.
            from tfx_addons_lab.registry.filesystem import path_from_uri

            path, _ = path_from_uri(tracking, "file")
            folder = os.path.abspath(os.path.expanduser(path))
            if os.path.exists(folder) and not os.path.isdir(folder):
                raise RegistryError(
                    f"registry {uri} is a file, not a registry folder; give the folder that "
                    "holds the local MLflow registry (mlflow.db)"
                )
            return cls(
                f"sqlite:///{folder}/mlflow.db",
                uri=uri,
                artifact_location=f"file://{folder}/artifacts",
                local_folder=folder,
                **options,
            )
        return cls(tracking, uri=uri, **options)

    # -- helpers ---------------------------------------------------------------------------

    def _is_missing(self, exc: Exception) -> bool:
        code = getattr(exc, "error_code", "")
        return "RESOURCE_DOES_NOT_EXIST" in str(code) or "NOT_FOUND" in str(code)

    def _wrap(self, exc: Exception, what: str) -> RegistryError:
        text = str(exc)
        reason = _reason(text) or _reason(repr(getattr(exc, "__cause__", "")))
        if reason is not None:
            timeout = os.environ.get(_ENV_TIMEOUT, DEFAULT_TIMEOUT)
            retries = os.environ.get(_ENV_RETRIES, DEFAULT_RETRIES)
            tries = f"{retries} retr{'y' if str(retries) == '1' else 'ies'}"
            return RegistryError(
                f"MLflow server {self.tracking_uri} is unreachable ({reason}) while {what}, "
                f"after {tries} with a {timeout} s timeout each; start the server or fix the URI "
                "(change the limits with ?timeout=SECONDS&retries=N)"
            )
        first = " ".join(text.split())[:300] or type(exc).__name__
        return RegistryError(f"MLflow registry {self.uri}: {what} failed: {first}")

    def _experiment_id(self, fresh: bool = False) -> str:
        """The id of the registry's experiment, created if missing; remembered unless ``fresh``."""
        if self._experiment_cache is not None and not fresh:
            return self._experiment_cache
        exp = self.client.get_experiment_by_name(self.experiment)
        if exp is not None:
            self._experiment_cache = exp.experiment_id
            return exp.experiment_id
        try:
            found = self.client.create_experiment(
                self.experiment, artifact_location=self.artifact_location
            )
        except self._mlflow.exceptions.MlflowException:
            exp = self.client.get_experiment_by_name(self.experiment)  # created concurrently
            if exp is None:
                raise
            found = exp.experiment_id
        self._experiment_cache = found
        return found

    def _create_model(self, name: str) -> None:
        """Create the registered model ``name`` (tagged as ours); one created meanwhile is fine."""
        try:
            self.client.create_registered_model(
                name, tags={TAG_PREFIX + "managed": "1"}, description="pushed by tfx-addons-lab"
            )
        except self._mlflow.exceptions.MlflowException as exc:
            if "ALREADY_EXISTS" not in str(getattr(exc, "error_code", "")):
                raise self._wrap(exc, f"creating model {name!r}") from None

    def _to_version(self, mv) -> ModelVersion:
        tags = dict(mv.tags or {})
        damaged = None
        try:
            metadata = json.loads(tags.get(TAG_METADATA) or "{}")
            if not isinstance(metadata, dict):
                raise ValueError(f"tag {TAG_METADATA} is not a JSON object")
            raw = tags.get(TAG_CHECKSUMS) or "{}"
            checksums = json.loads(raw) if raw != "@artifact" else self._artifact_checksums(mv)
            if not isinstance(checksums, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in checksums.items()
            ):
                raise ValueError(f"tag {TAG_CHECKSUMS} is not an object of sha256 strings")
        except ValueError as exc:
            metadata, checksums = {}, {}
            damaged = f"MLflow version {mv.version} of {mv.name!r}: {exc}; the version is damaged"
        metadata.setdefault("mlflow_source", mv.source)
        if mv.run_id:
            metadata.setdefault("mlflow_run_id", mv.run_id)
        created = tags.get(TAG_CREATED) or ""
        if not created and mv.creation_timestamp:
            import datetime as dt

            created = dt.datetime.fromtimestamp(
                mv.creation_timestamp / 1000, dt.timezone.utc
            ).isoformat()
        created = iso_utc(created)
        return ModelVersion(
            name=mv.name,
            version=int(mv.version),
            uri=f"models:/{mv.name}/{mv.version}",
            metadata=metadata,
            created_at=created,
            checksums=checksums,
            aliases=sorted(getattr(mv, "aliases", []) or []),
            damaged=damaged,
        )

    def _artifact_checksums(self, mv) -> Dict[str, str]:
        with tempfile.TemporaryDirectory() as tmp:
            path = self.client.download_artifacts(mv.run_id, "manifest.json", tmp)
            with open(path) as f:
                return json.load(f).get("checksums", {})

    def _search(self, name: str) -> List[Any]:
        out: List[Any] = []
        token = None
        while True:
            page = self.client.search_model_versions(
                f"name='{name}'", max_results=200, page_token=token
            )
            out.extend(page)
            token = getattr(page, "token", None)
            if not token:
                return out

    # -- reading ---------------------------------------------------------------------------

    @_guard("listing the models")
    def list_models(self) -> List[str]:
        names: List[str] = []
        token = None
        while True:
            page = self.client.search_registered_models(max_results=200, page_token=token)
            names.extend(m.name for m in page)
            token = getattr(page, "token", None)
            if not token:
                return sorted(n for n in names if self._search(n))

    @_guard("listing model {0!r}")
    def list(self, name: str) -> List[ModelVersion]:
        validate_name(name)
        try:
            found = self._search(name)
        except self._mlflow.exceptions.MlflowException as exc:
            raise self._wrap(exc, f"listing model {name!r}") from None
        return sorted((self._to_version(mv) for mv in found), key=lambda v: v.version)

    def _require_model(self, name: str) -> None:
        try:
            self.client.get_registered_model(name)
        except self._mlflow.exceptions.MlflowException as exc:
            if self._is_missing(exc):
                raise RegistryError(f"model {name!r} not found in registry {self.uri}") from None
            raise self._wrap(exc, f"reading model {name!r}") from None

    @_guard("reading {0!r} {1!r}")
    def get(self, name: str, version_or_alias: Union[int, str]) -> ModelVersion:
        validate_name(name)
        self._require_model(name)
        n = self._resolve_version(name, version_or_alias)
        try:
            return self._to_version(self.client.get_model_version(name, str(n)))
        except self._mlflow.exceptions.MlflowException as exc:
            if self._is_missing(exc):
                raise RegistryError(
                    f"model {name!r} has no version {n} in registry {self.uri}"
                ) from None
            raise self._wrap(exc, f"reading {name} version {n}") from None

    @_guard("reading the aliases of {0!r}")
    def aliases(self, name: str) -> Dict[str, int]:
        validate_name(name)
        try:
            model = self.client.get_registered_model(name)
        except self._mlflow.exceptions.MlflowException as exc:
            if self._is_missing(exc):
                return {}
            raise self._wrap(exc, f"reading model {name!r}") from None
        return {a: int(v) for a, v in (model.aliases or {}).items()}

    def _history_entries(self, name: str, alias: str) -> List[AliasEntry]:
        """The alias history: one registered-model tag per change, oldest first.

        Entries of the legacy single JSON tag (``tfx_addons_lab.alias_history``) come first.
        """
        model = self.client.get_registered_model(name)
        tags = dict(model.tags or {})
        where = f"MLflow model {name!r} alias {alias!r} history"
        entries: List[AliasEntry] = []
        legacy = tags.get(TAG_HISTORY)
        if legacy:
            try:
                old = json.loads(legacy).get(alias, [])
            except (ValueError, AttributeError):
                raise RegistryError(
                    f"{where}: tag {TAG_HISTORY} is not JSON; it is damaged"
                ) from None
            entries.extend(AliasEntry.from_dict(e, where) for e in old)
        prefix = f"{TAG_HISTORY}.{alias}."
        keyed = []
        for key, value in tags.items():
            if not key.startswith(prefix):
                continue
            match = _ENTRY_KEY_RE.fullmatch(key[len(prefix) :])
            if match is None:  # another alias whose name extends this one ("a" vs "a.b")
                continue
            try:
                data = json.loads(value)
            except ValueError:
                raise RegistryError(f"{where}: tag {key} is not JSON; it is damaged") from None
            keyed.append((match.group(1), match.group(2), AliasEntry.from_dict(data, where)))
        entries.extend(entry for _, _, entry in sorted(keyed, key=lambda k: (k[0], k[1])))
        return entries

    @_guard("reading the history of alias {1!r} of {0!r}")
    def alias_history(self, name: str, alias: str) -> List[AliasEntry]:
        validate_name(name)
        validate_alias(alias)
        self._require_model(name)
        return self._history_entries(name, alias)

    @_guard("verifying {0!r} version {1}")
    def verify(self, name: str, version: Union[int, str]) -> VerifyResult:
        mv = self.get(name, version)
        if mv.damaged:
            return VerifyResult(name, mv.version, False, [f"damaged: {mv.damaged}"], 0)
        if not mv.checksums:
            return VerifyResult(name, mv.version, False, ["missing: no checksums recorded"], 0)
        raw = self.client.get_model_version(name, str(mv.version))
        with tempfile.TemporaryDirectory() as tmp:
            try:
                local = self.client.download_artifacts(raw.run_id, "model", tmp)
            except self._mlflow.exceptions.MlflowException as exc:
                return VerifyResult(name, mv.version, False, [f"missing: artifacts ({exc})"], 0)
            problems = _files.verify_tree(local, mv.checksums)
        return VerifyResult(name, mv.version, not problems, problems, len(mv.checksums))

    # -- writing ---------------------------------------------------------------------------

    @_guard("pushing {0!r}")
    def push(
        self, name: str, model_dir: str, metadata: Optional[Mapping[str, Any]] = None
    ) -> ModelVersion:
        validate_name(name)
        meta = check_metadata(metadata)
        model_dir = str(model_dir)
        if not os.path.isdir(model_dir):
            raise InvalidInputError(f"model_dir {model_dir!r} is not an existing folder")
        meta["source_uri"] = str(meta.get("source_uri") or os.path.abspath(model_dir))
        metadata_tag = json.dumps(meta, sort_keys=True)
        if len(metadata_tag) >= _TAG_LIMIT:
            raise InvalidInputError(
                f"metadata of {name!r} is {len(metadata_tag)} characters as JSON; "
                f"MLflow tags hold at most {_TAG_LIMIT}: attach less metadata"
            )
        # staging/model is the copy (hashed while copied: the checksums are of the bytes that
        # are uploaded), staging/manifest.json goes up with it in one log_artifacts call
        staging = tempfile.mkdtemp(prefix="tfx-addons-lab-mlflow-")
        try:
            payload = os.path.join(staging, "model")
            checksums = _files.copy_tree(model_dir, payload, fsync=False)
            digest = _files.tree_digest(checksums)
            same = self._find_same(name, meta["source_uri"], digest)
            if same is not None:
                return same
            created_at = utc_now()
            manifest = {
                "name": name,
                "created_at": created_at,
                "metadata": meta,
                "checksums": checksums,
                "content_digest": digest,
            }
            with open(os.path.join(staging, "manifest.json"), "w") as f:
                json.dump(manifest, f, indent=2)
            checksum_tag = json.dumps(checksums, sort_keys=True)
            tags = {
                TAG_METADATA: metadata_tag,
                TAG_CHECKSUMS: checksum_tag if len(checksum_tag) < _TAG_LIMIT else "@artifact",
                TAG_DIGEST: digest,
                TAG_SOURCE: meta["source_uri"][:5000],
                TAG_CREATED: created_at,
            }
            run = self._log_run(name, staging, meta["source_uri"])
            source = run.info.artifact_uri.rstrip("/") + "/model"
            mv = self._create_version(name, source, run.info.run_id, tags)
            return self._to_version(mv)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _find_same(self, name: str, source_uri: str, digest: str) -> Optional[ModelVersion]:
        """The oldest intact version with content ``digest`` (any source: ``source_uri`` is
        accepted for the callers' signature and ignored; identical content is one version)."""
        try:
            found = self.client.search_model_versions(
                f"name='{name}' and tags.`{TAG_DIGEST}` = '{digest}'"
            )
        except self._mlflow.exceptions.MlflowException as exc:
            raise self._wrap(exc, f"searching versions of {name!r}") from None
        for mv in sorted(found, key=lambda m: int(m.version)):
            version = self._to_version(mv)
            if not version.damaged:
                return version
        return None

    def _log_run(self, name: str, staging: str, source_uri: str):
        """Create a run, upload the files of ``staging`` as its artifacts, finish it; return it."""
        try:
            run = self._create_run(name, source_uri)
            self._upload(run, staging)
            self.client.set_terminated(run.info.run_id)
            return run
        except self._mlflow.exceptions.MlflowException as exc:
            raise self._wrap(exc, f"logging the artifacts of {name!r}") from None

    def _create_run(self, name: str, source_uri: str):
        remembered = self._experiment_cache is not None
        tags = {TAG_PREFIX + "model": name, TAG_SOURCE: source_uri[:5000]}
        try:
            return self.client.create_run(self._experiment_id(), run_name=f"push-{name}", tags=tags)
        except self._mlflow.exceptions.MlflowException as exc:
            if not (remembered and self._is_missing(exc)):
                raise
        # the experiment this object remembered was removed meanwhile: look it up again
        return self.client.create_run(
            self._experiment_id(fresh=True), run_name=f"push-{name}", tags=tags
        )

    def _upload(self, run, staging: str) -> None:
        """Upload the files of ``staging`` to the artifact root of ``run``.

        The artifact repository is the one of the URI that ``create_run`` answered, so MLflow
        does not fetch the run again to find it (``MlflowClient.log_artifacts`` would); an
        MLflow without these functions gets ``log_artifacts``.
        """
        try:
            from mlflow.store.artifact.artifact_repository_registry import (
                get_artifact_repository,
            )
            from mlflow.utils.uri import add_databricks_profile_info_to_artifact_uri

            uri = add_databricks_profile_info_to_artifact_uri(
                run.info.artifact_uri, self.tracking_uri
            )
            repo = get_artifact_repository(uri, tracking_uri=self.tracking_uri)
        except (ImportError, TypeError):
            self.client.log_artifacts(run.info.run_id, staging)
            return
        repo.log_artifacts(staging)

    def _create_version(self, name: str, source: str, run_id: str, tags: Dict[str, str]):
        """Register ``source`` as a new version of ``name`` (created here if it is missing)."""
        last: Optional[Exception] = None
        created = False
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                return self.client.create_model_version(
                    name, source, run_id=run_id, tags=tags, await_creation_for=0
                )
            except self._mlflow.exceptions.MlflowException as exc:
                if self._is_missing(exc) and not created:
                    self._create_model(name)  # the first push of this model
                    created = True
                    continue
                text = str(exc)
                if "creation error" not in text and "UNIQUE" not in text and "locked" not in text:
                    raise self._wrap(exc, f"registering a version of {name!r}") from None
                last = exc  # MLflow's concurrent-registration race: back off and retry
                time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
        raise self._wrap(last, f"registering a version of {name!r}")  # type: ignore[arg-type]

    # -- aliases: the history entry is written first, then the alias moves -------------------

    def _record_history(self, name: str, alias: str, entry: AliasEntry) -> str:
        """Step 1 of an alias change: append its history entry (its own tag); return the key."""
        key = f"{TAG_HISTORY}.{alias}.{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"
        self.client.set_registered_model_tag(name, key, json.dumps(entry.to_dict()))
        return key

    def _move_alias(self, name: str, alias: str, version: int) -> None:
        """Step 2 of an alias change: move the MLflow alias itself."""
        self.client.set_registered_model_alias(name, alias, str(version))

    def _unrecord_history(self, name: str, key: str) -> None:
        """Undo step 1 after step 2 failed (best effort: replay tolerates a leftover)."""
        self.client.delete_registered_model_tag(name, key)

    def _change_alias(self, name: str, alias: str, entry: AliasEntry, what: str) -> None:
        try:
            key = self._record_history(name, alias, entry)
        except Exception as exc:
            raise self._wrap(exc, f"recording the history of alias {alias!r} of {name!r}") from None
        try:
            self._move_alias(name, alias, entry.version)
        except Exception as exc:
            error = self._wrap(exc, what)
            try:  # did the move land although the call failed (a lost reply)? then it is done
                if self.aliases(name).get(alias) == entry.version:
                    return
            except Exception:
                pass
            try:
                self._unrecord_history(name, key)
            except Exception:  # the leftover entry makes rollback refuse, never misroute
                pass
            raise error from None

    @_guard("setting alias {1!r} of {0!r}")
    def set_alias(self, name: str, alias: str, version: Union[int, str]) -> AliasEntry:
        validate_name(name)
        validate_alias(alias)
        return self._record_alias_change(name, alias, validate_version(version), "set", None, None)

    @_guard("reading the alias histories of {0!r}")
    def history_aliases(self, name: str) -> List[str]:
        validate_name(name)
        try:
            model = self.client.get_registered_model(name)
        except self._mlflow.exceptions.MlflowException as exc:
            if self._is_missing(exc):
                return []
            raise self._wrap(exc, f"reading model {name!r}") from None
        found = {str(a) for a in (model.aliases or {})}
        for key, value in (model.tags or {}).items():
            if key == TAG_HISTORY:
                try:
                    found.update(json.loads(value))
                except (ValueError, TypeError):
                    continue
            elif key.startswith(TAG_HISTORY + ".") and _ENTRY_KEY_RE.search(key):
                found.add(key[len(TAG_HISTORY) + 1 :].rsplit(".", 1)[0])
        return sorted(found)

    @_guard("moving alias {1!r} of {0!r}")
    def _record_alias_change(
        self,
        name: str,
        alias: str,
        version: int,
        action: str,
        by: Optional[str],
        justification: Optional[str],
    ) -> AliasEntry:
        if not _MLFLOW_ALIAS_RE.fullmatch(alias):
            raise InvalidInputError(
                f"alias {alias!r} cannot be an MLflow alias (only letters, digits, '_' and '-'); "
                "rename it, e.g. without '.'"
            )
        n = version
        self.get(name, n)  # the version must exist
        current = self.aliases(name).get(alias)
        entries = self._history_entries(name, alias)
        if action == "set" and current == n and entries:
            return entries[-1]
        entry = AliasEntry(
            version=n,
            set_at=utc_now(),
            previous=current,
            action=action,
            by=by,
            justification=justification,
        )
        self._change_alias(name, alias, entry, f"moving alias {alias!r} of {name!r}")
        return entry

    @_guard("rolling back alias {1!r} of {0!r}")
    def rollback(self, name: str, alias: str) -> ModelVersion:
        validate_name(name)
        validate_alias(alias)
        self._require_model(name)
        current = self.aliases(name).get(alias)
        target = rollback_target(self._history_entries(name, alias), current, name, alias)
        entry = AliasEntry(version=target, set_at=utc_now(), previous=current, action="rollback")
        self._change_alias(name, alias, entry, f"rolling back alias {alias!r} of {name!r}")
        return self.get(name, target)

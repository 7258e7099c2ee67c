"""The MLflow Model Registry backend (``mlflow+http://host:port``, ``mlflow+file:///path``...).

Needs the ``mlflow`` extra (``pip install 'tfx-addons-lab[mlflow]'``); mlflow is imported only
when a registry of this kind is opened.

How our operations map onto MLflow:

* ``push``: the model folder is copied under the symlink policy of
  :mod:`tfx_addons_lab.registry._files` (checksummed), logged as the artifacts ``model/`` of a
  run in the experiment ``tfx-addons-lab-registry``, then registered with
  ``create_model_version``. **MLflow allocates the version number** in its database, so
  concurrent pushers never share a number; when MLflow's own retries for concurrent
  registrations run out (the "Model Version creation error" race), the push retries.
* metadata, checksums, created-at and the content digest are model-version tags
  (``tfx_addons_lab.*``); the manifest is also logged as the run artifact ``manifest.json``.
* aliases are MLflow aliases (``set_registered_model_alias``); their history, which MLflow does
  not keep, is the registered-model tag ``tfx_addons_lab.alias_history`` (JSON, the newest
  :data:`HISTORY_LIMIT` changes per alias), which :meth:`MlflowRegistry.rollback` replays.
* ``mlflow+file:///path`` is a local MLflow registry in ``path``: MLflow's SQLite store
  ``path/mlflow.db`` with artifacts in ``path/artifacts`` (MLflow 3 no longer opens its legacy
  file store by default); ``mlflow+sqlite:///...``, ``mlflow+postgresql://...`` pass through.
* ``verify`` downloads the version's artifacts and re-computes the checksums.

Limits: idempotency and the alias history are read-modify-write over MLflow's API; two
*concurrent* pushes of the same model may both register it, and concurrent alias changes keep the
alias itself right but may drop one history entry (the filesystem backend has neither limit).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from typing import Any, Dict, List, Mapping, Optional, Union

from tfx_addons_lab.errors import InvalidInputError, RegistryError, require
from tfx_addons_lab.registry import _files
from tfx_addons_lab.registry.base import (
    AliasEntry,
    ModelRegistry,
    ModelVersion,
    VerifyResult,
    alias_stack,
    check_metadata,
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
HISTORY_LIMIT = 200
_TAG_LIMIT = 90_000
_CREATE_ATTEMPTS = 8


def _mlflow():
    return require("mlflow", "mlflow", "the MLflow registry backend")


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
    ):
        mlflow = _mlflow()
        from mlflow.tracking import MlflowClient

        self._mlflow = mlflow
        # verify() downloads artifacts; MLflow's tqdm bar would garble CLI tables and logs
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        self.tracking_uri = tracking_uri
        self.uri = uri or f"mlflow+{tracking_uri}"
        self.experiment = experiment
        self.artifact_location = artifact_location
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    @classmethod
    def from_uri(cls, uri: str) -> MlflowRegistry:
        if not uri.startswith("mlflow+") or "://" not in uri:
            raise InvalidInputError(
                f"MLflow registry URI {uri!r} must look like mlflow+http://host:port or "
                "mlflow+file:///path"
            )
        tracking = uri[len("mlflow+") :]
        if tracking.startswith("file:"):
            # MLflow 3 keeps its file store in maintenance mode (it refuses to open it by
            # default); a local registry folder is MLflow's recommended SQLite store instead.
            from tfx_addons_lab.registry.filesystem import path_from_uri

            path, _ = path_from_uri(tracking, "file")
            folder = os.path.abspath(os.path.expanduser(path))
            os.makedirs(folder, exist_ok=True)
            return cls(
                f"sqlite:///{folder}/mlflow.db",
                uri=uri,
                artifact_location=f"file://{folder}/artifacts",
            )
        return cls(tracking, uri=uri)

    # -- helpers ---------------------------------------------------------------------------

    def _is_missing(self, exc: Exception) -> bool:
        code = getattr(exc, "error_code", "")
        return "RESOURCE_DOES_NOT_EXIST" in str(code) or "NOT_FOUND" in str(code)

    def _wrap(self, exc: Exception, what: str) -> RegistryError:
        return RegistryError(f"MLflow registry {self.uri}: {what} failed: {exc}")

    def _experiment_id(self) -> str:
        exp = self.client.get_experiment_by_name(self.experiment)
        if exp is not None:
            return exp.experiment_id
        try:
            return self.client.create_experiment(
                self.experiment, artifact_location=self.artifact_location
            )
        except self._mlflow.exceptions.MlflowException:
            exp = self.client.get_experiment_by_name(self.experiment)  # created concurrently
            if exp is None:
                raise
            return exp.experiment_id

    def _ensure_model(self, name: str) -> None:
        try:
            self.client.get_registered_model(name)
            return
        except self._mlflow.exceptions.MlflowException as exc:
            if not self._is_missing(exc):
                raise self._wrap(exc, f"reading model {name!r}") from None
        try:
            self.client.create_registered_model(
                name, tags={TAG_PREFIX + "managed": "1"}, description="pushed by tfx-addons-lab"
            )
        except self._mlflow.exceptions.MlflowException as exc:
            if "ALREADY_EXISTS" not in str(getattr(exc, "error_code", "")):
                raise self._wrap(exc, f"creating model {name!r}") from None

    def _to_version(self, mv) -> ModelVersion:
        tags = dict(mv.tags or {})
        metadata = json.loads(tags.get(TAG_METADATA) or "{}")
        raw = tags.get(TAG_CHECKSUMS) or "{}"
        checksums = json.loads(raw) if raw != "@artifact" else self._artifact_checksums(mv)
        metadata.setdefault("mlflow_source", mv.source)
        if mv.run_id:
            metadata.setdefault("mlflow_run_id", mv.run_id)
        created = tags.get(TAG_CREATED) or ""
        if not created and mv.creation_timestamp:
            import datetime as dt

            created = dt.datetime.fromtimestamp(
                mv.creation_timestamp / 1000, dt.timezone.utc
            ).isoformat()
        return ModelVersion(
            name=mv.name,
            version=int(mv.version),
            uri=f"models:/{mv.name}/{mv.version}",
            metadata=metadata,
            created_at=created,
            checksums=checksums,
            aliases=sorted(getattr(mv, "aliases", []) or []),
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

    def list_models(self) -> List[str]:
        names: List[str] = []
        token = None
        while True:
            page = self.client.search_registered_models(max_results=200, page_token=token)
            names.extend(m.name for m in page)
            token = getattr(page, "token", None)
            if not token:
                return sorted(n for n in names if self._search(n))

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

    def aliases(self, name: str) -> Dict[str, int]:
        validate_name(name)
        try:
            model = self.client.get_registered_model(name)
        except self._mlflow.exceptions.MlflowException as exc:
            if self._is_missing(exc):
                return {}
            raise self._wrap(exc, f"reading model {name!r}") from None
        return {a: int(v) for a, v in (model.aliases or {}).items()}

    def _history(self, name: str) -> Dict[str, list]:
        model = self.client.get_registered_model(name)
        return json.loads((model.tags or {}).get(TAG_HISTORY) or "{}")

    def alias_history(self, name: str, alias: str) -> List[AliasEntry]:
        validate_name(name)
        validate_alias(alias)
        self._require_model(name)
        return [AliasEntry(**e) for e in self._history(name).get(alias, [])]

    def verify(self, name: str, version: Union[int, str]) -> VerifyResult:
        mv = self.get(name, version)
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

    def push(
        self, name: str, model_dir: str, metadata: Optional[Mapping[str, Any]] = None
    ) -> ModelVersion:
        validate_name(name)
        meta = check_metadata(metadata)
        model_dir = str(model_dir)
        if not os.path.isdir(model_dir):
            raise InvalidInputError(f"model_dir {model_dir!r} is not an existing folder")
        meta["source_uri"] = str(meta.get("source_uri") or os.path.abspath(model_dir))
        staging = tempfile.mkdtemp(prefix="tfx-addons-lab-mlflow-")
        try:
            payload = os.path.join(staging, "model")
            checksums = _files.copy_tree(model_dir, payload, fsync=False)
            digest = _files.tree_digest(checksums)
            self._ensure_model(name)
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
            run_id = self._log_run(name, payload, manifest)
            checksum_tag = json.dumps(checksums, sort_keys=True)
            tags = {
                TAG_METADATA: json.dumps(meta, sort_keys=True),
                TAG_CHECKSUMS: checksum_tag if len(checksum_tag) < _TAG_LIMIT else "@artifact",
                TAG_DIGEST: digest,
                TAG_SOURCE: meta["source_uri"][:5000],
                TAG_CREATED: created_at,
            }
            if len(tags[TAG_METADATA]) >= _TAG_LIMIT:
                raise InvalidInputError(
                    f"metadata of {name!r} is {len(tags[TAG_METADATA])} characters as JSON; "
                    f"MLflow tags hold at most {_TAG_LIMIT}: attach less metadata"
                )
            run = self.client.get_run(run_id)
            source = run.info.artifact_uri.rstrip("/") + "/model"
            mv = self._create_version(name, source, run_id, tags)
            return self._to_version(mv)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _find_same(self, name: str, source_uri: str, digest: str) -> Optional[ModelVersion]:
        try:
            found = self.client.search_model_versions(
                f"name='{name}' and tags.`{TAG_DIGEST}` = '{digest}'"
            )
        except self._mlflow.exceptions.MlflowException as exc:
            raise self._wrap(exc, f"searching versions of {name!r}") from None
        for mv in sorted(found, key=lambda m: int(m.version)):
            meta = json.loads((mv.tags or {}).get(TAG_METADATA) or "{}")
            if meta.get("source_uri") == source_uri:
                return self._to_version(mv)
        return None

    def _log_run(self, name: str, payload: str, manifest: dict) -> str:
        try:
            run = self.client.create_run(
                self._experiment_id(),
                run_name=f"push-{name}",
                tags={
                    TAG_PREFIX + "model": name,
                    TAG_SOURCE: manifest["metadata"]["source_uri"][:5000],
                },
            )
            run_id = run.info.run_id
            self.client.log_artifacts(run_id, payload, "model")
            self.client.log_dict(run_id, manifest, "manifest.json")
            self.client.set_terminated(run_id)
            return run_id
        except self._mlflow.exceptions.MlflowException as exc:
            raise self._wrap(exc, f"logging the artifacts of {name!r}") from None

    def _create_version(self, name: str, source: str, run_id: str, tags: Dict[str, str]):
        last: Optional[Exception] = None
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                return self.client.create_model_version(
                    name, source, run_id=run_id, tags=tags, await_creation_for=0
                )
            except self._mlflow.exceptions.MlflowException as exc:
                text = str(exc)
                if "creation error" not in text and "UNIQUE" not in text and "locked" not in text:
                    raise self._wrap(exc, f"registering a version of {name!r}") from None
                last = exc  # MLflow's concurrent-registration race: back off and retry
                time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
        raise self._wrap(last, f"registering a version of {name!r}")  # type: ignore[arg-type]

    def set_alias(self, name: str, alias: str, version: Union[int, str]) -> AliasEntry:
        validate_name(name)
        validate_alias(alias)
        n = validate_version(version)
        self.get(name, n)  # the version must exist
        current = self.aliases(name).get(alias)
        history = self._history(name)
        entries = history.setdefault(alias, [])
        if current == n and entries:
            return AliasEntry(**entries[-1])
        entry = AliasEntry(version=n, set_at=utc_now(), previous=current, action="set")
        try:
            self.client.set_registered_model_alias(name, alias, str(n))
        except self._mlflow.exceptions.MlflowException as exc:
            raise self._wrap(exc, f"setting alias {alias!r} of {name!r}") from None
        self._save_history(name, alias, entry)
        return entry

    def _save_history(self, name: str, alias: str, entry: AliasEntry) -> None:
        history = self._history(name)  # re-read: keep entries written meanwhile
        entries = history.setdefault(alias, [])
        entries.append(entry.to_dict())
        del entries[:-HISTORY_LIMIT]
        self.client.set_registered_model_tag(name, TAG_HISTORY, json.dumps(history))

    def rollback(self, name: str, alias: str) -> ModelVersion:
        validate_name(name)
        validate_alias(alias)
        current = self.aliases(name).get(alias)
        if current is None:
            raise RegistryError(f"model {name!r} has no alias {alias!r} to roll back")
        entries = [AliasEntry(**e) for e in self._history(name).get(alias, [])]
        stack = alias_stack(entries) or [current]
        if len(stack) < 2:
            raise RegistryError(
                f"alias {alias!r} of model {name!r} has no previous version to roll back to "
                f"(it has only pointed at version {current})"
            )
        target = stack[-2]
        try:
            self.client.set_registered_model_alias(name, alias, str(target))
        except self._mlflow.exceptions.MlflowException as exc:
            raise self._wrap(exc, f"rolling back alias {alias!r} of {name!r}") from None
        self._save_history(
            name,
            alias,
            AliasEntry(version=target, set_at=utc_now(), previous=current, action="rollback"),
        )
        return self.get(name, target)

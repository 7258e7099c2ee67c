"""The model registry interface: :class:`ModelRegistry`, :class:`ModelVersion` and validation.

A backend implements :class:`ModelRegistry`; every backend shares the same rules:

* model names and aliases are short, plain identifiers (letters, digits, ``.``, ``_``, ``-``;
  not starting with ``.``; at most 128 characters) so they can never escape the registry root;
* versions are integers >= 1 allocated by the registry, immutable once published;
* ``push`` is idempotent per *content*: pushing files whose content digest equals a published
  version's returns that version and writes nothing (whatever the source URI);
* every alias keeps its history, and ``rollback`` moves an alias back to its previous holder;
* ``approve`` moves an alias onto exactly the version a person chose, with who and why.

No TFX import here (core layer).
"""

from __future__ import annotations

import abc
import datetime as _dt
import getpass
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from tfx_addons_lab.errors import InvalidInputError, RegistryError

__all__ = [
    "ModelRegistry",
    "ModelVersion",
    "VerifyResult",
    "AliasEntry",
    "validate_name",
    "validate_alias",
    "validate_version",
    "parse_version_or_alias",
    "utc_now",
    "iso_utc",
    "alias_stack",
    "rollback_target",
    "check_justification",
    "default_user",
    "version_verdict",
    "VERDICTS",
    "MAX_JUSTIFICATION_LENGTH",
    "METADATA_KEYS",
    "MAX_NAME_LENGTH",
]

#: Conventional metadata keys recorded with every version (lineage that survives outside MLMD).
METADATA_KEYS = (
    "source_uri",  # the artifact/folder the model was pushed from (idempotency key, with content)
    "pipeline_name",
    "pipeline_run_id",
    "component_id",
    "data_spans",
    "metrics",
    "blessing",  # {"blessed": 1, "reason": "...", "uri": ...} from the ModelBlessing
    "gate_reasons",
    "verdict",  # {"status": "passed"|"refused", "reason": ..., "blessing_uri": ...} (pusher)
    "push_id",  # a token unique to the RegistryPusher run that created the version
)

#: ``metadata["verdict"]["status"]`` values RegistryPusher records
VERDICTS = ("passed", "refused")
#: the longest approval justification kept (characters, after stripping)
MAX_JUSTIFICATION_LENGTH = 2000
_ACTIONS = ("set", "rollback", "approve")

MAX_NAME_LENGTH = 128
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")
_RESERVED_ALIASES = {"latest"}
_VERSIONISH_RE = re.compile(r"v?\d+\Z", re.IGNORECASE)
MAX_VERSION = 10**9


def utc_now() -> str:
    """The current UTC time as an ISO 8601 string (what ``created_at``/``set_at`` hold)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def iso_utc(value: Any) -> str:
    """``value`` as ISO 8601 with a timezone (naive times are UTC); ``""`` if not a time."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.isoformat()


def _check_identifier(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__} {value!r}")
    if not value:
        raise InvalidInputError(f"{what} is empty; give a name such as 'penguin'")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{what} {value[:40]!r}... is {len(value)} characters long; "
            f"use at most {MAX_NAME_LENGTH}"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInputError(f"{what} {value!r} contains control characters; remove them")
    if "/" in value or "\\" in value:
        raise InvalidInputError(
            f"{what} {value!r} contains a path separator; use letters, digits, '.', '_' or '-'"
        )
    if value.startswith("."):
        raise InvalidInputError(
            f"{what} {value!r} starts with '.' (could name '..' or a hidden file); "
            "start with a letter, digit or '_'"
        )
    if value.startswith("-"):
        raise InvalidInputError(
            f"{what} {value!r} starts with '-' (it would read as a command-line option); "
            "start with a letter, digit or '_'"
        )
    if not _NAME_RE.match(value):
        bad = sorted({c for c in value if not re.match(r"[A-Za-z0-9._-]", c)})
        raise InvalidInputError(
            f"{what} {value!r} contains {''.join(bad)!r}; use only letters, digits, '.', '_' or '-'"
        )
    return value


def validate_name(name: Any) -> str:
    """Return ``name`` if it is a valid model name, else raise :class:`InvalidInputError`."""
    return _check_identifier(name, "model name")


def validate_alias(alias: Any) -> str:
    """Return ``alias`` if valid: a name that is not ``latest`` and does not look like a version."""
    _check_identifier(alias, "alias")
    if alias.lower() in _RESERVED_ALIASES or _VERSIONISH_RE.match(alias):
        raise InvalidInputError(
            f"alias {alias!r} is reserved or looks like a version number; "
            "use a word such as 'champion' or 'challenger'"
        )
    return alias


def validate_version(version: Any) -> int:
    """Return ``version`` as an int >= 1 (accepts ``3``, ``"3"`` and ``"v3"``)."""
    if isinstance(version, bool):
        raise InvalidInputError(f"version must be a positive integer, got {version!r}")
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and _VERSIONISH_RE.match(version.strip()):
        number = int(version.strip().lstrip("vV"))
    else:
        raise InvalidInputError(
            f"version {version!r} is not a positive integer; give a number such as 3"
        )
    if number < 1 or number > MAX_VERSION:
        raise InvalidInputError(f"version {version!r} is out of range; versions start at 1")
    return number


def parse_version_or_alias(value: Any) -> Union[int, str]:
    """Return an int version for ``3``/``"3"``/``"v3"``, ``"latest"`` or a validated alias."""
    if isinstance(value, int) and not isinstance(value, bool):
        return validate_version(value)
    if isinstance(value, str):
        if _VERSIONISH_RE.match(value.strip()):
            return validate_version(value)
        if value == "latest":
            return value
        return validate_alias(value)
    raise InvalidInputError(f"{value!r} is neither a version number nor an alias")


def check_metadata(metadata: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Return a JSON-safe copy of ``metadata`` or raise :class:`InvalidInputError`."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        return json.loads(json.dumps(dict(metadata), sort_keys=True, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"metadata must be JSON serializable (str/int/float/bool/list/dict): {exc}"
        ) from None


@dataclass
class ModelVersion:
    """One published, immutable model version.

    Attributes:
      name: the registered model name.
      version: the integer version (1, 2, ...).
      uri: where the model files are (a local folder, or a backend URI like ``models:/m/3``).
      metadata: lineage and user metadata (see :data:`METADATA_KEYS`).
      created_at: ISO 8601 UTC time of publication.
      checksums: ``{relative path: sha256}`` of every file of the model.
      aliases: the aliases currently pointing at this version.
      damaged: why this version cannot be read (a corrupt manifest...), else None. A damaged
        version is listed so it can be seen and verified (it fails), never served.
    """

    name: str
    version: int
    uri: str
    metadata: Dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    checksums: Dict[str, str] = field(default_factory=dict)
    aliases: List[str] = field(default_factory=list)
    damaged: Optional[str] = None

    @property
    def content_digest(self) -> str:
        """One sha256 over all file checksums (see :func:`tree_digest`)."""
        from tfx_addons_lab.registry._files import tree_digest

        return tree_digest(self.checksums)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class VerifyResult:
    """The outcome of :meth:`ModelRegistry.verify`.

    ``mismatches`` lists one readable line per problem (``changed: variables/x``, ``missing: a``,
    ``unexpected: b``, ``symlink: c``); ``ok`` is true when there is none.
    """

    name: str
    version: int
    ok: bool
    mismatches: List[str] = field(default_factory=list)
    checked_files: int = 0

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class AliasEntry:
    """One change of an alias: it moved to ``version`` from ``previous`` (None if new).

    ``action`` is ``"set"`` (push, promote), ``"rollback"`` or ``"approve"`` (a person moved
    the alias with :meth:`ModelRegistry.approve`, usually onto a refused version); ``by`` and
    ``justification`` are recorded for approvals (None in entries written without them).
    """

    version: int
    set_at: str
    previous: Optional[int] = None
    action: str = "set"  # "set", "rollback" or "approve"
    by: Optional[str] = None
    justification: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "alias history") -> AliasEntry:
        """Build an entry from stored JSON; :class:`RegistryError` if it is malformed."""

        def bad(why: str) -> RegistryError:
            return RegistryError(f"{where}: entry {str(data)[:80]!r} {why}; the history is damaged")

        if not isinstance(data, Mapping):
            raise bad("is not an object")
        version, previous = data.get("version"), data.get("previous")
        action, set_at = data.get("action", "set"), data.get("set_at", "")
        by, justification = data.get("by"), data.get("justification")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise bad("has no valid 'version'")
        if previous is not None and (isinstance(previous, bool) or not isinstance(previous, int)):
            raise bad("has an invalid 'previous'")
        if action not in _ACTIONS:
            raise bad("has an unknown 'action'")
        if not isinstance(set_at, str):
            raise bad("has an invalid 'set_at'")
        if by is not None and not isinstance(by, str):
            raise bad("has an invalid 'by'")
        if justification is not None and not isinstance(justification, str):
            raise bad("has an invalid 'justification'")
        return cls(
            version=version,
            set_at=set_at,
            previous=previous,
            action=action,
            by=by,
            justification=justification,
        )


def check_justification(justification: Any) -> str:
    """The stripped ``justification`` of an approval; :class:`InvalidInputError` if unusable."""
    if not isinstance(justification, str):
        raise InvalidInputError(
            f"justification must be text, got {type(justification).__name__}; say why the "
            "version is approved, e.g. 'drift is seasonal, reviewed by the on-call'"
        )
    text = justification.strip()
    if not text:
        raise InvalidInputError(
            "justification is empty; say why the version is approved (it is kept in the alias "
            "history), e.g. 'drift is seasonal, reviewed by the on-call'"
        )
    if len(text) > MAX_JUSTIFICATION_LENGTH:
        raise InvalidInputError(
            f"justification is {len(text)} characters long; use at most "
            f"{MAX_JUSTIFICATION_LENGTH} (link to a ticket for the details)"
        )
    return text


def default_user() -> str:
    """Who is approving when ``by`` is not given: the OS user (``"unknown"`` if there is none)."""
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError, ImportError):  # no passwd entry, no USER variable
        return "unknown"


def _check_by(by: Any) -> str:
    if not isinstance(by, str) or not by.strip():
        raise InvalidInputError(f"by {by!r} must name who approves, e.g. 'alice'")
    who = by.strip()
    if len(who) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"by is {len(who)} characters long; use at most {MAX_NAME_LENGTH}")
    return who


def version_verdict(version: ModelVersion, approvals: Mapping[int, AliasEntry]) -> Tuple[str, str]:
    """``(verdict, reason)`` of a version for people: passed, refused, approved or ``-``.

    ``approved`` means the version's recorded verdict is ``refused`` and an alias was moved onto
    it by :meth:`ModelRegistry.approve` (``approvals`` is :meth:`ModelRegistry.approvals`); its
    reason is the approval's justification. ``-`` is a version without a recorded verdict.
    """
    verdict = (version.metadata or {}).get("verdict")
    if not isinstance(verdict, Mapping) or verdict.get("status") not in VERDICTS:
        return "-", ""
    reason = verdict.get("reason")
    reason = reason if isinstance(reason, str) else ""
    approval = approvals.get(version.version)
    if verdict["status"] == "refused" and approval is not None:
        return "approved", approval.justification or ""
    return str(verdict["status"]), reason


def alias_stack(entries: List[AliasEntry]) -> List[int]:
    """Replay an alias history into the stack of holders (the current holder last).

    ``set`` (or ``approve``) from ``p`` to ``v`` pushes ``v`` on top of ``p`` (an approval of
    the version already holding the alias changes nothing); ``rollback`` from ``p`` to ``v``
    pops ``p``. A ``set`` whose ``previous`` is not the replayed holder means the entries
    in between never took effect (a move that failed after its entry was written): they are
    dropped, so a rollback can only ever return to a version that really held the alias.
    """
    stack: List[int] = []
    for entry in entries:
        if entry.action == "rollback":
            if stack and stack[-1] == entry.previous:
                stack.pop()
            else:
                stack = []
            if not stack or stack[-1] != entry.version:
                stack.append(entry.version)
        else:
            if entry.previous == entry.version and stack and stack[-1] == entry.version:
                continue  # approved where it already was: recorded, not a step to undo
            if entry.previous is None:
                stack = []
            elif not stack or stack[-1] != entry.previous:
                while stack and stack[-1] != entry.previous:
                    stack.pop()
                if not stack:
                    stack = [entry.previous]
            stack.append(entry.version)
    return stack


def rollback_target(
    entries: List[AliasEntry], current: Optional[int], name: str, alias: str
) -> int:
    """The version ``rollback`` moves ``alias`` to, from its history and live holder.

    Rolling back undoes the newest ``set`` still in effect: the alias returns to the version
    that held it before. Raises :class:`RegistryError` (never guesses) when the alias does
    not exist, when nothing is left to undo, or when the live alias is not where the history
    says it is (changed outside the registry, or by an update that failed half-way).
    """
    if current is None:
        raise RegistryError(f"model {name!r} has no alias {alias!r} to roll back")
    stack = alias_stack(entries)
    if stack and stack[-1] != current:
        raise RegistryError(
            f"alias {alias!r} of model {name!r} points at version {current} but its history "
            f"ends at version {stack[-1]} (changed outside tfx-addons-lab or by an update that "
            "failed half-way); refusing to guess: point it explicitly with 'registry promote'"
        )
    if len(stack) < 2:
        sets = sum(1 for e in entries if e.action != "rollback")
        if sets <= 1 and not any(e.action == "rollback" for e in entries):
            detail = f"it has only pointed at version {current}"
        else:
            detail = (
                f"version {current} is the holder it started from and every later change was "
                f"rolled back already ({len(entries)} changes in its history)"
            )
        raise RegistryError(
            f"alias {alias!r} of model {name!r} has no previous version to roll back to: "
            f"{detail}; use 'registry promote' to point it at another version"
        )
    return stack[-2]


class ModelRegistry(abc.ABC):
    """A store of versioned models with aliases, alias history, rollback and verification.

    Implement the abstract methods to add a backend, then register it with
    :func:`tfx_addons_lab.registry.register_backend` or the ``tfx_addons_lab.registry_backends``
    entry point group; :func:`open_registry` builds it with :meth:`from_uri`.
    """

    #: the URI this registry was opened with (for messages and PushedModel properties)
    uri: str = ""

    @classmethod
    def from_uri(cls, uri: str) -> ModelRegistry:
        """Build the registry for ``uri`` (the whole URI, scheme included)."""
        return cls(uri)  # type: ignore[call-arg]

    @abc.abstractmethod
    def push(
        self, name: str, model_dir: str, metadata: Optional[Mapping[str, Any]] = None
    ) -> ModelVersion:
        """Publish the folder ``model_dir`` as the next version of ``name``.

        Idempotent: if a version of ``name`` already holds the same content (the same
        :attr:`ModelVersion.content_digest`, whichever ``metadata["source_uri"]`` it came from),
        that version is returned as it is (its metadata unchanged) and nothing is written.
        """

    @abc.abstractmethod
    def get(self, name: str, version_or_alias: Union[int, str]) -> ModelVersion:
        """The version ``version_or_alias`` (an int, ``"3"``, ``"latest"`` or an alias)."""

    @abc.abstractmethod
    def list(self, name: str) -> List[ModelVersion]:
        """All published versions of ``name``, oldest first (empty if the model is unknown)."""

    @abc.abstractmethod
    def list_models(self) -> List[str]:
        """The names of all models with at least one version, sorted."""

    @abc.abstractmethod
    def set_alias(self, name: str, alias: str, version: Union[int, str]) -> AliasEntry:
        """Point ``alias`` at ``version`` and record the change in the alias history.

        Setting an alias to the version it already holds changes nothing and returns the
        current history entry.
        """

    @abc.abstractmethod
    def aliases(self, name: str) -> Dict[str, int]:
        """``{alias: version}`` for ``name``."""

    @abc.abstractmethod
    def alias_history(self, name: str, alias: str) -> List[AliasEntry]:
        """Every change of ``alias``, oldest first."""

    @abc.abstractmethod
    def rollback(self, name: str, alias: str) -> ModelVersion:
        """Move ``alias`` back to the version it pointed at before its current holder.

        Rolling back twice goes back two steps. Raises :class:`RegistryError` when the alias
        has no previous holder.
        """

    @abc.abstractmethod
    def verify(self, name: str, version: Union[int, str]) -> VerifyResult:
        """Re-compute the checksums of a version and compare them with those recorded at push."""

    def approve(
        self,
        name: str,
        version: Union[int, str],
        alias: str,
        justification: str,
        by: Optional[str] = None,
    ) -> AliasEntry:
        """A person's decision: point ``alias`` at exactly ``version``, refused or not.

        Records an :class:`AliasEntry` with ``action="approve"``, ``by`` (default: the OS user)
        and the stripped ``justification`` (required, at most
        :data:`MAX_JUSTIFICATION_LENGTH` characters). Approving the version that already
        holds the alias records the approval and moves nothing. ``rollback`` undoes an
        approval like any other alias move.
        """
        validate_name(name)
        validate_alias(alias)
        n = validate_version(version)
        text = check_justification(justification)
        who = default_user() if by is None else _check_by(by)
        return self._record_alias_change(name, alias, n, "approve", who, text)

    def _record_alias_change(
        self,
        name: str,
        alias: str,
        version: int,
        action: str,
        by: Optional[str],
        justification: Optional[str],
    ) -> AliasEntry:
        """Move ``alias`` to ``version`` and append one history entry (backends implement it).

        ``action`` is ``"set"`` or ``"approve"``; a ``"set"`` to the current holder changes
        nothing and returns the last entry. Used by :meth:`approve` (and by the built-in
        backends' :meth:`set_alias`).
        """
        raise RegistryError(
            f"registry backend {type(self).__name__} does not support approvals; implement "
            "_record_alias_change"
        )

    def history_aliases(self, name: str) -> List[str]:
        """Every alias of ``name`` with a history (also ones no backend lists as current)."""
        return sorted(self.aliases(name))

    def approvals(self, name: str) -> Dict[int, AliasEntry]:
        """``{version: its latest approve entry}`` over every alias history of ``name``."""
        found: Dict[int, AliasEntry] = {}
        for alias in self.history_aliases(name):
            for entry in self.alias_history(name, alias):
                if entry.action == "approve":
                    previous = found.get(entry.version)
                    if previous is None or previous.set_at <= entry.set_at:
                        found[entry.version] = entry
        return found

    # -- shared helpers -------------------------------------------------------------------

    def _resolve_version(self, name: str, version_or_alias: Union[int, str]) -> int:
        """Turn ``version_or_alias`` into an existing version number of ``name``."""
        which = parse_version_or_alias(version_or_alias)
        if which == "latest":
            versions = self.list(name)
            if not versions:
                raise RegistryError(f"model {name!r} has no versions in registry {self.uri}")
            return versions[-1].version
        if isinstance(which, str):
            table = self.aliases(name)
            if which not in table:
                known = ", ".join(sorted(table)) or "none"
                raise RegistryError(
                    f"model {name!r} has no alias {which!r} in registry {self.uri} "
                    f"(aliases: {known})"
                )
            return table[which]
        return which

    def check_exists(self) -> None:
        """Raise :class:`RegistryError` if the registry is not there (backends override).

        The default checks nothing: a backend without a notion of "missing" is always there.
        """
        return None

    def _require_folder(self, folder: str, marker: str, what: str) -> None:
        """:meth:`check_exists` of a registry kept in a local ``folder`` holding ``marker``.

        ``what`` names the kind of registry in the message (``"a local MLflow registry"``).
        """
        import os

        if not os.path.isdir(folder):
            raise RegistryError(
                f"registry folder {self.uri} does not exist; check the path (a registry is "
                "created by its first push)"
            )
        if not os.path.isfile(os.path.join(folder, marker)):
            raise RegistryError(
                f"{self.uri} is a folder but not {what} (no {marker}); check the path"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

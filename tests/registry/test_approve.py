"""Approvals, verdicts and content idempotency on the filesystem and TF Serving registries."""

from __future__ import annotations

import getpass
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from tfx_addons_lab.errors import InvalidInputError, RegistryError
from tfx_addons_lab.registry import AliasEntry, open_registry
from tfx_addons_lab.registry.base import MAX_JUSTIFICATION_LENGTH, alias_stack, version_verdict

from ._helpers import make_model


@pytest.fixture(params=["file", "tfserving"])
def reg(request, tmp_path):
    """A registry of each local layout with versions 1 (passed), 2 (passed), 3 (refused)."""
    registry = open_registry(f"{request.param}://{tmp_path}/registry")
    for seed, status in ((1, "passed"), (2, "passed"), (3, "refused")):
        registry.push(
            "m",
            str(make_model(tmp_path / f"src{seed}", seed=seed)),
            {"verdict": {"status": status, "reason": f"gate said {status}"}},
        )
    registry.set_alias("m", "champion", 1)
    registry.set_alias("m", "champion", 2)
    return registry


def test_approve_moves_the_alias_to_a_refused_version_and_records_who_and_why(reg):
    entry = reg.approve("m", 3, "champion", "  seasonal drift, reviewed in ML-42  ", by="alice")
    assert reg.aliases("m")["champion"] == 3
    assert (entry.version, entry.previous, entry.action) == (3, 2, "approve")
    assert entry.by == "alice" and entry.justification == "seasonal drift, reviewed in ML-42"
    assert entry.set_at
    history = reg.alias_history("m", "champion")
    assert [(e.action, e.version) for e in history] == [("set", 1), ("set", 2), ("approve", 3)]
    assert history[-1] == entry  # what was returned is what was stored
    # the verdict of version 3 now reads "approved", with the justification as its reason
    approvals = reg.approvals("m")
    assert set(approvals) == {3}
    assert version_verdict(reg.get("m", 3), approvals) == (
        "approved",
        "seasonal drift, reviewed in ML-42",
    )
    assert version_verdict(reg.get("m", 2), approvals) == ("passed", "gate said passed")


def test_approve_defaults_by_to_the_os_user_and_accepts_a_new_alias(reg):
    entry = reg.approve("m", "2", "challenger", "second opinion")
    assert entry.by == getpass.getuser() and entry.previous is None
    assert reg.aliases("m") == {"champion": 2, "challenger": 2}
    assert "challenger" in reg.history_aliases("m")


def test_rollback_undoes_an_approval_like_any_move(reg):
    reg.approve("m", 3, "champion", "reviewed")
    assert reg.rollback("m", "champion").version == 2
    assert reg.rollback("m", "champion").version == 1
    with pytest.raises(RegistryError, match="no previous version"):
        reg.rollback("m", "champion")
    # re-approving the holder is recorded but is not a step rollback would undo
    reg.approve("m", 3, "champion", "again")
    reg.approve("m", 3, "champion", "confirmed after the incident review", by="bob")
    history = reg.alias_history("m", "champion")
    assert [e.action for e in history[-2:]] == ["approve", "approve"]
    assert history[-1].previous == history[-1].version == 3
    assert reg.aliases("m")["champion"] == 3
    assert reg.rollback("m", "champion").version == 1
    assert reg.approvals("m")[3].by == "bob"


@pytest.mark.parametrize(
    "justification, words",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        (None, "must be text"),
        (42, "must be text"),
        ("x" * (MAX_JUSTIFICATION_LENGTH + 1), "at most"),
    ],
)
def test_approve_requires_a_justification(reg, justification, words):
    with pytest.raises(InvalidInputError, match=words):
        reg.approve("m", 3, "champion", justification)
    assert reg.aliases("m")["champion"] == 2
    assert [e.action for e in reg.alias_history("m", "champion")] == ["set", "set"]


def test_approve_refuses_bad_names_versions_and_by(reg):
    with pytest.raises(InvalidInputError, match="reserved"):
        reg.approve("m", 3, "latest", "why")
    with pytest.raises(InvalidInputError, match="positive integer"):
        reg.approve("m", "three", "champion", "why")
    with pytest.raises(InvalidInputError, match="name who approves"):
        reg.approve("m", 3, "champion", "why", by="  ")
    with pytest.raises(RegistryError, match="no version 9"):
        reg.approve("m", 9, "champion", "why")
    with pytest.raises(RegistryError, match="not found"):
        reg.approve("other", 1, "champion", "why")
    assert reg.aliases("m")["champion"] == 2


def test_old_histories_without_by_or_justification_still_load(tmp_path):
    reg = open_registry(str(tmp_path / "registry"))
    reg.push("m", str(make_model(tmp_path / "a", seed=1)))
    reg.push("m", str(make_model(tmp_path / "b", seed=2)))
    path = tmp_path / "registry" / "models" / "m" / "aliases.json"
    old = {  # written by an earlier release: no "by", no "justification"
        "aliases": {"champion": 2},
        "history": {
            "champion": [
                {
                    "version": 1,
                    "set_at": "2026-01-01T00:00:00+00:00",
                    "previous": None,
                    "action": "set",
                },
                {
                    "version": 2,
                    "set_at": "2026-01-02T00:00:00+00:00",
                    "previous": 1,
                    "action": "set",
                },
            ]
        },
    }
    path.write_text(json.dumps(old))
    history = reg.alias_history("m", "champion")
    assert [(e.version, e.by, e.justification) for e in history] == [
        (1, None, None),
        (2, None, None),
    ]
    reg.approve("m", 1, "champion", "back to the first model")
    assert reg.rollback("m", "champion").version == 2


@pytest.mark.parametrize(
    "field, value",
    [("by", 7), ("by", ["alice"]), ("justification", 3.5), ("justification", {"a": 1})],
)
def test_history_entries_stay_strict_about_types(field, value):
    data = {"version": 2, "set_at": "", "previous": 1, "action": "approve", field: value}
    with pytest.raises(RegistryError, match=f"invalid '{field}'"):
        AliasEntry.from_dict(data)
    with pytest.raises(RegistryError, match="unknown 'action'"):
        AliasEntry.from_dict({"version": 2, "action": "bless"})


def test_alias_stack_treats_approve_as_a_move():
    entries = [
        AliasEntry(1, "t1", None, "set"),
        AliasEntry(3, "t2", 1, "approve", "alice", "ok"),
        AliasEntry(3, "t3", 3, "approve", "bob", "still ok"),
    ]
    assert alias_stack(entries) == [1, 3]


def test_verdict_of_versions_without_one_is_a_dash(tmp_path):
    reg = open_registry(str(tmp_path / "registry"))
    mv = reg.push("m", str(make_model(tmp_path / "a", seed=1)), {"verdict": "passed"})
    assert version_verdict(mv, {}) == ("-", "")
    mv = reg.push("m", str(make_model(tmp_path / "b", seed=2)))
    assert version_verdict(mv, {}) == ("-", "")


def _push_same(args) -> int:
    root, folder, barrier = args
    while not os.path.exists(barrier):
        time.sleep(0.002)
    return open_registry(root).push("m", folder, {"source_uri": folder}).version


@pytest.mark.parametrize("layout", ["file", "tfserving"])
def test_concurrent_pushes_of_identical_content_make_one_version(tmp_path, layout):
    root = f"{layout}://{tmp_path}/registry"
    folders = [str(make_model(tmp_path / f"copy{i}", seed=5, files=20)) for i in range(6)]
    barrier = tmp_path / "go"
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(6) as pool:
        result = pool.map_async(_push_same, [(root, f, str(barrier)) for f in folders])
        time.sleep(0.3)
        barrier.touch()
        versions = result.get(timeout=120)
    assert versions == [1] * 6
    reg = open_registry(root)
    assert [v.version for v in reg.list("m")] == [1]
    assert reg.verify("m", 1).ok
    staging = Path(reg._staging_dir("m"))
    assert not [p for p in staging.iterdir() if not p.name.endswith(".lock")]

"""Damaged registries fail readably (never TypeError/NotADirectoryError); rollback semantics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfx_addons_lab.errors import RegistryError
from tfx_addons_lab.registry import open_registry
from tfx_addons_lab.registry.base import AliasEntry, alias_stack, rollback_target

from ._helpers import make_model


@pytest.mark.parametrize("prefix", ["", "file://", "tfserving://"])
def test_a_file_as_registry_is_a_registry_error_in_the_api(tmp_path, prefix):
    a_file = tmp_path / "registry"
    a_file.write_text("not a folder")
    reg = open_registry(prefix + str(a_file))
    model = make_model(tmp_path / "m", seed=1)
    for call in (
        reg.list_models,
        lambda: reg.list("m"),
        lambda: reg.get("m", 1),
        lambda: reg.push("m", str(model)),
        lambda: reg.verify("m", 1),
        reg.check_exists,
    ):
        with pytest.raises(RegistryError, match="is a file, not a registry folder"):
            call()
    assert a_file.read_text() == "not a folder"


def test_missing_registry_lists_nothing_but_check_exists_says_so(tmp_path):
    reg = open_registry(str(tmp_path / "nope"))
    assert reg.list_models() == [] and reg.list("m") == []
    with pytest.raises(RegistryError, match="does not exist"):
        reg.check_exists()
    reg.push("m", str(make_model(tmp_path / "m", seed=1)))  # a push creates it
    reg.check_exists()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(["metadata", "checksums", "created_at", "version", "content_digest"]),
    value=_JSON,
)
def test_any_wrong_typed_manifest_field_is_damage_not_a_crash(tmp_path_factory, field, value):
    tmp = tmp_path_factory.mktemp("fuzz")
    reg = open_registry(str(tmp / "reg"))
    reg.push("m", str(make_model(tmp / "src1", seed=1)))
    reg.push("m", str(make_model(tmp / "src2", seed=2)))
    path = Path(reg.get("m", 1).uri).parent / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest[field] = value
    path.write_text(json.dumps(manifest))
    fresh = open_registry(str(tmp / "reg"))
    versions = fresh.list("m")  # never raises
    assert [v.version for v in versions] == [1, 2]
    result = fresh.verify("m", 1)
    if versions[0].damaged:
        assert not result.ok and result.mismatches[0].startswith("damaged: ")
        with pytest.raises(RegistryError, match="damaged"):
            fresh.get("m", 1)
    else:  # the value happened to be well-typed: content checks still apply
        assert isinstance(result.ok, bool)
    assert fresh.verify("m", 2).ok
    assert fresh.push("m", str(make_model(tmp / "src3", seed=3))).version == 3


def test_damaged_alias_file_is_a_registry_error(tmp_path):
    reg = open_registry(str(tmp_path / "reg"))
    reg.push("m", str(make_model(tmp_path / "m", seed=1)))
    reg.set_alias("m", "champion", 1)
    path = tmp_path / "reg" / "models" / "m" / "aliases.json"
    for bad in (
        '{"aliases": [1]}',
        '{"aliases": {"c": "x"}}',
        '{"history": {"champion": [7]}}',
        '{"history": {"champion": [{"version": "1"}]}}',
        "[]",
        "{",
    ):
        path.write_text(bad)
        with pytest.raises(RegistryError, match="damaged"):
            reg.aliases("m")
            reg.alias_history("m", "champion")
            reg.rollback("m", "champion")


# -- rollback semantics: an undo stack replayed from the history -------------------------------

_OPS = st.lists(
    st.one_of(st.tuples(st.just("set"), st.integers(1, 4)), st.just(("rollback", 0))),
    max_size=14,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=_OPS)
def test_rollback_matches_an_undo_stack(tmp_path_factory, ops):
    """Against a model: ``set`` pushes a holder, ``rollback`` pops back to the one before."""
    tmp = tmp_path_factory.mktemp("ops")
    reg = open_registry(f"{tmp}/reg?fsync=false")
    for seed in range(1, 5):
        reg.push("m", str(make_model(tmp / f"s{seed}", seed=seed, files=1, size=16)))
    model: list = []
    for op, version in ops:
        if op == "set":
            if not model or model[-1] != version:
                model.append(version)
            reg.set_alias("m", "a", version)
        elif len(model) >= 2:
            model.pop()
            assert reg.rollback("m", "a").version == model[-1]
        else:
            with pytest.raises(RegistryError, match="no previous version to roll back to|no alias"):
                reg.rollback("m", "a")
        if model:
            assert reg.aliases("m")["a"] == model[-1]
            assert alias_stack(reg.alias_history("m", "a")) == model


def test_history_that_disagrees_with_the_alias_is_refused():
    entries = [AliasEntry(1, "t1", None), AliasEntry(2, "t2", 1)]
    assert rollback_target(entries, 2, "m", "a") == 1
    with pytest.raises(
        RegistryError, match="points at version 1 but its history ends at version 2"
    ):
        rollback_target(entries, 1, "m", "a")
    # a move recorded but never made (1 -> 2), then a real move from 1: 2 never held it
    entries = [AliasEntry(1, "t1", None), AliasEntry(2, "t2", 1), AliasEntry(3, "t3", 1)]
    assert alias_stack(entries) == [1, 3] and rollback_target(entries, 3, "m", "a") == 1

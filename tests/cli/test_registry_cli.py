"""``tfx-addons-lab registry`` run as a real subprocess against a filesystem registry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tfx_addons_lab.registry import open_registry

from ..registry._helpers import make_model

EXE = str(Path(sys.executable).with_name("tfx-addons-lab"))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "registry", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def registry(tmp_path) -> str:
    root = str(tmp_path / "registry")
    reg = open_registry(root)
    for seed in (1, 2, 3):
        reg.push(
            "penguin",
            str(make_model(tmp_path / f"m{seed}", seed=seed)),
            {
                "pipeline_name": "penguin-ct",
                "pipeline_run_id": f"run-{seed}",
                "blessing": {"blessed": 1},
            },
        )
    reg.push("flights", str(make_model(tmp_path / "f", seed=9)))
    return root


def test_list_models_and_versions(registry):
    out = cli("list", registry)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "VERSIONS", "LATEST", "ALIASES"]
    assert lines[2].split()[:3] == ["flights", "1", "1"]
    assert lines[3].split()[:3] == ["penguin", "3", "3"]
    out = cli("list", registry, "penguin", "--format", "json")
    rows = json.loads(out.stdout)
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert rows[1]["run"] == "run-2" and rows[1]["blessed"] == 1
    table = cli("list", registry, "penguin").stdout.splitlines()
    assert table[0].split()[:2] == ["VERSION", "ALIASES"] and len(table) == 5


def test_promote_show_rollback_history(registry):
    assert cli("promote", registry, "penguin", "2", "--alias", "champion").returncode == 0
    out = cli("promote", registry, "penguin", "3", "--alias", "champion")
    assert out.stdout.strip() == "penguin: alias champion -> version 3 (was 2)"
    show = cli("show", registry, "penguin", "champion")
    assert "version:    3" in show.stdout and "aliases:    champion" in show.stdout
    assert '"pipeline_run_id": "run-3"' in show.stdout
    out = cli("rollback", registry, "penguin", "--alias", "champion")
    assert out.stdout.strip() == "penguin: alias champion rolled back to version 2 (was 3)"
    assert open_registry(registry).aliases("penguin") == {"champion": 2}
    hist = json.loads(
        cli("history", registry, "penguin", "--alias", "champion", "--format", "json").stdout
    )
    assert [(h["action"], h["previous"], h["version"]) for h in hist] == [
        ("set", None, 2),
        ("set", 2, 3),
        ("rollback", 3, 2),
    ]
    shown = json.loads(cli("show", registry, "penguin", "latest", "--format", "json").stdout)
    assert shown["version"] == 3 and shown["metadata"]["pipeline_name"] == "penguin-ct"


def test_verify_reports_tampering_with_exit_1(registry):
    out = cli("verify", registry, "penguin")
    assert out.returncode == 0 and out.stdout.count(" ok ") == 3, out.stdout
    version = open_registry(registry).get("penguin", 2)
    (Path(version.uri) / "saved_model.pb").write_bytes(b"tampered")
    out = cli("verify", registry, "penguin", "--format", "json")
    assert out.returncode == 1
    results = {r["version"]: r for r in json.loads(out.stdout)}
    assert results[2]["mismatches"] == ["changed: saved_model.pb"]
    assert results[1]["ok"] and results[3]["ok"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("show", "{r}", "penguin", "9"), "has no version 9"),
        (("show", "{r}", "../etc", "1"), "model name '../etc' contains a path separator"),
        (("list", "{r}", "nope"), "model 'nope' not found"),
        (("promote", "{r}", "penguin", "1", "--alias", "a/b"), "alias 'a/b'"),
        (("rollback", "{r}", "penguin", "--alias", "champion"), "no alias 'champion'"),
        (("show", "nosuch://x", "penguin", "1"), "unknown registry scheme"),
    ],
)
def test_bad_input_exits_2_with_one_line(registry, args, message):
    out = cli(*(a.format(r=registry) for a in args))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfx-addons-lab registry: error: ")
    assert message in lines[0]
    assert "Traceback" not in out.stderr

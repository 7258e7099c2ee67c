"""``tfx-addons-lab registry`` run as a real subprocess against a filesystem registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tfx_addons_lab.registry import open_registry

from ..registry._helpers import make_model

SRC = str(Path(__file__).resolve().parents[2] / "src")


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m tfx_addons_lab registry ...`` on this checkout's sources."""
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.run(
        [sys.executable, "-m", "tfx_addons_lab", "registry", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


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
    assert lines[0].split() == ["MODEL", "VERSIONS", "LATEST", "ALIASES", "STATUS"]
    assert lines[2].split()[:3] == ["flights", "1", "1"]
    assert lines[3].split()[:3] == ["penguin", "3", "3"]
    out = cli("list", registry, "penguin", "--format", "json")
    rows = json.loads(out.stdout)
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert rows[1]["metadata"]["pipeline_run_id"] == "run-2"
    assert rows[1]["metadata"]["blessing"] == {"blessed": 1}
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


# -- one JSON shape per object, help, rollback wording (issue 11) -------------------------------


def _iso_with_tz(value: str) -> bool:
    import datetime as dt

    return dt.datetime.fromisoformat(value).tzinfo is not None


def test_one_json_shape_per_object(registry):
    assert cli("promote", registry, "penguin", "2", "--alias", "champion").returncode == 0
    assert cli("promote", registry, "penguin", "2", "--alias", "staging").returncode == 0
    models = json.loads(cli("list", registry, "--format", "json").stdout)
    assert [m["model"] for m in models] == ["flights", "penguin"]
    penguin = models[1]
    assert set(penguin) == {"model", "versions", "latest", "aliases", "damaged", "error"}
    assert penguin["aliases"] == [
        {"alias": "champion", "version": 2},
        {"alias": "staging", "version": 2},
    ]
    listed = json.loads(cli("list", registry, "penguin", "--format", "json").stdout)
    for which in ("2", "champion", "latest"):
        shown = json.loads(cli("show", registry, "penguin", which, "--format", "json").stdout)
        assert shown == listed[shown["version"] - 1]  # the same object, the same shape
    for version in listed:
        assert isinstance(version["aliases"], list) and _iso_with_tz(version["created_at"])
    assert listed[1]["aliases"] == ["champion", "staging"] and listed[1]["damaged"] is None


def test_second_rollback_is_worded_from_the_history(registry):
    cli("promote", registry, "penguin", "1", "--alias", "champion")
    cli("promote", registry, "penguin", "2", "--alias", "champion")
    out = cli("rollback", registry, "penguin", "--alias", "champion")
    assert out.stdout.strip() == "penguin: alias champion rolled back to version 1 (was 2)"
    out = cli("rollback", registry, "penguin", "--alias", "champion")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    line = out.stderr.strip()
    assert "only pointed at" not in line
    assert "version 1 is the holder it started from" in line and "rolled back already" in line
    # after a new promote the rollback undoes exactly that promote
    cli("promote", registry, "penguin", "3", "--alias", "champion")
    out = cli("rollback", registry, "penguin", "--alias", "champion")
    assert out.stdout.strip() == "penguin: alias champion rolled back to version 1 (was 3)"
    # a never-moved alias: "only pointed at" is the right wording
    cli("promote", registry, "flights", "1", "--alias", "champion")
    out = cli("rollback", registry, "flights", "--alias", "champion")
    assert "it has only pointed at version 1" in out.stderr


def test_help_lists_every_action_with_text():
    out = cli("--help")
    assert out.returncode == 0
    for action in ("list", "show", "promote", "approve", "rollback", "verify", "history"):
        assert action in out.stdout
    for action in ("list", "show", "promote", "approve", "rollback", "verify", "history"):
        sub = cli(action, "--help")
        assert sub.returncode == 0
        assert "--format {table,json}" in sub.stdout
        after = sub.stdout.split("--format {table,json}", 1)[1]
        assert after.split("\n", 1)[0].strip() or after.split("\n")[1].strip().startswith("table:")
        assert "table:" in sub.stdout and "json:" in sub.stdout
    text = cli("--help").stdout
    line = next(x for x in text.splitlines() if x.strip().startswith("history"))
    assert len(line.split()) > 1  # has a help text


# -- registry list on a file, a missing folder, damaged manifests (issue 11 items 7, 9) --------


def _one_line_error(out, *needles):
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("tfx-addons-lab registry: error: ")
    assert "Traceback" not in out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("prefix", ["", "file://", "tfserving://", "mlflow+file://"])
def test_list_on_a_file_or_missing_folder_exits_2(tmp_path, prefix):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("hello")
    _one_line_error(cli("list", prefix + str(a_file)), "is a file, not a registry folder")
    _one_line_error(cli("list", prefix + str(a_file), "penguin"), "is a file")
    _one_line_error(cli("verify", prefix + str(a_file), "penguin"), "is a file")
    missing = tmp_path / "typo" / "registry"
    _one_line_error(cli("list", prefix + str(missing)), "does not exist")
    _one_line_error(cli("show", prefix + str(missing), "m", "1"), "does not exist")
    (tmp_path / "empty").mkdir()
    kind = "not a local MLflow registry" if prefix.startswith("mlflow") else "not a tfx-addons"
    _one_line_error(cli("list", prefix + str(tmp_path / "empty")), kind)
    # reading never creates anything (MLflow's local store would create mlflow.db)
    assert a_file.read_text() == "hello" and not missing.exists()
    assert os.listdir(tmp_path / "empty") == []


_DAMAGE = {
    "not-json": lambda m: "{not json",
    "array": lambda m: "[1, 2]",
    "metadata-list": lambda m: json.dumps({**m, "metadata": [1, 2]}),
    "checksums-string": lambda m: json.dumps({**m, "checksums": "abc"}),
    "checksum-values-int": lambda m: json.dumps({**m, "checksums": {"a": 1}}),
    "created-at-number": lambda m: json.dumps({**m, "created_at": 5}),
    "version-string": lambda m: json.dumps({**m, "version": "2"}),
    "empty": lambda m: "",
}


@pytest.mark.parametrize("damage", sorted(_DAMAGE))
@pytest.mark.parametrize("layout", ["file", "tfserving"])
def test_one_corrupt_manifest_does_not_block_the_registry(tmp_path, damage, layout):
    uri = f"{layout}://{tmp_path}/reg"
    reg = open_registry(uri)
    for seed in (1, 2, 3):
        reg.push("penguin", str(make_model(tmp_path / f"m{seed}", seed=seed)))
    reg.push("other", str(make_model(tmp_path / "o", seed=7)))
    v2 = reg.get("penguin", 2)
    if layout == "tfserving":
        manifest = Path(v2.uri) / ".tfx-addons-lab-manifest.json"
    else:
        manifest = Path(v2.uri).parent / "manifest.json"
    manifest.write_text(_DAMAGE[damage](json.loads(manifest.read_text())))

    out = cli("list", uri, "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = {r["model"]: r for r in json.loads(out.stdout)}
    assert rows["penguin"]["damaged"] == [2] and rows["penguin"]["versions"] == 3
    assert rows["other"]["damaged"] == [] and rows["other"]["error"] is None
    table_out = cli("list", uri)
    assert table_out.returncode == 0 and "damaged: 2" in table_out.stdout
    versions = json.loads(cli("list", uri, "penguin", "--format", "json").stdout)
    assert [(v["version"], bool(v["damaged"])) for v in versions] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    # verify reports the damaged version as FAILED (exit 1), the others ok
    out = cli("verify", uri, "penguin", "--format", "json")
    assert out.returncode == 1, out.stderr
    results = {r["version"]: r for r in json.loads(out.stdout)}
    assert results[1]["ok"] and results[3]["ok"] and not results[2]["ok"]
    assert results[2]["mismatches"][0].startswith("damaged: ")
    out = cli("verify", uri, "penguin", "2")
    assert out.returncode == 1 and "FAILED" in out.stdout
    # showing it is a readable refusal, never a TypeError
    _one_line_error(cli("show", uri, "penguin", "2"), "damaged")
    # pushes keep working and get a fresh number
    fresh = open_registry(uri)
    assert fresh.push("penguin", str(make_model(tmp_path / "m4", seed=4))).version == 4
    assert fresh.get("penguin", "latest").version == 4
    assert fresh.verify("penguin", 4).ok


def test_data_is_printed_escaped(tmp_path):
    root = str(tmp_path / "reg")
    reg = open_registry(root)
    evil = "run\n\x1b[2Jfake line"
    reg.push("m", str(make_model(tmp_path / "m", seed=1)), {"pipeline_run_id": evil})
    for args in (("list", root, "m"), ("show", root, "m", "1")):
        out = cli(*args)
        assert out.returncode == 0 and "\x1b" not in out.stdout
        assert "[2Jfake line" in out.stdout  # shown, escaped (\\e or JSON's \\u001b)
        assert not any(line.startswith("fake line") for line in out.stdout.splitlines())


# -- approvals and verdicts (issue 13) ---------------------------------------------------------


def test_approve_a_refused_version_then_list_show_history_and_rollback(tmp_path):
    root = str(tmp_path / "registry")
    reg = open_registry(root)
    reg.push("m", str(make_model(tmp_path / "a", seed=1)), {"verdict": {"status": "passed"}})
    reg.push(
        "m",
        str(make_model(tmp_path / "b", seed=2)),
        {"verdict": {"status": "refused", "reason": "drift in\x1b[31m temp"}},
    )
    reg.push(
        "m",
        str(make_model(tmp_path / "c", seed=3)),
        {"verdict": {"status": "refused", "reason": "auc 0.7"}},
    )
    reg.push("m", str(make_model(tmp_path / "d", seed=4)))  # pushed by hand: no verdict
    reg.set_alias("m", "champion", 1)
    out = cli(
        "approve", root, "m", "2", "--alias", "champion", "--justification",
        "seasonal drift\x1b[2J, see ML-42", "--by", "alice",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "m: alias champion -> version 2 (was 1), approved by alice: seasonal drift\\e[2J, "
        "see ML-42\n"
    )
    listed = cli("list", root, "m")
    assert listed.returncode == 0, listed.stderr
    header, _, *rows = listed.stdout.splitlines()
    column = header.split().index("VERDICT")
    assert [r.split()[0] for r in rows] == ["1", "2", "3", "4"]
    verdicts = {r.split()[0]: r for r in rows}
    assert " passed " in verdicts["1"] and " approved " in verdicts["2"]
    assert " refused " in verdicts["3"] and " - " in verdicts["4"]
    assert column > 0
    shown = cli("show", root, "m", "2")
    assert "verdict:    approved" in shown.stdout
    assert "reason:     refused, approved by alice: seasonal drift\\e[2J, see ML-42" in shown.stdout
    assert "\x1b" not in shown.stdout and "\x1b" not in listed.stdout
    shown = json.loads(cli("show", root, "m", "3", "--format", "json").stdout)
    assert (shown["verdict"], shown["verdict_reason"]) == ("refused", "auc 0.7")
    history = cli("history", root, "m", "--alias", "champion")
    lines = history.stdout.splitlines()
    assert lines[0].split() == ["WHEN", "(UTC)", "ACTION", "FROM", "TO", "BY", "JUSTIFICATION"]
    assert lines[-1].split()[2:] == [
        "approve",
        "1",
        "2",
        "alice",
        "seasonal",
        "drift\\e[2J,",
        "see",
        "ML-42",
    ]
    entries = json.loads(
        cli("history", root, "m", "--alias", "champion", "--format", "json").stdout
    )
    assert entries[-1]["by"] == "alice" and entries[-1]["action"] == "approve"
    assert entries[-1]["justification"] == "seasonal drift\x1b[2J, see ML-42"
    assert entries[0]["by"] is None and entries[0]["justification"] is None
    back = cli("rollback", root, "m", "--alias", "champion")
    assert back.returncode == 0 and "rolled back to version 1 (was 2)" in back.stdout


def test_approve_json_and_bad_input(registry):
    out = cli(
        "approve", registry, "penguin", "3", "--alias", "champion",
        "--justification", "ok", "--format", "json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["model"] == "penguin" and payload["alias"] == "champion"
    assert (payload["version"], payload["previous"], payload["action"]) == (3, None, "approve")
    assert payload["by"] and payload["justification"] == "ok" and _iso_with_tz(payload["set_at"])
    for args, words in (
        (("--justification", "  "), "justification is empty"),
        (("--justification", "ok", "--by", ""), "name who approves"),
    ):
        bad = cli("approve", registry, "penguin", "2", "--alias", "champion", *args)
        assert bad.returncode == 2 and words in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    missing = cli("approve", registry, "penguin", "2", "--alias", "champion")
    assert missing.returncode == 2 and "--justification" in missing.stderr
    assert open_registry(registry).aliases("penguin") == {"champion": 3}

"""``tfx-addons-lab drift-history`` and the run summary, on a real pipeline's ML Metadata.

The pipeline of :mod:`tests.cli.history_pipeline` runs over three spans (DriftValidator vs the
previous run, a SkewValidator, BlessingGate, RegistryPusher); then the champion alias is
rolled back once. The history page is checked in headless Chromium.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.cli.history_pipeline import HOSTILE, MODEL_NAME, PIPELINE, SPANS, run_history_pipeline
from tests.drift.test_html_browser import _dump_dom
from tfx_addons_lab.cli import main
from tfx_addons_lab.drift.history import (
    HISTORY_HTML,
    HISTORY_JSON,
    collect_drift_history,
    write_drift_history,
)
from tfx_addons_lab.errors import InvalidInputError
from tfx_addons_lab.mlmd import push_outcome

FEATURES = 10  # 9 flight columns + the hostile one


@pytest.fixture(scope="module")
def history_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("history")
    result = run_history_pipeline(base)
    from tfx_addons_lab.registry import open_registry

    open_registry(str(result["registry"])).rollback(MODEL_NAME, "champion")  # back to v1
    return result


@pytest.fixture(scope="module")
def history_page(history_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("history_page")
    doc = write_drift_history(
        str(history_run["metadata"]),
        str(out),
        registry_uri=str(history_run["registry"]),
        model_name=MODEL_NAME,
    )
    return out, doc


# ----------------------------------------------------------------------------- the document


@pytest.mark.e2e
def test_one_column_per_span_from_lineage(history_page):
    _, doc = history_page
    assert doc["pipeline"] == PIPELINE
    assert [c["label"] for c in doc["columns"]] == [f"span {s}" for s in SPANS]
    validators = {v["component"]: v for v in doc["validators"]}
    assert set(validators) == {"DriftValidator", "SkewValidator", "SplitsValidator"}
    drift = validators["DriftValidator"]
    assert [r["span"] for r in drift["runs"]] == list(SPANS)
    assert {r["span_source"] for r in drift["runs"]} == {"lineage"}
    assert [r["baseline_spans"] for r in drift["runs"]] == [None, [1], [2]]
    assert drift["runs"][0]["status"] == "no_baseline"
    assert len(drift["features"]) == FEATURES and HOSTILE in {f["name"] for f in drift["features"]}
    # the first span had no baseline: no measurement; the later ones are measured
    temp = next(f for f in drift["features"] if f["name"] == "temp")
    assert temp["cells"][0] is None and all(c["value"] is not None for c in temp["cells"][1:])
    # the skew comparison of every span is measured (eval vs train of the same statistics)
    skew = validators["SkewValidator"]
    assert all(r["status"] == "ok" for r in skew["runs"])
    # two comparisons: one row per comparison and feature, each linking to its own page
    splits = validators["SplitsValidator"]
    names = [f["name"] for f in splits["features"]]
    assert len(names) == 2 * FEATURES and "eval-vs-baseline-eval: temp" in names
    temp_eval = next(f for f in splits["features"] if f["name"] == "eval-vs-baseline-eval: temp")
    assert temp_eval["cells"][1]["link"].endswith("eval-vs-baseline-eval/report.html")


@pytest.mark.e2e
def test_gates_pushes_and_alias_history_on_the_same_axis(history_page):
    _, doc = history_page
    gates = sorted(doc["gates"], key=lambda g: g["column"])
    assert [(g["column"], g["blessed"]) for g in gates] == [(0, True), (1, True), (2, False)]
    assert "below floor 0.75" in gates[2]["reason"]
    assert all(g["report_html"] for g in gates)
    pushes = sorted(doc["pushes"], key=lambda p: p["column"])
    assert [(p["state"], p["registry_version"]) for p in pushes] == [
        ("pushed", 1),
        ("pushed", 2),
        ("refused", 3),
    ]
    events = doc["registry"]["events"]
    assert [(e["action"], e["version"]) for e in events] == [
        ("set", 1),
        ("set", 2),
        ("rollback", 1),
    ]
    assert [e["column"] for e in events[:2]] == [0, 1]
    assert events[2]["column"] == 2  # after the last run: the last column


@pytest.mark.e2e
def test_json_file_matches_the_document(history_page):
    out, doc = history_page
    saved = json.loads((out / HISTORY_JSON).read_text())
    assert saved["columns"] == json.loads(json.dumps(doc["columns"]))
    assert saved["kind"] == "drift_history" and saved["schema_version"] == 1


# ----------------------------------------------------------------------------- in the browser


@pytest.mark.e2e
@pytest.mark.browser
def test_history_page_in_chromium(history_page, tmp_path):
    import re

    out, doc = history_page
    page = out / HISTORY_HTML
    dom = _dump_dom(page, tmp_path)
    n_spans = len(SPANS)
    for i, v in enumerate(doc["validators"], 1):
        table = re.search(rf'<table[^>]*id="heatmap-{i}".*?</table>', dom, re.S).group(0)
        header = re.search(r"<thead>.*?</thead>", table, re.S).group(0)
        assert len(re.findall(r"<th[ >]", header)) == n_spans + 1  # feature + one per span
        rows = re.findall(r'<tr class="feature">.*?</tr>', table, re.S)
        assert len(rows) == len(v["features"]) in (FEATURES, 2 * FEATURES)
        assert all(len(re.findall(r"<td[ >]", r)) == n_spans for r in rows)
        assert table.count('class="bar"') == sum(1 for r in v["runs"] if r)
    # every link on the page resolves to a file next to the pipeline's artifacts
    hrefs = set(re.findall(r'href="([^"]+)"', dom))
    assert any(h.endswith("report.html") for h in hrefs)
    assert any(h.endswith("gate_report.html") for h in hrefs)
    for href in hrefs:
        assert (out / unquote(href)).resolve().is_file(), href
    # the hostile feature name is text, never markup
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;amp;" in dom
    assert "<img" not in dom.lower() and "<script" not in dom.lower()
    assert "span 1" in dom and "refused" in dom and "rollback" in dom
    shot = tmp_path / "history.png"
    subprocess.run(
        [
            "/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1300,1400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one


# ----------------------------------------------------------------------------- the CLI


@pytest.mark.e2e
def test_cli_writes_both_files_with_progress_on_stderr(history_run, tmp_path, capsys):
    out = tmp_path / "hist"
    code = main(
        [
            "drift-history",
            "--metadata",
            str(history_run["metadata"]),
            "--pipeline",
            PIPELINE,
            "--output",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out / HISTORY_HTML).is_file() and (out / HISTORY_JSON).is_file()
    assert "reading drift report 1/9" in captured.err
    assert str(out / HISTORY_HTML) in captured.out


@pytest.mark.e2e
def test_cli_unknown_pipeline_lists_the_known_ones(history_run, tmp_path, capsys):
    code = main(["drift-history", "--metadata", str(history_run["metadata"]), "--pipeline", "nope"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--pipeline 'nope' is not in this ML Metadata store" in err
    assert f"pipelines found: '{PIPELINE}'" in err


def test_cli_missing_or_invalid_metadata_exit_2_in_one_line(tmp_path, capsys):
    not_sqlite = tmp_path / "metadata.sqlite"
    not_sqlite.write_text("not a database")
    plain_sqlite = tmp_path / "other.sqlite"
    sqlite3.connect(plain_sqlite).execute("CREATE TABLE t (x)").connection.close()
    for path, why in (
        (tmp_path / "missing.sqlite", "does not exist"),
        (not_sqlite, "is not an SQLite file"),
        (plain_sqlite, "without ML Metadata's tables"),
    ):
        code = main(["drift-history", "-q", "--metadata", str(path), "--output", str(tmp_path)])
        err = capsys.readouterr().err
        assert code == 2 and why in err and err.count("\n") == 1, err
    assert not (tmp_path / HISTORY_HTML).exists()


def test_registry_without_model_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="--registry and --model go together"):
        collect_drift_history(str(tmp_path / "m.sqlite"), registry_uri=str(tmp_path))


def test_history_reads_a_report_on_a_ram_root_through_fileio(tmp_path):
    """The report.json of a DriftReport on ``ram://`` (no local path) is read through fileio."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    from tests.executors.conftest import register_ram_filesystem
    from tfx_addons_lab import _fileio

    register_ram_filesystem()
    uri = f"ram://history-{tmp_path.name}/DriftValidator/drift_report/1"
    _fileio.makedirs(uri)
    feature = {"name": "temp", "method": "ks", "kind": "p_value", "value": 0.001, "drifted": True}
    report = {"status": "ok", "dataset_drifted": True, "drift_share": 1.0, "features": [feature]}
    _fileio.write_json(_fileio.join(uri, "report.json"), report)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri, config.sqlite.connection_mode = str(tmp_path / "m.sqlite"), 3
    store = metadata_store.MetadataStore(config)
    art_type = store.put_artifact_type(pb.ArtifactType(name="tfx_addons_lab.DriftReport"))
    [art] = store.put_artifacts([pb.Artifact(type_id=art_type, uri=uri)])
    exe_type = store.put_execution_type(pb.ExecutionType(name="DriftValidator"))
    [exe] = store.put_executions([pb.Execution(type_id=exe_type)])
    store.put_events([pb.Event(artifact_id=art, execution_id=exe, type=pb.Event.OUTPUT)])
    doc = write_drift_history(str(tmp_path / "m.sqlite"), str(tmp_path / "out"))
    [validator] = doc["validators"]
    [run] = validator["runs"]
    assert run["report_found"] and run["status"] == "ok" and run["dataset_drifted"], run
    assert [(f["name"], f["cells"][0]["drifted"]) for f in validator["features"]] == [
        ("temp", True)
    ]
    assert (tmp_path / "out" / HISTORY_HTML).is_file()


# ----------------------------------------------------------------------------- run summary


@pytest.mark.e2e
def test_summary_names_comparisons_reports_and_working_next_steps(history_run):
    first, second, third = (history_run["summaries"][s] for s in SPANS)
    # span 2: what each drift validator compared, and the pushed version
    text = second["text"]
    assert "compared train" in text and "vs train" in text
    assert "compared eval" in text and f"/{FEATURES} features drifted" in text
    assert "push    RegistryPusher: pushed as version 2" in text
    assert "no baseline, nothing compared" in first["text"]
    # every report path printed exists: drift HTML, gate HTML and JSON
    reports = second["reports"]
    assert any(p.endswith("report.html") for p in reports)
    assert any(p.endswith("gate_report.html") for p in reports)
    assert any(p.endswith("gate_report.json") for p in reports)
    assert all(Path(p).is_file() and p in text for p in reports)
    # next steps work: the lineage of the pushed version, the drift history
    lineage = next(s for s in second["next_steps"] if " lineage " in s)
    assert lineage.endswith(f"{MODEL_NAME}@2")
    history = next(s for s in second["next_steps"] if "drift-history" in s)
    for step in (lineage, history):
        argv = shlex.split(step)
        assert argv[0] == "tfx-addons-lab"
        proc = subprocess.run(
            [sys.executable, "-m", "tfx_addons_lab", *argv[1:]],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    # span 3 was refused (recorded as version 3): no lineage command; how to see why
    assert "push    RegistryPusher: recorded as version 3 (refused)" in third["text"]
    assert not any(" lineage " in s for s in third["next_steps"])
    assert any("drift-history" in s for s in third["next_steps"])
    show = next(s for s in third["next_steps"] if " registry show " in s)
    proc = subprocess.run(
        [sys.executable, "-m", "tfx_addons_lab", *shlex.split(show)[1:]],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "refused" in proc.stdout, proc.stderr[-2000:]


def test_push_outcome_texts():
    assert push_outcome({"pushed": 1, "registry_version": 3}) == ("pushed", "pushed as version 3")
    assert push_outcome({"pushed": 1, "registry_version": 3, "registry_already_pushed": 1}) == (
        "already_pushed",
        "already pushed as version 3",
    )
    assert push_outcome({"pushed": 0, "registry_version": 4, "registry_verdict": "refused"}) == (
        "refused",
        "recorded as version 4 (refused)",
    )
    assert push_outcome(
        {"registry_version": 4, "registry_verdict": "refused", "registry_already_pushed": 1}
    ) == ("refused", "already recorded as version 4 (refused)")
    assert push_outcome({"pushed": 0}) == ("not_pushed", "not pushed (model not blessed)")
    assert push_outcome({"pushed": 1, "registry_version": 5, "registry_verdict": "passed"})[1] == (
        "pushed as version 5"
    )

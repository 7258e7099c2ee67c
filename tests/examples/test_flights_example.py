"""The flights continuous-training example on a few months (a short version of the demo)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

pytestmark = pytest.mark.e2e

MONTHS = 4  # Jan-Apr: the March->April temperature/humidity shift is flagged as drift


@pytest.fixture(scope="module")
def flights_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("flights")
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "flights" / "pipeline.py"),
            "--output-dir",
            str(out),
            "--months",
            str(MONTHS),
            "--rows-per-span",
            "3000",
            "--train-steps",
            "100",
            "--no-rollback",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


def _view(out: Path):
    from tfx_addons_lab.mlmd import MetadataView, open_sqlite_store

    return MetadataView(open_sqlite_store(str(out / "metadata.sqlite")))


def _by_component(view, type_name: str, component: str):
    return [
        a
        for a in view.artifacts_of_type(type_name)
        if view.component_id(view.producer(a.id)) == component
    ]


def test_one_run_per_span_with_drift_against_previous_span(flights_run):
    from tfx_addons_lab.mlmd import prop

    out, _ = flights_run
    view = _view(out)
    spans = [prop(a, "span") for a in _by_component(view, "Examples", "CsvExampleGen")]
    assert spans == list(range(1, MONTHS + 1))
    reports = _by_component(view, "tfx_addons_lab.DriftReport", "DriftValidator")
    assert len(reports) == MONTHS
    assert prop(reports[0], "status") == "no_baseline"
    assert all(prop(r, "status") != "no_baseline" for r in reports[1:])
    drifted = [i + 1 for i, r in enumerate(reports) if prop(r, "dataset_drifted")]
    assert drifted, "the seasonal shift should flag at least one month"
    # The report of a drifted month names weather features that really moved.
    report = json.loads(next(Path(reports[drifted[0] - 1].uri).rglob("report.json")).read_text())
    moved = {f["name"] for f in report["features"] if f["drifted"]}
    assert "temp" in moved


def test_gate_refuses_at_least_one_candidate_with_reasons(flights_run):
    from tfx_addons_lab.mlmd import prop

    out, stdout = flights_run
    view = _view(out)
    blessings = _by_component(view, "ModelBlessing", "BlessingGate")
    assert len(blessings) == MONTHS
    outcomes = [prop(b, "blessed") for b in blessings]
    assert 1 in outcomes and 0 in outcomes
    refused = [b for b in blessings if prop(b, "blessed") == 0]
    assert all(prop(b, "reason") for b in refused)
    gate_reports = _by_component(view, "tfx_addons_lab.GateReport", "BlessingGate")
    failed_checks = set()
    for rep in gate_reports:
        data = json.loads((Path(rep.uri) / "gate_report.json").read_text())
        failed_checks |= {c["name"] for c in data["checks"] if not c["passed"]}
    assert failed_checks
    assert "month" in stdout and "gate" in stdout  # the timeline table was printed


def test_registry_champion_and_rollback(flights_run):
    from tfx_addons_lab.mlmd import prop
    from tfx_addons_lab.registry import open_registry

    out, _ = flights_run
    view = _view(out)
    registry_uri = str(out / "registry")
    registry = open_registry(registry_uri)
    versions = [v.version for v in registry.list("flights")]
    pushed = [p for p in _by_component(view, "PushedModel", "RegistryPusher") if prop(p, "pushed")]
    assert len(versions) == len(pushed) >= 1
    champion = registry.aliases("flights")["champion"]
    assert champion == max(versions)
    if len(versions) >= 2:
        cli = str(Path(sys.executable).parent / "tfx-addons-lab")
        proc = subprocess.run(
            [cli, "registry", "rollback", registry_uri, "flights", "--alias", "champion"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert open_registry(registry_uri).aliases("flights")["champion"] == sorted(versions)[-2]

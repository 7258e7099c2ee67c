"""The flights continuous-training example on a few months (a short version of the demo)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .example_runs import by_component, metadata_view, run_example

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

pytestmark = pytest.mark.e2e

MONTHS = 4  # Jan-Apr: the March->April temperature/humidity shift is flagged as drift


@pytest.fixture(scope="module")
def flights_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("flights")
    stdout = run_example(
        "flights",
        out,
        "--months",
        str(MONTHS),
        "--rows-per-span",
        "3000",
        "--train-steps",
        "100",
        "--no-rollback",
    )
    return out, stdout


def test_one_run_per_span_with_drift_against_previous_span(flights_run):
    from tfx_addons_lab.mlmd import prop

    out, _ = flights_run
    view = metadata_view(out)
    spans = [prop(a, "span") for a in by_component(view, "Examples", "CsvExampleGen")]
    assert spans == list(range(1, MONTHS + 1))
    reports = by_component(view, "tfx_addons_lab.DriftReport", "DriftValidator")
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
    view = metadata_view(out)
    blessings = by_component(view, "ModelBlessing", "BlessingGate")
    assert len(blessings) == MONTHS
    outcomes = [prop(b, "blessed") for b in blessings]
    assert 1 in outcomes and 0 in outcomes
    refused = [b for b in blessings if prop(b, "blessed") == 0]
    assert all(prop(b, "reason") for b in refused)
    gate_reports = by_component(view, "tfx_addons_lab.GateReport", "BlessingGate")
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
    view = metadata_view(out)
    registry_uri = str(out / "registry")
    registry = open_registry(registry_uri)
    versions = [v.version for v in registry.list("flights")]
    pushed = [p for p in by_component(view, "PushedModel", "RegistryPusher") if prop(p, "pushed")]
    assert len(versions) == len(pushed) >= 1
    champion = registry.aliases("flights")["champion"]
    assert champion == max(versions)
    # January (first model) and February (no critical drift, beats January's model) are promoted.
    assert len(versions) >= 2
    # Each version records the span (month) it was trained on.
    assert registry.get("flights", 1).metadata["data_spans"] == [1]
    assert registry.get("flights", 2).metadata["data_spans"] == [2]
    cli = str(Path(sys.executable).parent / "tfx-addons-lab")
    proc = subprocess.run(
        [cli, "registry", "rollback", registry_uri, "flights", "--alias", "champion"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert open_registry(registry_uri).aliases("flights")["champion"] == sorted(versions)[-2]

"""``gate_report.html`` written by ``BlessingGateExecutor().Do()`` beside ``gate_report.json``,
and the page as headless Chromium shows it (verdict, champion side by side, every check)."""

from __future__ import annotations

import pytest

from tests.drift.test_html_browser import _dump_dom
from tests.executors import artifacts as make
from tests.executors.test_blessing_gate_executor import _inputs, _run
from tfx_addons_lab import artifact_io as io
from tfx_addons_lab.executors.blessing_gate import BlessingGateExecutor
from tfx_addons_lab.gates.html import gate_report_context, render_gate_report
from tfx_addons_lab.specs import blessing_gate as spec

METRIC = '<script>alert("m")</script>'
FEATURE = "<img src=x onerror=alert(1)>"


def _html(root) -> str:
    return io.read_text(io.join(root, "out_report", spec.GATE_REPORT_HTML_FILE))


def test_do_writes_the_html_page_beside_the_json(root):
    inputs = _inputs(root, metrics={"auc": 0.82}, baseline_metrics={"auc": 0.80})
    blessing, report = _run(
        BlessingGateExecutor(), root, inputs, champion_metric="auc", min_improvement=0.01
    )
    page = _html(root)
    assert report["blessed"] and "BLESSED" in page
    assert report["baseline_model"] == {"uri": io.join(root, "champ"), "id": 2}
    context = gate_report_context(report)
    (champion,) = context["champion"]
    assert (champion["candidate"], champion["champion"], champion["gain"]) == (
        "0.82",
        "0.8",
        "+0.02",
    )
    assert champion["required"] == "\u2265 +0.01" and champion["passed"]
    assert [c["name"] for c in context["checks"]] == [c["name"] for c in report["checks"]]
    assert page == render_gate_report(report)


def test_refused_candidate_page_names_the_failed_checks(local_root):
    inputs = _inputs(local_root, metrics={"auc": 0.65}, baseline_metrics={"auc": 0.80})
    _, report = _run(BlessingGateExecutor(), local_root, inputs, champion_metric="auc")
    context = gate_report_context(report)
    assert context["verdict"] == "NOT BLESSED" and context["n_failed"] == 2
    assert {c["name"] for c in context["checks"] if not c["passed"]} == {
        "metric:auc",
        "champion:auc",
    }
    assert context["champion"][0]["gain"] == "-0.15" and not context["champion"][0]["passed"]


@pytest.mark.browser
def test_gate_report_in_chromium_escapes_hostile_names(local_root, tmp_path):
    drift = {"dataset_drifted": True, "status": "ok", "drifted_features": [FEATURE]}
    inputs = _inputs(
        local_root,
        metrics={METRIC: 0.91},
        baseline_metrics={METRIC: 0.85},
        drift=(drift,),
    )
    inputs[spec.MODEL_BLESSING_KEY] = [make.blessing(io.join(local_root, "bless2"), 1)]
    _, report = _run(
        BlessingGateExecutor(),
        local_root,
        inputs,
        metric_thresholds={METRIC: {"lower_bound": 0.5}},
        champion_metric=METRIC,
    )
    assert not report["blessed"]  # the drift check fails
    page = io.join(local_root, "out_report", spec.GATE_REPORT_HTML_FILE)
    from pathlib import Path

    dom = _dump_dom(Path(page), tmp_path)
    assert "NOT BLESSED" in dom and "dataset drift detected" in dom
    # candidate and champion side by side, with the required gain
    assert "0.91" in dom and "0.85" in dom and "+0.06" in dom and "\u2265 +0" in dom
    assert "ML Metadata artifact 2" in dom
    # every hostile string is text: escaped in the DOM, never an element
    assert '&lt;script&gt;alert("m")&lt;/script&gt;' in dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom
    assert "<script" not in dom.lower() and "<img" not in dom.lower()
    assert dom.count('class="passed"') + dom.count('class="failed"') == len(report["checks"])

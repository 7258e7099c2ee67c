"""HTML through Jinja2 templates: the measurement cannot be misread, text from data is inert,
the index page of several comparisons, and config warnings in every output."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pytest

import tfx_addons_lab
from tfx_addons_lab._templates import render
from tfx_addons_lab.drift import (
    DriftConfig,
    DriftResult,
    combined_summary,
    combined_verdict,
    compare_statistics,
    describe_feature,
    fast_statistics_from_dataframe,
    index_document,
    render_html,
    render_index,
)

XSS = "<script>alert(1)</script>"


def _stats(df):
    return fast_statistics_from_dataframe(df)


def _row(page: str, name: str) -> str:
    m = re.search(
        r'<tr class="[^"]*"><td class="name">' + re.escape(name) + r"</td>.*?</tr>", page, re.S
    )
    assert m, name
    return m.group(0)


@pytest.fixture(scope="module")
def ks_no_drift():
    """A small-baseline ks comparison where one feature does not drift (p-value above 0.05)."""
    rng = np.random.default_rng(21)
    a = pd.DataFrame({"steady": rng.normal(0, 1, 400), "moved": rng.normal(0, 1, 400)})
    b = pd.DataFrame({"steady": rng.normal(0.05, 1, 400), "moved": rng.normal(1, 1, 400)})
    return compare_statistics(_stats(a), _stats(b))


def test_statistic_p_value_and_rule_are_separate(ks_no_drift):
    steady = ks_no_drift.feature("steady")
    assert steady.method == "ks" and not steady.drifted and steady.p_value > 0.05
    page = render_html(ks_no_drift)
    row = _row(page, "steady")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    text = [re.sub(r"<[^>]+>", " ", c).strip() for c in cells]
    assert "no drift" in text[1]
    assert text[4].startswith("D = ") and f"{steady.statistic:.4f}"[:5] in text[4]
    assert text[5].startswith("p = ")
    assert text[6] == "drift if p-value &lt; 0.05"
    # The old, misleading form "ks = <p-value> (p < 0.05)" is gone.
    assert not re.search(r"ks</code>\s*=", page)
    moved = _row(page, "moved")
    assert "DRIFT" in moved and "drift if p-value &lt; 0.05" in moved
    # The text table has the same three columns.
    table = ks_no_drift.to_text_table()
    line = next(ln for ln in table.splitlines() if ln.startswith("steady"))
    assert "p-value < 0.05" in line and f"{steady.statistic:.4f}".rstrip("0") in line


def test_distance_rule_names_the_statistic(synthetic_stats):
    sa, sb = synthetic_stats
    page = render_html(compare_statistics(sa, sb, DriftConfig(small_baseline_rows=0)))
    row = _row(page, "colour")
    assert "statistic = " in row and "drift if statistic &gt;= 0.1" in row
    assert "p = " not in row


@pytest.mark.parametrize(
    "hostile",
    [XSS, '"><img src=x onerror=alert(1)>', "a&b<i>", "{{ 7*7 }}", "x\u202etxt.exe", "\x1b[2J"],
)
def test_text_from_data_is_escaped(hostile):
    rng = np.random.default_rng(1)
    a = pd.DataFrame({hostile: rng.normal(0, 1, 300), "c": rng.choice([hostile, "y"], 300)})
    b = pd.DataFrame(
        {hostile: rng.normal(2, 1, 300), "c": rng.choice([hostile, "z" + hostile], 300)}
    )
    report = compare_statistics(_stats(a), _stats(b), baseline_name=hostile, current_name="cur")
    page = render_html(report)
    assert "<script" not in page and "<img" not in page and "<i>" not in page
    if hostile == "{{ 7*7 }}":
        assert "{{ 7*7 }}" in page  # data is never evaluated as a template
    if "<" in hostile:
        assert hostile not in page


def test_templates_are_strict_autoescaped_package_data():
    folder = Path(tfx_addons_lab.__file__).parent / "templates"
    assert {p.name for p in folder.glob("*.html.j2")} >= {
        "drift_report.html.j2",
        "drift_index.html.j2",
    }
    with pytest.raises(jinja2.UndefinedError):
        render("drift_index.html.j2", title="t")  # the other variables are missing
    with pytest.raises(jinja2.TemplateNotFound):
        render("no_such.html.j2")
    page = render("drift_index.html.j2", title=XSS, verdict=XSS, drift_share="1%", comparisons=[])
    assert XSS not in page and "&lt;script&gt;" in page


def _result(drifted: bool, name: str, missing=()):
    rng = np.random.default_rng(5)
    a = pd.DataFrame({"x": rng.normal(0, 1, 500), "bad": rng.normal(0, 1, 500)})
    b = pd.DataFrame({"x": rng.normal(3 if drifted else 0, 1, 500), "bad": rng.normal(0, 1, 500)})
    if missing:
        b["bad"] = np.inf
    return compare_statistics(_stats(a), _stats(b), baseline_name=f"{name}-base", current_name=name)


def test_index_document_and_page():
    one, two, three = _result(True, "eval"), _result(False, "serving"), _result(False, "x", (1,))
    comparisons = [
        ("eval-vs-train", {"current": "eval", "baseline": "train"}, one),
        ("serving-vs-train", {"current": "serving", "baseline": "train"}, two),
        ("javascript:alert(1)", {"current": "x", "baseline": "train"}, three),
    ]
    index = index_document(comparisons)
    assert index["kind"] == "index" and index["schema_version"] == 1
    assert index["dataset_drifted"] is True and index["drifted_features"] == ["x"]
    assert index["not_evaluated_features"] == ["bad"]
    assert index["comparisons"][0]["report"] == "eval-vs-train/report.json"
    assert index["comparisons"][1]["html"] == "serving-vs-train/report.html"
    assert combined_verdict([two])["dataset_drifted"] is False
    assert combined_verdict([three])["dataset_drifted"] is True  # fail closed
    no_base = compare_statistics(None, _stats(pd.DataFrame({"x": [1.0, 2.0]})))
    assert combined_verdict([no_base])["status"] == "no_baseline"
    page = render_index(index)
    assert "DATASET DRIFT" in page and 'href="eval-vs-train/report.html"' in page
    assert 'href="javascript' not in page and ">javascript:alert(1)</a>" in page
    assert 'href="#"' in page  # a scheme in a link is never emitted
    line = combined_summary([(n, r) for n, _, r in comparisons])
    assert line.count(" | ") == 2 and "\n" not in line
    assert describe_feature(one.feature("x")).startswith("x (ks p-value ")
    assert render_index(index_document([("n", {}, no_base)]))


def test_unknown_feature_names_in_the_config_warn_everywhere(caplog):
    rng = np.random.default_rng(9)
    a = pd.DataFrame({"fare": rng.normal(0, 1, 300), "tip": rng.normal(0, 1, 300)})
    b = pd.DataFrame({"fare": rng.normal(0, 1, 300), "tip": rng.normal(0, 1, 300)})
    config = {
        "feature_methods": {"Fare": "psi", "fare": "ks"},
        "feature_thresholds": {"tipp": 0.2},
        "exclude": ["nothere"],
        "categorical_features": ["\x1b[2Jfake"],
    }
    with caplog.at_level(logging.WARNING, logger="tfx_addons_lab.drift.compare"):
        report = compare_statistics(_stats(a), _stats(b), config)
    assert len(report.warnings) == 4
    assert any("feature_methods names 'Fare'" in w for w in report.warnings)
    assert any("feature_thresholds names 'tipp'" in w for w in report.warnings)
    assert not any("'fare'" in w for w in report.warnings)
    assert report.to_dict()["warnings"] == report.warnings
    assert DriftResult.from_json(report.to_json()).warnings == report.warnings
    assert "Fare" in render_html(report) and 'id="warnings"' in render_html(report)
    table = report.to_text_table()
    assert table.count("warning: ") == 4 and "\x1b" not in table
    logged = [r.getMessage() for r in caplog.records]
    assert sum("drift config:" in m for m in logged) == 4
    assert compare_statistics(_stats(a), _stats(b)).warnings == []

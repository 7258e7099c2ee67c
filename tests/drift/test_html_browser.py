"""The HTML report rendered by a real headless browser (Debian chromium)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from tfx_addons_lab.drift import compare_statistics, render_html

XSS = "<script>alert(1)</script>"


def _dump_dom(html_path, tmp_path) -> str:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--dump-dom",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.browser
def test_report_renders_in_chromium(make_stats, tmp_path):
    rng = np.random.default_rng(5)
    a = pd.DataFrame({"dep_delay": rng.normal(0, 1, 800), XSS: rng.normal(0, 1, 800)})
    b = pd.DataFrame({"dep_delay": rng.normal(1, 1, 800), XSS: rng.normal(1, 1, 800)})
    report = compare_statistics(make_stats(a), make_stats(b))
    assert report.dataset_drifted
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    dom = _dump_dom(page, tmp_path)
    assert "Dataset drift detected" in dom
    assert "dep_delay" in dom
    # The hostile feature name is shown as text: escaped in the DOM, no script element.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom.lower()
    assert dom.count("<svg") == 2 and dom.count("<rect") >= 4

"""A self-contained HTML page for a :class:`~tfx_addons_lab.drift.DriftResult`.

No script, no external URL: inline CSS and one small inline SVG bar chart per feature. Every
string that comes from the data (feature names, categories, notes, names of the two sides) is
escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
from typing import List

from tfx_addons_lab.drift.report import DriftResult, FeatureDrift, _fmt

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;
max-width:1100px}
h1{font-size:1.4em;margin:0 0 4px} .sub{color:#555;margin:0 0 16px}
.verdict{padding:14px 18px;border-radius:6px;font-size:1.15em;font-weight:600;margin:8px 0 18px}
.verdict.drift{background:#fde2e1;border:1px solid #e0a0a0;color:#8a1c1c}
.verdict.ok{background:#e3f4e4;border:1px solid #9bcf9f;color:#1d5e22}
.verdict.none{background:#eef0f3;border:1px solid #c5cad3;color:#333}
table{border-collapse:collapse;width:100%} th,td{padding:6px 8px;border-bottom:1px solid #e4e4e4;
text-align:left;vertical-align:top;font-size:0.92em} th{background:#f6f6f6}
tr.drifted td.name{color:#8a1c1c;font-weight:600}
.tag{display:inline-block;padding:1px 6px;border-radius:3px;font-size:0.85em}
.tag.d{background:#c62828;color:#fff} .tag.n{background:#e0e0e0;color:#333}
.note{color:#666;font-size:0.85em} .legend span{display:inline-block;width:10px;height:10px;
margin:0 4px 0 12px} code{background:#f3f3f3;padding:0 3px}
"""

_BASE_COLOR = "#5b8def"
_CUR_COLOR = "#f2994a"


def _e(v) -> str:
    return html.escape(str(v), quote=True)


def _svg(f: FeatureDrift, width: int = 260, height: int = 70) -> str:
    hist = f.histogram or {}
    base: List[float] = list(hist.get("baseline") or [])
    cur: List[float] = list(hist.get("current") or [])
    bins = list(hist.get("bins") or [])
    n = min(len(base), len(cur))
    if n == 0:
        return '<span class="note">no picture</span>'
    numeric = f.type == "numeric" and len(bins) == n + 1
    top = max(max(base[:n]), max(cur[:n]), 1e-12)
    slot = width / n
    bar = max(slot / 2 - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 14}" '
        f'role="img" aria-label="{_e("baseline vs current of " + f.name)}">'
    ]
    for i in range(n):
        x = i * slot
        for j, (share, color) in enumerate(((base[i], _BASE_COLOR), (cur[i], _CUR_COLOR))):
            h = height * float(share) / top
            label = (
                f"[{_fmt(bins[i])}, {_fmt(bins[i + 1])}]"
                if numeric
                else str(bins[i])
                if i < len(bins)
                else ""
            )
            side = "baseline" if j == 0 else "current"
            parts.append(
                f'<rect x="{x + j * bar:.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{_e(label)} {side}: '
                f"{float(share):.1%}</title></rect>"
            )
    if numeric:
        parts.append(
            f'<text x="0" y="{height + 12}" font-size="10" fill="#666">{_e(_fmt(bins[0]))}</text>'
            f'<text x="{width}" y="{height + 12}" font-size="10" fill="#666" '
            f'text-anchor="end">{_e(_fmt(bins[-1]))}</text>'
        )
    else:
        shown = ", ".join(str(b) for b in bins[:4]) + (" ..." if len(bins) > 4 else "")
        parts.append(
            f'<text x="0" y="{height + 12}" font-size="10" fill="#666">{_e(shown[:60])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _row(f: FeatureDrift) -> str:
    tag = '<span class="tag d">DRIFT</span>' if f.drifted else '<span class="tag n">no drift</span>'
    if f.method:
        rule = "p &lt; " if f.kind == "p_value" else "&ge; "
        value = _fmt(f.value)
        if f.p_value_adjusted is not None:
            value += f" (adj. {_fmt(f.p_value_adjusted)})"
        measure = f"<code>{_e(f.method)}</code> = {_e(value)} ({rule}{_e(_fmt(f.threshold))})"
        if f.kind == "p_value" and f.statistic is not None:
            measure += f'<br><span class="note">statistic {_e(_fmt(f.statistic))}</span>'
    else:
        measure = "&mdash;"
    b, c = f.baseline or {}, f.current or {}
    counts = (
        f"{_e(_fmt(b.get('count')))} / {_e(_fmt(c.get('count')))}"
        f'<br><span class="note">missing {_e(_fmt(b.get("missing")))} / '
        f"{_e(_fmt(c.get('missing')))}</span>"
    )
    note = _e(f.note) if f.note else ""
    if f.new_categories:
        shown = ", ".join(f.new_categories[:10])
        note += ("<br>" if note else "") + "new: " + _e(shown)
    cls = "drifted" if f.drifted else ""
    return (
        f'<tr class="{cls}"><td class="name">{_e(f.name)}</td><td>{tag}</td>'
        f'<td>{_e(f.type)}<br><span class="note">{_e(f.status)}</span></td>'
        f"<td>{measure}</td><td>{counts}</td><td>{_svg(f)}</td>"
        f'<td class="note">{note}</td></tr>'
    )


def render_html(report: DriftResult, title: str = "Data drift report") -> str:
    """Render ``report`` as one self-contained HTML document (a string)."""
    if report.status == "no_baseline":
        cls, verdict = "none", "No baseline: nothing to compare with, not drifted"
    elif report.dataset_drifted:
        cls, verdict = "drift", "Dataset drift detected"
    else:
        cls, verdict = "ok", "No dataset drift"
    detail = report.summary_line()
    rows = "\n".join(_row(f) for f in report.sorted_features())
    corr = f", correction: {_e(report.correction)}" if report.correction else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{_e(title)}</h1>
<p class="sub">baseline <b>{_e(report.baseline_name)}</b> vs current
<b>{_e(report.current_name)}</b></p>
<div class="verdict {cls}" id="verdict">{_e(verdict)}<br>
<span style="font-weight:400;font-size:0.85em">{_e(detail)}</span></div>
<p>{report.n_drifted} of {report.n_features} features drifted
({report.drift_share:.0%}; the dataset drifts at &ge; {report.drift_share_threshold:.0%}{corr}).
<span class="legend"><span style="background:{_BASE_COLOR}"></span>baseline
<span style="background:{_CUR_COLOR}"></span>current</span></p>
<table id="features">
<thead><tr><th>feature</th><th>verdict</th><th>type / status</th><th>measurement</th>
<th>count (baseline / current)</th><th>distribution</th><th>note</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p class="note">Generated by tfx-addons-lab drift (report schema v{report.schema_version}).
p-value methods flag drift when p &lt; threshold; distance methods when value &ge; threshold.</p>
</body></html>
"""

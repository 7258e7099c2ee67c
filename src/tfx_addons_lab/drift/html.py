"""Self-contained HTML pages for drift results, rendered from Jinja2 templates.

* :func:`render_html`: the page of one :class:`~tfx_addons_lab.drift.DriftResult`
  (template ``drift_report.html.j2``).
* :func:`render_index`: the page linking several comparisons (``drift_index.html.j2``),
  from the index document of :func:`~tfx_addons_lab.drift.report.index_document`.

No script, no external URL: inline CSS and one small inline SVG bar chart per feature. The
templates are autoescaped (see :mod:`tfx_addons_lab._templates`), so every string that comes
from the data (feature names, categories, notes, names of the two sides) is shown as text.
The measurement is shown as three separate cells (the statistic, the p-value and the drift
rule) so a p-value cannot be read as the statistic or the rule as the result.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional

from tfx_addons_lab.drift.report import NOT_EVALUATED, DriftResult, FeatureDrift, _fmt

BASE_COLOR = "#5b8def"
CUR_COLOR = "#f2994a"

#: How the statistic of each built-in method is labelled in the HTML report.
STATISTIC_LABELS = {"ks": "D", "chi_square": "\u03c7\u00b2"}


def _svg(f: FeatureDrift, width: int = 260, height: int = 70) -> Optional[Dict[str, Any]]:
    """Bar-chart data of a feature's histogram (None when there is nothing to draw)."""
    hist = f.histogram or {}
    base: List[float] = list(hist.get("baseline") or [])
    cur: List[float] = list(hist.get("current") or [])
    bins = list(hist.get("bins") or [])
    n = min(len(base), len(cur))
    if n == 0:
        return None
    numeric = f.type == "numeric" and len(bins) == n + 1
    top = max(max(base[:n]), max(cur[:n]), 1e-12)
    slot = width / n
    bar = max(slot / 2 - 1, 1)
    bars = []
    for i in range(n):
        if numeric:
            label = f"[{_fmt(bins[i])}, {_fmt(bins[i + 1])}]"
        else:
            label = str(bins[i]) if i < len(bins) else ""
        for j, (share, color) in enumerate(((base[i], BASE_COLOR), (cur[i], CUR_COLOR))):
            h = height * float(share) / top
            side = "baseline" if j == 0 else "current"
            bars.append(
                {
                    "x": f"{i * slot + j * bar:.1f}",
                    "y": f"{height - h:.1f}",
                    "w": f"{bar:.1f}",
                    "h": f"{h:.1f}",
                    "color": color,
                    "title": f"{label} {side}: {float(share):.1%}",
                }
            )
    if numeric:
        left, right = _fmt(bins[0]), _fmt(bins[-1])
    else:
        left = (", ".join(str(b) for b in bins[:4]) + (" ..." if len(bins) > 4 else ""))[:60]
        right = None
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "left_label": left,
        "right_label": right,
    }


def _row(f: FeatureDrift) -> Dict[str, Any]:
    if f.drifted:
        tag, tag_class = "DRIFT", "d"
    elif f.status == NOT_EVALUATED:
        tag, tag_class = "not evaluated", "u"
    else:
        tag, tag_class = "no drift", "n"
    b, c = f.baseline or {}, f.current or {}
    nonfinite = ""
    if b.get("nonfinite") or c.get("nonfinite"):
        nonfinite = f"{_fmt(b.get('nonfinite') or 0)} / {_fmt(c.get('nonfinite') or 0)}"
    measured = bool(f.method) and f.statistic is not None
    return {
        "name": f.name,
        "row_class": "drifted" if f.drifted else "",
        "tag": tag,
        "tag_class": tag_class,
        "type": f.type,
        "status": f.status,
        "method": f.method if measured else None,
        "statistic_label": STATISTIC_LABELS.get(f.method or "", "statistic"),
        "statistic": _fmt(f.statistic) if measured else None,
        "p_value": _fmt(f.p_value) if f.p_value is not None else None,
        "p_adjusted": _fmt(f.p_value_adjusted) if f.p_value_adjusted is not None else None,
        "rule": f.rule if measured else "",
        "count_b": _fmt(b.get("count")),
        "count_c": _fmt(c.get("count")),
        "missing_b": _fmt(b.get("missing")),
        "missing_c": _fmt(c.get("missing")),
        "nonfinite": nonfinite,
        "note": f.note or "",
        "new_categories": ", ".join(str(v) for v in f.new_categories[:10]),
        "svg": _svg(f),
    }


def render_html(report: DriftResult, title: str = "Data drift report") -> str:
    """Render ``report`` as one self-contained HTML document (a string)."""
    from tfx_addons_lab._templates import render

    if report.status == "no_baseline":
        cls, verdict = "none", "No baseline: nothing to compare with, not drifted"
    elif report.dataset_drifted and report.fails_closed and report.n_drifted == 0:
        cls, verdict = "drift", "Dataset drift assumed: features could not be evaluated"
    elif report.dataset_drifted:
        cls, verdict = "drift", "Dataset drift detected"
    else:
        cls, verdict = "ok", "No dataset drift"
    return render(
        "drift_report.html.j2",
        title=title,
        baseline_name=report.baseline_name,
        current_name=report.current_name,
        verdict_class=cls,
        verdict=verdict,
        detail=report.summary_line(),
        warnings=list(report.warnings),
        n_drifted=report.n_drifted,
        n_features=report.n_features,
        share=f"{report.drift_share:.0%}",
        share_threshold=f"{report.drift_share_threshold:.0%}",
        correction=report.correction,
        n_not_evaluated=len(report.not_evaluated_features),
        not_evaluated_policy="they fail the verdict" if report.fails_closed else "ignored",
        base_color=BASE_COLOR,
        cur_color=CUR_COLOR,
        rows=[_row(f) for f in report.sorted_features()],
        schema_version=report.schema_version,
    )


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _relative_link(href: Any) -> str:
    """``href`` when it is a relative path, else ``#`` (no ``javascript:`` or remote URL)."""
    href = str(href or "")
    if _SCHEME.match(href) or href.startswith(("//", "\\")):
        return "#"
    return href


def render_index(index: Mapping[str, Any], title: str = "Drift reports") -> str:
    """The HTML page linking several comparisons' reports.

    Args:
      index: the document of :func:`~tfx_addons_lab.drift.report.index_document` (what the
        DriftValidator writes as the root ``report.json`` of several comparisons): keys
        ``dataset_drifted``, ``status``, ``drift_share`` and ``comparisons`` (each with
        ``name``, ``html``, ``current_name``, ``baseline_name``, ``status``,
        ``dataset_drifted``, ``drift_share``, ``drifted_features`` and optionally
        ``not_evaluated_features``).
      title: the page title.
    """
    from tfx_addons_lab._templates import render

    if index.get("status") == "no_baseline":
        verdict = "no baseline"
    else:
        verdict = "DATASET DRIFT" if index.get("dataset_drifted") else "no dataset drift"
    comparisons = []
    for c in index.get("comparisons") or []:
        if c.get("status") == "no_baseline":
            state = "no baseline"
        else:
            state = "DRIFT" if c.get("dataset_drifted") else "ok"
        comparisons.append(
            {
                "name": c.get("name", ""),
                "html": _relative_link(c.get("html")),
                "current_name": c.get("current_name", ""),
                "baseline_name": c.get("baseline_name", ""),
                "state": state,
                "drift_share": f"{float(c.get('drift_share') or 0.0):.0%}",
                "drifted_features": ", ".join(map(str, c.get("drifted_features") or [])),
                "not_evaluated": ", ".join(map(str, c.get("not_evaluated_features") or [])),
            }
        )
    return render(
        "drift_index.html.j2",
        title=title,
        verdict=verdict,
        drift_share=f"{float(index.get('drift_share') or 0.0):.0%}",
        comparisons=comparisons,
    )

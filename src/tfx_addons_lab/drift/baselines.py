"""Which earlier statistics form the baseline of a run, and how each side is named (no TFX).

The resolver strategies of :mod:`tfx_addons_lab.components.baseline_resolver` and the
DriftValidator executor share this logic:

* :class:`BaselinePolicy` -- a resolver mode and its argument, validated when the pipeline is
  built (``previous_run``, ``previous_span``, ``same_span_offset`` with ``span_offset``,
  ``rolling_window`` with ``window``);
* :func:`choose_baseline` -- the baseline among earlier statistics, given as
  :class:`Candidate` (an id, a creation order and a span); :class:`BaselineChoice` also says
  which spans were wanted and which are missing, so "no baseline" always has a reason;
* :func:`format_spans` / :func:`side_label` -- ``train@span 2013``, ``train@spans 2010-2012``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, List, Optional, Sequence, Tuple

from tfx_addons_lab.errors import InvalidInputError

__all__ = [
    "MODES",
    "BaselineChoice",
    "BaselinePolicy",
    "Candidate",
    "choose_baseline",
    "format_spans",
    "side_label",
]

PREVIOUS_RUN = "previous_run"
PREVIOUS_SPAN = "previous_span"
SAME_SPAN_OFFSET = "same_span_offset"
ROLLING_WINDOW = "rolling_window"
#: Resolver modes, in the order the documentation lists them.
MODES = (PREVIOUS_RUN, PREVIOUS_SPAN, SAME_SPAN_OFFSET, ROLLING_WINDOW)
#: Modes that read spans (custom resolver strategies; not compiled by KubeflowV2DagRunner).
SPAN_MODES = (PREVIOUS_SPAN, SAME_SPAN_OFFSET, ROLLING_WINDOW)


def _positive_int(value: Any, name: str, mode: str, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(
            f"baseline_statistics_resolver(mode={mode!r}) needs {name} as a whole number >= 1, "
            f"got {value!r}; e.g. {example}"
        )
    return int(value)


@dataclass(frozen=True)
class BaselinePolicy:
    """How the baseline of a run is chosen.

    Attributes:
      mode: one of :data:`MODES`.
      span_offset: ``same_span_offset`` only: the baseline is span ``current - span_offset``
        (12 for monthly spans: the same month a year earlier).
      window: ``rolling_window`` only: the baseline merges spans ``current - window`` to
        ``current - 1``.
    """

    mode: str = PREVIOUS_RUN
    span_offset: Optional[int] = None
    window: Optional[int] = None

    @classmethod
    def build(
        cls, mode: str, span_offset: Optional[int] = None, window: Optional[int] = None
    ) -> BaselinePolicy:
        """Validate the arguments of ``baseline_statistics_resolver`` (pipeline-build time).

        Raises:
          InvalidInputError: an unknown mode, a missing/invalid ``span_offset`` or
            ``window``, or one given to a mode that does not use it.
        """
        if mode not in MODES:
            raise InvalidInputError(
                f"baseline_statistics_resolver mode {mode!r} is unknown; use one of {MODES}"
            )
        if span_offset is not None and mode != SAME_SPAN_OFFSET:
            raise InvalidInputError(
                f"baseline_statistics_resolver: span_offset={span_offset!r} applies only to "
                f"mode='same_span_offset' (got mode={mode!r}); drop it or change the mode"
            )
        if window is not None and mode != ROLLING_WINDOW:
            raise InvalidInputError(
                f"baseline_statistics_resolver: window={window!r} applies only to "
                f"mode='rolling_window' (got mode={mode!r}); drop it or change the mode"
            )
        if mode == SAME_SPAN_OFFSET:
            span_offset = _positive_int(
                span_offset, "span_offset", mode, "span_offset=12 for the same month last year"
            )
        if mode == ROLLING_WINDOW:
            window = _positive_int(window, "window", mode, "window=3 for the last three spans")
        return cls(mode, span_offset, window)

    def to_dict(self) -> Dict[str, Any]:
        """``{"mode": ..., "span_offset": ..., "window": ...}`` without the ``None`` entries."""
        d: Dict[str, Any] = {"mode": self.mode}
        if self.span_offset is not None:
            d["span_offset"] = self.span_offset
        if self.window is not None:
            d["window"] = self.window
        return d

    def to_json(self) -> str:
        """:meth:`to_dict` as sorted JSON (the DriftValidator ``baseline_policy`` parameter)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: Optional[str]) -> Optional[BaselinePolicy]:
        """Inverse of :meth:`to_json`; ``None`` for an empty text (policy unknown)."""
        if not text:
            return None
        d = json.loads(text)
        return cls.build(d.get("mode", PREVIOUS_RUN), d.get("span_offset"), d.get("window"))

    def wanted_spans(self, current_span: Optional[int]) -> Optional[List[int]]:
        """The spans this policy asks for, given the current span (``None`` if not span-fixed)."""
        if not current_span:
            return None
        if self.mode == SAME_SPAN_OFFSET:
            return [current_span - int(self.span_offset or 0)]
        if self.mode == ROLLING_WINDOW:
            return list(range(current_span - int(self.window or 0), current_span))
        return None

    def describe(self) -> str:
        """``same span 12 spans earlier``-like phrase for reports."""
        if self.mode == SAME_SPAN_OFFSET:
            return f"the span {self.span_offset} before the current one"
        if self.mode == ROLLING_WINDOW:
            return f"the {self.window} spans before the current one, merged"
        if self.mode == PREVIOUS_SPAN:
            return "the latest span before the current one"
        return "the statistics of the previous run"


@dataclass(frozen=True)
class Candidate:
    """An earlier statistics artifact as the selection sees it.

    Attributes:
      key: what identifies it to the caller (an artifact id, the artifact itself...).
      created: sort key of its creation (e.g. ``(create_time, id)``); larger is newer.
      span: its span (0 when unknown).
    """

    key: Hashable
    created: Tuple
    span: int = 0


@dataclass
class BaselineChoice:
    """Result of :func:`choose_baseline`.

    Attributes:
      keys: the chosen candidates' keys, oldest span first (empty: no baseline).
      spans: their spans, same order.
      wanted: the spans the policy asked for (``None`` for modes not fixed to spans).
      missing: wanted spans with no statistics.
      reason: why nothing was chosen, or which wanted spans are missing ('' otherwise).
    """

    keys: List[Hashable] = field(default_factory=list)
    spans: List[int] = field(default_factory=list)
    wanted: Optional[List[int]] = None
    missing: List[int] = field(default_factory=list)
    reason: str = ""


def choose_baseline(
    history: Sequence[Candidate],
    current: Optional[Candidate],
    policy: BaselinePolicy,
) -> BaselineChoice:
    """Choose the baseline of ``current`` among ``history`` (the logic of the resolvers).

    Only candidates created before ``current`` count (never ``current`` itself). By mode:

    * ``previous_run``: the newest one;
    * ``previous_span``: the newest of the largest span strictly below the current span;
    * ``same_span_offset``: the newest of span ``current - span_offset``;
    * ``rolling_window``: the newest of each span ``current - window`` .. ``current - 1``
      present (a partial window when spans are missing; ``missing`` names them).

    ``current=None`` takes the newest of ``history`` as current.
    """
    history = sorted(history, key=lambda c: c.created)
    if current is None:
        if not history:
            return BaselineChoice(reason="no statistics at all")
        current = history[-1]
    older = [c for c in history if c.key != current.key and c.created < current.created]
    if policy.mode == PREVIOUS_RUN:
        if not older:
            return BaselineChoice(reason="no earlier run published statistics (first run)")
        return BaselineChoice([older[-1].key], [older[-1].span])
    cur_span = current.span
    if not cur_span:
        return BaselineChoice(
            reason="the current statistics have no span (neither on the artifact nor on the "
            "Examples it was computed from), so no span-based baseline can be chosen"
        )
    newest: Dict[int, Candidate] = {}
    for c in older:  # sorted oldest first: the last one of a span is its latest version
        newest[c.span] = c
    if policy.mode == PREVIOUS_SPAN:
        below = [s for s in newest if s < cur_span]
        if not below:
            return BaselineChoice(reason=f"no statistics of a span before span {cur_span}")
        best = newest[max(below)]
        return BaselineChoice([best.key], [best.span])
    wanted = policy.wanted_spans(cur_span) or []
    found = [s for s in wanted if s in newest]
    missing = [s for s in wanted if s not in newest]
    choice = BaselineChoice([newest[s].key for s in found], found, wanted=wanted, missing=missing)
    if not found:
        what = f"span {wanted[0]}" if len(wanted) == 1 else f"spans {format_spans(wanted)}"
        choice.reason = f"no statistics of {what} ({policy.describe()}, current span {cur_span})"
    elif missing:
        choice.reason = (
            f"spans {format_spans(missing)} of the window {format_spans(wanted)} have no "
            "statistics; the baseline merges the others"
        )
    return choice


def format_spans(spans: Sequence[int]) -> str:
    """``2012``, ``2010-2012`` (consecutive) or ``2010, 2012`` (a gap); '' for none."""
    spans = sorted(set(int(s) for s in spans))
    if not spans:
        return ""
    if len(spans) > 1 and spans[-1] - spans[0] == len(spans) - 1:
        joiner = " to " if spans[0] < 0 else "-"  # "-3 to -1", never "-3--1"
        return f"{spans[0]}{joiner}{spans[-1]}"
    return ", ".join(str(s) for s in spans)


def parse_spans(text: str) -> Optional[List[int]]:
    """The spans of a :func:`format_spans` text (``"2012"``, ``"2010-2012"``, ``"2010, 2012"``,
    ``"-3 to -1"``); ``None`` for ``""`` (unknown) or a text that is not such a list."""
    out: List[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        m = re.fullmatch(r"(-?\d+)(?:\s*(?: to |-)\s*(-?\d+))?", part)
        if not m:
            return None
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo or hi - lo > 100_000:
            return None
        out.extend(range(lo, hi + 1))
    return out or None


def side_label(split: str, spans: Sequence[int] = (), fallback: str = "") -> str:
    """How a report names one side: ``train@span 2013``, ``train@spans 2010-2012``.

    Without a known span: ``split`` followed by `` (fallback)`` when given, e.g.
    ``train (statistics 11)``.
    """
    known = [int(s) for s in spans if s]
    if known:
        word = "span" if len(set(known)) == 1 else "spans"
        return f"{split}@{word} {format_spans(known)}"
    return f"{split} ({fallback})" if fallback else split


def spans_property(spans: Sequence[int]) -> str:
    """The ``baseline_spans`` custom property / JSON value: ``2010-2012``; '' when unknown."""
    return format_spans([s for s in spans if s])

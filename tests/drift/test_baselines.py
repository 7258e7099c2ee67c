"""Baseline choice (the resolvers' logic, TFX-free) and how report sides are named."""

from __future__ import annotations

import pytest

from tfx_addons_lab.drift.baselines import (
    BaselinePolicy,
    Candidate,
    choose_baseline,
    format_spans,
    parse_spans,
    side_label,
)
from tfx_addons_lab.errors import InvalidInputError


def _history(*spans):
    """Candidates created in the order given: key i+1, span spans[i]."""
    return [Candidate(i + 1, (i + 1,), s) for i, s in enumerate(spans)]


def test_same_span_offset_takes_the_latest_version_of_span_minus_offset():
    # Monthly spans 1..13, then span 2 re-processed (key 14), then the current span 14.
    history = _history(*range(1, 14), 2, 14)
    policy = BaselinePolicy.build("same_span_offset", span_offset=12)
    choice = choose_baseline(history, history[-1], policy)
    assert choice.keys == [14] and choice.spans == [2] and choice.wanted == [2]
    assert choice.reason == ""


def test_same_span_offset_without_the_span_names_it():
    history = _history(1, 2, 3)
    choice = choose_baseline(
        history, history[-1], BaselinePolicy.build("same_span_offset", span_offset=12)
    )
    assert choice.keys == [] and choice.missing == [-9]
    assert "no statistics of span -9" in choice.reason and "current span 3" in choice.reason


def test_rolling_window_takes_the_spans_strictly_before_the_current_one():
    history = _history(2010, 2011, 2012, 2013, 2011)  # 2011 re-processed after 2013
    current = Candidate(6, (6,), 2014)
    choice = choose_baseline(
        [*history, current], current, BaselinePolicy.build("rolling_window", window=3)
    )
    assert choice.keys == [5, 3, 4] and choice.spans == [2011, 2012, 2013]
    assert choice.missing == [] and choice.reason == ""
    # Back-filling span 2012: its window is 2009-2011, never itself nor later spans.
    again = Candidate(7, (7,), 2012)
    choice = choose_baseline(
        [*history, current, again], again, BaselinePolicy.build("rolling_window", window=3)
    )
    assert choice.spans == [2010, 2011] and choice.missing == [2009]
    assert "2009" in choice.reason and "merges the others" in choice.reason
    # First run: nothing before.
    first = Candidate(1, (1,), 2010)
    choice = choose_baseline([first], first, BaselinePolicy.build("rolling_window", window=3))
    assert choice.keys == [] and "spans 2007-2009" in choice.reason


def test_previous_span_and_previous_run_keep_their_rules():
    history = _history(1, 2, 1, 3)
    assert choose_baseline(history, history[3], BaselinePolicy.build("previous_span")).keys == [2]
    assert choose_baseline(history, history[3], BaselinePolicy.build("previous_run")).keys == [3]
    assert "first run" in choose_baseline(history[:1], history[0], BaselinePolicy()).reason


def test_span_modes_need_a_current_span():
    history = _history(0, 0)
    choice = choose_baseline(history, history[1], BaselinePolicy.build("rolling_window", window=2))
    assert choice.keys == [] and "no span" in choice.reason


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "same_span_offset"}, "span_offset as a whole number >= 1, got None"),
        ({"mode": "same_span_offset", "span_offset": 0}, "got 0"),
        ({"mode": "same_span_offset", "span_offset": True}, "got True"),
        ({"mode": "rolling_window", "window": 2.5}, "window as a whole number"),
        ({"mode": "previous_span", "window": 3}, "window=3 applies only to mode='rolling_window'"),
        ({"mode": "rolling_window", "window": 3, "span_offset": 1}, "span_offset=1 applies only"),
        ({"mode": "last_year"}, "mode 'last_year' is unknown"),
    ],
)
def test_policy_arguments_are_checked_with_the_fix(kwargs, message):
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BaselinePolicy.build(**kwargs)


def test_policy_round_trips_through_json():
    policy = BaselinePolicy.build("rolling_window", window=3)
    assert policy.to_json() == '{"mode": "rolling_window", "window": 3}'
    assert BaselinePolicy.from_json(policy.to_json()) == policy
    assert BaselinePolicy.from_json("") is None
    assert policy.wanted_spans(2013) == [2010, 2011, 2012]


def test_side_labels():
    assert side_label("train", [2013]) == "train@span 2013"
    assert side_label("train", [2010, 2011, 2012]) == "train@spans 2010-2012"
    assert side_label("train", [2010, 2012]) == "train@spans 2010, 2012"
    assert side_label("train", [0], "statistics 11") == "train (statistics 11)"
    assert side_label("eval") == "eval"
    assert format_spans([]) == ""


@pytest.mark.parametrize(
    "spans",
    [[2012], [2010, 2011, 2012], [2010, 2012], [-3, -2, -1], [1, 2, 5, 7], [0]],
)
def test_parse_spans_inverts_format_spans(spans):
    assert parse_spans(format_spans(spans)) == sorted(set(spans))


@pytest.mark.parametrize("text", ["", "  ", "span 3", "3-1", "1-2-3", "a, b"])
def test_parse_spans_refuses_what_format_spans_never_writes(text):
    assert parse_spans(text) is None

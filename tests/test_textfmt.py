"""Escaping of data-derived text before it reaches a terminal (tfx_addons_lab.textfmt)."""

from __future__ import annotations

import pytest

from tfx_addons_lab.textfmt import safe, table

HOSTILE = [
    "temp\nno dataset drift",
    "a\rb",
    "\x1b[2J\x1b[Hclear",
    "bell\x07",
    "c1\x9bcontrol",
    "rtl\u202eevil",
    "zero\u200bwidth",
    "line\u2028sep",
    "nul\x00byte",
    "del\x7f",
    "arabic\u061cmark",
    "mongolian\u180evowel",
    "word\u2060joiner",
    "tag\U000e0041chars",
    "private\ue000use",
    "unassigned\u0378",
    "soft\u00adhyphen",
    "nbsp\u00a0space",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_leaves_no_control_character(text):
    out = safe(text)
    assert out.isprintable(), repr(out)
    assert "\n" not in out and "\x1b" not in out
    # the escape is visible, not dropped: the output is longer than the printable part
    assert len(out) > len("".join(ch for ch in text if ch.isprintable()))


@pytest.mark.parametrize("text", ["plain", "naïve café", "日本語", "a-b_c.d", ""])
def test_safe_keeps_printable_text(text):
    assert safe(text) == text


def test_escapes_name_the_code_point():
    assert safe("a\u061cb") == "a\\u061cb"
    assert safe("tag\U000e0041") == "tag\\U000e0041"
    assert safe("\x9b") == "\\x9b"


def test_safe_none_and_numbers():
    assert safe(None) == ""
    assert safe(0.5) == "0.5"


def test_table_escapes_every_cell_and_aligns():
    out = table(
        ["feature", "score"], [["ok", 0.1], ["bad\nno dataset drift", 12.25]], align_right=[1]
    )
    lines = out.split("\n")
    assert len(lines) == 4  # header, rule, two rows: the newline in a cell did not add a line
    assert lines[3].startswith("bad\\nno dataset drift")
    assert lines[2].endswith("  0.1") and lines[3].endswith("12.25")
    assert len({len(lines[1])} | {len(x) for x in lines[2:]}) == 1


def test_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="expected 2"):
        table(["a", "b"], [["only one"]])

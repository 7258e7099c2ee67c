"""Plain-text output shared by the CLIs, executors' log lines and the run summary.

Everything we print may contain text that came from data (feature names, model names,
category values, file names). :func:`safe` makes such text inert on a terminal: control
characters (newlines, carriage returns, ANSI escape sequences, C1 controls, Unicode
direction overrides, and every other character Python does not call printable) are shown as
visible escapes, so a column name can neither fake a line of our output nor drive the terminal. :func:`table` renders aligned text tables whose every
cell goes through :func:`safe`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable, Optional, Sequence

__all__ = ["safe", "table"]

# C0 controls, DEL, C1 controls, and the Unicode format characters that reorder or hide text
# (bidi embeddings/overrides/isolates, zero-width joiners, line/paragraph separators).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe(value: Any) -> str:
    """``str(value)`` with every control or text-reordering character made visible.

    >>> safe("temp\\n\\x1b[2Jno dataset drift")
    'temp\\\\n\\\\e[2Jno dataset drift'
    """
    text = "" if value is None else str(value)
    if text.isprintable() and not _UNSAFE.search(text):
        return text
    # the listed controls, and every other character Python does not call printable (other
    # format characters such as U+061C ARABIC LETTER MARK or U+2066.., unassigned and
    # private-use code points, spaces other than ' ')
    return "".join(
        _escape_char(ch) if not ch.isprintable() or _UNSAFE.match(ch) else ch
        for ch in unicodedata.normalize("NFC", text)
    )


def table(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    align_right: Optional[Sequence[int]] = None,
) -> str:
    """An aligned text table: a header line, a dashed rule, one line per row.

    Every cell is passed through :func:`safe`; ``None`` prints as an empty cell.
    ``align_right`` lists the column indexes to right-align (numbers).
    """
    right = set(align_right or ())
    cells = [[safe(h) for h in headers]]
    cells += [["" if c is None else safe(c) for c in row] for row in rows]
    width = len(headers)
    for row in cells:
        if len(row) != width:
            raise ValueError(f"table row has {len(row)} cells, expected {width}: {row!r}")
    widths = [max(len(row[i]) for row in cells) for i in range(width)]

    def line(row: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)

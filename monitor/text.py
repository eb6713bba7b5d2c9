"""Text that is safe to print: what upstream wrote never drives the terminal that reads it.

Titles, URLs, change notes and error messages come from GOV.UK (or whoever answers in its
place). Printed raw, an ESC sequence in a title could retitle or clear the terminal, move the
cursor over earlier lines, or print a fake "All targets OK"; a lone surrogate would make
``print`` itself fail. Every line a command prints goes through :func:`printable`, every JSON
line through :func:`json_printable`, and every log line through monitor/console.py's formatters,
which use both.
"""

from __future__ import annotations

import re
import unicodedata

# Categories never printed raw: controls (C0, DEL, C1), format characters (bidirectional
# overrides, zero-width joiners...), line and paragraph separators, surrogates, unassigned.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_FAST_OK = re.compile(r"[\x20-\x7e]*")
# What JSON (with ensure_ascii=False) leaves raw that a terminal may act on; json.dumps itself
# escapes C0 controls, quotes and backslashes.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]")
CLIP_MARK = "…"


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: object) -> str:
    """``text`` as one line a terminal shows as it is: every control, format or unassigned
    character (newlines included) written as a visible escape such as ``\\x1b``."""
    value = text if isinstance(text, str) else str(text)
    if _FAST_OK.fullmatch(value):
        return value
    return "".join(_escape(c) if unicodedata.category(c) in _UNPRINTABLE_CATEGORIES else c for c in value)


def json_printable(line: str) -> str:
    """A JSON text (from ``json.dumps(..., ensure_ascii=False)``) with the characters JSON
    leaves raw but a terminal may act on written as ``\\uXXXX`` escapes: still the same JSON.

    Such characters can only stand inside JSON strings, where ``\\uXXXX`` means the same
    character, so a JSON reader gets back exactly what it would have got.
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def clip(text: object, limit: int) -> str:
    """``text`` on one line (white space collapsed) and at most ``limit`` characters, cut in
    the middle so both the start (what failed) and the end (why) stay readable."""
    value = " ".join((text if isinstance(text, str) else str(text)).split())
    if len(value) <= limit:
        return value
    keep = max(limit - len(CLIP_MARK), 2)
    head = (keep * 2) // 3
    return value[:head] + CLIP_MARK + value[len(value) - (keep - head) :]

"""Text pulled out of a laid-out file (a PDF page, a Word table) joined the way a reader sees it.

Layout extraction puts a space wherever glyphs sit apart: "( VED )", "NICs ,", "section 3 ." —
spaces no reader sees, and which come and go with the font when a file is re-exported, so they
would show up as changes. No space is kept before closing punctuation or after an opening
bracket; a full stop loses the space before it only where it ends a word (".5" is a number).
"""

from __future__ import annotations

import re

_BEFORE_CLOSING = re.compile(r"\s+([,;:!?)\]}])")
_BEFORE_STOP = re.compile(r"(?<=\S)\s+\.(?=\s|$)")
_AFTER_OPENING = re.compile(r"([(\[{])\s+")


def reader_spacing(text: str) -> str:
    """``text`` without the spaces layout put inside brackets and before punctuation."""
    if " " not in text:
        return text
    text = _BEFORE_CLOSING.sub(r"\1", text)
    text = _BEFORE_STOP.sub(".", text)
    return _AFTER_OPENING.sub(r"\1", text)

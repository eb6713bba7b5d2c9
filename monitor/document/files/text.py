"""Deterministic decoding of text files (CSV and plain text).

Guessing an encoding statistically (chardet and friends) can give different answers for two
versions of one file, which would show up as a change on every line. The chain here is fixed
and always tried in the same order:

1. a byte-order mark: UTF-8, UTF-16 LE/BE (the BOM is removed);
2. strict UTF-8;
3. Windows-1252, the encoding Excel on Windows writes for "CSV". Its five unassigned bytes
   (0x81 0x8D 0x8F 0x90 0x9D) become U+FFFD rather than an error.

Every byte string therefore decodes, and the same bytes always decode the same way. Line ends
are left alone here; the CSV reader and the paragraph splitter handle all three kinds.
"""

from __future__ import annotations

import re

from monitor.model import FileContent, Section

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_BLANK_LINE_RE = re.compile(r"\n[ \t\f\v]*\n")


def decode_text(data: bytes) -> str:
    """Decode ``data`` by the fixed chain BOM -> strict UTF-8 -> Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def paragraphs_of(text: str) -> tuple[str, ...]:
    """Blocks separated by blank lines, each with its white space collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = (" ".join(block.split()) for block in _BLANK_LINE_RE.split(text))
    return tuple(block for block in blocks if block)


def extract_text(data: bytes) -> FileContent:
    """A plain-text file as one untitled section whose paragraphs are its blank-line blocks."""
    paragraphs = paragraphs_of(decode_text(data))
    sections = (Section(number="", title="", paragraphs=paragraphs),) if paragraphs else ()
    return FileContent(format="text", sections=sections)

"""Word files (the DfE model privacy notices) as sections of paragraphs, plus their tables.

python-docx walks the body in reading order (``Document.iter_inner_content()``): paragraphs and
tables interleaved as the author wrote them. A paragraph whose style is "Title" or "Heading N"
(or a custom style based on one of those) starts a new section; its number is taken from the
text when the text starts with one ("3.2 Who we share with"), since Word's automatic numbering
is not part of the text. Other non-empty paragraphs, list items included, go into the current
section. Each table becomes a ``Table`` whose first row is the header, named after the section
it sits in ("3 Who we share pupil information with: table 1") so that adding a table elsewhere
does not rename it.

Text in headers, footers, text boxes and content controls is not read.
"""

from __future__ import annotations

import io
import re
from typing import Any

from docx import Document
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from monitor.document.files.sheets import header_names, normalise_cell
from monitor.document.files.spacing import reader_spacing
from monitor.model import Cell, FileContent, Section, Table

_NUMBERED_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,3}){0,4})\.?\s+(\S.*)$")
_HEADING_STYLE_RE = re.compile(r"^(?:Title|Heading [1-9])$")


def extract_docx(data: bytes) -> FileContent:
    """Sections and tables of a DOCX file; raises on unreadable files."""
    document = Document(io.BytesIO(data))
    builder = _Builder()
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            builder.add_paragraph(item)
        elif isinstance(item, DocxTable):
            builder.add_table(item)
    return FileContent(format="docx", sections=builder.finish(), tables=tuple(builder.tables))


def split_heading(text: str) -> tuple[str, str]:
    """``("3.2", "Who we share with")`` for a numbered heading, ``("", text)`` otherwise."""
    match = _NUMBERED_RE.match(text)
    if match:
        return match.group(1), match.group(2)
    return "", text


def is_heading_style(style: Any) -> bool:
    """True for Title / Heading N, and styles based on them (three levels deep)."""
    for _ in range(3):
        if style is None:
            return False
        if _HEADING_STYLE_RE.match(style.name or ""):
            return True
        style = getattr(style, "base_style", None)
    return False


class _Builder:
    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.tables: list[Table] = []
        self.number, self.title = "", ""
        self.paragraphs: list[str] = []
        self.tables_in_section = 0
        self.table_names: set[str] = set()

    def add_paragraph(self, paragraph: Paragraph) -> None:
        text = reader_spacing(" ".join(paragraph.text.split()))
        if not text:
            return
        if is_heading_style(paragraph.style):
            self._close_section()
            self.number, self.title = split_heading(text)
            self.paragraphs, self.tables_in_section = [], 0
        else:
            self.paragraphs.append(text)

    def add_table(self, table: DocxTable) -> None:
        rows: list[list[Cell]] = [
            [normalise_cell(reader_spacing(" ".join(cell.text.split()))) for cell in row.cells] for row in table.rows
        ]
        rows = [row for row in rows if any(cell is not None for cell in row)]
        if not rows:
            return
        self.tables_in_section += 1
        label = Section(self.number, self.title, ()).label
        name = base = f"{label}: table {self.tables_in_section}"
        copy = 1
        while name in self.table_names:
            copy += 1
            name = f"{base} ({copy})"
        self.table_names.add(name)
        width = max(len(row) for row in rows)
        padded = [row + [None] * (width - len(row)) for row in rows]
        self.tables.append(
            Table(
                name=name, header=header_names(padded[0]), rows=tuple(tuple(r) for r in padded[1:])
            )
        )

    def _close_section(self) -> None:
        if self.number or self.title or self.paragraphs:
            self.sections.append(Section(self.number, self.title, tuple(self.paragraphs)))

    def finish(self) -> tuple[Section, ...]:
        self._close_section()
        return tuple(self.sections)

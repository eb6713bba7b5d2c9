"""Watch-list terms: where they count, so that an entry is high priority exactly when what
changed touches something a campaigner watches.

Terms count in:

* what changed: words inserted or deleted, blocks added or removed, a new or old title or
  summary, file rows and sections added, removed or changed, file titles, change notes, a
  withdrawal's explanation, documents added to or removed from a collection, changed dates and
  status;
* the **heading** a changed stretch of text sits under ("How long we retain pupil data"), and
  the sheet or section a changed row or sentence sits in;
* the whole **sentence** around a changed number or date ("for 25 years" → "for 6 years" in a
  sentence about retention): a figure means nothing without its sentence;
* everything a **removed file** held: removing the workbook whose sheet lists the Home Office's
  requests removes those rows from public view.

Word forms are matched in ``termforms`` (retain, retained and retention all count for
"retention").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from monitor.compare.report import ChangeReport, TextChange
from monitor.compare.termforms import find_terms
from monitor.model import Attachment, FileContent

__all__ = ["changed_text", "find_terms", "removed_file_text"]

_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|$)")
_FIGURE = re.compile(
    r"\d|\b(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b",
    re.IGNORECASE,
)


def changed_text(report: ChangeReport) -> list[str]:
    """Every piece of text where watch-list terms count (see the module docstring)."""
    parts: list[str] = []
    for pair in (report.title_change, report.summary_change):
        if pair:
            parts.extend(pair)
    for change in report.text_changes:
        parts.append(change.section)
        parts.extend(_text_of_change(change))
    for event in report.attachments:
        parts.append(event.title)
        parts.extend(_strings(event.file_diff))
    parts.extend(d.title for d in (*report.documents_added, *report.documents_removed))
    parts.extend(n.note for n in report.new_notes)
    if report.withdrawn_explanation:
        parts.append(report.withdrawn_explanation)
    for fact in report.facts_changed:
        parts.extend((fact.label, fact.before, fact.after))
    return [p for p in parts if p]


def removed_file_text(removed: Sequence[Attachment], files: Mapping[str, FileContent]) -> list[str]:
    """Everything the files a page no longer lists held: cells of every row, every sentence."""
    texts: list[str] = []
    for attachment in removed:
        content = files.get(attachment.sha256 or "")
        if content is None:
            continue
        for table in content.tables:
            texts.append(table.name)
            texts.extend(str(cell) for cell in table.header)
            texts.extend(str(cell) for row in table.rows for cell in row if isinstance(cell, str))
        for section in content.sections:
            texts.append(section.label)
            texts.extend(section.paragraphs)
    return texts


def _text_of_change(change: TextChange) -> Iterator[str]:
    if not change.words:
        yield from change.old
        yield from change.new
        return
    old_text, new_text = [], []
    old_figures: list[tuple[int, int]] = []
    new_figures: list[tuple[int, int]] = []
    old_at = new_at = 0
    for op, text in change.words:
        if op != "insert":
            old_text.append(text)
        if op != "delete":
            new_text.append(text)
        if op == "insert":
            yield text
            if _FIGURE.search(text):
                new_figures.append((new_at, new_at + len(text)))
        elif op == "delete":
            yield text
            if _FIGURE.search(text):
                old_figures.append((old_at, old_at + len(text)))
        if op != "insert":
            old_at += len(text)
        if op != "delete":
            new_at += len(text)
    yield from _sentences_around("".join(old_text), old_figures)
    yield from _sentences_around("".join(new_text), new_figures)


def _sentences_around(text: str, spans: list[tuple[int, int]]) -> Iterator[str]:
    """The sentences of ``text`` that overlap any of ``spans``."""
    if not spans:
        return
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        if start == end:
            continue
        if any(a < end and b > start for a, b in spans):
            yield match.group(0)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)

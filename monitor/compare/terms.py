"""Watch-list terms: where they count (only in what changed) and how they are found."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from monitor.compare.report import ChangeReport, TextChange


def changed_text(report: ChangeReport) -> str:
    """Every piece of text that was added, removed or changed: where watch-list terms count."""
    parts: list[str] = []
    for pair in (report.title_change, report.summary_change):
        if pair:
            parts.extend(pair)
    for change in report.text_changes:
        if change.words:
            parts.extend(text for op, text in change.words if op != "equal")
            parts.append(_sentences_touched(change))
        else:
            parts.extend(change.old)
            parts.extend(change.new)
    for event in report.attachments:
        parts.append(event.title)
        parts.append(_file_diff_text(event.file_diff))
    parts.extend(d.title for d in (*report.documents_added, *report.documents_removed))
    parts.extend(n.note for n in report.new_notes)
    if report.withdrawn_explanation:
        parts.append(report.withdrawn_explanation)
    return "\n".join(p for p in parts if p)


def _sentences_touched(change: TextChange) -> str:
    """Whole sentences around inserted words, so a term split across runs is still found."""
    new_text = "".join(text for op, text in change.words if op != "delete")
    return new_text if any(op == "insert" for op, _ in change.words) else ""


def _file_diff_text(file_diff: dict[str, Any] | None) -> str:
    if not file_diff:
        return ""
    texts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(file_diff)
    return "\n".join(texts)


def find_terms(text: str, terms: Sequence[str]) -> tuple[str, ...]:
    found = []
    for term in terms:
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in term.split()) + r"(?!\w)"
        if re.search(pattern, text, re.IGNORECASE):
            found.append(term)
    return tuple(found)

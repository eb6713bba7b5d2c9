"""The words people read: one-line headlines, file summaries, shortened titles.

Every phrase a campaigner sees about a change is chosen here (and only here), so the headline
and the body of an entry never disagree on how a thing is said.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.compare.files import FileDiff
from monitor.compare.report import AttachmentEvent, ChangeReport, TextChange
from monitor.compare.sections import SectionChange
from monitor.compare.tables import TableDiff

MAX_SUMMARY_PARTS = 4


def shorten(text: str, limit: int) -> str:
    """White space collapsed, and cut at ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sentence(phrase: str) -> str:
    """ "paragraph added" → "Paragraph added." """
    text = phrase[:1].upper() + phrase[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _quote(name: str) -> str:
    return f"'{name}'"


def _quote_all(names: Sequence[str]) -> str:
    return ", ".join(_quote(name) for name in names)


# -- files -------------------------------------------------------------------------------------


def table_summary(table: TableDiff) -> str:
    """ "3 rows added, 1 removed, 1 changed in 'DSAP approved shares'" (and columns)."""
    parts = []
    counts = [
        (len(table.rows_added), "added"),
        (len(table.rows_removed), "removed"),
        (len(table.rows_changed), "changed"),
    ]
    counted = [f"{n} {verb}" for n, verb in counts if n]
    if counted:
        first = next(n for n, _ in counts if n)
        counted[0] = counted[0].replace(" ", " row " if first == 1 else " rows ", 1)
        parts.append(f"{', '.join(counted)} in {_quote(table.sheet)}")
    for names, verb in ((table.columns_added, "added"), (table.columns_removed, "removed")):
        if names:
            noun = "column" if len(names) == 1 else "columns"
            parts.append(f"{noun} {_quote_all(names)} {verb} in {_quote(table.sheet)}")
    return "; ".join(parts)


def section_summary(change: SectionChange) -> str:
    """ "section 3.2 added", "section 4 Help renumbered (was 3)", "section 1 New retitled (was …)"."""
    name = "opening text" if change.label == "(opening text)" else f"section {change.label}"
    if change.status == "moved":
        was = (change.previous_label or "").split(" ", 1)[0]
        text = f"{name} renumbered (was {was})"
        if change.sentences_added or change.sentences_removed:
            text += " and changed"
        return text
    if change.status == "changed" and change.previous_label and change.previous_label != change.label:
        return f"{name} retitled (was {change.previous_label})"
    return f"{name} {change.status}"


def file_summary(diff: FileDiff) -> str:
    """One line: "3 rows added, 1 removed, 1 changed in 'DSAP approved shares'"."""
    if diff.error:
        return diff.error
    parts: list[str] = []
    if diff.format_before != diff.format_after:
        parts.append(f"file format changed from {diff.format_before} to {diff.format_after}")
    for names, verb in ((diff.sheets_added, "added"), (diff.sheets_removed, "removed")):
        if names:
            parts.append(f"{'sheet' if len(names) == 1 else 'sheets'} {_quote_all(names)} {verb}")
    parts.extend(table_summary(table) for table in diff.tables if not table.is_empty)
    renumbered = [c for c in diff.sections if c.status == "moved" and not (c.sentences_added or c.sentences_removed)]
    parts.extend(section_summary(c) for c in diff.sections if c not in renumbered)
    if len(renumbered) == 1:
        parts.append(section_summary(renumbered[0]))
    elif renumbered:
        parts.append(f"{len(renumbered)} sections renumbered")
    if not parts:
        return "no changes"
    if len(parts) > MAX_SUMMARY_PARTS:
        more = len(parts) - (MAX_SUMMARY_PARTS - 1)
        parts = parts[: MAX_SUMMARY_PARTS - 1] + [f"and {more} more changes"]
    return "; ".join(parts)


# -- headlines -----------------------------------------------------------------------------------


KIND_NAMES = {
    "heading": ("heading", "headings"),
    "paragraph": ("paragraph", "paragraphs"),
    "list_item": ("list item", "list items"),
    "table_row": ("table row", "table rows"),
    "pre": ("text block", "text blocks"),
    "quote": ("quotation", "quotations"),
}


def _count(n: int, kind: str) -> str:
    singular, plural = KIND_NAMES.get(kind, ("text block", "text blocks"))
    return f"{singular}" if n == 1 else f"{n} {plural}"


def build_headline(report: ChangeReport) -> str:
    """A few words a campaigner understands at a glance: "paragraph added", "title changed"."""
    parts: list[str] = []
    if report.kind == "withdrawn":
        parts.append("withdrawn")
    if report.extra.get("unwithdrawn"):
        parts.append("no longer withdrawn")
    if report.title_change:
        parts.append("title changed")
    if report.summary_change:
        parts.append("summary changed")
    parts.extend(_text_headline(report.text_changes))
    for event in report.attachments[:3]:
        parts.append(_attachment_headline(event))
    if len(report.attachments) > 3:
        parts.append(f"{len(report.attachments) - 3} more file changes")
    if report.documents_added:
        n = len(report.documents_added)
        parts.append(f"document added: {report.documents_added[0].title}" if n == 1 else f"{n} documents added")
    if report.documents_removed:
        n = len(report.documents_removed)
        parts.append("document removed from the collection" if n == 1 else f"{n} documents removed")
    if not parts and report.new_notes:
        parts.append("change note added")
    return "; ".join(parts) or "changed"


def _text_headline(changes: Sequence[TextChange]) -> list[str]:
    if not changes:
        return []
    counts: dict[tuple[str, str], int] = {}
    for change in changes:
        blocks = len(change.new) if change.op == "added" else len(change.old) if change.op == "removed" else max(len(change.old), len(change.new))
        kind = change.kinds[0] if len(change.kinds) == 1 else "paragraph"
        counts[(change.op, kind)] = counts.get((change.op, kind), 0) + blocks
    if len(counts) > 3:
        return [f"text changed in {len(changes)} places"]
    return [f"{_count(n, kind)} {op}" for (op, kind), n in counts.items()]


def compact_file_summary(diff: FileDiff) -> str:
    """Totals over all sheets and sections, for a headline: "5 rows added, 1 changed",
    "section 3.4 added"."""
    totals = {"added": 0, "removed": 0, "changed": 0}
    for table in diff.tables:
        totals["added"] += len(table.rows_added)
        totals["removed"] += len(table.rows_removed)
        totals["changed"] += len(table.rows_changed)
    parts = []
    rows = [f"{n} {op}" for op, n in totals.items() if n]
    if rows:
        first_n = next(n for n in totals.values() if n)
        parts.append(rows[0].replace(" ", " row " if first_n == 1 else " rows ", 1) + "".join(f", {r}" for r in rows[1:]))
    sheets = len(diff.sheets_added) + len(diff.sheets_removed)
    if sheets:
        parts.append(f"{sheets} sheet{'s' if sheets > 1 else ''} added or removed")
    added = [s for s in diff.sections if s.status == "added"]
    if len(added) == 1:
        parts.append(f"section {added[0].label} added")
    elif added:
        parts.append(f"{len(added)} sections added")
    renumbered = [s for s in diff.sections if s.status == "moved" and not (s.sentences_added or s.sentences_removed)]
    if renumbered:
        parts.append(f"{len(renumbered)} section{'s' if len(renumbered) > 1 else ''} renumbered")
    others = len(diff.sections) - len(added) - len(renumbered)
    if others:
        parts.append(f"{others} section{'s' if others > 1 else ''} changed")
    return "; ".join(parts)


def _attachment_headline(event: AttachmentEvent) -> str:
    title = shorten(event.title, 60)
    compact = event.brief
    detail = f" ({compact})" if compact else ""
    if event.op == "added" and event.compared_with:
        return f"new file {title}{detail}"
    return {
        "added": f"new file: {title}",
        "removed": f"file removed: {title}",
        "replaced": f"file replaced: {title}{detail}",
        "moved": f"file replaced at a new address: {title}{detail}",
        "renamed": f"file renamed: {title}",
        "missing": f"file link broken: {title}",
        "restored": f"file link working again: {title}",
    }.get(event.op, f"file {event.op}: {title}")

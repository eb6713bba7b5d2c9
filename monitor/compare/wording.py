"""The words people read: entry titles, headlines, summaries, file labels.

Every phrase a campaigner sees about a change is chosen here (what changed inside a file in
``filewording``), so the title and the body of an entry never disagree on how a thing is said
or counted. Each thing that changed is described twice from the same counts: briefly for the
title ("paragraph added"), in full for the summary ("paragraph added in 'Who we share data
with'"). Titles are "<target name> — <what happened>" and at most ``MAX_TITLE`` characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.compare.filewording import (
    compact_file_summary,
    counted,
    file_summary,
    quote,
    section_summary,
    table_summary,
)
from monitor.compare.report import (
    AttachmentEvent,
    ChangeReport,
    FactChange,
    HeadlinePart,
    TextChange,
)

__all__ = [
    "MAX_TITLE",
    "compact_file_summary",
    "describe",
    "entry_title",
    "file_event_label",
    "file_summary",
    "section_summary",
    "sentence",
    "shorten",
    "table_summary",
]

MAX_TITLE = 120
FILE_TITLE_CHARS = 60  # a file's title inside an entry title

KIND_NAMES = {
    "heading": ("heading", "headings"),
    "paragraph": ("paragraph", "paragraphs"),
    "list_item": ("list item", "list items"),
    "table_row": ("table row", "table rows"),
    "pre": ("text block", "text blocks"),
    "quote": ("quotation", "quotations"),
}

# What a file event is called at the head of its line in an entry.
FILE_EVENT_LABELS = {
    "added": "New file",
    "removed": "File removed",
    "replaced": "File replaced at the same address",
    "moved": "File replaced at a new address",
    "renamed": "File renamed",
    "missing": "File link broken",
    "restored": "File link working again",
}


def shorten(text: str, limit: int) -> str:
    """White space collapsed, and cut at ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + "…"


def sentence(phrase: str) -> str:
    """ "paragraph added" → "Paragraph added." """
    text = phrase[:1].upper() + phrase[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _part(brief: str, full: str, short: str = "", title: str = "") -> HeadlinePart:
    return HeadlinePart(brief, full, short or brief, title)


def describe(report: ChangeReport) -> list[HeadlinePart]:
    """Everything that changed, most important first."""
    parts: list[HeadlinePart] = []
    if report.kind == "withdrawn":
        parts.append(_part("withdrawn", "withdrawn"))
    if report.extra.get("unwithdrawn"):
        parts.append(_part("no longer withdrawn", "no longer withdrawn"))
    parts.extend(_fact_parts(report.facts_changed))
    if report.title_change:
        parts.append(_part("title changed", f"title changed from {quote(report.title_change[0])} to {quote(report.title_change[1])}"))
    if report.summary_change:
        parts.append(_part("summary changed", "summary changed"))
    parts.extend(_text_parts(report.text_changes))
    parts.extend(_file_part(event) for event in report.attachments)
    parts.extend(_document_parts(report))
    if not parts and report.new_notes:
        parts.append(_part("change note added", "change note added"))
    return parts or [_part("changed", "changed")]


def entry_title(name: str, parts: Sequence[HeadlinePart], suffix: str = "", limit: int = MAX_TITLE) -> str:
    """ "<name> — <what happened><suffix>" in at most ``limit`` characters.

    Tried in turn, first fit wins: every part in brief; every part without its counts (a file's
    name says more than "(1 section changed)", which the entry shows); the first parts and "and
    N more changes"; the first part with its file title shortened; the parts without file
    titles; then the same with the name shortened. A file or document title that begins with the
    page's own words and a colon loses them ("DfE external data shares: July to September 2026"
    on "DfE external data shares" reads "July to September 2026").
    """
    name = " ".join(name.split())
    parts = [_without_name(_part(p.brief, p.full, p.short, p.title), name) for p in parts if p.brief] or [_part("changed", "changed")]
    for shown in dict.fromkeys((name, shorten(name, 60), shorten(name, 40))):
        room = limit - len(shown) - len(" — ") - len(suffix)
        head = _fitted(parts, room, name)
        if head is not None:
            return f"{shown} — {head}{suffix}"
    shown = shorten(name, 40)
    room = limit - len(shown) - len(" — ") - len(suffix)
    return f"{shown} — {shorten(_joined([p.short for p in parts], 1), room)}{suffix}"


def _fitted(parts: Sequence[HeadlinePart], room: int, name: str = "") -> str | None:
    briefs = [p.brief for p in parts]
    plains = [_plain(p) for p in parts]
    for tier in (briefs, plains):
        if len(_joined(tier, len(tier))) <= room:
            return _joined(tier, len(tier))
    for tier in (briefs, plains):
        for kept in range(len(tier) - 1, 0, -1):
            if len(_joined(tier, kept)) <= room:
                return _joined(tier, kept)
    first = parts[0]
    if first.title:
        rest = len(_joined(plains, 1)) - len(first.title)
        title = shorten(first.title, room - rest)
        # a title cut down to the page's own name says nothing: the counts say more
        if room - rest >= 20 and not name.lower().startswith(title.rstrip("…").lower()):
            return _joined([plains[0].replace(first.title, title, 1), *plains[1:]], 1)
    shorts = [p.short for p in parts]
    for kept in range(len(parts), 0, -1):
        if len(_joined(shorts, kept)) <= room:
            return _joined(shorts, kept)
    return None


def _plain(part: HeadlinePart) -> str:
    """The brief without what follows the title ("file replaced: X" of "file replaced: X (2 rows
    added)"); the brief itself when it names no title."""
    if part.title and part.title in part.brief:
        return part.brief[: part.brief.index(part.title) + len(part.title)]
    return part.brief


def _without_name(part: HeadlinePart, name: str) -> HeadlinePart:
    """``part`` with its title's opening words dropped where they repeat the page's name up to a
    colon or dash ("National pupil database: requests approved in 2026" on "National pupil
    database collection" → "requests approved in 2026")."""
    title = part.title
    if not title:
        return part
    head, separator, rest = _split_title(title)
    if not separator or not rest:
        return part
    words, name_words = _words(head), _words(name)
    if len(words) < 2 or name_words[: len(words)] != words:
        return part
    return HeadlinePart(part.brief.replace(title, rest, 1), part.full, part.short, rest)


def _split_title(title: str) -> tuple[str, str, str]:
    for separator in (": ", " - ", " – ", " — "):
        head, found, rest = title.partition(separator)
        if found:
            return head, found, rest.strip()
    return title, "", ""


def _words(text: str) -> list[str]:
    return "".join(ch if ch.isalnum() else " " for ch in text.lower()).split()


def _joined(briefs: Sequence[str], kept: int) -> str:
    more = len(briefs) - kept
    text = "; ".join(briefs[:kept])
    return text + (f"; and {more} more change{'s' if more > 1 else ''}" if more else "")


def file_event_label(event: dict[str, Any]) -> str:
    """ "New file", "File replaced at a new address", … for one stored file event."""
    op = str(event.get("op") or "")
    if op == "moved" and not event.get("file_diff") and "read the same" in str(event.get("note") or ""):
        return "File moved to a new address"
    return FILE_EVENT_LABELS.get(op, op.capitalize() or "File")


# -- text --------------------------------------------------------------------------------------


def _count(n: int, kind: str) -> str:
    singular, plural = KIND_NAMES.get(kind, ("text block", "text blocks"))
    return singular if n == 1 else f"{n} {plural}"


def _text_parts(changes: Sequence[TextChange]) -> list[HeadlinePart]:
    if not changes:
        return []
    counts: dict[tuple[str, str], int] = {}
    sections: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        for kind in _counted_kinds(change):
            counts[(change.op, kind)] = counts.get((change.op, kind), 0) + 1
            sections.setdefault((change.op, kind), []).append(change.section)
    if len(counts) > 3:
        places = len({c.section for c in changes})
        where = f" under {counted(places, 'heading', 'headings')}" if places > 1 else ""
        return [_part(f"text changed in {len(changes)} places", f"text changed in {len(changes)} places{where}")]
    parts = []
    for (op, kind), n in counts.items():
        brief = f"{_count(n, kind)} {op}"
        named = list(dict.fromkeys(s for s in sections[(op, kind)] if s))
        where = f" in {quote(named[0])}" if len(named) == 1 else f" under {len(named)} headings" if named else ""
        parts.append(_part(brief, brief + where))
    return parts


def _counted_kinds(change: TextChange) -> tuple[str, ...]:
    """One kind per block of the stretch (reports stored before kinds were kept per block count
    every block as the stretch's single kind, or as a paragraph)."""
    if change.block_kinds:
        return change.block_kinds
    blocks = len(change.new) if change.op == "added" else len(change.old) if change.op == "removed" else max(len(change.old), len(change.new))
    return (change.kinds[0] if len(change.kinds) == 1 else "paragraph",) * blocks


# -- files -------------------------------------------------------------------------------------


def _file_part(event: AttachmentEvent) -> HeadlinePart:
    title = shorten(event.title, FILE_TITLE_CHARS)
    detail = f" ({event.brief})" if event.brief else ""
    op = event.op
    identical = op == "moved" and not event.file_diff and "read the same" in event.note
    if op == "added" and event.compared_with:
        brief = f"new file: {title}{detail}"
        full = f"new file {quote(event.title)}, compared with the previous edition {quote(event.compared_with)}{detail or ' (no changes)'}"
        return _part(brief, full, f"new file{detail}", title)
    lead = {
        "added": "new file",
        "removed": "file removed",
        "replaced": "file replaced",
        "moved": "file moved to a new address" if identical else "file replaced at a new address",
        "renamed": "file renamed",
        "missing": "file link broken",
        "restored": "file link working again",
    }.get(op, f"file {op}")
    brief = f"{lead}: {title}{detail}"
    full = f"{lead}: {quote(event.title)}{detail}"
    if op == "renamed" and event.old_title:
        full += f", previously titled {quote(event.old_title)}"
    return _part(brief, full, f"{lead}{detail}", title)


# -- collections, dates and status ---------------------------------------------------------------


def _document_parts(report: ChangeReport) -> list[HeadlinePart]:
    parts = []
    added, removed = report.documents_added, report.documents_removed
    if added:
        titles = ", ".join(quote(d.title) for d in added[:5]) + (" …" if len(added) > 5 else "")
        title = shorten(added[0].title, FILE_TITLE_CHARS) if len(added) == 1 else ""
        brief = f"document added: {title}" if title else f"{len(added)} documents added"
        parts.append(_part(brief, f"{counted(len(added), 'document', 'documents')} added to the collection: {titles}", "document added" if title else brief, title))
    if removed:
        titles = ", ".join(quote(d.title) for d in removed[:5]) + (" …" if len(removed) > 5 else "")
        brief = "document removed from the collection" if len(removed) == 1 else f"{len(removed)} documents removed"
        parts.append(_part(brief, f"{counted(len(removed), 'document', 'documents')} removed from the collection: {titles}"))
    return parts


STATUS_PHRASES = {
    "cancelled": "release cancelled",
    "confirmed": "release date confirmed",
    "provisional": "release date made provisional",
    "closed": "consultation closed",
    "open": "consultation open",
    "outcome published": "consultation outcome published",
}
DATE_PHRASES = {"Release date": "release date", "Opens": "opening date", "Closes": "closing date"}


def _fact_parts(changes: Sequence[FactChange]) -> list[HeadlinePart]:
    by_label = {c.label: c for c in changes}
    parts = []
    status = by_label.pop("Status", None)
    reason = by_label.pop("Cancellation reason", None)
    if status is not None and status.after == "cancelled":
        by_label.pop("Cancelled on", None)  # the date of a cancellation is its entry's date
    if status is not None:
        phrase = STATUS_PHRASES.get(status.after, f"status changed to {status.after or 'none'}")
        full = phrase
        if status.after == "cancelled" and reason is not None and reason.after:
            full += f": {reason.after}"
            reason = None
        parts.append(_part(phrase, full))
    for label, change in by_label.items():
        noun = DATE_PHRASES.get(label, label.lower())
        if change.before and change.after:
            parts.append(_part(f"{noun} changed to {change.after}", f"{noun} changed from {change.before} to {change.after}"))
        elif change.after:
            parts.append(_part(f"{noun} set to {change.after}", f"{noun} set to {change.after}"))
        else:
            parts.append(_part(f"{noun} removed", f"{noun} no longer given (was {change.before})"))
    if reason is not None:
        parts.append(_part("cancellation reason changed", f"cancellation reason changed to {quote(reason.after)}"))
    return parts

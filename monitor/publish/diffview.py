"""What a reader sees of a diff: text changes and changed files, clipped to a readable size.

The database keeps every diff whole; an entry shows a part of it, within budgets (paragraphs,
rows, sections), and says how much it left out. These functions make that choice and return
plain data for the templates; they never write markup.
"""

from __future__ import annotations

from typing import Any, TypedDict

from monitor.compare.wording import file_event_label
from monitor.publish.marks import NO_MARKS, Marker, Segment
from monitor.publish.safety import safe_href

MAX_TEXT_CHANGES = 25
MAX_ROWS = 20
MAX_SECTIONS = 15
MAX_SENTENCES = 10  # sentences added (and removed) shown per section of a file
MAX_RUN_CHARS = 3_000  # one deleted or inserted run, before it is shortened
MAX_PARAGRAPHS = 60  # paragraphs (deleted + inserted) shown in one entry's text changes
CONTEXT_CHARS = 300  # unchanged text kept on each side of a long stretch between edits


class Link(TypedDict):
    href: str  # empty: show the text only
    text: Any


class Run(TypedDict):
    """A stretch of text, maybe shortened: ``head``, then what was left out, then ``tail``.

    Each part is a list of lines, shown with line breaks between them; each line a list of
    segments, the watch-list terms among them marked.
    """

    mark: str  # "ins", "del" or "" (unchanged)
    head: list[list[Segment]]
    omitted: str  # empty when nothing was left out
    tail: list[list[Segment]]


def link(url: str | None, text: Any) -> Link:
    """The text, to be shown as a link only if the URL is http(s)."""
    return {"href": safe_href(url) or "", "text": text}


def clip(text: str, mark: str, *, breaks: bool = False, marker: Marker = NO_MARKS) -> Run:
    """An inserted or deleted run; a very long one keeps its start and end."""
    if len(text) <= MAX_RUN_CHARS:
        return _run(mark, text, "", "", breaks, marker)
    head, tail = text[: MAX_RUN_CHARS // 2], text[-MAX_RUN_CHARS // 4 :]
    return _run(mark, head, f"… {len(text) - len(head) - len(tail):,} characters not shown …", tail, breaks, marker)


def clip_context(text: str, *, breaks: bool = False, marker: Marker = NO_MARKS) -> Run:
    """Unchanged text between edits: enough to read the sentence, not whole pages."""
    if len(text) <= 2 * CONTEXT_CHARS:
        return _run("", text, "", "", breaks, marker)
    return _run("", text[:CONTEXT_CHARS], "…", text[-CONTEXT_CHARS:], breaks, marker)


def _run(mark: str, head: str, omitted: str, tail: str, breaks: bool, marker: Marker) -> Run:
    def lines(text: str) -> list[list[Segment]]:
        return [marker(line) for line in (text.split("\n") if breaks else [text])]

    return {"mark": mark, "head": lines(head), "omitted": omitted, "tail": lines(tail) if omitted else []}


# -- text --------------------------------------------------------------------------------------


def text_changes_view(changes: list[dict[str, Any]], marker: Marker = NO_MARKS) -> dict[str, Any] | None:
    """The first text changes, sharing one paragraph budget, and counts of the rest."""
    if not changes:
        return None
    budget = [MAX_PARAGRAPHS]
    shown, hidden = [], 0
    for change in changes[:MAX_TEXT_CHANGES]:
        view, cut = _text_change(change, budget, marker)
        shown.append(view)
        hidden += cut
    return {"changes": shown, "hidden_paragraphs": hidden, "hidden_changes": max(0, len(changes) - MAX_TEXT_CHANGES)}


def _text_change(change: dict[str, Any], budget: list[int], marker: Marker) -> tuple[dict[str, Any], int]:
    op = change["op"]
    old, new = change.get("old", []), change.get("new", [])
    words: list[Run] = []
    if op == "added":
        paragraphs, cut = _paragraphs(new, "ins", budget, marker)
    elif op == "removed":
        paragraphs, cut = _paragraphs(old, "del", budget, marker)
    elif change.get("words"):
        words, paragraphs, cut = [_word_run(run_op, text, marker) for run_op, text in change["words"]], [], 0
    else:
        removed, cut_old = _paragraphs(old, "del", budget, marker)
        added, cut_new = _paragraphs(new, "ins", budget, marker)
        paragraphs, cut = removed + added, cut_old + cut_new
    view = {"op": op.capitalize(), "section": marker(change.get("section") or ""), "words": words, "paragraphs": paragraphs}
    return view, cut


def _word_run(op: str, text: str, marker: Marker) -> Run:
    """One run of a word diff; line breaks in it are kept."""
    if op == "insert":
        return clip(text, "ins", breaks=True, marker=marker)
    if op == "delete":
        return clip(text, "del", breaks=True, marker=marker)
    return clip_context(text, breaks=True, marker=marker)


def _paragraphs(texts: list[str], mark: str, budget: list[int], marker: Marker) -> tuple[list[Run], int]:
    """Up to the remaining budget of paragraphs, marked; and how many were left out."""
    shown = texts[: budget[0]]
    budget[0] -= len(shown)
    return [clip(text, mark, marker=marker) for text in shown], len(texts) - len(shown)


# -- files -------------------------------------------------------------------------------------


SPREADSHEET_FORMATS = ("ods", "xlsx", "xls", "csv")


def file_view(event: dict[str, Any], marker: Marker = NO_MARKS) -> dict[str, Any]:
    """One attachment added, removed, replaced or changed, with what changed inside it.

    A new edition compared with the previous one (which is still listed) has no previous address
    or title: only a file that took another's place shows where it was and what it was called.
    """
    formats = "/".join(f.upper() for f in event.get("formats") or () if f)
    took_the_place = not event.get("compared_with")
    return {
        "op": file_event_label(event),
        "link": link(event.get("url"), marker(event.get("title") or event.get("url") or "")),
        "formats": formats,
        "old_url": link(event["old_url"], event["old_url"]) if event.get("old_url") and took_the_place else None,
        "old_title": (event.get("old_title") or "") if took_the_place else "",
        "compared_with": event.get("compared_with") or "",
        "file_summary": marker(event.get("file_summary") or ""),
        "note": event.get("note") or "",
        "diff": _file_diff_view(event.get("file_diff"), marker),
    }


def _file_diff_view(file_diff: dict[str, Any] | None, marker: Marker) -> dict[str, Any] | None:
    if not file_diff:
        return None
    sections = file_diff.get("sections") or []
    spreadsheet = str(file_diff.get("format_after") or "").lower() in SPREADSHEET_FORMATS
    tables = [_table_view(table, marker) for table in file_diff.get("tables") or [] if _has_changes(table)]
    return {
        "sheets_added": file_diff.get("sheets_added") or [],
        "sheets_removed": file_diff.get("sheets_removed") or [],
        "table_noun": "Sheet" if spreadsheet else "Table",
        "tables": tables,
        "sections": [_section_view(section, marker) for section in sections[:MAX_SECTIONS]],
        "more_sections": max(0, len(sections) - MAX_SECTIONS),
    }


def _has_changes(table: dict[str, Any]) -> bool:
    """A sheet shown only when something in it changed (no heading over an empty table)."""
    return any(table.get(key) for key in ("rows_added", "rows_removed", "rows_changed", "columns_added", "columns_removed"))


def _section_view(section: dict[str, Any], marker: Marker) -> dict[str, Any]:
    """A section of a document (PDF, DOCX) and the sentences it gained and lost."""
    added = [clip(s, "ins", marker=marker) for s in (section.get("sentences_added") or [])[:MAX_SENTENCES]]
    removed = [clip(s, "del", marker=marker) for s in (section.get("sentences_removed") or [])[:MAX_SENTENCES]]
    return {"label": marker(section.get("label", "")), "status": section.get("status", "changed"), "sentences": added + removed}


def _table_view(table: dict[str, Any], marker: Marker) -> dict[str, Any]:
    """A sheet's changes: columns added and removed, and the first rows that changed."""
    key = table.get("key_column")
    rows = _table_rows(table, key, marker)
    return {
        "sheet": marker(table.get("sheet", "")),
        "key": key or "",
        "columns_added": _names(table.get("columns_added")),
        "columns_removed": _names(table.get("columns_removed")),
        "rows": rows[:MAX_ROWS],
        "more_rows": max(0, len(rows) - MAX_ROWS),
    }


def _names(columns: list[Any] | None) -> str | None:
    """Column names as one line; None when there are none (an empty name still counts)."""
    return ", ".join(map(str, columns)) if columns else None


def _table_rows(table: dict[str, Any], key: str | None, marker: Marker) -> list[dict[str, Any]]:
    rows = []
    for label, items in (("Added", table.get("rows_added") or []), ("Removed", table.get("rows_removed") or [])):
        for row in items:
            ident = row.get(key) if isinstance(row, dict) and key else ""
            rows.append({"label": label, "ident": "" if ident is None else ident, "cells": marker(_row_cells(row)), "context": marker("")})
    for change in table.get("rows_changed") or []:
        cells = change.get("cells") or []
        changed_columns = [c.get("column") for c in cells]
        context = [f"{k}: {v}" for k, v in (change.get("row") or {}).items() if k != key and k not in changed_columns and v not in (None, "")][:3]
        rows.append({
            "label": "Changed",
            "ident": change.get("key", ""),
            "cells": marker("; ".join(f"{c.get('column')}: {c.get('before')} → {c.get('after')}" for c in cells)),
            "context": marker("; ".join(context)),
        })
    return rows


def _row_cells(row: Any) -> str:
    if isinstance(row, dict):
        return "; ".join(f"{k}: {v}" for k, v in row.items() if v not in (None, ""))
    return str(row)

"""What a reader sees of a diff: text changes and changed files, clipped to a readable size.

The database keeps every diff whole; an entry shows a part of it, within budgets (paragraphs,
rows, sections), and says how much it left out. These functions make that choice and return
plain data for the templates; they never write markup.
"""

from __future__ import annotations

from typing import Any, TypedDict

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

    Each part is a list of lines, shown with line breaks between them.
    """

    mark: str  # "ins", "del" or "" (unchanged)
    head: list[str]
    omitted: str  # empty when nothing was left out
    tail: list[str]


def link(url: str | None, text: Any) -> Link:
    """The text, to be shown as a link only if the URL is http(s)."""
    return {"href": safe_href(url) or "", "text": text}


def clip(text: str, mark: str, *, breaks: bool = False) -> Run:
    """An inserted or deleted run; a very long one keeps its start and end."""
    if len(text) <= MAX_RUN_CHARS:
        return _run(mark, text, "", "", breaks)
    head, tail = text[: MAX_RUN_CHARS // 2], text[-MAX_RUN_CHARS // 4 :]
    return _run(mark, head, f"… {len(text) - len(head) - len(tail):,} characters not shown …", tail, breaks)


def clip_context(text: str, *, breaks: bool = False) -> Run:
    """Unchanged text between edits: enough to read the sentence, not whole pages."""
    if len(text) <= 2 * CONTEXT_CHARS:
        return _run("", text, "", "", breaks)
    return _run("", text[:CONTEXT_CHARS], "…", text[-CONTEXT_CHARS:], breaks)


def _run(mark: str, head: str, omitted: str, tail: str, breaks: bool) -> Run:
    def lines(text: str) -> list[str]:
        return text.split("\n") if breaks else [text]

    return {"mark": mark, "head": lines(head), "omitted": omitted, "tail": lines(tail) if omitted else []}


# -- text --------------------------------------------------------------------------------------


def text_changes_view(changes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first text changes, sharing one paragraph budget, and counts of the rest."""
    if not changes:
        return None
    budget = [MAX_PARAGRAPHS]
    shown, hidden = [], 0
    for change in changes[:MAX_TEXT_CHANGES]:
        view, cut = _text_change(change, budget)
        shown.append(view)
        hidden += cut
    return {"changes": shown, "hidden_paragraphs": hidden, "hidden_changes": max(0, len(changes) - MAX_TEXT_CHANGES)}


def _text_change(change: dict[str, Any], budget: list[int]) -> tuple[dict[str, Any], int]:
    op = change["op"]
    old, new = change.get("old", []), change.get("new", [])
    words: list[Run] = []
    if op == "added":
        paragraphs, cut = _paragraphs(new, "ins", budget)
    elif op == "removed":
        paragraphs, cut = _paragraphs(old, "del", budget)
    elif change.get("words"):
        words, paragraphs, cut = [_word_run(run_op, text) for run_op, text in change["words"]], [], 0
    else:
        removed, cut_old = _paragraphs(old, "del", budget)
        added, cut_new = _paragraphs(new, "ins", budget)
        paragraphs, cut = removed + added, cut_old + cut_new
    view = {"op": op.capitalize(), "section": change.get("section") or "", "words": words, "paragraphs": paragraphs}
    return view, cut


def _word_run(op: str, text: str) -> Run:
    """One run of a word diff; line breaks in it are kept."""
    if op == "insert":
        return clip(text, "ins", breaks=True)
    if op == "delete":
        return clip(text, "del", breaks=True)
    return clip_context(text, breaks=True)


def _paragraphs(texts: list[str], mark: str, budget: list[int]) -> tuple[list[Run], int]:
    """Up to the remaining budget of paragraphs, marked; and how many were left out."""
    shown = texts[: budget[0]]
    budget[0] -= len(shown)
    return [clip(text, mark) for text in shown], len(texts) - len(shown)


# -- files -------------------------------------------------------------------------------------


def file_view(event: dict[str, Any]) -> dict[str, Any]:
    """One attachment added, removed, replaced or changed, with what changed inside it."""
    formats = "/".join(f.upper() for f in event.get("formats") or () if f)
    return {
        "op": event["op"].capitalize(),
        "link": link(event.get("url"), event.get("title") or event.get("url") or ""),
        "formats": formats,
        "old_url": link(event["old_url"], event["old_url"]) if event.get("old_url") else None,
        "old_title": event.get("old_title") or "",
        "compared_with": event.get("compared_with") or "",
        "file_summary": event.get("file_summary") or "",
        "note": event.get("note") or "",
        "diff": _file_diff_view(event.get("file_diff")),
    }


def _file_diff_view(file_diff: dict[str, Any] | None) -> dict[str, Any] | None:
    if not file_diff:
        return None
    sections = file_diff.get("sections") or []
    return {
        "sheets_added": file_diff.get("sheets_added") or [],
        "sheets_removed": file_diff.get("sheets_removed") or [],
        "tables": [_table_view(table) for table in file_diff.get("tables") or []],
        "sections": [_section_view(section) for section in sections[:MAX_SECTIONS]],
        "more_sections": max(0, len(sections) - MAX_SECTIONS),
    }


def _section_view(section: dict[str, Any]) -> dict[str, Any]:
    """A section of a document (PDF, DOCX) and the sentences it gained and lost."""
    added = [clip(s, "ins") for s in (section.get("sentences_added") or [])[:MAX_SENTENCES]]
    removed = [clip(s, "del") for s in (section.get("sentences_removed") or [])[:MAX_SENTENCES]]
    return {"label": section.get("label", ""), "status": section.get("status", "changed"), "sentences": added + removed}


def _table_view(table: dict[str, Any]) -> dict[str, Any]:
    """A sheet's changes: columns added and removed, and the first rows that changed."""
    key = table.get("key_column")
    rows = _table_rows(table, key)
    return {
        "sheet": table.get("sheet", ""),
        "key": key or "",
        "columns_added": _names(table.get("columns_added")),
        "columns_removed": _names(table.get("columns_removed")),
        "rows": rows[:MAX_ROWS],
        "more_rows": max(0, len(rows) - MAX_ROWS),
    }


def _names(columns: list[Any] | None) -> str | None:
    """Column names as one line; None when there are none (an empty name still counts)."""
    return ", ".join(map(str, columns)) if columns else None


def _table_rows(table: dict[str, Any], key: str | None) -> list[dict[str, Any]]:
    rows = []
    for label, items in (("Added", table.get("rows_added") or []), ("Removed", table.get("rows_removed") or [])):
        for row in items:
            ident = row.get(key) if isinstance(row, dict) and key else ""
            rows.append({"label": label, "ident": "" if ident is None else ident, "cells": _row_cells(row), "context": ""})
    for change in table.get("rows_changed") or []:
        cells = change.get("cells") or []
        changed_columns = [c.get("column") for c in cells]
        context = [f"{k}: {v}" for k, v in (change.get("row") or {}).items() if k != key and k not in changed_columns and v not in (None, "")][:3]
        rows.append({
            "label": "Changed",
            "ident": change.get("key", ""),
            "cells": "; ".join(f"{c.get('column')}: {c.get('before')} → {c.get('after')}" for c in cells),
            "context": "; ".join(context),
        })
    return rows


def _row_cells(row: Any) -> str:
    if isinstance(row, dict):
        return "; ".join(f"{k}: {v}" for k, v in row.items() if v not in (None, ""))
    return str(row)

"""What a reader sees of a changed file: register rows as a real table, document sections side
by side (before | after), within a :class:`~monitor.publish.diffview.Budget`.

A register row is shown with one column per register column, so a changed row reads across
like the spreadsheet itself, with the changed cells' words marked (a word diff of the old and
new value). Watch-list terms are marked wherever they occur (a :class:`Marker`). Plain data
only; ``files.html`` lays it out.
"""

from __future__ import annotations

from typing import Any

from monitor.compare.text import diff_words
from monitor.compare.wording import file_event_label
from monitor.publish.diffview import FEED, Budget, Run, clip, link, word_runs
from monitor.publish.marks import NO_MARKS, Marker

MAX_CELL_DIFF_CHARS = 5_000  # longer cells are shown as old struck, new inserted: no word diff
SPREADSHEET_FORMATS = ("ods", "xlsx", "xls", "csv")


def file_view(event: dict[str, Any], budget: Budget = FEED, marker: Marker = NO_MARKS) -> dict[str, Any]:
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
        "diff": _file_diff_view(event.get("file_diff"), budget, marker),
    }


def _file_diff_view(file_diff: dict[str, Any] | None, budget: Budget, marker: Marker) -> dict[str, Any] | None:
    if not file_diff:
        return None
    sections = file_diff.get("sections") or []
    spreadsheet = str(file_diff.get("format_after") or "").lower() in SPREADSHEET_FORMATS
    return {
        "sheets_added": file_diff.get("sheets_added") or [],
        "sheets_removed": file_diff.get("sheets_removed") or [],
        "table_noun": "Sheet" if spreadsheet else "Table",
        "tables": [table_view(table, budget, marker) for table in file_diff.get("tables") or [] if _changed(table)],
        "sections": [section_view(section, budget, marker) for section in sections[: budget.sections]],
        "more_sections": max(0, len(sections) - budget.sections),
    }


# -- sections of a document --------------------------------------------------------------------


def section_view(section: dict[str, Any], budget: Budget = FEED, marker: Marker = NO_MARKS) -> dict[str, Any]:
    """A section of a PDF or DOCX: the sentences it lost (before) beside those it gained (after)."""
    removed = section.get("sentences_removed") or []
    added = section.get("sentences_added") or []
    return {
        "label": marker(section.get("label", "")),
        "status": section.get("status", "changed"),
        "before": [clip(s, "del", budget, marker=marker) for s in removed[: budget.sentences]],
        "after": [clip(s, "ins", budget, marker=marker) for s in added[: budget.sentences]],
        "more": max(0, len(removed) - budget.sentences) + max(0, len(added) - budget.sentences),
    }


# -- register tables ---------------------------------------------------------------------------


def table_view(table: dict[str, Any], budget: Budget = FEED, marker: Marker = NO_MARKS) -> dict[str, Any]:
    """A sheet's changes: columns added and removed, and the first rows that changed, each row
    laid out in the sheet's own columns."""
    key = table.get("key_column")
    rows = _rows(table)
    shown = rows[: budget.rows]
    columns = _columns(key, shown)
    return {
        "sheet": marker(table.get("sheet", "")),
        "key": key or "",
        "columns_added": _names(table.get("columns_added")),
        "columns_removed": _names(table.get("columns_removed")),
        "columns": columns[: budget.columns],
        "more_columns": max(0, len(columns) - budget.columns),
        "rows": [_row_view(row, columns[: budget.columns], budget, marker) for row in shown],
        "more_rows": max(0, len(rows) - len(shown)),
    }


def _changed(table: dict[str, Any]) -> bool:
    """A sheet with something to show (the others are left out: a heading over nothing)."""
    return any(table.get(key) for key in ("rows_added", "rows_removed", "rows_changed", "columns_added", "columns_removed"))


def _names(columns: list[Any] | None) -> str | None:
    """Column names as one line; None when there are none (an empty name still counts)."""
    return ", ".join(map(str, columns)) if columns else None


def _rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row event as (label, mark, values, changed cells): added, removed, then changed."""
    rows: list[dict[str, Any]] = []
    for label, mark, items in (("Added", "ins", table.get("rows_added") or []), ("Removed", "del", table.get("rows_removed") or [])):
        for row in items:
            rows.append({"label": label, "mark": mark, "values": row if isinstance(row, dict) else {"": row}, "changed": {}})
    key = table.get("key_column")
    for change in table.get("rows_changed") or []:
        changed = {str(c.get("column")): c for c in change.get("cells") or []}
        values: dict[str, Any] = dict(change.get("row") or {})
        if key and key not in values:
            values = {key: change.get("key", ""), **values}
        for column, cell in changed.items():
            values.setdefault(column, cell.get("after"))
        rows.append({"label": "Changed", "mark": "", "values": values, "changed": changed})
    return rows


def _columns(key: str | None, rows: list[dict[str, Any]]) -> list[str]:
    """The key column first, then every other column in the order the rows name them."""
    seen: dict[str, None] = {key: None} if key else {}
    for row in rows:
        for column in row["values"]:
            seen.setdefault(str(column), None)
    return list(seen)


def _row_view(row: dict[str, Any], columns: list[str], budget: Budget, marker: Marker) -> dict[str, Any]:
    values = {str(k): v for k, v in row["values"].items()}
    cells: list[list[Run]] = []
    for column in columns:
        cell = row["changed"].get(column)
        if cell is not None:
            cells.append(_changed_cell(_text(cell.get("before")), _text(cell.get("after")), budget, marker))
        else:
            text = _text(values.get(column))
            cells.append([clip(text, row["mark"], budget, marker=marker)] if text else [])
    return {"label": row["label"], "mark": row["mark"], "cells": cells}


def _changed_cell(before: str, after: str, budget: Budget, marker: Marker) -> list[Run]:
    """The cell's words that changed, marked; a very long cell as old struck, new inserted."""
    if len(before) + len(after) > MAX_CELL_DIFF_CHARS:
        return [clip(before, "del", budget, marker=marker), clip(after, "ins", budget, marker=marker)]
    return word_runs([list(run) for run in diff_words(before, after)], budget, marker)


def _text(value: Any) -> str:
    return "" if value is None else str(value)

"""The research rows of a version, a file and a change, computed from the stored data.

Pure: a Document, a FileContent or a change's details JSON in, plain tuples out. The same
functions serve a run (rows written with the version or change they describe) and ``reindex``
(rows rebuilt from everything stored), so the two can never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.compare.keys import ColumnValues, choose_key, key_text
from monitor.model import Cell, Document, FileContent, Table


@dataclass(frozen=True)
class TextRow:
    part: str  # title | summary | heading | paragraph | list_item | ... | change_note | attachment
    section: str
    text: str


@dataclass(frozen=True)
class CellRow:
    sheet: str
    key_column: str | None
    row_key: str
    column_name: str
    value: str


@dataclass(frozen=True)
class DetailRow:
    detail: str
    op: str
    file_url: str | None = None
    section: str | None = None
    key: str | None = None
    before: str | None = None
    after: str | None = None


def version_texts(document: Document) -> list[TextRow]:
    """Title, summary, each body block under its heading, change notes, file titles."""
    rows = [TextRow("title", "", document.title)]
    if document.summary:
        rows.append(TextRow("summary", "", document.summary))
    heading = ""
    for block in document.blocks:
        if block.kind == "heading":
            heading = block.text
        if block.text.strip():
            rows.append(TextRow(block.kind, heading, block.text))
    rows += [TextRow("change_note", note.timestamp, note.note) for note in document.change_notes if note.note]
    rows += [TextRow("attachment", a.url, a.title) for a in document.attachments if a.title]
    return rows


def file_texts(content: FileContent) -> Iterator[TextRow]:
    """Each paragraph of each section, then each table row as "column: value; ..." text."""
    for section in content.sections:
        for paragraph in section.paragraphs:
            if paragraph.strip():
                yield TextRow("paragraph", section.label, paragraph)
    for table in content.tables:
        for row in table.rows:
            text = "; ".join(f"{name}: {value}" if name else value for name, value in _labelled(table.header, row))
            if text:
                yield TextRow("row", table.name, text)


def cell_text(value: Cell) -> str | None:
    """A cell as stored text (None for an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _labelled(header: tuple[str, ...], row: tuple[Cell, ...]) -> Iterator[tuple[str, str]]:
    for position, value in enumerate(row):
        text = cell_text(value)
        if text is not None:
            yield (header[position] if position < len(header) else "", text)


def table_key(table: Table, row_key: str | None = None) -> tuple[int, str] | None:
    """The identifier column of a table (position, name), chosen as the row diff chooses it."""
    values = ColumnValues(table)
    common = [(i, i, name) for i, name in enumerate(table.header)]
    key = choose_key(values, values, common, row_key)
    return None if key is None else (key[0], key[2])


def file_cells(content: FileContent, row_key: str | None = None) -> Iterator[CellRow]:
    """Every non-empty cell of every table, named by sheet, row key and column. Rows without an
    identifier column are numbered from 1; a duplicated key gets "#2", "#3"... after it."""
    for table in content.tables:
        key = table_key(table, row_key)
        seen: dict[str, int] = {}
        for number, row in enumerate(table.rows, start=1):
            name = str(number)
            if key is not None and key[0] < len(row):
                name = key_text(row[key[0]]) or str(number)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name}#{seen[name]}"
            for position, value in enumerate(row):
                text = cell_text(value)
                if text is None:
                    continue
                column = table.header[position] if position < len(table.header) else f"column {position + 1}"
                yield CellRow(table.name, key[1] if key else None, name, column or f"column {position + 1}", text)


def change_details(details: Mapping[str, Any]) -> list[DetailRow]:
    """The rows of one change's details JSON (a ChangeReport, or the small dicts of moves,
    discoveries and health entries)."""
    rows: list[DetailRow] = []
    if details.get("title_change"):
        before, after = details["title_change"]
        rows.append(DetailRow("title", "changed", before=before, after=after))
    if details.get("summary_change"):
        before, after = details["summary_change"]
        rows.append(DetailRow("summary", "changed", before=before, after=after))
    for change in details.get("text_changes") or ():
        rows += _text_rows(change)
    for event in details.get("attachments") or ():
        rows += _file_rows(event)
    for document in details.get("documents_added") or ():
        rows.append(DetailRow("document", "added", key=document.get("path"), section=document.get("group"), after=document.get("title")))
    for document in details.get("documents_removed") or ():
        rows.append(DetailRow("document", "removed", key=document.get("path"), section=document.get("group"), before=document.get("title")))
    for note in details.get("new_notes") or ():
        rows.append(DetailRow("note", "added", key=note.get("timestamp"), after=note.get("note")))
    if details.get("withdrawn_explanation"):
        rows.append(DetailRow("withdrawn", "added", after=details["withdrawn_explanation"]))
    if (details.get("extra") or {}).get("unwithdrawn"):
        rows.append(DetailRow("withdrawn", "removed"))
    if details.get("moved_to"):
        rows.append(DetailRow("moved", "changed", before=details.get("moved_from"), after=details["moved_to"]))
    return rows


def _text_rows(change: Mapping[str, Any]) -> list[DetailRow]:
    op, section = change["op"], change.get("section") or ""
    old, new = list(change.get("old") or ()), list(change.get("new") or ())
    if op == "added":
        return [DetailRow("text", "added", section=section, after=text) for text in new]
    if op == "removed":
        return [DetailRow("text", "removed", section=section, before=text) for text in old]
    if len(old) == len(new):
        return [DetailRow("text", "changed", section=section, before=a, after=b) for a, b in zip(old, new, strict=True) if a != b]
    return [DetailRow("text", "changed", section=section, before="\n".join(old), after="\n".join(new))]


def _file_rows(event: Mapping[str, Any]) -> list[DetailRow]:
    url = event.get("url")
    summary = event.get("file_summary") or event.get("note") or ""
    rows = [DetailRow("file", event["op"], file_url=url, section=event.get("title"), key=event.get("old_url"), before=event.get("old_title"), after=summary)]
    diff = event.get("file_diff") or {}
    for sheet in diff.get("sheets_added") or ():
        rows.append(DetailRow("sheet", "added", file_url=url, section=sheet))
    for sheet in diff.get("sheets_removed") or ():
        rows.append(DetailRow("sheet", "removed", file_url=url, section=sheet))
    for table in diff.get("tables") or ():
        rows += _table_rows(url, table)
    for section in diff.get("sections") or ():
        rows.append(
            DetailRow(
                "section",
                section["status"],
                file_url=url,
                section=section["label"],
                key=section.get("previous_label"),
                before="\n".join(section.get("sentences_removed") or ()) or None,
                after="\n".join(section.get("sentences_added") or ()) or None,
            )
        )
    return rows


def _table_rows(url: str | None, table: Mapping[str, Any]) -> list[DetailRow]:
    sheet, key_column = table.get("sheet") or "", table.get("key_column")
    rows = [DetailRow("column", "added", file_url=url, section=sheet, key=name) for name in table.get("columns_added") or ()]
    rows += [DetailRow("column", "removed", file_url=url, section=sheet, key=name) for name in table.get("columns_removed") or ()]

    def key_of(row: Mapping[str, Any]) -> str | None:
        return None if key_column is None else cell_text(row.get(key_column))

    rows += [DetailRow("row", "added", file_url=url, section=sheet, key=key_of(row), after=_json(row)) for row in table.get("rows_added") or ()]
    rows += [DetailRow("row", "removed", file_url=url, section=sheet, key=key_of(row), before=_json(row)) for row in table.get("rows_removed") or ()]
    for change in table.get("rows_changed") or ():
        cells = change.get("cells") or ()
        before = {c["column"]: c["before"] for c in cells}
        after = {c["column"]: c["after"] for c in cells}
        rows.append(DetailRow("row", "changed", file_url=url, section=sheet, key=change.get("key"), before=_json(before), after=_json(after)))
    return rows


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)

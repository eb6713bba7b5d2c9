"""One change with its whole diff: the stored record, its details JSON and its detail rows."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from monitor.errors import UsageError
from monitor.research.derive import DetailRow, change_details
from monitor.research.records import change_record
from storage import queries
from storage.db import Database


def show(db: Database, change_id: int) -> dict[str, Any]:
    with db.read() as session:
        found = queries.get_change(session, change_id)
    if found is None:
        raise UsageError(f"no change has id {change_id}: `dfe-monitor changes` lists them with their ids")
    change, target = found
    details = json.loads(change.details) if change.details else {}
    return {**change_record(change, target), "details": details, "rows": [asdict(r) for r in change_details(details)]}


def show_lines(record: dict[str, Any]) -> list[str]:
    flags = " [silent edit]" if record["silent_edit"] else ""
    flags += " [high priority: " + ", ".join(record["terms"]) + "]" if record["priority"] == "high" else ""
    lines = [
        f"change {record['id']}  {record['detected_at']}  {record['kind']}{flags}",
        record["title"],
        record["summary"],
        f"page: {record['page_url']}",
    ]
    if record["change_note"]:
        lines.append(f"change note: {record['change_note']}")
    if record["old_version_id"] is not None:
        lines.append(f"versions: {record['old_version_id']} -> {record['new_version_id']} (dfe-monitor diff {record['old_version_id']} {record['new_version_id']})")
    lines += detail_lines([DetailRow(**row) for row in record["rows"]])
    return lines


def detail_lines(rows: list[DetailRow]) -> list[str]:
    """Each detail row as "  what op [where] key: before -> after"."""
    lines = []
    for row in rows:
        where = f" [{row.section}]" if row.section else ""
        key = f" {row.key}" if row.key else ""
        text = " -> ".join(part for part in (_short(row.before), _short(row.after)) if part)
        lines.append(f"  {row.detail} {row.op}{where}{key}" + (f": {text}" if text else ""))
    return lines


def _short(value: str | None, limit: int = 300) -> str:
    if not value:
        return ""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

"""Exports: the changes as CSV or JSON Lines, or every stored capture as WARC (``warc``).

Files are written next to their destination and renamed into place, so a reader never sees
half an export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from monitor.errors import StorageError, UsageError
from monitor.research.records import change_record
from monitor.research.warc import export_warc
from storage import queries
from storage.db import Database

FORMATS = ("csv", "jsonl", "warc")
CSV_COLUMNS = ("id", "url", "name", "category", "kind", "detected_at", "title", "summary", "silent_edit", "priority", "terms", "change_note", "feed_id", "page_url", "source", "old_version_id", "new_version_id")


def change_records(db: Database, since: datetime | None) -> list[dict[str, Any]]:
    with db.read() as session:
        return [change_record(c, t) for c, t in queries.filter_changes(session, queries.ChangeFilter(since=since))]


def export(db: Database, fmt: str, path: Path, *, config_path: Path, since: datetime | None = None) -> int:
    """Write the export; returns how many records (changes or captures) it holds."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not a format: use csv, jsonl or warc")
    if not path.parent.is_dir():
        raise UsageError(f"--output {path}: the folder {path.parent} does not exist")
    try:
        if fmt == "warc":
            return export_warc(db, path, config_path=config_path, since=since)
        records = change_records(db, since)
        _atomic(path, lambda out: (_csv if fmt == "csv" else _jsonl)(records, out))
        return len(records)
    except OSError as exc:
        raise StorageError(f"cannot write the export {path}: {exc.strerror or exc}") from None


def _atomic(path: Path, write: Callable[[IO[str]], None]) -> None:
    temporary = path.with_name(path.name + ".partial")
    with temporary.open("w", encoding="utf-8", newline="") as out:
        write(out)
    temporary.replace(path)


def _jsonl(records: list[dict[str, Any]], out: IO[str]) -> None:
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _csv(records: list[dict[str, Any]], out: IO[str]) -> None:
    """One row per change; the list of terms joined with "; "."""
    writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else list(CSV_COLUMNS))
    writer.writeheader()
    for record in records:
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in record.items()})

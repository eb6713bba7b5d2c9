"""Reading changes back out of the database: the Atom feed and the JSON Lines listing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.publish.atom import FeedEntry, build_feed, rfc3339, write_feed
from monitor.publish.pages import write_pages
from storage import repo
from storage.db import Database
from storage.rows import ChangeRow, TargetRow


def entry_from_row(change: ChangeRow, target: TargetRow) -> FeedEntry:
    details = json.loads(change.details) if change.details else {}
    detected = change.detected_at
    return FeedEntry(
        feed_id=change.feed_id,
        title=change.title,
        url=target.fetch_url if change.kind != "moved" else details.get("moved_to", target.fetch_url),
        category=target.category,
        kind=change.kind,
        detected_at=detected,
        summary=change.summary,
        silent_edit=change.silent_edit,
        priority=change.priority,
        terms=tuple(json.loads(change.terms)) if change.terms else (),
        change_note=change.change_note,
        details=details,
        sequence=change.id,
    )


def publish_feed(db: Database, *, path: Path, title: str, feed_url: str, max_entries: int, now: datetime, pages_dir: Path | None = None) -> int:
    """(Re)write the feed (and the change pages) from the database; returns the entry count."""
    with db.read() as session:
        rows = repo.list_changes(session, newest_first=True, limit=max_entries)
        entries = [entry_from_row(change, target) for change, target in rows]
    xml = build_feed(entries, title=title, feed_url=feed_url, updated=now, max_entries=max_entries)
    write_feed(path, xml)
    if pages_dir is not None:
        write_pages(pages_dir, entries, title)
    return len(entries)


def change_record(change: ChangeRow, target: TargetRow) -> dict[str, Any]:
    detected = change.detected_at
    return {
        "id": change.id,
        "url": target.url,
        "name": target.name,
        "category": target.category,
        "kind": change.kind,
        "detected_at": rfc3339(detected),
        "title": change.title,
        "summary": change.summary,
        "silent_edit": change.silent_edit,
        "priority": change.priority,
        "terms": json.loads(change.terms) if change.terms else [],
        "change_note": change.change_note,
        "feed_id": change.feed_id,
        "page_url": target.fetch_url,
        "source": target.source,
        "old_version_id": change.old_version_id,
        "new_version_id": change.new_version_id,
    }


def iter_changes(db: Database) -> Iterator[dict[str, Any]]:
    """Every change, oldest first."""
    with db.read() as session:
        for change, target in repo.list_changes(session):
            yield change_record(change, target)

"""Reading changes back out of the database: the Atom feeds, the change pages and the JSON Lines
listing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from monitor.publish.atom import FeedEntry
from monitor.publish.cache import RenderCache, cache_path
from monitor.publish.feeds import FeedSpec, build_all, write_all
from monitor.publish.pages import page_name, write_pages
from storage import queries, repo
from storage.db import Database, Session
from storage.rows import ChangeRow, TargetRow


def entry_from_row(change: ChangeRow, target: TargetRow, pages_url: str = "", provenance: dict[str, Any] | None = None) -> FeedEntry:
    details = json.loads(change.details) if change.details else {}
    detected = change.detected_at
    entry = FeedEntry(
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
        name=target.name,
        target_id=target.id,
        provenance=provenance or {},
    )
    return replace(entry, page_url=urljoin(pages_url, page_name(entry))) if pages_url else entry


@dataclass(frozen=True)
class PagesSpec:
    """Where the change pages go and where they are published (``url`` empty: not linked)."""

    folder: Path
    url: str
    title: str


def publish(db: Database, feeds: Sequence[FeedSpec], *, max_entries: int, now: datetime, pages: PagesSpec | None = None, keep_renderings: bool = True) -> int:
    """(Re)write every feed (the first of ``feeds`` is the main one) and the change pages from
    the database; returns the main feed's entry count. Every feed is built and checked before
    any file is written. ``keep_renderings`` keeps the HTML between publishes (in a cache file
    beside the first feed), so entries and pages already published are not rendered again."""
    pages_url = pages.url if pages is not None else ""
    with db.read() as session:
        rows = newest_rows(session, feeds, max_entries)
        entries = [entry_from_row(change, target, pages_url) for change, target in rows]
        if pages is not None:
            newest = rows[:max_entries]
            sources = {change.id: provenance(session, change, target) for change, target in newest}
            entries[: len(newest)] = [replace(e, provenance=sources[e.sequence]) for e in entries[: len(newest)]]
    cache = RenderCache(cache_path(feeds[0].path) if feeds and keep_renderings else None)
    built = build_all(feeds, entries, max_entries=max_entries, now=now, cache=cache)
    write_all(built)
    if pages is not None:
        write_pages(pages.folder, entries[:max_entries], pages.title, cache)
    cache.save()
    return built[0][2] if built else 0


def newest_rows(session: Session, feeds: Sequence[FeedSpec], max_entries: int) -> list[tuple[ChangeRow, TargetRow]]:
    """Newest first, the changes any feed (or the pages) shows: the newest ``max_entries`` of
    all, and each feed's newest ``max_entries`` by its own filters — one bounded query per feed,
    so publishing costs the same with a hundred stored changes or a million."""
    found = {change.id: (change, target) for change, target in repo.list_changes(session, newest_first=True, limit=max_entries)}
    for spec in feeds:
        if spec.categories or spec.priority is not None or spec.silent_only or spec.kinds is not None:
            rows = repo.list_changes(
                session, newest_first=True, limit=max_entries,
                categories=spec.categories, priority=spec.priority, silent_only=spec.silent_only, kinds=spec.kinds,
            )
            found.update((change.id, (change, target)) for change, target in rows)
    return sorted(found.values(), key=lambda row: (row[0].detected_at, row[0].id), reverse=True)


def provenance(session: Session, change: ChangeRow, target: TargetRow) -> dict[str, Any]:
    """What a change page cites: the two versions, the sha256 of the captures each was derived
    from, and of each file each listed."""
    found: dict[str, Any] = {"old_version": change.old_version_id, "new_version": change.new_version_id}
    for side, version_id in (("before", change.old_version_id), ("after", change.new_version_id)):
        version = queries.get_version(session, version_id) if version_id is not None else None
        if version is None:
            continue
        captures = queries.captures_of(session, version.run_id, target.url)
        found[f"captures_{side}"] = list(dict.fromkeys(c.sha256 for c in captures if c.sha256))
        found[f"files_{side}"] = {url: sha for _, url, sha in queries.files_of_version(session, version.id) if sha}
    return found

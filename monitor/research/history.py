"""Every version of one target: when it was captured, from which bytes, what notes came with it."""

from __future__ import annotations

from typing import Any

from monitor.compare.document import new_change_notes
from monitor.model import document_from_json
from monitor.research.filters import resolve_target
from monitor.times import rfc3339
from storage import queries, repo
from storage.db import Database


def history(db: Database, target_name: str) -> list[dict[str, Any]]:
    """One record per version, oldest first: ``version_id``, ``captured_at`` (the page's
    capture), ``sha256`` (every capture it was derived from), the change notes that were new in
    it (all of them for the first), and the changes that reported it."""
    records = []
    with db.read() as session:
        target = resolve_target(repo.all_targets(session), target_name)
        changes: dict[int, list[int]] = {}
        for change, _ in queries.filter_changes(session, queries.ChangeFilter(target_id=target.id)):
            if change.new_version_id is not None:
                changes.setdefault(change.new_version_id, []).append(change.id)
        previous = None
        for version in queries.versions_of(session, target.id):
            document = document_from_json(repo.get_blob(session, version.document_sha256))
            captures = queries.captures_of(session, version.run_id, target.url)
            page = queries.get_fetch(session, version.page_fetch_id) if version.page_fetch_id else None
            notes = new_change_notes(previous.change_notes, document.change_notes) if previous else document.change_notes
            records.append(
                {
                    "target": target.name,
                    "url": target.url,
                    "version_id": version.id,
                    "captured_at": rfc3339(page.requested_at if page else version.created_at),
                    "stored_at": rfc3339(version.created_at),
                    "technical": version.technical,
                    "title": document.title,
                    "sha256": list(dict.fromkeys(c.sha256 for c in captures if c.sha256)),
                    "captures": [{"url": c.url, "role": c.role, "status": c.status, "sha256": c.sha256, "requested_at": rfc3339(c.requested_at)} for c in captures],
                    "files": [{"title": a.title, "url": a.url, "sha256": a.sha256} for a in document.attachments],
                    "change_notes": [{"timestamp": n.timestamp, "note": n.note} for n in notes],
                    "change_ids": changes.get(version.id, []),
                }
            )
            previous = document
    return records


def history_lines(records: list[dict[str, Any]]) -> list[str]:
    """The readable listing: one block per version."""
    lines = []
    for record in records:
        flags = " (technical: re-read by newer code)" if record["technical"] else ""
        changes = f"  changes: {', '.join(map(str, record['change_ids']))}" if record["change_ids"] else ""
        lines.append(f"version {record['version_id']}  {record['captured_at']}  {record['title']}{flags}{changes}")
        for sha in record["sha256"]:
            lines.append(f"    sha256 {sha}")
        for note in record["change_notes"][:5]:
            lines.append(f"    note {note['timestamp']}: {note['note']}")
        if len(record["change_notes"]) > 5:
            lines.append(f"    … and {len(record['change_notes']) - 5} older notes")
    return lines

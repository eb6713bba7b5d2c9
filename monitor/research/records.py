"""A change as programs read it: one flat record (``changes --json``, ``export``, ``show``,
``/api/changes``), its times in RFC 3339."""

from __future__ import annotations

import json
from typing import Any

from monitor.times import rfc3339
from storage.rows import ChangeRow, TargetRow


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

"""``/api/changes``: the changes as JSON, the same records as `dfe-monitor changes --json`
(a JSON array, oldest first), with the same filters as query parameters: ``since``,
``category``, ``priority``, ``silent``, ``target``, ``limit``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from monitor.errors import UsageError
from monitor.research.filters import check_category, parse_since, resolve_target
from monitor.research.records import change_record
from storage import queries, repo
from storage.db import Database

PARAMETERS = ("since", "category", "priority", "silent", "target", "limit")


def changes_json(db: Database | None, query: str) -> bytes:
    """The JSON body; a UsageError (answered 400) for a bad parameter."""
    params = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise UsageError(f"unknown parameter {unknown[0]!r}: use {', '.join(PARAMETERS)}")
    since = parse_since(params.get("since"), "since")
    category = check_category(params.get("category"))
    priority = params.get("priority")
    if priority not in (None, "high", "normal"):
        raise UsageError(f"priority {priority!r} is not a priority: use high or normal")
    limit = params.get("limit")
    if limit is not None and (not limit.isdigit() or int(limit) < 1):
        raise UsageError(f"limit {limit!r} is not a count: give a whole number of at least 1")
    silent = params.get("silent", "false").lower() in ("", "1", "true", "yes")
    records: list[dict[str, Any]] = []
    if db is not None:
        with db.read() as session:
            target_id = resolve_target(repo.all_targets(session), params["target"]).id if params.get("target") else None
            wanted = queries.ChangeFilter(since=since, category=category, priority=priority, silent=silent, target_id=target_id, limit=int(limit) if limit else None)
            records = [change_record(c, t) for c, t in queries.filter_changes(session, wanted)]
    return json.dumps(records, ensure_ascii=False).encode("utf-8")

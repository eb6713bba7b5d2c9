"""Discovery: search results not yet tracked become targets. A ``[[discover]]`` entry's first run
is a silent baseline."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from monitor.config import Config
from monitor.govuk.urls import normalise_url, result_path
from monitor.record.versions import Processor
from storage import repo
from storage.db import Database


def discover_new(db: Database, config: Config, run_id: int, processor: Processor, now: datetime) -> None:
    """Track search results not yet tracked. A discover entry's first run is a silent baseline."""
    base = config.govuk.base_url.rstrip("/")
    entries = {d.key: d for d in config.discover}
    pages: dict[str, list[bytes]] = {}
    with db.read() as session:
        for fetch in repo.fetches_of_run(session, run_id):
            if fetch.role != "search" or fetch.error or not fetch.sha256:
                continue
            key = json.loads(fetch.meta or "{}").get("discover_key")
            if key in entries:
                pages.setdefault(key, []).append(repo.get_blob(session, fetch.sha256))
    for key, bodies in pages.items():
        entry = entries[key]
        with db.write() as session:
            announce = repo.discover_seen(session, key)
            known = {normalise_url(u) for t in repo.all_targets(session) for u in (t.url, t.fetch_url)}
            for result in _results(bodies, base):
                url = f"{base}{result['link']}"
                if normalise_url(url) in known:
                    continue
                known.add(normalise_url(url))
                title = " ".join(str(result.get("title") or result["link"]).split())
                target = repo.add_discovered_target(session, repo.TargetSpec(url, title, entry.category), key, now)
                processor.add_discovered(session, target, title, str(result.get("description") or ""), announce)
            repo.mark_discover_run(session, key, now)


def _results(bodies: list[bytes], base: str) -> list[dict[str, Any]]:
    results = []
    for body in bodies:
        try:
            data = json.loads(body)
        except ValueError:
            continue
        for result in data.get("results", []) if isinstance(data, dict) else []:
            path = result_path(result.get("link") if isinstance(result, dict) else None, base)
            if path is not None:
                results.append({**result, "link": path})
    return results

"""Discovery: search results not yet tracked become targets. A ``[[discover]]`` entry's first run
is a silent baseline (it starts tracking what it finds without announcing each item)."""

from __future__ import annotations

import json
from datetime import datetime

from monitor.config import Config
from monitor.govuk.search import SearchResult, new_results, read_search_page, tracked_urls
from monitor.model import FetchRole
from monitor.record.versions import Processor
from storage import repo
from storage.db import Database


def discover_new(db: Database, config: Config, run_id: int, processor: Processor, now: datetime) -> None:
    """Track this run's search results that no target is known by yet.

    Each entry's results are its own: they come from the search requests made for that entry.
    A publication found by several entries is tracked once, with the category of the first of
    them in config order (whatever order their searches were answered in).
    """
    base = config.govuk.base_url.rstrip("/")
    found: dict[str, list[SearchResult]] = {}
    with db.read() as session:
        for fetch in repo.fetches_of_run(session, run_id):
            if fetch.role != FetchRole.SEARCH or fetch.error or not fetch.sha256:
                continue
            key = json.loads(fetch.meta or "{}").get("discover_key")
            page = read_search_page(repo.get_blob(session, fetch.sha256), base) if isinstance(key, str) else None
            if page is not None:
                found.setdefault(key, []).extend(page.results)
    for entry in config.discover:
        results = found.get(entry.key)
        if results is None:
            continue
        with db.write() as session:
            announce = repo.discover_seen(session, entry.key)
            known = tracked_urls(u for t in repo.all_targets(session) for u in (t.url, t.fetch_url))
            for result in new_results(results, base, known):
                target = repo.add_discovered_target(session, repo.TargetSpec(result.url(base), result.title, entry.category), entry.key, now)
                processor.add_discovered(session, target, result.title, result.description, announce)
            repo.mark_discover_run(session, entry.key, now)

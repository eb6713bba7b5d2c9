"""Discovery: search results not yet tracked become targets. A ``[[discover]]`` entry's first run
is a silent baseline (it starts tracking what it finds without announcing each item)."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from monitor.config import Config
from monitor.govuk.search import (
    SearchResult,
    new_results,
    new_target_cap,
    read_search_page,
    tracked_urls,
)
from monitor.model import FetchRole
from monitor.record.versions import Processor
from storage import repo
from storage.db import Database

log = logging.getLogger("dfe-monitor")


def discover_new(db: Database, config: Config, run_id: int, processor: Processor, now: datetime) -> None:
    """Track this run's search results that no target is known by yet.

    Each entry's results are its own: they come from the search requests made for that entry.
    A publication found by several entries is tracked once, with the category of the first of
    them in config order (whatever order their searches were answered in).
    """
    base = config.govuk.base_url.rstrip("/")
    entries = {d.key: d for d in config.discover}
    found: dict[str, list[SearchResult]] = {}
    with db.read() as session:
        for fetch in repo.fetches_of_run(session, run_id):
            if fetch.role != FetchRole.SEARCH or fetch.error or not fetch.sha256:
                continue
            key = json.loads(fetch.meta or "{}").get("discover_key")
            entry = entries.get(key) if isinstance(key, str) else None
            start = json.loads(fetch.meta or "{}").get("start", 0)
            page = read_search_page(repo.get_blob(session, fetch.sha256), base, limit=entry.max_results - start) if entry is not None else None
            if entry is not None and page is not None and page.unread:
                log.warning("discovery %r: the Search API listed %d results more than max_results = %d; they were not looked at", entry.query, page.unread, entry.max_results)
            if page is not None:
                found.setdefault(key, []).extend(page.results)
    for entry in config.discover:
        results = found.get(entry.key)
        if results is None:
            continue
        with db.write() as session:
            announce = repo.discover_seen(session, entry.key)
            known = tracked_urls(u for t in repo.all_targets(session) for u in (t.url, t.fetch_url))
            fresh = new_results(results, base, known)
            cap = new_target_cap(entry.max_results, config.limits.new_targets, baseline=not announce)
            if len(fresh) > cap:
                setting = f"limits.new_targets = {cap}" if announce else f"max_results = {cap}"
                log.warning("discovery %r: %d new results, more than %s per run; the first %d are tracked now, the rest in later runs", entry.query, len(fresh), setting, cap)
            for result in fresh[:cap]:
                target = repo.add_discovered_target(session, repo.TargetSpec(result.url(base), result.title, entry.category), entry.key, now)
                processor.add_discovered(session, target, result.title, result.description, announce)
            repo.mark_discover_run(session, entry.key, now)

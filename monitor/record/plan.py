"""What one run fetches: every active target (with what its last version listed, so files and
parents answered 304 are still accounted for), the discovery searches, and the validators for
conditional requests."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config import Config
from monitor.govuk.pages import CONTENT_SELECTOR
from monitor.govuk.search import new_target_cap, tracked_urls
from monitor.govuk.urls import api_url_for, canonical_url
from monitor.model import plan_facts_from_json, plan_facts_from_stored, plan_facts_to_json
from spiders.items import CrawlPlan, DiscoverPlan, TargetPlan
from storage import repo
from storage.db import Session


def build_plan(session: Session, config: Config, only: Sequence[str] | None) -> tuple[CrawlPlan, dict[int, str]]:
    """The run's plan, and the ``plan_facts`` of latest versions stored without them (before
    0.2.0), read from their Documents this once, for the caller to store."""
    base = config.govuk.base_url.rstrip("/")
    targets = repo.active_targets(session)
    if only is not None:
        wanted = set(only)
        targets = [t for t in targets if t.name in wanted or t.url in wanted]
    selectors = {t.url: t.selector for t in config.targets}
    plans = []
    urls: list[str] = []
    latest_versions = repo.latest_versions(session)
    backfill: dict[int, str] = {}
    for target in targets:
        known: tuple[str, ...] = ()
        parent_api = None
        latest = latest_versions.get(target.id)
        if latest is not None:
            if latest.plan_facts:
                facts = plan_facts_from_stored(latest.plan_facts)
            else:  # a version stored before 0.2.0
                facts = plan_facts_from_json(repo.get_blob(session, latest.document_sha256))
                backfill[latest.id] = plan_facts_to_json(facts)
            known = facts.file_urls
            if facts.parent_path:
                parent_api = f"{base}/api/content{facts.parent_path}"
        api = api_url_for(target.fetch_url, base)
        plan = TargetPlan(target_url=target.url, fetch_url=target.fetch_url, api_url=api, selector=selectors.get(target.url, CONTENT_SELECTOR), known_attachments=known, known_parent_api_url=parent_api)
        plans.append(plan)
        urls.extend(_canonical(u) for u in (api, target.fetch_url, parent_api, *known) if u)
    discover = []
    if only is None:
        new_targets = config.limits.new_targets
        discover = [
            DiscoverPlan(key=d.key, query=d.query, organisation=d.organisation or None, document_type=d.document_type, max_results=d.max_results, max_new=new_target_cap(d.max_results, new_targets, baseline=not repo.discover_seen(session, d.key)))
            for d in config.discover
        ]
    known_urls = frozenset(tracked_urls(u for t in repo.all_targets(session) for u in (t.url, t.fetch_url)))
    crawl_plan = CrawlPlan(
        base_url=base,
        allowed_hosts=tuple(config.fetch.allowed_hosts),
        targets=plans,
        discover=discover,
        known_urls=known_urls,
        validators=repo.validators_for(session, urls),
        max_tags=config.limits.page_limits().body_tags,
        max_attachments=config.limits.attachments,
    )
    return crawl_plan, backfill


def _canonical(url: str) -> str:
    """The spelling a fetch of ``url`` was stored under (its validators' key)."""
    try:
        return canonical_url(url)
    except (ValueError, UnicodeError):
        return url

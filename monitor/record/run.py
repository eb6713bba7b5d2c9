"""One run: lock → crawl (Scrapy, storing every capture) → discover → process → feed.

A run is one process: Twisted's reactor cannot be restarted, so ``run_once`` may crawl only
once per process (the scheduler starts a child ``dfe-monitor run`` for every check).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.config import Config
from monitor.document.files.safety import Limits
from monitor.errors import (
    MonitorError,
    NothingFetched,
    RunStopped,
    UsageError,
)
from monitor.govuk.urls import api_url_for, normalise_url, result_path
from monitor.lock import RunLock
from monitor.model import document_from_json
from monitor.publish.records import publish_feed
from monitor.record.database import database_errors, open_database
from monitor.record.versions import Processor, ProcessSettings, RunCounts
from spiders.items import Capture, CrawlPlan, DiscoverPlan, TargetPlan
from storage import repo
from storage.db import Database, DatabaseCorrupt, StorageFailure

log = logging.getLogger("dfe-monitor")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class RunResult:
    run_id: int
    status: str
    counts: RunCounts
    requests: int = 0
    not_modified: int = 0
    bytes_downloaded: int = 0
    feed_entries: int = 0
    feed_path: str = ""
    errors: list[str] = field(default_factory=list)
    search_failures: int = 0

    def summary_line(self) -> str:
        c = self.counts
        parts = [
            f"run {self.run_id} {self.status}: {c.checked} targets checked",
            f"{c.unchanged} unchanged",
            f"{c.changed} changed",
            f"{c.failed} failed",
        ]
        if c.baseline:
            parts.append(f"{c.baseline} baseline")
        if c.gone:
            parts.append(f"{c.gone} gone")
        if c.new:
            parts.append(f"{c.new} discovered")
        line = ", ".join(parts)
        line += f"; {c.changes} feed entries added; {self.requests} requests ({self.not_modified} not modified, {_size(self.bytes_downloaded)} downloaded)"
        if self.search_failures:
            line += f"; {self.search_failures} discovery searches failed"
        return line


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def process_settings(config: Config) -> ProcessSettings:
    return ProcessSettings(
        base_url=config.govuk.base_url.rstrip("/"),
        allowed_hosts=tuple(config.fetch.allowed_hosts),
        feed_url=config.feed.url,
        terms=tuple(config.alerts.terms),
        failing_after=config.health.failing_after,
        gone_after=config.health.gone_after,
        selectors={t.url: t.selector for t in config.targets},
        row_keys={t.url: t.row_key for t in config.targets if t.row_key},
        extract_limits=Limits(timeout_seconds=config.extract.timeout_seconds, memory_bytes=config.extract.memory_mb * 1024 * 1024),
    )


def run_once(config: Config, *, only: Sequence[str] | None = None, now: Callable[[], datetime] = utcnow, verbose: bool = False, locked: bool = False) -> RunResult:
    """One check of every target (or of the targets named in ``only``) and of discovery.

    Takes the run lock unless the caller already holds it (``locked=True``).
    """
    with contextlib.nullcontext() if locked else RunLock(config.lock_path):
        db = open_database(config)
        try:
            with database_errors(config, "write to", "; the feed was left as it was"):
                return _run_locked(config, db, only, now, verbose)
        finally:
            db.dispose()


def _run_locked(config: Config, db: Database, only: Sequence[str] | None, now: Callable[[], datetime], verbose: bool) -> RunResult:
    started = now()
    with db.read() as session:
        check_target_names(session, only)
    with db.write() as session:
        aborted = repo.abort_stale_runs(session, started)
        if aborted:
            log.warning("%d earlier run(s) had been killed before finishing; marked aborted", aborted)
        repo.sync_configured_targets(session, [repo.TargetSpec(t.url, t.name, t.category) for t in config.targets], started)
        run_id = repo.start_run(session, started, os.getpid(), "run" if not only else "run --target")
    result = RunResult(run_id=run_id, status="running", counts=RunCounts(), feed_path=str(config.feed_path))
    try:
        return _check(config, db, only, now, verbose, result)
    except MonitorError as exc:
        _finish(db, result, "aborted" if isinstance(exc, RunStopped) else "failed", now(), str(exc))
        raise
    except (StorageFailure, DatabaseCorrupt) as exc:  # reported by run_once, not a bug
        _finish(db, result, "failed", now(), str(exc))
        raise
    except Exception as exc:
        _finish(db, result, "failed", now(), f"internal error: {type(exc).__name__}: {exc}")
        raise


def _check(config: Config, db: Database, only: Sequence[str] | None, now: Callable[[], datetime], verbose: bool, result: RunResult) -> RunResult:
    run_id = result.run_id
    with db.read() as session:
        plan = build_plan(session, config, only)
    sink = StorageSink(db, run_id, now)
    stats = crawl(plan, config, sink, verbose=verbose)
    if sink.failure is not None:
        raise sink.failure
    result.requests = int(stats.get("downloader/request_count", 0))
    result.not_modified = int(stats.get("downloader/response_status_count/304", 0))
    result.bytes_downloaded = int(stats.get("downloader/response_bytes", 0))
    result.search_failures = sink.search_failures
    if stats.get("finish_reason") != "finished":
        raise RunStopped(f"the run was stopped ({stats.get('finish_reason')}) before the crawl finished; nothing was processed and the feed was left as it was")

    processed_at = now()
    processor = Processor(db, process_settings(config), run_id, processed_at)
    if not sink.successes:
        first = sink.first_error or "no request got an answer"
        raise NothingFetched(f"nothing could be fetched ({sink.failures} requests failed; first error: {first}); the database's versions and the feed were left as they were")
    if only is None:
        discover_new(db, config, run_id, processor, processed_at)
    urls = [t.target_url for t in plan.targets] if only is not None else None
    counts = processor.process(urls)
    result.counts = counts
    result.errors = counts.errors
    result.status = "partial" if counts.failed else "completed"
    result.feed_entries = publish_feed(db, path=config.feed_path, title=config.feed.title, feed_url=config.feed.url, max_entries=config.feed.max_entries, now=processed_at, pages_dir=config.pages_path)
    _finish(db, result, result.status, now(), None)
    return result


def _finish(db: Database, result: RunResult, status: str, when: datetime, error: str | None) -> None:
    """Record how the run ended; a database that cannot even take that is already reported."""
    result.status = status
    try:
        with db.write() as session:
            repo.finish_run(session, result.run_id, status, _summary(result), when, error)
    except (StorageFailure, DatabaseCorrupt):
        log.warning("could not record the end of run %d in the database", result.run_id)


def check_target_names(session: Any, only: Sequence[str] | None) -> None:
    """``--target`` names must name known targets: a typo is a usage error, not an empty run."""
    if not only:
        return
    targets = repo.active_targets(session)
    known = {t.name for t in targets} | {t.url for t in targets}
    unknown = [name for name in only if name not in known]
    if unknown:
        names = ", ".join(sorted(t.name for t in targets)[:10])
        raise UsageError(f"--target {unknown[0]!r} names no watched target (known: {names})")


def _summary(result: RunResult) -> dict[str, Any]:
    return {**result.counts.as_dict(), "requests": result.requests, "not_modified": result.not_modified, "bytes_downloaded": result.bytes_downloaded}


# -- planning ----------------------------------------------------------------------------------


def build_plan(session: Any, config: Config, only: Sequence[str] | None) -> CrawlPlan:
    base = config.govuk.base_url.rstrip("/")
    targets = repo.active_targets(session)
    if only is not None:
        wanted = set(only)
        targets = [t for t in targets if t.name in wanted or t.url in wanted]
    selectors = {t.url: t.selector for t in config.targets}
    plans = []
    urls: list[str] = []
    for target in targets:
        known: tuple[str, ...] = ()
        parent_api = None
        latest = repo.latest_version(session, target.id)
        if latest is not None:
            document = document_from_json(repo.get_blob(session, latest.document_sha256))
            known = tuple(a.url for a in document.attachments if a.attachment_type == "file")
            parent = document.extras.get("parent_path")
            if parent:
                parent_api = f"{base}/api/content{parent}"
        api = api_url_for(target.fetch_url, base)
        plan = TargetPlan(target_url=target.url, fetch_url=target.fetch_url, api_url=api, selector=selectors.get(target.url, "main#content"), known_attachments=known, known_parent_api_url=parent_api)
        plans.append(plan)
        urls.extend(u for u in (api, target.fetch_url, parent_api, *known) if u)
    discover = []
    if only is None:
        discover = [DiscoverPlan(key=d.key, query=d.query, organisation=d.organisation or None, document_type=d.document_type, max_results=d.max_results) for d in config.discover]
    known_urls = frozenset(normalise_url(u) for t in repo.all_targets(session) for u in (t.url, t.fetch_url))
    return CrawlPlan(
        base_url=base,
        allowed_hosts=tuple(config.fetch.allowed_hosts),
        targets=plans,
        discover=discover,
        known_urls=known_urls,
        validators=repo.validators_for(session, urls),
    )


# -- crawling ----------------------------------------------------------------------------------


class StorageSink:
    """Stores each capture as it arrives (its own transaction), counting outcomes."""

    def __init__(self, db: Database, run_id: int, now: Callable[[], datetime]) -> None:
        self.db = db
        self.run_id = run_id
        self.now = now
        self.successes = 0
        self.failures = 0
        self.first_error: str | None = None
        self.failure: StorageFailure | DatabaseCorrupt | None = None
        self.search_failures = 0

    def __call__(self, capture: Capture) -> None:
        if self.failure is not None:
            return
        if capture.error is None and (capture.status == 200 or capture.not_modified):
            self.successes += 1
        elif capture.status in (404, 410):
            self.successes += 1  # an answer, and a meaningful one
        else:
            self.failures += 1
            self.search_failures += capture.role == "search"
            self.first_error = self.first_error or f"{capture.url}: {capture.error or capture.status}"
        try:
            with self.db.write() as session:
                repo.record_fetch(
                    session,
                    self.run_id,
                    self.now(),
                    capture.body if capture.error is None else None,
                    target_url=capture.target_url,
                    role=capture.role,
                    url=capture.url,
                    final_url=capture.final_url,
                    status=capture.status,
                    not_modified=capture.not_modified,
                    error=capture.error,
                    etag=capture.etag,
                    last_modified=capture.last_modified,
                    content_type=capture.content_type,
                    size=len(capture.body) if capture.body is not None else None,
                    elapsed_ms=capture.elapsed_ms,
                    redirects=json.dumps(capture.redirects) if capture.redirects else None,
                    meta=json.dumps(capture.meta) if capture.meta else None,
                )
        except (StorageFailure, DatabaseCorrupt) as exc:
            self.failure = exc  # raised after the crawl; run_once says it in words


def crawl(plan: CrawlPlan, config: Config, sink: Callable[[Capture], None], *, verbose: bool = False) -> dict[str, Any]:
    """Run the spider to completion in this process; returns Scrapy's stats."""
    from scrapy.crawler import CrawlerProcess

    from spiders.govuk import GovukSpider
    from spiders.settings import build_settings

    f = config.fetch
    settings = build_settings(
        user_agent=f.user_agent,
        delay_seconds=f.delay_seconds,
        timeout_seconds=f.timeout_seconds,
        max_bytes=f.max_bytes,
        retries=f.retries,
        backoff_seconds=f.backoff_seconds,
        max_retry_after_seconds=f.max_retry_after_seconds,
        obey_robots_txt=f.obey_robots_txt,
        verify_tls=f.verify_tls,
        allowed_hosts=tuple(f.allowed_hosts),
        log_level="INFO" if verbose else "ERROR",
    )
    settings["LOG_INSTALL_ROOT_HANDLER"] = False  # the CLI's handler is the only one
    process = CrawlerProcess(settings)
    # Scrapy resets its loggers to DEBUG; cron wants errors only unless asked.
    logging.getLogger("scrapy").setLevel(logging.INFO if verbose else logging.ERROR)
    crawler = process.create_crawler(GovukSpider)
    process.crawl(crawler, plan=plan, sink=sink)
    process.start()
    # Scrapy's handlers stay installed after the crawl and would swallow a stop request
    # during processing: give the signals back their usual meaning.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return dict(crawler.stats.get_stats()) if crawler.stats else {}


# -- discovery ---------------------------------------------------------------------------------


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

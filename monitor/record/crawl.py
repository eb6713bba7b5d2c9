"""The crawl: Scrapy runs the spider in this process, and every capture it yields is stored as it
arrives (its own transaction), so a run killed mid-crawl keeps what it fetched."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Callable
from datetime import datetime
from typing import Any

from monitor.config import Config
from spiders.items import Capture, CrawlPlan
from storage import repo
from storage.db import Database, DatabaseCorrupt, StorageFailure


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
                    headers=capture.headers,
                )
        except (StorageFailure, DatabaseCorrupt) as exc:
            self.failure = exc  # raised after the crawl; run_once says it in words


def crawl(plan: CrawlPlan, config: Config, sink: Callable[[Capture], None], *, verbose: bool = False) -> dict[str, Any]:
    """Run the spider to completion in this process; returns Scrapy's stats."""
    from scrapy.crawler import CrawlerProcess

    from spiders.settings import build_settings
    from spiders.spider import GovukSpider

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

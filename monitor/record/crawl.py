"""The crawl: Scrapy runs the spider in this process, and the captures it yields are stored as
they arrive, in small batches (one transaction for up to 64 captures or one second), so a run
killed mid-crawl keeps what it fetched but its last second."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from monitor import heap
from monitor.config import Config
from monitor.console import NO_PROGRESS, Progress
from spiders.items import Capture, CrawlPlan
from storage import repo
from storage.db import Database, DatabaseCorrupt, StorageFailure

BATCH_CAPTURES = 64
BATCH_BYTES = 16 * 1024 * 1024
BATCH_SECONDS = 1.0


class StorageSink:
    """Stores captures as they arrive, a batch per transaction, counting outcomes.

    A transaction per capture cost an fsync each (WAL, ``synchronous=FULL``): most of a
    no-change run of thousands of targets. ``close()`` stores what is left.
    """

    def __init__(self, db: Database, run_id: int, now: Callable[[], datetime], progress: Progress = NO_PROGRESS) -> None:
        self.db = db
        self.progress = progress
        self.run_id = run_id
        self.now = now
        self.successes = 0
        self.failures = 0
        self.first_error: str | None = None
        self.failure: StorageFailure | DatabaseCorrupt | None = None
        self.search_failures = 0
        self.pending: list[tuple[datetime, Capture]] = []
        self.pending_bytes = 0
        self.pending_since = 0.0

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
        self.progress.advance()
        if not self.pending:
            self.pending_since = time.monotonic()
        self.pending.append((self.now(), capture))
        self.pending_bytes += len(capture.body or b"")
        if len(self.pending) >= BATCH_CAPTURES or self.pending_bytes >= BATCH_BYTES or time.monotonic() - self.pending_since >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Store the captures waiting, in one transaction."""
        batch, self.pending, self.pending_bytes = self.pending, [], 0
        if not batch or self.failure is not None:
            return
        try:
            with self.db.write() as session:
                repo.record_fetches(session, self.run_id, [_fetch(when, capture) for when, capture in batch])
        except (StorageFailure, DatabaseCorrupt) as exc:
            self.failure = exc  # raised after the crawl; run_once says it in words

    close = flush


def _fetch(when: datetime, capture: Capture) -> tuple[datetime, bytes | None, dict[str, Any]]:
    """A capture as the fetch log stores it: when, the body (None after an error), the columns."""
    return (
        when,
        capture.body if capture.error is None else None,
        {
            "target_url": capture.target_url,
            "role": capture.role,
            "url": capture.url,
            "final_url": capture.final_url,
            "status": capture.status,
            "not_modified": capture.not_modified,
            "error": capture.error,
            "etag": capture.etag,
            "last_modified": capture.last_modified,
            "content_type": capture.content_type,
            "size": len(capture.body) if capture.body is not None else None,
            "elapsed_ms": capture.elapsed_ms,
            "redirects": json.dumps(capture.redirects) if capture.redirects else None,
            "meta": json.dumps(capture.meta) if capture.meta else None,
            "headers": capture.headers,
        },
    )



def crawl(plan: CrawlPlan, config: Config, sink: Callable[[Capture], None], *, verbose: int = 0) -> dict[str, Any]:
    """Run the spider to completion in this process; returns Scrapy's stats.

    SIGTERM or SIGINT stops the crawl within about two seconds, whatever it is waiting for (see
    spiders/stop.py); its ``finish_reason`` is then "shutdown". A second signal stops it at once.
    """
    from spiders.scrapy_internals import check_scrapy

    check_scrapy()

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
        concurrency=f.concurrency,
        concurrency_per_host=f.concurrency_per_host,
        log_level="INFO" if verbose >= 2 else "ERROR",  # Scrapy's own dumps: -vv
    )
    settings["LOG_INSTALL_ROOT_HANDLER"] = False  # the CLI's handler is the only one
    process = CrawlerProcess(settings)
    # Scrapy resets its loggers to DEBUG; cron wants errors only unless asked.
    logging.getLogger("scrapy").setLevel(logging.INFO if verbose >= 2 else logging.ERROR)
    crawler = process.create_crawler(GovukSpider)
    process.crawl(crawler, plan=plan, sink=sink)
    heap.started()  # all the crawl needs is made: freeze it, collect normally from here
    with _stop_on_signals(crawler):
        # Scrapy's own handlers would wait for every request under way (a Retry-After: minutes)
        process.start(install_signal_handlers=False)
    return dict(crawler.stats.get_stats()) if crawler.stats else {}


@contextlib.contextmanager
def _stop_on_signals(crawler: Any) -> Iterator[None]:
    """SIGTERM and SIGINT stop the crawl (the second one at once) while the reactor runs; after
    the crawl the signals get their usual meaning back, so a stop request during processing is
    not swallowed."""
    from twisted.internet import reactor

    from spiders.stop import force_stop, stop_crawl

    received: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        received.append(signum)
        # only flag here: the reactor does the work (a handler must not log or take locks)
        if len(received) == 1:
            reactor.callFromThread(stop_crawl, crawler, signal.Signals(signum).name)
        else:
            reactor.callFromThread(force_stop, crawler)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)

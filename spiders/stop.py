"""Stopping a crawl at once (SIGTERM, Ctrl-C): no new request, nothing left waiting.

Scrapy's own stop is graceful: it waits for every request already under way — those waiting
out a download delay in the downloader's queue, a backoff or a ``Retry-After`` pause in
:class:`~spiders.retry.PoliteRetryMiddleware`, and one the server never answers (up to the
timeout): minutes, with a long ``Retry-After``. :func:`stop_crawl` sends :data:`STOP_REQUESTED`
first: the retry middleware refuses every new request and ends its waits, the downloader fails
its queued requests at once and gives up on transfers still running after
``IN_FLIGHT_GRACE_SECONDS``. Scrapy's graceful stop then has nothing left to wait for, and the
crawl ends with ``finish_reason`` "shutdown". :func:`force_stop` stops the reactor at once (a
second signal, or a stop that is still not done after ``HARD_STOP_SECONDS``).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, cast

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro

from spiders.settings import HARD_STOP_SECONDS

log = logging.getLogger("dfe-monitor.fetch")

STOP_REQUESTED = object()  # a Scrapy signal: sent (no arguments) when the crawl must stop now


class CrawlStopped(IgnoreRequest):
    """A request not sent, or abandoned in flight, because the run is being stopped. Never a
    fetch of its own: nothing is recorded for it."""


def stopped(request: Request) -> CrawlStopped:
    return CrawlStopped(f"not fetched: the run was stopped ({request.url})")


def stop_crawl(crawler: Crawler, why: str = "stop requested") -> None:
    """Stop taking requests, end every wait, close the spider ("shutdown"). From the reactor."""
    from twisted.internet import reactor

    log.info("%s: stopping the crawl", why)
    crawler.signals.send_catch_log(signal=STOP_REQUESTED)
    closing = deferred_from_coro(crawler.stop_async())
    closing.addErrback(lambda failure: log.warning("the crawl did not stop cleanly: %s", failure.getErrorMessage()))
    cast(Any, reactor).callLater(HARD_STOP_SECONDS, force_stop, crawler)  # zope interfaces confuse mypy


def force_stop(crawler: Crawler) -> None:
    """Stop the reactor now; the crawl counts as stopped ("shutdown") even if the spider was not
    closed. From the reactor."""
    from twisted.internet import reactor

    stats = crawler.stats
    if stats is not None and not stats.get_value("finish_reason"):
        stats.set_value("finish_reason", "shutdown")
    with contextlib.suppress(RuntimeError):  # already stopping
        cast(Any, reactor).stop()

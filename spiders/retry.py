"""Retries that are polite to GOV.UK: exponential backoff, ``Retry-After`` honoured for the whole
host, a host that cannot be reached given up on once, and every wait ended when the run stops."""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import deferLater

from spiders.scrapy_internals import hold_host_queue, is_size_cancel
from spiders.settings import fetch_policy
from spiders.stop import STOP_REQUESTED, stopped

log = logging.getLogger("dfe-monitor.fetch")


class HostUnreachable(IgnoreRequest):
    """The host could not be resolved or reached on an earlier request of this run."""


# Failures that say something about the whole host, not one URL.
HOST_LEVEL_FAILURES = {
    "CannotResolveHostError": "the name {host} could not be resolved",
    "DNSLookupError": "the name {host} could not be resolved",
    "DownloadConnectionRefusedError": "{host} refused connections",
    "ConnectionRefusedError": "{host} refused connections",
}


class PoliteRetryMiddleware:
    """Retries failed requests with exponential backoff, honouring ``Retry-After``.

    A 429 or 503 with ``Retry-After`` pauses *every* request to that host until the time has
    passed (GOV.UK's rate limit is per client, not per URL). A ``Retry-After`` longer than
    ``max_retry_after`` is not waited for: the response goes to the spider, which records the
    failure, and the run goes on. Other retryable statuses and network errors wait
    ``backoff * 2**n`` seconds before retry ``n + 1``. The retry request itself comes from
    Scrapy's ``get_retry_request`` (its ``dfe/retry/...`` stats); ``dfe_retries`` counts the
    retries, ``dfe_not_before`` holds the retry back, ``dfe_retry_note`` says why it gave up.
    """

    def __init__(self, retries: int, backoff: float, max_retry_after: float, codes: list[int], crawler: Crawler) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.codes = set(codes)
        self.crawler = crawler
        self.host_paused_until: dict[str, float] = {}
        # Hosts whose name did not resolve, or that refused connections, after retries: every
        # later request to them fails at once instead of spending its own retries and delays
        # (with no network a run would otherwise take minutes to say so).
        self.unreachable: dict[str, str] = {}
        self.stopping = False
        self._waits: set[Deferred[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetryMiddleware:
        policy = fetch_policy(crawler.settings)
        middleware = cls(policy.retries, policy.backoff_seconds, policy.max_retry_after_seconds, list(policy.retry_codes), crawler)
        crawler.signals.connect(middleware.on_response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(middleware.stop, signal=STOP_REQUESTED)
        return middleware

    def stop(self) -> None:
        """The run is stopping: refuse every request from now on and end every wait."""
        self.stopping = True
        for wait in list(self._waits):
            wait.cancel()

    async def process_request(self, request: Request) -> None:
        if self.stopping:
            raise stopped(request)
        host = urlsplit(request.url).netloc
        wake = max(self.host_paused_until.get(host, 0.0), request.meta.get("dfe_not_before", 0.0))
        delay = wake - time.monotonic()
        if delay > 0:
            await self._wait(request, delay)
        if host in self.unreachable:
            raise HostUnreachable(f"not tried: {self.unreachable[host]} earlier in this run")
        return None

    async def _wait(self, request: Request, seconds: float) -> None:
        from twisted.internet import reactor

        wait: Deferred[None] = deferLater(reactor, seconds, lambda: None)
        self._waits.add(wait)
        try:
            await maybe_deferred_to_future(wait)
        except CancelledError:
            raise stopped(request) from None
        finally:
            self._waits.discard(wait)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in self.codes or self.stopping:
            return response
        retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
        if retry_after is not None and retry_after > self.max_retry_after:
            request.meta["dfe_retry_note"] = f"Retry-After of {retry_after:.0f} s is longer than fetch.max_retry_after_seconds ({self.max_retry_after:.0f} s)"
            return response
        if retry_after is not None and response.status in (429, 503):
            self._pause_host(request, retry_after)  # done already if the signal came first
        return self._retry(request, f"HTTP {response.status}", f"HTTP {response.status}", retry_after) or response

    def on_response_downloaded(self, response: Response, request: Request, spider: Any = None) -> None:
        """Sent as soon as a response arrives, before the downloader sends the next request of
        its queue for that host (and before ``process_response``): the moment to pause."""
        if response.status not in (429, 503):
            return
        retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
        if retry_after is not None and retry_after <= self.max_retry_after:
            self._pause_host(request, retry_after)

    def _pause_host(self, request: Request, seconds: float) -> None:
        host = urlsplit(request.url).netloc
        until = time.monotonic() + seconds
        if until <= self.host_paused_until.get(host, 0.0) + 0.5:
            return
        self.host_paused_until[host] = until
        # requests already past this middleware wait in the downloader's queue: hold it too
        hold_host_queue(self.crawler, request, seconds)
        log.info("%s asked for a pause of %.0f s (Retry-After): pausing every request to %s", request.url, seconds, host)

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if isinstance(exception, IgnoreRequest) or self.stopping:
            return None
        if is_size_cancel(exception):  # over the size cap: retrying cannot help
            return None
        name = type(exception).__name__
        retry = self._retry(request, name, f"{name}: {exception}", None)
        host_level = HOST_LEVEL_FAILURES.get(name)
        if retry is None and host_level:
            host = urlsplit(request.url).netloc
            self.unreachable.setdefault(host, f"{host_level.format(host=host)} ({exception})")
        return retry

    def _retry(self, request: Request, kind: str, reason: str, retry_after: float | None) -> Request | None:
        """The retry of ``request`` (``kind`` names it in the stats, ``reason`` in the notes), or
        None when its retries are spent."""
        attempt = request.meta.get("dfe_retries", 0)
        request.meta["retry_times"] = attempt  # get_retry_request counts in retry_times
        retry = get_retry_request(
            request,
            spider=cast(Any, self.crawler.spider),
            reason=kind,
            max_retry_times=self.retries,
            priority_adjust=0,  # a retry keeps its place; its wait is the backoff
            logger=log,
            give_up_log_level=logging.INFO,  # the give-up is in the fetch log; stderr stays quiet
            stats_base_key="dfe/retry",
        )
        if retry is None:
            request.meta["dfe_retry_note"] = f"gave up after {attempt} retries ({reason})"
            return None
        wait = retry_after if retry_after is not None else self.backoff * (2**attempt)
        retry.meta["dfe_retries"] = attempt + 1
        retry.meta["dfe_not_before"] = time.monotonic() + wait
        retry.meta["dfe_retry_reasons"] = [*request.meta.get("dfe_retry_reasons", []), reason]
        log.info("retrying %s in %.1f s (%s), attempt %d of %d", request.url, wait, reason, attempt + 1, self.retries)
        return retry


def parse_retry_after(value: Any) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

"""Downloader middlewares: the host allow-list (and redirect loops), retries that are polite to
GOV.UK, and robots.txt without tracebacks."""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from monitor.govuk.urls import host_allowed

log = logging.getLogger(__name__)


class OffListHost(IgnoreRequest):
    """A request (often a redirect) to a host outside fetch.allowed_hosts."""


class HostUnreachable(IgnoreRequest):
    """The host could not be resolved or reached on an earlier request of this run."""


# Failures that say something about the whole host, not one URL.
HOST_LEVEL_FAILURES = {
    "CannotResolveHostError": "the name {host} could not be resolved",
    "DNSLookupError": "the name {host} could not be resolved",
    "DownloadConnectionRefusedError": "{host} refused connections",
    "ConnectionRefusedError": "{host} refused connections",
}


class RedirectLoop(IgnoreRequest):
    """A redirect back to an address already visited on the way."""


class HostGuardMiddleware:
    """Refuses every request to a host outside ``allowed_hosts`` — redirects included — and
    every redirect back to an address already visited (a loop), before it is sent."""

    def __init__(self, allowed_hosts: list[str]) -> None:
        self.allowed_hosts = allowed_hosts

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostGuardMiddleware:
        hosts = crawler.settings.getlist("DFE_ALLOWED_HOSTS")
        if not hosts:
            raise NotConfigured("no allowed hosts")
        return cls(hosts)

    def process_request(self, request: Request) -> None:
        via = [str(u) for u in request.meta.get("redirect_urls", [])]
        if not host_allowed(request.url, self.allowed_hosts):
            where = f" (redirected from {via[-1]})" if via else ""
            raise OffListHost(f"refused {request.url}{where}: host {urlsplit(request.url).netloc!r} is not in fetch.allowed_hosts")
        if request.url in via:
            raise RedirectLoop(f"redirect loop; not followed: {' -> '.join([*via, request.url])}")


class _QuietRobotsErrors(logging.Filter):
    """Scrapy logs a failed robots.txt download as an ERROR with a traceback; cron mails every
    line on stderr. The failure is not ours to report (Scrapy then allows everything, and each
    request's own failure is in the fetch log): one INFO line, shown with --verbose."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.getMessage().startswith("Error downloading"):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = None
            record.exc_text = None
            record.msg, record.args = "robots.txt could not be fetched (%s); treating every path as allowed", (record.getMessage()[:300],)
        return True


class QuietRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, without a traceback on stderr when robots.txt fails, and
    obeyed by *every* request that waits for the same robots.txt.

    Scrapy 2.19 lets each request that arrives while robots.txt is being fetched await the one
    shared Deferred; the first waiter's await consumes its result, so every later waiter got
    None — "no robots.txt" — and was let through (measured: a disallowed path was fetched as
    the third request of a run). Here each waiter gets its own Deferred, relayed from the shared
    one without consuming it.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        robots_log = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
        if not any(isinstance(f, _QuietRobotsErrors) for f in robots_log.filters):
            robots_log.addFilter(_QuietRobotsErrors())

    async def robot_parser(self, request: Request) -> Any:
        shared = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(shared, Deferred):
            return await super().robot_parser(request)
        mine: Deferred[Any] = Deferred()

        def relay(result: Any) -> Any:
            mine.callback(result)
            return result  # passed on untouched for the next waiter

        shared.addBoth(relay)
        return await maybe_deferred_to_future(mine)


class PoliteRetryMiddleware:
    """Retries failed requests with exponential backoff, honouring ``Retry-After``.

    A 429 or 503 with ``Retry-After`` pauses *every* request to that host until the time has
    passed (GOV.UK's rate limit is per client, not per URL). A ``Retry-After`` longer than
    ``max_retry_after`` is not waited for: the response goes to the spider, which records the
    failure, and the run goes on. Other retryable statuses and network errors wait
    ``backoff * 2**n`` seconds before retry ``n + 1``.
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

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetryMiddleware:
        s = crawler.settings
        middleware = cls(
            s.getint("DFE_RETRIES", 3),
            s.getfloat("DFE_BACKOFF_SECONDS", 2.0),
            s.getfloat("DFE_MAX_RETRY_AFTER", 600.0),
            [int(c) for c in s.getlist("DFE_RETRY_HTTP_CODES")],
            crawler,
        )
        crawler.signals.connect(middleware.on_response_downloaded, signal=signals.response_downloaded)
        return middleware

    async def process_request(self, request: Request) -> None:
        host = urlsplit(request.url).netloc
        wake = max(self.host_paused_until.get(host, 0.0), request.meta.get("dfe_not_before", 0.0))
        delay = wake - time.monotonic()
        if delay > 0:
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        if host in self.unreachable:
            raise HostUnreachable(f"not tried: {self.unreachable[host]} earlier in this run")
        return None

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in self.codes:
            return response
        retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
        if retry_after is not None and retry_after > self.max_retry_after:
            request.meta["dfe_retry_note"] = f"Retry-After of {retry_after:.0f} s is longer than fetch.max_retry_after_seconds ({self.max_retry_after:.0f} s)"
            return response
        if retry_after is not None and response.status in (429, 503):
            self._pause_host(request, retry_after)  # done already if the signal came first
        return self._retry(request, f"HTTP {response.status}", retry_after) or response

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
        self._hold_queue(request, seconds)
        log.info("%s asked for a pause of %.0f s (Retry-After): pausing every request to %s", request.url, seconds, host)

    def _hold_queue(self, request: Request, seconds: float) -> None:
        """Hold the downloader's queue for this host too: requests already past this middleware
        wait there for their turn, and would otherwise go out during the pause. Uses the slot's
        ``latercall``, Scrapy's own mechanism for download delays (checked with Scrapy 2.19)."""
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None)
        try:
            slot = downloader.slots.get(downloader.get_slot_key(request))  # type: ignore[union-attr]
            if slot is None:
                return
            from scrapy.utils.asyncio import call_later

            if slot.latercall is not None:
                slot.latercall.cancel()
            slot.latercall = call_later(seconds, downloader._latercall, slot)  # type: ignore[union-attr]
        except AttributeError:  # another Scrapy: queued requests are then not held back
            log.warning("cannot hold this Scrapy's download queue during a Retry-After pause")

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if isinstance(exception, IgnoreRequest):
            return None
        name = type(exception).__name__
        if "Cancelled" in name:  # over the size cap: retrying cannot help
            return None
        retry = self._retry(request, f"{name}: {exception}", None)
        host_level = HOST_LEVEL_FAILURES.get(name)
        if retry is None and host_level:
            host = urlsplit(request.url).netloc
            self.unreachable.setdefault(host, f"{host_level.format(host=host)} ({exception})")
        return retry

    def _retry(self, request: Request, reason: str, retry_after: float | None) -> Request | None:
        attempt = request.meta.get("dfe_retries", 0)
        stats = self.crawler.stats
        if attempt >= self.retries:
            if stats:
                stats.inc_value("dfe/retry/gave_up")
            request.meta["dfe_retry_note"] = f"gave up after {attempt} retries ({reason})"
            return None
        wait = retry_after if retry_after is not None else self.backoff * (2**attempt)
        retry = request.replace(dont_filter=True)
        retry.meta["dfe_retries"] = attempt + 1
        retry.meta["dfe_not_before"] = time.monotonic() + wait
        retry.meta["dfe_retry_reasons"] = [*request.meta.get("dfe_retry_reasons", []), reason]
        if stats:
            stats.inc_value("dfe/retry/count")
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

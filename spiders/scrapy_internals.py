"""Every use of a private Scrapy internal, and every match on the text of a Scrapy message, in
one module.

dfe-monitor needs a few things Scrapy does not offer publicly: one request at a time per host
at delay 0, a ``Retry-After`` pause that holds requests already queued, robots.txt obeyed by
every request waiting for it, stopping at once on SIGTERM, and plain words for Scrapy's size-cap
and redirect-limit refusals. Each function below names the Scrapy release it was checked with
and what breaks without it. Scrapy is pinned to that minor release (pyproject.toml), and
:func:`check_scrapy` runs when a crawl starts: if an internal is gone or has changed shape, the
run stops with one line saying which, instead of quietly losing the behaviour.
"""

from __future__ import annotations

import inspect
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DownloadCancelledError
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from monitor.errors import ScrapyMismatch
from spiders.imports import import_with_cheap_stack

TESTED_SCRAPY = "2.19"  # the minor release every function here was checked with

# -- the downloader's slots ---------------------------------------------------------------------


class SlotHookDownloader(Downloader):
    """Scrapy's downloader, handing every slot to :meth:`prepare_slot` before use.

    Checked with Scrapy 2.19: ``Downloader._get_slot(request, spider=None)`` creates or returns
    the slot of a request's host, and ``_enqueue_request`` calls it for every request before
    queueing it. Without this hook the slot queues cannot be replaced, and
    ``CONCURRENT_REQUESTS_PER_DOMAIN = 1`` is not kept at ``DOWNLOAD_DELAY = 0`` (see
    :func:`count_dequeued_as_transferring`).
    """

    def _get_slot(self, request: Request, *args: Any, **kwargs: Any) -> tuple[str, Slot]:
        key, slot = super()._get_slot(request, *args, **kwargs)
        self.prepare_slot(slot)
        return key, slot

    def prepare_slot(self, slot: Slot) -> None:
        """Called with every slot handed out (the same slot many times)."""


class _SlotQueue(deque):  # type: ignore[type-arg,unused-ignore]
    """A slot's queue of ``(request, deferred)`` that counts a request as transferring as soon as
    it leaves the queue, and keeps the deferred of each transfer until the transfer ends, so that
    it can be failed before then (:func:`abandon_transfers`)."""

    def __init__(self, slot: Slot, items: Any = ()) -> None:
        super().__init__(items)
        self.slot = slot
        self.in_transfer: dict[Request, Deferred[Any]] = {}

    def popleft(self) -> Any:
        request, awaited = super().popleft()
        self.slot.transferring.add(request)
        self.in_transfer[request] = awaited
        outcome: Deferred[Any] = Deferred()  # fired by the downloader when the transfer ends

        def forward(result: Any) -> None:
            self.in_transfer.pop(request, None)
            if awaited.called:  # abandoned: the late outcome goes nowhere
                return
            if isinstance(result, Failure):
                awaited.errback(result)
            else:
                awaited.callback(result)

        outcome.addBoth(forward)
        return request, outcome


def count_dequeued_as_transferring(slot: Slot) -> None:
    """Count a request as transferring from the moment it leaves its slot's queue.

    Checked with Scrapy 2.19: ``Downloader._process_queue`` takes requests with
    ``slot.queue.popleft()`` while ``slot.free_transfer_slots() > 0``, but a request is added to
    ``slot.transferring`` only when its download task starts. With ``DOWNLOAD_DELAY = 0`` the
    loop therefore empties the whole queue at once (measured: three requests to one host in
    flight together), breaking one request at a time per host and letting queued requests slip
    out during a ``Retry-After`` pause. ``_download`` adding the request again is harmless; it
    removes it when the transfer ends.
    """
    if not isinstance(slot.queue, _SlotQueue):
        slot.queue = _SlotQueue(slot, slot.queue)


def abandon_queued_requests(downloader: Downloader, error_for: Callable[[Request], Exception]) -> int:
    """Fail every request waiting in a slot queue (download delay, held host) with
    ``error_for(request)``, at once; returns how many.

    Checked with Scrapy 2.19: each ``slot.queue`` entry is ``(request, deferred)``, the deferred
    awaited by ``Downloader._enqueue_request``; ``slot.latercall`` is the timer that releases
    the queue after the delay. Scrapy's graceful stop waits until every queued request has
    been downloaded, one per delay (with ``delay_seconds = 5``: 15 s after SIGTERM).
    """
    count = 0
    for slot in list(downloader.slots.values()):
        if slot.latercall is not None:
            slot.latercall.cancel()
            slot.latercall = None
        waiting = list(slot.queue)
        slot.queue.clear()
        for request, deferred in waiting:
            if not deferred.called:
                deferred.errback(Failure(error_for(request)))
                count += 1
    return count


def abandon_transfers(downloader: Downloader, error_for: Callable[[Request], Exception]) -> int:
    """Give up on every download in flight: its request fails with ``error_for(request)`` now,
    and the answer, if one ever comes, is dropped; returns how many.

    Checked with Scrapy 2.19: ``Downloader._process_queue`` hands the deferred it takes from the
    queue to ``_wait_for_download``, which fires it when the transfer ends; the deferred awaited
    by ``_enqueue_request`` is the one queued. :func:`count_dequeued_as_transferring` hands out
    a relay instead, so the awaited one can be failed first. Without it a stop waits for a
    stalled server up to ``timeout_seconds``.
    """
    count = 0
    for slot in list(downloader.slots.values()):
        queue = slot.queue
        if not isinstance(queue, _SlotQueue):
            continue
        for request, awaited in list(queue.in_transfer.items()):
            queue.in_transfer.pop(request, None)
            if not awaited.called:
                awaited.errback(Failure(error_for(request)))
                count += 1
    return count


def hold_host_queue(crawler: Crawler, request: Request, seconds: float) -> None:
    """Hold the downloader's queue for ``request``'s host for ``seconds``.

    Checked with Scrapy 2.19: ``slot.latercall`` set means "do not process this queue", and
    ``Downloader._latercall(slot)`` clears it and processes the queue — Scrapy's own mechanism
    for download delays. Without it requests already queued for the host go out during a
    ``Retry-After`` pause.
    """
    from scrapy.utils.asyncio import call_later

    try:
        downloader = crawler.engine.downloader
    except (AttributeError, RuntimeError):  # the crawl has not started: nothing is queued
        return
    slot = downloader.slots.get(downloader.get_slot_key(request))
    if slot is None:  # nothing queued for that host yet
        return
    if slot.latercall is not None:
        slot.latercall.cancel()
    slot.latercall = call_later(seconds, downloader._latercall, slot)


# -- robots.txt ---------------------------------------------------------------------------------


def pending_robots_parser(middleware: RobotsTxtMiddleware, request: Request) -> Deferred[Any] | None:
    """The Deferred every request to ``request``'s host waits on while its robots.txt is being
    fetched, or None once it is known (or not yet asked for).

    Checked with Scrapy 2.19: ``RobotsTxtMiddleware._parsers`` maps a netloc to that shared
    Deferred while robots.txt is fetched, then to the parser (or None); ``robot_parser(request)``
    is the coroutine each request awaits. Each ``await`` on the shared Deferred consumes its
    result, so without a relay every waiter after the first got None ("no robots.txt") and was
    let through.
    """
    shared = middleware._parsers.get(urlparse_cached(request).netloc)
    return shared if isinstance(shared, Deferred) else None


# -- Scrapy's message texts ---------------------------------------------------------------------

_ROBOTS_DOWNLOAD_ERROR = "Error downloading"
_ROBOTS_REFUSAL = "Forbidden by robots.txt"
_REDIRECT_LIMIT = "max redirections reached"
_SIZE_REFUSAL = re.compile(r"(Expected to receive|Received) (\d+) bytes which is larger than download max size \((\d+)\)")
_DECOMPRESSED_REFUSAL = re.compile(r"\((\d+) B compressed, (\d+) B decompressed so far\) exceeded DOWNLOAD_MAXSIZE \((\d+) B\)")


def is_robots_download_error(message: str) -> bool:
    """Whether a log message is the robots.txt middleware's ERROR for a failed robots.txt.

    Checked with Scrapy 2.19: ``RobotsTxtMiddleware.robot_parser`` logs
    ``"Error downloading %(request)s: %(f_exception)s"`` with a traceback. Without the match the
    traceback reaches stderr (cron mails it) although the failure is not ours to report.
    """
    return message.startswith(_ROBOTS_DOWNLOAD_ERROR)


def is_robots_refusal(text: str) -> bool:
    """Whether an IgnoreRequest's text is the robots.txt refusal.

    Checked with Scrapy 2.19: ``IgnoreRequest("Forbidden by robots.txt")`` from
    ``RobotsTxtMiddleware.process_request_2``. Without it the fetch log says Scrapy's words.
    """
    return _ROBOTS_REFUSAL.lower() in text.lower()


def is_redirect_limit(text: str) -> bool:
    """Whether an IgnoreRequest's text is the redirect limit.

    Checked with Scrapy 2.19: ``IgnoreRequest("max redirections reached")`` from
    ``RedirectMiddleware`` after ``REDIRECT_MAX_TIMES`` hops. Without it the fetch log does not
    show the chain of hops.
    """
    return _REDIRECT_LIMIT in text.lower()


@dataclass(frozen=True)
class SizeRefusal:
    """What Scrapy said when it refused a body over ``DOWNLOAD_MAXSIZE``."""

    cap: int
    size: int | None = None  # bytes announced (Content-Length) or received so far
    announced: bool = False  # the size is the Content-Length, refused before reading
    compressed: int | None = None  # refused while decompressing: bytes on the wire


def is_size_cancel(exc: BaseException) -> bool:
    """Whether a download failure is Scrapy cancelling a body over ``DOWNLOAD_MAXSIZE``
    (retrying cannot help).

    Checked with Scrapy 2.19: the HTTP/1.1 handler raises ``DownloadCancelledError`` with
    ``get_maxsize_msg(...)`` (or no text when no length was announced); Twisted's
    ``CancelledError`` is wrapped into the same class. Without it an oversized file is asked for
    again on every retry.
    """
    return isinstance(exc, DownloadCancelledError)


def describe_size_refusal(text: str) -> SizeRefusal | None:
    """Scrapy's size-cap refusal read from its message, or None.

    Checked with Scrapy 2.19: ``scrapy.utils._download_handlers.get_maxsize_msg`` ("Expected to
    receive N bytes which is larger than download max size (CAP) ..." / "Received N bytes ...")
    and ``HttpCompressionMiddleware`` ("... (C B compressed, D B decompressed so far) exceeded
    DOWNLOAD_MAXSIZE (CAP B) during decompression"). Without it the fetch log says "refused: "
    and Scrapy's words instead of the URL, the size and fetch.max_bytes.
    """
    match = _SIZE_REFUSAL.search(text)
    if match is not None:
        how, size, cap = match.groups()
        return SizeRefusal(cap=int(cap), size=int(size), announced=how.startswith("Expected"))
    match = _DECOMPRESSED_REFUSAL.search(text)
    if match is not None:
        compressed, so_far, cap = match.groups()
        return SizeRefusal(cap=int(cap), size=int(so_far), compressed=int(compressed))
    return None


# -- the self-check -----------------------------------------------------------------------------


class DirectStats(MemoryStatsCollector):
    """Scrapy's in-memory stats without the ``__getattribute__`` its StatsCollector now has: that
    shim looks for a cached wrapper on every attribute read (``self._stats`` included), raising
    and catching an AttributeError each time, to warn about a deprecated ``spider`` argument
    that no caller of ours passes. Scrapy reads stats about 27 times a request: 4.5% of the CPU
    of a no-change run whose files all answer 304. The methods are Scrapy's own."""

    __getattribute__ = object.__getattribute__


def _stats_shape() -> bool:
    """The methods Scrapy calls on a stats collector are plain methods of the class."""
    names = ("get_value", "get_stats", "set_value", "set_stats", "inc_value", "max_value", "min_value", "clear_stats", "open_spider", "close_spider")
    return all(callable(getattr(MemoryStatsCollector, name, None)) for name in names) and "_stats" in _names(MemoryStatsCollector.inc_value)


def scrapy_version() -> str:
    import scrapy

    return str(getattr(scrapy, "__version__", "unknown"))


def check_scrapy() -> None:
    """Verify that the installed Scrapy has every internal this module relies on, with the shape
    relied on, and is the tested minor release; raise :class:`ScrapyMismatch` (one line: what
    is missing, the installed and the tested version) otherwise."""
    installed = scrapy_version()
    import_with_cheap_stack("scrapy.core.downloader.handlers.http11")
    for what, ok in _CHECKS:
        try:
            passed = ok()
        except Exception:  # noqa: BLE001 - any failure of a probe means the shape is not there
            passed = False
        if not passed:
            raise ScrapyMismatch(f"Scrapy {installed} lacks {what}, which dfe-monitor relies on (tested with Scrapy {TESTED_SCRAPY}); install scrapy=={TESTED_SCRAPY}.* or report it")
    if ".".join(installed.split(".")[:2]) != TESTED_SCRAPY:
        raise ScrapyMismatch(f"Scrapy {installed} is installed but dfe-monitor is tested with Scrapy {TESTED_SCRAPY}; install scrapy=={TESTED_SCRAPY}.* or report it")


def _params(func: Any) -> list[str]:
    return list(inspect.signature(func).parameters)


def _names(func: Any) -> set[str]:
    """Names a function's code uses (attributes, globals, methods called)."""
    code = inspect.unwrap(func).__code__
    return set(code.co_names)


def _source_has(obj: Any, *texts: str) -> bool:
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):  # installed without sources: the texts cannot be checked
        return True
    return all(text in source for text in texts)


def _slot_shape() -> bool:
    slot = Slot(1, 0.0, 0.0)
    if not (isinstance(slot.queue, deque) and isinstance(slot.transferring, set) and slot.latercall is None):
        return False
    probe = Request("http://localhost/")
    slot.transferring.add(probe)
    return slot.free_transfer_slots() == 0


def _maxsize_message() -> bool:
    from scrapy.utils._download_handlers import get_maxsize_msg

    probe = Request("http://localhost/")
    announced = describe_size_refusal(get_maxsize_msg(7, 5, probe, expected=True))
    received = describe_size_refusal(get_maxsize_msg(8, 5, probe, expected=False))
    return announced == SizeRefusal(cap=5, size=7, announced=True) and received == SizeRefusal(cap=5, size=8)


def _decompression_message() -> bool:
    from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware

    return _source_has(HttpCompressionMiddleware.process_response, "B compressed, ", "B decompressed so far) exceeded ", "DOWNLOAD_MAXSIZE (")


def _size_cancel() -> bool:
    from scrapy.core.downloader.handlers import http11

    return _source_has(http11, "raise DownloadCancelledError(warning_msg)", "get_maxsize_msg(")


def _redirect_message() -> bool:
    from scrapy.downloadermiddlewares.redirect import BaseRedirectMiddleware

    return _source_has(BaseRedirectMiddleware, f'IgnoreRequest("{_REDIRECT_LIMIT}")')


def _call_later_api() -> bool:
    from scrapy.utils.asyncio import call_later

    return _params(call_later)[:2] == ["delay", "func"]


def _retry_api() -> bool:
    from scrapy.downloadermiddlewares.retry import get_retry_request

    wanted = {"request", "spider", "reason", "max_retry_times", "priority_adjust", "logger", "give_up_log_level", "stats_base_key"}
    return wanted <= set(_params(get_retry_request))


_CHECKS: list[tuple[str, Callable[[], bool]]] = [
    ("Downloader._get_slot(request, spider)", lambda: _params(Downloader._get_slot)[:2] == ["self", "request"]),
    ("Downloader.slots and Downloader.get_slot_key(request)", lambda: "slots" in _names(Downloader.__init__) and _params(Downloader.get_slot_key) == ["self", "request"]),
    ("Downloader._process_queue(slot) taking requests with slot.queue.popleft()", lambda: _params(Downloader._process_queue) == ["self", "slot"] and {"popleft", "queue", "free_transfer_slots", "latercall"} <= _names(Downloader._process_queue)),
    ("Downloader._latercall(slot)", lambda: _params(Downloader._latercall) == ["self", "slot"] and "latercall" in _names(Downloader._latercall)),
    ("Downloader._wait_for_download(slot, request, queue_dfd) firing the deferred taken from the queue", lambda: _params(Downloader._wait_for_download) == ["self", "slot", "request", "queue_dfd"] and "_wait_for_download" in _names(Downloader._process_queue)),
    ("Downloader._download counting slot.transferring", lambda: {"transferring"} <= _names(Downloader._download)),
    ("Downloader._enqueue_request queueing (request, deferred) in slot.queue", lambda: {"_get_slot", "queue", "append"} <= _names(Downloader._enqueue_request)),
    ("Slot.queue, Slot.transferring and Slot.latercall", _slot_shape),
    ("RobotsTxtMiddleware.robot_parser(request) as a coroutine", lambda: inspect.iscoroutinefunction(RobotsTxtMiddleware.robot_parser) and _params(RobotsTxtMiddleware.robot_parser) == ["self", "request"]),
    ("RobotsTxtMiddleware._parsers", lambda: "_parsers" in _names(RobotsTxtMiddleware.__init__) and "_parsers" in _names(RobotsTxtMiddleware.robot_parser)),
    (f'the "{_ROBOTS_DOWNLOAD_ERROR}" log message of RobotsTxtMiddleware', lambda: _source_has(RobotsTxtMiddleware.robot_parser, f'"{_ROBOTS_DOWNLOAD_ERROR} %(request)s')),
    (f'the "{_ROBOTS_REFUSAL}" refusal of RobotsTxtMiddleware', lambda: _source_has(RobotsTxtMiddleware.process_request_2, f'IgnoreRequest("{_ROBOTS_REFUSAL}")')),
    (f'the "{_REDIRECT_LIMIT}" refusal of RedirectMiddleware', _redirect_message),
    ("the DOWNLOAD_MAXSIZE message of get_maxsize_msg()", _maxsize_message),
    ("the DOWNLOAD_MAXSIZE message of HttpCompressionMiddleware", _decompression_message),
    ("DownloadCancelledError for bodies over DOWNLOAD_MAXSIZE", _size_cancel),
    ("scrapy.utils.asyncio.call_later(delay, func, *args)", _call_later_api),
    ("get_retry_request(request, *, spider, reason, max_retry_times, priority_adjust, logger, give_up_log_level, stats_base_key)", _retry_api),
    ("Crawler.stop_async()", lambda: inspect.iscoroutinefunction(Crawler.stop_async)),
    ("the stats collector's methods (MemoryStatsCollector)", _stats_shape),
]

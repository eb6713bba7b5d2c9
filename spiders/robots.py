"""robots.txt, obeyed by every request that waits for it, and without tracebacks on stderr."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from spiders.scrapy_internals import is_robots_download_error, pending_robots_parser


class _QuietRobotsErrors(logging.Filter):
    """Scrapy logs a failed robots.txt download as an ERROR with a traceback; cron mails every
    line on stderr. The failure is not ours to report (Scrapy then allows everything, and each
    request's own failure is in the fetch log): one INFO line, shown with --verbose."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and is_robots_download_error(record.getMessage()):
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
        shared = pending_robots_parser(self, request)
        if shared is None:
            return await super().robot_parser(request)
        mine: Deferred[Any] = Deferred()

        def relay(result: Any) -> Any:
            mine.callback(result)
            return result  # passed on untouched for the next waiter

        shared.addBoth(relay)
        return await maybe_deferred_to_future(mine)

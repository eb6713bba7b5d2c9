"""spiders/retry.py: retries built by Scrapy's get_retry_request, with our backoff, Retry-After
pauses and notes; and every wait ended when the run stops."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from spiders.retry import PoliteRetryMiddleware, parse_retry_after
from spiders.settings import (
    DEFAULT_BACKOFF_SECONDS,
    DEFAULT_MAX_RETRY_AFTER_SECONDS,
    DEFAULT_RETRIES,
    RETRY_HTTP_CODES,
    build_settings,
    fetch_policy,
)
from spiders.stop import STOP_REQUESTED, CrawlStopped

URL = "https://www.gov.uk/api/content/government/publications/x"


@pytest.fixture
def crawler():
    crawler = get_crawler(Spider, {"DFE_RETRIES": 2, "DFE_BACKOFF_SECONDS": 0.5, "DFE_MAX_RETRY_AFTER": 60, "DFE_RETRY_HTTP_CODES": [429, 500, 502, 503]})
    crawler.spider = Spider.from_crawler(crawler, name="test")
    return crawler


@pytest.fixture
def mw(crawler):
    return PoliteRetryMiddleware.from_crawler(crawler)


def answer(request: Request, status: int, **headers: str) -> Response:
    return Response(request.url, status=status, headers=headers, request=request)


def test_settings_are_read_through_the_fetch_policy(mw):
    assert (mw.retries, mw.backoff, mw.max_retry_after, mw.codes) == (2, 0.5, 60.0, {429, 500, 502, 503})
    defaults = fetch_policy(None)
    assert (defaults.retries, defaults.backoff_seconds, defaults.max_retry_after_seconds) == (DEFAULT_RETRIES, DEFAULT_BACKOFF_SECONDS, DEFAULT_MAX_RETRY_AFTER_SECONDS)
    assert defaults.retry_codes == RETRY_HTTP_CODES
    built = build_settings(user_agent="ua", delay_seconds=0, timeout_seconds=5, max_bytes=1, obey_robots_txt=True, verify_tls=True, allowed_hosts=("www.gov.uk",))
    assert (built["DFE_RETRIES"], built["DFE_BACKOFF_SECONDS"], built["DFE_MAX_RETRY_AFTER"]) == (DEFAULT_RETRIES, DEFAULT_BACKOFF_SECONDS, DEFAULT_MAX_RETRY_AFTER_SECONDS)


def test_retries_back_off_exponentially_and_keep_scrapys_stats(mw, crawler):
    request = Request(URL, priority=3)
    first = mw.process_response(request, answer(request, 502))
    assert isinstance(first, Request) and first is not request
    assert first.dont_filter and first.priority == 3
    assert (first.meta["dfe_retries"], first.meta["retry_times"]) == (1, 1)
    assert 0.4 < first.meta["dfe_not_before"] - time.monotonic() <= 0.5
    second = mw.process_exception(first, DownloadTimeoutError("Getting x took longer than 5.0 seconds."))
    assert isinstance(second, Request) and second.meta["dfe_retries"] == 2
    assert 0.9 < second.meta["dfe_not_before"] - time.monotonic() <= 1.0
    assert second.meta["dfe_retry_reasons"] == ["HTTP 502", "DownloadTimeoutError: Getting x took longer than 5.0 seconds."]
    assert mw.process_exception(second, DownloadTimeoutError("again")) is None
    assert second.meta["dfe_retry_note"] == "gave up after 2 retries (DownloadTimeoutError: again)"
    stats = crawler.stats.get_stats()
    assert stats["dfe/retry/count"] == 2
    assert stats["dfe/retry/reason_count/HTTP 502"] == 1
    assert stats["dfe/retry/reason_count/DownloadTimeoutError"] == 1
    assert stats["dfe/retry/max_reached"] == 1


def test_a_retry_after_is_the_wait_and_pauses_the_host(mw):
    request = Request(URL)
    retry = mw.process_response(request, answer(request, 503, **{"Retry-After": "7"}))
    assert 6 < retry.meta["dfe_not_before"] - time.monotonic() <= 7
    assert 6 < mw.host_paused_until["www.gov.uk"] - time.monotonic() <= 7


def test_what_is_not_retried(mw):
    request = Request(URL)
    ok = answer(request, 200)
    assert mw.process_response(request, ok) is ok
    assert mw.process_exception(request, IgnoreRequest("Forbidden by robots.txt")) is None
    assert mw.process_exception(request, DownloadCancelledError("Expected to receive 5 bytes which is larger than download max size (1)")) is None
    too_long = answer(request, 429, **{"Retry-After": "3600"})
    assert mw.process_response(request, too_long) is too_long
    assert request.meta["dfe_retry_note"] == "Retry-After of 3600 s is longer than fetch.max_retry_after_seconds (60 s)"


def test_an_unresolvable_host_is_given_up_on_after_its_retries(mw):
    request = Request(URL)
    for _ in range(2):
        request = mw.process_exception(request, CannotResolveHostError("DNS lookup failed"))
    assert mw.process_exception(request, CannotResolveHostError("DNS lookup failed")) is None
    assert mw.unreachable == {"www.gov.uk": "the name www.gov.uk could not be resolved (DNS lookup failed)"}


def test_retry_after_values():
    assert parse_retry_after(b"120") == 120.0
    assert parse_retry_after(" 5 ") == 5.0
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 85 < parse_retry_after(soon.encode()) <= 90
    assert parse_retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after(b"-1") is None
    assert parse_retry_after(b"") is None


# -- stopping ------------------------------------------------------------------------------------


def test_a_stop_ends_a_backoff_wait_and_refuses_later_requests(mw, crawler):
    async def scenario():
        waiting = asyncio.ensure_future(mw.process_request(Request(URL, meta={"dfe_not_before": time.monotonic() + 300})))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        started = time.monotonic()
        crawler.signals.send_catch_log(signal=STOP_REQUESTED)
        with pytest.raises(CrawlStopped, match="not fetched: the run was stopped"):
            await waiting
        assert time.monotonic() - started < 0.5
        with pytest.raises(CrawlStopped):
            await mw.process_request(Request(URL))

    asyncio.run(scenario())
    request = Request(URL)
    assert mw.process_exception(request, DownloadTimeoutError("x")) is None  # no retries while stopping
    busy = answer(request, 503)
    assert mw.process_response(request, busy) is busy

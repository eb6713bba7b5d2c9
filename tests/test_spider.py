"""Spider callbacks and middlewares, driven directly with built responses (no crawl)."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import Settings

from spiders.answers import describe_failure
from spiders.hostguard import HostGuardMiddleware, OffListHost
from spiders.items import Capture, CrawlPlan, DiscoverPlan, TargetPlan
from spiders.retry import PoliteRetryMiddleware, parse_retry_after
from spiders.spider import GovukSpider

BASE = "https://www.gov.uk"
PAGE = f"{BASE}/government/publications/dfe-external-data-shares"
API = f"{BASE}/api/content/government/publications/dfe-external-data-shares"
ODS = "https://assets.publishing.service.gov.uk/media/abc/shares.ods"
TARGET = TargetPlan(target_url=PAGE, fetch_url=PAGE, api_url=API, known_attachments=(ODS,))


def spider(**plan_kw) -> GovukSpider:
    plan = CrawlPlan(base_url=BASE, allowed_hosts=("www.gov.uk", "assets.publishing.service.gov.uk"), targets=[TARGET], **plan_kw)
    return GovukSpider(plan=plan, sink=lambda capture: None)


def response(url, body=b"", status=200, cls=TextResponse, meta=None, headers=None):
    request = Request(url, meta={"dfe_target": TARGET, "dfe_role": "api", **(meta or {})})
    return cls(url=url, body=body, status=status, request=request, headers=headers or {"Content-Type": "application/json"})


ITEM = {
    "base_path": "/government/publications/dfe-external-data-shares",
    "title": "DfE external data shares",
    "schema_name": "html_publication",
    "details": {
        "attachments": [
            {"attachment_type": "file", "url": ODS, "title": "Shares"},
            {"attachment_type": "file", "url": "https://evil.example/x.ods", "title": "Off-list"},
            {"attachment_type": "html", "url": "/government/publications/x/y", "title": "HTML"},
        ]
    },
    "links": {"parent": [{"base_path": "/government/publications/parent"}]},
}


def test_api_answer_is_captured_and_its_files_and_parent_requested():
    out = list(spider().on_api(response(API, json.dumps(ITEM).encode(), headers={"Content-Type": "application/json", "ETag": '"v1"'})))
    capture = out[0]
    assert isinstance(capture, Capture)
    assert (capture.role, capture.status, capture.etag, capture.target_url) == ("api", 200, '"v1"', PAGE)
    assert capture.body is not None and json.loads(capture.body)["title"] == "DfE external data shares"
    requests = [(r.url, r.meta["dfe_role"]) for r in out[1:]]
    assert requests == [(ODS, "attachment"), (f"{BASE}/api/content/government/publications/parent", "parent")]
    # only an html_publication keeps its change notes on its parent: a guide's links.parent is a
    # browse topic, never fetched
    guide = {**ITEM, "schema_name": "detailed_guide"}
    out = list(spider().on_api(response(API, json.dumps(guide).encode())))
    assert [r.meta["dfe_role"] for r in out[1:]] == ["attachment"]


def test_no_api_item_falls_back_to_the_page():
    out = list(spider().on_api(response(API, b'{"error": "not found"}', status=404)))
    assert out[0].error == "HTTP 404"
    assert [(r.url, r.meta["dfe_role"]) for r in out[1:]] == [(PAGE, "page")]


def test_not_modified_still_checks_known_files():
    out = list(spider().on_api(response(API, status=304)))
    assert out[0].not_modified and out[0].body is None and out[0].error is None
    assert [r.url for r in out[1:]] == [ODS]


def test_invalid_json_is_retried_then_recorded_as_an_error():
    s = spider()
    [retry] = list(s.on_api(response(API, b'{"title": "trunc')))
    assert isinstance(retry, Request) and retry.meta["dfe_body_retries"] == 1
    out = list(s.on_api(response(API, b'{"title": "trunc', meta={"dfe_body_retries": 2})))
    assert isinstance(out[0], Capture) and out[0].body is None and "not valid JSON" in out[0].error
    assert len(out) == 1


def test_conditional_headers_come_from_stored_validators():
    s = spider(validators={API: ('"v1"', "Wed, 01 Jan 2025 09:00:00 GMT")})
    request = s._request(API, s.on_api, "api", TARGET)
    assert request.headers[b"If-None-Match"] == b'"v1"'
    assert request.headers[b"If-Modified-Since"] == b"Wed, 01 Jan 2025 09:00:00 GMT"
    assert request.dont_filter and 304 in request.meta["handle_httpstatus_list"]


def test_html_page_files_are_found_in_the_content():
    html = b"""<html><body><main id="content"><h1>Register</h1>
    <section class="gem-c-attachment"><h3 class="gem-c-attachment__title"><a href="/media/abc/shares.ods">Shares</a></h3></section>
    </main><footer><a href="/media/zzz/footer.pdf">not an attachment</a></footer></body></html>"""
    page = response(PAGE, html, cls=HtmlResponse, meta={"dfe_role": "page"}, headers={"Content-Type": "text/html"})
    out = list(spider().on_page(page))
    assert [r.url for r in out[1:]] == [f"{BASE}/media/abc/shares.ods", ODS]
    assert out[2].meta["dfe_role"] == "former"  # listed last time, not now: asked once more


def test_search_results_become_new_targets_and_paging_stops_when_nothing_is_new():
    entry = DiscoverPlan(key="k", query="school census", organisation="department-for-education", document_type=None, max_results=100, page_size=2)
    s = spider(discover=[entry], known_urls=frozenset({PAGE}))
    page = {"results": [{"link": "/government/publications/dfe-external-data-shares"}, {"link": "/government/publications/school-census-2027-to-2028-guide"}], "total": 5}
    out = list(s.on_search(response(f"{BASE}/api/search.json", json.dumps(page).encode(), meta={"dfe_discover": entry, "dfe_start": 0, "dfe_role": "search"})))
    assert out[0].meta == {"discover_key": "k", "start": 0}
    assert out[1].url == f"{BASE}/api/content/government/publications/school-census-2027-to-2028-guide"
    assert out[1].meta["dfe_target"].target_url == f"{BASE}/government/publications/school-census-2027-to-2028-guide"
    assert "start=2" in out[2].url and "count=2" in out[2].url and "fields=link" in out[2].url
    same_again = list(s.on_search(response(f"{BASE}/api/search.json", json.dumps(page).encode(), meta={"dfe_discover": entry, "dfe_start": 2, "dfe_role": "search"})))
    assert len(same_again) == 1  # nothing new on the page: no further pages


def test_search_links_that_are_not_paths_are_ignored():
    entry = DiscoverPlan(key="k", query="q", organisation=None, document_type=None, max_results=10)
    page = {"results": [{"link": "https://evil.example/x"}, {"link": "//evil.example/y"}, {"link": None}], "total": 3}
    out = list(spider(discover=[entry]).on_search(response(f"{BASE}/api/search.json", json.dumps(page).encode(), meta={"dfe_discover": entry, "dfe_start": 0})))
    assert len(out) == 1


class FakeFailure:
    def __init__(self, exc, request):
        self.value = exc
        self.request = request


def test_failures_are_described_in_one_line():
    request = Request(API, meta={"download_timeout": 30.0, "redirect_urls": [f"{BASE}/a"] * 6})
    from scrapy.exceptions import DownloadTimeoutError

    assert describe_failure(FakeFailure(DownloadTimeoutError("x"), request), request) == "no answer within 30 s (timed out)"
    assert describe_failure(FakeFailure(IgnoreRequest("max redirections reached"), request), request).startswith("too many redirects (more than 5); not followed: https://www.gov.uk/a -> ")
    assert describe_failure(FakeFailure(IgnoreRequest("Forbidden by robots.txt"), request), request) == "forbidden by robots.txt"


def test_host_guard_refuses_off_list_hosts_and_redirects_to_them():
    guard = HostGuardMiddleware(["www.gov.uk"])
    assert guard.process_request(Request(PAGE)) is None
    try:
        guard.process_request(Request("https://evil.example/x", meta={"redirect_urls": [PAGE]}))
    except OffListHost as exc:
        assert "evil.example" in str(exc) and f"redirected from {PAGE}" in str(exc)
    else:
        raise AssertionError("off-list host was not refused")


class FakeStats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key):
        self.values[key] = self.values.get(key, 0) + 1


class FakeCrawler:
    """What the retry middleware (and Scrapy's get_retry_request) reads from a crawler."""

    stats = FakeStats()
    settings = Settings()

    @property
    def spider(self):
        return SimpleNamespace(crawler=self)


def test_retry_after_pauses_the_host_and_caps_long_waits():
    mw = PoliteRetryMiddleware(retries=2, backoff=0.5, max_retry_after=60, codes=[429, 502, 503], crawler=FakeCrawler())
    request = Request(API)
    retry = mw.process_response(request, Response(API, status=429, headers={"Retry-After": "7"}, request=request))
    assert isinstance(retry, Request) and retry.meta["dfe_retries"] == 1
    assert 5 < retry.meta["dfe_not_before"] - time.monotonic() <= 7
    assert 5 < mw.host_paused_until["www.gov.uk"] - time.monotonic() <= 7
    too_long = mw.process_response(request, Response(API, status=429, headers={"Retry-After": "3600"}, request=request))
    assert isinstance(too_long, Response) and "longer than" in request.meta["dfe_retry_note"]
    backoff = mw.process_response(request, Response(API, status=502, request=request))
    assert 0 < backoff.meta["dfe_not_before"] - time.monotonic() <= 0.5
    exhausted = Request(API, meta={"dfe_retries": 2})
    final = mw.process_response(exhausted, Response(API, status=503, request=exhausted))
    assert isinstance(final, Response) and exhausted.meta["dfe_retry_note"] == "gave up after 2 retries (HTTP 503)"


def test_retry_after_dates():
    assert parse_retry_after(b"120") == 120.0
    assert parse_retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after(b"soon") is None
    assert parse_retry_after(None) is None


def test_an_unreachable_host_fails_later_requests_at_once():
    import asyncio

    from scrapy.exceptions import CannotResolveHostError

    from spiders.retry import HostUnreachable

    mw = PoliteRetryMiddleware(retries=1, backoff=0.0, max_retry_after=60, codes=[503], crawler=FakeCrawler())
    first = Request(API)
    retry = mw.process_exception(first, CannotResolveHostError("DNS lookup failed: www.gov.uk"))
    assert isinstance(retry, Request) and not mw.unreachable  # one failure may be a blip: retried
    assert mw.process_exception(retry, CannotResolveHostError("DNS lookup failed: www.gov.uk")) is None
    assert mw.unreachable["www.gov.uk"].startswith("the name www.gov.uk could not be resolved")
    try:
        asyncio.run(mw.process_request(Request(PAGE)))
    except HostUnreachable as exc:
        assert "not tried: the name www.gov.uk could not be resolved" in str(exc)
    else:
        raise AssertionError("a request to an unreachable host was sent")
    assert asyncio.run(mw.process_request(Request(ODS))) is None  # other hosts are unaffected


def test_result_paths():
    from monitor.govuk.urls import result_path

    assert result_path("/government/publications/x/", BASE) == "/government/publications/x"
    assert result_path("https://www.gov.uk/guidance/y?utm=1#top", BASE) == "/guidance/y"
    for bad in ("https://evil.example/x", "//evil.example/y", "javascript:alert(1)", "/", None, 7):
        assert result_path(bad, BASE) is None

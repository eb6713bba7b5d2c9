"""Fuzzing the spider's callbacks with hostile answers, built as Scrapy responses (as
tests/test_spider.py does), for every role and many statuses.

A callback never raises (Scrapy would print a traceback and drop the target); the first thing it
hands over for an answer is its capture (or the same request again, for a body that cannot be
right); and every further request stays on the allowed hosts, within the URL length Scrapy
sends, and within the caps on files and new search results.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from support.fuzz import ALLOWED, BASE, BODIES, FUZZ, PAGES, PATH, SEARCH_BODIES

from monitor.govuk.urls import MAX_URL_LENGTH, host_allowed
from spiders.items import Capture, CrawlPlan, DiscoverPlan, TargetPlan
from spiders.spider import GovukSpider

API = f"{BASE}/api/content{PATH}"
TARGET = TargetPlan(target_url=f"{BASE}{PATH}", fetch_url=f"{BASE}{PATH}", api_url=API, known_attachments=("https://assets.publishing.service.gov.uk/media/a/old.csv",))
ENTRY = DiscoverPlan(key="k", query="pupil data", organisation=None, document_type=None, max_results=7, page_size=3, max_new=2)
STATUSES = st.sampled_from([200, 200, 200, 304, 404, 410, 500, 503])
CONTENT_TYPES = st.sampled_from(["application/json", "text/html; charset=utf-8", "text/csv", "application/octet-stream", ""])


def spider() -> GovukSpider:
    plan = CrawlPlan(base_url=BASE, allowed_hosts=ALLOWED, targets=[TARGET], discover=[ENTRY], max_tags=2000, max_attachments=3)
    return GovukSpider(plan=plan, sink=lambda capture: None)


def response(url: str, body: bytes, status: int, content_type: str, meta: dict[str, Any]) -> Response:
    request = Request(url, meta={"dfe_target": TARGET, **meta})
    kind = HtmlResponse if "html" in content_type else TextResponse if content_type else Response
    headers = {"Content-Type": content_type} if content_type else {}
    return kind(url=url, body=body, status=status, request=request, headers=headers)


def check(outputs: list[Any], *, new_results: int | None = None) -> None:
    assert outputs, "an answer must at least be captured"
    assert isinstance(outputs[0], Capture | Request)
    requests = [out for out in outputs[1:] if isinstance(out, Request)]
    assert all(isinstance(out, Capture | Request) for out in outputs)
    for request in requests:
        assert host_allowed(request.url, ALLOWED) and len(request.url) <= MAX_URL_LENGTH, request.url
    files = [r for r in requests if r.meta.get("dfe_role") == "attachment"]
    assert len(files) <= 3
    if new_results is not None:
        assert len([r for r in requests if r.meta.get("dfe_role") == "api"]) <= new_results


@FUZZ
@given(body=BODIES, status=STATUSES, content_type=CONTENT_TYPES, retries=st.integers(0, 2))
def test_on_api_never_raises_and_asks_only_for_allowed_files(body: bytes, status: int, content_type: str, retries: int) -> None:
    check(list(spider().on_api(response(API, body, status, content_type, {"dfe_role": "api", "dfe_body_retries": retries}))))


@FUZZ
@given(body=PAGES, status=STATUSES, content_type=CONTENT_TYPES, retries=st.integers(0, 2))
def test_on_page_never_raises_and_asks_only_for_allowed_files(body: bytes, status: int, content_type: str, retries: int) -> None:
    check(list(spider().on_page(response(f"{BASE}{PATH}", body, status, content_type, {"dfe_role": "page", "dfe_body_retries": retries}))))


@FUZZ
@given(body=SEARCH_BODIES, status=STATUSES, start=st.integers(0, 8))
def test_on_search_never_raises_and_fetches_at_most_the_new_result_cap(body: bytes, status: int, start: int) -> None:
    outputs = list(spider().on_search(response(f"{BASE}/api/search.json", body, status, "application/json", {"dfe_role": "search", "dfe_discover": ENTRY, "dfe_start": start})))
    check(outputs, new_results=2)
    assert isinstance(outputs[0], Capture) and outputs[0].meta.get("discover_key") == "k"


@FUZZ
@given(body=st.one_of(BODIES, PAGES), status=STATUSES, content_type=CONTENT_TYPES, role=st.sampled_from(["parent", "attachment", "former"]))
def test_on_parent_and_on_file_never_raise(body: bytes, status: int, content_type: str, role: str) -> None:
    s = spider()
    callback = s.on_parent if role == "parent" else s.on_file
    outputs = list(callback(response("https://assets.publishing.service.gov.uk/media/a/x.csv", body, status, content_type, {"dfe_role": role})))
    assert len(outputs) == 1 and isinstance(outputs[0], Capture | Request)

"""The one spider: fetches each target (Content API first), its files, and discovery searches.

It only fetches. Every response — success, 304, error status or network failure — becomes a
:class:`Capture` that the runner stores; what the bytes *mean* is decided later, from storage.
The only reading it does is finding what else to fetch: attachment URLs, an HTML publication's
parent, the next page of search results.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from monitor.errors import ExtractionError
from monitor.govuk.items import attachments_from_item, load_item, parent_path
from monitor.govuk.markup import Element, parse_html
from monitor.govuk.pages import page_attachments
from monitor.govuk.search import (
    SEARCH_FIELDS,
    any_unknown,
    new_results,
    read_search_page,
    tracked_urls,
)
from monitor.govuk.shape import markup_tags
from monitor.govuk.urls import canonical_url, fetchable_url
from spiders.answers import body_problem, describe_failure, is_json
from spiders.items import Capture, CrawlPlan, DiscoverPlan, TargetPlan
from spiders.settings import HANDLED_STATUSES, fetch_policy
from spiders.stop import CrawlStopped

BODY_RETRIES = 2  # a 200 whose body cannot be what it claims (truncated, an error page) is asked again


class GovukSpider(scrapy.Spider):
    name = "govuk"

    def __init__(self, plan: CrawlPlan, sink: Callable[[Capture], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.sink = sink
        self.known_urls: set[str] = set(plan.known_urls)
        self.seen_by_entry: dict[str, set[str]] = {}  # each search's own results so far
        self.new_found: dict[str, int] = {}  # new search results fetched, per discover entry
        self.base = plan.base_url.rstrip("/")
        self._parsed: tuple[bytes, Element] | None = None  # the last body parsed, and its tree

    async def start(self) -> AsyncIterator[Request]:
        for target in self.plan.targets:
            if target.api_url:
                yield self._request(target.api_url, self.on_api, "api", target)
            else:
                yield self._request(target.fetch_url, self.on_page, "page", target)
        for entry in self.plan.discover:
            yield self._search_request(entry, 0)

    # -- requests ---------------------------------------------------------------------------
    def _request(self, url: str, callback: Callable[..., Any], role: str, target: TargetPlan | None, **meta: Any) -> Request:
        url = canonical_url(url)  # as Scrapy will spell it: the key its answer is stored under
        headers = {}
        etag, last_modified = self.plan.validators.get(url, (None, None))
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            headers=headers,
            dont_filter=True,  # we never ask twice on purpose; redirects must not be swallowed
            meta={"handle_httpstatus_list": HANDLED_STATUSES, "dfe_role": role, "dfe_target": target, **meta},
        )

    def _search_request(self, entry: DiscoverPlan, start: int) -> Request:
        params: list[tuple[str, str]] = [("q", entry.query)]
        if entry.organisation:
            params.append(("filter_organisations", entry.organisation))
        if entry.document_type:
            params.append(("filter_content_store_document_type", entry.document_type))
        count = min(entry.page_size, entry.max_results)
        params += [("order", "-public_timestamp"), ("count", str(count)), ("start", str(start))]
        params += [("fields", name) for name in SEARCH_FIELDS]
        url = f"{self.base}/api/search.json?{urlencode(params)}"
        return self._request(url, self.on_search, "search", None, dfe_discover=entry, dfe_start=start)

    def _files(self, urls: list[str], target: TargetPlan) -> Iterator[Request]:
        """Each file once, at its canonical address (the spelling its answer is stored under,
        which the document stage looks for), if it may be fetched at all."""
        fetchable = (fetchable_url(url, self.plan.allowed_hosts) for url in urls)
        for url in dict.fromkeys(u for u in fetchable if u is not None):
            yield self._request(url, self.on_file, "attachment", target)

    def _former_files(self, current: list[str], target: TargetPlan) -> Iterator[Request]:
        """Files the last version listed and this one does not: asked once more, because a
        replaced file's old address redirects to its replacement (that pairs them)."""
        listed = {fetchable_url(url, self.plan.allowed_hosts) for url in current}
        for url in dict.fromkeys(fetchable_url(u, self.plan.allowed_hosts) for u in target.known_attachments):
            if url is not None and url not in listed:
                yield self._request(url, self.on_file, "former", target)

    # -- callbacks --------------------------------------------------------------------------
    # Each one reads its answer through a guard: whatever an answer holds, no exception leaves a
    # callback (Scrapy would print it as a traceback on stderr and drop the target silently).
    def on_api(self, response: Response) -> Iterator[Any]:
        return self._guarded(response, self._on_api)

    def on_parent(self, response: Response) -> Iterator[Any]:
        return self._guarded(response, self._on_parent)

    def on_page(self, response: Response) -> Iterator[Any]:
        return self._guarded(response, self._on_page)

    def on_file(self, response: Response) -> Iterator[Any]:
        return self._guarded(response, self._on_file)

    def on_search(self, response: Response) -> Iterator[Any]:
        return self._guarded(response, self._on_search)

    def _guarded(self, response: Response, read: Callable[[Response], Iterator[Any]]) -> Iterator[Any]:
        """What ``read`` yields; if it fails, one log line, and a failed capture of the answer
        when none was handed over yet, so the target fails with a reason instead of vanishing."""
        answered = False
        try:
            for out in read(response):
                answered = True
                yield out
        except CrawlStopped:
            raise
        except Exception as exc:  # noqa: BLE001 - the net under every reading of an answer
            why = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            self.logger.warning("could not read the answer from %s (%s)", response.url[:200], why)
            if not answered:
                entry = response.meta.get("dfe_discover")
                meta = {"discover_key": entry.key, "start": response.meta.get("dfe_start", 0)} if entry is not None else {}
                yield self._capture(response, f"the answer could not be read ({why})", **meta)

    def _on_api(self, response: Response) -> Iterator[Any]:
        target: TargetPlan = response.meta["dfe_target"]
        capture = self._capture_or_retry(response)
        yield capture
        if isinstance(capture, Request):
            return
        if response.status == 404:  # no API item: the rendered page is all there is
            yield self._request(target.fetch_url, self.on_page, "page", target)
        elif response.status == 304:
            yield from self._files(list(target.known_attachments), target)
            if target.known_parent_api_url:
                yield self._request(target.known_parent_api_url, self.on_parent, "parent", target)
        elif response.status == 200 and capture.error is None:
            try:
                item = load_item(response.body)
            except ExtractionError:
                return  # not an item to read (gone, a redirect, a bad shape): the document stage says why
            if self._over(self.plan.max_tags, markup_tags(item)):
                return  # too large to read: the document stage fails it, nothing more to fetch
            listed = attachments_from_item(item, self.base)
            if self._over(self.plan.max_attachments, len(listed)):
                return
            files = [a.url for a in listed if a.attachment_type == "file"]
            yield from self._files(files, target)
            yield from self._former_files(files, target)
            parent = parent_path(item)
            if parent:
                yield self._request(f"{self.base}/api/content{parent}", self.on_parent, "parent", target)

    def _on_parent(self, response: Response) -> Iterator[Any]:
        yield self._capture_or_retry(response)

    def _on_page(self, response: Response) -> Iterator[Any]:
        target: TargetPlan = response.meta["dfe_target"]
        capture = self._capture_or_retry(response)
        yield capture
        if isinstance(capture, Request):
            return
        if response.status == 304:
            yield from self._files(list(target.known_attachments), target)
        elif response.status == 200 and capture.error is None:
            if self._over(self.plan.max_tags, response.body.count(b"<")):
                return  # too large to read: the document stage fails it, nothing more to fetch
            listed = page_attachments(self._tree(response.body), response.url, target.selector)
            self._parsed = None  # the tree is done with: not kept while other answers arrive
            if self._over(self.plan.max_attachments, len(listed)):
                return
            files = [a.url for a in listed if a.attachment_type == "file"]
            yield from self._files(files, target)
            yield from self._former_files(files, target)

    def _on_file(self, response: Response) -> Iterator[Any]:
        yield self._capture_or_retry(response)

    def _capture_or_retry(self, response: Response) -> Capture | Request:
        """The capture of a response — or, when its body cannot be right (an error page, cut
        off, garbled) and retries are left, the same request once more."""
        problem = self._problem(response)
        if problem is not None:
            retry = self._body_retry(response)
            if retry is not None:
                return retry
        return self._capture(response, problem)

    def _on_search(self, response: Response) -> Iterator[Any]:
        entry: DiscoverPlan = response.meta["dfe_discover"]
        start: int = response.meta["dfe_start"]
        capture = self._capture(response, discover_key=entry.key, start=start)
        page = read_search_page(response.body, self.base, limit=entry.max_results - start) if response.status == 200 else None
        if response.status == 200 and not is_json(response.body):
            capture.error = capture.error or "the Search API answer is not valid JSON"
        elif response.status == 200 and page is None:
            capture.error = capture.error or "the Search API answer is not a page of search results (not an object with a list of results, nested too deeply, or not text)"
        yield capture
        if response.status != 200 or capture.error or page is None:
            return
        # Each new page is fetched once, whichever search found it first, and each search fetches
        # at most its cap of new pages in a run; each search pages on while its own results hold
        # pages not tracked before this run and its cap is not reached.
        taken = self.new_found.get(entry.key, 0)
        cap = entry.max_new if entry.max_new is not None else entry.max_results
        fresh = new_results(page.results, self.base, set(self.known_urls))[: max(cap - taken, 0)]
        self.known_urls.update(tracked_urls(result.url(self.base) for result in fresh))
        self.new_found[entry.key] = taken + len(fresh)
        for result in fresh:
            url = result.url(self.base)
            plan = TargetPlan(target_url=url, fetch_url=url, api_url=f"{self.base}/api/content{result.path}")
            yield self._request(plan.api_url or url, self.on_api, "api", plan)
        next_start = start + page.listed
        seen = self.seen_by_entry.setdefault(entry.key, set(self.plan.known_urls))
        unknown = any_unknown(page.results, self.base, seen)
        seen.update(tracked_urls(result.url(self.base) for result in page.results))
        if unknown and page.listed and next_start < min(page.total, entry.max_results) and taken + len(fresh) < cap:
            yield self._search_request(entry, next_start)

    def on_error(self, failure: Failure) -> Iterator[Capture]:
        if isinstance(failure.value, CrawlStopped):  # never sent, or abandoned: the run is stopping
            return
        request: Request = failure.request  # type: ignore[attr-defined]
        target: TargetPlan | None = request.meta.get("dfe_target")
        redirects = [str(u) for u in request.meta.get("redirect_urls", [])]
        first_url = redirects[0] if redirects else request.url
        meta: dict[str, Any] = {}
        if request.meta.get("dfe_discover") is not None:
            meta["discover_key"] = request.meta["dfe_discover"].key
        yield Capture(
            target_url=target.target_url if target else None,
            role=request.meta.get("dfe_role", "page"),
            url=first_url,
            final_url=request.url,
            error=describe_failure(failure, request, self.settings.getint("DOWNLOAD_MAXSIZE") if hasattr(self, "crawler") else None),
            redirects=redirects,
            meta=meta,
        )

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _over(cap: int | None, count: int) -> bool:
        return cap is not None and count > cap

    def _problem(self, response: Response) -> str | None:
        if response.status != 200:
            return None
        return body_problem(response.meta.get("dfe_role", "page"), response.body, _header(response.headers, b"Content-Type"), parse=self._tree)

    def _tree(self, body: bytes) -> Element:
        """``body`` parsed, once: judging a page and listing its files read the same tree (only
        read it: never change it). Kept for the last body only."""
        if self._parsed is None or self._parsed[0] is not body:
            self._parsed = (body, parse_html(body))
        return self._parsed[1]

    def _body_retry(self, response: Response) -> Request | None:
        """Ask once more (with the usual backoff) for an answer whose body cannot be right."""
        attempt = response.meta.get("dfe_body_retries", 0)
        if attempt >= BODY_RETRIES:
            return None
        request = response.request
        assert request is not None
        retry = request.replace(dont_filter=True)
        retry.meta["dfe_body_retries"] = attempt + 1
        backoff = fetch_policy(self.settings if hasattr(self, "crawler") else None).backoff_seconds
        retry.meta["dfe_not_before"] = time.monotonic() + backoff * (2**attempt)
        return retry

    def _capture(self, response: Response, problem: str | None = None, **meta: Any) -> Capture:
        request = response.request
        assert request is not None
        target: TargetPlan | None = response.meta.get("dfe_target")
        redirects = [str(u) for u in response.meta.get("redirect_urls", [])]
        status = response.status
        error = None
        body: bytes | None = response.body
        if status == 304:
            body = None
        elif status != 200:
            body = None
            error = f"HTTP {status}"
            note = response.meta.get("dfe_retry_note")
            if note:
                error += f"; {note}"
        elif problem is not None:
            attempts = response.meta.get("dfe_body_retries", 0) + 1
            error = f"{problem} ({attempts} attempts)"
            body = None
        headers = response.headers
        return Capture(
            target_url=target.target_url if target else None,
            role=response.meta.get("dfe_role", "page"),
            url=redirects[0] if redirects else response.url,
            final_url=response.url,
            status=status,
            body=body,
            not_modified=status == 304,
            error=error,
            etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"),
            content_type=_header(headers, b"Content-Type"),
            elapsed_ms=int(response.meta.get("download_latency", 0) * 1000),
            redirects=redirects,
            meta=meta,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, values in headers.items() for v in values],
        )


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1").strip() if value else None

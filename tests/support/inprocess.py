"""Whole runs in the test process: the real spider callbacks, storage, processing and feed, with
the network part done synchronously against the fixture server.

Twisted's reactor cannot be restarted, so a real Scrapy crawl can happen only once per process;
the state machines (health, lifecycle, discovery) need many runs per test. ``SyncCrawl`` stands
in for the Scrapy engine: it takes the requests the spider yields, fetches them from 127.0.0.1
with ``http.client`` (following redirects within the allowed hosts, retrying the statuses the
real run retries, each once per ``fetch.retries``), hands the responses to the same callbacks,
and passes every capture to the same sink. Manners (delays, robots.txt, Retry-After waits) are
the Scrapy middlewares' job and are tested with real crawls elsewhere.

``run_cli(config, "run")`` runs ``dfe-monitor`` in-process and returns what a child process
would have: exit code, stdout and stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from twisted.python.failure import Failure

from monitor.config import Config
from monitor.govuk.urls import host_allowed
from spiders.items import Capture, CrawlPlan
from spiders.settings import MAX_REDIRECTS, RETRY_HTTP_CODES
from spiders.spider import GovukSpider


@dataclass
class Completed:
    """What ``subprocess.run`` would have returned for the same command."""

    returncode: int
    stdout: str
    stderr: str


class SyncCrawl:
    """One crawl of a plan, synchronously; returns Scrapy-like stats."""

    def __init__(self, config: Config) -> None:
        self.retries = config.fetch.retries
        self.timeout = config.fetch.timeout_seconds
        self.allowed = tuple(config.fetch.allowed_hosts)
        self.requested: list[str] = []  # every URL asked for, in order

    def __call__(self, plan: CrawlPlan, config: Config, sink: Callable[[Capture], None], *, verbose: bool = False) -> dict[str, Any]:
        spider = GovukSpider(plan=plan, sink=sink)
        stats = {"downloader/request_count": 0, "downloader/response_status_count/304": 0, "downloader/response_bytes": 0}
        queue: list[Request] = asyncio.run(_collect(spider.start()))
        while queue:
            request = queue.pop(0)
            for out in self._handle(spider, request, stats):
                if isinstance(out, Capture):
                    sink(out)
                elif isinstance(out, Request):
                    queue.append(out)
        stats["finish_reason"] = "finished"
        return stats

    def _handle(self, spider: GovukSpider, request: Request, stats: dict[str, Any]) -> Iterator[Any]:
        try:
            response = self._download(request, stats)
        except (IgnoreRequest, OSError, http.client.HTTPException) as exc:
            failure = Failure(exc)
            failure.request = request  # type: ignore[attr-defined]
            yield from request.errback(failure) or ()
            return
        yield from request.callback(response) or ()

    def _download(self, request: Request, stats: dict[str, Any]) -> Response:
        url, hops, attempt = request.url, [], 0
        while True:
            if not host_allowed(url, self.allowed):
                where = f" (redirected from {hops[-1]})" if hops else ""
                raise IgnoreRequest(f"refused {url}{where}: host {urlsplit(url).netloc!r} is not in fetch.allowed_hosts")
            status, headers, body = self._get(url, request, stats)
            if status in (301, 302, 303, 307, 308) and "location" in headers:
                if len(hops) >= MAX_REDIRECTS:
                    raise IgnoreRequest("max redirections reached")
                hops.append(url)
                url = urljoin(url, headers["location"])
                continue
            if status in RETRY_HTTP_CODES and attempt < self.retries:
                attempt += 1
                continue
            break
        meta = dict(request.meta)
        if hops:
            meta["redirect_urls"] = hops
        if status in RETRY_HTTP_CODES and attempt:
            meta["dfe_retry_note"] = f"gave up after {attempt} retries (HTTP {status})"
        final = request.replace(url=url, meta=meta) if url != request.url else request.replace(meta=meta)
        kind = HtmlResponse if "html" in headers.get("content-type", "") else TextResponse if _is_text(headers) else Response
        # Scrapy's HTTP handler answers under the address without its fragment (never sent)
        return kind(url=urldefrag(final.url)[0], status=status, headers=headers, body=body, request=final)

    def _get(self, url: str, request: Request, stats: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        self.requested.append(url)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=self.timeout)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = {k.decode(): b",".join(v).decode() for k, v in request.headers.items()}
            connection.request("GET", path or "/", headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            stats["downloader/request_count"] += 1
            stats["downloader/response_bytes"] += len(body)
            if answer.status == 304:
                stats["downloader/response_status_count/304"] += 1
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body
        finally:
            connection.close()


def _is_text(headers: dict[str, str]) -> bool:
    kind = headers.get("content-type", "")
    return kind.startswith("text/") or "json" in kind


async def _collect(agen: Any) -> list[Request]:
    return [request async for request in agen]


@contextlib.contextmanager
def in_process_crawls(monkeypatch: Any, config: Config | None = None) -> Iterator[list[SyncCrawl]]:
    """Every run in this block crawls with a ``SyncCrawl``; yields the list of crawls made."""
    import monitor.record.run as run_module

    made: list[SyncCrawl] = []

    def crawl(plan: CrawlPlan, cfg: Config, sink: Callable[[Capture], None], *, verbose: bool = False) -> dict[str, Any]:
        crawler = SyncCrawl(cfg)
        made.append(crawler)
        return crawler(plan, cfg, sink, verbose=verbose)

    monkeypatch.setattr(run_module, "crawl", crawl)
    yield made


def run_cli(*args: str) -> Completed:
    """``dfe-monitor ARGS`` in this process: exit code and everything it printed."""
    from monitor.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Completed(code, out.getvalue(), err.getvalue())

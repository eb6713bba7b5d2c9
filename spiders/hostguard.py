"""The host allow-list: no request leaves for a host outside ``fetch.allowed_hosts`` (redirects
included), and no redirect walks back to an address already visited."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from monitor.govuk.urls import host_allowed


class OffListHost(IgnoreRequest):
    """A request (often a redirect) to a host outside fetch.allowed_hosts."""


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

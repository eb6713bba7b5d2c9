"""All Scrapy settings in one place, built from the [fetch] configuration values.

Manners towards GOV.UK: one request at a time per host, ``delay_seconds`` between them and no
random shortening of the delay, an identifying User-Agent, robots.txt obeyed, retries with
backoff that honour ``Retry-After`` (Scrapy's own retry does neither), a size cap far below
Scrapy's 1 GiB default (also applied while decompressing), a redirect limit, and TLS
certificates verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.govuk.urls import MAX_URL_LENGTH

RETRY_HTTP_CODES = (408, 429, 500, 502, 503, 504, 522, 524)
# Statuses the callbacks see themselves (everything except redirects, which Scrapy follows).
HANDLED_STATUSES = (304, 400, 401, 403, 404, 405, 406, 408, 410, 422, 429, 451, 500, 501, 502, 503, 504, 520, 522, 524)
MAX_REDIRECTS = 5
# Scrapy components switched off by the settings below, left out of its base lists altogether.
UNUSED_COMPONENTS = frozenset({
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware",
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware",
    "scrapy.downloadermiddlewares.retry.RetryMiddleware",
    # Middlewares that do nothing for us, each a step for every request (and, for a spider
    # middleware, one more asynchronous generator around every callback's output): no HTTP
    # credentials; no Referer, which GOV.UK neither needs nor should get; no depth limit; the
    # meta-copy check is a debugging aid. With DirectStats, 4.5% of the CPU of a no-change run
    # whose files answer 304.
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware",
    "scrapy.spidermiddlewares.referer.RefererMiddleware",
    "scrapy.spidermiddlewares.depth.DepthMiddleware",
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware",
})

# Fetch defaults, read through these names only (monitor.config gives every run its own values;
# these are what the middlewares and the spider assume when a setting is absent).
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 2.0
DEFAULT_MAX_RETRY_AFTER_SECONDS = 600.0

# How a stopped crawl ends (spiders/stop.py): a transfer under way may still finish (and be
# stored) for IN_FLIGHT_GRACE_SECONDS; after HARD_STOP_SECONDS the reactor is stopped, whatever
# is left. The daemon derives its own grace from these.
IN_FLIGHT_GRACE_SECONDS = 1.0
HARD_STOP_SECONDS = 1.5


@dataclass(frozen=True)
class FetchPolicy:
    """The retry settings of a crawl, as the middlewares and the spider read them."""

    retries: int = DEFAULT_RETRIES
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS
    max_retry_after_seconds: float = DEFAULT_MAX_RETRY_AFTER_SECONDS
    retry_codes: tuple[int, ...] = RETRY_HTTP_CODES


def _without(base: dict[str, int], unused: frozenset[str]) -> dict[str, int]:
    return {name: order for name, order in base.items() if name not in unused}


def fetch_policy(settings: Any = None) -> FetchPolicy:
    """The policy in a crawl's Scrapy settings (made by :func:`build_settings`); the defaults
    for anything missing, or for no settings at all (a spider built without a crawler)."""
    if settings is None:
        return FetchPolicy()
    return FetchPolicy(
        retries=settings.getint("DFE_RETRIES", DEFAULT_RETRIES),
        backoff_seconds=settings.getfloat("DFE_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS),
        max_retry_after_seconds=settings.getfloat("DFE_MAX_RETRY_AFTER", DEFAULT_MAX_RETRY_AFTER_SECONDS),
        retry_codes=tuple(int(c) for c in settings.getlist("DFE_RETRY_HTTP_CODES", list(RETRY_HTTP_CODES))),
    )


def build_settings(
    *,
    user_agent: str,
    delay_seconds: float,
    timeout_seconds: float,
    max_bytes: int,
    obey_robots_txt: bool,
    verify_tls: bool,
    allowed_hosts: tuple[str, ...],
    concurrency: int = 8,
    concurrency_per_host: int = 1,
    retries: int = DEFAULT_RETRIES,
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
    max_retry_after_seconds: float = DEFAULT_MAX_RETRY_AFTER_SECONDS,
    log_level: str = "WARNING",
) -> dict[str, Any]:
    # Here, not at the top: this module's constants are read by processes that never crawl
    # (the daemon), and importing Scrapy costs them 0.25 s and 25 MB.
    from scrapy.settings import default_settings as scrapy_defaults

    return {
        "BOT_NAME": "dfe-monitor",
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": obey_robots_txt,
        "ROBOTSTXT_USER_AGENT": user_agent,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency_per_host,
        # What a callback yields is handled one thing at a time: the sink is synchronous and a
        # request is only queued. Scrapy's default (100) starts 100 asyncio tasks per response,
        # ~2 ms of CPU for each page even when it answers 304.
        "CONCURRENT_ITEMS": 1,
        "DOWNLOAD_DELAY": delay_seconds,
        "DOWNLOADER": "spiders.downloader.OneAtATimeDownloader",  # per-host concurrency kept at delay 0
        "DOWNLOAD_DELAY_JITTER": 0,  # the delay is a floor, never shortened at random
        "DOWNLOAD_TIMEOUT": timeout_seconds,
        # getaddrinfo (IPv4 and IPv6, the system's own resolver configuration) rather than
        # Scrapy's default gethostbyname (IPv4 only); DOWNLOAD_TIMEOUT bounds the lookup too.
        "TWISTED_DNS_RESOLVER": "scrapy.resolver.CachingHostnameResolver",
        "DNS_TIMEOUT": min(timeout_seconds, 30),
        "DOWNLOAD_MAXSIZE": max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "DOWNLOAD_VERIFY_CERTIFICATES": verify_tls,
        "REDIRECT_MAX_TIMES": MAX_REDIRECTS,
        # the longest address asked for: the document stage waits for no file longer than this
        "URLLENGTH_LIMIT": MAX_URL_LENGTH,
        "METAREFRESH_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 starts, by default, an HTTP server that runs Python code sent to it, and
        # writes its port and token to ~/.local/state/scrapy/job_files (left behind when a run is
        # killed). An unattended monitor wants neither.
        "REMOTE_CONTROL_ENABLED": False,
        "RETRY_ENABLED": False,  # replaced by spiders.retry.PoliteRetryMiddleware
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "LOG_ENABLED": True,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "application/json, text/html;q=0.9, */*;q=0.8",
            "Accept-Language": "en",
        },
        # Off above, and not even imported (Scrapy imports every class its settings name, even
        # one set to None): the remote-control extension pulls in aiohttp's web server (~0.2 s of
        # every run's start), the cookies middleware tldextract (~0.06 s).
        "EXTENSIONS_BASE": _without(scrapy_defaults.EXTENSIONS_BASE, UNUSED_COMPONENTS),
        "DOWNLOADER_MIDDLEWARES_BASE": _without(scrapy_defaults.DOWNLOADER_MIDDLEWARES_BASE, UNUSED_COMPONENTS),
        "SPIDER_MIDDLEWARES_BASE": _without(scrapy_defaults.SPIDER_MIDDLEWARES_BASE, UNUSED_COMPONENTS),
        "STATS_CLASS": "spiders.scrapy_internals.DirectStats",
        "DOWNLOADER_MIDDLEWARES": {
            "spiders.hostguard.HostGuardMiddleware": 40,
            "spiders.retry.PoliteRetryMiddleware": 550,
            "spiders.robots.QuietRobotsTxtMiddleware": 100,
        },
        "ITEM_PIPELINES": {"spiders.pipelines.SinkPipeline": 100},
        "DFE_ALLOWED_HOSTS": list(allowed_hosts),
        "DFE_RETRIES": retries,
        "DFE_BACKOFF_SECONDS": backoff_seconds,
        "DFE_MAX_RETRY_AFTER": max_retry_after_seconds,
        "DFE_RETRY_HTTP_CODES": list(RETRY_HTTP_CODES),
    }

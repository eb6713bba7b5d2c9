"""Before a first run creates anything: can any of the hosts to watch be reached at all?

A configuration whose every target is unreachable (no network, a mistyped mirror address) should
fail with one line and leave nothing behind — no database, no lock folder — rather than create
an empty database that ``status`` then describes. Only the TCP connection is tried (no request
is sent, so robots.txt and the rate limits are untouched), to each distinct host and port, in
parallel, within the fetch timeout (at most 10 s). With a proxy configured in the environment
the check is skipped: the proxy, not the host, is what a run connects to.
"""

from __future__ import annotations

import os
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from monitor.config import Config
from monitor.errors import NothingFetched

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
MAX_SECONDS = 10.0


def endpoints(config: Config) -> list[tuple[str, int]]:
    """Every distinct (host, port) a run would connect to first."""
    found: dict[tuple[str, int], None] = {}
    for url in [config.govuk.base_url, *(t.url for t in config.targets)]:
        parts = urlsplit(url)
        if parts.hostname:
            found[(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))] = None
    return list(found)


def _reachable(endpoint: tuple[str, int], timeout: float) -> str | None:
    """None when a connection opens, else why not."""
    try:
        with socket.create_connection(endpoint, timeout=timeout):
            return None
    except OSError as exc:
        return f"{endpoint[0]}:{endpoint[1]}: {exc.strerror or exc}"


def preflight(config: Config) -> None:
    """A first run (no database yet) checks that something can be reached before it creates
    anything (the lock file included). Every run first refuses a lock path it would refuse to
    open (a symbolic link, a FIFO): that is said at once, whatever the network."""
    from monitor.lock import run_lock
    from monitor.record.connect import database_exists

    run_lock(config).check()
    if not database_exists(config):
        check_reachable(config)


def check_reachable(config: Config) -> None:
    """Raise NothingFetched (exit 1) when no host of the configuration accepts a connection."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return
    hosts = endpoints(config)
    if not hosts:
        return
    timeout = min(config.fetch.timeout_seconds, MAX_SECONDS)
    with ThreadPoolExecutor(max_workers=min(16, len(hosts))) as pool:
        problems = list(pool.map(lambda endpoint: _reachable(endpoint, timeout), hosts))
    if all(problems):
        raise NothingFetched(f"nothing could be reached ({problems[0]}); nothing was created: check the network and the addresses in the configuration, then run again")

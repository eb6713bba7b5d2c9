"""URL helpers shared by configuration, spiders and the runner."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def host_allowed(url: str, allowed: Iterable[str]) -> bool:
    """True when ``url`` is http(s) on an allowed host. Entries are ``host`` or ``host:port``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    with_port = f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"
    return any(entry in (host, with_port) for entry in (a.lower() for a in allowed))


def normalise_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


def path_under(url: str, base_url: str) -> str | None:
    """The path of ``url`` when it lives on the site ``base_url`` (same scheme and host)."""
    page, base = urlsplit(url), urlsplit(base_url)
    if (page.scheme, page.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    prefix = base.path.rstrip("/")
    if prefix and not (page.path == prefix or page.path.startswith(prefix + "/")):
        return None
    return page.path[len(prefix) :] or "/"


def api_url_for(url: str, base_url: str) -> str | None:
    """``{base_url}/api/content{path}`` for pages on the site, None for other hosts."""
    path = path_under(url, base_url)
    if path is None or path == "/":
        return None
    return f"{base_url.rstrip('/')}/api/content{path.rstrip('/')}"


def result_path(link: object, base_url: str) -> str | None:
    """The base path a Search API result's ``link`` names on this site, or None.

    The API gives base paths (``/government/...``); an absolute URL on the site is accepted too.
    Anything else — another host, ``//host/x``, ``javascript:``, the home page — is not a page to
    watch.
    """
    if not isinstance(link, str):
        return None
    link = link.strip()
    if link.startswith(("http://", "https://")):
        link = path_under(link, base_url) or ""
    if not link.startswith("/") or link.startswith("//"):
        return None
    path = urlsplit(link).path.rstrip("/")
    return path or None

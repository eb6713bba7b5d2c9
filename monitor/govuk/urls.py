"""URL helpers shared by configuration, spiders and the runner.

A URL from upstream is always parsed, never matched as a string: ``https://www.gov.uk@evil.example/``
starts with ``https://www.gov.uk`` and names the host ``evil.example``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from w3lib.url import safe_url_string

# Longest URL requested (Scrapy's URLLENGTH_LIMIT, the classic browser limit): a longer one is
# never asked for, so nothing may wait for its answer either.
MAX_URL_LENGTH = 2083
# Characters no address we follow may hold: controls and white space (they end up in logs, the
# terminal and the feed's XML), a backslash (browsers read it as "/", so "/\\evil.example" leaves
# the site), and what XML cannot carry.
_BAD_URL_CHARS = re.compile("[\x00-\x20\x7f-\x9f\\\\\ud800-\udfff\ufffe\uffff\u2028\u2029]")


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
    try:
        page, base = urlsplit(url), urlsplit(base_url)
    except ValueError:  # an impossible address ("http://[x/"): on no site at all
        return None
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
    Anything else — another host, ``//host/x``, ``javascript:``, the home page, a link holding a
    control character, white space or a backslash — is not a page to watch.
    """
    if not isinstance(link, str):
        return None
    link = link.strip()
    if has_bad_url_chars(link) or len(link) > MAX_URL_LENGTH:
        return None  # a control character or space would end up in every later request and entry
    if link.startswith(("http://", "https://")):
        link = path_under(link, base_url) or ""
    if not link.startswith("/") or link.startswith("//"):
        return None
    path = urlsplit(link).path.rstrip("/")
    return path or None


def canonical_url(url: str) -> str:
    """The one spelling of a URL that is requested, stored and looked up: Scrapy's own (w3lib's
    ``safe_url_string``: unsafe and non-ASCII characters percent-encoded, the host lower-cased
    and IDNA-encoded, a backslash read as "/"), without the fragment, which is never sent.

    Scrapy re-spells every URL it is given, and stores the answer under the new spelling: a file
    listed as ``my file.csv`` comes back as ``my%20file.csv``. Comparing listed files with
    downloads in this form means a file that was fetched is always found. Raises ValueError for
    what cannot be a URL at all (an impossible port or host name).
    """
    if len(url) > MAX_URL_LENGTH:  # too long to be asked for: not worth keeping spelled
        return _canonical(url)
    return _canonical_kept(url)


def _canonical(url: str) -> str:
    return safe_url_string(url).split("#", 1)[0]


# A run spells the same addresses several times (planning, the spider, each file's answer):
# ~40 µs each. Only URLs short enough to be requested are kept, so memory stays bounded.
_canonical_kept = functools.lru_cache(maxsize=16384)(_canonical)


def fetchable_url(url: str, allowed: Iterable[str]) -> str | None:
    """The canonical form of ``url`` when it may be fetched (http(s), an allowed host, no longer
    than MAX_URL_LENGTH), else None. The spider asks for a file only when this says so, and the
    document stage waits only for files this says were asked for."""
    try:
        canonical = canonical_url(url)
    except (ValueError, UnicodeError):
        return None
    if len(canonical) > MAX_URL_LENGTH or not host_allowed(canonical, allowed):
        return None
    return canonical


def has_bad_url_chars(url: str) -> bool:
    """True when ``url`` holds a control character, white space, a backslash or a lone surrogate."""
    return _BAD_URL_CHARS.search(url) is not None


def site_page_url(destination: object, base_url: str, allowed: Iterable[str]) -> str | None:
    """The page ``destination`` names on the site ``base_url``, or None when it names anything else.

    ``destination`` is a path (``/government/x``) or an absolute URL; either way the result is
    parsed and must have the site's scheme, host and port (no user name, no other host, no
    ``//host`` shorthand) and an allowed host. The query is kept, the fragment dropped.
    """
    if not isinstance(destination, str) or not destination or len(destination) > MAX_URL_LENGTH or has_bad_url_chars(destination):
        return None
    candidate = base_url.rstrip("/") + destination if destination.startswith("/") and not destination.startswith("//") else destination
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    if "@" in parts.netloc or path_under(candidate, base_url) is None or not host_allowed(candidate, allowed):
        return None
    base = urlsplit(base_url)
    query = f"?{parts.query}" if parts.query else ""
    try:
        return canonical_url(f"{base.scheme}://{base.netloc.lower()}{parts.path or '/'}{query}")
    except (ValueError, UnicodeError):
        return None

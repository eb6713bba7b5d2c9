"""Judging what came back: a 200 whose body cannot be what it claims, and a failed request put
in one line of plain words (for the fetch log and the feed)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

from monitor.govuk.markup import Element
from monitor.govuk.pages import looks_like_error_page, parse_html
from spiders.scrapy_internals import (
    describe_size_refusal,
    is_redirect_limit,
    is_robots_refusal,
    is_size_cancel,
)
from spiders.settings import MAX_REDIRECTS

JSON_ROLES = ("api", "parent", "search")
FILE_ROLES = ("attachment", "former")
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html)", re.IGNORECASE)
_HTML_END = re.compile(rb"</(html|body)\s*>", re.IGNORECASE)


def body_problem(role: str, body: bytes, content_type: str | None = None, *, parse: Callable[[bytes], Element] = parse_html) -> str | None:
    """Why a 200 answer cannot be the content it claims to be, or None.

    Checks of the transport only — is the body complete, is it GOV.UK's own error page — never of
    what the content means: a 200 "Sorry, there is a problem with the service" page, an empty
    body or a page cut off mid-way must count as a failed fetch, never as a new version.
    """
    if not body.strip():
        return "the answer is empty (status 200 with no body)"
    html = bool(_HTML_START.match(body[:512])) or "html" in (content_type or "").lower()
    if role in JSON_ROLES:
        if is_json(body):
            return None
        title = _error_page_title(body, parse) if html else None
        api = "Search API" if role == "search" else "Content API"
        if title:
            return f"GOV.UK served an error page ({title!r}) with status 200 instead of the {api} answer"
        return f"the {api} answer is not valid JSON (truncated or garbled)"
    if not html or (role in FILE_ROLES and not _HTML_START.match(body[:512])):
        return None  # a file: its bytes are whatever they are
    title = _error_page_title(body, parse)
    if title:
        return f"GOV.UK served an error page ({title!r}) with status 200, not the content"
    if role == "page":
        if b"\x00" in body:
            return "the page contains NUL bytes (garbled in transit)"
        if not _HTML_END.search(body[-65536:]):
            return "the page is incomplete: it ends before </html> (truncated)"
    return None


def _error_page_title(body: bytes, parse: Callable[[bytes], Element]) -> str | None:
    try:
        return looks_like_error_page(parse(body))
    except Exception:  # noqa: BLE001 - a page too broken to parse is not an error page we know
        return None


def is_json(body: bytes) -> bool:
    """True when the body is whole JSON (a transport check: what it holds is judged later)."""
    try:
        json.loads(body)
    except RecursionError:
        return True  # complete, only nested deeper than any answer may be: the reader says so
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def describe_failure(failure: Failure | Any, request: Request, max_bytes: int | None = None) -> str:
    """One line saying what went wrong with a request, for the fetch log and the feed."""
    exc = failure.value
    name = type(exc).__name__
    timeout = request.meta.get("download_timeout")
    hops = [str(u) for u in request.meta.get("redirect_urls", [])]
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or "request ignored"
        refusal = describe_size_refusal(text)
        if is_robots_refusal(text):
            text = "forbidden by robots.txt"
        elif is_redirect_limit(text):
            text = f"too many redirects (more than {MAX_REDIRECTS}); not followed: {' -> '.join([*hops, request.url])}"
        elif refusal is not None and refusal.compressed is not None:
            text = f"refused: {request.url} decompresses to more than {refusal.cap} bytes ({refusal.compressed} bytes compressed), over the size cap fetch.max_bytes = {refusal.cap}; not read further"
    elif "Timeout" in name:
        text = f"no answer within {timeout:g} s (timed out)" if timeout else "timed out"
    elif name in ("CannotResolveHostError", "DNSLookupError"):
        text = f"cannot resolve the host name ({exc})"
    elif "ConnectionRefused" in name:
        text = "connection refused"
    elif is_size_cancel(exc):
        refusal = describe_size_refusal(str(exc))
        if refusal is not None and refusal.size is not None:
            said = "is" if refusal.announced else "sent more than"
            text = f"refused: {request.url} {said} {refusal.size} bytes, over the size cap fetch.max_bytes = {refusal.cap}; not read further"
        elif max_bytes:
            text = f"refused: {request.url} sent more than {max_bytes} bytes (no length announced), over the size cap fetch.max_bytes = {max_bytes}; not read further"
        else:
            text = f"refused: {exc}"
    elif name in ("ResponseDataLossError", "ResponseFailed", "PotentialDataLoss") or "DataLoss" in name:
        text = "the connection closed before the whole body arrived"
    elif name in ("ResponseNeverReceived", "ConnectionLost", "ConnectionDone"):
        text = f"the connection was lost ({name})"
    else:
        text = f"{name}: {exc}"
    note = request.meta.get("dfe_retry_note")
    return f"{text}; {note}" if note else text

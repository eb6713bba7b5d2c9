"""spiders/answers.py: what a failed request is called in the fetch log, and which 200 answers
cannot be what they claim."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.utils._download_handlers import get_maxsize_msg
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure

from spiders.answers import body_problem, describe_failure, is_json
from spiders.hostguard import RedirectLoop

URL = "https://assets.publishing.service.gov.uk/media/abc/register.ods"


def described(exc: Exception, max_bytes: int | None = None, **meta) -> str:
    request = Request(URL, meta=meta)
    return describe_failure(Failure(exc), request, max_bytes)


CASES = {
    "timeout": (DownloadTimeoutError("Getting x took longer than 30.0 seconds."), {"download_timeout": 30.0}, "no answer within 30 s (timed out)"),
    "timeout without a limit": (DownloadTimeoutError("x"), {}, "timed out"),
    "dns": (CannotResolveHostError("DNS lookup failed: no results for hostname lookup: www.gov.uk."), {}, "cannot resolve the host name (DNS lookup failed: no results for hostname lookup: www.gov.uk.)"),
    "refused": (DownloadConnectionRefusedError("Connection was refused by other side: 111."), {}, "connection refused"),
    "data loss": (ResponseDataLossError(""), {}, "the connection closed before the whole body arrived"),
    "lost": (ConnectionLost(), {}, "the connection was lost (ConnectionLost)"),
    "robots": (IgnoreRequest("Forbidden by robots.txt"), {}, "forbidden by robots.txt"),
    "our own refusal": (RedirectLoop("redirect loop; not followed: a -> b -> a"), {}, "redirect loop; not followed: a -> b -> a"),
    "anything else": (ValueError("odd"), {}, "ValueError: odd"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_failures_in_plain_words(case):
    exc, meta, expected = CASES[case]
    assert described(exc, **meta) == expected


def test_redirect_limit_names_every_hop():
    hops = [f"https://www.gov.uk/hop-{n}" for n in range(1, 6)]
    text = described(IgnoreRequest("max redirections reached"), redirect_urls=hops)
    assert text == f"too many redirects (more than 5); not followed: {' -> '.join([*hops, URL])}"


def test_size_cap_refusals_name_url_size_and_cap():
    request = Request(URL)
    announced = DownloadCancelledError(get_maxsize_msg(5_000_000, 100_000, request, expected=True))
    assert described(announced, 100_000) == f"refused: {URL} is 5000000 bytes, over the size cap fetch.max_bytes = 100000; not read further"
    received = DownloadCancelledError(get_maxsize_msg(100_600, 100_000, request, expected=False))
    assert described(received, 100_000) == f"refused: {URL} sent more than 100600 bytes, over the size cap fetch.max_bytes = 100000; not read further"
    silent = DownloadCancelledError("")
    assert described(silent, 100_000) == f"refused: {URL} sent more than 100000 bytes (no length announced), over the size cap fetch.max_bytes = 100000; not read further"
    assert described(DownloadCancelledError("gone"), None) == "refused: gone"
    bomb = IgnoreRequest("Ignored response <200 x> because its body (51234 B compressed, 100352 B decompressed so far) exceeded DOWNLOAD_MAXSIZE (100000 B) during decompression.")
    assert described(bomb) == f"refused: {URL} decompresses to more than 100000 bytes (51234 bytes compressed), over the size cap fetch.max_bytes = 100000; not read further"


def test_the_retry_note_follows_the_failure():
    text = described(DownloadTimeoutError("x"), download_timeout=5.0, dfe_retry_note="gave up after 1 retries (DownloadTimeoutError: x)")
    assert text == "no answer within 5 s (timed out); gave up after 1 retries (DownloadTimeoutError: x)"


@pytest.mark.parametrize(
    ("role", "body", "content_type", "problem"),
    [
        ("api", b'{"title": "x"}', "application/json", None),
        ("api", b'{"title": "tru', "application/json", "the Content API answer is not valid JSON (truncated or garbled)"),
        ("search", b"  \n", "application/json", "the answer is empty (status 200 with no body)"),
        ("page", b"<!DOCTYPE html><html><body><p>Half a pa", "text/html", "the page is incomplete: it ends before </html> (truncated)"),
        ("page", b"<html><body>\x00\x00</body></html>", "text/html", "the page contains NUL bytes (garbled in transit)"),
        ("page", b"<html><body><main id='content'><p>Fine.</p></main></body></html>", "text/html", None),
        ("attachment", b"PK\x03\x04 some zip", "application/vnd.oasis.opendocument.spreadsheet", None),
        ("attachment", b"Reference,Name\n1,<html>", "text/html", None),  # a CSV mislabelled as HTML
    ],
)
def test_body_problems(role, body, content_type, problem):
    assert body_problem(role, body, content_type) == problem


def test_is_json():
    assert is_json(b"[]") and is_json(b'{"a": 1}')
    assert not is_json(b"{") and not is_json(b"\xff\xfe")

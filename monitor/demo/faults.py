"""Faults the fixture server can inject, each answering as a real server or GOV.UK's CDN can.

``faults`` (a dict of path -> :class:`monitor.demo.state.Fault`) lets tests make any path misbehave (``"*"``
matches every path without a fault of its own). The kinds, each answering as a real server or
GOV.UK's CDN can:

==============  ==================================================================================
``status``      that status (``statuses`` cycles through several, one per request), with an
                optional ``Retry-After``
``cdn503``      the CDN's own 503 "Page unavailable" page
``sorry``       a 200 "Sorry, there is a problem with the service" page instead of the content
``empty``       a 200 with an empty body
``redirect``    ``status`` (default 301) to ``location`` (may be relative, or another host)
``stall``       accepts the request and never answers (for ``seconds``, default until stopped)
``slow``        waits ``seconds``, then answers normally
``drip``        the normal answer, its bytes spread evenly over ``seconds``
``truncate``    the normal answer cut in half, with a Content-Length promising more, then closed
``close``       a few bytes of a JSON answer, then the connection is closed
``garbage``     the normal answer cut short and followed by binary garbage, as a 200
``huge``        ``size`` bytes (with a Content-Length unless ``length_known`` is false)
``gzip-bomb``   ``size`` zero bytes gzip-compressed (a few KB on the wire), as a 200
``headers``     the normal answer with ``content_type`` and ``headers`` replacing its own
``body``        ``body`` (with ``content_type``) as a 200, instead of the file
==============  ==================================================================================
"""

from __future__ import annotations

import contextlib
import gzip
import io
from http.server import BaseHTTPRequestHandler

from monitor.demo.state import Fault, RequestRecord, SiteState


class FaultResponses(BaseHTTPRequestHandler):
    """The fault half of the fixture server's request handler (its base class)."""

    site_state: SiteState

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str]) -> None:
        raise NotImplementedError  # the serving half answers

    def _take_fault(self, path: str) -> Fault | None:
        fault = self.site_state.faults.get(path) or self.site_state.faults.get("*")
        if fault is None:
            return None
        fault.served += 1
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.site_state.faults = {
                    k: v for k, v in self.site_state.faults.items() if v is not fault
                }
        return fault

    def _apply_fault(self, fault: Fault, record: RequestRecord) -> bool:
        """Answer with the fault; False when the normal answer should follow (slow, garbage...)."""
        kind = fault.kind
        if kind == "status":
            status = fault.statuses[(fault.served - 1) % len(fault.statuses)] if fault.statuses else fault.status
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            record.status = status
            self._send(status, b"<html><body>error</body></html>", "text/html", headers)
            return True
        if kind == "redirect":
            record.status = fault.status if fault.status in (301, 302, 303, 307, 308) else 301
            self._send(record.status, b"", "text/html", {"Location": fault.location or "/"})
            return True
        if kind == "stall":
            self.site_state.stopping.wait(fault.seconds or 3600)
            self.close_connection = True
            return True
        if kind == "close":
            self.close_connection = True
            record.status = 200
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"partial\": ")
                self.wfile.flush()
            return True
        if kind == "cdn503":
            record.status = 503
            body = (
                b"<!DOCTYPE html><html><head><title>Page unavailable - GOV.UK</title></head>"
                b"<body><h1>Sorry, we're experiencing technical difficulties</h1>"
                b"<p>Please try again in a few moments.</p></body></html>"
            )
            self._send(503, body, "text/html; charset=utf-8", {})
            return True
        if kind == "sorry":
            record.status = 200
            body = (
                b"<!DOCTYPE html><html><head><title>Sorry, there is a problem with the service"
                b" - GOV.UK</title></head><body><main class='govuk-main-wrapper' id='content'><h1>Sorry,"
                b" there is a problem with the service</h1><p>Try again later.</p></main>"
                b"</body></html>"
            )
            self._send(200, body, "text/html; charset=utf-8", {})
            return True
        if kind == "empty":
            record.status = 200
            self._send(200, b"", fault.content_type or "application/json", {})
            return True
        if kind == "body":
            record.status = 200
            self._send(200, fault.body, fault.content_type or "text/html; charset=utf-8", {})
            return True
        if kind == "gzip-bomb":
            record.status = 200
            body = _gzip_zeros(fault.size or 200 * 1024 * 1024)
            self._send(200, body, "application/json", {"Content-Encoding": "gzip"})
            return True
        if kind == "huge":
            record.status = 200
            self._send_huge(fault.size or 100 * 1024 * 1024, fault.length_known)
            return True
        if kind == "slow":
            if self.site_state.stopping.wait(fault.seconds):
                self.close_connection = True
                return True
            return False
        return False

    def _send_huge(self, size: int, length_known: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length_known:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < size and not self.site_state.stopping.is_set():
                part = chunk[: size - sent]
                self.wfile.write(part)
                sent += len(part)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- control (used by people trying the monitor against a local site) -------------------
    def _drip(self, body: bytes, content_type: str, headers: dict[str, str], seconds: float) -> None:
        """The whole answer, a few bytes at a time, spread over ``seconds``."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        pieces = max(1, min(len(body), 50))
        step = -(-len(body) // pieces)
        try:
            for start in range(0, len(body), step):
                self.wfile.write(body[start : start + step])
                self.wfile.flush()
                if self.site_state.stopping.wait(seconds / pieces):
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True



_GZIP_CACHE: dict[int, bytes] = {}


def _gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (about 1/1000 of the size); built once per size."""
    if size not in _GZIP_CACHE:
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as stream:
            block = b"\0" * (1024 * 1024)
            for start in range(0, size, len(block)):
                stream.write(block[: size - start])
        _GZIP_CACHE[size] = out.getvalue()
    return _GZIP_CACHE[size]



"""`dfe-monitor serve`: the feeds, the change pages and ``/api/changes`` over read-only HTTP.

GET and HEAD only (anything else is 405); only published files (``files.Published``); the
right Content-Type with ``nosniff``; ETag and Last-Modified on every answer, and 304 Not
Modified to a reader that already has the file, so polling a feed costs a few hundred bytes.
Listens on 127.0.0.1 unless told otherwise: put a real web server in front to publish it.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from monitor import stopsignals
from monitor.config import Config
from monitor.errors import EXIT_OK, MonitorError, UsageError
from monitor.record.connect import open_readonly
from monitor.record.publishing import feed_specs
from monitor.serve.api import changes_json
from monitor.serve.files import Published, Refused, content_type
from monitor.text import printable
from storage.db import Database

log = logging.getLogger("dfe-monitor")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
ALLOWED = "GET, HEAD"


class App:
    """What the server answers from: the published files and the database (read-only)."""

    def __init__(self, config: Config) -> None:
        self.published = Published.of([spec.path for spec in feed_specs(config)], config.pages_path)
        self.config = config
        self._db: Database | None = None
        self._lock = threading.Lock()

    def database(self) -> Database | None:
        """Opened read-only on first use (the first run may come after the server started)."""
        with self._lock:
            if self._db is None:
                self._db = open_readonly(self.config)
            return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()

    @property
    def home(self) -> str:
        pages = self.published.pages
        return self.published.url_of(pages) + "/" if pages is not None else self.published.url_of(self.published.feeds[0])


class Handler(BaseHTTPRequestHandler):
    def version_string(self) -> str:
        return "dfe-monitor"

    app: App  # set on the subclass made by make_server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def __getattr__(self, name: str) -> Any:
        """Every other method (POST, PUT, DELETE, PATCH, OPTIONS, TRACE…): 405."""
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"only GET and HEAD\n", "text/plain; charset=utf-8", {"Allow": ALLOWED}, body=True)

    def _answer(self, *, body: bool) -> None:
        path = urlsplit(self.path)
        try:
            if path.path == "/":
                self._send(HTTPStatus.FOUND, b"", "text/plain; charset=utf-8", {"Location": self.app.home}, body=body)
            elif path.path == "/api/changes":
                self._api(path.query, body=body)
            else:
                self._file(self.app.published.file_for(path.path), body=body)
        except Refused as exc:
            self._send(HTTPStatus(exc.status), f"{exc}\n".encode(), "text/plain; charset=utf-8", {}, body=body)
        except (UnicodeDecodeError, ValueError):
            self._send(HTTPStatus.BAD_REQUEST, b"malformed path\n", "text/plain; charset=utf-8", {}, body=body)

    def _api(self, query: str, *, body: bool) -> None:
        try:
            data = changes_json(self.app.database(), query)
        except UsageError as exc:
            self._send(HTTPStatus.BAD_REQUEST, f"{exc}\n".encode(), "text/plain; charset=utf-8", {}, body=body)
            return
        except MonitorError as exc:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, f"{exc}\n".encode(), "text/plain; charset=utf-8", {}, body=body)
            return
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        if self._matches(etag):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, {"ETag": etag}, body=False)
            return
        self._send(HTTPStatus.OK, data, "application/json", {"ETag": etag}, body=body)

    def _file(self, file: Path, *, body: bool) -> None:
        status = file.stat()
        etag = f'"{status.st_size:x}-{status.st_mtime_ns:x}"'
        headers = {"ETag": etag, "Last-Modified": formatdate(status.st_mtime, usegmt=True)}
        if self._matches(etag) or ("If-None-Match" not in self.headers and self._unmodified_since(status.st_mtime)):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers, body=False)
            return
        self._send(HTTPStatus.OK, file.read_bytes() if body else b"", content_type(file), headers, body=body, length=status.st_size)

    def _matches(self, etag: str) -> bool:
        wanted = self.headers.get("If-None-Match")
        if not wanted:
            return False
        tags = [tag.strip().removeprefix("W/") for tag in wanted.split(",")]
        return "*" in tags or etag in tags

    def _unmodified_since(self, mtime: float) -> bool:
        since = self.headers.get("If-Modified-Since")
        if not since:
            return False
        try:
            return int(mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def _send(self, status: HTTPStatus, data: bytes, kind: str | None, headers: dict[str, str], *, body: bool, length: int | None = None) -> None:
        self.send_response(status)
        if kind is not None:
            self.send_header("Content-Type", kind)
        for name, value in {**SECURITY_HEADERS, **headers}.items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(length if length is not None else len(data)))
        self.end_headers()
        if body and data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        log.info("%s %s", self.address_string(), format % args)


def make_server(config: Config, host: str, port: int) -> tuple[ThreadingHTTPServer, App]:
    app = App(config)
    handler = type("BoundHandler", (Handler,), {"app": app})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port or --host") from None
    server.daemon_threads = True
    return server, app


def serve(config: Config, *, host: str, port: int) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    server, app = make_server(config, host, port)
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    print(printable(f"serving on http://{bound_host!s}:{bound_port}/ — pages at {app.home}, changes as JSON at /api/changes (Ctrl-C stops)"), flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    try:
        with stopsignals.handling(stop, (signal.SIGTERM,)):
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()
    return EXIT_OK

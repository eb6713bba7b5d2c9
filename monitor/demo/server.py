"""A local stand-in for GOV.UK: serves a fixture site on 127.0.0.1 for the demo and the tests.

A *site* is a folder with one sub-folder per *state* (``before``, ``after``, ...). A request for
path ``P`` is answered from ``<site>/<state>/P`` if that is a file, else ``P.json``, ``P.html``
or ``P/index.html`` — so ``/api/content/guidance/x`` is ``api/content/guidance/x.json`` and the
page ``/guidance/x`` is ``guidance/x.html``. ``_routes.json`` in a state folder overrides single
paths: ``{"/old": {"status": 301, "location": "/new"}, "/gone": {"status": 410}}``.

Text files may hold placeholders, filled on every request like GOV.UK's own noise:
``{{base}}`` (this server's URL), ``{{nonce}}`` and ``{{request_id}}`` (random each time),
``{{now}}`` (the current time). Files without the random ones get a stable ``ETag`` and
``Last-Modified`` and answer ``304`` to conditional requests, as GOV.UK's asset host does.
Lists under ``links`` in Content API JSON are shuffled on every request (GOV.UK does not
promise their order). ``/api/search.json`` answers a query with the results whose title,
description or link hold every word of ``q``, pages them with ``start``/``count``, and answers
422 to parameters the real Search API does not know.

``faults`` (a dict of path -> :class:`~monitor.demo.faults.Fault`) lets tests make any path
misbehave; the kinds are listed in ``faults.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import hashlib
import json
import random
import re
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from monitor.demo.faults import FaultResponses
from monitor.demo.state import Fault, RequestRecord, SiteState
from monitor.times import rfc3339

CONTENT_TYPES = {
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".pdf": "application/pdf",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
TEXT_SUFFIXES = {".json", ".html", ".txt", ".csv"}
RANDOM_PLACEHOLDERS = ("{{nonce}}", "{{request_id}}", "{{now}}")
SEARCH_PARAMS = {"q", "order", "count", "start", "fields"}
SEARCH_PREFIXES = ("filter_", "reject_", "aggregate_")
# A fixed Last-Modified for stable files: the value only has to be the same on every request.
STABLE_LAST_MODIFIED = "Wed, 01 Jan 2025 09:00:00 GMT"


class FixtureServer:
    """Runs the fixture site in a background thread: ``with FixtureServer(site) as srv: srv.url``."""

    def __init__(self, site: Path | str, state: str = "before", port: int = 0) -> None:
        self.state = SiteState(Path(site), state)
        handler = type("Handler", (_Handler,), {"site_state": self.state})
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[RequestRecord]:
        return self.state.requests

    def set_state(self, state: str) -> None:
        if not (self.state.site / state).is_dir():
            raise ValueError(f"fixture site has no state {state!r}")
        self.state.state = state

    def add_fault(self, path: str, fault: Fault) -> None:
        with self.state.lock:
            self.state.faults[path] = fault

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def start(self) -> FixtureServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()  # wakes stalled and dripping answers
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a refused body, a killed run) are normal here, not tracebacks."""

    request_queue_size = 128  # socketserver's 5 drops connections a concurrent crawl opens at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(FaultResponses):
    site_state: SiteState
    protocol_version = "HTTP/1.1"
    server_version = "fixture-govuk/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
        return

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        split = urlsplit(self.path)
        path = unquote(split.path)
        record = RequestRecord(time.time(), self.command, self.path, dict(self.headers.items()))
        with self.site_state.lock:
            self.site_state.requests.append(record)
            fault = self._take_fault(path)
        if path.startswith("/_control/"):
            record.status = self._control(path, parse_qs(split.query))
            return
        if fault is not None and self._apply_fault(fault, record):
            return
        record.status = self._serve(path, parse_qs(split.query), fault)

    def _control(self, path: str, query: dict[str, list[str]]) -> int:
        if path == "/_control/state" and query.get("name"):
            name = query["name"][0]
            if (self.site_state.site / name).is_dir():
                self.site_state.state = name
                self._send(200, f"state {name}\n".encode(), "text/plain", {})
                return 200
        self._send(400, b"unknown control request\n", "text/plain", {})
        return 400

    # -- normal answers -------------------------------------------------------------------
    def _serve(self, path: str, query: dict[str, list[str]], fault: Fault | None) -> int:
        root = self.site_state.root
        routes = _load_routes(root)
        if path in routes:
            return self._serve_route(routes[path])
        if path == "/api/search.json":
            return self._serve_search(root, query)
        file = _resolve(root, path)
        if file is None:
            self._send(404, b"<html><body><h1>Page not found</h1></body></html>", "text/html", {})
            return 404
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        headers: dict[str, str] = {}
        stat = file.stat()
        key = (str(file), stat.st_size, stat.st_mtime_ns, self.headers.get("Host"))
        cached = self.site_state.bodies.get(key)
        if cached is not None:
            stable, (body, etag) = True, cached
        else:
            raw = file.read_bytes()
            text = _utf8(raw) if file.suffix in TEXT_SUFFIXES else None
            if text is not None:
                stable = not any(p in text for p in RANDOM_PLACEHOLDERS)
                shuffled = file.suffix == ".json" and self.site_state.shuffle_links and '"links"' in text
                body = self._fill(text, shuffle=file.suffix == ".json").encode("utf-8")
            else:  # a binary file, or text in another encoding (a Windows-1252 CSV): served as it is
                stable, shuffled, body = True, False, raw
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"' if stable else ""
            # Only a file older than a second: rewritten later, it gets a later mtime (a key of
            # its own) even where mtimes are coarse.
            if stable and not shuffled and time.time() - stat.st_mtime > 1.0:
                self.site_state.bodies.put(key, body, etag)
        if stable:
            headers.update({"ETag": etag, "Last-Modified": STABLE_LAST_MODIFIED})
            if self._not_modified(etag):
                self._send(304, b"", None, headers)
                return 304
        if fault is not None and fault.kind == "headers":
            content_type = fault.content_type or content_type
            headers.update(fault.headers)
        if fault is not None and fault.kind == "garbage":
            body = body[: max(1, len(body) // 3)] + b"\x00garbage"
        if fault is not None and fault.kind == "drip":
            self._drip(body, content_type, headers, fault.seconds)
            return 200
        if fault is not None and fault.kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) + 5000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return 200
        self._send(200, body, content_type, headers)
        return 200

    def _not_modified(self, etag: str) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in [tag.strip() for tag in if_none_match.split(",")]
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return email.utils.parsedate_to_datetime(since) >= email.utils.parsedate_to_datetime(
                    STABLE_LAST_MODIFIED
                )
            except (TypeError, ValueError):
                return False
        return False

    def _serve_route(self, route: dict[str, Any]) -> int:
        status = int(route.get("status", 200))
        headers = dict(route.get("headers", {}))
        if "location" in route:
            headers["Location"] = self._fill(route["location"], shuffle=False)
        body = self._fill(route.get("body", ""), shuffle=False).encode()
        self._send(status, body, route.get("content_type", "text/html; charset=utf-8"), headers)
        return status

    def _serve_search(self, root: Path, query: dict[str, list[str]]) -> int:
        unknown = [k for k in query if k not in SEARCH_PARAMS and not k.startswith(SEARCH_PREFIXES)]
        if unknown:
            body = json.dumps({"error": f"Unrecognised parameter: {unknown[0]}"}).encode()
            self._send(422, body, "application/json", {})
            return 422
        file = root / "api" / "search.json"
        data = json.loads(self._fill(file.read_text("utf-8"), shuffle=False)) if file.exists() else {}
        results = matching(data.get("results", []), query.get("q", [""])[0])
        start = int(query.get("start", ["0"])[0])
        count = int(query.get("count", ["10"])[0])
        page = {"results": results[start : start + count], "total": len(results), "start": start}
        self._send(200, json.dumps(page).encode(), "application/json; charset=utf-8", {})
        return 200

    def _fill(self, text: str, *, shuffle: bool) -> str:
        now = rfc3339(datetime.now(UTC))
        host = self.headers.get("Host") or "127.0.0.1"
        text = (
            text.replace("{{base}}", f"http://{host}")
            .replace("{{nonce}}", secrets.token_hex(12))
            .replace("{{request_id}}", str(uuid.uuid4()))
            .replace("{{now}}", now)
        )
        if shuffle and self.site_state.shuffle_links and '"links"' in text:
            try:
                data = json.loads(text)
            except ValueError:
                return text
            if isinstance(data, dict) and isinstance(data.get("links"), dict):
                links = data["links"]
                keys = list(links)
                random.shuffle(keys)
                for value in links.values():
                    if isinstance(value, list):
                        random.shuffle(value)
                data["links"] = {k: links[k] for k in keys}
                text = json.dumps(data, ensure_ascii=False, indent=1)
        return text

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str]) -> None:
        self.send_response(status)
        if content_type and status != 304:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(0 if status == 304 else len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 304:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)


def matching(results: list[Any], q: str) -> list[Any]:
    """The results a query finds, as the Search API would (roughly): those whose title,
    description or link hold every word of the query, in any case. No query finds everything."""
    words = re.findall(r"[a-z0-9]+", q.lower())
    found = []
    for result in results:
        if not isinstance(result, dict):
            continue
        haystack = " ".join(str(result.get(key) or "") for key in ("title", "description", "link")).lower()
        if all(word in haystack for word in words):
            found.append(result)
    return found


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _resolve(root: Path, path: str) -> Path | None:
    if ".." in path.split("/"):
        return None
    rel = path.lstrip("/")
    base = root / rel
    for candidate in (base, Path(f"{base}.json"), Path(f"{base}.html"), base / "index.html"):
        if candidate.is_file():
            return candidate
    return None


def _load_routes(root: Path) -> dict[str, Any]:
    routes_file = root / "_routes.json"
    if not routes_file.exists():
        return {}
    return json.loads(routes_file.read_text("utf-8"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fixture GOV.UK site on 127.0.0.1.")
    parser.add_argument("site", help="site folder (one sub-folder per state)")
    parser.add_argument("--state", default="before")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    server = FixtureServer(args.site, args.state, args.port)
    print(f"serving {args.site} ({args.state}) at {server.url}", flush=True)
    print(f"switch state: curl '{server.url}/_control/state?name=after'", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.httpd.serve_forever()


if __name__ == "__main__":
    main()

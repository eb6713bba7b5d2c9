"""`dfe-monitor serve`: the feeds, pages and /api/changes over read-only HTTP — right types,
ETag/Last-Modified with 304, GET and HEAD only, and nothing outside the published files."""

from __future__ import annotations

import http.client
import json
import os
import threading

import pytest
from support.demo import demo_history
from support.inprocess import run_cli

from monitor.config import load_config
from monitor.serve.server import make_server


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    config_path, _ = demo_history(folder)
    (folder / "secret.txt").write_text("not published")
    (folder / "pages" / ".hidden.html").write_text("not published")  # e.g. an editor's or a writer's temp file
    os.symlink(folder / "monitor.db", folder / "pages" / "link-to-db.html")
    os.symlink(folder / "secret.txt", folder / "pages" / "link-to-secret.txt")
    server, app = make_server(load_config(config_path), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, config_path, server.server_address[1]
    server.shutdown()
    server.server_close()
    app.close()


def request(port: int, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/privacy-notices.atom", "application/atom+xml; charset=utf-8"),
        ("/silent-edits.atom", "application/atom+xml; charset=utf-8"),
        ("/pages/index.html", "text/html; charset=utf-8"),
        ("/pages/", "text/html; charset=utf-8"),
        ("/pages/index-silent.html", "text/html; charset=utf-8"),
        ("/pages/change-2.html", "text/html; charset=utf-8"),
    ],
)
def test_published_files_with_their_types(site, path, kind):
    folder, _, port = site
    status, headers, body = request(port, "GET", path)
    assert status == 200 and headers["content-type"] == kind
    assert headers["x-content-type-options"] == "nosniff" and "default-src 'none'" in headers["content-security-policy"]
    name = "pages/index.html" if path == "/pages/" else path.lstrip("/")
    assert body == (folder / name).read_bytes()
    assert int(headers["content-length"]) == len(body)


def test_a_feed_reader_polls_cheaply_with_etag_and_last_modified(site):
    _, _, port = site
    status, headers, _ = request(port, "GET", "/feed.atom")
    assert status == 200 and headers["etag"] and headers["last-modified"]
    for conditional in ({"If-None-Match": headers["etag"]}, {"If-Modified-Since": headers["last-modified"]}, {"If-None-Match": f'W/{headers["etag"]}, "other"'}):
        again, again_headers, body = request(port, "GET", "/feed.atom", conditional)
        assert (again, body) == (304, b"") and again_headers["etag"] == headers["etag"]
    assert request(port, "GET", "/feed.atom", {"If-None-Match": '"stale"'})[0] == 200


def test_the_feed_command_keeps_unchanged_pages_and_their_etags(site):
    folder, config, port = site
    _, before, _ = request(port, "GET", "/pages/change-2.html")
    assert run_cli("feed", "--config", str(config)).returncode == 0
    assert request(port, "GET", "/pages/change-2.html", {"If-None-Match": before["etag"]})[0] == 304


def test_head_has_the_headers_and_no_body(site):
    _, _, port = site
    status, headers, body = request(port, "HEAD", "/pages/index.html")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 1000


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"])
def test_only_get_and_head(site, method):
    _, _, port = site
    status, headers, _ = request(port, method, "/feed.atom")
    assert status == 405 and headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/monitor.db", "/config.toml", "/secret.txt", "/pages/../monitor.db", "/pages/%2e%2e/monitor.db",
        "/pages/%2E%2E/config.toml", "/pages/..%2fmonitor.db", "/pages/..%5cmonitor.db", "/%2e%2e/%2e%2e/etc/passwd",
        "/pages/link-to-db.html", "/pages/link-to-secret.txt", "/pages/%00index.html", "/etc/passwd", "/pages/nope.html",
        "/pages/.hidden.html", "/pages/%2ehidden.html", "/.feed.atom.render-cache.json",
    ],
)  # fmt: skip
def test_nothing_outside_the_published_files(site, path):
    _, _, port = site
    status, _, body = request(port, "GET", path)
    assert status in (400, 404), (path, status)
    assert b"SQLite" not in body and b"not published" not in body and b"[storage]" not in body


def test_a_bad_encoding_is_a_bad_request(site):
    _, _, port = site
    assert request(port, "GET", "/pages/%ff%fe.html")[0] == 400


def test_the_root_leads_to_the_pages(site):
    _, _, port = site
    status, headers, _ = request(port, "GET", "/")
    assert status == 302 and headers["location"] == "/pages/"


def test_api_changes_has_the_keys_of_changes_json_and_its_filters(site):
    _, config, port = site
    status, headers, body = request(port, "GET", "/api/changes")
    assert status == 200 and headers["content-type"] == "application/json"
    records = json.loads(body)
    expected = [json.loads(line) for line in run_cli("changes", "--json", "--config", str(config)).stdout.splitlines()]
    assert records == expected and len(records) == 10
    silent = json.loads(request(port, "GET", "/api/changes?silent=1&category=privacy-notice")[2])
    assert [r["name"] for r in silent] == ["Privacy information: EYFS to key stage 3", "Privacy notice model documents for schools"]
    assert len(json.loads(request(port, "GET", "/api/changes?priority=high&limit=2")[2])) == 2
    assert request(port, "GET", "/api/changes", {"If-None-Match": headers["etag"]})[0] == 304


@pytest.mark.parametrize("query", ["since=yesterday", "category=privacy", "priority=urgent", "limit=0", "colour=red", "target=nope"])
def test_api_bad_parameters_are_400_with_one_line(site, query):
    _, _, port = site
    status, _, body = request(port, "GET", f"/api/changes?{query}")
    assert status == 400 and body.count(b"\n") == 1


def test_the_command_serves_until_sigterm(site):
    import re
    import signal
    import subprocess
    import sys

    _, config, busy_port = site
    with subprocess.Popen([sys.executable, "-m", "monitor", "serve", "--config", str(config), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            line = child.stdout.readline()
            port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
            assert request(port, "GET", "/feed.atom")[0] == 200
            child.send_signal(signal.SIGTERM)
            assert child.wait(timeout=10) == 0
        finally:
            child.kill()
    taken = subprocess.run([sys.executable, "-m", "monitor", "serve", "--config", str(config), "--port", str(busy_port)], capture_output=True, text=True, timeout=30)
    assert taken.returncode == 2
    assert taken.stderr.startswith(f"dfe-monitor: cannot listen on 127.0.0.1:{busy_port}: ") and taken.stderr.count("\n") == 1

"""The fixture server itself: what it serves must be byte-exact where it should be."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from support.sitebuilder import Site

from monitor.demo.server import FixtureServer

FILES = Path(__file__).parent / "fixtures" / "files"


def test_text_files_in_another_encoding_are_served_as_they_are(tmp_path):
    """GOV.UK's CSVs are often Windows-1252; the server fills placeholders only in UTF-8 text."""
    legacy = (FILES / "register-before.csv").read_bytes()
    assert b"\xa3" in legacy  # a pound sign in Windows-1252: not UTF-8
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.file("media/r1/register.csv", legacy)
    state.file("media/r2/notes.csv", b"Link\n{{base}}/page\n")
    with FixtureServer(site.root, "before") as server:
        with urllib.request.urlopen(f"{server.url}/media/r1/register.csv") as answer:  # noqa: S310 - loopback
            assert answer.read() == legacy
        with urllib.request.urlopen(f"{server.url}/media/r2/notes.csv") as answer:  # noqa: S310 - loopback
            assert answer.read() == f"Link\n{server.url}/page\n".encode()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str | None]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback
            return answer.status, answer.read(), answer.headers.get("ETag")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read(), answer.headers.get("ETag")


def test_stable_answers_are_kept_built_and_a_rewritten_file_is_served_anew(tmp_path):
    """A settled file is read, filled and hashed once; rewritten (same size, even), it has a new
    mtime and is read again: the cache never serves an old body."""
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.file("media/r1/register.csv", b"id,name\n1,aaaa\n")
    path = site.root / "before" / "media" / "r1" / "register.csv"
    old = time.time() - 60
    os.utime(path, (old, old))
    with FixtureServer(site.root, "before") as server:
        url = f"{server.url}/media/r1/register.csv"
        status, body, etag = _get(url)
        assert (status, body) == (200, b"id,name\n1,aaaa\n") and etag
        assert len(server.state.bodies._items) == 1
        assert _get(url, {"If-None-Match": etag})[0] == 304
        path.write_bytes(b"id,name\n1,bbbb\n")  # same size, a new mtime
        status, body, new_etag = _get(url, {"If-None-Match": etag})
        assert (status, body) == (200, b"id,name\n1,bbbb\n") and new_etag != etag


def test_a_fresh_file_is_not_kept_and_filled_answers_are_kept_per_host(tmp_path):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.file("media/r2/notes.csv", b"Link\n{{base}}/page\n")
    state.file("media/r3/now.csv", b"at {{now}}\n")
    with FixtureServer(site.root, "before") as server:
        assert _get(f"{server.url}/media/r2/notes.csv")[1] == f"Link\n{server.url}/page\n".encode()
        assert not server.state.bodies._items  # written just now: not settled, not kept
        for path in (site.root / "before" / "media" / "r2" / "notes.csv", site.root / "before" / "media" / "r3" / "now.csv"):
            os.utime(path, (time.time() - 60, time.time() - 60))
        local = server.url.replace("127.0.0.1", "localhost")
        assert _get(f"{server.url}/media/r2/notes.csv")[1] == f"Link\n{server.url}/page\n".encode()
        assert _get(f"{local}/media/r2/notes.csv")[1] == f"Link\n{local}/page\n".encode()
        first, second = _get(f"{server.url}/media/r3/now.csv"), _get(f"{server.url}/media/r3/now.csv")
        assert first[2] is None and second[2] is None  # a random placeholder: never stable, never kept
        assert len(server.state.bodies._items) == 2

"""The fixture server itself: what it serves must be byte-exact where it should be."""

from __future__ import annotations

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

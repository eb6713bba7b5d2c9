"""A hostile upstream for whole runs in this process: two watched pages on a local GOV.UK
stand-in, ``A`` that stays sane and ``B`` whose Content API item (or page, or files, or search
answers) a test replaces with anything at all.

Each ``run()`` is a real ``dfe-monitor run`` (tests/support/inprocess.py: the spider's own
callbacks, storage, processing and the feed), so a test sees what cron would: the exit code,
stdout and stderr, the feed, ``changes --json`` and the ``targets`` table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.demo import server as demo_server
from monitor.demo.server import Fault, FixtureServer
from support.inprocess import Completed, in_process_crawls, run_cli
from support.sitebuilder import Site, State, config_text

A = "/government/publications/privacy-information-pupils"
B = "/government/publications/pupil-data-register"
NAMES = {"A": "Privacy information: pupils", "B": "Pupil data register"}
NOTES = [("2025-06-01T09:30:00.000+01:00", "First published.")]


class Hostile:
    """The site, its server, the config and helpers to break ``B`` and read the outcome."""

    def __init__(self, folder: Path, server: FixtureServer, state: State) -> None:
        self.folder = folder
        self.server = server
        self.state = state
        self.config = folder / "config.toml"
        self.a_paragraphs = ["We share pupil data with researchers."]
        self.write_config()

    # -- the site ---------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return self.server.url

    def write_config(self, extra: str = "", discover: list[dict[str, Any]] | None = None, targets: list[tuple[str, str, str]] | None = None) -> None:
        default = [(NAMES["A"], A, "privacy-notice"), (NAMES["B"], B, "release-register")]
        self.config.write_text(config_text(self.base, targets if targets is not None else default, discover=discover, extra=extra), encoding="utf-8")

    def edit_a(self, paragraph: str) -> None:
        """A real change to the sane page: it must be reported whatever B does."""
        self.a_paragraphs.append(paragraph)
        self.state.item(A, title=NAMES["A"], body="".join(f"<p>{p}</p>" for p in self.a_paragraphs), change_history=NOTES)

    def b_item(self, item: dict[str, Any] | str | bytes) -> None:
        """B's Content API answer: an item (a dict), or any text or bytes at all."""
        if isinstance(item, dict):
            data = json.dumps(item, ensure_ascii=True).encode()
        elif isinstance(item, str):
            data = item.encode("utf-8", "surrogatepass")
        else:
            data = item
        self.state.file(f"api/content{B}.json", data)

    def b_normal(self, body: str = "<p>Who received pupil data.</p>", **extra: Any) -> dict[str, Any]:
        return self.state.item(B, title=NAMES["B"], body=body, change_history=NOTES, **extra)

    def fault(self, path: str, fault: Fault) -> None:
        self.server.add_fault(path, fault)

    # -- running and reading ----------------------------------------------------------------
    def run(self, *args: str, expect: int | None = 0) -> Completed:
        result = run_cli(*(args or ("run",)), "--config", str(self.config))
        if expect is not None:
            assert result.returncode == expect, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        return result

    def changes(self) -> list[dict[str, Any]]:
        result = self.run("changes", "--json")
        return [json.loads(line) for line in result.stdout.splitlines()]

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        con = sqlite3.connect(self.folder / "monitor.db")
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def sql_write(self, statement: str, *params: Any) -> None:
        con = sqlite3.connect(self.folder / "monitor.db")
        try:
            with con:
                con.execute(statement, params)
        finally:
            con.close()

    def target(self, name: str) -> dict[str, Any]:
        keys = ("url", "fetch_url", "state", "consecutive_failures", "last_error")
        rows = self.sql(f"SELECT {', '.join(keys)} FROM targets WHERE name = ?", name)
        assert rows, f"no target named {name!r}"
        return dict(zip(keys, rows[0], strict=True))

    @property
    def feed(self) -> str:
        return (self.folder / "feed.atom").read_text(encoding="utf-8")

    @property
    def feed_text(self) -> str:
        """The feed's entry contents as a reader sees them (markup such as ``<mark>`` around a
        watch-list term removed), one entry a line."""
        from lxml import etree, html

        root = etree.fromstring((self.folder / "feed.atom").read_bytes())
        contents = root.iter("{http://www.w3.org/2005/Atom}content")
        return "\n".join(html.fragment_fromstring(c.text, create_parent="div").text_content() for c in contents if c.text)

    def feed_links(self) -> list[str]:
        """Every address the feed links to: entry links and links inside entry content."""
        from lxml import etree, html

        root = etree.fromstring((self.folder / "feed.atom").read_bytes())
        ns = "{http://www.w3.org/2005/Atom}"
        links = [link.get("href") or "" for link in root.iter(f"{ns}link")]
        for content in root.iter(f"{ns}content"):
            if content.text:
                links += [a.get("href") or "" for a in html.fragment_fromstring(content.text, create_parent="div").iter("a")]
        return links


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    """A baseline already taken: both pages recorded, no change yet. The search stand-in answers
    every result it holds, whatever the query: upstream decides what a search answers."""
    monkeypatch.setattr(demo_server, "matching", lambda results, q: list(results))
    site = Site(tmp_path / "site")
    state = site.state("live")
    state.robots()
    with FixtureServer(site.root, "live") as server, in_process_crawls(monkeypatch):
        watch = Hostile(tmp_path, server, state)
        watch.edit_a(watch.a_paragraphs.pop())
        watch.b_normal()
        watch.run()
        yield watch

"""The whole pipeline as cron runs it (child `dfe-monitor run` processes, real Scrapy) on both
storage engines: the demo site's two states give the same changes, the same feed entries and
the same research answers on PostgreSQL as on SQLite."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import feedparser
import pytest
from support.faults import monitor

from monitor.demo import SITE, write_demo_config
from monitor.demo.server import FixtureServer


def _story(tmp_path, url: str | None) -> dict:
    folder = tmp_path / ("postgresql" if url else "sqlite")
    folder.mkdir()
    with FixtureServer(SITE, "before") as server:
        config = write_demo_config(folder, server.url)
        if url is not None:
            config.write_text(config.read_text().replace('database = "monitor.db"', f'database = "{url}"'))
        first = monitor(config, "run")
        assert first.returncode == 0, first.stderr
        server.set_state("after")
        second = monitor(config, "run")
        assert second.returncode == 0, second.stderr
        third = monitor(config, "run")  # nothing new: nothing reported twice
        assert third.returncode == 0, third.stderr
    changes = monitor(config, "changes", "--json")
    search = monitor(config, "search", "nationality", "--json")
    assert changes.returncode == 0 and search.returncode == 0, changes.stderr + search.stderr
    feed = feedparser.parse((folder / "feed.atom").read_bytes())
    hits = [json.loads(line) for line in search.stdout.splitlines()]
    return {
        "changes": sorted((c["kind"], c["title"], c["silent_edit"], c["priority"]) for c in map(json.loads, changes.stdout.splitlines())),
        "entries": sorted(e.title for e in feed.entries),
        # which versions and files mention it (addresses without the server's port); the
        # snippets are each engine's own (FTS5 snippet(), ts_headline()), both marking the word
        "search": sorted({(h["version_id"], h["source"], urlsplit(h.get("file_url") or "").path) for h in hits}),
        "marked": all("[" in h["snippet"] and "]" in h["snippet"] for h in hits),
        "third": third.stdout.splitlines()[0],
    }


@pytest.mark.slow
def test_the_demo_story_is_the_same_on_postgresql_as_on_sqlite(tmp_path, postgres_server):
    on_sqlite = _story(tmp_path, None)
    on_postgresql = _story(tmp_path, postgres_server.create_database())
    assert len(on_sqlite["changes"]) >= 10 and on_sqlite["search"] and on_sqlite["marked"] and on_postgresql["marked"]
    assert "0 changed" in on_sqlite["third"] and "0 changed" in on_postgresql["third"]
    for part in ("changes", "entries", "search"):
        assert on_postgresql[part] == on_sqlite[part], part

"""Publishing reads only the changes a feed or page can show: each feed's newest
``max_entries`` by its own filters, found by a bounded query, never the whole history. The
result must equal selecting from every stored change, including a feed whose only entries are
far older than the newest ``max_entries``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
from support.inprocess import run_cli

from monitor.config import load_config
from monitor.publish.feeds import select
from monitor.publish.records import entry_from_row, newest_rows
from monitor.record.changes import tag_id
from monitor.record.connect import open_database
from monitor.record.publishing import feed_specs, publish_all
from storage import repo

CONFIG = """
[storage]
database = "monitor.db"
[feed]
path = "feed.atom"
max_entries = 5
pages_dir = "changes"
[govuk]
base_url = "http://127.0.0.1:9"
[fetch]
allowed_hosts = ["127.0.0.1"]
[[targets]]
name = "Register"
url = "http://127.0.0.1:9/government/publications/register"
category = "release-register"
[[targets]]
name = "Privacy notice"
url = "http://127.0.0.1:9/government/publications/privacy"
category = "privacy-notice"
[[feeds]]
path = "high.atom"
priority = "high"
[[feeds]]
path = "privacy.atom"
categories = ["privacy-notice"]
[[feeds]]
path = "silent-moved.atom"
silent_only = true
kinds = ["moved"]
"""


def _history(tmp_path: Path, count: int = 120):
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    db = open_database(config)
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with db.write() as session:
        repo.sync_configured_targets(session, [repo.TargetSpec(t.url, t.name, t.category) for t in config.targets], start)
        targets = repo.all_targets(session)
        run_id = repo.start_run(session, start, 1)
        for n in range(count):
            # the high-priority, privacy and silent "moved" changes are all old and rare
            when = start + timedelta(hours=n if n % 9 else n - 3)  # some out of id order
            target = targets[1] if n in (2, 50) else targets[0]
            repo.add_change(
                session, feed_id_for=lambda i, when=when: tag_id(config.feed.url, when, i), target_id=target.id, run_id=run_id,
                kind="moved" if n in (3, 4) else rng.choice(["changed", "changed", "removed"]), detected_at=when,
                title=f"{target.name} — change {n}", summary="Paragraph added.", silent_edit=n in (3, 4) or rng.random() < 0.3,
                priority="high" if n in (1, 40) else "normal", details="{}",
            )
    return config, db


def test_each_feed_gets_exactly_what_selecting_from_every_change_gives(tmp_path):
    config, db = _history(tmp_path)
    specs = feed_specs(config)
    with db.read() as session:
        every = [entry_from_row(c, t) for c, t in repo.list_changes(session, newest_first=True)]
        window = [entry_from_row(c, t) for c, t in newest_rows(session, specs, config.feed.max_entries)]
    assert len(every) == 120 and len(window) < 30
    for spec in specs:
        expected = [e.feed_id for e in select(spec, every, config.feed.max_entries)]
        assert [e.feed_id for e in select(spec, window, config.feed.max_entries)] == expected, spec.path.name
        assert expected, spec.path.name  # every feed has something to show
    db.dispose()


def test_the_written_feeds_hold_the_old_rare_entries(tmp_path):
    config, db = _history(tmp_path)
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    db.dispose()
    titles = {name: [e.title for e in feedparser.parse((tmp_path / name).read_bytes()).entries] for name in ("feed.atom", "high.atom", "privacy.atom", "silent-moved.atom")}
    # change 117 was detected at the same time as change 114 (both 114 h); the later id comes first
    assert titles["feed.atom"] == [f"Register — change {n}" for n in (119, 118, 116, 115, 117)]
    assert titles["high.atom"] == ["Register — change 40", "Register — change 1"]
    assert titles["privacy.atom"] == ["Privacy notice — change 50", "Privacy notice — change 2"]
    assert titles["silent-moved.atom"] == ["Register — change 4", "Register — change 3"]
    assert sorted(p.name for p in (tmp_path / "changes").glob("change-*.html")) == [f"change-{n}.html" for n in (116, 117, 118, 119, 120)]


def _count_renders(monkeypatch) -> dict[str, int]:
    from monitor.publish import feeds, pages

    counts = {"entry": 0, "page": 0, "index": 0, "history": 0}
    real_entry, real_page, real_index, real_history = feeds.render_entry_html, pages.render_change_page, pages.render_index, pages.render_history

    def entry(e):
        counts["entry"] += 1
        return real_entry(e)

    def page(e):
        counts["page"] += 1
        return real_page(e)

    def index(*args):
        counts["index"] += 1
        return real_index(*args)

    def history(own):
        counts["history"] += 1
        return real_history(own)

    monkeypatch.setattr(feeds, "render_entry_html", entry)
    monkeypatch.setattr(pages, "render_change_page", page)
    monkeypatch.setattr(pages, "render_index", index)
    monkeypatch.setattr(pages, "render_history", history)
    return counts


def _published(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".") and p.name != "monitor.db" and not p.name.startswith("monitor.db")}


def test_a_second_publish_renders_nothing_again_and_writes_the_same_bytes(tmp_path, monkeypatch):
    config, db = _history(tmp_path)
    counts = _count_renders(monkeypatch)
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    first = _published(tmp_path)
    # 5 newest + the feeds' own older entries; 5 change pages, 7 index pages, 1 history page
    assert counts == {"entry": 11, "page": 5, "index": 7, "history": 1}
    assert (tmp_path / ".feed.atom.render-cache.json").is_file()
    publish_all(db, config, datetime(2025, 1, 2, tzinfo=UTC))
    assert counts == {"entry": 11, "page": 5, "index": 7, "history": 1}
    assert _published(tmp_path) == first
    db.dispose()


def test_a_damaged_or_foreign_cache_is_an_empty_one(tmp_path, monkeypatch):
    config, db = _history(tmp_path)
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    first = _published(tmp_path)
    cache = tmp_path / ".feed.atom.render-cache.json"
    counts = _count_renders(monkeypatch)
    for damage in (b"\x00not json", b"[]", b'{"code": "other", "html": {}}', cache.read_bytes()[:100]):
        cache.write_bytes(damage)
        before = dict(counts)
        publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
        assert counts["entry"] - before["entry"] == 11 and counts["page"] - before["page"] == 5, damage
        assert _published(tmp_path) == first
    cache.unlink()  # deleting it is always safe
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    assert _published(tmp_path) == first
    db.dispose()


def test_what_changed_is_rendered_again_and_a_deleted_page_comes_back(tmp_path, monkeypatch):
    config, db = _history(tmp_path)
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    (tmp_path / "changes" / "change-120.html").unlink()
    counts = _count_renders(monkeypatch)
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    assert counts == {"entry": 0, "page": 0, "index": 0, "history": 0}
    assert (tmp_path / "changes" / "change-120.html").is_file()
    # the target renamed: every entry of it is rendered again with the new name
    (tmp_path / "config.toml").write_text(CONFIG.replace('name = "Register"', 'name = "Release register"'), encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    with db.write() as session:
        repo.sync_configured_targets(session, [repo.TargetSpec(t.url, t.name, t.category) for t in config.targets], datetime(2025, 1, 1, tzinfo=UTC))
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    # every entry but the two of the privacy notice, and every page listing the renamed target
    assert counts == {"entry": 9, "page": 5, "index": 7, "history": 1}
    assert "Changes to Release register" in (tmp_path / "changes" / "target-1.html").read_text(encoding="utf-8")
    db.dispose()


def test_a_new_rendering_code_renders_everything_again(tmp_path, monkeypatch):
    from monitor.publish import cache

    config, db = _history(tmp_path)
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    counts = _count_renders(monkeypatch)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "an upgrade")
    publish_all(db, config, datetime(2025, 1, 1, tzinfo=UTC))
    assert counts == {"entry": 11, "page": 5, "index": 7, "history": 1}
    db.dispose()


def test_feed_output_leaves_no_cache(tmp_path):
    config, db = _history(tmp_path)
    db.dispose()
    result = run_cli("feed", "--config", str(tmp_path / "config.toml"), "--output", str(tmp_path / "out" / "copy.atom"))
    assert result.returncode == 0, result
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["copy.atom"]

"""The Atom feed: valid, newest first, stable ids, scraped text escaped, written atomically."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from lxml import etree

from monitor.errors import FeedInvalid, StorageError
from monitor.publish.atom import (
    ATOM_NS,
    FeedEntry,
    build_feed,
    check_feed,
    render_entry_html,
    write_feed,
)
from monitor.record.changes import tag_id

T0 = datetime(2026, 11, 2, 7, 17, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(2)">x</a>\x00\x1b'


def entry(n: int, **kw) -> FeedEntry:
    base = dict(
        feed_id=tag_id("https://example.org/dfe-monitor/feed.atom", T0 + timedelta(hours=n), n),
        title=f"Privacy information: EYFS to KS3 — paragraph added, no change note ({n})",
        url="https://www.gov.uk/government/publications/privacy-information",
        category="privacy-notice",
        kind="changed",
        detected_at=T0 + timedelta(hours=n),
        summary="Paragraph added. No change note: silent edit.",
        silent_edit=True,
        details={
            "text_changes": [
                {"op": "added", "section": "Who we share with", "kinds": ["paragraph"], "old": [], "new": ["We share nationality with the Home Office."], "words": []},
                {"op": "changed", "section": "", "kinds": ["paragraph"], "old": ["a"], "new": ["b"], "words": [["equal", "We keep "], ["delete", "5"], ["insert", "25"], ["equal", " years"]]},
            ]
        },
    )
    base.update(kw)
    return FeedEntry(**base)


def unstyled(html: str) -> str:
    """The markup without its inline styles (they are tested on their own)."""
    return re.sub(r' style="[^"]*"', "", html)


def build(entries):
    return build_feed(entries, title="DfE pupil data publications: changes", feed_url="https://example.org/dfe-monitor/feed.atom", updated=T0)


def test_valid_atom_newest_first_with_stable_ids():
    xml = build([entry(1), entry(3), entry(2)])
    check_feed(xml)
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.id for e in parsed.entries] == [entry(3).feed_id, entry(2).feed_id, entry(1).feed_id]
    assert parsed.feed.links[0].rel == "self"
    first = parsed.entries[0]
    assert first.link == "https://www.gov.uk/government/publications/privacy-information"
    assert first.links[0].rel == "alternate"
    assert {t.term for t in first.tags} == {"privacy-notice", "kind:changed", "silent-edit"}
    assert datetime.fromisoformat(first.updated.replace("Z", "+00:00")) == datetime(2026, 11, 2, 10, 17, tzinfo=UTC)
    assert entry(1).feed_id == "tag:example.org,2026-11-02:dfe-monitor/change/1"
    # regenerating gives the same ids (readers are not re-notified)
    assert [e.id for e in feedparser.parse(build([entry(2), entry(1), entry(3)])).entries] == [e.id for e in parsed.entries]


def test_content_shows_insertions_deletions_and_silent_edit():
    html = unstyled(render_entry_html(entry(1)))
    assert "<ins>We share nationality with the Home Office.</ins>" in html
    assert "<del>5</del><ins>25</ins>" in html
    assert "No change note: silent edit." in html
    assert "in “Who we share with”" in html
    assert "Open Government Licence" in html


def test_change_note_is_quoted():
    html = unstyled(render_entry_html(entry(1, silent_edit=False, summary="Paragraph added.", change_note="Added the Home Office <b>share</b>.")))
    assert "<blockquote>Added the Home Office &lt;b&gt;share&lt;/b&gt;.</blockquote>" in html
    assert "silent edit" not in html


def test_hostile_text_is_escaped_everywhere_and_the_feed_stays_valid():
    hostile = entry(
        1,
        title=f"Notice {HOSTILE}",
        summary=HOSTILE,
        url="javascript:alert(3)",
        change_note=HOSTILE,
        details={
            "text_changes": [{"op": "added", "section": HOSTILE, "kinds": ["paragraph"], "old": [], "new": [HOSTILE], "words": []}],
            "attachments": [{"op": "added", "title": HOSTILE, "url": "javascript:alert(4)", "formats": ["pdf"], "note": HOSTILE, "file_diff": {"tables": [{"sheet": HOSTILE, "key_column": "Ref", "rows_added": [{"Ref": HOSTILE}], "rows_removed": [], "rows_changed": []}]}}],
        },
    )
    xml = build([hostile])
    check_feed(xml)
    parsed = feedparser.parse(xml)
    assert not parsed.bozo
    root = etree.fromstring(xml)
    content = root.find(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}content").text
    fragment = etree.fromstring(f"<div>{content}</div>", etree.HTMLParser())
    assert not fragment.xpath("//script | //img | //iframe | //svg")
    assert not [a for a in fragment.xpath("//a/@href") if not a.startswith("http")]
    assert not [el for el in fragment.iter() if any(k.lower().startswith("on") for k in el.attrib)]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "\x00" not in xml.decode() and "\x1b" not in xml.decode()
    assert root.find(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}link") is None  # javascript: never becomes a link


def test_huge_diffs_are_capped_with_a_count():
    changes = [{"op": "added", "section": "", "kinds": ["paragraph"], "old": [], "new": [f"para {i} " + "x" * 10_000], "words": []} for i in range(60)]
    html = render_entry_html(entry(1, details={"text_changes": changes}))
    assert re.search(r"… and \d+ more text changes not shown\.", html)
    assert "characters not shown" in html
    assert len(html) < 60 * 1024
    check_feed(build([entry(1, details={"text_changes": changes})]))


def test_empty_feed_is_valid():
    xml = build([])
    check_feed(xml)
    assert not feedparser.parse(xml).bozo


def test_invalid_feed_is_never_written(tmp_path):
    path = tmp_path / "feed.atom"
    path.write_bytes(b"old feed")
    with pytest.raises(FeedInvalid):
        write_feed(path, b"<feed>not atom</feed>")
    with pytest.raises(FeedInvalid):
        write_feed(path, b"<oops")
    assert path.read_bytes() == b"old feed"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.atom"]


def test_duplicate_ids_are_refused():
    with pytest.raises(FeedInvalid, match="repeated"):
        check_feed(build([entry(1), entry(1)]))


def test_write_is_atomic_and_reports_unwritable_folders(tmp_path):
    path = tmp_path / "public" / "feed.atom"
    write_feed(path, build([entry(1)]))
    assert feedparser.parse(path.read_bytes()).entries
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="the previous feed was kept"):
        write_feed(blocker / "feed.atom", build([entry(2)]))
    assert feedparser.parse(path.read_bytes()).entries[0].id == entry(1).feed_id


def test_temp_files_left_by_a_killed_writer_are_cleared(tmp_path):
    import os
    import time

    path = tmp_path / "feed.atom"
    old = tmp_path / ".feed.atom.abc123.tmp"
    fresh = tmp_path / ".feed.atom.def456.tmp"
    old.write_text("half a feed")
    fresh.write_text("being written right now")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    write_feed(path, build([entry(1)]))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".feed.atom.def456.tmp", "feed.atom"]

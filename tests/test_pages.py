"""The static pages: one index page per filter (grouped by day, newest first), a history page
per watched page, and a change page that cites its sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import etree

from monitor.publish.entries import FeedEntry
from monitor.publish.pages import render_change_page, write_pages

T0 = datetime(2026, 11, 2, 7, 17, tzinfo=UTC)


def entry(n: int, **kw) -> FeedEntry:
    base = dict(feed_id=f"tag:example.org,2026-11-02:dfe-monitor/change/{n}", title=f"Page {n} — changed", url=f"https://www.gov.uk/p{n}", category="privacy-notice", kind="changed", detected_at=T0 - timedelta(hours=12 * n), summary=f"Summary {n}.", silent_edit=False, sequence=n, name=f"Page {n}", target_id=n % 2 + 1)
    base.update(kw)
    return FeedEntry(**base)


def tree(path):
    return etree.parse(str(path), etree.HTMLParser())


def listed(path) -> list[str]:
    return [a.text for a in tree(path).xpath("//ul[@class='changes']//a[@class='title']")]


def test_one_static_page_per_filter_each_keeping_only_its_changes(tmp_path):
    entries = [entry(1, silent_edit=True, priority="high"), entry(2, category="release-register"), entry(3, silent_edit=True), entry(4, category="census-guidance", priority="high")]
    write_pages(tmp_path, entries, "Changes")
    assert listed(tmp_path / "index.html") == ["Page 1 — changed", "Page 2 — changed", "Page 3 — changed", "Page 4 — changed"]
    assert listed(tmp_path / "index-privacy-notice.html") == ["Page 1 — changed", "Page 3 — changed"]
    assert listed(tmp_path / "index-release-register.html") == ["Page 2 — changed"]
    assert listed(tmp_path / "index-silent.html") == ["Page 1 — changed", "Page 3 — changed"]
    assert listed(tmp_path / "index-high.html") == ["Page 1 — changed", "Page 4 — changed"]
    assert listed(tmp_path / "index-other.html") == []
    assert "No changes here yet." in (tmp_path / "index-other.html").read_text()
    page = tree(tmp_path / "index-silent.html")
    assert page.xpath("//ul[@class='filters']//span[@aria-current='page']/text()") == ["Silent edits"]
    assert sorted(page.xpath("//ul[@class='filters']//a/@href")) == sorted(["index.html", "index-privacy-notice.html", "index-release-register.html", "index-census-guidance.html", "index-other.html", "index-high.html"])
    assert page.xpath("//script") == [] and "<script" not in (tmp_path / "index.html").read_text()


def test_the_index_groups_changes_by_day(tmp_path):
    write_pages(tmp_path, [entry(1), entry(2), entry(3)], "Changes")  # 12 hours apart
    days = tree(tmp_path / "index.html").xpath("//h2[@class='day']/text()")
    assert days == ["Sunday 1 November 2026", "Saturday 31 October 2026"]


def test_each_watched_page_has_a_history_of_its_changes(tmp_path):
    write_pages(tmp_path, [entry(1), entry(2), entry(3)], "Changes")
    assert listed(tmp_path / "target-2.html") == ["Page 1 — changed", "Page 3 — changed"]
    assert listed(tmp_path / "target-1.html") == ["Page 2 — changed"]
    assert tree(tmp_path / "change-3.html").xpath("//p[@class='crumbs']/a/@href") == ["index.html", "target-2.html"]


def test_a_change_page_has_a_short_title_one_summary_line_the_dated_note_and_its_sources(tmp_path):
    details = {
        "new_notes": [{"timestamp": "2026-12-10T09:30:00.000+00:00", "note": "Added the July figures."}],
        "attachments": [{"op": "replaced", "title": "Register", "url": "https://assets.example/r.ods", "formats": ["ods"]}],
    }
    provenance = {"old_version": 4, "new_version": 9, "captures_before": ["a" * 64], "captures_after": ["b" * 64, "c" * 64], "files_before": {"https://assets.example/r.ods": "d" * 64}, "files_after": {"https://assets.example/r.ods": "e" * 64}}
    html = render_change_page(entry(5, title="DfE external data shares — file replaced: Register", name="DfE external data shares", details=details, provenance=provenance, change_note="Added the July figures."))
    page = etree.fromstring(html.encode(), etree.HTMLParser())
    assert page.xpath("//h1/text()") == ["DfE external data shares"]
    assert page.xpath("//p[@class='lead']/text()") == ["Summary 5."]
    assert page.xpath("//meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
    assert "(10 December 2026)" in html and "<blockquote" in html and "Added the July figures." in html
    text = " ".join(page.xpath("//dl[@class='sources']")[0].itertext())
    for sha in ("a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64):
        assert f"sha256 {sha}" in text
    assert "dfe-monitor diff 4 9" in text
    assert "The same address now serves the new file" in text

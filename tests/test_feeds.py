"""Feeds by topic on the demo's history: each [[feeds]] file a complete valid Atom feed of
exactly the matching entries, with the same entry ids as the main feed, each entry linking its
GOV.UK page (alternate) and its change page (related)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import feedparser
import pytest
from lxml import etree
from support.demo import demo_history
from support.inprocess import run_cli

from monitor.publish.atom import ATOM_NS, check_feed
from monitor.publish.entries import MAX_ENTRY_BYTES, FeedEntry, feed_bytes, render_entry_html
from monitor.publish.feeds import FeedSpec, select
from monitor.record.changes import tag_id

T0 = datetime(2026, 11, 2, 7, 17, tzinfo=UTC)
PAGES_URL = "http://127.0.0.1:8080/pages/"
FEEDS = {
    "privacy-notices.atom": lambda r: r["category"] == "privacy-notice",
    "release-registers.atom": lambda r: r["category"] == "release-register",
    "census-guidance.atom": lambda r: r["category"] == "census-guidance",
    "other.atom": lambda r: r["category"] == "other",
    "silent-edits.atom": lambda r: r["silent_edit"] is True,
    "high-priority.atom": lambda r: r["priority"] == "high",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("feeds")
    config, _ = demo_history(folder)
    records = [json.loads(line) for line in run_cli("changes", "--json", "--config", str(config)).stdout.splitlines()]
    assert len(records) == 10
    return folder, config, records


def parse(path):
    xml = path.read_bytes()
    check_feed(xml)
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_each_feed_is_valid_atom_of_exactly_the_matching_entries(demo, name):
    folder, _, records = demo
    parsed = parse(folder / name)
    expected = [r["feed_id"] for r in sorted(records, key=lambda r: (r["detected_at"], r["id"]), reverse=True) if FEEDS[name](r)]
    assert [e.id for e in parsed.entries] == expected
    assert parsed.feed.links[0].rel == "self"
    assert parsed.feed.links[0].href == f"https://example.org/dfe-monitor/demo/{name}"


def test_the_subsets_are_not_trivial_and_the_main_feed_has_everything(demo):
    folder, _, records = demo
    main = [e.id for e in parse(folder / "feed.atom").entries]
    assert sorted(main) == sorted(r["feed_id"] for r in records)
    sizes = {name: len(parse(folder / name).entries) for name in FEEDS}
    assert sizes["privacy-notices.atom"] == 2 and sizes["silent-edits.atom"] == 4 and sizes["high-priority.atom"] == 5
    assert sizes["other.atom"] == 0
    assert all(0 < size < len(records) for name, size in sizes.items() if name != "other.atom")


def test_entries_link_their_govuk_page_and_their_change_page(demo):
    folder, _, records = demo
    by_id = {r["feed_id"]: r for r in records}
    root = etree.parse(str(folder / "silent-edits.atom")).getroot()
    for entry in root.iterfind(f"{{{ATOM_NS}}}entry"):
        record = by_id[entry.findtext(f"{{{ATOM_NS}}}id")]
        links = {(link.get("rel"), link.get("type")): link.get("href") for link in entry.iterfind(f"{{{ATOM_NS}}}link")}
        assert links[("alternate", "text/html")] == record["page_url"]
        assert links[("related", "text/html")] == f"{PAGES_URL}change-{record['id']}.html"
        assert (folder / "pages" / f"change-{record['id']}.html").is_file()


def test_the_feed_command_rewrites_every_feed_with_the_same_ids(demo):
    folder, config, _ = demo
    before = {name: [e.id for e in parse(folder / name).entries] for name in FEEDS}
    for name in FEEDS:
        (folder / name).unlink()
    result = run_cli("feed", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert {name: [e.id for e in parse(folder / name).entries] for name in FEEDS} == before


def test_the_content_reads_well_in_any_reader(demo):
    folder, _, records = demo
    register = next(r for r in records if r["name"] == "DfE external data shares")
    root = etree.parse(str(folder / "feed.atom")).getroot()
    element = next(e for e in root.iterfind(f"{{{ATOM_NS}}}entry") if e.findtext(f"{{{ATOM_NS}}}id") == register["feed_id"])
    html = element.findtext(f"{{{ATOM_NS}}}content")
    tree = etree.fromstring(f"<div>{html}</div>".encode(), etree.HTMLParser())
    assert not tree.xpath("//*[@class]"), "feed content uses inline styles only"
    assert all("background" in ins.get("style") for ins in tree.iter("ins"))
    assert all("line-through" in d.get("style") for d in tree.iter("del"))
    table = tree.xpath("//table")[0]
    assert "border" in table.get("style")
    header = [th.text for th in table.xpath(".//th")]
    assert header[:4] == ["Row", "Reference", "Organisation", "Purpose"]
    changed = table.xpath(".//tr[td[1]='Changed']")[0]
    assert ["".join(ins.itertext()) for ins in changed.iter("ins")] == ["; nationality; country of birth"]
    assert [(m.text, "background" in m.get("style")) for m in changed.iter("mark")] == [("nationality", True), ("country of birth", True)]  # watch-list terms
    # a new edition beside the last shows no "previously at": the URLs shown as text are elsewhere
    contents = "".join(f"<div>{e.findtext(f'{{{ATOM_NS}}}content')}</div>" for e in root.iterfind(f"{{{ATOM_NS}}}entry"))
    url_links = [a for a in etree.fromstring(f"<div>{contents}</div>".encode(), etree.HTMLParser()).iter("a") if (a.text or "").startswith("http")]
    assert url_links and all("overflow-wrap:anywhere" in a.get("style") and a.findall("wbr") for a in url_links)  # long URLs wrap


def test_what_marks_a_change_survives_a_reader_that_sanitises_styles(demo):
    """feedparser keeps only a whitelist of CSS, as many readers do: highlights and borders stay."""
    folder, _, records = demo
    register = next(r for r in records if r["name"] == "DfE external data shares")
    html = next(e for e in parse(folder / "feed.atom").entries if e.id == register["feed_id"]).content[0].value
    tree = etree.fromstring(f"<div>{html}</div>".encode(), etree.HTMLParser())
    assert tree.xpath("//ins") and all("background" in ins.get("style", "") for ins in tree.iter("ins"))
    assert all("line-through" in d.get("style", "") for d in tree.iter("del"))
    assert all("border" in cell.get("style", "") for cell in tree.xpath("//table | //td | //th"))


# -- pure: filters and the 60 KB cap --------------------------------------------------------


def entry(n: int, **kw) -> FeedEntry:
    base = dict(feed_id=tag_id("https://example.org/feed.atom", T0, n), title=f"Page {n} — changed", url="https://www.gov.uk/x", category="privacy-notice", kind="changed", detected_at=T0, summary="Changed.", silent_edit=False, sequence=n)
    base.update(kw)
    return FeedEntry(**base)


def test_filters_combine_with_and():
    entries = [
        entry(1, category="privacy-notice", priority="high", silent_edit=True),
        entry(2, category="privacy-notice", priority="high", silent_edit=False),
        entry(3, category="privacy-notice", priority="normal", silent_edit=True),
        entry(4, category="release-register", priority="high", silent_edit=True),
        entry(5, category="privacy-notice", priority="high", silent_edit=True, kind="withdrawn"),
    ]
    spec = FeedSpec(path=None, title="t", url="https://example.org/x.atom", categories=("privacy-notice",), priority="high", silent_only=True, kinds=("changed", "new"))
    assert [e.sequence for e in select(spec, entries, 500)] == [1]
    everything = FeedSpec(path=None, title="t", url="https://example.org/x.atom")
    assert [e.sequence for e in select(everything, entries, 3)] == [1, 2, 3]


def huge_register(rows: int) -> dict:
    long = {f"Column {c}": "research " * 400 for c in range(5)}
    added = [{"Reference": f"DS{i:05}", "Organisation": f"Org {i}", **long} for i in range(rows)]
    return {"attachments": [{"op": "added", "title": "Register", "url": "https://assets.publishing.service.gov.uk/x.ods", "formats": ["ods"], "file_diff": {"tables": [{"sheet": "S", "key_column": "Reference", "rows_added": added}]}}]}


def test_an_entry_too_big_for_a_reader_is_cut_under_60_kb_with_a_link_to_its_page():
    big = entry(1, details=huge_register(5000), page_url="https://example.org/changes/change-1.html")
    html = render_entry_html(big)
    assert feed_bytes(html) <= MAX_ENTRY_BYTES
    assert "too long to show whole in a feed reader" in html
    assert 'href="https://example.org/changes/change-1.html"' in html
    small = render_entry_html(entry(2, details=huge_register(2), page_url="https://example.org/changes/change-2.html"))
    assert "too long" not in small
    assert len(re.findall(r"<tr>", small)) == 3  # header and two rows


def test_even_a_change_with_no_diff_budget_left_stays_under_60_kb():
    notes = [{"timestamp": "2026-11-02T10:00:00Z", "note": "n" * 100_000}]
    monster = entry(1, summary="s" * 200_000, terms=("t" * 100_000,), details={**huge_register(20000), "new_notes": notes, "description": "d" * 100_000})
    html = render_entry_html(monster)
    assert feed_bytes(html) <= MAX_ENTRY_BYTES
    assert "dfe-monitor show 1" in html  # no change page to link: how to see all of it
    xml = __import__("monitor.publish.atom", fromlist=["build_feed"]).build_feed([monster], title="t", feed_url="https://example.org/f.atom", updated=T0)
    assert len(etree.fromstring(xml).find(f"{{{ATOM_NS}}}entry").find(f"{{{ATOM_NS}}}content").text.encode()) <= MAX_ENTRY_BYTES

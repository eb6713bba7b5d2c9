"""The whole pipeline, three `dfe-monitor run` processes against the bundled GOV.UK stand-in.

Run 1 (site state "before") is a baseline, run 2 ("after") must report exactly the changes that
monitor/demo/README.md lists — nothing for the noise-only pages — and run 3 must add nothing.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from monitor.demo import SITE, write_demo_config
from monitor.demo.server import FixtureServer

PRIVACY_EYFS = "/government/publications/privacy-information-early-years-foundation-stage-to-key-stage-3/privacy-information-early-years-foundation-stage-to-key-stage-3"
EXPECTED = {
    # path: (kind, silent_edit)
    PRIVACY_EYFS: ("changed", True),
    "/government/publications/dfe-external-data-shares": ("changed", False),
    "/government/collections/national-pupil-database": ("changed", False),
    "/guidance/how-to-access-department-for-education-dfe-data-extracts": ("changed", False),
    "/government/publications/school-census-2026-to-2027-technical-information": ("withdrawn", False),
    "/guidance/complete-the-school-census": ("changed", False),
    "/government/publications/common-basic-data-set-cbds-database": ("changed", True),
    "/government/publications/data-protection-and-privacy-privacy-notices": ("changed", True),
    "/government/publications/national-pupil-database-user-guide-and-supporting-information": ("changed", True),
    "/government/publications/school-census-2027-to-2028-guide": ("new", None),
}


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args, "--config", str(config)], capture_output=True, text=True, timeout=300)


def changes(config: Path) -> list[dict]:
    result = run(config, "changes", "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    with FixtureServer(SITE, "before") as server:
        config = write_demo_config(folder, server.url)
        first = run(config, "run")
        after_first = changes(config)
        server.set_state("after")
        second = run(config, "run")
        after_second = changes(config)
        feed_after_second = (folder / "feed.atom").read_bytes()
        third = run(config, "run")
        after_third = changes(config)
    return {
        "base": server.url,
        "config": config,
        "folder": folder,
        "runs": (first, second, third),
        "changes": (after_first, after_second, after_third),
        "feed": feed_after_second,
        "feed_final": (folder / "feed.atom").read_bytes(),
    }


def by_path(demo, records):
    base = demo["base"]
    return {r["url"][len(base) :]: r for r in records}


def test_every_run_exits_zero_with_a_summary(demo):
    for result in demo["runs"]:
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    # 14 configured targets and the 3 publications the searches find that are not among them
    assert "17 baseline, 3 discovered" in demo["runs"][0].stdout
    assert "9 changed, 0 failed" in demo["runs"][1].stdout
    assert "0 changed, 0 failed" in demo["runs"][2].stdout


def test_first_run_is_a_baseline(demo):
    assert demo["changes"][0] == []


def test_second_run_reports_exactly_the_real_changes(demo):
    found = by_path(demo, demo["changes"][1])
    assert {path: (r["kind"], r["silent_edit"]) for path, r in found.items()} == EXPECTED
    assert len(demo["changes"][1]) == len(EXPECTED)


def test_third_run_adds_nothing(demo):
    assert demo["changes"][2] == demo["changes"][1]
    assert [e.id for e in feedparser.parse(demo["feed_final"]).entries] == [e.id for e in feedparser.parse(demo["feed"]).entries]


def test_change_records_follow_the_contract(demo):
    for record in demo["changes"][1]:
        for key in ("id", "url", "name", "category", "kind", "detected_at", "summary", "silent_edit", "feed_id"):
            assert key in record
        assert record["feed_id"].startswith("tag:example.org,")
        assert record["detected_at"].endswith("Z")
        assert record["category"] in ("release-register", "privacy-notice", "census-guidance", "other")
    ids = [r["id"] for r in demo["changes"][1]]
    assert ids == sorted(ids)


def test_silent_privacy_paragraph_is_high_priority(demo):
    record = by_path(demo, demo["changes"][1])[PRIVACY_EYFS]
    assert record["title"] == "Privacy information: EYFS to key stage 3 — paragraph added, no change note"
    assert record["priority"] == "high"
    assert set(record["terms"]) >= {"Home Office", "nationality", "country of birth", "immigration"}


def entries(demo):
    parsed = feedparser.parse(demo["feed"])
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def entry_for(demo, path):
    record = by_path(demo, demo["changes"][1])[path]
    [entry] = [e for e in entries(demo).entries if e.id == record["feed_id"]]
    return entry.content[0].value


def test_feed_is_valid_atom_newest_first(demo):
    parsed = entries(demo)
    assert parsed.version == "atom10"
    assert len(parsed.entries) == len(EXPECTED)
    ids = [e.id for e in parsed.entries]
    assert len(set(ids)) == len(ids)
    record_ids = [r["feed_id"] for r in sorted(demo["changes"][1], key=lambda r: (r["detected_at"], r["id"]), reverse=True)]
    assert ids == record_ids


def test_register_entry_names_the_new_rows_of_this_quarter(demo):
    content = entry_for(demo, "/government/publications/dfe-external-data-shares")
    for reference in ("DS00797", "DS00798", "HO0013", "HO0014", "PO0009", "DS00761"):
        assert reference in content
    assert "compared with the previous edition, “DfE external data shares: April to June 2026” (still listed)" in html.unescape(content)
    assert "previously at" not in content and "previously titled" not in content
    assert "nationality; country of birth" in content
    assert "DS00792" not in content  # last quarter's additions are not news


def text_of(content: str) -> str:
    """What a reader reads: the text of the entry's HTML, white space collapsed."""
    return " ".join(etree.fromstring(f"<div>{content}</div>", etree.HTMLParser()).xpath("string()").split())


def test_cbds_entry_shows_rows_and_the_new_pdf_section(demo):
    raw = entry_for(demo, "/government/publications/common-basic-data-set-cbds-database")
    content = html.unescape(raw)
    assert "100241" in content and "Youth support services agreement indicator" in content
    row = etree.fromstring(f"<div>{raw}</div>", etree.HTMLParser()).xpath("//tr[td[2]='100219']")[0]
    assert "School census (autumn only); Alternative provision census" in row.xpath("string()")
    assert [ins.text for ins in row.iter("ins")] == ["; Alternative provision census"]
    assert "Section 3.4 Pupil nationality and country of birth: added" in text_of(raw)
    assert "10.2 Keeping data secure" not in content  # the contents page is not read as headings
    assert "School_census_2026_to_2027_guide_v1.1.pdf" in content
    assert "(XLSX/ODS)" in content


TITLES = {
    "/government/publications/dfe-external-data-shares": "DfE external data shares — new file: July to September 2026 (5 rows added, 1 changed), with change note",
    "/government/collections/national-pupil-database": "National pupil database collection — document added: requests approved in 2026, with change note",
    "/government/publications/data-protection-and-privacy-privacy-notices": "Privacy notice model documents for schools — file replaced: Privacy notice for pupils (model document), no change note",
    "/government/publications/common-basic-data-set-cbds-database": "Common basic data set (CBDS) database — file replaced (1 row removed, 1 changed); and 1 more change, no change note",
}


def test_titles_say_what_happened_in_at_most_120_characters(demo):
    found = by_path(demo, demo["changes"][1])
    assert {path: found[path]["title"] for path in TITLES} == TITLES
    assert all(len(record["title"]) <= 120 for record in demo["changes"][1])


def test_retention_cut_and_a_dated_nationality_rule_are_high_priority(demo):
    found = by_path(demo, demo["changes"][1])
    notice = found["/government/publications/data-protection-and-privacy-privacy-notices"]
    assert (notice["priority"], notice["terms"]) == ("high", ["retention"])  # "retain" in its heading
    census = found["/guidance/complete-the-school-census"]
    assert census["priority"] == "high" and census["terms"] == ["nationality", "country of birth"]
    assert re.search(rb'&lt;mark style="[^"&]*"&gt;retain&lt;/mark&gt;', demo["feed"])  # marked in the entry's HTML


def test_the_new_guide_is_filed_under_the_search_that_found_it(demo):
    [new] = [r for r in demo["changes"][1] if r["kind"] == "new"]
    assert new["category"] == "census-guidance"


def test_pdf_at_a_new_address_is_a_replacement_and_empty_sheets_have_no_heading(demo):
    cbds = html.unescape(entry_for(demo, "/government/publications/common-basic-data-set-cbds-database"))
    assert "<strong>File replaced at a new address:</strong>" in cbds and "Moved:" not in cbds
    shares = html.unescape(entry_for(demo, "/government/publications/dfe-external-data-shares"))
    assert "Sheet “Regular shares”" not in shares and "Sheet “Court orders”" not in shares
    notices = html.unescape(entry_for(demo, "/government/publications/data-protection-and-privacy-privacy-notices"))
    assert "Sheet “" not in notices and "Table “" not in notices  # no table changed in the notice


def test_docx_entry_quotes_the_changed_sentence(demo):
    content = html.unescape(entry_for(demo, "/government/publications/data-protection-and-privacy-privacy-notices"))
    assert "6 years after the pupil leaves our school" in content
    assert "until the pupil reaches the age of 25" in content


def test_withdrawn_entry_carries_the_explanation(demo):
    content = html.unescape(entry_for(demo, "/government/publications/school-census-2026-to-2027-technical-information"))
    assert "This has been replaced by School census 2027 to 2028: guide." in content


def test_no_live_markup_reaches_the_feed(demo):
    root = etree.fromstring(demo["feed"])
    ns = {"a": "http://www.w3.org/2005/Atom"}
    for content in root.iterfind(".//a:content", ns):
        fragment = etree.fromstring(f"<div>{content.text}</div>", etree.HTMLParser())
        assert not fragment.xpath("//script | //iframe | //img | //svg | //object | //embed")
        for element in fragment.iter():
            assert not any(name.lower().startswith("on") for name in element.attrib)
        assert all(href.startswith(("http://", "https://")) for href in fragment.xpath("//a/@href"))
    hostile = entry_for(demo, "/government/publications/national-pupil-database-user-guide-and-supporting-information")
    assert "&lt;script src=&quot;//attacker.invalid/x.js&quot;&gt;&lt;/script&gt;" in hostile


def test_feed_regeneration_keeps_ids(demo, tmp_path):
    output = tmp_path / "again.atom"
    result = run(demo["config"], "feed", "--output", str(output))
    assert result.returncode == 0, result.stderr
    again = [e.id for e in feedparser.parse(output.read_bytes()).entries]
    assert again == [e.id for e in feedparser.parse(demo["feed_final"]).entries]


def test_change_pages_are_written_without_live_markup(demo):
    pages = demo["folder"] / "pages"
    files = sorted(p.name for p in pages.iterdir())
    assert "index.html" in files and len([f for f in files if f.startswith("change-")]) == len(EXPECTED)
    for page in pages.iterdir():
        text = page.read_text()
        assert "Content-Security-Policy" in text and "default-src 'none'" in text
        tree = etree.fromstring(text.encode(), etree.HTMLParser())
        assert not tree.xpath("//script | //iframe | //img | //svg | //object | //embed")
        for element in tree.iter():
            assert not any(name.lower().startswith("on") for name in element.attrib)

"""Hard caps on the work one hostile page or search can cause, each a setting in ``[limits]``.

Measured before the caps: a page of a million tiny paragraphs took 244 s and 1.47 GB (parsed in
the main process, outside ``extract.memory_mb``); a text with a unique line every 200 lines and
duplicate stretches between took 337 s to diff at 200,000 lines (a quadratic section lookup and
difflib's longest-match search); 6,000 renamed HTML attachments took 153 s to pair; a search
answering 5,000 results when ``max_results`` is 100 added 5,000 permanent targets; and a page
listing 3,000 files made 3,002 requests. Each case is now bounded, and says so in one line.
"""

from __future__ import annotations

import json
import time

from support.hostile import NAMES, Hostile

from monitor.compare.attachments import diff_attachments
from monitor.compare.blocks import COARSE_SECTION
from monitor.compare.document import diff_documents
from monitor.compare.text import DiffBudget
from monitor.demo.server import Fault
from monitor.model import Attachment, Block, Document

SEARCH = "/api/search.json"


def paragraphs(n: int) -> str:
    return "<p>a</p>" * n


# -- body blocks --------------------------------------------------------------------------------


def test_a_page_of_tiny_paragraphs_is_refused_before_it_is_read(hostile: Hostile) -> None:
    hostile.b_normal(body=paragraphs(300_000))
    hostile.edit_a("We also share nationality with the Home Office.")
    started = time.monotonic()
    result = hostile.run()
    took = time.monotonic() - started
    assert ", 1 changed, 1 failed" in result.stdout.splitlines()[0]
    failure = next(line for line in result.stdout.splitlines() if line.startswith("  failed: "))
    assert "limits.body_blocks = 20,000" in failure
    assert took < 10, took
    assert "We also share nationality with the Home Office." in hostile.feed_text


def test_the_block_cap_is_a_setting(hostile: Hostile) -> None:
    hostile.write_config(extra="[limits]\nbody_blocks = 100")
    hostile.b_normal(body=paragraphs(150))
    result = hostile.run()
    assert "more than limits.body_blocks = 100" in result.stdout
    hostile.b_normal(body=paragraphs(99))
    assert ", 0 failed" in hostile.run().stdout.splitlines()[0]


# -- diff work ----------------------------------------------------------------------------------


def duplicate_heavy(lines: int, step: int) -> tuple[Document, Document]:
    """A unique line every 200 lines, and between them duplicate lines that differ in pattern."""
    old, new = [], []
    for i in range(lines // 200):
        kind = "heading" if i % 10 == 0 else "paragraph"
        old.append(Block(kind, f"unique {i}"))
        new.append(Block(kind, f"unique {i}"))
        old += [Block("paragraph", "dup A" if j % 2 else "dup B") for j in range(199)]
        new += [Block("paragraph", "dup A" if j % step else "dup B") for j in range(199)]
    return Document(url="u", title="t", blocks=tuple(old)), Document(url="u", title="t", blocks=tuple(new))


def test_a_duplicate_heavy_text_is_compared_coarsely_in_bounded_time_with_a_note() -> None:
    old, new = duplicate_heavy(20_000, 3)
    started = time.monotonic()
    report = diff_documents(old, new, {})
    took = time.monotonic() - started
    assert took < 3, took
    assert report is not None and report.text_changes
    assert {change.section for change in report.text_changes} == {COARSE_SECTION}
    assert "limits.diff_work" in report.extra["coarse_text_diff"]
    removed = sum(len(c.old) for c in report.text_changes)
    added = sum(len(c.new) for c in report.text_changes)
    assert added - removed == sum(1 for b in new.blocks if b.text == "dup B") - sum(1 for b in old.blocks if b.text == "dup B") + sum(1 for b in new.blocks if b.text == "dup A") - sum(1 for b in old.blocks if b.text == "dup A")


def test_the_diff_work_limit_is_a_setting_and_an_ordinary_edit_stays_exact() -> None:
    old = Document(url="u", title="t", blocks=tuple(Block("paragraph", f"Paragraph {i} about pupil data.") for i in range(20_000)))
    edited = list(old.blocks)
    for i in range(0, 20_000, 67):
        edited[i] = Block("paragraph", f"Paragraph {i} about pupil data and the Home Office.")
    new = Document(url="u", title="t", blocks=tuple(edited))
    report = diff_documents(old, new, {})
    assert report is not None and len(report.text_changes) == 299 and "coarse_text_diff" not in report.extra
    assert report.text_changes[0].words
    tight = diff_documents(old, new, {}, budget=DiffBudget(1_000))
    assert tight is not None and "coarse_text_diff" in tight.extra


def test_the_section_of_each_change_is_found_in_linear_time() -> None:
    blocks = []
    for i in range(40_000):
        blocks.append(Block("heading" if i == 0 else "paragraph", f"line {i}"))
    old = Document(url="u", title="t", blocks=tuple(blocks))
    new = Document(url="u", title="t", blocks=tuple(b if i % 2 else Block("paragraph", f"changed {i}") for i, b in enumerate(blocks) if i))
    started = time.monotonic()
    report = diff_documents(old, new, {})
    assert time.monotonic() - started < 5
    assert report is not None


# -- attachments --------------------------------------------------------------------------------


def test_six_thousand_renamed_attachments_are_paired_in_bounded_time() -> None:
    old = [Attachment(title=f"Annex {i} of the register", url=f"https://www.gov.uk/government/publications/x/annex-{i}", attachment_type="html", status="unfetched") for i in range(6000)]
    new = [Attachment(title=f"Annex {i} of the register (updated)", url=f"https://www.gov.uk/government/publications/x/annex-{i}-v2", attachment_type="html", status="unfetched") for i in range(6000)]
    started = time.monotonic()
    events = diff_attachments(old, new, {})
    took = time.monotonic() - started
    assert took < 5, took
    assert len(events) == 6000 and {e.op for e in events} == {"moved"}


def test_a_page_listing_too_many_files_fetches_none_of_them_and_fails(hostile: Hostile) -> None:
    files = [{"attachment_type": "file", "id": f"f{i}", "title": f"File {i}", "url": f"{hostile.base}/media/f{i}/file.csv", "content_type": "text/csv"} for i in range(3000)]
    hostile.b_normal(attachments=files)
    asked = len(hostile.server.requests)
    result = hostile.run()
    requests = len(hostile.server.requests) - asked
    assert requests <= 3, requests  # the two API items (and robots.txt at most)
    failure = next(line for line in result.stdout.splitlines() if line.startswith("  failed: "))
    assert failure.startswith(f"  failed: {NAMES['B']}: ") and "3,000 attachments" in failure and "limits.attachments = 200" in failure


# -- discovery ----------------------------------------------------------------------------------


def search_page(first: int, count: int) -> bytes:
    results = [{"title": f"Publication {i}", "link": f"/government/publications/p{i}"} for i in range(first, first + count)]
    return json.dumps({"results": results, "total": count, "start": 0}).encode()


def test_a_search_answering_more_than_max_results_adds_at_most_max_results(hostile: Hostile) -> None:
    hostile.write_config(discover=[{"query": "pupil data", "max_results": 100}])
    hostile.fault(SEARCH, Fault(kind="body", body=search_page(0, 5000), content_type="application/json"))
    result = hostile.run()
    targets = hostile.sql("SELECT count(*) FROM targets WHERE source = 'discovered'")[0][0]
    assert targets == 100
    assert "more than max_results = 100" in result.stderr


def test_an_endless_search_adds_at_most_the_new_target_cap_per_run(hostile: Hostile) -> None:
    hostile.write_config(discover=[{"query": "pupil data", "max_results": 100}], extra="[limits]\nnew_targets = 20")
    hostile.state.search([])
    hostile.run()  # the search's silent baseline
    for run in range(2):
        hostile.server.clear_faults()
        hostile.fault(SEARCH, Fault(kind="body", body=search_page(1000 * (run + 1), 100), content_type="application/json"))
        result = hostile.run()
        assert "limits.new_targets = 20" in result.stderr
    assert hostile.sql("SELECT count(*) FROM targets WHERE source = 'discovered'")[0][0] == 40
    assert len([c for c in hostile.changes() if c["kind"] == "new"]) == 40

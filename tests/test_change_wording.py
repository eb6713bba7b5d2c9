"""The words of an entry, exactly: what each misleading case used to say and now says.

* a new quarterly register beside last quarter's (still listed) is compared with it, and is not
  said to have moved or been renamed ("previously at …", "previously titled …");
* a file replaced at a new address is "File replaced at a new address", not "Moved";
* sheets with no changed rows get no heading, and a Word document's tables are tables, not sheets;
* the title and the entry count the same things the same way;
* a title is "<target name> — <what happened>" in at most 120 characters;
* the summary is not said again and again on a change page;
* watch-list terms are marked where they occur, as escaped text in ``<mark>``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from monitor.compare.document import diff_documents
from monitor.compare.report import HeadlinePart
from monitor.compare.wording import entry_title
from monitor.model import Attachment, Block, ChangeNote, Document, FileContent, Section, Table
from monitor.publish.atom import FeedEntry, render_entry_html
from monitor.publish.pages import render_change_page

NOTES = (ChangeNote("2026-01-10T09:30:00.000+00:00", "First published."),)
HEADER = ("Reference", "Organisation", "Purpose")


def doc(**kw) -> Document:
    return replace(Document(url="https://www.gov.uk/government/publications/dfe-external-data-shares", title="DfE external data shares", change_notes=NOTES, has_change_history=True), **kw)


def register(*rows: tuple[str, str, str], sheets: tuple[str, ...] = ("DSAP approved shares", "Police")) -> FileContent:
    return FileContent(format="ods", tables=tuple(Table(name, HEADER, tuple(rows) if i == 0 else (("PO1", "Northshire Police", "Safeguarding"),)) for i, name in enumerate(sheets)))


def file(title: str, url: str, sha: str) -> Attachment:
    return Attachment(title=title, url=url, sha256=sha, filename=url.rsplit("/", 1)[-1])


def unstyled(html: str) -> str:
    """The markup without its inline styles (they are tested on their own)."""
    return re.sub(r' style="[^"]*"', "", html)


def entry_for(report, title: str = "DfE external data shares — x", terms: tuple[str, ...] = ()) -> FeedEntry:
    return FeedEntry(
        feed_id="tag:example.org,2026-12-10:dfe-monitor/change/1",
        title=title,
        url="https://www.gov.uk/government/publications/dfe-external-data-shares",
        category="release-register",
        kind=report.kind,
        detected_at=datetime(2026, 12, 10, 9, 30, tzinfo=UTC),
        summary=report.summary,
        silent_edit=report.silent_edit,
        terms=terms,
        details=report.to_dict(),
    )


APRIL = file("DfE external data shares: April to June 2026", "https://assets.publishing.service.gov.uk/media/a1/April_to_June_2026.ods", "sha-apr")
JULY = file("DfE external data shares: July to September 2026", "https://assets.publishing.service.gov.uk/media/b2/July_to_September_2026.ods", "sha-jul")
ROW = ("DS00001", "Northfield Borough Council", "Evaluating a programme")
NEW_ROW = ("DS00002", "Home Office", "Locating a child")


def test_a_new_quarter_beside_the_last_is_compared_with_it_and_not_said_to_have_moved():
    files = {"sha-apr": register(ROW), "sha-jul": register(ROW, NEW_ROW)}
    report = diff_documents(doc(attachments=(APRIL,)), doc(attachments=(JULY, APRIL)), files, terms=("Home Office",))
    assert report is not None
    assert report.headline == "new file: DfE external data shares: July to September 2026 (1 row added)"
    html = render_entry_html(entry_for(report))
    assert "previously at" not in html and "previously titled" not in html
    assert "<strong>New file:</strong>" in html
    assert "compared with the previous edition, “DfE external data shares: April to June 2026” (still listed)" in html
    # the page's own name is not said twice in the title
    title = entry_title("DfE external data shares", report.headline_parts, ", no change note")
    assert title == "DfE external data shares — new file: July to September 2026 (1 row added), no change note"


def test_sheets_without_changed_rows_get_no_heading():
    files = {"sha-apr": register(ROW), "sha-jul": register(ROW, NEW_ROW)}
    report = diff_documents(doc(attachments=(APRIL,)), doc(attachments=(JULY, APRIL)), files)
    html = render_entry_html(entry_for(report))
    assert "Sheet “DSAP approved shares” (rows identified by “Reference”)" in html
    assert "“Police”" not in html  # nothing changed there


def test_a_pdf_whose_content_changed_at_a_new_address_is_replaced_not_moved():
    old_pdf = file("School census 2026 to 2027: guide", "https://assets.publishing.service.gov.uk/media/c3/guide.pdf", "sha-1")
    new_pdf = file("School census 2026 to 2027: guide", "https://assets.publishing.service.gov.uk/media/d4/guide_v1.1.pdf", "sha-2")
    files = {
        "sha-1": FileContent(format="pdf", sections=(Section("1", "Introduction", ("Schools send the census termly.",)),)),
        "sha-2": FileContent(format="pdf", sections=(Section("1", "Introduction", ("Schools send the census termly.",)), Section("2", "Nationality", ("Record nationality.",)))),
    }
    report = diff_documents(doc(attachments=(old_pdf,)), doc(attachments=(new_pdf,)), files)
    assert report is not None
    assert report.headline == "file replaced at a new address: School census 2026 to 2027: guide (section 2 Nationality added)"
    html = unstyled(render_entry_html(entry_for(report)))
    assert "<strong>File replaced at a new address:</strong>" in html and "Moved:" not in html
    assert "previously at <a href=\"https://assets.publishing.service.gov.uk/media/c3/guide.pdf\">" in html


def test_a_word_documents_tables_are_tables_and_counts_agree_between_title_and_entry():
    notice = file("Privacy notice for pupils (model document)", "https://assets.publishing.service.gov.uk/media/e5/notice.docx", "sha-a")
    changed = replace(notice, sha256="sha-b")
    table = ("Data shared", "Shared with")
    before = FileContent(
        format="docx",
        sections=(Section("", "How long we retain pupil data", ("We keep data until age 25.",)), Section("", "Complaints", ("Write to us.",))),
        tables=(Table("Who we share with: table 1", table, (("Census", "DfE"),)),),
    )
    after = FileContent(
        format="docx",
        sections=(Section("", "How long we retain pupil data", ("We keep data for 6 years.",)),),
        tables=(Table("Who we share with: table 1", table, (("Census", "DfE"), ("Addresses", "Home Office"))),),
    )
    report = diff_documents(doc(attachments=(notice,)), doc(attachments=(changed,)), {"sha-a": before, "sha-b": after}, terms=("retention", "Home Office"))
    assert report is not None
    assert report.headline == "file replaced: Privacy notice for pupils (model document) (1 row added; section Complaints removed; 1 section changed)"
    [event] = report.attachments
    assert event.file_summary == "1 row added in 'Who we share with: table 1'; section How long we retain pupil data changed; section Complaints removed"
    html = render_entry_html(entry_for(report))
    assert "Table “Who we share with: table 1”" in html and "Sheet “" not in html
    assert report.terms == ("retention", "Home Office")


def test_titles_are_at_most_120_characters_and_say_what_happened():
    cbds = [
        HeadlinePart("file replaced: Common basic data set (CBDS) database (1 row removed, 1 changed)", "", "file replaced (1 row removed, 1 changed)", "Common basic data set (CBDS) database"),
        HeadlinePart(
            "file replaced at a new address: School census 2026 to 2027: guide (section 3.4 Pupil nationality and country of birth added; 1 section changed)",
            "",
            "file replaced at a new address (section 3.4 Pupil nationality and country of birth added; 1 section changed)",
            "School census 2026 to 2027: guide",
        ),
    ]
    # was: the whole 280-character headline after the name
    assert entry_title("Common basic data set (CBDS) database", cbds, ", no change note") == (
        "Common basic data set (CBDS) database — file replaced (1 row removed, 1 changed); and 1 more change, no change note"
    )
    long_name = "Common basic data set (CBDS) database and the supporting technical specification for schools and local authorities"
    title = entry_title(long_name, cbds[:1], ", no change note")
    assert title == "Common basic data set (CBDS) database and the supporting te… — file replaced (1 row removed, 1 changed), no change note"
    assert len(title) <= 120
    assert entry_title("Privacy information: EYFS to key stage 3", [HeadlinePart("paragraph added", "")], ", no change note") == (
        "Privacy information: EYFS to key stage 3 — paragraph added, no change note"
    )
    many = [HeadlinePart(f"{kind} added", "") for kind in ("heading", "paragraph", "list item", "table row")]
    assert entry_title("How DfE shares personal data", many) == "How DfE shares personal data — heading added; paragraph added; list item added; table row added"
    assert entry_title("x" * 200, [HeadlinePart("y" * 200, "")]).count("…") == 2
    assert len(entry_title("x" * 200, [HeadlinePart("y" * 200, "")])) == 120


def test_the_summary_is_shown_once_and_only_when_it_adds_to_the_title():
    old = doc(blocks=(Block("heading", "Who we share data with", 2), Block("paragraph", "We share data with schools.")))
    new = replace(old, blocks=(*old.blocks, Block("paragraph", "We share nationality with the Home Office.")))
    report = diff_documents(old, new, {}, terms=("Home Office", "nationality"))
    assert report is not None and report.summary == "Paragraph added in 'Who we share data with'."
    title = "Privacy information — paragraph added, no change note"
    page = render_change_page(entry_for(report, title=title, terms=report.terms))
    assert page.count("Paragraph added in") == 1
    assert page.count("No change note: silent edit.") == 1
    same = replace(entry_for(report, title="Privacy information — paragraph added in 'Who we share data with', no change note"))
    assert "Paragraph added in" not in render_entry_html(same)


def test_terms_are_marked_where_they_occur_and_stay_escaped():
    old = doc(blocks=(Block("paragraph", "We share data with schools."),))
    new = replace(old, blocks=(*old.blocks, Block("paragraph", "We share <b>nationality</b> with the Home Office's <script>x</script> team.")))
    report = diff_documents(old, new, {}, terms=("Home Office", "nationality"))
    assert report is not None and report.terms == ("Home Office", "nationality")
    html = unstyled(render_entry_html(entry_for(report, terms=report.terms)))
    assert "<ins>We share &lt;b&gt;<mark>nationality</mark>&lt;/b&gt; with the <mark>Home Office&#x27;s</mark> &lt;script&gt;x&lt;/script&gt; team.</ins>" in html
    page = unstyled(render_change_page(entry_for(report, terms=report.terms)))
    assert "<mark>Home Office&#x27;s</mark>" in page and "<script>" not in page

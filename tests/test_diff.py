"""Document diffs: what changed, silent edits, attachment lifecycle, watch-list terms, headlines."""

from __future__ import annotations

from dataclasses import replace

from monitor.compare.document import diff_documents, new_change_notes
from monitor.compare.terms import find_terms
from monitor.model import (
    Attachment,
    Block,
    ChangeNote,
    Document,
    FileContent,
    LinkedDocument,
    Table,
    Withdrawn,
)

TERMS = ("Home Office", "nationality", "country of birth", "police")
NOTES = (ChangeNote("2026-01-10T09:30:00.000+00:00", "First published."),)


def doc(**kw) -> Document:
    base = Document(
        url="https://www.gov.uk/privacy",
        title="Privacy information: early years foundation stage to key stage 3",
        summary="How we use pupil information.",
        blocks=(
            Block("heading", "Who we share pupil information with", 2),
            Block("paragraph", "We share information with local authorities."),
            Block("paragraph", "We do not share information with anyone else without consent."),
        ),
        change_notes=NOTES,
        has_change_history=True,
    )
    return replace(base, **kw)


def test_identical_documents_give_nothing():
    assert diff_documents(doc(), doc(), {}) is None


def test_paragraph_slipped_in_without_a_change_note_is_a_silent_edit():
    old = doc()
    new = doc(blocks=(*old.blocks[:2], Block("paragraph", "We share nationality and country of birth with the Home Office."), old.blocks[2]))
    report = diff_documents(old, new, {}, terms=TERMS)
    assert report is not None
    assert report.silent_edit is True
    assert report.headline == "paragraph added"
    [change] = report.text_changes
    assert change.op == "added" and change.section == "Who we share pupil information with"
    assert change.new == ("We share nationality and country of birth with the Home Office.",)
    assert report.terms == ("Home Office", "nationality", "country of birth")


def test_edit_with_a_new_change_note_is_not_silent():
    old = doc()
    new = doc(
        blocks=(old.blocks[0], Block("paragraph", "We share information with local authorities and the police."), old.blocks[2]),
        change_notes=(ChangeNote("2026-11-01T10:00:00.000+00:00", "Added police."), *NOTES),
    )
    report = diff_documents(old, new, {}, terms=TERMS)
    assert report is not None and report.silent_edit is False
    assert report.new_notes == (ChangeNote("2026-11-01T10:00:00.000+00:00", "Added police."),)
    [change] = report.text_changes
    assert change.op == "changed"
    assert ("insert", " and the police") in change.words
    assert report.terms == ("police",)
    assert report.headline == "paragraph changed"


def test_unknown_when_the_page_has_no_change_history():
    old = doc(change_notes=(), has_change_history=False)
    new = replace(old, title="New title")
    report = diff_documents(old, new, {})
    assert report is not None and report.silent_edit is None and report.headline == "title changed"


def test_touched_up_old_note_is_not_a_new_note():
    old = (ChangeNote("2026-01-10T09:30:00Z", "Frist published."),)
    new = (ChangeNote("2026-01-10T09:30:00Z", "First published."),)
    assert new_change_notes(old, new) == ()
    newer = (ChangeNote("2026-02-01T09:30:00Z", "Updated."), *new)
    assert new_change_notes(old, newer) == (ChangeNote("2026-02-01T09:30:00Z", "Updated."),)


def test_only_metadata_changes_give_nothing():
    assert diff_documents(doc(), doc(public_updated_at="2026-12-01T00:00:00Z"), {}) is None


def test_withdrawn():
    report = diff_documents(doc(), doc(withdrawn=Withdrawn("Replaced by the 2027 guide.", "2026-10-01T10:00:00Z")), {})
    assert report is not None and report.kind == "withdrawn"
    assert report.withdrawn_explanation == "Replaced by the 2027 guide."
    assert report.headline == "withdrawn"


def test_collection_gains_a_document():
    old = doc(linked_documents=(LinkedDocument("NPD user guide", "/a", "Guidance"),))
    new = doc(
        linked_documents=(*old.linked_documents, LinkedDocument("NPD requests approved in 2026", "/b", "Data")),
        change_notes=(ChangeNote("2026-11-01T00:00:00Z", "Added 2026 requests."), *NOTES),
    )
    report = diff_documents(old, new, {})
    assert report is not None
    assert report.documents_added == (LinkedDocument("NPD requests approved in 2026", "/b", "Data"),)
    assert report.headline == "document added: NPD requests approved in 2026"
    assert report.silent_edit is False


def sheet(rows):
    return FileContent("ods", tables=(Table("DSAP approved shares", ("Reference", "Organisation", "Purpose"), tuple(rows)),))


ROWS = [("DS00750", "University of Leeds", "Attainment research"), ("DS00751", "Home Office", "Immigration enforcement"), ("DS00752", "Ofsted", "Inspection")]


def ods(asset, sha, title="DfE external data shares: April to June 2026"):
    return Attachment(title, f"https://assets.publishing.service.gov.uk/media/{asset}/shares.ods", "application/vnd.oasis.opendocument.spreadsheet", "shares.ods", 4000, sha)


def test_register_replaced_in_place_reports_rows():
    old = doc(attachments=(ods("a1", "sha-old"),))
    new = doc(attachments=(ods("a1", "sha-new"),))
    files = {"sha-old": sheet(ROWS), "sha-new": sheet([ROWS[0], ("DS00751", "Home Office", "Immigration enforcement and removals")])}
    report = diff_documents(old, new, files, terms=TERMS)
    assert report is not None and report.silent_edit is True
    [event] = report.to_dict()["attachments"]
    assert event["op"] == "replaced"
    table = event["file_diff"]["tables"][0]
    assert [r["key"] for r in table["rows_changed"]] == ["DS00751"]
    assert table["rows_changed"][0]["cells"] == [{"column": "Purpose", "before": "Immigration enforcement", "after": "Immigration enforcement and removals"}]
    assert [r["Reference"] for r in table["rows_removed"]] == ["DS00752"]
    assert report.headline.startswith("file replaced: DfE external data shares: April to June 2026 (1 row removed, 1 changed")
    assert table["rows_changed"][0]["row"]["Organisation"] == "Home Office"
    assert "Home Office" in report.terms  # a changed row of a Home Office share counts


def test_new_quarterly_workbook_is_compared_with_last_quarter():
    q1 = ods("a1", "sha-q1", "DfE external data shares: January to March 2026")
    q2 = replace(ods("a2", "sha-q2", "DfE external data shares: April to June 2026"), url="https://assets.publishing.service.gov.uk/media/a2/shares-q2.ods", filename="shares-q2.ods")
    old = doc(attachments=(q1,))
    new = doc(attachments=(q2, q1), change_notes=(ChangeNote("2026-07-01T00:00:00Z", "Added April to June."), *NOTES))
    files = {"sha-q1": sheet(ROWS[:2]), "sha-q2": sheet(ROWS)}
    report = diff_documents(old, new, files)
    assert report is not None and report.silent_edit is False
    [event] = report.attachments
    assert event.op == "added" and event.compared_with == "DfE external data shares: January to March 2026"
    assert [r["Reference"] for r in event.file_diff["tables"][0]["rows_added"]] == ["DS00752"]
    assert report.headline.startswith("new file: DfE external data shares: April to June 2026 (1 row added")


def test_pdf_replaced_at_a_new_url_is_one_event_not_two():
    old_pdf = Attachment("School census 2026 to 2027: guide", "https://a/media/1/census_guide.pdf", "application/pdf", "census_guide.pdf", 1000, "p1")
    new_pdf = Attachment("School census 2026 to 2027: guide", "https://a/media/2/census_guide_v1.1.pdf", "application/pdf", "census_guide_v1.1.pdf", 1100, "p2")
    report = diff_documents(doc(attachments=(old_pdf,)), doc(attachments=(new_pdf,)), {})
    assert report is not None
    [event] = report.attachments
    assert (event.op, event.url, event.old_url) == ("moved", new_pdf.url, old_pdf.url)


def test_format_twins_are_reported_once():
    xlsx_old = Attachment("CBDS database", "https://a/media/1/cbds.xlsx", None, "cbds.xlsx", 10, "x1")
    ods_old = Attachment("CBDS database", "https://a/media/1/cbds.ods", None, "cbds.ods", 10, "o1")
    xlsx_new, ods_new = replace(xlsx_old, sha256="x2"), replace(ods_old, sha256="o2")
    report = diff_documents(doc(attachments=(xlsx_old, ods_old)), doc(attachments=(xlsx_new, ods_new)), {})
    assert report is not None
    [event] = report.attachments
    assert event.op == "replaced" and event.formats == ("xlsx", "ods")


def test_file_added_removed_and_broken_link():
    a = Attachment("Model privacy notice for pupils", "https://a/media/1/pupils.docx", None, "pupils.docx", 10, "d1")
    b = Attachment("Model privacy notice for the workforce", "https://a/media/2/workforce.docx", None, "workforce.docx", 10, "d2")
    c = Attachment("Model privacy notice for governors", "https://a/media/3/governors.docx", None, "governors.docx", 10, "d3")
    report = diff_documents(doc(attachments=(a, b)), doc(attachments=(replace(a, sha256=None, status="missing"), c)), {})
    assert report is not None
    assert [(e.op, e.title) for e in report.attachments] == [
        ("missing", "Model privacy notice for pupils"),
        ("added", "Model privacy notice for governors"),
        ("removed", "Model privacy notice for the workforce"),
    ]


def test_unreadable_file_still_compared_by_hash():
    a = Attachment("Guide", "https://a/media/1/guide.pdf", None, "guide.pdf", 10, "g1")
    files = {"g1": FileContent("pdf", error="refused: too large"), "g2": FileContent("pdf", error="refused: too large")}
    report = diff_documents(doc(attachments=(a,)), doc(attachments=(replace(a, sha256="g2"),)), files)
    assert report is not None
    [event] = report.attachments
    assert event.op == "replaced" and "could not be read" in event.note and event.file_diff is None


def test_terms_match_whole_words_case_insensitively():
    assert find_terms("Shared with the HOME  office and police forces", TERMS) == ("Home Office", "police")
    assert find_terms("policeman nationalityx", TERMS) == ()


def test_new_quarter_is_compared_with_the_latest_earlier_quarter():
    q1 = replace(ods("a1", "sha-q1", "DfE external data shares: January to March 2026"), url="https://a/media/a1/q1.ods")
    q2 = replace(ods("a2", "sha-q2", "DfE external data shares: April to June 2026"), url="https://a/media/a2/q2.ods")
    q3 = replace(ods("a3", "sha-q3", "DfE external data shares: July to September 2026"), url="https://a/media/a3/q3.ods")
    files = {"sha-q1": sheet(ROWS[:1]), "sha-q2": sheet(ROWS[:2]), "sha-q3": sheet(ROWS)}
    for listed in ((q1, q2), (q2, q1)):
        report = diff_documents(doc(attachments=listed), doc(attachments=(q3, *listed)), files)
        assert report is not None
        [event] = report.attachments
        assert event.compared_with == "DfE external data shares: April to June 2026"
        assert "(1 row added)" in report.headline


def test_title_dates():
    from monitor.compare.attachments import title_date

    assert title_date("DfE external data shares: April to June 2026") == (2026, 6)
    assert title_date("October to December 2025 and January 2026") == (2026, 1)
    assert title_date("School census 2026 to 2027: guide") == (2027, 12)
    assert title_date("CBDS database") is None


def test_a_file_whose_old_address_redirects_to_a_new_one_is_a_replacement():
    old_pdf = Attachment("School census guide", "https://a/media/1/guide.pdf", None, "guide.pdf", 1000, "p1")
    new_pdf = Attachment("Census guide for 2026 to 2027 (revised)", "https://a/media/2/census-2026-27-rev.pdf", None, "census-2026-27-rev.pdf", 1100, "p2")
    plain = diff_documents(doc(attachments=(old_pdf,)), doc(attachments=(new_pdf,)), {})
    assert plain is not None and [e.op for e in plain.attachments] == ["added", "removed"]
    report = diff_documents(doc(attachments=(old_pdf,)), doc(attachments=(new_pdf,)), {}, file_redirects={old_pdf.url: new_pdf.url})
    assert report is not None
    [event] = report.attachments
    assert (event.op, event.old_url, event.old_title) == ("moved", old_pdf.url, "School census guide")


def test_without_a_readable_history_public_updated_at_decides():
    old = doc(change_notes=(), has_change_history=False, public_updated_at="2026-09-01T09:30:00.000+01:00")
    edited = replace(old, blocks=(*old.blocks, Block("paragraph", "We share data with the Home Office.")))
    silent = diff_documents(old, edited, {})
    assert silent is not None and silent.silent_edit is True
    major = diff_documents(old, replace(edited, public_updated_at="2026-11-20T10:00:00.000+00:00"), {})
    assert major is not None and major.silent_edit is False
    same_instant = diff_documents(old, replace(edited, public_updated_at="2026-09-01T08:30:00Z"), {})
    assert same_instant is not None and same_instant.silent_edit is True


def test_the_same_file_refiled_at_a_new_address_is_not_news():
    old_file = Attachment("NPD data tables", "https://a/media/1/tables.ods", None, "tables.ods", 10, "same-sha")
    refiled = replace(old_file, url="https://a/media/9/tables.ods")
    assert diff_documents(doc(attachments=(old_file,)), doc(attachments=(refiled,)), {}) is None
    retitled = replace(refiled, title="NPD data tables (updated)")
    report = diff_documents(doc(attachments=(old_file,)), doc(attachments=(retitled,)), {})
    assert report is not None and report.attachments  # a new title is worth saying

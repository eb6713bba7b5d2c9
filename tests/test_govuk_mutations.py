"""Changes to real GOV.UK content items are reported exactly: what happened (kind, words of the
title), whether DfE said so (silent_edit), and nothing at all for a republish that changes only
``updated_at``, ``publishing_request_id`` or the order of ``links``.

Each test mutates a copy of a production example (tests/fixtures/govuk) the way DfE's edits
change an item, reads both versions as the monitor does, and compares them. Files carry the
sha256 of their bytes as after a download; their contents are given where the test needs them.
"""

from __future__ import annotations

import random
from dataclasses import replace

from govuk_items import GOVUK, load

from monitor.compare.document import diff_documents
from monitor.compare.report import ChangeReport
from monitor.document.content_item import document_from_item
from monitor.model import Document, FileContent, Table

TERMS = ("Home Office", "nationality", "police", "retention")
LATER = "2026-12-01T09:30:00.000+00:00"


def read(item: dict) -> Document:
    doc = document_from_item(item, GOVUK + item["base_path"], base_url=GOVUK)
    # as after a run: every file downloaded, its bytes named by a stable hash of its address
    return replace(doc, attachments=tuple(replace(a, sha256=f"sha-{a.url}", status="ok") for a in doc.attachments))


def compare(old_item: dict, new_item: dict, files: dict | None = None, **kwargs) -> ChangeReport | None:
    return diff_documents(read(old_item), read(new_item), files or {}, terms=TERMS, **kwargs)


def noted(item: dict, note: str) -> dict:
    item["details"]["change_history"] = [{"public_timestamp": LATER, "note": note}, *item["details"].get("change_history", [])]
    item["public_updated_at"] = LATER
    return item


def test_a_republish_changes_nothing_a_reader_sees():
    old = load("consultation/consultation_outcome_with_featured_attachments")
    new = load("consultation/consultation_outcome_with_featured_attachments")
    new["updated_at"] = "2026-12-01T00:00:00Z"
    new["publishing_request_id"] = "another-request"
    links = list(new["links"].items())
    random.Random(4).shuffle(links)
    new["links"] = {key: list(reversed(value)) for key, value in links}
    assert compare(old, new) is None
    assert read(old).fingerprint() == read(new).fingerprint()


def test_a_silent_body_edit_in_a_detailed_guide():
    old = load("detailed_guide/detailed_guide")
    new = load("detailed_guide/detailed_guide")
    new["details"]["body"] = new["details"]["body"].replace("to non-cash benefits that are wholly or partially exempt", "to non-cash benefits that are shared with the Home Office")
    report = compare(old, new)
    assert report is not None and report.kind == "changed" and report.silent_edit is True
    assert report.headline == "paragraph changed"
    assert report.summary == "Paragraph changed in 'The basics'."
    assert report.terms == ("Home Office",)


def test_a_noted_body_edit_is_not_silent():
    old = load("detailed_guide/detailed_guide")
    new = noted(load("detailed_guide/detailed_guide"), "Clarified the basics.")
    new["details"]["body"] = new["details"]["body"].replace("The basics", "The basics of salary sacrifice")
    report = compare(old, new)
    assert report is not None and report.silent_edit is False
    assert [n.note for n in report.new_notes] == ["Clarified the basics."]
    assert report.headline == "heading changed"


def test_a_file_added_to_details_attachments():
    old = load("publication/publication-with-featured-attachments")
    new = load("publication/publication-with-featured-attachments")
    extra = dict(new["details"]["attachments"][0], id="second.pdf", title="Ex-regular personnel: 2015 update", url="https://assets.publishing.service.gov.uk/media/abc123/second.pdf", filename="second.pdf")
    new["details"]["attachments"].append(extra)
    report = compare(old, new)
    assert report is not None and report.silent_edit is True
    assert report.headline == "new file: Ex-regular personnel: 2015 update"
    [event] = report.attachments
    assert (event.op, event.url, event.formats) == ("added", "https://assets.publishing.service.gov.uk/media/abc123/second.pdf", ("pdf",))


LEGACY_BLOCK = (
    '<section class="attachment embedded" id="attachment_9"><div class="attachment-thumb">'
    '<a aria-hidden="true" class="thumbnail" href="/government/uploads/system/uploads/attachment_data/file/9/pig-movements.pdf"><img alt="" src="thumb.png"></a></div>'
    '<div class="attachment-details"><h2 class="title"><a href="/government/uploads/system/uploads/attachment_data/file/9/pig-movements.pdf">Pig movements: 2015 update</a></h2>'
    '<p class="metadata"><span class="type"><abbr title="Portable Document Format">PDF</abbr></span>, <span class="file-size">1MB</span></p></div></section>'
)


def test_a_file_added_in_legacy_documents_markup_has_its_title_and_its_file_address():
    old = load("publication/withdrawn_publication")
    new = load("publication/withdrawn_publication")
    new["details"]["documents"].append(LEGACY_BLOCK)
    report = compare(old, new)
    assert report is not None and report.headline == "new file: Pig movements: 2015 update"
    [event] = report.attachments
    assert event.url == f"{GOVUK}/government/uploads/system/uploads/attachment_data/file/9/pig-movements.pdf"


def test_a_file_added_as_a_block_inside_a_data_sets_body():
    old = load("statistical_data_set/statistical_data_set_with_csv")
    new = load("statistical_data_set/statistical_data_set_with_csv")
    block = new["details"]["body"].split('<section class="attachment embedded" id="attachment_1286069">')[1].split("</section>")[0]
    added = block.replace("479492", "600001").replace("MOT test stations and testers", "MOT testers removed from the register")
    new["details"]["body"] = new["details"]["body"][: -len("</div>")] + f'<section class="attachment embedded" id="attachment_7">{added}</section></div>'
    report = compare(old, new)
    assert report is not None and report.silent_edit is True
    assert report.headline == "new file: MOT testers removed from the register"
    assert report.text_changes == ()  # the block is a file, not a paragraph
    [event] = report.attachments
    assert event.url.endswith("/600001/dvsa-mot-06-mot-test-stations-and-testers.csv")


def test_a_file_added_as_an_inline_link_inside_a_guides_body():
    old = load("detailed_guide/withdrawn_detailed_guide")
    new = load("detailed_guide/withdrawn_detailed_guide")
    link = '<span class="attachment-inline"><a href="/government/uploads/system/uploads/attachment_data/file/5/minutes-2012.pdf">Steering Committee: minutes, 2012</a> (<span class="type">PDF</span>, <span class="file-size">1MB</span>)</span>'
    new["details"]["body"] = new["details"]["body"].replace("For earlier minutes, please contact", f"Also read {link}. For earlier minutes, please contact")
    report = compare(old, new)
    assert report is not None
    assert [p.brief for p in report.headline_parts] == ["paragraph changed", "new file: Steering Committee: minutes, 2012"]
    [change] = report.text_changes
    assert ("insert", "Also read Steering Committee: minutes, 2012. ") in change.words  # no "(PDF, 1MB)"


def _register(rows: list[tuple[str, str]]) -> FileContent:
    return FileContent(format="csv", tables=(Table("Sheet1", ("Reference", "Organisation"), tuple(rows)),))


def test_a_csv_in_legacy_markup_replaced_at_the_same_address_is_compared_row_by_row():
    old_item = load("statistical_data_set/statistical_data_set_with_csv")
    old, new = read(old_item), read(old_item)
    url = new.attachments[0].url
    new = replace(new, attachments=(replace(new.attachments[0], sha256="sha-new"), *new.attachments[1:]))
    files = {f"sha-{url}": _register([("R1", "Council")]), "sha-new": _register([("R1", "Council"), ("HO1", "Home Office")])}
    report = diff_documents(old, new, files, terms=TERMS)
    assert report is not None and report.silent_edit is True
    assert report.headline == "file replaced: MOT test results by class of vehicle (1 row added)"
    assert report.terms == ("Home Office",)
    assert report.attachments[0].url == url and not url.endswith("/preview")


def test_a_file_inside_the_body_replaced_at_the_same_address():
    item = load("detailed_guide/withdrawn_detailed_guide")
    old, new = read(item), read(item)
    new = replace(new, attachments=(replace(new.attachments[0], sha256="sha-new"), *new.attachments[1:]))
    report = diff_documents(old, new, {})
    assert report is not None and report.headline == "file replaced: Competent Authority Steering Committee's terms of reference"
    assert report.attachments[0].op == "replaced"


def test_a_statistics_release_cancelled():
    old = load("statistics_announcement/official_statistics")
    new = load("statistics_announcement/official_statistics")
    new["details"].update(state="cancelled", cancellation_reason="The data supplier could not provide the data in time.", cancelled_at="2016-01-17T14:19:42.460Z")
    report = compare(old, new)
    assert report is not None and report.silent_edit is False  # GOV.UK states the cancellation
    assert report.headline == "release cancelled"
    assert report.summary == "Release cancelled: The data supplier could not provide the data in time."


def test_a_statistics_release_re_dated_with_and_without_a_reason():
    old = load("statistics_announcement/official_statistics")
    new = load("statistics_announcement/release_date_changed")  # 19 → 20 January, with a reason
    old["details"]["display_date"] = "19 January 2016 9:30am"
    report = compare(old, new)
    assert report is not None and report.silent_edit is False
    assert report.headline == "release date changed to 20 January 2016 9:30am"
    assert report.summary == "Release date changed from 19 January 2016 9:30am to 20 January 2016 9:30am."
    assert [n.note for n in report.new_notes] == ["Amended after inputting an error."]
    quiet = load("statistics_announcement/official_statistics")
    quiet["details"]["display_date"] = "3 March 2016 9:30am"
    report = compare(load("statistics_announcement/official_statistics"), quiet)
    assert report is not None and report.silent_edit is True
    assert report.headline == "release date changed to 3 March 2016 9:30am"


def test_a_provisional_release_confirmed():
    old = load("statistics_announcement/national_statistics")
    new = load("statistics_announcement/national_statistics")
    new["details"].update(state="confirmed", display_date="14 January 2016 9:30am")
    report = compare(old, new)
    assert report is not None
    assert report.headline == "release date confirmed; release date changed to 14 January 2016 9:30am"


def test_a_consultation_closing_date_moved_quietly_and_a_consultation_closing():
    old = load("consultation/open_consultation")
    new = load("consultation/open_consultation")
    new["details"]["closing_date"] = "2216-12-30T16:00:00+01:00"
    report = compare(old, new)
    assert report is not None and report.silent_edit is True
    assert report.headline == "closing date changed to 30 December 2216 4:00pm"
    closed = load("consultation/open_consultation")
    closed["document_type"] = "closed_consultation"
    report = compare(old, closed)
    assert report is not None and report.silent_edit is False and report.headline == "consultation closed"


def test_a_withdrawal():
    old = load("detailed_guide/detailed_guide")
    new = load("detailed_guide/detailed_guide")
    new["withdrawn_notice"] = {"explanation": "<div class=\"govspeak\"><p>Replaced by new guidance.</p></div>", "withdrawn_at": LATER}
    report = compare(old, new)
    assert report is not None and report.kind == "withdrawn" and report.silent_edit is False
    assert report.headline == "withdrawn" and report.withdrawn_explanation == "Replaced by new guidance."


def test_a_consultation_outcome_published_with_its_files():
    old = load("consultation/closed_consultation")
    new = load("consultation/closed_consultation")
    new["document_type"] = "consultation_outcome"
    new["details"]["final_outcome_detail"] = "<p>We will publish the review in 2017.</p>"
    new["details"]["final_outcome_documents"] = [LEGACY_BLOCK.replace("Pig movements: 2015 update", "Museums review: government response")]
    new["details"]["change_history"] = [{"public_timestamp": LATER, "note": "Published the government response."}]
    report = compare(old, new)
    assert report is not None and report.silent_edit is False
    assert [p.brief for p in report.headline_parts] == ["consultation outcome published", "heading added", "paragraph added", "new file: Museums review: government response"]

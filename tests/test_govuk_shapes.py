"""Real GOV.UK content items of every schema DfE publishes in read to the right title, body text,
files, change notes, dates and withdrawal (tests/fixtures/govuk: production examples from
alphagov/publishing-api). And an item of a wrong shape is a clear per-target error, never a crash."""

from __future__ import annotations

import json

import pytest
from govuk_items import GOVUK, all_items, load

from monitor.document.content_item import document_from_item
from monitor.errors import ExtractionError
from monitor.govuk.items import attachments_from_item, load_item, parent_path
from monitor.model import ChangeNote, Document, Fact


def read(name: str, parent: dict | None = None) -> Document:
    item = load(name)
    return document_from_item(load_item(json.dumps(item).encode()), GOVUK + item["base_path"], parent=parent, base_url=GOVUK)


def files(doc: Document) -> list[tuple[str, str, str | None]]:
    return [(a.title, a.url, a.content_type) for a in doc.attachments]


def texts(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks]


@pytest.mark.parametrize("path", all_items(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_real_item_reads_to_a_document_with_its_title_and_only_real_files(path):
    item = json.loads(path.read_text(encoding="utf-8"))
    doc = document_from_item(load_item(path.read_bytes()), GOVUK + item["base_path"], base_url=GOVUK)
    assert doc.title == " ".join(item["title"].split())
    assert doc.schema_name == item["schema_name"]
    for attachment in doc.attachments:
        assert attachment.title, attachment
        assert attachment.url.startswith(("https://", "http://")) and not attachment.url.endswith("/preview")
        assert "thumbnail" not in attachment.url
    assert not any("View online" in text or "Download CSV" in text for text in texts(doc))


def test_publication_with_legacy_documents_markup_takes_the_title_link_not_the_thumbnail():
    doc = read("publication/withdrawn_publication")
    assert files(doc) == [("A guide for pig keepers", f"{GOVUK}/government/uploads/system/uploads/attachment_data/file/394915/pb13647-new-pig-keepers-guide.pdf", "PDF")]
    assert doc.withdrawn is not None and doc.withdrawn.explanation.startswith("This information is now out of date.")
    assert doc.withdrawn.withdrawn_at == "2015-01-13T13:05:30Z"
    assert doc.change_notes[0] == ChangeNote("2013-09-06T10:11:28+01:00", "Published updated pig keepers guide.")
    assert any("Animal Health and Veterinary Laboratories Agency (AHVLA)." in t for t in texts(doc))


def test_publication_with_details_attachments():
    doc = read("publication/publication-with-featured-attachments")
    [attachment] = doc.attachments
    assert (attachment.title, attachment.content_type, attachment.size, attachment.filename) == ("Number of ex-regular service personnel now part of FR20", "application/pdf", 1932905, "PUBLIC_1392629965.pdf")
    assert attachment.url == "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file/315163/PUBLIC_1392629965.pdf"
    assert doc.change_notes == (ChangeNote("2014-05-29T11:48:35.000+01:00", "First published."),)


def test_data_set_csv_blocks_in_the_body_are_the_csv_files_never_their_preview_pages():
    doc = read("statistical_data_set/statistical_data_set_with_csv")
    assert [a.title for a in doc.attachments] == [
        "MOT test results by class of vehicle",
        "MOT class 1 and 2 vehicles: initial failures by defect category",
        "MOT class 3 and 4 vehicles: initial failures by defect category",
        "MOT class 5 vehicles: initial failures by defect category",
        "MOT class 7 vehicles: initial failures by defect category",
        "MOT test stations and testers",
        "Action against authorised examiners and nominated testers",
    ]
    assert doc.attachments[0].url == f"{GOVUK}/government/uploads/system/uploads/attachment_data/file/479486/dvsa-mot-01-mot-test-results-by-class-of-vehicle.csv"
    assert all(a.url.endswith(".csv") and a.attachment_type == "file" for a in doc.attachments)
    # the file blocks are files, not text: their sizes are not paragraphs that change with them
    assert not any("1.74KB" in t or "DVSA/MOT/01" in t for t in texts(doc))
    assert texts(doc)[:2] == ["About this data set", "This data set comes from data held by the Driver and Vehicle Standards Agency (DVSA)."]


def test_detailed_guide_inline_attachment_links_are_tracked_and_read_as_their_sentence():
    doc = read("detailed_guide/withdrawn_detailed_guide")
    base = f"{GOVUK}/government/uploads/system/uploads/attachment_data/file"
    assert files(doc) == [
        ("Competent Authority Steering Committee's terms of reference", f"{base}/399112/steering-committee-tor-1007.pdf", "PDF"),
        ("Competent Authority Steering Committee: minutes, 27 January 2011", f"{base}/399113/steering-committee-minutes-110127.pdf", "PDF"),
        ("Scoping study for the evaluation of EU REACH and CLP regulations final report", f"{base}/399115/eu-reach-clp-regs-report.pdf", "PDF"),
        ("Annex 1 to 4: REACH and CLP evaluation scoping study", f"{base}/399117/eu-reach-clp-regs-report-annexes.pdf", "PDF"),
    ]
    assert "Read the Competent Authority Steering Committee's terms of reference and latest minutes - Competent Authority Steering Committee: minutes, 27 January 2011" in texts(doc)
    assert doc.withdrawn is not None and doc.withdrawn.explanation == "This information has been archived as it is now out of date. For current information please go to http://www.hse.gov.uk/reach/"
    # a link to a PDF on another site is a link in a sentence, not a file of this page
    assert not any("hse.gov.uk" in a.url for a in doc.attachments)


def test_detailed_guide_table_cells_read_as_a_reader_sees_them_and_a_browse_topic_is_no_parent():
    item = load("detailed_guide/detailed_guide")
    assert parent_path(item) is None  # links.parent is the PAYE browse topic
    doc = read("detailed_guide/detailed_guide")
    rows = [b.text for b in doc.blocks if b.kind == "table_row"]
    assert rows[1] == "£350 per week | £50 of that salary | Childcare voucher to the same value | Only £300 is subject to tax and NICs, childcare vouchers are exempt from both tax and Class 1 NICs up to a limit of £55 per week"
    assert "Salary sacrifice can be financially beneficial for both employer and employee. For example, when part of an employee’s remuneration shifts from cash - on which tax and National Insurance contributions (NICs) are due - to non-cash benefits that are wholly or partially exempt." in texts(doc)
    assert len(doc.change_notes) == 3 and doc.has_change_history


def test_guide_parts_each_under_their_title():
    doc = read("guide/guide")
    headings = [b.text for b in doc.blocks if b.kind == "heading" and b.level == 2]
    assert headings[:2] == ["Overview", "Key stages"]
    assert {"Overview", "Key stage 1 and 2", "Key stage 3 and 4", "Other compulsory subjects"} <= set(headings)
    assert "All schools must have a written policy on sex education, which they must make available to parents for free." in texts(doc)
    assert "6 to 7 | Year 2 | KS1 | National tests and teacher assessments in English, maths and science | " in texts(doc)


def test_guide_part_body_in_the_multi_format_shape():
    item = load("guide/guide")
    item["details"]["parts"][0]["body"] = [{"content_type": "text/govspeak", "content": "x"}, {"content_type": "text/html", "content": "<p>Multi-format body.</p>"}]
    doc = document_from_item(item, GOVUK + item["base_path"])
    assert texts(doc)[:2] == ["Overview", "Multi-format body."]


def test_document_collection_groups_and_members():
    doc = read("document_collection/document_collection_with_single_missing_document")
    assert texts(doc) == ["One document missing from links", "The standard sets out what you must be able to do and what you must know and understand to show developed driving competence."]
    assert [(d.title, d.path, d.group) for d in doc.linked_documents] == [
        ("National standard for developed driving competence", "/government/publications/national-standard-for-developed-driving-competence", "One document missing from links")
    ]


def test_html_publication_takes_its_change_notes_from_its_parent_publication():
    item = load("html_publication/published")
    assert parent_path(item) == "/government/publications/tr4-8ee-mr-derek-mears-environmental-permit-application-advertisement"
    alone = read("html_publication/published")
    assert alone.has_change_history is False and alone.summary == ""
    parent = {"details": {"change_history": [{"public_timestamp": "2016-01-17T14:19:42.460Z", "note": "First published."}]}}
    with_parent = read("html_publication/published", parent=parent)
    assert with_parent.has_change_history and with_parent.change_notes == (ChangeNote("2016-01-17T14:19:42.460Z", "First published."),)
    assert "EPR/DB3790RD/A001" in texts(alone)
    withdrawn = read("html_publication/withdrawn")
    assert withdrawn.withdrawn is not None and withdrawn.withdrawn.explanation == "This content has been withdrawn as it is out of date."
    assert parent_path(load("html_publication/withdrawn")) == "/government/publications/apprentice-welcome-letter"


def test_manual_and_its_sections_change_notes():
    manual = read("manual/content-design")
    assert manual.change_notes[0] == ChangeNote("2014-10-06T19:49:25Z", "What is content design?: New section added.")
    assert [d.title for d in manual.linked_documents] == ["What is content design?", "User needs", "Planning content"]
    section = load("manual_section/what-is-content-design")
    assert parent_path(section) == "/guidance/content-design"
    doc = read("manual_section/what-is-content-design", parent=load("manual/content-design"))
    assert doc.has_change_history and doc.change_notes == (ChangeNote("2014-10-06T19:49:25Z", "New section added."),)
    assert [a.url.rsplit("/", 1)[-1] for a in doc.attachments] == ["introduction-section-image.jpg", "introduction-section-pdf.pdf"]
    assert texts(doc)[0] == "Designing content, not creating copy"


def test_consultations_open_closed_and_with_an_outcome():
    open_ = read("consultation/open_consultation")
    assert open_.facts == (Fact("Status", "open"), Fact("Opens", "4 November 2016 10:00am"), Fact("Closes", "16 December 2216 4:00pm"))
    closed = read("consultation/closed_consultation")
    assert closed.facts[0] == Fact("Status", "closed") and closed.has_change_history is False
    assert files(closed) == [("Museums Review Terms of Reference", f"{GOVUK}/government/uploads/system/uploads/attachment_data/file/550519/Museums_ReviewTermsofReference-versionforweb.pdf", "PDF")]
    outcome = read("consultation/consultation_outcome")
    assert outcome.facts[0] == Fact("Status", "outcome published")
    assert [a.title for a in outcome.attachments] == ["Employee Share Schemes: NIC elections - consulation response"]
    assert texts(outcome)[-2:] == ["Outcome", "This document is the response to the consultation on the ability to make National Insurance Contributions elections."]
    featured = read("consultation/consultation_outcome_with_featured_attachments")
    assert len(featured.attachments) == 4
    headings = [b.text for b in featured.blocks if b.kind == "heading"]
    assert headings == ["Feedback received", "Outcome"]
    assert "The grade standard established in the first award will be carried forward in the second and subsequent years." in texts(featured)


def test_corporate_information_page_and_answer_bodies():
    charter = read("corporate_information_page/best-practice-information-charter")
    assert "not make your personal information available for commercial use without your permission" in texts(charter)
    assert charter.has_change_history is False
    answer = read("answer/answer")
    assert texts(answer)[0] == "Gallwch ddefnyddio’r gwasanaethau canlynol gan Gyllid a Thollau Ei Mawrhydi (CThEM) ar-lein yn y Gymraeg:"


@pytest.mark.parametrize(
    ("name", "facts", "notes"),
    [
        ("statistics_announcement/official_statistics", (Fact("Release date", "20 January 2016 9:30am"), Fact("Status", "confirmed")), ()),
        ("statistics_announcement/national_statistics", (Fact("Release date", "January 2016"), Fact("Status", "provisional")), ()),
        (
            "statistics_announcement/cancelled_official_statistics",
            (Fact("Release date", "20 January 2016 9:30am"), Fact("Status", "cancelled"), Fact("Cancellation reason", "Official Statistics"), Fact("Cancelled on", "17 January 2016 2:19pm")),
            (),
        ),
        (
            "statistics_announcement/release_date_changed",
            (Fact("Release date", "20 January 2016 9:30am"), Fact("Status", "confirmed")),
            (ChangeNote("2016-01-17T14:19:42.460Z", "Amended after inputting an error."),),
        ),
    ],
)
def test_statistics_announcements_state_their_release_date_and_status(name, facts, notes):
    doc = read(name)
    assert doc.facts == facts
    assert doc.change_notes == notes and doc.has_change_history
    assert doc.blocks == () and doc.attachments == ()


WRONG = ([], 7, "text", None, {"unexpected": [1]}, True)


def _wrongly_shaped(item: dict) -> list[dict]:
    variants = []
    for key in item:
        for value in WRONG:
            variants.append({**item, key: value})
    details = item.get("details") or {}
    for key in details:
        for value in WRONG:
            variants.append({**item, "details": {**details, key: value}})
    return variants


@pytest.mark.parametrize("path", all_items(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_field_of_the_wrong_type_is_a_clear_error_or_reads_as_empty_never_a_crash(path):
    item = json.loads(path.read_text(encoding="utf-8"))
    for variant in _wrongly_shaped(item):
        try:
            loaded = load_item(json.dumps(variant).encode())
        except ExtractionError as exc:
            assert str(exc)
            continue
        doc = document_from_item(loaded, "https://www.gov.uk/x", parent=variant, base_url=GOVUK)
        assert isinstance(doc, Document)
        attachments_from_item(loaded, GOVUK)
        parent_path(loaded)


def test_details_of_the_wrong_type_is_a_per_target_error():
    item = load("publication/withdrawn_publication")
    with pytest.raises(ExtractionError, match="details is a list"):
        load_item(json.dumps({**item, "details": []}).encode())


# Today's markup of the same components (govuk_publishing_components' attachment and
# attachment_link templates), as GOV.UK renders an attachment embedded in body text.
CURRENT_MARKUP = """<div class="govspeak"><p>The register lists every request.</p>
<section class="gem-c-attachment govuk-!-display-none-print" data-module="ga4-link-tracker">
  <div class="gem-c-attachment__thumbnail"><a class="govuk-link" tabindex="-1" aria-hidden="true" href="https://assets.publishing.service.gov.uk/media/5f1/requests.csv"><svg></svg></a></div>
  <div class="gem-c-attachment__details">
    <h3 class="gem-c-attachment__title"><a class="govuk-link gem-c-attachment__link" href="https://assets.publishing.service.gov.uk/media/5f1/requests.csv">NPD requests: register</a></h3>
    <p class="gem-c-attachment__metadata"><span class="gem-c-attachment__attribute"><abbr title="Comma-separated Values" class="gem-c-attachment__abbr">CSV</abbr></span>, <span class="gem-c-attachment__attribute">12 KB</span></p>
    <p class="gem-c-attachment__metadata"><a class="govuk-link" aria-label="View NPD requests: register online" href="https://www.gov.uk/media/5f1/requests.csv/preview">View online</a></p>
  </div>
</section>
<p>Read the <span class="gem-c-attachment-link"><a class="govuk-link" href="https://assets.publishing.service.gov.uk/media/6a2/guide.pdf">NPD user guide</a> (<span class="gem-c-attachment-link__attribute"><abbr title="Portable Document Format" class="gem-c-attachment-link__abbr">PDF</abbr></span>, <span class="gem-c-attachment-link__attribute">1.2 MB</span>)</span> first.</p></div>"""


def test_current_attachment_markup_in_body_text():
    item = {"title": "NPD requests", "base_path": "/government/publications/npd", "schema_name": "publication", "details": {"body": CURRENT_MARKUP}}
    doc = document_from_item(item, f"{GOVUK}/government/publications/npd", base_url=GOVUK)
    assert files(doc) == [
        ("NPD requests: register", "https://assets.publishing.service.gov.uk/media/5f1/requests.csv", "CSV"),
        ("NPD user guide", "https://assets.publishing.service.gov.uk/media/6a2/guide.pdf", "PDF"),
    ]
    assert texts(doc) == ["The register lists every request.", "Read the NPD user guide first."]

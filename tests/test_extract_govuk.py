"""Content API items → Documents: content is read, noise is not."""

from __future__ import annotations

import json
import random

import pytest

from monitor.document.content_item import document_from_item
from monitor.errors import ExtractionError
from monitor.govuk.items import GoneItem, RedirectItem, load_item, parent_path
from monitor.model import Block, ChangeNote, LinkedDocument, document_from_json

URL = "https://www.gov.uk/government/publications/dfe-external-data-shares"


def item(**overrides):
    base = {
        "base_path": "/government/publications/dfe-external-data-shares",
        "content_id": "5e1f6c4a-0000-4000-8000-000000000001",
        "title": "DfE external data shares",
        "description": "Data shares approved by the Department for Education.",
        "document_type": "transparency",
        "schema_name": "publication",
        "public_updated_at": "2026-09-30T09:30:00.000+01:00",
        "updated_at": "2026-10-02T11:12:13.000+01:00",
        "publishing_request_id": "24601-1700000000.123-10.1.1.1-1234",
        "details": {
            "body": '<div class="govspeak"><h2>About</h2><p>Each quarter we publish the shares we approved.</p></div>',
            "change_history": [
                {"public_timestamp": "2026-09-30T09:30:00.000+01:00", "note": "Added data for April to June 2026."},
                {"public_timestamp": "2017-12-14T09:30:00.000+00:00", "note": "First published."},
            ],
            "attachments": [
                {
                    "attachment_type": "file",
                    "id": "6701",
                    "title": "DfE external data shares: April to June 2026",
                    "url": "https://assets.publishing.service.gov.uk/media/6701abc/DfE_external_data_shares_Q1.ods",
                    "content_type": "application/vnd.oasis.opendocument.spreadsheet",
                    "file_size": 48213,
                    "filename": "DfE_external_data_shares_Q1.ods",
                },
                {
                    "attachment_type": "html",
                    "id": "6702",
                    "title": "How we decide",
                    "url": "/government/publications/dfe-external-data-shares/how-we-decide",
                },
            ],
            "featured_attachments": ["6701", "6702"],
        },
        "links": {
            "organisations": [{"title": "Department for Education", "base_path": "/government/organisations/department-for-education"}],
            "taxons": [{"title": "Data collection", "base_path": "/education/data"}, {"title": "Privacy", "base_path": "/privacy"}],
        },
    }
    base.update(overrides)
    return base


def test_reads_title_summary_body_attachments_and_notes():
    doc = document_from_item(item(), URL, base_url="https://www.gov.uk")
    assert doc.title == "DfE external data shares"
    assert doc.summary == "Data shares approved by the Department for Education."
    assert doc.blocks == (Block("heading", "About", 2), Block("paragraph", "Each quarter we publish the shares we approved."))
    assert [a.title for a in doc.attachments] == ["DfE external data shares: April to June 2026", "How we decide"]
    assert doc.attachments[0].size == 48213 and doc.attachments[0].attachment_type == "file"
    assert doc.attachments[1].url == "https://www.gov.uk/government/publications/dfe-external-data-shares/how-we-decide"
    assert doc.change_notes[0] == ChangeNote("2026-09-30T09:30:00.000+01:00", "Added data for April to June 2026.")
    assert doc.has_change_history is True
    assert doc.withdrawn is None


def test_volatile_fields_never_change_the_document():
    first = document_from_item(item(), URL)
    noisy = item(updated_at="2026-11-28T00:00:00Z", publishing_request_id="other")
    links = noisy["links"]
    noisy["links"] = {k: list(reversed(v)) for k, v in reversed(list(links.items()))}
    random.Random(4).shuffle(noisy["links"]["taxons"])
    assert document_from_item(noisy, URL).fingerprint() == first.fingerprint()


def test_document_round_trips_through_json():
    doc = document_from_item(item(withdrawn_notice={"explanation": "<p>Replaced.</p>", "withdrawn_at": "2026-10-01T10:00:00Z"}), URL)
    assert document_from_json(doc.to_json()) == doc


def test_withdrawn_notice():
    doc = document_from_item(item(withdrawn_notice={"explanation": '<div class="govspeak"><p>This has been replaced by <a href="/x">the 2027 guide</a>.</p></div>', "withdrawn_at": "2026-10-01T10:00:00Z"}), URL)
    assert doc.withdrawn is not None
    assert doc.withdrawn.explanation == "This has been replaced by the 2027 guide."
    assert doc.withdrawn.withdrawn_at == "2026-10-01T10:00:00Z"


def test_html_publication_takes_change_notes_from_its_parent():
    child = item(
        base_path="/government/publications/privacy-information/privacy-information",
        schema_name="html_publication",
        details={"body": "<p>We collect your name.</p>", "headers": []},
        links={"parent": [{"base_path": "/government/publications/privacy-information", "title": "Privacy information"}]},
    )
    assert parent_path(child) == "/government/publications/privacy-information"
    without = document_from_item(child, URL)
    assert without.has_change_history is False and without.change_notes == ()
    parent = item(details={"change_history": [{"public_timestamp": "2026-01-01T00:00:00Z", "note": "Updated."}]})
    with_parent = document_from_item(child, URL, parent=parent)
    assert with_parent.has_change_history is True
    assert with_parent.change_notes == (ChangeNote("2026-01-01T00:00:00Z", "Updated."),)


def test_collection_documents_in_group_order():
    collection = item(
        schema_name="document_collection",
        details={
            "body": "<p>About the NPD.</p>",
            "collection_groups": [
                {"title": "Guidance", "documents": ["b", "a"]},
                {"title": "Data", "documents": ["c"]},
            ],
        },
        links={
            "documents": [
                {"content_id": "a", "title": "NPD user guide", "base_path": "/a"},
                {"content_id": "c", "title": "Data tables", "base_path": "/c"},
                {"content_id": "b", "title": "How to apply", "base_path": "/b"},
                {"content_id": "z", "title": "Ungrouped", "base_path": "/z"},
            ]
        },
    )
    doc = document_from_item(collection, URL)
    assert doc.linked_documents == (
        LinkedDocument("How to apply", "/b", "Guidance"),
        LinkedDocument("NPD user guide", "/a", "Guidance"),
        LinkedDocument("Data tables", "/c", "Data"),
        LinkedDocument("Ungrouped", "/z", ""),
    )


def test_manual_change_notes_and_sections():
    manual = item(
        schema_name="manual",
        details={
            "body": "<p>How to complete the census.</p>",
            "change_notes": [{"base_path": "/guidance/x/submit", "title": "Submit your data", "change_note": "Dates added.", "published_at": "2026-05-01T10:00:00Z"}],
            "child_section_groups": [{"title": "Contents", "child_sections": [{"title": "Submit your data", "base_path": "/guidance/x/submit"}]}],
        },
    )
    doc = document_from_item(manual, URL)
    assert doc.change_notes == (ChangeNote("2026-05-01T10:00:00Z", "Submit your data: Dates added."),)
    assert doc.linked_documents == (LinkedDocument("Submit your data", "/guidance/x/submit", "Contents"),)


def test_hostile_markup_becomes_text_or_nothing():
    body = (
        "<p>Quoted: &lt;script&gt;alert(1)&lt;/script&gt;</p>"
        "<script>alert('live')</script><iframe src='https://evil.example'></iframe>"
        "<p><a href='javascript:alert(1)'>Click</a> <img src=x onerror=alert(1)> <svg onload=alert(1)><text>svg</text></svg>done</p>"
    )
    doc = document_from_item(item(details={"body": body}), URL)
    texts = [b.text for b in doc.blocks]
    assert texts == ["Quoted: <script>alert(1)</script>", "Click done"]


def test_legacy_documents_field():
    legacy = item(details={"body": "", "documents": ['<section class="attachment"><h2 class="title"><a href="/government/uploads/system/uploads/attachment_data/file/123/register.ods">Register</a></h2></section>']})
    doc = document_from_item(legacy, URL, base_url="https://www.gov.uk")
    assert [(a.title, a.url, a.attachment_type) for a in doc.attachments] == [
        ("Register", "https://www.gov.uk/government/uploads/system/uploads/attachment_data/file/123/register.ods", "file")
    ]


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{truncated", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"error": "not found"}', "no title or base_path"),
        (b"<html>Sorry, there is a problem with the service</html>", "not valid JSON"),
    ],
)
def test_non_items_are_suspect(body, message):
    with pytest.raises(ExtractionError, match=message) as caught:
        load_item(body)
    assert caught.value.suspect


def test_gone_and_redirect_items():
    with pytest.raises(GoneItem):
        load_item(json.dumps({"schema_name": "gone", "base_path": "/x"}).encode())
    with pytest.raises(RedirectItem) as caught:
        load_item(json.dumps({"schema_name": "redirect", "base_path": "/x", "redirects": [{"path": "/x", "destination": "/y"}]}).encode())
    assert caught.value.destination == "/y"

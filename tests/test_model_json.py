"""A Document's stored JSON is built by hand for speed; it must be exactly what
``dataclasses.asdict`` gives (stored versions and fingerprints depend on it)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest
from govuk_items import GOVUK, all_items

from monitor.document.content_item import document_from_item
from monitor.govuk.items import load_item
from monitor.model import (
    Attachment,
    Block,
    ChangeNote,
    Document,
    Fact,
    LinkedDocument,
    Withdrawn,
    canonical_json,
    document_dict,
    document_from_json,
)

FULL = Document(
    url="https://www.gov.uk/x",
    title="T",
    summary="S",
    blocks=(Block("heading", "H", 2), Block("paragraph", "P")),
    attachments=(Attachment("A", "https://assets/x.csv", "text/csv", "x.csv", 12, "ab" * 32, "missing", "file"),),
    change_notes=(ChangeNote("2024-01-01T00:00:00Z", "First published."),),
    linked_documents=(LinkedDocument("L", "/l", "Group"),),
    facts=(Fact("Release date", "1 May"),),
    public_updated_at="2024-01-01T00:00:00Z",
    withdrawn=Withdrawn("Gone", "2024-02-01"),
    base_path="/x",
    content_id="c",
    schema_name="publication",
    document_type="guidance",
    source="html",
    has_change_history=True,
    extras={"parent_path": "/p", "nested": {"a": [1, 2]}},
)


@pytest.mark.parametrize("document", [FULL, replace(FULL, withdrawn=None, extras={}), Document(url="u", title="t")], ids=["full", "plain", "empty"])
def test_document_dict_is_asdict(document):
    assert document_dict(document) == asdict(document)
    assert document.to_json() == canonical_json(asdict(document))
    assert document_from_json(document.to_json()) == document


def test_the_copy_is_a_copy():
    data = document_dict(FULL)
    data["extras"]["nested"]["a"].append(3)
    data["blocks"][0]["text"] = "changed"
    assert FULL.extras["nested"]["a"] == [1, 2] and FULL.blocks[0].text == "H"
    assert json.loads(FULL.to_json())["extras"]["nested"]["a"] == [1, 2]


@pytest.mark.parametrize("path", all_items(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_real_content_item_serialises_as_asdict_would(path):
    item = json.loads(path.read_text(encoding="utf-8"))
    document = document_from_item(load_item(path.read_bytes()), GOVUK + item["base_path"], base_url=GOVUK)
    assert document.to_json() == canonical_json(asdict(document))

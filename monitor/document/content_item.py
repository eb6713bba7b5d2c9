"""A GOV.UK Content API item (JSON) → Document.

Only fields that carry content are read: title, description, body text, files, change notes,
dates and status (``facts``), withdrawal, collection membership. Which fields those are for each
schema is decided in ``monitor.govuk.items`` (shared with the spider); fields that change on
their own — ``updated_at``, ``publishing_request_id``, the order and expansion of ``links`` —
are never read, so they can never cause a change.

Each piece of body HTML is parsed once: its files are read from the tree, then attachment markup
is reduced to what a sentence says (a block's file is a file, not a paragraph whose "1.74KB"
changes with it), then its text becomes blocks.
"""

from __future__ import annotations

from typing import Any

from monitor.document.facts import facts_of
from monitor.document.html import blocks_from_html, strip_noise
from monitor.document.item_notes import change_notes_of
from monitor.govuk.attachments import components, strip_attachment_markup
from monitor.govuk.items import attachments_from_item, body_fragments, list_of, mapping_of, text_of
from monitor.govuk.markup import clean_text, parse_html
from monitor.model import Block, Document, LinkedDocument, Withdrawn


def document_from_item(item: dict[str, Any], url: str, parent: dict[str, Any] | None = None, base_url: str = "") -> Document:
    details = mapping_of(item.get("details"))
    fragments = body_fragments(item)
    parsed = [(root, components(root)) for root in (parse_html(fragment.html) for fragment in fragments)]
    attachments = attachments_from_item(item, base_url, parsed)
    blocks: list[Block] = []
    for fragment, (root, found) in zip(fragments, parsed, strict=True):
        if fragment.heading:
            blocks.append(Block("heading", fragment.heading, 2))
        strip_attachment_markup(root, found)
        strip_noise(root)
        blocks.extend(blocks_from_html(root))
    notes, has_history = change_notes_of(item, parent)
    return Document(
        url=url,
        title=clean_text(text_of(item.get("title"))),
        summary=clean_text(text_of(item.get("description"))),
        blocks=tuple(blocks),
        attachments=attachments,
        change_notes=notes,
        linked_documents=_linked_documents(item, details),
        facts=facts_of(item),
        public_updated_at=text_of(item.get("public_updated_at")) or None,
        withdrawn=_withdrawn(item),
        base_path=text_of(item.get("base_path")) or None,
        content_id=text_of(item.get("content_id")) or None,
        schema_name=text_of(item.get("schema_name")) or None,
        document_type=text_of(item.get("document_type")) or None,
        source="content_api",
        has_change_history=has_history,
    )


def _linked_documents(item: dict[str, Any], details: dict[str, Any]) -> tuple[LinkedDocument, ...]:
    """Members of a collection (in the department's own order) or sections of a manual."""
    linked = list_of(mapping_of(item.get("links")).get("documents"))
    by_id = {text_of(d.get("content_id")): d for d in linked if isinstance(d, dict)}
    result: list[LinkedDocument] = []
    placed: set[str] = set()
    for group in list_of(details.get("collection_groups")):
        if not isinstance(group, dict):
            continue
        group_title = clean_text(text_of(group.get("title")))
        for content_id in list_of(group.get("documents")):
            doc = by_id.get(content_id) if isinstance(content_id, str) else None
            if doc is None:
                continue
            placed.add(content_id)
            result.append(LinkedDocument(clean_text(text_of(doc.get("title"))), text_of(doc.get("base_path")), group_title))
    leftovers = [d for cid, d in by_id.items() if cid not in placed]
    for doc in sorted(leftovers, key=lambda d: text_of(d.get("base_path"))):
        result.append(LinkedDocument(clean_text(text_of(doc.get("title"))), text_of(doc.get("base_path"))))
    for group in list_of(details.get("child_section_groups")):
        if not isinstance(group, dict):
            continue
        group_title = clean_text(text_of(group.get("title")))
        for section in list_of(group.get("child_sections")):
            if isinstance(section, dict):
                result.append(LinkedDocument(clean_text(text_of(section.get("title"))), text_of(section.get("base_path")), group_title))
    return tuple(result)


def _withdrawn(item: dict[str, Any]) -> Withdrawn | None:
    notice = item.get("withdrawn_notice")
    if not isinstance(notice, dict) or not notice:
        return None
    explanation = text_of(notice.get("explanation"))
    text = " ".join(b.text for b in blocks_from_html(explanation)) if explanation else ""
    return Withdrawn(explanation=text, withdrawn_at=text_of(notice.get("withdrawn_at")) or None)

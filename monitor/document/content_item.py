"""A GOV.UK Content API item (JSON) → Document.

Only fields that carry content are read: title, description, body, attachments, change notes,
withdrawal, collection membership. Fields that change on their own — ``updated_at``,
``publishing_request_id``, the order and expansion of ``links`` — are never read, so they can
never cause a change.
"""

from __future__ import annotations

from typing import Any

from monitor.document.html import blocks_from_html
from monitor.govuk.items import attachments_from_item, mapping_of, text_of
from monitor.govuk.pages import clean_text
from monitor.model import Block, ChangeNote, Document, LinkedDocument, Withdrawn


def document_from_item(item: dict[str, Any], url: str, parent: dict[str, Any] | None = None, base_url: str = "") -> Document:
    details = mapping_of(item.get("details"))
    notes, has_history = _change_notes(item, details)
    if not has_history and parent is not None:
        parent_details = mapping_of(parent.get("details"))
        notes, has_history = _change_notes(parent, parent_details)
    return Document(
        url=url,
        title=clean_text(item["title"]),
        summary=clean_text(text_of(item.get("description"))),
        blocks=_body_blocks(details),
        attachments=attachments_from_item(item, base_url),
        change_notes=notes,
        linked_documents=_linked_documents(item, details),
        public_updated_at=text_of(item.get("public_updated_at")) or None,
        withdrawn=_withdrawn(item),
        base_path=item.get("base_path"),
        content_id=text_of(item.get("content_id")) or None,
        schema_name=text_of(item.get("schema_name")) or None,
        document_type=text_of(item.get("document_type")) or None,
        source="content_api",
        has_change_history=has_history,
    )


def _body_blocks(details: dict[str, Any]) -> tuple[Block, ...]:
    parts: list[str] = []
    body = details.get("body")
    if isinstance(body, str):
        parts.append(body)
    elif isinstance(body, list):  # multi-format bodies: [{content_type, content}]
        for entry in body:
            if isinstance(entry, dict) and entry.get("content_type") == "text/html":
                parts.append(text_of(entry.get("content")))
    for part_key in ("parts",):  # guides: one body per part, each under its title
        for part in details.get(part_key) or []:
            if isinstance(part, dict):
                parts.append(f"<h2>{_escape(text_of(part.get('title')))}</h2>{text_of(part.get('body'))}")
    blocks: list[Block] = []
    for html in parts:
        blocks.extend(blocks_from_html(html))
    return tuple(blocks)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _change_notes(item: dict[str, Any], details: dict[str, Any]) -> tuple[tuple[ChangeNote, ...], bool]:
    if isinstance(details.get("change_history"), list):
        notes = [
            ChangeNote(timestamp=text_of(n.get("public_timestamp")), note=clean_text(text_of(n.get("note"))))
            for n in details["change_history"]
            if isinstance(n, dict)
        ]
        return tuple(notes), True
    if isinstance(details.get("change_notes"), list):  # manuals
        notes = []
        for n in details["change_notes"]:
            if not isinstance(n, dict):
                continue
            title = clean_text(text_of(n.get("title")))
            text = clean_text(text_of(n.get("change_note")))
            notes.append(ChangeNote(timestamp=text_of(n.get("published_at")), note=f"{title}: {text}" if title else text))
        return tuple(notes), True
    return (), False


def _linked_documents(item: dict[str, Any], details: dict[str, Any]) -> tuple[LinkedDocument, ...]:
    """Members of a collection (in the department's own order) or sections of a manual."""
    linked = (item.get("links") or {}).get("documents") or []
    by_id = {d.get("content_id"): d for d in linked if isinstance(d, dict)}
    result: list[LinkedDocument] = []
    placed: set[str] = set()
    for group in details.get("collection_groups") or []:
        if not isinstance(group, dict):
            continue
        group_title = clean_text(text_of(group.get("title")))
        for content_id in group.get("documents") or []:
            doc = by_id.get(content_id)
            if doc is None:
                continue
            placed.add(str(content_id))
            result.append(LinkedDocument(clean_text(text_of(doc.get("title"))), text_of(doc.get("base_path")), group_title))
    leftovers = [d for cid, d in by_id.items() if str(cid) not in placed]
    for doc in sorted(leftovers, key=lambda d: text_of(d.get("base_path"))):
        result.append(LinkedDocument(clean_text(text_of(doc.get("title"))), text_of(doc.get("base_path"))))
    for group in details.get("child_section_groups") or []:
        if not isinstance(group, dict):
            continue
        group_title = clean_text(text_of(group.get("title")))
        for section in group.get("child_sections") or []:
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

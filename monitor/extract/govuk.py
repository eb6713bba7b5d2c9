"""A GOV.UK Content API item (JSON) → Document.

Only fields that carry content are read: title, description, body, attachments, change notes,
withdrawal, collection membership. Fields that change on their own — ``updated_at``,
``publishing_request_id``, the order and expansion of ``links`` — are never read, so they can
never cause a change.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from monitor.errors import ExtractionError
from monitor.extract.html import blocks_from_html, clean_text, looks_like_file, parse_html
from monitor.model import Attachment, Block, ChangeNote, Document, LinkedDocument, Withdrawn

# schema_name values that mean "this path no longer holds content".
GONE_SCHEMAS = ("gone", "vanish")
REDIRECT_SCHEMAS = ("redirect",)


class GoneItem(ExtractionError):
    """The Content API says the item is gone (410, or a gone/vanish item)."""


class RedirectItem(ExtractionError):
    def __init__(self, destination: str) -> None:
        super().__init__(f"the item redirects to {destination}")
        self.destination = destination


def load_item(body: bytes) -> dict[str, Any]:
    """Parse a Content API answer; anything that is not an item is a suspect fetch."""
    try:
        item = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExtractionError(f"the Content API answer is not valid JSON ({exc})", suspect=True) from None
    if not isinstance(item, dict):
        raise ExtractionError("the Content API answer is not a JSON object", suspect=True)
    schema = item.get("schema_name") or item.get("document_type")
    if schema in GONE_SCHEMAS:
        raise GoneItem(f"the Content API reports the item as {schema}")
    if schema in REDIRECT_SCHEMAS:
        redirects = item.get("redirects") or []
        destination = redirects[0].get("destination") if redirects and isinstance(redirects[0], dict) else None
        if destination:
            raise RedirectItem(str(destination))
    if not isinstance(item.get("title"), str) or not item.get("title", "").strip() or not isinstance(item.get("base_path"), str):
        raise ExtractionError("the Content API answer has no title or base_path: not a content item", suspect=True)
    return item


def parent_path(item: dict[str, Any]) -> str | None:
    """Base path of an html_publication's parent publication (where its change notes live)."""
    parents = (item.get("links") or {}).get("parent") or []
    if parents and isinstance(parents[0], dict) and isinstance(parents[0].get("base_path"), str):
        return parents[0]["base_path"]
    return None


def document_from_item(item: dict[str, Any], url: str, parent: dict[str, Any] | None = None, base_url: str = "") -> Document:
    details = item.get("details") if isinstance(item.get("details"), dict) else {}
    notes, has_history = _change_notes(item, details)
    if not has_history and parent is not None:
        parent_details = parent.get("details") if isinstance(parent.get("details"), dict) else {}
        notes, has_history = _change_notes(parent, parent_details)
    return Document(
        url=url,
        title=clean_text(item["title"]),
        summary=clean_text(_text(item.get("description"))),
        blocks=_body_blocks(details),
        attachments=attachments_from_item(item, base_url),
        change_notes=notes,
        linked_documents=_linked_documents(item, details),
        public_updated_at=_text(item.get("public_updated_at")) or None,
        withdrawn=_withdrawn(item),
        base_path=item.get("base_path"),
        content_id=_text(item.get("content_id")) or None,
        schema_name=_text(item.get("schema_name")) or None,
        document_type=_text(item.get("document_type")) or None,
        source="content_api",
        has_change_history=has_history,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _body_blocks(details: dict[str, Any]) -> tuple[Block, ...]:
    parts: list[str] = []
    body = details.get("body")
    if isinstance(body, str):
        parts.append(body)
    elif isinstance(body, list):  # multi-format bodies: [{content_type, content}]
        for entry in body:
            if isinstance(entry, dict) and entry.get("content_type") == "text/html":
                parts.append(_text(entry.get("content")))
    for part_key in ("parts",):  # guides: one body per part, each under its title
        for part in details.get(part_key) or []:
            if isinstance(part, dict):
                parts.append(f"<h2>{_escape(_text(part.get('title')))}</h2>{_text(part.get('body'))}")
    blocks: list[Block] = []
    for html in parts:
        blocks.extend(blocks_from_html(html))
    return tuple(blocks)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _change_notes(item: dict[str, Any], details: dict[str, Any]) -> tuple[tuple[ChangeNote, ...], bool]:
    if isinstance(details.get("change_history"), list):
        notes = [
            ChangeNote(timestamp=_text(n.get("public_timestamp")), note=clean_text(_text(n.get("note"))))
            for n in details["change_history"]
            if isinstance(n, dict)
        ]
        return tuple(notes), True
    if isinstance(details.get("change_notes"), list):  # manuals
        notes = []
        for n in details["change_notes"]:
            if not isinstance(n, dict):
                continue
            title = clean_text(_text(n.get("title")))
            text = clean_text(_text(n.get("change_note")))
            notes.append(ChangeNote(timestamp=_text(n.get("published_at")), note=f"{title}: {text}" if title else text))
        return tuple(notes), True
    return (), False


def attachments_from_item(item: dict[str, Any], base_url: str = "") -> tuple[Attachment, ...]:
    """Every attachment the item lists (``details.attachments``, or legacy ``details.documents``)."""
    details = item.get("details") if isinstance(item.get("details"), dict) else {}
    found: list[Attachment] = []
    for raw in details.get("attachments") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
            continue
        url = urljoin(base_url + "/", raw["url"]) if base_url else raw["url"]
        kind = _text(raw.get("attachment_type")) or ("file" if looks_like_file(url) else "html")
        size = raw.get("file_size")
        found.append(
            Attachment(
                title=clean_text(_text(raw.get("title"))),
                url=url,
                content_type=_text(raw.get("content_type")) or None,
                filename=_text(raw.get("filename")) or None,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                attachment_type=kind,
            )
        )
    if not found:
        for html in details.get("documents") or []:
            if isinstance(html, str):
                found.extend(_attachments_from_rendered(html, base_url))
    return tuple(found)


def _attachments_from_rendered(html: str, base_url: str) -> list[Attachment]:
    soup = parse_html(html)
    found = []
    for section in soup.select(".gem-c-attachment, .attachment"):
        link = section.select_one(".gem-c-attachment__title a, .title a, a[href]")
        if link is None or not link.get("href"):
            continue
        url = urljoin(base_url + "/", str(link["href"]))
        found.append(
            Attachment(
                title=clean_text(link.get_text(" ")),
                url=url,
                filename=url.rsplit("/", 1)[-1] or None,
                attachment_type="file" if looks_like_file(url) else "html",
            )
        )
    return found


def _linked_documents(item: dict[str, Any], details: dict[str, Any]) -> tuple[LinkedDocument, ...]:
    """Members of a collection (in the department's own order) or sections of a manual."""
    linked = (item.get("links") or {}).get("documents") or []
    by_id = {d.get("content_id"): d for d in linked if isinstance(d, dict)}
    result: list[LinkedDocument] = []
    placed: set[str] = set()
    for group in details.get("collection_groups") or []:
        if not isinstance(group, dict):
            continue
        group_title = clean_text(_text(group.get("title")))
        for content_id in group.get("documents") or []:
            doc = by_id.get(content_id)
            if doc is None:
                continue
            placed.add(str(content_id))
            result.append(LinkedDocument(clean_text(_text(doc.get("title"))), _text(doc.get("base_path")), group_title))
    leftovers = [d for cid, d in by_id.items() if str(cid) not in placed]
    for doc in sorted(leftovers, key=lambda d: _text(d.get("base_path"))):
        result.append(LinkedDocument(clean_text(_text(doc.get("title"))), _text(doc.get("base_path"))))
    for group in details.get("child_section_groups") or []:
        if not isinstance(group, dict):
            continue
        group_title = clean_text(_text(group.get("title")))
        for section in group.get("child_sections") or []:
            if isinstance(section, dict):
                result.append(LinkedDocument(clean_text(_text(section.get("title"))), _text(section.get("base_path")), group_title))
    return tuple(result)


def _withdrawn(item: dict[str, Any]) -> Withdrawn | None:
    notice = item.get("withdrawn_notice")
    if not isinstance(notice, dict) or not notice:
        return None
    explanation = _text(notice.get("explanation"))
    text = " ".join(b.text for b in blocks_from_html(explanation)) if explanation else ""
    return Withdrawn(explanation=text, withdrawn_at=_text(notice.get("withdrawn_at")) or None)

"""The shapes of GOV.UK Content API items: what an answer is (an item, gone, a redirect), where
an item's change notes live, which parts of it are body text, and the files it lists.

Used by the spider (to find what else to fetch) and by the document stage (to read an item), so
both read an item the same way. Every schema DfE publishes in is covered:

* body text: ``details.body`` (a string, or a list of ``{content_type, content}``) in every
  schema; ``details.parts[]`` of a guide, each under its title; the groups of a document
  collection (title and body); a consultation's outcome and public feedback (``final_outcome_detail``,
  ``public_feedback_detail``);
* files: ``details.attachments[]``; the pre-rendered attachment blocks of older items
  (``details.documents``, a consultation's ``final_outcome_documents`` and
  ``public_feedback_documents``); and attachment blocks, inline attachment links and links to
  asset paths inside any body text (detailed guides, data sets and publications embed them);
* change notes: the item's own, except an ``html_publication``'s (on its parent publication)
  and a ``manual_section``'s (on its manual).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from monitor.errors import ExtractionError
from monitor.govuk.attachments import (
    Component,
    attachments_in,
    components,
    is_preview,
    looks_like_file,
)
from monitor.govuk.markup import Element, clean_text, parse_html
from monitor.govuk.shape import check_item, load_json
from monitor.model import Attachment

# schema_name values that mean "this path no longer holds content".
GONE_SCHEMAS = ("gone", "vanish")
REDIRECT_SCHEMAS = ("redirect",)
# Where the change notes of an item that has none of its own live: links key per schema.
CHANGE_NOTES_ELSEWHERE = {"html_publication": "parent", "manual_section": "manual"}
# Lists of pre-rendered attachment blocks (older items, and consultations' outcome files).
DOCUMENT_LISTS = ("documents", "final_outcome_documents", "public_feedback_documents")
# Body text of a consultation beyond its description, each under the heading GOV.UK shows.
CONSULTATION_SECTIONS = (("public_feedback_detail", "Feedback received"), ("final_outcome_detail", "Outcome"))


class GoneItem(ExtractionError):
    """The Content API says the item is gone (410, or a gone/vanish item)."""


class RedirectItem(ExtractionError):
    def __init__(self, destination: str) -> None:
        super().__init__(f"the item redirects to {destination}")
        self.destination = destination


@dataclass(frozen=True)
class Fragment:
    """One piece of an item's body text, as HTML, under the heading GOV.UK shows it with."""

    heading: str  # "" for the main body
    html: str


def load_item(body: bytes) -> dict[str, Any]:
    """Parse a Content API answer; anything that is not an item is a suspect fetch."""
    item = load_json(body, "Content API answer")
    if not isinstance(item, dict):
        raise ExtractionError("the Content API answer is not a JSON object", suspect=True)
    check_item(item)  # every field read below and in the document stage is of the shape read
    schema = item.get("schema_name") or item.get("document_type")
    if schema in GONE_SCHEMAS:
        raise GoneItem(f"the Content API reports the item as {schema}")
    if schema in REDIRECT_SCHEMAS:
        redirects = item.get("redirects") or []
        destination = redirects[0].get("destination") if isinstance(redirects, list) and redirects and isinstance(redirects[0], dict) else None
        if destination:
            raise RedirectItem(str(destination))
    if not isinstance(item.get("title"), str) or not item.get("title", "").strip() or not isinstance(item.get("base_path"), str):
        raise ExtractionError("the Content API answer has no title or base_path: not a content item", suspect=True)
    if "details" in item and item["details"] is not None and not isinstance(item["details"], dict):
        raise ExtractionError(f"the Content API item's details is a {type(item['details']).__name__}, not an object: not a content item of a known shape")
    return item


def mapping_of(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else {} (a field of the wrong type reads as empty)."""
    return value if isinstance(value, dict) else {}


def list_of(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else [] (a field of the wrong type reads as empty)."""
    return value if isinstance(value, list) else []


def text_of(value: Any) -> str:
    """``value`` when it is a string, else "" (a field of the wrong type reads as empty)."""
    return value if isinstance(value, str) else ""


def parent_path(item: dict[str, Any]) -> str | None:
    """Base path of the item that holds this item's change notes: an html_publication's parent
    publication, a manual_section's manual; None for every other schema (a detailed guide's
    ``links.parent`` is a browse topic, not a publication)."""
    key = CHANGE_NOTES_ELSEWHERE.get(text_of(item.get("schema_name")))
    if key is None:
        return None
    for entry in list_of(mapping_of(item.get("links")).get(key)):
        path = text_of(mapping_of(entry).get("base_path"))
        if path.startswith("/"):
            return path
    fallback = text_of(mapping_of(mapping_of(item.get("details")).get(key)).get("base_path"))
    return fallback if fallback.startswith("/") else None


def body_fragments(item: dict[str, Any]) -> list[Fragment]:
    """Every piece of body text the item's page shows, in page order."""
    details = mapping_of(item.get("details"))
    fragments = [Fragment("", html) for html in html_values(details.get("body"))]
    for part in list_of(details.get("parts")):  # guides: one body per part, under its title
        part = mapping_of(part)
        for index, html in enumerate(html_values(part.get("body")) or [""]):
            fragments.append(Fragment(clean_text(text_of(part.get("title"))) if index == 0 else "", html))
    for group in list_of(details.get("collection_groups")):  # collections: each group's title and text
        group = mapping_of(group)
        title = clean_text(text_of(group.get("title")))
        bodies = html_values(group.get("body"))
        fragments.extend(Fragment(title if index == 0 else "", html) for index, html in enumerate(bodies or [""]) if title or html)
    for key, heading in CONSULTATION_SECTIONS:
        fragments.extend(Fragment(heading, html) for html in html_values(details.get(key)))
    return fragments


def html_values(value: Any) -> list[str]:
    """The HTML of a body field: a string, or the ``text/html`` entries of a multi-format list."""
    if isinstance(value, str):
        return [value]
    return [text_of(entry.get("content")) for entry in list_of(value) if isinstance(entry, dict) and entry.get("content_type") == "text/html"]


def attachments_from_item(item: dict[str, Any], base_url: str = "", parsed: Sequence[tuple[Element, list[Component]]] | None = None) -> tuple[Attachment, ...]:
    """Every file the item's page shows, once per URL: ``details.attachments`` first (they carry
    the department's metadata), then older pre-rendered lists, then files inside body text.

    ``parsed`` is the parsed HTML of ``body_fragments(item)`` with its ``components``, when the
    caller has them already (then each piece of HTML is read once).
    """
    details = mapping_of(item.get("details"))
    page = base_url.rstrip("/") + "/"
    found: dict[str, Attachment] = {}
    for raw in list_of(details.get("attachments")):
        attachment = _listed(mapping_of(raw), base_url)
        if attachment is not None:
            found.setdefault(attachment.url, attachment)
    for key in DOCUMENT_LISTS:
        for html in list_of(details.get(key)):
            if isinstance(html, str):
                for attachment in attachments_in(parse_html(html), page):
                    found.setdefault(attachment.url, attachment)
    if parsed is None:
        parsed = [(root, components(root)) for root in (parse_html(fragment.html) for fragment in body_fragments(item))]
    for root, parts in parsed:
        for attachment in attachments_in(root, page, parts):
            found.setdefault(attachment.url, attachment)
    return tuple(found.values())


def _listed(raw: dict[str, Any], base_url: str) -> Attachment | None:
    """One entry of ``details.attachments`` (file, html or external)."""
    url = text_of(raw.get("url")).strip()
    if not url:
        return None
    url = urljoin(base_url + "/", url) if base_url else url
    if is_preview(url):
        return None
    kind = text_of(raw.get("attachment_type")) or ("file" if looks_like_file(url) else "html")
    size = raw.get("file_size")
    return Attachment(
        title=clean_text(text_of(raw.get("title"))),
        url=url,
        content_type=text_of(raw.get("content_type")) or None,
        filename=text_of(raw.get("filename")) or None,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        attachment_type=kind,
    )

"""The shapes of GOV.UK Content API items: what an answer is (an item, gone, a redirect), an
HTML publication's parent, and the files an item lists.

Used by the spider (to find what else to fetch) and by the document stage (to read an item).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from monitor.errors import ExtractionError
from monitor.govuk.pages import attachments_in, clean_text, looks_like_file, parse_html
from monitor.govuk.shape import check_item, load_json
from monitor.model import Attachment

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
    item = load_json(body, "Content API answer")
    if not isinstance(item, dict):
        raise ExtractionError("the Content API answer is not a JSON object", suspect=True)
    check_item(item)  # every field read below and in the document stage is of the shape read
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
    parents = mapping_of(item.get("links")).get("parent") or []
    if parents and isinstance(parents[0], dict) and isinstance(parents[0].get("base_path"), str):
        return parents[0]["base_path"]
    return None


def mapping_of(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else {} (a field of the wrong type reads as empty)."""
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    """``value`` when it is a string, else "" (a field of the wrong type reads as empty)."""
    return value if isinstance(value, str) else ""


def attachments_from_item(item: dict[str, Any], base_url: str = "") -> tuple[Attachment, ...]:
    """Every attachment the item lists (``details.attachments``, or legacy ``details.documents``)."""
    details = mapping_of(item.get("details"))
    found: list[Attachment] = []
    for raw in details.get("attachments") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
            continue
        url = urljoin(base_url + "/", raw["url"]) if base_url else raw["url"]
        kind = text_of(raw.get("attachment_type")) or ("file" if looks_like_file(url) else "html")
        size = raw.get("file_size")
        found.append(
            Attachment(
                title=clean_text(text_of(raw.get("title"))),
                url=url,
                content_type=text_of(raw.get("content_type")) or None,
                filename=text_of(raw.get("filename")) or None,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                attachment_type=kind,
            )
        )
    if not found:
        for html in details.get("documents") or []:
            if isinstance(html, str):
                found.extend(attachments_in(parse_html(html), base_url + "/"))
    return tuple(found)

"""The shapes of rendered GOV.UK pages: where the content lives, which pages are GOV.UK's own
error pages, and which links are files.

Used by the spider (to find what else to fetch) and by the document stage (to read a page), so
both read a page the same way.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from monitor.govuk.markup import (
    Element,
    clean_text,
    element_text,
    first,
    parse_html,
    select,
    select_one,
)
from monitor.model import Attachment

# Where a GOV.UK page keeps its content; the default of every target's ``selector``.
CONTENT_SELECTOR = "main#content"
# Titles (or first headings) of the pages GOV.UK and its CDN serve instead of content.
ERROR_PAGE_TITLES = (
    "sorry, there is a problem",
    "page unavailable",
    "page not found",
    "service unavailable",
    "sorry, we're experiencing technical difficulties",
    "too many requests",
)
FILE_SUFFIXES = (".ods", ".xlsx", ".xls", ".csv", ".pdf", ".docx", ".doc", ".odt", ".txt", ".zip", ".json", ".xml")
# One attachment block: the current component, and the older markup still found in
# ``details.documents`` and on old pages.
ATTACHMENT_BLOCKS = ".gem-c-attachment, section.attachment, .attachment, .attachment-details"
ATTACHMENT_TITLE_LINKS = ".gem-c-attachment__title a, .title a, a[href]"


def content_root(root: Element, selector: str = CONTENT_SELECTOR) -> Element | None:
    """The element holding a page's content: ``selector``, or for the default selector any
    ``main`` or ``#content`` (older page templates)."""
    content = select_one(root, selector)
    if content is None and selector == CONTENT_SELECTOR:
        content = select_one(root, "main")
        if content is None:
            content = select_one(root, "#content")
    return content


def looks_like_error_page(root: Element) -> str | None:
    """The title of GOV.UK's own error page ("Page unavailable", "Sorry, there is a problem"...)
    when ``root`` is one, else None."""
    title_tag = first(root, "title")
    title = clean_text(element_text(title_tag, " ")) if title_tag is not None else ""
    heading = first(root, "h1")
    heading_text = clean_text(element_text(heading, " ")) if heading is not None else ""
    for text in (title.lower(), heading_text.lower()):
        for marker in ERROR_PAGE_TITLES:
            if text.startswith(marker):
                return title or heading_text
    return None


def looks_like_file(url: str) -> bool:
    """True for attachment URLs that name a file rather than an HTML publication."""
    try:
        path = urlsplit(url).path.lower()
    except ValueError:  # not an address at all ("http://[x"): nothing to download
        return False
    return "/media/" in path or "/attachment_data/" in path or path.endswith(FILE_SUFFIXES)


def attachments_in(root: Element, base_url: str) -> tuple[Attachment, ...]:
    """Every attachment block under ``root`` (a page's content, or the pre-rendered HTML of a
    Content API item's ``details.documents``), once per URL, in page order."""
    found: list[Attachment] = []
    seen: set[str] = set()
    for block in select(root, ATTACHMENT_BLOCKS):
        link = select_one(block, ATTACHMENT_TITLE_LINKS)
        if link is None or not link.get("href"):
            continue
        try:
            href = urljoin(base_url, str(link.get("href")))
        except ValueError:
            continue  # an address that cannot be parsed ("http://[x") names no file
        if href in seen:
            continue
        seen.add(href)
        metadata = select_one(block, ".gem-c-attachment__metadata")
        abbr = first(metadata, "abbr") if metadata is not None else None
        found.append(
            Attachment(
                title=clean_text(element_text(link, " ")),
                url=href,
                content_type=clean_text(element_text(abbr, " ")) if abbr is not None else None,
                filename=href.rsplit("/", 1)[-1] or None,
                attachment_type="file" if looks_like_file(href) else "html",
            )
        )
    return tuple(found)


def page_attachments(html: str | bytes, url: str, selector: str = CONTENT_SELECTOR) -> tuple[Attachment, ...]:
    """The attachments listed in a rendered page's content (what the spider downloads)."""
    content = content_root(parse_html(html), selector)
    return attachments_in(content, url) if content is not None else ()

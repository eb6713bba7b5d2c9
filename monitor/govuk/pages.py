"""The shapes of rendered GOV.UK pages: where the content lives, which pages are GOV.UK's own
error pages, and which links are files.

Used by the spider (to find what else to fetch) and by the document stage (to read a page), so
both read a page the same way. Which links on a page are files is decided in ``attachments``.
"""

from __future__ import annotations

from monitor.govuk.attachments import attachments_in
from monitor.govuk.markup import (
    Element,
    first,
    parse_html,
    reader_text,
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
    title = reader_text(title_tag) if title_tag is not None else ""
    heading = first(root, "h1")
    heading_text = reader_text(heading) if heading is not None else ""
    for text in (title.lower(), heading_text.lower()):
        for marker in ERROR_PAGE_TITLES:
            if text.startswith(marker):
                return title or heading_text
    return None


def page_attachments(html: str | bytes | Element, url: str, selector: str = CONTENT_SELECTOR) -> tuple[Attachment, ...]:
    """The attachments listed in a rendered page's content (what the spider downloads); ``html``
    may be the page already parsed (it is only read)."""
    content = content_root(parse_html(html) if isinstance(html, (str, bytes)) else html, selector)
    return attachments_in(content, url) if content is not None else ()

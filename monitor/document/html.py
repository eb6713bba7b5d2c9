"""HTML → structured text blocks, and a whole GOV.UK HTML page → Document.

Used for ``details.body`` of Content API items (govspeak HTML) and, where a page has no API item,
for the rendered page itself. Everything that changes without the content changing — cookie and
emergency banners, breadcrumbs, sidebars, feedback and print blocks, CSRF tokens, nonces,
scripts, fingerprinted asset URLs — is cut away before the text is read, and markup is reduced
to text: nothing a page contains can reach the feed as live HTML.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, NavigableString, Tag

from monitor.errors import ExtractionError
from monitor.govuk.pages import (
    CONTENT_SELECTOR,
    attachments_in,
    clean_text,
    content_root,
    looks_like_error_page,
    parse_html,
)
from monitor.model import Block, ChangeNote, Document, Withdrawn

# Never content: dropped with everything inside them.
DROP_TAGS = (
    "script", "style", "noscript", "template", "iframe", "frame", "object", "embed", "svg",
    "math", "canvas", "form", "button", "input", "select", "textarea", "link", "meta", "head",
)
# GOV.UK chrome that can sit inside main#content and changes independently of the content.
NOISE_SELECTORS = (
    ".gem-c-cookie-banner", ".govuk-cookie-banner", "#global-cookie-message",
    ".gem-c-emergency-banner", ".gem-c-global-banner", "#global-bar", ".global-bar",
    ".gem-c-layout-super-navigation-header", ".govuk-header", ".gem-c-layout-header",
    ".govuk-breadcrumbs", ".gem-c-breadcrumbs", ".gem-c-contextual-breadcrumbs",
    ".gem-c-contextual-sidebar", ".gem-c-related-navigation", ".gem-c-contextual-footer",
    ".gem-c-feedback", ".govuk-footer", ".gem-c-layout-footer", ".gem-c-phase-banner",
    ".govuk-phase-banner", ".gem-c-print-link", ".gem-c-single-page-notification-button",
    ".gem-c-share-links", ".gem-c-contents-list", ".gem-c-back-to-top-link",
    ".app-c-back-to-top", ".govuk-skip-link", ".gem-c-skip-link", ".gem-c-signup-link",
    ".gem-c-email-link", ".gem-c-step-nav-header", ".gem-c-step-nav-related",
    ".gem-c-intervention", ".gem-c-translation-nav", ".app-c-publication-sidebar",
    ".gem-c-print-link", "[data-module='ga4-link-tracker'] .gem-c-share-links",
    "#feedback", ".recruitment-banner", ".gem-c-recruitment-banner",
)
_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "pre", "blockquote", "dt", "dd", "figcaption", "caption"}
_CONTAINER_TAGS = {"ul", "ol", "table", "thead", "tbody", "tfoot", "dl"}
_WRAPPER_TAGS = {"html", "body", "div", "section", "article", "aside", "main", "header", "footer", "nav", "figure", "details", "summary", "fieldset", "address", "center"}
_STRUCTURE_TAGS = list(_BLOCK_TAGS | _CONTAINER_TAGS | _WRAPPER_TAGS)


def strip_noise(root: Tag) -> None:
    for tag in root.find_all(DROP_TAGS):
        tag.decompose()
    for selector in NOISE_SELECTORS:
        for tag in root.select(selector):
            tag.decompose()
    for tag in root.find_all(None, {"hidden": True}):
        tag.decompose()
    for tag in root.find_all(None, {"aria-hidden": "true"}):
        tag.decompose()


def blocks_from_html(html: str | Tag) -> tuple[Block, ...]:
    """Reading-order blocks (headings, paragraphs, list items, table rows) of an HTML fragment."""
    root = parse_html(html) if isinstance(html, str) else html
    if isinstance(html, str):
        strip_noise(root)
    blocks: list[Block] = []
    _walk(root, blocks, list_depth=-1)
    return tuple(blocks)


def _walk(node: Tag, blocks: list[Block], list_depth: int) -> None:
    loose: list[str] = []

    def flush() -> None:
        text = clean_text("".join(loose))
        loose.clear()
        if text:
            blocks.append(Block("paragraph", text))

    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not comments, CDATA, doctypes
                loose.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in _BLOCK_TAGS:
            flush()
            _block(child, blocks, list_depth)
        elif name in _CONTAINER_TAGS:
            flush()
            _walk(child, blocks, list_depth + 1 if name in ("ul", "ol") else list_depth)
        elif name in _WRAPPER_TAGS or (child.find(_STRUCTURE_TAGS) is not None):
            flush()
            _walk(child, blocks, list_depth)
        elif name == "br":
            loose.append(" ")
        elif name == "hr":
            flush()
        else:
            loose.append(_inline_text(child))
    flush()


def _inline_text(tag: Tag) -> str:
    """Text as a browser shows it: inline elements run together, <br> is a space."""
    for br in tag.find_all("br"):
        br.replace_with(" ")
    return tag.get_text()


def _has_block_child(tag: Tag) -> bool:
    return tag.find(_STRUCTURE_TAGS) is not None


def _block(tag: Tag, blocks: list[Block], list_depth: int) -> None:
    name = tag.name
    if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
        text = clean_text(_inline_text(tag))
        if text:
            blocks.append(Block("heading", text, int(name[1])))
    elif name == "li":
        nested = [c for c in tag.find_all(["ul", "ol"], recursive=True)]
        for sub in nested:
            sub.extract()
        text = clean_text(_inline_text(tag))
        if text:
            blocks.append(Block("list_item", text, max(list_depth, 0)))
        for sub in nested:
            _walk(sub, blocks, list_depth + 1)
    elif name == "tr":
        cells = [clean_text(c.get_text(" ")) for c in tag.find_all(["th", "td"], recursive=False)]
        if any(cells):
            blocks.append(Block("table_row", " | ".join(cells)))
    elif name == "pre":
        text = tag.get_text().strip("\n")
        if text.strip():
            blocks.append(Block("pre", text))
    elif name == "blockquote":
        if _has_block_child(tag):
            start = len(blocks)
            _walk(tag, blocks, list_depth)
            blocks[start:] = [Block("quote", b.text, b.level) if b.kind == "paragraph" else b for b in blocks[start:]]
        else:
            text = clean_text(tag.get_text(" "))
            if text:
                blocks.append(Block("quote", text))
    else:  # p, dt, dd, captions
        if _has_block_child(tag):
            _walk(tag, blocks, list_depth)
            return
        text = clean_text(_inline_text(tag))
        if text:
            blocks.append(Block("paragraph", text))


def _meta(soup: BeautifulSoup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"name": name})
    value = tag.get("content") if tag else None
    return clean_text(value) if isinstance(value, str) and value.strip() else None


def document_from_html_page(html: str | bytes, url: str, selector: str = CONTENT_SELECTOR) -> Document:
    """A rendered GOV.UK page (or any page, with ``selector``) → Document."""
    soup = parse_html(html)
    error_title = looks_like_error_page(soup)
    if error_title:
        raise ExtractionError(f"the page is an error page ({error_title!r}), not content", suspect=True)
    content = content_root(soup, selector)
    if content is None:
        raise ExtractionError(f"the content selector {selector!r} matches nothing on the page", suspect=True)

    withdrawn = _withdrawn_from_page(soup, content)
    change_notes, has_history = _change_notes_from_page(content)
    attachments = attachments_in(content, url)
    heading = content.find("h1")
    title = clean_text(heading.get_text(" ")) if heading else clean_text(soup.title.get_text(" ")) if soup.title else ""
    lead = content.select_one(".gem-c-lead-paragraph")
    summary = clean_text(lead.get_text(" ")) if lead else ""

    for selector_to_drop in (
        "h1", ".gem-c-title", ".gem-c-lead-paragraph", ".gem-c-metadata", ".gem-c-notice",
        ".gem-c-published-dates", "#full-publication-update-history", "#full-history",
        "section#documents", ".gem-c-attachment", ".attachment",
    ):
        for tag in content.select(selector_to_drop):
            tag.decompose()
    strip_noise(content)
    body_roots = content.select(".gem-c-govspeak") or [content]
    blocks: list[Block] = []
    for root in body_roots:
        if root.find_parent(class_="gem-c-govspeak") is not None:
            continue
        blocks.extend(blocks_from_html(root))
    if not title and not blocks:
        raise ExtractionError("the page has no title and no text", suspect=True)
    return Document(
        url=url,
        title=title,
        summary=summary,
        blocks=tuple(blocks),
        attachments=attachments,
        change_notes=change_notes,
        public_updated_at=_meta(soup, "govuk:public-updated-at"),
        withdrawn=withdrawn,
        content_id=_meta(soup, "govuk:content-id"),
        schema_name=_meta(soup, "govuk:schema-name"),
        document_type=_meta(soup, "govuk:format"),
        source="html",
        has_change_history=has_history,
    )


def _withdrawn_from_page(soup: BeautifulSoup, content: Tag) -> Withdrawn | None:
    notice = None
    for candidate in content.select(".gem-c-notice"):
        if "withdrawn" in candidate.get_text(" ").lower():
            notice = candidate
            break
    flagged = (_meta(soup, "govuk:withdrawn") or "").lower() in ("withdrawn", "true")
    if notice is None and not flagged:
        return None
    explanation = ""
    when = None
    if notice is not None:
        time_tag = notice.find("time")
        when = time_tag.get("datetime") if time_tag else None
        title = notice.select_one(".gem-c-notice__title")
        if title is not None:
            title.decompose()
        explanation = clean_text(notice.get_text(" "))
    return Withdrawn(explanation=explanation, withdrawn_at=when if isinstance(when, str) else None)


def _change_notes_from_page(content: Tag) -> tuple[tuple[ChangeNote, ...], bool]:
    history = content.select_one("#full-publication-update-history") or content.select_one("#full-history")
    if history is None:
        return (), False
    notes = []
    for item in history.find_all(["li", "dd", "p"]):
        time_tag = item.find("time")
        if time_tag is None:
            continue
        stamp = time_tag.get("datetime") or clean_text(time_tag.get_text(" "))
        note_tag = item.select_one(".gem-c-published-dates__change-note")
        if note_tag is None:
            time_tag_text = clean_text(time_tag.get_text(" "))
            note = clean_text(item.get_text(" ")).replace(time_tag_text, "", 1).strip()
        else:
            note = clean_text(note_tag.get_text(" "))
        notes.append(ChangeNote(timestamp=str(stamp), note=note))
    return tuple(notes), True



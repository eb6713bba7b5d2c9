"""HTML → structured text blocks, and a whole GOV.UK HTML page → Document.

Used for ``details.body`` of Content API items (govspeak HTML) and, where a page has no API item,
for the rendered page itself. Everything that changes without the content changing — cookie and
emergency banners, breadcrumbs, sidebars, feedback and print blocks, CSRF tokens, nonces,
scripts, fingerprinted asset URLs — is cut away before the text is read, and markup is reduced
to text: nothing a page contains can reach the feed as live HTML.
"""

from __future__ import annotations

from monitor.errors import ExtractionError
from monitor.govuk.attachments import attachments_in, components, strip_attachment_markup
from monitor.govuk.markup import (
    Element,
    ancestors_with_class,
    clean_text,
    css,
    drop,
    element_text,
    first,
    inline_text,
    is_element,
    parse_html,
    reader_text,
    select,
    select_one,
)
from monitor.govuk.pages import (
    CONTENT_SELECTOR,
    content_root,
    looks_like_error_page,
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
_STRUCTURE_TAGS = tuple(sorted(_BLOCK_TAGS | _CONTAINER_TAGS | _WRAPPER_TAGS))
# Page furniture around the body of a rendered page: read separately (title, summary, notes,
# files) or not at all.
_PAGE_FURNITURE = (
    "h1, .gem-c-title, .gem-c-lead-paragraph, .gem-c-metadata, .gem-c-notice, .gem-c-published-dates, "
    "#full-publication-update-history, #full-history, section#documents, .gem-c-attachment, .attachment"
)


# Everything strip_noise removes, as one selector group (one walk of the tree).
_STRIP = ", ".join((*DROP_TAGS, *NOISE_SELECTORS, "[hidden]", "[aria-hidden='true']"))


def strip_noise(root: Element) -> None:
    """Remove what is never content: scripts, forms, hidden elements and GOV.UK's chrome."""
    for el in css(_STRIP)(root):
        drop(el)


def blocks_from_html(html: str | Element) -> tuple[Block, ...]:
    """Reading-order blocks (headings, paragraphs, list items, table rows) of an HTML fragment."""
    if isinstance(html, str):
        root = parse_html(html)
        strip_noise(root)
    else:
        root = html
    blocks: list[Block] = []
    _walk(root, blocks, list_depth=-1)
    return tuple(blocks)


def _has_structure(el: Element) -> bool:
    return next(el.iterdescendants(*_STRUCTURE_TAGS), None) is not None


def _walk(node: Element, blocks: list[Block], list_depth: int) -> None:
    loose: list[str] = [node.text] if node.text else []

    def flush() -> None:
        text = clean_text("".join(loose))
        loose.clear()
        if text:
            blocks.append(Block("paragraph", text))

    for child in node:
        if is_element(child):
            name = child.tag
            if name in _BLOCK_TAGS:
                flush()
                _block(child, blocks, list_depth)
            elif name in _CONTAINER_TAGS:
                flush()
                _walk(child, blocks, list_depth + 1 if name in ("ul", "ol") else list_depth)
            elif name in _WRAPPER_TAGS or _has_structure(child):
                flush()
                _walk(child, blocks, list_depth)
            elif name == "br":
                loose.append(" ")
            elif name == "hr":
                flush()
            else:
                loose.append(inline_text(child))
        if child.tail:
            loose.append(child.tail)
    flush()


def _block(el: Element, blocks: list[Block], list_depth: int) -> None:
    name = el.tag
    if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
        text = clean_text(inline_text(el))
        if text:
            blocks.append(Block("heading", text, int(name[1])))
    elif name == "li":
        nested = list(el.iterdescendants("ul", "ol"))
        for sub in nested:
            drop(sub)
        text = clean_text(inline_text(el))
        if text:
            blocks.append(Block("list_item", text, max(list_depth, 0)))
        for sub in nested:
            _walk(sub, blocks, list_depth + 1)
    elif name == "tr":
        cells = [reader_text(c) for c in el if c.tag in ("th", "td")]
        if any(cells):
            blocks.append(Block("table_row", " | ".join(cells)))
    elif name == "pre":
        text = element_text(el).strip("\n")
        if text.strip():
            blocks.append(Block("pre", text))
    elif name == "blockquote":
        if _has_structure(el):
            start = len(blocks)
            _walk(el, blocks, list_depth)
            blocks[start:] = [Block("quote", b.text, b.level) if b.kind == "paragraph" else b for b in blocks[start:]]
        else:
            text = reader_text(el)
            if text:
                blocks.append(Block("quote", text))
    else:  # p, dt, dd, captions
        if _has_structure(el):
            _walk(el, blocks, list_depth)
            return
        text = clean_text(inline_text(el))
        if text:
            blocks.append(Block("paragraph", text))


def _meta(root: Element, name: str) -> str | None:
    tag = next((m for m in root.iter("meta") if m.get("name") == name), None)
    value = tag.get("content") if tag is not None else None
    return clean_text(value) if isinstance(value, str) and value.strip() else None


def document_from_html_page(html: str | bytes, url: str, selector: str = CONTENT_SELECTOR) -> Document:
    """A rendered GOV.UK page (or any page, with ``selector``) → Document."""
    root = parse_html(html)
    error_title = looks_like_error_page(root)
    if error_title:
        raise ExtractionError(f"the page is an error page ({error_title!r}), not content", suspect=True)
    content = content_root(root, selector)
    if content is None:
        raise ExtractionError(f"the content selector {selector!r} matches nothing on the page", suspect=True)

    withdrawn = _withdrawn_from_page(root, content)
    change_notes, has_history = _change_notes_from_page(content)
    found = components(content)
    attachments = attachments_in(content, url, found)
    heading = first(content, "h1")
    page_title = first(root, "title")
    title = reader_text(heading) if heading is not None else reader_text(page_title) if page_title is not None else ""
    lead = select_one(content, ".gem-c-lead-paragraph")
    summary = reader_text(lead) if lead is not None else ""

    for el in select(content, _PAGE_FURNITURE):
        drop(el)
    strip_attachment_markup(content, found)
    strip_noise(content)
    body_roots = select(content, ".gem-c-govspeak") or [content]
    blocks: list[Block] = []
    for body in body_roots:
        if next(ancestors_with_class(body, "gem-c-govspeak"), None) is not None:
            continue
        blocks.extend(blocks_from_html(body))
    if not title and not blocks:
        raise ExtractionError("the page has no title and no text", suspect=True)
    return Document(
        url=url,
        title=title,
        summary=summary,
        blocks=tuple(blocks),
        attachments=attachments,
        change_notes=change_notes,
        public_updated_at=_meta(root, "govuk:public-updated-at"),
        withdrawn=withdrawn,
        content_id=_meta(root, "govuk:content-id"),
        schema_name=_meta(root, "govuk:schema-name"),
        document_type=_meta(root, "govuk:format"),
        source="html",
        has_change_history=has_history,
    )


def _withdrawn_from_page(root: Element, content: Element) -> Withdrawn | None:
    notice = next((c for c in select(content, ".gem-c-notice") if "withdrawn" in reader_text(c).lower()), None)
    flagged = (_meta(root, "govuk:withdrawn") or "").lower() in ("withdrawn", "true")
    if notice is None and not flagged:
        return None
    explanation = ""
    when = None
    if notice is not None:
        time_tag = first(notice, "time")
        when = time_tag.get("datetime") if time_tag is not None else None
        title = select_one(notice, ".gem-c-notice__title")
        if title is not None:
            drop(title)
        explanation = reader_text(notice)
    return Withdrawn(explanation=explanation, withdrawn_at=when if isinstance(when, str) else None)


def _change_notes_from_page(content: Element) -> tuple[tuple[ChangeNote, ...], bool]:
    history = select_one(content, "#full-publication-update-history")
    if history is None:
        history = select_one(content, "#full-history")
    if history is None:
        return (), False
    notes = []
    for item in history.iterdescendants("li", "dd", "p"):
        time_tag = first(item, "time")
        if time_tag is None:
            continue
        stamp = time_tag.get("datetime") or reader_text(time_tag)
        note_tag = select_one(item, ".gem-c-published-dates__change-note")
        if note_tag is None:
            note = clean_text(reader_text(item).replace(reader_text(time_tag), "", 1))
        else:
            note = reader_text(note_tag)
        notes.append(ChangeNote(timestamp=str(stamp), note=note))
    return tuple(notes), True

"""The files a piece of GOV.UK markup links to, read the way a person sees them.

GOV.UK shows a file in three ways, and has changed the markup of each over the years:

* an **attachment block**: today ``section.gem-c-attachment`` (a thumbnail link, then a title
  link, then metadata and, for CSV files, a "View online" link to a ``/preview`` page); in older
  items ``section.attachment`` with ``.attachment-thumb`` (a thumbnail link, or only an image),
  ``.attachment-details h2.title`` (a link, or for CSV files plain text), and ``.metadata``
  (``.preview`` "View online" and ``.download`` links);
* an **inline attachment link** inside a sentence: ``span.gem-c-attachment-link`` or, older,
  ``span.attachment-inline``, each a link followed by "(PDF, 565KB, 2 pages)";
* a **plain link** in body text to a file on GOV.UK's asset paths.

The title is the title link's text (or the title element's, when the title is not a link); the
file is the file's own address: never the thumbnail's (which carries no title) and never the
preview page's (which is HTML around the file, not the file).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml import etree

from monitor.govuk.markup import Element, drop, first, reader_text, select, select_one
from monitor.model import Attachment

FILE_SUFFIXES = (".ods", ".xlsx", ".xls", ".csv", ".pdf", ".docx", ".doc", ".odt", ".txt", ".zip", ".json", ".xml")
# Paths under which GOV.UK serves uploaded files (the asset host's, and the legacy uploads path).
ASSET_PATHS = ("/media/", "/attachment_data/", "/government/uploads/")
_TITLE = ".gem-c-attachment__title, .attachment-details .title, h2.title, h3.title"
_TITLE_LINK = ".gem-c-attachment__link, .gem-c-attachment__title a[href], .title a[href]"
_DOWNLOAD_LINK = ".download a[href]"
_NOT_THE_FILE = ".gem-c-attachment__thumbnail, .attachment-thumb, .thumbnail, .preview, .accessibility-warning"
_TYPE = ".gem-c-attachment__metadata abbr, .gem-c-attachment-link__abbr, .type"


def _path(url: str) -> str | None:
    """The address's path, or None for what is not an address at all (``http://[x``)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return None


def is_preview(url: str) -> bool:
    """True for the "View online" page of a CSV attachment (``…/file.csv/preview``)."""
    path = _path(url)
    return path is not None and path.rstrip("/").endswith("/preview")


def looks_like_file(url: str) -> bool:
    """True for attachment URLs that name a file rather than an HTML publication or a preview
    (an address that cannot be parsed names no file: nothing to download)."""
    path = _path(url)
    if path is None or is_preview(url):
        return False
    path = path.lower()
    return any(part in path for part in ASSET_PATHS) or path.endswith(FILE_SUFFIXES)


# One scan finds every candidate: elements whose class mentions "attachment" (cheap to test in
# C; the exact component kinds are told apart in Python) and every link.
_CANDIDATES = etree.XPath("descendant::*[@class and contains(@class, 'attachment')] | descendant::a[@href]")
_BLOCK_CLASSES = frozenset({"gem-c-attachment", "attachment-details"})
_INLINE_CLASSES = frozenset({"gem-c-attachment-link", "attachment-inline"})

Component = tuple[Element, str]  # (element, "block" | "inline" | "link")


def components(root: Element) -> list[Component]:
    """The attachment blocks, inline attachment links and other links under ``root``, in page
    order, none inside another (old markup nests ``.attachment-details`` in a block)."""
    found: list[Component] = []
    current: Element | None = None
    for el in _CANDIDATES(root):
        if current is not None and _is_inside(el, current):
            continue
        kind = _kind(el)
        if kind is None:
            continue
        found.append((el, kind))
        current = el if kind != "link" else current
    return found


def _kind(el: Element) -> str | None:
    classes = set((el.get("class") or "").split())
    if classes & _BLOCK_CLASSES or ("attachment" in classes and el.tag in ("section", "div")):
        return "block"
    if classes & _INLINE_CLASSES:
        return "inline"
    return "link" if el.tag == "a" else None


def attachments_in(root: Element, base_url: str, found: list[Component] | None = None) -> tuple[Attachment, ...]:
    """Every file ``root`` shows (blocks, inline links, plain links to asset paths), once per
    URL, in page order. ``found`` is ``components(root)`` when the caller has it already."""
    files: dict[str, Attachment] = {}
    for el, kind in components(root) if found is None else found:
        if kind == "block":
            attachment = _from_block(el, base_url)
        elif kind == "inline":
            attachment = _from_inline(el, base_url)
        else:
            href = _href(el, base_url)
            attachment = _attachment(reader_text(el), href, None) if href and _on_asset_path(href) and not is_preview(href) else None
        if attachment is not None:
            files.setdefault(attachment.url, attachment)
    return tuple(files.values())


def strip_attachment_markup(root: Element, found: list[Component] | None = None) -> None:
    """Leave only what a sentence says: attachment blocks go (their files are read as files),
    inline attachment links keep their title and lose "(PDF, 565KB, 2 pages)"."""
    for el, kind in components(root) if found is None else found:
        if kind == "block":
            drop(el)
        elif kind == "inline":
            link = first(el, "a")
            title = reader_text(link) if link is not None else reader_text(el)
            tail = el.tail
            for child in list(el):
                el.remove(child)
            el.text = title
            el.tail = tail


def _from_block(block: Element, base_url: str) -> Attachment | None:
    title_link = select_one(block, _TITLE_LINK)
    url = _href(title_link, base_url) if title_link is not None else None
    if url is None or is_preview(url):
        download = select_one(block, _DOWNLOAD_LINK)
        url = _href(download, base_url) if download is not None else None
    if url is None:
        excluded = set(select(block, _NOT_THE_FILE))
        url = next((href for link in block.iterdescendants("a") if not _within(link, excluded) and (href := _href(link, base_url)) and looks_like_file(href)), None)
    if url is None:
        return None
    title_element = select_one(block, _TITLE)
    title = reader_text(title_element) if title_element is not None else reader_text(title_link) if title_link is not None else ""
    return _attachment(title, url, _content_type(block))


def _from_inline(component: Element, base_url: str) -> Attachment | None:
    link = first(component, "a")
    url = _href(link, base_url) if link is not None else None
    if link is None or url is None or is_preview(url):
        return None
    return _attachment(reader_text(link), url, _content_type(component))


def _attachment(title: str, url: str, content_type: str | None) -> Attachment:
    return Attachment(
        title=title,
        url=url,
        content_type=content_type,
        filename=url.rsplit("/", 1)[-1] or None,
        attachment_type="file" if looks_like_file(url) else "html",
    )


def _content_type(component: Element) -> str | None:
    element = select_one(component, _TYPE)
    text = reader_text(element) if element is not None else ""
    return text or None


def _href(link: Element | None, base_url: str) -> str | None:
    href = (link.get("href") or "").strip() if link is not None else ""
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    try:
        url = urljoin(base_url, href)
        return url if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:  # an address that cannot be parsed ("http://[x") names no file
        return None


def _on_asset_path(url: str) -> bool:
    path = (_path(url) or "").lower()
    return any(part in path for part in ASSET_PATHS)


def _within(el: Element, containers: set[Element]) -> bool:
    return el in containers or any(a in containers for a in el.iterancestors())


def _is_inside(el: Element, container: Element) -> bool:
    return any(a is container for a in el.iterancestors())

"""The Atom feed of changes (feedgen), checked before it is written, written atomically.

Pure up to :func:`write_feed`: :func:`build_feed` turns entry data into XML bytes with no clock
and no database. Each entry's content is the HTML of ``entry.html`` (every scraped string
escaped there), and characters XML cannot carry are removed before anything reaches feedgen,
so no page can put live markup into a reader.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from feedgen.feed import FeedGenerator
from lxml import etree

from monitor.errors import FeedInvalid
from monitor.publish.entries import OGL_NOTICE, FeedEntry, render_entry_html
from monitor.publish.files import write_atomically
from monitor.publish.safety import safe_href, xml_safe

ATOM_NS = "http://www.w3.org/2005/Atom"


# -- building ----------------------------------------------------------------------------------


SUBTITLE = "Changes to what the Department for Education publishes on GOV.UK about pupil data"


def build_feed(entries: Sequence[FeedEntry], *, title: str, feed_url: str, updated: datetime, max_entries: int = 500, subtitle: str = SUBTITLE, html_of: Callable[[FeedEntry], str] = render_entry_html) -> bytes:
    """Atom XML, newest entry first; ``html_of`` gives each entry's content (feeds that share
    entries share one rendering)."""
    newest_first = sorted(entries, key=lambda e: (e.detected_at, e.sequence), reverse=True)[:max_entries]
    gen = FeedGenerator()
    gen.id(xml_safe(feed_url))
    gen.title(xml_safe(title))
    gen.subtitle(xml_safe(subtitle))
    gen.link(href=feed_url, rel="self", type="application/atom+xml")
    gen.author({"name": "dfe-monitor"})
    gen.rights(OGL_NOTICE)
    gen.generator("dfe-monitor", uri="https://example.org/dfe-monitor")
    gen.language("en")
    gen.updated(newest_first[0].detected_at if newest_first else updated)
    try:
        _add_entries(gen, newest_first, html_of)
        xml = gen.atom_str(pretty=True)
    except ValueError as exc:  # feedgen refuses an entry (an empty title or id, a bad date)
        raise FeedInvalid(f"the feed could not be built ({exc}); the previous feed was kept") from None
    return _add_entry_links(xml, newest_first)


def _add_entries(gen: FeedGenerator, newest_first: Sequence[FeedEntry], html_of: Callable[[FeedEntry], str]) -> None:
    # feedgen prepends by default; append so the order we sorted is the order written.
    for entry in newest_first:
        item = gen.add_entry(order="append")
        item.id(xml_safe(entry.feed_id))
        item.title(xml_safe(entry.title))
        item.updated(entry.detected_at)
        item.published(entry.detected_at)
        item.category(term=xml_safe(entry.category), label=xml_safe(entry.category.replace("-", " ")))
        item.category(term=f"kind:{xml_safe(entry.kind)}")
        if entry.priority == "high":
            item.category(term="priority:high", label="high priority")
        if entry.silent_edit:
            item.category(term="silent-edit", label="silent edit")
        item.summary(xml_safe(entry.summary))
        item.content(html_of(entry), type="html")


def entry_links(entry: FeedEntry) -> list[tuple[str, str]]:
    """(rel, href) of an entry's links: the page on GOV.UK, and its change page when published."""
    links = []
    if href := safe_href(entry.url):
        links.append(("alternate", href))
    if page := safe_href(entry.page_url):
        links.append(("related", page))
    return links


def _add_entry_links(xml: bytes, entries: Sequence[FeedEntry]) -> bytes:
    """Each entry's links, added after feedgen (1.0 drops rel and type from entry links)."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    for element, entry in zip(root.iterfind(f"{{{ATOM_NS}}}entry"), entries, strict=True):
        title = element.find(f"{{{ATOM_NS}}}title")
        position = list(element).index(title) + 1 if title is not None else len(element)
        for offset, (rel, href) in enumerate(entry_links(entry)):
            link = etree.Element(f"{{{ATOM_NS}}}link", href=href, rel=rel, type="text/html")
            link.tail = "\n    "
            element.insert(position + offset, link)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- checking and writing ----------------------------------------------------------------------


def check_feed(xml: bytes) -> None:
    """Refuse a feed that is not well-formed Atom with unique ids, titles and dates."""
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise FeedInvalid(f"the feed would not be well-formed XML ({exc}); the previous feed was kept") from None
    ns = {"a": ATOM_NS}
    if root.tag != f"{{{ATOM_NS}}}feed":
        raise FeedInvalid("the feed's root is not an Atom <feed>; the previous feed was kept")
    for required in ("a:id", "a:title", "a:updated"):
        if root.find(required, ns) is None:
            raise FeedInvalid(f"the feed has no {required[2:]}; the previous feed was kept")
    ids: set[str] = set()
    for entry in root.findall("a:entry", ns):
        entry_id = entry.findtext("a:id", namespaces=ns)
        if not entry_id or entry_id in ids:
            raise FeedInvalid(f"entry id missing or repeated ({entry_id!r}); the previous feed was kept")
        ids.add(entry_id)
        if not entry.findtext("a:title", namespaces=ns) or entry.find("a:updated", ns) is None:
            raise FeedInvalid(f"entry {entry_id} lacks a title or updated date; the previous feed was kept")


def write_feed(path: Path, xml: bytes) -> None:
    """Check, then replace ``path`` atomically: readers see the old feed or the new one."""
    check_feed(xml)
    write_atomically(path, xml, what="feed")

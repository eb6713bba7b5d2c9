"""One static HTML page per change (and an index), for people who do not use a feed reader.

The pages show the same entry HTML as the feed (``entry.html``), inside a page whose Content
Security Policy forbids scripts, frames and plugins outright (``page.html``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.publish.atom import rfc3339
from monitor.publish.entries import OGL_NOTICE, FeedEntry, entry_view
from monitor.publish.files import write_atomically
from monitor.publish.render import render


def page_name(entry: FeedEntry) -> str:
    return f"change-{entry.sequence}.html"


def render_change_page(entry: FeedEntry) -> str:
    """The change's own page: what, where and when, then the entry as the feed shows it."""
    return render("change.html", title=entry.title, licence=OGL_NOTICE, change=_summary_line(entry), entry=entry_view(entry))


def render_index(entries: Sequence[FeedEntry], title: str) -> str:
    """A list of every change page, in the order given (newest first)."""
    return render("index.html", title=title, licence=OGL_NOTICE, changes=[_summary_line(entry) for entry in entries])


def _summary_line(entry: FeedEntry) -> dict[str, Any]:
    return {
        "title": entry.title,
        "page": page_name(entry),
        "kind": entry.kind,
        "category": entry.category,
        "detected": rfc3339(entry.detected_at),
        "high": entry.priority == "high",
    }


def write_pages(folder: Path, entries: Sequence[FeedEntry], title: str) -> None:
    """Write every change page and the index, each atomically; unchanged pages are left alone."""
    for entry in entries:
        _write(folder / page_name(entry), render_change_page(entry), "change page")
    _write(folder / "index.html", render_index(entries, title), "index of change pages")


def _write(path: Path, html: str, what: str) -> None:
    write_atomically(path, html.encode("utf-8"), what=what, skip_if_same=True)

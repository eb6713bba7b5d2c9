"""One change as the feed and the change pages show it: the entry data and its HTML.

:func:`entry_view` decides what a reader sees (the change note or the silent-edit warning,
which URLs are links, what is clipped); ``entry.html`` lays it out with every value escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.publish.diffview import Link, file_view, link, text_changes_view
from monitor.publish.marks import Marker
from monitor.publish.render import render

OGL_NOTICE = "Contains public sector information licensed under the Open Government Licence v3.0."
MAX_DOCUMENTS = 50


@dataclass(frozen=True)
class FeedEntry:
    feed_id: str
    title: str
    url: str
    category: str
    kind: str
    detected_at: datetime
    summary: str
    silent_edit: bool | None
    priority: str = "normal"
    terms: tuple[str, ...] = ()
    change_note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    sequence: int = 0  # the change's id: orders entries detected in the same second


def render_entry_html(entry: FeedEntry) -> str:
    """The entry's content: HTML that goes into the feed (escaped again as Atom text)."""
    return render("entry.html", entry=entry_view(entry))


def entry_view(entry: FeedEntry) -> dict[str, Any]:
    """Everything ``entry.html`` shows, as plain data (nothing in it is markup).

    The summary is shown only when it says more than the title already does (a title and the
    same words again under it are the same news twice); watch-list terms are marked wherever
    the entry shows them.
    """
    d = entry.details or {}
    marker = Marker(entry.terms)
    return {
        "summary": marker(entry.summary) if _adds_to(entry.title, entry.summary) else [],
        "change_note": marker(entry.change_note or ""),
        "silent_edit": bool(entry.silent_edit),
        "terms": ", ".join(entry.terms) if entry.terms else None,
        "withdrawn": marker(d.get("withdrawn_explanation") or ""),
        "error": d.get("error") or "",
        "moved": _moved(d),
        "description": marker(d.get("description") or ""),
        "facts": _facts(d, marker),
        "renames": _renames(d, marker),
        "text": text_changes_view(d.get("text_changes") or [], marker),
        "files": [file_view(event, marker) for event in d.get("attachments") or []],
        "documents": _documents(d),
        "page_link": link(entry.url, "View the page on GOV.UK"),
        "licence": OGL_NOTICE,
    }


def _moved(details: dict[str, Any]) -> dict[str, Link] | None:
    """Where a page moved from and to: links only if they are http(s)."""
    if not details.get("moved_from"):
        return None
    moved_to = details.get("moved_to") or ""
    return {"old": link(details["moved_from"], details["moved_from"]), "new": link(moved_to, moved_to)}


def _adds_to(title: str, summary: str) -> bool:
    """True when ``summary`` says something ``title`` does not (compared without case,
    punctuation and the ", no change note" the title may end with)."""

    def words(text: str) -> str:
        return " ".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())

    return bool(summary) and words(summary) not in words(title)


def _renames(details: dict[str, Any], marker: Marker) -> list[dict[str, Any]]:
    """A new title or summary, shown as the old one struck out and the new one inserted."""
    renames = []
    for label, key in (("Title", "title_change"), ("Summary", "summary_change")):
        pair = details.get(key)
        if pair:
            renames.append({"label": label, "old": marker(pair[0]), "new": marker(pair[1])})
    return renames


def _facts(details: dict[str, Any], marker: Marker) -> list[dict[str, Any]]:
    """Dates and status that changed: "Release date: 19 January 2016 → 20 January 2016"."""
    return [
        {"label": fact.get("label", ""), "before": marker(fact.get("before") or ""), "after": marker(fact.get("after") or "")}
        for fact in details.get("facts_changed") or []
        if isinstance(fact, dict)
    ]


def _documents(details: dict[str, Any]) -> list[dict[str, Any]]:
    """Documents a collection gained or lost (the first fifty of each)."""
    lists = []
    for label, key in (("Added to the collection", "documents_added"), ("Removed from the collection", "documents_removed")):
        docs = details.get(key) or []
        if docs:
            lists.append({"label": label, "docs": [{"title": doc.get("title", ""), "group": doc.get("group") or ""} for doc in docs[:MAX_DOCUMENTS]]})
    return lists

"""One change as the feed and the change pages show it: the entry data and its HTML.

:func:`entry_view` decides what a reader sees (the change notes with their dates or the
silent-edit warning, which URLs are links, what is clipped); ``entry.html`` lays it out with
every value escaped and its look inline. :func:`render_entry_html` keeps a feed entry under
:data:`MAX_ENTRY_BYTES`: a change too big for a reader is shown in part, with a link to its
change page, where it is shown whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.publish.diffview import FEED, Budget, Link, link, text_changes_view
from monitor.publish.fileview import file_view
from monitor.publish.marks import Marker
from monitor.publish.render import render

OGL_NOTICE = "Contains public sector information licensed under the Open Government Licence v3.0."
MAX_ENTRY_BYTES = 60 * 1024  # an entry's content as the feed carries it (escaped once more)
MAX_TINY_TEXT = 1_500  # summary and each note in the smallest rendering
# Tried in turn until the entry fits; the last shows no diff at all, only what the change is.
FEED_BUDGETS = (FEED, FEED.shrunk(4), FEED.shrunk(16))


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
    name: str = ""  # the target's name ("" : read from the title)
    target_id: int = 0
    page_url: str = ""  # the public URL of its change page ("" : none)
    provenance: dict[str, Any] = field(default_factory=dict)  # capture and file hashes

    @property
    def short_title(self) -> str:
        """The target's name: the title without what happened."""
        return self.name or self.title.split(" — ")[0]


def render_entry_html(entry: FeedEntry) -> str:
    """The entry's content in the feed: HTML (escaped again as Atom text), at most 60 KB."""
    for number, budget in enumerate(FEED_BUDGETS):
        html = render("entry.html", entry=entry_view(entry, budget, cut=number > 0))
        if feed_bytes(html) <= MAX_ENTRY_BYTES:
            return html
    return render("entry.html", entry=tiny_view(entry))


def feed_bytes(html: str) -> int:
    """Bytes of ``html`` once escaped as the text of an Atom element (< > & become entities)."""
    return len(html.encode("utf-8")) + 3 * (html.count("<") + html.count(">")) + 4 * html.count("&")


def entry_view(entry: FeedEntry, budget: Budget = FEED, *, cut: bool = False, on_page: bool = False) -> dict[str, Any]:
    """Everything ``entry.html`` shows, as plain data (nothing in it is markup).

    The summary is shown only when it says more than the title already does (a title and the
    same words again under it are the same news twice); watch-list terms are marked wherever
    the entry shows them.
    """
    d = entry.details or {}
    marker = Marker(entry.terms)
    return {
        **_about(entry, marker, on_page=on_page, cut=cut),
        "notes": [{"date": n["date"], "text": marker(n["text"])} for n in change_notes(entry)],
        "facts": _facts(d, marker),
        "text": text_changes_view(d.get("text_changes") or [], budget, marker),
        "files": [file_view(event, budget, marker) for event in (d.get("attachments") or [])[: budget.files]],
        "more_files": max(0, len(d.get("attachments") or []) - budget.files),
        "documents": _documents(d, budget.documents),
        "renames": _renames(d, marker),
    }


def tiny_view(entry: FeedEntry) -> dict[str, Any]:
    """What the change is, without its diff: for a change too big for any feed budget."""
    marker = Marker(entry.terms)
    notes = [{"date": n["date"], "text": marker(_cut(n["text"]))} for n in change_notes(entry)[:3]]
    about = _about(entry, marker, on_page=False, cut=True, shorten=_cut)
    about.update(moved=None)
    return {**about, "notes": notes, "facts": [], "text": None, "files": [], "more_files": 0, "documents": [], "renames": []}


def _about(entry: FeedEntry, marker: Marker, *, on_page: bool, cut: bool, shorten: Callable[[str], str] = str) -> dict[str, Any]:
    d = entry.details or {}
    terms = ", ".join(entry.terms)
    return {
        "summary": marker(shorten(entry.summary)) if _adds_to(entry.title, entry.summary) else [],
        "silent_edit": bool(entry.silent_edit),
        "terms": shorten(terms) if terms else None,
        "withdrawn": marker(shorten(d.get("withdrawn_explanation") or "")),
        "error": shorten(d.get("error") or ""),
        "moved": _moved(d),
        "description": marker(shorten(d.get("description") or "")),
        "page_link": link(entry.url, "View the page on GOV.UK"),
        "change_page": link(entry.page_url, "Open the change page") if entry.page_url and not on_page else None,
        "cut": cut,
        "on_page": on_page,
        "sequence": entry.sequence,
        "licence": OGL_NOTICE,
    }


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TINY_TEXT else text[:MAX_TINY_TEXT] + " …"


def change_notes(entry: FeedEntry) -> list[dict[str, str]]:
    """The change notes GOV.UK gained with this change, each with its date ("10 December 2026")."""
    notes = []
    for note in (entry.details or {}).get("new_notes") or []:
        if isinstance(note, dict) and note.get("note"):
            notes.append({"date": readable_date(str(note.get("timestamp") or "")), "text": str(note["note"])})
    if not notes and entry.change_note:
        notes.append({"date": "", "text": entry.change_note})
    return notes


def readable_date(timestamp: str) -> str:
    """An ISO timestamp as people write dates on GOV.UK; the text itself if it is not one."""
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    return f"{moment.day} {moment:%B %Y}"


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


def _documents(details: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Documents a collection gained or lost (the first ``limit`` of each)."""
    lists = []
    for label, key in (("Added to the collection", "documents_added"), ("Removed from the collection", "documents_removed")):
        docs = details.get(key) or []
        if docs:
            shown = [{"title": doc.get("title", ""), "group": doc.get("group") or ""} for doc in docs[:limit]]
            lists.append({"label": label, "docs": shown, "more": max(0, len(docs) - limit)})
    return lists

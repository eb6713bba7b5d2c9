"""Static HTML pages for people who do not use a feed reader: one page per change, an index
grouped by day (one page per filter: category, silent edits, high priority — static, so no
JavaScript), and one history page per watched page.

The change page shows the same entry HTML as the feed (``entry.html``) with a larger budget,
and its sources: the GOV.UK page, each file before and after with its sha256, and the sha256
of the captures compared. Every page's Content Security Policy forbids scripts outright.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from monitor.publish.cache import RenderCache
from monitor.publish.diffview import PAGE, link
from monitor.publish.entries import OGL_NOTICE, FeedEntry, entry_view
from monitor.publish.files import write_atomically
from monitor.publish.render import render

CATEGORY_LABELS = {
    "privacy-notice": "Privacy notices",
    "release-register": "Data shares and registers",
    "census-guidance": "Census guidance",
    "other": "Other",
}


@dataclass(frozen=True)
class IndexFilter:
    """One static index page: its file, its button label and which entries it keeps."""

    page: str
    label: str
    category: str | None = None
    silent: bool = False
    high: bool = False

    def keeps(self, entry: FeedEntry) -> bool:
        if self.category is not None and entry.category != self.category:
            return False
        if self.silent and not entry.silent_edit:
            return False
        return not (self.high and entry.priority != "high")


def page_name(entry: FeedEntry) -> str:
    return f"change-{entry.sequence}.html"


def history_name(target_id: int) -> str:
    return f"target-{target_id}.html"


def index_filters(entries: Sequence[FeedEntry]) -> list[IndexFilter]:
    """All, each category (the known four, then any other the entries have), silent, high."""
    categories = list(CATEGORY_LABELS) + sorted({e.category for e in entries} - set(CATEGORY_LABELS))
    return [
        IndexFilter("index.html", "All changes"),
        *(IndexFilter(f"index-{c}.html", category_label(c), category=c) for c in categories),
        IndexFilter("index-silent.html", "Silent edits", silent=True),
        IndexFilter("index-high.html", "High priority", high=True),
    ]


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category.replace("-", " ").capitalize())


def render_change_page(entry: FeedEntry) -> str:
    """The change's own page: what, where and when, the entry, then its sources."""
    return render(
        "change.html",
        title=f"{entry.short_title}: {entry.kind} — dfe-monitor",
        licence=OGL_NOTICE,
        change=_line(entry),
        entry=entry_view(entry, PAGE, on_page=True),
        sources=_sources(entry),
    )


def render_index(entries: Sequence[FeedEntry], title: str, current: IndexFilter | None = None, filters: Sequence[IndexFilter] | None = None) -> str:
    """Entries (newest first) by day, with the filter buttons; ``current`` is this page's filter."""
    filters = list(filters) if filters is not None else index_filters(entries)
    current = current or filters[0]
    kept = [e for e in entries if current.keeps(e)]
    heading = title if current.page == "index.html" else f"{current.label}: {title}"
    buttons = [{"page": f.page, "label": f.label, "current": f.page == current.page} for f in filters]
    return render("index.html", title=heading, heading=heading, licence=OGL_NOTICE, count=len(kept), filters=buttons, days=by_day(kept))


def render_history(entries: Sequence[FeedEntry]) -> str:
    """Every change to one target (``entries``, newest first, all of one target)."""
    first = entries[0]
    heading = f"Changes to {first.short_title}"
    return render("history.html", title=heading, heading=heading, licence=OGL_NOTICE, count=len(entries), page=link(first.url, first.url), days=by_day(entries))


def by_day(entries: Sequence[FeedEntry]) -> list[dict[str, Any]]:
    """Entries grouped by their UTC day, in the order given."""
    days: list[dict[str, Any]] = []
    for entry in entries:
        label = f"{entry.detected_at:%A} {entry.detected_at.day} {entry.detected_at:%B %Y}"
        if not days or days[-1]["label"] != label:
            days.append({"label": label, "changes": []})
        days[-1]["changes"].append(_line(entry))
    return days


def _line(entry: FeedEntry) -> dict[str, Any]:
    """One change as lists and headings show it."""
    detected = entry.detected_at
    return {
        "id": entry.sequence,
        "title": entry.title,
        "name": entry.short_title,
        "summary": entry.summary,
        "page": page_name(entry),
        "history": history_name(entry.target_id),
        "kind": entry.kind,
        "category": entry.category,
        "category_label": category_label(entry.category),
        "silent": bool(entry.silent_edit),
        "high": entry.priority == "high",
        "time": f"{detected:%H:%M} UTC",
        "detected_label": f"{detected.day} {detected:%B %Y} at {detected:%H:%M} UTC",
    }


def _sources(entry: FeedEntry) -> dict[str, Any]:
    """Where the change can be checked: the page, each file before and after, the captures."""
    p = entry.provenance or {}
    files = []
    for event in (entry.details or {}).get("attachments") or []:
        url, old_url = event.get("url") or "", event.get("old_url") or ""
        before_url = old_url or (url if event.get("op") not in ("added",) else "")
        after_url = url if event.get("op") not in ("removed", "missing") else ""
        files.append({
            "title": event.get("title") or url,
            "before_link": link(before_url, before_url) if before_url else None,
            "after_link": link(after_url, after_url) if after_url else None,
            "before_sha": (p.get("files_before") or {}).get(old_url or url) or "",
            "after_sha": (p.get("files_after") or {}).get(url) or "" if after_url else "",
            "same_address": bool(before_url and before_url == after_url),
        })
    old, new = p.get("old_version"), p.get("new_version")
    captures = [{"label": label, "hashes": p.get(key) or []} for label, key in (("Captures before", "captures_before"), ("Captures after", "captures_after")) if p.get(key)]
    return {
        "page": link(entry.url, entry.url),
        "files": files,
        "versions": f"version {old} → version {new}" if old and new else "",
        "versions_args": f"{old} {new}" if old and new else "",
        "captures": captures,
    }


def write_pages(folder: Path, entries: Sequence[FeedEntry], title: str, cache: RenderCache | None = None) -> None:
    """Every change page, the index pages and the history pages, each atomically; unchanged
    pages are left alone (their modification time only moves when their content does). A page
    in ``cache`` from an earlier publish is not rendered again: a change page by its entry, an
    index or history page by the entries it lists."""
    renderings = cache if cache is not None else RenderCache(None)
    keys: dict[int, str] = {}  # id(entry) -> its cache key: what lists of entries are keyed by
    for entry in entries:
        keys[id(entry)] = key = renderings.key("change page", entry)
        _write(folder / page_name(entry), renderings.html("change page", entry, partial(render_change_page, entry), key=key), "change page")
    filters = index_filters(entries)
    listed = tuple(keys[id(e)] for e in entries)
    for index in filters:
        html = renderings.html("index page", (title, index, tuple(filters), listed), partial(render_index, entries, title, index, filters))
        _write(folder / index.page, html, "index of change pages")
    by_target: dict[int, list[FeedEntry]] = {}
    for entry in entries:
        by_target.setdefault(entry.target_id, []).append(entry)
    for target_id, own in by_target.items():
        html = renderings.html("history page", tuple(keys[id(e)] for e in own), partial(render_history, own))
        _write(folder / history_name(target_id), html, "history page")


def _write(path: Path, html: str, what: str) -> None:
    write_atomically(path, html.encode("utf-8"), what=what, skip_if_same=True)

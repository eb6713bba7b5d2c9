"""Feeds by topic: the main feed of everything, and each ``[[feeds]]`` entry's feed of the
entries matching its filters.

Every feed is complete on its own (valid Atom, its own title and self link, up to
``max_entries`` of *its* entries, not a cut of the main feed's), and an entry has the same id in
every feed it is in, so a reader subscribed to two of them sees one item once each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.publish.atom import SUBTITLE, build_feed, write_feed
from monitor.publish.cache import RenderCache
from monitor.publish.entries import FeedEntry, render_entry_html


@dataclass(frozen=True)
class FeedSpec:
    """One feed to write: where, under which title and self link, and which entries it keeps."""

    path: Path
    title: str
    url: str
    categories: tuple[str, ...] = ()  # empty: all
    priority: str | None = None
    silent_only: bool = False
    kinds: tuple[str, ...] | None = None  # None: any

    def keeps(self, entry: FeedEntry) -> bool:
        if self.categories and entry.category not in self.categories:
            return False
        if self.priority is not None and entry.priority != self.priority:
            return False
        if self.silent_only and not entry.silent_edit:
            return False
        return self.kinds is None or entry.kind in self.kinds

    @property
    def description(self) -> str:
        """What the feed keeps, in words (its subtitle)."""
        parts = []
        if self.categories:
            parts.append("category " + " or ".join(self.categories))
        if self.priority is not None:
            parts.append(f"{self.priority} priority")
        if self.silent_only:
            parts.append("silent edits only")
        if self.kinds is not None:
            parts.append("kind " + " or ".join(self.kinds))
        return SUBTITLE + (f" ({'; '.join(parts)})" if parts else "")


def select(spec: FeedSpec, newest_first: Sequence[FeedEntry], max_entries: int) -> list[FeedEntry]:
    """The newest ``max_entries`` entries the feed keeps."""
    kept: list[FeedEntry] = []
    for entry in newest_first:
        if spec.keeps(entry):
            kept.append(entry)
            if len(kept) == max_entries:
                break
    return kept


def build_all(specs: Sequence[FeedSpec], newest_first: Sequence[FeedEntry], *, max_entries: int, now: datetime, cache: RenderCache | None = None) -> list[tuple[FeedSpec, bytes, int]]:
    """Every feed built (and so checked by feedgen) before any is written; an entry in several
    feeds is rendered once (and not at all when ``cache`` has it from an earlier publish)."""
    renderings = cache if cache is not None else RenderCache(None)

    def html_of(entry: FeedEntry) -> str:
        return renderings.html("entry", entry, lambda: render_entry_html(entry))

    built = []
    for spec in specs:
        entries = select(spec, newest_first, max_entries)
        xml = build_feed(entries, title=spec.title, feed_url=spec.url, updated=now, max_entries=max_entries, subtitle=spec.description, html_of=html_of)
        built.append((spec, xml, len(entries)))
    return built


def write_all(built: Sequence[tuple[FeedSpec, bytes, int]]) -> None:
    for spec, xml, _ in built:
        write_feed(spec.path, xml)

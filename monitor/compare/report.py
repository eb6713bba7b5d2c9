"""What a comparison of two Documents found: plain data, stored as JSON with the change, so a
feed or page can be rebuilt from the database alone."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from monitor.model import ChangeNote, LinkedDocument


@dataclass(frozen=True)
class TextChange:
    """One stretch of body text that changed."""

    op: str  # added | removed | changed
    section: str  # nearest heading above it ("" at the top of the page)
    kinds: tuple[str, ...]  # block kinds involved
    old: tuple[str, ...] = ()
    new: tuple[str, ...] = ()
    words: tuple[tuple[str, str], ...] = ()  # word diff runs for "changed"
    # The kind of each block counted (the new ones; the old ones of a removal), so a stretch of a
    # heading and a paragraph is counted as one of each.
    block_kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeadlinePart:
    """One thing that changed, said at three lengths: ``full`` for the summary ("paragraph added
    in 'Who we share data with'"), ``brief`` for the title ("new file: July to September 2026
    (5 rows added)"), ``short`` when the title has no room for names ("new file (5 rows
    added)"). ``title`` is the file or document title inside ``brief``, which a title may shorten."""

    brief: str
    full: str
    short: str = ""
    title: str = ""


@dataclass(frozen=True)
class FactChange:
    """A date or status the page states, before and after ("" when not stated)."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class AttachmentEvent:
    op: str  # added | removed | replaced | moved | renamed | missing | restored
    title: str
    url: str
    old_url: str | None = None
    old_title: str | None = None
    formats: tuple[str, ...] = ()
    size: int | None = None
    compared_with: str | None = None  # title of the previous file a new one was compared with
    file_diff: dict[str, Any] | None = None
    file_summary: str = ""
    brief: str = ""  # the file's changes in a few words, for the headline
    note: str = ""  # e.g. extraction failure, "contents identical"


@dataclass(frozen=True)
class ChangeReport:
    kind: str  # changed | withdrawn
    headline: str
    silent_edit: bool | None
    new_notes: tuple[ChangeNote, ...] = ()
    title_change: tuple[str, str] | None = None
    summary_change: tuple[str, str] | None = None
    text_changes: tuple[TextChange, ...] = ()
    attachments: tuple[AttachmentEvent, ...] = ()
    documents_added: tuple[LinkedDocument, ...] = ()
    documents_removed: tuple[LinkedDocument, ...] = ()
    withdrawn_explanation: str | None = None
    facts_changed: tuple[FactChange, ...] = ()
    terms: tuple[str, ...] = ()
    # The headline's parts, most important first: the entry title keeps as many as fit.
    headline_parts: tuple[HeadlinePart, ...] = ()
    summary: str = ""  # every part in full: the first line of the entry
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (tuples become lists), exactly as stored with the change."""
        return json.loads(json.dumps(asdict(self), ensure_ascii=False))

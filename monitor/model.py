"""Plain dataclasses shared by extraction, diffing and the feed.

Nothing here knows about Scrapy, SQLAlchemy or the clock. Every class round-trips through
JSON (``to_json`` / ``*_from_json``) so that versions can be stored and re-read exactly.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from typing import Any

# A cell of an extracted table: dates and times are ISO 8601 strings, empty cells are None.
Cell = str | int | float | bool | None


class FetchRole(StrEnum):
    """Why a request was made (``fetches.role``)."""

    API = "api"  # the target's Content API item
    PAGE = "page"  # the rendered page (no API item, or a page on another allowed host)
    PARENT = "parent"  # an HTML publication's parent publication (its change notes)
    ATTACHMENT = "attachment"  # a file the page lists now
    FORMER = "former"  # a file the last version listed and this one does not: where does it lead?
    SEARCH = "search"  # a Search API page of a [[discover]] entry


class OutcomeKind(StrEnum):
    """What one run's captures of a target amount to."""

    OK = "ok"  # a document
    FAILED = "failed"  # no usable answer (an error, an error page, a file that could not be fetched)
    GONE = "gone"  # 404/410, or a gone item
    MOVED = "moved"  # the item redirects elsewhere


class TargetState(StrEnum):
    """A target's watch health (``targets.state``)."""

    NEW = "new"  # not seen answering yet (never checked, or every check so far failed)
    OK = "ok"
    FAILING = "failing"  # failed health.failing_after checks in a row (a `failing` entry said so)
    GONE = "gone"  # 404/410 on the last check, fewer than health.gone_after times in a row
    REMOVED = "removed"  # gone health.gone_after checks in a row (a `removed` entry said so)


class ChangeKind(StrEnum):
    """What a change (a feed entry) reports (``changes.kind``)."""

    CHANGED = "changed"
    WITHDRAWN = "withdrawn"
    NEW = "new"  # a publication found by discovery
    MOVED = "moved"
    REMOVED = "removed"
    RESTORED = "restored"
    FAILING = "failing"
    RECOVERED = "recovered"


class RunStatus(StrEnum):
    """How a run ended (``runs.status``)."""

    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"  # some targets failed
    FAILED = "failed"
    ABORTED = "aborted"  # stopped, or killed (marked by the next run)


@dataclass(frozen=True)
class Block:
    """One unit of text in reading order: a heading, paragraph, list item or table row."""

    kind: str
    text: str
    level: int = 0  # heading level (1-6) or list nesting depth (0 = top)


@dataclass(frozen=True)
class Table:
    """One sheet of a spreadsheet (or one table of a document)."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Section:
    """A numbered (or headed) section of a PDF or DOCX file."""

    number: str  # "3.2", or "" when the heading carries no number
    title: str  # heading text without the number; "" for text before the first heading
    paragraphs: tuple[str, ...]
    page: int | None = None  # first page the section appears on (PDF only)

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}".strip() or "(opening text)"


@dataclass(frozen=True)
class FileContent:
    """What could be read out of one attachment file. ``error`` set means extraction failed."""

    format: str  # ods | xlsx | xls | csv | pdf | docx | text | unknown
    tables: tuple[Table, ...] = ()
    sections: tuple[Section, ...] = ()
    page_count: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file (or HTML attachment) listed on a page."""

    title: str
    url: str
    content_type: str | None = None
    filename: str | None = None
    size: int | None = None  # as declared by the page / API, not measured
    sha256: str | None = None  # of the downloaded bytes; None when not downloaded
    status: str = "ok"  # ok | missing (404/410) | unfetched (not downloaded: off-list host, html)
    attachment_type: str = "file"  # file | html | external


@dataclass(frozen=True)
class ChangeNote:
    timestamp: str  # RFC 3339 (or a bare date when that is all the page gives)
    note: str


@dataclass(frozen=True)
class Withdrawn:
    explanation: str
    withdrawn_at: str | None = None


@dataclass(frozen=True)
class Fact:
    """Something a page states apart from its text: a statistics release's date and status, a
    consultation's opening and closing dates ("Release date": "20 January 2016 9:30am")."""

    label: str
    value: str


@dataclass(frozen=True)
class LinkedDocument:
    """A document linked from a collection page."""

    title: str
    path: str
    group: str = ""


@dataclass(frozen=True)
class Document:
    """The normalised, noise-free state of one watched page."""

    url: str
    title: str
    summary: str = ""
    blocks: tuple[Block, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    change_notes: tuple[ChangeNote, ...] = ()
    linked_documents: tuple[LinkedDocument, ...] = ()
    facts: tuple[Fact, ...] = ()
    public_updated_at: str | None = None
    withdrawn: Withdrawn | None = None
    base_path: str | None = None
    content_id: str | None = None
    schema_name: str | None = None
    document_type: str | None = None
    source: str = "content_api"  # content_api | html
    # True when the page has a change history we can read, so a silent edit can be judged.
    has_change_history: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _json(self) -> str:
        return canonical_json(document_dict(self))

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), computed once per document."""
        return self._json

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON: equal fingerprints mean nothing changed."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def _flat(obj: Any) -> dict[str, Any]:
    """A dataclass of plain values as a dict (what ``asdict`` gives, without its deep copies)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def document_dict(document: Document) -> dict[str, Any]:
    """``asdict(document)``, built by hand: ``asdict`` deep-copies every value, and costs ~5 ms on
    a typical page (the JSON is what versions store and fingerprints hash, so it must equal it)."""
    data = _flat(document)
    for name in ("blocks", "attachments", "change_notes", "linked_documents", "facts"):
        data[name] = tuple(_flat(item) for item in data[name])
    if document.withdrawn is not None:
        data["withdrawn"] = _flat(document.withdrawn)
    data["extras"] = copy.deepcopy(document.extras)  # a copy, as asdict's
    return data


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def document_from_json(text: str | bytes) -> Document:
    data = json.loads(text)
    withdrawn = data.get("withdrawn")
    return Document(
        url=data["url"],
        title=data["title"],
        summary=data.get("summary", ""),
        blocks=tuple(Block(**b) for b in data.get("blocks", ())),
        attachments=tuple(Attachment(**a) for a in data.get("attachments", ())),
        change_notes=tuple(ChangeNote(**c) for c in data.get("change_notes", ())),
        linked_documents=tuple(LinkedDocument(**d) for d in data.get("linked_documents", ())),
        facts=tuple(Fact(**f) for f in data.get("facts", ())),
        public_updated_at=data.get("public_updated_at"),
        withdrawn=Withdrawn(**withdrawn) if withdrawn else None,
        base_path=data.get("base_path"),
        content_id=data.get("content_id"),
        schema_name=data.get("schema_name"),
        document_type=data.get("document_type"),
        source=data.get("source", "content_api"),
        has_change_history=data.get("has_change_history", False),
        extras=data.get("extras", {}),
    )


def file_content_to_json(content: FileContent) -> str:
    """Hand-built rather than ``asdict``, which deep-copies every cell (0.9 s on 50,000 rows)."""
    data = {
        "error": content.error,
        "format": content.format,
        "page_count": content.page_count,
        "sections": [
            {"number": s.number, "page": s.page, "paragraphs": list(s.paragraphs), "title": s.title}
            for s in content.sections
        ],
        "tables": [{"header": list(t.header), "name": t.name, "rows": t.rows} for t in content.tables],
    }
    return canonical_json(data)


def file_content_from_json(text: str | bytes) -> FileContent:
    data = json.loads(text)
    return FileContent(
        format=data["format"],
        tables=tuple(
            Table(name=t["name"], header=tuple(t["header"]), rows=tuple(tuple(r) for r in t["rows"]))
            for t in data.get("tables", ())
        ),
        sections=tuple(
            Section(
                number=s["number"],
                title=s["title"],
                paragraphs=tuple(s["paragraphs"]),
                page=s.get("page"),
            )
            for s in data.get("sections", ())
        ),
        page_count=data.get("page_count"),
        error=data.get("error"),
    )


@dataclass(frozen=True)
class PlanFacts:
    """What planning the next run needs of a stored Document: its files and its parent."""

    file_urls: tuple[str, ...]
    parent_path: str | None


def _plan_facts(attachments: Iterable[tuple[str, str]], extras: Mapping[str, Any]) -> PlanFacts:
    """The one rule: the addresses of the attachments that are files, and a parent path."""
    parent = extras.get("parent_path")
    return PlanFacts(tuple(url for url, kind in attachments if kind == "file"), parent if isinstance(parent, str) and parent else None)


def plan_facts_of(document: Document) -> PlanFacts:
    return _plan_facts(((a.url, a.attachment_type) for a in document.attachments), document.extras)


def plan_facts_to_json(facts: PlanFacts) -> str:
    """As ``versions.plan_facts`` stores them."""
    return canonical_json({"files": list(facts.file_urls), "parent_path": facts.parent_path})


def plan_facts_from_stored(text: str) -> PlanFacts:
    data = json.loads(text)
    return PlanFacts(tuple(data["files"]), data["parent_path"])


def plan_facts_from_json(text: str | bytes) -> PlanFacts:
    """The PlanFacts of a stored Document, read without building it (its blocks can number in
    the thousands; planning thousands of targets must not build them)."""
    data = json.loads(text)
    return _plan_facts(((a["url"], a.get("attachment_type", "file")) for a in data.get("attachments", ())), data.get("extras") or {})

"""What the query functions hand out: frozen copies of rows, never live ORM objects.

Code above ``storage/`` reads these and changes the database only through the functions of
``storage.repo``, so no session state, lazy load or accidental write can leak out of this
package.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

RowT = TypeVar("RowT")


def row_of(cls: type[RowT], obj: Any) -> RowT:
    """A frozen copy of ``obj``'s columns named like ``cls``'s fields."""
    return cls(**{f.name: getattr(obj, f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True)
class TargetRow:
    id: int
    url: str
    fetch_url: str
    name: str
    category: str
    source: str
    discovered_by: str | None
    active: bool
    created_at: datetime
    state: str
    consecutive_failures: int
    consecutive_gone: int
    last_error: str | None
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_change_at: datetime | None
    captures_key: str | None


@dataclass(frozen=True)
class RunRow:
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    pid: int | None
    command: str
    summary: str | None
    error: str | None


@dataclass(frozen=True)
class FetchRow:
    id: int
    run_id: int
    target_url: str | None
    role: str
    url: str
    final_url: str | None
    requested_at: datetime
    status: int | None
    not_modified: bool
    error: str | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    elapsed_ms: int | None
    redirects: str | None
    meta: str | None
    headers: str | None
    headers_dropped: int


@dataclass(frozen=True)
class ExtractionRow:
    sha256: str
    extractor_version: int
    format: str
    error: str | None
    content_sha256: str | None
    created_at: datetime


@dataclass(frozen=True)
class VersionRow:
    id: int
    target_id: int
    run_id: int
    created_at: datetime
    fingerprint: str
    document_sha256: str
    page_fetch_id: int | None
    extractor_version: int
    technical: bool
    plan_facts: str | None = None


@dataclass(frozen=True)
class ChangeRow:
    id: int
    target_id: int
    run_id: int
    kind: str
    detected_at: datetime
    title: str
    summary: str
    silent_edit: bool | None
    priority: str
    terms: str | None
    change_note: str | None
    old_version_id: int | None
    new_version_id: int | None
    details: str | None
    feed_id: str


@dataclass(frozen=True)
class DiscoverRow:
    key: str
    first_run_at: datetime
    last_run_at: datetime


@dataclass(frozen=True)
class AlertRow:
    id: int
    change_id: int
    channel: str
    state: str
    created_at: datetime
    attempts: int
    last_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    message_id: str

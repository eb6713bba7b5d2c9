"""The snapshot database schema (SQLAlchemy 2, typed). README.md documents it for researchers.

Raw bytes live once in ``blobs`` (by sha256, zlib-compressed). Every request is a row of
``fetches``. A ``version`` is a normalised document derived from stored fetches, added only
when the document changed; a ``change`` links the two versions it compares.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# PRAGMA user_version of a SQLite file at the newest migration (0.1.0 wrote 1, then 2): an
# older dfe-monitor refuses a file it cannot read instead of writing into it.
SCHEMA_VERSION = 5


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as UTC; read back as an aware UTC datetime (SQLite itself keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass times in UTC with tzinfo")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Target(Base):
    """A watched page: configured in config.toml or found by discovery."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String, unique=True)  # as configured or discovered
    fetch_url: Mapped[str] = mapped_column(String)  # where it lives now (follows moves)
    name: Mapped[str] = mapped_column(String)
    category: Mapped[str] = mapped_column(String)
    source: Mapped[str] = mapped_column(String, default="config")  # config | discovered
    discovered_by: Mapped[str | None] = mapped_column(String)  # discover entry key
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Watch health, updated after every run that checked the target.
    state: Mapped[str] = mapped_column(String, default="new")  # new | ok | failing | gone | removed
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_gone: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # sha256 over the captures (and the normaliser version) the current version was last
    # confirmed from: the same captures again need no re-reading. None after any failure.
    captures_key: Mapped[str | None] = mapped_column(String(64))


class Run(Base):
    """One `dfe-monitor run` (or reprocess)."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # running | completed | partial | failed | aborted
    status: Mapped[str] = mapped_column(String, default="running")
    pid: Mapped[int | None] = mapped_column(Integer)
    command: Mapped[str] = mapped_column(String, default="run")
    summary: Mapped[str | None] = mapped_column(Text)  # JSON counts
    error: Mapped[str | None] = mapped_column(Text)


class Blob(Base):
    """Raw bytes, stored once per sha256 (of the uncompressed bytes)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    compression: Mapped[str] = mapped_column(String, default="zlib")  # zlib | zstd-delta (storage/blobs.py)
    base_sha256: Mapped[str | None] = mapped_column(String(64))  # zstd-delta: the blob whose bytes are the dictionary
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Fetch(Base):
    """One HTTP request and what came of it: the provenance of every version."""

    __tablename__ = "fetches"
    __table_args__ = (
        Index("ix_fetches_url_id", "url", "id"),
        Index("ix_fetches_run_target", "run_id", "target_url"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    target_url: Mapped[str | None] = mapped_column(String)  # the target this was fetched for
    role: Mapped[str] = mapped_column(String)  # api | page | parent | attachment | search
    url: Mapped[str] = mapped_column(String)  # as requested
    final_url: Mapped[str | None] = mapped_column(String)  # after redirects
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[int | None] = mapped_column(Integer)  # HTTP status; None: no response
    not_modified: Mapped[bool] = mapped_column(Boolean, default=False)  # 304: body is sha256's
    error: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String)
    last_modified: Mapped[str | None] = mapped_column(String)
    content_type: Mapped[str | None] = mapped_column(String)
    size: Mapped[int | None] = mapped_column(Integer)  # bytes of the body
    sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    redirects: Mapped[str | None] = mapped_column(Text)  # JSON list of URLs passed through
    meta: Mapped[str | None] = mapped_column(Text)  # JSON: attachment title, discover key...
    # JSON list of [name, value]: every response header, at most 64 KB (None before 0.2.0).
    headers: Mapped[str | None] = mapped_column(Text)
    headers_dropped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # left out to stay in 64 KB


class Extraction(Base):
    """What an extractor read out of one attachment's bytes (cached by sha256 and version)."""

    __tablename__ = "extractions"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    extractor_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[str] = mapped_column(String)
    error: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Version(Base):
    """A distinct normalised state of a target's document."""

    __tablename__ = "versions"
    __table_args__ = (Index("ix_versions_target_id", "target_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical JSON
    document_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))  # the JSON itself
    page_fetch_id: Mapped[int | None] = mapped_column(ForeignKey("fetches.id"))
    extractor_version: Mapped[int] = mapped_column(Integer)
    technical: Mapped[bool] = mapped_column(Boolean, default=False)  # from a reprocess
    plan_facts: Mapped[str | None] = mapped_column(Text)  # JSON: the files and parent it lists


class Change(Base):
    """A detected change: one Atom entry."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_detected", "detected_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    # changed | new | withdrawn | removed | restored | moved | failing | recovered
    kind: Mapped[str] = mapped_column(String)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    silent_edit: Mapped[bool | None] = mapped_column(Boolean)
    priority: Mapped[str] = mapped_column(String, default="normal")  # normal | high
    terms: Mapped[str | None] = mapped_column(Text)  # JSON list of watch-list terms found
    change_note: Mapped[str | None] = mapped_column(Text)
    old_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    new_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    details: Mapped[str | None] = mapped_column(Text)  # JSON: the diff shown in the feed
    feed_id: Mapped[str] = mapped_column(String, unique=True)


class DiscoverQuery(Base):
    """A [[discover]] entry's memory: its first run is a baseline."""

    __tablename__ = "discover_queries"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    first_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""The research tables: everything a researcher reads, in plain rows, derived from versions.

They repeat what the compressed blobs hold (the Document JSON of each version, the extracted
contents of each file, the diff of each change) as text and rows that plain SQL can read and
full-text search can index. They are written in the same transaction as the version or change
they describe, and ``dfe-monitor reindex`` rebuilds them all from the stored versions.
docs/schema.md documents every column.

The full-text indexes (SQLite FTS5 tables, PostgreSQL ``tsvector`` columns) and the views are
made by the migrations only: they are not tables an ORM should write.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.schema import Base, UTCDateTime

# Bump when the same stored versions would be indexed differently: `reindex` then rebuilds.
INDEXER_VERSION = 1


class VersionFile(Base):
    """A file (or HTML attachment) a version lists, in page order."""

    __tablename__ = "version_files"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String)
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the downloaded bytes
    status: Mapped[str] = mapped_column(String)  # ok | missing | unfetched
    attachment_type: Mapped[str] = mapped_column(String)  # file | html | external
    content_type: Mapped[str | None] = mapped_column(String)
    format: Mapped[str | None] = mapped_column(String)  # as extracted: ods | xlsx | pdf | ...
    extraction_error: Mapped[str | None] = mapped_column(Text)


class VersionTextSpan(Base):
    """One piece of a target's readable text (its title, summary, a body block, a note) over the
    consecutive versions that have it: a piece still there in the next version of the same
    target extends ``last_version_id``; a new piece starts a span. The ``version_texts`` view
    gives each version its pieces (made by the migrations, as the full-text indexes are)."""

    __tablename__ = "version_text_spans"
    __table_args__ = (Index("ix_version_text_spans_open", "target_id", "last_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    position: Mapped[float] = mapped_column(Double)  # reading order among a version's pieces
    part: Mapped[str] = mapped_column(String)  # title | summary | heading | paragraph | ...
    section: Mapped[str] = mapped_column(Text)  # the heading it sits under ("" at the top)
    text: Mapped[str] = mapped_column(Text)
    first_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    last_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))


class FileText(Base):
    """One piece of an extracted file's text: a paragraph of a section, or a table row."""

    __tablename__ = "file_texts"
    __table_args__ = (Index("ix_file_texts_sha", "sha256", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))  # of the file's bytes
    position: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String)  # paragraph | row
    section: Mapped[str] = mapped_column(Text)  # section label, or sheet name for rows
    text: Mapped[str] = mapped_column(Text)


class RegisterRow(Base):
    """One value of one cell of a table in a target's files, over the versions that had it."""

    __tablename__ = "register_rows"
    __table_args__ = (
        Index("ix_register_rows_open", "target_id", "file_url", "last_version_id"),
        Index("ix_register_rows_key", "row_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    file_url: Mapped[str] = mapped_column(String)
    file_title: Mapped[str] = mapped_column(Text)
    sheet: Mapped[str] = mapped_column(Text)
    key_column: Mapped[str | None] = mapped_column(Text)  # None: rows are numbered
    row_key: Mapped[str] = mapped_column(Text)
    column_name: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)
    first_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    last_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))


class ChangeDetail(Base):
    """One item of a change's diff: a changed block, row, section, sheet, column or file."""

    __tablename__ = "change_details"
    __table_args__ = (Index("ix_change_details_change", "change_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))
    position: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String)  # title | summary | text | file | row | ...
    op: Mapped[str] = mapped_column(String)  # added | removed | changed | ...
    file_url: Mapped[str | None] = mapped_column(String)
    section: Mapped[str | None] = mapped_column(Text)  # heading, section label or sheet
    key: Mapped[str | None] = mapped_column(Text)  # row key, old URL, previous label
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class IndexedVersion(Base):
    """A version whose texts, files and register rows are in the research tables."""

    __tablename__ = "indexed_versions"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    indexer_version: Mapped[int] = mapped_column(Integer)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime())

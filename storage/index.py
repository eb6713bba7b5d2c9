"""Writing the research tables (``storage.research``): a version's texts, files and register
cells, a change's detail rows, and clearing them all for a rebuild.

The caller computes the rows (from the Document, the extracted files, the change's details)
and owns the transaction: a run writes them in the transaction of the version or change they
describe. A version's texts and its register cells are kept as spans over the versions of a
target: a piece of text or a cell value seen again in the next version of the same target
extends its row's ``last_version_id``; a new one starts a row.

Spans go on only from the immediately previous version of the same target (by id), and only
the spans that version ends with: a version indexed when its previous one is not (a 0.1.0
version never indexed, ``reindex`` rebuilding out of order) starts new spans, so a span never
covers a version that was not indexed with it. Versions are never deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from storage.research import (
    INDEXER_VERSION,
    ChangeDetail,
    FileText,
    IndexedVersion,
    RegisterRow,
    VersionFile,
    VersionTextSpan,
)
from storage.schema import Version
from storage.spans import OpenSpan, plan_spans

TextTuple = tuple[str, str, str]  # part, section, text
CellTuple = tuple[str, str | None, str, str, str]  # sheet, key column, row key, column, value
DetailTuple = tuple[str, str, str | None, str | None, str | None, str | None, str | None]
BATCH = 5000


@dataclass(frozen=True)
class IndexedFile:
    """A file of a version; ``texts``/``cells`` are None when its contents were not read."""

    title: str
    url: str
    sha256: str | None
    status: str
    attachment_type: str
    content_type: str | None
    format: str | None = None
    extraction_error: str | None = None
    texts: Callable[[], Iterable[TextTuple]] | None = None
    cells: Callable[[], Iterable[CellTuple]] | None = None


def is_indexed(session: Session, version_id: int) -> bool:
    return session.get(IndexedVersion, version_id) is not None


def unindexed_versions(session: Session) -> int:
    """How many versions the research tables do not cover yet (0.1.0 data before a reindex)."""
    indexed = exists().where(IndexedVersion.version_id == Version.id, IndexedVersion.indexer_version == INDEXER_VERSION)
    return session.scalar(select(func.count()).select_from(Version).where(~indexed)) or 0


def index_version(session: Session, *, version_id: int, target_id: int, texts: Sequence[TextTuple], files: Sequence[IndexedFile], now: datetime) -> None:
    """Write one version's rows (once: a version already indexed is left as it is)."""
    if is_indexed(session, version_id):
        return
    previous = session.scalar(select(func.max(Version.id)).where(Version.target_id == target_id, Version.id < version_id))
    _version_texts(session, target_id, version_id, previous, texts)
    if files:
        session.execute(
            insert(VersionFile),
            [
                {
                    "version_id": version_id,
                    "position": i,
                    "title": f.title,
                    "url": f.url,
                    "sha256": f.sha256,
                    "status": f.status,
                    "attachment_type": f.attachment_type,
                    "content_type": f.content_type,
                    "format": f.format,
                    "extraction_error": f.extraction_error,
                }
                for i, f in enumerate(files)
            ],
        )
    for file in files:
        if file.sha256 and file.texts is not None:
            _file_texts(session, file.sha256, file.texts)
    seen: set[str] = set()
    for file in files:
        if file.cells is not None and file.url not in seen:
            seen.add(file.url)
            _register(session, target_id, version_id, previous, file)
    session.add(IndexedVersion(version_id=version_id, indexer_version=INDEXER_VERSION, indexed_at=now))
    session.flush()


def _file_texts(session: Session, sha: str, texts: Callable[[], Iterable[TextTuple]]) -> None:
    """A file's text is stored once per sha256, whichever versions list it."""
    if session.scalar(select(FileText.id).where(FileText.sha256 == sha).limit(1)) is not None:
        return
    batch: list[dict[str, object]] = []
    for position, (part, section, text) in enumerate(texts()):
        batch.append({"sha256": sha, "position": position, "part": part, "section": section, "text": text})
        if len(batch) >= BATCH:
            _insert_many(session, FileText.__tablename__, batch)
            batch = []
    _insert_many(session, FileText.__tablename__, batch)


_SPAN_COLUMNS = ("target_id", "position", "part", "section", "text", "first_version_id", "last_version_id")


def _version_texts(session: Session, target_id: int, version_id: int, previous: int | None, texts: Sequence[TextTuple]) -> None:
    """The pieces of a version's text: spans open at the previous version go on, new pieces start spans."""
    open_spans: list[OpenSpan] = []
    if previous is not None:
        span = VersionTextSpan
        query = select(span.id, span.position, span.part, span.section, span.text).where(span.target_id == target_id, span.last_version_id == previous).order_by(span.position)
        open_spans = [OpenSpan(span_id, position, (part, section, text)) for span_id, position, part, section, text in session.execute(query)]
    plan = plan_spans(open_spans, texts)
    new_rows = [(target_id, *piece, version_id, version_id) for piece in plan.new]
    _spans_go_on(session, VersionTextSpan, plan.going_on, version_id, _SPAN_COLUMNS, new_rows)


def _spans_go_on(session: Session, model: type[VersionTextSpan] | type[RegisterRow], going_on: Sequence[int], version_id: int, columns: Sequence[str], new_rows: Sequence[tuple[object, ...]]) -> None:
    """The spans ``going_on`` now end at ``version_id``; ``new_rows`` (in ``columns`` order)
    start spans of their own. A batch per statement for both."""
    for start in range(0, len(going_on), BATCH):
        session.execute(update(model).where(model.id.in_(going_on[start : start + BATCH])).values(last_version_id=version_id))
    for start in range(0, len(new_rows), BATCH):
        _insert_rows(session, model.__tablename__, columns, new_rows[start : start + BATCH])


# SQLite's FTS5 indexes over text tables (external content): filled here, emptied by triggers.
# The spans' index keeps the name it had when each version's texts were rows of their own: its
# rowid is the span id, which is the ``id`` of the ``version_texts`` view.
_FTS_TABLES = {VersionTextSpan.__tablename__: "version_texts_fts", FileText.__tablename__: "file_texts_fts"}


def _insert_many(session: Session, table: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert plain rows through the driver's ``executemany``.

    The research tables take tens of thousands of rows per spreadsheet; the ORM's bulk path
    spends more time per row in Python than SQLite spends storing it. Values here are only
    strings, integers and None, so no type processing is skipped.
    """
    if rows:
        columns = list(rows[0])
        _insert_rows(session, table, columns, [tuple(row[c] for c in columns) for row in rows])


def _insert_rows(session: Session, table: str, columns: Sequence[str], values: Sequence[tuple[object, ...]]) -> None:
    """``_insert_many`` for rows already in column order (a register's cells: millions of them)."""
    if not values:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    quote = connection.dialect.identifier_preparer.quote
    sql = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608 - names are this module's own, quoted; values are bound
    indexed = table in _FTS_TABLES and connection.dialect.name == "sqlite"
    before = connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {quote(table)}").scalar() if indexed else 0  # noqa: S608 - this module's own name
    connection.exec_driver_sql(sql, values)
    if indexed:  # the new rows' words, in one statement (a trigger per row is 5x slower: migration 0007)
        connection.exec_driver_sql(f"INSERT INTO {_FTS_TABLES[table]}(rowid, text) SELECT id, text FROM {quote(table)} WHERE id > {mark}", (before,))  # noqa: S608


_REGISTER_COLUMNS = ("target_id", "file_url", "file_title", "sheet", "key_column", "row_key", "column_name", "value", "first_version_id", "last_version_id")


def _register(session: Session, target_id: int, version_id: int, previous: int | None, file: IndexedFile) -> None:
    assert file.cells is not None
    if previous is not None and file.sha256 is not None:
        previous_sha = session.scalar(select(VersionFile.sha256).where(VersionFile.version_id == previous, VersionFile.url == file.url).limit(1))
        if previous_sha == file.sha256:  # the same bytes: every open cell simply goes on
            session.execute(
                update(RegisterRow)
                .where(RegisterRow.target_id == target_id, RegisterRow.file_url == file.url, RegisterRow.last_version_id == previous)
                .values(last_version_id=version_id)
            )
            return
    open_rows: dict[tuple[str, str, str], tuple[int, str]] = {}
    if previous is not None:
        query = select(RegisterRow.id, RegisterRow.sheet, RegisterRow.row_key, RegisterRow.column_name, RegisterRow.value).where(
            RegisterRow.target_id == target_id, RegisterRow.file_url == file.url, RegisterRow.last_version_id == previous
        )
        open_rows = {(sheet, key, column): (row_id, value) for row_id, sheet, key, column, value in session.execute(query)}
    going_on: list[int] = []
    new_rows: list[tuple[object, ...]] = []
    for sheet, key_column, row_key, column, value in file.cells():
        found = open_rows.get((sheet, row_key, column))
        if found is not None and found[1] == value:
            going_on.append(found[0])
            continue
        new_rows.append((target_id, file.url, file.title, sheet, key_column, row_key, column, value, version_id, version_id))
    _spans_go_on(session, RegisterRow, going_on, version_id, _REGISTER_COLUMNS, new_rows)


def index_change(session: Session, change_id: int, rows: Sequence[DetailTuple]) -> None:
    """Replace a change's detail rows: (detail, op, file_url, section, key, before, after)."""
    session.execute(delete(ChangeDetail).where(ChangeDetail.change_id == change_id))
    if rows:
        names = ("detail", "op", "file_url", "section", "key", "before", "after")
        session.execute(insert(ChangeDetail), [{"change_id": change_id, "position": i, **dict(zip(names, row, strict=True))} for i, row in enumerate(rows)])


def clear_index(session: Session) -> None:
    """Empty every research table (``reindex`` then rebuilds them from the stored versions)."""
    for table in (ChangeDetail, RegisterRow, FileText, VersionTextSpan, VersionFile, IndexedVersion):
        session.execute(delete(table))

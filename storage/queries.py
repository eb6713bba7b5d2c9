"""Reads for the research commands: filtered changes, a target's versions and their captures,
full-text search (FTS5 on SQLite, ``tsvector`` on PostgreSQL), the captures to export.

Everything hands out frozen rows or plain tuples; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from storage.research import VersionFile
from storage.rows import ChangeRow, FetchRow, TargetRow, VersionRow, row_of
from storage.schema import Change, Fetch, Target, Version

# A search query: groups of words, each a phrase (one word or several in a row) that must all
# appear; ``prefix`` lets the last word of the group be the start of a longer word.
Phrase = tuple[tuple[str, ...], bool]
MAX_HITS = 20_000


@dataclass(frozen=True)
class ChangeFilter:
    since: datetime | None = None
    category: str | None = None
    priority: str | None = None
    silent: bool = False
    target_id: int | None = None
    limit: int | None = None  # the newest N (still listed oldest first)


def filter_changes(session: Session, wanted: ChangeFilter) -> list[tuple[ChangeRow, TargetRow]]:
    query = select(Change, Target).join(Target, Change.target_id == Target.id)
    if wanted.since is not None:
        query = query.where(Change.detected_at >= wanted.since)
    if wanted.category is not None:
        query = query.where(Target.category == wanted.category)
    if wanted.priority is not None:
        query = query.where(Change.priority == wanted.priority)
    if wanted.silent:
        query = query.where(Change.silent_edit.is_(True))
    if wanted.target_id is not None:
        query = query.where(Change.target_id == wanted.target_id)
    if wanted.limit is not None:
        newest = query.order_by(Change.detected_at.desc(), Change.id.desc()).limit(wanted.limit)
        rows = list(session.execute(newest))[::-1]
    else:
        rows = list(session.execute(query.order_by(Change.detected_at, Change.id)))
    return [(row_of(ChangeRow, r[0]), row_of(TargetRow, r[1])) for r in rows]


def get_change(session: Session, change_id: int) -> tuple[ChangeRow, TargetRow] | None:
    row = session.execute(select(Change, Target).join(Target, Change.target_id == Target.id).where(Change.id == change_id)).first()
    return None if row is None else (row_of(ChangeRow, row[0]), row_of(TargetRow, row[1]))


def get_version(session: Session, version_id: int) -> VersionRow | None:
    version = session.get(Version, version_id)
    return None if version is None else row_of(VersionRow, version)


def versions_of(session: Session, target_id: int) -> list[VersionRow]:
    return [row_of(VersionRow, v) for v in session.scalars(select(Version).where(Version.target_id == target_id).order_by(Version.id))]


def get_fetch(session: Session, fetch_id: int) -> FetchRow | None:
    fetch = session.get(Fetch, fetch_id)
    return None if fetch is None else row_of(FetchRow, fetch)


def captures_of(session: Session, run_id: int, target_url: str) -> list[FetchRow]:
    """The captures a version was derived from: its run's fetches for the target with a body."""
    query = select(Fetch).where(Fetch.run_id == run_id, Fetch.target_url == target_url, Fetch.sha256.is_not(None)).order_by(Fetch.id)
    return [row_of(FetchRow, f) for f in session.scalars(query)]


def body_fetches(session: Session, since: datetime | None = None) -> Iterator[FetchRow]:
    """Every capture whose body was received (not a 304, not an error), oldest first."""
    query = select(Fetch).where(Fetch.sha256.is_not(None), Fetch.not_modified.is_(False), Fetch.error.is_(None), Fetch.status.is_not(None))
    if since is not None:
        query = query.where(Fetch.requested_at >= since)
    for fetch in session.scalars(query.order_by(Fetch.requested_at, Fetch.id).execution_options(yield_per=200)):
        yield row_of(FetchRow, fetch)


def files_of_version(session: Session, version_id: int) -> list[tuple[str, str, str | None]]:
    """(title, url, sha256) of each file a version lists, from the research tables."""
    query = select(VersionFile.title, VersionFile.url, VersionFile.sha256).where(VersionFile.version_id == version_id).order_by(VersionFile.position)
    return [(t, u, s) for t, u, s in session.execute(query)]


@dataclass(frozen=True)
class Hit:
    """One matching piece of text, in one version (a file's text is in every version listing it)."""

    version_id: int
    target_id: int
    captured_at: datetime
    source: str  # page | file
    part: str
    section: str
    position: float  # orders a version's pieces (a page's: see version_texts in docs/schema.md)
    file_url: str | None
    file_title: str | None
    snippet: str


def search_texts(session: Session, phrases: Sequence[Phrase], *, category: str | None = None, since: datetime | None = None) -> list[Hit]:
    """Every piece of text matching all ``phrases``, oldest version first (at most MAX_HITS)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    query = _tsquery(phrases) if postgres else _fts5_query(phrases)
    filters, params = "", {"q": query, "max": MAX_HITS}
    if category is not None:
        filters += " AND t.category = :category"
        params["category"] = category
    if since is not None:
        filters += " AND COALESCE(f.requested_at, v.created_at) >= :since"
        naive = since.astimezone(UTC).replace(tzinfo=None)
        params["since"] = naive if postgres else naive.strftime("%Y-%m-%d %H:%M:%S.%f")
    sql = (_POSTGRES_SEARCH if postgres else _SQLITE_SEARCH).replace("{filters}", filters)
    hits = []
    for row in session.execute(text(sql), params):
        captured = row.captured_at if isinstance(row.captured_at, datetime) else datetime.fromisoformat(str(row.captured_at))
        captured = captured.replace(tzinfo=UTC)
        hits.append(Hit(row.version_id, row.target_id, captured, row.source, row.part, row.section, row.position, row.file_url, row.file_title, row.snippet))
    return hits


_VERSION_JOIN = """JOIN versions v ON v.id = {version} JOIN targets t ON t.id = v.target_id
LEFT JOIN fetches f ON f.id = v.page_fetch_id WHERE {match}{filters}"""

# A page's pieces are spans over versions: the matching spans (each snippet made once), then
# every version each spans, straight from the spans table (not through the version_texts view).
_SPAN_VERSIONS = """JOIN versions v ON v.target_id = x.target_id AND v.id BETWEEN x.first_version_id AND x.last_version_id
JOIN targets t ON t.id = v.target_id LEFT JOIN fetches f ON f.id = v.page_fetch_id WHERE 1 = 1{filters}"""

_SQLITE_SEARCH = (
    """SELECT * FROM (
SELECT v.id AS version_id, v.target_id, COALESCE(f.requested_at, v.created_at) AS captured_at,
       'page' AS source, x.part, x.section, x.position, NULL AS file_url, NULL AS file_title, x.snippet
FROM (SELECT s.target_id, s.first_version_id, s.last_version_id, s.part, s.section, s.position,
             snippet(version_texts_fts, 0, '[', ']', '…', 16) AS snippet
      FROM version_texts_fts JOIN version_text_spans s ON s.id = version_texts_fts.rowid
      WHERE version_texts_fts MATCH :q) x
"""
    + _SPAN_VERSIONS
    + """
UNION ALL
SELECT v.id, v.target_id, COALESCE(f.requested_at, v.created_at), 'file', x.part, x.section,
       x.position, vf.url, vf.title, snippet(file_texts_fts, 0, '[', ']', '…', 16)
FROM file_texts_fts JOIN file_texts x ON x.id = file_texts_fts.rowid
JOIN version_files vf ON vf.sha256 = x.sha256 """
    + _VERSION_JOIN.format(version="vf.version_id", match="file_texts_fts MATCH :q", filters="{filters}")
    + """
) ORDER BY captured_at, version_id, source DESC, file_url, position LIMIT :max"""
)

_HEADLINE = "ts_headline('simple', {text}, to_tsquery('simple', :q), 'StartSel=[, StopSel=], MaxWords=16, MinWords=6, MaxFragments=1, FragmentDelimiter=…')"

_POSTGRES_SEARCH = (
    """WITH spans AS MATERIALIZED (
SELECT s.target_id, s.first_version_id, s.last_version_id, s.part, s.section, s.position, """
    + _HEADLINE.format(text="s.text")
    + """ AS snippet
FROM version_text_spans s WHERE s.tsv @@ to_tsquery('simple', :q))
SELECT * FROM (
SELECT v.id AS version_id, v.target_id, COALESCE(f.requested_at, v.created_at) AS captured_at,
       'page' AS source, x.part, x.section, x.position, NULL AS file_url, NULL AS file_title, x.snippet
FROM spans x """
    + _SPAN_VERSIONS
    + """
UNION ALL
SELECT v.id, v.target_id, COALESCE(f.requested_at, v.created_at), 'file', x.part, x.section,
       x.position, vf.url, vf.title, """
    + _HEADLINE.format(text="x.text")
    + """
FROM file_texts x JOIN version_files vf ON vf.sha256 = x.sha256 """
    + _VERSION_JOIN.format(version="vf.version_id", match="x.tsv @@ to_tsquery('simple', :q)", filters="{filters}")
    + """
) hits ORDER BY captured_at, version_id, source DESC, file_url, position LIMIT :max"""
)


def _fts5_query(phrases: Sequence[Phrase]) -> str:
    parts = []
    for words, prefix in phrases:
        quoted = '"' + " ".join(w.replace('"', '""') for w in words) + '"'
        parts.append(quoted + ("*" if prefix else ""))
    return " AND ".join(parts)


def _tsquery(phrases: Sequence[Phrase]) -> str:
    parts = []
    for words, prefix in phrases:
        lexemes = ["'" + w.replace("'", "''").replace("\\", "\\\\") + "'" for w in words]
        if prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def count_rows(session: Session, table: str) -> int:
    """Rows of one of our tables (for the reindex summary)."""
    if not table.replace("_", "").isalpha():
        raise ValueError(f"not a table name: {table!r}")
    return session.scalar(select(func.count()).select_from(text(table))) or 0


def all_versions(session: Session) -> list[VersionRow]:
    return [row_of(VersionRow, v) for v in session.scalars(select(Version).order_by(Version.id))]

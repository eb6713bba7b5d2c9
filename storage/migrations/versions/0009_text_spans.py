"""0.2.1: a version's texts stored as spans over versions (``version_text_spans``), as register
cells already are: most versions of a page share nearly all their pieces with the one before.
``version_texts`` becomes a view with the same columns, one row per version and piece; the
full-text index covers the spans only (SQLite: ``version_texts_fts`` keeps its name, its rowid
is the span id, which is the view's ``id``; PostgreSQL: a ``tsv`` column on the spans).

The existing rows are converted losslessly and as a run would have written them: the versions
of each target in id order, each version's rows matched with the spans open at the previous
version of the target (the indexer's own alignment, ``storage.spans``); a version never indexed
breaks every span. The view then gives back exactly the old rows. SQLite keeps the pages the old
table freed for reuse (``VACUUM``, with no run going, gives them back to the file system).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from storage.spans import OpenSpan, plan_spans

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"
VIEW = """
SELECT s.id, v.id AS version_id, s.target_id, s.position, s.part, s.section, s.text
FROM version_text_spans s
JOIN versions v ON v.target_id = s.target_id AND v.id BETWEEN s.first_version_id AND s.last_version_id"""
BATCH = 5000
SPAN_COLUMNS = ("id", "target_id", "position", "part", "section", "text", "first_version_id", "last_version_id")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "version_text_spans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("position", sa.Double, nullable=False),
        sa.Column("part", sa.String, nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("first_version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("last_version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
    )
    op.create_index("ix_version_text_spans_open", "version_text_spans", ["target_id", "last_version_id"])
    if postgres:
        op.execute("ALTER TABLE version_text_spans ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED")
        op.execute("CREATE INDEX ix_version_text_spans_tsv ON version_text_spans USING GIN (tsv)")
    _convert(op.get_bind())
    if not postgres:
        op.execute("DROP TRIGGER IF EXISTS version_texts_ad")
        op.execute("DROP TABLE version_texts_fts")
    op.drop_index("ix_version_texts_version", "version_texts")
    op.drop_table("version_texts")
    if not postgres:
        _fts("version_text_spans")
    op.execute(f"CREATE VIEW version_texts AS {VIEW}")


def _convert(connection: Connection) -> None:
    """Every version's old rows as spans, target by target, versions in id order (a target's open
    spans are kept in memory, each written once it ends)."""
    versions: dict[int, list[int]] = {}
    for version_id, target_id in connection.execute(sa.text("SELECT id, target_id FROM versions ORDER BY id")):
        versions.setdefault(target_id, []).append(version_id)
    rows = _rows_by_version(connection)
    current = next(rows, None)
    next_id = 1
    spans: dict[int, list[object]] = {}  # id: the span's row, its last version still to settle
    done: list[tuple[object, ...]] = []
    for target_id, ids in sorted(versions.items()):
        open_spans: list[OpenSpan] = []
        for version_id in ids:
            texts: list[tuple[str, str, str]] = []
            if current is not None and current[0] == version_id:
                texts = current[1]
                current = next(rows, None)
            plan = plan_spans(open_spans, texts) if texts else None
            going_on = set(plan.going_on) if plan else set()
            for span in open_spans:
                if span.id not in going_on:
                    done.append(tuple(spans.pop(span.id)))
            for span_id in going_on:
                spans[span_id][-1] = version_id
            kept = [span for span in open_spans if span.id in going_on]
            for position, part, section, text in plan.new if plan else []:
                spans[next_id] = [next_id, target_id, position, part, section, text, version_id, version_id]
                kept.append(OpenSpan(next_id, position, (part, section, text)))
                next_id += 1
            open_spans = sorted(kept, key=lambda span: span.position)
            if len(done) >= BATCH:
                _insert(connection, done)
                done = []
        done += [tuple(spans.pop(span.id)) for span in open_spans]
    _insert(connection, done)
    if connection.dialect.name == "postgresql" and next_id > 1:
        connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('version_text_spans', 'id'), :n)"), {"n": next_id - 1})


def _rows_by_version(connection: Connection) -> Iterator[tuple[int, list[tuple[str, str, str]]]]:
    """(version id, its pieces in reading order), target by target, versions in id order."""
    query = sa.text(
        "SELECT x.version_id, x.part, x.section, x.text FROM version_texts x JOIN versions v ON v.id = x.version_id "
        "ORDER BY v.target_id, x.version_id, x.position"
    )
    version: int | None = None
    pieces: list[tuple[str, str, str]] = []
    for version_id, part, section, text in connection.execute(query.execution_options(stream_results=True)):
        if version_id != version:
            if version is not None:
                yield version, pieces
            version, pieces = version_id, []
        pieces.append((part, section, text))
    if version is not None:
        yield version, pieces


def _insert(connection: Connection, rows: list[tuple[object, ...]]) -> None:
    if rows:
        table = sa.table("version_text_spans", *(sa.column(name) for name in SPAN_COLUMNS))
        connection.execute(table.insert(), [dict(zip(SPAN_COLUMNS, row, strict=True)) for row in rows])


def _fts(table: str) -> None:
    """The FTS5 index over ``table`` (external content), filled from it, with its delete trigger."""
    op.execute(f"CREATE VIRTUAL TABLE version_texts_fts USING fts5(text, content='{table}', content_rowid='id', {TOKENIZE})")
    op.execute("INSERT INTO version_texts_fts(version_texts_fts) VALUES ('rebuild')")
    op.execute(
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN "
        "INSERT INTO version_texts_fts(version_texts_fts, rowid, text) VALUES ('delete', old.id, old.text); END"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP VIEW version_texts")
    op.create_table(
        "version_texts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("part", sa.String, nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_version_texts_version", "version_texts", ["version_id", "position"])
    if postgres:
        op.execute("ALTER TABLE version_texts ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED")
        op.execute("CREATE INDEX ix_version_texts_tsv ON version_texts USING GIN (tsv)")
    op.execute(
        "INSERT INTO version_texts (version_id, target_id, position, part, section, text) "
        f"SELECT version_id, target_id, row_number() OVER (PARTITION BY version_id ORDER BY position) - 1, part, section, text FROM ({VIEW}) x "
        "ORDER BY version_id, position"
    )
    if not postgres:
        op.execute("DROP TRIGGER version_text_spans_ad")
        op.execute("DROP TABLE version_texts_fts")
        _fts("version_texts")
    op.drop_index("ix_version_text_spans_open", "version_text_spans")
    op.drop_table("version_text_spans")

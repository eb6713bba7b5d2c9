"""0.2.1: a version's texts stored as spans over versions (``version_text_spans``), as register
cells already are: most versions of a page share nearly all their pieces with the one before.
``version_texts`` becomes a view with the same columns, one row per version and piece; the
full-text index covers the spans only (SQLite: ``version_texts_fts`` keeps its name, its rowid
is the span id, which is the view's ``id``; PostgreSQL: a ``tsv`` column on the spans).

The existing rows are converted losslessly (gaps and islands): the rows of one piece at one
position in consecutive versions of a target become one span. The view then gives back exactly
the old rows. (Spans written from now on also survive a piece inserted above them; ``reindex``
rewrites old ones that way, but nothing needs it.)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"
VIEW = """
SELECT s.id, v.id AS version_id, s.target_id, s.position, s.part, s.section, s.text
FROM version_text_spans s
JOIN versions v ON v.target_id = s.target_id AND v.id BETWEEN s.first_version_id AND s.last_version_id"""
# Each old row's version numbered within its target (seq); a piece at one position in
# consecutive versions keeps seq - its own count constant: one island, one span.
ISLANDS = """
INSERT INTO version_text_spans (target_id, position, part, section, text, first_version_id, last_version_id)
SELECT target_id, position, part, section, text, min(version_id), max(version_id)
FROM (
  SELECT n.target_id, x.position, x.part, x.section, x.text, x.version_id,
         n.seq - row_number() OVER (PARTITION BY n.target_id, x.position, x.part, x.section, x.text ORDER BY x.version_id) AS island
  FROM version_texts x
  JOIN (SELECT id, target_id, row_number() OVER (PARTITION BY target_id ORDER BY id) AS seq FROM versions) n ON n.id = x.version_id
) pieces
GROUP BY target_id, position, part, section, text, island
ORDER BY min(version_id), position"""


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
    op.execute(ISLANDS)
    if not postgres:
        op.execute("DROP TRIGGER IF EXISTS version_texts_ad")
        op.execute("DROP TABLE version_texts_fts")
    op.drop_index("ix_version_texts_version", "version_texts")
    op.drop_table("version_texts")
    if not postgres:
        _fts("version_text_spans")
    op.execute(f"CREATE VIEW version_texts AS {VIEW}")


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

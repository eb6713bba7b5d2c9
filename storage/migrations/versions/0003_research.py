"""0.2.0: every response header of each capture, and the research tables — readable text,
register rows over time, change details — with full-text search and readable views.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT_TABLES = ("version_texts", "file_texts")
VIEWS = ("changes_view", "versions_view", "register_rows_view", "file_events_view")


def upgrade() -> None:
    op.add_column("fetches", sa.Column("headers", sa.Text))
    op.add_column("fetches", sa.Column("headers_dropped", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "version_files",
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("url", sa.String, nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("attachment_type", sa.String, nullable=False),
        sa.Column("content_type", sa.String),
        sa.Column("format", sa.String),
        sa.Column("extraction_error", sa.Text),
    )
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
    op.create_table(
        "file_texts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("part", sa.String, nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_file_texts_sha", "file_texts", ["sha256", "position"])
    op.create_table(
        "register_rows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("file_url", sa.String, nullable=False),
        sa.Column("file_title", sa.Text, nullable=False),
        sa.Column("sheet", sa.Text, nullable=False),
        sa.Column("key_column", sa.Text),
        sa.Column("row_key", sa.Text, nullable=False),
        sa.Column("column_name", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("first_version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("last_version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
    )
    op.create_index("ix_register_rows_open", "register_rows", ["target_id", "file_url", "last_version_id"])
    op.create_index("ix_register_rows_key", "register_rows", ["row_key"])
    op.create_table(
        "change_details",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("change_id", sa.Integer, sa.ForeignKey("changes.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("detail", sa.String, nullable=False),
        sa.Column("op", sa.String, nullable=False),
        sa.Column("file_url", sa.String),
        sa.Column("section", sa.Text),
        sa.Column("key", sa.Text),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )
    op.create_index("ix_change_details_change", "change_details", ["change_id", "position"])
    op.create_table(
        "indexed_versions",
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), primary_key=True),
        sa.Column("indexer_version", sa.Integer, nullable=False),
        sa.Column("indexed_at", sa.DateTime, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_search()
    else:
        _sqlite_search()
    for name in VIEWS:
        op.execute(f"CREATE VIEW {name} AS {view_sql(name, op.get_bind().dialect.name)}")


def _sqlite_search() -> None:
    """FTS5 tables over the text columns (external content: the text is stored once), kept in
    step by triggers, so every insert or delete of a text row updates the index. Words are
    matched whole, without stemming: a stemmer finds "nationality" in "National Pupil Database".
    """
    for table in TEXT_TABLES:
        fts = f"{table}_fts"
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5(text, content='{table}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN INSERT INTO {fts}(rowid, text) VALUES (new.id, new.text); END")
        op.execute(f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN INSERT INTO {fts}({fts}, rowid, text) VALUES ('delete', old.id, old.text); END")


def _postgres_search() -> None:
    """A generated tsvector column with a GIN index; the ``simple`` configuration matches words
    whole (no stemming, no stop words), as the SQLite index does."""
    for table in TEXT_TABLES:
        op.execute(f"ALTER TABLE {table} ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED")
        op.execute(f"CREATE INDEX ix_{table}_tsv ON {table} USING GIN (tsv)")


def view_sql(name: str, dialect: str) -> str:
    captures = (
        "string_agg(DISTINCT c.sha256, ',')" if dialect == "postgresql" else "group_concat(DISTINCT c.sha256)"
    )
    return {
        "changes_view": """
SELECT c.id AS change_id, c.detected_at, c.kind, t.name AS target_name, t.url AS target_url,
       t.fetch_url AS page_url, t.category, t.source, c.title, c.summary, c.silent_edit,
       c.priority, c.terms, c.change_note, c.old_version_id, c.new_version_id, c.run_id,
       c.feed_id, c.target_id
FROM changes c JOIN targets t ON t.id = c.target_id""",
        "versions_view": f"""
SELECT v.id AS version_id, v.target_id, t.name AS target_name, t.url AS target_url, t.category,
       v.created_at, COALESCE(f.requested_at, v.created_at) AS captured_at, f.url AS page_url,
       f.status AS page_status, v.technical, v.run_id, v.fingerprint, v.document_sha256,
       (SELECT {captures} FROM fetches c
         WHERE c.run_id = v.run_id AND c.target_url = t.url AND c.sha256 IS NOT NULL) AS capture_sha256s,
       (SELECT count(*) FROM version_files vf WHERE vf.version_id = v.id) AS files
FROM versions v JOIN targets t ON t.id = v.target_id LEFT JOIN fetches f ON f.id = v.page_fetch_id""",
        "register_rows_view": """
SELECT r.id, r.target_id, t.name AS target_name, t.url AS target_url, r.file_url, r.file_title,
       r.sheet, r.key_column, r.row_key, r.column_name, r.value,
       r.first_version_id, fv.created_at AS first_seen_at,
       r.last_version_id, lv.created_at AS last_seen_at,
       r.last_version_id = (SELECT max(v.id) FROM versions v WHERE v.target_id = r.target_id) AS is_current
FROM register_rows r JOIN targets t ON t.id = r.target_id
JOIN versions fv ON fv.id = r.first_version_id JOIN versions lv ON lv.id = r.last_version_id""",
        "file_events_view": """
SELECT d.id, d.change_id, c.detected_at, t.name AS target_name, t.url AS target_url, t.category,
       d.op, d.section AS title, d.file_url AS url, d.key AS old_url, d.before AS old_title,
       d.after AS summary, c.silent_edit
FROM change_details d JOIN changes c ON c.id = d.change_id JOIN targets t ON t.id = c.target_id
WHERE d.detail = 'file'""",
    }[name]


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
    if op.get_bind().dialect.name != "postgresql":
        for table in TEXT_TABLES:
            op.execute(f"DROP TABLE {table}_fts")
    for table in ("indexed_versions", "change_details", "register_rows", "file_texts", "version_texts", "version_files"):
        op.drop_table(table)
    op.drop_column("fetches", "headers_dropped")
    op.drop_column("fetches", "headers")

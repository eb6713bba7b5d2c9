"""0.2.1: the SQLite full-text indexes are filled a batch at a time by the code that writes text
rows, not by a trigger per row. FTS5 inside a per-row trigger flushes its pending terms at every
statement: five times slower than one ``INSERT … SELECT`` per batch (10 ms against 2 ms for a
400-paragraph page), and most of a first run's storing. The delete triggers stay.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TEXT_TABLES = ("version_texts", "file_texts")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's tsvector column is generated: no trigger to drop
    for table in TEXT_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_ai")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TEXT_TABLES:
        op.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN INSERT INTO {table}_fts(rowid, text) VALUES (new.id, new.text); END")

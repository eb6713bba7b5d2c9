"""The 0.1.0 schema (a SQLite file with PRAGMA user_version 1).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String, nullable=False, unique=True),
        sa.Column("fetch_url", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("category", sa.String, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("discovered_by", sa.String),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("consecutive_gone", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("last_checked_at", sa.DateTime),
        sa.Column("last_success_at", sa.DateTime),
        sa.Column("last_change_at", sa.DateTime),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("pid", sa.Integer),
        sa.Column("command", sa.String, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("compression", sa.String, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "discover_queries",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("first_run_at", sa.DateTime, nullable=False),
        sa.Column("last_run_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "fetches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("target_url", sa.String),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("url", sa.String, nullable=False),
        sa.Column("final_url", sa.String),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("not_modified", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("etag", sa.String),
        sa.Column("last_modified", sa.String),
        sa.Column("content_type", sa.String),
        sa.Column("size", sa.Integer),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256")),
        sa.Column("elapsed_ms", sa.Integer),
        sa.Column("redirects", sa.Text),
        sa.Column("meta", sa.Text),
    )
    op.create_index("ix_fetches_url_id", "fetches", ["url", "id"])
    op.create_index("ix_fetches_run_target", "fetches", ["run_id", "target_url"])
    op.create_table(
        "extractions",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("extractor_version", sa.Integer, primary_key=True),
        sa.Column("format", sa.String, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("content_sha256", sa.String(64), sa.ForeignKey("blobs.sha256")),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("document_sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("page_fetch_id", sa.Integer, sa.ForeignKey("fetches.id")),
        sa.Column("extractor_version", sa.Integer, nullable=False),
        sa.Column("technical", sa.Boolean, nullable=False),
    )
    op.create_index("ix_versions_target_id", "versions", ["target_id", "id"])
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("detected_at", sa.DateTime, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("silent_edit", sa.Boolean),
        sa.Column("priority", sa.String, nullable=False),
        sa.Column("terms", sa.Text),
        sa.Column("change_note", sa.Text),
        sa.Column("old_version_id", sa.Integer, sa.ForeignKey("versions.id")),
        sa.Column("new_version_id", sa.Integer, sa.ForeignKey("versions.id")),
        sa.Column("details", sa.Text),
        sa.Column("feed_id", sa.String, nullable=False, unique=True),
    )
    op.create_index("ix_changes_detected", "changes", ["detected_at", "id"])


def downgrade() -> None:
    for table in ("changes", "versions", "extractions", "fetches", "discover_queries", "blobs", "runs", "targets"):
        op.drop_table(table)

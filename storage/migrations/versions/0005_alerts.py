"""0.2.0: the alert outbox — one row per (change, channel), written with the change, so an alert
is neither lost nor sent twice across crashes and outages.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("change_id", sa.Integer, sa.ForeignKey("changes.id"), nullable=False),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_attempt_at", sa.DateTime),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("message_id", sa.String, nullable=False),
        sa.UniqueConstraint("change_id", "channel", name="uq_alerts_change_channel"),
    )
    op.create_index("ix_alerts_state_channel", "alerts", ["state", "channel"])


def downgrade() -> None:
    op.drop_index("ix_alerts_state_channel", "alerts")
    op.drop_table("alerts")

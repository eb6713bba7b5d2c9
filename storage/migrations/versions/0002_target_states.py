"""Schema 2: targets.state says what people see — "new" (never checked) and "gone" (404/410 on
the last check, not yet removed), both of which schema 1 stored as "ok".

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE targets SET state = 'new' WHERE state = 'ok' AND last_checked_at IS NULL")
    op.execute("UPDATE targets SET state = 'gone' WHERE state = 'ok' AND consecutive_gone > 0")


def downgrade() -> None:
    op.execute("UPDATE targets SET state = 'ok' WHERE state IN ('new', 'gone')")

"""0.2.0: targets.captures_key — what the current version was last confirmed from, so a run whose
captures are the same (the same bytes, or 304s) does not read the target again.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.add_column(sa.Column("captures_key", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.drop_column("captures_key")

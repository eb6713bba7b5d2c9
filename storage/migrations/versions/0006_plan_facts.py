"""0.2.0: versions.plan_facts — the files and parent a version lists, so planning a run reads one
column per target instead of decompressing and parsing every target's latest Document.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("plan_facts", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("plan_facts")

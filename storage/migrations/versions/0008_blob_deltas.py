"""0.3.0: a blob may be stored as a Zstandard delta against an earlier blob (the previous body
of the same address, the previous Document of the same target): ``blobs.base_sha256`` names
that earlier blob. Existing blobs stay as they are (zlib, no base).

Revision ID: 0008
Revises: 0007
"""

import zlib

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("blobs", sa.Column("base_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    """Deltas are written out whole (zlib) first: an older release reads zlib only."""
    from storage.blobs import zstd

    bind = op.get_bind()
    deltas = bind.execute(sa.text("SELECT sha256, base_sha256, data FROM blobs WHERE compression = 'zstd-delta'")).all()
    for sha, base_sha, data in deltas:
        base = zlib.decompress(bind.execute(sa.text("SELECT data FROM blobs WHERE sha256 = :s"), {"s": base_sha}).scalar_one())
        whole = zstd.decompress(bytes(data), zstd_dict=zstd.ZstdDict(base, is_raw=True))
        bind.execute(sa.text("UPDATE blobs SET compression = 'zlib', data = :d WHERE sha256 = :s"), {"d": zlib.compress(whole, 6), "s": sha})
    with op.batch_alter_table("blobs") as batch:
        batch.drop_column("base_sha256")

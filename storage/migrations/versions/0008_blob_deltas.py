"""0.3.0: new blobs are compressed by Zstandard (``zstd``), and a blob may be stored as a
Zstandard delta against an earlier blob (``zstd-delta``: the previous body of the same address,
the previous Document of the same target), which ``blobs.base_sha256`` names. Existing blobs
stay as they are (zlib, no base).

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
    """Blobs are written out as zlib first: an older release reads zlib only. Deltas go first,
    while their bases (never deltas themselves) are still as they were."""
    from storage.blobs import zstd_module

    zstd = zstd_module()

    bind = op.get_bind()

    def whole(compression: str, data: bytes) -> bytes:
        return zlib.decompress(data) if compression == "zlib" else zstd.decompress(data)

    select_one = sa.text("SELECT compression, data FROM blobs WHERE sha256 = :s")
    update = sa.text("UPDATE blobs SET compression = 'zlib', data = :d WHERE sha256 = :s")
    for sha, base_sha, data in bind.execute(sa.text("SELECT sha256, base_sha256, data FROM blobs WHERE compression = 'zstd-delta'")).all():
        base = whole(*bind.execute(select_one, {"s": base_sha}).one())
        bytes_ = zstd.decompress(bytes(data), zstd_dict=zstd.ZstdDict(base, is_raw=True))
        bind.execute(update, {"d": zlib.compress(bytes_, 6), "s": sha})
    for sha, data in bind.execute(sa.text("SELECT sha256, data FROM blobs WHERE compression = 'zstd'")).all():
        bind.execute(update, {"d": zlib.compress(zstd.decompress(bytes(data)), 6), "s": sha})
    with op.batch_alter_table("blobs") as batch:
        batch.drop_column("base_sha256")

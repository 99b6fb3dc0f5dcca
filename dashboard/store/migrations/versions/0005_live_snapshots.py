"""live_snapshots: periodic snapshots of the live aggregates (start-up replays only the events after one)

Revision ID: 0005_live_snapshots
Revises: 0004_member_id_hash
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_live_snapshots"
down_revision = "0004_member_id_hash"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.SmallInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("live_snapshots")

"""members: keyed hash (and last four characters) of the national ID number, for matching re-imports

A roster without member codes is matched on re-import by the ID number; the
number itself is never stored (Personal Information Protection Law): only an
HMAC-SHA256 of it under the installation's secret key, and optionally its last
four characters for a person to check. See docs/import.md.

Revision ID: 0004_member_id_hash
Revises: 0003_server_secrets
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_member_id_hash"
down_revision = "0003_server_secrets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("id_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("id_tail", sa.String(length=4), nullable=True))
        batch_op.create_index(batch_op.f("ix_members_id_hash"), ["id_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_id_hash"))
        batch_op.drop_column("id_tail")
        batch_op.drop_column("id_hash")

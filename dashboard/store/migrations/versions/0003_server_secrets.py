"""server secrets: the ticket-signing key of this deployment, kept in its own database

Revision ID: 0003_server_secrets
Revises: 0002_accounts
Create Date: 2026-12-02 12:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_server_secrets"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")

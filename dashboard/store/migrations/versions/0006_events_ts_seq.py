"""events: index on (ts_ms, seq), which replays and reports read the record through in time order

Before this migration the index was created on a store's first replay or
report (``CREATE INDEX IF NOT EXISTS ix_events_ts_seq``), so a store that has
already replayed holds it: the upgrade then keeps it (``if_not_exists``).

Revision ID: 0006_events_ts_seq
Revises: 0005_live_snapshots
Create Date: 2026-12-02 17:00:00
"""

from alembic import op

revision = "0006_events_ts_seq"
down_revision = "0005_live_snapshots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_ts_seq", "events", ["ts_ms", "seq"], unique=False, if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_events_ts_seq", table_name="events", if_exists=True)

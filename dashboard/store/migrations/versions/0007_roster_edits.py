"""roster_edits: a counter every edit of a member's counted fields bumps (in the database, by trigger)

A live-state snapshot is counted over the roll; a start may use it only if
the roll has not changed since. Additions show in the roll's size, edits did
not: a member moved to another organisation or another stage by an import,
an admin or a hand-written UPDATE left the fingerprint alone. Triggers bump
``roster_edits.n`` on every UPDATE of the columns the aggregates read
(dashboard/live/aggregator/members.py, MEMBER_COLUMNS) and on every DELETE,
whoever writes — so the fingerprint reads one row instead of hashing the roll.
SQLite fires per row; PostgreSQL once per statement. ``own`` counts the bumps
of the server's own moves that an event records (a completed transfer, which
a snapshot's tail replays): the fingerprint takes ``n - own``.

Revision ID: 0007_roster_edits
Revises: 0005_live_snapshots
Create Date: 2026-12-02 17:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_roster_edits"
down_revision = "0006_events_ts_seq"
branch_labels = None
depends_on = None

# The member columns the aggregates read, besides the id (MEMBER_COLUMNS as of this revision).
COUNTED = "org_id, stage, gender, ethnicity, birth_year, education, occupation, post, join_date"


def upgrade() -> None:
    op.create_table(
        "roster_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("own", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO roster_edits (id, n, own) VALUES (1, 0, 0)")
    bump = "UPDATE roster_edits SET n = n + 1 WHERE id = 1"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION lianxin_roster_edited() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {bump}; RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER members_edited AFTER UPDATE OF {COUNTED} ON members FOR EACH STATEMENT EXECUTE FUNCTION lianxin_roster_edited()")
        op.execute("CREATE TRIGGER members_deleted AFTER DELETE ON members FOR EACH STATEMENT EXECUTE FUNCTION lianxin_roster_edited()")
    else:
        op.execute(f"CREATE TRIGGER members_edited AFTER UPDATE OF {COUNTED} ON members BEGIN {bump}; END")
        op.execute(f"CREATE TRIGGER members_deleted AFTER DELETE ON members BEGIN {bump}; END")


def downgrade() -> None:
    on_table = " ON members" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"DROP TRIGGER IF EXISTS members_edited{on_table}")
    op.execute(f"DROP TRIGGER IF EXISTS members_deleted{on_table}")
    if on_table:
        op.execute("DROP FUNCTION IF EXISTS lianxin_roster_edited()")
    op.drop_table("roster_edits")

"""Poll round counts kept by triggers on poll_stances (no recount per stance)

Revision ID: stance_0800_counts
Revises: 0700_merge
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "stance_0800_counts"
down_revision = "0700_merge"
branch_labels = None
depends_on = None

#: As storage.models.polls.COUNT_SHARDS (a migration never imports the models).
SHARDS = 64

_STANCES = ("agree", "abstain", "disagree", "block")

# PostgreSQL: one trigger function. An update that moves a stance takes it off
# its old (version, stance) and adds it to the new one; both on the stance's own
# shard, the old version first (versions only grow, so two transactions lock
# counter rows in the same order). A decrement always finds its row: the insert
# (or the migration's backfill) made it.
_PG_FUNCTION = f"""
CREATE FUNCTION poll_round_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.round_id = NEW.round_id AND OLD.version = NEW.version
            AND OLD.stance = NEW.stance THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE poll_round_counts SET
            {", ".join(f"{s} = {s} - (OLD.stance = '{s}')::int" for s in _STANCES)}
        WHERE round_id = OLD.round_id AND version = OLD.version AND shard = OLD.id % {SHARDS};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO poll_round_counts (round_id, version, shard, {", ".join(_STANCES)})
        VALUES (NEW.round_id, NEW.version, NEW.id % {SHARDS},
                {", ".join(f"(NEW.stance = '{s}')::int" for s in _STANCES)})
        ON CONFLICT (round_id, version, shard) DO UPDATE SET
            {", ".join(f"{s} = poll_round_counts.{s} + excluded.{s}" for s in _STANCES)};
    END IF;
    RETURN NULL;
END $$"""


def _sqlite_add(row: str) -> str:
    return (f"INSERT INTO poll_round_counts (round_id, version, shard, {', '.join(_STANCES)}) "
            f"VALUES ({row}.round_id, {row}.version, {row}.id % {SHARDS}, "
            + ", ".join(f"{row}.stance = '{s}'" for s in _STANCES)
            + ") ON CONFLICT (round_id, version, shard) DO UPDATE SET "
            + ", ".join(f"{s} = {s} + excluded.{s}" for s in _STANCES) + ";")


def _sqlite_take(row: str) -> str:
    return ("UPDATE poll_round_counts SET "
            + ", ".join(f"{s} = {s} - ({row}.stance = '{s}')" for s in _STANCES)
            + f" WHERE round_id = {row}.round_id AND version = {row}.version "
            f"AND shard = {row}.id % {SHARDS};")


_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER poll_stances_counts_insert AFTER INSERT ON poll_stances "
    f"BEGIN {_sqlite_add('NEW')} END",
    f"CREATE TRIGGER poll_stances_counts_update AFTER UPDATE OF round_id, version, stance "
    f"ON poll_stances WHEN OLD.round_id IS NOT NEW.round_id OR OLD.version IS NOT "
    f"NEW.version OR OLD.stance IS NOT NEW.stance "
    f"BEGIN {_sqlite_take('OLD')} {_sqlite_add('NEW')} END",
    f"CREATE TRIGGER poll_stances_counts_delete AFTER DELETE ON poll_stances "
    f"BEGIN {_sqlite_take('OLD')} END",
)


def upgrade() -> None:
    op.create_table(
        "poll_round_counts",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        *(sa.Column(s, sa.Integer(), nullable=False) for s in _STANCES),
        sa.ForeignKeyConstraint(["round_id"], ["poll_rounds.id"],
                                name=op.f("fk_poll_round_counts_round_id_poll_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "version", "shard",
                                name=op.f("pk_poll_round_counts")),
    )
    # The stances already cast, counted once; then the triggers keep the counts.
    op.execute(
        f"INSERT INTO poll_round_counts (round_id, version, shard, {', '.join(_STANCES)}) "
        f"SELECT round_id, version, id % {SHARDS}, "
        + ", ".join(f"sum(CASE WHEN stance = '{s}' THEN 1 ELSE 0 END)" for s in _STANCES)
        + f" FROM poll_stances GROUP BY round_id, version, id % {SHARDS}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute("CREATE TRIGGER poll_stances_counts AFTER INSERT OR UPDATE OR DELETE "
                   "ON poll_stances FOR EACH ROW EXECUTE FUNCTION poll_round_counts_apply()")
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS poll_stances_counts ON poll_stances")
        op.execute("DROP FUNCTION IF EXISTS poll_round_counts_apply()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS poll_stances_counts_{name}")
    op.drop_table("poll_round_counts")

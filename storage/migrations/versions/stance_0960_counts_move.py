"""A stance that moves keeps its round's counts in one statement (PostgreSQL)

The counts trigger of ``stance_0800_counts`` took a changed stance off its
old (version, stance) with an UPDATE and added it to the new one with an
INSERT ... ON CONFLICT DO UPDATE: two statements, on the same counter row when
the round, the text version and the shard stay (a person changing their
stance, the common move). That case is now one UPDATE of that row; any other
move (another round, version or shard) and inserts and deletes are as before.

Revision ID: stance_0960_counts_move
Revises: feed_0960_events
Create Date: 2026-12-07
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from alembic import op

revision = "stance_0960_counts_move"
down_revision = "feed_0960_events"
branch_labels = None
depends_on = None


def _earlier() -> Any:
    """The ``stance_0800_counts`` migration (its trigger function, shards, stances)."""
    path = Path(__file__).with_name("stance_0800_counts.py")
    spec = importlib.util.spec_from_file_location("stance_0800_counts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _function(*, moves_in_place: bool) -> str:
    """``CREATE OR REPLACE`` of the trigger function: as ``stance_0800_counts``
    made it, and with ``moves_in_place`` a first branch where a move that stays
    on its counter row (same round, version and shard) is one UPDATE."""
    earlier = _earlier()
    shards, stances = earlier.SHARDS, earlier._STANCES
    function = str(earlier._PG_FUNCTION).replace("CREATE FUNCTION",
                                                 "CREATE OR REPLACE FUNCTION", 1)
    if not moves_in_place:
        return function
    same_row = f"""BEGIN
    IF TG_OP = 'UPDATE' AND OLD.round_id = NEW.round_id AND OLD.version = NEW.version
            AND OLD.id % {shards} = NEW.id % {shards} THEN
        IF OLD.stance <> NEW.stance THEN
            UPDATE poll_round_counts SET
                {", ".join(f"{s} = {s} - (OLD.stance = '{s}')::int + (NEW.stance = '{s}')::int"
                           for s in stances)}
            WHERE round_id = NEW.round_id AND version = NEW.version
              AND shard = NEW.id % {shards};
        END IF;
        RETURN NULL;
    END IF;
"""
    assert function.count("BEGIN\n") == 1
    return function.replace("BEGIN\n", same_row, 1)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(moves_in_place=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(moves_in_place=False))

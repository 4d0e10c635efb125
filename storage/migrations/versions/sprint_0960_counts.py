"""Sprint sign-up counts kept on the sprint row by triggers on sprint_signups

A sign-up locked its sprint, then counted the sign-ups (seats held, the line
ahead, leads, the newest time asked) in a statement of its own while holding
the lock. The counts now live on the sprint row and come back with its lock:

- ``held_count``: sign-ups holding a seat (``seated`` or ``offered``);
- ``waitlisted_count``: sign-ups ``waitlisted``;
- ``ahead_count``: of those, the ones a newcomer stands behind (priority >= 0);
- ``lead_count``: leads still in (``seated``, ``offered`` or ``waitlisted``);
- ``last_asked_at``: the newest ``asked_at`` of any sign-up (never moves back).

Triggers keep them in the transaction that changes a sign-up, whatever the path
(sign-up, leaving, an offer made, answered, expired or void, a priority, a
person removed from the roster and their rows deleted by cascade, a bulk
load): a process killed mid-write rolls the counts back with the rows. The
capacity is not in any count, so a change of capacity moves none. Existing
rows are counted once here.

Revision ID: sprint_0960_counts
Revises: scale_0950_indexes
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "sprint_0960_counts"
down_revision = "scale_0950_indexes"
branch_labels = None
depends_on = None

#: Each count: its column and what one sign-up ``{r}`` (NEW or OLD, or a table
#: alias) adds to it, as an SQL truth value (PostgreSQL casts it to integer).
COUNTS = (
    ("held_count", "{r}.status IN ('seated', 'offered')"),
    ("waitlisted_count", "{r}.status = 'waitlisted'"),
    ("ahead_count", "({r}.status = 'waitlisted' AND {r}.priority >= 0)"),
    ("lead_count", "({r}.role = 'lead' AND {r}.status IN ('seated', 'offered', 'waitlisted'))"),
)


def _pg(row: str) -> list[str]:
    return [f"({rule.format(r=row)})::int" for _, rule in COUNTS]


def _moved(sign: str, row: str, *, pg: bool) -> str:
    parts = _pg(row) if pg else [f"({rule.format(r=row)})" for _, rule in COUNTS]
    return ", ".join(f"{col} = {col} {sign} {part}" for (col, _), part in
                     zip(COUNTS, parts, strict=True))


# PostgreSQL: one trigger function. An update within one sprint moves each
# count by the difference, in one UPDATE of the sprint row (which every path
# has locked already: no new lock order), and none when nothing counted moved.
_PG_CHANGED = " OR ".join(f"{n} <> {o}" for n, o in zip(_pg("NEW"), _pg("OLD"), strict=True))
_PG_FUNCTION = f"""
CREATE FUNCTION sprint_signups_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.sprint_id = NEW.sprint_id THEN
        IF {_PG_CHANGED} OR NEW.asked_at > OLD.asked_at THEN
            UPDATE sprints SET
                {", ".join(f"{c} = {c} + {n} - {o}" for (c, _), n, o in
                           zip(COUNTS, _pg("NEW"), _pg("OLD"), strict=True))},
                last_asked_at = greatest(last_asked_at, NEW.asked_at)
            WHERE id = NEW.sprint_id;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE sprints SET {_moved("-", "OLD", pg=True)} WHERE id = OLD.sprint_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE sprints SET {_moved("+", "NEW", pg=True)},
            last_asked_at = greatest(last_asked_at, NEW.asked_at)
        WHERE id = NEW.sprint_id;
    END IF;
    RETURN NULL;
END $$"""

# SQLite stores datetimes as fixed-width text: compared as text, in time order.
_SQLITE_LAST = ("last_asked_at = CASE WHEN last_asked_at IS NULL OR NEW.asked_at > "
                "last_asked_at THEN NEW.asked_at ELSE last_asked_at END")
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER sprint_signups_count_insert AFTER INSERT ON sprint_signups BEGIN "
    f"UPDATE sprints SET {_moved('+', 'NEW', pg=False)}, {_SQLITE_LAST} "
    f"WHERE id = NEW.sprint_id; END",
    f"CREATE TRIGGER sprint_signups_count_update AFTER UPDATE OF sprint_id, status, role, "
    f"priority, asked_at ON sprint_signups BEGIN "
    f"UPDATE sprints SET {_moved('-', 'OLD', pg=False)} WHERE id = OLD.sprint_id; "
    f"UPDATE sprints SET {_moved('+', 'NEW', pg=False)}, {_SQLITE_LAST} "
    f"WHERE id = NEW.sprint_id; END",
    f"CREATE TRIGGER sprint_signups_count_delete AFTER DELETE ON sprint_signups BEGIN "
    f"UPDATE sprints SET {_moved('-', 'OLD', pg=False)} WHERE id = OLD.sprint_id; END",
)


def upgrade() -> None:
    with op.batch_alter_table("sprints") as batch:
        for col, _ in COUNTS:
            batch.add_column(sa.Column(col, sa.Integer(), nullable=False,
                                       server_default="0"))
        batch.add_column(sa.Column("last_asked_at", storage.base.UTCDateTime(timezone=True),
                                   nullable=True))
    # The sign-ups already there, counted once; then the triggers keep the counts.
    pg = op.get_bind().dialect.name == "postgresql"
    sums = ", ".join(
        f"{col} = (SELECT count(*) FROM sprint_signups AS s WHERE s.sprint_id = sprints.id "
        f"AND {rule.format(r='s')})" for col, rule in COUNTS)
    op.execute(f"UPDATE sprints SET {sums}, last_asked_at = (SELECT max(s.asked_at) "
               f"FROM sprint_signups AS s WHERE s.sprint_id = sprints.id)")
    if pg:
        op.execute(_PG_FUNCTION)
        op.execute("CREATE TRIGGER sprint_signups_count AFTER INSERT OR UPDATE OR DELETE "
                   "ON sprint_signups FOR EACH ROW EXECUTE FUNCTION sprint_signups_count()")
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS sprint_signups_count ON sprint_signups")
        op.execute("DROP FUNCTION IF EXISTS sprint_signups_count()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS sprint_signups_count_{name}")
    with op.batch_alter_table("sprints") as batch:
        batch.drop_column("last_asked_at")
        for col, _ in reversed(COUNTS):
            batch.drop_column(col)

"""Sprint dates are calendar days: starts_on, ends_on (inclusive), the cut-off day

A sprint's first and last days and its sign-up cut-off were stored as the
midnight that began each day in the proposer's zone, so a reader west of that
zone saw the evening before. They become calendar days; the instant sign-ups
close stays a column (signup_closes_at) with the zone its day ends in (zone).

Existing rows: each day is the day its old instant fell on in the proposer's
zone (the day they typed), and the cut-off instant is left as it was, so a
sprint open for sign-ups keeps its deadline; ``zone`` is the proposer's.

Revision ID: ux_0910_sprint_days
Revises: ux_0900_suggestion_title
Create Date: 2026-12-07
"""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "ux_0910_sprint_days"
down_revision = "ux_0900_suggestion_title"
branch_labels = None
depends_on = None

_sprints = sa.table(
    "sprints", sa.column("id", sa.Integer), sa.column("proposer_id", sa.Integer),
    sa.column("starts_at", storage.base.UTCDateTime(timezone=True)),
    sa.column("ends_at", storage.base.UTCDateTime(timezone=True)),
    sa.column("signup_closes_at", storage.base.UTCDateTime(timezone=True)),
    sa.column("starts_on", sa.Date), sa.column("ends_on", sa.Date),
    sa.column("signup_closes_on", sa.Date), sa.column("zone", sa.String))
_people = sa.table("people", sa.column("id", sa.Integer), sa.column("timezone", sa.String))


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def upgrade() -> None:
    with op.batch_alter_table("sprints") as batch:
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("signup_closes_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("zone", sa.String(64), nullable=False,
                                   server_default="Europe/Paris"))
    bind = op.get_bind()
    rows = bind.execute(sa.select(
        _sprints.c.id, _sprints.c.starts_at, _sprints.c.ends_at, _sprints.c.signup_closes_at,
        _people.c.timezone).select_from(_sprints.outerjoin(
            _people, _people.c.id == _sprints.c.proposer_id))).all()
    for sid, starts, ends, closes, tz in rows:
        zone = _zone(tz)
        bind.execute(_sprints.update().where(_sprints.c.id == sid).values(
            starts_on=starts.astimezone(zone).date(), ends_on=ends.astimezone(zone).date(),
            signup_closes_on=closes.astimezone(zone).date(), zone=zone.key))
    with op.batch_alter_table("sprints") as batch:
        batch.alter_column("starts_on", existing_type=sa.Date(), nullable=False)
        batch.alter_column("ends_on", existing_type=sa.Date(), nullable=False)
        batch.alter_column("signup_closes_on", existing_type=sa.Date(), nullable=False)
        batch.drop_column("starts_at")
        batch.drop_column("ends_at")


def downgrade() -> None:
    with op.batch_alter_table("sprints") as batch:
        batch.add_column(sa.Column("starts_at", storage.base.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("ends_at", storage.base.UTCDateTime(timezone=True),
                                   nullable=True))
    bind = op.get_bind()
    from datetime import datetime, time

    for sid, first, last, zone in bind.execute(sa.select(
            _sprints.c.id, _sprints.c.starts_on, _sprints.c.ends_on, _sprints.c.zone)).all():
        z = _zone(zone)
        bind.execute(_sprints.update().where(_sprints.c.id == sid).values(
            starts_at=datetime.combine(first, time(0), z),
            ends_at=datetime.combine(last, time(0), z)))
    with op.batch_alter_table("sprints") as batch:
        batch.alter_column("starts_at", existing_type=storage.base.UTCDateTime(timezone=True),
                           nullable=False)
        batch.alter_column("ends_at", existing_type=storage.base.UTCDateTime(timezone=True),
                           nullable=False)
        batch.drop_column("signup_closes_on")
        batch.drop_column("zone")
        batch.drop_column("starts_on")
        batch.drop_column("ends_on")

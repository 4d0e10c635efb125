"""Calendar feeds' stored events: workshop_feed_events

Each workshop's VEVENT, serialised by icalendar when the workshop is written,
once for the personal feeds (join links) and once for the public feed, with a
digest of what it was made from (storage.models.WorkshopFeedEvent). A cold
feed of 500 events joined these instead of building 500 components.

Existing rows: none is written here. A workshop with no stored event (or one
whose digest no longer matches) is built on the first feed that reads it and
stored then (bot.workshops.feed_events).

Revision ID: feed_0960_events
Revises: sprint_0960_counts
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "feed_0960_events"
down_revision = "sprint_0960_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workshop_feed_events",
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("with_join", sa.Boolean(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("ics", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], ondelete="CASCADE",
                                name=op.f("fk_workshop_feed_events_workshop_id_workshops")),
        sa.PrimaryKeyConstraint("workshop_id", "with_join",
                                name=op.f("pk_workshop_feed_events")))


def downgrade() -> None:
    op.drop_table("workshop_feed_events")

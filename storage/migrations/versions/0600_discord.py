"""Discord link codes and scheduled events

Revision ID: 0600_discord
Revises: 0005_slack_inbox
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0600_discord"
down_revision = "0005_slack_inbox"
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "discord_link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", DT, nullable=False),
        sa.Column("expires_at", DT, nullable=False),
        sa.Column("used_at", DT, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE",
                                name=op.f("fk_discord_link_codes_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discord_link_codes")),
    )
    op.create_index("ix_discord_link_codes_user", "discord_link_codes", ["guild_id", "user_id"])
    op.create_table(
        "discord_scheduled_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("guild_id", sa.String(length=64), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", DT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discord_scheduled_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_discord_scheduled_events_event_id")),
    )


def downgrade() -> None:
    op.drop_table("discord_scheduled_events")
    op.drop_index("ix_discord_link_codes_user", table_name="discord_link_codes")
    op.drop_table("discord_link_codes")

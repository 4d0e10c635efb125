"""merge the workshops, sprints, queues, poll ballots and Discord branches

Revision ID: 0700_merge
Revises: 0100_workshops, 0200_sprints, 0300_queues, 0400_poll_ballots, 0600_discord
Create Date: 2026-12-02
"""
from __future__ import annotations

revision = "0700_merge"
down_revision = ("0100_workshops", "0200_sprints", "0300_queues", "0400_poll_ballots",
                 "0600_discord")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

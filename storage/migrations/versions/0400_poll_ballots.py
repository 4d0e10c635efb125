"""Poll ballots: the ballot emails sent, which replies must reference

Revision ID: 0400_poll_ballots
Revises: 0005_slack_inbox
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0400_poll_ballots"
down_revision = "0005_slack_inbox"
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "poll_ballots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("round_no", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", DT, nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["poll_proposals.id"],
                                name=op.f("fk_poll_ballots_proposal_id_poll_proposals"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"],
                                name=op.f("fk_poll_ballots_person_id_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_ballots")),
        sa.UniqueConstraint("message_id", name=op.f("uq_poll_ballots_message_id")),
    )
    op.create_index("ix_poll_ballots_voter", "poll_ballots",
                    ["proposal_id", "round_no", "person_id"])


def downgrade() -> None:
    op.drop_index("ix_poll_ballots_voter", table_name="poll_ballots")
    op.drop_table("poll_ballots")

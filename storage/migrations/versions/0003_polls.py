"""consensus polls: proposals, versions, rounds, stances, comments

Revision ID: 0003_polls
Revises: 0001
Create Date: 2026-11-23 22:45:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.base


revision = '0003_polls'
down_revision = '0001'
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'poll_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('rule', sa.String(length=16), nullable=False),
        sa.Column('quorum_percent', sa.Integer(), nullable=False),
        sa.Column('visibility', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('current_round', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('closes_at', DT, nullable=False),
        sa.Column('origin_platform', sa.String(length=16), nullable=False),
        sa.Column('origin_workspace', sa.String(length=64), nullable=False),
        sa.Column('origin_channel', sa.String(length=128), nullable=False),
        sa.Column('discussion', sa.String(length=500), nullable=False),
        sa.Column('determination_note', sa.Text(), nullable=True),
        sa.Column('determined_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', DT, nullable=True),
        sa.Column('created_at', DT, nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_poll_proposals_author_id_people'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['determined_by'], ['people.id'], name=op.f('fk_poll_proposals_determined_by_people'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_poll_proposals_group_id_groups'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_proposals')),
    )
    op.create_table(
        'poll_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', DT, nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_poll_versions_author_id_people'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['proposal_id'], ['poll_proposals.id'], name=op.f('fk_poll_versions_proposal_id_poll_proposals'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_versions')),
        sa.UniqueConstraint('proposal_id', 'number', name=op.f('uq_poll_versions_proposal_id_number')),
    )
    op.create_table(
        'poll_rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('medium', sa.String(length=8), nullable=False),
        sa.Column('opens_at', DT, nullable=False),
        sa.Column('closes_at', DT, nullable=False),
        sa.Column('closed_at', DT, nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['proposal_id'], ['poll_proposals.id'], name=op.f('fk_poll_rounds_proposal_id_poll_proposals'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_rounds')),
        sa.UniqueConstraint('proposal_id', 'number', name=op.f('uq_poll_rounds_proposal_id_number')),
    )
    op.create_table(
        'poll_stances',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('voter_key', sa.String(length=32), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('stance', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('cast_at', DT, nullable=False),
        sa.Column('updated_at', DT, nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_poll_stances_person_id_people'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['poll_rounds.id'], name=op.f('fk_poll_stances_round_id_poll_rounds'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_stances')),
        sa.UniqueConstraint('round_id', 'voter_key', name=op.f('uq_poll_stances_round_id_voter_key')),
    )
    op.create_table(
        'poll_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('advisory', sa.Boolean(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('created_at', DT, nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_poll_comments_person_id_people'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['proposal_id'], ['poll_proposals.id'], name=op.f('fk_poll_comments_proposal_id_poll_proposals'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_comments')),
    )
    op.create_index('ix_poll_comments_proposal', 'poll_comments', ['proposal_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_poll_comments_proposal', table_name='poll_comments')
    op.drop_table('poll_comments')
    op.drop_table('poll_stances')
    op.drop_table('poll_rounds')
    op.drop_table('poll_versions')
    op.drop_table('poll_proposals')

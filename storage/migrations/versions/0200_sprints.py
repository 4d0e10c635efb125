"""innovation sprints: sprints, sign-ups, offers, pledges, followers

Revision ID: 0200_sprints
Revises: 0005_slack_inbox
Create Date: 2026-12-01 23:33:28.681011
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.base


revision = '0200_sprints'
down_revision = '0005_slack_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('aim', sa.Text(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('starts_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signup_closes_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('org_cap', sa.Integer(), nullable=False),
    sa.Column('max_leads', sa.Integer(), nullable=False),
    sa.Column('offer_hours', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('goal_minor', sa.BigInteger(), nullable=False),
    sa.Column('minimum_minor', sa.BigInteger(), nullable=False),
    sa.Column('funding_deadline', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('funding_state', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('origin_platform', sa.String(length=16), nullable=False),
    sa.Column('origin_workspace', sa.String(length=64), nullable=False),
    sa.Column('origin_channel', sa.String(length=128), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['people.id'], name=op.f('fk_sprints_decided_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_sprints_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposer_id'], ['people.id'], name=op.f('fk_sprints_proposer_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sprints'))
    )
    op.create_table('sprint_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sprint_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_sprint_followers_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sprint_id'], ['sprints.id'], name=op.f('fk_sprint_followers_sprint_id_sprints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sprint_followers')),
    sa.UniqueConstraint('sprint_id', 'person_id', name=op.f('uq_sprint_followers_sprint_id_person_id'))
    )
    op.create_table('sprint_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sprint_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('signup_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_sprint_offers_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sprint_id'], ['sprints.id'], name=op.f('fk_sprint_offers_sprint_id_sprints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sprint_offers'))
    )
    op.create_index('ix_sprint_offers_due', 'sprint_offers', ['status', 'expires_at'])

    op.create_table('sprint_pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sprint_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sprint_pledges_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_sprint_pledges_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sprint_id'], ['sprints.id'], name=op.f('fk_sprint_pledges_sprint_id_sprints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sprint_pledges')),
    sa.UniqueConstraint('sprint_id', 'person_id', name=op.f('uq_sprint_pledges_sprint_id_person_id'))
    )
    op.create_table('sprint_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sprint_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('asked_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sprint_signups_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_sprint_signups_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sprint_id'], ['sprints.id'], name=op.f('fk_sprint_signups_sprint_id_sprints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sprint_signups')),
    sa.UniqueConstraint('sprint_id', 'person_id', name=op.f('uq_sprint_signups_sprint_id_person_id')),
    sa.UniqueConstraint('sprint_id', 'seat', name=op.f('uq_sprint_signups_sprint_id_seat'))
    )
    op.create_index('ix_sprint_signups_line', 'sprint_signups', ['sprint_id', 'status'])



def downgrade() -> None:
    op.drop_index('ix_sprint_signups_line', table_name='sprint_signups')

    op.drop_table('sprint_signups')
    op.drop_table('sprint_pledges')
    op.drop_index('ix_sprint_offers_due', table_name='sprint_offers')

    op.drop_table('sprint_offers')
    op.drop_table('sprint_followers')
    op.drop_table('sprints')

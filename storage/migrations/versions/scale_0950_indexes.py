"""Indexes the scale bench (bench/scale.py, issue 24) found missing: reads by
person, group or role that scanned a whole table at 5,000 people.

- email_addresses(person_id): every person loaded with their addresses;
- memberships(group_id, role, person_id) and (role, person_id): a group's
  voters and invitees, the secretariat and the chairs;
- poll_proposals(state): the open proposals (jobs, home pages);
- sprint_signups(person_id), workshop_actions(owner_id), workshops(group_id):
  a person's home page;
- workshop_reminders(workshop_id, status): the pending reminders of a
  workshop skipped when it moves.

Revision ID: scale_0950_indexes
Revises: 0900_inbox
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op

revision = "scale_0950_indexes"
down_revision = "0900_inbox"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_email_addresses_person", "email_addresses", ["person_id"]),
    ("ix_memberships_group", "memberships", ["group_id", "role", "person_id"]),
    ("ix_memberships_role", "memberships", ["role", "person_id"]),
    ("ix_poll_proposals_state", "poll_proposals", ["state"]),
    ("ix_sprint_signups_person", "sprint_signups", ["person_id"]),
    ("ix_workshop_actions_owner", "workshop_actions", ["owner_id"]),
    ("ix_workshops_group", "workshops", ["group_id"]),
    ("ix_workshop_reminders_workshop", "workshop_reminders", ["workshop_id", "status"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)

"""A press-review suggestion keeps the article's own title, apart from the note

Revision ID: ux_0900_suggestion_title
Revises: stance_0800_counts
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ux_0900_suggestion_title"
down_revision = "stance_0800_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_suggestions") as batch:
        batch.add_column(sa.Column("title", sa.String(500), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("digest_suggestions") as batch:
        batch.drop_column("title")

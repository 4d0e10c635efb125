"""A press-review suggestion keeps the article's own title, apart from the note

Revision ID: ux_0900_suggestion_title
Revises: digest_0900_learned
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ux_0900_suggestion_title"
down_revision = "digest_0900_learned"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_suggestions") as batch:
        batch.add_column(sa.Column("title", sa.String(500), nullable=False, server_default=""))
        # rows before this revision were never fetched: "unavailable" says so
        batch.add_column(sa.Column("title_status", sa.String(16), nullable=False,
                                   server_default="unavailable"))


def downgrade() -> None:
    with op.batch_alter_table("digest_suggestions") as batch:
        batch.drop_column("title_status")
        batch.drop_column("title")

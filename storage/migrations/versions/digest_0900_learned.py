"""The press review learns from the secretariat: digest_examples (every include,
exclude, split and suggestion as a labelled example); digest_note_optouts (who
declined the weekly interest note); on digest_items what the
model moved (learned, learned_note) and why write-ups were merged (merged); on
digest_item_sources each entry's own title and publisher.

Revision ID: digest_0900_learned
Revises: stance_0800_counts
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "digest_0900_learned"
down_revision = "stance_0800_counts"
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "digest_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("label", sa.Integer(), nullable=False),
        sa.Column("canonical_url", sa.String(length=1000), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("created_at", DT, nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"],
                                name=op.f("fk_digest_examples_person_id_people"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_examples")),
    )
    op.create_index(op.f("ix_digest_examples_week"), "digest_examples", ["week"])
    op.create_table(
        "digest_note_optouts",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", DT, nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"],
                                name=op.f("fk_digest_note_optouts_person_id_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_digest_note_optouts")),
    )
    with op.batch_alter_table("digest_items") as batch:
        batch.add_column(sa.Column("learned", sa.Double(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("learned_note", sa.String(length=300), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("merged", sa.String(length=500), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("digest_item_sources") as batch:
        batch.add_column(sa.Column("title", sa.String(length=500), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("publisher", sa.String(length=300), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("digest_item_sources") as batch:
        batch.drop_column("publisher")
        batch.drop_column("title")
    with op.batch_alter_table("digest_items") as batch:
        batch.drop_column("merged")
        batch.drop_column("learned_note")
        batch.drop_column("learned")
    op.drop_table("digest_note_optouts")
    op.drop_index(op.f("ix_digest_examples_week"), table_name="digest_examples")
    op.drop_table("digest_examples")

"""merge the press-review and polls branches

Revision ID: 0004_merge
Revises: 0002_digest, 0003_polls
Create Date: 2026-11-23
"""
from __future__ import annotations

revision = "0004_merge"
down_revision = ("0002_digest", "0003_polls")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""One leased queue: owners and coalescing keys on outbox and slack_inbox, the
instances' heartbeats, job runs keyed (job, scheduled_for); APScheduler's shared
job store (apscheduler_jobs) is gone: jobs are defined in code.

Revision ID: 0300_queues
Revises: 0005_slack_inbox
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0300_queues"
down_revision = "0005_slack_inbox"
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("coalesce_key", sa.String(length=255), nullable=True))
    op.create_index("uq_outbox_pending_coalesce", "outbox", ["coalesce_key"], unique=True,
                    sqlite_where=sa.text("status = 'pending'"),
                    postgresql_where=sa.text("status = 'pending'"))
    with op.batch_alter_table("slack_inbox") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=64), nullable=True))
    op.create_table(
        "queue_instances",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("started_at", DT, nullable=False),
        sa.Column("heartbeat_at", DT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_instances")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=128), nullable=False),
        sa.Column("scheduled_for", DT, nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("started_at", DT, nullable=False),
        sa.Column("finished_at", DT, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "scheduled_for", name=op.f("uq_job_runs_job_scheduled_for")),
    )
    # APScheduler 3's SQLAlchemyJobStore made this table on first start; a job
    # store shared by several processes runs jobs twice or misses them.
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_table("queue_instances")
    with op.batch_alter_table("slack_inbox") as batch:
        batch.drop_column("owner")
    op.drop_index("uq_outbox_pending_coalesce", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("coalesce_key")
        batch.drop_column("owner")

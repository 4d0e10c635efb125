"""The Slack adapter's durable inbox: a verified request is written here before
Slack gets its acknowledgement, so a crash between the two loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class SlackInboxItem(Base):
    """One acknowledged Slack request waiting to be (or already) dispatched.

    ``key`` is unique (``slack:<event id>``): a Slack retry of a request already
    written adds nothing. ``kind`` is ``command``, ``message``, ``actions``,
    ``view`` or ``home``; ``payload`` holds ``{"body": <the Slack body>, ...}``.
    ``status`` is ``pending``, ``working`` (claimed by ``claimed_by`` until
    ``lease_until``, aware UTC; ``owner`` is the
    claiming process's instance id), ``done`` or ``dead`` (gave up after repeated
    failures, ``last_error`` says why).
    """

    __tablename__ = "slack_inbox"
    __table_args__ = (Index("ix_slack_inbox_due", "status", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()

"""The audit log: who did what, when, through which channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.permissions import Authorized
from storage.models import AuditEntry


def record(
    *,
    session: Session,
    actor: Authorized,
    action: str,
    subject_type: str = "",
    subject_id: str | int = "",
    **detail: Any,
) -> AuditEntry:
    """Add an audit row in the caller's unit of work (never commits).

    ``action`` is a dotted verb (``poll.stance``); ``detail`` must be JSON-ready.
    """
    entry = AuditEntry(
        person_id=actor.person_id,
        channel=actor.channel,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        detail=detail,
    )
    session.add(entry)
    return entry

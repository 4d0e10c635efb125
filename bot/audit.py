"""The audit log: who did what, when, through which channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.permissions import Authorized
from storage.base import utcnow
from storage.models import AuditEntry

_INSERT = insert(AuditEntry)


def _row(actor: Authorized, action: str, subject_type: str, subject_id: str | int,
         detail: dict[str, Any]) -> dict[str, Any]:
    return {"person_id": actor.person_id, "channel": actor.channel, "action": action,
            "subject_type": subject_type, "subject_id": str(subject_id), "detail": detail}


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
    entry = AuditEntry(**_row(actor, action, subject_type, subject_id, detail))
    session.add(entry)
    return entry


def write(
    *,
    session: Session,
    actor: Authorized,
    action: str,
    subject_type: str = "",
    subject_id: str | int = "",
    **detail: Any,
) -> None:
    """:func:`record`, written at once as one prebuilt INSERT on the unit of
    work's connection, with no ORM object (hot paths: the ORM's flush of one
    row costs several times the statement). Never commits."""
    session.connection().execute(_INSERT, dict(
        _row(actor, action, subject_type, subject_id, detail), at=utcnow()))

"""The audit log: who did what, when, through which channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.permissions import Authorized
from storage.base import utcnow
from storage.models import AuditEntry

_INSERT = insert(AuditEntry)


def values(*, actor: Authorized, action: str, subject_type: str = "",
           subject_id: str | int = "", **detail: Any) -> dict[str, Any]:
    """The audit row :func:`record` writes, as the INSERT's parameters (for a
    caller that writes it in a statement of its own)."""
    return {"at": utcnow(), "person_id": actor.person_id, "channel": actor.channel,
            "action": action, "subject_type": subject_type, "subject_id": str(subject_id),
            "detail": detail}


def record(
    *,
    session: Session,
    actor: Authorized,
    action: str,
    subject_type: str = "",
    subject_id: str | int = "",
    **detail: Any,
) -> None:
    """Write an audit row in the caller's unit of work (never commits).

    ``action`` is a dotted verb (``poll.stance``); ``detail`` must be JSON-ready.
    The row is one prebuilt INSERT on the unit of work's connection, at once
    and without an ORM object: the ORM's flush of one row cost several times
    the statement on hot paths (a sprint sign-up holds its sprint's lock
    meanwhile). It rolls back with the unit of work like any other change.
    """
    write(session, values(actor=actor, action=action, subject_type=subject_type,
                          subject_id=subject_id, **detail))


def write(session: Session, row: dict[str, Any]) -> None:
    """Write ``row`` (from :func:`values`) in the caller's unit of work."""
    session.connection().execute(_INSERT, row)

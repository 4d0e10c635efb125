"""Dead letters: outbox rows that failed ``max_attempts`` times.

The worker calls :func:`notify_secretariat` in the pass that sent rows dead:
one email per pass to the secretariat, in each person's language, listing the
rows and their last errors. ``convene outbox list`` shows what is queued or
dead; ``convene outbox retry`` puts dead rows back (attempts reset).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import N_
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.members import people_in
from bot.outbox import DEAD_NOTICE, enqueue_email
from bot.queue import OUTBOX, LeasedQueue
from storage.models import OutboxMessage, Role

BODY = N_("These messages failed repeatedly and will not be retried on their own. Fix the "
          "cause (the errors are below), then run: convene outbox retry")


def notify_secretariat(session: Session, dead: list[tuple[str, str, str]]) -> int:
    """Queue one notice to each secretariat member about ``dead`` rows
    ``(key, kind, last error)``. Its key names the first row, so a pass that
    is recorded twice notifies once. Returns how many notices were queued."""
    if not dead:
        return 0
    lines = "\n".join(f"- {key} ({kind}): {error[:300]}" for key, kind, error in dead)
    n = 0
    for person in people_in(session, roles=[Role.SECRETARIAT]):
        if not person.primary_email:
            continue
        tr = translator(person.language)
        email = OutgoingEmail(to=(person.primary_email,),
                              subject=tr.ngettext("Convene could not deliver {n} message",
                                                  "Convene could not deliver {n} messages",
                                                  len(dead)),
                              text=f"{tr.gettext(BODY)}\n\n{lines}\n")
        n += enqueue_email(session=session, key=f"{DEAD_NOTICE}{dead[0][0]}:p{person.id}"[:255],
                           email=email)
    return n


def summary(session: Session) -> dict[str, int]:
    """Rows by status (``pending``, ``sending``, ``sent``, ``dead``, ``superseded``)."""
    rows = session.execute(select(OutboxMessage.status, func.count())
                           .group_by(OutboxMessage.status)).all()
    return {str(status): int(n) for status, n in rows}


def listing(session: Session, *, status: str | None = "dead", limit: int = 100
            ) -> list[dict[str, Any]]:
    """The newest rows with ``status`` (None: not yet sent), as dicts with id,
    key, kind, status, attempts, next attempt (aware UTC) and last error."""
    q = select(OutboxMessage)
    if status is None:
        q = q.where(OutboxMessage.status.in_(["pending", "sending", "dead"]))
    else:
        q = q.where(OutboxMessage.status == status)
    rows = session.scalars(q.order_by(OutboxMessage.id.desc()).limit(limit)).all()
    return [{"id": r.id, "key": r.key, "kind": r.kind, "status": r.status,
             "attempts": r.attempts, "next_attempt_at": r.next_attempt_at,
             "last_error": r.last_error or ""} for r in rows]


def retry(session: Session, ids: list[int] | None = None) -> int:
    """Dead rows (``ids``, or all) back to pending now. Returns how many."""
    return LeasedQueue(OUTBOX, instance="cli", lease=timedelta(0)).retry_dead(
        session, ids or None)


def oldest_pending(session: Session) -> datetime | None:
    """When the oldest pending row was created (aware UTC), or None."""
    return session.scalar(select(func.min(OutboxMessage.created_at))
                          .where(OutboxMessage.status == "pending"))

"""Scheduled work of polls: close due rounds, then send due reminders.

``tick(bot)`` is the ``polls.tick`` job; it is idempotent (rounds close
once, reminders have one outbox key each), and fires on the lease holder only.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.polls.rounds import close_due, send_reminders
from storage.base import utcnow

log = logging.getLogger(__name__)


def run(bot: object, *, now: datetime | None = None) -> tuple[int, int]:
    """Close due rounds and queue reminders for ``bot`` (a :class:`bot.app.Bot`).
    Returns (rounds closed, reminders queued)."""
    from bot.app import Bot

    assert isinstance(bot, Bot)
    now = now or utcnow()
    closed = close_due(bot.session_factory, bot.settings, now=now)
    with bot.session_factory() as session, session.begin():
        reminded = send_reminders(session, settings=bot.settings, now=now)
    return closed, reminded


def tick(bot: object) -> None:
    """The ``polls.tick`` job (every ``polls.tick_seconds``)."""
    closed, reminded = run(bot)
    if closed or reminded:
        log.info("polls: %d round(s) closed, %d reminder(s) queued", closed, reminded)

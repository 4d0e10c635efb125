"""The ``workshops.tick`` job: send due reminders (rows with due times)."""

from __future__ import annotations

import logging

from bot.jobs import running_bot
from bot.workshops.reminders import send_due

log = logging.getLogger(__name__)


def tick(app_id: str) -> int:
    """Send every due workshop and action-item reminder once; returns how many."""
    bot = running_bot(app_id)
    n = send_due(bot.session_factory, bot.settings)
    if n:
        log.info("workshops: %d reminder(s) queued", n)
    return n
